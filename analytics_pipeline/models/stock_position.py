"""Each product's stock position on the as_of day: the facts the alerts and reorders use.

Built from the daily history (only what was known by the end of the as_of day), the
demand forecast made that day and the product list, so the same code serves the daily
run and the backtest's replay.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics_pipeline.models import count_distribution
from analytics_pipeline.models.demand_panel import BoolArray, DemandPanel, FloatArray
from analytics_pipeline.models.forecast import Forecast
from analytics_pipeline.models.inventory_policy import InventoryPolicy
from analytics_pipeline.models.replenishment import (
    NO_STOCKOUT,
    OpenOrders,
    ReorderPlan,
    open_orders,
    reorder_plan,
    stockout_probability,
)

ObjectArray = npt.NDArray[np.object_]
DEFAULT_LEAD_TIME_DAYS = 7  # the data contract's default
PRODUCT_COLUMNS = ("product_id", "name", "category", "supplier", "lead_time_days",
                   "unit_price", "unit_cost")


@dataclass(frozen=True)
class Catalog:
    """Product attributes in the panel's column order (``pack_size`` NaN when unknown)."""

    name: ObjectArray
    category: ObjectArray
    supplier: ObjectArray
    lead_time: FloatArray
    unit_price: FloatArray
    unit_cost: FloatArray
    pack_size: FloatArray

    @classmethod
    def from_frame(cls, products: pd.DataFrame, product_ids: tuple[str, ...]) -> Catalog:
        """``products`` has :data:`PRODUCT_COLUMNS` and optionally ``pack_size``."""
        table = products.drop_duplicates("product_id").set_index("product_id")
        table = table.reindex(list(product_ids))

        def numbers(column: str, default: float) -> FloatArray:
            if column not in table:
                return np.full(len(product_ids), default)
            values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=np.float64)
            return np.where(np.isnan(values), default, values)

        def labels(column: str, default: str | None) -> ObjectArray:
            values = table[column].astype(object).to_numpy()
            return np.asarray([default if pd.isna(v) else v for v in values], dtype=object)

        return cls(labels("name", None), labels("category", "uncategorized"),
                   labels("supplier", None), numbers("lead_time_days", DEFAULT_LEAD_TIME_DAYS),
                   numbers("unit_price", np.nan), numbers("unit_cost", np.nan),
                   numbers("pack_size", np.nan))


@dataclass(frozen=True)
class StockPosition:
    """Per product on the as_of day (arrays in ``product_ids`` order).

    Attributes
    ----------
    on_hand
        Last counted stock (NaN: never counted, so no stock alert can be judged).
    orders
        Units on order by due day, and those overdue.
    plan
        The reorder plan (quantities, stockout day, lost units).
    stockout_chance
        Chance of running out within ``low_stock_days``.
    shortfall_chance
        Chance that stock and the units due fall short of the next 4 weeks' demand.
    units_7d, units_prior_7d
        Units sold in the last 7 days and the 7 before; ``prior_censored`` when that earlier
        week had a day out of stock (so its sales understate demand).
    reference_weekly
        Units per week over the 4 weeks before the last 7 days (days in stock only).
    weekly_size
        Negative-binomial size of weekly sales, from the 12 weeks before the last 7 days:
        how much a week swings by chance (customers buy several units, come back ...) and
        with the season; ``stockout_chance`` takes the days ahead to stray at least as far
        from the forecast.
    days_since_sale
        Days since the last sale (since the first day when never sold).
    baseline_daily
        Mean demand per day over the last 28 days (out-of-stock days left out).
    turnover
        Units sold over 90 days / average units on hand, per year (NaN: no stock seen).
    unit_revenue
        Average revenue per unit sold in the last 90 days, else the list price.
    promoted
        A day of the last 7 sold at least 5 % below the product's usual (median daily)
        price of the last 5 weeks: a promotion, whose lift is not a trend.
    age_days
        Days since the product's first day in the history.
    """

    as_of: dt.datetime
    product_ids: tuple[str, ...]
    catalog: Catalog
    forecast: Forecast
    on_hand: FloatArray
    orders: OpenOrders
    plan: ReorderPlan
    stockout_chance: FloatArray
    shortfall_chance: FloatArray
    units_7d: FloatArray
    units_prior_7d: FloatArray
    prior_censored: BoolArray
    reference_weekly: FloatArray
    weekly_size: FloatArray
    days_since_sale: FloatArray
    baseline_daily: FloatArray
    turnover: FloatArray
    unit_revenue: FloatArray
    promoted: BoolArray
    age_days: FloatArray

    @property
    def as_of_day(self) -> dt.date:
        return self.forecast.first_day.date() - dt.timedelta(days=1)

    @property
    def counted(self) -> BoolArray:
        return np.asarray(~np.isnan(self.on_hand), dtype=np.bool_)


