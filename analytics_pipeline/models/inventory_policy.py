"""The numbers a shop owner tunes: alert thresholds, service level and review period.

Every field is a setting named ``ANALYTICS_INVENTORY_`` + the field name in capitals
(``ANALYTICS_INVENTORY_LOW_STOCK_DAYS=5``), read by :mod:`analytics_pipeline.settings`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InventoryPolicy:
    """Alert thresholds and replenishment targets (defaults are the brief's).

    Attributes
    ----------
    low_stock_days
        Low stock: stock (with orders due in time) projected to run out within this many
        days.
    alert_confidence
        ...and at least this sure of it (the forecast's probability), so the channel does
        not cry wolf; overstock alerts need the same certainty that the stock outlasts
        ``overstock_days``.
    overstock_days
        Overstock: more days of supply on hand than this.
    overstock_min_turnover
        ...or stock turning over fewer times a year than this (90-day rate).
    trending_growth
        Trending: units sold in the last 7 days up at least this share on the 7 before.
    min_weekly_units
        Volume below which trending and seasonal alerts stay silent (1 -> 2 units is noise).
    trending_noise_p
        ...and the rise must be one that demand at the earlier rate reaches by chance at
        most this often (the product's own week-to-week noise).
    slow_mover_days
        Slow mover: stock on hand and no sale for this many days.
    seasonal_rise
        Seasonal: a coming week's forecast above the last 4 weeks' weekly rate by this
        share while stock (with orders due) will not cover the next 4 weeks.
    service_level
        Chance a reorder covers demand until the next one arrives (sets safety stock).
    review_days
        Days until the order list is looked at again (the reorder covers them too).
    overdue_grace_days
        Units on order this many days past their due date (order day + lead time) are no
        longer counted on: the supplier may not deliver.
    """

    low_stock_days: float = 7
    alert_confidence: float = 0.8
    overstock_days: float = 90
    overstock_min_turnover: float = 2.0
    trending_growth: float = 0.5
    min_weekly_units: float = 10
    trending_noise_p: float = 0.01
    slow_mover_days: float = 30
    seasonal_rise: float = 0.3
    service_level: float = 0.95
    review_days: float = 14
    overdue_grace_days: float = 3

    def __post_init__(self) -> None:
        for name in ("alert_confidence", "trending_noise_p", "service_level"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"{env_name(name)} must be between 0 and 1 (exclusive)")
        for field in dataclasses.fields(self):
            if getattr(self, field.name) < 0:
                raise ValueError(f"{env_name(field.name)} must be >= 0")

    def as_dict(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> InventoryPolicy:
        """Policy from ``{field: value}``; unknown keys are refused, missing ones default."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown inventory settings: {sorted(unknown)}")
        return cls(**{k: float(v) for k, v in values.items()})


def env_name(field: str) -> str:
    """The environment variable of a policy field."""
    return f"ANALYTICS_INVENTORY_{field.upper()}"
