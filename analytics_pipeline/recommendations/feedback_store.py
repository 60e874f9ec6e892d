"""Exposures and feedback events of the recommendations experiment, in a SQLite file.

Every API process appends to the same file (WAL mode), as the live orders do. Feedback
events carry the client's ``event_id`` as primary key, so a retried POST is stored once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from analytics_pipeline.sqlite_store import SqliteStore, open_connection

EventType = Literal["impression", "click", "add_to_cart", "purchase"]
EVENT_TYPES: tuple[EventType, ...] = ("impression", "click", "add_to_cart", "purchase")

SCHEMA = """
CREATE TABLE IF NOT EXISTS exposures (
  experiment TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  arm TEXT NOT NULL,
  product_ids TEXT NOT NULL,         -- JSON list, in the order shown
  exposed_at TEXT NOT NULL           -- ISO-8601 UTC
);
CREATE INDEX IF NOT EXISTS exposures_by_customer
  ON exposures (experiment, customer_id, exposed_at);
CREATE TABLE IF NOT EXISTS feedback (
  event_id TEXT PRIMARY KEY,
  experiment TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  arm TEXT NOT NULL,
  event_type TEXT NOT NULL,
  product_id TEXT NOT NULL,
  value TEXT NOT NULL,               -- decimal as text: money is never a binary float
  occurred_at TEXT NOT NULL,         -- ISO-8601 UTC
  received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS feedback_by_customer ON feedback (experiment, customer_id);
-- One row per exposed customer, kept by every flush, so the readout need not scan every
-- exposure.
CREATE TABLE IF NOT EXISTS exposed_customers (
  experiment TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  arm TEXT NOT NULL,
  first_exposed_at TEXT NOT NULL,
  exposures INTEGER NOT NULL,
  PRIMARY KEY (experiment, customer_id)
) WITHOUT ROWID;
"""

# Per exposed customer: the arm, the day of the first exposure, the day of the first
# purchase fed back at or after it (a purchase before any exposure cannot be credited to an
# arm) and the revenue of those purchases (a float: it only feeds the statistics).
_OUTCOMES = """
SELECT e.customer_id, e.arm, substr(e.first_exposed_at, 1, 10),
       substr(MIN(p.occurred_at), 1, 10), COALESCE(SUM(CAST(p.value AS REAL)), 0.0)
FROM exposed_customers e
LEFT JOIN feedback p ON p.experiment = e.experiment AND p.customer_id = e.customer_id
  AND p.event_type = 'purchase' AND p.occurred_at >= e.first_exposed_at
WHERE e.experiment = ?
GROUP BY e.customer_id
"""
# Counts the customer's exposures and keeps the earliest, whichever process flushes first
# (SET expressions read the row as it was before the update).
_FIRST_EXPOSURE = """
INSERT INTO exposed_customers VALUES (?, ?, ?, ?, 1)
ON CONFLICT (experiment, customer_id) DO UPDATE SET
  exposures = exposures + 1,
  arm = CASE WHEN excluded.first_exposed_at < first_exposed_at THEN excluded.arm ELSE arm END,
  first_exposed_at = MIN(first_exposed_at, excluded.first_exposed_at)
"""


@dataclass(frozen=True)
class Exposure:
    customer_id: str
    arm: str
    product_ids: Sequence[str]
    exposed_at: str


@dataclass(frozen=True)
class FeedbackEvent:
    event_id: str
    customer_id: str
    arm: str
    event_type: EventType
    product_id: str
    occurred_at: str
    value: str = "0"


@dataclass(frozen=True)
class Outcome:
    """One exposed customer: arm, first exposure, and purchases since (days ISO dates)."""

    customer_id: str
    arm: str
    exposed_day: str
    converted_day: str | None
    revenue: float


class FeedbackStore(SqliteStore):
    """The SQLite file of exposures and feedback; safe to share between processes."""

    def __init__(self, path: Path) -> None:
        self._local = threading.local()
        super().__init__(path, SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # Feedback arrives one event per request. Closing the last connection to a WAL
        # file checkpoints it with fsyncs (~25 ms per POST here), so each thread keeps
        # its connection open; and NORMAL sync skips the fsync per commit, which in WAL
        # mode never corrupts the file (a power cut may lose the last events).
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = open_connection(self.path, synchronous="NORMAL")
            self._local.conn = conn
        yield conn

    def add_exposures(self, experiment: str, exposures: Sequence[Exposure]) -> None:
        """Append exposures in one transaction (the API flushes them in batches)."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO exposures VALUES (?, ?, ?, ?, ?)",
                [(experiment, e.customer_id, e.arm, json.dumps(list(e.product_ids)),
                  e.exposed_at) for e in exposures],
            )
            conn.executemany(_FIRST_EXPOSURE, [(experiment, e.customer_id, e.arm, e.exposed_at)
                                               for e in exposures])
            conn.execute("COMMIT")

    def add_feedback(self, experiment: str, event: FeedbackEvent) -> bool:
        """Store an event; ``False`` if its ``event_id`` was already received."""
        with self._connect() as conn:
            inserted = conn.execute(
                "INSERT OR IGNORE INTO feedback (event_id, experiment, customer_id, arm,"
                " event_type, product_id, value, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (event.event_id, experiment, event.customer_id, event.arm, event.event_type,
                 event.product_id, event.value, event.occurred_at),
            ).rowcount
        return bool(inserted)

    def outcomes(self, experiment: str) -> list[Outcome]:
        """Every exposed customer with the purchases fed back since the first exposure."""
        with self._connect() as conn:
            rows = conn.execute(_OUTCOMES, (experiment,)).fetchall()
        return [Outcome(*row) for row in rows]

    def exposure_counts(self, experiment: str) -> dict[str, int]:
        """``{arm: exposures}``: every logged showing, not only each customer's first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT arm, SUM(exposures) FROM exposed_customers WHERE experiment = ?"
                " GROUP BY arm",
                (experiment,),
            ).fetchall()
        return {arm: int(n) for arm, n in rows}

    def event_counts(self, experiment: str) -> dict[tuple[str, str], int]:
        """``{(arm, event_type): events}`` over all feedback of ``experiment``."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT arm, event_type, COUNT(*) FROM feedback WHERE experiment = ?"
                " GROUP BY arm, event_type",
                (experiment,),
            ).fetchall()
        return {(arm, kind): int(n) for arm, kind, n in rows}
