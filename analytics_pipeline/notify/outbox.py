"""The outbox: every message is written here first and stays until a channel accepts it.

It is a SQLite file (WAL mode) beside the warehouse, like the live-order store, rather than
a warehouse table: the digest asset, the urgent-alert runs and the retry sensor update it
row by row from several processes, which DuckDB (one writer process holding the file) and
BigQuery (per-statement DML, seconds per update) both handle badly, and the same file works
whichever warehouse is configured. Point ``ANALYTICS_OUTBOX_DB`` at persistent storage
shared by the Dagster daemon and its run workers.

States: ``pending`` (not tried yet), ``failed`` (tried; ``next_attempt_at`` says when to
try again), ``sent``. Before sending, a worker *claims* a message by moving its
``next_attempt_at`` past a lease, so two runs draining at once never send it twice.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from analytics_pipeline.notify.alerts import Alert
from analytics_pipeline.sqlite_store import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
  message_id TEXT PRIMARY KEY,       -- kind:channel:hash of the alert ids (idempotent)
  channel TEXT NOT NULL,             -- slack | email
  kind TEXT NOT NULL,                -- digest | urgent
  payload TEXT NOT NULL,             -- JSON the channel sends
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,     -- UTC, ISO-8601 (sorts as text)
  last_error TEXT,
  provider_id TEXT,                  -- Slack ts, SendGrid X-Message-Id, SMTP Message-ID
  created_at TEXT NOT NULL,
  sent_at TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);
CREATE TABLE IF NOT EXISTS outbox_alerts (
  message_id TEXT NOT NULL REFERENCES outbox(message_id),
  alert_key TEXT NOT NULL,           -- alert_type|product_id: what the cooldown compares
  alert_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  queued_at TEXT NOT NULL,
  PRIMARY KEY (message_id, alert_key)
);
CREATE INDEX IF NOT EXISTS outbox_alerts_recent ON outbox_alerts (channel, alert_key, queued_at);
"""

Render = Callable[[Sequence[Alert], int], dict[str, Any]]


@dataclass(frozen=True)
class OutboxMessage:
    message_id: str
    channel: str
    kind: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class Queued:
    """What :meth:`Outbox.enqueue` did: the message id (``None``: nothing new) and how many
    alerts the cooldown held back."""

    message_id: str | None
    suppressed: int


