"""``xiaowei analyse cross-checks RUN``, as a trainer or a risk manager runs it (in-process;
the first command through the installed executable)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from cli_runner import installed, run_cli
from xiaowei.adapters.ipc_file import ipc_frames, ipc_from_frames, read_ipc_file, write_ipc_file
from xiaowei.core.i18n import Lang
from xiaowei.reports import charts
from xiaowei.reports.balance_sheet_charts import balance_sheet_chart, structure
from xiaowei.reports.evaluation_charts import cross_check_chart
from xiaowei.services import cross_check_eval as cce
from xiaowei.simulate.output import read_table

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(*args: str, process: bool = False) -> subprocess.CompletedProcess[str]:
    # no language or database from the developer's shell
    env = {k: v for k, v in os.environ.items() if not k.startswith("XIAOWEI_")} | {"COLUMNS": "100"}
    return installed(*args, env=env) if process else run_cli(*args, env=env)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cc") / "sim"
    made = run("simulate", "--businesses", "40", "--seed", "7", "--out", str(out), "--json")
    assert made.returncode == 0, made.stderr
    return out


def test_json_with_truth_and_chart(sim: Path, tmp_path: Path) -> None:
    chart = tmp_path / "charts" / "cc.png"
    result = run(
        "analyse", "cross-checks", str(sim), "--truth", "--json", "--chart", str(chart),
        "--business", "3", process=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["files"] == 40
    assert out["chart"] == str(chart)
    assert chart.read_bytes()[:8] == PNG_SIGNATURE
    counts = {r["check"]: r for r in out["verdict_counts"]}
    expected = cce.verdict_counts(cce.cross_check_run(sim).verdicts)
    assert counts == {r["check"]: r for r in expected.iter_rows(named=True)}
    truth = out["truth"]
    assert truth["alarm_at"] == "fail"
    assert truth["source"].startswith("truth/financial_manipulation")
    any_rows = {r["method"]: r for r in truth["by_kind"] if r["kind"] == "any"}
    assert any_rows["traditional"]["caught"] == 0
    assert any_rows["traditional"]["precision"] is None
    manipulated = any_rows["either"]["files"]
    confusion = {r["method"]: r for r in truth["confusion"]}
    assert confusion["either"]["manipulated_alarmed"] == any_rows["either"]["caught"]
    assert confusion["either"]["manipulated_missed"] == manipulated - any_rows["either"]["caught"]
    assert counts["combined"]["fail"] == (
        confusion["either"]["manipulated_alarmed"] + confusion["either"]["honest_alarmed"]
    )
    _check_detail(out["business"], sim)


def _check_detail(detail: dict[str, Any], sim: Path) -> None:
    """The ``--business 3`` part: verdicts of the batch, the equity terms adding up."""
    batch = cce.cross_check_run(sim)
    row = batch.verdicts.filter(pl.col("business_id") == 3).row(0, named=True)
    assert detail["verdicts"] == {
        "equity": row["equity_verdict"],
        "sales": row["sales_verdict"],
        "combined": row["combined_verdict"],
    }
    terms = {line["label"]: line["amount_fen"] for line in detail["equity"]["breakdown"]}
    assert terms["expected equity"] - terms["actual equity"] == terms["deviation"]
    assert terms["expected equity"] == (
        terms["equity at check point"] + terms["period profit"] + terms["capital injections"]
        + terms["appreciation"] - terms["withdrawals"] - terms["depreciation"]
    )  # fmt: skip
    assert detail["sales"]["verdict"] == row["sales_verdict"]
    kinds = read_table(sim, "truth/financial_manipulation").filter(pl.col("business_id") == 3)
    assert detail["truth_kind"] == kinds["kind"][0]


def test_text_without_truth_shows_no_evaluation(sim: Path, tmp_path: Path) -> None:
    result = run("analyse", "cross-checks", str(sim), "--chart", str(tmp_path / "v.png"))
    assert result.returncode == 0, result.stderr
    assert "verdicts 检验结论" in result.stdout
    assert "trainer's evaluation" not in result.stdout
    assert (tmp_path / "v.png").read_bytes()[:8] == PNG_SIGNATURE
    with_truth = run("analyse", "cross-checks", str(sim), "--truth", "--alarm-at", "explain")
    assert with_truth.returncode == 0, with_truth.stderr
    assert "alarm = explain or fail" in with_truth.stdout
    assert "all manipulated 全部造假" in with_truth.stdout
    one = run("analyse", "cross-checks", str(sim), "--business", "3")
    assert one.returncode == 0, one.stderr
    assert "equity cross-check 权益交叉检验" in one.stdout
    assert "sales cross-check 销售额交叉检验" in one.stdout
    assert "verdicts 检验结论" not in one.stdout
    assert "trainer's view" not in one.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere"], "nowhere is not a folder"),
        (["{sim}", "--alarm-at", "pass"], "--alarm-at: 'pass' is not one of fail, explain"),
        (["{sim}", "--business", "999"], "no business 999 in"),
    ],
    ids=["no-run", "alarm-at-pass", "no-business"],
)
def test_bad_input_is_one_clear_line(sim: Path, args: list[str], message: str) -> None:
    result = run("analyse", "cross-checks", *(a.format(sim=sim) for a in args))
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_chart_renders_without_warnings(sim: Path, tmp_path: Path, lang: Lang) -> None:
    """In-process, so that a missing-glyph warning fails the test (filterwarnings = error)."""
    if lang == "zh-CN" and charts.cjk_font() is None:
        pytest.skip("no CJK font installed (fonts-noto-cjk); the English fallback is drawn")
    result = cce.cross_check_run(sim)
    counts = cce.verdict_counts(result.verdicts)
    evaluation = cce.evaluate_against_truth(result)
    both = cross_check_chart(
        counts,
        tmp_path / "both.png",
        by_kind=evaluation.by_kind,
        confusion=evaluation.confusion,
        lang=lang,
    )
    alone = cross_check_chart(counts, tmp_path / "alone.png", lang=lang)
    for png in (both, alone):
        assert png.read_bytes()[:8] == PNG_SIGNATURE
    with pytest.raises(ValueError, match="both by_kind and confusion"):
        cross_check_chart(counts, tmp_path / "x.png", by_kind=evaluation.by_kind, lang=lang)
    with pytest.raises(ValueError, match="no verdicts"):
        cross_check_chart(counts.filter(pl.lit(value=False)), tmp_path / "y.png", lang=lang)
    shares = structure(
        read_table(sim, "financials/balance_sheets").filter(pl.col("business_id") <= 3)
    )
    sheet = balance_sheet_chart(shares, ["#1", "#2", "#3"], tmp_path / "bs.png", lang=lang)
    assert sheet.read_bytes()[:8] == PNG_SIGNATURE
    with pytest.raises(ValueError, match="one label per business"):
        balance_sheet_chart(shares, ["#1"], tmp_path / "z.png", lang=lang)


def test_balance_sheets_side_by_side(sim: Path, tmp_path: Path) -> None:
    files = [str(_ipc_file(sim, business, tmp_path)) for business in (1, 2, 3)]
    result = run("analyse", "balance-sheets", *files, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [b["business_id"] for b in out["businesses"]] == [1, 2, 3]
    sheets = pl.concat(
        [ipc_frames(read_ipc_file(Path(f)))[0] for f in files], how="diagonal_relaxed"
    )
    current = sheets.filter(pl.col("kind") == "current")
    for business in out["businesses"]:
        lines = current.filter(pl.col("business_id") == business["business_id"]).row(0, named=True)
        s = business["structure"]
        assert s["inventory"]["fen"] == lines["inventory_fen"]
        assert s["fixed_assets"]["fen"] == (
            lines["equipment_fen"] + lines["vehicles_fen"] + lines["property_fen"]
        )
        assets = ("cash_deposits", "receivables", "inventory", "fixed_assets", "other_operating",
                  "household")  # fmt: skip
        funding = ("payables", "bank_loans", "private_loans", "other_liabilities", "equity")
        total = business["total_assets_fen"]
        assert sum(s[b]["fen"] for b in assets) == total
        assert sum(s[b]["fen"] for b in funding) == total
        assert sum(s[b]["share"] for b in assets) == pytest.approx(1.0)
    chart = tmp_path / "bs.png"
    text = run("analyse", "balance-sheets", *files, "--chart", str(chart))
    assert "balance-sheet structure 资产负债表结构" in text.stdout
    assert chart.read_bytes()[:8] == PNG_SIGNATURE
    twice = run("analyse", "balance-sheets", files[0], files[0])
    assert twice.returncode == 1
    assert "the same business twice" in twice.stderr


def _ipc_file(sim: Path, business_id: int, folder: Path) -> Path:
    """The file ``xiaowei simulate ipc`` writes (tested with it in test_cli_financials.py)."""
    business = read_table(sim, "businesses").filter(pl.col("business_id") == business_id)
    ipc = ipc_from_frames(
        business_id=business_id,
        industry=business["industry"][0],
        employees=business["employees"][0],
        balance_sheets=read_table(sim, "financials/balance_sheets"),
        income_monthly=read_table(sim, "financials/income_monthly"),
        products=read_table(sim, "financials/products"),
        equity_inputs=read_table(sim, "financials/equity_reconciliation_inputs"),
    )
    target = folder / f"ipc-{business_id}.json"
    write_ipc_file(ipc, target)
    return target
