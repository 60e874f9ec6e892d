"""``POST /api/segments/refresh``: rebuild RFM, segments and clusters, then republish.

Runs the ``sql/segments`` models and the CLV and cluster functions of the segments
assets against the warehouse, in the API process, without a pipeline run. They read
``revenue.customer_ltv``, ``revenue.calendar`` and the ingested rows the last run left,
so they are recomputed as of that run's ``as_of`` (the published snapshot's), which keeps
them consistent with every other published table; new thresholds or a new clustering
range in the settings take effect at once. The new publication is the current one with a
new ``segments`` part (the main file, its manifest's ``as_of`` and live watermark stay). On
BigQuery the API reads the tables themselves, and the refresh moves the manifest's
``published_at`` instead, which is what changes the API's cache keys there.

A refresh leaves the tables a rebuild of every model would, but rebuilds only what may
differ (see :mod:`analytics_pipeline.api.segments_reuse` for the checks): ``rfm``,
``customer_segments`` and the clusters always; ``customer_clv`` when the CLV settings or
its inputs changed; ``clv_inputs``, ``category_affinity`` and ``segment_members`` (no
settings; inputs change only with a pipeline run) never. ``segment_history`` replays the
thresholds over the last 12 month ends, so appending only this ``as_of``'s rows would
leave earlier month ends under old thresholds and disagree with a full run: it, and
``segment_performance`` and ``segment_migration`` that read it, are rebuilt when the
thresholds (or the orders) changed since they were built, and kept otherwise. On BigQuery
every model is rebuilt, as before.

DuckDB admits one writer process: while a pipeline run holds the file, opening it fails
with :class:`WarehouseBusyError` (the endpoint answers 409). One refresh at a time runs
in this process too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from analytics_pipeline.api.segments_reuse import ReusePlan, reads_settings
from analytics_pipeline.assets.segments import build_clusters, write_customer_clv
from analytics_pipeline.resources import ModelParamsResource
from analytics_pipeline.serving.bigquery_reader import republish_bigquery
from analytics_pipeline.serving.snapshot import Publication, TableDigests, republish_schema
from analytics_pipeline.settings import Settings
from analytics_pipeline.warehouse import DuckDBWarehouse, Warehouse, WarehouseBusyError
from analytics_pipeline.warehouse import open_warehouse as _open
from analytics_pipeline.warehouse.bigquery_warehouse import BigQueryWarehouse
from analytics_pipeline.warehouse.sql_models import discover, in_dependency_order

_RUNNING = threading.Lock()
# Rebuilt on every refresh: they follow the thresholds and cluster settings (clusters too).
_ALWAYS = frozenset({"rfm", "customer_segments"})
_CLV_READS = frozenset({("segments", "clv_inputs")})


@dataclass
class RefreshOutcome:
    as_of: datetime
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    snapshot: Publication | None = None
    # Wall seconds of each step (every SQL model, customer_clv, clusters, publish).
    steps: dict[str, float] = field(default_factory=dict)


def refresh_segments(settings: Settings, as_of: datetime) -> RefreshOutcome:
    """Rebuild the ``segments`` tables as of ``as_of`` and publish a new snapshot."""
    if not _RUNNING.acquire(blocking=False):
        raise WarehouseBusyError("a segments refresh is already running; try again shortly")
    started = time.perf_counter()
    try:
        warehouse = _open(settings.warehouse_url, settings.store_timezone)
        try:
            outcome = RefreshOutcome(as_of=as_of, seconds=0.0)
            digests = TableDigests(warehouse) if isinstance(warehouse, DuckDBWarehouse) else None
            outcome.rows = _rebuild(warehouse, settings, as_of, outcome.steps, digests)
            with _timed(outcome.steps, "publish"):
                if isinstance(warehouse, DuckDBWarehouse):
                    outcome.snapshot = republish_schema(
                        warehouse, settings.serving_path, "segments", digests)
                elif isinstance(warehouse, BigQueryWarehouse):
                    republish_bigquery(warehouse)
        finally:
            warehouse.close()
    finally:
        _RUNNING.release()
    outcome.seconds = time.perf_counter() - started
    return outcome


@contextmanager
def _timed(steps: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    steps[name] = time.perf_counter() - started


def _rebuild(
    warehouse: Warehouse, settings: Settings, as_of: datetime, steps: dict[str, float],
    digests: TableDigests | None,
) -> dict[str, int]:
    params = ModelParamsResource(**{
        name: getattr(settings, name) for name in ModelParamsResource.model_fields})
    values = {"as_of": as_of, "store_tz": settings.store_timezone, **params.as_params()}
    rows: dict[str, int] = {}
    warehouse.ensure_schema("segments")
    plan = (ReusePlan(warehouse, values, digests)
            if isinstance(warehouse, DuckDBWarehouse) and digests is not None else None)
    clv_recipe = repr(params.clv_config())
    # The SQL models in dependency order, CLV right after its inputs (customer_segments
    # reads it), the clusters at the end (they read rfm and the CLV).
    for model in in_dependency_order(discover("segments")):
        if model.name in _ALWAYS or not _kept(plan, model.name, model.query, model.deps,
                                              reads_settings(model.query)):
            with _timed(steps, model.name):
                warehouse.execute(model.create_statement, values)
            if plan is not None:
                plan.built(model.name, model.query, model.deps, reads_settings(model.query))
        if model.name == "clv_inputs" and not _kept(plan, "customer_clv", clv_recipe,
                                                    _CLV_READS, True):
            with _timed(steps, "customer_clv"):
                write_customer_clv(warehouse, params.clv_config())
            if plan is not None:
                plan.built("customer_clv", clv_recipe, _CLV_READS, True)
        rows[model.name] = _count(warehouse, model.name)
    rows["customer_clv"] = _count(warehouse, "customer_clv")
    with _timed(steps, "clusters"):
        rows["clusters"] = int(build_clusters(warehouse, params)["dagster/row_count"])
    if digests is not None:
        digests.forget("segments.clusters")
    if plan is not None:
        plan.save()
    return rows


def _kept(plan: ReusePlan | None, name: str, recipe: str,
          reads: Iterable[tuple[str, str]], configured: bool) -> bool:
    return plan is not None and plan.keep(name, recipe, reads, configured)


def _count(warehouse: Warehouse, table: str) -> int:
    (value,) = warehouse.fetch_all(f"SELECT count(*) FROM segments.{table}")[0]  # noqa: S608
    return int(str(value))
