"""Product use cases: import from YAML (versioned), list, show."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from xiaowei.core.errors import InvalidInput
from xiaowei.lending.catalogue import load_catalogue, load_product_file, product_to_mapping
from xiaowei.lending.product import LoanProduct
from xiaowei.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    code: str
    version: int
    action: str  # "added" | "unchanged"


def import_products(engine: Engine, paths: list[Path] | None = None) -> list[ImportOutcome]:
    """Import product files (or the packaged catalogue). All or nothing.

    A product version is immutable: importing a code and version that exist with a different
    definition is refused (bump ``version``); an identical one is left unchanged.
    """
    products: list[LoanProduct] = []
    if not paths:
        products = load_catalogue()
    for path in paths or []:
        products.extend(load_catalogue(path) if path.is_dir() else [load_product_file(path)])
    outcomes: list[ImportOutcome] = []
    with UnitOfWork(engine) as uow:
        for product in products:
            latest = uow.products.latest_version(product.code)
            if latest is not None and latest >= product.version:
                stored = uow.products.get(product.code, product.version)
                if product_to_mapping(stored) != product_to_mapping(product):
                    raise InvalidInput(
                        f"product {product.code}: version",
                        f"v{product.version} already exists with a different definition; "
                        f"give the change version {latest + 1}",
                    )
                outcomes.append(ImportOutcome(product.code, product.version, "unchanged"))
                continue
            uow.products.add(product)
            outcomes.append(ImportOutcome(product.code, product.version, "added"))
        uow.commit()
    return outcomes


def list_products(engine: Engine) -> list[LoanProduct]:
    with UnitOfWork(engine) as uow:
        return uow.products.list()


def get_product(engine: Engine, code: str, version: int | None = None) -> LoanProduct:
    with UnitOfWork(engine) as uow:
        return uow.products.get(code, version)
