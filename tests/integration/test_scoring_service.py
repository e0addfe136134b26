"""Scoring use cases (services/scoring.py): fit → artefact → apply / report / monitor, on files.

A synthetic feature table (scoring.datasets.synthetic, 5,000 rows) with an identifier, an
application date (the last quarter of 2025 is out of time) and the 0/1 target.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from xiaowei.adapters.model_artefact import load_model
from xiaowei.analysis.feature_labels import reason_text
from xiaowei.core.errors import InvalidInput
from xiaowei.scoring import metrics
from xiaowei.scoring.datasets import synthetic
from xiaowei.scoring.scorecard import Scorecard
from xiaowei.services.scoring import (
    SplitSpec,
    apply_model,
    feature_columns,
    fit_model,
    monitor_model,
    read_table,
    score_frame,
    split_rows,
    target_vector,
)

N = 5_000


def _table(n: int, seed: int) -> pl.DataFrame:
    frame, y = synthetic(n, seed)
    start = date(2025, 1, 1)
    return frame.with_columns(
        pl.Series("business_id", np.arange(1, n + 1), dtype=pl.Int64),
        pl.Series("application_date", [start + timedelta(days=int(d)) for d in np.arange(n) % 365]),
        pl.Series("bad", np.asarray(y), dtype=pl.Int8),
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scoring")
    whole = _table(N + 2_000, 21)
    whole.head(N).write_parquet(root / "train.parquet")
    # later applicants of the same population, and the same applicants after a change: every
    # monotone feature moved by one standard deviation towards the safe side
    later = whole.tail(2_000)
    later.write_csv(root / "later.csv")
    monotone = [c for c in later.columns if c.startswith("mono_")]
    later.with_columns((pl.col(c) + pl.col(c).std()).alias(c) for c in monotone).write_csv(
        root / "shifted.csv"
    )
    return root


@pytest.fixture(scope="module")
def card(folder: Path) -> Path:
    out = folder / "card"
    fit_model(
        folder / "train.parquet",
        target="bad",
        out=out,
        split=SplitSpec(time_column="application_date", oot_from=date(2025, 10, 1)),
    )
    return out


def test_split_is_out_of_time_first_then_stratified(folder: Path) -> None:
    frame = read_table(folder / "train.parquet")
    y, _ = target_vector(frame, "bad")
    spec = SplitSpec(time_column="application_date", oot_from=date(2025, 10, 1))
    samples = split_rows(frame, y, spec)
    oot_dates = frame["application_date"].to_numpy()[samples["oot"]]
    assert (oot_dates >= np.datetime64("2025-10-01")).all()
    assert samples["oot"].size == int((frame["application_date"] >= date(2025, 10, 1)).sum())
    rows = np.concatenate(list(samples.values()))
    assert np.array_equal(np.sort(rows), np.arange(frame.height))  # a partition
    dev = samples["train"].size + samples["test"].size
    assert samples["test"].size == pytest.approx(0.3 * dev, abs=1)
    # stratified: the bad rates of train and test agree to a row
    assert abs(y[samples["train"]].mean() - y[samples["test"]].mean()) < 2 / samples["test"].size
    assert split_rows(frame, y, spec)["test"].tolist() == samples["test"].tolist()


def test_fit_saves_a_calibrated_artefact_with_its_figures(folder: Path, card: Path) -> None:
    artefact = load_model(card)
    manifest = artefact.manifest
    assert manifest["kind"] == "scorecard"
    assert manifest["setup"]["split"]["oot_from"] == "2025-10-01"
    assert set(manifest["metrics"]) == {"train", "test", "oot"}
    assert artefact.calibrator is not None
    assert artefact.master_scale is not None
    # the figures are those of the saved model on the rebuilt samples
    frame = read_table(folder / "train.parquet")
    y, _ = target_vector(frame, "bad")
    samples = split_rows(frame, y, SplitSpec.from_dict(manifest["setup"]["split"]))
    test = frame[samples["test"]]
    scored = score_frame(artefact, test, n_reasons=0)
    assert manifest["metrics"]["test"]["auc"] == pytest.approx(
        metrics.auc(y[samples["test"]], scored["pd"].to_numpy()), abs=1e-12
    )
    assert manifest["metrics"]["test"]["auc"] > 0.65  # ~50 test bads: a model that learned
    # the calibrated PD is on the scale of the outcomes: mean PD near the bad rate
    oot = manifest["metrics"]["oot"]
    assert oot["mean_pd"] == pytest.approx(oot["bad_rate"], abs=0.015)


def test_apply_writes_scores_grades_and_reasons(folder: Path, card: Path) -> None:
    out = folder / "scores.csv"
    result = apply_model(card, folder / "later.csv", out, n_reasons=2, lang="zh-CN")
    scores = pl.read_csv(out)
    assert result.rows == scores.height == 2_000
    assert scores.columns[:4] == ["business_id", "score", "pd", "grade"]
    assert {"reason_1", "reason_1_text", "reason_2", "reason_2_text"} <= set(scores.columns)
    artefact = load_model(card)
    assert isinstance(artefact.model, Scorecard)
    later = read_table(folder / "later.csv")
    assert scores["score"].to_list() == artefact.model.score(later).tolist()
    assert sum(result.grades.values()) == 2_000
    first = scores.filter(pl.col("reason_1").is_not_null()).row(0, named=True)
    assert first["reason_1"].split(":")[0] in artefact.model.features_
    feature, label = first["reason_1"].split(":", 1)
    card_rows = artefact.model.points_table().filter(pl.col("feature") == feature)
    best = card_rows.row(int(card_rows["points"].arg_max() or 0), named=True)["label"]
    assert first["reason_1_text"] == reason_text(feature, label, "zh-CN", best_label=best)
    assert label in first["reason_1_text"] or feature in first["reason_1_text"]
    with pytest.raises(InvalidInput, match="exists"):
        apply_model(card, folder / "later.csv", out)


def test_monitor_flags_the_shift_and_not_the_same_population(folder: Path, card: Path) -> None:
    same = monitor_model(card, folder / "later.csv", folder / "later.csv")
    assert same.score_psi == 0.0
    assert same.score_light == "green"
    assert (same.features["csi"] == 0.0).all()
    shifted = monitor_model(card, folder / "later.csv", folder / "shifted.csv")
    assert shifted.score_light in ("yellow", "red")
    lights = dict(zip(shifted.features["feature"], shifted.features["light"], strict=True))
    moved = [f for f in lights if f.startswith("mono_")]
    assert moved
    assert shifted.features["feature"].to_list()[: len(moved)] == moved  # least stable first
    assert all(lights[f] == "green" for f in lights if f not in moved)
    assert set(shifted.performance) == {"reference", "current"}


def test_bad_input_is_a_clear_error_and_writes_nothing(
    folder: Path, card: Path, tmp_path: Path
) -> None:
    frame = read_table(folder / "train.parquet")
    with pytest.raises(InvalidInput, match="matches no column"):
        feature_columns(frame, target="bad", features=["flwo_*"])
    broken = frame.with_columns(
        pl.when(pl.col("business_id") == 7).then(2).otherwise(pl.col("bad")).alias("bad")
    )
    broken.write_parquet(tmp_path / "broken.parquet")
    with pytest.raises(InvalidInput, match="must be 0/1"):
        fit_model(tmp_path / "broken.parquet", target="bad", out=tmp_path / "m")
    (tmp_path / "junk.csv").write_bytes(b"\x00\xff\x00garbage")
    with pytest.raises(InvalidInput, match=r"junk\.csv"):
        fit_model(tmp_path / "junk.csv", target="bad", out=tmp_path / "m")
    with pytest.raises(InvalidInput, match="model"):
        fit_model(folder / "train.parquet", target="bad", out=tmp_path / "m", kind="forest")
    assert not (tmp_path / "m").exists()
    frame.drop("mono_01").write_parquet(tmp_path / "short.parquet")
    with pytest.raises(InvalidInput, match="missing model input columns"):
        apply_model(card, tmp_path / "short.parquet", tmp_path / "s.csv")
    assert not (tmp_path / "s.csv").exists()


def test_rows_without_outcome_are_left_out_and_counted(folder: Path, tmp_path: Path) -> None:
    frame = read_table(folder / "train.parquet").with_columns(
        pl.when(pl.col("business_id") <= 100).then(None).otherwise(pl.col("bad")).alias("bad")
    )
    frame.write_parquet(tmp_path / "partial.parquet")
    result = fit_model(
        tmp_path / "partial.parquet", target="bad", out=tmp_path / "m", calibration="none"
    )
    assert result.dropped_unknown_target == 100
    assert sum(s["rows"] for s in result.samples.values()) == N - 100
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["setup"]["rows_without_outcome"] == 100
    assert "calibration.json" in manifest["files"]  # the master scale travels without a calibrator


def test_compare_scores_models_on_the_same_test_rows(folder: Path, card: Path) -> None:
    from xiaowei.services.scoring import compare_models

    narrow = folder / "narrow"
    fit_model(
        folder / "train.parquet",
        target="bad",
        out=narrow,
        features=["mono_0*"],
        split=SplitSpec(time_column="application_date", oot_from=date(2025, 10, 1)),
    )
    result = compare_models([card, narrow], folder / "train.parquet", by="cat_1")
    assert result.sample == "oot"
    assert result.models == ["card", "narrow"]
    overall = result.table.row(0, named=True)
    manifest = load_model(card).manifest
    assert overall["rows"] == manifest["metrics"]["oot"]["rows"]
    assert overall["auc_card"] == pytest.approx(manifest["metrics"]["oot"]["auc"], abs=1e-12)
    narrow_auc = load_model(narrow).manifest["metrics"]["oot"]["auc"]
    assert overall["auc_narrow"] == pytest.approx(narrow_auc, abs=1e-12)
    # the segments partition the rows
    segments = result.table.filter(pl.col("segment") != "all")
    levels = set(read_table(folder / "train.parquet")["cat_1"].unique().to_list())
    assert set(segments["segment"]) <= levels
    assert segments["rows"].sum() == overall["rows"]
    assert segments["bads"].sum() == overall["bads"]
    # a file the models were not fitted on is scored whole
    other = compare_models([card, narrow], folder / "later.csv")
    assert other.sample == "data"
    assert other.table.row(0, named=True)["rows"] == 2_000
