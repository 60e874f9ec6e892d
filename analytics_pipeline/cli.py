"""``analytics-pipeline``: generate a demo store, convert data, materialize, run the demo."""

from __future__ import annotations

import secrets
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from analytics_pipeline.bigquery_cli import bigquery
from analytics_pipeline.cli_eval import eval_group
from analytics_pipeline.clock import AsOfError, resolve_as_of
from analytics_pipeline.run import RunSummary, materialize_all
from analytics_pipeline.settings import Settings, SettingsError
from analytics_pipeline.sources import ContractError
from analytics_pipeline.sync_cli import sync
from analytics_pipeline.warehouse import WarehouseBusyError, WarehouseURL, WarehouseURLError

USER_ERRORS = (SettingsError, WarehouseURLError, ContractError, WarehouseBusyError, AsOfError)
DEMO_STORE = Path("data/demo-store")


@click.group()
@click.version_option(package_name="retail-pulse")
def main() -> None:
    """retail-pulse: analytics for an independent retailer."""


@main.command()
@click.option("--scale", type=click.Choice(["tiny", "demo", "large"]), default="demo")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True)
@click.option("--end-date", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day of history (default: today).")
@click.option("--days", type=click.IntRange(min=28), default=None,
              help="Days of history (default: the scale's), at the scale's daily volume.")
def generate(scale: str, seed: int, out_dir: Path, end_date: datetime | None,
             days: int | None) -> None:
    """Write a synthetic store as a contract folder (plus its ground truth beside it)."""
    from analytics_pipeline.generate import generate_store

    day = end_date.date() if end_date else None
    summary = generate_store(scale, seed, out_dir, end_date=day, days=days)
    for table, rows in summary.rows.items():
        click.echo(f"  {table:<12} {rows:>12,} rows")
    click.echo(f"wrote {out_dir} (ground truth: {summary.truth_dir}) in {summary.seconds:.1f} s")


@main.command()
@click.option("--source", "source_dir", type=click.Path(path_type=Path), default=None,
              help="Contract folder (default: $ANALYTICS_SOURCE_DIR).")
@click.option("--warehouse", "warehouse_url", default=None,
              help="duckdb:///file.duckdb or bigquery://PROJECT/DATASET "
                   "(default: $ANALYTICS_WAREHOUSE or duckdb:///./data/warehouse.duckdb).")
@click.option("--as-of", "as_of", default=None, help="Analysis time, ISO date or timestamp.")
def materialize(source_dir: Path | None, warehouse_url: str | None, as_of: str | None) -> None:
    """Load the source and build every table, with progress and a summary."""
    settings = _settings(source_dir=source_dir, warehouse_url=warehouse_url, as_of=as_of)
    summary = _materialize(settings)
    if not summary.success:
        sys.exit(1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--warehouse", "warehouse_url", default=None,
              help="the warehouse whose published tables to serve")
def serve(host: str, port: int, warehouse_url: str | None) -> None:
    """Serve the API, the live WebSocket and the dashboard page."""
    _serve(_settings(warehouse_url=warehouse_url), host, port)


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from analytics_pipeline.api.app import create_app
    from analytics_pipeline.logs import configure_logging

    configure_logging()  # JSON lines with request ids, as Cloud Logging parses them
    try:
        app = create_app(settings)
    except USER_ERRORS as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"dashboard: http://{host}:{port}/")
    uvicorn.run(app, host=host, port=port, log_level="warning", log_config=None)


@main.command()
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--scale", type=click.Choice(["tiny", "demo", "large"]), default="demo")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default=DEMO_STORE,
              show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--no-serve", is_flag=True, help="stop after materializing")
def demo(seed: int, scale: str, store_dir: Path, port: int, no_serve: bool) -> None:
    """Generate the demo store if missing, materialize everything, then serve it."""
    if not (store_dir / "orders.csv").exists() and not (store_dir / "orders.parquet").exists():
        click.echo(f"generating the {scale} demo store in {store_dir} ...")
        from analytics_pipeline.generate import generate_store

        generate_store(scale, seed, store_dir)
    settings = _settings(source_dir=store_dir)
    if not settings.api_keys:
        # The demo protects its page like production does: with a key, printed once here.
        settings = settings.replace(api_keys=f"{secrets.token_urlsafe(16)}=read+write+pii")
    summary = _materialize(settings)
    if not summary.success:
        sys.exit(1)
    click.echo(f"demo warehouse ready: {settings.warehouse_url}")
    from analytics_pipeline.receipts.latest import latest_markdown

    click.echo(latest_markdown(settings.warehouse_url, settings.store_timezone)
               or "no value receipt was written")
    if no_serve:
        return
    key = settings.api_keys.split(",")[0].partition("=")[0]
    click.echo(f"API key (read+write+pii): {key}")
    click.echo(f"open http://127.0.0.1:{port}/#key={key}")
    click.echo(f"value receipt: the dashboard's 'Value receipt' link, or "
               f"http://127.0.0.1:{port}/api/receipts/latest with the key")
    _serve(settings, "127.0.0.1", port)


