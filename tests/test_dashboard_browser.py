"""The dashboard page in a real browser (Debian's Chromium, headless) against a real server
process: every panel shows the figures the API and the warehouse give, the phone layout has
no horizontal scroll, a sale posted to the API reaches the revenue tile without a reload,
and a stopped server shows the connection-lost state until it is back."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from playwright.sync_api import (
    Browser,
    Page,
    Playwright,
    Response,
    ViewportSize,
    sync_playwright,
)

from analytics_pipeline.generate import generate_store
from tests.api_support import materialize
from tests.browser_support import (
    ARTIFACTS,
    NO_FIGURE,
    DashboardServer,
    chromium_path,
    count_text,
    percent_value,
    usd,
)

pytestmark = pytest.mark.slow
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
PANELS = ("kpis", "trend", "products", "ltv", "turnover", "reorder", "segments", "alerts",
          "experiment", "forecast")
READY = "body[data-ready='1']"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny store with history up to today, materialized now: the page asks for "now"
    (today so far), so the fixture's fixed 2026-03-31 history would show only zeros."""
    folder = tmp_path_factory.mktemp("dashboard")
    now = dt.datetime.now(dt.UTC)
    generate_store("tiny", 7, folder / "store", end_date=now.date())
    path = folder / "warehouse.duckdb"
    materialize(folder / "store", path, now.isoformat(timespec="seconds"))
    return path


@pytest.fixture(scope="module")
def server(warehouse: Path) -> Iterator[DashboardServer]:
    running = DashboardServer(warehouse).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    with sync_playwright() as playwright:
        yield _launch(playwright, executable)


def _launch(playwright: Playwright, executable: str) -> Browser:
    return playwright.chromium.launch(executable_path=executable)


