"""deploy/dagster.prod.yaml against the machine's real PostgreSQL: runs are recorded there.

Each test gets a throwaway database, dropped afterwards. Without a PostgreSQL at
127.0.0.1:5432 the tests skip, except under ``CI=true`` where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg2  # type: ignore[import-untyped]  # no stubs; only connect/execute used
import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVER = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


def _admin() -> psycopg2.extensions.connection:
    connection = psycopg2.connect(dbname="postgres", connect_timeout=3, **SERVER)
    connection.autocommit = True  # CREATE / DROP DATABASE cannot run in a transaction
    return connection


@pytest.fixture
def database() -> Iterator[str]:
    try:
        admin = _admin()
    except psycopg2.OperationalError as err:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432: {err}")
    name = f"rp_deploy_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def instance(database: str, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.prod.yaml", home / "dagster.yaml")
    for key, value in {"HOST": "127.0.0.1", "PORT": "5432", "DB": database,
                       "USER": "postgres", "PASSWORD": "unused-with-trust-auth"}.items():
        monkeypatch.setenv(f"DAGSTER_PG_{key}", value)
    with dg.DagsterInstance.from_config(str(home)) as loaded:
        yield loaded


@dg.asset(key=["deploy", "probe"])
def probe() -> int:
    return 42


def _rows(database: str, sql: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg2.connect(dbname=database, **SERVER) as connection, \
            connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def test_storages_are_postgres(instance: dg.DagsterInstance) -> None:
    kinds = {type(instance.run_storage).__name__, type(instance.event_log_storage).__name__,
             type(instance.schedule_storage).__name__}
    assert kinds == {"PostgresRunStorage", "PostgresEventLogStorage",
                     "PostgresScheduleStorage"}


def test_materialization_is_recorded_in_postgres(
    instance: dg.DagsterInstance, database: str, tmp_path: Path
) -> None:
    result = dg.materialize([probe], instance=instance)
    assert result.success
    assert _rows(database, "SELECT status FROM runs WHERE run_id = %s",
                 result.run_id) == [("SUCCESS",)]
    (count,) = _rows(database, "SELECT count(*) FROM event_logs WHERE run_id = %s "
                     "AND dagster_event_type = 'ASSET_MATERIALIZATION'", result.run_id)
    assert count == (1,)
    # Read back through a second instance, as the next Cloud Run task would.
    again = dg.DagsterInstance.from_config(str(tmp_path / "dagster_home"))
    run = again.get_run_by_id(result.run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
    again.dispose()
