"""Money on Decimal: rounding to the fen, refusing floats, parsing user amounts exactly."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaowei.core.errors import InvalidInput
from xiaowei.core.money import (
    FEN,
    Money,
    RoundingMode,
    from_cents,
    parse_amount,
    round_to_multiple,
    to_cents,
    to_fen,
)

# A hundred billion CNY either way: beyond any loan, well inside Decimal's 28 digits.
_FEN_LIMIT = 10**13
amounts_in_fen = st.decimals(
    min_value=-_FEN_LIMIT, max_value=_FEN_LIMIT, places=2, allow_nan=False, allow_infinity=False
)


@pytest.mark.parametrize(
    ("value", "half_up", "half_even"),
    [
        # The tie goes away from zero under 四舍五入, to the even fen under banker's rounding.
        pytest.param("0.125", "0.13", "0.12", id="tie-to-odd-fen"),
        pytest.param("0.135", "0.14", "0.14", id="tie-to-even-fen"),
        pytest.param("0.145", "0.15", "0.14", id="tie-0.145"),
        pytest.param("-0.125", "-0.13", "-0.12", id="negative-tie-to-odd-fen"),
        pytest.param("-0.135", "-0.14", "-0.14", id="negative-tie-to-even-fen"),
        # As text 2.675 is a true tie; the float 2.675 is 2.67499… and would round down.
        pytest.param("2.675", "2.68", "2.68", id="tie-that-a-float-gets-wrong"),
        pytest.param("0.124", "0.12", "0.12", id="below-tie"),
        pytest.param("0.1251", "0.13", "0.13", id="above-tie"),
        pytest.param("362.5", "362.50", "362.50", id="already-in-fen"),
    ],
)
def test_to_fen_rounds_ties_by_the_chosen_mode(value: str, half_up: str, half_even: str) -> None:
    up = to_fen(value, rounding=RoundingMode.HALF_UP)
    even = to_fen(value, rounding=RoundingMode.HALF_EVEN)

    assert (str(up), str(even)) == (half_up, half_even)


def test_half_up_is_the_default_rounding() -> None:
    assert to_fen("0.125") == Decimal("0.13")
    assert Money.of("0.125").amount == Decimal("0.13")


@pytest.mark.parametrize(
    ("mode", "decimal_mode"),
    [
        pytest.param(RoundingMode.HALF_UP, decimal.ROUND_HALF_UP, id="half-up"),
        pytest.param(RoundingMode.HALF_EVEN, decimal.ROUND_HALF_EVEN, id="half-even"),
    ],
)
def test_rounding_mode_maps_to_the_decimal_constant(mode: RoundingMode, decimal_mode: str) -> None:
    assert mode.decimal_mode == decimal_mode


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: to_fen(0.1), id="to_fen"),  # type: ignore[arg-type]
        pytest.param(lambda: Money.of(0.1), id="Money.of"),  # type: ignore[arg-type]
        pytest.param(lambda: Money(0.1), id="Money"),  # type: ignore[arg-type]
        pytest.param(lambda: parse_amount(0.1), id="parse_amount"),  # type: ignore[arg-type]
        pytest.param(lambda: Money.of("1").times(0.5), id="Money.times"),  # type: ignore[arg-type]
        pytest.param(lambda: to_fen(True), id="bool"),
    ],
)
def test_floats_and_bools_are_refused(build: Callable[[], object]) -> None:
    with pytest.raises(TypeError):
        build()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("12.34", "12.34", id="two-places"),
        pytest.param("12.3", "12.30", id="one-place"),
        pytest.param("12", "12.00", id="whole"),
        pytest.param(" 1,000.50 ", "1000.50", id="thousands-separator-and-spaces"),
        pytest.param("12.340", "12.34", id="trailing-zero-beyond-the-fen"),
        pytest.param(12, "12.00", id="int"),
        pytest.param(Decimal("0.01"), "0.01", id="one-fen"),
    ],
)
def test_parse_amount_accepts_exact_amounts(text: str | int | Decimal, expected: str) -> None:
    assert str(parse_amount(text)) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("12.345", "more than two decimal places", id="sub-fen"),
        pytest.param("-5", "greater than zero", id="negative"),
        pytest.param("0", "greater than zero", id="zero"),
        pytest.param("abc", "not a number", id="not-a-number"),
        pytest.param("", "not a number", id="empty"),
        pytest.param("NaN", "not a finite number", id="nan"),
        pytest.param("sNaN", "not a finite number", id="signalling-nan"),
        pytest.param("inf", "not a finite number", id="infinity"),
        pytest.param("-Infinity", "not a finite number", id="negative-infinity"),
        pytest.param("1e30", "too large", id="more-digits-than-the-context"),
    ],
)
def test_parse_amount_refuses_impossible_amounts_naming_the_field(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=rf"^loan_amount: .*{reason}") as caught:
        parse_amount(text, field="loan_amount")

    assert caught.value.field == "loan_amount"


def test_parse_amount_allows_zero_but_not_negative_when_not_positive() -> None:
    assert parse_amount("0", field="fee", positive=False) == Decimal("0.00")
    with pytest.raises(InvalidInput, match=r"^fee: -5 must not be negative"):
        parse_amount("-5", field="fee", positive=False)


def test_parse_amount_names_amount_by_default() -> None:
    with pytest.raises(InvalidInput, match=r"^amount: "):
        parse_amount("abc")


@given(amounts_in_fen)
def test_to_cents_and_from_cents_round_trip_amounts(amount: Decimal) -> None:
    cents = to_cents(amount)

    assert isinstance(cents, int)
    assert from_cents(cents) == amount
    assert from_cents(cents).as_tuple().exponent == -2


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_from_cents_and_to_cents_round_trip_integers(cents: int) -> None:
    assert to_cents(from_cents(cents)) == cents


@pytest.mark.parametrize(
    ("cents", "amount"),
    [
        pytest.param(0, "0.00", id="zero"),
        pytest.param(1, "0.01", id="one-fen"),
        pytest.param(-5, "-0.05", id="negative"),
        pytest.param(36250, "362.50", id="interest"),
    ],
)
def test_from_cents_worked_cases(cents: int, amount: str) -> None:
    assert str(from_cents(cents)) == amount


def test_to_cents_refuses_a_fraction_of_a_fen() -> None:
    with pytest.raises(ValueError, match="not a whole number of fen"):
        to_cents(Decimal("0.005"))


def test_money_arithmetic_stays_in_the_fen() -> None:
    principal = Money.of("100000")
    interest = Money.of("362.5")

    assert principal + interest == Money(Decimal("100362.50"))
    assert principal - interest == Money(Decimal("99637.50"))
    assert -interest == Money(Decimal("-362.50"))
    assert Money.zero() + interest == interest
    assert interest < principal
    assert interest <= Money.of("362.50")
    assert str(principal + interest) == "100,362.50 CNY"


@pytest.mark.parametrize(
    ("factor", "rounding", "expected"),
    [
        # 100,000 × 4.35 % / 12 = 362.5 exactly.
        pytest.param(Decimal("0.0435") / 12, RoundingMode.HALF_UP, "362.50", id="monthly-interest"),
        pytest.param(Decimal("0.00125"), RoundingMode.HALF_UP, "125.00", id="exact"),
        # 100,000 × 0.00000125 = 0.125, a tie at the fen.
        pytest.param(Decimal("0.00000125"), RoundingMode.HALF_UP, "0.13", id="tie-half-up"),
        pytest.param(Decimal("0.00000125"), RoundingMode.HALF_EVEN, "0.12", id="tie-half-even"),
        pytest.param(Decimal("0.00000115"), RoundingMode.HALF_EVEN, "0.12", id="tie-odd-fen-even"),
        pytest.param(3, RoundingMode.HALF_UP, "300000.00", id="int-factor"),
    ],
)
def test_money_times_rounds_the_product(
    factor: Decimal | int, rounding: RoundingMode, expected: str
) -> None:
    assert str(Money.of("100000").times(factor, rounding=rounding).amount) == expected


def test_money_times_tie_differs_by_mode() -> None:
    fee = Money.of("0.25")
    half = Decimal("0.5")

    assert fee.times(half, rounding=RoundingMode.HALF_UP).amount == Decimal("0.13")
    assert fee.times(half, rounding=RoundingMode.HALF_EVEN).amount == Decimal("0.12")


@pytest.mark.parametrize(
    "combine",
    [
        pytest.param(lambda a, b: a + b, id="add"),
        pytest.param(lambda a, b: a - b, id="subtract"),
        pytest.param(lambda a, b: a < b, id="less-than"),
        pytest.param(lambda a, b: a <= b, id="less-or-equal"),
    ],
)
def test_money_refuses_to_combine_currencies(combine: Callable[[Money, Money], object]) -> None:
    with pytest.raises(ValueError, match="cannot combine CNY with USD"):
        combine(Money.of("1"), Money.of("1", "USD"))


def test_money_must_be_built_in_the_fen() -> None:
    with pytest.raises(ValueError, match="not rounded to the fen"):
        Money(Decimal("0.001"))
    with pytest.raises(TypeError, match="must be a Decimal"):
        Money(1)  # type: ignore[arg-type]


@given(amounts_in_fen, amounts_in_fen)
def test_money_addition_is_exact(a: Decimal, b: Decimal) -> None:
    total = Money(a) + Money(b)

    assert total.amount == a + b
    assert (total - Money(b)).amount == a


@pytest.mark.parametrize(
    ("value", "multiple", "rounding", "expected"),
    [
        pytest.param("1234.56", "10", decimal.ROUND_HALF_UP, "1230.00", id="tens-half-up"),
        pytest.param("1234.56", "10", decimal.ROUND_CEILING, "1240.00", id="tens-ceiling"),
        pytest.param("1235.00", "10", decimal.ROUND_HALF_UP, "1240.00", id="tens-tie-half-up"),
        pytest.param("1235.00", "10", decimal.ROUND_HALF_EVEN, "1240.00", id="tens-tie-even"),
        pytest.param("1225.00", "10", decimal.ROUND_HALF_EVEN, "1220.00", id="tens-tie-even-down"),
        pytest.param("3.26", "0.05", decimal.ROUND_HALF_UP, "3.25", id="five-fen"),
        pytest.param("3.26", "0.05", decimal.ROUND_CEILING, "3.30", id="five-fen-ceiling"),
        pytest.param("3.25", "0.05", decimal.ROUND_CEILING, "3.25", id="already-a-multiple"),
    ],
)
def test_round_to_multiple(value: str, multiple: str, rounding: str, expected: str) -> None:
    result = round_to_multiple(Decimal(value), Decimal(multiple), rounding=rounding)

    assert str(result) == expected


@pytest.mark.parametrize("multiple", [pytest.param("0", id="zero"), pytest.param("-1", id="neg")])
def test_round_to_multiple_needs_a_positive_multiple(multiple: str) -> None:
    with pytest.raises(ValueError, match="multiple must be positive"):
        round_to_multiple(Decimal("1.00"), Decimal(multiple), rounding=decimal.ROUND_HALF_UP)


@given(amounts_in_fen)
def test_to_fen_leaves_fen_amounts_alone(amount: Decimal) -> None:
    assert to_fen(amount) == amount
    assert to_fen(amount).as_tuple().exponent == FEN.as_tuple().exponent
