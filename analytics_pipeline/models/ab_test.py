"""A/B test statistics: sticky assignment, lift with confidence intervals, the
sample-ratio-mismatch check and an always-valid sequential test.

Pure functions on counts and per-customer values (no Dagster, no I/O), so the API, the
simulation and the tests share them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

# scipy.special, not scipy.stats: the same distribution functions, and the API service,
# which imports this module, starts 0.3 s sooner without scipy.stats.
from scipy import special

FloatArray = npt.NDArray[np.float64]

_BUCKET_BYTES = 8
_BUCKET_SCALE = float(1 << (8 * _BUCKET_BYTES))


def bucket(experiment: str, unit_id: str) -> float:
    """A stable number in [0, 1) for ``unit_id`` in ``experiment``.

    SHA-256 of ``experiment:unit_id`` rather than Python's ``hash()``, which is salted
    per process: every API worker and every run must put a customer in the same arm.
    """
    digest = hashlib.sha256(f"{experiment}:{unit_id}".encode()).digest()
    return int.from_bytes(digest[:_BUCKET_BYTES], "big") / _BUCKET_SCALE


def in_treatment(experiment: str, unit_id: str, treatment_share: float) -> bool:
    """Whether ``unit_id`` falls in the treatment share of ``experiment``."""
    return bucket(experiment, unit_id) < treatment_share


@dataclass(frozen=True)
class Lift:
    """Treatment against control on one metric.

    Attributes
    ----------
    control, treatment
        The metric in each arm (conversion rate, or mean per exposed customer).
    relative_lift
        ``treatment / control - 1``; ``None`` while the control is zero.
    ci_low, ci_high
        Confidence interval of ``relative_lift`` (delta method on the log ratio, so it
        stays above -100 %); ``None`` while either arm is zero.
    p_value
        Two-sided p-value of "no difference" (fixed-horizon: valid for one look only).
    """

    control: float
    treatment: float
    relative_lift: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float


def conversion_lift(conversions_c: int, exposed_c: int, conversions_t: int, exposed_t: int,
                    alpha: float = 0.05) -> Lift:
    """Lift in conversion rate, with the pooled two-proportion z-test's p-value.

    Parameters
    ----------
    conversions_c, exposed_c, conversions_t, exposed_t
        Converted and exposed customers in control and treatment (exposed > 0).
    alpha
        1 - confidence level of the interval.
    """
    p_c, p_t = conversions_c / exposed_c, conversions_t / exposed_t
    pooled = (conversions_c + conversions_t) / (exposed_c + exposed_t)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / exposed_c + 1 / exposed_t))
    p_value = 2 * float(special.ndtr(-abs(p_t - p_c) / se0)) if se0 > 0 else 1.0
    low, high = _ratio_interval(p_c, p_c * (1 - p_c) / exposed_c,
                                p_t, p_t * (1 - p_t) / exposed_t, alpha)
    return Lift(p_c, p_t, _lift(p_t, p_c), low, high, p_value)


def mean_lift(values_c: npt.ArrayLike, values_t: npt.ArrayLike, alpha: float = 0.05) -> Lift:
    """Lift in the mean per customer (e.g. revenue per exposed customer), Welch's t-test.

    Parameters
    ----------
    values_c, values_t
        One value per exposed customer (zero for those who bought nothing), >= 2 each.
    alpha
        1 - confidence level of the interval.
    """
    c, t = np.asarray(values_c, dtype=float), np.asarray(values_t, dtype=float)
    m_c, m_t = float(c.mean()), float(t.mean())
    v_c, v_t = float(c.var(ddof=1)) / c.size, float(t.var(ddof=1)) / t.size
    se = math.sqrt(v_c + v_t)
    if se > 0:
        # Welch-Satterthwaite degrees of freedom.
        df = (v_c + v_t) ** 2 / (v_c**2 / (c.size - 1) + v_t**2 / (t.size - 1))
        p_value = 2 * float(special.stdtr(df, -abs(m_t - m_c) / se))
    else:
        p_value = 1.0
    low, high = _ratio_interval(m_c, v_c, m_t, v_t, alpha)
    return Lift(m_c, m_t, _lift(m_t, m_c), low, high, p_value)


def _lift(treatment: float, control: float) -> float | None:
    return treatment / control - 1 if control > 0 else None


def _ratio_interval(mean_c: float, var_c: float, mean_t: float, var_t: float,
                    alpha: float) -> tuple[float | None, float | None]:
    """Interval of ``mean_t / mean_c - 1`` from the log ratio's delta-method variance."""
    if mean_c <= 0 or mean_t <= 0:
        return None, None
    log_ratio = math.log(mean_t / mean_c)
    half = float(-special.ndtri(alpha / 2)) * math.sqrt(var_c / mean_c**2 + var_t / mean_t**2)
    return math.exp(log_ratio - half) - 1, math.exp(log_ratio + half) - 1