def stock_position(
    panel: DemandPanel, forecast: Forecast, products: pd.DataFrame, policy: InventoryPolicy,
    as_of: dt.datetime,
) -> StockPosition:
    """Gather the facts of every product in ``panel`` (see :class:`StockPosition`).

    ``forecast`` must start the day after the panel's last day and cover its products.
    """
    catalog = Catalog.from_frame(products, panel.product_ids)
    on_hand = panel.on_hand[-1] if len(panel.days) else np.full(panel.n_products, np.nan)
    stock = np.nan_to_num(on_hand)
    days = int(max(len(forecast.mean), np.max(catalog.lead_time, initial=0)
                   + policy.review_days))
    orders = open_orders(panel, catalog.lead_time, days, policy.overdue_grace_days)
    plan = reorder_plan(stock, orders, forecast.mean, forecast.size, catalog.lead_time,
                        catalog.pack_size, policy)
    window = int(policy.low_stock_days)
    weekly_size = _weekly_size(panel)
    sure = orders.sure_arrivals
    chance = stockout_probability(stock, sure[:window], forecast.mean[:window],
                                  forecast.size, weekly_size)
    month = min(28, len(forecast.mean))
    shortfall = stockout_probability(stock, sure[:month], forecast.mean[:month],
                                     forecast.size, weekly_size)
    units = np.nan_to_num(panel.units)
    return StockPosition(
        as_of=as_of, product_ids=panel.product_ids, catalog=catalog, forecast=forecast,
        on_hand=on_hand, orders=orders, plan=plan, stockout_chance=chance,
        shortfall_chance=shortfall,
        units_7d=units[-7:].sum(axis=0), units_prior_7d=units[-14:-7].sum(axis=0),
        prior_censored=np.asarray(panel.out_of_stock[-14:-7].any(axis=0), dtype=np.bool_),
        reference_weekly=7 * _baseline(panel.until(panel.days[-8]) if len(panel.days) > 7
                                       else panel),
        weekly_size=weekly_size,
        days_since_sale=_days_since_sale(panel), baseline_daily=_baseline(panel),
        turnover=_turnover(panel), unit_revenue=_unit_revenue(panel, catalog),
        promoted=_promoted(panel),
        age_days=np.asarray(len(panel.days) - panel.first_rows(), dtype=np.float64),
    )


def _weekly_size(panel: DemandPanel, weeks: int = 12) -> FloatArray:
    days = len(panel.days)
    start = days - 7 - 7 * weeks
    if start < 0:
        return np.full(panel.n_products, count_distribution.POISSON_SIZE)
    # Weeks before a product's first day are NaN and left out; two weeks make a variance.
    sums = panel.units[start : days - 7].reshape(weeks, 7, -1).sum(axis=1)
    seen = ~np.isnan(sums)
    count = np.maximum(seen.sum(axis=0), 1)
    mean = np.where(seen, sums, 0.0).sum(axis=0) / count
    variance = np.where(seen, (sums - mean) ** 2, 0.0).sum(axis=0) / np.maximum(count - 1, 1)
    excess = np.where(seen.sum(axis=0) >= 2, variance - mean, 0.0)
    size = np.where(excess > 0, mean**2 / np.where(excess > 0, excess, 1.0),
                    count_distribution.POISSON_SIZE)
    return np.asarray(np.nan_to_num(size, nan=count_distribution.POISSON_SIZE), dtype=np.float64)


def _days_since_sale(panel: DemandPanel) -> FloatArray:
    sold = np.nan_to_num(panel.units) > 0
    last = np.where(sold.any(axis=0), len(sold) - 1 - sold[::-1].argmax(axis=0),
                    panel.first_rows() - 1)
    return np.asarray(len(panel.days) - 1 - last, dtype=np.float64)


def _baseline(panel: DemandPanel, days: int = 28) -> FloatArray:
    recent = np.where(panel.out_of_stock[-days:], np.nan, panel.units[-days:])
    seen = (~np.isnan(recent)).sum(axis=0)
    return np.asarray(np.nansum(recent, axis=0) / np.maximum(seen, 1), dtype=np.float64)


def _turnover(panel: DemandPanel, days: int = 90) -> FloatArray:
    sold = np.nansum(panel.units[-days:], axis=0)
    stock = panel.on_hand[-days:]
    seen = (~np.isnan(stock)).sum(axis=0)
    average = np.nansum(stock, axis=0) / np.maximum(seen, 1)
    rate = np.where(average > 0, sold / np.maximum(average, 1e-9) * 365 / days, np.inf)
    return np.asarray(np.where(seen > 0, rate, np.nan), dtype=np.float64)


