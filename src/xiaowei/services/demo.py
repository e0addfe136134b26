"""The demo institution (演示): a seeded year of lending to simulated small businesses.

``loans`` small businesses are drawn by the simulator (:mod:`xiaowei.simulate`) with
applications over 2025 (1 January to 1 December). Each is booked under the small-business
operating loan (SME-OP, 小微企业经营贷) on its booking date, with the terms the simulator gives
it (:func:`xiaowei.simulate.behaviour.loan_terms`: the amount and term it asked for, priced by
industry and term), as customer its unified social credit code (统一社会信用代码). Each then
repays as its simulated path says (:mod:`xiaowei.simulate.behaviour`): on time (按时), late
(逾期后还), in part then topped up (部分还款), prepaid (提前还款), defaulted (违约) and, for some
defaulters, recovered (清收), driven by the latent risk, macro shocks and guarantee contagion.

Every day of 2025 the day's loans are booked, the day's repayments are posted through the same
use cases as the CLI (a unit of work, ``Loan.repay``), and the end of day runs; at the end the
portfolio summary is printed. A scheduled or late payment pays what the loan says is due that
day for the installments the path pays (penalty included); a partial payment, a prepayment or a
recovery pays the path's amount; a defaulter pays nothing. Same seed, same institution.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from xiaowei.adapters.db import make_engine
from xiaowei.adapters.migrate import upgrade
from xiaowei.adapters.orm import metadata
from xiaowei.bootstrap import get_settings
from xiaowei.core.money import ZERO, from_cents
from xiaowei.lending.loan import Loan, LoanStatus
from xiaowei.lending.product import LoanProduct
from xiaowei.lending.schedule import Frequency, RepaymentMethod, ScheduleTerms
from xiaowei.services import eod
from xiaowei.services.portfolio import PortfolioSummary, summary
from xiaowei.services.products import import_products, list_products
from xiaowei.services.unit_of_work import UnitOfWork
from xiaowei.simulate import behaviour
from xiaowei.simulate.behaviour import PathType, PaymentKind
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.output import Rendered
from xiaowei.simulate.world import build_world, chunks

YEAR_START = date(2025, 1, 1)
YEAR_END = date(2025, 12, 31)
APPLICATION_END = date(2025, 12, 1)  # bookings follow applications by 3–20 days
FOLLOW_MONTHS = 12

Behaviour = PathType  # the demo's behaviours are the simulator's path types

_DUE_KINDS = (PaymentKind.SCHEDULED.value, PaymentKind.LATE.value)


@dataclass(frozen=True, slots=True)
class DemoBook:
    """What the simulator decided for the demo's businesses.

    ``loans``: terms by business (``loans/loans``) with ``customer_id``; ``repayments``: the
    payments of every path up to its horizon (``loans/repayments``); ``truth``: path truth
    (``loans/behaviour``).
    """

    config: SimulationConfig
    loans: pl.DataFrame
    repayments: pl.DataFrame
    truth: pl.DataFrame

    def behaviours(self, as_of: date = YEAR_END) -> dict[str, int]:
        """How many loans follow each path type by ``as_of`` (every type listed)."""
        paths = behaviour.classify_paths(self.truth, self.repayments, as_of=as_of)
        counts = dict(paths.group_by("path").len().iter_rows())
        return {kind.value: int(counts.get(kind.value, 0)) for kind in PathType}


def simulated_book(loans: int, seed: int) -> DemoBook:
    """The demo's businesses, loans and repayment paths, drawn by the simulator."""
    config = SimulationConfig(
        businesses=loans,
        seed=seed,
        follow_months=FOLLOW_MONTHS,
        application_start=YEAR_START,
        application_end=APPLICATION_END,
    )
    world = build_world(config)
    parts: list[Rendered] = [behaviour.render(c) for c in chunks(world)]
    customers = world.population.businesses.select(
        "business_id",
        pl.col("uscc").fill_null(pl.format("B{}", pl.col("business_id"))).alias("customer_id"),
    )
    book = pl.concat([p.tables["loans/loans"] for p in parts]).join(
        customers, on="business_id", how="left", maintain_order="left"
    )
    return DemoBook(
        config=config,
        loans=book.sort("start_date", "business_id", maintain_order=True),
        repayments=pl.concat([p.tables["loans/repayments"] for p in parts]),
        truth=pl.concat([p.truth["loans/behaviour"] for p in parts]),
    )


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


