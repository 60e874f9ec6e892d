"""Where stock is heading and how much to reorder, from the demand forecast.

Units on order are counted from the day they are due: each order is dated from the rise
in ``on_order`` on the day it was placed (deliveries that same day are recognised by
the rise in stock), and is due its supplier's lead time later. The units still open are
the most recent orders (suppliers deliver first in, first out). Units more than a grace
period past due are not counted on; units late by less are expected tomorrow by the
reorder plan (so nothing is ordered twice) but not by the stockout chances, because an
order that has missed its date may not come at all.

The reorder quantity is the textbook order-up-to level: forecast demand over the lead
time plus the review period, plus safety stock for the service level (z times the
standard deviation of that demand), minus stock on hand and on order, rounded up to
whole packs when the pack size is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analytics_pipeline.models import count_distribution
from analytics_pipeline.models.demand_panel import BoolArray, DemandPanel, FloatArray, IntArray
from analytics_pipeline.models.inventory_policy import InventoryPolicy

NO_STOCKOUT = -1


@dataclass(frozen=True)
class OpenOrders:
    """Units on order as the supplier should deliver them.

    Attributes
    ----------
    arrivals
        ``(days, products)`` units due on each coming day (row 0 is tomorrow).
    overdue
        Units past due by more than the grace period, not counted on.
    late
        Units past due by at most the grace period, in ``arrivals`` as due tomorrow.
    """

    arrivals: FloatArray
    overdue: FloatArray
    late: FloatArray

    @property
    def sure_arrivals(self) -> FloatArray:
        """``arrivals`` without the late units: what a stockout chance may count on."""
        sure = self.arrivals.copy()
        if len(sure):
            sure[0] -= self.late
        return np.asarray(sure, dtype=np.float64)

    @property
    def counted(self) -> FloatArray:
        """Units on order that are counted on (due within the arrivals' days)."""
        return np.asarray(self.arrivals.sum(axis=0), dtype=np.float64)


def open_orders(panel: DemandPanel, lead_time: FloatArray, days: int, grace: float) -> OpenOrders:
    """When the units on order at the panel's last day should arrive.

    Parameters
    ----------
    panel
        History with daily ``on_hand`` and ``on_order``.
    lead_time
        Supplier lead time per product, in days.
    days
        Days ahead to schedule (units due later are left out of ``arrivals``).
    grace
        Days past due after which open units no longer count.
    """
    t, n = panel.on_order.shape
    arrivals, overdue, late = np.zeros((days, n)), np.zeros(n), np.zeros(n)
    if t == 0:
        return OpenOrders(arrivals, overdue, late)
    on_order, on_hand = np.nan_to_num(panel.on_order), np.nan_to_num(panel.on_hand)
    before_order = np.vstack([np.zeros((1, n)), on_order[:-1]])
    before_hand = np.vstack([np.zeros((1, n)), on_hand[:-1]])
    delivered = np.clip(on_hand - before_hand + np.nan_to_num(panel.units), 0, before_order)
    placed = np.maximum(on_order - before_order + delivered, 0)
    still_open = on_order[-1]
    later = np.cumsum(placed[::-1], axis=0)[::-1] - placed  # placed after each row
    open_units = np.clip(still_open - later, 0, placed)
    # Open units whose order is not visible (history too short) are taken as placed today.
    unseen = np.maximum(still_open - open_units.sum(axis=0), 0)
    row, product = np.nonzero(open_units)
    due = row + lead_time[product] - (t - 1)
    units = open_units[row, product]
    gone = due < -grace
    np.add.at(overdue, product[gone], units[gone])
    past = ~gone & (due < 1)
    if days > 0:
        np.add.at(late, product[past], units[past])
    ahead = np.maximum(due[~gone], 1).astype(np.int64)
    keep = ahead <= days
    np.add.at(arrivals, (ahead[keep] - 1, product[~gone][keep]), units[~gone][keep])
    unseen_due = np.maximum(lead_time, 1).astype(np.int64)
    cols = np.flatnonzero((unseen > 0) & (unseen_due <= days))
    arrivals[unseen_due[cols] - 1, cols] += unseen[cols]
    return OpenOrders(arrivals, overdue, late)


def extend(mean: FloatArray, days: int) -> FloatArray:
    """``mean`` continued to ``days`` rows by repeating its last week."""
    if days <= len(mean):
        return mean[:days]
    week = mean[-7:] if len(mean) >= 7 else np.repeat(mean[-1:], 7, axis=0)
    extra = np.resize(week, (days - len(mean), mean.shape[1]))
    return np.vstack([mean, extra])


def project_stock(on_hand: FloatArray, arrivals: FloatArray, mean: FloatArray) -> FloatArray:
    """End-of-day stock on the mean demand path, ``(days, products)``; below 0 = unmet."""
    return on_hand + np.cumsum(arrivals - mean, axis=0)


def stockout_offset(on_hand: FloatArray, projected: FloatArray) -> IntArray:
    """Days until the mean path runs out (0: already out; :data:`NO_STOCKOUT`: not within
    the projection)."""
    out = projected <= 1e-9
    first = np.where(out.any(axis=0), out.argmax(axis=0) + 1, NO_STOCKOUT)
    return np.where(on_hand <= 0, 0, first).astype(np.int64)


def stockout_probability(
    on_hand: FloatArray, arrivals: FloatArray, mean: FloatArray, size: FloatArray,
    level_size: FloatArray,
) -> FloatArray:
    """Chance the shelf is empty at the end of some day of ``mean``'s rows.

    For each day k, P(demand over days 1..k >= stock + arrivals by day k), with the sum's
    negative-binomial size moment-matched; the largest over k (a lower bound of the
    chance of any stockout, close to it because the days' sums move together).

    Adding up independent days understates how far a sum of days strays from the
    forecast: a level that is off (a season ending, a fad fading) is off every day, so
    the misses add up instead of cancelling. ``level_size``, the negative-binomial size
    of the product's recent weekly totals, bounds the sum's size: the sum is taken to be
    at least as spread out, relative to its mean, as whole weeks have been.
    """
    total = np.cumsum(mean, axis=0)
    excess = np.cumsum(mean**2, axis=0) / np.maximum(size, 1e-9)
    sizes = np.where(excess > 0, total**2 / np.maximum(excess, 1e-12),
                     count_distribution.POISSON_SIZE)
    sizes = np.minimum(sizes, level_size)
    available = on_hand + np.cumsum(arrivals, axis=0)
    chance = count_distribution.at_least_probability(total, sizes, available)
    return np.asarray(np.where(on_hand <= 0, 1.0, chance.max(axis=0, initial=0.0)),
                      dtype=np.float64)


@dataclass(frozen=True)
class ReorderPlan:
    """Per product: what to order now and what happens without it.

    Attributes
    ----------
    cover_days
        Lead time + review period: the days an order placed now must cover.
    forecast_units, safety_stock
        Mean demand over ``cover_days`` and the buffer for the service level.
    units_needed
        ``forecast_units + safety_stock``.
    suggested
        Units to order now (0: none needed), rounded up to whole packs when known.
    stockout_offset
        Days until the mean path runs out without a new order (see :func:`stockout_offset`).
    lost_units
        Mean demand the shelf cannot serve over ``cover_days`` if nothing is ordered.
    """

    cover_days: IntArray
    forecast_units: FloatArray
    safety_stock: FloatArray
    units_needed: FloatArray
    suggested: IntArray
    stockout_offset: IntArray
    lost_units: FloatArray


def reorder_plan(
    on_hand: FloatArray, orders: OpenOrders, mean: FloatArray, size: FloatArray,
    lead_time: FloatArray, pack_size: FloatArray, policy: InventoryPolicy,
) -> ReorderPlan:
    """The order-up-to quantity per product (see the module docstring).

    ``mean`` is the daily forecast (extended by its last week when the cover is longer);
    ``pack_size`` is NaN where unknown. ``orders.arrivals`` must span the longest cover.
    """
    cover = (np.maximum(lead_time, 0) + policy.review_days).astype(np.int64)
    horizon = int(max(cover.max(initial=0), len(mean)))
    daily = extend(mean, horizon)
    inside = np.arange(horizon)[:, None] < cover[None, :]
    covered = np.where(inside, daily, 0.0)
    forecast_units = covered.sum(axis=0)
    z = float(stats.norm.ppf(policy.service_level))
    safety = z * count_distribution.standard_deviation(covered, size)
    needed = forecast_units + safety
    arrivals = _pad(orders.arrivals, horizon)
    raw = np.ceil(needed - on_hand - orders.counted - 1e-9)
    packs = np.where(pack_size > 0, pack_size, 1.0)
    suggested = np.maximum(np.ceil(raw / packs) * packs, 0).astype(np.int64)
    projected = project_stock(on_hand, arrivals, daily)
    lost = _lost_units(on_hand, arrivals, covered)
    return ReorderPlan(cover, forecast_units, safety, needed, suggested,
                       stockout_offset(on_hand, projected), lost)


def _pad(arrivals: FloatArray, days: int) -> FloatArray:
    if len(arrivals) >= days:
        return arrivals[:days]
    return np.vstack([arrivals, np.zeros((days - len(arrivals), arrivals.shape[1]))])


def _lost_units(on_hand: FloatArray, arrivals: FloatArray, demand: FloatArray) -> FloatArray:
    """Demand unserved day by day (a sale lost today is not made up tomorrow)."""
    stock = np.maximum(on_hand, 0.0).copy()
    lost = np.zeros_like(stock)
    for day in range(len(demand)):
        shelf = stock + arrivals[day]
        lost += np.maximum(demand[day] - shelf, 0.0)
        stock = np.maximum(shelf - demand[day], 0.0)
    return lost


def known(values: FloatArray) -> BoolArray:
    """Products whose stock has been counted."""
    return np.asarray(~np.isnan(values), dtype=np.bool_)
