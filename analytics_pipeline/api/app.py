"""The FastAPI application: ``create_app(settings)`` wires state, routers and middleware."""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from analytics_pipeline.api.auth import ApiKeys
from analytics_pipeline.api.cache import make_cache
from analytics_pipeline.api.live_feed import LiveFeed
from analytics_pipeline.api.metrics import ApiMetrics, MetricsMiddleware
from analytics_pipeline.api.pipeline_metrics import PipelineCollector
from analytics_pipeline.api.request_context import RequestContextMiddleware
from analytics_pipeline.api.routers import (
    alerts,
    health,
    inventory,
    live,
    orders,
    page,
    receipts,
    recommendations,
    recommendations_feedback,
    revenue,
    revenue_history,
    segments,
)
from analytics_pipeline.api.state import ServiceState
from analytics_pipeline.clock import AsOfError
from analytics_pipeline.recommendations.experiment import Experiment
from analytics_pipeline.serving.live_orders import LiveOrderStore
from analytics_pipeline.serving.readers import open_reader
from analytics_pipeline.serving.snapshot import SnapshotMissingError
from analytics_pipeline.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """The service for ``settings``; nothing is read from the environment here."""
    metrics = ApiMetrics()
    state = ServiceState(
        settings=settings,
        api_keys=ApiKeys.parse(settings.api_keys),
        cache=make_cache(settings.redis_url, settings.cache_ttl_seconds),
        reader=open_reader(settings),
        live=LiveOrderStore(settings.live_db_path),
        metrics=metrics,
    )
    metrics.registry.register(PipelineCollector(state.reader, settings.outbox_db_path))

    async def live_payload() -> str:
        now = state.as_of(None)
        figures = await run_in_threadpool(revenue.revenue_current, state, now)
        return figures.model_dump_json()

    feed = LiveFeed(settings.live_interval_seconds, live_payload, metrics)
    experiment = Experiment.from_settings(settings)

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
        await run_in_threadpool(experiment.close)  # writes the buffered exposures

    app = FastAPI(
        title="retail-pulse",
        version="1",
        summary="Revenue, inventory, segments and recommendations for an independent retailer.",
        lifespan=lifespan,
    )
    app.state.service = state
    app.state.api_keys = state.api_keys
    app.state.live_feed = feed
    app.state.experiment = experiment
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestContextMiddleware)  # outermost: ids every log line
    for router in (health.router, orders.router, revenue.router, revenue_history.router,
                   inventory.router, alerts.router, segments.router, live.router, page.router):
        app.include_router(router)
    app.include_router(receipts.router)
    app.include_router(recommendations_feedback.router)
    app.include_router(recommendations.router)  # after feedback: /{customer_id} is a catch-all
    app.mount("/static", page.static_files(), name="static")
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(AsOfError, _bad_as_of)
    app.add_exception_handler(SnapshotMissingError, _nothing_published)
    return app


class _AsciiJSONResponse(JSONResponse):
    def render(self, content: object) -> bytes:
        # A 422 echoes the offending input; a lone surrogate in it ("\\ud800") cannot be
        # encoded as UTF-8, which turned FastAPI's own 422 into a 500. Escaped ASCII is
        # still the same JSON.
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()


async def _invalid_request(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)  # noqa: S101 (registered for it)
    return _AsciiJSONResponse(status_code=422,
                              content={"detail": jsonable_encoder(error.errors())})


async def _bad_as_of(_request: Request, error: Exception) -> JSONResponse:
    # The same shape FastAPI uses for its own validation errors, naming the parameter.
    return JSONResponse(status_code=422, content={"detail": [
        {"loc": ["query", "as_of"], "msg": str(error), "type": "value_error"}]})


async def _nothing_published(_request: Request, error: Exception) -> JSONResponse:
    return JSONResponse(status_code=503, content={"detail": str(error)})
