"""The command line as a user runs it, on a real SQLite file: in-process (``run_cli``), and
through the installed ``xiaowei`` executable for the first tests (``installed``)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from cli_runner import installed, run_cli


def run(*args: str, check: bool = True, process: bool = False) -> subprocess.CompletedProcess[str]:
    result = installed(*args) if process else run_cli(*args)
    if check and result.returncode != 0:
        raise AssertionError(f"xiaowei {' '.join(args)} failed:\n{result.stderr}")
    return result


def test_schedule_json_matches_the_issue_example() -> None:
    out = run(
        "schedule",
        "--amount",
        "100000",
        "--annual-rate",
        "0.12",
        "--term",
        "12",
        "--method",
        "equal-installment",
        "--start",
        "2026-01-15",
        "--json",
        process=True,
    )
    data = json.loads(out.stdout)
    assert data["installments"][0] == {
        "number": 1,
        "due_date": "2026-02-15",
        "principal": "7884.88",
        "interest": "1000.00",
        "total": "8884.88",
        "balance": "92115.12",
    }
    assert data["apr"] == 0.12
    assert data["effective_annual_rate"] == pytest.approx(0.126825, abs=1e-6)


@pytest.mark.parametrize(
    "method",
    ["equal-installment", "equal-principal", "interest-only", "bullet", "balloon", "seasonal"],
)
def test_every_method_prints_a_table(method: str) -> None:
    extra = {"balloon": ["--balloon", "0.3"], "seasonal": ["--weights", "1,1,1,2,3,4"]}
    out = run(
        "schedule",
        "--amount",
        "60000",
        "--annual-rate",
        "0.0865",
        "--term",
        "6",
        "--start",
        "2026-03-31",
        "--method",
        method,
        *extra.get(method, []),
    )
    assert "60,000.00" in out.stdout or "0.00" in out.stdout
    assert "APR" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--amount", "12.345"], "amount: 12.345 has more than two decimal", id="sub-fen"
        ),
        pytest.param(["--amount", "-5"], "amount: -5 must be greater than zero", id="negative"),
        pytest.param(["--start", "2026-02-30"], "start: '2026-02-30' is not a date", id="bad-date"),
        pytest.param(["--annual-rate", "abc"], "annual_rate: 'abc' is not a number", id="bad-rate"),
    ],
)
def test_bad_input_is_one_clear_line(args: list[str], message: str) -> None:
    base = {"--amount": "1000", "--annual-rate": "0.1", "--term": "12", "--start": "2026-01-01"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [x for pair in base.items() for x in pair]
    result = run("schedule", *flat, check=False)
    assert result.returncode == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_the_lifecycle_through_the_cli(db_url: str) -> None:
    db = ["--db", db_url]
    run("product", "import", *db)
    products = json.loads(run("product", "list", *db, "--json").stdout)
    assert {p["code"] for p in products} == {"SME-OP", "MED-AES", "STUDENT"}
    booked = json.loads(
        run(
            "loan",
            "book",
            "--product",
            "SME-OP",
            "--amount",
            "100000",
            "--term",
            "12",
            "--annual-rate",
            "0.12",
            "--start",
            "2026-01-15",
            "--customer",
            "C-001",
            "--json",
            *db,
        ).stdout
    )
    loan_id = str(booked["loan_id"])
    run("eod", "--until", "2026-03-25", *db)
    shown = json.loads(run("loan", "show", loan_id, "--json", *db).stdout)
    assert shown["dpd"] == 33  # first installment due 2026-02-20 (product repayment day)
    assert shown["bucket"] == "M2"
    assert set(shown["balances"]) >= {
        "principal_outstanding",
        "overdue_principal",
        "overdue_interest",
        "accrued_interest",
        "penalty",
    }
    assert shown["installments"][0]["paid"] == "0.00"
    paid = run(
        "loan",
        "repay",
        loan_id,
        "--amount",
        "20000",
        "--date",
        "2026-03-25",
        "--ref",
        "BANK-0001",
        *db,
    )
    assert "BANK-0001" in paid.stdout
    again = run(
        "loan",
        "repay",
        loan_id,
        "--amount",
        "20000",
        "--date",
        "2026-03-25",
        "--ref",
        "BANK-0001",
        *db,
    )
    assert "already posted" in again.stdout
    shown = json.loads(run("loan", "show", loan_id, "--json", *db).stdout)
    assert shown["dpd"] == 0
    assert shown["bucket"] == "M0"
    summary = json.loads(run("portfolio", "summary", "--json", *db).stdout)
    assert summary["loans"]["active"] == 1
    assert summary["outstanding"] == shown["balances"]["principal_outstanding"]
    tb = json.loads(run("ledger", "trial-balance", "--json", *db).stdout)
    assert sum(float(v) for v in tb.values()) == pytest.approx(0.0, abs=1e-9)


def test_errors_leave_nothing_half_written(db_url: str) -> None:
    db = ["--db", db_url]
    run("product", "import", *db)
    refused = run(
        "loan",
        "book",
        "--product",
        "SME-OP",
        "--amount",
        "99999999",
        "--term",
        "12",
        "--annual-rate",
        "0.12",
        "--start",
        "2026-01-15",
        *db,
        check=False,
    )
    assert refused.returncode == 1
    assert "amount" in refused.stderr
    assert json.loads(run("portfolio", "summary", "--json", *db).stdout)["loans"]["active"] == 0
    missing = run(
        "loan",
        "repay",
        "42",
        "--amount",
        "1",
        "--date",
        "2026-01-01",
        "--ref",
        "x",
        *db,
        check=False,
    )
    assert missing.returncode == 1
    assert "no loan 42" in missing.stderr


def test_a_database_without_schema_says_what_to_do(tmp_path: Path) -> None:
    result = run(
        "portfolio",
        "summary",
        "--db",
        f"sqlite:///{tmp_path / 'new.db'}",
        check=False,
        process=True,
    )
    assert result.returncode == 1
    assert "xiaowei db upgrade" in result.stderr


def test_tables_speak_chinese_on_request() -> None:
    args = [
        "schedule",
        "--amount",
        "10000",
        "--annual-rate",
        "0.1",
        "--term",
        "3",
        "--start",
        "2026-01-31",
        "--method",
        "equal-principal",
    ]
    zh = run("--lang", "zh-CN", *args).stdout
    en = run("--lang", "en", *args).stdout
    assert "还款日" in zh
    assert "等额本金" in zh
    assert "Due date" in en
    assert "2026-02-28" in zh  # end-of-month rule


def test_in_process_runs_are_those_of_the_installed_command(tmp_path: Path) -> None:
    """``run_cli`` prints what the executable prints (the table at the width ``COLUMNS`` sets,
    the error line) and leaves the test process as it found it: ``--lang`` writes
    ``XIAOWEI_LANG`` into the environment, the database comes from the environment's
    ``XIAOWEI_DATABASE_URL`` (a cached setting), relative paths from the working directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XIAOWEI_")}
    args = ["--lang", "zh-CN", "schedule", "--amount", "10000", "--annual-rate", "0.1",
            "--term", "3", "--start", "2026-01-31"]  # fmt: skip
    for columns in ("60", "100"):
        wide = env | {"COLUMNS": columns}
        here = run_cli(*args, env=wide)
        there = installed(*args, env=wide)
        assert (here.returncode, here.stdout, here.stderr) == (0, there.stdout, there.stderr)
    bad = [*args[:-1], "2026-02-30"]
    here, there = run_cli(*bad, env=env), installed(*bad, env=env)
    assert (here.returncode, here.stdout, here.stderr) == (1, "", there.stderr)
    before = (dict(os.environ), os.getcwd())
    assert run_cli(*args).returncode == 0
    for db in ("one.db", "two.db"):  # each from its own environment, relative to cwd
        done = run_cli("db", "upgrade", cwd=tmp_path, env=env | {"XIAOWEI_DATABASE_URL":
                       f"sqlite:///{db}"})  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert (tmp_path / db).is_file()
    assert (dict(os.environ), os.getcwd()) == before


