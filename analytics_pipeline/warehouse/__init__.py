"""The warehouse switch: ``open_warehouse(url)`` returns DuckDB or BigQuery behind one protocol."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from analytics_pipeline.warehouse.base import Params, Warehouse
from analytics_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse, WarehouseBusyError
from analytics_pipeline.warehouse.url import WarehouseURL, WarehouseURLError

__all__ = [
    "DuckDBWarehouse",
    "Params",
    "Warehouse",
    "WarehouseBusyError",
    "WarehouseURL",
    "WarehouseURLError",
    "open_warehouse",
]


def open_warehouse(
    url: str,
    store_timezone: str,
    bigquery_client: Callable[[str], Any] | None = None,
    read_only: bool = False,
) -> Warehouse:
    """Open the warehouse named by ``url``.

    ``bigquery_client`` builds a ``google.cloud.bigquery.Client`` for a project; the Dagster
    resource passes dagster-gcp's, the CLI falls back to application-default credentials.
    """
    location = WarehouseURL.parse(url)
    if location.kind == "duckdb":
        assert location.path is not None  # noqa: S101 - guaranteed by WarehouseURL.parse
        return DuckDBWarehouse(location.path, store_timezone, read_only=read_only)
    # Imported lazily: the Google client libraries take a second to import.
    from analytics_pipeline.warehouse.bigquery_warehouse import BigQueryWarehouse

    assert location.project and location.dataset  # noqa: S101 - guaranteed by parse
    if bigquery_client is None:
        from google.cloud import bigquery

        client = bigquery.Client(project=location.project)
    else:
        client = bigquery_client(location.project)
    return BigQueryWarehouse(client, location.project, location.dataset, store_timezone)
