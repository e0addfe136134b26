"""Marketing leads: channels, funnel, conversion and the quality of what each channel brings."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.leads import LEAD_CHANNELS, draw_leads
from xiaowei.simulate.world import build_world


@pytest.fixture(scope="module")
def world():
    return build_world(SimulationConfig(businesses=500, seed=8))


@pytest.fixture(scope="module")
def leads(world):
    return draw_leads(world)


def test_every_applicant_is_one_converted_lead(world, leads):
    table = leads.tables["leads/leads"]
    applied = table.filter("applied")
    assert applied["business_id"].null_count() == 0
    assert sorted(applied["business_id"].to_list()) == sorted(
        world.population.businesses["business_id"].to_list()
    )
    assert table.filter(~pl.col("applied"))["business_id"].null_count() == table.height - 500
    assert table["lead_id"].to_list() == list(range(1, table.height + 1))
    # the applicants' rows carry their own name, industry and region
    own = applied.join(
        world.population.businesses.select(
            "business_id", "business_name", "industry", "region", "application_date"
        ),
        on="business_id",
    )
    assert (own["prospect_name"] == own["business_name"]).all()
    assert (own["industry"] == own["industry_right"]).all()
    assert (own["region"] == own["region_right"]).all()
    assert (own["applied_date"] == own["application_date"]).all()


def test_conversion_ranks_referral_first_and_street_canvassing_last(leads):
    table = leads.tables["leads/leads"]
    rates = dict(
        table.group_by("channel").agg(pl.col("applied").mean()).iter_rows()  # channel -> rate
    )
    assert rates["referral"] > rates["branch"] > rates["precision"] > rates["street"]
    for channel in LEAD_CHANNELS:
        assert rates[channel.code] == pytest.approx(channel.conversion, rel=0.08)
        assert 3.0 <= 1.0 / rates[channel.code] <= 8.5  # leads per applicant
    assert table.height > 4 * 500


def test_funnel_is_nested_and_dated_before_the_application(leads):
    t = leads.tables["leads/leads"]
    assert not (t["interested"] & ~t["contacted"]).any()
    assert not (t["applied"] & ~t["interested"]).any()
    for flag, day in (
        ("contacted", "contacted_date"),
        ("interested", "interested_date"),
        ("applied", "applied_date"),
    ):
        assert (t[flag] == t[day].is_not_null()).all()
    contacted = t.filter("contacted")
    assert (contacted["created_date"] <= contacted["contacted_date"]).all()
    interested = t.filter("interested")
    assert (interested["contacted_date"] <= interested["interested_date"]).all()
    applied = t.filter("applied")
    assert (applied["interested_date"] <= applied["applied_date"]).all()
    assert (applied["created_date"] < applied["applied_date"]).all()
    # stage rates per channel are the channel's own
    for channel in LEAD_CHANNELS:
        rows = t.filter(pl.col("channel") == channel.code)
        assert rows["contacted"].mean() == pytest.approx(channel.contact, abs=0.05)


def test_referrals_bring_better_businesses_than_street_canvassing(world, leads):
    applied = (
        leads.tables["leads/leads"]
        .filter("applied")
        .join(world.population.truth.select("business_id", "pd_12m"), on="business_id")
    )
    mean_pd = dict(applied.group_by("channel").agg(pl.col("pd_12m").mean()).iter_rows())
    assert mean_pd["referral"] < 0.75 * mean_pd["street"]
    assert mean_pd["precision"] < mean_pd["street"]


def test_officers_and_sources_fit_the_leads(leads):
    t = leads.tables["leads/leads"]
    officers = leads.tables["leads/officers"]
    joined = t.join(officers, on="officer_id", how="left", suffix="_officer")
    assert joined["name"].null_count() == 0
    assert (joined["region"] == joined["region_officer"]).all()
    branch = joined.filter(pl.col("channel") == "branch")
    assert (branch["source"] == branch["branch"]).all()
    kinds = dict(t.group_by("channel").agg(pl.col("source_kind").unique().sort()).iter_rows())
    assert kinds["referral"] == sorted(["商会", "市场管理方", "核心企业"])
    assert kinds["street"] == ["商圈"]
    assert kinds["precision"] == ["名单"]
    assert set(t["channel_zh"].unique()) == {"扫街", "网点广告", "机构推荐", "精准营销"}


def test_same_seed_same_leads_and_no_truth(world, leads):
    again = draw_leads(build_world(SimulationConfig(businesses=500, seed=8, chunk_size=7)))
    for name in ("leads/leads", "leads/officers"):
        assert_frame_equal(again.tables[name], leads.tables[name])
    latent = (set(world.population.truth.columns) | set(world.timeline.columns)) - {"business_id"}
    for frame in leads.tables.values():
        assert not latent & set(frame.columns)
    assert leads.truth == {}
