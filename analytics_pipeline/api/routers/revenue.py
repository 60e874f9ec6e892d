"""``/api/revenue``: how the business is doing, from the published tables."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from analytics_pipeline.api.auth import require
from analytics_pipeline.api.live_sales import live_totals
from analytics_pipeline.api.panels import (
    AsOf,
    Snapshot,
    State,
    count,
    money,
    money_or_none,
    open_snapshot,
    share_percent,
)
from analytics_pipeline.api.state import ServiceState, cached_json

router = APIRouter(prefix="/api/revenue", tags=["revenue"], dependencies=[Depends(require("read"))])
# The newest cohorts are the ones a dashboard compares; older ones only lengthen the answer.
COHORTS = 12


class DayFigures(BaseModel):
    date: date
    revenue: Decimal = Field(description="net revenue in `currency`, returns deducted")
    orders: int
    units: int
    average_order_value: Decimal | None = Field(description="revenue / orders, `currency`")
    gross_margin: Decimal | None = Field(description="revenue - cost, `currency`")
    gross_margin_pct: float | None = Field(description="gross margin / revenue, percent")


class TargetFigures(BaseModel):
    revenue: Decimal | None = Field(description="the day's target in `currency`")
    source: str = Field(description="where the target comes from")
    progress_pct: float | None = Field(description="revenue so far / target, percent")


class Comparison(BaseModel):
    date: date
    revenue_same_time: Decimal = Field(description="revenue by the same time of day, `currency`")
    change_pct: float | None = Field(description="today vs then, percent")


class LiveFigures(BaseModel):
    orders: int = Field(description="orders received live since the last batch run")
    revenue: Decimal = Field(description="their revenue, `currency`")


class RevenueCurrent(BaseModel):
    as_of: datetime
    currency: str
    today: DayFigures
    target: TargetFigures
    same_weekday_last_week: Comparison
    live: LiveFigures
    published_at: datetime | None


@router.get("/current", response_model=RevenueCurrent)
async def current(request: Request, state: State, as_of: AsOf = None) -> Response:
    """Today so far (to ``as_of``) vs the day's target and vs the same weekday last week."""
    moment = state.as_of(as_of)
    return await cached_json(
        state, request, lambda: revenue_current(state, moment).model_dump_json().encode()
    )


def revenue_current(state: ServiceState, moment: datetime) -> RevenueCurrent:
    """The figures behind ``/current`` and the live feed (blocking: run in a thread)."""
    day = moment.astimezone(state.zone).date()
    week_ago = moment - timedelta(days=7)
    (row,) = state.reader.fetch(
        """SELECT
             COALESCE(SUM(revenue) FILTER (WHERE sale_date = $day AND ordered_at <= $at), 0),
             COUNT(*) FILTER (WHERE sale_date = $day AND ordered_at <= $at AND NOT returns_only),
             COALESCE(SUM(units) FILTER (WHERE sale_date = $day AND ordered_at <= $at), 0),
             SUM(cost) FILTER (WHERE sale_date = $day AND ordered_at <= $at),
             COALESCE(SUM(revenue) FILTER (WHERE sale_date = $prev AND ordered_at <= $prev_at), 0)
           FROM revenue.recent_orders""",
        {"day": day, "at": moment, "prev": day - timedelta(days=7), "prev_at": week_ago},
    )
    watermark, published_at = state.reader.fetch(
        "SELECT live_watermark, published_at FROM main.manifest")[0]
    live = live_totals(state.live, int(str(watermark)), day, moment, state.settings.store_timezone)
    revenue = Decimal(str(row[0])) + live.revenue
    orders = int(str(row[1])) + live.orders
    cost = None if row[3] is None else Decimal(str(row[3])) + live.cost
    margin = None if cost is None else revenue - cost
    target, source = _target(state, day)
    last_week = Decimal(str(row[4]))
    return RevenueCurrent(
        as_of=moment,
        currency=state.settings.currency,
        today=DayFigures(
            date=day, revenue=revenue, orders=orders, units=int(str(row[2])) + live.units,
            average_order_value=_ratio(revenue, orders),
            gross_margin=margin, gross_margin_pct=_pct(margin, revenue),
        ),
        target=TargetFigures(revenue=target, source=source, progress_pct=_pct(revenue, target)),
        same_weekday_last_week=Comparison(
            date=day - timedelta(days=7), revenue_same_time=last_week,
            change_pct=None if not last_week else round(float(revenue / last_week - 1) * 100, 2),
        ),
        live=LiveFigures(orders=live.orders, revenue=live.revenue),
        published_at=published_at if isinstance(published_at, datetime) else None,
    )


def _target(state: ServiceState, day: date) -> tuple[Decimal | None, str]:
    if not state.reader.has_table("revenue", "daily_targets"):
        return None, "no targets computed"
    rows = state.reader.fetch(
        "SELECT target_revenue, target_source FROM revenue.daily_targets WHERE day = $day",
        {"day": day},
    )
    if not rows or rows[0][0] is None:
        return None, str(rows[0][1]) if rows else "no target for this day"
    return Decimal(str(rows[0][0])), str(rows[0][1])


