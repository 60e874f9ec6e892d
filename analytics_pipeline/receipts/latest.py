"""Reading back the latest receipt a run wrote (for the terminal: ``analytics-pipeline demo``)."""

from __future__ import annotations

from analytics_pipeline.warehouse import open_warehouse

LATEST_SQL = "SELECT markdown FROM receipts.value_receipt ORDER BY as_of DESC LIMIT 1"


def latest_markdown(warehouse_url: str, store_timezone: str) -> str | None:
    """The newest receipt's Markdown, or ``None`` when no run has written one."""
    warehouse = open_warehouse(warehouse_url, store_timezone, read_only=True)
    try:
        if not warehouse.table_exists("receipts", "value_receipt"):
            return None
        rows = warehouse.fetch_all(LATEST_SQL)
    finally:
        warehouse.close()
    return str(rows[0][0]) if rows else None
