"""``/api/inventory``: stock turnover and what to reorder, as the batch run computed them.

Both tables hold the batch's as_of only (stock counts are not kept per day in the
snapshot), so an earlier as_of day is refused with a 422 rather than answered wrongly.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
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
    on_order: int
    daily_units: float = Field(description="average daily net units of the last 28 days")
    days_of_supply: float | None = Field(description="on hand / daily units")
    lead_time_days: int
    suggested_quantity: int = Field(
        description="units to order: demand over lead time + review period - on hand - on order")
    expected_stockout_date: date | None = Field(
        description="as_of day + on hand / daily units (whole days)")
    revenue_at_risk: Decimal | None = Field(
        description="revenue of the demand stock cannot cover before an order placed today "
        "arrives, `currency`")
    reason: str = Field(description="the rule's figures, in words")


class Reorder(BaseModel):
    as_of: datetime
    data_as_of: datetime = Field(description="as_of of the batch run the figures are from")
    currency: str
    items: list[ReorderItem] = Field(
        description="earliest stockout first, then most revenue at risk")


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
    """Products to reorder now: stock plus open orders fall short of the demand until an
    order placed today arrives and covers the next 14-day review."""
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
        snap.require("inventory.reorder")
        data_as_of = snap.batch_as_of(moment)
        rows = snap.fetch(
            """SELECT product_id, name, category, supplier, on_hand, on_order,
                      avg_daily_units_28d, on_hand / NULLIF(avg_daily_units_28d, 0),
                      lead_time_days, review_days, units_needed, suggested_quantity,
                      expected_stockout_date, revenue_at_risk
               FROM inventory.reorder
               ORDER BY expected_stockout_date NULLS LAST, revenue_at_risk DESC NULLS LAST,
                        product_id""")
    return Reorder(as_of=moment, data_as_of=data_as_of, currency=state.settings.currency,
                   items=[_reorder_item(row) for row in rows])


def _reorder_item(row: tuple[object, ...]) -> ReorderItem:
    (product_id, name, category, supplier, on_hand, on_order, daily, supply, lead, review,
     needed, quantity, stockout, at_risk) = row
    reason = (
        f"on hand {count(on_hand)} + on order {count(on_order)} < {float(str(needed)):.1f} "
        f"units needed: {float(str(daily)):.2f} a day over {count(lead)} days lead time + "
        f"{count(review)} days review"
    )
    return ReorderItem(
        product_id=str(product_id), name=None if name is None else str(name),
        category=str(category), supplier=None if supplier is None else str(supplier),
        on_hand=count(on_hand), on_order=count(on_order),
        daily_units=number_or_none(daily, 3) or 0.0, days_of_supply=number_or_none(supply, 1),
        lead_time_days=count(lead), suggested_quantity=count(quantity),
        expected_stockout_date=stockout if isinstance(stockout, date) else None,
        revenue_at_risk=money_or_none(at_risk), reason=reason,
    )
