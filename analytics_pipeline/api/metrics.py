"""Prometheus metrics, one registry per app (so tests and workers do not collide)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass
class ApiMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter("api_requests_total", "HTTP requests", ["route", "status"],
                                registry=r)
        self.latency = Histogram("api_request_seconds", "HTTP request latency", ["route"],
                                 registry=r, buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1, 0.25, 0.5, 1.0, 2.5))
        self.cache = Counter("api_cache_total", "Cache lookups", ["result"], registry=r)
        self.cache_up = Gauge("api_cache_up", "1 when the cache backend answers", registry=r)
        self.ws_clients = Gauge("api_websocket_clients", "Connected live clients", registry=r)
        self.live_orders = Counter("api_live_orders_total", "Live orders received", ["result"],
                                   registry=r)
        self.live_lag = Histogram("api_live_order_lag_seconds",
                                  "Order time to receipt by the API", registry=r,
                                  buckets=(0.1, 0.5, 1, 5, 30, 60, 300, 3600))


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
            route = scope.get("route")
            name = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(name, str(status_code)).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - started)
