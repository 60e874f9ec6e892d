"""The demand forecast inside BigQuery: BigQuery ML's ARIMA_PLUS, one model per product.

Chosen with ``ANALYTICS_FORECAST_ENGINE=bigquery_ml`` on a BigQuery warehouse: the history
never leaves BigQuery and 1,000 series train in one statement. ARIMA_PLUS fits each
series (``time_series_id_col``) with weekly and yearly seasonality, the holidays of a
region and a trend, and interpolates missing days; out-of-stock days are left out of the
training rows, so they count as missing (censored), not as zero demand. The result has
``inventory.demand_forecast``'s columns: the 80 % and 95 % bounds come from two
``ML.FORECAST`` calls and ``std_dev`` is its ``standard_error``. ``seasonal_factor`` stays
NULL (read as 1): ARIMA_PLUS folds the season into its forecast, so the seasonal alert
rule, which needs the calendar's share of a peak, stays silent with this engine (its
components are in ``ML.EXPLAIN_FORECAST``; wiring them in is left for later).

The statements are BigQuery SQL (DuckDB has no CREATE MODEL to transpile from), built
from validated identifiers and integers only: no value from data or users reaches them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analytics_pipeline.warehouse import Warehouse
from analytics_pipeline.warehouse.bigquery_layout import layout_of
from analytics_pipeline.warehouse.params import identifier

_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,61}[a-z0-9]$")
_REGION = re.compile(r"^[A-Z]{2,6}$")
MODEL_NAME = "demand_forecast_model"


@dataclass(frozen=True)
class ArimaPlusOptions:
    """ARIMA_PLUS settings.

    Attributes
    ----------
    horizon
        Days ahead (the model is trained for it; ML.FORECAST asks for the same).
    holiday_region
        BigQuery ML holiday region (``US``, ``GB``, ``GLOBAL``, ...).
    """

    horizon: int = 28
    holiday_region: str = "US"

    def __post_init__(self) -> None:
        if not 1 <= self.horizon <= 1000:
            raise ValueError("horizon must be between 1 and 1000 days")
        if not _REGION.match(self.holiday_region):
            raise ValueError(f"{self.holiday_region!r} is not a BigQuery ML holiday region")


def bigquery_ml_statements(
    project: str, dataset: str, options: ArimaPlusOptions | None = None
) -> list[str]:
    """``CREATE MODEL`` on ``inventory.demand_history``, then the forecast table.

    Parameters
    ----------
    project, dataset
        The warehouse's project and dataset prefix (domains live in ``{dataset}_{domain}``).
    options
        Horizon and holiday region.
    """
    options = options or ArimaPlusOptions()
    if not _PROJECT.match(project):
        raise ValueError(f"{project!r} is not a Google Cloud project id")
    inventory = f"{project}.{identifier(dataset)}_inventory"
    model = f"`{inventory}.{MODEL_NAME}`"
    h = int(options.horizon)
    # The same layout the statsforecast path's load job gives the table: BigQuery refuses
    # to replace a table with a differently partitioned one.
    layout = layout_of("inventory", "demand_forecast")
    clauses = layout.clauses() if layout else ""
    create_model = f"""CREATE OR REPLACE MODEL {model}
OPTIONS (
  model_type = 'ARIMA_PLUS',
  time_series_timestamp_col = 'day',
  time_series_data_col = 'units',
  time_series_id_col = 'product_id',
  data_frequency = 'DAILY',
  horizon = {h},
  auto_arima = TRUE,
  holiday_region = '{options.holiday_region}',
  decompose_time_series = TRUE
) AS
SELECT product_id, day, CAST(units AS FLOAT64) AS units
FROM `{inventory}.demand_history`
WHERE NOT out_of_stock"""  # noqa: S608 - validated identifiers and an int only
    forecast = f"""CREATE OR REPLACE TABLE `{inventory}.demand_forecast` {clauses} AS
SELECT
  f80.product_id,
  CAST(f80.forecast_timestamp AS DATE) AS forecast_date,
  GREATEST(f80.forecast_value, 0) AS mean,
  GREATEST(f80.prediction_interval_lower_bound, 0) AS lo80,
  GREATEST(f80.prediction_interval_upper_bound, 0) AS hi80,
  GREATEST(f95.prediction_interval_lower_bound, 0) AS lo95,
  GREATEST(f95.prediction_interval_upper_bound, 0) AS hi95,
  f80.standard_error AS std_dev,
  CAST(NULL AS FLOAT64) AS seasonal_factor,
  'bqml_arima_plus' AS model
FROM ML.FORECAST(MODEL {model}, STRUCT({h} AS horizon, 0.8 AS confidence_level)) AS f80
JOIN ML.FORECAST(MODEL {model}, STRUCT({h} AS horizon, 0.95 AS confidence_level)) AS f95
  ON f95.product_id = f80.product_id
  AND f95.forecast_timestamp = f80.forecast_timestamp"""  # noqa: S608 - as above
    return [create_model, forecast]


def run_bigquery_ml(warehouse: Warehouse, options: ArimaPlusOptions | None = None) -> int:
    """Train and forecast in the BigQuery warehouse; return the forecast rows."""
    from analytics_pipeline.warehouse.bigquery_warehouse import BigQueryWarehouse

    if not isinstance(warehouse, BigQueryWarehouse):
        raise ValueError("ANALYTICS_FORECAST_ENGINE=bigquery_ml needs a BigQuery warehouse")
    warehouse.ensure_schema("inventory")
    for statement in bigquery_ml_statements(warehouse.project, warehouse.dataset, options):
        # Native BigQuery SQL: run through the warehouse's client, not its DuckDB transpiler.
        warehouse._client.query(statement).result()
    (count,) = warehouse.fetch_all("SELECT count(*) FROM inventory.demand_forecast")[0]
    return int(str(count))
