"""PNG charts of the credit factory (信贷工厂图表).

:func:`metrics_chart` — per station, mean waiting time against mean service time (hours),
and the distribution of cycle times (进件到签约, days) with p50 and p90 marked.
:func:`simulation_chart` — the teaching simulation, fixed assignment against rotation (轮岗):
contracts signed per week, cycle-time distributions, waiting time per station, and the
rework rate next to the relationship-capture measure.

Same conventions as :mod:`xiaowei.reports.charts`: a bare Agg figure per call, zh-CN or en
labels (English when no CJK font is installed).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from xiaowei.core.i18n import Lang
from xiaowei.decision.factory import FactoryMetrics, Station
from xiaowei.decision.factory_sim import ScenarioResult, SimulationResult
from xiaowei.reports.charts import _rc, _save, chart_lang
from xiaowei.reports.page import pick

__all__ = ["metrics_chart", "simulation_chart"]

_TEXT: dict[str, tuple[str, str]] = {
    "metrics_title": ("Credit factory {start} – {end}", "信贷工厂 {start} – {end}"),
    "stations_panel": ("Time per station (mean)", "各工位平均时间"),
    "hours": ("hours", "小时"),
    "waiting": ("waiting in queue", "排队等待"),
    "service": ("service", "处理"),
    "cycle_panel": ("Cycle time, application to contract", "进件到签约周期"),
    "days": ("days", "天"),
    "cases": ("cases", "件数"),
    "p50": ("p50 {v:.1f} d", "中位数 {v:.1f} 天"),
    "p90": ("p90 {v:.1f} d", "90分位 {v:.1f} 天"),
    "none_signed": ("no contract signed in the period", "期间无签约"),
    "sim_title": (
        "Credit factory simulation: fixed assignment against rotation every {k} weeks",
        "信贷工厂模拟：固定岗位与每 {k} 周轮岗",
    ),
    "weekly_panel": ("Contracts signed per week", "每周签约件数"),
    "week": ("week", "周"),
    "waiting_panel": ("Mean waiting time per station", "各工位平均等待时间"),
    "capture_panel": ("Rework and relationship capture", "返工与关系固化"),
    "rework_rate": ("rework rate", "返工率"),
    "top_share": ("top verifier's share\nof a market", "单一核查员\n占某商圈比例"),
    "run": ("longest run {d:.0f} d", "最长连续 {d:.0f} 天"),
    "fixed": ("fixed", "固定岗位"),
    "rotation": ("rotation every {k} weeks", "每 {k} 周轮岗"),
}

_COLOURS = {"waiting": "#dd6b20", "service": "#2b6cb0", "fixed": "#718096", "rotation": "#38a169"}


def _text(key: str, lang: Lang) -> str:
    return pick(_TEXT[key], lang)


def _station(station: Station, lang: Lang) -> str:
    return station.name_zh if lang == "zh-CN" else station.value


def _cycle_axes(ax: Axes, metrics: FactoryMetrics, lang: Lang) -> None:
    ax.set_title(_text("cycle_panel", lang))
    ax.set_xlabel(_text("days", lang))
    ax.set_ylabel(_text("cases", lang))
    values = list(metrics.cycle_time_days)
    if not values:
        ax.text(
            0.5, 0.5, _text("none_signed", lang), ha="center", va="center", transform=ax.transAxes
        )
        return
    bins = max(5, min(30, len(values) // 3))
    ax.hist(values, bins=bins, color=_COLOURS["service"], alpha=0.75)
    for key, value, style in (
        ("p50", metrics.cycle_p50_days, "--"),
        ("p90", metrics.cycle_p90_days, ":"),
    ):
        if value is not None:
            ax.axvline(
                value, color="#c53030", linestyle=style, label=_text(key, lang).format(v=value)
            )
    ax.legend(loc="upper right")


def metrics_chart(
    metrics: FactoryMetrics, path: str | os.PathLike[str], *, lang: Lang | None = None
) -> Path:
    """Waiting against service time per station, and the cycle-time distribution; PNG."""
    used = chart_lang(lang)
    with matplotlib.rc_context(_rc(used)):
        figure = Figure(figsize=(11.0, 4.6), layout="constrained")
        bars, hist = figure.subplots(1, 2, width_ratios=[3, 2])
        stations = [s.station for s in metrics.stations]
        xs = range(len(stations))
        waiting = [s.waiting_mean_h or 0.0 for s in metrics.stations]
        service = [s.service_mean_h or 0.0 for s in metrics.stations]
        bars.bar(
            [x - 0.2 for x in xs],
            waiting,
            width=0.4,
            color=_COLOURS["waiting"],
            label=_text("waiting", used),
        )
        bars.bar(
            [x + 0.2 for x in xs],
            service,
            width=0.4,
            color=_COLOURS["service"],
            label=_text("service", used),
        )
        bars.set_xticks(list(xs), [_station(s, used) for s in stations])
        bars.set_ylabel(_text("hours", used))
        bars.set_title(_text("stations_panel", used))
        bars.legend()
        _cycle_axes(hist, metrics, used)
        figure.suptitle(
            _text("metrics_title", used).format(
                start=metrics.start.date().isoformat(),
                end=(metrics.end.date()).isoformat(),
            )
        )
    return _save(figure, path)


def _label(scenario: ScenarioResult, lang: Lang) -> str:
    if scenario.rotation_weeks is None:
        return _text("fixed", lang)
    return _text("rotation", lang).format(k=scenario.rotation_weeks)


def simulation_chart(
    result: SimulationResult, path: str | os.PathLike[str], *, lang: Lang | None = None
) -> Path:
    """Fixed assignment against rotation: weekly output, cycle times, waiting, capture; PNG."""
    used = chart_lang(lang)
    scenarios = (("fixed", result.fixed), ("rotation", result.rotation))
    with matplotlib.rc_context(_rc(used)):
        figure = Figure(figsize=(12.0, 8.0), layout="constrained")
        (weekly, cycle), (waiting, capture) = figure.subplots(2, 2)
        for key, sc in scenarios:
            counts = [n for _, n in sc.metrics.weekly]
            weekly.plot(
                range(1, len(counts) + 1),
                counts,
                marker="o",
                color=_COLOURS[key],
                label=_label(sc, used),
            )
        weekly.set_title(_text("weekly_panel", used))
        weekly.set_xlabel(_text("week", used))
        weekly.set_ylabel(_text("cases", used))
        weekly.legend()

        top = max([max(sc.metrics.cycle_time_days, default=0.0) for _, sc in scenarios] + [1.0])
        edges = [top * i / 24 for i in range(25)]
        for key, sc in scenarios:
            cycle.hist(
                list(sc.metrics.cycle_time_days),
                bins=edges,
                histtype="step",
                linewidth=2,
                color=_COLOURS[key],
                label=_label(sc, used),
            )
            if sc.metrics.cycle_p90_days is not None:
                cycle.axvline(sc.metrics.cycle_p90_days, color=_COLOURS[key], linestyle=":")
        cycle.set_title(_text("cycle_panel", used) + " · p90")
        cycle.set_xlabel(_text("days", used))
        cycle.set_ylabel(_text("cases", used))
        cycle.legend()

        stations = list(Station)
        xs = range(len(stations))
        for offset, (key, sc) in zip((-0.2, 0.2), scenarios, strict=True):
            values = [s.waiting_mean_h or 0.0 for s in sc.metrics.stations]
            waiting.bar(
                [x + offset for x in xs],
                values,
                width=0.4,
                color=_COLOURS[key],
                label=_label(sc, used),
            )
        waiting.set_xticks(list(xs), [_station(s, used) for s in stations])
        waiting.set_ylabel(_text("hours", used))
        waiting.set_title(_text("waiting_panel", used))
        waiting.legend()

        measures = ("rework_rate", "top_share")
        for offset, (key, sc) in zip((-0.2, 0.2), scenarios, strict=True):
            values = [sc.metrics.rework_rate or 0.0, sc.top_verifier_share]
            drawn = capture.bar(
                [i + offset for i in range(2)],
                values,
                width=0.4,
                color=_COLOURS[key],
                label=_label(sc, used),
            )
            capture.bar_label(drawn, labels=[f"{v:.0%}" for v in values], padding=2)
            capture.text(
                1 + offset,
                values[1] / 2,
                _text("run", used).format(d=sc.longest_run_days),
                ha="center",
                va="center",
                rotation=90,
                color="white",
            )
        capture.set_xticks(range(2), [_text(m, used) for m in measures])
        capture.set_ylim(0, 1.15)
        capture.set_title(_text("capture_panel", used))
        capture.legend(loc="upper left")
        rotation = result.rotation.rotation_weeks or 0
        figure.suptitle(_text("sim_title", used).format(k=rotation))
    return _save(figure, path)
