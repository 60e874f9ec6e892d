"""Gamma-Gamma model of spend per transaction.

Fader, Hardie and Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base
Analysis", Journal of Marketing Research 42(4); Fader and Hardie (2013), "The Gamma-Gamma
Model of Monetary Value". A customer's transaction values are ``Gamma(p, nu)`` with
``nu ~ Gamma(q, gamma)`` across customers, independent of the purchase process. The model
is fitted on customers with repeat purchases only, from ``x`` (repeat transactions) and
``m_x`` (their average value, the first purchase left out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from analytics_pipeline.models.mle import FloatArray, ModelFitError, fit_log_params


@dataclass(frozen=True)
class GammaGammaParams:
    """Transaction values ``Gamma(p, nu)``, ``nu ~ Gamma(q, gamma)``."""

    p: float
    q: float
    gamma: float

    @property
    def population_mean_spend(self) -> float:
        """Mean transaction value across customers, ``p * gamma / (q - 1)`` (needs q > 1)."""
        return self.p * self.gamma / (self.q - 1.0)


@dataclass(frozen=True)
class GammaGammaFit:
    """A maximum-likelihood fit: parameters, log-likelihood, data size, iterations."""

    params: GammaGammaParams
    log_likelihood: float
    customers: int
    iterations: int


def log_likelihood(params: GammaGammaParams, x: ArrayLike, m_x: ArrayLike) -> FloatArray:
    """Each customer's log-density of the average ``m_x`` of ``x`` transactions."""
    xs, ms = np.asarray(x, dtype=np.float64), np.asarray(m_x, dtype=np.float64)
    levels, level_of = np.unique(xs, return_inverse=True)
    return _log_likelihood(params, xs, ms, levels, level_of.reshape(-1))


def _log_likelihood(
    params: GammaGammaParams, x: FloatArray, m_x: FloatArray, levels: FloatArray,
    level_of: npt.NDArray[np.intp],
) -> FloatArray:
    # The gamma functions depend on x alone: evaluated once per distinct x.
    p, q, gamma = params.p, params.q, params.gamma
    per_x = gammaln(p * levels + q) - gammaln(p * levels) - gammaln(q)
    px = p * x
    return np.asarray(
        per_x[level_of] + q * np.log(gamma) + (px - 1) * np.log(m_x) + px * np.log(x)
        - (px + q) * np.log(gamma + m_x * x),
        dtype=np.float64,
    )


def _negative_ll(
    log_params: FloatArray, x: FloatArray, m_x: FloatArray, levels: FloatArray,
    level_of: npt.NDArray[np.intp],
) -> tuple[float, FloatArray]:
    """Negative total log-likelihood and its gradient in log-parameters."""
    p, q, gamma = np.exp(log_params)
    log_total = np.log(gamma + m_x * x)
    psi_sum = digamma(p * levels + q)[level_of]
    d_p = x * (psi_sum - digamma(p * levels)[level_of] + np.log(m_x) + np.log(x) - log_total)
    d_q = psi_sum - digamma(q) + np.log(gamma) - log_total
    d_gamma = q / gamma - (p * x + q) / (gamma + m_x * x)
    grad = np.array([d_p.sum() * p, d_q.sum() * q, d_gamma.sum() * gamma])
    ll = _log_likelihood(GammaGammaParams(p, q, gamma), x, m_x, levels, level_of)
    return -float(ll.sum()), -grad


def fit(x: ArrayLike, m_x: ArrayLike) -> GammaGammaFit:
    """Fit Gamma-Gamma by maximum likelihood on customers with repeat purchases.

    Parameters
    ----------
    x
        Repeat transactions per customer; customers with ``x == 0`` are left out.
    m_x
        Average value of those repeat transactions; must be > 0 where ``x > 0``.

    Returns
    -------
    GammaGammaFit
        Fitted parameters; ``customers`` counts the repeat buyers used.

    Raises
    ------
    ModelFitError
        On invalid spend, no repeat buyers, no convergence, or ``q <= 1`` (the mean
        spend would be infinite, so no expectation can be given).
    """
    x, m_x = np.asarray(x, dtype=np.float64), np.asarray(m_x, dtype=np.float64)
    used = x > 0
    x, m_x = x[used], m_x[used]
    if len(x) == 0:
        raise ModelFitError("Gamma-Gamma needs at least one customer with a repeat purchase")
    if not np.all(np.isfinite(m_x)) or np.any(m_x <= 0):
        raise ModelFitError("average repeat spend must be > 0 for every repeat customer")
    # Method-of-moments flavoured start: spend shape 1, scale at the mean spend.
    start = np.array([1.0, 2.0, float(np.mean(m_x))])
    levels, level_of = np.unique(x, return_inverse=True)
    params, ll, iterations = fit_log_params(
        lambda lp: _negative_ll(lp, x, m_x, levels, level_of.reshape(-1)), start, "Gamma-Gamma"
    )
    fitted = GammaGammaParams(*map(float, params))
    if fitted.q <= 1.0:
        raise ModelFitError(f"Gamma-Gamma fit has q = {fitted.q:.3f} <= 1: mean spend undefined")
    return GammaGammaFit(fitted, ll, len(x), iterations)


def expected_average_spend(
    params: GammaGammaParams, x: ArrayLike, m_x: ArrayLike
) -> FloatArray:
    """Conditional expected value of a future transaction (eq. 5 of the 2013 note).

    A weighted mean of the population mean and the customer's own average: the more
    repeat transactions, the more weight on their own. Customers with ``x == 0`` get the
    population mean (their ``m_x`` is ignored, it may be missing).
    """
    x = np.asarray(x, dtype=np.float64)
    m_x = np.where(x > 0, np.nan_to_num(np.asarray(m_x, dtype=np.float64)), 0.0)
    p, q, gamma = params.p, params.q, params.gamma
    return np.asarray(p * (gamma + x * m_x) / (p * x + q - 1.0), dtype=np.float64)
