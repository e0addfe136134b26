"""The relational schema (SQLAlchemy 2 Core), the same on SQLite and PostgreSQL.

Money is stored as integer fen (BIGINT): exact on both engines, fast for the vectorised end of
day, and never a float. Rates are integer parts per million (1e-6), the precision of contracts.
The ledger table is append-only; ``installments`` and the balance columns of ``loans`` are a
projection of it that the repository and the end of day keep in step and that can be rebuilt by
replay (``services.loans.rebuild_projection``).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Auto-incrementing 64-bit ids on PostgreSQL; SQLite's rowid alias must be INTEGER.
Id = BigInteger().with_variant(Integer(), "sqlite")

products = Table(
    "products",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("name_zh", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

loans = Table(
    "loans",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("customer_id", String(64), nullable=False, default=""),
    Column("product_code", String(40), nullable=False),
    Column("product_version", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("maturity_date", Date, nullable=False),
    Column("principal_fen", BigInteger, nullable=False),
    Column("rate_ppm", Integer, nullable=False),
    Column("penalty_rate_ppm", Integer, nullable=False),
    Column("compound", Boolean, nullable=False),
    Column("grace_days", Integer, nullable=False),
    Column("day_count", String(10), nullable=False),
    Column("rounding", String(12), nullable=False),
    Column("method", String(24), nullable=False),
    Column("terms", JSON, nullable=False),
    Column("schedule_version", Integer, nullable=False, default=1),
    Column("last_eod", Date, nullable=True),
    Column("dpd", Integer, nullable=False, default=0),
    Column("bucket", String(4), nullable=False, default="M0"),
    Column("principal_outstanding_fen", BigInteger, nullable=False),
    Column("credit_fen", BigInteger, nullable=False, default=0),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_loans_status_last_eod", "status", "last_eod"),
)

installments = Table(
    "installments",
    metadata,
    Column("loan_id", Id, ForeignKey("loans.id"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("start_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("opening_fen", BigInteger, nullable=False),
    Column("principal_fen", BigInteger, nullable=False),
    Column("interest_fen", BigInteger, nullable=False),
    Column("principal_paid_fen", BigInteger, nullable=False, default=0),
    Column("interest_paid_fen", BigInteger, nullable=False, default=0),
    Column("interest_accrued_fen", BigInteger, nullable=False, default=0),
    Column("penalty_fen", BigInteger, nullable=False, default=0),
    Column("compound_fen", BigInteger, nullable=False, default=0),
    Column("fee_fen", BigInteger, nullable=False, default=0),
    Column("penalty_accrued_fen", BigInteger, nullable=False, default=0),
    Column("compound_accrued_fen", BigInteger, nullable=False, default=0),
    Column("settled", Boolean, nullable=False, default=False),
)

schedule_versions = Table(
    "schedule_versions",
    metadata,
    Column("loan_id", Id, ForeignKey("loans.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("effective_date", Date, nullable=False),
    Column("rows", JSON, nullable=False),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("loan_id", Id, ForeignKey("loans.id"), nullable=False),
    Column("key", String(200), nullable=False),
    Column("line", Integer, nullable=False),
    Column("entry_type", String(24), nullable=False),
    Column("value_date", Date, nullable=False),
    Column("booking_date", Date, nullable=False),
    Column("installment", Integer, nullable=False),
    Column("principal_fen", BigInteger, nullable=False, default=0),
    Column("interest_fen", BigInteger, nullable=False, default=0),
    Column("penalty_fen", BigInteger, nullable=False, default=0),
    Column("compound_fen", BigInteger, nullable=False, default=0),
    Column("fee_fen", BigInteger, nullable=False, default=0),
    Column("credit_fen", BigInteger, nullable=False, default=0),
    Column("recovered_fen", BigInteger, nullable=False, default=0),
    Column("reverses", String(220), nullable=True),
    Column("reversed_type", String(24), nullable=True),
    Column("memo", Text, nullable=False, default=""),
    UniqueConstraint("loan_id", "key", "line", name="uq_ledger_entries_loan_key_line"),
    Index("ix_ledger_entries_loan_value_date", "loan_id", "value_date"),
)

delinquency_history = Table(
    "delinquency_history",
    metadata,
    Column("loan_id", Id, ForeignKey("loans.id"), primary_key=True),
    Column("as_of", Date, primary_key=True),
    Column("dpd", Integer, nullable=False),
    Column("bucket", String(4), nullable=False),
)

eod_runs = Table(
    "eod_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("business_date", Date, nullable=False),
    Column("status", String(12), nullable=False),
    Column("loans", Integer, nullable=False, default=0),
    Column("entries", Integer, nullable=False, default=0),
    Column("seconds", Float, nullable=False, default=0.0),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
)

# --------------------------------------------------------------------------- policies (issue 6)
# Credit policy versions (授信政策版本) and their audit trail; migration 0002_policies.
policy_versions = Table(
    "policy_versions",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("product_code", String(40), nullable=False),
    Column("status", String(12), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", Text, nullable=False),  # the JDM graph file, canonical JSON
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(80), nullable=False),
    Column("approved_at", DateTime(timezone=True), nullable=True),
    Column("approved_by", String(80), nullable=True),
    Column("activated_at", DateTime(timezone=True), nullable=True),
    Column("activated_by", String(80), nullable=True),
    Index("ix_policy_versions_product_status", "product_code", "status"),
)

policy_events = Table(
    "policy_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("from_status", String(12), nullable=True),
    Column("to_status", String(12), nullable=False),
    Column("by", String(80), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Index("ix_policy_events_code_version", "code", "version"),
)
