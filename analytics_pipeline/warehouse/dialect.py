"""SQL is written once, in DuckDB's dialect; this module turns it into BigQuery's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeGuard

import sqlglot
from sqlglot import exp
from sqlglot.dialects.bigquery import BigQuery

from analytics_pipeline.warehouse.bigquery_layout import layout_of

READ_DIALECT = "duckdb"
_WINDOW_FUNCS_WITH_NULL_ORDERING = BigQuery.Generator.WINDOW_FUNCS_WITH_NULL_ORDERING
_TIMESTAMP_TYPES = (exp.DataType.Type.TIMESTAMPTZ, exp.DataType.Type.TIMESTAMP)


def to_bigquery(
    sql: str,
    project: str,
    dataset: str,
    pretty: bool = False,
    renames: Mapping[str, str] | None = None,
) -> list[str]:
    """Transpile DuckDB SQL to BigQuery, qualifying ``domain.table`` names.

    Domain schemas become datasets named ``{dataset}_{domain}`` in ``project``;
    ``renames`` maps some ``schema.table`` names to others first (the API's reader maps
    the DuckDB snapshot's ``main.manifest`` to BigQuery's ``serving.manifest``).
    ``CREATE TABLE`` of a table listed in :mod:`~analytics_pipeline.warehouse.bigquery_layout`
    gets its ``PARTITION BY``/``CLUSTER BY``. Constructs sqlglot maps to something that
    means otherwise, or not at all, are rewritten here so the meaning holds:

    * ``timezone(tz, ts)`` (a UTC instant seen on the store's wall clock) becomes
      ``DATETIME(ts, tz)``;
    * ``TRY_CAST(x AS TIMESTAMPTZ)`` relies on DuckDB's session time zone for strings
      without an offset; BigQuery gets the zone explicitly: ``SAFE.TIMESTAMP(x, @store_tz)``;
    * ``date_diff(part, t1, t2)`` of timestamps counts calendar boundaries in DuckDB's
      session (the store's) time zone; BigQuery's ``DATE_DIFF`` takes dates only, so both
      sides become ``DATE(t, @store_tz)``. A side is a timestamp when it is cast to one or
      is a column named ``*_at`` (the data contract's naming of timestamps);
    * ``median(x)`` has no BigQuery aggregate: ``APPROX_QUANTILES(x, 2)[OFFSET(1)]``, an
      approximate median that is one of the values, where DuckDB averages the two middle
      values of an even count;
    * an aggregate's ascending window order (NULLs last in DuckDB, first in BigQuery,
      which takes no NULLS LAST there) gets a leading ``x IS NULL`` key, and named
      windows are spelled out first (sqlglot cannot translate through a window name).
    """
    out: list[str] = []
    for statement in sqlglot.parse(sql, read=READ_DIALECT):
        if statement is None:
            continue
        created = _created_table(statement)
        _inline_named_windows(statement)
        rewritten = statement.transform(
            _rewrite_node, project=project, dataset=dataset, renames=renames or {}
        )
        if created is not None:
            _add_layout(rewritten, *created)
        out.append(rewritten.sql(dialect="bigquery", pretty=pretty))
    return out


def _created_table(statement: exp.Expr) -> tuple[str, str] | None:
    """``(domain, table)`` a ``CREATE TABLE`` makes, before names are qualified."""
    if not isinstance(statement, exp.Create) or str(statement.args.get("kind")) != "TABLE":
        return None
    target = statement.this.this if isinstance(statement.this, exp.Schema) else statement.this
    if not isinstance(target, exp.Table) or not target.db:
        return None
    return target.db, target.name


def _inline_named_windows(statement: exp.Expr) -> None:
    """Write ``OVER name`` with its ``WINDOW name AS (...)`` definition spelled out.

    sqlglot cannot carry DuckDB's NULLS LAST default into BigQuery through a named window
    (it fails on the window's name); spelled out, the usual translation applies.
    """
    for select in list(statement.find_all(exp.Select)):
        named = {w.this.name: w for w in select.args.get("windows") or []}
        if not named:
            continue
        for window in select.find_all(exp.Window):
            definition = named.get(window.alias) if window.parent_select is select else None
            if definition is None or window in named.values():
                continue
            for part in ("partition_by", "order", "spec"):
                if not window.args.get(part) and definition.args.get(part):
                    window.set(part, definition.args[part].copy() if part != "partition_by"
                               else [e.copy() for e in definition.args[part]])
            window.set("alias", None)
        select.set("windows", None)


def _add_layout(create: exp.Expression, domain: str, table: str) -> None:
    layout = layout_of(domain, table)
    if layout is None:
        return
    properties = create.args.get("properties") or exp.Properties(expressions=[])
    for item in layout.properties():
        properties.append("expressions", item)
    create.set("properties", properties)


def _rewrite_node(
    node: exp.Expression, project: str, dataset: str, renames: Mapping[str, str]
) -> exp.Expression:
    if isinstance(node, exp.Table) and node.db and not node.catalog:
        key = f"{node.db}.{node.name}"
        domain, _, name = renames.get(key.lower(), key).partition(".")
        return exp.table_(
            name, db=f"{dataset}_{domain}", catalog=project, alias=node.alias or None
        )
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "timezone":
        zone, value = node.expressions
        return exp.Anonymous(this="DATETIME", expressions=[value, zone])
    if isinstance(node, exp.TryCast) and node.to.is_type(exp.DataType.Type.TIMESTAMPTZ):
        return exp.Anonymous(
            this="SAFE.TIMESTAMP", expressions=[node.this, exp.Placeholder(this="store_tz")]
        )
    if isinstance(node, exp.DateDiff) and any(map(_is_timestamp, (node.this, node.expression))):
        return exp.DateDiff(this=_store_date(node.this), expression=_store_date(node.expression),
                            unit=node.args.get("unit"))
    if isinstance(node, exp.Select) and node.args.get("qualify") and not any(
            node.args.get(part) for part in ("where", "group", "having")):
        # BigQuery has refused QUALIFY in a SELECT without WHERE, GROUP BY or HAVING.
        node.set("where", exp.Where(this=exp.true()))
        return node
    if _aggregate_window(node):
        return _nulls_last_by_key(node)
    if isinstance(node, exp.Median):
        quantiles = exp.ApproxQuantiles(this=node.this, expression=exp.Literal.number(2))
        return exp.Bracket(this=quantiles, expressions=[exp.Literal.number(1)], offset=0,
                           safe=False)
    return node


def _aggregate_window(node: exp.Expression) -> TypeGuard[exp.Window]:
    """An ordered window over an aggregate (not a ranking or navigation function, which
    take NULLS LAST in BigQuery), without a RANGE frame (that needs a single sort key)."""
    if not isinstance(node, exp.Window) or not node.args.get("order"):
        return False
    spec = node.args.get("spec")
    function = node.this.this if isinstance(node.this, exp.IgnoreNulls) else node.this
    return (isinstance(function, exp.AggFunc)
            and not isinstance(function, _WINDOW_FUNCS_WITH_NULL_ORDERING)
            and (spec is None or spec.text("kind").upper() == "ROWS"))


def _nulls_last_by_key(window: exp.Window) -> exp.Window:
    """DuckDB sorts NULLs last in ascending order, BigQuery first, and BigQuery takes no
    NULLS LAST in an aggregate's window: ``ORDER BY x`` becomes ``ORDER BY x IS NULL, x``,
    which orders the same rows the same way (and keeps the same peers)."""
    keys: list[exp.Expression] = []
    for ordered in window.args["order"].expressions:
        if isinstance(ordered, exp.Ordered) and not ordered.args.get("desc") and not (
                ordered.args.get("nulls_first")):
            keys.append(exp.Ordered(this=exp.Is(this=ordered.this.copy(), expression=exp.Null()),
                                    nulls_first=True))
            keys.append(exp.Ordered(this=ordered.this.copy(), nulls_first=True))
        else:
            keys.append(ordered)
    window.args["order"].set("expressions", keys)
    return window


def _is_timestamp(node: exp.Expression) -> bool:
    if isinstance(node, exp.Cast | exp.TryCast):
        return node.to.this in _TIMESTAMP_TYPES
    return isinstance(node, exp.Column) and node.name.endswith("_at")


def _store_date(node: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="DATE", expressions=[node, exp.Placeholder(this="store_tz")])


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
