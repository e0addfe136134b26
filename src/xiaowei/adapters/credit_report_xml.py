"""Credit reports (征信报告) in XML: the JSON layout of ``docs/credit-report-format.md``, element
for element.

The PBOC second-generation report (二代征信报告) reaches lenders as a JSON or XML message whose
elements are the segment codes (``PRH``, ``PD01`` …; research notes §3,
``shared/research/credit_analysis_methods.md``). This adapter reads and writes this project's
layout in XML; the section "XML layout" of ``docs/credit-report-format.md`` states the rules:

* the root is ``<PersonalReport>`` or ``<EnterpriseReport>`` with the ``layout`` attribute; every
  other key of the JSON document is a child element of the same name, in the models' order;
* an object is an element whose children are its keys; a list is an element whose children are
  its items, each named after the item's model (``<PD01><account>…</account></PD01>``;
  :data:`ITEM_TAGS`), a list of strings uses ``<value>``;
* ``null`` is an empty element with ``nil="true"`` (an absent element is a *missing* key, an
  error, as in JSON);
* scalars are the element's text, converted by the Pydantic field's type, never guessed from
  the text: ``int`` fields (counts, ``*_yuan`` amounts, years) must be decimal integers, every
  other field (codes, names, dates) stays a string for the strict models to check.

:func:`parse_report_xml` turns the XML back into the JSON-shaped dict and validates it with
``parse_personal`` / ``parse_enterprise``, so an XML report and its JSON twin give equal
models. Safety in the manner of defusedxml: a document with a DTD (``<!DOCTYPE``) or an entity
declaration (``<!ENTITY``) is refused before parsing (no entity expansion, no external
resources); bytes must be UTF-8. Errors: malformed XML → :class:`InvalidInput` with line and
column; a wrong or missing field → :class:`CreditReportError` naming segment, field and path
(``PD01[3].E.status``), as for JSON.
"""

from __future__ import annotations

import re
import types
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from xiaowei.analysis.credit_report_schema import (
    ENTERPRISE_LAYOUT,
    PERSONAL_LAYOUT,
    Account,
    CategorySummary,
    CreditReportError,
    Enforcement,
    EnterpriseAccount,
    EnterpriseReport,
    Judgment,
    Liability,
    Occupation,
    OverdueMonth,
    OverdueSummary,
    Penalty,
    PersonalReport,
    PublicSummary,
    Query,
    SpecialTransaction,
    TaxArrears,
    parse_enterprise,
    parse_personal,
)
from xiaowei.core.errors import InvalidInput

ROOTS: dict[str, tuple[str, type[BaseModel]]] = {
    "PersonalReport": (PERSONAL_LAYOUT, PersonalReport),
    "EnterpriseReport": (ENTERPRISE_LAYOUT, EnterpriseReport),
}
"""Root element → (layout identifier, model)."""

ITEM_TAGS: dict[type[BaseModel], str] = {
    Occupation: "occupation",
    CategorySummary: "category",
    OverdueSummary: "entry",
    PublicSummary: "summary",
    Account: "account",
    OverdueMonth: "entry",
    SpecialTransaction: "transaction",
    Liability: "liability",
    TaxArrears: "record",
    Judgment: "record",
    Enforcement: "record",
    Penalty: "record",
    Query: "query",
    EnterpriseAccount: "account",
}
"""Element name of a list item, by the item's model (账户 ``account``, 查询 ``query`` …)."""
VALUE_TAG = "value"  # items of a list of strings (EB01.partners)
NIL_ATTR = "nil"
LAYOUT_ATTR = "layout"

_INT_RE = re.compile(r"-?[0-9]{1,30}")  # longer is no amount (and slow to convert)
# characters XML 1.0 cannot carry (and CR, which parsers turn into LF)
_ILLEGAL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")
_DECLARATION_RE = re.compile(r"<\?xml[^>]*?encoding\s*=\s*['\"]([A-Za-z0-9._-]+)['\"]")
_FORBIDDEN_RE = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


# --- the field types, from the models --------------------------------------------------------


class _Kind:
    """What a field holds: ``scalar`` (``int`` or ``str``), ``model`` or ``list``."""

    __slots__ = ("item", "model", "nullable", "scalar", "shape")

    def __init__(
        self,
        shape: Literal["scalar", "model", "list"],
        *,
        nullable: bool = False,
        scalar: type[int] | type[str] = str,
        model: type[BaseModel] | None = None,
        item: _Kind | None = None,
    ) -> None:
        self.shape = shape
        self.nullable = nullable
        self.scalar = scalar
        self.model = model
        self.item = item


