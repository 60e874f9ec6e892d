"""BG/NBD purchase process: when each customer buys and when they silently drop out.

Purchases are simulated in "operational time", where one unit is one average shopping
day: warping by the cumulative shop intensity makes seasonality, weekends and holidays
apply to every customer without per-customer loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics_pipeline.generate.arrays import BoolArray, FloatArray, IntArray, as_int
from analytics_pipeline.generate.customers import Customers
from analytics_pipeline.generate.timeline import Timeline

_CALIBRATION_STEPS = 60


@dataclass(frozen=True)
class Purchases:
    """Raw purchases on the grid (including ones before the history).

    Attributes
    ----------
    customer
        Customer index of each purchase.
    grid_day
        Grid day of each purchase.
    rate_scale
        Calibrated factor: a customer's rate is ``rate_scale * propensity`` per
        average day (so the BG/NBD alpha is ``1 / rate_scale``).
    churned
        Per customer: dropped out before the end of the history.
    """

    customer: IntArray
    grid_day: IntArray
    rate_scale: float
    churned: BoolArray


def simulate_purchases(
    customers: Customers, timeline: Timeline, target: float, rng: np.random.Generator
) -> Purchases:
    """Simulate BG/NBD purchases calibrated to ``target`` in-history purchases.

    Parameters
    ----------
    customers
        Hidden customer parameters.
    timeline
        Calendar with the shopping intensity.
    target
        Expected number of purchases inside the history.
    rng
        Random source.
    """
    clock = np.concatenate([[0.0], np.cumsum(timeline.intensity)])
    start = _operational(customers.acquired, clock, timeline.intensity)
    scale = calibrate_rate_scale(customers, start, clock, timeline.pre_days, target)
    customer, when, churned = _run(customers, start, clock[-1], scale, rng)
    day = np.searchsorted(clock, when, side="right") - 1
    grid_day = np.clip(day, 0, timeline.grid_days - 1)
    return Purchases(
        customer=customer, grid_day=as_int(grid_day), rate_scale=scale, churned=churned
    )


def _operational(t: FloatArray, clock: FloatArray, intensity: FloatArray) -> FloatArray:
    """Map grid times (fractional days) to operational time."""
    day = np.floor(t).astype(np.int64)
    return clock[day] + (t - day) * intensity[day]


def calibrate_rate_scale(
    customers: Customers, start: FloatArray, clock: FloatArray, pre_days: int, target: float
) -> float:
    """Find the rate scale whose expected in-history purchase count equals ``target``.

    Under BG/NBD the expected number of repeat purchases between operational times
    ``a`` and ``b`` after acquisition is ``(exp(-lambda p a) - exp(-lambda p b)) / p``,
    so the expectation is exact and cheap; the first purchase counts if it falls
    inside the history. The count rises with the scale until heavy buyers would drop
    out before the history begins, so the first crossing is bracketed and bisected.
    """
    p = customers.p_dropout
    before = np.maximum(clock[pre_days] - start, 0.0)
    until_end = clock[-1] - start
    first_inside = float(np.sum(start >= clock[pre_days]))

    def expected(scale: float) -> float:
        x = scale * customers.propensity * p
        return first_inside + float(np.sum((np.exp(-x * before) - np.exp(-x * until_end)) / p))

    high = 1e-4
    while expected(high) < target and high < 1e3:
        high *= 2.0
    low = high / 2.0
    for _ in range(_CALIBRATION_STEPS):
        mid = (low + high) / 2.0
        low, high = (mid, high) if expected(mid) < target else (low, mid)
    return (low + high) / 2.0


def _run(
    customers: Customers,
    start: FloatArray,
    end: float,
    scale: float,
    rng: np.random.Generator,
) -> tuple[IntArray, FloatArray, BoolArray]:
    """Draw purchases round by round; each round is one more purchase per live customer.

    Returns the customer and operational time of every purchase (first purchases
    included) and which customers dropped out.
    """
    rate = scale * customers.propensity
    now = start.copy()
    churned = np.zeros(customers.n, dtype=bool)
    active = np.arange(customers.n)
    buyers, times = [active], [start]
    while len(active):
        later = now[active] + rng.exponential(size=len(active)) / rate[active]
        inside = later <= end
        active, later = active[inside], later[inside]
        now[active] = later
        buyers.append(active)
        times.append(later)
        # BG/NBD: the dropout coin is tossed after every repeat purchase.
        drop = rng.random(len(active)) < customers.p_dropout[active]
        churned[active[drop]] = True
        active = active[~drop]
    return as_int(np.concatenate(buyers)), np.concatenate(times), churned
