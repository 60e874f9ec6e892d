"""Deliberately messy rows, planted at known positions so the loader can be tested.

Broken rows are always *extra* rows (copies or additions), so the clean data stays
exactly the simulated truth; valid-but-unusual rows (walk-ins, returns) are listed too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from analytics_pipeline.generate.arrays import BoolArray, IntArray, as_int
from analytics_pipeline.generate.columns import Table

_BAD_TIMESTAMPS = ("31/02/2026 10:15", "yesterday", "2026-13-45T25:61:00", "N/A")
_BAD_QUANTITIES = ("two", "1.5", "3 pcs", "?")
_UNKNOWN_PRODUCT_CODE = 90_000  # far above any catalogue id
_ORPHAN_ORDER_GAP = 100_000  # orphan lines point this far past the last order
_NEARBY_ROWS = 20  # duplicates land a few rows after their original
# Typed Parquet columns cannot hold the text, so the cell is null there instead.
_TYPED = " (null in Parquet)"


@dataclass(frozen=True)
class MessyRows:
    """Rows of one kind in one written table.

    ``rows`` are 1-based data row numbers (header excluded); ``details`` has one entry
    per row, or a single entry shared by all.
    """

    table: str
    kind: str
    rows: IntArray
    details: tuple[str, ...]
    expect_quarantine: bool


@dataclass(frozen=True)
class _Extra:
    """Rows to insert; each follows clean row ``after`` (-1 = before the first)."""

    rows: Table
    after: IntArray
    kind: str
    details: tuple[str, ...]
    bad: bool = True
    copy_of: IntArray | None = None
    raw: Mapping[str, Sequence[str]] = field(default_factory=dict)


def plant_orders(
    orders: Table, walk_in: BoolArray, is_return: BoolArray, k: int, rng: np.random.Generator
) -> tuple[Table, list[MessyRows]]:
    """Plant broken orders and list walk-in and return orders.

    Parameters
    ----------
    orders
        The clean orders table.
    walk_in, is_return
        Per clean order: anonymous sale; order that only returns items.
    k
        Rows per broken kind.
    rng
        Random source.
    """
    return _plant(orders, _order_extras(orders, k, rng), [
        (walk_in, "walk_in", "empty customer_id: anonymous shop sale"),
        (is_return, "return", "order that only returns earlier purchases"),
    ])  # fmt: skip


def plant_order_lines(
    lines: Table, n_orders: int, k: int, rng: np.random.Generator
) -> tuple[Table, list[MessyRows]]:
    """Plant broken and unknown-product lines and list the return lines.

    Parameters
    ----------
    lines
        The clean order_lines table (sorted by order and line number).
    n_orders
        Number of clean orders (ids beyond it do not exist).
    k
        Rows per broken kind.
    rng
        Random source.
    """
    is_return = lines.columns["quantity"].values < 0
    return _plant(lines, _line_extras(lines, n_orders, k, rng), [
        (is_return, "return", "negative quantity at the original price"),
    ])  # fmt: skip


def plant_events(events: Table, k: int, rng: np.random.Generator) -> tuple[Table, list[MessyRows]]:
    """Plant duplicated and customer-less events."""
    return _plant(events, _event_extras(events, k, rng), [])


def _plant(
    table: Table, extras: Sequence[_Extra], flags: Sequence[tuple[BoolArray, str, str]]
) -> tuple[Table, list[MessyRows]]:
    """Insert the extra rows and report final positions of extras and flagged rows."""
    n = table.n_rows
    inserted = extras[0].rows
    for extra in extras[1:]:
        inserted = inserted.append(extra.rows)
    after = np.concatenate([e.after for e in extras])
    by_place = np.argsort(after, kind="stable")
    # Extra rows go right after their clean row; ties keep their planting order.
    row_source = np.insert(np.arange(n), after[by_place] + 1, n + by_place)
    extra_position = np.empty(len(after), dtype=np.int64)
    extra_position[by_place] = after[by_place] + 1 + np.arange(len(after))
    sorted_after = after[by_place]

    def clean_position(rows: IntArray) -> IntArray:
        return rows + np.searchsorted(sorted_after, rows, side="left")

    final = table.with_inserted(inserted, as_int(row_source))
    records = []
    offset = 0
    for extra in extras:
        rows = extra_position[offset : offset + extra.rows.n_rows]
        offset += extra.rows.n_rows
        details = extra.details
        if extra.copy_of is not None:
            details = tuple(f"exact copy of row {p + 1}" for p in clean_position(extra.copy_of))
        for column, texts in extra.raw.items():
            final = final.with_raw(column, dict(zip(rows.tolist(), texts, strict=True)))
        records.append(MessyRows(table.name, extra.kind, rows + 1, details, extra.bad))
    for mask, kind, detail in flags:
        rows = clean_position(as_int(np.flatnonzero(mask))) + 1
        records.append(MessyRows(table.name, kind, rows, (detail,), False))
    return final, records


def _duplicates(table: Table, k: int, rng: np.random.Generator) -> _Extra:
    """Exact copies of random rows, a few rows after the original."""
    source = np.sort(rng.choice(table.n_rows, size=min(k, table.n_rows), replace=False))
    after = np.minimum(source + rng.integers(0, _NEARBY_ROWS, len(source)), table.n_rows - 1)
    return _Extra(table.take(source), as_int(after), "duplicate", (), copy_of=as_int(source))


def _random_rows(table: Table, k: int, rng: np.random.Generator) -> tuple[Table, IntArray]:
    """Copies of ``k`` random rows (templates) and random insertion points."""
    source = rng.choice(table.n_rows, size=k, replace=True)
    return table.take(as_int(source)), as_int(rng.integers(-1, table.n_rows, size=k))


def _texts(options: tuple[str, ...], k: int) -> tuple[str, ...]:
    return tuple(options[i % len(options)] for i in range(k))


def _order_extras(orders: Table, k: int, rng: np.random.Generator) -> list[_Extra]:
    """Duplicated orders, orders without id, orders with an unparseable timestamp."""
    no_id, at_no_id = _random_rows(orders, k, rng)
    no_id = no_id.with_values("order_id", no_id.columns["order_id"].values, np.ones(k, bool))
    bad_time, at_bad_time = _random_rows(orders, k, rng)
    bad_time = bad_time.with_values("order_id", orders.n_rows + 1 + np.arange(k))
    texts = _texts(_BAD_TIMESTAMPS, k)
    return [
        _duplicates(orders, k, rng),
        _Extra(no_id, at_no_id, "missing_key", ("empty order_id",)),
        _Extra(bad_time, at_bad_time, "invalid_value",
               tuple(f"unparseable ordered_at {t!r}{_TYPED}" for t in texts),
               raw={"ordered_at": texts}),
    ]  # fmt: skip


def _line_extras(lines: Table, n_orders: int, k: int, rng: np.random.Generator) -> list[_Extra]:
    """Duplicates, invalid values and unknown products on real orders, and orphans."""
    order_id = lines.columns["order_id"].values
    last_rows = np.append(np.flatnonzero(order_id[1:] != order_id[:-1]), len(order_id) - 1)
    chosen = rng.choice(last_rows, size=4 * k, replace=False).reshape(4, k)
    negative, zero, text, unknown = (_next_line(lines, rows) for rows in chosen)
    negative = negative.with_values("unit_price", -np.abs(negative.columns["unit_price"].values))
    zero = zero.with_values("quantity", np.zeros(k, dtype=np.int64))
    unknown = unknown.with_values("product_id", _UNKNOWN_PRODUCT_CODE + 1 + np.arange(k))
    orphans, at_orphans = _random_rows(lines, k, rng)
    orphans = orphans.with_values("order_id", n_orders + _ORPHAN_ORDER_GAP + np.arange(k))
    orphans = orphans.with_values("line_number", np.ones(k, dtype=np.int64))
    texts = _texts(_BAD_QUANTITIES, k)
    return [
        _duplicates(lines, k, rng),
        _Extra(negative, chosen[0], "invalid_value", ("negative unit_price",)),
        _Extra(zero, chosen[1], "invalid_value", ("quantity 0",)),
        _Extra(text, chosen[2], "invalid_value",
               tuple(f"non-numeric quantity {t!r}{_TYPED}" for t in texts),
               raw={"quantity": texts}),
        _Extra(unknown, chosen[3], "unknown_product",
               ("product_id not in products: becomes a placeholder product",), bad=False),
        _Extra(orphans, at_orphans, "orphan_line", ("order_id not in orders",)),
    ]  # fmt: skip


def _next_line(lines: Table, last_rows: IntArray) -> Table:
    """An extra line for each order whose last line is at ``last_rows``."""
    template = lines.take(as_int(last_rows))
    return template.with_values("line_number", template.columns["line_number"].values + 1)


def _event_extras(events: Table, k: int, rng: np.random.Generator) -> list[_Extra]:
    """Duplicated events and events without a customer."""
    anonymous, at_anonymous = _random_rows(events, k, rng)
    anonymous = anonymous.with_values("event_id", events.n_rows + 1 + np.arange(k))
    customer = anonymous.columns["customer_id"].values
    anonymous = anonymous.with_values("customer_id", customer, np.ones(k, dtype=bool))
    return [
        _duplicates(events, k, rng),
        _Extra(anonymous, at_anonymous, "missing_key", ("empty customer_id",)),
    ]
