"""Entry point: simulate a demo store and write its tables and ground truth."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from analytics_pipeline.generate.baskets import build_lines
from analytics_pipeline.generate.catalog import build_catalog
from analytics_pipeline.generate.columns import Table
from analytics_pipeline.generate.content import build_content
from analytics_pipeline.generate.customers import (
    DROPOUT_A,
    DROPOUT_B,
    GG_GAMMA,
    GG_P,
    GG_Q,
    R_SHAPE,
    build_customers,
)
from analytics_pipeline.generate.demand import build_demand
from analytics_pipeline.generate.eventlog import EventBlock, finalize_events
from analytics_pipeline.generate.funnel import build_funnel_events
from analytics_pipeline.generate.intents import build_intents
from analytics_pipeline.generate.messy import (
    MessyRows,
    plant_events,
    plant_order_lines,
    plant_orders,
)
from analytics_pipeline.generate.orders import OrderBook, build_order_book
from analytics_pipeline.generate.sampling import stage_rng
from analytics_pipeline.generate.scales import SCALES, FileFormat, Scale
from analytics_pipeline.generate.shop import Shop
from analytics_pipeline.generate.stock import StockResult, simulate_stock
from analytics_pipeline.generate.tables import (
    content_table,
    customers_table,
    events_table,
    inventory_table,
    order_lines_table,
    orders_table,
    products_table,
)
from analytics_pipeline.generate.timeline import build_timeline
from analytics_pipeline.generate.truth import write_truth
from analytics_pipeline.generate.visits import build_visits
from analytics_pipeline.generate.writer import write_table

__all__ = ["SCALES", "TABLES", "GenerateSummary", "Scale", "generate_store"]

TABLES: tuple[str, ...] = (
    "products", "customers", "orders", "order_lines", "inventory", "events", "content",
)  # fmt: skip
TIME_ZONE = "UTC"
_MAX_PRE_DAYS = 365


@dataclass(frozen=True)
class GenerateSummary:
    """What :func:`generate_store` wrote.

    Attributes
    ----------
    rows
        Data rows written per table file (messy rows included).
    seconds
        Wall time of the run.
    """

    scale: str
    seed: int
    out_dir: Path
    truth_dir: Path
    start_date: dt.date
    end_date: dt.date
    rows: dict[str, int]
    seconds: float


class _Output:
    """Writes contract tables into the output folder and remembers what it wrote."""

    def __init__(self, out_dir: Path, file_format: FileFormat) -> None:
        self.out_dir = out_dir
        self.file_format = file_format
        self.rows: dict[str, int] = {}
        self.messy: list[MessyRows] = []
        # A stale copy in the other format would be loaded too; remove it.
        other = "parquet" if file_format == "csv" else "csv"
        for name in TABLES:
            (out_dir / f"{name}.{other}").unlink(missing_ok=True)

    def add(self, table: Table, messy: Sequence[MessyRows] = ()) -> None:
        """Write one table and record its planted rows."""
        write_table(table, self.out_dir, self.file_format)
        self.rows[table.name] = table.n_rows
        self.messy.extend(messy)


def generate_store(
    scale: str,
    seed: int,
    out_dir: Path,
    end_date: dt.date | None = None,
    truth_dir: Path | None = None,
    days: int | None = None,
) -> GenerateSummary:
    """Generate a synthetic retail store as one file per contract table.

    Parameters
    ----------
    scale
        ``tiny``, ``demo`` or ``large`` (see :data:`SCALES`).
    seed
        Same scale, seed and end date give byte-identical files.
    out_dir
        Folder for the table files (created; existing files are overwritten).
    end_date
        Last day of the history (inclusive); defaults to today.
    truth_dir
        Folder for the ground truth; defaults to ``<out_dir>_truth`` next to
        ``out_dir``. It must not be inside ``out_dir``, which the loader reads whole.
    days
        Length of the history instead of the scale's, at the scale's orders per day (a
        second year gives the forecast a last season to learn holidays from).

    Returns
    -------
    GenerateSummary
        Paths, dates, row counts and timing.
    """
    began = time.perf_counter()
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    spec = SCALES[scale]
    if days is not None:
        if days < 28:
            raise ValueError("days must be at least 28")
        spec = replace(spec, days=days, target_orders=round(spec.target_orders * days / spec.days))
    out_dir = Path(out_dir)
    truth_dir = Path(truth_dir) if truth_dir else out_dir.parent / f"{out_dir.name}_truth"
    if truth_dir.resolve().is_relative_to(out_dir.resolve()):
        raise ValueError("truth_dir must not be inside out_dir: the loader reads all of it")
    for directory in (out_dir, truth_dir):
        directory.mkdir(parents=True, exist_ok=True)
    shop, stock, book, engagement = _simulate(spec, seed, end_date or dt.date.today())
    output = _Output(out_dir, spec.file_format)
    _write_static_tables(output, shop, stock)
    _write_order_tables(output, shop, book, spec, seed)
    funnel = build_funnel_events(shop, book, spec.events_density, stage_rng(seed, "funnel"))
    # The order book and the raw event blocks are the biggest objects: free them early.
    del book
    events = finalize_events(
        (*engagement, *funnel), shop.lifetimes.created_at, shop.start_second, shop.end_second
    )
    del engagement, funnel
    table = events_table(events, shop.catalog)
    del events
    output.add(*plant_events(table, spec.messy_per_kind, stage_rng(seed, "messy-events")))
    rows = {name: output.rows[name] for name in TABLES}
    manifest = _manifest(spec, seed, shop, rows)
    write_truth(shop, stock, output.messy, manifest, truth_dir, spec.file_format)
    return GenerateSummary(
        scale=scale,
        seed=seed,
        out_dir=out_dir,
        truth_dir=truth_dir,
        start_date=shop.timeline.start,
        end_date=shop.timeline.end,
        rows=rows,
        seconds=time.perf_counter() - began,
    )


def _simulate(
    spec: Scale, seed: int, end_date: dt.date
) -> tuple[Shop, StockResult, OrderBook, tuple[EventBlock, ...]]:
    """Run the simulation up to the orders; each stage has its own random stream.

    Returns the shop, its stock history, the orders and the engagement events that
    drove some of the purchases.
    """
    timeline = build_timeline(end_date, spec.days, min(spec.days, _MAX_PRE_DAYS))
    catalog = build_catalog(spec.products, spec.days, spec.suppliers, stage_rng(seed, "catalog"))
    demand = build_demand(catalog, timeline, stage_rng(seed, "demand"))
    content = build_content(spec.content_items, catalog, stage_rng(seed, "content"))
    customers = build_customers(spec.customers, timeline, catalog, stage_rng(seed, "customers"))
    visits, lifetimes = build_visits(
        customers, timeline, spec.target_orders, stage_rng(seed, "visits")
    )
    shop = Shop(timeline, catalog, demand, content, customers, lifetimes, visits)
    intents = build_intents(shop, spec.target_orders, stage_rng(seed, "intents"))
    lines = build_lines(shop, intents, stage_rng(seed, "baskets"))
    stock = simulate_stock(shop, lines, stage_rng(seed, "stock"))
    book = build_order_book(shop, lines, stock.served, stage_rng(seed, "orders"))
    return shop, stock, book, intents.events


def _write_static_tables(output: _Output, shop: Shop, stock: StockResult) -> None:
    """Products, customers, inventory and content (nothing planted)."""
    output.add(products_table(shop.catalog))
    output.add(customers_table(shop.customers, shop.lifetimes))
    output.add(inventory_table(stock, shop.catalog, shop.timeline))
    output.add(content_table(shop.content, shop.catalog))


def _write_order_tables(
    output: _Output, shop: Shop, book: OrderBook, spec: Scale, seed: int
) -> None:
    """Orders and order lines, with messy rows planted."""
    k = spec.messy_per_kind
    orders = orders_table(book)
    output.add(
        *plant_orders(orders, book.customer < 0, book.is_return, k, stage_rng(seed, "messy-orders"))
    )
    lines = order_lines_table(book, shop.catalog)
    output.add(*plant_order_lines(lines, book.n, k, stage_rng(seed, "messy-lines")))


def _manifest(spec: Scale, seed: int, shop: Shop, rows: dict[str, int]) -> dict[str, Any]:
    """Run facts and the generating parameters."""
    timeline = shop.timeline
    return {
        "scale": spec.name,
        "seed": seed,
        "start_date": timeline.start.isoformat(),
        "end_date": timeline.end.isoformat(),
        "time_zone": TIME_ZONE,
        "file_format": spec.file_format,
        "rows": rows,
        "bgnbd": {
            "r": R_SHAPE,
            "alpha": 1.0 / shop.lifetimes.rate_scale,
            "a": DROPOUT_A,
            "b": DROPOUT_B,
            "time_unit": "day (shop-traffic weighted: one unit is an average day)",
        },
        "gamma_gamma": {"p": GG_P, "q": GG_Q, "gamma": GG_GAMMA},
    }
