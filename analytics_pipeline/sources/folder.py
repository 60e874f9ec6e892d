"""A folder export: one ``TABLE.csv`` or ``TABLE.parquet`` file per contract table."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from analytics_pipeline.contract.schema import Table
from analytics_pipeline.sources.base import ContractError, SourceTable, conform

BATCH_ROWS = 1_000_000


class FolderSource:
    """Reads a folder of contract files (CSV with a header row, or Parquet)."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise ContractError(f"source folder {folder} does not exist or is not a folder")
        self.folder = folder
        self.description = f"folder {folder}"

    def offer(self, table: Table) -> SourceTable | None:
        candidates = [self.folder / f"{table.name}.{ext}" for ext in ("csv", "parquet")]
        found = [p for p in candidates if p.is_file()]
        if len(found) > 1:
            raise ContractError(
                f"{self.folder} has both {table.name}.csv and {table.name}.parquet; keep one"
            )
        if not found:
            return None
        path = found[0]
        return SourceTable(table, path.name, lambda: _read(table, path))


def _read(table: Table, path: Path) -> pa.RecordBatchReader:
    try:
        if path.suffix == ".csv":
            data, malformed = _read_csv(path)
        else:
            data, malformed = pq.read_table(path), {}
    except (pa.ArrowInvalid, OSError, csv.Error, UnicodeDecodeError) as err:
        raise ContractError(f"{path.name}: cannot be read as {path.suffix[1:]}: {err}") from err
    conformed = conform(table, path.name, data, malformed)
    return pa.RecordBatchReader.from_batches(
        conformed.schema, conformed.to_batches(max_chunksize=BATCH_ROWS)
    )


def _read_csv(path: Path) -> tuple[pa.Table, dict[int, str]]:
    """Read every column as text, plus the records that have the wrong number of fields.

    Typing happens in the warehouse so that a bad value quarantines one row instead of
    failing the file. Row numbers count data records (the header is not a row); the
    parser reports line numbers, which equal them unless a quoted field spans lines.
    """
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise ContractError(f"{path.name}: empty file (a header row is required)")
    names = [h.strip() for h in header]
    malformed: dict[int, str] = {}
    unnumbered: list[int] = []

    def keep_malformed(row: pacsv.InvalidRow) -> str:
        if row.number is None:
            unnumbered.append(row.actual_columns)
        else:
            malformed[row.number - 1] = (
                f"malformed CSV row: {row.actual_columns} fields, expected {row.expected_columns}"
            )
        return "skip"

    def read(threads: bool) -> pa.Table:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, encoding="utf8", use_threads=threads
            ),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=keep_malformed
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    data = read(threads=True)
    if unnumbered:
        # The threaded parser does not know line numbers; a rare second, serial pass does.
        data = read(threads=False)
    return data, malformed
