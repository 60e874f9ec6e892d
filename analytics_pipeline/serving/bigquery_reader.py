"""The API on BigQuery: tables are read where they are, with Redis in front.

A DuckDB warehouse is copied into snapshot files because one writer locks it. BigQuery
has no such lock, so a run "publishes" by writing two small tables instead:
``serving.published_tables`` (what the API may read, the DuckDB snapshot's
``information_schema.tables``) and ``serving.manifest`` (the batch's ``as_of``, live
watermark and publication time), the manifest last. The reader takes the manifest's
modification time as the data version, read from table metadata (``tables.get`` is free,
a query is not), so the API's cache keys change when a run publishes, and cached answers
cost nothing. The API's SQL is the DuckDB SQL the snapshots answer, transpiled per query
and run with bound ``@name`` parameters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import sqlglot
from google.api_core.exceptions import NotFound
from google.cloud import bigquery
from sqlglot import exp

from analytics_pipeline.serving.snapshot import NOT_SERVED, SERVED_RAW, SnapshotMissingError
from analytics_pipeline.warehouse.bigquery_warehouse import BigQueryWarehouse, query_config
from analytics_pipeline.warehouse.dialect import READ_DIALECT, to_bigquery

SERVING = "serving"
# The DuckDB snapshot's names for what the publication tables hold.
RENAMES = {
    "main.manifest": f"{SERVING}.manifest",
    "information_schema.tables": f"{SERVING}.published_tables",
}
MANIFEST_SCHEMA = pa.schema([
    ("as_of", pa.timestamp("us", tz="UTC")), ("live_watermark", pa.int64()),
    ("published_at", pa.timestamp("us", tz="UTC")),
])
TABLES_SCHEMA = pa.schema([
    ("table_catalog", pa.string()), ("table_schema", pa.string()),
    ("table_name", pa.string()), ("table_type", pa.string()),
])


def publish_bigquery(wh: BigQueryWarehouse, as_of: datetime, live_watermark: int) -> int:
    """Record the served tables and a new manifest; return how many tables are served."""
    served = _served_tables(wh)
    rows = {"table_catalog": [wh.project] * len(served), "table_schema": [d for d, _ in served],
            "table_name": [t for _, t in served], "table_type": ["BASE TABLE"] * len(served)}
    _load(wh, "published_tables", pa.table(rows, schema=TABLES_SCHEMA))
    manifest = {"as_of": [as_of], "live_watermark": [live_watermark],
                "published_at": [datetime.now(UTC)]}
    _load(wh, "manifest", pa.table(manifest, schema=MANIFEST_SCHEMA))
    return len(served)


def republish_bigquery(wh: BigQueryWarehouse) -> None:
    """Make the current publication new after served tables were rebuilt in place (``POST
    /api/segments/refresh``); its ``as_of`` and live watermark stay.

    The API keys its cache on the manifest's modification time, so without this a refresh
    would leave cached answers from before it current. Rewriting ``published_at`` moves that
    time, as a new snapshot does on DuckDB (:func:`~analytics_pipeline.serving.snapshot.\
republish_schema`).
    """
    wh.execute("UPDATE serving.manifest SET published_at = current_timestamp WHERE true")


def _served_tables(wh: BigQueryWarehouse) -> list[tuple[str, str]]:
    prefix = f"{wh.dataset}_"
    found: list[tuple[str, str]] = []
    for dataset in wh.client.list_datasets(wh.project):
        domain = dataset.dataset_id.removeprefix(prefix)
        if not dataset.dataset_id.startswith(prefix) or domain == SERVING:
            continue
        for table in wh.client.list_tables(dataset.reference):
            raw_served = domain == "ingest" and table.table_id in SERVED_RAW
            if table.table_type == "TABLE" and (domain not in NOT_SERVED or raw_served):
                found.append((domain, table.table_id))
    return sorted(found)


def _load(wh: BigQueryWarehouse, table: str, data: pa.Table) -> None:
    wh.load_arrow(SERVING, table, pa.RecordBatchReader.from_batches(data.schema,
                                                                    data.to_batches()))


def _without_null_limits(sql: str, params: Mapping[str, object]) -> str:
    """``sql`` without its ``LIMIT $x`` when ``x`` is None: DuckDB reads that as no limit,
    BigQuery refuses a NULL limit."""
    unlimited = {name for name, value in params.items() if value is None}
    if not unlimited or "limit" not in sql.lower():
        return sql
    parsed = sqlglot.parse_one(sql, read=READ_DIALECT)
    for limit in list(parsed.find_all(exp.Limit)):
        value = limit.expression
        if isinstance(value, exp.Placeholder) and value.name in unlimited:
            limit.pop()
    return parsed.sql(dialect=READ_DIALECT)


class BigQueryCursor:
    """The DuckDB cursor calls the API makes (``execute(...).fetchall()``), on BigQuery."""

    def __init__(self, reader: BigQueryReader) -> None:
        self._reader = reader
        self._rows: list[tuple[object, ...]] = []

    def execute(self, sql: str, parameters: Mapping[str, object] | None = None, /
                ) -> BigQueryCursor:
        self._rows = self._reader.query(sql, parameters or {})
        return self

    def fetchall(self) -> list[tuple[object, ...]]:
        return self._rows

    def close(self) -> None:
        self._rows = []


class BigQueryReader:
    """Reads the published tables of ``bigquery://project/dataset``.

    Parameters
    ----------
    client
        A BigQuery client with read access to the datasets.
    project, dataset
        The warehouse's project and dataset prefix.
    timezone
        The store's time zone (bound as ``@store_tz`` where SQL needs it).
    check_every
        Seconds between checks of the manifest for a new publication.
    """

    def __init__(self, client: bigquery.Client, project: str, dataset: str, timezone: str,
                 check_every: float = 10.0) -> None:
        self.client = client
        self.project = project
        self.dataset = dataset
        self.timezone = timezone
        self._check_every = check_every
        self._lock = threading.Lock()
        self._published: datetime | None = None
        self._checked_at: float | None = None

    @property
    def path(self) -> Path | None:
        if self._published is None:
            return None
        return Path(f"bigquery-{self.project}.{self.dataset}-{self._published:%Y%m%dT%H%M%S%f}")

    def refresh(self, force: bool = False) -> None:
        """Look for a newer publication (at most every ``check_every`` s unless ``force``)."""
        manifest = f"{self.project}.{self.dataset}_{SERVING}.manifest"
        # Held during the lookup: a concurrent request waits for its answer rather than
        # reading the version before the first lookup has finished.
        with self._lock:
            now = time.monotonic()
            if not force and self._checked_at is not None and (
                    now - self._checked_at < self._check_every):
                return
            try:
                self._published = self.client.get_table(manifest).modified
            except NotFound:
                self._published = None
            self._checked_at = now

    def query(self, sql: str, params: Mapping[str, object]) -> list[tuple[object, ...]]:
        """Run DuckDB-dialect ``sql`` on BigQuery with ``params`` bound; return its rows."""
        (statement,) = to_bigquery(_without_null_limits(sql, params), self.project,
                                   self.dataset, renames=RENAMES)
        config = query_config(statement, {"store_tz": self.timezone, **params})
        rows = self.client.query_and_wait(statement, job_config=config)
        return [tuple(row.values()) for row in rows]

    def cursor(self) -> BigQueryCursor:
        self.refresh()
        if self._published is None:
            raise SnapshotMissingError(
                f"nothing published in bigquery://{self.project}/{self.dataset}: run "
                "`analytics-pipeline materialize` first"
            )
        return BigQueryCursor(self)

    def fetch(self, sql: str, params: dict[str, object] | None = None) -> list[tuple[object, ...]]:
        return self.cursor().execute(sql, params or {}).fetchall()

    def has_table(self, domain: str, table: str) -> bool:
        rows = self.fetch(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = $d AND table_name = $t",
            {"d": domain, "t": table},
        )
        return bool(rows)

    def close(self) -> None:
        self.client.close()  # type: ignore[no-untyped-call]
