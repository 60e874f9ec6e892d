"""Shopping visits: purchase times turned into dated, timed, channelled visits.

A visit is a purchase occasion; it becomes an order if at least one of its lines can
be served from stock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics_pipeline.generate.arrays import (
    SECONDS_PER_DAY,
    BoolArray,
    FloatArray,
    IntArray,
    as_int,
    run_starts,
)
from analytics_pipeline.generate.clock import ANY_TIME, seconds_of_day
from analytics_pipeline.generate.customers import WEEKDAY, WEEKEND, Customers
from analytics_pipeline.generate.lifetimes import simulate_purchases
from analytics_pipeline.generate.sampling import choose
from analytics_pipeline.generate.timeline import Timeline

WALK_IN_SHARE = 0.06  # 10% of in-store orders, with 60% of orders in store
# Extra purchase attempts to make up for the ones lost to stockouts.
_STOCKOUT_ALLOWANCE = 0.02
_HABIT_FOLLOW = 0.4
_CUSTOMER_BITS = 27  # seconds since grid start fit in 27 bits (4 years)


@dataclass(frozen=True)
class Visits:
    """Purchase occasions inside the history.

    Identified visits come first, sorted by (customer, second); walk-ins
    (``customer == -1``) follow.
    """

    customer: IntArray
    day: IntArray
    second: IntArray
    online: BoolArray

    @property
    def n(self) -> int:
        """Number of visits."""
        return len(self.customer)


@dataclass(frozen=True)
class Lifetimes:
    """What the BG/NBD simulation decided per customer.

    Attributes
    ----------
    rate
        Purchase rate lambda per average day.
    rate_scale
        Calibration factor (BG/NBD alpha = 1 / rate_scale).
    created_at
        Epoch seconds the account was created (shortly before the first purchase).
    churned_at
        Epoch seconds of the purchase after which the customer dropped out, -1 if alive.
    """

    rate: FloatArray
    rate_scale: float
    created_at: IntArray
    churned_at: IntArray

    def active_until(self, end_second: int) -> IntArray:
        """Last second each customer is still a live shopper."""
        return np.where(self.churned_at >= 0, self.churned_at, end_second)


def build_visits(
    customers: Customers, timeline: Timeline, target_orders: int, rng: np.random.Generator
) -> tuple[Visits, Lifetimes]:
    """Simulate identified purchases and walk-ins for the history.

    Parameters
    ----------
    customers
        Hidden customer parameters.
    timeline
        Calendar.
    target_orders
        Orders wanted in the history, walk-ins included.
    rng
        Random source.
    """
    boost = 1.0 + _STOCKOUT_ALLOWANCE
    purchases = simulate_purchases(
        customers, timeline, target_orders * (1 - WALK_IN_SHARE) * boost, rng
    )
    who = purchases.customer
    day = _follow_week_habit(purchases.grid_day, customers.week_habit[who], timeline, rng)
    online_odds = customers.online_logit[who] + timeline.online_shift[day]
    online = rng.random(len(who)) < 1.0 / (1.0 + np.exp(-online_odds))
    second = timeline.day_seconds(day) + seconds_of_day(online, customers.habit[who], rng)
    order = np.argsort(_visit_key(who, second, timeline), kind="stable")
    who, day, second, online = who[order], day[order], second[order], online[order]
    lifetimes = _lifetimes(customers, who, second, purchases.churned, purchases.rate_scale, rng)
    inside = day >= timeline.pre_days
    walk_ins = _walk_ins(round(target_orders * WALK_IN_SHARE * boost), timeline, rng)
    visits = Visits(
        customer=np.concatenate([who[inside], walk_ins.customer]),
        day=np.concatenate([day[inside] - timeline.pre_days, walk_ins.day]),
        second=np.concatenate([second[inside], walk_ins.second]),
        online=np.concatenate([online[inside], walk_ins.online]),
    )
    return visits, lifetimes


def next_visits(
    visits: Visits, who: IntArray, second: IntArray, window: int, timeline: Timeline
) -> IntArray:
    """Each customer's first visit within ``window`` seconds after ``second``.

    Parameters
    ----------
    visits
        All visits (identified ones sorted by customer and time, as built).
    who, second
        Customers and the moments to look forward from.
    window
        Look-ahead in seconds.
    timeline
        Calendar (for the key base).

    Returns
    -------
    IntArray
        Visit index, or -1 where the customer has no visit in the window.
    """
    identified = int(np.sum(visits.customer >= 0))
    if identified == 0:
        return np.full(len(who), -1, dtype=np.int64)
    keys = _visit_key(visits.customer[:identified], visits.second[:identified], timeline)
    pos = np.searchsorted(keys, _visit_key(who, second, timeline), side="right")
    found = np.minimum(pos, identified - 1)
    ok = (
        (pos < identified)
        & (visits.customer[found] == who)
        & (visits.second[found] - second <= window)
    )
    return as_int(np.where(ok, found, -1))


def _visit_key(who: IntArray, second: IntArray, timeline: Timeline) -> IntArray:
    """Sort key ordering visits by customer, then time."""
    return (who << _CUSTOMER_BITS) + (second - timeline.first_epoch_day * SECONDS_PER_DAY)


def _follow_week_habit(
    grid_day: IntArray, habit: IntArray, timeline: Timeline, rng: np.random.Generator
) -> IntArray:
    """Move some purchases to the customer's preferred part of the week."""
    weekday = (grid_day + timeline.first_epoch_day + 3) % 7  # 0 = Monday
    follow = rng.random(len(grid_day)) < _HABIT_FOLLOW
    coin = rng.random(len(grid_day)) < 0.5
    # A weekend shopper goes the coming Saturday or Sunday; a weekday shopper the
    # Friday before or the Monday after.
    to_weekend = np.where(coin, 5 - weekday, 6 - weekday)
    to_weekday = np.where(coin, 4 - weekday, 7 - weekday)
    delta = np.where(follow & (habit == WEEKEND) & (weekday < 5), to_weekend, 0)
    delta = np.where(follow & (habit == WEEKDAY) & (weekday >= 5), to_weekday, delta)
    moved = grid_day + delta
    # Shifting by whole weeks keeps the weekday when a move would leave the grid.
    moved = np.where(moved >= timeline.grid_days, moved - 7, moved)
    return as_int(np.where(moved < 0, moved + 7, moved))


