"""Plain-Python models (no Dagster imports): customer value, segments, demand forecasting,
stock alerts and reorder quantities. Assets wrap them; tests check them on known answers."""
