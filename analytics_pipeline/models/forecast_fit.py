"""Fitting statsforecast models on panel columns, and each product's demand spread.

Kept apart from :mod:`~analytics_pipeline.models.forecast` (which chooses the models):
this is the plumbing between ``(days, products)`` matrices and statsforecast's long
frames, and the negative-binomial sizes measured on a model's own errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsforecast import StatsForecast
from statsforecast.models import AutoETS

from analytics_pipeline.models import count_distribution
from analytics_pipeline.models.demand_panel import BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class Fit:
    """Forecasts ``(h, k)``; standard deviations and in-sample fit when asked for."""

    mean: FloatArray
    sd: FloatArray | None = None
    in_sample: FloatArray | None = None


def fit_columns(
    series: FloatArray, starts: IntArray, model: object, h: int, level: int | None = None,
    in_sample: bool = False,
) -> Fit:
    """Forecasts ``(h, k)`` of the columns of ``series``, each from its ``starts`` row; with
    ``level`` the standard deviations implied by the model's ``level`` % interval, with
    ``in_sample`` its one-step-ahead fit of the history (NaN before ``starts``)."""
    days, k = series.shape
    lengths = days - starts
    rows = np.concatenate([np.arange(s, days) for s in starts])
    ids = np.repeat(np.arange(k), lengths)
    frame = pd.DataFrame({"unique_id": ids, "ds": rows,
                          "y": np.concatenate([series[s:, j] for j, s in enumerate(starts)])})
    # A series a model cannot fit falls back to non-seasonal smoothing (no crash).
    engine = StatsForecast(models=[model], freq=1, n_jobs=1,
                           fallback_model=AutoETS(model="ANN"))
    out = engine.forecast(df=frame, h=h, level=[level] if level else None, fitted=in_sample)
    out = out.sort_values(["unique_id", "ds"])
    name = next(c for c in out.columns if c not in ("unique_id", "ds"))

    def matrix(column: str) -> FloatArray:
        return np.asarray(out[column].to_numpy(dtype=np.float64).reshape(k, h).T)

    sd = None
    if level is not None:
        z = float(stats.norm.ppf(0.5 + level / 200))
        sd = (matrix(f"{name}-hi-{level}") - matrix(f"{name}-lo-{level}")) / (2 * z)
    fitted = None
    if in_sample:
        fitted_values = engine.forecast_fitted_values()  # type: ignore[no-untyped-call]
        values = fitted_values.sort_values(["unique_id", "ds"])
        fitted = np.full((days, k), np.nan)
        fitted[rows, ids] = values[name].to_numpy(dtype=np.float64)
    return Fit(matrix(name), sd, fitted)


def size_from_sd(mean: FloatArray, sd: FloatArray) -> FloatArray:
    """Negative-binomial size matching the model's own variance over the horizon."""
    excess = np.maximum(sd**2 - np.maximum(mean, 0.0), 0.0).sum(axis=0)
    size = np.where(excess > 0, (mean**2).sum(axis=0) / np.maximum(excess, 1e-12),
                    count_distribution.POISSON_SIZE)
    return np.asarray(np.clip(size, 0.2, count_distribution.POISSON_SIZE), dtype=np.float64)


def dispersion(
    demand: FloatArray, expected: FloatArray, censored: BoolArray, days: int
) -> FloatArray:
    """Negative-binomial size per product from the last ``days`` uncensored days.

    ``expected`` is what the model predicted for each day; the squared errors in
    excess of Poisson noise measure how lumpy the product's demand is. Products whose
    errors are no bigger than Poisson's get :data:`~count_distribution.POISSON_SIZE`.
    """
    recent = slice(max(len(demand) - days, 0), len(demand))
    use = ~censored[recent] & ~np.isnan(demand[recent]) & ~np.isnan(expected[recent])
    predicted = np.where(use, expected[recent], 0.0)
    error = np.where(use, demand[recent] - predicted, 0.0)
    count = np.maximum(use.sum(axis=0), 1)
    mean = predicted.sum(axis=0) / count
    excess = (error**2).sum(axis=0) / count - mean
    spread = (predicted**2).sum(axis=0) / count
    phi = np.where((excess > 0) & (spread > 0), excess / np.maximum(spread, 1e-12), 0.0)
    size = np.where(phi > 0, 1.0 / np.maximum(phi, 1e-12), count_distribution.POISSON_SIZE)
    return np.asarray(np.clip(size, 0.2, count_distribution.POISSON_SIZE), dtype=np.float64)
