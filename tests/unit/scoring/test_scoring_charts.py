"""Score validation and monitoring charts (issue 5): each renders a PNG in en and zh-CN with
warnings as errors (a missing CJK glyph would fail), and the bytes form matches the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from xiaowei.core.errors import InvalidInput
from xiaowei.core.i18n import Lang
from xiaowei.reports import charts, scoring_charts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

_RNG = np.random.default_rng(20261128)
_N = 3_000
Y = (_RNG.uniform(size=_N) < 0.1).astype(int)
SCORE = _RNG.normal(size=_N) + 1.3 * Y
PD = 1 / (1 + np.exp(-(SCORE - 3.0)))
GRADE = np.digitize(PD, [0.02, 0.05, 0.1, 0.2]) + 1
POINTS = np.round(600 - 30 * SCORE)
BINS = pl.DataFrame(
    {
        "bin": [0, 1, 2, 3, 4],
        "label": [
            "(-inf, 12.345678)",
            "[12.345678, 40)",
            "A00, A01, A02, A03, A04, A05 (+unseen)",
            "special -999",
            "missing",
        ],
        "kind": ["regular", "regular", "regular", "special", "missing"],
        "count": [400, 300, 200, 100, 0],
        "share": [0.4, 0.3, 0.2, 0.1, 0.0],
        "event_rate": [0.02, 0.05, 0.08, 0.15, float("nan")],
    },
    nan_to_null=False,
)


CHARTS: dict[
    str, tuple[Callable[..., Path], Callable[..., bytes], tuple[Any, ...], dict[str, Any]]
] = {
    "roc": (
        scoring_charts.roc_chart,
        scoring_charts.roc_chart_png,
        (Y, POINTS),
        {
            "higher_is_riskier": False,
            "label": "train",
            "compare": {"test": (Y[:900], POINTS[:900])},
        },
    ),
    "ks": (scoring_charts.ks_chart, scoring_charts.ks_chart_png, (Y, POINTS), {}),
    "distribution": (
        scoring_charts.score_distribution_chart,
        scoring_charts.score_distribution_chart_png,
        (Y, SCORE),
        {"bins": 25},
    ),
    "calibration-deciles": (
        scoring_charts.calibration_chart,
        scoring_charts.calibration_chart_png,
        (Y, PD),
        {},
    ),
    "calibration-grades": (
        scoring_charts.calibration_chart,
        scoring_charts.calibration_chart_png,
        (Y, PD),
        {"grade": GRADE, "title": "holdout"},
    ),
    "gains": (
        scoring_charts.gains_chart,
        scoring_charts.gains_chart_png,
        (Y, POINTS),
        {"higher_is_riskier": False},
    ),
    "psi-score": (
        scoring_charts.psi_chart,
        scoring_charts.psi_chart_png,
        (SCORE[:1_500], SCORE[1_500:] + 0.3),
        {},
    ),
    "psi-categorical-feature": (
        scoring_charts.psi_chart,
        scoring_charts.psi_chart_png,
        (pl.Series(["retail", "food", None] * 50), pl.Series(["retail", "trade", "food"] * 40)),
        {},
    ),
    "binning": (
        scoring_charts.binning_chart,
        scoring_charts.binning_chart_png,
        (BINS,),
        {"title": "mono_01"},
    ),
}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize("name", list(CHARTS))
def test_chart_renders_png_without_warnings(name: str, lang: Lang, tmp_path: Path) -> None:
    """In-process, so that a missing-glyph warning fails the test (filterwarnings = error)."""
    if lang == "zh-CN" and charts.cjk_font() is None:
        pytest.skip("no CJK font installed (fonts-noto-cjk); the English fallback is drawn")
    to_path, to_bytes, args, kwargs = CHARTS[name]
    written = to_path(*args, tmp_path / name / "chart.png", lang=lang, **kwargs)
    assert written == tmp_path / name / "chart.png"
    data = written.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 10_000
    assert to_bytes(*args, lang=lang, **kwargs) == data


def test_charts_reject_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="y"):
        scoring_charts.roc_chart([1, 1], [0.1, 0.2], tmp_path / "roc.png", lang="en")
    with pytest.raises(InvalidInput, match="bins"):
        scoring_charts.score_distribution_chart_png(Y, SCORE, bins=0, lang="en")
    with pytest.raises(InvalidInput, match="score"):
        scoring_charts.ks_chart_png(Y, np.r_[SCORE[:-1], np.nan], lang="en")


def test_long_curves_are_thinned_but_keep_the_ks_point() -> None:
    """Beyond MAX_CURVE_POINTS distinct scores the curve is sampled evenly; the KS maximum
    stays in, so the marked gap lies on the drawn lines."""
    kept = scoring_charts._thin(50_000, keep=[12_345])
    assert kept.size <= scoring_charts.MAX_CURVE_POINTS + 1
    assert {0, 12_345, 49_999} <= set(kept.tolist())
    assert scoring_charts._thin(10).tolist() == list(range(10))


@pytest.mark.parametrize(
    ("label", "lang", "shown"),
    [
        pytest.param("(-inf, 12.345678)", "en", "(-inf, 12.35)", id="numbers-4-digits"),
        pytest.param("[1.5e-05, 0.25)", "en", "[1.5e-05, 0.25)", id="exponent-kept"),
        pytest.param("missing", "zh-CN", "缺失", id="missing-zh"),
        pytest.param("special -999", "zh-CN", "特殊值 -999", id="special-zh"),
        pytest.param("special -999", "en", "special -999", id="special-en"),
        pytest.param(
            "A00, A01, A02, A03, A04, A05 (+unseen)", "en", "A00, A01, A02, A0…", id="cut"
        ),
    ],
)
def test_bin_axis_labels_are_short_and_translated(label: str, lang: Lang, shown: str) -> None:
    assert scoring_charts._bin_axis_label(label, lang) == shown
    assert len(shown) <= scoring_charts.MAX_BIN_LABEL


def test_binning_chart_needs_a_binning_table() -> None:
    with pytest.raises(InvalidInput, match="event_rate"):
        scoring_charts.binning_chart_png(BINS.drop("event_rate"), lang="en")
    with pytest.raises(InvalidInput, match="no bins"):
        scoring_charts.binning_chart_png(BINS.clear(), lang="en")
