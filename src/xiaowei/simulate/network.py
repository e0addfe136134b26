"""Guarantee and related-party networks (担保圈/担保链).

A share of businesses guarantee each other's loans, the way 联保/互保 grew among small firms in
Zhejiang and elsewhere: mutual pairs (互保), chains (担保链: A guarantees B guarantees C) and
circles (担保圈: the chain closes). Groups form among businesses of the same region, since
guarantors are local. Some owners bring a natural-person guarantor (自然人保证) instead.

The edges are directed ``guarantor_id → borrower_id``: when the borrower defaults the guarantor
must pay (代偿), and its own hazard rises (contagion, in :mod:`xiaowei.simulate.timing`).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import polars as pl

from xiaowei.simulate import vocab
from xiaowei.simulate.latent import Population
from xiaowei.simulate.random import Stream, population_rng

KINDS = ("mutual", "chain", "circle")
KIND_SHARES = (0.5, 0.3, 0.2)


def draw_network(population: Population) -> pl.DataFrame:
    """Guarantee edges: ``group_id, kind, guarantor_id, borrower_id``."""
    config = population.config
    rng = population_rng(config.seed, Stream.NETWORK)
    b = population.businesses
    ids = b["business_id"].to_numpy()
    regions = b["region"].to_numpy()
    chosen = ids[rng.random(len(ids)) < config.guarantee_share]
    rows: list[tuple[int, str, int, int]] = []
    group = 0
    for region in np.unique(regions[np.isin(ids, chosen)]):
        members = chosen[regions[chosen - 1] == region]
        members = members[rng.permutation(len(members))]
        i = 0
        while len(members) - i >= 2:
            kind = KINDS[int(rng.choice(3, p=KIND_SHARES))]
            size = 2 if kind == "mutual" else int(rng.integers(3, 7))
            size = min(size, len(members) - i)
            if size < 3 and kind != "mutual":
                kind = "mutual"
                size = 2
            g = [int(x) for x in members[i : i + size]]
            i += size
            group += 1
            if kind == "mutual":
                rows += [(group, kind, g[0], g[1]), (group, kind, g[1], g[0])]
            else:
                rows += [(group, kind, g[k], g[k + 1]) for k in range(len(g) - 1)]
                if kind == "circle":
                    rows.append((group, kind, g[-1], g[0]))
    return pl.DataFrame(
        rows,
        schema={
            "group_id": pl.Int64,
            "kind": pl.Utf8,
            "guarantor_id": pl.Int64,
            "borrower_id": pl.Int64,
        },
        orient="row",
    )


def guarantor_parties(population: Population, edges: pl.DataFrame) -> pl.DataFrame:
    """Guarantor rows for the related-party frame: business guarantors from the network, and a
    natural-person guarantor for some of the others."""
    rng = population_rng(population.config.seed, Stream.GUARANTORS)
    names = population.businesses.select("business_id", "business_name")
    firm = edges.join(names, left_on="guarantor_id", right_on="business_id").select(
        pl.col("borrower_id").alias("business_id"),
        pl.lit("guarantor").alias("role"),
        pl.lit("保证人(企业)").alias("role_zh"),
        pl.col("business_name").alias("name"),
        pl.col("guarantor_id").alias("linked_business_id"),
    )
    ids = population.businesses["business_id"].to_numpy()
    person = ids[(rng.random(len(ids)) < 0.3) & ~np.isin(ids, edges["borrower_id"].to_numpy())]
    people = pl.DataFrame(
        {
            "business_id": person,
            "role": ["guarantor"] * len(person),
            "role_zh": ["保证人(自然人)"] * len(person),
            "name": vocab.person_names(rng, len(person)),
            "linked_business_id": [None] * len(person),
        },
        schema=firm.schema,
    )
    return pl.concat([firm, people])


def graph(edges: pl.DataFrame) -> nx.DiGraph:
    """The guarantee network as a directed graph (guarantor → borrower)."""
    g = nx.DiGraph()
    for row in edges.iter_rows(named=True):
        g.add_edge(row["guarantor_id"], row["borrower_id"], kind=row["kind"], group=row["group_id"])
    return g
