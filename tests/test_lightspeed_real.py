"""Against the real Lightspeed API, when its credentials are in the environment.

Skipped without them (and under a fake's base URL). The rotated tokens are saved to the
configured staging file, as a sync would: a refresh token is single-use, so keeping the
new one anywhere else would lock the next sync out.
"""

from __future__ import annotations

import pytest

from analytics_pipeline.settings import Settings
from analytics_pipeline.settings.lightspeed import API_BASE_URL
from analytics_pipeline.sources.lightspeed import ClientConfig, LightspeedClient, StagingStore
from analytics_pipeline.sources.lightspeed.mapping import map_item

SETTINGS = Settings.from_env()
LIGHTSPEED = SETTINGS.lightspeed
pytestmark = pytest.mark.skipif(
    not LIGHTSPEED.configured or LIGHTSPEED.api_base_url != API_BASE_URL,
    reason="needs real Lightspeed credentials (ANALYTICS_LIGHTSPEED_*)",
)


def test_one_page_of_items_reads_and_maps() -> None:
    staging = StagingStore(LIGHTSPEED.staging_path(SETTINGS.data_dir),
                           str(LIGHTSPEED.refresh_token))
    config = ClientConfig(LIGHTSPEED.api_base_url, LIGHTSPEED.auth_base_url,
                          str(LIGHTSPEED.account_id), str(LIGHTSPEED.client_id),
                          str(LIGHTSPEED.client_secret), str(LIGHTSPEED.refresh_token))
    client = LightspeedClient(config, staging)
    try:
        page = next(client.pages("Item", {"sort": "timeStamp", "limit": "5",
                                          "load_relations": '["Category"]'}))
    finally:
        client.close()
    assert client.bucket.size >= 90  # the bucket headers were read
    assert all(map_item(item)["product_id"] for item in page)
