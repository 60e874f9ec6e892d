"""Value receipts: each figure against direct SQL on the tiny store, figures the data
cannot support left out with the reason, and the API serving HTML and Markdown."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from analytics_pipeline.api.app import create_app
from analytics_pipeline.receipts import Figure, ReceiptInputs, build_receipt, receipt_figures
from analytics_pipeline.receipts.experiment import experiment_readout
from analytics_pipeline.receipts.figures import recommendation_lift
from analytics_pipeline.receipts.latest import latest_markdown
from analytics_pipeline.recommendations.feedback_store import (
    Exposure,
    FeedbackEvent,
    FeedbackStore,
)
from analytics_pipeline.settings import Settings
from analytics_pipeline.warehouse import DuckDBWarehouse
from tests.api_support import app_client, warehouse_rows
from tests.observability_support import copy_warehouse, materialized

INPUTS = ReceiptInputs(clv_horizon_days=365, clv_discount_rate=0.10)
READ = {"Authorization": "Bearer reader"}
EXPERIMENT = Settings().recommendations.experiment_name


@pytest.fixture(scope="module")
def warehouse(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return materialized(tiny_store, tmp_path_factory, "receipts")


def _figures(path: Path) -> dict[str, Figure]:
    wh = DuckDBWarehouse(path, "UTC", read_only=True)
    try:
        return {f.key: f for f in receipt_figures(wh, INPUTS)}
    finally:
        wh.close()


def test_stockout_figure_matches_the_reorder_table(warehouse: Path) -> None:
    figure = _figures(warehouse)["stockout_revenue_at_risk"]
    reorders = duckdb.connect(str(warehouse), read_only=True).execute(
        """SELECT r.revenue_at_risk, r.suggested_quantity, p.unit_cost
           FROM inventory.reorder_suggestions r JOIN ingest.products p USING (product_id)"""
    ).fetchall()
    at_risk = [(float(v), q, float(c)) for v, q, c in reorders if v is not None and v > 0]
    assert at_risk, "the tiny store should predict some stockouts"
    assert figure.value == pytest.approx(sum(v for v, _, _ in at_risk))
    assert figure.details["products"] == len(at_risk)
    assert figure.details["reorder_units"] == sum(q for _, q, _ in at_risk)
    assert figure.details["reorder_cost"] == pytest.approx(sum(q * c for _, q, c in at_risk))


def test_overstock_cash_is_stock_on_hand_at_cost(warehouse: Path) -> None:
    figure = _figures(warehouse)["overstock_cash"]
    # Independently: units on hand from the alert's evidence times the catalogue cost.
    rows = warehouse_rows(warehouse, """SELECT a.evidence, p.unit_cost FROM inventory.alerts a
        JOIN ingest.products p USING (product_id) WHERE a.alert_type = 'overstock'""")
    assert rows
    expected = sum(json.loads(str(e))["on_hand"] * float(str(c)) for e, c in rows)
    assert figure.value == pytest.approx(expected, abs=0.01)
    assert figure.details == {"products": len(rows), "uncosted_products": 0}


def test_at_risk_clv_sums_the_clv_model_over_at_risk_customers(warehouse: Path) -> None:
    figure = _figures(warehouse)["at_risk_clv"]
    customers, total = warehouse_rows(warehouse, """SELECT count(*), sum(v.predicted_clv)
        FROM segments.customer_segments s JOIN segments.customer_clv v USING (customer_id)
        WHERE s.is_at_risk""")[0]
    assert figure.value == pytest.approx(float(str(total)))
    assert figure.details["customers"] == customers
    assert "365 days" in figure.how and "10%" in figure.how


def _experiment(path: Path, bought: dict[str, int], exposed: int) -> None:
    """``exposed`` customers per arm; the first ``bought[arm]`` of them buy afterwards."""
    store = FeedbackStore(path)
    for arm in ("v1", "v2"):
        store.add_exposures(EXPERIMENT, [
            Exposure(f"{arm}-{i}", arm, ["p1"], "2026-03-30T10:00:00") for i in range(exposed)])
        for i in range(bought[arm]):
            store.add_feedback(EXPERIMENT, FeedbackEvent(
                f"{arm}-buy-{i}", f"{arm}-{i}", arm, "purchase", "p1", "2026-03-30T12:00:00",
                "20.00"))


def test_lift_is_the_ab_readout_or_left_out_with_the_reason(tmp_path: Path) -> None:
    settings = Settings.from_env({"ANALYTICS_RECS_FEEDBACK_DB": str(tmp_path / "recs.sqlite")})
    assert experiment_readout(settings) is None  # nothing logged: not even a file made
    assert not (tmp_path / "recs.sqlite").exists()
    nothing = recommendation_lift(None)
    assert nothing.value is None and "no exposures" in str(nothing.reason)
    _experiment(tmp_path / "recs.sqlite", {"v1": 6, "v2": 12}, exposed=60)
    figure = recommendation_lift(experiment_readout(settings))
    # Conversion 12/60 against 6/60: +100 %.
    assert figure.value == pytest.approx(1.0) and figure.unit == "share"
    assert figure.details["v1_exposed_customers"] == 60
    assert figure.details["v2_converted_customers"] == 12
    assert figure.details["ci_low_share"] < 1.0 < figure.details["ci_high_share"]
    assert "Measured recommendation lift" in build_receipt(
        [figure], dt.datetime(2026, 3, 31, tzinfo=dt.UTC), "USD").markdown


def test_lift_without_conversions_in_an_arm_is_left_out(tmp_path: Path) -> None:
    settings = Settings.from_env({"ANALYTICS_RECS_FEEDBACK_DB": str(tmp_path / "recs.sqlite")})
    _experiment(tmp_path / "recs.sqlite", {"v1": 0, "v2": 3}, exposed=20)
    figure = recommendation_lift(experiment_readout(settings))
    assert figure.value is None and "undefined" in str(figure.reason)
    assert figure.details["v2_converted_customers"] == 3


def test_figures_the_data_cannot_support_are_left_out_with_reasons(
    warehouse: Path, tmp_path: Path
) -> None:
    broken = copy_warehouse(warehouse, tmp_path)
    with duckdb.connect(str(broken)) as conn:
        conn.execute("DELETE FROM ingest.inventory")
        conn.execute("UPDATE segments.customer_segments SET predicted_clv = NULL")
    figures = _figures(broken)
    for key in ("stockout_revenue_at_risk", "overstock_cash"):
        assert figures[key].value is None
        assert "no inventory counts" in str(figures[key].reason)
    assert figures["at_risk_clv"].value is None
    assert "not fitted" in str(figures["at_risk_clv"].reason)


def test_markdown_and_html_show_every_figure_with_its_method(warehouse: Path) -> None:
    figures = _figures(warehouse)
    stored = latest_markdown(f"duckdb:///{warehouse}", "UTC")
    assert stored is not None
    receipt = build_receipt(list(figures.values()), dt.datetime(2026, 3, 31, 15, tzinfo=dt.UTC),
                            "USD")
    stockout = figures["stockout_revenue_at_risk"]
    assert f"**{stockout.value:,.2f} USD**" in stored
    assert stored.count("*How:*") == len(figures)
    assert "**Left out:** the recommendations experiment has logged no exposures" in stored
    assert receipt.html.count("class=how") == len(figures)
    assert "<script" not in receipt.html
    assert "as of 2026-03-31 15:00 UTC" in receipt.markdown
    assert receipt.markdown == stored  # what the asset stored is this rendering


@pytest.fixture(scope="module")
def client(warehouse: Path) -> Iterator[TestClient]:
    with app_client(warehouse) as test_client:
        yield test_client


def test_api_serves_the_latest_receipt_as_html_and_markdown(
    client: TestClient, warehouse: Path
) -> None:
    assert client.get("/api/receipts/latest").status_code == 401
    page = client.get("/api/receipts/latest", headers=READ)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    markdown = client.get("/api/receipts/latest.md", headers=READ)
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text == latest_markdown(f"duckdb:///{warehouse}", "UTC")
    assert "Cash tied up in overstock" in page.text and "Left out:" in page.text


def test_api_answers_409_before_any_receipt(tmp_path: Path) -> None:
    settings = Settings.from_env({}, warehouse_url=f"duckdb:///{tmp_path}/none.duckdb",
                                 redis_url=None)
    with TestClient(create_app(settings)) as fresh:
        response = fresh.get("/api/receipts/latest.md")
    assert response.status_code == 409
    assert "analytics-pipeline materialize" in response.json()["detail"]


def test_dashboard_links_to_the_receipt(client: TestClient) -> None:
    page = client.get("/").text
    assert 'href="/api/receipts/latest"' in page and "receipt-link.js" in page
    assert client.get("/static/receipt-link.js").status_code == 200
