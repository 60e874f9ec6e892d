"""``/api/segments``: who the customers are, by named segment and cluster, and exports.

Member lists carry e-mail addresses and names, so they need the ``pii`` scope, are never
put in the shared response cache, and exports need ``write`` as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from analytics_pipeline.api.auth import require
from analytics_pipeline.api.panels import AsOf, State, open_snapshot
from analytics_pipeline.api.segments_performance import SegmentPerformance, segment_performance
from analytics_pipeline.api.segments_summary import SegmentList, segment_list
from analytics_pipeline.api.state import ServiceState, cached_json
from analytics_pipeline.exports.csv import csv_rows
from analytics_pipeline.exports.ledger import ExportLedger
from analytics_pipeline.exports.members import (
    NAMED_SEGMENTS,
    UnknownSegmentError,
    check_segment_id,
    count_members,
    iter_members,
    page_members,
    segment_tag,
)
from analytics_pipeline.exports.run import run_export
from analytics_pipeline.warehouse import WarehouseBusyError

router = APIRouter(prefix="/api/segments", tags=["segments"])
SEGMENT_TABLES = ("segments.customer_segments", "segments.clusters", "segments.segment_members")
SegmentId = Annotated[str, Field(min_length=1, max_length=200,
                                 description="vip, new, inactive, at_risk, loyalist, regular, "
                                 "affinity:<category> or cluster:<n>")]


class SegmentCustomer(BaseModel):
    customer_id: str
    email: str | None
    first_name: str | None
    last_name: str | None
    marketing_opt_in: bool
    primary_segment: str | None = Field(description="the customer's one primary segment")


class SegmentCustomers(BaseModel):
    segment: str
    data_as_of: datetime
    page: int
    page_size: int
    total: int = Field(description="members of the segment")
    customers: list[SegmentCustomer]


class RefreshResult(BaseModel):
    data_as_of: datetime = Field(description="the as_of the segments were computed for")
    snapshot: str | None = Field(description="the snapshot published (null for BigQuery)")
    seconds: float
    rows: dict[str, int] = Field(description="rows per rebuilt segments table")


class ExportRequest(BaseModel):
    segment: SegmentId
    destination: Literal["mailchimp", "klaviyo", "csv"]


class ExportMemberError(BaseModel):
    customer_id: str
    error: str


class ExportResult(BaseModel):
    run_id: str
    segment: str
    destination: str
    sent: int = Field(description="members sent in this run")
    already_sent: int = Field(description="sent by an earlier run with the same fields")
    skipped_opt_out: int = Field(description="no marketing consent: never sent")
    skipped_no_email: int
    in_progress: int = Field(description="claimed by another export running now")
    failed: int = Field(description="to be sent again by the next run")
    errors: list[ExportMemberError]


@router.get("/list", response_model=SegmentList, dependencies=[Depends(require("read"))])
async def list_segments(request: Request, state: State) -> Response:
    """Every named segment and cluster with customers, revenue share and average CLV."""
    def build() -> bytes:
        with open_snapshot(state) as snap:
            return segment_list(snap, state.settings.currency).model_dump_json().encode()

    return await cached_json(state, request, build)


@router.get("/performance", response_model=SegmentPerformance,
            dependencies=[Depends(require("read"))])
async def performance(request: Request, state: State, as_of: AsOf = None) -> Response:
    """Per month end (the last 12) each primary segment's size, next-month revenue, orders
    and retention, and the customers moving between segments. Computed by the batch run
    for its as_of; an earlier as_of day is a 422."""
    moment = state.as_of(as_of)

    def build() -> bytes:
        with open_snapshot(state) as snap:
            return segment_performance(snap, moment, state.settings.currency) \
                .model_dump_json().encode()

    return await cached_json(state, request, build)


@router.get("/{segment_id}/customers", response_model=SegmentCustomers,
            dependencies=[Depends(require("pii"))])
async def segment_customers(
    segment_id: str, state: State,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SegmentCustomers:
    """One page of a segment's members with contact fields (PII: not cached)."""
    def build() -> SegmentCustomers:
        with open_snapshot(state) as snap:
            snap.require(*SEGMENT_TABLES)
            _known(snap.cursor, segment_id)
            total = count_members(snap.cursor, segment_id)
            members = page_members(snap.cursor, segment_id, page_size, (page - 1) * page_size)
            return SegmentCustomers(
                segment=segment_id, data_as_of=snap.data_as_of(), page=page,
                page_size=page_size, total=total,
                customers=[SegmentCustomer(**vars(m)) for m in members],
            )

    return await run_in_threadpool(build)


