"""``/api/inventory``: stock turnover and what to reorder, as the batch run computed them.

Both tables hold the batch's as_of only (stock counts are not kept per day in the
snapshot), so an earlier as_of day is refused with a 422 rather than answered wrongly.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

from analytics_pipeline.api.auth import require
from analytics_pipeline.api.panels import (
    AsOf,
    State,
    count,
    count_or_none,
    money_or_none,
    number_or_none,
    open_snapshot,
    product_names,
)
from analytics_pipeline.api.state import ServiceState, cached_json

router = APIRouter(prefix="/api/inventory", tags=["inventory"],
                   dependencies=[Depends(require("read"))])


class CategoryTurnover(BaseModel):
    category: str
    turnover_per_year: float | None = Field(
        description="COGS of the last 90 days / average stock value, annualized (x 365/90); "
        "null without a stock value")
    days_of_supply: float | None = Field(
        description="on hand / average daily net units of the last 28 days; null when none sold")
    on_hand: int | None = Field(description="units in stock now; null when never counted")
    on_order: int | None = Field(description="units ordered, not yet received")
    average_stock_units: float | None = Field(description="average units in stock, 90 days")
    average_stock_value: Decimal | None = Field(
        description="average stock over 90 days at current unit cost, `currency`")
    cogs_90d: Decimal | None = Field(
        description="cost of goods sold in the last 90 days (returns deducted, lines with a "
        "known cost), `currency`")
    units_sold_90d: int = Field(description="net of returns")
    units_sold_28d: int = Field(description="net of returns")
    inventory_basis: str = Field(
        description="'daily counts', 'current stock' (fewer than 7 counted days) or 'mixed'")


class ProductTurnover(CategoryTurnover):
    product_id: str
    name: str | None = Field(description="null when the published tables do not name it")


class Turnover(BaseModel):
    as_of: datetime
    data_as_of: datetime = Field(description="as_of of the batch run the figures are from")
    currency: str
    categories: list[CategoryTurnover] = Field(description="fastest turnover first")
    products: list[ProductTurnover] = Field(
        description="the `limit` products with the fastest turnover, unknown turnover last")


class ReorderItem(BaseModel):
    product_id: str
    name: str | None
    category: str
    supplier: str | None
    on_hand: int
    on_order: int = Field(description="units ordered and due (overdue orders not counted on)")
    daily_units: float = Field(description="forecast daily demand over the lead time")
    days_of_supply: float | None = Field(description="on hand / daily units")
    lead_time_days: int
    forecast_units: float = Field(
        description="forecast demand over lead time + review period, units")
    safety_stock: float = Field(description="units held against forecast error")
    service_level_pct: float = Field(description="chance of no stockout the safety stock buys")
    suggested_quantity: int = Field(
        description="forecast over lead time + review + safety stock - on hand - on order, "
        "rounded up to the pack size when known")
    expected_stockout_date: date | None = Field(
        description="first day the forecast demand exceeds stock and arrivals")
    revenue_at_risk: Decimal | None = Field(
        description="revenue of the demand stock cannot cover before an order placed today "
        "arrives, `currency`")
    reason: str = Field(description="the figures, in words")


class Reorder(BaseModel):
    as_of: datetime
    data_as_of: datetime = Field(description="as_of of the batch run the figures are from")
    currency: str
    items: list[ReorderItem] = Field(
        description="earliest stockout first, then most revenue at risk")


class HistoryDay(BaseModel):
    date: date
    units: int = Field(description="units customers took that day (returns not deducted)")
    out_of_stock: bool = Field(description="the day ended with nothing on the shelf")


class ForecastDay(BaseModel):
    date: date
    mean: float = Field(description="expected units")
    lo80: float
    hi80: float
    lo95: float
    hi95: float


class ProductForecast(BaseModel):
    as_of: datetime
    data_as_of: datetime = Field(description="as_of of the batch run the forecast is from")
    product_id: str
    name: str | None
    model: str | None = Field(description="the forecasting method chosen for this series")
    history: list[HistoryDay] = Field(description="the last `history_days` days, oldest first")
    forecast: list[ForecastDay] = Field(description="daily demand ahead, 80 % and 95 % bounds")


@router.get("/forecast/{product_id}", response_model=ProductForecast,
            responses={404: {"description": "no such product in the forecast"}})
async def forecast(
    request: Request, state: State, product_id: str, as_of: AsOf = None,
    history_days: Annotated[int, Query(ge=1, le=730)] = 90,
) -> Response:
    """One product's recent daily demand and its forecast with intervals."""
    moment = state.as_of(as_of)
    return await cached_json(state, request, lambda: product_forecast(
        state, moment, product_id, history_days).model_dump_json().encode())


@router.get("/turnover", response_model=Turnover)
async def turnover(
    request: Request, state: State, as_of: AsOf = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="how many products")] = 50,
) -> Response:
    """Stock turnover and days of supply per category and product (last 90/28 days)."""
    moment = state.as_of(as_of)
    return await cached_json(
        state, request, lambda: stock_turnover(state, moment, limit).model_dump_json().encode()
    )


@router.get("/reorder", response_model=Reorder)
async def reorder(request: Request, state: State, as_of: AsOf = None) -> Response:
    """Products to reorder now, from the demand forecast: stock plus open orders fall short
    of the forecast until an order placed today arrives and covers the next review, plus
    safety stock at the configured service level."""
    moment = state.as_of(as_of)
    return await cached_json(
        state, request, lambda: reorder_list(state, moment).model_dump_json().encode()
    )


