"""Revenue models: hand-computed figures on a small shop, and the tiny store checked against
an independent pandas computation over the raw tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from analytics_pipeline.assets.revenue import TargetsFileError, targets_input, write_targets
from analytics_pipeline.definitions import build_definitions
from analytics_pipeline.ingest.load import load_source
from analytics_pipeline.resources import TargetsResource, WarehouseResource
from analytics_pipeline.settings import Settings
from analytics_pipeline.sources import FolderSource
from analytics_pipeline.warehouse import DuckDBWarehouse
from analytics_pipeline.warehouse.sql_models import SqlModel, discover
from tests.conftest import NOW, build_models, models_reading, write_folder

MY_DOMAINS = ("revenue", "inventory")

# A shop small enough to work every figure out by hand (as_of = NOW = 2026-03-31 23:00 UTC).
# o4 is an order of returns only; o5 is refunded and o6 void (they count nowhere); o9 comes
# after as_of; o7 is a walk-in; o10 mixes a sale and a return; o12 is c4's only order, a
# return; p3 has no cost anywhere; p2's lines take the product's cost.
SHOP = {
    "products.csv": """product_id,name,category,unit_cost,unit_price,lead_time_days,supplier
p1,Mug,kitchen,4.00,10.00,5,acme
p2,Tea,grocery,2.50,6.00,7,leafco
p3,Mystery box,gifts,,5.00,3,
""",
    "orders.csv": """order_id,customer_id,ordered_at,channel,status
o1,c1,2025-03-01T10:00:00,store,completed
o2,c2,2025-03-15T12:00:00,online,completed
o3,c1,2026-03-10T09:00:00,store,completed
o4,c1,2026-03-12T09:00:00,store,completed
o5,c2,2026-03-12T15:00:00,online,refunded
o6,,2026-03-12T16:00:00,store,void
o7,,2026-03-20T11:00:00,store,completed
o8,c3,2026-03-31T22:30:00,online,completed
o9,c3,2026-04-01T01:00:00,online,completed
o10,c2,2026-03-25T10:00:00,store,completed
o11,c3,2026-02-10T10:00:00,store,completed
o12,c4,2026-03-05T10:00:00,store,completed
""",
    "order_lines.csv": """order_id,line_number,product_id,quantity,unit_price,discount,unit_cost
