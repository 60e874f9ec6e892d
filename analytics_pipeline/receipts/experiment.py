"""The recommendations A/B test's readout, as the receipt reports it."""

from __future__ import annotations

from analytics_pipeline.recommendations.feedback_store import FeedbackStore
from analytics_pipeline.recommendations.performance import Performance, performance
from analytics_pipeline.settings import Settings


def experiment_readout(settings: Settings) -> Performance | None:
    """The readout of the configured experiment; ``None`` before anything was logged."""
    recs = settings.recommendations
    path = recs.feedback_db_path(settings.data_dir)
    # Opening the store creates it; a receipt must not create an empty experiment log.
    if not path.exists():
        return None
    return performance(FeedbackStore(path), recs, settings.currency)
