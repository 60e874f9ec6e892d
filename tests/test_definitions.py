"""The Dagster code location loads and holds the whole graph."""

from __future__ import annotations

import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from analytics_pipeline.definitions import build_definitions, defs
from analytics_pipeline.resources import ClockResource
from analytics_pipeline.settings import Settings

EXPECTED_ASSETS = {
    "ingest/products", "ingest/customers", "ingest/orders", "ingest/order_lines",
    "ingest/inventory", "ingest/events", "ingest/content", "ingest/quarantine",
    "ingest/sales_lines", "ingest/current_stock", "ingest/content_products",
    "ingest/lightspeed_sync",
    "serving/snapshot", "revenue/recent_orders", "revenue/targets_input", "revenue/calendar",
    "revenue/daily_sales", "revenue/product_daily_sales", "revenue/monthly_targets",
    "revenue/daily_targets", "revenue/top_products", "revenue/customer_ltv",
    "revenue/ltv_distribution", "revenue/ltv_cohorts", "revenue/customer_orders",
    "inventory/turnover",
    "inventory/alerts", "inventory/alert_digest", "inventory/demand_history",
    "inventory/demand_forecast", "inventory/reorder_suggestions",
    "segments/clv_inputs", "segments/rfm", "segments/category_affinity",
    "segments/customer_clv", "segments/customer_segments", "segments/clusters",
    "segments/segment_members", "segments/segment_history", "segments/segment_performance",
    "segments/segment_migration",
    "receipts/value_receipt", "ops/step_durations",
    "recommendations/in_stock", "recommendations/repeat_products",
    "recommendations/item_neighbors", "recommendations/cross_sell_rules",
    "recommendations/co_purchase", "recommendations/popular", "recommendations/v1_scores",
    "recommendations/time_patterns", "recommendations/candidates",
    "recommendations/owned_popular",
    "recommendations/v2_scores", "recommendations/v2_model", "recommendations/v2_calibration",
}


def _definitions() -> dg.Definitions:
    return build_definitions(Settings.from_env({}, source_dir="/nowhere"))


def test_asset_keys_snapshot() -> None:
    graph = _definitions().resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys == EXPECTED_ASSETS


def test_sql_models_depend_on_raw_tables() -> None:
    graph = _definitions().resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["ingest", "sales_lines"])).parent_keys
    assert {k.to_user_string() for k in parents} == {
        "ingest/orders", "ingest/order_lines", "ingest/products"
    }


def test_contract_checks_cover_raw_tables() -> None:
    checks = {key.to_user_string() for key in _definitions().resolve_asset_graph().asset_check_keys}
    for expected in ("ingest/orders:fresh", "ingest/order_lines:orders_exist",
                     "ingest/products:no_negative_prices", "ingest/orders:has_rows",
                     "ingest/orders:quarantine_share_under_limit"):
        assert expected in checks


def test_daily_schedule_at_six_in_store_time_zone() -> None:
    definitions = build_definitions(Settings.from_env({"ANALYTICS_STORE_TZ": "America/Toronto"}))
    schedule = definitions.resolve_schedule_def("daily_refresh_6am")
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "America/Toronto"


def test_module_level_definitions_load_lazily() -> None:
    assert isinstance(defs(), dg.Definitions)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_dagster_dev_serves_the_whole_graph(tmp_path: Path) -> None:
    port = _free_port()
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster"), "dev", "-p", str(port)],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    query = json.dumps({"query": "{ assetNodes { assetKey { path } } }"}).encode()
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql", data=query,
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                    nodes = json.load(response)["data"]["assetNodes"]
                if nodes:
                    break
            except (OSError, KeyError, TypeError):
                pass
            assert time.monotonic() < deadline, "dagster dev did not serve the graph in 90 s"
            time.sleep(1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a loaded machine: serving is what is tested
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
    assert {"/".join(n["assetKey"]["path"]) for n in nodes} == EXPECTED_ASSETS


def test_every_asset_of_a_run_sees_the_run_start_as_now() -> None:
    seen: dict[str, object] = {}

    @dg.asset
    def first(clock: ClockResource) -> None:
        seen["first"] = clock.now()
        time.sleep(0.05)  # a later step must not see a later "now"

    @dg.asset(deps=[first])
    def second(clock: ClockResource) -> None:
        seen["second"] = clock.now()

    before = time.time()
    result = dg.materialize([first, second],
                            resources={"clock": ClockResource(store_timezone="Europe/Berlin")})
    assert result.success
    assert seen["first"] == seen["second"]
    started = seen["first"]
    assert isinstance(started, datetime.datetime) and started.tzinfo is not None
    assert str(started.tzinfo) == "Europe/Berlin"
    assert before - 1 <= started.timestamp() <= time.time()
    # A configured as_of is kept as it is.
    fixed = ClockResource(as_of="2026-03-31T23:00:00", store_timezone="UTC")
    dg.materialize([first], resources={"clock": fixed})
    assert seen["first"] == datetime.datetime(2026, 3, 31, 23, tzinfo=datetime.UTC)
