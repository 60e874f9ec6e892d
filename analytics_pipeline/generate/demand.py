"""Day-by-day appeal of every product: trend, seasonality, launches and promotions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics_pipeline.generate.arrays import FloatArray, IntArray
from analytics_pipeline.generate.catalog import DOWN, NEW, SLOW_MOVER, UP, Catalog
from analytics_pipeline.generate.sampling import BlockSampler
from analytics_pipeline.generate.timeline import Timeline, seasonal_profiles

_PROMO_RATE = 0.03  # share of product-weeks on promotion
_PROMO_UPLIFT = 2.0  # demand multiplier per unit of discount depth (30% off => x1.6)
_MAX_GROWTH = 25.0


@dataclass(frozen=True)
class Demand:
    """How likely each product is to be picked on each history day.

    Attributes
    ----------
    weights
        ``(days, products)`` relative pick weight (0 before launch).
    expected
        ``(days, products)`` the demand shape a planner can foresee: shop traffic,
        seasonality, launches and planned promotions, but not trends.
    promo_depth
        ``(weeks, products)`` fraction off the list price, 0 when not on promotion.
    category_season
        ``(days, categories)`` category demand relative to its own average.
    products
        Sampler over products: rows = days, blocks = categories.
    categories
        Sampler over categories: rows = days, a single block.
    """

    weights: FloatArray
    expected: FloatArray
    promo_depth: FloatArray
    category_season: FloatArray
    products: BlockSampler
    categories: BlockSampler

    def promo_of(self, day: IntArray, product: IntArray) -> FloatArray:
        """Promotion depth for each (history day, product) pair."""
        return self.promo_depth[day // 7, product]


def build_demand(catalog: Catalog, timeline: Timeline, rng: np.random.Generator) -> Demand:
    """Combine popularity, seasonality, trend and promotions into daily pick weights.

    Parameters
    ----------
    catalog
        The products.
    timeline
        The calendar (only history days are used).
    rng
        Random source for trend shapes and promotion weeks.
    """
    days = timeline.days
    season = seasonal_profiles(timeline.history_day_of_year())[:, catalog.profile]
    promo_depth = _promotions(catalog.n, days, rng)
    uplift = 1.0 + _PROMO_UPLIFT * promo_depth[np.arange(days) // 7]
    trend = _trend_multipliers(catalog, days, rng)
    weights = catalog.popularity * season * trend * uplift
    on_sale = np.arange(days)[:, None] >= catalog.launch_day
    traffic = timeline.intensity[timeline.pre_days :, None]
    category_weights = np.add.reduceat(weights, catalog.category_starts, axis=1)
    single = np.zeros(1, dtype=np.int64)
    return Demand(
        weights=weights,
        expected=traffic * season * uplift * on_sale,
        promo_depth=promo_depth,
        category_season=category_weights / category_weights.mean(axis=0),
        products=BlockSampler.build(weights, catalog.category_starts),
        categories=BlockSampler.build(category_weights, single),
    )


def _trend_multipliers(catalog: Catalog, days: int, rng: np.random.Generator) -> FloatArray:
    """``(days, products)`` multiplier for launches, risers, decliners and fading products."""
    n = catalog.n
    d = np.arange(days, dtype=np.float64)[:, None]
    # Risers take off 4-8 weeks before the end, growing 35-65% a week.
    ramp_start = days - rng.uniform(28, 56, size=n)
    weekly_growth = rng.uniform(1.35, 1.65, size=n)
    rising = np.minimum(weekly_growth ** (np.maximum(d - ramp_start, 0) / 7), _MAX_GROWTH)
    declining = np.exp(-rng.uniform(0.8, 2.0, size=n) * d / days)
    # Fading products stop selling 6-10 weeks before the end: the future slow movers.
    fade_day = days - rng.uniform(40, 70, size=n)
    fading = np.clip(1.0 - (d - fade_day) / 5.0, 0.0, 1.0)
    since_launch = d - catalog.launch_day
    launch_hype = np.where(since_launch >= 0, 1.0 + 0.8 * np.exp(-since_launch / 30.0), 0.0)
    out = np.ones((days, n))
    out = np.where(catalog.trend == UP, rising, out)
    out = np.where(catalog.trend == DOWN, declining, out)
    out = np.where(catalog.role == SLOW_MOVER, fading, out)
    return np.where(catalog.trend == NEW, launch_hype, out)


def _promotions(n: int, days: int, rng: np.random.Generator) -> FloatArray:
    """Occasional one-week promotions of 10-30% off, in 5% steps."""
    weeks = (days + 6) // 7
    on_promo = rng.random((weeks, n)) < _PROMO_RATE
    depth = np.round(rng.uniform(0.1, 0.3, size=(weeks, n)) * 20) / 20
    return np.where(on_promo, depth, 0.0)
