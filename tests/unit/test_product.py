"""Loan products: the packaged catalogue, validation naming the field, and the loan checks."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from xiaowei.core.errors import InvalidInput, NotFound
from xiaowei.lending.catalogue import (
    CATALOGUE_DIR,
    load_catalogue,
    load_product_file,
    product_to_mapping,
)
from xiaowei.lending.product import (
    AllocationStrategy,
    FeeKind,
    LoanProduct,
    PrepaymentMode,
    product_from_mapping,
)
from xiaowei.lending.schedule import Frequency, RepaymentMethod

HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2,}")


@pytest.fixture(scope="module")
def catalogue() -> dict[str, LoanProduct]:
    return {product.code: product for product in load_catalogue()}


@pytest.fixture
def sme(catalogue: dict[str, LoanProduct]) -> LoanProduct:
    return catalogue["SME-OP"]


def write_yaml(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def write_product(folder: Path, mapping: dict[str, Any], name: str = "product.yaml") -> Path:
    return write_yaml(folder, name, yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False))


# --- the packaged catalogue -------------------------------------------------------------------


def test_packaged_catalogue_holds_the_three_course_products(
    catalogue: dict[str, LoanProduct],
) -> None:
    assert sorted(catalogue) == ["MED-AES", "SME-OP", "STUDENT"]
    assert sorted(p.name for p in CATALOGUE_DIR.glob("*.yaml")) == [
        "medical-aesthetics.yaml",
        "sme-operating.yaml",
        "student.yaml",
    ]


@pytest.mark.parametrize("code", ["SME-OP", "MED-AES", "STUDENT"])
def test_catalogue_products_speak_chinese_and_english(
    catalogue: dict[str, LoanProduct], code: str
) -> None:
    product = catalogue[code]

    assert HAN.search(product.name_zh)
    assert LATIN.search(product.name_en)
    assert HAN.search(product.persona)
    assert LATIN.search(product.persona)
    assert product.materials
    for material in product.materials:
        assert HAN.search(material), material
        assert LATIN.search(material), material


def test_sme_operating_loan(catalogue: dict[str, LoanProduct]) -> None:
    product = catalogue["SME-OP"]

    assert (product.amount_min, product.amount_max) == (Decimal(30000), Decimal(3000000))
    assert (product.term_min, product.term_max) == (3, 36)
    # Written as a plain YAML number, read as the exact decimal.
    assert str(product.rate_min) == "0.0435"
    assert str(product.rate_max) == "0.18"
    assert set(product.methods) == {
        RepaymentMethod.EQUAL_INSTALLMENT,
        RepaymentMethod.EQUAL_PRINCIPAL,
        RepaymentMethod.INTEREST_ONLY,
        RepaymentMethod.BALLOON,
        RepaymentMethod.SEASONAL,
    }
    assert product.frequencies == (Frequency.MONTHLY, Frequency.QUARTERLY)
    assert product.grace_months == 6
    assert product.prepayment.allowed_after_months == 3
    assert product.prepayment.fee_rate == Decimal("0.01")
    assert product.penalty_markup == Decimal("0.5")
    assert product.compound_interest
    assert product.overdue_grace_days == 3
    assert product.allocation is AllocationStrategy.PRINCIPAL_FIRST_WHEN_NPL
    assert any("营业执照" in m for m in product.materials)
    assert any("征信授权书" in m for m in product.materials)


def test_medical_aesthetics_loan(catalogue: dict[str, LoanProduct]) -> None:
    product = catalogue["MED-AES"]

    assert (product.amount_min, product.amount_max) == (Decimal(3000), Decimal(100000))
    assert (product.term_min, product.term_max) == (3, 24)
    assert product.methods == (RepaymentMethod.EQUAL_INSTALLMENT,)
    assert product.rate_max == Decimal("0.24")
    assert [f.kind for f in product.fees] == [FeeKind.UPFRONT_PERCENT]
    assert product.repayment_day == 10
    assert product.overdue_grace_days == 0
    assert product.prepayment.allowed_after_months == 1
    assert product.prepayment.fee_rate > 0
    assert product.prepayment.mode is PrepaymentMode.LOWER_INSTALLMENT


def test_student_loan(catalogue: dict[str, LoanProduct]) -> None:
    product = catalogue["STUDENT"]

    # 国家助学贷款: 16,000 CNY a year for an undergraduate since 2023.
    assert (product.amount_min, product.amount_max) == (Decimal(1000), Decimal(16000))
    assert (product.term_min, product.term_max) == (12, 240)
    assert set(product.methods) == {
        RepaymentMethod.INTEREST_ONLY,
        RepaymentMethod.EQUAL_INSTALLMENT,
    }
    assert product.grace_months > 0
    assert product.fees == ()
    assert product.upfront_fee(Decimal("16000")) == Decimal("0.00")
    assert product.prepayment.fee_rate == 0
    assert product.prepayment.allowed_after_months == 0
    assert product.rate_max <= Decimal("0.05")


def test_load_catalogue_reads_a_directory_in_file_name_order(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.yml"):
        source = CATALOGUE_DIR / ("student.yaml" if name == "b.yaml" else "sme-operating.yaml")
        write_yaml(tmp_path, name, source.read_text(encoding="utf-8"))
    write_yaml(tmp_path, "notes.txt", "not a product")

    assert [p.code for p in load_catalogue(tmp_path)] == ["SME-OP", "STUDENT"]


def test_load_catalogue_of_an_empty_directory_is_empty(tmp_path: Path) -> None:
    assert load_catalogue(tmp_path) == []


def test_load_catalogue_refuses_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no product catalogue directory"):
        load_catalogue(tmp_path / "absent")


def test_load_catalogue_refuses_the_same_code_and_version_twice(
    tmp_path: Path, sme: LoanProduct
) -> None:
    write_product(tmp_path, product_to_mapping(sme), "a.yaml")
    write_product(tmp_path, product_to_mapping(sme), "b.yaml")

    with pytest.raises(
        InvalidInput, match=r"b\.yaml SME-OP: version: .*already defined in a\.yaml"
    ):
        load_catalogue(tmp_path)


def test_load_catalogue_accepts_a_new_version_of_a_product(
    tmp_path: Path, sme: LoanProduct
) -> None:
    write_product(tmp_path, product_to_mapping(sme), "a.yaml")
    write_product(tmp_path, {**product_to_mapping(sme), "version": 2}, "b.yaml")

    assert [(p.code, p.version) for p in load_catalogue(tmp_path)] == [
        ("SME-OP", 1),
        ("SME-OP", 2),
    ]


# --- YAML floats become exact decimals ------------------------------------------------------------


def test_yaml_floats_become_the_decimals_written(tmp_path: Path, sme: LoanProduct) -> None:
    mapping = product_to_mapping(sme)
    text = yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False)
    # Unquote the numbers, as a person writes them; PyYAML then reads binary floats.
    for field in ("rate_min", "rate_max", "penalty_markup"):
        text = text.replace(f"{field}: '{mapping[field]}'", f"{field}: {mapping[field]}")
    text = text.replace("fee_rate: '0.01'", "fee_rate: 0.01")
    path = write_yaml(tmp_path, "floats.yaml", text)
    raw = yaml.safe_load(text)
    floats = (
        raw["rate_min"],
        raw["rate_max"],
        raw["penalty_markup"],
        raw["prepayment"]["fee_rate"],
    )
    assert all(isinstance(value, float) for value in floats)

    product = load_product_file(path)

    assert Decimal(0.0435) != Decimal("0.0435")  # noqa: RUF032 - the error kept out
    assert str(product.rate_min) == "0.0435"
    assert str(product.rate_max) == "0.18"
    assert str(product.penalty_markup) == "0.5"
    assert str(product.prepayment.fee_rate) == "0.01"
    assert product == sme


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        pytest.param("0.0435", "0.0435", id="rate"),
        pytest.param("'0.0435'", "0.0435", id="quoted-rate"),
        pytest.param("0.1", "0.1", id="one-tenth"),
        pytest.param("0.123456", "0.123456", id="six-places"),
        pytest.param("0.18", "0.18", id="ceiling"),
    ],
)
def test_a_rate_in_yaml_reads_exactly(
    tmp_path: Path, sme: LoanProduct, yaml_text: str, expected: str
) -> None:
    mapping = product_to_mapping(sme) | {"rate_min": "0.01"}
    text = yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False)
    text = text.replace(f"rate_max: '{mapping['rate_max']}'", f"rate_max: {yaml_text}")

    product = load_product_file(write_yaml(tmp_path, "rate.yaml", text))

    assert str(product.rate_max) == expected


def test_yaml_floats_in_nested_fields_become_decimals(tmp_path: Path, sme: LoanProduct) -> None:
    text = yaml.safe_dump(product_to_mapping(sme), allow_unicode=True, sort_keys=False)
    text = text.replace("fees: []", "fees:\n- kind: upfront-percent\n  value: 0.015")

    product = load_product_file(write_yaml(tmp_path, "fee.yaml", text))

    assert str(product.fees[0].value) == "0.015"
    assert product.upfront_fee(Decimal("100000")) == Decimal("1500.00")


# --- invalid products name the field -------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        pytest.param(
            {"amount_max": 10000}, "amount_max", "must not be below amount_min", id="amount-max"
        ),
        pytest.param({"term_max": 2}, "term_max", "must not be below term_min", id="term-max"),
        pytest.param({"rate_max": "0.04"}, "rate_max", "must not be below rate_min", id="rate-max"),
        pytest.param(
            {"methods": ["equal-installment", "pay-when-you-like"]},
            "methods.1",
            "Input should be",
            id="unknown-method",
        ),
        pytest.param({"methods": []}, "methods", "at least 1 item", id="no-method"),
        pytest.param(
            {"rate_min": "0.0435001"},
            "rate_min",
            "more than six decimal places",
            id="rate-seven-decimals",
        ),
        pytest.param(
            {"rate_min": 0.0435001},
            "rate_min",
            "more than six decimal places",
            id="rate-seven-decimals-as-yaml-float",
        ),
        pytest.param(
            {"amount_min": "30000.001"},
            "amount_min",
            "more than two decimal places",
            id="amount-sub-fen",
        ),
        pytest.param(
            {"fees": [{"kind": "upfront-percent", "value": "-0.01"}]},
            "fees.0.value",
            "greater than or equal to 0",
            id="negative-fee",
        ),
        pytest.param(
            {"fees": [{"kind": "monthly-percent", "value": "0.01"}]},
            "fees.0.kind",
            "Input should be",
            id="unknown-fee-kind",
        ),
        pytest.param(
            {"colour": "red"}, "colour", "Extra inputs are not permitted", id="unknown-key"
        ),
        pytest.param(
            {"prepayment": {"allowed_after_months": 3, "penalty": "0.01"}},
            "prepayment.penalty",
            "Extra inputs are not permitted",
            id="unknown-nested-key",
        ),
        pytest.param(
            {"prepayment": {"fee_rate": 0.2}},
            "prepayment.fee_rate",
            "less than or equal to 0.1",
            id="prepayment-fee-too-high",
        ),
        pytest.param({"code": "SME OP"}, "code", "should match pattern", id="code-with-space"),
        pytest.param({"repayment_day": 32}, "repayment_day", "less than or equal to 31", id="day"),
        pytest.param({"term_min": 2.5}, "term_min", "fractional part", id="fractional-term"),
        pytest.param({"rate_max": float("nan")}, "rate_max", "finite number", id="nan-rate"),
        pytest.param({"rate_max": 1.5}, "rate_max", "less than or equal to 1", id="rate-above-1"),
        pytest.param({"currency": "rmb"}, "currency", "should match pattern", id="currency"),
        pytest.param(
            {"overdue_grace_days": 31}, "overdue_grace_days", "less than or equal to 30", id="odg"
        ),
    ],
)
def test_an_invalid_product_names_the_file_and_the_field(
    tmp_path: Path, sme: LoanProduct, changes: dict[str, Any], field: str, reason: str
) -> None:
    path = write_product(tmp_path, product_to_mapping(sme) | changes, "bad-product.yaml")

    with pytest.raises(
        InvalidInput, match=rf"bad-product\.yaml .*: {re.escape(field)}: .*{reason}"
    ):
        load_product_file(path)


def test_a_missing_field_is_named(tmp_path: Path, sme: LoanProduct) -> None:
    mapping = product_to_mapping(sme)
    del mapping["name_zh"]

    with pytest.raises(InvalidInput, match=r"missing\.yaml SME-OP: name_zh: Field required") as e:
        load_product_file(write_product(tmp_path, mapping, "missing.yaml"))

    assert e.value.field.endswith("SME-OP: name_zh")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param(
            "code: SME-OP\nmethods: [equal-installment\n",
            r"malformed YAML at line \d+, column \d+",
            id="unclosed-flow-sequence",
        ),
        pytest.param(
            "code: SME-OP\nname_zh: a: b\n",
            r"malformed YAML at line 2, column 11: mapping values are not allowed here",
            id="colon-in-value",
        ),
        pytest.param("code: SME-OP\n\tname_zh: x\n", "malformed YAML", id="tab-indent"),
        pytest.param("- SME-OP\n- MED-AES\n", "mapping of fields, not a list", id="list"),
        pytest.param("just a sentence\n", "mapping of fields, not a str", id="scalar"),
        pytest.param("", "is empty", id="empty-file"),
        pytest.param("# only a comment\n", "is empty", id="only-comments"),
        pytest.param("code: X\n1: one\n", "X: 1: field names are text", id="integer-key"),
    ],
)
def test_a_file_that_is_not_a_product_mapping_is_named(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = write_yaml(tmp_path, "broken.yaml", text)

    with pytest.raises(InvalidInput, match=rf"^{re.escape(str(path))}.*{reason}"):
        load_product_file(path)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes("name_zh: 小微企业经营贷\n".encode("gbk"))

    with pytest.raises(InvalidInput, match=r"gbk\.yaml: is not UTF-8 text"):
        load_product_file(path)


def test_product_from_mapping_names_the_source_and_code(sme: LoanProduct) -> None:
    with pytest.raises(InvalidInput, match=r"^api SME-OP: term_max: ") as caught:
        product_from_mapping(product_to_mapping(sme) | {"term_max": 1}, source="api")

    assert caught.value.field == "api SME-OP: term_max"


# --- product_to_mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["SME-OP", "MED-AES", "STUDENT"])
def test_product_to_mapping_round_trips_exactly(
    catalogue: dict[str, LoanProduct], code: str, tmp_path: Path
) -> None:
    product = catalogue[code]
    mapping = product_to_mapping(product)

    assert json.loads(json.dumps(mapping, ensure_ascii=False)) == mapping
    again = product_from_mapping(mapping)
    assert again == product
    assert product_to_mapping(again) == mapping
    assert load_product_file(write_product(tmp_path, mapping)) == product


def test_product_to_mapping_writes_decimals_as_their_exact_text(sme: LoanProduct) -> None:
    mapping = product_to_mapping(sme)

    assert mapping["rate_min"] == "0.0435"
    assert mapping["prepayment"]["fee_rate"] == "0.01"
    assert mapping["methods"][0] == "equal-installment"
    assert mapping["frequencies"] == ["monthly", "quarterly"]
    assert mapping["installment_multiple"] is None


def test_product_to_mapping_keeps_trailing_zeros(sme: LoanProduct) -> None:
    product = product_from_mapping(product_to_mapping(sme) | {"rate_max": "0.1800"})

    assert product_to_mapping(product)["rate_max"] == "0.1800"


# --- check_loan -------------------------------------------------------------------------------


GOOD_SME_LOAN: dict[str, Any] = {
    "amount": Decimal("500000.00"),
    "term_months": 12,
    "annual_rate": Decimal("0.0435"),
    "method": RepaymentMethod.EQUAL_INSTALLMENT,
    "frequency": Frequency.MONTHLY,
    "grace_periods": 0,
}


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="typical"),
        pytest.param({"amount": Decimal("30000.00")}, id="smallest-amount"),
        pytest.param({"amount": Decimal("3000000.00")}, id="largest-amount"),
        pytest.param({"term_months": 3}, id="shortest-term"),
        pytest.param({"term_months": 36}, id="longest-term"),
        pytest.param({"annual_rate": Decimal("0.18")}, id="highest-rate"),
        pytest.param({"annual_rate": Decimal("0.123456")}, id="rate-to-six-places"),
        pytest.param({"grace_periods": 6}, id="six-grace-months"),
        pytest.param(
            {"frequency": Frequency.QUARTERLY, "grace_periods": 2}, id="two-grace-quarters"
        ),
        pytest.param({"method": RepaymentMethod.SEASONAL}, id="seasonal"),
    ],
)
def test_check_loan_accepts_a_loan_inside_the_product(
    sme: LoanProduct, changes: dict[str, Any]
) -> None:
    sme.check_loan(**(GOOD_SME_LOAN | changes))


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        pytest.param({"amount": Decimal("29999.99")}, "amount", "outside SME-OP's range", id="low"),
        pytest.param(
            {"amount": Decimal("3000000.01")}, "amount", "outside SME-OP's range", id="high"
        ),
        pytest.param({"term_months": 2}, "term", "2 months is outside", id="term-short"),
        pytest.param({"term_months": 37}, "term", "37 months is outside", id="term-long"),
        pytest.param({"annual_rate": Decimal("0.0434")}, "annual_rate", "outside", id="rate-low"),
        pytest.param({"annual_rate": Decimal("0.1801")}, "annual_rate", "outside", id="rate-high"),
        pytest.param(
            {"annual_rate": Decimal("0.0435001")},
            "annual_rate",
            "more than six decimal places",
            id="rate-seven-places",
        ),
        pytest.param(
            {"method": RepaymentMethod.BULLET}, "method", "bullet is not offered", id="method"
        ),
        pytest.param({"grace_periods": 7}, "grace", "7 periods exceed", id="grace-months"),
        pytest.param(
            {"frequency": Frequency.QUARTERLY, "grace_periods": 3},
            "grace",
            "3 periods exceed SME-OP's 6 grace months",
            id="grace-quarters",
        ),
    ],
)
def test_check_loan_refuses_a_loan_outside_the_product_naming_the_field(
    sme: LoanProduct, changes: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(InvalidInput, match=rf"^{field}: .*{reason}") as caught:
        sme.check_loan(**(GOOD_SME_LOAN | changes))

    assert caught.value.field == field


def test_check_loan_refuses_a_frequency_the_product_lacks(
    catalogue: dict[str, LoanProduct],
) -> None:
    loan = GOOD_SME_LOAN | {"amount": Decimal("20000.00"), "annual_rate": Decimal("0.12")}

    with pytest.raises(InvalidInput, match=r"^frequency: quarterly is not offered by MED-AES"):
        catalogue["MED-AES"].check_loan(**(loan | {"frequency": Frequency.QUARTERLY}))


# --- penalty rate and fees ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "annual_rate", "expected"),
    [
        # 罚息利率 = contract rate × (1 + 50 %): 4.35 % × 1.5 = 6.525 %.
        pytest.param("SME-OP", "0.0435", "0.06525", id="sme-benchmark"),
        pytest.param("SME-OP", "0.18", "0.27", id="sme-ceiling"),
        pytest.param("MED-AES", "0.24", "0.312", id="medical-30-percent"),
        pytest.param("STUDENT", "0.024", "0.0312", id="student-30-percent"),
    ],
)
def test_penalty_rate(
    catalogue: dict[str, LoanProduct], code: str, annual_rate: str, expected: str
) -> None:
    assert catalogue[code].penalty_rate(Decimal(annual_rate)) == Decimal(expected)


def test_penalty_rate_rounds_half_up_to_the_millionth(sme: LoanProduct) -> None:
    # 0.043503 × 1.5 = 0.0652545, a tie at 1e-6: half-up (as documented) gives 0.065255,
    # where the default decimal context (half-even) gave 0.065254.
    assert sme.penalty_rate(Decimal("0.043503")) == Decimal("0.065255")


@pytest.mark.parametrize(
    ("fees", "principal", "expected"),
    [
        pytest.param([], "100000", "0.00", id="no-fees"),
        pytest.param([{"kind": "upfront-percent", "value": "0.02"}], "10000", "200.00", id="pct"),
        pytest.param(
            [{"kind": "upfront-percent", "value": "0.02"}], "3333.33", "66.67", id="pct-rounded"
        ),
        # 3,000.25 × 2 % = 60.005: a tie, rounded half-up.
        pytest.param(
            [{"kind": "upfront-percent", "value": "0.02"}], "3000.25", "60.01", id="pct-tie"
        ),
        pytest.param([{"kind": "upfront-fixed", "value": "199.995"}], "1", "200.00", id="fixed"),
        pytest.param(
            [
                {"kind": "upfront-fixed", "value": "50", "name": "评估费 appraisal fee"},
                {"kind": "upfront-percent", "value": "0.01"},
            ],
            "10000",
            "150.00",
            id="fixed-and-percent",
        ),
    ],
)
def test_upfront_fee(
    sme: LoanProduct, fees: list[dict[str, str]], principal: str, expected: str
) -> None:
    product = product_from_mapping(product_to_mapping(sme) | {"fees": fees})

    assert str(product.upfront_fee(Decimal(principal))) == expected


def test_medical_aesthetics_upfront_fee(catalogue: dict[str, LoanProduct]) -> None:
    assert catalogue["MED-AES"].upfront_fee(Decimal("20000")) == Decimal("400.00")
