"""Generate and materialize at each scale: wall time and peak memory, median of N runs.

For ``large`` it also loads the same files into bare DuckDB tables (``read_parquet`` /
``read_csv`` with nothing else), in the same session, and reports materialize / bare.

    .venv/bin/python benchmarks/bench_foundation.py --scales tiny demo large --runs 3

Every measured command runs as its own process; peak memory is that process's max RSS
(from ``wait4``), so the numbers are what a user sees running the CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
END_DATE = "2026-11-24"
BARE_LOAD = """
import duckdb, pathlib, sys
folder, db = pathlib.Path(sys.argv[1]), sys.argv[2]
con = duckdb.connect(db)
for f in sorted(folder.iterdir()):
    # Text for CSV: the files hold deliberately bad values a typed bare load would reject.
    reader = (f"read_parquet('{f}')" if f.suffix == ".parquet"
              else f"read_csv('{f}', all_varchar=true)")
    con.execute(f"CREATE TABLE {f.stem} AS SELECT * FROM {reader}")
con.close()
"""


@dataclass
class Measure:
    label: str
    seconds: list[float]
    peak_mb: list[float]

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_mb(self) -> float:
        return statistics.median(self.peak_mb)


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one command; raises if it fails."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        errors = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        raise RuntimeError(f"{cmd[:3]} failed: {errors}")
    return elapsed, usage.ru_maxrss / 1024


def record(target: Measure, cmd: list[str]) -> None:
    seconds, peak = run(cmd)
    target.seconds.append(seconds)
    target.peak_mb.append(peak)
    print(f"  {target.label}: {seconds:.1f} s, {peak:.0f} MB", flush=True)


def bench_scale(scale: str, runs: int, work: Path) -> list[Measure]:
    store = work / scale
    cli = str(BIN / "analytics-pipeline")
    gen = [cli, "generate", "--scale", scale, "--seed", "42", "--out", str(store),
           "--end-date", END_DATE]
    generated = Measure(f"generate {scale}", [], [])
    for _ in range(runs):
        shutil.rmtree(store, ignore_errors=True)
        record(generated, gen)
    mats, bares = Measure(f"materialize {scale}", [], []), Measure(f"bare duckdb {scale}", [], [])
    for i in range(runs):
        # Interleaved so the machine's background load hits both alike.
        record(mats, [cli, "materialize", "--source", str(store), "--as-of", END_DATE,
                      "--warehouse", f"duckdb:///{work / f'm{i}.duckdb'}"])
        record(bares, [sys.executable, "-c", BARE_LOAD, str(store), str(work / f"b{i}.duckdb")])
        for leftover in work.glob("*.duckdb*"):
            leftover.unlink()
    return [generated, mats, bares]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", nargs="+", default=["tiny", "demo"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-foundation-"))
    results: dict[str, list[dict[str, object]]] = {}
    for scale in args.scales:
        print(f"{scale}:", flush=True)
        measures = bench_scale(scale, args.runs, work)
        results[scale] = [{**asdict(m), "median_s": m.median_s, "median_mb": m.median_mb}
                          for m in measures]
        mat, bare = measures[1], measures[2]
        print(f"  => materialize / bare DuckDB load = {mat.median_s / bare.median_s:.2f}x",
              flush=True)
    print("\n| step | median s | median peak MB |\n| --- | ---: | ---: |")
    for rows in results.values():
        for row in rows:
            print(f"| {row['label']} | {row['median_s']:.1f} | {row['median_mb']:.0f} |")
    out = Path(__file__).parent / "results" / f"foundation-{time.strftime('%Y%m%d-%H%M')}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
