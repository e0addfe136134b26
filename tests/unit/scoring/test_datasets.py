"""Scoring data sets (issue 5): the notes' synthetic recipe and German Credit."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from xiaowei.core.errors import InvalidInput
from xiaowei.scoring.datasets import german_credit, synthetic


@pytest.fixture(scope="module")
def data():
    return synthetic(20_000, seed=11)


def test_synthetic_follows_the_recipe(data):
    frame, y = data
    names = frame.columns
    assert len(names) == 55
    assert sum(n.startswith("mono_") for n in names) == 20
    assert sum(n.startswith("ushape_") for n in names) == 6
    assert sum(n.startswith("noise_") for n in names) == 24
    categoricals = [n for n in names if n.startswith("cat_")]
    assert len(categoricals) == 5
    assert all(frame.schema[c] == pl.String for c in categoricals)
    assert all(10 <= frame[c].n_unique() <= 30 for c in categoricals)
    shares = {n: frame[n].null_count() / frame.height for n in names}
    with_missing = [n for n, share in shares.items() if share > 0]
    assert len(with_missing) == 12
    assert all(0.02 <= shares[n] <= 0.32 for n in with_missing)
    assert sum(n.startswith("mono_") for n in with_missing) == 3
    assert y.dtype == np.int8
    assert set(np.unique(y)) == {0, 1}
    assert y.mean() == pytest.approx(0.05, abs=0.006)


def test_synthetic_is_reproducible(data):
    frame, y = data
    again, y_again = synthetic(20_000, seed=11)
    assert frame.equals(again)
    assert np.array_equal(y, y_again)
    other, _ = synthetic(20_000, seed=12)
    assert not frame.equals(other)


def test_synthetic_rejects_no_rows():
    with pytest.raises(InvalidInput, match="n_rows"):
        synthetic(0, seed=1)


def test_german_credit():
    frame, y = german_credit()
    assert frame.shape == (1_000, 20)
    assert "creditability" not in frame.columns
    assert int(y.sum()) == 300  # 30 % bad (Hofmann 1994)
    with pytest.raises(InvalidInput, match="not found"):
        german_credit("/nonexistent/germancredit.csv")
