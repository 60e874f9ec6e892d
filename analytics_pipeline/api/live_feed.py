"""The live feed: one computation per tick, the same bytes pushed to every client.

With hundreds of clients, computing per client would multiply the work by the audience;
here a tick costs one query whatever the audience, and a slow client cannot hold up the
others (each send has its own deadline and a client that misses it is dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import WebSocket

from analytics_pipeline.api.metrics import ApiMetrics

log = logging.getLogger(__name__)
SEND_TIMEOUT_SECONDS = 2.0


class LiveFeed:
    def __init__(
        self, interval: float, compute: Callable[[], Awaitable[str]], metrics: ApiMetrics
    ) -> None:
        self.interval = interval
        self._compute = compute
        self._metrics = metrics
        self._clients: set[WebSocket] = set()
        self._task: asyncio.Task[None] | None = None
        self.last_payload: str | None = None

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-feed")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def join(self, ws: WebSocket) -> None:
        self._clients.add(ws)
        self._metrics.ws_clients.set(len(self._clients))
        payload = self.last_payload or await self._compute()
        await self._send(ws, payload)

    def leave(self, ws: WebSocket) -> None:
        self._clients.discard(ws)
        self._metrics.ws_clients.set(len(self._clients))

    async def _run(self) -> None:
        while True:
            # Ticks sit on multiples of the interval so every server process ticks together.
            await asyncio.sleep(self.interval - (time.time() % self.interval))
            # Orders received before the computation starts are in its payload.
            received = self._metrics.take_unpushed()
            try:
                self.last_payload = await self._compute()
            except Exception:  # a bad tick must not end the feed
                log.exception("live feed: computing the tick failed")
                continue
            if self._clients:
                await asyncio.gather(*(self._send(ws, self.last_payload)
                                       for ws in list(self._clients)))
                self._metrics.pushed(received)

    async def _send(self, ws: WebSocket, payload: str) -> None:
        try:
            await asyncio.wait_for(ws.send_text(payload), SEND_TIMEOUT_SECONDS)
        except Exception:  # a gone or stuck client is dropped, never retried
            self.leave(ws)
