"""GET /api/recommendations/v2/{id} and /explain against a small store's published tables."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from analytics_pipeline.api.app import create_app
from analytics_pipeline.ingest.load import load_source
from analytics_pipeline.models.recs_features import FEATURES
from analytics_pipeline.recommendations.build import publish_v2
from analytics_pipeline.recommendations.experiment import Arm
from analytics_pipeline.serving.snapshot import publish_snapshot
from analytics_pipeline.settings import Settings
from analytics_pipeline.sources import FolderSource
from analytics_pipeline.warehouse import DuckDBWarehouse
from tests.api_support import REDIS_URL, require_redis
from tests.conftest import NOW, build_models, models_reading

KEYS = "reader=read,writer=read+write"
READ = {"Authorization": "Bearer reader"}
WRITE = {"Authorization": "Bearer writer"}
URL = "/api/recommendations/v2"
EVENING = "2026-04-01T19:30:00"  # a Wednesday, 16:00-20:00 in UTC


@pytest.fixture(scope="module")
def published(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny store's recommendation tables, published as the API's snapshot."""
    root = tmp_path_factory.mktemp("recs-api")
    wh = DuckDBWarehouse(root / "warehouse.duckdb", "UTC")
    load_source(FolderSource(tiny_store), wh, NOW)
    build_models(wh, models_reading(("recommendations", "candidates"),
                                    ("recommendations", "v1_scores"),
                                    ("recommendations", "time_patterns"),
                                    ("recommendations", "owned_popular")))
    publish_v2(wh, NOW, "UTC")
    publish_snapshot(wh, root / "serving", NOW, 0)
    wh.close()
    return root


class Exposures:
    def __init__(self) -> None:
        self.logged: list[tuple[str, Arm, list[str]]] = []

    def __call__(self, customer_id: str, arm: Arm, product_ids: Any) -> None:
        self.logged.append((customer_id, arm, list(product_ids)))


def _app(root: Path, serving: Path) -> Any:
    settings = Settings.from_env({}, warehouse_url=f"duckdb:///{root / 'warehouse.duckdb'}",
                                 serving_dir=str(serving), api_keys=KEYS, redis_url=REDIS_URL)
    return create_app(settings)


