"""K-means clusters of customers on standardized, log-transformed RFM and CLV features.

The number of clusters is the one with the best silhouette within ``[k_min, k_max]``.
Every candidate k is fitted on a fixed sample of customers and, as silhouettes cost
O(n^2), scored on a smaller one; the winner's centroids then assign every customer, in
the warehouse (:mod:`analytics_pipeline.models.clusters_sql`: a million customers never
leave it; refitting on all of them moved the centroids by a fraction of a percent).
Clusters are numbered by value (1 = highest mean predicted CLV, or spend without CLV), so
the numbers stay comparable between runs, and described in words from their centroids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from analytics_pipeline.models.mle import FloatArray

BASE_FEATURES = ("recency_days", "frequency", "monetary")
# Used as a fourth feature, and as the value clusters are numbered by, when every
# customer has one (it is missing while too few customers repeat to fit the CLV models).
VALUE_FEATURE = "predicted_clv"
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
        Picks the sample and seeds k-means, so reruns agree.
    """

    k_min: int = 3
    k_max: int = 8
    sample_size: int = 20_000
    silhouette_size: int = 2_500
    seed: int = 0


@dataclass(frozen=True)
class Scaling:
    """``log1p`` of each feature (counts and money are heavily skewed, and 0 stays 0), then
    zero mean and unit variance over every customer (a constant feature stays 0)."""

    features: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]

    def standardize(self, frame: pd.DataFrame) -> FloatArray:
        logged = np.log1p(frame[list(self.features)].to_numpy(dtype=np.float64).clip(min=0.0))
        return np.asarray((logged - np.array(self.means)) / np.array(self.scales),
                          dtype=np.float64)

    @property
    def value(self) -> str:
        """The feature clusters are numbered by."""
        return VALUE_FEATURE if VALUE_FEATURE in self.features else "monetary"


@dataclass(frozen=True)
class KMeansFit:
    """The winning centroids (standardized units) and every k's silhouette."""

    centroids: FloatArray
    silhouettes: dict[int, float] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return len(self.centroids)


@dataclass(frozen=True)
class Clustering:
    """The chosen k, the silhouette of every k tried, ``profiles``: one row per cluster
    with id, label, size and the centroid in the features' own units (medians of the
    members, easier to read than the log-space mean), and the customers assigned."""

    k: int
    silhouettes: dict[int, float]
    profiles: pd.DataFrame
    customers: int


def fit(sample: FloatArray, config: ClusterConfig) -> KMeansFit:
    """Fit each k on the standardized ``sample`` and keep the best silhouette (lowest k on
    ties); one cluster when too few distinct customers allow comparing two or more."""
    distinct = len(np.unique(sample, axis=0))
    best: KMeans | None = None
    scores: dict[int, float] = {}
    # One thread: with 3-4 features a Lloyd step is memory-bound, and OpenMP workers
    # competing with other processes made a 700-customer run 40x slower on a busy machine.
    with threadpool_limits(limits=1):
        for k in range(config.k_min, min(config.k_max, distinct - 1) + 1):
            model = KMeans(n_clusters=k, n_init=4, random_state=config.seed).fit(sample)
            scores[k] = float(silhouette_score(
                sample, model.labels_, sample_size=min(len(sample), config.silhouette_size),
                random_state=config.seed,
            ))
            if best is None or scores[k] > scores[best.n_clusters]:
                best = model
        if best is None:
            best = KMeans(n_clusters=1, n_init=1, random_state=config.seed).fit(sample)
    return KMeansFit(np.asarray(best.cluster_centers_, dtype=np.float64), scores)


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


def numbered(fitted: KMeansFit, features: tuple[str, ...],
             mean_value: Mapping[int, float]) -> tuple[dict[int, int], dict[int, str]]:
    """Cluster ids by value (1 = highest ``mean_value`` of the members, per centroid
    index) and their labels by id. A centroid no customer is nearest to (possible only on
    a sample) ranks last."""
    ranked = sorted(mean_value, key=lambda i: (-mean_value[i], i))
    order = [*ranked, *sorted(set(range(fitted.k)) - set(ranked))]
    rank = {old: new for new, old in enumerate(order, 1)}
    labels = {rank[i]: describe(pd.Series(fitted.centroids[i], index=list(features)))
              for i in range(fitted.k)}
    counts = pd.Series(labels).value_counts()
    # Clusters described alike get their value rank appended ('..., #2').
    return rank, {c: f"{text}, #{c}" if counts[text] > 1 else text
                  for c, text in labels.items()}
