"""Lightspeed sync: mapping to the contract, incremental cursors, the live revenue feed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from analytics_pipeline.api.live_sales import live_totals
from analytics_pipeline.contract.schema import ORDER_LINES, ORDERS
from analytics_pipeline.ingest.load import load_source
from analytics_pipeline.serving.live_orders import LiveOrderStore
from analytics_pipeline.sources.lightspeed import LightspeedSource, StagingStore, sync
from analytics_pipeline.warehouse import DuckDBWarehouse
from tests.conftest import NOW
from tests.lightspeed_factory import FakeStore, Record, seeded_store
from tests.lightspeed_fake import FIRST_REFRESH, FakeLightspeed
from tests.lightspeed_support import fake_client


def _recorded(sale: Record) -> bool:
    """Sales that become orders: completed or voided (open ones are not sales yet)."""
    return bool(sale["completed"] == "true" or sale["voided"] == "true")


def _sync(fake: FakeLightspeed, staging: StagingStore, live: LiveOrderStore | None = None,
          full: bool = False) -> dict[str, int]:
    summary = sync(fake_client(fake, staging), staging, live, full=full)
    sale = summary.resources["Sale"]
    return {"records": sale.records, "new": sale.new_orders, "live": sale.live_orders}


def test_synced_records_load_under_the_contract_and_bad_lines_are_quarantined(
    tmp_path: Path, warehouse: DuckDBWarehouse
) -> None:
    store = seeded_store(1500, items=120, customers=300)
    path = tmp_path / "lightspeed.sqlite"
    with FakeLightspeed(store) as fake:
        _sync(fake, StagingStore(path, FIRST_REFRESH))
    report = load_source(LightspeedSource(path), warehouse, NOW)

    sales = [s for s in store.sales if _recorded(s)]
    zero = [ln for s in sales for ln in store.lines_of(s) if ln["unitQuantity"] == "0"]
    assert zero, "the factory plants zero-quantity lines"
    quarantined = warehouse.fetch_all(
        "SELECT file_name, record_key, reason FROM ingest.quarantine ORDER BY 1")
    assert len(quarantined) == len(zero) == report.tables["order_lines"].rows_quarantined
    assert all(f == "lightspeed:order_lines" and "must not be 0" in str(r)
               for f, _, r in quarantined)
    lines = sum(len(store.lines_of(s)) for s in sales)
    counts = {t: int(str(warehouse.fetch_all(f"SELECT COUNT(*) FROM ingest.{t}")[0][0]))
              for t in ("orders", "order_lines", "products", "inventory", "customers")}
    assert counts == {"orders": len(sales), "order_lines": lines - len(zero), "products": 120,
                      "inventory": 240, "customers": 300}  # shop 0 is a summary, not a shop

    void = next(s for s in sales if s["voided"] == "true")
    walk_in = next(s for s in sales if s["customerID"] == "0")
    rows = {str(k): str(v) for k, v in warehouse.fetch_all(
        "SELECT order_id, status || '/' || COALESCE(customer_id, '-') FROM ingest.orders "
        "WHERE order_id IN ($void, $walk_in)",
        {"void": void["saleID"], "walk_in": walk_in["saleID"]})}
    assert rows[void["saleID"]].startswith("void/")
    assert rows[walk_in["saleID"]].endswith("/-")
    item = store.items[0]
    price, category = warehouse.fetch_all(
        "SELECT unit_price, category FROM ingest.products WHERE product_id = $id",
        {"id": item["itemID"]})[0]
    assert Decimal(str(price)) == Decimal(item["Prices"]["ItemPrice"][0]["amount"])
    assert category == item["Category"]["name"]
    opted = warehouse.fetch_all(
        "SELECT customer_id, marketing_opt_in, email IS NOT NULL FROM ingest.customers")
    assert all(bool(o) == (int(str(c)) % 3 != 0) and has_email for c, o, has_email in opted)


def test_incremental_sync_reads_from_the_cursor_and_applies_updates(tmp_path: Path) -> None:
    store = seeded_store(800)
    staging = StagingStore(tmp_path / "lightspeed.sqlite", FIRST_REFRESH)
    with FakeLightspeed(store) as fake:
        first = _sync(fake, staging)
        assert first["new"] == sum(map(_recorded, store.sales))
        store.add_sales(150)
        store.void_sale("3")
        fake.changed()
        second = _sync(fake, staging)
        quiet = _sync(fake, staging)
    new = store.sales[800:]
    # New sales, the voided one, and the few sharing the cursor's second (">=").
    assert 151 <= second["records"] <= 151 + 2
    assert second["new"] == sum(map(_recorded, new))
    assert quiet["new"] == 0 and quiet["records"] <= 2
    statuses = {str(r[0]): r[4] for r in staging.rows(ORDERS)}
    assert statuses["3"] == "void"
    assert len(statuses) == sum(map(_recorded, store.sales))


def test_incremental_sales_feed_live_revenue_once(tmp_path: Path) -> None:
    store = seeded_store(300)
    staging = StagingStore(tmp_path / "lightspeed.sqlite", FIRST_REFRESH)
    live = LiveOrderStore(tmp_path / "live.sqlite")
    with FakeLightspeed(store) as fake:
        assert _sync(fake, staging, live)["live"] == 0  # the first sync is history
        store.add_sales(120)
        fake.changed()
        fed = _sync(fake, staging, live)["live"]
        again = _sync(fake, staging, live, full=True)["live"]
    new = store.sales[300:]
    expected = _expected_live(store, new)
    assert fed == len(expected) and again == 0
    day = dt.datetime.fromisoformat(new[-1]["updatetime"]).date()
    totals = live_totals(live, 0, day, dt.datetime(2030, 1, 1, tzinfo=dt.UTC), "UTC")
    on_day = [s for s in expected if s["updatetime"].startswith(day.isoformat())]
    assert totals.orders == len({s["saleID"] for s in on_day
                                 if any(int(ln["unitQuantity"]) > 0 for ln in store.lines_of(s))})
    assert totals.revenue == sum((_revenue(store, s) for s in on_day), Decimal(0))


def _expected_live(store: FakeStore, sales: list[Record]) -> list[Record]:
    return [s for s in sales if s["completed"] == "true" and s["voided"] == "false"
            and all(ln["unitQuantity"] != "0" for ln in store.lines_of(s))]


def _revenue(store: FakeStore, sale: Record) -> Decimal:
    total = Decimal(0)
    for line in store.lines_of(sale):
        qty = int(line["unitQuantity"])
        discount = abs(Decimal(line["calcLineDiscount"]))
        total += qty * Decimal(line["unitPrice"]) - (1 if qty > 0 else -1) * discount
    return total



def test_source_reads_one_moment_while_a_sync_keeps_writing(tmp_path: Path) -> None:
    store = seeded_store(200)
    path = tmp_path / "lightspeed.sqlite"
    with FakeLightspeed(store) as fake:
        _sync(fake, StagingStore(path, FIRST_REFRESH))
        source = LightspeedSource(path)
        store.add_sales(100)
        fake.changed()
        _sync(fake, StagingStore(path, FIRST_REFRESH))
    orders, lines = (source.offer(t) for t in (ORDERS, ORDER_LINES))
    assert orders is not None and lines is not None
    read_orders = orders.open_batches().read_all().column("order_id").to_pylist()
    read_lines = set(lines.open_batches().read_all().column("order_id").to_pylist())
    assert len(read_orders) == sum(map(_recorded, store.sales[:200]))
    assert read_lines <= set(read_orders)
    assert StagingStore(path).count("orders") == sum(map(_recorded, store.sales))
