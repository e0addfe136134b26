"""Benchmark: back-test (回测) of the knock-out policy, compiled JDM path vs looping zen-engine.

    .venv/bin/python benchmarks/bench_decision.py [--rows N] [--sample S] [--seed SEED]
                                                  [--repeat R]

The policy is the test fixture ``tests/unit/decision/data/knockout_policy.json`` (an expression
node of derived ratios, a collect table of 16 knock-out rules over 12 fields and a first table
of risk bands). N simulated applications (default 1,000,000; the generator of the parity test,
``applications`` in ``tests/unit/decision/test_jdm_compile.py``: boundary values and nulls on
purpose) are evaluated

* through ``xiaowei.decision.jdm_compile`` (compile + evaluate of the whole frame, best of R
  runs, default 3, ``time.perf_counter``), and
* through looping ``zen.ZenEngine(...).evaluate`` (static loader, the fast path of zen-engine
  2.x, see ``shared/research/decision_engines.md``) over the first S rows (default 20,000),
  the time extrapolated to N rows.

It prints both times, the ratio (zen extrapolated / compiled), and checks that the compiled
result equals zen's on every row of the sample (exit 1 otherwise). The bar (issue 6): 1,000,000
applications through the compiled path in under 5 seconds. ``main(argv)`` returns the figures.

The back-test then goes on with the **strategy step** (:func:`xiaowei.decision.backtest.
backtest`): the policy outcome of each row (a knock-out declines, a failed row is referred),
PD bands, limits in fen, terms and methods, the vectorised risk-based price of every offer,
the report of the candidate (SME-OP-GROWTH) and the current strategy (SME-OP-STD) with the swap
set and the cut-off curve. The strategy inputs (PD, request, capacity, revenue, outcome) are
drawn per row with the same seed (``strategy_inputs``). It prints the strategy step's time
(best of R) and the whole back-test's, compiled policy plus strategy, against the same 5 s bar.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PARITY_TEST = ROOT / "tests" / "unit" / "decision" / "test_jdm_compile.py"


def _parity_helpers() -> ModuleType:
    """The generator, fixture and comparison of the parity test (one source for both)."""
    spec = importlib.util.spec_from_file_location("_jdm_parity", PARITY_TEST)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {PARITY_TEST}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def strategy_inputs(rows: int, seed: int) -> Any:
    """Per-row inputs of the strategy step: model PD, request, capacity, revenue, outcome."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    pd = np.clip(np.exp(rng.normal(np.log(0.04), 1.1, rows)), 1e-4, 1.0)
    revenue = rng.lognormal(np.log(3e8), 0.8, rows).round()
    return pl.DataFrame(
        {
            "pd": pd,
            "requested_amount_fen": rng.integers(20_000, 3_000_000, rows) * 100,
            "requested_term": rng.choice(np.array([6, 12, 24, 36]), rows),
            "industry": rng.choice(np.array(["trade", "retail", "catering", "services"]), rows),
            "fin_max_affordable_fen": np.where(
                rng.random(rows) < 0.05, np.nan, rng.lognormal(np.log(4e7), 0.9, rows).round()
            ),
            "flow_revenue_12m": np.where(rng.random(rows) < 0.2, np.nan, revenue),
            "flow_months_12m": rng.integers(1, 13, rows).astype(np.float64),
            "fin_annual_sales_fen": revenue * rng.uniform(0.8, 1.3, rows).round(2),
            "fin_installment_ratio": rng.uniform(0.05, 1.5, rows).round(3),
            "default_12m": (rng.random(rows) < pd).astype(np.int8),
        }
    )


