"""What a shopper picks: a category (from their tastes or the season's mix), then a product."""

from __future__ import annotations

import numpy as np

from analytics_pipeline.generate.arrays import IntArray, as_int
from analytics_pipeline.generate.customers import Customers
from analytics_pipeline.generate.demand import Demand


def favourite_category(
    customers: Customers, who: IntArray, day: IntArray, demand: Demand, rng: np.random.Generator
) -> tuple[IntArray, IntArray]:
    """Pick one of each customer's preferred categories.

    The affinity weight is scaled by the category's seasonal level that day, so a
    customer who likes toys buys more of them in December.

    Returns
    -------
    tuple
        The category and the affinity slot it came from.
    """
    categories = customers.affinity[who]
    season = demand.category_season.astype(np.float32)[day[:, None], np.maximum(categories, 0)]
    weights = customers.affinity_weight.astype(np.float32)[who] * season
    cumulative = np.cumsum(weights, axis=1)
    u = rng.random(len(who), dtype=np.float32) * cumulative[:, -1]
    slot = np.minimum((u[:, None] >= cumulative).sum(axis=1), categories.shape[1] - 1)
    rows = np.arange(len(who))
    # Float rounding can land past the last used slot; fall back to the favourite.
    slot = as_int(np.where(categories[rows, slot] >= 0, slot, 0))
    return categories[rows, slot], slot


def pick_categories(
    customers: Customers,
    who: IntArray,
    day: IntArray,
    demand: Demand,
    loyalty: float,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray]:
    """Pick a category per purchase or view.

    With probability ``loyalty`` a known customer (``who >= 0``) picks from their
    favourites; otherwise the pick follows the whole shop's mix that day.

    Returns
    -------
    tuple
        The category and the affinity slot (-1 when not from the favourites).
    """
    category = demand.categories.draw(day, np.zeros(len(day), dtype=np.int64), rng)
    slot = np.full(len(who), -1, dtype=np.int64)
    loyal = np.flatnonzero((who >= 0) & (rng.random(len(who)) < loyalty))
    category[loyal], slot[loyal] = favourite_category(
        customers, who[loyal], day[loyal], demand, rng
    )
    return category, slot


def pick_products(
    category: IntArray, day: IntArray, demand: Demand, rng: np.random.Generator
) -> IntArray:
    """Pick a product of each category, weighted by its appeal on that history day."""
    return demand.products.draw(day, category, rng)
