"""Gradient boosting with monotone constraints (issue 5): constraints from the binning trends
hold on any input, early stopping, reason codes in the scorecard's vocabulary, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.utils.estimator_checks import parametrize_with_checks

from xiaowei.core.errors import InvalidInput
from xiaowei.scoring import datasets, metrics
from xiaowei.scoring.binning import Binning
from xiaowei.scoring.gbm import GradientBoosting

# One LightGBM thread in tests: on a shared machine, OpenMP threads that busy-wait for a
# busy core make a 2-thread fit tens of times slower (measured: 0.14 s vs 7–11 s).
ONE = 1


def _toy(n: int = 4000, seed: int = 3) -> tuple[pl.DataFrame, np.ndarray]:
    """Risk rises with ``rises``, falls with ``falls``, is U-shaped in ``ushape``; ``grade``
    is an informative category; ``noise`` carries nothing."""
    rng = np.random.default_rng(seed)
    rises = rng.normal(0.0, 1.0, n)
    falls = rng.uniform(0.0, 100.0, n)
    ushape = rng.normal(0.0, 1.0, n)
    grade = rng.choice(["A", "B", "C", "D"], size=n)
    effect = {"A": -0.8, "B": -0.2, "C": 0.3, "D": 0.9}
    eta = (
        -1.5
        + 0.9 * rises
        - 0.03 * (falls - 50.0)
        + 0.8 * (ushape**2 - 1.0)
        + np.vectorize(effect.get)(grade)
    )
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(np.int8)
    rises[rng.random(n) < 0.05] = np.nan
    frame = pl.DataFrame(
        {
            "rises": pl.Series(rises, nan_to_null=True),
            "falls": falls,
            "ushape": ushape,
            "grade": grade,
            "noise": rng.normal(0.0, 1.0, n),
        }
    )
    return frame, y


@pytest.fixture(scope="module")
def toy() -> tuple[pl.DataFrame, np.ndarray]:
    return _toy()


@pytest.fixture(scope="module")
def toy_model(toy: tuple[pl.DataFrame, np.ndarray]) -> GradientBoosting:
    frame, y = toy
    return GradientBoosting(
        n_estimators=60, learning_rate=0.2, min_child_samples=20, n_jobs=ONE
    ).fit(frame, y)


@pytest.fixture(scope="module")
def german_split() -> tuple[pl.DataFrame, np.ndarray, pl.DataFrame, np.ndarray]:
    frame, y = datasets.german_credit()
    train, test = train_test_split(
        np.arange(frame.height), test_size=0.3, stratify=y, random_state=42
    )
    return frame[train], y[train], frame[test], y[test]


@pytest.fixture(scope="module")
def german_model(
    german_split: tuple[pl.DataFrame, np.ndarray, pl.DataFrame, np.ndarray],
) -> GradientBoosting:
    x_train, y_train, _, _ = german_split
    return GradientBoosting(n_estimators=200, n_jobs=ONE).fit(x_train, y_train)


# ---- monotone constraints


def test_constraints_follow_the_binning_trends(toy_model: GradientBoosting) -> None:
    """Event rate ascending in x → +1 on the log-odds of bad, descending → −1, U-shape → 0
    (unconstrained), categorical → 0."""
    trends = {f: b.trend_ for f, b in toy_model.binning_.binners_.items()}  # type: ignore[union-attr]
    assert trends["rises"] == "ascending"
    assert trends["falls"] == "descending"
    assert trends["ushape"] == "valley"
    assert toy_model.monotone_constraints_ == {
        "rises": 1,
        "falls": -1,
        "ushape": 0,
        "grade": 0,
        "noise": toy_model.monotone_constraints_["noise"],
    }
    params = toy_model.booster_.params
    assert list(params["monotone_constraints"]) == [
        toy_model.monotone_constraints_[f] for f in toy_model.features_
    ]
    unconstrained = GradientBoosting(n_estimators=5, monotone=None, n_jobs=ONE).fit(*_toy(800))
    assert set(unconstrained.monotone_constraints_.values()) == {0}


def test_special_codes_leave_a_feature_unconstrained(toy: tuple) -> None:
    """A special code (−999, "no record") sits at the low end of the raw axis; a +1 constraint
    would force it to be the safest value, so the feature stays unconstrained — and the
    applicant's reason names the special bin."""
    frame, y = toy
    coded = frame.with_columns(
        pl.when(pl.int_range(pl.len()) % 10 == 0)
        .then(-999.0)
        .otherwise(pl.col("falls"))
        .alias("falls")
    )
    model = GradientBoosting(
        n_estimators=20,
        learning_rate=0.2,
        n_jobs=ONE,
        binning=Binning(special_values=(-999.0,), n_jobs=1),
    ).fit(coded, y)
    assert model.binning_ is not None
    assert model.binning_.binners_["falls"].trend_ == "descending"
    assert model.monotone_constraints_["falls"] == 0
    assert model.monotone_constraints_["rises"] == 1
    labels = model.reason_code_frame(coded[:200], n=5).filter(pl.col("feature") == "falls")
    assert "falls:special -999" in labels["code"].to_list()


