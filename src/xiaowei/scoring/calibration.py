"""PD calibration (违约概率校准) and the master scale (主标尺) of rating grades.

* :class:`Calibrator` maps a model output on a **holdout** sample — a scorecard score or a
  model's raw probability of bad — to a probability of default (违约概率 PD), for either model
  kind:

  - ``method="isotonic"`` (保序回归): the non-decreasing (or non-increasing) step function
    closest in squared error to the 0/1 outcomes (pool-adjacent-violators; scikit-learn's
    ``IsotonicRegression``, values outside the fitted range clipped to its ends). The
    direction is ``increasing="auto"`` by default (the sign of the Spearman correlation between
    score and outcome, ties → increasing: a probability of bad increases with risk, a
    scorecard score decreases).
  - ``method="platt"`` (Platt 1999, "Probabilistic outputs for support vector machines"): a
    logistic fit PD = 1 / (1 + exp(−(a + b·s))) by maximum likelihood (Newton–Raphson on the
    standardised score, unpenalised; Platt's A = −b, B = −a). With ``prior_correction=True``
    the targets are Platt's smoothed ones, (N₊ + 1)/(N₊ + 2) for bads and 1/(N₋ + 2) for goods,
    which also keeps the fit finite on perfectly separated data (where the unpenalised maximum
    likelihood has no finite solution and the fit stops at ``max_iter``).

  The PD is floored at ``pd_floor`` (default 0.0003 = 0.03 %, the regulatory PD floor of
  Basel II §285 / CRR Art. 160(1)), so no applicant gets a PD of zero from an all-good step.

* :class:`MasterScale` maps a PD to a grade (评级). Grades are given by their ``n + 1`` edges
  (default 11 edges geometric from 0.03 % to 30 %: 10 grades, each PD range about twice the
  one before, ratio 1000^(1/10) ≈ 1.995). Grade k covers [edge_{k−1}, edge_k): **a PD exactly on
  a boundary goes to the upper grade** (left-closed, like the scorecard's bins). PDs below the
  first edge fall in grade 1 and PDs at or above the last edge in the last grade, so the grade
  table reports grade 1 from 0 and the last grade up to 1; the midpoint PD of a grade is the
  geometric mean of its two edges (the nominal first and last edges for the end grades).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Self

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import special, stats
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.isotonic import IsotonicRegression

from xiaowei.core.errors import InvalidInput

__all__ = ["DEFAULT_BOUNDARIES", "Calibrator", "MasterScale", "platt_fit"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_BOUNDARIES: tuple[float, ...] = tuple(float(v) for v in np.geomspace(0.0003, 0.30, 11))
"""Default master-scale edges: 10 grades geometric from 0.03 % to 30 %."""


def _score_vector(values: Any, field: str) -> FloatArray:
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InvalidInput(field, f"expected one column of scores, got shape {arr.shape}")
    try:
        out = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(field, "scores must be numbers") from exc
    if not np.isfinite(out).all():
        raise InvalidInput(field, "scores must be finite (no NaN or infinity)")
    return out


def _binary_target(y: Any, n: int) -> FloatArray:
    if y is None:
        raise InvalidInput("y", "requires y to be passed, but the target y is None")
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise InvalidInput("y", f"the target must be 1-D with {n} rows, got shape {arr.shape}")
    try:
        out = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("y", "the target must be 0 (good) / 1 (bad)") from exc
    if not ((out == 0.0) | (out == 1.0)).all():
        raise InvalidInput("y", "the target must be 0 (good) / 1 (bad), without missing values")
    if out.min() == out.max():
        raise InvalidInput("y", "calibration needs both goods (0) and bads (1)")
    return out


def platt_fit(
    score: FloatArray,
    target: FloatArray,
    *,
    max_iter: int = 100,
    tol: float = 1e-12,
) -> tuple[float, float]:
    """Maximum-likelihood logistic fit of ``target`` (in [0, 1]) on one score: (a, b).

    Newton–Raphson with step halving on the standardised score (so a score of 600 ± 50 and a
    probability are equally well conditioned), then mapped back to the raw scale.
    """
    centre = float(score.mean())
    spread = float(score.std()) or 1.0
    z = (score - centre) / spread
    rate = float(np.clip(target.mean(), 1e-12, 1 - 1e-12))
    theta = np.array([math.log(rate / (1 - rate)), 0.0])
    design = np.column_stack((np.ones_like(z), z))

    def loglik(t: FloatArray) -> float:
        eta = design @ t
        # log(1 + e^η) computed stably
        return float(np.sum(target * eta - np.logaddexp(0.0, eta)))

    current = loglik(theta)
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-(design @ theta)))
        gradient = design.T @ (target - p)
        weight = p * (1.0 - p)
        hessian = (design * weight[:, None]).T @ design
        try:
            step = np.linalg.solve(hessian + 1e-12 * np.eye(2), gradient)
        except np.linalg.LinAlgError:
            break
        scale = 1.0
        while scale > 1e-8:
            candidate = theta + scale * step
            value = loglik(candidate)
            if value >= current - 1e-15:
                break
            scale /= 2.0
        improvement = value - current
        theta, current = candidate, value
        if abs(improvement) < tol * (1.0 + abs(current)) and np.max(np.abs(scale * step)) < 1e-10:
            break
    slope = float(theta[1] / spread)
    intercept = float(theta[0] - theta[1] * centre / spread)
    return intercept, slope


class Calibrator(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Score or raw probability → calibrated PD (PD校准); see the module docstring.

    Parameters (defaults documented): ``method="isotonic"`` | ``"platt"``;
    ``increasing="auto"`` | ``True`` | ``False`` (isotonic direction);
    ``prior_correction=False`` (Platt's smoothed targets); ``pd_floor=0.0003`` (lowest PD
    returned, 0.03 %); ``max_iter=100`` (Platt's Newton iterations).

    Fit on a holdout: ``fit(score, y)`` with ``score`` 1-D (or one column) and ``y`` 0/1
    (1 = bad). Learned: ``isotonic_``, ``thresholds_`` (its step points) and ``increasing_``
    (isotonic) or ``intercept_`` / ``slope_`` (PD = 1/(1+exp(−(intercept_ + slope_·score))); Platt),
    ``n_features_in_`` = 1.
    """

    def __init__(
        self,
        method: Literal["isotonic", "platt"] = "isotonic",
        *,
        increasing: bool | Literal["auto"] = "auto",
        prior_correction: bool = False,
        pd_floor: float = 0.0003,
        max_iter: int = 100,
    ) -> None:
        self.method = method
        self.increasing = increasing
        self.prior_correction = prior_correction
        self.pd_floor = pd_floor
        self.max_iter = max_iter

    isotonic_: IsotonicRegression
    thresholds_: tuple[FloatArray, FloatArray]
    increasing_: bool
    intercept_: float
    slope_: float
    n_features_in_: int

    def fit(self, score: Any, y: Any) -> Self:
        """Learn the map from the holdout's scores to its outcomes."""
        if self.method not in ("isotonic", "platt"):
            raise InvalidInput("method", "must be 'isotonic' or 'platt'")
        if self.increasing not in ("auto", True, False):
            raise InvalidInput("increasing", "must be 'auto', True or False")
        if not (isinstance(self.pd_floor, float | int) and 0.0 <= self.pd_floor < 1.0):
            raise InvalidInput("pd_floor", "must be in [0, 1)")
        if not isinstance(self.max_iter, int) or self.max_iter < 1:
            raise InvalidInput("max_iter", "must be an integer >= 1")
        s = _score_vector(score, "score")
        if s.shape[0] == 0:
            raise InvalidInput("score", "no rows to fit")
        target = _binary_target(y, s.shape[0])
        self.n_features_in_ = 1
        if self.method == "isotonic":
            increasing = self.increasing
            if increasing == "auto":
                # the sign of Spearman's rank correlation (scikit-learn's own "auto" also
                # warns on weak samples; the direction here is a plain rule)
                rho = np.corrcoef(stats.rankdata(s), target)[0, 1] if s.std() > 0 else 1.0
                increasing = bool(rho >= 0.0)
            self.isotonic_ = IsotonicRegression(
                increasing=increasing, out_of_bounds="clip", y_min=0.0, y_max=1.0
            ).fit(s, target)
            self.increasing_ = bool(increasing)
            self.thresholds_ = (
                np.asarray(self.isotonic_.X_thresholds_, dtype=np.float64),
                np.asarray(self.isotonic_.y_thresholds_, dtype=np.float64),
            )
        else:
            if self.prior_correction:
                n_bad = target.sum()
                n_good = target.shape[0] - n_bad
                target = np.where(target == 1.0, (n_bad + 1) / (n_bad + 2), 1 / (n_good + 2))
            self.intercept_, self.slope_ = platt_fit(s, target, max_iter=int(self.max_iter))
        return self

    def transform(self, score: Any) -> FloatArray:
        """Calibrated PD of each score, floored at ``pd_floor``."""
        if not hasattr(self, "n_features_in_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("Calibrator is not fitted: call fit(score, y) first")
        s = _score_vector(score, "score")
        if self.method == "isotonic":
            # linear interpolation between the fitted thresholds, clipped at both ends: what
            # IsotonicRegression.predict does with out_of_bounds="clip", computed here from
            # the stored thresholds so that a calibrator read back from JSON gives the same PDs
            pd_ = np.interp(s, self.thresholds_[0], self.thresholds_[1])
        else:
            pd_ = special.expit(self.intercept_ + self.slope_ * s)  # no overflow at extremes
        return np.maximum(pd_, float(self.pd_floor))

    def fit_transform(self, score: Any, y: Any = None, **fit_params: Any) -> FloatArray:
        """``fit(score, y)`` then ``transform(score)``."""
        return self.fit(score, y).transform(score)

    def to_dict(self) -> dict[str, Any]:
        """The fitted map as JSON-able data (floats written with ``repr`` precision, so
        :meth:`from_dict` gives back identical PDs)."""
        if not hasattr(self, "n_features_in_"):
            raise InvalidInput("calibrator", "not fitted: nothing to save")
        out: dict[str, Any] = {
            "method": self.method,
            "pd_floor": float(self.pd_floor),
            "prior_correction": bool(self.prior_correction),
        }
        if self.method == "isotonic":
            out["increasing"] = self.increasing_
            out["x"] = [float(v) for v in self.thresholds_[0]]
            out["pd"] = [float(v) for v in self.thresholds_[1]]
        else:
            out["intercept"] = float(self.intercept_)
            out["slope"] = float(self.slope_)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibrator:
        """Inverse of :meth:`to_dict` (the isotonic thresholds, or Platt's two numbers)."""
        try:
            method = data["method"]
            cal = cls(
                method=method,
                pd_floor=float(data["pd_floor"]),
                prior_correction=bool(data.get("prior_correction", False)),
            )
            if method == "isotonic":
                x = np.asarray(data["x"], dtype=np.float64)
                p = np.asarray(data["pd"], dtype=np.float64)
                if x.ndim != 1 or x.shape != p.shape or x.shape[0] == 0:
                    raise InvalidInput("calibration", "x and pd must be equal-length lists")
                if (np.diff(x) < 0).any() or ((p < 0) | (p > 1)).any():
                    raise InvalidInput("calibration", "x must be sorted and pd in [0, 1]")
                cal.increasing_ = bool(data["increasing"])
                cal.thresholds_ = (x, p)
            elif method == "platt":
                cal.intercept_ = float(data["intercept"])
                cal.slope_ = float(data["slope"])
            else:
                raise InvalidInput("calibration.method", f"unknown method {method!r}")
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput("calibration", f"malformed calibration: {exc}") from exc
        cal.n_features_in_ = 1
        return cal


class MasterScale:
    """PD → rating grade (主标尺 PD→评级); see the module docstring.

    ``boundaries`` — the ``n + 1`` strictly increasing PD edges of ``n`` grades, in (0, 1]
    (default :data:`DEFAULT_BOUNDARIES`: 10 grades geometric from 0.03 % to 30 %); ``labels`` —
    the grade names (default ``"1"``…``"n"``, 1 = safest). A configuration, not a fitted
    estimator: it is checked when built.
    """

    def __init__(
        self,
        boundaries: Sequence[float] = DEFAULT_BOUNDARIES,
        labels: Sequence[str] | None = None,
    ) -> None:
        try:
            arr = np.asarray(list(boundaries), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInput("boundaries", "boundaries must be PDs (numbers)") from exc
        if arr.ndim != 1 or arr.shape[0] < 2:
            raise InvalidInput("boundaries", "at least two edges (one grade) are needed")
        if not np.isfinite(arr).all() or arr[0] <= 0.0 or arr[-1] > 1.0:
            raise InvalidInput("boundaries", "edges must be PDs in (0, 1]")
        if not (np.diff(arr) > 0).all():
            raise InvalidInput("boundaries", "edges must be strictly increasing")
        n_grades = arr.shape[0] - 1
        names = [str(i + 1) for i in range(n_grades)] if labels is None else list(labels)
        if len(names) != n_grades:
            raise InvalidInput("labels", f"{n_grades} grades need {n_grades} labels")
        if len(set(names)) != n_grades:
            raise InvalidInput("labels", "grade labels must be distinct")
        self.boundaries = tuple(float(v) for v in arr)
        self.labels = tuple(str(v) for v in names)
        self._edges = arr
        self._inner = arr[1:-1]
        self._labels = np.asarray(self.labels)

    @property
    def n_grades(self) -> int:
        """Number of grades."""
        return len(self.labels)

    def grade_index(self, pd: Any) -> IntArray:
        """0-based grade of each PD (np.searchsorted; a PD on a boundary → the upper grade)."""
        try:
            values = np.asarray(
                pd.to_numpy() if isinstance(pd, pl.Series) else pd, dtype=np.float64
            )
        except (TypeError, ValueError) as exc:
            raise InvalidInput("pd", "PDs must be numbers") from exc
        if np.isnan(values).any() or (values < 0.0).any() or (values > 1.0).any():
            raise InvalidInput("pd", "PDs must be in [0, 1], without missing values")
        return np.searchsorted(self._inner, values, side="right").astype(np.int64)

    def grade(self, pd: Any) -> npt.NDArray[np.str_]:
        """Grade label of each PD."""
        out: npt.NDArray[np.str_] = self._labels[self.grade_index(pd)]
        return out

    def midpoint(self, pd: Any) -> FloatArray:
        """Midpoint PD of each PD's grade (the grade's PD for decisions and pricing)."""
        mid = np.sqrt(self._edges[:-1] * self._edges[1:])
        out: FloatArray = mid[self.grade_index(pd)]
        return out

    def table(self) -> pl.DataFrame:
        """Grade table: grade, pd_low (inclusive), pd_high (exclusive; 1 for the last grade,
        inclusive), pd_mid (geometric mean of the grade's edges)."""
        low = self._edges[:-1].copy()
        high = self._edges[1:].copy()
        mid = np.sqrt(low * high)
        low[0], high[-1] = 0.0, 1.0
        return pl.DataFrame(
            {"grade": list(self.labels), "pd_low": low, "pd_high": high, "pd_mid": mid}
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able configuration."""
        return {"boundaries": list(self.boundaries), "labels": list(self.labels)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MasterScale:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(boundaries=data["boundaries"], labels=data["labels"])
        except (KeyError, TypeError) as exc:
            raise InvalidInput("master_scale", f"expected boundaries and labels: {exc}") from exc

    def __repr__(self) -> str:
        return f"MasterScale(boundaries={list(self.boundaries)!r}, labels={list(self.labels)!r})"
