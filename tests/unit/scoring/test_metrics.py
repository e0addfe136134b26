"""Validation metrics (issue 5): hand-computed and published examples, cross-checks against
scikit-learn and SciPy, and Hypothesis invariants."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from scipy import stats
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from xiaowei.core.errors import InvalidInput
from xiaowei.scoring import metrics

# Goods score 1, 2, 3; bads score 2, 4 (higher = riskier).
SMALL_Y = np.array([0, 0, 0, 1, 1])
SMALL_SCORE = np.array([1.0, 2.0, 3.0, 2.0, 4.0])


def test_auc_hand_computed_with_a_tie() -> None:
    """Bad-good pairs: bad 2 beats good 1, ties good 2 (½), loses to good 3; bad 4 beats all
    three goods. AUC = (1 + ½ + 0 + 3) / (2 × 3) = 4.5 / 6 = 0.75; Gini = 2·0.75 − 1 = 0.5."""
    assert metrics.auc(SMALL_Y, SMALL_SCORE) == pytest.approx(0.75)
    assert metrics.gini(SMALL_Y, SMALL_SCORE) == pytest.approx(0.5)


def test_auc_hanley_mcneil_1982_published_example() -> None:
    """Hanley & McNeil (1982), "The meaning and use of the area under a ROC curve",
    Radiology 143:29–36, Table 1: 109 CT images rated 1–5 (5 = definitely abnormal); 58 normal
    (33, 6, 6, 11, 2) and 51 abnormal (3, 2, 2, 11, 33). Published area: 0.893."""
    rating = np.arange(1, 6)
    normal = np.repeat(rating, [33, 6, 6, 11, 2])
    abnormal = np.repeat(rating, [3, 2, 2, 11, 33])
    y = np.r_[np.zeros(normal.size), np.ones(abnormal.size)]
    score = np.r_[normal, abnormal]
    assert metrics.auc(y, score) == pytest.approx(0.893, abs=5e-4)
    assert metrics.auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)


def test_points_direction_higher_is_safer() -> None:
    """Scorecard points are higher = safer: negating the score and flipping the flag is a no-op."""
    points = -SMALL_SCORE * 10 + 600
    assert metrics.auc(SMALL_Y, points, higher_is_riskier=False) == pytest.approx(0.75)
    assert metrics.auc(SMALL_Y, points) == pytest.approx(0.25)
    assert metrics.gini(SMALL_Y, points, higher_is_riskier=False) == pytest.approx(0.5)


def test_ks_hand_computed() -> None:
    """Cut-offs 1, 2, 3, 4: F_bad = 0, ½, ½, 1 and F_good = ⅓, ⅔, 1, 1; gaps ⅓, ⅙, ½, 0, so
    KS = ½ at score 3 (half the bads, all the goods at or below it)."""
    result = metrics.ks(SMALL_Y, SMALL_SCORE)
    assert result.statistic == pytest.approx(0.5)
    assert result.score == 3.0
    assert (result.bad_share, result.good_share) == pytest.approx((0.5, 1.0))
    # the two-sample KS statistic, independent of the score's direction
    assert metrics.ks(SMALL_Y, -SMALL_SCORE).statistic == pytest.approx(0.5)


def test_roc_curve_matches_scikit_learn() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 400)
    score = rng.integers(0, 30, 400) + 5 * y
    ours = metrics.roc_curve(y, score)
    fpr, tpr, thresholds = sk_roc_curve(y, score, drop_intermediate=False)
    np.testing.assert_allclose(ours.false_positive_rate, fpr)
    np.testing.assert_allclose(ours.true_positive_rate, tpr)
    np.testing.assert_array_equal(ours.thresholds[1:], thresholds[1:])


def test_gains_table_hand_computed() -> None:
    """Scores 10 … 1 (riskiest first), bads at 10, 9, 7, 4: 4 bads, 6 goods, bad rate 0.4.
    Five groups of two: bads 2, 1, 0, 1, 0. E.g. group 2: bad rate ½, lift ½ / 0.4 = 1.25,
    capture ¾, cumulative lift (3/4) / 0.4 = 1.875, KS ¾ − ⅙ = 7/12."""
    score = np.arange(10, 0, -1, dtype=float)
    y = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0])
    expected = pl.DataFrame(
        {
            "decile": [1, 2, 3, 4, 5],
            "min_score": [9.0, 7.0, 5.0, 3.0, 1.0],
            "max_score": [10.0, 8.0, 6.0, 4.0, 2.0],
            "count": [2, 2, 2, 2, 2],
            "bads": [2, 1, 0, 1, 0],
            "goods": [0, 1, 2, 1, 2],
            "bad_rate": [1.0, 0.5, 0.0, 0.5, 0.0],
            "cum_count_share": [0.2, 0.4, 0.6, 0.8, 1.0],
            "cum_bad_capture": [0.5, 0.75, 0.75, 1.0, 1.0],
            "lift": [2.5, 1.25, 0.0, 1.25, 0.0],
            "cum_lift": [2.5, 1.875, 1.25, 1.25, 1.0],
            "ks": [0.5, 0.75 - 1 / 6, 0.25, 1 - 4 / 6, 0.0],
        }
    )
    assert_frame_equal(metrics.gains_table(y, score, groups=5), expected)
    points = metrics.gains_table(y, -score, groups=5, higher_is_riskier=False)
    assert_frame_equal(
        points,
        expected.with_columns(min_score=-pl.col("max_score"), max_score=-pl.col("min_score")),
    )


@pytest.mark.parametrize(
    ("score", "counts"),
    [
        pytest.param([5.0, 5.0, 5.0, 1.0], [3, 1], id="tie-at-the-top-fills-decile-1"),
        pytest.param([3.0, 2.0, 2.0, 1.0], [3, 1], id="tie-takes-decile-of-its-first-row"),
        pytest.param([2.0, 2.0, 2.0, 2.0], [4], id="all-tied-one-decile"),
    ],
)
def test_gains_table_keeps_ties_in_one_decile(score: list[float], counts: list[int]) -> None:
    """Tie rule: rank r (riskiest first) → decile ⌊r·groups/n⌋ + 1, a tie group taking its first
    row's decile. [3, 2, 2, 1] with 2 groups: ranks 0 → 1, the 2s start at rank 1 → decile 1,
    the 1 at rank 3 → ⌊3·2/4⌋ + 1 = 2."""
    y = [1, 0, 1, 0]
    assert metrics.gains_table(y, score, groups=2)["count"].to_list() == counts


def test_hosmer_lemeshow_hand_computed() -> None:
    """PDs 0.1, 0.1 | 0.5, 0.5 | 0.9, 0.9 with defaults 1 | 2 | 2 in three groups:
    (1 − 0.2)² / (0.2·0.9) + (2 − 1)² / (1·0.5) + (2 − 1.8)² / (1.8·0.1)
    = 0.64/0.18 + 2 + 0.04/0.18 = 52/9 ≈ 5.778; df = 3 − 2 = 1; p = χ²₁ tail = 0.01623."""
    y = [0, 1, 1, 1, 1, 1]
    pd_ = [0.1, 0.1, 0.5, 0.5, 0.9, 0.9]
    result = metrics.hosmer_lemeshow(y, pd_, groups=3)
    assert result.statistic == pytest.approx(52 / 9)
    assert result.df == 1
    assert result.p_value == pytest.approx(0.016230048574613385)
    assert result.table["defaults"].to_list() == [1, 2, 2]
    assert result.table["expected"].to_list() == pytest.approx([0.2, 1.0, 1.8])


def test_hosmer_lemeshow_is_pearson_chi_square_of_the_group_table() -> None:
    """HL equals Pearson's χ² over the 2 × G table of (defaults, non-defaults) observed vs
    expected — checked with scipy.stats.chisquare's statistic per cell."""
    rng = np.random.default_rng(11)
    pd_ = rng.uniform(0.02, 0.6, 2_000)
    y = (rng.uniform(size=pd_.size) < pd_).astype(int)
    result = metrics.hosmer_lemeshow(y, pd_)
    table = result.table
    observed = np.r_[table["defaults"], table["count"] - table["defaults"]].astype(float)
    expected = np.r_[table["expected"], table["count"] - table["expected"]]
    pearson = float(np.sum((observed - expected) ** 2 / expected))
    assert result.statistic == pytest.approx(pearson)
    assert result.df == 8
    assert result.p_value == pytest.approx(stats.chi2.sf(pearson, 8))
    assert result.p_value > 0.001  # calibrated by construction


