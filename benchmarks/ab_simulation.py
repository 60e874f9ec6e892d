"""A/B simulation on the demo store: does the experiment framework detect v2's lift?

    .venv/bin/python benchmarks/ab_simulation.py [--work DIR] [--days 28] [--aa-runs 20]

Generates and materializes the demo store with the CLI into ``--work`` (reused when it
already holds ``warehouse.duckdb``), reads the top-10 lists of ``recommendations.v1_scores``
and ``v2_scores`` (customers without a list get ``recommendations.popular``, as the API's
cold start does), then simulates ``--days`` days of visits. A visiting customer is shown
the list of the arm :class:`~analytics_pipeline.recommendations.experiment.Experiment`
assigns, and buys each shown product with probability ``--base-rate`` x their true weight
for its category (``product_affinity.csv`` of the generator's truth; 0 outside the
customer's preferred categories). Exposures and purchase feedback go through the real
``FeedbackStore`` and the readout is the API's :func:`performance`, so the daily
always-valid test runs exactly as ``GET /api/recommendations/v2/performance`` runs it.

An A/A run (both arms shown v1) is repeated ``--aa-runs`` times with other experiment
names: the sequential test should call a winner in at most ``alpha`` of them. Without a
``v2_scores`` table, the treatment is the customer's most-bought category's popular
products, and the result says so. Writes ``benchmarks/results/ab-simulation.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics_pipeline.recommendations.experiment import Experiment
from analytics_pipeline.recommendations.feedback_store import FeedbackEvent, FeedbackStore
from analytics_pipeline.recommendations.performance import performance
from analytics_pipeline.settings.recommendations import RecommendationSettings

BIN = Path(sys.executable).parent
END_DATE = "2026-03-31"
RESULT = Path(__file__).parent / "results" / "ab-simulation.json"
TOP_CATEGORY_POPULAR = """
WITH bought AS (
  SELECT customer_id, category, COUNT(*) AS n FROM ingest.sales_lines
  WHERE customer_id IS NOT NULL AND NOT is_return GROUP BY ALL
), top AS (SELECT customer_id, arg_max(category, n) AS category FROM bought GROUP BY ALL)
SELECT t.customer_id, p.product_id, ROW_NUMBER() OVER (PARTITION BY t.customer_id
  ORDER BY p.rank) AS rank
FROM top t JOIN recommendations.popular p USING (category)
"""


@dataclasses.dataclass(frozen=True)
class Store:
    """The simulated shop: customers, their true tastes and each arm's top-k lists."""

    customers: list[str]
    product_ids: list[str]
    prices: np.ndarray  # per product index
    prob: dict[str, np.ndarray]  # arm source -> (customers, k) purchase probabilities
    items: dict[str, np.ndarray]  # arm source -> (customers, k) product indices
    treatment_source: str


def prepare(work: Path) -> tuple[Path, Path]:
    """The demo store's folder and warehouse, generated and materialized if absent."""
    store, warehouse = work / "store", work / "wh" / "warehouse.duckdb"
    if not warehouse.exists():
        subprocess.run([str(BIN / "analytics-pipeline"), "generate", "--scale", "demo",
                        "--seed", "42", "--out", str(store), "--end-date", END_DATE], check=True)
        subprocess.run([str(BIN / "analytics-pipeline"), "materialize", "--source", str(store),
                        "--warehouse", f"duckdb:///{warehouse}", "--as-of",
                        f"{END_DATE}T23:00:00"], check=True)
    return store, warehouse


def _lists(con: duckdb.DuckDBPyConnection, sql: str, k: int) -> pd.DataFrame:
    # ``sql`` is one of this module's constant queries, never user input.
    query = f"SELECT customer_id, product_id, rank FROM ({sql}) WHERE rank <= $k"  # noqa: S608
    return con.execute(query, {"k": k}).df()


def load(store_dir: Path, warehouse: Path, base_rate: float, k: int) -> Store:
    products = pd.read_csv(store_dir / "products.csv", dtype={"product_id": str})
    truth = pd.read_csv(store_dir.with_name(store_dir.name + "_truth") / "product_affinity.csv")
    customers = sorted(truth.customer_id.unique())
    row = {c: i for i, c in enumerate(customers)}
    col = {p: j for j, p in enumerate(products.product_id)}
    categories = sorted(products.category.fillna("uncategorized").unique())
    weight = np.zeros((len(customers), len(categories)))
    weight[truth.customer_id.map(row), truth.category.map(categories.index)] = truth.weight
    product_category = products.category.fillna("uncategorized").map(categories.index).to_numpy()
    with tempfile.TemporaryDirectory() as tmp:
        # A copy: the warehouse may be locked by a run, and the simulation only reads.
        copy = Path(tmp) / "warehouse.duckdb"
        copy.write_bytes(warehouse.read_bytes())
        con = duckdb.connect(str(copy), read_only=True)
        tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables"
                                            " WHERE table_schema = 'recommendations'").fetchall()}
        treatment_source = ("recommendations.v2_scores" if "v2_scores" in tables
                            else "top-category popular (v2_scores not materialized)")
        popular = _lists(con, "SELECT product_id, rank, NULL AS customer_id"
                         " FROM recommendations.popular", k).product_id.map(col).to_numpy()
        frames = {"v1": _lists(con, "SELECT * FROM recommendations.v1_scores", k),
                  "v2": _lists(con, "SELECT * FROM recommendations.v2_scores"
                               if "v2_scores" in tables else TOP_CATEGORY_POPULAR, k)}
        con.close()
    items, prob = {}, {}
    for arm, frame in frames.items():
        grid = np.tile(popular[:k], (len(customers), 1))  # cold start: the popular list
        known = frame[frame.customer_id.isin(row)]
        grid[known.customer_id.map(row), known["rank"].to_numpy() - 1] = \
            known.product_id.map(col).to_numpy()
        items[arm] = grid
        prob[arm] = base_rate * np.take_along_axis(weight, product_category[grid], axis=1)
    return Store(customers, products.product_id.tolist(), products.unit_price.to_numpy(float),
                 prob, items, treatment_source)


