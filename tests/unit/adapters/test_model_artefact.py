"""Model artefacts: saved and loaded back to identical scores; tampering refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from xiaowei.adapters.model_artefact import FORMAT, data_hash, load_model, save_model
from xiaowei.core.errors import InvalidInput
from xiaowei.scoring.datasets import synthetic
from xiaowei.scoring.gbm import GradientBoosting
from xiaowei.scoring.scorecard import Scorecard


@pytest.fixture(scope="module")
def data() -> tuple[pl.DataFrame, np.ndarray]:
    frame, y = synthetic(6_000, 3)
    return frame, np.asarray(y)


def test_scorecard_round_trip_is_bit_for_bit(
    data: tuple[pl.DataFrame, np.ndarray], tmp_path: Path
) -> None:
    frame, y = data
    card = Scorecard().fit(frame, y)
    target = tmp_path / "models" / "card"
    manifest = save_model(
        card, target, name="sme-card", training=frame, training_target=y, metrics={"auc": 0.8}
    )
    assert manifest["format"] == FORMAT
    assert manifest["kind"] == "scorecard"
    assert manifest["features"] == card.features_
    assert manifest["training_data"] == {"rows": frame.height, "sha256": data_hash(frame, y)}
    assert set(manifest["files"]) == {"scorecard.json"}
    loaded = load_model(target)
    assert loaded.manifest == json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert isinstance(loaded.model, Scorecard)
    np.testing.assert_array_equal(loaded.model.score(frame), card.score(frame))
    np.testing.assert_array_equal(loaded.model.predict_proba(frame), card.predict_proba(frame))
    assert sorted(p.name for p in target.parent.iterdir()) == ["card"]


def test_lightgbm_round_trip_uses_the_text_format(
    data: tuple[pl.DataFrame, np.ndarray], tmp_path: Path
) -> None:
    frame, y = data
    model = GradientBoosting(n_estimators=30, n_jobs=1).fit(frame, y)
    target = tmp_path / "gbm"
    save_model(model, target, name="sme-gbm", version=2)
    assert (target / "model.txt").read_text(encoding="utf-8").startswith("tree")
    loaded = load_model(target)
    assert loaded.manifest["version"] == 2
    assert isinstance(loaded.model, GradientBoosting)
    np.testing.assert_array_equal(loaded.model.predict_proba(frame), model.predict_proba(frame))


def test_overwrite_and_tampering(data: tuple[pl.DataFrame, np.ndarray], tmp_path: Path) -> None:
    frame, y = data
    card = Scorecard().fit(frame, y)
    target = tmp_path / "card"
    save_model(card, target, name="card")
    with pytest.raises(InvalidInput, match="exists"):
        save_model(card, target, name="card")
    save_model(card, target, name="card", version=3, overwrite=True)
    assert load_model(target).manifest["version"] == 3
    other = tmp_path / "not-a-model"
    other.mkdir()
    with pytest.raises(InvalidInput, match="not a model artefact"):
        save_model(card, other, name="card", overwrite=True)
    points = target / "scorecard.json"
    points.write_text(points.read_text(encoding="utf-8").replace("1", "2", 1), encoding="utf-8")
    with pytest.raises(InvalidInput, match="SHA-256"):
        load_model(target)
    with pytest.raises(InvalidInput, match=r"manifest\.json missing"):
        load_model(tmp_path / "nowhere")
    with pytest.raises(InvalidInput, match="version"):
        save_model(card, tmp_path / "v0", name="card", version=0)


def test_calibration_and_master_scale_travel_with_the_model(
    data: tuple[pl.DataFrame, np.ndarray], tmp_path: Path
) -> None:
    from xiaowei.scoring.calibration import Calibrator, MasterScale

    frame, y = data
    card = Scorecard().fit(frame, y)
    cal = Calibrator("isotonic").fit(card.score(frame), y)
    scale = MasterScale([0.001, 0.01, 0.05, 0.2, 1.0], labels=["A", "B", "C", "D"])
    target = tmp_path / "card"
    manifest = save_model(
        card, target, name="c", calibrator=cal, master_scale=scale, setup={"seed": 42}
    )
    assert set(manifest["files"]) == {"scorecard.json", "calibration.json"}
    assert manifest["setup"] == {"seed": 42}
    loaded = load_model(target)
    assert loaded.calibrator is not None
    assert loaded.master_scale is not None
    pd_back = loaded.calibrator.transform(loaded.model.score(frame))
    np.testing.assert_array_equal(pd_back, cal.transform(card.score(frame)))
    assert loaded.master_scale.labels == ("A", "B", "C", "D")
    # without them the artefact has neither (older artefacts load as before)
    save_model(card, tmp_path / "plain", name="c")
    plain = load_model(tmp_path / "plain")
    assert plain.calibrator is None
    assert plain.master_scale is None
