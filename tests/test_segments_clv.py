"""Lifetime value models: the published CDNOW fits, recovery of simulated parameters, the
closed forms against numerical integration, and CLV's fallback on too little data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.optimize import check_grad

from analytics_pipeline.convert.cdnow import convert_cdnow
from analytics_pipeline.ingest.load import load_source
from analytics_pipeline.models import bgnbd, gamma_gamma
from analytics_pipeline.models.clv import (
    FITTED,
    INSUFFICIENT,
    OUTPUT_COLUMNS,
    ClvConfig,
    InsufficientDataError,
    fit_clv,
    score_customers,
)
from analytics_pipeline.models.mle import ModelFitError
from analytics_pipeline.sources import FolderSource
from analytics_pipeline.warehouse import DuckDBWarehouse
from tests.conftest import build_models, models_reading

CDNOW = Path(__file__).parent / "data" / "cdnow"
START = pd.Timestamp("1997-01-01")
# End of the 39-week calibration: T counts days from the first purchase to 1997-09-30,
# day 272 after 1997-01-01 (the published T = 38.86 weeks for a 1997-01-01 buyer).
CALIBRATION_END_DAY = 272
# Fader, Hardie & Lee (2005) "Counting your customers the easy way", and the Gamma-Gamma
# fit of Fader, Hardie & Lee (2005) "RFM and CLV" / Fader & Hardie (2013).
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
PUBLISHED_LL = -9582.4


def calibration_summary(transactions: pd.DataFrame) -> pd.DataFrame:
    """Per customer: x, t_x and T in days, and the mean value of the repeat days.

    Transactions on the same day are one purchase occasion (their dollars add up).
    """
    day = (pd.to_datetime(transactions["date"].astype(str), format="%Y%m%d") - START).dt.days
    daily = (transactions.assign(day=day).query(f"day <= {CALIBRATION_END_DAY}")
             .groupby(["customer_id", "day"], as_index=False)["dollars"].sum()
             .sort_values(["customer_id", "day"]))
    daily["occasion"] = daily.groupby("customer_id").cumcount()
    by = daily.groupby("customer_id")["day"]
    summary = pd.DataFrame({
        "frequency": by.count() - 1, "t_x_days": by.max() - by.min(),
        "tenure_days": CALIBRATION_END_DAY - by.min(),
    })
    repeats = daily[daily["occasion"] > 0]
    summary["monetary_value"] = repeats.groupby("customer_id")["dollars"].mean()
    return summary.reset_index()


@pytest.fixture(scope="module")
def cdnow_sample() -> pd.DataFrame:
    frame = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None,
                        names=["customer_id", "sample_id", "date", "cds", "dollars"])
    return calibration_summary(frame)


def assert_close(got: object, published: dict[str, float], rel: float) -> None:
    for name, value in published.items():
        assert getattr(got, name) == pytest.approx(value, rel=rel), (name, got)


def test_bgnbd_reproduces_the_published_cdnow_fit(cdnow_sample: pd.DataFrame) -> None:
    weeks = cdnow_sample[["frequency", "t_x_days", "tenure_days"]].to_numpy(float) / [1, 7, 7]
    fit = bgnbd.fit(weeks[:, 0], weeks[:, 1], weeks[:, 2])
    assert fit.customers == 2357
    assert_close(fit.params, PUBLISHED_BGNBD, rel=0.01)
    assert fit.log_likelihood == pytest.approx(PUBLISHED_LL, abs=0.1)


def test_bgnbd_in_days_is_the_same_fit_with_alpha_in_days(cdnow_sample: pd.DataFrame) -> None:
    fit = bgnbd.fit(cdnow_sample["frequency"], cdnow_sample["t_x_days"],
                    cdnow_sample["tenure_days"])
    assert_close(fit.params, {**PUBLISHED_BGNBD, "alpha": PUBLISHED_BGNBD["alpha"] * 7}, 0.01)


def test_gamma_gamma_reproduces_the_published_cdnow_fit(cdnow_sample: pd.DataFrame) -> None:
    repeat = cdnow_sample[cdnow_sample["frequency"] > 0]
    fit = gamma_gamma.fit(repeat["frequency"], repeat["monetary_value"])
    assert fit.customers == 946
    assert_close(fit.params, PUBLISHED_GG, rel=0.02)


def test_published_conditional_expectation() -> None:
    # The paper's worked example: x = 2, t_x = 30.43, T = 38.86 weeks, next 39 weeks.
    params = bgnbd.BgNbdParams(**PUBLISHED_BGNBD)
    expected = bgnbd.expected_purchases(params, 39.0, [2], [30.43], [38.86])
    assert expected[0] == pytest.approx(1.226, abs=5e-4)


def test_cdnow_through_the_converter_and_sql_gives_the_published_fits(tmp_path: Path) -> None:
    """CDNOW sample -> contract folder -> warehouse -> segments.clv_inputs -> both fits."""
    raw = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None, dtype=str,
                      names=["customer_id", "sample_id", "date", "cds", "dollars"])
    master_form = tmp_path / "sample_as_master.txt"
    master_form.write_text("customer_id date number_of_cds dollar_value\n" + "".join(
        f" {r.customer_id} {r.date} {r.cds} {r.dollars}\n" for r in raw.itertuples()))
    convert_cdnow(master_form, tmp_path / "contract")
    wh = DuckDBWarehouse(tmp_path / "cdnow.duckdb", "UTC")
    as_of = dt.datetime(1997, 9, 30, 23, 59, 59, tzinfo=dt.UTC)
    load_source(FolderSource(tmp_path / "contract"), wh, as_of)
    build_models(wh, models_reading(("segments", "clv_inputs")), as_of=as_of)
    inputs = wh.fetch_df("SELECT * FROM segments.clv_inputs")
    wh.close()
    assert len(inputs) == 2357
    model = fit_clv(inputs, ClvConfig())
    assert_close(model.purchases.params, {**PUBLISHED_BGNBD, "alpha": 4.414 * 7}, rel=0.01)
    assert_close(model.spend.params, PUBLISHED_GG, rel=0.02)


# --- simulation -------------------------------------------------------------------------


def simulate_bgnbd(
    params: bgnbd.BgNbdParams, T: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """x and t_x for customers observed for T after a first purchase at 0."""
    n = len(T)
    rate = rng.gamma(params.r, 1.0 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    x, t_x = np.zeros(n), np.zeros(n)
    now, alive = np.zeros(n), np.ones(n, dtype=bool)
    while alive.any():
        now[alive] += rng.exponential(1.0 / rate[alive])
        bought = alive & (now <= T)
        x[bought] += 1
        t_x[bought] = now[bought]
        # The dropout coin is tossed after every repeat purchase.
        alive = bought & (rng.random(n) >= dropout)
    return x, t_x


def test_bgnbd_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(2005)
    truth = bgnbd.BgNbdParams(r=0.5, alpha=12.0, a=0.9, b=3.0)
    T = rng.uniform(60.0, 365.0, 50_000)
    x, t_x = simulate_bgnbd(truth, T, rng)
    fit = bgnbd.fit(x, t_x, T)
    # Over seeds 0-7 the worst parameter was 6 % off at this size.
    assert_close(fit.params, vars(truth), rel=0.10)


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(2013)
    truth = gamma_gamma.GammaGammaParams(p=4.0, q=3.0, gamma=20.0)
    n = 50_000
    x = 1 + rng.poisson(2.0, n)
    nu = rng.gamma(truth.q, 1.0 / truth.gamma, n)
    # The mean of x Gamma(p, nu) values is Gamma(p x, nu x).
    m_x = rng.gamma(truth.p * x, 1.0 / (nu * x))
    fit = gamma_gamma.fit(x, m_x)
    # Over seeds 0-7 the worst parameter was 5 % off at this size.
    assert_close(fit.params, vars(truth), rel=0.10)


# --- closed forms -----------------------------------------------------------------------


@pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0, 100), (1, 50, 200), (12, 250, 272),
                                             (80, 270, 272), (400, 690, 700)])
def test_expected_purchases_match_numerical_integration(x: int, t_x: float, T: float) -> None:
    params = bgnbd.BgNbdParams(r=0.9, alpha=7.0, a=1.2, b=25.0)
    r, alpha, a, b, t = params.r, params.alpha, params.a, params.b, 365.0

    # Alive: rate ~ Gamma(r + x, alpha + T), dropout ~ Beta(a, b + x); E[Y | p] integrates
    # the rate out in closed form, the dropout probability is integrated numerically.
    def given_p(p: float) -> float:
        return float((1 - ((alpha + T) / (alpha + T + p * t)) ** (r + x)) / p
                     * stats.beta.pdf(p, a, b + x))

    reference = integrate.quad(given_p, 0, 1, limit=200)[0]
    alive = bgnbd.p_alive(params, [x], [t_x], [T])[0]
    got = bgnbd.expected_purchases(params, t, [x], [t_x], [T])[0]
    assert got == pytest.approx(alive * reference, rel=1e-7)


def test_analytic_gradients_match_finite_differences(cdnow_sample: pd.DataFrame) -> None:
    h = bgnbd.History.of(cdnow_sample["frequency"], cdnow_sample["t_x_days"] / 7,
                         cdnow_sample["tenure_days"] / 7)
    at = np.log([0.3, 5.0, 0.7, 2.0])
    error = check_grad(lambda p: bgnbd._negative_ll(p, h)[0],
                       lambda p: bgnbd._negative_ll(p, h)[1], at)
    assert error < 1e-3 * np.abs(bgnbd._negative_ll(at, h)[1]).max()
    repeat = cdnow_sample[cdnow_sample["frequency"] > 0]
    x, m = repeat["frequency"].to_numpy(float), repeat["monetary_value"].to_numpy(float)
    levels, level_of = np.unique(x, return_inverse=True)
    at = np.log([5.0, 3.0, 12.0])
    gg_error = check_grad(lambda p: gamma_gamma._negative_ll(p, x, m, levels, level_of)[0],
                          lambda p: gamma_gamma._negative_ll(p, x, m, levels, level_of)[1], at)
    assert gg_error < 1e-3 * np.abs(gamma_gamma._negative_ll(at, x, m, levels, level_of)[1]).max()


# --- CLV --------------------------------------------------------------------------------


def test_clv_scores_every_customer_and_discounting_lowers_value(
    cdnow_sample: pd.DataFrame,
) -> None:
    frame = cdnow_sample.assign(customer_id=cdnow_sample["customer_id"].astype(str))
    scores = score_customers(frame, ClvConfig())
    out = scores.customers
    assert list(out.columns) == list(OUTPUT_COLUMNS) and len(out) == 2357
    assert scores.model is not None and (out["clv_method"] == FITTED).all()
    assert out["p_alive"].between(0, 1).all()
    assert (out["expected_purchases_30d"] <= out["expected_purchases_90d"]).all()
    assert (out["expected_purchases_90d"] <= out["expected_purchases_365d"]).all()
    undiscounted = score_customers(frame, ClvConfig(annual_discount_rate=0.0)).customers
    assert (undiscounted["predicted_clv"] >= out["predicted_clv"]).all()
    # Without discounting, CLV over the horizon is the expected purchases times spend.
    assert undiscounted["predicted_clv"].to_numpy() == pytest.approx(
        (out["expected_purchases_365d"] * out["expected_average_spend"]).to_numpy(), rel=1e-9)
    two_years = score_customers(frame, ClvConfig(horizon_days=730)).customers
    assert (two_years["predicted_clv"] > out["predicted_clv"]).all()


def test_too_few_repeat_customers_falls_back_to_null_outputs() -> None:
    frame = pd.DataFrame({"customer_id": ["a", "b", "c"], "frequency": [0, 2, 1],
                          "t_x_days": [0, 20, 5], "tenure_days": [30, 40, 50],
                          "monetary_value": [None, 25.0, 10.0]})
    with pytest.raises(InsufficientDataError, match="at least 30 customers with a repeat"):
        fit_clv(frame, ClvConfig())
    scores = score_customers(frame, ClvConfig())
    assert scores.model is None and "found 2 among 3 customers" in scores.note
    assert (scores.customers["clv_method"] == INSUFFICIENT).all()
    assert scores.customers["predicted_clv"].isna().all()
    assert scores.customers["p_alive"].isna().all()


def test_invalid_histories_are_refused_with_a_message() -> None:
    with pytest.raises(ModelFitError, match="recency must lie in"):
        bgnbd.fit([1, 0], [10, 0], [5, 3])
    with pytest.raises(ModelFitError, match="at least one customer with a repeat"):
        bgnbd.fit([0, 0], [0, 0], [5, 3])
    with pytest.raises(ModelFitError, match="must be > 0"):
        gamma_gamma.fit([1, 2], [10.0, 0.0])
