"""Parsing ``ANALYTICS_WAREHOUSE``: the single switch between DuckDB and BigQuery."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse


class WarehouseURLError(ValueError):
    """The warehouse URL is malformed; the message shows the accepted forms."""


_FORMS = "use duckdb:///path/to/file.duckdb or bigquery://PROJECT/DATASET"


@dataclass(frozen=True)
class WarehouseURL:
    """A parsed warehouse location."""

    kind: Literal["duckdb", "bigquery"]
    path: Path | None = None
    project: str | None = None
    dataset: str | None = None

    @classmethod
    def parse(cls, url: str) -> WarehouseURL:
        parsed = urlparse(url)
        if parsed.scheme == "duckdb":
            # duckdb:///rel/path and duckdb:////abs/path, like SQLAlchemy URLs.
            raw = url[len("duckdb:///") :] if url.startswith("duckdb:///") else ""
            if not raw:
                raise WarehouseURLError(f"{url!r} has no DuckDB file path; {_FORMS}")
            return cls(kind="duckdb", path=Path(raw))
        if parsed.scheme == "bigquery":
            dataset = parsed.path.strip("/")
            if not parsed.netloc or not dataset or "/" in dataset:
                raise WarehouseURLError(f"{url!r} needs a project and one dataset; {_FORMS}")
            return cls(kind="bigquery", project=parsed.netloc, dataset=dataset)
        raise WarehouseURLError(f"unknown warehouse {url!r}; {_FORMS}")
