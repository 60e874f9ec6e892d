"""Real BigQuery: the tiny store materialized into throwaway datasets, compared with DuckDB.

Runs when ``GOOGLE_APPLICATION_CREDENTIALS`` names a service-account key and
``ANALYTICS_BIGQUERY_TEST_PROJECT`` a project it may create datasets in (BigQuery Data
Editor + Job User); skipped otherwise, with that reason. Every dataset it creates starts
with a random ``rp_test_`` prefix and is deleted afterwards. Cost: the tiny store is a few
megabytes, so the run stays in BigQuery's free tier (about 150 queries of at most 10 MB
billed each).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from analytics_pipeline.run import materialize_all
from analytics_pipeline.settings import Settings
from analytics_pipeline.warehouse import Warehouse, open_warehouse
from analytics_pipeline.warehouse.bigquery_layout import layout_of
from tests.conftest import NOW

PROJECT = os.environ.get("ANALYTICS_BIGQUERY_TEST_PROJECT", "")
pytestmark = [
    pytest.mark.bigquery,
    pytest.mark.skipif(
        not (PROJECT and os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")),
        reason="real BigQuery needs GOOGLE_APPLICATION_CREDENTIALS (a service-account key "
               "file) and ANALYTICS_BIGQUERY_TEST_PROJECT (a project to create throwaway "
               "datasets in)",
    ),
]
# Tables compared figure by figure: loaded raw data, SQL models and a Python asset.
COMPARED = {
    "ingest.sales_lines": "SELECT count(*), sum(revenue), sum(quantity) FROM ingest.sales_lines",
    "revenue.daily_sales": "SELECT count(*), sum(revenue), max(sale_date) FROM revenue.daily_sales",
    "revenue.customer_ltv": "SELECT count(*), sum(orders), sum(days_since_last_order)"
                            " FROM revenue.customer_ltv",
    "inventory.demand_history": "SELECT count(*), sum(units), count(DISTINCT product_id)"
                                " FROM inventory.demand_history",
    "segments.rfm": "SELECT count(*), sum(frequency), sum(recency_days) FROM segments.rfm",
    "segments.customer_clv": "SELECT count(*) FROM segments.customer_clv",
}


@dataclass
class Pair:
    duckdb: Warehouse
    bigquery: Warehouse
    url: str


def _settings(store: Path, url: str) -> Settings:
    return Settings.from_env({}, source_dir=store, warehouse_url=url,
                             as_of=NOW.isoformat(), store_timezone="UTC")


@pytest.fixture(scope="module")
def warehouses(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    from google.cloud import bigquery

    prefix = f"rp_test_{uuid.uuid4().hex[:10]}"
    url = f"bigquery://{PROJECT}/{prefix}"
    duck_url = f"duckdb:///{tmp_path_factory.mktemp('live') / 'tiny.duckdb'}"
    client = bigquery.Client(project=PROJECT)
    try:
        for target in (duck_url, url):
            summary = materialize_all(_settings(tiny_store, target), lambda _line: None)
            assert summary.success, f"{target}: {summary.failures}"
        pair = Pair(open_warehouse(duck_url, "UTC", read_only=True), open_warehouse(url, "UTC"),
                    url)
        yield pair
        pair.duckdb.close()
        pair.bigquery.close()
    finally:
        for dataset in client.list_datasets(PROJECT):
            if dataset.dataset_id.startswith(f"{prefix}_"):
                client.delete_dataset(dataset.reference, delete_contents=True,
                                      not_found_ok=True)
        client.close()  # type: ignore[no-untyped-call]


def _normal(row: tuple[object, ...]) -> tuple[object, ...]:
    # DuckDB sums DECIMAL to DECIMAL, BigQuery NUMERIC to NUMERIC; doubles may differ in
    # the last bits between engines, so figures compare rounded to the cent.
    return tuple(round(Decimal(str(v)), 2) if isinstance(v, float | Decimal) else v
                 for v in row)


@pytest.mark.parametrize("table", sorted(COMPARED))
def test_bigquery_tables_equal_duckdb(table: str, warehouses: Pair) -> None:
    sql = COMPARED[table]
    (duck,) = warehouses.duckdb.fetch_all(sql)
    (big,) = warehouses.bigquery.fetch_all(sql)
    assert _normal(big) == _normal(duck), table


@pytest.mark.parametrize("table", ["ingest.sales_lines", "inventory.demand_history",
                                   "inventory.demand_forecast", "segments.customer_clv"])
def test_large_tables_are_partitioned_and_clustered(table: str, warehouses: Pair) -> None:
    from analytics_pipeline.warehouse.bigquery_warehouse import BigQueryWarehouse

    wh = warehouses.bigquery
    assert isinstance(wh, BigQueryWarehouse)
    domain, name = table.split(".")
    layout = layout_of(domain, name)
    assert layout is not None
    found = wh.client.get_table(f"{wh.project}.{wh.dataset}_{domain}.{name}")
    partitioning = found.time_partitioning
    if layout.partition_column:
        assert partitioning is not None
        assert (partitioning.field, partitioning.type_) == (layout.partition_column,
                                                            layout.granularity)
    assert list(found.clustering_fields or []) == list(layout.cluster_by)


def test_api_reader_serves_the_published_figures(warehouses: Pair) -> None:
    from google.cloud import bigquery

    from analytics_pipeline.serving.bigquery_reader import BigQueryReader
    from analytics_pipeline.warehouse import WarehouseURL

    location = WarehouseURL.parse(warehouses.url)
    assert location.project and location.dataset
    reader = BigQueryReader(bigquery.Client(project=location.project), location.project,
                            location.dataset, "UTC")
    try:
        reader.refresh(force=True)
        assert reader.path is not None, "the run published no manifest"
        (as_of,) = reader.fetch("SELECT as_of FROM main.manifest")[0]
        assert as_of == NOW
        assert reader.has_table("revenue", "daily_sales")
        assert not reader.has_table("ingest", "orders")  # raw tables are not served
        sql = "SELECT sum(revenue) FROM revenue.daily_sales WHERE sale_date <= $day"
        params: dict[str, object] = {"day": NOW.date()}
        (big,) = reader.fetch(sql, params)
        (duck,) = warehouses.duckdb.fetch_all(sql, params)
        assert _normal(big) == _normal(duck)
    finally:
        reader.close()