def schedule_terms(row: dict[str, object], product: LoanProduct) -> ScheduleTerms:
    """The ``ScheduleTerms`` of a ``loans/loans`` row under ``product`` (its rounding and day
    count; periodic interest, as the simulator's schedules)."""
    repayment_day = row["repayment_day"]
    start = row["start_date"]
    assert isinstance(start, date)
    return ScheduleTerms(
        principal=from_cents(int(str(row["principal_fen"]))),
        annual_rate=Decimal(int(str(row["rate_ppm"]))) / 1_000_000,
        term_months=int(str(row["term_months"])),
        start_date=start,
        method=RepaymentMethod(str(row["method"])),
        frequency=Frequency(str(row["frequency"])),
        repayment_day=None if repayment_day is None else int(str(repayment_day)),
        grace_periods=int(str(row["grace_periods"])),
        rounding=product.rounding,
        day_count=product.day_count,
    )


def _amount_due(loan: Loan, day: date, through: int) -> Decimal:
    """Everything due by ``day`` on installments up to ``through``: unpaid principal, interest,
    penalty, compound and fees."""
    total = ZERO
    for st in loan.installments(as_of=day):
        if st.is_due(day) and st.number <= through:
            total += st.principal_unpaid + st.interest_unpaid + st.penalty + st.compound + st.fee
    return total


@dataclass(frozen=True, slots=True)
class _Payment:
    """One loan's payment on one day: what is due through ``through`` plus ``extra_fen``."""

    business_id: int
    through: int | None
    extra_fen: int


def _payments_by_day(repayments: pl.DataFrame, last_day: date) -> dict[date, list[_Payment]]:
    due = pl.col("kind").is_in(_DUE_KINDS)
    per_day = (
        repayments.filter(pl.col("pay_date") <= last_day)
        .group_by("pay_date", "business_id")
        .agg(
            pl.col("installment").filter(due).max().alias("through"),
            pl.col("amount_fen").filter(~due).sum().alias("extra_fen"),
        )
        .sort("pay_date", "business_id")
    )
    out: dict[date, list[_Payment]] = {}
    for day, business_id, through, extra in per_day.iter_rows():
        out.setdefault(day, []).append(
            _Payment(int(business_id), None if through is None else int(through), int(extra))
        )
    return out


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
    """Book and run a year of the simulated institution; ``behaviours`` counts the path types
    the loans show by 31 December 2025 (a default whose first missed installment falls due in
    2026 still shows as the path it had until then)."""
    started = time.perf_counter()
    db = url or get_settings().database_url
    if fresh:
        _fresh(db)
    engine = make_engine(db)
    upgrade(engine)
    import_products(engine)
    book = simulated_book(loans, seed)
    product = {p.code: p for p in list_products(engine)}[book.config.product_code]
    bookings: dict[date, list[dict[str, object]]] = {}
    for row in book.loans.iter_rows(named=True):
        bookings.setdefault(row["start_date"], []).append(row)
    payments = _payments_by_day(book.repayments, YEAR_END)
    loan_ids: dict[int, int] = {}
    days = (YEAR_END - YEAR_START).days + 1
    repayments = eod_entries = 0
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or Console(quiet=True),
        transient=True,
    ) as bar:
        task = bar.add_task("demo year 2025", total=days)
        day = YEAR_START
        while day <= YEAR_END:
            _book_day(engine, product, bookings.get(day, []), loan_ids)
            repayments += _repay_day(engine, day, payments.get(day, []), loan_ids)
            eod_entries += eod.run_day(engine, day).entries
            bar.update(task, advance=1, description=f"demo {day}")
            day += timedelta(days=1)
    return DemoResult(
        summary=summary(engine),
        behaviours=book.behaviours(YEAR_END),
        repayments=repayments,
        eod_days=days,
        eod_entries=eod_entries,
        seconds=time.perf_counter() - started,
    )


def _book_day(
    engine: Engine,
    product: LoanProduct,
    rows: list[dict[str, object]],
    loan_ids: dict[int, int],
) -> None:
    if not rows:
        return
    with UnitOfWork(engine) as uow:
        for row in rows:
            loan = Loan.book(
                product, schedule_terms(row, product), customer_id=str(row["customer_id"])
            )
            loan_ids[int(str(row["business_id"]))] = uow.loans.add(loan)
        uow.commit()


def _repay_day(engine: Engine, day: date, todays: list[_Payment], loan_ids: dict[int, int]) -> int:
    if not todays:
        return 0
    posted = 0
    with UnitOfWork(engine) as uow:
        for payment in todays:
            loan_id = loan_ids[payment.business_id]
            key = f"demo-{loan_id}-{day.isoformat()}"
            loan = uow.loans.get(loan_id, history_from=day, keys=[key])
            if loan.status is not LoanStatus.ACTIVE:
                continue
            amount = from_cents(payment.extra_fen)
            if payment.through is not None:
                amount += _amount_due(loan, day, payment.through)
            if amount > 0:
                loan.repay(amount, value_date=day, key=key)
                uow.loans.save(loan, effective_date=day)
                posted += 1
        uow.commit()
    return posted
