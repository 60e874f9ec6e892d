"""Reading single values from the environment, with errors that name the variable."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


class SettingsError(ValueError):
    """A setting has a value the pipeline cannot use; the message names the variable."""


def optional_path(value: str | None) -> Path | None:
    return Path(value) if value else None


def env_number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as err:
        raise SettingsError(f"{name}={raw!r} is not a number") from err
