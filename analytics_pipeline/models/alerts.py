"""Five inventory alert rules; each alert says why, with the numbers behind it.

* **low_stock**: stock, with the units on order that are due in time, will probably run
  out within ``low_stock_days`` (the forecast's chance >= ``alert_confidence``).
  Critical when already out, or when the shelf empties before an order placed today could
  arrive (the supplier's lead time); a warning when ordering today still saves it.
* **overstock**: more stock on hand than ``overstock_days`` of demand will take (the
  forecast's chance >= ``alert_confidence``), or stock turning fewer than
  ``overstock_min_turnover`` times a year; either way more than a reorder would bring it
  up to anyway.
* **trending**: units of the last 7 days up ``trending_growth`` or more on the 7 before
  and on the 4 weeks before that, with at least ``min_weekly_units`` sold and a rise the
  product's week-to-week noise reaches at most ``trending_noise_p`` of the time; not when
  the earlier week had a stockout (a restock is not a trend), nor when the last week sold
  at a discount (a promotion is not a trend), nor in a product's first two weeks.
* **slow_mover**: stock on hand and no sale for ``slow_mover_days`` (an overstock alert
  for the same product is dropped: this one says more).
* **seasonal**: a coming week's forecast at least ``seasonal_rise`` above the last four
  weeks' rate, and lifted that much by the calendar (last year's season, holidays: a
  level rise alone is a trend), while stock and units due will not cover the next four
  weeks (the forecast's chance >= ``alert_confidence``; dropped when a low-stock alert
  already says so).

An alert's id is the md5 of ``type|product|as_of day``: the same alert on the same day has
the same id, which is how notifications avoid sending it twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from analytics_pipeline.models import count_distribution
from analytics_pipeline.models.demand_panel import BoolArray, FloatArray
from analytics_pipeline.models.inventory_policy import InventoryPolicy
from analytics_pipeline.models.replenishment import NO_STOCKOUT, extend
from analytics_pipeline.models.stock_position import StockPosition

ALERT_COLUMNS = ("alert_id", "product_id", "product_name", "category", "alert_type",
                 "severity", "reason", "evidence", "suggested_quantity",
                 "expected_stockout_date", "revenue_at_risk", "as_of")
ALERT_TYPES = ("low_stock", "overstock", "trending", "slow_mover", "seasonal")
SEVERITIES = ("critical", "warning", "info")
_MIN_WINDOW_UNITS = 0.5  # a product not expected to sell one unit in the window: no alert
Row = dict[str, Any]


def alert_id(alert_type: str, product_id: str, as_of_day: dt.date) -> str:
    """Deterministic id: md5 of ``alert_type|product_id|as_of day`` (ISO date)."""
    key = f"{alert_type}|{product_id}|{as_of_day.isoformat()}"
    return hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()


def alert_masks(position: StockPosition, policy: InventoryPolicy) -> dict[str, BoolArray]:
    """Which products each rule fires for (after dropping the duplicates the module
    docstring names), by alert type."""
    low = low_stock_mask(position, policy)
    slow = slow_mover_mask(position, policy)
    return {
        "low_stock": low,
        "overstock": overstock_mask(position, policy) & ~slow,
        "trending": trending_mask(position, policy),
        "slow_mover": slow,
        "seasonal": seasonal_mask(position, policy) & ~low,
    }


def evaluate_alerts(position: StockPosition, policy: InventoryPolicy) -> pd.DataFrame:
    """Every alert of every rule, most severe first, as rows with :data:`ALERT_COLUMNS`."""
    describe: dict[str, Callable[[StockPosition, InventoryPolicy, int], Row]] = {
        "low_stock": _low_stock, "overstock": _overstock, "trending": _trending,
        "slow_mover": _slow_mover, "seasonal": _seasonal,
    }
    rows = [_row(position, int(i), name, describe[name](position, policy, int(i)))
            for name, mask in alert_masks(position, policy).items()
            for i in np.flatnonzero(mask)]
    frame = pd.DataFrame(rows, columns=list(ALERT_COLUMNS))
    order = frame["severity"].map({s: k for k, s in enumerate(SEVERITIES)})
    frame = frame.assign(_order=order).sort_values(["_order", "alert_type", "product_id"])
    return frame.drop(columns="_order").reset_index(drop=True)


def window_demand(position: StockPosition, days: float) -> FloatArray:
    """Mean forecast units over the next ``days`` days, per product."""
    return np.asarray(position.forecast.mean[: int(days)].sum(axis=0), dtype=np.float64)


def low_stock_candidates(position: StockPosition, policy: InventoryPolicy) -> BoolArray:
    """Products the low-stock rule judges by their stockout chance alone: stock counted
    and at least half a unit forecast over the window."""
    expected = window_demand(position, policy.low_stock_days)
    return position.counted & (expected >= _MIN_WINDOW_UNITS)


def low_stock_mask(position: StockPosition, policy: InventoryPolicy) -> BoolArray:
    sure = position.stockout_chance >= policy.alert_confidence
    return low_stock_candidates(position, policy) & sure


def overstock_mask(position: StockPosition, policy: InventoryPolicy) -> BoolArray:
    stock = np.nan_to_num(position.on_hand)
    days = int(policy.overstock_days)
    daily = extend(position.forecast.mean, days)
    size = count_distribution.sum_size(daily, position.forecast.size)
    outlasts = stock > count_distribution.quantile(daily.sum(axis=0), size,
                                                   policy.alert_confidence)
    slow_turn = position.turnover < policy.overstock_min_turnover
    heavy = outlasts | slow_turn
    return position.counted & (stock > position.plan.units_needed) & heavy


def trending_mask(position: StockPosition, policy: InventoryPolicy) -> BoolArray:
    now = position.units_7d
    reference = np.maximum(position.units_prior_7d, position.reference_weekly)
    rising = (now >= (1 + policy.trending_growth) * reference) & (now > reference)
    chance = count_distribution.at_least_probability(reference, position.weekly_size, now)
    steady = ~position.prior_censored & ~position.promoted & (position.age_days >= 14)
    beyond_noise = chance <= policy.trending_noise_p
    return (now >= policy.min_weekly_units) & rising & beyond_noise & steady


def slow_mover_mask(position: StockPosition, policy: InventoryPolicy) -> BoolArray:
    stock = np.nan_to_num(position.on_hand)
    return (stock > 0) & (position.days_since_sale >= policy.slow_mover_days)


def seasonal_mask(position: StockPosition, policy: InventoryPolicy) -> BoolArray:
    peak, lift = _peak_week(position)
    base = position.baseline_daily * 7
    rise = (peak >= (1 + policy.seasonal_rise) * base) & (lift >= 1 + policy.seasonal_rise)
    # Sure to fall short, as the low-stock rule is sure to run out: a mean forecast just
    # above the cover falls short about half the time.
    sure = position.shortfall_chance >= policy.alert_confidence
    return position.counted & (base > 0) & rise & (peak >= policy.min_weekly_units) & sure


def _low_stock(position: StockPosition, policy: InventoryPolicy, i: int) -> Row:
    window = int(policy.low_stock_days)
    stock, lead = _stock(position, i), int(position.catalog.lead_time[i])
    due = float(position.orders.arrivals[:window, i].sum() - position.orders.late[i])
    expected = float(window_demand(position, window)[i])
    offset = int(position.plan.stockout_offset[i])
    chance = float(position.stockout_chance[i])
    arrives = position.as_of_day + dt.timedelta(days=lead)
    critical = stock <= 0 or (offset != NO_STOCKOUT and offset <= lead)
    if stock <= 0:
        text = f"Out of stock now; {expected:.1f} units forecast over the next {window} days"
    else:
        out_day = position.as_of_day + dt.timedelta(days=offset)
        when = f"in {offset} days ({out_day})" if offset != NO_STOCKOUT else f"within {window} days"
        text = (f"Projected to run out {when}: {stock:g} on hand + {due:g} on order due in "
                f"time vs {expected:.1f} units forecast over the next {window} days "
                f"({chance:.0%} likely)")
    text += (f". Lead time {lead} days: an order placed today arrives {arrives.isoformat()}"
             + (", after the shelf empties" if critical and stock > 0 else ""))
    text += _late_note(position, i) + _overdue_note(position, i) + _order_note(position, i)
    evidence = {"on_hand": stock, "on_order_due_in_window": due,
                "late_on_order": float(position.orders.late[i]),
                "forecast_units_window": expected, "stockout_probability": chance,
                "days_to_stockout": None if offset == NO_STOCKOUT else offset,
                "lead_time_days": lead, **_order_evidence(position, i)}
    return _alert("critical" if critical else "warning", text, evidence, True)


def _overstock(position: StockPosition, policy: InventoryPolicy, i: int) -> Row:
    stock, supply = _stock(position, i), float(_days_of_supply(position)[i])
    daily = float(position.forecast.mean[:, i].mean())
    turnover = float(position.turnover[i])
    value = stock * float(position.catalog.unit_cost[i])
    over = supply > policy.overstock_days
    text = (f"{stock:g} units on hand cover "
            + (f"{supply:.0f} days" if np.isfinite(supply) else "an unlimited number of days")
            + f" of forecast demand ({daily:.2f} a day; limit {policy.overstock_days:g} days)"
            + f"; stock turns {turnover:.1f} times a year (target "
            + f"{policy.overstock_min_turnover:g})")
    text += f"; {value:.2f} tied up at cost" if np.isfinite(value) else ""
    evidence = {"on_hand": stock, "forecast_daily_units": daily,
                "days_of_supply": supply if np.isfinite(supply) else None,
                "turnover_per_year": turnover if np.isfinite(turnover) else None,
                "stock_value_at_cost": value if np.isfinite(value) else None}
    return _alert("warning" if over else "info", text, evidence, False)


def _trending(position: StockPosition, policy: InventoryPolicy, i: int) -> Row:
    now, before = float(position.units_7d[i]), float(position.units_prior_7d[i])
    stock, lead = _stock(position, i), int(position.catalog.lead_time[i])
    on_order = float(position.orders.counted[i])
    pace_days = (stock + on_order) / (now / 7)
    short = position.counted[i] and pace_days < lead
    month = float(position.reference_weekly[i])
    growth = f"up {now / before - 1:.0%} on" if before > 0 else "up from"
    text = (f"Sold {now:g} units in the last 7 days, {growth} {before:g} the week before "
            f"and {month:.1f} a week over the 4 weeks before that. At that pace {stock:g} on "
            f"hand + {on_order:g} on order last {pace_days:.0f} days; lead time {lead} days"
            ) + _order_note(position, i)
    evidence = {"units_last_7d": now, "units_prior_7d": before,
                "weekly_units_4_weeks_before": month, "on_hand": stock,
                "on_order": on_order, "days_of_stock_at_pace": pace_days,
                "lead_time_days": lead, **_order_evidence(position, i)}
    return _alert("warning" if short else "info", text, evidence, True)


def _slow_mover(position: StockPosition, policy: InventoryPolicy, i: int) -> Row:
    days, stock = float(position.days_since_sale[i]), _stock(position, i)
    value = stock * float(position.catalog.unit_cost[i])
    text = f"No sale in {days:.0f} days with {stock:g} units on hand"
    text += f" ({value:.2f} at cost)" if np.isfinite(value) else ""
    evidence = {"days_since_last_sale": days, "on_hand": stock,
                "stock_value_at_cost": value if np.isfinite(value) else None}
    severity = "warning" if days >= 2 * policy.slow_mover_days else "info"
    return _alert(severity, text, evidence, False)


def _seasonal(position: StockPosition, policy: InventoryPolicy, i: int) -> Row:
    peak, lift = _peak_week(position)
    base = float(position.baseline_daily[i] * 7)
    cover, need = (float(x[i]) for x in _four_week_cover(position))
    chance = float(position.shortfall_chance[i])
    start = _peak_start(position, i)
    text = (f"Forecast peaks at {peak[i]:.0f} units in the week from {start.isoformat()}, "
            f"{peak[i] / base - 1:+.0%} on the last 4 weeks' {base:.1f} a week (season and "
            f"holidays {lift[i] - 1:+.0%}); stock on hand and due covers {cover:g} of the "
            f"{need:.0f} units forecast over the next 4 weeks ({chance:.0%} likely to run "
            f"short)") + _order_note(position, i)
    evidence = {"peak_week_units": float(peak[i]), "peak_week_start": start.isoformat(),
                "baseline_weekly_units": base, "seasonal_lift": float(lift[i]),
                "stock_and_due_units": cover,
                "forecast_units_4_weeks": need, "shortfall_probability": chance,
                "model": position.forecast.model[i],
                **_order_evidence(position, i)}
    return _alert("warning", text, evidence, True)


def _stock(position: StockPosition, i: int) -> float:
    return float(np.nan_to_num(position.on_hand[i]))


def _days_of_supply(position: StockPosition) -> FloatArray:
    daily = position.forecast.mean.mean(axis=0)
    stock = np.nan_to_num(position.on_hand)
    with np.errstate(divide="ignore", invalid="ignore"):
        supply = np.where(daily > 0, stock / daily, np.where(stock > 0, np.inf, 0.0))
    return np.asarray(supply, dtype=np.float64)


def _weeks(values: FloatArray) -> FloatArray:
    weeks = values[: len(values) // 7 * 7].reshape(-1, 7, values.shape[1]).sum(axis=1)
    return np.asarray(weeks, dtype=np.float64)


def _peak_week(position: StockPosition) -> tuple[FloatArray, FloatArray]:
    """The busiest coming week's forecast units, and how much of it is season: that week's
    mean over the same week without calendar effects."""
    mean, calendar = position.forecast.mean, position.forecast.seasonal
    weeks = _weeks(mean)
    ordinary = _weeks(mean / np.where(calendar > 0, calendar, 1.0))
    peak = weeks.argmax(axis=0)
    columns = np.arange(mean.shape[1])
    lift = weeks[peak, columns] / np.maximum(ordinary[peak, columns], 1e-9)
    return weeks.max(axis=0), lift


def _peak_start(position: StockPosition, i: int) -> dt.date:
    weeks = _weeks(position.forecast.mean)
    return position.forecast.first_day.date() + dt.timedelta(days=7 * int(weeks[:, i].argmax()))


def _four_week_cover(position: StockPosition) -> tuple[FloatArray, FloatArray]:
    days = min(28, len(position.forecast.mean))
    cover = np.nan_to_num(position.on_hand) + position.orders.arrivals[:days].sum(axis=0)
    return cover, position.forecast.mean[:days].sum(axis=0)


def _late_note(position: StockPosition, i: int) -> str:
    late = float(position.orders.late[i])
    return (f"; {late:g} units on order are past due and not counted on until they arrive"
            if late else "")


def _overdue_note(position: StockPosition, i: int) -> str:
    overdue = float(position.orders.overdue[i])
    return f"; {overdue:g} units on order are overdue and not counted on" if overdue else ""


def _order_note(position: StockPosition, i: int) -> str:
    quantity = int(position.plan.suggested[i])
    return f". Suggested order: {quantity} units" if quantity > 0 else ""


def _order_evidence(position: StockPosition, i: int) -> Row:
    plan = position.plan
    return {"suggested_quantity": int(plan.suggested[i]),
            "forecast_units_cover": float(plan.forecast_units[i]),
            "safety_stock": float(plan.safety_stock[i]), "cover_days": int(plan.cover_days[i])}


def _alert(severity: str, reason: str, evidence: Row, with_order: bool) -> Row:
    return {"severity": severity, "reason": reason + ".", "evidence": evidence,
            "with_order": with_order}


def _row(position: StockPosition, i: int, alert_type: str, described: Row) -> Row:
    plan, product = position.plan, position.product_ids[i]
    offset = int(plan.stockout_offset[i])
    with_order = described["with_order"]
    at_risk = float(plan.lost_units[i] * position.unit_revenue[i])
    return {
        "alert_id": alert_id(alert_type, product, position.as_of_day),
        "product_id": product, "product_name": position.catalog.name[i],
        "category": position.catalog.category[i], "alert_type": alert_type,
        "severity": described["severity"], "reason": described["reason"],
        "evidence": json.dumps(described["evidence"], sort_keys=True, default=float),
        "suggested_quantity": int(plan.suggested[i]) if with_order else None,
        "expected_stockout_date": (position.as_of_day + dt.timedelta(days=offset)
                                   if with_order and offset != NO_STOCKOUT else None),
        "revenue_at_risk": round(at_risk, 2) if with_order and np.isfinite(at_risk) else None,
        "as_of": position.as_of,
    }
