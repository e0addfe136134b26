"""IPC file (调查报表) adapter: strict reading, errors naming the field, frames for the analysis."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xiaowei.adapters.ipc_file import ipc_frames, parse_ipc, read_ipc_file, write_ipc_file
from xiaowei.analysis import financials as fin
from xiaowei.core.errors import InvalidInput

_ZERO_SHEET = dict.fromkeys((*fin.ASSET_COLUMNS, *fin.LIABILITY_COLUMNS), 0)


def _sheet(kind: str, as_of: str, cash: int, payables: int) -> dict[str, Any]:
    sheet: dict[str, Any] = {"kind": kind, "as_of": as_of, **_ZERO_SHEET}
    sheet["cash_fen"] = cash
    sheet["payables_fen"] = payables
    sheet["total_assets_fen"] = cash
    sheet["total_liabilities_fen"] = payables
    sheet["equity_fen"] = cash - payables
    return sheet


def _month(month: str) -> dict[str, Any]:
    return {
        "month": month,
        "sales_declared_fen": 100_000,
        "cost_of_goods_fen": 80_000,
        "gross_profit_fen": 20_000,
        "rent_fen": 5_000,
        "wages_fen": 0,
        "utilities_fen": 0,
        "taxes_fen": 0,
        "other_costs_fen": 0,
        "net_profit_fen": 15_000,
        "household_expenses_fen": 5_000,
        "disposable_income_fen": 10_000,
    }


def valid_doc() -> dict[str, Any]:
    # check point equity 1,000,000; profit 30,000 − withdrawals 10,000 → expected 1,020,000;
    # actual 1,019,000 → deviation 1,000 = 3.3 % of period profit: pass.
    return {
        "layout": "xiaowei.ipc/1.0",
        "business_id": 7,
        "industry": "trade",
        "employees": 2,
        "balance_sheets": [
            _sheet("check_point", "2024-12-31", 1_200_000, 200_000),
            _sheet("current", "2025-02-28", 1_219_000, 200_000),
        ],
        "income_monthly": [_month("2025-01-01"), _month("2025-02-01")],
        "products": [
            {"product": "A", "purchase_price_fen": 80, "sale_price_fen": 100, "sales_share": 0.5},
            {"product": "B", "purchase_price_fen": 60, "sale_price_fen": 100, "sales_share": 0.5},
        ],
        "equity_inputs": {
            "period_start": "2024-12-31",
            "period_end": "2025-02-28",
            "months": 2,
            "period_profit_fen": 30_000,
            "injections_fen": 0,
            "withdrawals_fen": 10_000,
            "appreciation_fen": 0,
            "depreciation_fen": 0,
        },
    }


def test_round_trip_and_frames_feed_the_analysis(tmp_path: Path) -> None:
    ipc = parse_ipc(valid_doc())
    path = tmp_path / "ipc.json"
    write_ipc_file(ipc, path)
    assert read_ipc_file(path) == ipc
    sheets, income, products, equity = ipc_frames(ipc)
    check = fin.EquityCheck.from_frame(fin.equity_cross_check(sheets, equity), 7)
    assert check.expected_equity_fen == 1_020_000
    assert check.actual_equity_fen == 1_019_000
    assert check.deviation_fen == 1_000
    assert check.deviation_rate == pytest.approx(1_000 / 30_000)
    assert check.verdict is fin.Verdict.PASS
    margins = fin.weighted_gross_margins(products).row(0, named=True)
    assert margins["weighted_gross_margin"] == pytest.approx(0.3)  # 0.2·½ + 0.4·½
    assert fin.income_summary(income)["gross_margin"][0] == pytest.approx(0.2)
    assert fin.financial_ratios(sheets, income).height == 1


def test_totals_are_optional() -> None:
    doc = valid_doc()
    for sheet in doc["balance_sheets"]:
        del sheet["total_assets_fen"], sheet["equity_fen"]
    sheets, _, _, equity = ipc_frames(parse_ipc(doc))
    assert "equity_fen" not in sheets.columns
    assert fin.equity_cross_check(sheets, equity)["deviation_fen"][0] == 1_000


def _mutate(path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(valid_doc())
    *parents, last = path.split(".")
    node: Any = doc
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    if value is KeyError:
        del node[int(last) if last.isdigit() else last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("equity_inputs", KeyError, "equity_inputs"),
        ("balance_sheets.1.cash_fen", "1000", "balance_sheets[1].cash_fen"),
        ("balance_sheets.0.cash_fen", 1.5, "balance_sheets[0].cash_fen"),
        ("income_monthly.1.rent_fen", -1, "income_monthly[1].rent_fen"),
        ("equity_inputs.withdrawals_fen", -5, "equity_inputs.withdrawals_fen"),
        ("balance_sheets.0.equity_fen", 999, "balance_sheets[0].equity_fen"),
        ("income_monthly.0.net_profit_fen", 1, "income_monthly[0].net_profit_fen"),
        ("income_monthly.1.month", "2025-01-01", "income_monthly[1].month"),
        ("balance_sheets.1.kind", "check_point", "balance_sheets"),
        ("layout", "xiaowei.ipc/2.0", "layout"),
        ("products.0.colour", "red", "products[0].colour"),
        ("equity_inputs.period_end", "yesterday", "equity_inputs.period_end"),
    ],
)
def test_malformed_files_name_the_field(path: str, value: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_ipc(_mutate(path, value))
    assert err.value.field == field


def test_unreadable_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not JSON"):
        read_ipc_file(bad)
    with pytest.raises(InvalidInput, match="cannot read"):
        read_ipc_file(tmp_path / "missing.json")
    bad.write_text(json.dumps([1, 2]), encoding="utf-8")
    with pytest.raises(InvalidInput, match="one JSON object"):
        read_ipc_file(bad)


# --- fuzzing: any corruption gives InvalidInput or a file whose identities still hold ---------

_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _holds(ipc: Any) -> None:
    """A file that parses is whole: the frames carry every line and the sheets balance."""
    sheets, income, products, equity = ipc_frames(ipc)
    assert sheets.height == 2
    assert income.height == len(ipc.income_monthly) >= 1
    assert products.height == len(ipc.products)
    assert equity.height == 1
    assets = sheets.select(fin.ASSET_COLUMNS).sum_horizontal()
    liabilities = sheets.select(fin.LIABILITY_COLUMNS).sum_horizontal()
    if "equity_fen" in sheets.columns:  # totals are optional in the file
        assert (sheets["equity_fen"] == assets - liabilities).all()
    assert set(sheets["kind"]) == {"check_point", "current"}
    fin.equity_cross_check(sheets, equity)  # the analysis accepts what the reader passed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_structure(data: st.DataObject) -> None:
    doc = valid_doc()
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["drop", "replace", "copy"]))
        if action == "drop":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = data.draw(_JSON_VALUES)
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        else:
            parent[f"{path[-1]}_copy"] = copy.deepcopy(parent[path[-1]])
    try:
        ipc = parse_ipc(doc)
    except InvalidInput:
        return
    _holds(ipc)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.binary(max_size=3)), max_size=4),
    st.one_of(st.none(), st.floats(0, 1)),
)
def test_fuzz_bytes(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[float, bytes]], cut: float | None
) -> None:
    data = bytearray(json.dumps(valid_doc(), ensure_ascii=False).encode("utf-8"))
    for where, junk in edits:
        i = int(where * len(data))
        data[i : i + len(junk)] = junk
    if cut is not None:
        data = data[: int(cut * len(data))]
    path = tmp_path_factory.mktemp("fuzz") / "ipc.json"
    path.write_bytes(bytes(data))
    try:
        ipc = read_ipc_file(path)
    except InvalidInput:
        return
    _holds(ipc)