@pytest.fixture
def client(published: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    require_redis()
    app = _app(published, published / "serving")
    monkeypatch.setattr(app.state.experiment, "log_exposure", Exposures())
    with TestClient(app) as test_client:
        yield test_client


def _sql(root: Path, sql: str, params: dict[str, object] | None = None) -> list[Any]:
    wh = DuckDBWarehouse(root / "warehouse.duckdb", "UTC", read_only=True)
    try:
        return wh.fetch_all(sql, params)
    finally:
        wh.close()


def _customer(root: Path, client: TestClient, arm: Arm) -> str:
    experiment = client.app.state.experiment  # type: ignore[attr-defined]
    for (customer,) in _sql(root, "SELECT DISTINCT customer_id FROM recommendations.v2_scores "
                                  "ORDER BY 1 LIMIT 200"):
        if experiment.arm_for(customer) == arm:
            return str(customer)
    raise AssertionError(f"no customer in arm {arm}")


def test_v2_arm_list_is_reranked_for_the_time_and_logged(
    client: TestClient, published: Path
) -> None:
    customer = _customer(published, client, "v2")
    body = client.get(f"{URL}/{customer}?limit=5&context_time={EVENING}", headers=READ).json()
    assert body["arm"] == "v2" and not body["pinned"] and body["hours"] == "16:00-20:00"
    assert [item["rank"] for item in body["items"]] == [1, 2, 3, 4, 5]
    first = body["items"][0]
    stored, segment = _sql(published, "SELECT confidence, segment FROM recommendations.v2_scores"
                                      " WHERE customer_id = $c AND product_id = $p",
                           {"c": customer, "p": first["product_id"]})[0]
    lift = _sql(published, "SELECT lift FROM recommendations.time_patterns WHERE segment = $s "
                           "AND category = $c AND day_type = 'weekday' AND daypart = 4",
                {"s": segment, "c": first["category"]})
    expected = min(1.0, stored * (lift[0][0] if lift else 1.0))
    assert first["confidence"] == pytest.approx(expected)
    confidences = [item["confidence"] for item in body["items"]]
    assert confidences == sorted(confidences, reverse=True)
    logged = client.app.state.experiment.log_exposure.logged  # type: ignore[attr-defined]
    assert logged == [(customer, "v2", [item["product_id"] for item in body["items"]])]


def test_cached_answers_are_still_logged(client: TestClient, published: Path) -> None:
    customer = _customer(published, client, "v1")
    first = client.get(f"{URL}/{customer}?context_time={EVENING}", headers=READ)
    again = client.get(f"{URL}/{customer}?context_time=2026-04-01T17:05:00", headers=READ)
    assert first.content == again.content  # same 4-hour window: one cache entry
    assert first.json()["arm"] == "v1"
    logged = client.app.state.experiment.log_exposure.logged  # type: ignore[attr-defined]
    assert len(logged) == 2 and logged[0] == logged[1]


def test_pinning_the_arm_needs_write_and_is_not_logged(
    client: TestClient, published: Path
) -> None:
    customer = _customer(published, client, "v2")
    assert client.get(f"{URL}/{customer}?variant=v1", headers=READ).status_code == 403
    body = client.get(f"{URL}/{customer}?variant=v1", headers=WRITE).json()
    assert body["arm"] == "v1" and body["pinned"]
    stored = _sql(published, "SELECT product_id FROM recommendations.v1_scores "
                             "WHERE customer_id = $c ORDER BY rank LIMIT 10", {"c": customer})
    assert [item["product_id"] for item in body["items"][:len(stored)]] == [
        p for (p,) in stored]
    assert client.app.state.experiment.log_exposure.logged == []  # type: ignore[attr-defined]


def test_unknown_customer_gets_best_sellers(client: TestClient, published: Path) -> None:
    body = client.get(f"{URL}/never-seen?limit=3", headers=READ).json()
    popular = _sql(published, "SELECT product_id FROM recommendations.popular ORDER BY rank "
                              "LIMIT 3")
    assert [item["product_id"] for item in body["items"]] == [p for (p,) in popular]
    assert {item["source"] for item in body["items"]} == {"popular"}
    assert all(0 <= item["confidence"] <= 1 for item in body["items"])


def test_top_up_skips_best_sellers_the_customer_owns(
    client: TestClient, published: Path
) -> None:
    # v1 keeps at most 20 per customer, so 30 always needs a top-up (v2 shares the query).
    owner, owned = _sql(published, "SELECT customer_id, product_id FROM "
                                   "recommendations.owned_popular ORDER BY 1, 2 LIMIT 1")[0]
    body = client.get(f"{URL}/{owner}?limit=30&variant=v1", headers=WRITE).json()
    filled = [item["product_id"] for item in body["items"] if item["source"] == "popular"]
    assert filled and owned not in filled


def test_explain_adds_up_to_the_score(client: TestClient, published: Path) -> None:
    customer = _customer(published, client, "v1")  # explain always shows v2's reasons
    body = client.get(f"{URL}/{customer}/explain?limit=3&context_time={EVENING}",
                      headers=READ).json()
    assert not body["cold_start"] and len(body["items"]) == 3
    (intercept,) = _sql(published, "SELECT weight FROM recommendations.v2_model "
                                   "WHERE feature = '(intercept)'")[0]
    for item in body["items"]:
        (score,) = _sql(published, "SELECT score FROM recommendations.v2_scores WHERE "
                                   "customer_id = $c AND product_id = $p",
                        {"c": customer, "p": item["product_id"]})[0]
        parts = {s["signal"]: s for s in item["signals"]}
        assert set(parts) == {*FEATURES, "time_of_day"}
        total = intercept + sum(parts[f]["contribution"] for f in FEATURES)
        assert total == pytest.approx(score)
        assert parts["time_of_day"]["contribution"] == pytest.approx(
            math.log(parts["time_of_day"]["value"]))
        assert item["summary"].startswith("Recommended")
        assert all(s["sentence"] for s in item["signals"])


def test_explain_for_an_unknown_customer_is_cold_start(client: TestClient) -> None:
    body = client.get(f"{URL}/never-seen/explain?limit=2", headers=READ).json()
    assert body["cold_start"]
    assert all("best-sellers" in item["summary"] for item in body["items"])


@pytest.mark.parametrize("when", ["yesterday-ish", "0001-01-01T00:00:00%2B14:00"])
def test_bad_context_time_is_a_422_naming_it(client: TestClient, when: str) -> None:
    response = client.get(f"{URL}/c1?context_time={when}", headers=READ)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "context_time"]


def test_snapshot_without_recommendation_tables_is_409(
    published: Path, tmp_path: Path
) -> None:
    require_redis()
    old = DuckDBWarehouse(tmp_path / "old.duckdb", "UTC")
    old.execute("CREATE SCHEMA ingest")
    old.execute("CREATE TABLE ingest.products (product_id VARCHAR, name VARCHAR)")
    publish_snapshot(old, tmp_path / "serving", NOW, 0)
    old.close()
    with TestClient(_app(published, tmp_path / "serving")) as client:
        response = client.get(f"{URL}/c1", headers=READ)
    assert response.status_code == 409
    assert "recommendations." in response.json()["detail"]


def test_reads_need_a_key(client: TestClient) -> None:
    assert client.get(f"{URL}/c1").status_code == 401
    assert dt.datetime.fromisoformat(
        client.get(f"{URL}/c1", headers=READ).json()["data_as_of"]) == NOW
