"""Helpers for the dashboard's browser tests: Chromium, a server process, expected text."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.api_support import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
KEYS = "reader=read,writer=read+write"
LIVE_INTERVAL = "0.3"


def chromium_path() -> str:
    """Debian's Chromium (never a downloaded one); under CI a missing browser fails."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        reason = "no chromium on this machine (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser tests need Chromium under CI: {reason}")
        pytest.skip(reason)
    return found


class DashboardServer:
    """``analytics-pipeline serve`` in its own process, as users run it."""

    def __init__(self, warehouse: Path, port: int | None = None) -> None:
        self.warehouse = warehouse
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> DashboardServer:
        env = {**os.environ, "ANALYTICS_WAREHOUSE": f"duckdb:///{self.warehouse}",
               "ANALYTICS_API_KEYS": KEYS, "ANALYTICS_LIVE_INTERVAL_SECONDS": LIVE_INTERVAL}
        env.pop("REDIS_URL", None)  # the in-process cache: no service to depend on
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "analytics-pipeline"), "serve",
             "--port", str(self.port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_http(f"{self.url}/healthz")
        return self

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


NO_FIGURE = "\N{EN DASH}"  # what the page shows where there is no figure


def usd(value: str | Decimal | None) -> str:
    """What ``Intl.NumberFormat("en-US", {style: "currency", currency: "USD"})`` shows (the
    page's dash for no figure, e.g. the average order value before today's first sale)."""
    if value is None:
        return NO_FIGURE
    amount = Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


def count_text(value: int) -> str:
    return f"{value:,}"


def percent_value(text: str) -> float:
    """"42.8%" -> 42.8 (percent is compared to the API's figure within display rounding)."""
    return float(text.strip().rstrip("%").replace(",", ""))
