"""The command line as a user runs it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from analytics_pipeline.cli import main
from tests.conftest import BROKEN_FILES, write_folder


def test_materialize_prints_summary_and_succeeds(tiny_store: Path, tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    result = CliRunner().invoke(
        main, ["materialize", "--source", str(tiny_store), "--warehouse", url,
               "--as-of", "2026-03-31"],
    )
    assert result.exit_code == 0, result.output
    assert "ingest/orders" in result.output and "ingest/sales_lines" in result.output
    assert "seconds per step" in result.output and "ok in" in result.output


def test_materialize_failure_names_the_asset_and_reason(tmp_path: Path) -> None:
    lines_only = {"order_lines.csv": BROKEN_FILES["order_lines.csv"]}
    folder = write_folder(tmp_path / "no-orders", lines_only)
    result = CliRunner().invoke(
        main, ["materialize", "--source", str(folder),
               "--warehouse", f"duckdb:///{tmp_path / 'w.duckdb'}"],
    )
    assert result.exit_code == 1
    assert "FAILED ingest_source" in result.output
    assert "has no orders table (required)" in result.output


def test_broken_folder_fails_the_quarantine_check_but_keeps_good_rows(
    broken_folder: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main, ["materialize", "--source", str(broken_folder),
               "--warehouse", f"duckdb:///{tmp_path / 'w.duckdb'}", "--as-of", "2026-03-31"],
    )
    assert result.exit_code == 1
    assert "check failed: ingest/orders:quarantine_share_under_limit" in result.output


def test_bad_settings_are_reported_without_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["materialize", "--source", str(tmp_path), "--warehouse", "postgres://x"]
    )
    assert result.exit_code == 1
    assert "unknown warehouse 'postgres://x'" in result.output
    assert "Traceback" not in result.output


def test_convert_cdnow(tmp_path: Path) -> None:
    master = Path(__file__).parent / "data" / "cdnow" / "CDNOW_master.txt"
    result = CliRunner().invoke(main, ["convert", "cdnow", str(master), "--out", str(tmp_path)])
    assert result.exit_code == 0
    assert "69,659 orders" in result.output
