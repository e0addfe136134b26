"""decision records and champion/challenger assignments (issue 6)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "strategy_versions",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("code", "version", name=op.f("pk_strategy_versions")),
    )
    op.create_table(
        "decision_records",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("application_sha256", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=False),
        sa.Column("experiment", sa.String(length=40), nullable=True),
        sa.Column("arm", sa.String(length=40), nullable=True),
        sa.Column("acted", sa.Boolean(), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("strategy_code", sa.String(length=40), nullable=False),
        sa.Column("strategy_version", sa.Integer(), nullable=False),
        sa.Column("strategy_sha256", sa.String(length=64), nullable=False),
        sa.Column("policy_code", sa.String(length=40), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("policy_sha256", sa.String(length=64), nullable=False),
        sa.Column("model_name", sa.String(length=80), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("model_sha256", sa.String(length=64), nullable=False),
        sa.Column("model_path", sa.Text(), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("product_version", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("pd", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(length=12), nullable=False),
        sa.Column("limit_fen", sa.BigInteger(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("rate_ppm", sa.Integer(), nullable=True),
        sa.Column("term_months", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=24), nullable=True),
        sa.Column("application", sa.Text(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("result_sha256", sa.String(length=64), nullable=False),
        sa.Column("elapsed_us", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_records")),
    )
    op.create_index(
        "ix_decision_records_application",
        "decision_records",
        ["application_id", "decided_at"],
        unique=False,
    )
    op.create_table(
        "decision_replays",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("decision_id", _ID, nullable=False),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replayed_by", sa.String(length=80), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("result_sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decision_records.id"],
            name=op.f("fk_decision_replays_decision_id_decision_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_replays")),
    )
    op.create_index(
        "ix_decision_replays_decision", "decision_replays", ["decision_id"], unique=False
    )
    op.create_table(
        "routing_versions",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("code", "version", name=op.f("pk_routing_versions")),
    )
    op.create_table(
        "decision_routes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("decision_id", _ID, nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=24), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("table_code", sa.String(length=40), nullable=False),
        sa.Column("table_version", sa.Integer(), nullable=False),
        sa.Column("table_sha256", sa.String(length=64), nullable=False),
        sa.Column("choice", sa.Text(), nullable=False),
        sa.Column("factory_case_id", _ID, nullable=True),
        sa.Column("committee_case_id", _ID, nullable=True),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("routed_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decision_records.id"],
            name=op.f("fk_decision_routes_decision_id_decision_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_routes")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_decision_routes_decision_id")),
    )


def downgrade() -> None:
    op.drop_table("decision_routes")
    op.drop_table("routing_versions")
    op.drop_index("ix_decision_replays_decision", table_name="decision_replays")
    op.drop_table("decision_replays")
    op.drop_index("ix_decision_records_application", table_name="decision_records")
    op.drop_table("decision_records")
    op.drop_table("strategy_versions")
