"""Basket contents for every visit: products, quantities, prices, discounts and costs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from analytics_pipeline.generate.arrays import BoolArray, FloatArray, IntArray, as_int, run_ranks
from analytics_pipeline.generate.choices import pick_categories, pick_products
from analytics_pipeline.generate.customers import GG_GAMMA, GG_P, GG_Q
from analytics_pipeline.generate.intents import Intents
from analytics_pipeline.generate.shop import Shop

_LOYALTY = 0.65  # share of a known customer's lines from their favourite categories
_STAPLE_SHARE = 0.7  # repeat-purchase lines that are the customer's usual product
_COMPANION_SHARE = 0.18  # later lines that are the first product's cross-sell partner
_LINE_VALUE = 30.0  # typical spend per line; sets how many lines a budget buys
_MAX_LINES = 12
_MAX_QUANTITY = 24
_COUPON_SHARE = 0.03
_COST_MISSING_SHARE = 0.25
_COST_DRIFT = 0.06  # supplier costs rose by up to 6% over the history
_REDRAW_ROUNDS = 3


@dataclass(frozen=True)
class Lines:
    """Candidate order lines (before stock decides which can be served); money in cents."""

    visit: IntArray
    product: IntArray
    quantity: IntArray
    unit_price: IntArray
    discount: IntArray
    unit_cost: IntArray
    cost_missing: BoolArray

    def select(self, keep: BoolArray | IntArray) -> Lines:
        """Lines at the given mask or indices."""
        return Lines(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})

    @classmethod
    def gather(cls, parts: Sequence[tuple[Lines, IntArray]], order: IntArray) -> Lines:
        """Rows ``index`` of each ``(lines, index)`` part, concatenated, then ``[order]``.

        Works one field at a time so only one field's temporaries exist at once, which
        matters at the large scale.
        """

        def column(name: str) -> npt.NDArray[Any]:
            return np.concatenate([getattr(lines, name)[index] for lines, index in parts])[order]

        return cls(**{f.name: column(f.name) for f in fields(cls)})


def build_lines(shop: Shop, intents: Intents, rng: np.random.Generator) -> Lines:
    """Fill every visit's basket.

    Parameters
    ----------
    shop
        The simulated shop.
    intents
        Products that earlier engagement puts into specific visits.
    rng
        Random source.
    """
    visits = shop.visits
    budget = _budgets(shop, rng)
    engaged_lines = np.bincount(intents.visit, minlength=visits.n)
    count = np.maximum(_line_counts(budget, rng), engaged_lines)
    visit = np.repeat(np.arange(visits.n), count)
    day, who = visits.day[visit], visits.customer[visit]
    category, slot = pick_categories(shop.customers, who, day, shop.demand, _LOYALTY, rng)
    product = pick_products(category, day, shop.demand, rng)
    product = _use_staples(shop, who, slot, day, product, rng)
    product = _add_companions(shop, visit, day, product, rng)
    product, engaged = _apply_intents(shop, intents, np.cumsum(count) - count, product)
    product = _avoid_rebuying(shop, who, day, product, engaged, rng)
    # A product appears once per basket: keep its first line (intents come first).
    unique = np.sort(np.unique(visit * shop.catalog.n + product, return_index=True)[1])
    visit, product, day = visit[unique], product[unique], day[unique]
    quantity = _quantities(shop, budget[visit] / count[visit], product, rng)
    return _priced(shop, visit, product, day, quantity, rng)


def _budgets(shop: Shop, rng: np.random.Generator) -> FloatArray:
    """Gamma-Gamma spend per visit; walk-ins draw a spend level from the population."""
    who = shop.visits.customer
    anonymous_nu = rng.gamma(GG_Q, 1.0 / GG_GAMMA, size=len(who))
    nu = np.where(who >= 0, shop.customers.nu[np.maximum(who, 0)], anonymous_nu)
    return rng.gamma(GG_P, 1.0 / nu)


def _line_counts(budget: FloatArray, rng: np.random.Generator) -> IntArray:
    """Bigger budgets buy more distinct products."""
    extra = rng.poisson(np.maximum(budget / _LINE_VALUE - 1.0, 0.0))
    return as_int(np.minimum(1 + extra, _MAX_LINES))


def _use_staples(
    shop: Shop,
    who: IntArray,
    slot: IntArray,
    day: IntArray,
    product: IntArray,
    rng: np.random.Generator,
) -> IntArray:
    """Repeat-purchase lines are often the customer's usual product."""
    staple = shop.customers.staple[np.maximum(who, 0), np.maximum(slot, 0)]
    usual = (slot >= 0) & (staple >= 0) & (rng.random(len(who)) < _STAPLE_SHARE)
    usual &= shop.demand.weights[day, np.maximum(staple, 0)] > 0
    return np.where(usual, staple, product)


