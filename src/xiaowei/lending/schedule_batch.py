"""Repayment schedules (还款计划) for many loans at once, vectorised with NumPy.

The batch path computes exactly what :func:`xiaowei.lending.schedule.generate_schedule` computes,
to the fen, for a whole portfolio: the close-of-business job, a pricing simulation or a
portfolio projection needs millions of installments (期供), not one schedule.

Money is integer: amounts are int64 fen (分), annual rates int64 parts per million (ppm,
12 % = 120000), and every rounding to the fen is done on integers, half-up (四舍五入) or
half-even, on the exact quotient. Since every quotient the scalar path rounds has a denominator
of at most 365 × 10⁶ fen, its 28/34-digit Decimal results round the same way. The one exception
is the level payment of 等额本息 and 气球贷, an annuity computed in float64 and rounded to the fen;
a loan whose float payment lies within 10⁻⁶ fen (plus the float error bound of large amounts) of
a rounding boundary has its payment recomputed with the scalar Decimal ``level_payment``, so the
result is bit-identical to the scalar path.

Loans are grouped by (term, method, frequency), and each group is advanced installment by
installment, vectorised across its loans. Due dates follow the end-of-month rule (月末规则),
vectorised on month indices.

Natively vectorised: equal-installment (等额本息), equal-principal (等额本金), interest-only
(按月付息到期还本), bullet (到期一次还本付息) and balloon (气球贷), monthly or quarterly, with grace
periods (宽限期), a fixed repayment day (固定还款日, broken first period), half-up or half-even
rounding and any day count of the broken period. Seasonal loans (季节性还款, ``weights``), loans
with actual-day interest (``interest_basis = "actual-days"``) and loans too large for int64
arithmetic are delegated to the scalar path, row by row, in the same output.

Input columns (a Polars DataFrame, or a mapping of column name to NumPy array):

========================  ==========================================================
``loan_id``               any dtype, carried to the output
``principal_fen``         int, amount in fen (> 0)
``rate_ppm``              int, annual rate in parts per million (0 … 1,000,000)
``term_months``           int, term in months (≥ 1; a whole number of periods)
``start_date``            date of disbursement (放款日)
``method``                ``RepaymentMethod`` value, e.g. ``"equal-installment"``
``frequency``             ``"monthly"`` or ``"quarterly"``
``grace_periods``         int, interest-only periods before amortising
``repayment_day``         optional int 1…31, null for the disbursement day
``balloon_share_ppm``     optional int, share repaid at maturity by a balloon loan
``rounding``              optional ``"half-up"`` (default) or ``"half-even"``
``day_count``             optional ``"ACT/360"`` (default), ``"ACT/365"`` or ``"30/360"``
``interest_basis``        optional ``"periodic"`` (default) or ``"actual-days"``
``weights``               optional list of int, seasonal principal weights
========================  ==========================================================

Output: one row per installment, ordered as the loans were, then by number: ``loan_id``,
``number``, ``start_date``, ``due_date``, ``principal_fen``, ``interest_fen``,
``balance_fen`` (principal outstanding after the installment).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Context, Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from xiaowei.core.daycount import DayCount
from xiaowei.core.errors import InvalidInput
from xiaowei.core.money import RoundingMode, from_cents, to_cents, to_fen
from xiaowei.lending.schedule import (
    Frequency,
    InterestBasis,
    RepaymentMethod,
    Schedule,
    ScheduleTerms,
    generate_schedule,
    level_payment,
)

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

PPM = 1_000_000
REQUIRED_COLUMNS = (
    "loan_id",
    "principal_fen",
    "rate_ppm",
    "term_months",
    "start_date",
    "method",
    "frequency",
    "grace_periods",
)
OUTPUT_COLUMNS = (
    "loan_id",
    "number",
    "start_date",
    "due_date",
    "principal_fen",
    "interest_fen",
    "balance_fen",
)

_METHODS = tuple(RepaymentMethod)
_FREQUENCIES = tuple(Frequency)
_DAY_COUNTS = tuple(DayCount)
_VECTORISED = (
    RepaymentMethod.EQUAL_INSTALLMENT,
    RepaymentMethod.EQUAL_PRINCIPAL,
    RepaymentMethod.INTEREST_ONLY,
    RepaymentMethod.BULLET,
    RepaymentMethod.BALLOON,
)
# Largest product balance × rate × (months or days) the integer path may form: below 2⁶², so
# doubling a remainder in the rounding step cannot overflow int64.
_INT64_HEADROOM = 2**62
# Same precision as the scalar path's level payment (schedule._CTX).
_DECIMAL = Context(prec=34)
# The float annuity's relative error is a few ulp times the exponent n·log1p(r); 1e-14 per unit
# of exponent is a generous bound, on top of the 1e-6 fen margin.
_FLOAT_RELATIVE_ERROR = 1e-14
_BOUNDARY_MARGIN_FEN = 1e-6


def generate_schedules(loans: pl.DataFrame | Mapping[str, Any]) -> pl.DataFrame:
    """Schedules of many loans: one row per installment, amounts in integer fen."""
    frame = loans if isinstance(loans, pl.DataFrame) else pl.DataFrame(dict(loans))
    book = _LoanBook.read(frame)
    n_rows = book.periods.astype(np.int64)
    offsets = np.zeros(len(book), dtype=np.int64)
    np.cumsum(n_rows[:-1], out=offsets[1:])
    total = int(n_rows.sum())
    out = _Output.empty(total)

    delegated = book.delegated()
    for index, schedule in zip(delegated, _scalar_schedules(frame, delegated), strict=True):
        out.put_schedule(int(offsets[index]), schedule)

    groups = list(book.vectorised_groups())
    if groups:
        calendar = _MonthStarts.covering(book)
        for group in groups:
            _advance_group(book, group, offsets[group], out, calendar)

    loan_index = np.repeat(np.arange(len(book), dtype=np.int64), n_rows)
    numbers = (np.arange(total, dtype=np.int64) - offsets[loan_index] + 1).astype(np.int32)
    return pl.DataFrame(
        {
            "loan_id": frame["loan_id"].gather(loan_index),
            "number": pl.Series(numbers),
            "start_date": pl.Series(out.start_day).cast(pl.Date),
            "due_date": pl.Series(out.due_day).cast(pl.Date),
            "principal_fen": out.principal,
            "interest_fen": out.interest,
            "balance_fen": out.balance,
        }
    )


def schedules_one_by_one(loans: pl.DataFrame | Mapping[str, Any]) -> pl.DataFrame:
    """The same frame built the straightforward way: ``generate_schedule`` loan by loan.

    The reference the batch path is checked and benchmarked against.
    """
    frame = loans if isinstance(loans, pl.DataFrame) else pl.DataFrame(dict(loans))
    columns: dict[str, list[Any]] = {name: [] for name in OUTPUT_COLUMNS}
    for row in frame.iter_rows(named=True):
        schedule = generate_schedule(terms_of_row(row))
        for i in schedule.installments:
            columns["loan_id"].append(row["loan_id"])
            columns["number"].append(i.number)
            columns["start_date"].append(i.start_date)
            columns["due_date"].append(i.due_date)
            columns["principal_fen"].append(to_cents(i.principal))
            columns["interest_fen"].append(to_cents(i.interest))
            columns["balance_fen"].append(to_cents(i.balance))
    return pl.DataFrame(
        columns,
        schema={
            "loan_id": frame.schema["loan_id"],
            "number": pl.Int32,
            "start_date": pl.Date,
            "due_date": pl.Date,
            "principal_fen": pl.Int64,
            "interest_fen": pl.Int64,
            "balance_fen": pl.Int64,
        },
    )


def terms_of_row(row: Mapping[str, Any]) -> ScheduleTerms:
    """The scalar ``ScheduleTerms`` of one input row (amounts from fen, rates from ppm)."""
    repayment_day = row.get("repayment_day")
    weights = row.get("weights") or ()
    return ScheduleTerms(
        principal=from_cents(int(row["principal_fen"])),
        annual_rate=Decimal(int(row["rate_ppm"])) / PPM,
        term_months=int(row["term_months"]),
        start_date=row["start_date"],
        method=RepaymentMethod(row["method"]),
        frequency=Frequency(row["frequency"]),
        repayment_day=None if repayment_day is None else int(repayment_day),
        grace_periods=int(row["grace_periods"]),
        balloon_share=Decimal(int(row.get("balloon_share_ppm") or 0)) / PPM,
        weights=tuple(Decimal(int(w)) for w in weights),
        rounding=RoundingMode(row.get("rounding") or RoundingMode.HALF_UP),
        day_count=DayCount(row.get("day_count") or DayCount.ACT_360),
        interest_basis=InterestBasis(row.get("interest_basis") or InterestBasis.PERIODIC),
    )


# --- input ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LoanBook:
    """The loans as validated NumPy columns (one entry per loan)."""

    principal: I64
    rate: I64
    term: I64
    start_day: I64  # days since 1970-01-01
    method: I64  # index into _METHODS
    frequency: I64  # index into _FREQUENCIES
    step: I64  # months per period (the whole term for a bullet)
    periods: I64
    grace: I64
    repayment_day: I64  # 0 when due on the disbursement day
    balloon_share: I64
    half_even: Bools
    year_days: I64
    thirty_360: Bools
    scalar_only: Bools

    def __len__(self) -> int:
        return len(self.principal)

    @classmethod
    def read(cls, frame: pl.DataFrame) -> _LoanBook:
        missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
        if missing:
            raise InvalidInput(missing[0], "column is missing from the loans")
        for name in REQUIRED_COLUMNS:
            if frame[name].null_count():
                _refuse(frame, name, frame[name].is_null().to_numpy(), "must not be null")
        n = frame.height

        def ints(name: str, default: int) -> I64:
            if name not in frame.columns:
                return np.full(n, default, dtype=np.int64)
            return frame[name].cast(pl.Int64).fill_null(default).to_numpy().astype(np.int64)

        def codes(name: str, values: tuple[str, ...], default: str) -> I64:
            if name not in frame.columns:
                return np.full(n, values.index(default), dtype=np.int64)
            text = frame[name].cast(pl.String).fill_null(default)
            known = text.is_in(list(values)).to_numpy()
            if not known.all():
                _refuse(frame, name, ~known, f"must be one of {', '.join(values)}")
            lookup = pl.Series(list(values)).to_frame("value").with_row_index("code")
            coded = text.to_frame("value").join(
                lookup, on="value", how="left", maintain_order="left"
            )
            return coded["code"].cast(pl.Int64).to_numpy().astype(np.int64)

        principal = ints("principal_fen", 0)
        rate = ints("rate_ppm", 0)
        term = ints("term_months", 0)
        grace = ints("grace_periods", 0)
        repayment_day = ints("repayment_day", 0)
        balloon_share = ints("balloon_share_ppm", 0)
        method = codes(
            "method", tuple(m.value for m in _METHODS), RepaymentMethod.EQUAL_INSTALLMENT
        )
        frequency = codes("frequency", tuple(f.value for f in _FREQUENCIES), Frequency.MONTHLY)
        rounding = codes("rounding", tuple(r.value for r in RoundingMode), RoundingMode.HALF_UP)
        day_count = codes("day_count", tuple(d.value for d in _DAY_COUNTS), DayCount.ACT_360)
        basis = codes(
            "interest_basis", tuple(b.value for b in InterestBasis), InterestBasis.PERIODIC
        )
        start_day = frame["start_date"].cast(pl.Date).to_physical().to_numpy().astype(np.int64)

        bullet = method == _METHODS.index(RepaymentMethod.BULLET)
        months = np.array([f.months for f in _FREQUENCIES], dtype=np.int64)[frequency]
        step = np.where(bullet, np.maximum(term, 1), months)
        periods = np.where(bullet, 1, term // months)
        amortising = (method == _METHODS.index(RepaymentMethod.EQUAL_INSTALLMENT)) | (
            method == _METHODS.index(RepaymentMethod.EQUAL_PRINCIPAL)
        )
        balloon = method == _METHODS.index(RepaymentMethod.BALLOON)

        checks: list[tuple[str, Bools, str]] = [
            ("principal_fen", principal <= 0, "must be a positive number of fen"),
            ("rate_ppm", (rate < 0) | (rate > PPM), "must be between 0 and 1,000,000 ppm"),
            ("term_months", term < 1, "must be at least one month"),
            (
                "term_months",
                ~bullet & (term % months != 0),
                "is not a whole number of repayment periods",
            ),
            (
                "repayment_day",
                (repayment_day != 0) & ((repayment_day < 1) | (repayment_day > 31)),
                "must be 1..31",
            ),
            ("grace_periods", grace < 0, "must not be negative"),
            ("grace_periods", (grace > 0) & ~amortising, "applies to amortising methods only"),
            ("grace_periods", (grace > 0) & (grace >= periods), "leaves nothing to amortise"),
            (
                "balloon_share_ppm",
                balloon & ((balloon_share <= 0) | (balloon_share >= PPM)),
                "must be strictly between 0 and 1,000,000 ppm",
            ),
        ]
        for name, bad, message in checks:
            if bad.any():
                _refuse(frame, name, bad, message)

        vectorised = np.isin(method, [_METHODS.index(m) for m in _VECTORISED])
        actual_days = basis == tuple(InterestBasis).index(InterestBasis.ACTUAL_DAYS)
        # balance × rate × (months or days) and amount × balloon share must stay within
        # int64; days of a broken first period are at most 31 × (step + 1), months the step.
        factor = np.maximum(np.maximum(rate, np.where(balloon, balloon_share, 0)), 1)
        too_large = principal.astype(np.float64) * factor * 31.0 * (step + 2) >= _INT64_HEADROOM
        year_days = np.array([d.year_days for d in _DAY_COUNTS], dtype=np.int64)[day_count]
        return cls(
            principal=principal,
            rate=rate,
            term=term,
            start_day=start_day,
            method=method,
            frequency=frequency,
            step=step,
            periods=periods,
            grace=grace,
            repayment_day=repayment_day,
            balloon_share=balloon_share,
            half_even=rounding == tuple(RoundingMode).index(RoundingMode.HALF_EVEN),
            year_days=year_days,
            thirty_360=day_count == _DAY_COUNTS.index(DayCount.THIRTY_360),
            scalar_only=~vectorised | actual_days | too_large,
        )

    def delegated(self) -> I64:
        """Indices of the loans computed by the scalar path."""
        return np.flatnonzero(self.scalar_only).astype(np.int64)

    def vectorised_groups(self) -> Iterator[I64]:
        """Indices of the other loans, grouped by (term, method, frequency)."""
        candidates = np.flatnonzero(~self.scalar_only)
        if not len(candidates):
            return
        key = (self.term[candidates] * len(_FREQUENCIES) + self.frequency[candidates]) * len(
            _METHODS
        ) + self.method[candidates]
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        for begin, end in zip(starts, [*starts[1:], len(order)], strict=True):
            yield candidates[order[begin:end]].astype(np.int64)


def _refuse(frame: pl.DataFrame, name: str, bad: Bools, message: str) -> None:
    first = int(np.flatnonzero(bad)[0])
    others = int(bad.sum()) - 1
    also = f" ({others} more loans too)" if others else ""
    raise InvalidInput(name, f"loan {frame['loan_id'][first]}: {message}{also}")


# --- output ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Output:
    """The output columns; every row is written once, by a group's block or the scalar path."""

    start_day: I32  # days since 1970-01-01, Polars' physical Date
    due_day: I32
    principal: I64
    interest: I64
    balance: I64

    @classmethod
    def empty(cls, total: int) -> _Output:
        return cls(
            start_day=np.empty(total, dtype=np.int32),
            due_day=np.empty(total, dtype=np.int32),
            principal=np.empty(total, dtype=np.int64),
            interest=np.empty(total, dtype=np.int64),
            balance=np.empty(total, dtype=np.int64),
        )

    def put_block(self, offsets: I64, block: _Block) -> None:
        """Copy a group's block (one row per loan, one column per installment) to the rows
        starting at each loan's offset."""
        periods = block.principal.shape[1]
        rows = (offsets[:, np.newaxis] + np.arange(periods, dtype=np.int64)).ravel()
        self.start_day[rows] = block.start_day.ravel()
        self.due_day[rows] = block.due_day.ravel()
        self.principal[rows] = block.principal.ravel()
        self.interest[rows] = block.interest.ravel()
        self.balance[rows] = block.balance.ravel()

    def put_schedule(self, offset: int, schedule: Schedule) -> None:
        epoch = date(1970, 1, 1)
        for k, i in enumerate(schedule.installments):
            row = offset + k
            self.start_day[row] = (i.start_date - epoch).days
            self.due_day[row] = (i.due_date - epoch).days
            self.principal[row] = to_cents(i.principal)
            self.interest[row] = to_cents(i.interest)
            self.balance[row] = to_cents(i.balance)


