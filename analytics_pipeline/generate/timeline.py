"""The store's calendar: the day grid, shopping intensity and seasonal shapes.

All times are store-local. The grid starts ``pre_days`` before the history so
customers acquired earlier can be simulated; history day ``d`` is grid day
``pre_days + d``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analytics_pipeline.generate.arrays import (
    SECONDS_PER_DAY,
    BoolArray,
    FloatArray,
    IntArray,
    as_float,
)

# Store traffic by weekday (Mon..Sun): a Saturday peak, as in most high-street shops.
_WEEKLY = np.array([0.92, 0.9, 0.94, 0.98, 1.06, 1.22, 0.98])
# Shoppers lean online on weekdays (after work) and in store at weekends.
_ONLINE_WEEKDAY_SHIFT = np.array([0.45, 0.45, 0.45, 0.4, 0.2, -0.75, -0.45])

PROFILES: tuple[str, ...] = ("flat", "summer", "winter", "holiday", "back_to_school", "spring")
# (peak day of year, width in days, extra height) of each seasonal bump.
_PROFILE_BUMPS: dict[str, tuple[float, float, float]] = {
    "summer": (192.0, 38.0, 1.8),
    "winter": (5.0, 40.0, 1.2),
    "holiday": (348.0, 16.0, 2.6),
    "back_to_school": (238.0, 14.0, 1.6),
    "spring": (118.0, 28.0, 1.0),
}


@dataclass(frozen=True)
class Timeline:
    """Day grid of the simulation.

    Attributes
    ----------
    start, end
        First and last day of the history (inclusive).
    days
        History length.
    pre_days
        Days simulated before ``start`` (not written) for long-standing customers.
    first_epoch_day
        Days since 1970-01-01 of grid day 0.
    intensity
        Relative shopping intensity per grid day; mean 1 over the history.
    online_shift
        Per grid day, a logit shift of the chance that a purchase is made online.
    """

    start: dt.date
    end: dt.date
    days: int
    pre_days: int
    first_epoch_day: int
    intensity: FloatArray
    online_shift: FloatArray

    @property
    def grid_days(self) -> int:
        """Number of simulated days (pre-history plus history)."""
        return self.pre_days + self.days

    def dates(self) -> npt.NDArray[np.datetime64]:
        """Calendar date of every grid day."""
        return np.arange(self.grid_days).astype("timedelta64[D]") + np.datetime64(
            self.first_epoch_day, "D"
        )

    def day_seconds(self, grid_day: IntArray) -> IntArray:
        """Epoch seconds of midnight at the given grid days."""
        return (grid_day + self.first_epoch_day) * SECONDS_PER_DAY

    def epoch_day(self, history_day: IntArray) -> IntArray:
        """Days since 1970-01-01 of history days."""
        return self.first_epoch_day + self.pre_days + history_day

    def history_day_of_year(self) -> IntArray:
        """Day of year (0-based) of every history day."""
        return _calendar(self.dates()[self.pre_days :])[4]


def build_timeline(end: dt.date, days: int, pre_days: int) -> Timeline:
    """Lay out the grid ending on ``end`` and compute its shopping intensity.

    Parameters
    ----------
    end
        Last history day (inclusive).
    days
        History length in days.
    pre_days
        Days simulated before the history.
    """
    start = end - dt.timedelta(days=days - 1)
    first = (start - dt.timedelta(days=pre_days) - dt.date(1970, 1, 1)).days
    dates = np.arange(pre_days + days).astype("timedelta64[D]") + np.datetime64(first, "D")
    intensity = _intensity(dates)
    intensity /= intensity[pre_days:].mean()
    return Timeline(
        start=start,
        end=end,
        days=days,
        pre_days=pre_days,
        first_epoch_day=first,
        intensity=intensity,
        online_shift=_online_shift(dates),
    )


def seasonal_profiles(day_of_year: IntArray) -> FloatArray:
    """Return the multiplier of every profile in :data:`PROFILES` per day.

    Returns
    -------
    FloatArray
        ``(days, len(PROFILES))``; ``flat`` is constant 1.
    """
    out = np.ones((len(day_of_year), len(PROFILES)))
    for k, name in enumerate(PROFILES[1:], start=1):
        peak, width, height = _PROFILE_BUMPS[name]
        out[:, k] += height * _bump(day_of_year, peak, width)
    return out


def _bump(day_of_year: IntArray, peak: float, width: float) -> FloatArray:
    # Circular distance so a winter peak near 1 January covers late December too.
    dist = np.abs(day_of_year - peak)
    dist = np.minimum(dist, 365.25 - dist)
    return as_float(np.exp(-0.5 * (dist / width) ** 2))


def _calendar(
    dates: npt.NDArray[np.datetime64],
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
    """Year, month (1-12), day of month, weekday (0=Mon) and day of year of dates."""
    years = dates.astype("datetime64[Y]")
    months = dates.astype("datetime64[M]")
    year = years.astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    dom = (dates - months).astype(np.int64) + 1
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    doy = (dates - years).astype(np.int64)
    return year, month, dom, weekday, doy


def _black_fridays(years: IntArray) -> list[dt.date]:
    """Black Friday (day after the fourth Thursday of November) for each year."""
    out = []
    for year in sorted({int(y) for y in years}):
        first = dt.date(year, 11, 1)
        thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)
        out.append(thursday + dt.timedelta(days=1))
    return out


def _special_days(dates: npt.NDArray[np.datetime64], offsets: dict[int, float]) -> FloatArray:
    """Multiplier for days at given offsets from each Black Friday (1 elsewhere)."""
    out = np.ones(len(dates))
    epoch = dates.astype(np.int64)
    for friday in _black_fridays(_calendar(dates)[0]):
        friday_epoch = (friday - dt.date(1970, 1, 1)).days
        for offset, factor in offsets.items():
            out[epoch == friday_epoch + offset] *= factor
    return out


def _intensity(dates: npt.NDArray[np.datetime64]) -> FloatArray:
    """Unnormalised shopping intensity: weekly x yearly x holiday spikes."""
    _, month, dom, weekday, doy = _calendar(dates)
    level = _WEEKLY[weekday] * (1.0 + 0.06 * np.cos(2 * np.pi * (doy - 195) / 365.25))
    run_up = ((month == 11) & (dom >= 15)) | ((month == 12) & (dom <= 23))
    days_in = np.where(month == 11, dom - 15, dom + 15)
    level = level * np.where(run_up, 1.0 + 0.8 * days_in / 38.0, 1.0)
    level = level * _date_factors(month, dom)
    return as_float(level * _special_days(dates, {0: 2.6, 1: 1.5, 2: 1.25, 3: 2.2}))


def _date_factors(month: IntArray, dom: IntArray) -> FloatArray:
    """Fixed-date effects: Christmas, Boxing Day, New Year and the January dip."""
    out = np.ones(len(month))
    december = month == 12
    out[december & (dom == 24)] = 1.3
    out[december & (dom == 25)] = 0.2
    out[december & (dom == 26)] = 1.7
    out[december & (dom >= 27)] = 1.15
    january_dip = ((month == 1) & (dom >= 2)) | ((month == 2) & (dom <= 10))
    out[january_dip] = 0.82
    out[(month == 1) & (dom == 1)] = 0.35
    return out


def _online_shift(dates: npt.NDArray[np.datetime64]) -> FloatArray:
    """Logit shift toward online per day: weekdays, Cyber Monday, shop closed at Christmas."""
    _, month, dom, weekday, _ = _calendar(dates)
    shift = _ONLINE_WEEKDAY_SHIFT[weekday].copy()
    shift += np.log(_special_days(dates, {3: 3.0, 0: 0.75}))
    closed: BoolArray = (month == 12) & (dom == 25)
    shift[closed] = 6.0
    return shift
