"""The structure of reconstructed balance sheets, side by side (资产负债表结构对比).

The course case 资产负债表分析：以贸易、生产、服务型为例 compares a trading, a manufacturing and a
service business: where each keeps its money (stock and credit given for a trader, machines for
a manufacturer, little of either for a service) and how it is financed. :func:`structure`
groups the lines of the current sheets of :mod:`xiaowei.analysis.financials` into a few blocks,
as shares of total assets; :func:`balance_sheet_chart` draws two stacked bars per business
(assets | liabilities and equity). Chart conventions of :mod:`xiaowei.reports.charts`
(``en`` / ``zh-CN``, English without a CJK font).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import polars as pl
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from xiaowei.analysis import financials as fin
from xiaowei.core.i18n import Lang
from xiaowei.reports.charts import _rc, _save, chart_lang

ASSET_BLOCKS: Mapping[str, tuple[str, ...]] = {
    "cash_deposits": ("cash_fen", "bank_deposits_fen"),
    "receivables": ("receivables_fen", "prepayments_fen"),
    "inventory": ("inventory_fen",),
    "fixed_assets": ("equipment_fen", "vehicles_fen", "property_fen"),
    "other_operating": ("prepaid_rent_fen", "other_operating_assets_fen"),
    "household": ("household_assets_fen",),
}
"""Asset blocks: cash and deposits 现金及存款, receivables and prepayments 应收及预付, inventory
存货, fixed assets 固定资产 (equipment, vehicles, property), prepaid rent and other operating
assets 待摊租金及其他, household assets 家庭资产."""

FUNDING_BLOCKS: Mapping[str, tuple[str, ...]] = {
    "payables": ("payables_fen", "advance_receipts_fen"),
    "bank_loans": ("short_term_loans_fen", "long_term_loans_fen"),
    "private_loans": ("private_loans_fen",),
    "other_liabilities": ("other_liabilities_fen",),
}
"""Liability blocks: payables and advance receipts 应付及预收, bank loans 银行借款, private loans
民间借贷, other liabilities 其他负债; equity 权益 closes the sheet."""

BLOCK_TEXT: dict[str, tuple[str, str]] = {
    "cash_deposits": ("cash and deposits", "现金及存款"),
    "receivables": ("receivables", "应收及预付"),
    "inventory": ("inventory", "存货"),
    "fixed_assets": ("fixed assets", "固定资产"),
    "other_operating": ("prepaid rent, other", "待摊及其他"),
    "household": ("household assets", "家庭资产"),
    "payables": ("payables", "应付及预收"),
    "bank_loans": ("bank loans", "银行借款"),
    "private_loans": ("private loans", "民间借贷"),
    "other_liabilities": ("other liabilities", "其他负债"),
    "equity": ("equity", "权益"),
}

BLOCKS: tuple[str, ...] = (*ASSET_BLOCKS, *FUNDING_BLOCKS, "equity")

_TEXT: dict[str, tuple[str, str]] = {
    "title": (
        "Balance-sheet structure (current sheet, share of total assets)",
        "资产负债表结构（本期报表，占总资产比例）",
    ),
    "assets": ("assets", "资产"),
    "funding": ("liabilities + equity", "负债 + 权益"),
    "share_axis": ("Share of total assets", "占总资产比例"),
    "total": ("total assets {amount} CNY", "总资产 {amount} 元"),
}

_COLOURS = {
    "cash_deposits": "#4c72b0",
    "receivables": "#64b5cd",
    "inventory": "#dd8452",
    "fixed_assets": "#55a868",
    "other_operating": "#8c8c8c",
    "household": "#ccb974",
    "payables": "#c44e52",
    "bank_loans": "#8172b3",
    "private_loans": "#da8bc3",
    "other_liabilities": "#937860",
    "equity": "#b7d7a8",
}


def text(key: str, lang: Lang) -> str:
    """A block or chart label in ``lang``."""
    pair = BLOCK_TEXT.get(key) or _TEXT[key]
    return pair[1] if lang == "zh-CN" else pair[0]


def structure(balance_sheets: pl.DataFrame) -> pl.DataFrame:
    """The current sheets (kind ``current``) grouped into :data:`BLOCKS`.

    Output per business: business_id, total_assets_fen, each block in fen (``<block>_fen``)
    and as a share of total assets (``<block>_share``, null at zero assets). Equity may be
    negative (资不抵债); the lines are validated by
    :func:`~xiaowei.analysis.financials.validate_balance_sheets`.
    """
    sheets = fin.validate_balance_sheets(balance_sheets).filter(pl.col("kind") == "current")
    blocks = {**ASSET_BLOCKS, **FUNDING_BLOCKS}
    frame = sheets.select(
        "business_id",
        "total_assets_fen",
        *[
            pl.sum_horizontal([pl.col(c) for c in cols]).alias(f"{b}_fen")
            for b, cols in blocks.items()
        ],
        pl.col("equity_fen"),
    )
    total = pl.col("total_assets_fen").cast(pl.Float64)
    return frame.with_columns(
        pl.when(total > 0).then(pl.col(f"{b}_fen") / total).otherwise(None).alias(f"{b}_share")
        for b in BLOCKS
    ).sort("business_id")


def balance_sheet_chart(
    shares: pl.DataFrame,
    labels: Sequence[str],
    path: str | os.PathLike[str],
    *,
    lang: Lang | None = None,
) -> Path:
    """Two stacked bars per business of ``shares`` (the output of :func:`structure`, in the
    order of ``labels``): assets by block, and liabilities and equity; saved as PNG."""
    if shares.height == 0:
        raise ValueError("no balance sheets to chart")
    if len(labels) != shares.height:
        raise ValueError("one label per business is needed")
    used = chart_lang(lang)
    rows = list(shares.iter_rows(named=True))
    with matplotlib.rc_context(_rc(used)):
        figure = Figure(figsize=(3.0 * len(rows) + 3.2, 5.2), layout="constrained")
        ax = figure.subplots()
        width = 0.38
        for i, row in enumerate(rows):
            for side, blocks in (
                (-1, tuple(ASSET_BLOCKS)),
                (1, (*FUNDING_BLOCKS, "equity")),
            ):
                bottom = 0.0
                for block in blocks:
                    share = max(float(row[f"{block}_share"] or 0.0), 0.0)
                    if share <= 0:
                        continue
                    ax.bar(
                        i + side * width / 2 * 1.05,
                        share,
                        width=width,
                        bottom=bottom,
                        color=_COLOURS[block],
                        edgecolor="white",
                        linewidth=0.5,
                        label=text(block, used),
                    )
                    if share >= 0.04:
                        ax.text(
                            i + side * width / 2 * 1.05,
                            bottom + share / 2,
                            f"{share:.0%}",
                            ha="center",
                            va="center",
                            fontsize=7,
                        )
                    bottom += share
            ax.text(i - width / 2 * 1.05, -0.04, text("assets", used), ha="center", fontsize=7)
            ax.text(i + width / 2 * 1.05, -0.04, text("funding", used), ha="center", fontsize=7)
        ticks = [
            label + "\n" + text("total", used).format(amount=f"{total / 100:,.0f}")
            for label, total in zip(labels, [r["total_assets_fen"] for r in rows], strict=True)
        ]
        ax.set_xticks(range(len(rows)), ticks, fontsize=8)
        ax.tick_params(axis="x", pad=14)
        ax.set_ylim(0, 1.0)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylabel(text("share_axis", used), fontsize=9)
        ax.grid(visible=False, axis="x")
        handles, names = ax.get_legend_handles_labels()
        unique = dict(zip(names, handles, strict=True))  # one legend entry per block
        order = [text(b, used) for b in BLOCKS if text(b, used) in unique]
        figure.legend([unique[n] for n in order], order, loc="outside right upper", fontsize=8)
        figure.suptitle(text("title", used), fontsize=12)
        return _save(figure, path)
