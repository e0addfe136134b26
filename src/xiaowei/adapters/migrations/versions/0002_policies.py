"""policy versions and their events (issue 6)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 23:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=80), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("code", "version", name=op.f("pk_policy_versions")),
    )
    op.create_index(
        "ix_policy_versions_product_status",
        "policy_versions",
        ["product_code", "status"],
        unique=False,
    )
    op.create_table(
        "policy_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_events")),
    )
    op.create_index(
        "ix_policy_events_code_version", "policy_events", ["code", "version"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_policy_events_code_version", table_name="policy_events")
    op.drop_table("policy_events")
    op.drop_index("ix_policy_versions_product_status", table_name="policy_versions")
    op.drop_table("policy_versions")
