"""Exposure profiles and expected loss (风险敞口与预期损失): worked examples and invariants.

The worked examples use 120,000 at 12 % a year over 12 months, PD 5 % a year and LGD 45 %.
Expected figures are derived by hand (closed forms written out in each test), not by calling
the code under test twice.  With a flat hazard, S(t) = 0.95^(t/12) and the monthly survival
factor is r = 0.95^(1/12); the marginal PD of month i is r^(i−1) − r^i.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.core.errors import InvalidInput
from xiaowei.lending.exposure import (
    expected_loss,
    exposure_profile,
    marginal_default_probabilities,
    months_between,
    survival,
)
from xiaowei.lending.schedule import (
    Frequency,
    RepaymentMethod,
    Schedule,
    ScheduleTerms,
    generate_schedule,
)

D = Decimal
AMOUNT = D("120000")
PD = 0.05
LGD = 0.45
R = 0.95 ** (1 / 12)


def twelve_months(method: RepaymentMethod, **extra: object) -> Schedule:
    return generate_schedule(
        ScheduleTerms(
            principal=AMOUNT,
            annual_rate=D("0.12"),
            term_months=12,
            start_date=date(2024, 3, 15),
            method=method,
            **extra,  # type: ignore[arg-type]
        )
    )


# --- worked examples ------------------------------------------------------------------------


def test_bullet_worked_example() -> None:
    """利随本清: one payment of 120,000 + 12 % × 120,000 = 134,400 after a year.

    The whole year's default probability (5 %) falls on that one exposure:
    EL = 0.05 × 0.45 × 134,400 = 3,024.
    """
    schedule = twelve_months(RepaymentMethod.BULLET)
    profile = exposure_profile(schedule)
    assert [p.ead for p in profile.points] == [D("134400.00")]
    assert profile.peak_exposure == D("134400.00")
    assert profile.average_exposure == pytest.approx(134400.0)
    assert profile.average_life_years == pytest.approx(1.0)
    el = expected_loss(schedule, pd_annual=PD, lgd=LGD)
    assert el.cumulative_pd == pytest.approx(0.05)
    assert el.expected_loss == pytest.approx(3024.0)
    assert el.loss_rate == pytest.approx(0.0252)
    assert el.expected_net_income == pytest.approx(14400.0 - 3024.0)


def test_interest_only_worked_example() -> None:
    """先息后本: every month the full 120,000 plus one month's 1,200 interest is at risk, so
    EAD is 121,200 throughout and the marginal PDs add up to the year's 5 %:
    EL = 0.05 × 0.45 × 121,200 = 2,727."""
    schedule = twelve_months(RepaymentMethod.INTEREST_ONLY)
    profile = exposure_profile(schedule)
    assert {p.ead for p in profile.points} == {D("121200.00")}
    assert profile.average_life_years == pytest.approx(1.0)
    assert expected_loss(schedule, pd_annual=PD, lgd=LGD).expected_loss == pytest.approx(2727.0)


def test_equal_principal_worked_example() -> None:
    """等额本金: the balance before month i is 10,000 × (13 − i) and the month's interest is 1 %
    of it, so EAD_i = 1.01 × 10,000 × (13 − i).

    Summing by parts, Σ (13 − i)(r^(i−1) − r^i) = 12 − Σ_{i=1..12} r^i
    = 12 − r(1 − 0.95)/(1 − r), hence EL = 0.45 × 10,100 × (12 − 0.05 r / (1 − r)) ≈ 1,488.70.
    Average exposure 1.01 × 65,000 = 65,650; average life Σ i × 10,000 / 120,000 = 6.5 months.
    """
    schedule = twelve_months(RepaymentMethod.EQUAL_PRINCIPAL)
    profile = exposure_profile(schedule)
    assert [p.ead for p in profile.points] == [D(10100 * (13 - i)) for i in range(1, 13)]
    assert profile.average_exposure == pytest.approx(65650.0)
    assert profile.peak_exposure == D("121200.00")
    assert profile.average_life_years == pytest.approx(6.5 / 12)
    expected = 0.45 * 10100 * (12 - 0.05 * R / (1 - R))
    assert expected == pytest.approx(1488.70, abs=0.01)
    el = expected_loss(schedule, pd_annual=PD, lgd=LGD)
    assert el.expected_loss == pytest.approx(expected, rel=1e-12)


def test_equal_installment_worked_example_and_bullet_loses_more() -> None:
    """等额本息: the schedule of 10,661.85 a month (see ``xiaowei schedule``); EAD_i is the
    opening balance plus the month's interest, copied here from that table."""
    opening = [
        120000.00, 110538.15, 100981.68, 91329.65, 81581.10, 71735.06,
        61790.56, 51746.62, 41602.24, 31356.41, 21008.12, 10556.35,
    ]  # fmt: skip
    interest = [
        1200.00, 1105.38, 1009.82, 913.30, 815.81, 717.35,
        617.91, 517.47, 416.02, 313.56, 210.08, 105.56,
    ]  # fmt: skip
    expected = sum(
        (R ** (i - 1) - R**i) * 0.45 * (b + j)
        for i, (b, j) in enumerate(zip(opening, interest, strict=True), start=1)
    )
    assert expected == pytest.approx(1515.58, abs=0.01)

    schedule = twelve_months(RepaymentMethod.EQUAL_INSTALLMENT)
    profile = exposure_profile(schedule)
    assert [float(p.ead) for p in profile.points] == pytest.approx(
        [b + j for b, j in zip(opening, interest, strict=True)]
    )
    el = expected_loss(schedule, pd_annual=PD, lgd=LGD)
    assert el.expected_loss == pytest.approx(expected, rel=1e-12)
    assert el.expected_net_income == pytest.approx(7942.26 - expected)

    bullet = expected_loss(twelve_months(RepaymentMethod.BULLET), pd_annual=PD, lgd=LGD)
    assert bullet.expected_loss > 1.9 * el.expected_loss


