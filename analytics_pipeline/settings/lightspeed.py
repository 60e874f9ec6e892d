"""Lightspeed Retail (R-Series) connection settings: account, OAuth client and sync files.

Part of :mod:`analytics_pipeline.settings` (``Settings.lightspeed``); kept apart because the
connector brings its own secrets. The client secret and refresh token stay out of ``repr``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from analytics_pipeline.settings.parsing import SettingsError, env_number, optional_path

API_BASE_URL = "https://api.lightspeedapp.com"
AUTH_BASE_URL = "https://cloud.lightspeedapp.com"

# Secrets that ``LightspeedSettings`` holds, with the variable each comes from.
LIGHTSPEED_SECRETS = {
    "client_secret": "ANALYTICS_LIGHTSPEED_CLIENT_SECRET",
    "refresh_token": "ANALYTICS_LIGHTSPEED_REFRESH_TOKEN",
}


@dataclass(frozen=True)
class LightspeedSettings:
    """Where and how the Lightspeed connector syncs (``Settings.lightspeed``).

    Attributes
    ----------
    account_id, client_id, client_secret, refresh_token
        The store's account and the OAuth client with its (first) refresh token; rotated
        refresh tokens are kept in the staging file afterwards.
    api_base_url, auth_base_url
        API and OAuth roots (``ANALYTICS_LIGHTSPEED_BASE_URL``, ``..._AUTH_URL``); the
        CLI's ``--base-url`` points both at a local fake.
    staging_db
        SQLite file of synced records, sync cursors and the rotated tokens; default
        ``lightspeed.sqlite`` beside the DuckDB file.
    sync_interval_seconds
        Least time between two syncs started by the Dagster sensor.
    """

    account_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = dataclasses.field(default=None, repr=False)
    refresh_token: str | None = dataclasses.field(default=None, repr=False)
    api_base_url: str = API_BASE_URL
    auth_base_url: str = AUTH_BASE_URL
    staging_db: Path | None = None
    sync_interval_seconds: float = 300.0
    from_process_env: bool = False

    def __post_init__(self) -> None:
        if self.sync_interval_seconds < 1:
            raise SettingsError("ANALYTICS_LIGHTSPEED_SYNC_INTERVAL_SECONDS must be >= 1")

    @property
    def configured(self) -> bool:
        """Whether an account and a full set of OAuth credentials are present."""
        return all((self.account_id, self.client_id, self.client_secret, self.refresh_token))

    def missing(self) -> list[str]:
        """The variables still to set before a sync can run."""
        needed = {
            "ANALYTICS_LIGHTSPEED_ACCOUNT_ID": self.account_id,
            "ANALYTICS_LIGHTSPEED_CLIENT_ID": self.client_id,
            LIGHTSPEED_SECRETS["client_secret"]: self.client_secret,
            LIGHTSPEED_SECRETS["refresh_token"]: self.refresh_token,
        }
        return [name for name, value in needed.items() if not value]

    def staging_path(self, data_dir: Path) -> Path:
        return self.staging_db or data_dir / "lightspeed.sqlite"

    def secret(self, name: str) -> tuple[str | None, str | None]:
        """A secret's value and, if it came from the process environment, its variable."""
        value: str | None = getattr(self, name)
        return value, (LIGHTSPEED_SECRETS[name] if value and self.from_process_env else None)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], from_process_env: bool = False
    ) -> LightspeedSettings:
        return cls(
            account_id=env.get("ANALYTICS_LIGHTSPEED_ACCOUNT_ID") or None,
            client_id=env.get("ANALYTICS_LIGHTSPEED_CLIENT_ID") or None,
            client_secret=env.get(LIGHTSPEED_SECRETS["client_secret"]) or None,
            refresh_token=env.get(LIGHTSPEED_SECRETS["refresh_token"]) or None,
            api_base_url=env.get("ANALYTICS_LIGHTSPEED_BASE_URL") or API_BASE_URL,
            auth_base_url=env.get("ANALYTICS_LIGHTSPEED_AUTH_URL") or AUTH_BASE_URL,
            staging_db=optional_path(env.get("ANALYTICS_LIGHTSPEED_STAGING_DB")),
            sync_interval_seconds=env_number(
                env, "ANALYTICS_LIGHTSPEED_SYNC_INTERVAL_SECONDS", 300.0
            ),
            from_process_env=from_process_env,
        )
