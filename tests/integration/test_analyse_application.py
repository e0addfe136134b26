"""The credit file over a simulated run: every business analysable, inflaters caught.

One run of 150 businesses (seed 7, one worker, no follow window). The analysis reads only the
observable tables; ``truth/businesses.inflates_sales`` scores it. Measured (seed 7: 15 sales
inflaters, 135 honest files, all analysed): a failing equity or sales cross-check on 15/15
inflaters (1.00) and on 8/135 honest files (0.06); about 0.1 s per credit file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from xiaowei.analysis.config import AnalysisConfig
from xiaowei.core.errors import NotFound
from xiaowei.services.analysis import analyse_simulated, load_simulated_application
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.generate import run
from xiaowei.simulate.output import read_table

HONEST_SAMPLE = 25


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("application") / "sim"
    run(
        SimulationConfig(businesses=150, seed=7, follow_months=0),
        out,
        workers=1,
        export_businesses=0,
    )
    return out


def _alarm(sim: Path, business_id: int, config: AnalysisConfig) -> bool:
    cf = analyse_simulated(sim, business_id, config)
    checks = cf.cross_checks
    return (checks.equity is not None and checks.equity.verdict == "fail") or (
        checks.sales is not None and checks.sales.verdict == "fail"
    )


def test_credit_files_of_several_businesses(sim: Path) -> None:
    for b in (1, 2, 3, 50, 150):
        cf = analyse_simulated(sim, b)
        assert cf.business_id == b
        assert "statements" not in cf.sources_missing
        assert "financials" not in cf.sources_missing
        assert "declared_lenders" in cf.sources_missing  # the run has no declared-lender list
        assert cf.cross_checks.equity is not None
        assert cf.cross_checks.sales is not None
        assert cf.capacity is not None
        assert any(k.startswith("bureau_") for k in cf.features)
        assert cf.months
        assert cf.report_summary
        json.dumps(cf.to_json())


def test_inputs_are_the_business_own_rows(sim: Path) -> None:
    inputs = load_simulated_application(sim, 2)
    assert inputs.statements is not None
    assert set(inputs.statements["business_id"].unique().to_list()) == {2}
    assert inputs.personal_report is not None
    with pytest.raises(NotFound):
        load_simulated_application(sim, 10_000)


def test_sales_inflaters_fail_a_cross_check_more_often(sim: Path) -> None:
    truth = read_table(sim, "truth/businesses").select("business_id", "inflates_sales")
    inflaters = truth.filter(pl.col("inflates_sales"))["business_id"].to_list()
    honest = truth.filter(~pl.col("inflates_sales"))["business_id"].to_list()[:HONEST_SAMPLE]
    assert len(inflaters) >= 5
    config = AnalysisConfig()
    hit = sum(_alarm(sim, b, config) for b in inflaters) / len(inflaters)
    false = sum(_alarm(sim, b, config) for b in honest) / len(honest)
    print(f"\ncross-check alarms: inflaters {hit:.2f}, honest {false:.2f}")
    assert hit >= 0.8
    assert false <= 0.2
    assert hit > false


def test_cli_application_json(sim: Path) -> None:
    cmd = [sys.executable, "-m", "xiaowei.entrypoints.cli", "analyse", "application"]
    done = subprocess.run(
        [*cmd, str(sim), "--business", "1", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["business_id"] == 1
    assert {"features", "flags", "cross_checks", "capacity", "sources_missing"} <= set(out)
    missing = subprocess.run(
        [*cmd, str(sim), "--business", "99999"], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 1
    assert "no business 99999" in missing.stderr + missing.stdout
