"""The JDM → Polars compiler agrees with zen-engine 2.1.3 (the reference) row by row.

Each construct has a hand graph evaluated both ways on the same rows (boundaries and nulls
included); the parity test runs the knock-out policy of ``data/knockout_policy.json`` (a
collect table of 16 rules over 12 fields, an expression node and a first band table) over
20,000 generated applications.
"""

from __future__ import annotations

import json
import math
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.core.errors import InvalidInput
from xiaowei.decision.jdm_compile import ERROR_COLUMN, compile_graph

POLICY = Path(__file__).parent / "data" / "knockout_policy.json"

# ----------------------------------------------------------------------------- helpers


def _node(node_id: str, kind: str, content: dict[str, Any] | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"id": node_id, "name": node_id, "type": kind}
    if content is not None:
        node["content"] = content
    return node


def _chain(*middle: dict[str, Any]) -> dict[str, Any]:
    """request → middle nodes in a row → response."""
    nodes = [_node("request", "inputNode"), *middle, _node("response", "outputNode")]
    ids = [n["id"] for n in nodes]
    edges = [
        {"id": f"e{k}", "type": "edge", "sourceId": a, "targetId": b}
        for k, (a, b) in enumerate(pairwise(ids))
    ]
    return {"nodes": nodes, "edges": edges}


def table(
    hit: str,
    inputs: list[str],
    outputs: list[str],
    rules: list[tuple[list[str], list[str]]],
    **options: Any,
) -> dict[str, Any]:
    content: dict[str, Any] = {
        "hitPolicy": hit,
        "inputs": [{"id": f"i{k}", "type": "expression", "field": f} for k, f in enumerate(inputs)],
        "outputs": [
            {"id": f"o{k}", "type": "expression", "field": f} for k, f in enumerate(outputs)
        ],
        "rules": [
            {
                "_id": f"r{j}",
                **{f"i{k}": c for k, c in enumerate(cells)},
                **{f"o{k}": c for k, c in enumerate(outs)},
            }
            for j, (cells, outs) in enumerate(rules)
        ],
        **options,
    }
    return _node("table", "decisionTableNode", content)


def expressions(pairs: list[tuple[str, str]], **options: Any) -> dict[str, Any]:
    content = {
        "expressions": [{"id": f"x{k}", "key": a, "value": b} for k, (a, b) in enumerate(pairs)],
        **options,
    }
    return _node("expr", "expressionNode", content)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """zen's nested result as dotted keys (the compiled path's layout); lists keep order."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}{key}."))
        return out
    if isinstance(value, list):
        return {prefix[:-1]: [flatten(v) if isinstance(v, dict) else v for v in value]}
    return {prefix[:-1]: value}


def same(a: Any, b: Any) -> bool:
    """Equal values; numbers to 1e-12 relative (zen computes in decimal, Polars in binary)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return all(same(a.get(k), b.get(k)) for k in a.keys() | b.keys())
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    numeric = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, numeric) and isinstance(b, numeric):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return bool(a == b)


def nest(row: dict[str, Any]) -> dict[str, Any]:
    """A flat row with dotted names as the nested JSON zen reads (nulls kept)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        parts = key.split(".")
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return out


def zen_results(graph: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """zen-engine's result per row (static loader), flattened; None where zen fails."""
    import zen

    content = json.dumps(graph)
    engine = zen.ZenEngine({"loader": lambda key: content})
    results: list[dict[str, Any] | None] = []
    for row in rows:
        try:
            results.append(flatten(engine.evaluate("graph.json", nest(row))["result"]))
        except RuntimeError:
            results.append(None)
    return results


def mismatches(graph: dict[str, Any], frame: pl.DataFrame) -> list[tuple[int, Any, Any]]:
    """Rows where the compiled path and zen-engine disagree (empty when in parity)."""
    compiled = compile_graph(graph).evaluate(frame)
    assert compiled.height == frame.height
    expected = zen_results(graph, frame.to_dicts())
    bad: list[tuple[int, Any, Any]] = []
    for k, (mine, theirs) in enumerate(zip(compiled.to_dicts(), expected, strict=True)):
        error = mine.pop(ERROR_COLUMN)
        if theirs is None:
            if error is None:
                bad.append((k, mine, "zen failed"))
        elif error is not None or not same(mine, theirs):
            bad.append((k, mine, theirs))
    return bad


