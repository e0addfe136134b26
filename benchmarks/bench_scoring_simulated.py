"""Benchmark: models on the simulated credit-file features against the simulator's true PD.

    .venv/bin/python benchmarks/bench_scoring_simulated.py [--businesses N] [--seed S]
                     [--workers W] [--run DIR] [--keep DIR] [--split-seed K]
                     [--bootstrap B] [--defaults]

Issue 5's quality bar: "scorecard and LightGBM trained on the credit-file features reach within
0.03 AUC of the simulator's true-PD AUC". The benchmark simulates a run
(``xiaowei.simulate.generate.run``, default 20,000 businesses, seed 2025, two workers; or reuses
``--run DIR``), builds its feature table (``xiaowei.services.features.feature_table``: every
column but ``business_id``, ``application_date`` and the label ``default_12m`` is a feature),
splits it 70/30 stratified on ``default_12m`` (seed 42), fits
:func:`~xiaowei.scoring.presets.scorecard_preset` and :func:`~xiaowei.scoring.presets.gbm_preset`
on the 70 % and scores the 30 %. ``truth/`` is read only to evaluate: on the **same test rows**
it measures the AUC of the true PD (``pd_12m``), of the PD without its unobservable noise term
(``logit − latent_noise``, the part of the risk the business's traits explain), and of each
model; the gap is truth − model, with a paired stratified bootstrap (bads and goods resampled
apart, ``--bootstrap`` times, default 1,000, seed 0: the truth and the model scored on the same
resample) giving its 90 % interval. ``--defaults`` also fits ``Scorecard()`` and
``GradientBoosting()`` with the estimators' own defaults for comparison.

A test default counts about 0.06 × 0.3 × N: with 3,000 businesses that is some 60, and the
AUC's standard error is then about 0.03 — the size of the bar. Measure with 20,000.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

BAR = 0.03
"""Largest AUC gap to the true PD that the issue accepts."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

NOT_FEATURES = ("business_id", "application_date", "default_12m")

BASELINES = ("Scorecard()", "GradientBoosting()")
"""The estimators with their own defaults, for comparison (``--defaults``)."""


def weighted_auc(y: IntArray, score: FloatArray, weights: FloatArray) -> FloatArray:
    """AUC (ties ½, higher score = riskier) under each row of ``weights`` (B × n counts).

    One sort of the score serves every bootstrap replicate: a row drawn k times counts k times.
    With unit weights it is :func:`xiaowei.scoring.metrics.auc`.
    """
    order = np.argsort(score, kind="stable")
    s, t, w = score[order], y[order], weights[:, order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(s)) + 1))
    goods = np.add.reduceat(w * (t == 0), starts, axis=1)
    bads = np.add.reduceat(w * (t == 1), starts, axis=1)
    below = np.cumsum(goods, axis=1) - goods
    result: FloatArray = (bads * (below + 0.5 * goods)).sum(axis=1) / (
        bads.sum(axis=1) * goods.sum(axis=1)
    )
    return result


def bootstrap_weights(y: IntArray, replicates: int, seed: int) -> FloatArray:
    """Stratified bootstrap counts (B × n): bads and goods each resampled to their own number."""
    rng = np.random.default_rng(seed)
    out = np.zeros((replicates, y.shape[0]))
    for label in (0, 1):
        rows = np.flatnonzero(y == label)
        out[:, rows] = rng.multinomial(rows.size, np.full(rows.size, 1.0 / rows.size), replicates)
    return out


@dataclass
class ModelFigures:
    """One model's test AUC, its gap to the true PD and the gap's bootstrap interval."""

    name: str
    auc: float
    gap: float
    gap_low: float  # 5 % quantile of the bootstrap gaps
    gap_high: float  # 95 % quantile
    gap_to_noise_free: float  # AUC of the noise-free PD − model
    fit_seconds: float
    detail: str


@dataclass
class Measurement:
    """Truth and models on the same test rows of one run."""

    rows: int
    train_rows: int
    test_rows: int
    test_defaults: int
    truth_auc: float
    noise_free_auc: float
    models: list[ModelFigures] = field(default_factory=list)

    def model(self, name: str) -> ModelFigures:
        return next(m for m in self.models if m.name == name)


