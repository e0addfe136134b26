"""Compile a GoRules JDM decision graph (决策流) to vectorised Polars expressions.

A back-test (回测) runs a policy over a million past applications; looping zen-engine costs
about 50 µs per application (``shared/research/decision_engines.md`` §2), so this module
compiles the subset of the JSON Decision Model used by xiaowei to Polars and evaluates a whole
frame at once. The parity test (``tests/unit/decision/test_jdm_compile.py``) checks every row
against ``zen.ZenEngine``.

Supported subset (anything else raises :class:`InvalidInput` naming the node and the cell):

* ``inputNode``, one ``outputNode``, ``expressionNode`` (``key: expression``; ``$.key`` reads
  a key computed earlier in the node; ``key: object`` copies an object's fields;
  ``passThrough``), ``decisionTableNode`` (决策表; hit policy
  ``first`` or ``collect``; ``passThrough``) and ``switchNode`` (分支; ``first``/``collect``,
  an empty condition is the default branch).
* ZEN expressions: numbers, strings, ``true``/``false``/``null``, field paths, ``+ - * /``,
  unary ``-``, ``== != < <= > >=``, ``and``/``or``/``not``/``!``, ``a ? b : c``, ``a ?? b``,
  ``x in [1..10]`` / ``x in ['a', 'b']`` and ``min([..])``/``max([..])``.
* Unary tests in table input cells: empty (any), ``> 5``, ``<= 0.3``, ranges ``[1..10]``,
  ``(0..1]``, lists ``'a', 'b'`` / ``1, 2`` (any item), a literal (equality), ``null`` (is
  null), ``> 5 and < 10`` and boolean expressions using ``$`` (the input field's value).

Semantics follow zen-engine 2.1.3 as measured: ordering comparisons, arithmetic and
``and``/``or``/``not``/ternary conditions on ``null`` (or on a value of the wrong type) are
errors. In a table input cell or a switch condition an error means "no match"; a table rule
whose output cell fails is skipped as if it had not matched; in an expression node an error
makes zen fail the whole evaluation, which the compiled path reports per row in the column
``_error`` (the node's name; outputs null). Division by zero gives null (zen's checked
decimal division), not an error.
Equality never errs (``null == null`` is true). ``min``/``max`` over a list with a null are
errors.

Data layout: nested field paths are flat, dot-separated column names — the input
``{"applicant": {"age": 30}}`` is the column ``applicant.age`` (struct columns are unnested
to such names first), and the output object ``{"points": {"age": 10}}`` is the column
``points.age``. A collect table gives one list column per table holding structs in rule order
whose field names are the output fields' dotted paths; a ``first`` table gives the first
matching rule's outputs, null when no rule matches. A key zen leaves out (an empty output
cell, a first table with no match) is null here. Numbers are Float64 (any decimal literal,
division or float input) or Int64; zen computes in decimal, so results agree to the double
rounding of each operation (a comparison of one operation's result with a literal agrees
exactly, since IEEE division and multiplication round correctly).

Known limit: zen converts a double input to a decimal with rust_decimal's ``from_f64``, which
keeps about 15–16 significant digits and does not always round to the double's shortest form
(50.85866936423151 becomes 50.8586693642315). A double with 16–17 significant digits lying
exactly on a 16–17-digit literal may therefore compare differently here (doubles are compared
as doubles). Inputs with at most 15 significant digits (money in fen, rounded rates and
ratios, integers) agree exactly; the scorecard test measured 1 row in 1,500 on unrounded
synthetic features whose cut points are themselves observed 17-digit values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from xiaowei.core.errors import InvalidInput

__all__ = ["ERROR_COLUMN", "CompiledGraph", "compile_graph"]

ERROR_COLUMN = "_error"

# --------------------------------------------------------------------------- expressions

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<name>[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r"|(?P<op>\.\.|==|!=|<=|>=|\?\?|[<>+\-*/!?:,()\[\]]))"
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}
_BINARY_POWER = {
    "??": 2,
    "or": 3,
    "and": 4,
    "==": 5,
    "!=": 5,
    "<": 6,
    "<=": 6,
    ">": 6,
    ">=": 6,
    "in": 6,
    "+": 7,
    "-": 7,
    "*": 8,
    "/": 8,
}
_COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}


@dataclass(frozen=True)
class _Lit:
    value: Any  # int, float, str, bool or None


@dataclass(frozen=True)
class _Ref:
    path: str  # "$" is the unary subject / output object; "$.k" a key of the output


@dataclass(frozen=True)
class _Unary:
    op: str  # "-" or "not"
    operand: _Node


@dataclass(frozen=True)
class _Binary:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Ternary:
    condition: _Node
    then: _Node
    otherwise: _Node


@dataclass(frozen=True)
class _Range:
    low: _Node
    high: _Node
    low_closed: bool
    high_closed: bool


@dataclass(frozen=True)
class _List:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Call:
    function: str  # "min" or "max"
    argument: _Node


_Node = _Lit | _Ref | _Unary | _Binary | _Ternary | _Range | _List | _Call


class _Parser:
    """Pratt parser of the ZEN expression subset; ``unary`` reads a table cell's unary test."""

    def __init__(self, text: str, where: str, *, unary: bool) -> None:
        self.where, self.text, self.unary = where, text, unary
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        stripped = text.rstrip()
        while pos < len(stripped):
            match = _TOKEN.match(stripped, pos)
            if match is None or match.end() == pos:
                self.fail(f"cannot read {stripped[pos:]!r}")
            assert match is not None
            kind = match.lastgroup or ""
            value = match.group(kind)
            if kind == "name" and value in _KEYWORDS:
                kind = "kw"
            self.tokens.append((kind, value))
            pos = match.end()
        self.tokens.append(("end", ""))
        self.index = 0
        self.depth = 0

    def fail(self, message: str) -> None:
        raise InvalidInput(self.where, f"{message} in {self.text!r} (outside the compiled subset)")

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.index]

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, value: str) -> None:
        if self.take()[1] != value:
            self.fail(f"expected {value!r}")

    def parse(self) -> _Node:
        node = self.expression()
        if self.peek()[0] != "end":
            self.fail(f"unexpected {self.peek()[1]!r}")
        return node

    def parse_unary_test(self) -> _Node:
        """Comma-separated items, any of which may match; bare values compare with ``$``."""
        items = [self.expression()]
        while self.peek()[1] == ",":
            self.take()
            items.append(self.expression())
        if self.peek()[0] != "end":
            self.fail(f"unexpected {self.peek()[1]!r}")
        tests = [_as_test(item) for item in items]
        node = tests[0]
        for test in tests[1:]:
            node = _Binary("or", node, test)
        return node

    def expression(self) -> _Node:
        condition = self.binary(0)
        if self.peek()[1] == "?":
            self.take()
            then = self.expression()
            self.expect(":")
            return _Ternary(condition, then, self.expression())
        return condition

    def binary(self, min_power: int) -> _Node:
        left = self.prefix()
        while True:
            op = self.peek()[1]
            if self.peek()[0] in ("str", "num"):
                self.fail(f"unexpected {op!r}")
            power = _BINARY_POWER.get(op)
            if power is None or power <= min_power:
                return left
            self.take()
            left = _Binary(op, left, self.binary(power))

    def prefix(self) -> _Node:
        value = self.peek()[1]
        if value in ("-", "not", "!"):
            self.take()
            self.depth += 1
            operand = self.binary(8)
            self.depth -= 1
            return _Unary("-" if value == "-" else "not", operand)
        # An implied subject (`> 5` = `$ > 5`) only at the top of an item: zen gives
        # `not(> 5)` no match at all, so nested forms are refused rather than guessed.
        if self.unary and value in _COMPARISONS and self.depth == 0:
            self.take()
            return _Binary(value, _Ref("$"), self.binary(6))
        return self.primary()

    def primary(self) -> _Node:
        kind, value = self.take()
        if kind == "num":
            return _Lit(float(value) if "." in value else int(value))
        if kind == "str":
            return _Lit(re.sub(r"\\(.)", r"\1", value[1:-1]))
        if kind == "kw" and value in ("true", "false", "null"):
            return _Lit({"true": True, "false": False, "null": None}[value])
        if kind == "name":
            if self.peek()[1] == "(":
                if value not in ("min", "max"):
                    self.fail(f"function {value}()")
                self.take()
                argument = self.expression()
                self.expect(")")
                return _Call(value, argument)
            return _Ref(value)
        if value in ("(", "["):
            self.depth += 1
            first = self.expression()
            self.depth -= 1
            if self.peek()[1] == "..":
                self.take()
                high = self.expression()
                close = self.take()[1]
                if close not in ("]", ")"):
                    self.fail("unclosed range")
                return _Range(first, high, value == "[", close == "]")
            if value == "(":
                self.expect(")")
                return first
            items = [first]
            while self.peek()[1] == ",":
                self.take()
                items.append(self.expression())
            self.expect("]")
            return _List(tuple(items))
        self.fail(f"unexpected {value!r}" if value else "unexpected end")
        raise AssertionError  # pragma: no cover - fail() raises


