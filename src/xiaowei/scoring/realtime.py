"""Scoring one application in real time (实时评分): the automated decision's model step.

The batch path (:func:`xiaowei.services.scoring.score_frame`) builds Polars frames and NumPy
arrays; for one applicant that costs more than the whole decision budget (≈ 1 ms of set-up
for ≈ 300 features). :class:`RealtimeScorer` compiles a fitted scorecard once into plain
Python lists — per feature its cut points, special values, category map and points — and
scores a dictionary of features in a single pass, with the same rules as
:meth:`Scorecard.bin_index <xiaowei.scoring.scorecard.Scorecard.bin_index>`: numeric bins are
left-closed (the count of cut points at or below the value), a special value has its own bin,
a missing value (None, NaN) the missing bin, booleans are 0/1, an unseen category goes where the
binner sent it. Points, the calibrated PD, the master-scale grade and the top reason codes
(评分原因, points lost against the best bin, ties in feature order) equal the batch path's to
the bit; a parity test checks every row of a simulated feature table.

A LightGBM model has no such closed form worth re-implementing: :class:`RealtimeScorer` then
calls the model on a one-row frame (slower, still exact).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from xiaowei.core.errors import InvalidInput
from xiaowei.scoring.calibration import Calibrator, MasterScale
from xiaowei.scoring.gbm import GradientBoosting
from xiaowei.scoring.scorecard import Scorecard, score_from_pd


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason code (评分原因): the feature, its bin label, points lost against the best."""

    feature: str
    label: str
    points_lost: float
    code: str
    best_label: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "label": self.label,
            "points_lost": self.points_lost,
            "code": self.code,
            "best_label": self.best_label,
        }


@dataclass(frozen=True, slots=True)
class RowScore:
    """The model's verdict on one applicant: printed score, PD, grade and reasons."""

    score: int
    pd: float
    grade: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class _Numeric:
    name: str
    breaks: list[float]
    specials: list[float]
    n_regular: int
    points: list[int]
    labels: list[str]
    best: int
    best_label: str


@dataclass(frozen=True, slots=True)
class _Categorical:
    name: str
    mapping: dict[str, int]
    unseen_to: int
    missing: int
    points: list[int]
    labels: list[str]
    best: int
    best_label: str


def _float(value: Any, name: str) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidInput(name, f"a numeric feature, got {value!r}") from None