@router.post("/refresh", response_model=RefreshResult, dependencies=[Depends(require("write"))],
             responses={409: {"description": "the warehouse is busy (a pipeline run)"}})
async def refresh(state: State) -> RefreshResult:
    """Recompute RFM, CLV, segments and clusters in the warehouse and republish."""
    # Imported here, not at the top: the refresh reuses the segments assets and with them
    # all of Dagster (1.6 s), which the service would otherwise load at every start.
    from analytics_pipeline.api.segments_refresh import refresh_segments

    def run() -> RefreshResult:
        as_of = _batch_as_of(state)
        try:
            outcome = refresh_segments(state.settings, as_of)
        except WarehouseBusyError as err:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(err)) from err
        state.reader.refresh(force=True)
        return RefreshResult(
            data_as_of=outcome.as_of.astimezone(state.zone), seconds=round(outcome.seconds, 3),
            snapshot=outcome.snapshot.name if outcome.snapshot else None, rows=outcome.rows)

    return await run_in_threadpool(run)


@router.post(
    "/export", response_model=ExportResult,
    dependencies=[Depends(require("write")), Depends(require("pii"))],
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                     "description": "the export's counts, or the CSV file for `csv`"},
               404: {"description": "no such segment"},
               422: {"description": "invalid body, or the destination is not configured"}},
)
async def export(body: ExportRequest, state: State, request: Request) -> Response:
    """Send a segment to Mailchimp or Klaviyo (resumable: only what was not sent yet), or
    download it as CSV. Customers without marketing consent are never included."""
    segment = body.segment

    def check() -> None:
        with open_snapshot(state) as snap:
            snap.require(*SEGMENT_TABLES)
            _known(snap.cursor, segment)

    await run_in_threadpool(check)
    if body.destination == "csv":
        filename = "segment-" + "".join(c if c.isalnum() else "-" for c in segment) + ".csv"
        return StreamingResponse(
            _csv_stream(state, segment), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    result = await run_in_threadpool(_send, state, request, segment, body.destination)
    return Response(result.model_dump_json(), media_type="application/json")


def _csv_stream(state: ServiceState, segment: str) -> Iterator[str]:
    with open_snapshot(state) as snap:
        yield from csv_rows(iter_members(snap.cursor, segment), segment_tag(segment))


def _send(state: ServiceState, request: Request, segment: str, name: str) -> ExportResult:
    # The export resources are Dagster resources: importing them loads Dagster, which the
    # service should not pay for at start-up (see refresh above).
    from analytics_pipeline.exports.resources import export_resources

    resources: dict[str, Any] = getattr(request.app.state, "export_resources", None) or \
        export_resources(state.settings, by_variable=False)
    destination = resources[name].destination()
    if destination is None:
        names = {"mailchimp": "ANALYTICS_MAILCHIMP_API_KEY and ANALYTICS_MAILCHIMP_AUDIENCE_ID",
                 "klaviyo": "ANALYTICS_KLAVIYO_API_KEY and ANALYTICS_KLAVIYO_LIST_ID"}
        raise HTTPException(422,
                            detail=f"{name} is not configured: set {names[name]}")
    ledger = ExportLedger(state.settings.export_ledger_path)
    try:
        with open_snapshot(state) as snap:
            report = run_export(iter_members(snap.cursor, segment), segment,
                                segment_tag(segment), destination, ledger)
    finally:
        getattr(destination, "close", lambda: None)()
    return ExportResult(
        run_id=report.run_id, segment=segment, destination=name, sent=report.sent,
        already_sent=report.already_sent, skipped_opt_out=report.skipped_opt_out,
        skipped_no_email=report.skipped_no_email, in_progress=report.in_progress,
        failed=report.failed,
        errors=[ExportMemberError(customer_id=e.customer_id, error=e.error)
                for e in report.errors],
    )


def _known(cursor: Any, segment: str) -> None:
    """404 unless ``segment`` is a named segment or an affinity group/cluster with members."""
    try:
        check_segment_id(segment)
    except UnknownSegmentError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(err)) from err
    if segment not in NAMED_SEGMENTS and not count_members(cursor, segment):
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=f"segment {segment!r} has no members in the published data")


def _batch_as_of(state: ServiceState) -> datetime:
    """The published batch's as_of (see ``segments_refresh``). Before the first run
    there is nothing to refresh from: the reader's "run materialize first" (503)."""
    with open_snapshot(state) as snap:
        return snap.data_as_of()
