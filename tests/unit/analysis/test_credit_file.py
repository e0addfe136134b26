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


def _grid_item(cf: object, key: str) -> dict[str, object]:
    grid = cf.deviation_grid  # type: ignore[attr-defined]
    assert grid is not None
    return next(i for i in grid.items if i["key"] == key)


def _doubled_sales() -> pl.DataFrame:
    return (
        _income()
        .with_columns(pl.col("sales_declared_fen") * 2)
        .with_columns(gross_profit_fen=pl.col("sales_declared_fen") - pl.col("cost_of_goods_fen"))
        .with_columns(net_profit_fen=pl.col("gross_profit_fen") - pl.col("wages_fen"))
        .with_columns(
            disposable_income_fen=pl.col("net_profit_fen") - pl.col("household_expenses_fen")
        )
    )


def test_the_grid_sets_declared_sales_against_the_reconciled_estimate() -> None:
    honest = analyse_application(_full())
    item = _grid_item(honest, "declared.sales")
    # declared 300,000 = bank revenue 300,000: deviation 0, consistent
    assert item["deviation"] == 0.0
    assert item["rating"] == "favourable"
    assert honest.deviation_grid is not None
    assert honest.deviation_grid.deviation_rate == 0.0
    assert honest.deviation_grid.ready_for_approval
    doubled = analyse_application(_full(income_monthly=_doubled_sales()))
    item = _grid_item(doubled, "declared.sales")
    # declared 600,000 against 300,000 verified: (600 − 300) / 600 = 50 % overstated
    assert item["deviation"] == pytest.approx(0.5)
    assert item["rating"] == "risky"
    assert item["reason"] == "overstated by 50.0%"
    grid = doubled.deviation_grid
    assert grid is not None
    assert grid.items_compared == 1
    assert grid.deviation_rate == 1.0
    assert grid.missing_justifications == ["declared.sales"]
    assert not grid.ready_for_approval
    assert doubled.features["soft_deviation_rate"] == 1.0
    assert any(
        f.code == "declared_deviation" and f.evidence["item"] == "declared.sales"
        for f in doubled.flags
    )


def _attendance(staff: int, present: int, months: list[date]) -> pl.DataFrame:
    rows = [
        {
            "business_id": B,
            "date": date(m.year, m.month, d),
            "staff": staff,
            "present": present,
            "late": 0,
            "leave": 0,
            "absent": staff - present,
            "approvals": 0,
            "approvals_leave": 0,
            "approvals_expense": 0,
            "approvals_purchase": 0,
        }
        for m in months
        for d in range(2, 22)
    ]
    return pl.DataFrame(rows)


def test_declared_staff_against_the_attendance_system() -> None:
    # 2 declared, 5 on the attendance roll: under-declared staff is not the adverse direction
    cf = analyse_application(_full(attendance=_attendance(5, 5, MONTHS)))
    item = _grid_item(cf, "declared.employees")
    assert item["deviation"] == pytest.approx((2 - 5) / 2)
    assert item["rating"] == "neutral"
    # 10 declared against 5 present on the roll: (10 − 5) / 10 = 50 % overstated, risky
    cf = analyse_application(_full(employees=10, attendance=_attendance(5, 5, MONTHS)))
    item = _grid_item(cf, "declared.employees")
    assert item["deviation"] == pytest.approx(0.5)
    assert item["rating"] == "risky"


def test_revenue_change_compares_the_last_quarter_with_the_one_before() -> None:
    six = [date(2024, 10, 1), date(2024, 11, 1), date(2024, 12, 1), *MONTHS]
    early = _statements().with_columns(
        pl.col("ts").dt.offset_by("-3mo"), pl.col("date").dt.offset_by("-3mo")
    )
    # the earlier quarter sold twice as much: recent / prior − 1 = 1/2 − 1 = −50 %
    early = early.with_columns(
        pl.when(pl.col("direction") == "in")
        .then(pl.col("amount_fen") * 2)
        .otherwise(pl.col("amount_fen"))
        .alias("amount_fen")
    )
    rows = pl.concat([early, _statements()]).sort("ts")
    balance = (
        pl.when(pl.col("direction") == "in")
        .then(pl.col("amount_fen"))
        .otherwise(-pl.col("amount_fen"))
        .cum_sum()
        + 5_000_000
    )
    rows = rows.with_columns(balance.alias("balance_fen")).drop("row")
    rows = rows.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.Int64))
    cf = analyse_application(_full(statements=rows))
    assert len(cf.months) == len(six)
    item = _grid_item(cf, "dynamic.revenue_change")
    assert item["value"] == "-50.0%"
    assert item["rating"] == "risky"