o1,1,p1,2,10.00,1.00,4.00
o1,2,p2,1,6.00,0,
o2,1,p1,3,10.00,0,
o3,1,p1,1,10.00,0,
o3,2,p3,2,5.00,0,
o4,1,p1,-1,10.00,0,
o5,1,p2,5,6.00,0,
o6,1,p1,4,10.00,0,
o7,1,p2,4,6.00,2.00,
o8,1,p1,3,10.00,0,
o9,1,p1,7,10.00,0,
o10,1,p2,2,6.00,0,
o10,2,p1,-1,10.00,0,
o11,1,p3,10,5.00,0,
o12,1,p2,-1,6.00,0,
""",
}
SHOP_REVENUE = 25 + 30 + 20 - 10 + 22 + 30 + 2 + 50 - 6  # o1..o12 without o5, o6, o9
MARCH_2025_REVENUE = 25 + 30  # o1 + o2: the base of March 2026's fallback target


def my_models() -> list[SqlModel]:
    """The revenue and inventory models plus every model they read, in build order."""
    return models_reading(*((m.domain, m.name) for m in discover() if m.domain in MY_DOMAINS))


def build_shop(
    folder: Path, db: Path, targets: Path | None = None, growth: float = 0.05
) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(db, "UTC")
    load_source(FolderSource(folder), wh, NOW)
    build_models(wh, my_models(), targets, target_growth=growth)
    return wh


def rows(wh: DuckDBWarehouse, sql: str) -> list[dict[str, Any]]:
    # Straight from DuckDB rather than through pandas, which turns DATEs into Timestamps.
    cursor = wh._conn.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def one(wh: DuckDBWarehouse, sql: str) -> dict[str, Any]:
    (row,) = rows(wh, sql)
    return row


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBWarehouse]:
    base = tmp_path_factory.mktemp("shop")
    wh = build_shop(write_folder(base / "src", SHOP), base / "shop.duckdb")
    yield wh
    wh.close()


# --- daily sales ------------------------------------------------------------------------


def test_daily_sales_spine_has_every_day_and_channel(shop: DuckDBWarehouse) -> None:
    summary = one(shop, """SELECT count(*) AS n, count(DISTINCT sale_date) AS days,
                           min(sale_date) AS first, max(sale_date) AS last,
                           sum(revenue) AS revenue FROM revenue.daily_sales""")
    # 2025-03-01 .. 2026-03-31 is 396 days, each with a store and an online row.
    assert summary == {"n": 792, "days": 396, "first": dt.date(2025, 3, 1),
                       "last": dt.date(2026, 3, 31), "revenue": SHOP_REVENUE}
    quiet = one(shop, """SELECT * FROM revenue.daily_sales
                         WHERE sale_date = DATE '2026-03-11' AND channel = 'store'""")
    assert quiet == {"sale_date": dt.date(2026, 3, 11), "channel": "store", "revenue": 0,
                     "orders": 0, "units": 0, "returned_units": 0, "gross_margin": 0,
                     "revenue_with_cost": 0, "cost_coverage": None}


def test_daily_sales_returns_count_on_their_own_day_and_refunds_nowhere(
    shop: DuckDBWarehouse
) -> None:
    day = {r["channel"]: r for r in rows(
        shop, "SELECT * FROM revenue.daily_sales WHERE sale_date = DATE '2026-03-12'")}
    # o4 (a return only) counts, o5 (refunded, online) and o6 (void, store) do not.
    assert day["store"]["revenue"] == -10
    assert day["store"]["orders"] == 0
    assert day["store"]["units"] == -1
    assert day["store"]["returned_units"] == 1
    assert day["store"]["gross_margin"] == -6
    assert day["online"]["revenue"] == 0 and day["online"]["orders"] == 0
    mixed = one(shop, """SELECT * FROM revenue.daily_sales
                         WHERE sale_date = DATE '2026-03-25' AND channel = 'store'""")
    assert (mixed["revenue"], mixed["orders"], mixed["units"], mixed["returned_units"],
            mixed["gross_margin"]) == (2, 1, 1, 1, (12 - 5) + (-10 + 4))


def test_daily_sales_margin_covers_known_costs_only(shop: DuckDBWarehouse) -> None:
    day = one(shop, """SELECT * FROM revenue.daily_sales
                       WHERE sale_date = DATE '2026-03-10' AND channel = 'store'""")
    # o3: p1 (10 revenue, cost 4) and p3 (10 revenue, cost unknown).
    assert (day["revenue"], day["orders"], day["units"]) == (20, 1, 3)
    assert (day["gross_margin"], day["revenue_with_cost"], day["cost_coverage"]) == (6, 10, 0.5)
    last = one(shop, """SELECT revenue FROM revenue.daily_sales
                        WHERE sale_date = DATE '2026-03-31' AND channel = 'online'""")
    assert last["revenue"] == 30  # o8 at 22:30 is before as_of; o9 the next day is not


def test_product_daily_sales_by_hand(shop: DuckDBWarehouse) -> None:
    got = {(r["sale_date"], r["product_id"]): r for r in rows(
        shop, "SELECT * FROM revenue.product_daily_sales")}
    p1_return = got[(dt.date(2026, 3, 25), "p1")]
    assert (p1_return["revenue"], p1_return["units"], p1_return["returned_units"],
            p1_return["cost"], p1_return["gross_margin"]) == (-10, -1, 1, -4, -6)
    mystery = got[(dt.date(2026, 3, 10), "p3")]
    assert mystery["gross_margin"] is None and mystery["lines_without_cost"] == 1
    assert mystery["category"] == "gifts"
    # Only o4's return on 2026-03-12: the refunded tea and the void mugs are not sales.
    assert [k for k in got if k[0] == dt.date(2026, 3, 12)] == [(dt.date(2026, 3, 12), "p1")]
    assert got[(dt.date(2026, 3, 12), "p1")]["units"] == -1
    assert sum(r["revenue"] for r in got.values()) == SHOP_REVENUE


# --- targets ----------------------------------------------------------------------------


def test_monthly_target_falls_back_to_last_year_plus_growth(shop: DuckDBWarehouse) -> None:
    months = {r["month"]: r for r in rows(shop, "SELECT * FROM revenue.monthly_targets")}
    assert sorted(months) == [dt.date(2025 + (2 + i) // 12, (2 + i) % 12 + 1, 1)
                              for i in range(13)]
    march = months[dt.date(2026, 3, 1)]
    assert march["target_source"] == "same month last year +5%"
    assert march["last_year_revenue"] == MARCH_2025_REVENUE
    assert float(march["target_revenue"]) == pytest.approx(MARCH_2025_REVENUE * 1.05)
    assert march["actual_revenue"] == 20 - 10 + 22 + 30 + 2 - 6
    assert (march["days_in_month"], march["days_elapsed"]) == (31, 31)
    for month in (dt.date(2025, 3, 1), dt.date(2026, 2, 1)):
        assert months[month]["target_revenue"] is None
        assert months[month]["target_source"] == "no target (no sales a year earlier)"
    assert months[dt.date(2026, 2, 1)]["actual_revenue"] == 50


@pytest.mark.parametrize(("growth", "label"), [(0.1, "+10%"), (0.075, "+7.5%"), (-0.03, "-3%")])
def test_target_growth_parameter_sets_value_and_label(
    tmp_path: Path, growth: float, label: str
) -> None:
    wh = build_shop(write_folder(tmp_path / "src", SHOP), tmp_path / "wh.duckdb", growth=growth)
    march = one(wh, "SELECT * FROM revenue.monthly_targets WHERE month = DATE '2026-03-01'")
    wh.close()
    assert march["target_source"] == f"same month last year {label}"
    # Rounded to cents half away from zero, as SQL ROUND does (Python's round() does not).
    assert float(march["target_revenue"]) == pytest.approx(
        MARCH_2025_REVENUE * (1 + growth), abs=0.0051)


def test_targets_file_takes_precedence(tmp_path: Path) -> None:
    targets = tmp_path / "targets.csv"
    targets.write_text("month,target_revenue\n2026-03,1000\n2025-04, 300.00 \n", "utf-8")
    wh = build_shop(write_folder(tmp_path / "src", SHOP), tmp_path / "wh.duckdb", targets)
    months = {r["month"]: r for r in rows(wh, "SELECT * FROM revenue.monthly_targets")}
    april = rows(wh, """SELECT * FROM revenue.daily_targets
                        WHERE month = DATE '2025-04-01' ORDER BY day""")
    wh.close()
    assert (months[dt.date(2026, 3, 1)]["target_revenue"], months[dt.date(2026, 3, 1)][
        "target_source"]) == (1000, "targets file")
    assert (months[dt.date(2025, 4, 1)]["target_revenue"], months[dt.date(2025, 4, 1)][
        "target_source"]) == (300, "targets file")
    assert months[dt.date(2025, 5, 1)]["target_source"] == "no target (no sales a year earlier)"
    # No April a year earlier: the 300 is spread evenly over April's 30 days.
    assert len(april) == 30
    assert {(r["target_revenue"], r["spread"], r["target_source"]) for r in april} == {
        (10, "even", "targets file")}


def test_daily_target_follows_last_years_weekday_pattern(shop: DuckDBWarehouse) -> None:
    march = rows(shop, """SELECT * FROM revenue.daily_targets
                          WHERE month = DATE '2026-03-01' ORDER BY day""")
    assert len(march) == 31
    # March 2025 sold only on two of its five Saturdays (1st and 15th): the Saturday weight
    # is 55 / 5 and every other weekday weighs 0, so March 2026's four Saturdays share it.
    saturdays = [r for r in march if r["iso_weekday"] == 6]
    assert [r["day"].day for r in saturdays] == [7, 14, 21, 28]
    for r in saturdays:
        assert float(r["target_revenue"]) == pytest.approx(MARCH_2025_REVENUE * 1.05 / 4,
                                                           abs=0.006)
    assert all(r["target_revenue"] == 0 for r in march if r["iso_weekday"] != 6)
    assert {r["spread"] for r in march} == {"weekday pattern of the same month last year"}
    assert {r["target_source"] for r in march} == {"same month last year +5%"}
    by_day = {r["day"]: r["actual_revenue"] for r in march}
    assert by_day[dt.date(2026, 3, 12)] == -10
    assert by_day[dt.date(2026, 3, 11)] == 0


def test_daily_targets_table_answers_the_apis_query(shop: DuckDBWarehouse) -> None:
    # analytics_pipeline/api/routers/revenue.py reads these columns by day.
    (row,) = shop.fetch_all(
        "SELECT target_revenue, target_source FROM revenue.daily_targets WHERE day = $day",
        {"day": dt.date(2026, 3, 31)})
    assert row == (0, "same month last year +5%")  # a Tuesday: no Tuesday sales last March


def test_partial_month_last_year_is_scaled_to_the_whole_month(tmp_path: Path) -> None:
    files = dict(SHOP)
    files["orders.csv"] = """order_id,customer_id,ordered_at,channel,status
