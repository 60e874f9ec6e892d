"""Lightspeed records -> data-contract rows (strings, as every source hands them over).

Values are passed on as the API wrote them; typing and the contract's rules run once,
in the warehouse, so a bad value quarantines its row with a reason instead of being
fixed or dropped here. Only what the contract has no place for is decided here: open
(not yet completed) sales are no orders yet, and shop 0 is Lightspeed's all-shops
summary of stock, not a location.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from analytics_pipeline.sources.lightspeed.client import JSON, as_list

Row = dict[str, str | None]
NO_ID = "0"  # Lightspeed's "no such foreign record" (walk-in customer, no vendor, ...)


def _text(record: JSON, key: str) -> str | None:
    value = record.get(key)
    return None if value is None or value == "" else str(value)


def _foreign(record: JSON, key: str) -> str | None:
    value = _text(record, key)
    return None if value == NO_ID else value


def _child(record: JSON, wrapper: str, key: str) -> list[JSON]:
    """Relations nest as plural wrapper -> singular key, one child may be a bare object."""
    holder = record.get(wrapper)
    return as_list(holder.get(key)) if isinstance(holder, dict) else []


def sale_status(sale: JSON) -> str | None:
    """``void``, ``completed``, or ``None`` for a sale still open at the register."""
    if sale.get("voided") == "true":
        return "void"
    return "completed" if sale.get("completed") == "true" else None


def map_sale(sale: JSON) -> tuple[Row, list[Row]] | None:
    """The order and its lines; ``None`` for an open sale (it comes back once completed).

    Line numbers are the ``saleLineID``s: unique within the sale and stable across syncs.
    """
    status = sale_status(sale)
    if status is None:
        return None
    order: Row = {
        "order_id": _text(sale, "saleID"),
        "customer_id": _foreign(sale, "customerID"),
        "ordered_at": _text(sale, "completeTime") or _text(sale, "timeStamp"),
        "channel": "store",
        "status": status,
    }
    lines = [_map_line(order["order_id"], line) for line in _child(sale, "SaleLines", "SaleLine")]
    return order, lines


def _map_line(order_id: str | None, line: JSON) -> Row:
    return {
        "order_id": order_id,
        "line_number": _text(line, "saleLineID"),
        "product_id": _text(line, "itemID"),
        "quantity": _text(line, "unitQuantity"),
        "unit_price": _text(line, "unitPrice"),
        "discount": _line_discount(line),
        "unit_cost": _text(line, "avgCost") or _text(line, "fifoCost"),
    }


def _line_discount(line: JSON) -> str | None:
    """The line's own discount plus its share of a sale-wide one, as a positive amount.

    Refund lines carry negative discounts; the contract takes the size and applies the
    quantity's sign itself. A value that is not a number is passed on for quarantine.
    """
    parts = [_text(line, "calcLineDiscount"), _text(line, "calcTransactionDiscount")]
    present = [p for p in parts if p is not None]
    if not present:
        return None
    try:
        return str(abs(sum((Decimal(p) for p in present), Decimal(0))))
    except InvalidOperation:
        return "/".join(present)


def map_item(item: JSON) -> Row:
    prices = _child(item, "Prices", "ItemPrice")
    default = next((p for p in prices if p.get("useType") == "Default"), None)
    category = item.get("Category")
    return {
        "product_id": _text(item, "itemID"),
        "name": _text(item, "description"),
        "category": _text(category, "name") if isinstance(category, dict) else None,
        "unit_cost": _text(item, "defaultCost"),
        "unit_price": _text(default, "amount") if default else None,
        "lead_time_days": None,
        "supplier": _foreign(item, "defaultVendorID"),
    }


def map_item_shop(item_shop: JSON) -> Row | None:
    """Stock of one item in one shop; ``None`` for the all-shops summary row (shop 0)."""
    if _text(item_shop, "shopID") in (None, NO_ID):
        return None
    return {
        "product_id": _text(item_shop, "itemID"),
        "location_id": _text(item_shop, "shopID"),
        "as_of": _text(item_shop, "timeStamp"),
        "on_hand": _text(item_shop, "qoh"),
        "on_order": _text(item_shop, "backorder"),
    }


def map_customer(customer: JSON) -> Row:
    """Email comes from the ``Contact`` relation; the opt-out flag decides marketing consent."""
    contact = customer.get("Contact")
    contact = contact if isinstance(contact, dict) else {}
    emails = _child(contact, "Emails", "ContactEmail")
    primary = next((e for e in emails if e.get("useType") == "Primary"), None)
    chosen = primary or (emails[0] if emails else None)
    return {
        "customer_id": _text(customer, "customerID"),
        "email": _text(chosen, "address") if chosen else None,
        "first_name": _text(customer, "firstName"),
        "last_name": _text(customer, "lastName"),
        "created_at": _text(customer, "createTime"),
        "marketing_opt_in": "false" if contact.get("noEmail", "true") == "true" else "true",
    }
