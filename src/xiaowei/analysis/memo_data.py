"""Chart data of the credit memo (授信审查报告图表数据) that the credit file does not hold.

The committee's memo (``reports/credit_memo.py``) draws its charts from the
:class:`~xiaowei.analysis.credit_file.CreditFile`; the monthly table is already there, the rest
is built here, as plain JSON-able lists (money in integer fen):

* **balance curve** (余额曲线): the end-of-day total balance across all the applicant's accounts
  for every calendar day from the first to the last transaction — each account's last running
  balance of the day, carried forward over days without transactions (and, before its first
  transaction, its opening balance), summed over accounts. The same rule gives the average
  daily balance (日均余额) of :func:`xiaowei.analysis.flows.monthly_table`.
* **counterparty concentration** (交易对手集中度): the top-N customers (revenue inflows) and
  suppliers (business outflows) over the last ``months`` statement months, with amount and share,
  and the Herfindahl-Hirschman index (HHI, Σ share², 0–1) over all of them. Customers and
  suppliers are those of :func:`xiaowei.analysis.flows.flow_features` (own transfers, loans,
  refunds, interest, injections, tax, social insurance, payroll, lender repayments, cash and
  gambling left out, by the classification of :func:`xiaowei.analysis.flows.prepare`), so the
  HHI equals the feature ``customer_hhi_{months}m``.
* **bureau status timeline** (征信还款状态时间轴): per credit account of the personal report
  (个人信用报告) with a 60-month history, its lender type, account type and masked lender, and
  the last 24 months' repayment-status codes (还款状态: N, 1–7, C, …) with their months.
* **sales sources by month** (销售额来源月度对比): declared sales (IPC income statement), the
  statements' revenue estimate, POS settlements and e-commerce GMV per month — the data of
  :func:`xiaowei.reports.charts.sources_chart`.
* **report summary in both languages**: the credit-report analyst's paragraphs in English and
  Chinese, so the memo reads in either language whatever language the file was made in.

Pure: the caller passes the frames (``analysis/credit_file.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from xiaowei.analysis import flows
from xiaowei.analysis.credit_report_schema import PersonalReport, month_add
from xiaowei.core.errors import InvalidInput

__all__ = [
    "TIMELINE_MONTHS",
    "MemoCharts",
    "balance_curve",
    "bureau_timeline",
    "counterparty_concentration",
    "mask_name",
    "memo_charts",
    "sales_by_month",
]

#: Months of repayment status the timeline shows (the committee reads the last two years, as
#: the report analysis's 24-month delinquency window does).
TIMELINE_MONTHS = 24


class MemoCharts(BaseModel):
    """The memo's chart data (授信审查报告图表数据); every list holds plain dicts.

    ``balance_curve``: ``{"date": "YYYY-MM-DD", "balance_fen": int}`` per day.
    ``customers`` / ``suppliers``: ``{"name", "amount_fen", "share"}``, largest first.
    ``bureau_months``: ``YYYY-MM`` labels, oldest first; ``bureau_accounts``: ``{"account_id",
    "account_type", "institution_type", "business_type", "lender" (masked), "open" (bool),
    "statuses" (one code per month of bureau_months)}``.
    ``sales_months``: ``{"month", "declared_sales_fen", "bank_revenue_fen", "pos_fen",
    "gmv_fen"}`` (None where a source has no figure).
    """

    model_config = ConfigDict(frozen=True)

    balance_curve: list[dict[str, Any]] = Field(default_factory=list)
    concentration_months: int | None = Field(
        default=None, description="statement months the concentration covers"
    )
    customers: list[dict[str, Any]] = Field(default_factory=list)
    customer_total_fen: int = 0
    customer_count: int = 0
    customer_hhi: float | None = None
    suppliers: list[dict[str, Any]] = Field(default_factory=list)
    supplier_total_fen: int = 0
    supplier_count: int = 0
    supplier_hhi: float | None = None
    bureau_months: list[str] = Field(default_factory=list)
    bureau_accounts: list[dict[str, Any]] = Field(default_factory=list)
    sales_months: list[dict[str, Any]] = Field(default_factory=list)
    report_summary_text: dict[str, list[str]] = Field(
        default_factory=dict, description="the report analyst's paragraphs by language"
    )


def _one_business(prepared: flows.PreparedStatement, business_id: int | None) -> pl.DataFrame:
    df = prepared.frame
    ids = df["business_id"].unique()
    if business_id is None:
        if ids.len() > 1:
            raise InvalidInput("business_id", "the statement holds several businesses: name one")
        return df
    return df.filter(pl.col("business_id") == business_id)


def balance_curve(
    prepared: flows.PreparedStatement, *, business_id: int | None = None
) -> list[dict[str, Any]]:
    """End-of-day total balance per calendar day (余额曲线), first to last transaction day."""
    df = _one_business(prepared, business_id)
    if df.height == 0:
        return []
    # rows are in account and time order (prepare sorts them): the last row of a day is the
    # account's end-of-day balance, the first row's balance less its amount the opening balance
    eod = df.group_by("acct", "date", maintain_order=True).agg(pl.col("balance_fen").last())
    opening = df.group_by("acct", maintain_order=True).agg(
        (pl.col("balance_fen").first() - pl.col("signed").first()).alias("opening_fen")
    )
    first_day, last_day = df["date"].min(), df["date"].max()
    assert isinstance(first_day, date)
    assert isinstance(last_day, date)
    days = pl.DataFrame({"date": pl.date_range(first_day, last_day, interval="1d", eager=True)})
    grid = (
        opening.join(days, how="cross")
        .join(eod, on=["acct", "date"], how="left")
        .sort("acct", "date")
        .with_columns(pl.col("balance_fen").forward_fill().over("acct"))
        .with_columns(pl.col("balance_fen").fill_null(pl.col("opening_fen")))
    )
    total = grid.group_by("date").agg(pl.col("balance_fen").sum()).sort("date")
    return [
        {"date": d.isoformat(), "balance_fen": int(b)}
        for d, b in zip(total["date"], total["balance_fen"], strict=True)
    ]


def _party_rows(
    amounts: pl.DataFrame, names: pl.DataFrame, top_n: int
) -> tuple[list[dict[str, Any]], int, int, float | None]:
    """Top-N rows (name, amount, share), total, count and HHI of one role's counterparties."""
    if amounts.height == 0:
        return [], 0, 0, None
    total = int(amounts["amt"].sum())
    shares = amounts["amt"].cast(pl.Float64) / total
    hhi = float((shares**2).sum())
    top = (
        amounts.join(names, on="cp_id", how="left")
        .sort(["amt", "counterparty_name"], descending=[True, False])
        .head(top_n)
    )
    rows = [
        {"name": name, "amount_fen": int(amt), "share": int(amt) / total}
        for name, amt in zip(top["counterparty_name"], top["amt"], strict=True)
    ]
    return rows, total, amounts.height, hhi


