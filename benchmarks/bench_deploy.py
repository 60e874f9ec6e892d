"""The image's install path outside Docker: install time and service start to healthy.

Runs ``deploy/install.sh`` as the Dockerfiles do: the wheel once, then ``--runs`` fresh
virtual environments (wheel + runtime dependencies only; target < 3 min each), and
``--starts`` service starts from the last one until ``/healthz`` answers (target < 5 s).
Reference in the same session: ``python -c pass`` started the same way, so a noisy
machine shows up as a high reference too. Writes ``benchmarks/results/deploy.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "deploy" / "install.sh"
RESULT = ROOT / "benchmarks" / "results" / "deploy.json"


def timed(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([str(SCRIPT), *args], check=True, capture_output=True, text=True)
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh installs")
    parser.add_argument("--starts", type=int, default=7, help="service starts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        wheel_seconds, _ = timed("wheel", f"{work}/dist")
        installs = [timed("venv", f"{work}/venv{i}", f"{work}/dist")[0]
                    for i in range(args.runs)]
        starts = []
        for _ in range(args.starts):
            _, out = timed("check", f"{work}/venv{args.runs - 1}")
            found = re.search(r"healthy_seconds=([\d.]+)", out)
            assert found, out
            starts.append(float(found[1]))
        reference = []
        for _ in range(args.starts):
            started = time.perf_counter()
            subprocess.run([f"{work}/venv0/bin/python", "-c", "pass"], check=True)
            reference.append(time.perf_counter() - started)
    result = {
        "wheel_build_seconds": round(wheel_seconds, 2),
        "install_seconds": [round(s, 1) for s in installs],
        "install_median_seconds": round(statistics.median(installs), 1),
        "install_target_seconds": 180,
        "start_to_healthy_seconds": [round(s, 3) for s in starts],
        "start_to_healthy_median_seconds": round(statistics.median(starts), 3),
        "start_target_seconds": 5,
        "bare_python_start_median_seconds": round(statistics.median(reference), 3),
        "start_ratio_to_bare_python": round(statistics.median(starts)
                                            / statistics.median(reference), 1),
    }
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    json.dump(result, sys.stdout, indent=2)


if __name__ == "__main__":
    main()
