"""Forecast + alerts for 1,000 products x 2 years of daily history (target < 30 s).

The history comes from the project's generator, run in memory at a custom scale (1,000
products, 730 days, ~500k orders) so its demand has the real shapes: weekly and yearly
seasons, holidays, promotions, trends, launches and stockouts. It is put in a DuckDB file
as ``inventory.demand_history`` and ``ingest.products``; one measured run is what the two
inventory assets do: read the history, forecast 28 days for every product (statsforecast),
write the forecast, read it back, build the stock positions and write reorder suggestions
and alerts. A seasonal-naive forecast of the same panel (statsforecast's SeasonalNaive),
timed in the same session, is the reference ratio. One warm-up run first, then the median
of ``--runs``.

    .venv/bin/python benchmarks/bench_forecast.py --runs 3   # -> results/forecast.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from statsforecast import StatsForecast
from statsforecast.models import SeasonalNaive

from analytics_pipeline.generate.catalog import CATEGORY_NAMES
from analytics_pipeline.generate.names import SUPPLIERS
from analytics_pipeline.generate.scales import Scale
from analytics_pipeline.generate.store import _simulate
from analytics_pipeline.generate.tables import product_id_text
from analytics_pipeline.inventory.refresh import refresh_alerts, refresh_forecast
from analytics_pipeline.inventory.tables import read_panel
from analytics_pipeline.models.forecast import ForecastConfig
from analytics_pipeline.models.inventory_policy import InventoryPolicy
from analytics_pipeline.warehouse import DuckDBWarehouse

RESULTS = Path(__file__).parent / "results"
# Ends before the holiday run-up, so the seasonal rule has last year's peak to go on.
END_DATE = dt.date(2026, 11, 10)
SCALE = Scale(name="bench-forecast", customers=25_000, products=1_000, days=730,
              target_orders=500_000, file_format="parquet", content_items=50,
              events_density=0.0, messy_per_kind=0)


def simulated_history(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``inventory.demand_history`` and ``ingest.products`` rows of a simulated shop."""
    shop, stock, _, _ = _simulate(SCALE, seed, END_DATE)
    catalog, days = shop.catalog, shop.timeline.days
    ids = np.array([product_id_text(int(c)) for c in catalog.code], dtype=object)
    day, product = np.nonzero(np.arange(days)[:, None] >= catalog.launch_day[None, :])
    dates = pd.Timestamp(shop.timeline.start) + pd.to_timedelta(day, unit="D")
    sold = stock.sold[day, product]
    history = pd.DataFrame({
        "product_id": ids[product], "day": dates.date, "units": sold,
        "revenue": sold * catalog.price[product] / 100.0,
        "on_hand": stock.on_hand[day, product], "on_order": stock.on_order[day, product],
        "out_of_stock": stock.on_hand[day, product] == 0,
    })  # fmt: skip
    products = pd.DataFrame({
        "product_id": ids, "name": list(catalog.name),
        "category": [CATEGORY_NAMES[c] for c in catalog.category],
        "supplier": [SUPPLIERS[s % len(SUPPLIERS)] for s in catalog.supplier],
        "lead_time_days": catalog.lead_time, "unit_price": catalog.price / 100.0,
        "unit_cost": catalog.cost / 100.0, "is_placeholder": False,
    })  # fmt: skip
    return history, products


def pipeline_run(wh: DuckDBWarehouse, as_of: dt.datetime) -> dict[str, Any]:
    """What the demand_forecast and stock_alerts assets do, back to back."""
    horizon = ForecastConfig().horizon
    forecast, _rows = refresh_forecast(wh, as_of.date(), horizon)
    alerts = refresh_alerts(wh, as_of.date(), as_of, InventoryPolicy(), horizon).alerts
    return {"models": dict(Counter(m.split("+")[0] for m in forecast.model)),
            "yearly": sum("+yearly" in m for m in forecast.model),
            "alerts": dict(Counter(alerts["alert_type"]))}


def seasonal_naive_run(wh: DuckDBWarehouse, as_of: dt.datetime) -> None:
    """The reference: read the same history and forecast it with SeasonalNaive(7)."""
    panel = read_panel(wh, as_of.date())
    frame = pd.DataFrame({
        "unique_id": np.repeat(np.arange(panel.n_products), len(panel.days)),
        "ds": np.tile(np.arange(len(panel.days)), panel.n_products),
        "y": np.nan_to_num(panel.units.T.ravel()),
    })  # fmt: skip
    StatsForecast(models=[SeasonalNaive(season_length=7)], freq=1, n_jobs=1).forecast(
        df=frame, h=28, level=[80, 95])


def timed(label: str, runs: int, action: Any) -> list[float]:
    action()  # warm-up: imports, first calls, file caches
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
        print(f"  {label}: {seconds[-1]:.2f} s", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    started = time.perf_counter()
    history, products = simulated_history(args.seed)
    print(f"simulated {history.product_id.nunique()} products x "
          f"{history.day.nunique()} days in {time.perf_counter() - started:.1f} s", flush=True)
    as_of = dt.datetime.combine(END_DATE, dt.time(23, 0), tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory() as work:
        wh = DuckDBWarehouse(Path(work) / "bench.duckdb", "UTC")
        for domain, table, frame in (("inventory", "demand_history", history),
                                     ("ingest", "products", products)):
            arrow = pa.Table.from_pandas(frame, preserve_index=False)
            wh.load_arrow(domain, table, pa.RecordBatchReader.from_batches(
                arrow.schema, arrow.to_batches()))
        summary = pipeline_run(wh, as_of)
        ours = timed("forecast + alerts", args.runs, lambda: pipeline_run(wh, as_of))
        naive = timed("seasonal naive", args.runs, lambda: seasonal_naive_run(wh, as_of))
        wh.close()
    result = {
        "products": int(history.product_id.nunique()), "days": int(history.day.nunique()),
        "rows": len(history), "runs": args.runs,
        "forecast_alerts_median_s": round(statistics.median(ours), 2),
        "seasonal_naive_median_s": round(statistics.median(naive), 2),
        "ratio": round(statistics.median(ours) / statistics.median(naive), 1),
        "target_s": 30, **summary,
    }
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "forecast.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
