"""Risk-based pricing (贷款定价): rate = funding + operating + EL + cost of capital + margin.

Hand-worked example (default :class:`PricingPolicy`: funding 2.5 %, operating 2 %, hurdle 12 %,
risk-free 1.5 %, margin 0.5 %, capital = IRB K), an other-retail loan with a 12-month PD of 2 %,
LGD 45 %, 12 months:

* EL = 0.02 × 0.45 = 0.009000.
* K (Basel II §330): w = (1 − e^−0.7)/(1 − e^−35) = 0.503415; R = 0.03·w + 0.16·(1 − w) =
  0.094556; (G(0.02) + √R·G(0.999)) / √(1 − R) = (−2.053749 + 0.307500 × 3.090232) / 0.951548
  = −1.159693; N(−1.159693) = 0.123087; K = 0.45 × (0.123087 − 0.02) = 0.046389
  (risk weight 57.99 %, the Annex 5 value for PD 2 %).
* Cost of capital = 0.046389 × (0.12 − 0.015) = 0.004870845 → 0.004871.
* Rate = 0.025 + 0.020 + 0.009 + 0.004871 + 0.005 = 0.063871 (6.3871 %).
* RAROC = (0.063871 + 0.046389 × 0.015 − 0.025 − 0.02 − 0.009) / 0.046389
  = 0.010567 / 0.046389 = 0.22779: the 12 % hurdle plus the margin's 0.005 / 0.046389 = 10.78 pts.
"""

from __future__ import annotations

import functools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.core.errors import InvalidInput
from xiaowei.decision.capital import retail_capital
from xiaowei.decision.pricing import (
    CapitalMethod,
    PriceBound,
    PricingPolicy,
    annual_pd,
    price_loan,
)
from xiaowei.lending.catalogue import load_catalogue
from xiaowei.lending.product import LoanProduct

D = Decimal
NO_MARGIN = PricingPolicy(margin=D(0))


@functools.cache
def product(code: str) -> LoanProduct:
    return next(p for p in load_catalogue() if p.code == code)


def test_hand_worked_example() -> None:
    quote = price_loan(pd=0.02, lgd=0.45, term_months=12)
    assert quote.irb.correlation == pytest.approx(0.094556, abs=5e-7)
    assert quote.capital == D("0.046389")
    assert quote.funding == D("0.025000")
    assert quote.operating_cost == D("0.020000")
    assert quote.expected_loss == D("0.009000")
    assert quote.cost_of_capital == D("0.004871")
    assert quote.margin == D("0.005000")
    assert quote.risk_based_rate == D("0.063871")
    assert quote.rate == D("0.063871")
    assert quote.bound is None
    assert not quote.clamped
    assert quote.raroc == pytest.approx(0.22779, abs=5e-6)
    parts = quote.to_dict()["components"]
    assert sum(D(v) for v in parts.values()) == quote.rate  # the breakdown adds up exactly


def test_raroc_equals_the_hurdle_when_the_margin_is_zero() -> None:
    # interest − funding − operating − EL = C·(h − r_f); adding C·r_f gives C·h; / C = h.
    # The only gap is the cost of capital's rounding to 1e-6: |RAROC − h| ≤ 5e-7 / C.
    quote = price_loan(pd=0.02, lgd=0.45, term_months=12, policy=NO_MARGIN)
    assert quote.rate == D("0.058871")
    assert quote.raroc == pytest.approx(0.12, abs=5e-7 / float(quote.capital))
    corporate = price_loan(
        pd=0.01, lgd=0.45, term_months=36, policy=NO_MARGIN,
        asset_class="corporate", sales_million_eur=10,
    )  # fmt: skip
    assert corporate.irb.maturity == 3.0
    assert corporate.raroc == pytest.approx(0.12, abs=5e-7 / float(corporate.capital))


def test_risk_weight_times_target_ratio() -> None:
    # A standardised 75 % (regulatory retail) × 10.5 % = 7.875 % capital per unit of exposure.
    policy = PricingPolicy(capital_method=CapitalMethod.RISK_WEIGHT, risk_weight=D("0.75"))
    quote = price_loan(pd=0.02, lgd=0.45, term_months=12, policy=policy)
    assert quote.capital == D("0.078750")
    assert quote.cost_of_capital == D("0.008269")  # 0.07875 × 0.105 = 0.00826875, half-up
    assert quote.rate == D("0.067269")
    # Without an explicit weight, the IRB risk weight is used: 0.579864 × 0.105 = 0.060886.
    irb_weight = PricingPolicy(capital_method="risk-weight")  # type: ignore[arg-type]
    assert price_loan(pd=0.02, lgd=0.45, term_months=12, policy=irb_weight).capital == D("0.060886")


