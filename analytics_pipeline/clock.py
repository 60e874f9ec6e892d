"""The analysis time ``as_of``: every metric is computed as if it were this moment."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo


class AsOfError(ValueError):
    """``as_of`` could not be read as an ISO date or timestamp."""


def resolve_as_of(value: str | datetime | date | None, timezone: str) -> datetime:
    """Return ``as_of`` as an aware datetime.

    Parameters
    ----------
    value
        ``None`` for now; an ISO timestamp (with or without offset) or an ISO date. A bare
        date means the *end* of that day, so ``--as-of 1998-06-30`` includes that day's sales.
    timezone
        Store time zone, applied to values without an offset.
    """
    zone = ZoneInfo(timezone)
    if value is None or (isinstance(value, str) and not value.strip()):
        return datetime.now(zone)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time.max, zone)
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.max, zone)
        parsed = datetime.fromisoformat(text)
    except ValueError as err:
        raise AsOfError(f"as_of {value!r} is not an ISO date or timestamp") from err
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
