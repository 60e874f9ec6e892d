"""The deploy manifests and Dockerfiles: rendered, parsed and checked field by field."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from analytics_pipeline.assets.ingest import RAW_KEYS
from analytics_pipeline.assets.lightspeed import SYNC_KEY
from analytics_pipeline.definitions import build_definitions
from analytics_pipeline.resources import resources_for
from analytics_pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
VALUES = {
    "PROJECT_ID": "acme-retail", "REGION": "europe-west1", "IMAGE_TAG": "v1",
    "BQ_DATASET": "retail", "ANALYTICS_STORE_TZ": "America/Toronto",
    "ANALYTICS_CURRENCY": "CAD", "VPC_NETWORK": "default", "VPC_SUBNET": "default",
    "DAGSTER_PG_HOST": "10.1.2.3", "STATE_BUCKET": "acme-retail-state",
    "LIGHTSPEED_ACCOUNT_ID": "4242", "LIGHTSPEED_CLIENT_ID": "acme-retail-pulse",
}
SECRET_NAMES = re.compile(r"(API_KEYS|PASSWORD|TOKEN|SECRET|WEBHOOK_URL|REDIS_URL|_KEY)$")


def _render_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_render", DEPLOY / "render.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = _render_module()


def manifest(name: str, **overrides: str) -> Any:
    text = (DEPLOY / name).read_text()
    return yaml.safe_load(render.render(text, {**VALUES, **overrides}))


def check_env(env: list[dict[str, Any]]) -> dict[str, Any]:
    """Secrets are Secret Manager references; everything else a plain value."""
    by_name = {item["name"]: item for item in env}
    for name, item in by_name.items():
        if SECRET_NAMES.search(name):
            assert "value" not in item, f"{name} must come from Secret Manager"
            assert item["valueFrom"]["secretKeyRef"]["key"] == "latest"
        else:
            assert "value" in item, name
    return by_name


def test_service_image_port_probes_and_secrets() -> None:
    service = manifest("service.yaml")
    assert service["kind"] == "Service"
    spec = service["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == "analytics-api@acme-retail.iam.gserviceaccount.com"
    (container,) = spec["containers"]
    assert container["image"] == "europe-west1-docker.pkg.dev/acme-retail/retail-pulse/api:v1"
    assert container["ports"] == [{"name": "http1", "containerPort": 8080}]
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": 8080}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": 8080}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": 8080}
    env = check_env(container["env"])
    assert env["ANALYTICS_WAREHOUSE"]["value"] == "bigquery://acme-retail/retail"
    assert env["ANALYTICS_STORE_TZ"]["value"] == "America/Toronto"
    assert env["ANALYTICS_API_KEYS"]["valueFrom"]["secretKeyRef"]["name"] == "analytics-api-keys"


def test_job_runs_daily_refresh_with_postgres_instance() -> None:
    job = manifest("job.yaml")
    assert job["kind"] == "Job"
    outer = job["spec"]["template"]["spec"]
    assert (outer["parallelism"], outer["taskCount"]) == (1, 1)
    (container,) = outer["template"]["spec"]["containers"]
    assert container["image"].endswith("/retail-pulse/dagster:v1")
    assert [*container["command"], *container["args"]] == [
        "dagster", "job", "execute", "-m", "analytics_pipeline.definitions", "-j",
        "daily_refresh"]
    env = check_env(container["env"])
    assert {"DAGSTER_PG_HOST", "DAGSTER_PG_DB", "DAGSTER_PG_USER",
            "DAGSTER_PG_PASSWORD"} <= set(env)


def test_job_syncs_lightspeed_first_and_ingest_reads_what_it_staged() -> None:
    (container,) = manifest("job.yaml")["spec"]["template"]["spec"]["template"]["spec"][
        "containers"]
    env = check_env(container["env"])
    assert env["ANALYTICS_LIGHTSPEED_ACCOUNT_ID"]["value"] == "4242"  # a string, not a number
    assert {env[name]["valueFrom"]["secretKeyRef"]["name"] for name in (
        "ANALYTICS_LIGHTSPEED_CLIENT_SECRET", "ANALYTICS_LIGHTSPEED_REFRESH_TOKEN")} == {
        "lightspeed-client-secret", "lightspeed-refresh-token"}
    # The staging file holds the cursors and the rotated refresh token: on the state volume.
    staging = env["ANALYTICS_LIGHTSPEED_STAGING_DB"]["value"]
    (mount,) = container["volumeMounts"]
    assert staging.startswith(mount["mountPath"] + "/")
    # The code location, given the job's environment (secrets stand in), syncs first and
    # loads the staged records.
    settings = Settings.from_env({name: item.get("value", f"secret-{name}")
                                  for name, item in env.items()})
    assert settings.environment == "production" and settings.lightspeed.configured
    assert resources_for(settings)["source"].lightspeed_db == staging
    definitions = build_definitions(settings)
    daily = definitions.resolve_job_def(container["args"][-1])
    assert SYNC_KEY in daily.asset_layer.executable_asset_keys
    graph = definitions.resolve_asset_graph()
    assert all(SYNC_KEY in graph.get(key).parent_keys for key in RAW_KEYS.values())


def test_scheduler_starts_the_job_at_six_store_time() -> None:
    job = manifest("scheduler.yaml", ANALYTICS_STORE_TZ="Europe/Paris")
    assert job["schedule"] == "0 6 * * *"
    assert job["timeZone"] == "Europe/Paris"
    target = job["httpTarget"]
    assert target["httpMethod"] == "POST"
    assert target["uri"] == ("https://run.googleapis.com/v2/projects/acme-retail/locations/"
                             "europe-west1/jobs/analytics-daily-refresh:run")
    # A Google API takes an OAuth access token (integrations.md 7.3), not an OIDC ID token.
    assert "oidcToken" not in target
    assert target["oauthToken"]["serviceAccountEmail"] == (
        "analytics-scheduler@acme-retail.iam.gserviceaccount.com")


def test_render_refuses_missing_values_and_bad_zones() -> None:
    text = (DEPLOY / "scheduler.yaml").read_text()
    with pytest.raises(render.RenderError, match="PROJECT_ID"):
        render.render(text, {**VALUES, "PROJECT_ID": ""})
    with pytest.raises(render.RenderError, match="IANA"):
        render.render(text, {**VALUES, "ANALYTICS_STORE_TZ": "Mars/Olympus"})
    with pytest.raises(render.RenderError, match="unexpected characters"):
        render.render(text, {**VALUES, "REGION": "eu: x"})


@pytest.mark.parametrize("name", ["Dockerfile.api", "Dockerfile.dagster"])
def test_dockerfile_structure(name: str) -> None:
    lines = [line.strip() for line in (DEPLOY / name).read_text().splitlines()]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert stages == ["FROM python:3.11-slim AS builder", "FROM python:3.11-slim AS runtime"]
    builder, runtime = lines[:lines.index(stages[1])], lines[lines.index(stages[1]):]
    # The builder installs through the script CI runs (tests the same path).
    assert "deploy/install.sh wheel /tmp/dist && deploy/install.sh venv /opt/venv /tmp/dist" \
        in builder
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime
    users = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert any(line.startswith("HEALTHCHECK") for line in runtime)
    text = "\n".join(lines)
    assert not re.search(r"(ENV|ARG)\s+\S*(PASSWORD|SECRET|TOKEN|API_KEY)", text)
    assert "[dev]" not in text


def test_dockerignore_keeps_data_and_secrets_out() -> None:
    rules = (ROOT / ".dockerignore").read_text().splitlines()
    assert rules[1] == "*"  # everything out, then only the sources back in
    assert "!deploy/install.sh" in rules and "!sql/" in rules
    assert not any(rule.startswith("!") and ".env" in rule for rule in rules)


def test_dagster_prod_yaml_takes_credentials_from_env() -> None:
    config = yaml.safe_load((DEPLOY / "dagster.prod.yaml").read_text())
    db = config["storage"]["postgres"]["postgres_db"]
    for field in ("hostname", "port", "db_name", "username", "password"):
        assert set(db[field]) == {"env"}, field


@pytest.mark.slow
def test_wheel_ships_every_sql_file_and_static_asset(tmp_path: Path) -> None:
    subprocess.run([str(DEPLOY / "install.sh"), "wheel", str(tmp_path)], check=True,
                   capture_output=True, env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable})
    (wheel,) = tmp_path.glob("retail_pulse-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    sql = {f"analytics_pipeline/sql/{p.relative_to(ROOT / 'sql')}"
           for p in (ROOT / "sql").rglob("*.sql")}
    static_root = ROOT / "analytics_pipeline" / "api" / "static"
    static = {f"analytics_pipeline/api/static/{p.relative_to(static_root)}"
              for p in static_root.rglob("*") if p.is_file()}
    assert sql and sql <= shipped, sorted(sql - shipped)
    assert static and static <= shipped, sorted(static - shipped)