def _lifetimes(
    customers: Customers,
    who: IntArray,
    second: IntArray,
    churned: BoolArray,
    rate_scale: float,
    rng: np.random.Generator,
) -> Lifetimes:
    """Account creation and churn times from visits sorted by (customer, second)."""
    first = run_starts(who)
    last = np.append(first[1:], len(who)) - 1
    # Accounts are opened a few hours to three days before the first purchase.
    lead = rng.uniform(0.1, 3.0, size=customers.n) * SECONDS_PER_DAY
    return Lifetimes(
        rate=rate_scale * customers.propensity,
        rate_scale=rate_scale,
        created_at=as_int(second[first] - lead),
        churned_at=np.where(churned, second[last], -1),
    )


def _walk_ins(n: int, timeline: Timeline, rng: np.random.Generator) -> Visits:
    """Anonymous shop purchases, following traffic on days the shop is busy."""
    history = slice(timeline.pre_days, None)
    store_lean = timeline.intensity[history] * np.exp(-timeline.online_shift[history])
    day = choose(rng, n, store_lean)
    offline = np.zeros(n, dtype=bool)
    habit = np.full(n, ANY_TIME, dtype=np.int64)
    second = timeline.day_seconds(day + timeline.pre_days) + seconds_of_day(offline, habit, rng)
    return Visits(customer=np.full(n, -1, dtype=np.int64), day=day, second=second, online=offline)
