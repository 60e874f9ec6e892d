"""Lightspeed client against the fake: token refresh, pagination, throttling, 5xx retries."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from analytics_pipeline.contract.schema import ORDERS
from analytics_pipeline.sources.lightspeed import LightspeedError, StagingStore, sync
from tests.lightspeed_factory import seeded_store
from tests.lightspeed_fake import FIRST_REFRESH, FakeConfig, FakeLightspeed
from tests.lightspeed_support import fake_client


def _staging(tmp_path: Path, refresh: str = FIRST_REFRESH) -> StagingStore:
    return StagingStore(tmp_path / "lightspeed.sqlite", refresh)


def test_expired_token_is_refreshed_once_and_rotation_is_saved(tmp_path: Path) -> None:
    with FakeLightspeed(seeded_store(250)) as fake:
        staging = _staging(tmp_path)
        client = fake_client(fake, staging)
        first = list(client.pages("Sale", {"sort": "updatetime"}))
        tokens = staging.load_tokens()
        assert tokens is not None and fake.counts["refreshes"] == 1
        fake.expire_tokens()
        again = list(client.pages("Sale", {"sort": "updatetime"}))
        assert [len(p) for p in again] == [len(p) for p in first] == [100, 100, 50]
        assert fake.counts == {**fake.counts, "refreshes": 2, "expired": 1}
        # The rotated refresh token was stored, and the first one died once the new
        # access token was used: only the stored one can refresh now.
        rotated = staging.load_tokens()
        assert rotated is not None and rotated.refresh_token != tokens.refresh_token
        assert FIRST_REFRESH not in fake.refresh_ok
        assert rotated.refresh_token in fake.refresh_ok


def test_refused_refresh_token_names_the_fix(tmp_path: Path) -> None:
    with FakeLightspeed(seeded_store(10)) as fake:
        fake.refresh_ok.clear()
        client = fake_client(fake, _staging(tmp_path))
        with pytest.raises(LightspeedError, match=r"invalid_grant.*ANALYTICS_LIGHTSPEED_REFRESH"):
            client.get(f"{fake.url}/API/V3/Account/4242/Sale.json")


def test_tokens_are_kept_out_of_repr_and_errors(tmp_path: Path) -> None:
    with FakeLightspeed(seeded_store(10)) as fake:
        staging = _staging(tmp_path)
        client = fake_client(fake, staging)
        client.get(f"{fake.url}/API/V3/Account/4242/Item.json")
        tokens = staging.load_tokens()
        assert tokens is not None
        assert tokens.access_token not in repr(tokens) + repr(client.config)
        assert FIRST_REFRESH not in repr(client.config).replace("refresh_token", "")
        with pytest.raises(LightspeedError) as err:
            client.get(f"{fake.url}/API/V3/Account/4242/Nothing.json")
        assert "HTTP 404" in str(err.value) and tokens.access_token not in str(err.value)


def test_pagination_follows_next_links_and_normalises_single_children(tmp_path: Path) -> None:
    store = seeded_store(1234)
    with FakeLightspeed(store) as fake:
        client = fake_client(fake, _staging(tmp_path))
        pages = list(client.pages("Sale", {"sort": "updatetime", "limit": "100",
                                           "load_relations": '["SaleLines"]'}))
    ids = [sale["saleID"] for page in pages for sale in page]
    assert len(pages) == 13 and len(ids) == len(set(ids)) == 1234
    one_line = [s for p in pages for s in p if isinstance(s["SaleLines"]["SaleLine"], dict)]
    assert one_line, "the fake sends one-line sales as a bare object"


def test_client_paces_by_bucket_headers_and_honours_429(tmp_path: Path) -> None:
    # Sale pages cost 41 drips (1 + 100 x 0.2 x 2); a bucket of 90 draining at 200/s
    # overflows within three pages unless the client waits.
    config = FakeConfig(bucket_size=90, drip_rate=200)
    with FakeLightspeed(seeded_store(1000), config) as fake:
        fake.level = 500.0  # someone else emptied the bucket: the first request gets a 429
        staging = _staging(tmp_path)
        client = fake_client(fake, staging)
        started = time.monotonic()
        summary = sync(client, staging)
        elapsed = time.monotonic() - started
    assert summary.throttled >= 1 and fake.counts["throttled"] == summary.throttled
    assert summary.paced_seconds > 0.5
    # Pacing keeps later requests inside the bucket: the 429s are the ones at the start.
    assert fake.counts["throttled"] <= 2
    assert elapsed >= summary.paced_seconds
    assert staging.count("orders") > 0


def test_server_errors_are_retried_with_jittered_backoff(tmp_path: Path) -> None:
    # Throttling off: the recorded (not slept) waits would otherwise end in 429s.
    with FakeLightspeed(seeded_store(600), FakeConfig(fail_every=3, throttle=False)) as fake:
        staging = _staging(tmp_path)
        sleeps: list[float] = []
        summary = sync(fake_client(fake, staging, sleeps), staging)
        expected = {s["saleID"] for s in fake.store.sales if s["completed"] == "true"
                    or s["voided"] == "true"}
        assert fake.counts["failed"] >= 5
        assert summary.retried_errors == fake.counts["failed"]
    assert {str(r[0]) for r in staging.rows(ORDERS)} == expected
    # Full jitter: each wait is drawn from [0, base x 2^attempt], never a fixed beat.
    assert sleeps and all(0 <= s <= 0.5 for s in sleeps) and len(set(sleeps)) == len(sleeps)


def test_persistent_server_errors_give_up_with_a_clear_message(tmp_path: Path) -> None:
    with FakeLightspeed(seeded_store(10), FakeConfig(fail_every=1)) as fake:
        sleeps: list[float] = []
        client = fake_client(fake, _staging(tmp_path), sleeps, max_attempts=4)
        with pytest.raises(LightspeedError, match="gave up after 4 attempts"):
            client.get(f"{fake.url}/API/V3/Account/4242/Item.json")
    assert len(sleeps) == 4 and sleeps[-1] <= 0.5 * 2**3

