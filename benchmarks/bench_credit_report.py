"""Benchmark: credit-report features (征信报告变量) for 100,000 reports.

    .venv/bin/python benchmarks/bench_credit_report.py [--reports N] [--businesses B]
                                                       [--seed SEED] [--repeat R]

The simulator (``xiaowei.simulate``, in memory: ``build_world``, ``chunks`` and
``credit_report.render``) generates the personal reports of B businesses (default 5,000): each
business has an application report and a post-loan refresh, so 2 × B distinct documents
(10,000 by default), which are parsed with ``parse_personal``. Rendering and parsing 100,000
documents would take minutes and measure the simulator and Pydantic, not the analysis, so the
parsed reports are **reused cyclically** up to N (default 100,000): report ``k`` is a copy of
parsed report ``k mod 2B`` (``model_copy``, no re-validation) with its own ``business_id``
(``k + 1``) and ``report_id`` (the original id plus ``-k``), so every row of the result has
its own key. The copies share their accounts, which changes nothing for the analysis: it
reads every report afresh.

Only the analysis is timed: ``report_features_frame(reports)`` over the N reports with the
default configuration, as of each report's date (flattening the parsed models into frames,
the 60-month strings into one byte matrix and the Polars aggregations), best of R runs
(default 3). The figure printed is reports per second; the average accounts per report and the
feature count are printed with it. There is no reference implementation to compare with.

``main(argv)`` returns the figures as a dict for ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from xiaowei.analysis.credit_report import report_features_frame
from xiaowei.analysis.credit_report_schema import PersonalReport, parse_personal
from xiaowei.simulate import credit_report
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.world import build_world, chunks


def generate(businesses: int, seed: int) -> list[PersonalReport]:
    """Parsed personal reports (application and refresh) of a simulated population."""
    world = build_world(SimulationConfig(businesses=businesses, seed=seed))
    reports: list[PersonalReport] = []
    for c in chunks(world):
        docs = credit_report.render(c).documents
        for name in ("credit_reports/personal", "credit_reports/personal_refresh"):
            reports.extend(parse_personal(d) for d in docs.get(name, []))
    return reports


def cycle(reports: list[PersonalReport], n: int) -> list[PersonalReport]:
    """``n`` reports: the given ones reused cyclically, each with its own key."""
    out: list[PersonalReport] = []
    for k in range(n):
        r = reports[k % len(reports)]
        out.append(
            r
            if k < len(reports)
            else r.model_copy(update={"business_id": k + 1, "report_id": f"{r.report_id}-{k}"})
        )
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--businesses", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    began = time.perf_counter()
    distinct = generate(args.businesses, args.seed)
    reports = cycle(distinct, args.reports)
    prepare = time.perf_counter() - began
    accounts = sum(len(r.PD01) for r in reports)

    times: list[float] = []
    frame = None
    for _ in range(max(1, args.repeat)):
        start = time.perf_counter()
        frame = report_features_frame(reports)
        times.append(time.perf_counter() - start)
    assert frame is not None
    assert frame.height == len(reports)
    best = min(times)
    figures = {
        "reports": len(reports),
        "distinct_reports": len(distinct),
        "accounts": accounts,
        "accounts_per_report": accounts / len(reports),
        "features": frame.width - 2,
        "prepare_seconds": prepare,
        "seconds": best,
        "seconds_all_runs": times,
        "reports_per_second": len(reports) / best,
    }
    print(
        f"credit-report features: {len(reports):,} reports ({len(distinct):,} distinct, "
        f"{figures['accounts_per_report']:.2f} accounts each), {figures['features']} features"
    )
    print(f"  generate + parse + cycle: {prepare:.1f} s (not timed)")
    print(
        f"  report_features_frame: {best:.2f} s (best of {len(times)}) -> "
        f"{figures['reports_per_second']:,.0f} reports/s"
    )
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
