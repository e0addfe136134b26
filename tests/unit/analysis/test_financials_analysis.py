"""Financial analysis and IPC cross-checks (xiaowei.analysis.financials), worked by hand.

The worked example: 张记五金, a small hardware trader (template trade 贸易型). Yuan below;
the code works in fen (× 100).

Balance sheet at the equity check point (权益检验原始点):
  current assets: cash 5,000 + deposits 20,000 + receivables 10,000 + inventory 60,000 = 95,000
  non-current: equipment 8,000 + vehicles 30,000 + prepaid rent 6,000 = 44,000
  household assets 100,000                      → total assets 239,000
  liabilities: payables 15,000 + short-term loan 40,000 + private loan 10,000 = 65,000
  equity = 239,000 − 65,000 = 174,000

Balance sheet now (当前):
  current: cash 6,000 + deposits 35,000 + receivables 12,000 + prepayments 2,000
           + inventory 70,000 = 125,000
  non-current: equipment 7,000 + vehicles 27,000 + prepaid rent 3,000 = 37,000
  household 100,000                             → total assets 262,000
  liabilities: payables 18,000 + short-term 30,000 + private 10,000 = 58,000 (all current)
  equity = 262,000 − 58,000 = 204,000

Equity cross-check (权益交叉检验): period profit 48,000, withdrawals 12,000, depreciation 4,000
  expected = 174,000 + 48,000 + 0 + 0 − 12,000 − 4,000 = 206,000
  deviation = 206,000 − 204,000 = 2,000; rate = 2,000 / 48,000 = 4.1667 % → pass (≤ 5 %)
  against equity: 2,000 / 204,000 = 0.9804 %
  withdrawals 10,000 → deviation 4,000 = 8.33 % → explain; 8,000 → 6,000 = 12.5 % → fail.

Products (产品毛利表): A cost 80 / price 100, share 0.5 → margin 0.20;
  B 30 / 40, share 0.3 → 0.25; C 7 / 10, share 0.2 → 0.30.
  weighted GM = 0.5·0.20 + 0.3·0.25 + 0.2·0.30 = 0.235.

Income statement, 12 months: six months of sales 40,000 and six of 60,000 (600,000);
  cost of goods = sales × 0.765 (30,600 / 45,900 → 459,000); gross profit 141,000;
  costs a month: rent 1,000, wages 3,000, utilities 300, taxes 400, other 300 = 5,000;
  net profit 4,400 / 9,100 a month → 81,000; household 2,000 a month;
  disposable income 2,400 / 7,100 → 57,000; monthly disposable income 4,750.

Ratios (current sheet): gross margin 0.235; net margin 81,000 / 600,000 = 0.135;
  current 125,000 / 58,000 = 2.1552; quick (125,000 − 70,000) / 58,000 = 0.9483;
  debt ratio 58,000 / 262,000 = 0.2214; inventory turnover 459,000 / 70,000 = 6.557;
  receivable turnover 600,000 / 12,000 = 50; 销货比 (30,000 + 10,000) / 600,000 = 0.0667.

Sales cross-check (declared 600,000): bank revenue 47,000 × 12 = 564,000 (dev +6 %);
  purchases 36,720 × 12 = 440,640 ÷ 0.765 = 576,000 (dev +4 %); staff 2 × 20,000 × 12 =
  480,000 (dev +20 %; norm set to 20,000 a month in the test); POS gross 10,000 × 12 = 120,000
  (floor). Weighted median (weights bank 3, purchases 1, staff 0.5; sorted 480k/564k/576k,
  cumulative 0.5/3.5/4.5 ≥ 2.25 at 564k) = 564,000 → deviation 6 % → pass;
  spread (576,000 − 480,000) / 564,000 = 0.1702.

Repayment capacity: loan 50,000 at 12 % a year over 12 months, monthly rate 1 %:
  installment = 50,000 · 0.01 · 1.01¹² / (1.01¹² − 1) = 4,442.44; existing 500;
  ratio (4,442.44 + 500) / 4,750 = 1.0405 > 0.5 → over the cap;
  room = 0.5 · 4,750 − 500 = 1,875; payment per yuan 0.08884879 → max loan 21,103.27.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.analysis import financials as fin
from xiaowei.analysis.flags import Severity
from xiaowei.core.errors import InvalidInput

Y = 100  # fen per yuan

CHECK_POINT = fin.BalanceSheet(
    cash_fen=5_000 * Y,
    bank_deposits_fen=20_000 * Y,
    receivables_fen=10_000 * Y,
    prepayments_fen=0,
    inventory_fen=60_000 * Y,
    equipment_fen=8_000 * Y,
    vehicles_fen=30_000 * Y,
    property_fen=0,
    prepaid_rent_fen=6_000 * Y,
    other_operating_assets_fen=0,
    household_assets_fen=100_000 * Y,
    payables_fen=15_000 * Y,
    advance_receipts_fen=0,
    short_term_loans_fen=40_000 * Y,
    long_term_loans_fen=0,
    private_loans_fen=10_000 * Y,
    other_liabilities_fen=0,
)
CURRENT = fin.BalanceSheet(
    cash_fen=6_000 * Y,
    bank_deposits_fen=35_000 * Y,
    receivables_fen=12_000 * Y,
    prepayments_fen=2_000 * Y,
    inventory_fen=70_000 * Y,
    equipment_fen=7_000 * Y,
    vehicles_fen=27_000 * Y,
    property_fen=0,
    prepaid_rent_fen=3_000 * Y,
    other_operating_assets_fen=0,
    household_assets_fen=100_000 * Y,
    payables_fen=18_000 * Y,
    advance_receipts_fen=0,
    short_term_loans_fen=30_000 * Y,
    long_term_loans_fen=0,
    private_loans_fen=10_000 * Y,
    other_liabilities_fen=0,
)
MONTHS = [dt.date(2024, m, 1) for m in range(1, 13)]


def _sheets(bid: int = 1) -> pl.DataFrame:
    rows = [
        {"business_id": bid, "kind": kind, **sheet.model_dump()}
        for kind, sheet in (("check_point", CHECK_POINT), ("current", CURRENT))
    ]
    return pl.DataFrame(rows)


def _month(sales_yuan: int) -> dict[str, int]:
    sales = sales_yuan * Y
    cogs = sales * 765 // 1000
    gross = sales - cogs
    costs = {
        "rent_fen": 1_000 * Y,
        "wages_fen": 3_000 * Y,
        "utilities_fen": 300 * Y,
        "taxes_fen": 400 * Y,
        "other_costs_fen": 300 * Y,
    }
    net = gross - sum(costs.values())
    return {
        "sales_declared_fen": sales,
        "cost_of_goods_fen": cogs,
        "gross_profit_fen": gross,
        **costs,
        "net_profit_fen": net,
        "household_expenses_fen": 2_000 * Y,
        "disposable_income_fen": net - 2_000 * Y,
    }


def _income(bid: int = 1) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"business_id": bid, "month": m, **_month(40_000 if i < 6 else 60_000)}
            for i, m in enumerate(MONTHS)
        ]
    )


def _monthly(column: str, yuan: int) -> pl.DataFrame:
    return pl.DataFrame({"business_id": [1] * 12, "month": MONTHS, column: [yuan * Y] * 12})


PRODUCTS = [
    fin.ProductLine(product="A", purchase_price_fen=8_000, sale_price_fen=10_000, sales_share=0.5),
    fin.ProductLine(product="B", purchase_price_fen=3_000, sale_price_fen=4_000, sales_share=0.3),
    fin.ProductLine(product="C", purchase_price_fen=700, sale_price_fen=1_000, sales_share=0.2),
]
INDUSTRY = pl.DataFrame({"business_id": [1], "industry": ["trade"]})


# --- the model -------------------------------------------------------------------------------


def test_balance_sheet_totals_by_hand() -> None:
    assert CHECK_POINT.current_assets_fen == 95_000 * Y
    assert CHECK_POINT.non_current_assets_fen == 44_000 * Y
    assert CHECK_POINT.total_assets_fen == 239_000 * Y
    assert CHECK_POINT.total_liabilities_fen == 65_000 * Y
    assert CHECK_POINT.equity_fen == 174_000 * Y
    assert CURRENT.current_assets_fen == 125_000 * Y
    assert CURRENT.business_assets_fen == 162_000 * Y
    assert CURRENT.current_liabilities_fen == 58_000 * Y
    assert CURRENT.debt_fen == 40_000 * Y
    assert CURRENT.bank_debt_fen == 30_000 * Y
    assert CURRENT.equity_fen == 204_000 * Y


def test_from_row_checks_stated_totals() -> None:
    row = {**CURRENT.model_dump(), "total_assets_fen": 262_000 * Y, "equity_fen": 204_000 * Y}
    assert fin.BalanceSheet.from_row(row) == CURRENT
    with pytest.raises(InvalidInput, match="equity_fen"):
        fin.BalanceSheet.from_row({**row, "equity_fen": 1})


def test_validate_balance_sheets_adds_totals_and_rejects_mismatch() -> None:
    out = fin.validate_balance_sheets(_sheets())
    cur = out.filter(pl.col("kind") == "current").row(0, named=True)
    assert cur["equity_fen"] == 204_000 * Y
    assert cur["current_liabilities_fen"] == 58_000 * Y
    bad = _sheets().with_columns(pl.lit(5).alias("total_assets_fen"))
    with pytest.raises(InvalidInput, match=r"balance_sheets\.total_assets_fen"):
        fin.validate_balance_sheets(bad)


def test_weighted_gross_margin_by_hand() -> None:
    assert fin.weighted_gross_margin(PRODUCTS) == pytest.approx(0.235)
    frame = pl.DataFrame([{"business_id": 1, **p.model_dump()} for p in PRODUCTS])
    out = fin.weighted_gross_margins(frame)
    assert out["weighted_gross_margin"][0] == pytest.approx(0.235)
    assert out["products"][0] == 3
    with pytest.raises(InvalidInput, match="sales_share"):
        fin.weighted_gross_margin(PRODUCTS[:2])
    with pytest.raises(InvalidInput, match="sales_share"):
        fin.weighted_gross_margins(frame.head(2))


def test_income_statement_by_hand() -> None:
    stmt = fin.IncomeStatement(
        months=tuple(fin.IncomeMonth.model_validate(r) for r in _income().iter_rows(named=True))
    )
    assert stmt.sales_fen == 600_000 * Y
    assert stmt.gross_margin == pytest.approx(0.235)
    assert stmt.net_margin == pytest.approx(0.135)
    assert stmt.monthly_disposable_income == Decimal("4750")
    summary = fin.income_summary(_income()).row(0, named=True)
    assert summary["net_profit_fen"] == 81_000 * Y
    assert summary["monthly_disposable_income_fen"] == 4_750 * Y


def test_income_identity_violation_is_named() -> None:
    bad = _income().with_columns(pl.col("net_profit_fen") + 1)
    with pytest.raises(InvalidInput, match=r"income_monthly\.net_profit_fen"):
        fin.validate_income_monthly(bad)
    with pytest.raises(ValueError, match="gross_profit"):
        fin.IncomeMonth.model_validate({**_month(1000), "gross_profit_fen": 1})


def test_templates_cover_every_default_industry() -> None:
    assert fin.template_for("catering") is fin.Template.SERVICE
    assert fin.template_for("agriculture") is fin.Template.MANUFACTURING
    assert fin.template_for("ecommerce") is fin.Template.TRADE
    assert "inventory_turnover" not in fin.TEMPLATES[fin.Template.SERVICE].ratios
    with pytest.raises(InvalidInput, match="industry"):
        fin.template_for("mining")


# --- ratios ----------------------------------------------------------------------------------


def test_ratios_by_hand() -> None:
    r = fin.financial_ratios(_sheets(), _income(), INDUSTRY).row(0, named=True)
    assert r["template"] == "trade"
    assert r["annual_sales_fen"] == 600_000 * Y
    assert r["gross_margin"] == pytest.approx(0.235)
    assert r["net_margin"] == pytest.approx(0.135)
    assert r["current_ratio"] == pytest.approx(125 / 58)
    assert r["quick_ratio"] == pytest.approx(55 / 58)
    assert r["debt_ratio"] == pytest.approx(58 / 262)
    assert r["inventory_turnover"] == pytest.approx(459 / 70)
    assert r["receivable_turnover"] == pytest.approx(50.0)
    assert r["debt_to_sales"] == pytest.approx(40 / 600)
    assert r["monthly_disposable_income_fen"] == 4_750 * Y


def test_ratio_outliers_against_norms() -> None:
    ratios = fin.financial_ratios(_sheets(), _income(), INDUSTRY)
    assert fin.ratio_outliers(ratios).height == 0  # the worked example is a normal trader
    norms = dict(fin.DEFAULT_CONFIG.industry_norms)
    norms["trade"] = norms["trade"].model_copy(update={"net_margin": (0.0, 0.10)})
    config = fin.FinancialsConfig(industry_norms=norms)
    out = fin.ratio_outliers(ratios, config)
    assert out.select("ratio", "direction").rows() == [("net_margin", "high")]
    (flag,) = fin.ratio_flags(out, 1)
    assert flag.code == "ratio_out_of_norm"
    assert flag.severity is Severity.WARNING
    assert "净利率" in flag.message


def test_ratios_need_matching_businesses() -> None:
    with pytest.raises(InvalidInput, match="income_monthly"):
        fin.financial_ratios(_sheets(1), _income(2), None)
    with pytest.raises(InvalidInput, match=r"industries\.industry"):
        fin.financial_ratios(
            _sheets(), _income(), pl.DataFrame({"business_id": [1], "industry": ["mining"]})
        )


# --- equity cross-check ----------------------------------------------------------------------


def test_equity_check_by_hand() -> None:
    check = fin.equity_check(
        CHECK_POINT,
        CURRENT,
        period_profit_fen=48_000 * Y,
        withdrawals_fen=12_000 * Y,
        depreciation_fen=4_000 * Y,
    )
    assert check.expected_equity_fen == 206_000 * Y
    assert check.actual_equity_fen == 204_000 * Y
    assert check.deviation_fen == 2_000 * Y
    assert check.deviation_rate == pytest.approx(2 / 48)
    assert check.deviation_rate_equity == pytest.approx(2 / 204)
    assert check.verdict is fin.Verdict.PASS
    assert check.flag() is None
    lines = {line.label_zh: (line.sign, line.amount_fen) for line in check.breakdown()}
    assert lines["初始权益"] == ("+", 174_000 * Y)
    assert lines["提款"] == ("−", 12_000 * Y)
    assert lines["偏差值"] == ("=", 2_000 * Y)


@pytest.mark.parametrize(
    ("withdrawals", "deviation", "verdict", "severity"),
    [
        (10_000, 4_000, fin.Verdict.EXPLAIN, Severity.WARNING),
        (8_000, 6_000, fin.Verdict.FAIL, Severity.CRITICAL),
    ],
)
def test_equity_check_bands(
    withdrawals: int, deviation: int, verdict: fin.Verdict, severity: Severity
) -> None:
    check = fin.equity_check(
        CHECK_POINT,
        CURRENT,
        period_profit_fen=48_000 * Y,
        withdrawals_fen=withdrawals * Y,
        depreciation_fen=4_000 * Y,
    )
    assert check.deviation_fen == deviation * Y
    assert check.verdict is verdict
    flag = check.flag()
    assert flag is not None
    assert flag.code == "equity_cross_check"
    assert flag.severity is severity
    assert len(flag.evidence["breakdown"]) == 9


def test_equity_bands_are_configuration() -> None:
    wide = fin.FinancialsConfig(equity_pass_band=0.15, equity_explain_band=0.2)
    check = fin.equity_check(
        CHECK_POINT,
        CURRENT,
        period_profit_fen=48_000 * Y,
        withdrawals_fen=8_000 * Y,
        depreciation_fen=4_000 * Y,
        config=wide,
    )
    assert check.verdict is fin.Verdict.PASS
    with pytest.raises(ValueError, match="explain_band"):
        fin.FinancialsConfig(equity_pass_band=0.2, equity_explain_band=0.1)


def test_equity_cross_check_input_errors() -> None:
    inputs = pl.DataFrame(
        {
            "business_id": [1],
            "period_profit_fen": [1],
            "injections_fen": [0],
            "withdrawals_fen": [0],
            "appreciation_fen": [0],
            "depreciation_fen": [0],
        }
    )
    with pytest.raises(InvalidInput, match=r"equity_inputs\.injections_fen"):
        fin.equity_cross_check(_sheets(), inputs.drop("injections_fen"))
    with pytest.raises(InvalidInput, match="integer fen"):
        fin.equity_cross_check(_sheets(), inputs.with_columns(pl.col("withdrawals_fen") * 1.0))
    with pytest.raises(InvalidInput, match="negative"):
        fin.equity_cross_check(_sheets(), inputs.with_columns(pl.lit(-1).alias("injections_fen")))
    with pytest.raises(InvalidInput, match="check_point"):
        fin.equity_cross_check(_sheets().filter(pl.col("kind") == "current"), inputs)
    with pytest.raises(InvalidInput, match="duplicate"):
        fin.equity_cross_check(_sheets(), pl.concat([inputs, inputs]))
    with pytest.raises(InvalidInput, match="null"):
        fin.equity_cross_check(
            _sheets(), inputs.with_columns(pl.lit(None, pl.Int64).alias("period_profit_fen"))
        )


# --- sales cross-check -----------------------------------------------------------------------


def _sales_config() -> fin.FinancialsConfig:
    norms = dict(fin.DEFAULT_CONFIG.industry_norms)
    norms["trade"] = norms["trade"].model_copy(update={"sales_per_employee_fen": 20_000 * Y})
    return fin.FinancialsConfig(industry_norms=norms)


def _sales_check(
    bank_yuan: int, config: fin.FinancialsConfig | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    pos = pl.DataFrame(
        {
            "business_id": [1] * 24,
            "trade_date": [m + dt.timedelta(days=d) for m in MONTHS for d in (0, 14)],
            "gross_fen": [5_000 * Y] * 24,
        }
    )
    products = pl.DataFrame([{"business_id": 1, **p.model_dump()} for p in PRODUCTS])
    return fin.sales_cross_check(
        _income(),
        bank_revenue=_monthly("revenue_fen", bank_yuan),
        pos_settlements=pos,
        purchases=_monthly("purchases_fen", 36_720),
        gross_margins=fin.weighted_gross_margins(products),
        staff=pl.DataFrame({"business_id": [1], "industry": ["trade"], "employees": [2]}),
        config=config or _sales_config(),
    )


def test_sales_cross_check_by_hand() -> None:
    sources, summary = _sales_check(47_000)
    by = {r["source"]: r for r in sources.iter_rows(named=True)}
    assert by["bank"]["check_sales_fen"] == 564_000 * Y
    assert by["bank"]["deviation"] == pytest.approx(0.06)
    assert by["purchases"]["check_sales_fen"] == 576_000 * Y
    assert by["purchases"]["deviation"] == pytest.approx(0.04)
    assert by["staff"]["check_sales_fen"] == 480_000 * Y
    assert by["staff"]["deviation"] == pytest.approx(0.20)
    assert by["pos"]["check_sales_fen"] == 120_000 * Y
    assert by["pos"]["kind"] == "floor"
    s = summary.row(0, named=True)
    assert s["sources_used"] == 3
    assert s["reconciled_sales_fen"] == 564_000 * Y
    assert s["floor_fen"] == 120_000 * Y
    assert s["spread"] == pytest.approx(96 / 564)
    assert s["deviation"] == pytest.approx(0.06)
    assert s["verdict"] == "pass"
    assert fin.sales_flags(summary, sources, 1) == []


def test_sales_cross_check_overstatement_fails_understatement_explains() -> None:
    sources, summary = _sales_check(33_333)  # 399,996 a year: declared 50 % above
    assert summary["verdict"][0] == "fail"
    (flag,) = fin.sales_flags(summary, sources, 1)
    assert flag.severity is Severity.CRITICAL
    assert set(flag.evidence["sources"]) == {"bank", "purchases", "staff", "pos"}
    _, under = _sales_check(66_667)  # 800,004 a year: declared a third below
    assert under["deviation"][0] == pytest.approx(-1 / 3, abs=1e-4)
    assert under["verdict"][0] == "explain"
    strict = _sales_config().model_copy(update={"sales_understatement_fails": True})
    _, under_strict = _sales_check(66_667, strict)
    assert under_strict["verdict"][0] == "fail"


def test_sales_below_channel_floor_fails() -> None:
    gmv = pl.DataFrame({"business_id": [1] * 12, "month": MONTHS, "gmv_fen": [55_000 * Y] * 12})
    _, summary = fin.sales_cross_check(_income(), ecommerce=gmv)
    s = summary.row(0, named=True)
    assert s["below_floor"]
    assert s["verdict"] == "fail"
    assert s["sources_used"] == 0
    assert s["reconciled_sales_fen"] == 660_000 * Y  # no full source: the floor itself


def test_sales_source_needs_coverage() -> None:
    short = _monthly("revenue_fen", 47_000).head(6)  # 6 of 12 months < 75 %
    sources, summary = fin.sales_cross_check(_income(), bank_revenue=short)
    assert sources.height == 0
    assert summary["verdict"][0] is None
    nine = _monthly("revenue_fen", 47_000).head(9)  # scaled to 12 months
    sources, _ = fin.sales_cross_check(_income(), bank_revenue=nine)
    assert sources["check_sales_fen"][0] == 564_000 * Y


def test_sales_input_errors() -> None:
    with pytest.raises(InvalidInput, match=r"bank_revenue\.revenue_fen"):
        fin.sales_cross_check(_income(), bank_revenue=_monthly("amount", 1))
    with pytest.raises(InvalidInput, match=r"staff\.industry"):
        fin.sales_cross_check(
            _income(),
            staff=pl.DataFrame({"business_id": [1], "industry": ["mining"], "employees": [1]}),
        )


# --- repayment capacity ----------------------------------------------------------------------


def test_repayment_capacity_by_hand() -> None:
    cap = fin.repayment_capacity(
        Decimal(4750),
        amount=Decimal(50000),
        annual_rate=Decimal("0.12"),
        term_months=12,
        existing_installments=Decimal(500),
    )
    assert cap.new_installment.quantize(Decimal("0.01")) == Decimal("4442.44")
    assert cap.installment_ratio is not None
    assert cap.installment_ratio.quantize(Decimal("0.0001")) == Decimal("1.0405")
    assert not cap.within_cap
    assert cap.max_affordable_loan == Decimal("21103.27")
    flag = cap.flag()
    assert flag is not None
    assert flag.code == "repayment_capacity"
    ok = fin.repayment_capacity(
        Decimal(4750), amount=Decimal(20000), annual_rate=Decimal("0.12"), term_months=12
    )
    assert ok.within_cap
    assert ok.flag() is None


def test_repayment_capacity_batch_matches_by_hand() -> None:
    apps = pl.DataFrame(
        {
            "business_id": [1, 2],
            "monthly_disposable_income_fen": [4_750 * Y, -100],
            "existing_installment_fen": [500 * Y, 0],
            "requested_amount_fen": [50_000 * Y, 1_000 * Y],
            "annual_rate": [0.12, 0.0],
            "term_months": [12, 10],
        }
    )
    out = fin.repayment_capacity_batch(apps)
    one, two = out.rows(named=True)
    assert one["new_installment_fen"] == 444_244
    assert one["max_affordable_fen"] == 2_110_327
    assert one["installment_ratio"] == pytest.approx(1.0405, abs=1e-4)
    assert not one["within_cap"]
    assert two["new_installment_fen"] == 10_000  # zero rate: 1,000 / 10
    assert two["installment_ratio"] is None
    assert two["max_affordable_fen"] == 0
    with pytest.raises(InvalidInput, match="term_months"):
        fin.repayment_capacity_batch(apps.with_columns(pl.lit(0).alias("term_months")))


def test_repayment_input_errors() -> None:
    with pytest.raises(InvalidInput, match="term_months"):
        fin.installment(Decimal(1), Decimal("0.1"), 0)
    with pytest.raises(InvalidInput, match="annual_rate"):
        fin.max_affordable_loan(Decimal(1), Decimal(0), Decimal("-0.1"), 12)


# --- properties ------------------------------------------------------------------------------

_amount = st.integers(min_value=0, max_value=10**12)
_signed = st.integers(min_value=-(10**12), max_value=10**12)


@settings(max_examples=200, deadline=None)
@given(st.lists(_amount, min_size=17, max_size=17))
def test_property_assets_minus_liabilities_is_equity(values: list[int]) -> None:
    columns = fin.ASSET_COLUMNS + fin.LIABILITY_COLUMNS
    sheet = fin.BalanceSheet(**dict(zip(columns, values, strict=True)))
    assert sheet.total_assets_fen - sheet.total_liabilities_fen == sheet.equity_fen
    assert sheet.business_assets_fen + sheet.household_assets_fen == sheet.total_assets_fen
    frame = pl.DataFrame([{"business_id": 1, "kind": "current", **sheet.model_dump()}])
    assert fin.validate_balance_sheets(frame)["equity_fen"][0] == sheet.equity_fen


_TERMS = (
    "period_profit_fen",
    "injections_fen",
    "appreciation_fen",
    "withdrawals_fen",
    "depreciation_fen",
)
_SIGN = {
    "period_profit_fen": 1,
    "injections_fen": 1,
    "appreciation_fen": 1,
    "withdrawals_fen": -1,
    "depreciation_fen": -1,
}


@settings(max_examples=100, deadline=None)
@given(
    profit=_signed,
    rest=st.lists(_amount, min_size=4, max_size=4),
    term=st.sampled_from(_TERMS),
    delta=st.integers(min_value=0, max_value=10**9),
)
def test_property_deviation_is_linear_in_each_term(
    profit: int, rest: list[int], term: str, delta: int
) -> None:
    inputs = dict(zip(_TERMS, [profit, *rest], strict=True))
    bumped = {**inputs, term: inputs[term] + delta}
    frame = pl.DataFrame([{"business_id": 1, **inputs}, {"business_id": 2, **bumped}])
    sheets = pl.concat([_sheets(1), _sheets(2)])
    out = fin.equity_cross_check(sheets, frame)
    d1, d2 = out["deviation_fen"].to_list()
    assert d2 - d1 == _SIGN[term] * delta
    expected = CHECK_POINT.equity_fen + sum(_SIGN[t] * v for t, v in inputs.items())
    assert d1 == expected - CURRENT.equity_fen


@settings(max_examples=100, deadline=None)
@given(
    income=st.integers(min_value=1, max_value=10**7),
    existing=st.integers(min_value=0, max_value=10**6),
    rate_bp=st.integers(min_value=0, max_value=3600),
    term=st.integers(min_value=1, max_value=120),
)
def test_property_max_loan_is_the_largest_within_cap(
    income: int, existing: int, rate_bp: int, term: int
) -> None:
    rate = Decimal(rate_bp) / 10_000
    best = fin.max_affordable_loan(Decimal(income), Decimal(existing), rate, term)
    room = fin.DEFAULT_CONFIG.dsr_cap * income - existing
    if room <= 0:
        assert best == 0
        return
    assert fin.installment(best, rate, term) <= room
    assert fin.installment(best + Decimal("0.01"), rate, term) > room


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(1, 10**6), st.integers(1, 100)),
        min_size=1,
        max_size=6,
    )
)
def test_property_weighted_margin_within_item_margins(
    items: list[tuple[int, int, int]],
) -> None:
    total = sum(w for _, _, w in items)
    lines = [
        fin.ProductLine(
            product=str(i), purchase_price_fen=c, sale_price_fen=p, sales_share=w / total
        )
        for i, (c, p, w) in enumerate(items)
    ]
    margins = [line.gross_margin for line in lines]
    value = fin.weighted_gross_margin(lines)
    assert min(margins) - 1e-9 <= value <= max(margins) + 1e-9


@settings(max_examples=150, deadline=None)
@given(
    column=st.sampled_from(["business_id", "kind", *fin.ASSET_COLUMNS, *fin.LIABILITY_COLUMNS]),
    damage=st.sampled_from(["drop", "null", "float", "text", "negative"]),
)
def test_fuzz_damaged_balance_sheets_raise_invalid_input(column: str, damage: str) -> None:
    sheets = _sheets()
    if damage == "drop":
        sheets = sheets.drop(column)
    elif damage == "null":
        sheets = sheets.with_columns(pl.lit(None, sheets.schema[column]).alias(column))
    elif damage == "float":
        sheets = sheets.with_columns(pl.lit(1.5).alias(column))
    elif damage == "text":
        sheets = sheets.with_columns(pl.lit("x").alias(column))
    else:
        sheets = sheets.with_columns(pl.lit(-1).alias(column))
    inputs = pl.DataFrame({"business_id": [1], **{c: [0] for c in fin.EQUITY_INPUT_COLUMNS}})
    with pytest.raises(InvalidInput) as caught:
        fin.equity_cross_check(sheets, inputs)
    if column == "business_id" and damage == "negative":
        assert "no check_point sheet" in caught.value.message  # -1 is a valid id, not ours
    elif column == "kind" and damage == "text":
        assert "duplicate rows" in caught.value.message  # both sheets now share one kind
    else:
        assert column in caught.value.field


def test_margin_check_against_hand_computed_margins() -> None:
    # products: 60 % at cost 70 / price 100 (30 %), 40 % at 50 / 100 (50 %) → 0.6·0.3 + 0.4·0.5
    products = pl.DataFrame(
        {
            "business_id": [1, 1, 2],
            "purchase_price_fen": [7_000, 5_000, 6_000],
            "sale_price_fen": [10_000, 10_000, 10_000],
            "sales_share": [0.6, 0.4, 1.0],
        }
    )
    rows = []
    for b, sales, cogs in ((1, 1_000_000, 640_000), (2, 1_000_000, 450_000)):
        rows.append(
            {
                "business_id": b,
                "month": dt.date(2025, 1, 1),
                "sales_declared_fen": sales,
                "cost_of_goods_fen": cogs,
                "gross_profit_fen": sales - cogs,
                "rent_fen": 0,
                "wages_fen": 0,
                "utilities_fen": 0,
                "taxes_fen": 0,
                "other_costs_fen": 0,
                "net_profit_fen": sales - cogs,
                "household_expenses_fen": 0,
                "disposable_income_fen": sales - cogs,
            }
        )
    check = fin.margin_check(products, pl.DataFrame(rows))
    one, two = check.row(0, named=True), check.row(1, named=True)
    assert one["weighted_gross_margin"] == pytest.approx(0.38)
    assert one["income_statement_margin"] == pytest.approx(0.36)
    assert one["margin_difference"] == pytest.approx(-0.02)
    assert one["margin_gap"] is False
    # 55 % stated against 40 % from the product: 15 points above, beyond the 5-point band
    assert two["margin_difference"] == pytest.approx(0.15)
    assert two["margin_gap"] is True
    assert fin.margin_flags(check, 1) == []
    (flag,) = fin.margin_flags(check, 2)
    assert flag.code == "margin_gap"
    assert "15.0 points above" in flag.message
