"""Engagement that causes purchases: content views and abandoned carts.

Engagement is drawn first; then, with some probability, the engaged product is put
into the customer's next purchase within a window. So engagement really raises the
chance of buying the product, as the recommendation features assume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics_pipeline.generate.arrays import SECONDS_PER_DAY, FloatArray, IntArray, as_int
from analytics_pipeline.generate.choices import pick_categories, pick_products
from analytics_pipeline.generate.eventlog import (
    ARTICLE_READ,
    CART_ADD,
    CART_REMOVE,
    CONTENT_VIEW,
    PRODUCT_VIEW,
    VIDEO_VIEW,
    EventBlock,
    Step,
)
from analytics_pipeline.generate.sampling import choose
from analytics_pipeline.generate.shop import Shop, browsing_moments
from analytics_pipeline.generate.visits import next_visits

_CONTENT_PER_ORDER = 0.10
_CARTS_PER_ORDER = 0.12
# Chance that engagement turns into a purchase at the next visit inside the window.
_CONTENT_PULL = 0.3
_CART_PULL = 0.25
_CONTENT_WINDOW = 30 * SECONDS_PER_DAY
_CART_WINDOW = 14 * SECONDS_PER_DAY
# A purchase this soon after a cart would belong to the same session, not a return.
_MIN_GAP = 3 * 3600
_FAVOURITE_CONTENT = 0.7
_CART_LOYALTY = 0.8
# Follow-ups within an engagement session.
_WATCH_SHARE = 0.7  # video views that go on to watch
_READ_SHARE = 0.6  # article views that are read
_CLICK_SHARE = 0.3  # content views that click through to the product
_REMOVE_SHARE = 0.12  # abandoned carts explicitly emptied


@dataclass(frozen=True)
class Intents:
    """Products engagement puts into later visits, and the engagement events."""

    visit: IntArray
    product: IntArray
    events: tuple[EventBlock, ...]


def build_intents(shop: Shop, target_orders: int, rng: np.random.Generator) -> Intents:
    """Draw content engagements and abandoned carts, and the purchases they cause.

    Parameters
    ----------
    shop
        The simulated shop.
    target_orders
        Order volume the engagement volume is proportional to.
    rng
        Random source.
    """
    content = _content_engagements(shop, round(target_orders * _CONTENT_PER_ORDER), rng)
    carts = _abandoned_carts(shop, round(target_orders * _CARTS_PER_ORDER), rng)
    return Intents(
        visit=np.concatenate([content.visit, carts.visit]),
        product=np.concatenate([content.product, carts.product]),
        events=content.events + carts.events,
    )


def _engaged(
    shop: Shop, n: int, weights: FloatArray, rng: np.random.Generator
) -> tuple[IntArray, IntArray]:
    """``n`` engagement moments by customers drawn with ``weights``."""
    who = choose(rng, n, weights)
    ok, second = browsing_moments(shop, who, rng)
    return who[ok], second[ok]


def _pull(
    shop: Shop,
    who: IntArray,
    second: IntArray,
    product: IntArray,
    window: int,
    chance: float,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray]:
    """Put ``product`` into the next visit within ``window`` with probability ``chance``."""
    wants = (product >= 0) & (rng.random(len(who)) < chance)
    visit = next_visits(
        shop.visits, who[wants], second[wants] + _MIN_GAP, window - _MIN_GAP, shop.timeline
    )
    found = visit >= 0
    return visit[found], product[wants][found]


def _content_engagements(shop: Shop, n: int, rng: np.random.Generator) -> Intents:
    """Content views (plus watching/reading and click-throughs) and their pull."""
    who, second = _engaged(shop, n, shop.customers.propensity, rng)
    day = shop.history_day(second)
    item = _pick_content(shop, who, rng)
    product = _content_product(shop, item, day, rng)
    session = np.arange(len(who))
    video = shop.content.kind[item] == 1
    watch = video & (rng.random(len(who)) < _WATCH_SHARE)
    read = ~video & (rng.random(len(who)) < _READ_SHARE)
    click = (product >= 0) & (rng.random(len(who)) < _CLICK_SHARE)
    events = EventBlock.from_steps(who, [
        Step(CONTENT_VIEW, session, second, content=item),
        Step(VIDEO_VIEW, session[watch], second[watch] + rng.integers(20, 240, watch.sum()),
             content=item[watch]),
        Step(ARTICLE_READ, session[read], second[read] + rng.integers(60, 600, read.sum()),
             content=item[read]),
        Step(PRODUCT_VIEW, session[click], second[click] + rng.integers(120, 900, click.sum()),
             product=product[click]),
    ])  # fmt: skip
    visit, bought = _pull(shop, who, second, product, _CONTENT_WINDOW, _CONTENT_PULL, rng)
    return Intents(visit=visit, product=bought, events=(events,))


def _pick_content(shop: Shop, who: IntArray, rng: np.random.Generator) -> IntArray:
    """Mostly content about the customer's favourite category, else anything."""
    content = shop.content
    favourite = shop.customers.affinity[who, 0]
    first = np.searchsorted(content.category, favourite, side="left")
    count = np.searchsorted(content.category, favourite, side="right") - first
    own = (rng.random(len(who)) < _FAVOURITE_CONTENT) & (count > 0)
    mine = first + np.floor(rng.random(len(who)) * count).astype(np.int64)
    return as_int(np.where(own, mine, rng.integers(0, content.n, size=len(who))))


def _content_product(
    shop: Shop, item: IntArray, day: IntArray, rng: np.random.Generator
) -> IntArray:
    """The product an engagement is about: a featured one, or one of the item's category."""
    content = shop.content
    count = content.featured_count()[item]
    pick = content.featured_offsets[item] + np.floor(rng.random(len(item)) * count)
    featured = np.append(content.featured, -1)[np.where(count > 0, pick, -1).astype(np.int64)]
    category = content.category[item]
    by_category = (count == 0) & (category >= 0)
    featured[by_category] = pick_products(category[by_category], day[by_category], shop.demand, rng)
    on_sale = shop.demand.weights[day, np.maximum(featured, 0)] > 0
    return as_int(np.where((featured >= 0) & on_sale, featured, -1))


def _abandoned_carts(shop: Shop, n: int, rng: np.random.Generator) -> Intents:
    """Sessions that add a product to the cart and leave without buying."""
    customers = shop.customers
    online_lean = 1.0 / (1.0 + np.exp(-customers.online_logit))
    who, second = _engaged(shop, n, customers.propensity * online_lean, rng)
    day = shop.history_day(second)
    category, _ = pick_categories(customers, who, day, shop.demand, _CART_LOYALTY, rng)
    product = pick_products(category, day, shop.demand, rng)
    session = np.arange(len(who))
    added = second + rng.integers(20, 300, size=len(who))
    removed = rng.random(len(who)) < _REMOVE_SHARE
    events = EventBlock.from_steps(who, [
        Step(PRODUCT_VIEW, session, second, product=product),
        Step(CART_ADD, session, added, product=product),
        Step(CART_REMOVE, session[removed], added[removed] + rng.integers(60, 1800, removed.sum()),
             product=product[removed]),
    ])  # fmt: skip
    visit, bought = _pull(shop, who, second, product, _CART_WINDOW, _CART_PULL, rng)
    return Intents(visit=visit, product=bought, events=(events,))
