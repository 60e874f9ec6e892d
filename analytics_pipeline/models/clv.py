"""Customer lifetime value: BG/NBD for how often, Gamma-Gamma for how much, discounted.

Inputs are one row per customer as ``sql/segments/clv_inputs.sql`` writes them (time in
days): ``frequency`` (repeat purchase days, x), ``t_x_days`` (first to last purchase day),
``tenure_days`` (first purchase day to the as_of day) and ``monetary_value`` (average net
value of the repeat purchase days, NULL without repeats).

Too little data is not an error for the pipeline: with fewer repeat customers than
``ClvConfig.min_repeat_customers``, or when a fit fails, :func:`score_customers` returns
every customer with NULL model outputs and ``clv_method = 'insufficient_data'``, plus the
reason, so segments still build (VIP then falls back to historic spend, see
``sql/segments/customer_segments.sql``) and the run metadata says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics_pipeline.models import bgnbd, gamma_gamma
from analytics_pipeline.models.mle import FloatArray, ModelFitError

PURCHASE_WINDOWS_DAYS = (30, 90, 365)
FITTED, INSUFFICIENT = "bgnbd_gamma_gamma", "insufficient_data"
INPUT_COLUMNS = ("customer_id", "frequency", "t_x_days", "tenure_days", "monetary_value")
OUTPUT_COLUMNS = (
    *INPUT_COLUMNS, "p_alive", *(f"expected_purchases_{d}d" for d in PURCHASE_WINDOWS_DAYS),
    "expected_average_spend", "predicted_clv", "clv_method",
)
_DAYS_PER_YEAR = 365.0


class InsufficientDataError(ModelFitError):
    """Too few repeat customers for a trustworthy fit; the message gives the counts."""


@dataclass(frozen=True)
class ClvConfig:
    """How CLV is projected.

    Attributes
    ----------
    horizon_days
        How far ahead lifetime value is summed.
    annual_discount_rate
        Yearly rate future purchases are discounted by (0.10 = 10 %).
    min_repeat_customers
        Fewest customers with a repeat purchase (and positive repeat spend) to fit on.
    step_days
        Width of the periods purchases are discounted by (each at its end).
    """

    horizon_days: float = 365.0
    annual_discount_rate: float = 0.10
    min_repeat_customers: int = 30
    step_days: float = 30.0


@dataclass(frozen=True)
class ClvModel:
    """Both fitted models."""

    purchases: bgnbd.BgNbdFit
    spend: gamma_gamma.GammaGammaFit


@dataclass(frozen=True)
class ClvScores:
    """Per-customer results (``OUTPUT_COLUMNS``), the model (None: fallback) and a note."""

    customers: pd.DataFrame
    model: ClvModel | None
    note: str


def _arrays(frame: pd.DataFrame) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    return tuple(  # type: ignore[return-value]
        frame[c].to_numpy(dtype=np.float64, na_value=np.nan)
        for c in ("frequency", "t_x_days", "tenure_days", "monetary_value")
    )


def fit_clv(frame: pd.DataFrame, config: ClvConfig) -> ClvModel:
    """Fit BG/NBD on every customer and Gamma-Gamma on repeat customers.

    Raises
    ------
    InsufficientDataError
        With fewer than ``config.min_repeat_customers`` usable repeat customers.
    ModelFitError
        When a fit does not converge or gives an unusable Gamma-Gamma ``q <= 1``.
    """
    x, t_x, T, m_x = _arrays(frame)
    spenders = (x > 0) & (m_x > 0)
    if spenders.sum() < config.min_repeat_customers:
        raise InsufficientDataError(
            f"CLV needs at least {config.min_repeat_customers} customers with a repeat "
            f"purchase and positive repeat spend (ANALYTICS_CLV_MIN_REPEAT_CUSTOMERS); "
            f"found {int(spenders.sum())} among {len(x)} customers"
        )
    purchases = bgnbd.fit(x, t_x, T)
    spend = gamma_gamma.fit(x[spenders], m_x[spenders])
    return ClvModel(purchases, spend)


def discounted_value(
    model: ClvModel, config: ClvConfig, x: FloatArray, t_x: FloatArray, T: FloatArray,
    m_x: FloatArray,
) -> FloatArray:
    """Expected discounted spend over ``config.horizon_days`` per customer.

    Purchases expected in each ``step_days`` period are valued at the customer's
    expected average spend and discounted from the period's end.
    """
    steps = max(1, math.ceil(config.horizon_days / config.step_days))
    ends = np.minimum(np.arange(1, steps + 1) * config.step_days, config.horizon_days)
    cumulative = bgnbd.expected_purchases_over(model.purchases.params, list(ends), x, t_x, T)
    per_period = np.diff(cumulative, axis=0, prepend=0.0)
    discount = (1.0 + config.annual_discount_rate) ** (-ends / _DAYS_PER_YEAR)
    spend = gamma_gamma.expected_average_spend(model.spend.params, x, m_x)
    return np.asarray(discount @ per_period * spend, dtype=np.float64)


def predict(model: ClvModel, frame: pd.DataFrame, config: ClvConfig) -> pd.DataFrame:
    """``OUTPUT_COLUMNS`` for every customer of ``frame`` under a fitted model."""
    x, t_x, T, m_x = _arrays(frame)
    params = model.purchases.params
    out = frame.loc[:, list(INPUT_COLUMNS)].copy()
    out["p_alive"] = bgnbd.p_alive(params, x, t_x, T)
    windows = bgnbd.expected_purchases_over(params, PURCHASE_WINDOWS_DAYS, x, t_x, T)
    for days, expected in zip(PURCHASE_WINDOWS_DAYS, windows, strict=True):
        out[f"expected_purchases_{days}d"] = expected
    out["expected_average_spend"] = gamma_gamma.expected_average_spend(model.spend.params, x, m_x)
    out["predicted_clv"] = discounted_value(model, config, x, t_x, T, m_x)
    out["clv_method"] = FITTED
    return out


def score_customers(frame: pd.DataFrame, config: ClvConfig) -> ClvScores:
    """Fit and predict, or fall back to NULL outputs when the data cannot support a fit."""
    try:
        model = fit_clv(frame, config)
    except ModelFitError as err:
        out = frame.loc[:, list(INPUT_COLUMNS)].copy()
        for column in OUTPUT_COLUMNS[len(INPUT_COLUMNS):-1]:
            out[column] = np.nan
        out["clv_method"] = INSUFFICIENT
        return ClvScores(out, None, f"not fitted, outputs left NULL: {err}")
    fitted = predict(model, frame, config)
    return ClvScores(fitted, model, f"fitted on {len(frame)} customers")
