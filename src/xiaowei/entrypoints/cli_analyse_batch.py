"""``xiaowei analyse cross-checks RUN``: the IPC cross-checks over a whole simulated run.

Registers the command on :data:`xiaowei.entrypoints.cli_analyse.analyse_app` when imported
(``entrypoints/cli.py`` imports this module right after it mounts ``analyse``). The use case is
:mod:`xiaowei.services.cross_check_eval`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from xiaowei.core.errors import InvalidInput
from xiaowei.entrypoints.cli_analyse import JsonOpt, analyse_app

_VERDICT_HEAD = (
    ("pass", "pass 通过"),
    ("explain", "explain 需解释"),
    ("fail", "fail 不通过"),
    ("no_source", "no source 无来源"),
)
_CHECK_LABEL = {
    "equity": "equity 权益检验",
    "sales": "sales 销售额检验",
    "combined": "combined 综合 (worse of the two)",
}
_METHOD_LABEL = {
    "traditional": "traditional 传统",
    "equity": "equity 权益",
    "sales": "sales 销售额",
    "either": "either 任一",
}
_KIND_LABEL = {
    "inflated_sales": "inflated sales 虚增销售",
    "inflated_assets": "inflated assets 虚增资产",
    "hidden_debt": "hidden debt 隐瞒负债",
    "inflated_margin": "inflated margin 虚增毛利",
    "any": "all manipulated 全部造假",
}


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


@analyse_app.command(
    "cross-checks",
    short_help="Equity and sales cross-checks of every business of a run (交叉检验).",
)
def cross_checks_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A simulator run folder (xiaowei simulate).")],
    truth: Annotated[
        bool,
        typer.Option(
            "--truth",
            help="Trainer's option: score the verdicts against the simulator's hidden truth "
            "(RUN/truth/financial_manipulation), which no analysis reads.",
        ),
    ] = False,
    alarm_at: Annotated[
        str,
        typer.Option(
            "--alarm-at", help="Mildest verdict that counts as an alarm: fail or explain."
        ),
    ] = "fail",
    chart: Annotated[
        str | None,
        typer.Option("--chart", help="Write the verdicts (and, with --truth, recall) as PNG."),
    ] = None,
    business: Annotated[
        int | None,
        typer.Option(
            "--business",
            help="Read one file instead of the counts: its equity check term by term, its "
            "sales check by source (the counts stay in --json).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The equity (权益) and sales (销售额) cross-checks of EVERY business of a simulated run,
    from its observable tables: verdict counts per check; with --truth (a trainer's tool: it
    reads RUN/truth/), recall, false alarms and precision per manipulation kind for traditional
    lending against the cross-checks; with --business, one file read term by term instead."""
    from xiaowei.entrypoints.cli import _print_json, console, err, guarded

    def run() -> None:
        from xiaowei.analysis.financials import Verdict
        from xiaowei.core.i18n import current_lang
        from xiaowei.services import cross_check_eval as cce

        if alarm_at not in (Verdict.FAIL.value, Verdict.EXPLAIN.value):
            raise InvalidInput("--alarm-at", f"{alarm_at!r} is not one of fail, explain")
        alarm = Verdict(alarm_at)
        result = cce.cross_check_run(run_dir)
        detail = None if business is None else _business_detail(result, business)
        counts = cce.verdict_counts(result.verdicts)
        evaluation = cce.evaluate_against_truth(result, alarm_at=alarm) if truth else None
        written: str | None = None
        if chart:
            from xiaowei.reports import charts
            from xiaowei.reports.evaluation_charts import cross_check_chart

            language = current_lang()
            if language == "zh-CN" and charts.chart_lang(language) == "en":
                err.print(
                    "no CJK font found (install fonts-noto-cjk): chart labels are in English",
                    highlight=False,
                )
            written = str(
                cross_check_chart(
                    counts,
                    chart,
                    by_kind=None if evaluation is None else evaluation.by_kind,
                    confusion=None if evaluation is None else evaluation.confusion,
                    alarm_at=alarm.value,
                    lang=language,
                )
            )
        if as_json:
            out: dict[str, Any] = {
                "run": str(run_dir),
                "files": result.verdicts.height,
                "verdict_counts": counts.to_dicts(),
                "truth": None,
                "chart": written,
                "business": detail,
            }
            if evaluation is not None:
                out["truth"] = {
                    "source": "truth/financial_manipulation (trainer's evaluation)",
                    "alarm_at": alarm.value,
                    "by_kind": evaluation.by_kind.to_dicts(),
                    "confusion": evaluation.confusion.to_dicts(),
                }
                if detail is not None:
                    detail["truth_kind"] = _kind_of(evaluation.labelled, detail["business_id"])
            _print_json(out)
            return
        if detail is not None:
            kind = (
                None if evaluation is None else _kind_of(evaluation.labelled, detail["business_id"])
            )
            _print_detail(detail, kind)
            if written:
                console.print(f"chart written to {written}", highlight=False)
            return
        console.print(
            f"cross-checks of {result.verdicts.height} files in {run_dir} (observable tables only)",
            highlight=False,
        )
        table = Table(title="verdicts 检验结论 (files)")
        table.add_column("check")
        for _, head in _VERDICT_HEAD:
            table.add_column(head, justify="right")
        for row in counts.iter_rows(named=True):
            table.add_row(_CHECK_LABEL[row["check"]], *(str(row[k]) for k, _ in _VERDICT_HEAD))
        console.print(table)
        if evaluation is not None:
            console.print(
                f"trainer's evaluation: scored against {run_dir}/truth/financial_manipulation "
                f"(the simulator's hidden truth, never read by the analysis); alarm = "
                f"{'fail' if alarm is Verdict.FAIL else 'explain or fail'}",
                highlight=False,
            )
            scored = Table(title="recall, false alarms, precision 召回率、误报率、精确率")
            for col in ("kind", "n", "method", "caught", "recall", "false alarms", "precision"):
                scored.add_column(
                    col,
                    justify="left" if col in ("kind", "method") else "right",
                    no_wrap=col == "kind",
                )
            rows = list(evaluation.by_kind.iter_rows(named=True))
            for i, row in enumerate(rows):
                first = i == 0 or rows[i - 1]["kind"] != row["kind"]
                last = i == len(rows) - 1 or rows[i + 1]["kind"] != row["kind"]
                scored.add_row(
                    _KIND_LABEL.get(row["kind"], row["kind"]) if first else "",
                    str(row["files"]) if first else "",
                    _METHOD_LABEL[row["method"]],
                    str(row["caught"]),
                    _share(row["recall"]),
                    f"{row['false_alarms']} ({_share(row['false_alarm_rate'])})",
                    _share(row["precision"]),
                    end_section=last,
                )
            console.print(scored)
            honest = int(evaluation.by_kind["honest_files"][0])
            console.print(
                f"n: files of the kind; false alarms: of the {honest} honest files (kind none); "
                f"precision: caught / (caught + false alarms)",
                highlight=False,
            )
            confusion = Table(title="confusion 混淆矩阵 (all manipulated vs honest)")
            for col in ("method", "manipulated alarmed", "missed", "honest alarmed", "passed"):
                confusion.add_column(col, justify="left" if col == "method" else "right")
            for row in evaluation.confusion.iter_rows(named=True):
                confusion.add_row(
                    _METHOD_LABEL[row["method"]],
                    str(row["manipulated_alarmed"]),
                    str(row["manipulated_missed"]),
                    str(row["honest_alarmed"]),
                    str(row["honest_passed"]),
                )
            console.print(confusion)
        if written:
            console.print(f"chart written to {written}", highlight=False)

    guarded(run)


