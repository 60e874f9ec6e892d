"""Publications: a main snapshot plus a segments part, republished without the main copy."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analytics_pipeline.serving.snapshot import (
    POINTER,
    SnapshotReader,
    current_publication,
    publish_snapshot,
    republish_schema,
)
from analytics_pipeline.warehouse import DuckDBWarehouse

AS_OF = datetime(2026, 3, 31, 23, tzinfo=UTC)


@pytest.fixture
def wh(tmp_path: Path) -> DuckDBWarehouse:
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb", "UTC")
    for statement in (
        "CREATE SCHEMA revenue", "CREATE TABLE revenue.daily AS SELECT 1 AS day, 10.0 AS net",
        "CREATE SCHEMA segments", "CREATE TABLE segments.rfm AS SELECT 'c1' AS customer_id",
        "CREATE TABLE segments.clusters AS SELECT 'c1' AS customer_id, 1 AS cluster_id",
    ):
        warehouse.execute(statement)
    return warehouse


def test_segments_are_a_part_read_under_their_own_name(wh: DuckDBWarehouse,
                                                       tmp_path: Path) -> None:
    serving = tmp_path / "serving"
    publish_snapshot(wh, serving, AS_OF, 0)
    publication = current_publication(serving)
    assert publication is not None and set(publication.parts) == {"segments"}
    with publication.connect() as conn:
        assert conn.execute("SELECT * FROM segments.rfm").fetchall() == [("c1",)]
        assert conn.execute("SELECT net FROM revenue.daily").fetchall() == [(10.0,)]
    reader = SnapshotReader(serving, "UTC")
    try:
        assert reader.has_table("segments", "clusters") and reader.has_table("revenue", "daily")
        assert not reader.has_table("segments", "daily")
        assert reader.fetch("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_schema = 'segments'") == [(0,)]  # not in the main file
    finally:
        reader.close()


def test_republishing_writes_a_part_and_links_the_main_file(wh: DuckDBWarehouse,
                                                            tmp_path: Path) -> None:
    serving = tmp_path / "serving"
    publish_snapshot(wh, serving, AS_OF, 7)
    before = current_publication(serving)
    assert before is not None
    reader = SnapshotReader(serving, "UTC", check_every=0.0)
    try:
        old = reader.cursor()  # a request still reading the old publication
        wh.execute("INSERT INTO segments.rfm VALUES ('c2')")
        after = republish_schema(wh, serving, "segments")
        assert os.path.samefile(after.main, before.main) and after.main != before.main
        assert after.parts["segments"] != before.parts["segments"]
        assert reader.fetch("SELECT count(*) FROM segments.rfm") == [(2,)]
        assert old.execute("SELECT count(*) FROM segments.rfm").fetchall() == [(1,)]
        assert reader.fetch("SELECT live_watermark FROM main.manifest") == [(7,)]
        assert reader.path is not None and reader.path.name == after.name != before.name
        old.close()
        again = republish_schema(wh, serving, "segments")  # nothing changed: links only
        assert os.path.samefile(again.parts["segments"], after.parts["segments"])
        assert reader.fetch("SELECT count(*) FROM segments.rfm") == [(2,)]
    finally:
        reader.close()


def test_unchanged_tables_keep_their_digest_and_stale_parts_are_pruned(
    wh: DuckDBWarehouse, tmp_path: Path
) -> None:
    serving = tmp_path / "serving"
    publish_snapshot(wh, serving, AS_OF, 0)
    for n in range(5):
        wh.execute(f"INSERT INTO segments.rfm VALUES ('x{n}')")
        publication = republish_schema(wh, serving, "segments")
    with publication.connect() as conn:
        comments = dict(conn.execute("SELECT table_name, comment FROM duckdb_tables() "
                                     "WHERE database_name = 'segments'").fetchall())
    assert comments["clusters"] == _digest(wh, "segments.clusters")
    assert comments["rfm"] == _digest(wh, "segments.rfm")
    assert len(list(serving.glob("segments-*.duckdb"))) == 3
    assert len(list(serving.glob("snapshot-*.duckdb"))) == 3


def test_a_snapshot_from_before_parts_is_upgraded(wh: DuckDBWarehouse, tmp_path: Path) -> None:
    serving = tmp_path / "serving"
    publish_snapshot(wh, serving, AS_OF, 0)
    publication = current_publication(serving)
    assert publication is not None
    # One file holding every schema, named alone in CURRENT, as published before parts.
    wh.execute(f"ATTACH '{publication.main}' AS old")
    wh.execute("CREATE SCHEMA old.segments")
    wh.execute("CREATE TABLE old.segments.rfm AS SELECT * FROM segments.rfm")
    wh.execute("DETACH old")
    (serving / POINTER).write_text(publication.main.name + "\n")
    upgraded = republish_schema(wh, serving, "segments")
    assert not os.path.samefile(upgraded.main, publication.main)
    with upgraded.connect() as conn:
        assert conn.execute("SELECT count(*) FROM segments.clusters").fetchall() == [(1,)]


def _digest(wh: DuckDBWarehouse, table: str) -> str:
    ((count, total),) = wh.fetch_all(f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {table} t")
    return f"{count}:{total}"
