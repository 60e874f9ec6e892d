"""Lightspeed Retail (R-Series) connector: OAuth client, mapping, staging file and sync."""

from analytics_pipeline.sources.lightspeed.client import (
    ClientConfig,
    LightspeedClient,
    LightspeedError,
)
from analytics_pipeline.sources.lightspeed.staging import LightspeedSource, StagingStore
from analytics_pipeline.sources.lightspeed.sync import SyncSummary, sync

__all__ = ["ClientConfig", "LightspeedClient", "LightspeedError", "LightspeedSource",
           "StagingStore", "SyncSummary", "sync"]
