"""PNG charts of portfolio capital (组合资本图表): IRB curves against standardised weights.

Same conventions as :mod:`xiaowei.reports.charts`: a bare :class:`~matplotlib.figure.Figure` on
the Agg canvas (no pyplot), labels in ``en`` or ``zh-CN`` (English when no CJK font is installed,
:func:`~xiaowei.reports.charts.chart_lang`).  :func:`capital_chart` saves a PNG and returns its
path; :func:`capital_chart_png` returns the PNG bytes.

The left panel draws the capital per unit of exposure (资本占用率, RW × the target capital
ratio) against PD on a log axis: the IRB functions for other retail (§330), corporate SME with
the full §273 firm-size adjustment (S = EUR 5 million) and corporate, at the portfolio's
EAD-weighted LGD and the chosen maturity, beside the flat standardised weights; the portfolio's
exposures are dots on the IRB curve of their class.  The right panel compares the RWA of each
segment (grade) under both approaches.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np
import polars as pl
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from xiaowei.core.i18n import Lang
from xiaowei.decision.capital import (
    PD_FLOOR,
    SALES_MIN,
    STANDARDISED_WEIGHTS,
    AssetClass,
    PortfolioCapital,
    PortfolioClass,
    StandardisedClass,
    capital_k_array,
)
from xiaowei.reports.charts import _rc, _save, chart_lang, png_bytes
from xiaowei.reports.page import pick

_TEXT: dict[str, tuple[str, str]] = {
    "title": ("Capital: IRB against the standardised approach", "资本：内部评级法与权重法对比"),
    "curve_panel": (
        "Capital per unit of exposure at {ratio} of RWA (LGD {lgd}, M = {m} y)",
        "单位风险暴露的资本占用（RWA × {ratio}，LGD {lgd}，M = {m} 年）",
    ),
    "pd_axis": ("PD (log scale)", "违约概率（对数刻度）"),
    "capital_axis": ("Capital ÷ EAD", "资本 ÷ 违约风险暴露"),
    "retail": ("IRB other retail (§330)", "内部评级法 其他零售（§330）"),
    "sme": (
        "IRB corporate SME, sales ≤ EUR 5m (§273)",
        "内部评级法 中小企业（销售额≤500万欧元，§273）",
    ),
    "corporate": ("IRB corporate (§272)", "内部评级法 公司（§272）"),
    "std_retail": ("standardised regulatory retail 75%", "权重法 监管零售 75%"),
    "std_sme": ("standardised SME corporate 85%", "权重法 中小企业 85%"),
    "std_corporate": ("standardised corporate 100%", "权重法 一般公司 100%"),
    "std_flat": ("standardised {weight}", "权重法 {weight}"),
    "exposures": ("the portfolio's exposures (IRB)", "组合中的风险暴露（内部评级法）"),
    "rwa_panel": ("RWA by {by}", "按{by}的风险加权资产"),
    "all": ("all", "全部"),
    "rwa_axis": ("RWA (CNY)", "风险加权资产（元）"),
    "irb": ("IRB", "内部评级法"),
    "standardised": ("standardised", "权重法"),
    "segment": ("segment", "分组"),
    "grade": ("grade", "评级"),
}

_CURVE_COLOURS = {
    PortfolioClass.RETAIL: "C0",
    PortfolioClass.SME: "C1",
    PortfolioClass.CORPORATE: "C2",
}
_STD_KEYS = {
    StandardisedClass.REGULATORY_RETAIL: ("std_retail", PortfolioClass.RETAIL),
    StandardisedClass.SME_CORPORATE: ("std_sme", PortfolioClass.SME),
    StandardisedClass.CORPORATE: ("std_corporate", PortfolioClass.CORPORATE),
}


def text(key: str, lang: Lang) -> str:
    """The chart label ``key`` in ``lang``."""
    return pick(_TEXT[key], lang)


def _yuan(value: float, _pos: object = None) -> str:
    return f"{value:,.0f}"


def _pct(value: float) -> str:
    return f"{value:.1%}".replace(".0%", "%")


def _draw(lang: Lang, result: PortfolioCapital, *, maturity: float, lgd: float | None) -> Figure:
    ratio = float(result.capital_ratio)
    lgd_used = result.total.lgd_mean if lgd is None else lgd
    figure = Figure(figsize=(13.0, 5.4), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=(1.25, 1.0))

    # ------------------------------------------------------------------ curves
    grid = np.geomspace(PD_FLOOR, 0.5, 240)
    lgds = np.full_like(grid, lgd_used)
    curves = {
        PortfolioClass.RETAIL: capital_k_array(AssetClass.RETAIL, grid, lgds),
        PortfolioClass.SME: capital_k_array(
            AssetClass.CORPORATE,
            grid,
            lgds,
            maturity=maturity,
            sales_million_eur=np.full_like(grid, SALES_MIN),
        ),
        PortfolioClass.CORPORATE: capital_k_array(
            AssetClass.CORPORATE, grid, lgds, maturity=maturity
        ),
    }
    per_unit = 12.5 * result.scaling * ratio
    for cls, k in curves.items():
        left.plot(
            grid,
            k * per_unit,
            color=_CURVE_COLOURS[cls],
            linewidth=2.0,
            label=text(cls.value, lang),
        )
    if result.flat_weight is not None:
        weight = float(result.flat_weight)
        label = text("std_flat", lang).format(weight=_pct(weight))
        left.axhline(weight * ratio, color="0.3", linestyle="--", linewidth=1.4, label=label)
    else:
        for std_class, (key, cls) in _STD_KEYS.items():
            left.axhline(
                float(STANDARDISED_WEIGHTS[std_class]) * ratio,
                color=_CURVE_COLOURS[cls],
                linestyle="--",
                linewidth=1.2,
                label=text(key, lang),
            )
    # performing exposures only: a defaulted one (PD = 1) has no point on the curve
    rows = result.exposures.filter(pl.col("pd_used") < 1.0)
    if rows.height:
        left.scatter(
            rows["pd_used"].to_numpy(),
            rows["rw_irb"].to_numpy() * ratio,
            s=10,
            color="0.25",
            alpha=0.55,
            zorder=3,
            label=text("exposures", lang),
        )
    left.set_xscale("log")
    left.set_xlim(PD_FLOOR, 0.5)
    left.set_ylim(bottom=0)
    left.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=1))
    left.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    left.set_xlabel(text("pd_axis", lang))
    left.set_ylabel(text("capital_axis", lang))
    left.set_title(
        text("curve_panel", lang).format(ratio=_pct(ratio), lgd=_pct(lgd_used), m=f"{maturity:g}"),
        fontsize=10,
    )
    left.legend(fontsize=7.5, loc="upper left")

    # ------------------------------------------------------------------ RWA by segment
    summaries = list(result.segments) or [result.total]
    labels = [text("all", lang) if s.segment == "all" else s.segment for s in summaries]
    positions = np.arange(len(summaries))
    width = 0.38
    right.bar(
        positions - width / 2,
        [float(s.rwa_irb) for s in summaries],
        width,
        color="C0",
        label=text("irb", lang),
    )
    right.bar(
        positions + width / 2,
        [float(s.rwa_standardised) for s in summaries],
        width,
        color="0.6",
        label=text("standardised", lang),
    )
    right.set_xticks(positions, labels)
    right.yaxis.set_major_formatter(FuncFormatter(_yuan))
    right.set_ylabel(text("rwa_axis", lang))
    if result.by is None or result.by == "grade":
        by = text(result.by or "segment", lang)
    else:
        by = result.by
    right.set_title(text("rwa_panel", lang).format(by=by), fontsize=10)
    right.set_xlabel(by)
    right.grid(visible=False, axis="x")
    right.legend(fontsize=8)
    figure.suptitle(text("title", lang), fontsize=13)
    return figure


def capital_chart(
    result: PortfolioCapital,
    path: str | os.PathLike[str],
    *,
    lang: Lang | None = None,
    maturity: float = 1.0,
    lgd: float | None = None,
) -> Path:
    """Draw the capital curves and the RWA by segment of ``result``; save a PNG at ``path``.

    ``lgd`` defaults to the portfolio's EAD-weighted LGD; ``maturity`` is the M of the
    corporate curves (retail has no maturity adjustment).
    """
    used = chart_lang(lang)
    with matplotlib.rc_context(_rc(used)):
        return _save(_draw(used, result, maturity=maturity, lgd=lgd), path)


def capital_chart_png(
    result: PortfolioCapital,
    *,
    lang: Lang | None = None,
    maturity: float = 1.0,
    lgd: float | None = None,
) -> bytes:
    """The same chart as PNG bytes (for an HTML page)."""
    used = chart_lang(lang)
    with matplotlib.rc_context(_rc(used)):
        return png_bytes(_draw(used, result, maturity=maturity, lgd=lgd))
