"""``analytics-pipeline eval``: offline evaluations of the models on a materialized store."""

from __future__ import annotations

import json
from pathlib import Path

import click

from analytics_pipeline.clock import AsOfError, resolve_as_of
from analytics_pipeline.settings import Settings, SettingsError
from analytics_pipeline.warehouse import WarehouseBusyError, WarehouseURLError


@click.group("eval")
def eval_group() -> None:
    """Score models offline on a temporal split of a materialized store."""


@eval_group.command("recs")
@click.option("--warehouse", "warehouse_url", default=None,
              help="A materialized warehouse (default: $ANALYTICS_WAREHOUSE); the split's "
                   "tables are built in its staging schema.")
@click.option("--as-of", "as_of", default=None,
              help="End of the test window (default: the last order); train ends 30 days "
                   "before.")
@click.option("-k", "k", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Length of the recommendation lists scored.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write the figures as JSON.")
def eval_recs(warehouse_url: str | None, as_of: str | None, k: int,
              json_path: Path | None) -> None:
    """HitRate, Recall, NDCG and coverage @k of popularity, v1 and v2 on one split."""
    from analytics_pipeline.recommendations.evaluate import evaluate_recs
    from analytics_pipeline.warehouse import open_warehouse

    try:
        settings = Settings.from_env(warehouse_url=warehouse_url)
        end = resolve_as_of(as_of, settings.store_timezone) if as_of else None
        warehouse = open_warehouse(settings.warehouse_url, settings.store_timezone)
    except (SettingsError, WarehouseURLError, WarehouseBusyError, AsOfError) as err:
        raise click.ClickException(str(err)) from err
    try:
        report = evaluate_recs(warehouse, settings.store_timezone, end, k)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    finally:
        warehouse.close()
    click.echo(report.to_text())
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
        click.echo(f"wrote {json_path}")
