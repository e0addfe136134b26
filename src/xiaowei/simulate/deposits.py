"""Bank deposits (银行存款): one number for the bank statements and the officer's balance sheets.

An IPC loan officer does not take the owner's word for the deposits: the balance-sheet line
银行存款 is read off the bank statements (银行流水) on the same date, at the equity check point
(权益检验原始点) and at the application (当前). The simulator therefore renders both from one
plan, decided here per business from its own stream (``Stream.DEPOSITS``), so that it is the
same whatever the chunking:

* **the dates.** The check point is the end of a month ``k`` months before the application
  month, ``k`` uniform in 6–12 (at most the history ``months``): the day before the first
  month of the cross-check period. It always lies in the statement window, at worst on the day
  before its first day (``k = months``), where the balance is the sum of the opening balances.
  The current sheet is dated on the application date; with ``follow_months = 0`` the window
  ends with the month before it, so the current balance is the closing balance.
* **the level.** The deposits the owner keeps at the check point (the *target*): a per-business
  number of months of sales, ``(0.2 + u) ×`` the mean monthly sales of the history, ``u``
  uniform (the same structure the IPC sheets used before).

Between the two dates the balance moves by the statements' own flows (every sale, purchase,
wage, household payment, debt service, round trip and quarterly interest, 结息), so only one of
the two numbers can be chosen: the statements choose each account's opening balance so that
the business's deposits at the check point reach the target, unless the flows make it
infeasible — an opening balance must keep every account at or above its minimum balance over
the whole window — in which case the check-point deposits are raised to the least feasible
level (:func:`opening_balances`, pure). The current deposits follow from the flows. Interest
posted before the check point adds a few yuan above the target. Measured (10,000 businesses,
seed 1): 96 % are raised, so the account floors and the flows set most levels; the target
keeps a cushion for the others.

The two renderers agree through the realised balances, not through a recomputation (the
change between the dates includes the interest, which depends on the whole balance path, and
the second legs of round trips, so no function of the monthly flows gives it to the fen):
:func:`xiaowei.simulate.statements.deposit_balances` returns, per business, the sum of its
accounts' end-of-day balances on both dates from the statements it renders (kept for the
statements renderer, so a run renders each chunk's statements once), and
:mod:`xiaowei.simulate.financials` writes those numbers as 银行存款 (an asset inflater may add
to the current one, see there). :func:`balances_on` recomputes them from the observable tables,
as an officer or the analysis layer (issue 4) would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from xiaowei.simulate.random import Stream
from xiaowei.simulate.world import Chunk

Arr = NDArray[Any]

CHECK_POINT_MIN_MONTHS = 6  # months between the check point and the application month
CHECK_POINT_MAX_MONTHS = 12
LEVEL_MONTHS = (0.2, 1.0)  # target deposits: (low + width × u) months of mean sales


@dataclass(frozen=True, slots=True)
class DepositPlan:
    """The check point and the deposit target of each business of a chunk (sorted by id)."""

    business_id: Arr  # int64, ascending
    months: Arr  # k: months between the check point and the application month
    check_point: Arr  # datetime64[D]: last day of the month before the cross-check period
    application: Arr  # datetime64[D]
    target_fen: Arr  # int64: deposits wished at the check point (whole yuan)


def plan(chunk: Chunk) -> DepositPlan:
    """Draw the check point and the deposit target of every business of ``chunk``."""
    b = chunk.businesses.sort("business_id")
    ids = b["business_id"].to_numpy().astype(np.int64)
    n = len(ids)
    months = chunk.config.months
    kmax = min(CHECK_POINT_MAX_MONTHS, months)
    k = np.empty(n, dtype=np.int64)
    u = np.empty(n)
    for i, bid in enumerate(ids.tolist()):
        rng = chunk.rng(bid, Stream.DEPOSITS)
        k[i] = rng.integers(CHECK_POINT_MIN_MONTHS, kmax + 1)
        u[i] = rng.random()
    app = b["application_date"].to_numpy().astype("datetime64[D]")
    app_month = app.astype("datetime64[M]").astype(np.int64)
    check_point = (app_month - k).astype("datetime64[M]").astype("datetime64[D]") - np.timedelta64(
        1, "D"
    )
    hist = chunk.monthly.filter(pl.col("phase") == "history").sort("business_id", "t")
    sales = hist["sales"].to_numpy().reshape(n, months).mean(axis=1)
    low, width = LEVEL_MONTHS
    target = np.asarray(np.round(sales * (low + width * u)) * 100, dtype=np.int64)
    return DepositPlan(
        business_id=ids,
        months=k,
        check_point=check_point,
        application=app,
        target_fen=target,
    )


def opening_balances(need: Arr, floor: Arr, at_check_point: Arr, target: Arr) -> Arr:
    """Opening balances (期初余额, fen) of each business's accounts, ``(businesses, slots)``.

    ``need``: the least opening balance that keeps the account from going negative (minus its
    lowest cumulative sum, at least 0); ``floor``: the minimum balance it keeps on top; both 0
    for the slots a business does not have. ``at_check_point``: each account's cumulative sum
    of transactions up to the end of the check-point day. ``target``: the deposits wished at
    the check point, per business. Every account opens at ``need + floor``; the main account
    (slot 0) takes what is missing to reach the target. The business's deposits at the check
    point are then ``max(target, least feasible)``, the least feasible being
    ``Σ (need + floor + at_check_point)``.
    """
    opening = np.asarray(need + floor, dtype=np.int64)
    least = (opening + at_check_point).sum(axis=1)
    opening[:, 0] += np.maximum(np.asarray(target, dtype=np.int64) - least, 0)
    return opening


def balances_on(
    accounts: pl.DataFrame, transactions: pl.DataFrame, on: pl.DataFrame
) -> pl.DataFrame:
    """Deposits shown by the statements: per business and date of ``on`` (business_id, date),
    the sum of its accounts' end-of-day balances (日终余额) — the balance after the day's last
    transaction, or the last balance before it, or the opening balance. Returns business_id,
    date, balance_fen, sorted."""
    on = on.select("business_id", pl.col("date").cast(pl.Date)).unique().sort("date")
    eod = (
        transactions.sort("account_id", "ts", "txn_id")
        .group_by("account_id", "date", maintain_order=True)
        .agg(pl.col("balance_fen").last())
        .sort("date")
    )
    asked = on.join(
        accounts.select("business_id", "account_id", "opening_balance_fen"), on="business_id"
    ).sort("date")
    found = asked.join_asof(
        eod, on="date", by="account_id", strategy="backward", check_sortedness=False
    )
    return (
        found.with_columns(pl.col("balance_fen").fill_null(pl.col("opening_balance_fen")))
        .group_by("business_id", "date")
        .agg(pl.col("balance_fen").sum())
        .sort("business_id", "date")
    )
