"""The product catalogue (产品目录): loan products kept as YAML files, one product a file.

Pure functions: read a file, validate it as a :class:`LoanProduct`, and turn a product back into
a plain mapping.  Every failure is an :class:`InvalidInput` whose field names the file and,
where there is one, the product field (``.../sme-operating.yaml SME-OP: rate_max``).

Floats: PyYAML reads ``0.0435`` as the binary float 0.04349999999999999866…  Every float the
YAML holds is turned into a Decimal through ``str()`` before validation.  ``str()`` of a float is
the shortest text that reads back as the same float, and a double tells apart every decimal of
at most 15 significant digits, so that text has the value that was written (trailing zeros
aside: ``0.50`` comes back as ``0.5``): ``0.0435`` becomes ``Decimal("0.0435")`` exactly.
Product files may therefore write rates and amounts as plain numbers; quoting them
(``"0.0435"``) works too.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from xiaowei.core.errors import InvalidInput, NotFound
from xiaowei.lending.product import LoanProduct, product_from_mapping

# The packaged catalogue.  setuptools installs ``lending/catalogue/*.yaml`` as package data next
# to this module (pyproject ``package-data``); the package is never installed zipped, so a plain
# path is enough and keeps the loader free of ``importlib.resources`` Traversables.
CATALOGUE_DIR = Path(__file__).parent / "catalogue"

_PRODUCT_SUFFIXES = (".yaml", ".yml")


def _floats_to_decimals(value: Any) -> Any:
    """``value`` with every float (at any depth) replaced by ``Decimal(str(float))``."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _floats_to_decimals(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_floats_to_decimals(item) for item in value]
    return value


def _yaml_error_line(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        problem = exc.problem or exc.context or "syntax error"
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(exc)


def load_product_file(path: str | os.PathLike[str]) -> LoanProduct:
    """Read and validate the product in the YAML file at ``path``.

    Raises :class:`InvalidInput` naming the file (and the field) when the file is not UTF-8, is
    not well-formed YAML, does not hold a mapping, or does not describe a valid product.  A
    missing file raises ``FileNotFoundError`` as usual.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(str(source), f"is not UTF-8 text ({exc.reason})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(str(source), f"malformed YAML at {_yaml_error_line(exc)}") from None
    if data is None:
        raise InvalidInput(str(source), "is empty; a product file holds one mapping of fields")
    if not isinstance(data, dict):
        raise InvalidInput(
            str(source),
            f"must hold one product as a mapping of fields, not a {type(data).__name__}",
        )
    for key in data:
        if not isinstance(key, str):
            raise InvalidInput(f"{source} {data.get('code', '?')}: {key!r}", "field names are text")
    return product_from_mapping(_floats_to_decimals(data), source=str(source))


def load_catalogue(directory: str | os.PathLike[str] | None = None) -> list[LoanProduct]:
    """Every product in ``directory`` (default: the packaged catalogue), in file-name order.

    Two files defining the same code and version are refused: a booked loan names its product
    by code and version, which must therefore be unique.
    """
    folder = CATALOGUE_DIR if directory is None else Path(directory)
    if not folder.is_dir():
        raise NotFound(f"no product catalogue directory at {folder}")
    products: list[LoanProduct] = []
    seen: dict[tuple[str, int], Path] = {}
    for path in sorted(p for p in folder.iterdir() if p.suffix in _PRODUCT_SUFFIXES):
        product = load_product_file(path)
        key = (product.code, product.version)
        if key in seen:
            raise InvalidInput(
                f"{path} {product.code}: version",
                f"version {product.version} is already defined in {seen[key].name}",
            )
        seen[key] = path
        products.append(product)
    return products


def product_to_mapping(product: LoanProduct) -> dict[str, Any]:
    """``product`` as plain JSON/YAML-safe data: Decimals as strings, enums as their values.

    Decimals keep their exact text (``Decimal("0.0435")`` → ``"0.0435"``), so
    ``product_from_mapping(product_to_mapping(p)) == p`` and the mapping of the result is equal,
    string for string, to the mapping of ``p``.
    """
    return product.model_dump(mode="json")
