"""Use case: the feature table of a simulated run (特征宽表), one row per applicant.

The scoring models (issue 5) learn from the credit file's features. Building a
:class:`~xiaowei.analysis.credit_file.CreditFile` per applicant costs about 0.1 s; a run of
10,000 applicants needs the batch path: the same analysis functions, called once on the frames
of every applicant (they are vectorised over ``business_id``). The names and values are those
of the credit file (tested on a sample): ``flow_`` (statements up to the application date),
``bureau_`` (the application's personal report), ``fin_`` (ratios, equity and sales
cross-checks, gross-margin check, capacity at :data:`~xiaowei.services.analysis.
DEFAULT_ANNUAL_RATE`), ``pos_``/``ecom_``/``att_`` (channels before the application),
``soft_`` (the owner's static soft information), ``net_`` (the guarantee network). Left out,
because they are per-application Python rather than batch work: the deviation grid's rates and
the willingness features (``soft_deviation_rate``, ``will_*``).

Besides the features the table carries the application's own facts that a model may use
(``industry``, ``region``, ``legal_form``, ``requested_amount_fen``, ``requested_term``) and,
when the run has them, the observed outcome ``default_12m`` from ``loans/outcomes`` (an
observable post-loan fact: 90+ days past due within 12 months on book). It never reads
``truth/``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl

from xiaowei.analysis import channels, financials, flows, network, soft
from xiaowei.analysis.config import AnalysisConfig
from xiaowei.analysis.credit_file import feature_name
from xiaowei.analysis.credit_report import report_features_frame
from xiaowei.analysis.credit_report_schema import PersonalReport, parse_personal
from xiaowei.core.errors import InvalidInput, NotFound
from xiaowei.services.analysis import (
    DATED,
    DEFAULT_ANNUAL_RATE,
    own_identities,
    owner_profile,
    scan_table,
)

Progress = Callable[[str], None]

#: Facts of the application itself kept beside the features (not features of an analysis).
APPLICATION_COLUMNS = (
    "business_id",
    "application_date",
    "industry",
    "region",
    "legal_form",
    "requested_amount_fen",
    "requested_term",
)


def _prefixed(frame: pl.DataFrame, prefix: str, skip: tuple[str, ...] = ()) -> pl.DataFrame:
    """The numeric and boolean columns of ``frame``, named as the credit file names them
    (``prefix`` added unless present), booleans as 0/1, NaN as null; keyed by business_id."""
    keep = []
    for name, dtype in frame.schema.items():
        if name in ("business_id", "as_of", *skip):
            continue
        if not (dtype.is_numeric() or dtype == pl.Boolean):
            continue
        out = feature_name(prefix, name)
        col = pl.col(name)
        if dtype == pl.Boolean:
            col = col.cast(pl.Int64)
        elif dtype.is_float():
            col = col.fill_nan(None)
        keep.append(col.alias(out))
    return frame.select(pl.col("business_id").cast(pl.Int64), *keep)


def _reports(run_dir: Path) -> list[PersonalReport]:
    out = []
    for part in sorted((run_dir / "credit_reports" / "personal").glob("part-*.jsonl")):
        with part.open(encoding="utf-8") as fh:
            out += [parse_personal(json.loads(line)) for line in fh if line.strip()]
    return out


def feature_table(
    run_dir: Path,
    config: AnalysisConfig | None = None,
    *,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """One row per applicant of a simulated run: application facts, features, outcome."""
    if not (run_dir / "manifest.json").is_file():
        raise NotFound(f"no simulator run at {run_dir} (manifest.json missing)")
    cfg = config or AnalysisConfig()
    say = progress or (lambda _step: None)
    scan = scan_table(run_dir, "businesses")
    if scan is None:
        raise NotFound(f"no businesses table in {run_dir}")
    businesses = scan.collect().sort("business_id")
    table = businesses.select(*APPLICATION_COLUMNS)
    as_of = businesses.select("business_id", pl.col("application_date").alias("as_of"))
    parts: list[pl.DataFrame] = []

    def known(table_name: str) -> pl.DataFrame | None:
        """The rows of a dated table known at each applicant's application date, as the
        credit file cuts them (a month's totals once the month is over)."""
        found = scan_table(run_dir, table_name)
        if found is None:
            return None
        column = DATED[table_name]
        cut = (
            pl.col(column) < pl.col("as_of").dt.month_start()
            if column == "month"
            else pl.col(column) <= pl.col("as_of")
        )
        out = found.join(as_of.lazy(), on="business_id").filter(cut).drop("as_of").collect()
        return out if out.height else None

    say("statements 交易流水")
    bureau = pl.DataFrame(schema={"business_id": pl.Int64})
    bank_revenue: pl.DataFrame | None = None
    tx = known("statements/transactions")
    if tx is not None:
        prepared = flows.prepare(tx, own_identities(run_dir), cfg.flows)
        monthly = flows.monthly_table(prepared)
        parts.append(_prefixed(flows.flow_features(prepared, monthly=monthly), "flow_"))
        bank_revenue = monthly.select(
            "business_id", "month", pl.col("revenue_estimate").alias("revenue_fen")
        )
    pos = known("pos/settlements")
    stores = known("ecommerce/store_monthly")

    say("credit reports 征信报告")
    reports = _reports(run_dir)
    if reports:
        dates = dict(zip(as_of["business_id"], as_of["as_of"], strict=True))
        missing = [r.business_id for r in reports if r.business_id not in dates]
        if missing:
            raise InvalidInput("credit_reports", f"reports of unknown businesses {missing[:5]}")
        frame = report_features_frame(
            reports, cfg.credit_report, [dates[r.business_id] for r in reports]
        )
        bureau = _prefixed(frame, "bureau_", skip=("report_id",))
        parts.append(bureau)

    say("financials 财务分析")
    fc = cfg.financials
    sheets_scan = scan_table(run_dir, "financials/balance_sheets")
    income_scan = scan_table(run_dir, "financials/income_monthly")
    if sheets_scan is not None and income_scan is not None:
        sheets, income = sheets_scan.collect(), income_scan.collect()
        industries = businesses.select("business_id", "industry")
        parts.append(_prefixed(financials.financial_ratios(sheets, income, industries, fc), "fin_"))
        equity_scan = scan_table(run_dir, "financials/equity_reconciliation_inputs")
        if equity_scan is not None:
            eq = financials.equity_cross_check(sheets, equity_scan.collect(), fc)
            parts.append(
                eq.select(
                    pl.col("business_id").cast(pl.Int64),
                    pl.col("deviation_rate").alias("fin_equity_deviation_rate"),
                    pl.col("deviation_rate_equity").alias("fin_equity_deviation_rate_equity"),
                )
            )
        products_scan = scan_table(run_dir, "financials/products")
        products = None if products_scan is None else products_scan.collect()
        if products is not None and products.height:
            margins = financials.margin_check(products, income, fc)
            parts.append(
                margins.select(
                    pl.col("business_id").cast(pl.Int64),
                    pl.col("weighted_gross_margin").alias("fin_weighted_gross_margin"),
                    pl.col("margin_difference").alias("fin_margin_difference"),
                )
            )
        _, sales = financials.sales_cross_check(
            income,
            bank_revenue=bank_revenue,
            pos_settlements=pos,
            ecommerce=stores,
            gross_margins=(
                financials.weighted_gross_margins(products, fc)
                if products is not None and products.height
                else None
            ),
            staff=businesses.select("business_id", "industry", "employees"),
            config=fc,
        )
        parts.append(
            sales.select(
                pl.col("business_id").cast(pl.Int64),
                pl.col("deviation").alias("fin_sales_deviation"),
                pl.col("spread").alias("fin_sales_spread"),
                pl.col("sources_used").alias("fin_sales_sources_used"),
            ).with_columns(pl.col(pl.Float64).fill_nan(None))
        )
        summary = financials.income_summary(income)
        debt_service = (
            bureau.select(
                "business_id",
                (pl.col("bureau_monthly_debt_service").fill_null(0) * 100)
                .round(0)
                .cast(pl.Int64)
                .alias("existing_installment_fen"),
            )
            if "bureau_monthly_debt_service" in bureau.columns
            else pl.DataFrame(
                schema={"business_id": pl.Int64, "existing_installment_fen": pl.Int64}
            )
        )
        capacity = financials.repayment_capacity_batch(
            summary.select("business_id", "monthly_disposable_income_fen")
            .join(debt_service, on="business_id", how="left")
            .with_columns(pl.col("existing_installment_fen").fill_null(0))
            .join(
                businesses.select(
                    "business_id",
                    "requested_amount_fen",
                    pl.col("requested_term").alias("term_months"),
                ),
                on="business_id",
            )
            .with_columns(pl.lit(float(DEFAULT_ANNUAL_RATE)).alias("annual_rate")),
            fc,
        )
        parts.append(
            capacity.select(
                pl.col("business_id").cast(pl.Int64),
                pl.col("installment_ratio").alias("fin_installment_ratio"),
                pl.col("max_affordable_fen").cast(pl.Int64).alias("fin_max_affordable_fen"),
            )
        )

    say("channels 收单、电商、考勤")
    for channel, fn, prefix in (
        (pos, channels.pos_features, "pos_"),
        (stores, channels.ecommerce_features, "ecom_"),
        (known("workplace/attendance"), channels.attendance_features, "att_"),
    ):
        if channel is None:
            continue
        own_as_of = as_of.join(channel.select("business_id").unique(), on="business_id")
        parts.append(_prefixed(fn(channel, own_as_of, config=cfg.channels), prefix))

    say("soft information 软信息")
    owners_scan = scan_table(run_dir, "owners")
    parties_scan = scan_table(run_dir, "parties")
    parties: pl.DataFrame | None = None if parties_scan is None else parties_scan.collect()
    if owners_scan is not None:
        owners = owners_scan.collect().join(
            businesses.select("business_id", "years_in_business"), on="business_id"
        )
        married_to = (
            set()
            if parties is None
            else set(parties.filter(pl.col("role") == "spouse")["business_id"].to_list())
        )
        overdue = (
            dict(zip(bureau["business_id"], bureau["bureau_overdue_months_24m"], strict=True))
            if "bureau_overdue_months_24m" in bureau.columns
            else {}
        )
        rows = []
        for o in owners.iter_rows(named=True):
            b = int(o["business_id"])
            profile = owner_profile(o, float(o["years_in_business"]), has_spouse=b in married_to)
            if overdue.get(b) is not None:
                profile = soft.OwnerProfile(
                    **{**profile.__dict__, "overdue_months_24m": int(overdue[b])}
                )
            rows.append(
                {"business_id": b}
                | {f"soft_{k}": v for k, v in soft.static_features(profile).items()}
            )
        parts.append(pl.DataFrame(rows).with_columns(pl.col(pl.Float64).fill_nan(None)))

    say("network 担保网络")
    if parties is not None:
        edges = network.edges_from_parties(parties)
        amounts = businesses.select(
            "business_id", pl.col("requested_amount_fen").alias("amount_fen")
        )
        if edges.height:
            net = network.network_features(edges, businesses["business_id"], amounts, cfg.network)
            parts.append(_prefixed(net, "net_"))

    for part in parts:
        table = table.join(part, on="business_id", how="left")

    outcomes_scan = scan_table(run_dir, "loans/outcomes")
    if outcomes_scan is not None:
        outcomes = outcomes_scan.select("business_id", "default_12m").collect()
        table = table.join(
            outcomes.with_columns(pl.col("default_12m").cast(pl.Int8)), on="business_id", how="left"
        )
    say("done")
    return table.sort("business_id")


__all__ = ["APPLICATION_COLUMNS", "feature_table"]
