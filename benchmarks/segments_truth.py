"""Segments against the generator's ground truth on a generated store (default: demo).

    .venv/bin/python benchmarks/segments_truth.py [--scale demo] [--seed 42] [--work DIR]

Generates the store with the CLI, materializes the whole pipeline with the CLI (so the
segment assets run as Dagster runs them), then compares:

* At-risk + Inactive against the customers who truly dropped out (``customer_churn.csv``,
  ``alive_at_end = false``): precision and recall, also for each flag alone and for the
  primary segment;
* product-affinity segments against each customer's true preferred categories;
* the BG/NBD and Gamma-Gamma fits against the generating parameters (``manifest.json``;
  the generator's alpha is in shop-traffic-weighted days, so only r, a, b, p, q, gamma
  are comparable).

Prints JSON and writes ``benchmarks/results/segments-truth.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics_pipeline.models.clv import ClvConfig, fit_clv

BIN = Path(sys.executable).parent
END_DATE = "2026-03-31"


def precision_recall(flag: pd.Series, truth: pd.Series) -> dict[str, float]:
    hits = int((flag & truth).sum())
    return {"precision": round(hits / max(int(flag.sum()), 1), 3),
            "recall": round(hits / max(int(truth.sum()), 1), 3), "flagged": int(flag.sum())}


def materialize(scale: str, seed: int, work: Path) -> tuple[Path, Path]:
    store, db = work / scale, work / f"{scale}.duckdb"
    cli = str(BIN / "analytics-pipeline")
    run([cli, "generate", "--scale", scale, "--seed", str(seed), "--out", str(store),
         "--end-date", END_DATE])
    db.unlink(missing_ok=True)
    run([cli, "materialize", "--source", str(store), "--as-of", END_DATE,
         "--warehouse", f"duckdb:///{db}"])
    return work / f"{scale}_truth", db


def run(cmd: list[str]) -> None:
    """Run a CLI command quietly; on failure show the end of its output."""
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[1:3])} failed:\n{(done.stdout + done.stderr)[-3000:]}")


def compare(truth_dir: Path, db: Path) -> dict[str, Any]:
    with duckdb.connect(str(db), read_only=True) as con:
        segments = con.sql("SELECT * FROM segments.customer_segments").df()
        clv = con.sql("SELECT * FROM segments.customer_clv").df()
        inputs = con.sql("SELECT * FROM segments.clv_inputs").df()
    model = fit_clv(inputs, ClvConfig())
    churn = pd.read_csv(truth_dir / "customer_churn.csv")
    seg = segments.merge(churn, on="customer_id")
    churned = ~seg["alive_at_end"]
    liked = pd.read_csv(truth_dir / "product_affinity.csv")
    pairs = set(zip(liked["customer_id"], liked["category"], strict=True))
    tagged = segments.dropna(subset=["affinity_category"])
    manifest = json.loads((truth_dir / "manifest.json").read_text())
    return {
        "customers_with_purchases": len(seg),
        "true_churners": int(churned.sum()),
        "at_risk_or_inactive": precision_recall(seg["is_at_risk"] | seg["is_inactive"], churned),
        "at_risk": precision_recall(seg["is_at_risk"], churned),
        "inactive": precision_recall(seg["is_inactive"], churned),
        "primary_at_risk_or_inactive": precision_recall(
            seg["primary_segment"].isin(["at_risk", "inactive"]), churned),
        "affinity": {"tagged": len(tagged), "category_among_true_preferences": round(
            sum((c, k) in pairs for c, k in zip(tagged["customer_id"],
                                                tagged["affinity_category"], strict=True))
            / max(len(tagged), 1), 3)},
        "generator": {"bgnbd": manifest["bgnbd"], "gamma_gamma": manifest["gamma_gamma"]},
        "fitted": {"bgnbd_days": vars(model.purchases.params),
                   "gamma_gamma": vars(model.spend.params)},
        "clv_method": sorted(clv["clv_method"].unique()),
        "primary_segments": segments["primary_segment"].value_counts().to_dict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="segments-truth-"))
    truth_dir, db = materialize(args.scale, args.seed, work)
    result = {"scale": args.scale, "seed": args.seed, "as_of": END_DATE, **compare(truth_dir, db)}
    text = json.dumps(result, indent=2)
    print(text)
    out = Path(__file__).parent / "results" / "segments-truth.json"
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