def test_binomial_test_by_grade_hand_computed() -> None:
    """Ten loans per grade at PD 10 %. P(X ≥ 2) = 1 − 0.9¹⁰ − 10·0.1·0.9⁹ = 0.26390 → green;
    P(X ≥ 5) = 0.0016349 → yellow (below 5 %, above 0.1 %); P(X ≥ 6) = 0.0001469 → red;
    no default → p = 1."""
    defaults = {"A": 2, "B": 5, "C": 6, "D": 0}
    grade = np.repeat(list(defaults), 10)
    y = np.concatenate([np.r_[np.ones(d), np.zeros(10 - d)] for d in defaults.values()])
    table = metrics.binomial_test_by_grade(y, np.full(40, 0.1), grade)
    expected = pl.DataFrame(
        {
            "grade": ["A", "B", "C", "D"],
            "count": [10, 10, 10, 10],
            "defaults": [2, 5, 6, 0],
            "default_rate": [0.2, 0.5, 0.6, 0.0],
            "mean_pd": [0.1, 0.1, 0.1, 0.1],
            "p_value": [0.2639010709, 0.0016349374, 0.0001469026, 1.0],
            "light": ["green", "yellow", "red", "green"],
        }
    )
    assert_frame_equal(table, expected, rel_tol=1e-9)


