"""``xiaowei compare``: one borrower under every repayment method and term (course cases).

The case "risk control from the product's view" (产品视角下的信贷风控) asks what the choice of
repayment method (还款方式) and term does to the borrower's cost and to the lender's risk; this
command answers it for one amount and rate: cost (interest, APR, installments) beside exposure,
average life and expected loss (see :mod:`xiaowei.lending.exposure`).

Registered on the main app at the end of ``cli.py``; the helpers it shares with ``cli.py``
(``guarded``, the console, date and rate parsing) are imported when the command runs, so either
module may be imported first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from xiaowei.core.errors import InvalidInput
from xiaowei.core.i18n import Lang, current_lang, t
from xiaowei.core.money import parse_amount
from xiaowei.lending.exposure import ExpectedLoss, ExposureProfile, expected_loss, exposure_profile
from xiaowei.lending.schedule import (
    Frequency,
    RepaymentMethod,
    Schedule,
    ScheduleTerms,
    generate_schedule,
)

# A seasonal borrower's year when --weights is not given: principal twice a year, after the
# summer and the autumn harvest (夏粮、秋粮) or a shop's two selling seasons; repeated over the
# term.
DEFAULT_SEASON = {
    Frequency.MONTHLY: (0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1),
    Frequency.QUARTERLY: (0, 1, 0, 1),
}

ALL_METHODS = ",".join(method.value for method in RepaymentMethod)

_TEXT: dict[str, tuple[str, str]] = {
    "method": ("Method", "还款方式"),
    "term_short": ("Term", "期限"),
    "borrower_view": ("Cost to the borrower (CNY)", "借款人成本（元）"),
    "lender_view": (
        "Risk to the lender (CNY): EAD exposure at default, EL expected loss",
        "贷款机构风险（元）",
    ),
    "interest_short": ("Interest", "利息"),
    "first": ("First", "首期"),
    "largest": ("Largest", "最大"),
    "apr_short": ("APR", "年化"),
    "ear_short": ("EAR", "实际"),
    "avg_exposure": ("Avg EAD", "平均敞口"),
    "peak_exposure": ("Peak EAD", "峰值敞口"),
    "avg_life": ("Life y", "期限年"),
    "el": ("EL", "预期损失"),
    "el_ratio": ("EL %", "损失率"),
    "net_income": ("Int − EL", "净收益"),
    "loan": ("{amount} at {rate} a year from {start}", "{amount} 元，年利率 {rate}，{start} 放款"),
    "risk": ("PD {pd} a year, LGD {lgd}", "年 PD {pd}，LGD {lgd}"),
    "chart_written": ("{what} chart written to {path}", "{what}图已保存到 {path}"),
    "exposure": ("exposure", "风险敞口"),
    "cashflow": ("cash-flow", "现金流"),
    "no_cjk": (
        "no CJK font found (install fonts-noto-cjk): chart labels are in English",
        "未找到中文字体（请安装 fonts-noto-cjk），图表使用英文标签",
    ),
}


def _text(key: str, lang: Lang) -> str:
    pair = _TEXT.get(key)
    if pair is None:
        return t(key, lang)
    return pair[1] if lang == "zh-CN" else pair[0]


@dataclass(frozen=True, slots=True)
class Comparison:
    """One (method, term) row: the schedule, its exposure profile and its expected loss."""

    schedule: Schedule
    profile: ExposureProfile
    loss: ExpectedLoss

    def to_json(self) -> dict[str, Any]:
        terms = self.schedule.terms
        totals = [i.total for i in self.schedule.installments]
        return {
            "method": terms.method.value,
            "method_zh": terms.method.name_zh,
            "term_months": terms.term_months,
            "frequency": terms.frequency.value,
            "installments": len(totals),
            "total_interest": str(self.schedule.total_interest),
            "apr": round(self.schedule.apr, 6),
            "effective_annual_rate": round(self.schedule.effective_annual_rate, 6),
            "first_installment": str(totals[0]),
            "largest_installment": str(max(totals)),
            "average_exposure": round(self.profile.average_exposure, 2),
            "peak_exposure": str(self.profile.peak_exposure),
            "average_life_years": round(self.profile.average_life_years, 4),
            "expected_loss": round(self.loss.expected_loss, 2),
            "loss_rate": round(self.loss.loss_rate, 6),
            "expected_net_income": round(self.loss.expected_net_income, 2),
        }


def _split(value: str, field: str) -> list[str]:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not parts:
        raise InvalidInput(field, f"{value!r} is empty; give a comma-separated list")
    return parts


def _terms_list(value: str) -> list[int]:
    terms: list[int] = []
    for part in _split(value, "terms"):
        if not part.isdigit() or int(part) < 1:
            raise InvalidInput("terms", f"{part!r} is not a whole number of months")
        terms.append(int(part))
    return list(dict.fromkeys(terms))


def _methods_list(value: str) -> list[RepaymentMethod]:
    allowed = {m.value: m for m in RepaymentMethod}
    methods: list[RepaymentMethod] = []
    for part in _split(value, "methods"):
        if part not in allowed:
            raise InvalidInput(
                "methods", f"{part!r} is not a repayment method (one of: {', '.join(allowed)})"
            )
        methods.append(allowed[part])
    return list(dict.fromkeys(methods))


def _probability(value: str, field: str) -> float:
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise InvalidInput(field, f"{value!r} is not a number") from None
    if not number.is_finite() or not 0 <= number <= 1:
        raise InvalidInput(field, f"{value!r} must be a probability between 0 and 1")
    return float(number)


def _season(cycle: tuple[Decimal, ...], periods: int, term: int) -> tuple[Decimal, ...]:
    """The seasonal cycle repeated (or cut) to ``periods`` weights."""
    weights = tuple(cycle[k % len(cycle)] for k in range(periods))
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise InvalidInput(
            "weights",
            f"the cycle {','.join(str(w) for w in cycle)} puts no principal in the {periods} "
            f"periods of a {term}-month loan; give --weights",
        )
    return weights


def compare_schedules(
    *,
    amount: Decimal,
    annual_rate: Decimal,
    start_date: date,
    frequency: Frequency,
    terms: list[int],
    methods: list[RepaymentMethod],
    balloon_share: Decimal,
    season: tuple[Decimal, ...],
    pd_annual: float,
    lgd: float,
) -> list[Comparison]:
    """Every (term, method) for one borrower, terms first, methods in the order given."""
    rows: list[Comparison] = []
    for term in terms:
        for method in methods:
            extra: dict[str, Any] = {}
            if method is RepaymentMethod.BALLOON:
                extra["balloon_share"] = balloon_share
            if method is RepaymentMethod.SEASONAL:
                extra["weights"] = _season(season, term // frequency.months, term)
            schedule = generate_schedule(
                ScheduleTerms(
                    principal=amount,
                    annual_rate=annual_rate,
                    term_months=term,
                    start_date=start_date,
                    method=method,
                    frequency=frequency,
                    **extra,
                )
            )
            profile = exposure_profile(schedule)
            loss = expected_loss(schedule, pd_annual=pd_annual, lgd=lgd, profile=profile)
            rows.append(Comparison(schedule, profile, loss))
    return rows


def _method_cell(row: Comparison, lang: Lang) -> str:
    method = row.schedule.terms.method
    return method.name_zh if lang == "zh-CN" else method.value


def _tables(rows: list[Comparison], lang: Lang) -> tuple[Table, Table]:
    # Light boxes keep both tables inside an 80-column terminal.
    cost, risk = (
        Table(title=_text(key, lang), box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
        for key in ("borrower_view", "lender_view")
    )
    for table in (cost, risk):
        table.add_column(_text("method", lang), overflow="fold")
        table.add_column(_text("term_short", lang), justify="right")
    for key in ("interest_short", "apr_short", "ear_short", "first", "largest"):
        cost.add_column(_text(key, lang), justify="right")
    for key in ("avg_exposure", "peak_exposure", "avg_life", "el", "el_ratio", "net_income"):
        risk.add_column(_text(key, lang), justify="right")
    for k, row in enumerate(rows):
        s = row.schedule
        totals = [i.total for i in s.installments]
        last_of_term = k + 1 == len(rows) or rows[k + 1].schedule.terms.term_months != (
            s.terms.term_months
        )
        head = (_method_cell(row, lang), str(s.terms.term_months))
        cost.add_row(
            *head,
            f"{s.total_interest:,.2f}",
            f"{s.apr:.2%}",
            f"{s.effective_annual_rate:.2%}",
            f"{totals[0]:,.2f}",
            f"{max(totals):,.2f}",
            end_section=last_of_term,
        )
        risk.add_row(
            *head,
            f"{row.profile.average_exposure:,.0f}",
            f"{row.profile.peak_exposure:,.0f}",
            f"{row.profile.average_life_years:.2f}",
            f"{row.loss.expected_loss:,.2f}",
            f"{row.loss.loss_rate:.2%}",
            f"{row.loss.expected_net_income:,.2f}",
            end_section=last_of_term,
        )
    return cost, risk


def compare(
    *,
    amount: Annotated[str, typer.Option(help="Principal, e.g. 120000.")],
    annual_rate: Annotated[
        str, typer.Option("--annual-rate", help="Annual rate as a fraction, e.g. 0.12.")
    ],
    start: Annotated[str, typer.Option(help="Disbursement date YYYY-MM-DD.")],
    terms: Annotated[str, typer.Option(help="Terms in months, comma-separated.")] = "12",
    methods: Annotated[
        str, typer.Option(help="Repayment methods (还款方式), comma-separated.")
    ] = ALL_METHODS,
    frequency: Annotated[Frequency, typer.Option(help="Repayment frequency.")] = Frequency.MONTHLY,
    balloon: Annotated[str, typer.Option(help="Balloon share due at maturity.")] = "0.3",
    weights: Annotated[
        str | None,
        typer.Option(
            help="Seasonal principal weights for one cycle, repeated over the term "
            "(default: 0,0,0,0,0,1,0,0,0,0,0,1 monthly, 0,1,0,1 quarterly)."
        ),
    ] = None,
    pd: Annotated[str, typer.Option("--pd", help="Annual probability of default.")] = "0.05",
    lgd: Annotated[str, typer.Option("--lgd", help="Loss given default.")] = "0.45",
    chart: Annotated[
        str | None, typer.Option("--chart", help="Write the exposure profiles as PNG here.")
    ] = None,
    cashflow_chart: Annotated[
        str | None,
        typer.Option("--cashflow-chart", help="Write the cash flows per method as PNG here."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Compare repayment methods and terms for one borrower: cost, exposure, expected loss."""
    from xiaowei.entrypoints.cli import _date, _print_json, _rate, console, err, guarded

    def run() -> None:
        language: Lang = current_lang()  # the global ``xiaowei --lang`` or XIAOWEI_LANG
        principal, rate, start_date = (
            parse_amount(amount),
            _rate(annual_rate),
            _date(start, "start"),
        )
        if weights:
            try:
                season = tuple(Decimal(w) for w in _split(weights, "weights"))
            except ArithmeticError:
                raise InvalidInput(
                    "weights", f"{weights!r} is not a comma-separated list of numbers"
                ) from None
        else:
            season = tuple(Decimal(w) for w in DEFAULT_SEASON[frequency])
        pd_annual, loss_given_default = _probability(pd, "pd"), _probability(lgd, "lgd")
        rows = compare_schedules(
            amount=principal,
            annual_rate=rate,
            start_date=start_date,
            frequency=frequency,
            terms=_terms_list(terms),
            methods=_methods_list(methods),
            balloon_share=_rate(balloon, "balloon"),
            season=season,
            pd_annual=pd_annual,
            lgd=loss_given_default,
        )
        written: dict[str, str] = {}
        if chart or cashflow_chart:
            from xiaowei.reports import charts

            if language == "zh-CN" and charts.chart_lang(language) == "en":
                err.print(_text("no_cjk", language), highlight=False)
            schedules = [r.schedule for r in rows]
            if chart:
                written["exposure"] = str(
                    charts.exposure_chart(
                        schedules, chart, lang=language, pd_annual=pd_annual, lgd=loss_given_default
                    )
                )
            if cashflow_chart:
                written["cashflow"] = str(
                    charts.cashflow_chart(schedules, cashflow_chart, lang=language)
                )
        if as_json:
            _print_json(
                {
                    "amount": str(principal),
                    "annual_rate": str(rate),
                    "start": start_date.isoformat(),
                    "frequency": frequency.value,
                    "pd": pd_annual,
                    "lgd": loss_given_default,
                    "rows": [r.to_json() for r in rows],
                    "charts": written,
                }
            )
            return
        console.print(
            _text("loan", language).format(
                amount=f"{principal:,.2f}",
                rate=f"{rate:.2%}",
                start=start_date.isoformat(),
            )
            + " · "
            + _text("risk", language).format(
                pd=f"{pd_annual:.1%}", lgd=f"{loss_given_default:.0%}"
            ),
            highlight=False,
        )
        for table in _tables(rows, language):
            console.print(table)
        for what, path in written.items():
            console.print(
                _text("chart_written", language).format(what=_text(what, language), path=path),
                highlight=False,
            )

    guarded(run)
