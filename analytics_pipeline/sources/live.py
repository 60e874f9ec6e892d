"""Orders received live by the API, offered to the loader like any other source."""

from __future__ import annotations

import pyarrow as pa

from analytics_pipeline.contract.schema import Table
from analytics_pipeline.serving.live_orders import LiveOrderStore
from analytics_pipeline.sources.base import SourceTable, conform

ORDER_COLUMNS = ("order_id", "customer_id", "ordered_at", "channel", "status")
LINE_COLUMNS = ("order_id", "line_number", "product_id", "quantity", "unit_price", "discount",
                "unit_cost")


class LiveOrdersSource:
    """Live orders up to the store's high-water mark at the moment this source was made.

    ``watermark`` is what the batch absorbed; the API adds only orders after it.
    """

    def __init__(self, store: LiveOrderStore) -> None:
        self.watermark = store.high_water()
        self.description = f"live orders in {store.path}"
        rows = store.lines_after(0, self.watermark)
        orders: dict[str, tuple[object, ...]] = {}
        lines: list[tuple[object, ...]] = []
        for row in rows:
            orders[str(row[1])] = row[1:6]
            lines.append((row[1], *row[6:]))
        self._data = {"orders": (ORDER_COLUMNS, list(orders.values())),
                      "order_lines": (LINE_COLUMNS, lines)}

    def offer(self, table: Table) -> SourceTable | None:
        if table.name not in self._data or not self._data[table.name][1]:
            return None
        columns, rows = self._data[table.name]
        data = pa.table({
            name: pa.array([None if r[i] is None else str(r[i]) for r in rows], pa.string())
            for i, name in enumerate(columns)
        })
        conformed = conform(table, "live-orders", data)
        return SourceTable(table, "live-orders", lambda: conformed.to_reader())
