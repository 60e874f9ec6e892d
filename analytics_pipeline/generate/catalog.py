"""The product catalogue: categories, prices, suppliers and each product's hidden role."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics_pipeline.generate.arrays import BoolArray, FloatArray, IntArray, as_float, as_int
from analytics_pipeline.generate.names import ADJECTIVES, NOUNS, SUPPLIERS
from analytics_pipeline.generate.sampling import BlockSampler, choose
from analytics_pipeline.generate.timeline import PROFILES


@dataclass(frozen=True)
class CategorySpec:
    """How the products of one category look and sell."""

    name: str
    share: float
    median_price: float
    price_spread: float
    margin: tuple[float, float]
    repeat: bool
    profiles: tuple[tuple[str, float], ...]
    related: tuple[str, ...]


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec("apparel", 0.16, 35, 0.5, (0.45, 0.65), False,
                 (("flat", 0.5), ("winter", 0.25), ("summer", 0.25)), ("accessories", "footwear")),
    CategorySpec("footwear", 0.08, 70, 0.4, (0.40, 0.55), False,
                 (("flat", 0.6), ("winter", 0.2), ("summer", 0.2)), ("apparel", "accessories")),
    CategorySpec("accessories", 0.08, 22, 0.5, (0.55, 0.70), False,
                 (("flat", 0.7), ("holiday", 0.3)), ("apparel",)),
    CategorySpec("home", 0.09, 40, 0.6, (0.35, 0.55), False,
                 (("flat", 0.5), ("spring", 0.3), ("holiday", 0.2)), ("kitchen",)),
    CategorySpec("kitchen", 0.08, 28, 0.6, (0.30, 0.50), False,
                 (("flat", 0.7), ("holiday", 0.3)), ("grocery", "home")),
    CategorySpec("beauty", 0.09, 18, 0.5, (0.50, 0.70), True,
                 (("flat", 0.7), ("holiday", 0.3)), ("beauty",)),
    CategorySpec("books", 0.06, 16, 0.3, (0.20, 0.35), False,
                 (("flat", 0.5), ("holiday", 0.3), ("back_to_school", 0.2)), ("stationery",)),
    CategorySpec("toys", 0.06, 25, 0.6, (0.35, 0.50), False,
                 (("holiday", 0.8), ("flat", 0.2)), ("books",)),
    CategorySpec("outdoor", 0.07, 60, 0.7, (0.30, 0.50), False,
                 (("summer", 0.75), ("flat", 0.25)), ("footwear", "apparel")),
    CategorySpec("electronics", 0.06, 90, 0.8, (0.20, 0.30), False,
                 (("holiday", 0.6), ("flat", 0.4)), ("accessories",)),
    CategorySpec("grocery", 0.13, 6, 0.5, (0.20, 0.35), True,
                 (("flat", 0.8), ("holiday", 0.2)), ("grocery", "kitchen")),
    CategorySpec("stationery", 0.04, 8, 0.5, (0.45, 0.65), False,
                 (("back_to_school", 0.6), ("flat", 0.4)), ("books",)),
)  # fmt: skip
CATEGORY_NAMES: tuple[str, ...] = tuple(c.name for c in CATEGORIES)

TRENDS: tuple[str, ...] = ("flat", "up", "down", "new")
FLAT, UP, DOWN, NEW = range(len(TRENDS))
# Deliberately planted inventory situations the alerting features should find.
ROLES: tuple[str, ...] = ("", "stockout_risk", "overstock", "slow_mover", "supply_gap")
NO_ROLE, STOCKOUT_RISK, OVERSTOCK, SLOW_MOVER, SUPPLY_GAP = range(len(ROLES))
_ZIPF_EXPONENT = 0.8
_MIN_PER_CATEGORY = 4


@dataclass(frozen=True)
class Catalog:
    """Static product attributes; products are grouped by category (index order).

    Money is in integer cents. ``code`` is the public id number, shuffled so ids do not
    give away the category.
    """

    category: IntArray
    category_starts: IntArray
    code: IntArray
    name: tuple[str, ...]
    price: IntArray
    cost: IntArray
    supplier: IntArray
    lead_time: IntArray
    popularity: FloatArray
    profile: IntArray
    trend: IntArray
    role: IntArray
    launch_day: IntArray
    repeat: BoolArray
    companion: IntArray

    @property
    def n(self) -> int:
        """Number of products."""
        return len(self.category)


def build_catalog(n: int, days: int, n_suppliers: int, rng: np.random.Generator) -> Catalog:
    """Generate ``n`` products for a history of ``days`` days.

    Parameters
    ----------
    n
        Number of products (at least four per category).
    days
        History length; new products launch inside it.
    n_suppliers
        Size of the supplier pool.
    rng
        Random source.
    """
    counts = _category_counts(n)
    category = np.repeat(np.arange(len(CATEGORIES)), counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    popularity = as_float((rng.permutation(n) + 1.0) ** -_ZIPF_EXPONENT)
    trend, role = _trends_and_roles(popularity, rng)
    supplier, lead_time = _suppliers(category, n_suppliers, rng)
    price, cost = _prices(category, rng)
    launch_day = np.where(trend == NEW, rng.integers(int(0.15 * days), days - 10, size=n), 0)
    return Catalog(
        category=category,
        category_starts=as_int(starts),
        code=as_int(rng.permutation(n) + 1),
        name=_names(category, rng),
        price=price,
        cost=cost,
        supplier=supplier,
        lead_time=lead_time,
        popularity=popularity,
        profile=_profiles(category, rng),
        trend=trend,
        role=role,
        launch_day=as_int(launch_day),
        repeat=np.array([CATEGORIES[c].repeat for c in category]) & (rng.random(n) < 0.85),
        companion=_companions(category, as_int(starts), popularity, launch_day, rng),
    )


def _category_counts(n: int) -> IntArray:
    """Products per category, proportional to share but never below the minimum."""
    shares = np.array([c.share for c in CATEGORIES])
    counts = as_int(np.maximum(np.floor(shares / shares.sum() * n), _MIN_PER_CATEGORY))
    # Hand the rounding remainder to (or take it from) the biggest categories.
    order = np.argsort(-shares)
    k = 0
    while counts.sum() != n:
        counts[order[k % len(order)]] += 1 if counts.sum() < n else -1
        k += 1
    return counts


def _prices(category: IntArray, rng: np.random.Generator) -> tuple[IntArray, IntArray]:
    """List price with charm endings (.99/.49) and a category-dependent margin."""
    spec = [CATEGORIES[c] for c in category]
    median = np.array([s.median_price for s in spec])
    spread = np.array([s.price_spread for s in spec])
    raw = np.clip(median * np.exp(spread * rng.standard_normal(len(spec))), 1.5, 900.0)
    price = np.where(raw >= 10, np.round(raw) * 100 - 1, np.round(raw * 2) * 50 - 1)
    lo, hi = (np.array([s.margin[i] for s in spec]) for i in (0, 1))
    margin = rng.uniform(lo, hi)
    return as_int(price), as_int(np.round(price * (1.0 - margin)))


def _suppliers(
    category: IntArray, n_suppliers: int, rng: np.random.Generator
) -> tuple[IntArray, IntArray]:
    """Each category buys from 2-3 suppliers; lead time is a property of the supplier."""
    n_suppliers = min(n_suppliers, len(SUPPLIERS))
    lead_by_supplier = rng.integers(3, 31, size=n_suppliers)
    pools = [rng.choice(n_suppliers, size=rng.integers(2, 4), replace=False) for _ in CATEGORIES]
    supplier = np.array([rng.choice(pools[c]) for c in category], dtype=np.int64)
    return supplier, as_int(lead_by_supplier[supplier])


def _profiles(category: IntArray, rng: np.random.Generator) -> IntArray:
    """Seasonal profile per product, drawn from its category's mix."""
    out = np.zeros(len(category), dtype=np.int64)
    for c, spec in enumerate(CATEGORIES):
        members = np.flatnonzero(category == c)
        names, probs = zip(*spec.profiles, strict=True)
        picks = choose(rng, len(members), np.array(probs))
        out[members] = [PROFILES.index(names[k]) for k in picks]
    return out


