"""Credit policy rules (授信政策 / 准入规则) as JDM decision graphs evaluated by zen-engine.

A :class:`Policy` is one GoRules JSON Decision Model graph (request → knock-out decision
table(s) → response) plus its metadata: code, version, product, status (draft 草稿 → approved
已审批 → active 生效 → retired 停用), who created and approved it and when, and the sha256 of
the graph's canonical JSON, so that a decision records exactly the rules it used.

Knock-out tables (拒绝规则表) use the **collect** hit policy: every row that matches is
returned, so an applicant declined for age *and* for a current overdue learns both reasons,
not only the first. Each row writes four string constants — ``code``, ``severity``
(``decline`` 拒绝 | ``refer`` 转人工), ``reason_zh``, ``reason_en`` — and nothing else: zen-engine
drops keys whose value is null from its output, so the values that triggered a rule are not
written by the graph but read back from the evaluation context for the input columns the row
tests (a missing value is then reported as ``None`` instead of vanishing).

Evaluation goes through ``ZenEngine.evaluate(key, context)`` with zen's static loader holding
the parsed graph, one engine per policy version, cached: the ``ZenDecision`` object path of
zen-engine 2.x is 3–4× slower and compiling a graph costs 0.6–2.6 ms
(``shared/research/decision_engines.md`` §2).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import zen

from xiaowei.analysis.credit_file import CreditFile
from xiaowei.analysis.feature_labels import feature_group, feature_label
from xiaowei.core.errors import InvalidInput

#: The application's own fields a policy may test besides the credit file's features
#: (申请信息): the feature table's application columns and the checks an officer records.
APPLICATION_FIELDS: dict[str, str] = {
    "industry": "行业 industry code of the business (e.g. trade, catering)",
    "region": "地区 region code",
    "legal_form": "组织形式 legal form",
    "requested_amount_fen": "申请金额 requested amount in fen",
    "requested_term": "申请期限 requested term in months",
    "blacklist_hit": "黑名单命中 true when the owner or business is on an internal or shared "
    "blacklist (a boolean the intake step supplies)",
    "equity_check": "权益交叉检验 verdict of the equity cross-check: pass | explain | fail",
    "sales_check": "销售额交叉检验 verdict of the sales cross-check: pass | explain | fail",
}

SEVERITIES = ("decline", "refer")
_RULE_OUTPUTS = ("code", "severity", "reason_zh", "reason_en")
_NODE_TYPES = {
    "inputNode",
    "outputNode",
    "decisionTableNode",
    "expressionNode",
    "switchNode",
    "functionNode",
    "decisionNode",
}


class PolicyStatus(StrEnum):
    """Life cycle of a policy version (政策版本状态)."""

    DRAFT = "draft"  # 草稿
    APPROVED = "approved"  # 已审批
    ACTIVE = "active"  # 生效
    RETIRED = "retired"  # 停用


class Outcome(StrEnum):
    """Result of the policy rules (政策结论): pass 通过, refer 转人工审查, decline 拒绝."""

    PASS = "pass"
    REFER = "refer"
    DECLINE = "decline"


def canonical_json(graph: Mapping[str, Any]) -> str:
    """The graph as canonical JSON (sorted keys, no spaces, UTF-8): what the sha256 covers, so
    re-indenting or re-ordering keys in the file does not change a policy's identity."""
    return json.dumps(
        graph, ensure_ascii=False, sort_keys=True, separators=(",", ":"), check_circular=False
    )


