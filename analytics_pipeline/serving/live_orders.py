"""Orders received between batch runs (``POST /api/orders``), kept in a SQLite file.

SQLite in WAL mode lets the API write while a batch run in another process reads, which a
DuckDB file (one writer, exclusive lock) would not. Every order gets an increasing
sequence number; a batch run records the highest one it absorbed (the watermark), so the
API adds only newer orders to the published figures: nothing lost, nothing counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from analytics_pipeline.sqlite_store import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS live_orders (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  order_id TEXT NOT NULL UNIQUE,
  customer_id TEXT,
  ordered_at TEXT NOT NULL,          -- ISO-8601 with offset (UTC)
  channel TEXT,
  status TEXT NOT NULL,
  received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS live_order_lines (
  order_id TEXT NOT NULL REFERENCES live_orders(order_id),
  line_number INTEGER NOT NULL,
  product_id TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  unit_price TEXT NOT NULL,          -- decimal as text: money is never a binary float
  discount TEXT NOT NULL,
  unit_cost TEXT,
  PRIMARY KEY (order_id, line_number)
);
"""


@dataclass(frozen=True)
class LiveLine:
    line_number: int
    product_id: str
    quantity: int
    unit_price: str
    discount: str = "0"
    unit_cost: str | None = None


@dataclass(frozen=True)
class LiveOrder:
    order_id: str
    ordered_at: str
    lines: Sequence[LiveLine]
    customer_id: str | None = None
    channel: str | None = None
    status: str = "completed"


class LiveOrderStore(SqliteStore):
    """The SQLite file of live orders; safe to share between processes."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)

    def add(self, order: LiveOrder) -> bool:
        """Store an order; ``False`` if its ``order_id`` was already received (idempotent)."""
        return self.add_many([order]) == 1

    def add_many(self, orders: Sequence[LiveOrder]) -> int:
        """Store orders in one transaction (a synced page at once); returns how many were new."""
        added = 0
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            for order in orders:
                inserted = conn.execute(
                    "INSERT OR IGNORE INTO live_orders (order_id, customer_id, ordered_at,"
                    " channel, status) VALUES (?, ?, ?, ?, ?)",
                    (order.order_id, order.customer_id, order.ordered_at, order.channel,
                     order.status),
                ).rowcount
                if inserted:
                    added += 1
                    conn.executemany(
                        "INSERT INTO live_order_lines VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [(order.order_id, ln.line_number, ln.product_id, ln.quantity,
                          ln.unit_price, ln.discount, ln.unit_cost) for ln in order.lines],
                    )
            conn.execute("COMMIT")
        return added

    def high_water(self) -> int:
        """The newest sequence number (0 when empty)."""
        with self._connect() as conn:
            return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM live_orders").fetchone()[0])

    def lines_after(self, watermark: int, up_to: int | None = None) -> list[tuple[object, ...]]:
        """Completed-order lines with ``watermark < seq <= up_to``, joined to their order.

        Columns: seq, order_id, customer_id, ordered_at, channel, status, line_number,
        product_id, quantity, unit_price, discount, unit_cost.
        """
        with self._connect() as conn:
            return conn.execute(
                "SELECT o.seq, o.order_id, o.customer_id, o.ordered_at, o.channel, o.status,"
                " l.line_number, l.product_id, l.quantity, l.unit_price, l.discount, l.unit_cost"
                " FROM live_orders o JOIN live_order_lines l ON l.order_id = o.order_id"
                " WHERE o.seq > ? AND o.seq <= ? ORDER BY o.seq, l.line_number",
                (watermark, up_to if up_to is not None else 2**62),
            ).fetchall()
