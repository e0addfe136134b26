"""``xiaowei simulate ipc`` → ``xiaowei analyse financials``, as a user runs them (in-process;
the simulation through the installed executable)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import installed
from cli_runner import run_cli as run
from xiaowei.adapters.ipc_file import ipc_frames, read_ipc_file
from xiaowei.analysis import financials as fin


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ipc") / "sim"
    result = installed("simulate", "--businesses", "20", "--seed", "5", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize("business", [1, 2, 3])
def test_round_trip_matches_the_analysis(sim: Path, tmp_path: Path, business: int) -> None:
    target = tmp_path / f"ipc-{business}.json"
    made = run("simulate", "ipc", str(sim), str(business), "--out", str(target))
    assert made.returncode == 0, made.stderr
    result = run(
        "analyse", "financials", str(target), "--amount", "50000", "--term", "12",
        "--rate", "0.12", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) >= {"ratios", "outliers", "equity_check", "capacity", "flags"}
    sheets, _, _, equity = ipc_frames(read_ipc_file(target))
    expected = fin.equity_cross_check(sheets, equity).row(0, named=True)
    assert out["equity_check"]["verdict"] == expected["verdict"]
    assert out["equity_check"]["deviation_fen"] == expected["deviation_fen"]
    assert out["capacity"]["max_affordable_loan"] is not None
    text = run("analyse", "financials", str(target))
    assert text.returncode == 0, text.stderr
    assert f"verdict: {expected['verdict']}" in text.stdout


def test_without_loan_terms_capacity_is_null(sim: Path, tmp_path: Path) -> None:
    target = tmp_path / "ipc.json"
    assert run("simulate", "ipc", str(sim), "4", "--out", str(target)).returncode == 0
    out = json.loads(run("analyse", "financials", str(target), "--json").stdout)
    assert out["capacity"] is None
    partial = run("analyse", "financials", str(target), "--amount", "1000")
    assert partial.returncode == 1
    assert "give all three" in partial.stderr + partial.stdout


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d.pop("products"), "products"),
        (lambda d: d["balance_sheets"][0].update(cash_fen="12"), "balance_sheets[0].cash_fen"),
        (lambda d: d["equity_inputs"].update(injections_fen=-1), "equity_inputs.injections_fen"),
        (
            lambda d: d["balance_sheets"][1].update(total_assets_fen=1),
            "balance_sheets[1].total_assets_fen",
        ),
    ],
)
def test_malformed_files_exit_1_naming_the_field(
    sim: Path, tmp_path: Path, edit: object, field: str
) -> None:
    target = tmp_path / "ipc.json"
    assert run("simulate", "ipc", str(sim), "1", "--out", str(target)).returncode == 0
    doc = json.loads(target.read_text(encoding="utf-8"))
    edit(doc)  # type: ignore[operator]
    target.write_text(json.dumps(doc), encoding="utf-8")
    result = run("analyse", "financials", str(target))
    assert result.returncode == 1
    message = result.stderr + result.stdout
    assert field in message
    assert "Traceback" not in message


def test_unknown_business_and_folder(sim: Path, tmp_path: Path) -> None:
    missing = run("simulate", "ipc", str(sim), "999")
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr
    nofolder = run("simulate", "ipc", str(tmp_path / "nope"), "1")
    assert nofolder.returncode == 1
    assert "Traceback" not in nofolder.stderr
