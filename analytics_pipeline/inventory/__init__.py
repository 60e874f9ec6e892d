"""The inventory domain's plumbing: its warehouse tables, the BigQuery ML forecast and the
alert backtest. The models themselves live in :mod:`analytics_pipeline.models`."""
