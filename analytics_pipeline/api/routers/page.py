"""``/``: the dashboard page, and ``/static``: its CSS, JavaScript and vendored chart library.

The page is plain HTML/CSS/ES modules written by hand (no build step), so the files are
served as they sit in the package. It reads the same API as any client, with the key the
user gives it; serving the page itself needs no key (it holds no data).
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# Everything the page loads comes from this origin: the policy turns an accidental CDN,
# font or analytics request into a blocked request (and a console error) instead of a leak.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
# Vendored files are referenced with their version in the URL (?v=1.6.32), so a browser
# may keep them for a year; the page's own files change with every deploy and are
# revalidated instead (StaticFiles answers 304 from the ETag, which costs no body).
VENDOR_CACHE = "public, max-age=31536000, immutable"
OWN_CACHE = "no-cache"

router = APIRouter(include_in_schema=False)


@router.api_route("/", methods=["GET", "HEAD"])
async def dashboard() -> FileResponse:
    """The dashboard page."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html",
                        headers={**SECURITY_HEADERS, "Cache-Control": OWN_CACHE})


class DashboardStatic(StaticFiles):
    """StaticFiles with the cache policy above."""

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        vendored = Path(full_path).parent.name == "vendor"
        response.headers["Cache-Control"] = VENDOR_CACHE if vendored else OWN_CACHE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def static_files() -> DashboardStatic:
    """The ASGI app to mount at ``/static``."""
    return DashboardStatic(directory=STATIC_DIR)
