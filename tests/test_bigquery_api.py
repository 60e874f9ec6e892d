"""The API on a BigQuery warehouse, against a local fake of BigQuery's REST API.

The fake (``tests/bigquery_fake.py``) answers ``tables.get`` and ``jobs.query`` in
BigQuery's wire format from the DuckDB snapshot of the same run, so every endpoint's
answer on "BigQuery" can be compared with its answer from the snapshot, and every query
that reached "BigQuery" can be inspected for bound parameters.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from analytics_pipeline.api import segments_refresh
from analytics_pipeline.api.app import create_app
from analytics_pipeline.serving.bigquery_reader import publish_bigquery
from analytics_pipeline.serving.snapshot import Publication, current_publication
from analytics_pipeline.settings import Settings, SettingsError
from analytics_pipeline.warehouse.bigquery_warehouse import BigQueryWarehouse
from tests.api_support import REDIS_URL, materialize, require_redis
from tests.bigquery_fake import FakeBigQuery, serve
from tests.conftest import NOW

AS_OF = "2026-03-31T15:00:00"
READ = {"Authorization": "Bearer reader"}
WRITE = {"Authorization": "Bearer writer"}
ADMIN = {"Authorization": "Bearer admin"}
BQ_URL = "bigquery://my-project/retail"
# GET endpoints without path parameters whose answers must be the same on both readers.
COMPARED = ("/api/revenue/current", "/api/revenue/trends", "/api/revenue/products/top",
            "/api/revenue/customers/ltv", "/api/inventory/turnover", "/api/inventory/reorder",
            "/api/segments/list", "/api/segments/performance")


@dataclass
class Published:
    warehouse: Path
    snapshot: Path


@pytest.fixture(scope="module")
def published(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Published:
    warehouse = tmp_path_factory.mktemp("bq_api") / "warehouse.duckdb"
    materialize(tiny_store, warehouse, AS_OF)
    publication = current_publication(warehouse.parent / "serving")
    assert publication is not None
    return Published(warehouse, _one_file(publication, warehouse.parent / "bigquery.duckdb"))


def _one_file(publication: Publication, target: Path) -> Path:
    """The publication's main file and parts as one file, a schema per dataset: the fake
    stands for one BigQuery project, where every domain is a dataset of its own."""
    shutil.copyfile(publication.main, target)
    with duckdb.connect(str(target)) as conn:
        for schema, part in publication.parts.items():
            conn.execute(f"ATTACH '{part}' AS part (READ_ONLY)")
            conn.execute(f"CREATE SCHEMA {schema}")
            for (table,) in conn.execute("SELECT table_name FROM duckdb_tables() "
                                         "WHERE database_name = 'part'").fetchall():
                conn.execute(f"CREATE TABLE {schema}.{table} AS SELECT * FROM part.main.{table}")
            conn.execute("DETACH part")
    return target


def _settings(url: str, published: Published) -> Settings:
    return Settings.from_env({}, warehouse_url=url,
                             api_keys="reader=read,admin=read+pii,writer=read+write",
                             redis_url=REDIS_URL, live_db=published.warehouse.parent /
                             "live.sqlite", serving_dir=published.warehouse.parent / "serving")


@contextmanager
def _fake_bigquery(snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBigQuery]:
    """The fake serving ``snapshot``; every ``bigquery.Client`` made meanwhile talks to it."""
    state = FakeBigQuery(snapshot=snapshot, dataset="retail")
    server, base_url = serve(state)
    real_client = bigquery.Client

    def client(project: str) -> bigquery.Client:
        anonymous = AnonymousCredentials()  # type: ignore[no-untyped-call]
        return real_client(project=project, credentials=anonymous,
                           client_options=ClientOptions(api_endpoint=base_url))

    monkeypatch.setattr(bigquery, "Client", client)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake(published: Published, monkeypatch: pytest.MonkeyPatch,
         tmp_path: Path) -> Iterator[FakeBigQuery]:
    monkeypatch.chdir(tmp_path)  # files the API keeps beside a BigQuery warehouse: here
    require_redis()
    with _fake_bigquery(published.snapshot, monkeypatch) as state:
        yield state


def _medians(body: Any) -> list[float]:
    """Pop the top-level ``median_*`` figures: BigQuery has no exact median aggregate, its
    ``APPROX_QUANTILES`` may pick a neighbouring value (docs/bigquery.md)."""
    if not isinstance(body, dict):
        return []
    return [float(body.pop(key)) for key in sorted(body) if key.startswith("median")
            and body[key] is not None]


def _get(client: TestClient, path: str) -> Any:
    response = client.get(f"{path}?as_of={AS_OF}", headers=READ)
    assert response.status_code == 200, f"{path}: {response.text}"
    return response.json()


def test_nothing_published_is_not_ready(fake: FakeBigQuery, published: Published) -> None:
    with TestClient(create_app(_settings(BQ_URL, published))) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert client.get(f"/api/revenue/current?as_of={AS_OF}",
                          headers=READ).status_code == 503
    assert fake.queries == []


def test_answers_equal_the_snapshot_and_values_are_bound(
    fake: FakeBigQuery, published: Published
) -> None:
    fake.published_ms = int(time.time() * 1000)
    with TestClient(create_app(_settings(BQ_URL, published))) as on_bigquery, \
            TestClient(create_app(_settings(f"duckdb:///{published.warehouse}",
                                            published))) as on_duckdb:
        ready = on_bigquery.get("/readyz").json()
        assert str(ready["snapshot"]).startswith("bigquery-my-project.retail-"), ready
        for path in COMPARED:
            big, duck = _get(on_bigquery, path), _get(on_duckdb, path)
            assert _medians(big) == pytest.approx(_medians(duck), rel=0.01), path
            assert big == duck, path
    assert fake.queries
    for query in fake.queries:
        assert "$" not in query.sql
        assert "`my-project`.retail_" in query.sql
        # Every @name in the SQL travels as a typed parameter; no other is sent.
        assert set(re.findall(r"@([a-z_]+)", query.sql)) == query.parameters.keys()
        for kind, value in query.parameters.values():
            assert kind.removeprefix("ARRAY<").rstrip(">") in {
                "STRING", "DATE", "TIMESTAMP", "INT64", "FLOAT64", "NUMERIC", "BOOL"}
            if kind in {"DATE", "TIMESTAMP"}:
                assert value not in query.sql


def test_every_read_endpoint_runs_on_bigquery(fake: FakeBigQuery, published: Published) -> None:
    fake.published_ms = int(time.time() * 1000)
    app = create_app(_settings(BQ_URL, published))
    values = {"product_id": "p00007", "segment_id": "vip", "customer_id": "c00001"}
    failed: dict[str, str] = {}
    with TestClient(app) as client:
        for path, operations in app.openapi()["paths"].items():
            if "get" not in operations or path.startswith(("/static", "/api/live")):
                continue
            url = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), path)
            # Every endpoint's SQL must reach BigQuery and come back (a query BigQuery
            # rejects would surface as a 500).
            response = client.get(f"{url}?as_of={AS_OF}", headers=ADMIN)
            if response.status_code != 200:
                failed[url] = f"{response.status_code} {response.text[:200]}"
    assert not failed, failed
    assert len({q.sql for q in fake.queries}) >= 10


def test_redis_answers_repeats_until_a_new_publication(
    fake: FakeBigQuery, published: Published
) -> None:
    fake.published_ms = int(time.time() * 1000) - 5_000
    path = "/api/revenue/products/top"
    app = create_app(_settings(BQ_URL, published))
    with TestClient(app) as client:
        first = _get(client, path)
        asked = len(fake.queries)
        assert asked > 0
        assert _get(client, path) == first
        assert len(fake.queries) == asked  # the repeat came from Redis
        fake.published_ms += 1_000  # a run published: the cache key changes
        app.state.service.reader.refresh(force=True)
        assert _get(client, path) == first
        assert len(fake.queries) > asked


def test_segments_refresh_re_keys_cached_segment_answers(
    published: Published, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    require_redis()
    snapshot = tmp_path / "bigquery.duckdb"  # the refresh writes: not the shared snapshot
    shutil.copyfile(published.snapshot, snapshot)

    def rebuild(warehouse: object, *_args: object) -> dict[str, int]:
        # The fake runs queries, not the models' DDL and load jobs; the rebuild's effect
        # on the served tables stands in for them: every regular customer is now a VIP.
        assert isinstance(warehouse, BigQueryWarehouse)
        with duckdb.connect(str(snapshot)) as conn:
            conn.execute("UPDATE segments.customer_segments SET segments = 'vip' "
                         "WHERE segments = ''")
        return {}

    monkeypatch.setattr(segments_refresh, "_rebuild", rebuild)
    path = "/api/segments/list"
    with _fake_bigquery(snapshot, monkeypatch) as fake, \
            TestClient(create_app(_settings(BQ_URL, published))) as client:
        fake.published_ms = int(time.time() * 1000) - 5_000
        before = _get(client, path)
        asked = len(fake.queries)
        assert _get(client, path) == before and len(fake.queries) == asked  # from Redis
        refreshed = client.post("/api/segments/refresh", headers=WRITE)
        assert refreshed.status_code == 200, refreshed.text
        after = _get(client, path)
    assert len(fake.queries) > asked + 1  # the refresh's UPDATE, then the answer anew
    assert any(q.sql.startswith("UPDATE `my-project`.retail_serving.manifest")
               for q in fake.queries)
    counts = [{s["id"]: s["customers"] for s in body["segments"]} for body in (before, after)]
    assert counts[0]["regular"] > 0 and counts[1].get("regular", 0) == 0
    assert counts[1]["vip"] == counts[0]["vip"] + counts[0]["regular"]
    # The batch stays the same: only the publication time moved.
    manifests = []
    for copy in (snapshot, published.snapshot):
        with duckdb.connect(str(copy), read_only=True) as conn:
            manifests.append(conn.execute(
                "SELECT as_of, live_watermark FROM main.manifest").fetchall())
    assert manifests[0] == manifests[1]


def test_missing_credentials_are_a_clear_error(
    published: Published, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("NO_GCE_CHECK", "true")  # no metadata server probe off Google Cloud
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(published.warehouse.parent / "no-gcloud"))
    with pytest.raises(SettingsError, match="needs Google credentials"):
        create_app(_settings(BQ_URL, published))


LISTED = {"retail_revenue": [("daily_sales", "TABLE"), ("by_day", "VIEW")],
          "retail_ingest": [("orders", "TABLE"), ("products", "TABLE")],
          "retail_serving": [("manifest", "TABLE")], "other_revenue": [("x", "TABLE")]}


class _ListingClient:
    """The two listing calls publication makes, over the datasets and tables of LISTED."""

    def list_datasets(self, project: str) -> list[SimpleNamespace]:
        assert project == "my-project"
        return [SimpleNamespace(dataset_id=name, reference=name) for name in LISTED]

    def list_tables(self, dataset: str) -> list[SimpleNamespace]:
        return [SimpleNamespace(table_id=t, table_type=k) for t, k in LISTED[dataset]]


def test_publication_lists_served_tables_then_writes_the_manifest(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = BigQueryWarehouse(_ListingClient(), "my-project", "retail", "UTC")  # type: ignore[arg-type]
    loads: list[tuple[str, str, pa.Table]] = []

    def load(domain: str, table: str, batches: pa.RecordBatchReader) -> int:
        loads.append((domain, table, batches.read_all()))
        return 0

    monkeypatch.setattr(wh, "load_arrow", load)
    assert publish_bigquery(wh, NOW, 7) == 2
    assert [(d, t) for d, t, _ in loads] == [("serving", "published_tables"),
                                             ("serving", "manifest")]  # manifest last
    # Raw tables stay unserved except the catalogue; views, the serving dataset and other
    # prefixes' datasets are not listed.
    served = {(r["table_schema"], r["table_name"]) for r in loads[0][2].to_pylist()}
    assert served == {("revenue", "daily_sales"), ("ingest", "products")}
    (manifest,) = loads[1][2].to_pylist()
    assert (manifest["as_of"], manifest["live_watermark"]) == (NOW, 7)
