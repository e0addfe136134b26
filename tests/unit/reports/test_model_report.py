"""The model report (issue 5): one self-contained HTML page whose figures are the metrics of the
samples, for a scorecard and a LightGBM model, in Chinese and English."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import io
import re

import numpy as np
import polars as pl
import pytest
from PIL import Image

from xiaowei.core.errors import InvalidInput
from xiaowei.core.i18n import Lang
from xiaowei.reports.model_report import ReportSample, model_report_html
from xiaowei.scoring import metrics, monitoring
from xiaowei.scoring.binning import Binning
from xiaowei.scoring.calibration import Calibrator, MasterScale
from xiaowei.scoring.datasets import synthetic
from xiaowei.scoring.gbm import GradientBoosting
from xiaowei.scoring.scorecard import Scorecard
from xiaowei.scoring.tables import bin_tables

COLUMNS = ["mono_01", "mono_02", "ushape_01", "cat_1"]
# grade labels whose string order is not the scale's order ("A" < "AA" < "B" < "BB" < "BBB")
SCALE = MasterScale([0.0003, 0.02, 0.04, 0.07, 0.12, 1.0], labels=["AA", "A", "BBB", "BB", "B"])
HEADINGS: dict[Lang, list[str]] = {
    "en": [
        "Model report",
        "Model identity",
        "Data summary",
        "Features",
        "Performance",
        "Calibration by grade",
        "Stability",
    ],
    "zh-CN": ["模型报告", "模型信息", "数据概况", "入模变量", "模型表现", "分级校准", "稳定性"],
}
BINS_HEADING = {
    ("scorecard", "en"): "Binning tables and scorecard points",
    ("scorecard", "zh-CN"): "分箱表与评分卡分值",
    ("lightgbm", "en"): "Binning tables",
    ("lightgbm", "zh-CN"): "分箱表",
}


@functools.cache
def _data() -> tuple[pl.DataFrame, np.ndarray]:
    frame, y = synthetic(3_000, 5)
    days = pl.date_range(dt.date(2022, 1, 1), dt.date(2022, 1, 1) + dt.timedelta(2_999), eager=True)
    return frame.select(COLUMNS).with_columns(days.alias("application_date")), y.astype(np.int64)


def _split() -> list[tuple[str, pl.DataFrame, np.ndarray]]:
    """Development, holdout and out-of-time rows (the last 600 days)."""
    frame, y = _data()
    return [
        ("train", frame[:1_800], y[:1_800]),
        ("test", frame[1_800:2_400], y[1_800:2_400]),
        ("oot", frame[2_400:], y[2_400:]),
    ]


def _manifest(model: Scorecard | GradientBoosting, kind: str) -> dict[str, object]:
    return {
        "format": "xiaowei.model/1",
        "kind": kind,
        "name": "synthetic-" + kind,
        "version": 3,
        "created": "2026-11-28T12:00:00+00:00",
        "features": list(model.features_),
        "target": "default_12m",
        "training_data": {"rows": 1_800, "sha256": "0f" * 32},
        "metrics": {"auc_test": 0.7123456},
        "libraries": {"numpy": "2.1.0", "lightgbm": "4.5.0"},
    }


@functools.cache
def _scorecard_samples() -> tuple[Scorecard, tuple[ReportSample, ...]]:
    parts = _split()
    _, train, y_train = parts[0]
    card = Scorecard(Binning(n_jobs=1), min_iv=0.0).fit(train.select(COLUMNS), y_train)
    _, test, y_test = parts[1]
    calibrator = Calibrator("platt").fit(card.score(test), y_test)
    samples = tuple(
        ReportSample(name, frame, y, calibrator.transform(card.score(frame)), card.score(frame))
        for name, frame, y in parts
    )
    return card, samples


@functools.cache
def _scorecard_page(lang: Lang) -> str:
    card, samples = _scorecard_samples()
    return model_report_html(
        card, _manifest(card, "scorecard"), samples, master_scale=SCALE, lang=lang
    )


def _cell(page: str, metric: str, sample: str) -> str:
    found = re.findall(rf'data-metric="{metric}" data-sample="{re.escape(sample)}">([^<]*)<', page)
    assert len(found) == 1, (metric, sample, found)
    return str(found[0]).strip()


def _images(page: str) -> list[bytes]:
    return [
        base64.b64decode(m) for m in re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    ]


def _check_self_contained(page: str, lang: Lang, kind: str) -> None:
    assert f'<html lang="{lang}">' in page
    for heading in [*HEADINGS[lang], BINS_HEADING[(kind, lang)]]:
        assert f">{heading}<" in page, heading
    other: Lang = "en" if lang == "zh-CN" else "zh-CN"
    assert f">{HEADINGS[other][2]}<" not in page
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page)
    assert "@page { size: A4" in page
    for data in _images(page):
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "PNG"
            assert im.width >= 500
            assert im.height >= 300


@pytest.mark.slow
def test_scorecard_report_shows_the_samples_metrics() -> None:
    """English here; the Chinese page of the same card is checked in a browser (e2e), and the
    LightGBM report below is in Chinese."""
    card, samples = _scorecard_samples()
    page = _scorecard_page("en")
    _check_self_contained(page, "en", "scorecard")
    # identity from the manifest and the card
    assert "synthetic-scorecard" in page
    assert "0f" * 32 in page
    assert "numpy 2.1.0, lightgbm 4.5.0" in page
    assert "0.7123" in page
    # data summary: bad rate and period of each sample
    for s in samples:
        assert _cell(page, "bad_rate", s.name) == f"{s.target.mean():.2%}"
    for s in samples:
        dates = s.features["application_date"]
        assert f"{dates.min().isoformat()} – {dates.max().isoformat()}" in page  # type: ignore[union-attr]
    # performance: the printed figures are the metrics of the points, at the shown precision
    for s in samples:
        area = metrics.auc(s.target, s.score, higher_is_riskier=False)
        assert _cell(page, "auc", s.name) == f"{area:.3f}"
        assert _cell(page, "gini", s.name) == f"{2 * area - 1:.3f}"
        ks = metrics.ks(s.target, s.score)
        assert _cell(page, "ks", s.name) == f"{ks.statistic:.3f}"
        assert _cell(page, "ks_at", s.name) == f"{ks.score:,.0f}"
        assert _cell(page, "brier", s.name) == f"{metrics.brier(s.target, s.pd):.4f}"
    # every feature has its binning table, with the card's points, bin by bin
    tables = bin_tables(card, samples[0].features, samples[0].target)
    for feature in card.features_:
        block = page.split(f'<table class="bins" data-feature="{feature}">')[1].split("</table>")[0]
        rows = re.findall(r"<tr class=\"(regular|special|missing)\">(.*?)</tr>", block, re.S)
        assert len(rows) == tables[feature].height
        points = [re.findall(r">([^<]*)</td>", r[1])[-1] for r in rows]
        assert points == [str(p) for p in tables[feature]["points"].to_list()]
        assert f"{float(tables[feature]['iv'].sum()):.4f}" in page
    # stability: PSI of the points against the development sample
    for s in samples[1:]:
        value = monitoring.psi(samples[0].score, s.score)
        assert _cell(page, "psi", s.name) == f"{value:.4f}"
    # bins + ROC + KS, distribution, gains + calibration + PSI
    assert len(_images(page)) == min(len(card.features_), 12) + 6


def test_calibration_follows_the_master_scale_order_and_counts() -> None:
    _, samples = _scorecard_samples()
    page = _scorecard_page("en")
    last = samples[-1]
    grades = SCALE.grade(last.pd)
    shown = re.findall(r'<tr data-grade="([^"]+)">', page)
    assert shown == [g for g in SCALE.labels if (grades == g).any()]
    assert len(shown) >= 3
    for grade in shown:
        row = page.split(f'<tr data-grade="{grade}">')[1].split("</tr>")[0]
        cells = re.findall(r">([^<]*)</td>", row)
        assert cells[2] == f"{int((grades == grade).sum()):,}"
        assert cells[3] == f"{int(last.target[grades == grade].sum()):,}"


@pytest.mark.slow
def test_lightgbm_report_against_itself_is_stable() -> None:
    """A LightGBM report whose later sample is the development sample again: PSI and every CSI
    are 0; the features show the gain importance and the monotone constraints."""
    _, train, y_train = _split()[0]
    columns = ["mono_01", "ushape_01", "cat_1"]
    model = GradientBoosting(
        n_estimators=30, early_stopping_rounds=None, n_jobs=1, binning=Binning(n_jobs=1)
    ).fit(train.select(columns), y_train)
    pd_ = (
        Calibrator()
        .fit(model.predict_proba(train)[:, 1], y_train)
        .transform(model.predict_proba(train)[:, 1])
    )
    samples = [
        ReportSample("train", train, y_train, pd_, None),
        ReportSample("train again", train, y_train, pd_, None),
    ]
    page = model_report_html(
        model, _manifest(model, "lightgbm"), samples, master_scale=SCALE, lang="zh-CN"
    )
    _check_self_contained(page, "zh-CN", "lightgbm")
    assert _cell(page, "psi", "train again") == "0.0000"
    csi = re.findall(
        r'data-metric="csi" data-feature="([^"]+)" data-sample="train again">([^<]*)<', page
    )
    assert [f for f, _ in csi] == columns
    assert all(v.strip() == "0.0000" for _, v in csi)
    assert _cell(page, "auc", "train") == f"{metrics.auc(y_train, pd_):.3f}"
    gain = model.booster_.feature_importance(
        importance_type="gain", iteration=model.best_iteration_
    )
    for feature, value in zip(model.booster_.feature_name(), gain, strict=True):
        row = page.split(f'<tr data-feature="{feature}">')[1].split("</tr>")[0]
        assert f"{value:,.1f}" in row
        sign = model.monotone_constraints_[feature]
        assert {1: "+1：数值越大风险越高", -1: "−1：数值越大风险越低", 0: ">无<"}[sign] in row
    assert 'data-metric="csi"' in page
    assert "分值" not in page.split('id="bins"')[1].split("</section>")[0]  # no points column


def test_bad_input_is_refused() -> None:
    card, samples = _scorecard_samples()
    manifest = _manifest(card, "scorecard")
    with pytest.raises(InvalidInput, match="lang"):
        model_report_html(card, manifest, samples, master_scale=SCALE, lang="fr")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="samples"):
        model_report_html(card, manifest, [], master_scale=SCALE)
    with pytest.raises(InvalidInput, match="distinct"):
        model_report_html(card, manifest, [samples[0], samples[0]], master_scale=SCALE)
    s = samples[1]
    for field, bad in (
        ("pd", ReportSample(s.name, s.features, s.target, s.pd + 1.0, s.score)),
        ("target", ReportSample(s.name, s.features, s.target[:-1], s.pd, s.score)),
        ("target", ReportSample(s.name, s.features, s.target * 2, s.pd, s.score)),
        ("mono_01", ReportSample(s.name, s.features.drop("mono_01"), s.target, s.pd, s.score)),
    ):
        with pytest.raises(InvalidInput, match=field):
            model_report_html(card, manifest, [samples[0], bad], master_scale=SCALE)


@pytest.mark.slow
def test_binning_tables_come_by_information_value_with_charts_for_the_first() -> None:
    card, samples = _scorecard_samples()
    page = model_report_html(
        card, _manifest(card, "scorecard"), samples, master_scale=SCALE, max_charts=2
    )
    tables = bin_tables(card, samples[0].features, samples[0].target)
    by_iv = sorted(card.features_, key=lambda f: -float(tables[f]["iv"].sum()))
    order = re.findall(r'<table class="bins" data-feature="([^"]+)">', page)
    assert order == by_iv
    assert len(_images(page)) == 2 + 6  # two binning charts, the performance charts
    with pytest.raises(InvalidInput, match="max_charts"):
        model_report_html(
            card, _manifest(card, "scorecard"), samples, master_scale=SCALE, max_charts=-1
        )
