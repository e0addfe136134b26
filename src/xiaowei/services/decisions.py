"""Automated decision use cases (自动审批): decide, store, replay, with champion/challenger.

:func:`decide_application` runs :func:`xiaowei.decision.automated.decide` with the product's
**active** policy (a stored decision never runs a draft: governance comes first), the model
artefact given by its folder and the strategy document; with a challenger, both strategies are
evaluated and recorded and only the arm the application's hash assigns is acted on. The
strategy versions and the records are written in one transaction. Deciding the same
application again under the same versions returns the stored record instead of a duplicate
(idempotent).

:func:`replay_decision` reads a stored record back — the application document, the strategy,
policy and model versions it names, each checked by its sha256 — decides again and compares
the result's hash with the stored one; the replay is recorded too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from xiaowei.adapters.decision_store import DecisionStore
from xiaowei.adapters.model_artefact import load_model
from xiaowei.adapters.policy_store import PolicyStore
from xiaowei.adapters.repository import ProductRepository
from xiaowei.core.errors import InvalidInput, InvalidState, NotFound
from xiaowei.decision.automated import (
    Application,
    DecisionRecord,
    Experiment,
    decide,
    parse_application,
    replay_matches,
)
from xiaowei.decision.policy import Policy, PolicyEngine
from xiaowei.decision.strategy import Strategy
from xiaowei.lending.catalogue import load_catalogue
from xiaowei.lending.product import LoanProduct
from xiaowei.scoring.realtime import RealtimeScorer
from xiaowei.services.policies import active_policy

_ENGINE = PolicyEngine()
_SCORERS: dict[tuple[str, str], RealtimeScorer] = {}


def load_scorer(path: Path) -> RealtimeScorer:
    """A model artefact ready for real-time scoring, named by its manifest's sha256 (cached)."""
    manifest = path / "manifest.json"
    if not manifest.is_file():
        raise InvalidInput("model", f"no model artefact at {path} (manifest.json missing)")
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest()
    key = (str(path.resolve()), digest)
    scorer = _SCORERS.get(key)
    if scorer is None:
        artefact = load_model(path)
        identity = {
            "name": str(artefact.manifest.get("name", path.name)),
            "version": int(artefact.manifest.get("version", 1)),
            "kind": str(artefact.manifest.get("kind", "")),
            "sha256": digest,
        }
        scorer = RealtimeScorer(
            artefact.model,
            calibrator=artefact.calibrator,
            master_scale=artefact.master_scale,
            identity=identity,
        )
        _SCORERS[key] = scorer
    return scorer


def product_for(engine: Engine | None, code: str, version: int | None = None) -> LoanProduct:
    """The product from the database when imported there, else from the shipped catalogue."""
    if engine is not None:
        try:
            with engine.connect() as conn:
                return ProductRepository(conn).get(code, version)
        except NotFound:
            pass
    for product in load_catalogue():
        if product.code == code and (version is None or product.version == version):
            return product
    raise NotFound(f"product {code}" + ("" if version is None else f" v{version}") + " not found")


@dataclass
class DecideResult:
    """What :func:`decide_application` did: the acted record, the arm, the shadows, the ids."""

    acted: DecisionRecord
    arm: str | None = None
    experiment: str | None = None
    shadows: list[tuple[str, DecisionRecord]] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    repeated: bool = False

    @property
    def decision_id(self) -> int | None:
        return self.ids.get(self.arm or "champion")


def _who(by: str) -> str:
    name = by.strip()
    if not name:
        raise InvalidInput("by", "the name of the person or system acting is required")
    return name


def _ensure_strategy(store: DecisionStore, strategy: Strategy, *, by: str, at: datetime) -> None:
    found = store.strategy(strategy.code, strategy.version)
    if found is None:
        store.add_strategy(strategy, by=by, at=at)
    elif found[0].sha256 != strategy.sha256:
        raise InvalidState(
            f"strategy {strategy.key} is stored with different content; give the change a new "
            "version"
        )


