"""BG/NBD + Gamma-Gamma fit on the full CDNOW master file (23,570 customers): median of N runs.

    .venv/bin/python benchmarks/bench_clv.py --runs 7

The per-customer summary is built once, as ``sql/segments/clv_inputs.sql`` defines it
(purchase days, same-day transactions merged, time in days, average repeat-day value), over
the whole history 1997-01-01 .. 1998-06-30. Timed separately, each in this process:
``fit`` (both models, the target is < 1 s), and ``score`` (P(alive), expected purchases in
30/90/365 days and discounted 365-day CLV for every customer). Prints JSON and writes
``benchmarks/results/clv.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import pandas as pd

from analytics_pipeline.convert.cdnow import read_cdnow
from analytics_pipeline.models.clv import ClvConfig, fit_clv, predict

ROOT = Path(__file__).resolve().parents[1]
MASTER = ROOT / "tests" / "data" / "cdnow" / "CDNOW_master.txt"
END = pd.Timestamp("1998-06-30")


def summary(path: Path) -> pd.DataFrame:
    """One row per customer: frequency, t_x_days, tenure_days, monetary_value."""
    tx = read_cdnow(path)
    daily = (tx.assign(dollars=tx["cents"] / 100).groupby(["customer_id", "day"], as_index=False)
             ["dollars"].sum().sort_values(["customer_id", "day"]))
    daily["occasion"] = daily.groupby("customer_id").cumcount()
    by = daily.groupby("customer_id")["day"]
    out = pd.DataFrame({
        "frequency": by.count() - 1,
        "t_x_days": (by.max() - by.min()).dt.days,
        "tenure_days": (END - by.min()).dt.days,
    })
    repeats = daily[daily["occasion"] > 0]
    out["monetary_value"] = repeats.groupby("customer_id")["dollars"].mean()
    return out.reset_index()


def timed(runs: int, work: Any) -> tuple[list[float], Any]:
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    frame = summary(MASTER)
    config = ClvConfig()
    fit_s, model = timed(args.runs, lambda: fit_clv(frame, config))
    score_s, scores = timed(args.runs, lambda: predict(model, frame, config))
    bg, gg = model.purchases, model.spend
    result = {
        "data": f"CDNOW master, {len(frame)} customers, 1997-01-01..1998-06-30, time in days",
        "runs": args.runs,
        "fit_median_s": round(statistics.median(fit_s), 4),
        "fit_s": [round(s, 4) for s in fit_s],
        "score_median_s": round(statistics.median(score_s), 4),
        "target_fit_s": 1.0,
        "bgnbd": {**{k: round(v, 4) for k, v in vars(bg.params).items()},
                  "alpha_weeks": round(bg.params.alpha / 7, 4),
                  "log_likelihood": round(bg.log_likelihood, 2), "iterations": bg.iterations},
        "gamma_gamma": {**{k: round(v, 4) for k, v in vars(gg.params).items()},
                        "repeat_customers": gg.customers, "iterations": gg.iterations},
        "mean_predicted_clv_365d": round(float(scores["predicted_clv"].mean()), 2),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_average_1m": round(os.getloadavg()[0], 2)},
    }
    text = json.dumps(result, indent=2)
    print(text)
    out = Path(__file__).parent / "results" / "clv.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