@dataclass(frozen=True, slots=True)
class _Block:
    """A group's installments: ``[loan, installment]`` arrays, each loan's row contiguous so
    that copying to the output reads and writes in order."""

    start_day: I64
    due_day: I64
    principal: I64
    interest: I64
    balance: I64

    @classmethod
    def empty(cls, loans: int, periods: int) -> _Block:
        return cls(*(np.empty((loans, periods), dtype=np.int64) for _ in range(5)))


def _scalar_schedules(frame: pl.DataFrame, indices: I64) -> Iterator[Schedule]:
    if not len(indices):
        return
    for row in frame[indices].iter_rows(named=True):
        yield generate_schedule(terms_of_row(row))


# --- integer money ----------------------------------------------------------------------------


def round_quotient(numerator: I64, denominator: I64 | int, *, half_even: Bools) -> I64:
    """``numerator / denominator`` rounded to an integer: half-up (四舍五入), or half-even
    where ``half_even``; exact integer arithmetic (``numerator ≥ 0``, ``denominator > 0``)."""
    quotient, remainder = np.divmod(numerator, denominator)
    twice = 2 * remainder
    tie = twice == denominator
    up = (twice > denominator) | (tie & (~half_even | (quotient % 2 == 1)))
    rounded: I64 = quotient + up
    return rounded


