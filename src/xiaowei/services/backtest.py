"""Use case: back-test a strategy (策略回测) on a table of past applications.

:func:`run_backtest` reads the data (a CSV or Parquet feature table, e.g. from ``xiaowei
analyse features``, with the observed outcome), runs the policy compiled to Polars
(:mod:`xiaowei.decision.jdm_compile`; the shipped ``SME-OP-KO`` by default), scores every row
with the model artefact (:func:`xiaowei.services.scoring.score_frame`), applies the candidate
strategy and, when given, the current one (:mod:`xiaowei.decision.backtest`) and returns the
report with the swap set. The product is the shipped catalogue's, by the strategy's product
code. Nothing is stored: a back-test reads files only.

Policy fields the table does not hold (``blacklist_hit``, ``equity_check``, ``sales_check``:
facts of intake and of the officer's cross-checks, not of the feature table) are missing for
every row, as they are for an application decided without them; the rules testing them do not
fire. Large tables are processed in chunks with progress reported to ``progress``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from xiaowei.adapters.model_artefact import load_model
from xiaowei.core.errors import InvalidInput, NotFound
from xiaowei.decision.backtest import (
    PD,
    Backtest,
    backtest,
    compilable_graph,
    policy_input_fields,
    policy_outcomes,
)
from xiaowei.decision.jdm_compile import compile_graph
from xiaowei.decision.policy import Policy, load_policy_file, shipped_policy_path
from xiaowei.decision.strategy import Strategy, load_strategy_file, shipped_strategy_path
from xiaowei.lending.catalogue import load_catalogue
from xiaowei.lending.product import LoanProduct
from xiaowei.services.scoring import read_table, score_frame

#: Progress callback: (step description, steps done, steps in all).
Progress = Callable[[str, int, int], None]
CHUNK_ROWS = 200_000
#: The columns of the data the strategy step reads (besides the target).
STRATEGY_COLUMNS = (
    "requested_amount_fen",
    "requested_term",
    "industry",
    "fin_max_affordable_fen",
    "flow_revenue_12m",
    "flow_months_12m",
    "fin_annual_sales_fen",
    "fin_installment_ratio",
)


def _noop(step: str, done: int, total: int) -> None:
    return None


def resolve_strategy(value: str | Path) -> Strategy:
    """A strategy file, or the name of a shipped one (``sme-op-growth`` or
    ``sme-op-growth.json`` in ``decision/strategies/``)."""
    path = Path(value)
    if path.is_file():
        return load_strategy_file(path)
    name = path.name if path.name.endswith(".json") else f"{path.name}.json"
    shipped = shipped_strategy_path(name)
    if str(value) == path.name and shipped.is_file():
        return load_strategy_file(shipped)
    raise InvalidInput("strategy", f"{value} is not a file nor a shipped strategy")


def product_of(strategy: Strategy) -> LoanProduct:
    """The shipped catalogue's product of the strategy (its latest version)."""
    found = [p for p in load_catalogue() if p.code == strategy.product]
    if not found:
        raise NotFound(f"product {strategy.product} is not in the catalogue")
    return max(found, key=lambda p: p.version)


@dataclass(frozen=True)
class BacktestRun:
    """What :func:`run_backtest` did: the back-test, the versions used and the time taken."""

    result: Backtest
    rows: pl.DataFrame  # per row: policy_outcome, policy_codes, pd
    policy: Policy
    model: dict[str, Any]
    data: Path
    seconds: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.result.report.to_json(),
            "data": str(self.data),
            "policy": {
                "code": self.policy.code,
                "version": self.policy.version,
                "sha256": self.policy.sha256,
            },
            "model": self.model,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def policy_frame(policy: Policy, frame: pl.DataFrame, progress: Progress = _noop) -> pl.DataFrame:
    """``policy_outcome`` and ``policy_codes`` of every row, through the compiled graph."""
    graph = compilable_graph(policy.graph)
    compiled = compile_graph(graph)
    fields = policy_input_fields(graph)
    present = [f for f in fields if f in frame.columns]
    missing = {f: pl.lit(None) for f in fields if f not in frame.columns}
    inputs = frame.select(present).with_columns(**missing)
    parts = []
    for start in range(0, max(frame.height, 1), CHUNK_ROWS):
        progress("policy rules", start, frame.height)
        parts.append(policy_outcomes(compiled.evaluate(inputs.slice(start, CHUNK_ROWS))))
    return pl.concat(parts)


def run_backtest(
    strategy: str | Path,
    data: Path,
    *,
    model: Path,
    current: str | Path | None = None,
    policy: Path | None = None,
    target: str | None = "default_12m",
    progress: Progress | None = None,
) -> BacktestRun:
    """Back-test ``strategy`` (against ``current``) on ``data``; see the module docstring."""
    report = progress or _noop
    clock = time.perf_counter
    started = clock()
    candidate = resolve_strategy(strategy)
    incumbent = None if current is None else resolve_strategy(current)
    chosen = load_policy_file(policy if policy is not None else shipped_policy_path())
    for s in (candidate, incumbent):
        if s is not None and s.policy != chosen.code:
            raise InvalidInput(
                "policy", f"strategy {s.key} runs policy {s.policy}, the file is {chosen.code}"
            )
    product = product_of(candidate)
    report("loading the model", 0, 1)
    artefact = load_model(model)
    report(f"reading {data.name}", 0, 1)
    frame = read_table(data)
    if target is not None and target not in frame.columns:
        raise InvalidInput("target", f"no column {target!r} in {data.name}")
    loaded = clock()
    outcomes = policy_frame(chosen, frame, report)
    ruled = clock()
    scores = []
    for start in range(0, frame.height, CHUNK_ROWS):
        report("scoring", start, frame.height)
        part = score_frame(artefact, frame.slice(start, CHUNK_ROWS), n_reasons=0)
        scores.append(part.select(PD))
    scored = clock()
    report("strategy", 0, 1)
    keep = [c for c in (*STRATEGY_COLUMNS, target) if c is not None and c in frame.columns]
    rows = outcomes.hstack(pl.concat(scores))
    work = frame.select(keep).hstack(rows)
    result = backtest(work, candidate, product, current=incumbent, target=target)
    done = clock()
    report("done", 1, 1)
    manifest = artefact.manifest
    return BacktestRun(
        result=result,
        rows=rows,
        policy=chosen,
        model={
            "name": str(manifest.get("name", model.name)),
            "version": int(manifest.get("version", 1)),
            "kind": str(manifest.get("kind", "")),
        },
        data=data,
        seconds={
            "load": loaded - started,
            "policy": ruled - loaded,
            "model": scored - ruled,
            "strategy": done - scored,
            "total": done - started,
        },
    )


__all__ = ["BacktestRun", "policy_frame", "product_of", "resolve_strategy", "run_backtest"]
