"""Segments on the generated tiny store: the SQL against independent pandas computations
over the loaded tables, and the segments against the generator's ground truth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics_pipeline.ingest.load import load_source
from analytics_pipeline.models.clusters import ClusterConfig
from analytics_pipeline.models.clusters_sql import write_clusters
from analytics_pipeline.sources import FolderSource
from analytics_pipeline.warehouse import DuckDBWarehouse
from tests.conftest import NOW, build_models

AS_OF_DAY = NOW.date()


@pytest.fixture(scope="module")
def store(
    tiny_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DuckDBWarehouse]:
    wh = DuckDBWarehouse(tmp_path_factory.mktemp("segments") / "tiny.duckdb", "UTC")
    load_source(FolderSource(tiny_store), wh, NOW)
    build_models(wh)
    yield wh
    wh.close()


@pytest.fixture(scope="module")
def purchases(store: DuckDBWarehouse) -> pd.DataFrame:
    """Completed orders up to as_of with a customer: net revenue, UTC day, purchase or not."""
    lines = store.fetch_df(
        "SELECT order_id, quantity, unit_price, discount FROM ingest.order_lines")
    orders = store.fetch_df("SELECT order_id, customer_id, ordered_at, status FROM ingest.orders")
    orders = orders[(orders["status"] == "completed") & orders["customer_id"].notna()
                    & (orders["ordered_at"] <= pd.Timestamp(NOW))]
    lines = lines.astype({"unit_price": float, "discount": float})
    lines["revenue"] = (lines["quantity"] * lines["unit_price"]
                        - np.sign(lines["quantity"]) * lines["discount"])
    lines["sold"] = lines["quantity"] > 0
    per_order = lines.groupby("order_id").agg(revenue=("revenue", "sum"), purchase=("sold", "any"))
    out = orders.join(per_order, on="order_id", how="inner")
    out["day"] = out["ordered_at"].dt.tz_convert("UTC").dt.date
    return out


def ntile_scores(values: pd.Series, ascending: bool) -> pd.Series:
    """NTILE(5) over ``values`` sorted, then the lowest tile each distinct value reaches."""
    n = len(values)
    sizes = [n // 5 + (1 if k < n % 5 else 0) for k in range(5)]
    ordered = values.sort_values(ascending=ascending, kind="stable")
    tiles = pd.Series(np.repeat(np.arange(1, 6), sizes), index=ordered.index)
    return tiles.groupby(values).transform("min")


def test_rfm_matches_pandas(store: DuckDBWarehouse, purchases: pd.DataFrame) -> None:
    bought = purchases[purchases["purchase"]]
    expected = pd.DataFrame({
        "recency_days": bought.groupby("customer_id")["day"].max().map(
            lambda d: (AS_OF_DAY - d).days),
        "frequency": bought.groupby("customer_id").size(),
        "monetary": purchases.groupby("customer_id")["revenue"].sum(),
    }).dropna(subset=["frequency"])
    expected["r_score"] = ntile_scores(expected["recency_days"], ascending=False)
    expected["f_score"] = ntile_scores(expected["frequency"], ascending=True)
    expected["m_score"] = ntile_scores(expected["monetary"].round(4), ascending=True)
    got = store.fetch_df("SELECT * FROM segments.rfm").set_index("customer_id").sort_index()
    expected = expected.sort_index()
    assert list(got.index) == list(expected.index)
    for column in ("recency_days", "frequency", "r_score", "f_score", "m_score"):
        assert (got[column].to_numpy() == expected[column].to_numpy()).all(), column
    assert got["monetary"].astype(float).to_numpy() == pytest.approx(expected["monetary"])
    assert (got["rfm_cell"] == got["r_score"].astype(str) + got["f_score"].astype(str)
            + got["m_score"].astype(str)).all()


def test_rfm_scores_tie_equal_values_and_cover_quintiles(store: DuckDBWarehouse) -> None:
    rfm = store.fetch_df("SELECT * FROM segments.rfm")
    for value, score in (("recency_days", "r_score"), ("frequency", "f_score"),
                         ("monetary", "m_score")):
        assert (rfm.groupby(value)[score].nunique() == 1).all()
        assert rfm[score].between(1, 5).all() and rfm[score].max() == 5
    # Recent customers score high on R: the most recent value has the top score.
    assert rfm.loc[rfm["recency_days"].idxmin(), "r_score"] == 5
    assert set(rfm["rfm_segment"]) <= {
        "Champions", "Loyal customers", "Potential loyalists", "New customers", "Promising",
        "Need attention", "About to sleep", "At risk", "Cannot lose them", "Hibernating"}


def test_clv_inputs_match_pandas(store: DuckDBWarehouse, purchases: pd.DataFrame) -> None:
    days = (purchases[purchases["purchase"]].groupby(["customer_id", "day"])["revenue"].sum()
            .reset_index().sort_values(["customer_id", "day"]))
    days["occasion"] = days.groupby("customer_id").cumcount()
    days["gap"] = days.groupby("customer_id")["day"].diff().map(
        lambda g: g.days if pd.notna(g) else np.nan)
    by = days.groupby("customer_id")
    first, last = by["day"].min(), by["day"].max()
    gaps = by["gap"]
    expected = pd.DataFrame({
        "frequency": by.size() - 1,
        "t_x_days": (last - first).map(lambda d: d.days),
        "tenure_days": first.map(lambda d: (AS_OF_DAY - d).days),
        "monetary_value": days[days["occasion"] > 0].groupby("customer_id")["revenue"].mean(),
        "gap_cv": (gaps.std(ddof=0) / gaps.mean()).where(gaps.count() >= 2),
    })
    got = store.fetch_df("SELECT * FROM segments.clv_inputs").set_index("customer_id")
    got, expected = got.sort_index(), expected.sort_index()
    assert list(got.index) == list(expected.index)
    for column in ("frequency", "t_x_days", "tenure_days"):
        assert (got[column].to_numpy() == expected[column].to_numpy()).all(), column
    for column in ("monetary_value", "gap_cv"):
        assert got[column].to_numpy() == pytest.approx(expected[column].to_numpy(), nan_ok=True)


def test_customer_clv_is_fitted_on_the_store(store: DuckDBWarehouse) -> None:
    clv = store.fetch_df("SELECT * FROM segments.customer_clv")
    assert (clv["clv_method"] == "bgnbd_gamma_gamma").all()
    assert clv["predicted_clv"].notna().all() and (clv["predicted_clv"] >= 0).all()
    assert clv["p_alive"].between(0, 1).all()


def test_lapsed_segments_find_the_true_churners(
    store: DuckDBWarehouse, tiny_store: Path, record_property: pytest.RecordProperty
) -> None:
    truth = pd.read_csv(tiny_store.parent / "tiny_truth" / "customer_churn.csv")
    seg = store.fetch_df("SELECT * FROM segments.customer_segments").merge(truth, on="customer_id")
    churned = ~seg["alive_at_end"]
    flagged = seg["is_at_risk"] | seg["is_inactive"]
    precision = (flagged & churned).sum() / flagged.sum()
    recall = (flagged & churned).sum() / churned.sum()
    record_property("churn_precision", round(float(precision), 3))
    record_property("churn_recall", round(float(recall), 3))
    print(f"At-risk + Inactive vs true churners: precision {precision:.3f}, recall {recall:.3f}"
          f" ({churned.sum()} churned of {len(seg)})")
    # Measured 0.74 / 0.83 (seed 7); a customer who churned last week cannot be told from
    # one between purchases, and slow buyers who are alive look lapsed.
    assert precision >= 0.65 and recall >= 0.75
    # The primary segment keeps the picture: churners are mostly inactive or at risk.
    lapsed = seg.loc[churned, "primary_segment"].isin(["inactive", "at_risk"]).mean()
    assert lapsed >= 0.7


def test_affinity_segments_agree_with_true_tastes(
    store: DuckDBWarehouse, tiny_store: Path
) -> None:
    truth = pd.read_csv(tiny_store.parent / "tiny_truth" / "product_affinity.csv")
    seg = store.fetch_df("SELECT customer_id, affinity_category FROM segments.customer_segments"
                         " WHERE affinity_category IS NOT NULL")
    liked = set(zip(truth["customer_id"], truth["category"], strict=True))
    hits = np.mean([(c, k) in liked for c, k in zip(seg["customer_id"], seg["affinity_category"],
                                                     strict=True)])
    assert len(seg) > 20 and hits >= 0.8


def test_clusters_on_the_store(store: DuckDBWarehouse) -> None:
    clustering = write_clusters(store, ClusterConfig(k_min=3, k_max=6))
    assert 3 <= clustering.k <= 6 and set(clustering.silhouettes) == set(range(3, 7))
    assert clustering.silhouettes[clustering.k] == max(clustering.silhouettes.values())
    table = store.fetch_df("SELECT c.*, v.predicted_clv FROM segments.clusters AS c"
                           " JOIN segments.customer_clv AS v USING (customer_id)")
    assert len(table) == len(store.fetch_df("SELECT customer_id FROM segments.rfm"))
    # Numbered by value: cluster 1 has the highest mean predicted CLV.
    means = table.groupby("cluster_id")["predicted_clv"].mean()
    assert list(means.index) == list(range(1, clustering.k + 1))
    assert means.is_monotonic_decreasing
    assert table.groupby("cluster_id")["cluster_label"].nunique().eq(1).all()
    assert table["cluster_label"].nunique() == clustering.k
    assert "recent" in table.loc[table["cluster_id"] == 1, "cluster_label"].iloc[0]

