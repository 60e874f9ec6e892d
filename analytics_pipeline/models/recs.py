"""v2 recommendation scoring: a logistic fusion of the candidate signals, calibrated.

Each candidate (customer, product) carries one feature per signal (see
``sql/recommendations/candidates.sql``). The weights are learned, not picked: a logistic
regression on standardized features predicts whether the customer buys the product in
the window after the features' cutoff. The raw scores are then mapped to probabilities
by isotonic regression fitted on customers the regression did not see, so a confidence
of 0.3 means about 30 % of such items are bought.
A signal's contribution to a score is its weight times its standardized value, so the
contributions and the intercept add up to the score (in log-odds).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from analytics_pipeline.models.recs_features import FEATURES

FloatArray = npt.NDArray[np.float64]


class NotEnoughHistoryError(ValueError):
    """The labelled window has no purchases (or nothing else) to learn from."""


@dataclass(frozen=True)
class FusionConfig:
    """How the fusion is fitted.

    Attributes
    ----------
    negative_sample
        Share of non-purchased candidates the regression is fitted on; the kept ones are
        weighted up by its inverse, so predicted odds stay unbiased while fitting on
        millions of rows stays fast.
    regularization
        Inverse L2 strength ``C`` of the logistic regression (on standardized features).
    calibration_share
        Share of customers held out of the regression to fit the isotonic calibration.
    calibration_bin
        Held-out items pooled per point of the calibration curve (by score), so a
        handful of lucky top scores cannot make a step to certainty.
    seed
        Random state of the negative sample.
    """

    negative_sample: float = 0.25
    regularization: float = 1.0
    calibration_share: float = 0.3
    calibration_bin: int = 500
    seed: int = 0


@dataclass(frozen=True)
class FusionModel:
    """Learned weights (on standardized features) and the calibration curve."""

    features: tuple[str, ...]
    intercept: float
    weights: FloatArray
    means: FloatArray
    scales: FloatArray
    calibration_scores: FloatArray
    calibration_probabilities: FloatArray

    def contributions(self, frame: pd.DataFrame) -> FloatArray:
        """Per row and feature, the feature's share of the score in log-odds."""
        values = frame.loc[:, list(self.features)].to_numpy(dtype=np.float64)
        return np.asarray(self.weights * (values - self.means) / self.scales, dtype=np.float64)

    def score(self, frame: pd.DataFrame) -> FloatArray:
        """The uncalibrated score (log-odds) of each row."""
        return np.asarray(self.intercept + self.contributions(frame).sum(axis=1))

    def confidence(self, scores: FloatArray) -> FloatArray:
        """Calibrated purchase probability for uncalibrated ``scores``."""
        return np.clip(
            np.interp(scores, self.calibration_scores, self.calibration_probabilities), 0.0, 1.0
        )

    def table(self) -> pd.DataFrame:
        """The weights as rows (feature, weight, mean, scale), the intercept first."""
        return pd.DataFrame({
            "feature": ["(intercept)", *self.features],
            "weight": [self.intercept, *self.weights.tolist()],
            "mean": [0.0, *self.means.tolist()],
            "scale": [1.0, *self.scales.tolist()],
        })  # fmt: skip


