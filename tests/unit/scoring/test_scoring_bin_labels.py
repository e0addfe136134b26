"""One accessor for a model's bin labels (分箱标签) and the per-row label view built on it, and the
two generated forms (file and PNG bytes) of every score chart."""

from __future__ import annotations

import functools
import inspect
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sklearn.exceptions import NotFittedError

from xiaowei.reports import scoring_charts
from xiaowei.scoring.datasets import synthetic
from xiaowei.scoring.gbm import GradientBoosting
from xiaowei.scoring.scorecard import Scorecard
from xiaowei.scoring.tables import bin_label_frame
from xiaowei.services import scoring as scoring_service

AGE_LABELS = ["(-inf, 30)", "[30, 45)", "[45, inf)", "missing"]
SECTOR_LABELS = ["food, retail", "trade (+unseen)", "special none", "missing"]


def _bins(labels: list[str], kinds: list[str], points: list[int]) -> list[dict[str, Any]]:
    return [
        {"label": label, "kind": kind, "count": 1, "woe": 0.0, "points": p, "points_raw": p}
        for label, kind, p in zip(labels, kinds, points, strict=True)
    ]


@functools.cache
def _card() -> Scorecard:
    """A numeric feature (breaks 30, 45) and a categorical one (two groups, unseen levels to
    the second, a special code "none")."""
    age = {
        "name": "age_years",
        "kind": "numeric",
        "coefficient": -1.0,
        "breaks": [30.0, 45.0],
        "specials": [],
        "bins": _bins(AGE_LABELS, ["regular"] * 3 + ["missing"], [20, 35, 50, 25]),
    }
    sector = {
        "name": "sector",
        "kind": "categorical",
        "coefficient": -1.0,
        "groups": [["food", "retail"], ["trade"]],
        "specials": ["none"],
        "unseen_to": 1,
        "bins": _bins(SECTOR_LABELS, ["regular", "regular", "special", "missing"], [30, 10, 5, 0]),
    }
    doc = {
        "schema": "xiaowei.scorecard",
        "schema_version": 1,
        "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20, "factor": 28.85, "offset": 487},
        "intercept": -2.0,
        "columns": ["age_years", "sector"],
        "features": [age, sector],
    }
    return Scorecard.from_json(json.dumps(doc))


def test_scorecard_bin_labels_are_its_cards_labels() -> None:
    card = _card()
    assert card.bin_labels() == {"age_years": AGE_LABELS, "sector": SECTOR_LABELS}
    table = card.points_table()
    for feature, labels in card.bin_labels().items():
        assert table.filter(pl.col("feature") == feature)["label"].to_list() == labels
    with pytest.raises(NotFittedError):
        Scorecard().bin_labels()


def test_label_frame_worked_example() -> None:
    """Left-closed bins, missing values, an unseen level and a special code, by hand."""
    rows = pl.DataFrame(
        {
            "age_years": [25.0, 30.0, 44.9, 45.0, None],
            "sector": ["retail", "trade", "mining", "none", None],
            "other": [1, 2, 3, 4, 5],
        }
    )
    expected = pl.DataFrame(
        {
            "age_years": ["(-inf, 30)", "[30, 45)", "[30, 45)", "[45, inf)", "missing"],
            "sector": [
                "food, retail",
                "trade (+unseen)",
                "trade (+unseen)",
                "special none",
                "missing",
            ],
        }
    )
    assert_frame_equal(bin_label_frame(_card(), rows), expected)
    # the monitoring service uses the same function
    assert scoring_service.bin_labels is bin_label_frame


def test_boosting_bin_labels_follow_its_bin_specs() -> None:
    frame, y = synthetic(800, 5)
    frame = frame.select("mono_01", "noise_01", "cat_1")
    model = GradientBoosting(n_estimators=5, early_stopping_rounds=None, n_jobs=1).fit(frame, y)
    labels = model.bin_labels()
    assert list(labels) == model.features_
    for feature in model.features_:
        assert labels[feature] == list(model.bin_specs_[feature]["labels"])
    loaded = GradientBoosting.from_json(model.to_json())
    assert loaded.bin_labels() == labels
    shown = bin_label_frame(loaded, frame)
    index = model.bin_index(frame)
    for j, feature in enumerate(model.features_):
        assert shown[feature].to_list() == [labels[feature][k] for k in index[:, j]]
    reasons = model.reason_code_frame(frame, 2)
    assert reasons.height > 0
    for feature, bin_, label in reasons.select("feature", "bin", "label").iter_rows():
        assert labels[feature][bin_] == label


PAIRS = ["roc", "ks", "score_distribution", "calibration", "gains", "psi", "binning"]


@pytest.mark.parametrize("name", PAIRS)
def test_each_chart_has_a_file_and_a_bytes_form_of_one_signature(name: str) -> None:
    to_path = getattr(scoring_charts, f"{name}_chart")
    to_png = getattr(scoring_charts, f"{name}_chart_png")
    assert (to_path.__name__, to_png.__name__) == (f"{name}_chart", f"{name}_chart_png")
    assert "saved as PNG at ``path``" in (to_path.__doc__ or "").replace("\n    ", " ")
    assert to_png.__doc__ == f":func:`{name}_chart` as PNG bytes."
    with_path = list(inspect.signature(to_path).parameters.values())
    without = list(inspect.signature(to_png).parameters.values())
    data = [p for p in without if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    assert with_path[len(data)].name == "path"
    assert with_path[: len(data)] + with_path[len(data) + 1 :] == without
    lang = inspect.signature(to_png).parameters["lang"]
    assert (lang.kind, lang.default) == (inspect.Parameter.KEYWORD_ONLY, None)


def test_generated_forms_bind_like_plain_functions(tmp_path: Path) -> None:
    table = pl.DataFrame(
        {"label": ["(-inf, 1)", "[1, inf)"], "share": [0.6, 0.4], "event_rate": [0.05, 0.1]}
    )
    target = tmp_path / "charts" / "bins.png"
    with pytest.raises(TypeError, match="path"):
        scoring_charts.binning_chart(table, lang="en")
    with pytest.raises(TypeError, match="colour"):
        scoring_charts.binning_chart(table, target, colour="red")
    with pytest.raises(TypeError):
        scoring_charts.binning_chart_png(table, "en")  # lang is keyword-only
    assert not target.parent.exists()  # a refused call writes nothing
    written = scoring_charts.binning_chart(table, path=target, lang="en", title="x")
    assert written == target
    assert target.read_bytes() == scoring_charts.binning_chart_png(table, lang="en", title="x")
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