def measure(
    table: pl.DataFrame,
    truth: pl.DataFrame,
    *,
    split_seed: int = 42,
    replicates: int = 1000,
    n_jobs: int = 1,
    baselines: Sequence[str] = (),
) -> Measurement:
    """Fit the presets on 70 % of ``table`` and compare them with the truth on the other 30 %.

    ``table``: a feature table with ``default_12m``; ``truth``: ``truth/businesses`` (read for
    ``pd_12m``, ``logit`` and ``latent_noise`` only, never given to a model); ``baselines``:
    estimators fitted with their own defaults as well, among :data:`BASELINES`.
    """
    from sklearn.model_selection import train_test_split

    from xiaowei.scoring.gbm import GradientBoosting
    from xiaowei.scoring.metrics import auc
    from xiaowei.scoring.presets import gbm_preset, scorecard_preset
    from xiaowei.scoring.scorecard import Scorecard

    table = table.filter(pl.col("default_12m").is_not_null()).sort("business_id")
    joined = table.select("business_id").join(
        truth.select(
            "business_id",
            "pd_12m",
            (pl.col("logit") - pl.col("latent_noise")).alias("noise_free_logit"),
        ),
        on="business_id",
        how="left",
    )
    y = table["default_12m"].cast(pl.Int64).to_numpy()
    features = table.drop(*NOT_FEATURES)
    rows = np.arange(table.height)
    train, test = train_test_split(rows, test_size=0.3, stratify=y, random_state=split_seed)
    train, test = np.sort(train), np.sort(test)
    y_test = y[test]
    weights = bootstrap_weights(y_test, replicates, seed=0)
    true_pd = joined["pd_12m"].to_numpy()[test]
    noise_free = joined["noise_free_logit"].to_numpy()[test]
    truth_boot = weighted_auc(y_test, true_pd, weights)
    out = Measurement(
        rows=table.height,
        train_rows=train.size,
        test_rows=test.size,
        test_defaults=int(y_test.sum()),
        truth_auc=auc(y_test, true_pd),
        noise_free_auc=auc(y_test, noise_free),
    )
    n = int(train.size)
    candidates: list[tuple[str, Any]] = [
        ("scorecard", scorecard_preset(n)),
        ("lightgbm", gbm_preset(n, n_jobs=n_jobs)),
    ]
    defaults = {"Scorecard()": Scorecard(), "GradientBoosting()": GradientBoosting(n_jobs=n_jobs)}
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        raise ValueError(f"unknown baselines {unknown}; choose from {BASELINES}")
    candidates += [(name, defaults[name]) for name in baselines]
    x_train, x_test = features[train], features[test]
    for name, model in candidates:
        began = time.perf_counter()
        model.fit(x_train, y[train])
        seconds = time.perf_counter() - began
        risk = np.asarray(model.predict_proba(x_test)[:, 1], dtype=np.float64)
        value = auc(y_test, risk)
        gaps = truth_boot - weighted_auc(y_test, risk, weights)
        detail = (
            f"{len(model.features_)} features, C={model.C:g}"
            if isinstance(model, Scorecard)
            else f"{model.best_iteration_} trees, {model.num_leaves} leaves"
        )
        out.models.append(
            ModelFigures(
                name=name,
                auc=value,
                gap=out.truth_auc - value,
                gap_low=float(np.quantile(gaps, 0.05)),
                gap_high=float(np.quantile(gaps, 0.95)),
                gap_to_noise_free=out.noise_free_auc - value,
                fit_seconds=seconds,
                detail=detail,
            )
        )
    return out


def report(m: Measurement) -> str:
    lines = [
        f"{m.rows:,} applicants: {m.train_rows:,} training rows, {m.test_rows:,} test rows "
        f"with {m.test_defaults} defaults",
        f"true PD (pd_12m) AUC {m.truth_auc:.4f}; without its noise term {m.noise_free_auc:.4f}",
    ]
    for f in m.models:
        verdict = "within" if f.gap <= BAR else "outside"
        lines.append(
            f"{f.name:<19} AUC {f.auc:.4f}  gap {f.gap:+.4f} (90 % {f.gap_low:+.4f} … "
            f"{f.gap_high:+.4f}) {verdict} {BAR}; vs noise-free {f.gap_to_noise_free:+.4f}; "
            f"{f.detail}; fit {f.fit_seconds:.1f} s"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--businesses", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--run", type=Path, default=None, help="use this simulated run")
    parser.add_argument("--keep", type=Path, default=None, help="simulate here and keep it")
    parser.add_argument("--split-seed", type=int, default=42)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--defaults", action="store_true", help="also the estimators' defaults")
    args = parser.parse_args(argv)

    from xiaowei.services.features import feature_table
    from xiaowei.simulate.config import SimulationConfig
    from xiaowei.simulate.generate import run

    tmp = Path(tempfile.mkdtemp(prefix="bench-scoring-simulated-"))
    try:
        simulate_seconds = 0.0
        run_dir = args.run
        if run_dir is None:
            run_dir = args.keep or tmp / "run"
            began = time.perf_counter()
            config = SimulationConfig(businesses=args.businesses, seed=args.seed)
            run(config, run_dir, workers=args.workers, overwrite=True, export_businesses=0)
            simulate_seconds = time.perf_counter() - began
        began = time.perf_counter()
        table = feature_table(run_dir)
        feature_seconds = time.perf_counter() - began
        truth = pl.read_parquet(run_dir / "truth" / "businesses" / "*.parquet")
        m = measure(
            table,
            truth,
            split_seed=args.split_seed,
            replicates=args.bootstrap,
            n_jobs=args.n_jobs,
            baselines=BASELINES if args.defaults else (),
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    source = f"run {args.run}" if args.run else f"simulated (seed {args.seed})"
    print(
        f"{source}: simulate {simulate_seconds:.1f} s, feature table {feature_seconds:.1f} s "
        f"({table.width - len(NOT_FEATURES)} features); split seed {args.split_seed}"
    )
    print(report(m))
    return {
        "businesses": m.rows,
        "seed": None if args.run else args.seed,
        "split_seed": args.split_seed,
        "simulate_seconds": round(simulate_seconds, 1),
        "feature_seconds": round(feature_seconds, 1),
        "test_defaults": m.test_defaults,
        "truth_auc": round(m.truth_auc, 4),
        "noise_free_auc": round(m.noise_free_auc, 4),
        **{
            f"{f.name}_{k}": round(v, 4)
            for f in m.models
            for k, v in (("auc", f.auc), ("gap", f.gap), ("gap_low", f.gap_low))
        },
    }


if __name__ == "__main__":
    main(sys.argv[1:])
