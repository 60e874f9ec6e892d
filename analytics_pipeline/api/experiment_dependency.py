"""The FastAPI dependency for the recommendations experiment built at start-up."""

from __future__ import annotations

from fastapi import Request

from analytics_pipeline.recommendations.experiment import Experiment


async def experiment(request: Request) -> Experiment:
    """The one :class:`Experiment` of this app (created and closed in the app lifespan)."""
    found: Experiment = request.app.state.experiment
    return found
