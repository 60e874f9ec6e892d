"""A request id for every HTTP request, in its logs and its response, and one access line.

A caller's ``X-Request-ID`` is kept when it looks like an id (so a trace spans the load
balancer, the API and the caller's logs); anything else is replaced, since the header
ends up in log lines and must not carry arbitrary text into them.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from analytics_pipeline.api.metrics import route_template
from analytics_pipeline.logs import REQUEST_ID, capture_request_ids

HEADER = "X-Request-ID"
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
log = logging.getLogger("analytics_pipeline.api.access")
# Probes and scrapes arrive every few seconds; at INFO they would drown the requests.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def request_id_from(scope: Scope) -> str:
    """The caller's id if it is a plain token of 8-128 characters, else a new one."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            given = bytes(value).decode("latin-1")
            if _ACCEPTED.match(given):
                return given
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Sets the request id for the request's logs, returns it, and logs the outcome."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        capture_request_ids()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status_code = 500 if scope["type"] == "http" else 101  # 101: WebSocket upgrade

        async def with_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, with_id)
        finally:
            # The route template, never the raw path or query: those can carry identifiers.
            route = route_template(scope)
            level = logging.DEBUG if route in QUIET_ROUTES else logging.INFO
            log.log(level, "request", extra={
                "http_method": scope.get("method", "WEBSOCKET"), "route": route,
                "status": status_code,
                "duration_ms": round(1000 * (time.perf_counter() - started), 2)})
            REQUEST_ID.reset(token)
