"""The demo institution (演示): a seeded year of lending on the shipped products.

2,000 loans (by default) are booked over calendar year 2025 under the three catalogue products,
each borrower drawn from a seeded mix of behaviours: on time (按时), late (逾期后还), partial
payers (部分还款), prepayers (提前还款) and defaulters (违约). Every day the day's loans are
booked, the day's repayments are posted through the same use cases as the CLI, and the end of
day runs; at the end the portfolio summary is printed. Same seed, same institution.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from xiaowei.adapters.db import make_engine
from xiaowei.adapters.migrate import upgrade
from xiaowei.adapters.orm import metadata
from xiaowei.bootstrap import get_settings
from xiaowei.core.money import ZERO, to_fen
from xiaowei.lending.loan import Loan, LoanStatus
from xiaowei.lending.product import LoanProduct
from xiaowei.lending.schedule import Frequency, RepaymentMethod, ScheduleTerms
from xiaowei.services import eod
from xiaowei.services.portfolio import PortfolioSummary, summary
from xiaowei.services.products import import_products, list_products
from xiaowei.services.unit_of_work import UnitOfWork

YEAR_START = date(2025, 1, 1)
YEAR_END = date(2025, 12, 31)


class Behaviour(StrEnum):
    ON_TIME = "on-time"
    LATE = "late"
    PARTIAL = "partial"
    PREPAY = "prepay"
    DEFAULT = "default"


MIX = (
    (Behaviour.ON_TIME, 0.62),
    (Behaviour.LATE, 0.12),
    (Behaviour.PARTIAL, 0.08),
    (Behaviour.PREPAY, 0.08),
    (Behaviour.DEFAULT, 0.10),
)


@dataclass(slots=True)
class Borrower:
    loan_id: int
    behaviour: Behaviour
    delay_days: int  # how late a late payer pays
    share: Decimal  # what share of the due amount a partial payer pays
    stop_after: int  # installments a defaulter pays before stopping
    prepay_month: int  # installment after which a prepayer prepays
    prepay_share: Decimal  # share of the outstanding principal prepaid


def _fresh(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    engine = make_engine(url)
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()


def _terms(rng: random.Random, product: LoanProduct, start: date) -> ScheduleTerms:
    """A realistic loan under ``product``: amount log-uniform in range, a common term."""
    lo, hi = float(product.amount_min), float(min(product.amount_max, Decimal(1_000_000)))
    amount = to_fen(Decimal(round(lo * (hi / lo) ** rng.random(), -2) or lo))
    amount = max(min(amount, product.amount_max), product.amount_min)
    terms = [m for m in (6, 12, 24, 36) if product.term_min <= m <= product.term_max] or [
        product.term_min
    ]
    term = rng.choice(terms)
    rate_steps = int((product.rate_max - product.rate_min) / Decimal("0.0005"))
    rate = product.rate_min + Decimal("0.0005") * rng.randint(0, max(rate_steps, 0))
    methods = [m for m in product.methods if m is not RepaymentMethod.SEASONAL]
    method = rng.choice(methods)
    balloon = Decimal("0.3") if method is RepaymentMethod.BALLOON else ZERO
    frequency = Frequency.MONTHLY
    return ScheduleTerms(
        principal=amount,
        annual_rate=rate,
        term_months=term,
        start_date=start,
        method=method,
        frequency=frequency,
        repayment_day=product.repayment_day,
        balloon_share=balloon,
        rounding=product.rounding,
        day_count=product.day_count,
    )


def _borrower(rng: random.Random, loan_id: int) -> Borrower:
    roll, acc = rng.random(), 0.0
    behaviour = MIX[-1][0]
    for kind, weight in MIX:
        acc += weight
        if roll < acc:
            behaviour = kind
            break
    return Borrower(
        loan_id=loan_id,
        behaviour=behaviour,
        delay_days=rng.randint(3, 45),
        share=Decimal(rng.randint(40, 90)) / 100,
        stop_after=rng.randint(0, 5),
        prepay_month=rng.randint(3, 8),
        prepay_share=Decimal(rng.choice((30, 50, 100))) / 100,
    )


def _amount_due(loan: Loan, day: date) -> Decimal:
    """Everything due by ``day``: unpaid principal, interest, penalty, compound and fees."""
    total = ZERO
    for st in loan.installments(as_of=day):
        if st.is_due(day):
            total += st.principal_unpaid + st.interest_unpaid + st.penalty + st.compound + st.fee
    return total


def _payment(b: Borrower, loan: Loan, day: date, paid_count: int) -> Decimal:
    due = _amount_due(loan, day)
    if b.behaviour is Behaviour.DEFAULT and paid_count >= b.stop_after:
        return ZERO
    if b.behaviour is Behaviour.PARTIAL:
        return to_fen(due * b.share) if paid_count % 3 != 2 else due
    if b.behaviour is Behaviour.PREPAY and paid_count == b.prepay_month:
        outstanding = sum(
            (st.principal_unpaid for st in loan.installments(as_of=day) if not st.is_due(day)), ZERO
        )
        return due + to_fen(outstanding * b.prepay_share * Decimal("1.02"))
    return due


@dataclass(frozen=True, slots=True)
class DemoResult:
    summary: PortfolioSummary
    behaviours: dict[str, int]
    repayments: int
    eod_days: int
    eod_entries: int
    seconds: float

    def to_json(self) -> dict[str, object]:
        return {
            "behaviours": self.behaviours,
            "repayments": self.repayments,
            "eod_days": self.eod_days,
            "eod_entries": self.eod_entries,
            "seconds": round(self.seconds, 1),
            "portfolio": self.summary.to_json(),
        }


def run_demo(
    url: str | None,
    *,
    loans: int = 2000,
    seed: int = 7,
    fresh: bool = False,
    console: Console | None = None,
) -> DemoResult:
    started = time.perf_counter()
    db = url or get_settings().database_url
    if fresh:
        _fresh(db)
    engine = make_engine(db)
    upgrade(engine)
    import_products(engine)
    products = {p.code: p for p in list_products(engine)}
    rng = random.Random(seed)
    days = (YEAR_END - YEAR_START).days + 1
    starts = sorted(YEAR_START + timedelta(days=rng.randrange(days)) for _ in range(loans))
    weights = (("SME-OP", 0.6), ("MED-AES", 0.25), ("STUDENT", 0.15))
    borrowers: dict[int, Borrower] = {}
    paid_counts: dict[int, int] = {}
    repayments = eod_entries = 0
    pending: dict[date, list[int]] = {}
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or Console(quiet=True),
        transient=True,
    ) as bar:
        task = bar.add_task("demo year 2025", total=days)
        next_start = 0
        day = YEAR_START
        while day <= YEAR_END:
            todays = []
            while next_start < len(starts) and starts[next_start] == day:
                todays.append(next_start)
                next_start += 1
            _book_day(engine, rng, day, todays, products, weights, borrowers, paid_counts, pending)
            repayments += _repay_day(engine, day, borrowers, paid_counts, pending)
            eod_entries += eod.run_day(engine, day).entries
            bar.update(task, advance=1, description=f"demo {day}")
            day += timedelta(days=1)
    behaviours = {kind.value: 0 for kind, _ in MIX}
    for b in borrowers.values():
        behaviours[b.behaviour.value] += 1
    return DemoResult(
        summary=summary(engine),
        behaviours=behaviours,
        repayments=repayments,
        eod_days=days,
        eod_entries=eod_entries,
        seconds=time.perf_counter() - started,
    )


def _book_day(
    engine: Engine,
    rng: random.Random,
    day: date,
    todays: list[int],
    products: dict[str, LoanProduct],
    weights: tuple[tuple[str, float], ...],
    borrowers: dict[int, Borrower],
    paid_counts: dict[int, int],
    pending: dict[date, list[int]],
) -> None:
    if not todays:
        return
    with UnitOfWork(engine) as uow:
        for _ in todays:
            code = rng.choices([w[0] for w in weights], [w[1] for w in weights])[0]
            product = products[code]
            loan = Loan.book(
                product, _terms(rng, product, day), customer_id=f"C{rng.randrange(10**8):08d}"
            )
            loan_id = uow.loans.add(loan)
            b = _borrower(rng, loan_id)
            borrowers[loan_id] = b
            paid_counts[loan_id] = 0
            first_due = loan.schedule[0].due_date
            pending.setdefault(_pay_date(b, first_due), []).append(loan_id)
        uow.commit()


def _pay_date(b: Borrower, due: date) -> date:
    return due + timedelta(days=b.delay_days if b.behaviour is Behaviour.LATE else 0)


def _repay_day(
    engine: Engine,
    day: date,
    borrowers: dict[int, Borrower],
    paid_counts: dict[int, int],
    pending: dict[date, list[int]],
) -> int:
    ids = pending.pop(day, [])
    if not ids:
        return 0
    posted = 0
    with UnitOfWork(engine) as uow:
        for loan_id in ids:
            key = f"demo-{loan_id}-{day.isoformat()}"
            loan = uow.loans.get(loan_id, history_from=day, keys=[key])
            if loan.status is not LoanStatus.ACTIVE:
                continue
            b = borrowers[loan_id]
            amount = _payment(b, loan, day, paid_counts[loan_id])
            if amount > 0:
                loan.repay(amount, value_date=day, key=key)
                uow.loans.save(loan, effective_date=day)
                posted += 1
            paid_counts[loan_id] += 1
            upcoming = [r.due_date for r in loan.schedule if r.due_date > day]
            if loan.status is LoanStatus.ACTIVE:
                nxt = upcoming[0] if upcoming else day + timedelta(days=30)
                pending.setdefault(_pay_date(b, nxt), []).append(loan_id)
        uow.commit()
    return posted
