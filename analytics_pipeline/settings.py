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

DEFAULT_WAREHOUSE = "duckdb:///./data/warehouse.duckdb"

Environment = Literal["local", "production"]


class SettingsError(ValueError):
    """A setting has a value the pipeline cannot use; the message names the variable."""


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

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.store_timezone)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise SettingsError(
                f"ANALYTICS_STORE_TZ={self.store_timezone!r} is not an IANA time zone"
            ) from err
        if not 0.0 <= self.quarantine_limit <= 1.0:
            raise SettingsError("ANALYTICS_QUARANTINE_LIMIT must be a share between 0 and 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``ANALYTICS_*`` variables; non-``None`` overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "environment": _environment(env.get("ANALYTICS_ENV", "local")),
            "warehouse_url": env.get("ANALYTICS_WAREHOUSE", DEFAULT_WAREHOUSE),
            "source_dir": _path(env.get("ANALYTICS_SOURCE_DIR")),
            "as_of": env.get("ANALYTICS_AS_OF") or None,
            "store_timezone": env.get("ANALYTICS_STORE_TZ", "UTC"),
            "quarantine_limit": _number(env, "ANALYTICS_QUARANTINE_LIMIT", 0.02),
            "freshness_hours": _number(env, "ANALYTICS_FRESHNESS_HOURS", 48.0),
            "targets_file": _path(env.get("ANALYTICS_TARGETS_FILE")),
            "target_growth": _number(env, "ANALYTICS_TARGET_GROWTH", 0.05),
            "serving_dir": _path(env.get("ANALYTICS_SERVING_DIR")),
            "live_db": _path(env.get("ANALYTICS_LIVE_DB")),
            "redis_url": env.get("REDIS_URL") or None,
            "api_keys": env.get("ANALYTICS_API_KEYS", ""),
            "cache_ttl_seconds": _number(env, "ANALYTICS_CACHE_TTL_SECONDS", 300.0),
            "live_interval_seconds": _number(env, "ANALYTICS_LIVE_INTERVAL_SECONDS", 5.0),
            "currency": env.get("ANALYTICS_CURRENCY", "USD"),
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

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _environment(value: str) -> Environment:
    if value == "local":
        return "local"
    if value == "production":
        return "production"
    raise SettingsError(f"ANALYTICS_ENV must be 'local' or 'production', not {value!r}")


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as err:
        raise SettingsError(f"{name}={raw!r} is not a number") from err
