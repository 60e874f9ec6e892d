"""SQL that types, validates and upserts one staged contract table.

Generated from :mod:`analytics_pipeline.contract.schema` (DuckDB dialect, transpiled for
BigQuery like every other statement). A staged table ``staging.<t>`` holds the source's
strings plus ``_file``, ``_row`` and ``_parse_error``; the statements below

1. type every value and collect every broken rule into ``_reason`` (``staging.<t>_checked``),
2. merge the rows without a reason into ``ingest.<t>`` by the table's key, and
3. add the others to ``ingest.quarantine`` (once: reloading the same file adds nothing).
"""

from __future__ import annotations

from analytics_pipeline.contract.schema import Column, Table

SQL_TYPES = {
    "string": "VARCHAR",
    "decimal": "DECIMAL(18, 4)",
    "int": "BIGINT",
    "timestamp": "TIMESTAMPTZ",
    "bool": "BOOLEAN",
}
TRUE_WORDS = "('true', 't', '1', 'yes', 'y')"
FALSE_WORDS = "('false', 'f', '0', 'no', 'n')"

# Foreign keys that quarantine a row when broken. Unknown product ids are not in this
# list: the contract turns them into placeholder products instead.
REFERENCES: dict[str, tuple[str, str, str]] = {
    "order_lines": ("order_id", "ingest.orders", "order_id"),
}

QUARANTINE_DDL = """CREATE TABLE IF NOT EXISTS ingest.quarantine (
  table_name VARCHAR, file_name VARCHAR, row_number BIGINT, record_key VARCHAR,
  reason VARCHAR, quarantined_at TIMESTAMPTZ
)"""


def target_ddl(table: Table) -> str:
    """``CREATE TABLE IF NOT EXISTS ingest.<t>`` with the contract's types."""
    columns = [f"{c.name} {SQL_TYPES[c.type]}" for c in table.columns]
    columns += [f"{c.name}_was_negative BOOLEAN" for c in table.columns if c.clamp_negative]
    if table.has_placeholders:
        columns.append("is_placeholder BOOLEAN")
    columns += ["_source_file VARCHAR", "_loaded_at TIMESTAMPTZ"]
    return f"CREATE TABLE IF NOT EXISTS ingest.{table.name} (\n  " + ",\n  ".join(columns) + "\n)"


def checked_statement(table: Table) -> str:
    """``staging.<t>_checked``: typed values plus ``_reason`` ('' when the row is good)."""
    raw = ", ".join(f"NULLIF(TRIM({c.name}), '') AS {c.name}" for c in table.columns)
    typed = ",\n    ".join(f"{_typed(c)} AS {c.name}" for c in table.columns)
    parse_reasons = " || ".join(_parse_reason(c) for c in table.columns)
    rule_reasons = " || ".join(
        [_rule_reason(c, r.condition.format(c=c.name), r.message)
         for c in table.columns for r in c.rules]
        + [_when(f"NOT ({r.condition})", f"'{r.message}; '") for r in table.row_rules]
    ) or "''"
    key = ", ".join(table.key)
    return f"""CREATE OR REPLACE TABLE staging.{table.name}_checked AS
WITH raw AS (
  SELECT _file, _row, _parse_error, {raw} FROM staging.{table.name}
), typed AS (
  SELECT _file, _row,
    {typed},
    CASE WHEN _parse_error IS NOT NULL THEN _parse_error || '; '
         ELSE {parse_reasons} END AS _reason
  FROM raw
), ruled AS (
  SELECT * REPLACE (_reason || {rule_reasons} AS _reason) FROM typed
), ranked AS (
  SELECT *, min(_row) OVER (PARTITION BY {key}, _reason = '') AS _first_row FROM ruled
)
SELECT * EXCLUDE (_first_row) REPLACE (
  RTRIM(_reason
    || {_when("_reason = '' AND _row > _first_row",
              "'duplicate of row ' || CAST(_first_row AS VARCHAR) || ' (same key); '")}
    || {_reference_reason(table)}, '; ') AS _reason)
FROM ranked"""


def _write_values(table: Table) -> dict[str, str]:
    """Target column -> value written, from a good row ``s`` of the checked table."""
    values = {c.name: f"s.{c.name}" for c in table.columns}
    for c in table.columns:
        if c.clamp_negative:
            values[c.name] = f"GREATEST(s.{c.name}, 0)"
            values[f"{c.name}_was_negative"] = f"s.{c.name} < 0"
    if table.has_placeholders:
        values["is_placeholder"] = "FALSE"
    values["_source_file"] = "s._file"
    values["_loaded_at"] = "CAST($loaded_at AS TIMESTAMPTZ)"
    return values


