"""Metrics that move when the API is used, request ids, JSON logs, and no PII in them."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from analytics_pipeline.exports.resources import KlaviyoResource, MailchimpResource
from analytics_pipeline.logs import JsonFormatter
from analytics_pipeline.notify.alerts import read_alerts
from analytics_pipeline.notify.dispatch import configured, deliver_due, queue_alerts
from analytics_pipeline.notify.outbox import Outbox
from analytics_pipeline.notify.slack import SlackWebhookChannel
from analytics_pipeline.warehouse import DuckDBWarehouse
from tests.api_support import app_client
from tests.notify_fakes import fake_http, text_reply
from tests.observability_support import customer_pii, materialized
from tests.segments_fakes import FakeMailchimp, serve

KEYS = "reader=read,writer=read+write,admin=read+write+pii"
READ = {"Authorization": "Bearer reader"}
ADMIN = {"Authorization": "Bearer admin"}
HOOK = "/services/T000/B000/hook"


@pytest.fixture(scope="module")
def warehouse(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return materialized(tiny_store, tmp_path_factory, "observability")


@pytest.fixture(scope="module")
def client(warehouse: Path) -> Iterator[TestClient]:
    with app_client(warehouse, KEYS, live_interval_seconds=0.2) as test_client:
        yield test_client


def sample(client: TestClient, name: str, **labels: str) -> float:
    """The value of one series on ``/metrics`` (0 when absent)."""
    text = client.get("/metrics").text
    shown = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(f"{name}{{{shown}}}" if labels else name) + r" (\S+)"
    found = re.search(f"^{pattern}$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_request_and_cache_counters_move(client: TestClient) -> None:
    route = {"route": "/api/revenue/current", "method": "GET", "status": "200"}
    before = sample(client, "api_requests_total", **route)
    latency = sample(client, "api_request_seconds_count", route=route["route"], method="GET")
    misses, hits = (sample(client, "api_cache_total", result=r) for r in ("miss", "hit"))
    for _ in range(2):
        assert client.get("/api/revenue/current?as_of=2026-03-31T12:00:00",
                          headers=READ).status_code == 200
    assert sample(client, "api_requests_total", **route) == before + 2
    assert sample(client, "api_request_seconds_count", route=route["route"],
                  method="GET") == latency + 2
    assert sample(client, "api_cache_total", result="miss") == misses + 1
    assert sample(client, "api_cache_total", result="hit") == hits + 1
    # Raw paths would make one series per id; the template keeps one.
    client.get("/api/segments/vip/customers", headers=ADMIN)
    assert sample(client, "api_requests_total", route="/api/segments/{segment_id}/customers",
                  method="GET", status="200") >= 1


def test_websocket_clients_and_live_order_push_lag(client: TestClient) -> None:
    pushes = sample(client, "api_live_order_push_lag_seconds_count")
    with client.websocket_connect("/ws/revenue/live?key=reader") as ws:
        ws.receive_json()
        assert sample(client, "api_websocket_clients") == 1
        order = {"order_id": "obs-1", "customer_id": "c-live", "ordered_at":
                 datetime.now(UTC).isoformat(), "channel": "store", "lines": [
                     {"line_number": 1, "product_id": "p-live", "quantity": 1,
                      "unit_price": "3.00"}]}
        assert client.post("/api/orders", json=order,
                           headers={"Authorization": "Bearer writer"}).status_code == 201
        ws.receive_json()  # the next tick's push carries the order
        ws.receive_json()
    assert sample(client, "api_live_order_push_lag_seconds_count") == pushes + 1
    assert 0 < sample(client, "api_live_order_push_lag_seconds_sum") < 5
    deadline = time.monotonic() + 5
    while sample(client, "api_websocket_clients") != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sample(client, "api_websocket_clients") == 0


def test_materialization_durations_come_from_the_published_run(
    client: TestClient, warehouse: Path
) -> None:
    text = client.get("/metrics").text
    steps = re.findall(r'^pipeline_step_duration_seconds\{status="success",step="([^"]+)"\} '
                       r"(\S+)$", text, re.MULTILINE)
    by_step = {step: float(seconds) for step, seconds in steps}
    assert {"ingest_source", "segments__customer_clv", "receipts__value_receipt"} <= set(by_step)
    assert all(seconds >= 0 for seconds in by_step.values())
    assert sample(client, "pipeline_last_run_finished_timestamp_seconds") > 0


def test_alert_deliveries_per_channel_and_result(client: TestClient, warehouse: Path) -> None:
    outbox_path = warehouse.parent / "notify.sqlite"
    sent_before = sample(client, "alert_deliveries_total", channel="slack", result="sent")
    _send_digest(warehouse, outbox_path, failures=1)
    assert sample(client, "alert_deliveries_total", channel="slack",
                  result="sent") == sent_before + 1
    assert sample(client, "alert_deliveries_total", channel="slack", result="failed") >= 1
    assert sample(client, "alert_messages_waiting", channel="slack") == 0


def _send_digest(warehouse: Path, outbox_path: Path, failures: int) -> None:
    """The day's real alerts through a fake Slack that fails ``failures`` times first."""
    wh = DuckDBWarehouse(warehouse, "UTC", read_only=True)
    try:
        alerts = read_alerts(wh)
    finally:
        wh.close()
    outbox, now = Outbox(outbox_path), datetime.now(UTC)
    log = logging.getLogger("analytics_pipeline.notify")
    with fake_http("slack_webhook") as slack:
        slack.script = [text_reply(500, "internal_error")] * failures
        channels = configured(SlackWebhookChannel(slack.url + HOOK))
        result = queue_alerts(outbox, channels, alerts, kind="digest", title="Inventory alerts",
                              cooldown=timedelta(hours=24), now=now)
        deliver_due(outbox, channels, log, result=result)
        later = now + timedelta(hours=7)  # past the backoff: the retry goes through
        deliver_due(outbox, channels, log, clock=lambda: later)


