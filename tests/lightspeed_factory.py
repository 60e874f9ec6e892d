"""Seeded Lightspeed R-Series records in the API's wire shape (every scalar a string).

Deliberate oddities, each counted so tests can assert them: open sales (no order yet),
voided sales, refund lines (negative quantity), walk-in sales (``customerID "0"``),
one-line sales whose ``SaleLine`` is a bare object, and lines with ``unitQuantity "0"``
that the contract quarantines ("must not be 0").
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Record = dict[str, Any]
START = datetime(2026, 1, 1, tzinfo=UTC)
OPEN_EVERY, VOID_EVERY, WALK_IN_EVERY = 50, 101, 7
REFUND_LINE_EVERY, ZERO_QTY_LINE_EVERY = 40, 997
SHOPS = ("1", "2")


def stamp(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


@dataclass
class FakeStore:
    """All records of one fake account, plus the counters of its oddities."""

    seed: int = 7
    items: list[Record] = field(default_factory=list)
    item_shops: list[Record] = field(default_factory=list)
    customers: list[Record] = field(default_factory=list)
    sales: list[Record] = field(default_factory=list)
    next_line_id: int = 1
    clock: datetime = START

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 - test data, not secrets

    def tick(self, seconds: int) -> str:
        self.clock += timedelta(seconds=seconds)
        return stamp(self.clock)

    def add_items(self, count: int) -> None:
        for _ in range(count):
            item_id = str(len(self.items) + 1)
            cost = round(self.rng.uniform(1, 60), 2)
            at = self.tick(1)
            category = str(self.rng.randint(1, 12))
            self.items.append({
                "itemID": item_id, "systemSku": f"21000{item_id}", "description": f"Item {item_id}",
                "defaultCost": f"{cost}", "categoryID": category, "defaultVendorID": "3",
                "itemType": "default", "archived": "false", "createTime": at, "timeStamp": at,
                "Category": {"categoryID": category, "name": f"Category {category}"},
                "Prices": {"ItemPrice": [
                    {"amount": f"{round(cost * 2.1, 2)}", "useType": "Default", "useTypeID": "1"},
                    {"amount": f"{round(cost * 2.5, 2)}", "useType": "MSRP", "useTypeID": "2"},
                ]},
            })
            for shop in ("0", *SHOPS):
                self.item_shops.append({
                    "itemShopID": str(len(self.item_shops) + 1), "itemID": item_id,
                    "shopID": shop, "qoh": str(self.rng.randint(-2, 40)),
                    "backorder": str(self.rng.choice((0, 0, 0, 12))), "reorderPoint": "5",
                    "timeStamp": at,
                })

    def add_customers(self, count: int) -> None:
        for _ in range(count):
            customer_id = str(len(self.customers) + 1)
            at = self.tick(1)
            self.customers.append({
                "customerID": customer_id, "firstName": f"First{customer_id}",
                "lastName": f"Last{customer_id}", "createTime": at, "timeStamp": at,
                "archived": "false",
                "Contact": {"noEmail": "false" if int(customer_id) % 3 else "true",
                            "Emails": {"ContactEmail": {
                                "address": f"c{customer_id}@example.com", "useType": "Primary"}}},
            })

    def add_sales(self, count: int, lines_per_sale: tuple[int, ...] = (1, 2, 3, 4, 5)) -> None:
        """``count`` sales; line counts cycle through ``lines_per_sale`` in shuffled blocks,
        so the mean is exact (3 for the default)."""
        sizes: list[int] = []
        while len(sizes) < count:
            block = list(lines_per_sale)
            self.rng.shuffle(block)
            sizes.extend(block)
        for size in sizes[:count]:
            self.sales.append(self._sale(str(len(self.sales) + 1), size))

    def _sale(self, sale_id: str, size: int) -> Record:
        number = int(sale_id)
        # Every 10th sale shares its second with the one before: cursors must handle ties.
        at = self.tick(0 if number % 10 == 0 else 30)
        walk_in = number % WALK_IN_EVERY == 0 or not self.customers
        customer = "0" if walk_in else str(self.rng.randint(1, len(self.customers)))
        lines = [self._line(sale_id, customer, at) for _ in range(size)]
        is_open = number % OPEN_EVERY == 0
        subtotal = sum(float(ln["calcSubtotal"]) for ln in lines)
        return {
            "saleID": sale_id, "timeStamp": at, "createTime": at, "updatetime": at,
            "completeTime": "" if is_open else at, "completed": "false" if is_open else "true",
            "voided": "true" if number % VOID_EVERY == 0 else "false", "archived": "false",
            "customerID": customer, "employeeID": "1", "shopID": self.rng.choice(SHOPS),
            "registerID": "1", "ticketNumber": f"22000000{sale_id}",
            "calcSubtotal": f"{subtotal:.2f}", "calcDiscount": "0", "total": f"{subtotal:.2f}",
            "SaleLines": {"SaleLine": lines[0] if size == 1 else lines},
        }

    def _line(self, sale_id: str, customer: str, at: str) -> Record:
        line_id = self.next_line_id
        self.next_line_id += 1
        item = self.items[self.rng.randrange(len(self.items))]
        quantity = self.rng.randint(1, 3)
        if line_id % REFUND_LINE_EVERY == 0:
            quantity = -quantity
        if line_id % ZERO_QTY_LINE_EVERY == 0:
            quantity = 0
        price = float(item["Prices"]["ItemPrice"][0]["amount"])
        discount = round(price * 0.1, 2) if line_id % 9 == 0 else 0.0
        sign = -1 if quantity < 0 else 1
        return {
            "saleLineID": str(line_id), "saleID": sale_id, "itemID": item["itemID"],
            "unitQuantity": str(quantity), "unitPrice": f"{price}", "normalUnitPrice": f"{price}",
            "calcLineDiscount": f"{sign * discount}", "calcTransactionDiscount": "0",
            "calcSubtotal": f"{quantity * price:.2f}", "avgCost": item["defaultCost"],
            "fifoCost": item["defaultCost"], "shopID": "1", "customerID": customer,
            "createTime": at, "timeStamp": at,
        }

    def void_sale(self, sale_id: str) -> None:
        """Void a sale later, as a register does: its ``updatetime`` moves to now."""
        sale = self.sales[int(sale_id) - 1]
        sale["voided"] = "true"
        sale["updatetime"] = sale["timeStamp"] = self.tick(5)

    def lines_of(self, sale: Record) -> list[Record]:
        lines = sale["SaleLines"]["SaleLine"]
        return lines if isinstance(lines, list) else [lines]


def seeded_store(sales: int, items: int = 200, customers: int = 500, seed: int = 7) -> FakeStore:
    store = FakeStore(seed=seed)
    store.add_items(items)
    store.add_customers(customers)
    store.add_sales(sales)
    return store
