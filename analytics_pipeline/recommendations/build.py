"""Building recommendation tables as of any cutoff, learning v2 and scoring with it.

The SQL models in ``sql/recommendations/`` are built by the SQL-model assets as of the
run's ``as_of``. Learning needs the same candidates as of an earlier cutoff, with the
purchases that followed it as labels, so :func:`build_at` runs those same files as of
another time into the ``staging`` schema (never published to the API). The heavy
per-pair work stays in the warehouse. Python sees the candidates of a fixed-size hash
sample of customers to fit, and the top candidates per customer to calibrate and explain,
a range of customers at a time: its memory depends on those sizes, not on the store's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from analytics_pipeline.models.recs import (
    FusionConfig,
    FusionModel,
    NotEnoughHistoryError,
    fit_fusion,
)
from analytics_pipeline.models.recs_features import FEATURES
from analytics_pipeline.warehouse import Warehouse
from analytics_pipeline.warehouse.sql_models import SqlModel, discover, in_dependency_order

DOMAIN = "recommendations"
STAGING = "staging"
HORIZON = timedelta(days=30)
_REFERENCE = re.compile(r"\brecommendations\.([a-z_][a-z0-9_]*)\b")
_DOUBLE, _TEXT = pa.float64(), pa.string()
V2_SCHEMA = pa.schema([
    ("customer_id", _TEXT), ("product_id", _TEXT), ("category", _TEXT), ("segment", _TEXT),
    ("rank", pa.int64()), ("score", _DOUBLE), ("confidence", _DOUBLE),
    *((name, _DOUBLE) for name in FEATURES),
    *((f"{name}_contribution", _DOUBLE) for name in FEATURES),
])
MODEL_SCHEMA = pa.schema([
    ("feature", _TEXT), ("weight", _DOUBLE), ("mean", _DOUBLE), ("scale", _DOUBLE)])
CALIBRATION_SCHEMA = pa.schema([("score", _DOUBLE), ("probability", _DOUBLE)])


@dataclass(frozen=True)
class V2Config:
    """Serving-side numbers of v2.

    Attributes
    ----------
    keep_per_customer
        Top candidates per customer stored for the API, which re-ranks them by the
        request's time of day and cuts to ``limit``.
    learn_customers
        Customers whose candidates the weights are learned on, the same ones on every
        run (the first by MD5 of their id). About 100 candidates each make ~5 M rows at
        50,000: ~1 M fitted rows after the negative sample and ~1.5 M held out for the
        calibration, plenty for 16 weights, and ~2.5 GB of fitting memory however big
        the store is. A store with fewer customers is learned on all of them.
    chunk_customers
        Customers scored per round trip (~30 rows each in Python); the output is the
        same for any value.
    fusion
        How the weights and the calibration are fitted.
    """

    keep_per_customer: int = 30
    learn_customers: int = 50_000
    chunk_customers: int = 50_000
    fusion: FusionConfig = field(default_factory=FusionConfig)


def build_at(
    wh: Warehouse, as_of: datetime, store_tz: str, prefix: str, wanted: tuple[str, ...] = ()
) -> dict[str, str]:
    """Build the recommendation SQL models as of ``as_of`` into ``staging.<prefix>_<name>``.

    Parameters
    ----------
    wanted
        Model names to build, with everything they read; all models when empty.

    Returns
    -------
    dict
        Model name to the staging table that holds it.
    """
    models = _with_inputs(discover(DOMAIN), wanted)
    tables = {m.name: f"{STAGING}.{prefix}_{m.name}" for m in models}
    wh.ensure_schema(STAGING)
    params = {"as_of": as_of, "store_tz": store_tz}
    for model in models:
        query = _REFERENCE.sub(lambda m: tables.get(m.group(1), m.group(0)), model.query)
        wh.execute(f"CREATE OR REPLACE TABLE {tables[model.name]} AS\n{query}", params)
    return tables


def _with_inputs(models: list[SqlModel], wanted: tuple[str, ...]) -> list[SqlModel]:
    by_name = {m.name: m for m in models}
    keep = set(wanted or by_name)
    pending = list(keep)
    while pending:
        for domain, name in by_name[pending.pop()].deps:
            if domain == DOMAIN and name not in keep:
                keep.add(name)
                pending.append(name)
    return in_dependency_order([by_name[name] for name in sorted(keep)])


def labelled_candidates(
    wh: Warehouse, candidates: str, cutoff: datetime, customers: int
) -> pd.DataFrame:
    """Features of the candidates of table ``candidates`` (built as of ``cutoff``) of a
    sample of ``customers`` customers, with ``bought``: whether the customer bought the
    product in the :data:`HORIZON` after the cutoff for the first time (``repurchase =
    0``: recommendations are for discovering products, a product they buy anyway is no
    win; the model learns how rarely that holds for owned ones).

    The sample is chosen in SQL, so only its rows leave the warehouse: the customers with
    the lowest MD5 of their id, an order unrelated to how ids are assigned (by sign-up
    date, say) that DuckDB and BigQuery (``TO_HEX(MD5(...))``) compute alike.
    """
    columns = ", ".join(f"c.{name}" for name in FEATURES)
    return wh.fetch_df(
        "WITH sample AS (SELECT customer_id FROM "  # noqa: S608 - staging table and feature names, values bound
        f"  (SELECT DISTINCT customer_id FROM {candidates}) AS d "
        "  ORDER BY md5(customer_id), customer_id LIMIT $customers) "
        f"SELECT c.customer_id, {columns}, "
        "  b.product_id IS NOT NULL AND c.repurchase = 0 AS bought "
        f"FROM {candidates} AS c "
        "JOIN sample AS s ON s.customer_id = c.customer_id "
        "LEFT JOIN (SELECT DISTINCT customer_id, product_id FROM ingest.sales_lines "
        "  WHERE NOT is_return AND ordered_at > $cutoff AND ordered_at <= $until) AS b "
        "ON b.customer_id = c.customer_id AND b.product_id = c.product_id "
        # The fit's negative sample draws by row position: a fixed order fixes the model.
        "ORDER BY c.customer_id, c.product_id",
        {"cutoff": cutoff, "until": cutoff + HORIZON, "customers": customers},
    )


def learn(
    wh: Warehouse, as_of: datetime, store_tz: str, config: V2Config, prefix: str = "recs_fit"
) -> FusionModel:
    """Fit v2 on candidates as of ``as_of - HORIZON`` and what was bought up to ``as_of``,
    for ``config.learn_customers`` customers.

    The training window lies wholly before ``as_of``, so the model never sees the period
    it is then used to predict (a temporal validation split).
    """
    cutoff = as_of - HORIZON
    tables = build_at(wh, cutoff, store_tz, prefix, wanted=("candidates",))
    frame = labelled_candidates(wh, tables["candidates"], cutoff, config.learn_customers)
    return fit_fusion(frame, frame["bought"].to_numpy(dtype=bool), config.fusion)


def score(
    wh: Warehouse, model: FusionModel, candidates: str, keep: int, chunk_customers: int,
    prefix: str = "recs_v2",
) -> Iterator[pd.DataFrame]:
    """The ``keep`` best candidates per customer, with score, confidence, rank, each
    signal's contribution (``<signal>_contribution``) and the customer's segment (the
    category of their strongest affinity, which picks their time-of-day pattern).

    The warehouse scores and cuts every customer's list in one pass into a staging table
    in customer order; Python then reads it one range of ``chunk_customers`` customers at
    a time, each read only when the next frame is asked for, so the caller can write one
    before the next is read (a DuckDB connection cannot read one query while it loads
    another table). Every column is a per-customer figure, so the frames are the same for
    any chunk size.
    """
    terms = " + ".join(f"$w_{f} * ({f} - $m_{f}) / $s_{f}" for f in model.features)
    params: dict[str, object] = {"intercept": model.intercept, "keep": keep}
    for name, weight, mean, scale in zip(
        model.features, model.weights, model.means, model.scales, strict=True
    ):
        params |= {f"w_{name}": float(weight), f"m_{name}": float(mean), f"s_{name}": float(scale)}
    top = f"{STAGING}.{prefix}_top"
    wh.ensure_schema(STAGING)
    # Sorted by customer, so a range's rows lie together and a read skips the rest.
    wh.execute(
        f"CREATE OR REPLACE TABLE {top} AS SELECT *, $intercept + {terms} AS score "  # noqa: S608 - feature names, values bound
        f"FROM {candidates} "
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY score DESC, product_id)"
        " <= $keep ORDER BY customer_id, score DESC, product_id",
        params,
    )
    for after, upto in customer_ranges(wh, top, chunk_customers):
        yield _explained(wh.fetch_df(
            f"SELECT * FROM {top} WHERE customer_id > $after AND customer_id <= $upto "  # noqa: S608 - staging table name, values bound
            "ORDER BY customer_id, score DESC, product_id", {"after": after, "upto": upto}),
            model)
    wh.execute(f"DROP TABLE {top}")


def customer_ranges(wh: Warehouse, table: str, size: int) -> list[tuple[str, str]]:
    """``(after, upto]`` ranges of customer ids of ``table`` holding ``size`` customers
    each (the last one fewer), in order; none for an empty table."""
    bounds = [str(upto) for (upto,) in wh.fetch_all(
        "SELECT customer_id FROM (SELECT customer_id, "  # noqa: S608 - staging or model table name, values bound
        "  ROW_NUMBER() OVER (ORDER BY customer_id) AS n, COUNT(*) OVER () AS customers "
        f"  FROM (SELECT DISTINCT customer_id FROM {table}) AS d) AS numbered "
        "WHERE n % $size = 0 OR n = customers ORDER BY customer_id",
        {"size": size},
    )]
    # Ids are non-empty strings, so every one sorts after ''.
    return list(zip(["", *bounds[:-1]], bounds, strict=True))


def _explained(frame: pd.DataFrame, model: FusionModel) -> pd.DataFrame:
    """Rank, confidence, contributions and segment of whole customers' top candidates."""
    frame["rank"] = frame.groupby("customer_id").cumcount() + 1
    frame["confidence"] = model.confidence(frame["score"].to_numpy(dtype=np.float64))
    contributions = model.contributions(frame)
    for i, name in enumerate(model.features):
        frame[f"{name}_contribution"] = contributions[:, i]
    strongest = frame.sort_values(["customer_id", "category_affinity"], ascending=[True, False])
    segment = strongest.drop_duplicates("customer_id").set_index("customer_id")["category"]
    frame["segment"] = frame["customer_id"].map(segment)
    return frame


