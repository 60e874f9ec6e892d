"""Alert rows as the notifier sees them, read from ``inventory.alerts``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal

from analytics_pipeline.warehouse import Warehouse

SEVERITIES = ("critical", "warning", "info")
COLUMNS = (
    "alert_id", "product_id", "product_name", "category", "alert_type", "severity", "reason",
    "evidence", "suggested_quantity", "expected_stockout_date", "revenue_at_risk", "as_of",
)
# Most urgent first; within a severity the money at stake orders the list. An empty
# filter parameter means "any" (BigQuery cannot bind an untyped NULL).
_SELECT = (
    "SELECT alert_id, product_id, product_name, category, alert_type, severity, reason,"
    " evidence, suggested_quantity, expected_stockout_date, revenue_at_risk, as_of"
    " FROM inventory.alerts"
    " WHERE ($alert_type = '' OR alert_type = $alert_type)"
    " AND ($severity = '' OR severity = $severity)"
    " ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,"
    " revenue_at_risk DESC NULLS LAST, alert_type, product_id"
)


@dataclass(frozen=True)
class Alert:
    """One row of ``inventory.alerts``; dates and numbers kept as plain text or floats.

    ``as_of`` and ``expected_stockout_date`` are ISO strings, so an alert travels unchanged
    through run configuration and JSON.
    """

    alert_id: str
    product_id: str
    product_name: str
    category: str | None
    alert_type: str
    severity: str
    reason: str
    evidence: str | None = None
    suggested_quantity: float | None = None
    expected_stockout_date: str | None = None
    revenue_at_risk: float | None = None
    as_of: str | None = None

    @property
    def key(self) -> str:
        """What the cooldown compares: the same problem with the same product."""
        return f"{self.alert_type}|{self.product_id}"

    def as_record(self) -> dict[str, str | float | None]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> Alert:
        """An alert from a warehouse row or a JSON/config mapping (extra keys ignored)."""
        return cls(
            alert_id=str(record["alert_id"]),
            product_id=str(record["product_id"]),
            product_name=str(record.get("product_name") or record["product_id"]),
            category=_text(record.get("category")),
            alert_type=str(record["alert_type"]),
            severity=str(record["severity"]),
            reason=str(record.get("reason") or ""),
            evidence=_text(record.get("evidence")),
            suggested_quantity=_number(record.get("suggested_quantity")),
            expected_stockout_date=_text(record.get("expected_stockout_date")),
            revenue_at_risk=_number(record.get("revenue_at_risk")),
            as_of=_text(record.get("as_of")),
        )


def read_alerts(
    wh: Warehouse, alert_type: str | None = None, severity: str | None = None
) -> list[Alert]:
    """Alerts in ``inventory.alerts`` (optionally of one type and severity); ``[]`` if the
    table has not been built yet."""
    if not wh.table_exists("inventory", "alerts"):
        return []
    rows = wh.fetch_all(_SELECT, {"alert_type": alert_type or "", "severity": severity or ""})
    return [Alert.from_record(dict(zip(COLUMNS, row, strict=True))) for row in rows]


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _number(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float | Decimal | str):
        return float(value)
    raise TypeError(f"not a number: {value!r}")
