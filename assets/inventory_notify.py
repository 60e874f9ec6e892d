"""The daily alert digest, sent in the 06:00 refresh right after ``inventory/alerts``.

It is an asset downstream of the alerts rather than a second schedule: the one 06:00 run
then rebuilds forecasts and alerts and sends the digest in order, and a failed blocking
check on the alerts stops the digest instead of mailing wrong numbers. Its
materialization records what was queued and delivered; messages that did not go through
stay in the outbox for the retry sensor.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from analytics_pipeline.notify.alerts import read_alerts
from analytics_pipeline.notify.dispatch import configured, deliver_due, queue_alerts
from analytics_pipeline.resources import (
    ClockResource,
    EmailResource,
    NotifyOutboxResource,
    SlackResource,
    WarehouseResource,
)

ALERTS_KEY = dg.AssetKey(["inventory", "alerts"])
DIGEST_KEY = dg.AssetKey(["inventory", "alert_digest"])
NO_CHANNEL = (
    "no notification channel configured (set ANALYTICS_SLACK_WEBHOOK_URL, or "
    "ANALYTICS_SLACK_BOT_TOKEN with ANALYTICS_SLACK_CHANNEL, or ANALYTICS_SENDGRID_API_KEY "
    "or ANALYTICS_SMTP_URL with ANALYTICS_ALERT_EMAIL_TO and ANALYTICS_ALERT_EMAIL_FROM)"
)


@dg.asset(
    key=DIGEST_KEY, group_name="inventory", deps=[ALERTS_KEY],
    description="Daily digest of inventory alerts to Slack and e-mail, grouped by severity.",
)
def alert_digest(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, clock: ClockResource,
    slack: SlackResource, email: EmailResource, notify_outbox: NotifyOutboxResource,
) -> dg.MaterializeResult[None]:
    channels = configured(slack.client(), email.client())
    if not channels:
        context.log.info(f"alert digest skipped: {NO_CHANNEL}")
        return dg.MaterializeResult(metadata={"skipped": NO_CHANNEL})
    with warehouse.open() as wh:
        alerts = read_alerts(wh)
    if not alerts:
        context.log.info("alert digest: no alerts today, nothing new to send")
    outbox = notify_outbox.open()
    result = queue_alerts(
        outbox, channels, alerts, kind="digest",
        title=f"Inventory alerts {clock.now():%Y-%m-%d}",
        cooldown=timedelta(hours=notify_outbox.cooldown_hours), now=datetime.now(UTC),
        currency=notify_outbox.currency,
    )
    deliver_due(outbox, channels, context.log, result=result)
    counts = outbox.counts()
    return dg.MaterializeResult(metadata={
        "alerts": len(alerts), "channels": ", ".join(sorted(channels)), **result.metadata(),
        "waiting_in_outbox": counts.get("pending", 0) + counts.get("failed", 0),
    })
