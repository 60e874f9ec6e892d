"""The 06:00 refresh, in the store's own time zone (DST follows the zone)."""


import dagster as dg

DAILY_REFRESH_JOB = dg.define_asset_job(
    "daily_refresh",
    selection=dg.AssetSelection.all(),
    description="Load the source and rebuild every table.",
)


def daily_refresh_schedule(store_timezone: str) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="daily_refresh_6am",
        job=DAILY_REFRESH_JOB,
        cron_schedule="0 6 * * *",
        execution_timezone=store_timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
