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

# --------------------------------------------------------------------------- committee (issue 6)
# The credit committee (信贷审批委员会): members, cases (上会项目), the attendance of each meeting
# (a snapshot of the committee's composition), recusals (回避), votes, and the append-only
# audit trail; migration 0004_committee. Money in fen, the rate in ppm.
committee_members = Table(
    "committee_members",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("role", String(12), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("added_by", String(80), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("deactivated_by", String(80), nullable=True),
    Column("deactivated_at", DateTime(timezone=True), nullable=True),
)

committee_cases = Table(
    "committee_cases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("application_id", String(64), nullable=False),
    Column("borrower", String(200), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("term_months", Integer, nullable=False),
    Column("rate_ppm", Integer, nullable=False),
    Column("method", String(24), nullable=False),
    Column("guarantee", Text, nullable=False, default=""),
    Column("investigated_by", String(80), nullable=False),
    Column("referred_by", String(80), nullable=False),
    Column("memo_path", Text, nullable=True),
    Column("memo_sha256", String(64), nullable=True),
    Column("decision_id", Id, nullable=True),  # the automated decision record, if any
    Column("status", String(12), nullable=False),
    Column("opened_by", String(80), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("meeting_date", Date, nullable=True),
    Column("rule", JSON, nullable=True),
    Column("resolution", String(12), nullable=True),
    Column("conditions", JSON, nullable=True),
    Column("tally", JSON, nullable=True),
    Column("decided_by", String(80), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Index("ix_committee_cases_application_id", "application_id"),
    Index("ix_committee_cases_status", "status"),
)

committee_attendance = Table(
    "committee_attendance",
    metadata,
    Column("case_id", Id, ForeignKey("committee_cases.id"), primary_key=True),
    Column("member", String(80), primary_key=True),
    Column("seat", Integer, nullable=False),
    Column("role", String(12), nullable=False),
    Column("present", Boolean, nullable=False),
)

committee_recusals = Table(
    "committee_recusals",
    metadata,
    Column("case_id", Id, ForeignKey("committee_cases.id"), primary_key=True),
    Column("member", String(80), primary_key=True),
    Column("kind", String(12), nullable=False),
    Column("reason", Text, nullable=False),
    Column("by", String(80), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

committee_votes = Table(
    "committee_votes",
    metadata,
    Column("case_id", Id, ForeignKey("committee_cases.id"), primary_key=True),
    Column("member", String(80), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("choice", String(12), nullable=False),
    Column("opinion", Text, nullable=False),
    Column("conditions", Text, nullable=False, default=""),
    Column("at", DateTime(timezone=True), nullable=False),
)

committee_events = Table(
    "committee_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, nullable=True),
    Column("member", String(80), nullable=True),
    Column("action", String(20), nullable=False),
    Column("from_status", String(12), nullable=True),
    Column("to_status", String(12), nullable=True),
    Column("by", String(80), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Index("ix_committee_events_case_id", "case_id"),
)

# ----------------------------------------------------------------------- credit factory (issue 6)
# The credit factory (信贷工厂): staff, their station assignments as history (valid_from
# inclusive, valid_to exclusive; job rotation 轮岗 appends rows), cases (进件), one row per
# visit of a case to a station (工序: queued, claimed, completed), and the append-only audit
# trail; migration 0005_factory. Money in fen.
factory_staff = Table(
    "factory_staff",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("created_by", String(80), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

factory_assignments = Table(
    "factory_assignments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("staff", String(80), ForeignKey("factory_staff.name"), nullable=False),
    Column("station", String(16), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=True),
    Column("created_by", String(80), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_factory_assignments_staff", "staff", "valid_from"),
)

factory_cases = Table(
    "factory_cases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("application_id", String(64), nullable=False),
    Column("borrower", String(200), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("term_months", Integer, nullable=False),
    Column("decision_id", Id, nullable=True),  # the automated decision record, if any
    Column("status", String(12), nullable=False),
    Column("station", String(16), nullable=True),  # where an open case is
    Column("opened_by", String(80), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Index("ix_factory_cases_application_id", "application_id"),
    Index("ix_factory_cases_status_station", "status", "station"),
)

factory_steps = Table(
    "factory_steps",
    metadata,
    Column("case_id", Id, ForeignKey("factory_cases.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("station", String(16), nullable=False),
    Column("rework", Boolean, nullable=False),
    Column("staff", String(80), nullable=True),
    Column("enqueued_at", DateTime(timezone=True), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("outcome", String(12), nullable=True),
    Column("note", Text, nullable=False, default=""),
    Column("reassigned_from", JSON, nullable=False),  # earlier holders, in order
    Index("ix_factory_steps_station_completed_at", "station", "completed_at"),
)

factory_events = Table(
    "factory_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, nullable=True),
    Column("staff", String(80), nullable=True),  # the person the event is about, if any
    Column("action", String(20), nullable=False),
    Column("station", String(16), nullable=True),
    Column("from_state", String(80), nullable=True),
    Column("to_state", String(80), nullable=True),
    Column("by", String(80), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Index("ix_factory_events_case_id", "case_id"),
)

# --------------------------------------------------------------------------- decisions (issue 6)
# Strategy versions (审批策略版本), automated decision records (自动审批决策记录) and their
# replays; migration 0003_decisions. A record is append-only: a re-decision is a new row.
strategy_versions = Table(
    "strategy_versions",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("product_code", String(40), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", Text, nullable=False),  # the strategy document, canonical JSON
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(80), nullable=False),
)

decision_records = Table(
    "decision_records",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("application_id", String(64), nullable=False),
    Column("application_sha256", String(64), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(80), nullable=False),
    Column("experiment", String(40), nullable=True),
    Column("arm", String(40), nullable=True),
    Column("acted", Boolean, nullable=False),  # False: a shadow (challenger not assigned)
    Column("action", String(12), nullable=False),
    Column("strategy_code", String(40), nullable=False),
    Column("strategy_version", Integer, nullable=False),
    Column("strategy_sha256", String(64), nullable=False),
    Column("policy_code", String(40), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("policy_sha256", String(64), nullable=False),
    Column("model_name", String(80), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("model_sha256", String(64), nullable=False),
    Column("model_path", Text, nullable=False),
    Column("product_code", String(40), nullable=False),
    Column("product_version", Integer, nullable=False),
    Column("score", Integer, nullable=False),
    Column("pd", Float, nullable=False),
    Column("grade", String(12), nullable=False),
    Column("limit_fen", BigInteger, nullable=True),
    Column("amount_fen", BigInteger, nullable=True),
    Column("rate_ppm", Integer, nullable=True),
    Column("term_months", Integer, nullable=True),
    Column("method", String(24), nullable=True),
    Column("application", Text, nullable=False),  # the application document, canonical JSON
    Column("record", Text, nullable=False),  # the decision record, canonical JSON
    Column("result_sha256", String(64), nullable=False),
    Column("elapsed_us", Float, nullable=False),
    Index("ix_decision_records_application", "application_id", "decided_at"),
)

decision_replays = Table(
    "decision_replays",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("decision_id", Id, ForeignKey("decision_records.id"), nullable=False),
    Column("replayed_at", DateTime(timezone=True), nullable=False),
    Column("replayed_by", String(80), nullable=False),
    Column("matched", Boolean, nullable=False),
    Column("result_sha256", String(64), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Index("ix_decision_replays_decision", "decision_id"),
)

# Routing table versions (融合路由表版本): content-addressed, as strategy versions.
routing_versions = Table(
    "routing_versions",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("content", Text, nullable=False),  # the JDM graph, canonical JSON
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(80), nullable=False),
)

# The approval path chosen for an acted decision (融合路由) and the cases it opened.
decision_routes = Table(
    "decision_routes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("decision_id", Id, ForeignKey("decision_records.id"), nullable=False, unique=True),
    Column("application_id", String(64), nullable=False),
    Column("route", String(24), nullable=False),
    Column("rule", String(40), nullable=False),
    Column("table_code", String(40), nullable=False),
    Column("table_version", Integer, nullable=False),
    Column("table_sha256", String(64), nullable=False),
    Column("choice", Text, nullable=False),  # the RouteChoice, canonical JSON
    Column("factory_case_id", Id, nullable=True),
    Column("committee_case_id", Id, nullable=True),
    Column("routed_at", DateTime(timezone=True), nullable=False),
    Column("routed_by", String(80), nullable=False),
)
