"""The export ledger: which members each export run sent, so re-runs resume, never repeat.

A SQLite file (WAL mode) beside the warehouse, like the live-order store and the notify
outbox: the API process writes it row by row while a batch run may hold the DuckDB file,
and the same file works whichever warehouse is configured.

A member's row is keyed by destination, target (audience or list), segment, customer and
the fingerprint of the fields sent. States: ``sending`` (claimed by a run; the claim
expires after a lease so a crashed run's members are tried again), ``sent``, ``failed``.
Claiming happens in one write transaction, so two exports running at once never both
send a member.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from analytics_pipeline.sqlite_store import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS export_runs (
  run_id TEXT PRIMARY KEY,
  destination TEXT NOT NULL,
  target TEXT NOT NULL,
  segment TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  sent INTEGER NOT NULL DEFAULT 0,
  already_sent INTEGER NOT NULL DEFAULT 0,
  skipped_opt_out INTEGER NOT NULL DEFAULT 0,
  skipped_no_email INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS export_members (
  destination TEXT NOT NULL,
  target TEXT NOT NULL,
  segment TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  fingerprint TEXT NOT NULL,         -- hash of the fields sent (no PII in this file)
  state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  run_id TEXT NOT NULL,              -- the run that last touched the row
  last_error TEXT,
  updated_at TEXT NOT NULL,          -- UTC ISO-8601 (sorts as text)
  PRIMARY KEY (destination, target, segment, customer_id, fingerprint)
);
"""
LEASE = timedelta(minutes=15)


@dataclass(frozen=True)
class ExportKey:
    destination: str
    target: str
    segment: str


@dataclass(frozen=True)
class Claim:
    """A batch's members split by what the ledger knows of them."""

    to_send: list[str]
    already_sent: list[str]
    in_progress: list[str]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class ExportLedger(SqliteStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)

    def start_run(self, key: ExportKey) -> str:
        run_id = uuid.uuid4().hex
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO export_runs (run_id, destination, target, segment, started_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (run_id, key.destination, key.target, key.segment, _now()),
            )
        return run_id

    def claim(self, key: ExportKey, run_id: str, members: Mapping[str, str]) -> Claim:
        """Claim ``members`` (customer id -> fingerprint) for ``run_id``: those never sent
        and not claimed by another live run."""
        claim = Claim([], [], [])
        expired = (datetime.now(UTC) - LEASE).isoformat(timespec="microseconds")
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")  # one claimer at a time
            for customer_id, fingerprint in members.items():
                row = conn.execute(
                    "SELECT state, updated_at FROM export_members WHERE destination = ? AND "
                    "target = ? AND segment = ? AND customer_id = ? AND fingerprint = ?",
                    (key.destination, key.target, key.segment, customer_id, fingerprint),
                ).fetchone()
                if row and row[0] == "sent":
                    claim.already_sent.append(customer_id)
                    continue
                if row and row[0] == "sending" and row[1] > expired:
                    claim.in_progress.append(customer_id)
                    continue
                conn.execute(
                    "INSERT INTO export_members (destination, target, segment, customer_id,"
                    " fingerprint, state, run_id, updated_at) VALUES (?, ?, ?, ?, ?, 'sending',"
                    " ?, ?) ON CONFLICT DO UPDATE SET state = 'sending',"
                    " run_id = excluded.run_id, updated_at = excluded.updated_at",
                    (key.destination, key.target, key.segment, customer_id, fingerprint,
                     run_id, _now()),
                )
                claim.to_send.append(customer_id)
            conn.execute("COMMIT")
        return claim

    def record(
        self, key: ExportKey, run_id: str, members: Mapping[str, str],
        outcomes: Mapping[str, str | None],
    ) -> None:
        """Store each claimed member's outcome: ``None`` sent, else the error."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            for customer_id, error in outcomes.items():
                conn.execute(
                    "UPDATE export_members SET state = ?, last_error = ?, attempts = attempts + 1,"
                    " updated_at = ? WHERE destination = ? AND target = ? AND segment = ? AND"
                    " customer_id = ? AND fingerprint = ? AND run_id = ?",
                    ("sent" if error is None else "failed", error, _now(), key.destination,
                     key.target, key.segment, customer_id, members[customer_id], run_id),
                )
            conn.execute("COMMIT")

    def finish_run(self, run_id: str, counts: Mapping[str, int]) -> None:
        columns = ("sent", "already_sent", "skipped_opt_out", "skipped_no_email", "failed")
        with self._connect() as conn:
            conn.execute(
                "UPDATE export_runs SET finished_at = ?, sent = ?, already_sent = ?,"
                " skipped_opt_out = ?, skipped_no_email = ?, failed = ? WHERE run_id = ?",
                (_now(), *(int(counts.get(c, 0)) for c in columns), run_id),
            )

    def states(self, key: ExportKey) -> dict[str, str]:
        """Customer id -> state of the newest row, for tests and inspection."""
        with self._connect() as conn:
            rows: Sequence[tuple[str, str]] = conn.execute(
                "SELECT customer_id, state FROM export_members WHERE destination = ? AND"
                " target = ? AND segment = ? ORDER BY updated_at",
                (key.destination, key.target, key.segment),
            ).fetchall()
        return dict(rows)
