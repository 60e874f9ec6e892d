"""The segments refresh keeps the tables nothing changed for, and the tables it leaves
equal those of a refresh that rebuilds everything with the same settings."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from analytics_pipeline.api.segments_refresh import refresh_segments
from analytics_pipeline.serving.snapshot import Publication, current_snapshot
from analytics_pipeline.settings import Settings
from tests.api_support import materialize
from tests.api_support import warehouse_rows as _rows

AS_OF = "2026-03-31T15:00:00"
TABLES = ("rfm", "clv_inputs", "customer_clv", "category_affinity", "customer_segments",
          "segment_members", "segment_history", "segment_performance", "segment_migration",
          "clusters")
SETTINGS_FREE = {"clv_inputs", "category_affinity", "segment_members"}
HISTORY = {"segment_history", "segment_performance", "segment_migration"}


@pytest.fixture(scope="module")
def materialized(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reuse") / "warehouse.duckdb"
    materialize(tiny_store, path, AS_OF)
    return path


@pytest.fixture
def warehouse(materialized: Path, tmp_path: Path) -> Path:
    """A private copy of the materialized store and its published snapshot."""
    shutil.copytree(materialized.parent, tmp_path / "store")
    return tmp_path / "store" / materialized.name


def _settings(warehouse: Path, **overrides: object) -> Settings:
    return Settings.from_env({}, warehouse_url=f"duckdb:///{warehouse}", redis_url=None,
                             **overrides)


def _as_of(warehouse: Path) -> datetime:
    snapshot = current_snapshot(warehouse.parent / "serving")
    assert snapshot is not None
    value = _rows(snapshot, "SELECT as_of FROM main.manifest")[0][0]
    assert isinstance(value, datetime)
    return value


def _contents(warehouse: Path | Publication) -> dict[str, list[tuple[object, ...]]]:
    return {t: sorted(_rows(warehouse, f"SELECT * FROM segments.{t}"), key=repr)
            for t in TABLES}


def test_second_refresh_keeps_what_no_setting_touched(warehouse: Path) -> None:
    settings, as_of = _settings(warehouse), _as_of(warehouse)
    first = refresh_segments(settings, as_of)
    assert SETTINGS_FREE.isdisjoint(first.steps)  # the pipeline run's tables, kept
    assert {"customer_clv", *HISTORY} <= set(first.steps)  # no state recorded yet
    built = _contents(warehouse)
    second = refresh_segments(settings, as_of)
    assert {"rfm", "customer_segments", "clusters"} <= set(second.steps)
    assert {"customer_clv", *HISTORY, *SETTINGS_FREE}.isdisjoint(second.steps)
    assert second.rows == first.rows
    assert _contents(warehouse) == built
    assert second.snapshot is not None
    assert all(p.exists() for p in [second.snapshot.main, *second.snapshot.parts.values()])


def test_changed_settings_rebuild_what_reads_them_as_a_full_rebuild_would(
    warehouse: Path, tmp_path: Path
) -> None:
    as_of = _as_of(warehouse)
    refresh_segments(_settings(warehouse), as_of)  # records the state
    full = tmp_path / "full"
    shutil.copytree(warehouse.parent, full)
    changed = {"segment_vip_share": 0.25, "clv_horizon_days": 180}
    outcome = refresh_segments(_settings(warehouse, **changed), as_of)
    assert {"customer_clv", *HISTORY} <= set(outcome.steps)
    # The snapshot holds the new tables (republishing skips only those it already holds).
    assert outcome.snapshot is not None
    assert _contents(outcome.snapshot) == _contents(warehouse)
    # A copy without the recorded state rebuilds every settings-dependent table.
    copy = full / warehouse.name
    with duckdb.connect(str(copy)) as conn:
        conn.execute("DROP TABLE segments.refresh_state")
    refresh_segments(_settings(copy, **changed), as_of)
    assert _contents(warehouse) == _contents(copy)


def test_a_table_a_run_rewrote_is_rebuilt_by_the_next_refresh(warehouse: Path) -> None:
    settings, as_of = _settings(warehouse), _as_of(warehouse)
    refresh_segments(settings, as_of)  # records the state
    built = _contents(warehouse)
    # A pipeline run over other orders leaves another history; revenue tables are not
    # digested, so the kept table's own digest is what must give it away.
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("DELETE FROM segments.segment_history WHERE customer_id = "
                     "(SELECT min(customer_id) FROM segments.segment_history)")
    outcome = refresh_segments(settings, as_of)
    assert HISTORY <= set(outcome.steps)
    assert _contents(warehouse) == built
    assert outcome.snapshot is not None and _contents(outcome.snapshot) == built
