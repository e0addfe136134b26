"""IPC investigation file (调查报表) in a documented JSON layout: read, write, turn into frames.

The loan officer of an IPC-style lender rebuilds a micro business's accounts on the visit: two
balance sheets (资产负债表, one at the equity check point 权益检验原始点 and one now), a monthly
income statement (损益表), the main products with their purchase and sale prices (产品毛利表)
and the inputs of the equity cross-check (权益交叉检验: period profit 期间利润, injections 注资,
withdrawals 提款, appreciation 升值, depreciation 折旧). Research notes
``shared/research/credit_analysis_methods.md`` §1 describe the method and its sources (the
"wd" microloan system's ``OperationUtil.java`` and zhuyuanyan/RemoteCreditSystem
``models/credit_data/sc_*``). This module reads one such file, checks it strictly and gives
the frames :mod:`xiaowei.analysis.financials` takes; it does no analysis itself.

Layout ``xiaowei.ipc/1.0`` (one JSON object; money is integer fen, dates ISO ``YYYY-MM-DD``;
unknown keys are refused)::

    {
      "layout": "xiaowei.ipc/1.0",
      "business_id": 17,                  # integer ≥ 1
      "industry": "trade",                # an industry code of the financial norms
      "employees": 3,                     # integer ≥ 0
      "balance_sheets": [                 # exactly two: one "check_point", one "current"
        {"kind": "check_point", "as_of": "2024-05-31",
         "cash_fen": 0, "bank_deposits_fen": 0, "receivables_fen": 0, "prepayments_fen": 0,
         "inventory_fen": 0, "equipment_fen": 0, "vehicles_fen": 0, "property_fen": 0,
         "prepaid_rent_fen": 0, "other_operating_assets_fen": 0, "household_assets_fen": 0,
         "payables_fen": 0, "advance_receipts_fen": 0, "short_term_loans_fen": 0,
         "long_term_loans_fen": 0, "private_loans_fen": 0, "other_liabilities_fen": 0,
         "total_assets_fen": 0, "total_liabilities_fen": 0, "equity_fen": 0},   # totals optional
        {"kind": "current", ...}
      ],
      "income_monthly": [                 # one object per month (first of the month), ≥ 1
        {"month": "2024-03-01", "sales_declared_fen": 0, "cost_of_goods_fen": 0,
         "gross_profit_fen": 0, "rent_fen": 0, "wages_fen": 0, "utilities_fen": 0,
         "taxes_fen": 0, "other_costs_fen": 0, "net_profit_fen": 0,
         "household_expenses_fen": 0, "disposable_income_fen": 0}
      ],
      "products": [                       # ≥ 1; sales shares sum to 1
        {"product": "建材五金", "purchase_price_fen": 6213, "sale_price_fen": 8106,
         "sales_share": 0.3042}
      ],
      "equity_inputs": {"period_start": "2024-05-31", "period_end": "2025-03-02", "months": 9,
                        "period_profit_fen": 0, "injections_fen": 0, "withdrawals_fen": 0,
                        "appreciation_fen": 0, "depreciation_fen": 0}
    }

Checks (each error is an :class:`~xiaowei.core.errors.InvalidInput` whose field names the
section, index and key, e.g. ``balance_sheets[1].cash_fen``): types are strict (no numbers in
strings, no floats for fen), amounts are non-negative except the profits (gross profit, net
profit, disposable income, period profit may be negative), stated totals equal their lines
(assets, liabilities, equity = assets − liabilities), the income lines add up (gross = sales −
cost; net = gross − rent − wages − utilities − taxes − other; disposable = net − household),
months are unique. Sales shares summing to 1 is checked by the analysis.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xiaowei.analysis.financials import (
    ASSET_COLUMNS,
    EQUITY_INPUT_COLUMNS,
    INCOME_COLUMNS,
    LIABILITY_COLUMNS,
)
from xiaowei.core.errors import InvalidInput

LAYOUT = "xiaowei.ipc/1.0"

_ASSETS = ASSET_COLUMNS
_LIABILITIES = LIABILITY_COLUMNS
_INCOME = INCOME_COLUMNS
_EQUITY = EQUITY_INPUT_COLUMNS

_STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)


class IpcBalanceSheet(BaseModel):
    """One reconstructed balance sheet (资产负债表), integer fen, lines non-negative."""

    model_config = _STRICT

    kind: Literal["check_point", "current"]
    as_of: date
    cash_fen: int = Field(ge=0, description="现金")
    bank_deposits_fen: int = Field(ge=0, description="银行存款")
    receivables_fen: int = Field(ge=0, description="应收账款")
    prepayments_fen: int = Field(ge=0, description="预付账款")
    inventory_fen: int = Field(ge=0, description="存货")
    equipment_fen: int = Field(ge=0, description="设备")
    vehicles_fen: int = Field(ge=0, description="车辆")
    property_fen: int = Field(ge=0, description="房产")
    prepaid_rent_fen: int = Field(ge=0, description="待摊租金")
    other_operating_assets_fen: int = Field(ge=0, description="其他经营资产")
    household_assets_fen: int = Field(ge=0, description="家庭资产")
    payables_fen: int = Field(ge=0, description="应付账款")
    advance_receipts_fen: int = Field(ge=0, description="预收账款")
    short_term_loans_fen: int = Field(ge=0, description="短期借款")
    long_term_loans_fen: int = Field(ge=0, description="长期借款")
    private_loans_fen: int = Field(ge=0, description="民间借贷")
    other_liabilities_fen: int = Field(ge=0, description="其他负债")
    total_assets_fen: int | None = Field(default=None, description="总资产 (checked)")
    total_liabilities_fen: int | None = Field(default=None, description="总负债 (checked)")
    equity_fen: int | None = Field(default=None, description="权益 (checked)")


class IpcIncomeMonth(BaseModel):
    """One month of the income statement (损益表); profits may be negative."""

    model_config = _STRICT

    month: date
    sales_declared_fen: int = Field(ge=0, description="销售额")
    cost_of_goods_fen: int = Field(ge=0, description="销售成本")
    gross_profit_fen: int = Field(description="毛利")
    rent_fen: int = Field(ge=0, description="租金")
    wages_fen: int = Field(ge=0, description="工资")
    utilities_fen: int = Field(ge=0, description="水电费")
    taxes_fen: int = Field(ge=0, description="税费")
    other_costs_fen: int = Field(ge=0, description="其他费用")
    net_profit_fen: int = Field(description="净利润")
    household_expenses_fen: int = Field(ge=0, description="家庭开支")
    disposable_income_fen: int = Field(description="月可支配收入")


class IpcProduct(BaseModel):
    """One main product (主营产品): purchase 进价 and sale price 售价, sales share 销售占比."""

    model_config = _STRICT

    product: str = Field(min_length=1)
    purchase_price_fen: int = Field(ge=0)
    sale_price_fen: int = Field(gt=0)
    sales_share: float = Field(ge=0, le=1)


class IpcEquityInputs(BaseModel):
    """Inputs of the equity cross-check (权益交叉检验) over the period since the check point."""

    model_config = _STRICT

    period_start: date
    period_end: date
    months: int = Field(ge=1)
    period_profit_fen: int = Field(description="期间利润 (may be negative)")
    injections_fen: int = Field(ge=0, description="注资")
    withdrawals_fen: int = Field(ge=0, description="提款")
    appreciation_fen: int = Field(ge=0, description="升值")
    depreciation_fen: int = Field(ge=0, description="折旧")


class IpcFile(BaseModel):
    """An IPC investigation file (调查报表) of one business, layout ``xiaowei.ipc/1.0``."""

    model_config = _STRICT

    layout: Literal["xiaowei.ipc/1.0"]
    business_id: int = Field(ge=1)
    industry: str = Field(min_length=1)
    employees: int = Field(ge=0)
    balance_sheets: tuple[IpcBalanceSheet, ...] = Field(min_length=2, max_length=2)
    income_monthly: tuple[IpcIncomeMonth, ...] = Field(min_length=1)
    products: tuple[IpcProduct, ...] = Field(min_length=1)
    equity_inputs: IpcEquityInputs


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "file"


def _check_identities(ipc: IpcFile) -> None:
    kinds = [s.kind for s in ipc.balance_sheets]
    if sorted(kinds) != ["check_point", "current"]:
        raise InvalidInput(
            "balance_sheets", f"need one 'check_point' and one 'current' sheet, got {kinds}"
        )
    for i, sheet in enumerate(ipc.balance_sheets):
        assets = sum(getattr(sheet, c) for c in _ASSETS)
        liabilities = sum(getattr(sheet, c) for c in _LIABILITIES)
        for name, computed in (
            ("total_assets_fen", assets),
            ("total_liabilities_fen", liabilities),
            ("equity_fen", assets - liabilities),
        ):
            stated = getattr(sheet, name)
            if stated is not None and stated != computed:
                raise InvalidInput(
                    f"balance_sheets[{i}].{name}",
                    f"stated {stated}, the lines give {computed}",
                )
    seen: set[date] = set()
    for i, m in enumerate(ipc.income_monthly):
        if m.month in seen:
            raise InvalidInput(f"income_monthly[{i}].month", f"{m.month} appears twice")
        seen.add(m.month)
        expected = {
            "gross_profit_fen": m.sales_declared_fen - m.cost_of_goods_fen,
            "net_profit_fen": m.gross_profit_fen
            - m.rent_fen
            - m.wages_fen
            - m.utilities_fen
            - m.taxes_fen
            - m.other_costs_fen,
            "disposable_income_fen": m.net_profit_fen - m.household_expenses_fen,
        }
        for name, value in expected.items():
            stated = getattr(m, name)
            if stated != value:
                raise InvalidInput(
                    f"income_monthly[{i}].{name}", f"stated {stated}, the lines give {value}"
                )


def parse_ipc(doc: Any) -> IpcFile:
    """Check a decoded JSON document against the layout; InvalidInput names the first error."""
    if not isinstance(doc, dict):
        raise InvalidInput("file", "an IPC file is one JSON object")
    try:
        # JSON round trip so strict mode sees JSON types (ISO date strings are dates there).
        ipc = IpcFile.model_validate_json(json.dumps(doc), strict=True)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InvalidInput(_loc(tuple(err["loc"])), err["msg"]) from None
    _check_identities(ipc)
    return ipc


def read_ipc_file(path: Path) -> IpcFile:
    """Read and check an IPC file (layout ``xiaowei.ipc/1.0``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("file", f"cannot read {path}: {exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput("file", f"{path} is not JSON: {exc.msg} (line {exc.lineno})") from None
    return parse_ipc(doc)


def write_ipc_file(ipc: IpcFile, path: Path) -> None:
    """Write an IPC file as pretty UTF-8 JSON."""
    data = json.dumps(ipc.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput("out", f"cannot write {path}: {exc.strerror or exc}") from None


def ipc_from_frames(
    *,
    business_id: int,
    industry: str,
    employees: int,
    balance_sheets: pl.DataFrame,
    income_monthly: pl.DataFrame,
    products: pl.DataFrame,
    equity_inputs: pl.DataFrame,
) -> IpcFile:
    """Build an IPC file from one business's rows of the ``financials/*`` tables (the columns
    of :func:`ipc_frames`' output, plus ``business_id``, which is dropped)."""

    def rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
        part = frame.filter(pl.col("business_id") == business_id).drop("business_id")
        return [dict(r) for r in part.iter_rows(named=True)]

    equity = rows(equity_inputs)
    if len(equity) != 1:
        raise InvalidInput("equity_inputs", f"business {business_id}: {len(equity)} rows, not 1")
    doc = {
        "layout": LAYOUT,
        "business_id": business_id,
        "industry": industry,
        "employees": employees,
        "balance_sheets": sorted(rows(balance_sheets), key=lambda r: r["kind"]),
        "income_monthly": sorted(rows(income_monthly), key=lambda r: r["month"]),
        "products": rows(products),
        "equity_inputs": equity[0],
    }
    return parse_ipc(json.loads(json.dumps(doc, default=str)))


def ipc_frames(
    ipc: IpcFile,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``(balance_sheets, income_monthly, products, equity_inputs)`` frames keyed by
    ``business_id``, in the shapes :mod:`xiaowei.analysis.financials` takes (Int64 fen,
    Date months, Float64 shares)."""
    bid = ipc.business_id
    sheet_schema: dict[str, Any] = {"business_id": pl.Int64, "as_of": pl.Date, "kind": pl.String}
    sheet_schema |= dict.fromkeys(
        (*_ASSETS, *_LIABILITIES, "total_assets_fen", "total_liabilities_fen", "equity_fen"),
        pl.Int64,
    )
    sheets = pl.DataFrame(
        [{"business_id": bid, **s.model_dump()} for s in ipc.balance_sheets],
        schema=sheet_schema,
    )
    # Totals left out of the file are derived by the analysis, not compared with null.
    sheets = sheets.drop(
        [
            c
            for c in ("total_assets_fen", "total_liabilities_fen", "equity_fen")
            if sheets[c].null_count()
        ]
    )
    income = pl.DataFrame(
        [{"business_id": bid, **m.model_dump()} for m in ipc.income_monthly],
        schema={"business_id": pl.Int64, "month": pl.Date} | dict.fromkeys(_INCOME, pl.Int64),
    )
    products = pl.DataFrame(
        [{"business_id": bid, **p.model_dump()} for p in ipc.products],
        schema={
            "business_id": pl.Int64,
            "product": pl.String,
            "purchase_price_fen": pl.Int64,
            "sale_price_fen": pl.Int64,
            "sales_share": pl.Float64,
        },
    )
    equity = pl.DataFrame(
        [{"business_id": bid, **ipc.equity_inputs.model_dump()}],
        schema={
            "business_id": pl.Int64,
            "period_start": pl.Date,
            "period_end": pl.Date,
            "months": pl.Int64,
        }
        | dict.fromkeys(_EQUITY, pl.Int64),
    )
    return sheets, income, products, equity