# --- dates ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _MonthStarts:
    """Day numbers (days since 1970-01-01) of the first day of consecutive months, from
    ``first_month`` (months since 1970-01): a lookup table for vectorised calendar arithmetic."""

    first_month: int
    days: I64

    @classmethod
    def covering(cls, book: _LoanBook) -> _MonthStarts:
        """The months from the earliest disbursement to the month after the last due date."""
        first = int(
            np.datetime64(int(book.start_day.min()), "D").astype("datetime64[M]").astype(int)
        )
        last = int(
            np.datetime64(int(book.start_day.max()), "D").astype("datetime64[M]").astype(int)
        )
        last += int((book.step * book.periods).max()) + 2
        months = np.arange(first, last + 1, dtype=np.int64)
        days = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
        return cls(first, days)

    def month_of(self, day: I64) -> I64:
        """Months since 1970-01 of each day number."""
        found: I64 = np.searchsorted(self.days, day, side="right") - 1 + self.first_month
        return found

    def start_of(self, month: I64) -> I64:
        """Day number of the first day of each month."""
        return self.days[month - self.first_month]

    def due_day(self, month: I64, anchor: I64) -> I64:
        """Day ``anchor`` of each month, or the month's last day (end-of-month rule, 月末规则)."""
        index = month - self.first_month
        first = self.days[index]
        length = self.days[index + 1] - first
        due: I64 = first + np.minimum(anchor, length) - 1
        return due


