"""The loan account (贷款账户): schedule, append-only ledger, and every operation on it.

This is the reference implementation of the loan's life: booking, daily accrual, repayment
allocation, prepayment, backdated repayments, waivers, write-off and recovery. The vectorised
end of day (``services/eod.py``) re-implements ``accrue_day`` over many loans at once and is
checked against it in the tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from xiaowei.core.errors import InvalidInput, InvalidState
from xiaowei.core.money import ZERO, to_fen
from xiaowei.lending.accrual import daily_penalty, interest_accrued_to, overdue_days_to_charge
from xiaowei.lending.delinquency import bucket_of, days_past_due
from xiaowei.lending.ledger import EntryType, LedgerEntry
from xiaowei.lending.product import AllocationStrategy, LoanProduct, PrepaymentMode
from xiaowei.lending.reschedule import reamortize
from xiaowei.lending.schedule import Installment, ScheduleTerms, generate_schedule

NPL_DPD = 90  # 不良: more than 90 days past due (《贷款风险分类指引》/ 2023 金融资产风险分类办法)

_REPAYING = (EntryType.REPAYMENT, EntryType.PREPAYMENT, EntryType.WAIVER, EntryType.WRITE_OFF)


class LoanStatus(StrEnum):
    ACTIVE = "active"  # 正常存续
    CLOSED = "closed"  # 结清
    WRITTEN_OFF = "written-off"  # 已核销


@dataclass(frozen=True, slots=True)
class ScheduledInstallment:
    """A row of the loan's current schedule version (contractual amounts)."""

    number: int
    start_date: date
    due_date: date
    principal: Decimal
    interest: Decimal
    opening_balance: Decimal


@dataclass(slots=True)
class InstallmentState:
    """An installment with what has been accrued and paid on it, derived from the ledger."""

    plan: ScheduledInstallment
    interest_accrued: Decimal = ZERO
    principal_paid: Decimal = ZERO
    interest_paid: Decimal = ZERO
    penalty: Decimal = ZERO  # unpaid penalty interest (罚息)
    compound: Decimal = ZERO  # unpaid compound interest (复利)
    fee: Decimal = ZERO  # unpaid fees
    penalty_accrued: Decimal = ZERO
    compound_accrued: Decimal = ZERO

    @property
    def number(self) -> int:
        return self.plan.number

    @property
    def due_date(self) -> date:
        return self.plan.due_date

    @property
    def principal_unpaid(self) -> Decimal:
        return self.plan.principal - self.principal_paid

    @property
    def interest_unpaid(self) -> Decimal:
        """Contractual interest not yet paid (due or not)."""
        return self.plan.interest - self.interest_paid

    def is_due(self, as_of: date) -> bool:
        return self.plan.due_date <= as_of

    @property
    def settled(self) -> bool:
        return (
            self.principal_unpaid == 0
            and self.interest_unpaid == 0
            and self.penalty == 0
            and self.compound == 0
            and self.fee == 0
        )


