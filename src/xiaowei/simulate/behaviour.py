"""Repayment behaviour of booked loans (还款行为): terms, schedules, payments and outcomes.

Each applicant is given the loan it asked for, as if approved as requested (issue 6 decides who
is approved and for what): the amount and term it requested, clamped to the product's ranges
(SME-OP, 小微企业经营贷, by default), booked on its ``booking_date``. The schedule (还款计划)
is the lending core's own (:func:`xiaowei.lending.schedule_batch.generate_schedules`), so a
loan booked from these terms with :meth:`xiaowei.lending.loan.Loan.book` has the same
installments to the fen.

**Pricing (定价)** uses observable things only: a grid of industry and term (7.2 %–15 %,
:data:`BASE_RATE_PPM` and :func:`term_add_on_ppm`), never the latent PD. Risk-based pricing
from a score is issue 6's.

**Payment paths** render the truth of :mod:`xiaowei.simulate.timing` (``late_prob``,
``precursor_start``, ``default_mob``, ``prepay_mob``, ``recovers``, ``recovery_mob``,
``recovery_share``); the monthly installments of a loan fall due in months on book 1, 2, … so
installment *k* is the one due in month on book *k*:

* before ``default_mob`` an installment is paid on its due date (按时), or, with probability
  ``late_prob`` (raised to ``3·late_prob + 0.15`` in the precursor months before a default,
  the early-warning sign 还款迟缓), it is missed: paid late (逾期后还) by 1–45 days, mostly less
  than 15 (1 + an exponential of mean 6 days, capped at 45), or, for 20 % of the missed ones,
  paid in part (部分还款, 30–80 %) on the due date and topped up late (cured, 逾期后结清).
  A borrower pays its installments in order (the ledger allocates oldest first), so an
  installment is paid no earlier than the one before it: a long delay carries the next
  installments with it and they are paid together.
  Late amounts carry the penalty (罚息) on the overdue principal and the compound interest
  (复利) on the overdue interest, computed as the ledger computes them (the product's penalty
  rate, the grace days, a fen per day rounded), so that they equal what the loan says is due
  on the payment date;
* a prepayer (提前还款) pays everything off at the payment of installment ``prepay_mob``
  (not before the product allows a prepayment, and only if something is left to prepay): the
  principal outstanding, the interest accrued since the last due date, and the product's
  prepayment fee (违约金), rounded up to the fen;
* from ``default_mob`` on nothing is paid (the installment due in that month and all later
  ones are missed) until, for those that recover (清收), month ``recovery_mob`` on book, when
  ``recovery_share`` of what is outstanding (principal plus the interest due) is recovered in
  one to three monthly payments.

Payments after the observation horizon (the last day of the month ``follow_months`` after the
booking month) are not rendered; the outcomes are computed at that horizon by
:func:`outcomes`, a pure function of the observable tables that also answers at any other
horizon. Its two steps, :func:`installments_at` (when each installment was cleared) and
:func:`performance`, take a horizon of each loan's own: the refresh credit report
(:mod:`xiaowei.simulate.credit_report`) shows each loan as of the day before its report date
with them.

**Outcomes** (loan performance, 贷后表现), per loan, at horizon *H*:

* ``dpd``: days past due at *H* (from the oldest installment not cleared by then);
* ``max_dpd``: the largest days past due (逾期天数) the ledger would have shown at any end of
  day up to *H*: for each installment, the days from its due date to the day before it was
  cleared (or *H*), counted only once beyond the product's grace days, as
  :func:`xiaowei.lending.delinquency.days_past_due` does;
* ``ever_30dpd``, ``ever_90dpd``: ``max_dpd ≥ 30`` and ``max_dpd ≥ 90``;
* ``default_12m`` (12 个月违约): some installment due within the first 12 months on book
  (its due month at most 12 months after the booking month) stayed unpaid 90 days or more
  after its due date by *H*, i.e. the loan reached 90+ DPD from a missed installment of its
  first year. The flag is final only when every such installment is either cleared or 90 days
  past its due date at *H* (``default_12m_final``); with ``follow_months = 12`` defaults first
  missed in months 10–12 have not yet reached 90 days, and ``follow_months ≥ 16`` is needed
  for the flag to be final for every loan;
* recoveries are not credited to installments: a defaulted loan stays in default at any later
  horizon (a recovery reduces the loss given default, it does not cure the loan). The ledger,
  which takes a non-performing loan's cash principal first, may show fewer days past due after
  a large recovery than ``dpd`` and ``max_dpd`` here;
* ``prepaid``, ``recovered_fen``, ``paid_fen``, ``principal_outstanding_fen`` (principal of the
  installments not cleared, less recoveries, which a non-performing loan takes as principal
  first) and ``closed``.

Tables: ``loans/loans`` (the terms), ``loans/schedule``, ``loans/repayments``,
``loans/outcomes``; truth ``loans/behaviour`` (path type, default and prepayment installments,
recovery plan). Random draws come from each business's own streams (``Stream.LOAN_TERMS`` for
the repayment method, ``Stream.BEHAVIOUR`` for the path), so a loan renders the same bytes
whatever the chunk it falls in.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import polars as pl

from xiaowei.core.daycount import DayCount
from xiaowei.core.money import RoundingMode, to_cents
from xiaowei.lending.catalogue import load_catalogue
from xiaowei.lending.product import LoanProduct
from xiaowei.lending.schedule import Frequency, RepaymentMethod
from xiaowei.lending.schedule_batch import generate_schedules, round_quotient
from xiaowei.simulate.output import Rendered
from xiaowei.simulate.random import Stream
from xiaowei.simulate.world import Chunk

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

PPM = 1_000_000
MAX_PERIODS = 36  # longest term simulated (months); the per-business draws are this wide
# Yearly rate by industry (ppm): the observable part of a price grid; riskier sectors pay more.
BASE_RATE_PPM: dict[str, int] = {
    "manufacturing": 72_000,
    "trade": 78_000,
    "service": 84_000,
    "agriculture": 96_000,
    "ecommerce": 102_000,
    "catering": 114_000,
}
DEFAULT_BASE_RATE_PPM = 90_000  # an industry outside the grid
PARTIAL_SHARE = 0.2  # missed installments paid in part on the due date, then topped up
DELAY_MEAN_DAYS = 6.0  # exponential part of a late payment's delay
MAX_DELAY_DAYS = 45
PRECURSOR_LATE_FACTOR = 3.0
PRECURSOR_LATE_ADD = 0.15
DEFAULT_DPD = 90
DEFAULT_WINDOW_MONTHS = 12
_NEVER = np.int64(2**40)  # a day number later than any horizon
# Layout of a business's behaviour draws: rows of MAX_PERIODS uniforms, then scalars.
_ROW_MISS, _ROW_PARTIAL, _ROW_DELAY, _ROW_SHARE = range(4)
_ROWS = 4
_SCALARS = 3  # recovery day of month, number of recovery payments, spare
_EPOCH = date(1970, 1, 1)


class PaymentKind(StrEnum):
    """What a payment was (还款类型)."""

    SCHEDULED = "scheduled"  # on the due date, exactly the installment (按时还款)
    LATE = "late"  # after the due date, with penalty beyond the grace days (逾期还款)
    PARTIAL = "partial"  # part of an installment on its due date (部分还款)
    PREPAYMENT = "prepayment"  # the rest of the loan, before maturity (提前还款)
    RECOVERY = "recovery"  # collected after default (清收回款)


class PathType(StrEnum):
    """A loan's path, most serious first when several apply (还款路径)."""

    ON_TIME = "on-time"
    LATE = "late"
    PARTIAL = "partial"
    PREPAY = "prepay"
    DEFAULT = "default"
    RECOVERED = "recovered"


