"""The dashboard's read endpoints against figures computed straight from the ingested rows:
trends, top products, customer value, turnover and reorder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from analytics_pipeline.api.app import create_app
from analytics_pipeline.serving.snapshot import current_snapshot
from analytics_pipeline.settings import Settings
from tests.api_support import app_client, get_json, materialize
from tests.api_support import warehouse_rows as _rows

AS_OF = "2026-03-31T15:00:00"
BATCH_DAY = date(2026, 3, 31)
READ = {"Authorization": "Bearer reader"}
ENDPOINTS = ("/api/revenue/trends", "/api/revenue/products/top", "/api/revenue/customers/ltv",
             "/api/inventory/turnover", "/api/inventory/reorder")
# Completed order lines up to the batch's as_of, straight from the ingested orders.
RAW_LINES = f"""
    SELECT l.order_id, o.customer_id, COALESCE(o.channel, 'unknown') AS channel,
           CAST(timezone('UTC', o.ordered_at) AS DATE) AS day, l.quantity,
           l.quantity * l.unit_price - sign(l.quantity) * l.discount AS revenue
    FROM ingest.order_lines AS l JOIN ingest.orders AS o USING (order_id)
    WHERE o.status = 'completed' AND o.ordered_at <= TIMESTAMPTZ '{AS_OF}+00:00'"""


@pytest.fixture(scope="module")
def warehouse_path(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("panels") / "warehouse.duckdb"
    materialize(tiny_store, path, AS_OF)
    return path


@pytest.fixture(scope="module")
def client(warehouse_path: Path) -> Iterator[TestClient]:
    with app_client(warehouse_path) as test_client:
        yield test_client


def _get(client: TestClient, url: str) -> dict[str, Any]:
    return get_json(client, url, READ)


def _cents(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_trends_30d_match_the_raw_orders(client: TestClient, warehouse_path: Path) -> None:
    body = _get(client, f"/api/revenue/trends?window=30d&as_of={AS_OF}")
    first, before = date(2026, 3, 2), date(2026, 1, 31)
    raw = f"""SELECT sum(revenue), count(DISTINCT order_id) FILTER (WHERE quantity > 0),
                     sum(quantity)
              FROM ({RAW_LINES}) WHERE day BETWEEN $first AND $last"""
    now = _rows(warehouse_path, raw, {"first": first, "last": BATCH_DAY})[0]
    then = _rows(warehouse_path, raw, {"first": before, "last": first - timedelta(days=1)})[0]
    totals = body["totals"]
    assert (Decimal(totals["revenue"]), totals["orders"], totals["units"]) == (
        _cents(now[0]), now[1], now[2])
    assert Decimal(body["previous_totals"]["revenue"]) == _cents(then[0])
    assert body["revenue_change_pct"] == round(float(now[0] / then[0] - 1) * 100, 2)
    assert Decimal(totals["average_order_value"]) == _cents(now[0] / now[1])
    days = body["days"]
    assert [d["date"] for d in days] == [str(first + timedelta(days=i)) for i in range(30)]
    assert sum(Decimal(d["revenue"]) for d in days) == Decimal(totals["revenue"])
    channels = _rows(warehouse_path, f"""SELECT channel, sum(revenue) FROM ({RAW_LINES})
        WHERE day BETWEEN $first AND $last GROUP BY 1 ORDER BY 2 DESC""",
                     {"first": first, "last": BATCH_DAY})
    assert [(c["channel"], Decimal(c["revenue"])) for c in body["by_channel"]] == [
        (name, _cents(revenue)) for name, revenue in channels]
    assert body["data_as_of"] == "2026-03-31T15:00:00Z" and body["window"] == "30d"


def test_trends_margin_and_categories_match_sales_lines(
    client: TestClient, warehouse_path: Path
) -> None:
    body = _get(client, "/api/revenue/trends?window=7d&as_of=2026-03-31")
    margin, with_cost = _rows(warehouse_path, """
        SELECT sum(revenue - cost), sum(revenue) FILTER (WHERE cost IS NOT NULL)
        FROM ingest.sales_lines WHERE sale_date BETWEEN DATE '2026-03-25' AND DATE '2026-03-31'
    """)[0]
    assert Decimal(body["totals"]["gross_margin"]) == _cents(margin)
    assert body["totals"]["gross_margin_pct"] == round(float(margin / with_cost) * 100, 2)
    categories = _rows(warehouse_path, """
        SELECT category, sum(revenue) FROM ingest.sales_lines
        WHERE sale_date BETWEEN DATE '2026-03-25' AND DATE '2026-03-31'
        GROUP BY 1 ORDER BY 2 DESC, 1""")
    assert [(c["category"], Decimal(c["revenue"])) for c in body["by_category"]] == [
        (name, _cents(revenue)) for name, revenue in categories]
    assert len(body["days"]) == 7 and body["days"][-1]["date"] == "2026-03-31"


def test_trends_for_any_day_of_the_history_and_before_it(
    client: TestClient, warehouse_path: Path
) -> None:
    body = _get(client, "/api/revenue/trends?window=90d&as_of=2025-12-15")
    (revenue,) = _rows(warehouse_path, """SELECT sum(revenue) FROM ingest.sales_lines
        WHERE sale_date BETWEEN DATE '2025-09-17' AND DATE '2025-12-15'""")[0]
    assert Decimal(body["totals"]["revenue"]) == _cents(revenue) > 0
    assert body["previous_totals"]["revenue"] == "0.00"  # before the history began
    assert body["revenue_change_pct"] is None
    empty = _get(client, "/api/revenue/trends?window=7d&as_of=2024-01-10")
    assert [d["revenue"] for d in empty["days"]] == ["0.00"] * 7
    assert empty["by_channel"] == empty["by_category"] == []
    assert empty["totals"]["orders"] == 0 and empty["totals"]["average_order_value"] is None


@pytest.mark.parametrize(("by", "window", "as_of"), [
    ("margin", "30d", AS_OF), ("revenue", "90d", "2026-01-15"), ("margin_pct", "30d", AS_OF),
])
def test_top_products_rank_like_the_sales_lines(
    client: TestClient, warehouse_path: Path, by: str, window: str, as_of: str
) -> None:
    body = _get(client, f"/api/revenue/products/top?by={by}&window={window}&as_of={as_of}"
                        "&limit=10")
    last = date.fromisoformat(as_of[:10])
    figure = {"margin": "sum(revenue - cost)", "revenue": "sum(revenue)",
              "margin_pct": "100 * sum(revenue - cost) / sum(revenue) FILTER "
                            "(WHERE cost IS NOT NULL)"}[by]
    expected = _rows(warehouse_path, f"""
        SELECT s.product_id, p.name, {figure} AS figure, sum(quantity)
        FROM ingest.sales_lines AS s LEFT JOIN ingest.products AS p USING (product_id)
        WHERE sale_date BETWEEN $first AND $last GROUP BY 1, 2
        HAVING figure IS NOT NULL ORDER BY figure DESC, 1 LIMIT 10""",
        {"first": last - timedelta(days=int(window[:-1]) - 1), "last": last})
    products = body["products"]
    assert [p["product_id"] for p in products] == [row[0] for row in expected]
    assert [p["rank"] for p in products] == list(range(1, 11))  # no ties in this store
    assert [p["name"] for p in products] == [row[1] for row in expected]
    assert [p["units"] for p in products] == [row[3] for row in expected]
    key = {"margin": "gross_margin", "revenue": "revenue", "margin_pct": "margin_pct"}[by]
    shown = [p[key] for p in products]
    if by == "margin_pct":
        assert shown == [round(float(row[2]), 2) for row in expected]
    else:
        assert [Decimal(v) for v in shown] == [_cents(row[2]) for row in expected]
    assert (body["by"], body["window"]) == (by, window)


def test_customer_ltv_matches_the_customers_orders(
    client: TestClient, warehouse_path: Path
) -> None:
    body = _get(client, f"/api/revenue/customers/ltv?as_of={AS_OF}")
    customers, total, median = _rows(warehouse_path, """
        SELECT count(*), sum(value), median(value) FROM (
          SELECT customer_id, sum(revenue) AS value FROM ingest.sales_lines
          WHERE customer_id IS NOT NULL GROUP BY 1)""")[0]
    assert body["customers"] == customers > 0
    assert Decimal(body["average_ltv"]) == _cents(total / customers)
    assert Decimal(body["median_ltv"]) == _cents(median)
    (predicted,) = _rows(warehouse_path, "SELECT avg(predicted_clv) FROM segments.customer_clv")[0]
    assert body["predicted_available"] is True and predicted is not None
    assert Decimal(body["average_predicted_clv"]) == _cents(predicted)
    buckets = body["distribution"]
    assert sum(b["customers"] for b in buckets) == customers
    assert round(sum(b["revenue_share_pct"] for b in buckets), 1) == 100.0
    (in_band,) = _rows(warehouse_path, """SELECT count(*) FROM (
        SELECT customer_id FROM ingest.sales_lines WHERE customer_id IS NOT NULL
        GROUP BY 1 HAVING sum(revenue) >= 100 AND sum(revenue) < 250)""")[0]
    assert next(b for b in buckets if b["label"] == "100-250")["customers"] == in_band


def test_ltv_cohorts_are_the_last_twelve(client: TestClient, warehouse_path: Path) -> None:
    cohorts = _get(client, f"/api/revenue/customers/ltv?as_of={AS_OF}")["cohorts"]
    months = sorted({c["cohort_month"] for c in cohorts})
    # The tiny store's history starts in October 2025: six cohorts, fewer than the cap.
    assert months == [f"{m[:7]}-01" for m in ("2025-10", "2025-11", "2025-12", "2026-01",
                                              "2026-02", "2026-03")]
    (march,) = _rows(warehouse_path, """SELECT count(*) FROM (
        SELECT customer_id FROM ingest.sales_lines WHERE customer_id IS NOT NULL AND quantity > 0
        GROUP BY 1 HAVING min(sale_date) >= DATE '2026-03-01')""")[0]
    newest = [c for c in cohorts if c["cohort_month"] == "2026-03-01"]
    assert [(c["months_since_first"], c["customers"]) for c in newest] == [(0, march)]
    october = [c for c in cohorts if c["cohort_month"] == "2025-10-01"]
    assert [c["months_since_first"] for c in october] == list(range(6))
    per_customer = [Decimal(c["cumulative_revenue_per_customer"]) for c in october]
    assert per_customer[-1] > per_customer[0] > 0


def test_turnover_matches_the_table_and_the_sales(
    client: TestClient, warehouse_path: Path
) -> None:
    body = _get(client, f"/api/inventory/turnover?as_of={AS_OF}&limit=5")
    table = {row[0]: row[1:] for row in _rows(warehouse_path, """
        SELECT category, units_sold_90d, on_hand, turnover_annualized, cogs_90d
        FROM inventory.turnover WHERE level = 'category'""")}
    assert {c["category"] for c in body["categories"]} == set(table)
    for shown in body["categories"]:
        units, on_hand, rate, cogs = table[shown["category"]]
        assert (shown["units_sold_90d"], shown["on_hand"]) == (units, on_hand)
        assert shown["turnover_per_year"] == (None if rate is None else round(rate, 2))
        assert Decimal(shown["cogs_90d"]) == _cents(cogs)
    # Units sold per category over the last 90 days, from the order lines themselves.
    sold = dict(_rows(warehouse_path, """
        SELECT p.category, sum(s.quantity) FROM ingest.sales_lines AS s
        JOIN ingest.products AS p USING (product_id)
        WHERE s.sale_date > DATE '2026-03-31' - 90 GROUP BY 1"""))
    assert {c["category"]: c["units_sold_90d"] for c in body["categories"]} == sold
    fastest = _rows(warehouse_path, """SELECT product_id FROM inventory.turnover
        WHERE level = 'product' ORDER BY turnover_annualized DESC NULLS LAST, product_id
        LIMIT 5""")
    assert [p["product_id"] for p in body["products"]] == [row[0] for row in fastest]
    rates = [c["turnover_per_year"] for c in body["categories"] if c["turnover_per_year"]]
    assert rates == sorted(rates, reverse=True)


def test_reorder_lists_the_forecast_driven_suggestions(
    client: TestClient, warehouse_path: Path
) -> None:
    items = _get(client, f"/api/inventory/reorder?as_of={AS_OF}")["items"]
    table = {row[0]: row[1:] for row in _rows(warehouse_path, """
        SELECT product_id, suggested_quantity, revenue_at_risk, expected_stockout_date,
               forecast_units + safety_stock - on_hand - on_order
        FROM inventory.reorder_suggestions""")}
    assert items and {i["product_id"] for i in items} == set(table)
    on_hand = dict(_rows(warehouse_path, f"""
        SELECT product_id, sum(on_hand) FROM (
          SELECT product_id, on_hand, row_number() OVER (
            PARTITION BY product_id, location_id ORDER BY as_of DESC) AS recency
          FROM ingest.inventory WHERE as_of <= TIMESTAMPTZ '{AS_OF}+00:00')
        WHERE recency = 1 GROUP BY 1"""))
    for item in items:
        quantity, at_risk, stockout, shortfall = table[item["product_id"]]
        assert item["suggested_quantity"] == quantity > 0
        assert quantity >= shortfall  # rounded up (to whole units or packs), never down
        assert Decimal(item["revenue_at_risk"]) == _cents(at_risk)
        assert item["expected_stockout_date"] == (None if stockout is None else str(stockout))
        assert item["on_hand"] == on_hand[item["product_id"]]


@pytest.mark.parametrize("url", [
    "/api/revenue/trends?window=14d", "/api/revenue/trends?window=",
    "/api/revenue/products/top?by=units", "/api/revenue/products/top?window=7d",
    "/api/revenue/products/top?limit=0", "/api/revenue/products/top?limit=101",
    "/api/inventory/turnover?limit=0", "/api/revenue/trends?as_of=yesterday",
    "/api/revenue/trends?as_of=0001-01-01",
])
def test_bad_parameters_are_422(client: TestClient, url: str) -> None:
    assert client.get(url, headers=READ).status_code == 422


@pytest.mark.parametrize("path", ENDPOINTS[2:])
def test_point_in_time_figures_refuse_an_earlier_day(client: TestClient, path: str) -> None:
    response = client.get(f"{path}?as_of=2026-03-30T23:00:00", headers=READ)
    assert response.status_code == 422
    message = response.json()["detail"][0]["msg"]
    assert "2026-03-30" in message and "materialize --as-of 2026-03-30" in message
    same_day = _get(client, f"{path}?as_of=2026-03-31T08:00:00")  # earlier hour, same day
    later = _get(client, f"{path}?as_of=2026-04-20")
    assert same_day["data_as_of"] == later["data_as_of"] == "2026-03-31T15:00:00Z"
    assert later["as_of"] == "2026-04-20T23:59:59.999999Z"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_reads_need_a_key_once_keys_are_configured(client: TestClient, path: str) -> None:
    assert client.get(f"{path}?as_of={AS_OF}").status_code == 401
    assert client.get(f"{path}?as_of={AS_OF}", headers={"Authorization": "Bearer x"}
                      ).status_code == 401
    assert client.get(f"{path}?as_of={AS_OF}", headers=READ).status_code == 200


def _edited_snapshot(warehouse: Path, folder: Path, *statements: str) -> Settings:
    """Settings serving a copy of the published snapshot changed by ``statements``."""
    published = current_snapshot(warehouse.parent / "serving")
    assert published is not None
    folder.mkdir()
    shutil.copy(published, folder / published.name)
    (folder / "CURRENT").write_text(published.name)
    with duckdb.connect(str(folder / published.name)) as conn:
        for statement in statements:
            conn.execute(statement)
    return Settings.from_env({}, warehouse_url=f"duckdb:///{warehouse}", serving_dir=str(folder),
                             redis_url=None)


def test_empty_tables_give_empty_lists_and_a_missing_one_a_503(
    warehouse_path: Path, tmp_path: Path
) -> None:
    settings = _edited_snapshot(
        warehouse_path, tmp_path / "serving",
        *(f"DELETE FROM {table}" for table in (
            "revenue.product_daily_sales", "revenue.top_products", "revenue.customer_ltv",
            "revenue.ltv_distribution", "revenue.ltv_cohorts",
            "inventory.reorder_suggestions")),
        "DROP TABLE inventory.turnover",
    )
    with TestClient(create_app(settings)) as empty:
        top = empty.get(f"/api/revenue/products/top?as_of={AS_OF}").json()
        ltv = empty.get(f"/api/revenue/customers/ltv?as_of={AS_OF}").json()
        reorder = empty.get(f"/api/inventory/reorder?as_of={AS_OF}").json()
        missing = empty.get(f"/api/inventory/turnover?as_of={AS_OF}")
    assert top["products"] == [] and reorder["items"] == []
    assert (ltv["customers"], ltv["average_ltv"], ltv["median_ltv"]) == (0, None, None)
    assert ltv["distribution"] == ltv["cohorts"] == []
    assert missing.status_code == 503
    assert "inventory.turnover" in missing.json()["detail"]


def test_published_clv_predictions_are_reported(warehouse_path: Path, tmp_path: Path) -> None:
    settings = _edited_snapshot(
        warehouse_path, tmp_path / "serving", "CREATE SCHEMA IF NOT EXISTS segments",
        "CREATE OR REPLACE TABLE segments.customer_clv AS "
        "SELECT * FROM (VALUES ('c1', 120.0), ('c2', 80.5)) AS t(customer_id, predicted_clv)",
    )
    with TestClient(create_app(settings)) as predicted:
        body = predicted.get(f"/api/revenue/customers/ltv?as_of={AS_OF}").json()
    assert body["predicted_available"] is True
    assert body["average_predicted_clv"] == "100.25"
