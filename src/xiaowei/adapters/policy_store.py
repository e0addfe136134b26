"""Persistence of credit policy versions (授信政策版本) and their audit events.

A version row keeps the whole policy file (canonical JSON) and its sha256, so the rules a
decision used can be read back exactly; ``policy_events`` is append-only: one row per state
change (who, when, from, to, note). The life-cycle rules live in ``services.policies``; this
module only reads and writes, inside the caller's transaction.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from xiaowei.adapters.orm import policy_events, policy_versions
from xiaowei.core.errors import ConcurrencyConflict
from xiaowei.decision.policy import Policy, PolicyStatus, canonical_json, parse_policy_document


class PolicyStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, policy: Policy, *, by: str, at: datetime) -> None:
        self.conn.execute(
            insert(policy_versions).values(
                code=policy.code,
                version=policy.version,
                product_code=policy.product,
                status=PolicyStatus.DRAFT.value,
                sha256=policy.sha256,
                content=canonical_json(policy.graph),
                created_at=at,
                created_by=by,
            )
        )

    def get(self, code: str, version: int) -> Policy | None:
        row = self.conn.execute(
            select(policy_versions).where(
                policy_versions.c.code == code, policy_versions.c.version == version
            )
        ).first()
        return None if row is None else _policy(row._mapping)

    def list_all(self) -> list[Policy]:
        rows = self.conn.execute(
            select(policy_versions).order_by(policy_versions.c.code, policy_versions.c.version)
        )
        return [_policy(r._mapping) for r in rows]

    def active(self, code: str | None, product: str) -> list[Policy]:
        query = select(policy_versions).where(
            policy_versions.c.product_code == product,
            policy_versions.c.status == PolicyStatus.ACTIVE.value,
        )
        if code is not None:
            query = query.where(policy_versions.c.code == code)
        return [_policy(r._mapping) for r in self.conn.execute(query.order_by("code"))]

    def set_status(
        self,
        policy: Policy,
        to: PolicyStatus,
        *,
        by: str,
        at: datetime,
        note: str = "",
    ) -> None:
        """Change the status (guarded by the current one) and record the event."""
        values: dict[str, Any] = {"status": to.value}
        if to is PolicyStatus.APPROVED:
            values |= {"approved_by": by, "approved_at": at}
        elif to is PolicyStatus.ACTIVE:
            values |= {"activated_by": by, "activated_at": at}
        result = self.conn.execute(
            update(policy_versions)
            .where(
                policy_versions.c.code == policy.code,
                policy_versions.c.version == policy.version,
                policy_versions.c.status == policy.status.value,
            )
            .values(**values)
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(
                f"policy {policy.key} changed status meanwhile; read it again"
            )
        self.record(policy.code, policy.version, policy.status, to, by=by, at=at, note=note)

    def record(
        self,
        code: str,
        version: int,
        from_status: PolicyStatus | None,
        to: PolicyStatus,
        *,
        by: str,
        at: datetime,
        note: str = "",
    ) -> None:
        self.conn.execute(
            insert(policy_events).values(
                code=code,
                version=version,
                from_status=None if from_status is None else from_status.value,
                to_status=to.value,
                by=by,
                at=at,
                note=note,
            )
        )

    def events(self, code: str, version: int | None = None) -> list[dict[str, Any]]:
        query = select(policy_events).where(policy_events.c.code == code)
        if version is not None:
            query = query.where(policy_events.c.version == version)
        rows = self.conn.execute(query.order_by(policy_events.c.id))
        return [dict(r._mapping) for r in rows]


def _policy(row: Any) -> Policy:
    parsed = parse_policy_document(json.loads(row["content"]), source=f"policy {row['code']}")
    return Policy(
        code=row["code"],
        version=row["version"],
        product=row["product_code"],
        graph=parsed.graph,
        status=PolicyStatus(row["status"]),
        name_zh=parsed.name_zh,
        name_en=parsed.name_en,
        created_by=row["created_by"],
        created_at=row["created_at"],
        approved_by=row["approved_by"],
        approved_at=row["approved_at"],
    )
