"""A sync killed with SIGKILL in the middle, then run again, loses and doubles nothing."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.lightspeed_factory import seeded_store
from tests.lightspeed_fake import FakeConfig, FakeLightspeed
from tests.lightspeed_support import cli_env

SYNC = [sys.executable, "-m", "analytics_pipeline.cli", "sync", "lightspeed"]


def _count(path: Path, sql: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(sql).fetchone()[0])


def _wait_for_orders(path: Path, at_least: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if path.exists() and _count(path, "SELECT COUNT(*) FROM orders") >= at_least:
            return
        time.sleep(0.02)
    raise AssertionError("the sync ended or stalled before the kill point")


@pytest.mark.slow
def test_kill_mid_sync_then_resume_loses_and_doubles_nothing(tmp_path: Path) -> None:
    store = seeded_store(500, items=50, customers=100)
    staging, live = tmp_path / "lightspeed.sqlite", tmp_path / "live.sqlite"
    # Slow drip: sale pages (41 drips) come about 5 a second, so the kill lands mid-sync.
    with FakeLightspeed(store, FakeConfig(drip_rate=200)) as fake:
        env = cli_env(fake, tmp_path)
        subprocess.run(SYNC, env=env, check=True, capture_output=True, timeout=120)
        store.add_sales(4000)
        fake.changed()
        process = subprocess.Popen(SYNC, env=env, stdout=subprocess.PIPE, text=True)
        _wait_for_orders(staging, 1500, process)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL
        stored_at_kill = _count(staging, "SELECT COUNT(*) FROM orders")
        fake.config.drip_rate = 100_000.0
        resumed = subprocess.run(SYNC, env=env, check=True, capture_output=True, text=True,
                                 timeout=120)

    recorded = [s for s in store.sales if s["completed"] == "true" or s["voided"] == "true"]
    assert stored_at_kill < len(recorded), "the kill came after the sync had finished"
    ids = {s["saleID"] for s in recorded}
    with sqlite3.connect(staging) as conn:
        orders = {str(r[0]) for r in conn.execute("SELECT order_id FROM orders")}
        lines = conn.execute("SELECT order_id, line_number FROM order_lines").fetchall()
    assert orders == ids
    expected_lines = {(s["saleID"], ln["saleLineID"]) for s in recorded
                      for ln in store.lines_of(s)}
    assert sorted(lines) == sorted(expected_lines)  # sorted lists: a double would show
    # The resumed run started at the stored cursor, not from the beginning.
    sale_row = next(ln for ln in resumed.stdout.splitlines() if ln.strip().startswith("Sale"))
    assert int(sale_row.split()[2].replace(",", "")) < 4000
    # Every new, well-formed completed sale reached the live revenue path exactly once.
    new = store.sales[500:]
    fed = {s["saleID"] for s in new if s["completed"] == "true" and s["voided"] == "false"
           and all(ln["unitQuantity"] != "0" for ln in store.lines_of(s))}
    with sqlite3.connect(live) as conn:
        live_ids = [str(r[0]) for r in conn.execute("SELECT order_id FROM live_orders")]
        live_lines = _count(live, "SELECT COUNT(*) FROM live_order_lines")
    assert sorted(live_ids) == sorted(fed)
    assert live_lines == sum(len(store.lines_of(store.sales[int(i) - 1])) for i in fed)
