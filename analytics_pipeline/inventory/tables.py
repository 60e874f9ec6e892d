"""Reading the inventory inputs from the warehouse and writing its computed tables.

The queries only read tables; what each table means is in its SQL file's header
(``sql/inventory/demand_history.sql``) or, for the tables written here, in the model that
computes it (forecast, reorder, alerts).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa

from analytics_pipeline.models.demand_panel import DemandPanel, IntArray
from analytics_pipeline.models.forecast import Forecast
from analytics_pipeline.warehouse import Warehouse

DOMAIN = "inventory"
HISTORY_SQL = ("SELECT product_id, day, units, revenue, on_hand, on_order, out_of_stock"
               " FROM inventory.demand_history")
# SELECT *: a pack_size column, when a source ever carries one, rounds reorders up to packs.
PRODUCTS_SQL = "SELECT * FROM ingest.products WHERE NOT COALESCE(is_placeholder, FALSE)"
FORECAST_SQL = ("SELECT product_id, forecast_date, mean, std_dev, seasonal_factor, model"
                " FROM inventory.demand_forecast")
_MONEY = pa.decimal128(18, 2)

FORECAST_SCHEMA = pa.schema([
    ("product_id", pa.string()), ("forecast_date", pa.date32()), ("mean", pa.float64()),
    ("lo80", pa.float64()), ("hi80", pa.float64()), ("lo95", pa.float64()),
    ("hi95", pa.float64()), ("std_dev", pa.float64()), ("seasonal_factor", pa.float64()),
    ("model", pa.string()),
])  # fmt: skip
REORDER_SCHEMA = pa.schema([
    ("product_id", pa.string()), ("name", pa.string()), ("category", pa.string()),
    ("supplier", pa.string()), ("on_hand", pa.int64()), ("on_order", pa.int64()),
    ("overdue_on_order", pa.int64()), ("lead_time_days", pa.int64()),
    ("review_days", pa.int64()), ("avg_daily_units_28d", pa.float64()),
    ("daily_units", pa.float64()), ("days_of_supply", pa.float64()),
    ("forecast_units", pa.float64()), ("safety_stock", pa.float64()),
    ("service_level", pa.float64()), ("units_needed", pa.float64()),
    ("pack_size", pa.int64()), ("suggested_quantity", pa.int64()),
    ("expected_stockout_date", pa.date32()), ("revenue_at_risk", _MONEY),
    ("model", pa.string()), ("reason", pa.string()),
])  # fmt: skip
ALERTS_SCHEMA = pa.schema([
    ("alert_id", pa.string()), ("product_id", pa.string()), ("product_name", pa.string()),
    ("category", pa.string()), ("alert_type", pa.string()), ("severity", pa.string()),
    ("reason", pa.string()), ("evidence", pa.string()), ("suggested_quantity", pa.int64()),
    ("expected_stockout_date", pa.date32()), ("revenue_at_risk", _MONEY),
    ("as_of", pa.timestamp("us", tz="UTC")),
])  # fmt: skip


def read_panel(warehouse: Warehouse, as_of_day: dt.date) -> DemandPanel:
    """``inventory.demand_history`` as a panel whose calendar ends on ``as_of_day``."""
    frame = warehouse.fetch_df(HISTORY_SQL)
    return DemandPanel.from_frame(frame, end=as_of_day)


def read_products(warehouse: Warehouse) -> pd.DataFrame:
    """The product list (placeholders left out)."""
    return warehouse.fetch_df(PRODUCTS_SQL)


def read_forecast(warehouse: Warehouse, panel: DemandPanel, horizon: int) -> Forecast:
    """``inventory.demand_forecast`` for the panel's products, from the next day on."""
    first_day = panel.last_day + pd.Timedelta(days=1)
    return Forecast.from_frame(warehouse.fetch_df(FORECAST_SQL), panel.product_ids,
                               first_day, horizon)


def category_codes(products: pd.DataFrame, product_ids: tuple[str, ...]) -> IntArray:
    """A small integer per category, in ``product_ids`` order (unknown: its own code)."""
    categories = products.set_index("product_id")["category"].reindex(list(product_ids))
    codes, _ = pd.factorize(categories.fillna("uncategorized"))
    return np.asarray(codes, dtype=np.int64)


def write_table(warehouse: Warehouse, table: str, frame: pd.DataFrame, schema: pa.Schema) -> int:
    """Replace ``inventory.<table>`` with ``frame`` typed by ``schema``; return the rows."""
    frame = frame.copy()
    for field in schema:
        if pa.types.is_decimal(field.type):
            money = [None if pd.isna(v) else Decimal(str(round(float(v), 2)))
                     for v in frame[field.name]]
            frame[field.name] = pd.Series(money, index=frame.index, dtype=object)
    arrow = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    batches = pa.RecordBatchReader.from_batches(schema, arrow.to_batches())
    return warehouse.load_arrow(DOMAIN, table, batches)
