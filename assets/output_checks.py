"""Output checks on every table the pipeline builds, all from one factory.

Each domain gets one multi-asset check running, per table, the checks its
:class:`TableSpec` asks for: row count, NULL keys, duplicate keys, value ranges,
freshness. Every query returns ``(passed, observed)``; identifiers come from the spec and
from validated model names, values are bound parameters.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dagster as dg

from analytics_pipeline.assets.output_specs import TableSpec, spec_for
from analytics_pipeline.resources import ClockResource, WarehouseResource
from analytics_pipeline.settings import Settings
from analytics_pipeline.warehouse.sql_models import discover


@dataclass(frozen=True)
class OutputCheck:
    name: str
    description: str
    sql: str  # one row: (passed BOOLEAN, observed value)
    params: tuple[tuple[str, Any], ...] = ()


def _any_count(table: str, condition: str) -> str:
    return f"SELECT count(*) = 0, count(*) FROM {table} WHERE {condition}"


def output_checks_for(table: str, spec: TableSpec) -> list[OutputCheck]:
    """The checks ``spec`` asks for on ``table`` (``domain.name``)."""
    checks: list[OutputCheck] = []
    if spec.min_rows > 0:
        checks.append(OutputCheck(
            "row_count", f"At least {spec.min_rows} row(s).",
            f"SELECT count(*) >= $min_rows, count(*) FROM {table}",
            (("min_rows", spec.min_rows),)))
    required = (*spec.keys, *spec.not_null)
    if required:
        checks.append(OutputCheck(
            "no_null_keys", f"No NULL in {', '.join(required)}.",
            _any_count(table, " OR ".join(f"{c} IS NULL" for c in required))))
    if spec.keys:
        columns = ", ".join(spec.keys)
        checks.append(OutputCheck(
            "unique_keys", f"No two rows share ({columns}).",
            f"""SELECT count(*) = 0, count(*) FROM (SELECT {columns} FROM {table}
                GROUP BY {columns} HAVING count(*) > 1) AS duplicates"""))
    if spec.ranges:
        checks.append(_ranges(table, spec))
    if spec.fresh:
        checks.append(OutputCheck(
            "fresh", f"The newest {spec.fresh} is within ANALYTICS_FRESHNESS_HOURS of as_of.",
            f"""SELECT count(*) = 0 OR max(CAST({spec.fresh} AS TIMESTAMPTZ)) >= $fresh_after,
                       CAST(max({spec.fresh}) AS VARCHAR) FROM {table}"""))
    return checks


def _ranges(table: str, spec: TableSpec) -> OutputCheck:
    conditions, params, shown = [], [], []
    for i, (column, low, high) in enumerate(spec.ranges):
        if low is not None:
            conditions.append(f"{column} < $low_{i}")
            params.append((f"low_{i}", low))
        if high is not None:
            conditions.append(f"{column} > $high_{i}")
            params.append((f"high_{i}", high))
        shown.append(f"{column} in [{'' if low is None else low}, {'' if high is None else high}]")
    return OutputCheck("values_in_range", "Values in range: " + "; ".join(shown) + ".",
                       _any_count(table, " OR ".join(conditions)), tuple(params))


def domain_checks(
    domain: str, specs: Sequence[tuple[dg.AssetKey, TableSpec]], settings: Settings
) -> dg.AssetChecksDefinition:
    """The checks of ``domain``'s tables as one subsettable multi-asset check.

    Dagster runs it in as few steps as the tables' dependency levels allow (a blocking
    check must pass before the tables downstream of its table start); a step per table
    would double the steps of a run, and each costs ~0.1 s of overhead.
    """
    planned = [(key, spec, check) for key, spec in specs
               for check in output_checks_for(".".join(key.path), spec)]

    @dg.multi_asset_check(
        name=f"{domain}__output_checks",
        specs=[dg.AssetCheckSpec(check.name, asset=key, description=check.description,
                                 blocking=spec.blocking) for key, spec, check in planned],
        can_subset=True,
    )
    def _checks(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource,
        clock: ClockResource,
    ) -> Iterator[dg.AssetCheckResult]:
        # The cut-off is computed here, not in SQL: interval arithmetic differs by dialect.
        shared = {"fresh_after": clock.now() - timedelta(hours=settings.freshness_hours)}
        selected = context.selected_asset_check_keys
        with warehouse.open() as wh:
            for key, spec, check in planned:
                if dg.AssetCheckKey(key, check.name) not in selected:
                    continue
                passed, observed = wh.fetch_all(check.sql, {**shared, **dict(check.params)})[0]
                yield dg.AssetCheckResult(
                    asset_key=key, check_name=check.name, passed=bool(passed),
                    severity=(dg.AssetCheckSeverity.ERROR if spec.blocking
                              else dg.AssetCheckSeverity.WARN),
                    metadata={"observed": str(observed)})

    return _checks


def output_checks(
    python_tables: Iterable[dg.AssetKey], settings: Settings
) -> list[dg.AssetChecksDefinition]:
    """Checks for every SQL model (found in ``sql/``) and for the ``python_tables``, one
    step per domain."""
    keyed = {(m.domain, m.name): m for m in discover()}
    specs = {key: spec_for(key, model) for key, model in keyed.items()}
    specs.update({(k.path[0], k.path[1]): spec_for((k.path[0], k.path[1]))
                  for k in python_tables})
    by_domain: dict[str, list[tuple[dg.AssetKey, TableSpec]]] = {}
    for (domain, name), spec in sorted(specs.items()):
        by_domain.setdefault(domain, []).append((dg.AssetKey([domain, name]), spec))
    return [domain_checks(domain, tables, settings) for domain, tables in by_domain.items()]
