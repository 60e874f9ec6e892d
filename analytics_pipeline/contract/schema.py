"""The data contract (docs/data-contract.md) as data: tables, columns, types and rules.

Validation SQL is generated from these specs, so a rule lives in exactly one place.
Rule conditions are SQL over the *typed* column, written with ``{c}`` for the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["string", "decimal", "int", "timestamp", "bool"]


@dataclass(frozen=True)
class Rule:
    """A condition a typed value must satisfy (checked only when the value is present)."""

    condition: str
    message: str


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "string"
    required: bool = False
    default: str | None = None  # SQL used when the value is empty (may use other raw columns)
    rules: tuple[Rule, ...] = ()
    pii: bool = False  # PII values never appear in quarantine reasons or logs
    lowercase: bool = False
    clamp_negative: bool = False  # store max(value, 0) and flag it in <name>_was_negative


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = False
    row_rules: tuple[Rule, ...] = ()  # conditions over several typed columns
    has_placeholders: bool = False  # rows may be invented for unknown ids (is_placeholder)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


NON_NEGATIVE = Rule("{c} >= 0", "must be >= 0")
ORDER_STATUSES = ("completed", "refunded", "void")
PRODUCT_EVENTS = ("product_view", "cart_add", "cart_remove")
CONTENT_EVENTS = ("content_view", "video_view", "article_read")
EVENT_TYPES = (*PRODUCT_EVENTS, "checkout", *CONTENT_EVENTS)


def _one_of(values: tuple[str, ...]) -> Rule:
    listed = ", ".join(f"'{v}'" for v in values)
    return Rule(f"{{c}} IN ({listed})", "must be one of " + ", ".join(values))


def _needs(column: str, when_types: tuple[str, ...]) -> Rule:
    listed = ", ".join(f"'{v}'" for v in when_types)
    return Rule(
        f"event_type NOT IN ({listed}) OR {column} IS NOT NULL",
        f"{column}: required for {'/'.join(when_types)} events",
    )


PRODUCTS = Table(
    name="products",
    key=("product_id",),
    has_placeholders=True,
    columns=(
        Column("product_id", required=True),
        Column("name"),
        Column("category", default="'uncategorized'"),
        Column("unit_cost", "decimal", rules=(NON_NEGATIVE,)),
        Column("unit_price", "decimal", rules=(NON_NEGATIVE,)),
        Column("lead_time_days", "int", default="7", rules=(NON_NEGATIVE,)),
        Column("supplier"),
    ),
)

CUSTOMERS = Table(
    name="customers",
    key=("customer_id",),
    columns=(
        Column("customer_id", required=True),
        Column("email", pii=True),
        Column("first_name", pii=True),
        Column("last_name", pii=True),
        Column("created_at", "timestamp"),
        Column("marketing_opt_in", "bool", default="FALSE"),
    ),
)

ORDERS = Table(
    name="orders",
    key=("order_id",),
    required=True,
    columns=(
        Column("order_id", required=True),
        Column("customer_id"),
        Column("ordered_at", "timestamp", required=True),
        Column("channel"),
        Column(
            "status", default="'completed'", lowercase=True, rules=(_one_of(ORDER_STATUSES),)
        ),
    ),
)

ORDER_LINES = Table(
    name="order_lines",
    key=("order_id", "line_number"),
    required=True,
    columns=(
        Column("order_id", required=True),
        Column("line_number", "int", required=True),
        Column("product_id", required=True),
        Column("quantity", "int", required=True, rules=(Rule("{c} <> 0", "must not be 0"),)),
        Column("unit_price", "decimal", required=True, rules=(NON_NEGATIVE,)),
        Column("discount", "decimal", default="0"),
        Column("unit_cost", "decimal", rules=(NON_NEGATIVE,)),
    ),
)

INVENTORY = Table(
    name="inventory",
    key=("product_id", "location_id", "as_of"),
    columns=(
        Column("product_id", required=True),
        Column("as_of", "timestamp", required=True),
        # POS systems report negative stock; the contract says treat it as 0 and flag it.
        Column("on_hand", "int", required=True, clamp_negative=True),
        Column("on_order", "int", default="0", rules=(NON_NEGATIVE,)),
        Column("location_id"),
    ),
)

EVENTS = Table(
    name="events",
    key=("event_id",),
    columns=(
        # Events without an id get one from their content, so a reload cannot double them.
        Column(
            "event_id",
            default="md5(concat_ws('|', customer_id, event_type, product_id, content_id,"
            " occurred_at, session_id))",
        ),
        Column("customer_id", required=True),
        Column("event_type", required=True, rules=(_one_of(EVENT_TYPES),)),
        Column("product_id"),
        Column("content_id"),
        Column("occurred_at", "timestamp", required=True),
        Column("session_id"),
    ),
    row_rules=(_needs("product_id", PRODUCT_EVENTS), _needs("content_id", CONTENT_EVENTS)),
)

CONTENT = Table(
    name="content",
    key=("content_id",),
    columns=(
        Column("content_id", required=True),
        Column("title"),
        Column("kind"),
        Column("product_ids"),
        Column("category"),
    ),
)

# Load order matters: order_lines are checked against orders already merged.
TABLES: tuple[Table, ...] = (
    PRODUCTS, CUSTOMERS, ORDERS, ORDER_LINES, INVENTORY, EVENTS, CONTENT,
)
TABLES_BY_NAME = {t.name: t for t in TABLES}
