"""The segments refresh (RFM + CLV + segments + clusters + republish): median of N runs,
and the ratio to a pandas RFM of the same orders in the same session.

    .venv/bin/python benchmarks/bench_segments_refresh.py --work /tmp/bench-segments --runs 5
    .venv/bin/python benchmarks/bench_segments_refresh.py --scale large \\
        --warehouse /tmp/seg/large.duckdb --runs 3

Demo (the default): uses bench_api.py's preparation (generate + materialize the demo store
once) and times ``POST /api/segments/refresh`` on a real ``analytics-pipeline serve``.
With ``--warehouse`` (a materialized store, e.g. the large one: 1M customers, 10M orders)
it calls the same refresh in this process, which also gives the time of every step.
Either way the pandas reference (``rfm_pandas.py``) then computes the RFM scores and cells
from the warehouse's ``revenue.customer_orders`` (read once, untimed) and must agree with
``segments.rfm`` on a random sample of customers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import BIN, HERE, KEY, prepare, server
from rfm_pandas import load_orders, mismatches, pandas_rfm

from analytics_pipeline.api.segments_refresh import refresh_segments
from analytics_pipeline.serving.snapshot import current_snapshot
from analytics_pipeline.settings import Settings
from analytics_pipeline.warehouse import DuckDBWarehouse

PORT = 8794
# Steps of the refresh reported on their own; every other SQL model and the CLV count
# as "segments".
GROUPS = {"rfm": ("rfm",), "clusters": ("clusters",), "publish": ("publish",)}


def over_http(warehouse: Path, runs: int) -> dict[str, object]:
    """Median wall time of ``POST /api/segments/refresh`` on a served warehouse."""
    env = {**os.environ, "ANALYTICS_WAREHOUSE": f"duckdb:///{warehouse}",
           "ANALYTICS_API_KEYS": f"{KEY}=read+write"}
    env.pop("REDIS_URL", None)
    cmd = [str(BIN / "analytics-pipeline"), "serve", "--port", str(PORT)]
    took = []
    with server(cmd, env, PORT) as (base, _):
        for _ in range(runs):
            started = time.perf_counter()
            answer = httpx.post(f"{base}/api/segments/refresh", timeout=600,
                                headers={"Authorization": f"Bearer {KEY}"})
            answer.raise_for_status()
            took.append(time.perf_counter() - started)
    return {"runs": took, "median_s": statistics.median(took)}


def in_process(warehouse: Path, runs: int) -> dict[str, object]:
    """Median wall time of :func:`refresh_segments` and of each of its steps."""
    settings = Settings.from_env(warehouse_url=f"duckdb:///{warehouse}")
    took, steps = [], []
    for _ in range(runs):
        outcome = refresh_segments(settings, batch_as_of(settings))
        took.append(outcome.seconds)
        steps.append(outcome.steps)
    # A step a run skipped (a table it kept) took no time in that run.
    names = dict.fromkeys(name for s in steps for name in s)
    median_steps = {name: statistics.median(s.get(name, 0.0) for s in steps)
                    for name in names}
    grouped = {group: sum(median_steps[n] for n in names) for group, names in GROUPS.items()}
    grouped["segments"] = sum(v for n, v in median_steps.items()
                              if not any(n in names for names in GROUPS.values()))
    return {"runs": took, "median_s": statistics.median(took), "rows": outcome.rows,
            "breakdown_s": grouped, "steps_median_s": median_steps}


def batch_as_of(settings: Settings) -> datetime:
    """The published snapshot's as_of, as the endpoint takes it."""
    snapshot = current_snapshot(settings.serving_path)
    if snapshot is None:
        raise SystemExit(f"no published snapshot in {settings.serving_path}: materialize first")
    with duckdb.connect(str(snapshot), read_only=True) as conn:
        row = conn.execute("SELECT as_of FROM manifest").fetchone()
    assert row is not None
    value: datetime = row[0]
    return value


def pandas_reference(warehouse: Path, runs: int, sample: int) -> dict[str, object]:
    """Median time of the pandas RFM on in-memory orders, and its disagreements with SQL."""
    wh = DuckDBWarehouse(warehouse, "UTC", read_only=True)
    try:
        started = time.perf_counter()
        orders, as_of_day = load_orders(wh)
        load_s = time.perf_counter() - started
        took = []
        for _ in range(runs):
            started = time.perf_counter()
            reference = pandas_rfm(orders, as_of_day)
            took.append(time.perf_counter() - started)
        differ = mismatches(wh, reference, sample, seed=0)
    finally:
        wh.close()
    return {"orders": len(orders), "customers": len(reference), "load_s": load_s,
            "runs": took, "median_s": statistics.median(took),
            "checked_customers": min(sample, len(reference)), "mismatches": differ}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["demo", "large"], default="demo",
                        help="label of the result file; large needs --warehouse")
    parser.add_argument("--warehouse", type=Path,
                        help="a materialized DuckDB file, refreshed in this process")
    parser.add_argument("--work", type=Path,
                        default=Path(tempfile.gettempdir()) / "bench-segments")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--check-sample", type=int, default=20_000,
                        help="customers whose SQL and pandas RFM are compared")
    args = parser.parse_args()
    if args.warehouse is not None:
        warehouse = args.warehouse.resolve()
        refresh = in_process(warehouse, args.runs)
    elif args.scale == "demo":
        warehouse = prepare(args.work)
        refresh = over_http(warehouse, args.runs)
    else:
        parser.error("--scale large needs --warehouse (see benchmarks/README.md)")
    reference = pandas_reference(warehouse, args.runs, args.check_sample)
    ratio = float(refresh["median_s"]) / float(reference["median_s"])  # type: ignore[arg-type]
    result = {"scale": args.scale, "refresh": refresh, "pandas_rfm": reference,
              "refresh_over_pandas_rfm": ratio,
              "target_s": 2.0 if args.scale == "demo" else 10.0}
    print(json.dumps(result, indent=2))
    (HERE / "results").mkdir(exist_ok=True)
    name = "segments-refresh" + ("" if args.scale == "demo" else f"-{args.scale}")
    (HERE / "results" / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    if reference["mismatches"]:
        raise SystemExit(f"SQL and pandas RFM disagree on {reference['mismatches']} customers")


if __name__ == "__main__":
    main()
