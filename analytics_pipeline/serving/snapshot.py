"""Published snapshots: what the API reads while the warehouse may be mid-run.

DuckDB lets one process write a file and no one else open it meanwhile. So a finished
run copies the served tables into a new snapshot file and then atomically points
``CURRENT`` at it; API processes open snapshots read-only (any number of readers may share
a file no one writes) and switch when ``CURRENT`` changes.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import duckdb

from analytics_pipeline.warehouse import DuckDBWarehouse

NOT_SERVED = ("ingest", "staging", "information_schema", "pg_catalog")
# Raw tables stay out (size, PII), except the product catalogue: the API names products
# for any as_of, not only those the batch's models happen to carry.
SERVED_RAW = ("products",)
KEEP_SNAPSHOTS = 3
POINTER = "CURRENT"


def publish_snapshot(
    wh: DuckDBWarehouse, serving_dir: Path, as_of: datetime, live_watermark: int
) -> Path:
    """Copy every served table into a new snapshot file and make it current."""
    serving_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = serving_dir / f"snapshot-{stamp}-{uuid.uuid4().hex[:8]}.duckdb"
    raw = ", ".join(f"'{name}'" for name in SERVED_RAW)
    tables = wh.fetch_all(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_type = 'BASE TABLE' "
        f"AND (table_schema NOT IN {NOT_SERVED!r}"
        f" OR (table_schema = 'ingest' AND table_name IN ({raw}))) ORDER BY 1, 2"
    )
    quoted = str(target).replace("'", "''")
    wh.execute(f"ATTACH '{quoted}' AS snap")
    try:
        for schema in sorted({str(s) for s, _ in tables}):
            wh.execute(f"CREATE SCHEMA snap.{schema}")
        for schema, table in ((str(s), str(t)) for s, t in tables):
            wh.execute(f"CREATE TABLE snap.{schema}.{table} AS SELECT * FROM {schema}.{table}")
        wh.execute(
            "CREATE TABLE snap.main.manifest AS SELECT CAST($as_of AS TIMESTAMPTZ) AS as_of, "
            "CAST($watermark AS BIGINT) AS live_watermark, now() AS published_at",
            {"as_of": as_of, "watermark": live_watermark},
        )
    finally:
        wh.execute("DETACH snap")
    _point_at(serving_dir, target)
    _prune(serving_dir, keep=target)
    return target


def republish_schema(wh: DuckDBWarehouse, serving_dir: Path, schema: str) -> Path:
    """A copy of the current snapshot with ``schema``'s tables taken anew from the
    warehouse, made current; the manifest keeps its batch ``as_of`` and live watermark.

    For recomputing one domain between runs (``POST /api/segments/refresh``): copying the
    file and replacing a few tables is much faster than :func:`publish_snapshot`. Tables
    whose content the copy already holds (same :func:`table_digest`) are not rewritten.
    """
    source = current_snapshot(serving_dir)
    if source is None or not source.exists():
        raise SnapshotMissingError(f"no published snapshot in {serving_dir} to update")
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = serving_dir / f"snapshot-{stamp}-{uuid.uuid4().hex[:8]}.duckdb"
    shutil.copyfile(source, target)
    tables = [str(t) for (t,) in wh.fetch_all(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = "
        "current_database() AND table_type = 'BASE TABLE' AND table_schema = $s ORDER BY 1",
        {"s": schema})]
    quoted = str(target).replace("'", "''")
    wh.execute(f"ATTACH '{quoted}' AS snap")
    try:
        wh.execute(f"CREATE SCHEMA IF NOT EXISTS snap.{schema}")
        held = {str(t) for (t,) in wh.fetch_all(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'snap' "
            "AND table_schema = $s", {"s": schema})}
        for table in tables:
            if table in held and (table_digest(wh, f"snap.{schema}.{table}")
                                  == table_digest(wh, f"{schema}.{table}")):
                continue
            wh.execute(f"CREATE OR REPLACE TABLE snap.{schema}.{table} AS "
                       f"SELECT * FROM {schema}.{table}")
        wh.execute("UPDATE snap.main.manifest SET published_at = now()")
    finally:
        wh.execute("DETACH snap")
    _point_at(serving_dir, target)
    _prune(serving_dir, keep=target)
    return target


def table_digest(wh: DuckDBWarehouse, table: str) -> str:
    """Row count and the sum of the row hashes of ``table`` (qualified): order-free, and a
    fraction of a second even for ten million rows."""
    ((count, total),) = wh.fetch_all(
        f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {table} AS t")
    return f"{count}:{total}"


def current_snapshot(serving_dir: Path) -> Path | None:
    """The snapshot ``CURRENT`` names, or ``None`` before the first publication."""
    pointer = serving_dir / POINTER
    if not pointer.exists():
        return None
    return serving_dir / pointer.read_text().strip()


def _point_at(serving_dir: Path, target: Path) -> None:
    temporary = serving_dir / f".{POINTER}.{os.getpid()}"
    temporary.write_text(target.name)
    os.replace(temporary, serving_dir / POINTER)  # atomic: readers see old or new, never half


def _prune(serving_dir: Path, keep: Path) -> None:
    # Readers may still hold an older snapshot open; unlinking is safe on POSIX, and the
    # few newest are kept so a slow reader that just switched finds its file.
    snapshots = sorted(serving_dir.glob("snapshot-*.duckdb"), key=lambda p: p.stat().st_mtime)
    for old in snapshots[:-KEEP_SNAPSHOTS]:
        if old != keep:
            old.unlink(missing_ok=True)


class SnapshotReader:
    """Read-only access to the current snapshot, reopening when a new one is published."""

    def __init__(self, serving_dir: Path, timezone: str, check_every: float = 1.0) -> None:
        self.serving_dir = serving_dir
        self.timezone = timezone
        self._check_every = check_every
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._retired: list[duckdb.DuckDBPyConnection] = []
        self._checked_at = 0.0

    def refresh(self, force: bool = False) -> None:
        """Switch to a newly published snapshot (checked at most every ``check_every`` s,
        or now with ``force``: this process just published one)."""
        now = time.monotonic()
        if not force and self._conn is not None and now - self._checked_at < self._check_every:
            return
        with self._lock:
            self._checked_at = now
            self._maybe_switch()

    def fetch(self, sql: str, params: dict[str, object] | None = None) -> list[tuple[object, ...]]:
        """Run a read on the newest snapshot."""
        cursor = self.cursor()
        try:
            return cursor.execute(sql, params or {}).fetchall()
        finally:
            cursor.close()

    def has_table(self, domain: str, table: str) -> bool:
        rows = self.fetch(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = $d AND table_name = $t",
            {"d": domain, "t": table},
        )
        return bool(rows)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the newest snapshot (one per thread/request: cursors are cheap)."""
        self.refresh()
        with self._lock:
            if self._conn is None:
                raise SnapshotMissingError(
                    f"no published snapshot in {self.serving_dir}: run "
                    "`analytics-pipeline materialize` first"
                )
            return self._conn.cursor()

    @property
    def path(self) -> Path | None:
        return self._path

    def _maybe_switch(self) -> None:
        latest = current_snapshot(self.serving_dir)
        if latest is None or latest == self._path:
            return
        conn = duckdb.connect(str(latest), read_only=True)
        conn.execute("SET TimeZone = $tz", {"tz": self.timezone})
        if self._conn is not None:
            self._retired.append(self._conn)
        self._conn, self._path = conn, latest
        # Requests may still be reading through the connection just retired, so it stays
        # open until the next switch; older ones close now, or later if a query still runs.
        keep = self._retired[-1:]
        self._retired = [old for old in self._retired[:-1] if not _closed(old)] + keep

    def close(self) -> None:
        with self._lock:
            for conn in [*self._retired, *([self._conn] if self._conn else [])]:
                _closed(conn)
            self._conn, self._retired = None, []


def _closed(conn: duckdb.DuckDBPyConnection) -> bool:
    """Close ``conn`` unless a query still runs on it (DuckDB refuses then; try again later)."""
    try:
        conn.close()
    except duckdb.ResourceInUseException:
        return False
    return True


class SnapshotMissingError(RuntimeError):
    """Nothing has been published yet."""
