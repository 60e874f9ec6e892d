"""The HTTP service: reads published tables, serves the API, the WebSocket and the page."""
