"""Products in the database: versioned, immutable per version, kept by the loans booked."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine

from xiaowei.core.errors import InvalidInput
from xiaowei.lending.catalogue import load_catalogue, product_to_mapping
from xiaowei.lending.schedule import ScheduleTerms
from xiaowei.services import loans as svc
from xiaowei.services.products import get_product, import_products, list_products


def _write(tmp_path: Path, name: str, data: dict[str, object]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_catalogue_imports_once(db: Engine) -> None:
    first = import_products(db)
    again = import_products(db)
    assert {o.action for o in first} == {"added"}
    assert {o.action for o in again} == {"unchanged"}
    assert [p.code for p in list_products(db)] == ["MED-AES", "SME-OP", "STUDENT"]


def test_a_changed_product_needs_a_new_version(db: Engine, tmp_path: Path) -> None:
    import_products(db)
    sme = next(p for p in load_catalogue() if p.code == "SME-OP")
    changed = product_to_mapping(sme) | {"rate_max": "0.2"}
    with pytest.raises(InvalidInput, match=r"SME-OP: version: v1 already exists .* version 2"):
        import_products(db, [_write(tmp_path, "sme.yaml", changed)])
    assert get_product(db, "SME-OP").rate_max == sme.rate_max  # nothing written


def test_a_booked_loan_keeps_its_product_version(db: Engine, tmp_path: Path) -> None:
    import_products(db)
    terms = ScheduleTerms(
        principal=Decimal("100000"),
        annual_rate=Decimal("0.15"),
        term_months=12,
        start_date=date(2026, 1, 10),
    )
    loan_id = svc.book_loan(db, product_code="SME-OP", terms=terms)
    sme = product_to_mapping(get_product(db, "SME-OP"))
    v2 = sme | {"version": 2, "penalty_markup": "0.3", "rate_max": "0.12"}
    assert [o.action for o in import_products(db, [_write(tmp_path, "v2.yaml", v2)])] == ["added"]
    assert get_product(db, "SME-OP").version == 2
    loan = svc.get_loan(db, loan_id)
    assert loan.product.version == 1
    assert loan.product.penalty_markup == Decimal("0.5")
    # A new loan at 15 % no longer fits the new version's range.
    with pytest.raises(InvalidInput, match="annual_rate"):
        svc.book_loan(db, product_code="SME-OP", terms=terms)


def test_an_invalid_file_imports_nothing(db: Engine, tmp_path: Path) -> None:
    good = product_to_mapping(load_catalogue()[0])
    bad = dict(good) | {"code": "BAD", "amount_min": "500", "amount_max": "100"}
    paths = [_write(tmp_path, "a.yaml", good), _write(tmp_path, "b.yaml", bad)]
    with pytest.raises(InvalidInput, match="amount_max"):
        import_products(db, paths)
    assert list_products(db) == []
