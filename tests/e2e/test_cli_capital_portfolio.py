"""``xiaowei capital portfolio`` as a user runs it: totals, by grade, JSON, the chart, refusals.

In-process through Typer's CliRunner (one real subprocess run at the end).  Expected figures:
the two-row worked example of ``tests/unit/decision/test_capital_portfolio.py`` (BCBS 2006
Annex 5: other retail PD 1 % LGD 45 % → 45.77 %, corporate PD 1 % LGD 45 % M 2.5 → 92.32 %).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from xiaowei.core.i18n import Lang
from xiaowei.decision.capital import portfolio_capital
from xiaowei.entrypoints.cli import app
from xiaowei.reports import capital_charts, charts

XIAOWEI = str(Path(sys.executable).parent / "xiaowei")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RUNNER = CliRunner()


def invoke(*args: str, lang: Lang = "en") -> tuple[int, str, str]:
    result = RUNNER.invoke(app, list(args), env={"XIAOWEI_LANG": lang, "COLUMNS": "100"})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def scores(tmp_path: Path) -> Path:
    """Two exposures like ``score apply --keep`` writes them (pd, grade, an amount in fen)."""
    path = tmp_path / "scores.csv"
    pl.DataFrame(
        {
            "business_id": [1, 2],
            "pd": [0.01, 0.01],
            "grade": [5, 6],
            "requested_amount_fen": [100_000_000, 200_000_000],
            "class": ["retail", "corporate"],
        }
    ).write_csv(path)
    return path


def test_json_totals_and_grades(scores: Path) -> None:
    code, out, err = invoke(
        "capital", "portfolio", str(scores), "--ead-col", "requested_amount_fen",
        "--lgd", "0.45", "--asset-class-col", "class", "--maturity", "2.5",
        "--capital-ratio", "0.08", "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    total = data["total"]
    assert (total["ead"], total["expected_loss"]) == ("3000000.00", "13500.00")
    assert total["rwa_standardised"] == "2750000.00"
    assert total["capital_standardised"] == "220000.00"
    # IRB: 45.77 % × 1,000,000 + 92.32 % × 2,000,000 at the Annex's two decimals
    assert float(total["rwa_irb"]) == pytest.approx(457_700 + 1_846_400, abs=150)
    assert data["by"] == "grade"  # the default when the file has a grade column
    assert [s["segment"] for s in data["segments"]] == ["5", "6"]
    assert data["segments"][0]["rwa_standardised"] == "750000.00"
    assert data["capital_ratio"] == "0.08"


def test_tables_in_english_and_chinese(scores: Path) -> None:
    args = ("capital", "portfolio", str(scores), "--ead-col", "requested_amount_fen", "--lgd")
    code, out, err = invoke(*args, "0.45")
    assert code == 0, err
    assert "Portfolio capital: 2 exposures, capital at 10.5% of RWA" in out
    assert "3,000,000.00" in out
    # both retail (default class): 75 % standardised
    assert "2,250,000.00" in out
    assert "By Grade" in out
    code, out, err = invoke(*args, "0.45", lang="zh-CN")
    assert code == 0, err
    assert "组合资本：2 笔风险暴露，资本 = RWA × 10.5%" in out
    assert "权重法" in out
    assert "按评级" in out


def test_flat_standardised_weight_and_another_segment(scores: Path) -> None:
    code, out, err = invoke(
        "capital", "portfolio", str(scores), "--ead-col", "requested_amount_fen",
        "--lgd", "0.45", "--standardised-weight", "1", "--by", "class",
    )  # fmt: skip
    assert code == 0, err
    assert "Standardised (100%)" in out
    assert "By class" in out
    assert "3,000,000.00 │" in out


def test_chart_is_written(scores: Path, tmp_path: Path) -> None:
    chart = tmp_path / "out" / "capital.png"
    code, out, err = invoke(
        "capital", "portfolio", str(scores), "--ead-col", "requested_amount_fen",
        "--lgd", "0.45", "--chart", str(chart),
    )  # fmt: skip
    assert code == 0, err
    assert f"wrote {chart}" in out.replace("\n", "")  # a long path wraps
    assert chart.read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_chart_renders_without_warnings(lang: Lang, tmp_path: Path) -> None:
    """In-process, so that a missing-glyph warning fails the test (filterwarnings = error)."""
    if lang == "zh-CN" and charts.cjk_font() is None:
        pytest.skip("no CJK font installed (fonts-noto-cjk)")
    frame = pl.DataFrame(
        {
            "pd": [0.004, 0.02, 0.08, 1.0],
            "ead": [1_000_000, 2_000_000, 3_000_000, 500_000],
            "grade": [3, 6, 8, 11],
        }
    )
    result = portfolio_capital(frame, lgd=0.45, ead_col="ead", by="grade")
    png = capital_charts.capital_chart(result, tmp_path / "c.png", lang=lang, maturity=2.5)
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    flat = portfolio_capital(frame, lgd=0.45, ead_col="ead", standardised_weight=Decimal("1"))
    assert capital_charts.capital_chart_png(flat, lang=lang)[:8] == PNG_SIGNATURE


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--ead-col", "amount", "--lgd", "0.45"), "ead_col: no column 'amount' in the data"),
        (
            ("--ead-col", "requested_amount_fen"),
            "lgd: give a constant LGD or an LGD column (exactly one)",
        ),
        (
            ("--ead-col", "requested_amount_fen", "--lgd", "0.45", "--lgd-col", "pd"),
            "lgd: give a constant LGD or an LGD column (exactly one)",
        ),
        (("--ead-col", "pd", "--lgd", "0.45"), "ead_col: is money"),
        (("--ead-col", "requested_amount_fen", "--lgd", "abc"), "lgd: 'abc' is not a number"),
        (
            ("--ead-col", "requested_amount_fen", "--lgd", "0.45", "--asset-class", "bank"),
            "asset_class: 'bank' is not one of retail, sme, corporate",
        ),
        (
            ("--ead-col", "requested_amount_fen", "--lgd", "0.45", "--capital-ratio", "2"),
            "capital_ratio: 2 must be in (0, 1]",
        ),
        (
            ("--ead-col", "requested_amount_fen", "--lgd", "0.45", "--by", "region"),
            "by: no column 'region' in the data",
        ),
    ],
)
def test_bad_input_is_one_clear_line(
    scores: Path, tmp_path: Path, extra: tuple[str, ...], message: str
) -> None:
    chart = tmp_path / "never.png"
    code, out, err = invoke("capital", "portfolio", str(scores), *extra, "--chart", str(chart))
    assert code == 1
    assert message in err
    assert out == ""
    assert not chart.exists()  # a refused run writes nothing


def test_missing_file(tmp_path: Path) -> None:
    code, _, err = invoke(
        "capital", "portfolio", str(tmp_path / "none.csv"), "--ead-col", "x", "--lgd", "0.45"
    )
    assert code == 1
    assert "no such file" in err


def test_real_run_on_parquet_with_a_decimal_exposure(tmp_path: Path) -> None:
    path = tmp_path / "book.parquet"
    pl.DataFrame(
        {"pd": [0.02, 1.0], "ead": [Decimal("1000000.01"), Decimal("500.00")]},
        schema_overrides={"ead": pl.Decimal(18, 2)},
    ).write_parquet(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XIAOWEI_")}
    done = subprocess.run(
        [XIAOWEI, "capital", "portfolio", str(path), "--ead-col", "ead", "--lgd", "0.45", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    total = json.loads(done.stdout)["total"]
    # 1,000,000.01 × 75 % = 750,000.0075 → 750,000.01; the defaulted 500.00 at 150 %
    assert total["rwa_standardised"] == "750750.01"
    assert total["ead"] == "1000500.01"
    assert json.loads(done.stdout)["segments"] == []
