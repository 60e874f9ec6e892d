"""Daily demand per product for the next weeks, with 80 % and 95 % intervals.

Each product gets the model its recent history calls for (Syntetos and Boylan's rule on
the average interval between sales, ADI):

* **intermittent** (ADI > 1.32: no sale on many days) -> TSB (Teunter, Syntetos and
  Babai), Croston's method with a demand probability that decays when sales stop, so a
  product going out of fashion forecasts down instead of holding its old rate. Fit on
  weekday-adjusted demand; the shop's weekday profile is put back afterwards.
* **smooth** -> ETS(A,N,A): exponential smoothing with the product's own weekly season.
* **short** (under four weeks of history) -> its mean so far, times the weekday profile.

Both fitted models come from statsforecast. Before fitting, out-of-stock days are imputed
(:mod:`~analytics_pipeline.models.demand_panel`: censored demand, not zero demand) and
holiday spikes divided out; after, holidays and, when the history is over a year and
four weeks long, last year's season are multiplied back in
(:mod:`~analytics_pipeline.models.calendar_effects`). Before that, each product's
forecast is scaled by how its whole category's last week compared with what the models
expect (:mod:`~analytics_pipeline.models.recent_level`): a shift the category shows at once,
like the drop after the holiday season, which single products' levels follow only slowly.
Intervals come from a negative binomial around the mean whose spread is measured on each
product's recent errors (:mod:`~analytics_pipeline.models.count_distribution`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsforecast.models import TSB, AutoETS

from analytics_pipeline.models import count_distribution
from analytics_pipeline.models.calendar_effects import (
    YEAR_IN_WEEKS,
    holiday_factors,
    yearly_factors,
)
from analytics_pipeline.models.demand_panel import (
    BoolArray,
    DemandPanel,
    FloatArray,
    IntArray,
    impute_censored,
    weekday_profile,
)
from analytics_pipeline.models.forecast_fit import dispersion, fit_columns, size_from_sd
from analytics_pipeline.models.recent_level import category_level_ratio

FORECAST_COLUMNS = ("product_id", "forecast_date", "mean", "lo80", "hi80", "lo95", "hi95",
                    "std_dev", "seasonal_factor", "model")
SHORT, INTERMITTENT, SMOOTH = 0, 1, 2
MODEL_NAMES = {SHORT: "recent_mean", INTERMITTENT: "tsb", SMOOTH: "ets_ana"}
_TSB_ALPHAS = (0.1, 0.1)  # smoothing of demand size and of demand probability


@dataclass(frozen=True)
class ForecastConfig:
    """Forecast settings.

    Attributes
    ----------
    horizon
        Days ahead.
    fit_days
        Most recent days the per-product models are fit on (older history only feeds the
        yearly season): enough for a stable weekly pattern, and it keeps fitting fast.
    intermittent_adi
        Average days between sales above which a product counts as intermittent.
    min_days
        History needed for a fitted model; younger products get their mean so far.
    level_days
        Days of uncensored history an imputed (out-of-stock) day is based on.
    dispersion_days
        Recent days whose errors measure each product's spread.
    """

    horizon: int = 28
    fit_days: int = 182
    intermittent_adi: float = 1.32
    min_days: int = 28
    level_days: int = 28
    dispersion_days: int = 91


@dataclass(frozen=True)
class Forecast:
    """Mean daily demand ``(horizon, products)`` and its negative-binomial size.

    ``calendar`` (like ``mean``) is the part of the mean due to the yearly season and
    holidays: 1 on an ordinary day, 2 when the day is expected to sell twice as much.
    """

    first_day: pd.Timestamp
    product_ids: tuple[str, ...]
    mean: FloatArray
    size: FloatArray
    model: tuple[str, ...]
    calendar: FloatArray | None = None

    @property
    def seasonal(self) -> FloatArray:
        """The calendar multipliers (all 1 when none were estimated)."""
        return self.calendar if self.calendar is not None else np.ones_like(self.mean)

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.first_day, periods=len(self.mean), freq="D")

    def quantile(self, q: float) -> FloatArray:
        """Daily ``q`` quantiles, shaped like ``mean``."""
        return count_distribution.quantile(self.mean, self.size[None, :], q)

    def interval(self, level: float) -> tuple[FloatArray, FloatArray]:
        """Daily ``level`` prediction intervals (see :func:`count_distribution.interval`)."""
        return count_distribution.interval(self.mean, self.size[None, :], level)

    def to_frame(self) -> pd.DataFrame:
        """One row per product and day with :data:`FORECAST_COLUMNS` (``std_dev``: the
        day's predictive standard deviation, which carries the spread to the alerts)."""
        h, n = self.mean.shape
        lo80, hi80 = self.interval(0.8)
        lo95, hi95 = self.interval(0.95)
        bounds = {"lo80": lo80.T.ravel(), "hi80": hi80.T.ravel(),
                  "lo95": lo95.T.ravel(), "hi95": hi95.T.ravel()}
        variance = self.mean + self.mean**2 / self.size[None, :]
        return pd.DataFrame({
            "product_id": np.repeat(np.array(self.product_ids, dtype=object), h),
            "forecast_date": np.tile(self.dates.date, n),
            "mean": self.mean.T.ravel(),
            **bounds,
            "std_dev": np.sqrt(variance).T.ravel(),
            "seasonal_factor": self.seasonal.T.ravel(),
            "model": np.repeat(np.array(self.model, dtype=object), h),
        })  # fmt: skip

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, product_ids: tuple[str, ...], first_day: pd.Timestamp,
        horizon: int,
    ) -> Forecast:
        """Rebuild from :meth:`to_frame`'s rows (or BigQuery ML's) for ``product_ids``.

        Products without rows forecast 0. The size is moment-matched to the rows'
        standard deviations: sum(mean^2) / size = sum(std_dev^2 - mean).
        """
        column = {p: k for k, p in enumerate(product_ids)}
        shape = (horizon, len(product_ids))
        mean, excess, calendar = np.zeros(shape), np.zeros(shape), np.ones(shape)
        labels = np.full(len(product_ids), "none", dtype=object)
        day = (pd.to_datetime(frame["forecast_date"]) - first_day).dt.days.to_numpy()
        col = frame["product_id"].map(column).to_numpy(dtype=np.float64, na_value=np.nan)
        keep = (day >= 0) & (day < horizon) & ~np.isnan(col)
        rows, cols = day[keep], col[keep].astype(np.int64)
        values = frame["mean"].to_numpy(dtype=np.float64)[keep]
        mean[rows, cols] = values
        excess[rows, cols] = frame["std_dev"].to_numpy(dtype=np.float64)[keep] ** 2 - values
        labels[cols] = frame["model"].to_numpy()[keep]
        if "seasonal_factor" in frame:
            factor = frame["seasonal_factor"].to_numpy(dtype=np.float64, na_value=1.0)[keep]
            calendar[rows, cols] = np.where(np.isfinite(factor) & (factor > 0), factor, 1.0)
        spread = excess.sum(axis=0)
        size = np.where(spread > 0, (mean**2).sum(axis=0) / np.maximum(spread, 1e-12),
                        count_distribution.POISSON_SIZE)
        return cls(first_day, product_ids, mean, np.maximum(size, 1e-3),
                   tuple(str(x) for x in labels), calendar)


