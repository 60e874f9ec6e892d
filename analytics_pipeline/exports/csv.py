"""CSV download of a segment's consenting members, written row by row as it streams."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from analytics_pipeline.exports.members import Member

HEADER = ("customer_id", "email", "first_name", "last_name", "segment")
# Spreadsheet programs run cells starting with these as formulas (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_rows(members: Iterable[Member], tag: str) -> Iterator[str]:
    """The header, then one line per member who opted in and has an address.

    The file is meant for import into a marketing tool, so the consent rule of the other
    destinations holds here too.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values: Iterable[str]) -> str:
        writer.writerow([_safe(v) for v in values])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(HEADER)
    for m in members:
        if m.marketing_opt_in and m.email:
            yield line((m.customer_id, m.email, m.first_name or "", m.last_name or "", tag))


def _safe(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value
