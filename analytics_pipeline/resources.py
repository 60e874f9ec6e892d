"""Dagster resources: the only way assets reach the warehouse, the source and the clock.

``resources_for`` returns the per-environment set (hooli's pattern): local and
production have the same keys, so assets never check which environment they run in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
from dagster_gcp import BigQueryResource
from pydantic import PrivateAttr

from analytics_pipeline.clock import resolve_as_of
from analytics_pipeline.exports.resources import export_resources
from analytics_pipeline.models.clusters import ClusterConfig
from analytics_pipeline.models.clv import ClvConfig
from analytics_pipeline.models.inventory_policy import InventoryPolicy
from analytics_pipeline.notify.mail import (
    SENDGRID_HOST,
    SendGridChannel,
    SmtpChannel,
    email_channel,
)
from analytics_pipeline.notify.outbox import Outbox
from analytics_pipeline.notify.slack import (
    SLACK_API_URL,
    SlackBotChannel,
    SlackWebhookChannel,
    slack_channel,
)
from analytics_pipeline.serving.live_orders import LiveOrderStore
from analytics_pipeline.settings import Settings
from analytics_pipeline.sources import ContractError, FolderSource, Source
from analytics_pipeline.sources.lightspeed.resource import lightspeed_resource
from analytics_pipeline.sources.lightspeed.staging import LightspeedSource
from analytics_pipeline.sources.live import LiveOrdersSource
from analytics_pipeline.warehouse import Warehouse, WarehouseURL, open_warehouse


class WarehouseResource(dg.ConfigurableResource["WarehouseResource"]):
    """The warehouse named by ``url`` (``duckdb:///...`` or ``bigquery://PROJECT/DATASET``)."""

    url: str
    store_timezone: str = "UTC"

    @contextmanager
    def open(self) -> Iterator[Warehouse]:
        with ExitStack() as stack:
            client_for: Callable[[str], Any] | None = None
            location = WarehouseURL.parse(self.url)
            if location.kind == "bigquery":
                # dagster-gcp resolves credentials the way Dagster deployments configure
                # them (GOOGLE_APPLICATION_CREDENTIALS, workload identity, gcp_credentials);
                # its context must stay open while the client is used.
                bigquery = BigQueryResource(project=location.project)
                client = stack.enter_context(bigquery.get_client())
                client_for = lambda _project: client  # noqa: E731 - one-line factory
            warehouse = open_warehouse(self.url, self.store_timezone, bigquery_client=client_for)
            stack.callback(warehouse.close)
            yield warehouse


class SourceResource(dg.ConfigurableResource["SourceResource"]):
    """Where raw data comes from: a folder export, plus orders the API received live."""

    folder: str | None = None
    live_db: str | None = None
    lightspeed_db: str | None = None  # the Lightspeed sync's staging file, once it exists

    def source(self) -> Source:
        if self.lightspeed_db and Path(self.lightspeed_db).exists():
            return LightspeedSource(Path(self.lightspeed_db))
        if not self.folder:
            raise ContractError(
                "no source configured: set ANALYTICS_SOURCE_DIR or pass --source DIR"
            )
        return FolderSource(Path(self.folder))

    def live_orders(self) -> LiveOrdersSource | None:
        """Orders posted to the API since they were last absorbed (None: no live store)."""
        if not self.live_db or not Path(self.live_db).exists():
            return None
        return LiveOrdersSource(LiveOrderStore(Path(self.live_db)))


class ServingResource(dg.ConfigurableResource["ServingResource"]):
    """Where snapshots for the API are published."""

    serving_dir: str

    def serving_path(self) -> Path:
        return Path(self.serving_dir)


class ClockResource(dg.ConfigurableResource["ClockResource"]):
    """The analysis time every asset computes ``as of``.

    Without a configured ``as_of`` it is the time the run started, the same for every
    asset of the run: a run that crosses midnight (or just takes minutes) must not load
    sales up to one moment and forecast or alert from another.
    """

    as_of: str | None = None
    store_timezone: str = "UTC"
    _run_started: datetime | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.as_of or context.run is None or context.instance is None:
            return
        record = context.instance.get_run_record_by_id(context.run.run_id)
        if record is None:
            return
        started = record.start_time
        self._run_started = (datetime.fromtimestamp(started, UTC) if started is not None
                             else record.create_timestamp)

    def now(self) -> datetime:
        if self._run_started is not None:
            return self._run_started.astimezone(ZoneInfo(self.store_timezone))
        return resolve_as_of(self.as_of, self.store_timezone)


# One source for the defaults: the resource takes the settings' own.
_DEFAULTS = Settings.from_env({})


class ModelParamsResource(dg.ConfigurableResource["ModelParamsResource"]):
    """Tunable numbers: SQL models read them as bound parameters (``$target_growth``,
    ``$segment_vip_share``, ...), the CLV and cluster assets as model configuration.
    Defaults are :class:`Settings`' (see there for what each means)."""

    target_growth: float = _DEFAULTS.target_growth
    clv_horizon_days: float = _DEFAULTS.clv_horizon_days
    clv_discount_rate: float = _DEFAULTS.clv_discount_rate
    clv_min_repeat_customers: int = _DEFAULTS.clv_min_repeat_customers
    segment_vip_share: float = _DEFAULTS.segment_vip_share
    segment_new_days: int = _DEFAULTS.segment_new_days
    segment_inactive_days: int = _DEFAULTS.segment_inactive_days
    segment_at_risk_gap_multiple: float = _DEFAULTS.segment_at_risk_gap_multiple
    segment_at_risk_p_alive: float = _DEFAULTS.segment_at_risk_p_alive
    segment_loyalist_min_purchases: int = _DEFAULTS.segment_loyalist_min_purchases
    segment_loyalist_max_gap_cv: float = _DEFAULTS.segment_loyalist_max_gap_cv
    segment_affinity_min_share: float = _DEFAULTS.segment_affinity_min_share
    segment_affinity_min_purchases: int = _DEFAULTS.segment_affinity_min_purchases
    cluster_k_min: int = _DEFAULTS.cluster_k_min
    cluster_k_max: int = _DEFAULTS.cluster_k_max
    # Stock alert thresholds by InventoryPolicy field name (Settings.inventory).
    inventory: dict[str, float] = {}  # noqa: RUF012 - pydantic copies field defaults
    forecast_engine: str = _DEFAULTS.forecast_engine
    clustering_engine: str = _DEFAULTS.clustering_engine

    def as_params(self) -> dict[str, object]:
        params = self.model_dump()
        return {k: v for k, v in params.items() if k == "target_growth" or k.startswith("segment_")}

    def clv_config(self) -> ClvConfig:
        return ClvConfig(
            horizon_days=self.clv_horizon_days,
            annual_discount_rate=self.clv_discount_rate,
            min_repeat_customers=self.clv_min_repeat_customers,
        )

    def cluster_config(self) -> ClusterConfig:
        return ClusterConfig(k_min=self.cluster_k_min, k_max=self.cluster_k_max)

    def inventory_policy(self) -> InventoryPolicy:
        return InventoryPolicy.from_dict(self.inventory)


class TargetsResource(dg.ConfigurableResource["TargetsResource"]):
    """The monthly revenue targets file (``ANALYTICS_TARGETS_FILE``); ``None``: none given."""

    path: str | None = None

    def file(self) -> Path | None:
        return Path(self.path) if self.path else None


def resources_for(settings: Settings) -> dict[str, Any]:
    """The resource set for ``settings.environment``; every environment has the same keys."""
    shared = {
        "warehouse": WarehouseResource(
            url=settings.warehouse_url, store_timezone=settings.store_timezone
        ),
        "clock": ClockResource(as_of=settings.as_of, store_timezone=settings.store_timezone),
        "model_params": ModelParamsResource(**{
            name: getattr(settings, name) for name in ModelParamsResource.model_fields
        }),
        "targets": TargetsResource(
            path=str(settings.targets_file) if settings.targets_file else None
        ),
        "serving": ServingResource(serving_dir=str(settings.serving_path)),
        **_notify_resources(settings),
        **export_resources(settings),
        "lightspeed": lightspeed_resource(settings),
    }
    folder = str(settings.source_dir) if settings.source_dir else None
    staged = shared["lightspeed"].staging_db if settings.lightspeed.configured else None
    # Built anew rather than model_copy'd: Dagster configures a run's resource from the
    # arguments it was constructed with, so a copy's changed field never reaches the run.
    by_environment: dict[str, dict[str, Any]] = {
        "local": {**shared, "source": SourceResource(
            folder=folder, live_db=str(settings.live_db_path))},
        # Production reads what the Lightspeed sync staged, when Lightspeed is configured.
        "production": {**shared, "source": SourceResource(
            folder=folder, live_db=str(settings.live_db_path), lightspeed_db=staged)},
    }
    return by_environment[settings.environment]


class SlackResource(dg.ConfigurableResource["SlackResource"]):
    """Slack: an incoming webhook, or a bot token and channel; neither: not configured.
    ``api_base_url`` is overridable so tests post to a local fake."""

    webhook_url: str | None = None
    bot_token: str | None = None
    channel: str | None = None
    api_base_url: str = SLACK_API_URL
    timeout_seconds: float = 10.0

    def client(self) -> SlackWebhookChannel | SlackBotChannel | None:
        return slack_channel(self.webhook_url, self.bot_token, self.channel,
                             self.api_base_url, self.timeout_seconds)


class EmailResource(dg.ConfigurableResource["EmailResource"]):
    """E-mail through SendGrid (``sendgrid_host`` overridable for fakes) or SMTP."""

    sendgrid_api_key: str | None = None
    sendgrid_host: str = SENDGRID_HOST
    smtp_url: str | None = None
    to: str = ""
    sender: str | None = None
    timeout_seconds: float = 10.0

    def client(self) -> SendGridChannel | SmtpChannel | None:
        return email_channel(self.sendgrid_api_key, self.smtp_url, self.sender, self.to,
                             self.sendgrid_host, self.timeout_seconds)


class NotifyOutboxResource(dg.ConfigurableResource["NotifyOutboxResource"]):
    """The outbox file messages wait in until delivered, the resend cooldown, and the
    currency money amounts in messages are shown in."""

    path: str
    cooldown_hours: float = 24.0
    currency: str = "USD"

    def open(self) -> Outbox:
        return Outbox(Path(self.path))

    def exists(self) -> bool:
        return Path(self.path).exists()


def _notify_resources(settings: Settings) -> dict[str, Any]:
    notify = settings.notify

    def secret(name: str) -> str | None:
        # Secrets read from the process environment are passed by name (dg.EnvVar), so the
        # Dagster UI's resource configuration shows the variable, never the value.
        value, variable = notify.secret(name)
        return dg.EnvVar(variable) if variable else value

    return {
        "slack": SlackResource(webhook_url=secret("slack_webhook_url"),
                               bot_token=secret("slack_bot_token"), channel=notify.slack_channel),
        "email": EmailResource(sendgrid_api_key=secret("sendgrid_api_key"),
                               smtp_url=secret("smtp_url"), to=notify.email_to,
                               sender=notify.email_from),
        "notify_outbox": NotifyOutboxResource(path=str(settings.outbox_db_path),
                                              cooldown_hours=notify.cooldown_hours,
                                              currency=settings.currency),
    }
