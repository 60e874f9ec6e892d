"""Dagster resources: the only way assets reach the warehouse, the source and the clock.

``resources_for`` returns the per-environment set (hooli's pattern): local and
production have the same keys, so assets never check which environment they run in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_gcp import BigQueryResource

from analytics_pipeline.clock import resolve_as_of
from analytics_pipeline.serving.live_orders import LiveOrderStore
from analytics_pipeline.settings import Settings
from analytics_pipeline.sources import ContractError, FolderSource, Source
from analytics_pipeline.sources.live import LiveOrdersSource
from analytics_pipeline.warehouse import Warehouse, WarehouseURL, open_warehouse


class WarehouseResource(dg.ConfigurableResource["WarehouseResource"]):
    """The warehouse named by ``url`` (``duckdb:///...`` or ``bigquery://PROJECT/DATASET``)."""

    url: str
    store_timezone: str = "UTC"

    @contextmanager
    def open(self) -> Iterator[Warehouse]:
        with ExitStack() as stack:
            client_for: Callable[[str], Any] | None = None
            location = WarehouseURL.parse(self.url)
            if location.kind == "bigquery":
                # dagster-gcp resolves credentials the way Dagster deployments configure
                # them (GOOGLE_APPLICATION_CREDENTIALS, workload identity, gcp_credentials);
                # its context must stay open while the client is used.
                bigquery = BigQueryResource(project=location.project)
                client = stack.enter_context(bigquery.get_client())
                client_for = lambda _project: client  # noqa: E731 - one-line factory
            warehouse = open_warehouse(self.url, self.store_timezone, bigquery_client=client_for)
            stack.callback(warehouse.close)
            yield warehouse


class SourceResource(dg.ConfigurableResource["SourceResource"]):
    """Where raw data comes from: a folder export, plus orders the API received live."""

    folder: str | None = None
    live_db: str | None = None

    def source(self) -> Source:
        if not self.folder:
            raise ContractError(
                "no source configured: set ANALYTICS_SOURCE_DIR or pass --source DIR"
            )
        return FolderSource(Path(self.folder))

    def live_orders(self) -> LiveOrdersSource | None:
        """Orders posted to the API since they were last absorbed (None: no live store)."""
        if not self.live_db or not Path(self.live_db).exists():
            return None
        return LiveOrdersSource(LiveOrderStore(Path(self.live_db)))


class ServingResource(dg.ConfigurableResource["ServingResource"]):
    """Where snapshots for the API are published."""

    serving_dir: str

    def serving_path(self) -> Path:
        return Path(self.serving_dir)


class ClockResource(dg.ConfigurableResource["ClockResource"]):
    """The analysis time every asset computes ``as of``."""

    as_of: str | None = None
    store_timezone: str = "UTC"

    def now(self) -> datetime:
        return resolve_as_of(self.as_of, self.store_timezone)


class ModelParamsResource(dg.ConfigurableResource["ModelParamsResource"]):
    """Tunable numbers the SQL models read as bound parameters (``$target_growth``, ...)."""

    target_growth: float = 0.05

    def as_params(self) -> dict[str, object]:
        return {"target_growth": self.target_growth}


class TargetsResource(dg.ConfigurableResource["TargetsResource"]):
    """The monthly revenue targets file (``ANALYTICS_TARGETS_FILE``); ``None``: none given."""

    path: str | None = None

    def file(self) -> Path | None:
        return Path(self.path) if self.path else None


def resources_for(settings: Settings) -> dict[str, Any]:
    """The resource set for ``settings.environment``; every environment has the same keys."""
    shared = {
        "warehouse": WarehouseResource(
            url=settings.warehouse_url, store_timezone=settings.store_timezone
        ),
        "clock": ClockResource(as_of=settings.as_of, store_timezone=settings.store_timezone),
        "model_params": ModelParamsResource(target_growth=settings.target_growth),
        "targets": TargetsResource(
            path=str(settings.targets_file) if settings.targets_file else None
        ),
        "serving": ServingResource(serving_dir=str(settings.serving_path)),
    }
    folder = str(settings.source_dir) if settings.source_dir else None
    source = SourceResource(folder=folder, live_db=str(settings.live_db_path))
    by_environment: dict[str, dict[str, Any]] = {
        "local": {**shared, "source": source},
        # The Lightspeed connector will take the source slot here.
        "production": {**shared, "source": source},
    }
    return by_environment[settings.environment]