class RealtimeScorer:
    """A fitted model, its calibrator and master scale, ready to score one applicant at a time.

    ``identity`` names the model in decision records (name, version, sha256 of the artefact's
    manifest); it is not used for scoring.
    """

    def __init__(
        self,
        model: Scorecard | GradientBoosting,
        *,
        calibrator: Calibrator | None = None,
        master_scale: MasterScale | None = None,
        n_reasons: int = 4,
        identity: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(n_reasons, int) or n_reasons < 0:
            raise InvalidInput("n_reasons", "must be an integer >= 0")
        self.model = model
        self.calibrator = calibrator
        self.scale = master_scale or MasterScale()
        self.n_reasons = n_reasons
        self.identity = dict(identity or {})
        if calibrator is not None and calibrator.method != "isotonic":
            self._platt_a = float(calibrator.intercept_)
            self._platt_b = float(calibrator.slope_)
            self._pd_floor = float(calibrator.pd_floor)
        self._scale_inner = [float(x) for x in self.scale._inner]
        self._scale_labels = [str(x) for x in self.scale._labels]
        self._card: list[_Numeric | _Categorical] | None = None
        if isinstance(model, Scorecard):
            model._check_fitted()
            self._card = [self._compile(c) for c in model._cards]
            self.features: list[str] = list(model.features_)
            self._flatten(self._card)
        else:
            self.features = list(model.features_)

    def _flatten(self, card: list[_Numeric | _Categorical]) -> None:
        """The card as flat arrays for one-pass NumPy scoring of its numeric features: every
        cut point with its feature's position (a value's bin is the count of its feature's cut
        points at or below it, as ``bisect_right`` counts), each feature's first bin in one
        array of points, the missing bin, the best points; categorical features and numeric
        ones with special values keep the per-feature path."""
        plain = [(j, f) for j, f in enumerate(card) if isinstance(f, _Numeric) and not f.specials]
        numeric = [j for j, _ in plain]
        self._vec_idx = np.asarray(numeric, dtype=np.int64)
        self._vec_names = [f.name for _, f in plain]
        cuts = [(k, b) for k, (_, f) in enumerate(plain) for b in f.breaks]
        self._cut_owner = np.asarray([k for k, _ in cuts], dtype=np.int64)
        self._cut_value = np.asarray([b for _, b in cuts], dtype=np.float64)
        self._vec_missing = np.asarray([f.n_regular for _, f in plain], dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum([len(f.points) for f in card])[:-1]))
        self._offsets = offsets.astype(np.int64)
        self._flat_points = np.asarray([p for f in card for p in f.points], dtype=np.int64)
        self._best = np.asarray([f.best for f in card], dtype=np.int64)
        vectorised = set(numeric)
        self._slow = [j for j in range(len(card)) if j not in vectorised]

    @staticmethod
    def _compile(card: Any) -> _Numeric | _Categorical:
        points = [int(p) for p in card.points]
        labels = [str(lb) for lb in card.labels]
        best = int(card.best_points)
        # the label a reason text compares against: most points, the first bin of ties
        best_label = labels[max(range(len(points)), key=lambda b: (points[b], -b))]
        n_regular = int(card.n_regular)
        if card.kind == "numeric":
            return _Numeric(
                name=card.name,
                breaks=[float(b) for b in card.breaks],
                specials=[float(s) for s in card.specials],
                n_regular=n_regular,
                points=points,
                labels=labels,
                best=best,
                best_label=best_label,
            )
        mapping = {lv: i for i, grp in enumerate(card.groups) for lv in grp}
        for k, code in enumerate(card.specials):
            mapping[str(code)] = n_regular + k
        return _Categorical(
            name=card.name,
            mapping=mapping,
            unseen_to=int(card.unseen_to),
            missing=n_regular + len(card.specials),
            points=points,
            labels=labels,
            best=best,
            best_label=best_label,
        )

    # ----------------------------------------------------------------------------------------
    def _bin_one(self, f: _Numeric | _Categorical, value: Any) -> int:
        """One feature's bin, with the binner's rules (see the module docstring)."""
        if isinstance(f, _Numeric):
            x = _float(value, f.name)
            if x != x:  # NaN: the missing bin
                return f.n_regular + len(f.specials)
            for k, code in enumerate(f.specials):
                if x == code:
                    return f.n_regular + k
            return bisect_right(f.breaks, x)
        if value is None or (isinstance(value, float) and value != value):
            return f.missing
        text = value if isinstance(value, str) else _category_text(value)
        return f.mapping.get(text, f.unseen_to)

    def _card_bins(self, features: Mapping[str, Any]) -> npt.NDArray[np.int64]:
        """Bin of every feature of the card: numeric ones in one NumPy pass, the rest one by
        one."""
        assert self._card is not None
        get = features.get
        raw = list(map(get, self._vec_names))
        try:  # None becomes NaN, True 1.0: as _float reads them one by one
            x = np.array(raw, dtype=np.float64)
        except (TypeError, ValueError):
            x = np.array(
                [_float(v, n) for v, n in zip(raw, self._vec_names, strict=True)],
                dtype=np.float64,
            )
        counted = np.bincount(
            self._cut_owner, weights=x[self._cut_owner] >= self._cut_value, minlength=x.size
        ).astype(np.int64)
        bins = np.empty(len(self._card), dtype=np.int64)
        bins[self._vec_idx] = np.where(np.isnan(x), self._vec_missing, counted)
        for j in self._slow:
            f = self._card[j]
            bins[j] = self._bin_one(f, get(f.name))
        return bins

    def _pd(self, output: float) -> float:
        calibrator = self.calibrator
        if calibrator is not None and calibrator.method != "isotonic":
            # Platt: max(1 / (1 + e^−(a + b·s)), floor), what Calibrator.transform computes
            # with scipy's expit, in plain floats (equal to the bit; the parity test checks)
            try:
                pd = 1.0 / (1.0 + math.exp(-(self._platt_a + self._platt_b * output)))
            except OverflowError:  # e^−z beyond the largest float: expit gives 0
                pd = 0.0
            return max(pd, self._pd_floor)
        if calibrator is not None:
            return float(calibrator.transform(np.asarray([output]))[0])
        if isinstance(self.model, Scorecard):
            return float(self.model.pd_from_score(np.asarray([output]))[0])
        return 1.0 / (1.0 + math.exp(-output))

    def _grade(self, pd: float) -> str:
        if not 0.0 <= pd <= 1.0:
            raise InvalidInput("pd", "PDs must be in [0, 1]")
        return self._scale_labels[bisect_right(self._scale_inner, pd)]

    def score(self, features: Mapping[str, Any]) -> RowScore:
        """Score one applicant's features (a credit file's ``features`` or a table row)."""
        if self._card is None:
            return self._score_frame(features)
        card = self._card
        bins = self._card_bins(features)
        points = self._flat_points[self._offsets + bins]
        total = int(points.sum())
        pd = self._pd(float(total))
        reasons: list[Reason] = []
        if self.n_reasons:
            lost = self._best - points
            # the costliest features, ties in feature order (a stable sort)
            for j in np.argsort(-lost, kind="stable")[: self.n_reasons].tolist():
                if lost[j] <= 0:
                    break
                f = card[j]
                label = f.labels[int(bins[j])]
                reasons.append(
                    Reason(f.name, label, float(lost[j]), f"{f.name}:{label}", f.best_label)
                )
        return RowScore(score=total, pd=pd, grade=self._grade(pd), reasons=tuple(reasons))

    def _score_frame(self, features: Mapping[str, Any]) -> RowScore:
        model = self.model
        assert isinstance(model, GradientBoosting)
        frame = _one_row(features, self.features)
        output = float(model.decision_function(frame)[0])
        pd = self._pd(output)
        score = int(score_from_pd([pd])[0])
        reasons: list[Reason] = []
        if self.n_reasons:
            table = model.reason_code_frame(frame, self.n_reasons)
            for row in table.iter_rows(named=True):
                cost = next(
                    (float(row[k]) for k in ("contribution", "points_lost", "cost") if k in row),
                    0.0,
                )
                reasons.append(Reason(row["feature"], row["label"], cost, row["code"]))
        return RowScore(score=score, pd=pd, grade=self._grade(pd), reasons=tuple(reasons))


def _category_text(value: Any) -> str:
    """A non-string category as Polars casts it to text (ints plainly, floats with .0)."""
    return str(pl.Series([value]).cast(pl.String)[0])


def _one_row(features: Mapping[str, Any], columns: list[str]) -> pl.DataFrame:
    data: dict[str, list[Any]] = {}
    for name in columns:
        value = features.get(name)
        if isinstance(value, bool):
            value = int(value)
        elif isinstance(value, float) and value != value:
            value = None
        data[name] = [value]
    return pl.DataFrame(data, strict=False)


__all__ = ["RealtimeScorer", "Reason", "RowScore"]