def forecast_demand(
    panel: DemandPanel, config: ForecastConfig | None = None, groups: IntArray | None = None
) -> Forecast:
    """Forecast every product of ``panel`` from the day after its last day.

    Parameters
    ----------
    panel
        Sales and stock history up to the as_of day.
    config
        Horizon and model settings.
    groups
        Category code per product, for the yearly season's shrinkage.
    """
    config = config or ForecastConfig()
    h, n = config.horizon, panel.n_products
    future = pd.date_range(panel.last_day + pd.Timedelta(days=1), periods=h, freq="D")
    if n == 0 or len(panel.days) == 0:
        return Forecast(future[0], panel.product_ids, np.zeros((h, n)), np.zeros(n), ())
    hol_history, hol_future = holiday_factors(np.nansum(panel.units, axis=1), panel.days, h)
    weekday = weekday_profile(panel.units / hol_history[:, None], panel.out_of_stock,
                              panel.days)
    scale = hol_history * weekday[panel.days.dayofweek]
    demand, level = impute_censored(panel.units, panel.out_of_stock, scale, config.level_days)
    first = panel.first_rows()
    kind = classify(demand, first, config)
    start = np.maximum(first, len(panel.days) - config.fit_days)
    ordinary = demand / scale[:, None]
    mean = np.zeros((h, n))
    flat = kind != SMOOTH
    levels, expected = _flat_levels(ordinary, level, start, kind, flat, h)
    mean[:, flat] = levels * weekday[future.dayofweek, None]
    size = np.full(n, count_distribution.POISSON_SIZE)
    # Spread from each model's own errors: TSB's one-step misses, ETS's interval (which
    # widens with the horizon).
    size[flat] = dispersion(demand[:, flat], expected * scale[:, None],
                            panel.out_of_stock[:, flat], config.dispersion_days)
    smooth = np.flatnonzero(kind == SMOOTH)
    if len(smooth):
        fit = fit_columns(demand[:, smooth] / hol_history[:, None], start[smooth],
                             AutoETS(season_length=7, model="ANA"), h, level=80)
        mean[:, smooth] = np.maximum(fit.mean, 0.0)
        assert fit.sd is not None  # noqa: S101 - asked for with level=80
        size[smooth] = size_from_sd(mean[:, smooth], fit.sd)
    # Whole categories move faster than smoothed product levels follow (recent_level).
    mean *= category_level_ratio(demand / hol_history[:, None], mean[:7].sum(axis=0), groups)
    calendar = yearly_factors(ordinary, first, h, groups) * hol_future[:, None]
    mean *= calendar
    has_year = first <= len(panel.days) - YEAR_IN_WEEKS - 28
    labels = tuple(MODEL_NAMES[int(k)] + ("+yearly" if y else "")
                   for k, y in zip(kind, has_year, strict=True))
    return Forecast(pd.Timestamp(future[0]), panel.product_ids, mean, size, labels, calendar)


