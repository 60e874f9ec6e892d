"""What observability costs: the output checks in a materialization, the request-id and
metrics middleware per request, and one ``/metrics`` scrape.

    .venv/bin/python benchmarks/bench_observability.py --runs 3   # -> results/observability.json

1. Materializes the tiny store ``--runs`` times in-process and reports the median wall
   time, the median seconds spent in the output-check steps and their share of the run.
2. Calls a bare ASGI app directly (the reference) and through RequestContextMiddleware +
   MetricsMiddleware, interleaved, 20,000 calls each per round; medians of per-call time.
3. Times ``GET /metrics`` (prometheus text incl. the step durations read from the
   snapshot and the outbox deliveries) on the materialized store, median of 200.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from analytics_pipeline.api.app import create_app
from analytics_pipeline.api.metrics import ApiMetrics, MetricsMiddleware
from analytics_pipeline.api.request_context import RequestContextMiddleware
from analytics_pipeline.generate import generate_store
from analytics_pipeline.run import materialize_all
from analytics_pipeline.settings import Settings

HERE = Path(__file__).resolve().parent
AS_OF = "2026-03-31T15:00:00"


def bench_checks(store: Path, work: Path, runs: int) -> dict[str, Any]:
    walls, checks = [], []
    for run in range(runs):
        url = f"duckdb:///{work}/run{run}/warehouse.duckdb"
        settings = Settings.from_env({}, source_dir=store, warehouse_url=url, as_of=AS_OF)
        started = time.perf_counter()
        summary = materialize_all(settings, lambda _line: None)
        walls.append(time.perf_counter() - started)
        assert summary.success and not summary.failed_checks, summary.failures
        checks.append(sum(s for step, s in summary.seconds.items() if "output_checks" in step))
    wall, spent = statistics.median(walls), statistics.median(checks)
    return {"runs": runs, "materialize_median_s": round(wall, 2),
            "output_check_steps_median_s": round(spent, 2),
            "output_check_share": round(spent / wall, 3), "settings": settings.warehouse_url}


async def _bare(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _calls(app: Any, count: int) -> float:
    scope = {"type": "http", "method": "GET", "path": "/x", "headers": [],
             "query_string": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(_message: Any) -> None:
        return None

    started = time.perf_counter()
    for _ in range(count):
        await app(scope, receive, send)
    return (time.perf_counter() - started) / count


def bench_middleware(rounds: int, count: int = 20_000) -> dict[str, Any]:
    wrapped = RequestContextMiddleware(MetricsMiddleware(_bare, ApiMetrics()))
    bare, full = [], []
    for _ in range(rounds):  # interleaved so drift in machine load hits both alike
        bare.append(asyncio.run(_calls(_bare, count)))
        full.append(asyncio.run(_calls(wrapped, count)))
    reference, measured = statistics.median(bare), statistics.median(full)
    return {"calls_per_round": count, "rounds": rounds,
            "bare_us": round(reference * 1e6, 2), "with_middleware_us": round(measured * 1e6, 2),
            "added_us": round((measured - reference) * 1e6, 2)}


def bench_scrape(warehouse_url: str, count: int = 200) -> dict[str, Any]:
    settings = Settings.from_env({}, warehouse_url=warehouse_url, redis_url=None)
    with TestClient(create_app(settings)) as client:
        times, health = [], []
        for _ in range(count):
            started = time.perf_counter()
            body = client.get("/metrics").text
            times.append(time.perf_counter() - started)
            started = time.perf_counter()
            client.get("/healthz")
            health.append(time.perf_counter() - started)
    return {"scrapes": count, "metrics_median_ms": round(statistics.median(times) * 1e3, 2),
            "healthz_median_ms": round(statistics.median(health) * 1e3, 2),
            "ratio_to_healthz": round(statistics.median(times) / statistics.median(health), 1),
            "step_series": body.count("pipeline_step_duration_seconds{")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "observability.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        generate_store("tiny", 7, work / "store", end_date=date(2026, 3, 31))
        checks = bench_checks(work / "store", work, args.runs)
        result = {"checks": checks, "middleware": bench_middleware(rounds=max(args.runs, 5)),
                  "scrape": bench_scrape(str(checks.pop("settings")))}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
