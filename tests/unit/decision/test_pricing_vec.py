"""Vectorised risk-based pricing (批量风险定价): :func:`price_array` equals :func:`price_loan`.

Every component, the clamp and the bound of each row must be the Decimal path's exactly (not
to a tolerance): thousands of random rows over PDs from 1e-6 to 1, terms of 1–60 months, both
capital methods, retail and corporate exposures, PD horizons other than a year, and rows built
to sit on a rounding tie (re-priced through the scalar path).
"""

from __future__ import annotations

import functools
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.core.errors import InvalidInput
from xiaowei.decision.capital import AssetClass
from xiaowei.decision.pricing import CapitalMethod, PriceBound, PricingPolicy, price_loan
from xiaowei.decision.pricing_vec import BOUND_CODES, price_array
from xiaowei.lending.catalogue import load_catalogue
from xiaowei.lending.product import LoanProduct

D = Decimal


@functools.cache
def product(code: str = "SME-OP") -> LoanProduct:
    return next(p for p in load_catalogue() if p.code == code)


def _assert_rows_equal(arrays, pds, terms, **kwargs) -> None:  # type: ignore[no-untyped-def]
    for i, (pd, term) in enumerate(zip(pds, terms, strict=True)):
        quote = price_loan(pd=float(pd), term_months=int(term), **kwargs)
        row = (
            arrays.rate_decimal(i),
            arrays.bound_of(i),
            int(arrays.expected_loss[i]),
            int(arrays.capital[i]),
            int(arrays.cost_of_capital[i]),
            int(arrays.risk_based_rate[i]),
        )
        expected = (
            quote.rate,
            quote.bound,
            int(quote.expected_loss * 10**6),
            int(quote.capital * 10**6),
            int(quote.cost_of_capital * 10**6),
            int(quote.risk_based_rate * 10**6),
        )
        assert row == expected, (i, pd, term, row, expected)
        if quote.raroc is None:
            assert np.isnan(arrays.raroc[i])
        else:
            assert arrays.raroc[i] == pytest.approx(quote.raroc, rel=1e-12)


def test_hand_worked_example_of_test_pricing() -> None:
    """PD 2 %, LGD 45 %, 12 months, default policy: 0.063871 (see test_pricing.py)."""
    arrays = price_array(np.array([0.02]), np.array([12]), lgd=0.45)
    assert arrays.rate_decimal(0) == D("0.063871")
    assert (arrays.funding, arrays.operating_cost, arrays.margin) == (25_000, 20_000, 5_000)
    assert (int(arrays.expected_loss[0]), int(arrays.capital[0])) == (9_000, 46_389)
    assert int(arrays.cost_of_capital[0]) == 4_871
    assert arrays.bound_of(0) is None
    assert arrays.raroc[0] == pytest.approx(0.010566835 / 0.046389, rel=1e-12)


POLICIES = {
    "irb": PricingPolicy(),
    "risk-weight-irb": PricingPolicy(capital_method=CapitalMethod.RISK_WEIGHT, margin=D("0.01")),
    "risk-weight-75": PricingPolicy(
        capital_method=CapitalMethod.RISK_WEIGHT, risk_weight=D("0.75"), margin=D("-0.002")
    ),
    "scaled-cap": PricingPolicy(irb_scaling=1.06, legal_cap=D("0.15"), hurdle_rate=D("0.18")),
}


@pytest.mark.parametrize("name", sorted(POLICIES))
@pytest.mark.parametrize(
    ("asset_class", "horizon"),
    [(AssetClass.RETAIL, 12), (AssetClass.CORPORATE, 12), (AssetClass.RETAIL, 6)],
)
def test_parity_on_random_rows(name: str, asset_class: AssetClass, horizon: int) -> None:
    rng = np.random.default_rng(len(name) * 31 + horizon)
    n = 600
    pds = np.exp(rng.uniform(np.log(1e-6), 0.0, n))
    pds[:5] = [1.0, 0.0003, 1e-9, 0.5, 0.999999]
    terms = rng.integers(1, 61, n)
    kwargs = {
        "lgd": 0.45,
        "policy": POLICIES[name],
        "product": product(),
        "asset_class": asset_class,
        "pd_horizon_months": horizon,
    }
    arrays = price_array(pds, terms, **kwargs)  # type: ignore[arg-type]
    _assert_rows_equal(arrays, pds, terms, **kwargs)
    # the clamps are exercised: the floor, the legal cap and unclamped rows all occur
    bounds = {BOUND_CODES[int(b)] for b in arrays.bound}
    assert None in bounds
    assert len(bounds) >= 2


