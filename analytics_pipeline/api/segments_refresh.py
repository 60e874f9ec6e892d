"""``POST /api/segments/refresh``: rebuild RFM, segments and clusters, then republish.

Runs the ``sql/segments`` models and the CLV and cluster functions of the segments
assets against the warehouse, in the API process, without a pipeline run. They read
``revenue.customer_ltv``, ``revenue.calendar`` and the ingested rows the last run left,
so they are recomputed as of that run's ``as_of`` (the published snapshot's), which keeps
them consistent with every other published table; new thresholds or a new clustering
range in the settings take effect at once. The new snapshot is the current one with the
``segments`` tables replaced (the manifest's ``as_of`` and live watermark stay).

DuckDB admits one writer process: while a pipeline run holds the file, opening it fails
with :class:`WarehouseBusyError` (the endpoint answers 409). One refresh at a time runs
in this process too.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from analytics_pipeline.assets.segments import write_clusters, write_customer_clv
from analytics_pipeline.resources import ModelParamsResource
from analytics_pipeline.serving.snapshot import republish_schema
from analytics_pipeline.settings import Settings
from analytics_pipeline.warehouse import DuckDBWarehouse, Warehouse, WarehouseBusyError
from analytics_pipeline.warehouse import open_warehouse as _open
from analytics_pipeline.warehouse.sql_models import discover, in_dependency_order

_RUNNING = threading.Lock()


@dataclass
class RefreshOutcome:
    as_of: datetime
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    snapshot: Path | None = None


def refresh_segments(settings: Settings, as_of: datetime) -> RefreshOutcome:
    """Rebuild the ``segments`` tables as of ``as_of`` and publish a new snapshot."""
    if not _RUNNING.acquire(blocking=False):
        raise WarehouseBusyError("a segments refresh is already running; try again shortly")
    started = time.perf_counter()
    try:
        warehouse = _open(settings.warehouse_url, settings.store_timezone)
        try:
            outcome = RefreshOutcome(as_of=as_of, seconds=0.0, rows=_rebuild(
                warehouse, settings, as_of))
            if isinstance(warehouse, DuckDBWarehouse):  # BigQuery is read directly
                outcome.snapshot = republish_schema(warehouse, settings.serving_path, "segments")
        finally:
            warehouse.close()
    finally:
        _RUNNING.release()
    outcome.seconds = time.perf_counter() - started
    return outcome


def _rebuild(warehouse: Warehouse, settings: Settings, as_of: datetime) -> dict[str, int]:
    params = ModelParamsResource(**{
        name: getattr(settings, name) for name in ModelParamsResource.model_fields})
    values = {"as_of": as_of, "store_tz": settings.store_timezone, **params.as_params()}
    rows: dict[str, int] = {}
    warehouse.ensure_schema("segments")
    # The SQL models in dependency order, CLV right after its inputs (customer_segments
    # reads it), the clusters at the end (they read rfm and the CLV).
    for model in in_dependency_order(discover("segments")):
        warehouse.execute(model.create_statement, values)
        if model.name == "clv_inputs":
            rows["customer_clv"] = len(write_customer_clv(warehouse, params.clv_config())
                                       .customers)
        rows[model.name] = _count(warehouse, model.name)
    rows["clusters"] = len(write_clusters(warehouse, params.cluster_config()).customers)
    return rows


def _count(warehouse: Warehouse, table: str) -> int:
    (value,) = warehouse.fetch_all(f"SELECT count(*) FROM segments.{table}")[0]  # noqa: S608
    return int(str(value))
