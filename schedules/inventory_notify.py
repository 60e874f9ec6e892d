"""Between digests: urgent critical low-stock alerts, and retries of undelivered messages.

Both sensors only request runs of ``inventory_urgent_alerts``; sending happens in runs,
where it is logged and retried like any step.

``inventory_urgent_low_stock`` reads the warehouse only after a new ``inventory/alerts``
materialization, and only once the run that made it has finished: a DuckDB file admits
one process at a time, so the sensor must not knock a refresh step off the file. Its
cursor holds the last materialization seen and the critical low-stock alert ids already
handled, so an alert fires once; the alerts travel in the run configuration, so the run
does not open the warehouse at all.
"""

import hashlib
import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from analytics_pipeline.assets.inventory_notify import ALERTS_KEY, NO_CHANNEL
from analytics_pipeline.notify.alerts import Alert, read_alerts
from analytics_pipeline.notify.dispatch import configured, deliver_due, queue_alerts
from analytics_pipeline.resources import (
    EmailResource,
    NotifyOutboxResource,
    SlackResource,
    WarehouseResource,
)
from analytics_pipeline.warehouse import WarehouseBusyError

URGENT_OP = "send_urgent_alerts"


class UrgentAlertsConfig(dg.Config):
    # Rows of ``inventory.alerts`` as text, empty fields left out (``Alert.from_record``
    # reads them back), so the run config needs no second copy of the Alert fields.
    alerts: list[dict[str, str]] = []  # noqa: RUF012 - pydantic copies field defaults


@dg.op(name=URGENT_OP, description="Queue urgent alerts (cooldown applied), deliver due ones.")
def send_urgent_alerts(
    context: dg.OpExecutionContext, config: UrgentAlertsConfig, slack: SlackResource,
    email: EmailResource, notify_outbox: NotifyOutboxResource,
) -> None:
    channels = configured(slack.client(), email.client())
    if not channels:
        context.log.info(f"urgent alerts skipped: {NO_CHANNEL}")
        return
    outbox = notify_outbox.open()
    alerts = [Alert.from_record(alert) for alert in config.alerts]
    result = queue_alerts(
        outbox, channels, alerts, kind="urgent", title="Urgent: critical low stock",
        cooldown=timedelta(hours=notify_outbox.cooldown_hours), now=datetime.now(UTC),
        currency=notify_outbox.currency,
    )
    deliver_due(outbox, channels, context.log, result=result)
    context.log.info(f"urgent alerts: {result.metadata()}")


@dg.job(name="inventory_urgent_alerts",
        description="Send urgent alerts and retry messages waiting in the outbox.")
def urgent_alerts_job() -> None:
    send_urgent_alerts()


@dg.sensor(name="inventory_urgent_low_stock", job=urgent_alerts_job,
           minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def urgent_low_stock_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, slack: SlackResource,
    email: EmailResource,
) -> dg.SensorResult | dg.SkipReason:
    """A run for critical low-stock alerts not seen before."""
    if not configured(slack.client(), email.client()):
        return dg.SkipReason(NO_CHANNEL)
    cursor = json.loads(context.cursor) if context.cursor else {}
    after, seen = int(cursor.get("after", 0)), {str(i) for i in cursor.get("seen", [])}
    records = context.instance.fetch_materializations(ALERTS_KEY, limit=1).records
    if not records or records[0].storage_id <= after:
        return dg.SkipReason("no new inventory/alerts materialization")
    latest = records[0]
    run = context.instance.get_run_by_id(latest.run_id)
    if run is not None and not run.is_finished:
        return dg.SkipReason(f"waiting for run {latest.run_id} to finish")
    try:
        with warehouse.open() as wh:
            alerts = read_alerts(wh, alert_type="low_stock", severity="critical")
    except WarehouseBusyError:
        return dg.SkipReason("warehouse busy; looking again at the next tick")
    new = [alert for alert in alerts if alert.alert_id not in seen]
    # Only ids still in the table are kept: the cursor stays small, and ids carry their
    # as_of day, so a dropped id does not come back.
    next_cursor = json.dumps({"after": latest.storage_id,
                              "seen": sorted(alert.alert_id for alert in alerts)})
    if not new:
        return dg.SensorResult(skip_reason="no new critical low-stock alerts",
                               cursor=next_cursor)
    rows = [{k: str(v) for k, v in a.as_record().items() if v is not None} for a in new]
    run_config = {"ops": {URGENT_OP: {"config": {"alerts": rows}}}}
    request = dg.RunRequest(run_key=f"urgent-low-stock-{latest.storage_id}",
                            run_config=run_config, tags={"alerts": str(len(new))})
    return dg.SensorResult(run_requests=[request], cursor=next_cursor)


@dg.sensor(name="inventory_notify_retry", job=urgent_alerts_job, minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING)
def outbox_retry_sensor(
    context: dg.SensorEvaluationContext, notify_outbox: NotifyOutboxResource,
) -> dg.RunRequest | dg.SkipReason:
    """A run when messages in the outbox are due for another try."""
    if not notify_outbox.exists():
        return dg.SkipReason("no outbox yet")
    due = notify_outbox.open().due(datetime.now(UTC))
    if not due:
        return dg.SkipReason("nothing waiting in the outbox")
    # A try moves next_attempt_at, so the key changes after each one; an unchanged due
    # set (say, a channel no longer configured) does not start run after run.
    digest = hashlib.sha256(repr(due).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"outbox-retry-{digest}", tags={"due": str(len(due))})


NOTIFY_SENSORS = [urgent_low_stock_sensor, outbox_retry_sensor]
