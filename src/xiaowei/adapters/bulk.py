"""Bulk writes for batches: COPY on PostgreSQL, executemany on SQLite, and temp-table updates.

A batch writes hundreds of thousands of rows a day; one statement per row would dominate the
end of day. Both paths stay inside the caller's transaction.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

import polars as pl
from sqlalchemy import Connection

ENTRY_COLUMNS = (
    "loan_id",
    "key",
    "line",
    "entry_type",
    "value_date",
    "booking_date",
    "installment",
    "principal_fen",
    "interest_fen",
    "penalty_fen",
    "compound_fen",
    "fee_fen",
    "credit_fen",
    "recovered_fen",
    "memo",
)


def _entry_frame(entries: pl.DataFrame, day: date) -> pl.DataFrame:
    zero = pl.lit(0, pl.Int64)
    return entries.select(
        "loan_id",
        "key",
        "line",
        "entry_type",
        pl.lit(day).alias("value_date"),
        pl.lit(day).alias("booking_date"),
        "installment",
        zero.alias("principal_fen"),
        "interest_fen",
        "penalty_fen",
        "compound_fen",
        zero.alias("fee_fen"),
        zero.alias("credit_fen"),
        zero.alias("recovered_fen"),
        pl.lit("").alias("memo"),
    )


def bulk_insert_entries(conn: Connection, entries: pl.DataFrame, day: date) -> None:
    """Append end-of-day ledger entries (one row per loan and kind of accrual)."""
    if entries.height == 0:
        return
    frame = _entry_frame(entries, day)
    if conn.dialect.name == "postgresql":
        _copy(conn, "ledger_entries", frame)
        return
    placeholders = ", ".join("?" for _ in ENTRY_COLUMNS)
    rows = frame.with_columns(
        pl.col("value_date").cast(pl.String), pl.col("booking_date").cast(pl.String)
    ).rows()
    conn.exec_driver_sql(
        f"INSERT INTO ledger_entries ({', '.join(ENTRY_COLUMNS)}) VALUES ({placeholders})", rows
    )


def _copy(conn: Connection, table: str, frame: pl.DataFrame) -> None:
    """PostgreSQL COPY … FROM STDIN (CSV) through psycopg 3, in the current transaction."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False)
    columns = ", ".join(frame.columns)
    sql = f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)"
    with raw.cursor() as cur, cur.copy(sql) as copy:  # type: ignore[attr-defined]
        copy.write(buffer.getvalue())


def temp_update(
    conn: Connection, name: str, frame: pl.DataFrame, *, key: Sequence[str], sql: str
) -> None:
    """Load ``frame`` into temporary table ``name`` and run ``sql`` (an UPDATE … FROM it)."""
    if frame.height == 0:
        return
    pg = conn.dialect.name == "postgresql"
    types = []
    for column, dtype in frame.schema.items():
        sql_type = "TEXT" if dtype == pl.String else "BIGINT"
        types.append(f"{column} {sql_type}")
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {name} ({', '.join(types)}, PRIMARY KEY ({', '.join(key)}))"
    )
    if pg:
        _copy(conn, name, frame)
    else:
        placeholders = ", ".join("?" for _ in frame.columns)
        conn.exec_driver_sql(
            f"INSERT INTO {name} ({', '.join(frame.columns)}) VALUES ({placeholders})", frame.rows()
        )
    conn.exec_driver_sql(sql)
    conn.exec_driver_sql(f"DROP TABLE {name}")