def test_parity_with_a_rate_range_and_sales() -> None:
    rng = np.random.default_rng(7)
    pds = np.exp(rng.uniform(np.log(1e-4), np.log(0.3), 400))
    terms = rng.integers(1, 121, 400)
    sales = rng.uniform(1.0, 80.0, 400)
    kwargs = {
        "lgd": 0.35,
        "rate_min": D("0.055"),
        "rate_max": D("0.10"),
        "asset_class": AssetClass.CORPORATE,
    }
    arrays = price_array(pds, terms, sales_million_eur=sales, **kwargs)  # type: ignore[arg-type]
    for i in range(400):
        quote = price_loan(
            pd=float(pds[i]),
            term_months=int(terms[i]),
            sales_million_eur=float(sales[i]),
            **kwargs,  # type: ignore[arg-type]
        )
        assert arrays.rate_decimal(i) == quote.rate
        assert arrays.bound_of(i) == quote.bound
    assert {arrays.bound_of(i) for i in range(400)} >= {
        PriceBound.PRODUCT_MIN,
        PriceBound.PRODUCT_MAX,
    }


def test_rows_on_a_rounding_tie_are_repriced_exactly() -> None:
    """PD × LGD = 0.0000125 is 12.5 millionths: the half rounds up (12.5 → 13) as the Decimal
    path rounds it, whatever the float product's last bit."""
    pds = np.array([0.000025, 0.00005, 0.02])
    arrays = price_array(pds, np.array([12, 12, 12]), lgd=0.5)
    assert arrays.repriced >= 1
    assert int(arrays.expected_loss[0]) == 13
    _assert_rows_equal(arrays, pds, [12, 12, 12], lgd=0.5)


@settings(max_examples=60, deadline=None)
@given(
    pd=st.floats(min_value=1e-7, max_value=1.0),
    term=st.integers(min_value=1, max_value=360),
    lgd=st.floats(min_value=0.0, max_value=1.0),
)
def test_any_single_loan(pd: float, term: int, lgd: float) -> None:
    arrays = price_array(np.array([pd]), np.array([term]), lgd=lgd, product=product())
    quote = price_loan(pd=pd, term_months=term, lgd=lgd, product=product())
    assert arrays.rate_decimal(0) == quote.rate
    assert product().rate_min <= arrays.rate_decimal(0) <= D("0.12")


@pytest.mark.parametrize(
    ("pds", "terms", "kwargs", "field"),
    [
        ([0.0], [12], {}, "pd"),
        ([float("nan")], [12], {}, "pd"),
        ([1.5], [12], {}, "pd"),
        ([0.1], [0], {}, "term"),
        ([0.1], [361], {}, "term"),
        ([0.1], [1.5], {}, "term"),
        ([0.1], [12], {"lgd": 1.2}, "lgd"),
        ([0.1], [12], {"rate_min": D("0.055"), "product": "SME-OP"}, "rate_min"),
        ([0.1], [12], {"rate_min": D("0.2"), "rate_max": D("0.3")}, "rate_min"),
        ([0.1], [12], {"sales_million_eur": [10.0]}, "sales_million_eur"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    pds: list[float], terms: list[float], kwargs: dict[str, object], field: str
) -> None:
    options: dict[str, object] = {"lgd": 0.45, **kwargs}
    if options.get("product") == "SME-OP":
        options["product"] = product()
    with pytest.raises(InvalidInput, match=field):
        price_array(np.array(pds), np.array(terms), **options)  # type: ignore[arg-type]
