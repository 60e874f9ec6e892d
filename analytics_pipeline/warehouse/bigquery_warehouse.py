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
from decimal import Decimal
from typing import Any, cast

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from google.api_core.exceptions import NotFound
from google.cloud import bigquery

from analytics_pipeline.warehouse.base import Params
from analytics_pipeline.warehouse.bigquery_layout import layout_of
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
        config = load_job_config(domain, table)
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

    @property
    def client(self) -> bigquery.Client:
        """The client, for BigQuery-native work (BigQuery ML, publication metadata)."""
        return self._client

    def _query(self, statement: str, params: Params | None) -> bigquery.QueryJob:
        values = {"store_tz": self.store_timezone, **(params or {})}
        return self._client.query(statement, job_config=query_config(statement, values))


def query_config(statement: str, values: Params) -> bigquery.QueryJobConfig:
    """A job configuration binding the ``@name`` parameters ``statement`` uses, typed
    from their Python values: values travel beside the SQL, never inside it."""
    names = set(_AT_PARAM.findall(statement))
    chosen = used_params(" ".join(f"${n}" for n in names), values)
    return bigquery.QueryJobConfig(
        query_parameters=[_parameter(name, value) for name, value in sorted(chosen.items())]
    )


def load_job_config(domain: str, table: str) -> bigquery.LoadJobConfig:
    """A Parquet load that replaces ``domain.table`` with the layout SQL gives it too."""
    config = bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.PARQUET,
        write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
    )
    layout = layout_of(domain, table)
    if layout and layout.partition_column:
        config.time_partitioning = bigquery.TimePartitioning(
            type_=layout.granularity, field=layout.partition_column
        )
    if layout and layout.cluster_by:
        config.clustering_fields = list(layout.cluster_by)
    return config


def _parameter(name: str, value: object) -> Any:
    # Lists bind as arrays (``col IN UNNEST(@ids)``, DuckDB's ``col = ANY($ids)``), typed
    # by their first element; an empty list is an empty STRING array.
    if isinstance(value, list | tuple):
        kind = _scalar_type(name, value[0]) if value else "STRING"
        return bigquery.ArrayQueryParameter(name, kind, list(value))
    if value is None:
        # BigQuery has no untyped NULL; the queries compare optional filters with
        # `@x IS NULL OR text_column = @x`, so a NULL is a STRING.
        return bigquery.ScalarQueryParameter(name, "STRING", None)
    return bigquery.ScalarQueryParameter(name, _scalar_type(name, value), cast(Any, value))


def _scalar_type(name: str, value: object) -> str:
    kinds: list[tuple[type, str]] = [
        (bool, "BOOL"), (int, "INT64"), (float, "FLOAT64"),
        (Decimal, "NUMERIC"), (datetime, "TIMESTAMP"), (date, "DATE"), (str, "STRING"),
    ]
    for python_type, bq_type in kinds:
        if isinstance(value, python_type):
            return bq_type
    raise TypeError(f"parameter {name!r}: no BigQuery type for {type(value).__name__}")
