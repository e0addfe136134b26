"""Portfolio reports over the stored loans: summary by bucket, and the trial balance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import polars as pl
from sqlalchemy import Engine, func, select

from xiaowei.adapters import orm
from xiaowei.core.money import ZERO, from_cents
from xiaowei.lending.delinquency import BUCKETS
from xiaowei.lending.ledger import Account, EntryType, LedgerEntry, trial_balance


@dataclass(frozen=True, slots=True)
class BucketLine:
    bucket: str
    loans: int
    outstanding: Decimal
    overdue_principal: Decimal


@dataclass(frozen=True, slots=True)
class PortfolioSummary:
    as_of: date | None
    active: int
    closed: int
    written_off: int
    outstanding: Decimal
    overdue_principal: Decimal
    interest_earned: Decimal
    penalty_earned: Decimal
    compound_earned: Decimal
    buckets: list[BucketLine] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "loans": {
                "active": self.active,
                "closed": self.closed,
                "written_off": self.written_off,
            },
            "outstanding": str(self.outstanding),
            "overdue_principal": str(self.overdue_principal),
            "interest_earned": str(self.interest_earned),
            "penalty_earned": str(self.penalty_earned),
            "compound_earned": str(self.compound_earned),
            "buckets": [
                {
                    "bucket": b.bucket,
                    "loans": b.loans,
                    "outstanding": str(b.outstanding),
                    "overdue_principal": str(b.overdue_principal),
                }
                for b in self.buckets
            ],
        }


def summary(engine: Engine) -> PortfolioSummary:
    """Outstanding, counts and balances per bucket, and interest earned (已计利息)."""
    lc, ic = orm.loans.c, orm.installments.c
    with engine.connect() as conn:
        status_counts: dict[str, int] = dict(
            conn.execute(select(lc.status, func.count()).group_by(lc.status)).all()
        )
        as_of = conn.execute(select(func.max(lc.last_eod))).scalar()
        per_bucket = pl.DataFrame(
            conn.execute(
                select(
                    lc.bucket,
                    func.count(),
                    func.coalesce(func.sum(lc.principal_outstanding_fen), 0),
                )
                .where(lc.status == "active")
                .group_by(lc.bucket)
            ).all(),
            schema={"bucket": pl.String, "loans": pl.Int64, "outstanding": pl.Int64},
            orient="row",
        )
        earned = conn.execute(
            select(
                func.coalesce(func.sum(ic.interest_accrued_fen), 0),
                func.coalesce(func.sum(ic.penalty_accrued_fen), 0),
                func.coalesce(func.sum(ic.compound_accrued_fen), 0),
            )
        ).one()
        overdue_rows = conn.execute(
            select(
                lc.bucket,
                ic.principal_fen - ic.principal_paid_fen,
                ic.due_date,
                lc.last_eod,
                lc.grace_days,
            )
            .join(orm.loans, lc.id == ic.loan_id)
            .where(
                lc.status == "active", lc.dpd > 0, ic.settled.is_(False), ic.due_date <= lc.last_eod
            )
        ).all()
    overdue = pl.DataFrame(
        overdue_rows,
        schema={
            "bucket": pl.String,
            "unpaid": pl.Int64,
            "due": pl.Date,
            "asof": pl.Date,
            "grace": pl.Int64,
        },
        orient="row",
    ).filter((pl.col("asof") - pl.col("due")).dt.total_days() > pl.col("grace"))
    overdue_by_bucket = dict(overdue.group_by("bucket").agg(pl.col("unpaid").sum()).iter_rows())
    counts = {b: (n, amt) for b, n, amt in per_bucket.iter_rows()}
    lines = [
        BucketLine(
            b,
            counts.get(b, (0, 0))[0],
            from_cents(counts.get(b, (0, 0))[1]),
            from_cents(int(overdue_by_bucket.get(b, 0))),
        )
        for b in BUCKETS
    ]
    return PortfolioSummary(
        as_of=as_of,
        active=int(status_counts.get("active", 0)),
        closed=int(status_counts.get("closed", 0)),
        written_off=int(status_counts.get("written-off", 0)),
        outstanding=sum((b.outstanding for b in lines), ZERO),
        overdue_principal=sum((b.overdue_principal for b in lines), ZERO),
        interest_earned=from_cents(int(earned[0])),
        penalty_earned=from_cents(int(earned[1])),
        compound_earned=from_cents(int(earned[2])),
        buckets=lines,
    )


def ledger_trial_balance(engine: Engine) -> dict[Account, Decimal]:
    """Trial balance (试算平衡表) of the whole ledger.

    Postings are linear in the amounts, so the entries are summed per kind in SQL and each sum
    is posted once: the same result as posting every entry, at the cost of one GROUP BY.
    """
    e = orm.ledger_entries.c
    columns = (
        "principal_fen",
        "interest_fen",
        "penalty_fen",
        "compound_fen",
        "fee_fen",
        "credit_fen",
        "recovered_fen",
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(e.entry_type, e.reversed_type, *(func.sum(e[c]) for c in columns)).group_by(
                e.entry_type, e.reversed_type
            )
        ).all()
    sums = [
        LedgerEntry(
            entry_type=EntryType(r[0]),
            reversed_type=None if r[1] is None else EntryType(r[1]),
            value_date=date.min,
            booking_date=date.min,
            key="sum",
            principal=from_cents(int(r[2] or 0)),
            interest=from_cents(int(r[3] or 0)),
            penalty=from_cents(int(r[4] or 0)),
            compound=from_cents(int(r[5] or 0)),
            fee=from_cents(int(r[6] or 0)),
            credit=from_cents(int(r[7] or 0)),
            recovered=from_cents(int(r[8] or 0)),
        )
        for r in rows
    ]
    return trial_balance(sums)
