"""Data sets for scoring tests and benchmarks (评分卡测试数据).

* :func:`synthetic` — the seeded synthetic credit data of the research notes
  (``shared/research/scoring_toolkits.md``, "Setup"): 50 numeric features — 20 monotone in
  the log-odds (``mono_01``…``mono_20``), 6 U-shaped (``ushape_01``…``ushape_06``), 24 pure
  noise (``noise_01``…``noise_24``); 12 of them with 3–30 % missing values (NaN), of which 3
  are informative (``mono_01``…``mono_03``, whose missingness also carries risk) — plus 5
  string categoricals with 10–30 levels (``cat_1``…``cat_5``; the first 3 informative). The
  bad rate (违约率) is calibrated to 5 % by solving for the intercept.
* :func:`german_credit` — the Statlog German Credit data shipped in ``data/germancredit.csv``
  (target ``creditability``; "bad" = 1).

Both return ``(frame, y)``: a Polars frame of the features and an ``int8`` array of the
target (1 = bad, 0 = good).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from xiaowei.core.errors import InvalidInput

__all__ = ["german_credit", "synthetic"]

N_MONOTONE = 20
N_USHAPE = 6
N_NOISE = 24
N_CATEGORICAL = 5
N_INFORMATIVE_CATEGORICAL = 3
N_WITH_MISSING = 12
N_INFORMATIVE_MISSING = 3
BAD_RATE = 0.05

_GERMAN_PATH = Path(__file__).resolve().parents[3] / "data" / "germancredit.csv"


def _raw_feature(rng: np.random.Generator, kind: int, n: int) -> npt.NDArray[np.float64]:
    """A feature with a credit-data-like distribution (skewed amounts, counts, ratios)."""
    match kind % 5:
        case 0:
            return rng.normal(50.0, 15.0, n)
        case 1:
            return rng.lognormal(10.0, 0.8, n)  # amounts: long right tail
        case 2:
            return rng.poisson(2.5, n).astype(np.float64)  # counts: few distinct values
        case 3:
            return rng.uniform(0.0, 1.0, n)  # ratios
        case _:
            return rng.exponential(12.0, n)  # durations


def _standardised_rank(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """A monotone transform of ``x`` to a unit-variance logistic score (ties share a value).

    u = mid-rank / n in (0, 1); z = ln(u / (1 − u)) · √3 / π.
    """
    sorted_x = np.sort(x)
    first = np.searchsorted(sorted_x, x, side="left")
    last = np.searchsorted(sorted_x, x, side="right") - 1
    u = ((first + last) / 2.0 + 0.5) / x.shape[0]
    z: npt.NDArray[np.float64] = np.log(u / (1.0 - u)) * (np.sqrt(3.0) / np.pi)
    return z


def _calibrated_intercept(eta: npt.NDArray[np.float64], rate: float) -> float:
    """Intercept a with mean(sigmoid(a + eta)) = rate (bisection)."""
    lo, hi = -30.0, 30.0
    for _ in range(60):
        mid = (lo + hi) / 2.0
        if np.mean(1.0 / (1.0 + np.exp(-(mid + eta)))) > rate:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2.0


def synthetic(n_rows: int, seed: int) -> tuple[pl.DataFrame, npt.NDArray[np.int8]]:
    """The notes' synthetic credit data: ``n_rows`` applicants, reproducible from ``seed``."""
    if n_rows < 1:
        raise InvalidInput("n_rows", "must be >= 1")
    rng = np.random.default_rng(seed)
    n = n_rows
    columns: dict[str, npt.NDArray[np.float64] | list[str]] = {}
    eta = np.zeros(n)
    for j in range(N_MONOTONE):
        x = _raw_feature(rng, j, n)
        beta = rng.uniform(0.15, 0.5) * rng.choice((-1.0, 1.0))
        eta += beta * _standardised_rank(x)
        columns[f"mono_{j + 1:02d}"] = x
    for j in range(N_USHAPE):
        x = rng.normal(0.0, 1.0, n) * rng.uniform(1.0, 20.0) + rng.uniform(-50.0, 50.0)
        z = _standardised_rank(x)
        eta += rng.uniform(0.2, 0.4) * (z**2 - 1.0)
        columns[f"ushape_{j + 1:02d}"] = x
    for j in range(N_NOISE):
        columns[f"noise_{j + 1:02d}"] = _raw_feature(rng, j, n)
    # Missing values: 3 informative monotone features (missingness adds risk) + 9 noise ones.
    with_missing = [f"mono_{j + 1:02d}" for j in range(N_INFORMATIVE_MISSING)] + [
        f"noise_{j + 1:02d}" for j in range(N_WITH_MISSING - N_INFORMATIVE_MISSING)
    ]
    for name in with_missing:
        values = np.asarray(columns[name], dtype=np.float64).copy()
        gone = rng.random(n) < rng.uniform(0.03, 0.30)
        values[gone] = np.nan
        if name.startswith("mono_"):
            eta += 0.4 * gone
        columns[name] = values
    for j in range(N_CATEGORICAL):
        n_levels = int(rng.integers(10, 31))
        freq = rng.dirichlet(np.full(n_levels, 2.0))
        codes = rng.choice(n_levels, size=n, p=freq)
        if j < N_INFORMATIVE_CATEGORICAL:
            effect = rng.normal(0.0, 0.4, n_levels)
            eta += effect[codes]
        labels = np.array([f"{chr(ord('A') + j)}{k:02d}" for k in range(n_levels)])
        columns[f"cat_{j + 1}"] = labels[codes].tolist()
    intercept = _calibrated_intercept(eta, BAD_RATE)
    p_bad = 1.0 / (1.0 + np.exp(-(intercept + eta)))
    y = (rng.random(n) < p_bad).astype(np.int8)
    frame = pl.DataFrame(
        {
            name: pl.Series(name, values, dtype=pl.String)
            if isinstance(values, list)
            else pl.Series(name, values, dtype=pl.Float64, nan_to_null=True)
            for name, values in columns.items()
        }
    )
    return frame, y


def german_credit(path: str | Path | None = None) -> tuple[pl.DataFrame, npt.NDArray[np.int8]]:
    """German Credit (德国信用数据): 1,000 applicants, 20 attributes, 30 % bad."""
    source = Path(path) if path is not None else _GERMAN_PATH
    if not source.is_file():
        raise InvalidInput("path", f"German Credit file not found: {source}")
    frame = pl.read_csv(source)
    if "creditability" not in frame.columns:
        raise InvalidInput("path", "the file has no 'creditability' column")
    target = frame.get_column("creditability")
    if not target.is_in(["good", "bad"]).all():
        raise InvalidInput("creditability", "values must be 'good' or 'bad'")
    y = (target == "bad").to_numpy().astype(np.int8)
    return frame.drop("creditability"), y
