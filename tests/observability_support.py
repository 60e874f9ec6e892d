"""One materialized tiny store shared by the observability and receipt tests of a module."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from tests.api_support import materialize

AS_OF = "2026-03-31T15:00:00"


def materialized(tiny_store: Path, factory: pytest.TempPathFactory, name: str) -> Path:
    """The tiny store run through ``analytics-pipeline materialize`` (snapshot included)."""
    path = factory.mktemp(name) / "warehouse.duckdb"
    materialize(tiny_store, path, AS_OF)
    return path


def copy_warehouse(warehouse: Path, folder: Path) -> Path:
    """A private copy a test may break without touching the shared one."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(warehouse, folder / "warehouse.duckdb"))


def customer_pii(store: Path) -> list[str]:
    """Every customer's e-mail and full name in the generated store."""
    with (store / "customers.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [value for row in rows for value in (
        row["email"], f"{row['first_name']} {row['last_name']}") if value.strip()]
