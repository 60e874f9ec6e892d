"""Segments computed in Python: lifetime value (BG/NBD + Gamma-Gamma) and k-means clusters.

Both read tables the SQL models built and hand them to plain models in
``analytics_pipeline/models``: the CLV comes back with ``load_arrow`` (the SQL
``segments.customer_segments`` reads ``segments.customer_clv`` in turn), the clusters
are fitted on a sample and assigned in the warehouse (``models/clusters_sql.py``).
"""

from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa

from analytics_pipeline.models.clusters_bigquery import run_bigquery_kmeans
from analytics_pipeline.models.clusters_sql import write_clusters
from analytics_pipeline.models.clv import ClvConfig, ClvScores, score_customers
from analytics_pipeline.resources import ModelParamsResource, WarehouseResource
from analytics_pipeline.warehouse import Warehouse

CLV_KEY = dg.AssetKey(["segments", "customer_clv"])
CLUSTERS_KEY = dg.AssetKey(["segments", "clusters"])
_DOUBLE, _INT = pa.float64(), pa.int64()
CLV_SCHEMA = pa.schema([
    ("customer_id", pa.string()), ("frequency", _INT), ("t_x_days", _INT),
    ("tenure_days", _INT), ("monetary_value", _DOUBLE), ("p_alive", _DOUBLE),
    ("expected_purchases_30d", _DOUBLE), ("expected_purchases_90d", _DOUBLE),
    ("expected_purchases_365d", _DOUBLE), ("expected_average_spend", _DOUBLE),
    ("predicted_clv", _DOUBLE), ("clv_method", pa.string()),
])


def _write(warehouse: Warehouse, table: str, frame: pd.DataFrame, schema: pa.Schema) -> int:
    arrow = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    return warehouse.load_arrow("segments", table, pa.RecordBatchReader.from_batches(
        schema, arrow.to_batches()))


def write_customer_clv(warehouse: Warehouse, config: ClvConfig) -> ClvScores:
    """Fit on ``segments.clv_inputs`` and replace ``segments.customer_clv``."""
    inputs = warehouse.fetch_df(
        "SELECT customer_id, frequency, t_x_days, tenure_days, monetary_value"
        " FROM segments.clv_inputs ORDER BY customer_id"
    )
    scores = score_customers(inputs, config)
    _write(warehouse, "customer_clv", scores.customers, CLV_SCHEMA)
    return scores


def build_clusters(warehouse: Warehouse, params: ModelParamsResource) -> dict[str, Any]:
    """Replace ``segments.clusters`` with the configured engine; return the run's metadata
    (``dagster/row_count``, the chosen k, every k's score and the cluster profiles)."""
    if params.clustering_engine == "bigquery_ml":
        run = run_bigquery_kmeans(warehouse, params.cluster_config())
        return {
            "dagster/row_count": run.rows, "engine": "bigquery_ml KMEANS", "k": run.k,
            "davies_bouldin_by_k": {str(k): round(s, 4) for k, s in run.davies_bouldin.items()},
            "clusters": dg.MetadataValue.json(run.profiles.to_dict(orient="records")),
        }
    clustering = write_clusters(warehouse, params.cluster_config())
    return {
        "dagster/row_count": clustering.customers, "engine": "sklearn", "k": clustering.k,
        "silhouette_by_k": {str(k): round(s, 4) for k, s in clustering.silhouettes.items()},
        "clusters": dg.MetadataValue.json(clustering.profiles.to_dict(orient="records")),
    }


def _clv_metadata(scores: ClvScores) -> dict[str, Any]:
    meta: dict[str, Any] = {"dagster/row_count": len(scores.customers), "note": scores.note}
    if scores.model:
        bg, gg = scores.model.purchases, scores.model.spend
        meta["bgnbd (days)"] = {k: round(v, 6) for k, v in vars(bg.params).items()}
        meta["gamma_gamma"] = {k: round(v, 6) for k, v in vars(gg.params).items()}
        meta["repeat_customers"] = gg.customers
    return meta


@dg.asset(
    key=CLV_KEY, group_name="segments", deps=[dg.AssetKey(["segments", "clv_inputs"])],
    description="P(alive), expected purchases and discounted CLV per customer "
                "(BG/NBD + Gamma-Gamma; NULL with too few repeat customers).",
)
def customer_clv(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource,
    model_params: ModelParamsResource,
) -> dg.MaterializeResult[None]:
    with warehouse.open() as wh:
        scores = write_customer_clv(wh, model_params.clv_config())
    if scores.model is None:
        context.log.warning(f"segments.customer_clv {scores.note}")
    return dg.MaterializeResult(metadata=_clv_metadata(scores))


@dg.asset(
    key=CLUSTERS_KEY, group_name="segments",
    deps=[dg.AssetKey(["segments", "rfm"]), CLV_KEY],
    description="k-means cluster of every customer on log RFM + CLV, k by silhouette "
                "(scikit-learn), or by Davies-Bouldin index (BigQuery ML KMEANS).",
)
def clusters(
    warehouse: WarehouseResource, model_params: ModelParamsResource
) -> dg.MaterializeResult[None]:
    with warehouse.open() as wh:
        metadata = build_clusters(wh, model_params)
    return dg.MaterializeResult(metadata=metadata)
