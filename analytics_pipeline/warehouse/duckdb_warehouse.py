"""The embedded default: one DuckDB file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from analytics_pipeline.warehouse.base import Params
from analytics_pipeline.warehouse.params import identifier, used_params


class WarehouseBusyError(RuntimeError):
    """Another process holds DuckDB's single write lock on the file."""


class DuckDBWarehouse:
    """A DuckDB file, with the session time zone set to the store's.

    DuckDB's session time zone decides how timestamps without an offset are read and
    which calendar day an instant falls on, so it must be the store's, not the machine's.
    """

    kind = "duckdb"

    def __init__(self, path: Path, store_timezone: str, read_only: bool = False) -> None:
        self.path = path
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as err:
            raise WarehouseBusyError(
                f"cannot open warehouse {path}: {err}. Another process may be writing it;"
                " wait for it to finish or point --warehouse at another file."
            ) from err
        self._conn.execute("SET TimeZone = $tz", {"tz": store_timezone})

    def execute(self, sql: str, params: Params | None = None) -> None:
        self._conn.execute(sql, used_params(sql, params))

    def fetch_all(self, sql: str, params: Params | None = None) -> list[tuple[object, ...]]:
        return self._conn.execute(sql, used_params(sql, params)).fetchall()

    def fetch_df(self, sql: str, params: Params | None = None) -> pd.DataFrame:
        return self._conn.execute(sql, used_params(sql, params)).df()

    def ensure_schema(self, domain: str) -> None:
        self._conn.execute(f"CREATE SCHEMA IF NOT EXISTS {identifier(domain)}")

    def table_exists(self, domain: str, table: str) -> bool:
        rows = self._conn.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = $d AND table_name = $t",
            {"d": domain, "t": table},
        ).fetchall()
        return bool(rows)

    def load_arrow(self, domain: str, table: str, batches: pa.RecordBatchReader) -> int:
        self.ensure_schema(domain)
        identifier(table)
        self._conn.register("_incoming_batches", batches)
        try:
            self._conn.execute(
                f"CREATE OR REPLACE TABLE {domain}.{table} AS SELECT * FROM _incoming_batches"
            )
        finally:
            self._conn.unregister("_incoming_batches")
        count = self._conn.execute(f"SELECT count(*) FROM {domain}.{table}").fetchone()
        return int(count[0]) if count else 0

    def run_script(self, statements: Sequence[str], params: Params | None = None) -> None:
        self._conn.execute("BEGIN TRANSACTION")
        try:
            for statement in statements:
                self._conn.execute(statement, used_params(statement, params))
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()
