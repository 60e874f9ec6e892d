"""Source -> raw tables: stage, validate, upsert, quarantine.

Nothing is silently dropped: every row of every offered table ends up either in
``ingest.<table>`` or in ``ingest.quarantine`` with its file, row number and reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from analytics_pipeline.contract import validation
from analytics_pipeline.contract.schema import PRODUCTS, TABLES, Table
from analytics_pipeline.sources.base import ContractError, Source
from analytics_pipeline.warehouse.base import Warehouse

log = logging.getLogger(__name__)

# Product ids referenced here but absent from products become placeholder products.
PRODUCT_REFERENCES = ("order_lines", "inventory", "events")


@dataclass(frozen=True)
class TableLoad:
    """What one load did to one table."""

    table: str
    origin: str | None  # None: the source does not have this table
    rows_read: int = 0
    rows_quarantined: int = 0
    rows_in_table: int = 0


@dataclass
class LoadReport:
    tables: dict[str, TableLoad] = field(default_factory=dict)
    placeholder_products: int = 0

    @property
    def missing(self) -> list[str]:
        return [name for name, t in self.tables.items() if t.origin is None]


def load_source(
    source: Source, warehouse: Warehouse, loaded_at: datetime, primary: bool = True
) -> LoadReport:
    """Load every contract table the source offers, in dependency order.

    A ``primary`` source must have the required tables; a secondary one (live orders)
    only adds what it has.

    Raises
    ------
    ContractError
        When a required table is absent or a file cannot be read under the contract.
    """
    for domain in ("staging", "ingest"):
        warehouse.ensure_schema(domain)
    report = LoadReport()
    for table in TABLES:
        report.tables[table.name] = _load_table(source, warehouse, table, loaded_at, primary)
    report.placeholder_products = _add_placeholder_products(warehouse, loaded_at)
    return report


def record_live_watermark(warehouse: Warehouse, watermark: int, loaded_at: datetime) -> None:
    """Remember the newest live order absorbed, so the API adds only newer ones."""
    warehouse.execute(
        "CREATE OR REPLACE TABLE ingest.live_watermark AS SELECT CAST($watermark AS BIGINT) "
        "AS watermark, CAST($loaded_at AS TIMESTAMPTZ) AS loaded_at",
        {"watermark": watermark, "loaded_at": loaded_at},
    )


def _load_table(
    source: Source, warehouse: Warehouse, table: Table, loaded_at: datetime, primary: bool
) -> TableLoad:
    offered = source.offer(table)
    warehouse.execute(validation.QUARANTINE_DDL)
    warehouse.execute(validation.target_ddl(table))
    if offered is None:
        if table.required and primary:
            raise ContractError(f"{source.description} has no {table.name} table (required)")
        log.info("%s: no %s table; features that need it are off", source.description, table.name)
        return TableLoad(table.name, None, rows_in_table=_count(warehouse, table.name))
    warehouse.load_arrow("staging", table.name, offered.open_batches())
    params = {"loaded_at": loaded_at}
    for statement in validation.prepare_statements(table):
        warehouse.execute(statement, params)
    empty = _count(warehouse, table.name) == 0
    warehouse.run_script(validation.apply_statements(table, target_empty=empty), params)
    read, bad = warehouse.fetch_all(
        f"SELECT count(*), count(*) FILTER (WHERE _reason <> '') "
        f"FROM staging.{table.name}_checked"
    )[0]
    for staged in (table.name, f"{table.name}_checked"):
        warehouse.execute(f"DROP TABLE IF EXISTS staging.{staged}")
    log.info("%s: %s rows read, %s quarantined", offered.origin, read, bad)
    return TableLoad(table.name, offered.origin, int(str(read)), int(str(bad)),
                     _count(warehouse, table.name))


def _count(warehouse: Warehouse, table: str) -> int:
    return int(str(warehouse.fetch_all(f"SELECT count(*) FROM ingest.{table}")[0][0]))


def _add_placeholder_products(warehouse: Warehouse, loaded_at: datetime) -> int:
    ids = " UNION ".join(
        f"SELECT product_id FROM ingest.{t} WHERE product_id IS NOT NULL"
        for t in PRODUCT_REFERENCES
    )
    lead_time = PRODUCTS.column("lead_time_days").default
    before = _count(warehouse, "products")
    warehouse.execute(
        f"""INSERT INTO ingest.products
            (product_id, name, category, lead_time_days, is_placeholder, _source_file, _loaded_at)
        SELECT ids.product_id, 'Unknown product ' || ids.product_id, 'uncategorized',
               {lead_time}, TRUE, 'placeholder', CAST($loaded_at AS TIMESTAMPTZ)
        FROM ({ids}) AS ids
        WHERE NOT EXISTS (
            SELECT 1 FROM ingest.products AS p WHERE p.product_id = ids.product_id)""",
        {"loaded_at": loaded_at},
    )
    return _count(warehouse, "products") - before
