"""The presets on a simulated institution's credit-file features, against the true PD (issue 5).

One run of 3,000 businesses (seed 2025, two workers) and its feature table; the scorecard and
LightGBM presets learn on 70 % (stratified, seed 42) and are scored on the other 30 %, where
the simulator's true PD is scored too (``benchmarks/bench_scoring_simulated.py`` does the
measuring; this module asserts on its figures).

The issue's bar — within 0.03 AUC of the true PD — cannot be checked on a point estimate at
this size: the test rows hold about 60 defaults, and the AUC's standard error is then about
0.03 itself. It is measured at 20,000 businesses by the benchmark (figures in
``xiaowei.scoring.presets``). Here, what 3,000 businesses can show:

* the bar is **not refuted**: the lower end of the 90 % paired bootstrap interval of
  AUC(true PD) − AUC(model) is at most 0.03;
* each model ranks at least as well as the true PD without its noise term (the risk the
  business's traits explain), less 0.03;
* the same checks **reject** the estimator's textbook default, the unpenalised
  ``Scorecard()``, which overfits the 350 features: the checks have teeth.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import polars as pl
import pytest

from xiaowei.core.errors import InvalidInput
from xiaowei.scoring.presets import gbm_preset, scorecard_penalty, scorecard_preset
from xiaowei.services.features import feature_table
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.generate import run

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_scoring_simulated.py"
BUSINESSES = 3_000
PRESETS = ("scorecard", "lightgbm")


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scoring_simulated", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scoring_simulated"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _bench()


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory, bench: ModuleType) -> Any:
    out = tmp_path_factory.mktemp("scoring-simulated") / "sim"
    run(SimulationConfig(businesses=BUSINESSES, seed=2025), out, workers=2, export_businesses=0)
    table = feature_table(out)
    truth = pl.read_parquet(out / "truth" / "businesses" / "*.parquet")
    m = bench.measure(
        table, truth, split_seed=42, replicates=1000, n_jobs=1, baselines=("Scorecard()",)
    )
    print("\n" + bench.report(m))
    return m


@pytest.mark.slow
def test_the_split_is_the_one_measured(measured: Any) -> None:
    assert measured.rows == BUSINESSES
    assert measured.train_rows == 2_100
    assert measured.test_rows == 900
    # about 6 % default, 30 % of them in the test rows
    assert 40 <= measured.test_defaults <= 80
    # the true PD ranks far better than chance, and its noise term matters
    assert measured.truth_auc > measured.noise_free_auc + 0.02
    assert measured.noise_free_auc > 0.70


@pytest.mark.slow
@pytest.mark.parametrize("name", PRESETS)
def test_the_bar_is_not_refuted(measured: Any, bench: ModuleType, name: str) -> None:
    model = measured.model(name)
    assert model.gap_low <= bench.BAR, bench.report(measured)
    assert model.gap_low <= model.gap <= model.gap_high


@pytest.mark.slow
@pytest.mark.parametrize("name", PRESETS)
def test_the_model_explains_what_the_traits_explain(
    measured: Any, bench: ModuleType, name: str
) -> None:
    assert measured.model(name).auc >= measured.noise_free_auc - bench.BAR


@pytest.mark.slow
def test_the_checks_reject_the_unpenalised_scorecard(measured: Any, bench: ModuleType) -> None:
    plain = measured.model("Scorecard()")
    assert plain.gap_low > bench.BAR
    assert plain.auc < measured.noise_free_auc - bench.BAR
    assert measured.model("scorecard").auc > plain.auc + 0.05


@pytest.mark.parametrize(
    ("rows", "penalty", "leaves", "leaf_rows"),
    [
        pytest.param(100, 0.005, 4, 30, id="tiny"),
        pytest.param(2_100, 0.006, 4, 30, id="3000-businesses"),
        pytest.param(np.int64(7_000), 0.02, 7, 100, id="10000-businesses"),
        pytest.param(100_000, 0.02, 7, 200, id="large"),
    ],
)
def test_the_presets_follow_the_rows(
    rows: int, penalty: float, leaves: int, leaf_rows: int
) -> None:
    card = scorecard_preset(rows)
    inverse_penalty = card.C
    assert inverse_penalty == pytest.approx(penalty)
    assert inverse_penalty == scorecard_penalty(rows)
    assert card.selector is None
    assert card.min_iv == 0.02
    gbm = gbm_preset(rows, n_jobs=2)
    assert (gbm.num_leaves, gbm.min_child_samples, gbm.n_jobs) == (leaves, leaf_rows, 2)
    assert (gbm.learning_rate, gbm.n_estimators, gbm.early_stopping_rounds) == (0.03, 1500, 100)


@pytest.mark.parametrize("rows", [0, -5, 2.5, True])
def test_the_presets_need_a_number_of_rows(rows: Any) -> None:
    with pytest.raises(InvalidInput, match="n_rows"):
        scorecard_preset(rows)
    with pytest.raises(InvalidInput, match="n_rows"):
        gbm_preset(rows)
