"""Source -> raw tables: validation, quarantine, idempotent upserts, contract semantics."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from analytics_pipeline.ingest.load import load_source
from analytics_pipeline.sources import ContractError, FolderSource
from analytics_pipeline.warehouse import DuckDBWarehouse
from analytics_pipeline.warehouse.sql_models import discover
from tests.conftest import BROKEN_EXPECTED, BROKEN_FILES, NOW, write_folder


def _load(folder: Path, wh: DuckDBWarehouse, at: dt.datetime = NOW) -> None:
    load_source(FolderSource(folder), wh, at)


def _counts(wh: DuckDBWarehouse) -> dict[str, int]:
    tables = ["products", "customers", "orders", "order_lines", "inventory", "events",
              "content", "quarantine"]
    return {t: int(str(wh.fetch_all(f"SELECT count(*) FROM ingest.{t}")[0][0])) for t in tables}


def test_broken_folder_loads_good_rows_and_quarantines_each_bad_row(
    broken_folder: Path, warehouse: DuckDBWarehouse
) -> None:
    report = load_source(FolderSource(broken_folder), warehouse, NOW)
    rows = warehouse.fetch_all(
        "SELECT file_name, row_number, reason FROM ingest.quarantine ORDER BY 1, 2"
    )
    quarantined = {(str(f), int(str(n))): str(r) for f, n, r in rows}
    assert set(quarantined) == set(BROKEN_EXPECTED)
    for place, reason in BROKEN_EXPECTED.items():
        assert reason in quarantined[place], place
    assert report.tables["orders"].rows_quarantined == 4
    assert report.tables["order_lines"].rows_quarantined == 5
    # Every row read is either loaded or quarantined: nothing silently dropped.
    for name, load in report.tables.items():
        source_rows = BROKEN_FILES[f"{name}.csv"].strip().count("\n")
        assert load.rows_read == source_rows, name
    assert _counts(warehouse)["orders"] == 5
    assert _counts(warehouse)["order_lines"] == 7


def test_second_load_of_same_folder_changes_no_count(
    broken_folder: Path, warehouse: DuckDBWarehouse
) -> None:
    _load(broken_folder, warehouse)
    first = _counts(warehouse)
    _load(broken_folder, warehouse, NOW + dt.timedelta(hours=1))
    assert _counts(warehouse) == first


def test_overlapping_newer_export_upserts_by_key(
    tmp_path: Path, warehouse: DuckDBWarehouse
) -> None:
    header = "order_id,customer_id,ordered_at,channel,status\n"
    lines = "order_id,line_number,product_id,quantity,unit_price\n"
    old = write_folder(tmp_path / "old", {
        "orders.csv": header + "a,c1,2026-03-01,store,\nb,c1,2026-03-02,store,\n",
        "order_lines.csv": lines + "a,1,p1,1,10\nb,1,p1,2,10\n",
    })
    new = write_folder(tmp_path / "new", {
        "orders.csv": header + "b,c1,2026-03-02,store,refunded\nc,c2,2026-03-03,online,\n",
        "order_lines.csv": lines + "b,1,p1,2,10\nc,1,p1,1,12.5\n",
    })
    _load(old, warehouse)
    _load(new, warehouse)
    _load(new, warehouse)
    assert _counts(warehouse)["orders"] == 3
    assert _counts(warehouse)["order_lines"] == 3
    status = warehouse.fetch_all("SELECT status FROM ingest.orders WHERE order_id = 'b'")
    assert status == [("refunded",)]


def test_sales_lines_follow_contract_for_returns_refunds_and_voids(
    broken_folder: Path, warehouse: DuckDBWarehouse
) -> None:
    _load(broken_folder, warehouse)
    (sales,) = [m for m in discover("ingest") if m.name == "sales_lines"]
    warehouse.execute(sales.create_statement, {"as_of": NOW, "store_tz": "UTC"})
    rows = warehouse.fetch_all(
        "SELECT order_id, line_number, revenue, cost, is_return FROM ingest.sales_lines "
        "ORDER BY order_id, line_number"
    )
    as_floats = [(o, n, float(str(r)), None if c is None else float(str(c)), ret)
                 for o, n, r, c, ret in rows]
    assert as_floats == [
        ("o1", 1, 19.0, 8.0, False),   # 2 x 10 - 1 discount; line cost 4
        ("o1", 2, 6.0, 2.5, False),    # product cost used when the line has none
        ("o2", 1, 10.0, 4.0, False),   # empty status = completed
        ("o5", 1, -10.0, -4.0, True),  # a return reduces revenue on its own day
        ("o5", 2, 7.5, 3.0, False),    # unknown product kept (placeholder)
    ]  # o3 (refunded) and o4 (void) count nowhere


def test_timestamps_without_offset_are_store_local(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "tz", {
        "orders.csv": "order_id,ordered_at\na,2026-03-01T23:30:00\nb,2026-03-01T23:30:00+00:00\n",
        "order_lines.csv": "order_id,line_number,product_id,quantity,unit_price\na,1,p,1,1\n",
    })
    wh = DuckDBWarehouse(tmp_path / "tz.duckdb", "America/Toronto")
    _load(folder, wh)
    rows = wh.fetch_all("SELECT order_id, epoch(ordered_at) FROM ingest.orders ORDER BY 1")
    local = dt.datetime(2026, 3, 2, 4, 30, tzinfo=dt.UTC).timestamp()  # 23:30 EST = 04:30 UTC
    assert [(o, float(str(e))) for o, e in rows] == [
        ("a", local), ("b", dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC).timestamp())
    ]
    wh.close()


def test_placeholders_flags_and_defaults(broken_folder: Path, warehouse: DuckDBWarehouse) -> None:
    report = load_source(FolderSource(broken_folder), warehouse, NOW)
    assert report.placeholder_products == 1
    assert warehouse.fetch_all(
        "SELECT category, lead_time_days, is_placeholder FROM ingest.products "
        "WHERE product_id IN ('p2', 'p9') ORDER BY product_id"
    ) == [("uncategorized", 7, False), ("uncategorized", 7, True)]
    assert warehouse.fetch_all(
        "SELECT on_hand, on_hand_was_negative FROM ingest.inventory WHERE product_id = 'p2'"
    ) == [(0, True)]
    assert warehouse.fetch_all(
        "SELECT customer_id, marketing_opt_in FROM ingest.customers ORDER BY 1"
    ) == [("c1", True), ("c2", False)]
    synthetic = warehouse.fetch_all(
        "SELECT event_id FROM ingest.events WHERE event_type = 'cart_add'"
    )
    assert len(synthetic) == 1 and len(str(synthetic[0][0])) == 32


def test_missing_optional_tables_are_noted_not_fatal(
    tmp_path: Path, warehouse: DuckDBWarehouse
) -> None:
    files = {k: v for k, v in BROKEN_FILES.items() if k in ("orders.csv", "order_lines.csv")}
    report = load_source(FolderSource(write_folder(tmp_path / "min", files)), warehouse, NOW)
    assert sorted(report.missing) == ["content", "customers", "events", "inventory", "products"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"order_lines.csv": "order_id\n"}, "has no orders table"),
        ({"orders.csv": "order_id,customer_id\na,b\n", "order_lines.csv": "order_id\n"},
         "orders.csv: required column(s) ordered_at missing"),
        ({"orders.csv": "", "order_lines.csv": "order_id\n"}, "orders.csv: empty file"),
    ],
)
def test_unusable_sources_fail_with_a_clear_message(
    tmp_path: Path, warehouse: DuckDBWarehouse, files: dict[str, str], message: str
) -> None:
    with pytest.raises(ContractError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _load(write_folder(tmp_path / "bad", files), warehouse)


def test_parquet_folder_loads_the_same_as_csv(
    broken_folder: Path, tmp_path: Path, warehouse: DuckDBWarehouse
) -> None:
    as_parquet = tmp_path / "parquet"
    as_parquet.mkdir()
    for name in ("products", "orders", "customers", "inventory", "content"):
        table = pacsv.read_csv(broken_folder / f"{name}.csv")
        pq.write_table(table, as_parquet / f"{name}.parquet")
    lines = BROKEN_FILES["order_lines.csv"].rsplit("\n", 2)[0] + "\n"  # drop the malformed row
    (as_parquet / "order_lines.csv").write_text(lines)
    _load(as_parquet, warehouse)
    other = DuckDBWarehouse(tmp_path / "csv.duckdb", "UTC")
    _load(broken_folder, other)
    query = "SELECT order_id, ordered_at, status FROM ingest.orders ORDER BY 1"
    assert warehouse.fetch_all(query) == other.fetch_all(query)
    other.close()


def test_generated_store_quarantines_exactly_its_deliberate_bad_rows(
    tiny_store: Path, warehouse: DuckDBWarehouse
) -> None:
    truth = pd.read_csv(tiny_store.parent / f"{tiny_store.name}_truth" / "messy_rows.csv")
    expected = {
        (f"{t}.csv", int(n)) for t, n, q in truth[["table", "row_number", "expect_quarantine"]]
        .itertuples(index=False) if bool(q)
    }
    _load(tiny_store, warehouse)
    quarantined = {
        (str(f), int(str(n)))
        for f, n in warehouse.fetch_all("SELECT file_name, row_number FROM ingest.quarantine")
    }
    assert quarantined == expected
