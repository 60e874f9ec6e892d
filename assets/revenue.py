"""Revenue inputs that come from the business rather than the source: monthly targets.

``revenue.targets_input`` holds the targets file's months (``ANALYTICS_TARGETS_FILE``, CSV
``month,target_revenue`` with months as ``YYYY-MM``); ``sql/revenue/monthly_targets.sql``
prefers them over last year's figures. Without a file the table is empty, so the models
that read it always run. A file that cannot be read fails the run, naming the file and row:
a silently ignored target would show a wrong "vs target" figure on the dashboard.
"""

import csv
import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import dagster as dg
import pyarrow as pa

from analytics_pipeline.resources import TargetsResource, WarehouseResource
from analytics_pipeline.warehouse import Warehouse

TARGETS_KEY = dg.AssetKey(["revenue", "targets_input"])
TARGETS_SCHEMA = pa.schema([("month", pa.date32()), ("target_revenue", pa.decimal128(18, 4))])
TARGET_COLUMNS = ("month", "target_revenue")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_MONEY_PLACES = Decimal("0.0001")


class TargetsFileError(ValueError):
    """The targets file cannot be used; the message names the file and, if any, the row."""


def read_targets(path: Path) -> pa.Table:
    """The file's targets, one row per month; rows are numbered like quarantined rows
    (the first row after the header is row 1)."""
    if not path.is_file():
        raise TargetsFileError(f"targets file {path}: not found (ANALYTICS_TARGETS_FILE)")
    months: list[dt.date] = []
    targets: list[Decimal] = []
    first_seen: dict[dt.date, int] = {}
    # utf-8-sig: spreadsheets often save CSV with a byte-order mark before the header.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [name.strip().lower() for name in next(reader, [])]
        missing = [c for c in TARGET_COLUMNS if c not in header]
        if missing:
            raise TargetsFileError(
                f"targets file {path}: the header needs the columns month,target_revenue"
                f" (missing: {', '.join(missing)})"
            )
        month_at, target_at = header.index("month"), header.index("target_revenue")
        for row_number, values in enumerate(reader, start=1):
            if not any(v.strip() for v in values):
                continue
            where = f"targets file {path}, row {row_number} (line {reader.line_num})"
            if len(values) <= max(month_at, target_at):
                raise TargetsFileError(f"{where}: expected {len(header)} values")
            month = _month(values[month_at].strip(), where)
            if month in first_seen:
                raise TargetsFileError(
                    f"{where}: month {month:%Y-%m} was already given in row {first_seen[month]}"
                )
            first_seen[month] = row_number
            months.append(month)
            targets.append(_amount(values[target_at].strip(), where))
    return pa.table({"month": months, "target_revenue": targets}, schema=TARGETS_SCHEMA)


def write_targets(warehouse: Warehouse, path: Path | None) -> int:
    """Replace ``revenue.targets_input`` with the file's targets (empty without a file)."""
    table = read_targets(path) if path else TARGETS_SCHEMA.empty_table()
    batches = pa.RecordBatchReader.from_batches(TARGETS_SCHEMA, table.to_batches())
    return warehouse.load_arrow("revenue", "targets_input", batches)


@dg.asset(
    key=TARGETS_KEY,
    group_name="revenue",
    description="Monthly revenue targets from ANALYTICS_TARGETS_FILE (empty without one).",
)
def targets_input(
    warehouse: WarehouseResource, targets: TargetsResource
) -> dg.MaterializeResult[None]:
    path = targets.file()
    with warehouse.open() as wh:
        rows = write_targets(wh, path)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "file": str(path) if path else "none: targets come from last year's sales",
        }
    )


def _month(text: str, where: str) -> dt.date:
    match = _MONTH.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise TargetsFileError(f"{where}: month {text!r} is not a month as YYYY-MM")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def _amount(text: str, where: str) -> Decimal:
    if not text:
        raise TargetsFileError(
            f"{where}: target_revenue is empty (leave the month out to use last year's sales)"
        )
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise TargetsFileError(f"{where}: target_revenue {text!r} is not a number")
    if value < 0:
        raise TargetsFileError(f"{where}: target_revenue {text!r} must be >= 0")
    return value.quantize(_MONEY_PLACES)
