"""Stability monitoring (issue 5): PSI / CSI against hand-computed examples, Hypothesis
invariants, bins, missing values, traffic lights and bad input."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from xiaowei.core.errors import InvalidInput
from xiaowei.scoring import monitoring


def test_psi_hand_computed_explicit_breaks() -> None:
    """Breaks 1, 2, 3: reference shares ¼ ¼ ¼ ¼, current 0.1 0.2 0.3 0.4.
    PSI = (0.1 − 0.25)·ln 0.4 + (0.2 − 0.25)·ln 0.8 + (0.3 − 0.25)·ln 1.2 + (0.4 − 0.25)·ln 1.6
        = 0.137444 + 0.011157 + 0.009116 + 0.070501 = 0.228217 → yellow (0.10–0.25)."""
    centres = np.array([0.5, 1.5, 2.5, 3.5])
    reference = np.repeat(centres, [25, 25, 25, 25])
    current = np.repeat(centres, [10, 20, 30, 40])
    table = monitoring.psi_table(reference, current, bins=[1, 2, 3])
    expected = pl.DataFrame(
        {
            "bin": ["[-inf, 1)", "[1, 2)", "[2, 3)", "[3, inf)"],
            "lower": [-math.inf, 1.0, 2.0, 3.0],
            "upper": [1.0, 2.0, 3.0, math.inf],
            "reference_count": [25, 25, 25, 25],
            "current_count": [10, 20, 30, 40],
            "reference_share": [0.25] * 4,
            "current_share": [0.1, 0.2, 0.3, 0.4],
            "psi": [
                -0.15 * math.log(0.4),
                -0.05 * math.log(0.8),
                0.05 * math.log(1.2),
                0.15 * math.log(1.6),
            ],
        }
    )
    assert_frame_equal(table, expected)
    value = monitoring.psi(reference, current, bins=[1, 2, 3])
    assert value == pytest.approx(0.228217, abs=1e-6)
    assert monitoring.stability_light(value) == "yellow"


def test_psi_empty_bin_takes_epsilon() -> None:
    """Reference 50 | 50 | 0, current 40 | 40 | 20. The empty reference share becomes
    ε = 1e-4: PSI = 2·(0.4 − 0.5)·ln 0.8 + (0.2 − 1e-4)·ln(0.2 / 1e-4)
                  = 2·0.0223144 + 0.1999·7.600902 = 1.564049."""
    reference = np.repeat([0.0, 1.0], [50, 50])
    current = np.repeat([0.0, 1.0, 2.0], [40, 40, 20])
    expected = 2 * (-0.1 * math.log(0.8)) + 0.1999 * math.log(2000)
    assert monitoring.psi(reference, current, bins=[1, 2]) == pytest.approx(expected)
    assert expected == pytest.approx(1.564049, abs=1e-6)
    coarse = monitoring.psi(reference, current, bins=[1, 2], epsilon=1e-2)
    assert coarse == pytest.approx(2 * (-0.1 * math.log(0.8)) + 0.19 * math.log(20))


def test_quantile_bins_are_left_closed_and_from_the_reference() -> None:
    """0 … 99 in ten bins: cuts at the deciles 9.9, 19.8, …, ten values per bin; a value on a
    break goes to the bin it starts (left-closed, as the binning's bins)."""
    reference = np.arange(100.0)
    cuts = monitoring.reference_breaks(reference, bins=10)
    np.testing.assert_allclose(cuts, np.arange(1, 10) * 9.9)
    table = monitoring.psi_table(reference, reference, bins=10)
    assert table["reference_count"].to_list() == [10] * 10
    assert monitoring.psi_table([1.0, 2.0, 3.0], [2.0], bins=[2.0])["current_count"].to_list() == [
        0,
        1,
    ]


def test_few_distinct_values_get_one_bin_each() -> None:
    """A grade or WOE-coded column with 3 values and bins=10: one bin per value, not deciles."""
    reference = [0.0, 0.0, 1.0, 2.0, 2.0, 2.0]
    np.testing.assert_array_equal(monitoring.reference_breaks(reference), [1.0, 2.0])
    table = monitoring.psi_table(reference, [0.0, 1.0, 1.0, 2.0])
    assert table["reference_count"].to_list() == [2, 1, 3]
    assert table["current_count"].to_list() == [1, 2, 1]


def test_missing_values_error_for_a_score_and_a_bin_on_request() -> None:
    with pytest.raises(InvalidInput, match="missing") as error:
        monitoring.psi([1.0, np.nan, 3.0], [1.0, 2.0])
    assert error.value.field == "reference"
    table = monitoring.psi_table([1.0, np.nan, 3.0, 4.0], [1.0, 2.0], bins=[2.0], missing="bin")
    assert table["bin"].to_list() == ["[-inf, 2)", "[2, inf)", "missing"]
    assert table["reference_count"].to_list() == [1, 2, 1]
    assert table["current_count"].to_list() == [1, 1, 0]
    no_nan = monitoring.psi_table([1.0, 3.0], [1.0, 2.0], bins=[2.0], missing="bin")
    assert no_nan["bin"].to_list() == ["[-inf, 2)", "[2, inf)"]


def test_categorical_psi_hand_computed() -> None:
    """Levels a, b, c, d: reference ½ ¼ ¼ 0, current ¼ ½ 0 ¼ (ε = 1e-4 for the zeros).
    a: (¼ − ½)·ln ½ = 0.173287; b: (½ − ¼)·ln 2 = 0.173287;
    c: (1e-4 − ¼)·ln(1e-4 / ¼) = 1.955229; d: (¼ − 1e-4)·ln(¼ / 1e-4) = 1.955229."""
    table = monitoring.categorical_psi_table(["a", "a", "b", "c"], ["a", "b", "b", "d"])
    assert table["bin"].to_list() == ["a", "b", "c", "d"]
    assert table["reference_count"].to_list() == [2, 1, 1, 0]
    assert table["current_count"].to_list() == [1, 2, 0, 1]
    c_term = (1e-4 - 0.25) * math.log(1e-4 / 0.25)
    assert table["psi"].to_list() == pytest.approx(
        [0.25 * math.log(2), 0.25 * math.log(2), c_term, c_term]
    )


def test_csi_per_feature_with_lights() -> None:
    """Numeric (quantile bins), string (levels), explicit breaks and a feature with missing
    values, each with the CSI of its own per-bin table and the light of that value."""
    rng = np.random.default_rng(8)
    n = 4_000
    reference = pl.DataFrame(
        {
            "income": rng.lognormal(10, 0.5, n),
            "sector": rng.choice(["retail", "food", "trade"], n, p=[0.5, 0.3, 0.2]),
            "age": rng.integers(20, 70, n).astype(float),
            "months_on_book": np.where(rng.uniform(size=n) < 0.1, np.nan, rng.uniform(0, 60, n)),
        }
    )
    current = pl.DataFrame(
        {
            "income": rng.lognormal(10.4, 0.5, n),  # shifted: red
            "sector": rng.choice(["retail", "food", "trade"], n, p=[0.5, 0.3, 0.2]),
            "age": rng.integers(20, 70, n).astype(float),
            "months_on_book": np.where(rng.uniform(size=n) < 0.3, np.nan, rng.uniform(0, 60, n)),
        }
    )
    result = monitoring.csi(reference, current, breaks={"age": [30, 40, 50, 60]})
    assert result["feature"].to_list() == ["income", "sector", "age", "months_on_book"]
    assert result["bins"].to_list() == [10, 3, 5, 11]
    for row in result.iter_rows(named=True):
        table = monitoring.feature_psi_table(
            reference[row["feature"]],
            current[row["feature"]],
            bins=[30, 40, 50, 60] if row["feature"] == "age" else 10,
        )
        assert row["csi"] == pytest.approx(table["psi"].sum())
        assert row["light"] == monitoring.stability_light(row["csi"])
    lights = dict(zip(result["feature"], result["light"], strict=True))
    assert lights["income"] == "red"
    assert lights["sector"] == "green"
    assert lights["age"] == "green"
    loose = monitoring.csi(reference, current, features=["income"], yellow=0.5, red=5.0)
    assert loose["light"].to_list() == ["yellow"]


@pytest.mark.parametrize(
    ("value", "light"),
    [
        pytest.param(0.0, "green", id="zero"),
        pytest.param(0.0999, "green", id="just-below-0.10"),
        pytest.param(0.10, "yellow", id="at-0.10"),
        pytest.param(0.25, "yellow", id="at-0.25"),
        pytest.param(0.2501, "red", id="above-0.25"),
    ],
)
def test_stability_light_bands(value: float, light: str) -> None:
    """< 0.10 green, 0.10–0.25 yellow, > 0.25 red (Siddiqi 2006; Yurdakul 2018)."""
    assert monitoring.stability_light(value) == light


@pytest.mark.parametrize(
    ("call", "field"),
    [
        pytest.param(lambda: monitoring.psi([], [1.0]), "reference", id="empty-reference"),
        pytest.param(lambda: monitoring.psi([1.0], [np.inf]), "current", id="infinite"),
        pytest.param(lambda: monitoring.psi([1.0], ["x"]), "current", id="not-numeric"),
        pytest.param(lambda: monitoring.psi([1.0], [1.0], bins=0), "bins", id="zero-bins"),
        pytest.param(lambda: monitoring.psi([1.0], [1.0], bins=[2, 1]), "bins", id="unsorted"),
        pytest.param(lambda: monitoring.psi([1.0], [1.0], epsilon=0.0), "epsilon", id="eps"),
        pytest.param(
            lambda: monitoring.csi(pl.DataFrame({"a": [1.0]}), pl.DataFrame({"b": [1.0]})),
            "features",
            id="feature-not-in-current",
        ),
        pytest.param(
            lambda: monitoring.stability_light(0.1, yellow=0.3, red=0.2), "yellow", id="l"
        ),
    ],
)
def test_bad_input_raises_invalid_input(call: object, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field


# --------------------------------------------------------------------------- properties

_samples = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=80
)


@settings(max_examples=150, deadline=None)
@given(_samples, _samples, st.integers(min_value=1, max_value=12))
def test_psi_is_nonnegative_and_zero_against_itself(
    reference: list[float], current: list[float], bins: int
) -> None:
    assert monitoring.psi(reference, current, bins=bins) >= 0.0
    assert monitoring.psi(reference, reference, bins=bins) == 0.0
    assert monitoring.psi(current, current, bins=bins) == 0.0


@settings(max_examples=100, deadline=None)
@given(_samples, _samples)
def test_psi_is_symmetric_on_fixed_breaks(reference: list[float], current: list[float]) -> None:
    """(a − e)·ln(a / e) = (e − a)·ln(e / a): on the same bins, swapping samples keeps PSI."""
    breaks = [-1e3, 0.0, 1e3]
    forward = monitoring.psi(reference, current, bins=breaks)
    assert monitoring.psi(current, reference, bins=breaks) == pytest.approx(forward)