def test_binomial_test_agrees_with_scipy_binomtest_and_thresholds_are_parameters() -> None:
    rng = np.random.default_rng(3)
    grade = rng.integers(1, 8, 3_000)
    pd_ = 0.01 * grade * rng.uniform(0.8, 1.2, grade.size)
    y = (rng.uniform(size=grade.size) < pd_ * 1.3).astype(int)
    table = metrics.binomial_test_by_grade(y, pd_, grade)
    for row in table.iter_rows(named=True):
        reference = stats.binomtest(row["defaults"], row["count"], row["mean_pd"], "greater")
        assert row["p_value"] == pytest.approx(reference.pvalue, rel=1e-9)
    strict = metrics.binomial_test_by_grade(y, pd_, grade, yellow_p=0.5, red_p=0.2)
    p_value = strict["p_value"].to_numpy()
    lights = np.where(p_value < 0.2, "red", np.where(p_value < 0.5, "yellow", "green"))
    assert strict["light"].to_list() == lights.tolist()
    with pytest.raises(InvalidInput, match="red_p < yellow_p"):
        metrics.binomial_test_by_grade(y, pd_, grade, yellow_p=0.001, red_p=0.05)


def test_brier_hand_computed_and_scikit_learn() -> None:
    """y = 1, 0 with PD 0.8, 0.4: ((0.8 − 1)² + 0.4²) / 2 = (0.04 + 0.16) / 2 = 0.1."""
    assert metrics.brier([1, 0], [0.8, 0.4]) == pytest.approx(0.1)
    rng = np.random.default_rng(1)
    y, pd_ = rng.integers(0, 2, 300), rng.uniform(size=300)
    assert metrics.brier(y, pd_) == pytest.approx(brier_score_loss(y, pd_))


def test_observed_rate_interval_is_clopper_pearson() -> None:
    lower, upper = metrics.observed_rate_interval([0, 3, 10], [10, 10, 10])
    for d, low, high in zip([0, 3, 10], lower, upper, strict=True):
        interval = stats.binomtest(d, 10).proportion_ci(method="exact")
        assert (low, high) == pytest.approx((interval.low, interval.high))


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("y", "score", "field"),
    [
        pytest.param([0, 1, 1], [0.1, 0.2], "score", id="length-mismatch"),
        pytest.param([1, 1, 1], [0.1, 0.2, 0.3], "y", id="only-bads"),
        pytest.param([0, 0], [0.1, 0.2], "y", id="only-goods"),
        pytest.param([0, 1, 1], [0.1, np.nan, 0.3], "score", id="nan-score"),
        pytest.param([0, 1, np.nan], [0.1, 0.2, 0.3], "y", id="nan-target"),
        pytest.param([0, 1, 2], [0.1, 0.2, 0.3], "y", id="target-not-binary"),
        pytest.param([], [], "y", id="empty"),
        pytest.param([[0, 1]], [[0.1, 0.2]], "y", id="two-dimensional"),
        pytest.param([0, 1], ["a", "b"], "score", id="not-numeric"),
    ],
)
def test_bad_input_raises_invalid_input(y: object, score: object, field: str) -> None:
    for metric in (metrics.auc, metrics.gini, metrics.ks, metrics.gains_table):
        with pytest.raises(InvalidInput) as error:
            metric(y, score)
        assert error.value.field == field