@settings(max_examples=40, deadline=None)
@given(
    row=st.integers(0, 3999),
    feature=st.sampled_from(["rises", "falls"]),
    grid=st.lists(st.one_of(st.floats(-3, 103), st.floats(-1e3, 1e3)), min_size=2, max_size=40),
)
def test_monotone_constraint_holds_along_a_feature(
    toy_model: GradientBoosting,
    toy: tuple[pl.DataFrame, np.ndarray],
    row: int,
    feature: str,
    grid: list[float],
) -> None:
    """With every other feature fixed at an applicant's values, the log-odds of bad is
    non-decreasing along a +1 feature and non-increasing along a −1 feature, for any values
    (also far outside the training range)."""
    frame, _ = toy
    values = np.sort(np.asarray(grid))
    probe = frame[[row] * values.shape[0]].with_columns(pl.Series(feature, values))
    raw = toy_model.decision_function(probe)
    sign = toy_model.monotone_constraints_[feature]
    assert sign != 0
    assert (sign * np.diff(raw) >= -1e-12).all()


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    slope=st.floats(-2.0, 2.0).filter(lambda v: abs(v) > 0.3),
    n=st.integers(300, 1500),
)
def test_monotone_constraints_hold_on_any_training_data(seed: int, slope: float, n: int) -> None:
    """Whatever the data (random size, direction, interactions, missing values), every feature
    the binning marks ±1 moves the log-odds of bad only in that direction."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, (n, 3))
    x[rng.random((n, 3)) < 0.05] = np.nan
    eta = slope * np.nan_to_num(x[:, 0]) + np.sin(3 * np.nan_to_num(x[:, 1])) * np.nan_to_num(
        x[:, 2]
    )
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(eta - 1.0)))).astype(int)
    if y.min() == y.max():
        y[:2] = [0, 1]
    frame = pl.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2]}, nan_to_null=True)
    model = GradientBoosting(
        n_estimators=15,
        learning_rate=0.3,
        min_child_samples=5,
        early_stopping_rounds=None,
        n_jobs=ONE,
        binning=Binning(min_bin_share=0.02, n_jobs=1),
    ).fit(frame, y)
    grid = np.linspace(-4.0, 4.0, 41)
    for feature, sign in model.monotone_constraints_.items():
        if sign == 0:
            continue
        for row in rng.integers(0, n, 5):
            probe = frame[[int(row)] * grid.shape[0]].with_columns(pl.Series(feature, grid))
            assert (sign * np.diff(model.decision_function(probe)) >= -1e-12).all()


# ---- early stopping


def test_early_stopping_stops(
    german_split: tuple[pl.DataFrame, np.ndarray, pl.DataFrame, np.ndarray],
) -> None:
    x_train, y_train, _, _ = german_split
    model = GradientBoosting(
        n_estimators=500, learning_rate=0.1, early_stopping_rounds=10, n_jobs=ONE
    ).fit(x_train, y_train)
    losses = model.evals_result_["binary_logloss"]
    # 10 rounds past the best, far fewer than 500; the booster keeps the best trees only
    assert len(losses) == model.best_iteration_ + 10 < 500
    assert model.booster_.current_iteration() == model.best_iteration_
    assert int(np.argmin(losses)) == model.best_iteration_ - 1


def test_without_early_stopping_every_tree_is_used(toy: tuple[pl.DataFrame, np.ndarray]) -> None:
    frame, y = toy
    model = GradientBoosting(n_estimators=7, early_stopping_rounds=None, n_jobs=ONE).fit(frame, y)
    assert model.best_iteration_ == model.booster_.current_iteration() == 7
    assert model.evals_result_ == {"binary_logloss": []}


# ---- contributions and reason codes


def test_contributions_sum_to_the_log_odds(toy_model: GradientBoosting, toy: tuple) -> None:
    frame, _ = toy
    contrib = toy_model.contributions(frame[:200])
    assert contrib.shape == (200, len(toy_model.features_) + 1)
    np.testing.assert_allclose(
        contrib.sum(axis=1), toy_model.decision_function(frame[:200]), atol=1e-9
    )


def test_reason_codes_name_the_applicants_bins(toy_model: GradientBoosting, toy: tuple) -> None:
    """Each reason is ``feature:bin_label`` with the label of the applicant's bin in the fitted
    binning (the scorecard's vocabulary), ordered by contribution (ties: feature order), only
    the features that raise the risk. Checked against a plain per-row reference."""
    frame, _ = toy
    sample = frame[:300]
    reasons = toy_model.reason_codes(sample, n=3)
    assert len(reasons) == sample.height
    binning = toy_model.binning_
    assert binning is not None
    bins = binning.transform(sample, metric="bin")
    np.testing.assert_array_equal(toy_model.bin_index(sample), bins)
    contrib = toy_model.contributions(sample)[:, :-1]
    for i in range(sample.height):
        expected = [
            {
                "feature": f,
                "bin": int(bins[i, j]),
                "label": binning.binners_[f].labels_[bins[i, j]],
                "contribution": float(contrib[i, j]),
                "code": f"{f}:{binning.binners_[f].labels_[bins[i, j]]}",
            }
            for j, f in enumerate(toy_model.features_)
            if contrib[i, j] > 0
        ]
        expected.sort(key=lambda item: -item["contribution"])  # stable: ties keep feature order
        assert reasons[i] == expected[:3]
    assert any(len(r) == 3 for r in reasons)


def test_reason_code_frame_is_the_long_form(toy_model: GradientBoosting, toy: tuple) -> None:
    frame, _ = toy
    long = toy_model.reason_code_frame(frame[:50], n=7)
    assert long.columns == ["row", "rank", "feature", "bin", "label", "contribution", "code"]
    assert (long["contribution"] > 0).all()
    assert long.group_by("row").len()["len"].max() <= len(toy_model.features_)
    ranks = long.group_by("row", maintain_order=True).agg(pl.col("rank"), pl.col("contribution"))
    for rank, value in zip(ranks["rank"].to_list(), ranks["contribution"].to_list(), strict=True):
        assert rank == list(range(1, len(rank) + 1))
        assert value == sorted(value, reverse=True)
    assert toy_model.reason_code_frame(frame[:5], n=0).height == 0


# ---- quality


def test_german_credit_auc_printed(
    german_model: GradientBoosting,
    german_split: tuple[pl.DataFrame, np.ndarray, pl.DataFrame, np.ndarray],
) -> None:
    """No bar here (the research notes' LightGBM reference: 0.787 with 300 trees)."""
    _, _, x_test, y_test = german_split
    auc = metrics.auc(y_test, german_model.predict_proba(x_test)[:, 1])
    print(f"German Credit holdout AUC (GradientBoosting, 70/30 seed 42): {auc:.4f}")
    assert 0.5 < auc < 1.0


def test_synthetic_20000_auc_above_080() -> None:
    frame, y = datasets.synthetic(20_000, seed=7)
    train, test = train_test_split(
        np.arange(frame.height), test_size=0.3, stratify=y, random_state=42
    )
    model = GradientBoosting(n_estimators=150, learning_rate=0.1, n_jobs=ONE).fit(
        frame[train], y[train]
    )
    auc = metrics.auc(y[test], model.predict_proba(frame[test])[:, 1])
    print(f"synthetic 20,000 holdout AUC: {auc:.4f}")
    assert auc > 0.8


# ---- categories, frames, persistence


def test_unseen_and_missing_levels_are_missing(toy_model: GradientBoosting, toy: tuple) -> None:
    frame, _ = toy
    assert toy_model.categories_ == {"grade": ["A", "B", "C", "D"]}
    row = frame[:1]
    unseen = row.with_columns(pl.lit("Z").alias("grade"))
    missing = row.with_columns(pl.lit(None, dtype=pl.String).alias("grade"))
    np.testing.assert_array_equal(toy_model.predict_proba(unseen), toy_model.predict_proba(missing))


def test_pandas_frame_gives_the_same_predictions(toy_model: GradientBoosting, toy: tuple) -> None:
    frame, _ = toy
    sample = frame[:100]
    as_pandas = pd.DataFrame({c: sample[c].to_list() for c in sample.columns})
    as_pandas["rises"] = as_pandas["rises"].astype(float)
    np.testing.assert_array_equal(
        toy_model.predict_proba(as_pandas), toy_model.predict_proba(sample)
    )
    assert_frame_equal(toy_model.reason_code_frame(as_pandas), toy_model.reason_code_frame(sample))


def test_save_load_round_trip_identical(
    german_model: GradientBoosting,
    german_split: tuple[pl.DataFrame, np.ndarray, pl.DataFrame, np.ndarray],
    tmp_path: Path,
) -> None:
    _, _, x_test, _ = german_split
    path = tmp_path / "gbm.json"
    german_model.save(path)
    loaded = GradientBoosting.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(x_test), german_model.predict_proba(x_test))
    np.testing.assert_array_equal(loaded.contributions(x_test), german_model.contributions(x_test))
    assert loaded.reason_codes(x_test) == german_model.reason_codes(x_test)
    assert loaded.get_params() == {**german_model.get_params(), "binning": None}
    assert loaded.booster_.model_to_string() == german_model.booster_.model_to_string()


def test_scikit_learn_conventions(toy: tuple) -> None:
    frame, y = toy
    template = GradientBoosting(n_estimators=3, binning=Binning(max_bins=4), n_jobs=ONE)
    twin = clone(template)
    assert twin.get_params()["n_estimators"] == 3
    assert twin.set_params(n_estimators=4) is twin
    assert twin.n_estimators == 4
    fitted = twin.fit(frame, y)
    assert fitted is twin
    assert max(b.n_regular_ for b in twin.binning_.binners_.values()) <= 4  # type: ignore[union-attr]
    assert not hasattr(template, "booster_")  # the template binning was cloned, not fitted
    assert not hasattr(template.binning, "binners_")
    # a NumPy array works too, columns x0, x1, …
    numeric = frame.select("falls", "ushape", "noise").to_numpy()
    on_array = GradientBoosting(n_estimators=3, n_jobs=ONE).fit(numeric, y)
    assert on_array.features_ == ["x0", "x1", "x2"]
    assert on_array.predict(numeric).shape == (numeric.shape[0],)


# ---- bad input


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"n_estimators": 0}, "n_estimators", id="n_estimators"),
        pytest.param({"learning_rate": -0.1}, "learning_rate", id="learning_rate"),
        pytest.param({"num_leaves": 1}, "num_leaves", id="num_leaves"),
        pytest.param({"monotone": "trees"}, "monotone", id="monotone"),
        pytest.param({"validation_share": 1.0}, "validation_share", id="validation_share"),
        pytest.param({"early_stopping_rounds": 0}, "early_stopping_rounds", id="rounds"),
        pytest.param({"categorical": ["nope"]}, "categorical", id="categorical"),
        pytest.param({"categorical": "all"}, "categorical", id="categorical-str"),
        pytest.param({"binning": "yes"}, "binning", id="binning"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], field: str, toy: tuple) -> None:
    frame, y = toy
    with pytest.raises(InvalidInput, match=rf"^{field}:"):
        GradientBoosting(**kwargs).fit(frame[:200], y[:200])  # type: ignore[arg-type]