def _mentions_subject(node: _Node) -> bool:
    match node:
        case _Ref(path):
            return path == "$"
        case _Unary(_, operand):
            return _mentions_subject(operand)
        case _Binary(_, left, right):
            return _mentions_subject(left) or _mentions_subject(right)
        case _Ternary(c, t, o):
            return any(_mentions_subject(n) for n in (c, t, o))
        case _Range(low, high, _, _):
            return _mentions_subject(low) or _mentions_subject(high)
        case _List(items):
            return any(_mentions_subject(n) for n in items)
        case _Call(_, argument):
            return _mentions_subject(argument)
    return False


def _as_test(item: _Node) -> _Node:
    """A unary-test item: ranges and lists test membership, bare values equality."""
    if isinstance(item, _Range | _List):
        return _Binary("in", _Ref("$"), item)
    if _mentions_subject(item):
        return item
    return _Binary("==", _Ref("$"), item)


# --------------------------------------------------------------------------- lowering

_Kind = str  # "int", "float", "str", "bool", "null"


@dataclass(frozen=True)
class _Value:
    """A lowered expression: its value, a per-row error flag (None: never errs) and its kind."""

    expr: pl.Expr
    error: pl.Expr | None
    kind: _Kind


def _kind_of(dtype: pl.DataType) -> _Kind:
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    if dtype == pl.String:
        return "str"
    if dtype == pl.Boolean:
        return "bool"
    if dtype == pl.Null:
        return "null"
    raise InvalidInput("frame", f"column type {dtype} is not supported by the compiled path")