def assert_parity(graph: dict[str, Any], frame: pl.DataFrame) -> None:
    bad = mismatches(graph, frame)
    assert not bad, bad[:5]


NUMBERS = pl.DataFrame({"x": [None, -1, 0, 1, 3, 5, 7, 10, 11]}, schema={"x": pl.Int64})
FLOATS = pl.DataFrame({"x": [None, -0.5, 0.0, 0.3, 0.30000001, 1.0, 1.5]})
WORDS = pl.DataFrame({"s": [None, "a", "b", "c", ""]})

# ----------------------------------------------------------------------------- unary tests


@pytest.mark.parametrize(
    "cell",
    [
        pytest.param("", id="any"),
        pytest.param("> 5", id="gt"),
        pytest.param(">= 5", id="ge"),
        pytest.param("< 5", id="lt"),
        pytest.param("<= 0", id="le"),
        pytest.param("5", id="equal-number"),
        pytest.param("!= 5", id="not-equal"),
        pytest.param("[1..10]", id="closed-range"),
        pytest.param("(0..10]", id="left-open-range"),
        pytest.param("[1..10)", id="right-open-range"),
        pytest.param("1, 3, 7", id="number-list"),
        pytest.param("< 0, > 7", id="comparison-list"),
        pytest.param("null", id="is-null"),
        pytest.param("!= null", id="not-null"),
        pytest.param("> 1 and < 10", id="unary-and"),
        pytest.param("$ > 1 and $ < 10", id="dollar-and"),
        pytest.param("$ > 5 or $ == null", id="dollar-or-null"),
        pytest.param("$ * 2 >= 10", id="dollar-arithmetic"),
    ],
)
def test_number_cells_match_zen(cell: str) -> None:
    graph = _chain(table("first", ["x"], ["hit"], [([cell], ["1"]), ([""], ["0"])]))
    assert_parity(graph, NUMBERS)


@pytest.mark.parametrize("cell", ["<= 0.3", "(0..1]", "0.3", "> 0.3"])
def test_decimal_cells_match_zen(cell: str) -> None:
    graph = _chain(table("first", ["x"], ["hit"], [([cell], ["1"])]))
    assert_parity(graph, FLOATS)


@pytest.mark.parametrize("cell", ["'a'", "'a', 'b'", "null", "!= 'a'", "''", "5"])
def test_string_cells_match_zen(cell: str) -> None:
    graph = _chain(table("first", ["s"], ["hit"], [([cell], ["1"])]))
    assert_parity(graph, WORDS)


def test_first_table_worked_example() -> None:
    """Hand example: x = 7 matches rules 2 and 3, first gives rule 2's (7 × 2 = 14); x = 20
    matches rule 3 only; x = -3 only rule 1; nothing matches a null (zen: no key, here null)."""
    graph = _chain(
        table(
            "first",
            ["x"],
            ["band", "points"],
            [
                (["< 5"], ["'low'", "10"]),
                (["[5..10]"], ["'mid'", "x * 2"]),
                (["> 6"], ["'high'", "0"]),
            ],
        )
    )
    frame = pl.DataFrame({"x": [-3, 7, 20, None]}, schema={"x": pl.Int64})
    out = compile_graph(graph).evaluate(frame)
    assert out.to_dict(as_series=False) == {
        "band": ["low", "mid", "high", None],
        "points": [10, 14, 0, None],
        ERROR_COLUMN: [None, None, None, None],
    }
    assert_parity(graph, frame)


def test_collect_table_gives_rules_in_order() -> None:
    """Hand example: x = 7 matches rules 1, 2 and 4 (rule 3 needs > 10)."""
    graph = _chain(
        table(
            "collect",
            ["x", "s"],
            ["code", "detail.v"],
            [
                ([">= 0", ""], ["'R1'", "x"]),
                (["> 5", ""], ["'R2'", "x * 1.5"]),
                (["> 10", ""], ["'R3'", "null"]),
                (["", "'a'"], ["'R4'", ""]),
            ],
            outputPath="hits",
        )
    )
    frame = pl.DataFrame({"x": [7, -1, None, 11], "s": ["a", "b", "a", None]})
    out = compile_graph(graph).evaluate(frame)
    assert out["hits"].to_list()[0] == [
        {"code": "R1", "detail.v": 7.0},
        {"code": "R2", "detail.v": 10.5},
        {"code": "R4", "detail.v": None},
    ]
    assert out["hits"].to_list()[1] == []
    assert_parity(graph, frame)


