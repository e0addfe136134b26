"""Portfolio capital (组合资本): IRB and standardised RWA over a table of exposures.

Worked example (two rows, hand-computed from the Annex 5 cells of BCBS, *International
Convergence of Capital Measurement and Capital Standards — Comprehensive Version*, June 2006,
and the hand-worked K of ``test_capital.py``):

* A: other retail (§330), PD 1 %, LGD 45 %, EAD CNY 1,000,000.00. K = 0.036618, RW = 45.77 %
  (Annex 5), RWA ≈ 457,725 (457,700 at the Annex's two decimals); EL = 0.01 × 0.45 × EAD =
  4,500.00; standardised regulatory retail 75 % → 750,000.00.
* B: corporate (§272), PD 1 %, LGD 45 %, M 2.5, EAD CNY 2,000,000.00. K = 0.073853,
  RW = 92.32 % (Annex 5), RWA ≈ 1,846,325 (1,846,400 at two decimals); EL = 9,000.00;
  standardised general corporate 100 % → 2,000,000.00.
* Totals: EAD 3,000,000.00, EL 13,500.00, standardised RWA 2,750,000.00, standardised capital
  220,000.00 at 8 % and 288,750.00 at 10.5 %; IRB capital at 8 % = Σ K · EAD ≈ 184,324.

The standardised weights (75 % / 85 % / 100 %, defaulted 150 % or 100 %) are those of
``decision/capital.py``, whose module note says which sources were verified.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.core.errors import InvalidInput
from xiaowei.decision.capital import (
    RETAIL_SINGLE_OBLIGOR_CAP_FEN,
    StandardisedClass,
    _fen_times_weight,
    corporate_capital,
    irb_capital,
    portfolio_capital,
    retail_capital,
    standardised_risk_weight,
)


def two_rows() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "pd": [0.01, 0.01],
            "amount_fen": [100_000_000, 200_000_000],
            "class": ["retail", "corporate"],
            "grade": [5, 6],
        }
    )


def test_two_row_portfolio_from_the_annex_5_cells() -> None:
    result = portfolio_capital(
        two_rows(),
        lgd=0.45,
        ead_col="amount_fen",
        asset_class_col="class",
        maturity=2.5,
        capital_ratio=Decimal("0.08"),
        by="grade",
    )
    rows = result.exposures
    # IRB, per row: the Annex's printed RW × EAD, to its two decimals of a per cent
    assert rows["rw_irb"][0] == pytest.approx(0.4577, abs=5e-5)
    assert rows["rw_irb"][1] == pytest.approx(0.9232, abs=5e-5)
    assert rows["capital_k"].to_list() == pytest.approx([0.036618, 0.073853], abs=5e-7)
    assert abs(rows["rwa_irb_fen"][0] - 45_770_000) <= 5_000
    assert abs(rows["rwa_irb_fen"][1] - 184_640_000) <= 10_000
    # … and to the fen what the one-exposure function gives
    one = retail_capital(pd=0.01, lgd=0.45, ead="1000000.00").rwa
    two = corporate_capital(pd=0.01, lgd=0.45, maturity=2.5, ead="2000000.00").rwa
    assert one is not None
    assert two is not None
    assert abs(Decimal(rows["rwa_irb_fen"][0]) / 100 - one) <= Decimal("0.01")
    assert abs(Decimal(rows["rwa_irb_fen"][1]) / 100 - two) <= Decimal("0.01")
    # EL and the standardised side are exact
    assert rows["el_fen"].to_list() == [450_000, 900_000]
    assert rows["std_class"].to_list() == ["regulatory-retail", "corporate"]
    assert rows["rwa_std_fen"].to_list() == [75_000_000, 200_000_000]
    total = result.total
    assert total.ead == Decimal("3000000.00")
    assert total.expected_loss == Decimal("13500.00")
    assert total.rwa_standardised == Decimal("2750000.00")
    assert total.capital_standardised == Decimal("220000.00")
    assert total.pd_mean == pytest.approx(0.01)
    # at 8 % and scaling 1 the IRB capital is Σ K · EAD
    k_ead = 0.036618 * 1_000_000 + 0.073853 * 2_000_000
    assert float(total.capital_irb) == pytest.approx(k_ead, abs=2.0)
    assert [s.segment for s in result.segments] == ["5", "6"]


def test_capital_ratio_with_the_conservation_buffer() -> None:
    result = portfolio_capital(
        two_rows(), lgd=0.45, ead_col="amount_fen", asset_class_col="class", maturity=2.5
    )
    assert result.capital_ratio == Decimal("0.105")
    assert result.total.capital_standardised == Decimal("288750.00")
    assert result.total.capital_irb == (result.total.rwa_irb * Decimal("0.105")).quantize(
        Decimal("0.01")
    )


def test_totals_add_up_over_segments() -> None:
    rng = np.random.default_rng(7)
    n = 400
    frame = pl.DataFrame(
        {
            "pd": rng.uniform(0.0001, 0.4, n),
            "lgd": rng.uniform(0.1, 0.9, n),
            "ead": rng.integers(0, 50_000_000_00, n),
            "grade": rng.integers(1, 11, n),
            "class": rng.choice(["retail", "sme", "corporate"], n),
        }
    )
    result = portfolio_capital(
        frame, lgd_col="lgd", ead_col="ead", asset_class_col="class", by="grade"
    )
    segments = result.segments
    assert [s.segment for s in segments] == [str(g) for g in sorted(set(frame["grade"]))]
    assert sum(s.exposures for s in segments) == n
    for field in ("ead", "expected_loss", "rwa_irb", "rwa_standardised"):
        assert sum(getattr(s, field) for s in segments) == getattr(result.total, field), field
    # capital is rounded per summary: within half a fen per segment of the total
    for field in ("capital_irb", "capital_standardised"):
        gap = abs(sum(getattr(s, field) for s in segments) - getattr(result.total, field))
        assert gap <= Decimal("0.005") * len(segments)
    assert int(result.exposures["ead_fen"].sum()) == int(frame["ead"].sum())


def test_standardised_weights() -> None:
    retail, weight = standardised_risk_weight("retail", ead_fen=RETAIL_SINGLE_OBLIGOR_CAP_FEN)
    assert (retail, weight) == (StandardisedClass.REGULATORY_RETAIL, Decimal("0.75"))
    above = standardised_risk_weight("retail", ead_fen=RETAIL_SINGLE_OBLIGOR_CAP_FEN + 1)
    assert above == (StandardisedClass.SME_CORPORATE, Decimal("0.85"))
    assert standardised_risk_weight("sme", ead_fen=1) == (
        StandardisedClass.SME_CORPORATE,
        Decimal("0.85"),
    )
    assert standardised_risk_weight("corporate", ead_fen=1)[1] == Decimal("1.00")
    assert standardised_risk_weight("retail", ead_fen=1, defaulted=True) == (
        StandardisedClass.DEFAULTED,
        Decimal("1.50"),
    )
    covered = standardised_risk_weight(
        "retail", ead_fen=1, defaulted=True, provision_share=Decimal("0.20")
    )
    assert covered[1] == Decimal("1.00")
    thin = standardised_risk_weight(
        "sme", ead_fen=1, defaulted=True, provision_share=Decimal("0.19")
    )
    assert thin[1] == Decimal("1.50")
    with pytest.raises(InvalidInput, match="asset_class"):
        standardised_risk_weight("mortgage", ead_fen=1)


def test_vectorised_standardised_weights_equal_the_scalar_rule() -> None:
    rng = np.random.default_rng(11)
    n = 300
    cap = RETAIL_SINGLE_OBLIGOR_CAP_FEN
    frame = pl.DataFrame(
        {
            "pd": np.where(rng.random(n) < 0.2, 1.0, rng.uniform(0.001, 0.3, n)),
            "ead": rng.choice([cap - 1, cap, cap + 1, 5_000_00, 20_000_000_00], n),
            "class": rng.choice(["retail", "SME ", "corporate"], n),
            "prov": rng.choice([0.0, 0.1999, 0.2, 0.5], n),
        }
    )
    rows = portfolio_capital(
        frame, lgd=0.45, ead_col="ead", asset_class_col="class", provision_col="prov"
    ).exposures
    for source, row in zip(frame.iter_rows(named=True), rows.iter_rows(named=True), strict=True):
        cls, weight = standardised_risk_weight(
            source["class"].strip().lower(),
            ead_fen=source["ead"],
            defaulted=source["pd"] >= 1.0,
            provision_share=Decimal(repr(source["prov"])),
        )
        assert row["std_class"] == cls.value
        assert Decimal(repr(row["rw_std"])) == weight
        assert Decimal(row["rwa_std_fen"]) == (weight * source["ead"]).quantize(
            Decimal(1), rounding="ROUND_HALF_UP"
        )


def test_standardised_rwa_is_exact_to_the_fen_half_up() -> None:
    frame = pl.DataFrame(
        {
            "pd": [0.02, 0.02, 0.02, 1.0, 1.0],
            "ead": [100_000_001, 3, 2, 100_000, 100_000],
            "prov": [0.0, 0.0, 0.0, 0.05, 0.25],
        }
    )
    result = portfolio_capital(frame, lgd=0.45, ead_col="ead", provision_col="prov")
    # 1,000,000.01 × 75 % = 750,000.0075 → 750,000.01; 0.03 × 75 % = 0.0225 → 0.02;
    # 0.02 × 75 % = 0.015 → 0.02 (half-up); defaulted: 150 % and 100 % by provisions
    assert result.exposures["rwa_std_fen"].to_list() == [75_000_001, 2, 2, 150_000, 100_000]
    assert result.exposures["std_class"].to_list()[3:] == ["defaulted", "defaulted"]


def test_a_flat_standardised_weight_spares_defaulted_rows() -> None:
    frame = pl.DataFrame({"pd": [0.05, 1.0], "ead": [1_000_00, 1_000_00]})
    result = portfolio_capital(frame, lgd=0.45, ead_col="ead", standardised_weight=Decimal("1.0"))
    assert result.exposures["std_class"].to_list() == ["flat", "defaulted"]
    assert result.exposures["rwa_std_fen"].to_list() == [100_000, 150_000]
    assert result.flat_weight == Decimal("1.0")


def test_defaulted_exposure_has_no_unexpected_loss() -> None:
    frame = pl.DataFrame({"pd": [1.0], "ead": [10_000_00]})
    row = portfolio_capital(frame, lgd=0.45, ead_col="ead").exposures.row(0, named=True)
    assert (row["capital_k"], row["rwa_irb_fen"], row["el_fen"]) == (0.0, 0, 4_500_00)


def test_sme_sales_from_a_fen_column() -> None:
    """CNY 39 million at 7.8 CNY/EUR is EUR 5 million (the full §273 adjustment); CNY 390
    million is EUR 50 million (none); without a sales column S = 5."""
    frame = pl.DataFrame(
        {"pd": [0.01, 0.01], "ead": [100_000_000, 100_000_000], "sales": [39e6 * 100, 390e6 * 100]}
    ).with_columns(pl.col("sales").cast(pl.Int64))
    result = portfolio_capital(
        frame,
        lgd=0.45,
        ead_col="ead",
        asset_class="sme",
        maturity=2.5,
        sales_col="sales",
        cny_per_eur=Decimal("7.8"),
    )
    # Annex 5: 72.40 % and 92.32 % (the SME cell is one of those the Annex rounds 0.01 off:
    # K = 0.057916, RW = 72.395 %)
    assert result.exposures["rw_irb"].to_list() == pytest.approx([0.7240, 0.9232], abs=1e-4)
    assert result.exposures["std_class"].to_list() == ["sme-corporate"] * 2
    without = portfolio_capital(frame, lgd=0.45, ead_col="ead", asset_class="sme", maturity=2.5)
    assert without.exposures["rw_irb"][0] == result.exposures["rw_irb"][0]


def test_decimal_ead_column_equals_integer_fen() -> None:
    fen = pl.DataFrame({"pd": [0.03, 0.2], "ead": [123_456_78, 5_00]})
    cny = fen.with_columns(
        pl.Series("ead", [Decimal("123456.78"), Decimal("5.00")], dtype=pl.Decimal(18, 2))
    )
    a = portfolio_capital(fen, lgd=0.45, ead_col="ead")
    b = portfolio_capital(cny, lgd=0.45, ead_col="ead")
    assert a.total == b.total


def test_ties_round_half_up_as_the_scalar_path() -> None:
    weights = np.array([0.5, 0.5, 0.25])
    ead = np.array([1, 3, 2], dtype=np.int64)
    assert _fen_times_weight(weights, ead).tolist() == [1, 2, 1]


@pytest.mark.parametrize(
    ("frame", "kwargs", "field"),
    [
        (pl.DataFrame({"pd": [0.1], "ead": [1.5]}), {"lgd": 0.45}, "ead_col"),
        (
            pl.DataFrame(
                {"pd": [0.1], "ead": [Decimal("1.234")]},
                schema_overrides={"ead": pl.Decimal(10, 3)},
            ),
            {"lgd": 0.45},
            "ead_col",
        ),
        (pl.DataFrame({"pd": [0.1], "ead": [-1]}), {"lgd": 0.45}, "ead_col"),
        (pl.DataFrame({"pd": [0.1], "ead": [1]}), {}, "lgd"),
        (pl.DataFrame({"pd": [0.1], "ead": [1], "l": [0.4]}), {"lgd": 0.4, "lgd_col": "l"}, "lgd"),
        (pl.DataFrame({"pd": [0.1], "ead": [1]}), {"lgd": 1.5}, "lgd"),
        (pl.DataFrame({"pd": [0.0], "ead": [1]}), {"lgd": 0.45}, "pd"),
        (pl.DataFrame({"p": [0.1], "ead": [1]}), {"lgd": 0.45}, "pd_col"),
        (pl.DataFrame({"pd": [0.1], "ead": [1]}), {"lgd": 0.45, "by": "grade"}, "by"),
        (
            pl.DataFrame({"pd": [0.1], "ead": [1]}),
            {"lgd": 0.45, "asset_class": "qrre"},
            "asset_class",
        ),
        (
            pl.DataFrame({"pd": [0.1], "ead": [1]}),
            {"lgd": 0.45, "standardised_weight": Decimal("0.12345")},
            "standardised_weight",
        ),
        (
            pl.DataFrame({"pd": [0.1], "ead": [1]}),
            {"lgd": 0.45, "capital_ratio": Decimal("0")},
            "capital_ratio",
        ),
        (
            pl.DataFrame({"pd": [0.1], "ead": [1], "s": [1]}),
            {"lgd": 0.45, "asset_class": "sme", "sales_col": "s"},
            "cny_per_eur",
        ),
        (pl.DataFrame({"pd": [0.1], "ead": [1]}), {"lgd": 0.45, "maturity": 0.0}, "maturity"),
    ],
)
def test_bad_input_names_the_field(
    frame: pl.DataFrame, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        portfolio_capital(frame, ead_col="ead", **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


@settings(max_examples=60, deadline=None)
@given(
    pd=st.floats(min_value=1e-5, max_value=1.0),
    lgd=st.floats(min_value=0.0, max_value=1.0),
    ead_fen=st.integers(min_value=0, max_value=10**12),
    asset=st.sampled_from(["retail", "corporate"]),
    maturity=st.floats(min_value=0.1, max_value=8.0),
)
def test_each_row_matches_the_one_exposure_function(
    pd: float, lgd: float, ead_fen: int, asset: str, maturity: float
) -> None:
    frame = pl.DataFrame({"pd": [pd], "ead": [ead_fen]})
    row = portfolio_capital(
        frame, lgd=lgd, ead_col="ead", asset_class=asset, maturity=maturity
    ).exposures.row(0, named=True)
    one = irb_capital(asset, pd=pd, lgd=lgd, maturity=maturity, ead=Decimal(ead_fen) / 100)
    assert one.rwa is not None
    assert row["capital_k"] == pytest.approx(one.capital_k, rel=1e-9, abs=1e-12)
    assert abs(Decimal(row["rwa_irb_fen"]) / 100 - one.rwa) <= Decimal("0.01")
    assert row["rwa_irb_fen"] >= 0
    assert row["el_fen"] <= ead_fen
