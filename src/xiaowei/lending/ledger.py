"""The loan ledger (贷款分户账): append-only entries and their double-entry postings.

Every money movement of a loan is a ``LedgerEntry``. Its components are signed changes of what
the borrower owes (positive: the receivable grows; negative: it shrinks) plus ``credit``, the
change of a credit balance held for the borrower (客户暂收款). Balances are sums of components,
so they can always be rebuilt by replaying the entries. A correction is a ``REVERSAL`` entry
with negated components, never an update.

Each entry posts a balanced journal to a small chart of accounts (会计科目): every component
moves its own account (principal → loans, interest → interest receivable, …) against the
entry's contra account (cash for disbursements and repayments, income for accruals, the loss
reserve for write-offs). Journal lines are derived by ``journal_lines`` rather than stored: the
end of day then writes one row per loan and day, and the general ledger can be rebuilt from the
sub-ledger at any time (see docs/architecture.md, "Ledger").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from xiaowei.core.money import ZERO


class EntryType(StrEnum):
    DISBURSEMENT = "disbursement"  # 放款
    INTEREST_ACCRUAL = "interest-accrual"  # 利息计提
    PENALTY_ACCRUAL = "penalty-accrual"  # 罚息计提
    COMPOUND_ACCRUAL = "compound-accrual"  # 复利计提
    FEE = "fee"  # 费用
    REPAYMENT = "repayment"  # 还款
    PREPAYMENT = "prepayment"  # 提前还款
    WAIVER = "waiver"  # 减免
    REVERSAL = "reversal"  # 冲正
    WRITE_OFF = "write-off"  # 核销
    RECOVERY = "recovery"  # 核销后收回

    @property
    def is_accrual(self) -> bool:
        return self in _ACCRUALS


_ACCRUALS = frozenset(
    {EntryType.INTEREST_ACCRUAL, EntryType.PENALTY_ACCRUAL, EntryType.COMPOUND_ACCRUAL}
)


class Account(StrEnum):
    """Chart of accounts (会计科目), numbered after the PRC bank chart (金融企业会计科目)."""

    CASH = "1002 clearing funds 存放同业/清算资金"
    LOANS = "1303 loans 贷款本金"
    INTEREST_RECEIVABLE = "1132 interest receivable 应收利息"
    PENALTY_RECEIVABLE = "1133 penalty receivable 应收罚息"
    COMPOUND_RECEIVABLE = "1134 compound interest receivable 应收复利"
    FEE_RECEIVABLE = "1135 fees receivable 应收手续费"
    LOSS_RESERVE = "1304 loan loss reserve 贷款损失准备"
    CUSTOMER_CREDIT = "2241 customer credit balances 客户暂收款"
    INTEREST_INCOME = "6011 interest income 利息收入"
    PENALTY_INCOME = "6012 penalty interest income 罚息收入"
    COMPOUND_INCOME = "6013 compound interest income 复利收入"
    FEE_INCOME = "6021 fee income 手续费收入"


COMPONENTS = ("principal", "interest", "penalty", "compound", "fee")

_RECEIVABLE = {
    "principal": Account.LOANS,
    "interest": Account.INTEREST_RECEIVABLE,
    "penalty": Account.PENALTY_RECEIVABLE,
    "compound": Account.COMPOUND_RECEIVABLE,
    "fee": Account.FEE_RECEIVABLE,
}
_INCOME = {
    "interest": Account.INTEREST_INCOME,
    "penalty": Account.PENALTY_INCOME,
    "compound": Account.COMPOUND_INCOME,
    "fee": Account.FEE_INCOME,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerEntry:
    """One ledger line of a loan, for one installment (0 = the loan as a whole).

    ``key`` is the idempotency key of the posting it belongs to; ``line`` orders the lines of a
    posting (a repayment spread over three installments is one key, three lines).
    """

    entry_type: EntryType
    value_date: date
    booking_date: date
    key: str
    line: int = 0
    installment: int = 0
    principal: Decimal = ZERO
    interest: Decimal = ZERO
    penalty: Decimal = ZERO
    compound: Decimal = ZERO
    fee: Decimal = ZERO
    credit: Decimal = ZERO
    recovered: Decimal = ZERO  # cash recovered on a written-off loan (off balance)
    reverses: str | None = None  # "key#line" of the reversed entry
    reversed_type: EntryType | None = None
    memo: str = ""

    @property
    def ref(self) -> str:
        return f"{self.key}#{self.line}"

    @property
    def receivable_change(self) -> Decimal:
        return self.principal + self.interest + self.penalty + self.compound + self.fee

    @property
    def cash(self) -> Decimal:
        """Cash received (positive) or paid out (negative) by this entry."""
        kind = self.reversed_type if self.entry_type is EntryType.REVERSAL else self.entry_type
        if kind in (EntryType.REPAYMENT, EntryType.PREPAYMENT):
            return self.credit - self.receivable_change
        if kind is EntryType.RECOVERY:
            return self.recovered
        if kind is EntryType.DISBURSEMENT:
            return -self.principal
        return ZERO

    def reversal(self, *, key: str, line: int, booking_date: date) -> LedgerEntry:
        """The entry that undoes this one (冲正), same value date."""
        return replace(
            self,
            entry_type=EntryType.REVERSAL,
            booking_date=booking_date,
            key=key,
            line=line,
            principal=-self.principal,
            interest=-self.interest,
            penalty=-self.penalty,
            compound=-self.compound,
            fee=-self.fee,
            credit=-self.credit,
            recovered=-self.recovered,
            reverses=self.ref,
            reversed_type=self.entry_type,
            memo=f"reversal of {self.ref}",
        )


@dataclass(frozen=True, slots=True)
class JournalLine:
    account: Account
    debit: Decimal
    credit: Decimal


def _contra(kind: EntryType, component: str) -> Account:
    if kind in (EntryType.DISBURSEMENT, EntryType.REPAYMENT, EntryType.PREPAYMENT):
        return Account.CASH
    if kind in (EntryType.INTEREST_ACCRUAL, EntryType.PENALTY_ACCRUAL, EntryType.COMPOUND_ACCRUAL):
        return _INCOME[component]
    if kind in (EntryType.FEE, EntryType.WAIVER):
        # A waiver (减免) gives up income that was recognised: it reverses that income.
        return _INCOME.get(component, Account.LOSS_RESERVE)
    if kind is EntryType.WRITE_OFF:
        return Account.LOSS_RESERVE
    raise ValueError(f"no contra account for {kind}")


def journal_lines(entry: LedgerEntry) -> Iterator[JournalLine]:
    """The balanced double entries (借贷记账) of one ledger entry."""
    kind = entry.reversed_type if entry.entry_type is EntryType.REVERSAL else entry.entry_type
    if kind is None:
        raise ValueError(f"reversal {entry.ref} does not say what it reverses")
    for name in COMPONENTS:
        amount: Decimal = getattr(entry, name)
        if not amount:
            continue
        yield from _pair(_RECEIVABLE[name], _contra(kind, name), amount)
    if entry.recovered:
        # Recovery of a written-off loan (已核销贷款收回) replenishes the loss reserve.
        yield from _pair(Account.CASH, Account.LOSS_RESERVE, entry.recovered)
    if entry.credit:
        contra = _contra(kind, "principal")
        # The credit balance is a liability: it grows on the credit side.
        yield from _pair(contra, Account.CUSTOMER_CREDIT, entry.credit)


def _pair(
    debit_account: Account, credit_account: Account, amount: Decimal
) -> Iterator[JournalLine]:
    if amount > 0:
        yield JournalLine(debit_account, amount, ZERO)
        yield JournalLine(credit_account, ZERO, amount)
    else:
        yield JournalLine(credit_account, -amount, ZERO)
        yield JournalLine(debit_account, ZERO, -amount)


def trial_balance(entries: Iterable[LedgerEntry]) -> dict[Account, Decimal]:
    """Net debit balance per account (debits − credits) over ``entries``."""
    totals: dict[Account, Decimal] = {}
    for entry in entries:
        for line in journal_lines(entry):
            totals[line.account] = totals.get(line.account, ZERO) + line.debit - line.credit
    return totals
