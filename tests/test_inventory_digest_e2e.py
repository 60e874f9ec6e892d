"""End to end: the real forecast and alerts assets on a generated store, then the digest
asset against the fake Slack and SendGrid servers of tests/notify_fakes.py.

What arrives must be what ``inventory.alerts`` holds (the same products under the same
severities, within Block Kit's limits); a rerun inside the cooldown sends nothing; a send
that fails stays in the outbox and a later run delivers it exactly once.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from analytics_pipeline.assets.inventory import demand_forecast, stock_alerts
from analytics_pipeline.assets.inventory_notify import alert_digest
from analytics_pipeline.ingest.load import load_source
from analytics_pipeline.models.inventory_policy import InventoryPolicy
from analytics_pipeline.notify.alerts import SEVERITIES, Alert, read_alerts
from analytics_pipeline.notify.digest import MAX_BLOCKS, MAX_MESSAGE_CHARS, message_chars
from analytics_pipeline.notify.outbox import Outbox
from analytics_pipeline.resources import ClockResource, ModelParamsResource, WarehouseResource
from analytics_pipeline.sources import FolderSource
from analytics_pipeline.warehouse import DuckDBWarehouse
from tests.conftest import NOW, build_models
from tests.notify_fakes import FakeService, block_kit_error, fake_http, text_reply
from tests.test_inventory_notify import backoff_passed, notify_resources

TITLE = f"Inventory alerts {NOW:%Y-%m-%d}"
CHAIN = [demand_forecast, stock_alerts, alert_digest]


@pytest.fixture(scope="module")
def store_warehouse(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny generated store loaded and its SQL models built (no inventory assets yet)."""
    path = tmp_path_factory.mktemp("digest_e2e") / "tiny.duckdb"
    wh = DuckDBWarehouse(path, "UTC")
    load_source(FolderSource(tiny_store), wh, NOW)
    build_models(wh)
    wh.close()
    return path


def store_resources(tmp_path: Path, warehouse: Path, slack: FakeService,
                    sendgrid: FakeService) -> dict[str, Any]:
    resources = notify_resources(tmp_path, slack, sendgrid)
    resources.update(
        warehouse=WarehouseResource(url=f"duckdb:///{warehouse}"),
        clock=ClockResource(as_of=NOW.isoformat()),
        model_params=ModelParamsResource(inventory=InventoryPolicy().as_dict()),
    )
    return resources


def digest_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (event,) = result.asset_materializations_for_node("inventory__alert_digest")
    return {key: value.value for key, value in event.metadata.items()}


def table_alerts(warehouse: Path) -> list[Alert]:
    wh = DuckDBWarehouse(warehouse, "UTC", read_only=True)
    try:
        return read_alerts(wh)
    finally:
        wh.close()


def by_severity(alerts: list[Alert]) -> dict[str, Counter[str]]:
    """Severity -> product ids with how many alerts each."""
    return {s: Counter(a.product_id for a in alerts if a.severity == s) for s in SEVERITIES}


def email_sections(
    payload: dict[str, Any], ids: dict[tuple[str, str], str]
) -> dict[str, Counter[str]]:
    """Severity -> product ids of the rows of the HTML digest's table for it (a message
    shows names, not ids: ``ids`` maps a row's product name and reason to its id)."""
    (page,) = (c["value"] for c in payload["content"] if c["type"] == "text/html")
    parts = re.split(r"<h2>(\w+) \((\d+)\)</h2>", page)
    sections = {s: Counter[str]() for s in SEVERITIES}
    for title, count, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
        rows = re.findall(r"<tr><td>(.*?)</td><td>.*?</td><td>.*?</td><td>(.*?)</td>", body)
        assert len(rows) == int(count)
        sections[title.lower()] = Counter(
            ids[html.unescape(name), html.unescape(reason)] for name, reason in rows)
    return sections