def graph_sha256(graph: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(graph).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One knock-out row as validated: its code, severity, texts and the fields it tests."""

    code: str
    severity: str
    reason_zh: str
    reason_en: str
    fields: tuple[str, ...]
    node: str


@dataclass(frozen=True, slots=True)
class Policy:
    """One version of a credit policy (授信政策版本): the JDM graph and its metadata."""

    code: str
    version: int
    product: str
    graph: dict[str, Any]
    status: PolicyStatus = PolicyStatus.DRAFT
    name_zh: str = ""
    name_en: str = ""
    created_by: str | None = None
    created_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    #: sha256 of the graph's canonical JSON, computed once (the engine keys its cache on it).
    sha256: str = field(init=False, default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", graph_sha256(self.graph))

    @property
    def key(self) -> str:
        """The loader key of this version, e.g. ``SME-OP-KO@3``."""
        return f"{self.code}@{self.version}"

    def rules(self) -> dict[str, RuleSpec]:
        """The knock-out rows by code (the graph must be valid)."""
        return {r.code: r for r in _rule_specs(self.graph, [])}

    def metadata(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "version": self.version,
            "product": self.product,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
        }


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that matched (命中规则): code, severity, reason in zh-CN and en, and the values of
    the fields the rule tests (``None`` for a missing value)."""

    code: str
    severity: str
    reason_zh: str
    reason_en: str
    values: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "reason_zh": self.reason_zh,
            "reason_en": self.reason_en,
            "values": self.values,
        }


@dataclass(frozen=True, slots=True)
class PolicyResult:
    """The result of a policy on one application: outcome, every hit, the exact version."""

    outcome: Outcome
    hits: tuple[RuleHit, ...]
    policy_code: str
    policy_version: int
    policy_sha256: str
    elapsed_us: float

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "hits": [h.to_json() for h in self.hits],
            "policy_code": self.policy_code,
            "policy_version": self.policy_version,
            "policy_sha256": self.policy_sha256,
            "elapsed_us": round(self.elapsed_us, 1),
        }


# --------------------------------------------------------------------------- validation
def is_known_field(name: str) -> bool:
    """A credit-file feature :mod:`~xiaowei.analysis.feature_labels` can name, or a documented
    application field (:data:`APPLICATION_FIELDS`)."""
    if name in APPLICATION_FIELDS:
        return True
    group = feature_group(name)
    return group not in ("other", "application") and feature_label(name, "en") != name


def _rule_specs(graph: Mapping[str, Any], errors: list[str]) -> list[RuleSpec]:
    """The rows of every collect table, checking each; problems are appended to ``errors``."""
    specs: list[RuleSpec] = []
    for node in graph.get("nodes", []):
        if not isinstance(node, dict) or node.get("type") != "decisionTableNode":
            continue
        nid = node.get("id", "?")
        content = node.get("content") or {}
        policy = content.get("hitPolicy")
        if policy != "collect":
            errors.append(f"node {nid}: hitPolicy is {policy!r}; knock-out tables need 'collect'")
            continue
        inputs = content.get("inputs") or []
        outputs = content.get("outputs") or []
        in_fields: dict[str, str] = {}
        for col in inputs:
            name = col.get("field")
            if not name:
                errors.append(f"node {nid}: input {col.get('id')!r} has no field")
                continue
            if not is_known_field(name):
                errors.append(
                    f"node {nid}: input field {name!r} is neither a credit-file feature nor "
                    f"an application field ({', '.join(APPLICATION_FIELDS)})"
                )
            in_fields[col.get("id", "")] = name
        out_ids: dict[str, str] = {}
        for col in outputs:
            out_ids[col.get("field", "")] = col.get("id", "")
        missing = [f for f in _RULE_OUTPUTS if f not in out_ids]
        if missing:
            errors.append(f"node {nid}: outputs lack field(s) {', '.join(missing)}")
            continue
        extra = sorted(set(out_ids) - set(_RULE_OUTPUTS))
        if extra:
            errors.append(f"node {nid}: unexpected output field(s) {', '.join(extra)}")
        for index, row in enumerate(content.get("rules") or []):
            where = f"node {nid} row {index + 1} ({row.get('_id', '?')})"
            texts: dict[str, str] = {}
            for out in _RULE_OUTPUTS:
                cell = str(row.get(out_ids[out], "")).strip()
                literal = _string_literal(cell)
                if literal is None or not literal.strip():
                    errors.append(f"{where}: {out} must be a non-empty quoted string, got {cell!r}")
                    literal = ""
                texts[out] = literal
            if texts["severity"] and texts["severity"] not in SEVERITIES:
                errors.append(f"{where}: severity {texts['severity']!r} is not decline or refer")
            tested = tuple(
                name for cid, name in in_fields.items() if str(row.get(cid, "")).strip() != ""
            )
            if not tested:
                errors.append(f"{where}: tests no input (a row matching everyone)")
            specs.append(
                RuleSpec(
                    code=texts["code"],
                    severity=texts["severity"],
                    reason_zh=texts["reason_zh"],
                    reason_en=texts["reason_en"],
                    fields=tested,
                    node=str(nid),
                )
            )
    return specs


