"""Loan products (贷款产品): versioned definitions that fix what a loan may be.

A product is data (YAML in ``lending/catalogue/`` and rows in the database); a booked loan keeps
the product version it was booked under.  Validation names the offending field, e.g.
``rate_max: must not be below rate_min``.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from xiaowei.core.daycount import DayCount
from xiaowei.core.errors import InvalidInput
from xiaowei.core.money import ZERO, RoundingMode, to_fen
from xiaowei.lending.schedule import Frequency, InterestBasis, RepaymentMethod


class FeeKind(StrEnum):
    UPFRONT_PERCENT = "upfront-percent"  # 按贷款金额比例一次性收取
    UPFRONT_FIXED = "upfront-fixed"  # 固定金额一次性收取


class AllocationStrategy(StrEnum):
    """Order in which a repayment is applied (还款冲销顺序)."""

    # Installment by installment, oldest first; inside one: penalty → compound → fees →
    # interest → principal (the order of the PBOC-era 先息后本 practice and of Fineract's
    # "penalties, fees, interest, principal" strategy).
    DUE_ORDER = "due-order"
    # Once the loan is non-performing (> 90 DPD, 不良), principal before interest, so that
    # cash reduces the exposure first (Frappe's NPA rule; prudent for 收回本金 in workouts).
    PRINCIPAL_FIRST_WHEN_NPL = "principal-first-when-npl"


class PrepaymentMode(StrEnum):
    """What an overpayment does (提前还款处理方式)."""

    SHORTEN_TERM = "shorten-term"  # 缩短期限, same installment
    LOWER_INSTALLMENT = "lower-installment"  # 减少月供, same maturity
    CREDIT_BALANCE = "credit-balance"  # kept as a credit balance for the next installments


class Fee(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: FeeKind
    value: Decimal = Field(ge=0)
    name: str = "service fee"

    def amount_for(self, principal: Decimal) -> Decimal:
        if self.kind is FeeKind.UPFRONT_FIXED:
            return to_fen(self.value)
        return to_fen(principal * self.value)


class PrepaymentRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    allowed_after_months: int = Field(default=0, ge=0)
    fee_rate: Decimal = Field(default=ZERO, ge=0, le=Decimal("0.1"))
    mode: PrepaymentMode = PrepaymentMode.SHORTEN_TERM


class LoanProduct(BaseModel):
    """A versioned loan product: eligibility ranges, repayment, pricing and ledger rules."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")
    version: int = Field(default=1, ge=1)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    persona: str = ""
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    amount_min: Decimal = Field(gt=0)
    amount_max: Decimal = Field(gt=0, le=Decimal("100000000"))
    term_min: int = Field(ge=1, description="months")
    term_max: int = Field(ge=1, le=360, description="months")
    rate_min: Decimal = Field(ge=0, le=1)
    rate_max: Decimal = Field(ge=0, le=1)
    methods: tuple[RepaymentMethod, ...] = Field(min_length=1)
    frequencies: tuple[Frequency, ...] = (Frequency.MONTHLY,)
    grace_months: int = Field(default=0, ge=0)
    repayment_day: int | None = Field(default=None, ge=1, le=31)
    penalty_markup: Decimal = Field(default=Decimal("0.5"), ge=0, le=1)
    compound_interest: bool = True
    fees: tuple[Fee, ...] = ()
    materials: tuple[str, ...] = ()
    prepayment: PrepaymentRule = PrepaymentRule()
    allocation: AllocationStrategy = AllocationStrategy.DUE_ORDER
    rounding: RoundingMode = RoundingMode.HALF_UP
    day_count: DayCount = DayCount.ACT_360
    interest_basis: InterestBasis = InterestBasis.PERIODIC
    overdue_grace_days: int = Field(default=0, ge=0, le=30)
    installment_multiple: Decimal | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _ranges(self) -> Self:
        if self.amount_max < self.amount_min:
            raise ValueError("amount_max: must not be below amount_min")
        if self.term_max < self.term_min:
            raise ValueError("term_max: must not be below term_min")
        if self.rate_max < self.rate_min:
            raise ValueError("rate_max: must not be below rate_min")
        for name in ("amount_min", "amount_max"):
            value = getattr(self, name)
            if value != to_fen(value):
                raise ValueError(f"{name}: {value} has more than two decimal places")
        for name in ("rate_min", "rate_max"):
            # Rates are carried to 1e-6 (0.0001 %), the precision of Chinese loan contracts;
            # the vectorised end of day relies on it (rates in parts per million).
            value = getattr(self, name)
            if value != value.quantize(Decimal("0.000001")):
                raise ValueError(f"{name}: {value} has more than six decimal places")
        return self

    def upfront_fee(self, principal: Decimal) -> Decimal:
        return sum((f.amount_for(principal) for f in self.fees), ZERO)

    def penalty_rate(self, annual_rate: Decimal) -> Decimal:
        """罚息利率: contract rate × (1 + markup), kept to 1e-6 (half-up)."""
        return (annual_rate * (1 + self.penalty_markup)).quantize(
            Decimal("0.000001"), rounding=decimal.ROUND_HALF_UP
        )

    def check_loan(
        self,
        *,
        amount: Decimal,
        term_months: int,
        annual_rate: Decimal,
        method: RepaymentMethod,
        frequency: Frequency,
        grace_periods: int = 0,
    ) -> None:
        """Refuse a loan outside this product, naming the field."""
        if not self.amount_min <= amount <= self.amount_max:
            raise InvalidInput(
                "amount",
                f"{amount} is outside {self.code}'s range {self.amount_min}–{self.amount_max}",
            )
        if not self.term_min <= term_months <= self.term_max:
            raise InvalidInput(
                "term",
                f"{term_months} months is outside {self.code}'s range "
                f"{self.term_min}–{self.term_max}",
            )
        if not self.rate_min <= annual_rate <= self.rate_max:
            raise InvalidInput(
                "annual_rate",
                f"{annual_rate} is outside {self.code}'s range {self.rate_min}–{self.rate_max}",
            )
        if annual_rate != annual_rate.quantize(Decimal("0.000001")):
            raise InvalidInput("annual_rate", f"{annual_rate} has more than six decimal places")
        if method not in self.methods:
            allowed = ", ".join(m.value for m in self.methods)
            raise InvalidInput(
                "method", f"{method} is not offered by {self.code} (allowed: {allowed})"
            )
        if frequency not in self.frequencies:
            raise InvalidInput("frequency", f"{frequency} is not offered by {self.code}")
        if grace_periods * frequency.months > self.grace_months:
            raise InvalidInput(
                "grace",
                f"{grace_periods} periods exceed {self.code}'s {self.grace_months} grace months",
            )


def product_from_mapping(data: Mapping[str, Any], *, source: str = "product") -> LoanProduct:
    """Build a product from parsed YAML/JSON, turning validation errors into one clear line."""
    try:
        return LoanProduct.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "product"
        msg = first["msg"].removeprefix("Value error, ")
        if ": " in msg and not first["loc"]:
            loc, msg = msg.split(": ", 1)
        code = data.get("code", "?") if isinstance(data, Mapping) else "?"
        raise InvalidInput(f"{source} {code}: {loc}", msg) from None
