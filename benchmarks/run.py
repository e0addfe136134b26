"""Run every benchmark with its defaults and keep the figures (what ``make bench`` runs).

    .venv/bin/python benchmarks/run.py

Runs ``bench_schedule`` (batch schedules against the scalar loop), ``bench_eod`` (end of day
over 1,000,000 loans on SQLite and PostgreSQL) and ``bench_simulate`` (the synthetic
institution: 10,000 businesses × 12 months of statements), ``bench_flows`` (flow features for
10,000 businesses against pandas), ``bench_credit_report`` (credit-report features for
100,000 reports) and ``bench_scoring`` (binning, WOE and the scorecard pipeline against
optbinning and toad, which ``make bench`` installs as the ``bench`` extra) and
``bench_decision`` (1,000,000 applications through a JDM policy compiled to Polars against
looping zen-engine, and the strategy step of a back-test) and ``bench_decision_latency`` (the
full automated decision on one core: p50/p99 latency and decisions per second), one after the
other, prints their figures and writes them, with the date, the machine and the library
versions, as JSON to ``bench-results/latest.json`` at the top of the repository. A benchmark
that fails is recorded with its error and the others still run; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "bench-results" / "latest.json"
BENCHMARKS = (
    "bench_schedule",
    "bench_eod",
    "bench_simulate",
    "bench_flows",
    "bench_credit_report",
    "bench_scoring",
    "bench_decision",
    "bench_decision_latency",
)


def _machine() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("polars", "numpy", "sqlalchemy", "psycopg"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "packages": versions,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0]).parse_args(argv)
    # The benchmarks are plain modules next to this file, run as scripts: make them importable
    # (also in the processes bench_eod spawns, which inherit sys.path).
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    figures: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
    }
    for name in BENCHMARKS:
        print(f"=== {name} ===", flush=True)
        began = time.perf_counter()
        run: Callable[[list[str]], dict[str, Any]] = importlib.import_module(name).main
        try:
            figures[name] = run([])
        except Exception as exc:  # record it and go on with the other benchmarks
            traceback.print_exc()
            figures[name] = {"error": f"{type(exc).__name__}: {exc}"}
        figures[name]["wall_seconds"] = time.perf_counter() - began
        print(flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"figures written to {RESULTS}")
    return figures


if __name__ == "__main__":
    results = main(sys.argv[1:])
    sys.exit(1 if any("error" in v for v in results.values() if isinstance(v, dict)) else 0)
