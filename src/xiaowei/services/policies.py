"""Policy use cases (授信政策管理): register a file as a draft, approve (maker-checker),
activate (one active version per policy code and product; the previous one is retired), read
the active version, evaluate an application with it. Each state change is one transaction
with its event row; a refused change raises and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from xiaowei.adapters.policy_store import PolicyStore
from xiaowei.core.errors import InvalidInput, InvalidState, NotFound
from xiaowei.decision.policy import (
    Policy,
    PolicyEngine,
    PolicyResult,
    PolicyStatus,
    load_policy_file,
)

_ENGINE = PolicyEngine()  # compiled graphs cached per version and sha256


def _who(by: str) -> str:
    name = by.strip()
    if not name:
        raise InvalidInput("by", "the name of the person acting is required")
    return name


def _now(at: datetime | None) -> datetime:
    return at or datetime.now(UTC)


def register_policy(engine: Engine, path: Path, *, by: str, at: datetime | None = None) -> Policy:
    """Validate a policy file and store it as a draft (草稿). A code and version that exist are
    refused: a stored version never changes (give the change a new version)."""
    who, when = _who(by), _now(at)
    policy = load_policy_file(path)
    with engine.begin() as conn:
        store = PolicyStore(conn)
        existing = store.get(policy.code, policy.version)
        if existing is not None:
            same = existing.sha256 == policy.sha256
            raise InvalidState(
                f"policy {policy.key} is already registered"
                + (" with the same content" if same else " with different content; bump version")
            )
        store.add(policy, by=who, at=when)
        store.record(policy.code, policy.version, None, PolicyStatus.DRAFT, by=who, at=when)
    return _get(engine, policy.code, policy.version)


def _get(engine: Engine, code: str, version: int) -> Policy:
    with engine.connect() as conn:
        found = PolicyStore(conn).get(code, version)
    if found is None:
        raise NotFound(f"policy {code}@{version} is not registered")
    return found


def get_policy(engine: Engine, code: str, version: int) -> Policy:
    return _get(engine, code, version)


def list_policies(engine: Engine) -> list[Policy]:
    with engine.connect() as conn:
        return PolicyStore(conn).list_all()


def policy_events(engine: Engine, code: str, version: int | None = None) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return PolicyStore(conn).events(code, version)


def approve_policy(
    engine: Engine, code: str, version: int, *, by: str, note: str = "", at: datetime | None = None
) -> Policy:
    """draft → approved (已审批), by someone other than its author (maker-checker 双人复核)."""
    who, when = _who(by), _now(at)
    with engine.begin() as conn:
        store = PolicyStore(conn)
        policy = store.get(code, version)
        if policy is None:
            raise NotFound(f"policy {code}@{version} is not registered")
        if policy.status is not PolicyStatus.DRAFT:
            raise InvalidState(
                f"policy {policy.key} is {policy.status.value}; only a draft can be approved"
            )
        if policy.created_by == who:
            raise InvalidState(
                f"policy {policy.key} was registered by {who}; the approver must be someone "
                "else (maker-checker)"
            )
        store.set_status(policy, PolicyStatus.APPROVED, by=who, at=when, note=note)
    return _get(engine, code, version)


def activate_policy(
    engine: Engine, code: str, version: int, *, by: str, note: str = "", at: datetime | None = None
) -> Policy:
    """approved → active (生效); the version active before for the same code and product is
    retired (停用) in the same transaction."""
    who, when = _who(by), _now(at)
    with engine.begin() as conn:
        store = PolicyStore(conn)
        policy = store.get(code, version)
        if policy is None:
            raise NotFound(f"policy {code}@{version} is not registered")
        if policy.status is not PolicyStatus.APPROVED:
            raise InvalidState(
                f"policy {policy.key} is {policy.status.value}; only an approved version can "
                "be activated"
            )
        for previous in store.active(code, policy.product):
            store.set_status(
                previous,
                PolicyStatus.RETIRED,
                by=who,
                at=when,
                note=f"replaced by version {version}",
            )
        store.set_status(policy, PolicyStatus.ACTIVE, by=who, at=when, note=note)
    return _get(engine, code, version)


def active_policy(engine: Engine, product: str, code: str | None = None) -> Policy:
    """The active version of a product's policy (of ``code`` when the product has several)."""
    with engine.connect() as conn:
        found = PolicyStore(conn).active(code, product)
    if not found:
        raise NotFound(f"no active policy for product {product}" + (f" ({code})" if code else ""))
    if len(found) > 1:
        codes = ", ".join(p.code for p in found)
        raise InvalidInput("code", f"product {product} has several active policies ({codes})")
    return found[0]


def evaluate_active(
    engine: Engine, product: str, context: Mapping[str, Any], *, code: str | None = None
) -> PolicyResult:
    """Evaluate an application with the product's active policy; the result names its version."""
    return _ENGINE.evaluate(active_policy(engine, product, code), context)
