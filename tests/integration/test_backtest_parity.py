"""The vectorised back-test decides every application as the automated decision does.

One small simulated institution (200 businesses), its feature table and a scorecard fitted on
it; the back-test service (:func:`xiaowei.services.backtest.run_backtest`: policy compiled to
Polars, batch scoring, :func:`~xiaowei.decision.backtest.apply_strategy`) against
:func:`xiaowei.decision.automated.decide` (zen-engine, the real-time scorer, the scalar limit,
term and price) on every row, for the champion and the challenger strategy: same policy
outcome, band, action, limit, offered amount, term, method and rate.

The scorecard leaves out the application columns (industry, region, legal form, requested
amount and term): ``decide`` scores ``Application.features``, which
:func:`~xiaowei.decision.automated.application_from_row` builds without them, while the batch
scorer reads them from the table.
"""

from __future__ import annotations

from typing import Any

import pytest

from xiaowei.decision.automated import application_from_row, decide
from xiaowei.decision.policy import PolicyEngine, load_policy_file, shipped_policy_path
from xiaowei.services.backtest import product_of, resolve_strategy, run_backtest
from xiaowei.services.decisions import load_scorer
from xiaowei.services.features import feature_table
from xiaowei.services.scoring import fit_model
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.generate import run

APPLICATION_COLUMNS = ("industry", "region", "legal_form", "requested_*")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("backtest-parity")
    run(SimulationConfig(businesses=200, seed=23), root / "sim", workers=1, export_businesses=0)
    table = feature_table(root / "sim")
    data = root / "features.parquet"
    table.write_parquet(data)
    fit_model(
        data, target="default_12m", out=root / "card", exclude=APPLICATION_COLUMNS, name="card"
    )
    done = run_backtest("sme-op-growth", data, model=root / "card", current="sme-op-standard")
    return {"table": table, "model": root / "card", "run": done}


def _vectorised(row: dict[str, Any], policy_outcome: str) -> tuple[Any, ...]:
    return (
        policy_outcome,
        row["band"],
        row["action"],
        row["limit_fen"],
        row["amount_fen"],
        row["term"],
        row["method"],
        row["rate_ppm"],
    )


@pytest.mark.parametrize("arm", ["candidate", "current"])
def test_every_row_as_decide(simulated: dict[str, Any], arm: str) -> None:
    done = simulated["run"]
    decided = getattr(done.result, arm)
    strategy = resolve_strategy("sme-op-growth" if arm == "candidate" else "sme-op-standard")
    policy = load_policy_file(shipped_policy_path())
    product = product_of(strategy)
    scorer = load_scorer(simulated["model"])
    engine = PolicyEngine()
    table = simulated["table"]
    outcomes = done.result.report.candidate  # the policy outcomes are the same for both arms
    assert sum(outcomes.policy_outcomes.values()) == table.height == decided.height
    mismatched = []
    for i, row in enumerate(table.iter_rows(named=True)):
        record = decide(
            application_from_row(row, product=product.code),
            strategy=strategy,
            policy=policy,
            product=product,
            scorer=scorer,
            engine=engine,
        )
        expected = (
            record.policy.outcome.value,
            record.band["grade"],
            record.action.value,
            None if record.limit.limit is None else int(record.limit.limit * 100),
            None if record.amount is None else int(record.amount * 100),
            record.term.term_months,
            record.term.method.value,
            None if record.rate is None else int(record.rate * 10**6),
        )
        mine = _vectorised(decided.row(i, named=True), done.rows["policy_outcome"][i])
        if mine != expected:
            mismatched.append((i, mine, expected))
    assert not mismatched, (len(mismatched), mismatched[:3])
    actions = set(decided["action"].to_list())
    assert len(actions) >= 2
    assert arm == "current" or "approve" in actions
    assert decided["rate_ppm"].drop_nulls().len() > 20  # offers priced (approved or referred)


def test_the_report_adds_up(simulated: dict[str, Any]) -> None:
    report = simulated["run"].result.report
    book = report.candidate.book
    assert book.applications == 200
    assert book.approved + book.referred + book.declined == 200
    assert report.swap is not None
    assert sum(c.applications for c in report.swap.values()) == 200
    assert report.swap["kept_in"].applications + report.swap["swap_in"].applications == (
        book.approved
    )
    assert book.observed_known == book.approved  # the simulated run observes every loan
