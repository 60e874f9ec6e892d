"""What every output table must hold, declared per table: keys, ranges, freshness.

A SQL model without an entry here still gets checks (:func:`spec_for`): at least one row
and no NULL in its first column, which every model in ``sql/`` uses as its key. An entry
adds the specifics. Tables that feed the alert digest or the segment exports are
``blocking``: a failed check there stops the messages instead of sending wrong ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot

from analytics_pipeline.warehouse.sql_models import SqlModel

Range = tuple[str, float | None, float | None]  # column, lowest allowed, highest allowed
SHARE = (0.0, 1.0)


@dataclass(frozen=True)
class TableSpec:
    """Checks for one table.

    Attributes
    ----------
    keys
        Columns that identify a row: never NULL, unique together.
    not_null
        Further columns that must never be NULL.
    ranges
        ``(column, low, high)``: values outside are counted (``None``: unbounded; NULL passes).
    fresh
        A date or timestamp column whose newest value must lie within
        ``ANALYTICS_FRESHNESS_HOURS`` of ``as_of`` (an empty table passes).
    min_rows
        Fewest rows a sound build has (0: the table may be empty, e.g. no alerts today).
    blocking
        Failures stop downstream assets (alerts, exports) in the same run.
    """

    keys: tuple[str, ...] = ()
    not_null: tuple[str, ...] = ()
    ranges: tuple[Range, ...] = ()
    fresh: str | None = None
    min_rows: int = 1
    blocking: bool = False


def _shares(*columns: str) -> tuple[Range, ...]:
    return tuple((c, *SHARE) for c in columns)


def _at_least_zero(*columns: str) -> tuple[Range, ...]:
    return tuple((c, 0.0, None) for c in columns)


TABLE_SPECS: dict[tuple[str, str], TableSpec] = {
    # A clean source quarantines nothing; the contract checks bound the share.
    ("ingest", "quarantine"): TableSpec(not_null=("table_name", "reason"), min_rows=0),
    ("revenue", "calendar"): TableSpec(
        keys=("day",), ranges=(("days_in_month", 28, 31), ("iso_weekday", 1, 7))),
    ("revenue", "customer_ltv"): TableSpec(
        keys=("customer_id",), ranges=_at_least_zero("orders", "tenure_days",
                                                     "days_since_last_order")),
    ("revenue", "customer_orders"): TableSpec(keys=("order_id",), not_null=("customer_id",),
                                              fresh="ordered_at"),
    ("revenue", "daily_sales"): TableSpec(
        keys=("sale_date", "channel"), fresh="sale_date",
        ranges=(*_shares("cost_coverage"), *_at_least_zero("orders"))),
    ("revenue", "daily_targets"): TableSpec(keys=("day",), ranges=_at_least_zero("target_revenue")),
    ("revenue", "ltv_cohorts"): TableSpec(
        keys=("cohort_month", "months_since_first_purchase"), ranges=_shares("active_share")),
    ("revenue", "ltv_distribution"): TableSpec(
        keys=("bucket_order",), ranges=_shares("customer_share")),
    ("revenue", "monthly_targets"): TableSpec(keys=("month",)),
    ("revenue", "product_daily_sales"): TableSpec(keys=("sale_date", "product_id"),
                                                  fresh="sale_date"),
    ("revenue", "recent_orders"): TableSpec(keys=("order_id",), fresh="ordered_at"),
    ("revenue", "top_products"): TableSpec(keys=("window_days", "product_id")),
    # Targets are optional: without a targets file the table is empty.
    ("revenue", "targets_input"): TableSpec(keys=("month",), min_rows=0),
    ("inventory", "demand_history"): TableSpec(keys=("product_id", "day"), fresh="day"),
    ("inventory", "turnover"): TableSpec(not_null=("level",)),
    ("inventory", "demand_forecast"): TableSpec(
        keys=("product_id", "forecast_date"), ranges=_at_least_zero("mean", "std_dev")),
    ("inventory", "reorder_suggestions"): TableSpec(
        keys=("product_id",), min_rows=0, blocking=True,
        ranges=(*_at_least_zero("suggested_quantity", "revenue_at_risk"),
                *_shares("service_level"))),
    ("inventory", "alerts"): TableSpec(
        keys=("alert_id",), not_null=("product_id", "alert_type", "severity"), fresh="as_of",
        ranges=_at_least_zero("revenue_at_risk", "suggested_quantity"), min_rows=0,
        blocking=True),
    ("segments", "category_affinity"): TableSpec(
        keys=("customer_id", "category"),
        ranges=_shares("purchase_share", "engagement_share", "affinity_share")),
    ("segments", "clv_inputs"): TableSpec(
        keys=("customer_id",), ranges=_at_least_zero("frequency", "tenure_days")),
    ("segments", "customer_clv"): TableSpec(
        keys=("customer_id",),
        ranges=(*_shares("p_alive"), *_at_least_zero("predicted_clv"))),
    ("segments", "clusters"): TableSpec(keys=("customer_id",), not_null=("cluster_id",)),
    ("segments", "customer_segments"): TableSpec(
        keys=("customer_id",), not_null=("primary_segment",), ranges=_shares("p_alive"),
        blocking=True),
    ("segments", "rfm"): TableSpec(
        keys=("customer_id",),
        ranges=(("r_score", 1, 5), ("f_score", 1, 5), ("m_score", 1, 5))),
    ("segments", "segment_history"): TableSpec(keys=("month_end", "customer_id")),
    ("segments", "segment_members"): TableSpec(keys=("customer_id",), blocking=True),
    ("segments", "segment_migration"): TableSpec(
        keys=("month_end", "from_segment", "to_segment")),
    ("segments", "segment_performance"): TableSpec(
        keys=("month_end", "segment"), ranges=_shares("retention")),
    ("ops", "step_durations"): TableSpec(keys=("step_key",), ranges=_at_least_zero("seconds")),
    ("receipts", "value_receipt"): TableSpec(keys=("as_of",), not_null=("markdown", "html")),
}


def spec_for(key: tuple[str, str], model: SqlModel | None = None) -> TableSpec:
    """The declared spec of ``key``, else the default: for a SQL ``model`` at least one row
    and its first column never NULL; for a table written from Python, at least one row."""
    if key in TABLE_SPECS:
        return TABLE_SPECS[key]
    if model is None:
        return TableSpec()
    query = sqlglot.parse_one(model.query, read="duckdb")
    first = query.named_selects[:1] if isinstance(query, sqlglot.exp.Query) else []
    return TableSpec(not_null=tuple(c for c in first if c != "*"))
