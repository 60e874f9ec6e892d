"""Daily sales and stock of many products on one calendar, with censored days repaired.

A day that ended with nothing on the shelf is *censored*: its sales show what was there,
not what customers wanted. Counting it as low demand would teach the forecast that a
product sells less exactly when it sells out, so such days are imputed from the
product's recent uncensored level instead (and never lowered: a sale seen is demand seen).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

HISTORY_COLUMNS = ("product_id", "day", "units", "revenue", "on_hand", "on_order", "out_of_stock")
_WEEKDAY_WEEKS = 16


@dataclass(frozen=True)
class DemandPanel:
    """History matrices shaped ``(days, products)`` over consecutive days.

    Attributes
    ----------
    days
        The calendar, one entry per row, consecutive and ending on the as_of day.
    product_ids
        One entry per column.
    units, revenue
        Units sold and revenue per day; NaN before the product's first day.
    on_hand, on_order
        End-of-day stock and units on order; NaN while unknown (never counted).
    out_of_stock
        Censored days: the day ended with no stock.
    """

    days: pd.DatetimeIndex
    product_ids: tuple[str, ...]
    units: FloatArray
    revenue: FloatArray
    on_hand: FloatArray
    on_order: FloatArray
    out_of_stock: BoolArray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, end: dt.date | None = None) -> DemandPanel:
        """Build from long rows with :data:`HISTORY_COLUMNS` (``inventory.demand_history``).

        Parameters
        ----------
        frame
            One row per product and day; missing days of a product count as no sale.
        end
            Last day of the calendar; defaults to the latest day in ``frame``.
        """
        day = pd.to_datetime(frame["day"]).dt.normalize()
        last = pd.Timestamp(end) if end is not None else day.max()
        first = day.min() if len(frame) else last
        days = pd.date_range(first, last, freq="D")
        ids, column = np.unique(frame["product_id"].astype(str).to_numpy(), return_inverse=True)
        row = ((day - first).dt.days).to_numpy()
        keep = row < len(days)
        row, column = row[keep], column[keep]

        def matrix(name: str, fill: float) -> FloatArray:
            out = np.full((len(days), len(ids)), fill)
            out[row, column] = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)[keep]
            return out

        units = matrix("units", np.nan)
        first_row = _first_valid(units)
        # Days inside a product's life without a row are days without a sale.
        alive = np.arange(len(days))[:, None] >= first_row[None, :]
        units = np.where(alive & np.isnan(units), 0.0, units)
        revenue = np.where(alive, np.nan_to_num(matrix("revenue", np.nan)), np.nan)
        censored = matrix("out_of_stock", 0.0) > 0
        return cls(days, tuple(str(i) for i in ids), units, revenue,
                   matrix("on_hand", np.nan), matrix("on_order", np.nan), censored)

    @property
    def n_products(self) -> int:
        return len(self.product_ids)

    @property
    def last_day(self) -> pd.Timestamp:
        return pd.Timestamp(self.days[-1])

    def until(self, day: dt.date | pd.Timestamp) -> DemandPanel:
        """The history known at the end of ``day`` (rows after it dropped)."""
        stop = int(self.days.searchsorted(pd.Timestamp(day), side="right"))
        return DemandPanel(self.days[:stop], self.product_ids, self.units[:stop],
                           self.revenue[:stop], self.on_hand[:stop], self.on_order[:stop],
                           self.out_of_stock[:stop])

    def first_rows(self) -> IntArray:
        """Row of each product's first day (``len(days)`` when it has none)."""
        return _first_valid(self.units)


def _first_valid(values: FloatArray) -> IntArray:
    valid = ~np.isnan(values)
    return np.where(valid.any(axis=0), valid.argmax(axis=0), len(values)).astype(np.int64)


def weekday_profile(units: FloatArray, censored: BoolArray, days: pd.DatetimeIndex) -> FloatArray:
    """Store-wide demand by weekday (Monday first), mean 1, from the last 16 weeks.

    Pooled over products: single products are too noisy to show their own weekly shape,
    while a shop's Saturday peak is shared by nearly everything it sells.
    """
    recent = slice(max(len(days) - 7 * _WEEKDAY_WEEKS, 0), len(days))
    seen = np.where(censored[recent], np.nan, units[recent])
    counted = (~np.isnan(seen)).sum(axis=1)
    rate = np.nansum(seen, axis=1) / np.maximum(counted, 1)
    weekday = days[recent].dayofweek.to_numpy()
    profile = np.array([rate[weekday == w].mean() if (weekday == w).any() else np.nan
                        for w in range(7)])
    if not np.isfinite(profile).all() or profile.mean() <= 0:
        return np.ones(7)
    return np.asarray(profile / profile.mean(), dtype=np.float64)


def impute_censored(
    units: FloatArray, censored: BoolArray, scale: FloatArray, window: int = 28
) -> tuple[FloatArray, FloatArray]:
    """Replace censored days by the recent level, never lowering what was sold.

    Parameters
    ----------
    units
        ``(days, products)`` units sold; NaN before a product's first day.
    censored
        Days that ended out of stock.
    scale
        ``(days,)`` expected demand of each day relative to an ordinary one (weekday and
        holiday effects), so a censored Saturday is imputed as a Saturday.
    window
        Days of uncensored history the level averages.

    Returns
    -------
    demand, level
        Imputed demand, and each day's level (mean uncensored demand per ordinary day
        over the ``window`` days before it; carried forward over longer gaps).
    """
    z = np.where(censored, np.nan, units) / scale[:, None]
    seen = ~np.isnan(z)
    sums = np.vstack([np.zeros((1, z.shape[1])), np.cumsum(np.nan_to_num(z), axis=0)])
    counts = np.vstack([np.zeros((1, z.shape[1])), np.cumsum(seen, axis=0)])
    stop = np.arange(len(z))
    start = np.maximum(stop - window, 0)
    n = counts[stop] - counts[start]
    level = np.where(n > 0, (sums[stop] - sums[start]) / np.maximum(n, 1), np.nan)
    level = pd.DataFrame(level).ffill().to_numpy()
    # Before any uncensored day there is nothing to go on but what sold.
    level = np.where(np.isnan(level) & ~np.isnan(units), 0.0, level)
    expected = level * scale[:, None]
    demand = np.where(censored & ~np.isnan(units), np.fmax(units, expected), units)
    return demand, level
