"""Fusion routing (融合架构): which approval path an application takes after the automated decision.

Lecture three of the course asks for a fusion of the credit methods: the big-data automated
decision for small, clean applications; the credit factory (信贷工厂) for the referred and the
mid-sized; the factory's investigation followed by the credit committee (信贷审批委员会) for the
large. The rule that chooses is the institution's, so it is data: a JDM decision table with the
**first** hit policy, evaluated by zen-engine, over the automated decision's outputs —
``action`` (approve / refer / decline), ``amount`` (CNY: the offer, else the request), ``pd``,
``counter_offer`` — that writes ``rule``, ``route`` and the reason in zh-CN and en. A route is
one of :class:`Route`:

* ``automated`` — the automated decision is final (自动审批);
* ``automated-factory`` — the factory line decides, starting from the automated proposal;
* ``factory-committee`` — the factory investigates and analyses, the committee decides.

The shipped table (``decision/routes/fusion-default.json``) declines and approves automatically
up to CNY 300,000 (not counter-offered), sends amounts above CNY 1,000,000 to the factory and
the committee, and everything else to the factory. A table that routes nowhere for some
application (no row matched) is an error naming the application, never a silent default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import zen

from xiaowei.core.errors import InvalidInput
from xiaowei.decision.automated import DecisionRecord
from xiaowei.decision.policy import graph_sha256

INPUTS = ("action", "amount", "pd", "counter_offer")


class Route(StrEnum):
    """Approval path (审批路径)."""

    AUTOMATED = "automated"  # 自动审批
    AUTOMATED_FACTORY = "automated-factory"  # 自动审批 → 信贷工厂
    FACTORY_COMMITTEE = "factory-committee"  # 信贷工厂 → 审批委员会

    @property
    def stages(self) -> tuple[str, ...]:
        return {
            Route.AUTOMATED: ("automated",),
            Route.AUTOMATED_FACTORY: ("automated", "factory"),
            Route.FACTORY_COMMITTEE: ("automated", "factory", "committee"),
        }[self]


@dataclass(frozen=True)
class RoutingTable:
    """One version of a routing table: the JDM graph, its code, version and sha256."""

    code: str
    version: int
    graph: dict[str, Any]
    name_zh: str = ""
    name_en: str = ""
    sha256: str = field(init=False, default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", graph_sha256(self.graph))


@dataclass(frozen=True, slots=True)
class RouteChoice:
    """The path chosen for one application and the row that chose it."""

    route: Route
    rule: str
    reason_zh: str
    reason_en: str
    inputs: dict[str, Any]
    table_code: str
    table_version: int
    table_sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "route": self.route.value,
            "stages": list(self.route.stages),
            "rule": self.rule,
            "reason_zh": self.reason_zh,
            "reason_en": self.reason_en,
            "inputs": self.inputs,
            "table": {
                "code": self.table_code,
                "version": self.table_version,
                "sha256": self.table_sha256,
            },
        }


def parse_routing(document: Any, *, source: str = "routing") -> RoutingTable:
    """A routing table from its file's JSON: the JDM graph with a ``routing`` metadata object
    (code, version, names) and one decision table whose inputs are among :data:`INPUTS` and
    whose outputs are rule, route, reason_zh and reason_en."""
    if not isinstance(document, Mapping):
        raise InvalidInput(source, "a routing table is a JSON object (a JDM graph)")
    meta = document.get("routing")
    if not isinstance(meta, Mapping):
        raise InvalidInput(f"{source}.routing", "the metadata object (code, version) is missing")
    code, version = meta.get("code"), meta.get("version")
    if not isinstance(code, str) or not code:
        raise InvalidInput("routing.code", "a non-empty code is required")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput("routing.version", "a whole number ≥ 1")
    tables = [n for n in document.get("nodes", []) if n.get("type") == "decisionTableNode"]
    if len(tables) != 1:
        raise InvalidInput(f"{source}.nodes", "exactly one decision table is expected")
    content = tables[0].get("content", {})
    if content.get("hitPolicy") != "first":
        raise InvalidInput(f"{source}.hitPolicy", "the routing table uses the first hit policy")
    fields = [i.get("field") for i in content.get("inputs", [])]
    unknown = [f for f in fields if f not in INPUTS]
    if unknown:
        raise InvalidInput(f"{source}.inputs", f"unknown inputs {unknown}; use {list(INPUTS)}")
    outputs = {o.get("field") for o in content.get("outputs", [])}
    if outputs != {"rule", "route", "reason_zh", "reason_en"}:
        raise InvalidInput(f"{source}.outputs", "outputs must be rule, route, reason_zh, reason_en")
    for i, row in enumerate(content.get("rules", [])):
        for output in content.get("outputs", []):
            if output.get("field") != "route":
                continue
            cell = str(row.get(output["id"], "")).strip().strip("'\"")
            if cell not in {r.value for r in Route}:
                raise InvalidInput(
                    f"{source}.rules[{i}]",
                    f"route {cell!r} is not one of {[r.value for r in Route]}",
                )
    graph = json.loads(json.dumps(document))
    return RoutingTable(
        code=code,
        version=version,
        graph=graph,
        name_zh=str(meta.get("name_zh", "")),
        name_en=str(meta.get("name_en", "")),
    )


def load_routing_file(path: Path) -> RoutingTable:
    if not path.is_file():
        raise InvalidInput("routing", f"{path} is not a file")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("routing", f"{path.name} is not JSON: {exc}") from None
    return parse_routing(document, source=path.name)


def shipped_routing_path(name: str = "fusion-default.json") -> Path:
    return Path(str(resources.files("xiaowei.decision").joinpath("routes", name)))


class Router:
    """Evaluates routing tables with zen-engine (static loader, one cached engine a version)."""

    def __init__(self) -> None:
        self._engines: dict[str, Any] = {}

    def _engine(self, table: RoutingTable) -> tuple[Any, str]:
        key = f"{table.code}@{table.version}#{table.sha256}"
        engine = self._engines.get(key)
        if engine is None:
            engine = zen.ZenEngine({"loader": {"type": "static", "content": {key: table.graph}}})
            self._engines[key] = engine
        return engine, key

    def route(
        self, table: RoutingTable, inputs: Mapping[str, Any], *, application_id: str = ""
    ) -> RouteChoice:
        """The first row of the table that matches ``inputs``."""
        engine, key = self._engine(table)
        context = {k: v for k, v in inputs.items() if v is not None}
        result = engine.evaluate(key, context)["result"]
        if not result or "route" not in result:
            raise InvalidInput(
                "routing",
                f"table {table.code} v{table.version} routes application {application_id} "
                f"nowhere ({dict(inputs)}): add a catch-all last row",
            )
        return RouteChoice(
            route=Route(result["route"]),
            rule=str(result.get("rule")),
            reason_zh=str(result.get("reason_zh")),
            reason_en=str(result.get("reason_en")),
            inputs=dict(inputs),
            table_code=table.code,
            table_version=table.version,
            table_sha256=table.sha256,
        )


def routing_inputs(record: DecisionRecord) -> dict[str, Any]:
    """What the table reads from a decision: action, amount (CNY, the offer else the request,
    as a number), PD and whether the offer is a counter-offer."""
    amount = record.amount if record.amount is not None else _requested(record)
    return {
        "action": record.action.value,
        "amount": float(amount),
        "pd": record.score.pd,
        "counter_offer": record.counter_offer,
    }


def _requested(record: DecisionRecord) -> Decimal:
    return Decimal(str(record.result["requested"]["amount"]))


__all__ = [
    "INPUTS",
    "Route",
    "RouteChoice",
    "Router",
    "RoutingTable",
    "load_routing_file",
    "parse_routing",
    "routing_inputs",
    "shipped_routing_path",
]
