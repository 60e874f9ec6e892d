"""``POST /api/segments/refresh`` on the demo store: median of N calls.

    .venv/bin/python benchmarks/bench_segments_refresh.py --work /tmp/bench-segments --runs 5

Uses bench_api.py's preparation (generate + materialize the demo store once) and a real
``analytics-pipeline serve`` process; each call recomputes RFM, CLV, segments, clusters and
their history in the warehouse and republishes the snapshot.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import BIN, HERE, KEY, prepare, server

PORT = 8794


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path,
                        default=Path(tempfile.gettempdir()) / "bench-segments")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    warehouse = prepare(args.work)
    env = {**os.environ, "ANALYTICS_WAREHOUSE": f"duckdb:///{warehouse}",
           "ANALYTICS_API_KEYS": f"{KEY}=read+write"}
    env.pop("REDIS_URL", None)
    cmd = [str(BIN / "analytics-pipeline"), "serve", "--port", str(PORT)]
    took = []
    with server(cmd, env, PORT) as (base, _):
        for _ in range(args.runs):
            started = time.perf_counter()
            answer = httpx.post(f"{base}/api/segments/refresh", timeout=120,
                                headers={"Authorization": f"Bearer {KEY}"})
            answer.raise_for_status()
            took.append(time.perf_counter() - started)
    result = {"runs": took, "median_s": statistics.median(took), "target_s": 2.0}
    print(json.dumps(result, indent=2))
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "segments-refresh.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
