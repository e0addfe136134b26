"""The memo's chart data (issue 4): balance curve, concentration, bureau timeline, by hand."""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

import polars as pl
import pytest

from xiaowei.analysis import flows
from xiaowei.analysis.credit_report_schema import PersonalReport, month_add, parse_personal
from xiaowei.analysis.memo_data import (
    balance_curve,
    bureau_timeline,
    counterparty_concentration,
    mask_name,
    memo_charts,
    sales_by_month,
)
from xiaowei.core.errors import InvalidInput
from xiaowei.simulate import credit_report
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.world import build_world, chunks

B = 4


def _statement(rows: list[tuple[int, datetime, str, int, str | None, str]]) -> pl.DataFrame:
    """Rows (account, time, direction, amount, counterparty, memo) with running balances from
    each account's opening balance (account 1: 1,000 fen, account 2: 5,000 fen)."""
    balances = {1: 1_000, 2: 5_000}
    out = []
    for i, (acct, ts, direction, amount, cp, memo) in enumerate(rows, start=1):
        balances[acct] += amount if direction == "in" else -amount
        out.append(
            {
                "business_id": B,
                "account_id": acct,
                "txn_id": i,
                "ts": ts,
                "direction": direction,
                "amount_fen": amount,
                "balance_fen": balances[acct],
                "counterparty_name": cp,
                "counterparty_account": None,
                "memo": memo,
                "channel": "网银",
            }
        )
    return pl.DataFrame(out)


def test_balance_curve_carries_each_account_forward_and_sums() -> None:
    tx = _statement(
        [
            (1, datetime(2025, 1, 1, 9), "in", 500, "甲", "货款"),  # acct 1: 1,500
            (1, datetime(2025, 1, 1, 15), "out", 200, "乙", "采购"),  # 1,300 at the day's end
            (2, datetime(2025, 1, 2, 10), "out", 1_000, "丙", "采购"),  # acct 2: 4,000
            (1, datetime(2025, 1, 4, 11), "in", 100, "甲", "货款"),  # 1,400
            (2, datetime(2025, 1, 5, 16), "in", 50, "丁", "货款"),  # 4,050
        ]
    )
    curve = balance_curve(flows.prepare(tx))
    # 1 Jan: account 2 has not moved yet, it holds its opening 5,000; 3 Jan: both carried
    assert curve == [
        {"date": "2025-01-01", "balance_fen": 1_300 + 5_000},
        {"date": "2025-01-02", "balance_fen": 1_300 + 4_000},
        {"date": "2025-01-03", "balance_fen": 1_300 + 4_000},
        {"date": "2025-01-04", "balance_fen": 1_400 + 4_000},
        {"date": "2025-01-05", "balance_fen": 1_400 + 4_050},
    ]


def _trading_month() -> pl.DataFrame:
    return _statement(
        [
            (1, datetime(2025, 3, 1, 9), "in", 60_000, "甲商贸", "货款"),
            (1, datetime(2025, 3, 2, 9), "in", 30_000, "乙超市", "货款"),
            (1, datetime(2025, 3, 3, 9), "in", 10_000, "丙饭店", "货款"),
            (1, datetime(2025, 3, 4, 9), "in", 900_000, "张三", "本人账户转账"),  # own
            (1, datetime(2025, 3, 5, 9), "in", 500_000, "某银行", "贷款发放"),  # loan
            (1, datetime(2025, 3, 6, 9), "out", 40_000, "戊批发", "采购款"),
            (1, datetime(2025, 3, 7, 9), "out", 10_000, "己物流", "运费"),
            (1, datetime(2025, 3, 8, 9), "out", 7_000, "税务局", "缴税"),  # tax
            (1, datetime(2025, 3, 9, 9), "out", 20_000, "李四", "代发工资"),  # payroll
            (1, datetime(2025, 3, 10, 9), "out", 30_000, "某小额贷款公司", "还款"),  # lender
        ]
    )


def test_concentration_shares_and_hhi_by_hand() -> None:
    prepared = flows.prepare(_trading_month(), ["张三"])
    conc = counterparty_concentration(prepared, top_n=2)
    # customers 600 / 300 / 100 yuan of 1,000: shares 0.6, 0.3, 0.1, HHI 0.36 + 0.09 + 0.01;
    # the own transfer and the loan proceeds are no customers
    assert conc["customers"] == [
        {"name": "甲商贸", "amount_fen": 60_000, "share": pytest.approx(0.6)},
        {"name": "乙超市", "amount_fen": 30_000, "share": pytest.approx(0.3)},
    ]
    assert conc["customer_total_fen"] == 100_000
    assert conc["customer_count"] == 3
    assert conc["customer_hhi"] == pytest.approx(0.46)
    # suppliers 400 / 100: tax, payroll and the lender repayment are no purchases; HHI 0.68
    assert conc["suppliers"] == [
        {"name": "戊批发", "amount_fen": 40_000, "share": pytest.approx(0.8)},
        {"name": "己物流", "amount_fen": 10_000, "share": pytest.approx(0.2)},
    ]
    assert conc["supplier_count"] == 2
    assert conc["supplier_hhi"] == pytest.approx(0.68)
    assert conc["months"] == 12


