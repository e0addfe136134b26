"""credit committee: members, cases, attendance, votes, resolutions, events (issue 6)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "committee_members",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("added_by", sa.String(length=80), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deactivated_by", sa.String(length=80), nullable=True),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_committee_members")),
    )
    op.create_table(
        "committee_cases",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("borrower", sa.String(length=200), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("rate_ppm", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("guarantee", sa.Text(), nullable=False),
        sa.Column("investigated_by", sa.String(length=80), nullable=False),
        sa.Column("referred_by", sa.String(length=80), nullable=False),
        sa.Column("memo_path", sa.Text(), nullable=True),
        sa.Column("memo_sha256", sa.String(length=64), nullable=True),
        sa.Column("decision_id", _ID, nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("opened_by", sa.String(length=80), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=True),
        sa.Column("rule", sa.JSON(), nullable=True),
        sa.Column("resolution", sa.String(length=12), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=True),
        sa.Column("tally", sa.JSON(), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee_cases")),
    )
    op.create_index(
        "ix_committee_cases_application_id", "committee_cases", ["application_id"], unique=False
    )
    op.create_index("ix_committee_cases_status", "committee_cases", ["status"], unique=False)
    op.create_table(
        "committee_attendance",
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("member", sa.String(length=80), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["committee_cases.id"],
            name=op.f("fk_committee_attendance_case_id_committee_cases"),
        ),
        sa.PrimaryKeyConstraint("case_id", "member", name=op.f("pk_committee_attendance")),
    )
    op.create_table(
        "committee_recusals",
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("member", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["committee_cases.id"],
            name=op.f("fk_committee_recusals_case_id_committee_cases"),
        ),
        sa.PrimaryKeyConstraint("case_id", "member", name=op.f("pk_committee_recusals")),
    )
    op.create_table(
        "committee_votes",
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("member", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=12), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["committee_cases.id"],
            name=op.f("fk_committee_votes_case_id_committee_cases"),
        ),
        sa.PrimaryKeyConstraint("case_id", "member", name=op.f("pk_committee_votes")),
    )
    op.create_table(
        "committee_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("case_id", _ID, nullable=True),
        sa.Column("member", sa.String(length=80), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=True),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee_events")),
    )
    op.create_index("ix_committee_events_case_id", "committee_events", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_committee_events_case_id", table_name="committee_events")
    op.drop_table("committee_events")
    op.drop_table("committee_votes")
    op.drop_table("committee_recusals")
    op.drop_table("committee_attendance")
    op.drop_index("ix_committee_cases_status", table_name="committee_cases")
    op.drop_index("ix_committee_cases_application_id", table_name="committee_cases")
    op.drop_table("committee_cases")
    op.drop_table("committee_members")
