"""``xiaowei strategy …``: decision strategies (审批策略): validate a file, back-test it.

Registered on the main app at the end of ``cli.py``; the shared helpers of ``cli.py``
(``guarded``, the consoles, JSON printing) are imported when a command runs. The use case is
:mod:`xiaowei.services.backtest`; nothing is stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from xiaowei.core.i18n import Lang
from xiaowei.entrypoints.cli_common import JsonOpt, cli_lang, key_value_table

strategy_app = typer.Typer(
    help="Decision strategies (审批策略): validate a strategy file, back-test it on past "
    "applications against the current one (swap set).",
    no_args_is_help=True,
)

StrategyArg = Annotated[
    str,
    typer.Argument(
        help="A strategy file (xiaowei.strategy/1 JSON), or a shipped one by name "
        "(sme-op-standard, sme-op-growth)."
    ),
]
LangOpt = Annotated[
    str | None,
    typer.Option("--lang", help="Language of texts: zh-CN or en (default: the CLI's)."),
]

_L: dict[str, tuple[str, str]] = {
    "metric": ("Metric", "指标"),
    "applications": ("Applications", "申请数"),
    "approved": ("Approved", "通过"),
    "referred": ("Referred", "转人工"),
    "declined": ("Declined", "拒绝"),
    "counter": ("Counter-offers", "降额"),
    "amount": ("Approved amount (CNY)", "通过金额（元）"),
    "mean_rate": ("Mean rate (amount-weighted)", "平均利率（金额加权）"),
    "expected": ("Expected bad rate (mean PD)", "预期坏账率（平均PD）"),
    "expected_amount": ("Expected bad rate, amount-weighted", "预期坏账率（金额加权）"),
    "observed": ("Observed bad rate (known)", "实际坏账率（已知结果）"),
    "observed_amount": ("Observed bad rate, amount-weighted", "实际坏账率（金额加权）"),
    "expected_profit": ("Expected profit (CNY)", "预期利润（元）"),
    "observed_profit": ("Observed profit (CNY)", "实际利润（元）"),
    "summary": ("Back-test on {n} applications", "回测：{n} 笔申请"),
    "bands": ("By band: {key}", "分档结果：{key}"),
    "grade": ("Band", "档位"),
    "pd_max": ("PD ≤", "PD≤"),
    "action": ("Action", "结论"),
    "mean_pd": ("Mean PD", "平均PD"),
    "bad_all": ("Bad rate", "坏账率"),
    "ard": ("Approve / refer / decline", "通过 / 转人工 / 拒绝"),
    "band_amount": ("Approved (CNY)", "通过金额（元）"),
    "swap": ("Swap set: {new} against {old}", "换入换出：{new} 对比 {old}"),
    "current_yes": ("current approves", "现行策略通过"),
    "current_no": ("current does not", "现行策略未通过"),
    "candidate_yes": ("candidate approves", "候选策略通过"),
    "candidate_no": ("candidate does not", "候选策略未通过"),
    "kept_in": ("kept in", "保留通过"),
    "swap_in": ("swap-in", "换入"),
    "swap_out": ("swap-out", "换出"),
    "kept_out": ("kept out", "保留拒绝"),
    "apps": ("{n:,} applications", "{n:,} 笔"),
    "bad_line": ("bad {obs} obs / {exp} exp", "坏账 实际{obs} / 预期{exp}"),
    "policy": (
        "policy {code} v{version}: pass {p}, refer {r}, decline {d}",
        "政策规则 {code} v{version}：通过 {p}，转人工 {r}，拒绝 {d}",
    ),
    "limits": ("limit stage: {items}", "额度环节：{items}"),
    "formula": (
        "profit: one period, margin = A·T/12·(r − funding − operating); expected = (1 − PD)·margin"
        " − PD·A·LGD; observed = margin, or −A·LGD on default",
        "利润（单期近似）：毛利 = 金额·期限/12·(利率 − 资金成本 − 运营成本)；"
        "预期 = (1 − PD)·毛利 − PD·金额·LGD；实际 = 未违约取毛利，违约取 −金额·LGD",
    ),
    "wrote": ("wrote {path}", "已写入 {path}"),
    "valid": (
        "valid: {key} ({product}), policy {policy}, sha256 {sha}",
        "有效：{key}（{product}），政策 {policy}，sha256 {sha}",
    ),
    "cap": ("Cap (CNY)", "档位限额（元）"),
    "term_max": ("Longest term", "最长期限"),
    "limit_rule": ("Limit", "额度测算"),
    "term_rule": ("Term and method", "期限与还款方式"),
    "pricing": ("Pricing", "定价参数"),
}
_ACTION = {
    "approve": ("approve", "通过"),
    "refer": ("refer", "转人工"),
    "decline": ("decline", "拒绝"),
}


def _t(name: str, lang: Lang, /, **values: Any) -> str:
    en, zh = _L[name]
    return (zh if lang == "zh-CN" else en).format(**values)


def _pct(value: float | None, spec: str = ".2%") -> str:
    return "–" if value is None else format(value, spec)


def _money(value: Any) -> str:
    return f"{value:,.2f}"


def _summary_table(report: Any, lang: Lang) -> Table:
    results = [r for r in (report.candidate, report.current) if r is not None]
    table = Table(title=_t("summary", lang, n=f"{report.applications:,}"), title_justify="left")
    table.add_column(_t("metric", lang))
    for r in results:
        table.add_column(r.key, justify="right")

    def row(key: str, fn: Any) -> None:
        table.add_row(_t(key, lang), *(fn(r.book) for r in results))

    row("approved", lambda b: f"{b.approved:,} ({_pct(b.approval_rate, '.1%')})")
    row("referred", lambda b: f"{b.referred:,} ({_pct(b.referral_rate, '.1%')})")
    row("declined", lambda b: f"{b.declined:,} ({_pct(b.decline_rate, '.1%')})")
    row("counter", lambda b: f"{b.counter_offers:,}")
    row("amount", lambda b: _money(b.approved_amount))
    row("mean_rate", lambda b: _pct(b.mean_rate))
    row("expected", lambda b: _pct(b.expected_bad_rate))
    row("expected_amount", lambda b: _pct(b.expected_bad_rate_amount))
    row("observed", lambda b: f"{_pct(b.observed_bad_rate)} ({b.observed_bads}/{b.observed_known})")
    row("observed_amount", lambda b: _pct(b.observed_bad_rate_amount))
    row("expected_profit", lambda b: _money(b.expected_profit))
    row("observed_profit", lambda b: _money(b.observed_profit))
    return table


def _band_table(result: Any, lang: Lang) -> Table:
    table = Table(title=_t("bands", lang, key=result.key), title_justify="left")
    for key in ("grade", "pd_max", "action", "applications", "ard", "band_amount", "mean_pd"):
        table.add_column(_t(key, lang), justify="left" if key in ("grade", "action") else "right")
    table.add_column(_t("bad_all", lang), justify="right")
    for band in result.bands:
        f = band.figures
        table.add_row(
            band.grade,
            f"{band.pd_max:.2%}",
            _ACTION[band.action][1 if lang == "zh-CN" else 0],
            f"{f.applications:,}",
            f"{f.approved:,} / {f.referred:,} / {f.declined:,}",
            _money(f.approved_amount),
            _pct(band.mean_pd),
            _pct(band.observed_bad_rate),
        )
    return table


def _swap_table(report: Any, lang: Lang) -> Table:
    table = Table(
        title=_t("swap", lang, new=report.candidate.key, old=report.current.key),
        title_justify="left",
        show_lines=True,
    )
    table.add_column("")
    table.add_column(_t("candidate_yes", lang))
    table.add_column(_t("candidate_no", lang))

    def cell(name: str) -> str:
        c = report.swap[name]
        amount = c.candidate_amount if name in ("kept_in", "swap_in") else c.current_amount
        if name == "kept_out":
            amount = c.requested_amount
        lines = [
            f"{_t(name, lang)}: {_t('apps', lang, n=c.applications)}",
            f"CNY {_money(amount)}",
            _t(
                "bad_line",
                lang,
                obs=_pct(c.observed_bad_rate, ".1%"),
                exp=_pct(c.expected_bad_rate, ".1%"),
            ),
        ]
        return "\n".join(lines)

    table.add_row(_t("current_yes", lang), cell("kept_in"), cell("swap_out"))
    table.add_row(_t("current_no", lang), cell("swap_in"), cell("kept_out"))
    return table


@strategy_app.command("backtest")
def backtest_cmd(
    strategy: StrategyArg,
    data: Annotated[
        Path, typer.Argument(help="Past applications: a feature table (.parquet or .csv).")
    ],
    model: Annotated[Path, typer.Option("--model", help="Model artefact folder (score fit).")],
    current: Annotated[
        str | None,
        typer.Option("--current", help="The current strategy (file or shipped name): swap set."),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="Policy file (default: the shipped SME-OP-KO)."),
    ] = None,
    target: Annotated[
        str, typer.Option("--target", help="Observed 0/1 outcome column (1 = bad).")
    ] = "default_12m",
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Write the cut-off curve and swap set PNG.")
    ] = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Back-test a strategy (策略回测) on past applications with known outcomes: approval,
    referral and decline rates, approved amount, expected and observed bad rates and profit,
    by band, and the swap set (换入换出) against --current. Policy and pricing vectorised."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded
    from xiaowei.entrypoints.cli_score import _progress

    def run() -> None:
        from xiaowei.services.backtest import run_backtest

        chosen = cli_lang(lang)
        with _progress(as_json) as update:
            done = run_backtest(
                strategy,
                data,
                model=model,
                current=current,
                policy=policy,
                target=target,
                progress=update,
            )
        report = done.result.report
        if chart is not None:
            from xiaowei.reports.backtest_charts import backtest_chart

            backtest_chart(report, chart, lang=chosen)
        if as_json:
            out = done.to_json()
            if chart is not None:
                out["chart"] = str(chart)
            _print_json(out)
            return
        console.print(_summary_table(report, chosen))
        console.print(_band_table(report.candidate, chosen))
        if report.swap is not None:
            console.print(_swap_table(report, chosen))
        counts = report.candidate.policy_outcomes
        console.print(
            _t(
                "policy",
                chosen,
                code=done.policy.code,
                version=done.policy.version,
                p=f"{counts['pass']:,}",
                r=f"{counts['refer']:,}",
                d=f"{counts['decline']:,}",
            ),
            highlight=False,
        )
        reasons = ", ".join(f"{k} {v:,}" for k, v in report.candidate.limit_reasons.items())
        console.print(_t("limits", chosen, items=reasons), highlight=False)
        console.print(_t("formula", chosen), highlight=False, soft_wrap=True)
        if chart is not None:
            console.print(_t("wrote", chosen, path=chart), highlight=False)

    guarded(run)


@strategy_app.command("validate")
def validate_cmd(file: StrategyArg, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Check a strategy file (校验) and print its bands, limit, term and pricing parameters
    and its sha256. No database."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.services.backtest import resolve_strategy

        chosen = cli_lang(lang)
        s = resolve_strategy(file)
        if as_json:
            _print_json({"valid": True, "key": s.key, "sha256": s.sha256, **s.document})
            return
        console.print(
            _t(
                "valid",
                chosen,
                key=s.key,
                product=s.product,
                policy=s.policy,
                sha=s.sha256[:12],
            ),
            highlight=False,
        )
        table = Table(title=s.name_zh if chosen == "zh-CN" else s.name_en, title_justify="left")
        for key in ("grade", "pd_max", "action", "cap", "term_max"):
            table.add_column(_t(key, chosen), justify="left" if key != "cap" else "right")
        for band in s.bands:
            table.add_row(
                band.grade,
                f"{band.pd_max:.2%}",
                _ACTION[band.action.value][1 if chosen == "zh-CN" else 0],
                "–" if band.limit_cap is None else _money(band.limit_cap),
                "–" if band.term_max is None else str(band.term_max),
            )
        console.print(table)
        pricing = s.pricing
        rule, term = s.limit, s.term
        params = [
            (
                _t("limit_rule", chosen),
                f"revenue × {rule.revenue_multiple}, capacity × {rule.capacity_share}, "
                f"round down to {rule.round_down_to}",
            ),
            (
                _t("term_rule", chosen),
                f"{term.default_method.value}; interest-only for "
                f"{', '.join(term.interest_only_industries)} ≤ {term.interest_only_term_max}m; "
                f"equal principal ≥ {term.equal_principal_term_min}m at installment ratio ≤ "
                f"{term.equal_principal_ratio_max}",
            ),
            (
                _t("pricing", chosen),
                f"funding {pricing.funding_rate}, operating {pricing.operating_cost_rate}, "
                f"hurdle {pricing.hurdle_rate}, risk-free {pricing.risk_free_rate}, "
                f"margin {pricing.margin}, capital {pricing.capital_method.value}, "
                f"legal cap {pricing.effective_legal_cap}, LGD {s.lgd}, {s.asset_class.value}",
            ),
        ]
        console.print(key_value_table(params))

    guarded(run)