def test_concentration_equals_the_flow_features() -> None:
    prepared = flows.prepare(_trading_month(), ["张三"])
    row = flows.flow_features(prepared).row(0, named=True)
    for w in (3, 12):
        conc = counterparty_concentration(prepared, months=w)
        assert conc["customer_hhi"] == pytest.approx(row[f"customer_hhi_{w}m"])
        assert conc["supplier_hhi"] == pytest.approx(row[f"supplier_hhi_{w}m"])
        assert conc["customers"][0]["share"] == pytest.approx(row[f"customer_top1_share_{w}m"])


def test_concentration_window_counts_back_from_the_last_month() -> None:
    older = _statement([(1, datetime(2024, 12, 20, 9), "in", 1_000_000, "庚公司", "货款")])
    tx = pl.concat([older, _trading_month().with_columns(pl.col("txn_id") + 1)])
    prepared = flows.prepare(tx, ["张三"])
    # March back to January: December's large customer is outside
    assert [c["name"] for c in counterparty_concentration(prepared, months=3)["customers"]] == [
        "甲商贸",
        "乙超市",
        "丙饭店",
    ]
    assert counterparty_concentration(prepared, months=4)["customers"][0]["name"] == "庚公司"


def test_bad_arguments_are_refused() -> None:
    prepared = flows.prepare(_trading_month())
    with pytest.raises(InvalidInput, match="top_n"):
        counterparty_concentration(prepared, top_n=0)
    with pytest.raises(InvalidInput, match="months"):
        counterparty_concentration(prepared, months=0)
    two = pl.concat(
        [_trading_month(), _trading_month().with_columns(business_id=pl.lit(5, pl.Int64))]
    )
    with pytest.raises(InvalidInput, match="several businesses"):
        balance_curve(flows.prepare(two))
    assert balance_curve(flows.prepare(two), business_id=5)[0]["date"] == "2025-03-01"


def test_mask_name() -> None:
    assert mask_name("中国银行") == "中**行"
    assert mask_name("招行") == "招*"
    assert mask_name("某小额贷款公司") == "某*****司"


# --- the bureau timeline ----------------------------------------------------------------------

END = "2025-06"
START = month_add(END, -59)


def _account(
    account_id: str, status: str, *, open_date: str, closed: str | None, kind: str = "D1"
) -> dict[str, Any]:
    digits = [i for i, c in enumerate(status) if c in "1234567"]
    return {
        "A": {
            "account_id": account_id,
            "account_type": kind,
            "institution_type": "51" if kind == "D1" else "11",
            "institution": "某小额贷款公司" if kind == "D1" else "招商银行",
            "business_type": "41" if kind == "D1" else "81",
            "currency": "CNY",
            "repayment_method": "11" if kind == "D1" else "90",
            "repayment_frequency": "03",
            "guarantee_type": "4",
            "amount_yuan": 50000 if kind == "D1" else None,
            "credit_limit_yuan": None if kind == "D1" else 20000,
            "open_date": open_date,
            "due_date": "2026-12-01" if kind == "D1" else None,
            "installments": 36 if kind == "D1" else None,
        },
        "B": {
            "account_status": ("1" if closed is None else "3") if kind == "D1" else "1",
            "five_category": "1" if closed is None else None,
            "repayment_status": status[-1] if closed is None else "C",
            "balance_yuan": 10000 if closed is None else 0,
            "closed_date": closed,
            "report_date": "2025-06-05" if closed is None else closed,
        },
        "C": (
            {
                "month": END,
                "due_yuan": 1500,
                "overdue_yuan": 1500 if status[-1] in "1234567" else 0,
                "overdue_periods": 1 if status[-1] in "1234567" else 0,
                "remaining_periods": 12 if kind == "D1" else None,
                "used_yuan": None if kind == "D1" else 3000,
            }
            if closed is None
            else None
        ),
        "E": {
            "start_month": START,
            "end_month": END,
            "months": 60,
            "status": status,
            "overdue": [{"month": month_add(START, i), "amount_yuan": 1500} for i in digits],
        },
        "F": [],
    }


# last 24 months of the loan: paid, a 1-2-3 episode, cured, one month late now
LOAN_LAST24 = "NNNNNN123NNNNNNNNNNNNNN1"
LOAN = "/" * 30 + "*" + "N" * 5 + LOAN_LAST24
CARD = "N" * 60
OLD = "/" * 5 + "*NNNNNNNNNC" + "/" * 44  # closed long before the window


