"""Helpers for API tests: a materialized tiny store and a Redis that tests may stop."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest
import redis
from fastapi.testclient import TestClient

from analytics_pipeline.api.app import create_app
from analytics_pipeline.serving.snapshot import Publication
from analytics_pipeline.settings import Settings

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_redis() -> None:
    """The machine's Redis; under CI a missing service fails instead of skipping."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError as err:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} is required under CI: {err}")
        pytest.skip(f"no Redis at {REDIS_URL}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DisposableRedis:
    """A private redis-server on a free port, for tests that take Redis down."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        pytest.fail("disposable redis-server did not start")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def materialize(store: Path, warehouse: Path, as_of: str) -> None:
    """Run the CLI as a user would (a separate process, like the real pipeline)."""
    cli = Path(sys.executable).parent / "analytics-pipeline"
    subprocess.run(
        [str(cli), "materialize", "--source", str(store), "--warehouse",
         f"duckdb:///{warehouse}", "--as-of", as_of],
        check=True, capture_output=True,
    )


def wait_for_http(url: str, seconds: float = 30) -> None:
    """Poll ``url`` until it answers 200 (a server process starting up)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer within {seconds} s")
        time.sleep(0.1)


def warehouse_rows(
    warehouse: Path | Publication, sql: str, params: dict[str, object] | None = None
) -> list[tuple[Any, ...]]:
    """``sql`` straight on a warehouse file or a publication, read-only: the figures an
    answer must equal."""
    connect = (warehouse.connect if isinstance(warehouse, Publication)
               else lambda: duckdb.connect(str(warehouse), read_only=True))
    with connect() as conn:
        return conn.execute(sql, params or {}).fetchall()


def get_json(client: TestClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    """A GET that must succeed, as JSON."""
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@contextmanager
def app_client(
    warehouse: Path, api_keys: str = "reader=read", env: dict[str, str] | None = None,
    **overrides: Any,
) -> Iterator[TestClient]:
    """The API serving ``warehouse`` with these keys and the in-process cache (no Redis)."""
    settings = Settings.from_env(env or {}, warehouse_url=f"duckdb:///{warehouse}",
                                 api_keys=api_keys, redis_url=None, **overrides)
    with TestClient(create_app(settings)) as client:
        yield client
