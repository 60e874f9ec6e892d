"""BG/NBD ("beta-geometric / negative binomial distribution") purchase model.

Fader, Hardie and Lee (2005), "Counting Your Customers the Easy Way: An Alternative to
the Pareto/NBD Model", Marketing Science 24(2). While alive a customer buys at rate
``lambda ~ Gamma(r, alpha)``; after each repeat purchase they drop out for good with
probability ``p ~ Beta(a, b)``. Per customer the model sees ``x`` (repeat purchases),
``t_x`` (time of the last purchase after the first) and ``T`` (time from the first
purchase to the end of observation), all in one time unit (days in the pipeline, weeks in
the paper). ``alpha`` carries that unit; ``r``, ``a`` and ``b`` do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln, hyp2f1

from analytics_pipeline.models.mle import FloatArray, ModelFitError, check_positive, fit_log_params


@dataclass(frozen=True)
class BgNbdParams:
    """Population parameters: purchase rate ``Gamma(r, alpha)``, dropout ``Beta(a, b)``."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class BgNbdFit:
    """A maximum-likelihood fit: parameters, log-likelihood, data size, iterations."""

    params: BgNbdParams
    log_likelihood: float
    customers: int
    iterations: int


@dataclass(frozen=True)
class History:
    """Customers' ``(x, t_x, T)`` with the distinct ``x`` values factored out.

    The gamma-function terms depend on ``x`` alone, which takes few distinct values
    (dozens, for millions of customers): they are evaluated once per value.
    """

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    levels: FloatArray
    level_of: npt.NDArray[np.intp]

    @classmethod
    def of(cls, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> History:
        xs, txs, ts = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
        levels, level_of = np.unique(xs, return_inverse=True)
        return cls(xs, txs, ts, levels, level_of.reshape(-1))


def _terms(
    params: BgNbdParams, h: History
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The paper's ``A1 + A2`` and the two summands' logs ``A3``, ``A4`` (eq. 6)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    xs = h.levels
    a12 = (gammaln(r + xs) - gammaln(r) + r * np.log(alpha)
           + gammaln(a + b) + gammaln(b + xs) - gammaln(b) - gammaln(a + b + xs))[h.level_of]
    a3 = -(r + h.x) * np.log(alpha + h.T)
    repeat = h.x > 0
    # The second summand exists only for repeat buyers (the delta_{x>0} of the paper);
    # b + x - 1 >= b > 0 there, the placeholder keeps the log finite elsewhere.
    a4 = np.where(
        repeat,
        np.log(a) - np.log(np.where(repeat, b + h.x - 1, 1.0)) - (r + h.x) * np.log(alpha + h.t_x),
        -np.inf,
    )
    return a12, a3, a4, np.logaddexp(a3, a4)


def log_likelihood(
    params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Each customer's log-likelihood of ``(x, t_x, T)`` under ``params``."""
    a12, _, _, lse = _terms(params, History.of(x, t_x, T))
    return a12 + lse


def _negative_ll(log_params: FloatArray, h: History) -> tuple[float, FloatArray]:
    """Negative total log-likelihood and its gradient in log-parameters."""
    r, alpha, a, b = np.exp(log_params)
    a12, a3, a4, lse = _terms(BgNbdParams(r, alpha, a, b), h)
    w3, w4 = np.exp(a3 - lse), np.exp(a4 - lse)  # shares of the two summands
    xs, x = h.levels, h.x
    # Sums of the x-only terms: per distinct x, weighted by how many customers have it.
    count = np.bincount(h.level_of, minlength=len(xs))
    d_ab = digamma(a + b) - digamma(a + b + xs)
    d_r = (count @ (digamma(r + xs) - digamma(r) + np.log(alpha))
           - np.sum(w3 * np.log(alpha + h.T) + w4 * np.log(alpha + h.t_x)))
    d_alpha = len(x) * r / alpha - np.sum((r + x) * (w3 / (alpha + h.T) + w4 / (alpha + h.t_x)))
    d_a = count @ d_ab + np.sum(w4) / a
    d_b = (count @ (d_ab + digamma(b + xs) - digamma(b))
           - np.sum(w4 / np.where(x > 0, b + x - 1, 1.0)))
    grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return -float(np.sum(a12 + lse)), -grad


def fit(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> BgNbdFit:
    """Fit BG/NBD by maximum likelihood (L-BFGS-B on log-parameters, analytic gradient).

    Parameters
    ----------
    x
        Repeat purchases per customer (purchase occasions after the first).
    t_x
        Time from the first to the last purchase (0 when ``x == 0``).
    T
        Time from the first purchase to the end of observation (``>= t_x``).

    Returns
    -------
    BgNbdFit
        The fitted parameters and log-likelihood.

    Raises
    ------
    ModelFitError
        On invalid inputs, data without any repeat purchase, or no convergence.
    """
    h = History.of(x, t_x, T)
    for name, values in (("frequency", h.x), ("recency", h.t_x), ("T", h.T)):
        check_positive(name, values)
    if np.any(h.t_x > h.T + 1e-9) or np.any((h.x == 0) & (h.t_x > 0)):
        raise ModelFitError("recency must lie in [0, T] and be 0 for customers without repeats")
    if not np.any(h.x > 0):
        raise ModelFitError("BG/NBD needs at least one customer with a repeat purchase")
    # Start from a rate of about one purchase per average observation span.
    start = np.array([1.0, max(float(np.mean(h.T)), 1e-3), 1.0, 1.0])
    params, ll, iterations = fit_log_params(lambda lp: _negative_ll(lp, h), start, "BG/NBD")
    return BgNbdFit(BgNbdParams(*map(float, params)), ll, len(h.x), iterations)


def p_alive(
    params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Probability each customer is still alive at ``T`` (eq. 12 of the paper).

    Customers without repeat purchases get 1: in BG/NBD dropout can only follow a
    repeat purchase. The segment rules therefore read it for repeat buyers only.
    """
    _, a3, _, lse = _terms(params, History.of(x, t_x, T))
    return np.asarray(np.exp(a3 - lse), dtype=np.float64)


def expected_purchases(
    params: BgNbdParams, t: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Expected purchases in the next ``t`` time units given each history (eq. 10)."""
    return np.asarray(expected_purchases_over(params, [t], x, t_x, T)[0], dtype=np.float64)


def expected_purchases_over(
    params: BgNbdParams, horizons: Sequence[float], x: ArrayLike, t_x: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Expected purchases within each of several horizons: shape ``(len(horizons), n)``.

    It is P(alive) times a factor of ``x`` and ``T`` alone; that factor (a Gauss
    hypergeometric function, the costly part) is computed once per distinct pair. The
    paper's formula divides by ``a - 1``; at ``a == 1`` exactly both factors vanish, so
    ``a`` is nudged by 1e-9 there (the limit is continuous).
    """
    h = History.of(x, t_x, T)
    px, pT, pair_of = _distinct_pairs(h.x, h.T)
    r, alpha, b = params.r, params.alpha, params.b
    a = params.a if abs(params.a - 1.0) > 1e-9 else 1.0 + 1e-9
    alive = p_alive(params, h.x, h.t_x, h.T)
    out = np.empty((len(horizons), len(h.x)))
    for row, t in enumerate(horizons):
        z = t / (alpha + pT + t)
        scaled = hyp2f1(r + px, b + px, a + b + px - 1, z) * (1.0 - z) ** (r + px)
        out[row] = ((a + b + px - 1) / (a - 1) * (1.0 - scaled))[pair_of] * alive
    return out


def _distinct_pairs(
    x: FloatArray, T: FloatArray
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.intp]]:
    """Distinct ``(x, T)`` pairs and each customer's pair (a numeric sort, unlike
    ``np.unique(axis=0)``, which sorts rows as bytes and was 10x slower)."""
    order = np.lexsort((T, x))
    xs, ts = x[order], T[order]
    first = np.ones(len(x), dtype=bool)
    first[1:] = (xs[1:] != xs[:-1]) | (ts[1:] != ts[:-1])
    pair_of = np.empty(len(x), dtype=np.intp)
    pair_of[order] = np.cumsum(first) - 1
    return xs[first], ts[first], pair_of
