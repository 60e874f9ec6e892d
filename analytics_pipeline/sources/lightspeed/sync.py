"""Incremental sync: every resource since its cursor, page by page, into the staging file.

Per resource the request is ``sort=<time field>&<time field>=>=,<cursor>`` and the
``next`` links are followed; each page is stored with its new cursor in one transaction
(see :mod:`.staging`). New sales (not in the staging file yet) first go to the live-order
store when the sync is incremental, so the dashboard counts them before the next batch
run; that write is idempotent, so a crash between it and the page's commit doubles
nothing, and the page's sales are still new when it is read again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from analytics_pipeline.serving.live_orders import LiveLine, LiveOrder, LiveOrderStore
from analytics_pipeline.sources.lightspeed.client import JSON, LightspeedClient
from analytics_pipeline.sources.lightspeed.mapping import (
    Row,
    map_customer,
    map_item,
    map_item_shop,
    map_sale,
)
from analytics_pipeline.sources.lightspeed.staging import PageWrite, StagingStore

PAGE_LIMIT = 100  # the API's maximum


@dataclass(frozen=True)
class Resource:
    """One API resource: its time field (sort and cursor), the contract table its records
    become, and the relations it needs."""

    name: str
    time_field: str
    table: str
    relations: tuple[str, ...] = ()


# Items before sales so products exist when lines arrive; ItemShop is polled on its own
# because an item's timeStamp is not bumped by stock changes.
RESOURCES = (
    Resource("Item", "timeStamp", "products", ("Category",)),
    Resource("ItemShop", "timeStamp", "inventory"),
    Resource("Customer", "timeStamp", "customers", ("Contact",)),
    Resource("Sale", "updatetime", "orders", ("SaleLines",)),
)


@dataclass
class ResourceSummary:
    pages: int = 0
    records: int = 0
    new_orders: int = 0
    skipped: int = 0  # open sales and the all-shops stock rows: not contract rows
    live_orders: int = 0
    cursor: str | None = None


@dataclass
class SyncSummary:
    """What one sync did, per resource, and what the client went through."""

    full: bool
    resources: dict[str, ResourceSummary] = field(default_factory=dict)
    seconds: float = 0.0
    requests: int = 0
    throttled: int = 0
    retried_errors: int = 0
    refreshes: int = 0
    paced_seconds: float = 0.0

    def cursors(self) -> dict[str, str]:
        return {k: v.cursor for k, v in self.resources.items() if v.cursor is not None}


Progress = Callable[[str, ResourceSummary], None]


def later_cursor(a: str | None, b: str | None) -> str | None:
    """The later of two API timestamps (compared as instants, not as text)."""
    if a is None or b is None:
        return a or b
    return a if datetime.fromisoformat(a) >= datetime.fromisoformat(b) else b


def sync(
    client: LightspeedClient,
    staging: StagingStore,
    live: LiveOrderStore | None = None,
    full: bool = False,
    floor: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> SyncSummary:
    """Sync every resource; ``floor`` holds cursors known elsewhere (the Dagster sensor's).

    ``full`` ignores all cursors and re-reads everything (rows are upserted, so nothing
    doubles); the live store is fed only by incremental syncs, which bring new sales.
    """
    started = time.perf_counter()
    summary = SyncSummary(full=full)
    stored = {} if full else staging.cursors()
    for resource in RESOURCES:
        since = None if full else later_cursor(stored.get(resource.name),
                                               (floor or {}).get(resource.name))
        feed = live if since is not None else None
        summary.resources[resource.name] = _sync_resource(
            client, staging, resource, since, feed, progress)
    stats = client.stats
    summary.seconds = time.perf_counter() - started
    summary.requests, summary.throttled = stats.requests, stats.throttled
    summary.retried_errors, summary.refreshes = stats.retried_errors, stats.refreshes
    summary.paced_seconds = stats.paced_seconds
    return summary


def _sync_resource(
    client: LightspeedClient, staging: StagingStore, resource: Resource, since: str | None,
    live: LiveOrderStore | None, progress: Progress | None,
) -> ResourceSummary:
    params = {"sort": resource.time_field, "limit": str(PAGE_LIMIT)}
    if resource.relations:
        params["load_relations"] = json.dumps(list(resource.relations))
    if since is not None:
        # ">=" re-reads records that share the cursor's second; upserts absorb them.
        params[resource.time_field] = f">=,{since}"
    done = ResourceSummary(cursor=since)
    for records in client.pages(resource.name, params):
        if not records:
            break
        page = _page(resource, records)
        unseen = staging.unseen_orders(page)
        if live is not None and unseen:
            done.live_orders += live.add_many(
                [o for o in live_orders(page) if o.order_id in unseen])
        staging.write_page(page)
        done.new_orders += len(unseen)
        done.pages += 1
        done.records += len(records)
        done.skipped += len(records) - len(page.rows.get(resource.table, []))
        done.cursor = page.cursor
        if progress:
            progress(resource.name, done)
    return done


def _page(resource: Resource, records: list[JSON]) -> PageWrite:
    cursor = str(records[-1][resource.time_field])
    if resource.name == "Sale":
        mapped = [m for m in (map_sale(s) for s in records) if m is not None]
        orders = [order for order, _ in mapped]
        lines = [line for _, order_lines in mapped for line in order_lines]
        return PageWrite(resource.name, cursor, {"orders": orders, "order_lines": lines},
                         replace_lines_of=[str(o["order_id"]) for o in orders])
    if resource.name == "ItemShop":
        rows = [r for r in (map_item_shop(s) for s in records) if r is not None]
        return PageWrite(resource.name, cursor, {resource.table: rows})
    mapper = map_item if resource.name == "Item" else map_customer
    return PageWrite(resource.name, cursor, {resource.table: [mapper(r) for r in records]})


def live_orders(page: PageWrite) -> list[LiveOrder]:
    """Completed sales whose time and every line are well-formed (the rest wait for the
    batch, whose validation quarantines them with a reason)."""
    lines_of: dict[str, list[Row]] = {}
    for line in page.rows.get("order_lines", []):
        lines_of.setdefault(str(line["order_id"]), []).append(line)
    found = []
    for order in page.rows.get("orders", []):
        lines = [_live_line(line) for line in lines_of.get(str(order["order_id"]), [])]
        if order["status"] != "completed" or not _aware(order["ordered_at"]) or not lines:
            continue
        good = [ln for ln in lines if ln is not None]
        if len(good) == len(lines):
            found.append(LiveOrder(str(order["order_id"]), str(order["ordered_at"]), good,
                                   customer_id=order["customer_id"], channel=order["channel"]))
    return found


def _aware(value: str | None) -> bool:
    """The live totals compare order times with an aware clock: the offset is needed."""
    try:
        return value is not None and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _live_line(line: Row) -> LiveLine | None:
    try:
        number, quantity = int(str(line["line_number"])), int(str(line["quantity"]))
        price, discount = Decimal(str(line["unit_price"])), Decimal(line["discount"] or "0")
        cost = None if line["unit_cost"] is None else Decimal(line["unit_cost"])
    except (ValueError, InvalidOperation):
        return None
    if quantity == 0 or price < 0 or (cost is not None and cost < 0) or not line["product_id"]:
        return None
    return LiveLine(number, str(line["product_id"]), quantity, str(price), str(discount),
                    None if cost is None else str(cost))