def test_pass_through_and_nested_fields() -> None:
    graph = _chain(
        table(
            "first",
            ["applicant.age"],
            ["score.age"],
            [(["< 25"], ["applicant.age - 18"]), ([""], ["7"])],
            passThrough=True,
        )
    )
    frame = pl.DataFrame({"applicant": [{"age": 20, "name": "甲"}, {"age": 40, "name": "乙"}]})
    out = compile_graph(graph).evaluate(frame)
    assert out.select("applicant.age", "score.age").rows() == [(20, 2), (40, 7)]
    assert_parity(
        graph, frame.unnest("applicant").rename({"age": "applicant.age", "name": "applicant.name"})
    )


# ----------------------------------------------------------------------------- expressions


def test_expression_node_matches_zen() -> None:
    graph = _chain(
        expressions(
            [
                ("a", "x + 1"),
                ("b", "x / 3"),
                ("c", "x > 1 and y"),
                ("d", "x > 1 ? 'big' : 'small'"),
                ("e", "$.a * 2"),
                ("f", "min([x, 3])"),
                ("g", "max([x, 2.5]) - -1"),
                ("h", "not (x >= 2) or y"),
                ("i", "x in [2..5)"),
                ("j", "s in ['a', 'b']"),
                ("k", "z ?? 10"),
                ("l", "s == null ? 0 : 1"),
                ("m", "false and y"),
            ],
        )
    )
    frame = pl.DataFrame(
        {
            "x": [0, 1, 2, 5, 7],
            "y": [True, False, True, None, True],
            "s": ["a", "c", None, "b", "a"],
            "z": [None, 1.5, None, 2.0, -1.0],
        }
    )
    assert_parity(graph, frame)


@pytest.mark.parametrize(
    "expression",
    [
        "x + 1",
        "x > 1",
        "y and true",
        "not y",
        "y ? 1 : 2",
        "10 / x",
        "min([x, 1])",
        "s ? 1 : 2",
        "not s",
        "s and true",
    ],
)
def test_null_errors_as_in_zen(expression: str) -> None:
    """zen fails the evaluation on null arithmetic/ordering/conditions; so does a row here."""
    graph = _chain(expressions([("a", expression)]))
    frame = pl.DataFrame(
        {"x": [None, 0, 2], "y": [None, True, False], "s": [None, "a", "b"]},
        schema={"x": pl.Int64, "y": pl.Boolean, "s": pl.String},
    )
    assert_parity(graph, frame)
    assert compile_graph(graph).evaluate(frame)[ERROR_COLUMN][0] == "expr"


# ----------------------------------------------------------------------------- switch


def _switch_graph(hit: str) -> dict[str, Any]:
    switch = _node(
        "switch",
        "switchNode",
        {
            "hitPolicy": hit,
            "statements": [{"id": "big", "condition": "x > 5"}, {"id": "default", "condition": ""}],
        },
    )
    big = expressions([("big", "x * 10")]) | {"id": "b1", "name": "b1"}
    small = expressions([("small", "x - 1")]) | {"id": "b2", "name": "b2"}
    nodes = [_node("request", "inputNode"), switch, big, small, _node("response", "outputNode")]
    pairs = [
        ("request", "switch", None),
        ("switch", "b1", "big"),
        ("switch", "b2", "default"),
        ("b1", "response", None),
        ("b2", "response", None),
    ]
    edges = [
        {
            "id": f"e{k}",
            "type": "edge",
            "sourceId": a,
            "targetId": b,
            **({"sourceHandle": h} if h else {}),
        }
        for k, (a, b, h) in enumerate(pairs)
    ]
    return {"nodes": nodes, "edges": edges}


@pytest.mark.parametrize("hit", ["first", "collect"])
def test_switch_node_matches_zen(hit: str) -> None:
    frame = pl.DataFrame({"x": [1, 5, 6, 9]})
    assert_parity(_switch_graph(hit), frame)
    out = compile_graph(_switch_graph(hit)).evaluate(frame)
    assert out["big"].to_list() == [None, None, 60, 90]
    expected_small = [0, 4, None, None] if hit == "first" else [0, 4, 5, 8]
    assert out["small"].to_list() == expected_small


