"""Feature selection (issue 5): IV, correlation, VIF and stepwise filters on WOE columns.

Hand-checkable cases, a cross-check of VIF against a direct regression R², of the
log-likelihood against scikit-learn, stepwise on the synthetic data, Hypothesis invariants and
scikit-learn's estimator checks.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from xiaowei.core.errors import InvalidInput
from xiaowei.scoring import datasets
from xiaowei.scoring.binning import Binning
from xiaowei.scoring.selection import (
    FeatureSelector,
    correlation_matrix,
    fit_logistic,
    information_criterion,
    information_values,
    variance_inflation_factors,
)

RNG = np.random.default_rng(5)
N = 400
A = RNG.normal(size=N)
B = RNG.normal(size=N)
C = RNG.normal(size=N)
Y = (RNG.random(N) < 0.3).astype(np.int8)


# ------------------------------------------------------------------------------ IV filter


def test_iv_filter_drops_below_min_and_says_why() -> None:
    x = np.column_stack([A, B, C])
    iv = {"a": 0.011, "b": 0.3, "c": 0.02}  # 0.02 is not below 0.02: kept
    selector = FeatureSelector(max_vif=None).fit(x, Y, ["a", "b", "c"], iv)
    assert selector.selected_ == ["b", "c"]
    row = selector.report_.row(0, named=True)
    assert row == {
        "feature": "a",
        "iv": 0.011,
        "step": "iv",
        "kept": False,
        "reason": row["reason"],
    }
    assert row["reason"] == "iv 0.011 < 0.02"


def test_max_iv_drops_too_good_to_be_true() -> None:
    """Siddiqi (2006), ch. 6: IV above 0.5 is suspicious ("too good to be true")."""
    x = np.column_stack([A, B])
    selector = FeatureSelector(max_iv=0.5).fit(x, Y, ["leak", "ok"], {"leak": 0.93, "ok": 0.2})
    assert selector.selected_ == ["ok"]
    reason = selector.report_.filter(pl.col("feature") == "leak").item(0, "reason")
    assert reason.startswith("iv 0.930 > 0.5: too good to be true")


def test_constant_column_always_dropped() -> None:
    x = np.column_stack([A, np.full(N, 0.37)])
    selector = FeatureSelector(min_iv=0.0).fit(x, Y, ["a", "flat"], {"a": 0.1, "flat": 0.0})
    assert selector.selected_ == ["a"]
    assert selector.report_.item(1, "step") == "constant"


def test_information_values_of_woe_columns_equal_the_binning_iv() -> None:
    """Each distinct WOE value is a bin: the IV recomputed from the columns is the binner's."""
    frame, y = datasets.synthetic(3_000, 11)
    frame = frame.select("mono_01", "ushape_01", "noise_01", "cat_1")
    binning = Binning(n_jobs=1).fit(frame, y)
    woe = binning.transform(frame)
    values = information_values(woe, y)
    expected = [binning.iv_[f] for f in binning.features_]
    # a bin never seen in training (no rows) adds nothing to the columns: compare with care
    np.testing.assert_allclose(values, expected, rtol=0.05)
    # and the selector computes the same IV when not given one
    selector = FeatureSelector(min_iv=0.0, max_vif=None).fit(woe, y, binning.features_)
    np.testing.assert_allclose(list(selector.iv_.values()), values)


def test_information_value_hand_computed() -> None:
    """Two bins: (goods, bads) = (6, 1) and (2, 3), smoothing 0.5.

    share_good = (6.5/9, 2.5/9), share_bad = (1.5/5, 3.5/5);
    IV = Σ (sg − sb) · ln(sg / sb).
    """
    x = np.r_[np.zeros(7), np.ones(5)][:, None]
    y = np.r_[np.zeros(6), 1, np.zeros(2), np.ones(3)]
    sg = np.array([6.5 / 9, 2.5 / 9])
    sb = np.array([1.5 / 5, 3.5 / 5])
    assert information_values(x, y)[0] == pytest.approx(float(((sg - sb) * np.log(sg / sb)).sum()))


