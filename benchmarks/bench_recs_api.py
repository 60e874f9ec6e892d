"""GET /api/recommendations/v2/{id} latency, and the recommendation assets' build time.

    .venv/bin/python benchmarks/bench_recs_api.py --work /tmp/bench-recs --runs 3

Steps: generate the demo store (seed 42) and materialize it (once; reused from ``--work``).
Then, on that warehouse, rebuild the recommendation tables as the assets do (every
``sql/recommendations`` model, then v2's learning and scoring) ``--build-runs`` times and
report the median seconds. Then serve the API with Redis (``analytics-pipeline serve``)
and the bare FastAPI + Redis floor (``floor_app.py``) serving the same bytes:
sequential latency from one client, cached (one customer, repeated) and uncached (each
request a new customer, so a miss), every request through the real path (arm lookup and
exposure logging); then wrk at 32 connections against the cached path and the floor,
interleaved ``--runs`` times: medians of p99 and the ratio API / floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis
from bench_api import BIN, HEADERS, HERE, KEY, REDIS_URL, server, wrk
from bench_recs_build import build_times as rebuild

from analytics_pipeline.serving.snapshot import publish_snapshot
from analytics_pipeline.warehouse import DuckDBWarehouse

AS_OF = dt.datetime(2026, 11, 20, 23, 0, tzinfo=dt.UTC)
PATH = "/api/recommendations/v2/{customer}?limit=10&context_time=2026-11-20T18:00:00"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-recs")
    parser.add_argument("--runs", type=int, default=3, help="wrk runs per arm")
    parser.add_argument("--build-runs", type=int, default=1,
                        help="0: skip the rebuild and serve what is published")
    parser.add_argument("--seconds", type=int, default=10, help="length of one wrk run")
    parser.add_argument("--requests", type=int, default=500, help="sequential requests")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    warehouse = prepare(args.work)
    result: dict[str, object] = {
        "build": build_times(warehouse, args.build_runs) if args.build_runs else None}
    redis.Redis.from_url(REDIS_URL).flushdb()  # the benchmark's own db: misses stay misses
    env = {**os.environ, "ANALYTICS_WAREHOUSE": f"duckdb:///{warehouse}",
           "REDIS_URL": REDIS_URL, "ANALYTICS_API_KEYS": f"{KEY}=read+write"}
    with server([str(BIN / "analytics-pipeline"), "serve", "--port", "8793"], env, 8793) as (
            api, _):
        customers = customer_ids(warehouse, args.requests + 1)
        result["sequential"] = sequential(api, customers, args.requests)
        floor_cmd = [str(BIN / "uvicorn"), "floor_app:app", "--app-dir", str(HERE),
                     "--port", "8794", "--log-level", "warning"]
        with server(floor_cmd, {**env, "FLOOR_REDIS_URL": REDIS_URL}, 8794) as (floor, _):
            result["concurrent_32"] = concurrent(api, floor, customers[0], args)
    result["load_average"] = os.getloadavg()
    print(json.dumps(result, indent=2))
    out = HERE / "results" / "recs-api.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


def prepare(work: Path) -> Path:
    store, warehouse = work / "demo", work / "warehouse.duckdb"
    cli = str(BIN / "analytics-pipeline")
    if not (store / "orders.csv").exists():
        subprocess.run([cli, "generate", "--scale", "demo", "--seed", "42", "--out", str(store),
                        "--end-date", AS_OF.date().isoformat()], check=True,
                       stdout=subprocess.DEVNULL)
    if not warehouse.exists():
        subprocess.run([cli, "materialize", "--source", str(store), "--warehouse",
                        f"duckdb:///{warehouse}", "--as-of", AS_OF.isoformat()], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return warehouse


def build_times(warehouse: Path, runs: int) -> dict[str, object]:
    """Seconds to rebuild every recommendation table as the assets do (median of runs),
    then publish them: the API serves the tables just rebuilt."""
    result = rebuild(warehouse, AS_OF, runs, "8GB", os.cpu_count() or 1)
    wh = DuckDBWarehouse(warehouse, "UTC")
    try:
        publish_snapshot(wh, warehouse.parent / "serving", AS_OF, 0)
    finally:
        wh.close()
    return result


def customer_ids(warehouse: Path, count: int) -> list[str]:
    wh = DuckDBWarehouse(warehouse, "UTC", read_only=True)
    try:
        rows = wh.fetch_all("SELECT DISTINCT customer_id FROM recommendations.v2_scores "
                            "ORDER BY 1 LIMIT $n", {"n": count})
    finally:
        wh.close()
    return [str(c) for (c,) in rows]


def sequential(api: str, customers: list[str], requests: int) -> dict[str, dict[str, float]]:
    """One client: the same customer again and again (cached), then new ones (uncached)."""
    report = {}
    with httpx.Client(base_url=api, headers=HEADERS, timeout=30) as client:
        client.get(PATH.format(customer=customers[0])).raise_for_status()  # fill the cache
        for name, targets in {"cached": [customers[0]] * requests,
                              "uncached": customers[1:requests + 1]}.items():
            times = []
            for customer in targets:
                started = time.perf_counter()
                client.get(PATH.format(customer=customer)).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            report[name] = {"median_ms": statistics.median(times),
                            "p99_ms": times[int(len(times) * 0.99) - 1],
                            "requests": len(times)}
    return report


def concurrent(api: str, floor: str, customer: str, args: argparse.Namespace) -> dict[str, object]:
    """wrk on the cached path and on the floor serving its bytes, interleaved."""
    path = PATH.format(customer=customer)
    body = httpx.get(api + path, headers=HEADERS, timeout=30).content
    redis.Redis.from_url(REDIS_URL).set("floor:recs", body)
    measured: dict[str, list[tuple[float, float]]] = {"api": [], "floor": []}
    for _ in range(args.runs):
        measured["api"].append(wrk(api + path, args.seconds))
        measured["floor"].append(wrk(f"{floor}/floor/recs", args.seconds))
    medians = {arm: {"requests_per_second": statistics.median(r for r, _ in runs),
                     "p99_ms": statistics.median(p for _, p in runs)}
               for arm, runs in measured.items()}
    return {**medians, "p99_ratio": medians["api"]["p99_ms"] / medians["floor"]["p99_ms"],
            "throughput_ratio": medians["api"]["requests_per_second"]
            / medians["floor"]["requests_per_second"], "bytes": len(body)}


if __name__ == "__main__":
    main()
