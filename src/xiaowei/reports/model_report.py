"""The model report (模型报告): one self-contained HTML file for a credit committee or a validator.

:func:`model_report_html` describes a fitted :class:`~xiaowei.scoring.scorecard.Scorecard` or
:class:`~xiaowei.scoring.gbm.GradientBoosting` with its artefact manifest
(``adapters/model_artefact.py``) on one or more samples — the first is the development
(training) sample, the reference of stability; then e.g. the holdout and the out-of-time sample:

1. model identity (name, version, kind, created, training-data hash, libraries);
2. data summary per sample (rows, bads, bad rate, period when the frame has
   ``application_date``) and the missing share of every model feature;
3. features: coefficient, IV and range of points (scorecard) or gain importance and monotone
   constraint (LightGBM);
4. the binning table of every feature on the development sample, with its chart (the
   scorecard's points column is the scorecard itself, 评分卡分值);
5. performance per sample — AUC, Gini, KS and where it occurs, Brier, Hosmer–Lemeshow — with
   the ROC curves of every sample on one chart, and the KS plot, score distributions by
   outcome and gains/lift of the last sample;
6. calibration by grade of the master scale on the last sample (one-sided binomial test per
   grade with its traffic light, calibration chart);
7. stability: PSI of the score (scorecard points, or the PD of a LightGBM model) of each later
   sample against the first, and CSI of every feature on the model's own bins, with traffic
   lights; the PSI chart of the last sample.

The ranking metrics use the model's score: the printed points for a scorecard (higher = safer),
the PD for LightGBM; calibration uses the PD the model hands the decision engine. Charts are
PNGs embedded as ``data:`` URIs (``reports/scoring_charts.py``): no network, no script, no
other file; the page prints on A4 like the credit memo. Text in ``zh-CN`` or ``en``; feature
names are shown as they are (feature labels are not yet available to reports).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from xiaowei.analysis.feature_labels import feature_label
from xiaowei.core.errors import InvalidInput
from xiaowei.core.i18n import Lang
from xiaowei.reports import scoring_charts
from xiaowei.reports.page import chart as _chart
from xiaowei.reports.page import environment
from xiaowei.reports.page import pick as _pick
from xiaowei.scoring import metrics, monitoring
from xiaowei.scoring.calibration import MasterScale
from xiaowei.scoring.gbm import GradientBoosting
from xiaowei.scoring.scorecard import Scorecard
from xiaowei.scoring.tables import bin_label_frame, bin_tables, information_values

__all__ = ["LANGS", "ReportSample", "model_report_html"]

LANGS: tuple[Lang, ...] = ("zh-CN", "en")
DATE_COLUMN = "application_date"
"""A sample frame with this column gets its period (first and last date) in the data summary."""

FloatArray = npt.NDArray[np.float64]
Model = Scorecard | GradientBoosting

# Report text in (English, Chinese).
_TEXT: dict[str, tuple[str, str]] = {
    "title": ("Model report", "模型报告"),
    "subtitle_scorecard": ("Scorecard validation and documentation", "评分卡模型验证与文档"),
    "subtitle_lightgbm": (
        "Gradient-boosting model validation and documentation",
        "梯度提升模型验证与文档",
    ),
    "sec_identity": ("Model identity", "模型信息"),
    "sec_data": ("Data summary", "数据概况"),
    "sec_features": ("Features", "入模变量"),
    "sec_bins_scorecard": ("Binning tables and scorecard points", "分箱表与评分卡分值"),
    "sec_bins_lightgbm": ("Binning tables", "分箱表"),
    "sec_performance": ("Performance", "模型表现"),
    "sec_calibration": ("Calibration by grade", "分级校准"),
    "sec_stability": ("Stability", "稳定性"),
    "name": ("Name", "模型名称"),
    "version": ("Version", "版本"),
    "kind": ("Kind", "模型类型"),
    "created": ("Created", "创建时间"),
    "n_features": ("Features", "入模变量数"),
    "target": ("Target (1 = bad)", "目标变量（1 = 坏客户）"),
    "training_rows": ("Training rows", "训练样本量"),
    "data_hash": ("Training-data SHA-256", "训练数据 SHA-256"),
    "libraries": ("Libraries", "依赖库版本"),
    "scaling": ("Points scale", "评分刻度"),
    "scaling_value": (
        "{base_score:g} points at odds {base_odds:g}:1 (good:bad), {pdo:g} points to double "
        "the odds",
        "基础分 {base_score:g}（好坏比 {base_odds:g}:1），翻倍分 PDO {pdo:g}",
    ),
    "intercept": ("Intercept", "截距"),
    "trees": ("Trees used", "使用树数"),
    "manifest_metrics": ("Metrics recorded at fit", "训练时记录的指标"),
    "samples": ("Samples", "样本"),
    "sample": ("Sample", "样本"),
    "rows": ("Rows", "样本量"),
    "bads": ("Bads", "坏客户数"),
    "bad_rate": ("Bad rate", "坏账率"),
    "period": ("Period", "时间范围"),
    "missing_share": ("Missing values by feature", "各变量缺失率"),
    "feature": ("Feature", "变量"),
    "coefficient": ("Coefficient", "回归系数"),
    "iv": ("IV", "IV值"),
    "iv_dev": ("IV (development)", "IV值（开发样本）"),
    "points_min": ("Fewest points", "最低分值"),
    "points_max": ("Most points", "最高分值"),
    "points_range": ("Range", "分值跨度"),
    "gain": ("Importance (gain)", "重要性（增益）"),
    "gain_share": ("Share of gain", "增益占比"),
    "monotone": ("Monotone constraint", "单调约束"),
    "mono_up": ("+1: risk rises with the value", "+1：数值越大风险越高"),
    "mono_down": ("−1: risk falls with the value", "−1：数值越大风险越低"),
    "mono_none": ("none", "无"),
    "bins_note": (
        "Counted on the development sample ({sample}); bins of the model; features by "
        "information value, highest first, with charts for the first {charts}.",
        "基于开发样本（{sample}）统计，分箱为模型分箱；变量按信息值从高到低排列，"
        "前 {charts} 个附图。",
    ),
    "bin": ("Bin", "分箱"),
    "count": ("Count", "样本数"),
    "share": ("Share", "占比"),
    "event_rate": ("Event rate", "违约率"),
    "woe": ("WOE", "WOE"),
    "points": ("Points", "分值"),
    "missing_bin": ("missing", "缺失"),
    "special_bin": ("special", "特殊值"),
    "auc": ("AUC", "AUC"),
    "gini": ("Gini", "基尼系数"),
    "ks": ("KS", "KS值"),
    "ks_at": ("KS at", "KS所在分数"),
    "brier": ("Brier", "Brier分数"),
    "hl": ("Hosmer–Lemeshow χ² (df)", "HL检验 χ²（自由度）"),
    "hl_p": ("HL p-value", "HL检验 p值"),
    "perf_note_scorecard": (
        "Ranking metrics on the scorecard points (higher = safer); Brier and Hosmer–Lemeshow "
        "on the calibrated PD.",
        "排序指标基于评分卡分数（分数越高越安全）；Brier分数与HL检验基于校准后的违约概率。",
    ),
    "perf_note_lightgbm": (
        "Every metric on the calibrated PD (higher = riskier).",
        "所有指标基于校准后的违约概率（越高风险越大）。",
    ),
    "roc": ("ROC curves of every sample", "各样本ROC曲线"),
    "charts_of": ("Charts of the sample {sample}", "样本 {sample} 的图表"),
    "gains_table": ("Gains by decile ({sample})", "十分位增益表（{sample}）"),
    "decile": ("Decile", "十分位"),
    "score_range": ("Score range", "分数区间"),
    "cum_capture": ("Bads captured (cumulative)", "累计坏客户捕获率"),
    "lift": ("Lift", "提升度"),
    "calibration_note": (
        "Sample {sample}; one-sided binomial test per grade: green p ≥ 5 %, yellow 0.1–5 %, "
        "red p < 0.1 % (Tasche 2003; BCBS WP 14, 2005).",
        "样本 {sample}；各评级单侧二项检验：p ≥ 5% 绿灯，0.1%–5% 黄灯，p < 0.1% 红灯"
        "（Tasche 2003；巴塞尔委员会 WP 14，2005）。",
    ),
    "grade": ("Grade", "评级"),
    "pd_range": ("PD range", "违约概率区间"),
    "defaults": ("Defaults", "违约数"),
    "default_rate": ("Default rate", "实际违约率"),
    "mean_pd": ("Mean PD", "平均预测违约概率"),
    "p_value": ("p-value", "p值"),
    "light": ("Light", "信号灯"),
    "psi_score": ("Score stability (PSI)", "分数稳定性（PSI）"),
    "psi_note_scorecard": (
        "PSI of the scorecard points of each sample against {reference}, on 10 quantile bins "
        "of {reference}; green < 0.10, yellow 0.10–0.25, red > 0.25 (Siddiqi 2006).",
        "各样本评分卡分数相对 {reference} 的PSI，按 {reference} 的十分位分箱；"
        "< 0.10 绿灯，0.10–0.25 黄灯，> 0.25 红灯（Siddiqi 2006）。",
    ),
    "psi_note_lightgbm": (
        "PSI of the PD of each sample against {reference}, on 10 quantile bins of {reference}; "
        "green < 0.10, yellow 0.10–0.25, red > 0.25 (Siddiqi 2006).",
        "各样本违约概率相对 {reference} 的PSI，按 {reference} 的十分位分箱；"
        "< 0.10 绿灯，0.10–0.25 黄灯，> 0.25 红灯（Siddiqi 2006）。",
    ),
    "csi": ("Feature stability (CSI, on the model's bins)", "变量稳定性（CSI，按模型分箱）"),
    "psi": ("PSI", "PSI"),
    "reference": ("Reference", "基准样本"),
    "no_later": (
        "Only one sample: stability needs a later sample to compare with the first.",
        "仅有一个样本：稳定性分析需要与首个样本比较的后续样本。",
    ),
    "green": ("green", "绿灯"),
    "yellow": ("yellow", "黄灯"),
    "red": ("red", "红灯"),
    "none": ("-", "-"),
    "footer": (
        "Generated by xiaowei from the model artefact and the samples given; every figure is "
        "recomputed from them.",
        "本报告由 xiaowei 根据模型文件与所给样本生成，所有数字均由其重新计算。",
    ),
}

_KINDS = {
    "scorecard": ("scorecard (WOE logistic regression)", "评分卡（WOE逻辑回归）"),
    "lightgbm": ("gradient boosting (LightGBM)", "梯度提升树（LightGBM）"),
}


@dataclass(frozen=True)
class ReportSample:
    """One sample the report describes (开发样本、测试样本、跨时间样本 …).

    ``name`` — ``"train"``, ``"test"``, ``"oot"`` (out-of-time) or any label; ``features`` —
    the model's input columns (it may hold more, e.g. ``application_date``); ``target`` — 0/1,
    1 = bad; ``pd`` — the calibrated PD per row (what the model gives the decision engine);
    ``score`` — the scorecard points (higher = safer), ``None`` for LightGBM (and for a
    scorecard, whose points are then computed from ``features``).
    """

    name: str
    features: pl.DataFrame
    target: np.ndarray
    pd: np.ndarray
    score: np.ndarray | None = None


@dataclass(frozen=True)
class _Checked:
    """A validated sample with the score the ranking metrics use (higher = riskier flag)."""

    name: str
    features: pl.DataFrame
    target: FloatArray
    pd: FloatArray
    score: FloatArray


# --------------------------------------------------------------------------- formatting


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _pct(value: float | None, digits: int = 1) -> str:
    return f"{value:.{digits}%}" if _finite(value) else "-"


def _pd(value: float | None) -> str:
    """A PD as a percentage with two decimals (0.03 % is the floor)."""
    return _pct(value, 2)


def _dec(value: float | None, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if _finite(value) else "-"


def _p_value(value: float | None) -> str:
    if not _finite(value):
        return "-"
    assert value is not None
    return "< 0.0001" if value < 1e-4 else f"{value:.4f}"


def _int(value: float | None) -> str:
    return f"{value:,.0f}" if _finite(value) else "-"


def _bin_label(label: str, lang: Lang) -> str:
    if label == "missing":
        return _pick(_TEXT["missing_bin"], lang)
    if label.startswith("special "):
        return f"{_pick(_TEXT['special_bin'], lang)} {label.removeprefix('special ')}"
    return label


# --------------------------------------------------------------------------- input


def _vector(values: Any, field: str, n_rows: int) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(field, f"not numeric: {exc}") from exc
    if array.ndim != 1 or array.shape[0] != n_rows:
        raise InvalidInput(field, f"needs one value per row ({n_rows}), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise InvalidInput(field, "missing or infinite value(s)")
    return array


def _check_samples(model: Model, samples: Sequence[ReportSample]) -> list[_Checked]:
    if not samples:
        raise InvalidInput("samples", "at least one sample (the development sample) is needed")
    names = [s.name for s in samples]
    if len(set(names)) != len(names):
        raise InvalidInput("samples", f"sample names must be distinct, got {names}")
    out: list[_Checked] = []
    for sample in samples:
        field = f"samples[{sample.name}]"
        frame = sample.features
        if not isinstance(frame, pl.DataFrame) or frame.height == 0:
            raise InvalidInput(field, "features must be a non-empty Polars DataFrame")
        absent = [f for f in model.features_ if f not in frame.columns]
        if absent:
            raise InvalidInput(field, f"missing model features: {absent[:5]}")
        target = _vector(sample.target, f"{field}.target", frame.height)
        if not np.isin(target, (0.0, 1.0)).all():
            raise InvalidInput(f"{field}.target", "must be 0 (good) / 1 (bad)")
        pd_ = _vector(sample.pd, f"{field}.pd", frame.height)
        if ((pd_ < 0.0) | (pd_ > 1.0)).any():
            raise InvalidInput(f"{field}.pd", "PDs must lie in [0, 1]")
        if isinstance(model, Scorecard):
            points = model.score(frame) if sample.score is None else sample.score
            score = _vector(points, f"{field}.score", frame.height)
        else:
            score = pd_
        out.append(_Checked(sample.name, frame, target, pd_, score))
    return out


# --------------------------------------------------------------------------- sections


def _identity(model: Model, manifest: Mapping[str, Any], lang: Lang) -> list[tuple[str, str]]:
    def t(key: str) -> str:
        return _pick(_TEXT[key], lang)

    kind = str(manifest.get("kind", "scorecard" if isinstance(model, Scorecard) else "lightgbm"))
    training = manifest.get("training_data") or {}
    libraries = manifest.get("libraries") or {}
    rows: list[tuple[str, str]] = [
        (t("name"), str(manifest.get("name", "-"))),
        (t("version"), str(manifest.get("version", "-"))),
        (t("kind"), _pick(_KINDS[kind], lang) if kind in _KINDS else kind),
        (t("created"), str(manifest.get("created", "-"))),
        (t("n_features"), str(len(model.features_))),
        (t("target"), str(manifest.get("target", "-"))),
        (t("training_rows"), _int(training.get("rows")) if training.get("rows") else "-"),
        (t("data_hash"), str(training.get("sha256", "-"))),
        (
            t("libraries"),
            ", ".join(f"{k} {v}" for k, v in libraries.items() if v) or "-",
        ),
    ]
    if isinstance(model, Scorecard):
        scale = t("scaling_value").format(
            base_score=float(model.base_score), base_odds=float(model.base_odds), pdo=model.pdo
        )
        rows += [(t("scaling"), scale), (t("intercept"), _dec(float(model.intercept_[0]), 4))]
    else:
        rows.append((t("trees"), str(model.best_iteration_)))
    return rows


def _manifest_metrics(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in dict(manifest.get("metrics") or {}).items():
        if isinstance(value, float):
            out.append((str(key), f"{value:.4f}"))
        elif isinstance(value, int | str):
            out.append((str(key), str(value)))
    return out


def _period(frame: pl.DataFrame) -> str:
    if DATE_COLUMN not in frame.columns:
        return "-"
    dates = frame.get_column(DATE_COLUMN).drop_nulls()
    if dates.len() == 0:
        return "-"
    first, last = dates.min(), dates.max()
    show = (lambda d: d.isoformat()) if hasattr(first, "isoformat") else str
    return f"{show(first)} – {show(last)}"


def _missing_share(frame: pl.DataFrame, feature: str) -> float:
    """Share of rows with no value (null, or NaN in a float column)."""
    column = frame.get_column(feature)
    gone = column.is_null()
    if column.dtype.is_float():
        gone = gone | column.is_nan()
    return float(gone.sum()) / frame.height


def _data_summary(model: Model, samples: list[_Checked]) -> dict[str, Any]:
    rows = [
        {
            "name": s.name,
            "rows": _int(s.target.size),
            "bads": _int(s.target.sum()),
            "bad_rate": _pct(float(s.target.mean()), 2),
            "period": _period(s.features),
        }
        for s in samples
    ]
    missing = [
        {"feature": feature, "shares": [_pct(_missing_share(s.features, feature)) for s in samples]}
        for feature in model.features_
    ]
    return {"rows": rows, "missing": missing}


def _feature_rows(model: Model, dev_iv: Mapping[str, float], lang: Lang) -> list[dict[str, str]]:
    if isinstance(model, Scorecard):
        card = model.points_table()
        rows = []
        for j, feature in enumerate(model.features_):
            points = card.filter(pl.col("feature") == feature)["points"]
            low, high = int(points.min()), int(points.max())  # type: ignore[arg-type]
            rows.append(
                {
                    "feature": feature,
                    "coefficient": _dec(float(model.coef_[0, j]), 4),
                    "iv_dev": _dec(dev_iv.get(feature), 4),
                    "points_min": str(low),
                    "points_max": str(high),
                    "points_range": str(high - low),
                }
            )
        return rows
    gain = np.asarray(
        model.booster_.feature_importance(importance_type="gain", iteration=model.best_iteration_),
        dtype=np.float64,
    )
    by_name = dict(zip(model.booster_.feature_name(), gain, strict=True))
    total = float(gain.sum())
    key = {1: "mono_up", -1: "mono_down", 0: "mono_none"}
    return [
        {
            "feature": feature,
            "gain": f"{by_name.get(feature, 0.0):,.1f}",
            "gain_share": _pct(by_name.get(feature, 0.0) / total if total > 0 else None),
            "monotone": _pick(_TEXT[key[model.monotone_constraints_.get(feature, 0)]], lang),
            "iv_dev": _dec(dev_iv.get(feature), 4),
        }
        for feature in model.features_
    ]


def _bin_sections(
    tables: Mapping[str, pl.DataFrame], lang: Lang, *, with_points: bool, max_charts: int
) -> list[dict[str, Any]]:
    """Every feature's table, most informative (IV) first; charts for the first ``max_charts``
    (a card of 200 features would take minutes of drawing and pages no reader turns)."""
    out = []
    ranked = sorted(tables.items(), key=lambda kv: -float(kv[1]["iv"].sum()))
    for index, (feature, table) in enumerate(ranked):
        rows = [
            {
                "label": _bin_label(str(r["label"]), lang),
                "kind": str(r["kind"]),
                "count": _int(r["count"]),
                "share": _pct(r["share"]),
                "bads": _int(r["bads"]),
                "event_rate": _pct(r["event_rate"], 2),
                "woe": _dec(r["woe"], 4),
                "iv": _dec(r["iv"], 4),
                "points": str(r["points"]) if with_points else "",
            }
            for r in table.iter_rows(named=True)
        ]
        out.append(
            {
                "feature": feature,
                "iv": _dec(float(table["iv"].sum()), 4),
                "rows": rows,
                "chart": _chart(
                    functools.partial(
                        scoring_charts.binning_chart_png, table, lang=lang, title=feature
                    )
                )
                if index < max_charts
                else None,
            }
        )
    return out


def _performance(samples: list[_Checked], *, is_scorecard: bool, lang: Lang) -> dict[str, Any]:
    riskier = not is_scorecard
    rows = []
    for s in samples:
        both = 0.0 < s.target.mean() < 1.0
        row: dict[str, str] = {"name": s.name}
        if both:
            area = metrics.auc(s.target, s.score, higher_is_riskier=riskier)
            ks = metrics.ks(s.target, s.score)
            row |= {
                "auc": _dec(area),
                "gini": _dec(2.0 * area - 1.0),
                "ks": _dec(ks.statistic),
                "ks_at": _int(ks.score) if is_scorecard else _pd(ks.score),
            }
        else:
            row |= {"auc": "-", "gini": "-", "ks": "-", "ks_at": "-"}
        row["brier"] = _dec(metrics.brier(s.target, s.pd), 4)
        try:
            hl = metrics.hosmer_lemeshow(s.target, s.pd)
            row["hl"] = f"{hl.statistic:.2f} ({hl.df})"
            row["hl_p"] = _p_value(hl.p_value)
        except InvalidInput:  # fewer than three PD groups, or a group of PDs all 0 or 1
            row["hl"], row["hl_p"] = "-", "-"
        rows.append(row)
    last = samples[-1]
    ranked = [s for s in samples if 0.0 < s.target.mean() < 1.0]
    roc = None
    if ranked:
        roc = _chart(
            lambda: scoring_charts.roc_chart_png(
                ranked[0].target,
                ranked[0].score,
                lang=lang,
                higher_is_riskier=riskier,
                label=ranked[0].name,
                compare={s.name: (s.target, s.score) for s in ranked[1:]},
            )
        )
    charts = [
        _chart(lambda: scoring_charts.ks_chart_png(last.target, last.score, lang=lang)),
        _chart(
            lambda: scoring_charts.score_distribution_chart_png(
                last.target, last.score, lang=lang, title=last.name
            )
        ),
        _chart(
            lambda: scoring_charts.gains_chart_png(
                last.target, last.score, lang=lang, higher_is_riskier=riskier, title=last.name
            )
        ),
    ]
    gains: list[dict[str, str]] = []
    try:
        table = metrics.gains_table(last.target, last.score, higher_is_riskier=riskier)
    except InvalidInput:
        table = None
    if table is not None:
        show = _int if is_scorecard else _pd
        gains = [
            {
                "decile": str(r["decile"]),
                "range": f"{show(r['min_score'])} – {show(r['max_score'])}",
                "count": _int(r["count"]),
                "bads": _int(r["bads"]),
                "bad_rate": _pct(r["bad_rate"], 2),
                "cum_capture": _pct(r["cum_bad_capture"]),
                "lift": _dec(r["lift"], 2),
            }
            for r in table.iter_rows(named=True)
        ]
    return {
        "rows": rows,
        "roc": roc,
        "charts": [c for c in charts if c is not None],
        "last": last.name,
        "gains": gains,
    }


def _calibration(sample: _Checked, scale: MasterScale, lang: Lang) -> dict[str, Any]:
    order = list(scale.labels)
    grades = pl.Series("grade", scale.grade(sample.pd).tolist(), dtype=pl.Enum(order))
    table = metrics.binomial_test_by_grade(sample.target, sample.pd, grades)
    edges = scale.table()
    ranges = {
        str(r["grade"]): f"{_pd(r['pd_low'])} – {_pd(r['pd_high'])}"
        for r in edges.iter_rows(named=True)
    }
    rows = [
        {
            "grade": str(r["grade"]),
            "range": ranges[str(r["grade"])],
            "count": _int(r["count"]),
            "defaults": _int(r["defaults"]),
            "default_rate": _pd(r["default_rate"]),
            "mean_pd": _pd(r["mean_pd"]),
            "p_value": _p_value(r["p_value"]),
            "light": str(r["light"]),
        }
        for r in table.iter_rows(named=True)
    ]
    chart = _chart(
        lambda: scoring_charts.calibration_chart_png(
            sample.target, sample.pd, grade=grades, lang=lang, title=sample.name
        )
    )
    return {"sample": sample.name, "rows": rows, "chart": chart}


def _stability(model: Model, samples: list[_Checked], lang: Lang) -> dict[str, Any]:
    reference, later = samples[0], samples[1:]
    if not later:
        return {"reference": reference.name, "later": [], "psi": [], "csi": [], "chart": None}
    psi_rows = []
    for s in later:
        value = monitoring.psi(reference.score, s.score)
        psi_rows.append(
            {"name": s.name, "psi": _dec(value, 4), "light": monitoring.stability_light(value)}
        )
    reference_bins = bin_label_frame(model, reference.features)
    per_sample = [
        monitoring.csi(reference_bins, bin_label_frame(model, s.features), features=model.features_)
        for s in later
    ]
    csi_rows = [
        {
            "feature": feature,
            "values": [
                {"csi": _dec(float(table["csi"][j]), 4), "light": str(table["light"][j])}
                for table in per_sample
            ],
        }
        for j, feature in enumerate(model.features_)
    ]
    last = later[-1]
    chart = _chart(
        lambda: scoring_charts.psi_chart_png(
            reference.score, last.score, lang=lang, title=f"{last.name} / {reference.name}"
        )
    )
    return {
        "reference": reference.name,
        "later": [s.name for s in later],
        "psi": psi_rows,
        "csi": csi_rows,
        "chart": chart,
    }


# --------------------------------------------------------------------------- the report


def model_report_html(
    model: Model,
    manifest: dict[str, Any],
    samples: Sequence[ReportSample],
    *,
    master_scale: MasterScale,
    lang: Lang = "en",
    max_charts: int = 12,
) -> str:
    """The model report of ``model`` on ``samples`` (``samples[0]`` = development sample, the
    stability reference) as one self-contained HTML page in ``lang``; see the module docstring.
    Binning tables come most informative first, with charts for the first ``max_charts``.
    """
    if isinstance(max_charts, bool) or not isinstance(max_charts, int) or max_charts < 0:
        raise InvalidInput("max_charts", "must be an integer >= 0")
    if lang not in LANGS:
        raise InvalidInput("lang", f"must be one of {', '.join(LANGS)}, got {lang!r}")
    if not isinstance(model, Scorecard | GradientBoosting):
        raise InvalidInput("model", f"a Scorecard or GradientBoosting, got {type(model).__name__}")
    checked = _check_samples(model, samples)
    is_scorecard = isinstance(model, Scorecard)
    kind = "scorecard" if is_scorecard else "lightgbm"
    development = checked[0]
    tables = bin_tables(model, development.features, development.target)
    dev_iv = information_values(tables)

    env = environment()

    def text(key: str) -> str:
        return _pick(_TEXT[key], lang)

    def label(name: str) -> str:
        # a column without a label (a user's own) is shown by its name alone
        named = feature_label(name, lang)
        return "" if named == name else named

    env.globals |= {"t": text, "label": label}
    template = env.get_template("model_report.html")
    return template.render(
        lang=lang,
        kind=kind,
        is_scorecard=is_scorecard,
        name=str(manifest.get("name", "")),
        version=str(manifest.get("version", "")),
        identity=_identity(model, manifest, lang),
        manifest_metrics=_manifest_metrics(manifest),
        data=_data_summary(model, checked),
        sample_names=[s.name for s in checked],
        development=development.name,
        features=_feature_rows(model, dev_iv, lang),
        bins=_bin_sections(tables, lang, with_points=is_scorecard, max_charts=max_charts),
        max_charts=max_charts,
        performance=_performance(checked, is_scorecard=is_scorecard, lang=lang),
        calibration=_calibration(checked[-1], master_scale, lang),
        stability=_stability(model, checked, lang),
    )