def test_transactions_after_the_application_date_are_left_out() -> None:
    late = _statements().with_columns(
        pl.col("ts").dt.offset_by("2mo"), pl.col("date").dt.offset_by("2mo")
    )
    cut = analyse_application(_full(as_of=date(2025, 3, 31), statements=late))
    # only January's rows moved to March are on or before 31 March
    assert [m["month"] for m in cut.months] == ["2025-03"]


def test_declared_debts_name_the_lenders_for_the_hidden_debt_check() -> None:
    repay = {
        "business_id": B,
        "account_id": 1,
        "direction": "out",
        "amount_fen": 300_000,
        "counterparty_name": "深圳前海微众银行股份有限公司",
        "memo": "微粒贷还款",
    }
    tx = _statements().drop("row", "date")
    rows = [{**repay, "ts": datetime(m.year, m.month, 26, 9, 0), "balance_fen": 0} for m in MONTHS]
    both = pl.concat([tx, pl.DataFrame(rows).select(tx.columns)], how="vertical_relaxed")
    both = both.sort("ts").with_columns(
        (
            pl.when(pl.col("direction") == "in")
            .then(pl.col("amount_fen"))
            .otherwise(-pl.col("amount_fen"))
            .cum_sum()
            + 5_000_000
        ).alias("balance_fen"),
        pl.col("ts").dt.date().alias("date"),
    )
    both = both.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.Int64))
    listed = pl.DataFrame(
        {
            "business_id": [B],
            "lender": ["微众银行(微粒贷)"],
            "balance_fen": [2_000_000],
            "monthly_payment_fen": [300_000],
        }
    )
    empty = listed.clear()
    hidden = analyse_application(
        _full(statements=both, declared_lenders=None, declared_debts=empty)
    )
    assert "hidden_debt" in {f.code for f in hidden.flags}
    declared = analyse_application(
        _full(statements=both, declared_lenders=None, declared_debts=listed)
    )
    assert "hidden_debt" not in {f.code for f in declared.flags}
    assert "declared_lenders" not in declared.sources_missing


def test_a_mutual_guarantee_is_a_circle_with_the_partner_loan_as_exposure() -> None:
    edges = pl.DataFrame({"guarantor_id": [B, 8], "borrower_id": [8, B]})
    amounts = pl.DataFrame({"business_id": [B, 8], "amount_fen": [6_000_000, 9_000_000]})
    cf = analyse_application(_full(guarantee_edges=edges, loan_amounts=amounts))
    assert cf.network is not None
    assert cf.network.circle_members == [B, 8]
    assert cf.features["net_in_circle"] == 1
    assert cf.features["net_exposure_direct_fen"] == 9_000_000
    assert "guarantee_circle" in {f.code for f in cf.flags}
    assert "network" not in cf.sources_missing
    alone = analyse_application(_full())
    assert alone.network is None
    assert "network" in alone.sources_missing


def test_shared_phone_links_two_applicants() -> None:
    attrs = pl.DataFrame(
        {
            "business_id": [B, 9, 10, 11],
            "attribute_kind": ["phone", "phone", "address", "phone"],
            "value": ["13800000000", "13800000000 ", "x路1号", "13900000000"],
        }
    )
    pair = analyse_application(_full(shared_attributes=attrs))
    assert pair.network is not None
    assert pair.network.shared_with == [9]
    assert pair.features["net_shared_group_size"] == 2
    # a pair is below the ring size (shared_group_min_size = 3): linked, not flagged
    assert "shared_attributes" not in {f.code for f in pair.flags}
    ring = attrs.vstack(
        pl.DataFrame({"business_id": [10], "attribute_kind": ["phone"], "value": ["13800000000"]})
    )
    cf = analyse_application(_full(shared_attributes=ring))
    assert cf.network is not None
    assert cf.network.shared_with == [9, 10]
    assert "shared_attributes" in {f.code for f in cf.flags}


def test_guarantors_raise_the_cost_of_default() -> None:
    bare = analyse_application(_full())
    backed = analyse_application(_full(guarantor_shares=(Decimal(1),)))
    assert bare.willingness is not None
    assert backed.willingness is not None
    assert backed.willingness.cost_of_default > bare.willingness.cost_of_default


def test_the_config_hash_is_the_same_in_every_process() -> None:
    """Sets in the configuration iterate in a per-process order (salted string hashing):
    the fingerprint must not depend on it."""
    import os
    import subprocess
    import sys

    code = (
        "from xiaowei.analysis.config import AnalysisConfig\n"
        "from xiaowei.analysis.credit_file import config_hash\n"
        "print(config_hash(AnalysisConfig()))"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout.strip()
        for seed in (1, 2, 3)
    }
    assert seen == {config_hash(AnalysisConfig())}
    changed = AnalysisConfig.model_validate({"financials": {"margin_gap_points": 0.07}})
    assert config_hash(changed) != config_hash(AnalysisConfig())
