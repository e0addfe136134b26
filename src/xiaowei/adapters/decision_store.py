"""Persistence of strategy versions, decision records and replays (审批决策记录).

A strategy version keeps its whole document (canonical JSON) and sha256; a decision record keeps
the application document and the record as canonical JSON, with the figures a user filters on
(action, amount, rate, score …) as columns. Records are append-only. This module only reads and
writes, inside the caller's transaction; the rules live in ``services.decisions``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from xiaowei.adapters.orm import (
    decision_records,
    decision_replays,
    decision_routes,
    routing_versions,
    strategy_versions,
)
from xiaowei.adapters.repository import rate_ppm
from xiaowei.adapters.rows import inserted_id
from xiaowei.core.money import to_cents
from xiaowei.decision.automated import DecisionRecord, dumps
from xiaowei.decision.policy import canonical_json
from xiaowei.decision.strategy import Strategy, parse_strategy


class DecisionStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # ----------------------------------------------------------------------- strategies
    def strategy(self, code: str, version: int) -> tuple[Strategy, datetime, str] | None:
        row = self.conn.execute(
            select(strategy_versions).where(
                strategy_versions.c.code == code, strategy_versions.c.version == version
            )
        ).first()
        if row is None:
            return None
        m = row._mapping
        strategy = parse_strategy(json.loads(m["content"]), source=f"strategy {code}@{version}")
        return strategy, m["created_at"], m["created_by"]

    def add_strategy(self, strategy: Strategy, *, by: str, at: datetime) -> None:
        self.conn.execute(
            insert(strategy_versions).values(
                code=strategy.code,
                version=strategy.version,
                product_code=strategy.product,
                sha256=strategy.sha256,
                content=strategy.canonical_json(),
                created_at=at,
                created_by=by,
            )
        )

    def strategies(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(
                strategy_versions.c.code,
                strategy_versions.c.version,
                strategy_versions.c.product_code,
                strategy_versions.c.sha256,
                strategy_versions.c.created_at,
                strategy_versions.c.created_by,
            ).order_by(strategy_versions.c.code, strategy_versions.c.version)
        )
        return [dict(r._mapping) for r in rows]

    # ----------------------------------------------------------------------- records
    def add_record(
        self,
        record: DecisionRecord,
        *,
        application: dict[str, Any],
        model_path: str,
        by: str,
        at: datetime,
        acted: bool,
        experiment: str | None,
        arm: str | None,
    ) -> int:
        versions = record.versions
        model = versions["model"]
        offer = record.result.get("offer")
        result = self.conn.execute(
            insert(decision_records).values(
                application_id=record.application_id,
                application_sha256=record.application_sha256,
                decided_at=at,
                decided_by=by,
                experiment=experiment,
                arm=arm,
                acted=acted,
                action=record.action.value,
                strategy_code=versions["strategy"]["code"],
                strategy_version=versions["strategy"]["version"],
                strategy_sha256=versions["strategy"]["sha256"],
                policy_code=versions["policy"]["code"],
                policy_version=versions["policy"]["version"],
                policy_sha256=versions["policy"]["sha256"],
                model_name=str(model.get("name", "")),
                model_version=int(model.get("version", 0)),
                model_sha256=str(model.get("sha256", "")),
                model_path=model_path,
                product_code=versions["product"]["code"],
                product_version=versions["product"]["version"],
                score=record.score.score,
                pd=record.score.pd,
                grade=record.score.grade,
                limit_fen=None if record.limit.limit is None else to_cents(record.limit.limit),
                amount_fen=None if record.amount is None else to_cents(record.amount),
                rate_ppm=None if record.rate is None else rate_ppm(record.rate),
                term_months=None if offer is None else record.term.term_months,
                method=None if offer is None else record.term.method.value,
                application=canonical_json(application),
                record=dumps(record),
                result_sha256=record.result_sha256,
                elapsed_us=record.timing_us["total"],
            )
        )
        return inserted_id(result)

    def find_same(
        self, application_sha256: str, strategy_sha256: str, policy_sha256: str, model_sha256: str
    ) -> dict[str, Any] | None:
        """The acted record of the same application under the same versions, if any."""
        row = self.conn.execute(
            select(decision_records)
            .where(
                decision_records.c.application_sha256 == application_sha256,
                decision_records.c.strategy_sha256 == strategy_sha256,
                decision_records.c.policy_sha256 == policy_sha256,
                decision_records.c.model_sha256 == model_sha256,
                decision_records.c.acted.is_(True),
            )
            .order_by(decision_records.c.id)
        ).first()
        return None if row is None else dict(row._mapping)

    def get(self, decision_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            select(decision_records).where(decision_records.c.id == decision_id)
        ).first()
        return None if row is None else dict(row._mapping)

    def related(self, decision_id: int) -> list[dict[str, Any]]:
        """Every record of the same application decided at the same moment (the arms)."""
        base = self.get(decision_id)
        if base is None:
            return []
        rows = self.conn.execute(
            select(decision_records)
            .where(
                decision_records.c.application_id == base["application_id"],
                decision_records.c.decided_at == base["decided_at"],
            )
            .order_by(decision_records.c.id)
        )
        return [dict(r._mapping) for r in rows]

    def recent(self, application_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        query = select(decision_records).order_by(decision_records.c.id.desc()).limit(limit)
        if application_id is not None:
            query = query.where(decision_records.c.application_id == application_id)
        return [dict(r._mapping) for r in self.conn.execute(query)]

    def add_replay(
        self, decision_id: int, *, matched: bool, sha256: str, by: str, at: datetime, note: str
    ) -> int:
        result = self.conn.execute(
            insert(decision_replays).values(
                decision_id=decision_id,
                replayed_at=at,
                replayed_by=by,
                matched=matched,
                result_sha256=sha256,
                note=note,
            )
        )
        return inserted_id(result)

    def replays(self, decision_id: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(decision_replays)
            .where(decision_replays.c.decision_id == decision_id)
            .order_by(decision_replays.c.id)
        )
        return [dict(r._mapping) for r in rows]

    # ----------------------------------------------------------------------- routes
    def routing_sha256(self, code: str, version: int) -> str | None:
        """The stored hash of a routing table version, None when it was never used."""
        found = self.conn.execute(
            select(routing_versions.c.sha256).where(
                routing_versions.c.code == code, routing_versions.c.version == version
            )
        ).scalar()
        return None if found is None else str(found)

    def add_routing(
        self, code: str, version: int, sha256: str, content: str, *, by: str, at: datetime
    ) -> None:
        self.conn.execute(
            insert(routing_versions).values(
                code=code,
                version=version,
                sha256=sha256,
                content=content,
                created_at=at,
                created_by=by,
            )
        )

    def add_route(
        self,
        decision_id: int,
        *,
        application_id: str,
        choice: dict[str, Any],
        by: str,
        at: datetime,
    ) -> int:
        table = choice["table"]
        result = self.conn.execute(
            insert(decision_routes).values(
                decision_id=decision_id,
                application_id=application_id,
                route=choice["route"],
                rule=choice["rule"],
                table_code=table["code"],
                table_version=table["version"],
                table_sha256=table["sha256"],
                choice=canonical_json(choice),
                routed_at=at,
                routed_by=by,
            )
        )
        return inserted_id(result)

    def route_of(self, decision_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            select(decision_routes).where(decision_routes.c.decision_id == decision_id)
        ).first()
        return None if row is None else dict(row._mapping)

    def set_route_case(self, route_id: int, **case_ids: int) -> None:
        self.conn.execute(
            update(decision_routes).where(decision_routes.c.id == route_id).values(**case_ids)
        )