# --- the schedule -----------------------------------------------------------------------------


def _advance_group(
    book: _LoanBook, loans: I64, offsets: I64, out: _Output, calendar: _MonthStarts
) -> None:
    """Fill the installments of ``loans`` (same term, method and frequency) period by period."""
    method = _METHODS[int(book.method[loans[0]])]
    n = int(book.periods[loans[0]])
    months = int(book.step[loans[0]])
    principal = book.principal[loans]
    rate = book.rate[loans]
    grace = book.grace[loans]
    half_even = book.half_even[loans]
    start = book.start_day[loans]
    repayment_day = book.repayment_day[loans]

    start_month = calendar.month_of(start)
    start_dom = start - calendar.start_of(start_month) + 1
    anchor = np.where(repayment_day > 0, repayment_day, start_dom)
    broken = (repayment_day > 0) & (repayment_day != start_dom)
    per_period = rate * months  # × balance / 12 / 10⁶ is the period's interest

    payment = np.zeros(len(loans), dtype=np.int64)
    part = np.zeros(len(loans), dtype=np.int64)
    if method in (RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.BALLOON):
        residual = np.zeros(len(loans), dtype=np.int64)
        if method is RepaymentMethod.BALLOON:
            # the scalar path rounds the balloon half-up whatever the product's rounding
            residual = round_quotient(
                principal * book.balloon_share[loans], PPM, half_even=np.zeros_like(half_even)
            )
        payment = _level_payment_fen(principal, rate, months, n - grace, residual, half_even)
    elif method is RepaymentMethod.EQUAL_PRINCIPAL:
        part = round_quotient(principal, n - grace, half_even=half_even)

    block = _Block.empty(len(loans), n)
    balance = principal.copy()
    period_start = start
    for k in range(n):
        due = calendar.due_day(start_month + months * (k + 1), anchor)
        regular = round_quotient(balance * per_period, 12 * PPM, half_even=half_even)
        interest = regular
        if k == 0 and broken.any():
            interest = np.where(
                broken, _broken_interest(book, loans, balance, due, calendar), regular
            )
        if k == n - 1:
            paid = balance
        elif method in (RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.BALLOON):
            paid = np.where(k < grace, 0, np.clip(payment - regular, 0, balance))
        elif method is RepaymentMethod.EQUAL_PRINCIPAL:
            paid = np.where(k < grace, 0, np.minimum(part, balance))
        else:
            paid = np.zeros_like(balance)
        balance = balance - paid
        block.start_day[:, k] = period_start
        block.due_day[:, k] = due
        block.principal[:, k] = paid
        block.interest[:, k] = interest
        block.balance[:, k] = balance
        period_start = due
    out.put_block(offsets, block)


