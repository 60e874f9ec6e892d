"""``/api/recommendations/v2``: feedback on shown recommendations and the A/B readout.

Feedback is stored idempotently by ``event_id`` with the arm the experiment assigns the
customer; the performance readout turns exposures and purchase feedback into per-arm
figures, lifts, a sample-ratio check and an always-valid sequential test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from analytics_pipeline.api.auth import require
from analytics_pipeline.api.experiment_dependency import experiment
from analytics_pipeline.api.state import ServiceState, service
from analytics_pipeline.recommendations.experiment import Arm, Experiment
from analytics_pipeline.recommendations.feedback_store import EventType, FeedbackEvent
from analytics_pipeline.recommendations.performance import Performance, performance

router = APIRouter(prefix="/api/recommendations/v2", tags=["recommendations"])
State = Annotated[ServiceState, Depends(service)]
ExperimentDep = Annotated[Experiment, Depends(experiment)]
EARLIEST, LATEST = 1900, 9000  # far from datetime's limits, which a time-zone shift could cross

Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")]


class FeedbackIn(BaseModel):
    """What a shopper did with a recommended product."""

    model_config = ConfigDict(extra="forbid")

    event_id: Id = Field(description="client-made unique id; a resend with it counts once")
    customer_id: Id
    product_id: Id
    event_type: EventType
    occurred_at: datetime = Field(description="ISO-8601; without offset = store time zone")
    value: Decimal = Field(default=Decimal(0), ge=0, max_digits=14, decimal_places=4,
                           description="revenue of a purchase (store currency); 0 otherwise")

    @field_validator("occurred_at")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        if not EARLIEST <= value.year <= LATEST:
            raise ValueError(f"occurred_at must lie between the years {EARLIEST} and {LATEST}")
        return value


class FeedbackAccepted(BaseModel):
    event_id: str
    arm: Arm = Field(description="the customer's experiment arm the event is credited to")
    result: Literal["created", "duplicate"] = Field(
        description="duplicate: this event_id was already received and is counted once")


@router.post("/feedback", response_model=FeedbackAccepted, status_code=status.HTTP_201_CREATED,
             dependencies=[Depends(require("write"))],
             responses={200: {"model": FeedbackAccepted, "description": "already received"}})
async def post_feedback(event: FeedbackIn, state: State, exp: ExperimentDep,
                        response: Response) -> FeedbackAccepted:
    """Record an impression, click, add-to-cart or purchase; idempotent by ``event_id``."""
    zone = ZoneInfo(state.settings.store_timezone)
    at = event.occurred_at if event.occurred_at.tzinfo else event.occurred_at.replace(tzinfo=zone)
    arm = exp.arm_for(event.customer_id)
    created = await run_in_threadpool(exp.store.add_feedback, exp.name, FeedbackEvent(
        event_id=event.event_id, customer_id=event.customer_id, arm=arm,
        event_type=event.event_type, product_id=event.product_id,
        # The exposures' format, so purchases compare with first exposures as text.
        occurred_at=at.astimezone(UTC).isoformat(timespec="milliseconds"),
        value=str(event.value),
    ))
    if not created:
        response.status_code = status.HTTP_200_OK
    return FeedbackAccepted(event_id=event.event_id, arm=arm,
                            result="created" if created else "duplicate")


@router.get("/performance", response_model=Performance,
            dependencies=[Depends(require("read"))])
async def get_performance(state: State, exp: ExperimentDep) -> Performance:
    """The A/B readout of v2 against v1 (conversions: purchase feedback after exposure)."""
    await run_in_threadpool(exp.flush)  # this process's buffered exposures count too
    return await run_in_threadpool(performance, exp.store, state.settings.recommendations,
                                   state.settings.currency)
