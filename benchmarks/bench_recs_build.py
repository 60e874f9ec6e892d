"""Seconds per recommendation asset and the process's peak RSS, on a given warehouse.

    .venv/bin/python benchmarks/bench_recs_build.py --warehouse /tmp/recscale/large.duckdb \
        --as-of 2026-03-31T23:00:00+00:00 --label large --runs 1

Rebuilds the recommendation tables of an already materialized warehouse (work on a copy:
they are replaced) as the assets do: every ``sql/recommendations`` model in dependency
order, then v2's learning and scoring. Reports the median seconds of each step over
``--runs``, CPU seconds, and the peak resident memory of this process (DuckDB runs in
it), under the given DuckDB ``--memory-limit`` and ``--threads``. The result is merged
into ``benchmarks/results/recs-build.json`` under ``--label`` (e.g. demo, large).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import time
from pathlib import Path

from analytics_pipeline.recommendations.build import publish_v2
from analytics_pipeline.warehouse import DuckDBWarehouse
from analytics_pipeline.warehouse.sql_models import discover, in_dependency_order

OUT = Path(__file__).parent / "results" / "recs-build.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--as-of", type=dt.datetime.fromisoformat, required=True)
    parser.add_argument("--label", required=True, help="key of this store in the result file")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--memory-limit", default="8GB", help="DuckDB memory_limit")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    result = build_times(args.warehouse, args.as_of, args.runs, args.memory_limit,
                         args.threads)
    print(json.dumps(result, indent=2))
    merged = json.loads(OUT.read_text()) if OUT.exists() else {}
    merged[args.label] = result
    OUT.write_text(json.dumps(merged, indent=2) + "\n")


def build_times(warehouse: Path, as_of: dt.datetime, runs: int, memory_limit: str,
                threads: int) -> dict[str, object]:
    """Median seconds per step over ``runs`` rebuilds, CPU seconds and peak RSS."""
    steps: dict[str, list[float]] = {}
    cpu = []  # CPU seconds, as a measure the shared machine's load does not inflate
    wh = DuckDBWarehouse(warehouse, "UTC")
    wh.execute(f"SET memory_limit = '{memory_limit}'")
    wh.execute(f"SET threads = {int(threads)}")
    wh.ensure_schema("recommendations")
    try:
        for _ in range(runs):
            cpu_start = time.process_time()
            params = {"as_of": as_of, "store_tz": "UTC"}
            for model in in_dependency_order(discover("recommendations")):
                started = time.perf_counter()
                wh.execute(model.create_statement, params)
                steps.setdefault(model.name, []).append(time.perf_counter() - started)
                print(model.name, round(steps[model.name][-1], 1), flush=True)
            started = time.perf_counter()
            publish_v2(wh, as_of, "UTC")
            steps.setdefault("v2 (learn + score)", []).append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_start)
        rows = {name: wh.fetch_all(f"SELECT COUNT(*) FROM recommendations.{name}")[0][0]  # noqa: S608 - model names
                for name in ("co_purchase", "v1_scores", "candidates", "v2_scores")}
    finally:
        wh.close()
    medians = {name: round(statistics.median(times), 2) for name, times in steps.items()}
    totals = [sum(times[i] for times in steps.values()) for i in range(runs)]
    return {"steps_seconds": medians, "total_seconds": round(statistics.median(totals), 1),
            "cpu_seconds": round(statistics.median(cpu), 1),
            # ru_maxrss is in KiB on Linux.
            "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
            "rows": rows, "memory_limit": memory_limit, "threads": threads, "runs": runs,
            "cores": os.cpu_count(), "load_average_after": os.getloadavg()}


if __name__ == "__main__":
    main()