def _promoted(panel: DemandPanel, discount: float = 0.05) -> BoolArray:
    """A day of the last 7 sold below the 5-week median daily price by ``discount``."""
    recent = slice(max(len(panel.days) - 35, 0), len(panel.days))
    units = panel.units[recent]
    sold = np.nan_to_num(units) > 0
    price = np.where(sold, np.nan_to_num(panel.revenue[recent]) / np.where(sold, units, 1), np.nan)
    usual = np.array([np.median(column[~np.isnan(column)]) if (~np.isnan(column)).any()
                      else np.nan for column in price.T])
    cheap = price[-7:] < (1 - discount) * usual
    return np.asarray(np.nan_to_num(cheap).any(axis=0), dtype=np.bool_)


def _unit_revenue(panel: DemandPanel, catalog: Catalog, days: int = 90) -> FloatArray:
    units = np.nansum(panel.units[-days:], axis=0)
    revenue = np.nansum(panel.revenue[-days:], axis=0)
    average = np.where(units > 0, revenue / np.maximum(units, 1), catalog.unit_price)
    return np.asarray(average, dtype=np.float64)


REORDER_COLUMNS = ("product_id", "name", "category", "supplier", "on_hand", "on_order",
                   "overdue_on_order", "lead_time_days", "review_days", "avg_daily_units_28d",
                   "daily_units", "days_of_supply", "forecast_units", "safety_stock",
                   "service_level", "units_needed", "pack_size", "suggested_quantity",
                   "expected_stockout_date", "revenue_at_risk", "model", "reason")


def reorder_frame(position: StockPosition, policy: InventoryPolicy) -> pd.DataFrame:
    """Products to reorder now (counted stock, quantity > 0), soonest stockout first.

    Columns :data:`REORDER_COLUMNS`; those of the first rule-based ``inventory.reorder``
    keep their meaning, with ``units_needed`` now forecast + safety stock.
    """
    chosen = np.flatnonzero(position.counted & (position.plan.suggested > 0))
    rows = [_reorder_row(position, policy, int(i)) for i in chosen]
    frame = pd.DataFrame(rows, columns=list(REORDER_COLUMNS))
    return frame.sort_values(["expected_stockout_date", "revenue_at_risk", "product_id"],
                             ascending=[True, False, True], na_position="last",
                             ignore_index=True)


def _reorder_row(position: StockPosition, policy: InventoryPolicy, i: int) -> dict[str, object]:
    plan, catalog = position.plan, position.catalog
    cover = int(plan.cover_days[i])
    daily = float(plan.forecast_units[i]) / max(cover, 1)
    stock, on_order = float(position.on_hand[i]), float(position.orders.counted[i])
    offset = int(plan.stockout_offset[i])
    pack = float(catalog.pack_size[i])
    lead = int(catalog.lead_time[i])
    reason = (f"on hand {stock:g} + on order {on_order:g} < {plan.units_needed[i]:.1f} units "
              f"needed: {plan.forecast_units[i]:.1f} forecast over {lead} days lead time + "
              f"{policy.review_days:g} days review, + {plan.safety_stock[i]:.1f} safety stock "
              f"for a {policy.service_level:.0%} service level")
    reason += f"; rounded up to packs of {pack:g}" if pack > 0 else ""
    at_risk = float(plan.lost_units[i] * position.unit_revenue[i])
    return {
        "product_id": position.product_ids[i], "name": catalog.name[i],
        "category": catalog.category[i], "supplier": catalog.supplier[i],
        "on_hand": int(stock), "on_order": int(on_order),
        "overdue_on_order": int(position.orders.overdue[i]), "lead_time_days": lead,
        "review_days": int(policy.review_days),
        "avg_daily_units_28d": float(position.baseline_daily[i]), "daily_units": daily,
        "days_of_supply": stock / daily if daily > 0 else None,
        "forecast_units": float(plan.forecast_units[i]),
        "safety_stock": float(plan.safety_stock[i]), "service_level": policy.service_level,
        "units_needed": float(plan.units_needed[i]),
        "pack_size": int(pack) if pack > 0 else None,
        "suggested_quantity": int(plan.suggested[i]),
        "expected_stockout_date": (position.as_of_day + dt.timedelta(days=offset)
                                   if offset != NO_STOCKOUT else None),
        "revenue_at_risk": round(at_risk, 2) if np.isfinite(at_risk) else None,
        "model": position.forecast.model[i], "reason": reason,
    }
