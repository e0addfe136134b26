"""PNG charts of score validation and monitoring (评分模型验证与监控图表).

ROC curve (ROC曲线), KS plot (KS曲线), score distributions by outcome (好坏客户分数分布),
calibration by grade or decile (校准图), gains and lift (增益与提升图), PSI bars (PSI分箱对比) and
binning tables (分箱图: share of rows and event rate per bin), drawn from
:mod:`xiaowei.scoring.metrics` and :mod:`xiaowei.scoring.monitoring`.

Same conventions as :mod:`xiaowei.reports.charts`: a bare :class:`~matplotlib.figure.Figure` on
the Agg canvas (no pyplot), labels in ``en`` or ``zh-CN`` (English when no CJK font is installed,
:func:`~xiaowei.reports.charts.chart_lang`). Each chart has one drawing function and two
forms made from it (:func:`_chart_forms`): ``*_chart(..., path)`` saves a PNG and returns its path;
``*_chart_png(...)`` returns the PNG bytes for the HTML report.
The target is 1 = bad; a score is higher = riskier unless ``higher_is_riskier=False`` (points).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import matplotlib
import numpy as np
import numpy.typing as npt
import polars as pl
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from xiaowei.core.errors import InvalidInput
from xiaowei.core.i18n import Lang
from xiaowei.reports.charts import _rc, _save, chart_lang, png_bytes
from xiaowei.scoring import metrics, monitoring

_TEXT: dict[str, tuple[str, str]] = {
    "roc_title": ("ROC curve", "ROC曲线"),
    "fpr": ("Share of goods flagged (false positive rate)", "好客户误拒比例（假正率）"),
    "tpr": ("Share of bads caught (true positive rate)", "坏客户识别比例（真正率）"),
    "random": ("random", "随机"),
    "auc_gini": (
        "{label}AUC {auc:.3f} · Gini {gini:.3f}",
        "{label}AUC {auc:.3f} · 基尼 {gini:.3f}",
    ),
    "ks_title": (
        "KS: cumulative share of bads and goods by score",
        "KS曲线：按分数累计的坏、好客户占比",
    ),
    "score": ("Score", "分数"),
    "cum_share": ("Cumulative share (score ≤ x)", "累计占比（分数 ≤ x）"),
    "bads": ("bads", "坏客户"),
    "goods": ("goods", "好客户"),
    "ks_at": ("KS {ks:.3f} at {score:.4g}", "KS {ks:.3f}，分数 {score:.4g}"),
    "dist_title": ("Score distribution by outcome", "好坏客户的分数分布"),
    "density": ("Density", "密度"),
    "count_label": ("{what} (n = {n:,})", "{what}（{n:,} 户）"),
    "cal_title": (
        "Calibration: predicted PD vs observed default rate",
        "校准：预测违约概率与实际违约率",
    ),
    "grade": ("Grade", "评级"),
    "decile": ("PD decile (1 = lowest PD)", "违约概率十分位（1 = 最低）"),
    "rate": ("Default rate", "违约率"),
    "predicted": ("mean predicted PD", "平均预测违约概率"),
    "observed": (
        "observed default rate ({conf:.0%} interval)",
        "实际违约率（{conf:.0%} 置信区间）",
    ),
    "gains_title": ("Gains and lift by decile", "十分位增益与提升度"),
    "gains_panel": ("Cumulative gains", "累计增益"),
    "lift_panel": ("Lift by decile (riskiest first)", "各十分位提升度（风险最高在前）"),
    "population": ("Share of applicants, riskiest first", "客户占比（风险最高在前）"),
    "captured": ("Share of bads captured", "坏客户捕获率"),
    "model": ("model", "模型"),
    "perfect": ("perfect", "完美模型"),
    "decile_axis": ("Decile", "十分位"),
    "lift": ("lift", "提升度"),
    "cum_lift": ("cumulative lift", "累计提升度"),
    "psi_title": (
        "Population stability: PSI {psi:.3f} ({light})",
        "群体稳定性：PSI {psi:.3f}（{light}）",
    ),
    "bin": ("Bin", "分箱"),
    "share": ("Share of sample", "样本占比"),
    "reference": ("reference", "基准样本"),
    "current": ("current", "当前样本"),
    "green": ("green: stable", "绿灯：稳定"),
    "yellow": ("yellow: investigate", "黄灯：需关注"),
    "red": ("red: major shift", "红灯：显著变化"),
    "binning_title": (
        "Bins: share of rows and event rate",
        "分箱：各箱样本占比与违约率",
    ),
    "event_rate": ("Event rate (share of bads)", "违约率（坏客户占比）"),
    "rows_share": ("share of rows", "样本占比"),
    "missing_bin": ("missing", "缺失"),
    "special_bin": ("special", "特殊值"),
}

# ROC and KS curves have one point per distinct score; beyond this many the line is thinned to
# evenly spaced points (plus the KS maximum) — invisible at the PNG's resolution.
MAX_CURVE_POINTS = 4_000


def text(key: str, lang: Lang) -> str:
    """The chart label ``key`` in ``lang``."""
    en, zh = _TEXT[key]
    return zh if lang == "zh-CN" else en


_T = TypeVar("_T")
_DATA = inspect.Parameter.POSITIONAL_OR_KEYWORD
_OPTION = inspect.Parameter.KEYWORD_ONLY


def _chart_forms(
    name: str, draw: Callable[..., Figure]
) -> tuple[Callable[..., Path], Callable[..., bytes]]:
    """The two forms of one chart, made from its drawing function
    ``draw(*data, lang, **options) -> Figure`` (its docstring is the chart's):

    * ``name(*data, path, *, lang=None, **options) -> Path`` saves the PNG at ``path``;
    * ``name_png(*data, *, lang=None, **options) -> bytes`` returns the PNG bytes.

    Both take ``draw``'s parameters and defaults (their signatures say so), draw in the language
    the charts use (:func:`~xiaowei.reports.charts.chart_lang`: English without a CJK font) and
    draw and save inside that language's matplotlib settings (fonts, dpi).
    """
    parameters = list(inspect.signature(draw).parameters.values())
    data = [p for p in parameters if p.kind is _DATA]
    options = [
        p.replace(default=None, annotation="Lang | None") if p.name == "lang" else p
        for p in parameters
        if p.kind is _OPTION
    ]
    path = inspect.Parameter("path", _DATA, annotation="str | os.PathLike[str]")
    to_path_signature = inspect.Signature([*data, path, *options], return_annotation="Path")
    to_png_signature = inspect.Signature([*data, *options], return_annotation="bytes")

    def render(arguments: dict[str, Any], finish: Callable[[Figure], _T]) -> _T:
        used = chart_lang(arguments.pop("lang"))
        with matplotlib.rc_context(_rc(used)):
            return finish(draw(lang=used, **arguments))

    def to_path(*args: Any, **kwargs: Any) -> Path:
        arguments = _arguments(to_path_signature, args, kwargs)
        target = arguments.pop("path")
        return render(arguments, lambda figure: _save(figure, target))

    def to_png(*args: Any, **kwargs: Any) -> bytes:
        return render(_arguments(to_png_signature, args, kwargs), png_bytes)

    forms: tuple[tuple[Callable[..., Any], str, inspect.Signature, str | None], ...] = (
        (to_path, name, to_path_signature, draw.__doc__),
        (to_png, f"{name}_png", to_png_signature, f":func:`{name}` as PNG bytes."),
    )
    for function, form_name, signature, doc in forms:
        function.__name__ = function.__qualname__ = form_name
        function.__doc__ = doc
        function.__module__ = draw.__module__
        setattr(function, "__signature__", signature)  # noqa: B010 - help() and inspect read it
    return to_path, to_png


def _arguments(
    signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The call's arguments by name, defaults filled in (a wrong call raises TypeError)."""
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def _titled(figure: Figure, heading: str, title: str) -> Figure:
    """The figure with its heading, and the caller's ``title`` (a sample's name) beneath."""
    figure.suptitle(f"{heading}\n{title}" if title else heading, fontsize=12)
    return figure


def _thin(size: int, *, keep: Sequence[int] = ()) -> npt.NDArray[np.intp]:
    """Indices of at most ~MAX_CURVE_POINTS evenly spaced points, first, last and ``keep``."""
    if size <= MAX_CURVE_POINTS:
        return np.arange(size)
    spaced = np.linspace(0, size - 1, MAX_CURVE_POINTS).round().astype(np.intp)
    return np.unique(np.r_[spaced, np.asarray(keep, dtype=np.intp)])


# --------------------------------------------------------------------------- ROC


def _draw_roc(
    y: Any,
    score: Any,
    *,
    lang: Lang,
    higher_is_riskier: bool = True,
    label: str = "",
    compare: Mapping[str, tuple[Any, Any]] | None = None,
    title: str = "",
) -> Figure:
    """ROC curve with AUC and Gini in the legend, saved as PNG at ``path``.

    ``compare`` adds more samples as ``{label: (y, score)}`` (test, out-of-time) on the same axes.
    """
    samples = {label: (y, score), **dict(compare or {})}
    figure = Figure(figsize=(6.0, 5.6), layout="constrained")
    ax = figure.subplots()
    for index, (label, (y, score)) in enumerate(samples.items()):
        curve = metrics.roc_curve(y, score, higher_is_riskier=higher_is_riskier)
        area = metrics.auc(y, score, higher_is_riskier=higher_is_riskier)
        keep = _thin(curve.false_positive_rate.size)
        legend = text("auc_gini", lang).format(
            label=f"{label}: " if label else "", auc=area, gini=2 * area - 1
        )
        ax.plot(
            curve.false_positive_rate[keep],
            curve.true_positive_rate[keep],
            color=f"C{index}",
            linewidth=1.8,
            label=legend,
        )
    ax.plot([0, 1], [0, 1], linestyle=":", color="0.5", label=text("random", lang))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_aspect("equal")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(text("fpr", lang), fontsize=9)
    ax.set_ylabel(text("tpr", lang), fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    return _titled(figure, text("roc_title", lang), title)


roc_chart, roc_chart_png = _chart_forms("roc_chart", _draw_roc)


# --------------------------------------------------------------------------- KS


def _draw_ks(y: Any, score: Any, *, lang: Lang, title: str = "") -> Figure:
    """KS plot: cumulative share of bads and of goods at or below each score, with the KS gap
    marked at the score where it is largest; saved as PNG at ``path``."""
    curve = metrics.ks_curve(y, score)
    result = metrics.ks(y, score)
    at = int(np.searchsorted(curve.scores, result.score))
    keep = _thin(curve.scores.size, keep=[at])
    figure = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = figure.subplots()
    ax.step(
        curve.scores[keep],
        curve.bad_share[keep],
        where="post",
        color="C3",
        label=text("bads", lang),
    )
    ax.step(
        curve.scores[keep],
        curve.good_share[keep],
        where="post",
        color="C0",
        label=text("goods", lang),
    )
    ax.vlines(
        result.score,
        min(result.bad_share, result.good_share),
        max(result.bad_share, result.good_share),
        colors="k",
        linewidth=2.0,
        label=text("ks_at", lang).format(ks=result.statistic, score=result.score),
    )
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(text("score", lang), fontsize=9)
    ax.set_ylabel(text("cum_share", lang), fontsize=9)
    ax.legend(fontsize=8, loc="best")
    return _titled(figure, text("ks_title", lang), title)


ks_chart, ks_chart_png = _chart_forms("ks_chart", _draw_ks)


# --------------------------------------------------------------------------- distributions


def _draw_distribution(
    y: Any, score: Any, *, lang: Lang, bins: int = 30, title: str = ""
) -> Figure:
    """Histograms (as densities, shared bin edges) of the goods' and the bads' scores, saved as
    PNG at ``path``."""
    target, values = metrics.validated_sample(y, score)
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise InvalidInput("bins", f"must be a positive integer, got {bins!r}")
    edges = np.histogram_bin_edges(values, bins=bins)
    figure = Figure(figsize=(7.5, 4.6), layout="constrained")
    ax = figure.subplots()
    for outcome, key, colour in ((0.0, "goods", "C0"), (1.0, "bads", "C3")):
        part = values[target == outcome]
        ax.hist(
            part,
            bins=edges.tolist(),
            density=True,
            histtype="stepfilled",
            alpha=0.4,
            color=colour,
            edgecolor=colour,
            linewidth=1.2,
            label=text("count_label", lang).format(what=text(key, lang), n=part.size),
        )
    ax.set_xlabel(text("score", lang), fontsize=9)
    ax.set_ylabel(text("density", lang), fontsize=9)
    ax.legend(fontsize=8)
    return _titled(figure, text("dist_title", lang), title)


score_distribution_chart, score_distribution_chart_png = _chart_forms(
    "score_distribution_chart", _draw_distribution
)


# --------------------------------------------------------------------------- calibration


def _draw_calibration(
    y: Any,
    pd: Any,
    *,
    grade: Any = None,
    groups: int = 10,
    confidence: float = 0.95,
    lang: Lang,
    title: str = "",
) -> Figure:
    """Mean predicted PD and observed default rate (with its Clopper–Pearson interval) per grade
    (``grade=``) or per PD decile, saved as PNG at ``path``
    (:func:`xiaowei.scoring.metrics.calibration_table`)."""
    table = metrics.calibration_table(y, pd, grade=grade, groups=groups, confidence=confidence)
    positions = np.arange(table.height)
    observed = table["default_rate"].to_numpy()
    below = observed - table["lower"].to_numpy()
    above = table["upper"].to_numpy() - observed
    figure = Figure(figsize=(max(6.0, 0.6 * table.height + 3), 4.6), layout="constrained")
    ax = figure.subplots()
    ax.plot(
        positions,
        table["mean_pd"].to_numpy(),
        marker="s",
        color="C0",
        label=text("predicted", lang),
    )
    ax.errorbar(
        positions,
        observed,
        yerr=np.vstack([np.maximum(below, 0.0), np.maximum(above, 0.0)]),
        fmt="o",
        color="C3",
        capsize=3,
        label=text("observed", lang).format(conf=confidence),
    )
    ax.set_xticks(positions, [str(g) for g in table["group"].to_list()], fontsize=8)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(text("grade" if grade is not None else "decile", lang), fontsize=9)
    ax.set_ylabel(text("rate", lang), fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    return _titled(figure, text("cal_title", lang), title)


calibration_chart, calibration_chart_png = _chart_forms("calibration_chart", _draw_calibration)


# --------------------------------------------------------------------------- gains and lift


def _draw_gains(
    y: Any,
    score: Any,
    *,
    groups: int = 10,
    higher_is_riskier: bool = True,
    lang: Lang,
    title: str = "",
) -> Figure:
    """Cumulative gains curve (share of bads captured by the riskiest x % of applicants, with the
    random and perfect lines) and lift per decile, saved as PNG at ``path``."""
    table = metrics.gains_table(y, score, groups=groups, higher_is_riskier=higher_is_riskier)
    bad_rate = float(table["bads"].sum()) / float(table["count"].sum())
    figure = Figure(figsize=(11.0, 4.6), layout="constrained")
    gains, lift = figure.subplots(1, 2)
    population = np.r_[0.0, table["cum_count_share"].to_numpy()]
    captured = np.r_[0.0, table["cum_bad_capture"].to_numpy()]
    gains.plot(population, captured, marker="o", color="C3", label=text("model", lang))
    gains.plot([0, bad_rate, 1], [0, 1, 1], linestyle="--", color="C2", label=text("perfect", lang))
    gains.plot([0, 1], [0, 1], linestyle=":", color="0.5", label=text("random", lang))
    gains.set_xlim(0, 1)
    gains.set_ylim(0, 1.02)
    gains.xaxis.set_major_formatter(PercentFormatter(1.0))
    gains.yaxis.set_major_formatter(PercentFormatter(1.0))
    gains.set_xlabel(text("population", lang), fontsize=9)
    gains.set_ylabel(text("captured", lang), fontsize=9)
    gains.set_title(text("gains_panel", lang), fontsize=10)
    gains.legend(fontsize=8, loc="lower right")
    deciles = table["decile"].to_numpy()
    lift.bar(deciles, table["lift"].to_numpy(), color="C3", alpha=0.6, label=text("lift", lang))
    lift.plot(
        deciles, table["cum_lift"].to_numpy(), marker="o", color="k", label=text("cum_lift", lang)
    )
    lift.axhline(1.0, color="0.5", linestyle=":")
    lift.set_xticks(deciles)
    lift.set_xlabel(text("decile_axis", lang), fontsize=9)
    lift.set_title(text("lift_panel", lang), fontsize=10)
    lift.legend(fontsize=8)
    lift.grid(visible=False, axis="x")
    return _titled(figure, text("gains_title", lang), title)


gains_chart, gains_chart_png = _chart_forms("gains_chart", _draw_gains)


# --------------------------------------------------------------------------- PSI


def _psi_table(
    reference: Any, current: Any, *, bins: int | Sequence[float], epsilon: float
) -> pl.DataFrame:
    if isinstance(reference, pl.Series):
        return monitoring.feature_psi_table(
            reference, pl.Series(current), bins=bins, epsilon=epsilon
        )
    return monitoring.psi_table(reference, current, bins=bins, epsilon=epsilon)


def _short_labels(table: pl.DataFrame) -> list[str]:
    """Bin labels with 4 significant digits for the axis (the table keeps 6)."""
    return [
        label if low is None or np.isnan(low) else f"[{low:.4g}, {high:.4g})"
        for label, low, high in table.select("bin", "lower", "upper").iter_rows()
    ]


def _draw_psi(
    reference: Any,
    current: Any,
    *,
    bins: int | Sequence[float] = 10,
    epsilon: float = monitoring.PSI_EPSILON,
    yellow: float = monitoring.PSI_YELLOW,
    red: float = monitoring.PSI_RED,
    lang: Lang,
    title: str = "",
) -> Figure:
    """Reference vs current share per bin, with the PSI and its traffic light in the title,
    saved as PNG at ``path``. A Polars Series is binned like a CSI feature
    (:func:`xiaowei.scoring.monitoring.feature_psi_table`: levels if not numeric, missing values
    a bin); anything else like a score (:func:`~xiaowei.scoring.monitoring.psi_table`)."""
    table = _psi_table(reference, current, bins=bins, epsilon=epsilon)
    value = float(table["psi"].sum())
    light = monitoring.stability_light(value, yellow=yellow, red=red)
    positions = np.arange(table.height)
    figure = Figure(figsize=(max(7.0, 0.7 * table.height + 3), 4.8), layout="constrained")
    ax = figure.subplots()
    width = 0.4
    ax.bar(
        positions - width / 2,
        table["reference_share"].to_numpy(),
        width,
        color="0.6",
        label=text("reference", lang),
    )
    ax.bar(
        positions + width / 2,
        table["current_share"].to_numpy(),
        width,
        color={"green": "C2", "yellow": "C1", "red": "C3"}[light],
        label=text("current", lang),
    )
    ax.set_xticks(positions, _short_labels(table), rotation=35, ha="right", fontsize=7)
    top = float(np.max(table.select("reference_share", "current_share").to_numpy()))
    ax.set_ylim(0, top * 1.2)  # headroom for the legend
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(text("bin", lang), fontsize=9)
    ax.set_ylabel(text("share", lang), fontsize=9)
    ax.grid(visible=False, axis="x")
    ax.legend(fontsize=8)
    return _titled(
        figure, text("psi_title", lang).format(psi=value, light=text(light, lang)), title
    )


psi_chart, psi_chart_png = _chart_forms("psi_chart", _draw_psi)


# --------------------------------------------------------------------------- binning

# Axis labels of bins longer than this are cut with an ellipsis (a categorical bin lists its
# levels; the table beside the chart keeps the whole label).
MAX_BIN_LABEL = 18
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _bin_axis_label(label: str, lang: Lang) -> str:
    """A bin label for the axis: numbers to 4 significant digits, "missing"/"special" in
    ``lang``, cut to :data:`MAX_BIN_LABEL` characters."""
    if label == "missing":
        return text("missing_bin", lang)
    if label.startswith("special "):
        label = f"{text('special_bin', lang)} {label.removeprefix('special ')}"
    if label.startswith(("(", "[")) and label.endswith(")"):
        label = _NUMBER.sub(lambda m: f"{float(m.group()):.4g}", label)
    if len(label) > MAX_BIN_LABEL:
        label = label[: MAX_BIN_LABEL - 1].rstrip(", ") + "…"
    return label


def _draw_binning(table: pl.DataFrame, *, lang: Lang, title: str = "") -> Figure:
    """A binning table (:meth:`NumericBinner.binning_table
    <xiaowei.scoring.binning.NumericBinner.binning_table>` or
    :func:`xiaowei.scoring.tables.bin_tables`) as bars of the share of rows per bin (special and
    missing bins in grey) and the event rate on a second axis, saved as PNG at ``path``."""
    absent = [c for c in ("label", "share", "event_rate") if c not in table.columns]
    if absent:
        raise InvalidInput("table", f"a binning table needs the columns {absent}")
    if table.height == 0:
        raise InvalidInput("table", "no bins")
    positions = np.arange(table.height)
    share = table["share"].cast(pl.Float64).to_numpy()
    rate = table["event_rate"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    kinds = table["kind"].to_list() if "kind" in table.columns else ["regular"] * table.height
    figure = Figure(figsize=(max(6.5, 0.75 * table.height + 2.5), 4.4), layout="constrained")
    ax = figure.subplots()
    ax.bar(
        positions,
        share,
        0.65,
        color=["C0" if kind == "regular" else "0.65" for kind in kinds],
        label=text("rows_share", lang),
    )
    ax.set_ylim(0, max(float(np.max(share)), 0.01) * 1.25)  # headroom for the legend
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel(text("share", lang), fontsize=9)
    ax.set_xlabel(text("bin", lang), fontsize=9)
    labels = [_bin_axis_label(str(label), lang) for label in table["label"].to_list()]
    ax.set_xticks(positions, labels, rotation=30, ha="right", fontsize=7)
    ax.grid(visible=False, axis="x")
    rate_axis = ax.twinx()
    seen = ~np.isnan(rate)  # an empty bin has no event rate: no point, and no line through it
    rate_axis.plot(
        positions[seen], rate[seen], marker="o", color="C3", label=text("event_rate", lang)
    )
    top = float(np.max(rate[seen])) if seen.any() else 0.0
    rate_axis.set_ylim(0, max(top, 0.01) * 1.25)
    rate_axis.yaxis.set_major_formatter(PercentFormatter(1.0))
    rate_axis.set_ylabel(text("event_rate", lang), fontsize=9, color="C3")
    rate_axis.grid(visible=False)
    handles = ax.get_legend_handles_labels()
    more = rate_axis.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], fontsize=8, loc="upper left")
    return _titled(figure, text("binning_title", lang), title)


binning_chart, binning_chart_png = _chart_forms("binning_chart", _draw_binning)
