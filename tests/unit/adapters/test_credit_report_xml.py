"""Credit reports in XML: every simulated report round-trips JSON → XML → model, errors name the
segment and field, DTDs are refused, and Hypothesis fuzzing of the JSON and XML paths never
raises anything but ``InvalidInput``."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xiaowei.adapters.credit_report_xml import parse_report_xml, to_xml
from xiaowei.analysis.credit_report_schema import (
    CreditReportError,
    EnterpriseReport,
    PersonalReport,
    parse_report,
)
from xiaowei.core.errors import InvalidInput
from xiaowei.simulate import credit_report
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.world import build_world, chunk

Doc = dict[str, Any]


def _simulate() -> dict[str, list[Doc]]:
    world = build_world(SimulationConfig(businesses=100, seed=7))
    ids = world.population.businesses["business_id"].to_numpy()
    return credit_report.render(chunk(world, 0, ids)).documents


DOCS = _simulate()  # module level: Hypothesis tests may not use function-scoped fixtures
ALL = [d for docs in DOCS.values() for d in docs]


def _rich(name: str) -> Doc:
    """The report of ``name`` with the most content (accounts with history, liabilities …)."""
    return max(DOCS[name], key=lambda d: len(str(d)))


PERSONAL = _rich("credit_reports/personal_refresh")
ENTERPRISE = _rich("credit_reports/enterprise")
PERSONAL_XML = to_xml(PERSONAL)
ENTERPRISE_XML = to_xml(ENTERPRISE)


def _tree(doc: Doc) -> ET.Element:
    return ET.fromstring(to_xml(doc))


def _xml(root: ET.Element) -> bytes:
    out: bytes = ET.tostring(root, encoding="utf-8")
    return out


def _error(data: bytes | str) -> CreditReportError:
    with pytest.raises(CreditReportError) as info:
        parse_report_xml(data)
    return info.value


# --- round trip --------------------------------------------------------------------------------


def test_the_simulation_has_every_kind_of_report() -> None:
    assert {name: len(docs) for name, docs in DOCS.items()} == {
        "credit_reports/personal": 100,
        "credit_reports/personal_refresh": 100,
        "credit_reports/enterprise": len(DOCS["credit_reports/enterprise"]),
        "credit_reports/enterprise_refresh": len(DOCS["credit_reports/enterprise"]),
    }
    assert len(DOCS["credit_reports/enterprise"]) > 10
    # the rich reports exercise nulls, nested lists and history
    assert any(a["C"] is None for a in PERSONAL["PD01"])
    assert any(a["E"]["overdue"] for a in PERSONAL["PD01"] if a["E"] is not None)


def test_every_simulated_report_round_trips() -> None:
    for doc in ALL:
        model = parse_report_xml(to_xml(doc))
        assert model == parse_report(doc), doc["report_id"]
        assert model.model_dump() == parse_report(doc).model_dump()


def test_types_come_from_the_models() -> None:
    root = _tree(PERSONAL)
    # codes that look like numbers stay strings, counts and amounts become ints
    assert root.findtext("PRH/query_reason") in ("01", "02")
    model = parse_report_xml(_xml(root))
    assert isinstance(model, PersonalReport)
    assert model.PRH.query_reason == PERSONAL["PRH"]["query_reason"]
    assert isinstance(model.PC02.accounts_total, int)
    ent = parse_report_xml(ENTERPRISE_XML)
    assert isinstance(ent, EnterpriseReport)
    assert ent.EC01.balance_yuan == ENTERPRISE["EC01"]["balance_yuan"]


def test_layout_of_the_xml() -> None:
    root = _tree(PERSONAL)
    assert root.tag == "PersonalReport"
    assert root.attrib == {"layout": "xiaowei.pboc.personal/1.0"}
    assert [c.tag for c in root] == [
        "report_id",
        "business_id",
        "kind",
        "PRH",
        "PB01",
        "PB02",
        "PB04",
        "PC02",
        "PC04",
        "PC05",
        "PD01",
        "PD03",
        "PF",
        "PH01",
    ]
    accounts = root.findall("PD01/account")
    assert len(accounts) == len(PERSONAL["PD01"])
    months = [a.find("C") for a in accounts]
    nil = [c for c in months if c is not None and c.get("nil") == "true"]
    assert len(nil) == sum(a["C"] is None for a in PERSONAL["PD01"])
    assert all(len(c) == 0 and not c.text for c in nil)
    assert len(root.findall("PH01/query")) == len(PERSONAL["PH01"])
    ent = _tree(ENTERPRISE)
    assert ent.tag == "EnterpriseReport"
    assert len(ent.findall("ED01/account")) == len(ENTERPRISE["ED01"])


def test_str_and_path_inputs(tmp_path: Path) -> None:
    path = tmp_path / "report.xml"
    path.write_bytes(PERSONAL_XML)
    expected = parse_report(PERSONAL)
    assert parse_report_xml(path) == expected
    assert parse_report_xml(PERSONAL_XML.decode("utf-8")) == expected
    assert parse_report_xml(b"\xef\xbb\xbf" + PERSONAL_XML) == expected  # BOM
    with pytest.raises(InvalidInput, match="cannot read"):
        parse_report_xml(tmp_path / "missing.xml")


def test_to_xml_refuses_invalid_documents() -> None:
    bad = copy.deepcopy(PERSONAL)
    bad["PD01"][0]["A"]["account_type"] = "ZZ"
    with pytest.raises(CreditReportError) as info:
        to_xml(bad)
    assert info.value.path == "PD01[0].A.account_type"
    with pytest.raises(CreditReportError, match="unknown layout"):
        to_xml({"layout": "nope"})


# --- errors that name the segment and the field -----------------------------------------------


def test_missing_element_names_the_field() -> None:
    root = _tree(PERSONAL)
    account = root.findall("PD01/account")[1]
    basics = account.find("A")
    assert basics is not None
    basics.remove(basics.find("open_date"))  # type: ignore[arg-type]
    err = _error(_xml(root))
    assert (err.segment, err.field_name, err.path) == ("PD01", "open_date", "PD01[1].A.open_date")


def test_wrong_integer_names_the_field() -> None:
    root = _tree(PERSONAL)
    el = root.find("PC02/accounts_total")
    assert el is not None
    el.text = "12a"
    err = _error(_xml(root))
    assert (err.segment, err.field_name, err.path) == ("PC02", "accounts_total", err.path)
    assert err.path == "PC02.accounts_total"
    assert "integer" in str(err)


def test_wrong_code_names_the_field_via_the_schema() -> None:
    root = _tree(PERSONAL)
    el = root.find("PH01/query/reason")
    assert el is not None
    el.text = "77"
    err = _error(_xml(root))
    assert err.path == "PH01[0].reason"
    assert "unknown query reason" in str(err)


def test_null_where_not_allowed_and_nil_rules() -> None:
    root = _tree(PERSONAL)
    el = root.find("PRH/name")
    assert el is not None
    el.text = None
    el.set("nil", "true")
    assert _error(_xml(root)).path == "PRH.name"
    el.set("nil", "false")
    assert "only" in str(_error(_xml(root)))
    el.set("nil", "true")
    el.text = "x"
    assert "must be empty" in str(_error(_xml(root)))


def test_unknown_repeated_and_misplaced_elements() -> None:
    root = _tree(PERSONAL)
    ET.SubElement(root.find("PB01"), "shoe_size").text = "42"  # type: ignore[arg-type]
    err = _error(_xml(root))
    assert err.path == "PB01.shoe_size"

    root = _tree(PERSONAL)
    ET.SubElement(root.find("PB01"), "gender").text = "1"  # type: ignore[arg-type]
    assert "twice" in str(_error(_xml(root)))

    root = _tree(PERSONAL)
    ET.SubElement(root.find("PD01"), "query")  # type: ignore[arg-type]
    err = _error(_xml(root))
    assert err.segment == "PD01"
    assert "<account>" in str(err)

    root = _tree(PERSONAL)
    pb01 = root.find("PB01")
    assert pb01 is not None
    pb01.text = "stray"
    assert "not text" in str(_error(_xml(root)))

    root = _tree(PERSONAL)
    ET.SubElement(root.find("PRH/name"), "b")  # type: ignore[arg-type]
    assert _error(_xml(root)).path == "PRH.name"

    root = _tree(PERSONAL)
    root.find("PB01").set("colour", "red")  # type: ignore[union-attr]
    assert "unknown attribute" in str(_error(_xml(root)))


def test_root_and_layout_errors() -> None:
    assert "root element" in str(_error(b"<Report/>"))
    root = _tree(PERSONAL)
    del root.attrib["layout"]
    assert _error(_xml(root)).field_name == "layout"
    root = _tree(PERSONAL)
    root.set("layout", "xiaowei.pboc.enterprise/1.0")
    assert _error(_xml(root)).path == "layout"


def test_malformed_xml_gives_line_and_column() -> None:
    text = PERSONAL_XML.decode("utf-8").replace("</PB01>", "</PB0x>", 1)
    with pytest.raises(InvalidInput) as info:
        parse_report_xml(text)
    assert not isinstance(info.value, CreditReportError)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "</PB0x>" in s)
    assert f"line {line}, column" in str(info.value)
    with pytest.raises(InvalidInput, match="not UTF-8 at byte 1"):
        parse_report_xml(b"<\xff/>")
    with pytest.raises(InvalidInput, match="UTF-8"):
        parse_report_xml(b"<?xml version='1.0' encoding='latin-1'?><PersonalReport/>")


@pytest.mark.parametrize(
    "text",
    [
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        "<PersonalReport>&b;</PersonalReport>",
        '<!DOCTYPE PersonalReport SYSTEM "file:///etc/passwd"><PersonalReport/>',
        '<!doctype r [<!ENTITY x SYSTEM "http://example.invalid/">]><r>&x;</r>',
    ],
)
def test_dtd_and_entities_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="DTD and entity"):
        parse_report_xml(text)
    with pytest.raises(InvalidInput, match="DTD and entity"):
        parse_report_xml(text.encode("utf-8"))


# --- fuzzing -------------------------------------------------------------------------------------

_JSON_DOCS = [PERSONAL, ENTERPRISE, DOCS["credit_reports/personal"][0]]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


_PATHS = [_paths(d) for d in _JSON_DOCS]
_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.sampled_from(["1", "02", "D1", "N", "", "2025-13-01", "/" * 60, "N" * 60]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def _mutated(draw: st.DrawFn) -> Doc:
    which = draw(st.integers(0, len(_JSON_DOCS) - 1))
    doc = copy.deepcopy(_JSON_DOCS[which])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_PATHS[which]))
        parent: Any = doc
        try:
            for part in path[:-1]:
                parent = parent[part]
            key = path[-1]
            parent[key]  # the path may be gone after an earlier mutation
        except (KeyError, IndexError, TypeError):
            continue
        action = draw(st.sampled_from(["delete", "replace", "truncate", "code"]))
        if action == "delete":
            del parent[key]
        elif action == "truncate" and isinstance(parent[key], list | str):
            parent[key] = parent[key][: draw(st.integers(0, max(len(parent[key]) - 1, 0)))]
        elif action == "code":
            parent[key] = draw(st.text(alphabet="0123456789ABCDNZ*/#-", max_size=4))
        else:
            parent[key] = draw(_JUNK)
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_fuzz_json_path(doc: Doc) -> None:
    try:
        model = parse_report(doc)
    except InvalidInput:
        return
    assert isinstance(model, PersonalReport | EnterpriseReport)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([PERSONAL_XML, ENTERPRISE_XML]),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.binary(max_size=3)), max_size=4),
    st.one_of(st.none(), st.floats(0, 1)),
)
def test_fuzz_xml_path(xml: bytes, edits: list[tuple[float, bytes]], cut: float | None) -> None:
    data = bytearray(xml)
    for where, junk in edits:
        i = int(where * len(data))
        data[i : i + len(junk)] = junk
    if cut is not None:
        data = data[: int(cut * len(data))]
    try:
        model = parse_report_xml(bytes(data))
    except InvalidInput:
        return
    assert isinstance(model, PersonalReport | EnterpriseReport)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_xml_elements(data: st.DataObject) -> None:
    """Structural corruption: drop, duplicate or retext elements of a well-formed report."""
    root = ET.fromstring(data.draw(st.sampled_from([PERSONAL_XML, ENTERPRISE_XML])))
    elements = [(parent, child) for parent in root.iter() for child in parent]
    for _ in range(data.draw(st.integers(1, 3))):
        parent, child = data.draw(st.sampled_from(elements))
        action = data.draw(st.sampled_from(["drop", "copy", "text", "nil"]))
        if action == "drop" and child in list(parent):
            parent.remove(child)
        elif action == "copy":
            parent.append(copy.deepcopy(child))
        elif action == "text":
            child.text = data.draw(st.text(max_size=6))
        else:
            child.set("nil", "true")
    try:
        model = parse_report_xml(_xml(root))
    except InvalidInput:
        return
    assert isinstance(model, PersonalReport | EnterpriseReport)
