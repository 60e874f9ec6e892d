"""BigQuery without BigQuery: golden files of every SQL model's BigQuery form, their layout
(PARTITION BY / CLUSTER BY), and that values travel as bound parameters, never in the SQL."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
import sqlglot
from click.testing import CliRunner
from google.cloud import bigquery
from sqlglot import exp

from analytics_pipeline.assets.segments import CLV_SCHEMA
from analytics_pipeline.cli import main
from analytics_pipeline.ingest.load import load_source
from analytics_pipeline.inventory.tables import FORECAST_SCHEMA
from analytics_pipeline.sources import FolderSource
from analytics_pipeline.warehouse import DuckDBWarehouse, bigquery_golden
from analytics_pipeline.warehouse.bigquery_layout import LAYOUTS, layout_of
from analytics_pipeline.warehouse.bigquery_warehouse import load_job_config, query_config
from analytics_pipeline.warehouse.dialect import to_bigquery
from analytics_pipeline.warehouse.sql_models import SqlModel, discover
from tests.conftest import NOW, build_models

GOLDEN_DIR = Path(__file__).parent / "golden" / "bigquery"
MODELS = discover()
GOLDENS = sorted(GOLDEN_DIR.glob("*/*.sql"))
_DOLLAR = re.compile(r"\$([a-z_][a-z0-9_]*)")


def _parse_golden(path: Path) -> exp.Create:
    statements = [s for s in sqlglot.parse(path.read_text(encoding="utf-8"), read="bigquery") if s]
    assert len(statements) == 1, f"{path}: expected one statement"
    (statement,) = statements
    assert isinstance(statement, exp.Create), f"{path}: not a CREATE TABLE"
    return statement


@pytest.mark.parametrize("path", GOLDENS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_parses_as_bigquery_with_its_layout(path: Path) -> None:
    create = _parse_golden(path)
    target = create.this
    assert isinstance(target, exp.Table)
    assert (target.catalog, target.db, target.name) == (
        bigquery_golden.GOLDEN_PROJECT, f"{bigquery_golden.GOLDEN_DATASET}_{path.parent.name}",
        path.stem)
    properties = create.args.get("properties")
    found = {type(p).__name__: p.sql("bigquery") for p in (properties.expressions
                                                            if properties else [])}
    layout = layout_of(path.parent.name, path.stem)
    wanted = {type(p).__name__: p.sql("bigquery") for p in (layout.properties()
                                                           if layout else [])}
    assert found == wanted


def test_goldens_equal_the_current_transpilation() -> None:
    diff = bigquery_golden.compare(GOLDEN_DIR)
    assert not diff.changed, diff.describe()
    assert not diff.stale, diff.describe()


def test_every_sql_model_has_a_golden() -> None:
    diff = bigquery_golden.compare(GOLDEN_DIR)
    assert not diff.missing, diff.describe()
    assert len(GOLDENS) == len(MODELS)


def test_golden_command_writes_new_models_and_drops_stale_ones(tmp_path: Path) -> None:
    runner = CliRunner()
    checked = runner.invoke(main, ["bigquery", "golden", "--dir", str(tmp_path)])
    assert checked.exit_code == 1
    assert "analytics-pipeline bigquery golden --write" in checked.output
    (tmp_path / "gone").mkdir()
    (tmp_path / "gone" / "old_table.sql").write_text("SELECT 1;\n")
    written = runner.invoke(main, ["bigquery", "golden", "--write", "--dir", str(tmp_path)])
    assert written.exit_code == 0, written.output
    assert not (tmp_path / "gone" / "old_table.sql").exists()
    assert runner.invoke(main, ["bigquery", "golden", "--dir", str(tmp_path)]).exit_code == 0
    # A model added later (as other domains add theirs) is missing until written.
    extra = SqlModel("recommendations", "brand_new", "SELECT product_id FROM ingest.products")
    diff = bigquery_golden.write(tmp_path, [*MODELS, extra])
    assert diff.missing == ["recommendations/brand_new.sql"]
    golden = _parse_golden(tmp_path / "recommendations" / "brand_new.sql")
    assert golden.this.sql("bigquery") == "`my-project`.retail_recommendations.brand_new"


def test_sql_command_prints_one_model_and_names_unknown_ones() -> None:
    runner = CliRunner()
    shown = runner.invoke(main, ["bigquery", "sql", "revenue.product_daily_sales",
                                 "--project", "acme-prod", "--dataset", "pulse"])
    assert shown.exit_code == 0, shown.output
    assert "`acme-prod`.pulse_revenue.product_daily_sales" in shown.output
    assert "PARTITION BY DATE_TRUNC(sale_date, MONTH)" in shown.output
    unknown = runner.invoke(main, ["bigquery", "sql", "revenue.nope"])
    assert unknown.exit_code != 0 and "no SQL model 'revenue.nope'" in unknown.output


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.domain}.{m.name}")
def test_values_are_bound_parameters(model: SqlModel) -> None:
    (statement,) = to_bigquery(model.create_statement, "my-project", "retail")
    parsed = sqlglot.parse_one(statement, read="bigquery")
    bound = {p.name for p in parsed.find_all(exp.Parameter)}
    # Every $name of the DuckDB model is an @name in BigQuery (plus @store_tz where the
    # transpiler needs the zone) and nothing is left as a DuckDB placeholder.
    assert set(_DOLLAR.findall(model.query)) <= bound <= {*_DOLLAR.findall(model.query),
                                                         "store_tz"}
    assert not list(parsed.find_all(exp.Placeholder))
    named = {name: _SENTINELS[i % len(_SENTINELS)] for i, name in enumerate(sorted(bound))}
    config = query_config(statement, named)
    params = {p.name: (p.type_, p.value) for p in config.query_parameters}
    assert params.keys() == bound
    for value in named.values():
        assert str(value) not in statement  # the values stay out of the SQL text


_SENTINELS: list[object] = [
    dt.datetime(2031, 7, 9, 13, 37, tzinfo=dt.UTC), "Pacific/Chatham", 0.123457, 7919,
    Decimal("4.5678"), dt.date(2031, 2, 3),
]


def test_parameter_types_follow_the_python_values() -> None:
    config = query_config(
        "SELECT @a, @b, @c, @d, @e, @f, @g",
        {"a": True, "b": 3, "c": 0.5, "d": Decimal("1.25"), "e": dt.datetime(2026, 1, 1,
         tzinfo=dt.UTC), "f": dt.date(2026, 1, 1), "g": "Europe/Paris", "unused": 1},
    )
    types = {p.name: p.type_ for p in config.query_parameters}
    assert types == {"a": "BOOL", "b": "INT64", "c": "FLOAT64", "d": "NUMERIC",
                     "e": "TIMESTAMP", "f": "DATE", "g": "STRING"}
    with pytest.raises(KeyError, match="missing"):
        query_config("SELECT @missing", {"other": 1})


def test_duckdb_constructs_keep_their_meaning() -> None:
    (diff,) = to_bigquery(
        "SELECT date_diff('day', ordered_at, CAST($as_of AS TIMESTAMPTZ)) AS age,"
        " date_diff('day', first_day, last_day) AS span, median(x) AS mid FROM ingest.t",
        "my-project", "retail")
    # Timestamps are compared as store-local calendar days, like DuckDB's session zone.
    assert ("DATE_DIFF(DATE(CAST(@as_of AS TIMESTAMP), @store_tz), DATE(ordered_at, @store_tz),"
            " DAY) AS age") in diff
    assert "DATE_DIFF(last_day, first_day, DAY) AS span" in diff
    assert "APPROX_QUANTILES(x, 2)[OFFSET(1)] AS mid" in diff


def test_window_orderings_keep_duckdb_null_placement() -> None:
    (sql,) = to_bigquery(
        "SELECT SUM(v) OVER running AS total, LAG(m) OVER (PARTITION BY c ORDER BY m) AS prev,"
        " SUM(v) OVER (ORDER BY m DESC) AS down FROM segments.t"
        " WINDOW running AS (PARTITION BY c ORDER BY m ROWS UNBOUNDED PRECEDING)",
        "my-project", "retail")
    # The named window is spelled out; an aggregate's ascending key sorts NULLs last by
    # an extra key (BigQuery takes no NULLS LAST there), navigation takes NULLS LAST.
    assert ("SUM(v) OVER (PARTITION BY c ORDER BY m IS NULL, m ROWS BETWEEN UNBOUNDED"
            " PRECEDING AND CURRENT ROW) AS total") in sql
    assert "LAG(m) OVER (PARTITION BY c ORDER BY m NULLS LAST) AS prev" in sql
    assert "SUM(v) OVER (ORDER BY m DESC) AS down" in sql
    assert "WINDOW" not in sql


def test_create_table_of_a_laid_out_table_gets_its_clauses() -> None:
    (ddl,) = to_bigquery("CREATE TABLE IF NOT EXISTS ingest.orders (order_id VARCHAR,"
                         " ordered_at TIMESTAMPTZ, customer_id VARCHAR)", "p-1", "r")
    assert ddl.endswith(") PARTITION BY TIMESTAMP_TRUNC(ordered_at, MONTH) CLUSTER BY "
                        "customer_id")
    (plain,) = to_bigquery("CREATE OR REPLACE TABLE revenue.daily_sales AS SELECT 1 AS x",
                           "p-1", "r")
    assert "PARTITION" not in plain and "CLUSTER" not in plain


def test_load_jobs_get_the_same_layout() -> None:
    config = load_job_config("ingest", "sales_lines")
    assert config.time_partitioning == bigquery.TimePartitioning(type_="MONTH", field="sale_date")
    assert config.clustering_fields == ["product_id", "customer_id"]
    assert config.write_disposition == bigquery.WriteDisposition.WRITE_TRUNCATE
    plain = load_job_config("revenue", "targets_input")
    assert plain.time_partitioning is None and plain.clustering_fields is None


def test_layouts_refuse_what_bigquery_refuses() -> None:
    from analytics_pipeline.warehouse.bigquery_layout import TableLayout

    with pytest.raises(ValueError, match="at most four"):
        TableLayout(cluster_by=("a", "b", "c", "d", "e"))
    with pytest.raises(ValueError, match="identifier"):
        TableLayout(partition_column="day; DROP TABLE x")
    assert len(LAYOUTS) >= 10


# Tables Python assets write (with load_arrow, or SQL they compose): their columns.
CLUSTERS_COLUMNS = pa.schema([("customer_id", pa.string()), ("cluster_id", pa.int64()),
                              ("cluster_label", pa.string())])
ARROW_TABLES = {("segments", "customer_clv"): CLV_SCHEMA,
                ("segments", "clusters"): CLUSTERS_COLUMNS,
                ("inventory", "demand_forecast"): FORECAST_SCHEMA}


@pytest.fixture(scope="module")
def tiny_types(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> dict[tuple[str, str], dict[str, str]]:
    """Column types of every table the tiny store's load and SQL models make (DuckDB)."""
    wh = DuckDBWarehouse(tmp_path_factory.mktemp("layout") / "tiny.duckdb", "UTC")
    load_source(FolderSource(tiny_store), wh, NOW)
    build_models(wh)
    types: dict[tuple[str, str], dict[str, str]] = {}
    for schema, table, column, kind in wh.fetch_all(
            "SELECT table_schema, table_name, column_name, data_type"
            " FROM information_schema.columns"):
        types.setdefault((str(schema), str(table)), {})[str(column)] = str(kind)
    wh.close()
    for key, arrow in ARROW_TABLES.items():
        types[key] = {f.name: "DATE" if pa.types.is_date(f.type) else str(f.type) for f in arrow}
    return types


@pytest.mark.parametrize("key", sorted(LAYOUTS), ids=lambda k: ".".join(k))
def test_layout_columns_exist_with_the_declared_type(
    key: tuple[str, str], tiny_types: dict[tuple[str, str], dict[str, str]]
) -> None:
    layout = LAYOUTS[key]
    columns = tiny_types[key]
    for column in layout.cluster_by:
        assert column in columns, f"{key}: no column {column} to cluster by"
    if layout.partition_column:
        kind = columns[layout.partition_column]
        expected = "DATE" if layout.partition_type == "DATE" else "TIMESTAMP WITH TIME ZONE"
        assert kind == expected, f"{key}.{layout.partition_column} is {kind}"
