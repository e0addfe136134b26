"""The demo books simulated businesses' loans and posts their repayment paths through the
loan use cases: the ledger ends the year where the simulated paths say it should."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from xiaowei.adapters import orm
from xiaowei.adapters.db import make_engine
from xiaowei.services.demo import YEAR_END, run_demo, simulated_book
from xiaowei.simulate import behaviour

LOANS = 40
SEED = 7


@pytest.mark.slow
def test_demo_posts_the_simulated_paths(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = run_demo(url, loans=LOANS, seed=SEED, fresh=True)
    book = simulated_book(LOANS, SEED)

    # path types: every loan once, as the simulator classifies them by the year's end
    assert result.behaviours == book.behaviours(YEAR_END)
    assert sum(result.behaviours.values()) == LOANS
    assert list(result.behaviours) == [p.value for p in behaviour.PathType]
    assert result.behaviours["on-time"] > 0
    assert result.behaviours["late"] + result.behaviours["partial"] > 0

    # one posting per loan and payment day of 2025
    in_year = book.repayments.filter(pl.col("pay_date") <= YEAR_END)
    assert result.repayments == in_year.select("business_id", "pay_date").n_unique()

    engine = make_engine(url)
    lc = orm.loans.c
    with engine.connect() as conn:
        stored = pl.DataFrame(
            conn.execute(
                select(
                    lc.customer_id,
                    lc.product_code,
                    lc.status,
                    lc.start_date,
                    lc.principal_fen,
                    lc.rate_ppm,
                    lc.dpd,
                    lc.principal_outstanding_fen,
                )
            ).all(),
            schema=[
                "customer_id",
                "product_code",
                "status",
                "start_date",
                "principal_fen",
                "rate_ppm",
                "dpd",
                "principal_outstanding_fen",
            ],
            orient="row",
        )
    engine.dispose()
    assert stored.height == LOANS
    assert set(stored["product_code"]) == {"SME-OP"}
    joined = book.loans.join(stored, on="customer_id", suffix="_db")
    assert joined.height == LOANS  # every business booked once, under its credit code
    for col in ("start_date", "principal_fen", "rate_ppm"):
        assert (joined[col] == joined[f"{col}_db"]).all()

    # the ledger at the year's end agrees with the outcomes of the paths at that date
    product = behaviour.catalogue_product("SME-OP")
    schedule = behaviour.schedules(book.loans.drop("customer_id"), product)
    seen = behaviour.outcomes(book.loans, schedule, book.repayments, as_of=YEAR_END)
    check = seen.join(joined.select("loan_id", "status", "dpd"), on="loan_id")
    recovered = book.repayments.filter(
        (pl.col("kind") == "recovery") & (pl.col("pay_date") <= YEAR_END)
    )["loan_id"]
    plain = check.filter(~pl.col("loan_id").is_in(recovered.implode()))
    assert (plain["dpd"] == plain["dpd_right"]).all()
    assert (check["closed"] == (check["status"] == "closed")).all()
    prepaid = check.filter("prepaid")
    assert (prepaid["status"] == "closed").all()