@main.command()
@click.option("--write", is_flag=True, help="update openapi/openapi.json from the code")
def openapi(write: bool) -> None:
    """Print the API's OpenAPI document, or write it to openapi/openapi.json."""
    from analytics_pipeline.api.spec import SPEC_PATH, generated_spec, render

    text = render(generated_spec())
    if write:
        SPEC_PATH.parent.mkdir(parents=True, exist_ok=True)
        SPEC_PATH.write_text(text)
        click.echo(f"wrote {SPEC_PATH}")
    else:
        click.echo(text, nl=False)


@main.group()
def convert() -> None:
    """Convert a known public data set into a contract folder."""


@convert.command("cdnow")
@click.argument("master_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True)
def convert_cdnow_command(master_file: Path, out_dir: Path) -> None:
    """CDNOW_master.txt -> contract folder (analyze it with --as-of 1998-06-30)."""
    from analytics_pipeline.convert.cdnow import convert_cdnow

    summary = convert_cdnow(master_file, out_dir)
    click.echo(f"wrote {out_dir}: {summary.orders:,} orders, {summary.order_lines:,} lines, "
               f"{summary.customers:,} customers")


@main.group()
def backtest() -> None:
    """Replay history and score what the pipeline would have said."""


@backtest.command("alerts")
@click.option("--warehouse", "warehouse_url", default=None,
              help="A materialized warehouse (default: $ANALYTICS_WAREHOUSE).")
@click.option("--truth", "truth_dir", default=None,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The generator's ground-truth folder; without it, sales on days in stock.")
@click.option("--weeks", type=int, default=12, show_default=True,
              help="Weeks of daily as_of days to replay.")
@click.option("--notice-days", type=int, default=1, show_default=True,
              help="How far ahead a stockout must be alerted to count as caught.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write the figures as JSON.")
def backtest_alerts(warehouse_url: str | None, truth_dir: Path | None, weeks: int,
                    notice_days: int, json_path: Path | None) -> None:
    """Fire the alert rules day by day on past as_of days and score them."""
    import json

    from analytics_pipeline.inventory.backtest import BacktestConfig, backtest_warehouse
    from analytics_pipeline.warehouse import open_warehouse

    settings = _settings(warehouse_url=warehouse_url)
    config = BacktestConfig(weeks=weeks, notice_days=notice_days,
                            policy=settings.inventory_policy())
    warehouse = open_warehouse(settings.warehouse_url, settings.store_timezone, read_only=True)
    try:
        report = backtest_warehouse(warehouse, truth_dir, config)
    finally:
        warehouse.close()
    click.echo(report.to_text())
    if json_path:
        json_path.write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
        click.echo(f"wrote {json_path}")


def _settings(**overrides: Any) -> Settings:
    try:
        settings = Settings.from_env(**overrides)
        resolve_as_of(settings.as_of, settings.store_timezone)
        WarehouseURL.parse(settings.warehouse_url)
    except USER_ERRORS as err:
        raise click.ClickException(str(err)) from err
    return settings


def _materialize(settings: Settings) -> RunSummary:
    as_of = resolve_as_of(settings.as_of, settings.store_timezone)
    click.echo(f"materializing {settings.source_dir} -> {settings.warehouse_url} "
               f"as of {as_of.isoformat(timespec='seconds')}")
    started = time.perf_counter()
    summary = materialize_all(settings, lambda line: click.echo(line, err=True))
    _print_summary(summary, time.perf_counter() - started)
    return summary


def _print_summary(summary: RunSummary, seconds: float) -> None:
    click.echo("\ntable                              rows   quarantined")
    for table, rows in sorted(summary.rows.items()):
        quarantined = summary.quarantined.get(table)
        shown = "" if quarantined is None else f"{quarantined:>12,}"
        click.echo(f"  {table:<28} {rows:>10,} {shown}")
    click.echo("\nseconds per step")
    for step, spent in sorted(summary.seconds.items(), key=lambda kv: -kv[1]):
        click.echo(f"  {step:<48} {spent:>7.2f}")
    for check in summary.failed_checks:
        click.echo(f"check failed: {check}", err=True)
    for failure in summary.failures:
        click.echo(f"FAILED {failure}", err=True)
    state = "ok" if summary.success else "FAILED"
    click.echo(f"\n{state} in {seconds:.1f} s")




main.add_command(bigquery)
main.add_command(sync)
main.add_command(eval_group)


if __name__ == "__main__":  # `python -m analytics_pipeline.cli`, as POST /api/alerts/run does
    main()
