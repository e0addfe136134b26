"""Benchmark: vectorised batch schedules (批量还款计划) against the per-loan scalar loop.

    .venv/bin/python benchmarks/bench_schedule.py [--loans N] [--sample S] [--seed SEED]

Builds a seeded, realistic book of N loans (12–36 monthly installments; 等额本息, 等额本金,
先息后本, 利随本清 and 气球贷; 10,000–3,000,000 CNY; 4 %–24 % a year; some grace periods and
fixed repayment days), times ``generate_schedules`` on all of them and ``generate_schedule``
called loan by loan on the first S (the loans are drawn independently, so they are a random
sample), extrapolates the loop linearly to N, checks that both give identical installments for
the sample, and prints loans per second for each and their ratio (target ≥ 20×).

``main(argv)`` returns the figures as a dict for ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

from xiaowei.lending.schedule_batch import generate_schedules, schedules_one_by_one

TARGET_SPEEDUP = 20.0

# Share of each repayment method in the book (a small-business lender's typical mix).
METHOD_MIX = {
    "equal-installment": 0.45,  # 等额本息
    "equal-principal": 0.25,  # 等额本金
    "interest-only": 0.15,  # 按月付息到期还本
    "balloon": 0.10,  # 气球贷
    "bullet": 0.05,  # 到期一次还本付息
}


def realistic_book(n_loans: int, *, seed: int = 20260115) -> pl.DataFrame:
    """A seeded book of ``n_loans`` monthly loans in the batch input format."""
    rng = np.random.default_rng(seed)
    methods = rng.choice(list(METHOD_MIX), size=n_loans, p=list(METHOD_MIX.values()))
    term = rng.integers(12, 37, size=n_loans)
    # amounts log-uniform over 10,000–3,000,000 CNY, in whole hundreds of yuan
    yuan = np.exp(rng.uniform(np.log(10_000), np.log(3_000_000), size=n_loans))
    principal_fen = np.round(yuan / 100).astype(np.int64) * 100 * 100
    rate_ppm = rng.integers(4_000, 24_001, size=n_loans) * 10  # 4.000 %–24.000 %
    amortising = np.isin(methods, ["equal-installment", "equal-principal"])
    grace = np.where(amortising & (rng.random(n_loans) < 0.1), rng.integers(1, 4, n_loans), 0)
    repayment_day = np.where(rng.random(n_loans) < 0.3, rng.integers(1, 29, n_loans), 0)
    start = np.datetime64("2024-01-01") + rng.integers(0, 3 * 365, size=n_loans)
    balloon_share_ppm = rng.integers(20, 51, size=n_loans) * 10_000  # 20 %–50 % at maturity
    return pl.DataFrame(
        {
            "loan_id": np.arange(1, n_loans + 1, dtype=np.int64),
            "principal_fen": principal_fen,
            "rate_ppm": rate_ppm,
            "term_months": term,
            "start_date": start,
            "method": methods,
            "frequency": np.full(n_loans, "monthly"),
            "grace_periods": grace,
            "repayment_day": pl.Series(repayment_day).replace(0, None),
            "balloon_share_ppm": balloon_share_ppm,
        }
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000, help="loans in the batch run")
    parser.add_argument("--sample", type=int, default=20_000, help="loans in the scalar loop")
    parser.add_argument("--seed", type=int, default=20260115)
    args = parser.parse_args(argv)
    sample_size = min(args.sample, args.loans)

    book = realistic_book(args.loans, seed=args.seed)

    began = time.perf_counter()
    batch = generate_schedules(book)
    batch_seconds = time.perf_counter() - began

    began = time.perf_counter()
    scalar = schedules_one_by_one(book.head(sample_size))
    scalar_sample_seconds = time.perf_counter() - began

    # the book's first loans are its sample, and the batch output keeps the book's order
    assert_frame_equal(batch.head(scalar.height), scalar)

    batch_rate = args.loans / batch_seconds
    scalar_rate = sample_size / scalar_sample_seconds
    figures: dict[str, Any] = {
        "loans": args.loans,
        "installments": batch.height,
        "batch_seconds": batch_seconds,
        "batch_loans_per_second": batch_rate,
        "scalar_sample_loans": sample_size,
        "scalar_sample_seconds": scalar_sample_seconds,
        "scalar_loans_per_second": scalar_rate,
        "scalar_seconds_extrapolated": args.loans / scalar_rate,
        "speedup": batch_rate / scalar_rate,
        "target_speedup": TARGET_SPEEDUP,
        "sample_identical": True,
    }
    print(
        f"batch : {args.loans:>10,} loans, {batch.height:,} installments in {batch_seconds:.2f} s"
    )
    print(f"        {batch_rate:>12,.0f} loans/s")
    print(
        f"scalar: {sample_size:>10,} loans in {scalar_sample_seconds:.2f} s "
        f"(extrapolated linearly to {args.loans:,} loans: "
        f"{figures['scalar_seconds_extrapolated']:.0f} s)"
    )
    print(f"        {scalar_rate:>12,.0f} loans/s")
    print(f"sample identical on both paths: {scalar.height:,} installments")
    verdict = "meets" if figures["speedup"] >= TARGET_SPEEDUP else "MISSES"
    print(f"speedup {figures['speedup']:.1f}× ({verdict} the {TARGET_SPEEDUP:.0f}× target)")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
