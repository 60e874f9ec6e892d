"""Data-contract checks on the raw tables, all built by one factory from a list of specs.

Each check is one query returning ``(passed, observed)``; parameters are bound, never
formatted in. Checks that guard downstream numbers are blocking. The SQL is DuckDB's and
runs on BigQuery after ``to_bigquery``, so it keeps to what transpiles: a window of hours is
``INTERVAL (n) HOUR``, which both read, not DuckDB's ``to_hours(n)``, which sqlglot passes
through unchanged.
"""


from dataclasses import dataclass

import dagster as dg

from analytics_pipeline.resources import ClockResource, WarehouseResource
from analytics_pipeline.settings import Settings


@dataclass(frozen=True)
class CheckSpec:
    table: str
    name: str
    description: str
    sql: str  # one row: (passed BOOLEAN, observed value)
    blocking: bool = False


def _quarantine_share(table: str) -> CheckSpec:
    return CheckSpec(
        table, "quarantine_share_under_limit",
        "Share of this table's rows sent to quarantine stays under ANALYTICS_QUARANTINE_LIMIT.",
        f"""SELECT q.n <= $quarantine_limit * (q.n + t.n), q.n / GREATEST(q.n + t.n, 1)
        FROM (SELECT CAST(count(*) AS DOUBLE) AS n FROM ingest.quarantine
              WHERE table_name = '{table}') AS q,
             (SELECT CAST(count(*) AS DOUBLE) AS n FROM ingest.{table}) AS t""",
        blocking=True,
    )


CONTRACT_CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("orders", "has_rows", "At least one order was loaded.",
              "SELECT count(*) > 0, count(*) FROM ingest.orders", blocking=True),
    CheckSpec("order_lines", "has_rows", "At least one order line was loaded.",
              "SELECT count(*) > 0, count(*) FROM ingest.order_lines", blocking=True),
    CheckSpec(
        "orders", "fresh",
        "The newest order is at most ANALYTICS_FRESHNESS_HOURS older than as_of.",
        """SELECT max(ordered_at) >= CAST($as_of AS TIMESTAMPTZ)
                  - INTERVAL (CAST($freshness_hours AS BIGINT)) HOUR,
                  CAST(max(ordered_at) AS VARCHAR)
           FROM ingest.orders WHERE ordered_at <= $as_of""",
    ),
    CheckSpec(
        "inventory", "fresh",
        "The newest stock count is at most ANALYTICS_FRESHNESS_HOURS older than as_of "
        "(passes when the source has no inventory).",
        """SELECT count(*) = 0 OR max(as_of) >= CAST($as_of AS TIMESTAMPTZ)
                  - INTERVAL (CAST($freshness_hours AS BIGINT)) HOUR,
                  CAST(max(as_of) AS VARCHAR)
           FROM ingest.inventory WHERE as_of <= $as_of""",
    ),
    CheckSpec(
        "products", "no_negative_prices", "No product has a negative price or cost.",
        """SELECT count(*) = 0, count(*) FROM ingest.products
           WHERE unit_price < 0 OR unit_cost < 0""",
        blocking=True,
    ),
    CheckSpec(
        "order_lines", "no_negative_prices", "No order line has a negative unit price.",
        "SELECT count(*) = 0, count(*) FROM ingest.order_lines WHERE unit_price < 0",
        blocking=True,
    ),
    CheckSpec(
        "order_lines", "orders_exist", "Every order line belongs to a loaded order.",
        """SELECT count(*) = 0, count(*) FROM ingest.order_lines AS l
           WHERE NOT EXISTS (SELECT 1 FROM ingest.orders AS o WHERE o.order_id = l.order_id)""",
        blocking=True,
    ),
    CheckSpec(
        "order_lines", "products_exist", "Every product on an order line is a known product.",
        """SELECT count(*) = 0, count(*) FROM ingest.order_lines AS l
           WHERE NOT EXISTS (SELECT 1 FROM ingest.products AS p
                             WHERE p.product_id = l.product_id)""",
        blocking=True,
    ),
    CheckSpec(
        "orders", "customers_exist",
        "Orders name customers present in the customers table (when one was loaded).",
        """SELECT (SELECT count(*) FROM ingest.customers) = 0 OR count(*) = 0, count(*)
           FROM ingest.orders AS o
           WHERE o.customer_id IS NOT NULL AND NOT EXISTS (
             SELECT 1 FROM ingest.customers AS c WHERE c.customer_id = o.customer_id)""",
    ),
    *(_quarantine_share(t) for t in ("orders", "order_lines", "products", "customers",
                                      "inventory", "events", "content")),
)


def contract_check(spec: CheckSpec, settings: Settings) -> dg.AssetChecksDefinition:
    """One Dagster asset check running ``spec.sql`` as of the clock's ``as_of``."""

    @dg.asset_check(
        asset=dg.AssetKey(["ingest", spec.table]),
        name=spec.name,
        description=spec.description,
        blocking=spec.blocking,
    )
    def _check(warehouse: WarehouseResource, clock: ClockResource) -> dg.AssetCheckResult:
        params = {
            "as_of": clock.now(),
            "freshness_hours": settings.freshness_hours,
            "quarantine_limit": settings.quarantine_limit,
        }
        with warehouse.open() as wh:
            passed, observed = wh.fetch_all(spec.sql, params)[0]
        return dg.AssetCheckResult(
            passed=bool(passed),
            severity=dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN,
            metadata={"observed": str(observed)},
        )

    return _check


def contract_checks(settings: Settings) -> list[dg.AssetChecksDefinition]:
    return [contract_check(spec, settings) for spec in CONTRACT_CHECKS]
