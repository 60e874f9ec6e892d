"""Calendar effects a daily demand model cannot learn from a few months: holidays and the
yearly season.

Holidays are estimated store-wide (one factor per holiday, from the shop's total sales
on that day against the same weekday in the weeks around it): a single product sells too
few units on one day a year to show its own effect, and the effect is mostly traffic.
The yearly season is taken from last year's same weeks when the history reaches back
that far: the rise from last year's four weeks before today to last year's weeks ahead,
per product, shrunk toward its category's rise so a product with three units last year
does not get a tenfold peak.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from analytics_pipeline.models.demand_panel import BoolArray, FloatArray, IntArray

WEEK = 7
YEAR_IN_WEEKS = 364  # 52 weeks: last year's same weekday
_NEIGHBOUR_WEEKS = (-3, -2, -1, 1, 2, 3)
_FACTOR_RANGE = (0.05, 20.0)


def _black_friday(year: int) -> dt.date:
    first = dt.date(year, 11, 1)
    thanksgiving = first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)
    return thanksgiving + dt.timedelta(days=1)


HOLIDAYS: dict[str, Callable[[int], dt.date]] = {
    "black_friday": _black_friday,
    "cyber_monday": lambda year: _black_friday(year) + dt.timedelta(days=3),
    "christmas_eve": lambda year: dt.date(year, 12, 24),
    "christmas_day": lambda year: dt.date(year, 12, 25),
    "boxing_day": lambda year: dt.date(year, 12, 26),
    "new_years_day": lambda year: dt.date(year, 1, 1),
}


def holiday_positions(days: pd.DatetimeIndex) -> dict[str, IntArray]:
    """Row positions of every holiday of :data:`HOLIDAYS` within ``days``."""
    if len(days) == 0:
        return {name: np.zeros(0, dtype=np.int64) for name in HOLIDAYS}
    first = days[0].date()
    out: dict[str, IntArray] = {}
    for name, rule in HOLIDAYS.items():
        offsets = [(rule(year) - first).days for year in range(days[0].year, days[-1].year + 1)]
        out[name] = np.array([o for o in offsets if 0 <= o < len(days)], dtype=np.int64)
    return out


def holiday_factors(
    totals: FloatArray, days: pd.DatetimeIndex, horizon: int
) -> tuple[FloatArray, FloatArray]:
    """Demand multiplier of each history day and each of the next ``horizon`` days.

    Parameters
    ----------
    totals
        ``(days,)`` the shop's units per day.
    days
        The history calendar.
    horizon
        Days ahead to return factors for.

    Returns
    -------
    history, future
        1 on ordinary days; on a holiday, its sales against the median of the same weekday
        one to three weeks around it, averaged (geometrically) over the years seen. A
        holiday never seen in the history keeps factor 1 in the future.
    """
    future_days = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=horizon, freq="D")
    history, future = np.ones(len(days)), np.ones(horizon)
    seen = holiday_positions(days)
    ahead = holiday_positions(future_days)
    special = np.zeros(len(days), dtype=bool)
    for positions in seen.values():
        special[positions] = True
    for name, positions in seen.items():
        ratios = [r for p in positions if (r := _ratio(totals, special, int(p))) is not None]
        if not ratios:
            continue
        factor = float(np.clip(np.exp(np.mean(np.log(ratios))), *_FACTOR_RANGE))
        history[positions] = factor
        future[ahead[name]] = factor
    return history, future


def _ratio(totals: FloatArray, special: BoolArray, position: int) -> float | None:
    neighbours = [position + WEEK * k for k in _NEIGHBOUR_WEEKS]
    usable = [totals[p] for p in neighbours if 0 <= p < len(totals) and not special[p]]
    if len(usable) < 2 or np.median(usable) <= 0 or totals[position] <= 0:
        return None
    return float(totals[position] / np.median(usable))


def yearly_factors(
    demand: FloatArray, first_rows: IntArray, horizon: int, groups: IntArray | None = None,
    prior_units: float = 20.0,
) -> FloatArray:
    """``(horizon, products)`` seasonal multipliers from last year's same weeks.

    Parameters
    ----------
    demand
        ``(days, products)`` demand per ordinary day (weekday and holiday effects removed).
    first_rows
        Each product's first history row; products younger than a year and four weeks
        get factor 1, as do all products when the history is that short.
    horizon
        Days ahead.
    groups
        Category code per product; the group's rise is the prior its products shrink to.
    prior_units
        Weight of the prior, in units of last year's weekly baseline.
    """
    days, n = demand.shape
    out = np.ones((horizon, n))
    base_start = days - YEAR_IN_WEEKS - 4 * WEEK
    if base_start < 0:
        return out
    usable = first_rows <= base_start
    values = np.nan_to_num(demand)
    baseline = values[base_start : base_start + 4 * WEEK].sum(axis=0) / 4
    codes = np.zeros(n, dtype=np.int64) if groups is None else groups
    for week in range(-(-horizon // WEEK)):
        lo = days - YEAR_IN_WEEKS + week * WEEK
        ahead = values[lo : min(lo + WEEK, days)].sum(axis=0) * WEEK / max(min(WEEK, days - lo), 1)
        group_rise = _group_ratio(ahead, baseline, codes, usable)
        rise = (ahead + prior_units * group_rise) / (baseline + prior_units)
        out[week * WEEK : (week + 1) * WEEK] = np.where(usable, rise, 1.0)
    return out


def _group_ratio(
    ahead: FloatArray, baseline: FloatArray, codes: IntArray, usable: BoolArray
) -> FloatArray:
    size = int(codes.max()) + 1 if len(codes) else 1
    top = np.bincount(codes, weights=np.where(usable, ahead, 0.0), minlength=size)
    bottom = np.bincount(codes, weights=np.where(usable, baseline, 0.0), minlength=size)
    ratio = np.where(bottom > 0, top / np.maximum(bottom, 1e-9), 1.0)
    return np.asarray(ratio[codes], dtype=np.float64)
