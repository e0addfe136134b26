"""Row helpers the decision-layer stores share (decision_store, committee_store, factory_store):
the id of an inserted row, and the row counts a test reads to prove a refused action wrote
nothing. They run inside the caller's connection (its transaction); nothing is committed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, CursorResult, Table, func, select


def inserted_id(result: CursorResult[Any]) -> int:
    """The integer primary key of the row an ``insert(...)`` just wrote."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def count_rows(conn: Connection, tables: Iterable[Table]) -> dict[str, int]:
    """Rows per table, by table name."""
    return {
        t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in tables
    }
