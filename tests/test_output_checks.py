"""Output checks: every table has some, they pass on a sound store, a broken table fails."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest
import sqlglot
from sqlglot import exp

from analytics_pipeline.assets.checks import CONTRACT_CHECKS
from analytics_pipeline.assets.output_checks import output_checks_for
from analytics_pipeline.assets.output_specs import TABLE_SPECS, TableSpec, spec_for
from analytics_pipeline.definitions import build_definitions
from analytics_pipeline.receipts.figures import AT_RISK_SQL, STOCKOUT_SQL
from analytics_pipeline.receipts.latest import LATEST_SQL
from analytics_pipeline.run import materialize_all
from analytics_pipeline.settings import Settings
from analytics_pipeline.warehouse.dialect import to_bigquery
from analytics_pipeline.warehouse.sql_models import SqlModel, discover
from tests.observability_support import AS_OF, copy_warehouse

NOT_TABLES = {("serving", "snapshot"), ("inventory", "alert_digest"),
              ("ingest", "lightspeed_sync")}
GUARDING_ALERTS_AND_EXPORTS = [("inventory", "alerts"), ("inventory", "reorder_suggestions"),
                               ("segments", "customer_segments"),
                               ("segments", "segment_members")]


def _definitions(warehouse: Path | None = None) -> dg.Definitions:
    url = f"duckdb:///{warehouse}" if warehouse else "duckdb:///unused.duckdb"
    return build_definitions(Settings.from_env({}, warehouse_url=url, as_of=AS_OF))


def _check_specs(defs: dg.Definitions) -> list[dg.AssetCheckSpec]:
    return [spec for checks in defs.asset_checks or [] for spec in checks.check_specs]


def test_every_table_asset_has_checks() -> None:
    defs = _definitions()
    tables = {tuple(key.path) for key in defs.resolve_asset_graph().get_all_asset_keys()
              } - NOT_TABLES
    checked = {tuple(spec.asset_key.path) for spec in _check_specs(defs)}
    assert tables - checked == set()
    assert {("receipts", "value_receipt"), ("ops", "step_durations")} <= checked


def test_checks_guarding_alerts_and_exports_are_blocking() -> None:
    specs = _check_specs(_definitions())
    for key in GUARDING_ALERTS_AND_EXPORTS:
        mine = [s for s in specs if tuple(s.asset_key.path) == key]
        assert mine and all(s.blocking for s in mine), key
    revenue = [s for s in specs if tuple(s.asset_key.path) == ("revenue", "daily_sales")]
    assert {s.name for s in revenue} == {"row_count", "no_null_keys", "unique_keys",
                                         "values_in_range", "fresh"}
    assert not any(s.blocking for s in revenue)


def test_a_new_sql_model_gets_default_checks_from_its_first_column() -> None:
    model = SqlModel("recommendations", "brand_new", "SELECT p.product_id, 1 AS n FROM x AS p")
    assert spec_for(("recommendations", "brand_new"), model) == TableSpec(
        not_null=("product_id",))
    assert spec_for(("anything", "from_python")) == TableSpec()


def test_every_check_and_receipt_query_is_bigquery_sql() -> None:
    statements = [check.sql for key, model in _all_tables()
                  for check in output_checks_for(".".join(key), spec_for(key, model))]
    statements += [spec.sql for spec in CONTRACT_CHECKS]
    statements += [STOCKOUT_SQL, AT_RISK_SQL, LATEST_SQL]
    for sql in statements:
        (bigquery,) = to_bigquery(sql, "project", "data")
        assert _not_bigquery_functions(bigquery) == [], bigquery


def _not_bigquery_functions(bigquery: str) -> list[str]:
    """Functions sqlglot's BigQuery dialect does not know: DuckDB's that passed through
    transpilation untouched (BigQuery would reject the query at run time)."""
    parsed = sqlglot.parse_one(bigquery, read="bigquery")
    return [node.name.lower() for node in parsed.find_all(exp.Anonymous)]


def test_duckdb_only_functions_are_caught() -> None:
    old_freshness = ("SELECT max(ordered_at) >= CAST($as_of AS TIMESTAMPTZ) - "
                     "to_hours(CAST($freshness_hours AS BIGINT)) FROM ingest.orders")
    (bigquery,) = to_bigquery(old_freshness, "project", "data")
    assert _not_bigquery_functions(bigquery) == ["to_hours"]


def _all_tables() -> list[tuple[tuple[str, str], SqlModel | None]]:
    models = {(m.domain, m.name): m for m in discover()}
    return [(key, models.get(key)) for key in sorted({*models, *TABLE_SPECS})]


@pytest.fixture(scope="module")
def materialized(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny store materialized in-process: every asset and every check ran."""
    path = tmp_path_factory.mktemp("checks") / "warehouse.duckdb"
    settings = Settings.from_env({}, source_dir=tiny_store, warehouse_url=f"duckdb:///{path}",
                                 as_of=AS_OF)
    summary = materialize_all(settings, lambda _line: None)
    assert summary.success, summary.failures
    assert summary.failed_checks == []
    return path


def _run_checks(warehouse: Path, key: list[str]) -> dict[str, dg.AssetCheckEvaluation]:
    defs = dg.Definitions.merge(_definitions(warehouse), dg.Definitions(jobs=[
        dg.define_asset_job("checks_only", selection=dg.AssetSelection.checks_for_assets(
            dg.AssetKey(key)))]))
    result = defs.resolve_job_def("checks_only").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_checks_pass_on_the_tiny_store(materialized: Path) -> None:
    evaluations = _run_checks(materialized, ["segments", "customer_segments"])
    assert set(evaluations) == {"row_count", "no_null_keys", "unique_keys", "values_in_range"}
    assert all(e.passed for e in evaluations.values())


def test_a_broken_table_fails_its_checks(materialized: Path, tmp_path: Path) -> None:
    broken = copy_warehouse(materialized, tmp_path)
    with duckdb.connect(str(broken)) as conn:
        conn.execute("""INSERT INTO segments.customer_segments
                        SELECT * FROM segments.customer_segments LIMIT 2""")
        conn.execute("UPDATE segments.customer_segments SET p_alive = 1.7 WHERE rowid < 3")
        conn.execute("UPDATE segments.rfm SET customer_id = NULL WHERE rowid = 0")
    segments = _run_checks(broken, ["segments", "customer_segments"])
    assert not segments["unique_keys"].passed
    assert segments["unique_keys"].metadata["observed"].value == "2"
    assert not segments["values_in_range"].passed
    assert segments["unique_keys"].severity == dg.AssetCheckSeverity.ERROR  # blocking
    assert segments["no_null_keys"].passed
    rfm = _run_checks(broken, ["segments", "rfm"])
    assert not rfm["no_null_keys"].passed
    assert rfm["no_null_keys"].severity == dg.AssetCheckSeverity.WARN


def test_a_stale_table_fails_freshness(materialized: Path, tmp_path: Path) -> None:
    stale = copy_warehouse(materialized, tmp_path)
    with duckdb.connect(str(stale)) as conn:
        conn.execute("DELETE FROM revenue.daily_sales WHERE sale_date > DATE '2026-03-20'")
    evaluations = _run_checks(stale, ["revenue", "daily_sales"])
    assert not evaluations["fresh"].passed
    assert evaluations["fresh"].metadata["observed"].value.startswith("2026-03-20")