def _any_error(*errors: pl.Expr | None) -> pl.Expr | None:
    present = [e for e in errors if e is not None]
    if not present:
        return None
    result = present[0]
    for e in present[1:]:
        result = result | e
    return result


def _common_kind(kinds: list[_Kind], where: str) -> _Kind:
    real = {k for k in kinds if k != "null"}
    if not real:
        return "null"
    if real <= {"int", "float"}:
        return "float" if "float" in real else "int"
    if len(real) == 1:
        return real.pop()
    raise InvalidInput(where, f"mixes value types {sorted(real)} (outside the compiled subset)")


_DTYPES: dict[_Kind, pl.DataType] = {
    "int": pl.Int64(),
    "float": pl.Float64(),
    "str": pl.String(),
    "bool": pl.Boolean(),
    "null": pl.Null(),
}


def _literal(value: Any) -> _Value:
    if value is None:
        return _Value(pl.lit(None), None, "null")
    if isinstance(value, bool):
        return _Value(pl.lit(value, dtype=pl.Boolean), None, "bool")
    if isinstance(value, int):
        return _Value(pl.lit(value, dtype=pl.Int64), None, "int")
    if isinstance(value, float):
        return _Value(pl.lit(value, dtype=pl.Float64), None, "float")
    return _Value(pl.lit(value, dtype=pl.String), None, "str")


@dataclass
class _Scope:
    """What names mean while lowering: the context (path → column, kind) and ``$``."""

    context: dict[str, tuple[str, _Kind]]
    where: str
    subject: _Value | None = None
    own: dict[str, _Value] = field(default_factory=dict)


def _lower(node: _Node, scope: _Scope) -> _Value:
    match node:
        case _Lit(value):
            return _literal(value)
        case _Ref(path):
            return _lower_ref(path, scope)
        case _Unary("-", operand):
            v = _lower(operand, scope)
            if v.kind not in ("int", "float", "null"):
                return _Value(pl.lit(None), pl.lit(value=True), "null")
            return _Value(-v.expr, _any_error(v.error, v.expr.is_null()), v.kind)
        case _Unary(_, operand):
            v = _lower(operand, scope)
            return _Value(~_condition(v), _not_bool(v), "bool")
        case _Ternary(condition, then, otherwise):
            c, t, o = (_lower(n, scope) for n in (condition, then, otherwise))
            kind = _common_kind([t.kind, o.kind], scope.where)
            error = _any_error(
                c.error,
                _not_bool(c),
                None if t.error is None else (c.expr.fill_null(value=False) & t.error),
                None if o.error is None else (~c.expr.fill_null(value=True) & o.error),
            )
            expr = pl.when(_condition(c)).then(_cast(t, kind)).otherwise(_cast(o, kind))
            return _Value(expr, error, kind)
        case _Binary(op, left, right):
            return _lower_binary(op, left, right, scope)
        case _Call(function, _List(items)):
            values = [_lower(n, scope) for n in items]
            kind = _common_kind([v.kind for v in values], scope.where)
            if kind not in ("int", "float"):
                raise InvalidInput(scope.where, f"{function}() of non-numbers is not supported")
            exprs = [_cast(v, kind) for v in values]
            combined = pl.min_horizontal(exprs) if function == "min" else pl.max_horizontal(exprs)
            error = _any_error(*(v.error for v in values), *(e.is_null() for e in exprs))
            return _Value(combined, error, kind)
    raise InvalidInput(scope.where, f"{node!r} is outside the compiled subset")


def _lower_ref(path: str, scope: _Scope) -> _Value:
    if path == "$":
        if scope.subject is None:
            raise InvalidInput(scope.where, "'$' is only supported in a table's input cells")
        return scope.subject
    if path.startswith("$."):
        key = path[2:]
        if key not in scope.own:
            raise InvalidInput(scope.where, f"{path!r} reads a key not computed before it")
        return scope.own[key]
    if path in scope.context:
        column, kind = scope.context[path]
        return _Value(pl.col(column), None, kind)
    if any(p.startswith(path + ".") for p in scope.context):
        raise InvalidInput(scope.where, f"{path!r} is an object; only scalar fields are supported")
    return _literal(None)  # zen reads a missing field as null


def _not_bool(v: _Value) -> pl.Expr | None:
    """Error where a condition is not a boolean (null included)."""
    if v.kind != "bool":
        return pl.lit(value=True)
    return _any_error(v.error, v.expr.is_null())


def _condition(v: _Value) -> pl.Expr:
    """A value used as a condition; not a boolean → null (flagged as an error by _not_bool)."""
    return v.expr if v.kind == "bool" else pl.lit(None, dtype=pl.Boolean)


