"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from analytics_pipeline.api.cache import RedisCache
from analytics_pipeline.api.state import ServiceState, service

router = APIRouter(tags=["health"])
State = Annotated[ServiceState, Depends(service)]


class Health(BaseModel):
    status: Literal["ok"]


class CacheStatus(BaseModel):
    kind: Literal["redis", "memory"]
    healthy: bool


class Readiness(BaseModel):
    status: Literal["ready", "degraded", "not_ready"]
    snapshot: str | None
    cache: CacheStatus
    detail: str


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "nothing published yet"}})
async def readyz(state: State, response: Response) -> Readiness:
    """Whether figures can be served, and from where (a down cache degrades, not fails)."""
    if isinstance(state.cache, RedisCache):
        await state.cache.ping()
    state.reader.refresh()
    state.metrics.cache_up.set(1 if state.cache.healthy else 0)
    cache = CacheStatus(kind="redis" if state.cache.kind == "redis" else "memory",
                        healthy=state.cache.healthy)
    snapshot = state.reader.path.name if state.reader.path else None
    if snapshot is None:
        response.status_code = 503
        return Readiness(status="not_ready", snapshot=None, cache=cache,
                         detail="no published snapshot yet: run a materialization")
    if not cache.healthy:
        return Readiness(status="degraded", snapshot=snapshot, cache=cache,
                         detail="cache unavailable: answering from the warehouse")
    return Readiness(status="ready", snapshot=snapshot, cache=cache, detail="ok")


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text"}})
async def metrics(state: State) -> Response:
    """Prometheus metrics in the text exposition format."""
    state.metrics.cache_up.set(1 if state.cache.healthy else 0)
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
