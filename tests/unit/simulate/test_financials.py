"""IPC financials of the simulator: sheets balance, the cross-checks pass for the honest and fail
for the manipulators, and the rendering does not depend on chunking."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from xiaowei.analysis.financials import equity_cross_check
from xiaowei.simulate import financials
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.output import Rendered
from xiaowei.simulate.world import World, build_world, chunk

N = 400
TABLES = (
    "financials/balance_sheets",
    "financials/income_monthly",
    "financials/products",
    "financials/equity_reconciliation_inputs",
    "financials/declared_debts",
)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SimulationConfig(businesses=N, seed=7))


@pytest.fixture(scope="module")
def whole(world: World):
    ids = world.population.businesses["business_id"].to_numpy()
    c = chunk(world, 0, ids)
    return c, financials.render(c)


@pytest.fixture(scope="module")
def checked(whole) -> pl.DataFrame:
    c, r = whole
    check = equity_cross_check(
        r.tables["financials/balance_sheets"], r.tables["financials/equity_reconciliation_inputs"]
    )
    return check.join(r.truth["financial_manipulation"], on="business_id").join(
        c.truth.select("business_id", "sales_inflation"), on="business_id"
    )


def test_declared_debts_are_the_sheets_loans_and_never_the_hidden_ones(whole):
    c, r = whole
    listed = r.tables["financials/declared_debts"]
    current = r.tables["financials/balance_sheets"].filter(pl.col("kind") == "current")
    loans = current.select(
        "business_id",
        (
            pl.col("short_term_loans_fen")
            + pl.col("long_term_loans_fen")
            + pl.col("private_loans_fen")
        ).alias("sheet"),
    )
    summed = listed.group_by("business_id").agg(pl.col("balance_fen").sum().alias("listed"))
    both = loans.join(summed, on="business_id", how="left").with_columns(
        pl.col("listed").fill_null(0)
    )
    assert (both["sheet"] == both["listed"]).all()
    hidden = c.debts.filter(~pl.col("declared"))
    assert hidden.height > 0
    assert listed.height == c.debts.height - hidden.height
    assert "declared" not in listed.columns


def test_sheets_balance_exactly_in_fen(whole):
    c, r = whole
    bs = r.tables["financials/balance_sheets"]
    assert bs.height == 2 * N
    money = [col for col in bs.columns if col.endswith("_fen")]
    assert all(bs[col].dtype == pl.Int64 for col in money)
    assets = bs.select(pl.sum_horizontal(*financials.ASSETS)).to_series()
    liabilities = bs.select(pl.sum_horizontal(*financials.LIABILITIES)).to_series()
    assert (bs["total_assets_fen"] == assets).all()
    assert (bs["total_liabilities_fen"] == liabilities).all()
    assert (bs["equity_fen"] == assets - liabilities).all()
    assert bs.select(pl.min_horizontal(*financials.BALANCE_COLUMNS).min()).item() >= 0
    # dates: the check point 6–12 month-ends before the application month; current = applied
    dates = (
        bs.pivot(on="kind", index="business_id", values="as_of")
        .join(c.businesses.select("business_id", "application_date"), on="business_id")
        .with_columns(
            gap=(pl.col("application_date").dt.year() - pl.col("check_point").dt.year()) * 12
            + pl.col("application_date").dt.month()
            - pl.col("check_point").dt.month()
        )
    )
    assert (dates["current"] == dates["application_date"]).all()
    assert dates["gap"].is_between(7, 13).all()  # end of the month before the period
    assert (dates["check_point"].dt.month_end() == dates["check_point"]).all()


def test_true_equity_identity_is_exact(whole):
    """Truth: E₁ = E₀ + true period profit + injections + appreciation − withdrawals − depr."""
    _, r = whole
    m = r.truth["financial_manipulation"].join(
        r.tables["financials/equity_reconciliation_inputs"], on="business_id"
    )
    expected = (
        m["true_equity_check_point_fen"]
        + m["true_period_profit_fen"]
        + m["injections_fen"]
        + m["appreciation_fen"]
        - m["withdrawals_fen"]
        - m["depreciation_fen"]
    )
    assert (expected == m["true_equity_current_fen"]).all()
    gap = m["undeclared_debt_current_fen"] + m["asset_inflation_fen"]
    assert (m["equity_gap_fen"] == gap).all()


def test_equity_cross_check_passes_for_the_honest(checked):
    honest = checked.filter(pl.col("kind") == "none")
    assert honest.height > 0.7 * N
    within = (honest["deviation_rate"].abs() <= 0.05).mean()
    assert within is not None
    assert within >= 0.85


def test_equity_cross_check_fails_for_inflaters_by_a_positive_amount(checked):
    inflaters = checked.filter(pl.col("inflated_sales"))
    assert inflaters.height >= 20
    assert (inflaters["deviation_rate"].abs() > 0.10).mean() >= 0.7
    # expected equity above the actual: profit that never reached the balance sheet
    assert (inflaters["deviation_fen"] > 0).mean() >= 0.9
    # covering with inflated assets shrinks the deviation, but declared equity is then too high
    covered = inflaters.filter(pl.col("inflated_assets"))
    plain = inflaters.filter(~pl.col("inflated_assets"))
    assert covered.height > 0
    assert plain.height > 0
    assert covered["deviation_rate"].median() < plain["deviation_rate"].median()
    assert (covered["equity_gap_fen"] > 0).all()


def test_hidden_debts_are_absent_from_declared_liabilities(whole, checked):
    c, r = whole
    bs = r.tables["financials/balance_sheets"]
    current = bs.filter(pl.col("kind") == "current").select(
        "business_id",
        loans=pl.col("short_term_loans_fen")
        + pl.col("long_term_loans_fen")
        + pl.col("private_loans_fen"),
    )
    debts = c.debts.group_by("business_id").agg(
        declared=pl.col("balance_fen").filter(pl.col("declared")).sum(),
        hidden=pl.col("balance_fen").filter(~pl.col("declared")).sum(),
    )
    both = current.join(debts, on="business_id", how="left").fill_null(0)
    assert (both["loans"] == both["declared"]).all()
    hiders = both.filter(pl.col("hidden") > 0)
    assert hiders.height >= 10
    m = r.truth["financial_manipulation"].join(hiders, on="business_id")
    assert (m["undeclared_debt_current_fen"] == m["hidden"]).all()
    assert (m["declared_equity_current_fen"] > m["true_equity_current_fen"]).all()
    assert m["hidden_debt"].all()
    # private loans (民间借贷) of those who declare them appear on their own line
    private = c.debts.filter(pl.col("declared") & (pl.col("lender_kind") == "private"))
    if private.height:
        line = current.join(
            bs.filter(pl.col("kind") == "current").select("business_id", "private_loans_fen"),
            on="business_id",
        ).filter(pl.col("business_id").is_in(private["business_id"].implode()))
        assert (line["private_loans_fen"] > 0).all()


def test_product_margins_match_the_true_margin(whole, checked):
    _, r = whole
    products = r.tables["financials/products"]
    assert (products["purchase_price_fen"] > 0).all()
    assert (products["purchase_price_fen"] < products["sale_price_fen"]).all()
    per = products.group_by("business_id").agg(
        n=pl.len(),
        share=pl.col("sales_share").sum(),
        gm=(
            (1 - pl.col("purchase_price_fen") / pl.col("sale_price_fen")) * pl.col("sales_share")
        ).sum(),
    )
    assert per.height == N
    assert per["n"].is_between(2, 5).all()
    assert np.allclose(per["share"].to_numpy(), 1.0, atol=1e-9)
    m = per.join(checked, on="business_id")
    honest = m.filter(~pl.col("inflated_margin"))
    assert ((honest["gm"] - honest["true_gross_margin"]).abs() <= 0.03).all()
    bumped = m.filter(pl.col("inflated_margin"))
    assert bumped.height > 0
    assert ((bumped["gm"] - bumped["true_gross_margin"]) >= 0.025).all()
    assert (m["declared_gross_margin"] - m["gm"]).abs().max() < 1e-6


def test_income_statement_arithmetic_and_declared_sales(whole, checked):
    _, r = whole
    inc = r.tables["financials/income_monthly"]
    assert inc.group_by("business_id").len()["len"].eq(12).all()
    assert (inc["gross_profit_fen"] == inc["sales_declared_fen"] - inc["cost_of_goods_fen"]).all()
    net = inc["gross_profit_fen"] - (
        inc["rent_fen"]
        + inc["wages_fen"]
        + inc["utilities_fen"]
        + inc["taxes_fen"]
        + inc["other_costs_fen"]
    )
    assert (inc["net_profit_fen"] == net).all()
    assert (
        inc["disposable_income_fen"] == inc["net_profit_fen"] - inc["household_expenses_fen"]
    ).all()
    # period profit = disposable income of the months after the check point
    inputs = r.tables["financials/equity_reconciliation_inputs"]
    period = (
        inc.join(inputs, on="business_id")
        .filter(pl.col("month") > pl.col("period_start"))
        .group_by("business_id")
        .agg(pl.col("disposable_income_fen").sum(), pl.len().alias("n"))
        .join(inputs, on="business_id")
    )
    assert (period["disposable_income_fen"] == period["period_profit_fen"]).all()
    assert (period["n"] == period["months"]).all()
    assert inputs["months"].is_between(6, 12).all()
    # declared sales: honest ≈ true (±5 %), inflaters ≈ true × inflation
    ratio = checked.with_columns(r=pl.col("declared_sales_12m_fen") / pl.col("true_sales_12m_fen"))
    straight = ratio.filter(~pl.col("inflated_sales"))
    assert ((straight["r"] - 1).abs() <= 0.05).all()
    inflaters = ratio.filter(pl.col("inflated_sales"))
    assert ((inflaters["r"] / inflaters["sales_inflation"] - 1).abs() <= 0.05).all()


def test_sales_cross_checks(whole, checked):
    """Declared sales against bank-flow revenue and against purchases ÷ (1 − margin)."""
    c, r = whole
    inc = r.tables["financials/income_monthly"]
    flows = c.monthly.join(inc.select("business_id", "month"), on=["business_id", "month"])
    # half of the cash takings deposited: the statements decide the exact share
    check = (
        flows.group_by("business_id")
        .agg(
            bank=(
                pl.col("sales_transfer")
                + pl.col("sales_pos")
                + pl.col("sales_platform")
                + pl.col("sales_wallet")
                + 0.5 * pl.col("sales_cash")
            ).sum()
            * 100,
            purchases=pl.col("purchases").sum() * 100,
        )
        .join(checked, on="business_id")
        .with_columns(
            by_bank=1 - pl.col("bank") / pl.col("declared_sales_12m_fen"),
            by_purchases=1
            - pl.col("purchases")
            / (1 - pl.col("declared_gross_margin"))
            / pl.col("declared_sales_12m_fen"),
        )
    )
    honest = check.filter(pl.col("kind") == "none")
    assert (honest["by_bank"].abs() <= 0.15).mean() >= 0.9
    assert (honest["by_purchases"].abs() <= 0.10).mean() >= 0.95
    inflaters = check.filter(pl.col("inflated_sales"))
    assert (inflaters["by_bank"] > 0.15).mean() >= 0.8
    assert (inflaters["by_purchases"] > 0.10).mean() >= 0.7


def test_no_truth_in_observable_tables(whole):
    c, r = whole
    truth_columns = (
        set(c.truth.columns)
        | {"declared", "reports_to_bureau", "lender", "debt_id"}
        | set(r.truth["financial_manipulation"].columns)
    ) - {"business_id", "kind"}
    for name in TABLES:
        # the applicant names the lenders it declares: only that list may carry a lender
        allowed = {"lender"} if name == "financials/declared_debts" else set()
        leaked = (truth_columns - allowed) & set(r.tables[name].columns)
        assert not leaked, (name, leaked)
    assert set(r.tables["financials/balance_sheets"]["kind"].unique()) == {
        "check_point",
        "current",
    }
    assert set(r.truth) == {"financial_manipulation"}


def test_same_output_whatever_the_chunking(world, whole):
    _, r = whole
    ids = world.population.businesses["business_id"].to_numpy()[:60]
    parts = [
        financials.render(chunk(world, i, ids[s : s + 7])) for i, s in enumerate(range(0, 60, 7))
    ]
    keep = pl.col("business_id").is_in(pl.Series(ids).implode())
    for name in TABLES:
        pieces = pl.concat([p.tables[name] for p in parts])
        assert_frame_equal(pieces, r.tables[name].filter(keep))
    pieces = pl.concat([p.truth["financial_manipulation"] for p in parts])
    assert_frame_equal(pieces, r.truth["financial_manipulation"].filter(keep))


def test_same_seed_same_bytes(world, whole):
    _, r = whole
    ids = world.population.businesses["business_id"].to_numpy()
    again: Rendered = financials.render(chunk(world, 0, ids))
    for name in TABLES:
        assert_frame_equal(again.tables[name], r.tables[name])
