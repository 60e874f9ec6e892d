"""The FastAPI application: ``create_app(settings)`` wires state, routers and middleware."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from analytics_pipeline.api.auth import ApiKeys
from analytics_pipeline.api.cache import make_cache
from analytics_pipeline.api.live_feed import LiveFeed
from analytics_pipeline.api.metrics import ApiMetrics, MetricsMiddleware
from analytics_pipeline.api.routers import (
    alerts,
    health,
    inventory,
    live,
    orders,
    page,
    revenue,
    revenue_history,
    segments,
)
from analytics_pipeline.api.state import ServiceState
from analytics_pipeline.clock import AsOfError
from analytics_pipeline.serving.live_orders import LiveOrderStore
from analytics_pipeline.serving.snapshot import SnapshotMissingError, SnapshotReader
from analytics_pipeline.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """The service for ``settings``; nothing is read from the environment here."""
    metrics = ApiMetrics()
    state = ServiceState(
        settings=settings,
        api_keys=ApiKeys.parse(settings.api_keys),
        cache=make_cache(settings.redis_url, settings.cache_ttl_seconds),
        reader=SnapshotReader(settings.serving_path, settings.store_timezone),
        live=LiveOrderStore(settings.live_db_path),
        metrics=metrics,
    )

    async def live_payload() -> str:
        now = state.as_of(None)
        figures = await run_in_threadpool(revenue.revenue_current, state, now)
        return figures.model_dump_json()

    feed = LiveFeed(settings.live_interval_seconds, live_payload, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("serving snapshots from %s (cache: %s)", settings.serving_path, state.cache.kind)
        # Everything imported so far (pandas, Dagster via the CLI: ~350k objects) lives as
        # long as the process; left in the collected generations, each full collection
        # walks it and stalls every request for ~100 ms.
        gc.collect()
        gc.freeze()
        feed.start()
        yield
        await feed.stop()
        await state.cache.close()
        state.reader.close()

    app = FastAPI(
        title="retail-pulse",
        version="1",
        summary="Revenue, inventory, segments and recommendations for an independent retailer.",
        lifespan=lifespan,
    )
    app.state.service = state
    app.state.api_keys = state.api_keys
    app.state.live_feed = feed
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    for router in (health.router, orders.router, revenue.router, revenue_history.router,
                   inventory.router, alerts.router, segments.router, live.router, page.router):
        app.include_router(router)
    app.mount("/static", page.static_files(), name="static")
    app.add_exception_handler(AsOfError, _bad_as_of)
    app.add_exception_handler(SnapshotMissingError, _nothing_published)
    return app


async def _bad_as_of(_request: Request, error: Exception) -> JSONResponse:
    # The same shape FastAPI uses for its own validation errors, naming the parameter.
    return JSONResponse(status_code=422, content={"detail": [
        {"loc": ["query", "as_of"], "msg": str(error), "type": "value_error"}]})


async def _nothing_published(_request: Request, error: Exception) -> JSONResponse:
    return JSONResponse(status_code=503, content={"detail": str(error)})
