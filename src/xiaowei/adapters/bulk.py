"""Bulk writes for batches: COPY on PostgreSQL, executemany on SQLite, and bulk updates.

A batch writes hundreds of thousands of rows a day; one round trip per row would dominate the
end of day. Every path stays inside the caller's transaction.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
    # The columns that are the same on every row are literals, not parameters: binding them
    # row by row took about a third of the insert's time.
    constants = {
        "value_date": f"'{day.isoformat()}'",
        "booking_date": f"'{day.isoformat()}'",
        "principal_fen": "0",
        "fee_fen": "0",
        "credit_fen": "0",
        "recovered_fen": "0",
        "memo": "''",
    }
    values = ", ".join(constants.get(column, "?") for column in ENTRY_COLUMNS)
    rows = frame.select(c for c in ENTRY_COLUMNS if c not in constants).rows()
    conn.exec_driver_sql(
        f"INSERT INTO ledger_entries ({', '.join(ENTRY_COLUMNS)}) VALUES ({values})", rows
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


def update_rows(
    conn: Connection, table: str, frame: pl.DataFrame, *, key: Sequence[str], assignments: str
) -> None:
    """``UPDATE table SET assignments`` for every row of ``frame``, matched on the ``key`` columns.

    In ``assignments``, ``{column}`` stands for the frame's value of ``column`` and bare names
    are the table's columns (they must not be names of the frame's columns), e.g.
    ``"balance = balance + {delta}"``.

    PostgreSQL: the frame is loaded into a temporary table with COPY and joined in one UPDATE,
    planned as a nested loop on the table's primary key (hash and merge joins are turned off for
    that statement only): a hash or merge join would read the whole table, or the whole key
    range, for a few rows in twenty. SQLite: one UPDATE per row by primary key with
    executemany, twice as fast there as a join with a temporary table.
    """
    if frame.height == 0:
        return
    where = " AND ".join(f"{table}.{k} = {{{k}}}" for k in key)
    if conn.dialect.name != "postgresql":
        params = {column: f"?{i}" for i, column in enumerate(frame.columns, start=1)}
        conn.exec_driver_sql(
            f"UPDATE {table} SET {assignments.format(**params)} WHERE {where.format(**params)}",
            frame.rows(),
        )
        return
    name = f"upd_{table}"
    types = ", ".join(
        f"{column} {'TEXT' if dtype == pl.String else 'BIGINT'}"
        for column, dtype in frame.schema.items()
    )
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({types})")
    _copy(conn, name, frame)
    columns = {column: f"t.{column}" for column in frame.columns}
    with local_settings(conn, enable_hashjoin="off", enable_mergejoin="off"):
        conn.exec_driver_sql(
            f"UPDATE {table} SET {assignments.format(**columns)} "
            f"FROM {name} AS t WHERE {where.format(**columns)}"
        )
    conn.exec_driver_sql(f"DROP TABLE {name}")


@contextmanager
def local_settings(conn: Connection, **settings: str) -> Iterator[None]:
    """PostgreSQL settings (planner switches, ``jit``) for the statements run inside the block.

    Set with ``SET LOCAL``, so they never outlive the transaction, and put back at the end of
    the block; on an error the rollback undoes them. A no-op on other databases.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    saved = {
        name: conn.exec_driver_sql("SELECT current_setting(%s)", (name,)).scalar()
        for name in settings
    }
    for name, value in settings.items():
        conn.exec_driver_sql("SELECT set_config(%s, %s, true)", (name, value))
    yield
    for name, previous in saved.items():
        conn.exec_driver_sql("SELECT set_config(%s, %s, true)", (name, previous))
