"""The figures of ``GET /api/segments/list``: size, revenue share and average CLV of every
named segment, product-affinity group and cluster, from the published segments tables."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from analytics_pipeline.api.panels import Snapshot, count, money, money_or_none, percent
from analytics_pipeline.exports.members import NAMED_SEGMENTS, SEGMENT_NAMES, segment_tag

# A customer counts in every segment that applies (the shares of overlapping segments add
# up to more than 100 %); 'regular' holds those in none. Revenue is each customer's net
# purchase revenue to date (segments.customer_segments.purchase_revenue).
NAMED = """
    WITH tagged AS (
      SELECT unnest(CASE WHEN segments = '' THEN ['regular']
                         ELSE string_split(segments, ',') END) AS segment_id,
             purchase_revenue, predicted_clv
      FROM segments.customer_segments)
    SELECT segment_id, count(*), sum(purchase_revenue), avg(predicted_clv)
    FROM tagged GROUP BY segment_id ORDER BY segment_id"""
CLUSTERS = """
    SELECT c.cluster_id, min(c.cluster_label), count(*), sum(s.purchase_revenue),
           avg(s.predicted_clv)
    FROM segments.clusters AS c
    LEFT JOIN segments.customer_segments AS s ON s.customer_id = c.customer_id
    GROUP BY c.cluster_id ORDER BY c.cluster_id"""
TOTALS = "SELECT count(*), sum(purchase_revenue) FROM segments.customer_segments"


class SegmentSummary(BaseModel):
    id: str = Field(description="the id the customers and export endpoints take")
    kind: Literal["segment", "affinity", "cluster"]
    name: str
    description: str
    customers: int
    revenue: Decimal = Field(description="members' net purchase revenue to date, `currency`")
    revenue_share_pct: float | None = Field(
        description="members' share of all segmented customers' revenue, percent")
    average_clv: Decimal | None = Field(
        description="mean predicted CLV, `currency`; null where CLV could not be fitted")


class SegmentList(BaseModel):
    data_as_of: datetime
    currency: str
    customers: int = Field(description="customers with at least one purchase")
    segments: list[SegmentSummary] = Field(description="named and product-affinity segments")
    clusters: list[SegmentSummary]


def segment_list(snap: Snapshot, currency: str) -> SegmentList:
    snap.require("segments.customer_segments", "segments.clusters")
    customers, revenue = snap.fetch(TOTALS)[0]
    named = {str(row[0]): row for row in snap.fetch(NAMED)}

    def summary(segment_id: str, kind: Literal["segment", "affinity", "cluster"],
                description: str, row: tuple[object, ...] | None,
                name: str | None = None) -> SegmentSummary:
        size, amount, clv = row[-3:] if row else (0, 0, None)
        return SegmentSummary(
            id=segment_id, kind=kind, name=name or segment_tag(segment_id),
            description=description, customers=count(size), revenue=money(amount),
            revenue_share_pct=percent(amount or 0, revenue), average_clv=money_or_none(clv))

    segments = [summary(s, "segment", SEGMENT_NAMES[s][1], named.get(s)) for s in NAMED_SEGMENTS]
    segments += [
        summary(s, "affinity", f"buying and browsing concentrate in {s.split(':', 1)[1]}", row)
        for s, row in named.items() if s.startswith("affinity:")]
    clusters = [
        summary(f"cluster:{row[0]}", "cluster", str(row[1]), row)
        for row in snap.fetch(CLUSTERS)]
    return SegmentList(data_as_of=snap.data_as_of(), currency=currency, customers=count(customers),
                       segments=segments, clusters=clusters)
