"""Published snapshots: what the API reads while the warehouse may be mid-run.

DuckDB lets one process write a file and no one else open it meanwhile. So a finished
run copies the served tables into new snapshot files and then atomically points
``CURRENT`` at them; API processes open snapshots read-only (any number of readers may
share a file no one writes) and switch when ``CURRENT`` changes.

A publication is a main file plus one *part* file per schema in :data:`SEPARATE`, which
readers attach under the schema's name, so ``segments.rfm`` reads the same either way. A
segments refresh between runs then writes only a new segments part instead of copying
every served table (on the 1M-customer store the whole snapshot is gigabytes).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from analytics_pipeline.warehouse import DuckDBWarehouse

NOT_SERVED = ("ingest", "staging", "information_schema", "pg_catalog")
# Raw tables stay out (size, PII), except the product catalogue: the API names products
# for any as_of, not only those the batch's models happen to carry.
SERVED_RAW = ("products",)
# Schemas recomputed between runs (POST /api/segments/refresh), published in parts.
SEPARATE = ("segments",)
KEEP_SNAPSHOTS = 3
POINTER = "CURRENT"
# Whether ``$d.$t`` is published: a schema in a part file is an attached catalog whose
# tables sit in its ``main`` schema, so the domain may name either.
TABLE_EXISTS_SQL = ("SELECT 1 FROM information_schema.tables "
                    "WHERE $d IN (table_schema, table_catalog) AND table_name = $t")


@dataclass(frozen=True)
class Publication:
    """The files of one published version: the main snapshot and its parts by schema."""

    main: Path
    parts: dict[str, Path] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Names every file, so it changes whenever any of them is republished."""
        return "+".join([self.main.name, *(p.name for _, p in sorted(self.parts.items()))])

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection with the parts attached under their schema names.

        Connections to one file share a database within a process, and another may have
        attached the parts already; every publication has a main file name of its own
        (see :func:`_linked`), so what is attached there is this publication's part.
        """
        conn = duckdb.connect(str(self.main), read_only=True)
        for schema, path in sorted(self.parts.items()):
            conn.execute(f"ATTACH IF NOT EXISTS '{_quoted(path)}' AS {schema} (READ_ONLY)")
        return conn


def publish_snapshot(
    wh: DuckDBWarehouse, serving_dir: Path, as_of: datetime, live_watermark: int
) -> Path:
    """Copy every served table into new snapshot files and make them current."""
    serving_dir.mkdir(parents=True, exist_ok=True)
    target = _new_file(serving_dir, "snapshot")
    raw = ", ".join(f"'{name}'" for name in SERVED_RAW)
    tables = [(str(s), str(t)) for s, t in wh.fetch_all(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_type = 'BASE TABLE' "
        f"AND (table_schema NOT IN {NOT_SERVED!r}"
        f" OR (table_schema = 'ingest' AND table_name IN ({raw}))) ORDER BY 1, 2"
    )]
    in_main = [(s, t) for s, t in tables if s not in SEPARATE]
    wh.execute(f"ATTACH '{_quoted(target)}' AS snap")
    try:
        for schema in sorted({s for s, _ in in_main}):
            wh.execute(f"CREATE SCHEMA snap.{schema}")
        for schema, table in in_main:
            wh.execute(f"CREATE TABLE snap.{schema}.{table} AS SELECT * FROM {schema}.{table}")
        wh.execute(
            "CREATE TABLE snap.main.manifest AS SELECT CAST($as_of AS TIMESTAMPTZ) AS as_of, "
            "CAST($watermark AS BIGINT) AS live_watermark, now() AS published_at",
            {"as_of": as_of, "watermark": live_watermark},
        )
    finally:
        wh.execute("DETACH snap")
    digests = TableDigests(wh)
    parts = {schema: _write_part(wh, serving_dir, schema, None, digests)
             for schema in SEPARATE if any(s == schema for s, _ in tables)}
    publication = Publication(target, parts)
    _point_at(serving_dir, publication)
    _prune(serving_dir, publication)
    return target


def republish_schema(
    wh: DuckDBWarehouse, serving_dir: Path, schema: str, digests: TableDigests | None = None
) -> Publication:
    """Publish ``schema``'s tables anew from the warehouse as a new part beside the current
    main snapshot, and make that current; the manifest keeps its batch ``as_of`` and live
    watermark.

    For recomputing one domain between runs (``POST /api/segments/refresh``). The new part
    starts as a copy of the current one, and only tables whose content differs from it
    (by :func:`table_digest`) are rewritten: a refresh keeps most of the large ones.
    ``digests`` may carry the warehouse tables' digests the caller already computed.
    """
    if schema not in SEPARATE:
        raise ValueError(f"{schema!r} is not published in a part of its own ({SEPARATE})")
    current = current_publication(serving_dir)
    if current is None or not current.main.exists():
        raise SnapshotMissingError(f"no published snapshot in {serving_dir} to update")
    main = (_linked(current.main, "snapshot") if schema in current.parts
            else _without(wh, current.main, schema))
    part = _write_part(wh, serving_dir, schema, current.parts.get(schema),
                       digests or TableDigests(wh))
    publication = Publication(main, {**current.parts, schema: part})
    _point_at(serving_dir, publication)
    _prune(serving_dir, publication)
    return publication


def _linked(source: Path, prefix: str) -> Path:
    """The same file under a new name. DuckDB shares one database per file name within a
    process, so a reader still on the old publication would otherwise hold the catalog
    name the new part must be attached under; a hard link costs no copy."""
    target = _new_file(source.parent, prefix)
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copyfile(source, target)
    return target


def _without(wh: DuckDBWarehouse, main: Path, schema: str) -> Path:
    """A copy of ``main`` without ``schema``: a snapshot published before parts existed
    holds it, and attaching a part of the same name beside it would be ambiguous."""
    target = _new_file(main.parent, "snapshot")
    shutil.copyfile(main, target)
    wh.execute(f"ATTACH '{_quoted(target)}' AS snap")
    try:
        wh.execute(f"DROP SCHEMA IF EXISTS snap.{schema} CASCADE")
    finally:
        wh.execute("DETACH snap")
    return target


def _write_part(
    wh: DuckDBWarehouse, serving_dir: Path, schema: str, previous: Path | None,
    digests: TableDigests,
) -> Path:
    """A new part file holding ``schema``'s tables (in its ``main`` schema).

    Each table's digest is kept as its comment. With a ``previous`` part, tables whose
    digest the warehouse still has are taken over from it: the whole part when none
    changed (a link), else a copy in which only the others are rewritten.
    """
    tables = {str(t): digests.of(f"{schema}.{t}") for (t,) in wh.fetch_all(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = "
        "current_database() AND table_type = 'BASE TABLE' AND table_schema = $s ORDER BY 1",
        {"s": schema})}
    held: dict[str, str] = {}
    target = _new_file(serving_dir, schema)
    if previous is not None and previous.exists():
        held = _digests_in(wh, previous)
        if held == tables:
            return _linked(previous, schema)
        shutil.copyfile(previous, target)
    wh.execute(f"ATTACH '{_quoted(target)}' AS part")
    try:
        for table in sorted(set(held) - set(tables)):
            wh.execute(f"DROP TABLE part.main.{table}")
        for table, digest in tables.items():
            if held.get(table) == digest:
                continue
            wh.execute(f"CREATE OR REPLACE TABLE part.main.{table} AS "
                       f"SELECT * FROM {schema}.{table}")
            wh.execute(f"COMMENT ON TABLE part.main.{table} IS '{digest}'")  # digits, a colon
    finally:
        wh.execute("DETACH part")
    return target


def _digests_in(wh: DuckDBWarehouse, part: Path) -> dict[str, str]:
    """The digests a part file's tables were written with (their comments)."""
    wh.execute(f"ATTACH '{_quoted(part)}' AS previous (READ_ONLY)")
    try:
        return {str(t): str(c) for t, c in wh.fetch_all(
            "SELECT table_name, comment FROM duckdb_tables() "
            "WHERE database_name = 'previous' AND comment IS NOT NULL")}
    finally:
        wh.execute("DETACH previous")


