"""CDNOW (1997-98) purchase history -> a data-contract folder.

CDNOW records one line per transaction: customer, day, number of CDs, dollar amount. It
has no products, so every CD is one catalogue product. Each transaction becomes an order
with its CDs as lines whose amounts add up to the recorded dollars exactly, to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PRODUCT_ID = "cdnow-cd"


@dataclass(frozen=True)
class ConvertSummary:
    orders: int
    customers: int
    order_lines: int


def read_cdnow(path: Path) -> pd.DataFrame:
    """Read ``CDNOW_master.txt`` (header line, whitespace-separated) into typed columns."""
    frame = pd.read_csv(
        path, sep=r"\s+", skiprows=1, header=None,
        names=["customer_id", "date", "cds", "dollars"],
        dtype={"customer_id": str, "date": str, "cds": np.int64, "dollars": str},
    )
    # Dollars stay exact: kept as integer cents, never as binary floats.
    frame["cents"] = frame["dollars"].map(_to_cents)
    frame["day"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def convert_cdnow(path: Path, out_dir: Path) -> ConvertSummary:
    """Write orders, order_lines, customers and products CSV files to ``out_dir``."""
    tx = read_cdnow(path)
    # Several transactions of a customer can share a day; a sequence number keeps them apart.
    tx["seq"] = tx.groupby(["customer_id", "date"]).cumcount() + 1
    tx["order_id"] = tx["customer_id"] + "-" + tx["date"] + "-" + tx["seq"].astype(str)
    out_dir.mkdir(parents=True, exist_ok=True)
    orders = pd.DataFrame({
        "order_id": tx["order_id"], "customer_id": tx["customer_id"],
        "ordered_at": tx["day"].dt.strftime("%Y-%m-%d"), "channel": "online",
        "status": "completed",
    })
    orders.to_csv(out_dir / "orders.csv", index=False)
    lines = _order_lines(tx)
    lines.to_csv(out_dir / "order_lines.csv", index=False)
    firsts = tx.groupby("customer_id", as_index=False)["day"].min()
    customers = pd.DataFrame({
        "customer_id": firsts["customer_id"],
        "created_at": firsts["day"].dt.strftime("%Y-%m-%d"),
    })
    customers.to_csv(out_dir / "customers.csv", index=False)
    pd.DataFrame([{
        "product_id": PRODUCT_ID, "name": "CD", "category": "music",
        "unit_cost": "", "unit_price": "", "lead_time_days": "", "supplier": "",
    }]).to_csv(out_dir / "products.csv", index=False)
    return ConvertSummary(len(orders), len(customers), len(lines))


def _order_lines(tx: pd.DataFrame) -> pd.DataFrame:
    """All CDs but one at the floor cent price, the last CD at the remainder (>= floor)."""
    floor = tx["cents"] // tx["cds"]
    last = tx["cents"] - floor * (tx["cds"] - 1)
    bulk = tx[tx["cds"] > 1]
    first_lines = pd.DataFrame({
        "order_id": bulk["order_id"], "line_number": 1, "quantity": bulk["cds"] - 1,
        "unit_price_cents": floor[bulk.index],
    })
    last_lines = pd.DataFrame({
        "order_id": tx["order_id"], "line_number": np.where(tx["cds"] > 1, 2, 1),
        "quantity": 1, "unit_price_cents": last,
    })
    lines = pd.concat([first_lines, last_lines]).sort_values(["order_id", "line_number"])
    lines["product_id"] = PRODUCT_ID
    lines["unit_price"] = lines.pop("unit_price_cents").map(_from_cents)
    return lines[["order_id", "line_number", "product_id", "quantity", "unit_price"]]


def _to_cents(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def _from_cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
