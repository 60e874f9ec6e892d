"""Tests for the demo-store generator, on the ``tiny`` scale (generated once per module)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from analytics_pipeline.generate import SCALES, GenerateSummary, generate_store
from analytics_pipeline.generate.columns import Kind, Table, decimal_column, plain_column
from analytics_pipeline.generate.writer import write_table

END = dt.date(2026, 3, 14)
SEED = 11
CONTRACT = {
    "products": [
        "product_id", "name", "category", "unit_cost", "unit_price", "lead_time_days", "supplier",
    ],
    "customers": [
        "customer_id", "email", "first_name", "last_name", "created_at", "marketing_opt_in",
    ],
    "orders": ["order_id", "customer_id", "ordered_at", "channel", "status"],
    "order_lines": [
        "order_id", "line_number", "product_id", "quantity", "unit_price", "discount", "unit_cost",
    ],
    "inventory": ["product_id", "as_of", "on_hand", "on_order", "location_id"],
    "events": [
        "event_id", "customer_id", "event_type", "product_id", "content_id", "occurred_at",
        "session_id",
    ],
    "content": ["content_id", "title", "kind", "product_ids", "category"],
}  # fmt: skip
TRUTH_FILES = {
    "manifest.json", "stockout_days.csv", "daily_demand.csv", "customer_churn.csv",
    "product_affinity.csv", "product_truth.csv", "messy_rows.csv",
}  # fmt: skip


@dataclass(frozen=True)
class Store:
    """One generated tiny store, loaded as raw text (empty string = missing)."""

    summary: GenerateSummary
    tables: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]

    def messy(self, table: str, kind: str | None = None) -> pd.DataFrame:
        rows = self.truth["messy_rows"]
        rows = rows[rows["table"] == table]
        return rows if kind is None else rows[rows["kind"] == kind]

    def clean(self, table: str) -> pd.DataFrame:
        """Rows the loader should keep (planted broken rows removed)."""
        bad = self.messy(table)
        bad_rows = bad.loc[bad["expect_quarantine"] == "true", "row_number"].astype(int)
        frame = self.tables[table]
        return frame.drop(index=bad_rows - 1)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    out = tmp_path_factory.mktemp("gen") / "store"
    summary = generate_store("tiny", SEED, out, end_date=END)
    tables = {name: _read(out / f"{name}.csv") for name in CONTRACT}
    truth = {p.stem: _read(p) for p in summary.truth_dir.glob("*.csv")}
    return Store(summary=summary, tables=tables, truth=truth)


@pytest.fixture(scope="module")
def sales(store: Store) -> pd.DataFrame:
    """Valid sale lines (quantity > 0) joined to their orders, with date and revenue."""
    orders = store.clean("orders")
    lines = store.clean("order_lines")
    merged = lines.merge(orders, on="order_id", suffixes=("", "_order"))
    merged["quantity"] = merged["quantity"].astype(int)
    merged = merged[merged["quantity"] > 0].copy()
    merged["ts"] = pd.to_datetime(merged["ordered_at"])
    merged["date"] = merged["ts"].dt.date.astype(str)
    price = merged["unit_price"].astype(float)
    merged["revenue"] = merged["quantity"] * price - merged["discount"].astype(float)
    return merged


def _bytes_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_files_and_summary(store: Store) -> None:
    summary = store.summary
    assert {p.name for p in summary.out_dir.iterdir()} == {f"{t}.csv" for t in CONTRACT}
    assert {p.name for p in summary.truth_dir.iterdir()} == TRUTH_FILES
    assert summary.truth_dir == summary.out_dir.parent / "store_truth"
    assert summary.end_date == END
    assert summary.start_date == END - dt.timedelta(days=SCALES["tiny"].days - 1)
    assert summary.rows == {name: len(frame) for name, frame in store.tables.items()}


def test_same_seed_gives_identical_bytes(store: Store, tmp_path: Path) -> None:
    again = generate_store("tiny", SEED, tmp_path / "again", end_date=END)
    assert _bytes_of(again.out_dir) == _bytes_of(store.summary.out_dir)
    assert _bytes_of(again.truth_dir) == _bytes_of(store.summary.truth_dir)


def test_different_seed_gives_different_data(store: Store, tmp_path: Path) -> None:
    other = generate_store("tiny", SEED + 1, tmp_path / "other", end_date=END)
    mine, theirs = _bytes_of(store.summary.out_dir), _bytes_of(other.out_dir)
    assert all(mine[name] != theirs[name] for name in ("orders.csv", "events.csv"))


def test_every_file_has_exactly_the_contract_columns(store: Store) -> None:
    for name, columns in CONTRACT.items():
        assert list(store.tables[name].columns) == columns, name


def test_contract_value_formats(store: Store) -> None:
    orders = store.clean("orders")
    assert orders["ordered_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d").all()
    assert store.tables["inventory"]["as_of"].str.fullmatch(r"\d{4}-\d\d-\d\d").all()
    assert store.tables["products"]["unit_price"].str.fullmatch(r"\d+\.\d\d").all()
    assert set(store.tables["customers"]["marketing_opt_in"]) == {"true", "false"}
    assert set(orders["status"]) == {"completed", "refunded", "void"}
    assert set(orders["channel"]) == {"store", "online"}
    kinds = {"product_view", "cart_add", "cart_remove", "checkout", "content_view",
             "video_view", "article_read"}  # fmt: skip
    assert set(store.tables["events"]["event_type"]) == kinds


def test_keys_unique_except_planted_duplicates(store: Store) -> None:
    for table, key in (("products", "product_id"), ("customers", "customer_id"),
                       ("content", "content_id")):  # fmt: skip
        assert store.tables[table][key].is_unique, table
    for table, key in (("orders", ["order_id"]), ("order_lines", ["order_id", "line_number"]),
                       ("events", ["event_id"])):  # fmt: skip
        frame = store.tables[table]
        # Rows without an id are planted too, but as missing keys, not duplicates.
        repeated = frame.duplicated(subset=key, keep="first") & (frame[key[0]] != "")
        listed = store.messy(table, "duplicate")["row_number"].astype(int)
        assert sorted(np.flatnonzero(repeated) + 1) == sorted(listed), table


def test_planted_rows_are_where_messy_rows_says(store: Store) -> None:
    orders, lines, events = (store.tables[t] for t in ("orders", "order_lines", "events"))
    for _, row in store.truth["messy_rows"].iterrows():
        frame = store.tables[row["table"]]
        data = frame.iloc[int(row["row_number"]) - 1]
        kind, detail = row["kind"], row["detail"]
        if kind == "duplicate":
            original = frame.iloc[int(detail.rsplit(" ", 1)[1]) - 1]
            assert data.equals(original)
        elif kind == "walk_in":
            assert data["customer_id"] == ""
        elif kind == "return":
            assert row["table"] == "orders" or int(data["quantity"]) < 0
        elif kind == "orphan_line":
            assert data["order_id"] not in set(orders["order_id"])
        elif kind == "unknown_product":
            assert data["product_id"] not in set(store.tables["products"]["product_id"])
        elif kind == "missing_key":
            assert data["order_id" if row["table"] == "orders" else "customer_id"] == ""
        elif "ordered_at" in detail:
            assert pd.isna(pd.to_datetime(data["ordered_at"], errors="coerce"))
        elif "quantity" in detail:
            assert not data["quantity"].lstrip("-").isdigit() or int(data["quantity"]) == 0
        else:
            assert float(data["unit_price"]) < 0
    assert len(lines) and len(events)


def test_broken_values_are_all_listed(store: Store) -> None:
    lines = store.tables["order_lines"]
    numeric = pd.to_numeric(lines["quantity"], errors="coerce")
    not_whole = numeric.isna() | (numeric % 1 != 0)
    odd = not_whole | (numeric <= 0) | lines["unit_price"].str.startswith("-")
    listed = store.messy("order_lines")
    listed = listed[listed["kind"].isin(["invalid_value", "return"])]
    assert sorted(np.flatnonzero(odd) + 1) == sorted(listed["row_number"].astype(int))
    orders = store.clean("orders")
    anonymous = orders.index[orders["customer_id"] == ""] + 1
    assert sorted(anonymous) == sorted(store.messy("orders", "walk_in")["row_number"].astype(int))
    messy_share = (store.truth["messy_rows"]["expect_quarantine"] == "true").sum() / sum(
        len(t) for t in store.tables.values()
    )
    assert messy_share < 0.01


def test_no_sales_while_out_of_stock(store: Store, sales: pd.DataFrame) -> None:
    stockouts = store.truth["stockout_days"]
    whole_days = stockouts[stockouts["whole_day"] == "true"]
    hits = sales.merge(whole_days, on=["product_id", "date"])
    assert hits.empty
    assert len(whole_days) > 0


def test_inventory_is_a_daily_snapshot_consistent_with_stockouts(store: Store) -> None:
    inventory = store.tables["inventory"]
    assert not inventory.duplicated(["product_id", "as_of"]).any()
    assert set(inventory["product_id"]) == set(store.tables["products"]["product_id"])
    assert inventory["as_of"].max() == END.isoformat()
    assert (inventory["on_hand"].astype(int) >= 0).all()
    empty = inventory[inventory["on_hand"] == "0"][["product_id", "as_of"]]
    truth = store.truth["stockout_days"][["product_id", "date"]]
    assert sorted(map(tuple, empty.to_numpy())) == sorted(map(tuple, truth.to_numpy()))


def test_daily_demand_truth_matches_sales(store: Store, sales: pd.DataFrame) -> None:
    demand = store.truth["daily_demand"]
    demand = demand.assign(
        sold=demand["sold_units"].astype(int), wanted=demand["demand_units"].astype(int)
    )
    assert (demand["wanted"] >= demand["sold"]).all()
    assert (demand["wanted"] > demand["sold"]).any()  # some demand was really lost
    known = sales[sales["product_id"].isin(store.tables["products"]["product_id"])]
    sold = known.groupby(["product_id", "date"])["quantity"].sum()
    truth = demand[demand["sold"] > 0].set_index(["product_id", "date"])["sold"]
    assert sold.sort_index().equals(truth.sort_index().rename("quantity"))


def test_some_products_ran_out_recently_and_some_are_slow(store: Store) -> None:
    stockouts = store.truth["stockout_days"]
    recent = stockouts[stockouts["date"] > (END - dt.timedelta(days=90)).isoformat()]
    share = recent["product_id"].nunique() / len(store.tables["products"])
    assert 0.03 <= share <= 0.3
    planted = store.truth["product_truth"]["planted"]
    assert {"stockout_risk", "overstock", "slow_mover", "supply_gap"} <= set(planted)


def test_spend_is_pareto_shaped(sales: pd.DataFrame) -> None:
    known = sales[(sales["customer_id"] != "") & (sales["status"] == "completed")]
    revenue = known.groupby("customer_id")["revenue"].sum().sort_values(ascending=False)
    top = revenue.iloc[: len(revenue) // 5].sum() / revenue.sum()
    assert top >= 0.5


def test_weekly_seasonality_is_visible(store: Store) -> None:
    orders = store.clean("orders")
    shop = orders[orders["channel"] == "store"]
    weekday = pd.to_datetime(shop["ordered_at"]).dt.dayofweek.value_counts()
    assert weekday[5] >= 1.5 * weekday[1]  # Saturday vs Tuesday in the shop


def test_order_volume_and_mix(store: Store) -> None:
    orders = store.clean("orders")
    assert abs(len(orders) / SCALES["tiny"].target_orders - 1) <= 0.15
    shop = orders[orders["channel"] == "store"]
    assert 0.05 <= (shop["customer_id"] == "").mean() <= 0.15
    assert 0.3 <= (orders["channel"] == "online").mean() <= 0.5
    assert (orders["status"] == "completed").mean() >= 0.97
    assert 3 <= len(store.tables["events"]) / len(orders) <= 6


def test_engagement_predicts_purchase(store: Store, sales: pd.DataFrame) -> None:
    events = store.clean("events")
    engaged = events[events["event_type"].isin(["product_view", "cart_add"])]
    pairs = engaged[["customer_id", "product_id"]].drop_duplicates()
    bought = sales[sales["customer_id"] != ""][["customer_id", "product_id"]].drop_duplicates()
    hit = pairs.merge(bought, how="left", indicator=True)["_merge"].eq("both").mean()
    buyers = bought["customer_id"].nunique()
    base = len(bought) / (buyers * len(store.tables["products"]))
    assert hit >= 5 * base


def test_online_purchases_follow_cart_adds(store: Store, sales: pd.DataFrame) -> None:
    online = sales[(sales["channel"] == "online") & (sales["customer_id"] != "")]
    adds = store.clean("events")
    adds = adds[adds["event_type"] == "cart_add"][["customer_id", "product_id", "occurred_at"]]
    joined = online.merge(adds, on=["customer_id", "product_id"])
    gap = joined["ts"] - pd.to_datetime(joined["occurred_at"])
    preceded = joined[(gap > pd.Timedelta(0)) & (gap < pd.Timedelta(days=1))]
    keys = ["order_id", "line_number"]
    share = len(preceded[keys].drop_duplicates()) / len(online[keys].drop_duplicates())
    assert share >= 0.9


def test_abandoned_carts_are_sometimes_bought_later(store: Store, sales: pd.DataFrame) -> None:
    events = store.clean("events")
    checked_out = set(events.loc[events["event_type"] == "checkout", "session_id"])
    carts = events[(events["event_type"] == "cart_add") & ~events["session_id"].isin(checked_out)]
    carts = carts.assign(t=pd.to_datetime(carts["occurred_at"]), cart=np.arange(len(carts)))
    joined = carts.merge(
        sales[["customer_id", "product_id", "ts"]], on=["customer_id", "product_id"]
    )
    later = joined[
        (joined["ts"] > joined["t"]) & (joined["ts"] <= joined["t"] + pd.Timedelta(days=14))
    ]
    share = later["cart"].nunique() / len(carts)
    assert len(carts) > 100
    assert 0.1 <= share <= 0.45


def test_ground_truth_is_consistent_with_the_data(store: Store, sales: pd.DataFrame) -> None:
    manifest = json.loads((store.summary.truth_dir / "manifest.json").read_text())
    assert manifest["rows"] == store.summary.rows
    assert manifest["end_date"] == END.isoformat() and manifest["seed"] == SEED
    assert {"r", "alpha", "a", "b"} <= set(manifest["bgnbd"])
    churn = store.truth["customer_churn"]
    assert list(churn["customer_id"]) == list(store.tables["customers"]["customer_id"])
    churned = churn[churn["churned_at"] != ""].set_index("customer_id")["churned_at"]
    last = store.clean("orders").query("customer_id != ''").groupby("customer_id")["ordered_at"]
    after = last.max().reindex(churned.index).dropna() > churned.reindex(last.max().index).dropna()
    assert not after.any()
    assert (churn.loc[churn["churned_at"] == "", "alive_at_end"] == "true").all()
    products = store.truth["product_truth"]
    assert set(products["product_id"]) == set(store.tables["products"]["product_id"])
    affinity = store.truth["product_affinity"]
    assert set(affinity["category"]) <= set(store.tables["products"]["category"])
    new_customers = sales.groupby("customer_id")["ts"].min()
    assert (new_customers > pd.Timestamp(END - dt.timedelta(days=30))).sum() > 0


def test_truth_dir_inside_out_dir_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="truth_dir"):
        generate_store("tiny", 1, tmp_path / "out", END, truth_dir=tmp_path / "out" / "truth")


def test_unknown_scale_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown scale"):
        generate_store("huge", 1, tmp_path / "out", END)


def test_scales_cover_the_brief() -> None:
    assert set(SCALES) == {"tiny", "demo", "large"}
    assert SCALES["large"].file_format == "parquet"
    assert SCALES["demo"].target_orders == 250_000
    assert SCALES["large"].customers == 1_000_000


def test_writer_renders_raw_cells_as_text_in_csv_and_null_in_parquet(tmp_path: Path) -> None:
    table = Table("sample", {
        "amount": decimal_column(np.array([1999, -5, 100]), 2),
        "count": plain_column(Kind.INT, np.array([1, 2, 3])),
    }).with_raw("count", {1: "two"})  # fmt: skip
    csv_text = write_table(table, tmp_path, "csv").read_text()
    assert csv_text == "amount,count\n19.99,1\n-0.05,two\n1.00,3\n"
    parquet = pq.read_table(write_table(table, tmp_path, "parquet")).to_pydict()
    assert parquet["count"] == [1, None, 3]
    assert [str(v) for v in parquet["amount"]] == ["19.99", "-0.05", "1.00"]


def test_a_longer_history_keeps_the_daily_volume(store: Store, tmp_path: Path) -> None:
    longer = generate_store("tiny", SEED, tmp_path / "longer", end_date=END, days=360)
    assert longer.end_date == END and longer.start_date == END - dt.timedelta(days=359)
    per_day = [s.rows["orders"] / (s.end_date - s.start_date).days
               for s in (store.summary, longer)]
    assert per_day[1] == pytest.approx(per_day[0], rel=0.25)
    with pytest.raises(ValueError, match="at least 28"):
        generate_store("tiny", SEED, tmp_path / "short", end_date=END, days=7)
