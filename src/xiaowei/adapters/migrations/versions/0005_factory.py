"""credit factory: stations, staff, cases, steps, rotation, events (issue 6)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "factory_staff",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_factory_staff")),
    )
    op.create_table(
        "factory_assignments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("staff", sa.String(length=80), nullable=False),
        sa.Column("station", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff"],
            ["factory_staff.name"],
            name=op.f("fk_factory_assignments_staff_factory_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_factory_assignments")),
    )
    op.create_index(
        "ix_factory_assignments_staff",
        "factory_assignments",
        ["staff", "valid_from"],
        unique=False,
    )
    op.create_table(
        "factory_cases",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("borrower", sa.String(length=200), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("decision_id", _ID, nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("station", sa.String(length=16), nullable=True),
        sa.Column("opened_by", sa.String(length=80), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_factory_cases")),
    )
    op.create_index(
        "ix_factory_cases_application_id", "factory_cases", ["application_id"], unique=False
    )
    op.create_index(
        "ix_factory_cases_status_station", "factory_cases", ["status", "station"], unique=False
    )
    op.create_table(
        "factory_steps",
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("station", sa.String(length=16), nullable=False),
        sa.Column("rework", sa.Boolean(), nullable=False),
        sa.Column("staff", sa.String(length=80), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reassigned_from", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["factory_cases.id"],
            name=op.f("fk_factory_steps_case_id_factory_cases"),
        ),
        sa.PrimaryKeyConstraint("case_id", "seq", name=op.f("pk_factory_steps")),
    )
    op.create_index(
        "ix_factory_steps_station_completed_at",
        "factory_steps",
        ["station", "completed_at"],
        unique=False,
    )
    op.create_table(
        "factory_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("case_id", _ID, nullable=True),
        sa.Column("staff", sa.String(length=80), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("station", sa.String(length=16), nullable=True),
        sa.Column("from_state", sa.String(length=80), nullable=True),
        sa.Column("to_state", sa.String(length=80), nullable=True),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_factory_events")),
    )
    op.create_index("ix_factory_events_case_id", "factory_events", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_factory_events_case_id", table_name="factory_events")
    op.drop_table("factory_events")
    op.drop_index("ix_factory_steps_station_completed_at", table_name="factory_steps")
    op.drop_table("factory_steps")
    op.drop_index("ix_factory_cases_status_station", table_name="factory_cases")
    op.drop_index("ix_factory_cases_application_id", table_name="factory_cases")
    op.drop_table("factory_cases")
    op.drop_index("ix_factory_assignments_staff", table_name="factory_assignments")
    op.drop_table("factory_assignments")
    op.drop_table("factory_staff")
