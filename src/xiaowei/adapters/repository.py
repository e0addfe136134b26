"""Repositories: load and save products and loans (with their ledger) through one connection.

A loan is saved with an optimistic lock: ``UPDATE … WHERE id = :id AND version = :seen``; no
row updated means another writer got there first and ``ConcurrencyConflict`` is raised (the
unit of work rolls back and the service retries with fresh state). On PostgreSQL a loan loaded
for writing is also locked with ``SELECT … FOR UPDATE``, so writers queue instead of retrying.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, case, delete, func, insert, select, update

from xiaowei.adapters import orm
from xiaowei.adapters.serialization import terms_from_json, terms_to_json
from xiaowei.core.errors import ConcurrencyConflict, NotFound
from xiaowei.core.money import from_cents, to_cents
from xiaowei.lending.catalogue import product_to_mapping
from xiaowei.lending.ledger import EntryType, LedgerEntry
from xiaowei.lending.loan import (
    SNAPSHOT_FIELDS,
    LedgerSnapshot,
    Loan,
    LoanStatus,
    ScheduledInstallment,
)
from xiaowei.lending.product import LoanProduct, product_from_mapping

_PPM = Decimal(1_000_000)
_PRODUCT_CACHE: dict[tuple[str, int], LoanProduct] = {}


def rate_ppm(rate: Decimal) -> int:
    value = rate * _PPM
    if value != value.to_integral_value():
        raise ValueError(f"rate {rate} is finer than 1e-6")
    return int(value)


class ProductRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, product: LoanProduct) -> None:
        self.conn.execute(
            insert(orm.products).values(
                code=product.code,
                version=product.version,
                name_zh=product.name_zh,
                name_en=product.name_en,
                definition=product_to_mapping(product),
                created_at=datetime.now(UTC),
            )
        )

    def get(self, code: str, version: int | None = None) -> LoanProduct:
        if version is not None and (code, version) in _PRODUCT_CACHE:
            return _PRODUCT_CACHE[(code, version)]
        q = select(orm.products.c.definition).where(orm.products.c.code == code)
        if version is None:
            q = q.order_by(orm.products.c.version.desc()).limit(1)
        else:
            q = q.where(orm.products.c.version == version)
        row = self.conn.execute(q).first()
        if row is None:
            what = code if version is None else f"{code} v{version}"
            raise NotFound(f"no product {what}")
        product = product_from_mapping(row[0], source="stored product")
        if version is not None:
            # A product version never changes once stored, so it can be shared.
            _PRODUCT_CACHE[(code, version)] = product
        return product

    def latest_version(self, code: str) -> int | None:
        found = self.conn.execute(
            select(func.max(orm.products.c.version)).where(orm.products.c.code == code)
        ).scalar()
        return None if found is None else int(found)

    def list(self) -> list[LoanProduct]:
        rows = self.conn.execute(
            select(orm.products.c.definition).order_by(orm.products.c.code, orm.products.c.version)
        )
        return [product_from_mapping(r[0], source="stored product") for r in rows]


def entry_row(loan_id: int, e: LedgerEntry) -> dict[str, Any]:
    return {
        "loan_id": loan_id,
        "key": e.key,
        "line": e.line,
        "entry_type": e.entry_type.value,
        "value_date": e.value_date,
        "booking_date": e.booking_date,
        "installment": e.installment,
        "principal_fen": to_cents(e.principal),
        "interest_fen": to_cents(e.interest),
        "penalty_fen": to_cents(e.penalty),
        "compound_fen": to_cents(e.compound),
        "fee_fen": to_cents(e.fee),
        "credit_fen": to_cents(e.credit),
        "recovered_fen": to_cents(e.recovered),
        "reverses": e.reverses,
        "reversed_type": None if e.reversed_type is None else e.reversed_type.value,
        "memo": e.memo,
    }


def _entry(r: Any) -> LedgerEntry:
    return LedgerEntry(
        entry_type=EntryType(r.entry_type),
        value_date=r.value_date,
        booking_date=r.booking_date,
        key=r.key,
        line=r.line,
        installment=r.installment,
        principal=from_cents(r.principal_fen),
        interest=from_cents(r.interest_fen),
        penalty=from_cents(r.penalty_fen),
        compound=from_cents(r.compound_fen),
        fee=from_cents(r.fee_fen),
        credit=from_cents(r.credit_fen),
        recovered=from_cents(r.recovered_fen),
        reverses=r.reverses,
        reversed_type=None if r.reversed_type is None else EntryType(r.reversed_type),
        memo=r.memo,
    )


def _snapshot_statement() -> Any:
    le = orm.ledger_entries.c
    kind = func.coalesce(le.reversed_type, le.entry_type)
    repaying = [
        k.value
        for k in (EntryType.REPAYMENT, EntryType.PREPAYMENT, EntryType.WAIVER, EntryType.WRITE_OFF)
    ]

    def when(condition: Any, column: Any) -> Any:
        return func.sum(case((condition, column), else_=0))

    return (
        select(
            le.installment,
            when(kind == EntryType.INTEREST_ACCRUAL.value, le.interest_fen),
            when(kind.in_(repaying), -le.principal_fen),
            when(kind.in_(repaying), -le.interest_fen),
            func.sum(le.penalty_fen),
            func.sum(le.compound_fen),
            func.sum(le.fee_fen),
            when(kind == EntryType.PENALTY_ACCRUAL.value, le.penalty_fen),
            when(kind == EntryType.COMPOUND_ACCRUAL.value, le.compound_fen),
            func.sum(le.principal_fen),
            func.sum(le.credit_fen),
            func.sum(le.recovered_fen),
        )
        .where(le.loan_id == bindparam("loan_id"), le.value_date < bindparam("before"))
        .group_by(le.installment)
    )


# Built once: constructing the expression per call cost more than running it.
_SNAPSHOT_SQL = _snapshot_statement()
_LOAN_SQL = select(orm.loans).where(orm.loans.c.id == bindparam("loan_id"))
_INSTALLMENTS_SQL = (
    select(orm.installments)
    .where(orm.installments.c.loan_id == bindparam("loan_id"))
    .order_by(orm.installments.c.number)
)


class LoanRepository:
    def __init__(self, conn: Connection, products: ProductRepository) -> None:
        self.conn = conn
        self.products = products
        self._locking = conn.dialect.name == "postgresql"

    # -------------------------------------------------------------- reading
    def get(
        self,
        loan_id: int,
        *,
        for_update: bool = False,
        history_from: date | None = None,
        keys: Sequence[str] = (),
    ) -> Loan:
        """Load a loan. With ``history_from``, entries valued before it (or before the last end
        of day, if earlier) come as a snapshot of sums and only the later ones are read; the
        postings of ``keys`` are looked up whatever their date, for idempotency."""
        q = _LOAN_SQL.with_for_update() if for_update and self._locking else _LOAN_SQL
        row = self.conn.execute(q, {"loan_id": loan_id}).first()
        if row is None:
            raise NotFound(f"no loan {loan_id}")
        product = self.products.get(row.product_code, row.product_version)
        inst = self.conn.execute(_INSTALLMENTS_SQL, {"loan_id": loan_id}).all()
        le = orm.ledger_entries.c
        q_entries = select(orm.ledger_entries).where(le.loan_id == loan_id).order_by(le.id)
        snapshot = None
        if history_from is not None:
            before = min(history_from, row.last_eod or row.start_date)
            q_entries = q_entries.where(le.value_date >= before)
            snapshot = self._snapshot(loan_id, before, keys)
        entries = self.conn.execute(q_entries).all()
        return Loan(
            id=row.id,
            product=product,
            terms=terms_from_json(row.terms),
            customer_id=row.customer_id,
            status=LoanStatus(row.status),
            schedule=[
                ScheduledInstallment(
                    i.number,
                    i.start_date,
                    i.due_date,
                    from_cents(i.principal_fen),
                    from_cents(i.interest_fen),
                    from_cents(i.opening_fen),
                )
                for i in inst
            ],
            schedule_version=row.schedule_version,
            entries=[_entry(e) for e in entries],
            last_eod=row.last_eod,
            dpd=row.dpd,
            bucket=row.bucket,
            version=row.version,
            snapshot=snapshot,
        )

    def _snapshot(self, loan_id: int, before: date, keys: Sequence[str]) -> LedgerSnapshot:
        """Sums of the entries valued before ``before``, per installment, by the database."""
        le = orm.ledger_entries.c
        rows = self.conn.execute(_SNAPSHOT_SQL, {"loan_id": loan_id, "before": before}).all()
        per_installment = {
            int(r[0]): {
                name: from_cents(int(r[i + 1] or 0)) for i, name in enumerate(SNAPSHOT_FIELDS)
            }
            for r in rows
        }
        postings: dict[str, tuple[LedgerEntry, ...]] = {}
        if keys:
            found = self.conn.execute(
                select(orm.ledger_entries)
                .where(le.loan_id == loan_id, le.key.in_(list(keys)), le.value_date < before)
                .order_by(le.id)
            ).all()
            for r in found:
                postings[r.key] = (*postings.get(r.key, ()), _entry(r))
        return LedgerSnapshot(
            before=before,
            installments=per_installment,
            principal=from_cents(sum(int(r[9] or 0) for r in rows)),
            credit=from_cents(sum(int(r[10] or 0) for r in rows)),
            recovered=from_cents(sum(int(r[11] or 0) for r in rows)),
            postings=postings,
        )

    def ids(self, *, status: LoanStatus | None = None) -> list[int]:
        q = select(orm.loans.c.id).order_by(orm.loans.c.id)
        if status is not None:
            q = q.where(orm.loans.c.status == status.value)
        return [int(r[0]) for r in self.conn.execute(q)]

    # -------------------------------------------------------------- writing
    def add(self, loan: Loan) -> int:
        t = loan.terms
        values = {
            "customer_id": loan.customer_id,
            "product_code": loan.product.code,
            "product_version": loan.product.version,
            "status": loan.status.value,
            "start_date": t.start_date,
            "maturity_date": loan.schedule[-1].due_date,
            "principal_fen": to_cents(t.principal),
            "rate_ppm": rate_ppm(t.annual_rate),
            "penalty_rate_ppm": rate_ppm(loan.product.penalty_rate(t.annual_rate)),
            "compound": loan.product.compound_interest,
            "grace_days": loan.product.overdue_grace_days,
            "day_count": t.day_count.value,
            "rounding": t.rounding.value,
            "method": t.method.value,
            "terms": terms_to_json(t),
            "schedule_version": loan.schedule_version,
            "last_eod": loan.last_eod,
            "dpd": loan.dpd,
            "bucket": loan.bucket,
            "principal_outstanding_fen": 0,
            "credit_fen": 0,
            "version": 1,
            "created_at": datetime.now(UTC),
        }
        if loan.id is not None:
            values["id"] = loan.id
        key = self.conn.execute(insert(orm.loans).values(**values)).inserted_primary_key
        assert key is not None
        loan_id = int(key[0])
        loan.id = loan_id
        loan.version = 1
        self._write_schedule_version(loan, loan.terms.start_date)
        self._write_entries(loan)
        self._write_projection(loan, replace_schedule=True)
        self.conn.execute(
            update(orm.loans).where(orm.loans.c.id == loan_id).values(**self._balance_columns(loan))
        )
        return loan_id

    def save(self, loan: Loan, *, effective_date: date | None = None) -> None:
        """Append the loan's new entries and refresh its projection, under the version lock."""
        assert loan.id is not None
        result = self.conn.execute(
            update(orm.loans)
            .where(orm.loans.c.id == loan.id, orm.loans.c.version == loan.version)
            .values(
                version=loan.version + 1,
                status=loan.status.value,
                schedule_version=loan.schedule_version,
                last_eod=loan.last_eod,
                dpd=loan.dpd,
                bucket=loan.bucket,
                maturity_date=loan.schedule[-1].due_date,
                **self._balance_columns(loan),
            )
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(
                f"loan {loan.id} was changed by another writer (version {loan.version} is stale)"
            )
        loan.version += 1
        if loan.schedule_changed:
            self._write_schedule_version(
                loan, effective_date or loan.last_eod or loan.terms.start_date
            )
        self._write_entries(loan)
        self._write_projection(loan, replace_schedule=loan.schedule_changed)
        loan.schedule_changed = False

    def _balance_columns(self, loan: Loan) -> dict[str, int]:
        totals = loan.totals()
        return {
            "principal_outstanding_fen": to_cents(totals["principal"]),
            "credit_fen": to_cents(totals["credit"]),
        }

    def _write_entries(self, loan: Loan) -> None:
        assert loan.id is not None
        if loan.new_entries:
            self.conn.execute(
                insert(orm.ledger_entries), [entry_row(loan.id, e) for e in loan.new_entries]
            )
        loan.new_entries.clear()

    def _write_schedule_version(self, loan: Loan, effective: date) -> None:
        assert loan.id is not None
        self.conn.execute(
            insert(orm.schedule_versions).values(
                loan_id=loan.id,
                version=loan.schedule_version,
                effective_date=effective,
                rows=[
                    {
                        "number": r.number,
                        "start_date": r.start_date.isoformat(),
                        "due_date": r.due_date.isoformat(),
                        "principal": str(r.principal),
                        "interest": str(r.interest),
                        "opening_balance": str(r.opening_balance),
                    }
                    for r in loan.schedule
                ],
            )
        )

    def _write_projection(self, loan: Loan, *, replace_schedule: bool) -> None:
        """Rewrite the loan's installment rows from its ledger (a per-loan replay)."""
        assert loan.id is not None
        self.conn.execute(delete(orm.installments).where(orm.installments.c.loan_id == loan.id))
        self.conn.execute(insert(orm.installments), list(installment_rows(loan)))


def installment_rows(loan: Loan) -> Iterable[dict[str, Any]]:
    assert loan.id is not None
    for st in loan.installments():
        p = st.plan
        yield {
            "loan_id": loan.id,
            "number": p.number,
            "start_date": p.start_date,
            "due_date": p.due_date,
            "opening_fen": to_cents(p.opening_balance),
            "principal_fen": to_cents(p.principal),
            "interest_fen": to_cents(p.interest),
            "principal_paid_fen": to_cents(st.principal_paid),
            "interest_paid_fen": to_cents(st.interest_paid),
            "interest_accrued_fen": to_cents(st.interest_accrued),
            "penalty_fen": to_cents(st.penalty),
            "compound_fen": to_cents(st.compound),
            "fee_fen": to_cents(st.fee),
            "penalty_accrued_fen": to_cents(st.penalty_accrued),
            "compound_accrued_fen": to_cents(st.compound_accrued),
            "settled": st.settled,
        }


def fetch_entries(conn: Connection, loan_ids: Sequence[int] | None = None) -> list[LedgerEntry]:
    q = select(orm.ledger_entries).order_by(orm.ledger_entries.c.id)
    if loan_ids is not None:
        q = q.where(orm.ledger_entries.c.loan_id.in_(list(loan_ids)))
    return [_entry(r) for r in conn.execute(q)]
