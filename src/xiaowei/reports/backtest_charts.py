"""PNG charts of a strategy back-test (策略回测图表): the cut-off curve and the swap set.

Same conventions as :mod:`xiaowei.reports.charts`: a bare :class:`~matplotlib.figure.Figure` on
the Agg canvas (no pyplot), labels in ``en`` or ``zh-CN`` (English when no CJK font is
installed, :func:`~xiaowei.reports.charts.chart_lang`).

The left panel is the cut-off curve (审批阈值曲线): approve every application the policy passes
whose PD is at most a cut-off, and move the cut-off — the approval rate rises and so does the
bad rate (observed, and expected as the mean PD). Each strategy is a point (its approval rate
and the observed bad rate of its approved book, else the expected one): a strategy below the
curve does better than a plain cut-off. The right panel is the swap set (换入换出): how many
applications each cell holds, with the observed bad rate on each bar.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from xiaowei.core.i18n import Lang
from xiaowei.decision.backtest import SWAP_CELLS, BacktestReport, StrategyResult
from xiaowei.reports.charts import _rc, _save, chart_lang, png_bytes
from xiaowei.reports.page import pick

_TEXT: dict[str, tuple[str, str]] = {
    "title": ("Strategy back-test", "策略回测"),
    "curve": (
        "Cut-off curve (policy passes, PD ≤ cut-off)",
        "审批阈值曲线（通过政策规则且PD≤阈值）",
    ),
    "approval": ("Approval rate", "通过率"),
    "bad_rate": ("Bad rate", "坏账率"),
    "observed": ("observed bad rate", "实际坏账率"),
    "expected": ("expected bad rate (mean PD)", "预期坏账率（平均PD）"),
    "swap": ("Swap set: applications (observed bad rate)", "换入换出：申请数（实际坏账率）"),
    "applications": ("Applications", "申请数"),
    "kept_in": ("kept in", "保留通过"),
    "swap_in": ("swap-in", "换入"),
    "swap_out": ("swap-out", "换出"),
    "kept_out": ("kept out", "保留拒绝"),
    "no_current": ("no current strategy given", "未指定现行策略"),
}
_COLOURS = {"kept_in": "C2", "swap_in": "C0", "swap_out": "C3", "kept_out": "0.6"}


def text(key: str, lang: Lang) -> str:
    """The chart label ``key`` in ``lang``."""
    return pick(_TEXT[key], lang)


def _point(result: StrategyResult) -> tuple[float, float] | None:
    book = result.book
    bad = book.observed_bad_rate if book.observed_bad_rate is not None else book.expected_bad_rate
    if book.approval_rate is None or bad is None:
        return None
    return book.approval_rate, bad


def _draw(report: BacktestReport, lang: Lang) -> Figure:
    figure = Figure(figsize=(12.0, 5.0), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=(1.3, 1.0))

    curve = report.curve
    xs = [p.approval_rate for p in curve]
    observed = [(p.approval_rate, p.observed_bad_rate) for p in curve]
    shown = [(x, y) for x, y in observed if y is not None]
    if shown:
        left.plot(
            [x for x, _ in shown], [y for _, y in shown], color="C3", label=text("observed", lang)
        )
    left.plot(
        xs,
        [p.expected_bad_rate for p in curve],
        color="C0",
        linestyle="--",
        label=text("expected", lang),
    )
    for result, marker in ((report.candidate, "o"), (report.current, "s")):
        if result is None:
            continue
        point = _point(result)
        if point is None:
            continue
        left.scatter(*point, s=70, marker=marker, color="black", zorder=4)
        left.annotate(result.key, point, textcoords="offset points", xytext=(6, 6), fontsize=8.5)
    left.set_xlim(left=0)
    left.set_ylim(bottom=0)
    left.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    left.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=1))
    left.set_xlabel(text("approval", lang))
    left.set_ylabel(text("bad_rate", lang))
    left.set_title(text("curve", lang), fontsize=10)
    left.legend(fontsize=8, loc="upper left")

    right.set_title(text("swap", lang), fontsize=10)
    if report.swap is None:
        right.text(0.5, 0.5, text("no_current", lang), ha="center", va="center")
        right.set_axis_off()
    else:
        cells = [report.swap[name] for name in SWAP_CELLS]
        positions = range(len(cells))
        bars = right.bar(
            positions,
            [c.applications for c in cells],
            color=[_COLOURS[name] for name in SWAP_CELLS],
        )
        for bar, cell in zip(bars, cells, strict=True):
            rate = cell.observed_bad_rate
            label = "–" if rate is None else f"{rate:.1%}"
            right.annotate(
                label,
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                textcoords="offset points",
                xytext=(0, 3),
                ha="center",
                fontsize=9,
            )
        right.set_xticks(list(positions), [text(name, lang) for name in SWAP_CELLS])
        right.set_ylabel(text("applications", lang))
        right.grid(visible=False, axis="x")
        right.margins(y=0.12)
    figure.suptitle(
        f"{text('title', lang)}: {report.candidate.key}"
        + ("" if report.current is None else f" / {report.current.key}"),
        fontsize=12,
    )
    return figure


def backtest_chart(
    report: BacktestReport, path: str | os.PathLike[str], *, lang: Lang | None = None
) -> Path:
    """Draw the cut-off curve and the swap set of ``report``; save a PNG at ``path``."""
    used = chart_lang(lang)
    with matplotlib.rc_context(_rc(used)):
        return _save(_draw(report, used), path)


def backtest_chart_png(report: BacktestReport, *, lang: Lang | None = None) -> bytes:
    """The same chart as PNG bytes (for an HTML page)."""
    used = chart_lang(lang)
    with matplotlib.rc_context(_rc(used)):
        return png_bytes(_draw(report, used))


__all__ = ["backtest_chart", "backtest_chart_png", "text"]
