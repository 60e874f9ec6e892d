"""Size presets for the demo-store generator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FileFormat = Literal["csv", "parquet"]


@dataclass(frozen=True)
class Scale:
    """How big a generated store is and how it is written.

    Attributes
    ----------
    name
        Preset name (``tiny``, ``demo``, ``large``).
    customers
        Number of registered customers (including ones acquired before the history).
    products
        Number of catalogue products.
    days
        Length of the order history in days, ending on the end date.
    target_orders
        Orders the generator calibrates purchase rates to (walk-ins included).
    file_format
        ``csv`` or ``parquet``; one file per table either way.
    content_items
        Number of videos and articles.
    events_density
        1.0 writes the full browsing funnel; lower values thin the optional events
        (extra views, research sessions, noise) so event volume stays bounded.
    messy_per_kind
        How many deliberately broken rows of each kind are planted.
    suppliers
        Number of suppliers the products are spread over.
    """

    name: str
    customers: int
    products: int
    days: int
    target_orders: int
    file_format: FileFormat
    content_items: int
    events_density: float
    messy_per_kind: int
    suppliers: int = 20


SCALES: dict[str, Scale] = {
    "tiny": Scale(
        name="tiny",
        customers=800,
        products=150,
        days=180,
        target_orders=7_000,
        file_format="csv",
        content_items=30,
        events_density=1.0,
        messy_per_kind=3,
    ),
    "demo": Scale(
        name="demo",
        customers=20_000,
        products=1_000,
        days=365,
        target_orders=250_000,
        file_format="csv",
        content_items=150,
        events_density=1.0,
        messy_per_kind=8,
    ),
    "large": Scale(
        name="large",
        customers=1_000_000,
        products=2_000,
        days=730,
        target_orders=10_000_000,
        file_format="parquet",
        content_items=150,
        events_density=0.35,
        messy_per_kind=25,
    ),
}