def _broken_interest(
    book: _LoanBook, loans: I64, balance: I64, due: I64, calendar: _MonthStarts
) -> I64:
    """Interest of a broken first period: balance × rate × days / year days."""
    start = book.start_day[loans]
    days = due - start
    thirty = book.thirty_360[loans]
    if thirty.any():
        # 30/360 (ISDA 2006 §4.16(f), as core.daycount): 30 days a month, day 31 → 30
        start_month, due_month = calendar.month_of(start), calendar.month_of(due)
        d1 = np.minimum(start - calendar.start_of(start_month) + 1, 30)
        d2 = due - calendar.start_of(due_month) + 1
        d2 = np.where((d2 == 31) & (d1 == 30), 30, d2)
        days = np.where(thirty, 30 * (due_month - start_month) + d2 - d1, days)
    numerator = balance * book.rate[loans] * days
    return round_quotient(numerator, book.year_days[loans] * PPM, half_even=book.half_even[loans])


def _level_payment_fen(
    principal: I64, rate: I64, months: int, periods: I64, residual: I64, half_even: Bools
) -> I64:
    """Level payment in fen taking ``principal`` to ``residual`` over ``periods``.

    float64 annuity P·r/(1 − (1+r)⁻ⁿ) − R·r/((1+r)ⁿ − 1) (two positive terms, each with
    expm1/log1p accuracy), rounded to the fen; near a rounding boundary, Decimal.
    """
    r = rate * (months / (12 * PPM))
    exponent = periods * np.log1p(r)
    with np.errstate(divide="ignore", invalid="ignore"):
        on_principal = np.where(r > 0, principal * r / -np.expm1(-exponent), principal / periods)
        on_residual = np.where(r > 0, residual * r / np.expm1(exponent), residual / periods)
    raw = on_principal - on_residual
    rounded = np.floor(raw + 0.5)
    tolerance = _BOUNDARY_MARGIN_FEN + _FLOAT_RELATIVE_ERROR * np.maximum(exponent, 1.0) * (
        on_principal + on_residual
    )
    near = np.abs(raw - np.floor(raw) - 0.5) <= tolerance
    payment = rounded.astype(np.int64)
    for i in np.flatnonzero(near):
        payment[i] = _decimal_level_payment_fen(
            int(principal[i]),
            int(rate[i]),
            months,
            int(periods[i]),
            int(residual[i]),
            half_even=bool(half_even[i]),
        )
    return payment


def _decimal_level_payment_fen(
    principal: int, rate_ppm: int, months: int, periods: int, residual: int, *, half_even: bool
) -> int:
    """The scalar path's payment: ``level_payment`` on Decimals, rounded to the fen."""
    annual = Decimal(rate_ppm) / PPM
    periodic = _DECIMAL.divide(annual * months, Decimal(12))
    raw = level_payment(from_cents(principal), periodic, periods, residual=from_cents(residual))
    rounding = RoundingMode.HALF_EVEN if half_even else RoundingMode.HALF_UP
    return to_cents(to_fen(raw, rounding=rounding))
