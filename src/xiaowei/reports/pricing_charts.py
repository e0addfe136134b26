"""PNG chart of risk-based pricing (风险定价图): the price's components and RAROC across PDs.

Left: the risk-based rate as stacked components — funding, operating cost, expected loss, cost
of capital, margin — for PDs from 0.05 % to 30 % (log scale), the rate actually offered after
the product range and the legal cap, and the loan being priced. Right: RAROC at the offered rate
against the hurdle: where the cap binds, RAROC falls below the hurdle, and the PD at which it
crosses is the price-based cut-off (定价决定的准入上限). Same conventions as
:mod:`xiaowei.reports.charts` (CJK font or English fallback, PNG saved or returned).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from xiaowei.core.i18n import Lang
from xiaowei.decision.pricing import PriceQuote
from xiaowei.reports.charts import _rc, _save, chart_lang, png_bytes
from xiaowei.reports.page import pick

_TEXT: dict[str, tuple[str, str]] = {
    "title": (
        "Risk-based price across PDs ({term} months, LGD {lgd})",
        "不同违约概率下的风险定价（{term}个月，LGD {lgd}）",
    ),
    "rate_panel": ("Rate and its components", "利率及其构成"),
    "raroc_panel": ("RAROC at the offered rate", "按实际利率计算的 RAROC"),
    "pd_axis": ("PD (log scale)", "违约概率（对数刻度）"),
    "rate_axis": ("annual rate", "年利率"),
    "funding": ("funding cost", "资金成本"),
    "operating": ("operating cost", "运营成本"),
    "expected_loss": ("expected loss", "预期损失"),
    "capital": ("cost of capital", "资本成本"),
    "margin": ("margin", "目标利润"),
    "offered": ("rate offered (after range and cap)", "实际利率（区间与上限约束后）"),
    "ceiling": ("ceiling {rate}", "上限 {rate}"),
    "floor": ("floor {rate}", "下限 {rate}"),
    "loan": ("this loan: PD {pd}, rate {rate}", "本笔：PD {pd}，利率 {rate}"),
    "hurdle": ("hurdle {rate}", "资本回报门槛 {rate}"),
    "raroc": ("RAROC", "RAROC"),
    "cutoff": ("cap binds from PD {pd}", "PD ≥ {pd} 时触及上限"),
}


def text(key: str, lang: Lang) -> str:
    """The chart label ``key`` in ``lang``."""
    return pick(_TEXT[key], lang)


def _pct(value: float, digits: int = 1) -> str:
    return f"{value * 100:.{digits}f}%"


def _tick(value: float, _pos: object = None) -> str:
    """An axis tick as a percentage with only the digits it needs (2.5%, 10%, 0.05%)."""
    return f"{round(value * 100, 4):g}%"


def _draw(lang: Lang, quote: PriceQuote, curve: list[PriceQuote], pds: np.ndarray) -> Figure:
    figure = Figure(figsize=(11, 4.6), layout="constrained")
    left, right = figure.subplots(1, 2)
    parts = [
        ("funding", [float(q.funding) for q in curve]),
        ("operating", [float(q.operating_cost) for q in curve]),
        ("expected_loss", [float(q.expected_loss) for q in curve]),
        ("capital", [float(q.cost_of_capital) for q in curve]),
        ("margin", [float(q.margin) for q in curve]),
    ]
    left.stackplot(
        pds, *[v for _, v in parts], labels=[text(k, lang) for k, _ in parts], alpha=0.75
    )
    offered = [float(q.rate) for q in curve]
    left.plot(pds, offered, color="black", linewidth=2, label=text("offered", lang))
    ceiling, floor = float(quote.ceiling), float(quote.floor)
    left.axhline(ceiling, color="C3", linestyle="--", linewidth=1)
    left.annotate(
        text("ceiling", lang).format(rate=_pct(ceiling, 2)),
        (pds[0], ceiling),
        xytext=(2, 3),
        textcoords="offset points",
        fontsize=8,
        color="C3",
    )
    if floor > 0:
        left.axhline(floor, color="C7", linestyle=":", linewidth=1)
        left.annotate(
            text("floor", lang).format(rate=_pct(floor, 2)),
            (pds[0], floor),
            xytext=(2, -10),
            textcoords="offset points",
            fontsize=8,
            color="C7",
        )
    left.scatter(
        [quote.pd_annual],
        [float(quote.rate)],
        color="black",
        zorder=5,
        label=text("loan", lang).format(
            pd=_pct(quote.pd_annual, 2), rate=_pct(float(quote.rate), 2)
        ),
    )
    left.set_xscale("log")
    left.set_xlabel(text("pd_axis", lang))
    left.set_ylabel(text("rate_axis", lang))
    left.yaxis.set_major_formatter(FuncFormatter(_tick))
    left.xaxis.set_major_formatter(FuncFormatter(_tick))
    left.set_title(text("rate_panel", lang), fontsize=10)
    left.legend(fontsize=7, loc="upper left")

    raroc = [np.nan if q.raroc is None else q.raroc for q in curve]
    right.plot(pds, raroc, color="C0", linewidth=2, label=text("raroc", lang))
    hurdle = float(quote.hurdle_rate)
    right.axhline(
        hurdle,
        color="C3",
        linestyle="--",
        linewidth=1,
        label=text("hurdle", lang).format(rate=_pct(hurdle)),
    )
    bound = [q.pd_annual for q in curve if q.bound is not None and q.rate == q.ceiling]
    if bound:
        right.axvline(
            bound[0],
            color="C7",
            linestyle=":",
            linewidth=1,
            label=text("cutoff", lang).format(pd=_pct(bound[0], 2)),
        )
    if quote.raroc is not None:
        right.scatter([quote.pd_annual], [quote.raroc], color="black", zorder=5)
    right.set_xscale("log")
    right.set_xlabel(text("pd_axis", lang))
    right.yaxis.set_major_formatter(FuncFormatter(_tick))
    right.xaxis.set_major_formatter(FuncFormatter(_tick))
    right.set_title(text("raroc_panel", lang), fontsize=10)
    right.legend(fontsize=8)
    figure.suptitle(
        text("title", lang).format(term=quote.term_months, lgd=_pct(quote.lgd, 0)), fontsize=12
    )
    return figure


def _curve(price: Callable[[float], PriceQuote]) -> tuple[list[PriceQuote], np.ndarray]:
    pds = np.geomspace(0.0005, 0.30, 80)
    return [price(float(p)) for p in pds], pds


def pricing_chart(
    quote: PriceQuote,
    price: Callable[[float], PriceQuote],
    path: str | os.PathLike[str],
    *,
    lang: Lang | None = None,
) -> Path:
    """Draw the components and RAROC across PDs — ``price(pd)`` prices one PD with the same
    parameters as ``quote`` — and mark ``quote``; save a PNG at ``path``."""
    used = chart_lang(lang)
    curve, pds = _curve(price)
    with matplotlib.rc_context(_rc(used)):
        return _save(_draw(used, quote, curve, pds), path)


def pricing_chart_png(
    quote: PriceQuote, price: Callable[[float], PriceQuote], *, lang: Lang | None = None
) -> bytes:
    """The same chart as PNG bytes (for an HTML page)."""
    used = chart_lang(lang)
    curve, pds = _curve(price)
    with matplotlib.rc_context(_rc(used)):
        return png_bytes(_draw(used, quote, curve, pds))


__all__ = ["pricing_chart", "pricing_chart_png"]
