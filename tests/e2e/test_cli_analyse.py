"""``xiaowei analyse …`` as a user runs it, on files the simulator wrote (in-process; the
report through the installed executable)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from cli_runner import installed
from cli_runner import run_cli as run
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.generate import run as simulate
from xiaowei.simulate.output import read_table


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("analyse") / "sim"
    simulate(
        SimulationConfig(businesses=40, seed=2025, follow_months=0),
        out,
        formats=["parquet", "csv", "xlsx"],
        workers=1,
        export_businesses=3,
    )
    return out


def test_statement_json_has_months_features_and_flags_with_rows(sim: Path) -> None:
    accounts = read_table(sim, "statements/accounts").filter(pl.col("business_id") == 3)
    files = [
        str(sim / "exports" / ("csv" if i % 2 else "xlsx") / f"{a}.{'csv' if i % 2 else 'xlsx'}")
        for i, a in enumerate(accounts["account_id"].to_list())
    ]
    result = run("analyse", "statement", *files, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["files"]) == accounts.height
    assert all(f["reconciles"] for f in data["files"])
    assert len(data["months"]) >= 12
    for month in data["months"]:
        assert set(month) >= {
            "month",
            "inflow",
            "outflow",
            "revenue_estimate",
            "average_daily_balance",
        }
    # the months' inflows are the files' inflows
    tx = read_table(sim, "statements/transactions").filter(pl.col("business_id") == 3)
    inflow = tx.filter(pl.col("direction") == "in")["amount_fen"].sum()
    assert sum(m["inflow"] for m in data["months"]) == inflow
    assert data["features"]
    for flag in data["flags"]:
        assert set(flag) >= {"code", "severity", "message", "transactions"}
    # nothing declared: every lender debit is a hidden debt, with its rows
    # nothing declared: the bank repayments are hidden debt; declared, they are not
    assert "hidden_debt" in {f["code"] for f in data["flags"]}
    lenders = read_table(sim, "truth/debts").filter(pl.col("business_id") == 3)["lender"]
    assert lenders.len() > 0
    declared = [x for name in lenders for x in ("--declared-lender", name)]
    told = json.loads(run("analyse", "statement", *files, *declared, "--json").stdout)
    assert "hidden_debt" not in {f["code"] for f in told["flags"]}


def test_report_json_has_the_named_features(sim: Path, tmp_path: Path) -> None:
    line = (sim / "credit_reports" / "personal" / "part-00000.jsonl").read_text("utf-8")
    doc = tmp_path / "report.json"
    doc.write_text(line.splitlines()[0], encoding="utf-8")
    result = installed("analyse", "report", str(doc), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for name in (
        "overdue_months_24m",
        "max_status_24m",
        "hard_inquiries_3m",
        "lending_institutions",
        "total_outstanding",
    ):
        assert name in data["features"]
    text = installed("analyse", "report", str(doc))
    assert text.returncode == 0
    assert "Credit history" in text.stdout


def test_bad_files_get_one_clear_line(sim: Path, tmp_path: Path) -> None:
    missing = run("analyse", "statement", str(tmp_path / "nope.csv"))
    assert missing.returncode == 1
    assert "nope.csv" in missing.stderr
    garbage = tmp_path / "garbage.csv"
    garbage.write_text("hello,world\n1,2\n", encoding="utf-8")
    bad = run("analyse", "statement", str(garbage))
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    lines = (sim / "credit_reports" / "personal" / "part-00000.jsonl").read_text("utf-8")
    doc = next(d for d in map(json.loads, lines.splitlines()) if d["PD01"] and d["PD01"][0]["E"])
    doc["PD01"][0]["E"]["status"] = "XYZ"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = run("analyse", "report", str(broken))
    assert result.returncode == 1
    assert "PD01" in result.stderr
    assert "Traceback" not in result.stderr
