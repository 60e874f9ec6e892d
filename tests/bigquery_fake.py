"""A local fake of BigQuery's REST API, enough for the API's reader.

It answers ``tables.get`` (``GET .../datasets/{d}/tables/{t}``), ``jobs.query``
(``POST .../projects/{p}/queries``) and, for ``client.query(...).result()``, ``jobs.insert``
with ``jobs.get`` and ``jobs.getQueryResults``, in BigQuery's JSON wire format: rows as
``{"f": [{"v": "..."}]}`` with every value a string, timestamps as microseconds, typed
``queryParameters`` in the request. Queries are translated back to DuckDB with sqlglot
and run on a published DuckDB snapshot, whose ``<domain>`` schemas stand for the
``<prefix>_<domain>`` datasets. Every received query is kept for the tests to inspect.
A statement that writes the manifest (DML) moves its ``lastModifiedTime``, as BigQuery's
does.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

_PARSERS: dict[str, Any] = {
    "INT64": int, "FLOAT64": float, "NUMERIC": Decimal, "BOOL": lambda v: v == "true",
    "STRING": str, "DATE": dt.date.fromisoformat, "TIMESTAMP": dt.datetime.fromisoformat,
}


@dataclass
class ReceivedQuery:
    sql: str
    parameters: dict[str, tuple[str, Any]]  # name -> (BigQuery type, value(s) as sent)


@dataclass
class FakeBigQuery:
    """The server's state: the snapshot it answers from and what it was asked."""

    snapshot: Path
    dataset: str
    published_ms: int | None = None
    queries: list[ReceivedQuery] = field(default_factory=list)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)  # job id -> its results
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, body: dict[str, Any]) -> dict[str, Any]:
        params = {p["name"]: _parameter(p) for p in body.get("queryParameters", [])}
        with self.lock:
            self.queries.append(ReceivedQuery(body["query"], params))
        values = {name: [_PARSERS[kind.removeprefix("ARRAY<").rstrip(">")](v) for v in value]
                  if isinstance(value, list) else _PARSERS[kind](value)
                  for name, (kind, value) in params.items()}
        parsed = sqlglot.parse_one(body["query"], read="bigquery")
        writes = not isinstance(parsed, exp.Query)
        # Every connection in this process opens the file the same way (read-write): DuckDB
        # refuses a read-only and a read-write connection to one file at once, and the
        # server answers queries on several threads while a test may write to the file.
        with duckdb.connect(str(self.snapshot)) as conn:
            conn.execute("SET TimeZone = 'UTC'")
            cursor = conn.execute(self._to_duckdb(parsed), values)
            rows, description = cursor.fetchall(), cursor.description or []
        target = parsed.find(exp.Table)
        if writes and target is not None and target.name == "manifest":
            self.published_ms = max((self.published_ms or 0) + 1, int(time.time() * 1000))
        fields = [{"name": d[0], "type": _bq_type(str(d[1])), "mode": "NULLABLE"}
                  for d in description]
        return {
            "kind": "bigquery#queryResponse", "jobComplete": True, "cacheHit": False,
            "jobReference": {"projectId": "fake", "jobId": f"job_{len(self.queries)}",
                             "location": "US"},
            "schema": {"fields": fields}, "totalRows": str(len(rows)),
            "rows": [{"f": [{"v": _wire(v)} for v in row]} for row in rows],
        }

    def insert_job(self, project: str, body: dict[str, Any]) -> dict[str, Any]:
        """``jobs.insert`` of a query job: run at once, its results kept for
        ``jobs.getQueryResults``; returns the job resource, done."""
        query = body["configuration"]["query"]
        result = self.run({"query": query["query"],
                           "queryParameters": query.get("queryParameters", [])})
        reference = {"projectId": project, "location": "US",
                     "jobId": body.get("jobReference", {}).get("jobId")
                     or result["jobReference"]["jobId"]}
        result["jobReference"] = reference
        job = {"kind": "bigquery#job", "id": f"{project}:US.{reference['jobId']}",
               "jobReference": reference, "configuration": body["configuration"],
               "status": {"state": "DONE"}, "statistics": {"query": {}}}
        with self.lock:
            self.jobs[reference["jobId"]] = {"job": job, "result": result}
        return job

    def _to_duckdb(self, parsed: exp.Expr) -> str:
        def local(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table) and node.db.startswith(f"{self.dataset}_"):
                domain = node.db.removeprefix(f"{self.dataset}_")
                schema, name = {("serving", "manifest"): ("main", "manifest"),
                                ("serving", "published_tables"): ("information_schema",
                                                                  "tables")
                                }.get((domain, node.name), (domain, node.name))
                return exp.table_(name, db=schema, alias=node.alias or None)
            # BigQuery's DATETIME(ts, zone) is DuckDB's timezone(zone, ts); sqlglot would
            # read it as DATETIME(date, time).
            if isinstance(node, exp.Datetime) and node.args.get("expression") is not None:
                return exp.Anonymous(this="timezone", expressions=[node.args["expression"],
                                                                   node.this])
            return node

        # sqlglot writes BigQuery's 0-based UNNEST ... WITH OFFSET as DuckDB's 1-based
        # WITH ORDINALITY; the offsets are shifted back where they are used.
        offsets = {u.args["offset"].name for u in parsed.find_all(exp.Unnest)
                   if isinstance(u.args.get("offset"), exp.Identifier)}

        def shifted(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column) and node.name in offsets:
                return exp.Paren(this=exp.Sub(this=node.copy(), expression=exp.Literal.number(1)))
            return local(node)

        return parsed.transform(shifted).sql(dialect="duckdb")


