"""``/api/alerts``: the inventory alerts of the last batch run, and a way to start a new one.

``POST /api/alerts/run`` is what Cloud Scheduler (or a person) calls to refresh forecasts,
alerts and the digest outside the 06:00 schedule. The run is the same full refresh the
schedule does, in its own process: the API never writes the warehouse itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

from analytics_pipeline.api.auth import require
from analytics_pipeline.api.panels import (
    AsOf,
    State,
    count_or_none,
    money_or_none,
    open_snapshot,
)
from analytics_pipeline.api.state import ServiceState, cached_json

router = APIRouter(prefix="/api/alerts", tags=["alerts"])
AlertType = Literal["low_stock", "overstock", "trending", "slow_mover", "seasonal"]
Severity = Literal["critical", "warning", "info"]


class Alert(BaseModel):
    alert_id: str = Field(description="stable for the same type, product and day")
    product_id: str
    product_name: str | None
    category: str | None
    alert_type: AlertType
    severity: Severity
    reason: str = Field(description="the rule's figures, in words")
    evidence: dict[str, float | int | str | bool | None] = Field(
        description="the numbers the rule fired on")
    suggested_quantity: int | None = Field(description="units to order, where it applies")
    expected_stockout_date: date | None
    revenue_at_risk: Decimal | None = Field(description="`currency`")


class Alerts(BaseModel):
    as_of: datetime
    data_as_of: datetime = Field(description="as_of of the batch run the alerts are from")
    currency: str
    counts: dict[str, int] = Field(description="alerts per severity, before `limit`")
    alerts: list[Alert] = Field(description="critical first, then most revenue at risk")


class RunStarted(BaseModel):
    status: Literal["started"]
    pid: int = Field(description="the refresh process; its figures appear when it finishes")


@router.get("", response_model=Alerts, dependencies=[Depends(require("read"))])
async def list_alerts(
    request: Request, state: State, as_of: AsOf = None,
    severity: Annotated[Severity | None, Query(description="only this severity")] = None,
    alert_type: Annotated[AlertType | None, Query(alias="type")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Response:
    """The alerts of the last batch run: low stock, overstock, trending, slow movers and
    seasonal peaks, each with its reason and evidence."""
    moment = state.as_of(as_of)
    return await cached_json(state, request, lambda: current_alerts(
        state, moment, severity, alert_type, limit).model_dump_json().encode())


_ALERTS = """
SELECT alert_id, product_id, product_name, category, alert_type, severity, reason, evidence,
       suggested_quantity, expected_stockout_date, revenue_at_risk
FROM inventory.alerts
WHERE ($severity IS NULL OR severity = $severity) AND ($type IS NULL OR alert_type = $type)
ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
         revenue_at_risk DESC NULLS LAST, alert_type, product_id
LIMIT $limit
"""


def current_alerts(
    state: ServiceState, moment: datetime, severity: str | None, alert_type: str | None,
    limit: int,
) -> Alerts:
    """The figures behind ``GET /api/alerts`` (blocking: run in a thread)."""
    with open_snapshot(state) as snap:
        snap.require("inventory.alerts")
        data_as_of = snap.batch_as_of(moment)
        rows = snap.fetch(_ALERTS, {"severity": severity, "type": alert_type, "limit": limit})
        counts = snap.fetch("SELECT severity, COUNT(*) FROM inventory.alerts GROUP BY 1")
    return Alerts(
        as_of=moment, data_as_of=data_as_of, currency=state.settings.currency,
        counts={str(s): int(str(n)) for s, n in counts},
        alerts=[_alert(row) for row in rows],
    )


def _alert(row: tuple[object, ...]) -> Alert:
    (alert_id, product_id, name, category, kind, severity, reason, evidence, quantity,
     stockout, at_risk) = row
    return Alert.model_validate({
        "alert_id": str(alert_id), "product_id": str(product_id),
        "product_name": None if name is None else str(name),
        "category": None if category is None else str(category),
        "alert_type": kind, "severity": severity, "reason": str(reason),
        "evidence": json.loads(str(evidence)) if evidence else {},
        "suggested_quantity": count_or_none(quantity),
        "expected_stockout_date": stockout if isinstance(stockout, date) else None,
        "revenue_at_risk": money_or_none(at_risk),
    })


@router.post("/run", response_model=RunStarted, status_code=status.HTTP_202_ACCEPTED,
             dependencies=[Depends(require("write"))],
             responses={409: {"description": "no source configured, or a run is going"}})
async def run_alerts(request: Request, state: State) -> RunStarted:
    """Start a refresh of everything (forecasts, alerts, the digest) now, in its own
    process; one at a time."""
    running: subprocess.Popen[bytes] | None = getattr(request.app.state, "alerts_run", None)
    if running is not None and running.poll() is None:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"a refresh is already running (pid {running.pid})")
    if state.settings.source_dir is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="nothing to refresh from: set ANALYTICS_SOURCE_DIR for the service")
    settings = state.settings
    pinned = ["--as-of", settings.as_of] if settings.as_of else []
    # The child also reads this environment, so it builds what this service serves.
    process = subprocess.Popen(  # noqa: S603 (fixed argv from settings, no shell)
        [sys.executable, "-m", "analytics_pipeline.cli", "materialize",
         "--source", str(settings.source_dir), "--warehouse", settings.warehouse_url, *pinned],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    request.app.state.alerts_run = process
    return RunStarted(status="started", pid=process.pid)