def _cast(v: _Value, kind: _Kind) -> pl.Expr:
    return v.expr.cast(_DTYPES[kind]) if v.kind != kind else v.expr


def _numeric(v: _Value) -> bool:
    return v.kind in ("int", "float")


def _equal(a: _Value, b: _Value) -> pl.Expr:
    if a.kind == b.kind or "null" in (a.kind, b.kind) or (_numeric(a) and _numeric(b)):
        if "null" in (a.kind, b.kind):
            other = b if a.kind == "null" else a
            return other.expr.is_null()
        return a.expr.eq_missing(b.expr)
    return a.expr.is_null() & b.expr.is_null()  # different types: equal only if both null


def _lower_binary(op: str, left: _Node, right: _Node, scope: _Scope) -> _Value:
    if op == "in":
        subject = _lower(left, scope)
        return _lower_membership(subject, right, scope)
    a, b = _lower(left, scope), _lower(right, scope)
    if op in ("==", "!="):
        eq = _equal(a, b)
        return _Value(eq if op == "==" else ~eq, _any_error(a.error, b.error), "bool")
    if op in ("<", "<=", ">", ">="):
        if not (_numeric(a) or a.kind == "null") or not (_numeric(b) or b.kind == "null"):
            if {a.kind, b.kind} <= {"str", "null"} or {a.kind, b.kind} <= {"bool", "null"}:
                raise InvalidInput(
                    scope.where, f"'{op}' on {a.kind} is outside the compiled subset"
                )
            return _Value(pl.lit(None), pl.lit(value=True), "bool")  # number vs text: zen errs
        compare = {
            "<": a.expr < b.expr,
            "<=": a.expr <= b.expr,
            ">": a.expr > b.expr,
            ">=": a.expr >= b.expr,
        }[op]
        return _Value(
            compare, _any_error(a.error, b.error, a.expr.is_null(), b.expr.is_null()), "bool"
        )
    if op in ("+", "-", "*", "/"):
        if a.kind in ("str", "bool") or b.kind in ("str", "bool"):
            raise InvalidInput(scope.where, f"'{op}' on {a.kind}/{b.kind} is outside the subset")
        kind = "float" if op == "/" or "float" in (a.kind, b.kind) else "int"
        expr = {
            "+": a.expr + b.expr,
            "-": a.expr - b.expr,
            "*": a.expr * b.expr,
            # zen divides decimals with checked_div: division by zero gives null, not an error
            "/": pl.when(b.expr != 0).then(a.expr / b.expr),
        }[op]
        error = _any_error(a.error, b.error, a.expr.is_null(), b.expr.is_null())
        return _Value(expr.cast(_DTYPES[kind]), error, kind)
    if op == "??":
        kind = _common_kind([a.kind, b.kind], scope.where)
        error = _any_error(a.error, None if b.error is None else (a.expr.is_null() & b.error))
        return _Value(pl.coalesce(_cast(a, kind), _cast(b, kind)), error, kind)
    # and / or: the left side must be a boolean; the right side is returned as is and is
    # evaluated only when needed (zen short-circuits: `false and null` is false).
    left_error = _any_error(a.error, _not_bool(a))
    if b.kind not in ("bool", "null"):
        raise InvalidInput(scope.where, f"'{op}' of a non-boolean is outside the subset")
    decided = ~_condition(a) if op == "and" else _condition(a)
    decided = decided.fill_null(value=True)
    error = _any_error(left_error, None if b.error is None else (~decided & b.error))
    if op == "and":
        expr = pl.when(_condition(a)).then(b.expr.cast(pl.Boolean)).otherwise(pl.lit(value=False))
    else:
        expr = pl.when(_condition(a)).then(pl.lit(value=True)).otherwise(b.expr.cast(pl.Boolean))
    return _Value(expr, error, "bool")


def _lower_membership(subject: _Value, container: _Node, scope: _Scope) -> _Value:
    if isinstance(container, _Range):
        low, high = _lower(container.low, scope), _lower(container.high, scope)
        if not (_numeric(low) and _numeric(high)):
            raise InvalidInput(scope.where, "ranges must have numeric bounds")
        if not (_numeric(subject) or subject.kind == "null"):
            return _Value(pl.lit(value=False), None, "bool")
        above = subject.expr >= low.expr if container.low_closed else subject.expr > low.expr
        below = subject.expr <= high.expr if container.high_closed else subject.expr < high.expr
        error = _any_error(subject.error, subject.expr.is_null())
        return _Value(above & below, error, "bool")
    if isinstance(container, _List):
        items = [_lower(n, scope) for n in container.items]
        result = _equal(subject, items[0])
        for item in items[1:]:
            result = result | _equal(subject, item)
        error = _any_error(subject.error, *(i.error for i in items))
        return _Value(result, error, "bool")
    raise InvalidInput(scope.where, "'in' needs a range [a..b] or a list [..]")


def _matches(v: _Value) -> pl.Expr:
    """A condition as a mask: true only where it evaluated, without error, to true."""
    if v.kind not in ("bool", "null"):
        return pl.lit(value=False)
    mask = v.expr.fill_null(value=False)
    return mask if v.error is None else mask & ~v.error.fill_null(value=True)


