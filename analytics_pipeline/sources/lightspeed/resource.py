"""``LightspeedResource``: the connector as Dagster (and the CLI) reach it.

Secrets read from the process environment are handed over by variable name
(``dg.EnvVar``), so the Dagster UI shows the variable, never the token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from analytics_pipeline.serving.live_orders import LiveOrderStore
from analytics_pipeline.settings import Settings
from analytics_pipeline.settings.parsing import SettingsError
from analytics_pipeline.sources.lightspeed.client import ClientConfig, LightspeedClient
from analytics_pipeline.sources.lightspeed.staging import LightspeedSource, StagingStore
from analytics_pipeline.sources.lightspeed.sync import Progress, SyncSummary, sync


class LightspeedResource(dg.ConfigurableResource["LightspeedResource"]):
    """One Lightspeed account, its OAuth client, and the files the sync writes."""

    account_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    api_base_url: str
    auth_base_url: str
    staging_db: str
    live_db: str | None = None

    def configured(self) -> bool:
        return all(self._credentials())

    def partly_configured(self) -> bool:
        """Some of the account and OAuth settings are given, not all."""
        return any(self._credentials()) and not self.configured()

    def _credentials(self) -> tuple[str | None, ...]:
        return (self.account_id, self.client_id, self.client_secret, self.refresh_token)

    def sync(self, full: bool = False, floor: dict[str, str] | None = None,
             progress: Progress | None = None) -> SyncSummary:
        """Run one sync (see :func:`~analytics_pipeline.sources.lightspeed.sync.sync`)."""
        if not self.configured():
            raise SettingsError("Lightspeed is not configured: set ANALYTICS_LIGHTSPEED_"
                                "ACCOUNT_ID, _CLIENT_ID, _CLIENT_SECRET and _REFRESH_TOKEN")
        refresh_token = str(self.refresh_token)
        staging = StagingStore(Path(self.staging_db), refresh_token)
        config = ClientConfig(self.api_base_url, self.auth_base_url, str(self.account_id),
                              str(self.client_id), str(self.client_secret), refresh_token)
        client = LightspeedClient(config, staging)
        live = LiveOrderStore(Path(self.live_db)) if self.live_db else None
        try:
            return sync(client, staging, live, full=full, floor=floor, progress=progress)
        finally:
            client.close()

    def source(self) -> LightspeedSource | None:
        """The synced records for the loader; ``None`` before the first sync."""
        path = Path(self.staging_db)
        return LightspeedSource(path) if path.exists() else None


def lightspeed_resource(
    settings: Settings, for_dagster: bool = True, **overrides: Any
) -> LightspeedResource:
    """The resource for ``settings`` (``overrides``: e.g. a fake's ``api_base_url``).

    For Dagster, secrets from the process environment are passed as ``dg.EnvVar`` (Dagster
    resolves them at run time); used directly (the CLI), the values themselves.
    """
    lightspeed = settings.lightspeed

    def secret(name: str) -> Any:
        value, variable = lightspeed.secret(name)
        return dg.EnvVar(variable) if variable and for_dagster else value

    values: dict[str, Any] = {
        "account_id": lightspeed.account_id,
        "client_id": lightspeed.client_id,
        "client_secret": secret("client_secret"),
        "refresh_token": secret("refresh_token"),
        "api_base_url": lightspeed.api_base_url,
        "auth_base_url": lightspeed.auth_base_url,
        "staging_db": str(lightspeed.staging_path(settings.data_dir)),
        "live_db": str(settings.live_db_path),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return LightspeedResource(**values)