@pytest.mark.slow
def test_demo_runs_a_small_institution(tmp_path: Path) -> None:
    # 10 loans: a year of end-of-day runs either way; tests/integration/test_demo.py checks
    # the postings of 40 loans
    out = run("demo", "--db", f"sqlite:///{tmp_path / 'demo.db'}", "--loans", "10", "--json")
    data = json.loads(out.stdout)
    assert sum(data["behaviours"].values()) == 10
    assert data["eod_days"] == 365
    portfolio = data["portfolio"]
    assert portfolio["as_of"] == "2025-12-31"
    assert portfolio["loans"]["active"] + portfolio["loans"]["closed"] == 10
    again = run("demo", "--db", f"sqlite:///{tmp_path / 'demo2.db'}", "--loans", "10", "--json")
    assert json.loads(again.stdout)["portfolio"] == portfolio  # same seed, same institution


def test_waive_write_off_and_recover_through_the_cli(db_url: str) -> None:
    db = ["--db", db_url]
    run("product", "import", *db)
    loan_id = str(
        json.loads(
            run(
                "loan",
                "book",
                "--product",
                "SME-OP",
                "--amount",
                "50000",
                "--term",
                "6",
                "--annual-rate",
                "0.1",
                "--start",
                "2026-01-15",
                "--json",
                *db,
            ).stdout
        )["loan_id"]
    )
    run("eod", "--until", "2026-05-31", *db)
    waived = run("loan", "waive", loan_id, "--date", "2026-05-31", "--ref", "W1", *db)
    assert "waiver W1" in waived.stdout
    shown = json.loads(run("loan", "show", loan_id, "--json", *db).stdout)
    assert shown["balances"]["penalty"] == "0.00"
    assert shown["balances"]["compound"] == "0.00"
    early = run(
        "loan",
        "recover",
        loan_id,
        "--amount",
        "100",
        "--date",
        "2026-05-31",
        "--ref",
        "R0",
        *db,
        check=False,
    )
    assert early.returncode == 1
    assert "recoveries follow a write-off" in early.stderr
    run("loan", "write-off", loan_id, "--date", "2026-05-31", "--ref", "WO", *db)
    again = run("loan", "write-off", loan_id, "--date", "2026-05-31", "--ref", "WO", *db)
    assert "already posted" in again.stdout
    shown = json.loads(run("loan", "show", loan_id, "--json", *db).stdout)
    assert shown["status"] == "written-off"
    assert shown["balances"]["principal_outstanding"] == "0.00"
    recovered = run(
        "loan",
        "recover",
        loan_id,
        "--amount",
        "1234.56",
        "--date",
        "2026-06-10",
        "--ref",
        "R1",
        *db,
    )
    assert "1234.56" in recovered.stdout
    tb = json.loads(run("ledger", "trial-balance", "--json", *db).stdout)
    assert sum(float(v) for v in tb.values()) == pytest.approx(0.0, abs=1e-9)
