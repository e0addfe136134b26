"""The latent population, network, timeline and monthly flows of the simulator."""

from __future__ import annotations

import networkx as nx
import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.latent import month_index
from xiaowei.simulate.network import graph
from xiaowei.simulate.world import build_world, chunk, chunks


@pytest.fixture(scope="module")
def world():
    return build_world(SimulationConfig(businesses=3000, seed=11))


def test_same_seed_same_world_and_another_seed_another(world):
    again = build_world(SimulationConfig(businesses=3000, seed=11))
    assert_frame_equal(world.population.businesses, again.population.businesses)
    assert_frame_equal(world.population.debts, again.population.debts)
    assert_frame_equal(world.timeline, again.timeline)
    other = build_world(SimulationConfig(businesses=3000, seed=12))
    assert not other.population.truth["pd_12m"].equals(world.population.truth["pd_12m"])


def test_flows_do_not_depend_on_chunking(world):
    ids = world.population.businesses["business_id"].to_numpy()
    whole = chunk(world, 0, ids[:50]).monthly
    first = ids[:50]
    pieces = pl.concat(
        [chunk(world, i, first[s : s + 7]).monthly for i, s in enumerate(range(0, 50, 7))]
    )
    assert_frame_equal(whole, pieces)


def test_margins_sizes_and_mean_pd_are_plausible(world):
    cfg = world.config
    b = world.population.businesses.join(world.population.truth, on="business_id")
    for ind in cfg.industries:
        rows = b.filter(pl.col("industry") == ind.code.value)
        assert rows.height > 50
        assert rows["gross_margin"].min() >= ind.gm_low
        assert rows["gross_margin"].max() <= ind.gm_high
    assert b["pd_12m"].mean() == pytest.approx(cfg.target_default_rate, abs=0.002)
    # catering and agriculture riskier than manufacturing, as configured
    pd_by = dict(b.group_by("industry").agg(pl.col("pd_12m").mean()).iter_rows())
    assert pd_by["catering"] > pd_by["manufacturing"]
    assert pd_by["agriculture"] > pd_by["manufacturing"]
    amounts = b["requested_amount_fen"]
    assert amounts.min() >= 3_000_000
    assert amounts.max() <= 300_000_000


def test_realised_default_rate_tracks_true_pd(world):
    t = world.timeline.join(world.population.truth, on="business_id")
    d12 = (t["default_mob"].fill_null(99) <= 12).cast(pl.Float64)
    assert 0.03 <= d12.mean() <= 0.10
    # the riskiest quintile defaults several times as often as the safest
    order = np.argsort(t["pd_12m"].to_numpy())
    fifth = len(order) // 5
    d = d12.to_numpy()
    assert d[order[-fifth:]].mean() > 4 * d[order[:fifth]].mean()


def test_guarantee_network_shapes(world):
    e = world.edges
    g = graph(e)
    for gid, kind in e.select("group_id", "kind").unique().iter_rows():
        members = e.filter(pl.col("group_id") == gid)
        sub = g.subgraph(set(members["guarantor_id"]) | set(members["borrower_id"]))
        if kind == "mutual":
            assert members.height == 2
            assert nx.is_strongly_connected(sub)
        elif kind == "circle":
            assert nx.is_strongly_connected(sub)
            assert members.height >= 3
        else:
            assert nx.is_directed_acyclic_graph(sub)
            assert members.height >= 2
    # guarantee groups are local: one region per group
    regions = e.join(
        world.population.businesses.select("business_id", "region"),
        left_on="guarantor_id",
        right_on="business_id",
    ).join(
        world.population.businesses.select("business_id", pl.col("region").alias("r2")),
        left_on="borrower_id",
        right_on="business_id",
    )
    assert (regions["region"] == regions["r2"]).all()


def test_contagion_only_after_a_guaranteed_partner_defaulted(world):
    t = world.timeline
    hit = t.filter(pl.col("contagion"))
    months = dict(zip(t["business_id"], t["default_month"], strict=True))
    for bid, month in hit.select("business_id", "default_month").iter_rows():
        partners = world.edges.filter(pl.col("guarantor_id") == bid)["borrower_id"]
        assert any(months[p] is not None and months[p] < month for p in partners)


def test_precursors_show_in_sales_before_default(world):
    ids = world.population.businesses["business_id"].to_numpy()[:1500]
    c = chunk(world, 0, ids)
    m = c.monthly.join(c.timeline, on="business_id")
    warned = m.filter(pl.col("precursor_start").is_not_null())
    assert warned.height > 0
    before = warned.filter(pl.col("month_index") < pl.col("precursor_start"))["activity"]
    during = warned.filter(
        (pl.col("month_index") >= pl.col("precursor_start"))
        & (pl.col("month_index") < pl.col("default_month"))
    )["activity"]
    assert before.mean() == 1.0
    assert during.mean() < 0.85


def test_flow_windows_and_phases(world):
    c = next(chunks(world))
    cfg = world.config
    per = c.monthly.group_by("business_id").agg(
        pl.len(), pl.col("t").min().alias("first"), pl.col("t").max().alias("last")
    )
    assert (per["len"] == cfg.months + cfg.follow_months).all()
    assert (per["first"] == -cfg.months).all()
    assert (per["last"] == cfg.follow_months - 1).all()
    first = c.monthly.join(c.businesses, on="business_id").filter(pl.col("t") == 0)
    app = first["application_date"].to_list()
    assert [month_index(d) for d in app] == first["month_index"].to_list()
    money = c.monthly.drop("business_id", "month_index", "t", "month", "phase")
    assert all(v >= 0 for v in money.min().row(0))
    assert np.isfinite(money.to_numpy()).all()
