"""Prometheus metrics, one registry per app (so tests and workers do not collide)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LAG_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)


@dataclass
class ApiMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    # Monotonic receipt times of live orders not yet in a push (see ``pushed``).
    _unpushed: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter("api_requests_total", "HTTP requests",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("api_request_seconds", "HTTP request latency",
                                 ["route", "method"], registry=r,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1, 0.25, 0.5, 1.0, 2.5))
        self.cache = Counter("api_cache_total", "Cache lookups", ["result"], registry=r)
        self.cache_up = Gauge("api_cache_up", "1 when the cache backend answers", registry=r)
        self.ws_clients = Gauge("api_websocket_clients", "Connected live clients", registry=r)
        self.live_orders = Counter("api_live_orders_total", "Live orders received", ["result"],
                                   registry=r)
        self.live_lag = Histogram("api_live_order_lag_seconds",
                                  "Order time to receipt by the API", registry=r,
                                  buckets=LAG_BUCKETS)
        self.push_lag = Histogram("api_live_order_push_lag_seconds",
                                  "Receipt of a live order by the API to the first WebSocket "
                                  "push that includes it", registry=r, buckets=LAG_BUCKETS)

    def order_received(self) -> None:
        self._unpushed.append(time.monotonic())

    def take_unpushed(self) -> list[float]:
        """Receipt times of the orders the next computed payload will include."""
        taken, self._unpushed = self._unpushed, []
        return taken

    def pushed(self, received: list[float]) -> None:
        now = time.monotonic()
        for at in received:
            self.push_lag.observe(now - at)


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (not its raw path)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_code = 500

        async def capture(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            name = route_template(scope)
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(name, method, str(status_code)).inc()
            self.metrics.latency.labels(name, method).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The matched route's path template; raw paths would make one series per id."""
    return str(getattr(scope.get("route"), "path", "unmatched"))
