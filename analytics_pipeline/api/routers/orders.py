"""The POS webhook: a sale reaches the dashboard without waiting for a batch run."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field, field_validator, model_validator
from starlette.concurrency import run_in_threadpool

from analytics_pipeline.api.auth import require
from analytics_pipeline.api.state import ServiceState, service
from analytics_pipeline.serving.live_orders import LiveLine, LiveOrder

router = APIRouter(prefix="/api/orders", tags=["orders"])
State = Annotated[ServiceState, Depends(service)]


class OrderLineIn(BaseModel):
    """One line, with the data contract's rules."""

    line_number: int = Field(ge=1)
    product_id: str = Field(min_length=1, max_length=200)
    quantity: int = Field(description="units; negative = return")
    unit_price: Decimal = Field(ge=0, max_digits=14, decimal_places=4,
                                description="net price per unit, store currency")
    discount: Decimal = Field(default=Decimal(0), max_digits=14, decimal_places=4)
    unit_cost: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=4)

    @field_validator("quantity")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("quantity must not be 0")
        return value


class OrderIn(BaseModel):
    """An order with its lines, as the data contract defines them."""

    order_id: str = Field(min_length=1, max_length=200)
    customer_id: str | None = Field(default=None, max_length=200,
                                    description="empty = walk-in")
    ordered_at: datetime = Field(description="ISO-8601; without offset = store time zone")
    channel: str | None = Field(default=None, max_length=50)
    status: Literal["completed", "refunded", "void"] = "completed"
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _unique_lines(self) -> OrderIn:
        numbers = [line.line_number for line in self.lines]
        if len(numbers) != len(set(numbers)):
            raise ValueError("line_number must be unique within an order")
        return self


class OrderAccepted(BaseModel):
    order_id: str
    result: Literal["created", "duplicate"] = Field(
        description="duplicate: this order_id was already received; nothing changed")


@router.post("", response_model=OrderAccepted, status_code=status.HTTP_201_CREATED,
             dependencies=[Depends(require("write"))],
             responses={200: {"model": OrderAccepted, "description": "already received"}})
async def post_order(order: OrderIn, state: State, response: Response) -> OrderAccepted:
    """Record a sale; idempotent by ``order_id`` (a resend changes nothing)."""
    zone = ZoneInfo(state.settings.store_timezone)
    at = order.ordered_at if order.ordered_at.tzinfo else order.ordered_at.replace(tzinfo=zone)
    created = await run_in_threadpool(state.live.add, LiveOrder(
        order_id=order.order_id, customer_id=order.customer_id or None,
        ordered_at=at.astimezone(UTC).isoformat(), channel=order.channel, status=order.status,
        lines=[LiveLine(ln.line_number, ln.product_id, ln.quantity, str(ln.unit_price),
                        str(ln.discount), None if ln.unit_cost is None else str(ln.unit_cost))
               for ln in order.lines],
    ))
    state.saw_live_order()
    state.metrics.order_received()
    state.metrics.live_orders.labels("created" if created else "duplicate").inc()
    state.metrics.live_lag.observe(max(0.0, (datetime.now(UTC) - at).total_seconds()))
    if not created:
        response.status_code = status.HTTP_200_OK
    return OrderAccepted(order_id=order.order_id, result="created" if created else "duplicate")