def decide_application(
    engine: Engine | None,
    application: Application,
    *,
    strategy: Strategy,
    model_path: Path,
    challenger: Strategy | None = None,
    challenger_share: float = 0.0,
    salt: str | None = None,
    policy: Policy | None = None,
    by: str = "auto",
    at: datetime | None = None,
    store: bool = True,
) -> DecideResult:
    """Decide (and store, unless ``store`` is false) one application; see the module doc."""
    who = _who(by)
    when = at or datetime.now(UTC)
    if store and engine is None:
        raise InvalidInput("db", "a database is needed to store the decision")
    if store and policy is not None:
        raise InvalidInput(
            "policy",
            "a stored decision uses the product's active policy; register, approve and "
            "activate the file first, or decide with --dry-run",
        )
    scorer = load_scorer(model_path)
    product = product_for(engine, application.product)
    arms: list[tuple[str, Strategy]] = [("champion", strategy)]
    experiment: Experiment | None = None
    if challenger is not None:
        if not 0.0 < challenger_share < 1.0:
            raise InvalidInput("challenger_share", "must be strictly between 0 and 1")
        if challenger.product != strategy.product:
            raise InvalidInput("challenger", "champion and challenger decide the same product")
        code = f"{strategy.code}~{challenger.code}"[:40]
        experiment = Experiment.champion_challenger(
            code, salt or code, "champion", [("challenger", challenger_share)]
        )
        arms.append(("challenger", challenger))
    assigned = "champion" if experiment is None else experiment.assign(application.application_id)

    def policy_of(s: Strategy) -> Policy:
        if policy is not None:
            return policy
        assert engine is not None
        return active_policy(engine, s.product, s.policy)

    records = {
        name: decide(
            application,
            strategy=s,
            policy=policy_of(s),
            product=product,
            scorer=scorer,
            engine=_ENGINE,
        )
        for name, s in arms
    }
    acted = records[assigned]
    result = DecideResult(
        acted=acted,
        arm=None if experiment is None else assigned,
        experiment=None if experiment is None else experiment.code,
        shadows=[(n, r) for n, r in records.items() if n != assigned],
    )
    if not store:
        return result
    assert engine is not None
    versions = acted.versions
    with engine.begin() as conn:
        db = DecisionStore(conn)
        same = db.find_same(
            application.sha256,
            versions["strategy"]["sha256"],
            versions["policy"]["sha256"],
            versions["model"]["sha256"],
        )
        if same is not None:
            result.repeated = True
            result.ids = {
                (r["arm"] or "champion"): int(r["id"]) for r in db.related(int(same["id"]))
            }
            return result
        for _, s in arms:
            _ensure_strategy(db, s, by=who, at=when)
        for name, record in records.items():
            result.ids[name] = db.add_record(
                record,
                application=application.to_json(),
                model_path=str(model_path),
                by=who,
                at=when,
                acted=name == assigned,
                experiment=result.experiment,
                arm=None if experiment is None else name,
            )
    return result


def get_decision(engine: Engine, decision_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = DecisionStore(conn).get(decision_id)
    if row is None:
        raise NotFound(f"decision {decision_id} does not exist")
    return row


def list_decisions(
    engine: Engine, application_id: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return DecisionStore(conn).recent(application_id, limit)


@dataclass(frozen=True)
class ReplayResult:
    """A replay (重放): whether it matched, both hashes and the parts that differ."""

    decision_id: int
    matched: bool
    stored_sha256: str
    replayed_sha256: str
    differences: tuple[str, ...]
    replay_id: int


def replay_decision(
    engine: Engine,
    decision_id: int,
    *,
    model_path: Path | None = None,
    by: str,
    at: datetime | None = None,
) -> ReplayResult:
    """Decide a stored record's application again with the versions it names; compare."""
    who = _who(by)
    when = at or datetime.now(UTC)
    row = get_decision(engine, decision_id)
    application = parse_application(json.loads(row["application"]))
    stored = json.loads(row["record"])
    with engine.connect() as conn:
        found = DecisionStore(conn).strategy(row["strategy_code"], row["strategy_version"])
        policy = PolicyStore(conn).get(row["policy_code"], row["policy_version"])
    if found is None or found[0].sha256 != row["strategy_sha256"]:
        raise InvalidState(
            f"strategy {row['strategy_code']}@{row['strategy_version']} is missing or changed"
        )
    if policy is None or policy.sha256 != row["policy_sha256"]:
        raise InvalidState(
            f"policy {row['policy_code']}@{row['policy_version']} is missing or changed"
        )
    path = model_path or Path(row["model_path"])
    scorer = load_scorer(path)
    if scorer.identity["sha256"] != row["model_sha256"]:
        raise InvalidState(
            f"the model at {path} is not the one decision {decision_id} used "
            f"(manifest sha256 {scorer.identity['sha256'][:12]}…, recorded "
            f"{row['model_sha256'][:12]}…)"
        )
    product = product_for(engine, row["product_code"], row["product_version"])
    record = decide(
        application,
        strategy=found[0],
        policy=policy,
        product=product,
        scorer=scorer,
        engine=_ENGINE,
    )
    matched = replay_matches(stored, record) and row["result_sha256"] == record.result_sha256
    differences = tuple(
        sorted(
            k
            for k in set(stored) | set(record.result)
            if k not in ("result_sha256", "timing_us") and stored.get(k) != record.result.get(k)
        )
    )
    with engine.begin() as conn:
        replay_id = DecisionStore(conn).add_replay(
            decision_id,
            matched=matched,
            sha256=record.result_sha256,
            by=who,
            at=when,
            note="" if matched else "differs in: " + ", ".join(differences),
        )
    return ReplayResult(
        decision_id=decision_id,
        matched=matched,
        stored_sha256=row["result_sha256"],
        replayed_sha256=record.result_sha256,
        differences=differences,
        replay_id=replay_id,
    )


def replays(engine: Engine, decision_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return DecisionStore(conn).replays(decision_id)


__all__ = [
    "DecideResult",
    "ReplayResult",
    "decide_application",
    "get_decision",
    "list_decisions",
    "load_scorer",
    "product_for",
    "replay_decision",
    "replays",
]
