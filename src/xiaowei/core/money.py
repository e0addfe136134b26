"""Money (金额) on ``decimal.Decimal``, rounded to the fen (分, 0.01 CNY).

Rounding rule: every amount that reaches a schedule or the ledger is quantized to 0.01 with
ROUND_HALF_UP (四舍五入), the rule of PBOC interest calculation practice and of Chinese
accounting; ROUND_HALF_EVEN (banker's rounding, Fineract's default) is available as a product
setting.  Floats are refused everywhere money is built: ``Money.of(0.1)`` raises ``TypeError``.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Self

from xiaowei.core.errors import InvalidInput

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
DEFAULT_CURRENCY = "CNY"


class RoundingMode(StrEnum):
    """How an amount is rounded to the fen (舍入方式)."""

    HALF_UP = "half-up"
    HALF_EVEN = "half-even"

    @property
    def decimal_mode(self) -> str:
        return decimal.ROUND_HALF_UP if self is RoundingMode.HALF_UP else decimal.ROUND_HALF_EVEN


def _as_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, bool | float):
        raise TypeError("money is never built from a float or bool; pass a Decimal, int or str")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", ""))
        except decimal.InvalidOperation:
            raise InvalidInput("amount", f"{value!r} is not a number") from None
    else:
        raise TypeError(f"cannot make money from {type(value).__name__}")
    if not result.is_finite():
        raise InvalidInput("amount", f"{value!r} is not a finite number")
    return result


def to_fen(value: Decimal | int | str, *, rounding: RoundingMode = RoundingMode.HALF_UP) -> Decimal:
    """Round ``value`` to the fen with ``rounding`` (half-up by default)."""
    return _as_decimal(value).quantize(FEN, rounding=rounding.decimal_mode)


def parse_amount(
    text: str | Decimal | int, *, field: str = "amount", positive: bool = True
) -> Decimal:
    """Read a user-supplied amount exactly: no sub-fen digits, finite, positive if asked.

    Input is never rounded silently: ``12.345`` is an impossible amount and raises, naming
    ``field``.
    """
    try:
        value = _as_decimal(text)
    except InvalidInput as exc:
        raise InvalidInput(field, exc.message) from None
    try:
        fen = value.quantize(FEN)
    except decimal.InvalidOperation:  # more digits than the context's 28: no real amount
        raise InvalidInput(field, f"{text} is too large to be an amount") from None
    if value != fen:
        raise InvalidInput(field, f"{text} has more than two decimal places (the fen is the unit)")
    if positive and value <= 0:
        raise InvalidInput(field, f"{text} must be greater than zero")
    if not positive and value < 0:
        raise InvalidInput(field, f"{text} must not be negative")
    return fen


def to_cents(value: Decimal) -> int:
    """Exact integer fen of a fen-quantized amount (for storage and vectorised batches)."""
    cents = value * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{value} is not a whole number of fen")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    """The Decimal amount of an integer number of fen (exact: a power-of-ten shift)."""
    if cents == 0:
        return ZERO
    return Decimal(cents).scaleb(-2)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency, always quantized to the fen."""

    amount: Decimal
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal; use Money.of()")
        if self.amount != self.amount.quantize(FEN):
            raise ValueError(f"{self.amount} is not rounded to the fen; use Money.of()")

    @classmethod
    def of(
        cls,
        value: Decimal | int | str,
        currency: str = DEFAULT_CURRENCY,
        *,
        rounding: RoundingMode = RoundingMode.HALF_UP,
    ) -> Self:
        return cls(to_fen(value, rounding=rounding), currency)

    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> Self:
        return cls(ZERO, currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def times(
        self, factor: Decimal | int, *, rounding: RoundingMode = RoundingMode.HALF_UP
    ) -> Money:
        """Multiply by an exact factor and round the product to the fen."""
        if isinstance(factor, float):
            raise TypeError("multiply money by a Decimal, not a float")
        return Money(to_fen(self.amount * factor, rounding=rounding), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __str__(self) -> str:
        return f"{self.amount:,.2f} {self.currency}"


def round_to_multiple(value: Decimal, multiple: Decimal, *, rounding: str) -> Decimal:
    """Round ``value`` to a multiple of ``multiple`` (Fineract's "installment in multiples of").

    ``rounding`` is a ``decimal`` rounding constant; ROUND_CEILING reproduces Frappe Lending's
    always-up EMI.
    """
    if multiple <= 0:
        raise ValueError("multiple must be positive")
    return ((value / multiple).quantize(Decimal(1), rounding=rounding) * multiple).quantize(FEN)
