"""The sync as users start it: the CLI, and the Dagster job with its sensor and cursor."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from analytics_pipeline.cli import main
from analytics_pipeline.resources import resources_for
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
