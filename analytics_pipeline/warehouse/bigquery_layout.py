"""How the large tables are laid out in BigQuery: partitioned by a date, clustered by ids.

This is the one place that says which tables are partitioned and clustered. The SQL
transpiler (:func:`analytics_pipeline.warehouse.dialect.to_bigquery`) adds the clauses to
every ``CREATE TABLE`` of these tables, and :class:`BigQueryWarehouse.load_arrow` gives
the same layout to its load jobs, so a table looks the same whichever path wrote it.

Partitions are monthly: an independent store writes megabytes a month, and BigQuery
advises against partitions much smaller than a gigabyte (each adds metadata and planning
cost); a month still lets a query of the last weeks skip years of history. Clustering
sorts each partition's blocks by the ids the API and the models filter and join on, so
such reads scan only the blocks holding those ids. BigQuery refuses ``CREATE OR REPLACE``
with a different layout than the table has: after changing an entry here, drop the table
(``docs/bigquery.md`` tells how).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlglot
from sqlglot import exp

from analytics_pipeline.warehouse.params import identifier

Granularity = Literal["DAY", "MONTH", "YEAR"]


@dataclass(frozen=True)
class TableLayout:
    """A table's partitioning and clustering.

    Attributes
    ----------
    partition_column
        A DATE or TIMESTAMP column to partition by (``None``: not partitioned).
    partition_type
        That column's type: BigQuery truncates dates and timestamps with different
        functions.
    cluster_by
        Up to four columns, most selective filter first.
    granularity
        Partition size.
    """

    partition_column: str | None = None
    partition_type: Literal["DATE", "TIMESTAMP"] = "DATE"
    cluster_by: tuple[str, ...] = ()
    granularity: Granularity = "MONTH"

    def __post_init__(self) -> None:
        for column in (*self.cluster_by, *filter(None, [self.partition_column])):
            identifier(column)
        if len(self.cluster_by) > 4:
            raise ValueError("BigQuery clusters by at most four columns")

    def clauses(self) -> str:
        """``PARTITION BY ... CLUSTER BY ...`` as BigQuery SQL ('' when neither applies)."""
        parts: list[str] = []
        if self.partition_column:
            truncate = "DATE_TRUNC" if self.partition_type == "DATE" else "TIMESTAMP_TRUNC"
            parts.append(f"PARTITION BY {truncate}({self.partition_column}, {self.granularity})")
        if self.cluster_by:
            parts.append(f"CLUSTER BY {', '.join(self.cluster_by)}")
        return " ".join(parts)

    def properties(self) -> list[exp.Expression]:
        """The clauses as sqlglot properties, to attach to a parsed ``CREATE TABLE``."""
        # Parsed from text built of validated identifiers: sqlglot then generates them
        # in the place BigQuery's grammar wants, before ``AS SELECT`` or after the columns.
        create = sqlglot.parse_one(f"CREATE TABLE t {self.clauses()} AS SELECT 1", read="bigquery")
        properties = create.args.get("properties")
        return list(properties.expressions) if properties else []


def _by_date(column: str, *cluster: str) -> TableLayout:
    return TableLayout(partition_column=column, cluster_by=cluster)


def _by_time(column: str, *cluster: str) -> TableLayout:
    return TableLayout(partition_column=column, partition_type="TIMESTAMP", cluster_by=cluster)


def _clustered(*cluster: str) -> TableLayout:
    return TableLayout(cluster_by=cluster)


# Tables that grow with history (partitioned) or with customers and products (clustered).
# Small per-day or per-month summaries are left plain: one block is read either way.
LAYOUTS: dict[tuple[str, str], TableLayout] = {
    ("ingest", "orders"): _by_time("ordered_at", "customer_id"),
    ("ingest", "events"): _by_time("occurred_at", "customer_id", "product_id"),
    ("ingest", "order_lines"): _clustered("product_id"),
    ("ingest", "inventory"): _clustered("product_id"),
    ("ingest", "sales_lines"): _by_date("sale_date", "product_id", "customer_id"),
    ("revenue", "customer_orders"): _by_date("sale_date", "customer_id"),
    ("revenue", "product_daily_sales"): _by_date("sale_date", "product_id"),
    ("revenue", "customer_ltv"): _clustered("customer_id"),
    ("inventory", "demand_history"): _by_date("day", "product_id"),
    ("inventory", "demand_forecast"): _by_date("forecast_date", "product_id"),
    ("segments", "clv_inputs"): _clustered("customer_id"),
    ("segments", "rfm"): _clustered("customer_id"),
    ("segments", "customer_clv"): _clustered("customer_id"),
    ("segments", "clusters"): _clustered("customer_id"),
    ("segments", "customer_segments"): _clustered("customer_id"),
    ("segments", "segment_members"): _clustered("customer_id"),
    ("segments", "category_affinity"): _clustered("customer_id"),
    ("segments", "segment_history"): _by_date("month_end", "customer_id"),
}


def layout_of(domain: str, table: str) -> TableLayout | None:
    """The layout of ``domain.table`` in BigQuery, or ``None`` for a plain table."""
    return LAYOUTS.get((domain, table))
