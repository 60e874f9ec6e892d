"""The dashboard page: time to "every panel rendered with data" and bytes transferred.

Generates and materializes the demo store (history up to today, as of now: the page shows
"today so far"), serves it with ``analytics-pipeline serve`` and loads ``/`` in headless
Chromium (Debian's ``/usr/bin/chromium``) several times per viewport:

    .venv/bin/python benchmarks/bench_dashboard.py --runs 7

Each cold load runs in a fresh browser context (empty cache); the time is the page's own
``dashboard-ready`` performance mark, i.e. from navigation start to the moment the last
panel rendered its data. Bytes are what went over the wire (Chrome's encodedDataLength:
headers and bodies), split into the page's files (html, css, js, vendored uPlot) and the
API's JSON. A warm load (reload in the same context) shows what the cache headers save.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
KEY = "bench"
VIEWPORTS: dict[str, ViewportSize] = {"phone": {"width": 390, "height": 844},
                                      "desktop": {"width": 1280, "height": 800}}


def prepare(work: Path, scale: str) -> Path:
    """A materialized store, reused when ``work`` already holds one (made today: the page
    shows today so far, and a store materialized yesterday has nothing for today)."""
    store, warehouse = work / scale, work / f"{scale}.duckdb"
    if not (work / "serving" / "CURRENT").exists():
        cli = str(BIN / "analytics-pipeline")
        today = datetime.now(UTC).date().isoformat()
        print(f"generating and materializing the {scale} store in {work} ...", flush=True)
        subprocess.run([cli, "generate", "--scale", scale, "--seed", "42", "--out", str(store),
                        "--end-date", today], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([cli, "materialize", "--source", str(store),
                        "--warehouse", f"duckdb:///{warehouse}"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return warehouse


def serve(warehouse: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "ANALYTICS_WAREHOUSE": f"duckdb:///{warehouse}",
           "ANALYTICS_API_KEYS": f"{KEY}=read"}
    env.pop("REDIS_URL", None)
    server = subprocess.Popen([str(BIN / "analytics-pipeline"), "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2):  # noqa: S310 - loopback
                return server, url
        except OSError:
            if time.monotonic() > deadline:
                server.terminate()
                raise
            time.sleep(0.1)


def measure(page: Page, go: Callable[[], object]) -> dict[str, float]:
    """Load once (``go`` navigates) and return the ready time and bytes by kind."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    urls: dict[str, str] = {}
    sizes = {"page_bytes": 0.0, "api_bytes": 0.0, "requests": 0.0}
    cdp.on("Network.requestWillBeSent",
           lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))

    def finished(event: dict[str, Any]) -> None:
        kind = "api_bytes" if "/api/" in urls.get(event["requestId"], "") else "page_bytes"
        sizes[kind] += event["encodedDataLength"]
        sizes["requests"] += 1

    cdp.on("Network.loadingFinished", finished)
    go()
    page.wait_for_selector("body[data-settled='1']", state="attached", timeout=30_000)
    if page.get_attribute("body", "data-ready") != "1":
        errors = page.locator(".panel-error:not([hidden])").all_inner_texts()
        raise RuntimeError(f"panels failed to load: {errors}")
    page.wait_for_load_state("load")
    ready = page.evaluate(
        "performance.getEntriesByName('dashboard-ready')[0].startTime")
    cdp.detach()
    return {"ready_ms": float(ready), **sizes}


def bench_viewport(browser: Browser, url: str, viewport: ViewportSize, runs: int
                   ) -> dict[str, Any]:
    cold: list[dict[str, float]] = []
    warm: list[dict[str, float]] = []
    for _ in range(runs):
        context = browser.new_context(viewport=viewport, locale="en-US")
        page = context.new_page()
        cold.append(measure(page, partial(page.goto, f"{url}/#key={KEY}")))
        warm.append(measure(page, page.reload))
        context.close()
    return {"cold": summary(cold), "warm": summary(warm)}


def summary(loads: list[dict[str, float]]) -> dict[str, Any]:
    return {
        "ready_ms": [round(load["ready_ms"], 1) for load in loads],
        "median_ready_ms": round(statistics.median(load["ready_ms"] for load in loads), 1),
        "median_page_bytes": statistics.median(load["page_bytes"] for load in loads),
        "median_api_bytes": statistics.median(load["api_bytes"] for load in loads),
        "median_requests": statistics.median(load["requests"] for load in loads),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=["tiny", "demo", "large"], default="demo")
    parser.add_argument("--runs", type=int, default=7, help="loads per viewport (>= 5)")
    parser.add_argument("--work", type=Path, default=None,
                        help="scratch folder; a materialized one is reused (default: tmp)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    work.mkdir(parents=True, exist_ok=True)
    server, url = serve(prepare(work, args.scale))
    static = Path(__file__).resolve().parents[1] / "analytics_pipeline" / "api" / "static"
    results: dict[str, Any] = {
        "scale": args.scale, "runs": max(args.runs, 5),
        "page_files_bytes": sum(f.stat().st_size for f in static.rglob("*")
                                if f.is_file() and f.suffix in {".html", ".css", ".js"}),
    }
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            results["chromium"] = browser.version
            for name, viewport in VIEWPORTS.items():
                results[name] = bench_viewport(browser, url, viewport, results["runs"])
                cold = results[name]["cold"]
                print(f"{name}: median {cold['median_ready_ms']} ms to ready "
                      f"({cold['ready_ms']}), {cold['median_page_bytes']:.0f} B page + "
                      f"{cold['median_api_bytes']:.0f} B API", flush=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(results, indent=2))
    out = Path(__file__).parent / "results" / f"dashboard-{time.strftime('%Y%m%d-%H%M')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
