"""Format-neutral tables: integer-coded columns that the writer renders as CSV or Parquet.

Keeping every column as integers (ids as numbers, money in cents, times in epoch
seconds) makes shuffling, planting messy rows and chunked writing cheap; strings are
only built chunk by chunk at write time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

import numpy as np

from analytics_pipeline.generate.arrays import BoolArray, IntArray, as_int


class Kind(Enum):
    """How a column's integers are rendered."""

    ID = "id"  # prefix + zero-padded number (+ suffix)
    LABEL = "label"  # index into a tuple of strings
    DECIMAL = "decimal"  # fixed point: value / 10**decimals
    TIMESTAMP = "timestamp"  # epoch seconds, written without offset
    DATE = "date"  # days since 1970-01-01
    INT = "int"
    BOOL = "bool"


@dataclass(frozen=True)
class Column:
    """One column: integer values plus how to render them; ``missing`` marks nulls."""

    kind: Kind
    values: IntArray
    missing: BoolArray | None = None
    prefix: str = ""
    width: int = 0
    suffix: str = ""
    labels: tuple[str, ...] = ()
    decimals: int = 0

    def take(self, index: IntArray) -> Column:
        """Rows at ``index``, in that order."""
        missing = None if self.missing is None else self.missing[index]
        return replace(self, values=self.values[index], missing=missing)

    def missing_mask(self) -> BoolArray:
        """Null mask (all false when the column has no nulls)."""
        if self.missing is None:
            return np.zeros(len(self.values), dtype=bool)
        return self.missing


def id_column(
    codes: IntArray, prefix: str, width: int, missing: BoolArray | None = None, suffix: str = ""
) -> Column:
    """Ids like ``c0000123`` from their numbers."""
    return Column(Kind.ID, as_int(codes), missing, prefix=prefix, width=width, suffix=suffix)


def label_column(codes: IntArray, labels: tuple[str, ...]) -> Column:
    """Strings by index into ``labels``; negative codes are null."""
    codes = as_int(codes)
    return Column(Kind.LABEL, np.maximum(codes, 0), codes < 0, labels=labels)


def decimal_column(scaled: IntArray, decimals: int, missing: BoolArray | None = None) -> Column:
    """Fixed-point numbers, e.g. money in cents with ``decimals=2``."""
    return Column(Kind.DECIMAL, as_int(scaled), missing, decimals=decimals)


def plain_column(
    kind: Kind, values: IntArray | BoolArray, missing: BoolArray | None = None
) -> Column:
    """Timestamp, date, int or bool column."""
    return Column(kind, as_int(values), missing)


@dataclass(frozen=True)
class Table:
    """A named table of equal-length columns.

    ``raw`` holds deliberately unparseable text for single cells, ``{column: {row:
    text}}`` by final row: written verbatim to CSV and as null to Parquet (whose typed
    columns cannot hold it).

    Rows can be inserted without copying the (large) base columns: ``extra`` holds the
    inserted rows and ``row_source`` maps every final row to a base row (``< n``) or an
    extra row (``n + k``); the writer resolves this chunk by chunk.
    """

    name: str
    columns: Mapping[str, Column]
    raw: Mapping[str, Mapping[int, str]] = field(default_factory=dict)
    extra: Mapping[str, Column] | None = None
    row_source: IntArray | None = None

    @property
    def base_rows(self) -> int:
        """Rows in the base columns."""
        return len(next(iter(self.columns.values())).values)

    @property
    def n_rows(self) -> int:
        """Rows as written."""
        return self.base_rows if self.row_source is None else len(self.row_source)

    def column_slice(self, name: str, lo: int, hi: int) -> tuple[IntArray, BoolArray]:
        """Values and null mask of final rows ``lo:hi`` of one column."""
        column = self.columns[name]
        if self.row_source is None or self.extra is None:
            return column.values[lo:hi], column.missing_mask()[lo:hi]
        source = self.row_source[lo:hi]
        base = np.minimum(source, self.base_rows - 1)
        values, missing = column.values[base], column.missing_mask()[base]
        inserted = np.flatnonzero(source >= self.base_rows)
        extra = self.extra[name]
        values[inserted] = extra.values[source[inserted] - self.base_rows]
        missing[inserted] = extra.missing_mask()[source[inserted] - self.base_rows]
        return values, missing

    def with_inserted(self, extra: Table, row_source: IntArray) -> Table:
        """Insert ``extra``'s rows; ``row_source`` orders base rows then extra rows."""
        if self.row_source is not None or self.raw:
            raise ValueError("rows can be inserted only once, before raw cells")
        return replace(self, extra=extra.columns, row_source=row_source)

    def take(self, index: IntArray) -> Table:
        """Rows at ``index`` as a new (materialised) table; for small tables."""
        if self.row_source is not None or self.raw:
            raise ValueError("take works on plain tables only")
        return replace(self, columns={k: c.take(index) for k, c in self.columns.items()})

    def append(self, other: Table) -> Table:
        """This table's rows followed by ``other``'s (same columns); for small tables."""
        columns = {}
        for name, col in self.columns.items():
            extra = other.columns[name]
            missing = np.concatenate([col.missing_mask(), extra.missing_mask()])
            values = np.concatenate([col.values, extra.values])
            columns[name] = replace(col, values=values, missing=missing)
        return replace(self, columns=columns)

    def with_values(self, column: str, values: IntArray, missing: BoolArray | None = None) -> Table:
        """A copy with one column's values (and optionally nulls) replaced."""
        col = self.columns[column]
        new = replace(
            col, values=as_int(values), missing=col.missing if missing is None else missing
        )
        return replace(self, columns={**self.columns, column: new})

    def with_raw(self, column: str, cells: Mapping[int, str]) -> Table:
        """A copy with unparseable text planted in some cells (by final row)."""
        merged = {**self.raw.get(column, {}), **cells}
        return replace(self, raw={**self.raw, column: merged})
