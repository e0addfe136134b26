"""``xiaowei simulate …``: the synthetic institution (模拟机构) from the command line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from xiaowei.core.errors import InvalidInput

# The shared helpers of cli.py (console, guarded, JSON printing) are imported when a command
# runs, so that either module may be imported first.
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]

simulate_app = typer.Typer(
    help="The synthetic institution (模拟机构): businesses, statements, reports, behaviour.",
    invoke_without_command=True,
)


@simulate_app.callback()
def simulate(
    ctx: typer.Context,
    businesses: Annotated[int, typer.Option(help="Businesses to simulate.")] = 1000,
    months: Annotated[int, typer.Option(help="Months of history before applying (6–24).")] = 12,
    follow_months: Annotated[
        int, typer.Option(help="Months of monitoring data after booking (0–36).")
    ] = 16,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 2025,
    out: Annotated[Path | None, typer.Option(help="Folder to write the run to.")] = None,
    formats: Annotated[
        str, typer.Option(help="Comma-separated: parquet (always), csv, xlsx.")
    ] = "parquet",
    chunk_size: Annotated[int, typer.Option(help="Businesses per chunk.")] = 1000,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default 2).")] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an earlier run in --out.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Generate a seeded synthetic institution into --out (or run a subcommand)."""
    if ctx.invoked_subcommand is not None:
        return
    from xiaowei.entrypoints.cli import _print_json, console, err, guarded

    def run() -> None:
        from xiaowei.simulate.config import SimulationConfig
        from xiaowei.simulate.generate import run as generate

        if out is None:
            raise InvalidInput("out", "give the folder to write to: --out DIR")
        try:
            config = SimulationConfig(
                seed=seed,
                businesses=businesses,
                months=months,
                follow_months=follow_months,
                chunk_size=chunk_size,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "config"
            raise InvalidInput(field.replace("_", "-"), first["msg"]) from None
        started = time.perf_counter()
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=as_json,
        ) as bar:
            task = bar.add_task("simulating chunks", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = generate(
                config,
                out,
                formats=formats.split(","),
                workers=workers,
                overwrite=overwrite,
                progress=progress,
            )
        seconds = time.perf_counter() - started
        if as_json:
            _print_json({"out": str(out), "seconds": round(seconds, 1), "counts": result.counts})
            return
        tx = result.counts.get("statements/transactions", 0)
        console.print(
            f"simulated {businesses:,} businesses (seed {seed}) into {out} in {seconds:.1f} s: "
            f"{tx:,} transactions",
            highlight=False,
        )

    guarded(run)


@simulate_app.command("describe")
def describe_cmd(
    directory: Annotated[Path, typer.Argument(help="A folder written by xiaowei simulate.")],
    as_json: JsonOpt = False,
) -> None:
    """Counts, default rate, fraud rate and industry mix of a run."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.simulate.describe import describe

        d = describe(directory)
        if as_json:
            _print_json(d.to_json())
            return
        console.print(
            f"seed {d.seed} · {d.businesses:,} businesses · default rate (90+ DPD, 12 months on "
            f"book) {d.default_rate:.1%} · mean true PD {d.true_pd:.1%} · manipulated "
            f"{d.fraud_rate:.1%} (inflated sales {d.fraud['inflates_sales']:.1%}, hidden debt "
            f"{d.fraud['hides_debt']:.1%}, round-tripping {d.fraud['round_trips']:.1%})",
            highlight=False,
        )
        mix = Table(title="industry mix 行业结构")
        for col in ("industry", "businesses", "share", "gross_margin", "true_pd", "default_rate"):
            mix.add_column(col, justify="left" if col == "industry" else "right")
        for row in d.industries:
            observed = row["default_rate"]
            mix.add_row(
                row["industry"],
                f"{row['businesses']:,}",
                f"{row['share']:.1%}",
                f"{row['gross_margin']:.1%}",
                f"{row['true_pd']:.1%}",
                "-" if observed is None else f"{observed:.1%}",
            )
        console.print(mix)
        counts = Table(title="tables 数据表")
        counts.add_column("table")
        counts.add_column("rows", justify="right")
        for name, n in d.counts.items():
            counts.add_row(name, f"{n:,}")
        console.print(counts)

    guarded(run)


def _yuan(fen: object) -> str:
    return "-" if fen is None else f"{int(str(fen)) / 100:,.2f}"


@simulate_app.command("show")
def show_cmd(
    directory: Annotated[Path, typer.Argument(help="A folder written by xiaowei simulate.")],
    business_id: Annotated[int, typer.Argument(help="The business to show (1, 2, …).")],
    chart: Annotated[
        Path | None, typer.Option(help="Draw declared sales against the sources (PNG).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """One applicant's investigation file (调查档案), step by step, from the run's observable
    tables: lead, application, visit, IPC statements, statements and other sources, report."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.simulate.casefile import build_casefile

        cf = build_casefile(directory, business_id)
        if chart is not None:
            from xiaowei.reports.charts import sources_chart

            income = (
                dict(
                    zip(cf.income["month"].to_list(), cf.income["sales_declared_fen"], strict=True)
                )
                if cf.income.height
                else {}
            )
            months = cf.flows["month"].to_list()
            series: dict[str, list[float | None]] = {
                "declared_sales": [None if m not in income else income[m] / 100 for m in months],
                "bank_in": [None if v is None else v / 100 for v in cf.flows["bank_in_fen"]],
            }
            for key, col in (("pos", "pos_fen"), ("gmv", "gmv_fen")):
                if col in cf.flows.columns:
                    series[key] = [None if v is None else v / 100 for v in cf.flows[col]]
            from xiaowei.core.i18n import current_lang
            from xiaowei.reports.charts import chart_lang

            # the shop's name is Chinese: shown only when the chart can draw Chinese
            name = str(cf.business["business_name"])
            title = name if chart_lang(current_lang()) == "zh-CN" else f"business {business_id}"
            sources_chart(months, series, chart, title=title)
        if as_json:
            _print_json(cf.to_json())
            return
        b, o = cf.business, cf.owner
        console.rule(f"[bold]{b['business_name']}[/] · business {business_id}")
        lead = cf.lead
        console.print(
            "1. 营销线索 Lead: "
            + (
                f"{lead['channel_zh']} ({lead['channel']}) via {lead.get('source') or '-'}, "
                f"created {lead['created_date']}, contacted {lead.get('contacted_date') or '-'}, "
                f"officer {lead['officer_id']}"
                if lead
                else "no lead on record (walk-in)"
            ),
            highlight=False,
        )
        a = cf.application
        console.print(
            f"2. 借款申请 Application {a['date']}: {_yuan(a['amount_fen'])} CNY for "
            f"{a['term_months']} months, purpose {a['purpose']}",
            highlight=False,
        )
        console.print(
            f"3. 实地调查 Visit: {b['legal_form']} · {b['industry']} in {b['city']} · founded "
            f"{b['founded']} ({b['years_in_business']} years) · {b['employees']} employees · "
            f"POS {'yes' if b['has_pos'] else 'no'} · online store "
            f"{'yes' if b['has_ecommerce'] else 'no'}",
            highlight=False,
        )
        console.print(
            f"   经营者 Owner {o.get('name')}: {o.get('gender')}, {o.get('age')} years, "
            f"{o.get('marital_status')}, {o.get('education')}, {o.get('years_at_residence')} "
            f"years at residence, household of {o.get('household_size')}",
            highlight=False,
        )
        for p in cf.parties:
            console.print(f"   关联人 {p['role_zh']}: {p['name']}", highlight=False)
        if cf.balance_sheets:
            sheet = Table(title="4. IPC 资产负债表 balance sheets (CNY)")
            sheet.add_column("item")
            for s in cf.balance_sheets:
                sheet.add_column(f"{s['kind']} {s['as_of']}", justify="right")
            for key in ("total_assets_fen", "total_liabilities_fen", "equity_fen"):
                sheet.add_row(
                    key.removesuffix("_fen"), *(_yuan(s.get(key)) for s in cf.balance_sheets)
                )
            console.print(sheet)
        if cf.income.height:
            inc = cf.income
            monthly = inc["disposable_income_fen"].sum() // max(inc.height, 1)
            console.print(
                f"   损益 P&L over {inc.height} months: declared sales "
                f"{_yuan(inc['sales_declared_fen'].sum())}, net profit "
                f"{_yuan(inc['net_profit_fen'].sum())}, monthly disposable income "
                f"{_yuan(monthly)}",
                highlight=False,
            )
        if cf.products:
            margin = sum(
                (1 - p["purchase_price_fen"] / p["sale_price_fen"]) * p["sales_share"]
                for p in cf.products
            )
            console.print(
                f"   产品 {len(cf.products)} products, weighted gross margin {margin:.1%}",
                highlight=False,
            )
        flows = Table(title="5. 流水与交叉来源 statements and other sources by month (CNY)")
        for col in cf.flows.columns:
            flows.add_column(col.removesuffix("_fen"), justify="right")
        for row in cf.flows.iter_rows(named=True):
            flows.add_row(
                *(
                    f"{v:%Y-%m}"
                    if k == "month"
                    else (_yuan(v) if k.endswith("_fen") else ("-" if v is None else str(v)))
                    for k, v in row.items()
                )
            )
        console.print(flows)
        console.print(
            f"   accounts: {', '.join(str(x['bank_name']) for x in cf.accounts)}",
            highlight=False,
        )
        r = cf.report_summary
        if r:
            console.print(
                f"6. 征信 Credit report: {r['accounts']} accounts ({r['open_accounts']} open: "
                f"{', '.join(r['open_lenders']) or '-'}); {r['delinquent_months_60m']} delinquent "
                f"months in 60, worst status {r['worst_status']}; {r['hard_inquiries_24m']} hard "
                f"inquiries in 24 months; {r['guarantees_given']} guarantees given",
                highlight=False,
            )
        console.print(
            "7. 档案清单 Materials: " + "; ".join(cf.materials),
            highlight=False,
        )

    guarded(run)


_REPORT_COLLECTIONS = {
    ("personal", "application"): "credit_reports/personal",
    ("personal", "refresh"): "credit_reports/personal_refresh",
    ("enterprise", "application"): "credit_reports/enterprise",
    ("enterprise", "refresh"): "credit_reports/enterprise_refresh",
}


@simulate_app.command("report")
def report_cmd(
    directory: Annotated[Path, typer.Argument(help="A folder written by xiaowei simulate.")],
    business_id: Annotated[
        int, typer.Argument(help="The business whose report to take (1, 2, …).")
    ],
    kind: Annotated[
        str,
        typer.Option(help="application (申请查询, at the loan) or refresh (贷后查询, post-loan)."),
    ] = "application",
    subject: Annotated[
        str, typer.Option(help="personal (个人, the owner) or enterprise (企业, the firm).")
    ] = "personal",
    out: Annotated[
        Path | None, typer.Option(help="File to write the document to (default: print it).")
    ] = None,
    as_xml: Annotated[bool, typer.Option("--xml", help="XML instead of JSON.")] = False,
) -> None:
    """One business's credit report (征信报告) as a document: pretty JSON (or XML), the input of
    ``xiaowei analyse report``."""
    from xiaowei.entrypoints.cli import console, guarded

    def run() -> None:
        import json
        import sys

        from xiaowei.core.errors import NotFound
        from xiaowei.simulate.describe import load_manifest

        if kind not in ("application", "refresh"):
            raise InvalidInput("kind", f"{kind!r} is not application or refresh")
        if subject not in ("personal", "enterprise"):
            raise InvalidInput("subject", f"{subject!r} is not personal or enterprise")
        load_manifest(directory)  # a clear error when the folder is not a run
        if business_id < 1:
            raise InvalidInput("business_id", f"{business_id} is not a business id (1, 2, …)")
        doc = _find_report(directory, _REPORT_COLLECTIONS[subject, kind], business_id)
        if doc is None:
            if _find_report(directory, _REPORT_COLLECTIONS["personal", "application"], business_id):
                why = (
                    " (a sole proprietorship 个体工商户 has no enterprise report)"
                    if subject == "enterprise"
                    else ""
                )
                raise NotFound(
                    f"business {business_id} has no {subject} {kind} report in {directory}{why}"
                )
            raise NotFound(f"business {business_id} is not in {directory}")
        if as_xml:
            from xiaowei.adapters.credit_report_xml import to_xml

            data = to_xml(doc)
        else:
            data = (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        if out is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        except OSError as exc:
            raise InvalidInput("out", f"cannot write {out}: {exc.strerror or exc}") from None
        console.print(
            f"wrote the {subject} {kind} report {doc['report_id']} of business {business_id} "
            f"to {out}",
            highlight=False,
            soft_wrap=True,  # a long path stays on one line
        )

    guarded(run)


def _find_report(directory: Path, collection: str, business_id: int) -> dict[str, Any] | None:
    """The document of ``business_id`` in a JSON-lines collection of the run, or None."""
    import json

    for part in sorted((directory / collection).glob("part-*.jsonl")):
        with part.open(encoding="utf-8") as fh:
            for line in fh:
                if f'"business_id":{business_id},' not in line:  # cheap pre-filter
                    continue
                doc: dict[str, Any] = json.loads(line)
                if doc.get("business_id") == business_id:
                    return doc
    return None


@simulate_app.command("ipc")
def ipc_cmd(
    directory: Annotated[Path, typer.Argument(help="A folder written by xiaowei simulate.")],
    business_id: Annotated[int, typer.Argument(help="The business whose file to take (1, 2, …).")],
    out: Annotated[
        Path | None, typer.Option(help="File to write the IPC file to (default: print it).")
    ] = None,
) -> None:
    """One business's IPC investigation file (调查报表) in the ``xiaowei.ipc/1.0`` JSON layout,
    from the run's observable ``financials/*`` tables: the input of ``xiaowei analyse
    financials``."""
    from xiaowei.entrypoints.cli import console, guarded

    def run() -> None:
        import json
        import sys

        import polars as pl

        from xiaowei.adapters.ipc_file import ipc_from_frames, write_ipc_file
        from xiaowei.core.errors import NotFound
        from xiaowei.simulate.describe import load_manifest
        from xiaowei.simulate.output import read_table

        load_manifest(directory)  # a clear error when the folder is not a run
        if business_id < 1:
            raise InvalidInput("business_id", f"{business_id} is not a business id (1, 2, …)")

        def table(name: str) -> pl.DataFrame:
            try:
                frame = read_table(directory, name)
            except FileNotFoundError:
                raise NotFound(f"{directory} has no table {name}") from None
            return frame.filter(pl.col("business_id") == business_id)

        business = table("businesses")
        if business.height == 0:
            raise NotFound(f"business {business_id} is not in {directory}")
        biz = business.row(0, named=True)
        ipc = ipc_from_frames(
            business_id=business_id,
            industry=biz["industry"],
            employees=biz["employees"],
            balance_sheets=table("financials/balance_sheets"),
            income_monthly=table("financials/income_monthly"),
            products=table("financials/products"),
            equity_inputs=table("financials/equity_reconciliation_inputs"),
        )
        if out is None:
            data = json.dumps(ipc.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
            sys.stdout.buffer.write(data.encode("utf-8"))
            sys.stdout.flush()
            return
        write_ipc_file(ipc, out)
        console.print(
            f"wrote the IPC file (调查报表) of business {business_id} to {out}",
            highlight=False,
            soft_wrap=True,
        )

    guarded(run)
