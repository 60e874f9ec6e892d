"""The v2 fusion recovers known weights and calibrates; the ranking metrics match hand
computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analytics_pipeline.models.recs import (
    FEATURES,
    FusionConfig,
    NotEnoughHistoryError,
    calibration_error,
    calibration_table,
    fit_fusion,
)
from analytics_pipeline.models.recs_metrics import ranking_metrics

TRUE_WEIGHTS = {"co_purchase": 1.2, "viewed": 0.8, "trend": -0.5}
TRUE_INTERCEPT = -3.0


def _synthetic(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Standard-normal signals; purchases drawn from a known logistic model."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: rng.normal(size=n) for name in FEATURES})
    frame["season"] = 0.0  # no variation: must get weight 0, not a division by zero
    frame["customer_id"] = [f"c{i // 20}" for i in range(n)]
    logit = TRUE_INTERCEPT + sum(w * frame[name] for name, w in TRUE_WEIGHTS.items())
    bought = rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy()))
    return frame, bought


def test_fusion_recovers_known_weights() -> None:
    frame, bought = _synthetic(200_000, seed=1)
    model = fit_fusion(frame, bought, FusionConfig(negative_sample=0.3))
    learned = dict(zip(model.features, model.weights * 1.0 / model.scales, strict=True))
    for name, weight in TRUE_WEIGHTS.items():
        assert learned[name] == pytest.approx(weight, abs=0.08)
    others = [abs(learned[n]) for n in FEATURES if n not in TRUE_WEIGHTS]
    assert max(others) < 0.08
    assert learned["season"] == 0.0


def test_confidence_is_calibrated_on_unseen_rows() -> None:
    frame, bought = _synthetic(200_000, seed=2)
    model = fit_fusion(frame, bought)
    test_frame, test_bought = _synthetic(100_000, seed=3)
    confidence = model.confidence(model.score(test_frame))
    table = calibration_table(confidence, test_bought)
    busy = table[table["items"] >= 2_000]  # sampling error of a rate below 0.012
    assert len(busy) >= 3
    assert np.allclose(busy["purchase_rate"], busy["mean_confidence"], atol=0.03)
    assert ((confidence >= 0) & (confidence <= 1)).all()


def test_contributions_add_up_to_the_score() -> None:
    frame, bought = _synthetic(20_000, seed=4)
    model = fit_fusion(frame, bought)
    head = frame.head(50)
    total = model.intercept + model.contributions(head).sum(axis=1)
    assert np.allclose(total, model.score(head))
    weights = model.table()
    assert list(weights["feature"]) == ["(intercept)", *FEATURES]


def test_a_window_without_purchases_cannot_be_learned() -> None:
    frame, _ = _synthetic(1_000, seed=5)
    with pytest.raises(NotEnoughHistoryError):
        fit_fusion(frame, np.zeros(len(frame), dtype=bool))


def test_ranking_metrics_match_hand_computation() -> None:
    recommended = {"a": ["p1", "p2", "p3"], "b": ["p4", "p5", "p6"], "c": ["p7"]}
    relevant = {"a": {"p2", "p9"}, "b": {"p0"}, "c": {"p7"}, "d": {"p1"}}
    metrics = ranking_metrics("m", recommended, relevant, catalogue_size=10, k=3)
    # a: hit at rank 2 of 2 relevant; b: miss; c: hit at rank 1; d: no list = miss.
    assert metrics.hit_rate == pytest.approx(2 / 4)
    assert metrics.recall == pytest.approx((1 / 2 + 0 + 1 + 0) / 4)
    ndcg_a = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert metrics.ndcg == pytest.approx((ndcg_a + 0 + 1 + 0) / 4)
    assert metrics.coverage == pytest.approx(7 / 10)  # every product in a scored list


def test_calibration_table_bins_hold_equal_counts() -> None:
    rng = np.random.default_rng(6)
    confidence = np.concatenate([rng.uniform(0, 0.1, 900), rng.uniform(0.5, 1, 100)])
    bought = rng.random(1_000) < confidence
    table = calibration_table(confidence, bought, bins=4)
    assert list(table["items"]) == [250, 250, 250, 250]
    assert (table["bin_low"] <= table["bin_high"]).all()
    assert (table["bin_high"].to_numpy()[:-1] <= table["bin_low"].to_numpy()[1:]).all()
    assert table["bin_high"].iloc[-1] == confidence.max()
    assert table["items"].sum() == len(confidence)
    assert table["purchase_rate"].iloc[-1] == bought[np.argsort(confidence)[750:]].mean()


def test_calibration_error_weighs_bins_by_items() -> None:
    table = pd.DataFrame({"items": [3, 1], "mean_confidence": [0.1, 0.5],
                          "purchase_rate": [0.2, 0.1]})
    assert calibration_error(table) == pytest.approx((3 * 0.1 + 1 * 0.4) / 4)
