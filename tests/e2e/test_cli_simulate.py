"""``xiaowei simulate …`` as a user runs it: a real folder, clear errors (in-process; the run
through the installed executable)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import installed
from cli_runner import run_cli as run


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "sim"
    result = installed("simulate", "--businesses", "60", "--seed", "9", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["counts"]["businesses"] == 60
    assert data["counts"]["statements/transactions"] > 60 * 28 * 20
    return out


def test_describe_prints_rates_and_tables(sim: Path) -> None:
    text = run("simulate", "describe", str(sim))
    assert text.returncode == 0, text.stderr
    assert "60 businesses" in text.stdout
    assert "statements/transactions" in text.stdout
    data = json.loads(run("simulate", "describe", str(sim), "--json").stdout)
    assert data["businesses"] == 60
    assert {row["industry"] for row in data["industries"]} <= {
        "trade",
        "manufacturing",
        "service",
        "catering",
        "agriculture",
        "ecommerce",
    }
    assert sum(row["businesses"] for row in data["industries"]) == 60


def test_show_assembles_one_file_and_its_chart(sim: Path, tmp_path: Path) -> None:
    shown = run("simulate", "show", str(sim), "3", "--chart", str(tmp_path / "c.png"))
    assert shown.returncode == 0, shown.stderr
    for step in ("1. 营销线索", "2. 借款申请", "3. 实地调查", "5. 流水", "7. 档案清单"):
        assert step in shown.stdout
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(run("simulate", "show", str(sim), "3", "--json").stdout)
    assert data["business"]["business_id"] == 3
    assert len(data["income"]) == 12
    assert len(data["flows"]) == 12
    # the file reads observable tables only: no latent variable leaks into it
    assert "pd_12m" not in json.dumps(data)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("simulate", "--businesses", "0", "--out", "x"), "businesses"),
        (("simulate", "--months", "3", "--out", "x"), "months"),
        (("simulate", "--businesses", "5"), "--out"),
        (("simulate", "--businesses", "5", "--out", "x", "--formats", "parquet,sas"), "sas"),
    ],
)
def test_bad_options_get_one_clear_line(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x" / "manifest.json").exists()


def test_describe_and_show_refuse_what_is_not_a_run(sim: Path, tmp_path: Path) -> None:
    result = run("simulate", "describe", str(tmp_path))
    assert result.returncode == 1
    assert "not a simulator folder" in result.stderr
    missing = run("simulate", "show", str(sim), "999")
    assert missing.returncode == 1
    assert "999" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_a_run_is_not_overwritten_without_asking(sim: Path) -> None:
    before = (sim / "manifest.json").read_bytes()
    again = run("simulate", "--businesses", "10", "--out", str(sim))
    assert again.returncode == 1
    assert "--overwrite" in again.stderr
    assert (sim / "manifest.json").read_bytes() == before
