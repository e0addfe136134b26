"""The feature table of a simulated run equals the credit files it stands for.

One run of 120 businesses (seed 11, one worker); the batch table is compared with
``analyse_simulated`` on a sample of applicants, feature by feature.
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

from cli_runner import run_cli
from xiaowei.core.errors import NotFound
from xiaowei.services.analysis import analyse_simulated
from xiaowei.services.features import APPLICATION_COLUMNS, feature_table
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.generate import run
from xiaowei.simulate.output import read_table

#: Per-application features the batch table leaves out (Python per file, not batch work).
PER_FILE_ONLY = ("soft_deviation_rate", "soft_weighted_deviation_rate", "will_")
PER_FILE_ONLY_EXACT = ("soft_favourable_items", "soft_neutral_items", "soft_risky_items")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("features") / "sim"
    run(SimulationConfig(businesses=120, seed=11), out, workers=1, export_businesses=0)
    return out


@pytest.fixture(scope="module")
def table(sim: Path) -> pl.DataFrame:
    steps: list[str] = []
    out = feature_table(sim, progress=steps.append)
    assert steps[-1] == "done"
    return out


def test_one_row_per_applicant_with_the_outcome(sim: Path, table: pl.DataFrame) -> None:
    businesses = read_table(sim, "businesses")
    assert table.height == businesses.height
    assert table["business_id"].is_unique().all()
    assert set(APPLICATION_COLUMNS) <= set(table.columns)
    outcomes = read_table(sim, "loans/outcomes").select("business_id", "default_12m")
    both = table.select("business_id", "default_12m").join(
        outcomes.rename({"default_12m": "seen"}), on="business_id"
    )
    assert (both["default_12m"] == both["seen"].cast(pl.Int8)).all()
    truth = set(read_table(sim, "truth/businesses").columns) - {"business_id"}
    assert not truth & set(table.columns)
    prefixes = {c.split("_", 1)[0] for c in table.columns if c not in APPLICATION_COLUMNS}
    assert {"flow", "bureau", "fin", "pos", "soft", "net"} <= prefixes


def _close(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    x, y = float(str(a)), float(str(b))
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    # capacity: the file divides Decimal installments rounded to the fen, the batch floats
    return abs(x - y) <= 1e-6 * max(1.0, abs(x))


@pytest.mark.parametrize("business_id", [1, 2, 17, 40, 63, 88, 120])
def test_the_batch_row_is_the_credit_file(sim: Path, table: pl.DataFrame, business_id: int) -> None:
    cf = analyse_simulated(sim, business_id)
    row = table.filter(pl.col("business_id") == business_id).row(0, named=True)
    compared = 0
    for key, value in cf.features.items():
        if key.startswith(PER_FILE_ONLY) or key in PER_FILE_ONLY_EXACT:
            assert key not in row
            continue
        assert key in row, f"{key} missing from the feature table"
        assert _close(value, row[key]), (key, value, row[key])
        compared += 1
    assert compared > 150
    # a feature of a source the applicant does not have is null in the table, never 0
    for prefix, source in (("pos_", "pos"), ("ecom_", "ecommerce"), ("att_", "attendance")):
        if source in cf.sources_missing:
            assert all(row[c] is None for c in row if c.startswith(prefix)), prefix


def test_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="manifest"):
        feature_table(tmp_path)


def test_cli_writes_the_table_atomically(sim: Path, table: pl.DataFrame, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    out = tmp_path / "features.parquet"
    cmd = [sys.executable, "-m", "xiaowei.entrypoints.cli", "analyse", "features", str(sim)]
    done = subprocess.run(
        [*cmd, "--out", str(out), "--json"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rows"] == table.height
    written = pl.read_parquet(out)
    assert written.columns == table.columns
    # equal up to float summation order (Polars aggregates in parallel): 1e-12 relative
    from polars.testing import assert_frame_equal

    assert_frame_equal(written, table, rel_tol=1e-12, abs_tol=1e-12)
    # the refusals in-process
    again = run_cli("analyse", "features", str(sim), "--out", str(out))
    assert again.returncode == 1
    assert "exists" in again.stderr
    bad = run_cli("analyse", "features", str(sim), "--out", str(tmp_path / "x.txt"))
    assert bad.returncode == 1
    assert ".parquet or .csv" in bad.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["features.parquet"]
