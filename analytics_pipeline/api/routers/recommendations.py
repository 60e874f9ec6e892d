"""``/api/recommendations/v2/{customer_id}``: a customer's recommendations and why.

The list comes from the customer's experiment arm (v1 or v2), or from the arm a caller
with the write scope pins with ``?variant=`` (not logged as an exposure). Answers are
cached per customer, arm, limit and time-of-week bucket, so the exposure is logged on
every request, cached or not. Unknown customers get the shop's best-sellers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from analytics_pipeline.api.auth import require
from analytics_pipeline.api.experiment_dependency import experiment
from analytics_pipeline.api.panels import Snapshot, State, TableMissingError, open_snapshot
from analytics_pipeline.api.state import JSON, ServiceState
from analytics_pipeline.clock import AsOfError
from analytics_pipeline.recommendations import explain as why
from analytics_pipeline.recommendations.experiment import Arm, Experiment
from analytics_pipeline.recommendations.serving import (
    Moment,
    Ranked,
    Source,
    missing_tables,
    v1_list,
    v2_list,
)
from analytics_pipeline.serving.snapshot import SnapshotMissingError

router = APIRouter(prefix="/api/recommendations/v2", tags=["recommendations"],
                   dependencies=[Depends(require("read"))])
CustomerId = Annotated[str, Path(min_length=1, max_length=200)]
Limit = Annotated[int, Query(ge=1, le=30, description="how many products")]
ContextTime = Annotated[str | None, Query(
    description="when the list is shown (ISO timestamp; default now): picks the "
                "time-of-week pattern")]
Variant = Annotated[Arm | None, Query(
    description="pin the arm (needs the write scope; not logged as an exposure)")]
ExperimentDep = Annotated[Experiment, Depends(experiment)]
T = TypeVar("T")
# Snapshots known to hold every table the endpoints read (a published file never changes).
_COMPLETE_SNAPSHOTS: set[str] = set()


class Recommendation(BaseModel):
    product_id: str
    name: str | None
    category: str | None
    rank: int = Field(ge=1)
    source: Source = Field(description="v1, v2, or popular (cold start / top-up)")
    score: float = Field(description="v2: log-odds; v1: summed item similarity; "
                                     "popular: recent buyers")
    confidence: float | None = Field(ge=0, le=1, description="calibrated chance of a purchase "
                                     "within 30 days (v2, popular); none for v1")


class RecommendationList(BaseModel):
    customer_id: str
    arm: Arm
    pinned: bool = Field(description="arm set by ?variant= (not logged as an exposure)")
    day_type: str
    hours: str = Field(description="the store-time 4-hour window the list is ranked for")
    data_as_of: datetime
    items: list[Recommendation]


class SignalPart(BaseModel):
    signal: str
    value: float = Field(description="the signal's raw value for this customer and product")
    contribution: float = Field(description="its share of the score, in log-odds")
    sentence: str


class ExplainedItem(BaseModel):
    product_id: str
    name: str | None
    category: str | None
    rank: int = Field(ge=1)
    confidence: float | None = Field(ge=0, le=1)
    summary: str
    signals: list[SignalPart]


class Explanation(BaseModel):
    customer_id: str
    cold_start: bool = Field(description="no v2 list for this customer: best-sellers shown")
    day_type: str
    hours: str
    data_as_of: datetime
    items: list[ExplainedItem]


@router.get("/{customer_id}", response_model=RecommendationList)
async def recommendations_for(
    customer_id: CustomerId, request: Request, state: State, exp: ExperimentDep,
    limit: Limit = 10, context_time: ContextTime = None, variant: Variant = None,
) -> Response:
    """The customer's recommendations, from their A/B arm, ranked for ``context_time``."""
    if variant is not None:
        await require("write")(request)
    arm: Arm = variant or exp.arm_for(customer_id)
    moment = _moment(state, context_time)
    state.reader.refresh()  # key on the newest published snapshot
    key = (f"rp:{state.version()}:recs:{arm}:{variant is not None}:{limit}:"
           f"{moment.day_type}:{moment.daypart}:{customer_id}")
    body = await state.cache.get(key)
    state.metrics.cache.labels("miss" if body is None else "hit").inc()
    if body is None:
        answer = await run_in_threadpool(
            _guarded, lambda: _list(state, customer_id, arm, variant is not None, limit, moment))
        body = answer.model_dump_json().encode()
        await state.cache.set(key, body)
    if variant is None:
        shown = [str(item["product_id"]) for item in json.loads(body)["items"]]
        exp.log_exposure(customer_id, arm, shown)
    return Response(body, media_type=JSON)


