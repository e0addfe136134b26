"""``xiaowei policy …`` as a user runs it: validate, check on a feature table, and the life
cycle on a real SQLite file (refusals are one line and exit 1). In-process; validation through
the installed executable too."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import polars as pl

from cli_runner import installed, run_cli
from xiaowei.decision.policy import shipped_policy_path

POLICY = str(shipped_policy_path())


def run(*args: str, check: bool = True, process: bool = False) -> subprocess.CompletedProcess[str]:
    result = installed(*args) if process else run_cli(*args)
    if check and result.returncode != 0:
        raise AssertionError(f"xiaowei {' '.join(args)} failed:\n{result.stderr}")
    return result


def test_validate_json_and_a_broken_file(tmp_path: Path) -> None:
    out = json.loads(run("policy", "validate", POLICY, "--json", process=True).stdout)
    assert (out["valid"], out["code"], out["version"], out["rules"]) == (True, "SME-OP-KO", 1, 22)
    doc = json.loads(Path(POLICY).read_text(encoding="utf-8"))
    doc["nodes"][1]["content"]["hitPolicy"] = "first"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    result = run("policy", "validate", str(bad), check=False, process=True)
    assert result.returncode == 1
    assert "node knock_out: hitPolicy is 'first'" in result.stderr


def test_check_on_a_feature_table(tmp_path: Path) -> None:
    table = tmp_path / "features.csv"
    pl.DataFrame(
        {
            "business_id": [1, 2, 3],
            "soft_owner_age": [40, 70, 40],
            "fin_installment_ratio": [0.4, 0.4, 1.2],
            "bureau_credit_history_months": [60, 60, 60],
            "bureau_accounts_delinquent_now": [0, 1, 0],
        }
    ).write_csv(table)
    out = json.loads(run("policy", "check", POLICY, "--features", str(table), "--json").stdout)
    assert out["counts"] == {"pass": 1, "refer": 1, "decline": 1}
    assert [[h["code"] for h in r["hits"]] for r in out["results"]] == [
        [],
        ["KO_AGE", "KO_CURRENT_OVERDUE"],
        ["REF_CAPACITY"],
    ]
    one = run("policy", "check", POLICY, "--features", str(table), "--business", "2").stdout
    assert "KO_AGE" in one
    assert "decline 1 (100.0%)" in one


def test_life_cycle(db_url: str) -> None:
    run("policy", "register", POLICY, "--by", "maker", "--db", db_url)
    refused = run(
        "policy", "approve", "SME-OP-KO", "1", "--by", "maker", "--db", db_url, check=False
    )
    assert refused.returncode == 1
    assert "maker-checker" in refused.stderr
    run("policy", "approve", "SME-OP-KO", "1", "--by", "checker", "--db", db_url)
    out = run("policy", "activate", "SME-OP-KO", "1", "--by", "head", "--db", db_url, "--json")
    assert json.loads(out.stdout)["status"] == "active"
    listed = json.loads(run("policy", "list", "--db", db_url, "--json").stdout)
    assert [(p["code"], p["version"], p["status"], p["approved_by"]) for p in listed] == [
        ("SME-OP-KO", 1, "active", "checker")
    ]
