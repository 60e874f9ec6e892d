"""SQL is written once, in DuckDB's dialect; this module turns it into BigQuery's."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

READ_DIALECT = "duckdb"


def to_bigquery(sql: str, project: str, dataset: str) -> list[str]:
    """Transpile DuckDB SQL to BigQuery, qualifying ``domain.table`` names.

    Domain schemas become datasets named ``{dataset}_{domain}`` in ``project``. Two
    constructs have no direct sqlglot mapping and are rewritten here so the meaning holds:

    * ``timezone(tz, ts)`` (a UTC instant seen on the store's wall clock) becomes
      ``DATETIME(ts, tz)``;
    * ``TRY_CAST(x AS TIMESTAMPTZ)`` relies on DuckDB's session time zone for strings
      without an offset; BigQuery gets the zone explicitly: ``SAFE.TIMESTAMP(x, @store_tz)``.
    """
    statements = sqlglot.parse(sql, read=READ_DIALECT)
    out: list[str] = []
    for statement in statements:
        if statement is None:
            continue
        rewritten = statement.transform(_rewrite_node, project=project, dataset=dataset)
        out.append(rewritten.sql(dialect="bigquery"))
    return out


def _rewrite_node(node: exp.Expression, project: str, dataset: str) -> exp.Expression:
    if isinstance(node, exp.Table) and node.db and not node.catalog:
        return exp.table_(
            node.name, db=f"{dataset}_{node.db}", catalog=project, alias=node.alias or None
        )
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "timezone":
        zone, value = node.expressions
        return exp.Anonymous(this="DATETIME", expressions=[value, zone])
    if isinstance(node, exp.TryCast) and node.to.is_type(exp.DataType.Type.TIMESTAMPTZ):
        return exp.Anonymous(
            this="SAFE.TIMESTAMP", expressions=[node.this, exp.Placeholder(this="store_tz")]
        )
    return node


def referenced_tables(sql: str) -> set[tuple[str, str]]:
    """``(domain, table)`` pairs a query reads, used to wire SQL models into the asset graph."""
    found: set[tuple[str, str]] = set()
    for statement in sqlglot.parse(sql, read=READ_DIALECT):
        if statement is None:
            continue
        ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
        for table in statement.find_all(exp.Table):
            if table.db and table.name not in ctes:
                found.add((table.db, table.name))
    return found
