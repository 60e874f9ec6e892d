"""Offline evaluation of popularity, v1 and v2 on one temporal split.

Everything is computed as of ``cutoff = as_of - 30 days``: the SQL models, v2's weights
(learned on the window before the cutoff, see :func:`build.learn`) and the three top-k
lists. The test set is what each customer with a purchase history bought in the 30 days
after the cutoff that they had not bought before it. Every method's list is topped up
with the most popular products the customer does not own, as the API does, so a method
is not judged on how many slots it leaves empty.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from analytics_pipeline.models.recs import calibration_error, calibration_table
from analytics_pipeline.models.recs_metrics import RankingMetrics, ranking_metrics
from analytics_pipeline.recommendations.build import HORIZON, V2Config, build_at, learn, score
from analytics_pipeline.warehouse import Warehouse


@dataclass(frozen=True)
class RecsEvaluation:
    """Metrics per method, v2's calibration in the test window and its learned weights."""

    as_of: datetime
    cutoff: datetime
    metrics: list[RankingMetrics]
    calibration: pd.DataFrame
    weights: pd.DataFrame
    seconds: float

    def to_dict(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(),
            "cutoff": self.cutoff.isoformat(),
            "metrics": [m.as_dict() for m in self.metrics],
            "calibration": self.calibration.to_dict(orient="records"),
            "calibration_error": round(calibration_error(self.calibration), 4),
            "weights": self.weights.to_dict(orient="records"),
            "seconds": round(self.seconds, 1),
        }

    def to_text(self) -> str:
        k = self.metrics[0].k if self.metrics else 10
        lines = [f"temporal split: train up to {self.cutoff:%Y-%m-%d}, "
                 f"test {self.cutoff:%Y-%m-%d}..{self.as_of:%Y-%m-%d}",
                 f"method      customers  HitRate@{k}  Recall@{k}  NDCG@{k}  coverage"]
        lines += [f"{m.method:<10} {m.customers:>10,} {m.hit_rate:>10.4f} {m.recall:>9.4f} "
                  f"{m.ndcg:>8.4f} {m.coverage:>9.3f}" for m in self.metrics]
        lines += ["", "v2 calibration in the test window (shown items, equal-count bins)",
                  "confidence       items  mean conf.  bought"]
        lines += [f"{r.bin_low:.3f}-{r.bin_high:.3f} {r.items:>8,} {r.mean_confidence:>11.3f} "
                  f"{r.purchase_rate:>7.3f}" for r in self.calibration.itertuples()]
        lines.append(f"expected calibration error {calibration_error(self.calibration):.4f}")
        return "\n".join(lines)


def evaluate_recs(
    wh: Warehouse, store_tz: str, as_of: datetime | None = None, k: int = 10,
    config: V2Config | None = None,
) -> RecsEvaluation:
    """Build, learn and score everything as of ``as_of - 30 days`` and compare the methods
    on the 30 days that follow (``as_of`` defaults to the last order's time)."""
    started = time.perf_counter()
    config = config or V2Config()
    end = as_of or _last_order(wh)
    cutoff = end - HORIZON
    tables = build_at(wh, cutoff, store_tz, "recs_eval")
    model = learn(wh, cutoff, store_tz, config)
    v2 = pd.concat(chunk.loc[:, ["customer_id", "product_id", "confidence"]] for chunk in
                   score(wh, model, tables["candidates"], k, config.chunk_customers))
    # Table names come from build_at, never from input; values are bound.
    v1 = wh.fetch_df(f"SELECT customer_id, product_id FROM {tables['v1_scores']} "  # noqa: S608
                     "WHERE rank <= $k ORDER BY customer_id, rank", {"k": k})
    popular = [str(p) for (p,) in wh.fetch_all(
        f"SELECT product_id FROM {tables['popular']} ORDER BY rank")]  # noqa: S608
    owned, bought = _history(wh, cutoff, end)
    relevant = _new_purchases(owned, bought)
    catalogue = int(str(wh.fetch_all("SELECT COUNT(*) FROM ingest.products")[0][0]))
    lists = {"popularity": {}, "v1": _lists(v1), "v2": _lists(v2)}
    metrics = [
        ranking_metrics(name, _topped_up(ranked, relevant, owned, popular, k), relevant,
                        catalogue, k)
        for name, ranked in lists.items()
    ]
    shown = v2.merge(bought.assign(bought=True), on=["customer_id", "product_id"], how="left")
    calibration = calibration_table(shown["confidence"].to_numpy(dtype=np.float64),
                                    shown["bought"].notna().to_numpy(dtype=bool))
    return RecsEvaluation(end, cutoff, metrics, calibration, model.table(),
                          time.perf_counter() - started)


def _last_order(wh: Warehouse) -> datetime:
    (last,) = wh.fetch_all("SELECT MAX(ordered_at) FROM ingest.sales_lines")[0]
    if not isinstance(last, datetime):
        raise ValueError("no orders in the warehouse: materialize a store first")
    return last


def _history(wh: Warehouse, cutoff: datetime, end: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customer/product pairs bought up to ``cutoff``, and bought in ``(cutoff, end]``."""
    query = ("SELECT DISTINCT customer_id, product_id FROM ingest.sales_lines "
             "WHERE customer_id IS NOT NULL AND NOT is_return "
             "AND ordered_at > $start AND ordered_at <= $end")
    owned = wh.fetch_df(query, {"start": datetime.min.replace(tzinfo=cutoff.tzinfo),
                                "end": cutoff})
    bought = wh.fetch_df(query, {"start": cutoff, "end": end})
    return owned, bought


def _new_purchases(owned: pd.DataFrame, bought: pd.DataFrame) -> dict[str, set[str]]:
    """Per customer with a history, the products bought after the cutoff for the first time."""
    known = bought[bought["customer_id"].isin(set(owned["customer_id"]))]
    fresh = known.merge(owned, on=["customer_id", "product_id"], how="left", indicator=True)
    fresh = fresh[fresh["_merge"] == "left_only"]
    return {str(c): set(map(str, g)) for c, g in fresh.groupby("customer_id")["product_id"]}


def _lists(frame: pd.DataFrame) -> dict[str, list[str]]:
    return {str(c): list(map(str, g)) for c, g in frame.groupby("customer_id", sort=False)[
        "product_id"]}


def _topped_up(
    ranked: dict[str, list[str]], customers: dict[str, set[str]], owned: pd.DataFrame,
    popular: Sequence[str], k: int,
) -> dict[str, list[str]]:
    """Each customer's list, filled up to ``k`` with popular products they do not own."""
    has = {str(c): set(map(str, g)) for c, g in owned.groupby("customer_id")["product_id"]}
    out: dict[str, list[str]] = {}
    for customer in customers:
        top = ranked.get(customer, [])[:k]
        skip = has.get(customer, set()) | set(top)
        out[customer] = top + [p for p in popular if p not in skip][: k - len(top)]
    return out