@dataclass(frozen=True, slots=True)
class Balances:
    """Balances of a loan on a date (余额), all derived from the ledger."""

    principal_outstanding: Decimal
    overdue_principal: Decimal
    overdue_interest: Decimal
    accrued_interest: Decimal  # interest receivable not yet due (current period)
    due_interest: Decimal  # due, unpaid, still within grace days
    penalty: Decimal
    compound: Decimal
    fees: Decimal
    credit_balance: Decimal
    interest_earned: Decimal  # all regular interest accrued to date
    recovered: Decimal

    def to_json(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class Allocation:
    installment: int
    principal: Decimal = ZERO
    interest: Decimal = ZERO
    penalty: Decimal = ZERO
    compound: Decimal = ZERO
    fee: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class PostingResult:
    """What a posting did; posting the same key again returns the first result unchanged."""

    key: str
    entries: tuple[LedgerEntry, ...]
    duplicate: bool = False

    @property
    def amount(self) -> Decimal:
        return sum((e.cash for e in self.entries), ZERO)


@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    """The sums of a loan's entries valued before ``before`` (the history not loaded).

    Loading a loan with years of daily accruals to post one repayment would read every entry;
    a snapshot replaces the old ones by their sums (computed by the database) and keeps the
    recent entries, which is all a repayment or an end of day from ``before`` on needs.
    ``postings`` holds earlier postings looked up by key, for idempotency only.
    """

    before: date
    installments: dict[int, dict[str, Decimal]]
    principal: Decimal
    credit: Decimal
    recovered: Decimal
    postings: dict[str, tuple[LedgerEntry, ...]] = field(default_factory=dict)


SNAPSHOT_FIELDS = (
    "interest_accrued",
    "principal_paid",
    "interest_paid",
    "penalty",
    "compound",
    "fee",
    "penalty_accrued",
    "compound_accrued",
)


def _add_entry(st: InstallmentState, e: LedgerEntry) -> None:
    """Apply one entry to an installment's state (the replay rule)."""
    kind = e.reversed_type if e.entry_type is EntryType.REVERSAL else e.entry_type
    if kind is EntryType.INTEREST_ACCRUAL:
        st.interest_accrued += e.interest
    elif kind is EntryType.PENALTY_ACCRUAL:
        st.penalty_accrued += e.penalty
    elif kind is EntryType.COMPOUND_ACCRUAL:
        st.compound_accrued += e.compound
    if kind in _REPAYING:
        st.principal_paid -= e.principal
        st.interest_paid -= e.interest
    st.penalty += e.penalty
    st.compound += e.compound
    st.fee += e.fee


@dataclass(slots=True, kw_only=True)
class Loan:
    """A booked loan: product version, terms, schedule versions and the ledger."""

    id: int | None
    product: LoanProduct
    terms: ScheduleTerms
    customer_id: str = ""
    status: LoanStatus = LoanStatus.ACTIVE
    schedule: list[ScheduledInstallment] = field(default_factory=list)
    schedule_version: int = 1
    entries: list[LedgerEntry] = field(default_factory=list)
    last_eod: date | None = None
    dpd: int = 0
    bucket: str = "M0"
    version: int = 0  # optimistic lock, managed by the repository
    new_entries: list[LedgerEntry] = field(default_factory=list)
    schedule_changed: bool = False
    snapshot: LedgerSnapshot | None = None

    # ------------------------------------------------------------------ booking
    @classmethod
    def book(
        cls,
        product: LoanProduct,
        terms: ScheduleTerms,
        *,
        customer_id: str = "",
        loan_id: int | None = None,
        booking_date: date | None = None,
    ) -> Loan:
        """Book and disburse a loan (放款): schedule, disbursement and upfront fees."""
        product.check_loan(
            amount=terms.principal,
            term_months=terms.term_months,
            annual_rate=terms.annual_rate,
            method=terms.method,
            frequency=terms.frequency,
            grace_periods=terms.grace_periods,
        )
        fee = product.upfront_fee(terms.principal)
        if fee != terms.upfront_fee:
            terms = replace(terms, upfront_fee=fee)  # the APR counts the fee
        schedule = generate_schedule(terms)
        loan = cls(
            id=loan_id,
            product=product,
            terms=terms,
            customer_id=customer_id,
            schedule=_plan_rows(schedule.installments),
        )
        day = terms.start_date
        booked = booking_date or day
        loan._post(
            LedgerEntry(
                entry_type=EntryType.DISBURSEMENT,
                value_date=day,
                booking_date=booked,
                key="disbursement",
                principal=terms.principal,
            )
        )
        if fee:
            # Upfront fees (手续费) are charged and deducted from the proceeds on the same day.
            loan._post(
                LedgerEntry(
                    entry_type=EntryType.FEE,
                    value_date=day,
                    booking_date=booked,
                    key="upfront-fee",
                    fee=fee,
                )
            )
            loan._post(
                LedgerEntry(
                    entry_type=EntryType.REPAYMENT,
                    value_date=day,
                    booking_date=booked,
                    key="upfront-fee-deducted",
                    fee=-fee,
                    memo="deducted from proceeds",
                )
            )
        return loan

    # ------------------------------------------------------------------ state
    def _post(self, entry: LedgerEntry) -> LedgerEntry:
        self.entries.append(entry)
        self.new_entries.append(entry)
        return entry

    def posting(self, key: str) -> PostingResult | None:
        found = tuple(e for e in self.entries if e.key == key)
        if found:
            # The first result also held what the posting derived under "key:…" (reversals,
            # re-accruals, a prepayment's accrual and fee): return it unchanged.
            found = tuple(e for e in self.entries if e.key == key or e.key.startswith(f"{key}:"))
        if not found and self.snapshot is not None:
            found = self.snapshot.postings.get(key, ())
        return PostingResult(key, found, duplicate=True) if found else None

    def installments(self, *, as_of: date | None = None) -> list[InstallmentState]:
        """Installment states from the entries (value-dated up to ``as_of`` if given).

        With a snapshot, the entries valued before it are taken as its sums; ``as_of`` must then
        not reach back before the snapshot.
        """
        states = {row.number: InstallmentState(row) for row in self.schedule}
        snap = self.snapshot
        if snap is not None:
            if as_of is not None and as_of + timedelta(days=1) < snap.before:
                raise InvalidState(
                    f"loan {self.id}: history before {snap.before} is not loaded (asked {as_of})"
                )
            for number, sums in snap.installments.items():
                st = states.get(number)
                if st is not None:
                    for name, value in sums.items():
                        setattr(st, name, getattr(st, name) + value)
        for e in self.entries:
            if as_of is not None and e.value_date > as_of:
                continue
            st = states.get(e.installment)
            if st is not None:
                _add_entry(st, e)
        return [states[row.number] for row in self.schedule]

    def totals(self, *, as_of: date | None = None) -> dict[str, Decimal]:
        """Loan-level sums: principal outstanding, credit balance, recoveries."""
        snap = self.snapshot
        out = {
            "principal": snap.principal if snap else ZERO,
            "credit": snap.credit if snap else ZERO,
            "recovered": snap.recovered if snap else ZERO,
        }
        for e in self.entries:
            if as_of is None or e.value_date <= as_of:
                out["principal"] += e.principal
                out["credit"] += e.credit
                out["recovered"] += e.recovered
        return out

    def as_of(self) -> date:
        """The date the loan's state stands at: its last end of day, or a later movement
        (a repayment valued today, before tonight's end of day)."""
        latest = max((e.value_date for e in self.entries), default=self.terms.start_date)
        return max(self.last_eod or self.terms.start_date, latest)

    def balances(self, *, as_of: date | None = None) -> Balances:
        day = as_of or self.as_of()
        grace = self.product.overdue_grace_days
        totals = self.totals(as_of=day)
        overdue_p = overdue_i = accrued = due_i = pen = comp = fees = earned = ZERO
        for st in self.installments(as_of=day):
            pen += st.penalty
            comp += st.compound
            fees += st.fee
            earned += st.interest_accrued
            if st.is_due(day):
                if (day - st.due_date).days > grace:
                    overdue_p += st.principal_unpaid
                    overdue_i += st.interest_unpaid
                else:
                    due_i += st.interest_unpaid
            else:
                accrued += st.interest_accrued - st.interest_paid
        return Balances(
            principal_outstanding=totals["principal"],
            overdue_principal=overdue_p,
            overdue_interest=overdue_i,
            accrued_interest=accrued,
            due_interest=due_i,
            penalty=pen,
            compound=comp,
            fees=fees,
            credit_balance=totals["credit"],
            interest_earned=earned,
            recovered=totals["recovered"],
        )

    def days_past_due(self, as_of: date) -> int:
        oldest = next(
            (
                st.due_date
                for st in self.installments(as_of=as_of)
                if st.is_due(as_of) and (st.principal_unpaid > 0 or st.interest_unpaid > 0)
            ),
            None,
        )
        return days_past_due(as_of, oldest, grace_days=self.product.overdue_grace_days)

    # ------------------------------------------------------------------ end of day
    def accrue_through(self, day: date) -> list[LedgerEntry]:
        """End of day (日终) for every day from the last one run up to ``day``, in order.

        Each day accrues interest, penalty and compound interest, then updates DPD and bucket.
        Idempotent: days already run post nothing.
        """
        posted: list[LedgerEntry] = []
        current = (
            self.terms.start_date if self.last_eod is None else self.last_eod + timedelta(days=1)
        )
        while current <= day and self.status is LoanStatus.ACTIVE:
            posted.extend(self._apply_credit(current))
            posted.extend(self._accruals_for(current, f"eod:{current.isoformat()}"))
            self.dpd = self.days_past_due(current)
            self.bucket = bucket_of(self.dpd)
            self.last_eod = current
            current += timedelta(days=1)
        return posted

    def _apply_credit(self, day: date, *, key: str | None = None) -> list[LedgerEntry]:
        """Use a credit balance (客户暂收款) for what falls due, before the day's accruals."""
        credit = self.totals(as_of=day)["credit"]
        if credit <= 0:
            return []
        due = [st for st in self.installments(as_of=day) if st.is_due(day) and not st.settled]
        if not due:
            return []
        key = key or f"eod:{day.isoformat()}:credit"
        entries = self._allocation_entries(credit, day, key, day)
        if not entries:
            return []
        used = -sum((e.receivable_change for e in entries), ZERO)
        entries.append(
            LedgerEntry(
                entry_type=EntryType.REPAYMENT,
                value_date=day,
                booking_date=day,
                key=key,
                line=len(entries),
                credit=-used,
                memo="credit balance applied",
            )
        )
        for e in entries:
            self._post(e)
        self._close_if_repaid()
        return entries

    def _accruals_for(self, day: date, prefix: str) -> list[LedgerEntry]:
        p, t = self.product, self.terms
        grace = p.overdue_grace_days
        rate = t.annual_rate
        prate = p.penalty_rate(rate)
        out: list[LedgerEntry] = []

        def post(
            kind: EntryType,
            suffix: str,
            inst: int,
            *,
            interest: Decimal = ZERO,
            penalty: Decimal = ZERO,
            compound: Decimal = ZERO,
        ) -> None:
            line = sum(1 for e in out if e.key == f"{prefix}:{suffix}")
            out.append(
                self._post(
                    LedgerEntry(
                        entry_type=kind,
                        value_date=day,
                        booking_date=day,
                        key=f"{prefix}:{suffix}",
                        line=line,
                        installment=inst,
                        interest=interest,
                        penalty=penalty,
                        compound=compound,
                    )
                )
            )

        for st in self.installments(as_of=day):
            plan = st.plan
            if plan.start_date <= day < plan.due_date:
                target = interest_accrued_to(
                    as_of=day,
                    start=plan.start_date,
                    due=plan.due_date,
                    opening_balance=plan.opening_balance,
                    annual_rate=rate,
                    contractual_interest=plan.interest,
                    day_count=t.day_count,
                    rounding=t.rounding,
                )
                delta = target - st.interest_accrued
                if delta > 0:
                    post(EntryType.INTEREST_ACCRUAL, "interest", plan.number, interest=delta)
            days = overdue_days_to_charge(day, plan.due_date, grace_days=grace)
            if days and st.principal_unpaid > 0:
                amount = days * daily_penalty(
                    st.principal_unpaid, prate, day_count=t.day_count, rounding=t.rounding
                )
                if amount:
                    post(EntryType.PENALTY_ACCRUAL, "penalty", plan.number, penalty=amount)
            if days and p.compound_interest and st.interest_unpaid > 0:
                amount = days * daily_penalty(
                    st.interest_unpaid, prate, day_count=t.day_count, rounding=t.rounding
                )
                if amount:
                    post(EntryType.COMPOUND_ACCRUAL, "compound", plan.number, compound=amount)
        return out

    # ------------------------------------------------------------------ repayment
    def repay(
        self, amount: Decimal, *, value_date: date, key: str, booking_date: date | None = None
    ) -> PostingResult:
        """Post a repayment (还款) under idempotency ``key``.

        Allocation: installments due by the value date, oldest first; inside one installment
        penalty → compound → fees → interest → principal, or principal first across
        installments once the loan is non-performing under that strategy. What is left is a
        prepayment under the product's rule, or a credit balance. A value date before the last
        end of day recomputes accruals from that date, once, reversing what was over-accrued.
        """
        previous = self.posting(key)
        if previous is not None:
            return previous
        if amount <= 0 or amount != to_fen(amount):
            raise InvalidInput("amount", f"{amount} must be positive and in whole fen")
        if self.status is not LoanStatus.ACTIVE:
            raise InvalidState(f"loan {self.id} is {self.status}; it takes no repayments")
        if value_date < self.terms.start_date:
            raise InvalidInput(
                "date", f"{value_date} is before the loan's start {self.terms.start_date}"
            )
        self._refuse_before_later_movements(value_date)
        if self.last_eod is None or value_date - timedelta(days=1) > self.last_eod:
            # Run the end of day to the day before first: allocation must see the penalty of
            # those days, and a prepayment's accrual of its cut period must not be accrued a
            # second time when the end of day later reaches them.
            self.accrue_through(value_date - timedelta(days=1))
            if self.status is not LoanStatus.ACTIVE:
                raise InvalidState(f"loan {self.id} is {self.status}; it takes no repayments")
        booked = booking_date or max(value_date, self.last_eod or value_date)
        first_new = len(self.entries)
        backdated = self.last_eod is not None and value_date <= self.last_eod
        if backdated and self._waived_after_end_of_day(value_date):
            raise InvalidState(
                f"loan {self.id} has a waiver valued {value_date} that took that day's accruals; "
                "a repayment valued that day would need it replayed"
            )
        if backdated:
            self._undo_accruals_from(value_date, key, booked)
        self._allocate(amount, value_date, key, booked)
        if backdated and self.status is LoanStatus.ACTIVE:
            assert self.last_eod is not None
            day = value_date
            while day <= self.last_eod:
                self._apply_credit(day, key=f"{key}:redo:{day.isoformat()}:credit")
                self._accruals_for(day, f"{key}:redo:{day.isoformat()}")
                day += timedelta(days=1)
        if backdated:
            self._drop_unchanged_recomputations(first_new, key)
        as_of = max(value_date, self.last_eod or value_date)
        self.dpd = self.days_past_due(as_of) if self.status is LoanStatus.ACTIVE else 0
        self.bucket = bucket_of(self.dpd)
        return PostingResult(key, tuple(self.entries[first_new:]))

    def _allocate(self, amount: Decimal, day: date, key: str, booked: date) -> list[LedgerEntry]:
        entries = self._allocation_entries(amount, day, key, booked)
        for e in entries:
            self._post(e)
        remaining = amount + sum((e.receivable_change for e in entries), ZERO)
        if remaining > 0:
            entries.extend(self._prepay(remaining, day, key, booked, line=len(entries)))
        self._close_if_repaid()
        return entries

    def _allocation_entries(
        self, amount: Decimal, day: date, key: str, booked: date
    ) -> list[LedgerEntry]:
        """Repayment lines for what is due by ``day``, in the product's allocation order."""
        states = self.installments(as_of=day)
        remaining = amount
        lines: list[Allocation] = []
        npl = (
            self.product.allocation is AllocationStrategy.PRINCIPAL_FIRST_WHEN_NPL
            and self.days_past_due(day) > NPL_DPD
        )
        due = [st for st in states if st.is_due(day)]
        if npl:
            order = ("principal", "interest", "fee", "compound", "penalty")
            for component in order:
                for st in due:
                    remaining = _take(lines, st, component, remaining)
        else:
            for st in due:
                for component in ("penalty", "compound", "fee", "interest", "principal"):
                    remaining = _take(lines, st, component, remaining)
        entries = [
            LedgerEntry(
                entry_type=EntryType.REPAYMENT,
                value_date=day,
                booking_date=booked,
                key=key,
                line=i,
                installment=a.installment,
                principal=-a.principal,
                interest=-a.interest,
                penalty=-a.penalty,
                compound=-a.compound,
                fee=-a.fee,
            )
            for i, a in enumerate(_merge(lines))
        ]
        return entries

    def _prepay(
        self, amount: Decimal, day: date, key: str, booked: date, *, line: int
    ) -> list[LedgerEntry]:
        rule = self.product.prepayment
        months_in = (
            (day.year - self.terms.start_date.year) * 12 + day.month - self.terms.start_date.month
        )
        current = next(
            (
                st
                for st in self.installments(as_of=day)
                if st.plan.start_date <= day < st.plan.due_date
            ),
            None,
        )
        if (
            current is None
            or rule.mode is PrepaymentMode.CREDIT_BALANCE
            or months_in < rule.allowed_after_months
        ):
            why = "credit balance" if current is not None else "overpayment after maturity"
            return [
                self._post(
                    LedgerEntry(
                        entry_type=EntryType.REPAYMENT,
                        value_date=day,
                        booking_date=booked,
                        key=key,
                        line=line,
                        credit=amount,
                        memo=why,
                    )
                )
            ]
        plan = current.plan
        accrued = (
            interest_accrued_to(
                as_of=day - timedelta(days=1),
                start=plan.start_date,
                due=plan.due_date,
                opening_balance=plan.opening_balance,
                annual_rate=self.terms.annual_rate,
                contractual_interest=plan.interest,
                day_count=self.terms.day_count,
                rounding=self.terms.rounding,
            )
            if day > plan.start_date
            else ZERO
        )
        if amount <= accrued:
            return [
                self._post(
                    LedgerEntry(
                        entry_type=EntryType.REPAYMENT,
                        value_date=day,
                        booking_date=booked,
                        key=key,
                        line=line,
                        credit=amount,
                        memo="less than the interest accrued to date",
                    )
                )
            ]
        outstanding = sum(
            (st.principal_unpaid for st in self.installments(as_of=day) if not st.is_due(day)), ZERO
        )
        fee_rate = rule.fee_rate
        principal = ((amount - accrued) / (1 + fee_rate)).quantize(
            Decimal("0.01"), rounding=ROUND_DOWN
        )
        principal = min(principal, outstanding)
        fee = to_fen(principal * fee_rate, rounding=self.terms.rounding)
        if principal + fee + accrued > amount:
            principal -= Decimal("0.01")
            fee = to_fen(principal * fee_rate, rounding=self.terms.rounding)
        excess = amount - accrued - principal - fee
        out: list[LedgerEntry] = []
        # The accrual of the cut period is brought to the value date before it is paid.
        delta = accrued - current.interest_accrued
        if delta:
            out.append(
                self._post(
                    LedgerEntry(
                        entry_type=EntryType.INTEREST_ACCRUAL,
                        value_date=day,
                        booking_date=booked,
                        key=f"{key}:accrual",
                        installment=plan.number,
                        interest=delta,
                        memo="interest to the prepayment date",
                    )
                )
            )
        if fee:
            out.append(
                self._post(
                    LedgerEntry(
                        entry_type=EntryType.FEE,
                        value_date=day,
                        booking_date=booked,
                        key=f"{key}:fee",
                        installment=plan.number,
                        fee=fee,
                        memo="prepayment fee 提前还款违约金",
                    )
                )
            )
        out.append(
            self._post(
                LedgerEntry(
                    entry_type=EntryType.PREPAYMENT,
                    value_date=day,
                    booking_date=booked,
                    key=key,
                    line=line,
                    installment=plan.number,
                    principal=-principal,
                    interest=-accrued,
                    fee=-fee,
                    credit=excess,
                )
            )
        )
        self._reschedule(
            plan, day, paid_principal=principal, accrued=accrued, remaining=outstanding - principal
        )
        return out

    def _reschedule(
        self,
        plan: ScheduledInstallment,
        day: date,
        *,
        paid_principal: Decimal,
        accrued: Decimal,
        remaining: Decimal,
    ) -> None:
        """Cut the current period at the prepayment date and re-amortise what is left."""
        keep = [row for row in self.schedule if row.number < plan.number]
        cut = ScheduledInstallment(
            plan.number, plan.start_date, day, paid_principal, accrued, plan.opening_balance
        )
        later_dues = [row.due_date for row in self.schedule if row.number >= plan.number]
        rows: list[ScheduledInstallment] = []
        if remaining > 0:
            level = self.schedule[plan.number] if plan.number < len(self.schedule) else plan
            new = reamortize(
                self.terms,
                balance=remaining,
                from_date=day,
                due_dates=later_dues,
                mode=self.product.prepayment.mode,
                previous_payment=level.principal + level.interest,
                previous_principal=plan.principal,
            )
            rows = [
                ScheduledInstallment(
                    plan.number + 1 + i,
                    r.start_date,
                    r.due_date,
                    r.principal,
                    r.interest,
                    r.balance + r.principal,
                )
                for i, r in enumerate(new)
            ]
        self.schedule = [*keep, cut, *rows]
        self.schedule_version += 1
        self.schedule_changed = True

    def _close_if_repaid(self) -> None:
        if all(st.settled for st in self.installments()):
            self.status = LoanStatus.CLOSED

    # ------------------------------------------------------------------ backdating
    def _drop_unchanged_recomputations(self, first_new: int, key: str) -> None:
        """Keep only the reversals and re-accruals of a backdating that change something.

        Every standing accrual from the value date on was reversed and the days re-run; where a
        re-run day gives exactly the old amount (regular interest usually does), the reversal
        and the re-accrual cancel and both are dropped before anything is saved, so the ledger
        shows only what was over- or under-accrued.
        """
        by_ref = {e.ref: e for e in self.entries[:first_new]}
        tail = self.entries[first_new:]
        redo_prefix = f"{key}:redo:"
        fresh: dict[tuple[object, ...], list[LedgerEntry]] = {}
        for e in tail:
            if e.key.startswith(redo_prefix):
                fresh.setdefault(_accrual_signature(e), []).append(e)
        dropped: set[int] = set()
        for e in tail:
            if e.entry_type is not EntryType.REVERSAL or e.reverses not in by_ref:
                continue
            matches = fresh.get(_accrual_signature(by_ref[e.reverses]))
            if matches:
                dropped.add(id(e))
                dropped.add(id(matches.pop()))
        if dropped:
            self.entries = [e for e in self.entries if id(e) not in dropped]
            self.new_entries = [e for e in self.new_entries if id(e) not in dropped]

    def _refuse_before_later_movements(self, value_date: date) -> None:
        """Refuse a movement valued before a repayment, waiver or write-off already posted.

        That posting took penalty and principal as of its own date; moving money in before it
        would need it re-allocated (replayed), which the ledger does not do: penalty already
        collected would exceed what is re-accrued, leaving negative receivables.
        """
        later = max((e.value_date for e in self.entries if e.entry_type in _REPAYING), default=None)
        if later is not None and value_date < later:
            raise InvalidState(
                f"loan {self.id} has a repayment or waiver valued {later}; one valued "
                f"{value_date} would need it replayed"
            )

    def _waived_after_end_of_day(self, day: date) -> bool:
        """Whether a waiver valued ``day`` was posted after that day's accruals (and waived them).

        Reversing those accruals for a repayment backdated to ``day`` would leave the waiver
        larger than what stands, a negative penalty.
        """
        accrued = False
        for e in self.entries:
            if e.value_date == day and e.entry_type.is_accrual:
                accrued = True
            elif accrued and e.value_date == day and e.entry_type is EntryType.WAIVER:
                return True
        return False

    def _undo_accruals_from(self, day: date, key: str, booked: date) -> list[LedgerEntry]:
        """Reverse the end-of-day accruals valued on or after ``day`` that are still standing."""
        reversed_refs = {e.reverses for e in self.entries if e.reverses}
        targets = [
            e
            for e in self.entries
            if e.entry_type.is_accrual
            and e.value_date >= day
            and e.ref not in reversed_refs
            and not e.key.endswith(":accrual")
        ]
        return [
            self._post(e.reversal(key=f"{key}:reversal", line=i, booking_date=booked))
            for i, e in enumerate(targets)
        ]

    # ------------------------------------------------------------------ other movements
    def waive(
        self, *, value_date: date, key: str, penalty: bool = True, compound: bool = True
    ) -> PostingResult:
        """Waive (减免) unpaid penalty and/or compound interest on every installment."""
        previous = self.posting(key)
        if previous is not None:
            return previous
        self._refuse_before_later_movements(value_date)
        out: list[LedgerEntry] = []
        for st in self.installments(as_of=value_date):
            pen = st.penalty if penalty else ZERO
            comp = st.compound if compound else ZERO
            if pen or comp:
                out.append(
                    self._post(
                        LedgerEntry(
                            entry_type=EntryType.WAIVER,
                            value_date=value_date,
                            booking_date=value_date,
                            key=key,
                            line=len(out),
                            installment=st.number,
                            penalty=-pen,
                            compound=-comp,
                        )
                    )
                )
        if not out:
            raise InvalidState(f"loan {self.id} has no penalty or compound interest to waive")
        return PostingResult(key, tuple(out))

    def write_off(self, *, value_date: date, key: str) -> PostingResult:
        """Write the loan off (核销) against the loss reserve: every receivable to zero."""
        previous = self.posting(key)
        if previous is not None:
            return previous
        if self.status is not LoanStatus.ACTIVE:
            raise InvalidState(
                f"loan {self.id} is {self.status}; only an active loan is written off"
            )
        self._refuse_before_later_movements(value_date)
        reversals: list[LedgerEntry] = []
        if self.last_eod is not None and value_date < self.last_eod:
            # Nothing accrues on a loan written off: reverse what the end of day accrued after.
            reversals = self._undo_accruals_from(
                value_date + timedelta(days=1), key, max(value_date, self.last_eod)
            )
        out: list[LedgerEntry] = []
        for st in self.installments(as_of=value_date):
            interest = st.interest_accrued - st.interest_paid
            if st.principal_unpaid or interest or st.penalty or st.compound or st.fee:
                out.append(
                    self._post(
                        LedgerEntry(
                            entry_type=EntryType.WRITE_OFF,
                            value_date=value_date,
                            booking_date=value_date,
                            key=key,
                            line=len(out),
                            installment=st.number,
                            principal=-st.principal_unpaid,
                            interest=-interest,
                            penalty=-st.penalty,
                            compound=-st.compound,
                            fee=-st.fee,
                        )
                    )
                )
        self.status = LoanStatus.WRITTEN_OFF
        return PostingResult(key, (*reversals, *out))

    def recover(self, amount: Decimal, *, value_date: date, key: str) -> PostingResult:
        """Cash recovered on a written-off loan (核销后收回)."""
        previous = self.posting(key)
        if previous is not None:
            return previous
        if self.status is not LoanStatus.WRITTEN_OFF:
            raise InvalidState(f"loan {self.id} is {self.status}; recoveries follow a write-off")
        if amount <= 0 or amount != to_fen(amount):
            raise InvalidInput("amount", f"{amount} must be positive and in whole fen")
        entry = self._post(
            LedgerEntry(
                entry_type=EntryType.RECOVERY,
                value_date=value_date,
                booking_date=value_date,
                key=key,
                recovered=amount,
            )
        )
        return PostingResult(key, (entry,))


def _accrual_signature(e: LedgerEntry) -> tuple[object, ...]:
    return (e.entry_type, e.value_date, e.installment, e.interest, e.penalty, e.compound)


def _plan_rows(rows: Sequence[Installment]) -> list[ScheduledInstallment]:
    return [
        ScheduledInstallment(
            r.number, r.start_date, r.due_date, r.principal, r.interest, r.balance + r.principal
        )
        for r in rows
    ]


def _take(
    lines: list[Allocation], st: InstallmentState, component: str, remaining: Decimal
) -> Decimal:
    if remaining <= 0:
        return remaining
    if component == "principal":
        owed = st.principal_unpaid
    elif component == "interest":
        owed = st.interest_unpaid
    else:
        owed = getattr(st, component)
    pay = min(owed, remaining)
    if pay <= 0:
        return remaining
    lines.append(Allocation(st.number, **{component: pay}))
    if component == "principal":
        st.principal_paid += pay
    elif component == "interest":
        st.interest_paid += pay
    else:
        setattr(st, component, owed - pay)
    return remaining - pay


def _merge(lines: Iterable[Allocation]) -> list[Allocation]:
    merged: dict[int, dict[str, Decimal]] = {}
    for a in lines:
        slot = merged.setdefault(
            a.installment,
            dict.fromkeys(("principal", "interest", "penalty", "compound", "fee"), ZERO),
        )
        for name in slot:
            slot[name] += getattr(a, name)
    return [Allocation(n, **v) for n, v in merged.items()]
