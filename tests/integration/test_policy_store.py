"""Policy life cycle on SQLite and PostgreSQL: draft → approved (maker-checker) → active,
one active version per code and product, every change audited, refusals change nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from xiaowei.adapters.migrate import current_revision
from xiaowei.core.errors import InvalidState, NotFound
from xiaowei.decision.policy import Outcome, PolicyStatus, shipped_policy_path
from xiaowei.services.policies import (
    activate_policy,
    active_policy,
    approve_policy,
    evaluate_active,
    get_policy,
    list_policies,
    policy_events,
    register_policy,
)

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _version(tmp_path: Path, version: int) -> Path:
    doc = json.loads(shipped_policy_path().read_text(encoding="utf-8"))
    doc["policy"]["version"] = version
    path = tmp_path / f"ko-v{version}.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_migration_is_at_head(db: Engine) -> None:
    from alembic.script import ScriptDirectory

    from xiaowei.adapters.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    assert current_revision(db) == head


def test_life_cycle_and_audit(db: Engine, tmp_path: Path) -> None:
    v1 = register_policy(db, shipped_policy_path(), by="maker", at=T0)
    assert (v1.status, v1.created_by) == (PolicyStatus.DRAFT, "maker")
    approved = approve_policy(db, "SME-OP-KO", 1, by="checker", at=T0)
    assert (approved.status, approved.approved_by) == (PolicyStatus.APPROVED, "checker")
    activate_policy(db, "SME-OP-KO", 1, by="head", at=T0)
    assert active_policy(db, "SME-OP").version == 1

    register_policy(db, _version(tmp_path, 2), by="maker", at=T0)
    approve_policy(db, "SME-OP-KO", 2, by="checker", at=T0)
    activate_policy(db, "SME-OP-KO", 2, by="head", note="tighter", at=T0)
    assert active_policy(db, "SME-OP").version == 2
    assert get_policy(db, "SME-OP-KO", 1).status is PolicyStatus.RETIRED
    assert [(p.version, p.status) for p in list_policies(db)] == [
        (1, PolicyStatus.RETIRED),
        (2, PolicyStatus.ACTIVE),
    ]
    trail = [
        (e["version"], e["from_status"], e["to_status"], e["by"])
        for e in policy_events(db, "SME-OP-KO")
    ]
    assert trail == [
        (1, None, "draft", "maker"),
        (1, "draft", "approved", "checker"),
        (1, "approved", "active", "head"),
        (2, None, "draft", "maker"),
        (2, "draft", "approved", "checker"),
        (1, "active", "retired", "head"),
        (2, "approved", "active", "head"),
    ]
    # The stored content is the file's: same sha256, and it evaluates.
    result = evaluate_active(db, "SME-OP", {"soft_owner_age": 70})
    assert result.outcome is Outcome.DECLINE
    assert (result.policy_version, result.policy_sha256) == (
        2,
        get_policy(db, "SME-OP-KO", 2).sha256,
    )


def test_refusals_change_nothing(db: Engine) -> None:
    register_policy(db, shipped_policy_path(), by="maker", at=T0)
    with pytest.raises(InvalidState, match="maker-checker"):
        approve_policy(db, "SME-OP-KO", 1, by="maker")
    with pytest.raises(InvalidState, match="only an approved version can be activated"):
        activate_policy(db, "SME-OP-KO", 1, by="head")
    with pytest.raises(InvalidState, match="already registered with the same content"):
        register_policy(db, shipped_policy_path(), by="other")
    with pytest.raises(NotFound):
        approve_policy(db, "SME-OP-KO", 9, by="checker")
    with pytest.raises(NotFound, match="no active policy"):
        active_policy(db, "SME-OP")
    assert get_policy(db, "SME-OP-KO", 1).status is PolicyStatus.DRAFT
    assert len(policy_events(db, "SME-OP-KO")) == 1
    approve_policy(db, "SME-OP-KO", 1, by="checker")
    with pytest.raises(InvalidState, match="only a draft can be approved"):
        approve_policy(db, "SME-OP-KO", 1, by="someone")
    assert len(policy_events(db, "SME-OP-KO")) == 2
