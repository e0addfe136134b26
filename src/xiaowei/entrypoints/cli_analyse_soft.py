"""``xiaowei analyse willingness`` and ``xiaowei analyse grid`` (registered on import).

``analyse willingness RUN --business ID`` prints the monetised willingness to repay
(还款意愿货币化) of one applicant of a simulated run in full — every component of the cost of
default, the exposure, the margin and ratio, the behavioural evidence and, next to it, the
capacity figures — and with ``--chart FILE`` draws the cost components stacked against the
exposure, capacity beside it. ``analyse grid RUN --business ID [--justify KEY=TEXT ...]``
prints the asymmetric-information deviation grid (不对称信息偏差分析) and the approval gate:
the file is ready for approval only once every risky item carries a written justification
(合理性解释). Both read the credit file (``services.analysis.analyse_simulated``), never the
run's ``truth/``; both take ``--as-of DATE`` for the post-loan re-analysis.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from xiaowei.core.errors import InvalidInput
from xiaowei.core.i18n import Lang
from xiaowei.entrypoints.cli_analyse import JsonOpt, _print_grid, analyse_app

RunArg = Annotated[Path, typer.Argument(help="A simulator run folder (xiaowei simulate).")]
BusinessOpt = Annotated[int, typer.Option("--business", help="The business id to analyse.")]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Post-loan re-analysis (贷后): the data known on this date (YYYY-MM-DD, on or "
        "after the application).",
    ),
]

#: Codes of the flags the willingness analysis raises (willingness.py).
WILLINGNESS_FLAGS = ("low_willingness", "credit_history_overdue", "high_deviation_rate")

_COMPONENT_LABELS = {
    "business_assets": "seizable business assets 可执行经营资产",
    "household_assets": "seizable household assets 可执行家庭资产",
    "guarantors": "guarantors' exposure 保证人代偿",
    "future_credit": "future access to credit 未来融资机会现值",
    "reputation": "reputation in the network 圈子声誉",
}


def _lang(value: str | None) -> Lang | None:
    if value is None:
        return None
    if value == "en":
        return "en"
    if value == "zh-CN":
        return "zh-CN"
    raise InvalidInput("lang", f"{value!r} is not one of en, zh-CN")


def _credit_file(
    run_dir: Path, business: int, as_of: str | None, justifications: dict[str, str] | None = None
) -> Any:
    from xiaowei.entrypoints.cli import _date
    from xiaowei.services.analysis import analyse_simulated

    if not run_dir.is_dir():
        raise InvalidInput("run_dir", f"{run_dir} is not a folder")
    return analyse_simulated(
        run_dir,
        business,
        as_of=None if as_of is None else _date(as_of, "as_of"),
        justifications=justifications,
    )


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _how(key: str) -> str:
    """How a component is priced, with the configured parameters (docs/analysis.md)."""
    from xiaowei.analysis.config import AnalysisConfig

    w = AnalysisConfig().willingness
    return {
        "business_assets": f"assets × (1 − {w.business_asset_haircut:.0%})",
        "household_assets": f"assets × (1 − {w.household_asset_haircut:.0%})",
        "guarantors": f"share covered × loan × {w.guarantor_weight}",
        "future_credit": (
            f"{w.credit_margin:.0%} of loan/yr, {w.years_access_lost}y at {w.discount_rate:.0%}"
        ),
        "reputation": f"network share × revenue × {w.reputation_months}m",
    }[key]


def willingness_json(cf: Any) -> dict[str, Any]:
    """The willingness section of a credit file for ``--json`` (money as strings)."""
    from xiaowei.analysis.config import AnalysisConfig

    w = cf.willingness
    cap = cf.capacity
    cfg = AnalysisConfig().willingness
    return {
        "business_id": cf.business_id,
        "as_of": cf.as_of.isoformat(),
        "cost_of_default": {
            **{key: str(getattr(w, key)) for key in _COMPONENT_LABELS},
            "total": str(w.cost_of_default),
        },
        "exposure": {
            "loan_amount": None if w.loan_amount is None else str(w.loan_amount),
            "existing_debts": None if w.existing_debts is None else str(w.existing_debts),
            "total": str(w.exposure),
        },
        "margin": str(w.margin),
        "ratio": w.ratio,
        "min_ratio": str(cfg.min_ratio),
        "evidence": {
            "overdue_months_24m": w.overdue_months_24m,
            "deviation_rate": w.deviation_rate,
        },
        "capacity": None
        if cap is None
        else {
            "monthly_disposable_income": str(cap.monthly_disposable_income),
            "existing_installments": str(cap.existing_installments),
            "new_installment": str(cap.new_installment),
            "installment_ratio": None
            if cap.installment_ratio is None
            else str(cap.installment_ratio),
            "cap": str(cap.cap),
            "max_affordable_loan": str(cap.max_affordable_loan),
            "within_cap": cap.within_cap,
        },
        "parameters": cfg.model_dump(mode="json"),
        "flags": [f.to_json() for f in cf.flags if f.code in WILLINGNESS_FLAGS],
    }


@analyse_app.command(
    "willingness", short_help="Willingness to repay, monetised (还款意愿货币化), next to capacity."
)
def willingness_cmd(
    run_dir: RunArg,
    business: BusinessOpt,
    as_of: AsOfOpt = None,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Draw cost of default against exposure, and capacity (PNG)."),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Language of the chart: en or zh-CN (default XIAOWEI_LANG)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Willingness to repay, monetised (还款意愿货币化), next to capacity (还款能力): every
    component of the cost of default, the exposure, the margin and ratio, the behavioural
    evidence, and the capacity figures of one applicant of a simulated run."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        chart_lang = _lang(lang)
        cf = _credit_file(run_dir, business, as_of)
        w = cf.willingness
        if w is None:
            raise InvalidInput(
                "business",
                f"business {business} has no willingness analysis (it needs the current "
                f"balance sheet and the requested loan; missing: "
                f"{', '.join(cf.sources_missing) or 'none'})",
            )
        if chart is not None:
            from xiaowei.reports.charts import chart_lang as drawn_lang
            from xiaowei.reports.soft_charts import willingness_chart

            if chart.is_dir():
                raise InvalidInput("chart", f"{chart} is a folder")
            try:
                willingness_chart(
                    w,
                    chart,
                    capacity=cf.capacity,
                    title=(
                        f"客户 {cf.business_id} · {cf.as_of}"
                        if drawn_lang(chart_lang) == "zh-CN"
                        else f"business {cf.business_id} · {cf.as_of}"
                    ),
                    lang=chart_lang,
                )
            except OSError as exc:
                raise InvalidInput("chart", f"cannot write {chart}: {exc.strerror}") from None
        if as_json:
            _print_json(willingness_json(cf))
            return
        console.print(
            f"business {cf.business_id} · as of {cf.as_of} · willingness to repay 还款意愿",
            highlight=False,
        )
        table = Table(title="cost of default 违约成本 (CNY)")
        table.add_column("component")
        table.add_column("how")
        table.add_column("amount", justify="right")
        for key, label in _COMPONENT_LABELS.items():
            table.add_row(label, _how(key), _money(getattr(w, key)))
        table.add_row("= cost of default 违约成本", "", _money(w.cost_of_default), style="bold")
        console.print(table)
        exposure = Table(title="exposure 风险敞口 (CNY)")
        exposure.add_column("item")
        exposure.add_column("amount", justify="right")
        exposure.add_row("requested loan 申请贷款", _money(w.loan_amount))
        exposure.add_row("liabilities 现有负债 (balance sheet)", _money(w.existing_debts))
        exposure.add_row("= exposure 风险敞口", _money(w.exposure), style="bold")
        console.print(exposure)
        from xiaowei.analysis.config import AnalysisConfig

        floor = AnalysisConfig().willingness.min_ratio
        verdict = "above" if w.ratio >= floor else "BELOW"
        console.print(
            f"willingness margin 意愿差额: {w.margin:,.2f} CNY · ratio 倍数 {w.ratio:.2f}× "
            f"({verdict} the {floor}× floor)",
            highlight=False,
        )
        overdue = "-" if w.overdue_months_24m is None else str(w.overdue_months_24m)
        deviation = "-" if w.deviation_rate is None else f"{w.deviation_rate:.0%}"
        console.print(
            f"behavioural evidence 行为证据: {overdue} overdue month(s) in 24 · weighted "
            f"deviation rate {deviation}",
            highlight=False,
        )
        cap = cf.capacity
        if cap is None:
            console.print("capacity 还款能力: not computed (no application terms or financials)")
        else:
            ratio = "-" if cap.installment_ratio is None else f"{cap.installment_ratio:.1%}"
            console.print(
                f"capacity 还款能力: installment ratio 月供收入比 {ratio} (cap {cap.cap:.0%})",
                highlight=False,
            )
            console.print(
                f"  = (new {cap.new_installment:,.2f} + existing "
                f"{cap.existing_installments:,.2f}) / monthly disposable income "
                f"{cap.monthly_disposable_income:,.2f}",
                highlight=False,
            )
            console.print(
                f"maximum affordable loan 最高可贷额 {cap.max_affordable_loan:,.2f} against "
                f"{_money(w.loan_amount)} requested",
                highlight=False,
            )
        flags = [f for f in cf.flags if f.code in WILLINGNESS_FLAGS]
        for f in flags:
            console.print(
                f"{f.severity.value.upper()} {f.code}: {f.message}", highlight=False, markup=False
            )
        if not flags:
            console.print("no willingness flags")
        if chart is not None:
            console.print(f"chart: {chart}", highlight=False)

    guarded(run)


#: The parts of the grid (GridItem.category).
GRID_PARTS = ("static", "dynamic", "declared")


def _justifications(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput("justify", f"{item!r} is not KEY=TEXT (e.g. declared.sales=...)")
        if not text.strip():
            raise InvalidInput("justify", f"the justification of {key.strip()} is empty")
        out[key.strip()] = text.strip()
    return out


@analyse_app.command(
    "grid", short_help="The deviation grid (不对称信息偏差分析表) and its approval gate."
)
def grid_cmd(
    run_dir: RunArg,
    business: BusinessOpt,
    justify: Annotated[
        list[str] | None,
        typer.Option(
            "--justify",
            help="A written justification of a risky item, KEY=TEXT (repeatable), e.g. "
            "declared.sales='seasonal peak, invoices seen'.",
        ),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            help="Show one part of the grid: static, dynamic or declared (rates unchanged).",
        ),
    ] = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The deviation grid (不对称信息偏差分析表) of one applicant and the approval gate: the
    file goes to approval only once every risky item has a written justification."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        if only is not None and only not in GRID_PARTS:
            raise InvalidInput("only", f"{only!r} is not one of {', '.join(GRID_PARTS)}")
        given = _justifications(list(justify or []))
        cf = _credit_file(run_dir, business, as_of, given)
        grid = cf.deviation_grid
        if grid is None:
            raise InvalidInput("business", f"business {business} has no deviation grid")
        if only is not None:
            shown = [item for item in grid.items if item["category"] == only]
            grid = grid.model_copy(update={"items": shown})
            cf = cf.model_copy(update={"deviation_grid": grid})
        if as_json:
            _print_json(
                {
                    "business_id": cf.business_id,
                    "as_of": cf.as_of.isoformat(),
                    **grid.model_dump(mode="json"),
                    "flags": [
                        f.to_json()
                        for f in cf.flags
                        if f.code in ("soft_risky", "declared_deviation")
                    ],
                }
            )
            return
        console.print(
            f"business {cf.business_id} · as of {cf.as_of} · {grid.items_compared} declared "
            f"fact(s) verified, {grid.items_deviating} deviating · risky: "
            f"{', '.join(grid.risky) or 'none'}",
            highlight=False,
        )
        _print_grid(cf)

    guarded(run)
