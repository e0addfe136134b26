"""Bank statements (银行流水): reconciliation, consistency with the flows, fraud patterns."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from xiaowei.simulate import channels, statements
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.world import build_world, chunk, chunks

N = 240


@pytest.fixture(scope="module")
def world():
    return build_world(SimulationConfig(businesses=N, seed=7))


@pytest.fixture(scope="module")
def whole(world):
    c = next(chunks(world))
    assert len(c.ids) == N
    return c, statements.render(c)


@pytest.fixture(scope="module")
def frames(whole):
    _, r = whole
    tx = r.tables["statements/transactions"]
    labels = r.truth["transaction_labels"]
    return r.tables["statements/accounts"], tx, tx.join(labels, on=["txn_id", "business_id"])


def test_schemas_and_no_truth_in_observable_tables(whole):
    _, r = whole
    assert set(r.tables) == {"statements/accounts", "statements/transactions"}
    assert set(r.truth) == {"transaction_labels"}
    tx = r.tables["statements/transactions"]
    assert tx.schema == pl.Schema(
        {
            "txn_id": pl.Int64,
            "account_id": pl.Int64,
            "business_id": pl.Int64,
            "ts": pl.Datetime("us"),
            "date": pl.Date,
            "direction": pl.String,
            "amount_fen": pl.Int64,
            "balance_fen": pl.Int64,
            "counterparty_name": pl.String,
            "counterparty_account": pl.String,
            "memo": pl.String,
            "channel": pl.String,
        }
    )
    accounts = r.tables["statements/accounts"]
    assert accounts.columns == [
        "account_id",
        "business_id",
        "bank_name",
        "account_no",
        "holder_name",
        "account_kind",
        "opening_balance_fen",
        "closing_balance_fen",
        "first_date",
        "last_date",
    ]
    labels = r.truth["transaction_labels"]
    assert labels.columns == [
        "txn_id",
        "business_id",
        "category",
        "is_fraud_pattern",
        "round_trip_pair",
    ]
    truth_words = {"category", "fraud", "round_trip", "pd", "honest", "latent", "default"}
    for frame in r.tables.values():
        for col in frame.columns:
            assert not any(w in col for w in truth_words), col
    # ids unique across the run, ordered by account, time, id
    assert tx["txn_id"].is_unique().all()
    assert accounts["account_id"].is_unique().all()
    assert tx.equals(tx.sort("account_id", "ts", "txn_id"))
    assert set(labels["category"].unique()) <= set(statements.CATEGORIES)
    assert (tx["amount_fen"] > 0).all()
    assert (tx["ts"].dt.truncate("1s") == tx["ts"]).all()
    assert (tx["ts"].dt.date() == tx["date"]).all()
    assert set(tx["direction"].unique()) == {"in", "out"}
    assert set(tx["channel"].unique()) <= set(statements.CHANNELS)


def test_accounts_per_business_and_holders(whole):
    c, r = whole
    accounts = r.tables["statements/accounts"]
    per = accounts.group_by("business_id").len()
    assert per["len"].min() >= 2
    assert per["len"].max() <= 4
    assert per.height == N
    names = c.businesses.select("business_id", "business_name", "legal_form", "region")
    owners = c.owners.select("business_id", pl.col("name").alias("owner"))
    a = accounts.join(names, on="business_id").join(owners, on="business_id")
    corporate = a.filter(pl.col("account_kind") == "corporate")
    personal = a.filter(pl.col("account_kind") == "personal")
    assert (corporate["holder_name"] == corporate["business_name"]).all()
    assert (personal["holder_name"] == personal["owner"]).all()
    # companies hold a corporate main account; many 个体工商户 use the owner's card
    main = a.filter(pl.col("account_id") % 10 == 0)
    assert (main.filter(pl.col("legal_form") != "个体工商户")["account_kind"] == "corporate").all()
    indiv = main.filter(pl.col("legal_form") == "个体工商户")
    assert 0.2 < (indiv["account_kind"] == "personal").mean() < 0.9
    # account numbers: digits, the region's bank code inside, Luhn-valid cards
    codes = {r.code: r.bank_code for r in c.config.regions}
    for row in a.iter_rows(named=True):
        no = row["account_no"]
        assert no.isdigit()
        assert codes[row["region"]] in no
        if row["account_kind"] == "personal":
            assert len(no) == 19
            assert _luhn_ok(no)


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def test_balances_reconcile_every_row_and_every_day(frames):
    accounts, tx, _ = frames
    signed = pl.when(pl.col("direction") == "in").then(pl.col("amount_fen"))
    t = tx.with_columns(signed.otherwise(-pl.col("amount_fen")).alias("signed"))
    t = t.join(accounts.select("account_id", "opening_balance_fen"), on="account_id")
    # each row: previous balance (or the opening balance) ± amount
    prev = pl.col("balance_fen").shift(1).over("account_id")
    t = t.with_columns(prev.fill_null(pl.col("opening_balance_fen")).alias("before"))
    assert (t["before"] + t["signed"] == t["balance_fen"]).all()
    assert (t["balance_fen"] >= 0).all()
    # each day: start-of-day + Σ in − Σ out = end-of-day, and a day starts where the last ended
    days = (
        t.group_by("account_id", "date", maintain_order=True)
        .agg(
            pl.col("before").first().alias("start"),
            pl.col("balance_fen").last().alias("end"),
            pl.col("signed").filter(pl.col("signed") > 0).sum().alias("ins"),
            (-pl.col("signed").filter(pl.col("signed") < 0)).sum().alias("outs"),
        )
        .sort("account_id", "date")
    )
    assert (days["start"] + days["ins"] - days["outs"] == days["end"]).all()
    carried = days.with_columns(pl.col("end").shift(1).over("account_id").alias("prev_end"))
    carried = carried.filter(pl.col("prev_end").is_not_null())
    assert (carried["start"] == carried["prev_end"]).all()
    # each account: opening + Σ in − Σ out = closing
    total = t.group_by("account_id").agg(pl.col("signed").sum())
    a = accounts.join(total, on="account_id", how="left").with_columns(
        pl.col("signed").fill_null(0)
    )
    assert (a["opening_balance_fen"] + a["signed"] == a["closing_balance_fen"]).all()
    last = t.group_by("account_id").agg(pl.col("balance_fen").last())
    a = a.join(last, on="account_id")
    assert (a["balance_fen"] == a["closing_balance_fen"]).all()
    # transactions inside the statement period
    span = tx.join(accounts, on="account_id")
    assert (span["date"] >= span["first_date"]).all()
    assert (span["date"] <= span["last_date"]).all()


def _monthly_totals(labelled: pl.DataFrame) -> pl.DataFrame:
    return (
        labelled.with_columns(pl.col("date").dt.truncate("1mo").alias("month"))
        .group_by("business_id", "month", "category", "direction")
        .agg(pl.col("amount_fen").sum())
    )


def test_category_totals_equal_the_monthly_flows(whole, frames):
    c, _ = whole
    _, _, labelled = frames
    totals = _monthly_totals(labelled)
    flows = c.monthly
    checked = 0
    for category, flow in statements.FLOW_OF_CATEGORY.items():
        direction = "out" if category in ("round_trip",) else None
        got = totals.filter(pl.col("category") == category)
        if category == "round_trip":
            got = got.filter(pl.col("direction") == "in")
            direction = "in"
        _ = direction
        expected = flows.select(
            "business_id", "month", (pl.col(flow) * 100).round().cast(pl.Int64).alias("want")
        )
        cmp = expected.join(
            got.select("business_id", "month", "amount_fen"),
            on=["business_id", "month"],
            how="left",
        ).with_columns(pl.col("amount_fen").fill_null(0))
        bad = cmp.filter(pl.col("want") != pl.col("amount_fen"))
        assert bad.height == 0, (category, bad.head())
        checked += int((cmp["want"] > 0).sum())
    assert checked > N * 24 * 5
    # cash: deposited in hundreds of yuan, a stable share of cash sales; household and cash
    # withdrawals together are the household flow
    wide = totals.pivot(
        on="category", index=["business_id", "month"], values="amount_fen", aggregate_function="sum"
    ).fill_null(0)
    m = flows.join(wide, on=["business_id", "month"], how="left").fill_null(0)
    cash = (pl.col("sales_cash") * 100).round().cast(pl.Int64)
    assert (m["cash_deposit"] % 10_000 == 0).all()
    assert m.filter(pl.col("cash_deposit") > cash).height == 0
    share = m.filter(pl.col("sales_cash") > 5000).with_columns(
        (pl.col("cash_deposit") / cash).alias("share")
    )
    spread = share.group_by("business_id").agg(pl.col("share").max() - pl.col("share").min())
    assert spread["share"].max() < 0.05
    assert share["share"].mean() > 0.3
    house = (pl.col("household") * 100).round().cast(pl.Int64)
    assert (m["household_right"] + m["cash_withdrawal"] == m.select(house).to_series()).all()
    assert (m["cash_withdrawal"] % 10_000 == 0).all()


def test_counts_per_business_month(whole, frames):
    c, _ = whole
    _, tx, labelled = frames
    months = c.config.months + c.config.follow_months
    per_bm = tx.height / (N * months)
    assert 70 <= per_bm <= 110, per_bm
    per_b = tx.group_by("business_id").len()
    assert per_b.height == N
    assert per_b["len"].min() >= 10 * months
    # retail and catering: many small receipts; manufacturing: fewer larger ones
    sales = labelled.filter(pl.col("category") == "sales_transfer").join(
        c.businesses.select("business_id", "industry"), on="business_id"
    )
    ticket = sales.group_by("industry").agg(pl.col("amount_fen").median())
    t = dict(ticket.iter_rows())
    assert t["manufacturing"] > 3 * t["catering"]
    # POS settles daily (T+1), platforms weekly, wallets every few days
    pos = labelled.filter(pl.col("category") == "sales_pos").with_columns(
        pl.col("date").dt.truncate("1mo").alias("month")
    )
    per_month = pos.group_by("business_id", "month").len()
    assert per_month["len"].median() >= 28
    plat = labelled.filter(pl.col("category") == "sales_platform")
    weekdays = plat.group_by("business_id").agg(pl.col("date").dt.weekday().n_unique())
    assert (weekdays["date"] <= 2).all()  # a fixed weekday (moved off month ends at most)


def test_same_business_same_rows_whatever_the_chunk(world, whole):
    _, r = whole
    ids = world.population.businesses["business_id"].to_numpy()[:21]
    parts = [
        statements.render(chunk(world, i, ids[s : s + 7])) for i, s in enumerate(range(0, 21, 7))
    ]
    keep = pl.col("business_id").is_in(pl.Series(ids).implode())
    for group, name in (
        ("tables", "statements/transactions"),
        ("tables", "statements/accounts"),
        ("truth", "transaction_labels"),
    ):
        small = pl.concat([getattr(p, group)[name] for p in parts])
        big = getattr(r, group)[name].filter(keep)
        assert_frame_equal(small, big)
    again = statements.render(chunk(world, 0, ids[:7]))
    assert_frame_equal(
        again.tables["statements/transactions"], parts[0].tables["statements/transactions"]
    )


def _months_open(c, debt) -> int:
    """Months of the window in which ``debt`` is repaid: after it opened, until its term ends."""
    opened = debt["opened"].year * 12 + debt["opened"].month - 1
    months = c.monthly.filter(pl.col("business_id") == debt["business_id"])["month_index"]
    running = months > opened
    if debt["term_months"]:
        running &= months <= opened + debt["term_months"]
    return int(running.sum())


def test_debts_appear_with_the_lender_and_disbursements_are_credited(whole, frames):
    c, _ = whole
    _, _, labelled = frames
    repay = labelled.filter(pl.col("category") == "lender_repayment")
    hidden = c.debts.filter(~pl.col("declared") & (pl.col("monthly_payment_fen") > 0))
    assert hidden.height > 5
    private_seen = 0
    for d in c.debts.filter(pl.col("monthly_payment_fen") > 0).iter_rows(named=True):
        rows = repay.filter(
            (pl.col("business_id") == d["business_id"])
            & (pl.col("amount_fen") == d["monthly_payment_fen"])
        )
        if d["lender_kind"] == "private":
            rows = rows.filter(pl.col("memo").is_in(["还款", "借款利息"]))
            assert rows.height >= _months_open(c, d), d
            assert not rows["counterparty_name"].str.contains("公司|银行").any()
            private_seen += 1
            continue
        keyword = d["lender"].split("(")[0]
        named = rows.filter(
            pl.col("counterparty_name").str.contains(keyword, literal=True)
            | pl.col("memo").str.contains(keyword, literal=True)
        )
        # a fixed monthly debit every month the debt runs inside the window, with its lender
        assert named.height >= _months_open(c, d), d
        assert named["channel"].n_unique() == 1
    # the hidden ones are among them (checked above): debts the officer was not told about
    assert hidden["business_id"].is_in(repay["business_id"].implode()).all()
    assert private_seen >= 1
    # debts opened inside the window: a credit on the opening day, of the principal
    disb = labelled.filter(pl.col("category") == "loan_disbursement")
    assert (disb["direction"] == "in").all()
    opened = c.debts.join(
        disb.select("business_id", pl.col("amount_fen").alias("principal_fen"), "date"),
        on=["business_id", "principal_fen"],
    )
    assert opened.height >= disb.height
    assert (opened["date"] == opened["opened"]).sum() >= disb.height


def test_round_trip_pairs_and_the_48_hour_rule(whole, frames):
    c, _ = whole
    accounts, tx, labelled = frames
    rt = labelled.filter(pl.col("category") == "round_trip")
    assert rt["round_trip_pair"].null_count() == 0
    assert labelled.filter(pl.col("category") != "round_trip")["round_trip_pair"].null_count() == (
        labelled.height - rt.height
    )
    legs = rt.group_by("round_trip_pair").agg(
        pl.col("direction").sort_by("ts"),
        pl.col("amount_fen").sort_by("ts"),
        (pl.col("ts").max() - pl.col("ts").min()).alias("gap"),
        pl.col("account_id").n_unique().alias("accounts"),
    )
    assert (legs["direction"].list.join(",") == "in,out").all()
    assert (legs["gap"] <= timedelta(hours=48)).all()
    assert (legs["accounts"] == 1).all()
    a_in = legs["amount_fen"].list.first()
    a_out = legs["amount_fen"].list.last()
    assert ((a_in - a_out).abs() <= 0.01 * a_in).all()
    assert (a_in == a_out).mean() > 0.3  # 整进整出
    assert (a_in % 1_000_000 == 0).mean() > 0.5  # round sums
    fraud = labelled.filter(pl.col("is_fraud_pattern"))
    assert set(fraud["category"].unique()) <= {"round_trip", "consulting_fee"}
    truth = c.truth.select("business_id", "round_trips", "inflates_sales")
    rt_firms = set(rt["business_id"].unique())
    assert rt_firms <= set(truth.filter("round_trips")["business_id"])
    consult = set(labelled.filter(pl.col("category") == "consulting_fee")["business_id"])
    assert consult <= set(truth.filter("inflates_sales")["business_id"])

    flagged = _quick_in_quick_out(tx, accounts)
    t = truth.join(flagged, on="business_id", how="left").with_columns(pl.col("pairs").fill_null(0))
    hit = t["pairs"] >= 5
    base = t["round_trips"].mean()
    precision = (hit & t["round_trips"]).sum() / max(hit.sum(), 1)
    recall = (hit & t["round_trips"]).sum() / t["round_trips"].sum()
    assert precision >= 3 * base, (precision, base)
    assert recall >= 0.7


def _quick_in_quick_out(tx: pl.DataFrame, accounts: pl.DataFrame) -> pl.DataFrame:
    """快进快出: inflows of 10,000 yuan or more followed within 48 hours by an outflow of the
    same amount ±1 % on the same account, own-account transfers excluded (observable only);
    the number of such inflows per business."""
    own = accounts.select(
        "business_id", pl.col("account_no").alias("counterparty_account"), pl.lit(1).alias("own")
    )
    t = tx.join(own, on=["business_id", "counterparty_account"], how="left").filter(
        pl.col("own").is_null()
    )
    ins = (
        t.filter((pl.col("direction") == "in") & (pl.col("amount_fen") >= 1_000_000))
        .select(
            "account_id",
            "business_id",
            pl.col("txn_id").alias("in_id"),
            pl.col("ts").alias("ts_in"),
            pl.col("amount_fen").alias("a_in"),
            pl.concat_list([pl.col("date") + pl.duration(days=k) for k in range(3)]).alias("d"),
        )
        .explode("d")
    )
    outs = t.filter(pl.col("direction") == "out").select(
        "account_id",
        pl.col("ts").alias("ts_out"),
        pl.col("amount_fen").alias("a_out"),
        pl.col("date").alias("d"),
    )
    pairs = ins.join(outs, on=["account_id", "d"]).filter(
        (pl.col("ts_out") >= pl.col("ts_in"))
        & (pl.col("ts_out") - pl.col("ts_in") <= pl.duration(hours=48))
        & ((pl.col("a_out") - pl.col("a_in")).abs() <= 0.01 * pl.col("a_in"))
    )
    return pairs.group_by("business_id").agg(pl.col("in_id").n_unique().alias("pairs"))


def test_own_transfers_interest_and_gambling(frames):
    accounts, _, labelled = frames
    own = labelled.filter(pl.col("category") == "own_transfer")
    # both legs: same amount, same second, opposite directions, the other account named
    legs = own.group_by("business_id", "ts", "amount_fen").agg(
        pl.col("direction").sort().alias("d"), pl.len()
    )
    assert (legs["len"] % 2 == 0).all()
    assert legs.filter(pl.col("len") == 2)["d"].list.join(",").eq("in,out").all()
    numbers = set(accounts["account_no"])
    assert own["counterparty_account"].is_in(list(numbers)).all()
    # quarterly interest: the 21st of the last month of a quarter, ≈ ADB × 0.35 % / 4
    interest = labelled.filter(pl.col("category") == "interest")
    assert (interest["date"].dt.day() == 21).all()
    assert interest["date"].dt.month().is_in([3, 6, 9, 12]).all()
    assert (interest["direction"] == "in").all()
    q = interest.join(
        labelled.filter(pl.col("category") != "interest")
        .group_by("account_id")
        .agg(pl.col("balance_fen").mean().alias("mean_balance")),
        on="account_id",
    )
    ratio = (q["amount_fen"] / (q["mean_balance"] * 0.0035 / 4)).median()
    assert 0.5 < ratio < 1.5
    # gambling-like merchants, at night, only for a few undisciplined businesses
    gamble = labelled.filter(pl.col("category") == "gambling")
    if gamble.height:
        assert gamble["counterparty_name"].str.contains("游戏|娱乐|棋牌").all()
        hours = gamble["ts"].dt.hour()
        assert ((hours >= 20) | (hours <= 2)).all()
        assert gamble["business_id"].n_unique() < 0.2 * N
    # consulting fees: large credits from related companies
    consult = labelled.filter(pl.col("category") == "consulting_fee")
    assert (consult["amount_fen"] % 100_000 == 0).mean() > 0.3
    # household spending, cash withdrawals and gambling leave from personal cards only
    kinds = labelled.join(accounts.select("account_id", "account_kind"), on="account_id")
    private = kinds.filter(pl.col("category").is_in(["household", "cash_withdrawal", "gambling"]))
    assert (private["account_kind"] == "personal").all()
    # memos are Chinese and vary; sales receipts come from customers, wallets from 财付通/支付宝
    wallet = labelled.filter(pl.col("category") == "sales_wallet")
    assert set(wallet["memo"].unique()) <= {"财付通提现", "支付宝提现"}
    assert labelled["memo"].n_unique() > 30
    _ = np


# Each store platform's payouts in a bank statement: memo (摘要) and payer.
_STORE_PAYOUT = {
    "淘宝": ("淘宝提现", "支付宝(中国)网络技术有限公司"),
    "天猫": ("天猫提现", "支付宝(中国)网络技术有限公司"),
    "京东": ("京东结算", "北京京东世纪贸易有限公司"),
    "拼多多": ("拼多多提现", "上海寻梦信息技术有限公司"),
    "抖音": ("抖音结算", "抖音支付科技有限公司"),
}


def test_platform_payouts_come_from_the_business_stores(whole, frames):
    c, _ = whole
    _, _, labelled = frames
    stores = channels.render(c).tables["ecommerce/store_monthly"]
    assert set(stores["platform"].unique()) <= set(_STORE_PAYOUT)
    assert {p.name_zh for p in channels.PLATFORMS} == set(_STORE_PAYOUT)
    payout = pl.DataFrame(
        [(k, m, cp) for k, (m, cp) in _STORE_PAYOUT.items()],
        schema=["platform", "memo", "payer"],
        orient="row",
    )
    credits = labelled.filter(pl.col("category") == "sales_platform")
    assert (credits["direction"] == "in").all()
    # payer and memo belong to one of the business's store platforms
    allowed = stores.select("business_id", "platform").unique().join(payout, on="platform")
    store_ids = allowed["business_id"].unique()
    of_stores = credits.filter(pl.col("business_id").is_in(store_ids.implode()))
    assert of_stores.height > 500
    matched = of_stores.join(
        allowed,
        left_on=["business_id", "memo", "counterparty_name"],
        right_on=["business_id", "memo", "payer"],
        how="left",
    )
    assert matched["platform"].null_count() == 0
    # each platform's credits of a month are its stores' payouts of that month, to the fen
    per_store = (
        stores.join(payout, on="platform")
        .group_by("business_id", "memo", "month")
        .agg(pl.col("payout_fen").sum())
    )
    per_memo = (
        of_stores.with_columns(pl.col("date").dt.truncate("1mo").alias("month"))
        .group_by("business_id", "memo", "month")
        .agg(pl.col("amount_fen").sum())
    )
    both = per_store.join(per_memo, on=["business_id", "memo", "month"], how="full", coalesce=True)
    assert both.height == stores.height
    assert (both["payout_fen"] == both["amount_fen"]).all()
    # a business with two stores is paid by both platforms, each on its own weekday
    two = (
        stores.group_by("business_id")
        .agg(pl.col("platform").n_unique())
        .filter(pl.col("platform") == 2)
    )
    assert two.height >= 5
    paid_by = of_stores.filter(pl.col("business_id").is_in(two["business_id"].implode()))
    weekdays = paid_by.group_by("business_id", "memo").agg(pl.col("date").dt.weekday().n_unique())
    assert weekdays.height == 2 * two.height
    assert (weekdays["date"] == 1).all()
    assert (
        paid_by.group_by("business_id").agg(pl.col("date").dt.weekday().n_unique())["date"] == 2
    ).all()