def counterparty_concentration(
    prepared: flows.PreparedStatement,
    *,
    business_id: int | None = None,
    top_n: int = 10,
    months: int | None = None,
) -> dict[str, Any]:
    """Top-``top_n`` customers and suppliers with shares and the HHI (交易对手集中度) over the
    last ``months`` statement months (default: the longest feature window of the config).

    Returns ``{"months", "customers", "customer_total_fen", "customer_count", "customer_hhi",
    "suppliers", "supplier_total_fen", "supplier_count", "supplier_hhi"}``.
    """
    if top_n < 1:
        raise InvalidInput("top_n", "must be at least 1")
    window = months if months is not None else max(prepared.config.windows_months)
    if window < 1:
        raise InvalidInput("months", "must be at least 1")
    df = _one_business(prepared, business_id)
    out: dict[str, Any] = {"months": window}
    if df.height == 0:
        for role in ("customer", "supplier"):
            out |= {f"{role}s": [], f"{role}_total_fen": 0, f"{role}_count": 0, f"{role}_hhi": None}
        return out
    # the roles of flows.flow_features (one definition: flows.counterparty_roles)
    m_last = df["month_idx"].max()
    frame = flows.counterparty_roles(df, prepared.config).filter(
        pl.col("month_idx") > pl.lit(m_last) - window
    )
    customer = pl.col("is_customer")
    supplier = pl.col("is_supplier")
    for role, cond in (("customer", customer), ("supplier", supplier)):
        amounts = (
            frame.filter(cond)
            .group_by("cp_id")
            .agg(amt=pl.col("amount_fen").sum())
            .filter(pl.col("amt") > 0)
        )
        rows, total, count, hhi = _party_rows(amounts, prepared.counterparties, top_n)
        out |= {
            f"{role}s": rows,
            f"{role}_total_fen": total,
            f"{role}_count": count,
            f"{role}_hhi": hhi,
        }
    return out


