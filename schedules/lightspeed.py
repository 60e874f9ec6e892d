"""The Lightspeed sync: a sensor that starts ``lightspeed_sync`` runs, one at a time.

The per-resource cursors live in two places that agree: the staging file (advanced with
each stored page, so a crashed run resumes where it stopped) and this sensor's cursor in
Dagster's storage (from the tags of the last successful run), which survives the loss of
a container's local disk. Each run starts from the later of the two. The 06:00
``daily_refresh`` syncs too, as its first step (``assets/lightspeed.py``); the sensor
waits while it runs, so two syncs never rotate the same refresh token at once.
"""

import json

import dagster as dg

from analytics_pipeline.assets.lightspeed import CURSORS_TAG, SYNC_JOB, run_sync
from analytics_pipeline.schedules.daily import DAILY_REFRESH_JOB
from analytics_pipeline.sources.lightspeed.resource import LightspeedResource

SYNC_OP = "sync_lightspeed"
ACTIVE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
          dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


class SyncConfig(dg.Config):
    cursors: dict[str, str] = {}  # noqa: RUF012 - pydantic copies field defaults
    full: bool = False


@dg.op(name=SYNC_OP, description="Sync Lightspeed since the cursors into the staging file.")
def sync_lightspeed(context: dg.OpExecutionContext, config: SyncConfig,
                    lightspeed: LightspeedResource) -> None:
    summary = run_sync(context.log, lightspeed, config.full, config.cursors)
    context.instance.add_run_tags(context.run_id, {CURSORS_TAG: json.dumps(summary.cursors())})


@dg.job(name=SYNC_JOB, description="Sync sales, items, stock and customers.")
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
        daily = context.instance.get_runs(
            dg.RunsFilter(job_name=DAILY_REFRESH_JOB.name, statuses=ACTIVE), limit=1)
        if daily:
            return dg.SkipReason(f"the daily refresh {daily[0].run_id} is syncing")
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
