"""The experiment's readout: per-arm figures, lifts, the split check and the sequential test.

Conversions come from purchase feedback events (``POST /api/recommendations/v2/feedback``)
at or after the customer's first exposure; their ``value`` is the revenue. Warehouse
orders are not joined in: they reach the API only after a batch run, a day late, and
feedback purchases carry the attribution the client saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analytics_pipeline.models.ab_test import (
    Lift,
    SampleRatio,
    SequentialTest,
    conversion_lift,
    mean_lift,
    sample_ratio_mismatch,
    sequential_test,
)
from analytics_pipeline.recommendations.experiment import ARMS
from analytics_pipeline.recommendations.feedback_store import (
    EVENT_TYPES,
    FeedbackStore,
    Outcome,
)
from analytics_pipeline.settings.recommendations import RecommendationSettings

IntArray = npt.NDArray[np.int_]
CONVERSION_SOURCE = "purchase feedback events at or after the customer's first exposure"


@dataclass(frozen=True)
class ArmFigures:
    """One arm: exposures (every showing), exposed customers, those who bought since
    their first exposure and their revenue, and feedback events by type (``events``;
    click-through = clicks / impressions)."""

    arm: str
    exposures: int
    exposed_customers: int
    converted_customers: int
    conversion_rate: float | None
    revenue: float
    revenue_per_exposed_customer: float | None
    events: dict[str, int]
    click_through_rate: float | None


@dataclass(frozen=True)
class Performance:
    """Everything ``GET /api/recommendations/v2/performance`` reports.

    ``days`` counts the days with exposures or purchases: the sequential test looks once
    at the end of each. ``conversion`` and ``revenue_per_exposed_customer`` compare v2 with
    v1 (``null`` until each arm has two exposed customers); their p-values hold for one
    look, the sequential test's for any number.
    """

    experiment: str
    v2_share: float
    alpha: float
    currency: str
    conversion_source: str
    days: int
    arms: list[ArmFigures]
    conversion: Lift | None
    revenue_per_exposed_customer: Lift | None
    sample_ratio: SampleRatio
    sequential: SequentialTest


@dataclass(frozen=True)
class _Customers:
    """One entry per exposed customer; days are indices into the experiment's days."""

    treated: npt.NDArray[np.bool_]
    first_day: IntArray
    converted_day: IntArray  # -1: not converted
    revenue: npt.NDArray[np.float64]
    days: int


def _customers(rows: Sequence[Outcome]) -> _Customers:
    days = sorted({r.exposed_day for r in rows}
                  | {r.converted_day for r in rows if r.converted_day})
    index = {day: i for i, day in enumerate(days)}
    return _Customers(
        treated=np.array([r.arm == "v2" for r in rows], dtype=bool),
        first_day=np.array([index[r.exposed_day] for r in rows], dtype=int),
        converted_day=np.array([index[r.converted_day] if r.converted_day else -1
                                for r in rows], dtype=int),
        revenue=np.array([r.revenue for r in rows], dtype=float),
        days=len(days),
    )


def _daily_counts(customers: _Customers) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Cumulative (converted, exposed) for control and treatment at the end of each day."""
    def running(days: IntArray) -> IntArray:
        return np.cumsum(np.bincount(days, minlength=customers.days))

    converted = customers.converted_day >= 0
    c, t = ~customers.treated, customers.treated
    return (running(customers.converted_day[converted & c]), running(customers.first_day[c]),
            running(customers.converted_day[converted & t]), running(customers.first_day[t]))


def performance(store: FeedbackStore, settings: RecommendationSettings,
                currency: str = "USD") -> Performance:
    """The readout of ``settings.experiment_name`` from what ``store`` holds now."""
    name = settings.experiment_name
    customers = _customers(store.outcomes(name))
    exposures = store.exposure_counts(name)
    events = store.event_counts(name)
    arms = [_arm(arm, customers, exposures.get(arm, 0),
                 {kind: events.get((arm, kind), 0) for kind in EVENT_TYPES}) for arm in ARMS]
    k_c, n_c, k_t, n_t = _daily_counts(customers)
    comparable = all(a.exposed_customers >= 2 for a in arms)
    return Performance(
        experiment=name, v2_share=settings.v2_share, alpha=settings.alpha, currency=currency,
        conversion_source=CONVERSION_SOURCE, days=customers.days, arms=arms,
        conversion=conversion_lift(arms[0].converted_customers, arms[0].exposed_customers,
                                   arms[1].converted_customers, arms[1].exposed_customers,
                                   settings.alpha) if comparable else None,
        revenue_per_exposed_customer=mean_lift(
            customers.revenue[~customers.treated], customers.revenue[customers.treated],
            settings.alpha) if comparable else None,
        sample_ratio=sample_ratio_mismatch(
            [a.exposed_customers for a in arms], [1 - settings.v2_share, settings.v2_share]),
        sequential=sequential_test(k_c.tolist(), n_c.tolist(), k_t.tolist(), n_t.tolist(),
                                   settings.mixture_sd, settings.alpha),
    )


def _arm(arm: str, customers: _Customers, exposures: int, events: dict[str, int]) -> ArmFigures:
    mine = customers.treated == (arm == "v2")
    exposed = int(mine.sum())
    converted = int((customers.converted_day[mine] >= 0).sum())
    revenue = float(customers.revenue[mine].sum())
    return ArmFigures(
        arm=arm, exposures=exposures, exposed_customers=exposed, converted_customers=converted,
        conversion_rate=converted / exposed if exposed else None, revenue=round(revenue, 2),
        revenue_per_exposed_customer=round(revenue / exposed, 4) if exposed else None,
        events=events,
        click_through_rate=(events["click"] / events["impression"]
                            if events["impression"] else None),
    )
