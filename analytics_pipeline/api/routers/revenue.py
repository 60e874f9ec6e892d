"""``/api/revenue``: how the business is doing, from the published tables."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from analytics_pipeline.api.auth import require
from analytics_pipeline.api.live_sales import live_totals
from analytics_pipeline.api.state import ServiceState, cached_json, service

router = APIRouter(prefix="/api/revenue", tags=["revenue"], dependencies=[Depends(require("read"))])
State = Annotated[ServiceState, Depends(service)]
AsOf = Annotated[str | None, Query(description="analysis time, ISO date or timestamp; default now")]


class DayFigures(BaseModel):
    date: date
    revenue: Decimal = Field(description="net revenue in `currency`, returns deducted")
    orders: int
    units: int
    average_order_value: Decimal | None = Field(description="revenue / orders, `currency`")
    gross_margin: Decimal | None = Field(description="revenue - cost, `currency`")
    gross_margin_pct: float | None = Field(description="gross margin / revenue, percent")


class TargetFigures(BaseModel):
    revenue: Decimal | None = Field(description="the day's target in `currency`")
    source: str = Field(description="where the target comes from")
    progress_pct: float | None = Field(description="revenue so far / target, percent")


class Comparison(BaseModel):
    date: date
    revenue_same_time: Decimal = Field(description="revenue by the same time of day, `currency`")
    change_pct: float | None = Field(description="today vs then, percent")


class LiveFigures(BaseModel):
    orders: int = Field(description="orders received live since the last batch run")
    revenue: Decimal = Field(description="their revenue, `currency`")


class RevenueCurrent(BaseModel):
    as_of: datetime
    currency: str
    today: DayFigures
    target: TargetFigures
    same_weekday_last_week: Comparison
    live: LiveFigures
    published_at: datetime | None


@router.get("/current", response_model=RevenueCurrent)
async def current(request: Request, state: State, as_of: AsOf = None) -> Response:
    """Today so far (to ``as_of``) vs the day's target and vs the same weekday last week."""
    moment = state.as_of(as_of)
    return await cached_json(
        state, request, lambda: revenue_current(state, moment).model_dump_json().encode()
    )


def revenue_current(state: ServiceState, moment: datetime) -> RevenueCurrent:
    """The figures behind ``/current`` and the live feed (blocking: run in a thread)."""
    day = moment.astimezone(state.zone).date()
    week_ago = moment - timedelta(days=7)
    (row,) = state.reader.fetch(
        """SELECT
             COALESCE(SUM(revenue) FILTER (WHERE sale_date = $day AND ordered_at <= $at), 0),
             COUNT(*) FILTER (WHERE sale_date = $day AND ordered_at <= $at AND NOT returns_only),
             COALESCE(SUM(units) FILTER (WHERE sale_date = $day AND ordered_at <= $at), 0),
             SUM(cost) FILTER (WHERE sale_date = $day AND ordered_at <= $at),
             COALESCE(SUM(revenue) FILTER (WHERE sale_date = $prev AND ordered_at <= $prev_at), 0)
           FROM revenue.recent_orders""",
        {"day": day, "at": moment, "prev": day - timedelta(days=7), "prev_at": week_ago},
    )
    watermark, published_at = state.reader.fetch(
        "SELECT live_watermark, published_at FROM main.manifest")[0]
    live = live_totals(state.live, int(str(watermark)), day, moment, state.settings.store_timezone)
    revenue = Decimal(str(row[0])) + live.revenue
    orders = int(str(row[1])) + live.orders
    cost = None if row[3] is None else Decimal(str(row[3])) + live.cost
    margin = None if cost is None else revenue - cost
    target, source = _target(state, day)
    last_week = Decimal(str(row[4]))
    return RevenueCurrent(
        as_of=moment,
        currency=state.settings.currency,
        today=DayFigures(
            date=day, revenue=revenue, orders=orders, units=int(str(row[2])) + live.units,
            average_order_value=_ratio(revenue, orders),
            gross_margin=margin, gross_margin_pct=_pct(margin, revenue),
        ),
        target=TargetFigures(revenue=target, source=source, progress_pct=_pct(revenue, target)),
        same_weekday_last_week=Comparison(
            date=day - timedelta(days=7), revenue_same_time=last_week,
            change_pct=None if not last_week else round(float(revenue / last_week - 1) * 100, 2),
        ),
        live=LiveFigures(orders=live.orders, revenue=live.revenue),
        published_at=published_at if isinstance(published_at, datetime) else None,
    )


def _target(state: ServiceState, day: date) -> tuple[Decimal | None, str]:
    if not state.reader.has_table("revenue", "daily_targets"):
        return None, "no targets computed"
    rows = state.reader.fetch(
        "SELECT target_revenue, target_source FROM revenue.daily_targets WHERE day = $day",
        {"day": day},
    )
    if not rows or rows[0][0] is None:
        return None, str(rows[0][1]) if rows else "no target for this day"
    return Decimal(str(rows[0][0])), str(rows[0][1])


def _ratio(amount: Decimal, count: int) -> Decimal | None:
    return (amount / count).quantize(Decimal("0.01")) if count else None


def _pct(part: Decimal | None, whole: Decimal | None) -> float | None:
    if part is None or not whole:
        return None
    return round(float(part / whole) * 100, 2)