def _ratio(amount: Decimal, count: int) -> Decimal | None:
    return (amount / count).quantize(Decimal("0.01")) if count else None


def _pct(part: Decimal | None, whole: Decimal | None) -> float | None:
    if part is None or not whole:
        return None
    return round(float(part / whole) * 100, 2)


class LtvBucket(BaseModel):
    label: str
    lower: Decimal | None = Field(description="values >= this, `currency`; null: unbounded")
    upper: Decimal | None = Field(description="values < this, `currency`; null: unbounded")
    customers: int
    revenue_share_pct: float | None = Field(
        description="the bucket's share of all customers' revenue, percent")


class CohortPoint(BaseModel):
    cohort_month: date = Field(description="store-local month of the first purchase")
    months_since_first: int = Field(description="0 = the first-purchase month")
    customers: int = Field(description="customers in the cohort")
    active_customers: int = Field(description="of them, customers who bought that month")
    cumulative_revenue_per_customer: Decimal = Field(
        description="the cohort's net revenue up to that month / its customers, `currency`")


class CustomerLtv(BaseModel):
    as_of: datetime
    data_as_of: datetime = Field(description="as_of of the batch run the figures are from")
    currency: str
    customers: int = Field(description="identified customers with a completed order line")
    average_ltv: Decimal | None = Field(
        description="mean historic value (net revenue to date), `currency`")
    median_ltv: Decimal | None = Field(description="median historic value, `currency`")
    predicted_available: bool = Field(
        description="true once the snapshot has BG/NBD + Gamma-Gamma predictions "
        "(segments.customer_clv)")
    average_predicted_clv: Decimal | None = Field(
        description="mean of segments.customer_clv.predicted_clv, `currency`")
    distribution: list[LtvBucket] = Field(description="fixed money bands, lowest first")
    cohorts: list[CohortPoint] = Field(
        description=f"the last {COHORTS} cohorts, oldest first, each month since the first")


@router.get("/customers/ltv", response_model=CustomerLtv)
async def customers_ltv(request: Request, state: State, as_of: AsOf = None) -> Response:
    """Customers' historic value: average, median, distribution and the last 12 cohorts'
    curves. Computed by the batch run for its as_of; an earlier as_of day is a 422."""
    moment = state.as_of(as_of)
    return await cached_json(
        state, request, lambda: customer_ltv(state, moment).model_dump_json().encode()
    )


def customer_ltv(state: ServiceState, moment: datetime) -> CustomerLtv:
    """The figures behind ``/customers/ltv`` (blocking: run in a thread)."""
    with open_snapshot(state) as snap:
        snap.require("revenue.customer_ltv", "revenue.ltv_distribution", "revenue.ltv_cohorts")
        data_as_of = snap.batch_as_of(moment)
        customers, total, median = snap.fetch(
            "SELECT COUNT(*), SUM(revenue), MEDIAN(revenue) FROM revenue.customer_ltv")[0]
        buckets = snap.fetch(
            """SELECT bucket, ltv_from, ltv_to, customers, revenue_share
               FROM revenue.ltv_distribution ORDER BY bucket_order""")
        cohorts = snap.fetch(
            """SELECT cohort_month, months_since_first_purchase, cohort_customers,
                      active_customers, cumulative_revenue_per_customer
               FROM revenue.ltv_cohorts
               WHERE cohort_month IN (SELECT DISTINCT cohort_month FROM revenue.ltv_cohorts
                                      ORDER BY cohort_month DESC LIMIT $n)
               ORDER BY cohort_month, months_since_first_purchase""", {"n": COHORTS})
        predicted_available, predicted = _predicted_clv(snap)
    n = count(customers)
    return CustomerLtv(
        as_of=moment, data_as_of=data_as_of, currency=state.settings.currency, customers=n,
        average_ltv=money(Decimal(str(total)) / n) if n else None,
        median_ltv=money_or_none(median),
        predicted_available=predicted_available, average_predicted_clv=predicted,
        distribution=[LtvBucket(
            label=str(label), lower=money_or_none(lower), upper=money_or_none(upper),
            customers=count(n_in), revenue_share_pct=share_percent(share),
        ) for label, lower, upper, n_in, share in buckets],
        # cohort_month is never NULL there; the isinstance only tells mypy it is a date.
        cohorts=[CohortPoint(
            cohort_month=month, months_since_first=count(since), customers=count(size),
            active_customers=count(active), cumulative_revenue_per_customer=money(per_customer),
        ) for month, since, size, active, per_customer in cohorts if isinstance(month, date)],
    )


def _predicted_clv(snap: Snapshot) -> tuple[bool, Decimal | None]:
    """Whether BG/NBD predictions are published, and their mean. The table exists whenever
    segments ran, but a store too small to fit leaves every prediction NULL."""
    if not snap.has_table("segments.customer_clv"):
        return False, None
    (mean,) = snap.fetch("SELECT AVG(predicted_clv) FROM segments.customer_clv")[0]
    return mean is not None, money_or_none(mean)