# ------------------------------------------------------------------------ correlation filter


def test_two_identical_columns_keep_the_higher_iv() -> None:
    x = np.column_stack([A, A, B])
    selector = FeatureSelector(max_vif=None).fit(
        x, Y, ["a", "a_copy", "b"], {"a": 0.1, "a_copy": 0.3, "b": 0.2}
    )
    assert selector.selected_ == ["a_copy", "b"]
    row = selector.report_.row(0, named=True)
    assert (row["step"], row["kept"]) == ("correlation", False)
    assert row["reason"].startswith("correlated 1.00 with a_copy (higher IV kept")


def test_identical_columns_with_equal_iv_keep_the_earlier() -> None:
    x = np.column_stack([A, A])
    selector = FeatureSelector().fit(x, Y, ["first", "second"], {"first": 0.1, "second": 0.1})
    assert selector.selected_ == ["first"]


def test_correlation_hand_computed() -> None:
    """x1 = 1, 2, 3, 4 and x2 = 1, 3, 2, 4: deviations (−1.5, −.5, .5, 1.5) and
    (−1.5, .5, −.5, 1.5); Σ products = 2.25 − .25 − .25 + 2.25 = 4, Σ squares = 5 each, so
    r = 4 / 5 = 0.8 — above 0.7 (dropped), below 0.85 (kept)."""
    x = np.array([[1.0, 1.0], [2.0, 3.0], [3.0, 2.0], [4.0, 4.0]])
    assert correlation_matrix(x)[0, 1] == pytest.approx(0.8)
    y = np.array([0, 1, 0, 1])
    iv = {"x1": 0.2, "x2": 0.1}
    assert FeatureSelector(max_vif=None).fit(x, y, ["x1", "x2"], iv).selected_ == ["x1"]
    loose = FeatureSelector(max_correlation=0.85, max_vif=None).fit(x, y, ["x1", "x2"], iv)
    assert loose.selected_ == ["x1", "x2"]


# ---------------------------------------------------------------------------------- VIF


def test_vif_of_two_columns_hand_computed() -> None:
    """With two columns VIF = 1 / (1 − r²); r = 0.8 (above) gives 1 / 0.36 = 2.777…"""
    x = np.array([[1.0, 1.0], [2.0, 3.0], [3.0, 2.0], [4.0, 4.0]])
    np.testing.assert_allclose(variance_inflation_factors(x), [1 / 0.36, 1 / 0.36])


def test_vif_equals_one_over_one_minus_r2_of_a_direct_regression() -> None:
    """VIF_j = (R⁻¹)_jj (Marquardt 1970) against 1 / (1 − R_j²) from least squares of column j
    on the others with an intercept, on a small correlated matrix."""
    rng = np.random.default_rng(3)
    base = rng.normal(size=(12, 4))
    x = base @ np.array(
        [[1.0, 0.5, 0.0, 0.2], [0.0, 1.0, 0.7, 0.0], [0.0, 0.0, 1.0, 0.4], [0.0, 0.0, 0.0, 1.0]]
    )
    expected = []
    for j in range(x.shape[1]):
        others = np.column_stack([np.ones(x.shape[0]), np.delete(x, j, axis=1)])
        fitted = others @ np.linalg.lstsq(others, x[:, j], rcond=None)[0]
        residual = ((x[:, j] - fitted) ** 2).sum()
        total = ((x[:, j] - x[:, j].mean()) ** 2).sum()
        expected.append(1.0 / (residual / total))  # 1 / (1 − R²)
    np.testing.assert_allclose(variance_inflation_factors(x), expected, rtol=1e-9)


