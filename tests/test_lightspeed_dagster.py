"""The sync as users start it: the CLI, the Dagster job with its sensor and cursor, and
the first step of the 06:00 refresh."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner

from analytics_pipeline.assets.ingest import QUARANTINE_KEY, RAW_KEYS
from analytics_pipeline.assets.lightspeed import SYNC_KEY, dagster_cursors
from analytics_pipeline.cli import main
from analytics_pipeline.definitions import build_definitions
from analytics_pipeline.resources import resources_for
from analytics_pipeline.schedules.daily import DAILY_REFRESH_JOB
from analytics_pipeline.schedules.lightspeed import (
    CURSORS_TAG,
    SYNC_OP,
    lightspeed_sync_job,
    lightspeed_sync_sensor,
)
from analytics_pipeline.settings import Settings
from analytics_pipeline.sources.lightspeed import LightspeedSource
from analytics_pipeline.sources.lightspeed.resource import lightspeed_resource
from tests.lightspeed_factory import seeded_store
from tests.lightspeed_fake import FakeLightspeed
from tests.lightspeed_support import cli_env


def test_cli_syncs_with_progress_and_summary_then_resumes(tmp_path: Path) -> None:
    runner = CliRunner()
    with FakeLightspeed(seeded_store(400)) as fake:
        env = cli_env(fake, tmp_path)
        first = runner.invoke(main, ["sync", "lightspeed", "--base-url", fake.url], env=env)
        fake.store.add_sales(30)
        fake.changed()
        second = runner.invoke(main, ["sync", "lightspeed", "--base-url", fake.url], env=env)
        full = runner.invoke(main, ["sync", "lightspeed", "--full"], env=env)
    assert first.exit_code == 0, first.output
    assert "Sale" in first.output and "requests" in first.output and "ok in" in first.output
    sale_rows = [_sale_row(r.output) for r in (first, second, full)]
    assert sale_rows[0][0] == 400 and sale_rows[1][0] <= 32 and sale_rows[2][0] == 430
    assert sale_rows[2][1] == 0  # a full re-read finds nothing new
    assert fake.refresh_ok.isdisjoint({env["ANALYTICS_LIGHTSPEED_REFRESH_TOKEN"]})
    assert env["ANALYTICS_LIGHTSPEED_CLIENT_SECRET"] not in first.output


def test_cli_names_missing_settings(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sync", "lightspeed"],
                                env={"ANALYTICS_LIGHTSPEED_ACCOUNT_ID": ""})
    assert result.exit_code == 1
    assert "ANALYTICS_LIGHTSPEED_REFRESH_TOKEN" in result.output


def _sale_row(output: str) -> tuple[int, int]:
    """(records, new orders) from the summary's Sale row."""
    rows = [ln for ln in output.splitlines() if ln.strip().startswith("Sale ")]
    fields = rows[-1].split()  # the summary comes after any progress lines
    return int(fields[2].replace(",", "")), int(fields[3].replace(",", ""))


def test_sensor_runs_the_sync_and_keeps_the_cursor_in_dagster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLightspeed(seeded_store(250)) as fake:
        for name, value in cli_env(fake, tmp_path).items():
            monkeypatch.setenv(name, value)
        resource = lightspeed_resource(Settings.from_env())
        sensor = lightspeed_sync_sensor(60)
        instance = dg.DagsterInstance.ephemeral()

        def tick(cursor: str | None) -> dg.SensorResult:
            context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                              resources={"lightspeed": resource})
            result = sensor(context)
            assert isinstance(result, dg.SensorResult)
            return result

        first = tick(None)
        assert first.cursor == "{}" and first.run_requests
        config = first.run_requests[0].run_config
        ran = lightspeed_sync_job.execute_in_process(
            run_config=config, instance=instance, resources={"lightspeed": resource})
        assert ran.success
        tagged = json.loads(instance.get_run_by_id(ran.run_id).tags[CURSORS_TAG])  # type: ignore[union-attr]
        assert tagged["Sale"] == fake.store.sales[-1]["updatetime"]
        second = tick(first.cursor)
        assert json.loads(second.cursor or "{}") == tagged
        requests = second.run_requests or []
        assert requests[0].run_config["ops"][SYNC_OP]["config"]["cursors"] == tagged


def test_production_reads_the_staged_lightspeed_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLightspeed(seeded_store(50)) as fake:
        env = {**cli_env(fake, tmp_path), "ANALYTICS_ENV": "production"}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = Settings.from_env()
        lightspeed_resource(settings, for_dagster=False).sync()
    source = resources_for(settings)["source"].source()
    assert isinstance(source, LightspeedSource)
    # Dagster is handed the secrets' variable names, never their values.
    configured = resources_for(settings)["lightspeed"]
    assert isinstance(configured.client_secret, dg.EnvVar)
    assert env["ANALYTICS_LIGHTSPEED_CLIENT_SECRET"] not in repr(configured)


