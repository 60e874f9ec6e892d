"""The category's last week against its products' forecasts: a correction for level shifts.

Per-product models smooth over months of sparse counts, so when a whole category's demand
moves at once (the weeks after the holiday season, a season starting) each product's
level follows only slowly, and a stock alert judged on that level fires for shelves that
will not empty, or stays silent for ones that will. A category's total over the last week
is hundreds of units: it shows the move within days. So each product's forecast is scaled
by its category's ratio of units sold last week to the units its products' models expect
for a week, shrunk toward 1 by a prior of ``prior_units`` (a small category's week says
little) and kept within ``limits``. Whole weeks on both sides, so weekday effects cancel.
"""

from __future__ import annotations

import numpy as np

from analytics_pipeline.models.demand_panel import FloatArray, IntArray

WEEK = 7


def category_level_ratio(
    demand: FloatArray, weekly_forecast: FloatArray, groups: IntArray | None,
    prior_units: float = 50.0, limits: tuple[float, float] = (0.5, 2.0),
) -> FloatArray:
    """``(products,)`` multiplier of each product's forecast.

    Parameters
    ----------
    demand
        ``(days, products)`` demand (censored days imputed, holidays divided out); NaN
        before a product's first day.
    weekly_forecast
        ``(products,)`` units the product's model forecasts for the coming week (before
        calendar effects).
    groups
        Category code per product (``None``: the whole shop is one group).
    prior_units
        Units of agreement added to both sides of each category's ratio.
    limits
        Lowest and highest multiplier.
    """
    n = demand.shape[1]
    codes = np.zeros(n, dtype=np.int64) if groups is None else groups
    if len(demand) < WEEK or n == 0:
        return np.ones(n)
    size = int(codes.max()) + 1
    last_week = np.nan_to_num(demand[-WEEK:]).sum(axis=0)
    sold = np.bincount(codes, weights=last_week, minlength=size)
    expected = np.bincount(codes, weights=np.nan_to_num(weekly_forecast), minlength=size)
    ratio = np.clip((sold + prior_units) / (expected + prior_units), *limits)
    return np.asarray(ratio[codes], dtype=np.float64)