class Outbox(SqliteStore):
    """The SQLite outbox; safe to share between processes."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")  # one writer at a time: check-then-insert is safe
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def enqueue(
        self, channel: str, kind: str, alerts: Sequence[Alert], render: Render,
        now: datetime, quiet_since: datetime,
    ) -> Queued:
        """Queue one message for the ``alerts`` not queued on ``channel`` since
        ``quiet_since`` (the cooldown); ``render(fresh_alerts, held_back)`` builds it."""
        with self._transaction() as conn:
            recent = _recent_keys(conn, channel, [a.key for a in alerts], quiet_since)
            fresh = [a for a in alerts if a.key not in recent]
            if not fresh:
                return Queued(None, len(alerts))
            ids = "\n".join(sorted(a.alert_id for a in fresh))
            message_id = f"{kind}:{channel}:{hashlib.sha256(ids.encode()).hexdigest()[:20]}"
            inserted = conn.execute(
                "INSERT OR IGNORE INTO outbox (message_id, channel, kind, payload, state,"
                " next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                (message_id, channel, kind, json.dumps(render(fresh, len(alerts) - len(fresh))),
                 _iso(now), _iso(now)),
            ).rowcount
            if not inserted:  # these very alerts were queued before: nothing new to say
                return Queued(None, len(alerts))
            conn.executemany(
                "INSERT OR IGNORE INTO outbox_alerts VALUES (?, ?, ?, ?, ?)",
                [(message_id, a.key, a.alert_id, channel, _iso(now)) for a in fresh],
            )
        return Queued(message_id, len(alerts) - len(fresh))

    def claim_due(
        self, channels: Sequence[str], now: datetime, lease: timedelta
    ) -> list[OutboxMessage]:
        """Due messages for ``channels``, oldest first, each leased to the caller."""
        if not channels:
            return []
        marks = ", ".join("?" for _ in channels)
        with self._transaction() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE state IN ('pending', 'failed')"  # noqa: S608 - placeholders only
                f" AND next_attempt_at <= ? AND channel IN ({marks})"
                " ORDER BY created_at, message_id",
                (_iso(now), *channels),
            ).fetchall()
            conn.executemany(
                "UPDATE outbox SET next_attempt_at = ? WHERE message_id = ?",
                [(_iso(now + lease), row[0]) for row in rows],
            )
        return [_message(row) for row in rows]

    def mark_sent(self, message_id: str, now: datetime, provider_id: str | None) -> None:
        with self._transaction() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1,"
                " provider_id = ?, last_error = NULL WHERE message_id = ?",
                (_iso(now), provider_id, message_id),
            )

    def mark_failed(
        self, message_id: str, error: str, next_attempt_at: datetime
    ) -> None:
        with self._transaction() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ? WHERE message_id = ?",
                (error, _iso(next_attempt_at), message_id),
            )

    def due(self, now: datetime) -> list[tuple[str, str]]:
        """``(message_id, next_attempt_at)`` of every message waiting to be (re)tried."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT message_id, next_attempt_at FROM outbox WHERE state IN"
                " ('pending', 'failed') AND next_attempt_at <= ? ORDER BY message_id",
                (_iso(now),),
            ).fetchall()
        return [(str(a), str(b)) for a, b in rows]

    def messages(self, state: str | None = None) -> list[OutboxMessage]:
        """Every message (optionally in one state), oldest first."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE ? IS NULL OR state = ?"  # noqa: S608 - constant column list
                " ORDER BY created_at, message_id",
                (state, state),
            ).fetchall()
        return [_message(row) for row in rows]

    def counts(self) -> dict[str, int]:
        with self._connect() as conn:
            rows = conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall()
        return {str(state): int(n) for state, n in rows}

    def deliveries(self) -> dict[str, tuple[int, int, int]]:
        """Per channel: messages sent, failed attempts, messages still waiting.

        Failed attempts are every attempt but the one that went through, so the figure only
        grows (a Prometheus counter) even when a failed message is later delivered.
        """
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT channel, sum(CASE WHEN state = 'sent' THEN 1 ELSE 0 END),"
                " sum(attempts) - sum(CASE WHEN state = 'sent' THEN 1 ELSE 0 END),"
                " sum(CASE WHEN state = 'sent' THEN 0 ELSE 1 END)"
                " FROM outbox GROUP BY channel ORDER BY channel"
            ).fetchall()
        return {str(ch): (int(sent), int(failed), int(waiting))
                for ch, sent, failed, waiting in rows}


_COLUMNS = ("message_id, channel, kind, payload, state, attempts, next_attempt_at, last_error,"
            " created_at, sent_at")


def _recent_keys(
    conn: sqlite3.Connection, channel: str, keys: Sequence[str], since: datetime
) -> set[str]:
    # A message still pending counts too: its alerts are on their way.
    recent: set[str] = set()
    for start in range(0, len(keys), 500):  # SQLite caps bound variables per statement
        chunk = keys[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = conn.execute(
            "SELECT DISTINCT alert_key FROM outbox_alerts WHERE channel = ? AND queued_at > ?"  # noqa: S608 - placeholders only
            f" AND alert_key IN ({marks})",
            (channel, _iso(since), *chunk),
        ).fetchall()
        recent.update(str(key) for (key,) in rows)
    return recent


def _message(row: Sequence[Any]) -> OutboxMessage:
    return OutboxMessage(
        message_id=row[0], channel=row[1], kind=row[2], payload=json.loads(row[3]),
        state=row[4], attempts=int(row[5]), next_attempt_at=_parse(row[6]),
        last_error=row[7], created_at=_parse(row[8]),
        sent_at=_parse(row[9]) if row[9] else None,
    )


def _iso(moment: datetime) -> str:
    # One fixed-width UTC format so text comparison in SQL orders like time.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
