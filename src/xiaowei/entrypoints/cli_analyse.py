"""``xiaowei analyse …``: credit analysis (信贷分析).

Here: ``analyse statement FILE...`` (bank-statement exports → monthly table, flow features,
flags with the rows that raised them), ``analyse report FILE`` (a PBOC-style credit report →
features, flags, the analyst's summary), ``analyse financials FILE`` (an IPC file → ratios,
equity cross-check, margins, capacity) and ``analyse application RUN --business ID`` (one
applicant of a simulated run → the whole credit file, ``--html`` the credit memo, ``--as-of``
a post-loan re-analysis). Registered from their own modules: ``cross-checks`` and
``balance-sheets`` (cli_analyse_batch), ``channels`` and ``attendance``
(cli_analyse_channels), ``willingness`` and ``grid`` (cli_analyse_soft).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from xiaowei.core.errors import InvalidInput

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]

analyse_app = typer.Typer(
    no_args_is_help=True,
    help="Credit analysis (信贷分析): statements, credit reports, IPC financials and "
    "cross-checks, channels, soft information, willingness, the credit file and its memo.",
)

# Rows of a second and later file are numbered file × ROW_BLOCK + row in the evidence.
ROW_BLOCK = 1_000_000


def _yuan(fen: object) -> str:
    return "-" if fen is None else f"{float(str(fen)) / 100:,.2f}"


@analyse_app.command("statement")
def statement_cmd(
    files: Annotated[list[Path], typer.Argument(help="Bank-statement exports (CSV, XLSX).")],
    owner: Annotated[
        list[str] | None,
        typer.Option(help="Names that count as the applicant's own (owner, spouse, firm)."),
    ] = None,
    declared_lender: Annotated[
        list[str] | None, typer.Option(help="Lenders the applicant declared (repeatable).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Flows of one applicant's statements (交易流水分析): months, features, flags.

    Each file is one account; together they are the business. Evidence rows are the data rows
    of the file (counted from 1); with several files, row r of file k (k ≥ 2) reads
    k × 1,000,000 + r.
    """
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        import polars as pl

        from xiaowei.adapters.statement_import import read_statement
        from xiaowei.analysis import flows
        from xiaowei.analysis.flags import Flag, Severity

        if not files:
            raise InvalidInput("files", "give at least one statement file")
        frames = []
        own: list[str] = list(owner or [])
        described: list[dict[str, Any]] = []
        extra: list[Flag] = []
        for k, path in enumerate(files, start=1):
            imported = read_statement(path)
            offset = 0 if k == 1 else k * ROW_BLOCK
            frame = imported.frame.with_columns(
                (pl.col("row") + offset).alias("row"),
                pl.lit(k, dtype=pl.Int64).alias("account_id"),
                pl.lit(1, dtype=pl.Int64).alias("business_id"),
            )
            frames.append(frame)
            meta = imported.metadata
            own += [x for x in (meta.holder_name, meta.account_no) if x]
            rec = imported.reconciliation
            described.append(
                {
                    "file": str(path),
                    "layout": imported.layout,
                    "rows": imported.frame.height,
                    "bank": meta.bank_name,
                    "account_no": meta.account_no,
                    "holder": meta.holder_name,
                    "reconciles": rec.ok,
                }
            )
            if not rec.ok:
                extra.append(
                    Flag(
                        code="balance_mismatch",
                        severity=Severity.CRITICAL,
                        message=(
                            f"{path.name}: the running balance does not reconcile on "
                            f"{len(rec.mismatches)} row(s) (余额不连续)"
                        ),
                        transactions=tuple(r + offset for r in rec.mismatches),
                    )
                )
        tx = pl.concat(frames, how="diagonal_relaxed")
        prepared = flows.prepare(tx, own)
        monthly = flows.monthly_table(prepared)
        features = flows.flow_features(prepared, monthly=monthly)
        flags = flows.flow_flags(prepared, declared_lenders=list(declared_lender or []))
        found = flags.get(1, [])
        codes = {(f.code, f.transactions) for f in found}
        found += [f for f in extra if (f.code, f.transactions) not in codes]
        row = features.row(0, named=True) if features.height else {}
        feature_json = {k: v for k, v in row.items() if k != "business_id"}
        if as_json:
            _print_json(
                {
                    "files": described,
                    "months": flows.months_json(monthly, 1),
                    "features": feature_json,
                    "flags": [f.to_json() for f in found],
                }
            )
            return
        for d in described:
            verdict = "reconciles" if d["reconciles"] else "DOES NOT reconcile"
            console.print(
                f"{d['file']}: {d['bank'] or '-'} {d['account_no'] or ''} · {d['rows']} rows · "
                f"layout {d['layout']} · {verdict}",
                highlight=False,
            )
        table = Table(title="monthly flows 月度流水 (CNY)")
        for col in ("month", "inflow", "outflow", "revenue estimate", "avg daily balance"):
            table.add_column(col, justify="right")
        for m in flows.months_json(monthly, 1):
            table.add_row(
                str(m["month"]),
                _yuan(m["inflow"]),
                _yuan(m["outflow"]),
                _yuan(m["revenue_estimate"]),
                _yuan(m["average_daily_balance"]),
            )
        console.print(table)
        if not found:
            console.print("no flags")
        for f in found:
            rows = ", ".join(str(r) for r in f.transactions[:10])
            more = " …" if len(f.transactions) > 10 else ""
            console.print(
                f"{f.severity.value.upper()} {f.code}: {f.message}"
                + (f" (rows {rows}{more})" if rows else ""),
                highlight=False,
                markup=False,
            )

    guarded(run)


