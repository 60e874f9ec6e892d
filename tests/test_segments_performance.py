"""Segment performance: the history, performance and migration models on a shop small
enough to know every customer's segment at every month end, and the endpoint on the tiny
store against SQL on the published warehouse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from analytics_pipeline.ingest.load import load_source
from analytics_pipeline.sources import FolderSource
from analytics_pipeline.warehouse import DuckDBWarehouse
from tests.api_support import app_client, materialize
from tests.conftest import NOW, build_models, models_reading, write_folder

# as_of = NOW = 2026-03-31 23:00 UTC: the month ends are 2025-04-30 .. 2026-03-31.
# v spends most (the one VIP while there are at most 10 customers). b buys once in October
# (New, then Regular, Inactive from 90 days on) and returns an item in February (a
# return-only order: revenue, not a purchase). a buys three times in two-day steps in
# January, so at 01-31 the 26 days since then are beyond 3 x 2 (At-risk); two February
# purchases make five (Loyalist), one in March keeps it there.
SHOP = {
    "products.csv": """product_id,name,category,unit_cost,unit_price,lead_time_days,supplier
p1,Mug,kitchen,4.00,10.00,5,acme
p2,Tea,grocery,2.50,6.00,7,leafco
""",
    "orders.csv": """order_id,customer_id,ordered_at,channel,status
o1,v,2025-06-15T10:00:00,store,completed
o2,b,2025-10-05T10:00:00,online,completed
o3,a,2026-01-01T10:00:00,store,completed
o4,a,2026-01-03T10:00:00,store,completed
o5,a,2026-01-05T10:00:00,store,completed
o6,a,2026-02-10T10:00:00,store,completed
o7,a,2026-02-20T10:00:00,store,completed
o8,b,2026-02-15T10:00:00,online,completed
o9,a,2026-03-15T10:00:00,store,completed
o10,a,2026-03-16T10:00:00,store,refunded
""",
    "order_lines.csv": """order_id,line_number,product_id,quantity,unit_price,discount,unit_cost
