"""``xiaowei simulate report``: one business's credit report as a document, as a user runs it
(in-process; the run through the installed executable)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from cli_runner import installed
from cli_runner import run_cli as run
from xiaowei.adapters.credit_report_xml import parse_report_xml
from xiaowei.analysis.credit_report_schema import parse_report


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "sim"
    result = installed(
        "simulate", "--businesses", "40", "--seed", "11", "--out", str(out), "--json"
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def index(sim: Path) -> pl.DataFrame:
    return pl.read_parquet(sim / "credit_reports" / "index" / "*.parquet")


def test_writes_the_application_report_as_pretty_json(sim: Path, tmp_path: Path) -> None:
    target = tmp_path / "deep" / "report-3.json"
    result = run("simulate", "report", str(sim), "3", "--out", str(target))
    assert result.returncode == 0, result.stderr
    assert "report-3.json" in result.stdout
    text = target.read_text(encoding="utf-8")
    assert text.startswith("{\n  ")  # pretty
    doc = json.loads(text)
    assert doc["business_id"] == 3
    assert doc["kind"] == "application"
    assert doc["layout"].startswith("xiaowei.pboc.personal/")
    report = parse_report(doc)  # the strict models accept it as it is
    assert report.report_id == doc["report_id"]
    # the file feeds the analyst's command
    analysed = run("analyse", "report", str(target), "--json")
    assert analysed.returncode == 0, analysed.stderr
    assert json.loads(analysed.stdout)["summary"]["business_id"] == 3


def test_prints_refresh_and_enterprise_reports(sim: Path, index: pl.DataFrame) -> None:
    firm = int(index.filter(pl.col("subject") == "enterprise")["business_id"].min())  # type: ignore[arg-type]
    for kind in ("application", "refresh"):
        for subject in ("personal", "enterprise"):
            result = run(
                "simulate", "report", str(sim), str(firm), "--kind", kind, "--subject", subject
            )
            assert result.returncode == 0, result.stderr
            doc = json.loads(result.stdout)
            expected = index.filter(
                (pl.col("business_id") == firm)
                & (pl.col("kind") == kind)
                & (pl.col("subject") == subject)
            )["report_id"].to_list()
            assert [doc["report_id"]] == expected
            assert doc["layout"].startswith(f"xiaowei.pboc.{subject}/")


def test_xml_round_trips_to_the_same_report(sim: Path, tmp_path: Path) -> None:
    as_json = json.loads(run("simulate", "report", str(sim), "5").stdout)
    target = tmp_path / "report-5.xml"
    result = run("simulate", "report", str(sim), "5", "--xml", "--out", str(target))
    assert result.returncode == 0, result.stderr
    assert target.read_bytes().startswith(b"<?xml")
    assert parse_report_xml(target) == parse_report(as_json)
    printed = run("simulate", "report", str(sim), "5", "--xml")
    assert printed.stdout.encode("utf-8") == target.read_bytes()


def test_clear_errors(sim: Path, index: pl.DataFrame, tmp_path: Path) -> None:
    firms = set(index.filter(pl.col("subject") == "enterprise")["business_id"].to_list())
    sole = min(set(index["business_id"].to_list()) - firms)  # 个体工商户: no enterprise report
    cases = [
        ((str(sim), str(sole), "--subject", "enterprise"), "个体工商户"),
        ((str(sim), "999"), "business 999 is not in"),
        ((str(sim), "0"), "business_id"),
        ((str(tmp_path), "1"), "no manifest.json"),
        ((str(sim), "1", "--kind", "annual"), "kind"),
        ((str(sim), "1", "--subject", "company"), "subject"),
    ]
    for args, message in cases:
        result = run("simulate", "report", *args, "--out", str(tmp_path / "x.json"))
        assert result.returncode == 1, (args, result.stdout)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert not (tmp_path / "x.json").exists()
