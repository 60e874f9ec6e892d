"""The recommendation SQL models on a hand-made store, and v1/v2/evaluation on the tiny one."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlglot

from analytics_pipeline.ingest.load import load_source
from analytics_pipeline.models.recs_features import FEATURES
from analytics_pipeline.recommendations.build import (
    HORIZON,
    V2Config,
    build_at,
    customer_ranges,
    labelled_candidates,
    publish_v2,
)
from analytics_pipeline.recommendations.evaluate import evaluate_recs
from analytics_pipeline.sources import FolderSource
from analytics_pipeline.warehouse import DuckDBWarehouse
from analytics_pipeline.warehouse.dialect import to_bigquery
from tests.conftest import NOW, build_models, models_reading, write_folder

EARLY = "2026-03-01T10:00:00"
LATE = "2026-03-20T10:00:00"


def _store() -> dict[str, str]:
    """c1..c10 buy p1+p2 together, c11..c20 buy p3 (c11..c15 again later), c21 buys p1 and
    then views and carts p4 and views the out-of-stock p5."""
    orders = ["order_id,customer_id,ordered_at,channel,status"]
    lines = ["order_id,line_number,product_id,quantity,unit_price,discount,unit_cost"]
    for i in range(1, 11):
        orders.append(f"o{i},c{i},{EARLY},online,completed")
        lines += [f"o{i},1,p1,1,10.00,0,4.00", f"o{i},2,p2,1,5.00,0,2.00"]
    for i in range(11, 21):
        orders.append(f"o{i},c{i},{EARLY},store,completed")
        lines.append(f"o{i},1,p3,1,3.00,0,1.00")
    for i in range(11, 16):
        orders.append(f"r{i},c{i},{LATE},store,completed")
        lines.append(f"r{i},1,p3,1,3.00,0,1.00")
    orders.append(f"o21,c21,{EARLY},online,completed")
    lines.append("o21,1,p1,1,10.00,0,4.00")
    customers = ["customer_id,email,first_name,last_name,created_at,marketing_opt_in"] + [
        f"c{i},,,,2026-01-01,false" for i in range(1, 22)]
    return {
        "products.csv": "product_id,name,category,unit_cost,unit_price,lead_time_days,supplier\n"
                        "p1,Kettle,kitchen,4,10,5,a\np2,Filter,kitchen,2,5,5,a\n"
                        "p3,Tea,grocery,1,3,5,b\np4,Teapot,kitchen,6,20,5,a\n"
                        "p5,Mug,kitchen,2,6,5,a\n",
        "customers.csv": "\n".join(customers) + "\n",
        "orders.csv": "\n".join(orders) + "\n",
        "order_lines.csv": "\n".join(lines) + "\n",
        "inventory.csv": "product_id,as_of,on_hand,on_order,location_id\n"
                         "p4,2026-03-30,3,0,main\np5,2026-03-30,0,0,main\n",
        "events.csv": "event_id,customer_id,event_type,product_id,content_id,occurred_at,"
                      "session_id\n"
                      "e1,c21,product_view,p4,,2026-03-25T09:00:00,s1\n"
                      "e2,c21,cart_add,p4,,2026-03-25T09:01:00,s1\n"
                      "e3,c21,product_view,p5,,2026-03-25T09:02:00,s1\n"
                      "e4,c21,content_view,,k1,2026-03-26T09:00:00,s2\n",
        "content.csv": "content_id,title,kind,product_ids,category\n"
                       "k1,Brewing,article,p4,kitchen\n",
    }


@pytest.fixture
def hand_made(tmp_path: Path) -> Iterator[DuckDBWarehouse]:
    wh = DuckDBWarehouse(tmp_path / "wh.duckdb", "UTC")
    load_source(FolderSource(write_folder(tmp_path / "store", _store())), wh, NOW)
    build_models(wh, models_reading(("recommendations", "candidates"),
                                    ("recommendations", "v1_scores")))
    yield wh
    wh.close()


def _rows(wh: DuckDBWarehouse, sql: str) -> list[tuple[object, ...]]:
    return wh.fetch_all(sql)


def _flags(wh: DuckDBWarehouse, table: str) -> dict[str, bool]:
    rows = wh.fetch_all(f"SELECT product_id, is_repeat FROM {table}")
    return {str(product): bool(flag) for product, flag in rows}


def test_cross_sell_rule_figures(hand_made: DuckDBWarehouse) -> None:
    rules = _rows(hand_made, "SELECT antecedent, consequent, orders, support, confidence, lift "
                             "FROM recommendations.cross_sell_rules ORDER BY 1")
    # 26 orders; p1 is in 11 of them, p2 in 10, both in 10.
    assert rules[0] == pytest.approx(("p1", "p2", 10, 10 / 26, 10 / 11, (10 / 11) / (10 / 26)))
    assert rules[1] == pytest.approx(("p2", "p1", 10, 10 / 26, 1.0, 1.0 / (11 / 26)))


def test_repeat_purchase_is_decided_from_the_data(hand_made: DuckDBWarehouse) -> None:
    flags = _flags(hand_made, "recommendations.repeat_products")
    assert flags == {"p1": False, "p2": False, "p3": True}


def test_v1_recommends_co_purchases_not_already_owned(hand_made: DuckDBWarehouse) -> None:
    v1 = _rows(hand_made, "SELECT customer_id, product_id, rank, score FROM "
                          "recommendations.v1_scores ORDER BY 1")
    # c21 bought p1 only: p2 (bought with p1 by 10 of p1's 11 buyers) is its neighbour;
    # c1..c10 own both, so nothing is left for them.
    assert v1 == [("c21", "p2", 1, pytest.approx(10 / np.sqrt(11 * 10)))]


def test_candidates_carry_engagement_and_skip_out_of_stock(hand_made: DuckDBWarehouse) -> None:
    rows = hand_made.fetch_df("SELECT * FROM recommendations.candidates WHERE customer_id = 'c21'")
    by_product = rows.set_index("product_id")
    assert "p5" not in by_product.index  # viewed, but none on hand
    assert "p1" not in by_product.index  # owned and not repeat-purchase
    teapot = by_product.loc["p4"]
    assert teapot["cart_abandoned"] == pytest.approx(np.log(2))
    assert teapot["viewed"] == pytest.approx(np.log(2))
    assert teapot["content"] == pytest.approx(np.log(2))
    assert set(FEATURES) <= set(rows.columns)


def test_staging_build_only_sees_its_cutoff(hand_made: DuckDBWarehouse) -> None:
    before_repeats = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    tables = build_at(hand_made, before_repeats, "UTC", "test", wanted=("repeat_products",))
    assert tables == {"repeat_products": "staging.test_repeat_products"}
    flags = _flags(hand_made, "staging.test_repeat_products")
    assert flags["p3"] is False  # the second purchases come after the cutoff


def test_too_little_history_publishes_empty_v2(hand_made: DuckDBWarehouse) -> None:
    model, rows = publish_v2(hand_made, NOW, "UTC")
    assert model is None and rows == 0
    assert _rows(hand_made, "SELECT count(*) FROM recommendations.v2_model") == [(0,)]


@pytest.fixture(scope="module")
def tiny(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(tmp_path_factory.mktemp("recs") / "tiny.duckdb", "UTC")
    load_source(FolderSource(tiny_store), wh, NOW)
    build_models(wh, models_reading(("recommendations", "candidates"),
                                    ("recommendations", "v1_scores")))
    return wh


def test_v2_scores_are_calibrated_and_explained(tiny: DuckDBWarehouse) -> None:
    model, rows = publish_v2(tiny, NOW, "UTC")
    assert model is not None and rows > 0
    scores = tiny.fetch_df("SELECT * FROM recommendations.v2_scores")
    assert scores["confidence"].between(0, 1).all()
    assert scores.groupby("customer_id")["rank"].max().max() <= 30
    parts = scores[[f"{f}_contribution" for f in FEATURES]].sum(axis=1)
    assert np.allclose(model.intercept + parts, scores["score"])
    # The list is ordered by score within each customer.
    first = scores[scores["customer_id"] == scores["customer_id"].iloc[0]].sort_values("rank")
    assert first["score"].is_monotonic_decreasing


def test_evaluation_compares_three_methods_on_one_split(tiny: DuckDBWarehouse) -> None:
    report = evaluate_recs(tiny, "UTC", NOW, k=10)
    assert [m.method for m in report.metrics] == ["popularity", "v1", "v2"]
    assert len({m.customers for m in report.metrics}) == 1
    for m in report.metrics:
        assert 0 <= m.ndcg <= m.hit_rate <= 1 and 0 < m.coverage <= 1
    assert report.calibration["items"].sum() > 0
    assert 0 <= report.to_dict()["calibration_error"] <= 1
    assert "HitRate@10" in report.to_text() and "calibration error" in report.to_text()
    assert report.cutoff == NOW - dt.timedelta(days=30)


def test_learning_sample_is_the_customers_first_by_md5(tiny: DuckDBWarehouse) -> None:
    cutoff = NOW - HORIZON
    table = build_at(tiny, cutoff, "UTC", "sample", wanted=("candidates",))["candidates"]
    everyone = labelled_candidates(tiny, table, cutoff, customers=1_000_000)
    sample = labelled_candidates(tiny, table, cutoff, customers=40)
    # BigQuery's TO_HEX(MD5(id)) is this hex digest too, so both engines pick these.
    first = sorted(set(everyone["customer_id"]), key=lambda c: (
        hashlib.md5(c.encode(), usedforsecurity=False).hexdigest(), c))[:40]
    assert sorted(set(sample["customer_id"])) == sorted(first)
    # Whole customers: each sampled one keeps all their candidates and labels, in order.
    pd.testing.assert_frame_equal(
        sample, everyone[everyone["customer_id"].isin(first)].reset_index(drop=True))
    assert everyone["bought"].any() and len(everyone) > len(sample)


def test_scoring_in_chunks_gives_the_one_chunk_result(tiny: DuckDBWarehouse) -> None:
    assert len(customer_ranges(tiny, "recommendations.candidates", 37)) > 5
    published = {}
    for chunk in (1_000_000, 37):
        model, rows = publish_v2(tiny, NOW, "UTC", V2Config(chunk_customers=chunk))
        published[chunk] = tiny.fetch_df("SELECT * FROM recommendations.v2_scores")
        assert model is not None and rows == len(published[chunk]) > 0
    pd.testing.assert_frame_equal(published[37], published[1_000_000])
    scores = published[37]
    assert scores["customer_id"].is_monotonic_increasing  # the parts keep customer order
    # Each customer's segment is the category of one of their strongest-affinity rows.
    strongest = scores[scores["category_affinity"]
                       == scores.groupby("customer_id")["category_affinity"].transform("max")]
    assert scores.groupby("customer_id")["segment"].nunique().max() == 1
    assert set(zip(scores["customer_id"], scores["segment"], strict=True)) <= set(
        zip(strongest["customer_id"], strongest["category"], strict=True))
    parts = _rows(tiny, "SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = 'staging' AND table_name LIKE 'recs_v2_part%'")
    assert parts == []


def test_sample_and_chunk_queries_keep_their_meaning_on_bigquery(
    tiny: DuckDBWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    for name in ("execute", "fetch_df", "fetch_all"):
        run = getattr(tiny, name)
        monkeypatch.setattr(tiny, name, lambda sql, params=None, run=run: (
            sent.append(sql), run(sql, params))[1])
    publish_v2(tiny, NOW, "UTC", V2Config(learn_customers=100, chunk_customers=100))
    translated = [s for sql in sent for s in to_bigquery(sql, "my-project", "retail")]
    for statement in translated:
        sqlglot.parse_one(statement, read="bigquery")
    (sample,) = [s for s in translated if "LIMIT @customers" in s]
    assert "ORDER BY TO_HEX(MD5(customer_id))" in sample
    (ranges,) = [s for s in translated if "@size" in s]
    assert "MOD(n, @size) = 0" in ranges
    chunks = [s for s in translated if "customer_id > @after AND customer_id <= @upto" in s]
    assert len(chunks) == len(customer_ranges(tiny, "recommendations.candidates", 100)) > 1