def simulate(store: Store, name: str, treatment: str, days: int, visit_rate: float,
             seed: int) -> dict[str, Any]:
    """One experiment of ``days`` days through the framework; the readout as a dict."""
    rng = np.random.default_rng(seed)
    settings = RecommendationSettings(experiment_name=name)
    with tempfile.TemporaryDirectory() as tmp:
        feedback = FeedbackStore(Path(tmp) / "recs.sqlite")
        today = [""]
        experiment = Experiment(name, settings.v2_share, feedback, flush_seconds=3600,
                                clock=lambda: today[0])
        arms = np.array([experiment.arm_for(c) for c in store.customers])
        source = {"v1": "v1", "v2": treatment}
        for day in range(days):
            today[0] = f"2026-04-{day + 1:02d}T10:00:00.000+00:00"
            for i in np.flatnonzero(rng.random(len(store.customers)) < visit_rate):
                arm, customer = arms[i], store.customers[i]
                shown = store.items[source[arm]][i]
                experiment.log_exposure(customer, arm, [store.product_ids[j] for j in shown])
                bought = shown[rng.random(shown.size) < store.prob[source[arm]][i]]
                for n, j in enumerate(bought):
                    feedback.add_feedback(name, FeedbackEvent(
                        f"{customer}-{day}-{n}", customer, arm, "purchase", store.product_ids[j],
                        f"2026-04-{day + 1:02d}T11:00:00.000+00:00", f"{store.prices[j]:.2f}"))
            experiment.flush()
        experiment.close()
        report = performance(feedback, settings)
    expected = {arm: float((1 - np.prod(1 - store.prob[source[arm]], axis=1)).mean())
                for arm in ("v1", "v2")}
    return {"experiment": name, "treatment": treatment,
            "true_visit_conversion": expected,
            "true_visit_conversion_lift": expected["v2"] / expected["v1"] - 1,
            "readout": dataclasses.asdict(report)}


def summary(run: dict[str, Any]) -> str:
    readout = run["readout"]
    seq, conv = readout["sequential"], readout["conversion"]
    return (f"{run['experiment']}: lift {conv['relative_lift']:+.1%} "
            f"[{conv['ci_low']:+.1%}, {conv['ci_high']:+.1%}] p={conv['p_value']:.2g}; "
            f"sequential {seq['decision']} on day {seq['decided_at_look']}; "
            f"SRM p={readout['sample_ratio']['p_value']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("data/ab-simulation"))
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--visit-rate", type=float, default=0.15, help="daily visit chance")
    parser.add_argument("--base-rate", type=float, default=0.01,
                        help="purchase chance of a shown product at category weight 1")
    parser.add_argument("--ab-runs", type=int, default=10)
    parser.add_argument("--aa-runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    store = load(*prepare(args.work), args.base_rate, k=10)
    print(f"treatment: {store.treatment_source}")
    # Each run is a new experiment name: a fresh random split of the same customers.
    ab = [simulate(store, f"ab-{n}", "v2", args.days, args.visit_rate, args.seed + n)
          for n in range(args.ab_runs)]
    aa = [simulate(store, f"aa-{n}", "v1", args.days, args.visit_rate, args.seed + 1000 + n)
          for n in range(args.aa_runs)]
    for run in ab + aa:
        print(summary(run))
    decisions = [r["readout"]["sequential"] for r in ab]
    detected = [d["decided_at_look"] for d in decisions if d["decision"] == "treatment_better"]
    false_positives = sum(r["readout"]["sequential"]["decision"] != "continue" for r in aa)
    result = {
        "config": {**{k: str(v) for k, v in vars(args).items()}, "top_k": 10,
                   "customers": len(store.customers), "treatment_source": store.treatment_source},
        "ab_runs": len(ab),
        "ab_detected_v2_better": len(detected),
        "ab_median_decision_day": float(np.median(detected)) if detected else None,
        "ab_median_conversion_lift": float(np.median(
            [r["readout"]["conversion"]["relative_lift"] for r in ab])),
        "ab_median_revenue_lift": float(np.median(
            [r["readout"]["revenue_per_exposed_customer"]["relative_lift"] for r in ab])),
        "true_visit_conversion_lift": ab[0]["true_visit_conversion_lift"],
        "ab_first_run": ab[0],
        "ab": [{"experiment": r["experiment"], "sequential": r["readout"]["sequential"],
                "conversion": r["readout"]["conversion"],
                "revenue_per_exposed_customer": r["readout"]["revenue_per_exposed_customer"]}
               for r in ab],
        "aa_runs": len(aa),
        "aa_false_positives": false_positives,
        "aa_fixed_horizon_p_below_alpha": sum(r["readout"]["conversion"]["p_value"] <= 0.05
                                              for r in aa),
        "aa": [{"experiment": r["experiment"], "sequential": r["readout"]["sequential"],
                "conversion": r["readout"]["conversion"]} for r in aa],
        "seconds": round(time.perf_counter() - started, 1),
    }
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"A/B: v2 detected in {len(detected)}/{len(ab)}; "
          f"A/A: {false_positives}/{len(aa)} sequential false positives -> {RESULT}")


if __name__ == "__main__":
    main()
