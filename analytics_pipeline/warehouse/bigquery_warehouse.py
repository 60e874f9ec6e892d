"""BigQuery, for stores that outgrow one machine.

The same DuckDB-dialect SQL runs here after ``warehouse.dialect.to_bigquery``.
The client comes from dagster-gcp's ``BigQueryResource`` (see ``resources.py``) so
credentials are handled the way Dagster deployments expect.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from google.api_core.exceptions import NotFound
from google.cloud import bigquery

from analytics_pipeline.warehouse.base import Params
from analytics_pipeline.warehouse.dialect import to_bigquery
from analytics_pipeline.warehouse.params import identifier, used_params

_AT_PARAM = re.compile(r"@([a-z_][a-z0-9_]*)")


class BigQueryWarehouse:
    """Datasets ``{dataset}_{domain}`` in one project hold the domains' tables."""

    kind = "bigquery"

    def __init__(
        self, client: bigquery.Client, project: str, dataset: str, store_timezone: str
    ) -> None:
        self._client = client
        self.project = project
        self.dataset = dataset
        self.store_timezone = store_timezone

    def execute(self, sql: str, params: Params | None = None) -> None:
        for statement in to_bigquery(sql, self.project, self.dataset):
            self._query(statement, params).result()

    def fetch_all(self, sql: str, params: Params | None = None) -> list[tuple[object, ...]]:
        (statement,) = to_bigquery(sql, self.project, self.dataset)
        return [tuple(row.values()) for row in self._query(statement, params).result()]

    def fetch_df(self, sql: str, params: Params | None = None) -> pd.DataFrame:
        (statement,) = to_bigquery(sql, self.project, self.dataset)
        frame: pd.DataFrame = self._query(statement, params).result().to_dataframe()
        return frame

    def ensure_schema(self, domain: str) -> None:
        self._client.create_dataset(self._dataset_id(domain), exists_ok=True)

    def table_exists(self, domain: str, table: str) -> bool:
        try:
            self._client.get_table(f"{self._dataset_id(domain)}.{table}")
        except NotFound:
            return False
        return True

    def load_arrow(self, domain: str, table: str, batches: pa.RecordBatchReader) -> int:
        self.ensure_schema(domain)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        )
        # Spooled through a local Parquet file: load jobs are free, streaming inserts are not.
        with tempfile.NamedTemporaryFile(suffix=".parquet") as spool:
            with pq.ParquetWriter(spool.name, batches.schema) as writer:
                for batch in batches:
                    writer.write_batch(batch)
            with open(spool.name, "rb") as handle:
                job = self._client.load_table_from_file(
                    handle, f"{self._dataset_id(domain)}.{table}", job_config=config
                )
            job.result()
        return int(job.output_rows or 0)

    def run_script(self, statements: Sequence[str], params: Params | None = None) -> None:
        translated = [s for sql in statements for s in to_bigquery(sql, self.project, self.dataset)]
        script = ";\n".join(["BEGIN TRANSACTION", *translated, "COMMIT TRANSACTION"])
        self._query(script, params).result()

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]

    def _dataset_id(self, domain: str) -> str:
        return f"{self.project}.{self.dataset}_{identifier(domain)}"

    def _query(self, statement: str, params: Params | None) -> bigquery.QueryJob:
        names = set(_AT_PARAM.findall(statement))
        values = {"store_tz": self.store_timezone, **(params or {})}
        chosen = used_params(" ".join(f"${n}" for n in names), values)
        config = bigquery.QueryJobConfig(
            query_parameters=[_parameter(name, value) for name, value in chosen.items()]
        )
        return self._client.query(statement, job_config=config)


def _parameter(name: str, value: object) -> Any:
    kinds: list[tuple[type, str]] = [
        (bool, "BOOL"), (int, "INT64"), (float, "FLOAT64"),
        (datetime, "TIMESTAMP"), (date, "DATE"), (str, "STRING"),
    ]
    for python_type, bq_type in kinds:
        if isinstance(value, python_type):
            return bigquery.ScalarQueryParameter(name, bq_type, cast(Any, value))
    raise TypeError(f"parameter {name!r}: no BigQuery type for {type(value).__name__}")