def _string_literal(cell: str) -> str | None:
    """The text of a quoted zen string literal ('…' or "…"), else None."""
    if len(cell) >= 2 and cell[0] == cell[-1] and cell[0] in "'\"":
        inner = cell[1:-1]
        if cell[0] not in inner:
            return inner
    return None


def graph_errors(graph: Any) -> list[str]:
    """Every structural problem of a policy graph, each naming its node (and row)."""
    if not isinstance(graph, dict):
        return ["graph: the top level must be a JSON object with nodes and edges"]
    errors: list[str] = []
    nodes = graph.get("nodes")
    edges = graph.get("edges")
    if not isinstance(nodes, list) or not nodes:
        return ["graph: 'nodes' must be a non-empty list"]
    if not isinstance(edges, list):
        return ["graph: 'edges' must be a list"]
    ids: set[str] = set()
    for i, node in enumerate(nodes):
        nid = node.get("id") if isinstance(node, dict) else None
        if not nid:
            errors.append(f"node #{i + 1}: no id")
            continue
        if nid in ids:
            errors.append(f"node {nid}: duplicate id")
        ids.add(nid)
        if node.get("type") not in _NODE_TYPES:
            errors.append(f"node {nid}: unknown type {node.get('type')!r}")
    kinds = [n.get("type") for n in nodes if isinstance(n, dict)]
    if kinds.count("inputNode") != 1:
        errors.append("graph: needs exactly one inputNode")
    if kinds.count("outputNode") < 1:
        errors.append("graph: needs an outputNode")
    if "decisionTableNode" not in kinds:
        errors.append("graph: has no decision table (knock-out rules)")
    for i, edge in enumerate(edges):
        eid = edge.get("id", f"#{i + 1}") if isinstance(edge, dict) else f"#{i + 1}"
        if not isinstance(edge, dict):
            errors.append(f"edge {eid}: not an object")
            continue
        for end in ("sourceId", "targetId"):
            if edge.get(end) not in ids:
                errors.append(f"edge {eid}: {end} {edge.get(end)!r} is not a node")
    targets = {e.get("targetId") for e in edges if isinstance(e, dict)}
    sources = {e.get("sourceId") for e in edges if isinstance(e, dict)}
    for node in nodes:
        if not isinstance(node, dict) or not node.get("id"):
            continue
        nid, kind = node["id"], node.get("type")
        if kind != "inputNode" and nid not in targets:
            errors.append(f"node {nid}: no edge leads into it")
        if kind != "outputNode" and nid not in sources:
            errors.append(f"node {nid}: no edge leaves it")
    specs = _rule_specs(graph, errors)
    seen: set[str] = set()
    for spec in specs:
        if spec.code and spec.code in seen:
            errors.append(f"node {spec.node}: rule code {spec.code} is used twice")
        seen.add(spec.code)
    return errors


