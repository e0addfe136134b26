"""``xiaowei analyse channels`` and ``xiaowei analyse attendance`` (registered on import).

``analyse channels RUN --business ID`` puts one applicant's bank flows, POS settlements,
e-commerce store months and web traffic side by side (渠道流水对比分析); ``analyse attendance
RUN [--business ID]`` is the post-loan handle (贷后抓手): the workplace attendance after
disbursement, the attendance-drop flags and when they fired against the first missed
installment, and the early-warning evaluation over the whole run.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from xiaowei.core.errors import InvalidInput
from xiaowei.core.i18n import Lang
from xiaowei.entrypoints.cli_analyse import JsonOpt, _yuan, analyse_app

LangOpt = Annotated[
    str | None,
    typer.Option("--lang", help="Language of the chart: en or zh-CN (default XIAOWEI_LANG)."),
]
ChartOpt = Annotated[Path | None, typer.Option("--chart", help="Draw the chart to this PNG.")]


def _lang(value: str | None) -> Lang | None:
    if value is None:
        return None
    if value == "en":
        return "en"
    if value == "zh-CN":
        return "zh-CN"
    raise InvalidInput("lang", f"{value!r} is not one of en, zh-CN")


def _run_dir(path: Path) -> Path:
    if not path.is_dir():
        raise InvalidInput("run_dir", f"{path} is not a folder")
    return path


def _pct(value: object, digits: int = 1) -> str:
    return "-" if value is None else f"{float(str(value)):.{digits}%}"


def _num(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(str(value)):,.4g}"


def _share(value: object) -> str:
    return "-" if value is None else f"{float(str(value)):.2f}"


def _count(value: object) -> str:
    return "-" if value is None else f"{int(str(value)):,}"


# Key features shown per source (the JSON has all of them); the window suffix is added.
_KEY_FEATURES: dict[str, tuple[tuple[str, str], ...]] = {
    "bank": (
        ("revenue_mean_{w}", "fen"),
        ("revenue_cv_{w}", "num"),
        ("customer_top1_share_{w}", "pct"),
        ("customer_count_{w}", "num"),
    ),
    "pos": (
        ("pos_gross_fen_{w}", "fen"),
        ("pos_avg_ticket_fen_{w}", "fen"),
        ("pos_active_days_{w}", "num"),
        ("pos_refund_rate_{w}", "pct"),
        ("pos_to_bank_inflow_{w}", "num"),
        ("pos_gross_trend", "pct"),
    ),
    "ecommerce": (
        ("ecom_gmv_fen_{w}", "fen"),
        ("ecom_aov_fen_{w}", "fen"),
        ("ecom_refund_rate_{w}", "pct"),
        ("ecom_rating_{w}", "num"),
        ("ecom_negative_review_rate_{w}", "pct"),
        ("ecom_store_age_months", "num"),
        ("ecom_gmv_trend", "pct"),
    ),
    "traffic": (
        ("web_pv_{w}", "count"),
        ("web_uv_{w}", "count"),
        ("web_conversion_{w}", "pct"),
        ("web_pv_per_uv_{w}", "num"),
        ("web_uv_trend", "pct"),
    ),
}
_SOURCE_ZH = {"bank": "银行流水", "pos": "POS收单", "ecommerce": "电商", "traffic": "流量"}


def _feature_cell(value: object, kind: str) -> str:
    if kind == "fen":
        return _yuan(value)
    if kind == "pct":
        return _pct(value)
    if kind == "count" and value is not None:
        return f"{float(str(value)):,.0f}"
    return _num(value)


@analyse_app.command(
    "channels", short_help="Bank, POS, e-commerce and traffic flows side by side (渠道流水对比)."
)
def channels_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A simulator run folder (xiaowei simulate).")],
    business: Annotated[int, typer.Option("--business", help="The business id to analyse.")],
    as_json: JsonOpt = False,
    chart: ChartOpt = None,
    lang: LangOpt = None,
) -> None:
    """Bank, POS, e-commerce and web-traffic flows of one applicant side by side (渠道流水对比):
    the months before the application aligned, each channel's features, the cross-ratios to
    the bank revenue estimate and the MCC consistency (reads the run's observable tables
    only)."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.analysis.config import AnalysisConfig
        from xiaowei.services.channels import channels_of_business

        chart_lang = _lang(lang)
        cfg = AnalysisConfig()
        view = channels_of_business(_run_dir(run_dir), business, cfg)
        if chart is not None:
            from xiaowei.reports.channel_charts import channels_chart
            from xiaowei.reports.charts import chart_lang as used_lang

            title = f"business {view.business_id} · {view.industry or '-'}"
            if used_lang(chart_lang) == "zh-CN":
                # the name is Chinese: only a chart drawn with a CJK font can show it
                title = f"{view.business_name} · {title}"
            channels_chart(view.months, chart, title=title, lang=chart_lang)
        if as_json:
            _print_json(view.to_json() | ({"chart": str(chart)} if chart else {}))
            return
        console.print(
            f"business {view.business_id} {view.business_name} · {view.industry or '-'} · "
            f"applied {view.as_of} · months {view.window[0]:%Y-%m} to {view.window[1]:%Y-%m}",
            highlight=False,
        )
        console.print(
            f"sources: {', '.join(view.sources) or 'none'} · missing: "
            f"{', '.join(view.missing) or 'none'}",
            highlight=False,
        )
        table = Table(
            title="channels by month 渠道月度对比 (CNY; visits; POS net and GMV ÷ bank revenue)"
        )
        for col in (
            "month",
            "bank revenue",
            "POS gross",
            "e-com GMV",
            "POS÷rev",
            "GMV÷rev",
            "PV",
            "UV",
            "conv.",
        ):
            table.add_column(col, justify="right")
        for m in view.months:
            table.add_row(
                m["month"],
                _yuan(m["bank_revenue"]),
                _yuan(m["pos_gross"]),
                _yuan(m["ecom_gmv"]),
                _share(m["pos_net_to_bank_revenue"]),
                _share(m["ecom_gmv_to_bank_revenue"]),
                _count(m["web_pv"]),
                _count(m["web_uv"]),
                _pct(m["web_conversion"], 2),
            )
        console.print(table)
        window = f"{max(cfg.channels.windows_months)}m"
        feats = Table(title=f"features 渠道指标 ({window}: monthly averages; CNY)")
        feats.add_column("source")
        feats.add_column("feature")
        feats.add_column("value", justify="right")
        for source, keys in _KEY_FEATURES.items():
            row = view.features.get(source)
            if row is None:
                continue
            for i, (key, kind) in enumerate(keys):
                name = key.format(w=window)
                if name in row:
                    label = f"{source} {_SOURCE_ZH[source]}" if i == 0 else ""
                    feats.add_row(label, name, _feature_cell(row[name], kind))
        console.print(feats)
        c = view.cross
        console.print(
            "cross-check 交叉核对 (over the months above, ÷ bank revenue estimate): POS net "
            f"{_num(c['pos_net_to_bank_revenue'])} · GMV {_num(c['ecom_gmv_to_bank_revenue'])} "
            f"· platform payouts {_num(c['ecom_payout_to_bank_revenue'])}; web orders ÷ store "
            f"orders {_num(c['web_orders_to_ecom_orders'])}",
            highlight=False,
        )
        for m in view.mcc:
            verdict = {True: "MISMATCH", False: "fits", None: "unknown industry"}[m["mcc_mismatch"]]
            console.print(
                f"MCC 商户类别码: merchant {m['merchant_id']} · MCC {m['mcc']} · declared "
                f"industry {m['industry']} · {verdict}",
                highlight=False,
            )
        if not view.flags:
            console.print("no flags")
        for f in view.flags:
            console.print(
                f"{f.severity.value.upper()} {f.code}: {f.message}", highlight=False, markup=False
            )
        if chart is not None:
            console.print(f"chart: {chart}", highlight=False)

    guarded(run)