def test_the_legal_cap_is_four_times_the_lpr_by_default() -> None:
    assert PricingPolicy().effective_legal_cap == D("0.120000")  # 4 × 3.00 %
    assert PricingPolicy(lpr_1y=D("0.0345")).effective_legal_cap == D("0.138000")
    assert PricingPolicy(legal_cap=D("0.24")).effective_legal_cap == D("0.24")
    risky = price_loan(pd=0.15, lgd=0.6, term_months=12, product=product("SME-OP"))
    assert risky.risk_based_rate > D("0.12")
    assert risky.rate == D("0.120000")
    assert risky.bound is PriceBound.LEGAL_CAP
    assert risky.ceiling == D("0.120000")
    assert risky.raroc is not None
    assert risky.raroc < 0.12  # the cap leaves the hurdle unmet


def test_product_range_clamps() -> None:
    lax = PricingPolicy(legal_cap=D("0.24"))
    risky = price_loan(pd=0.3, lgd=0.6, term_months=12, product=product("SME-OP"), policy=lax)
    assert risky.rate == D("0.18")
    assert risky.bound is PriceBound.PRODUCT_MAX
    safe = price_loan(pd=0.001, lgd=0.2, term_months=12, product=product("MED-AES"), policy=lax)
    assert safe.risk_based_rate < D("0.072")
    assert safe.rate == D("0.072")
    assert safe.bound is PriceBound.PRODUCT_MIN
    # The quoted rate is one the product accepts (six decimals, within range).
    sme = product("SME-OP")
    for pd in (0.001, 0.01, 0.05, 0.3):
        rate = price_loan(pd=pd, lgd=0.45, term_months=12, product=sme).rate
        assert sme.rate_min <= rate <= sme.rate_max
        assert rate == rate.quantize(D("0.000001"))


