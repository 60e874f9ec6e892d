"""Installed as a wheel (not editable), the package still finds its SQL and assets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import analytics_pipeline, pathlib
from analytics_pipeline.warehouse.sql_models import discover
from analytics_pipeline.definitions import build_definitions
from analytics_pipeline.settings import Settings
assert "site" in analytics_pipeline.__file__, analytics_pipeline.__file__
models = discover()
assert {(m.domain, m.name) for m in models} >= {("ingest", "sales_lines")}, models
graph = build_definitions(Settings.from_env({})).resolve_asset_graph()
print(len(models), len(list(graph.get_all_asset_keys())))
"""


@pytest.mark.slow
def test_wheel_install_finds_sql_and_assets(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True,
    )
    (wheel,) = (tmp_path / "dist").glob("retail_pulse-*.whl")
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True,
    )
    # Run from an empty folder with the wheel's copy first on the path, not the checkout.
    result = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=tmp_path, env={"PYTHONPATH": str(target)},
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    models, assets = map(int, result.stdout.split())
    assert models >= 3 and assets >= 11
