"""The dashboard's "Value receipt" link opens the styled receipt with the page's key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.browser_support import DashboardServer, chromium_path
from tests.observability_support import materialized


@pytest.fixture(scope="module")
def server(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    running = DashboardServer(materialized(tiny_store, tmp_path_factory, "receipt-page")).start()
    yield running.url
    running.stop()


def test_the_receipt_link_opens_the_receipt_with_its_stylesheet(server: str) -> None:
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        page = browser.new_page()
        page.goto(f"{server}/#key=reader")
        with page.expect_popup() as opened:
            page.click("#receipt-link")
        receipt = opened.value
        errors: list[str] = []
        receipt.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        receipt.wait_for_selector("section#overstock_cash .value")
        receipt.wait_for_load_state("load")
        assert receipt.inner_text("h1").startswith("Value receipt, as of 2026-03-31")
        assert "Left out" in receipt.inner_text("section#recommendation_lift")
        # 1.4rem from receipt.css: the stylesheet loaded despite the page's CSP.
        size = receipt.eval_on_selector("h1", "h => getComputedStyle(h).fontSize")
        assert size == "22.4px"
        assert errors == []
        browser.close()
