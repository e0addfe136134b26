"""PNG chart of willingness to repay next to capacity (还款意愿与还款能力图).

:func:`willingness_chart` draws, for one credit file, the money cost of default (违约成本)
stacked by component — seizable business assets, household assets, guarantors' exposure,
future access to credit, reputation — against the exposure (风险敞口: the new loan and the
existing debts, stacked), the margin written between them; beside it, capacity (还款能力):
the requested loan against the maximum affordable loan, and the installment ratio against its
cap. A committee reads *will* and *can* on one page.

Same conventions as :mod:`xiaowei.reports.charts`: a bare Agg figure per call, zh-CN or en
labels (English when no CJK font is installed).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from xiaowei.analysis.credit_file import Capacity, WillingnessSummary
from xiaowei.core.i18n import Lang
from xiaowei.reports.charts import _rc, _save, _yuan, chart_lang

__all__ = ["COMPONENTS", "willingness_chart"]

#: The cost-of-default components in stacking order (field names of WillingnessSummary).
COMPONENTS = ("business_assets", "household_assets", "guarantors", "future_credit", "reputation")

_TEXT: dict[str, tuple[str, str]] = {
    "title": ("Willingness to repay, monetised, next to capacity", "还款意愿货币化与还款能力"),
    "will_panel": ("Cost of default against exposure", "违约成本与风险敞口"),
    "cap_panel": ("Capacity", "还款能力"),
    "business_assets": ("seizable business assets", "可执行经营资产"),
    "household_assets": ("seizable household assets", "可执行家庭资产"),
    "guarantors": ("guarantors' exposure", "保证人代偿"),
    "future_credit": ("future access to credit (PV)", "未来融资机会现值"),
    "reputation": ("reputation in the network", "圈子声誉"),
    "loan_amount": ("requested loan", "申请贷款"),
    "existing_debts": ("liabilities (balance sheet)", "现有负债（资产负债表）"),
    "cost": ("cost of default", "违约成本"),
    "exposure": ("exposure", "风险敞口"),
    "margin": ("margin {margin} CNY\nratio {ratio:.2f}×", "意愿差额 {margin} 元\n倍数 {ratio:.2f}"),
    "cny": ("CNY", "元"),
    "requested": ("requested", "申请额"),
    "affordable": ("max affordable", "最高可贷额"),
    "loan_axis": ("Loan (CNY)", "贷款（元）"),
    "ratio_label": ("installment ratio", "月供收入比"),
    "cap_line": ("cap {cap:.0%}", "上限 {cap:.0%}"),
    "no_capacity": ("no capacity figures", "无还款能力数据"),
}

_COLOURS = {
    "business_assets": "#2b6cb0",
    "household_assets": "#63b3ed",
    "guarantors": "#38a169",
    "future_credit": "#d69e2e",
    "reputation": "#9f7aea",
    "loan_amount": "#c53030",
    "existing_debts": "#fc8181",
}


def _text(key: str, lang: Lang) -> str:
    en, zh = _TEXT[key]
    return zh if lang == "zh-CN" else en


def willingness_chart(
    willingness: WillingnessSummary,
    path: str | os.PathLike[str],
    *,
    capacity: Capacity | None = None,
    title: str = "",
    lang: Lang | None = None,
) -> Path:
    """Cost of default stacked against the exposure, capacity beside it; PNG at ``path``."""
    used = chart_lang(lang)
    loan = willingness.loan_amount
    debts = willingness.existing_debts
    if loan is None or debts is None:
        # a file made before the components were kept: the exposure in one piece
        exposure_parts = [("exposure", willingness.exposure)]
    else:
        exposure_parts = [("loan_amount", loan), ("existing_debts", debts)]
    with matplotlib.rc_context(_rc(used)):
        figure = Figure(figsize=(11.0, 5.0), layout="constrained")
        will_ax, cap_ax = figure.subplots(1, 2, width_ratios=[3, 2])
        bottom = 0.0
        for key in COMPONENTS:
            value = float(getattr(willingness, key))
            will_ax.bar(
                0, value, bottom=bottom, width=0.6, color=_COLOURS[key], label=_text(key, used)
            )
            bottom += value
        bottom = 0.0
        for key, amount in exposure_parts:
            value = float(amount)
            will_ax.bar(
                1,
                value,
                bottom=bottom,
                width=0.6,
                color=_COLOURS.get(key, "#c53030"),
                label=_text(key, used),
            )
            bottom += value
        cost, exposure = float(willingness.cost_of_default), float(willingness.exposure)
        top = max(cost, exposure)
        will_ax.text(
            0.5,
            top * 1.02,
            _text("margin", used).format(
                margin=f"{willingness.margin:,.0f}", ratio=willingness.ratio
            ),
            ha="center",
            va="bottom",
            fontsize=9,
        )
        will_ax.set_ylim(0, top * 1.25 if top > 0 else 1)
        will_ax.set_xticks([0, 1], [_text("cost", used), _text("exposure", used)])
        will_ax.set_ylabel(_text("cny", used))
        will_ax.yaxis.set_major_formatter(FuncFormatter(_yuan))
        will_ax.grid(visible=False, axis="x")
        will_ax.set_title(_text("will_panel", used), fontsize=10)
        handles, labels = will_ax.get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=8)
        _capacity_axes(cap_ax, capacity, loan, used)
        heading = _text("title", used)
        figure.suptitle(f"{heading}\n{title}" if title else heading, fontsize=12)
        return _save(figure, path)


def _capacity_axes(ax: Axes, capacity: Capacity | None, loan: Decimal | None, lang: Lang) -> None:
    """Requested against maximum affordable loan (bars), installment ratio against its cap."""
    ax.set_title(_text("cap_panel", lang), fontsize=10)
    if capacity is None:
        ax.text(0.5, 0.5, _text("no_capacity", lang), ha="center", va="center")
        ax.set_axis_off()
        return
    affordable = float(capacity.max_affordable_loan)
    requested = float(loan) if loan is not None else 0.0
    bars = ax.bar(
        [0, 1],
        [requested, affordable],
        width=0.6,
        color=["#c53030", "#2b6cb0"],
    )
    ax.bar_label(bars, labels=[f"{requested:,.0f}", f"{affordable:,.0f}"], fontsize=8)
    ax.set_ylabel(_text("loan_axis", lang))
    ax.yaxis.set_major_formatter(FuncFormatter(_yuan))
    ax.set_ylim(0, max(requested, affordable, 1.0) * 1.2)
    ax.grid(visible=False, axis="x")
    ratio_ax = ax.twinx()
    ratio = None if capacity.installment_ratio is None else float(capacity.installment_ratio)
    cap = float(capacity.cap)
    if ratio is not None:
        ratio_ax.plot([2], [ratio], "D", color="#2d3748", markersize=9)
        ratio_ax.annotate(
            f"{ratio:.0%}",
            (2, ratio),
            xytext=(-9, 0),
            textcoords="offset points",
            ha="right",
            va="center",
        )
    ratio_ax.hlines(cap, 1.6, 2.4, color="#718096", linestyle="--", linewidth=1.2)
    # the cap's label right of its line, the ratio's left of the marker: they never collide
    ratio_ax.annotate(
        _text("cap_line", lang).format(cap=cap),
        (2.4, cap),
        xytext=(3, 0),
        textcoords="offset points",
        fontsize=8,
        ha="left",
        va="center",
    )
    ratio_ax.set_ylim(0, max(cap, ratio or 0.0) * 1.3)
    ratio_ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ratio_ax.set_ylabel(_text("ratio_label", lang))
    ratio_ax.grid(visible=False)
    ax.set_xlim(-0.6, 3.1)
    labels = [_text(k, lang) for k in ("requested", "affordable", "ratio_label")]
    ax.set_xticks([0, 1, 2], labels, fontsize=8)