def test_two_active_branches_writing_one_field_are_refused() -> None:
    """zen's merge order for a field written by two executed branches is not specified, so the
    compiled path refuses rows where both run (here a collect switch with x > 5)."""
    graph = _switch_graph("collect")
    graph["nodes"][3]["content"]["expressions"][0]["key"] = "big"
    compiled = compile_graph(graph)
    assert compiled.evaluate(pl.DataFrame({"x": [1, 2]}))["big"].to_list() == [0, 1]
    with pytest.raises(InvalidInput, match="two active branches"):
        compiled.evaluate(pl.DataFrame({"x": [1, 9]}))


def test_switch_edge_without_statement_is_refused() -> None:
    graph = _switch_graph("first")
    graph["edges"][1]["sourceHandle"] = "nowhere"
    with pytest.raises(InvalidInput, match="names no statement"):
        compile_graph(graph).evaluate(pl.DataFrame({"x": [1]}))


# ----------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("graph", "match"),
    [
        pytest.param(_chain(_node("f", "functionNode", {})), "functionNode", id="function-node"),
        pytest.param(
            _chain(table("first", ["x"], ["y"], [(["not(> 5)"], ["1"])])),
            "rule 'r0', input",
            id="not-call",
        ),
        pytest.param(
            _chain(table("first", ["x"], ["y"], [([""], ["x % 2"])])), "output", id="modulo"
        ),
        pytest.param(
            _chain(table("collect", ["x"], ["y"], [([""], ["1"])])), "outputPath", id="bare-collect"
        ),
        pytest.param(
            _chain(expressions([("a", "upper(s)")])), "function upper", id="unknown-function"
        ),
        pytest.param(
            _chain(table("unique", ["x"], ["y"], [([""], ["1"])])), "hit policy", id="hit-policy"
        ),
    ],
)
def test_outside_the_subset_is_refused(graph: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        compile_graph(graph).evaluate(pl.DataFrame({"x": [1], "s": ["a"]}))


# ----------------------------------------------------------------------------- properties


@settings(max_examples=25, deadline=None)
@given(
    low=st.integers(-5, 5),
    width=st.integers(0, 5),
    xs=st.lists(st.one_of(st.none(), st.integers(-12, 12)), min_size=1, max_size=20),
)
def test_range_cells_agree_with_zen(low: int, width: int, xs: list[int | None]) -> None:
    """Any range bounds and any values (nulls included) give zen's answer."""
    cells = [
        f"[{low}..{low + width}]",
        f"({low}..{low + width}]",
        f"> {low}",
        f"{low}, {low + width}",
    ]
    graph = _chain(
        table(
            "collect", ["x"], ["k"], [([c], [str(k)]) for k, c in enumerate(cells)], outputPath="m"
        )
    )
    assert_parity(graph, pl.DataFrame({"x": xs}, schema={"x": pl.Int64}))


# ----------------------------------------------------------------------------- parity


def applications(n: int, seed: int = 6) -> pl.DataFrame:
    """Simulated applications for the knock-out policy: 20 % of each numeric field sits on a
    rule boundary (17/18, 65/66, 0.99/1.0, 30/31, 90/91, 9/10/19/20, ...) and nulls are
    planted (no bureau score 15 %, no income 5 %, no revenue 5 %, no debt figure 1 %, which
    makes zen fail the row)."""
    rng = np.random.default_rng(seed)

    def with_nulls(values: pl.Series, p_null: float) -> pl.Series:
        return values.scatter(np.flatnonzero(rng.random(n) < p_null), None) if p_null else values

    def pick(values: list[Any], p_null: float = 0.0) -> pl.Series:
        series = pl.Series(values)[rng.integers(0, len(values), n)]
        return with_nulls(series, p_null)

    def mix(boundaries: list[Any], low: float, high: float, p_null: float = 0.0) -> pl.Series:
        integer = isinstance(boundaries[0], int)
        draws = rng.uniform(low, high, n)
        base = pl.Series(np.round(draws).astype(np.int64) if integer else np.round(draws, 2))
        at_boundary = pl.Series(rng.random(n) < 0.2)
        chosen = pl.select(pl.when(at_boundary).then(pick(boundaries)).otherwise(base)).to_series()
        return with_nulls(chosen, p_null)

    return pl.DataFrame(
        {
            "applicant.age": mix([17, 18, 60, 65, 66], 20, 66),
            "applicant.years_in_business": mix([0.0, 0.99, 1.0, 1.01], 1, 15),
            "applicant.blacklisted": pick([True] + [False] * 29),
            "applicant.industry": pick(
                ["retail"] * 6
                + ["catering"] * 6
                + ["manufacturing", "logistics"] * 5
                + ["gambling", "p2p", "crypto"]
            ),
            "bureau.overdue_count_24m": mix([5, 6, 7], 0, 5),
            "bureau.max_dpd_12m": mix([0, 30, 31, 90, 91], 0, 40),
            "bureau.queries_3m": mix([0, 9, 10, 19, 20], 0, 10),
            "bureau.score": mix([599, 600, 650, 700], 400, 850, p_null=0.15),
            "finance.annual_revenue": mix([100000.0, 200000.0], 300000, 5000000, p_null=0.05),
            "finance.monthly_income": mix([0.0, 10000.0, 20000.0], 5000, 60000, p_null=0.05),
            "finance.monthly_debt_payment": mix([3000.0, 6000.0, 12000.0], 0, 15000, p_null=0.01),
            "loan.amount": mix([50000.0, 100000.0], 10000, 500000),
            "loan.term_months": pick([6, 12, 24, 36, 48, 60]),
            "region": pick(["GD", "ZJ", "XJ", "XZ", "SC"], p_null=0.1),
        }
    )


def policy() -> dict[str, Any]:
    graph: dict[str, Any] = json.loads(POLICY.read_text(encoding="utf-8"))
    return graph


@pytest.mark.slow
def test_knockout_policy_parity_on_20000_applications() -> None:
    """Every row of a 20,000-row simulated batch: the compiled result equals zen-engine's
    (zen takes about 0.5 ms a row on this graph, so this test takes 10–15 s)."""
    frame = applications(20_000)
    graph = policy()
    compiled = compile_graph(POLICY.read_text(encoding="utf-8")).evaluate(frame)  # JSON text
    bad = mismatches(graph, frame)
    assert not bad, (len(bad), bad[:3])
    # The batch exercises the policy: knock-outs, every band, and failing rows (null debt).
    counts = compiled.select(
        pl.col("knockouts").list.len().gt(0).sum().alias("knocked_out"),
        pl.col("band.grade").n_unique().alias("grades"),
        pl.col(ERROR_COLUMN).is_not_null().sum().alias("errors"),
    ).row(0, named=True)
    assert 2_000 < counts["knocked_out"] < 20_000
    assert counts["grades"] >= 5
    assert 0 < counts["errors"] < 1_000


def test_scorecard_graph_compiles_to_the_same_scores() -> None:
    """The house scorecard's JDM (``Scorecard.to_jdm``: one first table per feature with
    ``$ == null``, specials, ``$ >= a and $ < b`` and ``$ in [...]`` cells, then an expression
    node summing the points and copying the ``points`` object) gives zen's result on every row
    and the card's own scores. The inputs are rounded to 6 decimals: zen turns a double into a
    decimal with rust_decimal's ``from_f64``, which for 16–17 significant digits can differ in
    the last digit, so a value exactly on a 17-digit cut point may fall on the other side
    (measured: 1 row in 1,500 on the unrounded synthetic set; see the module docstring)."""
    from xiaowei.scoring.datasets import synthetic
    from xiaowei.scoring.scorecard import Scorecard

    x, y = synthetic(3000, 11)
    numeric = [c for c, dt in x.schema.items() if dt.is_float()][:8]
    categorical = [c for c, dt in x.schema.items() if dt == pl.String][:2]
    x = x.select(pl.col(numeric).round(6), pl.col(categorical))
    card = Scorecard().fit(x, y)
    graph = json.loads(card.to_jdm())
    frame = x.head(1500)
    assert_parity(graph, frame)
    scores = compile_graph(graph).evaluate(frame)["score"].to_numpy()
    np.testing.assert_array_equal(scores, card.score(frame))