def test_bad_data(toy_model: GradientBoosting, toy: tuple, tmp_path: Path) -> None:
    frame, y = toy
    with pytest.raises(InvalidInput, match=r"^y:"):
        GradientBoosting().fit(frame[:10], y[:9])
    with pytest.raises(InvalidInput, match=r"^y:"):
        GradientBoosting().fit(frame[:10], np.full(10, 2))
    with pytest.raises(InvalidInput, match=r"^y:"):
        GradientBoosting().fit(frame[:10], np.zeros(10))
    with pytest.raises(InvalidInput, match=r"^X:"):
        GradientBoosting().fit(frame[:0], y[:0])
    with pytest.raises(InvalidInput, match=r"^X:"):
        toy_model.predict_proba(frame.drop("falls"))
    with pytest.raises(InvalidInput, match=r"^falls:"):
        toy_model.predict_proba(frame[:3].with_columns(pl.lit("high").alias("falls")))
    with pytest.raises(InvalidInput, match=r"^n:"):
        toy_model.reason_codes(frame[:3], n=-1)
    with pytest.raises(InvalidInput, match=r"^model:"):
        GradientBoosting.from_json('{"schema": "other"}')
    with pytest.raises(InvalidInput, match=r"^path:"):
        GradientBoosting.load(tmp_path / "absent.json")


# ---- scikit-learn's estimator checks (NumPy input, columns x0, x1, …; 0/1 target)


# These checks fit on labels other than 0/1 (1/2, strings, 3 classes) whatever the tags say;
# the model needs the credit convention 0 = good / 1 = bad, and says so (InvalidInput) rather
# than guessing which label is the bad one.
EXPECTED_FAILED_CHECKS = {
    "check_estimators_dtypes": "fits on a 3-class target; the model needs 0/1 (1 = bad)",
    "check_classifiers_classes": "string and 1/2 labels; the model needs 0/1 (1 = bad)",
    "check_classifier_data_not_an_array": "labels 1/2; the model needs 0/1 (1 = bad)",
}


@parametrize_with_checks(
    [GradientBoosting(n_estimators=5, min_child_samples=1, n_jobs=ONE)],
    expected_failed_checks=lambda _: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_estimator_checks(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)
