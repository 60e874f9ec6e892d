"""Settings, the warehouse URL switch and the as_of clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from analytics_pipeline.clock import AsOfError, resolve_as_of
from analytics_pipeline.settings import DEFAULT_WAREHOUSE, Settings, SettingsError
from analytics_pipeline.warehouse import WarehouseURL, WarehouseURLError


def test_defaults_and_environment() -> None:
    assert Settings.from_env({}).warehouse_url == DEFAULT_WAREHOUSE
    env = {"ANALYTICS_WAREHOUSE": "bigquery://p/d", "ANALYTICS_SOURCE_DIR": "/x",
           "ANALYTICS_AS_OF": "1998-06-30", "ANALYTICS_STORE_TZ": "Europe/Paris",
           "ANALYTICS_QUARANTINE_LIMIT": "0.1"}
    settings = Settings.from_env(env)
    assert settings.source_dir == Path("/x") and settings.quarantine_limit == 0.1
    assert Settings.from_env(env, warehouse_url="duckdb:///a.duckdb").warehouse_url == (
        "duckdb:///a.duckdb"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [({"ANALYTICS_STORE_TZ": "Mars/Base"}, "not an IANA time zone"),
     ({"ANALYTICS_QUARANTINE_LIMIT": "lots"}, "is not a number"),
     ({"ANALYTICS_ENV": "staging"}, "must be 'local' or 'production'")],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_warehouse_url_forms() -> None:
    assert WarehouseURL.parse("duckdb:///data/w.duckdb").path == Path("data/w.duckdb")
    assert WarehouseURL.parse("duckdb:////abs/w.duckdb").path == Path("/abs/w.duckdb")
    bq = WarehouseURL.parse("bigquery://my-proj/retail")
    assert (bq.kind, bq.project, bq.dataset) == ("bigquery", "my-proj", "retail")
    for bad in ("postgres://x", "bigquery://proj", "duckdb://", "bigquery://p/a/b"):
        with pytest.raises(WarehouseURLError, match="duckdb:///"):
            WarehouseURL.parse(bad)


def test_as_of_forms() -> None:
    end_of_day = resolve_as_of("1998-06-30", "UTC")
    assert end_of_day.date() == dt.date(1998, 6, 30) and end_of_day.hour == 23
    assert resolve_as_of("2026-01-01T10:00:00", "Europe/Paris").utcoffset() == dt.timedelta(hours=1)
    assert resolve_as_of("2026-01-01T10:00:00+00:00", "Europe/Paris").utcoffset() == dt.timedelta(0)
    assert abs(resolve_as_of(None, "UTC") - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)
    with pytest.raises(AsOfError):
        resolve_as_of("yesterday", "UTC")
