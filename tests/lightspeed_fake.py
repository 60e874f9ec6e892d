"""A local Lightspeed R-Series API V3 speaking the documented wire format (integrations §1).

A real HTTP server in a thread: ``POST /auth/oauth/token`` (refresh grant, rotating
refresh tokens, access tokens that expire into ``401 access_denied``), and
``GET /API/V3/Account/{id}/{Resource}.json`` for Item, ItemShop, Customer and Sale with
``sort``, ``limit``, ``load_relations``, a ``>=``/``>`` filter on the time field and
``@attributes.next`` cursor links. A leaky bucket charges the documented costs, reports
``X-LS-Api-Bucket-Level`` and friends on every reply and answers 429 with
``Retry-After`` once over-full; ``fail_every`` serves a 500 on every Nth request.

``python -m tests.lightspeed_fake --sales N`` serves a seeded store until interrupted;
``POST /_fake/sales`` (form ``count``) adds new sales to it.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import math
import secrets
import threading
import time
from bisect import bisect_left
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.lightspeed_factory import FakeStore, Record, seeded_store

ACCOUNT, CLIENT_ID, CLIENT_SECRET, FIRST_REFRESH = "4242", "fake-client", "fake-secret", "r0"


@dataclass(frozen=True)
class Kind:
    """A resource: its records' attribute on the store, id and time fields, relations."""

    store_attr: str
    id_field: str
    time_field: str
    relations: dict[str, float]  # relation -> drip cost per record (doubled on lists)


KINDS = {
    "Item": Kind("items", "itemID", "timeStamp", {"Category": 0.1}),
    "ItemShop": Kind("item_shops", "itemShopID", "timeStamp", {}),
    "Customer": Kind("customers", "customerID", "timeStamp", {"Contact": 0.1}),
    "Sale": Kind("sales", "saleID", "updatetime", {"SaleLines": 0.2}),
}


@dataclass
class FakeConfig:
    bucket_size: float = 90.0
    # The real API drips 1/s (+0.5 per extra register); tests and the benchmark need
    # thousands of drips a second to finish, with the same headers and 429s.
    drip_rate: float = 1000.0
    throttle: bool = True
    token_ttl: float = 1800.0
    fail_every: int = 0  # serve a 500 on every Nth API request (0: never)


class FakeLightspeed:
    """The fake account's state; ``with FakeLightspeed(store) as fake:`` serves it."""

    def __init__(self, store: FakeStore, config: FakeConfig | None = None) -> None:
        self.store, self.config = store, config or FakeConfig()
        self.lock = threading.Lock()
        self.level, self.drained_at = 0.0, time.monotonic()
        self.access: dict[str, float] = {}  # token -> expiry (monotonic)
        self.refresh_ok = {FIRST_REFRESH}
        self.retire_on_use: dict[str, str] = {}  # new access token -> refresh token it replaces
        self.counts = {"requests": 0, "throttled": 0, "failed": 0, "refreshes": 0, "expired": 0}
        self._index: dict[str, tuple[list[tuple[str, int]], list[Record]]] = {}
        self._json: dict[tuple[str, str, str, tuple[str, ...]], bytes] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeLightspeed:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def changed(self) -> None:
        """Call after changing the store: the sorted views are rebuilt on the next read."""
        with self.lock:
            self._index.clear()

    def warm(self) -> None:
        """Encode every record once up front (with all its relations, as the sync asks)."""
        for resource, kind in KINDS.items():
            for record in getattr(self.store, kind.store_attr):
                self._encoded(resource, record, tuple(kind.relations))

    def expire_tokens(self) -> None:
        with self.lock:
            self.access = dict.fromkeys(self.access, 0.0)

    # --- OAuth -------------------------------------------------------------------------
    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "refresh_token" or not form.get("refresh_token"):
            return 400, {"error": "invalid_request"}
        with self.lock:
            if form["refresh_token"] not in self.refresh_ok:
                return 400, {"error": "invalid_grant", "hint": "Token has been revoked"}
            access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            self.access[access] = time.monotonic() + self.config.token_ttl
            self.refresh_ok.add(refresh)
            self.retire_on_use[access] = form["refresh_token"]
            self.counts["refreshes"] += 1
        return 200, {"token_type": "Bearer", "expires_in": self.config.token_ttl,
                     "access_token": access, "refresh_token": refresh}

    def authorized(self, header: str) -> bool:
        token = header.removeprefix("Bearer ")
        with self.lock:
            if self.access.get(token, 0.0) <= time.monotonic():
                self.counts["expired"] += 1
                return False
            # Rotation: the old refresh token dies once the new access token is used.
            self.refresh_ok.discard(self.retire_on_use.pop(token, ""))
        return True

    # --- leaky bucket ------------------------------------------------------------------
    def charge(self, cost: float) -> tuple[bool, dict[str, str]]:
        """Admit (and charge) a request unless the bucket is over-full; reply headers."""
        with self.lock:
            now = time.monotonic()
            drip = self.config.drip_rate
            self.level = max(0.0, self.level - drip * (now - self.drained_at))
            self.drained_at = now
            size = self.config.bucket_size
            admitted = not self.config.throttle or self.level <= size
            if admitted:
                self.level += cost
            else:
                self.counts["throttled"] += 1
            headers = {"X-LS-Acct-Id": ACCOUNT, "X-LS-Oauth-Client-Id": CLIENT_ID,
                       "X-LS-Api-Bucket-Level": f"{self.level:.2f}/{size:g}",
                       "X-LS-API-Burst-Level": "1/20", "X-LS-Api-Drip-Rate": f"{drip:g}",
                       "X-LS-Api-Request-Cost": f"{cost:g}"}
            if not admitted:
                headers["X-LS-API-RateLimit-Type"] = "api-leaky-bucket"
                headers["Retry-After"] = str(max(1, math.ceil((self.level - size) / drip)))
            return admitted, headers

    def should_fail(self) -> bool:
        with self.lock:
            self.counts["requests"] += 1
            every = self.config.fail_every
            if every and self.counts["requests"] % every == 0:
                self.counts["failed"] += 1
                return True
            return False

    # --- listing -----------------------------------------------------------------------
    def page(self, resource: str, query: dict[str, str]) -> tuple[int, bytes, float]:
        """One page of ``resource``: status, JSON body and the request's drip cost."""
        kind = KINDS[resource]
        if query.get("sort", kind.time_field) != kind.time_field:
            return 400, _error(400, f"fake supports sort={kind.time_field} only"), 1.0
        relations = json.loads(query.get("load_relations", "[]"))
        limit = min(max(int(query.get("limit", "100")), 1), 100)
        with self.lock:
            keys, records = self._sorted(resource)
        start = 0
        if bound := query.get(kind.time_field):
            op, _, value = bound.partition(",")
            start = bisect_left(keys, (value, 0 if op == ">=" else 2**62))
        if after := query.get("after"):
            last = json.loads(base64.urlsafe_b64decode(after))
            start = max(start, bisect_left(keys, (last[0], last[1] + 1)))
        chunk = records[start:start + limit]
        more = start + limit < len(records)
        next_url = ""
        if more and chunk:
            cursor = [chunk[-1][kind.time_field], int(chunk[-1][kind.id_field])]
            token = base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode()
            next_url = (f"{self.url}/API/V3/Account/{ACCOUNT}/{resource}.json?"
                        + urlencode({**query, "after": token}))
        shown = b",".join(self._encoded(resource, r, tuple(relations)) for r in chunk)
        attributes = json.dumps({"next": next_url, "previous": ""}).encode()
        body = b'{"@attributes":' + attributes + f',"{resource}":['.encode() + shown + b"]}"
        per_record = sum(2 * kind.relations.get(rel, 0.0) for rel in relations)
        return 200, body, 1.0 + per_record * len(chunk)

    def _encoded(self, resource: str, record: Record, relations: tuple[str, ...]) -> bytes:
        """A record's JSON, cached (keyed by its time field, which every change bumps) so
        the fake serves pages faster than the client under test reads them."""
        kind = KINDS[resource]
        key = (resource, record[kind.id_field], record[kind.time_field], relations)
        if key not in self._json:
            self._json[key] = json.dumps({k: v for k, v in record.items()
                                          if k not in kind.relations or k in relations}).encode()
        return self._json[key]

    def _sorted(self, resource: str) -> tuple[list[tuple[str, int]], list[Record]]:
        if resource not in self._index:
            kind = KINDS[resource]
            records = sorted(getattr(self.store, kind.store_attr),
                             key=lambda r: (r[kind.time_field], int(r[kind.id_field])))
            keys = [(r[kind.time_field], int(r[kind.id_field])) for r in records]
            self._index[resource] = (keys, records)
        return self._index[resource]


