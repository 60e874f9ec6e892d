"""Sales received live since the published snapshot, summed for one store-local day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from analytics_pipeline.serving.live_orders import LiveOrderStore


@dataclass(frozen=True)
class LiveTotals:
    revenue: Decimal = Decimal(0)
    orders: int = 0
    units: int = 0
    cost: Decimal = Decimal(0)
    lines_without_cost: int = 0


def live_totals(
    store: LiveOrderStore, watermark: int, day: date, as_of: datetime, timezone: str
) -> LiveTotals:
    """Completed live orders after ``watermark`` placed on ``day`` (store time) by ``as_of``.

    Follows ``sql/ingest/sales_lines.sql``: refunded/void orders count nowhere, returns
    are negative, a discount shrinks the line's value in either direction. Costs of lines
    without their own cost are unknown here (the product table is the batch's), so they
    are counted, not guessed.
    """
    zone = ZoneInfo(timezone)
    revenue, cost, units, missing = Decimal(0), Decimal(0), 0, 0
    orders: set[str] = set()
    for row in store.lines_after(watermark):
        _, order_id, _, ordered_at, _, status, _, _, quantity, price, discount, unit_cost = row
        at = datetime.fromisoformat(str(ordered_at))
        if status != "completed" or at > as_of or at.astimezone(zone).date() != day:
            continue
        qty = int(str(quantity))
        sign = 1 if qty > 0 else -1
        revenue += qty * Decimal(str(price)) - sign * Decimal(str(discount))
        units += qty
        if qty > 0:
            orders.add(str(order_id))
        if unit_cost is None:
            missing += 1
        else:
            cost += qty * Decimal(str(unit_cost))
    return LiveTotals(revenue, len(orders), units, cost, missing)