PATH_ORDER: tuple[PathType, ...] = tuple(PathType)
_KIND_ORDER = {k.value: i for i, k in enumerate(PaymentKind)}

LOAN_SCHEMA = {
    "loan_id": pl.Int64,
    "business_id": pl.Int64,
    "product_code": pl.Utf8,
    "principal_fen": pl.Int64,
    "rate_ppm": pl.Int64,
    "term_months": pl.Int64,
    "start_date": pl.Date,
    "method": pl.Utf8,
    "frequency": pl.Utf8,
    "repayment_day": pl.Int64,
    "grace_periods": pl.Int64,
}
REPAYMENT_SCHEMA = {
    "loan_id": pl.Int64,
    "business_id": pl.Int64,
    "installment": pl.Int32,
    "due_date": pl.Date,
    "pay_date": pl.Date,
    "amount_fen": pl.Int64,
    "penalty_fen": pl.Int64,
    "kind": pl.Utf8,
}


@lru_cache(maxsize=8)
def catalogue_product(code: str) -> LoanProduct:
    """The latest version of ``code`` in the packaged catalogue (产品目录)."""
    found = [p for p in load_catalogue() if p.code == code]
    if not found:
        raise KeyError(f"no product {code} in the catalogue")
    return max(found, key=lambda p: p.version)


def term_add_on_ppm(term: I64) -> I64:
    """Term premium of the price grid (期限溢价): longer money costs more."""
    add: I64 = np.select(
        [term <= 6, term <= 12, term <= 24], [0, 6_000, 18_000], default=36_000
    ).astype(np.int64)
    return add


def _ppm(value: Decimal) -> int:
    """A rate or share as integer parts per million (exact: products keep six decimals)."""
    return int((value * PPM).to_integral_value())


# --- terms ------------------------------------------------------------------------------------


