"""The two inventory steps: forecast demand, then reorders and alerts from the forecast.

The Dagster assets run them, and ``benchmarks/bench_forecast.py`` times them, so what is
measured is what runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from analytics_pipeline.inventory.tables import (
    ALERTS_SCHEMA,
    FORECAST_SCHEMA,
    REORDER_SCHEMA,
    category_codes,
    read_forecast,
    read_panel,
    read_products,
    write_table,
)
from analytics_pipeline.models.alerts import evaluate_alerts
from analytics_pipeline.models.forecast import Forecast, ForecastConfig, forecast_demand
from analytics_pipeline.models.inventory_policy import InventoryPolicy
from analytics_pipeline.models.stock_position import reorder_frame, stock_position
from analytics_pipeline.warehouse import Warehouse


@dataclass(frozen=True)
class AlertsOutcome:
    reorder_rows: int
    alerts: pd.DataFrame


def refresh_forecast(wh: Warehouse, day: dt.date, horizon: int) -> tuple[Forecast, int]:
    """Write ``inventory.demand_forecast`` from history up to ``day``; the forecast and rows."""
    panel = read_panel(wh, day)
    groups = category_codes(read_products(wh), panel.product_ids)
    forecast = forecast_demand(panel, ForecastConfig(horizon=horizon), groups)
    return forecast, write_table(wh, "demand_forecast", forecast.to_frame(), FORECAST_SCHEMA)


def refresh_alerts(
    wh: Warehouse, day: dt.date, now: dt.datetime, policy: InventoryPolicy, horizon: int
) -> AlertsOutcome:
    """Write ``inventory.reorder_suggestions`` and ``inventory.alerts`` from the stored
    forecast (whichever engine wrote it) and the stock position at ``now``."""
    panel = read_panel(wh, day)
    forecast = read_forecast(wh, panel, horizon)
    position = stock_position(panel, forecast, read_products(wh), policy, now)
    rows = write_table(wh, "reorder_suggestions", reorder_frame(position, policy),
                       REORDER_SCHEMA)
    alerts = evaluate_alerts(position, policy)
    write_table(wh, "alerts", alerts, ALERTS_SCHEMA)
    return AlertsOutcome(rows, alerts)