@pytest.mark.parametrize(
    ("call", "match"),
    [
        pytest.param(lambda: metrics.brier([0, 1], [0.1, 1.2]), "pd", id="pd-above-one"),
        pytest.param(
            lambda: metrics.hosmer_lemeshow([0, 1], [0.1, 0.2]), "at least 3", id="hl-few"
        ),
        pytest.param(
            lambda: metrics.hosmer_lemeshow([0, 1], [0.1, 0.2], groups=2), "≥ 3", id="hl-g"
        ),
        pytest.param(
            lambda: metrics.hosmer_lemeshow([0, 1, 0, 0], [0.0, 0.5, 0.6, 0.7], groups=4),
            "undefined",
            id="hl-zero-expected",
        ),
        pytest.param(
            lambda: metrics.binomial_test_by_grade([0, 1], [0.1, 0.2], ["A"]),
            "grade",
            id="grade-length",
        ),
        pytest.param(
            lambda: metrics.binomial_test_by_grade([0, 1], [0.1, 0.2], ["A", None]),
            "missing",
            id="grade-null",
        ),
        pytest.param(lambda: metrics.gains_table([0, 1], [1, 2], groups=0), "groups", id="g0"),
    ],
)
def test_bad_calibration_input_raises_invalid_input(call: object, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        call()  # type: ignore[operator]


# --------------------------------------------------------------------------- properties

_labelled = st.integers(min_value=2, max_value=60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 1), min_size=n, max_size=n).filter(lambda v: 0 < sum(v) < n),
        st.lists(st.integers(-20, 20), min_size=n, max_size=n),
    )
)


@settings(max_examples=150, deadline=None)
@given(_labelled)
def test_auc_properties(sample: tuple[list[int], list[int]]) -> None:
    """AUC ∈ [0, 1]; AUC(s) = 1 − AUC(−s); invariant under strictly increasing transforms;
    equal to scikit-learn's roc_auc_score (which also counts ties ½)."""
    y, raw = np.array(sample[0]), np.array(sample[1], dtype=float)
    value = metrics.auc(y, raw)
    assert 0.0 <= value <= 1.0
    assert metrics.auc(y, -raw) == pytest.approx(1.0 - value, abs=1e-12)
    assert metrics.auc(y, raw**3 + 2 * raw) == pytest.approx(value, abs=1e-12)
    assert metrics.auc(y, np.exp(raw / 4)) == pytest.approx(value, abs=1e-12)
    assert value == pytest.approx(roc_auc_score(y, raw), abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(_labelled)
def test_ks_properties(sample: tuple[list[int], list[int]]) -> None:
    """KS ∈ [0, 1], equal to scipy's two-sample KS, the same for −score, and never below the
    KS read off the gains table at decile boundaries."""
    y, score = np.array(sample[0]), np.array(sample[1], dtype=float)
    result = metrics.ks(y, score)
    assert 0.0 <= result.statistic <= 1.0
    # the statistic only: SciPy's p-value may warn on tiny or tied samples, which is not ours
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reference = stats.ks_2samp(score[y == 1], score[y == 0]).statistic
    assert result.statistic == pytest.approx(reference, abs=1e-12)
    assert metrics.ks(y, -score).statistic == pytest.approx(result.statistic, abs=1e-12)
    table = metrics.gains_table(y, score)
    assert table["ks"].abs().max() <= result.statistic + 1e-12
    assert table["count"].sum() == y.size
    assert table["cum_bad_capture"][-1] == pytest.approx(1.0)


def test_calibration_table_by_decile_and_by_grade() -> None:
    """Deciles of PD from the safest: PDs 0.1 ×2, 0.5 ×2, 0.9 ×2 in three groups give the
    counts, defaults and mean PD of the Hosmer–Lemeshow example; by grade, the binomial table's
    columns; the interval is Clopper–Pearson (0 defaults of 2 → [0, 1 − 0.025^(1/2)])."""
    y = [0, 0, 1, 1, 1, 1]
    pd_ = [0.1, 0.1, 0.5, 0.5, 0.9, 0.9]
    table = metrics.calibration_table(y, pd_, groups=3)
    assert table["group"].to_list() == [1, 2, 3]
    assert table["defaults"].to_list() == [0, 2, 2]
    assert table["mean_pd"].to_list() == pytest.approx([0.1, 0.5, 0.9])
    assert table["lower"][0] == 0.0
    assert table["upper"][0] == pytest.approx(1 - 0.025**0.5)
    by_grade = metrics.calibration_table(y, pd_, grade=["A", "A", "B", "B", "C", "C"])
    assert by_grade["group"].to_list() == ["A", "B", "C"]
    assert_frame_equal(by_grade.drop("group"), table.drop("group"))