def test_principal_only_exposure_leaves_out_accrued_interest() -> None:
    """Without interest, a bullet's EAD is the 120,000 lent: EL = 0.05 × 0.45 × 120,000."""
    schedule = twelve_months(RepaymentMethod.BULLET)
    el = expected_loss(schedule, pd_annual=PD, lgd=LGD, include_interest=False)
    assert el.expected_loss == pytest.approx(2700.0)


def test_quarterly_periods_are_three_months_long() -> None:
    schedule = twelve_months(RepaymentMethod.EQUAL_PRINCIPAL, frequency=Frequency.QUARTERLY)
    profile = exposure_profile(schedule)
    assert [p.months for p in profile.points] == [3.0, 6.0, 9.0, 12.0]
    assert [p.ead for p in profile.points] == [
        D("123600.00"),
        D("92700.00"),
        D("61800.00"),
        D("30900.00"),
    ]
    # 30,000 repaid at 3, 6, 9 and 12 months: (3 + 6 + 9 + 12) / 4 = 7.5 months.
    assert profile.average_life_years == pytest.approx(7.5 / 12)


def test_broken_first_period_counts_its_days() -> None:
    """Disbursed on 15 March with repayment day 20: the first due date, 20 April, is one month
    and 5 of the 30 days from 15 April to 15 May out."""
    assert months_between(date(2024, 3, 15), date(2024, 4, 20)) == pytest.approx(1 + 5 / 30)
    assert months_between(date(2024, 3, 15), date(2024, 4, 10)) == pytest.approx(26 / 31)
    assert months_between(date(2024, 1, 31), date(2024, 2, 29)) == 1.0  # end-of-month rule
    schedule = twelve_months(RepaymentMethod.EQUAL_INSTALLMENT, repayment_day=20)
    profile = exposure_profile(schedule)
    assert profile.points[0].months == pytest.approx(1 + 5 / 30)
    assert profile.points[-1].months == pytest.approx(12 + 5 / 31)


def test_survival_is_a_flat_hazard() -> None:
    assert survival(0, PD) == 1.0
    assert survival(12, PD) == pytest.approx(0.95)
    assert survival(24, PD) == pytest.approx(0.95**2)
    marginal = marginal_default_probabilities([6.0, 12.0], PD)
    assert marginal == pytest.approx((1 - 0.95**0.5, 0.95**0.5 - 0.95))


