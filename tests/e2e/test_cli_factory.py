"""``xiaowei factory …`` in-process (CliRunner): a refused step exits 1 with one clear line and
changes nothing; JSON parses; charts are PNG."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from xiaowei.entrypoints.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "100"})
    return result.exit_code, result.output


def test_factory_cli_round_trip(db_url: str, tmp_path: Path) -> None:
    db = ("--db", db_url)
    for name, stations in (
        ("zhang", "intake"),
        ("sun", "verification,approval"),
        ("wang", "analysis"),
    ):
        assert (
            run(
                "factory", "staff", "add", name, "--stations", stations, "--from", "2025-03-01", *db
            )[0]
            == 0
        )
    assert (
        run(
            "factory",
            "open",
            "APP-1",
            "--borrower",
            "b",
            "--amount",
            "1000",
            "--term",
            "6",
            "--by",
            "zhang",
            "--at",
            "2025-03-03T09:00",
            *db,
        )[0]
        == 0
    )
    steps = [("zhang", "pass"), ("sun", "pass"), ("wang", "pass")]
    for i, (who, outcome) in enumerate(steps):
        hour = 10 + 2 * i
        assert (
            run("factory", "claim", "1", "--by", who, "--at", f"2025-03-03T{hour}:00", *db)[0] == 0
        )
        assert (
            run(
                "factory",
                "complete",
                "1",
                "--by",
                who,
                "--outcome",
                outcome,
                "--at",
                f"2025-03-03T{hour + 1}:00",
                *db,
            )[0]
            == 0
        )
    code_before, shown_before = run("factory", "show", "1", "--json", *db)
    code, out = run("factory", "claim", "1", "--by", "sun", "--at", "2025-03-04T09:00", *db)
    assert code == 1
    assert "maker-checker" in out
    assert run("factory", "show", "1", "--json", *db) == (code_before, shown_before)
    case = json.loads(shown_before)
    assert case["station"] == "approval"
    assert case["investigators"] == ["sun", "wang"]
    code, out = run("factory", "events", "1", "--json", *db)
    assert [e["action"] for e in json.loads(out)] == ["opened"] + ["claimed", "completed"] * 3
    chart = tmp_path / "m.png"
    code, out = run("factory", "metrics", "--json", "--chart", str(chart), *db)
    assert code == 0
    assert json.loads(out)["stations"][0]["completed"] == 1
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_simulate_json_and_chart(tmp_path: Path) -> None:
    chart = tmp_path / "s.png"
    code, out = run(
        "factory",
        "simulate",
        "--days",
        "14",
        "--rotation-weeks",
        "1",
        "--seed",
        "3",
        "--json",
        "--chart",
        str(chart),
    )
    assert code == 0
    data = json.loads(out)
    assert data["fixed"]["opened"] == data["rotation"]["opened"]
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rotate_needs_a_schedule(db_url: str) -> None:
    code, out = run("factory", "rotate", "--db", db_url)
    assert code == 1
    assert "--plan FILE or --every-weeks" in out
