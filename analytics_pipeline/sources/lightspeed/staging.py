"""The sync's staging file: synced records as contract rows, cursors and rotated tokens.

Each page is written in one transaction together with its resource's cursor, so a
crash leaves either the whole page and its cursor or neither: the next sync resumes
from the cursor (``>=``, so ties are read again) and upserts by id, which neither loses
nor doubles a record. :class:`LightspeedSource` offers the rows to the loader.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from analytics_pipeline.contract.schema import TABLES, Table
from analytics_pipeline.sources.base import SourceTable, conform
from analytics_pipeline.sources.lightspeed.client import Tokens
from analytics_pipeline.sources.lightspeed.mapping import Row
from analytics_pipeline.sqlite_store import SqliteStore, open_connection

# Contract tables the connector fills, each stored under the contract's own key.
SYNCED = {t.name: t for t in TABLES if t.name in
          ("products", "customers", "orders", "order_lines", "inventory")}
# Inventory keeps the latest row per item and shop; the warehouse keeps the history.
STAGING_KEYS = {**{name: t.key for name, t in SYNCED.items()},
                "inventory": ("product_id", "location_id")}


def _table_ddl(table: Table) -> str:
    columns = ", ".join(f'"{c}" TEXT' for c in table.column_names)
    key = ", ".join(STAGING_KEYS[table.name])
    return f"CREATE TABLE IF NOT EXISTS {table.name} ({columns}, PRIMARY KEY ({key}));"


SCHEMA = "\n".join([
    *(_table_ddl(t) for t in SYNCED.values()),
    "CREATE TABLE IF NOT EXISTS cursors (resource TEXT PRIMARY KEY, value TEXT NOT NULL);",
    # seed: hash of the configured refresh token, so a newly configured one wins over
    # tokens rotated from an older grant.
    "CREATE TABLE IF NOT EXISTS tokens (id INTEGER PRIMARY KEY CHECK (id = 1), seed TEXT,"
    " access_token TEXT, refresh_token TEXT, expires_at REAL);",
])


@dataclass(frozen=True)
class PageWrite:
    """One page's rows by contract table, plus the cursor it advances to."""

    resource: str
    cursor: str | None
    rows: dict[str, list[Row]]
    replace_lines_of: Sequence[str] = ()  # orders whose lines the page carries in full


class StagingStore(SqliteStore):
    """One staging file per account; created readable by its owner only (it holds tokens)."""

    def __init__(self, path: Path, configured_refresh_token: str = "") -> None:
        self._conn: sqlite3.Connection | None = None
        new = not path.exists()
        super().__init__(path, SCHEMA)
        if new:
            os.chmod(path, 0o600)
        self._seed = hashlib.sha256(configured_refresh_token.encode()).hexdigest()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One connection for the store's life: a sync writes a page every few
        milliseconds, and reopening the file each time (a WAL checkpoint on every close)
        would cost more than the page itself."""
        if self._conn is None:
            # A committed page survives the process being killed (the WAL is written
            # before COMMIT returns); only a power cut could lose the last pages, and
            # then their cursor with them, so the next sync reads them again.
            self._conn = open_connection(self.path, synchronous="NORMAL")
        yield self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def unseen_orders(self, page: PageWrite) -> set[str]:
        """The page's orders not stored yet (new sales, as opposed to updated ones)."""
        ids = [str(o["order_id"]) for o in page.rows.get("orders", [])]
        if not ids:
            return set()
        with self._connect() as conn:
            known = conn.execute(
                f"SELECT order_id FROM orders WHERE order_id IN ({','.join('?' * len(ids))})",  # noqa: S608 - placeholders only
                ids,
            ).fetchall()
        return set(ids) - {str(k[0]) for k in known}

    def write_page(self, page: PageWrite) -> None:
        """Upsert the page's rows and advance its cursor, in one transaction."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("DELETE FROM order_lines WHERE order_id = ?",
                             [(i,) for i in page.replace_lines_of])
            for name, rows in page.rows.items():
                if rows:
                    columns = SYNCED[name].column_names
                    conn.executemany(
                        f"INSERT OR REPLACE INTO {name} VALUES ({','.join('?' * len(columns))})",  # noqa: S608 - contract names
                        [tuple(row.get(c) for c in columns) for row in rows],
                    )
            if page.cursor is not None:
                conn.execute("INSERT OR REPLACE INTO cursors VALUES (?, ?)",
                             (page.resource, page.cursor))
            conn.execute("COMMIT")

    def pin_snapshot(self) -> None:
        """Read the file as it is now from here on (an open read transaction), so that a
        sync committing meanwhile cannot pair the orders of one moment with the lines of
        a later one (their orders would be missing, and the lines quarantined)."""
        with self._connect() as conn:
            conn.execute("BEGIN")
            conn.execute("SELECT COUNT(*) FROM cursors").fetchone()

    def cursors(self) -> dict[str, str]:
        with self._connect() as conn:
            return dict(conn.execute("SELECT resource, value FROM cursors").fetchall())

    def count(self, table: str) -> int:
        if table not in SYNCED:
            raise KeyError(table)
        with self._connect() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608 - checked name

    def rows(self, table: Table) -> list[tuple[str | None, ...]]:
        with self._connect() as conn:
            return conn.execute(
                f"SELECT {', '.join(table.column_names)} FROM {table.name} ORDER BY rowid"  # noqa: S608 - contract names
            ).fetchall()

    def load_tokens(self) -> Tokens | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT access_token, refresh_token, expires_at FROM tokens WHERE seed = ?",
                (self._seed,),
            ).fetchone()
        return Tokens(str(row[0]), str(row[1]), float(row[2])) if row else None

    def save_tokens(self, tokens: Tokens) -> None:
        with self._connect() as conn:
            conn.execute("INSERT OR REPLACE INTO tokens VALUES (1, ?, ?, ?, ?)",
                         (self._seed, tokens.access_token, tokens.refresh_token,
                          tokens.expires_at))


class LightspeedSource:
    """The synced records as a :class:`~analytics_pipeline.sources.base.Source`."""

    def __init__(self, path: Path) -> None:
        self.store = StagingStore(path)
        self.store.pin_snapshot()
        self.description = f"Lightspeed records synced to {path}"

    def offer(self, table: Table) -> SourceTable | None:
        if table.name not in SYNCED or self.store.count(table.name) == 0:
            return None
        origin = f"lightspeed:{table.name}"
        return SourceTable(table, origin, lambda: self._read(table, origin))

    def _read(self, table: Table, origin: str) -> pa.RecordBatchReader:
        rows = self.store.rows(table)
        data = pa.table({
            name: pa.array([r[i] for r in rows], pa.string())
            for i, name in enumerate(table.column_names)
        })
        return conform(table, origin, data).to_reader()
