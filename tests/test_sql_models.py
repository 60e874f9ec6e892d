"""Every SQL model runs on DuckDB, and its BigQuery form parses (as do the contract's)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlglot

from analytics_pipeline.contract import validation
from analytics_pipeline.contract.schema import TABLES
from analytics_pipeline.ingest.load import load_source
from analytics_pipeline.sources import FolderSource
from analytics_pipeline.warehouse import DuckDBWarehouse, WarehouseURL, open_warehouse
from analytics_pipeline.warehouse.dialect import to_bigquery
from analytics_pipeline.warehouse.sql_models import SqlModel, discover
from tests.conftest import NOW, build_models

MODELS = discover()
CONTRACT_SQL = [s for t in TABLES for s in
                (*validation.prepare_statements(t), *validation.apply_statements(t))]


def test_models_are_found_with_their_dependencies() -> None:
    keys = {(m.domain, m.name): m.deps for m in MODELS}
    assert keys[("ingest", "sales_lines")] == {
        ("ingest", "orders"), ("ingest", "order_lines"), ("ingest", "products")
    }
    assert keys[("ingest", "current_stock")] == {("ingest", "inventory")}


@pytest.fixture(scope="module")
def loaded_tiny(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(tmp_path_factory.mktemp("wh") / "tiny.duckdb", "UTC")
    load_source(FolderSource(tiny_store), wh, NOW)
    build_models(wh)
    return wh


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.domain}.{m.name}")
def test_model_runs_on_duckdb(model: SqlModel, loaded_tiny: DuckDBWarehouse) -> None:
    (count,) = loaded_tiny.fetch_all(f"SELECT count(*) FROM {model.domain}.{model.name}")[0]
    assert int(str(count)) > 0


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.domain}.{m.name}")
def test_model_bigquery_form_parses(model: SqlModel) -> None:
    (statement,) = to_bigquery(model.create_statement, "proj", "retail")
    parsed = sqlglot.parse_one(statement, read="bigquery")
    tables = {t.sql("bigquery") for t in parsed.find_all(sqlglot.exp.Table) if t.db}
    assert all(t.startswith("proj.retail_") for t in tables), tables
    assert "$" not in statement  # parameters became @name


def test_contract_statements_bigquery_form_parses() -> None:
    for sql in CONTRACT_SQL:
        for statement in to_bigquery(sql, "proj", "retail"):
            sqlglot.parse_one(statement, read="bigquery")


def test_sales_lines_matches_direct_computation(loaded_tiny: DuckDBWarehouse) -> None:
    model_total = loaded_tiny.fetch_all("SELECT sum(revenue) FROM ingest.sales_lines")[0][0]
    direct = loaded_tiny.fetch_all(
        """SELECT sum(l.quantity * l.unit_price - sign(l.quantity) * l.discount)
           FROM ingest.order_lines l JOIN ingest.orders o USING (order_id)
           WHERE o.status = 'completed' AND o.ordered_at <= $as_of""", {"as_of": NOW}
    )[0][0]
    assert model_total == direct


BQ_URL = os.environ.get("ANALYTICS_TEST_BIGQUERY")  # e.g. bigquery://my-project/retail_test


@pytest.mark.bigquery
@pytest.mark.skipif(
    not (BQ_URL and os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")),
    reason="needs ANALYTICS_TEST_BIGQUERY=bigquery://PROJECT/DATASET and "
    "GOOGLE_APPLICATION_CREDENTIALS",
)
def test_tiny_store_loads_and_models_build_on_real_bigquery(tiny_store: Path) -> None:
    assert BQ_URL is not None
    location = WarehouseURL.parse(BQ_URL)
    wh = open_warehouse(BQ_URL, "UTC")
    report = load_source(FolderSource(tiny_store), wh, NOW)
    for model in MODELS:
        wh.execute(model.create_statement, {"as_of": NOW, "store_tz": "UTC"})
    rows = wh.fetch_all("SELECT count(*) FROM ingest.orders")[0][0]
    assert int(str(rows)) == report.tables["orders"].rows_in_table
    assert location.project
    wh.close()
