"""K-means clusters of customers on standardized, log-transformed RFM and CLV features.

The number of clusters is the one with the best silhouette within ``[k_min, k_max]``.
Every candidate k is fitted on a fixed random sample and, as silhouettes cost O(n^2),
scored on a smaller one; the winner's centroids then assign every customer (one pass:
refitting on a million customers moved the centroids by a fraction of a percent and cost
seconds).
Clusters are numbered by value (1 = highest mean predicted CLV, or spend without CLV), so
the numbers stay comparable between runs, and described in words from their centroids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from analytics_pipeline.models.mle import FloatArray

# feature -> (words for low, middle, high standardized centroid values; "" = say nothing)
_WORDS = {
    "recency_days": ("recent", "cooling", "lapsed"),
    "frequency": ("infrequent", "occasional", "frequent"),
    "monetary": ("low-spend", "mid-spend", "high-spend"),
    "predicted_clv": ("low predicted value", "", "high predicted value"),
}
# A centroid this many standard deviations from the mean counts as low or high.
_CUT = 0.5


@dataclass(frozen=True)
class ClusterConfig:
    """Search range and sampling.

    Attributes
    ----------
    k_min, k_max
        Cluster counts tried (inclusive).
    sample_size
        Customers the candidates are fitted on (all when fewer).
    silhouette_size
        Customers of that sample each candidate's silhouette is computed on.
    seed
        Random state of the sample and of k-means, so reruns agree.
    """

    k_min: int = 3
    k_max: int = 8
    sample_size: int = 20_000
    silhouette_size: int = 2_500
    seed: int = 0


@dataclass(frozen=True)
class Clustering:
    """Per-customer ``cluster_id`` and ``cluster_label``, cluster profiles and the search.

    ``profiles`` has one row per cluster: id, label, size and the centroid in the
    features' own units (medians of the members, easier to read than the log-space mean).
    """

    customers: pd.DataFrame
    profiles: pd.DataFrame
    k: int
    silhouettes: dict[int, float] = field(default_factory=dict)


def features(frame: pd.DataFrame) -> pd.DataFrame:
    """The log-transformed features; ``predicted_clv`` only when it was computed."""
    columns = ["recency_days", "frequency", "monetary"]
    if "predicted_clv" in frame and frame["predicted_clv"].notna().all():
        columns.append("predicted_clv")
    values = frame[columns].astype(np.float64).clip(lower=0.0)
    # log1p: counts and money are heavily skewed, and 0 stays 0.
    return values.transform(np.log1p)


def _standardize(x: pd.DataFrame) -> FloatArray:
    """Zero mean, unit variance per column (a constant column stays 0)."""
    std = x.std(ddof=0).replace(0.0, 1.0)
    return np.asarray(((x - x.mean()) / std).to_numpy(), dtype=np.float64)


def _search(z: FloatArray, config: ClusterConfig) -> tuple[KMeans, dict[int, float]]:
    """Fit each k on the sample and keep the best silhouette (lowest k on ties)."""
    rng = np.random.default_rng(config.seed)
    sample = z[rng.choice(len(z), size=min(len(z), config.sample_size), replace=False)]
    distinct = len(np.unique(sample, axis=0))
    best: KMeans | None = None
    scores: dict[int, float] = {}
    for k in range(config.k_min, min(config.k_max, distinct - 1) + 1):
        model = KMeans(n_clusters=k, n_init=4, random_state=config.seed).fit(sample)
        scores[k] = float(silhouette_score(
            sample, model.labels_, sample_size=min(len(sample), config.silhouette_size),
            random_state=config.seed,
        ))
        if best is None or scores[k] > scores[best.n_clusters]:
            best = model
    if best is None:  # too few distinct customers to compare two or more clusters
        best = KMeans(n_clusters=1, n_init=1, random_state=config.seed).fit(sample)
    return best, scores


def describe(centroid_z: pd.Series) -> str:
    """Words for one centroid in standardized units, e.g. 'frequent, high-spend, recent'."""
    order = ["frequency", "monetary", "recency_days", "predicted_clv"]
    words = []
    for name in order:
        if name in centroid_z:
            value = float(centroid_z[name])
            low, middle, high = _WORDS[name]
            words.append(low if value <= -_CUT else high if value >= _CUT else middle)
    return ", ".join(w for w in words if w) or "average"


def cluster_customers(frame: pd.DataFrame, config: ClusterConfig) -> Clustering:
    """Cluster customers given ``customer_id``, ``recency_days``, ``frequency``, ``monetary``
    and optionally ``predicted_clv`` (used when no value is missing).

    Returns
    -------
    Clustering
        Assignments numbered by value, labels, profiles, the chosen k and the
        silhouette of every k tried.
    """
    if frame.empty:  # a shop without identified customers yet: nothing to cluster
        customers = pd.DataFrame({"customer_id": pd.Series(dtype=str),
                                  "cluster_id": pd.Series(dtype=np.int64),
                                  "cluster_label": pd.Series(dtype=str)})
        return Clustering(customers, pd.DataFrame(), 0)
    x = features(frame)
    z = _standardize(x)
    # One thread: with 3-4 features a Lloyd step is memory-bound, and OpenMP workers
    # competing with other processes made a 700-customer run 40x slower on a busy machine.
    with threadpool_limits(limits=1):
        best, scores = _search(z, config)
        assigned = best.predict(z)
    k = best.n_clusters
    value = frame["predicted_clv"] if "predicted_clv" in x else frame["monetary"]
    mean_value = pd.Series(value.to_numpy(dtype=np.float64)).groupby(assigned).mean()
    # A centroid no customer is nearest to (possible only on a sample) ranks last.
    order = [*mean_value.sort_values(ascending=False).index,
             *sorted(set(range(k)) - set(mean_value.index))]
    rank = {old: new for new, old in enumerate(order, 1)}
    cluster_id = pd.Series(assigned).map(rank).to_numpy(dtype=np.int64)
    centroids = pd.DataFrame(best.cluster_centers_, columns=x.columns)
    labels = _unique_labels({rank[i]: describe(centroids.iloc[i]) for i in range(k)})
    by_id = np.array([""] + [labels[c] for c in range(1, k + 1)], dtype=object)
    customers = pd.DataFrame({
        "customer_id": frame["customer_id"].to_numpy(),
        "cluster_id": cluster_id,
        "cluster_label": by_id[cluster_id],
    })
    profiles = _profiles(frame[list(x.columns)], cluster_id, labels)
    return Clustering(customers, profiles, k, scores)


def _unique_labels(labels: dict[int, str]) -> dict[int, str]:
    """Clusters described alike get their value rank appended ('..., #2')."""
    counts = pd.Series(labels).value_counts()
    return {c: f"{text}, #{c}" if counts[text] > 1 else text for c, text in labels.items()}


def _profiles(
    values: pd.DataFrame, cluster_id: npt.NDArray[np.int64], labels: dict[int, str]
) -> pd.DataFrame:
    grouped = values.astype(np.float64).groupby(cluster_id)
    profiles = grouped.median().add_prefix("median_")
    profiles.insert(0, "customers", grouped.size())
    profiles.insert(0, "cluster_label", [labels[c] for c in profiles.index])
    return profiles.rename_axis("cluster_id").reset_index()
