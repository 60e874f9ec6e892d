"""Clickstream events: the block structure every event producer fills in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from analytics_pipeline.generate.arrays import IntArray, as_int

EVENT_TYPES: tuple[str, ...] = (
    "product_view", "cart_add", "cart_remove", "checkout",
    "content_view", "video_view", "article_read",
)  # fmt: skip
PRODUCT_VIEW, CART_ADD, CART_REMOVE, CHECKOUT, CONTENT_VIEW, VIDEO_VIEW, ARTICLE_READ = range(7)


@dataclass(frozen=True)
class Step:
    """One event for each listed session: what, when and about which product/content."""

    kind: int
    session: IntArray
    second: IntArray
    product: IntArray | None = None
    content: IntArray | None = None


@dataclass(frozen=True)
class EventBlock:
    """A batch of events; ``session`` numbers are local to the block until concatenated."""

    customer: IntArray
    kind: IntArray
    product: IntArray
    content: IntArray
    second: IntArray
    session: IntArray

    @property
    def n(self) -> int:
        """Number of events."""
        return len(self.customer)

    @classmethod
    def from_steps(cls, session_customer: IntArray, steps: Sequence[Step]) -> EventBlock:
        """Build the events of sessions ``0..len(session_customer)-1`` from their steps."""
        none = np.zeros(0, dtype=np.int64)

        def column(step: Step, values: IntArray | None) -> IntArray:
            return values if values is not None else np.full(len(step.session), -1)

        session = np.concatenate([none, *(s.session for s in steps)])
        return cls(
            customer=session_customer[session],
            kind=np.concatenate([none, *(np.full(len(s.session), s.kind) for s in steps)]),
            product=np.concatenate([none, *(column(s, s.product) for s in steps)]),
            content=np.concatenate([none, *(column(s, s.content) for s in steps)]),
            second=np.concatenate([none, *(s.second for s in steps)]),
            session=as_int(session),
        )


def finalize_events(
    blocks: Sequence[EventBlock], created_at: IntArray, start_second: int, end_second: int
) -> EventBlock:
    """Merge blocks into one time-ordered log inside the history.

    Events before the account existed cannot be attributed to the customer, so they
    are dropped. Sessions get global numbers in order of first appearance. Fields are
    gathered one at a time to keep peak memory low.
    """
    sizes = [int(b.session.max()) + 1 if b.n else 0 for b in blocks]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    second = np.concatenate([b.second for b in blocks])
    customer = np.concatenate([b.customer for b in blocks])
    inside = (second >= np.maximum(created_at[customer], start_second)) & (second <= end_second)
    keep = np.flatnonzero(inside)
    order = keep[np.argsort(second[keep], kind="stable")]
    del second, customer, inside, keep

    def gather(name: str) -> IntArray:
        return as_int(np.concatenate([getattr(b, name) for b in blocks])[order])

    session = np.concatenate([b.session + o for b, o in zip(blocks, offsets, strict=True)])[order]
    columns = {f.name: gather(f.name) for f in fields(EventBlock) if f.name != "session"}
    return EventBlock(**columns, session=_by_first_appearance(session, int(sum(sizes))))


def _by_first_appearance(session: IntArray, n_sessions: int) -> IntArray:
    """Renumber sessions 0, 1, 2, ... in the order they first appear."""
    first_seen = np.full(n_sessions, len(session), dtype=np.int64)
    np.minimum.at(first_seen, session, np.arange(len(session)))
    rank = np.empty(n_sessions, dtype=np.int64)
    rank[np.argsort(first_seen, kind="stable")] = np.arange(n_sessions)
    return rank[session]