def merge_statement(table: Table) -> str:
    """Upsert the good rows into ``ingest.<t>`` by key: loading twice changes nothing."""
    values = _write_values(table)
    on = " AND ".join(f"t.{k} IS NOT DISTINCT FROM s.{k}" for k in table.key)
    updates = ", ".join(f"{name} = {expr}" for name, expr in values.items())
    return f"""MERGE INTO ingest.{table.name} AS t
USING (SELECT * FROM staging.{table.name}_checked WHERE _reason = '') AS s
ON {on}
WHEN MATCHED THEN UPDATE SET {updates}
WHEN NOT MATCHED THEN INSERT ({", ".join(values)}) VALUES ({", ".join(values.values())})"""


def quarantine_statement(table: Table) -> str:
    """Record bad rows with file, row number and reason, once per (file, row, reason)."""
    key = " || '|' || ".join(f"COALESCE(CAST(c.{k} AS VARCHAR), '')" for k in table.key)
    return f"""INSERT INTO ingest.quarantine
SELECT '{table.name}', c._file, c._row, {key}, c._reason, CAST($loaded_at AS TIMESTAMPTZ)
FROM staging.{table.name}_checked AS c
WHERE c._reason <> '' AND NOT EXISTS (
  SELECT 1 FROM ingest.quarantine AS q
  WHERE q.table_name = '{table.name}' AND q.file_name = c._file
    AND q.row_number = c._row AND q.reason = c._reason
)"""


def prepare_statements(table: Table) -> list[str]:
    """DDL and the checked table; BigQuery allows no DDL inside a transaction."""
    return [QUARANTINE_DDL, target_ddl(table), checked_statement(table)]


def insert_statement(table: Table) -> str:
    """The first load into an empty table: a plain insert, much cheaper than a merge."""
    values = _write_values(table)
    return (f"INSERT INTO ingest.{table.name} ({', '.join(values)})\n"
            f"SELECT {', '.join(values.values())}\n"
            f"FROM staging.{table.name}_checked AS s WHERE s._reason = ''")


def apply_statements(table: Table, target_empty: bool = False) -> list[str]:
    """The writes that must land together: upsert the good rows, quarantine the rest."""
    write = insert_statement(table) if target_empty else merge_statement(table)
    return [write, quarantine_statement(table)]


def _typed(column: Column) -> str:
    value = _cast(column, column.name)
    if column.lowercase:
        value = f"LOWER({value})"
    return f"COALESCE({value}, {column.default})" if column.default else value


def _cast(column: Column, expr: str) -> str:
    if column.type == "string":
        return expr
    if column.type == "bool":
        return (f"CASE WHEN LOWER({expr}) IN {TRUE_WORDS} THEN TRUE "
                f"WHEN LOWER({expr}) IN {FALSE_WORDS} THEN FALSE END")
    if column.type == "int":
        # A cast alone would round '1.5' to 2; an int must be written as one.
        return (f"CASE WHEN regexp_matches({expr}, '^[+-]?[0-9]+$') "
                f"THEN TRY_CAST({expr} AS BIGINT) END")
    return f"TRY_CAST({expr} AS {SQL_TYPES[column.type]})"


def _parse_reason(column: Column) -> str:
    name = column.name
    shown = "" if column.pii else f" || ' (got ' || LEFT({name}, 40) || ')'"
    parts = []
    if column.required:
        parts.append(_when(f"{name} IS NULL", f"'{name}: required; '"))
    if column.type != "string":
        parts.append(_when(
            f"{name} IS NOT NULL AND {_cast(column, name)} IS NULL",
            f"'{name}: not a valid {column.type}'{shown} || '; '",
        ))
    return " || ".join(parts) or "''"


def _rule_reason(column: Column, condition: str, message: str) -> str:
    return _when(f"{column.name} IS NOT NULL AND NOT ({condition})",
                 f"'{column.name}: {message}; '")


def _reference_reason(table: Table) -> str:
    if table.name not in REFERENCES:
        return "''"
    column, target, target_column = REFERENCES[table.name]
    return _when(
        f"_reason = '' AND NOT EXISTS (SELECT 1 FROM {target} AS r "
        f"WHERE r.{target_column} = ranked.{column})",
        f"'{column}: not found in {target.split('.')[1]}; '",
    )


def _when(condition: str, message: str) -> str:
    return f"COALESCE(CASE WHEN {condition} THEN {message} END, '')"
