"""``/api/receipts``: the latest value receipt the daily run wrote, as HTML or Markdown."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from analytics_pipeline.api.auth import require
from analytics_pipeline.api.state import ServiceState, service
from analytics_pipeline.serving.snapshot import SnapshotMissingError

router = APIRouter(prefix="/api/receipts", tags=["receipts"],
                   dependencies=[Depends(require("read"))])
State = Annotated[ServiceState, Depends(service)]
NOT_YET: dict[int | str, dict[str, Any]] = {
    409: {"description": "no receipt yet: no run has written one"}}
COLUMNS = {"html": "html", "md": "markdown"}


def _latest(state: ServiceState, form: str) -> str:
    """The newest receipt in ``form`` (``html`` or ``md``); 409 when none was written."""
    try:
        if state.reader.has_table("receipts", "value_receipt"):
            rows = state.reader.fetch(
                f"SELECT {COLUMNS[form]} FROM receipts.value_receipt"  # noqa: S608 - fixed column
                " ORDER BY as_of DESC LIMIT 1")
            if rows:
                return str(rows[0][0])
    except SnapshotMissingError:
        pass
    # A missing receipt is a state the user fixes by running the pipeline, not a fault.
    raise HTTPException(status.HTTP_409_CONFLICT, detail=(
        "no value receipt yet: run `analytics-pipeline materialize` (the daily run writes one)"))


@router.get("/latest", response_class=HTMLResponse, responses=NOT_YET)
async def latest_html(state: State) -> HTMLResponse:
    """The latest value receipt as an HTML page."""
    return HTMLResponse(await run_in_threadpool(_latest, state, "html"))


@router.get("/latest.md", response_class=PlainTextResponse,
            responses={**NOT_YET, 200: {"content": {"text/markdown": {}}}})
async def latest_markdown(state: State) -> PlainTextResponse:
    """The latest value receipt as Markdown."""
    return PlainTextResponse(await run_in_threadpool(_latest, state, "md"),
                             media_type="text/markdown; charset=utf-8")
