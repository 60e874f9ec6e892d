"""BigQuery ML KMEANS clusters: statement shape (parsed with sqlglot's BigQuery dialect),
the describer on a canned ML.CENTROIDS result, the run against a recording fake client,
the setting, and a real-BigQuery run that skips without credentials."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
import sqlglot
from google.cloud import bigquery
from sqlglot import exp

from analytics_pipeline.models.clusters import ClusterConfig
from analytics_pipeline.models.clusters_bigquery import (
    assign_statement,
    best_k,
    centroids_statement,
    create_model_statement,
    describe_centroids,
    evaluate_statement,
    feature_query,
    run_bigquery_kmeans,
)
from analytics_pipeline.settings import Settings, SettingsError
from analytics_pipeline.warehouse import open_warehouse
from analytics_pipeline.warehouse.bigquery_warehouse import BigQueryWarehouse
from analytics_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse

PROJECT, DATASET = "shop-analytics", "retail"
MODEL_K4 = "`shop-analytics.retail_segments.customer_kmeans_k4`"


def _options(statement: exp.Expression) -> dict[str, str]:
    return {p.name.lower(): p.args["value"].sql("bigquery").strip("'")
            for p in statement.find_all(exp.Property) if p.name}


def test_create_model_has_kmeans_options_and_the_log_features() -> None:
    model = sqlglot.parse_one(create_model_statement(PROJECT, DATASET, 4, True), read="bigquery")
    assert isinstance(model, exp.Create) and model.args["kind"] == "MODEL"
    assert model.this.sql("bigquery") == MODEL_K4
    options = _options(model)
    assert options["model_type"] == "KMEANS" and options["num_clusters"] == "4"
    assert options["standardize_features"] == "TRUE"
    assert options["kmeans_init_method"] == "KMEANS++"
    assert options["distance_type"] == "EUCLIDEAN"
    select = model.expression
    # Only the four features train the model: no customer id, no ranking value.
    assert [e.alias_or_name for e in select.expressions] == [
        "recency_days", "frequency", "monetary", "predicted_clv"]
    inner = select.find(exp.Subquery)
    assert inner is not None
    logs = {e.alias: e.this for e in inner.this.expressions if isinstance(e, exp.Alias)}
    assert all(isinstance(logs[c], exp.Ln) for c in ("recency_days", "predicted_clv"))


def test_without_clv_the_features_are_rfm_and_value_is_monetary() -> None:
    query = sqlglot.parse_one(feature_query(PROJECT, DATASET, False), read="bigquery")
    names = [e.alias_or_name for e in query.expressions]
    assert names == ["customer_id", "recency_days", "frequency", "monetary", "value_basis"]
    assert query.expressions[-1].sql("bigquery") == "CAST(r.monetary AS FLOAT64) AS value_basis"


# sqlglot 30 parses ML.PREDICT but not ML.EVALUATE / ML.CENTROIDS: those calls are matched
# exactly here and replaced by their model's name, so the rest of the statement is parsed.
_ML_CALL = re.compile(
    r"ML\.(?:EVALUATE|CENTROIDS)\(MODEL (`[^`]+`)(?:, STRUCT\(TRUE AS standardize\))?\)")


def test_evaluate_centroids_and_assign_statements_parse() -> None:
    evaluate_sql = evaluate_statement(PROJECT, DATASET, range(3, 6))
    assert len(_ML_CALL.findall(evaluate_sql)) == 3 and "ML.EVALUATE(MODEL" in evaluate_sql
    evaluate = sqlglot.parse_one(_ML_CALL.sub(r"\1", evaluate_sql), read="bigquery")
    assert isinstance(evaluate, exp.Union)
    assert [s.expressions[1].name for s in (evaluate.left.left, evaluate.right)] == [
        "davies_bouldin_index"] * 2
    centroids = centroids_statement(PROJECT, DATASET, 4)
    assert _ML_CALL.findall(centroids) == [MODEL_K4]
    assert "STRUCT(TRUE AS standardize)" in centroids  # z-units, as describe() reads
    select = sqlglot.parse_one(_ML_CALL.sub(r"\1", centroids), read="bigquery")
    assert [e.name for e in select.expressions] == ["centroid_id", "feature", "numerical_value"]
    assign_sql = assign_statement(PROJECT, DATASET, 4, True)
    assign = sqlglot.parse_one(assign_sql, read="bigquery")
    assert isinstance(assign, exp.Create)
    assert assign.this.sql("bigquery") == "`shop-analytics.retail_segments.clusters`"
    assert "CLUSTER BY customer_id" in assign_sql  # the load job's layout for this table
    assert [e.alias_or_name for e in assign.expression.expressions] == [
        "customer_id", "cluster_id", "cluster_label"]
    # Labels are a bound parameter, never text pasted into the SQL.
    params = {p.name for p in assign.find_all(exp.Parameter)}
    assert params == {"labels"}
    assert f"MODEL {MODEL_K4}" in assign_sql


@pytest.mark.parametrize(("project", "dataset"),
                         [("x'; DROP", "retail"), ("shop-analytics", "a-b")])
def test_odd_identifiers_are_refused(project: str, dataset: str) -> None:
    with pytest.raises(ValueError, match="not"):
        create_model_statement(project, dataset, 4, True)


def test_fewer_than_two_clusters_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        create_model_statement(PROJECT, DATASET, 1, False)


# ML.CENTROIDS(..., STRUCT(TRUE AS standardize)) of a 3-cluster model, long form.
CANNED_CENTROIDS = pd.DataFrame([
    (1, "recency_days", -1.1), (1, "frequency", 1.4), (1, "monetary", 1.2),
    (1, "predicted_clv", 1.3),
    (2, "recency_days", 1.6), (2, "frequency", -0.9), (2, "monetary", -0.7),
    (2, "predicted_clv", -1.2),
    (3, "recency_days", 0.1), (3, "frequency", 0.2), (3, "monetary", -0.1),
    (3, "predicted_clv", 0.3),
], columns=["centroid_id", "feature", "numerical_value"])


def test_describer_reads_canned_centroids_like_the_local_path() -> None:
    assert describe_centroids(CANNED_CENTROIDS) == {
        1: "frequent, high-spend, recent, high predicted value",
        2: "infrequent, low-spend, lapsed, low predicted value",
        3: "occasional, mid-spend, cooling",
    }


def test_lowest_davies_bouldin_wins_lowest_k_on_ties() -> None:
    assert best_k({3: 0.9, 4: 0.7, 5: 0.8}) == 4
    assert best_k({3: 0.7, 4: 0.7}) == 3


@dataclass
class _Job:
    rows: list[dict[str, Any]]
    frame: pd.DataFrame | None = None

    def result(self) -> _Job:
        return self

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def to_dataframe(self) -> pd.DataFrame:
        return self.frame if self.frame is not None else pd.DataFrame(self.rows)


@dataclass
class _RecordingClient:
    """Answers the statements run_bigquery_kmeans sends with canned BigQuery results."""

    statements: list[tuple[str, bigquery.QueryJobConfig | None]] = field(default_factory=list)

    def query(self, statement: str, job_config: bigquery.QueryJobConfig | None = None) -> _Job:
        self.statements.append((statement, job_config))
        if "davies_bouldin_index" in statement:
            return _Job([{"k": 3, "davies_bouldin_index": 0.95},
                         {"k": 4, "davies_bouldin_index": 0.71}])
        if "ML.CENTROIDS" in statement:
            return _Job([], CANNED_CENTROIDS)
        if "GROUP BY cluster_id" in statement:
            return _Job([], pd.DataFrame({"cluster_id": [1, 2, 3],
                                          "cluster_label": ["a", "b", "c"],
                                          "customers": [5, 7, 9]}))
        if "predicted_clv IS NULL" in statement:
            return _Job([{"f0_": 0}])
        return _Job([])


def test_run_trains_each_k_picks_the_best_and_binds_the_labels() -> None:
    client = _RecordingClient()
    warehouse = BigQueryWarehouse(client, PROJECT, DATASET, "UTC")  # type: ignore[arg-type]
    run = run_bigquery_kmeans(warehouse, ClusterConfig(k_min=3, k_max=4))
    assert run.k == 4 and run.davies_bouldin == {3: 0.95, 4: 0.71} and run.rows == 21
    assert "predicted_clv" in run.features
    models = [s for s, _ in client.statements if s.startswith("CREATE OR REPLACE MODEL")]
    assert len(models) == 2 and "num_clusters = 3" in models[0]
    ((assign, config),) = [(s, c) for s, c in client.statements
                           if s.startswith("CREATE OR REPLACE TABLE")]
    assert f"MODEL {MODEL_K4}" in assign and config is not None
    (labels,) = config.query_parameters
    assert labels.name == "labels" and json.loads(labels.value) == {
        str(k): v for k, v in describe_centroids(CANNED_CENTROIDS).items()}


def test_run_refuses_a_duckdb_warehouse(tmp_path: Any) -> None:
    wh = DuckDBWarehouse(tmp_path / "w.duckdb", "UTC")
    try:
        with pytest.raises(ValueError, match="needs a BigQuery warehouse"):
            run_bigquery_kmeans(wh, ClusterConfig())
    finally:
        wh.close()


def test_setting_selects_the_engine_and_needs_bigquery() -> None:
    assert Settings.from_env({}).clustering_engine == "sklearn"
    chosen = Settings.from_env({"ANALYTICS_CLUSTERING_ENGINE": "bigquery_ml",
                                "ANALYTICS_WAREHOUSE": "bigquery://shop-analytics/retail"})
    assert chosen.clustering_engine == "bigquery_ml"
    with pytest.raises(SettingsError, match="needs a BigQuery warehouse"):
        Settings.from_env({"ANALYTICS_CLUSTERING_ENGINE": "bigquery_ml"})
    with pytest.raises(SettingsError, match="must be one of"):
        Settings.from_env({"ANALYTICS_CLUSTERING_ENGINE": "kmodes"})


BQ_URL = os.environ.get("ANALYTICS_TEST_BIGQUERY")  # e.g. bigquery://my-project/retail_test


@pytest.mark.bigquery
@pytest.mark.skipif(
    not (BQ_URL and os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")),
    reason="needs ANALYTICS_TEST_BIGQUERY=bigquery://PROJECT/DATASET and "
    "GOOGLE_APPLICATION_CREDENTIALS",
)
def test_kmeans_runs_on_real_bigquery() -> None:
    assert BQ_URL is not None
    wh = open_warehouse(BQ_URL, "UTC")
    n = 300
    # Two obvious groups: frequent recent big spenders and one-time lapsed small ones.
    rfm = pa.table({
        "customer_id": [f"c{i}" for i in range(n)],
        "recency_days": [5 + i % 7 if i % 2 else 300 + i % 50 for i in range(n)],
        "frequency": [20 + i % 5 if i % 2 else 1 for i in range(n)],
        "monetary": [2000.0 + i if i % 2 else 20.0 + i % 9 for i in range(n)],
    })
    clv = pa.table({"customer_id": rfm["customer_id"],
                    "predicted_clv": [900.0 + i if i % 2 else 3.0 for i in range(n)]})
    for name, table in (("rfm", rfm), ("customer_clv", clv)):
        wh.load_arrow("segments", name, pa.RecordBatchReader.from_batches(
            table.schema, table.to_batches()))
    try:
        run = run_bigquery_kmeans(wh, ClusterConfig(k_min=2, k_max=3))
        assert run.rows == n and set(run.davies_bouldin) == {2, 3}
        top = wh.fetch_all("SELECT cluster_label FROM segments.clusters "
                           "WHERE customer_id = 'c1'")[0][0]
        assert "frequent" in str(top)
    finally:
        wh.close()