class Watched:
    """A page plus what it did: requests to other origins, console errors, static bytes."""

    def __init__(self, browser: Browser, origin: str, viewport: ViewportSize) -> None:
        self.context = browser.new_context(viewport=viewport, locale="en-US")
        self.page: Page = self.context.new_page()
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.static: list[Response] = []
        self.urls: list[str] = []
        self.page.on("request", lambda r: self.urls.append(r.url))
        self.page.on("request", lambda r: None if r.url.startswith(origin)
                     or r.url.startswith(origin.replace("http", "ws"))
                     or r.url.startswith("data:") else self.foreign.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("response", lambda r: self.static.append(r)
                     if "/api/" not in r.url and "/ws/" not in r.url else None)

    def close(self) -> None:
        self.context.close()


Opener = Callable[[ViewportSize], Watched]


@pytest.fixture
def watched(browser: Browser, server: DashboardServer) -> Iterator[Opener]:
    """Opens watched pages on the module's server; closes them after the test."""
    opened: list[Watched] = []

    def open_page(viewport: ViewportSize) -> Watched:
        opened.append(Watched(browser, server.url, viewport))
        return opened[-1]

    yield open_page
    for each in opened:
        each.close()


def _api(server: DashboardServer, path: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{server.url}{path}",  # noqa: S310 - loopback
                                     headers={"Authorization": "Bearer reader"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        body: dict[str, Any] = json.load(response)
    return body


def _sql(warehouse: Path, sql: str, params: dict[str, object]) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql, params).fetchall()


def _text(page: Page, selector: str) -> str:
    return page.locator(selector).first.inner_text().strip()


def _screenshot(page: Page, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


def _window(today: str, days: int) -> dict[str, object]:
    last = dt.date.fromisoformat(today)
    return {"first": last - dt.timedelta(days=days - 1), "last": last}


def _open(watched: Opener, server: DashboardServer, viewport: ViewportSize) -> Watched:
    view = watched(viewport)
    view.page.goto(f"{server.url}/#key=reader")
    view.page.wait_for_selector(READY, timeout=15_000)
    return view


def test_desktop_panels_show_the_api_and_warehouse_figures(
    watched: Opener, server: DashboardServer, warehouse: Path
) -> None:
    view = _open(watched, server, DESKTOP)
    page = view.page
    assert page.url == f"{server.url}/", "the key must leave the address bar"
    current = _api(server, "/api/revenue/current")
    today = current["today"]
    assert _text(page, "#kpi-revenue") == usd(today["revenue"])
    assert _text(page, "#kpi-orders") == count_text(today["orders"])
    assert _text(page, "#kpi-aov") == usd(today["average_order_value"])
    if today["gross_margin_pct"] is None:  # no sale yet today (just after midnight)
        assert _text(page, "#kpi-margin") == NO_FIGURE
    else:
        assert percent_value(_text(page, "#kpi-margin")) == pytest.approx(
            today["gross_margin_pct"], abs=0.051)
    if current["live"]["orders"] == 0:  # nothing posted yet: the batch's own sales
        (sold,) = _sql(warehouse, "SELECT COALESCE(SUM(revenue), 0) FROM ingest.sales_lines "
                       "WHERE sale_date = $day", {"day": dt.date.fromisoformat(today["date"])})
        assert _text(page, "#kpi-revenue") == usd(Decimal(str(sold[0])))

    margins = _sql(warehouse, """
        SELECT p.name, SUM(s.revenue - s.cost) AS margin
        FROM ingest.sales_lines AS s JOIN ingest.products AS p USING (product_id)
        WHERE s.sale_date BETWEEN $first AND $last
        GROUP BY p.name, s.product_id ORDER BY margin DESC NULLS LAST""",
        _window(today["date"], 30))
    best = {name for name, margin in margins if margin == margins[0][1]}
    first_row = page.locator("[data-panel='products'] tbody tr").first
    assert first_row.locator("th .name").inner_text().splitlines()[0] in best
    assert first_row.locator("td").nth(1).inner_text() == usd(Decimal(str(margins[0][1])))

    _check_trend(page, warehouse, today["date"])
    _check_ltv(page, warehouse)
    _check_inventory(page, warehouse)
    _check_segments(page, server, warehouse)
    _check_alerts(page, server, warehouse)
    _check_forecast(page, server)
    assert page.locator(".chart canvas").count() >= 3
    _screenshot(page, "dashboard-1280.png")
    assert view.foreign == [], "the page must not reach other origins"
    assert not [url for url in view.urls if "reader" in url], "keys go in headers, not URLs"
    assert view.errors == []
    weight = sum(len(response.body()) for response in view.static)
    assert 0 < weight < 400_000, f"html+css+js+vendor weigh {weight} bytes"


def _check_trend(page: Page, warehouse: Path, today: str) -> None:
    total = "[data-panel='trend'] .stat-value"
    for days in (30, 7):
        if days == 7:
            page.locator("label[for='window-7d']").click()
        (revenue,) = _sql(warehouse, "SELECT SUM(revenue) FROM ingest.sales_lines "
                          "WHERE sale_date BETWEEN $first AND $last", _window(today, days))
        expected = usd(Decimal(str(revenue[0])))
        page.wait_for_function(
            "([selector, text]) => document.querySelector(selector)?.textContent === text",
            arg=[total, expected], timeout=10_000)


def _check_ltv(page: Page, warehouse: Path) -> None:
    ((customers, revenue),) = _sql(warehouse, """
        SELECT COUNT(DISTINCT customer_id), SUM(revenue) FROM ingest.sales_lines
        WHERE customer_id IS NOT NULL""", {})
    values = page.locator("[data-panel='ltv'] .stat-value").all_inner_texts()
    assert values[0] == count_text(customers)
    assert values[1] == usd(Decimal(str(revenue)) / customers)
    bars = page.locator("[data-panel='ltv'] .bars .bar-value").all_inner_texts()
    assert sum(int(text.replace(",", "")) for text in bars) == customers


def _check_inventory(page: Page, warehouse: Path) -> None:
    ((category, turnover),) = _sql(warehouse, """
        SELECT category, turnover_annualized FROM inventory.turnover WHERE level = 'category'
        ORDER BY turnover_annualized DESC NULLS LAST LIMIT 1""", {})
    first_bar = page.locator("[data-panel='turnover'] .bars li").first
    assert first_bar.locator(".bar-label").inner_text().splitlines()[0] == category
    shown = first_bar.locator(".bar-value").inner_text()
    # Shown as "15.2" + MULTIPLICATION SIGN, rounded for display.
    assert float(shown.rstrip("\u00d7")) == pytest.approx(turnover, abs=0.06)
    ((to_reorder,),) = _sql(warehouse, "SELECT COUNT(*) FROM inventory.reorder_suggestions", {})
    hint = f"{count_text(to_reorder)} products to reorder"
    assert _text(page, "[data-panel='reorder'] .hint") == hint


def _check_segments(page: Page, server: DashboardServer, warehouse: Path) -> None:
    ((vips,),) = _sql(warehouse, "SELECT COUNT(*) FROM segments.customer_segments "
                      "WHERE is_vip", {})
    vip_row = page.locator("[data-panel='segments'] tbody tr").filter(
        has=page.locator("[data-segment='vip']"))
    assert vip_row.locator("td").first.inner_text() == count_text(vips)
    listed = _api(server, "/api/segments/list")
    names = {s["name"]: s["id"] for s in listed["segments"] + listed["clusters"]}
    moves = {(source, target): n for source, target, n in _sql(warehouse, """
        SELECT from_segment, to_segment, customers FROM segments.segment_migration
        WHERE month_end = (SELECT MAX(month_end) FROM segments.segment_migration)
          AND from_segment <> to_segment""", {})}
    assert moves, "the tiny store should move some customers between segments"
    bars = page.locator("[data-panel='segments'] .bars li")
    assert bars.count() >= 1
    for i in range(bars.count()):
        source, target = bars.nth(i).locator(".bar-label").inner_text().split(" \u2192 ")
        shown = bars.nth(i).locator(".bar-value").inner_text()
        key = (names.get(source, source), names.get(target, target))
        assert shown == count_text(moves[key]), key
    assert bars.first.locator(".bar-value").inner_text() == count_text(max(moves.values()))


def _check_alerts(page: Page, server: DashboardServer, warehouse: Path) -> None:
    counts = dict(_sql(warehouse, "SELECT severity, COUNT(*) FROM inventory.alerts GROUP BY 1",
                       {}))
    assert counts, "the tiny store should raise some alerts"
    hint = " · ".join(f"{count_text(counts.get(severity, 0))} {severity}"
                      for severity in ("critical", "warning", "info"))
    assert _text(page, "[data-panel='alerts'] .alert-counts") == hint
    first = _api(server, "/api/alerts?limit=50")["alerts"][0]
    (stored,) = _sql(warehouse, "SELECT COUNT(*) FROM inventory.alerts "
                     "WHERE alert_id = $id AND reason = $reason",
                     {"id": first["alert_id"], "reason": first["reason"]})
    assert stored == (1,)
    shown = page.locator("[data-panel='alerts'] .alert").first
    assert shown.get_attribute("data-severity") == first["severity"]
    assert _text(page, "[data-panel='alerts'] .alert-reason") == first["reason"]
    shown_count = page.locator("[data-panel='alerts'] .alert").count()
    assert shown_count == min(50, sum(counts.values()))


def _forecast_shows(page: Page, server: DashboardServer, product: str) -> None:
    title = f"[data-panel='forecast'] .forecast-title[data-product='{product}']"
    page.wait_for_selector(title, timeout=10_000)
    expected = _api(server, f"/api/inventory/forecast/{product}?history_days=60")
    assert page.locator(title).locator("strong").inner_text() == (
        expected["name"] or product)
    assert f"Model: {expected['model']}" in page.locator(title).inner_text()
    assert page.locator("[data-panel='forecast'] .chart canvas").count() == 1
    assert page.locator("[data-panel='forecast']").get_attribute("data-state") == "ready"


def _check_forecast(page: Page, server: DashboardServer) -> None:
    alerts = _api(server, "/api/alerts?limit=50")["alerts"]
    items = _api(server, "/api/inventory/reorder")["items"]
    low = [alert for alert in alerts if alert["alert_type"] == "low_stock"]
    first = (low or items or alerts)[0]["product_id"]
    _forecast_shows(page, server, first)
    other = next(alert["product_id"] for alert in alerts if alert["product_id"] != first)
    page.locator(f"[data-panel='alerts'] .alert[data-product='{other}']").first.click()
    _forecast_shows(page, server, other)
    if items:  # a reorder line's product name switches it too
        page.locator("[data-panel='reorder'] .pick").first.click()
        _forecast_shows(page, server, items[0]["product_id"])


def test_phone_layout_is_one_column_without_horizontal_scroll(
    watched: Opener, server: DashboardServer
) -> None:
    page = _open(watched, server, PHONE).page
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    boxes = [page.locator(f"[data-panel='{name}']").bounding_box() for name in PANELS]
    assert all(box is not None for box in boxes)
    lefts = {round(box["x"]) for box in boxes if box}
    assert len(lefts) == 1, f"panels sit side by side at 390 px: {lefts}"
    assert all(box["x"] + box["width"] <= PHONE["width"] for box in boxes if box)
    _screenshot(page, "dashboard-390.png")


def test_a_posted_order_reaches_the_revenue_tile_without_reload(
    watched: Opener, server: DashboardServer, warehouse: Path
) -> None:
    page = _open(watched, server, PHONE).page
    page.evaluate("window.__sameDocument = true")
    before = Decimal(_api(server, "/api/revenue/current")["today"]["revenue"])
    assert _text(page, "#kpi-revenue") == usd(before)
    ((product,),) = _sql(warehouse, "SELECT product_id FROM ingest.products LIMIT 1", {})
    _post_order(server, str(product), "123.45")
    expected = usd(before + Decimal("123.45"))
    assert usd(_api(server, "/api/revenue/current")["today"]["revenue"]) == expected
    page.wait_for_function("t => document.getElementById('kpi-revenue').textContent === t",
                           arg=expected, timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True
    assert "updated" in _text(page, "#live-updated")


def _post_order(server: DashboardServer, product: str, price: str) -> None:
    body = {
        "order_id": f"browser-{uuid.uuid4()}", "channel": "online",
        # A few seconds back, so the server's "now" has surely passed it.
        "ordered_at": (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)).isoformat(),
        "lines": [{"line_number": 1, "product_id": product, "quantity": 1,
                   "unit_price": price}],
    }
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{server.url}/api/orders", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer writer", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        assert response.status == 201


def test_a_failing_endpoint_breaks_only_its_own_panel(
    watched: Opener, server: DashboardServer
) -> None:
    view = watched(DESKTOP)
    view.page.route("**/api/inventory/reorder", lambda route: route.fulfill(
        status=500, content_type="application/json", body='{"detail": "boom"}'))
    view.page.goto(f"{server.url}/#key=reader")
    view.page.wait_for_selector("body[data-settled='1']", timeout=15_000)
    states = {name: view.page.locator(f"[data-panel='{name}']").get_attribute("data-state")
              for name in PANELS}
    assert states == {name: "error" if name == "reorder" else "ready" for name in PANELS}
    assert "boom" in _text(view.page, "[data-panel='reorder'] .panel-error")
    assert view.page.locator("body[data-ready]").count() == 0


def test_without_alerts_the_forecast_follows_the_reorder_list(
    watched: Opener, server: DashboardServer
) -> None:
    view = watched(DESKTOP)
    view.page.route("**/api/alerts?*", lambda route: route.fulfill(
        status=500, content_type="application/json", body='{"detail": "no alerts"}'))
    view.page.goto(f"{server.url}/#key=reader")
    view.page.wait_for_selector("body[data-settled='1']", timeout=15_000)
    assert "no alerts" in _text(view.page, "[data-panel='alerts'] .panel-error")
    items = _api(server, "/api/inventory/reorder")["items"]
    if items:
        _forecast_shows(view.page, server, items[0]["product_id"])
    else:
        assert "nothing to forecast" in _text(view.page, "[data-panel='forecast'] .empty")


def test_without_a_key_the_page_asks_for_one(watched: Opener, server: DashboardServer) -> None:
    page = watched(PHONE).page
    page.goto(f"{server.url}/")
    page.wait_for_selector("body[data-settled='1']", timeout=15_000)
    assert page.locator("#key-prompt").is_visible()
    assert "API key" in _text(page, "[data-panel='trend'] .panel-error")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.wait_for_selector("#live[data-state='locked']", timeout=10_000)
    _screenshot(page, "dashboard-key-prompt.png", full_page=False)
    page.get_by_label("API key", exact=True).fill("reader")
    page.get_by_role("button", name="Use key").click()
    page.wait_for_selector(READY, timeout=10_000)
    assert page.locator("[data-panel][data-state='ready']").count() == len(PANELS)
    assert page.locator("#key-prompt").is_hidden()
    page.wait_for_selector("#live[data-state='live']", timeout=10_000)


def test_a_stopped_server_shows_connection_lost_then_reconnects(
    browser: Browser, warehouse: Path
) -> None:
    own = DashboardServer(warehouse).start()  # stopped below: not the module's server
    restarted = DashboardServer(warehouse, port=own.port)
    view = Watched(browser, own.url, PHONE)
    try:
        view.page.goto(f"{own.url}/#key=reader")
        view.page.wait_for_selector("#live[data-state='live']", timeout=15_000)
        own.stop()
        view.page.wait_for_selector("#live[data-state='lost']", timeout=10_000)
        assert view.page.locator("#live").is_visible()
        assert "Connection lost — reconnecting" in _text(view.page, "#live-state")
        _screenshot(view.page, "dashboard-connection-lost.png", full_page=False)
        restarted.start()
        view.page.wait_for_selector("#live[data-state='live']", timeout=30_000)
    finally:
        view.close()
        own.stop()
        restarted.stop()