def _parameter(param: dict[str, Any]) -> tuple[str, Any]:
    kind, value = param["parameterType"], param["parameterValue"]
    if kind["type"] == "ARRAY":
        return (f"ARRAY<{kind['arrayType']['type']}>",
                [item["value"] for item in value.get("arrayValues", [])])
    return kind["type"], value["value"]


def _bq_type(duck: str) -> str:
    for prefix, kind in (("DECIMAL", "NUMERIC"), ("TIMESTAMP", "TIMESTAMP"), ("DATE", "DATE"),
                         ("DOUBLE", "FLOAT64"), ("FLOAT", "FLOAT64"), ("BOOL", "BOOL")):
        if duck.startswith(prefix):
            return kind
    return "INT64" if "INT" in duck else "STRING"


def _wire(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return str(int(value.timestamp() * 1_000_000))
    return value.isoformat() if isinstance(value, dt.date) else str(value)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        parts = self.path.split("?")[0].strip("/").split("/")
        fake = self.server.fake
        # bigquery/v2/projects/{p}/jobs/{id} and .../queries/{id} (jobs.getQueryResults)
        if len(parts) == 6 and parts[4] in {"jobs", "queries"} and parts[5] in fake.jobs:
            self._send(200, fake.jobs[parts[5]]["job" if parts[4] == "jobs" else "result"])
            return
        # bigquery/v2/projects/{p}/datasets/{d}/tables/{t}
        if (len(parts) == 8 and parts[6] == "tables" and fake.published_ms is not None
                and (parts[5], parts[7]) == (f"{fake.dataset}_serving", "manifest")):
            self._send(200, {"kind": "bigquery#table", "lastModifiedTime": str(
                fake.published_ms), "tableReference": {"projectId": parts[3],
                "datasetId": parts[5], "tableId": parts[7]}})
            return
        self._send(404, {"error": {"code": 404, "status": "NOT_FOUND",
                                   "message": f"Not found: Table {'/'.join(parts[3:])}"}})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[-1] not in {"queries", "jobs"}:
            self._send(501, {"error": {"code": 501, "message": f"not faked: {self.path}"}})
            return
        fake = self.server.fake
        try:
            self._send(200, fake.run(body) if parts[-1] == "queries"
                       else fake.insert_job(parts[3], body))
        except (duckdb.Error, sqlglot.errors.SqlglotError) as err:
            self._send(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                       "message": str(err)}})

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    fake: FakeBigQuery


def serve(fake: FakeBigQuery) -> tuple[_Server, str]:
    """Start the fake on a free loopback port; returns the server and its base URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
