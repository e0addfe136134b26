"""Benchmark: the synthetic institution (模拟机构) — businesses × months of statements.

    .venv/bin/python benchmarks/bench_simulate.py [--businesses N] [--months M]
                                                  [--follow-months F] [--workers W]
                                                  [--seed S] [--keep DIR]

Generates a full run (every table: statements, IPC files, POS/e-commerce/web/workplace,
credit reports, loans and behaviour, leads, truth) into a temporary folder with
``xiaowei.simulate.generate.run`` and reports wall time, transactions and rows written per
second, and peak memory: the parent's and the largest worker's resident set (``VmHWM`` of
each process, read by the workers themselves and the parent). The issue's bar: 10,000
businesses × 12 months of statements (about 10 million transactions) in under 60 s, and
memory under 4 GB at ten times that size (run with ``--businesses 100000``).

There is no reference tool for this: the figure printed is the ratio to the 60-second target.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_SECONDS = 60.0


def _vmhwm_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--businesses", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--follow-months", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--keep", type=Path, default=None, help="write here and keep it")
    args = parser.parse_args(argv)

    import resource

    from xiaowei.simulate.config import SimulationConfig
    from xiaowei.simulate.generate import run

    config = SimulationConfig(
        seed=args.seed,
        businesses=args.businesses,
        months=args.months,
        follow_months=args.follow_months,
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-simulate-"))
    out = args.keep or tmp / "run"
    try:
        began = time.perf_counter()
        result = run(config, out, workers=args.workers, overwrite=True)
        seconds = time.perf_counter() - began
        size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    tx = result.counts.get("statements/transactions", 0)
    rows = sum(v for k, v in result.counts.items() if not k.startswith("credit_reports"))
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    figures = {
        "businesses": args.businesses,
        "months": args.months,
        "follow_months": args.follow_months,
        "workers": args.workers,
        "seconds": round(seconds, 2),
        "transactions": tx,
        "transactions_per_second": round(tx / seconds),
        "rows_written": rows,
        "output_mb": round(size_mb, 1),
        "peak_rss_parent_mb": round(_vmhwm_mb(), 1),
        "peak_rss_worker_mb": round(children, 1),
        "target_seconds": TARGET_SECONDS,
        "ratio_to_target": round(seconds / TARGET_SECONDS, 3),
    }
    print(
        f"simulate {args.businesses:,} businesses × {args.months} months "
        f"(+{args.follow_months} follow), {args.workers} workers: {seconds:.1f} s, "
        f"{tx:,} transactions ({tx / seconds:,.0f}/s), {rows:,} rows, {size_mb:,.0f} MB; "
        f"peak RSS parent {figures['peak_rss_parent_mb']:.0f} MB, largest worker "
        f"{children:.0f} MB; {seconds / TARGET_SECONDS:.2f}× the 60 s target"
    )
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
