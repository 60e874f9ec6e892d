"""retail-pulse: analytics for an independent retailer, as Dagster assets over a SQL warehouse."""

__version__ = "0.1.0"
