"""Alert rules on a hand-made shop, reorder arithmetic by hand, backtest scoring, and the
inventory assets materialized on the tiny store."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics_pipeline.assets.inventory import demand_forecast, stock_alerts
from analytics_pipeline.ingest.load import load_source
from analytics_pipeline.inventory.backtest import BacktestConfig, backtest_warehouse
from analytics_pipeline.models import backtest as score
from analytics_pipeline.models.alerts import ALERT_COLUMNS, alert_masks, evaluate_alerts
from analytics_pipeline.models.demand_panel import DemandPanel
from analytics_pipeline.models.forecast import Forecast
from analytics_pipeline.models.inventory_policy import InventoryPolicy
from analytics_pipeline.models.replenishment import OpenOrders, open_orders, reorder_plan
from analytics_pipeline.models.stock_position import StockPosition, reorder_frame, stock_position
from analytics_pipeline.resources import ClockResource, ModelParamsResource, WarehouseResource
from analytics_pipeline.settings import Settings, SettingsError
from analytics_pipeline.sources import FolderSource
from analytics_pipeline.warehouse import DuckDBWarehouse
from tests.conftest import NOW, build_models

DAYS, H = 120, 28
END = pd.Timestamp("2026-03-31")
AS_OF = dt.datetime(2026, 3, 31, 23, tzinfo=dt.UTC)
POISSON = 1e6
STEADY_WEEK = np.array([2.0, 1, 1, 2, 1, 2, 1])  # 10 units a week, every week alike


@dataclass
class Item:
    """One product of the hand-made shop: its history, stock and forecast."""

    units: np.ndarray = field(default_factory=lambda: np.full(DAYS, 2.0))
    on_hand: float = 50.0
    forecast: float = 2.0
    lead: int = 7
    on_order: np.ndarray | None = None
    calendar: np.ndarray | None = None
    price: np.ndarray | None = None
    censored: np.ndarray | None = None


def shop(items: list[Item], policy: InventoryPolicy | None = None) -> StockPosition:
    days = pd.date_range(end=END, periods=DAYS, freq="D")
    ids = tuple(f"p{k}" for k in range(len(items)))
    units = np.column_stack([i.units for i in items])
    price = np.column_stack([np.full(DAYS, 10.0) if i.price is None else i.price
                             for i in items])
    on_order = np.column_stack([np.zeros(DAYS) if i.on_order is None else i.on_order
                                for i in items])
    censored = np.column_stack([np.zeros(DAYS, bool) if i.censored is None else i.censored
                                for i in items])
    panel = DemandPanel(days, ids, units, units * price,
                        np.column_stack([np.full(DAYS, i.on_hand) for i in items]),
                        on_order, censored)
    calendar = np.column_stack([np.ones(H) if i.calendar is None else i.calendar
                                for i in items])
    mean = np.column_stack([np.full(H, i.forecast) for i in items]) * calendar
    forecast = Forecast(END + pd.Timedelta(days=1), ids, mean, np.full(len(items), POISSON),
                        ("test",) * len(items), calendar)
    products = pd.DataFrame({"product_id": ids, "name": [f"Item {k}" for k in range(len(ids))],
                             "category": "kitchen", "supplier": "acme",
                             "lead_time_days": [i.lead for i in items], "unit_price": 10.0,
                             "unit_cost": 4.0})
    return stock_position(panel, forecast, products, policy or InventoryPolicy(), AS_OF)


def fired(items: list[Item], rule: str, policy: InventoryPolicy | None = None) -> list[bool]:
    policy = policy or InventoryPolicy()
    return [bool(x) for x in alert_masks(shop(items, policy), policy)[rule]]


def placed(days_ago: int, units: float) -> np.ndarray:
    """An on_order history: ``units`` ordered ``days_ago`` days before as_of, still open."""
    history = np.zeros(DAYS)
    history[DAYS - 1 - days_ago :] = units
    return history


# --- low stock -------------------------------------------------------------------------


def test_low_stock_fires_at_the_confidence_threshold() -> None:
    # 11 on hand, 2 a day: P(Poisson(14) >= 11) = 0.824 over the 7-day window.
    chance = float(stats.poisson.sf(10, 14))
    items = [Item(on_hand=11), Item(on_hand=6), Item(on_hand=30)]
    assert fired(items, "low_stock", InventoryPolicy(alert_confidence=chance - 0.005)) == [
        True, True, False]
    assert fired(items, "low_stock", InventoryPolicy(alert_confidence=chance + 0.005)) == [
        False, True, False]


def test_a_product_whose_weeks_swing_is_less_sure_to_run_out() -> None:
    # Same forecast (2 a day) and stock; one sold 14 every week, the other 0 and 28 in
    # turn: its coming week may as well be far off the forecast, so the chance is lower.
    swinging = np.resize(np.repeat([0.0, 4.0], 7), DAYS)
    position = shop([Item(on_hand=11), Item(units=swinging, on_hand=11)])
    steady, swings = position.stockout_chance
    assert steady == pytest.approx(stats.poisson.sf(10, 14), rel=1e-4)
    assert 0.5 < swings < steady - 0.1


def test_low_stock_counts_units_on_order_by_when_they_arrive() -> None:
    # No sales in the history: a constant stock with sales would look like deliveries.
    quiet = np.zeros(DAYS)
    in_time = Item(units=quiet, on_hand=6, lead=5, on_order=placed(3, 20))  # due in 2 days
    too_late = Item(units=quiet, on_hand=6, lead=12, on_order=placed(0, 20))  # in 12 days
    assert fired([in_time, too_late], "low_stock") == [False, True]


def test_overdue_units_are_not_counted_on() -> None:
    overdue = Item(units=np.zeros(DAYS), on_hand=6, lead=5,
                   on_order=placed(20, 20))  # due 15 days ago
    position = shop([overdue])
    assert position.orders.overdue[0] == 20 and position.orders.counted[0] == 0
    assert fired([overdue], "low_stock") == [True]


def test_late_units_hold_off_a_reorder_but_not_a_low_stock_alert() -> None:
    late = Item(units=np.zeros(DAYS), on_hand=6, lead=5,
                on_order=placed(7, 60))  # due 2 days ago, within the 3-day grace
    position = shop([late])
    assert position.orders.late[0] == 60 and position.orders.arrivals[0, 0] == 60
    assert position.orders.sure_arrivals[0, 0] == 0
    assert position.plan.suggested[0] == 0  # the plan expects it tomorrow: no second order
    assert position.stockout_chance[0] > 0.99  # 6 units, 14 wanted: out unless it comes
    frame = evaluate_alerts(position, InventoryPolicy())
    low = frame[frame["alert_type"] == "low_stock"].iloc[0]
    assert "60 units on order are past due" in low["reason"]
    assert json.loads(low["evidence"])["late_on_order"] == 60


def test_low_stock_severity_follows_the_lead_time() -> None:
    frame = evaluate_alerts(shop([Item(on_hand=5, lead=10), Item(on_hand=9, lead=3)]),
                            InventoryPolicy())
    severity = dict(zip(frame["product_id"], frame["severity"], strict=True))
    assert severity == {"p0": "critical", "p1": "warning"}  # out in 3 days vs in 5 > 3


# --- overstock, slow mover --------------------------------------------------------------


def test_overstock_needs_stock_beyond_ninety_days_of_demand() -> None:
    # 90 days at 2 a day: Poisson(180), whose 80 % quantile is about 191.
    items = [Item(on_hand=400), Item(on_hand=200), Item(on_hand=180), Item(on_hand=150)]
    assert fired(items, "overstock") == [True, True, False, False]


def test_overstock_on_slow_turnover_is_information() -> None:
    slow_sales = Item(units=np.full(DAYS, 0.3), on_hand=100, forecast=2.0)  # 1.1 turns a year
    frame = evaluate_alerts(shop([slow_sales]), InventoryPolicy())
    assert list(frame["alert_type"]) == ["overstock"] and list(frame["severity"]) == ["info"]
    assert fired([slow_sales], "overstock", InventoryPolicy(overstock_min_turnover=1.0)) == [
        False]


def test_slow_mover_after_thirty_days_without_a_sale_with_stock() -> None:
    def quiet(days: int, on_hand: float) -> Item:
        units = np.full(DAYS, 1.0)
        units[DAYS - days :] = 0.0
        return Item(units=units, on_hand=on_hand, forecast=0.01)

    items = [quiet(35, 20), quiet(30, 20), quiet(25, 20), quiet(35, 0)]
    assert fired(items, "slow_mover") == [True, True, False, False]
    # The slow-mover alert says more than an overstock one; 25 quiet days are overstock.
    assert fired(items, "overstock") == [False, False, True, False]


# --- trending -------------------------------------------------------------------------------


def weeks_then(last_week: float, steady: np.ndarray = STEADY_WEEK) -> np.ndarray:
    units = np.resize(steady, DAYS).astype(float)
    units[-7:] = steady * last_week / steady.sum()
    return units


def test_trending_needs_fifty_percent_and_volume() -> None:
    items = [Item(units=weeks_then(30)), Item(units=weeks_then(14)),
             Item(units=weeks_then(2, STEADY_WEEK / 10))]  # 1 -> 2 units a week
    assert fired(items, "trending") == [True, False, False]


def test_trending_ignores_restocks_and_promotions() -> None:
    restocked = np.zeros(DAYS, bool)
    restocked[-10] = True  # the earlier week had a day out of stock
    promo = np.full(DAYS, 10.0)
    promo[-3:] = 8.0  # 20 % off in the last days
    items = [Item(units=weeks_then(30), censored=restocked),
             Item(units=weeks_then(30), price=promo)]
    assert fired(items, "trending") == [False, False]


# --- seasonal --------------------------------------------------------------------------------


def test_seasonal_fires_when_the_calendar_peak_is_not_covered() -> None:
    peak = np.r_[np.ones(14), np.full(14, 1.6)]  # weeks 3-4: +60 % from the season
    mild = np.r_[np.ones(14), np.full(14, 1.2)]
    items = [Item(on_hand=30, calendar=peak), Item(on_hand=30, calendar=mild),
             Item(on_hand=100, calendar=peak), Item(on_hand=30, forecast=3.2),
             Item(on_hand=70, calendar=peak)]
    # The fourth rises as much but from its level, not the calendar: that is no season.
    # The last one's 72.8 units forecast top its 70 only on average: P(demand >= 70) = 0.64.
    assert fired(items, "seasonal") == [True, False, False, False, False]
    chance = shop(items).shortfall_chance
    assert chance[4] == pytest.approx(stats.poisson.sf(69, 72.8), abs=0.01)
    assert chance[0] > 0.99


# --- the alerts table -----------------------------------------------------------------------


def test_alert_rows_carry_ids_reasons_and_evidence() -> None:
    frame = evaluate_alerts(shop([Item(on_hand=5, lead=10), Item(on_hand=400)]),
                            InventoryPolicy())
    assert tuple(frame.columns) == ALERT_COLUMNS
    assert list(frame["alert_type"]) == ["low_stock", "overstock"]  # critical first
    low = frame.iloc[0]
    expected_id = hashlib.md5(b"low_stock|p0|2026-03-31", usedforsecurity=False).hexdigest()
    assert low["alert_id"] == expected_id
    evidence = json.loads(low["evidence"])
    assert evidence["on_hand"] == 5 and evidence["lead_time_days"] == 10
    assert "5 on hand" in low["reason"] and "2026-04-10" in low["reason"]
    assert low["expected_stockout_date"] == dt.date(2026, 4, 3)  # 5 - 2 - 2 - 2 <= 0
    assert low["suggested_quantity"] > 0 and low["revenue_at_risk"] > 0
    over = frame.iloc[1]
    assert pd.isna(over["suggested_quantity"]) and "400 units on hand" in over["reason"]


# --- reorder arithmetic ---------------------------------------------------------------------


def test_reorder_quantity_by_hand() -> None:
    # 2 a day (Poisson), lead 5 + review 14 = 19 days: 38 units, sd sqrt(38);
    # safety 1.645 * 6.164 = 10.14; need 48.14 - 10 on hand - 5 on order -> 34 units.
    arrivals = np.zeros((40, 1))
    arrivals[2, 0] = 5  # due on day 3
    orders = OpenOrders(arrivals, np.zeros(1), np.zeros(1))
    mean = np.full((H, 1), 2.0)
    policy = InventoryPolicy()

    def plan(pack: float) -> tuple[int, float, float, int, float]:
        p = reorder_plan(np.array([10.0]), orders, mean, np.array([POISSON]), np.array([5.0]),
                         np.array([pack]), policy)
        return (int(p.suggested[0]), float(p.forecast_units[0]), float(p.safety_stock[0]),
                int(p.stockout_offset[0]), float(p.lost_units[0]))

    quantity, forecast, safety, stockout, lost = plan(np.nan)
    assert forecast == pytest.approx(38.0)
    assert safety == pytest.approx(stats.norm.ppf(0.95) * np.sqrt(38.0))
    assert quantity == int(np.ceil(38 + safety - 15)) == 34
    assert plan(12.0)[0] == 36  # rounded up to whole packs of 12
    assert stockout == 8  # 10 +5 on day 3 -> 8, 6, 9, 7, 5, 3, 1, -1
    assert lost == pytest.approx(38 - 15)  # 19 days x 2 units, only 15 to sell


def test_open_orders_are_dated_from_the_order_day() -> None:
    days = pd.date_range(end=END, periods=10, freq="D")
    on_order = np.array([[0, 0, 20, 20, 20, 20, 20, 20, 20, 20.0]]).T  # ordered on day 2
    panel = DemandPanel(days, ("p0",), np.zeros((10, 1)), np.zeros((10, 1)),
                        np.full((10, 1), 5.0), on_order, np.zeros((10, 1), bool))
    orders = open_orders(panel, np.array([10.0]), days=30, grace=3)
    assert orders.arrivals[2 + 10 - 9 - 1, 0] == 20  # due on day 12: three days ahead
    late = open_orders(panel, np.array([2.0]), days=30, grace=3)  # was due on day 4
    assert late.overdue[0] == 20 and late.counted[0] == 0


def test_reorder_frame_lists_products_below_their_order_up_to_level() -> None:
    policy = InventoryPolicy()
    frame = reorder_frame(shop([Item(on_hand=5), Item(on_hand=400)]), policy)
    assert list(frame["product_id"]) == ["p0"]
    row = frame.iloc[0]
    assert row["suggested_quantity"] == int(np.ceil(row["units_needed"] - 5))
    assert "on hand 5 + on order 0" in row["reason"] and row["service_level"] == 0.95


# --- settings ---------------------------------------------------------------------------------


def test_thresholds_are_settings_with_the_briefs_defaults() -> None:
    policy = Settings.from_env({}).inventory_policy()
    assert (policy.low_stock_days, policy.overstock_days, policy.trending_growth,
            policy.slow_mover_days, policy.service_level) == (7, 90, 0.5, 30, 0.95)
    tuned = Settings.from_env({"ANALYTICS_INVENTORY_LOW_STOCK_DAYS": "5"}).inventory_policy()
    assert tuned.low_stock_days == 5
    with pytest.raises(SettingsError, match="ANALYTICS_INVENTORY_SERVICE_LEVEL"):
        Settings.from_env({"ANALYTICS_INVENTORY_SERVICE_LEVEL": "1.2"})
    with pytest.raises(SettingsError, match="BigQuery"):
        Settings.from_env({"ANALYTICS_FORECAST_ENGINE": "bigquery_ml"})


# --- backtest scoring -----------------------------------------------------------------------


def test_counterfactual_stockout_loses_sales_and_waits_for_open_orders() -> None:
    demand = np.array([[3, 3], [3, 3], [3, 3]], dtype=float)
    arrivals = np.array([[0, 0], [5, 0], [0, 0]], dtype=float)
    out = score.counterfactual_stockout(np.array([4.0, 20.0]), arrivals, demand)
    assert list(out) == [True, False]  # 4-3=1, 1+5-3=3, 3-3=0 -> empty; 20 lasts
    delivered = np.array([[0.0], [8.0], [6.0]])
    assert list(score.open_order_deliveries(np.array([10.0]), delivered)[:, 0]) == [0, 8, 2]


def test_low_stock_recall_counts_stockouts_alerted_ahead() -> None:
    stockout = np.zeros((20, 3), dtype=bool)
    stockout[12:14, 0] = stockout[12, 1] = stockout[15, 2] = True
    alerted = np.zeros((20, 3), dtype=bool)
    alerted[8, 0] = True  # 4 days ahead: caught
    alerted[12, 1] = True  # on the day itself: too late
    caught, total = score.low_stock_recall(stockout, alerted, first=2, last=18, window=7,
                                           notice=1)
    assert (caught, total) == (1, 3)
    assert score.precision(2, 4) == 0.5 and score.precision(0, 0) is None


def test_confidence_sweep_and_calibration_by_hand() -> None:
    days, products = 12, 3
    chances = score.LowStockChances.empty(days, products)
    chances.scored[:10] = True
    chances.in_stock[:] = True
    chances.chance[2] = [0.9, 0.55, np.nan]  # the third product was not judged
    chances.chance[3] = [0.95, 0.65, 0.2]
    chances.confirmed[2] = chances.confirmed[3] = [True, False, True]
    chances.in_stock[3, 0] = False  # already out on day 3: right, but not foresight
    stockout = np.zeros((days, products), dtype=bool)
    stockout[5, 0] = stockout[6, 2] = True
    rows = score.confidence_sweep(chances, stockout, first=0, last=8, window=4, notice=1,
                                  levels=(0.5, 0.6, 0.8))
    by_level = {row["alert_confidence"]: row for row in rows}
    assert by_level[0.5] == {"alert_confidence": 0.5, "alerts": 4, "precision": 0.5,
                             "in_stock_alerts": 3, "in_stock_precision": 1 / 3,
                             "caught": 1, "stockouts": 2, "recall": 0.5}
    assert by_level[0.6]["alerts"] == 3 and by_level[0.6]["in_stock_alerts"] == 2
    assert by_level[0.8]["in_stock_precision"] == 1.0 and by_level[0.8]["recall"] == 0.5
    table = score.calibration(chances, bins=10)
    assert [(row["from"], row["cells"], row["emptied"]) for row in table] == [
        (0.2, 1, 1.0), (0.5, 1, 0.0), (0.6, 1, 0.0), (0.9, 1, 1.0)]


# --- assets and replay on the tiny store ------------------------------------------------


@pytest.fixture(scope="module")
def tiny_warehouse(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inventory") / "tiny.duckdb"
    wh = DuckDBWarehouse(path, "UTC")
    load_source(FolderSource(tiny_store), wh, NOW)
    build_models(wh)
    wh.close()
    result = dg.materialize(
        [demand_forecast, stock_alerts],
        resources={"warehouse": WarehouseResource(url=f"duckdb:///{path}"),
                   "clock": ClockResource(as_of=NOW.isoformat()),
                   "model_params": ModelParamsResource(
                       inventory=InventoryPolicy().as_dict())},
        selection=[demand_forecast.key, *stock_alerts.keys],
    )
    assert result.success
    return path


def test_assets_write_forecast_reorders_and_alerts(tiny_warehouse: Path) -> None:
    wh = DuckDBWarehouse(tiny_warehouse, "UTC", read_only=True)
    try:
        (products,) = wh.fetch_all("SELECT count(DISTINCT product_id) "
                                   "FROM inventory.demand_history")[0]
        forecast = wh.fetch_df("SELECT * FROM inventory.demand_forecast")
        alerts = wh.fetch_df("SELECT * FROM inventory.alerts")
        reorders = wh.fetch_df("SELECT * FROM inventory.reorder_suggestions")
    finally:
        wh.close()
    assert len(forecast) == int(str(products)) * H
    assert pd.Timestamp(forecast["forecast_date"].min()) == pd.Timestamp("2026-04-01")
    assert (forecast["lo80"] <= forecast["hi80"]).all()
    assert tuple(alerts.columns) == ALERT_COLUMNS and len(alerts) > 0
    assert set(alerts["alert_type"]) <= {"low_stock", "overstock", "trending", "slow_mover",
                                          "seasonal"}
    assert alerts["alert_id"].is_unique
    assert (reorders["suggested_quantity"] > 0).all()


def test_backtest_replays_the_tiny_store(tiny_store: Path, tiny_warehouse: Path) -> None:
    truth = tiny_store.parent / f"{tiny_store.name}_truth"
    wh = DuckDBWarehouse(tiny_warehouse, "UTC", read_only=True)
    try:
        report = backtest_warehouse(wh, truth, BacktestConfig(weeks=2))
    finally:
        wh.close()
    figures = report.to_dict()
    assert figures["last_as_of"] == "2026-03-24"
    assert set(figures["rules"]) == {"low_stock", "overstock", "trending", "slow_mover",
                                     "seasonal"}
    for value in (figures["low_stock"]["precision"], figures["forecast"]["model"]["wape"],
                  figures["forecast"]["model"]["coverage_80"]):
        assert value is None or 0 <= value <= 2
    assert "low stock: precision" in report.to_text()
    low = figures["low_stock"]
    (chosen,) = [row for row in low["by_confidence"]
                 if row["alert_confidence"] == InventoryPolicy().alert_confidence]
    assert chosen["in_stock_alerts"] == low["in_stock_alerts"]
    assert chosen["in_stock_precision"] == low["in_stock_precision"]
    assert chosen["alerts"] == low["scored"] and chosen["recall"] == low["recall"]
    assert sum(row["cells"] for row in low["calibration"]) >= low["in_stock_alerts"]
