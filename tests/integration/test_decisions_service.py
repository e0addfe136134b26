"""Stored automated decisions on SQLite and PostgreSQL: governance, idempotence, champion/
challenger, replay bit for bit, refusals that change nothing; the migrations build the schema the
ORM describes."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from sqlalchemy import Engine, func, select

from xiaowei.adapters import orm
from xiaowei.adapters.model_artefact import save_model
from xiaowei.core.errors import InvalidInput, InvalidState, NotFound
from xiaowei.decision.automated import Application
from xiaowei.decision.policy import load_policy_file, shipped_policy_path
from xiaowei.decision.strategy import load_strategy_file, parse_strategy, shipped_strategy_path
from xiaowei.scoring.calibration import Calibrator
from xiaowei.scoring.scorecard import Scorecard
from xiaowei.services import decisions
from xiaowei.services.policies import activate_policy, approve_policy, register_policy

STRATEGY = load_strategy_file(shipped_strategy_path())
GROWTH = load_strategy_file(shipped_strategy_path("sme-op-growth.json"))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(3)
    n = 3000
    ratio = rng.uniform(0.0, 1.2, n)
    inquiries = rng.poisson(1.5, n)
    logit = -3.2 + 2.0 * ratio + 0.4 * inquiries
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    frame = pl.DataFrame({"fin_installment_ratio": ratio, "bureau_hard_inquiries_3m": inquiries})
    card = Scorecard().fit(frame, y)
    calibrator = Calibrator().fit(np.asarray(card.score(frame), dtype=np.float64), y)
    path = tmp_path_factory.mktemp("models") / "card"
    save_model(card, path, name="card", calibrator=calibrator)
    return path


def _application(app_id: str = "APP-1", **features: Any) -> Application:
    base = {
        "soft_owner_age": 40,
        "fin_installment_ratio": 0.2,
        "bureau_credit_history_months": 60,
        "bureau_hard_inquiries_3m": 0,
        "fin_max_affordable_fen": 30_000_000,
        "flow_revenue_12m": 240_000_000,
        "flow_months_12m": 12,
    }
    return Application(
        application_id=app_id,
        product="SME-OP",
        as_of=date(2026, 3, 10),
        requested_amount=Decimal("200000.00"),
        requested_term=12,
        fields={"industry": "service", "blacklist_hit": False},
        features={**base, **features},
    )


def _activate(db: Engine) -> None:
    register_policy(db, shipped_policy_path(), by="analyst-li")
    approve_policy(db, "SME-OP-KO", 1, by="head-wang")
    activate_policy(db, "SME-OP-KO", 1, by="head-wang")


def _count(db: Engine, table: Any) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_the_migrations_build_the_schema_the_orm_describes(db: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with db.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), orm.metadata)
    assert diff == []


def test_a_stored_decision_needs_an_active_policy(db: Engine, model_dir: Path) -> None:
    with pytest.raises(NotFound, match="no active policy"):
        decisions.decide_application(db, _application(), strategy=STRATEGY, model_path=model_dir)
    assert _count(db, orm.decision_records) == 0
    with pytest.raises(InvalidInput, match="dry-run"):
        decisions.decide_application(
            db,
            _application(),
            strategy=STRATEGY,
            model_path=model_dir,
            policy=load_policy_file(shipped_policy_path()),
        )
    dry = decisions.decide_application(
        None,
        _application(),
        strategy=STRATEGY,
        model_path=model_dir,
        policy=load_policy_file(shipped_policy_path()),
        store=False,
    )
    assert dry.ids == {}
    assert dry.acted.action.value in ("approve", "refer", "decline")
    assert _count(db, orm.decision_records) == 0


def test_decide_store_repeat_and_replay(db: Engine, model_dir: Path) -> None:
    _activate(db)
    first = decisions.decide_application(
        db, _application(), strategy=STRATEGY, model_path=model_dir
    )
    assert first.ids == {"champion": 1}
    assert not first.repeated
    row = decisions.get_decision(db, 1)
    assert row["result_sha256"] == first.acted.result_sha256
    assert row["policy_sha256"] == load_policy_file(shipped_policy_path()).sha256
    assert row["acted"] is True
    assert row["arm"] is None
    assert json.loads(row["record"])["action"] == first.acted.action.value
    assert row["amount_fen"] == (
        None if first.acted.amount is None else int(first.acted.amount * 100)
    )
    again = decisions.decide_application(
        db, _application(), strategy=STRATEGY, model_path=model_dir
    )
    assert again.repeated
    assert again.ids == {"champion": 1}
    assert _count(db, orm.decision_records) == 1
    assert _count(db, orm.strategy_versions) == 1

    replay = decisions.replay_decision(db, 1, by="auditor")
    assert replay.matched
    assert replay.differences == ()
    assert replay.replayed_sha256 == first.acted.result_sha256
    assert [r["matched"] for r in decisions.replays(db, 1)] == [True]


def test_a_replay_refuses_a_changed_model(db: Engine, model_dir: Path, tmp_path: Path) -> None:
    _activate(db)
    decisions.decide_application(db, _application(), strategy=STRATEGY, model_path=model_dir)
    moved = tmp_path / "card-copy"
    shutil.copytree(model_dir, moved)
    manifest = json.loads((moved / "manifest.json").read_text(encoding="utf-8"))
    manifest["version"] = 2
    (moved / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InvalidState, match="not the one decision 1 used"):
        decisions.replay_decision(db, 1, model_path=moved, by="auditor")
    assert decisions.replays(db, 1) == []


def test_champion_and_challenger_are_both_recorded(db: Engine, model_dir: Path) -> None:
    _activate(db)
    arms = {}
    for i in range(12):
        result = decisions.decide_application(
            db,
            _application(f"APP-{i}"),
            strategy=STRATEGY,
            model_path=model_dir,
            challenger=GROWTH,
            challenger_share=0.5,
            salt="test",
        )
        assert set(result.ids) == {"champion", "challenger"}
        arms[f"APP-{i}"] = result.arm
        assert [n for n, _ in result.shadows] == [
            "challenger" if result.arm == "champion" else "champion"
        ]
    assert set(arms.values()) == {"champion", "challenger"}  # 12 draws at 50 %
    with db.connect() as conn:
        rows = conn.execute(
            select(
                orm.decision_records.c.application_id,
                orm.decision_records.c.arm,
                orm.decision_records.c.acted,
                orm.decision_records.c.strategy_code,
            )
        ).all()
    assert len(rows) == 24
    for app_id, arm, acted, code in rows:
        assert acted == (arm == arms[app_id])
        assert code == ("SME-OP-STD" if arm == "champion" else "SME-OP-GROWTH")
    assert _count(db, orm.strategy_versions) == 2
    for row_id in (1, 2):
        assert decisions.replay_decision(db, row_id, by="auditor").matched


def test_a_changed_strategy_under_the_same_version_is_refused(db: Engine, model_dir: Path) -> None:
    _activate(db)
    decisions.decide_application(db, _application(), strategy=STRATEGY, model_path=model_dir)
    document = json.loads(json.dumps(STRATEGY.document))
    document["pricing"]["margin"] = "0.02"
    changed = parse_strategy(document)
    with pytest.raises(InvalidState, match="new version"):
        decisions.decide_application(
            db, _application("APP-2"), strategy=changed, model_path=model_dir
        )
    assert _count(db, orm.decision_records) == 1
    assert decisions.list_decisions(db)[0]["application_id"] == "APP-1"
