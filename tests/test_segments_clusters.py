"""Local k-means clusters when customers outnumber the fitting sample: the candidates are
fitted on the sample and every customer is assigned to the winner's nearest centroid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics_pipeline.models.clusters import ClusterConfig, cluster_customers


def _planted(per_group: int, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """Three obvious groups: lapsed one-timers, occasional mid spenders, frequent VIPs."""
    rng = np.random.default_rng(seed)
    groups = np.repeat([0, 1, 2], per_group)
    recency = np.array([400.0, 90.0, 5.0])[groups] * rng.uniform(0.8, 1.2, groups.size)
    frequency = np.array([1.0, 4.0, 30.0])[groups] + rng.integers(0, 2, groups.size)
    monetary = np.array([30.0, 300.0, 5000.0])[groups] * rng.uniform(0.8, 1.2, groups.size)
    frame = pd.DataFrame({
        "customer_id": [f"c{i:06d}" for i in range(groups.size)],
        "recency_days": recency, "frequency": frequency, "monetary": monetary,
        "predicted_clv": monetary * frequency / 10,
    })
    return frame, groups


def test_sample_fit_assigns_everyone_to_the_planted_groups() -> None:
    frame, groups = _planted(per_group=12_000)  # 36,000 customers, 20,000 fitted
    result = cluster_customers(frame, ClusterConfig(k_min=2, k_max=5, sample_size=20_000))
    assert result.k == 3 and len(result.customers) == len(frame)
    found = pd.crosstab(groups, result.customers["cluster_id"].to_numpy())
    assert (found.max(axis=1) == 12_000).all()  # each planted group is one whole cluster
    # Numbered by value: the VIP group is cluster 1, the one-timers cluster 3.
    assert found.idxmax(axis=1).tolist() == [3, 2, 1]
    labels = dict(zip(result.profiles["cluster_id"], result.profiles["cluster_label"],
                      strict=True))
    assert labels[1] == "frequent, high-spend, recent, high predicted value"
    assert labels[3].startswith("infrequent, low-spend, lapsed")
    assert result.profiles["customers"].tolist() == [12_000] * 3
    assert (result.customers["cluster_label"] == result.customers["cluster_id"].map(labels)).all()


def test_same_input_gives_the_same_clusters() -> None:
    frame, _ = _planted(per_group=8_000)
    config = ClusterConfig(k_min=2, k_max=4, sample_size=10_000)
    first, second = cluster_customers(frame, config), cluster_customers(frame, config)
    pd.testing.assert_frame_equal(first.customers, second.customers)