def slack_counts(payload: dict[str, Any]) -> dict[str, int]:
    """Severity -> alerts the Slack digest lists, plus those its "... and N more" line
    counts."""
    counts, severity = dict.fromkeys(SEVERITIES, 0), ""
    for block in payload["blocks"]:
        texts = [block["text"]] if "text" in block else block.get("elements", [])
        for text in (t["text"] for t in texts):
            title = re.match(r":\w+: \*(\w+)\* \(\d+\)$", text)
            more = re.match(r"\.\.\. and (\d+) more (\w+) alerts", text)
            if title:
                severity = title.group(1).lower()
            elif more:
                counts[more.group(2)] += int(more.group(1))
            elif block["type"] == "section":
                counts[severity] += text.count("\n•") + 1
    return counts


def expected_counts(alerts: list[Alert]) -> str:
    tally = Counter(a.severity for a in alerts)
    return ", ".join(f"{tally[s]} {s}" for s in SEVERITIES if tally[s])


def test_digest_of_the_real_alerts_reaches_slack_and_email_once(
    store_warehouse: Path, tmp_path: Path
) -> None:
    with fake_http("slack_webhook") as slack, fake_http("sendgrid") as sendgrid:
        resources = store_resources(tmp_path, store_warehouse, slack, sendgrid)
        slack.fail_next(text_reply(503, "service_unavailable"))
        first = dg.materialize(CHAIN, resources=resources)
        assert first.success
        alerts = table_alerts(store_warehouse)
        assert {a.severity for a in alerts} >= {"critical", "warning"}
        ids = {(a.product_name, a.reason): a.product_id for a in alerts}
        assert len(ids) == len(alerts)  # each row tells its alert apart
        meta = digest_metadata(first)
        assert (meta["alerts"], meta["queued"], meta["sent"], meta["failed"]) == (
            len(alerts), 2, 1, 1)
        assert meta["waiting_in_outbox"] == 1

        # The e-mail lists every alert of the table under its severity.
        (mail,) = sendgrid.accepted
        assert mail["subject"] == f"{TITLE}: {expected_counts(alerts)}"
        assert email_sections(mail, ids) == by_severity(alerts)
        # Slack answered 503: the message waits in the outbox, nothing was lost.
        assert len(slack.requests) == 1 and not slack.accepted
        outbox = Outbox(tmp_path / "notify.sqlite")
        assert Counter(m.state for m in outbox.messages()) == Counter(sent=1, failed=1)

        # A rerun inside the cooldown queues nothing new, and the failed message is still
        # backing off: nothing is sent.
        second = digest_metadata(dg.materialize(CHAIN, resources=resources))
        assert (second["queued"], second["sent"], second["failed"]) == (0, 0, 0)
        assert second["held_back_by_cooldown"] == 2 * len(alerts)
        assert len(slack.requests) == 1 and len(sendgrid.accepted) == 1

        # Once the backoff has passed, the next run delivers the Slack digest once.
        backoff_passed(outbox)
        third = digest_metadata(dg.materialize([alert_digest], resources=resources))
        assert (third["sent"], third["failed"], third["waiting_in_outbox"]) == (1, 0, 0)
        (post,) = slack.accepted
        assert block_kit_error(post) is None
        assert len(post["blocks"]) <= MAX_BLOCKS
        assert message_chars(post["blocks"]) <= MAX_MESSAGE_CHARS
        assert post["text"] == f"{TITLE}: {expected_counts(alerts)}"
        assert slack_counts(post) == {s: sum(by_severity(alerts)[s].values())
                                      for s in SEVERITIES}
        critical = [a.product_name for a in alerts if a.severity == "critical"]
        assert all(f"*{html.escape(name, quote=False)}*" in str(post) for name in critical[:5])

        # And nothing more after that.
        digest_metadata(dg.materialize([alert_digest], resources=resources))
        assert len(slack.accepted) == 1 and len(sendgrid.accepted) == 1
        assert {m.state for m in outbox.messages()} == {"sent"}
