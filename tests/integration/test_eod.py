"""End of day: the vectorised batch agrees with the per-loan reference, is idempotent and
resumes after a crash without accruing a day twice; on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from xiaowei.adapters import orm
from xiaowei.lending.loan import Loan
from xiaowei.lending.product import product_from_mapping
from xiaowei.lending.schedule import Frequency, RepaymentMethod, ScheduleTerms
from xiaowei.services import eod
from xiaowei.services import loans as svc
from xiaowei.services.products import import_products
from xiaowei.services.unit_of_work import UnitOfWork


def _product(code: str, **overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "code": code,
        "name_zh": "测试",
        "name_en": "test",
        "amount_min": "1000",
        "amount_max": "5000000",
        "term_min": 1,
        "term_max": 36,
        "rate_min": "0",
        "rate_max": "0.36",
        "methods": [m.value for m in RepaymentMethod],
        "frequencies": ["monthly", "quarterly"],
        "grace_months": 6,
    }
    base.update(overrides)
    return base


PRODUCTS = [
    _product("GRACE3", overdue_grace_days=3),
    _product("NOCOMP", compound_interest=False, penalty_markup="0.3"),
    _product("A365", day_count="ACT/365", rounding="half-even", overdue_grace_days=1),
    _product("T30360", day_count="30/360"),  # goes through the per-loan path
]


def _install(engine: Engine) -> dict[str, object]:
    products = {}
    with UnitOfWork(engine) as uow:
        for data in PRODUCTS:
            p = product_from_mapping(data)
            uow.products.add(p)
            products[p.code] = p
        uow.commit()
    return products


def _random_terms(rng: random.Random, start: date) -> ScheduleTerms:
    method = rng.choice(
        [
            RepaymentMethod.EQUAL_INSTALLMENT,
            RepaymentMethod.EQUAL_PRINCIPAL,
            RepaymentMethod.INTEREST_ONLY,
            RepaymentMethod.BULLET,
            RepaymentMethod.BALLOON,
        ]
    )
    frequency = rng.choice([Frequency.MONTHLY, Frequency.QUARTERLY])
    term = rng.choice([3, 6, 12])
    return ScheduleTerms(
        principal=Decimal(rng.randrange(100_000, 50_000_000)) / 100,
        annual_rate=Decimal(rng.randrange(30_000, 240_000)) / 1_000_000,
        term_months=term,
        start_date=start,
        method=method,
        frequency=frequency,
        repayment_day=rng.choice([None, 5, 20, 31]),
        balloon_share=Decimal("0.4") if method is RepaymentMethod.BALLOON else Decimal(0),
    )


@pytest.mark.slow
def test_vectorised_end_of_day_matches_the_per_loan_reference(db: Engine) -> None:
    products = _install(db)
    rng = random.Random(20260101)
    start = date(2026, 1, 1)
    ids: list[int] = []
    for _ in range(40):
        code = rng.choice(list(products))
        terms = _random_terms(rng, start + timedelta(days=rng.randrange(30)))
        ids.append(svc.book_loan(db, product_code=code, terms=terms))
    references: dict[int, Loan] = {i: svc.get_loan(db, i, full_history=True) for i in ids}
    # Payments on both sides: some on time, some late, some partial, one backdated.
    events = []
    for loan_id in ids:
        ref = references[loan_id]
        due = ref.schedule[0].due_date
        pay_day = due + timedelta(days=rng.choice([0, 2, 5, 40]))
        events.append((pay_day, loan_id, Decimal(rng.randrange(1, 500_000)) / 100))
    events.sort()
    end = date(2026, 7, 15)
    day = start
    pending = list(events)
    while day <= end:
        todays = [e for e in pending if e[0] == day]
        for _, loan_id, amount in todays:
            key = f"pay-{loan_id}"
            svc.repay(db, loan_id=loan_id, amount=amount, value_date=day, key=key)
            references[loan_id].repay(amount, value_date=day, key=key)
        eod.run_day(db, day)
        for ref in references.values():
            if ref.terms.start_date <= day:
                ref.accrue_through(day)
        day += timedelta(days=1)
    for loan_id, ref in references.items():
        got = svc.get_loan(db, loan_id, full_history=True)
        assert got.balances() == ref.balances(), loan_id
        assert (got.dpd, got.bucket, got.status) == (ref.dpd, ref.bucket, ref.status), loan_id
        got_entries = sorted(
            (e.key, e.line, e.installment, e.interest, e.penalty, e.compound) for e in got.entries
        )
        ref_entries = sorted(
            (e.key, e.line, e.installment, e.interest, e.penalty, e.compound) for e in ref.entries
        )
        assert got_entries == ref_entries, loan_id


def _ledger_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(orm.ledger_entries)).scalar() or 0)


def _book_many(engine: Engine, n: int) -> list[int]:
    import_products(engine)
    rng = random.Random(5)
    return [
        svc.book_loan(
            engine,
            product_code="SME-OP",
            terms=ScheduleTerms(
                principal=Decimal(rng.randrange(30_000, 300_000)),
                annual_rate=Decimal("0.0865"),
                term_months=12,
                start_date=date(2026, 1, 5),
            ),
        )
        for _ in range(n)
    ]


def test_running_a_date_twice_changes_nothing(db: Engine) -> None:
    _book_many(db, 5)
    eod.run_until(db, date(2026, 2, 10))
    before = _ledger_count(db)
    again = eod.run_until(db, date(2026, 2, 10))
    repeat_day = eod.run_day(db, date(2026, 2, 10))
    assert again == []
    assert repeat_day.loans == 0
    assert _ledger_count(db) == before


def test_a_run_killed_halfway_resumes_without_double_accrual(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _book_many(db, 7)
    eod.run_until(db, date(2026, 3, 9))
    references = {i: svc.get_loan(db, i, full_history=True) for i in ids}
    crash_after = {"chunks": 0}
    real = eod._process_chunk

    def crashing(uow, day, chunk_ids):  # type: ignore[no-untyped-def]
        if crash_after["chunks"] == 2:
            raise RuntimeError("power cut")
        crash_after["chunks"] += 1
        return real(uow, day, chunk_ids)

    monkeypatch.setattr(eod, "_process_chunk", crashing)
    with pytest.raises(RuntimeError, match="power cut"):
        eod.run_day(db, date(2026, 3, 10), chunk=2, workers=1)
    monkeypatch.setattr(eod, "_process_chunk", real)
    with db.connect() as conn:
        done = conn.execute(
            select(func.count()).where(orm.loans.c.last_eod == date(2026, 3, 10))
        ).scalar()
        running = conn.execute(
            select(func.count()).where(orm.eod_runs.c.status == "running")
        ).scalar()
    assert done == 4  # two chunks of two committed before the crash
    assert running == 1
    resumed = eod.run_day(db, date(2026, 3, 10), chunk=2, workers=1)
    assert resumed.loans == 3
    # Same state as a run that never crashed: compare with the per-loan reference.
    for loan_id, ref in references.items():
        ref.accrue_through(date(2026, 3, 10))
        got = svc.get_loan(db, loan_id, full_history=True)
        assert got.last_eod == date(2026, 3, 10)
        assert got.balances() == ref.balances()
        assert sorted((e.key, e.line) for e in got.entries) == sorted(
            (e.key, e.line) for e in ref.entries
        )
    with db.connect() as conn:
        runs = conn.execute(
            select(orm.eod_runs.c.status, orm.eod_runs.c.loans).where(
                orm.eod_runs.c.business_date == date(2026, 3, 10)
            )
        ).all()
    assert [tuple(r) for r in runs] == [("done", 7)]


def test_catch_up_runs_every_missing_day_in_order(db: Engine) -> None:
    _book_many(db, 2)
    results = eod.run_until(db, date(2026, 1, 31))
    assert [r.business_date for r in results] == [
        date(2026, 1, 5) + timedelta(days=i) for i in range(27)
    ]
    assert eod.run_until(db, date(2026, 1, 31)) == []


def test_parallel_chunks_crashing_resume_to_the_same_state(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With several chunks in flight any subset may be committed when one fails; the next
    run completes the day exactly once."""
    ids = _book_many(db, 9)
    eod.run_until(db, date(2026, 4, 2))
    references = {i: svc.get_loan(db, i, full_history=True) for i in ids}
    calls = {"n": 0}
    real = eod._process_chunk

    def crashing(uow, day, chunk_ids):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real(uow, day, chunk_ids)

    monkeypatch.setattr(eod, "_process_chunk", crashing)
    with pytest.raises(RuntimeError, match="disk full"):
        eod.run_day(db, date(2026, 4, 3), chunk=2, workers=2)
    monkeypatch.setattr(eod, "_process_chunk", real)
    eod.run_day(db, date(2026, 4, 3), chunk=2, workers=2)
    for loan_id, ref in references.items():
        ref.accrue_through(date(2026, 4, 3))
        got = svc.get_loan(db, loan_id, full_history=True)
        assert got.last_eod == date(2026, 4, 3)
        assert got.balances() == ref.balances()
        assert sorted((e.key, e.line) for e in got.entries) == sorted(
            (e.key, e.line) for e in ref.entries
        )
    with db.connect() as conn:
        runs = conn.execute(
            select(orm.eod_runs.c.status, orm.eod_runs.c.loans).where(
                orm.eod_runs.c.business_date == date(2026, 4, 3)
            )
        ).all()
    assert [tuple(r) for r in runs] == [("done", 9)]
