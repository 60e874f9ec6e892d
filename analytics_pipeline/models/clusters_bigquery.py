"""Customer clusters inside BigQuery: BigQuery ML's KMEANS on the local path's features.

Chosen with ``ANALYTICS_CLUSTERING_ENGINE=bigquery_ml`` on a BigQuery warehouse, so a
million customers never leave BigQuery. The features are those of
the local path (:mod:`analytics_pipeline.models.clusters`): ``log1p`` of recency, frequency,
monetary value and (when every customer has one) predicted CLV, standardized by the model
(``standardize_features``). One model is trained per k in ``[k_min, k_max]`` and the one
with the lowest Davies-Bouldin index (``ML.EVALUATE``; lower = tighter, better separated
clusters) wins, lowest k on ties: BigQuery ML reports no silhouette, and Davies-Bouldin
is the objective its own hyper-parameter tuning of KMEANS uses. ``ML.CENTROIDS`` in
standardized units feeds the local path's :func:`~analytics_pipeline.models.clusters.describe`,
and ``ML.PREDICT`` assigns every customer; clusters are numbered by value as locally
(1 = highest mean predicted CLV, or monetary value without CLV).

The statements are BigQuery SQL (DuckDB has no CREATE MODEL to transpile from), built
from validated identifiers and integers only; the cluster labels travel as a bound
``@labels`` parameter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
from google.cloud import bigquery

from analytics_pipeline.models.clusters import BASE_FEATURES, ClusterConfig, describe
from analytics_pipeline.warehouse import Warehouse
from analytics_pipeline.warehouse.bigquery_layout import layout_of
from analytics_pipeline.warehouse.params import identifier

_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,61}[a-z0-9]$")
MODEL_PREFIX = "customer_kmeans_k"
# Iterations are capped like scikit-learn's per-start budget is not: 50 passes converge
# on a few standardized features, and early_stop ends sooner.
_MAX_ITERATIONS = 50


@dataclass(frozen=True)
class KMeansRun:
    """The chosen k, every k's Davies-Bouldin index and the cluster profiles."""

    k: int
    davies_bouldin: dict[int, float]
    profiles: pd.DataFrame
    rows: int = 0
    features: tuple[str, ...] = field(default=BASE_FEATURES)


def _segments(project: str, dataset: str) -> str:
    if not _PROJECT.match(project):
        raise ValueError(f"{project!r} is not a Google Cloud project id")
    return f"{project}.{identifier(dataset)}_segments"


def model_name(project: str, dataset: str, k: int) -> str:
    return f"`{_segments(project, dataset)}.{MODEL_PREFIX}{int(k)}`"


def feature_query(project: str, dataset: str, with_clv: bool) -> str:
    """Per customer: id, the log features and ``value_basis`` (what clusters rank by)."""
    segments = _segments(project, dataset)
    columns = [*BASE_FEATURES, "predicted_clv"] if with_clv else list(BASE_FEATURES)
    source = {"predicted_clv": "v.predicted_clv"}
    logs = ",\n  ".join(
        f"LN(1 + GREATEST(CAST({source.get(c, 'r.' + c)} AS FLOAT64), 0)) AS {c}"
        for c in columns)
    value = "v.predicted_clv" if with_clv else "r.monetary"
    return f"""SELECT
  r.customer_id,
  {logs},
  CAST({value} AS FLOAT64) AS value_basis
FROM `{segments}.rfm` AS r
LEFT JOIN `{segments}.customer_clv` AS v ON v.customer_id = r.customer_id"""  # noqa: S608 - validated identifiers only


def create_model_statement(project: str, dataset: str, k: int, with_clv: bool) -> str:
    """``CREATE OR REPLACE MODEL`` of k clusters on the features (no id, no value)."""
    if k < 2:
        raise ValueError("k-means needs at least 2 clusters")
    names = [*BASE_FEATURES, "predicted_clv"] if with_clv else list(BASE_FEATURES)
    return f"""CREATE OR REPLACE MODEL {model_name(project, dataset, k)}
OPTIONS (
  model_type = 'KMEANS',
  num_clusters = {int(k)},
  kmeans_init_method = 'KMEANS++',
  distance_type = 'EUCLIDEAN',
  standardize_features = TRUE,
  max_iterations = {_MAX_ITERATIONS},
  early_stop = TRUE
) AS
SELECT {', '.join(names)}
FROM ({feature_query(project, dataset, with_clv)})"""  # noqa: S608 - as above


def evaluate_statement(project: str, dataset: str, ks: range) -> str:
    """Davies-Bouldin index of every k's model, one row each."""
    return "\nUNION ALL\n".join(
        f"SELECT {int(k)} AS k, davies_bouldin_index "  # noqa: S608 - ints only
        f"FROM ML.EVALUATE(MODEL {model_name(project, dataset, k)})" for k in ks)


