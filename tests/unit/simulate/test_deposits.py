"""Bank deposits (银行存款): the IPC balance sheets declare what the bank statements show on the
same dates, no balance is negative, and neither depends on the chunking."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from xiaowei.simulate import deposits, financials, statements
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.world import World, build_world, chunk

N = 200


def _render(world: World, ids: np.ndarray, index: int = 0):
    """Render as a run does: the IPC files first, then the statements of the same chunk."""
    c = chunk(world, index, ids)
    f = financials.render(c)
    s = statements.render(c)
    return c, f, s


def _compared(f, s) -> pl.DataFrame:
    """Declared deposits of both sheets next to the statements' end-of-day balances."""
    sheets = f.tables["financials/balance_sheets"].select(
        "business_id", pl.col("as_of").alias("date"), "kind", "bank_deposits_fen"
    )
    shown = deposits.balances_on(
        s.tables["statements/accounts"], s.tables["statements/transactions"], sheets
    )
    out = sheets.join(shown, on=["business_id", "date"], how="left")
    assert out["balance_fen"].null_count() == 0
    return out.join(
        f.truth["financial_manipulation"].select(
            "business_id", pl.col("kind").alias("manipulation"), "overstated_deposits_fen"
        ),
        on="business_id",
    ).with_columns(diff=pl.col("bank_deposits_fen") - pl.col("balance_fen"))


@pytest.fixture(scope="module", params=[16, 0], ids=["follow16", "follow0"])
def world(request) -> World:
    return build_world(SimulationConfig(businesses=N, seed=5, follow_months=request.param))


@pytest.fixture(scope="module")
def whole(world):
    ids = world.population.businesses["business_id"].to_numpy()
    return _render(world, ids)


def test_declared_deposits_equal_the_statement_balances(whole):
    _, f, s = whole
    both = _compared(f, s)
    assert both.height == 2 * N
    honest = both.filter(pl.col("manipulation") == "none")
    assert honest.height > 0.7 * 2 * N
    assert (honest["diff"] == 0).all()  # exact, on the check point and on the application date
    # every business but the deposit overstaters agrees; they overstate the current sheet only,
    # by what the truth says
    assert (both.filter(pl.col("kind") == "check_point")["diff"] == 0).all()
    current = both.filter(pl.col("kind") == "current")
    assert (current["diff"] == current["overstated_deposits_fen"]).all()
    over = current.filter(pl.col("overstated_deposits_fen") > 0)
    assert over.height >= 1
    assert (over["manipulation"] == "inflated_assets").all()
    # the numbers are the statements' own, as deposit_balances reports them
    c, _, _ = whole
    shown = statements.deposit_balances(c)
    statements.render(c)  # release the kept statements
    cp = both.filter(pl.col("kind") == "check_point").sort("business_id")
    assert (cp["balance_fen"] == shown["check_point_fen"]).all()
    assert (current.sort("business_id")["balance_fen"] == shown["application_fen"]).all()


def test_check_point_lies_in_the_statement_window(world, whole):
    c, f, s = whole
    accounts = s.tables["statements/accounts"]
    window = accounts.group_by("business_id").agg(
        pl.col("first_date").min(), pl.col("last_date").max()
    )
    dates = (
        f.tables["financials/balance_sheets"]
        .pivot(on="kind", index="business_id", values="as_of")
        .join(window, on="business_id")
    )
    assert (dates["check_point"] >= dates["first_date"] - timedelta(days=1)).all()
    assert (dates["check_point"] <= dates["last_date"]).all()
    assert (dates["check_point"].dt.month_end() == dates["check_point"]).all()
    plan = deposits.plan(c)
    assert ((plan.months >= 6) & (plan.months <= 12)).all()
    if world.config.follow_months == 0:
        # the window ends before the application: the current deposits are the closing balances
        assert (dates["current"] > dates["last_date"]).all()
        closing = accounts.group_by("business_id").agg(pl.col("closing_balance_fen").sum())
        shown = statements.deposit_balances(c).join(closing, on="business_id")
        statements.render(c)
        assert (shown["application_fen"] == shown["closing_balance_fen"]).all()


def test_no_negative_balance_and_the_target_is_reached(whole):
    c, _, s = whole
    assert (s.tables["statements/transactions"]["balance_fen"] >= 0).all()
    assert (s.tables["statements/accounts"]["opening_balance_fen"] >= 0).all()
    plan = deposits.plan(c)
    shown = statements.deposit_balances(c)
    statements.render(c)
    # at the check point: the target, or more where the flows need it (plus interest)
    assert (shown["check_point_fen"].to_numpy() >= plan.target_fen).all()


def test_opening_balances_reach_the_target_or_the_least_feasible():
    need = np.array([[5_000, 0, 0, 0], [0, 2_000, 0, 0]])
    floor = np.array([[10_000, 10_000, 0, 0], [10_000, 50_000, 50_000, 0]])
    at_cp = np.array([[30_000, -5_000, 0, 0], [-10_000, 4_000, 0, 0]])
    # business 0 can reach 200,000; business 1 cannot go below 106,000
    target = np.array([200_000, 50_000])
    opening = deposits.opening_balances(need, floor, at_cp, target)
    assert (opening >= need + floor).all()
    assert (opening[:, 1:] == (need + floor)[:, 1:]).all()  # the main account takes the rest
    assert (opening + at_cp).sum(axis=1).tolist() == [200_000, 106_000]


def test_same_deposits_whatever_the_chunk(world, whole):
    _, f, s = whole
    ids = world.population.businesses["business_id"].to_numpy()[:21]
    parts = [_render(world, ids[i : i + 7], i // 7) for i in range(0, 21, 7)]
    keep = pl.col("business_id").is_in(pl.Series(ids).implode())
    for group, name, rendered in (
        ("tables", "financials/balance_sheets", 1),
        ("truth", "financial_manipulation", 1),
        ("tables", "statements/accounts", 2),
        ("tables", "statements/transactions", 2),
    ):
        small = pl.concat([getattr(p[rendered], group)[name] for p in parts])
        big = getattr((f, s)[rendered - 1], group)[name].filter(keep)
        assert_frame_equal(small, big)
    # the statements kept for the IPC files are those a fresh rendering gives
    fresh = statements.render(chunk(world, 0, ids[:7]))
    assert_frame_equal(
        fresh.tables["statements/transactions"], parts[0][2].tables["statements/transactions"]
    )
