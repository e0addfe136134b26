"""The unit of work (工作单元): one transaction around one use case.

A handler opens it, changes aggregates through its repositories and calls ``commit()`` once; an
exception or a missing commit rolls everything back, so a disbursement and its ledger entries,
or a repayment and its allocation, are written together or not at all.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, RootTransaction

from xiaowei.adapters.repository import LoanRepository, ProductRepository


class UnitOfWork:
    conn: Connection
    products: ProductRepository
    loans: LoanRepository

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._tx: RootTransaction | None = None

    def __enter__(self) -> Self:
        self.conn = self.engine.connect()
        self._tx = self.conn.begin()
        self.products = ProductRepository(self.conn)
        self.loans = LoanRepository(self.conn, self.products)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                self._tx.rollback()
        finally:
            self.conn.close()

    def commit(self) -> None:
        assert self._tx is not None
        self._tx.commit()
        self._tx = None
