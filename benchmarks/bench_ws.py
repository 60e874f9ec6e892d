"""Many WebSocket clients on /ws/revenue/live: tick spread across clients and server memory.

    .venv/bin/python benchmarks/bench_ws.py --work /tmp/bench-api --clients 500 --seconds 600

Uses the warehouse bench_api.py prepared in ``--work``. The server runs as its own process
(``analytics-pipeline serve``, 5 s ticks); the clients run in this one. For every tick it
reports how far apart the first and the last client received it, and it samples the
server's resident memory every 10 s, so growth over the run shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import BIN, HERE, KEY, REDIS_URL, WORK, prepare, server

PORT = 8793


async def client(received: dict[int, list[float]], stop: asyncio.Event) -> None:
    url = f"ws://127.0.0.1:{PORT}/ws/revenue/live?key={KEY}"
    async with websockets.connect(url, max_size=2**20, open_timeout=60) as ws:
        while not stop.is_set():
            try:
                await asyncio.wait_for(ws.recv(), timeout=1)
            except TimeoutError:
                continue
            now = time.time()
            received[round(now / 5)].append(now)  # ticks sit on multiples of 5 s


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def measure(clients: int, seconds: int, pid: int) -> dict[str, object]:
    received: dict[int, list[float]] = defaultdict(list)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(client(received, stop)) for _ in range(clients)]
    await asyncio.sleep(10)  # every client connected and past its first message
    start_tick = round(time.time() / 5) + 1
    memory = []
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        memory.append(rss_kb(pid))
        await asyncio.sleep(10)
    memory.append(rss_kb(pid))
    end_tick = round(time.time() / 5) - 1
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    ticks = [received[t] for t in range(start_tick, end_tick + 1)]
    spreads = [(max(t) - min(t)) * 1000 for t in ticks if t]
    complete = sum(1 for t in ticks if len(t) == clients)
    return {
        "clients": clients, "seconds": seconds, "ticks": len(ticks),
        "ticks_reaching_every_client": complete,
        "spread_ms_median": statistics.median(spreads), "spread_ms_worst": max(spreads),
        "rss_mb_first": memory[0] / 1024, "rss_mb_last": memory[-1] / 1024,
        "rss_mb_max": max(memory) / 1024,
        "rss_mb_first_half_max": max(memory[: len(memory) // 2]) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=600)
    args = parser.parse_args()
    warehouse = prepare(args.work)
    env = {**os.environ, "ANALYTICS_WAREHOUSE": f"duckdb:///{warehouse}",
           "REDIS_URL": REDIS_URL, "ANALYTICS_API_KEYS": f"{KEY}=read+write",
           "ANALYTICS_LIVE_INTERVAL_SECONDS": "5"}
    cmd = [str(BIN / "analytics-pipeline"), "serve", "--port", str(PORT)]
    with server(cmd, env, PORT) as (_, process):
        result = asyncio.run(measure(args.clients, args.seconds, process.pid))
    print(json.dumps(result, indent=2))
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "ws.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