_SOURCE_LABEL = {
    "bank": "bank revenue 银行流水收入",
    "purchases": "purchases ÷ (1 − margin) 进货倒推",
    "invoices": "invoiced sales 开票销售额",
    "staff": "staff × sales per head 人均销售额推算",
    "pos": "POS settlements POS收单 (floor)",
    "ecommerce": "e-commerce GMV 电商GMV (floor)",
}


def _business_detail(result: Any, business_id: int) -> dict[str, Any]:
    """One file of the run: its verdicts, the equity check's terms and the sales sources."""
    import polars as pl

    from xiaowei.analysis.financials import EquityCheck
    from xiaowei.core.errors import NotFound

    row = result.verdicts.filter(pl.col("business_id") == business_id)
    if row.height == 0:
        raise NotFound(f"no business {business_id} in {result.run_dir}")
    verdicts = row.row(0, named=True)
    equity = EquityCheck.from_frame(result.equity, business_id)
    summary = result.sales_summary.filter(pl.col("business_id") == business_id).row(0, named=True)
    sources = result.sales_sources.filter(pl.col("business_id") == business_id)
    return {
        "business_id": business_id,
        "industry": verdicts["industry"],
        "verdicts": {c: verdicts[f"{c}_verdict"] for c in ("equity", "sales", "combined")},
        "equity": equity.model_dump(mode="json")
        | {"breakdown": [line.model_dump() for line in equity.breakdown()]},
        "sales": {k: v for k, v in summary.items() if k != "business_id"}
        | {"sources": sources.drop("business_id").to_dicts()},
    }


