"""``/api/revenue/trends`` and ``/api/revenue/products/top``: windows of store-local days
ending at the as_of day, summed from the daily tables so that any as_of in the history is
exact (the batch's own 30/90-day top products hold its as_of only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from analytics_pipeline.api.auth import require
from analytics_pipeline.api.panels import (
    AsOf,
    Snapshot,
    State,
    count,
    days_ending,
    money,
    money_or_none,
    number_or_none,
    open_snapshot,
    percent,
    product_names,
)
from analytics_pipeline.api.state import ServiceState, cached_json

router = APIRouter(prefix="/api/revenue", tags=["revenue"], dependencies=[Depends(require("read"))])
TrendWindow = Literal["7d", "30d", "90d"]
ProductWindow = Literal["30d", "90d"]
RankBy = Literal["margin", "margin_pct", "revenue"]
DAYS = {"7d": 7, "30d": 30, "90d": 90}
MARGIN = "revenue - cost over the lines with a known cost, `currency`; null when none is known"


class TrendDay(BaseModel):
    date: date
    revenue: Decimal = Field(description="net revenue (returns deducted), `currency`")
    orders: int = Field(description="orders with at least one non-return line")
    units: int = Field(description="units sold, net of returns")
    gross_margin: Decimal | None = Field(description=MARGIN)
    target_revenue: Decimal | None = Field(description="the day's target, `currency`")


class WindowTotals(BaseModel):
    revenue: Decimal = Field(description="net revenue (returns deducted), `currency`")
    orders: int
    units: int = Field(description="net of returns")
    gross_margin: Decimal | None = Field(description=MARGIN)
    gross_margin_pct: float | None = Field(
        description="gross margin / revenue of the lines with a known cost, percent")
    average_order_value: Decimal | None = Field(description="revenue / orders, `currency`")


class ChannelFigures(BaseModel):
    channel: str = Field(description="'unknown' when the order named none")
    revenue: Decimal = Field(description="`currency`")
    orders: int


class CategoryFigures(BaseModel):
    category: str
    revenue: Decimal = Field(description="`currency`")
    gross_margin: Decimal | None = Field(description=MARGIN)


class RevenueTrends(BaseModel):
    as_of: datetime
    data_as_of: datetime = Field(
        description="as_of of the batch run that computed the tables: later days count 0")
    currency: str
    window: TrendWindow
    days: list[TrendDay] = Field(description="every day of the window, oldest first")
    totals: WindowTotals
    previous_totals: WindowTotals = Field(description="the window of equal length before")
    revenue_change_pct: float | None = Field(
        description="revenue vs the previous window, percent; null when that was 0")
    by_channel: list[ChannelFigures] = Field(description="highest revenue first")
    by_category: list[CategoryFigures] = Field(description="highest revenue first")


class TopProduct(BaseModel):
    rank: int = Field(description="1 = best by `by`; ties share a rank")
    product_id: str
    name: str | None = Field(description="null when the published tables do not name it")
    category: str
    revenue: Decimal = Field(description="net revenue (returns deducted), `currency`")
    units: int = Field(description="net of returns")
    gross_margin: Decimal | None = Field(description=MARGIN)
    margin_pct: float | None = Field(
        description="gross margin / revenue of the lines with a known cost, percent")


class TopProducts(BaseModel):
    as_of: datetime
    data_as_of: datetime
    currency: str
    by: RankBy
    window: ProductWindow
    products: list[TopProduct] = Field(
        description="best first; products whose `by` figure is unknown are left out")


@router.get("/trends", response_model=RevenueTrends)
async def trends(
    request: Request, state: State, as_of: AsOf = None,
    window: Annotated[TrendWindow, Query(description="days ending at the as_of day")] = "30d",
) -> Response:
    """Daily revenue, orders, units and margin over the window, its totals vs the window
    before, and the split by channel and category (all channels, store-local days)."""
    moment = state.as_of(as_of)
    return await cached_json(
        state, request, lambda: revenue_trends(state, moment, window).model_dump_json().encode()
    )


@router.get("/products/top", response_model=TopProducts)
async def top_products(
    request: Request, state: State, as_of: AsOf = None,
    limit: Annotated[int, Query(ge=1, le=100, description="how many products")] = 10,
    by: Annotated[RankBy, Query(description="gross margin, margin percent or revenue")
                  ] = "margin",
    window: Annotated[ProductWindow, Query(description="days ending at the as_of day")] = "30d",
) -> Response:
    """The best products of the window by ``by``, all channels, returns deducted."""
    moment = state.as_of(as_of)
    return await cached_json(state, request, lambda: best_products(
        state, moment, by, window, limit).model_dump_json().encode())


@dataclass
class _Sums:
    revenue: Decimal = Decimal(0)
    orders: int = 0
    units: int = 0
    margin: Decimal | None = None
    revenue_with_cost: Decimal = Decimal(0)

    def add(self, row: tuple[object, ...]) -> None:
        _, revenue, orders, units, margin, with_cost = row
        self.revenue += Decimal(str(revenue))
        self.orders += count(orders)
        self.units += count(units)
        if margin is not None:
            self.margin = (self.margin or Decimal(0)) + Decimal(str(margin))
        self.revenue_with_cost += Decimal(str(with_cost))

    def totals(self) -> WindowTotals:
        return WindowTotals(
            revenue=money(self.revenue), orders=self.orders, units=self.units,
            gross_margin=money_or_none(self.margin),
            gross_margin_pct=percent(self.margin, self.revenue_with_cost),
            average_order_value=money(self.revenue / self.orders) if self.orders else None,
        )


def revenue_trends(state: ServiceState, moment: datetime, size: TrendWindow) -> RevenueTrends:
    """The figures behind ``/trends`` (blocking: run in a thread)."""
    before, last = days_ending(moment, state.zone, 2 * DAYS[size])
    first = before + timedelta(days=DAYS[size])
    span = {"first": first, "last": last}
    with open_snapshot(state) as snap:
        snap.require("revenue.daily_sales", "revenue.product_daily_sales")
        # Both windows in one read; days without a row (outside the history) count 0.
        daily = {row[0]: row for row in snap.fetch(
            """SELECT sale_date, SUM(revenue), SUM(orders), SUM(units), SUM(gross_margin),
                      SUM(revenue_with_cost)
               FROM revenue.daily_sales WHERE sale_date BETWEEN $first AND $last
               GROUP BY sale_date""", {"first": before, "last": last})}
        targets = _targets(snap, first, last)
        channels = snap.fetch(
            """SELECT channel, SUM(revenue), SUM(orders) FROM revenue.daily_sales
               WHERE sale_date BETWEEN $first AND $last GROUP BY channel
               ORDER BY 2 DESC, 1""", span)
        categories = snap.fetch(
            """SELECT category, SUM(revenue), SUM(gross_margin) FROM revenue.product_daily_sales
               WHERE sale_date BETWEEN $first AND $last GROUP BY category
               ORDER BY 2 DESC, 1""", span)
        data_as_of = snap.data_as_of()
    current, previous = _Sums(), _Sums()
    days: list[TrendDay] = []
    for offset in range(2 * DAYS[size]):
        day = before + timedelta(days=offset)
        row = daily.get(day, (day, 0, 0, 0, 0, 0))
        (previous if day < first else current).add(row)
        if day >= first:
            days.append(TrendDay(date=day, revenue=money(row[1]), orders=count(row[2]),
                                 units=count(row[3]), gross_margin=money_or_none(row[4]),
                                 target_revenue=targets.get(day)))
    change = percent(current.revenue - previous.revenue, previous.revenue)
    return RevenueTrends(
        as_of=moment, data_as_of=data_as_of, currency=state.settings.currency, window=size,
        days=days, totals=current.totals(), previous_totals=previous.totals(),
        revenue_change_pct=change,
        by_channel=[ChannelFigures(channel=str(c), revenue=money(r), orders=count(o))
                    for c, r, o in channels],
        by_category=[CategoryFigures(category=str(c), revenue=money(r),
                                     gross_margin=money_or_none(m)) for c, r, m in categories],
    )


def _targets(snap: Snapshot, first: date, last: date) -> dict[object, Decimal]:
    # Targets are optional, as for /current: a run may compute none.
    if not snap.has_table("revenue.daily_targets"):
        return {}
    rows = snap.fetch(
        """SELECT day, target_revenue FROM revenue.daily_targets
           WHERE day BETWEEN $first AND $last AND target_revenue IS NOT NULL""",
        {"first": first, "last": last})
    return {day: money(target) for day, target in rows}


# The ranking mirrors sql/revenue/top_products.sql for any window: only the key of `by` is
# not NULL, so one ORDER BY serves all three, and products without that figure get no rank.
_TOP = """
WITH totals AS (
  SELECT product_id, MIN(category) AS category, SUM(revenue) AS revenue, SUM(units) AS units,
         SUM(gross_margin) AS gross_margin, SUM(revenue_with_cost) AS revenue_with_cost
  FROM revenue.product_daily_sales
  WHERE sale_date BETWEEN $first AND $last
  GROUP BY product_id
), measured AS (
  SELECT *, CASE WHEN revenue_with_cost > 0
    THEN 100 * CAST(gross_margin AS DOUBLE) / CAST(revenue_with_cost AS DOUBLE) END AS margin_pct
  FROM totals
)
SELECT
  RANK() OVER (ORDER BY
    CASE WHEN $by = 'margin' THEN gross_margin END DESC,
    CASE WHEN $by = 'margin_pct' THEN margin_pct END DESC,
    CASE WHEN $by = 'revenue' THEN revenue END DESC) AS rank,
  product_id, category, revenue, units, gross_margin, margin_pct
