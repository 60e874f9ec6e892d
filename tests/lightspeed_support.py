"""Helpers for the Lightspeed tests: a client wired to the fake, and the CLI's environment."""

from __future__ import annotations

import os
from pathlib import Path

from analytics_pipeline.sources.lightspeed import ClientConfig, LightspeedClient, StagingStore
from tests.lightspeed_fake import ACCOUNT, CLIENT_ID, CLIENT_SECRET, FIRST_REFRESH, FakeLightspeed


def fake_client(
    fake: FakeLightspeed, staging: StagingStore, sleeps: list[float] | None = None,
    max_attempts: int = 8,
) -> LightspeedClient:
    """A client for ``fake``; with ``sleeps``, waits are recorded instead of slept, so a
    test checks the retry policy without sitting through it."""
    config = ClientConfig(fake.url, fake.url, ACCOUNT, CLIENT_ID, CLIENT_SECRET, FIRST_REFRESH,
                          max_attempts=max_attempts)
    if sleeps is None:
        return LightspeedClient(config, staging)
    return LightspeedClient(config, staging, sleep=sleeps.append)


def cli_env(fake: FakeLightspeed, data_dir: Path) -> dict[str, str]:
    """Environment for ``analytics-pipeline sync lightspeed`` against ``fake``."""
    return {
        **os.environ,
        "ANALYTICS_WAREHOUSE": f"duckdb:///{data_dir / 'warehouse.duckdb'}",
        "ANALYTICS_LIGHTSPEED_ACCOUNT_ID": ACCOUNT,
        "ANALYTICS_LIGHTSPEED_CLIENT_ID": CLIENT_ID,
        "ANALYTICS_LIGHTSPEED_CLIENT_SECRET": CLIENT_SECRET,
        "ANALYTICS_LIGHTSPEED_REFRESH_TOKEN": FIRST_REFRESH,
        "ANALYTICS_LIGHTSPEED_BASE_URL": fake.url,
        "ANALYTICS_LIGHTSPEED_AUTH_URL": fake.url,
    }