_TURNOVER = """
SELECT category, turnover_annualized, days_of_supply, on_hand, on_order, avg_inventory_units,
       avg_inventory_value, cogs_90d, units_sold_90d, units_sold_28d, inventory_basis,
       product_id
FROM inventory.turnover
WHERE level = $level
ORDER BY turnover_annualized DESC NULLS LAST, category, product_id
LIMIT $limit
"""


def stock_turnover(state: ServiceState, moment: datetime, limit: int) -> Turnover:
    """The figures behind ``/turnover`` (blocking: run in a thread)."""
    with open_snapshot(state) as snap:
        snap.require("inventory.turnover")
        data_as_of = snap.batch_as_of(moment)
        # Categories are few; all of them are listed whatever the limit.
        categories = snap.fetch(_TURNOVER, {"level": "category", "limit": None})
        products = snap.fetch(_TURNOVER, {"level": "product", "limit": limit})
        names = product_names(snap, [str(row[-1]) for row in products])
    return Turnover(
        as_of=moment, data_as_of=data_as_of, currency=state.settings.currency,
        categories=[CategoryTurnover.model_validate(_turnover_fields(row)) for row in categories],
        products=[ProductTurnover.model_validate(
            _turnover_fields(row) | {"product_id": str(row[-1]), "name": names.get(str(row[-1]))}
        ) for row in products],
    )


def _turnover_fields(row: tuple[object, ...]) -> dict[str, object]:
    (category, turnover_rate, supply, on_hand, on_order, units, value, cogs, sold_90d,
     sold_28d, basis, _) = row
    return {
        "category": str(category), "turnover_per_year": number_or_none(turnover_rate),
        "days_of_supply": number_or_none(supply, 1), "on_hand": count_or_none(on_hand),
        "on_order": count_or_none(on_order), "average_stock_units": number_or_none(units),
        "average_stock_value": money_or_none(value), "cogs_90d": money_or_none(cogs),
        "units_sold_90d": count(sold_90d), "units_sold_28d": count(sold_28d),
        "inventory_basis": str(basis),
    }


def reorder_list(state: ServiceState, moment: datetime) -> Reorder:
    """The figures behind ``/reorder`` (blocking: run in a thread)."""
    with open_snapshot(state) as snap:
        snap.require("inventory.reorder_suggestions")
        data_as_of = snap.batch_as_of(moment)
        rows = snap.fetch(
            """SELECT product_id, name, category, supplier, on_hand, on_order, daily_units,
                      days_of_supply, lead_time_days, forecast_units, safety_stock,
                      service_level, suggested_quantity, expected_stockout_date,
                      revenue_at_risk, reason
               FROM inventory.reorder_suggestions
               ORDER BY expected_stockout_date NULLS LAST, revenue_at_risk DESC NULLS LAST,
                        product_id""")
    return Reorder(as_of=moment, data_as_of=data_as_of, currency=state.settings.currency,
                   items=[_reorder_item(row) for row in rows])


def _reorder_item(row: tuple[object, ...]) -> ReorderItem:
    (product_id, name, category, supplier, on_hand, on_order, daily, supply, lead, forecast,
     safety, service, quantity, stockout, at_risk, reason) = row
    return ReorderItem(
        product_id=str(product_id), name=None if name is None else str(name),
        category=str(category), supplier=None if supplier is None else str(supplier),
        on_hand=count(on_hand), on_order=count(on_order),
        daily_units=number_or_none(daily, 3) or 0.0, days_of_supply=number_or_none(supply, 1),
        lead_time_days=count(lead), forecast_units=number_or_none(forecast, 1) or 0.0,
        safety_stock=number_or_none(safety, 1) or 0.0,
        service_level_pct=round(float(str(service)) * 100, 1),
        suggested_quantity=count(quantity),
        expected_stockout_date=stockout if isinstance(stockout, date) else None,
        revenue_at_risk=money_or_none(at_risk), reason=str(reason),
    )


def product_forecast(
    state: ServiceState, moment: datetime, product_id: str, history_days: int
) -> ProductForecast:
    """The figures behind ``/forecast/{product_id}`` (blocking: run in a thread)."""
    with open_snapshot(state) as snap:
        snap.require("inventory.demand_forecast", "inventory.demand_history")
        data_as_of = snap.batch_as_of(moment)
        ahead = snap.fetch(
            """SELECT forecast_date, mean, lo80, hi80, lo95, hi95, model
               FROM inventory.demand_forecast WHERE product_id = $p ORDER BY forecast_date""",
            {"p": product_id})
        if not ahead:
            raise HTTPException(status.HTTP_404_NOT_FOUND,
                                detail=f"no forecast for product {product_id!r}")
        history = snap.fetch(
            """SELECT day, units, out_of_stock FROM inventory.demand_history
               WHERE product_id = $p AND day > $first ORDER BY day""",
            {"p": product_id, "first": data_as_of.date() - timedelta(days=history_days)})
        names = product_names(snap, [product_id])
    return ProductForecast(
        as_of=moment, data_as_of=data_as_of, product_id=product_id,
        name=names.get(product_id), model=None if ahead[0][6] is None else str(ahead[0][6]),
        history=[HistoryDay(date=d, units=count(u), out_of_stock=bool(o))
                 for d, u, o in history if isinstance(d, date)],
        forecast=[ForecastDay(date=d, mean=float(str(m)), lo80=float(str(a)),
                              hi80=float(str(b)), lo95=float(str(c)), hi95=float(str(e)))
                  for d, m, a, b, c, e, _ in ahead if isinstance(d, date)],
    )
