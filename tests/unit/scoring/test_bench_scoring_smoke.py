"""Smoke test of the scoring benchmark (评分卡基准) on German Credit: every phase is measured
for every tool that is installed, and the holdout AUCs are plausible. No timing is asserted
(speed is for ``benchmarks/bench_scoring.py`` itself)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_scoring.py"
PHASES = ("bin_fit_seconds", "woe_seconds", "pipeline_seconds", "auc", "ks", "peak_rss_mb")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scoring", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scoring"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def _run(bench: ModuleType, tools: str) -> dict[str, Any]:
    figures: dict[str, Any] = bench.main(
        ["--datasets", "german", "--repeat", "1", "--tools", tools]
    )
    return figures


def _assert_every_phase(row: dict[str, Any]) -> None:
    for phase in PHASES:
        assert math.isfinite(row[phase]), phase
    assert row["bin_fit_seconds"] > 0
    assert row["woe_seconds"] > 0
    assert row["pipeline_seconds"] > 0
    assert 0.5 < row["auc"] < 1.0
    assert 0.0 < row["ks"] < 1.0


@pytest.mark.parametrize("tool", ["optbinning", "toad"])
def test_a_reference_tool_gets_every_phase_and_a_plausible_auc_on_german(
    bench: ModuleType, tool: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip(tool, reason=f"{tool} is a benchmark-only tool (the bench extra)")
    figures = _run(bench, tool)
    german = figures["german"]
    _assert_every_phase(german["tools"][tool])
    assert german["rows"] == 1000
    assert german["features"] == 20
    out = capsys.readouterr().out
    for column in ("tool", "bin fit s", "WOE s", "pipeline s", "AUC", "KS", "RSS MB"):
        assert column in out
    assert tool in out


def test_xiaowei_gets_every_phase_and_the_ratios_when_built(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = bench.unavailable("xiaowei")
    if reason is not None:
        pytest.skip(f"xiaowei's scoring binning is not built yet: {reason}")
    # one reference is enough for the ratios; toad is the quicker one on German
    references = [t for t in ("toad", "optbinning") if bench.unavailable(t) is None][:1]
    figures = _run(bench, ",".join(["xiaowei", *references]))
    german = figures["german"]
    _assert_every_phase(german["tools"]["xiaowei"])
    ratios = german["ratios"]
    assert ratios["auc_floor"] == 0.78  # the German bar, printed with its verdict
    assert "the issue's German Credit bar" in capsys.readouterr().out
    if references:
        assert ratios["pipeline_speedup"] > 0
        assert -1.0 < ratios["auc_gap"] < 1.0
        assert ratios["speedup_pass"] is None  # the speed bar is for the synthetic set


def test_an_unbuilt_xiaowei_is_reported_and_the_run_goes_on(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = bench.unavailable
    monkeypatch.setattr(
        bench,
        "unavailable",
        lambda tool: "not built" if tool == "xiaowei" else real(tool),
    )
    figures = _run(bench, "xiaowei")
    assert figures["german"]["tools"]["xiaowei"] == {"skipped": "not built"}
    assert figures["german"]["ratios"] is None
    assert "xiaowei: not available (not built)" in capsys.readouterr().out


def test_points_follow_the_design_scaling(bench: ModuleType) -> None:
    """docs/design/scoring.md: factor = 20 / ln 2 = 28.8539, offset = 600 − factor × ln 50 =
    487.1229 (hand-computed). One feature, β0 = 0, β = −1: WOE 0 → 487.12 → 487 points; WOE ln 2
    (odds good:bad doubled) → 507.12 → 507, i.e. PDO 20 points more; WOE −ln 2 → 467."""
    woe = np.array([[0.0], [math.log(2.0)], [-math.log(2.0)]])
    points = bench.scorecard_points(woe, np.array([-1.0]), 0.0)
    np.testing.assert_array_equal(points[:, 0], [487.0, 507.0, 467.0])


def test_auc_and_ks_rank_the_bads_by_the_lowest_score(bench: ModuleType) -> None:
    y = np.array([0, 0, 1, 1])
    assert bench.auc_ks(y, np.array([4.0, 3.0, 2.0, 1.0])) == (1.0, 1.0)
    auc, _ = bench.auc_ks(y, np.array([1.0, 2.0, 3.0, 4.0]))
    assert auc == 0.0
