"""Repayment behaviour: loan terms, schedules, payment paths and outcomes of the simulator."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from xiaowei.core.money import ZERO, from_cents, to_cents
from xiaowei.lending.loan import Loan, LoanStatus
from xiaowei.lending.schedule import generate_schedule
from xiaowei.services.demo import schedule_terms
from xiaowei.simulate import behaviour
from xiaowei.simulate.behaviour import BASE_RATE_PPM, catalogue_product, outcomes
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.output import Rendered
from xiaowei.simulate.world import World, build_world, chunk

PRODUCT = catalogue_product("SME-OP")
TRUTH_COLUMNS = {
    "pd_12m",
    "default_mob",
    "default_month",
    "late_prob",
    "prepay_mob",
    "recovers",
    "recovery_mob",
    "recovery_share",
    "path",
    "credit_discipline",
}


@pytest.fixture(scope="module")
def world() -> World:
    # 16 months of observation: 90 days after the 12th installment, so default_12m is final.
    return build_world(SimulationConfig(businesses=300, seed=5, follow_months=16))


@pytest.fixture(scope="module")
def whole(world: World) -> tuple[Rendered, pl.DataFrame]:
    ids = world.population.businesses["business_id"].to_numpy()
    c = chunk(world, 0, ids)
    return behaviour.render(c), c.timeline


def _tables(whole: tuple[Rendered, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    rendered, _ = whole
    return {**rendered.tables, **{f"truth/{k}": v for k, v in rendered.truth.items()}}


def test_terms_stay_in_the_product_and_are_priced_from_observables(whole):
    loans = _tables(whole)["loans/loans"]
    assert loans["loan_id"].to_list() == loans["business_id"].to_list()
    assert loans["principal_fen"].min() >= to_cents(PRODUCT.amount_min)
    assert loans["principal_fen"].max() <= to_cents(PRODUCT.amount_max)
    assert set(loans["term_months"].unique()) <= {6, 12, 24, 36}
    assert loans["rate_ppm"].min() >= 72_000
    assert loans["rate_ppm"].max() <= 150_000
    assert set(loans["method"].unique()) <= {m.value for m in PRODUCT.methods}
    assert loans["method"].value_counts().sort("count")["method"][-1] == "equal-installment"
    io = loans.filter(pl.col("method") == "interest-only")
    assert io.height > 0
    assert set(io["term_months"].unique()) == {12}


def test_price_grid_by_industry_and_term(world):
    c = chunk(world, 0, world.population.businesses["business_id"].to_numpy())
    loans = behaviour.loan_terms(c).join(
        c.businesses.select("business_id", "industry"), on="business_id"
    )
    per_cell = loans.group_by("industry", "term_months").agg(pl.col("rate_ppm").n_unique())
    assert (per_cell["rate_ppm"] == 1).all()
    expected = loans.select(
        pl.col("industry").replace_strict(BASE_RATE_PPM, return_dtype=pl.Int64)
        + pl.col("term_months").replace_strict({6: 0, 12: 6_000, 24: 18_000, 36: 36_000})
    ).to_series()
    assert (loans["rate_ppm"] == expected).all()


def test_schedules_equal_the_lending_schedule(whole):
    t = _tables(whole)
    loans, schedule = t["loans/loans"], t["loans/schedule"]
    sample = pl.concat(
        [loans.filter(pl.col("method") == m).head(6) for m in loans["method"].unique().sort()]
    )
    for row in sample.iter_rows(named=True):
        terms = schedule_terms(row, PRODUCT)
        expected = generate_schedule(terms).installments
        booked = Loan.book(PRODUCT, terms).schedule
        got = schedule.filter(pl.col("loan_id") == row["loan_id"]).sort("number")
        assert got.height == len(expected) == len(booked)
        for inst, plan, g in zip(expected, booked, got.iter_rows(named=True), strict=True):
            assert g["due_date"] == inst.due_date == plan.due_date
            assert from_cents(g["principal_fen"]) == inst.principal == plan.principal
            assert from_cents(g["interest_fen"]) == inst.interest == plan.interest
            assert from_cents(g["balance_fen"]) == inst.balance
        assert got["due_date"][0].day == PRODUCT.repayment_day


def test_on_time_loans_pay_exactly_their_schedule(whole):
    t = _tables(whole)
    on_time = t["truth/loans/behaviour"].filter(pl.col("path") == "on-time")
    assert on_time.height > 50
    due = (
        t["loans/schedule"]
        .join(on_time.select("loan_id", "horizon"), on="loan_id")
        .filter(pl.col("due_date") <= pl.col("horizon"))
    )
    paid = t["loans/repayments"].join(on_time.select("loan_id"), on="loan_id")
    assert set(paid["kind"].unique()) == {"scheduled"}
    joined = due.join(
        paid, left_on=["loan_id", "number"], right_on=["loan_id", "installment"], how="full"
    )
    assert joined.height == due.height == paid.height
    assert (joined["pay_date"] == joined["due_date"]).all()
    assert (joined["amount_fen"] == joined["principal_fen"] + joined["interest_fen"]).all()
    assert (joined["penalty_fen"] == 0).all()


def test_late_payments_are_late_by_up_to_45_days_mostly_under_15(whole):
    rep = _tables(whole)["loans/repayments"]
    late = rep.filter(pl.col("kind") == "late").with_columns(
        (pl.col("pay_date") - pl.col("due_date")).dt.total_days().alias("days")
    )
    assert late.height > 100
    assert late["days"].min() >= 1
    assert late["days"].max() <= 45
    assert (late["days"] < 15).mean() > 0.75
    # penalty only beyond the grace days
    grace = PRODUCT.overdue_grace_days
    assert (late.filter(pl.col("days") <= grace + 1)["penalty_fen"] == 0).all()
    assert (late.filter(pl.col("days") > grace + 1)["penalty_fen"] > 0).all()
    # a partial payment is topped up later (cured)
    partial = rep.filter(pl.col("kind") == "partial")
    assert partial.height > 10
    topped = partial.join(
        late, on=["loan_id", "installment"], how="left", suffix="_up"
    ).with_columns(pl.col("pay_date_up").is_not_null().alias("cured"))
    horizon = _tables(whole)["loans/outcomes"].select("loan_id", "horizon")
    pending = topped.join(horizon, on="loan_id").filter(~pl.col("cured"))
    assert pending.select(
        (pl.col("pay_date") + pl.duration(days=45) > pl.col("horizon")).all()
    ).item()


def test_defaulters_pay_nothing_from_default_until_recovery(whole):
    t = _tables(whole)
    _, timeline = whole
    rep = t["loans/repayments"]
    truth = t["truth/loans/behaviour"]
    defaulters = timeline.filter(pl.col("default_mob").is_not_null()).join(
        truth.select("loan_id", "default_due_date", "recovery_date"),
        left_on="business_id",
        right_on="loan_id",
    )
    assert defaulters.height > 10
    rows = rep.join(defaulters, left_on="loan_id", right_on="business_id")
    aimed_after = rows.filter(pl.col("installment") >= pl.col("default_mob"))
    assert aimed_after.height == 0
    after_recovery_start = rows.filter(
        pl.col("recovery_date").is_not_null() & (pl.col("pay_date") >= pl.col("recovery_date"))
    )
    assert set(after_recovery_start["kind"].unique()) <= {"recovery"}
    recoveries = rows.filter(pl.col("kind") == "recovery")
    assert recoveries.height > 0
    assert recoveries["recovers"].all()
    # a recovery comes once the loan is non-performing (90+ DPD), never before
    assert ((recoveries["pay_date"] - recoveries["default_due_date"]).dt.total_days() > 90).all()
    # no recovery for those that do not recover, and none at all outside defaulters
    assert (
        rep.filter(pl.col("kind") == "recovery")["loan_id"]
        .is_in(defaulters["business_id"].implode())
        .all()
    )


def test_default_12m_agrees_with_the_truth_and_with_max_dpd(whole):
    t = _tables(whole)
    _, timeline = whole
    out = t["loans/outcomes"].join(timeline, left_on="loan_id", right_on="business_id")
    truth_12m = out["default_mob"].fill_null(99) <= 12
    assert out["default_12m_final"].all()
    assert (out["default_12m"] == truth_12m).all()
    rate = out["default_12m"].mean()
    assert rate == pytest.approx(truth_12m.mean(), abs=0.005)
    assert 0.02 < rate < 0.15
    assert (out["ever_90dpd"] == (out["max_dpd"] >= 90)).all()
    assert (out["ever_30dpd"] == (out["max_dpd"] >= 30)).all()
    assert (out.filter("default_12m")["max_dpd"] >= 90).all()
    # the ones who never default are at most 45 days late (less the day of payment)
    assert out.filter(pl.col("default_mob").is_null())["max_dpd"].max() <= 44
    assert (out["dpd"] <= out["max_dpd"]).all()


def test_outcomes_at_another_horizon(whole):
    t = _tables(whole)
    loans, schedule, rep = t["loans/loans"], t["loans/schedule"], t["loans/repayments"]
    full = t["loans/outcomes"]
    at12 = outcomes(loans, schedule, rep, horizon_months=12)
    assert (at12["months_observed"] == 12).all()
    both = at12.join(full, on="loan_id", suffix="_16")
    assert (both["max_dpd"] <= both["max_dpd_16"]).all()
    assert (~both["default_12m"] | both["default_12m_16"]).all()  # a subset at 12 months
    # only the unfinished are missing: defaults whose 90 days are not over
    missing = both.filter(both["default_12m_16"] & ~both["default_12m"])
    assert (~missing["default_12m_final"]).all()
    # a calendar cut-off: loans booked after it are left out
    cut = outcomes(loans, schedule, rep, as_of=date(2025, 6, 30))
    assert cut.height == loans.filter(pl.col("start_date") <= date(2025, 6, 30)).height
    assert (cut["horizon"] == date(2025, 6, 30)).all()


def test_prepaid_loans_end_with_nothing_outstanding(whole):
    t = _tables(whole)
    out = t["loans/outcomes"]
    prepaid = out.filter("prepaid")
    assert prepaid.height > 5
    assert prepaid["closed"].all()
    assert (prepaid["principal_outstanding_fen"] == 0).all()
    # the prepayment carries at least the balance left after the last installment paid
    rep = t["loans/repayments"]
    pre = rep.filter(pl.col("kind") == "prepayment")
    last = (
        rep.filter(pl.col("installment").is_not_null())
        .join(pre.select("loan_id", pl.col("pay_date").alias("on")), on="loan_id")
        .filter(pl.col("pay_date") <= pl.col("on"))
        .group_by("loan_id")
        .agg(pl.col("installment").max())
    )
    left = last.join(
        t["loans/schedule"],
        left_on=["loan_id", "installment"],
        right_on=["loan_id", "number"],
    ).join(pre, on="loan_id")
    assert left.height == pre.height
    fee = (left["balance_fen"] * 10_000 + 999_999) // 1_000_000
    assert (left["amount_fen"] >= left["balance_fen"] + fee).all()
    # and nothing is paid after it
    after = rep.join(pre.select("loan_id", pl.col("pay_date").alias("on")), on="loan_id")
    assert (after["pay_date"] <= after["on"]).all()


def test_payments_are_what_the_ledger_says_is_due(whole):
    """Replay a few paths through the loan account: every scheduled or late amount is what
    the loan says is due, prepaid loans close, and days past due agree with the outcomes."""
    t = _tables(whole)
    truth, rep, out = t["truth/loans/behaviour"], t["loans/repayments"], t["loans/outcomes"]
    short = t["loans/loans"].filter(pl.col("term_months") <= 12).select("loan_id")
    picks = [
        lid
        for path in ("late", "partial", "prepay", "default")
        for lid in truth.join(short, on="loan_id")
        .filter(pl.col("path") == path)["loan_id"]
        .head(2)
        .to_list()
    ]
    assert len(picks) == 8
    for row in t["loans/loans"].filter(pl.col("loan_id").is_in(picks)).iter_rows(named=True):
        loan = Loan.book(PRODUCT, schedule_terms(row, PRODUCT), loan_id=row["loan_id"])
        worst = 0

        def run_to(day: date, loan: Loan = loan) -> int:
            seen = 0
            current = (loan.last_eod or loan.terms.start_date - timedelta(days=1)) + timedelta(
                days=1
            )
            while current <= day and loan.status is LoanStatus.ACTIVE:
                loan.accrue_through(current)
                seen = max(seen, loan.dpd)
                current += timedelta(days=1)
            return seen

        mine = rep.filter(pl.col("loan_id") == row["loan_id"])
        for (day,), group in mine.group_by(["pay_date"], maintain_order=True):
            worst = max(worst, run_to(day - timedelta(days=1)))
            assert loan.status is LoanStatus.ACTIVE
            due_rows = group.filter(pl.col("kind").is_in(["scheduled", "late"]))
            amount = from_cents(
                group.filter(~pl.col("kind").is_in(["scheduled", "late"]))["amount_fen"].sum()
            )
            if due_rows.height:
                through = due_rows["installment"].max()
                due = sum(
                    (
                        st.principal_unpaid + st.interest_unpaid + st.penalty + st.compound
                        for st in loan.installments(as_of=day)
                        if st.is_due(day) and st.number <= through
                    ),
                    ZERO,
                )
                assert to_cents(due) == due_rows["amount_fen"].sum()
                amount += due
            loan.repay(amount, value_date=day, key=f"pay-{day}")
        o = out.filter(pl.col("loan_id") == row["loan_id"]).row(0, named=True)
        if loan.status is LoanStatus.ACTIVE:
            worst = max(worst, run_to(o["horizon"]))
        path = truth.filter(pl.col("loan_id") == row["loan_id"])["path"][0]
        if path == "prepay":
            assert loan.status is LoanStatus.CLOSED
        assert worst == o["max_dpd"]
        assert (loan.dpd if loan.status is LoanStatus.ACTIVE else 0) == o["dpd"]


def test_same_bytes_whatever_the_chunking(world):
    ids = world.population.businesses["business_id"].to_numpy()[:60]
    whole = behaviour.render(chunk(world, 0, ids))
    pieces = [
        behaviour.render(chunk(world, i, ids[s : s + 7]))
        for i, s in enumerate(range(0, len(ids), 7))
    ]
    for name, frame in whole.tables.items():
        assert_frame_equal(frame, pl.concat([p.tables[name] for p in pieces]))
    for name, frame in whole.truth.items():
        assert_frame_equal(frame, pl.concat([p.truth[name] for p in pieces]))
    again = behaviour.render(chunk(world, 0, ids))
    for name, frame in whole.tables.items():
        assert_frame_equal(frame, again.tables[name])


def test_observable_tables_hold_no_truth(whole):
    rendered, _ = whole
    for name, frame in rendered.tables.items():
        assert not set(frame.columns) & TRUTH_COLUMNS, name
    money = [c for f in rendered.tables.values() for c in f.columns if c.endswith("_fen")]
    assert money
    for frame in rendered.tables.values():
        for col in frame.columns:
            if col.endswith("_fen"):
                assert frame.schema[col] == pl.Int64


def test_path_types_cover_every_loan_and_follow_the_truth(whole):
    t = _tables(whole)
    _, timeline = whole
    truth = t["truth/loans/behaviour"].join(timeline, left_on="loan_id", right_on="business_id")
    counts = dict(truth.group_by("path").len().iter_rows())
    assert sum(counts.values()) == 300
    assert set(counts) <= {p.value for p in behaviour.PathType}
    assert counts["on-time"] > counts.get("default", 0)
    defaults = truth.filter(pl.col("path").is_in(["default", "recovered"]))
    assert defaults["default_mob"].is_not_null().all()
    assert truth.filter(pl.col("path") == "prepay")["prepay_mob"].is_not_null().all()
    # a calendar cut-off sees fewer defaults than the horizon
    early = behaviour.classify_paths(
        t["truth/loans/behaviour"], t["loans/repayments"], as_of=date(2025, 6, 30)
    )
    assert (early["path"] == "default").sum() <= counts.get("default", 0) + counts.get(
        "recovered", 0
    )
    assert np.isin(early["path"].to_numpy(), [p.value for p in behaviour.PathType]).all()
