"""When things happen (时间线): booking, default, precursors, prepayment and recovery.

Each applicant's loan is booked a few days after applying. From the month after booking, a
business that has not defaulted defaults in a month with the monthly hazard
``h = 1 − (1 − PD₁₂)^(1/12)``, multiplied by the macro shock of that calendar month (宏观冲击,
for the industries it hits) and by the contagion factor once one of the borrowers it
guarantees has defaulted (担保代偿传染). The loop runs over calendar months, vectorised over the
population, with the guarantee network as a sparse matrix.

What the loop decides is truth; the renderers show its consequences: the repayment behaviour
(:mod:`xiaowei.simulate.behaviour`), falling sales in the flows, new inquiries and lenders in
the credit report, and falling attendance, from ``precursor_start`` on, for most defaulters.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import sparse

from xiaowei.simulate.latent import Population, month_index, sigmoid
from xiaowei.simulate.random import Stream, population_rng


def draw_timeline(population: Population, edges: pl.DataFrame) -> pl.DataFrame:
    """One row per business: booking and the truth of what happens to its loan.

    Columns: ``business_id, booking_date, booking_month`` (absolute month index),
    ``default_mob`` (months on book of the first installment never paid; null if none),
    ``default_month`` (absolute), ``precursor_start`` (absolute month the warning signs
    start; null for defaulters without them), ``contagion`` (the default followed a partner's),
    ``late_prob`` (chance that an installment is paid late), ``prepay_mob`` (month of full
    prepayment, null if none), ``recovers`` and ``recovery_mob`` and ``recovery_share``.
    """
    config = population.config
    rng = population_rng(config.seed, Stream.TIMING)
    b = population.businesses
    t = population.truth
    n = b.height
    ids = b["business_id"].to_numpy()
    booking = b["application_date"].to_numpy().astype("datetime64[D]") + rng.integers(3, 21, n)
    booking_years = booking.astype("datetime64[Y]").astype(np.int64) + 1970
    booking_months = booking.astype("datetime64[M]").astype(np.int64) % 12
    booking_month = booking_years * 12 + booking_months
    term = b["requested_term"].to_numpy()
    pd12 = t["pd_12m"].to_numpy()
    hazard = 1.0 - (1.0 - pd12) ** (1.0 / 12.0)
    industry = b["industry"].to_numpy()

    # Guarantee contagion: G[g, b] = 1 when g guarantees b.
    if edges.height:
        g = sparse.csr_matrix(
            (
                np.ones(edges.height),
                (edges["guarantor_id"].to_numpy() - 1, edges["borrower_id"].to_numpy() - 1),
            ),
            shape=(n, n),
        )
    else:
        g = sparse.csr_matrix((n, n))

    defaulted = np.zeros(n, dtype=bool)
    default_mob = np.full(n, -1, dtype=np.int64)
    contagion_hit = np.zeros(n, dtype=bool)
    stressed = np.zeros(n, dtype=bool)
    first, last = int(booking_month.min()) + 1, int((booking_month + term).max())
    for month in range(first, last + 1):
        mob = month - booking_month
        active = (mob >= 1) & (mob <= term) & ~defaulted
        h = hazard.copy()
        for shock in config.macro_shocks:
            start = month_index(shock.start)
            if start <= month < start + shock.months:
                hit = (
                    np.isin(industry, [i.value for i in shock.industries])
                    if shock.industries
                    else np.ones(n, dtype=bool)
                )
                h = np.where(hit, h * shock.hazard_multiplier, h)
        h = np.where(stressed, h * config.contagion, h)
        new = active & (rng.random(n) < np.minimum(h, 0.95))
        default_mob = np.where(new, mob, default_mob)
        contagion_hit |= new & stressed
        defaulted |= new
        if new.any():
            stressed |= (g @ new.astype(np.float64)) > 0

    has_default = default_mob > 0
    default_month = np.where(has_default, booking_month + default_mob, -1)
    lead = rng.integers(3, 7, n)
    shows = has_default & (rng.random(n) < config.precursor_share)
    precursor_start = np.where(shows, default_month - lead, -1)
    discipline = t["credit_discipline"].to_numpy()
    late_prob = sigmoid(-3.6 - 0.9 * discipline + 4.0 * pd12)
    prepays = ~has_default & (rng.random(n) < 0.08 + 0.1 * (pd12 < 0.02)) & (term >= 6)
    prepay_mob = np.where(prepays, (term * rng.uniform(0.3, 0.9, n)).astype(np.int64) + 1, -1)
    recovers = has_default & (rng.random(n) < config.recovery_share)
    recovery_mob = np.where(recovers, default_mob + rng.integers(3, 10, n), -1)
    recovery_share = np.where(recovers, np.round(rng.uniform(0.3, 1.0, n), 3), 0.0)

    frame = pl.DataFrame(
        {
            "business_id": ids,
            "booking_date": booking,
            "booking_month": booking_month,
            "default_mob": default_mob,
            "default_month": default_month,
            "precursor_start": precursor_start,
            "contagion": contagion_hit,
            "late_prob": np.round(late_prob, 4),
            "prepay_mob": prepay_mob,
            "recovers": recovers,
            "recovery_mob": recovery_mob,
            "recovery_share": recovery_share,
        }
    )
    return frame.with_columns(
        [
            pl.when(pl.col(c) >= 0).then(pl.col(c)).otherwise(None).alias(c)
            for c in (
                "default_mob",
                "default_month",
                "precursor_start",
                "prepay_mob",
                "recovery_mob",
            )
        ]
    )
