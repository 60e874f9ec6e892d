"""The Lightspeed sync as the first step of the 06:00 refresh.

In production the store's data is what the sync staged (``SourceResource`` reads the
staging file once Lightspeed is configured), so ``ingest_source`` depends on this asset:
the daily run brings Lightspeed up to date and then loads it, and a sync that fails fails
the run before anything is rebuilt from stale data. Without Lightspeed configured the step
records that and ingest reads the folder export, as before.

Like the sensor's runs, the sync starts from the cursors Dagster holds: the last
successful ``lightspeed_sync`` run's tag and this asset's last materialization (the
staging file's own cursors win where they are later).
"""

import json

import dagster as dg

from analytics_pipeline.sources.lightspeed.resource import LightspeedResource
from analytics_pipeline.sources.lightspeed.sync import SyncSummary, later_cursor

SYNC_KEY = dg.AssetKey(["ingest", "lightspeed_sync"])
SYNC_JOB = "lightspeed_sync"
CURSORS_TAG = "lightspeed/cursors"
NOT_CONFIGURED = ("Lightspeed is not configured (ANALYTICS_LIGHTSPEED_ACCOUNT_ID, _CLIENT_ID, "
                  "_CLIENT_SECRET, _REFRESH_TOKEN): ingest reads ANALYTICS_SOURCE_DIR")


@dg.asset(
    key=SYNC_KEY, group_name="ingest",
    description="Lightspeed sales, items, stock and customers since the last sync, staged "
                "for ingest (a no-op when Lightspeed is not configured).",
)
def lightspeed_sync(
    context: dg.AssetExecutionContext, lightspeed: LightspeedResource
) -> dg.MaterializeResult[None]:
    if not lightspeed.configured():
        if lightspeed.partly_configured():
            # Half a configuration is a mistake, not a choice of the folder source.
            raise dg.Failure(f"Lightspeed is only partly configured. {NOT_CONFIGURED}")
        context.log.info(f"Lightspeed sync skipped: {NOT_CONFIGURED}")
        return dg.MaterializeResult(metadata={"skipped": NOT_CONFIGURED})
    summary = run_sync(context.log, lightspeed, full=False,
                       floor=dagster_cursors(context.instance))
    return dg.MaterializeResult(metadata={
        "cursors": dg.MetadataValue.json(summary.cursors()),
        "records": sum(done.records for done in summary.resources.values()),
        "new_orders": sum(done.new_orders for done in summary.resources.values()),
        "requests": summary.requests, "throttled": summary.throttled,
    })


def run_sync(log: dg.DagsterLogManager, lightspeed: LightspeedResource, full: bool,
             floor: dict[str, str]) -> SyncSummary:
    """One sync from ``floor``, with what it did in the run's log."""
    summary = lightspeed.sync(full=full, floor=floor)
    for name, done in summary.resources.items():
        log.info(f"{name}: {done.records} records in {done.pages} pages, "
                 f"{done.new_orders} new orders, {done.live_orders} to live revenue")
    log.info(f"{summary.requests} requests, {summary.throttled} throttled, "
             f"{summary.retried_errors} retried, {summary.seconds:.1f} s")
    return summary


def dagster_cursors(instance: dg.DagsterInstance) -> dict[str, str]:
    """The latest cursor per resource that Dagster recorded, from either kind of sync."""
    found: list[dict[str, str]] = []
    runs = instance.get_runs(dg.RunsFilter(job_name=SYNC_JOB,
                                           statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1)
    if runs:
        found.append(json.loads(runs[0].tags.get(CURSORS_TAG, "{}")))
    event = instance.get_latest_materialization_event(SYNC_KEY)
    materialization = event.asset_materialization if event else None
    metadata = materialization.metadata.get("cursors") if materialization else None
    if isinstance(metadata, dg.JsonMetadataValue) and isinstance(metadata.data, dict):
        found.append({str(name): str(value) for name, value in metadata.data.items()})
    cursors: dict[str, str] = {}
    for recorded in found:
        for name, value in recorded.items():
            cursors[name] = later_cursor(cursors.get(name), value) or value
    return cursors
