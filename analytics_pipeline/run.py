"""Materialize every asset in-process and summarise what happened.

Used by ``analytics-pipeline materialize`` and ``demo``: progress is reported as steps
start and finish, and the summary has rows per table, quarantined rows per table and
seconds per asset, or the failing asset and its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from analytics_pipeline.definitions import build_definitions
from analytics_pipeline.settings import Settings

Progress = Callable[[str], None]
STEP_EVENTS = ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE")


@dataclass
class RunSummary:
    """Outcome of one in-process materialization."""

    success: bool = False
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def materialize_all(settings: Settings, progress: Progress) -> RunSummary:
    """Run every asset and check with ``settings``; never raises for a failed step."""
    timer = _StepTimer(progress)
    definitions = dg.Definitions.merge(
        build_definitions(settings), dg.Definitions(loggers={"progress": timer.logger_def()})
    )
    job = definitions.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        run_config={"loggers": {"progress": {}}},
    )
    summary = RunSummary(success=result.success, seconds=timer.seconds)
    for event in result.all_events:
        _record(summary, event)
    return summary


def _record(summary: RunSummary, event: dg.DagsterEvent) -> None:
    data: Any = event.event_specific_data
    if event.event_type_value == "ASSET_MATERIALIZATION":
        materialization = data.materialization
        key = "/".join(materialization.asset_key.path)
        meta = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
        if "dagster/row_count" in meta:
            summary.rows[key] = int(meta["dagster/row_count"])
        if "rows_quarantined" in meta:
            summary.quarantined[key] = int(meta["rows_quarantined"])
    elif event.event_type_value == "ASSET_CHECK_EVALUATION" and not data.passed:
        observed = data.metadata.get("observed")
        shown = getattr(observed, "value", observed)
        summary.failed_checks.append(
            f"{'/'.join(data.asset_key.path)}:{data.check_name} (observed {shown})"
        )
    elif event.event_type_value == "STEP_FAILURE":
        summary.failures.append(f"{event.step_key}: {_root_cause(data.error)}")


def _root_cause(error: Any) -> str:
    # Dagster wraps the user's exception; the innermost cause is what the user can act on.
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return str(error.message).strip().splitlines()[-1] if error else "unknown error"


class _StepTimer:
    """A Dagster logger that reports step starts/ends and times each step."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}

    def logger_def(self) -> dg.LoggerDefinition:
        timer = self

        class _Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                meta = getattr(record, "dagster_meta", None)
                event = getattr(meta, "dagster_event", None) or (
                    meta.get("dagster_event") if isinstance(meta, dict) else None
                )
                if event is not None and event.event_type_value in STEP_EVENTS:
                    timer.on_step(event.event_type_value, str(event.step_key), record.created)

        @dg.logger
        def progress_logger(_context: dg.InitLoggerContext) -> logging.Logger:
            logger = logging.Logger("analytics_pipeline.progress", logging.DEBUG)
            logger.addHandler(_Handler())
            return logger

        return progress_logger

    def on_step(self, kind: str, step: str, at: float) -> None:
        if kind == "STEP_START":
            self._started[step] = at
            self._progress(f"  ... {step}")
            return
        self.seconds[step] = at - self._started.get(step, at)
        mark = "ok" if kind == "STEP_SUCCESS" else "FAILED"
        self._progress(f"  {mark:>6} {step} ({self.seconds[step]:.1f} s)")