def centroids_statement(project: str, dataset: str, k: int) -> str:
    """The chosen model's centroids in standardized units (long form)."""
    return (f"SELECT centroid_id, feature, numerical_value FROM ML.CENTROIDS("  # noqa: S608
            f"MODEL {model_name(project, dataset, k)}, STRUCT(TRUE AS standardize))")


def assign_statement(project: str, dataset: str, k: int, with_clv: bool) -> str:
    """``segments.clusters`` from ``ML.PREDICT``: clusters numbered by mean value, labels
    from the ``@labels`` parameter (JSON: centroid id -> words), alike labels made unique
    with the cluster's number as the local path does."""
    segments = _segments(project, dataset)
    layout = layout_of("segments", "clusters")
    clauses = layout.clauses() if layout else ""
    return f"""CREATE OR REPLACE TABLE `{segments}.clusters` {clauses} AS
WITH predicted AS (
  SELECT customer_id, CENTROID_ID AS centroid_id, value_basis
  FROM ML.PREDICT(MODEL {model_name(project, dataset, k)},
    ({feature_query(project, dataset, with_clv)}))
), ranked AS (
  SELECT
    centroid_id,
    ROW_NUMBER() OVER (ORDER BY AVG(value_basis) DESC, centroid_id) AS cluster_id,
    JSON_VALUE(@labels, CONCAT('$."', CAST(centroid_id AS STRING), '"')) AS words
  FROM predicted
  GROUP BY centroid_id
), labelled AS (
  SELECT
    centroid_id,
    cluster_id,
    IF(COUNT(*) OVER (PARTITION BY words) > 1,
       CONCAT(words, ', #', CAST(cluster_id AS STRING)), words) AS cluster_label
  FROM ranked
)
SELECT p.customer_id, CAST(l.cluster_id AS INT64) AS cluster_id, l.cluster_label
FROM predicted AS p
JOIN labelled AS l ON l.centroid_id = p.centroid_id"""  # noqa: S608 - as above


def describe_centroids(centroids: pd.DataFrame) -> dict[int, str]:
    """Words per centroid id from ``ML.CENTROIDS`` rows (``centroid_id``, ``feature``,
    ``numerical_value`` in standardized units), as the local path describes its own."""
    wide = centroids.pivot(index="centroid_id", columns="feature", values="numerical_value")
    return {int(str(cid)): describe(row) for cid, row in wide.iterrows()}


def best_k(scores: Mapping[int, float]) -> int:
    """The k with the lowest Davies-Bouldin index (lowest k on ties)."""
    return min(scores, key=lambda k: (scores[k], k))


def run_bigquery_kmeans(warehouse: Warehouse, config: ClusterConfig) -> KMeansRun:
    """Train, choose k, assign and label in BigQuery; replace ``segments.clusters``."""
    from analytics_pipeline.warehouse.bigquery_warehouse import BigQueryWarehouse

    if not isinstance(warehouse, BigQueryWarehouse):
        raise ValueError("ANALYTICS_CLUSTERING_ENGINE=bigquery_ml needs a BigQuery warehouse")
    client, project, dataset = warehouse._client, warehouse.project, warehouse.dataset
    (missing,) = warehouse.fetch_all(
        "SELECT count(*) FROM segments.rfm AS r LEFT JOIN segments.customer_clv AS v"
        " ON v.customer_id = r.customer_id WHERE v.predicted_clv IS NULL")[0]
    with_clv = int(str(missing)) == 0
    ks = range(config.k_min, config.k_max + 1)
    for k in ks:
        client.query(create_model_statement(project, dataset, k, with_clv)).result()
    scores = {int(row["k"]): float(row["davies_bouldin_index"])
              for row in client.query(evaluate_statement(project, dataset, ks)).result()}
    k = best_k(scores)
    centroids = client.query(centroids_statement(project, dataset, k)).result().to_dataframe()
    labels = json.dumps({str(c): words for c, words in describe_centroids(centroids).items()})
    job = bigquery.QueryJobConfig(
        query_parameters=[bigquery.ScalarQueryParameter("labels", "STRING", labels)])
    client.query(assign_statement(project, dataset, k, with_clv), job_config=job).result()
    profiles = warehouse.fetch_df(
        "SELECT cluster_id, cluster_label, count(*) AS customers FROM segments.clusters"
        " GROUP BY cluster_id, cluster_label ORDER BY cluster_id")
    columns = (*BASE_FEATURES, "predicted_clv") if with_clv else BASE_FEATURES
    return KMeansRun(k, scores, profiles, int(profiles["customers"].sum()), columns)
