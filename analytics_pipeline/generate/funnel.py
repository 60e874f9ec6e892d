"""Browsing around purchases: the checkout funnel, research visits and idle browsing."""

from __future__ import annotations

import numpy as np

from analytics_pipeline.generate.arrays import SECONDS_PER_DAY, IntArray, as_int, run_ranks
from analytics_pipeline.generate.choices import pick_categories, pick_products
from analytics_pipeline.generate.eventlog import (
    CART_ADD,
    CART_REMOVE,
    CHECKOUT,
    PRODUCT_VIEW,
    EventBlock,
    Step,
)
from analytics_pipeline.generate.orders import OrderBook
from analytics_pipeline.generate.sampling import choose
from analytics_pipeline.generate.shop import Shop, browsing_moments

_ALTERNATIVE_VIEWS = 0.6  # mean extra products looked at in a purchase session
_SWAP_SHARE = 0.1  # purchase sessions that add something and remove it again
_ONLINE_RESEARCH_SHARE = 0.35  # online orders preceded by an earlier browsing session
_STORE_RESEARCH_SHARE = 0.2  # identified shop orders researched online first
_BROWSE_PER_ORDER = 0.35  # browse-only sessions per order
_BROWSE_LOYALTY = 0.7
_COMPARE_SHARE = 0.5  # research sessions that also look at an alternative
_STOP_BROWSING = 0.5  # chance a browser leaves after each product view
_MAX_BROWSE_VIEWS = 4


def build_funnel_events(
    shop: Shop, book: OrderBook, density: float, rng: np.random.Generator
) -> tuple[EventBlock, ...]:
    """Events that surround purchases, plus browsing that leads nowhere.

    Parameters
    ----------
    shop
        The simulated shop.
    book
        Final orders.
    density
        1.0 for the full funnel; lower values thin the optional events.
    rng
        Random source.
    """
    return (
        _purchase_sessions(shop, book, density, rng),
        _research_sessions(shop, book, density, rng),
        _browse_sessions(shop, round(book.n * _BROWSE_PER_ORDER * density), rng),
    )


def _alternatives(
    shop: Shop, product: IntArray, second: IntArray, rng: np.random.Generator
) -> IntArray:
    """Other products of the same category, as a shopper compares options."""
    category = shop.catalog.category[product]
    # Browsing just before the history starts is dropped later; pick from day 0 for it.
    day = np.clip(shop.history_day(second), 0, shop.timeline.days - 1)
    return pick_products(category, day, shop.demand, rng)


def _purchase_sessions(
    shop: Shop, book: OrderBook, density: float, rng: np.random.Generator
) -> EventBlock:
    """Online orders by known customers: browse, fill the cart, check out, minutes before."""
    orders = np.flatnonzero(book.online & (book.customer >= 0) & ~book.is_return)
    paid = book.second[orders]
    session = np.arange(len(orders))
    return EventBlock.from_steps(book.customer[orders], [
        *_comparison_steps(shop, book, orders, density, rng),
        *_basket_steps(book, orders, density, rng),
        Step(CHECKOUT, session, paid - rng.integers(20, 90, size=len(orders))),
    ])  # fmt: skip


def _basket_steps(
    book: OrderBook, orders: IntArray, density: float, rng: np.random.Generator
) -> list[Step]:
    """Every bought product is added to the cart (usually after viewing it) before paying.

    ``orders`` are the sessions' orders, in session order.
    """
    lines = book.lines
    session_of = np.full(book.n, -1)
    session_of[orders] = np.arange(len(orders))
    bought = np.flatnonzero(session_of[lines.visit] >= 0)
    session, product = session_of[lines.visit[bought]], lines.product[bought]
    added = book.second[lines.visit[bought]] - rng.integers(60, 1500, size=len(bought))
    viewed = rng.random(len(bought)) < density
    seen = added[viewed] - rng.integers(30, 900, size=int(viewed.sum()))
    return [
        Step(PRODUCT_VIEW, session[viewed], seen, product=product[viewed]),
        Step(CART_ADD, session, added, product=product),
    ]


def _comparison_steps(
    shop: Shop, book: OrderBook, orders: IntArray, density: float, rng: np.random.Generator
) -> list[Step]:
    """Alternatives to the first product looked at, one sometimes added and removed again."""
    paid = book.second[orders]
    first_product = book.lines.product[np.searchsorted(book.lines.visit, orders)]
    looked = np.repeat(
        np.arange(len(orders)), rng.poisson(_ALTERNATIVE_VIEWS * density, size=len(orders))
    )
    looked_at = paid[looked] - rng.integers(300, 2400, size=len(looked))
    swap = np.flatnonzero(rng.random(len(orders)) < _SWAP_SHARE)
    swapped = _alternatives(shop, first_product[swap], paid[swap], rng)
    swap_at = paid[swap] - rng.integers(200, 1200, size=len(swap))
    return [
        Step(PRODUCT_VIEW, looked, looked_at,
             product=_alternatives(shop, first_product[looked], looked_at, rng)),
        Step(CART_ADD, swap, swap_at, product=swapped),
        Step(CART_REMOVE, swap, swap_at + rng.integers(30, 180, len(swap)), product=swapped),
    ]  # fmt: skip


def _research_sessions(
    shop: Shop, book: OrderBook, density: float, rng: np.random.Generator
) -> EventBlock:
    """Looking at a product online hours to days before buying it (online or in the shop)."""
    share = np.where(book.online, _ONLINE_RESEARCH_SHARE, _STORE_RESEARCH_SHARE) * density
    known = (book.customer >= 0) & ~book.is_return
    orders = np.flatnonzero(known & (rng.random(book.n) < share))
    product = book.lines.product[np.searchsorted(book.lines.visit, orders)]
    second = book.second[orders] - rng.integers(
        SECONDS_PER_DAY // 2, 5 * SECONDS_PER_DAY, size=len(orders)
    )
    compare = rng.random(len(orders)) < _COMPARE_SHARE
    other_at = second[compare] + rng.integers(30, 600, size=int(compare.sum()))
    session = np.arange(len(orders))
    return EventBlock.from_steps(book.customer[orders], [
        Step(PRODUCT_VIEW, session, second, product=product),
        Step(PRODUCT_VIEW, session[compare], other_at,
             product=_alternatives(shop, product[compare], other_at, rng)),
    ])  # fmt: skip


def _browse_sessions(shop: Shop, n: int, rng: np.random.Generator) -> EventBlock:
    """Idle browsing of a category, 1-4 products, with no purchase consequence."""
    who = choose(rng, n, shop.customers.propensity)
    ok, start = browsing_moments(shop, who, rng)
    who, start = who[ok], start[ok]
    day = shop.history_day(start)
    category, _ = pick_categories(shop.customers, who, day, shop.demand, _BROWSE_LOYALTY, rng)
    views = np.minimum(rng.geometric(_STOP_BROWSING, size=len(who)), _MAX_BROWSE_VIEWS)
    session = np.repeat(np.arange(len(who)), views)
    step = run_ranks(session)
    second = start[session] + step * rng.integers(20, 240, size=len(session))
    product = pick_products(category[session], day[session], shop.demand, rng)
    return EventBlock.from_steps(
        who, [Step(PRODUCT_VIEW, as_int(session), second, product=product)]
    )
