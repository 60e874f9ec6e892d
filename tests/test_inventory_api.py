"""``/api/alerts`` and ``/api/inventory/forecast/{id}`` against the tables the batch wrote,
and ``POST /api/alerts/run`` starting a real refresh in its own process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api_support import app_client, get_json, materialize
from tests.api_support import warehouse_rows as _rows

AS_OF = "2026-03-31T15:00:00"
READ = {"Authorization": "Bearer reader"}
WRITE = {"Authorization": "Bearer writer"}
KEYS = "reader=read,writer=read+write"


@pytest.fixture(scope="module")
def warehouse_path(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("alerts") / "warehouse.duckdb"
    materialize(tiny_store, path, AS_OF)
    return path


@pytest.fixture(scope="module")
def client(warehouse_path: Path) -> Iterator[TestClient]:
    with app_client(warehouse_path, KEYS) as test_client:
        yield test_client


def _get(client: TestClient, url: str) -> dict[str, Any]:
    return get_json(client, url, READ)


def test_alerts_are_the_tables_rows_most_urgent_first(
    client: TestClient, warehouse_path: Path
) -> None:
    body = _get(client, f"/api/alerts?as_of={AS_OF}")
    table = {row[0]: row[1:] for row in _rows(
        warehouse_path, "SELECT alert_id, severity, alert_type, reason, evidence "
                        "FROM inventory.alerts")}
    assert body["alerts"] and {a["alert_id"] for a in body["alerts"]} == set(table)
    assert body["counts"] == {s: sum(1 for r in table.values() if r[0] == s)
                              for s in {r[0] for r in table.values()}}
    ranks = [("critical", "warning", "info").index(a["severity"]) for a in body["alerts"]]
    assert ranks == sorted(ranks)
    for alert in body["alerts"]:
        severity, kind, reason, evidence = table[alert["alert_id"]]
        assert (alert["severity"], alert["alert_type"], alert["reason"]) == (
            severity, kind, reason)
        assert alert["evidence"] == json.loads(evidence)


def test_alerts_filter_by_type_and_severity(client: TestClient, warehouse_path: Path) -> None:
    (kind, severity, n), *_ = _rows(warehouse_path, """
        SELECT alert_type, severity, count(*) FROM inventory.alerts
        GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2""")
    body = _get(client, f"/api/alerts?as_of={AS_OF}&type={kind}&severity={severity}")
    assert len(body["alerts"]) == n
    assert {(a["alert_type"], a["severity"]) for a in body["alerts"]} == {(kind, severity)}
    assert len(_get(client, f"/api/alerts?as_of={AS_OF}&limit=1")["alerts"]) == 1
    assert client.get("/api/alerts?type=nonsense", headers=READ).status_code == 422


def test_forecast_gives_history_and_ordered_intervals(
    client: TestClient, warehouse_path: Path
) -> None:
    ((product, horizon),) = _rows(warehouse_path, """
        SELECT product_id, count(*) FROM inventory.demand_forecast
        GROUP BY 1 ORDER BY sum(mean) DESC, 1 LIMIT 1""")
    body = _get(client, f"/api/inventory/forecast/{product}?as_of={AS_OF}&history_days=30")
    assert body["product_id"] == product and body["model"]
    assert len(body["forecast"]) == horizon == 28
    for day in body["forecast"]:
        assert day["lo95"] <= day["lo80"] <= day["mean"] <= day["hi80"] <= day["hi95"]
    (history_units,) = _rows(warehouse_path, """
        SELECT sum(units) FROM inventory.demand_history
        WHERE product_id = $p AND day > DATE '2026-03-01'""", {"p": product})[0]
    assert len(body["history"]) <= 30
    assert sum(d["units"] for d in body["history"]) == history_units
    missing = client.get(f"/api/inventory/forecast/nope?as_of={AS_OF}", headers=READ)
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


def test_alert_endpoints_need_keys(client: TestClient) -> None:
    assert client.get("/api/alerts").status_code == 401
    assert client.post("/api/alerts/run", headers=READ).status_code == 403


def test_run_without_a_source_says_what_to_set(client: TestClient) -> None:
    response = client.post("/api/alerts/run", headers=WRITE)
    assert response.status_code == 409
    assert "ANALYTICS_SOURCE_DIR" in response.json()["detail"]


def test_run_refreshes_in_its_own_process_one_at_a_time(
    tiny_store: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    materialize(tiny_store, warehouse, AS_OF)
    with app_client(warehouse, KEYS, {"ANALYTICS_AS_OF": AS_OF},
                    source_dir=tiny_store) as client:
        before = client.get("/readyz").json()["snapshot"]
        started = client.post("/api/alerts/run", headers=WRITE)
        assert started.status_code == 202 and started.json()["status"] == "started"
        assert client.post("/api/alerts/run", headers=WRITE).status_code == 409
        deadline = time.monotonic() + 120
        while client.get("/readyz").json()["snapshot"] == before:
            assert time.monotonic() < deadline, "the refresh did not publish"
            time.sleep(0.5)
        assert _get(client, f"/api/alerts?as_of={AS_OF}")["alerts"]
