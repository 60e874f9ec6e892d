"""Who is in a segment: the named segments of ``segments.customer_segments``, the
clusters of ``segments.clusters``, with contact fields from ``segments.segment_members``.

Reads the published tables (a DuckDB snapshot or BigQuery), through one cursor the caller
owns.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from analytics_pipeline.serving.readers import Cursor

NAMED_SEGMENTS = ("vip", "new", "inactive", "at_risk", "loyalist", "regular")
_SEGMENT_ID = re.compile(r"^(vip|new|inactive|at_risk|loyalist|regular|affinity:.+|cluster:\d+)$")
CHUNK = 1000

# A named segment is listed in the comma-separated `segments` column; 'regular' is the
# primary segment of customers in none. Contacts may be missing (a customer without a row
# in ingest.customers): they are returned with NULL e-mail and no consent.
NAMED_MEMBERS = """
    SELECT s.customer_id, m.email, m.first_name, m.last_name,
           COALESCE(m.marketing_opt_in, FALSE), s.primary_segment
    FROM segments.customer_segments AS s
    LEFT JOIN segments.segment_members AS m ON m.customer_id = s.customer_id
    WHERE list_contains(string_split(s.segments, ','), $segment)
       OR ($segment = 'regular' AND s.primary_segment = 'regular')
    ORDER BY s.customer_id LIMIT $limit OFFSET $offset"""
CLUSTER_MEMBERS = """
    SELECT c.customer_id, m.email, m.first_name, m.last_name,
           COALESCE(m.marketing_opt_in, FALSE), s.primary_segment
    FROM segments.clusters AS c
    LEFT JOIN segments.customer_segments AS s ON s.customer_id = c.customer_id
    LEFT JOIN segments.segment_members AS m ON m.customer_id = c.customer_id
    WHERE c.cluster_id = $cluster
    ORDER BY c.customer_id LIMIT $limit OFFSET $offset"""
NAMED_COUNT = """
    SELECT count(*) FROM segments.customer_segments AS s
    WHERE list_contains(string_split(s.segments, ','), $segment)
       OR ($segment = 'regular' AND s.primary_segment = 'regular')"""
CLUSTER_COUNT = "SELECT count(*) FROM segments.clusters WHERE cluster_id = $cluster"


class UnknownSegmentError(ValueError):
    """The id names no segment or cluster."""


@dataclass(frozen=True)
class Member:
    customer_id: str
    email: str | None
    first_name: str | None
    last_name: str | None
    marketing_opt_in: bool
    primary_segment: str | None = None

    def fingerprint(self, segment: str) -> str:
        """What was sent: the same member with the same fields is never sent twice; a
        changed address or name is sent again (the destinations upsert)."""
        text = "\x1f".join([segment, (self.email or "").strip().lower(),
                            self.first_name or "", self.last_name or ""])
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def check_segment_id(segment: str) -> str:
    """``segment`` if it is a well-formed id (``vip``, ``affinity:<category>``,
    ``cluster:<n>``...), else :class:`UnknownSegmentError`."""
    if not _SEGMENT_ID.match(segment):
        raise UnknownSegmentError(
            f"unknown segment {segment!r}: use one of {', '.join(NAMED_SEGMENTS)}, "
            "affinity:<category> or cluster:<n> (GET /api/segments/list names them)"
        )
    return segment


def _query(segment: str) -> tuple[str, str, dict[str, object]]:
    check_segment_id(segment)
    if segment.startswith("cluster:"):
        return CLUSTER_MEMBERS, CLUSTER_COUNT, {"cluster": int(segment.split(":", 1)[1])}
    return NAMED_MEMBERS, NAMED_COUNT, {"segment": segment}


def count_members(cursor: Cursor, segment: str) -> int:
    _, sql, params = _query(segment)
    (value,) = cursor.execute(sql, params).fetchall()[0]
    return int(value)


def page_members(
    cursor: Cursor, segment: str, limit: int, offset: int
) -> list[Member]:
    """One page of the segment's members, ordered by customer id."""
    sql, _, params = _query(segment)
    rows = cursor.execute(sql, {**params, "limit": limit, "offset": offset}).fetchall()
    return [_member(row) for row in rows]


def iter_members(cursor: Cursor, segment: str) -> Iterator[Member]:
    """Every member, read in chunks so a large segment is never held in memory at once."""
    offset = 0
    while True:
        page = page_members(cursor, segment, CHUNK, offset)
        yield from page
        if len(page) < CHUNK:
            return
        offset += CHUNK


def _member(row: tuple[object, ...]) -> Member:
    def text(value: object) -> str | None:
        return None if value is None or value == "" else str(value)

    return Member(
        customer_id=str(row[0]), email=text(row[1]), first_name=text(row[2]),
        last_name=text(row[3]), marketing_opt_in=bool(row[4]), primary_segment=text(row[5]),
    )


SEGMENT_NAMES = {
    "vip": ("VIP", "top customers by predicted lifetime value"),
    "new": ("New", "first purchase in the last weeks"),
    "inactive": ("Inactive", "no purchase for a long time"),
    "at_risk": ("At-risk", "buying well below their own cadence, or unlikely to be alive"),
    "loyalist": ("Loyalists", "many purchases at a steady cadence"),
    "regular": ("Regular", "in no other segment"),
}


def segment_tag(segment: str) -> str:
    """The human name of a segment id, used as the tag in the marketing tools."""
    if segment in SEGMENT_NAMES:
        return SEGMENT_NAMES[segment][0]
    kind, _, rest = segment.partition(":")
    return f"Affinity: {rest}" if kind == "affinity" else f"Cluster {rest}"
