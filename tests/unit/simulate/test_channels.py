"""Alternative data channels: POS settlements, e-commerce stores, web traffic, attendance."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from xiaowei.simulate import channels
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.flows import FLOW_COLUMNS
from xiaowei.simulate.world import build_world, chunk, chunks

TABLES = ("pos/settlements", "ecommerce/store_monthly", "web/traffic", "workplace/attendance")


@pytest.fixture(scope="module")
def world():
    # A risky population so that enough defaulters show precursors inside the window.
    return build_world(
        SimulationConfig(businesses=400, seed=21, target_default_rate=0.2, precursor_share=1.0)
    )


@pytest.fixture(scope="module")
def whole(world):
    return next(chunks(world))


@pytest.fixture(scope="module")
def rendered(whole):
    return channels.render(whole)


def _fen(column: str) -> pl.Expr:
    return (pl.col(column) * 100).round().cast(pl.Int64)


def test_pos_monthly_gross_equals_sales_pos_to_the_fen(whole, rendered):
    pos = rendered.tables["pos/settlements"]
    monthly = pos.group_by(
        "business_id", pl.col("trade_date").dt.truncate("1mo").alias("month")
    ).agg(pl.col("gross_fen").sum())
    merchants = whole.businesses.filter("has_pos").select("business_id")
    expected = whole.monthly.join(merchants, on="business_id").select(
        "business_id", "month", _fen("sales_pos").alias("sales_pos_fen")
    )
    joined = expected.join(monthly, on=["business_id", "month"], how="left").with_columns(
        pl.col("gross_fen").fill_null(0)
    )
    assert joined.height == merchants.height * (whole.config.months + whole.config.follow_months)
    assert (joined["gross_fen"] == joined["sales_pos_fen"]).all()
    assert joined["sales_pos_fen"].sum() > 0
    # only the POS merchants have settlements
    assert set(pos["business_id"].unique()) <= set(merchants["business_id"])


def test_pos_rows_are_consistent_settlements(rendered):
    pos = rendered.tables["pos/settlements"]
    assert (pos["net_fen"] == pos["gross_fen"] - pos["refund_fen"] - pos["fee_fen"]).all()
    assert (pos["settle_date"] - pos["trade_date"] == timedelta(days=1)).all()
    assert (pos["gross_fen"] > 0).all()
    assert (pos["txn_count"] >= 1).all()
    assert (pos["refund_fen"] >= 0).all()
    assert (pos["refund_fen"] <= pos["gross_fen"]).all()
    rates = pos.group_by("merchant_id").agg(
        (pl.col("fee_fen").sum() / (pl.col("gross_fen") - pl.col("refund_fen")).sum()).alias("r")
    )["r"]
    assert rates.min() > 0.0036
    assert rates.max() < 0.0062
    ids = pos.select("merchant_id", "mcc").unique()
    assert ids["merchant_id"].str.len_chars().eq(15).all()
    assert (ids["merchant_id"].str.slice(7, 4) == ids["mcc"]).all()
    # one merchant per business; one row per trading day
    assert (
        pos.group_by("business_id").agg(pl.col("merchant_id").n_unique())["merchant_id"].max() == 1
    )
    assert pos.select("business_id", "trade_date").is_unique().all()


def test_mcc_fits_the_trade_except_for_some_dishonest(whole, rendered):
    merchants = rendered.truth["channels/pos_merchants"].join(
        whole.businesses.select("business_id", "industry", "business_name"), on="business_id"
    )
    expected = [
        channels.expected_mcc(i, n)
        for i, n in zip(merchants["industry"], merchants["business_name"], strict=True)
    ]
    assert merchants["expected_mcc"].to_list() == expected
    fit = merchants.filter(~pl.col("mcc_mismatch"))
    assert (fit["mcc"] == fit["expected_mcc"]).all()
    catering = fit.filter(pl.col("industry") == "catering")
    assert catering.height > 0
    assert catering["mcc"].is_in(["5812", "5814"]).all()
    misfit = merchants.filter("mcc_mismatch")
    assert misfit.height > 0
    assert (misfit["mcc"] != misfit["expected_mcc"]).all()
    dishonest = whole.truth.filter(
        pl.col("inflates_sales") | pl.col("hides_debt") | pl.col("round_trips")
    )["business_id"]
    assert misfit["business_id"].is_in(dishonest.implode()).all()
    # the settlements carry the registered code (a merchant whose customers all pay by
    # transfer may have no settlement at all: a dormant POS account)
    observed = rendered.tables["pos/settlements"].select("business_id", "mcc").unique()
    assert observed.height >= 0.95 * merchants.height
    assert_frame_equal(
        observed.sort("business_id"),
        merchants.select("business_id", "mcc")
        .join(observed.select("business_id"), on="business_id")
        .sort("business_id"),
    )


def test_ecommerce_gmv_covers_payout_refunds_and_commission(whole, rendered):
    stores = rendered.tables["ecommerce/store_monthly"]
    assert stores.height > 0
    assert (
        stores["gmv_fen"] == stores["payout_fen"] + stores["refund_fen"] + stores["commission_fen"]
    ).all()
    assert (stores["gmv_fen"] >= stores["payout_fen"]).all()
    assert (stores["commission_fen"] >= 0).all()
    assert (stores["refund_fen"] >= 0).all()
    # the stores' payouts are the month's platform sales, to the fen
    payouts = stores.group_by("business_id", "month").agg(pl.col("payout_fen").sum())
    sellers = whole.businesses.filter("has_ecommerce").select("business_id")
    expected = (
        whole.monthly.join(sellers, on="business_id")
        .select("business_id", "month", _fen("sales_platform").alias("platform_fen"))
        .filter(pl.col("platform_fen") > 0)
    )
    joined = expected.join(payouts, on=["business_id", "month"], how="full", coalesce=True)
    assert joined.null_count().sum_horizontal().item() == 0
    assert (joined["payout_fen"] == joined["platform_fen"]).all()
    # orders, AOV and refunds hang together; commission rates within the platforms' ranges
    assert (stores["orders"] >= 1).all()
    assert (stores["refund_orders"] <= stores["orders"]).all()
    assert (stores["aov_fen"] == stores["gmv_fen"] // stores["orders"]).all()
    net = stores["gmv_fen"] - stores["refund_fen"]
    commission_rate = (stores["commission_fen"] / net).filter(net > 100_000)
    assert commission_rate.min() > 0.004
    assert commission_rate.max() < 0.11
    assert stores["platform"].is_in([p.name_zh for p in channels.PLATFORMS]).all()


def test_store_ratings_are_lower_for_riskier_businesses(whole, rendered):
    stores = rendered.tables["ecommerce/store_monthly"]
    assert stores["rating"].quantile(0.1) >= 4.4
    assert stores["rating"].max() <= 5.0
    by_business = (
        stores.group_by("business_id")
        .agg(pl.col("rating").mean(), pl.col("negative_review_rate").mean())
        .join(whole.truth.select("business_id", "pd_12m"), on="business_id")
    )
    assert by_business.select(pl.corr("rating", "pd_12m")).item() < -0.3
    assert by_business.select(pl.corr("negative_review_rate", "pd_12m")).item() > 0.2


def test_web_traffic_orders_match_the_stores_and_convert_realistically(rendered):
    web = rendered.tables["web/traffic"]
    stores = rendered.tables["ecommerce/store_monthly"]
    assert web.height > 0
    assert (web["pv"] >= web["uv"]).all()
    assert (web["uv"] >= web["orders"]).all()
    web_month = web.group_by("business_id", pl.col("date").dt.truncate("1mo").alias("month")).agg(
        pl.col("orders").sum()
    )
    store_month = stores.group_by("business_id", "month").agg(pl.col("orders").sum())
    joined = web_month.join(store_month, on=["business_id", "month"], how="left", suffix="_s")
    assert (joined["orders"] == joined["orders_s"].fill_null(0)).all()
    rate = web["orders"].sum() / web["uv"].sum()
    assert 0.01 <= rate <= 0.04
    assert 0.01 <= web["conversion"].median() <= 0.04


def _attendance_by_stage(whole, rendered):
    att = rendered.tables["workplace/attendance"].with_columns(
        (pl.col("date").dt.year().cast(pl.Int64) * 12 + pl.col("date").dt.month() - 1).alias(
            "month_index"
        )
    )
    return att.join(
        whole.timeline.select("business_id", "precursor_start", "default_month"), on="business_id"
    ).with_columns(
        pl.when(pl.col("default_month").is_null())
        .then(pl.lit("healthy"))
        .when(pl.col("month_index") < pl.col("precursor_start"))
        .then(pl.lit("before"))
        .when(pl.col("month_index") < pl.col("default_month"))
        .then(pl.lit("warning"))
        .otherwise(pl.lit("after"))
        .alias("stage")
    )


def test_attendance_falls_before_default_and_stays_flat_for_the_healthy(whole, rendered):
    att = _attendance_by_stage(whole, rendered)
    warned = att.filter(pl.col("precursor_start").is_not_null())
    per_business = (
        warned.filter(pl.col("stage").is_in(["before", "warning"]))
        .group_by("business_id", "stage")
        .agg((pl.col("present").sum() / pl.col("staff").sum()).alias("rate"))
        .pivot(on="stage", index="business_id", values="rate")
        .drop_nulls()
    )
    assert per_business.height >= 5
    drop = per_business["before"] - per_business["warning"]
    assert drop.mean() > 0.08
    assert (drop > 0.02).mean() >= 0.8
    healthy = att.filter(pl.col("stage") == "healthy")
    halves = healthy.group_by(pl.col("date") < pl.date(2025, 7, 1)).agg(
        (pl.col("present").sum() / pl.col("staff").sum()).alias("rate")
    )["rate"]
    assert halves.min() > 0.93
    assert halves.max() - halves.min() < 0.01


def test_attendance_rows_add_up_on_working_days(whole, rendered):
    att = rendered.tables["workplace/attendance"]
    assert (att["present"] + att["leave"] + att["absent"] == att["staff"]).all()
    assert (att["absent"] >= 0).all()
    assert (att["late"] <= att["present"]).all()
    assert (
        att["approvals"]
        == att["approvals_leave"] + att["approvals_expense"] + att["approvals_purchase"]
    ).all()
    with_industry = att.join(whole.businesses.select("business_id", "industry"), on="business_id")
    weekday = with_industry["date"].dt.weekday()  # Monday = 1
    catering = with_industry["industry"] == "catering"
    assert not (catering & (weekday == 1)).any()
    assert not (~catering & (weekday == 7)).any()
    staff = att.join(
        whole.monthly.select("business_id", "month", "headcount"),
        left_on=["business_id", pl.col("date").dt.truncate("1mo")],
        right_on=["business_id", "month"],
    )
    assert (staff["staff"] == staff["headcount"]).all()
    assert set(att["business_id"].unique()) <= set(
        whole.businesses.filter("has_workplace")["business_id"]
    )


def test_same_rows_whatever_the_chunking(world, rendered):
    ids = world.population.businesses["business_id"].to_numpy()[:60]
    pieces = [
        channels.render(chunk(world, i, ids[s : s + 7])) for i, s in enumerate(range(0, 60, 7))
    ]
    together = channels.render(chunk(world, 0, ids))
    for name in TABLES:
        assert_frame_equal(pl.concat([p.tables[name] for p in pieces]), together.tables[name])
        first = rendered.tables[name].filter(pl.col("business_id").is_in(ids.tolist()))
        assert_frame_equal(first, together.tables[name])
    assert together.tables["pos/settlements"].height > 0


def test_same_seed_same_bytes_other_seed_other(rendered):
    cfg = SimulationConfig(businesses=400, seed=21, target_default_rate=0.2, precursor_share=1.0)
    again = channels.render(next(chunks(build_world(cfg))))
    for name in TABLES:
        assert_frame_equal(again.tables[name], rendered.tables[name])
    other = channels.render(next(chunks(build_world(cfg.model_copy(update={"seed": 22})))))
    assert not other.tables["pos/settlements"].equals(rendered.tables["pos/settlements"])


def test_observable_tables_hold_no_truth(whole, rendered):
    latent = (
        set(whole.truth.columns)
        | set(whole.timeline.columns)
        | set(FLOW_COLUMNS)
        | {"activity", "headcount", "mcc_mismatch", "expected_mcc", "pd_12m"}
    ) - {"business_id"}
    for name in TABLES:
        assert not latent & set(rendered.tables[name].columns), name
    assert set(rendered.truth) == {"channels/pos_merchants"}


def test_empty_chunk_without_channels_renders_empty_tables(world):
    flags = world.population.businesses
    bare = flags.filter(~pl.col("has_pos") & ~pl.col("has_ecommerce") & ~pl.col("has_workplace"))[
        "business_id"
    ].to_numpy()[:5]
    out = channels.render(chunk(world, 0, np.asarray(bare)))
    for name in TABLES:
        assert out.tables[name].height == 0
    assert out.tables["pos/settlements"].schema == channels.POS_SCHEMA
