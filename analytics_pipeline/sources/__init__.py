"""Sources of raw data: each offers contract tables to the loader."""

from analytics_pipeline.sources.base import ContractError, Source, SourceTable
from analytics_pipeline.sources.folder import FolderSource

__all__ = ["ContractError", "FolderSource", "Source", "SourceTable"]
