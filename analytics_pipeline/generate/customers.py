"""Customers and their hidden habits: purchase rate, dropout, spend, tastes and timing.

The purchase process follows BG/NBD: a customer buys at rate ``lambda`` (Gamma
distributed across customers) and after each repeat purchase drops out for good with
probability ``p`` (Beta distributed). Order values follow Gamma-Gamma: a customer's
transactions are Gamma(``GG_P``, ``nu``) with ``nu`` itself Gamma(``GG_Q``, ``GG_GAMMA``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics_pipeline.generate.arrays import BoolArray, FloatArray, IntArray, as_int
from analytics_pipeline.generate.catalog import CATEGORIES, Catalog
from analytics_pipeline.generate.names import FIRST_NAMES, LAST_NAMES
from analytics_pipeline.generate.sampling import BlockSampler, choose, top_k_without_replacement
from analytics_pipeline.generate.timeline import Timeline

R_SHAPE = 0.9
DROPOUT_A, DROPOUT_B = 1.2, 25.0
GG_P, GG_Q, GG_GAMMA = 6.0, 3.5, 25.0
PRE_HISTORY_SHARE = 0.45
# The acquisition rate grows by 60% over the history: a growing shop.
_ACQUISITION_GROWTH = 0.6
MAX_AFFINITIES = 3
WEEKDAY, ANY_DAY, WEEKEND = range(3)
_MISSING_NAME_SHARE = 0.02
_MISSING_EMAIL_SHARE = 0.03


@dataclass(frozen=True)
class Customers:
    """Per-customer hidden parameters (index = customer number - 1).

    Attributes
    ----------
    acquired
        Grid-day time (fractional days) of the first purchase.
    propensity
        Relative purchase rate, Gamma(``R_SHAPE``, 1); the calibrated rate is
        ``scale * propensity``.
    p_dropout
        BG/NBD dropout probability after each repeat purchase.
    nu
        Gamma-Gamma rate; the customer's mean order value is ``GG_P / nu``.
    affinity, affinity_weight
        ``(n, MAX_AFFINITIES)`` preferred categories (-1 = unused slot) and weights.
    staple
        ``(n, MAX_AFFINITIES)`` the product a customer re-buys in a repeat-purchase
        category, -1 if none.
    habit
        Preferred time of day, index into ``TIME_PREFS``.
    week_habit
        ``WEEKDAY``, ``ANY_DAY`` or ``WEEKEND``.
    online_logit
        Base log-odds of buying online.
    """

    acquired: FloatArray
    propensity: FloatArray
    p_dropout: FloatArray
    nu: FloatArray
    affinity: IntArray
    affinity_weight: FloatArray
    staple: IntArray
    habit: IntArray
    week_habit: IntArray
    online_logit: FloatArray
    opt_in: BoolArray
    first_name: IntArray
    last_name: IntArray
    has_email: BoolArray

    @property
    def n(self) -> int:
        """Number of customers."""
        return len(self.propensity)

    def mean_spend(self) -> FloatArray:
        """Expected order value of each customer (Gamma-Gamma mean)."""
        return GG_P / self.nu


def build_customers(
    n: int, timeline: Timeline, catalog: Catalog, rng: np.random.Generator
) -> Customers:
    """Draw ``n`` customers with acquisition times spread over the grid.

    Parameters
    ----------
    n
        Number of customers.
    timeline
        Calendar; ``PRE_HISTORY_SHARE`` of customers are acquired before the history.
    catalog
        Products, for repeat-purchase staples.
    rng
        Random source.
    """
    affinity, weight = _affinities(n, rng)
    return Customers(
        acquired=_acquisition_times(n, timeline, rng),
        propensity=rng.gamma(R_SHAPE, 1.0, size=n),
        p_dropout=rng.beta(DROPOUT_A, DROPOUT_B, size=n),
        nu=rng.gamma(GG_Q, 1.0 / GG_GAMMA, size=n),
        affinity=affinity,
        affinity_weight=weight,
        staple=_staples(affinity, catalog, rng),
        habit=choose(rng, n, np.array([0.3, 0.25, 0.45])),
        week_habit=choose(rng, n, np.array([0.2, 0.55, 0.25])),
        online_logit=rng.normal(-0.45, 1.3, size=n),
        opt_in=rng.random(n) < 0.6,
        first_name=_maybe_missing(rng.integers(0, len(FIRST_NAMES), size=n), rng),
        last_name=_maybe_missing(rng.integers(0, len(LAST_NAMES), size=n), rng),
        has_email=rng.random(n) >= _MISSING_EMAIL_SHARE,
    )


def _acquisition_times(n: int, timeline: Timeline, rng: np.random.Generator) -> FloatArray:
    """Long-standing customers uniform before the history; new ones following traffic."""
    n_pre = round(PRE_HISTORY_SHARE * n) if timeline.pre_days else 0
    pre = rng.uniform(0, timeline.pre_days, size=n_pre)
    traffic = timeline.intensity[timeline.pre_days :]
    growth = 1.0 + _ACQUISITION_GROWTH * np.arange(timeline.days) / timeline.days
    day = choose(rng, n - n_pre, traffic * growth) + timeline.pre_days
    times = np.concatenate([pre, day + rng.random(n - n_pre)])
    return np.asarray(rng.permutation(times), dtype=np.float64)


def _affinities(n: int, rng: np.random.Generator) -> tuple[IntArray, FloatArray]:
    """1-3 preferred categories per customer, favourite first."""
    shares = np.array([c.share for c in CATEGORIES])
    categories = top_k_without_replacement(rng, n, shares, MAX_AFFINITIES)
    count = choose(rng, n, np.array([0.3, 0.45, 0.25])) + 1
    used = np.arange(MAX_AFFINITIES)[None, :] < count[:, None]
    weight = -np.sort(-rng.gamma(2.0, size=(n, MAX_AFFINITIES)), axis=1) * used
    weight /= weight.sum(axis=1, keepdims=True)
    return np.where(used, categories, -1), weight


def _staples(affinity: IntArray, catalog: Catalog, rng: np.random.Generator) -> IntArray:
    """The product each customer keeps re-buying in a repeat-purchase category."""
    weights = catalog.popularity * catalog.repeat * (catalog.launch_day == 0)
    sampler = BlockSampler.build(weights[None, :], catalog.category_starts)
    slots = affinity.ravel()
    picks = sampler.draw(np.zeros(len(slots), dtype=np.int64), np.maximum(slots, 0), rng)
    repeat_category = np.array([c.repeat for c in CATEGORIES])[np.maximum(slots, 0)]
    keep = (slots >= 0) & repeat_category & catalog.repeat[picks]
    return np.where(keep, picks, -1).reshape(affinity.shape)


def _maybe_missing(index: IntArray, rng: np.random.Generator) -> IntArray:
    """Blank out a few optional PII values (-1 = missing)."""
    return as_int(np.where(rng.random(len(index)) < _MISSING_NAME_SHARE, -1, index))
