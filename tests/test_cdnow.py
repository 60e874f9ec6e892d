"""CDNOW (real 1997-98 purchase history) converted to the contract and loaded."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from analytics_pipeline.convert.cdnow import convert_cdnow
from analytics_pipeline.ingest.load import load_source
from analytics_pipeline.sources import FolderSource
from analytics_pipeline.warehouse import DuckDBWarehouse
from analytics_pipeline.warehouse.sql_models import discover

MASTER = Path(__file__).parent / "data" / "cdnow" / "CDNOW_master.txt"
AS_OF = pd.Timestamp("1998-06-30T23:59:59", tz="UTC").to_pydatetime()


@pytest.fixture(scope="module")
def cdnow_warehouse(tmp_path_factory: pytest.TempPathFactory) -> DuckDBWarehouse:
    folder = tmp_path_factory.mktemp("cdnow")
    convert_cdnow(MASTER, folder / "store")
    wh = DuckDBWarehouse(folder / "cdnow.duckdb", "UTC")
    load_source(FolderSource(folder / "store"), wh, AS_OF)
    (sales,) = [m for m in discover("ingest") if m.name == "sales_lines"]
    wh.execute(sales.create_statement, {"as_of": AS_OF, "store_tz": "UTC"})
    return wh


def test_monthly_revenue_and_orders_equal_direct_pandas(cdnow_warehouse: DuckDBWarehouse) -> None:
    raw = pd.read_csv(MASTER, sep=r"\s+", skiprows=1, header=None, dtype=str,
                      names=["customer_id", "date", "cds", "dollars"])
    raw["month"] = raw["date"].str[:6]
    raw["dollars"] = raw["dollars"].map(Decimal)
    expected = {
        month: (sum(group["dollars"], Decimal(0)), len(group))
        for month, group in raw.groupby("month")
    }
    rows = cdnow_warehouse.fetch_all(
        """SELECT strftime(sale_date, '%Y%m'), sum(revenue), count(DISTINCT order_id)
           FROM ingest.sales_lines GROUP BY 1 ORDER BY 1"""
    )
    actual = {str(m): (Decimal(str(r)), int(str(n))) for m, r, n in rows}
    assert len(actual) == 18
    assert actual == expected


def test_every_transaction_and_cd_is_kept(cdnow_warehouse: DuckDBWarehouse) -> None:
    orders, units, customers = cdnow_warehouse.fetch_all(
        "SELECT count(DISTINCT order_id), sum(quantity), count(DISTINCT customer_id) "
        "FROM ingest.sales_lines"
    )[0]
    assert (orders, customers) == (69_659, 23_570)
    raw_units = pd.read_csv(MASTER, sep=r"\s+", skiprows=1, header=None)[2].sum()
    assert int(str(units)) == int(raw_units)
    assert cdnow_warehouse.fetch_all("SELECT count(*) FROM ingest.quarantine")[0][0] == 0