@analyse_app.command("report")
def report_cmd(
    file: Annotated[Path, typer.Argument(help="A credit report: one JSON document.")],
    as_json: JsonOpt = False,
) -> None:
    """A PBOC-style credit report (征信报告分析): features, flags and the analyst's summary."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.analysis.credit_report import analyse_report
        from xiaowei.analysis.credit_report_schema import parse_report

        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput("file", f"cannot read {file}: {exc}") from None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                "file", f"{file} is not JSON: {exc.msg} (line {exc.lineno})"
            ) from None
        if not isinstance(doc, dict):
            raise InvalidInput("file", f"{file} holds no report object")
        analysis = analyse_report(parse_report(doc))
        if as_json:
            _print_json(analysis.to_json())
            return
        for paragraph in analysis.summary.to_text():
            console.print(paragraph, highlight=False, markup=False)

    guarded(run)


@analyse_app.command(
    "application",
    short_help="The credit file of one applicant (信贷档案), with --html the credit memo.",
)
def application_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A simulator run folder (xiaowei simulate).")],
    business: Annotated[int, typer.Option("--business", help="The business id to analyse.")],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Post-loan re-analysis (贷后): rebuild the file from the data known on this date "
            "(YYYY-MM-DD, on or after the application).",
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the credit memo (授信审查报告) as one HTML file."),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang", help="Language of the memo: zh-CN or en (default: the CLI's, else zh-CN)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The credit file of one application (信贷档案): features, cross-checks, capacity,
    willingness and flags from every source of a simulated run (never its truth/); with
    --html FILE the committee's credit memo with its charts, in --lang zh-CN or en."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        import os

        from xiaowei.core.i18n import current_lang
        from xiaowei.services.analysis import analyse_simulated

        if not run_dir.is_dir():
            raise InvalidInput("run_dir", f"{run_dir} is not a folder")
        memo_lang = lang or (os.environ.get("XIAOWEI_LANG") and current_lang()) or "zh-CN"
        if memo_lang not in ("zh-CN", "en"):
            raise InvalidInput("lang", f"{memo_lang!r} is not one of zh-CN, en")
        if html is not None and html.is_dir():
            raise InvalidInput("html", f"{html} is a folder")
        from xiaowei.entrypoints.cli import _date

        credit_file = analyse_simulated(
            run_dir, business, as_of=None if as_of is None else _date(as_of, "as_of")
        )
        if html is not None:
            from xiaowei.adapters.files import write_atomically
            from xiaowei.reports.credit_memo import render_credit_memo

            page = render_credit_memo(credit_file, "en" if memo_lang == "en" else "zh-CN")
            # written beside the target, then renamed: a reader never sees half a memo
            write_atomically(html, lambda tmp: tmp.write_text(page, encoding="utf-8"))
        if as_json:
            _print_json(credit_file.to_json())
            return
        cf = credit_file
        console.print(
            f"business {cf.business_id} · as of {cf.as_of} · config {cf.config_hash} · "
            f"missing: {', '.join(cf.sources_missing) or 'none'}",
            highlight=False,
        )
        table = Table(title="key features 主要指标")
        table.add_column("feature")
        table.add_column("value", justify="right")
        for key in (
            "flow_revenue_mean_12m",
            "flow_revenue_cv_12m",
            "flow_customer_top1_share_12m",
            "bureau_monthly_debt_service",
            "bureau_total_outstanding",
            "fin_gross_margin",
            "fin_debt_ratio",
            "fin_current_ratio",
            "pos_gross_fen_12m",
            "soft_owner_age",
            "will_ratio",
        ):
            if key in cf.features:
                value = cf.features[key]
                table.add_row(key, "-" if value is None else f"{value:,.4g}")
        console.print(table)
        eq, sales = cf.cross_checks.equity, cf.cross_checks.sales
        if eq is not None:
            console.print(
                f"equity cross-check 权益交叉检验: {eq.verdict} (deviation "
                f"{_yuan(eq.deviation_fen)} CNY, {eq.deviation_rate:+.1%} of period profit)",
                highlight=False,
            )
        if sales is not None:
            dev = "-" if sales.deviation is None else f"{sales.deviation:+.1%}"
            console.print(
                f"sales cross-check 销售额交叉检验: {sales.verdict or 'no source'} (declared "
                f"{_yuan(sales.declared_sales_fen)}, reconciled "
                f"{_yuan(sales.reconciled_sales_fen)}, deviation {dev})",
                highlight=False,
            )
        if cf.capacity is not None:
            c = cf.capacity
            ratio = "-" if c.installment_ratio is None else f"{c.installment_ratio:.1%}"
            console.print(
                f"capacity 还款能力: installment ratio {ratio} (cap {c.cap:.0%}), maximum "
                f"affordable loan {c.max_affordable_loan:,.2f} CNY",
                highlight=False,
            )
        if cf.willingness is not None:
            w = cf.willingness
            console.print(
                f"willingness 还款意愿: cost of default {w.cost_of_default:,.2f} vs exposure "
                f"{w.exposure:,.2f} CNY (ratio {w.ratio:.2f})",
                highlight=False,
            )
        _print_grid(cf)
        if cf.network is not None and cf.network.features:
            nf = cf.network.features
            console.print(
                f"network 担保网络: {nf.get('net_guarantors', 0)} business guarantor(s), "
                f"guarantees {nf.get('net_guaranteed', 0)}; circle "
                f"{cf.network.circle_members or '-'}, chain length "
                f"{nf.get('net_chain_length', 0)}, exposure through guarantees "
                f"{_yuan(nf.get('net_exposure_total_fen'))} CNY",
                highlight=False,
            )
        if not cf.flags:
            console.print("no flags")
        for f in cf.flags:
            console.print(
                f"{f.severity.value.upper()} {f.code}: {f.message}", highlight=False, markup=False
            )

    guarded(run)


_RATING_STYLE = {"favourable": "green", "neutral": "", "risky": "bold red"}


def _print_grid(cf: Any) -> None:
    """The deviation grid (不对称信息偏差分析表) of a credit file, coloured by rating."""
    from xiaowei.entrypoints.cli import console

    grid = cf.deviation_grid
    if grid is None:
        return
    rate = "-" if grid.deviation_rate is None else f"{grid.deviation_rate:.0%}"
    weighted = (
        "-" if grid.weighted_deviation_rate is None else f"{grid.weighted_deviation_rate:.0%}"
    )
    table = Table(
        title=f"deviation grid 不对称信息偏差分析 · deviation rate {rate} (weighted {weighted})"
    )
    for col in ("item", "value", "rating", "reason"):
        table.add_column(col)
    for item in grid.items:
        style = _RATING_STYLE.get(item["rating"], "")
        reason = item["reason"]
        if item["rating"] == "risky":
            reason += (
                f" — justified: {item['justification']}"
                if item["justification"]
                else (" — justification required 需书面解释")
            )
        table.add_row(item["label"], item["value"], item["rating"], reason, style=style)
    console.print(table)
    state = (
        "ready for approval"
        if grid.ready_for_approval
        else ("NOT ready for approval: justify " + ", ".join(grid.missing_justifications))
    )
    console.print(f"deviation grid: {state}", highlight=False)


@analyse_app.command(
    "financials",
    short_help="Financial analysis of an IPC file (财务分析) and its equity cross-check.",
)
def financials_cmd(
    file: Annotated[Path, typer.Argument(help="An IPC file (调查报表), layout xiaowei.ipc/1.0.")],
    amount: Annotated[
        str | None, typer.Option("--amount", help="Requested loan amount, CNY.")
    ] = None,
    term: Annotated[int | None, typer.Option("--term", help="Loan term in months.")] = None,
    rate: Annotated[
        str | None, typer.Option("--rate", help="Annual rate as a fraction, e.g. 0.12.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Financial analysis of an IPC file (财务分析): ratios against the industry norms, the
    equity cross-check (权益交叉检验) with its breakdown, the weighted product margin against
    the income statement and, with --amount/--term/--rate, repayment capacity (还款能力)."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from decimal import Decimal, InvalidOperation

        import polars as pl

        from xiaowei.adapters.ipc_file import ipc_frames, read_ipc_file
        from xiaowei.analysis import financials as fin

        loan = (amount, term, rate)
        if any(x is not None for x in loan) and any(x is None for x in loan):
            raise InvalidInput("--amount/--term/--rate", "give all three or none")
        ipc = read_ipc_file(file)
        sheets, income, products, equity = ipc_frames(ipc)
        bid = ipc.business_id
        industries = pl.DataFrame({"business_id": [bid], "industry": [ipc.industry]})
        ratios = fin.financial_ratios(sheets, income, industries)
        outliers = fin.ratio_outliers(ratios)
        check = fin.EquityCheck.from_frame(fin.equity_cross_check(sheets, equity), bid)
        margins = fin.weighted_gross_margins(products).row(0, named=True)
        summary = fin.income_summary(income).row(0, named=True)
        ratio_row = ratios.row(0, named=True)
        capacity = None
        if amount is not None and term is not None and rate is not None:
            try:
                amount_d, rate_d = Decimal(amount), Decimal(rate)
            except InvalidOperation:
                raise InvalidInput("--amount/--rate", "must be decimal numbers") from None
            if not amount_d.is_finite() or not rate_d.is_finite():
                raise InvalidInput("--amount/--rate", "must be finite numbers")
            capacity = fin.repayment_capacity(
                Decimal(summary["monthly_disposable_income_fen"]) / 100,
                amount=amount_d,
                annual_rate=rate_d,
                term_months=term,
            )
        flags = fin.ratio_flags(outliers, bid)
        for extra in (check.flag(), capacity.flag() if capacity is not None else None):
            if extra is not None:
                flags.append(extra)
        cfg = fin.DEFAULT_CONFIG
        weighted = margins["weighted_gross_margin"]
        stated = summary["gross_margin"]
        margin = {
            "weighted_product_margin": weighted,
            "income_statement_margin": stated,
            "difference": None if stated is None else weighted - stated,
        }
        equity_json: dict[str, Any] = check.model_dump(mode="json") | {
            "pass_band": cfg.equity_pass_band,
            "explain_band": cfg.equity_explain_band,
            "breakdown": [line.model_dump() for line in check.breakdown()],
            "period_start": str(ipc.equity_inputs.period_start),
            "period_end": str(ipc.equity_inputs.period_end),
            "months": ipc.equity_inputs.months,
        }
        if as_json:
            _print_json(
                {
                    "business_id": bid,
                    "industry": ipc.industry,
                    "ratios": {k: v for k, v in ratio_row.items() if k not in ("business_id",)},
                    "outliers": outliers.drop("business_id").to_dicts(),
                    "equity_check": equity_json,
                    "margins": margin,
                    "capacity": None if capacity is None else capacity.model_dump(mode="json"),
                    "flags": [f.to_json() for f in flags],
                }
            )
            return
        console.print(
            f"business {bid} · {ipc.industry} (template {ratio_row['template']}) · "
            f"{ipc.employees} "
            f"employees · {summary['months']} months of income",
            highlight=False,
        )
        table = Table(title="ratios 财务比率")
        for col in ("ratio", "value", "norm", ""):
            table.add_column(col, justify="right" if col in ("value", "norm") else "left")
        flagged = {r["ratio"]: r for r in outliers.iter_rows(named=True)}
        norm = cfg.industry_norms[ipc.industry]
        for name in fin.TEMPLATES[norm.template].ratios:
            value = ratio_row[name]
            low, high = getattr(norm, name)
            bounds = f"{'' if low is None else f'{low:g}'}–{'' if high is None else f'{high:g}'}"
            mark = flagged.get(name, {}).get("direction", "")
            table.add_row(
                f"{name} {fin._RATIO_ZH[name]}",
                "-" if value is None else f"{value:.3f}",
                bounds,
                f"{mark.upper()}" if mark else "",
            )
        console.print(table)
        eq = Table(title="equity cross-check 权益交叉检验 (CNY)")
        eq.add_column("")
        eq.add_column("term")
        eq.add_column("amount", justify="right")
        for line in check.breakdown():
            eq.add_row(line.sign, f"{line.label} {line.label_zh}", _yuan(line.amount_fen))
        console.print(eq)
        rate_eq = (
            "-" if check.deviation_rate_equity is None else f"{check.deviation_rate_equity:+.1%}"
        )
        console.print(
            f"deviation rate 偏差率: {check.deviation_rate:+.1%} of period profit "
            f"({ipc.equity_inputs.period_start} to {ipc.equity_inputs.period_end}), "
            f"{rate_eq} of equity",
            highlight=False,
        )
        console.print(
            f"verdict: {check.verdict.value} (pass ≤ {cfg.equity_pass_band:.0%}, explain ≤ "
            f"{cfg.equity_explain_band:.0%} of period profit)",
            highlight=False,
        )
        diff = "-" if margin["difference"] is None else f"{margin['difference']:+.1%}"
        console.print(
            f"gross margin 毛利率: products (加权毛利率) {weighted:.1%} vs income statement "
            f"{'-' if stated is None else f'{stated:.1%}'} ({diff})",
            highlight=False,
        )
        if capacity is not None:
            c = capacity
            ratio = "-" if c.installment_ratio is None else f"{c.installment_ratio:.1%}"
            console.print(
                f"capacity 还款能力: installment {c.new_installment:,.2f} CNY = {ratio} of "
                f"disposable income {c.monthly_disposable_income:,.2f} (cap {c.cap:.0%})",
                highlight=False,
            )
            console.print(
                f"maximum affordable loan 最高可贷额: {c.max_affordable_loan:,.2f} CNY",
                highlight=False,
            )
        if not flags:
            console.print("no flags")
        for f in flags:
            console.print(
                f"{f.severity.value.upper()} {f.code}: {f.message}", highlight=False, markup=False
            )

    guarded(run)
