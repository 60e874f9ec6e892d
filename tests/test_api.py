"""The API as clients use it: figures, auth, live orders, cache, concurrency, WebSocket."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from analytics_pipeline.api.app import create_app
from analytics_pipeline.api.auth import ApiKeys
from analytics_pipeline.settings import Settings, SettingsError
from tests.api_support import REDIS_URL, DisposableRedis, materialize, require_redis

AS_OF = "2026-03-31T15:00:00"
KEYS = "reader=read,writer=read+write,admin=read+write+pii"
READ = {"Authorization": "Bearer reader"}
WRITE = {"Authorization": "Bearer writer"}


@pytest.fixture(scope="module")
def warehouse_path(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("api") / "warehouse.duckdb"
    materialize(tiny_store, path, AS_OF)
    return path


def _settings(warehouse: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"warehouse_url": f"duckdb:///{warehouse}", "api_keys": KEYS,
                                 "redis_url": REDIS_URL, "live_interval_seconds": 0.2}
    # from_env ignores None overrides, and its empty environment has no Redis.
    return Settings.from_env({}, **(values | overrides))


@pytest.fixture
def client(warehouse_path: Path) -> Iterator[TestClient]:
    require_redis()
    with TestClient(create_app(_settings(warehouse_path))) as test_client:
        yield test_client


def _direct(warehouse: Path, sql: str) -> tuple[object, ...]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None
    return row


def test_current_matches_direct_sql(client: TestClient, warehouse_path: Path) -> None:
    body = client.get(f"/api/revenue/current?as_of={AS_OF}", headers=READ).json()
    revenue, orders = _direct(
        warehouse_path,
        f"""SELECT sum(revenue), count(DISTINCT order_id) FILTER (WHERE quantity > 0)
            FROM ingest.sales_lines WHERE sale_date = DATE '2026-03-31'
            AND ordered_at <= TIMESTAMPTZ '{AS_OF}+00:00'""",
    )
    last_week = _direct(
        warehouse_path,
        """SELECT sum(revenue) FROM ingest.sales_lines WHERE sale_date = DATE '2026-03-24'
           AND ordered_at <= TIMESTAMPTZ '2026-03-24T15:00:00+00:00'""",
    )[0]
    assert Decimal(body["today"]["revenue"]) == Decimal(str(revenue))
    assert body["today"]["orders"] == orders
    assert Decimal(body["same_weekday_last_week"]["revenue_same_time"]) == Decimal(str(last_week))
    assert body["currency"] == "USD" and body["today"]["date"] == "2026-03-31"


def test_access_rules(client: TestClient) -> None:
    assert client.get("/api/revenue/current").status_code == 401
    assert client.get("/api/revenue/current", headers={"Authorization": "Bearer nope"}
                      ).status_code == 401
    assert client.get("/api/revenue/current", headers=READ).status_code == 200
    order = _order("auth-1", "10.00")
    assert client.post("/api/orders", json=order, headers=READ).status_code == 403
    assert "write" in client.post("/api/orders", json=order, headers=READ).json()["detail"]
    assert client.get("/healthz").status_code == 200


def test_write_endpoints_need_a_key_even_when_none_is_configured(warehouse_path: Path) -> None:
    with TestClient(create_app(_settings(warehouse_path, api_keys=" "))) as open_client:
        assert open_client.get("/api/revenue/current").status_code == 200
        assert open_client.post("/api/orders", json=_order("x", "1")).status_code == 401


def test_api_keys_parsing_never_echoes_secrets() -> None:
    keys = ApiKeys.parse("a=read, b=read+write+pii")
    assert keys.scopes_for("b") == {"read", "write", "pii"} and keys.scopes_for("c") is None
    with pytest.raises(SettingsError) as err:
        ApiKeys.parse("s3cret=admin")
    assert "s3cret" not in str(err.value)


def _order(order_id: str, price: str, quantity: int = 1) -> dict[str, object]:
    return {"order_id": order_id, "customer_id": "c-live", "ordered_at": "2026-03-31T14:30:00",
            "channel": "store",
            "lines": [{"line_number": 1, "product_id": "p-live", "quantity": quantity,
                       "unit_price": price}]}


def test_live_order_is_visible_at_once_and_survives_the_next_batch_once(
    tiny_store: Path, tmp_path: Path
) -> None:
    require_redis()
    warehouse = tmp_path / "w.duckdb"
    materialize(tiny_store, warehouse, AS_OF)
    url = f"/api/revenue/current?as_of={AS_OF}"
    with TestClient(create_app(_settings(warehouse))) as client:
        before = Decimal(client.get(url, headers=READ).json()["today"]["revenue"])
        created = client.post("/api/orders", json=_order("live-1", "12.50", 2), headers=WRITE)
        again = client.post("/api/orders", json=_order("live-1", "12.50", 2), headers=WRITE)
        assert (created.status_code, again.json()["result"]) == (201, "duplicate")
        after = client.get(url, headers=READ).json()
        assert Decimal(after["today"]["revenue"]) == before + Decimal("25.00")
        assert after["live"]["orders"] == 1
        published = client.get("/readyz").json()["snapshot"]
        materialize(tiny_store, warehouse, AS_OF)  # the batch absorbs the live order
        deadline = time.monotonic() + 5  # readers look for a new snapshot every second
        while client.get("/readyz").json()["snapshot"] == published:
            assert time.monotonic() < deadline, "the new snapshot was not picked up"
            time.sleep(0.1)
        absorbed = client.get(url, headers=READ).json()
        assert Decimal(absorbed["today"]["revenue"]) == before + Decimal("25.00")
        assert absorbed["live"]["orders"] == 0


def test_malformed_order_gets_422_naming_the_field(client: TestClient) -> None:
    bad = _order("bad-1", "10.00", quantity=0)
    response = client.post("/api/orders", json=bad, headers=WRITE)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "quantity"


def test_a_lone_surrogate_in_a_body_is_a_422_not_a_500(client: TestClient) -> None:
    # JSON allows "\ud800"; UTF-8 does not, so echoing it back must not break the reply.
    body = b'{"order_id": "\\ud800"}'
    response = client.post("/api/orders", content=body, headers={
        **WRITE, "content-type": "application/json"})
    assert response.status_code == 422
    assert "ordered_at" in {e["loc"][-1] for e in response.json()["detail"]}


def test_cache_hits_and_metrics(client: TestClient) -> None:
    url = f"/api/revenue/current?as_of={AS_OF}"
    first = client.get(url, headers=READ)
    second = client.get(url, headers=READ)
    assert first.content == second.content
    metrics = client.get("/metrics").text
    assert 'api_cache_total{result="hit"}' in metrics
    assert 'api_requests_total{method="GET",route="/api/revenue/current",status="200"}' in metrics
    assert client.get("/readyz").json()["cache"] == {"kind": "redis", "healthy": True}


def test_redis_outage_degrades_then_recovers(warehouse_path: Path) -> None:
    server = DisposableRedis()
    server.start()
    url = f"/api/revenue/current?as_of={AS_OF}"
    try:
        settings = _settings(warehouse_path, redis_url=server.url)
        with TestClient(create_app(settings)) as client:
            assert client.get(url, headers=READ).status_code == 200
            server.stop()
            for _ in range(5):
                assert client.get(url, headers=READ).status_code == 200
            ready = client.get("/readyz").json()
            assert ready["status"] == "degraded" and ready["cache"]["healthy"] is False
            assert "api_cache_up 0.0" in client.get("/metrics").text
            server.start()
            assert client.get("/readyz").json()["status"] == "ready"
    finally:
        server.stop()


def test_api_keeps_answering_while_another_process_materializes(
    tiny_store: Path, tmp_path: Path
) -> None:
    require_redis()
    warehouse = tmp_path / "w.duckdb"
    materialize(tiny_store, warehouse, AS_OF)
    statuses: list[int] = []
    with TestClient(create_app(_settings(warehouse, redis_url=None))) as client:
        first = client.get("/readyz").json()["snapshot"]
        run = subprocess.Popen(
            [str(Path(sys.executable).parent / "analytics-pipeline"), "materialize",
             "--source", str(tiny_store), "--warehouse", f"duckdb:///{warehouse}",
             "--as-of", "2026-03-31T16:00:00"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        done = threading.Event()
        threading.Thread(target=lambda: (run.wait(), done.set()), daemon=True).start()
        while not done.is_set():
            for as_of in ("2026-03-31T15:00:00", "2026-03-30T12:00:00"):
                statuses.append(client.get(f"/api/revenue/current?as_of={as_of}",
                                           headers=READ).status_code)
        assert run.returncode == 0
        # The reader looks for a newer snapshot at most once a second.
        deadline = time.monotonic() + 5
        while client.get("/readyz").json()["snapshot"] == first and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.get("/readyz").json()["snapshot"] != first  # new figures served
    assert statuses and set(statuses) == {200}


def test_websocket_pushes_current_figures(client: TestClient) -> None:
    with client.websocket_connect("/ws/revenue/live?key=reader") as ws:
        first = ws.receive_json()
        second = ws.receive_json()
    assert first["currency"] == "USD" and "today" in second


def test_websocket_refuses_without_key(client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws/revenue/live") as ws:
        ws.receive_json()


def test_bad_as_of_is_a_422_naming_the_parameter(client: TestClient) -> None:
    response = client.get("/api/revenue/current?as_of=soon", headers=READ)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "as_of"]


def test_nothing_published_is_a_503_with_a_reason(tmp_path: Path) -> None:
    settings = Settings.from_env({}, warehouse_url=f"duckdb:///{tmp_path / 'none.duckdb'}")
    with TestClient(create_app(settings)) as empty:
        response = empty.get("/api/revenue/current")
    assert response.status_code == 503 and "materialize" in response.json()["detail"]


def test_cookies_grant_nothing(client: TestClient) -> None:
    client.cookies.set("rp_key", "admin")
    try:
        assert client.get("/api/revenue/current").status_code == 401
    finally:
        client.cookies.clear()
