"""``xiaowei score fit | apply | report | monitor`` as a user runs them, on files (in-process;
the first fit through the installed executable)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from cli_runner import installed
from cli_runner import run_cli as run
from xiaowei.scoring.datasets import synthetic

# model fits and reports
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli_score")
    frame, y = synthetic(4_000, 8)
    table = frame.with_columns(
        pl.Series("business_id", np.arange(1, 4_001), dtype=pl.Int64),
        pl.Series("bad", np.asarray(y), dtype=pl.Int8),
    )
    table.head(3_000).write_csv(root / "train.csv")
    table.tail(1_000).write_parquet(root / "new.parquet")
    return root


@pytest.fixture(scope="module")
def card(folder: Path) -> Path:
    done = installed(
        "score", "fit", str(folder / "train.csv"), "--target", "bad", "--out",
        str(folder / "card"), "--name", "sme-card", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return folder / "card"


def test_fit_prints_the_samples_and_saves_the_artefact(folder: Path, card: Path) -> None:
    manifest = json.loads((card / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["name"] == "sme-card"
    assert set(manifest["metrics"]) == {"train", "test"}
    # the table a user reads, in English and in Chinese
    done = run(
        "score", "fit", str(folder / "train.csv"), "--target", "bad", "--out",
        str(folder / "gbm"), "--model", "lightgbm", "--features", "mono_*,cat_*",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "AUC" in done.stdout
    assert "train" in done.stdout
    assert "test" in done.stdout
    assert f"saved {folder / 'gbm'}" in done.stdout.replace("\n", "")
    gbm = json.loads((folder / "gbm" / "manifest.json").read_text(encoding="utf-8"))
    assert gbm["kind"] == "lightgbm"
    assert all(f.startswith(("mono_", "cat_")) for f in gbm["features"])
    zh = run("--lang", "zh-CN", "score", "apply", str(card), str(folder / "new.parquet"),
             "--out", str(folder / "zh.csv"), "--show", "2")  # fmt: skip
    assert zh.returncode == 0, zh.stderr
    assert "评级" in zh.stdout
    assert "风险最高的申请" in zh.stdout
    riskiest = pl.read_csv(folder / "zh.csv").sort("pd", descending=True, maintain_order=True)
    assert str(riskiest["business_id"][0]) in zh.stdout


def test_apply_writes_every_row(folder: Path, card: Path) -> None:
    out = folder / "scores.parquet"
    done = run("score", "apply", str(card), str(folder / "new.parquet"), "--out", str(out),
               "--reasons", "2", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    scores = pl.read_parquet(out)
    assert summary["rows"] == scores.height == 1_000
    assert sum(summary["grades"].values()) == 1_000
    assert summary["mean_pd"] == pytest.approx(scores["pd"].mean())
    assert scores.columns[:4] == ["business_id", "score", "pd", "grade"]
    again = run("score", "apply", str(card), str(folder / "new.parquet"), "--out", str(out))
    assert again.returncode == 1
    assert "exists" in again.stderr


def test_monitor_reports_psi_and_draws_the_chart(folder: Path, card: Path) -> None:
    chart = folder / "psi.png"
    done = run("score", "monitor", str(card), str(folder / "train.csv"),
               str(folder / "new.parquet"), "--chart", str(chart), "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["reference_rows"] == 3_000
    assert result["current_rows"] == 1_000
    assert result["score_psi"] < 0.1  # the same population
    assert result["score_light"] == "green"
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_report_writes_the_html(folder: Path, card: Path) -> None:
    out = folder / "report.html"
    done = run("score", "report", str(card), str(folder / "train.csv"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") or page.lstrip().lower().startswith("<!doctype")
    assert "sme-card" in page


def test_errors_are_one_clear_line(folder: Path) -> None:
    done = run("score", "fit", str(folder / "train.csv"), "--target", "nope",
               "--out", str(folder / "x"))  # fmt: skip
    assert done.returncode == 1
    assert "target: no column 'nope'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (folder / "x").exists()
    missing = run("score", "apply", str(folder / "nothing"), str(folder / "new.parquet"),
                  "--out", str(folder / "y.csv"))  # fmt: skip
    assert missing.returncode == 1
    assert "manifest.json missing" in missing.stderr
