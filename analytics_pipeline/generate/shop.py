"""The simulated shop's state shared by the later generation stages."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics_pipeline.generate.arrays import SECONDS_PER_DAY, BoolArray, IntArray, as_int
from analytics_pipeline.generate.catalog import Catalog
from analytics_pipeline.generate.clock import seconds_of_day
from analytics_pipeline.generate.content import Content
from analytics_pipeline.generate.customers import Customers
from analytics_pipeline.generate.demand import Demand
from analytics_pipeline.generate.timeline import Timeline
from analytics_pipeline.generate.visits import Lifetimes, Visits


@dataclass(frozen=True)
class Shop:
    """Catalogue, calendar, customers and their visits, bundled for the later stages."""

    timeline: Timeline
    catalog: Catalog
    demand: Demand
    content: Content
    customers: Customers
    lifetimes: Lifetimes
    visits: Visits

    @property
    def start_second(self) -> int:
        """Epoch second at which the history starts."""
        return (self.timeline.first_epoch_day + self.timeline.pre_days) * SECONDS_PER_DAY

    @property
    def end_second(self) -> int:
        """Last epoch second of the history (end date 23:59:59)."""
        return self.start_second + self.timeline.days * SECONDS_PER_DAY - 1

    def history_day(self, second: IntArray) -> IntArray:
        """History day index of epoch seconds."""
        return (second - self.start_second) // SECONDS_PER_DAY


def browsing_moments(
    shop: Shop, who: IntArray, rng: np.random.Generator
) -> tuple[BoolArray, IntArray]:
    """Random online moments while each customer is a live shopper in the history.

    Parameters
    ----------
    shop
        The simulated shop.
    who
        Customer of each moment.
    rng
        Random source.

    Returns
    -------
    tuple
        Mask of customers who were live shoppers at some point of the history, and
        the epoch second of their moment (valid where the mask is true), on a random
        day of their live period at their habitual time of day.
    """
    end = shop.end_second
    first = np.maximum(shop.lifetimes.created_at[who], shop.start_second) // SECONDS_PER_DAY
    last = np.minimum(shop.lifetimes.active_until(end)[who], end) // SECONDS_PER_DAY
    span = np.maximum(last - first + 1, 1)
    day = first + np.floor(rng.random(len(who)) * span).astype(np.int64)
    online = np.ones(len(who), dtype=bool)
    second = day * SECONDS_PER_DAY + seconds_of_day(online, shop.customers.habit[who], rng)
    return last >= first, as_int(second)
