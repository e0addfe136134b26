"""Transaction-flow analysis (交易流水分析): hand-computed examples and measured quality on a
simulated run (300 businesses, 12 months)."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.analysis import flows as F  # noqa: N812
from xiaowei.analysis.flags import Flag
from xiaowei.core.errors import InvalidInput

# --- hand-built statements --------------------------------------------------------------------


def _stmt(rows: list[tuple[Any, ...]], business_id: int = 1) -> pl.DataFrame:
    """rows: (account, date, time, direction, amount, balance, counterparty, cp_account, memo)."""
    cols: tuple[str, ...] = ("account_id", "date", "time", "direction", "amount_fen")
    cols += ("balance_fen", "counterparty_name", "counterparty_account", "memo")
    frame = pl.DataFrame(
        [dict(zip(cols, r, strict=True)) for r in rows],
        schema={
            "account_id": pl.String,
            "date": pl.Date,
            "time": pl.Time,
            "direction": pl.String,
            "amount_fen": pl.Int64,
            "balance_fen": pl.Int64,
            "counterparty_name": pl.String,
            "counterparty_account": pl.String,
            "memo": pl.String,
        },
    )
    return frame.with_columns(
        row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        business_id=pl.lit(business_id, pl.Int64),
        channel=pl.lit("网银"),
    )


T = time(10, 0)


def _adb_statement() -> pl.DataFrame:
    return _stmt(
        [
            ("A", date(2025, 1, 1), T, "in", 1000, 1000, "客户甲", "1", "货款"),
            ("A", date(2025, 1, 11), T, "out", 400, 600, "供应商", "2", "货款"),
            ("B", date(2025, 1, 21), T, "in", 100, 300, "客户乙", "3", "货款"),
            ("A", date(2025, 3, 5), T, "in", 50, 650, "客户甲", "1", "货款"),
        ]
    )


def test_average_daily_balance_carries_balances_forward_and_sums_accounts() -> None:
    cfg = F.FlowsConfig(low_balance_fen=850)
    m = F.monthly_table(_adb_statement(), config=cfg)
    jan, feb, mar = m.sort("month").iter_rows(named=True)
    # account A: 1,000 for 10 days, 600 for 21; account B: opening 200 for 20 days, 300 for 11
    assert jan["average_daily_balance"] == pytest.approx(
        (1000 * 10 + 600 * 21 + 200 * 20 + 300 * 11) / 31
    )
    # totals: 1,200 (1–10), 800 (11–20), 900 (21–31)
    assert jan["min_balance"] == 800
    assert jan["low_balance_days"] == 10
    assert jan["month_end_balance"] == 900
    assert (jan["inflow"], jan["outflow"], jan["net"]) == (1100, 400, 700)
    # February has no transaction: both balances carried over the whole month
    assert feb["month"] == date(2025, 2, 1)
    assert feb["average_daily_balance"] == pytest.approx(900.0)
    assert (feb["inflow"], feb["outflow"], feb["revenue_estimate"], feb["low_balance_days"]) == (
        0,
        0,
        0,
        0,
    )
    assert mar["average_daily_balance"] == pytest.approx((900 * 4 + 950 * 27) / 31)


def test_revenue_excludes_own_transfers_loans_refunds_interest_and_capital() -> None:
    tx = _stmt(
        [
            ("A", date(2025, 1, 2), T, "in", 10_000, 10_000, "客户甲", "1", "货款"),
            ("A", date(2025, 1, 3), T, "in", 5_000, 15_000, "张三", "999", "转账"),
            ("A", date(2025, 1, 4), T, "in", 7_000, 22_000, "某某银行", "5", "贷款发放"),
            ("A", date(2025, 1, 5), T, "in", 300, 22_300, "客户乙", "2", "退款"),
            ("A", date(2025, 1, 6), T, "in", 20, 22_320, None, None, "结息"),
            ("A", date(2025, 1, 7), T, "in", 9_000, 31_320, "李四", "3", "股东投资款"),
            ("A", date(2025, 1, 8), T, "in", 2_000, 33_320, "客户乙", "2", "货款"),
        ]
    )
    m = F.monthly_table(tx, own=["999"])
    row = m.row(0, named=True)
    assert row["revenue_estimate"] == 12_000
    assert row["own_transfer_in"] == 5_000
    assert row["revenue_count"] == 2
    # the owner's name counts as own too
    m2 = F.monthly_table(tx, own=["张三"])
    assert m2["revenue_estimate"][0] == 12_000


def test_concentration_top_shares_and_hhi() -> None:
    tx = _stmt(
        [
            ("A", date(2025, 1, 2), T, "in", 400, 400, "甲", "1", "货款"),
            ("A", date(2025, 1, 3), T, "in", 300, 700, "乙", "2", "货款"),
            ("A", date(2025, 1, 4), T, "in", 100, 800, "丙", "3", "货款"),
            ("A", date(2025, 1, 5), T, "in", 200, 1000, "甲", "1", "货款"),
            ("A", date(2025, 1, 6), T, "in", 500, 1500, None, None, "现金存入"),
        ]
    )
    f = F.flow_features(tx).row(0, named=True)
    # customers with a name: 甲 600, 乙 300, 丙 100 (cash left out)
    assert f["customer_top1_share_3m"] == pytest.approx(0.6)
    assert f["customer_top5_share_3m"] == pytest.approx(1.0)
    assert f["customer_hhi_3m"] == pytest.approx(0.36 + 0.09 + 0.01)
    assert f["customer_count_3m"] == 3
    assert f["revenue_3m"] == 1500


def test_trend_cv_seasonality_night_and_cash_share() -> None:
    rows: list[tuple[Any, ...]] = []
    bal = 0
    for i, amount in enumerate((100, 200, 300)):
        bal += amount
        rows.append(("A", date(2025, 1 + i, 10), T, "in", amount, bal, "甲", "1", "货款"))
    rows.append(("A", date(2025, 3, 11), time(2, 30), "out", 60, bal - 60, None, None, "ATM取款"))
    rows.append(("A", date(2025, 3, 12), T, "out", 40, bal - 100, "供应商", "2", "货款"))
    f = F.flow_features(_stmt(rows)).row(0, named=True)
    assert f["revenue_mean_3m"] == pytest.approx(200.0)
    assert f["revenue_trend_3m"] == pytest.approx(100 / 200)
    assert f["revenue_cv_3m"] == pytest.approx(100 / 200)
    assert f["seasonality_index_3m"] == pytest.approx(1.5)
    assert f["night_share_3m"] == pytest.approx(1 / 5)
    assert f["cash_share_3m"] == pytest.approx(0.6)
    assert f["months_3m"] == 3
    assert f["months_12m"] == 3


def test_round_trip_pair_within_48_hours_and_one_percent() -> None:
    tx = _stmt(
        [
            ("A", date(2025, 1, 2), T, "in", 2_000_000, 2_000_000, "关联公司", "7", "往来款"),
            (
                "A",
                date(2025, 1, 3),
                time(16, 0),
                "out",
                2_010_000,
                -10_000,
                "关联公司",
                "7",
                "还款",
            ),
            ("A", date(2025, 1, 10), T, "in", 3_000_000, 2_990_000, "关联公司", "7", "往来款"),
            # 50 hours later: too late
            (
                "A",
                date(2025, 1, 12),
                time(12, 0),
                "out",
                3_000_000,
                -10_000,
                "关联公司",
                "7",
                "还款",
            ),
            # 2 % off: not the same amount
            ("A", date(2025, 1, 20), T, "in", 1_000_000, 990_000, "关联公司", "7", "往来款"),
            (
                "A",
                date(2025, 1, 20),
                time(11, 0),
                "out",
                1_020_000,
                -30_000,
                "关联公司",
                "7",
                "转账",
            ),
        ]
    )
    cfg = F.FlowsConfig(round_trip_min_pairs=1)
    flags = F.flow_flags(tx, config=cfg)
    (rt,) = [f for f in flags[1] if f.code == "round_tripping"]
    assert rt.transactions == (1, 2)
    assert rt.evidence["pairs"] == 1
    # the inflow leg is not revenue once the business is flagged
    assert F.monthly_table(tx, config=cfg)["revenue_estimate"][0] == 4_000_000
    assert not any(f.code == "round_tripping" for f in F.flow_flags(tx).get(1, []))


def test_balance_mismatch_names_the_row_and_descending_files_reconcile() -> None:
    good = [
        ("A", date(2025, 1, 2), T, "in", 100, 100, "甲", "1", "货款"),
        ("A", date(2025, 1, 2), T, "in", 50, 150, "甲", "1", "货款"),
        ("A", date(2025, 1, 3), T, "out", 30, 120, "乙", "2", "货款"),
    ]
    assert not any(f.code == "balance_mismatch" for f in F.flow_flags(_stmt(good)).get(1, []))
    # newest first, same time stamps on one day: the file's order breaks the tie
    desc = _stmt(list(reversed(good)))
    assert "balance_mismatch" not in {f.code for f in F.flow_flags(desc).get(1, [])}
    bad = [*good, ("A", date(2025, 1, 4), T, "out", 20, 90, "乙", "2", "货款")]
    bad.append(("A", date(2025, 1, 5), T, "in", 10, 100, "甲", "1", "货款"))
    (mm,) = [f for f in F.flow_flags(_stmt(bad))[1] if f.code == "balance_mismatch"]
    assert mm.transactions == (4,)


def test_keyword_flags_hidden_debt_gambling_cash_and_consulting() -> None:
    rows: list[tuple[Any, ...]] = []
    bal = 10_000_000
    for month in range(1, 7):
        d = date(2025, month, 5)
        bal -= 1_000
        rows.append(("A", d, time(1, 0), "out", 1_000, bal, "金沙娱乐", "6", "快捷支付"))
        bal += 100_000
        rows.append(("A", d, T, "in", 100_000, bal, f"客户{month}", "1", "货款"))
        for cp, memo in (
            ("重庆蚂蚁消费金融有限公司", "借呗还款"),
            ("中国农业银行股份有限公司分行", "归还贷款本息"),
        ):
            bal -= 5_000
            rows.append(("A", d, T, "out", 5_000, bal, cp, "9", memo))
        bal -= 3_000
        rows.append(("A", d, T, "out", 3_000, bal, "王五", "8", "还款"))  # private, fixed monthly
        bal -= 500
        rows.append(("A", d, T, "out", 500, bal, "招商银行信用卡中心", "5", "信用卡还款"))
    bal -= 6_000_000
    rows.append(("A", date(2025, 6, 20), T, "out", 6_000_000, bal, None, None, "取现"))
    bal += 2_000_000
    rows.append(
        ("A", date(2025, 6, 21), T, "in", 2_000_000, bal, "某某商务咨询有限公司", "4", "咨询费")
    )
    tx = _stmt(rows)
    flags = {f.code: f for f in F.flow_flags(tx, declared_lenders=["中国农业银行"])[1]}
    assert set(flags) == {
        "hidden_debt",
        "gambling",
        "large_cash_withdrawal",
        "consulting_fee_inflow",
    }
    hidden_rows = set(flags["hidden_debt"].transactions)
    ant = set(tx.filter(pl.col("memo") == "借呗还款")["row"])
    private = set(tx.filter(pl.col("counterparty_name") == "王五")["row"])
    assert hidden_rows == ant | private
    assert len(flags["gambling"].transactions) == 6
    assert flags["large_cash_withdrawal"].transactions == (tx.height - 1,)
    assert flags["consulting_fee_inflow"].transactions == (tx.height,)
    # declaring the platform product and the private loan clears hidden_debt
    ok = F.flow_flags(tx, declared_lenders=["中国农业银行", "重庆蚂蚁消费金融(借呗)", "民间借贷"])
    assert "hidden_debt" not in {f.code for f in ok[1]}
    # the consulting credit is left out of revenue
    assert F.monthly_table(tx)["revenue_estimate"].sum() == 600_000
    feats = F.flow_features(tx).row(0, named=True)
    assert feats["lender_count_12m"] == 3  # the card bill is not a lender
    assert feats["gambling_12m"] == 6_000


def test_simulator_layout_is_accepted() -> None:
    tx = pl.DataFrame(
        {
            "txn_id": [10, 11],
            "account_id": [1, 1],
            "business_id": [5, 5],
            "ts": [datetime(2025, 1, 1, 9), datetime(2025, 1, 2, 9)],
            "direction": ["in", "out"],
            "amount_fen": [100, 40],
            "balance_fen": [100, 60],
            "counterparty_name": ["甲", "乙"],
            "counterparty_account": ["1", "2"],
            "memo": ["货款", "货款"],
            "channel": ["网银", "网银"],
        }
    )
    m = F.monthly_table(tx)
    assert m["business_id"].to_list() == [5]
    assert m["revenue_estimate"][0] == 100


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.drop("balance_fen"), "balance_fen"),
        (lambda d: d.with_columns(direction=pl.lit("credit")), "direction"),
        (lambda d: d.with_columns(pl.col("amount_fen").cast(pl.Float64)), "amount_fen"),
        (lambda d: d.with_columns(amount_fen=pl.lit(-1, pl.Int64)), "amount_fen"),
        (lambda d: d.with_columns(date=pl.lit("2025-01-01")), "date"),
        (lambda d: d.drop("row"), "row"),
    ],
)
def test_bad_input_names_the_field(change: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        F.monthly_table(change(_adb_statement()))
    assert err.value.field == field


def test_bad_own_and_declared_inputs() -> None:
    with pytest.raises(InvalidInput, match="own"):
        F.monthly_table(_adb_statement(), own="6222")
    with pytest.raises(InvalidInput, match=r"declared_lenders\.lender"):
        F.flow_flags(_adb_statement(), declared_lenders=pl.DataFrame({"business_id": [1]}))
    with pytest.raises(ValueError, match="windows_months"):
        F.FlowsConfig(windows_months=())


# --- on a simulated run -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from xiaowei.simulate.config import SimulationConfig
    from xiaowei.simulate.generate import run
    from xiaowei.simulate.output import read_table

    out: Path = tmp_path_factory.mktemp("flows") / "sim"
    run(
        SimulationConfig(businesses=300, seed=7, follow_months=0),
        out,
        workers=1,
        formats=["parquet"],
    )
    tx = read_table(out, "statements/transactions")
    acc = read_table(out, "statements/accounts")
    names = pl.concat(
        [
            acc.select("business_id", name="holder_name"),
            read_table(out, "businesses").select("business_id", name="business_name"),
            read_table(out, "owners").select("business_id", "name"),
        ]
    )
    own = F.own_identities(acc.select("business_id", "account_no"), names)
    debts = read_table(out, "truth/debts")
    prepared = F.prepare(tx, own)
    flags = F.flow_flags(
        prepared, declared_lenders=debts.filter("declared").select("business_id", "lender")
    )
    return {
        "tx": tx,
        "prepared": prepared,
        "monthly": F.monthly_table(prepared),
        "flags": flags,
        "truth": read_table(out, "truth/businesses"),
        "debts": debts,
        "labels": read_table(out, "truth/transaction_labels"),
        "flows": read_table(out, "truth/monthly_flows"),
    }


def _flagged(flags: dict[int, list[Flag]], code: str) -> set[int]:
    return {b for b, fs in flags.items() if any(f.code == code for f in fs)}


def _precision_recall(flagged: set[int], truth: set[int]) -> tuple[float, float]:
    hit = len(flagged & truth)
    return hit / max(len(flagged), 1), hit / max(len(truth), 1)


def test_revenue_estimate_matches_bank_channel_sales(sim: dict[str, Any]) -> None:
    tx, labels, flows, truth = sim["tx"], sim["labels"], sim["flows"], sim["truth"]
    deposits = (
        tx.join(labels, on=["txn_id", "business_id"])
        .filter(pl.col("category") == "cash_deposit")
        .group_by("business_id")
        .agg(dep=pl.col("amount_fen").sum())
    )
    sales = flows.group_by("business_id").agg(
        s=(
            pl.col("sales_transfer")
            + pl.col("sales_pos")
            + pl.col("sales_platform")
            + pl.col("sales_wallet")
        ).sum()
        * 100
    )
    est = sim["monthly"].group_by("business_id").agg(pl.col("revenue_estimate").sum())
    cmp = (
        sales.join(deposits, on="business_id", how="left")
        .join(est, on="business_id")
        .join(truth, on="business_id")
        .with_columns(
            err=(pl.col("revenue_estimate") / (pl.col("s") + pl.col("dep").fill_null(0)) - 1).abs()
        )
    )
    honest = cmp.filter(~pl.col("inflates_sales") & ~pl.col("round_trips"))
    assert honest.height > 200
    # honest businesses: 12-month revenue within 3 % (exact for most)
    assert honest["err"].max() < 0.03
    assert honest["err"].median() < 0.001
    # round-trippers: the pairs are removed; unpaired legs leave < 10 %
    assert cmp.filter(pl.col("round_trips") & ~pl.col("inflates_sales"))["err"].max() < 0.10
    # inflaters: large consulting credits are removed; those booked as 货款 remain (< 25 %)
    assert cmp.filter(pl.col("inflates_sales"))["err"].max() < 0.25


def test_round_tripping_flag_against_truth(sim: dict[str, Any]) -> None:
    truth = set(sim["truth"].filter("round_trips")["business_id"].to_list())
    base = len(truth) / sim["truth"].height
    precision, recall = _precision_recall(_flagged(sim["flags"], "round_tripping"), truth)
    assert precision >= 5 * base
    assert recall >= 0.8
    # evidence rows are the labelled round-trip legs for the true round-trippers
    labels = sim["labels"].filter(pl.col("category") == "round_trip")
    legs = set(labels["txn_id"].to_list())
    rows = [
        r
        for b in truth
        for f in sim["flags"].get(b, [])
        if f.code == "round_tripping"
        for r in f.transactions
    ]
    assert sum(r in legs for r in rows) / len(rows) > 0.9


def test_hidden_debt_flag_against_truth(sim: dict[str, Any]) -> None:
    truth = set(sim["debts"].filter(~pl.col("declared"))["business_id"].to_list())
    base = len(truth) / sim["truth"].height
    precision, recall = _precision_recall(_flagged(sim["flags"], "hidden_debt"), truth)
    assert precision >= 5 * base
    assert recall >= 0.7


def test_gambling_and_consulting_flags_hit_the_labelled_businesses(sim: dict[str, Any]) -> None:
    labels = sim["labels"]
    gamblers = set(labels.filter(pl.col("category") == "gambling")["business_id"].to_list())
    assert gamblers
    assert _flagged(sim["flags"], "gambling") == gamblers
    consult = set(labels.filter(pl.col("category") == "consulting_fee")["business_id"].to_list())
    precision, recall = _precision_recall(_flagged(sim["flags"], "consulting_fee_inflow"), consult)
    assert precision >= 0.9
    assert recall >= 0.9
    # the simulator's statements reconcile: no balance_mismatch
    assert not _flagged(sim["flags"], "balance_mismatch")


def test_features_cover_every_business_and_window(sim: dict[str, Any]) -> None:
    feats = F.flow_features(sim["prepared"], monthly=sim["monthly"])
    assert feats.height == sim["truth"].height
    assert feats["months_12m"].min() == 12
    assert feats["months_3m"].max() == 3
    assert (feats["revenue_12m"] >= feats["revenue_6m"]).all()
    assert feats["customer_hhi_12m"].is_between(0, 1).all()
    assert feats["night_share_12m"].is_between(0, 1).all()
    # gamblers spend at night: their night share is higher
    gamblers = sim["labels"].filter(pl.col("category") == "gambling")["business_id"].unique()
    g = feats.filter(pl.col("business_id").is_in(gamblers.implode()))["night_share_12m"].mean()
    o = feats.filter(~pl.col("business_id").is_in(gamblers.implode()))["night_share_12m"].mean()
    assert isinstance(g, float)
    assert isinstance(o, float)
    assert g > o
    # months JSON for the credit file
    months = F.months_json(sim["monthly"], 1)
    assert len(months) == 12
    assert set(months[0]) == {
        "month",
        "inflow",
        "outflow",
        "revenue_estimate",
        "average_daily_balance",
    }


# --- property: ADB and low-balance days against a day-by-day computation -----------------------

_txn = st.tuples(
    st.integers(0, 2),  # account
    st.integers(0, 89),  # day offset from 2025-01-01
    st.booleans(),  # inflow
    st.integers(1, 5_000),  # amount
)


@settings(max_examples=60, deadline=None)
@given(
    txns=st.lists(_txn, min_size=1, max_size=30),
    openings=st.tuples(*[st.integers(-2_000, 10_000)] * 3),
)
def test_balances_match_a_day_by_day_walk(
    txns: list[tuple[int, int, bool, int]], openings: tuple[int, int, int]
) -> None:
    start = date(2025, 1, 1)
    ordered = sorted(txns, key=lambda t: (t[0], t[1]))
    balance = list(openings)
    rows = []
    for acct, day, inflow, amount in ordered:
        balance[acct] += amount if inflow else -amount
        d = date.fromordinal(start.toordinal() + day)
        direction = "in" if inflow else "out"
        rows.append((str(acct), d, T, direction, amount, balance[acct], "甲", "1", "货款"))
    cfg = F.FlowsConfig(low_balance_fen=3_000)
    m = F.monthly_table(_stmt(rows), config=cfg)
    # naive walk: every calendar day of the months covered, each account's end-of-day balance
    used = {t[0] for t in ordered}
    first = min(date.fromordinal(start.toordinal() + t[1]) for t in ordered).replace(day=1)
    last = max(date.fromordinal(start.toordinal() + t[1]) for t in ordered)
    end = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    eod = {a: openings[a] for a in used}
    per_day: dict[date, int] = {}
    by_day: dict[tuple[int, int], int] = {}
    bal = list(openings)
    for acct, day, inflow, amount in ordered:
        bal[acct] += amount if inflow else -amount
        by_day[(acct, day)] = bal[acct]
    d = first
    while d < end:
        offset = d.toordinal() - start.toordinal()
        for a in used:
            if (a, offset) in by_day:
                eod[a] = by_day[(a, offset)]
        per_day[d] = sum(eod.values())
        d = date.fromordinal(d.toordinal() + 1)
    for r in m.iter_rows(named=True):
        days = [
            v
            for k, v in per_day.items()
            if (k.year, k.month) == (r["month"].year, r["month"].month)
        ]
        assert r["average_daily_balance"] == pytest.approx(sum(days) / len(days))
        assert r["min_balance"] == min(days)
        assert r["low_balance_days"] == sum(v < 3_000 for v in days)
        assert r["negative_balance_days"] == sum(v < 0 for v in days)
    assert m["inflow"].sum() == sum(t[3] for t in ordered if t[2])
