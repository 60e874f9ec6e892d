"""Synthetic demo-store generator: contract tables plus hidden ground truth."""

from analytics_pipeline.generate.scales import Scale
from analytics_pipeline.generate.store import SCALES, GenerateSummary, generate_store

__all__ = ["SCALES", "GenerateSummary", "Scale", "generate_store"]