a1,,2025-03-16T12:00:00,online,completed
a2,,2026-03-20T12:00:00,store,completed
"""
    files["order_lines.csv"] = (
        "order_id,line_number,product_id,quantity,unit_price,discount,unit_cost\n"
        """a1,1,p1,3,10.00,0,
a2,1,p1,1,10.00,0,
"""
    )
    wh = build_shop(write_folder(tmp_path / "src", files), tmp_path / "wh.duckdb")
    march = one(wh, "SELECT * FROM revenue.monthly_targets WHERE month = DATE '2026-03-01'")
    spreads = {r["spread"] for r in rows(
        wh, "SELECT spread FROM revenue.daily_targets WHERE month = DATE '2026-03-01'")}
    wh.close()
    # History starts on the 16th: 30 over 16 of March's 31 days.
    assert march["target_source"] == "same month last year +5% (scaled up from 16 of 31 days)"
    assert float(march["target_revenue"]) == pytest.approx(round(30 * 31 / 16 * 1.05, 2))
    assert spreads == {"even"}  # half a month is no weekday pattern


@pytest.mark.parametrize(("content", "expected"), [
    ("month,target_revenue\n2026-03,100\n2026-13,50\n", "row 2 (line 3): month '2026-13'"),
    ("month,target_revenue\n2026-03,lots\n", "row 1 (line 2): target_revenue 'lots' is not"),
    ("month,target_revenue\n2026-03,-5\n", "row 1 (line 2): target_revenue '-5' must be >= 0"),
    ("month,target_revenue\n2026-03,\n", "row 1 (line 2): target_revenue is empty"),
    ("month,target_revenue\n2026-03,1\n\n2026-03,2\n",
     "row 3 (line 4): month 2026-03 was already given in row 1"),
    ("month,goal\n2026-03,1\n", "needs the columns month,target_revenue (missing: target_re"),
    ("month,target_revenue\n2026-03\n", "row 1 (line 2): expected 2 values"),
])
def test_bad_targets_file_names_file_and_row(
    tmp_path: Path, warehouse: DuckDBWarehouse, content: str, expected: str
) -> None:
    path = tmp_path / "my-targets.csv"
    path.write_text(content, "utf-8")
    with pytest.raises(TargetsFileError) as error:
        write_targets(warehouse, path)
    assert str(error.value).startswith(f"targets file {path}")
    assert expected in str(error.value)


def test_missing_targets_file_is_an_error(tmp_path: Path, warehouse: DuckDBWarehouse) -> None:
    with pytest.raises(TargetsFileError, match=r"nope\.csv: not found"):
        write_targets(warehouse, tmp_path / "nope.csv")


def test_targets_input_asset_loads_the_file_or_an_empty_table(tmp_path: Path) -> None:
    targets = tmp_path / "targets.csv"
    targets.write_text("\ufeffMonth,Target_Revenue,note\n2026-04,1234.5,spring\n", "utf-8")
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    for path, expected in ((str(targets), [(dt.date(2026, 4, 1), 1234.5)]), (None, [])):
        result = dg.materialize(
            [targets_input],
            resources={"warehouse": WarehouseResource(url=url),
                       "targets": TargetsResource(path=path)},
        )
        assert result.success
        wh = DuckDBWarehouse(tmp_path / "wh.duckdb", "UTC")
        got = wh.fetch_all("SELECT month, CAST(target_revenue AS DOUBLE) "
                           "FROM revenue.targets_input")
        wh.close()
        assert got == expected


def test_definitions_wire_targets_into_monthly_targets() -> None:
    settings = Settings.from_env({}, source_dir="/nowhere", targets_file="/t/targets.csv")
    definitions = build_definitions(settings)
    graph = definitions.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["revenue", "monthly_targets"])).parent_keys
    assert dg.AssetKey(["revenue", "targets_input"]) in parents
    targets = definitions.resources["targets"]
    assert isinstance(targets, TargetsResource) and targets.path == "/t/targets.csv"


# --- products and customers -------------------------------------------------------------


def test_top_products_by_hand(shop: DuckDBWarehouse) -> None:
    got = {(r["window_days"], r["product_id"]): r for r in rows(
        shop, "SELECT * FROM revenue.top_products")}
    assert set(got) == {(w, p) for w in (30, 90) for p in ("p1", "p2", "p3")}
    mug, tea, box = got[(30, "p1")], got[(30, "p2")], got[(30, "p3")]
    # Mug: +1, two returns of one, +3 (the void order's four do not count).
    assert (mug["revenue"], mug["units"], mug["returned_units"], mug["gross_margin"]) == (
        20, 2, 2, 12)
    assert mug["gross_margin_pct"] == pytest.approx(60.0)
    # Tea: the refunded five do not count; c4's return does.
    assert (tea["revenue"], tea["units"], tea["gross_margin"]) == (28, 5, 15.5)
    assert tea["gross_margin_pct"] == pytest.approx(100 * 15.5 / 28)
    assert (box["revenue"], box["gross_margin"], box["gross_margin_pct"]) == (10, None, None)
    assert box["name"] == "Mystery box" and box["lines_without_cost"] == 1
    ranks = {p: (got[(30, p)]["rank_by_margin"], got[(30, p)]["rank_by_margin_pct"],
                 got[(30, p)]["rank_by_revenue"]) for p in ("p1", "p2", "p3")}
    assert ranks == {"p1": (2, 1, 2), "p2": (1, 2, 1), "p3": (None, None, 3)}
    # Ninety days also reach o11 (ten boxes in February).
    assert got[(90, "p3")]["revenue"] == 60 and got[(90, "p3")]["rank_by_revenue"] == 1


def test_customer_ltv_by_hand(shop: DuckDBWarehouse) -> None:
    got = {r["customer_id"]: r for r in rows(shop, "SELECT * FROM revenue.customer_ltv")}
    assert set(got) == {"c1", "c2", "c3", "c4"}  # walk-ins (o7) are left out
    c1, c3, c4 = got["c1"], got["c3"], got["c4"]
    assert (c1["orders"], c1["revenue"], c1["average_order_value"]) == (2, 35, 17.5)
    assert c1["first_order_at"] == pd.Timestamp("2025-03-01T10:00:00Z")
    assert c1["last_order_at"] == pd.Timestamp("2026-03-10T09:00:00Z")  # o4 is a return
    assert (c1["tenure_days"], c1["days_since_last_order"]) == (395, 21)
    assert c1["cohort_month"] == dt.date(2025, 3, 1)
    # o9 (after as_of) does not count for c3; c2's refunded o5 does not either.
    assert (c3["orders"], c3["revenue"], c3["tenure_days"], c3["cohort_month"]) == (
        2, 80, 49, dt.date(2026, 2, 1))
    assert (got["c2"]["orders"], got["c2"]["revenue"]) == (2, 32)
    assert (c4["orders"], c4["revenue"], c4["first_order_at"], c4["average_order_value"],
            c4["cohort_month"]) == (0, -6, None, None, None)


def test_ltv_distribution_by_hand(shop: DuckDBWarehouse) -> None:
    got = {r["bucket"]: r for r in rows(
        shop, "SELECT * FROM revenue.ltv_distribution ORDER BY bucket_order")}
    assert len(got) == 10
    assert {b: r["customers"] for b, r in got.items() if r["customers"]} == {
        "below 0": 1, "25-50": 2, "50-100": 1}
    assert got["25-50"]["revenue"] == 67
    assert got["25-50"]["revenue_share"] == pytest.approx(67 / 141)
    assert got["25-50"]["customer_share"] == pytest.approx(0.5)
    assert sum(r["revenue_share"] for r in got.values()) == pytest.approx(1.0)


def test_ltv_cohorts_by_hand(shop: DuckDBWarehouse) -> None:
    got = rows(shop, """SELECT * FROM revenue.ltv_cohorts
                        ORDER BY cohort_month, months_since_first_purchase""")
    march = [r for r in got if r["cohort_month"] == dt.date(2025, 3, 1)]
    february = [r for r in got if r["cohort_month"] == dt.date(2026, 2, 1)]
    assert len(got) == len(march) + len(february) == 13 + 2
    assert [r["months_since_first_purchase"] for r in march] == list(range(13))
    assert (march[0]["active_customers"], march[0]["revenue"],
            march[0]["cumulative_revenue_per_customer"]) == (2, 55, 27.5)
    assert all(r["revenue"] == 0 and r["active_customers"] == 0 for r in march[1:12])
    assert (march[12]["active_customers"], march[12]["revenue"],
            march[12]["cumulative_revenue_per_customer"]) == (2, 12, 33.5)
    assert [(r["revenue"], r["cumulative_revenue_per_customer"]) for r in february] == [
        (50, 50.0), (30, 80.0)]


# --- the tiny store against pandas ------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBWarehouse]:
    wh = DuckDBWarehouse(tmp_path_factory.mktemp("tiny") / "tiny.duckdb", "UTC")
    load_source(FolderSource(tiny_store), wh, NOW)
    build_models(wh, my_models())
    yield wh
    wh.close()


@pytest.fixture(scope="module")
def sold(tiny: DuckDBWarehouse) -> pd.DataFrame:
    """Completed order lines up to as_of, computed in pandas from the raw tables."""
    orders = tiny.fetch_df("SELECT order_id, customer_id, ordered_at, channel, status "
                           "FROM ingest.orders")
    lines = tiny.fetch_df("SELECT order_id, product_id, quantity, unit_price, discount, "
                          "unit_cost FROM ingest.order_lines")
    products = tiny.fetch_df("SELECT product_id, category, unit_cost AS product_cost "
                             "FROM ingest.products")
    df = lines.merge(orders, on="order_id").merge(products, on="product_id", how="left")
    df = df[(df["status"] == "completed") & (df["ordered_at"] <= pd.Timestamp(NOW))].copy()
    for column in ("unit_price", "discount", "unit_cost", "product_cost"):
        df[column] = df[column].astype(float)
    df["revenue"] = df["quantity"] * df["unit_price"] - np.sign(df["quantity"]) * df["discount"]
    df["cost"] = df["quantity"] * df["unit_cost"].fillna(df["product_cost"])
    df["margin"] = df["revenue"] - df["cost"]
    # Timestamps at midnight, as DuckDB hands DATE columns to pandas.
    df["day"] = (df["ordered_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
                 .astype("datetime64[us]"))
    df["is_return"] = df["quantity"] < 0
    df["channel"] = df["channel"].fillna("unknown")
    assert df["is_return"].any()  # the return checks below mean something
    return df


def test_tiny_daily_sales_match_pandas(tiny: DuckDBWarehouse, sold: pd.DataFrame) -> None:
    model = tiny.fetch_df("SELECT * FROM revenue.daily_sales").set_index(["sale_date", "channel"])
    purchases = sold[~sold["is_return"]]
    expected = pd.DataFrame({
        "revenue": sold.groupby(["day", "channel"])["revenue"].sum(),
        "units": sold.groupby(["day", "channel"])["quantity"].sum(),
        "orders": purchases.groupby(["day", "channel"])["order_id"].nunique(),
        "returned_units": -sold[sold["is_return"]].groupby(["day", "channel"])["quantity"].sum(),
        "gross_margin": sold.groupby(["day", "channel"])["margin"].sum(min_count=1),
    }).rename_axis(["sale_date", "channel"])
    days = pd.date_range(sold["day"].min(), NOW.date())
    assert len(model) == len(days) * sold["channel"].nunique()
    joined = model.join(expected, rsuffix="_pd")
    for column in ("revenue", "units", "orders", "returned_units"):
        np.testing.assert_allclose(joined[column].astype(float),
                                   joined[f"{column}_pd"].fillna(0).astype(float), atol=1e-6)
    with_sales = joined[joined["revenue_pd"].notna()]
    np.testing.assert_allclose(with_sales["gross_margin"].astype(float),
                               with_sales["gross_margin_pd"].astype(float), atol=1e-6)
    assert (joined.loc[joined["revenue_pd"].isna(), "gross_margin"] == 0).all()


def test_tiny_product_and_top_products_match_pandas(
    tiny: DuckDBWarehouse, sold: pd.DataFrame
) -> None:
    daily = tiny.fetch_df("SELECT * FROM revenue.product_daily_sales")
    expected = sold.groupby(["day", "product_id"]).agg(
        revenue=("revenue", "sum"), units=("quantity", "sum"))
    got = daily.set_index(["sale_date", "product_id"]).sort_index()
    assert list(got.index) == list(expected.index)
    np.testing.assert_allclose(got["revenue"].astype(float), expected["revenue"], atol=1e-6)
    np.testing.assert_allclose(got["units"], expected["units"])

    top = tiny.fetch_df("SELECT * FROM revenue.top_products WHERE window_days = 30")
    recent = sold[sold["day"] > pd.Timestamp(NOW.date() - dt.timedelta(days=30))]
    by_product = recent.groupby("product_id").agg(
        revenue=("revenue", "sum"), margin=("margin", lambda s: s.sum(min_count=1)))
    got_top = top.set_index("product_id").sort_index()
    assert list(got_top.index) == list(by_product.index)
    np.testing.assert_allclose(got_top["revenue"].astype(float), by_product["revenue"], atol=1e-6)
    np.testing.assert_allclose(got_top["gross_margin"].astype(float), by_product["margin"],
                               atol=1e-6)
    best = by_product["revenue"].idxmax()
    assert got_top.loc[best, "rank_by_revenue"] == 1


def test_tiny_customer_ltv_and_cohorts_match_pandas(
    tiny: DuckDBWarehouse, sold: pd.DataFrame
) -> None:
    known = sold[sold["customer_id"].notna()]
    purchases = known[~known["is_return"]]
    expected = pd.DataFrame({
        "revenue": known.groupby("customer_id")["revenue"].sum(),
        "orders": purchases.groupby("customer_id")["order_id"].nunique(),
        "first": purchases.groupby("customer_id")["ordered_at"].min(),
    })
    ltv = tiny.fetch_df("SELECT * FROM revenue.customer_ltv").set_index("customer_id")
    assert set(ltv.index) == set(expected.index)
    joined = ltv.join(expected, rsuffix="_pd")
    np.testing.assert_allclose(joined["revenue"].astype(float), joined["revenue_pd"], atol=1e-6)
    np.testing.assert_allclose(joined["orders"], joined["orders_pd"].fillna(0))
    assert (joined["first_order_at"] == joined["first"]).all()

    first_month = expected["first"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    known = known.assign(cohort=known["customer_id"].map(first_month),
                         month=known["ordered_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M"))
    in_curve = known[known["month"] >= known["cohort"]]
    per_customer = (in_curve.groupby("cohort")["revenue"].sum()
                    / first_month.value_counts())
    curves = tiny.fetch_df("""SELECT cohort_month, cumulative_revenue_per_customer
                              FROM revenue.ltv_cohorts WHERE month = DATE '2026-03-01'""")
    got = {pd.Period(r.cohort_month, "M"): r.cumulative_revenue_per_customer
           for r in curves.itertuples()}
    assert got == pytest.approx(per_customer.to_dict())
    buckets = tiny.fetch_df("SELECT customers, revenue FROM revenue.ltv_distribution")
    assert buckets["customers"].sum() == len(ltv)
    assert float(buckets["revenue"].sum()) == pytest.approx(float(ltv["revenue"].sum()))


def test_tiny_monthly_actuals_match_pandas(tiny: DuckDBWarehouse, sold: pd.DataFrame) -> None:
    months = tiny.fetch_df("SELECT month, actual_revenue, target_source "
                           "FROM revenue.monthly_targets")
    expected = sold.groupby(pd.to_datetime(sold["day"]).dt.to_period("M"))["revenue"].sum()
    got = {pd.Period(r.month, "M"): float(r.actual_revenue) for r in months.itertuples()}
    assert got == pytest.approx(expected.to_dict())
    # Six months of history: no month has a year-earlier base.
    assert set(months["target_source"]) == {"no target (no sales a year earlier)"}
