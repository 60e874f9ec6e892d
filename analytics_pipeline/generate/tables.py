"""The seven contract tables, built from the simulation (not yet messy)."""

from __future__ import annotations

import numpy as np

from analytics_pipeline.generate.arrays import BoolArray, IntArray, as_int
from analytics_pipeline.generate.catalog import CATEGORY_NAMES, Catalog
from analytics_pipeline.generate.columns import (
    Column,
    Kind,
    Table,
    decimal_column,
    id_column,
    label_column,
    plain_column,
)
from analytics_pipeline.generate.content import KINDS, Content
from analytics_pipeline.generate.customers import Customers
from analytics_pipeline.generate.eventlog import EVENT_TYPES, EventBlock
from analytics_pipeline.generate.names import FIRST_NAMES, LAST_NAMES, SUPPLIERS
from analytics_pipeline.generate.orders import STATUSES, OrderBook
from analytics_pipeline.generate.stock import StockResult
from analytics_pipeline.generate.timeline import Timeline
from analytics_pipeline.generate.visits import Lifetimes

CHANNELS: tuple[str, ...] = ("store", "online")
LOCATION = "main"


_PRODUCT_PREFIX, _PRODUCT_WIDTH = "p", 5


def product_ids(codes: IntArray, missing: BoolArray | None = None) -> Column:
    """``p00042``-style product ids from their numbers."""
    return id_column(codes, _PRODUCT_PREFIX, _PRODUCT_WIDTH, missing=missing)


def product_id_text(code: int) -> str:
    """One product id as text, formatted like :func:`product_ids`."""
    return f"{_PRODUCT_PREFIX}{code:0{_PRODUCT_WIDTH}d}"


def customer_ids(index: IntArray) -> Column:
    """``c0000042``-style customer ids from customer indices (negative = missing)."""
    return id_column(index + 1, "c", 7, missing=index < 0)


def order_ids(index: IntArray) -> Column:
    """``o00000042``-style order ids from order indices."""
    return id_column(index + 1, "o", 8)


def products_table(catalog: Catalog) -> Table:
    """The catalogue, in id order."""
    order = np.argsort(catalog.code)
    return Table("products", {
        "product_id": product_ids(catalog.code[order]),
        "name": label_column(order, catalog.name),
        "category": label_column(catalog.category[order], CATEGORY_NAMES),
        "unit_cost": decimal_column(catalog.cost[order], 2),
        "unit_price": decimal_column(catalog.price[order], 2),
        "lead_time_days": plain_column(Kind.INT, catalog.lead_time[order]),
        "supplier": label_column(catalog.supplier[order], SUPPLIERS),
    })  # fmt: skip


def customers_table(customers: Customers, lifetimes: Lifetimes) -> Table:
    """Registered customers, in id order."""
    index = np.arange(customers.n)
    return Table("customers", {
        "customer_id": customer_ids(index),
        "email": id_column(index + 1, "c", 7, missing=~customers.has_email,
                           suffix="@example.com"),
        "first_name": label_column(customers.first_name, FIRST_NAMES),
        "last_name": label_column(customers.last_name, LAST_NAMES),
        "created_at": plain_column(Kind.TIMESTAMP, lifetimes.created_at),
        "marketing_opt_in": plain_column(Kind.BOOL, customers.opt_in),
    })  # fmt: skip


def orders_table(book: OrderBook) -> Table:
    """Orders in time order."""
    return Table("orders", {
        "order_id": order_ids(np.arange(book.n)),
        "customer_id": customer_ids(book.customer),
        "ordered_at": plain_column(Kind.TIMESTAMP, book.second),
        "channel": label_column(as_int(book.online), CHANNELS),
        "status": label_column(book.status, STATUSES),
    })  # fmt: skip


def order_lines_table(book: OrderBook, catalog: Catalog) -> Table:
    """Order lines by order and line number."""
    lines = book.lines
    return Table("order_lines", {
        "order_id": order_ids(lines.visit),
        "line_number": plain_column(Kind.INT, book.line_number),
        "product_id": product_ids(catalog.code[lines.product]),
        "quantity": plain_column(Kind.INT, lines.quantity),
        "unit_price": decimal_column(lines.unit_price, 2),
        "discount": decimal_column(lines.discount, 2),
        "unit_cost": decimal_column(lines.unit_cost, 2, missing=lines.cost_missing),
    })  # fmt: skip


def product_days(catalog: Catalog, days: int) -> tuple[IntArray, IntArray]:
    """(history day, product) of every day each product was on sale, by day then id."""
    by_code = np.argsort(catalog.code)
    day, rank = np.nonzero(np.arange(days)[:, None] >= catalog.launch_day[by_code])
    return as_int(day), as_int(by_code[rank])


def inventory_table(stock: StockResult, catalog: Catalog, timeline: Timeline) -> Table:
    """End-of-day stock per product from its launch, by date then product id."""
    day, product = product_days(catalog, timeline.days)
    return Table("inventory", {
        "product_id": product_ids(catalog.code[product]),
        "as_of": plain_column(Kind.DATE, timeline.epoch_day(day)),
        "on_hand": plain_column(Kind.INT, stock.on_hand[day, product]),
        "on_order": plain_column(Kind.INT, stock.on_order[day, product]),
        "location_id": label_column(np.zeros(len(day), dtype=np.int64), (LOCATION,)),
    })  # fmt: skip


def events_table(events: EventBlock, catalog: Catalog) -> Table:
    """Clickstream events, already in time order."""
    no_product = events.product < 0
    return Table("events", {
        "event_id": id_column(np.arange(events.n) + 1, "e", 9),
        "customer_id": customer_ids(events.customer),
        "event_type": label_column(events.kind, EVENT_TYPES),
        "product_id": product_ids(catalog.code[np.maximum(events.product, 0)], no_product),
        "content_id": id_column(events.content + 1, "ct", 4, missing=events.content < 0),
        "occurred_at": plain_column(Kind.TIMESTAMP, events.second),
        "session_id": id_column(events.session + 1, "s", 9),
    })  # fmt: skip


def content_table(content: Content, catalog: Catalog) -> Table:
    """Videos and articles with their featured products."""
    featured = [
        ";".join(product_id_text(int(catalog.code[p])) for p in content.featured_of(k))
        for k in range(content.n)
    ]
    index = np.arange(content.n)
    return Table("content", {
        "content_id": id_column(index + 1, "ct", 4),
        "title": label_column(index, content.title),
        "kind": label_column(content.kind, KINDS),
        "product_ids": label_column(np.where([bool(f) for f in featured], index, -1),
                                    tuple(featured)),
        "category": label_column(content.category, CATEGORY_NAMES),
    })  # fmt: skip
