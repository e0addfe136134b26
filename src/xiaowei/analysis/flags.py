"""Flags with evidence (风险提示及依据): what an analysis found, and the rows that show it.

Every analysis that judges something returns :class:`Flag` objects: a stable ``code`` (for
policy rules and tests), a ``severity``, a readable ``message`` and the ``evidence`` — the row
numbers of the input file (statement rows, counted from 1 as a spreadsheet shows them), the
report account ids or the balance-sheet lines that raised it — so an analyst can see why.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    """How much a flag weighs (提示级别): info 提示, warning 关注, critical 重大."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Flag(BaseModel):
    """One finding of an analysis, with the evidence behind it."""

    model_config = ConfigDict(frozen=True)

    code: str = Field(description="stable identifier, e.g. round_tripping, hidden_debt")
    severity: Severity
    message: str = Field(description="one readable sentence, English with Chinese terms")
    transactions: tuple[int, ...] = Field(
        default=(), description="row numbers in the input statement file that raised it"
    )
    evidence: dict[str, Any] = Field(
        default_factory=dict, description="other evidence: account ids, lines, amounts"
    )

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "transactions": list(self.transactions),
            **({"evidence": self.evidence} if self.evidence else {}),
        }
