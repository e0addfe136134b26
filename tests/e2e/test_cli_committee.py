"""``xiaowei committee …`` as a user runs it on a SQLite file: members, open with a memo, convene,
a refused vote by the investigator (one red line, exit 1, nothing written), votes, decide, show,
list, events and the form."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from xiaowei.entrypoints.cli import app

XIAOWEI = str(Path(sys.executable).parent / "xiaowei")
runner = CliRunner()


def cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, f"xiaowei {' '.join(args)}:\n{result.output}"
    return result.output


def test_a_committee_meeting_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    db = ("--db", db_url)
    memo = tmp_path / "memo.html"
    memo.write_text("<html><body><h1>授信审查报告</h1></body></html>", encoding="utf-8")
    assert "chair 主任委员" in cli(
        "committee", "member", "add", "wang", "--role", "chair", "--by", "admin", *db
    )
    for name in ("li", "zhao", "chen", "sun", "zhou"):
        cli("committee", "member", "add", name, "--by", "admin", *db)
    cli("committee", "member", "add", "qian", "--role", "secretary", "--by", "admin", *db)
    roll = json.loads(cli("committee", "member", "list", "--json", *db))
    assert [(m["name"], m["role"]) for m in roll][:2] == [("wang", "chair"), ("chen", "member")]

    opened = cli(
        "committee", "open", "APP-3", "--borrower", "安泰副食品商行", "--amount", "150000",
        "--term", "12", "--rate", "0.0865", "--method", "equal-installment",
        "--investigated-by", "zhou", "--referred-by", "li", "--memo", str(memo), "--by", "zhou",
        *db,
    )  # fmt: skip
    assert "CC-0001" in opened
    assert "150,000.00 CNY, 12 months at 8.6500%" in opened
    bad = cli("committee", "open", "APP-4", "--borrower", "x", "--amount", "1.001", "--term", "12",
              "--rate", "0.08", "--investigated-by", "zhou", "--referred-by", "li", "--by", "z",
              *db, code=1)  # fmt: skip
    assert "amount" in bad

    convened = cli(
        "committee", "convene", "CC-0001", "--present", "wang,li,zhao,chen,sun,zhou,qian",
        "--date", "2025-05-08", "--by", "qian", *db,
    )  # fmt: skip
    assert "quorum 法定人数 4/4 met" in convened
    assert "recused 回避: zhou (investigated" in convened
    before = cli("committee", "events", "1", "--json", *db)
    refused = cli("committee", "vote", "1", "--member", "zhou", "--vote", "approve",
                  "--opinion", "my own case", *db, code=1)  # fmt: skip
    assert "zhou is recused from case CC-0001" in refused
    assert cli("committee", "events", "1", "--json", *db) == before  # nothing written

    for member, vote in (("wang", "approve"), ("chen", "approve"), ("sun", "reject")):
        cli("committee", "vote", "1", "--member", member, "--vote", vote, "--opinion", "意见", *db)
    cli("committee", "vote", "1", "--member", "zhao", "--vote", "conditions", "--opinion", "ok",
        "--conditions", "spouse guarantees", *db)  # fmt: skip
    decided = cli("committee", "decide", "1", "--by", "qian", *db)
    assert "conditional 附条件同意 — 3 of 4 eligible voters in favour (threshold 2/3)" in decided
    assert "condition 条件 1: spouse guarantees" in decided

    shown = json.loads(cli("committee", "show", "CC-0001", "--json", *db))
    assert shown["resolution"] == "conditional"
    assert shown["tally"]["reject"] == 1
    assert {r["member"] for r in shown["recusals"]} == {"zhou", "li"}
    assert "recused 回避" in cli("committee", "show", "1", *db)
    assert "附条件同意" in cli("committee", "list", *db)
    actions = [e["action"] for e in json.loads(cli("committee", "events", "1", "--json", *db))]
    assert actions[0] == "opened"
    assert actions[-1] == "decided"
    assert "decided" in cli("committee", "events", "1", *db)

    form = cli("committee", "form", "1", "--html", str(tmp_path / "f.html"),
               "--pdf", str(tmp_path / "f.pdf"), "--lang", "en", *db)  # fmt: skip
    assert "with the credit memo attached" in form
    assert (tmp_path / "f.pdf").read_bytes()[:5] == b"%PDF-"
    assert "Credit committee resolution" in (tmp_path / "f.html").read_text("utf-8")
    assert "not a case number" in cli("committee", "show", "CC-x", *db, code=1)
    assert "no committee case CC-0009" in cli("committee", "show", "9", *db, code=1)


def test_a_refusal_is_one_red_line_and_exit_1(db_url: str) -> None:
    """A real process: the error line on stderr, exit code 1."""
    result = subprocess.run(
        [XIAOWEI, "committee", "convene", "1", "--present", "a,b,c", "--by", "x", "--db", db_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: no committee case CC-0001 (id 1)"
