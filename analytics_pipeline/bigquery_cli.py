"""``analytics-pipeline bigquery ...``: the BigQuery forms of the SQL models."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from analytics_pipeline.warehouse import bigquery_golden


@click.group()
def bigquery() -> None:
    """BigQuery: the SQL and DDL the BigQuery warehouse runs."""


@bigquery.command()
@click.option("--write", is_flag=True,
              help="write missing and changed golden files and delete stale ones")
@click.option("--dir", "root", type=click.Path(file_okay=False, path_type=Path),
              default=bigquery_golden.DEFAULT_DIR, show_default=True,
              help="golden folder (the default is relative to the repository root)")
def golden(write: bool, root: Path) -> None:
    """Check (or with --write, regenerate) every SQL model's BigQuery golden file."""
    if write:
        click.echo(bigquery_golden.write(root).describe(written=True))
        return
    diff = bigquery_golden.compare(root)
    click.echo(diff.describe(), err=not diff.clean)
    if not diff.clean:
        sys.exit(1)


@bigquery.command()
@click.argument("model")
@click.option("--project", default=bigquery_golden.GOLDEN_PROJECT, show_default=True)
@click.option("--dataset", default=bigquery_golden.GOLDEN_DATASET, show_default=True)
def sql(model: str, project: str, dataset: str) -> None:
    """Print MODEL's (``domain.table``) statement as BigQuery runs it."""
    from analytics_pipeline.warehouse.dialect import to_bigquery
    from analytics_pipeline.warehouse.sql_models import discover

    found = [m for m in discover() if f"{m.domain}.{m.name}" == model]
    if not found:
        raise click.ClickException(f"no SQL model {model!r}: expected domain.table, "
                                   "e.g. revenue.daily_sales (see sql/<domain>/<table>.sql)")
    for statement in to_bigquery(found[0].create_statement, project, dataset, pretty=True):
        click.echo(f"{statement};")
