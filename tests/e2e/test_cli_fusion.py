"""``xiaowei decision routing``: the fusion routing table (融合审批路由表) as the institution reads
it — its version, sha256 and rows, first hit first — in process, with one run of the installed
entry point."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from cli_runner import installed, run_cli
from xiaowei.decision.fusion import Router, load_routing_file, shipped_routing_path

SHIPPED = load_routing_file(shipped_routing_path())


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XIAOWEI_")}
    env["COLUMNS"] = "100"
    return env


def _routing(*args: str, cwd: Path | None = None) -> Any:
    return run_cli("decision", "routing", *args, cwd=cwd, env=_env())


def _table_node(document: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = next(n for n in document["nodes"] if n["type"] == "decisionTableNode")
    return node


def test_the_shipped_table_row_by_row() -> None:
    result = _routing()
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0] == (
        f"FUSION-DEFAULT v1 Fusion routing (default) · sha256 {SHIPPED.sha256[:16]}"
    )
    rules = ["AUTO_DECLINE", "AUTO_SMALL", "COMMITTEE_LARGE", "FACTORY"]
    positions = [out.index(f"│ {rule}") for rule in rules]
    assert positions == sorted(positions), "rows are printed in the table's (first-hit) order"
    assert "│ 2 │ AUTO_SMALL      │ approve │ <= 300000 │ any │ false         │ automated" in out
    large = "│ 3 │ COMMITTEE_LARGE │ any     │ > 1000000 │ any │ any           │ factory-committee"
    assert large in out
    # the reasons as the table's authors wrote them: quotes and JSON escapes decoded
    assert "4 FACTORY: the rest (referred, counter-offered or CNY 300,000–1,000,000)" in out
    assert "\\u" not in out
    assert "'" not in out.split("└")[0], "cells print without their JDM quotes"


def test_json_rows_match_what_the_engine_decides() -> None:
    result = _routing("fusion-default.json", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["code"], doc["version"], doc["sha256"]) == ("FUSION-DEFAULT", 1, SHIPPED.sha256)
    assert doc["hit_policy"] == "first"
    assert [r["row"] for r in doc["rows"]] == [1, 2, 3, 4]
    by_rule = {r["rule"]: r for r in doc["rows"]}
    assert by_rule["AUTO_SMALL"]["when"] == {
        "action": "approve",
        "amount": "<= 300000",
        "pd": "",
        "counter_offer": "false",
    }
    # every printed row's route is the route zen-engine gives for an input only that row takes
    router = Router()
    probes = {
        "AUTO_DECLINE": {"action": "decline", "amount": 5e6, "pd": 0.2, "counter_offer": False},
        "AUTO_SMALL": {"action": "approve", "amount": 1e5, "pd": 0.01, "counter_offer": False},
        "COMMITTEE_LARGE": {"action": "approve", "amount": 2e6, "pd": 0.01, "counter_offer": True},
        "FACTORY": {"action": "refer", "amount": 1e5, "pd": 0.05, "counter_offer": False},
    }
    for rule, inputs in probes.items():
        choice = router.route(SHIPPED, inputs)
        assert choice.rule == rule
        assert by_rule[rule]["route"] == choice.route.value
        assert by_rule[rule]["reason_en"] == choice.reason_en.replace("\\u2013", "–")
        assert by_rule[rule]["reason_zh"] == choice.reason_zh


def test_chinese_reasons_with_lang() -> None:
    result = run_cli("--lang", "zh-CN", "decision", "routing", env=_env())
    assert result.returncode == 0, result.stderr
    assert "融合审批路由（默认）" in result.stdout.splitlines()[0]
    assert "3 COMMITTEE_LARGE: 100万元以上：信贷工厂调查审查后提交审批委员会" in result.stdout


def test_out_copies_the_table_to_edit_as_a_new_version(tmp_path: Path) -> None:
    copy = tmp_path / "routing.json"
    result = _routing("--out", str(copy))
    assert result.returncode == 0, result.stderr
    assert f"wrote FUSION-DEFAULT v1 to {copy}" in " ".join(result.stdout.split())
    assert copy.read_bytes() == shipped_routing_path().read_bytes()
    # the institution's own version: committee above CNY 500,000, version 2
    document = json.loads(copy.read_text(encoding="utf-8"))
    document["routing"].update(code="FUSION-BRANCH", version=2)
    large = _table_node(document)["content"]["rules"][2]
    large["in_amount"] = "> 500000"
    own = tmp_path / "branch.json"
    own.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    shown = _routing(str(own), "--json")
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert (doc["code"], doc["version"]) == ("FUSION-BRANCH", 2)
    assert doc["sha256"] == load_routing_file(own).sha256 != SHIPPED.sha256
    assert doc["rows"][2]["when"]["amount"] == "> 500000"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t["content"].update(hitPolicy="collect"), "first hit policy"),
        (lambda t: t["content"]["rules"][3].update(out_route="'branch'"), "'branch'"),
    ],
)
def test_a_bad_table_is_one_red_line_and_writes_nothing(
    tmp_path: Path, mutate: Any, message: str
) -> None:
    document = json.loads(shipped_routing_path().read_text(encoding="utf-8"))
    mutate(_table_node(document))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    out = tmp_path / "copy.json"
    result = _routing(str(bad), "--out", str(out))
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert not out.exists()


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    result = _routing(str(tmp_path / "nowhere.json"))
    assert result.returncode == 1
    assert "is not a file" in result.stderr


def test_the_installed_command(tmp_path: Path) -> None:
    result = installed("decision", "routing", "--json", cwd=tmp_path, env=_env())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sha256"] == SHIPPED.sha256