def loan_terms(chunk: Chunk) -> pl.DataFrame:
    """The loan each applicant of ``chunk`` gets (贷款条件), one row per business.

    As if approved as requested: ``principal_fen`` is the requested amount and ``term_months``
    the requested term, each clamped to the product's range; ``rate_ppm`` is the grid price of
    industry and term, clamped to the product's rate range; ``start_date`` the booking date.
    Repayment method (还款方式): 等额本息 (equal installments) for most, 等额本金 (equal
    principal) for some, 先息后本 (interest only, principal at maturity) for a third of the
    12-month loans of traders and online shops (who turn stock over) and a tenth of the other
    12-month loans. Monthly, on the product's repayment day, without grace periods.
    """
    product = catalogue_product(chunk.config.product_code)
    b = chunk.businesses.join(
        chunk.timeline.select("business_id", "booking_date"), on="business_id"
    ).sort("business_id")
    ids = b["business_id"].to_numpy().astype(np.int64)
    amount_min, amount_max = to_cents(product.amount_min), to_cents(product.amount_max)
    principal = np.clip(b["requested_amount_fen"].to_numpy(), amount_min, amount_max)
    term = np.clip(
        b["requested_term"].to_numpy().astype(np.int64),
        product.term_min,
        min(product.term_max, MAX_PERIODS),
    )
    industry = b["industry"].to_list()
    base = np.array([BASE_RATE_PPM.get(i, DEFAULT_BASE_RATE_PPM) for i in industry], np.int64)
    rate = np.clip(base + term_add_on_ppm(term), _ppm(product.rate_min), _ppm(product.rate_max))

    roll = np.array([chunk.rng(int(i), Stream.LOAN_TERMS).random() for i in ids])
    turns_stock = np.isin(np.array(industry, dtype=object), ["trade", "ecommerce"])
    interest_only_share = np.where(term == 12, np.where(turns_stock, 0.33, 0.10), 0.0)
    method = np.where(
        roll < interest_only_share,
        RepaymentMethod.INTEREST_ONLY.value,
        np.where(
            roll < interest_only_share + 0.18,
            RepaymentMethod.EQUAL_PRINCIPAL.value,
            RepaymentMethod.EQUAL_INSTALLMENT.value,
        ),
    )
    offered = [m.value for m in product.methods]
    method = np.where(np.isin(method, offered), method, offered[0])
    return pl.DataFrame(
        {
            "loan_id": ids,
            "business_id": ids,
            "product_code": [product.code] * len(ids),
            "principal_fen": principal.astype(np.int64),
            "rate_ppm": rate.astype(np.int64),
            "term_months": term,
            "start_date": b["booking_date"],
            "method": method.astype(str).tolist(),
            "frequency": [Frequency.MONTHLY.value] * len(ids),
            "repayment_day": np.full(len(ids), product.repayment_day or 0, np.int64),
            "grace_periods": np.zeros(len(ids), np.int64),
        },
        schema=LOAN_SCHEMA,
    ).with_columns(
        pl.when(pl.col("repayment_day") > 0).then(pl.col("repayment_day")).otherwise(None)
    )


def schedules(loans: pl.DataFrame, product: LoanProduct) -> pl.DataFrame:
    """The repayment schedules of ``loans`` under ``product`` (vectorised, to the fen).

    Periodic interest (月利率 = 年利率 / 12) with the product's rounding and day count of the
    broken first period, as the loans are booked (``ScheduleTerms`` with those fields).
    """
    frame = loans.with_columns(
        pl.lit(product.rounding.value).alias("rounding"),
        pl.lit(product.day_count.value).alias("day_count"),
    )
    return generate_schedules(frame)


# --- paths ------------------------------------------------------------------------------------


def _days(series: pl.Series) -> I64:
    out: I64 = series.cast(pl.Date).to_physical().to_numpy().astype(np.int64)
    return out


def _month_end_day(month_index: I64) -> I64:
    """Day number (since 1970-01-01) of the last day of absolute month ``month_index``."""
    months_since_1970 = month_index - 1970 * 12
    first_next = (months_since_1970 + 1).astype("datetime64[M]").astype("datetime64[D]")
    out: I64 = first_next.astype(np.int64) - 1
    return out