#: A context on which every policy must run (smoke test of validation): a clean applicant.
SMOKE_CONTEXT: dict[str, Any] = {
    "industry": "trade",
    "blacklist_hit": False,
    "equity_check": "pass",
    "sales_check": "pass",
    "soft_owner_age": 40,
    "fin_installment_ratio": 0.3,
    "bureau_credit_history_months": 60,
}


def parse_policy_document(document: Any, *, source: str = "policy") -> Policy:
    """A policy file's parsed JSON → :class:`Policy` (status draft), validated.

    The file is the JDM graph (nodes, edges, as the GoRules editor saves it) with the metadata
    in a top-level ``"policy"`` object: ``code``, ``version``, ``product``, ``name_zh``,
    ``name_en``. zen-engine ignores the extra key, so the same file opens in the editor.
    Raises :class:`InvalidInput` listing every problem.
    """
    if not isinstance(document, dict):
        raise InvalidInput(source, "the file must hold a JSON object (a JDM graph)")
    meta = document.get("policy")
    errors: list[str] = []
    if not isinstance(meta, dict):
        errors.append("policy: the metadata object 'policy' (code, version, product) is missing")
        meta = {}
    code, version, product = meta.get("code"), meta.get("version"), meta.get("product")
    if not isinstance(code, str) or not code.strip():
        errors.append("policy.code: a non-empty string is required")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        errors.append("policy.version: a positive integer is required")
    if not isinstance(product, str) or not product.strip():
        errors.append("policy.product: a product code is required")
    errors += graph_errors(document)
    if errors:
        raise InvalidInput(source, "; ".join(errors))
    policy = Policy(
        code=str(code),
        version=int(str(version)),
        product=str(product),
        graph=dict(document),
        name_zh=str(meta.get("name_zh", "")),
        name_en=str(meta.get("name_en", "")),
    )
    try:
        PolicyEngine().evaluate(policy, SMOKE_CONTEXT)
    except Exception as exc:  # zen raises its own error types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(source, f"zen-engine cannot evaluate the graph: {first}") from None
    return policy


def load_policy_text(text: str, *, source: str = "policy") -> Policy:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(source, f"not JSON: {exc}") from None
    return parse_policy_document(document, source=source)


def load_policy_file(path: Path) -> Policy:
    """Read and validate a policy file (JDM JSON with a ``policy`` metadata object)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(str(path), f"cannot read: {exc.strerror}") from None
    return load_policy_text(text, source=str(path))


def shipped_policy_path(name: str = "sme-op-ko.json") -> Path:
    """A policy file shipped with the package (``decision/policies/``)."""
    return Path(str(resources.files("xiaowei.decision").joinpath("policies", name)))


def policy_context(
    credit_file: CreditFile,
    application: Mapping[str, Any] | None = None,
    *,
    blacklist_hit: bool = False,
) -> dict[str, Any]:
    """The evaluation context of an application (决策输入): the credit file's features, the
    verdicts of its equity and sales cross-checks (``equity_check``, ``sales_check``), the
    blacklist result of intake and the application's own fields (``industry`` …)."""
    context: dict[str, Any] = dict(credit_file.features)
    checks = credit_file.cross_checks
    context["equity_check"] = None if checks.equity is None else checks.equity.verdict
    context["sales_check"] = None if checks.sales is None else checks.sales.verdict
    context["blacklist_hit"] = blacklist_hit
    for name, value in (application or {}).items():
        if name not in APPLICATION_FIELDS:
            raise InvalidInput(name, "is not an application field a policy knows")
        context[name] = value
    return context


