"""Named segments on a shop small enough to know every answer by hand, the thresholds as
settings, and the segment assets materialized by Dagster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from analytics_pipeline.assets.segments import (
    CLV_SCHEMA,
    _write,
    clusters,
    customer_clv,
)
from analytics_pipeline.ingest.load import load_source
from analytics_pipeline.resources import ModelParamsResource, WarehouseResource
from analytics_pipeline.settings import Settings, SettingsError
from analytics_pipeline.sources import FolderSource
from analytics_pipeline.warehouse import DuckDBWarehouse
from analytics_pipeline.warehouse.sql_models import SqlModel, discover
from tests.conftest import NOW, build_models, models_reading, write_folder

MIXED = ("p1", "p2", "p4")  # one line each of kitchen, grocery, apparel: no affinity
# (order, customer, day, status, products); as_of is 2026-03-31 23:00 UTC.
ORDERS: list[tuple[str, str, str, str, tuple[str, ...]]] = [
    ("o01", "n1", "2026-03-20", "completed", ("p2",)),  # new: first purchase 11 days ago
    ("o02", "n1", "2026-04-01", "completed", ("p2",)),  # after as_of
    *[(f"l{k}", "l1", day, "completed", MIXED) for k, day in enumerate(  # every 10 days
        ["2026-01-30", "2026-02-09", "2026-02-19", "2026-03-01", "2026-03-11", "2026-03-21"])],
    ("l9", "l1", "2026-03-25", "refunded", MIXED),  # refunded: breaks nothing
    *[(f"r{k}", "r1", day, "completed", MIXED) for k, day in enumerate(  # weekly, then gone
        ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"])],
    ("r9", "r1", "2026-03-25", "completed", ("-p2",)),  # a return is not a purchase
    ("i1a", "i1", "2025-10-01", "completed", MIXED),  # one purchase, 181 days ago
    ("i2a", "i2", "2025-09-01", "completed", MIXED),  # two purchases 10 days apart, long ago
    ("i2b", "i2", "2025-09-11", "completed", MIXED),
    ("v1a", "v1", "2026-03-01", "completed", ("p3",) * 30),  # big kitchen spender
    ("v1b", "v1", "2026-03-15", "completed", ("p3",) * 30),
    ("a1a", "a1", "2026-02-20", "completed", ("p1",)),  # kitchen buyer and browser
    ("a1b", "a1", "2026-03-15", "completed", ("p1", "p3")),
    ("a2a", "a2", "2026-02-25", "completed", ("p1",)),  # kitchen, but a single purchase
    ("b1a", "b1", "2026-02-12", "completed", ("p2",)),  # grocery buyer browsing apparel
    ("b1b", "b1", "2026-03-12", "completed", ("p2", "p1")),
    ("w1", "", "2026-03-30", "completed", ("p2",)),  # walk-in
    ("c9a", "c9", "2026-03-02", "completed", ("-p1",)),  # only ever returned something
]
# (customer, event type, product or content, count)
EVENTS = [("a1", "product_view", "p1", 3), ("a1", "article_read", "k1", 1),
          ("a2", "product_view", "p1", 5), ("b1", "product_view", "p4", 10)]
PRICES = {"p1": "10.00", "p2": "6.00", "p3": "30.00", "p4": "20.00"}


def shop_files() -> dict[str, str]:
    orders = ["order_id,customer_id,ordered_at,channel,status"]
    lines = ["order_id,line_number,product_id,quantity,unit_price,discount,unit_cost"]
    for order_id, customer, day, status, products in ORDERS:
        orders.append(f"{order_id},{customer},{day}T12:00:00,store,{status}")
        for number, product in enumerate(products, 1):
            quantity, pid = (-1, product[1:]) if product.startswith("-") else (1, product)
            lines.append(f"{order_id},{number},{pid},{quantity},{PRICES[pid]},0,")
    events = ["event_id,customer_id,event_type,product_id,content_id,occurred_at,session_id"]
    for customer, kind, item, count in EVENTS:
        product, content = (item, "") if item.startswith("p") else ("", item)
        events += [f"{customer}-{kind}-{k},{customer},{kind},{product},{content},"
                   f"2026-03-0{k + 1}T10:00:00,s-{customer}" for k in range(count)]
    return {
        "products.csv": "product_id,name,category,unit_cost,unit_price,lead_time_days,supplier\n"
        "p1,Mug,kitchen,4,10,5,a\np2,Tea,grocery,2,6,5,a\np3,Kettle,kitchen,12,30,5,a\n"
        "p4,Scarf,apparel,8,20,5,a\n",
        "orders.csv": "\n".join(orders) + "\n",
        "order_lines.csv": "\n".join(lines) + "\n",
        "events.csv": "\n".join(events) + "\n",
        "content.csv": "content_id,title,kind,product_ids,category\n"
        "k1,Mug care,article,p1,kitchen\n",
    }


EXPECTED = {  # customer: (primary segment, every segment)
    "n1": ("new", "new"),
    "l1": ("loyalist", "loyalist"),
    "r1": ("at_risk", "at_risk"),
    "i1": ("inactive", "inactive"),
    "i2": ("inactive", "inactive,at_risk"),
    "v1": ("vip", "vip,affinity:kitchen"),
    "a1": ("affinity:kitchen", "affinity:kitchen"),
    "a2": ("regular", ""),
    "b1": ("regular", ""),
}


def segment_models() -> list[SqlModel]:
    """The segments models and everything they read, in build order."""
    return models_reading(*((m.domain, m.name) for m in discover() if m.domain == "segments"))


def build_shop(folder: Path, db: Path, **params: Any) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(db, "UTC")
    load_source(FolderSource(folder), wh, NOW)
    build_models(wh, segment_models(), **params)
    return wh


def segments_of(wh: DuckDBWarehouse) -> dict[str, tuple[str, str]]:
    rows = wh.fetch_all("SELECT customer_id, primary_segment, segments "
                        "FROM segments.customer_segments ORDER BY customer_id")
    return {str(c): (str(p), str(s)) for c, p, s in rows}


@pytest.fixture(scope="module")
def shop_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_folder(tmp_path_factory.mktemp("segshop") / "src", shop_files())


@pytest.fixture(scope="module")
def shop(shop_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBWarehouse]:
    wh = build_shop(shop_folder, tmp_path_factory.mktemp("segshop-wh") / "shop.duckdb")
    yield wh
    wh.close()


def test_every_segment_and_primary_by_hand(shop: DuckDBWarehouse) -> None:
    assert segments_of(shop) == EXPECTED


def test_cadence_and_purchase_days_by_hand(shop: DuckDBWarehouse) -> None:
    got = shop.fetch_df("SELECT * FROM segments.customer_segments").set_index("customer_id")
    assert got.loc["l1", "gap_cv"] == 0 and got.loc["l1", "mean_gap_days"] == 10
    assert got.loc["l1", "purchase_days"] == 6  # the refunded order is no purchase
    assert got.loc["r1", "days_since_last_purchase"] == 64  # the return on 03-25 is none
    assert got.loc["v1", "purchase_revenue"] == 1800
    assert "c9" not in got.index  # returns only


def test_small_shop_falls_back_to_revenue_for_vip(shop: DuckDBWarehouse) -> None:
    clv = shop.fetch_df("SELECT * FROM segments.customer_clv")
    assert (clv["clv_method"] == "insufficient_data").all() and clv["predicted_clv"].isna().all()
    # CEIL(10 % of 9 customers) = 1 VIP, the biggest spender.
    vips = shop.fetch_all("SELECT customer_id FROM segments.customer_segments WHERE is_vip")
    assert vips == [("v1",)]


def test_affinity_shares_by_hand(shop: DuckDBWarehouse) -> None:
    rows = shop.fetch_df("SELECT * FROM segments.category_affinity").set_index(
        ["customer_id", "category"])
    a1 = rows.loc[("a1", "kitchen")]
    assert (a1["purchase_lines"], a1["engagement_events"], a1["affinity_share"]) == (3, 4, 1.0)
    # b1: grocery is 2 of 3 purchase lines but none of 10 views -> (2/3 + 0) / 2.
    assert rows.loc[("b1", "grocery"), "affinity_share"] == pytest.approx(1 / 3)
    assert rows.loc[("b1", "apparel"), "affinity_share"] == 0.5  # browsing only
    assert rows.loc[("b1", "apparel"), "affinity_rank"] == 1


def test_model_outputs_drive_vip_and_at_risk(shop: DuckDBWarehouse) -> None:
    """With a fitted CLV, VIP follows predicted CLV and a low P(alive) flags at-risk."""
    fitted = pd.DataFrame({"customer_id": list(EXPECTED)}).assign(
        frequency=1, t_x_days=1, tenure_days=1, monetary_value=1.0, p_alive=0.9,
        expected_purchases_30d=0.1, expected_purchases_90d=0.2, expected_purchases_365d=0.5,
        expected_average_spend=10.0, predicted_clv=5.0, clv_method="bgnbd_gamma_gamma")
    fitted.loc[fitted["customer_id"] == "a1", "predicted_clv"] = 500.0
    fitted.loc[fitted["customer_id"] == "b1", "p_alive"] = 0.2
    model = next(m for m in discover("segments") if m.name == "customer_segments")
    _write(shop, "customer_clv", fitted, CLV_SCHEMA)
    try:
        shop.execute(model.create_statement,
                     {"as_of": NOW, "store_tz": "UTC", **ModelParamsResource().as_params()})
        got = segments_of(shop)
    finally:  # leave the module's shop as built
        shop.execute("DROP TABLE segments.customer_clv")
        build_models(shop, [m for m in segment_models() if m.domain == "segments"])
    assert got["a1"] == ("vip", "vip,affinity:kitchen")
    assert got["v1"] == ("affinity:kitchen", "affinity:kitchen")
    assert got["b1"] == ("at_risk", "at_risk")


def test_thresholds_are_parameters(shop_folder: Path, tmp_path: Path) -> None:
    wh = build_shop(shop_folder, tmp_path / "wh.duckdb", segment_new_days=40,
                    segment_inactive_days=60, segment_loyalist_min_purchases=7,
                    segment_affinity_min_purchases=1)
    got = segments_of(wh)
    wh.close()
    assert got["a1"] == ("new", "new,affinity:kitchen")  # first purchase 39 days ago
    assert got["r1"] == ("inactive", "inactive,at_risk")  # 64 days without a purchase
    assert got["l1"][0] == "regular"  # 6 purchase days < 7
    # One kitchen line is enough now; a2's first purchase, 34 days ago, also counts as new.
    assert got["a2"] == ("new", "new,affinity:kitchen")


def test_settings_carry_segment_thresholds_to_the_resource() -> None:
    settings = Settings.from_env({"ANALYTICS_SEGMENT_VIP_SHARE": "0.2",
                                  "ANALYTICS_SEGMENT_NEW_DAYS": "14",
                                  "ANALYTICS_CLUSTER_K_MAX": "5"})
    assert (settings.segment_vip_share, settings.segment_new_days) == (0.2, 14)
    assert isinstance(settings.segment_new_days, int)
    from analytics_pipeline.resources import resources_for

    params = resources_for(settings)["model_params"]
    assert params.as_params()["segment_vip_share"] == 0.2
    assert params.cluster_config().k_max == 5
    with pytest.raises(SettingsError, match="ANALYTICS_SEGMENT_VIP_SHARE"):
        Settings.from_env({"ANALYTICS_SEGMENT_VIP_SHARE": "1.5"})
    with pytest.raises(SettingsError, match="not a whole number"):
        Settings.from_env({"ANALYTICS_SEGMENT_NEW_DAYS": "7.5"})
    with pytest.raises(SettingsError, match="ANALYTICS_CLUSTER_K_MIN"):
        Settings.from_env({"ANALYTICS_CLUSTER_K_MIN": "9"})


def test_segment_assets_materialize_with_the_fallback(shop_folder: Path, tmp_path: Path) -> None:
    build_shop(shop_folder, tmp_path / "wh.duckdb").close()
    result = dg.materialize(
        [customer_clv, clusters],
        resources={"warehouse": WarehouseResource(url=f"duckdb:///{tmp_path / 'wh.duckdb'}"),
                   "model_params": ModelParamsResource()},
    )
    assert result.success
    meta = result.asset_materializations_for_node("segments__customer_clv")[0].metadata
    assert "at least 30 customers with a repeat purchase" in str(meta["note"].value)
    cluster_meta = result.asset_materializations_for_node("segments__clusters")[0].metadata
    wh = DuckDBWarehouse(tmp_path / "wh.duckdb", "UTC")
    labelled = wh.fetch_all("SELECT count(*), count(DISTINCT cluster_id) FROM segments.clusters")
    wh.close()
    assert labelled == [(9, cluster_meta["k"].value)]


def test_a_shop_without_identified_customers_builds_empty_tables(tmp_path: Path) -> None:
    walk_ins = {name: text for name, text in shop_files().items() if name == "products.csv"}
    walk_ins["orders.csv"] = ("order_id,customer_id,ordered_at,channel,status\n"
                              "w1,,2026-03-30T12:00:00,store,completed\n")
    walk_ins["order_lines.csv"] = (
        "order_id,line_number,product_id,quantity,unit_price,discount,unit_cost\n"
        "w1,1,p2,1,6.00,0,\n")
    db = tmp_path / "wh.duckdb"
    build_shop(write_folder(tmp_path / "src", walk_ins), db).close()
    result = dg.materialize(
        [customer_clv, clusters],
        resources={"warehouse": WarehouseResource(url=f"duckdb:///{db}"),
                   "model_params": ModelParamsResource()},
    )
    assert result.success
    wh = DuckDBWarehouse(db, "UTC")
    counts = [wh.fetch_all(f"SELECT count(*) FROM segments.{t}")[0][0]
              for t in ("clv_inputs", "customer_clv", "customer_segments", "rfm", "clusters")]
    wh.close()
    assert counts == [0, 0, 0, 0, 0]