def test_linear_combination_is_dropped_by_vif() -> None:
    """c = a + b: R is singular, every column of the dependence has VIF = ∞; c is dropped
    (its ridge-limit VIF is the largest: var c = var a + var b), the rest have VIF ≈ 1."""
    x = np.column_stack([A, B, A + B, C])
    names = ["a", "b", "c", "d"]
    iv = dict.fromkeys(names, 0.1)
    selector = FeatureSelector(max_correlation=None).fit(x, Y, names, iv)
    assert selector.selected_ == ["a", "b", "d"]
    row = selector.report_.row(2, named=True)
    assert (row["step"], row["kept"]) == ("vif", False)
    assert "exact linear combination" in row["reason"]
    assert max(selector.vif_.values()) < 1.1
    assert np.isinf(variance_inflation_factors(x)[:3]).all()


def test_near_linear_combination_is_dropped_with_its_vif() -> None:
    rng = np.random.default_rng(8)
    x = np.column_stack([A, B, A + B + rng.normal(scale=0.05, size=N)])
    selector = FeatureSelector(max_correlation=None).fit(
        x, Y, ["a", "b", "c"], dict.fromkeys("abc", 0.1)
    )
    assert selector.selected_ == ["a", "b"]
    vif_c = variance_inflation_factors(x)[2]
    assert selector.report_.item(2, "reason") == f"VIF {vif_c:.1f} > 10 (largest VIF dropped first)"


# ----------------------------------------------------------------- log-likelihood, AIC, BIC


def test_aic_bic_of_the_intercept_only_model_hand_computed() -> None:
    """10 rows, 3 bads: the MLE is p = 0.3, ln L = 3 ln 0.3 + 7 ln 0.7 = −6.10864;
    AIC = 2·1 − 2 ln L = 14.21729; BIC = 1·ln 10 − 2 ln L = 14.51988."""
    y = np.r_[np.ones(3), np.zeros(7)]
    fit = fit_logistic(np.empty((10, 0)), y)
    loglik = 3 * math.log(0.3) + 7 * math.log(0.7)
    assert fit.log_likelihood == pytest.approx(loglik, abs=1e-10)
    assert fit.intercept == pytest.approx(math.log(0.3 / 0.7))
    assert information_criterion(fit.log_likelihood, 1, 10, kind="aic") == pytest.approx(
        14.21729, abs=1e-5
    )
    assert information_criterion(fit.log_likelihood, 1, 10, kind="bic") == pytest.approx(
        14.51988, abs=1e-5
    )


def test_saturated_binary_feature_log_likelihood_hand_computed() -> None:
    """x = 0: 4 rows, 1 bad; x = 1: 6 rows, 2 bads. The fit reproduces each group's rate:
    ln L = ln ¼ + 3 ln ¾ + 2 ln ⅓ + 4 ln ⅔."""
    x = np.r_[np.zeros(4), np.ones(6)][:, None]
    y = np.r_[1, 0, 0, 0, 1, 1, 0, 0, 0, 0]
    fit = fit_logistic(x, y)
    expected = math.log(1 / 4) + 3 * math.log(3 / 4) + 2 * math.log(1 / 3) + 4 * math.log(2 / 3)
    assert fit.converged
    assert fit.log_likelihood == pytest.approx(expected, abs=1e-10)
    assert fit.coef[0] == pytest.approx(math.log(0.5) - math.log(1 / 3))  # ln odds ratio


def test_log_likelihood_against_scikit_learn_unpenalised_fit() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2_000, 3))
    y = (rng.random(2_000) < 1 / (1 + np.exp(-(-1.0 + x @ [0.8, -0.5, 0.0])))).astype(int)
    fit = fit_logistic(x, y)
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x, y)
    np.testing.assert_allclose(fit.coef, reference.coef_[0], atol=1e-5)
    p = reference.predict_proba(x)[:, 1]
    direct = float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))
    assert fit.log_likelihood == pytest.approx(direct, abs=1e-6)
    assert information_criterion(fit.log_likelihood, 4, 2_000, kind="aic") == pytest.approx(
        2 * 4 - 2 * direct, abs=1e-5
    )
    assert information_criterion(fit.log_likelihood, 4, 2_000, kind="bic") == pytest.approx(
        4 * math.log(2_000) - 2 * direct, abs=1e-5
    )