FROM measured
WHERE CASE $by WHEN 'margin' THEN gross_margin IS NOT NULL
               WHEN 'margin_pct' THEN margin_pct IS NOT NULL ELSE TRUE END
ORDER BY rank, product_id
LIMIT $limit
"""


def best_products(
    state: ServiceState, moment: datetime, by: RankBy, size: ProductWindow, limit: int
) -> TopProducts:
    """The figures behind ``/products/top`` (blocking: run in a thread)."""
    first, last = days_ending(moment, state.zone, DAYS[size])
    with open_snapshot(state) as snap:
        snap.require("revenue.product_daily_sales")
        rows = snap.fetch(_TOP, {"first": first, "last": last, "by": by, "limit": limit})
        names = product_names(snap, [str(row[1]) for row in rows])
        data_as_of = snap.data_as_of()
    return TopProducts(
        as_of=moment, data_as_of=data_as_of, currency=state.settings.currency, by=by,
        window=size,
        products=[TopProduct(
            rank=count(rank), product_id=str(pid), name=names.get(str(pid)),
            category=str(category), revenue=money(revenue), units=count(units),
            gross_margin=money_or_none(margin),
            margin_pct=number_or_none(pct),
        ) for rank, pid, category, revenue, units, margin, pct in rows],
    )
