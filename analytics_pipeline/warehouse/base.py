"""What every warehouse backend offers the assets, the checks and the API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import pandas as pd
import pyarrow as pa

Params = Mapping[str, object]


class Warehouse(Protocol):
    """A SQL warehouse. SQL given to it is DuckDB-dialect, with ``domain.table`` names;
    backends for other engines transpile it (see :mod:`analytics_pipeline.warehouse.dialect`).
    """

    kind: str

    def execute(self, sql: str, params: Params | None = None) -> None:
        """Run one statement that returns nothing."""
        ...

    def fetch_all(self, sql: str, params: Params | None = None) -> list[tuple[object, ...]]:
        """Run a query and return its rows."""
        ...

    def fetch_df(self, sql: str, params: Params | None = None) -> pd.DataFrame:
        """Run a query and return a DataFrame."""
        ...

    def ensure_schema(self, domain: str) -> None:
        """Create the schema (DuckDB) or dataset (BigQuery) for a domain if missing."""
        ...

    def table_exists(self, domain: str, table: str) -> bool:
        """Whether ``domain.table`` exists."""
        ...

    def load_arrow(self, domain: str, table: str, batches: pa.RecordBatchReader) -> int:
        """Replace ``domain.table`` with the given batches; return the row count."""
        ...

    def run_script(self, statements: Sequence[str], params: Params | None = None) -> None:
        """Run several statements as one unit (one transaction where the engine has them)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