def _error(code: int, message: str) -> bytes:
    return json.dumps({"httpCode": str(code), "httpMessage": "error", "message": message}).encode()


def _handler(fake: FakeLightspeed) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real API
        # Headers and body leave in one write, without Nagle: otherwise small replies
        # wait ~40 ms for the client's delayed ACK.
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def log_message(self, *_: Any) -> None:
            """Quiet: tests read counters, not access logs."""

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            path = urlsplit(self.path).path
            if path == "/auth/oauth/token":
                status, body = fake.token(form)
                self._send(status, json.dumps(body).encode())
            elif path == "/_fake/sales":  # not Lightspeed: lets a benchmark add new sales
                with fake.lock:
                    fake.store.add_sales(int(form.get("count", "1")))
                fake.changed()
                self._send(204, b"")
            else:
                self._send(404, _error(404, "not found"))

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            prefix = f"/API/V3/Account/{ACCOUNT}/"
            resource = parts.path.removeprefix(prefix).removesuffix(".json")
            if not parts.path.startswith(prefix) or resource not in KINDS:
                self._send(404, _error(404, "not found"))
                return
            if not fake.authorized(self.headers.get("Authorization", "")):
                self._send(401, json.dumps({"error": "access_denied",
                                            "hint": "Access token could not be verified"}).encode())
                return
            if fake.should_fail():
                self._send(500, _error(500, "Internal Server Error"))
                return
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            status, body, cost = fake.page(resource, query)
            admitted, headers = fake.charge(cost)
            if not admitted:
                self._send(429, _error(429, "Rate limit exceeded"), headers)
                return
            self._send(status, body, headers)

    return Handler


def main() -> None:  # pragma: no cover - manual use and the benchmark's server process
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sales", type=int, default=1000)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--drip-rate", type=float, default=FakeConfig.drip_rate)
    parser.add_argument("--fail-every", type=int, default=0)
    args = parser.parse_args()
    config = FakeConfig(drip_rate=args.drip_rate, fail_every=args.fail_every)
    store = seeded_store(args.sales, items=args.items, customers=args.customers)
    with FakeLightspeed(store, config) as fake:
        fake.warm()
        print(f"{fake.url} account={ACCOUNT} client={CLIENT_ID} refresh={FIRST_REFRESH}",
              flush=True)
        for _ in itertools.count():
            time.sleep(3600)


if __name__ == "__main__":  # pragma: no cover
    main()