# --------------------------------------------------------------------------- evaluation
@dataclass
class PolicyEngine:
    """zen-engine evaluation of policies, one compiled engine per policy version (cached).

    The loader is zen's static one (``{"type": "static", "content": {key: graph}}``): the graph
    crosses into Rust once, never re-read or re-converted on a call.
    """

    _graphs: dict[str, dict[str, Any]] = field(default_factory=dict)
    _engines: dict[str, Any] = field(default_factory=dict)
    _rules: dict[str, dict[str, RuleSpec]] = field(default_factory=dict)
    _inputs: dict[str, frozenset[str] | None] = field(default_factory=dict)

    def _engine(self, policy: Policy) -> tuple[Any, str]:
        key = f"{policy.key}#{policy.sha256}"
        engine = self._engines.get(key)
        if engine is None:
            graph = policy.graph
            self._graphs[key] = graph
            self._rules[key] = policy.rules()
            self._inputs[key] = _table_only_inputs(graph)
            # zen's own static loader: the graph is handed over once. A Python callback
            # loader is called on every evaluate and returning a dict from it re-converts the
            # whole graph each time (measured: 35 µs static vs ~700 µs dict callback a call).
            engine = zen.ZenEngine({"loader": {"type": "static", "content": {key: graph}}})
            self._engines[key] = engine
        return engine, key

    def evaluate(self, policy: Policy, context: Mapping[str, Any]) -> PolicyResult:
        """Run the policy on one application's context (features and application fields)."""
        engine, key = self._engine(policy)
        wanted = self._inputs[key]
        # A graph of tables only reads its tables' input fields: pass those alone (a credit
        # file has ~360 features; converting them all costs ~160 µs a call against ~45 µs).
        items = context.items() if wanted is None else ((k, context.get(k)) for k in wanted)
        ctx: dict[str, Any] = {}
        for k, v in items:
            kind: Any = type(v)
            if kind is int or kind is str or kind is bool:
                ctx[k] = v
            elif v is not None and (kind is not float or v == v):  # NaN is missing
                ctx[k] = v if kind is float else _plain(v)
        start = time.perf_counter()
        response = engine.evaluate(key, ctx)
        elapsed = (time.perf_counter() - start) * 1e6
        rules = self._rules[key]
        hits = []
        for row in _collected(response["result"]):
            spec = rules.get(str(row.get("code")))
            fields = spec.fields if spec is not None else ()
            hits.append(
                RuleHit(
                    code=str(row.get("code")),
                    severity=str(row.get("severity")),
                    reason_zh=str(row.get("reason_zh")),
                    reason_en=str(row.get("reason_en")),
                    values={f: _plain(context.get(f)) for f in fields},
                )
            )
        severities = {h.severity for h in hits}
        outcome = (
            Outcome.DECLINE
            if "decline" in severities
            else Outcome.REFER
            if "refer" in severities
            else Outcome.PASS
        )
        return PolicyResult(
            outcome=outcome,
            hits=tuple(hits),
            policy_code=policy.code,
            policy_version=policy.version,
            policy_sha256=policy.sha256,
            elapsed_us=elapsed,
        )


def _table_only_inputs(graph: Mapping[str, Any]) -> frozenset[str] | None:
    """The input fields of the graph's decision tables when it has no other computing node
    (expression, switch, function, sub-decision), else None (pass the whole context)."""
    fields: set[str] = set()
    for node in graph.get("nodes", []):
        kind = node.get("type")
        if kind in ("inputNode", "outputNode"):
            continue
        if kind != "decisionTableNode":
            return None
        fields.update(
            c["field"] for c in node.get("content", {}).get("inputs", []) if c.get("field")
        )
    return frozenset(fields)


def _collected(result: Any) -> list[dict[str, Any]]:
    """The rows a graph returned: a collect table's list, or lists under any key of the
    response when several tables merge into one object."""
    if isinstance(result, list):
        return [r for r in result if isinstance(r, dict) and "code" in r]
    if isinstance(result, dict):
        if "code" in result:
            return [result]
        out: list[dict[str, Any]] = []
        for value in result.values():
            out += _collected(value)
        return out
    return []


def _plain(value: Any) -> Any:
    """A context value as JSON-friendly Python (NumPy scalars and the like → float/int/str)."""
    if isinstance(value, float) and value != value:  # NaN is a missing value
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    return str(value)
