"""Demand forecast on synthetic series with known answers, and the BigQuery ML SQL shape."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from analytics_pipeline.inventory.bigquery_ml import ArimaPlusOptions, bigquery_ml_statements
from analytics_pipeline.models import count_distribution
from analytics_pipeline.models.calendar_effects import holiday_factors, holiday_positions
from analytics_pipeline.models.demand_panel import DemandPanel, impute_censored
from analytics_pipeline.models.forecast import (
    FORECAST_COLUMNS,
    INTERMITTENT,
    SHORT,
    SMOOTH,
    Forecast,
    ForecastConfig,
    classify,
    forecast_demand,
)
from analytics_pipeline.models.recent_level import category_level_ratio

WEEKDAY = np.array([0.9, 0.9, 0.95, 1.0, 1.05, 1.3, 0.9])  # Monday first
END = pd.Timestamp("2026-03-31")


def panel_of(units: np.ndarray, censored: np.ndarray | None = None,
             end: pd.Timestamp = END) -> DemandPanel:
    """A panel with ``units`` ``(days, products)``; stock 10 except on censored days."""
    days = pd.date_range(end=end, periods=len(units), freq="D")
    censored = np.zeros(units.shape, dtype=bool) if censored is None else censored
    on_hand = np.where(censored, 0.0, 10.0)
    ids = tuple(f"p{k}" for k in range(units.shape[1]))
    return DemandPanel(days, ids, units.astype(float), units * 5.0, on_hand,
                       np.zeros(units.shape), censored)


def weekly_poisson(rates: list[float], days: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    calendar = pd.date_range(end=END, periods=days, freq="D")
    shape = WEEKDAY[calendar.dayofweek][:, None] / WEEKDAY.mean()
    return rng.poisson(shape * np.array(rates)[None, :]).astype(float)


def test_series_shape_picks_the_model() -> None:
    units = weekly_poisson([20.0, 0.2], 200)
    short = np.full((200, 1), np.nan)
    short[-10:, 0] = 3.0
    panel = panel_of(np.hstack([units, short]))
    kinds = classify(panel.units, panel.first_rows(), ForecastConfig())
    assert list(kinds) == [SMOOTH, INTERMITTENT, SHORT]
    forecast = forecast_demand(panel)
    assert forecast.model == ("ets_ana", "tsb", "recent_mean")


def test_forecasts_recover_the_known_rates_and_weekday_shape() -> None:
    forecast = forecast_demand(panel_of(weekly_poisson([20.0, 0.3], 364)))
    daily = forecast.mean.mean(axis=0)
    assert daily[0] == pytest.approx(20.0, rel=0.1)
    assert daily[1] == pytest.approx(0.3, rel=0.35)
    saturdays = forecast.dates.dayofweek == 5
    assert forecast.mean[saturdays, 0].mean() > 1.15 * forecast.mean[~saturdays, 0].mean()


def test_stockout_gap_is_censored_not_zero_demand() -> None:
    units = weekly_poisson([8.0], 182, seed=3)
    gapped = units.copy()
    censored = np.zeros(units.shape, dtype=bool)
    censored[-20:-6] = True  # two weeks on an empty shelf, shortly before as_of
    gapped[censored] = 0.0
    full = forecast_demand(panel_of(units)).mean.sum()
    with_gap = forecast_demand(panel_of(gapped, censored)).mean.sum()
    as_zeros = forecast_demand(panel_of(gapped)).mean.sum()  # the gap taken at face value
    assert with_gap >= 0.95 * full
    assert with_gap > 1.1 * as_zeros


def test_imputation_never_lowers_what_sold() -> None:
    units = np.array([[4.0], [4.0], [4.0], [9.0], [0.0]])
    censored = np.array([[False], [False], [False], [True], [True]])
    demand, _ = impute_censored(units, censored, np.ones(5), window=3)
    assert list(demand[:, 0]) == [4.0, 4.0, 4.0, 9.0, 4.0]


def test_intervals_nest_and_cover_about_their_level() -> None:
    panel = panel_of(weekly_poisson([6.0, 0.5, 2.0], 224, seed=5)[:-28])
    actual = weekly_poisson([6.0, 0.5, 2.0], 224, seed=5)[-28:]
    forecast = forecast_demand(panel)
    (lo80, hi80), (lo95, hi95) = forecast.interval(0.8), forecast.interval(0.95)
    assert (lo95 <= lo80).all() and (lo80 <= forecast.mean + 1e-9).all()
    assert (forecast.mean <= hi80 + 1e-9).all() and (hi80 <= hi95).all()
    inside = ((actual >= lo80) & (actual <= hi80)).mean()
    assert 0.65 <= inside <= 0.95


def test_count_interval_starts_at_zero_when_zero_is_likely() -> None:
    low = count_distribution.interval(np.array([0.3]), np.array([1e6]), 0.8)
    assert low[0][0] == 0.0 and 0.5 < low[1][0] < 1.5
    high = count_distribution.interval(np.array([50.0]), np.array([1e6]), 0.8)
    assert 40 < high[0][0] < 42.5 and 57.5 < high[1][0] < 60  # Poisson(50) +- 1.28 sd


def test_holiday_factor_is_learnt_store_wide_and_applied_ahead() -> None:
    days = pd.date_range("2024-06-01", "2025-11-20", freq="D")
    totals = np.full(len(days), 100.0)
    friday = holiday_positions(days)["black_friday"]
    totals[friday] = 300.0
    history, future = holiday_factors(totals, days, 28)
    assert history[friday] == pytest.approx(3.0)
    ahead = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=28, freq="D")
    assert future[ahead == pd.Timestamp("2025-11-28")] == pytest.approx(3.0)
    assert (future[ahead != pd.Timestamp("2025-11-28")] == 1.0).all()


def test_yearly_season_from_last_year_lifts_the_coming_peak() -> None:
    end = pd.Timestamp("2026-06-20")
    calendar = pd.date_range(end=end, periods=730, freq="D")
    summer = 1 + 2.0 * np.exp(-0.5 * ((calendar.dayofyear - 195) / 20.0) ** 2)
    rng = np.random.default_rng(7)
    units = rng.poisson(np.outer(summer, [10.0, 10.0])).astype(float)
    forecast = forecast_demand(panel_of(units, end=end))
    assert all(m.endswith("+yearly") for m in forecast.model)
    first_week, last_week = forecast.mean[:7].sum(), forecast.mean[-7:].sum()
    assert last_week > 1.2 * first_week
    assert (forecast.seasonal[-7:] > 1.5).all()


def test_forecast_frame_round_trips() -> None:
    forecast = forecast_demand(panel_of(weekly_poisson([5.0, 0.4], 120)))
    frame = forecast.to_frame()
    assert tuple(frame.columns) == FORECAST_COLUMNS
    assert len(frame) == 2 * 28
    back = Forecast.from_frame(frame, forecast.product_ids, forecast.first_day, 28)
    np.testing.assert_allclose(back.mean, forecast.mean)
    np.testing.assert_allclose(back.size, forecast.size, rtol=1e-6)


def test_empty_panel_gives_an_empty_forecast() -> None:
    frame = pd.DataFrame(columns=["product_id", "day", "units", "revenue", "on_hand",
                                  "on_order", "out_of_stock"])
    panel = DemandPanel.from_frame(frame, end=dt.date(2026, 3, 31))
    assert forecast_demand(panel).to_frame().empty


def _options(statement: exp.Expression) -> dict[str, str]:
    found = {}
    for prop in statement.find_all(exp.Property):
        found[prop.name.lower()] = prop.args["value"].sql("bigquery").strip("'")
    return found


def test_bigquery_ml_statements_parse_with_arima_plus_options() -> None:
    create_model, create_table = bigquery_ml_statements("shop-analytics", "retail",
                                                        ArimaPlusOptions(horizon=28))
    model = sqlglot.parse_one(create_model, read="bigquery")
    assert isinstance(model, exp.Create) and model.args["kind"] == "MODEL"
    options = _options(model)
    assert options["model_type"] == "ARIMA_PLUS"
    assert options["time_series_id_col"] == "product_id"
    assert options["time_series_timestamp_col"] == "day"
    assert options["time_series_data_col"] == "units"
    assert options["horizon"] == "28"
    assert "NOT out_of_stock" in model.expression.sql("bigquery")  # censored days left out
    table = sqlglot.parse_one(create_table, read="bigquery")
    assert table.this.sql("bigquery") == "`shop-analytics.retail_inventory.demand_forecast`"
    columns = [e.alias_or_name for e in table.expression.expressions]
    assert columns == list(FORECAST_COLUMNS)
    assert "0.8 AS confidence_level" in create_table and "0.95 AS confidence_level" in create_table


@pytest.mark.parametrize(("project", "dataset"),
                         [("x'; DROP", "retail"), ("shop-analytics", "a-b")])
def test_bigquery_ml_refuses_odd_identifiers(project: str, dataset: str) -> None:
    with pytest.raises(ValueError, match="not"):
        bigquery_ml_statements(project, dataset)


def test_category_level_ratio_follows_a_whole_category_shrunk_by_its_volume() -> None:
    week = np.ones((7, 5))
    sold = week * np.array([[20.0, 20.0, 10.0, 0.2, 1.0]])  # per day, last 7 days
    forecast = np.array([70.0, 70.0, 70.0, 1.4, 7.0])  # units expected for a week
    groups = np.array([0, 0, 1, 2, 3])
    ratio = category_level_ratio(np.vstack([np.full((30, 5), np.nan), sold]), forecast,
                                 groups)
    assert ratio[0] == ratio[1] == pytest.approx((280 + 50) / (140 + 50))  # doubled
    assert ratio[2] == pytest.approx(1.0)
    assert ratio[3] == pytest.approx(1.0, abs=0.01)  # 1.4 vs 1.4 units
    assert ratio[4] == pytest.approx(1.0, abs=0.01)  # 7 vs 7
    assert category_level_ratio(sold * 100, forecast, groups)[0] == 2.0  # capped


def test_forecast_follows_a_category_whose_level_dropped_last_week() -> None:
    units = weekly_poisson([4.0] * 40, 182, seed=3)
    units[-7:] = weekly_poisson([1.5] * 40, 7, seed=4)
    forecast = forecast_demand(panel_of(units), groups=np.zeros(40, dtype=np.int64))
    daily = forecast.mean[:7].sum() / 7 / 40
    assert daily < 2.2  # the product models alone stay near the old level of 4
