"""Inventory computed in Python: the demand forecast, then reorder suggestions and alerts.

All read the daily history ``sql/inventory/demand_history.sql`` builds, hand it to the
plain models in ``analytics_pipeline/models`` and write the results back with
``load_arrow`` (:mod:`analytics_pipeline.inventory.tables`). Reorders and alerts come
from one step because both stand on the same stock position and forecast.
"""

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import dagster as dg

from analytics_pipeline.inventory.bigquery_ml import ArimaPlusOptions, run_bigquery_ml
from analytics_pipeline.inventory.refresh import refresh_alerts, refresh_forecast
from analytics_pipeline.models.forecast import ForecastConfig
from analytics_pipeline.resources import ClockResource, ModelParamsResource, WarehouseResource

HISTORY_KEY = dg.AssetKey(["inventory", "demand_history"])
PRODUCTS_KEY = dg.AssetKey(["ingest", "products"])
FORECAST_KEY = dg.AssetKey(["inventory", "demand_forecast"])
REORDER_KEY = dg.AssetKey(["inventory", "reorder_suggestions"])
ALERTS_KEY = dg.AssetKey(["inventory", "alerts"])
HORIZON_DAYS = ForecastConfig().horizon


def _as_of_day(clock: ClockResource) -> dt.date:
    return clock.now().astimezone(ZoneInfo(clock.store_timezone)).date()


@dg.asset(
    key=FORECAST_KEY, group_name="inventory", deps=[HISTORY_KEY, PRODUCTS_KEY],
    description="Daily demand per product for the next 28 days with 80 % and 95 % intervals "
                "(statsforecast TSB/ETS, or BigQuery ML ARIMA_PLUS).",
)
def demand_forecast(
    warehouse: WarehouseResource, clock: ClockResource, model_params: ModelParamsResource
) -> dg.MaterializeResult[None]:
    with warehouse.open() as wh:
        if model_params.forecast_engine == "bigquery_ml":
            rows = run_bigquery_ml(wh, ArimaPlusOptions(horizon=HORIZON_DAYS))
            return dg.MaterializeResult(
                metadata={"dagster/row_count": rows, "engine": "bigquery_ml ARIMA_PLUS"})
        forecast, rows = refresh_forecast(wh, _as_of_day(clock), HORIZON_DAYS)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "engine": "statsforecast",
        "models": dict(Counter(forecast.model)),
    })


@dg.multi_asset(specs=[
    dg.AssetSpec(REORDER_KEY, group_name="inventory",
                 deps=[HISTORY_KEY, FORECAST_KEY, PRODUCTS_KEY],
                 description="Products to reorder now: forecast over lead time + review "
                             "period + safety stock - on hand - on order, in whole packs."),
    dg.AssetSpec(ALERTS_KEY, group_name="inventory",
                 deps=[HISTORY_KEY, FORECAST_KEY, PRODUCTS_KEY],
                 description="Low stock, overstock, trending, slow mover and seasonal alerts, "
                             "each with its reason and evidence."),
])
def stock_alerts(
    warehouse: WarehouseResource, clock: ClockResource, model_params: ModelParamsResource
) -> Iterator[dg.MaterializeResult[None]]:
    policy = model_params.inventory_policy()
    with warehouse.open() as wh:
        outcome = refresh_alerts(wh, _as_of_day(clock), clock.now(), policy, HORIZON_DAYS)
    alerts = outcome.alerts
    yield dg.MaterializeResult(asset_key=REORDER_KEY,
                               metadata={"dagster/row_count": outcome.reorder_rows})
    counts = Counter(f"{t} {s}" for t, s in zip(alerts["alert_type"], alerts["severity"],
                                                strict=True))
    yield dg.MaterializeResult(asset_key=ALERTS_KEY,
                               metadata={"dagster/row_count": len(alerts), **counts})
