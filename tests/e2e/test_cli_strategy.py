"""``xiaowei strategy validate|backtest`` as a user runs it (in-process through Typer's runner,
one real subprocess): tables, JSON, the chart, both languages, and refusals (one red line,
exit 1)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from xiaowei.decision.strategy import load_strategy_file, shipped_strategy_path
from xiaowei.entrypoints.cli import app
from xiaowei.services.scoring import fit_model

XIAOWEI = str(Path(sys.executable).parent / "xiaowei")
ROWS = 600


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A table of past applications with two risk drivers and a scorecard on them."""
    root = tmp_path_factory.mktemp("cli-strategy")
    rng = np.random.default_rng(5)
    x1, x2 = rng.normal(size=ROWS), rng.normal(size=ROWS)
    pd = 1.0 / (1.0 + np.exp(-(-3.0 + 1.3 * x1 - 0.9 * x2)))
    pl.DataFrame(
        {
            "business_id": np.arange(ROWS),
            "x1": x1.round(4),
            "x2": x2.round(4),
            "soft_owner_age": rng.integers(16, 70, ROWS).astype(float),
            "fin_installment_ratio": rng.uniform(0.1, 1.3, ROWS).round(3),
            "bureau_credit_history_months": rng.integers(0, 120, ROWS).astype(float),
            "requested_amount_fen": rng.integers(20_000, 1_500_000, ROWS) * 100,
            "requested_term": rng.choice([6, 12, 24, 36], ROWS),
            "industry": rng.choice(["trade", "retail", "catering"], ROWS),
            "fin_max_affordable_fen": rng.integers(0, 200_000_000, ROWS).astype(float),
            "flow_revenue_12m": rng.integers(10_000_000, 900_000_000, ROWS).astype(float),
            "flow_months_12m": np.full(ROWS, 12.0),
            "default_12m": (rng.random(ROWS) < pd).astype(int),
        }
    ).write_parquet(root / "past.parquet")
    fit_model(root / "past.parquet", target="default_12m", out=root / "card", features=["x1", "x2"])
    return {"root": root, "data": root / "past.parquet", "model": root / "card"}


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "120", "XIAOWEI_LANG": "en"})


def test_backtest_tables_and_chart(files: dict[str, Path]) -> None:
    chart = files["root"] / "backtest.png"
    result = invoke(
        "strategy", "backtest", "sme-op-growth", str(files["data"]),
        "--model", str(files["model"]), "--current", "sme-op-standard", "--chart", str(chart),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.output
    for text in (
        f"Back-test on {ROWS} applications",
        "SME-OP-GROWTH@1",
        "SME-OP-STD@1",
        "By band: SME-OP-GROWTH@1",
        "Swap set: SME-OP-GROWTH@1 against SME-OP-STD@1",
        "swap-in:",
        "policy SME-OP-KO v1: pass",
        "profit: one period",
        f"wrote {chart}",
    ):
        assert text in out, text
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_backtest_json(files: dict[str, Path]) -> None:
    result = invoke(
        "strategy", "backtest", str(shipped_strategy_path("sme-op-growth.json")),
        str(files["data"]), "--model", str(files["model"]), "--current", "sme-op-standard",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    growth = load_strategy_file(shipped_strategy_path("sme-op-growth.json"))
    assert out["candidate"]["sha256"] == growth.sha256
    assert out["applications"] == ROWS
    assert out["policy"]["code"] == "SME-OP-KO"
    assert sum(c["applications"] for c in out["swap_set"].values()) == ROWS
    cand, curr = out["candidate"], out["current"]
    assert cand["approved"] + cand["referred"] + cand["declined"] == ROWS
    # the growth strategy's wider approve bands take in at least what the standard one does
    assert cand["approved"] >= curr["approved"]
    assert out["swap_set"]["swap_out"]["applications"] == 0
    assert cand["observed_known"] == cand["approved"]
    assert sum(out["candidate"]["policy_outcomes"].values()) == ROWS
    assert [b["grade"] for b in cand["bands"]] == ["A", "B", "C", "D", "E"]
    assert out["cutoff_curve"][-1]["approval_rate"] == pytest.approx(
        cand["policy_outcomes"]["pass"] / ROWS
    )


def test_backtest_in_chinese_without_current(files: dict[str, Path]) -> None:
    result = invoke(
        "--lang", "zh-CN", "strategy", "backtest", "sme-op-standard", str(files["data"]),
        "--model", str(files["model"]),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"回测：{ROWS} 笔申请" in result.output
    assert "分档结果：SME-OP-STD@1" in result.output
    assert "换入换出" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--target", "bad_90"), "no column 'bad_90'"),
        (("--current", "no-such-strategy"), "not a file nor a shipped strategy"),
        (("--policy", "missing.json"), "missing.json"),
    ],
)
def test_backtest_refusals(files: dict[str, Path], args: tuple[str, ...], message: str) -> None:
    result = invoke(
        "strategy", "backtest", "sme-op-growth", str(files["data"]),
        "--model", str(files["model"]), *args,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "error:" in result.output
    assert message in result.output


def test_a_strategy_for_another_policy_is_refused(files: dict[str, Path]) -> None:
    document = json.loads(shipped_strategy_path().read_text(encoding="utf-8"))
    document["policy"] = "OTHER-KO"
    other = files["root"] / "other.json"
    other.write_text(json.dumps(document), encoding="utf-8")
    result = invoke(
        "strategy", "backtest", str(other), str(files["data"]), "--model", str(files["model"])
    )
    assert result.exit_code == 1
    assert "runs policy OTHER-KO" in result.output


def test_validate(tmp_path: Path) -> None:
    standard = load_strategy_file(shipped_strategy_path())
    result = invoke("strategy", "validate", "sme-op-standard")
    assert result.exit_code == 0, result.output
    assert f"valid: SME-OP-STD@1 (SME-OP), policy SME-OP-KO, sha256 {standard.sha256[:12]}" in (
        result.output
    )
    assert "3,000,000.00" in result.output
    out = json.loads(invoke("strategy", "validate", "sme-op-standard", "--json").stdout)
    assert (out["valid"], out["sha256"], len(out["bands"])) == (True, standard.sha256, 5)
    document = json.loads(shipped_strategy_path().read_text(encoding="utf-8"))
    document["bands"][1]["pd_max"] = 0.005
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    refused = invoke("strategy", "validate", str(bad))
    assert refused.exit_code == 1
    assert "bands[1].pd_max" in refused.output


def test_validate_as_a_real_process() -> None:
    result = subprocess.run(
        [XIAOWEI, "--lang", "zh-CN", "strategy", "validate", "sme-op-growth"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "有效：SME-OP-GROWTH@1" in result.stdout
    assert "转人工" in result.stdout
