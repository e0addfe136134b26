"""Use case: the IPC cross-checks over every business of a simulated run, and their evaluation.

Traditional lending (传统信贷) reads the statements the applicant declares and takes collateral;
the IPC method rebuilds the statements and cross-checks them (交叉检验). This module runs the
two cross-checks of :mod:`xiaowei.analysis.financials` — the equity cross-check (权益交叉检验)
and the sales cross-check (销售额交叉检验) — on a whole run at once, with the batch (Polars)
functions, and counts the verdicts.

* :func:`cross_check_run` reads only the run's **observable** tables, each with a Polars scan
  of its Parquet parts (``<table>/part-*.parquet``): the reconstructed statements
  (``financials/*``), the bank statements up to each application date (``statements/*``: the
  revenue estimate of :func:`xiaowei.analysis.flows.monthly_table`), the POS settlements and
  e-commerce months (channel floors) and the staff count (``businesses``). The inputs are the ones
  :func:`xiaowei.services.analysis.load_simulated_application` gives one applicant — the same
  own identities (firm, accounts and holders, owner, spouse) and the same sources — so each
  business's verdicts equal those of its credit file (tested).
* :func:`evaluate_against_truth` is **evaluation code, a trainer's tool**: it is the only
  function here that reads ``truth/`` (``truth/financial_manipulation``), to score the verdicts
  against the simulator's labels. No analysis calls it.

A check *raises an alarm* on a file when its verdict is ``fail`` (or, with ``alarm_at =
explain``, ``explain`` or ``fail``); the combined check ("either", 任一检验) alarms when
either check does. "Traditional" lending trusts the declared file and never alarms: it catches
nothing (recall 0) and bothers no honest applicant (false alarms 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from xiaowei.analysis import financials, flows
from xiaowei.analysis.config import AnalysisConfig
from xiaowei.analysis.financials import Verdict
from xiaowei.core.errors import InvalidInput, NotFound
from xiaowei.services.analysis import own_identities, scan_table

#: The checks whose verdicts are counted, in display order: equity (权益), sales (销售额),
#: combined (综合: the worse verdict of the two).
CHECKS: tuple[str, ...] = ("equity", "sales", "combined")

#: The lending methods compared by the evaluation: traditional (传统信贷: trust the declared
#: file), each check alone, and either check (任一检验).
METHODS: tuple[str, ...] = ("traditional", "equity", "sales", "either")

#: The kind of a file the simulator left untouched (truth/financial_manipulation.kind).
HONEST_KIND = "none"

#: Label of the group of every manipulated file, whatever its kind.
ANY_KIND = "any"

_VERDICT_RANK = {Verdict.PASS.value: 0, Verdict.EXPLAIN.value: 1, Verdict.FAIL.value: 2}


def _scan(run_dir: Path, table: str, *, required: bool = True) -> pl.LazyFrame | None:
    scan = scan_table(run_dir, table)
    if scan is None and required:
        raise NotFound(f"no table {table} in {run_dir} (part-*.parquet missing)")
    return scan


def _check_run(run_dir: Path) -> None:
    if not run_dir.is_dir():
        raise InvalidInput("run_dir", f"{run_dir} is not a folder")
    if not (run_dir / "manifest.json").is_file():
        raise NotFound(f"no simulator run at {run_dir} (manifest.json missing)")


@dataclass(frozen=True)
class CrossCheckRun:
    """The cross-checks of every business of a run (observable data only).

    ``verdicts``: business_id, industry, equity_verdict, equity_deviation_rate (of period
    profit), sales_verdict (null when no source could be compared), sales_deviation (declared
    against the reconciled estimate), combined_verdict (the worse of the two). ``equity``:
    :func:`~xiaowei.analysis.financials.equity_cross_check`; ``sales_sources`` and
    ``sales_summary``: :func:`~xiaowei.analysis.financials.sales_cross_check`.
    """

    run_dir: Path
    verdicts: pl.DataFrame
    equity: pl.DataFrame
    sales_sources: pl.DataFrame
    sales_summary: pl.DataFrame


def cross_check_run(run_dir: Path, config: AnalysisConfig | None = None) -> CrossCheckRun:
    """Run the equity and sales cross-checks on every business of a simulated run.

    Reads only observable tables (never ``truth/``); see the module text for the sources.
    """
    _check_run(run_dir)
    cfg = config or AnalysisConfig()
    fc = cfg.financials

    def table(name: str) -> pl.DataFrame:
        scan = _scan(run_dir, name)
        assert scan is not None
        return scan.collect()

    def optional(name: str) -> pl.DataFrame | None:
        scan = _scan(run_dir, name, required=False)
        frame = None if scan is None else scan.collect()
        return frame if frame is not None and frame.height else None

    businesses = table("businesses").select(
        "business_id", "industry", "employees", "application_date"
    )
    sheets = table("financials/balance_sheets")
    income = table("financials/income_monthly")
    equity = financials.equity_cross_check(
        sheets, table("financials/equity_reconciliation_inputs"), fc
    )
    bank_revenue: pl.DataFrame | None = None
    scan = _scan(run_dir, "statements/transactions", required=False)
    # as the credit file: the statements up to the application date (later rows are post-loan)
    tx = (
        None
        if scan is None
        else scan.join(
            businesses.lazy().select("business_id", "application_date"), on="business_id"
        )
        .filter(pl.col("date") <= pl.col("application_date"))
        .drop("application_date")
        .collect()
    )
    if tx is not None and tx.height:
        prepared = flows.prepare(tx, own_identities(run_dir), cfg.flows)
        bank_revenue = flows.monthly_table(prepared).select(
            "business_id", "month", pl.col("revenue_estimate").alias("revenue_fen")
        )
    products = optional("financials/products")  # as the credit file: the product margins
    sources, summary = financials.sales_cross_check(
        income,
        bank_revenue=bank_revenue,
        pos_settlements=optional("pos/settlements"),
        ecommerce=optional("ecommerce/store_monthly"),
        gross_margins=(
            None if products is None else financials.weighted_gross_margins(products, fc)
        ),
        staff=businesses.select("business_id", "industry", "employees"),
        config=fc,
    )
    rank = pl.DataFrame(
        {"verdict": list(_VERDICT_RANK), "rank": list(_VERDICT_RANK.values())},
        schema={"verdict": pl.String, "rank": pl.Int64},
    )
    verdicts = (
        businesses.select("business_id", "industry")
        .join(
            equity.select(
                "business_id",
                pl.col("verdict").alias("equity_verdict"),
                pl.col("deviation_rate").alias("equity_deviation_rate"),
            ),
            on="business_id",
            how="inner",
        )
        .join(
            summary.select(
                "business_id",
                pl.col("verdict").alias("sales_verdict"),
                pl.col("deviation").alias("sales_deviation"),
            ),
            on="business_id",
            how="left",
        )
        .join(rank.rename({"verdict": "equity_verdict", "rank": "_re"}), on="equity_verdict")
        .join(
            rank.rename({"verdict": "sales_verdict", "rank": "_rs"}),
            on="sales_verdict",
            how="left",
        )
        .with_columns(
            pl.max_horizontal("_re", pl.col("_rs").fill_null(0)).alias("_rc"),
        )
        .join(rank.rename({"verdict": "combined_verdict", "rank": "_rc"}), on="_rc")
        .drop("_re", "_rs", "_rc")
        .sort("business_id")
    )
    return CrossCheckRun(run_dir, verdicts, equity, sources, summary)


def verdict_counts(verdicts: pl.DataFrame) -> pl.DataFrame:
    """Verdict counts per check: check, pass, explain, fail, no_source (a sales check with no
    source to compare), files. One row per entry of :data:`CHECKS`."""
    rows: list[dict[str, Any]] = []
    for check in CHECKS:
        column = verdicts[f"{check}_verdict"]
        rows.append(
            {
                "check": check,
                **{v.value: int((column == v.value).sum()) for v in Verdict},
                "no_source": column.null_count(),
                "files": verdicts.height,
            }
        )
    return pl.DataFrame(rows)


def alarms(verdicts: pl.DataFrame, *, alarm_at: Verdict = Verdict.FAIL) -> pl.DataFrame:
    """Per business and method of :data:`METHODS`, whether it raises an alarm (bool columns
    ``traditional``, ``equity``, ``sales``, ``either``). ``alarm_at`` is the mildest verdict
    that alarms (``fail``, or ``explain``: explain or fail); a sales check without a source
    never alarms."""
    if alarm_at is Verdict.PASS:
        raise InvalidInput("alarm_at", "a pass cannot raise an alarm: use explain or fail")
    alarming = [Verdict.FAIL.value] + (
        [Verdict.EXPLAIN.value] if alarm_at is Verdict.EXPLAIN else []
    )
    equity = pl.col("equity_verdict").is_in(alarming)
    sales = pl.col("sales_verdict").is_in(alarming).fill_null(value=False)
    return verdicts.select(
        "business_id",
        pl.lit(value=False).alias("traditional"),
        equity.alias("equity"),
        sales.alias("sales"),
        (equity | sales).alias("either"),
    )


@dataclass(frozen=True)
class TruthEvaluation:
    """Recall, false alarms and precision of each method against the simulator's labels.

    ``by_kind``: kind (each manipulation kind of the truth, then :data:`ANY_KIND`), method,
    files (of that kind), caught, recall (caught / files), honest_files, false_alarms (honest
    files alarmed), false_alarm_rate (false_alarms / honest_files), precision (caught /
    (caught + false_alarms), null without any alarm: the share of true manipulations among the
    alarms in a book holding only honest files and that kind). ``confusion``: per method,
    manipulated_alarmed, manipulated_missed, honest_alarmed, honest_passed. ``labelled``: the
    verdicts joined with the truth's ``kind`` and the alarms (one row per business).
    """

    alarm_at: Verdict
    by_kind: pl.DataFrame
    confusion: pl.DataFrame
    labelled: pl.DataFrame


def evaluate_against_truth(
    run: CrossCheckRun, *, alarm_at: Verdict = Verdict.FAIL
) -> TruthEvaluation:
    """Score the verdicts of ``run`` against ``truth/financial_manipulation``.

    **Evaluation code (a trainer's tool): reads the run's hidden truth**, which no analysis may
    see. A file is manipulated when its ``kind`` is not ``none``; recall is taken per kind and
    over all manipulated files (:data:`ANY_KIND`), false alarms over the honest files.
    """
    scan = _scan(run.run_dir, "truth/financial_manipulation", required=False)
    if scan is None:
        raise NotFound(f"no truth/financial_manipulation in {run.run_dir}: the truth is needed")
    truth = scan.select("business_id", "kind").collect()
    labelled = run.verdicts.join(truth, on="business_id", how="inner").join(
        alarms(run.verdicts, alarm_at=alarm_at), on="business_id"
    )
    if labelled.height != run.verdicts.height:
        raise InvalidInput(
            "truth/financial_manipulation",
            f"labels {labelled.height} of the run's {run.verdicts.height} files",
        )
    honest = labelled.filter(pl.col("kind") == HONEST_KIND)
    manipulated = labelled.filter(pl.col("kind") != HONEST_KIND)
    kinds = sorted(manipulated["kind"].unique().to_list())
    rows: list[dict[str, Any]] = []
    for kind in [*kinds, ANY_KIND]:
        group = manipulated if kind == ANY_KIND else manipulated.filter(pl.col("kind") == kind)
        for method in METHODS:
            caught = int(group[method].sum())
            false_alarms = int(honest[method].sum())
            rows.append(
                {
                    "kind": kind,
                    "method": method,
                    "files": group.height,
                    "caught": caught,
                    "recall": caught / group.height if group.height else None,
                    "honest_files": honest.height,
                    "false_alarms": false_alarms,
                    "false_alarm_rate": false_alarms / honest.height if honest.height else None,
                    "precision": (
                        caught / (caught + false_alarms) if caught + false_alarms else None
                    ),
                }
            )
    by_kind = pl.DataFrame(
        rows,
        schema={
            "kind": pl.String,
            "method": pl.String,
            "files": pl.Int64,
            "caught": pl.Int64,
            "recall": pl.Float64,
            "honest_files": pl.Int64,
            "false_alarms": pl.Int64,
            "false_alarm_rate": pl.Float64,
            "precision": pl.Float64,
        },
    )
    confusion = pl.DataFrame(
        [
            {
                "method": method,
                "manipulated_alarmed": int(manipulated[method].sum()),
                "manipulated_missed": manipulated.height - int(manipulated[method].sum()),
                "honest_alarmed": int(honest[method].sum()),
                "honest_passed": honest.height - int(honest[method].sum()),
            }
            for method in METHODS
        ]
    )
    return TruthEvaluation(alarm_at, by_kind, confusion, labelled)
