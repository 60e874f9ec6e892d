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


class SqliteStore:
    """Base for a store in one SQLite file, created with ``schema`` on first use."""

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(schema)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # Autocommit (isolation_level=None) so callers open the transactions they need;
        # WAL lets readers go on while one process writes, and writers wait, not fail.
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=10000")
            yield conn
        finally:
            conn.close()