def _month_day(month_index: I64, day: I64) -> I64:
    """Day number of day ``day`` (1–28) of absolute month ``month_index``."""
    first = (month_index - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    out: I64 = first.astype(np.int64) + day - 1
    return out


def _month_of_day(day: I64) -> I64:
    """Absolute month index (year × 12 + month − 1) of each day number."""
    out: I64 = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
    return out


def horizon_days(start: I64, months: int) -> I64:
    """Observation horizon: the last day of the month ``months`` after the start month."""
    return _month_end_day(_month_of_day(start) + months)


class _Grid:
    """A chunk's loans as ``[loan, installment]`` arrays (padded to the longest term)."""

    def __init__(self, loans: pl.DataFrame, schedule: pl.DataFrame) -> None:
        counts = (
            schedule.group_by("loan_id", maintain_order=True)
            .len()
            .join(loans.select("loan_id"), on="loan_id", how="right")["len"]
            .fill_null(0)
            .to_numpy()
            .astype(np.int64)
        )
        self.n = counts
        offsets = np.zeros(len(counts), dtype=np.int64)
        np.cumsum(counts[:-1], out=offsets[1:])
        width = max(int(counts.max()) if len(counts) else 1, 1)
        self.width = width
        j = np.arange(width, dtype=np.int64)
        self.valid: Bools = j[np.newaxis, :] < counts[:, np.newaxis]
        last = np.maximum(counts, 1)[:, np.newaxis] - 1
        rows = offsets[:, np.newaxis] + np.minimum(j[np.newaxis, :], last)
        self.mob: I64 = np.broadcast_to(j + 1, (len(counts), width)).copy()
        self.due = _days(schedule["due_date"])[rows]
        self.principal = schedule["principal_fen"].to_numpy().astype(np.int64)[rows]
        self.interest = schedule["interest_fen"].to_numpy().astype(np.int64)[rows]
        self.balance = schedule["balance_fen"].to_numpy().astype(np.int64)[rows]


def _draws(chunk: Chunk, ids: I64) -> tuple[F64, F64]:
    """Each business's behaviour uniforms: ``[business, row, installment]`` and scalars."""
    size = _ROWS * MAX_PERIODS + _SCALARS
    block = np.empty((len(ids), size), dtype=np.float64)
    for k, business_id in enumerate(ids.tolist()):
        block[k] = chunk.rng(business_id, Stream.BEHAVIOUR).random(size)
    rows = block[:, : _ROWS * MAX_PERIODS].reshape(len(ids), _ROWS, MAX_PERIODS)
    return rows, block[:, _ROWS * MAX_PERIODS :]


def _null_to(series: pl.Series, value: int) -> I64:
    out: I64 = series.fill_null(value).to_numpy().astype(np.int64)
    return out


def _penalty(
    principal: I64, interest: I64, days: I64, penalty_ppm: I64, product: LoanProduct
) -> I64:
    """Penalty (罚息) and compound interest (复利) of ``days`` overdue days, as the ledger's
    end of day charges them: each day's amount rounded to the fen."""
    half_even = np.full(principal.shape, product.rounding is RoundingMode.HALF_EVEN)
    denominator = product.day_count.year_days * PPM
    per_day = round_quotient(principal * penalty_ppm, denominator, half_even=half_even)
    if product.compound_interest:
        per_day = per_day + round_quotient(interest * penalty_ppm, denominator, half_even=half_even)
    out: I64 = days * per_day
    return out


def payment_paths(
    chunk: Chunk, loans: pl.DataFrame, schedule: pl.DataFrame, product: LoanProduct
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every payment of every loan up to its horizon, and the truth of each path.

    Returns ``(repayments, truth)``; see the module docstring for the rules.
    """
    if product.day_count is DayCount.THIRTY_360:
        raise ValueError("payment paths count actual days; a 30/360 product is not supported")
    tl = loans.select("loan_id", "business_id", "start_date", "rate_ppm").join(
        chunk.timeline, on="business_id", how="left", maintain_order="left"
    )
    ids = tl["business_id"].to_numpy().astype(np.int64)
    loan_ids = tl["loan_id"].to_numpy().astype(np.int64)
    g = _Grid(loans, schedule)
    w = g.width
    n_loans = len(ids)
    u, scalars = _draws(chunk, ids)
    u = u[:, :, :w]
    grace = product.overdue_grace_days
    start = _days(tl["start_date"])
    booking_month = _month_of_day(start)
    horizon = horizon_days(start, chunk.config.follow_months)
    rate = tl["rate_ppm"].to_numpy().astype(np.int64)
    markup = _ppm(product.penalty_markup)
    penalty_ppm = round_quotient(
        rate * (PPM + markup), PPM, half_even=np.zeros(n_loans, dtype=np.bool_)
    )[:, np.newaxis]

    # Truth of the timeline.
    default_mob = _null_to(tl["default_mob"], 10**6)[:, np.newaxis]
    defaulted = default_mob[:, 0] <= g.n
    default_month = _null_to(tl["default_month"], 10**9)[:, np.newaxis]
    precursor = _null_to(tl["precursor_start"], 10**9)[:, np.newaxis]
    late_prob = tl["late_prob"].to_numpy().astype(np.float64)[:, np.newaxis]

    # Which installments are paid, when, and whether in part first.
    due_month = booking_month[:, np.newaxis] + g.mob
    warning = (due_month >= precursor) & (due_month < default_month)
    prob = np.where(
        warning, np.minimum(PRECURSOR_LATE_FACTOR * late_prob + PRECURSOR_LATE_ADD, 0.9), late_prob
    )
    paid = g.valid & (g.mob < default_mob)
    missed = paid & (u[:, _ROW_MISS] < prob)
    delay = np.minimum(
        1 + np.floor(-np.log1p(-u[:, _ROW_DELAY]) * DELAY_MEAN_DAYS).astype(np.int64),
        MAX_DELAY_DAYS,
    )
    own = np.where(paid, g.due + np.where(missed, delay, 0), -_NEVER)
    pay = np.maximum.accumulate(own, axis=1)
    before = np.concatenate([np.full((n_loans, 1), -_NEVER), pay[:, :-1]], axis=1)
    partial = missed & (u[:, _ROW_PARTIAL] < PARTIAL_SHARE) & (before <= g.due)

    # Prepayment: at the payment of installment prepay_mob, when allowed and not the last.
    allowed = max(product.prepayment.allowed_after_months, 1)
    prepay_mob = _null_to(tl["prepay_mob"], 0)
    can_prepay = (prepay_mob > 0) & ~defaulted & (g.n - 1 >= allowed)
    p_mob = np.clip(prepay_mob, allowed, np.maximum(g.n - 1, allowed))
    rows = np.arange(n_loans)
    event_day = np.where(can_prepay, pay[rows, np.clip(p_mob - 1, 0, w - 1)], _NEVER)
    in_event = (
        can_prepay[:, None] & g.valid & (g.mob >= p_mob[:, None]) & (g.due <= event_day[:, None])
    )
    pay = np.where(in_event, event_day[:, None], pay)
    partial &= ~(in_event & (g.mob > p_mob[:, None]))
    last_paid = np.where(in_event, g.mob, 0).max(axis=1)
    prepays = can_prepay & (last_paid < g.n)
    paid &= ~(prepays[:, None] & (g.mob > last_paid[:, None]))
    partial &= paid

    # Amounts: the partial part on the due date, then the rest with its penalty.
    total = g.principal + g.interest
    share_milli = 300 + np.floor(500 * u[:, _ROW_SHARE]).astype(np.int64)
    part = np.clip(
        round_quotient(total * share_milli, 1000, half_even=np.zeros(total.shape, np.bool_)),
        1,
        np.maximum(total - 1, 1),
    )
    part = np.where(partial, part, 0)
    interest_left = np.maximum(g.interest - part, 0)
    principal_left = g.principal - np.maximum(part - g.interest, 0)
    overdue = pay - 1 - g.due
    days = np.where(overdue > grace, overdue, 0)
    penalty = np.where(paid, _penalty(principal_left, interest_left, days, penalty_ppm, product), 0)
    amount = principal_left + interest_left + penalty
    kind_main = np.where(pay > g.due, PaymentKind.LATE.value, PaymentKind.SCHEDULED.value)

    frames = [
        _rows(loan_ids, ids, (g.mob, g.due), pay, amount, penalty, kind_main, paid),
        _rows(
            loan_ids,
            ids,
            (g.mob, g.due),
            g.due,
            part,
            np.zeros_like(part),
            np.full(part.shape, PaymentKind.PARTIAL.value),
            partial,
        ),
    ]

    # The prepayment: principal left, interest accrued since the last due date, the fee.
    last_col = np.clip(last_paid - 1, 0, w - 1)
    next_col = np.clip(last_paid, 0, w - 1)
    left = g.balance[rows, last_col]
    last_due = g.due[rows, last_col]
    accrued = np.where(
        event_day > last_due,
        np.minimum(
            round_quotient(
                left * rate * np.maximum(event_day - last_due, 0),
                product.day_count.year_days * PPM,
                half_even=np.full(n_loans, product.rounding is RoundingMode.HALF_EVEN),
            ),
            g.interest[rows, next_col],
        ),
        0,
    )
    fee_ppm = _ppm(product.prepayment.fee_rate)
    fee = -((-left * fee_ppm) // PPM)  # rounded up: the ledger's fee never exceeds it
    prepay_amount = left + accrued + fee
    frames.append(
        _rows(
            loan_ids,
            ids,
            None,
            event_day[:, None],
            prepay_amount[:, None],
            np.zeros((n_loans, 1), np.int64),
            np.full((n_loans, 1), PaymentKind.PREPAYMENT.value),
            prepays[:, None],
        )
    )

    # Recovery (清收): a share of what is outstanding, in one to three monthly payments.
    recovers = tl["recovers"].fill_null(value=False).to_numpy() & defaulted
    recovery_mob = _null_to(tl["recovery_mob"], 0)
    share_milli_rec = np.round(tl["recovery_share"].fill_null(0.0).to_numpy() * 1000).astype(
        np.int64
    )
    # Not before the loan is non-performing (90+ DPD): the loan reached default first, and the
    # principal-first allocation of a non-performing loan (the product's rule) applies.
    drawn_day = 1 + np.floor(scalars[:, 0] * 28).astype(np.int64)
    default_due = g.due[rows, np.clip(default_mob[:, 0] - 1, 0, w - 1)]
    first_day = np.maximum(
        _month_day(booking_month + recovery_mob, drawn_day), default_due + DEFAULT_DPD + 1
    )
    first_month = _month_of_day(first_day)
    day_of_month = np.minimum(first_day - _month_day(first_month, np.ones_like(first_day)) + 1, 28)
    unpaid = g.valid & (g.mob >= default_mob)
    principal_left_def = np.where(unpaid, g.principal, 0).sum(axis=1)
    interest_due = np.where(unpaid & (g.due <= first_day[:, None]), g.interest, 0).sum(axis=1)
    recovered_total = round_quotient(
        (principal_left_def + interest_due) * share_milli_rec,
        1000,
        half_even=np.zeros(n_loans, np.bool_),
    )
    recovers &= recovered_total > 0
    pieces = 1 + (scalars[:, 1] >= 0.6).astype(np.int64) + (scalars[:, 1] >= 0.85)
    k = np.arange(3, dtype=np.int64)[np.newaxis, :]
    each = recovered_total // pieces
    rec_amount = np.where(
        k == (pieces - 1)[:, None], recovered_total[:, None] - each[:, None] * k, each[:, None]
    )
    rec_day = np.where(
        k == 0,
        first_day[:, None],
        _month_day(first_month[:, None] + k, day_of_month[:, None]),
    )
    frames.append(
        _rows(
            loan_ids,
            ids,
            None,
            rec_day,
            rec_amount,
            np.zeros_like(rec_amount),
            np.full(rec_amount.shape, PaymentKind.RECOVERY.value),
            recovers[:, None] & (k < pieces[:, None]),
        )
    )

    horizon_frame = pl.DataFrame(
        {"loan_id": loan_ids, "_horizon": pl.Series(horizon.astype(np.int32)).cast(pl.Date)}
    )
    every = pl.concat(frames)
    repayments = (
        every.join(horizon_frame, on="loan_id")
        .filter(pl.col("pay_date") <= pl.col("_horizon"))
        .drop("_horizon")
        .with_columns(pl.col("kind").replace_strict(_KIND_ORDER, return_dtype=pl.Int8).alias("_k"))
        .sort(["loan_id", "pay_date", "installment", "_k"], nulls_last=True, maintain_order=True)
        .drop("_k")
    )

    default_col = np.clip(default_mob[:, 0] - 1, 0, w - 1)
    truth = pl.DataFrame(
        {
            "loan_id": loan_ids,
            "business_id": ids,
            "horizon": pl.Series(horizon.astype(np.int32)).cast(pl.Date),
            "late_prob": tl["late_prob"],
            "default_installment": pl.Series(
                np.where(defaulted, default_mob[:, 0], 0), dtype=pl.Int32
            ),
            "default_due_date": pl.Series(
                np.where(defaulted, g.due[rows, default_col], 0).astype(np.int32)
            ).cast(pl.Date),
            "defaulted": defaulted,
            "prepay_installment": pl.Series(np.where(prepays, p_mob, 0), dtype=pl.Int32),
            "prepayment_date": pl.Series(np.where(prepays, event_day, 0).astype(np.int32)).cast(
                pl.Date
            ),
            "prepays": prepays,
            "recovery_date": pl.Series(np.where(recovers, first_day, 0).astype(np.int32)).cast(
                pl.Date
            ),
            "recovery_plan_fen": np.where(recovers, recovered_total, 0),
            "recovers": recovers,
        }
    ).with_columns(
        [
            pl.when(pl.col(flag)).then(pl.col(c)).otherwise(None).alias(c)
            for flag, cols in (
                ("defaulted", ("default_installment", "default_due_date")),
                ("prepays", ("prepay_installment", "prepayment_date")),
                ("recovers", ("recovery_date",)),
            )
            for c in cols
        ]
    )
    paths = classify_paths(truth, every)
    truth = truth.join(paths, on="loan_id", how="left", maintain_order="left").select(
        "loan_id",
        "business_id",
        "path",
        "horizon",
        "late_prob",
        "default_installment",
        "default_due_date",
        "prepay_installment",
        "prepayment_date",
        "recovery_date",
        "recovery_plan_fen",
    )
    return repayments, truth


def _rows(
    loan_ids: I64,
    ids: I64,
    installment: tuple[I64, I64] | None,
    pay_day: I64,
    amount: I64,
    penalty: I64,
    kind: npt.NDArray[np.str_],
    mask: Bools,
) -> pl.DataFrame:
    """The payments where ``mask`` holds, one row each, from ``[loan, slot]`` arrays;
    ``installment`` is the (number, due day) of the installment each slot is aimed at."""
    loan_index, slot = np.nonzero(mask)
    if installment is not None:
        number = pl.Series(installment[0][loan_index, slot], dtype=pl.Int32)
        due = pl.Series(installment[1][loan_index, slot].astype(np.int32)).cast(pl.Date)
    else:
        number = pl.Series([None] * len(slot), dtype=pl.Int32)
        due = pl.Series([None] * len(slot), dtype=pl.Date)
    return pl.DataFrame(
        {
            "loan_id": loan_ids[loan_index],
            "business_id": ids[loan_index],
            "installment": number,
            "due_date": due,
            "pay_date": pl.Series(pay_day[loan_index, slot].astype(np.int32)).cast(pl.Date),
            "amount_fen": amount[loan_index, slot].astype(np.int64),
            "penalty_fen": penalty[loan_index, slot].astype(np.int64),
            "kind": kind[loan_index, slot].astype(str).tolist(),
        },
        schema=REPAYMENT_SCHEMA,
    )


def classify_paths(
    truth: pl.DataFrame, repayments: pl.DataFrame, *, as_of: date | None = None
) -> pl.DataFrame:
    """``loan_id, path``: each loan's path type by ``as_of`` (default: its own ``horizon``).

    Most serious first: recovered (a recovery paid), default (its first never-paid installment
    due), prepay (prepaid), partial (an installment paid in part), late (an installment due
    before the cut-off paid after its due date, even if the payment comes after the cut-off),
    on-time.
    """
    cutoff = pl.lit(as_of, dtype=pl.Date) if as_of is not None else pl.col("horizon")
    late = pl.col("kind") == PaymentKind.LATE.value
    seen = (
        repayments.join(truth.select("loan_id", "horizon"), on="loan_id")
        .filter((pl.col("pay_date") <= cutoff) | (late & (pl.col("due_date") < cutoff)))
        .group_by("loan_id")
        .agg(
            [
                (pl.col("kind") == k.value).any().alias(k.value)
                for k in (
                    PaymentKind.RECOVERY,
                    PaymentKind.PREPAYMENT,
                    PaymentKind.PARTIAL,
                    PaymentKind.LATE,
                )
            ]
        )
    )
    flags = truth.select("loan_id", "default_due_date", "horizon").join(
        seen, on="loan_id", how="left", maintain_order="left"
    )
    return flags.select(
        "loan_id",
        pl.when(pl.col("recovery").fill_null(value=False))
        .then(pl.lit(PathType.RECOVERED.value))
        .when(pl.col("default_due_date") <= cutoff)
        .then(pl.lit(PathType.DEFAULT.value))
        .when(pl.col("prepayment").fill_null(value=False))
        .then(pl.lit(PathType.PREPAY.value))
        .when(pl.col("partial").fill_null(value=False))
        .then(pl.lit(PathType.PARTIAL.value))
        .when(pl.col("late").fill_null(value=False))
        .then(pl.lit(PathType.LATE.value))
        .otherwise(pl.lit(PathType.ON_TIME.value))
        .alias("path"),
    )


# --- outcomes ---------------------------------------------------------------------------------


def outcomes(
    loans: pl.DataFrame,
    schedule: pl.DataFrame,
    repayments: pl.DataFrame,
    *,
    horizon_months: int | None = None,
    as_of: date | None = None,
    grace_days: int = 3,
) -> pl.DataFrame:
    """Loan performance (贷后表现) observed at a horizon, from the observable tables only.

    The horizon is the last day of the month ``horizon_months`` after each loan's start month,
    or the calendar date ``as_of`` for every loan (loans starting after it are left out).
    Payments after the horizon are ignored. An installment is cleared on the day the payments
    aimed at it reach its principal and interest, or, when a prepayment comes before its due
    date, on the prepayment's day; recoveries clear no installment (a recovered loan stays in
    default). See the module docstring for the columns; :func:`installments_at` and
    :func:`performance` are the two steps, for a horizon of each loan's own.
    """
    if (horizon_months is None) == (as_of is None):
        raise ValueError("give exactly one of horizon_months and as_of")
    start = _days(loans["start_date"])
    if as_of is not None:
        h = np.full(len(start), (as_of - _EPOCH).days, dtype=np.int64)
    else:
        assert horizon_months is not None
        h = horizon_days(start, horizon_months)
    horizon = loans.select("loan_id", "business_id", "start_date").with_columns(
        pl.Series("horizon", h.astype(np.int32)).cast(pl.Date)
    )
    if as_of is not None:
        horizon = horizon.filter(pl.col("start_date") <= pl.col("horizon"))
    return performance(installments_at(schedule, repayments, horizon), grace_days=grace_days)


class Clearing(NamedTuple):
    """Installments and loans as seen at each loan's horizon (:func:`installments_at`).

    ``installments``: ``loan_id, installment, due_date, principal_fen, interest_fen,
    business_id, start_date, horizon, cleared_date`` (the day the installment was cleared, by
    its own payments or by a prepayment; null if not by the horizon), ``installment_paid_fen``
    (paid towards it by the horizon; null if nothing), ``prepaid_date``. ``loans``: ``loan_id,
    prepaid_date, recovered_fen, paid_fen`` (only loans with a payment by their horizon).
    """

    installments: pl.DataFrame
    loans: pl.DataFrame


def installments_at(
    schedule: pl.DataFrame, repayments: pl.DataFrame, horizon: pl.DataFrame
) -> Clearing:
    """When each installment of the loans of ``horizon`` was cleared (结清), up to each loan's
    own ``horizon`` date (``horizon``: ``loan_id, business_id, start_date, horizon``).

    A pure function of the observable tables: payments after the horizon are ignored; an
    installment is cleared on the day the payments aimed at it reach its principal and
    interest, or, when a prepayment comes before its due date, on the prepayment's day;
    recoveries clear no installment.
    """
    seen = repayments.join(horizon.select("loan_id", "horizon"), on="loan_id").filter(
        pl.col("pay_date") <= pl.col("horizon")
    )
    aimed = (
        seen.filter(pl.col("installment").is_not_null())
        .sort(["loan_id", "installment", "pay_date"], maintain_order=True)
        .with_columns(pl.col("amount_fen").cum_sum().over("loan_id", "installment").alias("_cum"))
    )
    inst = schedule.select(
        "loan_id",
        pl.col("number").cast(pl.Int32).alias("installment"),
        "due_date",
        "principal_fen",
        "interest_fen",
    )
    cleared = (
        aimed.join(inst, on=["loan_id", "installment"])
        .filter(pl.col("_cum") >= pl.col("principal_fen") + pl.col("interest_fen"))
        .group_by("loan_id", "installment")
        .agg(pl.col("pay_date").min().alias("cleared_date"))
    )
    paid_on = aimed.group_by("loan_id", "installment").agg(
        pl.col("amount_fen").sum().alias("installment_paid_fen")
    )
    per_loan = seen.group_by("loan_id").agg(
        pl.col("pay_date")
        .filter(pl.col("kind") == PaymentKind.PREPAYMENT.value)
        .min()
        .alias("prepaid_date"),
        pl.col("amount_fen")
        .filter(pl.col("kind") == PaymentKind.RECOVERY.value)
        .sum()
        .alias("recovered_fen"),
        pl.col("amount_fen").sum().alias("paid_fen"),
    )
    grid = (
        inst.join(horizon, on="loan_id")
        .join(cleared, on=["loan_id", "installment"], how="left")
        .join(paid_on, on=["loan_id", "installment"], how="left")
        .join(per_loan.select("loan_id", "prepaid_date"), on="loan_id", how="left")
        .with_columns(
            pl.when(
                pl.col("cleared_date").is_null()
                & pl.col("prepaid_date").is_not_null()
                & (pl.col("due_date") > pl.col("prepaid_date"))
            )
            .then(pl.col("prepaid_date"))
            .otherwise(pl.col("cleared_date"))
            .alias("cleared_date")
        )
    )
    return Clearing(grid, per_loan)


def performance(clearing: Clearing, *, grace_days: int = 3) -> pl.DataFrame:
    """The columns of :func:`outcomes` (days past due, defaults, balances) from a
    :class:`Clearing`, each loan at its own horizon."""
    grid, per_loan = clearing
    last_unpaid_day = pl.min_horizontal(
        pl.col("cleared_date").fill_null(pl.col("horizon") + pl.duration(days=1))
        - pl.duration(days=1),
        pl.col("horizon"),
    )
    late = (last_unpaid_day - pl.col("due_date")).dt.total_days()
    mob = (pl.col("due_date").dt.year() - pl.col("start_date").dt.year()) * 12 + (
        pl.col("due_date").dt.month().cast(pl.Int32)
        - pl.col("start_date").dt.month().cast(pl.Int32)
    )
    is_cleared = pl.col("cleared_date").is_not_null()
    grid = grid.with_columns(
        pl.when((pl.col("due_date") <= pl.col("horizon")) & (late > grace_days))
        .then(late)
        .otherwise(0)
        .alias("_dpd"),
        pl.when(
            (pl.col("due_date") <= pl.col("horizon"))
            & pl.col("cleared_date").is_null()
            & ((pl.col("horizon") - pl.col("due_date")).dt.total_days() > grace_days)
        )
        .then((pl.col("horizon") - pl.col("due_date")).dt.total_days())
        .otherwise(0)
        .alias("_dpd_now"),
        (mob <= DEFAULT_WINDOW_MONTHS).alias("_first_year"),
        is_cleared.alias("_is_cleared"),
        pl.when(is_cleared)
        .then(0)
        .otherwise(
            pl.col("principal_fen")
            - (pl.col("installment_paid_fen").fill_null(0) - pl.col("interest_fen"))
            .clip(0, None)
            .clip(None, pl.col("principal_fen"))
        )
        .alias("_principal_left"),
    )
    resolved = pl.col("_is_cleared") | (
        (pl.col("horizon") - pl.col("due_date")).dt.total_days() >= DEFAULT_DPD
    )
    out = (
        grid.group_by("loan_id", maintain_order=True)
        .agg(
            pl.col("business_id").first(),
            pl.col("start_date").first(),
            pl.col("horizon").first(),
            pl.col("_dpd").max().alias("max_dpd"),
            pl.col("_dpd_now").max().alias("dpd"),
            ((pl.col("_dpd") >= DEFAULT_DPD) & pl.col("_first_year")).any().alias("default_12m"),
            (resolved | ~pl.col("_first_year")).all().alias("default_12m_final"),
            pl.col("_is_cleared").all().alias("closed"),
            pl.col("_principal_left").sum().alias("_principal_left"),
        )
        .join(per_loan, on="loan_id", how="left")
        .with_columns(
            pl.col("recovered_fen").fill_null(0),
            pl.col("paid_fen").fill_null(0),
        )
    )
    return out.select(
        "loan_id",
        "business_id",
        "horizon",
        (
            (pl.col("horizon").dt.year() - pl.col("start_date").dt.year()) * 12
            + pl.col("horizon").dt.month().cast(pl.Int64)
            - pl.col("start_date").dt.month().cast(pl.Int64)
        )
        .cast(pl.Int64)
        .alias("months_observed"),
        pl.col("dpd").cast(pl.Int64),
        pl.col("max_dpd").cast(pl.Int64),
        (pl.col("max_dpd") >= 30).alias("ever_30dpd"),
        (pl.col("max_dpd") >= DEFAULT_DPD).alias("ever_90dpd"),
        "default_12m",
        (pl.col("default_12m") | pl.col("default_12m_final")).alias("default_12m_final"),
        pl.col("prepaid_date").is_not_null().alias("prepaid"),
        pl.col("recovered_fen").cast(pl.Int64),
        pl.col("paid_fen").cast(pl.Int64),
        (pl.col("_principal_left") - pl.col("recovered_fen"))
        .clip(0, None)
        .cast(pl.Int64)
        .alias("principal_outstanding_fen"),
        "closed",
    )


# --- the renderer -----------------------------------------------------------------------------


def render(chunk: Chunk) -> Rendered:
    """Loans, schedules, repayments and outcomes of the chunk's businesses (see module doc)."""
    product = catalogue_product(chunk.config.product_code)
    loans = loan_terms(chunk)
    schedule = schedules(loans, product)
    repayments, truth = payment_paths(chunk, loans, schedule, product)
    performance = outcomes(
        loans,
        schedule,
        repayments,
        horizon_months=chunk.config.follow_months,
        grace_days=product.overdue_grace_days,
    )
    return Rendered(
        tables={
            "loans/loans": loans,
            "loans/schedule": schedule,
            "loans/repayments": repayments,
            "loans/outcomes": performance,
        },
        truth={"loans/behaviour": truth},
    )
