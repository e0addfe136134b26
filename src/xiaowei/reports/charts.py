"""PNG charts of repayment schedules (还款计划图表): exposure profiles and cash flows.

Rendered with matplotlib's Agg canvas on a bare :class:`~matplotlib.figure.Figure`: no pyplot,
no global backend switch, no screen; each call builds, saves and drops its own figure.

Labels follow ``XIAOWEI_LANG`` (or ``lang=``) like the rest of the platform.  Chinese labels need
a CJK font; when none is installed (``fc-list :lang=zh`` is empty, e.g. on a bare CI image) the
charts fall back to English instead of drawing empty boxes, so matplotlib never warns about
missing glyphs.  On Debian/Ubuntu ``apt-get install fonts-noto-cjk`` provides one.
"""

from __future__ import annotations

import functools
import io
import itertools
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from xiaowei.core.i18n import Lang, current_lang, t
from xiaowei.lending.exposure import expected_loss, exposure_profile
from xiaowei.lending.schedule import Frequency, RepaymentMethod, Schedule

# Families with Simplified Chinese glyphs, preferred first: Noto/Source Han (Linux packages),
# WenQuanYi (older Linux), then the Windows and macOS system fonts.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Noto Sans CJK JP",
    "Droid Sans Fallback",
)

# Chart text in (English, Chinese); keys the platform already translates go to i18n.t().
_TEXT: dict[str, tuple[str, str]] = {
    "exposure_title": ("Exposure at default by repayment method", "不同还款方式的违约风险敞口"),
    "cashflow_title": (
        "Cash flows by repayment method (principal + interest per installment)",
        "不同还款方式的现金流（每期本金 + 利息）",
    ),
    "months": ("Months since disbursement", "放款后月数"),
    "ead_axis": ("Exposure at default (CNY)", "违约风险敞口（元）"),
    "payment_axis": ("Installment (CNY)", "每期还款额（元）"),
    "loan": ("{amount} CNY at {rate} a year", "贷款 {amount} 元，年利率 {rate}"),
    "term_months": ("{months}m", "{months}个月"),
    "quarterly": ("quarterly", "按季"),
    "wal": ("avg life {years:.2f}y", "平均期限 {years:.2f} 年"),
    "el": ("EL {el}", "预期损失 {el}"),
    "pd_lgd": ("PD {pd} a year, LGD {lgd}", "年违约概率 {pd}，违约损失率 {lgd}"),
}

_METHOD_ORDER = tuple(RepaymentMethod)
_LINE_STYLES = ("-", "--", ":", "-.")


