"""Monetised willingness to repay (还款意愿货币化)."""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaowei.analysis.willingness import (
    WillingnessConfig,
    WillingnessInput,
    annuity_factor,
    willingness,
)
from xiaowei.core.errors import InvalidInput

BASE = WillingnessInput(
    loan_amount=Decimal("100000"),
    existing_debts=Decimal("20000"),
    business_assets=Decimal("60000"),
    household_assets=Decimal("100000"),
    monthly_revenue=Decimal("50000"),
    guarantor_shares=(Decimal("0.5"), Decimal("0.3")),
    network_revenue_share=Decimal("0.2"),
)


def test_hand_computed_example() -> None:
    result = willingness(BASE)
    cost = result.cost
    assert cost.business_assets == Decimal("30000.00")  # 60 000 × (1 − 0.5)
    assert cost.household_assets == Decimal("70000.00")  # 100 000 × (1 − 0.3)
    assert cost.guarantors == Decimal("80000.00")  # (0.5 + 0.3) × 100 000
    # 100 000 × 10 % a year for 5 years at 10 %: 10 000 × 3.790786769 = 37 907.87
    assert cost.future_credit == Decimal("37907.87")
    assert cost.reputation == Decimal("60000.00")  # 50 000 × 0.2 × 6 months
    assert cost.total == Decimal("277907.87")
    assert result.exposure == Decimal("120000.00")
    assert result.margin == Decimal("157907.87")
    assert result.ratio == pytest.approx(277907.87 / 120000)
    assert result.flags == ()
    assert result.features()["willingness_margin"] == pytest.approx(157907.87)
    assert math.isnan(result.features()["overdue_months_24m"])


def test_zero_discount_and_given_credit_value() -> None:
    cfg = WillingnessConfig(discount_rate=Decimal("0"), years_access_lost=3)
    result = willingness(replace(BASE, annual_credit_value=Decimal("4000")), cfg)
    assert result.cost.future_credit == Decimal("12000.00")  # 4 000 × 3 years, undiscounted


def test_guarantor_cover_capped_at_the_loan() -> None:
    result = willingness(replace(BASE, guarantor_shares=(Decimal("1"), Decimal("1"))))
    assert result.cost.guarantors == Decimal("100000.00")


def test_annuity_factor() -> None:
    assert annuity_factor(Decimal("0.1"), 5) == pytest.approx(Decimal("3.790786769"))
    assert annuity_factor(Decimal("0"), 4) == 4
    assert annuity_factor(Decimal("0.1"), 0) == 0


def test_low_willingness_and_behaviour_flags() -> None:
    bare = WillingnessInput(
        loan_amount=Decimal("100000"),
        existing_debts=Decimal("0"),
        business_assets=Decimal("0"),
        household_assets=Decimal("0"),
        monthly_revenue=Decimal("0"),
        overdue_months_24m=2,
        deviation_rate=0.5,
        installment_ratio=0.42,
        max_affordable_loan=Decimal("150000"),
    )
    result = willingness(bare, WillingnessConfig(credit_margin=Decimal("0")))
    assert result.cost.total == 0
    assert result.margin == Decimal("-100000.00")
    assert result.ratio == 0.0
    assert [f.code for f in result.flags] == [
        "low_willingness",
        "credit_history_overdue",
        "high_deviation_rate",
    ]
    assert result.evidence.installment_ratio == 0.42
    assert result.evidence.max_affordable_loan == Decimal("150000")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"loan_amount": Decimal("0")}, "loan_amount"),
        ({"loan_amount": 100000.0}, "loan_amount"),
        ({"existing_debts": Decimal("-1")}, "existing_debts"),
        ({"household_assets": Decimal("NaN")}, "household_assets"),
        ({"guarantor_shares": (Decimal("1.5"),)}, "guarantor_shares[0]"),
        ({"guarantor_shares": [Decimal("0.5")]}, "guarantor_shares"),
        ({"network_revenue_share": Decimal("-0.1")}, "network_revenue_share"),
        ({"overdue_months_24m": 30}, "overdue_months_24m"),
        ({"deviation_rate": 1.5}, "deviation_rate"),
        ({"installment_ratio": float("inf")}, "installment_ratio"),
    ],
)
def test_bad_input_names_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        replace(BASE, **change)  # type: ignore[arg-type]
    assert err.value.field == field


money = st.decimals(min_value=0, max_value=10**8, places=2, allow_nan=False, allow_infinity=False)


@given(base=money, extra=money, household=money, debts=money)
def test_margin_monotone_in_assets(
    base: Decimal, extra: Decimal, household: Decimal, debts: Decimal
) -> None:
    low = replace(BASE, business_assets=base, household_assets=household, existing_debts=debts)
    high_business = replace(low, business_assets=base + extra)
    high_household = replace(low, household_assets=household + extra)
    m = willingness(low).margin
    assert willingness(high_business).margin >= m
    assert willingness(high_household).margin >= m


@given(debts=money, extra=money, assets=money)
def test_margin_falls_with_exposure_one_for_one(
    debts: Decimal, extra: Decimal, assets: Decimal
) -> None:
    low = replace(BASE, existing_debts=debts, business_assets=assets)
    high = replace(low, existing_debts=debts + extra)
    assert willingness(low).margin - willingness(high).margin == extra
    assert willingness(high).ratio <= willingness(low).ratio


@given(
    share=st.decimals(min_value=0, max_value=1, places=3),
    more=st.decimals(min_value=0, max_value=1, places=3),
)
def test_margin_monotone_in_guarantor_cover(share: Decimal, more: Decimal) -> None:
    low = replace(BASE, guarantor_shares=(share,))
    high = replace(BASE, guarantor_shares=(share, more))
    assert willingness(high).margin >= willingness(low).margin
