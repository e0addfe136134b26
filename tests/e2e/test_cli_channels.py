"""``xiaowei analyse channels`` and ``xiaowei analyse attendance`` as a user runs them
(in-process; the first command through the installed executable)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from cli_runner import installed
from cli_runner import run_cli as run
from xiaowei.core.i18n import Lang
from xiaowei.reports import channel_charts, charts
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.generate import run as simulate
from xiaowei.simulate.output import read_table

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli_channels") / "sim"
    simulate(SimulationConfig(businesses=80, seed=2025), out, workers=1, export_businesses=0)
    return out


def test_channels_json_and_chart(sim: Path, tmp_path: Path) -> None:
    b = read_table(sim, "businesses").filter(pl.col("has_pos") & pl.col("has_ecommerce"))
    business = int(b["business_id"][0])
    png = tmp_path / "channels.png"
    result = installed(
        "analyse", "channels", str(sim), "--business", str(business), "--json", "--chart",
        str(png), "--lang", "zh-CN",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["business_id"] == business
    assert {"statements", "pos", "ecommerce"} <= set(data["sources"])
    assert len(data["months"]) == 12
    pos = read_table(sim, "pos/settlements").filter(pl.col("business_id") == business)
    first = date.fromisoformat(data["months"][0]["month"] + "-01")
    in_month = pos.filter(pl.col("trade_date").dt.truncate("1mo") == first)
    assert data["months"][0]["pos_gross"] == in_month["gross_fen"].sum()
    assert data["features"]["pos"]["pos_months_12m"] == 12
    assert png.read_bytes()[:8] == PNG
    text = run("analyse", "channels", str(sim), "--business", str(business))
    assert text.returncode == 0, text.stderr
    assert "channels by month" in text.stdout
    assert "MCC" in text.stdout


def test_attendance_run_and_one_loan(sim: Path, tmp_path: Path) -> None:
    result = run("analyse", "attendance", str(sim), "--json", "--chart", str(tmp_path / "ew.png"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    ev = data["evaluation"]
    assert ev["loans"] == 80
    assert ev["defaulters"] + ev["performing"] == ev["monitored"]
    assert ev["caught"] + ev["flagged_late"] + ev["not_flagged"] == ev["defaulters"]
    assert len(data["loans"]) == ev["monitored"]
    assert "truth" not in data
    assert (tmp_path / "ew.png").read_bytes()[:8] == PNG
    business = data["loans"][0]["business_id"]
    png = tmp_path / "curve.png"
    one = run("analyse", "attendance", str(sim), "--business", str(business), "--chart", str(png))
    assert one.returncode == 0, one.stderr
    assert f"business {business}" in one.stdout
    assert "early warning" in one.stdout
    assert png.read_bytes()[:8] == PNG
    trainer = run("analyse", "attendance", str(sim), "--json", "--truth")
    assert trainer.returncode == 0, trainer.stderr
    assert json.loads(trainer.stdout)["truth"]["defaulters"] == ev["defaulters"]


def test_errors_are_one_line(sim: Path) -> None:
    missing = run("analyse", "channels", str(sim), "--business", "99999")
    assert missing.returncode == 1
    assert "no business 99999" in missing.stderr
    lang = run("analyse", "channels", str(sim), "--business", "1", "--lang", "fr")
    assert lang.returncode == 1
    assert "lang" in lang.stderr
    no_run = run("analyse", "attendance", str(sim / "nothing"))
    assert no_run.returncode == 1
    assert "not a folder" in no_run.stderr


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_channel_charts_render_without_warnings(lang: Lang, tmp_path: Path) -> None:
    """In-process, so that a missing-glyph warning fails the test (filterwarnings = error)."""
    if lang == "zh-CN" and charts.cjk_font() is None:
        pytest.skip("no CJK font installed (fonts-noto-cjk); English is drawn instead")
    months = [
        {
            "month": f"2025-{m:02d}",
            "bank_inflow": 30_000_000,
            "bank_revenue": 25_000_000,
            "pos_gross": 8_000_000,
            "ecom_gmv": None if m < 3 else 5_000_000,
            "web_pv": 1000 * m,
            "web_uv": 300 * m,
            "web_conversion": 0.02,
        }
        for m in range(1, 13)
    ]
    a = channel_charts.channels_chart(months, tmp_path / "a.png", title="t", lang=lang)
    curve = [
        {"month": date(2025, m, 1), "attendance_rate": 0.95 - 0.02 * m, "avg_staff": 6.0}
        for m in range(1, 13)
    ]
    b = channel_charts.attendance_chart(
        curve,
        tmp_path / "b.png",
        loan_date=date(2025, 3, 15),
        first_missed=date(2026, 2, 20),
        baseline_rate=0.95,
        drop=0.10,
        drop_months=[date(2025, 9, 1)],
        lang=lang,
    )
    c = channel_charts.early_warning_chart(
        [1, 3], tmp_path / "c.png", flagged_late=2, not_flagged=1, defaulters=5,
        performing=40, false_alarms=1, lang=lang,
    )  # fmt: skip
    for png in (a, b, c):
        assert png.read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match="no months"):
        channel_charts.channels_chart([], tmp_path / "none.png", lang=lang)


def test_channel_charts_fall_back_to_english_without_a_cjk_font(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    png = channel_charts.early_warning_chart(
        [2], tmp_path / "ew.png", flagged_late=0, not_flagged=0, defaulters=1,
        performing=3, false_alarms=0, lang="zh-CN",
    )  # fmt: skip
    assert png.read_bytes()[:8] == PNG
    assert channel_charts.text("never", charts.chart_lang("zh-CN")) == "no flag"
