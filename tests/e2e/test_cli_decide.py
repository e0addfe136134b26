"""``xiaowei decide`` and ``xiaowei decision show|list|replay``: in process through Typer's
CliRunner, with one real run of the installed entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from xiaowei.adapters.model_artefact import save_model
from xiaowei.decision.policy import shipped_policy_path
from xiaowei.decision.strategy import shipped_strategy_path
from xiaowei.entrypoints.cli import app
from xiaowei.scoring.calibration import Calibrator
from xiaowei.scoring.scorecard import Scorecard

XIAOWEI = Path(sys.executable).parent / "xiaowei"


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model, a feature table of 8 applicants and a migrated database with the active
    policy."""
    root = tmp_path_factory.mktemp("decide")
    rng = np.random.default_rng(5)
    n = 3000
    ratio = rng.uniform(0.0, 1.2, n)
    inquiries = rng.poisson(1.5, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-3.2 + 2.0 * ratio + 0.4 * inquiries)))).astype(np.int8)
    frame = pl.DataFrame({"fin_installment_ratio": ratio, "bureau_hard_inquiries_3m": inquiries})
    card = Scorecard().fit(frame, y)
    calibrator = Calibrator().fit(np.asarray(card.score(frame), dtype=np.float64), y)
    save_model(card, root / "card", name="card", calibrator=calibrator)
    table = pl.DataFrame(
        {
            "business_id": list(range(1, 9)),
            "application_date": [date(2026, 3, 10)] * 8,
            "industry": ["service", "trade"] * 4,
            "region": ["GZ"] * 8,
            "requested_amount_fen": [20_000_000, 60_000_000] * 4,
            "requested_term": [12, 24] * 4,
            "soft_owner_age": [40, 35, 70, 45, 50, 30, 41, 39],
            "fin_installment_ratio": [0.2, 0.3, 0.2, 1.2, 0.1, 0.4, None, 0.25],
            "bureau_credit_history_months": [60] * 8,
            "bureau_hard_inquiries_3m": [0, 1, 0, 2, 0, 5, 1, 0],
            "fin_max_affordable_fen": [30_000_000] * 8,
            "flow_revenue_12m": [240_000_000] * 8,
            "flow_months_12m": [12] * 8,
            "default_12m": [0] * 8,
        }
    )
    table.write_parquet(root / "features.parquet")
    db = f"sqlite:///{root / 'd.db'}"
    runner = CliRunner()
    for args in (
        ["db", "upgrade"],
        ["policy", "register", str(shipped_policy_path()), "--by", "li"],
        ["policy", "approve", "SME-OP-KO", "1", "--by", "wang"],
        ["policy", "activate", "SME-OP-KO", "1", "--by", "wang"],
    ):
        result = runner.invoke(app, [*args, "--db", db])
        assert result.exit_code == 0, result.output
    return root


def _run(work: Path, *args: str) -> Any:
    result = CliRunner().invoke(
        app, [*args, "--db", f"sqlite:///{work / 'd.db'}"], env={"COLUMNS": "100"}
    )
    return result


def test_decide_a_table_row_then_show_list_and_replay(work: Path) -> None:
    first = _run(
        work,
        "decide",
        str(work / "features.parquet"),
        "--business",
        "1",
        "--model",
        str(work / "card"),
        "--save-application",
        str(work / "app-1.json"),
    )
    assert first.exit_code == 0, first.output
    assert first.output.startswith("decision #1 · APP-000001 · ")
    assert "offer 授信方案" in first.output
    # the saved application decides to the same stored record (idempotent)
    again = _run(work, "decide", str(work / "app-1.json"), "--model", str(work / "card"))
    assert again.exit_code == 0, again.output
    assert "decision #1 (already decided with these versions)" in again.output
    shown = _run(work, "decision", "show", "1", "--json")
    assert shown.exit_code == 0, shown.output
    record = json.loads(shown.output)["record"]
    assert record["application_id"] == "APP-000001"
    listed = _run(work, "decision", "list", "--json")
    assert [r["id"] for r in json.loads(listed.output)] == [1]
    replay = _run(work, "decision", "replay", "1", "--by", "auditor")
    assert replay.exit_code == 0, replay.output
    assert "decision #1 replayed: identical 一致" in replay.output
    assert "replay #1 by auditor: identical" in _run(work, "decision", "show", "1").output


