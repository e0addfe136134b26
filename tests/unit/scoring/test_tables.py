"""Binning tables recomputed on any sample from a model's own bins (scoring/tables.py, issue 5)."""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from xiaowei.core.errors import InvalidInput
from xiaowei.scoring.binning import Binning
from xiaowei.scoring.datasets import synthetic
from xiaowei.scoring.gbm import GradientBoosting
from xiaowei.scoring.scorecard import Scorecard
from xiaowei.scoring.tables import bin_tables, information_values

COLUMNS = ["mono_01", "mono_02", "ushape_01", "noise_01", "cat_1", "cat_2"]


@functools.cache
def _data() -> tuple[pl.DataFrame, np.ndarray]:
    frame, y = synthetic(3_000, 11)
    frame = frame.select(COLUMNS)
    # a special code (−999, "no record") in a numeric feature: its own bin
    special = np.arange(frame.height) % 37 == 0
    frame = frame.with_columns(
        pl.when(pl.Series(special)).then(-999.0).otherwise(pl.col("mono_02")).alias("mono_02")
    )
    return frame, y.astype(np.int64)


@functools.cache
def _scorecard() -> Scorecard:
    frame, y = _data()
    binning = Binning(n_jobs=1, special_values=[-999.0])
    return Scorecard(binning, min_iv=0.0).fit(frame, y)


def test_scorecard_tables_on_its_training_rows_equal_the_binners_tables() -> None:
    frame, y = _data()
    card = _scorecard()
    assert card.binning_ is not None
    tables = bin_tables(card, frame, y)
    assert list(tables) == card.features_ == COLUMNS
    assert "special" in tables["mono_02"]["kind"].to_list()
    points = card.points_table()
    for feature, table in tables.items():
        expected = card.binning_.binners_[feature].binning_table()
        assert_frame_equal(table.drop("points"), expected, check_column_order=False)
        assert (
            table["points"].to_list()
            == points.filter(pl.col("feature") == feature)["points"].to_list()
        )
    assert information_values(tables) == pytest.approx(card.iv_, rel=1e-12)


def test_a_loaded_scorecard_gives_the_same_tables_on_new_rows() -> None:
    """A card from JSON has no binning: its bins and the default smoothing give the same table."""
    card = _scorecard()
    loaded = Scorecard.from_json(card.to_json())
    assert loaded.binning_ is None
    other, y_other = synthetic(1_500, 12)
    other = other.select(COLUMNS)
    fitted = bin_tables(card, other, y_other)
    again = bin_tables(loaded, other, y_other)
    for feature in COLUMNS:
        assert_frame_equal(fitted[feature], again[feature])
        assert fitted[feature]["count"].sum() == 1_500
        assert fitted[feature]["bads"].sum() == int(y_other.sum())


def _hand_card() -> Scorecard:
    """One numeric feature: bins (-inf, 10), [10, inf), special −999, missing."""
    doc = {
        "schema": "xiaowei.scorecard",
        "schema_version": 1,
        "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20, "factor": 28.85, "offset": 487},
        "intercept": -2.0,
        "columns": ["x"],
        "features": [
            {
                "name": "x",
                "kind": "numeric",
                "coefficient": -1.0,
                "breaks": [10.0],
                "specials": [-999.0],
                "bins": [
                    {"label": "(-inf, 10)", "kind": "regular", "count": 1, "woe": -0.5,
                     "points": 40, "points_raw": 40.2},
                    {"label": "[10, inf)", "kind": "regular", "count": 1, "woe": 0.7,
                     "points": 60, "points_raw": 59.9},
                    {"label": "special -999", "kind": "special", "count": 1, "woe": 0.0,
                     "points": 50, "points_raw": 50.0},
                    {"label": "missing", "kind": "missing", "count": 0, "woe": 0.0,
                     "points": 45, "points_raw": 45.0},
                ],
            }
        ],
    }  # fmt: skip
    return Scorecard.from_json(json.dumps(doc))


def test_hand_computed_table() -> None:
    """Bins of 4, 3, 2 and 0 rows with 2, 0, 1 and 0 bads: smoothed shares by hand."""
    x = pl.DataFrame({"x": [1.0, 5.0, 9.0, 2.0, 10.0, 50.0, 11.0, -999.0, -999.0]})
    y = np.array([1, 1, 0, 0, 0, 0, 0, 1, 0])
    table = bin_tables(_hand_card(), x, y)["x"]
    goods, bads = [2, 3, 1, 0], [2, 0, 1, 0]
    # share = (n + 0.5) / (total + 0.5 × 4 bins): goods 6 + 2 = 8, bads 3 + 2 = 5
    share_good = [(g + 0.5) / 8 for g in goods]
    share_bad = [(b + 0.5) / 5 for b in bads]
    woe = [math.log(g / b) for g, b in zip(share_good, share_bad, strict=True)]
    iv = [(g - b) * w for g, b, w in zip(share_good, share_bad, woe, strict=True)]
    expected = pl.DataFrame(
        {
            "bin": [0, 1, 2, 3],
            "label": ["(-inf, 10)", "[10, inf)", "special -999", "missing"],
            "kind": ["regular", "regular", "special", "missing"],
            "count": [4, 3, 2, 0],
            "share": [4 / 9, 3 / 9, 2 / 9, 0.0],
            "goods": goods,
            "bads": bads,
            "event_rate": [0.5, 0.0, 0.5, float("nan")],
            "woe": woe,
            "iv": iv,
            "woe_used": [-0.5, 0.7, 0.0, 0.0],
            "points": [40, 60, 50, 45],
        },
        nan_to_null=False,
    )
    assert_frame_equal(table, expected)
    assert woe[3] == pytest.approx(math.log(5 / 8))  # an empty bin: the smoothed odds 1:1
    # a chosen smoothing replaces the default
    light = bin_tables(_hand_card(), x, y, smoothing=0.01)["x"]
    assert light["woe"][0] == pytest.approx(math.log((2.01 / 6.04) / (2.01 / 3.04)))


def test_boosting_tables_use_its_bin_labelling() -> None:
    """Without early stopping the binning sees every row: the tables equal the binners'; a
    model loaded from JSON (no binning) gives the same tables."""
    frame, y = _data()
    model = GradientBoosting(
        n_estimators=20, early_stopping_rounds=None, n_jobs=1, binning=Binning(n_jobs=1)
    ).fit(frame, y)
    assert model.binning_ is not None
    tables = bin_tables(model, frame, y)
    assert list(tables) == COLUMNS
    loaded = GradientBoosting.from_json(model.to_json())
    for feature, table in tables.items():
        expected = model.binning_.binners_[feature].binning_table().drop("woe_used")
        assert_frame_equal(table, expected, check_column_order=False)
        assert_frame_equal(bin_tables(loaded, frame, y)[feature], table)
    assert tables["cat_1"]["kind"].to_list()[-1] == "missing"


def test_bad_input_is_refused() -> None:
    frame, y = _data()
    card = _scorecard()
    with pytest.raises(InvalidInput, match="y"):
        bin_tables(card, frame, y[:-1])
    with pytest.raises(InvalidInput, match="y"):
        bin_tables(card, frame, np.where(y == 1, 2, 0))
    with pytest.raises(InvalidInput, match="X"):
        bin_tables(card, frame.to_numpy(), y)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="X"):
        bin_tables(card, frame.drop("cat_1"), y)
    with pytest.raises(InvalidInput, match="smoothing"):
        bin_tables(card, frame, y, smoothing=0.0)
    with pytest.raises(InvalidInput, match="model"):
        bin_tables(object(), frame, y)  # type: ignore[arg-type]
