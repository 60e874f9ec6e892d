"""Ground truth the generator knows and the pipeline must rediscover (never an input)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from analytics_pipeline.generate.catalog import CATEGORY_NAMES, ROLES, TRENDS
from analytics_pipeline.generate.columns import (
    Kind,
    Table,
    decimal_column,
    label_column,
    plain_column,
)
from analytics_pipeline.generate.messy import MessyRows
from analytics_pipeline.generate.scales import FileFormat
from analytics_pipeline.generate.shop import Shop
from analytics_pipeline.generate.stock import StockResult
from analytics_pipeline.generate.tables import customer_ids, product_days, product_ids
from analytics_pipeline.generate.timeline import PROFILES
from analytics_pipeline.generate.writer import write_table

_RATE_DECIMALS = 6


def write_truth(
    shop: Shop,
    stock: StockResult,
    messy: Sequence[MessyRows],
    manifest: Mapping[str, Any],
    directory: Path,
    demand_format: FileFormat,
) -> None:
    """Write every ground-truth file into ``directory``.

    Parameters
    ----------
    shop
        The simulated shop.
    stock
        The stock simulation.
    messy
        Planted rows.
    manifest
        Run facts for ``manifest.json``.
    directory
        Target folder (exists).
    demand_format
        Format of the (large) daily demand file; the others are CSV.
    """
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for stale in ("csv", "parquet"):
        if stale != demand_format:
            (directory / f"daily_demand.{stale}").unlink(missing_ok=True)
    write_table(_daily_demand(shop, stock), directory, demand_format)
    for table in (
        _stockout_days(shop, stock),
        _customer_churn(shop),
        _product_affinity(shop),
        _product_truth(shop, stock),
        _messy_rows(messy),
    ):
        write_table(table, directory, "csv")


def _daily_demand(shop: Shop, stock: StockResult) -> Table:
    """True demand (lost sales included) and units sold per product and day."""
    day, product = product_days(shop.catalog, shop.timeline.days)
    return Table("daily_demand", {
        "product_id": product_ids(shop.catalog.code[product]),
        "date": plain_column(Kind.DATE, shop.timeline.epoch_day(day)),
        "demand_units": plain_column(Kind.INT, stock.demand[day, product]),
        "sold_units": plain_column(Kind.INT, stock.sold[day, product]),
    })  # fmt: skip


def _stockout_days(shop: Shop, stock: StockResult) -> Table:
    """Days ending with zero stock; ``whole_day`` when there was none all day."""
    day, product = product_days(shop.catalog, shop.timeline.days)
    out = stock.on_hand[day, product] == 0
    day, product = day[out], product[out]
    return Table("stockout_days", {
        "product_id": product_ids(shop.catalog.code[product]),
        "date": plain_column(Kind.DATE, shop.timeline.epoch_day(day)),
        "whole_day": plain_column(Kind.BOOL, stock.opening[day, product] == 0),
    })  # fmt: skip


def _customer_churn(shop: Shop) -> Table:
    """BG/NBD and Gamma-Gamma parameters and the true churn of every customer."""
    customers, lifetimes = shop.customers, shop.lifetimes
    scale = 10**_RATE_DECIMALS
    churned = lifetimes.churned_at >= 0
    return Table("customer_churn", {
        "customer_id": customer_ids(np.arange(customers.n)),
        "lambda": decimal_column(np.round(lifetimes.rate * scale), _RATE_DECIMALS),
        "p_dropout": decimal_column(np.round(customers.p_dropout * scale), _RATE_DECIMALS),
        "mean_spend": decimal_column(np.round(customers.mean_spend() * 100), 2),
        "churned_at": plain_column(Kind.TIMESTAMP, lifetimes.churned_at, ~churned),
        "alive_at_end": plain_column(Kind.BOOL, ~churned),
    })  # fmt: skip


def _product_affinity(shop: Shop) -> Table:
    """Each customer's preferred categories and their weights."""
    customers = shop.customers
    who, slot = np.nonzero(customers.affinity >= 0)
    return Table("product_affinity", {
        "customer_id": customer_ids(who),
        "category": label_column(customers.affinity[who, slot], CATEGORY_NAMES),
        "weight": decimal_column(np.round(customers.affinity_weight[who, slot] * 1e4), 4),
        "rank": plain_column(Kind.INT, slot + 1),
    })  # fmt: skip


def _product_truth(shop: Shop, stock: StockResult) -> Table:
    """Hidden product attributes and the final reorder policy."""
    catalog = shop.catalog
    order = np.argsort(catalog.code)
    launch = shop.timeline.epoch_day(catalog.launch_day[order])
    return Table("product_truth", {
        "product_id": product_ids(catalog.code[order]),
        "trend": label_column(catalog.trend[order], TRENDS),
        "seasonal_profile": label_column(catalog.profile[order], PROFILES),
        "repeat_purchase": plain_column(Kind.BOOL, catalog.repeat[order]),
        "reorder_point": plain_column(Kind.INT, stock.reorder_point[order]),
        "order_quantity": plain_column(Kind.INT, stock.order_quantity[order]),
        "planted": label_column(np.where(catalog.role[order] > 0, catalog.role[order], -1),
                                ROLES),
        "launch_date": plain_column(Kind.DATE, launch),
    })  # fmt: skip


def _messy_rows(messy: Sequence[MessyRows]) -> Table:
    """One row per planted or flagged row, by table then row number."""
    tables = sorted({m.table for m in messy})
    kinds = sorted({m.kind for m in messy})
    details = sorted({d for m in messy for d in m.details})
    detail_code = {d: k for k, d in enumerate(details)}

    def per_row(make: Callable[[MessyRows], Any]) -> npt.NDArray[Any]:
        return np.concatenate([np.broadcast_to(make(m), len(m.rows)) for m in messy])

    table_code = per_row(lambda m: tables.index(m.table))
    rows = per_row(lambda m: m.rows)
    order = np.lexsort((rows, table_code))
    return Table("messy_rows", {
        "table": label_column(table_code[order], tuple(tables)),
        "row_number": plain_column(Kind.INT, rows[order]),
        "kind": label_column(per_row(lambda m: kinds.index(m.kind))[order], tuple(kinds)),
        "detail": label_column(
            per_row(lambda m: [detail_code[d] for d in m.details])[order], tuple(details)),
        "expect_quarantine": plain_column(
            Kind.BOOL, per_row(lambda m: m.expect_quarantine)[order]),
    })  # fmt: skip