def test_decide_with_a_challenger_in_json(work: Path) -> None:
    growth = shipped_strategy_path("sme-op-growth.json")
    result = _run(
        work,
        "decide",
        str(work / "features.parquet"),
        "--business",
        "2",
        "--model",
        str(work / "card"),
        "--challenger",
        str(growth),
        "--challenger-share",
        "0.5",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["arm"] in ("champion", "challenger")
    assert set(data["ids"]) == {"champion", "challenger"}
    assert len(data["shadows"]) == 1
    assert data["record"]["versions"]["strategy"]["code"] == (
        "SME-OP-STD" if data["arm"] == "champion" else "SME-OP-GROWTH"
    )


def test_a_declined_applicant_shows_every_reason(work: Path) -> None:
    result = _run(
        work,
        "--lang",
        "zh-CN",
        "decide",
        str(work / "features.parquet"),
        "--business",
        "3",
        "--model",
        str(work / "card"),
        "--blacklist-hit",
        "--dry-run",
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("dry run 试算 (not stored) · APP-000003 · decline 拒绝")
    assert "KO_BLACKLIST" in result.output
    assert "KO_AGE" in result.output
    assert "黑名单" in result.output  # the reasons in the language asked for


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--business", "99"], "no row with business_id 99"),
        ([], "a feature table needs --business N"),
        (["--business", "1", "--challenger-share", "1.5", "--challenger", "x.json"], "x.json"),
    ],
)
def test_bad_input_is_one_clear_line(work: Path, args: list[str], message: str) -> None:
    result = _run(
        work, "decide", str(work / "features.parquet"), "--model", str(work / "card"), *args
    )
    assert result.exit_code == 1
    assert message in result.output


def test_the_installed_command_decides_a_dry_run(work: Path) -> None:
    result = subprocess.run(
        [
            str(XIAOWEI),
            "decide",
            str(work / "features.parquet"),
            "--business",
            "5",
            "--model",
            str(work / "card"),
            "--policy",
            str(shipped_policy_path()),
            "--dry-run",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["decision_id"] is None
    assert data["record"]["application_id"] == "APP-000005"


def test_the_shipped_policy_is_exported_to_register(tmp_path: Path) -> None:
    out = tmp_path / "ko.json"
    result = CliRunner().invoke(app, ["policy", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote SME-OP-KO v1 (22 rules)" in result.output
    assert out.read_bytes() == shipped_policy_path().read_bytes()
    missing = CliRunner().invoke(app, ["policy", "export", "none.json", "--out", str(out)])
    assert missing.exit_code == 1
    assert "no shipped policy 'none.json'" in missing.output


def test_a_policy_is_activated_by_the_file_that_was_registered(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    policy = tmp_path / "ko.json"
    runner = CliRunner()
    for args in (
        ["db", "upgrade"],
        ["policy", "export", "--out", str(policy)],
        ["policy", "register", str(policy), "--by", "li"],
        ["policy", "approve", "SME-OP-KO", "1", "--by", "wang"],
    ):
        extra = [] if args[1] == "export" else ["--db", db]
        result = runner.invoke(app, [*args, *extra])
        assert result.exit_code == 0, result.output
    changed = tmp_path / "changed.json"
    document = json.loads(policy.read_text(encoding="utf-8"))
    document["policy"]["name_en"] = "edited after approval"
    changed.write_text(json.dumps(document), encoding="utf-8")
    refused = runner.invoke(app, ["policy", "activate", str(changed), "--by", "wang", "--db", db])
    assert refused.exit_code == 1
    assert "is not the content registered as SME-OP-KO@1" in refused.output
    done = runner.invoke(app, ["policy", "activate", str(policy), "--by", "wang", "--db", db])
    assert done.exit_code == 0, done.output
    assert "activated 已生效: SME-OP-KO v1 (SME-OP) → active" in done.output


def test_a_decision_can_be_dated_for_a_replayed_timeline(work: Path) -> None:
    result = _run(
        work,
        "decide",
        str(work / "features.parquet"),
        "--business",
        "7",
        "--model",
        str(work / "card"),
        "--at",
        "2026-03-10T09:30",
        "--json",
    )
    assert result.exit_code == 0, result.output
    number = json.loads(result.output)["decision_id"]
    shown = json.loads(_run(work, "decision", "show", str(number), "--json").output)
    assert shown["decided_at"].startswith("2026-03-10T09:30")
    bad = _run(work, "decide", str(work / "features.parquet"), "--business", "8", "--model",
               str(work / "card"), "--at", "yesterday")  # fmt: skip
    assert bad.exit_code == 1
    assert "'yesterday' is not a time" in bad.output
