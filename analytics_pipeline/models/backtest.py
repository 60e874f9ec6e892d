"""Scoring alerts and forecasts against what happened next.

Each rule's claim is checked over its own horizon with the *true* demand of the days
after the alert (the generator's ground truth; on real data, sales on days in stock):

* low_stock: the shelf would have emptied within ``low_stock_days`` had nothing been
  ordered: starting from the stock on hand, adding only the units already on order as
  they were actually delivered, and losing sales the shelf cannot serve.
* trending: the next 7 days' demand kept the rise (>= (1 + growth) x the week before it).
* overstock: the stock on hand exceeds ``overstock_days`` of the next 28 days' demand.
* slow_mover: it stayed unsold: at most one unit wanted over the next 14 days.
* seasonal: the next 28 days' demand exceeded the stock on hand plus units due.

Low-stock recall counts the true stockouts (a day ending with an empty shelf after one
that did not) that a low-stock alert announced between ``low_stock_days`` and
``min_notice_days`` days ahead.

The low-stock rule fires on a chance (``alert_confidence``), so the replay also keeps every
chance it judged: :func:`confidence_sweep` gives precision and recall had the setting been
each of :data:`CONFIDENCE_LEVELS`, and :func:`calibration` how often a shelf said to be
p likely to empty did, which is what an owner needs to choose the setting on their data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics_pipeline.models.demand_panel import BoolArray, FloatArray, IntArray

RULE_HORIZON_DAYS = {"low_stock": 7, "trending": 7, "overstock": 28, "slow_mover": 14,
                     "seasonal": 28}
CONFIDENCE_LEVELS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def counterfactual_stockout(
    on_hand: FloatArray, arrivals: FloatArray, demand: FloatArray
) -> BoolArray:
    """Whether the shelf empties on some day given no new orders (lost sales).

    Parameters
    ----------
    on_hand
        ``(products,)`` stock at the end of the alert day.
    arrivals
        ``(days, products)`` units already on order, on the days they arrived.
    demand
        ``(days, products)`` true demand of the following days.
    """
    stock = np.maximum(np.nan_to_num(on_hand), 0.0)
    empty = stock <= 0
    for day in range(len(demand)):
        stock = np.maximum(stock + arrivals[day] - np.nan_to_num(demand[day]), 0.0)
        empty |= stock <= 0
    return np.asarray(empty, dtype=np.bool_)


def open_order_deliveries(
    on_order_now: FloatArray, delivered: FloatArray
) -> FloatArray:
    """``(days, products)`` deliveries that fill the units on order now, first in first
    out (later deliveries belong to orders placed after the alert)."""
    filled = np.minimum(np.cumsum(delivered, axis=0), np.nan_to_num(on_order_now))
    return np.asarray(np.diff(filled, axis=0, prepend=0.0), dtype=np.float64)


def deliveries(on_hand: FloatArray, units: FloatArray) -> FloatArray:
    """Units received each day, from the rise in stock plus the units sold that day."""
    before = np.vstack([on_hand[:1], on_hand[:-1]])
    received = np.nan_to_num(on_hand - before) + np.nan_to_num(units)
    received[0] = 0.0
    return np.asarray(np.maximum(received, 0.0), dtype=np.float64)


def stockout_starts(stockout: BoolArray) -> tuple[IntArray, IntArray]:
    """(day, product) of every day that ended out of stock after a day that did not."""
    before = np.vstack([np.ones((1, stockout.shape[1]), dtype=bool), stockout[:-1]])
    day, product = np.nonzero(stockout & ~before)
    return day.astype(np.int64), product.astype(np.int64)


def low_stock_recall(
    stockout: BoolArray, alerted: BoolArray, first: int, last: int, window: int, notice: int
) -> tuple[int, int]:
    """(caught, total) true stockouts starting on days ``first + window .. last + notice``
    with a low-stock alert ``notice`` to ``window`` days before.

    ``alerted`` is ``(days, products)``: a low-stock alert fired at the end of that day.
    """
    day, product = stockout_starts(stockout)
    keep = (day >= first + window) & (day <= last + notice)
    day, product = day[keep], product[keep]
    cumulative = np.vstack([np.zeros((1, alerted.shape[1])), np.cumsum(alerted, axis=0)])
    hits = cumulative[day - notice + 1, product] - cumulative[day - window, product]
    return int((hits > 0).sum()), len(day)


@dataclass(frozen=True)
class LowStockChances:
    """Every stockout chance the low-stock rule judged in a replay, ``(days, products)``.

    Attributes
    ----------
    chance
        The chance on each as_of day; NaN where the rule did not judge (stock not counted,
        under half a unit forecast, a day not replayed).
    in_stock
        Stock was left on the shelf at the end of the day.
    confirmed
        The shelf would have emptied within the window had nothing been ordered.
    scored
        ``(days,)`` days whose window lies inside the data (``confirmed`` is known).
    """

    chance: FloatArray
    in_stock: BoolArray
    confirmed: BoolArray
    scored: BoolArray

    @classmethod
    def empty(cls, days: int, products: int) -> LowStockChances:
        shape = (days, products)
        return cls(np.full(shape, np.nan), np.zeros(shape, dtype=bool),
                   np.zeros(shape, dtype=bool), np.zeros(days, dtype=bool))

    def alerted(self, level: float) -> BoolArray:
        """Where the rule fires with ``alert_confidence`` = ``level``."""
        return np.asarray(np.where(np.isnan(self.chance), -1.0, self.chance) >= level,
                          dtype=np.bool_)


def confidence_sweep(
    chances: LowStockChances, stockout: BoolArray, first: int, last: int, window: int,
    notice: int, levels: tuple[float, ...] = CONFIDENCE_LEVELS,
) -> list[dict[str, float | int | None]]:
    """Low-stock precision (of all scored alerts and of those raised with stock on hand)
    and recall (``caught`` of ``stockouts``, see :func:`low_stock_recall`) at each
    ``alert_confidence`` of ``levels``."""
    rows: list[dict[str, float | int | None]] = []
    for level in levels:
        alerted = chances.alerted(level) & chances.scored[:, None]
        shelf = alerted & chances.in_stock
        caught, total = low_stock_recall(stockout, chances.alerted(level), first, last,
                                         window, notice)
        rows.append({
            "alert_confidence": level, "alerts": int(alerted.sum()),
            "precision": precision(int((alerted & chances.confirmed).sum()), int(alerted.sum())),
            "in_stock_alerts": int(shelf.sum()),
            "in_stock_precision": precision(int((shelf & chances.confirmed).sum()),
                                            int(shelf.sum())),
            "caught": caught, "stockouts": total, "recall": precision(caught, total),
        })  # fmt: skip
    return rows


def calibration(chances: LowStockChances, bins: int = 10) -> list[dict[str, float | int]]:
    """How often shelves with stock on hand emptied, by the chance they were given
    (equal-width bins; empty bins left out)."""
    judged = ~np.isnan(chances.chance) & chances.in_stock & chances.scored[:, None]
    chance, happened = chances.chance[judged], chances.confirmed[judged]
    which = np.minimum((chance * bins).astype(np.int64), bins - 1)
    rows: list[dict[str, float | int]] = []
    for k in np.unique(which):
        inside = which == k
        rows.append({"from": k / bins, "to": (k + 1) / bins, "cells": int(inside.sum()),
                     "mean_chance": float(chance[inside].mean()),
                     "emptied": float(happened[inside].mean())})
    return rows


@dataclass(frozen=True)
class ForecastScore:
    """Forecast accuracy over many (origin, product, day) cells.

    MASE scales each product's mean absolute error by its in-sample seasonal-naive
    (same weekday last week) error, then averages over products and origins.
    """

    wape: float
    mase: float
    coverage_80: float
    coverage_95: float
    cells: int


def forecast_errors(
    actual: FloatArray, predicted: FloatArray, scale: FloatArray
) -> tuple[float, float, FloatArray]:
    """(sum of absolute errors, sum of actuals, per-product scaled MAE) over valid cells.

    Cells with NaN actuals (unknown demand) are left out; products with ``scale`` 0 get
    NaN (their history never changed, so no scale).
    """
    valid = ~np.isnan(actual)
    error = np.where(valid, np.abs(np.nan_to_num(actual) - predicted), 0.0)
    count = valid.sum(axis=0)
    mae = np.where(count > 0, error.sum(axis=0) / np.maximum(count, 1), np.nan)
    scaled = np.where(scale > 0, mae / np.where(scale > 0, scale, 1.0), np.nan)
    return float(error.sum()), float(np.nansum(actual)), np.asarray(scaled, dtype=np.float64)


def covered(actual: FloatArray, lower: FloatArray, upper: FloatArray) -> tuple[int, int]:
    """(cells inside [lower, upper], cells) over the cells with a known actual."""
    valid = ~np.isnan(actual)
    inside = valid & (actual >= lower - 1e-9) & (actual <= upper + 1e-9)
    return int(inside.sum()), int(valid.sum())


def seasonal_naive_scale(units: FloatArray, days: int = 182) -> FloatArray:
    """In-sample mean absolute error of the same-weekday-last-week forecast, per product."""
    recent = units[-(days + 7) :]
    diff = np.abs(recent[7:] - recent[:-7])
    seen = ~np.isnan(diff)
    total = np.where(seen, diff, 0.0).sum(axis=0)
    return np.asarray(np.where(seen.any(axis=0), total / np.maximum(seen.sum(axis=0), 1),
                               np.nan), dtype=np.float64)


def precision(hits: int, alerts: int) -> float | None:
    """Share of alerts confirmed; ``None`` when there were none."""
    return hits / alerts if alerts else None
