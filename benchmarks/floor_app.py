"""The floor for bench_api.py: a bare FastAPI endpoint returning stored bytes from Redis.

No auth, no metrics, no versioned keys: the least any cached endpoint can do.
"""

from __future__ import annotations

import os

import redis.asyncio as aioredis
from fastapi import FastAPI, Response

app = FastAPI()
store = aioredis.Redis.from_url(os.environ.get("FLOOR_REDIS_URL", "redis://127.0.0.1:6379/14"))


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/floor/{name}")
async def floor(name: str) -> Response:
    return Response(await store.get(f"floor:{name}"), media_type="application/json")
