"""The model report (issue 5) written to a file opens in a real browser: every section's heading
shows, every chart decodes, nothing is fetched and no error is logged, in Chinese and English."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pytest

from xiaowei.core.i18n import Lang
from xiaowei.reports.model_report import ReportSample, model_report_html
from xiaowei.scoring.binning import Binning
from xiaowei.scoring.calibration import Calibrator, MasterScale
from xiaowei.scoring.datasets import synthetic
from xiaowei.scoring.scorecard import Scorecard

CHROMIUM = Path("/usr/bin/chromium")
COLUMNS = ["mono_01", "cat_1"]
HEADINGS: dict[Lang, list[str]] = {
    "zh-CN": [
        "模型报告",
        "模型信息",
        "数据概况",
        "入模变量",
        "分箱表与评分卡分值",
        "模型表现",
        "分级校准",
        "稳定性",
    ],
    "en": [
        "Model report",
        "Model identity",
        "Data summary",
        "Features",
        "Binning tables and scorecard points",
        "Performance",
        "Calibration by grade",
        "Stability",
    ],
}
# one binning chart per feature, ROC, KS, score distribution, gains, calibration, PSI
CHARTS = len(COLUMNS) + 6


def _browser_or_skip() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("XIAOWEI_REQUIRE_BROWSER"):
        pytest.fail(f"XIAOWEI_REQUIRE_BROWSER is set but {CHROMIUM} is missing")
    pytest.skip(f"no browser at {CHROMIUM} (set XIAOWEI_REQUIRE_BROWSER=1 to fail instead)")


@functools.cache
def _fitted() -> tuple[Scorecard, tuple[ReportSample, ...]]:
    frame, y = synthetic(2_400, 9)
    frame = frame.select(COLUMNS)
    target = y.astype(np.int64)
    train, oot = frame[:1_600], frame[1_600:]
    card = Scorecard(Binning(n_jobs=1), min_iv=0.0).fit(train, target[:1_600])
    calibrator = Calibrator("platt").fit(card.score(oot), target[1_600:])
    samples = tuple(
        ReportSample(name, part, t, calibrator.transform(card.score(part)), card.score(part))
        for name, part, t in (("train", train, target[:1_600]), ("oot", oot, target[1_600:]))
    )
    return card, samples


def _write_report(lang: Lang, path: Path) -> Path:
    card, samples = _fitted()
    manifest = {"name": "e2e", "version": 1, "kind": "scorecard", "features": card.features_}
    page = model_report_html(card, manifest, samples, master_scale=MasterScale(), lang=lang)
    path.write_text(page, encoding="utf-8")
    return path


@pytest.mark.slow
def test_model_report_renders_in_a_real_browser(tmp_path: Path) -> None:
    """Both languages in one browser session (a launch costs seconds on a busy machine)."""
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    reports = {lang: _write_report(lang, tmp_path / f"report-{lang}.html") for lang in HEADINGS}
    errors: list[str] = []
    failed: list[str] = []
    heights: dict[Lang, int] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        try:
            for lang, report in reports.items():
                page = browser.new_page(viewport={"width": 900, "height": 1200})
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("requestfailed", lambda r: failed.append(r.url))
                page.goto(report.as_uri())
                page.wait_for_load_state("load")
                widths = page.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
                assert len(widths) == CHARTS
                assert all(w > 0 for w in widths)
                headings = page.evaluate(
                    "Array.from(document.querySelectorAll('h1, h2')).map(h => h.textContent.trim())"
                )
                assert headings == HEADINGS[lang]
                for heading in HEADINGS[lang]:
                    assert page.get_by_text(heading, exact=True).first.is_visible(), heading
                for feature in COLUMNS:
                    assert page.locator(f'table.bins[data-feature="{feature}"]').is_visible()
                heights[lang] = page.evaluate("document.body.scrollHeight")
                page.close()
        finally:
            browser.close()
    assert errors == []
    assert failed == []
    assert all(height > 4000 for height in heights.values())  # every section, one long page
