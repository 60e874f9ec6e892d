"""The Dagster code location: every asset, check, schedule and resource.

``dagster dev`` (via pyproject's ``[tool.dagster]``) and the CLI both load it; settings
are read when the definitions are built, not at import.
"""

from __future__ import annotations

import dagster as dg

from analytics_pipeline.assets.checks import contract_checks
from analytics_pipeline.assets.ingest import ingest_source
from analytics_pipeline.assets.inventory import demand_forecast, stock_alerts
from analytics_pipeline.assets.inventory_notify import alert_digest
from analytics_pipeline.assets.lightspeed import lightspeed_sync
from analytics_pipeline.assets.recommendations import v2_recommendations
from analytics_pipeline.assets.reporting import reporting
from analytics_pipeline.assets.revenue import targets_input
from analytics_pipeline.assets.segments import clusters, customer_clv
from analytics_pipeline.assets.serving import snapshot_asset
from analytics_pipeline.assets.sql_models import SQL_MODEL_ASSETS
from analytics_pipeline.resources import resources_for
from analytics_pipeline.schedules.daily import DAILY_REFRESH_JOB, daily_refresh_schedule
from analytics_pipeline.schedules.inventory_notify import NOTIFY_SENSORS, urgent_alerts_job
from analytics_pipeline.schedules.lightspeed import lightspeed_sync_job, lightspeed_sync_sensor
from analytics_pipeline.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    """All definitions, with resources for ``settings.environment``."""
    tables = [ingest_source, targets_input, customer_clv, clusters, demand_forecast,
              stock_alerts, v2_recommendations, *SQL_MODEL_ASSETS]
    reports, output_checks = reporting(tables, settings)
    upstream = [key for asset in [*tables, *reports] for key in asset.keys]
    return dg.Definitions(
        # The sync and the digest are not tables: not in the snapshot's upstream.
        assets=[lightspeed_sync, *tables, *reports, snapshot_asset(upstream), alert_digest],
        asset_checks=[*contract_checks(settings), *output_checks],
        jobs=[DAILY_REFRESH_JOB, urgent_alerts_job, lightspeed_sync_job],
        schedules=[daily_refresh_schedule(settings.store_timezone)],
        sensors=[*NOTIFY_SENSORS,
                 lightspeed_sync_sensor(settings.lightspeed.sync_interval_seconds)],
        resources=resources_for(settings),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.from_env())
