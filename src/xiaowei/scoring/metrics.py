"""Validation metrics of a credit score (模型验证指标): discrimination and calibration.

Discrimination (区分能力) — does the score rank bads above goods:

* :func:`auc` — area under the ROC curve (ROC曲线下面积 AUC), the Mann–Whitney probability that a
  random bad scores riskier than a random good, equal scores counting ½;
* :func:`gini` — Gini coefficient (基尼系数) = 2·AUC − 1 (the accuracy ratio);
* :func:`ks` — Kolmogorov–Smirnov statistic (KS值): the largest distance between the cumulative
  score distributions of the bads and of the goods, and the score where it occurs;
* :func:`gains_table` — gains and lift by decile (十分位增益表/提升度).

Calibration (校准) — are the PDs right:

* :func:`hosmer_lemeshow` — Hosmer–Lemeshow test (HL检验) over groups of predicted PD;
* :func:`binomial_test_by_grade` — one-sided binomial test per rating grade (分级二项检验) with a
  traffic light (红绿灯);
* :func:`brier` — Brier score (布里尔分数), the mean squared error of the PD.

Conventions: the target is 1 = bad (违约, the event) and 0 = good. A **score** is *higher =
riskier* by default (a PD, a log-odds of bad); scorecard points (评分卡分数) are higher = safer, so
pass ``higher_is_riskier=False`` for them. Everything is NumPy over the whole sample, sorting
once; bad input raises :class:`~xiaowei.core.errors.InvalidInput`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import stats

from xiaowei.core.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
TrafficLight = Literal["green", "yellow", "red"]

# Tasche (2003), "A traffic lights approach to PD validation" (arXiv:cond-mat/0305038), and
# BCBS Working Paper 14 (2005), "Studies on the validation of internal rating systems", §5:
# green while the one-sided p-value is at least 5 %, red below 0.1 %, yellow in between.
BINOMIAL_YELLOW_P = 0.05
BINOMIAL_RED_P = 0.001


# --------------------------------------------------------------------------- validation


def _vector(values: Any, field: str) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(field, f"not numeric: {exc}") from exc
    if array.ndim != 1:
        raise InvalidInput(field, f"must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        raise InvalidInput(field, "is empty")
    if not np.isfinite(array).all():
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise InvalidInput(field, f"{bad} missing or infinite value(s)")
    return array


def _target(y: Any, *, both_classes: bool) -> FloatArray:
    target = _vector(y, "y")
    if not np.isin(target, (0.0, 1.0)).all():
        raise InvalidInput("y", "must be 0 (good) or 1 (bad)")
    if both_classes:
        bads = int(np.count_nonzero(target))
        if bads == 0 or bads == target.size:
            only = "bads" if bads else "goods"
            raise InvalidInput("y", f"needs both goods and bads, got only {only}")
    return target


def _same_length(target: FloatArray, other: FloatArray, field: str) -> None:
    if other.size != target.size:
        raise InvalidInput(field, f"length {other.size} differs from y's {target.size}")


def _scored(
    y: Any, score: Any, *, higher_is_riskier: bool, both_classes: bool = True
) -> tuple[FloatArray, FloatArray]:
    """Target and a risk score oriented higher = riskier."""
    target = _target(y, both_classes=both_classes)
    risk = _vector(score, "score")
    _same_length(target, risk, "score")
    return target, (risk if higher_is_riskier else -risk)


def validated_sample(y: Any, score: Any) -> tuple[FloatArray, FloatArray]:
    """``y`` and ``score`` as float arrays after the checks every discrimination metric makes
    (same length, finite, y in {0, 1}, both classes present); :class:`InvalidInput` otherwise."""
    return _scored(y, score, higher_is_riskier=True)


def _probabilities(pd_: Any) -> FloatArray:
    probability = _vector(pd_, "pd")
    if (probability < 0.0).any() or (probability > 1.0).any():
        raise InvalidInput("pd", "probabilities of default must lie in [0, 1]")
    return probability


# --------------------------------------------------------------------------- discrimination


@dataclass(frozen=True, slots=True)
class _Groups:
    """Counts per distinct risk score, ascending (the one sort everything else reuses)."""

    order: IntArray  # argsort of the risk score (stable)
    values: FloatArray  # distinct risk scores, ascending
    starts: IntArray  # first sorted position of each distinct value
    bads: FloatArray
    goods: FloatArray


def _groups(target: FloatArray, risk: FloatArray) -> _Groups:
    order = np.argsort(risk, kind="stable")
    ordered = risk[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    bads = np.add.reduceat(target[order], starts)
    sizes = np.diff(np.r_[starts, ordered.size])
    return _Groups(order, ordered[starts], starts, bads, sizes - bads)


def _auc_from_groups(groups: _Groups) -> float:
    # Mann–Whitney: each good scores below every bad of a riskier group and ties with the bads
    # of its own group (half a win each).
    riskier_bads = groups.bads.sum() - np.cumsum(groups.bads)
    wins = float(np.dot(groups.goods, riskier_bads + 0.5 * groups.bads))
    return wins / float(groups.bads.sum() * groups.goods.sum())


def auc(y: Any, score: Any, *, higher_is_riskier: bool = True) -> float:
    """Area under the ROC curve (AUC): P(score of a bad is riskier than a good's) + ½ P(tie).

    The Mann–Whitney U statistic over (number of bads × number of goods), from one sort of the
    score; equal scores count ½, as the trapezoid rule over the ROC curve does. ``score`` is
    higher = riskier unless ``higher_is_riskier=False`` (scorecard points).
    """
    target, risk = _scored(y, score, higher_is_riskier=higher_is_riskier)
    return _auc_from_groups(_groups(target, risk))


def gini(y: Any, score: Any, *, higher_is_riskier: bool = True) -> float:
    """Gini coefficient (基尼系数, accuracy ratio) = 2·AUC − 1, in [−1, 1]."""
    return 2.0 * auc(y, score, higher_is_riskier=higher_is_riskier) - 1.0


@dataclass(frozen=True, slots=True)
class RocCurve:
    """ROC curve (ROC曲线) points, one per distinct score, from the riskiest cut-off down.

    ``thresholds[i]`` flags as bad every applicant at least that risky (in the caller's score
    units); the curve starts at (0, 0) with threshold +inf.
    """

    false_positive_rate: FloatArray
    true_positive_rate: FloatArray
    thresholds: FloatArray


def roc_curve(y: Any, score: Any, *, higher_is_riskier: bool = True) -> RocCurve:
    """ROC curve: share of goods (x) and of bads (y) at or above each risk cut-off."""
    target, risk = _scored(y, score, higher_is_riskier=higher_is_riskier)
    groups = _groups(target, risk)
    bads = np.r_[0.0, np.cumsum(groups.bads[::-1])] / groups.bads.sum()
    goods = np.r_[0.0, np.cumsum(groups.goods[::-1])] / groups.goods.sum()
    cut = groups.values[::-1] if higher_is_riskier else -groups.values[::-1]
    return RocCurve(goods, bads, np.r_[np.inf if higher_is_riskier else -np.inf, cut])


@dataclass(frozen=True, slots=True)
class KolmogorovSmirnov:
    """KS statistic and where it occurs.

    ``statistic`` = max over cut-offs t of |F_bad(t) − F_good(t)|, F the share with a score ≤ t
    (in the caller's units); ``score`` is the t of the maximum (the lowest such t on ties),
    ``bad_share``/``good_share`` are F_bad(t) and F_good(t) there.
    """

    statistic: float
    score: float
    bad_share: float
    good_share: float


@dataclass(frozen=True, slots=True)
class KsCurve:
    """Cumulative shares of bads and goods with a score ≤ each distinct score, ascending."""

    scores: FloatArray
    bad_share: FloatArray
    good_share: FloatArray


def ks_curve(y: Any, score: Any) -> KsCurve:
    """The empirical distribution functions of the bads' and the goods' scores."""
    target, values = _scored(y, score, higher_is_riskier=True)
    groups = _groups(target, values)
    return KsCurve(
        groups.values,
        np.cumsum(groups.bads) / groups.bads.sum(),
        np.cumsum(groups.goods) / groups.goods.sum(),
    )


def ks(y: Any, score: Any) -> KolmogorovSmirnov:
    """Kolmogorov–Smirnov statistic (KS值) between the scores of bads and of goods, in [0, 1].

    The two-sample KS statistic (as :func:`scipy.stats.ks_2samp`), so it does not depend on the
    score's direction: points and PDs give the same KS.
    """
    curve = ks_curve(y, score)
    gap = np.abs(curve.bad_share - curve.good_share)
    at = int(np.argmax(gap))
    return KolmogorovSmirnov(
        float(gap[at]),
        float(curve.scores[at]),
        float(curve.bad_share[at]),
        float(curve.good_share[at]),
    )


def _risk_groups(starts: IntArray, sizes_total: int, groups: int) -> IntArray:
    """Group (0-based, riskiest first) of each distinct value, ties kept together.

    Rows are ranked riskiest first; row at rank r nominally belongs to group ⌊r·groups / n⌋, and a
    whole tie group takes the group of its first (riskiest-ranked) row.
    """
    return (starts * groups) // sizes_total


def gains_table(
    y: Any, score: Any, *, groups: int = 10, higher_is_riskier: bool = True
) -> pl.DataFrame:
    """Gains and lift by decile (十分位增益表), riskiest decile first.

    Rows are ranked riskiest first and row r (0-based) falls in decile ⌊r·groups/n⌋ + 1, except
    that **equal scores always share a decile**: a tie group goes whole to the decile of its
    riskiest-ranked row. Deciles are therefore of equal size up to ties, and a decile swallowed
    by a large tie group is absent (the table can have fewer than ``groups`` rows).

    Columns: ``decile``; ``min_score``/``max_score`` (caller's units); ``count``, ``bads``,
    ``goods``; ``bad_rate`` (坏账率); ``cum_count_share``; ``cum_bad_capture`` — share of all bads
    in this and the riskier deciles (累计坏客户捕获率); ``lift`` (提升度) = bad rate / overall bad
    rate; ``cum_lift`` = cumulative bad rate / overall bad rate; ``ks`` = cumulative share of bads
    − cumulative share of goods down to this decile.
    """
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise InvalidInput("groups", f"must be a positive integer, got {groups!r}")
    target, risk = _scored(y, score, higher_is_riskier=higher_is_riskier)
    # Riskiest first: group the negated risk ascending, so the one sort serves the ranking.
    ranked = _groups(target, -risk)
    decile = _risk_groups(ranked.starts, target.size, groups)
    values = -ranked.values if higher_is_riskier else ranked.values
    frame = (
        pl.DataFrame(
            {
                "decile": decile + 1,
                "score": values,
                "bads": ranked.bads,
                "goods": ranked.goods,
            }
        )
        .group_by("decile", maintain_order=True)
        .agg(
            pl.col("score").min().alias("min_score"),
            pl.col("score").max().alias("max_score"),
            (pl.col("bads").sum() + pl.col("goods").sum()).cast(pl.Int64).alias("count"),
            pl.col("bads").sum().cast(pl.Int64),
            pl.col("goods").sum().cast(pl.Int64),
        )
    )
    total_bads = float(ranked.bads.sum())
    total_goods = float(ranked.goods.sum())
    overall = total_bads / target.size
    return frame.with_columns(
        pl.col("decile").cast(pl.Int64),
        (pl.col("bads") / pl.col("count")).alias("bad_rate"),
        (pl.col("count").cum_sum() / target.size).alias("cum_count_share"),
        (pl.col("bads").cum_sum() / total_bads).alias("cum_bad_capture"),
        (pl.col("bads") / pl.col("count") / overall).alias("lift"),
        (pl.col("bads").cum_sum() / pl.col("count").cum_sum() / overall).alias("cum_lift"),
        (pl.col("bads").cum_sum() / total_bads - pl.col("goods").cum_sum() / total_goods).alias(
            "ks"
        ),
    )


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True, slots=True)
class HosmerLemeshow:
    """Hosmer–Lemeshow test: statistic, degrees of freedom (groups − 2), p-value, and the
    per-group table (``group``, ``count``, ``defaults``, ``expected``, ``mean_pd``)."""

    statistic: float
    df: int
    p_value: float
    table: pl.DataFrame


def hosmer_lemeshow(y: Any, pd: Any, *, groups: int = 10) -> HosmerLemeshow:
    """Hosmer–Lemeshow goodness-of-fit test (HL检验) of the PDs over groups of predicted risk.

    Rows are split into ``groups`` groups of (near) equal size by predicted PD, with the same tie
    rule as :func:`gains_table` (equal PDs share a group, so a master-scale PD with few distinct
    values gives fewer groups). With O_g observed defaults, E_g = Σ PD the expected ones and n_g
    the rows of group g::

        HL = Σ_g (O_g − E_g)² / (E_g (1 − E_g / n_g))

    compared with χ² on (number of non-empty groups − 2) degrees of freedom (Hosmer &
    Lemeshow, *Applied Logistic Regression*, 2nd ed. 2000, §5.2.2); a small p-value rejects the
    calibration. A group with E_g = 0 or E_g = n_g (all PDs 0 or 1) makes the statistic
    undefined and raises :class:`InvalidInput`.
    """
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 3:
        raise InvalidInput("groups", f"must be an integer ≥ 3 (df = groups − 2), got {groups!r}")
    target = _target(y, both_classes=False)
    probability = _probabilities(pd)
    _same_length(target, probability, "pd")
    order = np.argsort(probability, kind="stable")
    ordered = probability[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    group_of_value = _risk_groups(starts, ordered.size, groups)
    group = np.repeat(group_of_value, np.diff(np.r_[starts, ordered.size]))
    count = np.bincount(group).astype(np.float64)
    defaults = np.bincount(group, weights=target[order])
    expected = np.bincount(group, weights=ordered)
    keep = count > 0
    count, defaults, expected = count[keep], defaults[keep], expected[keep]
    variance = expected * (1.0 - expected / count)
    if (variance <= 0.0).any():
        raise InvalidInput("pd", "a group has all PDs 0 or all 1: the HL statistic is undefined")
    if count.size < 3:
        raise InvalidInput("pd", f"only {count.size} distinct PD group(s); HL needs at least 3")
    statistic = float(np.sum((defaults - expected) ** 2 / variance))
    df = int(count.size - 2)
    table = pl.DataFrame(
        {
            "group": np.arange(1, count.size + 1, dtype=np.int64),
            "count": count.astype(np.int64),
            "defaults": defaults.astype(np.int64),
            "expected": expected,
            "mean_pd": expected / count,
        }
    )
    return HosmerLemeshow(statistic, df, float(stats.chi2.sf(statistic, df)), table)


def binomial_light(
    p_value: Any,
    *,
    yellow_p: float = BINOMIAL_YELLOW_P,
    red_p: float = BINOMIAL_RED_P,
) -> npt.NDArray[np.str_]:
    """Traffic light of a one-sided binomial p-value: green if p ≥ ``yellow_p`` (5 %), red if
    p < ``red_p`` (0.1 %), yellow in between (Tasche 2003; BCBS WP 14, 2005)."""
    if not 0.0 < red_p < yellow_p < 1.0:
        raise InvalidInput("yellow_p", f"need 0 < red_p < yellow_p < 1, got {red_p}, {yellow_p}")
    values = np.asarray(p_value, dtype=np.float64)
    return np.where(values < red_p, "red", np.where(values < yellow_p, "yellow", "green"))


def binomial_test_by_grade(
    y: Any,
    pd: Any,
    grade: Any,
    *,
    yellow_p: float = BINOMIAL_YELLOW_P,
    red_p: float = BINOMIAL_RED_P,
) -> pl.DataFrame:
    """One-sided binomial test per rating grade (分级二项检验): are there more defaults than the
    grade's PD predicts?

    Per grade g with n_g rows, d_g observed defaults and mean PD p̄_g, the p-value is
    P(X ≥ d_g) for X ~ Binomial(n_g, p̄_g) — :func:`scipy.stats.binomtest` with
    ``alternative="greater"``, computed for all grades at once as ``binom.sf(d − 1, n, p̄)``. The
    test assumes independent defaults, so it is too strict under default correlation (BCBS WP 14,
    2005): read yellow as "look", red as "act".

    Columns: ``grade`` (sorted), ``count``, ``defaults``, ``default_rate``, ``mean_pd``,
    ``p_value``, ``light`` (green/yellow/red at ``yellow_p`` = 0.05 and ``red_p`` = 0.001, see
    :func:`binomial_light`).
    """
    target = _target(y, both_classes=False)
    probability = _probabilities(pd)
    _same_length(target, probability, "pd")
    grades = pl.Series("grade", grade, strict=False)
    if grades.len() != target.size:
        raise InvalidInput("grade", f"length {grades.len()} differs from y's {target.size}")
    if grades.null_count():
        raise InvalidInput("grade", f"{grades.null_count()} missing grade(s)")
    if grades.dtype.is_float() and grades.is_nan().any():
        raise InvalidInput("grade", "NaN grade(s)")
    table = (
        pl.DataFrame({"grade": grades, "y": target, "pd": probability})
        .group_by("grade")
        .agg(
            pl.len().cast(pl.Int64).alias("count"),
            pl.col("y").sum().cast(pl.Int64).alias("defaults"),
            pl.col("pd").mean().alias("mean_pd"),
        )
        .sort("grade")
    )
    count = table["count"].to_numpy()
    defaults = table["defaults"].to_numpy()
    mean_pd = table["mean_pd"].to_numpy()
    p_value = np.where(defaults > 0, stats.binom.sf(defaults - 1, count, mean_pd), 1.0)
    return table.select(
        "grade",
        "count",
        "defaults",
        (pl.col("defaults") / pl.col("count")).alias("default_rate"),
        "mean_pd",
        pl.Series("p_value", p_value, dtype=pl.Float64),
        pl.Series("light", binomial_light(p_value, yellow_p=yellow_p, red_p=red_p)),
    )


def brier(y: Any, pd: Any) -> float:
    """Brier score (布里尔分数) = mean (PD − y)², in [0, 1]; lower is better."""
    target = _target(y, both_classes=False)
    probability = _probabilities(pd)
    _same_length(target, probability, "pd")
    return float(np.mean((probability - target) ** 2))


def observed_rate_interval(
    defaults: Any, count: Any, *, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Clopper–Pearson (exact binomial) interval of an observed default rate d / n, per group.

    The same interval as ``scipy.stats.binomtest(d, n).proportion_ci(method="exact")``, from the
    beta quantiles for all groups at once; used by the calibration chart.
    """
    if not 0.0 < confidence < 1.0:
        raise InvalidInput("confidence", f"must lie in (0, 1), got {confidence}")
    d = np.asarray(defaults, dtype=np.float64)
    n = np.asarray(count, dtype=np.float64)
    if d.shape != n.shape or (n <= 0).any() or (d < 0).any() or (d > n).any():
        raise InvalidInput("defaults", "need 0 ≤ defaults ≤ count and count > 0 per group")
    alpha = 1.0 - confidence
    with np.errstate(invalid="ignore"):
        lower = np.where(d > 0, stats.beta.ppf(alpha / 2, d, n - d + 1), 0.0)
        upper = np.where(d < n, stats.beta.ppf(1 - alpha / 2, d + 1, n - d), 1.0)
    return lower.astype(np.float64), upper.astype(np.float64)


def calibration_table(
    y: Any,
    pd: Any,
    *,
    grade: Any = None,
    groups: int = 10,
    confidence: float = 0.95,
) -> pl.DataFrame:
    """Predicted vs observed default rate per grade, or per PD decile (校准表).

    With ``grade`` the groups are the grades (sorted); without, ``groups`` groups of predicted PD,
    lowest first, with the tie rule of :func:`gains_table` (equal PDs share a group). Columns:
    ``group`` (the grade, or the decile 1 … from the safest), ``count``, ``defaults``,
    ``default_rate``, ``mean_pd``, and ``lower``/``upper`` — the Clopper–Pearson interval of the
    observed rate at ``confidence`` (:func:`observed_rate_interval`).
    """
    target = _target(y, both_classes=False)
    probability = _probabilities(pd)
    _same_length(target, probability, "pd")
    if grade is not None:
        table = binomial_test_by_grade(target, probability, grade).rename({"grade": "group"})
    else:
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise InvalidInput("groups", f"must be a positive integer, got {groups!r}")
        ranked = _groups(target, probability)
        decile = _risk_groups(ranked.starts, target.size, groups) + 1
        table = (
            pl.DataFrame(
                {
                    "group": decile.astype(np.int64),
                    "bads": ranked.bads,
                    "count": ranked.bads + ranked.goods,
                    "expected": ranked.values * (ranked.bads + ranked.goods),
                }
            )
            .group_by("group", maintain_order=True)
            .agg(
                pl.col("count").sum().cast(pl.Int64),
                pl.col("bads").sum().cast(pl.Int64).alias("defaults"),
                pl.col("expected").sum(),
            )
            .select(
                "group",
                "count",
                "defaults",
                (pl.col("defaults") / pl.col("count")).alias("default_rate"),
                (pl.col("expected") / pl.col("count")).alias("mean_pd"),
            )
        )
    lower, upper = observed_rate_interval(
        table["defaults"].to_numpy(), table["count"].to_numpy(), confidence=confidence
    )
    return table.select(
        "group",
        "count",
        "defaults",
        "default_rate",
        "mean_pd",
        pl.Series("lower", lower),
        pl.Series("upper", upper),
    )
