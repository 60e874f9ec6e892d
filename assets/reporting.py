"""What a run reports about itself: the value receipt, step durations and output checks.

One entry point for the definitions, so wiring the reporting in is a single call.
"""

from collections.abc import Sequence

import dagster as dg

from analytics_pipeline.assets.checks import CONTRACT_CHECKS
from analytics_pipeline.assets.ops import step_durations_asset
from analytics_pipeline.assets.output_checks import output_checks
from analytics_pipeline.assets.receipts import receipt_asset
from analytics_pipeline.settings import Settings
from analytics_pipeline.warehouse.sql_models import discover


def reporting(
    tables: Sequence[dg.AssetsDefinition], settings: Settings
) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """The receipt and durations assets for ``tables``, and checks on every output table
    (the raw tables excepted: the data-contract checks cover them)."""
    upstream = [key for asset in tables for key in asset.keys]
    receipt = receipt_asset(settings)
    durations = step_durations_asset([*upstream, *receipt.keys])
    covered = {(m.domain, m.name) for m in discover()} | {
        ("ingest", check.table) for check in CONTRACT_CHECKS}
    python_tables = [key for asset in [*tables, receipt, durations] for key in asset.keys
                     if (key.path[0], key.path[-1]) not in covered]
    return [receipt, durations], output_checks(python_tables, settings)