def write(wh: Warehouse, table: str, frame: pd.DataFrame, schema: pa.Schema,
          domain: str = DOMAIN) -> int:
    """Replace ``<domain>.<table>`` with ``frame``; return the row count."""
    arrow = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    return wh.load_arrow(domain, table, pa.RecordBatchReader.from_batches(
        schema, arrow.to_batches()))


def write_chunks(wh: Warehouse, table: str, frames: Iterator[pd.DataFrame],
                 schema: pa.Schema, prefix: str = "recs_v2") -> int:
    """Replace ``recommendations.<table>`` with the rows of ``frames``, in their order;
    return the row count.

    Each frame is written to a staging part before the next is asked for, and the table
    is replaced by the parts' union in one statement at the end, so readers never see it
    half written and a failed run leaves the last complete one.
    """
    parts: list[str] = []
    rows = 0
    for frame in frames:
        parts.append(f"{prefix}_part_{len(parts)}")
        rows += write(wh, parts[-1], frame.loc[:, schema.names], schema, domain=STAGING)
    if not parts:
        return write(wh, table, pd.DataFrame(columns=schema.names), schema)
    union = " UNION ALL ".join(f"SELECT * FROM {STAGING}.{part}" for part in parts)  # noqa: S608 - generated part names
    wh.execute(f"CREATE OR REPLACE TABLE {DOMAIN}.{table} AS {union}")
    for part in parts:
        wh.execute(f"DROP TABLE {STAGING}.{part}")
    return rows


def publish_v2(
    wh: Warehouse, as_of: datetime, store_tz: str, config: V2Config | None = None
) -> tuple[FusionModel | None, int]:
    """Learn v2 as of ``as_of`` and write ``recommendations.v2_scores``, ``v2_model`` and
    ``v2_calibration``; return the model and the number of scored rows.

    A shop whose last month holds no purchase of a candidate cannot teach anything yet:
    the tables are then written empty (model ``None``) and the API serves cold-start
    recommendations instead of failing the run.
    """
    config = config or V2Config()
    try:
        model = learn(wh, as_of, store_tz, config)
    except NotEnoughHistoryError:
        model = None
    scored = (score(wh, model, f"{DOMAIN}.candidates", config.keep_per_customer,
                    config.chunk_customers) if model else iter(()))
    rows = write_chunks(wh, "v2_scores", scored, V2_SCHEMA)
    weights = model.table() if model else pd.DataFrame(columns=MODEL_SCHEMA.names)
    write(wh, "v2_model", weights, MODEL_SCHEMA)
    write(wh, "v2_calibration", pd.DataFrame({
        "score": model.calibration_scores if model else [],
        "probability": model.calibration_probabilities if model else [],
    }), CALIBRATION_SCHEMA)
    return model, rows
