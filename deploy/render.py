"""Fill the ``${NAME}`` placeholders of a deploy manifest from the environment.

``python deploy/render.py deploy/service.yaml`` prints the manifest ready for
``gcloud run services replace``; ``--json`` prints it as JSON (the Cloud Scheduler REST
API takes JSON). Every placeholder must be set: a missing one is an error naming it,
never an empty string in production. ``ANALYTICS_STORE_TZ`` must be an IANA time zone,
since Cloud Scheduler and the Dagster schedule both read it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
# Values go into YAML and JSON strings unquoted: ids, regions, zones, hosts, tags only.
SAFE_VALUE = re.compile(r"[\w./:@+-]+")


class RenderError(ValueError):
    """A manifest cannot be rendered with the given values."""


def placeholders(text: str) -> set[str]:
    """The ``${NAME}`` names a manifest uses."""
    return set(PLACEHOLDER.findall(text))


def render(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every placeholder replaced; raises :class:`RenderError` if one is unset.

    Parameters
    ----------
    text
        The manifest, with ``${NAME}`` placeholders.
    values
        Usually ``os.environ``; empty values count as unset.
    """
    missing = sorted(name for name in placeholders(text) if not values.get(name))
    if missing:
        raise RenderError(f"set these environment variables first: {', '.join(missing)}")
    unsafe = sorted(n for n in placeholders(text) if not SAFE_VALUE.fullmatch(values[n]))
    if unsafe:
        raise RenderError(f"unexpected characters in {', '.join(unsafe)} "
                          "(letters, digits and . / : @ + - _ only)")
    if "ANALYTICS_STORE_TZ" in placeholders(text):
        _check_zone(values["ANALYTICS_STORE_TZ"])
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise RenderError(f"ANALYTICS_STORE_TZ={name!r} is not an IANA time zone "
                          "(e.g. America/Toronto)") from err


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    args = parser.parse_args(argv)
    try:
        text = render(args.manifest.read_text(), os.environ)
    except (RenderError, OSError) as err:
        print(f"render: {err}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(yaml.safe_load(text), indent=2) + "\n" if args.json else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
