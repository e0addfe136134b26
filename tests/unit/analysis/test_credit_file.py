"""The credit file of a tiny hand-built business: sources combined, absent ones recorded."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import polars as pl
import pytest

from xiaowei.analysis import financials as fin
from xiaowei.analysis import soft
from xiaowei.analysis.config import AnalysisConfig
from xiaowei.analysis.credit_file import ApplicationInputs, analyse_application, config_hash
from xiaowei.core.errors import InvalidInput

B = 7
MONTHS = [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
SALES = 10_000_000  # 100,000 yuan a month, fen
COGS = 7_000_000
WAGES = 1_000_000
HOUSEHOLD = 500_000
DISPOSABLE = SALES - COGS - WAGES - HOUSEHOLD  # 1,500,000 fen = 15,000 yuan a month


def _statements() -> pl.DataFrame:
    rows = []
    balance = 5_000_000
    for m in MONTHS:
        for k, customer in enumerate(("甲商贸", "乙超市", "丙饭店", "丁公司")):
            balance += SALES // 4
            rows.append(
                {
                    "business_id": B,
                    "account_id": 1,
                    "ts": datetime(m.year, m.month, 3 + 5 * k, 10, 0),
                    "direction": "in",
                    "amount_fen": SALES // 4,
                    "balance_fen": balance,
                    "counterparty_name": customer,
                    "memo": "货款",
                }
            )
        balance -= COGS
        rows.append(
            {
                "business_id": B,
                "account_id": 1,
                "ts": datetime(m.year, m.month, 25, 15, 0),
                "direction": "out",
                "amount_fen": COGS,
                "balance_fen": balance,
                "counterparty_name": "戊批发",
                "memo": "采购款",
            }
        )
    frame = pl.DataFrame(rows).with_columns(pl.col("ts").dt.date().alias("date"))
    return frame.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.Int64))


def _sheet(kind: str, as_of: date, cash: int) -> dict[str, object]:
    lines = dict.fromkeys(fin.ASSET_COLUMNS + fin.LIABILITY_COLUMNS, 0)
    lines |= {"cash_fen": cash, "inventory_fen": 20_000_000, "payables_fen": 5_000_000}
    assets = sum(lines[c] for c in fin.ASSET_COLUMNS)
    liabilities = sum(lines[c] for c in fin.LIABILITY_COLUMNS)
    return {
        "business_id": B,
        "as_of": as_of,
        "kind": kind,
        **lines,
        "total_assets_fen": assets,
        "total_liabilities_fen": liabilities,
        "equity_fen": assets - liabilities,
    }


def _income() -> pl.DataFrame:
    rows = []
    for m in MONTHS:
        gross = SALES - COGS
        net = gross - WAGES
        rows.append(
            {
                "business_id": B,
                "month": m,
                "sales_declared_fen": SALES,
                "cost_of_goods_fen": COGS,
                "gross_profit_fen": gross,
                "rent_fen": 0,
                "wages_fen": WAGES,
                "utilities_fen": 0,
                "taxes_fen": 0,
                "other_costs_fen": 0,
                "net_profit_fen": net,
                "household_expenses_fen": HOUSEHOLD,
                "disposable_income_fen": net - HOUSEHOLD,
            }
        )
    return pl.DataFrame(rows)


PROFILE = soft.OwnerProfile(
    age=40,
    marital_status=soft.MaritalStatus.MARRIED,
    education=soft.Education.COLLEGE,
    years_in_business=5.0,
    years_at_residence=8.0,
    household_size=3,
    children=1,
    spouse_involved=True,
    local_resident=True,
)


def _full(**changes: object) -> ApplicationInputs:
    period_profit = 3 * DISPOSABLE
    sheets = pl.DataFrame(
        [
            _sheet("check_point", date(2024, 12, 31), 1_000_000),
            _sheet("current", date(2025, 3, 31), 1_000_000 + period_profit),
        ]
    )
    equity = pl.DataFrame(
        {
            "business_id": [B],
            "period_profit_fen": [period_profit],
            "injections_fen": [0],
            "withdrawals_fen": [0],
            "appreciation_fen": [0],
            "depreciation_fen": [0],
        }
    )
    base: dict[str, object] = {
        "business_id": B,
        "as_of": date(2025, 4, 2),
        "industry": "trade",
        "employees": 2,
        "statements": _statements(),
        "own_identities": ("张三",),
        "declared_lenders": (),
        "balance_sheets": sheets,
        "income_monthly": _income(),
        "equity_inputs": equity,
        "requested_amount_fen": 6_000_000,
        "term_months": 10,
        "annual_rate": Decimal(0),
        "owner_profile": PROFILE,
    }
    return ApplicationInputs.model_validate(base | changes)


def test_nothing_but_the_application_records_every_source_missing() -> None:
    cf = analyse_application(ApplicationInputs(business_id=B, as_of=date(2025, 4, 2)))
    assert cf.features == {}
    assert cf.flags == []
    assert cf.capacity is None
    assert cf.willingness is None
    assert cf.cross_checks.equity is None
    assert cf.cross_checks.sales is None
    for source in ("statements", "credit_report", "financials", "pos", "owner_profile"):
        assert source in cf.sources_missing
    json.dumps(cf.to_json())


def test_sources_combined_with_hand_computed_checks() -> None:
    cf = analyse_application(_full(), AnalysisConfig())
    prefixes = {k.split("_", 1)[0] for k in cf.features}
    assert {"flow", "fin", "soft", "will"} <= prefixes
    # the statements' revenue is the declared sales: 3 months × 100,000 yuan
    assert cf.features["flow_revenue_3m"] == 3 * SALES
    assert len(cf.months) == 3
    # equity: current = check point + period profit exactly → deviation 0, pass
    assert cf.cross_checks.equity is not None
    assert cf.cross_checks.equity.verdict == "pass"
    assert cf.cross_checks.equity.deviation_fen == 0
    assert cf.cross_checks.sales is not None
    assert cf.cross_checks.sales.verdict == "pass"
    # capacity at 0 %: 60,000 yuan over 10 months = 6,000 a month of 15,000 disposable
    assert cf.capacity is not None
    assert cf.capacity.new_installment == Decimal(6000)
    assert cf.capacity.installment_ratio == Decimal("0.4")
    assert cf.features["fin_installment_ratio"] == pytest.approx(0.4)
    assert cf.capacity.within_cap
    assert cf.willingness is not None
    assert cf.features["soft_owner_age"] == 40.0
    assert "statements" not in cf.sources_missing
    assert "financials" not in cf.sources_missing
    assert {"credit_report", "pos", "ecommerce", "attendance"} <= set(cf.sources_missing)
    assert cf.config_hash == config_hash(AnalysisConfig())
    out = json.loads(json.dumps(cf.to_json()))
    assert out["business_id"] == B
    assert out["cross_checks"]["equity"]["verdict"] == "pass"
    assert all(v is None or isinstance(v, int | float) for v in out["features"].values())


def test_inflated_declared_sales_fail_the_sales_check() -> None:
    doubled = (
        _income()
        .with_columns(pl.col("sales_declared_fen") * 2)
        .with_columns(gross_profit_fen=pl.col("sales_declared_fen") - pl.col("cost_of_goods_fen"))
        .with_columns(net_profit_fen=pl.col("gross_profit_fen") - pl.col("wages_fen"))
        .with_columns(
            disposable_income_fen=pl.col("net_profit_fen") - pl.col("household_expenses_fen")
        )
    )
    cf = analyse_application(_full(income_monthly=doubled))
    assert cf.cross_checks.sales is not None
    assert cf.cross_checks.sales.verdict == "fail"
    assert "sales_cross_check" in {f.code for f in cf.flags}


def test_without_declared_lenders_the_hidden_debt_check_is_skipped_and_noted() -> None:
    cf = analyse_application(_full(declared_lenders=None))
    assert "declared_lenders" in cf.sources_missing
    assert all(f.code != "hidden_debt" for f in cf.flags)
    assert cf.notes


def test_rows_of_another_business_are_refused() -> None:
    with pytest.raises(InvalidInput, match="other businesses"):
        analyse_application(_full(statements=_statements().with_columns(business_id=pl.lit(8))))