@pytest.mark.parametrize(
    ("pd_annual", "lgd", "field"),
    [
        pytest.param(-0.01, 0.45, "pd", id="negative-pd"),
        pytest.param(1.5, 0.45, "pd", id="pd-above-one"),
        pytest.param(0.05, 1.2, "lgd", id="lgd-above-one"),
    ],
)
def test_probabilities_outside_zero_one_are_refused(
    pd_annual: float, lgd: float, field: str
) -> None:
    schedule = twelve_months(RepaymentMethod.BULLET)
    with pytest.raises(InvalidInput, match=f"^{field}: "):
        expected_loss(schedule, pd_annual=pd_annual, lgd=lgd)


# --- invariants -----------------------------------------------------------------------------


@st.composite
def loans(draw: st.DrawFn) -> tuple[Decimal, Decimal, int, date]:
    amount = D(draw(st.integers(min_value=100_000, max_value=1_000_000_000))) / 100
    rate = D(draw(st.integers(min_value=0, max_value=360))) / 1000
    term = draw(st.integers(min_value=1, max_value=60))
    start = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)))
    return amount, rate, term, start


def every_method(amount: Decimal, rate: Decimal, term: int, start: date) -> list[Schedule]:
    weights = tuple(D(k % 3) for k in range(1, term + 1))
    extras: dict[RepaymentMethod, dict[str, object]] = {
        RepaymentMethod.BALLOON: {"balloon_share": D("0.3")},
        RepaymentMethod.SEASONAL: {"weights": weights},
    }
    return [
        generate_schedule(
            ScheduleTerms(
                principal=amount,
                annual_rate=rate,
                term_months=term,
                start_date=start,
                method=method,
                **extras.get(method, {}),  # type: ignore[arg-type]
            )
        )
        for method in RepaymentMethod
    ]


# Subnormal floats are not probabilities anyone uses and make float bounds meaningless.
probabilities = st.floats(min_value=0.0, max_value=1.0, allow_nan=False, allow_subnormal=False)


@settings(max_examples=150, deadline=None)
@given(loan=loans(), pd_annual=probabilities, lgd=probabilities)
def test_expected_loss_is_bounded_by_the_exposure(
    loan: tuple[Decimal, Decimal, int, date], pd_annual: float, lgd: float
) -> None:
    """Principal-only EL ≤ LGD × amount × cumulative PD (no principal exposure exceeds the
    amount lent); with accrued interest, EL ≤ LGD × peak EAD × cumulative PD."""
    for schedule in every_method(*loan):
        profile = exposure_profile(schedule)
        principal_only = expected_loss(
            schedule, pd_annual=pd_annual, lgd=lgd, include_interest=False
        )
        full = expected_loss(schedule, pd_annual=pd_annual, lgd=lgd)
        cumulative = principal_only.cumulative_pd
        assert sum(full.marginal_pd) == pytest.approx(cumulative, abs=1e-12)
        assert principal_only.expected_loss >= 0
        assert principal_only.expected_loss <= lgd * float(loan[0]) * cumulative * (1 + 1e-12)
        assert principal_only.expected_loss <= full.expected_loss
        assert full.expected_loss <= lgd * float(profile.peak_exposure) * cumulative * (1 + 1e-12)


@settings(max_examples=150, deadline=None)
@given(loan=loans(), pd_annual=probabilities, lgd=probabilities)
def test_bullet_has_the_longest_life_and_the_largest_loss(
    loan: tuple[Decimal, Decimal, int, date], pd_annual: float, lgd: float
) -> None:
    """利随本清 keeps all principal (and all interest) outstanding to maturity: no method of the
    same term has a longer average life, a higher exposure or a larger expected loss."""
    schedules = every_method(*loan)
    bullet = next(s for s in schedules if s.terms.method is RepaymentMethod.BULLET)
    bullet_profile = exposure_profile(bullet)
    bullet_loss = expected_loss(bullet, pd_annual=pd_annual, lgd=lgd).expected_loss
    for schedule in schedules:
        profile = exposure_profile(schedule)
        assert sum(p.principal_repaid for p in profile.points) == loan[0]
        assert profile.average_exposure <= float(profile.peak_exposure) * (1 + 1e-12)
        assert profile.average_life_years <= bullet_profile.average_life_years + 1e-12
        assert profile.peak_exposure <= bullet_profile.peak_exposure
        loss = expected_loss(schedule, pd_annual=pd_annual, lgd=lgd).expected_loss
        assert loss <= bullet_loss * (1 + 1e-12) + 1e-9