o1,1,p1,100,10.00,0,
o2,1,p2,1,6.00,0,
o3,1,p1,1,10.00,0,
o4,1,p1,1,10.00,0,
o5,1,p1,1,10.00,0,
o6,1,p1,1,10.00,0,
o7,1,p1,1,10.00,0,
o8,1,p2,-1,6.00,0,
o9,1,p1,2,10.00,0,
o10,1,p1,9,10.00,0,
""",
}
MONTH_ENDS = [dt.date(2025, 4, 30), dt.date(2025, 5, 31), dt.date(2025, 6, 30),
              dt.date(2025, 7, 31), dt.date(2025, 8, 31), dt.date(2025, 9, 30),
              dt.date(2025, 10, 31), dt.date(2025, 11, 30), dt.date(2025, 12, 31),
              dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31)]
# Worked out by hand from the rules in sql/segments/segment_history.sql.
EXPECTED = {
    **{(day, "v"): "vip" for day in MONTH_ENDS[2:]},
    (MONTH_ENDS[6], "b"): "new",
    (MONTH_ENDS[7], "b"): "regular",
    (MONTH_ENDS[8], "b"): "regular",  # 87 days since its purchase
    **{(day, "b"): "inactive" for day in MONTH_ENDS[9:]},
    (MONTH_ENDS[9], "a"): "at_risk",
    (MONTH_ENDS[10], "a"): "loyalist",
    (MONTH_ENDS[11], "a"): "loyalist",
}
SEGMENT_MODELS = ("segment_history", "segment_performance", "segment_migration")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBWarehouse]:
    base = tmp_path_factory.mktemp("segment_shop")
    wh = DuckDBWarehouse(base / "shop.duckdb", "UTC")
    load_source(FolderSource(write_folder(base / "src", SHOP)), wh, NOW)
    build_models(wh, models_reading(*(("segments", name) for name in SEGMENT_MODELS)))
    yield wh
    wh.close()


def _rows(conn: Any, sql: str) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = conn.execute(sql).fetchall()
    return rows


def test_history_has_every_customer_segment_by_hand(shop: DuckDBWarehouse) -> None:
    rows = _rows(shop._conn, """SELECT month_end, customer_id, primary_segment
                                FROM segments.segment_history""")
    assert {(day, customer): segment for day, customer, segment in rows} == EXPECTED
    assert {day for day, _, _ in rows} == set(MONTH_ENDS[2:])  # none bought before June


def test_performance_counts_the_next_month(shop: DuckDBWarehouse) -> None:
    rows = _rows(shop._conn, """SELECT month_end, segment, next_month_end, customers,
        revenue, orders, retention FROM segments.segment_performance""")
    by_key = {(r[0], r[1]): r[2:] for r in rows}
    jan, feb, mar = MONTH_ENDS[9:]
    assert by_key[(jan, "at_risk")] == (feb, 1, 20.0, 2, 1.0)
    assert by_key[(jan, "inactive")] == (feb, 1, -6.0, 0, 0.0)  # the return-only order
    assert by_key[(jan, "vip")] == (feb, 1, 0.0, 0, 0.0)
    assert by_key[(feb, "loyalist")] == (mar, 1, 20.0, 1, 1.0)  # o10 is refunded
    assert by_key[(MONTH_ENDS[6], "new")] == (MONTH_ENDS[7], 1, 0.0, 0, 0.0)
    # Nothing has followed the as_of month end yet.
    assert {r[2:] for r in rows if r[0] == mar} == {(mar, 1, None, None, None)}
    assert sum(r[3] for r in rows) == len(EXPECTED)


def test_migration_finds_the_move_from_at_risk_to_loyalist(shop: DuckDBWarehouse) -> None:
    moved = _rows(shop._conn, """SELECT month_end, previous_month_end, customers
        FROM segments.segment_migration
        WHERE from_segment = 'at_risk' AND to_segment = 'loyalist'""")
    assert moved == [(MONTH_ENDS[10], MONTH_ENDS[9], 1)]
    rows = _rows(shop._conn, """SELECT month_end, from_segment, to_segment, customers
                                FROM segments.segment_migration""")
    assert {(r[0], r[1], r[2]): r[3] for r in rows if r[0] >= MONTH_ENDS[9]} == {
        (MONTH_ENDS[9], "vip", "vip"): 1, (MONTH_ENDS[9], "regular", "inactive"): 1,
        (MONTH_ENDS[10], "vip", "vip"): 1, (MONTH_ENDS[10], "inactive", "inactive"): 1,
        (MONTH_ENDS[10], "at_risk", "loyalist"): 1,
        (MONTH_ENDS[11], "vip", "vip"): 1, (MONTH_ENDS[11], "inactive", "inactive"): 1,
        (MONTH_ENDS[11], "loyalist", "loyalist"): 1,
    }
    # Every customer present at consecutive month ends is counted once per move.
    stays = sum(r[3] for r in rows)
    assert stays == sum(1 for day, c in EXPECTED if day != MONTH_ENDS[2]
                        and (MONTH_ENDS[MONTH_ENDS.index(day) - 1], c) in EXPECTED)


# --- the endpoint on the tiny store ---------------------------------------------------------

AS_OF = "2026-03-31T15:00:00"
READ = {"Authorization": "Bearer reader"}


@pytest.fixture(scope="module")
def warehouse(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("segment_performance") / "warehouse.duckdb"
    materialize(tiny_store, path, AS_OF)
    return path


@pytest.fixture(scope="module")
def client(warehouse: Path) -> Iterator[TestClient]:
    with app_client(warehouse) as test_client:
        yield test_client


def test_performance_needs_the_read_scope(client: TestClient) -> None:
    assert client.get("/api/segments/performance").status_code == 401


def test_performance_matches_the_warehouse(client: TestClient, warehouse: Path) -> None:
    response = client.get(f"/api/segments/performance?as_of={AS_OF}", headers=READ)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data_as_of"].startswith("2026-03-31") and body["currency"] == "USD"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        sizes = dict(_rows(conn, """SELECT strftime(month_end, '%Y-%m-%d') || '/' ||
            primary_segment, count(*) FROM segments.segment_history GROUP BY ALL"""))
        retained = _rows(conn, """SELECT count(DISTINCT h.customer_id)
            FROM segments.segment_history h JOIN ingest.sales_lines s
              ON s.customer_id = h.customer_id AND NOT s.is_return
             AND s.sale_date > h.month_end AND s.sale_date <= last_day(h.month_end + 1)
            WHERE h.month_end = DATE '2026-02-28' AND h.primary_segment = 'regular'""")[0][0]
        moves = _rows(conn, "SELECT sum(customers) FROM segments.segment_migration")[0][0]
    months = body["months"]
    assert [m["month_end"] for m in months] == sorted(m["month_end"] for m in months)
    # The tiny store's sales start in October 2025; the as_of day ends March.
    assert len(months) == len({key.split("/")[0] for key in sizes}) <= 12
    assert months[-1]["month_end"] == "2026-03-31"
    assert all(s["revenue"] is None for s in months[-1]["segments"])
    got = {f"{m['month_end']}/{s['segment']}": s["customers"]
           for m in months for s in m["segments"]}
    assert got == sizes
    feb = {s["segment"]: s for s in months[-2]["segments"]}
    assert feb["regular"]["retention_pct"] == pytest.approx(
        100 * retained / feb["regular"]["customers"], abs=0.01)
    assert sum(m["customers"] for m in body["migration"]) == moves > 0


def test_performance_before_the_batch_is_422(client: TestClient) -> None:
    response = client.get("/api/segments/performance?as_of=2026-01-01", headers=READ)
    assert response.status_code == 422
