"""PD calibration and master scale (issue 5): hand-computed logistic fits, isotonic
monotonicity, master-scale edges."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from xiaowei.core.errors import InvalidInput
from xiaowei.scoring.calibration import DEFAULT_BOUNDARIES, Calibrator, MasterScale

# Tiny example with a closed-form maximum-likelihood logistic fit: a binary score s ∈ {0, 1},
# 1 bad in 4 at s = 0 and 3 bads in 4 at s = 1. The model with an intercept and a slope is
# saturated on two score values, so the MLE reproduces the group rates: PD(0) = 1/4,
# PD(1) = 3/4, hence a = logit(1/4) = −ln 3 and b = logit(3/4) − logit(1/4) = 2 ln 3.
TINY_S = np.array([0, 0, 0, 0, 1, 1, 1, 1], dtype=np.float64)
TINY_Y = np.array([1, 0, 0, 0, 1, 1, 1, 0])


def test_platt_against_hand_computed_logistic_fit() -> None:
    cal = Calibrator("platt", pd_floor=0.0).fit(TINY_S, TINY_Y)
    assert cal.intercept_ == pytest.approx(-math.log(3.0), abs=1e-9)
    assert cal.slope_ == pytest.approx(2.0 * math.log(3.0), abs=1e-9)
    assert cal.transform([0.0, 1.0]) == pytest.approx([0.25, 0.75], abs=1e-12)


def test_platt_prior_correction_hand_computed() -> None:
    """Platt (1999) §2.2 targets: bads (N₊ = 4) → 5/6, goods (N₋ = 4) → 1/6. Group means of
    the smoothed targets: s = 0: (5/6 + 3·1/6)/4 = 1/3; s = 1: (3·5/6 + 1/6)/4 = 2/3; the
    saturated fit reproduces them, a = ln(1/2), b = ln 2 − ln(1/2) = 2 ln 2."""
    cal = Calibrator("platt", prior_correction=True, pd_floor=0.0).fit(TINY_S, TINY_Y)
    assert cal.intercept_ == pytest.approx(-math.log(2.0), abs=1e-9)
    assert cal.slope_ == pytest.approx(2.0 * math.log(2.0), abs=1e-9)
    assert cal.transform([0.0, 1.0]) == pytest.approx([1 / 3, 2 / 3], abs=1e-12)


def test_platt_matches_unpenalised_logistic_regression_on_a_score_scale() -> None:
    """A scorecard-like score (600 ± 50, higher = safer) is well conditioned after the
    internal standardisation; cross-check with scikit-learn (no penalty)."""
    rng = np.random.default_rng(5)
    score = rng.normal(600.0, 50.0, 3000)
    pd_true = 1.0 / (1.0 + np.exp(-(-3.0 - (score - 600.0) / 30.0)))
    y = (rng.random(3000) < pd_true).astype(int)
    cal = Calibrator("platt", pd_floor=0.0).fit(score, y)
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(
        ((score - 600.0) / 50.0)[:, None], y
    )
    assert cal.slope_ == pytest.approx(ref.coef_[0, 0] / 50.0, rel=1e-5)
    assert cal.intercept_ == pytest.approx(ref.intercept_[0] - ref.coef_[0, 0] * 12.0, rel=1e-5)
    assert cal.slope_ < 0  # higher score, lower PD


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-50, 50, allow_nan=False), st.integers(0, 1)),
        min_size=4,
        max_size=80,
    ),
    st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=50),
)
def test_isotonic_output_is_monotone_and_a_probability(
    rows: list[tuple[float, int]], queries: list[float]
) -> None:
    score = np.array([r[0] for r in rows])
    y = np.array([r[1] for r in rows])
    if y.min() == y.max():
        y[0] = 1 - y[0]
    cal = Calibrator("isotonic").fit(score, y)
    grid = np.sort(np.asarray(queries))
    pd_ = cal.transform(grid)
    assert ((pd_ >= 0.0003) & (pd_ <= 1.0)).all()
    steps = np.diff(pd_)
    if cal.increasing_:
        assert (steps >= -1e-12).all()
    else:
        assert (steps <= 1e-12).all()


def test_isotonic_direction_auto_follows_the_score() -> None:
    """A scorecard score (higher = safer) gives a non-increasing PD; a probability of bad a
    non-decreasing one."""
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.5, 2000)
    y = (rng.random(2000) < p).astype(int)
    by_prob = Calibrator().fit(p, y)
    by_score = Calibrator().fit(-p * 100 + 600, y)
    assert by_prob.increasing_
    assert not by_score.increasing_
    np.testing.assert_allclose(by_prob.transform(p), by_score.transform(-p * 100 + 600))


def test_isotonic_hand_computed_pool_adjacent_violators() -> None:
    """Outcomes 0, 1, 0, 1 at scores 1…4 (increasing): the violator pair (1, 0) at scores 2, 3
    pools to ½; fitted values 0, ½, ½, 1; floored at 0.03 % at the bottom."""
    cal = Calibrator("isotonic", increasing=True).fit([1.0, 2.0, 3.0, 4.0], [0, 1, 0, 1])
    assert cal.transform([1.0, 2.0, 3.0, 4.0, 9.0]) == pytest.approx([0.0003, 0.5, 0.5, 1, 1])


def test_calibrator_is_a_scikit_learn_estimator() -> None:
    cal = Calibrator("platt", pd_floor=0.001)
    assert clone(cal).get_params() == cal.get_params()
    assert cal.set_params(method="isotonic") is cal
    assert cal.method == "isotonic"
    fitted = cal.fit(TINY_S[:, None], TINY_Y)
    assert fitted is cal
    assert fitted.n_features_in_ == 1


@pytest.mark.parametrize(
    ("kwargs", "score", "y", "field"),
    [
        pytest.param({"method": "beta"}, TINY_S, TINY_Y, "method", id="method"),
        pytest.param({"pd_floor": 1.5}, TINY_S, TINY_Y, "pd_floor", id="floor"),
        pytest.param({}, [0.0, np.nan, 1.0, 1.0], [0, 1, 0, 1], "score", id="nan-score"),
        pytest.param({}, TINY_S, TINY_Y[:-1], "y", id="length"),
        pytest.param({}, TINY_S, np.zeros(8), "y", id="one-class"),
        pytest.param({}, TINY_S, TINY_Y * 2, "y", id="not-binary"),
        pytest.param({}, np.ones((8, 2)), TINY_Y, "score", id="two-columns"),
    ],
)
def test_calibrator_bad_input(
    kwargs: dict[str, object], score: object, y: object, field: str
) -> None:
    with pytest.raises(InvalidInput, match=rf"^{field}:"):
        Calibrator(**kwargs).fit(score, y)  # type: ignore[arg-type]


# ---- master scale


def test_default_master_scale_is_geometric_from_003_to_30_percent() -> None:
    edges = np.asarray(DEFAULT_BOUNDARIES)
    assert edges.shape == (11,)
    assert edges[0] == pytest.approx(0.0003)
    assert edges[-1] == pytest.approx(0.30)
    np.testing.assert_allclose(edges[1:] / edges[:-1], 1000**0.1)  # ≈ 1.995 per grade
    scale = MasterScale()
    assert scale.labels == tuple(str(i) for i in range(1, 11))
    table = scale.table()
    assert table["pd_low"][0] == 0.0
    assert table["pd_high"][-1] == 1.0
    np.testing.assert_allclose(table["pd_low"].to_numpy()[1:], edges[1:-1])
    np.testing.assert_allclose(table["pd_mid"].to_numpy(), np.sqrt(edges[:-1] * edges[1:]))


def test_master_scale_boundaries_and_edges_hand_made() -> None:
    """Edges 1 %, 2 %, 5 %, 10 %: three grades A, B, C. A PD exactly on a boundary goes to the
    upper grade; below the first edge → A, at or above the last → C."""
    scale = MasterScale([0.01, 0.02, 0.05, 0.10], labels=["A", "B", "C"])
    pd_ = np.array([0.0, 0.005, 0.01, 0.0199999, 0.02, 0.049, 0.05, 0.10, 0.5, 1.0])
    assert scale.grade(pd_).tolist() == ["A", "A", "A", "A", "B", "B", "C", "C", "C", "C"]
    assert scale.grade_index(pl.Series([0.02])).tolist() == [1]
    expected = pl.DataFrame(
        {
            "grade": ["A", "B", "C"],
            "pd_low": [0.0, 0.02, 0.05],
            "pd_high": [0.02, 0.05, 1.0],
            "pd_mid": [math.sqrt(0.01 * 0.02), math.sqrt(0.02 * 0.05), math.sqrt(0.05 * 0.10)],
        }
    )
    assert_frame_equal(scale.table(), expected)
    assert scale.midpoint([0.03]) == pytest.approx([math.sqrt(0.001)])
    assert MasterScale.from_dict(scale.to_dict()).to_dict() == scale.to_dict()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=100))
def test_master_scale_grade_is_monotone_in_pd(pds: list[float]) -> None:
    scale = MasterScale()
    ordered = np.sort(np.asarray(pds))
    idx = scale.grade_index(ordered)
    assert (np.diff(idx) >= 0).all()
    low = np.asarray(scale.table()["pd_low"])[idx]
    high = np.asarray(scale.table()["pd_high"])[idx]
    assert ((low <= ordered) & ((ordered < high) | (idx == scale.n_grades - 1))).all()


@pytest.mark.parametrize(
    ("boundaries", "labels", "field"),
    [
        pytest.param([0.01], None, "boundaries", id="one-edge"),
        pytest.param([0.02, 0.01], None, "boundaries", id="decreasing"),
        pytest.param([0.0, 0.01], None, "boundaries", id="zero"),
        pytest.param([0.01, 1.5], None, "boundaries", id="above-one"),
        pytest.param([0.01, 0.02, 0.03], ["A"], "labels", id="label-count"),
        pytest.param([0.01, 0.02, 0.03], ["A", "A"], "labels", id="label-dup"),
    ],
)
def test_master_scale_bad_configuration(
    boundaries: list[float], labels: list[str] | None, field: str
) -> None:
    with pytest.raises(InvalidInput, match=rf"^{field}:"):
        MasterScale(boundaries, labels=labels)


@pytest.mark.parametrize("pd_", [[-0.1], [1.1], [np.nan], ["x"]])
def test_master_scale_bad_pd(pd_: list[object]) -> None:
    with pytest.raises(InvalidInput, match=r"^pd:"):
        MasterScale().grade(pd_)


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibrator_json_round_trip_gives_identical_pds(method: str) -> None:
    import json

    rng = np.random.default_rng(5)
    score = rng.normal(600, 40, 2_000).round()
    y = (rng.random(2_000) < 1 / (1 + np.exp((score - 560) / 25))).astype(int)
    cal = Calibrator(method).fit(score, y)  # type: ignore[arg-type]
    back = Calibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    probe = np.concatenate([score, [-1e9, 0.0, 1e9]])
    assert np.array_equal(back.transform(probe), cal.transform(probe))
    if method == "isotonic":
        # the stored step points reproduce scikit-learn's own prediction (clipped ends)
        expected = np.maximum(cal.isotonic_.predict(probe), cal.pd_floor)
        assert np.allclose(cal.transform(probe), expected, rtol=0, atol=1e-15)


def test_calibrator_malformed_dict_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="calibration"):
        Calibrator.from_dict({"method": "isotonic", "pd_floor": 0.0003, "x": [1, 0], "pd": [0.1]})
    with pytest.raises(InvalidInput, match="unknown method"):
        Calibrator.from_dict({"method": "beta", "pd_floor": 0.0})
    with pytest.raises(InvalidInput, match="not fitted"):
        Calibrator().to_dict()
