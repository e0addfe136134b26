"""The credit memo (issue 4): ``xiaowei analyse application RUN --business ID --html FILE``
writes one self-contained HTML page in Chinese or English, which a real browser renders.
The Chinese memo is written by the installed executable, the rest in-process."""

from __future__ import annotations

import base64
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from cli_runner import installed, run_cli
from xiaowei.services.analysis import analyse_simulated
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.generate import run as simulate

# a run, credit files and two memos
pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")

HEADINGS = {
    "zh-CN": [
        "授信审查报告",
        "主要指标",
        "风险提示及依据",
        "交叉检验",
        "权益交叉检验",
        "销售额交叉检验",
        "现金流分析（银行流水）",
        "月度流水",
        "余额曲线",
        "交易对手集中度",
        "征信分析",
        "还款状态时间轴",
        "还款能力与还款意愿",
    ],
    "en": [
        "Credit memo",
        "Key features",
        "Flags and evidence",
        "Cross-checks",
        "Equity cross-check",
        "Sales cross-check",
        "Cash flows (bank statements)",
        "Monthly flows",
        "Balance curve",
        "Counterparty concentration",
        "Credit report",
        "Repayment-status timeline",
        "Repayment capacity and willingness",
    ],
}
OPTIONAL = {  # shown only when the credit file has the part
    "deviation_grid": {
        "zh-CN": "不对称信息偏差分析",
        "en": "Asymmetric-information deviation analysis",
    },
    "network": {"zh-CN": "担保网络", "en": "Guarantee network"},
}
# monthly flows, balance curve, concentration, bureau timeline, equity waterfall, sales sources
CHARTS = 6


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("memo") / "sim"
    simulate(SimulationConfig(businesses=60, seed=2025, follow_months=0), out, workers=1)
    return out


@pytest.fixture(scope="module")
def business(sim: Path) -> tuple[int, dict[str, Any]]:
    """The first applicant whose file has statements, a report and financials (every chart)."""
    for b in range(1, 61):
        data = analyse_simulated(sim, b).to_json()
        missing = set(data["sources_missing"])
        if (
            not missing & {"statements", "credit_report", "financials", "equity_inputs"}
            and data["charts"]["bureau_accounts"]
        ):
            return b, data
    raise AssertionError("no applicant with statements, a report and financials")


@pytest.fixture(scope="module")
def memos(
    sim: Path, business: tuple[int, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """zh-CN by default (no language anywhere); en by --lang, which beats the CLI's language.
    The first through the installed executable, the second in-process."""
    folder = tmp_path_factory.mktemp("memos")
    b = str(business[0])
    out = {"zh-CN": folder / "zh" / "memo.html", "en": folder / "memo-en.html"}
    plain = {k: v for k, v in os.environ.items() if k != "XIAOWEI_LANG"}
    for lang, extra, env, runner in (
        ("zh-CN", [], plain, installed),
        ("en", ["--lang", "en"], plain | {"XIAOWEI_LANG": "zh-CN"}, run_cli),
    ):
        result = runner(
            "analyse", "application", str(sim), "--business", b, "--html", str(out[lang]),
            *extra, env=env,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    return out


def _images(page: str) -> list[bytes]:
    return [
        base64.b64decode(m) for m in re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    ]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_memo_has_every_section_and_embedded_png_charts(
    lang: str, memos: dict[str, Path], business: tuple[int, dict[str, Any]]
) -> None:
    page = memos[lang].read_text(encoding="utf-8")
    assert f'<html lang="{lang}">' in page
    for heading in HEADINGS[lang]:
        assert f">{heading}<" in page, heading
    data = business[1]
    for key, names in OPTIONAL.items():
        assert (f">{names[lang]}<" in page) == (data.get(key) is not None), key
    other = "en" if lang == "zh-CN" else "zh-CN"
    assert f">{HEADINGS[other][1]}<" not in page
    images = _images(page)
    assert len(images) == CHARTS
    for data_png in images:
        assert data_png.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(data_png)) as im:
            assert im.format == "PNG"
            assert im.width >= 600
            assert im.height >= 150
    # self-contained: nothing fetched from elsewhere, no script
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page)
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page
    assert "@page { size: A4" in page
    # the header names the business and the configuration it was analysed with
    assert f"<td>{business[0]}</td>" in page
    assert re.search(r"<code>[0-9a-f]{16}</code>", page)


def test_memo_is_written_whole_and_errors_are_one_line(
    sim: Path, business: tuple[int, dict[str, Any]], memos: dict[str, Path], tmp_path: Path
) -> None:
    # the folder the CLI created holds the memo and no temporary file
    assert [p.name for p in memos["zh-CN"].parent.iterdir()] == ["memo.html"]
    b = str(business[0])
    target = tmp_path / "memo.html"
    bad = run_cli("analyse", "application", str(sim), "--business", b, "--html", str(target),
              "--lang", "fr")  # fmt: skip
    assert bad.returncode == 1
    assert "lang" in bad.stderr
    assert "Traceback" not in bad.stderr
    folder = run_cli("analyse", "application", str(sim), "--business", b, "--html", str(tmp_path))
    assert folder.returncode == 1
    assert "is a folder" in folder.stderr
    assert "Traceback" not in folder.stderr
    assert not target.exists()


def _browser_or_skip() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("XIAOWEI_REQUIRE_BROWSER"):
        pytest.fail(f"XIAOWEI_REQUIRE_BROWSER is set but {CHROMIUM} is missing")
    pytest.skip(f"no browser at {CHROMIUM} (set XIAOWEI_REQUIRE_BROWSER=1 to fail instead)")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_memo_renders_in_a_real_browser(lang: str, memos: dict[str, Path], tmp_path: Path) -> None:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    shot = tmp_path / f"memo-{lang}.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1200})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            failed: list[str] = []
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.goto(memos[lang].as_uri())
            page.wait_for_load_state("load")
            widths = page.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
            assert len(widths) == CHARTS
            assert all(w > 0 for w in widths)
            for heading in HEADINGS[lang]:
                assert page.get_by_text(heading, exact=True).first.is_visible(), heading
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert failed == []
    with Image.open(shot) as im:
        assert im.width == 900
        assert im.height > 3000  # every section, one long page
        colours = im.convert("RGB").resize((90, 300)).getcolors(maxcolors=100_000)
        assert colours is not None
        assert len(colours) > 50  # charts and text, not a blank page
