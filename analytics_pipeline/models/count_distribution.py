"""Demand counts as a negative binomial: a mean and a size, variance = mean + mean^2 / size.

Retail demand per product and day is a small count, more spread out than Poisson (the
size is the spread; a very large size is Poisson). Sums over several days (lead time,
the days until a stockout) use the same family with a moment-matched size.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from analytics_pipeline.models.demand_panel import FloatArray

POISSON_SIZE = 1e6
_TINY = 1e-9


def _scipy(mean: FloatArray, size: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    mean, size = np.broadcast_arrays(np.maximum(mean, _TINY), np.minimum(size, POISSON_SIZE))
    return mean, size, size / (size + mean)


def quantile(mean: FloatArray, size: FloatArray, q: float | FloatArray) -> FloatArray:
    """The ``q`` quantile, with each count spread evenly over ``[k - 1/2, k + 1/2]``.

    Integer quantiles of a small count cover far more than their nominal share (an 80 %
    interval of a Poisson(0.5) day, [0, 1], holds 91 % of days); spreading each count
    over a unit-wide bin makes the interval's coverage match its level on average, at the
    price of bounds that are not whole units. Returns 0 where the mean is 0.
    """
    _, n, p = _scipy(np.asarray(mean, dtype=np.float64), np.asarray(size, dtype=np.float64))
    k = stats.nbinom.ppf(q, n, p)
    below = stats.nbinom.cdf(k - 1, n, p)
    mass = np.maximum(stats.nbinom.pmf(k, n, p), _TINY)
    value = np.maximum(k - 0.5 + (q - below) / mass, 0.0)
    return np.asarray(np.where(np.asarray(mean) > _TINY, value, 0.0), dtype=np.float64)


def interval(mean: FloatArray, size: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    """The ``level`` prediction interval: equal tails, except where zero is likely.

    Demand cannot fall below 0: when the equal-tailed lower bound would be 0 anyway (half
    the chance of a day without a sale is above the lower tail's share), the lower tail
    can never be missed and such an interval holds about ``1 - (1 - level) / 2`` of the
    days. It then runs from 0 to the ``level`` quantile instead.
    """
    _, n, p = _scipy(np.asarray(mean, dtype=np.float64), np.asarray(size, dtype=np.float64))
    tail = (1 - level) / 2
    lower = np.where(stats.nbinom.pmf(0, n, p) / 2 >= tail, 0.0, tail)
    return quantile(mean, size, lower), quantile(mean, size, lower + level)


def at_least_probability(mean: FloatArray, size: FloatArray, units: FloatArray) -> FloatArray:
    """P(demand >= ``units``); ``units`` at or below 0 give 1."""
    m, n, p = _scipy(np.asarray(mean, dtype=np.float64), np.asarray(size, dtype=np.float64))
    need = np.ceil(np.asarray(units, dtype=np.float64))
    tail = stats.nbinom.sf(need - 1, n, p)
    return np.asarray(np.where(need <= 0, 1.0, np.where(m > _TINY, tail, 0.0)),
                      dtype=np.float64)


def sum_size(means: FloatArray, size: FloatArray) -> FloatArray:
    """Size of the sum of independent days ``means`` (``(days, products)``).

    The sum's variance is the days' variances added up: M + M^2 / S = sum(m + m^2 / s).
    """
    total = means.sum(axis=0)
    excess = (means**2).sum(axis=0) / np.maximum(size, _TINY)
    return np.asarray(np.where(excess > 0, total**2 / np.maximum(excess, _TINY), POISSON_SIZE),
                      dtype=np.float64)


def standard_deviation(means: FloatArray, size: FloatArray) -> FloatArray:
    """Standard deviation of the sum of the days ``means`` (``(days, products)``)."""
    variance = (means + means**2 / np.maximum(size, _TINY)).sum(axis=0)
    return np.asarray(np.sqrt(variance), dtype=np.float64)