@pytest.fixture(scope="module")
def report() -> PersonalReport:
    world = build_world(SimulationConfig(businesses=8, seed=11))
    doc = copy.deepcopy(
        credit_report.render(next(iter(chunks(world)))).documents["credit_reports/personal"][0]
    )
    doc["PRH"]["report_time"] = "2025-06-15T10:00:00"
    doc["PD01"] = [
        _account("OLD-1", OLD, open_date="2020-12-01", closed="2021-10-20"),
        _account("LOAN-1", LOAN, open_date="2023-01-10", closed=None),
        _account("CARD-1", CARD, open_date="2018-03-01", closed=None, kind="R2"),
    ]
    doc["PC02"]["accounts_total"] = 3
    doc["PH01"] = [q for q in doc["PH01"] if q["date"] < "2025-06-15"]
    if doc["PC05"]["last_query"] is not None:
        doc["PC05"]["last_query"] = doc["PH01"][0] if doc["PH01"] else None
    return parse_personal(doc)


def test_timeline_last_24_months_open_accounts_first(report: PersonalReport) -> None:
    months, accounts = bureau_timeline(report)
    assert months == [month_add(END, -k) for k in range(23, -1, -1)]
    assert months[0] == "2023-07"
    assert months[-1] == "2025-06"
    # open accounts by opening date (the card opened first), the old loan is all '/': left out
    assert [a["account_id"] for a in accounts] == ["CARD-1", "LOAN-1"]
    assert "".join(accounts[1]["statuses"]) == LOAN_LAST24
    assert accounts[0]["statuses"] == ["N"] * 24
    assert accounts[1] | {"statuses": None} == {
        "account_id": "LOAN-1",
        "account_type": "D1",
        "institution_type": "51",
        "business_type": "41",
        "lender": "某*****司",
        "open": True,
        "statuses": None,
    }
    short_months, short = bureau_timeline(report, months=6)
    assert short_months == ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    assert "".join(short[1]["statuses"]) == "NNNNN1"
    with pytest.raises(InvalidInput, match="months"):
        bureau_timeline(report, months=61)


def test_memo_charts_combines_the_parts(report: PersonalReport) -> None:
    prepared = flows.prepare(_trading_month(), ["张三"])
    months = flows.months_json(flows.monthly_table(prepared), B)
    income = pl.DataFrame(
        {"business_id": [B], "month": [date(2025, 3, 1)], "sales_declared_fen": [150_000]}
    )
    charts = memo_charts(
        prepared,
        report,
        business_id=B,
        top_n=1,
        months=months,
        income_monthly=income,
        report_summary_text={"en": ["a"], "zh-CN": ["甲"]},
    )
    assert charts.customers == [{"name": "甲商贸", "amount_fen": 60_000, "share": 0.6}]
    assert charts.concentration_months == 12
    assert len(charts.balance_curve) == 10
    assert [a["account_id"] for a in charts.bureau_accounts] == ["CARD-1", "LOAN-1"]
    # declared 1,500 yuan against the revenue estimate of 1,000 (customers only)
    assert charts.sales_months == [
        {
            "month": "2025-03",
            "declared_sales_fen": 150_000,
            "bank_revenue_fen": 100_000,
            "pos_fen": None,
            "gmv_fen": None,
        }
    ]
    assert charts.report_summary_text == {"en": ["a"], "zh-CN": ["甲"]}
    empty = memo_charts(None, None)
    assert empty.balance_curve == []
    assert empty.bureau_accounts == []
    assert empty.customer_hhi is None
    assert empty.model_dump(mode="json")["sales_months"] == []


def test_sales_by_month_sums_pos_days_and_follows_the_declared_months() -> None:
    pos = pl.DataFrame(
        {
            "trade_date": [date(2025, 2, 3), date(2025, 2, 20), date(2025, 3, 1)],
            "gross_fen": [100, 200, 400],
        }
    )
    income = pl.DataFrame(
        {"month": [date(2025, 2, 1), date(2025, 3, 1)], "sales_declared_fen": [1_000, 2_000]}
    )
    rows = sales_by_month(
        [{"month": "2025-01", "revenue_estimate": 9}, {"month": "2025-02", "revenue_estimate": 7}],
        income_monthly=income,
        pos_settlements=pos,
    )
    assert rows == [
        {
            "month": "2025-02",
            "declared_sales_fen": 1_000,
            "bank_revenue_fen": 7,
            "pos_fen": 300,
            "gmv_fen": None,
        },
        {
            "month": "2025-03",
            "declared_sales_fen": 2_000,
            "bank_revenue_fen": None,
            "pos_fen": 400,
            "gmv_fen": None,
        },
    ]
    with pytest.raises(InvalidInput, match="gross_fen"):
        sales_by_month([], pos_settlements=pos.rename({"gross_fen": "x"}))
