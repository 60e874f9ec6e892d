"""``analytics-pipeline sync lightspeed``: pull Lightspeed into the staging file by hand.

The same sync the Dagster sensor runs; its cursors live in the staging file, so a sync
that was interrupted (Ctrl-C, a crash, a kill) resumes where it stopped.
"""

from __future__ import annotations

import time

import click
import httpx

from analytics_pipeline.settings import Settings, SettingsError
from analytics_pipeline.sources.lightspeed.client import LightspeedError
from analytics_pipeline.sources.lightspeed.resource import lightspeed_resource
from analytics_pipeline.sources.lightspeed.sync import Progress, ResourceSummary, SyncSummary

PROGRESS_EVERY_SECONDS = 1.0


@click.group()
def sync() -> None:
    """Pull data from the store's systems into the pipeline."""


@sync.command("lightspeed")
@click.option("--base-url", default=None,
              help="API and OAuth root instead of Lightspeed's (e.g. a local fake).")
@click.option("--full", is_flag=True, help="Ignore the cursors and read everything again.")
def lightspeed(base_url: str | None, full: bool) -> None:
    """Sync sales with their lines, items, stock per shop and customers since last time."""
    try:
        settings = Settings.from_env()
    except SettingsError as err:
        raise click.ClickException(str(err)) from err
    missing = settings.lightspeed.missing()
    if missing:
        raise click.ClickException("Lightspeed is not configured: set " + ", ".join(missing))
    resource = lightspeed_resource(settings, for_dagster=False,
                                   api_base_url=base_url, auth_base_url=base_url)
    click.echo(f"syncing Lightspeed account {settings.lightspeed.account_id} from "
               f"{resource.api_base_url} into {resource.staging_db}"
               f"{' (full)' if full else ''}")
    try:
        summary = resource.sync(full=full, progress=_progress_printer())
    except (LightspeedError, httpx.HTTPError) as err:
        raise click.ClickException(
            f"sync stopped: {err}. Pages stored so far are kept; run again to resume."
        ) from err
    _print_summary(summary)


def _progress_printer() -> Progress:
    last = {"at": 0.0}

    def show(resource: str, done: ResourceSummary) -> None:
        now = time.monotonic()
        if now - last["at"] >= PROGRESS_EVERY_SECONDS:
            last["at"] = now
            click.echo(f"  {resource:<9} {done.pages:>7,} pages {done.records:>10,} records "
                       f"(up to {done.cursor})", err=True)

    return show


def _print_summary(summary: SyncSummary) -> None:
    click.echo("\nresource       pages    records  new orders  to live  skipped  cursor")
    for name, done in summary.resources.items():
        click.echo(f"  {name:<10} {done.pages:>7,} {done.records:>10,} {done.new_orders:>11,} "
                   f"{done.live_orders:>8,} {done.skipped:>8,}  {done.cursor or '-'}")
    click.echo(f"\n{summary.requests:,} requests, {summary.throttled:,} throttled (429), "
               f"{summary.retried_errors:,} retried errors, {summary.refreshes:,} token "
               f"refreshes, {summary.paced_seconds:.1f} s pacing")
    click.echo(f"ok in {summary.seconds:.1f} s")
