"""Random streams of the simulator (随机数流).

Two kinds of stream, both derived from the run's seed with :class:`numpy.random.SeedSequence`:

* **population streams** draw one value per business for the whole population at once
  (vectorised), one stream per purpose, so that adding a purpose never shifts another's draws;
* **business streams** draw what is rendered per business (its transactions, its credit report),
  keyed by ``(business_id, purpose)``: a business renders the same bytes whatever the chunk it
  falls in, the chunk size or the order chunks are generated in.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    """Purposes of random streams; values are part of the output's identity: never renumber."""

    LATENT = 1
    OWNERS = 2
    DEBTS = 3
    NETWORK = 4
    TIMING = 5
    LEADS = 6
    FLOWS = 11
    FINANCIALS = 12
    STATEMENTS = 13
    CHANNELS = 14
    CREDIT_REPORT = 15
    BEHAVIOUR = 16
    NAMES = 17
    GUARANTORS = 18
    CREDIT_QUERIES = 30  # credit_report.py: query records (查询记录)
    CREDIT_PUBLIC = 31  # credit_report.py: public records (公共信息)
    CREDIT_FOLLOW = 32  # credit_report.py: accounts opened after the application
    CREDIT_ENTERPRISE = 33  # credit_report.py: the enterprise's own history
    LOAN_TERMS = 60
    ECOMMERCE = 40  # channels.py: e-commerce stores (POS uses CHANNELS)
    WEB_TRAFFIC = 41  # channels.py: web traffic
    WORKPLACE = 42  # channels.py: workplace attendance and approvals
    FINANCIAL_DECLARED = 50  # financials.py: what the owner states (sales, manipulations)
    FINANCIAL_PRODUCTS = 51  # financials.py: the product table
    DEPOSITS = 70  # deposits.py: check point and deposit level (statements and financials)


_POPULATION = 0xB0B


def population_rng(seed: int, purpose: Stream) -> np.random.Generator:
    """The stream for a population-wide draw of ``purpose``."""
    ss = np.random.SeedSequence(entropy=(seed, _POPULATION), spawn_key=(int(purpose),))
    return np.random.Generator(np.random.PCG64(ss))


def business_rng(seed: int, business_id: int, purpose: Stream) -> np.random.Generator:
    """The stream of one business for one purpose; independent of chunking."""
    ss = np.random.SeedSequence(entropy=seed, spawn_key=(int(business_id), int(purpose)))
    return np.random.Generator(np.random.PCG64(ss))


def choice_index(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn with probabilities proportional to ``weights`` (vectorised)."""
    p = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(p / p.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(size), side="right").astype(np.int64)
