"""The read cache in front of the warehouse: Redis when ``REDIS_URL`` is set, else in-process.

Keys carry the published snapshot's name and the newest live order's number, so a new
publication or a live order makes every older entry unreachable at once (and no request
that read old data can put it back under a current key); old entries just expire.

A cache failure never fails a request: it is counted, reported by ``/readyz`` and the
request is answered from the warehouse. Redis is retried after a short pause, so the
service reconnects by itself once Redis is back.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 1.0


class Cache(Protocol):
    kind: str

    @property
    def healthy(self) -> bool: ...

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """One process's dict with expiry; used when there is no Redis."""

    kind = "memory"
    healthy = True

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._items: dict[str, tuple[float, bytes]] = {}

    async def get(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    async def set(self, key: str, value: bytes) -> None:
        now = time.monotonic()
        if len(self._items) > 10_000:  # versioned keys go stale; drop the expired ones
            self._items = {k: v for k, v in self._items.items() if v[0] >= now}
        self._items[key] = (now + self._ttl, value)

    async def close(self) -> None:
        self._items.clear()


class RedisCache:
    """Shared by every API process; a read is a single GET."""

    kind = "redis"

    def __init__(self, url: str, ttl_seconds: float) -> None:
        self._redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=0.25, socket_timeout=0.5, health_check_interval=10
        )
        self._ttl = max(1, int(ttl_seconds))
        self._down_until = 0.0
        self.failures = 0

    @property
    def healthy(self) -> bool:
        return self._down_until <= time.monotonic()

    async def get(self, key: str) -> bytes | None:
        if not self.healthy:
            return None
        try:
            value = await self._redis.get(key)
        except (RedisError, OSError) as err:
            self._failed(err)
            return None
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes) -> None:
        if not self.healthy:
            return
        try:
            await self._redis.set(key, value, ex=self._ttl)
        except (RedisError, OSError) as err:
            self._failed(err)

    async def ping(self) -> bool:
        try:
            await self._redis.ping()
        except (RedisError, OSError) as err:
            self._failed(err)
            return False
        self._down_until = 0.0
        return True

    async def close(self) -> None:
        await self._redis.aclose()

    def _failed(self, err: Exception) -> None:
        if self.healthy:
            log.warning("redis cache unavailable (%s); serving from the warehouse",
                        type(err).__name__)
        self.failures += 1
        self._down_until = time.monotonic() + RETRY_AFTER_SECONDS


def make_cache(redis_url: str | None, ttl_seconds: float) -> Cache:
    if redis_url:
        log.info("cache: redis")
        return RedisCache(redis_url, ttl_seconds)
    log.info("cache: in-process (REDIS_URL not set)")
    return MemoryCache(ttl_seconds)
