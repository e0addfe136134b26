"""PNG charts of the cross-check evaluation (交叉检验评估图表).

:func:`cross_check_chart` draws what ``xiaowei analyse cross-checks`` prints: the verdict counts
per check (pass 通过 / explain 需解释 / fail 不通过) and, with the simulator's truth, the recall of
each lending method by manipulation kind next to its false-alarm rate, and the confusion
summary of the combined check. Same conventions as :mod:`xiaowei.reports.charts`: a bare
:class:`~matplotlib.figure.Figure` on the Agg canvas, labels in ``en`` or ``zh-CN`` (English
when no CJK font is installed).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from xiaowei.core.i18n import Lang
from xiaowei.reports.charts import _rc, _save, chart_lang

_TEXT: dict[str, tuple[str, str]] = {
    "title": ("IPC cross-checks on {files} files", "IPC交叉检验：{files} 份调查报表"),
    "title_truth": (
        "IPC cross-checks on {files} files, scored against the simulator's truth (alarm: {alarm})",
        "IPC交叉检验：{files} 份调查报表，对照模拟真值评估（报警：{alarm}）",
    ),
    "verdicts": ("Verdicts per check", "各检验的结论"),
    "files_axis": ("Files", "报表数"),
    "pass": ("pass", "通过"),
    "explain": ("explain", "需解释"),
    "fail": ("fail", "不通过"),
    "no_source": ("no source", "无来源"),
    "equity": ("equity", "权益检验"),
    "sales": ("sales", "销售额检验"),
    "combined": ("combined", "综合"),
    "traditional": ("traditional (trust the file)", "传统信贷（采信申报）"),
    "either": ("either check", "任一检验"),
    "recall": (
        "Share of files alarmed: recall by kind, false alarms on honest files",
        "报警比例：各类造假的召回率，诚实报表的误报率",
    ),
    "share_axis": ("Share alarmed", "报警比例"),
    "false_alarms": ("false alarms\n(honest)", "误报率\n（诚实）"),
    "any": ("all manipulated", "全部造假"),
    "inflated_sales": ("inflated sales", "虚增销售"),
    "inflated_assets": ("inflated assets", "虚增资产"),
    "hidden_debt": ("hidden debt", "隐瞒负债"),
    "inflated_margin": ("inflated margin", "虚增毛利"),
    "confusion": ("Either check: confusion", "任一检验：混淆矩阵"),
    "manipulated": ("manipulated", "造假"),
    "honest": ("honest", "诚实"),
    "alarm": ("alarm", "报警"),
    "no_alarm": ("no alarm", "未报警"),
    "fail_only": ("fail", "不通过"),
    "explain_or_fail": ("explain or fail", "需解释或不通过"),
}

_VERDICT_COLOURS = {"pass": "C2", "explain": "C1", "fail": "C3", "no_source": "0.7"}
_METHOD_COLOURS = {"traditional": "0.6", "equity": "C0", "sales": "C4", "either": "C3"}


def text(key: str, lang: Lang) -> str:
    """The chart label ``key`` in ``lang`` (the key itself when unknown: a new truth kind)."""
    pair = _TEXT.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "zh-CN" else pair[0]


def _verdict_axes(ax: Axes, counts: pl.DataFrame, lang: Lang) -> None:
    checks = counts["check"].to_list()
    bottom = [0.0] * len(checks)
    for verdict in ("pass", "explain", "fail", "no_source"):
        values = [float(v) for v in counts[verdict].to_list()]
        if not any(values):
            continue
        bars = ax.bar(
            [text(c, lang) for c in checks],
            values,
            bottom=bottom,
            color=_VERDICT_COLOURS[verdict],
            label=text(verdict, lang),
        )
        ax.bar_label(
            bars, labels=[f"{v:.0f}" if v else "" for v in values], label_type="center", fontsize=8
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel(text("files_axis", lang), fontsize=9)
    ax.set_title(text("verdicts", lang), fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=4)
    ax.grid(visible=False, axis="x")


def _recall_axes(ax: Axes, by_kind: pl.DataFrame, lang: Lang) -> None:
    kinds = list(dict.fromkeys(by_kind["kind"].to_list()))
    methods = list(dict.fromkeys(by_kind["method"].to_list()))
    groups = [*kinds, "false_alarms"]
    width = 0.8 / len(methods)
    for m, method in enumerate(methods):
        part = by_kind.filter(pl.col("method") == method)
        recall = {r["kind"]: r["recall"] for r in part.iter_rows(named=True)}
        values = [float(recall[k] or 0.0) for k in kinds]
        values.append(float(part["false_alarm_rate"][0] or 0.0))
        xs = [g + (m - (len(methods) - 1) / 2) * width for g in range(len(groups))]
        bars = ax.bar(
            xs, values, width=width, color=_METHOD_COLOURS.get(method), label=text(method, lang)
        )
        ax.bar_label(bars, labels=[f"{v:.0%}" for v in values], fontsize=6, padding=1)
    ax.set_xticks(range(len(groups)), [text(g, lang) for g in groups], fontsize=8)
    ax.set_ylim(0, 1.12)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel(text("share_axis", lang), fontsize=9)
    ax.set_title(text("recall", lang), fontsize=10)
    ax.legend(fontsize=7, loc="upper right", ncols=2)
    ax.grid(visible=False, axis="x")


def _confusion_axes(ax: Axes, confusion: pl.DataFrame, lang: Lang) -> None:
    row = confusion.filter(pl.col("method") == "either").row(0, named=True)
    cells = [
        [row["manipulated_alarmed"], row["manipulated_missed"]],
        [row["honest_alarmed"], row["honest_passed"]],
    ]
    shares = [[c / max(sum(line), 1) for c in line] for line in cells]
    ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    for i, line in enumerate(cells):
        for j, count in enumerate(line):
            share = shares[i][j]
            ax.text(
                j,
                i,
                f"{count}\n{share:.0%}",
                ha="center",
                va="center",
                fontsize=10,
                color="white" if share > 0.6 else "black",
            )
    ax.set_xticks([0, 1], [text("alarm", lang), text("no_alarm", lang)], fontsize=9)
    ax.set_yticks([0, 1], [text("manipulated", lang), text("honest", lang)], fontsize=9)
    ax.grid(visible=False)
    ax.set_title(text("confusion", lang), fontsize=10)


def cross_check_chart(
    counts: pl.DataFrame,
    path: str | os.PathLike[str],
    *,
    by_kind: pl.DataFrame | None = None,
    confusion: pl.DataFrame | None = None,
    alarm_at: str = "fail",
    lang: Lang | None = None,
) -> Path:
    """The verdict counts (``counts``: :func:`xiaowei.services.cross_check_eval.verdict_counts`)
    and, when given the evaluation's ``by_kind`` and ``confusion`` frames, the recall by
    kind and method with the false-alarm rates, and the combined check's confusion summary;
    saved as PNG at ``path``."""
    if counts.height == 0:
        raise ValueError("no verdicts to chart")
    if (by_kind is None) != (confusion is None):
        raise ValueError("give both by_kind and confusion, or neither")
    used = chart_lang(lang)
    files = int(counts["files"][0])
    with matplotlib.rc_context(_rc(used)):
        if by_kind is None or confusion is None:
            figure = Figure(figsize=(6.0, 4.5), layout="constrained")
            _verdict_axes(figure.subplots(), counts, used)
            figure.suptitle(text("title", used).format(files=files), fontsize=12)
            return _save(figure, path)
        figure = Figure(figsize=(15.0, 5.0), layout="constrained")
        left, middle, right = figure.subplots(1, 3, gridspec_kw={"width_ratios": [1.0, 2.4, 1.1]})
        _verdict_axes(left, counts, used)
        _recall_axes(middle, by_kind, used)
        _confusion_axes(right, confusion, used)
        alarm = text("fail_only" if alarm_at == "fail" else "explain_or_fail", used)
        figure.suptitle(text("title_truth", used).format(files=files, alarm=alarm), fontsize=12)
        return _save(figure, path)