# ------------------------------------------------------------------------------ stepwise


@pytest.fixture(scope="module")
def synthetic_woe() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """synthetic(20_000, seed 5), binned on the first 10,000 rows, WOE of the other 10,000.

    The selection runs on rows the binning did not see: on its own training rows a noise
    feature's WOE is fitted to the noise (the bins hide degrees of freedom), so AIC keeps
    most noise there (measured on seed 7: 23 of 24 noise kept in-sample, 2 out of sample).
    """
    frame, y = datasets.synthetic(20_000, 5)
    binning = Binning().fit(frame[:10_000], y[:10_000])
    return binning.transform(frame[10_000:]), y[10_000:], binning.features_


def _counts(selected: list[str]) -> tuple[int, int]:
    informative = {f"mono_{i:02d}" for i in range(1, 21)} | {f"ushape_{i:02d}" for i in range(1, 7)}
    informative |= {"cat_1", "cat_2", "cat_3"}
    return sum(f in informative for f in selected), sum(f.startswith("noise_") for f in selected)


def test_stepwise_forward_aic_drops_noise_keeps_informative(synthetic_woe) -> None:
    """55 features (29 informative, 24 noise, 2 uninformative categoricals), IV filter off so
    that stepwise does the work. AIC adds a pure-noise feature when its likelihood-ratio
    statistic (χ², 1 df) exceeds 2: probability 15.7 %, so about 3.8 of 24 noise features are
    expected to stay (binomial sd 1.8). Measured (seed 5): 28 of 29 informative kept, 5 of 24
    noise."""
    woe, y, names = synthetic_woe
    selector = FeatureSelector(min_iv=0.0, stepwise="forward").fit(woe, y, names)
    informative, noise = _counts(selector.selected_)
    assert informative >= 25
    assert noise <= 8
    # the reported criterion is the AIC of a direct fit on the selected columns
    columns = [names.index(f) for f in selector.selected_]
    direct = fit_logistic(woe[:, columns], y)
    k = len(columns) + 1
    assert selector.criterion_ == pytest.approx(2 * k - 2 * direct.log_likelihood, abs=1e-3)
    history = selector.history_
    assert history.item(0, "action") == "start"
    assert (history["criterion"].diff().drop_nulls() < 0).all()  # every move improves AIC
    dropped = selector.report_.filter(~pl.col("kept"))
    assert dropped["reason"].str.starts_with("stepwise: AIC does not improve").all()


def test_stepwise_bic_is_stricter_than_aic(synthetic_woe) -> None:
    """BIC's penalty ln n = 9.2 per feature against AIC's 2. Measured: no noise kept."""
    woe, y, names = synthetic_woe
    selector = FeatureSelector(min_iv=0.0, stepwise="forward", criterion="bic").fit(woe, y, names)
    informative, noise = _counts(selector.selected_)
    assert noise == 0
    assert informative >= 18


def _small() -> tuple[np.ndarray, np.ndarray, list[str]]:
    rng = np.random.default_rng(9)
    x = rng.normal(size=(3_000, 6))
    eta = -2.0 + x[:, :3] @ [0.9, -0.6, 0.4]
    y = (rng.random(3_000) < 1 / (1 + np.exp(-eta))).astype(int)
    return x, y, ["s1", "s2", "s3", "n1", "n2", "n3"]


@pytest.mark.parametrize("direction", ["forward", "backward", "both"])
@pytest.mark.parametrize("criterion", ["aic", "bic", "auc"])
def test_stepwise_directions_find_the_signal(direction: str, criterion: str) -> None:
    x, y, names = _small()
    selector = FeatureSelector(min_iv=0.0, stepwise=direction, criterion=criterion).fit(x, y, names)
    assert {"s1", "s2", "s3"} <= set(selector.selected_)
    assert len(selector.selected_) <= 4