def classify(demand: FloatArray, first: IntArray, config: ForecastConfig) -> IntArray:
    """:data:`SHORT`, :data:`INTERMITTENT` or :data:`SMOOTH` per product, by its last
    ``fit_days`` days."""
    days = len(demand)
    start = np.maximum(first, days - config.fit_days)
    length = days - start
    recent = demand[max(days - config.fit_days, 0) :]
    selling = (np.nan_to_num(recent) > 0).sum(axis=0)
    adi = length / np.maximum(selling, 1e-9)
    kind = np.where(adi > config.intermittent_adi, INTERMITTENT, SMOOTH)
    return np.where(length < config.min_days, SHORT, kind).astype(np.int64)


def _flat_levels(
    ordinary: FloatArray, level: FloatArray, start: IntArray, kind: IntArray, chosen: BoolArray,
    h: int,
) -> tuple[FloatArray, FloatArray]:
    """Level per ordinary day of the non-smooth products (TSB, or the mean when short),
    and what the model expected each past day (TSB's one-step fit; the recent level)."""
    columns = np.flatnonzero(chosen)
    out = np.zeros(len(columns))
    expected = level[:, columns].copy()
    rows = np.arange(len(ordinary))[:, None]
    window = np.where(rows >= start[columns], ordinary[:, columns], np.nan)
    short = kind[columns] == SHORT
    seen = ~np.isnan(window[:, short])
    out[short] = np.nansum(window[:, short], axis=0) / np.maximum(seen.sum(axis=0), 1)
    fit = np.flatnonzero(~short & (start[columns] < len(ordinary)))
    if len(fit):
        tsb = TSB(alpha_d=_TSB_ALPHAS[0], alpha_p=_TSB_ALPHAS[1])
        result = fit_columns(ordinary[:, columns[fit]], start[columns[fit]], tsb, h,
                                in_sample=True)
        out[fit] = result.mean[0]
        expected[:, fit] = result.in_sample
    return np.maximum(out, 0.0), expected