@functools.cache
def cjk_font() -> str | None:
    """The first installed CJK-capable font family matplotlib knows, or None."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in installed), None)


def chart_lang(lang: Lang | None = None) -> Lang:
    """The language charts will actually use: Chinese only when a CJK font is installed."""
    wanted = lang or current_lang()
    if wanted == "zh-CN" and cjk_font() is None:
        return "en"
    return wanted


def text(key: str, lang: Lang) -> str:
    pair = _TEXT.get(key)
    if pair is None:
        return t(key, lang)
    return pair[1] if lang == "zh-CN" else pair[0]


def schedule_label(schedule: Schedule, lang: Lang) -> str:
    """``equal-installment 12m`` / ``等额本息 12个月`` (``quarterly`` / ``按季`` when so)."""
    terms = schedule.terms
    method = terms.method.name_zh if lang == "zh-CN" else terms.method.value
    label = f"{method} {text('term_months', lang).format(months=terms.term_months)}"
    if terms.frequency is Frequency.QUARTERLY and terms.method is not RepaymentMethod.BULLET:
        label += f" {text('quarterly', lang)}"
    return label


def _rc(lang: Lang) -> dict[Any, Any]:
    # Any: matplotlib >= 3.10 types rc keys as a Literal of every name; older stubs do not.
    rc: dict[Any, Any] = {
        "figure.dpi": 100,
        "savefig.dpi": 110,
        "axes.grid": True,
        "axes.axisbelow": True,
        "grid.alpha": 0.5,
    }
    family = cjk_font()
    if lang == "zh-CN" and family is not None:
        # DejaVu Sans first keeps digits and the minus sign in matplotlib's default face;
        # matplotlib falls back to the CJK family glyph by glyph for the Chinese text.
        # (fallback runs along font.family, not inside a generic "sans-serif" list).
        rc["font.family"] = ["DejaVu Sans", family]
    return rc


def _yuan(value: float, _pos: object = None) -> str:
    return f"{value:,.0f}"


def _common_loan(schedules: Sequence[Schedule], lang: Lang) -> str:
    """``120,000 CNY at 12.00% a year`` when all schedules lend the same amount at one rate."""
    amounts = {s.terms.principal for s in schedules}
    rates = {s.terms.annual_rate for s in schedules}
    if len(amounts) != 1 or len(rates) != 1:
        return ""
    return text("loan", lang).format(amount=f"{amounts.pop():,.0f}", rate=f"{rates.pop():.2%}")


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG bytes (for pages that embed their charts). No "Software" tag: the
    bytes do not change with the matplotlib version."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _save(figure: Figure, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(png_bytes(figure))
    return target


def _check(schedules: Sequence[Schedule]) -> None:
    if not schedules:
        raise ValueError("no schedules to chart")


def exposure_chart(
    schedules: Sequence[Schedule],
    path: str | os.PathLike[str],
    *,
    lang: Lang | None = None,
    pd_annual: float | None = None,
    lgd: float | None = None,
) -> Path:
    """Exposure at default over time, one step line per schedule, saved as PNG at ``path``.

    Colour marks the repayment method and the line style the term; the exposure drops to zero
    at maturity.  With ``pd_annual`` and ``lgd`` the legend also gives each schedule's EL.
    """
    _check(schedules)
    used = chart_lang(lang)
    terms = sorted({s.terms.term_months for s in schedules})
    with matplotlib.rc_context(_rc(used)):
        figure = Figure(figsize=(13, 6), layout="constrained")
        ax = figure.add_subplot()
        for schedule in schedules:
            profile = exposure_profile(schedule)
            months = [0.0, *(p.months for p in profile.points)]
            eads = [*(float(p.ead) for p in profile.points), 0.0]
            label = (
                f"{schedule_label(schedule, used)} · "
                f"{text('wal', used).format(years=profile.average_life_years)}"
            )
            if pd_annual is not None and lgd is not None:
                el = expected_loss(schedule, pd_annual=pd_annual, lgd=lgd, profile=profile)
                label += f" · {text('el', used).format(el=f'{el.expected_loss:,.0f}')}"
            ax.step(
                months,
                eads,
                where="post",
                label=label,
                color=f"C{_METHOD_ORDER.index(schedule.terms.method)}",
                linestyle=_LINE_STYLES[terms.index(schedule.terms.term_months) % 4],
                linewidth=1.8,
            )
        ax.set_xlabel(text("months", used))
        ax.set_ylabel(text("ead_axis", used))
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(FuncFormatter(_yuan))
        subtitle = _common_loan(schedules, used)
        if pd_annual is not None and lgd is not None:
            risk = text("pd_lgd", used).format(pd=f"{pd_annual:.1%}", lgd=f"{lgd:.0%}")
            subtitle = f"{subtitle} · {risk}" if subtitle else risk
        ax.set_title(subtitle, fontsize=10)
        figure.suptitle(text("exposure_title", used), fontsize=13)
        figure.legend(loc="outside right upper", fontsize=8)
        return _save(figure, path)


def _cashflow_axes(ax: Axes, schedule: Schedule, lang: Lang) -> None:
    profile = exposure_profile(schedule)
    step = 1 if schedule.terms.method is RepaymentMethod.BULLET else schedule.terms.frequency.months
    months = [p.months for p in profile.points]
    principal = [float(i.principal) for i in schedule.installments]
    interest = [float(i.interest) for i in schedule.installments]
    ax.bar(months, principal, width=0.8 * step, color="C0", label=t("principal", lang))
    ax.bar(
        months,
        interest,
        width=0.8 * step,
        bottom=principal,
        color="C1",
        label=t("interest", lang),
    )
    ax.set_title(
        f"{schedule_label(schedule, lang)} · {t('total_interest', lang)} "
        f"{schedule.total_interest:,.0f}",
        fontsize=9,
    )
    ax.yaxis.set_major_formatter(FuncFormatter(_yuan))
    ax.tick_params(labelsize=8)
    ax.grid(visible=False, axis="x")


def cashflow_chart(
    schedules: Sequence[Schedule],
    path: str | os.PathLike[str],
    *,
    lang: Lang | None = None,
) -> Path:
    """One panel per schedule: principal and interest stacked per installment, on a shared
    time axis (months since disbursement), saved as PNG at ``path``."""
    _check(schedules)
    used = chart_lang(lang)
    columns = min(3, len(schedules))
    rows = math.ceil(len(schedules) / columns)
    horizon = max(s.terms.term_months for s in schedules)
    with matplotlib.rc_context(_rc(used)):
        figure = Figure(figsize=(4.2 * columns, 2.5 * rows + 1.0), layout="constrained")
        grid = figure.subplots(rows, columns, sharex=True, squeeze=False)
        for ax, schedule in itertools.zip_longest(grid.flat, schedules):
            if schedule is None:
                ax.set_axis_off()
                continue
            _cashflow_axes(ax, schedule, used)
            ax.set_xlim(0, horizon + 1)
        for column in range(columns):
            # The lowest panel of each column carries the time axis (the last row may be short).
            lowest = grid[(len(schedules) - 1 - column) // columns, column]
            lowest.xaxis.set_tick_params(labelbottom=True)
            lowest.set_xlabel(text("months", used), fontsize=8)
        for ax in grid[:, 0]:
            ax.set_ylabel(text("payment_axis", used), fontsize=8)
        handles, labels = grid.flat[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=9)
        loan = _common_loan(schedules, used)
        title = text("cashflow_title", used)
        figure.suptitle(f"{title}\n{loan}" if loan else title, fontsize=12)
        return _save(figure, path)


_TEXT.update(
    {
        "sources_title": (
            "Monthly sales as declared and as seen by independent sources",
            "申报销售额与各独立来源的月度对比",
        ),
        "declared_sales": ("declared sales (IPC)", "申报销售额（IPC）"),
        "bank_in": ("bank inflows (all accounts)", "银行流入（全部账户）"),
        "pos": ("POS settlements", "POS收单"),
        "gmv": ("e-commerce GMV", "电商GMV"),
        "month_axis": ("Month", "月份"),
        "cny_axis": ("CNY per month", "每月金额（元）"),
    }
)


def sources_chart(
    months: Sequence[Any],
    series: Mapping[str, Sequence[float | None]],
    path: str | os.PathLike[str],
    *,
    title: str = "",
    lang: Lang | None = None,
) -> Path:
    """Monthly lines, one per source (keys of ``series`` are text keys: ``declared_sales``,
    ``bank_in``, ``pos``, ``gmv``), in CNY, saved as PNG at ``path``."""
    if not months:
        raise ValueError("no months to draw")
    used = chart_lang(lang)
    labels = [f"{m:%Y-%m}" if hasattr(m, "strftime") else str(m) for m in months]
    with matplotlib.rc_context(_rc(used)):
        figure = Figure(figsize=(8.0, 4.0), layout="constrained")
        ax = figure.subplots()
        for (key, values), style in zip(series.items(), itertools.cycle(_LINE_STYLES)):
            ys = [math.nan if v is None else float(v) for v in values]
            ax.plot(range(len(labels)), ys, style, marker="o", markersize=3, label=text(key, used))
        ax.set_xticks(range(len(labels)), labels, rotation=45, fontsize=8)
        ax.yaxis.set_major_formatter(FuncFormatter(_yuan))
        ax.set_xlabel(text("month_axis", used), fontsize=9)
        ax.set_ylabel(text("cny_axis", used), fontsize=9)
        ax.legend(fontsize=8)
        heading = text("sources_title", used)
        figure.suptitle(f"{heading}\n{title}" if title else heading, fontsize=11)
        return _save(figure, path)
