"""Loading sources into the warehouse's raw (``ingest``) tables."""
