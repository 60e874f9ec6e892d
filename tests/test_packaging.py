"""Installed as a wheel (not editable), the package still finds its SQL, assets and the
dashboard page's files."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
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
from analytics_pipeline.api.routers.page import STATIC_DIR
assert "site" in str(STATIC_DIR) and (STATIC_DIR / "index.html").is_file(), STATIC_DIR
print(len(models), len(list(graph.get_all_asset_keys())))
"""
# The dashboard page and what it loads: a wheel without them serves a 404 at /.
PAGE_FILES = ("index.html", "dashboard.css", "dashboard.js", "vendor/uPlot.iife.min.js",
              "vendor/uPlot.min.css", "vendor/uPlot.LICENSE")


@pytest.mark.slow
def test_wheel_install_finds_sql_and_assets(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True,
    )
    (wheel,) = (tmp_path / "dist").glob("retail_pulse-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    static = "analytics_pipeline/api/static"
    assert {f"{static}/{name}" for name in PAGE_FILES} <= shipped
    modules = {name for name in shipped if name.startswith(static) and name.endswith(".js")}
    imported = {f"{static}/{name}" for name in _page_modules()}
    assert imported <= modules, f"modules the page imports are missing: {imported - modules}"
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


def _page_modules() -> set[str]:
    """The JavaScript modules the page imports, from its sources (ES imports, relative)."""
    folder = ROOT / "analytics_pipeline" / "api" / "static"
    found: set[str] = set()
    for source in folder.glob("*.js"):
        found |= set(re.findall(r'from "\./([\w-]+\.js)"', source.read_text()))
    return found