def _add_companions(
    shop: Shop, visit: IntArray, day: IntArray, product: IntArray, rng: np.random.Generator
) -> IntArray:
    """Later lines often add the first product's cross-sell partner."""
    rank = run_ranks(visit)
    first_product = product[np.arange(len(visit)) - rank]
    partner = shop.catalog.companion[first_product]
    add = (rank > 0) & (rng.random(len(visit)) < _COMPANION_SHARE)
    add &= shop.demand.weights[day, partner] > 0
    return np.where(add, partner, product)


def _apply_intents(
    shop: Shop, intents: Intents, first_line: IntArray, product: IntArray
) -> tuple[IntArray, BoolArray]:
    """Engaged products take the first lines of the visit they were pulled into.

    Returns the products and which lines were set by engagement.
    """
    order = np.argsort(intents.visit, kind="stable")
    visit, wanted = intents.visit[order], intents.product[order]
    line = first_line[visit] + run_ranks(visit)
    on_sale = shop.demand.weights[shop.visits.day[visit], wanted] > 0
    out = product.copy()
    out[line[on_sale]] = wanted[on_sale]
    forced = np.zeros(len(product), dtype=bool)
    forced[line[on_sale]] = True
    return out, forced


def _avoid_rebuying(
    shop: Shop,
    who: IntArray,
    day: IntArray,
    product: IntArray,
    forced: BoolArray,
    rng: np.random.Generator,
) -> IntArray:
    """Known customers rarely buy the same durable product twice: pick another one.

    Lines are in (customer, time) order, so a stable sort by (customer, product) keeps
    the first purchase first. A couple of redraw rounds leave only a trickle of
    repeats (gifts, replacements); repeat-purchase products and engaged picks stay.
    """
    catalog = shop.catalog
    product = product.copy()
    for _ in range(_REDRAW_ROUNDS):
        key = who * catalog.n + product
        order = np.argsort(key, kind="stable")
        again = np.zeros(len(key), dtype=bool)
        again[order[1:]] = key[order[1:]] == key[order[:-1]]
        redraw = np.flatnonzero(again & (who >= 0) & ~catalog.repeat[product] & ~forced)
        category = catalog.category[product[redraw]]
        product[redraw] = pick_products(category, day[redraw], shop.demand, rng)
    return product


def _quantities(
    shop: Shop, line_budget: FloatArray, product: IntArray, rng: np.random.Generator
) -> IntArray:
    """Cheap items are bought several at a time, dear ones singly."""
    price = shop.catalog.price[product] / 100.0
    extra = np.clip(line_budget / price - 1.0, 0.0, 8.0) * 0.5
    return as_int(np.minimum(1 + rng.poisson(extra), _MAX_QUANTITY))


def _priced(
    shop: Shop,
    visit: IntArray,
    product: IntArray,
    day: IntArray,
    quantity: IntArray,
    rng: np.random.Generator,
) -> Lines:
    """Promotion prices, occasional coupons and the supplier cost at the time of sale."""
    catalog, n = shop.catalog, len(visit)
    unit_price = np.round(catalog.price[product] * (1.0 - shop.demand.promo_of(day, product)))
    coupon = rng.random(n) < _COUPON_SHARE
    discount = np.where(coupon, np.round(quantity * unit_price * rng.uniform(0.05, 0.2, n)), 0)
    drift = rng.uniform(0.0, _COST_DRIFT, size=catalog.n)[product]
    age = (shop.timeline.days - 1 - day) / shop.timeline.days
    unit_cost = np.round(catalog.cost[product] * (1.0 - drift * age))
    return Lines(
        visit=visit,
        product=product,
        quantity=quantity,
        unit_price=as_int(unit_price),
        discount=as_int(discount),
        unit_cost=as_int(unit_cost),
        cost_missing=rng.random(n) < _COST_MISSING_SHARE,
    )
