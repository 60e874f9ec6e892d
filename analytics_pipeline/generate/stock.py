"""Daily stock simulation with an (s, Q) reorder policy per product.

Each morning deliveries arrive; the day's purchases are served in time order until the
shelf is empty, and whatever cannot be served is lost (the line shrinks or disappears).
Each evening, if stock on hand plus on order is at or below the reorder point ``s``, an
order of ``Q`` units is placed with the product's supplier and arrives after its lead
time. ``s`` and ``Q`` are re-planned weekly from the trailing four weeks of demand, so
risers outrun their plan and decliners pile up stock, as in a real shop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics_pipeline.generate.arrays import (
    SECONDS_PER_DAY,
    FloatArray,
    IntArray,
    as_float,
    as_int,
    run_starts,
)
from analytics_pipeline.generate.baskets import Lines
from analytics_pipeline.generate.catalog import OVERSTOCK, SLOW_MOVER, STOCKOUT_RISK, SUPPLY_GAP
from analytics_pipeline.generate.shop import Shop

_REVIEW_DAYS = 7
_SAFETY = (1.3, 1.8)  # multiple of lead-time demand kept as reorder point
_RISKY_SAFETY = (0.2, 0.6)
_NOISE_Z = 2.0  # extra standard deviations of lead-time demand
_COVER_DAYS = (7, 28)  # days of demand one order covers
_OVERSTOCK_COVER_DAYS = (150, 300)
_SLOW_MOVER_COVER_DAYS = (120, 200)
_TRAILING_DAYS = 28
_PLAN_AHEAD_DAYS = 14
# Supply-gap products' supplier stops delivering this many days before the end.
_SUPPLY_GAP_DAYS = (20, 35)


@dataclass(frozen=True)
class StockResult:
    """Outcome of the stock simulation; matrices are ``(days, products)``.

    Attributes
    ----------
    served
        Units actually sold per candidate line (0 = the line was lost).
    opening
        Units available at the start of each day, after deliveries.
    on_hand, on_order
        End-of-day stock and units ordered but not yet delivered.
    demand, sold
        Units wanted and units sold per day.
    reorder_point, order_quantity
        The policy in force at the end of the history.
    """

    served: IntArray
    opening: IntArray
    on_hand: IntArray
    on_order: IntArray
    demand: IntArray
    sold: IntArray
    reorder_point: IntArray
    order_quantity: IntArray


@dataclass(frozen=True)
class _Plan:
    """Weekly (s, Q) per product: ``(weeks, products)``."""

    reorder_point: IntArray
    order_quantity: IntArray


def simulate_stock(shop: Shop, lines: Lines, rng: np.random.Generator) -> StockResult:
    """Run the shelves for the whole history.

    Parameters
    ----------
    shop
        The simulated shop.
    lines
        Candidate order lines (all purchase attempts).
    rng
        Random source for policy parameters and opening stock.
    """
    days, n = shop.timeline.days, shop.catalog.n
    day = shop.visits.day[lines.visit]
    cell = day * n + lines.product
    demand = np.bincount(cell, weights=lines.quantity, minlength=days * n)
    demand = as_int(demand).reshape(days, n)
    lines_per_product = np.bincount(lines.product, minlength=n)
    units_per_line = demand.sum(axis=0) / np.maximum(lines_per_product, 1)
    plan = _plan(shop, demand, units_per_line, rng)
    opening_stock = _opening_stock(shop, plan, rng)
    cut_off = np.where(
        shop.catalog.role == SUPPLY_GAP, days - rng.integers(*_SUPPLY_GAP_DAYS, size=n), days
    )
    second_of_day = shop.visits.second[lines.visit] % SECONDS_PER_DAY
    order = np.argsort(cell * SECONDS_PER_DAY + second_of_day, kind="stable")
    served = np.empty(len(cell), dtype=np.int64)
    served[order], opening, on_hand, on_order = _run_days(
        shop, plan, cell[order], lines.quantity[order], opening_stock, cut_off
    )
    return StockResult(
        served=served,
        opening=opening,
        on_hand=on_hand,
        on_order=on_order,
        demand=demand,
        sold=opening - on_hand,
        reorder_point=plan.reorder_point[-1],
        order_quantity=plan.order_quantity[-1],
    )


def _plan(
    shop: Shop, demand: IntArray, units_per_line: FloatArray, rng: np.random.Generator
) -> _Plan:
    """Weekly reorder point and order quantity from forecast demand and the planted role.

    The reorder point covers the lead time with a safety factor plus a buffer for
    demand noise (bigger when units come in multi-packs); stockout-risk products get
    a reorder point that is simply too low.
    """
    catalog, n = shop.catalog, shop.catalog.n
    risky = catalog.role == STOCKOUT_RISK
    safety = np.where(risky, rng.uniform(*_RISKY_SAFETY, n), rng.uniform(*_SAFETY, n))
    buffer_z = np.where(risky, 0.0, _NOISE_Z)
    cover = rng.uniform(*_COVER_DAYS, n)
    cover = np.where(catalog.role == OVERSTOCK, rng.uniform(*_OVERSTOCK_COVER_DAYS, n), cover)
    cover = np.where(catalog.role == SLOW_MOVER, rng.uniform(*_SLOW_MOVER_COVER_DAYS, n), cover)
    rate = _forecast(demand, shop.demand.expected, catalog.launch_day, catalog.lead_time)
    lead_demand = rate * catalog.lead_time
    noise = buffer_z * np.sqrt(lead_demand * units_per_line)
    reorder_point = np.ceil(lead_demand * safety + noise)
    order_quantity = np.maximum(np.ceil(rate * cover), 1)
    return _Plan(reorder_point=as_int(reorder_point), order_quantity=as_int(order_quantity))


def _forecast(
    demand: IntArray, expected: FloatArray, launch: IntArray, lead: IntArray
) -> FloatArray:
    """Daily demand the planner expects at each weekly review, ``(weeks, products)``.

    The planner measures the product's level over the last four weeks (for young
    products: their first four weeks) relative to the foreseeable demand shape, then
    applies that level to the shape of the coming lead time plus two weeks. Trends are
    not foreseeable, so risers outrun the plan and decliners pile up stock.
    """
    days = demand.shape[0]
    units = np.vstack([np.zeros((1, demand.shape[1])), np.cumsum(demand, axis=0)])
    shape = np.vstack([np.zeros((1, demand.shape[1])), np.cumsum(expected, axis=0)])
    review = np.arange(0, days, _REVIEW_DAYS)[:, None]
    mature = review - launch >= _TRAILING_DAYS
    lo = np.clip(np.where(mature, review - _TRAILING_DAYS, launch), 0, days)
    hi = np.clip(np.where(mature, review, launch + _TRAILING_DAYS), 0, days)
    ahead = np.clip(review + lead + _PLAN_AHEAD_DAYS, 0, days)
    reviewed = np.broadcast_to(review, ahead.shape)

    def window(cumulative: FloatArray, a: IntArray, b: IntArray) -> FloatArray:
        return np.take_along_axis(cumulative, b, 0) - np.take_along_axis(cumulative, a, 0)

    level = window(units, lo, hi) / np.maximum(window(shape, lo, hi), 1e-9)
    coming = window(shape, reviewed, ahead) / np.maximum(ahead - reviewed, 1)
    return as_float(level * coming)


def _opening_stock(shop: Shop, plan: _Plan, rng: np.random.Generator) -> IntArray:
    """Stock on the shelf when a product goes on sale: its reorder point plus part of Q."""
    catalog = shop.catalog
    week = np.minimum(catalog.launch_day // _REVIEW_DAYS, len(plan.reorder_point) - 1)
    products = np.arange(catalog.n)
    top_up = plan.order_quantity[week, products] * rng.uniform(0.3, 1.0, catalog.n)
    return as_int(plan.reorder_point[week, products] + np.ceil(top_up))


def _queue_ahead(cell: IntArray, quantity: IntArray) -> IntArray:
    """Units wanted earlier the same day for the same product (lines sorted by time)."""
    ahead = np.cumsum(quantity) - quantity
    starts = run_starts(cell)
    return ahead - np.repeat(ahead[starts], np.diff(np.append(starts, len(cell))))


def _run_days(
    shop: Shop,
    plan: _Plan,
    cell: IntArray,
    quantity: IntArray,
    opening_stock: IntArray,
    cut_off: IntArray,
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Day loop over all products at once.

    ``cell`` (``day * products + product``) and ``quantity`` are sorted by day,
    product and time of day. From day ``cut_off`` on, a product's supplier neither
    delivers nor takes orders. Returns units served per (sorted) line and the opening,
    end-of-day and on-order stock matrices.
    """
    catalog, days, n = shop.catalog, shop.timeline.days, shop.catalog.n
    lead, products = catalog.lead_time, np.arange(n)
    ahead = _queue_ahead(cell, quantity)
    bounds = np.searchsorted(cell, np.arange(days + 1) * n)
    served = np.zeros(len(cell), dtype=np.int64)
    arrivals = np.zeros((days + int(lead.max()) + 1, n), dtype=np.int64)
    opening, on_hand, on_order = (np.zeros((days, n), dtype=np.int64) for _ in range(3))
    stock, pending = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    for d in range(days):
        # A failed supplier's orders stay outstanding (overdue) but never arrive.
        delivered = np.where(d < cut_off, arrivals[d], 0)
        pending -= delivered
        stock += delivered + np.where(catalog.launch_day == d, opening_stock, 0)
        opening[d] = stock
        today = slice(bounds[d], bounds[d + 1])
        product = cell[today] - d * n
        served[today] = np.clip(stock[product] - ahead[today], 0, quantity[today])
        stock -= np.bincount(product, weights=served[today], minlength=n).astype(np.int64)
        s, q = plan.reorder_point[d // _REVIEW_DAYS], plan.order_quantity[d // _REVIEW_DAYS]
        reorder = (d >= catalog.launch_day) & (stock + pending <= s) & (d < cut_off)
        arrivals[d + lead[reorder], products[reorder]] += q[reorder]
        pending += np.where(reorder, q, 0)
        on_hand[d], on_order[d] = stock, pending
    return served, opening, on_hand, on_order