def strategy_step(policy_result: Any, inputs: Any) -> Any:
    """The strategy step of the back-test on the compiled policy's result."""
    import polars as pl

    from xiaowei.decision.backtest import backtest
    from xiaowei.decision.jdm_compile import ERROR_COLUMN
    from xiaowei.decision.strategy import load_strategy_file, shipped_strategy_path
    from xiaowei.lending.catalogue import load_catalogue

    product = next(p for p in load_catalogue() if p.code == "SME-OP")
    candidate = load_strategy_file(shipped_strategy_path("sme-op-growth.json"))
    current = load_strategy_file(shipped_strategy_path("sme-op-standard.json"))
    outcome = policy_result.select(
        pl.when(pl.col(ERROR_COLUMN).is_not_null())
        .then(pl.lit("refer"))
        .when(pl.col("knockouts").list.len().fill_null(0) > 0)
        .then(pl.lit("decline"))
        .otherwise(pl.lit("pass"))
        .alias("policy_outcome")
    )
    frame = inputs.hstack(outcome)
    return backtest(frame, candidate, product, current=current, target="default_12m")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import zen

    from xiaowei.decision.jdm_compile import ERROR_COLUMN, compile_graph

    helpers = _parity_helpers()
    graph = helpers.policy()
    started = time.perf_counter()
    frame = helpers.applications(args.rows, seed=args.seed)
    print(f"generated {args.rows:,} applications in {time.perf_counter() - started:.2f} s")

    compiled_times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = compile_graph(graph).evaluate(frame)
        compiled_times.append(time.perf_counter() - started)
    compiled = min(compiled_times)

    inputs = strategy_inputs(args.rows, args.seed)
    strategy_times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        done = strategy_step(result, inputs)
        strategy_times.append(time.perf_counter() - started)
    strategy_seconds = min(strategy_times)
    book = done.report.candidate.book

    sample = frame.head(min(args.sample, args.rows))
    rows = [helpers.nest(row) for row in sample.to_dicts()]
    content = json.dumps(graph)
    engine = zen.ZenEngine({"loader": lambda key: content})
    expected: list[Any] = []
    started = time.perf_counter()
    for row in rows:
        try:
            expected.append(engine.evaluate("policy.json", row)["result"])
        except RuntimeError:
            expected.append(None)
    zen_sample = time.perf_counter() - started
    zen_full = zen_sample / len(rows) * args.rows

    mismatched = 0
    for mine, theirs in zip(result.head(len(rows)).to_dicts(), expected, strict=True):
        error = mine.pop(ERROR_COLUMN)
        if theirs is None:
            mismatched += error is None
        else:
            mismatched += error is not None or not helpers.same(mine, helpers.flatten(theirs))

    knocked_out = int(result["knockouts"].list.len().gt(0).sum())
    figures = {
        "rows": args.rows,
        "compiled_seconds": compiled,
        "compiled_runs": compiled_times,
        "zen_sample_rows": len(rows),
        "zen_sample_seconds": zen_sample,
        "zen_us_per_row": zen_sample / len(rows) * 1e6,
        "zen_extrapolated_seconds": zen_full,
        "ratio": zen_full / compiled,
        "parity_mismatches": mismatched,
        "knocked_out_share": knocked_out / args.rows,
        "strategy_seconds": strategy_seconds,
        "strategy_runs": strategy_times,
        "backtest_seconds": compiled + strategy_seconds,
        "approval_rate": book.approval_rate,
    }
    print(
        f"compiled path: {compiled:.2f} s for {args.rows:,} rows "
        f"(runs {', '.join(f'{t:.2f}' for t in compiled_times)}; bar < 5 s: "
        f"{'met' if compiled < 5 else 'NOT met'})"
    )
    total = figures["backtest_seconds"]
    print(
        f"strategy step (bands, limits, pricing, report and swap set of two strategies): "
        f"{strategy_seconds:.2f} s for {args.rows:,} rows "
        f"(runs {', '.join(f'{t:.2f}' for t in strategy_times)})"
    )
    print(
        f"back-test (compiled policy + strategy): {total:.2f} s for {args.rows:,} rows "
        f"(bar < 5 s: {'met' if total < 5 else 'NOT met'}; approved {book.approval_rate:.1%})"
    )
    print(
        f"zen-engine loop: {zen_sample:.2f} s for {len(rows):,} rows "
        f"({figures['zen_us_per_row']:.0f} µs/row) → {zen_full:.1f} s extrapolated to "
        f"{args.rows:,}"
    )
    print(f"ratio zen / compiled: {figures['ratio']:.0f}×")
    print(f"knocked out: {figures['knocked_out_share']:.1%}")
    print(f"parity on the {len(rows):,}-row sample: {mismatched} mismatched rows")
    if mismatched:
        raise SystemExit(1)
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
