"""The local clustering engine's warehouse side: statistics, sample and assignment in SQL.

:mod:`analytics_pipeline.models.clusters` fits k-means on a sample in Python; everything
that touches every customer runs in the warehouse (DuckDB, or BigQuery transpiled): the
means and spreads that standardize the features, the deterministic sample (the customers
first by an MD5 of their id), the nearest-centroid assignment and the per-cluster sizes,
values and medians. Centroids and statistics are written into the SQL as float literals
(``repr`` round-trips exactly), labels as string literals.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analytics_pipeline.models.clusters import (
    BASE_FEATURES,
    VALUE_FEATURE,
    ClusterConfig,
    Clustering,
    Scaling,
    fit,
    numbered,
)
from analytics_pipeline.warehouse import Warehouse

SOURCE = ("segments.rfm AS r LEFT JOIN segments.customer_clv AS v "
          "ON v.customer_id = r.customer_id")
_COLUMNS = {"recency_days": "r.recency_days", "frequency": "r.frequency",
            "monetary": "r.monetary", VALUE_FEATURE: f"v.{VALUE_FEATURE}"}


def _logged(feature: str) -> str:
    return f"LN(1 + GREATEST(CAST({_COLUMNS[feature]} AS DOUBLE), 0))"


def scaling(wh: Warehouse) -> Scaling | None:
    """How to standardize, from every customer; ``None`` when there is no customer."""
    everything = (*BASE_FEATURES, VALUE_FEATURE)
    stats = ", ".join(f"AVG({_logged(f)}), STDDEV_POP({_logged(f)})" for f in everything)
    n, with_value, *moments = wh.fetch_all(
        f"SELECT COUNT(*), COUNT(v.{VALUE_FEATURE}), {stats} FROM {SOURCE}")[0]  # noqa: S608
    if not n:
        return None
    features = everything if with_value == n else BASE_FEATURES
    means = [float(str(m)) for m in moments[0::2]][:len(features)]
    spreads = [float(str(s)) for s in moments[1::2]][:len(features)]
    return Scaling(features, tuple(means), tuple(s if s > 0 else 1.0 for s in spreads))


def sample(wh: Warehouse, features: tuple[str, ...], config: ClusterConfig) -> pd.DataFrame:
    """Up to ``config.sample_size`` customers, the same ones on every run."""
    columns = ", ".join(f"{_COLUMNS[f]} AS {f}" for f in features)
    return wh.fetch_df(
        f"SELECT {columns} FROM {SOURCE} "  # noqa: S608 - fixed names, bound values
        f"ORDER BY MD5(r.customer_id || $salt), r.customer_id LIMIT {int(config.sample_size)}",
        {"salt": f"clusters-{config.seed}"})


def assigned(scale: Scaling, centroids: np.ndarray) -> str:
    """A query of every customer with ``nearest``: the index of the nearest centroid
    (the first on ties, as ``argmin``), beside the features in their own units."""
    z = ", ".join(f"({_logged(f)} - {m!r}) / {s!r} AS z_{f}"
                  for f, m, s in zip(scale.features, scale.means, scale.scales, strict=True))
    distances = ", ".join(
        " + ".join(f"(z_{f} - {float(c)!r}) * (z_{f} - {float(c)!r})"
                   for f, c in zip(scale.features, centroid, strict=True)) + f" AS d_{j}"
        for j, centroid in enumerate(centroids))
    k = len(centroids)
    # The first j with d_j <= every later distance is the first nearest: every earlier
    # candidate has a strictly nearer centroid after it.
    nearest = "CASE " + " ".join(
        f"WHEN {' AND '.join(f'd_{j} <= d_{o}' for o in range(j + 1, k))} THEN {j}"
        for j in range(k - 1)) + f" ELSE {k - 1} END" if k > 1 else "0"
    raw = ", ".join(f"{_COLUMNS[f]} AS {f}" for f in scale.features)
    return (f"WITH z AS (SELECT r.customer_id, {raw}, {z} FROM {SOURCE}), "  # noqa: S608
            f"d AS (SELECT *, {distances} FROM z) "
            f"SELECT customer_id, {', '.join(scale.features)}, {nearest} AS nearest FROM d")


def write_clusters(wh: Warehouse, config: ClusterConfig) -> Clustering:
    """Cluster ``segments.rfm`` with predicted CLV and replace ``segments.clusters``."""
    scale = scaling(wh)
    if scale is None:  # a shop without identified customers yet: nothing to cluster
        wh.execute("CREATE OR REPLACE TABLE segments.clusters AS SELECT "
                   "CAST(NULL AS VARCHAR) AS customer_id, CAST(NULL AS BIGINT) AS cluster_id, "
                   "CAST(NULL AS VARCHAR) AS cluster_label LIMIT 0")
        return Clustering(0, {}, pd.DataFrame(), 0)
    fitted = fit(scale.standardize(sample(wh, scale.features, config)), config)
    query = assigned(scale, fitted.centroids)
    # The assignment runs twice, for the summary and then for the table: the ids are
    # ranked from the summary, and a few sums per customer cost less than writing and
    # reading back a staging table of every customer's assignment.
    medians = ", ".join(f"MEDIAN({f}) AS median_{f}" for f in scale.features)
    summary = wh.fetch_df(
        f"WITH a AS ({query}) SELECT nearest, COUNT(*) AS customers, "  # noqa: S608
        f"AVG({scale.value}) AS mean_value, {medians} FROM a GROUP BY nearest")
    rank, labels = numbered(fitted, scale.features, dict(zip(
        summary["nearest"].astype(int), summary["mean_value"].astype(float), strict=True)))
    wh.execute(
        f"CREATE OR REPLACE TABLE segments.clusters AS WITH a AS ({query}) "  # noqa: S608
        f"SELECT customer_id, CAST({_case(rank)} AS BIGINT) AS cluster_id, "
        f"{_case({i: _text(labels[c]) for i, c in rank.items()})} AS cluster_label FROM a")
    return Clustering(fitted.k, fitted.silhouettes, _profiles(summary, rank, labels),
                      int(summary["customers"].sum()))


def _case(values: Mapping[int, object]) -> str:
    return ("CASE nearest " + " ".join(f"WHEN {i} THEN {v}" for i, v in sorted(values.items()))
            + " END")


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _profiles(summary: pd.DataFrame, rank: dict[int, int], labels: dict[int, str]) -> pd.DataFrame:
    profiles = summary.assign(cluster_id=summary["nearest"].astype(int).map(rank))
    profiles.insert(0, "cluster_label", profiles["cluster_id"].map(labels))
    columns = ["cluster_id", "cluster_label", "customers",
               *(c for c in summary.columns if c.startswith("median_"))]
    return profiles.loc[:, columns].sort_values("cluster_id").reset_index(drop=True)
