"""What a source of raw data offers the loader.

A source hands over each contract table as Arrow batches of *strings* plus two
provenance columns, ``_file`` (where the row came from) and ``_row`` (its 1-based
position there). Typing and validation happen once, in the warehouse, for every source:
the folder source here and the Lightspeed connector alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa

from analytics_pipeline.contract.schema import Table


class ContractError(ValueError):
    """A source table cannot be read under the contract (e.g. a required column is missing)."""


@dataclass(frozen=True)
class SourceTable:
    """One contract table as offered by a source."""

    table: Table
    origin: str  # file name or endpoint, recorded with quarantined rows
    open_batches: Callable[[], pa.RecordBatchReader]


class Source(Protocol):
    """Anything that can offer contract tables."""

    description: str

    def offer(self, table: Table) -> SourceTable | None:
        """The table if this source has it, else ``None`` (optional tables may be absent)."""
        ...


def conform(
    table: Table, origin: str, data: pa.Table, malformed: dict[int, str] | None = None
) -> pa.Table:
    """Shape raw data to the contract: string columns, absent optional ones as nulls.

    ``malformed`` maps the 1-based row numbers of records that could not even be split
    into fields to the parser's complaint; they come back as rows whose ``_parse_error``
    is set, so they are quarantined like any other bad row instead of failing the file.

    Raises
    ------
    ContractError
        When a required column is missing: the whole table would be quarantined, so the
        user is told at once which file lacks which column.
    """
    present = set(data.column_names)
    missing = [c.name for c in table.columns if c.required and c.name not in present]
    if missing:
        raise ContractError(
            f"{origin}: required column(s) {', '.join(missing)} missing "
            f"(found: {', '.join(data.column_names) or 'none'})"
        )
    bad = malformed or {}
    good_rows = [n for n in range(1, data.num_rows + len(bad) + 1) if n not in bad]
    arrays = [
        _as_strings(data.column(c.name)) if c.name in present else pa.nulls(len(good_rows))
        for c in table.columns
    ]
    names = [*table.column_names, "_file", "_row", "_parse_error"]
    good = pa.Table.from_arrays(
        [
            *arrays,
            pa.repeat(pa.scalar(origin), len(good_rows)),
            pa.array(good_rows, pa.int64()),
            pa.nulls(len(good_rows), pa.string()),
        ],
        schema=_schema(names),
    )
    if not bad:
        return good
    broken = pa.table(
        {
            **{c.name: pa.nulls(len(bad), pa.string()) for c in table.columns},
            "_file": pa.repeat(pa.scalar(origin), len(bad)),
            "_row": pa.array(list(bad), pa.int64()),
            "_parse_error": pa.array(list(bad.values()), pa.string()),
        },
        schema=_schema(names),
    )
    return pa.concat_tables([good, broken])


def _schema(names: list[str]) -> pa.Schema:
    return pa.schema([(n, pa.int64() if n == "_row" else pa.string()) for n in names])


def _as_strings(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column.cast(pa.string())
    # Arrow renders timestamps as ISO-8601 ("2026-03-01 10:00:00", with "Z" when the
    # column is zoned), which keeps the offset, or its absence, that the contract reads.
    return column.cast(pa.string())
