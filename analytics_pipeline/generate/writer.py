"""Writes format-neutral tables as CSV (pyarrow) or Parquet, chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from analytics_pipeline.generate.arrays import BoolArray, IntArray
from analytics_pipeline.generate.columns import Column, Kind, Table
from analytics_pipeline.generate.scales import FileFormat

_CHUNK_ROWS = 1_000_000
_DECIMAL_PRECISION = 18
_STRUCTURAL = (",", '"', "\n", "\r")


def write_table(table: Table, directory: Path, file_format: FileFormat) -> Path:
    """Write ``table`` to ``directory/NAME.csv`` or ``NAME.parquet``.

    Parameters
    ----------
    table
        The table.
    directory
        Target folder (must exist).
    file_format
        ``csv`` or ``parquet``.

    Returns
    -------
    Path
        The written file.
    """
    path = directory / f"{table.name}.{file_format}"
    chunks = (
        _record_batch(table, lo, min(lo + _CHUNK_ROWS, table.n_rows), file_format)
        for lo in range(0, max(table.n_rows, 1), _CHUNK_ROWS)
    )
    if file_format == "csv":
        _write_csv(path, list(table.columns), chunks, quote=_needs_quoting(table))
    else:
        _write_parquet(path, chunks)
    return path


def _needs_quoting(table: Table) -> bool:
    """Whether any text in the table contains a CSV delimiter, quote or line break.

    Only labels and planted raw cells can hold free text (ids, numbers and dates never
    do), so this is decided up front and most files are written without any quotes.
    """
    texts = [label for c in table.columns.values() if c.kind is Kind.LABEL for label in c.labels]
    texts += [text for cells in table.raw.values() for text in cells.values()]
    return any(ch in text for text in texts for ch in _STRUCTURAL)


def _write_csv(
    path: Path, header: list[str], chunks: Iterable[pa.RecordBatch], quote: bool
) -> None:
    """Plain header, empty cells for nulls, quotes only if some text needs them."""
    style = "needed" if quote else "none"
    options = pa_csv.WriteOptions(include_header=False, quoting_style=style)
    with path.open("wb") as sink:
        sink.write((",".join(header) + "\n").encode())
        writer: pa_csv.CSVWriter | None = None
        for batch in chunks:
            if writer is None:
                writer = pa_csv.CSVWriter(sink, batch.schema, write_options=options)
            writer.write_batch(batch)
        if writer is not None:
            writer.close()


def _write_parquet(path: Path, chunks: Iterable[pa.RecordBatch]) -> None:
    """One file per table, zstd-compressed, one row group per chunk."""
    writer: pq.ParquetWriter | None = None
    for batch in chunks:
        if writer is None:
            writer = pq.ParquetWriter(path, batch.schema, compression="zstd")
        writer.write_batch(batch)
    if writer is not None:
        writer.close()


def _record_batch(table: Table, lo: int, hi: int, file_format: FileFormat) -> pa.RecordBatch:
    """Rows ``lo:hi`` as an Arrow batch in the format's types."""
    arrays = []
    for name, column in table.columns.items():
        raw = table.raw.get(name, {})
        values, missing = table.column_slice(name, lo, hi)
        as_text = file_format == "csv" and bool(raw)
        array = _render(column, values, missing, file_format, as_text)
        arrays.append(_plant_raw(array, raw, lo, hi, file_format))
    return pa.RecordBatch.from_arrays(arrays, names=list(table.columns))


def _render(
    column: Column, values: IntArray, mask: BoolArray, file_format: FileFormat, as_text: bool
) -> pa.Array:
    """Arrow array of some of a column's values, rendered as its kind says."""
    if column.kind is Kind.ID:
        digits = pc.utf8_lpad(
            pc.cast(pa.array(values, mask=mask), pa.string()), width=column.width, padding="0"
        )
        out = pc.binary_join_element_wise(column.prefix, digits, column.suffix, "")
    elif column.kind is Kind.LABEL:
        out = pa.array(column.labels, pa.string()).take(pa.array(values, mask=mask))
    elif column.kind is Kind.DECIMAL:
        out = _decimal(values, mask, column.decimals, file_format)
    elif column.kind is Kind.TIMESTAMP:
        out = pa.array(values, pa.timestamp("s"), mask=mask)
        if file_format == "csv":
            out = pc.replace_substring(pc.cast(out, pa.string()), " ", "T", max_replacements=1)
    elif column.kind is Kind.DATE:
        out = pa.array(values.astype(np.int32), pa.date32(), mask=mask)
    elif column.kind is Kind.BOOL:
        out = pa.array(values.astype(bool), pa.bool_(), mask=mask)
    else:
        out = pa.array(values, pa.int64(), mask=mask)
    return pc.cast(out, pa.string()) if as_text else out


def _decimal(values: IntArray, mask: BoolArray, decimals: int, file_format: FileFormat) -> pa.Array:
    """Fixed point: a "-12.34" string for CSV, an exact decimal type for Parquet."""
    if file_format == "parquet":
        floats = pa.array(values / 10**decimals, pa.float64(), mask=mask)
        return pc.cast(floats, pa.decimal128(_DECIMAL_PRECISION, decimals))
    whole = pc.cast(pa.array(np.abs(values) // 10**decimals, mask=mask), pa.string())
    text = whole
    if decimals:
        fraction = pc.utf8_lpad(
            pc.cast(pa.array(np.abs(values) % 10**decimals), pa.string()),
            width=decimals,
            padding="0",
        )
        text = pc.binary_join_element_wise(whole, fraction, ".")
    signed = pc.binary_join_element_wise("-", text, "")
    return pc.if_else(pa.array(values < 0), signed, text)


def _plant_raw(
    array: pa.Array, raw: Mapping[int, str], lo: int, hi: int, file_format: FileFormat
) -> pa.Array:
    """Put unparseable text into CSV cells; Parquet's typed cells become null instead."""
    rows = sorted(r for r in raw if lo <= r < hi)
    if not rows:
        return array
    mask = np.zeros(hi - lo, dtype=bool)
    mask[np.array(rows) - lo] = True
    if file_format == "csv":
        return pc.replace_with_mask(array, pa.array(mask), pa.array([raw[r] for r in rows]))
    return pc.if_else(pa.array(mask), pa.scalar(None, array.type), array)