# --------------------------------------------------------------------------- graph

_SUPPORTED = {"inputNode", "outputNode", "expressionNode", "decisionTableNode", "switchNode"}


@dataclass(frozen=True)
class _Edge:
    source: str
    target: str
    handle: str | None


@dataclass(frozen=True)
class _Rule:
    id: str
    tests: tuple[_Node | None, ...]  # one per input; None = any
    outputs: tuple[_Node | None, ...]  # one per output; None = key left out


@dataclass
class _NodeSpec:
    id: str
    name: str
    type: str
    pass_through: bool = False
    hit_policy: str = "first"
    expressions: list[tuple[str, _Node]] = field(default_factory=list)
    input_fields: list[str | None] = field(default_factory=list)
    output_fields: list[str] = field(default_factory=list)
    rules: list[_Rule] = field(default_factory=list)
    statements: list[tuple[str, _Node | None]] = field(default_factory=list)
    output_path: str = ""


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _parse_node(raw: dict[str, Any]) -> _NodeSpec:
    node_id = str(raw.get("id", ""))
    name = str(raw.get("name") or node_id)
    kind = str(raw.get("type", ""))
    where = f"node {name!r}"
    if kind not in _SUPPORTED:
        raise InvalidInput(where, f"node type {kind!r} is outside the compiled subset")
    spec = _NodeSpec(node_id, name, kind)
    content = raw.get("content") or {}
    if kind in ("inputNode", "outputNode"):
        return spec
    spec.pass_through = bool(content.get("passThrough", False))
    if content.get("inputField"):
        raise InvalidInput(where, "inputField is outside the compiled subset")
    spec.output_path = _text(content.get("outputPath"))
    if spec.output_path and kind != "decisionTableNode":
        raise InvalidInput(where, "outputPath is only supported on decision tables")
    if content.get("executionMode", "single") != "single":
        raise InvalidInput(where, "executionMode other than 'single' is outside the subset")
    if kind == "expressionNode":
        for item in content.get("expressions", []):
            key = _text(item.get("key"))
            cell = f"{where}, expression {key!r}"
            if not key:
                continue
            spec.expressions.append(
                (key, _Parser(_text(item.get("value")), cell, unary=False).parse())
            )
        return spec
    spec.hit_policy = str(content.get("hitPolicy", "first"))
    if spec.hit_policy not in ("first", "collect"):
        raise InvalidInput(where, f"hit policy {spec.hit_policy!r} is outside the subset")
    if kind == "decisionTableNode" and spec.hit_policy == "collect" and not spec.output_path:
        raise InvalidInput(
            where, "a collect table needs an outputPath (its bare array) in the compiled subset"
        )
    if kind == "switchNode":
        for statement in content.get("statements", []):
            condition = _text(statement.get("condition"))
            cell = f"{where}, statement {statement.get('id')!r}"
            parsed = _Parser(condition, cell, unary=False).parse() if condition else None
            spec.statements.append((str(statement.get("id")), parsed))
        return spec
    inputs = content.get("inputs", [])
    outputs = content.get("outputs", [])
    spec.input_fields = [_text(i.get("field")) or None for i in inputs]
    spec.output_fields = [_text(o.get("field")) for o in outputs]
    for o, out_field in zip(outputs, spec.output_fields, strict=True):
        if not out_field:
            raise InvalidInput(where, f"output {o.get('id')!r} has no field")
    for r, rule in enumerate(content.get("rules", [])):
        rule_name = rule.get("_id", r)
        tests: list[_Node | None] = []
        for i in inputs:
            cell_text = _text(rule.get(i["id"]))
            cell = f"{where}, rule {rule_name!r}, input {i.get('name') or i['id']!r}"
            tests.append(
                _Parser(cell_text, cell, unary=True).parse_unary_test() if cell_text else None
            )
        outs: list[_Node | None] = []
        for o in outputs:
            cell_text = _text(rule.get(o["id"]))
            cell = f"{where}, rule {rule_name!r}, output {o.get('name') or o['id']!r}"
            outs.append(_Parser(cell_text, cell, unary=False).parse() if cell_text else None)
        spec.rules.append(_Rule(str(rule_name), tuple(tests), tuple(outs)))
    return spec


@dataclass(frozen=True)
class _Frame:
    """A node's result inside the lazy frame: path → (column, kind); activity column or None."""

    context: dict[str, tuple[str, _Kind]]
    active: str | None  # None: active on every row


