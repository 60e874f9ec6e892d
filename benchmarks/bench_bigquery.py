"""What the BigQuery path costs on this side of the wire: transpiling SQL.

    .venv/bin/python benchmarks/bench_bigquery.py [--runs 7]

Per SQL model, the median time of ``to_bigquery`` (the transpile with this project's
rewrites and layout clauses, as the warehouse runs it and the golden files hold it),
against sqlglot's plain DuckDB-to-BigQuery transpile of the same text in the same
process (the reference: what sqlglot alone costs). Also the median time of the whole
golden check (``analytics-pipeline bigquery golden``) over every model. The API reader
transpiles one query per cache miss, so the per-statement figure is its overhead too.
Writes ``benchmarks/results/bigquery.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import sqlglot

from analytics_pipeline.warehouse import bigquery_golden
from analytics_pipeline.warehouse.dialect import to_bigquery
from analytics_pipeline.warehouse.sql_models import discover

RESULT = Path(__file__).parent / "results" / "bigquery.json"
GOLDEN_DIR = Path(__file__).parents[1] / "tests" / "golden" / "bigquery"


def _median_ms(call: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    models = discover()
    ours, plain = [], []
    for model in models:
        sql = model.create_statement
        # Interleaved per model so drift on the shared machine hits both alike.
        ours.append(_median_ms(lambda s=sql: to_bigquery(s, "my-project", "retail"), args.runs))
        plain.append(_median_ms(lambda s=sql: sqlglot.transpile(s, read="duckdb",
                                                                 write="bigquery"), args.runs))
    golden = _median_ms(lambda: bigquery_golden.compare(GOLDEN_DIR, models), args.runs)
    summary = {
        "models": len(models),
        "runs": args.runs,
        "transpile_ms_median_per_model": round(statistics.median(ours), 2),
        "transpile_ms_max_per_model": round(max(ours), 2),
        "sqlglot_plain_ms_median_per_model": round(statistics.median(plain), 2),
        "ratio_ours_to_plain": round(statistics.median(ours) / statistics.median(plain), 2),
        "golden_check_ms_all_models": round(golden, 1),
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