@router.get("/{customer_id}/explain", response_model=Explanation)
async def explain(
    customer_id: CustomerId, state: State, limit: Limit = 10, context_time: ContextTime = None,
) -> Explanation:
    """Each v2 recommendation with every signal's contribution, in numbers and words."""
    moment = _moment(state, context_time)
    return await run_in_threadpool(
        _guarded, lambda: _explanation(state, customer_id, limit, moment))


def _moment(state: ServiceState, context_time: str | None) -> Moment:
    try:
        return Moment.of(state.as_of(context_time), state.zone)
    except (AsOfError, OverflowError) as err:  # overflow: an instant at the calendar's edge
        raise HTTPException(422, detail=[{
            "loc": ["query", "context_time"], "msg": str(err), "type": "value_error"}]) from err


def _guarded(build: Callable[[], T]) -> T:
    """Nothing published with recommendation tables yet is a state to fix, not a crash."""
    try:
        return build()
    except SnapshotMissingError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(err)) from err


def _check_tables(snap: Snapshot, state: ServiceState) -> None:
    """Fail with a 409 if the snapshot lacks a table; checked once per published snapshot,
    as a catalogue query would cost every request as much as the answer itself."""
    published = str(state.reader.path)
    if published in _COMPLETE_SNAPSHOTS:
        return
    missing = missing_tables(snap)
    if missing:
        raise TableMissingError(
            f"the published snapshot has no table {missing[0]}: run `analytics-pipeline "
            "materialize` with this version to publish recommendations")
    _COMPLETE_SNAPSHOTS.add(published)


def _ranked(snap: Snapshot, state: ServiceState, customer_id: str, arm: Arm, limit: int,
            moment: Moment, with_signals: bool = False) -> list[Ranked]:
    _check_tables(snap, state)
    return (v2_list(snap, customer_id, moment, limit, with_signals) if arm == "v2"
            else v1_list(snap, customer_id, limit))


def _list(state: ServiceState, customer_id: str, arm: Arm, pinned: bool, limit: int,
          moment: Moment) -> RecommendationList:
    with open_snapshot(state) as snap:
        ranked = _ranked(snap, state, customer_id, arm, limit, moment)
        return RecommendationList(
            customer_id=customer_id, arm=arm, pinned=pinned, day_type=moment.day_type,
            hours=moment.hours, data_as_of=snap.data_as_of(),
            items=[Recommendation(
                product_id=item.product_id, name=item.name,
                category=item.category, rank=rank, source=item.source, score=item.score,
                confidence=item.confidence) for rank, item in enumerate(ranked, 1)],
        )


def _explanation(state: ServiceState, customer_id: str, limit: int,
                 moment: Moment) -> Explanation:
    with open_snapshot(state) as snap:
        ranked = _ranked(snap, state, customer_id, "v2", limit, moment, with_signals=True)
        items = [_explained(item, rank, moment) for rank, item in enumerate(ranked, 1)]
        return Explanation(
            customer_id=customer_id, cold_start=all(i.source != "v2" for i in ranked),
            day_type=moment.day_type, hours=moment.hours, data_as_of=snap.data_as_of(),
            items=items)


def _explained(item: Ranked, rank: int, moment: Moment) -> ExplainedItem:
    if item.source != "v2":
        parts: list[SignalPart] = []
        text = why.cold_start_sentence(item)
    else:
        found = why.signals(item, moment)
        parts = [SignalPart(signal=s.signal, value=s.value, contribution=s.contribution,
                            sentence=s.sentence) for s in found]
        text = why.summary(found, item.confidence)
    return ExplainedItem(product_id=item.product_id, name=item.name, category=item.category,
                         rank=rank, confidence=item.confidence, summary=text, signals=parts)