class CompiledGraph:
    """A JDM graph compiled to Polars; :meth:`evaluate` runs it over a frame of applications."""

    def __init__(self, nodes: list[_NodeSpec], edges: list[_Edge]) -> None:
        self._nodes = {n.id: n for n in nodes}
        self._edges = edges
        self._order = _topological_order(nodes, edges)
        outputs = [n for n in nodes if n.type == "outputNode"]
        inputs = [n for n in nodes if n.type == "inputNode"]
        if len(outputs) != 1 or len(inputs) != 1:
            raise InvalidInput("graph", "needs exactly one inputNode and one outputNode")
        self._output = outputs[0].id

    def evaluate(self, frame: pl.DataFrame) -> pl.DataFrame:
        """One output row per input row: the output node's fields as flat dotted columns, plus
        ``_error`` (the name of the node that failed for that row, else null)."""
        lazy, columns = _flatten(frame)
        done: dict[str, _Frame] = {}
        edge_active: dict[int, str | None] = {}
        errors: list[tuple[str, pl.Expr]] = []
        counter = 0

        def fresh(prefix: str) -> str:
            nonlocal counter
            counter += 1
            return f"\x1f{counter}\x1f{prefix}"

        for node_id in self._order:
            spec = self._nodes[node_id]
            where = f"node {spec.name!r}"
            incoming = [(k, e) for k, e in enumerate(self._edges) if e.target == node_id]
            if spec.type == "inputNode":
                context = {c: (c, _kind_of(dt)) for c, dt in columns.items()}
                done[node_id] = _Frame(context, None)
            else:
                lazy, merged, active = _merge(lazy, incoming, done, edge_active, fresh, where)
                lazy, result, node_errors = _run_node(lazy, spec, merged, active, fresh)
                errors.extend((spec.name, e) for e in node_errors)
                done[node_id] = result
            for k, edge in enumerate(self._edges):
                if edge.source == node_id:
                    lazy, edge_active[k] = _edge_activity(lazy, spec, edge, done[node_id], fresh)
        final = done[self._output]
        error_expr: pl.Expr = pl.lit(None, dtype=pl.String)
        for name, err in reversed(errors):
            failing = err.fill_null(value=False)
            error_expr = pl.when(failing).then(pl.lit(name)).otherwise(error_expr)
        failed = pl.col(ERROR_COLUMN).is_not_null()
        selected = [pl.col(c).alias(p) for p, (c, _) in final.context.items()]
        output = lazy.with_columns(error_expr.alias(ERROR_COLUMN)).select(
            *(pl.when(~failed).then(e) for e in selected), pl.col(ERROR_COLUMN)
        )
        return output.collect()


def _flatten(frame: pl.DataFrame) -> tuple[pl.LazyFrame, dict[str, pl.DataType]]:
    """Struct columns become dotted columns (``applicant`` → ``applicant.age``, ...)."""
    while any(isinstance(dt, pl.Struct) for dt in frame.schema.values()):
        exprs: list[pl.Expr] = []
        for name, dt in frame.schema.items():
            if isinstance(dt, pl.Struct):
                exprs.extend(
                    pl.col(name).struct.field(f.name).alias(f"{name}.{f.name}") for f in dt.fields
                )
            else:
                exprs.append(pl.col(name))
        frame = frame.select(exprs)
    return frame.lazy(), dict(frame.schema)


def _merge(
    lazy: pl.LazyFrame,
    incoming: list[tuple[int, _Edge]],
    done: dict[str, _Frame],
    edge_active: dict[int, str | None],
    fresh: Any,
    where: str,
) -> tuple[pl.LazyFrame, dict[str, tuple[str, _Kind]], str | None]:
    """The context a node receives: the union of its active predecessors' results."""
    if not incoming:
        raise InvalidInput(where, "has no incoming edge")
    actives = [edge_active[k] for k, _ in incoming]
    if len(incoming) == 1:
        return lazy, done[incoming[0][1].source].context, actives[0]
    providers: dict[str, list[tuple[str | None, str, _Kind]]] = {}
    for (_, edge), edge_on in zip(incoming, actives, strict=True):
        for path, (column, kind) in done[edge.source].context.items():
            providers.setdefault(path, []).append((edge_on, column, kind))
    exprs: list[pl.Expr] = []
    merged: dict[str, tuple[str, _Kind]] = {}
    overlaps: list[pl.Expr] = []
    for path, items in providers.items():
        if len(items) == 1 and items[0][0] is None:
            merged[path] = items[0][1:]
            continue
        if len(items) > 1:
            if sum(a is None for a, _, _ in items) > 1:
                raise InvalidInput(where, f"field {path!r} comes from two always-active nodes")
            count = pl.sum_horizontal(
                [pl.lit(1) if a is None else pl.col(a).cast(pl.Int32) for a, _, _ in items]
            )
            overlaps.append(count > 1)
        kind = _common_kind([k for _, _, k in items], f"{where}, field {path!r}")
        if kind == "list":
            raise InvalidInput(where, f"list field {path!r} reaches it along two edges")
        expr: pl.Expr = pl.lit(None, dtype=_DTYPES[kind])
        for active, column, _ in items:
            source = pl.col(column).cast(_DTYPES[kind])
            expr = (
                source if active is None else pl.when(pl.col(active)).then(source).otherwise(expr)
            )
        name = fresh(path)
        exprs.append(expr.alias(name))
        merged[path] = (name, kind)
    if overlaps:
        check = lazy.select(pl.any_horizontal(overlaps).any()).collect().item()
        if check:
            raise InvalidInput(where, "two active branches write the same field (order undefined)")
    if all(a is not None for a in actives):
        active_name = fresh("active")
        exprs.append(
            pl.any_horizontal([pl.col(a) for a in actives if a is not None]).alias(active_name)
        )
        node_active: str | None = active_name
    else:
        node_active = None
    return (lazy.with_columns(exprs) if exprs else lazy), merged, node_active