def fit_fusion(
    frame: pd.DataFrame, bought: npt.NDArray[np.bool_], config: FusionConfig | None = None
) -> FusionModel:
    """Learn the signal weights and the calibration from one labelled window.

    Parameters
    ----------
    frame
        Candidates with ``customer_id`` and one column per name in :data:`FEATURES`,
        computed as of a cutoff.
    bought
        Whether each candidate was bought in the window after the cutoff.
    config
        Fitting options (defaults: :class:`FusionConfig`).

    Returns
    -------
    FusionModel
        Weights on standardized features and an isotonic calibration curve.
    """
    config = config or FusionConfig()
    if bought.all() or not bought.any():
        raise NotEnoughHistoryError(
            "fitting needs both bought and not-bought candidates in the window")
    values = frame.loc[:, list(FEATURES)].to_numpy(dtype=np.float64)
    means = values.mean(axis=0)
    spread = values.std(axis=0)
    # A signal without variation in the window (say, no year of history yet for the
    # seasonal one) gets weight 0 instead of a division by zero.
    scales = np.where(spread > 0, spread, 1.0)
    held_out = _held_out(frame["customer_id"], config.calibration_share)
    fit_rows = _sampled(~held_out, bought, config)
    if bought[fit_rows].all() or not bought[fit_rows].any():
        raise NotEnoughHistoryError("too few purchases in the window to learn weights from")
    standardized = (values - means) / scales
    regression = LogisticRegression(C=config.regularization, max_iter=500)
    with threadpool_limits(limits=1):
        regression.fit(standardized[fit_rows], bought[fit_rows],
                       sample_weight=_weights(bought[fit_rows], config))
    weights = np.where(spread > 0, regression.coef_[0], 0.0)
    intercept = float(regression.intercept_[0])
    scores = intercept + (standardized[held_out] * weights).sum(axis=1)
    curve = _calibration_curve(scores, bought[held_out], config.calibration_bin)
    return FusionModel(
        features=FEATURES,
        intercept=intercept,
        weights=np.asarray(weights, dtype=np.float64),
        means=means,
        scales=scales,
        calibration_scores=np.asarray(curve.X_thresholds_, dtype=np.float64),
        calibration_probabilities=np.asarray(curve.y_thresholds_, dtype=np.float64),
    )


def _calibration_curve(
    scores: FloatArray, bought: npt.NDArray[np.bool_], per_bin: int
) -> IsotonicRegression:
    """Isotonic regression of purchase on score, over bins of ``per_bin`` items."""
    order = np.argsort(scores, kind="stable")
    bins = np.arange(len(order)) // per_bin
    counts = np.bincount(bins)
    mean_score = np.bincount(bins, weights=scores[order]) / counts
    rate = np.bincount(bins, weights=bought[order].astype(np.float64)) / counts
    curve = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    return curve.fit(mean_score, rate, sample_weight=counts)


def _held_out(customers: pd.Series, share: float) -> npt.NDArray[np.bool_]:
    """Customers kept for calibration, by a stable hash so reruns agree."""
    buckets = np.fromiter(
        (zlib.crc32(str(c).encode()) % 1000 for c in customers), dtype=np.int64,
        count=len(customers),
    )
    return np.asarray(buckets < share * 1000)


def _sampled(
    eligible: npt.NDArray[np.bool_], bought: npt.NDArray[np.bool_], config: FusionConfig
) -> npt.NDArray[np.bool_]:
    rng = np.random.default_rng(config.seed)
    keep = bought | (rng.random(len(bought)) < config.negative_sample)
    return np.asarray(eligible & keep)


def _weights(bought: npt.NDArray[np.bool_], config: FusionConfig) -> FloatArray:
    return np.where(bought, 1.0, 1.0 / config.negative_sample)


def calibration_table(
    confidence: FloatArray, bought: npt.NDArray[np.bool_], bins: int = 10
) -> pd.DataFrame:
    """Observed purchase rate per confidence bin, the bins holding equal numbers of items.

    Equal counts, not equal widths: shown items crowd the low confidences (most items
    are not bought), and equal-width bins would pool nearly all of them in one row.

    Returns
    -------
    pandas.DataFrame
        ``bin_low``, ``bin_high`` (the lowest and highest confidence in the bin),
        ``items``, ``mean_confidence``, ``purchase_rate``, in rising confidence.
    """
    order = np.argsort(confidence, kind="stable")
    index = np.empty(len(confidence), dtype=np.int64)
    index[order] = np.arange(len(confidence)) * bins // max(len(confidence), 1)
    frame = pd.DataFrame({"bin": index, "confidence": confidence, "bought": bought})
    grouped = frame.groupby("bin").agg(
        bin_low=("confidence", "min"),
        bin_high=("confidence", "max"),
        items=("bought", "size"),
        mean_confidence=("confidence", "mean"),
        purchase_rate=("bought", "mean"),
    )
    return grouped.reset_index(drop=True)


def calibration_error(table: pd.DataFrame) -> float:
    """Items-weighted mean gap between confidence and purchase rate over the bins
    (the expected calibration error)."""
    gap = (table["mean_confidence"] - table["purchase_rate"]).abs()
    return float((gap * table["items"]).sum() / max(int(table["items"].sum()), 1))
