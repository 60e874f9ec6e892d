"""Local k-means clusters when customers outnumber the fitting sample: the candidates are
fitted on the sample and every customer is assigned to the winner's nearest centroid, in
the warehouse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from analytics_pipeline.models.clusters import ClusterConfig, KMeansFit, Scaling
from analytics_pipeline.models.clusters_sql import assigned, write_clusters
from analytics_pipeline.warehouse import DuckDBWarehouse
from analytics_pipeline.warehouse.dialect import to_bigquery


def _planted(per_group: int, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """Three obvious groups: lapsed one-timers, occasional mid spenders, frequent VIPs."""
    rng = np.random.default_rng(seed)
    groups = np.repeat([0, 1, 2], per_group)
    recency = np.array([400.0, 90.0, 5.0])[groups] * rng.uniform(0.8, 1.2, groups.size)
    frequency = np.array([1.0, 4.0, 30.0])[groups] + rng.integers(0, 2, groups.size)
    monetary = np.array([30.0, 300.0, 5000.0])[groups] * rng.uniform(0.8, 1.2, groups.size)
    frame = pd.DataFrame({
        "customer_id": [f"c{i:06d}" for i in range(groups.size)],
        "recency_days": recency.round().astype(np.int64),
        "frequency": frequency.astype(np.int64), "monetary": monetary,
        "predicted_clv": monetary * frequency / 10,
    })
    return frame, groups


def _warehouse(path: Path, frame: pd.DataFrame) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(path, "UTC")
    wh.ensure_schema("segments")
    for table, columns in (("rfm", ["customer_id", "recency_days", "frequency", "monetary"]),
                           ("customer_clv", ["customer_id", "predicted_clv"])):
        arrow = pa.Table.from_pandas(frame[columns], preserve_index=False)
        wh.load_arrow("segments", table, pa.RecordBatchReader.from_batches(
            arrow.schema, arrow.to_batches()))
    return wh


def test_sample_fit_assigns_everyone_to_the_planted_groups(tmp_path: Path) -> None:
    frame, groups = _planted(per_group=12_000)  # 36,000 customers, 20,000 fitted
    wh = _warehouse(tmp_path / "w.duckdb", frame)
    result = write_clusters(wh, ClusterConfig(k_min=2, k_max=5, sample_size=20_000))
    assert result.k == 3 and result.customers == len(frame)
    table = wh.fetch_df("SELECT * FROM segments.clusters ORDER BY customer_id")
    assert table["customer_id"].tolist() == frame["customer_id"].tolist()
    found = pd.crosstab(groups, table["cluster_id"].to_numpy())
    assert (found.max(axis=1) == 12_000).all()  # each planted group is one whole cluster
    # Numbered by value: the VIP group is cluster 1, the one-timers cluster 3.
    assert found.idxmax(axis=1).tolist() == [3, 2, 1]
    labels = dict(zip(result.profiles["cluster_id"], result.profiles["cluster_label"],
                      strict=True))
    assert labels[1] == "frequent, high-spend, recent, high predicted value"
    assert labels[3].startswith("infrequent, low-spend, lapsed")
    assert result.profiles["customers"].tolist() == [12_000] * 3
    assert result.profiles.loc[0, "median_frequency"] >= 30
    assert (table["cluster_label"] == table["cluster_id"].map(labels)).all()


def test_same_input_gives_the_same_clusters(tmp_path: Path) -> None:
    frame, _ = _planted(per_group=8_000)
    wh = _warehouse(tmp_path / "w.duckdb", frame)
    config = ClusterConfig(k_min=2, k_max=4, sample_size=10_000)
    runs = []
    for _ in range(2):
        write_clusters(wh, config)
        runs.append(wh.fetch_df("SELECT * FROM segments.clusters ORDER BY customer_id"))
    pd.testing.assert_frame_equal(runs[0], runs[1])


def test_without_predicted_value_for_everyone_rfm_alone_is_clustered(tmp_path: Path) -> None:
    frame, _ = _planted(per_group=500)
    frame.loc[0, "predicted_clv"] = np.nan  # too few repeat customers for some: no CLV
    result = write_clusters(_warehouse(tmp_path / "w.duckdb", frame),
                            ClusterConfig(k_min=2, k_max=4))
    assert "median_predicted_clv" not in result.profiles
    assert result.customers == len(frame)


@pytest.mark.parametrize("distances", [[3.0, 1.0, 1.0, 2.0], [0.5, 0.5, 9.0, 0.5],
                                       [4.0, 3.0, 2.0, 1.0]])
def test_the_sql_nearest_centroid_is_numpy_argmin(tmp_path: Path,
                                                  distances: list[float]) -> None:
    # One customer with every standardized feature 0 sits at squared distance d from a
    # centroid (sqrt(d), 0, 0); ties go to the first centroid, as with argmin.
    frame = pd.DataFrame({"customer_id": ["c"], "recency_days": [0], "frequency": [0],
                          "monetary": [0.0], "predicted_clv": [0.0]})
    wh = _warehouse(tmp_path / "w.duckdb", frame)
    scale = Scaling(("recency_days", "frequency", "monetary"), (0.0, 0.0, 0.0), (1.0,) * 3)
    centroids = np.array([[np.sqrt(d), 0.0, 0.0] for d in distances])
    ((nearest,),) = wh.fetch_all(
        f"SELECT nearest FROM ({assigned(scale, KMeansFit(centroids).centroids)})")
    assert nearest == int(np.argmin(distances))


def test_a_store_without_customers_has_an_empty_clusters_table(tmp_path: Path) -> None:
    frame, _ = _planted(per_group=1)
    wh = _warehouse(tmp_path / "w.duckdb", frame.iloc[:0])
    assert write_clusters(wh, ClusterConfig()).k == 0
    assert wh.fetch_all("SELECT count(*) FROM segments.clusters") == [(0,)]


def test_the_cluster_sql_transpiles_to_bigquery() -> None:
    scale = Scaling(("recency_days", "frequency", "monetary", "predicted_clv"),
                    (1.0, 0.5, 4.0, 3.0), (0.9, 0.4, 1.2, 1.5))
    query = assigned(scale, np.array([[0.1, 0.2, 0.3, 0.4], [-1.0, -0.5, 0.0, 2.5]]))
    for sql in (f"CREATE OR REPLACE TABLE segments.clusters AS {query}",
                "SELECT r.customer_id FROM segments.rfm AS r "
                "ORDER BY MD5(r.customer_id || $salt) LIMIT 10"):
        (statement,) = to_bigquery(sql, "my-project", "retail")
        parsed = sqlglot.parse_one(statement, read="bigquery")
        assert "`my-project`.retail_segments.rfm" in statement
        assert not list(parsed.find_all(exp.Anonymous)), statement  # no unknown function
