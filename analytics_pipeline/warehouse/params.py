"""Bound parameters: only those a statement names are passed (engines reject extras)."""

from __future__ import annotations

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"\$([a-z_][a-z0-9_]*)")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def identifier(name: str) -> str:
    """``name`` if it is a plain lower-case SQL identifier; anything else is refused."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a plain SQL identifier")
    return name


def used_params(sql: str, params: Mapping[str, object] | None) -> dict[str, object]:
    """The subset of ``params`` that ``sql`` references as ``$name``."""
    if not params:
        return {}
    names = set(_PLACEHOLDER.findall(sql))
    missing = names - params.keys()
    if missing:
        raise KeyError(f"SQL needs parameters it was not given: {sorted(missing)}")
    return {name: params[name] for name in names}