def _edge_activity(
    lazy: pl.LazyFrame, spec: _NodeSpec, edge: _Edge, result: _Frame, fresh: Any
) -> tuple[pl.LazyFrame, str | None]:
    if spec.type != "switchNode":
        return lazy, result.active
    if edge.handle not in {statement for statement, _ in spec.statements}:
        raise InvalidInput(
            f"node {spec.name!r}", f"edge to {edge.target!r} names no statement of the switch"
        )
    name = fresh(f"edge:{edge.handle}")
    return lazy.with_columns(
        pl.col(f"{result.active}\x1fswitch\x1f{edge.handle}").alias(name)
    ), name


def _run_node(
    lazy: pl.LazyFrame,
    spec: _NodeSpec,
    context: dict[str, tuple[str, _Kind]],
    active: str | None,
    fresh: Any,
) -> tuple[pl.LazyFrame, _Frame, list[pl.Expr]]:
    where = f"node {spec.name!r}"
    is_active = pl.lit(value=True) if active is None else pl.col(active)
    if spec.type == "outputNode":
        return lazy, _Frame(context, active), []
    if spec.type == "switchNode":
        # Materialise the node's activity and one mask per statement; edges read them.
        base = active or fresh("switch")
        exprs = [] if active else [pl.lit(value=True).alias(base)]
        taken: pl.Expr = pl.lit(value=False)
        for statement_id, condition in spec.statements:
            scope = _Scope(context, f"{where}, statement {statement_id!r}")
            ok = pl.lit(value=True) if condition is None else _matches(_lower(condition, scope))
            hit = is_active & ok & ~taken if spec.hit_policy == "first" else is_active & ok
            exprs.append(hit.alias(f"{base}\x1fswitch\x1f{statement_id}"))
            taken = taken | ok
        return lazy.with_columns(exprs), _Frame(context, base), []
    if spec.type == "expressionNode":
        scope = _Scope(context, where)
        exprs, errors, out = [], [], {}
        for key, node in spec.expressions:
            scope.where = f"{where}, expression {key!r}"
            if isinstance(node, _Ref) and node.path not in context:
                # `points: points` copies an object (the scorecard's graph does this).
                prefix = node.path + "."
                fields = {p[len(prefix) :]: c for p, c in context.items() if p.startswith(prefix)}
                if fields:
                    out.update({f"{key}.{sub}": column for sub, column in fields.items()})
                    continue
            value = _lower(node, scope)
            name = fresh(key)
            exprs.append(value.expr.alias(name))
            if value.error is not None:
                errors.append(is_active & value.error)
            out[key] = (name, value.kind)
            lazy = lazy.with_columns(exprs[-1])
            scope.own[key] = _Value(
                pl.col(name), None if value.error is None else value.error, value.kind
            )
        result = {**context, **out} if spec.pass_through else out
        return lazy, _Frame(result, active), errors
    return _run_table(lazy, spec, context, active, fresh)


def _run_table(
    lazy: pl.LazyFrame,
    spec: _NodeSpec,
    context: dict[str, tuple[str, _Kind]],
    active: str | None,
    fresh: Any,
) -> tuple[pl.LazyFrame, _Frame, list[pl.Expr]]:
    where = f"node {spec.name!r}"
    subjects = [
        None if f is None else _lower(_Ref(f), _Scope(context, f"{where}, input {f!r}"))
        for f in spec.input_fields
    ]
    masks: list[pl.Expr] = []
    values: list[list[_Value | None]] = []
    for rule in spec.rules:
        cell = f"{where}, rule {rule.id!r}"
        mask: pl.Expr = pl.lit(value=True)
        for test, subject in zip(rule.tests, subjects, strict=True):
            if test is not None:
                mask = mask & _matches(_lower(test, _Scope(context, cell, subject)))
        row = [
            None if o is None else _lower(o, _Scope(context, f"{cell}, output {f!r}"))
            for o, f in zip(rule.outputs, spec.output_fields, strict=True)
        ]
        # zen skips a rule whose output cell fails (as if it had not matched): measured.
        failed = _any_error(*(v.error for v in row if v is not None))
        masks.append(mask if failed is None else mask & ~failed.fill_null(value=True))
        values.append(row)
    mask_names = [fresh(f"rule{r}") for r in range(len(masks))]
    lazy = lazy.with_columns([m.alias(n) for m, n in zip(masks, mask_names, strict=True)])
    kinds = [
        _common_kind(
            [v.kind for row in values if (v := row[j]) is not None], f"{where}, output {f!r}"
        )
        for j, f in enumerate(spec.output_fields)
    ]
    out: dict[str, tuple[str, _Kind]] = {}
    if spec.hit_policy == "first":
        exprs = []
        for j, path in enumerate(spec.output_fields):
            expr: pl.Expr = pl.lit(None, dtype=_DTYPES[kinds[j]])
            for r in reversed(range(len(values))):
                v = values[r][j]
                if v is not None:
                    expr = pl.when(pl.col(mask_names[r])).then(_cast(v, kinds[j])).otherwise(expr)
                else:  # an empty output cell: zen leaves the key out
                    expr = (
                        pl.when(pl.col(mask_names[r]))
                        .then(pl.lit(None, dtype=_DTYPES[kinds[j]]))
                        .otherwise(expr)
                    )
            name = fresh(path)
            exprs.append(expr.alias(name))
            out[f"{spec.output_path}.{path}" if spec.output_path else path] = (name, kinds[j])
        lazy = lazy.with_columns(exprs)
    else:
        name = fresh("collect")
        lazy = _collect_hits(lazy, mask_names, values, kinds, spec.output_fields, name)
        out = {spec.output_path: (name, "list")}
    result = {**context, **out} if spec.pass_through else out
    return lazy, _Frame(result, active), []  # a failing rule is skipped, never an error


