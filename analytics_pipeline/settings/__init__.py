"""The one place the environment is read.

Everything configurable comes from ``ANALYTICS_*`` variables (or CLI flags that override
them); the rest of the code receives a :class:`Settings` object and never reads
``os.environ`` itself.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from analytics_pipeline.models.inventory_policy import InventoryPolicy
from analytics_pipeline.settings.channels import ExportSettings, NotifySettings
from analytics_pipeline.settings.lightspeed import LightspeedSettings
from analytics_pipeline.settings.parsing import SettingsError, env_number, optional_path
from analytics_pipeline.settings.recommendations import RecommendationSettings

__all__ = ["DEFAULT_WAREHOUSE", "ExportSettings", "NotifySettings", "Settings", "SettingsError"]

DEFAULT_WAREHOUSE = "duckdb:///./data/warehouse.duckdb"
FORECAST_ENGINES = ("statsforecast", "bigquery_ml")
CLUSTERING_ENGINES = ("sklearn", "bigquery_ml")

Environment = Literal["local", "production"]


@dataclass(frozen=True)
class Settings:
    """Runtime configuration.

    Attributes
    ----------
    environment
        ``local`` or ``production``; picks the resource set in the Dagster definitions.
    warehouse_url
        ``duckdb:///path.duckdb`` or ``bigquery://PROJECT/DATASET``.
    source_dir
        Folder with one contract file per table (CSV or Parquet).
    as_of
        Analysis time as given (ISO date or timestamp); ``None`` means now.
    store_timezone
        IANA zone for timestamps without an offset and for local calendar days.
    quarantine_limit
        Largest acceptable share of quarantined rows per table before the check fails.
    freshness_hours
        How old the newest order may be, relative to ``as_of``, before data counts as stale.
    targets_file
        CSV of monthly revenue targets (``month,target_revenue``); without one, the target is
        the same month last year grown by ``target_growth``.
    target_growth
        Growth over last year used when no target is given (0.05 = +5 %).
    serving_dir
        Where DuckDB snapshots for the API are published (the API never opens the
        warehouse file itself, so it keeps answering while a run holds the write lock).
        Default: ``serving/`` beside the DuckDB file (``data/serving`` for BigQuery).
    live_db
        SQLite file of orders received by ``POST /api/orders`` until a batch run absorbs
        them. Default: ``live.sqlite`` beside the DuckDB file.
    redis_url
        ``redis://...`` enables the shared Redis cache; unset means an in-process cache.
    api_keys
        ``KEY=SCOPES`` entries, comma-separated, scopes joined by ``+`` (read, write, pii).
    cache_ttl_seconds, live_interval_seconds
        Cache lifetime of warehouse reads; seconds between WebSocket pushes.
    currency
        ISO 4217 code of the store's money amounts (reported with every figure).
    notify
        Alert channels, cooldown and outbox (:class:`NotifySettings`).
    exports
        Mailchimp and Klaviyo credentials and the export ledger (:class:`ExportSettings`).
    lightspeed
        Lightspeed account, OAuth client and sync staging file (:class:`LightspeedSettings`).
    recommendations
        The v1-vs-v2 experiment and its feedback store (:class:`RecommendationSettings`).
    clv_horizon_days, clv_discount_rate
        How far ahead predicted CLV sums purchases, and the yearly rate it discounts them by.
    clv_min_repeat_customers
        Fewest repeat customers the CLV models are fitted on; below it CLV is left NULL.
    segment_vip_share, segment_new_days, segment_inactive_days
        VIP: top share by predicted CLV; New: first purchase fewer days ago; Inactive: no
        purchase for at least this many days.
    segment_at_risk_gap_multiple, segment_at_risk_p_alive
        At-risk: days since the last purchase beyond this multiple of the customer's own
        mean gap, or P(alive) below this.
    segment_loyalist_min_purchases, segment_loyalist_max_gap_cv
        Loyalists: at least this many purchase days, gaps with at most this coefficient
        of variation.
    segment_affinity_min_share, segment_affinity_min_purchases
        Product affinity: the top category's share of buying and browsing, and the fewest
        purchase lines in it.
    cluster_k_min, cluster_k_max
        Range of cluster counts k-means tries (the best silhouette wins).
    inventory_low_stock_days, inventory_alert_confidence, ...
        Stock alert thresholds, service level and review period: the fields of
        :class:`~analytics_pipeline.models.inventory_policy.InventoryPolicy` with an
        ``inventory_`` prefix (``ANALYTICS_INVENTORY_LOW_STOCK_DAYS``, ...).
    forecast_engine
        ``statsforecast`` (in Python, any warehouse) or ``bigquery_ml`` (ARIMA_PLUS inside
        BigQuery; needs a BigQuery warehouse).
    clustering_engine
        ``sklearn`` (k-means in Python, any warehouse) or ``bigquery_ml`` (KMEANS inside
        BigQuery; needs a BigQuery warehouse).
    """

    environment: Environment = "local"
    warehouse_url: str = DEFAULT_WAREHOUSE
    source_dir: Path | None = None
    as_of: str | None = None
    store_timezone: str = "UTC"
    quarantine_limit: float = 0.02
    freshness_hours: float = 48.0
    targets_file: Path | None = None
    target_growth: float = 0.05
    serving_dir: Path | None = None
    live_db: Path | None = None
    redis_url: str | None = None
    api_keys: str = ""
    cache_ttl_seconds: float = 300.0
    live_interval_seconds: float = 5.0
    currency: str = "USD"
    clv_horizon_days: float = 365.0
    clv_discount_rate: float = 0.10
    clv_min_repeat_customers: int = 30
    segment_vip_share: float = 0.10
    segment_new_days: int = 30
    segment_inactive_days: int = 90
    segment_at_risk_gap_multiple: float = 3.0
    segment_at_risk_p_alive: float = 0.5
    segment_loyalist_min_purchases: int = 5
    segment_loyalist_max_gap_cv: float = 0.75
    segment_affinity_min_share: float = 0.5
    segment_affinity_min_purchases: int = 2
    cluster_k_min: int = 3
    cluster_k_max: int = 8
    inventory_low_stock_days: float = InventoryPolicy.low_stock_days
    inventory_alert_confidence: float = InventoryPolicy.alert_confidence
    inventory_overstock_days: float = InventoryPolicy.overstock_days
    inventory_overstock_min_turnover: float = InventoryPolicy.overstock_min_turnover
    inventory_trending_growth: float = InventoryPolicy.trending_growth
    inventory_min_weekly_units: float = InventoryPolicy.min_weekly_units
    inventory_trending_noise_p: float = InventoryPolicy.trending_noise_p
    inventory_slow_mover_days: float = InventoryPolicy.slow_mover_days
    inventory_seasonal_rise: float = InventoryPolicy.seasonal_rise
    inventory_service_level: float = InventoryPolicy.service_level
    inventory_review_days: float = InventoryPolicy.review_days
    inventory_overdue_grace_days: float = InventoryPolicy.overdue_grace_days
    forecast_engine: str = "statsforecast"
    clustering_engine: str = "sklearn"
    notify: NotifySettings = dataclasses.field(default_factory=lambda: NotifySettings())
    exports: ExportSettings = dataclasses.field(default_factory=lambda: ExportSettings())
    lightspeed: LightspeedSettings = dataclasses.field(default_factory=LightspeedSettings)
    recommendations: RecommendationSettings = dataclasses.field(
        default_factory=lambda: RecommendationSettings())

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.store_timezone)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise SettingsError(
                f"ANALYTICS_STORE_TZ={self.store_timezone!r} is not an IANA time zone"
            ) from err
        if not 0.0 <= self.quarantine_limit <= 1.0:
            raise SettingsError("ANALYTICS_QUARANTINE_LIMIT must be a share between 0 and 1")
        for name in ("segment_vip_share", "segment_at_risk_p_alive", "segment_affinity_min_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise SettingsError(f"ANALYTICS_{name.upper()} must be a share between 0 and 1")
        try:
            self.inventory_policy()
        except ValueError as err:
            raise SettingsError(str(err)) from err
        if self.forecast_engine not in FORECAST_ENGINES:
            raise SettingsError(f"ANALYTICS_FORECAST_ENGINE must be one of {FORECAST_ENGINES}")
        if self.forecast_engine == "bigquery_ml" and not self.warehouse_url.startswith("bigquery:"):
            raise SettingsError("ANALYTICS_FORECAST_ENGINE=bigquery_ml needs a BigQuery warehouse")
        _check_engine("ANALYTICS_CLUSTERING_ENGINE", self.clustering_engine, CLUSTERING_ENGINES,
                      self.warehouse_url)
        if not 2 <= self.cluster_k_min <= self.cluster_k_max:
            raise SettingsError(
                "ANALYTICS_CLUSTER_K_MIN must be >= 2 and <= ANALYTICS_CLUSTER_K_MAX"
            )
        if self.clv_horizon_days <= 0 or self.clv_discount_rate < 0:
            raise SettingsError(
                "ANALYTICS_CLV_HORIZON_DAYS must be > 0 and ANALYTICS_CLV_DISCOUNT_RATE >= 0"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``ANALYTICS_*`` variables; non-``None`` overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "environment": _environment(env.get("ANALYTICS_ENV", "local")),
            "warehouse_url": env.get("ANALYTICS_WAREHOUSE", DEFAULT_WAREHOUSE),
            "source_dir": optional_path(env.get("ANALYTICS_SOURCE_DIR")),
            "as_of": env.get("ANALYTICS_AS_OF") or None,
            "store_timezone": env.get("ANALYTICS_STORE_TZ", "UTC"),
            "quarantine_limit": env_number(env, "ANALYTICS_QUARANTINE_LIMIT", 0.02),
            "freshness_hours": env_number(env, "ANALYTICS_FRESHNESS_HOURS", 48.0),
            "targets_file": optional_path(env.get("ANALYTICS_TARGETS_FILE")),
            "target_growth": env_number(env, "ANALYTICS_TARGET_GROWTH", 0.05),
            "serving_dir": optional_path(env.get("ANALYTICS_SERVING_DIR")),
            "live_db": optional_path(env.get("ANALYTICS_LIVE_DB")),
            "redis_url": env.get("REDIS_URL") or None,
            "api_keys": env.get("ANALYTICS_API_KEYS", ""),
            "cache_ttl_seconds": env_number(env, "ANALYTICS_CACHE_TTL_SECONDS", 300.0),
            "live_interval_seconds": env_number(env, "ANALYTICS_LIVE_INTERVAL_SECONDS", 5.0),
            "currency": env.get("ANALYTICS_CURRENCY", "USD"),
            "forecast_engine": env.get("ANALYTICS_FORECAST_ENGINE", "statsforecast"),
            "clustering_engine": env.get("ANALYTICS_CLUSTERING_ENGINE", "sklearn"),
            **_tunables(env),
            "notify": NotifySettings.from_env(env, from_process_env=environ is None),
            "exports": ExportSettings.from_env(env, from_process_env=environ is None),
            "lightspeed": LightspeedSettings.from_env(env, from_process_env=environ is None),
            "recommendations": RecommendationSettings.from_env(env),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("source_dir", "targets_file", "serving_dir", "live_db"):
            if isinstance(values[name], str):
                values[name] = Path(values[name])
        return cls(**values)

    @property
    def data_dir(self) -> Path:
        """The DuckDB file's folder; ``data/`` when the warehouse is BigQuery."""
        if self.warehouse_url.startswith("duckdb:///"):
            return Path(self.warehouse_url[len("duckdb:///") :]).parent
        return Path("data")

    @property
    def serving_path(self) -> Path:
        return self.serving_dir or self.data_dir / "serving"

    @property
    def live_db_path(self) -> Path:
        return self.live_db or self.data_dir / "live.sqlite"

    @property
    def outbox_db_path(self) -> Path:
        return self.notify.outbox_db or self.data_dir / "notify.sqlite"

    @property
    def export_ledger_path(self) -> Path:
        return self.exports.ledger_db or self.data_dir / "exports.sqlite"

    def inventory_policy(self) -> InventoryPolicy:
        """The ``inventory_*`` settings as the alert and reorder models take them."""
        return InventoryPolicy(**{f.name: getattr(self, f"inventory_{f.name}")
                                  for f in dataclasses.fields(InventoryPolicy)})

    @property
    def inventory(self) -> dict[str, float]:
        """:meth:`inventory_policy` as ``{field: value}`` (the resources' config form)."""
        return self.inventory_policy().as_dict()

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _check_engine(variable: str, engine: str, engines: tuple[str, ...], warehouse: str) -> None:
    if engine not in engines:
        raise SettingsError(f"{variable} must be one of {engines}")
    if engine == "bigquery_ml" and not warehouse.startswith("bigquery:"):
        raise SettingsError(f"{variable}=bigquery_ml needs a BigQuery warehouse")


def _environment(value: str) -> Environment:
    if value == "local":
        return "local"
    if value == "production":
        return "production"
    raise SettingsError(f"ANALYTICS_ENV must be 'local' or 'production', not {value!r}")


def _tunables(env: Mapping[str, str]) -> dict[str, float | int]:
    """The CLV, segment and cluster numbers: ``ANALYTICS_<FIELD NAME>``, typed as declared."""
    values: dict[str, float | int] = {}
    for field in dataclasses.fields(Settings):
        if field.name.startswith(("clv_", "segment_", "cluster_", "inventory_")):
            variable = f"ANALYTICS_{field.name.upper()}"
            number = env_number(env, variable, float(field.default))  # type: ignore[arg-type]
            if field.type == "int":
                if number != int(number):
                    raise SettingsError(f"{variable}={number!r} is not a whole number")
                values[field.name] = int(number)
            else:
                values[field.name] = number
    return values
