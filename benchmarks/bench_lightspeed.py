"""Lightspeed sync against the local fake, with the fake's leaky bucket on.

    .venv/bin/python benchmarks/bench_lightspeed.py --runs 3    # -> results/lightspeed.json

The fake runs in its own process (as the real API would) with 100k sales and 300k
lines, 1,000 items (3,000 stock rows) and 10,000 customers. Each run: a full sync into a
fresh staging file (target < 60 s), then 1,000 new sales are added and an incremental
sync fetches them (target < 3 s). The reference, in the same session, is a bare loop
reading the same Sale pages (httpx + JSON, same throttling, nothing stored): the ratio
is what mapping, storing and cursor bookkeeping cost on top of the wire.

At Lightspeed's real drip of 1/s the bucket, not the client, bounds a full sync (a page
of 100 sales with their lines costs 41 drips); the fake's ``--drip-rate`` is raised so the
client's own cost is what is measured while pacing and 429s still happen.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics_pipeline.serving.live_orders import LiveOrderStore  # noqa: E402
from analytics_pipeline.sources.lightspeed import (  # noqa: E402
    ClientConfig,
    LightspeedClient,
    StagingStore,
    SyncSummary,
    sync,
)
from analytics_pipeline.sources.lightspeed.client import Tokens  # noqa: E402
from tests.lightspeed_fake import ACCOUNT, CLIENT_ID, CLIENT_SECRET, FIRST_REFRESH  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "lightspeed.json"


def start_fake(sales: int, drip_rate: float) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.lightspeed_fake", "--sales", str(sales), "--items",
         "1000", "--customers", "10000", "--drip-rate", str(drip_rate)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().split()[0]


def timed_sync(url: str, work: Path, full: bool, tokens: list[Tokens]) -> SyncSummary:
    """One sync; ``tokens`` carries the rotating token pair from one staging file to the
    next (the fake, like Lightspeed, revokes a refresh token once its successor is used)."""
    staging = StagingStore(work / "lightspeed.sqlite", FIRST_REFRESH)
    if tokens:
        staging.save_tokens(tokens[-1])
    config = ClientConfig(url, url, ACCOUNT, CLIENT_ID, CLIENT_SECRET, FIRST_REFRESH)
    client = LightspeedClient(config, staging)
    try:
        return sync(client, staging, LiveOrderStore(work / "live.sqlite"), full=full)
    finally:
        tokens.append(staging.load_tokens())  # type: ignore[arg-type]
        client.close()
        staging.close()


def bare_read(url: str, access_token: str) -> float:
    """Seconds to read every Sale page with its lines, honouring 429s, storing nothing."""
    with httpx.Client(timeout=60) as http:
        headers = {"Authorization": f"Bearer {access_token}"}
        started = time.perf_counter()
        next_url: str | None = f"{url}/API/V3/Account/{ACCOUNT}/Sale.json"
        params: dict[str, str] | None = {"sort": "updatetime", "limit": "100",
                                         "load_relations": '["SaleLines"]'}
        while next_url:
            reply = http.get(next_url, params=params, headers=headers)
            if reply.status_code == 429:
                time.sleep(float(reply.headers["Retry-After"]))
                continue
            next_url, params = reply.json()["@attributes"]["next"] or None, None
            # The documented pacing, so that the reference is held to the same bucket.
            level, size = map(float, reply.headers["X-LS-Api-Bucket-Level"].split("/"))
            cost = float(reply.headers["X-LS-Api-Request-Cost"])
            time.sleep(max(0.0, (level + cost - size) / float(reply.headers["X-LS-Api-Drip-Rate"])))
        return time.perf_counter() - started


def figures(summary: SyncSummary) -> dict[str, float | int]:
    sale = summary.resources["Sale"]
    return {"seconds": round(summary.seconds, 3), "sale_records": sale.records,
            "new_orders": sale.new_orders, "live_orders": sale.live_orders,
            "requests": summary.requests, "throttled_429": summary.throttled,
            "paced_seconds": round(summary.paced_seconds, 3),
            "retried_errors": summary.retried_errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sales", type=int, default=100_000)
    parser.add_argument("--new-sales", type=int, default=1_000)
    parser.add_argument("--drip-rate", type=float, default=2500.0)
    args = parser.parse_args()
    process, url = start_fake(args.sales, args.drip_rate)
    runs: list[dict[str, object]] = []
    tokens: list[Tokens] = []
    try:
        for run in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                full = timed_sync(url, Path(tmp), True, tokens)
                reference = bare_read(url, tokens[-1].access_token)
                httpx.post(f"{url}/_fake/sales", data={"count": str(args.new_sales)})
                incremental = timed_sync(url, Path(tmp), False, tokens)
            runs.append({"full": figures(full), "incremental": figures(incremental),
                         "reference_bare_read_seconds": round(reference, 3)})
            print(f"run {run + 1}: full {full.seconds:.1f} s, incremental "
                  f"{incremental.seconds:.2f} s, bare read {reference:.1f} s", flush=True)
    finally:
        process.terminate()
    full_s = statistics.median(r["full"]["seconds"] for r in runs)  # type: ignore[index]
    inc_s = statistics.median(r["incremental"]["seconds"] for r in runs)  # type: ignore[index]
    ref_s = statistics.median(float(r["reference_bare_read_seconds"]) for r in runs)  # type: ignore[arg-type]
    result = {
        "measured_at": datetime.now().isoformat(timespec="seconds"),
        "sales": args.sales, "new_sales": args.new_sales, "fake_drip_rate": args.drip_rate,
        "fake_bucket_size": 90, "runs": runs,
        "median_full_seconds": full_s, "median_incremental_seconds": inc_s,
        "median_reference_seconds": ref_s, "full_over_reference": round(full_s / ref_s, 2),
        "targets": {"full_under_60_s": full_s < 60, "incremental_under_3_s": inc_s < 3},
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
