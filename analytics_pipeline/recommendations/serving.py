"""Reading recommendations from the published tables and ranking them for a moment.

The batch stores each customer's top v2 candidates with a calibrated confidence; at
request time the confidence is multiplied by the category's time-of-week lift for the
customer's segment (``recommendations.time_patterns``) and the list re-ranked. v1 lists
are served as stored. Customers without a list get the shop's best-sellers (cold start),
and short lists are topped up with those they do not own yet, in the same query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from analytics_pipeline.models.recs_features import FEATURES

Source = Literal["v1", "v2", "popular"]
TABLES = ("recommendations.v1_scores", "recommendations.v2_scores", "recommendations.in_stock",
          "recommendations.popular", "recommendations.owned_popular",
          "recommendations.time_patterns", "ingest.products")


class Fetch(Protocol):
    def fetch(
        self, sql: str, params: Mapping[str, object] | None = None
    ) -> list[tuple[object, ...]]: ...


@dataclass(frozen=True)
class Moment:
    """The part of a request's time the ranking depends on (also its cache key)."""

    day_type: Literal["weekday", "weekend"]
    daypart: int

    @classmethod
    def of(cls, when: datetime, zone: ZoneInfo) -> Moment:
        local = when.astimezone(zone)
        return cls("weekend" if local.isoweekday() >= 6 else "weekday", local.hour // 4)

    @property
    def hours(self) -> str:
        return f"{self.daypart * 4:02d}:00-{self.daypart * 4 + 4:02d}:00"


@dataclass(frozen=True)
class Ranked:
    """One recommended product; ``signals`` holds v2's raw values and contributions."""

    product_id: str
    name: str | None
    category: str | None
    score: float
    confidence: float | None
    source: Source
    time_lift: float = 1.0
    signals: dict[str, float] = field(default_factory=dict)


def v2_list(snap: Fetch, customer_id: str, moment: Moment, limit: int,
            with_signals: bool = False) -> list[Ranked]:
    """The customer's v2 candidates re-ranked for ``moment``, best ``limit`` first, topped
    up with best-sellers they do not own (one query)."""
    signals = (*FEATURES, *(f"{f}_contribution" for f in FEATURES)) if with_signals else ()
    extra = "".join(f", s.{n}" for n in signals)
    # The segment's own time pattern, else the whole shop's ('*'), else no adjustment.
    head = (
        "SELECT 'v2', s.product_id, p.name, s.category, s.score, s.confidence, "  # noqa: S608 - fixed columns
        f"COALESCE(own.lift, shop.lift, 1.0){extra} "
        "FROM recommendations.v2_scores AS s "
        "LEFT JOIN ingest.products AS p ON p.product_id = s.product_id "
        "LEFT JOIN recommendations.time_patterns AS own ON own.segment = s.segment "
        "  AND own.category = s.category AND own.day_type = $d AND own.daypart = $h "
        "LEFT JOIN recommendations.time_patterns AS shop ON shop.segment = '*' "
        "  AND shop.category = s.category AND shop.day_type = $d AND shop.daypart = $h "
        "WHERE s.customer_id = $c ORDER BY s.rank"
    )
    rows = snap.fetch(_with_fill(head, len(signals)),
                      {"c": customer_id, "d": moment.day_type, "h": moment.daypart,
                       "fill": 2 * limit})
    found = [
        Ranked(str(r[1]), _text(r[2]), _text(r[3]), float(str(r[4])),
               min(1.0, float(str(r[5])) * float(str(r[6]))), "v2", float(str(r[6])),
               {n: float(str(v)) for n, v in zip(signals, r[7:], strict=True)})
        for r in rows if r[0] == "v2"
    ]
    found.sort(key=lambda item: (-(item.confidence or 0.0), -item.score, item.product_id))
    return _topped_up(found, rows, limit)


def v1_list(snap: Fetch, customer_id: str, limit: int) -> list[Ranked]:
    """The customer's stored v1 list, topped up with best-sellers they do not own."""
    head = (
        "SELECT 'v1', s.product_id, p.name, p.category, s.score, NULL, 1.0 "
        "FROM recommendations.v1_scores AS s "
        "LEFT JOIN ingest.products AS p ON p.product_id = s.product_id "
        "WHERE s.customer_id = $c ORDER BY s.rank LIMIT $n"
    )
    rows = snap.fetch(_with_fill(head, 0), {"c": customer_id, "n": limit, "fill": 2 * limit})
    found = [Ranked(str(r[1]), _text(r[2]), _text(r[3]), float(str(r[4])), None, "v1")
             for r in rows if r[0] == "v1"]
    return _topped_up(found, rows, limit)


def _with_fill(head: str, signals: int) -> str:
    """``head`` (an arm's rows for customer ``$c``) followed by up to ``$fill`` best-sellers
    the customer does not already own (recommendations.owned_popular), so a request costs
    one round trip. Best-sellers carry NULL for the ``signals`` extra columns of ``head``."""
    nulls = ", NULL" * signals
    return (
        f"({head}) UNION ALL ("  # noqa: S608 - fixed SQL fragments
        "SELECT 'popular', s.product_id, p.name, s.category, CAST(s.buyers AS DOUBLE), "
        f"s.purchase_rate, 1.0{nulls} FROM recommendations.popular AS s "
        "LEFT JOIN ingest.products AS p ON p.product_id = s.product_id "
        "WHERE s.product_id NOT IN (SELECT o.product_id FROM recommendations.owned_popular "
        "  AS o WHERE o.customer_id = $c) "
        "ORDER BY s.rank LIMIT $fill)"
    )


def _topped_up(found: list[Ranked], rows: list[tuple[object, ...]], limit: int) -> list[Ranked]:
    """``found`` cut to ``limit``, filled up with the best-sellers among ``rows`` not in it.

    ``$fill`` is twice the limit: a fill is only needed when ``found`` is shorter than the
    limit, so at most ``limit`` best-sellers can be taken by it.
    """
    if len(found) >= limit:
        return found[:limit]
    have = {item.product_id for item in found}
    fill = [Ranked(str(r[1]), _text(r[2]), _text(r[3]), float(str(r[4])), float(str(r[5])),
                   "popular") for r in rows if r[0] == "popular" and str(r[1]) not in have]
    return [*found, *fill][:limit]


def missing_tables(snap: Fetch) -> list[str]:
    """Which of :data:`TABLES` the published snapshot lacks (one catalogue query)."""
    rows = snap.fetch(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN ('recommendations', 'ingest')")
    present = {str(name) for (name,) in rows}
    return [name for name in TABLES if name not in present]


def _text(value: object) -> str | None:
    return None if value is None else str(value)
