"""Orders as written: served baskets, statuses, returns, sorted and numbered."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from analytics_pipeline.generate.arrays import (
    SECONDS_PER_DAY,
    BoolArray,
    IntArray,
    as_int,
    run_ranks,
    run_starts,
)
from analytics_pipeline.generate.baskets import Lines
from analytics_pipeline.generate.clock import seconds_of_day
from analytics_pipeline.generate.sampling import choose
from analytics_pipeline.generate.shop import Shop

STATUSES: tuple[str, ...] = ("completed", "refunded", "void")
COMPLETED, REFUNDED, VOID = range(len(STATUSES))
_STATUS_SHARES = np.array([0.985, 0.01, 0.005])
_RETURN_SHARE = 0.004  # of eligible lines, returned in a later visit
_RETURN_DELAY_DAYS = (2, 31)


@dataclass(frozen=True)
class OrderBook:
    """Final orders in time order; ``lines.visit`` holds each line's order index.

    Attributes
    ----------
    customer
        Customer index, -1 for walk-ins.
    second
        Epoch second the order was placed.
    is_return
        The order only returns items bought earlier.
    line_number
        1-based position of each line within its order.
    """

    customer: IntArray
    second: IntArray
    online: BoolArray
    status: IntArray
    is_return: BoolArray
    lines: Lines
    line_number: IntArray

    @property
    def n(self) -> int:
        """Number of orders."""
        return len(self.customer)


@dataclass(frozen=True)
class _Returns:
    """Return orders (one line each) and the sold line each one gives back."""

    source: IntArray
    customer: IntArray
    second: IntArray
    online: BoolArray
    lines: Lines


def build_order_book(
    shop: Shop, lines: Lines, served: IntArray, rng: np.random.Generator
) -> OrderBook:
    """Turn served lines into orders; visits with nothing served never become orders.

    Parameters
    ----------
    shop
        The simulated shop.
    lines
        Candidate lines, grouped by visit.
    served
        Units served per candidate line (from the stock simulation).
    rng
        Random source for statuses and returns.
    """
    kept = np.flatnonzero(served > 0)
    first = run_starts(lines.visit[kept])
    visit = lines.visit[kept[first]]
    order_of_line = np.repeat(np.arange(len(first)), np.diff(np.append(first, len(kept))))
    share = served / np.maximum(lines.quantity, 1)
    sold = replace(lines, quantity=served, discount=as_int(np.round(lines.discount * share)))
    visits = shop.visits
    status = choose(rng, len(visit), _STATUS_SHARES)
    customer = visits.customer[visit]
    returns = _returns(shop, sold, kept, customer[order_of_line], status[order_of_line], rng)
    second = np.concatenate([visits.second[visit], returns.second])
    by_time = np.argsort(second, kind="stable")
    rank = np.empty(len(second), dtype=np.int64)
    rank[by_time] = np.arange(len(second))
    line_order = rank[np.concatenate([order_of_line, len(visit) + np.arange(len(returns.source))])]
    by_order = np.argsort(line_order, kind="stable")
    no_return = np.arange(len(returns.source))
    final_lines = Lines.gather([(sold, kept), (returns.lines, no_return)], by_order)
    final_lines = replace(final_lines, visit=line_order[by_order])
    return OrderBook(
        customer=np.concatenate([customer, returns.customer])[by_time],
        second=second[by_time],
        online=np.concatenate([visits.online[visit], returns.online])[by_time],
        status=np.concatenate([status, np.full(len(returns.source), COMPLETED)])[by_time],
        is_return=(by_time >= len(visit)),
        lines=final_lines,
        line_number=run_ranks(final_lines.visit) + 1,
    )


def _returns(
    shop: Shop,
    sold: Lines,
    kept: IntArray,
    customer: IntArray,
    status: IntArray,
    rng: np.random.Generator,
) -> _Returns:
    """A later visit by the same customer giving back part of a line.

    Consumables are not returned; the refund is at the price originally paid.
    ``customer`` and ``status`` are given per kept line.
    """
    eligible = (status == COMPLETED) & (customer >= 0) & ~shop.catalog.repeat[sold.product[kept]]
    picked = np.flatnonzero(eligible & (rng.random(len(kept)) < _RETURN_SHARE))
    source, who = kept[picked], customer[picked]
    delay = rng.integers(*_RETURN_DELAY_DAYS, size=len(picked))
    bought = shop.visits.second[sold.visit[source]]
    online = rng.random(len(picked)) < 0.3
    second = (bought // SECONDS_PER_DAY + delay) * SECONDS_PER_DAY
    second += seconds_of_day(online, shop.customers.habit[who], rng)
    # Nobody comes back to return anything after they stopped shopping here.
    inside = second <= np.minimum(
        shop.lifetimes.active_until(shop.end_second)[who], shop.end_second
    )
    source, who, second, online = source[inside], who[inside], second[inside], online[inside]
    given_back = sold.select(source)
    given_back = replace(
        given_back,
        quantity=-rng.integers(1, given_back.quantity + 1),
        discount=np.zeros(len(source), dtype=np.int64),
    )
    return _Returns(source=source, customer=who, second=second, online=online, lines=given_back)