def test_request_id_is_kept_or_made_and_returned(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "trace-1234abcd"})
    assert given.headers["X-Request-ID"] == "trace-1234abcd"
    made = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    unsafe = client.get("/healthz", headers={"X-Request-ID": "bob@example.com\nfake line"})
    assert unsafe.headers["X-Request-ID"] != "bob@example.com\nfake line"
    assert re.fullmatch(r"[0-9a-f]{32}", unsafe.headers["X-Request-ID"])


def test_logs_are_json_with_request_ids_and_carry_no_customer_pii(
    client: TestClient, warehouse: Path, tiny_store: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    members = client.get("/api/segments/regular/customers?page_size=50", headers=ADMIN)
    assert members.status_code == 200 and "@" in members.text  # the response has PII...
    csv_export = client.post("/api/segments/export", headers=ADMIN,
                             json={"segment": "vip", "destination": "csv"})
    assert csv_export.status_code == 200
    _export_to_fake_mailchimp(client)
    _send_digest(warehouse, warehouse.parent / "notify-pii.sqlite", failures=2)
    client.get("/api/segments/no-such-segment/customers", headers=ADMIN)
    lines = [JsonFormatter().format(record) for record in caplog.records]
    entries = [json.loads(line) for line in lines]  # ...every line is one JSON object
    access = [e for e in entries if e["logger"] == "analytics_pipeline.api.access"]
    assert any(e["route"] == "/api/segments/{segment_id}/customers" for e in access)
    assert all(re.fullmatch(r"[0-9a-f]{32}", e["request_id"]) for e in access)
    assert any(e["logger"].startswith("analytics_pipeline.notify") for e in entries)
    text = "\n".join(lines)
    leaked = [value for value in customer_pii(tiny_store) if value in text]
    assert leaked == []  # ...and no log line names a customer


def _export_to_fake_mailchimp(client: TestClient) -> None:
    fake = FakeMailchimp(key="k-us1")
    with serve(fake):
        client.app.state.export_resources = {  # type: ignore[attr-defined]
            "mailchimp": MailchimpResource(api_key="k-us1", audience_id="a1",
                                           base_url=f"{fake.url}/3.0", backoff_seconds=0.01),
            "klaviyo": KlaviyoResource(),
        }
        try:
            response = client.post("/api/segments/export", headers=ADMIN,
                                   json={"segment": "at_risk", "destination": "mailchimp"})
        finally:
            del client.app.state.export_resources  # type: ignore[attr-defined]
    assert response.status_code == 200 and response.json()["sent"] > 0
