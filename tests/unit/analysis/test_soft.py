"""Soft information and the asymmetric-information deviation grid (软信息, 不对称偏差分析)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaowei.analysis.soft import (
    DeclaredFact,
    DeclaredItem,
    DynamicIndicators,
    Education,
    GridItem,
    MaritalStatus,
    OwnerProfile,
    Rating,
    SoftConfig,
    compare_declared,
    deviation_grid,
    rate_dynamic,
    rate_static,
    static_features,
)
from xiaowei.core.errors import InvalidInput

GOOD = OwnerProfile(
    age=38,
    marital_status=MaritalStatus.MARRIED,
    education=Education.COLLEGE,
    years_in_business=8,
    years_at_residence=12,
    household_size=4,
    children=2,
    spouse_involved=True,
    local_resident=True,
    owns_home=True,
    overdue_months_24m=0,
)

RISKY = OwnerProfile(
    age=23,
    marital_status=MaritalStatus.DIVORCED,
    education=Education.PRIMARY,
    years_in_business=1,
    years_at_residence=1,
    household_size=6,
    children=4,
    spouse_involved=False,
    local_resident=False,
    owns_home=False,
    overdue_months_24m=5,
)

FACTS = [
    DeclaredFact(DeclaredItem.SALES, Decimal("100000"), Decimal("80000"), "bank flows"),
    DeclaredFact(DeclaredItem.DEBTS, Decimal("50000"), Decimal("80000"), "credit report"),
    DeclaredFact(DeclaredItem.EMPLOYEES, 5, 4, "payroll"),
    DeclaredFact(DeclaredItem.YEARS_AT_ADDRESS, 10, 15, "hukou"),
    DeclaredFact(DeclaredItem.YEARS_IN_BUSINESS, 8, None),
]


def _ratings(items: list[GridItem]) -> dict[str, Rating]:
    return {item.key: item.rating for item in items}


def test_static_good_profile_is_favourable_except_household() -> None:
    ratings = _ratings(rate_static(GOOD))
    assert ratings.pop("static.household") is Rating.NEUTRAL  # 3 dependants < 4
    assert set(ratings.values()) == {Rating.FAVOURABLE}
    assert len(ratings) == 9


def test_static_risky_profile() -> None:
    ratings = _ratings(rate_static(RISKY))
    risky = {k for k, v in ratings.items() if v is Rating.RISKY}
    assert risky == {
        "static.age",
        "static.marital_status",
        "static.years_in_business",
        "static.residence",
        "static.household",
        "static.credit_record",
    }
    assert ratings["static.education"] is Rating.NEUTRAL


def test_age_bands_follow_config() -> None:
    def age_rating(age: int, cfg: SoftConfig | None = None) -> Rating:
        profile = OwnerProfile(
            age=age,
            marital_status=MaritalStatus.SINGLE,
            education=Education.HIGH,
            years_in_business=3,
            years_at_residence=3,
            household_size=1,
            children=0,
            spouse_involved=False,
            local_resident=False,
        )
        return _ratings(rate_static(profile, cfg))["static.age"]

    assert age_rating(30) is Rating.FAVOURABLE
    assert age_rating(45) is Rating.FAVOURABLE
    assert age_rating(46) is Rating.NEUTRAL
    assert age_rating(29) is Rating.NEUTRAL
    assert age_rating(24) is Rating.RISKY
    assert age_rating(61) is Rating.RISKY
    assert age_rating(61, SoftConfig(age_risky_above=65)) is Rating.NEUTRAL


def test_static_features() -> None:
    features = static_features(GOOD)
    assert features["owner_married"] == 1.0
    assert features["dependants"] == 3.0
    assert features["owner_education"] == 3.0
    no_report = OwnerProfile(**{**GOOD.__dict__, "overdue_months_24m": None})
    assert math.isnan(static_features(no_report)["overdue_months_24m"])


def test_dynamic_ratings() -> None:
    ratings = _ratings(
        rate_dynamic(
            DynamicIndicators(
                revenue_change=-0.25, attendance_change=-0.15, new_inquiries_3m=0, new_lenders_6m=1
            )
        )
    )
    assert ratings == {
        "dynamic.revenue_change": Rating.RISKY,
        "dynamic.attendance_change": Rating.RISKY,
        "dynamic.new_inquiries_3m": Rating.FAVOURABLE,
        "dynamic.new_lenders_6m": Rating.NEUTRAL,
    }
    assert rate_dynamic(DynamicIndicators()) == []
    assert _ratings(rate_dynamic(DynamicIndicators(revenue_change=0.1))) == {
        "dynamic.revenue_change": Rating.FAVOURABLE
    }


def test_declared_deviation_hand_computed() -> None:
    grid = deviation_grid(None, FACTS)
    by_key = {item.key: item for item in grid.items}
    assert by_key["declared.sales"].deviation == pytest.approx(0.2)
    assert by_key["declared.sales"].rating is Rating.RISKY  # overstated 20 % > 10 %
    assert by_key["declared.debts"].deviation == pytest.approx(-0.6)
    assert by_key["declared.debts"].rating is Rating.RISKY  # understated debts
    assert by_key["declared.employees"].deviation == pytest.approx(0.2)
    assert by_key["declared.employees"].rating is Rating.FAVOURABLE  # at the 20 % tolerance
    assert by_key["declared.years_at_address"].deviation == pytest.approx(-0.5)  # (10 - 15) / 10
    assert by_key["declared.years_at_address"].rating is Rating.NEUTRAL  # understated: harmless
    assert by_key["declared.years_in_business"].deviation is None  # not verified
    assert by_key["declared.years_in_business"].rating is Rating.NEUTRAL
    assert grid.items_compared == 4
    assert grid.items_deviating == 3
    assert grid.deviation_rate == pytest.approx(0.75)
    # weights sales 3, debts 3, employees 1, years 1: (3 + 3 + 1) / 8
    assert grid.weighted_deviation_rate == pytest.approx(7 / 8)
    assert grid.risky == ("declared.sales", "declared.debts")
    assert [f.code for f in grid.flags()] == ["declared_deviation", "declared_deviation"]


def test_undeclared_debt_is_full_deviation() -> None:
    item = compare_declared(DeclaredFact(DeclaredItem.DEBTS, 0, Decimal("30000"), "report"))
    assert item.deviation == pytest.approx(-1.0)
    assert item.rating is Rating.RISKY
    both_zero = compare_declared(DeclaredFact(DeclaredItem.DEBTS, 0, 0))
    assert both_zero.deviation == 0.0
    assert both_zero.rating is Rating.FAVOURABLE


def test_no_verified_fact_gives_nan_rate() -> None:
    grid = deviation_grid(GOOD, [DeclaredFact(DeclaredItem.SALES, 1, None)])
    assert math.isnan(grid.deviation_rate)
    assert math.isnan(grid.weighted_deviation_rate)


def test_grid_blocks_approval_until_every_risky_item_is_justified() -> None:
    grid = deviation_grid(RISKY, FACTS, DynamicIndicators(revenue_change=-0.3))
    risky = set(grid.risky)
    assert "declared.sales" in risky
    assert "dynamic.revenue_change" in risky
    assert len(risky) == 9  # 6 static + 1 dynamic + 2 declared
    assert not grid.ready_for_approval({})
    assert set(grid.missing_justifications({})) == risky
    partial = dict.fromkeys(grid.risky[:-1], "explained on the visit")
    assert not grid.ready_for_approval(partial)
    assert grid.missing_justifications(partial) == (grid.risky[-1],)
    blank = {**partial, grid.risky[-1]: "   "}
    assert not grid.ready_for_approval(blank)
    full = {**partial, grid.risky[-1]: "seasonal dip: Spring Festival closure"}
    assert grid.ready_for_approval(full)
    # justifying a non-risky item is harmless; an unknown key is an error
    assert grid.ready_for_approval({**full, "static.education": "n/a"})
    with pytest.raises(InvalidInput, match="no grid item"):
        grid.ready_for_approval({"declared.salse": "typo"})


def test_clean_file_is_ready_without_justification() -> None:
    grid = deviation_grid(GOOD, [DeclaredFact(DeclaredItem.SALES, 100, 95, "POS")])
    assert grid.risky == ()
    assert grid.ready_for_approval({})
    assert grid.deviation_rate == 0.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"age": 12}, "owner.age"),
        ({"age": 38.5}, "owner.age"),
        ({"years_in_business": -1}, "owner.years_in_business"),
        ({"years_at_residence": float("nan")}, "owner.years_at_residence"),
        ({"household_size": 0}, "owner.household_size"),
        ({"children": 4}, "owner.children"),
        ({"marital_status": "married"}, "owner.marital_status"),
        ({"marital_status": MaritalStatus.SINGLE}, "owner.spouse_involved"),
        ({"local_resident": 1}, "owner.local_resident"),
    ],
)
def test_bad_profile_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        OwnerProfile(**{**GOOD.__dict__, **kwargs})
    assert err.value.field == field


def test_bad_declared_and_dynamic_inputs() -> None:
    with pytest.raises(InvalidInput, match=r"declared\.sales\.declared"):
        DeclaredFact(DeclaredItem.SALES, -1, 1)
    with pytest.raises(InvalidInput, match=r"declared\.item"):
        DeclaredFact("sales", 1, 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="declared twice"):
        deviation_grid(None, [FACTS[0], FACTS[0]])
    with pytest.raises(InvalidInput, match="revenue_change"):
        DynamicIndicators(revenue_change=-1.5)
    with pytest.raises(InvalidInput, match="new_lenders_6m"):
        DynamicIndicators(new_lenders_6m=-1)
    with pytest.raises(InvalidInput, match="no tolerance"):
        compare_declared(FACTS[0], SoftConfig(tolerances={}))


def test_config_rejects_inconsistent_bands() -> None:
    with pytest.raises(ValueError, match="age bands"):
        SoftConfig(age_favourable_min=50, age_favourable_max=40)


@given(
    declared=st.integers(0, 10**9),
    verified=st.one_of(st.none(), st.integers(0, 10**9)),
    item=st.sampled_from(list(DeclaredItem)),
)
def test_deviation_properties(declared: int, verified: int | None, item: DeclaredItem) -> None:
    grid = deviation_grid(None, [DeclaredFact(item, declared, verified)])
    (cell,) = grid.items
    if verified is None:
        assert cell.deviation is None
        assert grid.items_compared == 0
        return
    assert cell.deviation is not None
    tol = SoftConfig().tolerances[item].tolerance
    assert (cell.rating is Rating.FAVOURABLE) == (abs(cell.deviation) <= tol)
    assert grid.deviation_rate in (0.0, 1.0)
    assert grid.ready_for_approval({}) == (cell.rating is not Rating.RISKY)


@given(st.lists(st.booleans(), min_size=5, max_size=5))
def test_ready_iff_all_risky_justified(which: list[bool]) -> None:
    grid = deviation_grid(RISKY, FACTS)
    justified = {k: "reason" for k, on in zip(grid.risky, which, strict=False) if on}
    expected = all(k in justified for k in grid.risky)
    assert grid.ready_for_approval(justified) == expected
