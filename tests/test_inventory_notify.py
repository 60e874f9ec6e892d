"""Inventory alert notifications against local fakes of Slack, SendGrid and SMTP.

The fakes (tests/notify_fakes.py) speak each service's wire format, including 429 with
``Retry-After`` and 5xx replies; the outbox must deliver every message exactly once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from analytics_pipeline.assets.inventory_notify import ALERTS_KEY, DIGEST_KEY, alert_digest
from analytics_pipeline.definitions import build_definitions
from analytics_pipeline.notify.alerts import SEVERITIES, Alert, read_alerts
from analytics_pipeline.notify.digest import (
    MAX_BLOCKS,
    MAX_HEADER_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_SECTION_CHARS,
    build_digest,
    message_chars,
)
from analytics_pipeline.notify.dispatch import (
    RetryPolicy,
    configured,
    deliver_due,
    queue_alerts,
)
from analytics_pipeline.notify.mail import SendGridChannel, SmtpChannel
from analytics_pipeline.notify.outbox import Outbox
from analytics_pipeline.notify.slack import SlackBotChannel, SlackWebhookChannel
from analytics_pipeline.resources import (
    EmailResource,
    NotifyOutboxResource,
    SlackResource,
    WarehouseResource,
    resources_for,
)
from analytics_pipeline.schedules.inventory_notify import (
    URGENT_OP,
    outbox_retry_sensor,
    urgent_alerts_job,
    urgent_low_stock_sensor,
)
from analytics_pipeline.settings import Settings, SettingsError
from analytics_pipeline.warehouse import DuckDBWarehouse
from tests.notify_fakes import FakeService, fake_http, fake_smtp, json_reply, text_reply

T0 = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
LOG = logging.getLogger("test_inventory_notify")
HOOK_PATH = "/services/T000/B000/s3cretHookToken"


def alert(n: int, severity: str = "warning", alert_type: str = "low_stock",
          day: str = "2026-11-24") -> Alert:
    return Alert(
        alert_id=f"{alert_type}|p{n}|{day}", product_id=f"p{n}",
        product_name=f"Product {n} <&> blend", category="tea", alert_type=alert_type,
        severity=severity, reason=f"{n % 9 + 1} units left, selling {n % 5 + 2}/day; "
        f"runs out in {n % 7} days, lead time 5 days",
        evidence=json.dumps({"on_hand": n % 9 + 1}), suggested_quantity=float(10 + n),
        expected_stockout_date="2026-11-28", revenue_at_risk=float(50 * n), as_of=day,
    )


def mixed(count: int) -> list[Alert]:
    return [alert(n, SEVERITIES[n % 3]) for n in range(count)]


def send(outbox: Outbox, channels: dict[str, Any], alerts: list[Alert], now: datetime,
         kind: str = "digest", sleeps: list[float] | None = None) -> Any:
    result = queue_alerts(outbox, channels, alerts, kind=kind, title="Inventory alerts",
                          cooldown=DAY, now=now)
    waits = sleeps if sleeps is not None else []
    return deliver_due(outbox, channels, LOG, clock=lambda: now, sleep=waits.append,
                       result=result)


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "notify.sqlite")


# --- the digest ---------------------------------------------------------------------------

def test_digest_of_500_alerts_is_grouped_by_severity_and_within_slack_limits() -> None:
    alerts = mixed(500)
    digest = build_digest(alerts, "Inventory alerts 2026-11-24")
    blocks = digest.slack.blocks
    assert len(blocks) <= MAX_BLOCKS
    assert message_chars(blocks) <= MAX_MESSAGE_CHARS
    assert blocks[0]["type"] == "header" and len(blocks[0]["text"]["text"]) <= MAX_HEADER_CHARS
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(text) <= MAX_SECTION_CHARS for text in sections)
    titles = [t for t in sections if t.startswith(":")]
    assert [t.split("*")[1] for t in titles] == ["Critical", "Warning", "Info"]
    # Every alert is either listed or counted in its severity's overflow line.
    text = json.dumps(blocks)
    for severity in SEVERITIES:
        total = sum(a.severity == severity for a in alerts)
        shown = sum(f"*Product {a.product_id[1:]} &lt;&amp;&gt; blend*" in text
                    for a in alerts if a.severity == severity)
        more = [int(e["text"].split()[2]) for b in blocks if b["type"] == "context"
                for e in b["elements"] if f"more {severity} alerts" in e["text"]]
        assert shown + sum(more) == total
    assert "Product 0 &lt;&amp;&gt; blend" in text  # mrkdwn control characters escaped
    assert digest.slack.text == "Inventory alerts 2026-11-24: 167 critical, 167 warning, 166 info"


def test_email_digest_lists_every_alert_grouped_and_escaped() -> None:
    digest = build_digest(mixed(500), "Inventory alerts", note="2 held back")
    html, text = digest.email.html, digest.email.text
    assert html.index("Critical (167)") < html.index("Warning (167)") < html.index("Info (166)")
    assert "Product 499 &lt;&amp;&gt; blend" in html and "<&>" not in html.split("<body>")[1]
    assert text.index("CRITICAL (167)") < text.index("WARNING (167)") < text.index("INFO (166)")
    assert all(f"Product {n} <&> blend" in text for n in range(500))
    assert digest.email.subject == "Inventory alerts: 167 critical, 167 warning, 166 info"
    assert text.rstrip().endswith("2 held back")


def test_the_500_alert_digest_is_accepted_by_the_fake_slack() -> None:
    with fake_http("slack_webhook") as slack:
        channel = SlackWebhookChannel(slack.url + HOOK_PATH)
        channel.send(channel.render(build_digest(mixed(500), "Inventory alerts")))
        assert len(slack.accepted) == 1


# --- retries, outbox, cooldown ----------------------------------------------------------

def test_slack_429_then_success_delivers_exactly_once(outbox: Outbox) -> None:
    with fake_http("slack_webhook") as slack:
        slack.fail_next(text_reply(429, "rate_limited", **{"Retry-After": "1"}))
        channels = configured(SlackWebhookChannel(slack.url + HOOK_PATH))
        sleeps: list[float] = []
        result = send(outbox, channels, mixed(6), T0, sleeps=sleeps)
        assert sleeps == [1.0]  # Retry-After honoured before the second try
        assert len(slack.requests) == 2 and len(slack.accepted) == 1
        assert len(result.sent) == 1 and not result.failed
        (message,) = outbox.messages()
        assert (message.state, message.attempts) == ("sent", 2)
        again = deliver_due(outbox, channels, LOG, clock=lambda: T0 + DAY)
        assert not again.sent and len(slack.requests) == 2


def test_bot_token_429_then_success_and_logical_errors(outbox: Outbox) -> None:
    with fake_http("slack_api") as slack:
        bot = SlackBotChannel("xoxb-test-token", "C0ALERTS", base_url=slack.url + "/api/")
        slack.fail_next(json_reply(429, {"ok": False, "error": "ratelimited"},
                                   **{"Retry-After": "2"}))
        sleeps: list[float] = []
        send(outbox, {"slack": bot}, mixed(3), T0, sleeps=sleeps)
        assert sleeps == [2.0] and len(slack.accepted) == 1
        assert slack.accepted[0]["channel"] == "C0ALERTS" and slack.accepted[0]["blocks"]
        assert outbox.messages("sent")[0].attempts == 2
        # A logical error (HTTP 200, ok=false) is permanent: kept, retried after the cap.
        slack.fail_next(json_reply(200, {"ok": False, "error": "not_in_channel"}))
        result = send(outbox, {"slack": bot}, [alert(99, "critical")], T0)
        (failed,) = outbox.messages("failed")
        assert "not_in_channel" in result.failed[failed.message_id]
        assert failed.next_attempt_at == T0 + RetryPolicy().cap
        assert not deliver_due(outbox, {"slack": bot}, LOG, clock=lambda: T0 + DAY / 8).sent
        assert deliver_due(outbox, {"slack": bot}, LOG, clock=lambda: T0 + DAY / 4).sent


def test_outage_keeps_messages_and_a_later_run_delivers_each_once(
    outbox: Outbox, tmp_path: Path
) -> None:
    with fake_http("slack_webhook") as slack, fake_http("sendgrid") as sendgrid:
        channels = configured(
            SlackWebhookChannel(slack.url + HOOK_PATH),
            SendGridChannel("SG.test-key", "alerts@shop.example", ["owner@shop.example"],
                            host=sendgrid.url),
        )
        down = [text_reply(500, "rollup_error")] * 3
        slack.fail_next(*down)
        sendgrid.fail_next(*[json_reply(503, {"errors": [{"message": "unavailable"}]})] * 3)
        first = send(outbox, channels, mixed(20), T0)
        assert len(first.queued) == 2 and len(first.failed) == 2 and not first.sent
        assert {m.state for m in outbox.messages()} == {"failed"}
        # Backoff: 1 min after the first failure, 2 after the second, 4 after the third;
        # a run before that sends nothing.
        moment = T0
        for minutes in (1, 2, 4):
            wait = timedelta(minutes=minutes)
            just_before = moment + wait - timedelta(seconds=1)
            early = deliver_due(outbox, channels, LOG, clock=lambda m=just_before: m)
            assert not early.sent and not early.failed
            moment += wait + timedelta(seconds=1)
            deliver_due(outbox, channels, LOG, clock=lambda m=moment: m)
        assert len(slack.requests) == 4 and len(sendgrid.requests) == 4
        assert len(slack.accepted) == 1 and len(sendgrid.accepted) == 1
        assert {(m.state, m.attempts) for m in outbox.messages()} == {("sent", 4)}
        # A new process, a day later: nothing left, nothing sent twice.
        reopened = Outbox(tmp_path / "notify.sqlite")
        assert not deliver_due(reopened, channels, LOG, clock=lambda: T0 + DAY).sent
        assert len(slack.accepted) == 1 and len(sendgrid.accepted) == 1


def test_messages_survive_a_restart_and_a_claim_is_not_sent_twice(tmp_path: Path) -> None:
    path = tmp_path / "notify.sqlite"
    with fake_http("slack_webhook") as slack:
        channels = configured(SlackWebhookChannel(slack.url + HOOK_PATH))
        queue_alerts(Outbox(path), channels, mixed(4), kind="digest", title="t",
                     cooldown=DAY, now=T0)
        claimed = Outbox(path).claim_due(["slack"], T0, RetryPolicy().lease)
        assert len(claimed) == 1
        # Another worker meanwhile finds nothing due: the claim holds it.
        assert not deliver_due(Outbox(path), channels, LOG, clock=lambda: T0).sent
        # The claiming worker died; after the lease the message is delivered once.
        late = T0 + RetryPolicy().lease + timedelta(seconds=1)
        assert len(deliver_due(Outbox(path), channels, LOG, clock=lambda: late).sent) == 1
        assert len(slack.accepted) == 1


def test_cooldown_suppresses_resends(outbox: Outbox) -> None:
    with fake_http("slack_webhook") as slack:
        channels = configured(SlackWebhookChannel(slack.url + HOOK_PATH))
        alerts = mixed(5)
        assert len(send(outbox, channels, alerts, T0).sent) == 1
        rerun = send(outbox, channels, alerts, T0 + timedelta(hours=2))
        assert not rerun.queued and rerun.suppressed == {"slack": 5}
        # Tomorrow's alerts about the same products (new ids) are still within the cooldown
        # when sent urgently an hour later ...
        tomorrow = [alert(n, a.severity, day="2026-11-25") for n, a in enumerate(alerts)]
        assert not send(outbox, channels, tomorrow, T0 + timedelta(hours=3), "urgent").queued
        # ... a new product is sent, noting what was held back ...
        extra = send(outbox, channels, [*alerts, alert(77, "critical")], T0 + timedelta(hours=4))
        assert extra.suppressed == {"slack": 5} and len(extra.sent) == 1
        assert "5 alert(s) sent in the last 24 h are not repeated" in json.dumps(
            slack.accepted[-1])
        assert "Product 77" in json.dumps(slack.accepted[-1])
        # ... and the next morning's digest repeats conditions that persist.
        assert len(send(outbox, channels, tomorrow, T0 + DAY).sent) == 1
        assert len(slack.accepted) == 3


def test_sendgrid_wire_format_errors_and_retry_after(outbox: Outbox) -> None:
    with fake_http("sendgrid") as sendgrid:
        email = SendGridChannel("SG.test-key", "alerts@shop.example",
                                ["owner@shop.example", "buyer@shop.example"], host=sendgrid.url)
        sendgrid.fail_next(json_reply(429, {"errors": [{"message": "too many requests"}]},
                                      **{"Retry-After": "120"}))
        result = send(outbox, {"email": email}, mixed(3), T0)
        (message,) = outbox.messages("failed")
        assert message.next_attempt_at == T0 + timedelta(seconds=120)  # > 60 s backoff
        assert "429" in result.failed[message.message_id]
        deliver_due(outbox, {"email": email}, LOG, clock=lambda: T0 + timedelta(minutes=2))
        (body,) = sendgrid.accepted
        assert body["personalizations"][0]["to"] == [{"email": "owner@shop.example"},
                                                     {"email": "buyer@shop.example"}]
        assert body["from"] == {"email": "alerts@shop.example"}
        assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
        assert outbox.messages("sent")[0].payload["subject"].startswith("Inventory alerts")
        sendgrid.fail_next(json_reply(400, {"errors": [
            {"message": "Does not contain a valid address.", "field": "personalizations.0.to"}]}))
        bad = send(outbox, {"email": email}, [alert(50)], T0)
        assert any("valid address" in e for e in bad.failed.values())
        assert outbox.messages("failed")[0].next_attempt_at == T0 + RetryPolicy().cap


def test_smtp_alternative_delivers_text_and_html(outbox: Outbox) -> None:
    with fake_smtp() as smtp:
        email = SmtpChannel(f"smtp://127.0.0.1:{smtp.port}", "alerts@shop.example",
                            ["owner@shop.example"])
        smtp.data_replies.append("451 4.3.0 Try again later")
        first = send(outbox, {"email": email}, mixed(4), T0)
        assert first.failed and not smtp.messages
        deliver_due(outbox, {"email": email}, LOG, clock=lambda: T0 + timedelta(minutes=2))
        (message,) = smtp.messages
        assert smtp.envelopes == [("alerts@shop.example", ["owner@shop.example"])]
        assert message.get_content_type() == "multipart/alternative"
        parts = [p.get_content_type() for p in message.walk()]
        assert "text/plain" in parts and "text/html" in parts
        assert outbox.messages("sent")[0].attempts == 2
        smtp.rcpt_replies.append("550 5.1.1 <owner@shop.example> no such user")
        refused = send(outbox, {"email": email}, [alert(60)], T0)
        assert list(refused.failed.values()) == ["SMTP recipients refused [550]"]  # no address


def test_errors_and_logs_carry_no_secrets_or_addresses(
    outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hook = SlackWebhookChannel("http://127.0.0.1:9" + HOOK_PATH)  # nothing listens there
    with fake_http("sendgrid") as sendgrid:
        sendgrid.fail_next(json_reply(500, {"errors": [{"message": "oops"}]}))
        email = SendGridChannel("SG.test-key", "alerts@shop.example", ["owner@shop.example"],
                                host=sendgrid.url)
        result = send(outbox, {"slack": hook, "email": email}, mixed(3), T0)
    assert len(result.failed) == 2
    stored = json.dumps([m.last_error for m in outbox.messages()])
    for secret in ("s3cretHookToken", "SG.test-key", "owner@shop.example"):
        assert secret not in caplog.text and secret not in stored
    settings = Settings.from_env({"ANALYTICS_SLACK_WEBHOOK_URL": "https://h/s3cret",
                                  "ANALYTICS_SENDGRID_API_KEY": "SG.k",
                                  "ANALYTICS_ALERT_EMAIL_TO": "owner@shop.example",
                                  "ANALYTICS_ALERT_EMAIL_FROM": "a@shop.example"})
    assert "s3cret" not in repr(settings) and "owner@" not in repr(settings)


# --- settings and resources -------------------------------------------------------------

def test_channels_come_from_settings_with_the_same_keys_everywhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {"ANALYTICS_SLACK_BOT_TOKEN": "xoxb-1", "ANALYTICS_SLACK_CHANNEL": "C1",
           "ANALYTICS_SMTP_URL": "smtp+starttls://u:p@mail.example:587",
           "ANALYTICS_ALERT_EMAIL_TO": "a@x.example, b@x.example, a@x.example",
           "ANALYTICS_ALERT_EMAIL_FROM": "alerts@x.example",
           "ANALYTICS_ALERT_COOLDOWN_HOURS": "12", "ANALYTICS_OUTBOX_DB": "/srv/notify/o.sqlite"}
    local = resources_for(Settings.from_env(env))
    production = resources_for(Settings.from_env({**env, "ANALYTICS_ENV": "production"}))
    assert local.keys() == production.keys() >= {"slack", "email", "notify_outbox"}
    assert isinstance(local["slack"].client(), SlackBotChannel)
    assert isinstance(local["email"].client(), SmtpChannel)
    assert local["notify_outbox"].cooldown_hours == 12
    assert local["notify_outbox"].path == "/srv/notify/o.sqlite"
    assert resources_for(Settings.from_env({}))["slack"].client() is None
    # From the process environment, secrets are passed to Dagster by variable name.
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from_process = resources_for(Settings.from_env())
    assert isinstance(from_process["slack"].bot_token, dg.EnvVar)
    assert from_process["slack"].bot_token.env_var_name == "ANALYTICS_SLACK_BOT_TOKEN"


def test_secrets_from_the_environment_reach_the_channels_at_run_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_http("slack_webhook") as slack:
        env = {"ANALYTICS_WAREHOUSE": f"duckdb:///{tmp_path}/w.duckdb",
               "ANALYTICS_SLACK_WEBHOOK_URL": slack.url + HOOK_PATH,
               "ANALYTICS_SMTP_URL": "smtp://127.0.0.1:9",  # down: stays in the outbox
               "ANALYTICS_ALERT_EMAIL_TO": "owner@shop.example",
               "ANALYTICS_ALERT_EMAIL_FROM": "alerts@shop.example"}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        resources = resources_for(Settings.from_env())
        assert isinstance(resources["slack"].webhook_url, dg.EnvVar)
        result = dg.materialize([stub_alerts_asset(mixed(5)), alert_digest],
                                resources=resources)
        assert result.success and len(slack.accepted) == 1
        outbox = Outbox(tmp_path / "notify.sqlite")
        assert {m.channel: m.state for m in outbox.messages()} == {"slack": "sent",
                                                                   "email": "failed"}


@pytest.mark.parametrize(("env", "message"), [
    ({"ANALYTICS_SLACK_BOT_TOKEN": "xoxb-1"}, "needs ANALYTICS_SLACK_CHANNEL"),
    ({"ANALYTICS_SENDGRID_API_KEY": "SG.1"}, "ANALYTICS_ALERT_EMAIL_TO"),
    ({"ANALYTICS_SMTP_URL": "http://x", "ANALYTICS_ALERT_EMAIL_TO": "a@x",
      "ANALYTICS_ALERT_EMAIL_FROM": "b@x"}, "ANALYTICS_SMTP_URL must start with"),
    ({"ANALYTICS_ALERT_COOLDOWN_HOURS": "-1"}, "COOLDOWN_HOURS"),
])
def test_bad_notify_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


# --- Dagster: schedule, digest asset, sensors -------------------------------------------

def test_digest_runs_in_the_six_am_schedule_after_the_alerts() -> None:
    definitions = build_definitions(Settings.from_env({"ANALYTICS_STORE_TZ": "America/Toronto"}))
    schedule = definitions.resolve_schedule_def("daily_refresh_6am")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * *",
                                                                     "America/Toronto")
    job = definitions.resolve_job_def(schedule.job_name)
    assert DIGEST_KEY in job.asset_layer.executable_asset_keys
    graph = definitions.resolve_asset_graph()
    assert ALERTS_KEY in graph.get(DIGEST_KEY).parent_keys
    assert {s.name for s in definitions.sensors or []} >= {
        "inventory_urgent_low_stock", "inventory_notify_retry"}


def write_alerts(wh: DuckDBWarehouse, alerts: list[Alert]) -> None:
    wh.ensure_schema("inventory")
    wh.execute(
        "CREATE OR REPLACE TABLE inventory.alerts (alert_id VARCHAR, product_id VARCHAR,"
        " product_name VARCHAR, category VARCHAR, alert_type VARCHAR, severity VARCHAR,"
        " reason VARCHAR, evidence VARCHAR, suggested_quantity DOUBLE,"
        " expected_stockout_date DATE, revenue_at_risk DOUBLE, as_of TIMESTAMPTZ)"
    )
    for a in alerts:
        wh.execute(
            "INSERT INTO inventory.alerts VALUES ($alert_id, $product_id, $product_name,"
            " $category, $alert_type, $severity, $reason, $evidence, $suggested_quantity,"
            " CAST($expected_stockout_date AS DATE), $revenue_at_risk,"
            " CAST($as_of AS TIMESTAMPTZ))", a.as_record(),
        )


def stub_alerts_asset(current: list[Alert]) -> dg.AssetsDefinition:
    """Stands in for the alerts asset being built elsewhere: writes ``current``."""

    @dg.asset(key=ALERTS_KEY, group_name="inventory")
    def alerts(warehouse: WarehouseResource) -> None:
        with warehouse.open() as wh:
            write_alerts(wh, current)  # type: ignore[arg-type]

    return alerts


def notify_resources(tmp_path: Path, slack: FakeService | None = None,
                     sendgrid: FakeService | None = None) -> dict[str, Any]:
    settings = Settings.from_env({}, warehouse_url=f"duckdb:///{tmp_path}/w.duckdb")
    resources = resources_for(settings)
    resources["notify_outbox"] = NotifyOutboxResource(path=str(tmp_path / "notify.sqlite"))
    if slack:
        resources["slack"] = SlackResource(webhook_url=slack.url + HOOK_PATH)
    if sendgrid:
        resources["email"] = EmailResource(sendgrid_api_key="SG.test-key",
                                           sendgrid_host=sendgrid.url,
                                           to="owner@shop.example", sender="alerts@shop.example")
    return resources


def test_digest_asset_sends_to_fake_slack_and_email_once(tmp_path: Path) -> None:
    current = mixed(40)
    assets = [stub_alerts_asset(current), alert_digest]
    with fake_http("slack_webhook") as slack, fake_http("sendgrid") as sendgrid:
        resources = notify_resources(tmp_path, slack, sendgrid)
        result = dg.materialize(assets, resources=resources)
        assert result.success
        meta = result.asset_materializations_for_node("inventory__alert_digest")[0].metadata
        assert (meta["sent"].value, meta["failed"].value) == (2, 0)
        assert len(slack.accepted) == 1 and len(sendgrid.accepted) == 1
        assert "Product 39" in sendgrid.accepted[0]["content"][1]["value"]
        assert dg.materialize(assets, resources=resources).success  # a rerun
        assert len(slack.accepted) == 1 and len(sendgrid.accepted) == 1


def test_digest_without_channels_is_skipped_with_a_log_line(tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([stub_alerts_asset(mixed(3)), alert_digest], instance=instance,
                            resources=notify_resources(tmp_path))
    assert result.success
    messages = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any("alert digest skipped: no notification channel configured" in m
               for m in messages)
    assert not (tmp_path / "notify.sqlite").exists()


def test_sensor_fires_only_for_new_critical_low_stock_alerts(tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    current = [alert(1, "critical"), alert(2, "warning"), alert(3, "critical", "overstock"),
               alert(4, "critical")]
    asset = stub_alerts_asset(current)
    with fake_http("slack_webhook") as slack:
        resources = notify_resources(tmp_path, slack)

        def evaluate(cursor: str | None) -> Any:
            context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                              resources=resources)
            return urgent_low_stock_sensor(context)

        assert isinstance(evaluate(None), dg.SkipReason)  # no alerts materialized yet
        dg.materialize([asset], instance=instance, resources=resources)
        first = evaluate(None)
        (request,) = first.run_requests
        sent = request.run_config["ops"][URGENT_OP]["config"]["alerts"]
        assert sorted(a["product_id"] for a in sent) == ["p1", "p4"]
        # Nothing new since: no run, however many ticks.
        assert isinstance(evaluate(first.cursor), dg.SkipReason)
        # A refresh with the same alerts plus one new critical low-stock alert.
        current.extend([alert(5, "critical"), alert(6, "info")])
        dg.materialize([asset], instance=instance, resources=resources)
        second = evaluate(first.cursor)
        (request,) = second.run_requests
        sent = request.run_config["ops"][URGENT_OP]["config"]["alerts"]
        assert [a["product_id"] for a in sent] == ["p5"]
        dg.materialize([asset], instance=instance, resources=resources)
        refreshed = evaluate(second.cursor)  # rebuilt, nothing new in it
        assert not refreshed.run_requests and refreshed.cursor != second.cursor
        # The requested run sends the urgent alert to Slack.
        run = urgent_alerts_job.execute_in_process(run_config=request.run_config,
                                                   resources=resources)
        assert run.success and len(slack.accepted) == 1
        assert "Urgent: critical low stock" in json.dumps(slack.accepted[0])


def test_sensor_skips_when_no_channel_is_configured(tmp_path: Path) -> None:
    context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(),
                                      resources=notify_resources(tmp_path))
    skipped = urgent_low_stock_sensor(context)
    assert isinstance(skipped, dg.SkipReason)
    assert "no notification channel configured" in str(skipped.skip_message)


def test_retry_sensor_requests_a_run_only_when_messages_are_due(tmp_path: Path) -> None:
    resources = notify_resources(tmp_path)
    context = dg.build_sensor_context(resources=resources)
    assert isinstance(outbox_retry_sensor(context), dg.SkipReason)  # no outbox file yet
    outbox = Outbox(tmp_path / "notify.sqlite")
    with fake_http("slack_webhook") as slack:
        slack.fail_next(text_reply(503, "service_unavailable"))
        channels = configured(SlackWebhookChannel(slack.url + HOOK_PATH))
        now = datetime.now(UTC)
        send(outbox, channels, mixed(2), now)
        assert isinstance(outbox_retry_sensor(context), dg.SkipReason)  # backing off
        backoff_passed(outbox)
        request = outbox_retry_sensor(context)
        assert isinstance(request, dg.RunRequest)
        assert request.run_key and request.run_key.startswith("outbox-retry-")
        # The requested run delivers it.
        run = urgent_alerts_job.execute_in_process(resources=notify_resources(tmp_path, slack))
        assert run.success and len(slack.accepted) == 1
        assert isinstance(outbox_retry_sensor(context), dg.SkipReason)


def backoff_passed(outbox: Outbox) -> None:
    """Make every waiting message due, as if its backoff had passed."""
    with contextlib.closing(sqlite3.connect(outbox.path)) as conn, conn:
        conn.execute("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00.000000Z'"
                     " WHERE state != 'sent'")


def test_read_alerts_orders_by_severity_then_money(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "w.duckdb", "UTC")
    assert read_alerts(wh) == []
    write_alerts(wh, [alert(1, "info"), alert(2, "critical"), alert(9, "critical"),
                      alert(3, "warning", "overstock")])
    assert [a.product_id for a in read_alerts(wh)] == ["p9", "p2", "p3", "p1"]
    assert [a.product_id for a in read_alerts(wh, "low_stock", "critical")] == ["p9", "p2"]
    assert read_alerts(wh)[0].expected_stockout_date == "2026-11-28"
    wh.close()