def table_digest(wh: DuckDBWarehouse, table: str) -> str:
    """Row count and the sum of the row hashes of ``table`` (qualified): order-free, and a
    fraction of a second even for ten million rows."""
    ((count, total),) = wh.fetch_all(
        f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {table} AS t")
    return f"{count}:{total}"


class TableDigests:
    """:func:`table_digest` of warehouse tables, each computed once until :meth:`forget`
    (the caller rebuilt the table): a refresh compares the same tables several times."""

    def __init__(self, wh: DuckDBWarehouse) -> None:
        self._wh = wh
        self._known: dict[str, str] = {}

    def of(self, table: str) -> str:
        if table not in self._known:
            self._known[table] = table_digest(self._wh, table)
        return self._known[table]

    def forget(self, table: str) -> None:
        self._known.pop(table, None)


def current_publication(serving_dir: Path) -> Publication | None:
    """What ``CURRENT`` names, or ``None`` before the first publication."""
    pointer = serving_dir / POINTER
    if not pointer.exists():
        return None
    main, *parts = pointer.read_text().splitlines()
    return Publication(serving_dir / main.strip(), {
        schema: serving_dir / name for schema, name in (line.split() for line in parts)})


def current_snapshot(serving_dir: Path) -> Path | None:
    """The main snapshot file ``CURRENT`` names (it holds the manifest)."""
    publication = current_publication(serving_dir)
    return publication.main if publication else None


def _new_file(serving_dir: Path, prefix: str) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    return serving_dir / f"{prefix}-{stamp}-{uuid.uuid4().hex[:8]}.duckdb"


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _point_at(serving_dir: Path, publication: Publication) -> None:
    lines = [publication.main.name,
             *(f"{schema} {path.name}" for schema, path in sorted(publication.parts.items()))]
    temporary = serving_dir / f".{POINTER}.{os.getpid()}"
    temporary.write_text("\n".join(lines) + "\n")
    os.replace(temporary, serving_dir / POINTER)  # atomic: readers see old or new, never half


def _prune(serving_dir: Path, publication: Publication) -> None:
    # Readers may still hold an older snapshot open; unlinking is safe on POSIX, and the
    # few newest of each kind are kept so a slow reader that just switched finds its file.
    # Hard links of one main file share their modification time: the stamped name breaks
    # the tie (seconds, which is as fine as publications come).
    current = {publication.main, *publication.parts.values()}
    for prefix in ("snapshot", *SEPARATE):
        older = sorted((p for p in serving_dir.glob(f"{prefix}-*.duckdb") if p not in current),
                       key=lambda p: (p.stat().st_mtime, p.name))
        for old in older[:max(len(older) - KEEP_SNAPSHOTS + 1, 0)]:
            old.unlink(missing_ok=True)


class SnapshotReader:
    """Read-only access to the current snapshot, reopening when a new one is published."""

    def __init__(self, serving_dir: Path, timezone: str, check_every: float = 1.0) -> None:
        self.serving_dir = serving_dir
        self.timezone = timezone
        self._check_every = check_every
        self._lock = threading.Lock()
        self._published: Publication | None = None
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
        return bool(self.fetch(TABLE_EXISTS_SQL, {"d": domain, "t": table}))

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
        """Named after every file of the publication read (see :attr:`Publication.name`)."""
        if self._published is None:
            return None
        return self.serving_dir / self._published.name

    def _maybe_switch(self) -> None:
        latest = current_publication(self.serving_dir)
        if latest is None or latest == self._published:
            return
        conn = latest.connect()
        conn.execute("SET TimeZone = $tz", {"tz": self.timezone})
        if self._conn is not None:
            self._retired.append(self._conn)
        self._conn, self._published = conn, latest
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