def test_explicit_range_and_refusals() -> None:
    quote = price_loan(pd=0.02, lgd=0.45, term_months=12, rate_min=D("0.08"), rate_max=D("0.1"))
    assert quote.rate == D("0.08")
    assert quote.bound is PriceBound.PRODUCT_MIN
    with pytest.raises(InvalidInput, match="no lawful rate"):
        price_loan(pd=0.02, lgd=0.45, term_months=12, rate_min=D("0.15"))
    with pytest.raises(InvalidInput, match="not both"):
        price_loan(pd=0.02, lgd=0.45, term_months=12, product=product("SME-OP"), rate_min=D(0))
    with pytest.raises(InvalidInput, match="rate_max"):
        price_loan(pd=0.02, lgd=0.45, term_months=12, rate_min=D("0.1"), rate_max=D("0.05"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"pd": 0.0}, "pd", id="pd-zero"),
        pytest.param({"pd": 1.5}, "pd", id="pd-above-one"),
        pytest.param({"lgd": 2.0}, "lgd", id="lgd"),
        pytest.param({"term_months": 0}, "term", id="term-zero"),
        pytest.param({"term_months": 400}, "term", id="term-long"),
        pytest.param({"rate_min": 0.05}, "rate_min", id="float-rate"),
        pytest.param({"rate_max": D("0.1234567")}, "rate_max", id="seven-decimals"),
        pytest.param({"asset_class": "sovereign"}, "asset_class", id="asset-class"),
    ],
)
def test_bad_inputs_are_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"pd": 0.02, "lgd": 0.45, "term_months": 12, **kwargs}
    with pytest.raises(InvalidInput) as caught:
        price_loan(**args)  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"funding_rate": 0.02}, "funding_rate", id="float"),
        pytest.param({"hurdle_rate": D("0.01")}, "hurdle_rate", id="hurdle-below-rf"),
        pytest.param({"margin": D("2")}, "margin", id="margin"),
        pytest.param({"capital_method": "vibes"}, "capital_method", id="method"),
        pytest.param({"legal_cap_multiple": D(0)}, "legal_cap_multiple", id="multiple"),
    ],
)
def test_bad_policies_are_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        PricingPolicy(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_pd_over_another_horizon_is_annualised() -> None:
    # 5 % over 36 months at a constant intensity: 1 − 0.95^(1/3) = 1.6952 % a year.
    assert annual_pd(0.05, 36) == pytest.approx(0.016952, abs=5e-7)
    assert annual_pd(0.05, 12) == 0.05
    quote = price_loan(pd=0.05, lgd=0.45, term_months=36, pd_horizon_months=36)
    assert quote.pd_annual == pytest.approx(0.016952, abs=5e-7)
    assert quote.expected_loss == D("0.007629")  # 0.016952 × 0.45
    assert quote.irb.pd == quote.pd_annual
    assert quote.capital == D(
        repr(retail_capital(pd=quote.pd_annual, lgd=0.45).capital_k)
    ).quantize(D("0.000001"))


def test_zero_lgd_holds_no_capital_and_has_no_raroc() -> None:
    quote = price_loan(pd=0.02, lgd=0.0, term_months=12)
    assert quote.capital == D("0.000000")
    assert quote.expected_loss == D("0.000000")
    assert quote.raroc is None
    assert quote.rate == D("0.050000")


pds = st.floats(min_value=1e-5, max_value=0.3)
lgds = st.floats(min_value=0.05, max_value=1.0)
terms = st.integers(min_value=1, max_value=60)
classes = st.sampled_from(["retail", "corporate"])


@settings(max_examples=100, deadline=None)
@given(pd=pds, step=st.floats(min_value=1.0, max_value=4.0), lgd=lgds, term=terms, cls=classes)
def test_rate_is_monotone_in_pd(pd: float, step: float, lgd: float, term: int, cls: str) -> None:
    sme = product("SME-OP")
    low = price_loan(pd=pd, lgd=lgd, term_months=term, product=sme, asset_class=cls)
    high = price_loan(
        pd=min(pd * step, 0.3), lgd=lgd, term_months=term, product=sme, asset_class=cls
    )
    assert high.risk_based_rate >= low.risk_based_rate
    assert high.rate >= low.rate


@settings(max_examples=100, deadline=None)
@given(pd=st.floats(min_value=1e-6, max_value=1.0), lgd=st.floats(0.0, 1.0), term=terms,
       lpr=st.decimals(min_value=D("0.011"), max_value=D("0.06"), places=4))  # fmt: skip
def test_rate_stays_within_bounds(pd: float, lgd: float, term: int, lpr: Decimal) -> None:
    # From 1.1 % up, 4 × LPR ≥ 4.4 % stays above SME-OP's 4.35 % floor (below it: refused).
    sme = product("SME-OP")
    quote = price_loan(pd=pd, lgd=lgd, term_months=term, product=sme,
                       policy=PricingPolicy(lpr_1y=lpr))  # fmt: skip
    assert quote.floor == sme.rate_min
    assert quote.rate >= sme.rate_min
    assert quote.rate <= min(sme.rate_max, 4 * lpr)
    assert quote.rate == quote.rate.quantize(D("0.000001"))
    assert (quote.bound is None) == (quote.rate == quote.risk_based_rate)


def test_the_raroc_of_a_rate_already_chosen() -> None:
    """A flat 8 % for every borrower (SME-OP, 12 months, LGD 45 %): PD 0.4 % has C = 0.022739
    (IRB other retail), EL 0.18 %, so RAROC = (0.08 + 0.022739 × 0.015 − 0.025 − 0.02 − 0.0018)
    / 0.022739 = 1.4750 — overcharged; PD 16 %: C = 0.072912, EL 7.2 %, RAROC = (0.08 +
    0.072912 × 0.015 − 0.045 − 0.072) / 0.072912 = −0.4925 — subsidised."""
    product = next(p for p in load_catalogue() if p.code == "SME-OP")
    safe = price_loan(
        pd=0.004, lgd=0.45, term_months=12, product=product, contract_rate=Decimal("0.08")
    )
    assert safe.rate == Decimal("0.08")
    assert safe.bound is None
    assert safe.risk_based_rate == Decimal("0.054188")
    assert safe.capital == Decimal("0.022739")
    assert safe.raroc == pytest.approx(
        (0.08 + 0.022739 * 0.015 - 0.025 - 0.02 - 0.0018) / 0.022739, abs=1e-12
    )
    assert round(safe.raroc, 4) == 1.4750
    risky = price_loan(
        pd=0.16, lgd=0.45, term_months=12, product=product, contract_rate=Decimal("0.08")
    )
    assert risky.raroc is not None
    assert round(risky.raroc, 4) == -0.4925
    with pytest.raises(InvalidInput, match="outside the allowed range"):
        price_loan(pd=0.02, lgd=0.45, term_months=12, product=product, contract_rate=Decimal("0.2"))
    with pytest.raises(InvalidInput) as raised:
        price_loan(pd=0.02, lgd=0.45, term_months=12, contract_rate=0.08)  # type: ignore[arg-type]
    assert raised.value.field == "contract_rate"


def test_the_pricing_chart_is_drawn(tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    from xiaowei.reports.pricing_charts import pricing_chart, pricing_chart_png

    product = next(p for p in load_catalogue() if p.code == "SME-OP")

    def at(pd: float) -> object:
        return price_loan(pd=pd, lgd=0.45, term_months=12, product=product)

    quote = price_loan(pd=0.02, lgd=0.45, term_months=12, product=product)
    path = pricing_chart(quote, at, Path(str(tmp_path)) / "p.png", lang="en")  # type: ignore[arg-type]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pricing_chart_png(quote, at, lang="en")[:4] == b"\x89PNG"  # type: ignore[arg-type]
