"""Small SQLite files that several processes share: live orders, the alert outbox, the
export ledger.

Each holds rows that must survive restarts and be updated one at a time by whichever
process gets there (API workers, Dagster runs, sensors): DuckDB allows a single writer
and BigQuery makes single-row updates slow, so these live beside the warehouse instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal


class SqliteStore:
    """Base for a store in one SQLite file, created with ``schema`` on first use."""

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(schema)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = open_connection(self.path)
        try:
            yield conn
        finally:
            conn.close()


def open_connection(
    path: Path, *, synchronous: Literal["FULL", "NORMAL"] = "FULL"
) -> sqlite3.Connection:
    """A connection in autocommit (callers open the transactions they need), on a WAL
    file (readers go on while one process writes), waiting up to 10 s for a writer rather
    than failing. ``synchronous="NORMAL"`` is for connections kept open: in WAL mode it
    never corrupts the file, but a power cut may lose the last commits."""
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    return conn