def _kind(tp: Any) -> _Kind:
    origin = get_origin(tp)
    if origin is Annotated:
        return _kind(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) != 1:  # pragma: no cover - the schema has no such union
            raise TypeError(f"unsupported union {tp!r}")
        inner = _kind(args[0])
        inner.nullable = True
        return inner
    if origin is list:
        return _Kind("list", item=_kind(get_args(tp)[0]))
    if origin is Literal:
        values = get_args(tp)
        return _Kind("scalar", scalar=int if all(type(v) is int for v in values) else str)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _Kind("model", model=tp)
    if tp is bool:  # pragma: no cover - the schema has none
        raise TypeError("boolean fields are not supported")
    if tp is int:
        return _Kind("scalar", scalar=int)
    if tp in (str, date, datetime):
        return _Kind("scalar", scalar=str)
    raise TypeError(f"unsupported field type {tp!r}")  # pragma: no cover


_FIELDS: dict[type[BaseModel], dict[str, _Kind]] = {}


def _fields(model: type[BaseModel]) -> dict[str, _Kind]:
    """The model's fields in declaration order, with their kinds (cached)."""
    found = _FIELDS.get(model)
    if found is None:
        found = {name: _kind(info.annotation) for name, info in model.model_fields.items()}
        _FIELDS[model] = found
    return found


def _item_tag(kind: _Kind) -> str:
    if kind.shape == "model":
        assert kind.model is not None
        return ITEM_TAGS[kind.model]
    return VALUE_TAG


# --- errors ----------------------------------------------------------------------------------

Loc = tuple[str | int, ...]


