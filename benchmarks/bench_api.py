"""The revenue API under load, against a bare FastAPI + Redis floor measured in the same run.

    .venv/bin/python benchmarks/bench_api.py --work /tmp/bench-api --runs 3

Steps: generate and materialize the demo store (once; reused from ``--work``), start
``analytics-pipeline serve`` with ``REDIS_URL`` set, and a floor app (``floor_app.py``)
that returns the very same response bytes straight from Redis. Both run as one uvicorn
process; ``wrk`` (2 threads, 32 connections) loads them from a second process on loopback,
interleaved, ``--runs`` times each. Reported: medians of req/s and p99, and the ratios
API / floor. Then the uncached latency (every request a new ``as_of``, one client) and the
time a ``POST /api/orders`` takes to show on ``/api/revenue/current`` (100 orders).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import httpx
import redis

BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
KEY = "bench-key"
HEADERS = {"Authorization": f"Bearer {KEY}"}
REDIS_URL = "redis://127.0.0.1:6379/14"
WORK = Path(tempfile.gettempdir()) / "bench-api"
CACHED_PATHS = {"current": "/api/revenue/current", "trends": "/api/revenue/trends?window=30d"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="length of one wrk run")
    parser.add_argument("--orders", type=int, default=100, help="live orders to time")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    warehouse = prepare(args.work)
    env = {**os.environ, "ANALYTICS_WAREHOUSE": f"duckdb:///{warehouse}",
           "REDIS_URL": REDIS_URL, "ANALYTICS_API_KEYS": f"{KEY}=read+write"}
    api_cmd = [str(BIN / "analytics-pipeline"), "serve", "--port", "8791"]
    with server(api_cmd, env, 8791) as (api, _):
        floor_env = {**env, "FLOOR_REDIS_URL": REDIS_URL}
        floor_cmd = [str(BIN / "uvicorn"), "floor_app:app", "--app-dir", str(HERE),
                     "--port", "8792", "--log-level", "warning"]
        with server(floor_cmd, floor_env, 8792) as (floor, _):
            result = {
                "load": load(api, floor, args.runs, args.seconds),
                "uncached": uncached(api),
                "live_order_seconds": live_latency(api, args.orders),
            }
    print(json.dumps(result, indent=2))
    out = HERE / "results" / "api.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


def prepare(work: Path) -> Path:
    store, warehouse = work / "demo", work / "warehouse.duckdb"
    if not (store / "orders.csv").exists():
        run(["generate", "--scale", "demo", "--seed", "42", "--out", str(store)])
    if not warehouse.exists():
        run(["materialize", "--source", str(store), "--warehouse", f"duckdb:///{warehouse}"])
    return warehouse


def run(args: list[str]) -> None:
    subprocess.run([str(BIN / "analytics-pipeline"), *args], check=True,
                   stdout=subprocess.DEVNULL)


@contextmanager
def server(
    cmd: list[str], env: dict[str, str], port: int
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310 (http only)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{cmd[0]} did not start") from None
                time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        process.wait(10)


def load(api: str, floor: str, runs: int, seconds: int) -> dict[str, object]:
    """wrk against each cached path and its floor, interleaved run by run."""
    store = redis.Redis.from_url(REDIS_URL)
    report: dict[str, object] = {}
    for name, path in CACHED_PATHS.items():
        body = httpx.get(api + path, headers=HEADERS, timeout=30).content
        store.set(f"floor:{name}", body)
        measured: dict[str, list[tuple[float, float]]] = {"api": [], "floor": []}
        for _ in range(runs):
            measured["api"].append(wrk(api + path, seconds))
            measured["floor"].append(wrk(f"{floor}/floor/{name}", seconds))
        medians = {arm: {"requests_per_second": statistics.median(r for r, _ in runs_),
                         "p99_ms": statistics.median(p for _, p in runs_)}
                   for arm, runs_ in measured.items()}
        report[name] = {
            **medians,
            "throughput_ratio": medians["api"]["requests_per_second"]
            / medians["floor"]["requests_per_second"],
            "p99_ratio": medians["api"]["p99_ms"] / medians["floor"]["p99_ms"],
            "bytes": len(body),
        }
    return report


def wrk(url: str, seconds: int) -> tuple[float, float]:
    """Requests/s and p99 in ms of one wrk run at 32 connections."""
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-H",
         f"Authorization: Bearer {KEY}", url], check=True, capture_output=True, text=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers from {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return rps, float(p99.group(1)) * scale


def uncached(api: str, requests: int = 200) -> dict[str, dict[str, float]]:
    """One client, every request a distinct as_of: each one misses the cache."""
    report = {}
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with httpx.Client(base_url=api, headers=HEADERS, timeout=30) as client:
        for name, path in {**CACHED_PATHS, "trends_90d": "/api/revenue/trends?window=90d"}.items():
            times = []
            for i in range(requests):
                as_of = (now - dt.timedelta(seconds=i + 1)).isoformat()
                sep = "&" if "?" in path else "?"
                started = time.perf_counter()
                answer = client.get(f"{path}{sep}as_of={quote(as_of)}")
                times.append((time.perf_counter() - started) * 1000)
                answer.raise_for_status()
            times.sort()
            report[name] = {"median_ms": statistics.median(times),
                            "p99_ms": times[int(len(times) * 0.99) - 1]}
    return report


def live_latency(api: str, orders: int) -> dict[str, float]:
    """Seconds from POST /api/orders to the sale showing on /api/revenue/current."""
    product = "bench-live-product"
    took = []
    with httpx.Client(base_url=api, headers=HEADERS, timeout=30) as client:
        for i in range(orders):
            before = Decimal(client.get("/api/revenue/current").json()["today"]["revenue"])
            order = {"order_id": f"bench-{time.time_ns()}-{i}", "channel": "online",
                     "ordered_at": dt.datetime.now(dt.UTC).isoformat(),
                     "lines": [{"line_number": 1, "product_id": product, "quantity": 1,
                                "unit_price": "1.00"}]}
            started = time.perf_counter()
            client.post("/api/orders", json=order).raise_for_status()
            while True:
                revenue = client.get("/api/revenue/current").json()["today"]["revenue"]
                if Decimal(revenue) >= before + 1:
                    break
                if time.perf_counter() - started > 30:
                    raise RuntimeError("a live order did not show within 30 s")
                time.sleep(0.02)
            took.append(time.perf_counter() - started)
    return {"median": statistics.median(took), "worst": max(took), "orders": len(took)}


if __name__ == "__main__":
    main()