def test_sensor_skips_until_lightspeed_is_configured() -> None:
    resource = lightspeed_resource(Settings.from_env({}))
    context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(),
                                      resources={"lightspeed": resource})
    result = lightspeed_sync_sensor(60)(context)
    assert isinstance(result, dg.SkipReason)
    assert "ANALYTICS_LIGHTSPEED" in str(result.skip_message)


INGEST_KEYS = [*RAW_KEYS.values(), QUARANTINE_KEY]


def _daily_ingest(settings: Settings, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """The 06:00 job as deployed, up to the raw tables (the rest only reads them)."""
    job = build_definitions(settings).resolve_job_def(DAILY_REFRESH_JOB.name)
    return job.execute_in_process(instance=instance, raise_on_error=False,
                                  asset_selection=[SYNC_KEY, *INGEST_KEYS])


def _orders(settings: Settings) -> int:
    with duckdb.connect(settings.warehouse_url.removeprefix("duckdb:///"),
                        read_only=True) as conn:
        (count,) = conn.execute("SELECT count(*) FROM ingest.orders").fetchone() or (0,)
    return int(count)


def _production(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    for name, value in {**env, "ANALYTICS_ENV": "production"}.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env()


def test_daily_refresh_syncs_lightspeed_then_loads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    with FakeLightspeed(seeded_store(300)) as fake:
        settings = _production(monkeypatch, cli_env(fake, tmp_path))
        first = _daily_ingest(settings, instance)
        assert first.success
        loaded = _orders(settings)
        closed = [s for s in fake.store.sales if s["completed"] == "true"]
        assert loaded == len(closed)
        fake.store.add_sales(40)
        fake.changed()
        second = _daily_ingest(settings, instance)
    assert second.success
    added = [s for s in fake.store.sales[-40:] if s["completed"] == "true"]
    assert _orders(settings) == loaded + len(added)
    # The second sync started from the cursors the first left in Dagster: a few pages,
    # not the whole account again.
    (synced,) = second.asset_materializations_for_node("ingest__lightspeed_sync")
    records = synced.metadata["records"]
    assert isinstance(records, dg.IntMetadataValue) and 0 < (records.value or 0) < 100
    # ... and left the new ones for the next run.
    assert dagster_cursors(instance)["Sale"] == fake.store.sales[-1]["updatetime"]


def test_a_failed_sync_fails_the_daily_run_before_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    with FakeLightspeed(seeded_store(100)) as fake:
        settings = _production(monkeypatch, cli_env(fake, tmp_path))
        assert _daily_ingest(settings, instance).success
        before = _orders(settings)
        fake.store.add_sales(20)
        fake.changed()
        # The app's access was revoked in Lightspeed: every token is refused.
        fake.refresh_ok.clear()
        fake.access.clear()
        failed = _daily_ingest(settings, instance)
    assert not failed.success
    (failure,) = [e for e in failed.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "ingest__lightspeed_sync"
    started = {e.step_key for e in failed.all_events if e.event_type_value == "STEP_START"}
    assert started == {"ingest__lightspeed_sync"}  # the staged data was not loaded as today's
    assert _orders(settings) == before


def test_without_lightspeed_the_daily_run_reads_the_folder(
    tiny_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _production(monkeypatch, {
        "ANALYTICS_WAREHOUSE": f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
        "ANALYTICS_SOURCE_DIR": str(tiny_store)})
    result = _daily_ingest(settings, dg.DagsterInstance.ephemeral())
    assert result.success
    (synced,) = result.asset_materializations_for_node("ingest__lightspeed_sync")
    assert "not configured" in str(synced.metadata["skipped"].value)
    assert _orders(settings) > 0


def test_half_a_lightspeed_configuration_fails_loudly(
    tiny_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _production(monkeypatch, {
        "ANALYTICS_WAREHOUSE": f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
        "ANALYTICS_SOURCE_DIR": str(tiny_store), "ANALYTICS_LIGHTSPEED_ACCOUNT_ID": "12345"})
    result = _daily_ingest(settings, dg.DagsterInstance.ephemeral())
    assert not result.success
    assert not result.asset_materializations_for_node("ingest_source")


def test_sensor_waits_while_the_daily_run_syncs(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    with FakeLightspeed(seeded_store(10)) as fake:
        settings = _production(monkeypatch, cli_env(fake, tmp_path))
    instance = dg.DagsterInstance.ephemeral()
    instance.add_run(dg.DagsterRun(job_name=DAILY_REFRESH_JOB.name, run_id="daily-1",
                                   status=dg.DagsterRunStatus.STARTED))
    context = dg.build_sensor_context(
        instance=instance, resources={"lightspeed": lightspeed_resource(settings)})
    result = lightspeed_sync_sensor(60)(context)
    assert isinstance(result, dg.SkipReason)
    assert "daily-1" in str(result.skip_message)
