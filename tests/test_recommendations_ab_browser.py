"""The A/B panel in a real browser (Debian's Chromium, headless) against a server process:
it shows the figures GET /api/recommendations/v2/performance gives, and its sample-ratio
warning. No warehouse is needed: the panel reads only the feedback store."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from analytics_pipeline.recommendations.experiment import Experiment
from analytics_pipeline.recommendations.feedback_store import FeedbackEvent, FeedbackStore
from tests.browser_support import ARTIFACTS, DashboardServer, chromium_path, count_text

pytestmark = pytest.mark.slow
PANEL = "[data-panel='experiment']"
DAY = "2026-04-{:02d}T10:00:00.000+00:00"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


def _fill(path: Path, name: str, customers: list[str], v2_buys_every: int) -> None:
    """Exposures over 10 days; every 4th v1 customer and every ``v2_buys_every``-th v2
    customer buys the next day; everyone sees an impression, buyers click."""
    store = FeedbackStore(path)
    day = [DAY.format(1)]
    experiment = Experiment(name, 0.5, store, clock=lambda: day[0])
    for i, customer in enumerate(customers):
        day[0] = DAY.format(1 + i % 10)
        arm = experiment.arm_for(customer)
        experiment.log_exposure(customer, arm, ["p1", "p2"])
        store.add_feedback(name, FeedbackEvent(f"i-{customer}", customer, arm, "impression",
                                               "p1", day[0]))
        if i % (v2_buys_every if arm == "v2" else 4) == 0:
            bought = DAY.format(2 + i % 10)
            store.add_feedback(name, FeedbackEvent(f"c-{customer}", customer, arm, "click",
                                                   "p1", bought))
            store.add_feedback(name, FeedbackEvent(f"p-{customer}", customer, arm, "purchase",
                                                   "p1", bought, "25.00"))
    experiment.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    with sync_playwright() as playwright:
        yield playwright.chromium.launch(executable_path=executable)


@contextmanager
def _serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             name: str) -> Iterator[DashboardServer]:
    monkeypatch.setenv("ANALYTICS_RECS_FEEDBACK_DB", str(tmp_path / "recs.sqlite"))
    monkeypatch.setenv("ANALYTICS_RECS_EXPERIMENT", name)
    server = DashboardServer(tmp_path / "warehouse.duckdb").start()
    try:
        yield server
    finally:
        server.stop()


def _readout(server: DashboardServer) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{server.url}/api/recommendations/v2/performance",
        headers={"Authorization": "Bearer reader"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        result: dict[str, Any] = json.load(response)
    return result


def _open_panel(browser: Browser, server: DashboardServer,
                viewport: ViewportSize = DESKTOP) -> Page:
    page = browser.new_page(viewport=viewport, locale="en-US")
    page.goto(f"{server.url}/#key=reader")
    page.wait_for_selector(f"{PANEL}[data-state='ready']", timeout=15_000)
    return page


def test_the_panel_shows_the_readout_of_a_winning_v2(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers = [f"c{i:05d}" for i in range(3_000)]
    _fill(tmp_path / "recs.sqlite", "browser-ab", customers, v2_buys_every=2)
    with _serving(tmp_path, monkeypatch, "browser-ab") as server:
        readout = _readout(server)
        page = _open_panel(browser, server)
        panel = page.locator(PANEL)
        assert readout["sequential"]["decision"] == "treatment_better"
        assert panel.locator(".ab-decision").inner_text().startswith("v2 converts better")
        for arm in readout["arms"]:
            row = panel.locator(f"tr:has([data-arm='{arm['arm']}'])")
            cells = row.locator("td").all_inner_texts()
            assert cells[0] == count_text(arm["exposed_customers"])
            assert float(cells[1].rstrip("%")) == pytest.approx(
                arm["conversion_rate"] * 100, abs=0.05)
        lift = readout["conversion"]["relative_lift"] * 100
        shown = panel.locator("[data-lift='conversion']").inner_text()
        assert float(shown.split("%")[0]) == pytest.approx(lift, abs=0.05)
        assert panel.locator(".ab-srm").count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        panel.screenshot(path=str(ARTIFACTS / "recommendations-ab-panel.png"))
        page.close()


def test_the_panel_warns_about_a_sample_ratio_mismatch_and_fits_a_phone(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Exposures logged for v2 customers only (as a broken client would): the split is off.
    name = "browser-srm"
    probe = Experiment(name, 0.5, FeedbackStore(tmp_path / "probe.sqlite"))
    customers = [f"c{i:05d}" for i in range(4_000)]
    kept = [c for i, c in enumerate(customers) if probe.arm_for(c) == "v2" or i % 5 == 0]
    _fill(tmp_path / "recs.sqlite", name, kept, v2_buys_every=4)
    with _serving(tmp_path, monkeypatch, name) as server:
        assert _readout(server)["sample_ratio"]["mismatch"]
        page = _open_panel(browser, server, PHONE)
        assert "Sample ratio mismatch" in page.locator(f"{PANEL} .ab-srm").inner_text()
        # On a phone the panel fits the width: no sideways scrolling.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.close()