def _date(value: object) -> str:
    return "-" if value is None else str(value)


def _month(value: object) -> str:
    return "-" if value is None else str(value)[:7]


def _lead(value: int | None) -> str:
    return "-" if value is None else f"{value:+d}"


@analyse_app.command(
    "attendance", short_help="Workplace attendance as a post-loan handle (贷后抓手), early warning."
)
def attendance_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A simulator run folder (xiaowei simulate).")],
    business: Annotated[
        int | None, typer.Option("--business", help="One business's loan (default: all).")
    ] = None,
    as_json: JsonOpt = False,
    chart: ChartOpt = None,
    truth: Annotated[
        bool,
        typer.Option(
            "--truth",
            help="Trainer's option: also read RUN/truth/timeline (the simulator's hidden "
            "truth) for the recall among defaulters whose warning signs began after booking.",
        ),
    ] = False,
    lang: LangOpt = None,
) -> None:
    """The post-loan handle (贷后抓手): workplace attendance after disbursement against the
    pre-loan baseline, attendance-drop flags against the first missed installment, and the
    early-warning evaluation over the run (loans/outcomes and loans/repayments are observable
    post-loan facts; truth/ is read only with --truth)."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.analysis.config import AnalysisConfig
        from xiaowei.services.channels import (
            attendance_curve,
            attendance_post_loan,
            precursor_recall,
        )

        chart_lang = _lang(lang)
        cfg = AnalysisConfig()
        directory = _run_dir(run_dir)
        result = attendance_post_loan(directory, business, cfg)
        ev = result.evaluation
        trainer = precursor_recall(directory, result.loans) if truth else None
        if truth and business is not None:
            full = attendance_post_loan(directory, None, cfg)
            trainer = precursor_recall(directory, full.loans)
        loan = result.loans[0] if business is not None else None
        if chart is not None:
            from xiaowei.reports import channel_charts

            if loan is not None:
                curve = attendance_curve(directory, loan.business_id)
                drops = [m["month"] for m in loan.months if m["attendance_drop"]]
                channel_charts.attendance_chart(
                    curve.to_dicts(),
                    chart,
                    loan_date=loan.start_date,
                    first_missed=loan.first_missed_due,
                    baseline_rate=loan.baseline_rate,
                    drop=cfg.channels.attendance_drop,
                    drop_months=[date.fromisoformat(d) for d in drops],
                    title=f"business {loan.business_id} · loan {loan.loan_id}",
                    lang=chart_lang,
                )
            else:
                channel_charts.early_warning_chart(
                    ev.lead_months,
                    chart,
                    flagged_late=ev.flagged_late,
                    not_flagged=ev.not_flagged,
                    defaulters=ev.defaulters,
                    performing=ev.performing,
                    false_alarms=ev.false_alarms,
                    lang=chart_lang,
                )
        if as_json:
            data: dict[str, Any] = {"evaluation": ev.to_json()}
            if loan is not None:
                data["loan"] = loan.to_json()
            else:
                data["loans"] = [
                    x.to_json() | {"months": None} for x in result.loans if x.monitoring_months
                ]
            if trainer is not None:
                data["truth"] = trainer
            if chart is not None:
                data["chart"] = str(chart)
            _print_json(data)
            return
        if loan is not None:
            _print_loan(console, loan, cfg.channels.attendance_drop)
        else:
            _print_defaulters(console, result.loans)
        console.print(
            f"early warning 预警评估 (whole run: {ev.monitored} of {ev.loans} loans have "
            f"attendance data; flag: attendance more than {ev.attendance_drop * 100:g} points "
            f"below the pre-loan baseline in ≥ {ev.min_months} month(s)):",
            highlight=False,
        )
        lead = ", ".join(str(x) for x in ev.lead_months) or "-"
        median = "-" if ev.median_lead is None else f"{ev.median_lead:g}"
        console.print(
            f"  defaulters {ev.defaulters}: flagged before the first missed installment "
            f"{ev.caught} ({_pct(ev.recall, 0)}), months of warning {lead} (median {median}); "
            f"flagged in or after that month {ev.flagged_late}; not flagged {ev.not_flagged}; "
            f"flagged before the 90+ DPD installment {ev.caught_before_default}",
            highlight=False,
        )
        console.print(
            f"  performing {ev.performing}: false alarms {ev.false_alarms} "
            f"({_pct(ev.false_alarm_rate)}); precision of the flag {_pct(ev.precision, 0)}",
            highlight=False,
        )
        if trainer is not None:
            console.print(
                f"  truth/ (trainer): {trainer['with_precursors']} of {trainer['defaulters']} "
                f"defaulters had warning signs, {trainer['precursors_after_booking']} began "
                f"after booking; of those, caught before the first miss "
                f"{trainer['caught_of_those']} ({_pct(trainer['recall_of_those'], 0)})",
                highlight=False,
            )
        if chart is not None:
            console.print(f"chart: {chart}", highlight=False)

    guarded(run)


def _print_loan(console: Any, loan: Any, drop: float) -> None:
    status = "DEFAULT (default_12m)" if loan.default_12m else "performing"
    console.print(
        f"loan {loan.loan_id} · business {loan.business_id} · booked {loan.start_date} · "
        f"observed to {loan.horizon} · {status}",
        highlight=False,
    )
    console.print(
        f"first missed installment {_date(loan.first_missed_due)} · first 90+ DPD "
        f"installment {_date(loan.first_default_due)} · pre-loan baseline attendance "
        f"{_pct(loan.baseline_rate)}",
        highlight=False,
    )
    table = Table(title="attendance after the loan 放款后考勤 (钉钉)")
    for col in ("month", "MOB", "days", "staff", "attendance", "vs baseline", "approvals", ""):
        table.add_column(col, justify="right" if col else "left")
    for m in loan.months:
        table.add_row(
            str(m["month"])[:7],
            str(m["months_on_book"]),
            str(m["workdays"]),
            f"{m['avg_staff']:.1f}",
            _pct(m["attendance_rate"]),
            "-" if m["rate_change"] is None else f"{m['rate_change'] * 100:+.1f} pt",
            "-" if m["approvals_per_staff"] is None else f"{m['approvals_per_staff']:.1f}",
            "DROP" if m["attendance_drop"] else "",
        )
    console.print(table)
    if loan.flag_month is None:
        console.print(
            f"no attendance_drop flag (threshold: {drop * 100:g} points below the baseline)"
        )
    else:
        console.print(
            f"attendance_drop fired for {loan.flag_month:%Y-%m}: "
            f"{_lead(loan.lead_months)} month(s) before the first missed installment, "
            f"{_lead(loan.lead_to_default_months)} before the first 90+ DPD installment",
            highlight=False,
        )
    for f in loan.flags:
        console.print(
            f"{f.severity.value.upper()} {f.code}: {f.message}", highlight=False, markup=False
        )


def _print_defaulters(console: Any, loans: list[Any]) -> None:
    bad = [x for x in loans if x.default_12m and x.monitoring_months]
    table = Table(title="defaulters under the handle 违约贷款的考勤预警 (months of warning)")
    for col in (
        "loan",
        "business",
        "booked",
        "baseline",
        "flag month",
        "first missed",
        "lead",
        "first 90+ DPD",
        "lead",
    ):
        table.add_column(col, justify="right")
    for x in bad:
        table.add_row(
            str(x.loan_id),
            str(x.business_id),
            str(x.start_date),
            _pct(x.baseline_rate),
            _month(x.flag_month),
            _date(x.first_missed_due),
            _lead(x.lead_months),
            _date(x.first_default_due),
            _lead(x.lead_to_default_months),
        )
    console.print(table)