def _kind_of(labelled: Any, business_id: int) -> str | None:
    import polars as pl

    kinds = labelled.filter(pl.col("business_id") == business_id)["kind"].to_list()
    return kinds[0] if kinds else None


def _print_detail(detail: dict[str, Any], truth_kind: str | None) -> None:
    from xiaowei.entrypoints.cli import console
    from xiaowei.entrypoints.cli_analyse import _yuan

    v = detail["verdicts"]
    console.print(
        f"business {detail['business_id']} · {detail['industry']} · equity {v['equity']}, "
        f"sales {v['sales'] or 'no source'}, combined {v['combined']}",
        highlight=False,
    )
    if truth_kind is not None:
        console.print(
            f"trainer's view: the simulator's truth/financial_manipulation labels this file "
            f"{truth_kind}",
            highlight=False,
        )
    eq = Table(title="equity cross-check 权益交叉检验 (CNY)")
    eq.add_column("")
    eq.add_column("term")
    eq.add_column("amount", justify="right")
    for line in detail["equity"]["breakdown"]:
        eq.add_row(line["sign"], f"{line['label']} {line['label_zh']}", _yuan(line["amount_fen"]))
    console.print(eq)
    console.print(
        f"deviation rate 偏差率: {detail['equity']['deviation_rate']:+.1%} of period profit",
        highlight=False,
    )
    sales = detail["sales"]
    table = Table(title=f"sales cross-check 销售额交叉检验 over {sales['months']} months (CNY)")
    table.add_column("source")
    table.add_column("sales", justify="right")
    table.add_column("declared vs source", justify="right")
    table.add_row("declared 申报销售额", _yuan(sales["declared_sales_fen"]), "", end_section=True)
    for src in sales["sources"]:
        dev = "-" if src["deviation"] is None else f"{src['deviation']:+.1%}"
        table.add_row(
            _SOURCE_LABEL.get(src["source"], src["source"]), _yuan(src["check_sales_fen"]), dev
        )
    dev = "-" if sales["deviation"] is None else f"{sales['deviation']:+.1%}"
    table.add_row(
        "reconciled 核实销售额", _yuan(sales["reconciled_sales_fen"]), dev, end_section=False
    )
    console.print(table)
    spread = "-" if sales["spread"] is None else f"{sales['spread']:.1%}"
    console.print(
        f"verdict {sales['verdict'] or 'no source'} · {sales['sources_used']} full source(s), "
        f"spread {spread} of the estimate"
        + (" · declared sales BELOW the POS + e-commerce floor" if sales["below_floor"] else ""),
        highlight=False,
    )


