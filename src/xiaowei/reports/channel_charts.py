"""PNG charts of the sales channels and of the post-loan attendance handle.

* :func:`channels_chart` (渠道月度对比图): the monthly series of every source an applicant has
  — bank inflows and revenue estimate, POS settlements, e-commerce GMV in CNY, and web
  traffic (PV, UV, conversion) in a panel of its own;
* :func:`attendance_chart` (考勤曲线): one business's attendance rate and headcount by month,
  the pre-loan baseline and the drop threshold, the loan date and the first missed
  installment marked;
* :func:`early_warning_chart` (预警评估): the defaulters by months of warning the
  attendance-drop flag gave, against the false alarms among performing loans.

Same conventions as :mod:`xiaowei.reports.charts`: a bare Agg figure per call, zh-CN or en
labels (English when no CJK font is installed).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from xiaowei.core.i18n import Lang
from xiaowei.reports.charts import _rc, _save, _yuan, chart_lang

_TEXT: dict[str, tuple[str, str]] = {
    "channels_title": ("Monthly series of every source", "各来源月度序列"),
    "bank_inflow": ("bank inflows", "银行流入"),
    "bank_revenue": ("bank revenue estimate", "银行营业收入估计"),
    "pos_gross": ("POS settlements (gross)", "POS收单（交易额）"),
    "ecom_gmv": ("e-commerce GMV", "电商GMV"),
    "ecom_payout": ("e-commerce payouts", "电商平台结算款"),
    "web_pv": ("PV (page views)", "PV 浏览量"),
    "web_uv": ("UV (visitors)", "UV 访客数"),
    "web_conversion": ("conversion (orders / UV)", "转化率（订单/UV）"),
    "cny_axis": ("CNY per month", "每月金额（元）"),
    "visits_axis": ("visits per month", "每月访问量"),
    "month_axis": ("Month", "月份"),
    "attendance_title": ("Attendance after the loan", "放款后的考勤曲线"),
    "attendance_rate": ("attendance rate", "出勤率"),
    "headcount": ("average headcount", "平均在岗人数"),
    "baseline": ("pre-loan baseline {rate:.1%}", "贷前基准 {rate:.1%}"),
    "threshold": ("drop threshold {rate:.1%}", "预警线 {rate:.1%}"),
    "drop_month": ("attendance_drop month", "出勤率下降月"),
    "loan_date": ("loan booked {day}", "放款 {day}"),
    "first_missed": ("first missed installment {day}", "首次逾期 {day}"),
    "rate_axis": ("Attendance rate", "出勤率"),
    "staff_axis": ("Headcount", "人数"),
    "warning_title": (
        "Attendance drop as an early warning: defaulters by months of warning",
        "出勤率下降预警：违约客户按提前月数分布",
    ),
    "lead": ("{n} month(s) before", "提前{n}个月"),
    "late": ("flag in/after the miss", "逾期当月或之后"),
    "never": ("no flag", "未预警"),
    "defaulters_axis": ("Defaulters", "违约户数"),
    "warning_sub": (
        "{caught} of {bad} defaulters flagged before the first missed installment; "
        "false alarms {fa} of {good} performing loans",
        "{bad} 户违约中 {caught} 户在首次逾期前被预警；{good} 笔正常贷款中误报 {fa} 笔",
    ),
}


def text(key: str, lang: Lang) -> str:
    en, zh = _TEXT[key]
    return zh if lang == "zh-CN" else en


def _label(month: Any) -> str:
    return f"{month:%Y-%m}" if isinstance(month, date) else str(month)[:7]


def _nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def _top(months: Sequence[Mapping[str, Any]], keys: Sequence[str], unit: float) -> float:
    values = [float(m[k]) / unit for m in months for k in keys if m.get(k) is not None]
    return max(values, default=0.0)


def channels_chart(
    months: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    title: str = "",
    lang: Lang | None = None,
) -> Path:
    """The monthly series of every source present (``months`` as in
    :class:`~xiaowei.services.channels.ChannelsView`: fen and counts, ``None`` for a missing
    source): money in CNY on top, PV/UV with conversion below when traffic is there."""
    if not months:
        raise ValueError("no months to draw")
    used = chart_lang(lang)
    labels = [_label(m["month"]) for m in months]
    xs = range(len(labels))
    money = [
        k
        for k in ("bank_inflow", "bank_revenue", "pos_gross", "ecom_gmv", "ecom_payout")
        if any(m.get(k) is not None for m in months)
    ]
    traffic = any(m.get("web_uv") is not None for m in months)
    if not money and not traffic:
        raise ValueError("no source to draw")
    with matplotlib.rc_context(_rc(used)):
        rows = int(bool(money)) + int(traffic)
        figure = Figure(figsize=(9.0, 3.6 * rows + 0.6), layout="constrained")
        axes = list(figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0])
        if money:
            ax = axes[0]
            styles = ("-", "--", "-", "-", ":")
            for i, key in enumerate(money):
                ys = [_nan(m.get(key)) / 100 for m in months]
                ax.plot(xs, ys, styles[i], marker="o", markersize=3, label=text(key, used))
            ax.yaxis.set_major_formatter(FuncFormatter(_yuan))
            ax.set_ylabel(text("cny_axis", used), fontsize=9)
            # head room for the legend above the lines
            ax.set_ylim(0, _top(months, money, 100) * 1.3 or None)
            ax.legend(fontsize=8, loc="upper left", ncols=2)
        if traffic:
            ax = axes[-1]
            ax.bar(
                [x - 0.2 for x in xs],
                [_nan(m.get("web_pv")) for m in months],
                width=0.4,
                color="C0",
                alpha=0.6,
                label=text("web_pv", used),
            )
            ax.bar(
                [x + 0.2 for x in xs],
                [_nan(m.get("web_uv")) for m in months],
                width=0.4,
                color="C1",
                alpha=0.8,
                label=text("web_uv", used),
            )
            ax.yaxis.set_major_formatter(FuncFormatter(_yuan))
            ax.set_ylabel(text("visits_axis", used), fontsize=9)
            ax.set_ylim(0, _top(months, ("web_pv", "web_uv"), 1) * 1.45 or None)
            twin = ax.twinx()
            twin.plot(
                xs,
                [_nan(m.get("web_conversion")) for m in months],
                "k-",
                marker="s",
                markersize=3,
                label=text("web_conversion", used),
            )
            twin.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
            twin.set_ylim(0, _top(months, ("web_conversion",), 1) * 1.3 or None)
            twin.grid(visible=False)
            handles, names = ax.get_legend_handles_labels()
            more, more_names = twin.get_legend_handles_labels()
            ax.legend(handles + more, names + more_names, fontsize=8, loc="upper left", ncols=3)
        axes[-1].set_xticks(list(xs), labels, rotation=45, fontsize=8)
        axes[-1].set_xlabel(text("month_axis", used), fontsize=9)
        heading = text("channels_title", used)
        figure.suptitle(f"{heading}\n{title}" if title else heading, fontsize=11)
        return _save(figure, path)


def attendance_chart(
    months: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    loan_date: date,
    first_missed: date | None = None,
    baseline_rate: float | None = None,
    drop: float | None = None,
    drop_months: Sequence[date] = (),
    title: str = "",
    lang: Lang | None = None,
) -> Path:
    """One business's attendance curve: ``months`` rows of
    :func:`~xiaowei.analysis.channels.attendance_monthly` (``month``, ``attendance_rate``,
    ``avg_staff``), the loan date and the first missed installment as vertical lines (placed
    within their month by day), the baseline and ``baseline − drop`` as horizontal lines and
    the drop months marked."""
    if not months:
        raise ValueError("no months to draw")
    used = chart_lang(lang)
    by_month = {m["month"]: m for m in months}
    start = min(by_month)
    end = max([*by_month, loan_date.replace(day=1)])
    if first_missed is not None:
        end = max(end, first_missed.replace(day=1))
    span = (end.year - start.year) * 12 + end.month - start.month
    # every calendar month to the last event, months without data left empty
    firsts = [
        date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1)
        for i in range(span + 1)
    ]
    months = [by_month.get(m, {"month": m}) for m in firsts]
    labels = [_label(m) for m in firsts]
    xs = list(range(len(labels)))

    def position(day: date) -> float:
        index = (day.year - firsts[0].year) * 12 + day.month - firsts[0].month
        return index - 0.5 + (day.day - 1) / 31

    with matplotlib.rc_context(_rc(used)):
        figure = Figure(figsize=(9.0, 4.4), layout="constrained")
        ax = figure.subplots()
        staff_ax = ax.twinx()
        staff_ax.bar(
            xs,
            [_nan(m.get("avg_staff")) for m in months],
            width=0.7,
            color="C7",
            alpha=0.3,
            label=text("headcount", used),
        )
        staff_ax.set_ylabel(text("staff_axis", used), fontsize=9)
        staff_ax.set_ylim(bottom=0)
        staff_ax.grid(visible=False)
        ax.set_zorder(staff_ax.get_zorder() + 1)
        ax.patch.set_visible(False)
        rates = [_nan(m.get("attendance_rate")) for m in months]
        ax.plot(
            xs,
            rates,
            "-",
            color="C0",
            marker="o",
            markersize=3,
            label=text("attendance_rate", used),
        )
        if baseline_rate is not None:
            ax.axhline(
                baseline_rate,
                color="C2",
                linestyle="--",
                linewidth=1.2,
                label=text("baseline", used).format(rate=baseline_rate),
            )
            if drop is not None:
                ax.axhline(
                    baseline_rate - drop,
                    color="C3",
                    linestyle=":",
                    linewidth=1.2,
                    label=text("threshold", used).format(rate=baseline_rate - drop),
                )
        marked = [i for i, m in enumerate(firsts) if m in set(drop_months)]
        if marked:
            ax.scatter(
                marked,
                [rates[i] for i in marked],
                s=60,
                color="C3",
                zorder=5,
                label=text("drop_month", used),
            )
        ax.axvline(
            position(loan_date),
            color="C4",
            linewidth=1.5,
            label=text("loan_date", used).format(day=loan_date.isoformat()),
        )
        if first_missed is not None:
            ax.axvline(
                position(first_missed),
                color="C3",
                linewidth=1.5,
                linestyle="-.",
                label=text("first_missed", used).format(day=first_missed.isoformat()),
            )
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        low = min([r for r in rates if not math.isnan(r)] + [baseline_rate or 1.0])
        ax.set_ylim(max(0.0, low - 0.1 - (drop or 0.0)), 1.02)
        ax.set_ylabel(text("rate_axis", used), fontsize=9)
        # past a year and a half every second month is labelled, so the labels stay apart
        step = 2 if len(xs) > 18 else 1
        ax.set_xticks(xs[::step], labels[::step], rotation=45, fontsize=8)
        ax.set_xlabel(text("month_axis", used), fontsize=9)
        handles, names = ax.get_legend_handles_labels()
        more, more_names = staff_ax.get_legend_handles_labels()
        ax.legend(handles + more, names + more_names, fontsize=8, loc="lower left")
        heading = text("attendance_title", used)
        figure.suptitle(f"{heading}\n{title}" if title else heading, fontsize=11)
        return _save(figure, path)


def early_warning_chart(
    lead_months: Sequence[int],
    path: str | os.PathLike[str],
    *,
    flagged_late: int,
    not_flagged: int,
    defaulters: int,
    performing: int,
    false_alarms: int,
    lang: Lang | None = None,
) -> Path:
    """Bars: defaulters caught 1, 2, 3 … months before their first missed installment, those
    flagged only in or after that month, those never flagged; the false alarms in the title."""
    used = chart_lang(lang)
    longest = max(lead_months, default=0)
    leads = list(range(1, max(longest, 3) + 1))
    labels = [text("lead", used).format(n=n) for n in leads]
    counts = [sum(1 for x in lead_months if x == n) for n in leads]
    colours = ["C2"] * len(leads)
    labels += [text("late", used), text("never", used)]
    counts += [flagged_late, not_flagged]
    colours += ["C1", "C3"]
    with matplotlib.rc_context(_rc(used)):
        figure = Figure(figsize=(8.0, 4.0), layout="constrained")
        ax = figure.subplots()
        bars = ax.bar(range(len(labels)), counts, color=colours)
        ax.bar_label(bars, fontsize=8)
        ax.set_xticks(range(len(labels)), labels, rotation=20, fontsize=8)
        ax.set_ylabel(text("defaulters_axis", used), fontsize=9)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(visible=False, axis="x")
        sub = text("warning_sub", used).format(
            caught=len(lead_months), bad=defaulters, fa=false_alarms, good=performing
        )
        ax.set_title(sub, fontsize=9)
        figure.suptitle(text("warning_title", used), fontsize=11)
        return _save(figure, path)
