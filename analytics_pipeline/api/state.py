"""What the running service holds: readers, cache, live store, and the data version."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from analytics_pipeline.api.auth import ApiKeys
from analytics_pipeline.api.cache import Cache
from analytics_pipeline.api.metrics import ApiMetrics
from analytics_pipeline.clock import resolve_as_of
from analytics_pipeline.serving.live_orders import LiveOrderStore
from analytics_pipeline.serving.readers import Reader
from analytics_pipeline.settings import Settings

JSON = "application/json"
LIVE_CHECK_SECONDS = 0.5


@dataclass
class ServiceState:
    settings: Settings
    api_keys: ApiKeys
    cache: Cache
    reader: Reader
    live: LiveOrderStore
    metrics: ApiMetrics
    _live_seq: int = 0
    _live_checked: float = field(default=0.0)

    def live_seq(self) -> int:
        """Newest live order number, re-read at most every half second (other processes
        may have received orders too)."""
        now = time.monotonic()
        if now - self._live_checked >= LIVE_CHECK_SECONDS:
            self._live_seq = self.live.high_water()
            self._live_checked = now
        return self._live_seq

    def saw_live_order(self) -> None:
        self._live_checked = 0.0  # this process just received one: no waiting

    def version(self) -> str:
        snapshot = self.reader.path.name if self.reader.path else "none"
        return f"{snapshot}:{self.live_seq()}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.store_timezone)

    def as_of(self, value: str | None) -> datetime:
        return resolve_as_of(value, self.settings.store_timezone)


async def service(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


async def cached_json(
    state: ServiceState, request: Request, build: Callable[[], bytes]
) -> Response:
    """Serve ``build()``'s JSON from the cache, computing it (in a thread) on a miss.

    ``as_of`` left out means "now": such answers are cached under the minute, so the
    cache still helps while "now" moves.
    """
    state.reader.refresh()  # key on the newest published snapshot
    query = request.url.query if "as_of=" in request.url.query else (
        f"{request.url.query}&now={int(time.time() // 60)}"
    )
    key = f"rp:{state.version()}:{request.url.path}?{query}"
    hit = await state.cache.get(key)
    if hit is not None:
        state.metrics.cache.labels("hit").inc()
        return Response(hit, media_type=JSON)
    state.metrics.cache.labels("miss").inc()
    body = await run_in_threadpool(build)
    await state.cache.set(key, body)
    return Response(body, media_type=JSON)