@analyse_app.command(
    "balance-sheets", short_help="Balance sheets side by side (资产负债表结构对比)."
)
def balance_sheets_cmd(
    files: Annotated[
        list[Path], typer.Argument(help="IPC files (调查报表, layout xiaowei.ipc/1.0), 1 to 6.")
    ],
    chart: Annotated[
        str | None,
        typer.Option("--chart", help="Write the balance-sheet structures side by side as PNG."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Balance sheets side by side (资产负债表结构对比): where each business keeps its money
    (cash, receivables, inventory, fixed assets, household) and how it is financed, as shares
    of total assets, with the ratios against each industry's norms."""
    from xiaowei.entrypoints.cli import _print_json, console, err, guarded

    def run() -> None:
        import polars as pl

        from xiaowei.adapters.ipc_file import ipc_frames, read_ipc_file
        from xiaowei.analysis import financials as fin
        from xiaowei.core.i18n import current_lang
        from xiaowei.reports import balance_sheet_charts as bsc

        if not 1 <= len(files) <= 6:
            raise InvalidInput("files", f"give 1 to 6 IPC files, not {len(files)}")
        ipcs = [read_ipc_file(f) for f in files]
        ids = [i.business_id for i in ipcs]
        if len(set(ids)) != len(ids):
            raise InvalidInput("files", f"the same business twice among {ids}")
        frames = [ipc_frames(i) for i in ipcs]
        sheets = pl.concat([f[0] for f in frames], how="diagonal_relaxed")
        income = pl.concat([f[1] for f in frames])
        industries = pl.DataFrame(
            {"business_id": ids, "industry": [i.industry for i in ipcs]},
            schema={"business_id": pl.Int64, "industry": pl.String},
        )
        ratios = fin.financial_ratios(sheets, income, industries)
        outliers = fin.ratio_outliers(ratios)
        shares = bsc.structure(sheets)
        order = pl.DataFrame({"business_id": ids}, schema={"business_id": pl.Int64})
        shares = order.join(shares, on="business_id", how="left", maintain_order="left")
        ratio_rows = {r["business_id"]: r for r in ratios.iter_rows(named=True)}
        flagged = {(r["business_id"], r["ratio"]): r for r in outliers.iter_rows(named=True)}
        heads = [f"#{i.business_id} {i.industry}" for i in ipcs]
        written: str | None = None
        if chart:
            from xiaowei.reports import charts

            language = current_lang()
            if language == "zh-CN" and charts.chart_lang(language) == "en":
                err.print(
                    "no CJK font found (install fonts-noto-cjk): chart labels are in English",
                    highlight=False,
                )
            written = str(bsc.balance_sheet_chart(shares, heads, chart, lang=language))
        if as_json:
            businesses = []
            for ipc, row in zip(ipcs, shares.iter_rows(named=True), strict=True):
                ratio_row = ratio_rows[ipc.business_id]
                businesses.append(
                    {
                        "business_id": ipc.business_id,
                        "industry": ipc.industry,
                        "template": ratio_row["template"],
                        "employees": ipc.employees,
                        "total_assets_fen": row["total_assets_fen"],
                        "structure": {
                            b: {"fen": row[f"{b}_fen"], "share": row[f"{b}_share"]}
                            for b in bsc.BLOCKS
                        },
                        "ratios": {k: ratio_row[k] for k in fin.RATIO_NAMES},
                        "outliers": outliers.filter(pl.col("business_id") == ipc.business_id)
                        .drop("business_id")
                        .to_dicts(),
                    }
                )
            _print_json({"businesses": businesses, "chart": written})
            return
        table = Table(
            title="balance-sheet structure 资产负债表结构 (current sheet, CNY, % of assets)"
        )
        table.add_column("block")
        for head in heads:
            table.add_column(head, justify="right")
        rows = list(shares.iter_rows(named=True))
        for block in bsc.BLOCKS:
            en, zh = bsc.BLOCK_TEXT[block]
            table.add_row(
                f"{en} {zh}",
                *(f"{_yuan0(r[f'{block}_fen'])} {_pct(r[f'{block}_share'])}" for r in rows),
                end_section=block in ("household", "other_liabilities"),
            )
        table.add_row("total assets 总资产", *(_yuan0(r["total_assets_fen"]) for r in rows))
        console.print(table)
        ratio_table = Table(title="ratios 财务比率 (HIGH / LOW: outside the industry norm)")
        ratio_table.add_column("ratio")
        for head in heads:
            ratio_table.add_column(head, justify="right")
        for name in fin.RATIO_NAMES:
            cells = []
            for ipc in ipcs:
                template = fin.DEFAULT_CONFIG.industry_norms[ipc.industry].template
                value = ratio_rows[ipc.business_id][name]
                if name not in fin.TEMPLATES[template].ratios:
                    cells.append("not used")
                    continue
                mark = flagged.get((ipc.business_id, name), {}).get("direction", "")
                cells.append(
                    ("-" if value is None else f"{value:.3f}")
                    + (f" {mark.upper()}" if mark else "")
                )
            ratio_table.add_row(f"{name} {fin._RATIO_ZH[name]}", *cells)
        console.print(ratio_table)
        if written:
            console.print(f"chart written to {written}", highlight=False)

    guarded(run)


def _yuan0(fen: object) -> str:
    return "-" if fen is None else f"{int(str(fen)) / 100:,.0f}"


def _pct(share: object) -> str:
    return "" if share is None else f"{float(str(share)):.0%}"


@analyse_app.command("features", short_help="The feature table of a run (特征宽表), for scoring.")
def features_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A simulator run folder (xiaowei simulate).")],
    out: Annotated[Path, typer.Option("--out", help="Write the table here (.parquet or .csv).")],
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing file.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The feature table of a simulated run (特征宽表): one row per applicant with the credit
    file's features (statements, credit report, financials and cross-checks, channels, soft
    information, guarantee network), the application's facts and the observed outcome
    default_12m — computed in batch, equal to the credit files. Input of `xiaowei score fit`."""
    from rich.status import Status

    from xiaowei.adapters.files import write_atomically
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        import polars as pl

        from xiaowei.services.features import feature_table

        if not run_dir.is_dir():
            raise InvalidInput("run_dir", f"{run_dir} is not a folder")
        suffix = out.suffix.lower()
        if suffix not in (".parquet", ".csv"):
            raise InvalidInput("out", f"{out.name}: write .parquet or .csv")
        if out.exists() and not overwrite:
            raise InvalidInput("out", f"{out} exists (use --overwrite)")
        with Status("features 特征", console=console) as status:
            table = feature_table(run_dir, progress=lambda step: status.update(f"{step}…"))
        if suffix == ".parquet":
            write_atomically(out, table.write_parquet)
        else:
            dated = table.with_columns(pl.col("application_date").cast(pl.String))
            write_atomically(out, dated.write_csv)
        features = [c for c in table.columns if "_" in c and c.split("_", 1)[0] in _PREFIXES]
        summary: dict[str, Any] = {
            "rows": table.height,
            "features": len(features),
            "by_source": {p: sum(c.startswith(f"{p}_") for c in features) for p in _PREFIXES},
            "defaults": None
            if "default_12m" not in table.columns
            else int(table["default_12m"].fill_null(0).sum()),
            "out": str(out),
        }
        if as_json:
            _print_json(summary)
            return
        by_source = ", ".join(f"{k} {v}" for k, v in summary["by_source"].items() if v)
        console.print(
            f"wrote {summary['rows']:,} applicants × {summary['features']} features ({by_source})"
            f" to {out}; observed defaults (default_12m): {summary['defaults']}",
            highlight=False,
        )

    guarded(run)


_PREFIXES = ("flow", "bureau", "fin", "pos", "ecom", "att", "soft", "net")
