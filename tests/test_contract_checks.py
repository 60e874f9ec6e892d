"""The freshness contract checks on DuckDB: a newest row inside the window passes, one a
moment older than ``ANALYTICS_FRESHNESS_HOURS`` fails (their BigQuery form is checked with
every other check's in ``test_output_checks``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from analytics_pipeline.assets.checks import CONTRACT_CHECKS, contract_check
from analytics_pipeline.resources import ClockResource, WarehouseResource
from analytics_pipeline.settings import Settings
from analytics_pipeline.warehouse import DuckDBWarehouse

NEWEST = dt.datetime(2026, 3, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    wh = DuckDBWarehouse(path, "America/Toronto")
    try:
        wh.execute("CREATE SCHEMA ingest")
        wh.execute("CREATE TABLE ingest.orders (ordered_at TIMESTAMPTZ)")
        wh.execute("CREATE TABLE ingest.inventory (as_of TIMESTAMPTZ)")
        for table in ("orders", "inventory"):
            # The newest row, and one after as_of that the check must not count.
            wh.execute(f"INSERT INTO ingest.{table} VALUES ($t), ($later)",
                       {"t": NEWEST, "later": NEWEST + dt.timedelta(days=30)})
    finally:
        wh.close()
    return path


def _fresh(table: str, warehouse: Path, hours_after_newest: float) -> dg.AssetCheckResult:
    (spec,) = [s for s in CONTRACT_CHECKS if (s.table, s.name) == (table, "fresh")]
    check = contract_check(spec, Settings.from_env({"ANALYTICS_FRESHNESS_HOURS": "24"}))
    as_of = NEWEST + dt.timedelta(hours=hours_after_newest)
    result = check(warehouse=WarehouseResource(url=f"duckdb:///{warehouse}"),
                   clock=ClockResource(as_of=as_of.isoformat()))
    assert isinstance(result, dg.AssetCheckResult)
    return result


@pytest.mark.parametrize("table", ["orders", "inventory"])
def test_freshness_window_on_duckdb(table: str, warehouse: Path) -> None:
    assert _fresh(table, warehouse, 23).passed
    assert _fresh(table, warehouse, 24).passed  # the window's edge is still fresh
    stale = _fresh(table, warehouse, 25)
    assert not stale.passed
    assert stale.metadata["observed"] == dg.TextMetadataValue("2026-03-30 12:00:00+00")


def test_inventory_freshness_passes_without_stock_counts(warehouse: Path) -> None:
    wh = DuckDBWarehouse(warehouse, "America/Toronto")
    try:
        wh.execute("DELETE FROM ingest.inventory")
    finally:
        wh.close()
    assert _fresh("inventory", warehouse, 1000).passed
