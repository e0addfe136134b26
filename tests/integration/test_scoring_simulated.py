"""The scoring presets (``xiaowei.scoring.presets``) follow the size of the training sample.

The presets against the simulator's true PD, on the 3,000 businesses of the course case
docs/cases/big-data-ipc.md, are measured in ``tests/e2e/test_case_big_data.py``: one simulated
institution serves the page and the measurement.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from xiaowei.core.errors import InvalidInput
from xiaowei.scoring.presets import gbm_preset, scorecard_penalty, scorecard_preset


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
