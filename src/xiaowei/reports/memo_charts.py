"""PNG charts of the credit memo (授信审查报告图表), returned as bytes for embedding.

Each function draws one chart from the credit file's data (``CreditFile.months``,
``CreditFile.charts``, the equity breakdown) on a bare matplotlib ``Figure`` (Agg, no pyplot),
in English or Chinese, following ``reports/charts.py``: :func:`~xiaowei.reports.charts.chart_lang`
falls back to English when no CJK font is installed. Names from the data (customers, suppliers,
lenders) are Chinese whatever the memo's language: they are drawn only when a CJK font is
installed, else the bars are numbered and the memo's tables beside the chart carry the names
(matplotlib would otherwise draw empty boxes and warn).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from xiaowei.core.i18n import Lang
from xiaowei.reports.charts import _rc, chart_lang, cjk_font, png_bytes, sources_chart

__all__ = [
    "ACCOUNT_TYPES_EN",
    "INSTITUTION_TYPES_EN",
    "STATUS_COLOURS",
    "STATUS_TEXT",
    "balance_curve_chart",
    "bureau_timeline_chart",
    "concentration_chart",
    "equity_waterfall_chart",
    "monthly_flows_chart",
    "sales_sources_chart",
]

# Chart text in (English, Chinese).
_TEXT: dict[str, tuple[str, str]] = {
    "flows_title": ("Monthly flows and average daily balance", "月度流水与日均余额"),
    "inflow": ("inflow", "流入"),
    "outflow": ("outflow", "流出"),
    "revenue": ("revenue estimate", "营业收入估计"),
    "adb": ("average daily balance (right axis)", "日均余额（右轴）"),
    "cny": ("CNY", "元"),
    "cny_month": ("CNY per month", "每月金额（元）"),
    "balance_title": (
        "End-of-day balance, all accounts (balance curve)",
        "全部账户日终余额（余额曲线）",
    ),
    "balance": ("balance", "余额"),
    "application": ("application date", "申请日"),
    "conc_title": ("Counterparty concentration, last {m} months", "交易对手集中度（近{m}个月）"),
    "customers": ("Top customers (inflows) · HHI {hhi}", "前列客户（流入）· HHI {hhi}"),
    "suppliers": ("Top suppliers (outflows) · HHI {hhi}", "前列供应商（流出）· HHI {hhi}"),
    "share_axis": ("share of the total", "占比"),
    "none": ("none", "无"),
    "timeline_title": (
        "Credit report: repayment status of the last {n} months",
        "征信报告：近{n}个月还款状态",
    ),
    "waterfall_title": ("Equity cross-check", "权益交叉检验"),
    "broken_axis": ("axis does not start at 0", "纵轴未从0开始"),
    "deviation": (
        "deviation (expected − actual) {dev} CNY, {rate} of the period profit",
        "偏差（应有 − 实际）{dev} 元，占期间利润 {rate}",
    ),
    "bank_revenue": ("bank revenue estimate", "银行流水收入估计"),
}

#: Account types (PD01AD01) in English; the Chinese names are the schema's code table.
ACCOUNT_TYPES_EN = {
    "D1": "non-revolving loan",
    "R1": "revolving loan",
    "R2": "credit card",
    "R3": "semi-credit card",
    "R4": "revolving sub-account",
    "C1": "collection",
}
#: Lending institution types (PD01AD02) in English.
INSTITUTION_TYPES_EN = {
    "11": "commercial bank",
    "12": "rural bank",
    "14": "housing savings bank",
    "15": "foreign bank",
    "16": "finance company",
    "21": "trust company",
    "22": "leasing company",
    "23": "auto finance company",
    "24": "consumer finance company",
    "25": "loan company",
    "26": "asset management company",
    "31": "securities company",
    "41": "insurance company",
    "51": "microcredit company",
    "53": "financing guarantee company",
    "54": "factoring company",
    "99": "other institution",
}

#: Repayment-status codes (还款状态, PD01ED01): (English, Chinese) legend text.
STATUS_TEXT: dict[str, tuple[str, str]] = {
    "N": ("N paid as due", "N 正常还款"),
    "*": ("* nothing due", "* 当月无需还款"),
    "1": ("1 overdue 1-30 d", "1 逾期1-30天"),
    "2": ("2 overdue 31-60 d", "2 逾期31-60天"),
    "3": ("3 overdue 61-90 d", "3 逾期61-90天"),
    "4": ("4 overdue 91-120 d", "4 逾期91-120天"),
    "5": ("5 overdue 121-150 d", "5 逾期121-150天"),
    "6": ("6 overdue 151-180 d", "6 逾期151-180天"),
    "7": ("7 overdue > 180 d", "7 逾期180天以上"),
    "C": ("C settled", "C 结清"),
    "G": ("G ended abnormally", "G 非正常结束"),
    "D": ("D paid by guarantor", "D 担保人代还"),
    "Z": ("Z settled with assets", "Z 以资抵债"),
    "#": ("# unknown", "# 未知"),
    "/": ("/ not open", "/ 未开立或已关闭"),
}
#: Colours of the status grid: green paid, greys neutral, yellow → dark red by days overdue.
STATUS_COLOURS = {
    "N": "#4caf50",
    "*": "#c8e6c9",
    "1": "#ffeb3b",
    "2": "#ffb300",
    "3": "#fb8c00",
    "4": "#f4511e",
    "5": "#e53935",
    "6": "#c62828",
    "7": "#7f0000",
    "C": "#90a4ae",
    "G": "#6a1b9a",
    "D": "#ab47bc",
    "Z": "#8e24aa",
    "#": "#bdbdbd",
    "/": "#ffffff",
}

_IN, _OUT, _REV, _ADB = "#5b8ff9", "#f6bd16", "#5ad8a6", "#e8684a"


def _t(key: str, lang: Lang) -> str:
    en, zh = _TEXT[key]
    return zh if lang == "zh-CN" else en


def _memo_rc(lang: Lang) -> dict[Any, Any]:
    rc = _rc(lang)
    family = cjk_font()
    if family is not None:
        # names in the data are Chinese in both languages: keep the CJK fallback always
        rc["font.family"] = ["DejaVu Sans", family]
    rc["axes.spines.top"] = False
    rc["axes.spines.right"] = False
    return rc


def _money(value: float, _pos: object = None) -> str:
    """Axis money: 1,234 below ten thousand, else 12.3万 / 12.3k-style compact thousands."""
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:,.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1_000:,.0f}k"
    return f"{value:,.0f}"


def _month_ticks(ax: Axes, labels: Sequence[str]) -> None:
    step = max(1, math.ceil(len(labels) / 14))
    ticks = list(range(0, len(labels), step))
    ax.set_xticks(ticks, [labels[i] for i in ticks], rotation=45, ha="right", fontsize=8)


def monthly_flows_chart(months: Sequence[Mapping[str, Any]], *, lang: Lang) -> bytes:
    """Inflow, outflow and revenue estimate per month (bars, CNY) and the average daily balance
    (line, right axis) — the credit file's ``months``."""
    if not months:
        raise ValueError("no months to draw")
    used = chart_lang(lang)
    labels = [str(m["month"]) for m in months]
    xs = list(range(len(labels)))
    width = 0.27
    with matplotlib.rc_context(_memo_rc(used)):
        figure = Figure(figsize=(9.0, 3.6), layout="constrained")
        ax = figure.subplots()
        for offset, key, colour in (
            (-width, "inflow", _IN),
            (0.0, "outflow", _OUT),
            (width, "revenue_estimate", _REV),
        ):
            ax.bar(
                [x + offset for x in xs],
                [int(m[key]) / 100 for m in months],
                width=width,
                color=colour,
                label=_t("revenue" if key == "revenue_estimate" else key, used),
            )
        ax.yaxis.set_major_formatter(FuncFormatter(_money))
        ax.set_ylabel(_t("cny_month", used), fontsize=9)
        _month_ticks(ax, labels)
        ax.grid(visible=False, axis="x")
        right = ax.twinx()
        right.spines["right"].set_visible(True)
        adb = [
            math.nan if m.get("average_daily_balance") is None else m["average_daily_balance"] / 100
            for m in months
        ]
        right.plot(xs, adb, color=_ADB, marker="o", markersize=3, label=_t("adb", used))
        right.yaxis.set_major_formatter(FuncFormatter(_money))
        right.set_ylim(bottom=0)
        right.grid(visible=False)
        handles, names = ax.get_legend_handles_labels()
        h2, n2 = right.get_legend_handles_labels()
        ax.legend(handles + h2, names + n2, fontsize=8, ncols=4, loc="upper left", frameon=False)
        ax.set_ylim(top=ax.get_ylim()[1] * 1.15)
        figure.suptitle(_t("flows_title", used), fontsize=11)
        return png_bytes(figure)


