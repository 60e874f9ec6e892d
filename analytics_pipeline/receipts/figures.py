"""The receipt's figures, each computed from warehouse tables or left out with the reason.

No figure is estimated or filled in: when the data cannot support one (no inventory
counts, no fitted CLV model, too few A/B exposures or conversions), it is reported as left
out and why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from analytics_pipeline.recommendations.performance import CONVERSION_SOURCE, Performance
from analytics_pipeline.warehouse import Warehouse


@dataclass(frozen=True)
class Figure:
    """One line of the receipt.

    ``value`` is ``None`` when the figure is left out; ``reason`` then says why.
    ``details`` are the supporting numbers; names ending in ``_cost`` are money, in
    ``_share`` fractions shown as percentages.
    ``unit`` is ``money`` (the store's currency) or ``share`` (0.05 = +5 %).
    """

    key: str
    title: str
    how: str
    value: float | None = None
    details: dict[str, float] = field(default_factory=dict)
    reason: str | None = None
    unit: str = "money"


@dataclass(frozen=True)
class ReceiptInputs:
    """What the figures need besides the warehouse: the CLV model's horizon and discount
    rate (to describe the method) and the A/B test's readout (``None``: nothing logged)."""

    clv_horizon_days: float
    clv_discount_rate: float
    experiment: Performance | None = None


def receipt_figures(wh: Warehouse, inputs: ReceiptInputs) -> list[Figure]:
    """Every figure of the receipt, in the order shown."""
    return [stockout_revenue(wh), overstock_cash(wh), at_risk_clv(wh, inputs),
            recommendation_lift(inputs.experiment)]


def _number(value: object) -> float:
    return float(str(value)) if value is not None else 0.0


def _no_inventory(wh: Warehouse) -> str | None:
    (counts,) = wh.fetch_all("SELECT count(*) FROM ingest.inventory")[0]
    return None if _number(counts) > 0 else (
        "the source has no inventory counts, so no stock position can be judged")


STOCKOUT_SQL = """
SELECT count(*), sum(r.revenue_at_risk), sum(r.suggested_quantity),
       sum(r.suggested_quantity * p.unit_cost), count(*) - count(p.unit_cost)
FROM inventory.reorder_suggestions AS r
LEFT JOIN ingest.products AS p ON p.product_id = r.product_id
WHERE r.revenue_at_risk > 0"""


def stockout_revenue(wh: Warehouse) -> Figure:
    title = "Revenue at risk from predicted stockouts, and the reorder that prevents it"
    how = ("Sum of inventory.reorder_suggestions.revenue_at_risk over products with a "
           "predicted shortfall: the forecast demand the shelf cannot serve over each "
           "product's lead time plus review period if nothing is ordered (stock on hand and "
           "open orders counted), times its average selling price over the last 90 days. "
           "The reorder is those rows' suggested_quantity, valued at ingest.products.unit_cost.")
    missing = _no_inventory(wh)
    if missing:
        return Figure("stockout_revenue_at_risk", title, how, reason=missing)
    products, at_risk, units, cost, uncosted = wh.fetch_all(STOCKOUT_SQL)[0]
    details = {"products": _number(products), "reorder_units": _number(units),
               "reorder_cost": _number(cost), "uncosted_products": _number(uncosted)}
    return Figure("stockout_revenue_at_risk", title, how, _number(at_risk), details)


def overstock_cash(wh: Warehouse) -> Figure:
    title = "Cash tied up in overstock"
    how = ("Sum over today's overstock alerts (inventory.alerts, alert_type 'overstock': more "
           "stock than the overstock limit of forecast demand, or turning too slowly) of the "
           "stock's value at cost in the alert's evidence: units on hand x unit cost.")
    missing = _no_inventory(wh)
    if missing:
        return Figure("overstock_cash", title, how, reason=missing)
    rows = wh.fetch_all(
        "SELECT evidence FROM inventory.alerts WHERE alert_type = 'overstock' ORDER BY alert_id")
    values = [json.loads(str(evidence)).get("stock_value_at_cost") for (evidence,) in rows]
    known = [float(v) for v in values if v is not None]
    details = {"products": float(len(values)),
               "uncosted_products": float(len(values) - len(known))}
    return Figure("overstock_cash", title, how, round(sum(known), 2), details)


AT_RISK_SQL = """SELECT count(*), count(predicted_clv), sum(predicted_clv)
                 FROM segments.customer_segments WHERE is_at_risk"""


def at_risk_clv(wh: Warehouse, inputs: ReceiptInputs) -> Figure:
    title = "Expected lifetime value of at-risk customers"
    how = (f"Sum of predicted_clv over the customers segments.customer_segments flags at "
           f"risk: BG/NBD expected purchases x Gamma-Gamma expected spend over the next "
           f"{inputs.clv_horizon_days:g} days, discounted at {inputs.clv_discount_rate:.0%} a "
           f"year (segments.customer_clv).")
    customers, scored, total = wh.fetch_all(AT_RISK_SQL)[0]
    details = {"customers": _number(customers), "customers_with_clv": _number(scored)}
    if _number(customers) == 0:
        return Figure("at_risk_clv", title, how, 0.0, details)
    if _number(scored) == 0:
        return Figure("at_risk_clv", title, how, details=details, reason=(
            "the CLV models were not fitted (too few repeat customers, see "
            "ANALYTICS_CLV_MIN_REPEAT_CUSTOMERS), so no at-risk customer has a predicted CLV"))
    return Figure("at_risk_clv", title, how, _number(total), details)


def recommendation_lift(readout: Performance | None) -> Figure:
    title = "Measured recommendation lift (A/B test, v2 over v1)"
    how = (f"Relative lift in conversion of customers shown v2 recommendations over those "
           f"shown v1 ({CONVERSION_SOURCE}), with its confidence interval (delta method on "
           f"the log ratio), from the experiment's exposure and feedback log.")
    if readout is None:
        return Figure("recommendation_lift", title, how, reason=(
            "the recommendations experiment has logged no exposures yet"))
    arms = {arm.arm: arm for arm in readout.arms}
    details = {f"{name}_{field}": float(getattr(arm, field)) for name, arm in arms.items()
               for field in ("exposed_customers", "converted_customers")}
    lift = readout.conversion
    if lift is None:
        return Figure("recommendation_lift", title, how, details=details, reason=(
            "each arm needs at least two exposed customers before the arms can be compared"))
    if lift.relative_lift is None or lift.ci_low is None or lift.ci_high is None:
        return Figure("recommendation_lift", title, how, details=details, reason=(
            "no customer in one of the arms has converted yet, so a relative lift is undefined"))
    details |= {"ci_low_share": lift.ci_low, "ci_high_share": lift.ci_high,
                "confidence_share": 1 - readout.alpha}
    return Figure("recommendation_lift", title, how, lift.relative_lift, details, unit="share")
