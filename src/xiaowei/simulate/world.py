"""The simulated world and its chunks (模拟世界与分块).

:func:`build_world` draws what is decided for the whole population at once (cheap: one row per
business): the latent population, the guarantee network and the timeline of defaults, which
needs the network for contagion. :func:`chunks` then cuts the world into chunks of businesses;
each :class:`Chunk` carries the rows of its businesses, their monthly flows, and a stream per
business and purpose, so every renderer works on a chunk and produces the same bytes for a
business whatever the chunking.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.flows import monthly_flows
from xiaowei.simulate.latent import Population, draw_population
from xiaowei.simulate.network import draw_network, guarantor_parties
from xiaowei.simulate.random import Stream, business_rng
from xiaowei.simulate.timing import draw_timeline


@dataclass(frozen=True, slots=True)
class World:
    config: SimulationConfig
    population: Population
    edges: pl.DataFrame  # guarantee network: group_id, kind, guarantor_id, borrower_id
    parties: pl.DataFrame  # spouses, partners and guarantors
    timeline: pl.DataFrame  # truth: booking, default, precursors, prepayment, recovery


def build_world(config: SimulationConfig) -> World:
    population = draw_population(config)
    edges = draw_network(population)
    guarantors = guarantor_parties(population, edges)
    parties = (
        pl.concat(
            [
                population.parties.drop("party_id").with_columns(
                    pl.lit(None, dtype=pl.Int64).alias("linked_business_id")
                ),
                guarantors,
            ]
        )
        .sort("business_id", maintain_order=True)
        .with_row_index("party_id", offset=1)
        .with_columns(pl.col("party_id").cast(pl.Int64))
    )
    timeline = draw_timeline(population, edges)
    return World(config, population, edges, parties, timeline)


@dataclass(frozen=True, slots=True)
class Chunk:
    """The businesses ``ids`` of a world, with everything a renderer needs.

    Observable: ``businesses``, ``owners``, ``parties``. Truth: ``debts`` (every debt, with
    ``reports_to_bureau`` and ``declared``), ``truth`` (latent variables), ``timeline`` and
    ``monthly`` (the true monthly flows). ``edges`` are the guarantee edges touching the chunk.
    """

    config: SimulationConfig
    index: int
    ids: np.ndarray
    businesses: pl.DataFrame
    owners: pl.DataFrame
    parties: pl.DataFrame
    debts: pl.DataFrame
    truth: pl.DataFrame
    timeline: pl.DataFrame
    edges: pl.DataFrame
    monthly: pl.DataFrame
    # The borrowers of the loans the chunk's businesses guarantee (担保对象), wherever they are:
    # their application, loan request and timeline, for the guarantors' credit reports.
    guaranteed: pl.DataFrame = field(default_factory=pl.DataFrame)

    def rng(self, business_id: int, purpose: Stream) -> np.random.Generator:
        return business_rng(self.config.seed, business_id, purpose)

    def row(self, business_id: int) -> dict[str, object]:
        """Everything known about one business, observable and latent, as a dict."""
        frame = (
            self.businesses.filter(pl.col("business_id") == business_id)
            .join(self.owners.drop("owner_id"), on="business_id", suffix="_owner")
            .join(self.truth, on="business_id")
            .join(self.timeline, on="business_id")
        )
        return frame.row(0, named=True)


def chunk(world: World, index: int, ids: np.ndarray) -> Chunk:
    p = world.population
    keep = pl.col("business_id").is_in(pl.Series(ids).implode())
    businesses = p.businesses.filter(keep)
    truth = p.truth.filter(keep)
    timeline = world.timeline.filter(keep)
    debts = p.debts.filter(keep)
    monthly = monthly_flows(world.config, businesses, truth, timeline, debts)
    id_list = pl.Series(ids).implode()
    edges = world.edges.filter(
        pl.col("guarantor_id").is_in(id_list) | pl.col("borrower_id").is_in(id_list)
    )
    borrowers = world.edges.filter(pl.col("guarantor_id").is_in(id_list))["borrower_id"]
    guaranteed = (
        p.businesses.filter(pl.col("business_id").is_in(borrowers.implode()))
        .select(
            "business_id",
            "business_name",
            "legal_form",
            "application_date",
            "requested_amount_fen",
            "requested_term",
        )
        .join(world.timeline, on="business_id")
    )
    return Chunk(
        config=world.config,
        index=index,
        ids=ids,
        businesses=businesses,
        owners=p.owners.filter(keep),
        parties=world.parties.filter(keep),
        debts=debts,
        truth=truth,
        timeline=timeline,
        edges=edges,
        monthly=monthly,
        guaranteed=guaranteed,
    )


def chunks(world: World) -> Iterator[Chunk]:
    ids = world.population.businesses["business_id"].to_numpy()
    size = world.config.chunk_size
    for index, start in enumerate(range(0, len(ids), size)):
        yield chunk(world, index, ids[start : start + size])
