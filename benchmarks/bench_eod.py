"""Benchmark: end of day (日终批处理) for one business day over a book of active loans.

    .venv/bin/python benchmarks/bench_eod.py [--loans N] [--engines sqlite,postgresql]
                                             [--chunk C] [--seed SEED] [--pg-url URL]

For each engine, in a fresh database (a SQLite file in a temporary directory; a PostgreSQL
schema ``bench_eod`` created and dropped here), the benchmark

1. builds a seeded book of N active loans (default 1,000,000) in bulk, *not* through
   ``Loan.book`` one by one: the catalogue's products SME-OP, MED-AES and STUDENT (version 1),
   12–36 monthly installments (等额本息, 等额本金, 先息后本, 气球贷; grace periods; the products'
   fixed repayment days or the disbursement day), disbursed over the 36 months before the
   business day D, every loan still running on D. Schedules come from
   ``schedule_batch.generate_schedules``; ``loans`` and ``installments`` rows are written with
   COPY (PostgreSQL; as a superuser with ``session_replication_role = replica``, which skips
   the per-row foreign-key trigger of rows consistent by construction; then VACUUM ANALYZE) or
   ``executemany`` in one transaction with ``PRAGMA synchronous=OFF`` for the load only
   (SQLite). The state is the one the end of day of D − 1 leaves: ~85 % current
   (every past installment paid, the current period's interest accrued to D − 1), ~8 % 1–30
   days past due, ~3 % 31–90 and ~4 % more than 90 (the borrower stopped paying at some
   installment; sometimes that one was part paid before its due date), penalty (罚息) and
   compound interest (复利) accrued to D − 1 by the rules of ``lending.accrual``; about 0.1 %
   of the loans are disbursed on D itself and have had no end of day yet.
   Only what the end of day reads is written: no ledger history (the end of day reads loans and
   installments, never past ledger entries; ``ledger_entries`` exists from the migration and
   starts empty, so what the run appends can be counted exactly) and no ``schedule_versions``
   rows. Schedules use the periodic interest basis (the vectorised path; SME-OP's actual-day
   basis goes through the scalar schedule and would only slow the build): the end of day does
   not depend on it. The products count ACT/360 and no loan has a credit balance, so the whole
   book takes the vectorised path of the end of day.
2. in a new process, times ``eod.run_day(engine, D, chunk=C)`` end to end (reads, compute,
   ledger entries, installment and loan updates, commits) and the compute alone (the sum of
   ``DayResult.compute_seconds``, i.e. ``compute_day``), runs the same day a second time (it
   must find no loan: idempotent), and checks that the ledger gained exactly the entries the
   run reports, that every loan moved to ``last_eod = D`` and that the second run wrote nothing.

Peak memory is each process's own peak resident set (``VmHWM``; see ``_peak_rss_mb`` for why
not ``ru_maxrss``, which is recorded too): the book is built in one process and the end of day
measured in another, so the end-of-day figure is the end of day's own.

Targets on the 2-core reference machine: ≥ 100,000 loans/s for the compute, ≥ 20,000 loans/s
end to end, peak memory < 4 GB.

``main(argv)`` returns the figures as a dict for ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from multiprocessing import get_context
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from sqlalchemy import Engine, create_engine, func, select, text

from xiaowei.adapters import orm
from xiaowei.adapters.db import make_engine, normalise_url
from xiaowei.adapters.migrate import upgrade
from xiaowei.adapters.serialization import terms_from_json
from xiaowei.core.money import to_cents
from xiaowei.lending.catalogue import load_catalogue
from xiaowei.lending.delinquency import BUCKETS
from xiaowei.lending.schedule import generate_schedule
from xiaowei.lending.schedule_batch import generate_schedules
from xiaowei.services import eod
from xiaowei.services.products import import_products

TARGET_COMPUTE_LOANS_PER_SECOND = 100_000
TARGET_END_TO_END_LOANS_PER_SECOND = 20_000
TARGET_PEAK_MEMORY_MB = 4_096

BUSINESS_DATE = date(2026, 3, 16)  # a Monday; D − 1 = 2026-03-15 is the last end of day
DEFAULT_CHUNK = eod.CHUNK  # 50,000: the end of day's own default
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench_eod"
SLICE = 200_000  # loans generated and written at a time while building

# Share of each product in the book, and of each repayment method within a product (the
# methods a product does not offer are left out and the others rescaled).
PRODUCT_MIX = {"SME-OP": 0.70, "MED-AES": 0.20, "STUDENT": 0.10}
METHOD_MIX = {
    "equal-installment": 0.45,  # 等额本息
    "equal-principal": 0.25,  # 等额本金
    "interest-only": 0.20,  # 按月付息到期还本
    "balloon": 0.10,  # 气球贷
}
# Delinquency states as of D − 1: (share, lowest DPD, highest DPD, youngest loan in days).
STATES = {
    "current": (0.85, 0, 0, 0),
    "1-30 DPD": (0.08, 1, 30, 35),
    "31-90 DPD": (0.03, 31, 90, 65),
    ">90 DPD": (0.04, 91, 100_000, 125),
}
PART_PAID = 0.3  # share of delinquent loans whose oldest unpaid installment was part paid

I64 = npt.NDArray[np.int64]
_EPOCH = date(1970, 1, 1)
_PPM = 1_000_000

LOAN_COLUMNS = (
    "id",
    "customer_id",
    "product_code",
    "product_version",
    "status",
    "start_date",
    "maturity_date",
    "principal_fen",
    "rate_ppm",
    "penalty_rate_ppm",
    "compound",
    "grace_days",
    "day_count",
    "rounding",
    "method",
    "terms",
    "schedule_version",
    "last_eod",
    "dpd",
    "bucket",
    "principal_outstanding_fen",
    "credit_fen",
    "version",
    "created_at",
)
INSTALLMENT_COLUMNS = (
    "loan_id",
    "number",
    "start_date",
    "due_date",
    "opening_fen",
    "principal_fen",
    "interest_fen",
    "principal_paid_fen",
    "interest_paid_fen",
    "interest_accrued_fen",
    "penalty_fen",
    "compound_fen",
    "fee_fen",
    "penalty_accrued_fen",
    "compound_accrued_fen",
    "settled",
)


# --- the book -------------------------------------------------------------------------------


def _day_number(d: date) -> int:
    return (d - _EPOCH).days


def _round_half_up(num: I64, den: I64 | int) -> I64:
    """num / den rounded half-up, exactly, for num ≥ 0 (the accrual rounding)."""
    q, r = np.divmod(num, den)
    rounded: I64 = q + (2 * r >= den)
    return rounded


def loan_book(n_loans: int, day: date, *, seed: int) -> pl.DataFrame:
    """Loan-level draws: the schedule input of ``generate_schedules`` plus the product's
    accrual parameters and the delinquency state each loan is to be in on ``day − 1``."""
    products = {p.code: p for p in load_catalogue() if p.code in PRODUCT_MIX}
    rng = np.random.default_rng(seed)
    codes = list(PRODUCT_MIX)
    product_index = rng.choice(len(codes), size=n_loans, p=list(PRODUCT_MIX.values()))
    columns: dict[str, Any] = {
        name: np.zeros(n_loans, dtype=np.int64)
        for name in (
            "principal_fen",
            "rate_ppm",
            "penalty_rate_ppm",
            "term_months",
            "grace_periods",
            "repayment_day",
            "balloon_share_ppm",
            "grace_days",
            "fee_fen",
        )
    }
    columns["compound"] = np.zeros(n_loans, dtype=bool)
    method = np.empty(n_loans, dtype=object)
    rounding = np.empty(n_loans, dtype=object)
    day_count = np.empty(n_loans, dtype=object)
    for k, code in enumerate(codes):
        product = products[code]
        rows = np.flatnonzero(product_index == k)
        m = len(rows)
        offered = [x for x in METHOD_MIX if x in {v.value for v in product.methods}]
        weights = np.array([METHOD_MIX[x] for x in offered])
        method[rows] = np.array(offered, dtype=object)[
            rng.choice(len(offered), size=m, p=weights / weights.sum())
        ]
        low, high = float(product.amount_min), float(product.amount_max)
        yuan = np.exp(rng.uniform(np.log(low), np.log(high), size=m))
        yuan = np.clip(np.round(yuan / 100) * 100, low, high)
        principal = yuan.astype(np.int64) * 100
        columns["principal_fen"][rows] = principal
        rate_low = int(product.rate_min * _PPM) // 100
        rate_high = int(product.rate_max * _PPM) // 100
        rate = rng.integers(rate_low, rate_high + 1, size=m) * 100  # steps of 0.01 %
        columns["rate_ppm"][rows] = rate
        # the product's own penalty rate rule (contract rate × (1 + markup), to 1e-6)
        penalty = {
            int(r): int(product.penalty_rate(Decimal(int(r)) / _PPM) * _PPM)
            for r in np.unique(rate)
        }
        columns["penalty_rate_ppm"][rows] = [penalty[int(r)] for r in rate]
        columns["term_months"][rows] = rng.integers(12, min(product.term_max, 36) + 1, size=m)
        amortising = np.isin(method[rows], ["equal-installment", "equal-principal"])
        max_grace = min(product.grace_months, 6)
        if max_grace:
            columns["grace_periods"][rows] = np.where(
                amortising & (rng.random(m) < 0.1), rng.integers(1, max_grace + 1, size=m), 0
            )
        if product.repayment_day is not None:
            columns["repayment_day"][rows] = np.where(rng.random(m) < 0.8, product.repayment_day, 0)
        columns["balloon_share_ppm"][rows] = np.where(
            method[rows] == "balloon", rng.integers(20, 51, size=m) * 10_000, 0
        )
        columns["grace_days"][rows] = product.overdue_grace_days
        rounding[rows] = product.rounding.value
        day_count[rows] = product.day_count.value
        columns["compound"][rows] = product.compound_interest
        percent = sum((f.value for f in product.fees if f.kind.value == "upfront-percent"), 0)
        # amounts are whole hundreds of yuan, so the fee is a whole number of fen
        columns["fee_fen"][rows] = principal * int(Decimal(percent) * 10_000) // 10_000
    state_names = list(STATES)
    state = rng.choice(len(state_names), size=n_loans, p=[s[0] for s in STATES.values()])
    youngest = np.array([s[3] for s in STATES.values()], dtype=np.int64)[state]
    # Age in days on D: uniform between the state's youngest and a few weeks before maturity
    # (term × 30 − 40 days), so that no loan has matured; age 0 is a loan disbursed on D.
    oldest = columns["term_months"] * 30 - 40
    age = youngest + (rng.random(n_loans) * (oldest - youngest + 1)).astype(np.int64)
    start = np.datetime64(day, "D") - age
    codes_array = np.array(codes, dtype=object)[product_index]
    return pl.DataFrame(
        {
            "loan_id": np.arange(1, n_loans + 1, dtype=np.int64),
            "product_code": codes_array,
            "principal_fen": columns["principal_fen"],
            "rate_ppm": columns["rate_ppm"],
            "penalty_rate_ppm": columns["penalty_rate_ppm"],
            "compound": columns["compound"],
            "grace_days": columns["grace_days"],
            "term_months": columns["term_months"],
            "start_date": start,
            "method": method,
            "frequency": np.full(n_loans, "monthly"),
            "grace_periods": columns["grace_periods"],
            "repayment_day": pl.Series(columns["repayment_day"]).replace(0, None),
            "balloon_share_ppm": columns["balloon_share_ppm"],
            "rounding": pl.Series(rounding, dtype=pl.String),
            "day_count": pl.Series(day_count, dtype=pl.String),
            "fee_fen": columns["fee_fen"],
            "state": state.astype(np.int64),
            "pick": rng.random(n_loans),
            "part_paid": rng.random(n_loans) < PART_PAID,
            "paid_share": rng.uniform(0.1, 0.9, size=n_loans),
        }
    )


def book_slice(loans: pl.DataFrame, day: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ``loans`` and ``installments`` rows of a slice of the book, as of the end of D − 1.

    The loans' ids must be consecutive.
    """
    sched = generate_schedules(loans)
    first_id = int(loans["loan_id"][0])
    n = loans.height
    y = _day_number(day) - 1  # the last end of day, D − 1
    li = sched["loan_id"].to_numpy() - first_id  # index of each installment's loan
    number = sched["number"].to_numpy().astype(np.int64)
    start = sched["start_date"].to_physical().to_numpy().astype(np.int64)
    due = sched["due_date"].to_physical().to_numpy().astype(np.int64)
    principal = sched["principal_fen"].to_numpy()
    interest = sched["interest_fen"].to_numpy()
    opening = sched["balance_fen"].to_numpy() + principal
    rows_per_loan = np.bincount(li, minlength=n)
    first_row = np.zeros(n, dtype=np.int64)
    np.cumsum(rows_per_loan[:-1], out=first_row[1:])

    def per_loan(name: str) -> Any:
        return loans[name].to_numpy()[li]

    grace = loans["grace_days"].to_numpy()
    state = loans["state"].to_numpy()
    low = np.array([s[1] for s in STATES.values()], dtype=np.int64)[state]
    high = np.array([s[2] for s in STATES.values()], dtype=np.int64)[state]
    # The oldest unpaid installment: its days past due on D − 1 must fall in the state's
    # range. Due dates increase with the number, so the candidates are consecutive numbers.
    late = y - due
    dpd_low = np.maximum(low, grace + 1)  # within the grace days an installment is not late
    too_late = np.bincount(li, weights=late > high[li], minlength=n).astype(np.int64)
    late_enough = np.bincount(li, weights=late >= dpd_low[li], minlength=n).astype(np.int64)
    delinquent = (state > 0) & (late_enough > too_late)
    span = np.maximum(late_enough - too_late, 1)
    pick = (loans["pick"].to_numpy() * span).astype(np.int64)
    oldest_unpaid = np.where(delinquent, too_late + 1 + pick, np.iinfo(np.int64).max)

    past = due <= y
    unpaid = past & (number >= oldest_unpaid[li])
    part = unpaid & (number == oldest_unpaid[li]) & per_loan("part_paid")
    share = per_loan("paid_share")
    paid = past & ~unpaid
    principal_paid = np.where(paid, principal, 0)
    interest_paid = np.where(paid, interest, 0)
    # part paid before the due date: the interest and some principal, or some interest
    has_principal = principal > 0
    principal_paid = np.where(
        part & has_principal, (principal * share).astype(np.int64), principal_paid
    )
    interest_paid = np.where(
        part, np.where(has_principal, interest, (interest * share).astype(np.int64)), interest_paid
    )

    rate = per_loan("rate_ppm")
    den = np.where(per_loan("day_count") == "ACT/365", 365, 360) * _PPM  # year days × ppm
    current = (start <= y) & (y < due)
    to_date = np.minimum(interest, _round_half_up(opening * rate * (y - start + 1), den))
    accrued = np.where(past | (current & (y == due - 1)), interest, np.where(current, to_date, 0))
    # penalty days charged through D − 1: none within the grace days, then every day from the
    # due date (the first overdue day catches up the grace days)
    charged = np.where(unpaid & (late > grace[li]), late, 0)
    penalty_rate = per_loan("penalty_rate_ppm")
    principal_unpaid = principal - principal_paid
    interest_unpaid = interest - interest_paid
    penalty = charged * _round_half_up(principal_unpaid * penalty_rate, den)
    compound = np.where(
        per_loan("compound"), charged * _round_half_up(interest_unpaid * penalty_rate, den), 0
    )
    installments = pl.DataFrame(
        {
            "loan_id": sched["loan_id"],
            "number": number,
            "start_date": sched["start_date"],
            "due_date": sched["due_date"],
            "opening_fen": opening,
            "principal_fen": principal,
            "interest_fen": interest,
            "principal_paid_fen": principal_paid,
            "interest_paid_fen": interest_paid,
            "interest_accrued_fen": accrued,
            "penalty_fen": penalty,
            "compound_fen": compound,
            "fee_fen": np.zeros(len(li), dtype=np.int64),
            "penalty_accrued_fen": penalty,
            "compound_accrued_fen": compound,
            "settled": paid,
        }
    )

    first_unpaid_due = due[first_row + np.where(delinquent, oldest_unpaid - 1, 0)]
    dpd = np.where(delinquent, y - first_unpaid_due, 0)
    maturity = due[first_row + rows_per_loan - 1]
    if (maturity <= y).any():
        raise AssertionError("a loan of the book has matured before the business day")
    bucket_index = np.where(dpd == 0, 0, np.minimum((dpd - 1) // 30 + 1, 7))
    outstanding = loans["principal_fen"].to_numpy() - np.bincount(
        li, weights=principal_paid, minlength=n
    ).astype(np.int64)
    loan_rows = (
        loans.with_columns(
            pl.Series("maturity_date", maturity.astype(np.int32)).cast(pl.Date),
            pl.Series("dpd", dpd),
            pl.Series("bucket", np.array(BUCKETS, dtype=object)[bucket_index], pl.String),
            pl.Series("principal_outstanding_fen", outstanding),
            pl.Series("delinquent", delinquent),
        )
        .with_columns(
            pl.when(pl.col("start_date") < day)
            .then(pl.lit(day - timedelta(days=1)))
            .otherwise(None)
            .alias("last_eod"),
            _terms_json().alias("terms"),
            pl.format("C{}", pl.col("loan_id").cast(pl.String).str.zfill(8)).alias("customer_id"),
        )
        .select(
            pl.col("loan_id").alias("id"),
            "customer_id",
            "product_code",
            pl.lit(1).alias("product_version"),
            pl.lit("active").alias("status"),
            "start_date",
            "maturity_date",
            "principal_fen",
            "rate_ppm",
            "penalty_rate_ppm",
            "compound",
            "grace_days",
            "day_count",
            "rounding",
            "method",
            "terms",
            pl.lit(1).alias("schedule_version"),
            "last_eod",
            "dpd",
            "bucket",
            "principal_outstanding_fen",
            pl.lit(0, pl.Int64).alias("credit_fen"),
            pl.lit(1).alias("version"),
            pl.format("{} 09:00:00", pl.col("start_date")).alias("created_at"),
            "state",
            "delinquent",
        )
    )
    return loan_rows, installments


def _yuan(column: str) -> pl.Expr:
    """Integer fen as the plain string of its Decimal amount in yuan, e.g. 30000.00."""
    fen = pl.col(column)
    return pl.concat_str(
        (fen // 100).cast(pl.String), pl.lit("."), (fen % 100).cast(pl.String).str.zfill(2)
    )


def _ppm_text(column: str) -> pl.Expr:
    """Integer ppm as the string of the Decimal rate (what ``Decimal(ppm) / 10**6`` prints)."""
    return (
        pl.col(column)
        .map_batches(
            lambda s: s.replace_strict(
                {int(v): str(Decimal(int(v)) / _PPM) for v in s.unique()}, return_dtype=pl.String
            ),
            return_dtype=pl.String,
        )
        .alias(column)
    )


def _terms_json() -> pl.Expr:
    """The ``terms`` column (``serialization.terms_to_json``) of each loan."""

    def field(name: str, value: pl.Expr, *, quoted: bool, last: bool = False) -> list[pl.Expr]:
        q = '"' if quoted else ""
        return [pl.lit(f'"{name}": {q}'), value, pl.lit(q + ("}" if last else ", "))]

    balloon = (
        pl.when(pl.col("balloon_share_ppm") > 0)
        .then(_ppm_text("balloon_share_ppm"))
        .otherwise(pl.lit("0.00"))
    )
    parts = [
        pl.lit("{"),
        *field("principal", _yuan("principal_fen"), quoted=True),
        *field("annual_rate", _ppm_text("rate_ppm"), quoted=True),
        *field("term_months", pl.col("term_months").cast(pl.String), quoted=False),
        *field("start_date", pl.col("start_date").cast(pl.String), quoted=True),
        *field("method", pl.col("method"), quoted=True),
        *field("frequency", pl.col("frequency"), quoted=True),
        *field(
            "repayment_day",
            pl.col("repayment_day").cast(pl.String).fill_null("null"),
            quoted=False,
        ),
        *field("grace_periods", pl.col("grace_periods").cast(pl.String), quoted=False),
        *field("balloon_share", balloon, quoted=True),
        *field("weights", pl.lit("[]"), quoted=False),
        *field("rounding", pl.col("rounding"), quoted=True),
        *field("day_count", pl.col("day_count"), quoted=True),
        *field("interest_basis", pl.lit("periodic"), quoted=True),
        *field("installment_multiple", pl.lit("null"), quoted=False),
        *field("multiple_rounding", pl.lit("ROUND_HALF_UP"), quoted=True),
        *field("fixed_installment", pl.lit("null"), quoted=False),
        *field(
            "upfront_fee",
            pl.when(pl.col("fee_fen") > 0).then(_yuan("fee_fen")).otherwise(pl.lit("0.00")),
            quoted=True,
            last=True,
        ),
    ]
    return pl.concat_str(parts)


# --- writing the book -----------------------------------------------------------------------


def _pg_copy(raw: Any, table: str, frame: pl.DataFrame) -> None:
    """COPY ``frame`` into ``table`` through psycopg, in the caller's transaction."""
    with raw.cursor() as cur:
        statement = f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)"
        with cur.copy(statement) as copy:
            for offset in range(0, frame.height, 500_000):
                buffer = io.BytesIO()
                frame.slice(offset, 500_000).write_csv(buffer, include_header=False)
                copy.write(buffer.getvalue())


def _sqlite_insert(raw: Any, table: str, frame: pl.DataFrame) -> None:
    """executemany in the caller's transaction (dates as ISO text, booleans as 0/1)."""
    frame = frame.with_columns(pl.col(pl.Date).cast(pl.String), pl.col(pl.Boolean).cast(pl.Int64))
    sql = (
        f"INSERT INTO {table} ({', '.join(frame.columns)}) "
        f"VALUES ({', '.join('?' for _ in frame.columns)})"
    )
    cur = raw.cursor()
    for offset in range(0, frame.height, 200_000):
        cur.executemany(sql, frame.slice(offset, 200_000).rows())
    cur.close()


def _engine(url: str) -> Engine:
    return make_engine(url)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB: ``VmHWM`` where /proc has it (Linux).

    ``ru_maxrss`` of a spawned process also counts its parent's peak: Linux carries the maximum
    over the fork and the exec (a child of a 1 GB parent reports 968 MB at start), so it would
    charge the book or the schedule benchmark to the end of day. ``VmHWM`` is the high-water mark
    of the process's own program; ``ru_maxrss`` is the fallback and is reported beside it.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _ru_maxrss_mb()


def _ru_maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def build_book(url: str, n_loans: int, day: date, seed: int) -> dict[str, Any]:
    """Create the schema, import the products and write the book (run in its own process)."""
    began = time.perf_counter()
    engine = _engine(url)
    upgrade(engine)
    import_products(engine)
    pg = engine.dialect.name == "postgresql"
    book = loan_book(n_loans, day, seed=seed)
    generate = write = 0.0
    installments = 0
    states = np.zeros(len(STATES), dtype=np.int64)
    buckets: dict[str, int] = dict.fromkeys(BUCKETS, 0)
    sample: tuple[pl.DataFrame, pl.DataFrame] | None = None
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        if not pg:
            # load settings, for this connection and the load only
            saved = [
                raw.execute(f"PRAGMA {p}").fetchone()[0] for p in ("synchronous", "cache_size")
            ]
            raw.execute("PRAGMA synchronous=OFF")
            raw.execute("PRAGMA cache_size=-262144")  # 256 MB
        with conn.begin():
            if pg and conn.exec_driver_sql("SHOW is_superuser").scalar() == "on":
                # The rows are consistent by construction: skip the per-row foreign-key
                # trigger of the installments (a superuser setting, this transaction only).
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for offset in range(0, n_loans, SLICE):
                t0 = time.perf_counter()
                loan_rows, inst_rows = book_slice(book.slice(offset, SLICE), day)
                t1 = time.perf_counter()
                generate += t1 - t0
                loans_out = loan_rows.select(LOAN_COLUMNS)
                inst_out = inst_rows.select(INSTALLMENT_COLUMNS)
                if pg:
                    _pg_copy(raw, "loans", loans_out.with_columns(pl.col("created_at") + "+00"))
                    _pg_copy(raw, "installments", inst_out)
                else:
                    _sqlite_insert(raw, "loans", loans_out)
                    _sqlite_insert(raw, "installments", inst_out)
                write += time.perf_counter() - t1
                installments += inst_rows.height
                _check_rows(loan_rows, inst_rows)
                # the state each loan is actually in (a loan whose due dates leave no
                # installment in its drawn range stays current)
                actual = np.where(loan_rows["delinquent"], loan_rows["state"], 0)
                states += np.bincount(actual, minlength=len(STATES))
                for b, count in loan_rows["bucket"].value_counts().iter_rows():
                    buckets[b] += count
                if sample is None:
                    head = loan_rows.head(300)
                    sample = (head, inst_rows.filter(pl.col("loan_id") <= head["id"].max()))
                print(
                    f"  built {min(offset + SLICE, n_loans):>10,} / {n_loans:,} loans "
                    f"({time.perf_counter() - began:.0f} s)",
                    flush=True,
                )
        if not pg:
            raw.execute(f"PRAGMA synchronous={saved[0]}")
            raw.execute(f"PRAGMA cache_size={saved[1]}")
    t0 = time.perf_counter()
    if pg:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('loans', 'id'), {n_loans})")
            # what autovacuum does after a bulk load: statistics and the visibility map
            conn.exec_driver_sql("VACUUM (ANALYZE) loans")
            conn.exec_driver_sql("VACUUM (ANALYZE) installments")
            size = conn.exec_driver_sql(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            ).scalar()
    else:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = os.path.getsize(engine.url.database or "")
    settle = time.perf_counter() - t0
    assert sample is not None
    _check_terms(*sample)
    engine.dispose()
    seconds = time.perf_counter() - began
    return {
        "loans": n_loans,
        "installments": installments,
        "build_seconds": seconds,
        "generate_seconds": generate,
        "write_seconds": write,
        "vacuum_analyze_seconds" if pg else "checkpoint_seconds": settle,
        "database_mb": int(size or 0) / 2**20,
        "states": {name: int(c) for name, c in zip(STATES, states, strict=True)},
        "buckets": buckets,
        "peak_rss_mb": _peak_rss_mb(),
        "ru_maxrss_mb": _ru_maxrss_mb(),
    }


def _check_rows(loans: pl.DataFrame, inst: pl.DataFrame) -> None:
    """Every row means what the schema says (checked on the whole book, slice by slice)."""
    col = pl.col
    inst_checks = {
        "principal paid ≤ principal": col("principal_paid_fen") <= col("principal_fen"),
        "interest paid ≤ interest accrued ≤ interest": (
            col("interest_paid_fen") <= col("interest_accrued_fen")
        )
        & (col("interest_accrued_fen") <= col("interest_fen")),
        "penalty and compound equal to what accrued (none paid)": (
            col("penalty_fen") == col("penalty_accrued_fen")
        )
        & (col("compound_fen") == col("compound_accrued_fen")),
        "settled means nothing unpaid": ~col("settled")
        | (
            (col("principal_paid_fen") == col("principal_fen"))
            & (col("interest_paid_fen") == col("interest_fen"))
            & (col("penalty_fen") == 0)
            & (col("compound_fen") == 0)
        ),
        "no negative amount": pl.min_horizontal(col("^.*_fen$")) >= 0,
        "opening = principal + what is left after": col("opening_fen") >= col("principal_fen"),
    }
    for name, ok in inst_checks.items():
        bad = inst.filter(~ok)
        if bad.height:
            raise AssertionError(f"installments: {name} fails for {bad.head(3)}")
    paid = inst.group_by("loan_id").agg(col("principal_paid_fen").sum().alias("paid"))
    loan_checks = {
        "outstanding = principal − principal paid": col("principal_outstanding_fen")
        == col("principal_fen") - col("paid"),
        "outstanding > 0 (no loan is paid off)": col("principal_outstanding_fen") > 0,
        "past due exactly when delinquent": (col("dpd") > 0) == col("delinquent"),
    }
    joined = loans.join(paid, left_on="id", right_on="loan_id", how="left")
    for name, ok in loan_checks.items():
        bad = joined.filter(~ok)
        if bad.height:
            raise AssertionError(f"loans: {name} fails for {bad.head(3)}")


def _check_terms(loans: pl.DataFrame, inst: pl.DataFrame) -> None:
    """The stored terms give the stored schedule (``generate_schedule``, loan by loan)."""
    for row in loans.iter_rows(named=True):
        terms = terms_from_json(json.loads(row["terms"]))
        planned = [
            (i.number, i.start_date, i.due_date, to_cents(i.principal), to_cents(i.interest))
            for i in generate_schedule(terms).installments
        ]
        stored = inst.filter(pl.col("loan_id") == row["id"]).select(
            "number", "start_date", "due_date", "principal_fen", "interest_fen"
        )
        assert planned == stored.rows(), f"loan {row['id']}: terms and installments differ"
        assert row["maturity_date"] == planned[-1][2]


# --- the end of day -------------------------------------------------------------------------


def measure_eod(url: str, day: date, chunk: int) -> dict[str, Any]:
    """Time ``run_day`` twice on the built book (run in its own process)."""
    engine = _engine(url)
    baseline = _peak_rss_mb()

    def count(table: Any, *where: Any) -> int:
        with engine.connect() as conn:
            q = select(func.count()).select_from(table).where(*where)
            return int(conn.execute(q).scalar() or 0)

    active = count(orm.loans, orm.loans.c.status == "active")
    ledger_before = count(orm.ledger_entries)
    first = eod.run_day(engine, day, chunk=chunk)
    ledger_after = count(orm.ledger_entries)
    moved = count(orm.loans, orm.loans.c.last_eod == day)
    second = eod.run_day(engine, day, chunk=chunk)
    ledger_again = count(orm.ledger_entries)
    engine.dispose()
    assert first.loans == active, (first.loans, active)
    assert ledger_after - ledger_before == first.entries, (ledger_after, first.entries)
    assert moved == active, (moved, active)
    assert second.loans == 0, second
    assert second.entries == 0, second
    assert ledger_again == ledger_after
    return {
        "chunk": chunk,
        "loans": first.loans,
        "entries": first.entries,
        "seconds": first.seconds,
        "compute_seconds": first.compute_seconds,
        "loans_per_second": first.loans / first.seconds,
        "compute_loans_per_second": first.loans / first.compute_seconds,
        "second_run_seconds": second.seconds,
        "second_run_loans": second.loans,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": _peak_rss_mb(),
        "ru_maxrss_mb": _ru_maxrss_mb(),
    }


def _in_fresh_process(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """``fn(*args)`` in a new interpreter, so that its peak memory is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


# --- one engine -----------------------------------------------------------------------------


def _pg_admin(url: str) -> Engine:
    return create_engine(normalise_url(url), connect_args={"connect_timeout": 5})


def bench_engine(engine_name: str, args: argparse.Namespace) -> dict[str, Any]:
    tmp: str | None = None
    if engine_name == "sqlite":
        tmp = tempfile.mkdtemp(prefix="bench_eod-", dir="/tmp")
        url = f"sqlite:///{os.path.join(tmp, 'book.db')}"
    elif engine_name == "postgresql":
        admin = _pg_admin(args.pg_url)
        try:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
                conn.execute(text(f'CREATE SCHEMA "{PG_SCHEMA}"'))
        except Exception as exc:  # no server: report and go on with the other engines
            print(f"postgresql: skipped ({str(exc).splitlines()[0]})")
            return {"skipped": str(exc).splitlines()[0]}
        finally:
            admin.dispose()
        sep = "&" if "?" in args.pg_url else "?"
        url = f"{args.pg_url}{sep}options=-csearch_path%3D{PG_SCHEMA}"
    else:
        raise SystemExit(f"unknown engine {engine_name!r} (sqlite, postgresql)")
    try:
        print(f"{engine_name}: building {args.loans:,} loans …", flush=True)
        build = _in_fresh_process(build_book, url, args.loans, BUSINESS_DATE, args.seed)
        print(
            f"{engine_name}: built in {build['build_seconds']:.0f} s; "
            f"end of day {BUSINESS_DATE} (chunk {args.chunk:,}) …",
            flush=True,
        )
        run = _in_fresh_process(measure_eod, url, BUSINESS_DATE, args.chunk)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            admin = _pg_admin(args.pg_url)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
            admin.dispose()
    run["targets_met"] = bool(
        run["compute_loans_per_second"] >= TARGET_COMPUTE_LOANS_PER_SECOND
        and run["loans_per_second"] >= TARGET_END_TO_END_LOANS_PER_SECOND
        and run["peak_rss_mb"] < TARGET_PEAK_MEMORY_MB
    )
    return {"build": build, "eod": run}


# --- report ---------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_table(figures: dict[str, Any]) -> None:
    engines = {k: v for k, v in figures["engines"].items() if "skipped" not in v}
    if not engines:
        return
    names = list(engines)
    width = 22

    def line(label: str, cells: list[str], target: str = "") -> None:
        print(f"{label:<34}" + "".join(f"{c:>{width}}" for c in cells) + f"  {target}")

    print()
    print(
        f"End of day {figures['business_date']} over {figures['loans']:,} active loans "
        f"(chunk {figures['chunk']:,})"
    )
    line("", names, "target")
    line("book: installments", [f"{e['build']['installments']:,}" for e in engines.values()])
    line("book: build (s)", [f"{e['build']['build_seconds']:.1f}" for e in engines.values()])
    line("book: database (MB)", [f"{e['build']['database_mb']:,.0f}" for e in engines.values()])
    line(
        "book: build peak memory (MB)",
        [f"{e['build']['peak_rss_mb']:,.0f}" for e in engines.values()],
    )
    line("EOD: loans", [f"{e['eod']['loans']:,}" for e in engines.values()])
    line("EOD: ledger entries written", [f"{e['eod']['entries']:,}" for e in engines.values()])
    line("EOD: end to end (s)", [f"{e['eod']['seconds']:.1f}" for e in engines.values()])
    line(
        "EOD: end to end loans/s",
        [
            f"{e['eod']['loans_per_second']:,.0f} "
            + _verdict(e["eod"]["loans_per_second"] >= TARGET_END_TO_END_LOANS_PER_SECOND)
            for e in engines.values()
        ],
        f"≥ {TARGET_END_TO_END_LOANS_PER_SECOND:,}",
    )
    line("EOD: compute (s)", [f"{e['eod']['compute_seconds']:.2f}" for e in engines.values()])
    line(
        "EOD: compute loans/s",
        [
            f"{e['eod']['compute_loans_per_second']:,.0f} "
            + _verdict(e["eod"]["compute_loans_per_second"] >= TARGET_COMPUTE_LOANS_PER_SECOND)
            for e in engines.values()
        ],
        f"≥ {TARGET_COMPUTE_LOANS_PER_SECOND:,}",
    )
    line(
        "EOD: peak memory (MB)",
        [
            f"{e['eod']['peak_rss_mb']:,.0f} "
            + _verdict(e["eod"]["peak_rss_mb"] < TARGET_PEAK_MEMORY_MB)
            for e in engines.values()
        ],
        f"< {TARGET_PEAK_MEMORY_MB:,}",
    )
    line(
        "EOD: second run (s, loans)",
        [
            f"{e['eod']['second_run_seconds']:.2f}, {e['eod']['second_run_loans']}"
            for e in engines.values()
        ],
        "0 loans",
    )
    first = next(iter(engines.values()))["build"]
    mix = ", ".join(
        f"{name} {count / figures['loans']:.1%}" for name, count in first["states"].items()
    )
    print(f"book mix on D − 1: {mix}")
    spread = ", ".join(f"{b} {c / figures['loans']:.1%}" for b, c in first["buckets"].items() if c)
    print(f"buckets on D − 1: {spread}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000, help="active loans in the book")
    parser.add_argument(
        "--engines", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, help="loans per EOD chunk")
    parser.add_argument("--seed", type=int, default=20260316)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("XIAOWEI_BENCH_PG_URL", DEFAULT_PG_URL),
        help="PostgreSQL server (the schema bench_eod is created and dropped in it)",
    )
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    figures: dict[str, Any] = {
        "business_date": BUSINESS_DATE.isoformat(),
        "loans": args.loans,
        "chunk": args.chunk,
        "chunks": math.ceil(args.loans / args.chunk),
        "targets": {
            "compute_loans_per_second": TARGET_COMPUTE_LOANS_PER_SECOND,
            "end_to_end_loans_per_second": TARGET_END_TO_END_LOANS_PER_SECOND,
            "peak_memory_mb": TARGET_PEAK_MEMORY_MB,
        },
        "engines": {},
    }
    for name in engines:
        figures["engines"][name] = bench_engine(name, args)
    print_table(figures)
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
