#!/usr/bin/env bash
# The install path of both images, runnable outside Docker so CI can test it.
#
#   deploy/install.sh wheel DIST        build the project's wheel into DIST (no dependencies)
#   deploy/install.sh venv VENV DIST    new virtual environment VENV with that wheel and only
#                                       its runtime dependencies (no dev extras)
#   deploy/install.sh check VENV        import the app from VENV, start the API service in an
#                                       empty folder and wait for /healthz
#   deploy/install.sh ci                all three in a fresh temporary folder (what CI runs)
#
# The Dockerfiles run `wheel` and `venv` in their builder stage and copy VENV into the
# runtime stage, so what CI checks here is what the image ships. pip's own cache and its
# configured indexes/find-links are used as is (BuildKit mounts the cache into the builder).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
# How long `check` waits for the service before failing (the target is 5 s).
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-30}"

usage() {
  sed -n '4,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

build_wheel() {
  local dist="$1"
  mkdir -p "$dist"
  rm -f "$dist"/retail_pulse-*.whl
  "$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$dist" "$ROOT"
  ls "$dist"/retail_pulse-*.whl
}

make_venv() {
  local venv="$1" dist="$2"
  local wheels=("$dist"/retail_pulse-*.whl)
  if [ ! -f "${wheels[0]}" ]; then
    echo "no retail_pulse wheel in $dist: run '$0 wheel $dist' first" >&2
    exit 1
  fi
  "$PYTHON" -m venv "$venv"
  # A venv starts with the pip bundled with Python; a current pip resolves the dependency
  # tree about three times faster.
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  # The wheel alone, so pip resolves the [project] dependencies and never the dev extra.
  "$venv/bin/python" -m pip install --quiet "${wheels[0]}"
}

# Subshell bodies, so each EXIT trap removes its own temporary folder, even on failure.
check_service() (
  local venv="$1"
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # An empty folder as the working directory: the installed package must not lean on the
  # checkout (SQL, static files, definitions all come from site-packages).
  (cd "$work" && "$venv/bin/python" - "$HEALTH_TIMEOUT" <<'PY'
import os
import socket
import subprocess
import sys
import time
import urllib.request

import analytics_pipeline.api.app
import analytics_pipeline.definitions

timeout = float(sys.argv[1])
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
env = {**os.environ, "ANALYTICS_WAREHOUSE": "duckdb:///./warehouse.duckdb"}
cli = os.path.join(os.path.dirname(sys.executable), "analytics-pipeline")
started = time.perf_counter()
server = subprocess.Popen([cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
try:
    while True:
        if server.poll() is not None:
            sys.exit(f"the service exited with {server.returncode}: "
                     f"{server.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.perf_counter() - started > timeout:
            sys.exit(f"/healthz did not answer within {timeout:.0f} s")
        time.sleep(0.02)
    print(f"healthy_seconds={time.perf_counter() - started:.3f}")
finally:
    server.terminate()
    server.wait(timeout=10)
PY
  )
)

run_ci() (
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  local started=$SECONDS
  build_wheel "$work/dist" >/dev/null
  make_venv "$work/venv" "$work/dist"
  echo "install_seconds=$((SECONDS - started))"
  check_service "$work/venv"
)

case "${1:-}" in
  wheel) [ $# -eq 2 ] || usage; build_wheel "$2" ;;
  venv) [ $# -eq 3 ] || usage; make_venv "$2" "$3" ;;
  check) [ $# -eq 2 ] || usage; check_service "$2" ;;
  ci) [ $# -eq 1 ] || usage; run_ci ;;
  *) usage ;;
esac
