"""A/B statistics: assignment, lifts against scipy, the split check and the sequential test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from analytics_pipeline.models.ab_test import (
    always_valid_p,
    bucket,
    conversion_lift,
    in_treatment,
    log_ratio,
    mean_lift,
    sample_ratio_mismatch,
    sequential_test,
)
from analytics_pipeline.settings import Settings, SettingsError

IDS = [f"C{i:06d}" for i in range(20_000)]


def test_assignment_is_the_same_in_another_process_with_another_hash_seed() -> None:
    script = ("from analytics_pipeline.models.ab_test import in_treatment\n"
              "print(''.join('1' if in_treatment('exp', f'C{i:06d}', 0.5) else '0'"
              " for i in range(500)))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=env, check=True).stdout.strip()
    here = "".join("1" if in_treatment("exp", i, 0.5) else "0" for i in IDS[:500])
    assert other == here


@pytest.mark.parametrize("share", [0.1, 0.5, 0.8])
def test_split_follows_the_configured_share(share: float) -> None:
    treated = sum(in_treatment("exp", i, share) for i in IDS)
    assert treated / len(IDS) == pytest.approx(share, abs=0.01)


def test_a_new_experiment_name_reshuffles_customers() -> None:
    same = sum(in_treatment("a", i, 0.5) == in_treatment("b", i, 0.5) for i in IDS)
    assert same / len(IDS) == pytest.approx(0.5, abs=0.02)
    assert all(0.0 <= bucket("a", i) < 1.0 for i in IDS[:100])


def test_conversion_p_value_matches_scipys_chi_square_without_correction() -> None:
    lift = conversion_lift(480, 10_000, 560, 10_000)
    table = np.array([[480, 10_000 - 480], [560, 10_000 - 560]])
    expected = stats.chi2_contingency(table, correction=False).pvalue
    assert lift.p_value == pytest.approx(expected, rel=1e-9)
    assert lift.relative_lift == pytest.approx(560 / 480 - 1)
    assert lift.ci_low is not None and lift.ci_high is not None
    assert lift.ci_low < 560 / 480 - 1 < lift.ci_high


def test_conversion_interval_covers_the_true_lift_at_its_level() -> None:
    rng = np.random.default_rng(7)
    n, p_c, p_t = 4_000, 0.05, 0.06
    covered = 0
    for k_c, k_t in zip(rng.binomial(n, p_c, 1_000), rng.binomial(n, p_t, 1_000), strict=True):
        lift = conversion_lift(int(k_c), n, int(k_t), n)
        assert lift.ci_low is not None and lift.ci_high is not None
        covered += lift.ci_low <= p_t / p_c - 1 <= lift.ci_high
    assert 0.93 <= covered / 1_000 <= 0.97


def test_mean_lift_matches_welchs_t_test() -> None:
    rng = np.random.default_rng(3)
    control = np.where(rng.random(3_000) < 0.1, rng.gamma(2.0, 30.0, 3_000), 0.0)
    treatment = np.where(rng.random(2_500) < 0.12, rng.gamma(2.0, 32.0, 2_500), 0.0)
    lift = mean_lift(control, treatment)
    expected = stats.ttest_ind(treatment, control, equal_var=False).pvalue
    assert lift.p_value == pytest.approx(expected, rel=1e-6)
    assert lift.control == pytest.approx(control.mean())
    assert lift.relative_lift == pytest.approx(treatment.mean() / control.mean() - 1)


def test_lift_is_undefined_not_infinite_when_control_never_converts() -> None:
    lift = conversion_lift(0, 100, 3, 100)
    assert (lift.relative_lift, lift.ci_low, lift.ci_high) == (None, None, None)


def test_srm_flags_a_52_48_split_and_passes_a_fair_one() -> None:
    skewed = sample_ratio_mismatch([10_400, 9_600], [0.5, 0.5])
    assert skewed.mismatch
    assert skewed.chi2 == pytest.approx(stats.chisquare([10_400, 9_600]).statistic)
    assert skewed.p_value == pytest.approx(stats.chisquare([10_400, 9_600]).pvalue)
    fair = sample_ratio_mismatch([10_050, 9_950], [0.5, 0.5])
    assert not fair.mismatch
    assert not sample_ratio_mismatch([2_020, 7_980], [0.2, 0.8]).mismatch


def _daily(rng: np.random.Generator, sims: int, days: int, per_day: int, p_c: float,
           p_t: float, treated_share: float = 0.5) -> tuple[np.ndarray, ...]:
    per_c, per_t = round(2 * per_day * (1 - treated_share)), round(2 * per_day * treated_share)
    k_c = np.cumsum(rng.binomial(per_c, p_c, (sims, days)), axis=1)
    k_t = np.cumsum(rng.binomial(per_t, p_t, (sims, days)), axis=1)
    return (k_c, np.cumsum(np.full((sims, days), per_c), axis=1),
            k_t, np.cumsum(np.full((sims, days), per_t), axis=1))


@pytest.mark.parametrize("treated_share", [0.5, 0.2])
def test_daily_peeking_keeps_the_false_positive_rate_under_alpha(treated_share: float) -> None:
    rng = np.random.default_rng(11)
    k_c, n_c, k_t, n_t = _daily(rng, 2_000, 30, 150, 0.05, 0.05, treated_share)
    estimate, variance = log_ratio(k_c, n_c, k_t, n_t)
    ever_rejected = (always_valid_p(estimate, variance, 0.1) <= 0.05).any(axis=1).mean()
    # The same looks with a fixed-horizon z-test each day reject far too often.
    naive = np.nanmin(2 * stats.norm.sf(np.abs(estimate) / np.sqrt(variance)), axis=1)
    assert ever_rejected <= 0.05
    assert (naive <= 0.05).mean() > 0.15


def test_sequential_test_detects_a_real_lift_and_names_the_winner() -> None:
    rng = np.random.default_rng(5)
    k_c, n_c, k_t, n_t = _daily(rng, 1, 30, 1_000, 0.05, 0.065)
    result = sequential_test(k_c[0].tolist(), n_c[0].tolist(), k_t[0].tolist(), n_t[0].tolist())
    assert result.decision == "treatment_better"
    assert result.decided_at_look is not None and result.decided_at_look <= 30
    assert result.p_value <= 0.05
    assert list(result.p_values) == sorted(result.p_values, reverse=True)
    flipped = sequential_test(k_t[0].tolist(), n_t[0].tolist(), k_c[0].tolist(), n_c[0].tolist())
    assert flipped.decision == "control_better"


def test_sequential_test_waits_for_enough_conversions() -> None:
    result = sequential_test([0, 1, 2], [10, 20, 30], [3, 4, 4], [10, 20, 30])
    assert result.decision == "continue"
    assert result.p_values == (1.0, 1.0, 1.0)


def test_experiment_settings_come_from_the_environment_and_are_checked(tmp_path: Path) -> None:
    settings = Settings.from_env({"ANALYTICS_RECS_EXPERIMENT": "spring", "ANALYTICS_RECS_V2_SHARE":
                                  "0.2", "ANALYTICS_RECS_FEEDBACK_DB": str(tmp_path / "f.db")})
    recs = settings.recommendations
    assert (recs.experiment_name, recs.v2_share) == ("spring", 0.2)
    assert recs.feedback_db_path(settings.data_dir) == tmp_path / "f.db"
    assert Settings.from_env({}).recommendations.feedback_db_path(Path("data")) == Path(
        "data/recommendations.sqlite")
    with pytest.raises(SettingsError, match="ANALYTICS_RECS_V2_SHARE"):
        Settings.from_env({"ANALYTICS_RECS_V2_SHARE": "1.5"})
