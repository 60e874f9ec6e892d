"""Time of day: when shoppers buy and browse, by channel and personal habit."""

from __future__ import annotations

import numpy as np

from analytics_pipeline.generate.arrays import BoolArray, FloatArray, IntArray, as_float
from analytics_pipeline.generate.sampling import BlockSampler

# A customer's habitual time of day; ANY_TIME is used for walk-ins with no history.
TIME_PREFS: tuple[str, ...] = ("morning", "lunch", "evening")
ANY_TIME = len(TIME_PREFS)
_PREF_WINDOWS = ((8, 11), (11, 14), (17, 22))
# The shop opens 09:00-20:00 with a lunchtime and an after-work bump.
_STORE_HOURS = [0.0] * 9 + [0.5, 0.8, 1.0, 1.4, 1.3, 1.0, 0.9, 1.0, 1.2, 1.1, 0.7] + [0.0] * 4
# Online shopping never stops but peaks in the evening.
_ONLINE_HOURS = [
    0.25, 0.15, 0.1, 0.08, 0.08, 0.12, 0.25, 0.45, 0.6, 0.7, 0.75, 0.8,
    0.95, 0.9, 0.75, 0.7, 0.75, 0.85, 1.1, 1.45, 1.6, 1.45, 1.0, 0.55,
]  # fmt: skip
_PREF_BOOST = 3.0


def _hour_weights() -> FloatArray:
    """Hour weights per (channel, habit) row: row = online * 4 + habit."""
    hours = np.arange(24)
    rows = []
    for base in (_STORE_HOURS, _ONLINE_HOURS):
        for lo, hi in (*_PREF_WINDOWS, (0, 0)):
            boost = 1.0 + _PREF_BOOST * ((hours >= lo) & (hours < hi))
            rows.append(np.asarray(base) * boost)
    return as_float(rows)


_HOURS = BlockSampler.build(_hour_weights(), np.zeros(1, dtype=np.int64))


def seconds_of_day(online: BoolArray, habit: IntArray, rng: np.random.Generator) -> IntArray:
    """Draw a second of the day for each purchase or browsing session.

    Parameters
    ----------
    online
        Whether the activity happens online (else in the shop, within opening hours).
    habit
        Index into :data:`TIME_PREFS`, or :data:`ANY_TIME`.
    rng
        Random source.

    Returns
    -------
    IntArray
        Seconds since midnight.
    """
    row = online.astype(np.int64) * (ANY_TIME + 1) + habit
    hour = _HOURS.draw(row, np.zeros(len(row), dtype=np.int64), rng)
    return hour * 3600 + rng.integers(0, 3600, size=len(row))