def test_stepwise_screening_matches_the_exhaustive_search() -> None:
    x, y, names = _small()
    screened = FeatureSelector(min_iv=0.0, stepwise="forward").fit(x, y, names)
    exhaustive = FeatureSelector(min_iv=0.0, stepwise="forward", refit_candidates=None).fit(
        x, y, names
    )
    assert screened.selected_ == exhaustive.selected_
    assert screened.criterion_ == exhaustive.criterion_


def test_max_features_caps_forward_and_backward() -> None:
    x, y, names = _small()
    forward = FeatureSelector(min_iv=0.0, stepwise="forward", max_features=2).fit(x, y, names)
    backward = FeatureSelector(min_iv=0.0, stepwise="backward", max_features=2).fit(x, y, names)
    assert forward.selected_ == backward.selected_ == ["s1", "s2"]
    assert "max_features 2" in forward.report_.filter(pl.col("feature") == "s3").item(0, "reason")


def test_max_features_without_stepwise_keeps_the_highest_iv() -> None:
    x = np.column_stack([A, B, C])
    iv = {"a": 0.1, "b": 0.3, "c": 0.2}
    selector = FeatureSelector(max_features=2).fit(x, Y, ["a", "b", "c"], iv)
    assert selector.selected_ == ["b", "c"]
    assert selector.report_.item(0, "step") == "max_features"


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"min_iv": -0.1}, "min_iv", id="negative-min-iv"),
        pytest.param({"max_iv": 0.01}, "max_iv", id="max-iv-below-min"),
        pytest.param({"max_correlation": 1.5}, "max_correlation", id="correlation-above-1"),
        pytest.param({"max_vif": 0.5}, "max_vif", id="vif-below-1"),
        pytest.param({"stepwise": "sideways"}, "stepwise", id="unknown-direction"),
        pytest.param({"criterion": "gini"}, "criterion", id="unknown-criterion"),
        pytest.param({"max_features": 0}, "max_features", id="zero-features"),
        pytest.param({"holdout_share": 1.5}, "holdout_share", id="holdout-above-1"),
        pytest.param({"refit_candidates": 0}, "refit_candidates", id="zero-refits"),
        pytest.param({"min_iv": True}, "min_iv", id="boolean-threshold"),
    ],
)
def test_bad_parameters_raise_invalid_input(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        FeatureSelector(**kwargs).fit(np.column_stack([A, B]), Y)


@pytest.mark.parametrize(
    ("x", "y", "names", "iv", "field"),
    [
        pytest.param(np.column_stack([A, np.r_[np.nan, B[1:]]]), Y, None, None, "X", id="nan"),
        pytest.param(np.column_stack([A, B]), Y + 1, None, None, "y", id="target-not-0-1"),
        pytest.param(np.column_stack([A, B]), np.zeros(N), None, None, "y", id="one-class"),
        pytest.param(np.column_stack([A, B]), Y[:-1], None, None, "y", id="length"),
        pytest.param(np.column_stack([A, B]), Y, ["a"], None, "feature_names", id="names-count"),
        pytest.param(np.column_stack([A, B]), Y, ["a", "a"], None, "feature_names", id="dup-names"),
        pytest.param(np.column_stack([A, B]), Y, ["a", "b"], {"a": 0.1}, "iv", id="iv-missing"),
        pytest.param(
            np.column_stack([A, B]), Y, ["a", "b"], {"a": 0.1, "b": -1}, "iv", id="iv-neg"
        ),
        pytest.param(A, Y, None, None, "X", id="one-dimensional"),
    ],
)
def test_bad_input_raises_invalid_input(x, y, names, iv, field: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        FeatureSelector().fit(x, y, names, iv)


def test_transform_keeps_selected_columns_by_position_or_name() -> None:
    x = np.column_stack([A, A, B])
    names = ["a", "a_copy", "b"]
    selector = FeatureSelector().fit(x, Y, names, {"a": 0.1, "a_copy": 0.3, "b": 0.2})
    np.testing.assert_array_equal(selector.transform(x), x[:, [1, 2]])
    frame = pl.DataFrame(x, schema=names)
    assert selector.transform(frame).columns == ["a_copy", "b"]
    assert list(selector.get_feature_names_out()) == ["a_copy", "b"]
    with pytest.raises(InvalidInput, match="expecting 3 features"):
        selector.transform(x[:, :2])
    # a frame's column names are the default feature names
    assert FeatureSelector(min_iv=0.0).fit(frame, Y).selected_ == ["a", "b"]


def test_sklearn_params_and_clone() -> None:
    selector = FeatureSelector(min_iv=0.05, stepwise="both", criterion="bic")
    assert clone(selector).get_params() == selector.get_params()
    assert selector.set_params(max_vif=5.0) is selector
    assert selector.max_vif == 5.0


# The selector needs a 0/1 target (1 = bad); two checks build a target of other labels, and one
# puts a dict inside X and wants a TypeError, where bad input raises InvalidInput (a ValueError).
EXPECTED_FAILED_CHECKS = {
    "check_estimators_dtypes": "fits on a 3-class target; the selector needs 0/1 (1 = bad)",
    "check_fit2d_1feature": "fits on a {1, 2} target; the selector needs 0/1 (1 = bad)",
    "check_dtype_object": "a dict in X raises InvalidInput (a ValueError), not TypeError",
}


@parametrize_with_checks(
    [FeatureSelector()], expected_failed_checks=lambda _: EXPECTED_FAILED_CHECKS
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ---------------------------------------------------------------------------- invariants


@settings(max_examples=40, deadline=None)
@given(
    x=arrays(
        np.float64,
        (60, 5),
        elements=st.floats(-3, 3, allow_nan=False, allow_subnormal=False).map(
            lambda v: round(v, 1)
        ),
    ),
    iv=st.lists(st.floats(0.0, 0.6), min_size=5, max_size=5),
    max_correlation=st.sampled_from([None, 0.5, 0.9]),
    max_vif=st.sampled_from([None, 2.0, 10.0]),
)
def test_filters_hold_on_any_input(x, iv, max_correlation, max_vif) -> None:
    """Every feature has one report row, in input order; the selected ones pass each filter:
    IV ≥ min_iv, |r| ≤ max_correlation pairwise, VIF ≤ max_vif among themselves."""
    y = np.tile([0, 1, 0], 20)
    names = [f"f{j}" for j in range(5)]
    selector = FeatureSelector(max_correlation=max_correlation, max_vif=max_vif).fit(
        x, y, names, dict(zip(names, iv, strict=True))
    )
    report = selector.report_
    assert report["feature"].to_list() == names
    assert selector.selected_ == report.filter(pl.col("kept"))["feature"].to_list()
    assert all(selector.iv_[f] >= 0.02 for f in selector.selected_)
    chosen = [names.index(f) for f in selector.selected_]
    if len(chosen) >= 2:
        corr = correlation_matrix(x[:, chosen])
        off = np.abs(corr[~np.eye(len(chosen), dtype=bool)])
        if max_correlation is not None:
            assert off.max() <= max_correlation + 1e-12
        if max_vif is not None:
            assert max(selector.vif_.values()) <= max_vif
    assert (report.filter(~pl.col("kept"))["reason"].str.len_chars() > 0).all()


@settings(max_examples=30, deadline=None)
@given(
    x=arrays(np.float64, (40, 3), elements=st.floats(-5, 5, allow_nan=False, allow_subnormal=False))
)
def test_vif_is_at_least_one(x) -> None:
    """VIF = 1 / (1 − R²) ≥ 1 for every non-constant column (R² ∈ [0, 1])."""
    assume(np.ptp(x, axis=0).min() > 0.0)
    assert (variance_inflation_factors(x) >= 1.0 - 1e-9).all()
