"""How long each step of this run took, written to the warehouse for ``/metrics``.

Dagster already records every step's start and end in the run's event log; this asset
copies the finished steps of the current run to ``ops.step_durations``, which the
snapshot publishes and the API exports as ``pipeline_step_duration_seconds`` (see
:mod:`analytics_pipeline.api.pipeline_metrics` for why not a Pushgateway). It runs after
every table, so the table holds all of them; the steps after it (publishing, sending)
appear in the next run's figures only through their own metrics.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Protocol

import dagster as dg
import pyarrow as pa

from analytics_pipeline.resources import WarehouseResource

STEP_DURATIONS_KEY = dg.AssetKey(["ops", "step_durations"])
STEP_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("step_key", pa.string()), ("status", pa.string()),
    ("started_at", pa.timestamp("us", tz="UTC")), ("finished_at", pa.timestamp("us", tz="UTC")),
    ("seconds", pa.float64()),
])


class StepStats(Protocol):
    """What Dagster's step statistics (``instance.get_run_step_stats``) carry."""

    @property
    def step_key(self) -> str: ...
    @property
    def status(self) -> Enum | None: ...
    @property
    def start_time(self) -> float | None: ...
    @property
    def end_time(self) -> float | None: ...


def step_rows(run_id: str, stats: Sequence[StepStats]) -> list[dict[str, object]]:
    """One row per finished step of ``run_id``."""
    return [
        {"run_id": run_id, "step_key": s.step_key,
         "status": str(s.status.value).lower() if s.status else "unknown",
         "started_at": datetime.fromtimestamp(s.start_time, UTC),
         "finished_at": datetime.fromtimestamp(s.end_time, UTC),
         "seconds": s.end_time - s.start_time}
        for s in stats if s.start_time is not None and s.end_time is not None
    ]


def step_durations_asset(upstream: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The durations asset, downstream of ``upstream`` so it sees their steps finished."""

    @dg.asset(key=STEP_DURATIONS_KEY, group_name="ops", deps=list(upstream),
              description="Seconds each finished step of the latest run took.")
    def _durations(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult[None]:
        run_id = context.run.run_id
        rows = step_rows(run_id, context.instance.get_run_step_stats(run_id))
        table = pa.Table.from_pylist(rows, schema=STEP_SCHEMA)
        with warehouse.open() as wh:
            count = wh.load_arrow("ops", "step_durations", table.to_reader())
        slowest = sorted(rows, key=lambda r: -float(str(r["seconds"])))[:5]
        return dg.MaterializeResult(metadata={
            "dagster/row_count": count,
            "slowest": {str(r["step_key"]): round(float(str(r["seconds"])), 3) for r in slowest},
        })

    return _durations
