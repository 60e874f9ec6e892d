"""SQL models: one ``sql/<domain>/<table>.sql`` file per table, found at run time.

A model is a single ``SELECT``; it becomes ``CREATE OR REPLACE TABLE domain.table AS ...``.
Its inputs are read from the SQL itself, so the Dagster graph cannot drift from the code.
Bound parameters available to every model: ``$as_of`` (timestamp) and ``$store_tz``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from graphlib import TopologicalSorter
from importlib import resources

from analytics_pipeline.warehouse.dialect import referenced_tables

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class SqlModel:
    """One SQL file: ``domain`` (its folder), ``name`` (its file stem) and its query."""

    domain: str
    name: str
    query: str

    @cached_property
    def deps(self) -> frozenset[tuple[str, str]]:
        """Tables this model reads, as ``(domain, table)``."""
        return frozenset(referenced_tables(self.query) - {(self.domain, self.name)})

    @property
    def create_statement(self) -> str:
        return f"CREATE OR REPLACE TABLE {self.domain}.{self.name} AS\n{self.query}"


def discover(domain: str | None = None) -> list[SqlModel]:
    """All SQL models shipped with the package, optionally of one domain, sorted by key."""
    root = resources.files("analytics_pipeline.sql")
    models: list[SqlModel] = []
    for folder in sorted(root.iterdir(), key=lambda p: p.name):
        if not folder.is_dir() or (domain and folder.name != domain):
            continue
        for item in sorted(folder.iterdir(), key=lambda p: p.name):
            if item.name.endswith(".sql"):
                models.append(_model(folder.name, item.name[:-4], item.read_text("utf-8")))
    return models


def _model(domain: str, name: str, query: str) -> SqlModel:
    for part in (domain, name):
        if not _IDENTIFIER.match(part):
            raise ValueError(f"SQL model sql/{domain}/{name}.sql: {part!r} is not a valid name")
    return SqlModel(domain=domain, name=name, query=query.strip().rstrip(";"))


def in_dependency_order(models: list[SqlModel]) -> list[SqlModel]:
    """``models`` sorted so each comes after the models it reads."""
    by_key = {(m.domain, m.name): m for m in models}
    graph = {key: {d for d in m.deps if d in by_key} for key, m in by_key.items()}
    return [by_key[key] for key in TopologicalSorter(graph).static_order()]
