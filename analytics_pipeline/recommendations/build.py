"""Building recommendation tables as of any cutoff, learning v2 and scoring with it.

The SQL models in ``sql/recommendations/`` are built by the SQL-model assets as of the
run's ``as_of``. Learning needs the same candidates as of an earlier cutoff, with the
purchases that followed it as labels, so :func:`build_at` runs those same files as of
another time into the ``staging`` schema (never published to the API). The heavy
per-pair work stays in the warehouse; Python sees one row per candidate only to fit,
and the top candidates per customer to calibrate and explain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from analytics_pipeline.models.recs import (
    FEATURES,
    FusionConfig,
    FusionModel,
    NotEnoughHistoryError,
    fit_fusion,
)
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
    fusion
        How the weights and the calibration are fitted.
    """

    keep_per_customer: int = 30
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


def labelled_candidates(wh: Warehouse, candidates: str, cutoff: datetime) -> pd.DataFrame:
    """Candidates of table ``candidates`` (built as of ``cutoff``) with ``bought``: whether
    the customer bought the product in the :data:`HORIZON` after the cutoff for the first
    time (``repurchase = 0``: recommendations are for discovering products, a product
    they buy anyway is no win; the model learns how rarely that holds for owned ones)."""
    return wh.fetch_df(
        "SELECT c.*, b.product_id IS NOT NULL AND c.repurchase = 0 AS bought "  # noqa: S608 - staging table name, values bound
        f"FROM {candidates} AS c "
        "LEFT JOIN (SELECT DISTINCT customer_id, product_id FROM ingest.sales_lines "
        "  WHERE NOT is_return AND ordered_at > $cutoff AND ordered_at <= $until) AS b "
        "ON b.customer_id = c.customer_id AND b.product_id = c.product_id",
        {"cutoff": cutoff, "until": cutoff + HORIZON},
    )


def learn(
    wh: Warehouse, as_of: datetime, store_tz: str, config: FusionConfig, prefix: str = "recs_fit"
) -> FusionModel:
    """Fit v2 on candidates as of ``as_of - HORIZON`` and what was bought up to ``as_of``.

    The training window lies wholly before ``as_of``, so the model never sees the period
    it is then used to predict (a temporal validation split).
    """
    cutoff = as_of - HORIZON
    tables = build_at(wh, cutoff, store_tz, prefix, wanted=("candidates",))
    frame = labelled_candidates(wh, tables["candidates"], cutoff)
    return fit_fusion(frame, frame["bought"].to_numpy(dtype=bool), config)


def score(wh: Warehouse, model: FusionModel, candidates: str, keep: int) -> pd.DataFrame:
    """The ``keep`` best candidates per customer, with score, confidence, rank, each
    signal's contribution (``<signal>_contribution``) and the customer's segment (the
    category of their strongest affinity, which picks their time-of-day pattern)."""
    terms = " + ".join(f"$w_{f} * ({f} - $m_{f}) / $s_{f}" for f in model.features)
    params: dict[str, object] = {"intercept": model.intercept, "keep": keep}
    for name, weight, mean, scale in zip(
        model.features, model.weights, model.means, model.scales, strict=True
    ):
        params |= {f"w_{name}": float(weight), f"m_{name}": float(mean), f"s_{name}": float(scale)}
    frame = wh.fetch_df(
        f"SELECT *, $intercept + {terms} AS score FROM {candidates} "  # noqa: S608 - feature names, values bound
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY score DESC, product_id)"
        " <= $keep ORDER BY customer_id, score DESC, product_id",
        params,
    )
    frame["rank"] = frame.groupby("customer_id").cumcount() + 1
    frame["confidence"] = model.confidence(frame["score"].to_numpy(dtype=np.float64))
    contributions = model.contributions(frame)
    for i, name in enumerate(model.features):
        frame[f"{name}_contribution"] = contributions[:, i]
    strongest = frame.sort_values(["customer_id", "category_affinity"], ascending=[True, False])
    segment = strongest.drop_duplicates("customer_id").set_index("customer_id")["category"]
    frame["segment"] = frame["customer_id"].map(segment)
    return frame


def write(wh: Warehouse, table: str, frame: pd.DataFrame, schema: pa.Schema) -> int:
    """Replace ``recommendations.<table>`` with ``frame``; return the row count."""
    arrow = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    return wh.load_arrow(DOMAIN, table, pa.RecordBatchReader.from_batches(
        schema, arrow.to_batches()))


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
        model = learn(wh, as_of, store_tz, config.fusion)
    except NotEnoughHistoryError:
        model = None
    scored = (score(wh, model, f"{DOMAIN}.candidates", config.keep_per_customer)
              if model else pd.DataFrame(columns=V2_SCHEMA.names))
    rows = write(wh, "v2_scores", scored.loc[:, V2_SCHEMA.names], V2_SCHEMA)
    weights = model.table() if model else pd.DataFrame(columns=MODEL_SCHEMA.names)
    write(wh, "v2_model", weights, MODEL_SCHEMA)
    write(wh, "v2_calibration", pd.DataFrame({
        "score": model.calibration_scores if model else [],
        "probability": model.calibration_probabilities if model else [],
    }), CALIBRATION_SCHEMA)
    return model, rows
