"""Guarantee and related-party networks (担保网络, 关联方网络) and shared attributes (团伙欺诈).

Small firms in China often guarantee each other's loans (联保/互保). When one member defaults its
guarantors must pay (代偿), which can bring them down in turn: the risk of a loan depends on the
network it sits in, not only on the borrower. This module reads that network from an edge frame
and measures, for every applicant:

* **Guarantee circles (担保圈).** The guarantee graph is directed, guarantor → borrower. A
  circle is a directed cycle: A guarantees B, B guarantees C, C guarantees A; a mutual pair
  (互保) is a 2-cycle. Cycles live inside strongly connected components (强连通分量); in each
  component up to ``max_scc_to_enumerate`` businesses the simple cycles are listed
  (``networkx.simple_cycles`` with ``length_bound``), a larger component is reported as one
  circle without listing its cycles, since their number grows exponentially.
* **Guarantee chains (担保链).** A guarantees B guarantees C …: the longest directed path through
  each business in the condensation (the DAG whose nodes are the strongly connected components,
  a circle counting as one link), computed by dynamic programming in topological order.
* **Exposure through the network (网络敞口).** Direct exposure = the loans a business guarantees;
  indirect exposure = the loans guaranteed by the businesses it guarantees, down to
  ``max_hops`` links, each further link weighted by ``exposure_decay`` (a guarantor that pays for
  a defaulted borrower is weakened, not certain to default, so contagion fades with distance);
  the number of businesses within ``max_hops`` links downstream (whose default can reach it).
* **Shared attributes (共用属性, 团伙欺诈信号).** Applicants that share a phone number, an
  address, a counterparty account or a device: the connected components of the bipartite graph
  business — (kind, value), i.e. of its projection onto businesses.

Flags (:class:`~xiaowei.analysis.flags.Flag`, evidence = member ids and amounts):
``guarantee_circle``, ``guarantee_chain``, ``network_exposure``, ``shared_attributes``.

Sources: the research notes ``shared/research/credit_analysis_methods.md`` list "guarantor or
guarantee-circle stress" among early-warning signals (§ early warning) and "circular flows among
related parties (graph cycles)" among flow red flags; the notes give no numeric thresholds for
networks, so the defaults below are this module's own reasoned choices, documented per field.
Graph algorithms: networkx (https://networkx.org/documentation/stable/reference/algorithms/
cycles.html, ``simple_cycles`` with ``length_bound``; ``strongly_connected_components``;
``condensation``).

Everything is keyed by ``business_id`` (Int64); amounts are integer fen. Graph algorithms run in
networkx, tabular work in Polars; Python loops run per graph node or per component, never per
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from xiaowei.analysis.flags import Flag, Severity
from xiaowei.core.errors import InvalidInput

GUARANTEE = "guarantee"


class NetworkConfig(BaseModel):
    """Thresholds of the network analysis; every default with its reason."""

    model_config = ConfigDict(frozen=True)

    max_cycle_length: int = Field(
        default=8,
        ge=2,
        description="longest guarantee circle listed (length_bound of simple_cycles). Reported "
        "circles among small firms are of a handful of members; the simulator draws 2–6; 8 "
        "leaves room while keeping the enumeration bounded",
    )
    max_scc_to_enumerate: int = Field(
        default=40,
        ge=2,
        description="strongly connected components larger than this are reported as one circle "
        "(its member list) without listing their cycles, whose number grows exponentially",
    )
    min_chain_length: int = Field(
        default=3,
        ge=2,
        description="businesses on the longest chain through an applicant (a circle counts as "
        "one link) from which guarantee_chain is flagged: A→B→C is the smallest chain that is "
        "more than a single guarantee",
    )
    max_hops: int = Field(
        default=3,
        ge=1,
        description="links followed downstream for indirect exposure and reach; contagion "
        "beyond three links is weak and the count would mostly measure the graph's size",
    )
    exposure_decay: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="weight of a loan one link further away: a guarantor who pays is weakened "
        "but not certain to default, so each link halves the weight",
    )
    exposure_flag_ratio: float = Field(
        default=1.0,
        gt=0.0,
        description="network_exposure is flagged when total exposure ≥ this × the applicant's "
        "own requested loan (it then stands behind more debt than it asks for)",
    )
    reach_flag: int = Field(
        default=5,
        ge=1,
        description="network_exposure is also flagged when this many businesses or more lie "
        "within max_hops links downstream",
    )
    shared_group_min_size: int = Field(
        default=3,
        ge=2,
        description="shared_attributes is flagged for groups of at least this many applicants; "
        "two can share an address legitimately (spouses, partners), three rarely do",
    )
    max_value_share: int = Field(
        default=30,
        ge=2,
        description="a value shared by more applicants than this (a market's address, the tax "
        "bureau's account) is too common to signal a ring and is ignored",
    )


# -- input ----------------------------------------------------------------------------------


def _require(frame: pl.DataFrame, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(name, f"missing column(s) {', '.join(missing)}")


def _int_ids(frame: pl.DataFrame, name: str, columns: Sequence[str]) -> pl.DataFrame:
    for c in columns:
        dtype = frame.schema[c]
        if not dtype.is_integer():
            raise InvalidInput(f"{name}.{c}", f"must be integer business ids, got {dtype}")
        if frame[c].null_count():
            raise InvalidInput(f"{name}.{c}", f"{frame[c].null_count()} null id(s)")
    return frame.with_columns(pl.col(c).cast(pl.Int64) for c in columns)


def normalise_edges(edges: pl.DataFrame, loan_amounts: pl.DataFrame | None = None) -> pl.DataFrame:
    """Validate an edge frame and return ``guarantor_id, borrower_id, relation, amount_fen``.

    ``edges`` has ``guarantor_id`` → ``borrower_id`` (Int) and optionally ``amount_fen`` (the
    guaranteed amount, 担保金额), ``status`` (kept as given) and ``relation`` (default
    ``"guarantee"``; other values — ``spouse``, ``partner``, ``shared_phone`` … — are
    related-party links 关联关系 that join groups but carry no guarantee). A missing amount is
    taken from ``loan_amounts`` (``business_id, amount_fen``: the borrower's loan), else 0.
    Duplicate guarantee edges are summed; a business guaranteeing itself is an error.
    """
    _require(edges, "edges", ["guarantor_id", "borrower_id"])
    e = _int_ids(edges, "edges", ["guarantor_id", "borrower_id"])
    if "relation" not in e.columns:
        e = e.with_columns(pl.lit(GUARANTEE).alias("relation"))
    elif e.schema["relation"] != pl.Utf8 or e["relation"].null_count():
        raise InvalidInput("edges.relation", "must be non-null strings")
    if "amount_fen" in e.columns:
        if not e.schema["amount_fen"].is_integer():
            raise InvalidInput("edges.amount_fen", "must be integer fen")
        if (e["amount_fen"] < 0).any():
            raise InvalidInput("edges.amount_fen", "negative amount")
        e = e.with_columns(pl.col("amount_fen").cast(pl.Int64))
    else:
        e = e.with_columns(pl.lit(None, dtype=pl.Int64).alias("amount_fen"))
    loops = e.filter(
        (pl.col("guarantor_id") == pl.col("borrower_id")) & (pl.col("relation") == GUARANTEE)
    )
    if loops.height:
        raise InvalidInput("edges", f"business {loops['guarantor_id'][0]} guarantees its own loan")
    if loan_amounts is not None:
        _require(loan_amounts, "loan_amounts", ["business_id", "amount_fen"])
        loans = _int_ids(loan_amounts, "loan_amounts", ["business_id"]).select(
            pl.col("business_id").alias("borrower_id"),
            pl.col("amount_fen").cast(pl.Int64).alias("_loan"),
        )
        if loans["borrower_id"].is_duplicated().any():
            raise InvalidInput("loan_amounts.business_id", "duplicate business ids")
        e = e.join(loans, on="borrower_id", how="left").with_columns(
            pl.coalesce("amount_fen", "_loan").alias("amount_fen")
        )
    e = e.with_columns(pl.col("amount_fen").fill_null(0))
    return (
        e.group_by("guarantor_id", "borrower_id", "relation", maintain_order=True)
        .agg(pl.col("amount_fen").sum())
        .select("guarantor_id", "borrower_id", "relation", "amount_fen")
    )


def edges_from_parties(parties: pl.DataFrame) -> pl.DataFrame:
    """Guarantee edges from the applications' related parties (关联方): every party with role
    ``guarantor`` and a ``linked_business_id`` (a business guarantor, 保证人(企业)) gives the
    edge linked business → applicant. Natural-person guarantors carry no business id and give
    no edge."""
    _require(parties, "parties", ["business_id", "role", "linked_business_id"])
    p = parties.filter((pl.col("role") == "guarantor") & pl.col("linked_business_id").is_not_null())
    return _int_ids(p, "parties", ["business_id", "linked_business_id"]).select(
        pl.col("linked_business_id").alias("guarantor_id"),
        pl.col("business_id").alias("borrower_id"),
    )


def edges_from_report_guarantees(guarantees: pl.DataFrame, names: pl.DataFrame) -> pl.DataFrame:
    """Guarantee edges from the credit reports' PD03 segments (相关还款责任信息).

    ``guarantees``: ``business_id`` (whose report lists the guarantee, the guarantor),
    ``borrower_name`` (主借款人名称) and ``balance_fen`` (PD03AJ02 余额, in fen); ``names``:
    ``business_id, name`` of the applicants. Borrowers that are not applicants are dropped,
    since the network links applicants only; the guaranteed balance becomes ``amount_fen``.
    """
    _require(guarantees, "guarantees", ["business_id", "borrower_name", "balance_fen"])
    _require(names, "names", ["business_id", "name"])
    g = _int_ids(guarantees, "guarantees", ["business_id"])
    n = _int_ids(names, "names", ["business_id"]).select(
        pl.col("business_id").alias("borrower_id"), pl.col("name").alias("borrower_name")
    )
    if n["borrower_name"].is_duplicated().any():
        raise InvalidInput("names.name", "ambiguous: the same name for several businesses")
    return g.join(n, on="borrower_name", how="inner").select(
        pl.col("business_id").alias("guarantor_id"),
        "borrower_id",
        pl.col("balance_fen").cast(pl.Int64).alias("amount_fen"),
    )


def build_graph(edges: pl.DataFrame) -> nx.DiGraph:
    """The guarantee graph (guarantor → borrower, attribute ``amount_fen``) from a normalised
    edge frame (:func:`normalise_edges`); related-party edges are left out."""
    g = nx.DiGraph()
    ge = edges.filter(pl.col("relation") == GUARANTEE)
    g.add_weighted_edges_from(
        zip(
            ge["guarantor_id"].to_list(),
            ge["borrower_id"].to_list(),
            ge["amount_fen"].to_list(),
            strict=True,
        ),
        weight="amount_fen",
    )
    return g


# -- circles and chains ---------------------------------------------------------------------


def guarantee_circles(graph: nx.DiGraph, config: NetworkConfig | None = None) -> pl.DataFrame:
    """Circles (担保圈): ``circle_id, scc_id, size, members (list, cycle order from the
    smallest id), amount_fen (guaranteed amounts along the cycle), enumerated`` — one row per
    simple cycle of up to ``max_cycle_length`` in small components, one row per large strongly
    connected component (``enumerated`` false, ``amount_fen`` = all its internal edges)."""
    cfg = config or NetworkConfig()
    rows: list[tuple[int, int, list[int], int, bool]] = []
    sccs = sorted(
        (sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1),
        key=lambda c: c[0],
    )
    for scc_id, members in enumerate(sccs, start=1):
        sub = graph.subgraph(members)
        if len(members) > cfg.max_scc_to_enumerate:
            amount = sum(int(a) for _, _, a in sub.edges(data="amount_fen"))
            rows.append((scc_id, len(members), members, amount, False))
            continue
        cycles = []
        for cyc in nx.simple_cycles(sub, length_bound=cfg.max_cycle_length):
            k = cyc.index(min(cyc))
            cycles.append([int(x) for x in cyc[k:] + cyc[:k]])
        for cyc in sorted(cycles, key=lambda c: (len(c), c)):
            pairs = zip(cyc, cyc[1:] + cyc[:1], strict=True)
            amount = sum(int(graph.edges[u, v]["amount_fen"]) for u, v in pairs)
            rows.append((scc_id, len(cyc), cyc, amount, True))
    return pl.DataFrame(
        [(i, *r) for i, r in enumerate(rows, start=1)],
        schema={
            "circle_id": pl.Int64,
            "scc_id": pl.Int64,
            "size": pl.Int64,
            "members": pl.List(pl.Int64),
            "amount_fen": pl.Int64,
            "enumerated": pl.Boolean,
        },
        orient="row",
    )


@dataclass(frozen=True, slots=True)
class _Chains:
    length: dict[int, int]  # business → businesses on the longest chain through it
    path: dict[int, list[int]]  # business → that chain's members (SCCs expanded, sorted within)


def _chains(graph: nx.DiGraph) -> _Chains:
    """Longest path through every node of the condensation DAG, weights 1 per SCC."""
    dag = nx.condensation(graph)
    order = list(nx.topological_sort(dag))
    down: dict[int, int] = {}  # longest path starting at c (nodes)
    nxt: dict[int, int | None] = {}
    for c in reversed(order):
        best, arg = 0, None
        for s in dag.successors(c):
            if down[s] > best or (down[s] == best and arg is not None and s < arg):
                best, arg = down[s], s
        down[c], nxt[c] = best + 1, arg
    up: dict[int, int] = {}  # longest path ending at c (nodes)
    prv: dict[int, int | None] = {}
    for c in order:
        best, arg = 0, None
        for p in dag.predecessors(c):
            if up[p] > best or (up[p] == best and arg is not None and p < arg):
                best, arg = up[p], p
        up[c], prv[c] = best + 1, arg
    members = {c: sorted(int(x) for x in dag.nodes[c]["members"]) for c in dag.nodes}
    length: dict[int, int] = {}
    path: dict[int, list[int]] = {}
    for c in order:
        n = up[c] + down[c] - 1
        if n < 2:
            for x in members[c]:
                length[x] = 1
            continue
        back: list[int] = []
        p = prv[c]
        while p is not None:
            back.append(p)
            p = prv[p]
        fwd: list[int] = []
        s = nxt[c]
        while s is not None:
            fwd.append(s)
            s = nxt[s]
        chain = [x for k in [*reversed(back), c, *fwd] for x in members[k]]
        for x in members[c]:
            length[x] = n
            path[x] = chain
    return _Chains(length, path)


def guarantee_chains(graph: nx.DiGraph, config: NetworkConfig | None = None) -> pl.DataFrame:
    """Chains (担保链) of at least ``min_chain_length`` links (a circle counts as one link):
    ``chain_id, length, members`` — the distinct longest chains through the graph's
    businesses, members from the first guarantor to the last borrower."""
    cfg = config or NetworkConfig()
    ch = _chains(graph)
    seen: dict[tuple[int, ...], int] = {}
    for x, p in ch.path.items():
        if ch.length[x] >= cfg.min_chain_length:
            seen.setdefault(tuple(p), ch.length[x])
    rows = sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))
    return pl.DataFrame(
        [(i, n, list(p)) for i, (p, n) in enumerate(rows, start=1)],
        schema={"chain_id": pl.Int64, "length": pl.Int64, "members": pl.List(pl.Int64)},
        orient="row",
    )


# -- features -------------------------------------------------------------------------------


FEATURE_SCHEMA: dict[str, pl.DataType] = {
    "business_id": pl.Int64(),
    "guarantors": pl.Int64(),
    "guaranteed": pl.Int64(),
    "in_circle": pl.Boolean(),
    "circle_count": pl.Int64(),
    "scc_size": pl.Int64(),
    "circle_members": pl.List(pl.Int64()),
    "chain_length": pl.Int64(),
    "chain_members": pl.List(pl.Int64()),
    "exposure_direct_fen": pl.Int64(),
    "exposure_indirect_fen": pl.Int64(),
    "exposure_total_fen": pl.Int64(),
    "reach": pl.Int64(),
    "reach_members": pl.List(pl.Int64()),
    "related_group_size": pl.Int64(),
}


def _exposure(graph: nx.DiGraph, node: int, cfg: NetworkConfig) -> tuple[int, int, list[int]]:
    """Direct and decayed indirect exposure of ``node`` and the businesses within reach."""
    dist = nx.single_source_shortest_path_length(graph, node, cutoff=cfg.max_hops)
    direct = 0
    indirect = 0.0
    for x, d in dist.items():
        if d >= cfg.max_hops:
            continue
        weight = cfg.exposure_decay**d
        for _, y, a in graph.out_edges(x, data="amount_fen"):
            if y == node:
                continue
            if d == 0:
                direct += int(a)
            else:
                indirect += weight * int(a)
    reach = sorted(int(x) for x, d in dist.items() if d >= 1 and x != node)
    return direct, round(indirect), reach


def network_features(
    edges: pl.DataFrame,
    applicants: pl.Series | Sequence[int] | None = None,
    loan_amounts: pl.DataFrame | None = None,
    config: NetworkConfig | None = None,
) -> pl.DataFrame:
    """Per-business network features, one row per applicant (``FEATURE_SCHEMA``).

    ``edges`` as in :func:`normalise_edges`; ``applicants`` the business ids to report (default:
    every business in ``edges``; applicants outside the network get zeros); ``loan_amounts``
    fills missing guaranteed amounts with the borrower's loan.

    Columns: ``guarantors``/``guaranteed`` (in/out degree: who backs it, whom it backs),
    ``in_circle``, ``circle_count`` (listed simple cycles through it), ``scc_size`` and
    ``circle_members`` (its strongly connected component), ``chain_length`` and
    ``chain_members`` (the longest chain through it), ``exposure_direct_fen``,
    ``exposure_indirect_fen`` (decayed), ``exposure_total_fen``, ``reach`` and
    ``reach_members`` (businesses within ``max_hops`` downstream), ``related_group_size`` (its
    weakly connected component over guarantee and related-party edges).
    """
    cfg = config or NetworkConfig()
    e = normalise_edges(edges, loan_amounts)
    g = build_graph(e)
    circles = guarantee_circles(g, cfg)
    ch = _chains(g)
    scc_of: dict[int, list[int]] = {}
    for comp in nx.strongly_connected_components(g):
        if len(comp) > 1:
            members = sorted(int(x) for x in comp)
            for x in members:
                scc_of[x] = members
    cycle_count = (
        circles.filter("enumerated")
        .explode("members")
        .group_by(pl.col("members").alias("business_id"))
        .agg(pl.len().cast(pl.Int64).alias("circle_count"))
    )
    related = nx.Graph()
    related.add_edges_from(
        zip(e["guarantor_id"].to_list(), e["borrower_id"].to_list(), strict=True)
    )
    group_size = {int(x): len(c) for c in nx.connected_components(related) for x in c}
    rows: list[dict[str, Any]] = []
    for node in g.nodes:
        direct, indirect, reach = _exposure(g, node, cfg) if g.out_degree(node) else (0, 0, [])
        scc = scc_of.get(node, [])
        rows.append(
            {
                "business_id": int(node),
                "guarantors": g.in_degree(node),
                "guaranteed": g.out_degree(node),
                "scc_size": len(scc) or 1,
                "circle_members": scc,
                "chain_length": ch.length[node],
                "chain_members": ch.path.get(node, []),
                "exposure_direct_fen": direct,
                "exposure_indirect_fen": indirect,
                "reach": len(reach),
                "reach_members": reach,
            }
        )
    base_cols = [
        "business_id",
        "guarantors",
        "guaranteed",
        "scc_size",
        "circle_members",
        "chain_length",
        "chain_members",
        "exposure_direct_fen",
        "exposure_indirect_fen",
        "reach",
        "reach_members",
    ]
    base = pl.DataFrame(rows, schema={k: FEATURE_SCHEMA[k] for k in base_cols})
    if applicants is None:
        ids = pl.Series("business_id", sorted(group_size), dtype=pl.Int64)
    else:
        ids = pl.Series("business_id", list(applicants), dtype=pl.Int64)
        if ids.null_count():
            raise InvalidInput("applicants", "null business id")
        if ids.is_duplicated().any():
            raise InvalidInput("applicants", "duplicate business ids")
    sizes = pl.DataFrame(
        {"business_id": list(group_size), "related_group_size": list(group_size.values())},
        schema={"business_id": pl.Int64, "related_group_size": pl.Int64},
    )
    out = (
        ids.to_frame()
        .join(base, on="business_id", how="left")
        .join(cycle_count, on="business_id", how="left")
        .join(sizes, on="business_id", how="left")
        .with_columns(
            pl.col(
                "guarantors",
                "guaranteed",
                "circle_count",
                "exposure_direct_fen",
                "exposure_indirect_fen",
                "reach",
            ).fill_null(0),
            pl.col("scc_size", "chain_length", "related_group_size").fill_null(1),
            pl.col("circle_members", "chain_members", "reach_members").fill_null([]),
        )
        .with_columns(
            (pl.col("scc_size") > 1).alias("in_circle"),
            (pl.col("exposure_direct_fen") + pl.col("exposure_indirect_fen")).alias(
                "exposure_total_fen"
            ),
        )
    )
    return out.select(pl.col(k).cast(v) for k, v in FEATURE_SCHEMA.items())


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.0f}"


def network_flags(
    features: pl.DataFrame,
    loan_amounts: pl.DataFrame | None = None,
    config: NetworkConfig | None = None,
) -> dict[int, list[Flag]]:
    """Flags per business from :func:`network_features`: ``guarantee_circle`` (in a circle),
    ``guarantee_chain`` (chain of ≥ ``min_chain_length``), ``network_exposure`` (exposure ≥
    ``exposure_flag_ratio`` × its own loan in ``loan_amounts``, or reach ≥ ``reach_flag``)."""
    cfg = config or NetworkConfig()
    _require(features, "features", list(FEATURE_SCHEMA))
    f = features
    if loan_amounts is not None:
        _require(loan_amounts, "loan_amounts", ["business_id", "amount_fen"])
        loans = _int_ids(loan_amounts, "loan_amounts", ["business_id"]).select(
            "business_id", pl.col("amount_fen").cast(pl.Int64).alias("_own")
        )
        f = f.join(loans, on="business_id", how="left")
    else:
        f = f.with_columns(pl.lit(None, dtype=pl.Int64).alias("_own"))
    f = f.with_columns(
        (pl.col("exposure_total_fen") / pl.col("_own").replace(0, None)).alias("_ratio")
    )
    exposed = (pl.col("_ratio") >= cfg.exposure_flag_ratio).fill_null(value=False) | (
        pl.col("reach") >= cfg.reach_flag
    )
    chain = pl.col("chain_length") >= cfg.min_chain_length
    out: dict[int, list[Flag]] = {}
    hits = f.filter(pl.col("in_circle") | chain | exposed).with_columns(
        exposed.alias("_exposed"), chain.alias("_chain")
    )
    for r in hits.iter_rows(named=True):
        flags: list[Flag] = []
        if r["in_circle"]:
            flags.append(
                Flag(
                    code="guarantee_circle",
                    severity=Severity.CRITICAL,
                    message=f"In a guarantee circle (担保圈) of {r['scc_size']} businesses "
                    f"({r['circle_count']} cycle(s) listed)",
                    evidence={
                        "members": r["circle_members"],
                        "exposure_direct_fen": r["exposure_direct_fen"],
                    },
                )
            )
        if r["_chain"]:
            flags.append(
                Flag(
                    code="guarantee_chain",
                    severity=Severity.WARNING,
                    message=f"On a guarantee chain (担保链) of {r['chain_length']} businesses",
                    evidence={"members": r["chain_members"]},
                )
            )
        if r["_exposed"]:
            ratio = "" if r["_ratio"] is None else f", {r['_ratio']:.1f}× its own loan"
            flags.append(
                Flag(
                    code="network_exposure",
                    severity=Severity.WARNING,
                    message=f"Guarantee exposure (担保敞口) {_yuan(r['exposure_total_fen'])} "
                    f"yuan{ratio}; {r['reach']} business(es) within {cfg.max_hops} links",
                    evidence={
                        "members": r["reach_members"],
                        "exposure_direct_fen": r["exposure_direct_fen"],
                        "exposure_indirect_fen": r["exposure_indirect_fen"],
                        "exposure_total_fen": r["exposure_total_fen"],
                        "own_loan_fen": r["_own"],
                    },
                )
            )
        out[int(r["business_id"])] = flags
    return out


# -- shared attributes ----------------------------------------------------------------------


def shared_attribute_groups(
    attributes: pl.DataFrame, config: NetworkConfig | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Groups of applicants linked by shared attributes (共用电话/地址/对手账户/设备).

    ``attributes``: ``business_id, attribute_kind, value`` (one row per business and value;
    values are compared after trimming spaces and lower-casing; empty values ignored). Values
    shared by more than ``max_value_share`` businesses are ignored as too common.

    Returns ``(groups, members)``: ``groups`` = ``group_id, size, members, kinds (sorted),
    shared_values (the (kind, value) pairs that link it)``; ``members`` = ``business_id,
    group_id, group_size, kinds`` for every business in a group of two or more.
    """
    cfg = config or NetworkConfig()
    _require(attributes, "attributes", ["business_id", "attribute_kind", "value"])
    a = _int_ids(attributes, "attributes", ["business_id"])
    for c in ("attribute_kind", "value"):
        if a.schema[c] != pl.Utf8:
            raise InvalidInput(f"attributes.{c}", f"must be strings, got {a.schema[c]}")
    a = (
        a.with_columns(pl.col("value").str.strip_chars().str.to_lowercase())
        .filter(pl.col("value").is_not_null() & (pl.col("value") != ""))
        .filter(pl.col("attribute_kind").is_not_null())
        .unique(["business_id", "attribute_kind", "value"])
    )
    shared = a.with_columns(pl.len().over("attribute_kind", "value").alias("_n")).filter(
        (pl.col("_n") >= 2) & (pl.col("_n") <= cfg.max_value_share)
    )
    g = nx.Graph()
    keys = [
        f"{k}\x1f{v}"
        for k, v in zip(shared["attribute_kind"].to_list(), shared["value"].to_list(), strict=True)
    ]
    g.add_edges_from(zip(shared["business_id"].to_list(), keys, strict=True))
    comps = sorted(
        (sorted(int(x) for x in c if isinstance(x, int)) for c in nx.connected_components(g)),
        key=lambda c: c[0],
    )
    assign = pl.DataFrame(
        [(x, i) for i, c in enumerate(comps, start=1) for x in c],
        schema={"business_id": pl.Int64, "group_id": pl.Int64},
        orient="row",
    )
    linked = shared.join(assign, on="business_id")
    groups = (
        linked.group_by("group_id")
        .agg(
            pl.col("business_id").unique().sort().alias("members"),
            pl.col("attribute_kind").unique().sort().alias("kinds"),
            pl.struct(kind="attribute_kind", value="value").unique().alias("shared_values"),
        )
        .with_columns(
            pl.col("members").list.len().cast(pl.Int64).alias("size"),
            pl.col("shared_values").list.sort(),
        )
        .select("group_id", "size", "members", "kinds", "shared_values")
        .sort("group_id")
    )
    members = (
        assign.join(groups.select("group_id", "size", "kinds"), on="group_id")
        .rename({"size": "group_size"})
        .sort("business_id")
    )
    return groups, members


def shared_attribute_flags(
    groups: pl.DataFrame, config: NetworkConfig | None = None
) -> dict[int, list[Flag]]:
    """``shared_attributes`` for every member of a group of ≥ ``shared_group_min_size``."""
    cfg = config or NetworkConfig()
    out: dict[int, list[Flag]] = {}
    for r in groups.filter(pl.col("size") >= cfg.shared_group_min_size).iter_rows(named=True):
        flag = Flag(
            code="shared_attributes",
            severity=Severity.WARNING,
            message=f"Shares {', '.join(r['kinds'])} with {r['size'] - 1} other applicant(s) "
            "(共用信息, possible fraud ring 团伙欺诈)",
            evidence={"members": r["members"], "shared_values": r["shared_values"]},
        )
        for x in r["members"]:
            out.setdefault(int(x), []).append(flag)
    return out