def _names(category: IntArray, rng: np.random.Generator) -> tuple[str, ...]:
    """Product names like "Nordic Hoodie"."""
    adjectives = rng.integers(0, len(ADJECTIVES), size=len(category))
    nouns = [NOUNS[CATEGORIES[c].name] for c in category]
    picks = rng.random(len(category))
    return tuple(
        f"{ADJECTIVES[a]} {options[int(u * len(options))]}"
        for a, options, u in zip(adjectives, nouns, picks, strict=True)
    )


def _trends_and_roles(
    popularity: FloatArray, rng: np.random.Generator
) -> tuple[IntArray, IntArray]:
    """Assign demand trends and planted inventory roles by popularity rank."""
    n = len(popularity)
    rank = np.argsort(np.argsort(-popularity)) / n  # 0 = best seller
    trend = np.full(n, FLAT, dtype=np.int64)
    role = np.full(n, NO_ROLE, dtype=np.int64)
    free = np.ones(n, dtype=bool)

    def pick(mask: BoolArray, share: float, minimum: int) -> IntArray:
        candidates = np.flatnonzero(mask & free)
        k = min(len(candidates), max(minimum, round(share * n)))
        chosen = as_int(rng.choice(candidates, size=k, replace=False))
        free[chosen] = False
        return chosen

    # Risers need real volume so a +50% week is visible, hence the upper ranks.
    trend[pick((rank > 0.02) & (rank < 0.4), 0.05, 2)] = UP
    fading = pick((rank > 0.3) & (rank < 0.8), 0.015, 2)
    trend[fading], role[fading] = DOWN, SLOW_MOVER
    role[pick(rank < 0.25, 0.015, 2)] = SUPPLY_GAP
    trend[pick(rank > 0.02, 0.08, 3)] = NEW
    trend[pick(np.ones(n, dtype=bool), 0.05, 2)] = DOWN
    free[:] = role == NO_ROLE
    role[pick((trend == FLAT) | (trend == DOWN), 0.04, 2)] = OVERSTOCK
    role[pick(trend != DOWN, 0.05, 3)] = STOCKOUT_RISK
    return trend, role


def _companions(
    category: IntArray,
    starts: IntArray,
    popularity: FloatArray,
    launch_day: IntArray,
    rng: np.random.Generator,
) -> IntArray:
    """A cross-sell partner per product, from a related category (bought together)."""
    related = [[CATEGORY_NAMES.index(r) for r in spec.related] for spec in CATEGORIES]
    target = np.array([rng.choice(related[c]) for c in category], dtype=np.int64)
    # Only products on sale from day one, so a partner never predates its launch.
    weights = (popularity * (launch_day == 0))[None, :]
    sampler = BlockSampler.build(weights, starts)
    return sampler.draw(np.zeros(len(category), dtype=np.int64), target, rng)
