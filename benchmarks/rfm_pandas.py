"""The RFM of ``sql/segments/rfm.sql`` in pandas: the reference the refresh is timed against.

Starts from the same orders (``revenue.customer_orders``, one row per order) and reproduces
``revenue.customer_ltv``'s recency, frequency and monetary value and ``segments.rfm``'s
quintile scores, cells and segment names, so :func:`mismatches` can cross-check the SQL.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics_pipeline.warehouse import Warehouse

# Money travels as integer cents: a DECIMAL sum is exact, a float sum could split ties
# the SQL sees as equal (and so score them differently).
ORDERS_SQL = """SELECT customer_id, sale_date, CAST(round(revenue * 100) AS BIGINT) AS cents,
       is_purchase FROM revenue.customer_orders"""
SCORES = ["r_score", "f_score", "m_score", "rfm_cell", "rfm_segment"]
# rfm.sql's CASE names, in its order; the last is its ELSE.
NAMES = ("Hibernating", "At risk", "Cannot lose them", "About to sleep", "Need attention",
         "Loyal customers", "Champions", "Potential loyalists", "Promising", "New customers")


def load_orders(warehouse: Warehouse) -> tuple[pd.DataFrame, dt.date]:
    """The orders and the as_of day (``revenue.calendar``'s), as the SQL reads them."""
    orders = warehouse.fetch_df(ORDERS_SQL)
    (as_of_day,) = warehouse.fetch_all("SELECT MAX(as_of_day) FROM revenue.calendar")[0]
    assert isinstance(as_of_day, dt.date)
    return orders, as_of_day


def quintiles(values: pd.Series) -> npt.NDArray[np.int64]:
    """``NTILE(5)`` over ascending ``values``, then the lowest tile of each value.

    The lowest tile a value reaches is the tile of its first row in sorted order, whose
    position is its 'min' rank; NTILE gives the first ``n % 5`` tiles one row more.
    """
    n = len(values)
    size, extra = divmod(n, 5)
    position = values.rank(method="min").to_numpy(dtype=np.int64) - 1
    in_big = extra * (size + 1)
    tile = np.where(position < in_big, position // (size + 1),
                    extra + (position - in_big) // max(size, 1))
    return np.asarray(tile + 1, dtype=np.int64)


def segment_names(r: npt.NDArray[np.int64], f: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
    """rfm.sql's CASE on the R and F scores: the first condition that holds names it."""
    rules = np.stack([
        (r <= 2) & (f <= 2), (r <= 2) & (f <= 4), r <= 2, (r == 3) & (f <= 2),
        (r == 3) & (f == 3), (f >= 4) & (r <= 4), f >= 4, f >= 2, r == 4,
    ])
    first = np.where(rules.any(axis=0), rules.argmax(axis=0), len(NAMES) - 1)
    return np.asarray(np.array(NAMES, dtype=object)[first])


def pandas_rfm(orders: pd.DataFrame, as_of_day: dt.date) -> pd.DataFrame:
    """One row per customer with a purchase: recency, frequency, monetary and the scores."""
    purchase = orders["is_purchase"].to_numpy(dtype=bool)
    by = orders["customer_id"]
    frame = pd.DataFrame({
        "frequency": pd.Series(purchase, index=orders.index).groupby(by).sum(),
        "cents": orders["cents"].groupby(by).sum(),
        "last": orders["sale_date"].where(purchase).groupby(by).max(),
    })
    frame = frame[frame["frequency"] > 0]
    last = pd.to_datetime(frame["last"])
    recency = (pd.Timestamp(as_of_day) - last).dt.days.astype(np.int64)
    r = quintiles(-recency)
    f = quintiles(frame["frequency"])
    m = quintiles(frame["cents"])
    names = segment_names(r, f)
    return pd.DataFrame({
        "recency_days": recency.to_numpy(), "frequency": frame["frequency"].to_numpy(),
        "monetary": frame["cents"].to_numpy() / 100, "r_score": r, "f_score": f,
        "m_score": m, "rfm_cell": [f"{a}{b}{c}" for a, b, c in zip(r, f, m, strict=True)],
        "rfm_segment": names,
    }, index=frame.index.rename("customer_id"))


def mismatches(warehouse: Warehouse, reference: pd.DataFrame, sample: int, seed: int) -> int:
    """Customers of a random sample whose SQL scores, cell or name differ from pandas'
    (a customer present on one side only counts too)."""
    ids = reference.index.to_series().sample(min(sample, len(reference)), random_state=seed)
    sql = warehouse.fetch_df(
        "SELECT customer_id, r_score, f_score, m_score, rfm_cell, rfm_segment"
        " FROM segments.rfm WHERE customer_id IN (SELECT unnest($ids))", {"ids": ids.tolist()},
    ).set_index("customer_id")
    (count,) = warehouse.fetch_all("SELECT count(*) FROM segments.rfm")[0]
    both = reference.loc[ids, SCORES].join(sql, rsuffix="_sql", how="left")
    differ = np.zeros(len(both), dtype=bool)
    for column in SCORES:
        mine, theirs = both[column].astype(str), both[f"{column}_sql"].astype(str)
        differ |= mine.to_numpy() != theirs.to_numpy()
    return int(differ.sum()) + abs(int(str(count)) - len(reference))
