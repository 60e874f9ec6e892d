"""What exposure logging adds to ``GET /api/recommendations/v2/{id}``.

    .venv/bin/python benchmarks/bench_exposure_log.py [--calls 50000] [--runs 5]

Times ``Experiment.arm_for`` + ``log_exposure`` (10 product ids) per call while the
background writer flushes to a real SQLite feedback store every 0.2 s, against
``arm_for`` alone in the same process (the reference). Reports the medians over ``--runs``
of each run's median, p99 and p99.9 in microseconds, and the ratio of the p99s. Writes
``benchmarks/results/exposure-log.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from analytics_pipeline.recommendations.experiment import Experiment
from analytics_pipeline.recommendations.feedback_store import FeedbackStore

RESULT = Path(__file__).parent / "results" / "exposure-log.json"
PRODUCTS = [f"p{i:05d}" for i in range(10)]


def _quantiles(call: Callable[[str], object], calls: int) -> dict[str, float]:
    times = []
    for i in range(calls):
        customer = f"c{i}"
        start = time.perf_counter()
        call(customer)
        times.append(time.perf_counter() - start)
        if i % 1_000 == 0:
            time.sleep(0.005)  # idle gaps, as between requests, so flushes interleave
    times.sort()
    return {name: times[int(q * (len(times) - 1))] * 1e6
            for name, q in (("median", 0.5), ("p99", 0.99), ("p999", 0.999))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logged, reference = [], []
    with tempfile.TemporaryDirectory() as tmp:
        experiment = Experiment("bench", 0.5, FeedbackStore(Path(tmp) / "recs.sqlite"),
                                flush_seconds=0.2)
        for _ in range(args.runs):
            reference.append(_quantiles(experiment.arm_for, args.calls))
            logged.append(_quantiles(
                lambda c: experiment.log_exposure(c, experiment.arm_for(c), PRODUCTS),
                args.calls))
        experiment.close()
        written = sum(experiment.store.exposure_counts("bench").values())
    summary = {kind: {q: round(statistics.median(run[q] for run in runs), 2)
                      for q in ("median", "p99", "p999")}
               for kind, runs in (("arm_for_us", reference), ("arm_for_and_log_us", logged))}
    result = {**summary, "p99_ratio": round(summary["arm_for_and_log_us"]["p99"]
                                            / summary["arm_for_us"]["p99"], 2),
              "calls_per_run": args.calls, "runs": args.runs, "exposures_written": written}
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
