"""What the dashboard's read endpoints share: their parameters, one cursor per answer, the
batch's as_of, and the conversions of warehouse values to money, counts and percent."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Query

from analytics_pipeline.api.state import ServiceState, service
from analytics_pipeline.clock import AsOfError
from analytics_pipeline.serving.readers import Cursor
from analytics_pipeline.serving.snapshot import TABLE_EXISTS_SQL, SnapshotMissingError

State = Annotated[ServiceState, Depends(service)]
AsOf = Annotated[str | None, Query(description="analysis time, ISO date or timestamp; default now")]
CENT = Decimal("0.01")


class TableMissingError(SnapshotMissingError):
    """The published snapshot lacks a table an endpoint reads (published by an older run)."""


class NotMaterializedError(AsOfError):
    """``as_of`` lies before the day a point-in-time table was computed for."""


class Snapshot:
    """One answer's reads: all through one cursor, so a snapshot published while a request
    runs cannot mix two batches in one response."""

    def __init__(self, cursor: Cursor, zone: ZoneInfo) -> None:
        self.cursor = cursor
        self.zone = zone

    def fetch(
        self, sql: str, params: Mapping[str, object] | None = None
    ) -> list[tuple[object, ...]]:
        rows: list[tuple[object, ...]] = self.cursor.execute(sql, dict(params or {})).fetchall()
        return rows

    def has_table(self, name: str) -> bool:
        domain, _, table = name.partition(".")
        return bool(self.fetch(TABLE_EXISTS_SQL, {"d": domain, "t": table}))

    def require(self, *names: str) -> None:
        """Fail with a 503 naming the first table the snapshot lacks."""
        for name in names:
            if not self.has_table(name):
                raise TableMissingError(
                    f"the published snapshot has no table {name}: run `analytics-pipeline "
                    "materialize` with this version to publish one that has it"
                )

    def data_as_of(self) -> datetime:
        """The as_of of the batch that computed the snapshot's tables."""
        (value,) = self.fetch("SELECT as_of FROM main.manifest")[0]
        if not isinstance(value, datetime):
            raise TableMissingError("the published snapshot's manifest has no as_of")
        return value.astimezone(self.zone)

    def batch_as_of(self, moment: datetime) -> datetime:
        """The batch's as_of, for tables that hold one moment's figures only.

        A later ``moment`` is served the batch's figures (``data_as_of`` tells the client
        how old they are); an earlier day was never computed, and recomputing the batch
        models per request is what the pipeline is for.
        """
        batch = self.data_as_of()
        asked = moment.astimezone(self.zone).date()
        if asked < batch.date():
            raise NotMaterializedError(
                f"figures for {asked} are not materialized: the published tables hold them "
                f"as of {batch.date()}; run `analytics-pipeline materialize --as-of {asked}` "
                "to compute that day"
            )
        return batch


@contextmanager
def open_snapshot(state: ServiceState) -> Iterator[Snapshot]:
    cursor = state.reader.cursor()
    try:
        yield Snapshot(cursor, state.zone)
    finally:
        cursor.close()


def days_ending(moment: datetime, zone: ZoneInfo, days: int) -> tuple[date, date]:
    """First and last store-local day of the ``days`` days ending at ``moment``'s day."""
    last = moment.astimezone(zone).date()
    try:
        return last - timedelta(days=days - 1), last
    except OverflowError as err:  # as_of in year 1: no window fits before it
        raise AsOfError(f"as_of {moment.isoformat()} is too early for the {days} days up to it") \
            from err


def money(value: object) -> Decimal:
    """A warehouse amount (DECIMAL, DOUBLE or NULL as 0) as currency rounded to cents."""
    return Decimal(str(value if value is not None else 0)).quantize(CENT, ROUND_HALF_UP)


def money_or_none(value: object) -> Decimal | None:
    return None if value is None else money(value)


def count(value: object) -> int:
    return int(str(value if value is not None else 0))


def count_or_none(value: object) -> int | None:
    return None if value is None else count(value)


def number_or_none(value: object, places: int = 2) -> float | None:
    return None if value is None else round(float(str(value)), places)


def share_percent(share: object) -> float | None:
    """A share (0..1, NULL when its base is empty) as percent."""
    return None if share is None else round(float(str(share)) * 100, 2)


def percent(part: object, whole: object) -> float | None:
    """100 * part / whole rounded to 2 places; None when either is unknown or whole is 0."""
    if part is None or whole is None or not Decimal(str(whole)):
        return None
    return round(float(Decimal(str(part)) / Decimal(str(whole))) * 100, 2)


def product_names(snap: Snapshot, ids: list[str]) -> dict[str, str]:
    """Names of the products ``ids`` from the snapshot's product catalogue."""
    if not ids:
        return {}
    snap.require("ingest.products")
    sql = "SELECT product_id, name FROM ingest.products WHERE list_contains($ids, product_id)"
    return {str(pid): str(name) for pid, name in snap.fetch(sql, {"ids": ids}) if name}
