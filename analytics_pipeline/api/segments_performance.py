"""The figures of ``GET /api/segments/performance``: per month end each primary segment's
size and its next month's revenue, orders and retention, and the migrations between
segments, from ``segments.segment_performance`` and ``segments.segment_migration``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from analytics_pipeline.api.panels import (
    Snapshot,
    count,
    count_or_none,
    money_or_none,
    share_percent,
)

PERFORMANCE = """SELECT month_end, segment, customers, revenue, orders, retention
                 FROM segments.segment_performance ORDER BY month_end, segment"""
MIGRATION = """SELECT month_end, from_segment, to_segment, customers
               FROM segments.segment_migration ORDER BY month_end, from_segment, to_segment"""


class SegmentMonth(BaseModel):
    segment: str = Field(description="primary segment at the month end (history rules)")
    customers: int = Field(description="customers in the segment at the month end")
    revenue: Decimal | None = Field(
        description="their net revenue in the following month (to as_of), `currency`; "
        "null when no day has followed yet")
    orders: int | None = Field(description="their purchase orders in the following month")
    retention_pct: float | None = Field(
        description="percent of them who bought again in the following month")


class PerformanceMonth(BaseModel):
    month_end: date
    segments: list[SegmentMonth]


class Migration(BaseModel):
    month_end: date = Field(description="the later of two consecutive month ends")
    from_segment: str = Field(description="the customers' segment at the month end before")
    to_segment: str = Field(description="their segment at month_end")
    customers: int


class SegmentPerformance(BaseModel):
    as_of: datetime
    data_as_of: datetime = Field(description="as_of of the batch run the figures are from")
    currency: str
    months: list[PerformanceMonth] = Field(description="the last 12 month ends, oldest first")
    migration: list[Migration] = Field(
        description="customers per move between consecutive month ends (stays included)")


def segment_performance(snap: Snapshot, moment: datetime, currency: str) -> SegmentPerformance:
    """Read both tables through ``snap`` (blocking: run in a thread)."""
    snap.require("segments.segment_performance", "segments.segment_migration")
    data_as_of = snap.batch_as_of(moment)
    months: dict[date, list[SegmentMonth]] = {}
    for month_end, segment, customers, revenue, orders, retention in snap.fetch(PERFORMANCE):
        months.setdefault(_day(month_end), []).append(SegmentMonth(
            segment=str(segment), customers=count(customers), revenue=money_or_none(revenue),
            orders=count_or_none(orders), retention_pct=share_percent(retention)))
    return SegmentPerformance(
        as_of=moment, data_as_of=data_as_of, currency=currency,
        months=[PerformanceMonth(month_end=day, segments=rows) for day, rows in months.items()],
        migration=[Migration(month_end=_day(month_end), from_segment=str(source),
                             to_segment=str(target), customers=count(n))
                   for month_end, source, target, n in snap.fetch(MIGRATION)],
    )


def _day(value: object) -> date:
    # month_end is a DATE column that is never NULL; the check only tells mypy so.
    if not isinstance(value, date):
        raise TypeError(f"month_end {value!r} is not a date")
    return value