def _error(loc: Loc, message: str) -> CreditReportError:
    """A :class:`CreditReportError` with the path written as the schema writes it."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    names = [p for p in loc if isinstance(p, str)]
    segment = names[0] if names else "document"
    field = names[-1] if names else "document"
    return CreditReportError(segment, field, path or "document", message)


# --- writing ---------------------------------------------------------------------------------


def to_xml(doc: Mapping[str, Any]) -> bytes:
    """The XML form (UTF-8, indented) of a JSON-shaped report document.

    The document is validated first (``parse_personal`` / ``parse_enterprise`` by its
    ``layout``), so the XML written is always a valid report; raises
    :class:`CreditReportError` otherwise, or :class:`InvalidInput` for a string XML cannot carry
    (control characters, carriage return).
    """
    layout = doc.get("layout")
    for tag, (known, model) in ROOTS.items():
        if layout == known:
            (parse_personal if model is PersonalReport else parse_enterprise)(doc)
            root = ET.Element(tag, {LAYOUT_ATTR: known})
            _write_model(root, model, doc, ())
            ET.indent(root)
            out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
            return out
    raise CreditReportError("document", "layout", "layout", f"unknown layout {layout!r}")


def _write_model(
    parent: ET.Element, model: type[BaseModel], obj: Mapping[str, Any], loc: Loc
) -> None:
    for name, kind in _fields(model).items():
        if name == LAYOUT_ATTR and not loc:
            continue  # the root's attribute
        _write_value(ET.SubElement(parent, name), kind, obj[name], (*loc, name))


def _write_value(el: ET.Element, kind: _Kind, value: Any, loc: Loc) -> None:
    if value is None:
        el.set(NIL_ATTR, "true")
    elif kind.shape == "model":
        assert kind.model is not None
        _write_model(el, kind.model, value, loc)
    elif kind.shape == "list":
        assert kind.item is not None
        tag = _item_tag(kind.item)
        for i, item in enumerate(value):
            _write_value(ET.SubElement(el, tag), kind.item, item, (*loc, i))
    else:
        text = str(value)
        bad = _ILLEGAL_CHARS.search(text) or ("\r" in text)
        if bad:
            raise InvalidInput(_error(loc, "").path, "a character XML cannot carry")
        el.text = text


# --- reading ---------------------------------------------------------------------------------


def parse_report_xml(data: bytes | str | Path) -> PersonalReport | EnterpriseReport:
    """Parse an XML credit report: ``bytes`` (UTF-8), ``str`` (the XML text) or a file ``Path``.

    Returns the same model as parsing the JSON document. Raises :class:`InvalidInput` for
    unreadable or malformed XML (with line and column) or a DTD/entity declaration, and
    :class:`CreditReportError` (an ``InvalidInput``) naming segment, field and path for a
    wrong, missing, repeated or unknown element.
    """
    text = _text(data)
    if _FORBIDDEN_RE.search(text):
        raise InvalidInput("document", "DTD and entity declarations are refused")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line, column = exc.position
        raise InvalidInput(
            "document", f"malformed XML at line {line}, column {column + 1}: {exc}"
        ) from exc
    if root.tag not in ROOTS:
        raise _error((), f"root element must be one of {sorted(ROOTS)}, got {root.tag!r}")
    _, model = ROOTS[root.tag]
    doc = _read_model(root, model, (), root_attrs=True)
    if model is PersonalReport:
        return parse_personal(doc)
    return parse_enterprise(doc)


def _text(data: bytes | str | Path) -> str:
    if isinstance(data, Path):
        try:
            raw = data.read_bytes()
        except OSError as exc:
            raise InvalidInput("document", f"cannot read {data}: {exc.strerror}") from exc
        data = raw
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                "document", f"not UTF-8 at byte {exc.start}: the XML layout is UTF-8"
            ) from exc
        declared = _DECLARATION_RE.match(text)
        if declared and declared.group(1).lower().replace("_", "-") not in ("utf-8", "utf8"):
            raise InvalidInput(
                "document", f"encoding {declared.group(1)!r} declared: the XML layout is UTF-8"
            )
        return text
    return data


def _check_attrs(el: ET.Element, allowed: Sequence[str], loc: Loc) -> None:
    for attr in el.attrib:
        if attr not in allowed:
            raise _error(loc, f"unknown attribute {attr!r} on <{el.tag}>")


def _is_nil(el: ET.Element, loc: Loc) -> bool:
    nil = el.get(NIL_ATTR)
    if nil is None:
        return False
    if nil != "true":
        raise _error(loc, f'{NIL_ATTR}="{nil}": only {NIL_ATTR}="true" is allowed')
    if len(el) or (el.text or "").strip():
        raise _error(loc, f'an element with {NIL_ATTR}="true" must be empty')
    return True


def _no_text(el: ET.Element, loc: Loc) -> None:
    if (el.text or "").strip() or any((child.tail or "").strip() for child in el):
        raise _error(loc, f"<{el.tag}> holds elements, not text")


def _read_model(
    el: ET.Element, model: type[BaseModel], loc: Loc, *, root_attrs: bool = False
) -> dict[str, Any]:
    fields = _fields(model)
    out: dict[str, Any] = {}
    if root_attrs:
        _check_attrs(el, (LAYOUT_ATTR,), loc)
        if LAYOUT_ATTR not in el.attrib:
            raise _error((LAYOUT_ATTR,), f"the root needs the {LAYOUT_ATTR!r} attribute")
        out[LAYOUT_ATTR] = el.attrib[LAYOUT_ATTR]
    _no_text(el, loc)
    for child in el:
        name = child.tag
        here = (*loc, name)
        if not isinstance(name, str):  # pragma: no cover - comments are dropped by the parser
            continue
        if name in out:
            raise _error(here, f"<{name}> is given twice")
        kind = fields.get(name)
        if kind is None:
            # unknown: keep it as text so the strict model names it ("extra inputs")
            _check_attrs(child, (), here)
            out[name] = child.text or ""
            continue
        out[name] = _read_value(child, kind, here)
    return out


def _read_value(el: ET.Element, kind: _Kind, loc: Loc) -> Any:
    _check_attrs(el, (NIL_ATTR,), loc)
    if _is_nil(el, loc):
        return None  # the model says whether null is allowed
    if kind.shape == "model":
        assert kind.model is not None
        return _read_model(el, kind.model, loc)
    if kind.shape == "list":
        assert kind.item is not None
        _no_text(el, loc)
        tag = _item_tag(kind.item)
        items = []
        for i, child in enumerate(el):
            if child.tag != tag:
                raise _error((*loc, i), f"<{el.tag}> holds <{tag}> items, got <{child.tag}>")
            items.append(_read_value(child, kind.item, (*loc, i)))
        return items
    if len(el):
        raise _error(loc, f"<{el.tag}> holds a value, not elements")
    text = el.text or ""
    if kind.scalar is int:
        if not _INT_RE.fullmatch(text):
            raise _error(loc, f"expected an integer, got {text!r}")
        return int(text)
    return text
