"""What the API reads through: published DuckDB snapshots, or BigQuery itself.

Both readers take the same DuckDB-dialect SQL with ``$name`` parameters; the BigQuery one
transpiles it and binds the parameters as ``@name`` query parameters. Which one serves is
decided by the warehouse URL, in :func:`open_reader` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from analytics_pipeline.serving.snapshot import SnapshotReader
from analytics_pipeline.settings import Settings, SettingsError
from analytics_pipeline.warehouse import WarehouseURL


class Cursor(Protocol):
    """One answer's reads (DuckDB's connection cursor has this shape)."""

    def execute(self, sql: str, parameters: Mapping[str, object], /) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def close(self) -> None: ...


class Reader(Protocol):
    """Read access to the published tables."""

    @property
    def path(self) -> Path | None:
        """A name for the published version (``None``: nothing published yet)."""
        ...

    def refresh(self, force: bool = False) -> None: ...

    def fetch(self, sql: str, params: dict[str, object] | None = None) -> list[tuple[object, ...]]:
        ...

    def has_table(self, domain: str, table: str) -> bool: ...

    def cursor(self) -> Cursor: ...

    def close(self) -> None: ...


def open_reader(settings: Settings) -> Reader:
    """The reader for ``settings.warehouse_url``: DuckDB snapshots or BigQuery tables."""
    location = WarehouseURL.parse(settings.warehouse_url)
    if location.kind == "duckdb":
        return SnapshotReader(settings.serving_path, settings.store_timezone)
    # Imported lazily: the Google client libraries take a second to import.
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import bigquery

    from analytics_pipeline.serving.bigquery_reader import BigQueryReader

    assert location.project and location.dataset  # noqa: S101 - guaranteed by parse
    try:
        client = bigquery.Client(project=location.project)
    except DefaultCredentialsError as err:
        raise SettingsError(
            f"{settings.warehouse_url} needs Google credentials: set "
            "GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run on a service "
            "account (Cloud Run), or run `gcloud auth application-default login`"
        ) from err
    return BigQueryReader(client, location.project, location.dataset, settings.store_timezone)