@dataclass(frozen=True)
class SampleRatio:
    """Sample-ratio-mismatch check: do the arms' sizes match the configured split?

    A mismatch means assignment or exposure logging is broken, so no lift can be trusted.
    """

    observed: tuple[int, ...]
    expected: tuple[float, ...]
    chi2: float
    p_value: float
    mismatch: bool


def sample_ratio_mismatch(observed: Sequence[int], shares: Sequence[float],
                          threshold: float = 0.001) -> SampleRatio:
    """Chi-square goodness-of-fit of arm sizes against the configured shares.

    Parameters
    ----------
    observed
        Units (exposed customers) per arm.
    shares
        Configured share per arm, summing to 1.
    threshold
        p-value below which the split is called a mismatch; small (0.001 is usual) as the
        check runs on every look and a false alarm halts the readout.
    """
    total = sum(observed)
    expected = tuple(total * share for share in shares)
    chi2 = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True) if e > 0)
    p_value = float(special.chdtrc(len(observed) - 1, chi2)) if total else 1.0
    return SampleRatio(tuple(observed), expected, chi2, p_value, p_value < threshold)


Decision = Literal["treatment_better", "control_better", "continue"]


@dataclass(frozen=True)
class SequentialTest:
    """An always-valid test of conversion, read after every look.

    Attributes
    ----------
    looks
        How many looks (e.g. days) the test has seen.
    p_value
        Always-valid p-value: the chance under "no difference" that it ever fell this low,
        whatever the number of looks, so stopping at the first look below ``alpha`` keeps
        the false-positive rate at ``alpha``.
    decision
        Which arm won at the first look the p-value fell below ``alpha``, or ``continue``.
    decided_at_look
        That look (1-based), or ``None``.
    p_values
        The always-valid p-value after each look (never rising).
    """

    looks: int
    p_value: float
    decision: Decision
    decided_at_look: int | None
    p_values: tuple[float, ...]


def log_ratio(conversions_c: npt.ArrayLike, exposed_c: npt.ArrayLike,
              conversions_t: npt.ArrayLike, exposed_t: npt.ArrayLike,
              min_conversions: int = 5) -> tuple[FloatArray, FloatArray]:
    """Log ratio of conversion rates and its delta-method variance, element-wise.

    NaN where an arm has fewer than ``min_conversions`` conversions: the normal
    approximation the mixture test rests on is not yet fair there.
    """
    k_c, n_c = np.asarray(conversions_c, dtype=float), np.asarray(exposed_c, dtype=float)
    k_t, n_t = np.asarray(conversions_t, dtype=float), np.asarray(exposed_t, dtype=float)
    ready = (k_c >= min_conversions) & (k_t >= min_conversions)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.log((k_t / n_t) / (k_c / n_c))
        variance = 1 / k_c - 1 / n_c + 1 / k_t - 1 / n_t
    return np.where(ready, estimate, np.nan), np.where(ready, variance, np.nan)


def always_valid_p(estimate: npt.ArrayLike, variance: npt.ArrayLike,
                   mixture_sd: float) -> FloatArray:
    """Running always-valid p-values of the mixture SPRT (Johari et al., 2017).

    Parameters
    ----------
    estimate, variance
        Effect estimate and its variance at each look, looks along the last axis (NaN:
        look skipped). Under "no effect" the estimate is about normal with mean 0.
    mixture_sd
        Spread of the normal prior over the effect that the likelihood ratio is mixed
        over; effects of about this size are detected soonest.

    Returns
    -------
    numpy.ndarray
        ``min(1, 1 / max likelihood ratio so far)`` at each look.
    """
    theta, v = np.asarray(estimate, dtype=float), np.asarray(variance, dtype=float)
    tau2 = mixture_sd**2
    with np.errstate(invalid="ignore"):
        log_lr = 0.5 * np.log(v / (v + tau2)) + tau2 * theta**2 / (2 * v * (v + tau2))
    log_lr = np.where(np.isfinite(log_lr), log_lr, -np.inf)
    return np.minimum(1.0, np.exp(-np.maximum.accumulate(log_lr, axis=-1)))


def sequential_test(conversions_c: Sequence[int], exposed_c: Sequence[int],
                    conversions_t: Sequence[int], exposed_t: Sequence[int],
                    mixture_sd: float = 0.1, alpha: float = 0.05) -> SequentialTest:
    """The mSPRT on the log conversion ratio over cumulative counts at each look."""
    estimate, variance = log_ratio(conversions_c, exposed_c, conversions_t, exposed_t)
    p_values = always_valid_p(estimate, variance, mixture_sd)
    history = tuple(float(p) for p in p_values)
    crossed = np.flatnonzero(p_values <= alpha)
    if crossed.size == 0:
        return SequentialTest(len(history), history[-1] if history else 1.0, "continue", None,
                              history)
    first = int(crossed[0])
    decision: Decision = "treatment_better" if estimate[first] > 0 else "control_better"
    return SequentialTest(len(history), history[-1], decision, first + 1, history)
