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
    }
    print(
        f"compiled path: {compiled:.2f} s for {args.rows:,} rows "
        f"(runs {', '.join(f'{t:.2f}' for t in compiled_times)}; bar < 5 s: "
        f"{'met' if compiled < 5 else 'NOT met'})"
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