def _collect_hits(
    lazy: pl.LazyFrame,
    mask_names: list[str],
    values: list[list[_Value | None]],
    kinds: list[_Kind],
    fields: list[str],
    name: str,
) -> pl.LazyFrame:
    """The collect hit policy as a list column of structs, in rule order.

    ``concat_list`` of one ``when/then(struct)`` per rule is correct but costs about 50 µs a
    row (measured, Polars 1.x), so the hits are found with NumPy (row-major ``nonzero`` gives
    rows ascending, rules ascending within a row), the structs are built on the flat
    (row, rule) pairs and grouped back per row.
    """
    frame = lazy.collect()
    dtype = pl.List(pl.Struct({f: _DTYPES[k] for f, k in zip(fields, kinds, strict=True)}))
    if not mask_names:
        return frame.with_columns(pl.lit([], dtype=dtype).alias(name)).lazy()
    hits = np.column_stack([frame[n].to_numpy() for n in mask_names])
    rows, rules = np.nonzero(hits)
    needed = sorted(
        {c for row in values for v in row if v is not None for c in v.expr.meta.root_names()}
    )
    flat = frame.select(needed)[rows] if needed else pl.DataFrame(height=len(rows))
    flat = flat.with_columns(pl.Series("\x1frule", rules, dtype=pl.Int64))
    rule = pl.col("\x1frule")
    exprs: list[pl.Expr] = []
    for j, (field_name, kind) in enumerate(zip(fields, kinds, strict=True)):
        cells = [row[j] for row in values]
        if all(v is None or not v.expr.meta.root_names() for v in cells):
            # Literal cells: one lookup table indexed by the rule number.
            literals = pl.select(
                [(pl.lit(None) if v is None else v.expr).alias(str(r)) for r, v in enumerate(cells)]
            ).row(0)
            table = pl.Series(field_name, literals, dtype=_DTYPES[kind])
            exprs.append(pl.lit(table).gather(rule).alias(field_name))
            continue
        expr: pl.Expr = pl.lit(None, dtype=_DTYPES[kind])
        for r in reversed(range(len(cells))):
            v = cells[r]
            if v is not None:
                expr = pl.when(rule == r).then(_cast(v, kind)).otherwise(expr)
        exprs.append(expr.cast(_DTYPES[kind]).alias(field_name))
    structs = flat.select(pl.struct(exprs).alias(name)).with_columns(
        pl.Series("\x1frow", rows, dtype=pl.Int64)
    )
    grouped = structs.group_by("\x1frow", maintain_order=True).agg(pl.col(name))
    every_row = pl.DataFrame({"\x1frow": np.arange(frame.height, dtype=np.int64)})
    lists = every_row.join(grouped, on="\x1frow", how="left", maintain_order="left")[name]
    lists = lists.fill_null(pl.lit([], dtype=dtype))
    return frame.with_columns(lists.cast(dtype).alias(name)).lazy()


def _topological_order(nodes: list[_NodeSpec], edges: list[_Edge]) -> list[str]:
    ids = {n.id for n in nodes}
    pending = {n.id: 0 for n in nodes}
    for e in edges:
        if e.source not in ids or e.target not in ids:
            raise InvalidInput("graph", f"edge {e.source!r} → {e.target!r} names a missing node")
        pending[e.target] += 1
    ready = [n.id for n in nodes if pending[n.id] == 0]
    order: list[str] = []
    while ready:
        current = ready.pop(0)
        order.append(current)
        for e in edges:
            if e.source == current:
                pending[e.target] -= 1
                if pending[e.target] == 0:
                    ready.append(e.target)
    if len(order) != len(nodes):
        raise InvalidInput("graph", "has a cycle")
    return order


def compile_graph(graph: dict[str, Any] | str) -> CompiledGraph:
    """Parse a JDM graph (dict or JSON text) and compile it; errors name the node and cell."""
    data = json.loads(graph) if isinstance(graph, str) else graph
    nodes = [_parse_node(raw) for raw in data.get("nodes", [])]
    edges = [
        _Edge(str(e["sourceId"]), str(e["targetId"]), e.get("sourceHandle"))
        for e in data.get("edges", [])
    ]
    return CompiledGraph(nodes, edges)
