"""Why v2 recommends a product: each signal's contribution in numbers and in words.

A v2 score is the sum of the signals' contributions (log-odds, see
:mod:`analytics_pipeline.models.recs`); the time of day multiplies the calibrated chance
by a lift, shown as a contribution of ``ln(lift)``. The sentences turn each signal's raw
value back into what the shopper did or what the shop saw (the SQL stores counts as
``ln(1 + n)``, shares as logarithms).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from analytics_pipeline.models.recs_features import FEATURES
from analytics_pipeline.recommendations.serving import Moment, Ranked


def _count(value: float) -> int:
    return round(math.expm1(value))


_SENTENCES: dict[str, Callable[[float, str], str]] = {
    "co_purchase": lambda v, c: "customers who bought what this customer bought also bought "
                                f"it (summed similarity {math.expm1(v):.2f})",
    "co_purchase_vs_best": lambda v, c: "its co-purchase match is "
                                        + ("the customer's strongest" if v >= 0 else
                                           f"{math.exp(v):.0%} as strong as their best"),
    "cross_sell": lambda v, c: f"bought in the same basket as a recent purchase ({v:.0%} of "
                               "such baskets)",
    "category_affinity": lambda v, c: f"{math.exp(v):.0%} of the customer's purchases are "
                                      f"in {c}",
    "category_affinity_vs_best": lambda v, c: f"{c} is "
                                               + ("their favourite category" if v >= 0 else
                                                  "not their favourite category"),
    "category_popularity": lambda v, c: f"{max(math.exp(v) - 0.001, 0):.0%} of {c} buyers "
                                        "in the last 28 days bought it",
    "content": lambda v, c: f"they engaged {_count(v)} times with content featuring it in "
                            "the last 30 days",
    "content_category": lambda v, c: f"they engaged {_count(v)} times with {c} content in "
                                     "the last 30 days",
    "cart_abandoned": lambda v, c: f"they put it in their cart {_count(v)} times in the last "
                                   "30 days without buying",
    "viewed": lambda v, c: f"they viewed it {_count(v)} times in the last 30 days without "
                           "buying",
    "similar_views": lambda v, c: "it resembles products they viewed recently (summed "
                                  f"similarity {math.expm1(v):.2f})",
    "similar_views_vs_best": lambda v, c: "its match with their recent views is "
                                          + ("the strongest" if v >= 0 else
                                             f"{math.exp(v):.0%} as strong as the best"),
    "trend": lambda v, c: f"its buyers in the last 4 weeks are {math.exp(v):.2f}x the 4 "
                          "weeks before",
    "season": lambda v, c: f"{c} sold {math.exp(v):.2f}x its usual share in the coming "
                           "weeks last year",
    "popularity": lambda v, c: f"{_count(v)} shoppers bought it in the last 28 days",
    "repurchase": lambda v, c: f"they bought it {_count(v)} times before",
}


@dataclass(frozen=True)
class Signal:
    """One signal's part in a recommendation."""

    signal: str
    value: float
    contribution: float
    sentence: str


def signals(item: Ranked, moment: Moment) -> list[Signal]:
    """Every signal of a v2 item, the largest contribution (either sign) first."""
    category = item.category or "its category"
    found = [
        Signal(name, item.signals[name], item.signals[f"{name}_contribution"],
               _SENTENCES[name](item.signals[name], category))
        for name in FEATURES
    ]
    found.append(Signal(
        "time_of_day", item.time_lift, math.log(item.time_lift),
        f"{category} sells {item.time_lift:.2f}x its usual share on {moment.day_type}s "
        f"{moment.hours} among customers like this one",
    ))
    return sorted(found, key=lambda s: (-abs(s.contribution), s.signal))


def summary(found: list[Signal], confidence: float | None) -> str:
    """One sentence: the chance and the two strongest reasons for it."""
    reasons = [s.sentence for s in found if s.contribution > 0][:2]
    chance = "" if confidence is None else f"{confidence:.0%} chance of a purchase within 30 days"
    if not reasons:
        return f"Recommended on balance of weak signals ({chance})." if chance else \
            "Recommended on balance of weak signals."
    lead = "; ".join(reasons)
    return f"Recommended mainly because {lead} ({chance})." if chance else \
        f"Recommended mainly because {lead}."


def cold_start_sentence(item: Ranked) -> str:
    rate = "" if item.confidence is None else f" ({item.confidence:.1%} of recent shoppers)"
    return f"One of the shop's best-sellers in the last 30 days{rate}: no history to go on."