def mask_name(name: str) -> str:
    """A lender's name masked for the memo (脱敏): first and last character kept."""
    if len(name) <= 2:
        return name[0] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def bureau_timeline(
    report: PersonalReport, *, months: int = TIMELINE_MONTHS
) -> tuple[list[str], list[dict[str, Any]]]:
    """Month labels and, per account with a history, its last ``months`` status codes
    (征信还款状态时间轴). Accounts with nothing in the window (all ``/``: closed before it or
    opened after it) are left out; open accounts come first, then by opening date."""
    if not 1 <= months <= 60:
        raise InvalidInput("months", "must be between 1 and 60")
    with_history = [a for a in report.PD01 if a.E is not None]
    if not with_history:
        return [], []
    first = with_history[0].E
    assert first is not None
    labels = [month_add(first.end_month, -k) for k in range(months - 1, -1, -1)]
    accounts: list[dict[str, Any]] = []
    for a in sorted(
        with_history, key=lambda a: (a.B.closed_date is not None, a.A.open_date, a.A.account_id)
    ):
        assert a.E is not None
        codes = list(a.E.status[-months:])
        if all(c == "/" for c in codes):
            continue
        accounts.append(
            {
                "account_id": a.A.account_id,
                "account_type": a.A.account_type,
                "institution_type": a.A.institution_type,
                "business_type": a.A.business_type,
                "lender": mask_name(a.A.institution),
                "open": a.B.closed_date is None,
                "statuses": codes,
            }
        )
    return labels, accounts


def _monthly_values(frame: pl.DataFrame | None, date_col: str, value_col: str) -> dict[str, int]:
    if frame is None or frame.height == 0:
        return {}
    for c in (date_col, value_col):
        if c not in frame.columns:
            raise InvalidInput(c, "missing column")
    sums = (
        frame.group_by(pl.col(date_col).dt.strftime("%Y-%m").alias("m"))
        .agg(pl.col(value_col).sum())
        .sort("m")
    )
    return {str(m): int(v) for m, v in zip(sums["m"], sums[value_col], strict=True)}


def sales_by_month(
    months: list[dict[str, Any]],
    *,
    income_monthly: pl.DataFrame | None = None,
    pos_settlements: pl.DataFrame | None = None,
    ecommerce: pl.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """Declared sales, bank revenue estimate, POS gross and GMV per month (销售额来源月度对比),
    over the months of the declared income statement (else of the statements)."""
    declared = _monthly_values(income_monthly, "month", "sales_declared_fen")
    bank = {str(m["month"]): int(m["revenue_estimate"]) for m in months}
    pos = _monthly_values(pos_settlements, "trade_date", "gross_fen")
    gmv = _monthly_values(ecommerce, "month", "gmv_fen")
    axis = sorted(declared) if declared else sorted(bank)
    return [
        {
            "month": m,
            "declared_sales_fen": declared.get(m),
            "bank_revenue_fen": bank.get(m),
            "pos_fen": pos.get(m),
            "gmv_fen": gmv.get(m),
        }
        for m in axis
    ]


def memo_charts(
    prepared: flows.PreparedStatement | None,
    report: PersonalReport | None,
    *,
    business_id: int | None = None,
    top_n: int = 10,
    concentration_months: int | None = None,
    months: list[dict[str, Any]] | None = None,
    income_monthly: pl.DataFrame | None = None,
    pos_settlements: pl.DataFrame | None = None,
    ecommerce: pl.DataFrame | None = None,
    report_summary_text: Mapping[str, list[str]] | None = None,
) -> MemoCharts:
    """The memo's chart data from the prepared statement (``flows.prepare``) and the personal
    report; each part is empty when its source is absent. ``months`` is the credit file's
    monthly table (for the bank line of the sales chart)."""
    data: dict[str, Any] = {}
    if prepared is not None:
        data["balance_curve"] = balance_curve(prepared, business_id=business_id)
        conc = counterparty_concentration(
            prepared, business_id=business_id, top_n=top_n, months=concentration_months
        )
        data["concentration_months"] = conc.pop("months")
        data |= conc
    if report is not None:
        data["bureau_months"], data["bureau_accounts"] = bureau_timeline(report)
    if income_monthly is not None or months:
        data["sales_months"] = sales_by_month(
            months or [],
            income_monthly=income_monthly,
            pos_settlements=pos_settlements,
            ecommerce=ecommerce,
        )
    if report_summary_text:
        data["report_summary_text"] = {k: list(v) for k, v in report_summary_text.items()}
    return MemoCharts(**data)