def balance_curve_chart(
    curve: Sequence[Mapping[str, Any]], *, lang: Lang, as_of: date | None = None
) -> bytes:
    """The daily total balance (余额曲线), days below zero shaded, the application date marked."""
    if not curve:
        raise ValueError("no balances to draw")
    used = chart_lang(lang)
    days = [date.fromisoformat(str(p["date"])) for p in curve]
    xs = [(d - days[0]).days for d in days]
    values = [int(p["balance_fen"]) / 100 for p in curve]
    with matplotlib.rc_context(_memo_rc(used)):
        figure = Figure(figsize=(9.0, 3.0), layout="constrained")
        ax = figure.subplots()
        ax.plot(xs, values, color=_IN, linewidth=1.2, label=_t("balance", used))
        ax.fill_between(xs, values, 0, where=[v < 0 for v in values], color="#e53935", alpha=0.4)
        ax.axhline(0, color="#555555", linewidth=0.8)
        if as_of is not None and days[0] <= as_of <= days[-1]:
            ax.axvline(
                (as_of - days[0]).days,
                color=_ADB,
                linestyle="--",
                linewidth=1.2,
                label=_t("application", used),
            )
            ax.legend(fontsize=8, loc="upper left", frameon=False)
        # a tick on the first day of every k-th month, at most about 14 labels
        firsts = [x for x, d in zip(xs, days, strict=True) if d.day == 1]
        step = max(1, math.ceil(len(firsts) / 14))
        ticks = firsts[::step]
        ax.set_xticks(
            ticks, [f"{days[x]:%Y-%m}" for x in ticks], rotation=45, ha="right", fontsize=8
        )
        ax.set_xlim(xs[0], xs[-1])
        ax.yaxis.set_major_formatter(FuncFormatter(_money))
        ax.set_ylabel(_t("cny", used), fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        figure.suptitle(_t("balance_title", used), fontsize=11)
        return png_bytes(figure)


def _party_axes(
    ax: Axes, rows: Sequence[Mapping[str, Any]], title: str, colour: str, lang: Lang
) -> None:
    ax.set_title(title, fontsize=9)
    if not rows:
        ax.text(0.5, 0.5, _t("none", lang), ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    names = [
        str(r["name"]) if cjk_font() is not None else f"#{i}" for i, r in enumerate(rows, start=1)
    ]
    names = [n if len(n) <= 14 else n[:13] + "…" for n in names]
    shares = [float(r["share"]) for r in rows]
    ys = list(range(len(rows)))
    ax.barh(ys, shares, color=colour)
    ax.set_yticks(ys, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, min(1.0, max(shares) * 1.3 + 0.02))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0%}"))
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(visible=False, axis="y")
    for y, r in zip(ys, rows, strict=True):
        ax.text(
            float(r["share"]),
            y,
            f" {float(r['share']):.1%} · {int(r['amount_fen']) / 100:,.0f}",
            va="center",
            fontsize=7,
        )


def concentration_chart(
    customers: Sequence[Mapping[str, Any]],
    suppliers: Sequence[Mapping[str, Any]],
    *,
    lang: Lang,
    months: int | None,
    customer_hhi: float | None,
    supplier_hhi: float | None,
) -> bytes:
    """Top customers and suppliers as bars of their share (交易对手集中度), with the HHI."""
    used = chart_lang(lang)
    rows = max(len(customers), len(suppliers), 3)
    with matplotlib.rc_context(_memo_rc(used)):
        figure = Figure(figsize=(9.0, 0.8 + 0.28 * rows), layout="constrained")
        left, right = figure.subplots(1, 2)
        for ax, data, key, hhi, colour in (
            (left, customers, "customers", customer_hhi, _IN),
            (right, suppliers, "suppliers", supplier_hhi, _OUT),
        ):
            title = _t(key, used).format(hhi="-" if hhi is None else f"{hhi:.3f}")
            _party_axes(ax, data, title, colour, used)
        figure.suptitle(_t("conc_title", used).format(m=months or "-"), fontsize=11)
        return png_bytes(figure)


def account_label(account: Mapping[str, Any], lang: Lang) -> str:
    """``商业银行 · 非循环贷账户 · 农**行`` / ``commercial bank · non-revolving loan``; the
    masked lender only where Chinese can be drawn."""
    from xiaowei.analysis.credit_report_schema import ACCOUNT_TYPES, INSTITUTION_TYPES

    inst, kind = str(account["institution_type"]), str(account["account_type"])
    if lang == "zh-CN":
        parts = [INSTITUTION_TYPES.get(inst, inst), ACCOUNT_TYPES.get(kind, kind)]
    else:
        parts = [INSTITUTION_TYPES_EN.get(inst, inst), ACCOUNT_TYPES_EN.get(kind, kind)]
    if cjk_font() is not None:
        parts.append(str(account["lender"]))
    return " · ".join(parts)


def bureau_timeline_chart(
    months: Sequence[str], accounts: Sequence[Mapping[str, Any]], *, lang: Lang
) -> bytes:
    """Accounts × months grid coloured by repayment status (征信还款状态时间轴), codes in the
    cells and a legend of the codes that occur."""
    if not months or not accounts:
        raise ValueError("no accounts to draw")
    used = chart_lang(lang)
    codes = list(STATUS_COLOURS)
    cmap = ListedColormap([STATUS_COLOURS[c] for c in codes])
    grid = [[codes.index(c) for c in a["statuses"]] for a in accounts]
    present = [c for c in codes if any(c in a["statuses"] for a in accounts)]
    with matplotlib.rc_context(_memo_rc(used)):
        figure = Figure(figsize=(9.0, 1.6 + 0.36 * len(accounts)), layout="constrained")
        ax = figure.subplots()
        ax.imshow(grid, cmap=cmap, vmin=-0.5, vmax=len(codes) - 0.5, aspect="auto")
        for y, a in enumerate(accounts):
            for x, c in enumerate(a["statuses"]):
                if c not in ("/", "N"):
                    dark = c in ("5", "6", "7", "G", "D", "Z")
                    ax.text(
                        x,
                        y,
                        c,
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if dark else "black",
                    )
        ax.set_yticks(range(len(accounts)), [account_label(a, used) for a in accounts], fontsize=8)
        ax.set_xticks(range(len(months)), list(months), rotation=90, fontsize=7)
        ax.set_xticks([x - 0.5 for x in range(len(months) + 1)], minor=True)
        ax.set_yticks([y - 0.5 for y in range(len(accounts) + 1)], minor=True)
        ax.grid(which="minor", color="#dddddd", linewidth=0.6)
        ax.grid(which="major", visible=False)
        ax.tick_params(which="minor", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        index = 1 if used == "zh-CN" else 0
        handles = [
            Patch(facecolor=STATUS_COLOURS[c], edgecolor="#999999", label=STATUS_TEXT[c][index])
            for c in present
        ]
        figure.legend(
            handles=handles,
            loc="outside lower center",
            ncols=min(5, len(handles)),
            fontsize=7,
            frameon=False,
        )
        figure.suptitle(_t("timeline_title", used).format(n=len(months)), fontsize=11)
        return png_bytes(figure)


def equity_waterfall_chart(
    breakdown: Sequence[Mapping[str, Any]], *, lang: Lang, deviation_rate: float | None = None
) -> bytes:
    """Waterfall of the equity cross-check (权益交叉检验): equity at the check point, + profit,
    + injections, + appreciation, − withdrawals, − depreciation → expected equity, against the
    actual equity; the deviation is the gap between the last two bars."""
    used = chart_lang(lang)
    lines = [b for b in breakdown if b["sign"] in ("+", "−")]
    totals = {b["label"]: b for b in breakdown if b["sign"] == "="}
    if not lines or "expected equity" not in totals or "actual equity" not in totals:
        raise ValueError("the breakdown lacks its terms or totals")

    def name(b: Mapping[str, Any]) -> str:
        return str(b["label_zh"] if used == "zh-CN" else b["label"])

    labels: list[str] = []
    bottoms: list[float] = []
    heights: list[float] = []
    colours: list[str] = []
    running = 0.0
    for i, b in enumerate(lines):
        amount = int(b["amount_fen"]) / 100
        if i == 0:
            labels.append(name(b))
            bottoms.append(0.0)
            heights.append(amount)
            colours.append("#8c8c8c")
            running = amount
            continue
        delta = amount if b["sign"] == "+" else -amount
        labels.append(("+ " if b["sign"] == "+" else "− ") + name(b))
        bottoms.append(running)
        heights.append(delta)
        colours.append("#5ad8a6" if delta >= 0 else "#e8684a")
        running += delta
    expected = int(totals["expected equity"]["amount_fen"]) / 100
    actual = int(totals["actual equity"]["amount_fen"]) / 100
    for b, value, colour in (
        (totals["expected equity"], expected, _IN),
        (totals["actual equity"], actual, "#9270ca"),
    ):
        labels.append("= " + name(b) if b is totals["expected equity"] else name(b))
        bottoms.append(0.0)
        heights.append(value)
        colours.append(colour)
    with matplotlib.rc_context(_memo_rc(used)):
        figure = Figure(figsize=(9.0, 3.6), layout="constrained")
        ax = figure.subplots()
        xs = list(range(len(labels)))
        ax.bar(xs, heights, bottom=bottoms, color=colours, width=0.6)
        for x, bottom, height in zip(xs, bottoms, heights, strict=True):
            if height == 0:
                continue
            ax.text(
                x,
                max(bottom, bottom + height),
                f"{height:+,.0f}" if 0 < x < len(lines) else f"{height:,.0f}",
                ha="center",
                va="bottom",
                fontsize=7,
            )
        # room above the tallest bar for its label; when the terms are small against the
        # equity (the usual case) the axis starts near the lowest level, not at zero, so that
        # each term stays visible, and the chart says so
        levels = [bottoms[0] + heights[0], *(b + h for b, h in zip(bottoms, heights, strict=True))]
        levels += bottoms[1 : len(lines)]
        top, low = max(levels), min(levels)
        span = max(top - low, abs(top) * 0.02, 1.0)
        if low > 0 and span < 0.3 * top:
            ax.set_ylim(low - 0.8 * span, top + 0.25 * span)
            ax.text(
                0.0, 1.0, _t("broken_axis", used), transform=ax.transAxes, fontsize=7,
                ha="left", va="bottom", color="#c92a2a",
            )  # fmt: skip
        else:
            ax.set_ylim(top=top + 0.12 * abs(top) if top > 0 else None)
        for x in range(len(lines) - 1):
            level = bottoms[x + 1]
            ax.plot([x + 0.3, x + 0.7], [level, level], color="#999999", linewidth=0.8)
        ax.set_xticks(xs, labels, rotation=20, ha="right", fontsize=8)
        ax.yaxis.set_major_formatter(FuncFormatter(_money))
        ax.set_ylabel(_t("cny", used), fontsize=9)
        ax.grid(visible=False, axis="x")
        ax.axhline(0, color="#555555", linewidth=0.8)
        rate = "-" if deviation_rate is None else f"{deviation_rate:+.1%}"
        gap = int(totals["deviation"]["amount_fen"]) / 100 if "deviation" in totals else None
        dev = f"{expected - actual if gap is None else gap:,.0f}"
        subtitle = _t("deviation", used).format(dev=dev, rate=rate)
        ax.set_title(subtitle, fontsize=9)
        figure.suptitle(_t("waterfall_title", used), fontsize=11)
        return png_bytes(figure)


def sales_sources_chart(sales_months: Sequence[Mapping[str, Any]], *, lang: Lang) -> bytes:
    """Declared sales against the bank revenue estimate, POS and GMV per month, drawn by
    :func:`xiaowei.reports.charts.sources_chart`."""
    if not sales_months:
        raise ValueError("no months to draw")
    used = chart_lang(lang)

    def col(key: str) -> list[float | None]:
        return [None if m.get(key) is None else int(m[key]) / 100 for m in sales_months]

    # sources_chart labels its lines by text key, and prints a key it does not know as is:
    # the bank line is the revenue estimate (what the check compares), not all inflows
    series: dict[str, list[float | None]] = {"declared_sales": col("declared_sales_fen")}
    series[_t("bank_revenue", used)] = col("bank_revenue_fen")
    for key, column in (("pos", "pos_fen"), ("gmv", "gmv_fen")):
        values = col(column)
        if any(v is not None for v in values):
            series[key] = values
    with tempfile.TemporaryDirectory() as folder:
        path = sources_chart(
            [str(m["month"]) for m in sales_months],
            series,
            Path(folder) / "sources.png",
            lang=used,
        )
        return path.read_bytes()
