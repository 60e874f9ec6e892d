"""The committed OpenAPI document (``openapi/openapi.json``) and the check that the app
still matches it. The spec is reviewed like code: change it on purpose with
``analytics-pipeline openapi --write``, never as a side effect.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analytics_pipeline.api.app import create_app
from analytics_pipeline.settings import Settings

SPEC_PATH = Path("openapi/openapi.json")


def generated_spec() -> dict[str, Any]:
    """The spec the code produces (settings do not change it)."""
    spec: dict[str, Any] = create_app(Settings()).openapi()
    return spec


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"
