"""The Lightspeed sync: a sensor that starts ``lightspeed_sync`` runs, one at a time.

The per-resource cursors live in two places that agree: the staging file (advanced with
each stored page, so a crashed run resumes where it stopped) and this sensor's cursor in
Dagster's storage (from the tags of the last successful run), which survives the loss of
a container's local disk. Each run starts from the later of the two.
"""

import json

import dagster as dg

from analytics_pipeline.sources.lightspeed.resource import LightspeedResource

SYNC_OP = "sync_lightspeed"
CURSORS_TAG = "lightspeed/cursors"
ACTIVE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
          dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


class SyncConfig(dg.Config):
    cursors: dict[str, str] = {}  # noqa: RUF012 - pydantic copies field defaults
    full: bool = False


@dg.op(name=SYNC_OP, description="Sync Lightspeed since the cursors into the staging file.")
def sync_lightspeed(context: dg.OpExecutionContext, config: SyncConfig,
                    lightspeed: LightspeedResource) -> None:
    summary = lightspeed.sync(full=config.full, floor=config.cursors)
    for name, done in summary.resources.items():
        context.log.info(f"{name}: {done.records} records in {done.pages} pages, "
                         f"{done.new_orders} new orders, {done.live_orders} to live revenue")
    context.log.info(f"{summary.requests} requests, {summary.throttled} throttled, "
                     f"{summary.retried_errors} retried, {summary.seconds:.1f} s")
    context.instance.add_run_tags(context.run_id, {CURSORS_TAG: json.dumps(summary.cursors())})


@dg.job(name="lightspeed_sync", description="Sync sales, items, stock and customers.")
def lightspeed_sync_job() -> None:
    sync_lightspeed()


def lightspeed_sync_sensor(interval_seconds: float) -> dg.SensorDefinition:
    """Request a sync every ``interval_seconds`` unless one is still running."""

    @dg.sensor(name="lightspeed_sync_sensor", job=lightspeed_sync_job,
               minimum_interval_seconds=int(interval_seconds),
               default_status=dg.DefaultSensorStatus.RUNNING)
    def sensor(context: dg.SensorEvaluationContext,
               lightspeed: LightspeedResource) -> dg.SensorResult | dg.SkipReason:
        if not lightspeed.configured():
            return dg.SkipReason("Lightspeed is not configured (ANALYTICS_LIGHTSPEED_*)")
        runs = context.instance.get_runs(dg.RunsFilter(job_name=lightspeed_sync_job.name),
                                         limit=1)
        if runs and runs[0].status in ACTIVE:
            return dg.SkipReason(f"run {runs[0].run_id} is still syncing")
        cursors = next_cursors(context.cursor, runs[0] if runs else None)
        config = dg.RunConfig(ops={SYNC_OP: SyncConfig(cursors=cursors)})
        return dg.SensorResult(run_requests=[dg.RunRequest(run_config=config)],
                               cursor=json.dumps(cursors, sort_keys=True))

    return sensor


def next_cursors(previous: str | None, last_run: dg.DagsterRun | None) -> dict[str, str]:
    """The sensor's cursors, advanced by the last run if it succeeded."""
    cursors: dict[str, str] = json.loads(previous) if previous else {}
    if last_run is not None and last_run.status == dg.DagsterRunStatus.SUCCESS:
        cursors.update(json.loads(last_run.tags.get(CURSORS_TAG, "{}")))
    return cursors
