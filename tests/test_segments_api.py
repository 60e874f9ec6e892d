"""``/api/segments``: the list against SQL on the warehouse, member pages behind the pii
scope, a refresh that republishes, and exports through the API."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from analytics_pipeline.exports.resources import KlaviyoResource, MailchimpResource
from analytics_pipeline.serving.snapshot import current_publication
from tests.api_support import app_client, materialize
from tests.api_support import get_json as _get
from tests.api_support import warehouse_rows as _rows
from tests.segments_fakes import FakeMailchimp, serve

AS_OF = "2026-03-31T15:00:00"
READ = {"Authorization": "Bearer reader"}
PII = {"Authorization": "Bearer analyst"}
WRITE = {"Authorization": "Bearer writer"}
ADMIN = {"Authorization": "Bearer admin"}
KEYS = "reader=read,analyst=read+pii,writer=read+write,admin=read+write+pii"


@pytest.fixture(scope="module")
def warehouse(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("segments") / "warehouse.duckdb"
    materialize(tiny_store, path, AS_OF)
    return path


@pytest.fixture(scope="module")
def client(warehouse: Path) -> Iterator[TestClient]:
    with app_client(warehouse, KEYS) as test_client:
        yield test_client


def test_list_counts_match_the_warehouse(client: TestClient, warehouse: Path) -> None:
    body = _get(client, "/api/segments/list", READ)
    by_id = {s["id"]: s for s in [*body["segments"], *body["clusters"]]}
    flags = _rows(warehouse, """SELECT count(*) FILTER (WHERE is_vip),
        count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE is_inactive),
        count(*) FILTER (WHERE is_at_risk), count(*) FILTER (WHERE is_loyalist),
        count(*) FILTER (WHERE primary_segment = 'regular'), count(*)
        FROM segments.customer_segments""")[0]
    for name, expected in zip(("vip", "new", "inactive", "at_risk", "loyalist", "regular"),
                              flags, strict=False):
        assert by_id[name]["customers"] == expected, name
    assert body["customers"] == flags[-1]
    affinity = dict(_rows(warehouse, """SELECT 'affinity:' || affinity_category, count(*)
        FROM segments.customer_segments WHERE affinity_category IS NOT NULL GROUP BY 1"""))
    assert {k: v["customers"] for k, v in by_id.items() if k.startswith("affinity:")} == affinity
    clusters = dict(_rows(warehouse, """SELECT 'cluster:' || cluster_id, count(*)
        FROM segments.clusters GROUP BY 1"""))
    assert {c["id"]: c["customers"] for c in body["clusters"]} == clusters
    assert all(c["description"] for c in body["clusters"])
    vip_share = _rows(warehouse, """SELECT 100 * sum(purchase_revenue) FILTER (WHERE is_vip)
        / sum(purchase_revenue) FROM segments.customer_segments""")[0][0]
    assert by_id["vip"]["revenue_share_pct"] == pytest.approx(float(vip_share), abs=0.01)
    assert body["currency"] == "USD" and body["data_as_of"].startswith("2026-03-31")


def test_customers_need_the_pii_scope(client: TestClient) -> None:
    assert client.get("/api/segments/vip/customers").status_code == 401
    assert client.get("/api/segments/vip/customers", headers=READ).status_code == 403
    assert client.get("/api/segments/vip/customers", headers=PII).status_code == 200


def test_customers_are_paginated_with_contact_fields(client: TestClient, warehouse: Path) -> None:
    first = _get(client, "/api/segments/regular/customers?page=1&page_size=3", PII)
    second = _get(client, "/api/segments/regular/customers?page=2&page_size=3", PII)
    assert first["total"] == second["total"] > 6
    assert len(first["customers"]) == len(second["customers"]) == 3
    ids = [c["customer_id"] for c in first["customers"] + second["customers"]]
    assert len(set(ids)) == 6 and ids == sorted(ids)
    emails = dict(_rows(warehouse, "SELECT customer_id, email FROM ingest.customers"))
    assert all(c["email"] == emails[c["customer_id"]] for c in first["customers"])
    last = (first["total"] - 1) // 3 + 1
    tail = _get(client, f"/api/segments/regular/customers?page={last}&page_size=3", PII)
    assert 1 <= len(tail["customers"]) <= 3
    assert _get(client, f"/api/segments/regular/customers?page={last + 1}&page_size=3",
                PII)["customers"] == []


def test_unknown_segments_are_404(client: TestClient) -> None:
    for segment in ("nonsense", "cluster:999", "affinity:no-such-category"):
        response = client.get(f"/api/segments/{segment}/customers", headers=PII)
        assert response.status_code == 404, segment
        assert "segment" in response.json()["detail"]


def test_refresh_needs_write_and_republishes(client: TestClient, warehouse: Path) -> None:
    assert client.post("/api/segments/refresh", headers=PII).status_code == 403
    serving = warehouse.parent / "serving"
    before = current_publication(serving)
    assert before is not None
    response = client.post("/api/segments/refresh", headers=WRITE)
    assert response.status_code == 200, response.text
    body = response.json()
    after = current_publication(serving)
    assert after is not None and after.name != before.name and body["snapshot"] == after.name
    # Only the segments part is new: the main file (and its manifest) is the same file.
    assert after.parts["segments"] != before.parts["segments"]
    assert os.path.samefile(after.main, before.main)
    manifest = "SELECT as_of, live_watermark FROM main.manifest"
    assert _rows(after, manifest) == _rows(before, manifest)  # the batch's as_of kept
    assert body["rows"]["customer_segments"] > 0 and body["rows"]["clusters"] > 0
    assert body["rows"]["segment_members"] >= body["rows"]["customer_segments"]
    assert body["data_as_of"].startswith("2026-03-31")
    listed = _get(client, "/api/segments/list", READ)
    assert listed["customers"] == body["rows"]["customer_segments"]


def test_refresh_answers_409_while_another_process_writes(
    client: TestClient, warehouse: Path
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time\n"
         f"c = duckdb.connect({str(warehouse)!r})\nprint('ready', flush=True)\n"
         "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        response = client.post("/api/segments/refresh", headers=WRITE)
        assert response.status_code == 409
        assert "Another process may be writing it" in response.json()["detail"]
    finally:
        holder.communicate(input="", timeout=30)


def test_csv_export_streams_the_consenting_members(client: TestClient, warehouse: Path) -> None:
    assert client.post("/api/segments/export", headers=WRITE,
                       json={"segment": "vip", "destination": "csv"}).status_code == 403
    response = client.post("/api/segments/export", headers=ADMIN,
                           json={"segment": "vip", "destination": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="segment-vip.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    expected = _rows(warehouse, """SELECT s.customer_id, c.email FROM segments.customer_segments
        AS s JOIN ingest.customers AS c USING (customer_id)
        WHERE s.is_vip AND c.marketing_opt_in AND c.email IS NOT NULL ORDER BY 1""")
    assert rows[0] == ["customer_id", "email", "first_name", "last_name", "segment"]
    assert [(r[0], r[1]) for r in rows[1:]] == [tuple(map(str, e)) for e in expected]
    assert {r[4] for r in rows[1:]} == {"VIP"}


def test_export_to_an_unconfigured_destination_is_422(client: TestClient) -> None:
    response = client.post("/api/segments/export", headers=ADMIN,
                           json={"segment": "vip", "destination": "klaviyo"})
    assert response.status_code == 422
    assert "ANALYTICS_KLAVIYO_API_KEY" in response.json()["detail"]


def test_mailchimp_export_through_the_api_is_resumable(
    client: TestClient, warehouse: Path
) -> None:
    fake = FakeMailchimp(key="k-us1")
    opted = _rows(warehouse, """SELECT count(*) FILTER (WHERE c.marketing_opt_in
        AND c.email IS NOT NULL), count(*) FILTER (WHERE NOT c.marketing_opt_in)
        FROM segments.customer_segments AS s JOIN ingest.customers AS c USING (customer_id)
        WHERE s.is_at_risk""")[0]
    with serve(fake):
        client.app.state.export_resources = {  # type: ignore[attr-defined]
            "mailchimp": MailchimpResource(api_key="k-us1", audience_id="a1",
                                           base_url=f"{fake.url}/3.0", backoff_seconds=0.01),
            "klaviyo": KlaviyoResource(),
        }
        try:
            request = {"segment": "at_risk", "destination": "mailchimp"}
            first = client.post("/api/segments/export", headers=ADMIN, json=request).json()
            again = client.post("/api/segments/export", headers=ADMIN, json=request).json()
        finally:
            del client.app.state.export_resources  # type: ignore[attr-defined]
    assert (first["sent"], first["skipped_opt_out"], first["failed"]) == (opted[0], opted[1], 0)
    assert (again["sent"], again["already_sent"]) == (0, opted[0])
    assert len(fake.accepted) == opted[0] and set(fake.accepted.values()) == {1}
