"""The committed OpenAPI document is the contract: the app must match it, and fuzzing every
endpoint against it finds no server error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analytics_pipeline.api.spec import SPEC_PATH, generated_spec, render
from tests.api_support import free_port, materialize, wait_for_http

ROOT = Path(__file__).resolve().parents[1]


def test_committed_spec_matches_the_app() -> None:
    committed = (ROOT / SPEC_PATH).read_text()
    assert committed == render(generated_spec()), (
        "the API changed but openapi/openapi.json did not: review the change, then run "
        "`analytics-pipeline openapi --write`"
    )


def test_every_endpoint_is_documented_with_typed_responses() -> None:
    spec = json.loads((ROOT / SPEC_PATH).read_text())
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            ok = next((answer for code, answer in operation["responses"].items()
                       if code.startswith("2")), None)
            assert ok, f"{method} {path} has no success response"
            content = ok.get("content", {})
            if "application/json" in content:
                assert content["application/json"]["schema"] != {}, f"{method} {path} untyped"


@pytest.mark.slow
def test_fuzz_every_endpoint_finds_no_server_errors(tiny_store: Path, tmp_path: Path) -> None:
    """schemathesis' own runner against a real server process, as in production."""
    warehouse = tmp_path / "w.duckdb"
    materialize(tiny_store, warehouse, "2026-03-31T15:00:00")
    port = free_port()
    env = {**os.environ, "ANALYTICS_WAREHOUSE": f"duckdb:///{warehouse}",
           "ANALYTICS_API_KEYS": "fuzz=read+write+pii"}
    env.pop("REDIS_URL", None)
    binaries = Path(sys.executable).parent
    server = subprocess.Popen(
        [str(binaries / "analytics-pipeline"), "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
        result = subprocess.run(
            [str(binaries / "schemathesis"), "run", f"http://127.0.0.1:{port}/openapi.json",
             "--checks", "not_a_server_error", "--max-examples", "30",
             "--generation-deterministic", "-H", "Authorization: Bearer fuzz"],
            capture_output=True, text=True, timeout=600, check=False,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert result.returncode == 0, result.stdout[-4000:]
