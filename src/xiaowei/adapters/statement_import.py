"""Bank-statement import (银行流水导入): CSV and XLSX exports into one canonical frame.

A borrower hands in the files their bank's online banking exports (网银导出的交易明细), and each
bank has its own layout and its own mess: title lines (bank, account number 账号, holder 户名,
period 起止日期) before the header, a summary footer (合计 / 期初余额 期末余额 / Total) after the
data, GBK or UTF-8 with or without a BOM, amounts as ``"1,234.56"`` text or as numbers, one
signed amount column or separate debit (借方) and credit (贷方) columns, dates as
``2025-01-31``, ``2025/1/31``, ``20250131``, ``2025年1月31日`` or Excel serial numbers.
:func:`read_statement` reads any of these into the canonical schema below, so that the flows
analysis (交易流水分析) sees one shape whatever the bank.

Method
------
1. **Bytes to a grid of text cells.** XLSX/XLS (by their magic bytes) are read with
   ``polars.read_excel`` (calamine engine) with every cell as text; numbers arrive in their
   shortest round-trip decimal form, datetimes as ``YYYY-MM-DD HH:MM:SS``. CSV text is decoded
   by sniffing (UTF-8 BOM, UTF-16 BOM, strict UTF-8, then GB18030, the superset of GBK) and
   split by the standard ``csv`` reader; the delimiter is the first of
   :attr:`ImportConfig.delimiters` under which a header is found.
2. **Header detection** (表头识别): the first of the first ``header_scan_rows`` rows in which
   at least ``min_header_matches`` cells match the alias table
   (:attr:`ImportConfig.aliases`, Chinese and English names, compared after removing blanks,
   case and a trailing unit such as ``(元)``). Rows above it are title lines, parsed for the
   statement metadata.
3. **Parsing, vectorised in Polars.** Dates through a few regular expressions into
   zero-padded ISO text, then ``str.to_date`` (impossible dates such as 2025-02-30 fail);
   amounts as decimal text to integer fen without ever passing through a float (thousands
   separators checked to be groups of three, ``¥``/``元`` removed, negatives as ``-x``,
   ``(x)`` or ``x-``; an empty cell, ``-`` or ``—`` is empty).
4. **Rows**: blank rows, repeated header rows (page breaks) and rows whose date cell starts
   with a summary keyword (合计, 本页小计, Total …) are dropped; trailing rows with an empty
   date and no amount are notes and dropped; every other row must parse, or the import fails
   naming the row, the column and the value. A CSV whose last data row has no line end is
   taken as truncated and rejected.
5. **Running-balance reconciliation** (余额勾稽): when there is a balance column, each row must
   satisfy ``balance[i] = balance[i-1] + signed_amount[i]`` in time order. The order of the
   file (oldest first or newest first, 倒序) is detected as the one with fewer failures (ties
   broken by the dates). A single tampered balance cell breaks two consecutive checks with
   opposite differences; it is attributed to the first row only. The summary footer is
   checked too: a stated opening balance (期初余额 / Opening Balance) lets the first row be
   checked, and the stated closing balance, debit/credit totals (合计 / Total) and count
   (共N笔) must agree with the rows — the totals are the only check on the first row's amount
   when no opening balance is stated. Mismatches are *reported* in
   :class:`Reconciliation` (the flows analysis raises ``balance_mismatch`` from it); with
   ``strict=True`` they raise :class:`~xiaowei.core.errors.InvalidInput` instead.

Canonical schema (``ImportedStatement.frame``, in time order, oldest first)
----------------------------------------------------------------------------
===================== ========= ===========================================================
column                dtype     meaning
===================== ========= ===========================================================
row                   Int64     1-based number of the transaction among the file's data rows
                                (file order; the evidence row of every flag)
line                  Int64     1-based record (line, or sheet row) number in the file
date                  Date      transaction or booking date (交易日期 / 记账日期)
time                  Time      time of day (交易时间), null when the file has none
direction             String    ``"in"`` (收入, credit 贷方) or ``"out"`` (支出, debit 借方)
amount_fen            Int64     amount in fen, > 0
balance_fen           Int64     balance after the row (余额), null when the file has none
counterparty_name     String    对方户名, null when empty or absent
counterparty_account  String    对方账号, null when empty or absent
memo                  String    摘要 / 用途, null when empty or absent
channel               String    交易渠道, null when empty or absent
===================== ========= ===========================================================

Statement metadata (:class:`StatementMetadata`): bank name, account number, holder and the
period (start, end) from the title lines when present.

Sources: the normalisation fields follow ``shared/research/credit_analysis_methods.md`` §2
("Normalise first": date, amount, direction, balance, counterparty name/account, memo,
channel); the provider-to-intermediate-representation design of deb-sig/double-entry-generator
and the per-bank configuration of monopoly (both cited there) inspired the alias table.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from xiaowei.core.errors import InvalidInput

CANONICAL_COLUMNS: tuple[str, ...] = (
    "row",
    "line",
    "date",
    "time",
    "direction",
    "amount_fen",
    "balance_fen",
    "counterparty_name",
    "counterparty_account",
    "memo",
    "channel",
)

CANONICAL_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "line": pl.Int64(),
    "date": pl.Date(),
    "time": pl.Time(),
    "direction": pl.String(),
    "amount_fen": pl.Int64(),
    "balance_fen": pl.Int64(),
    "counterparty_name": pl.String(),
    "counterparty_account": pl.String(),
    "memo": pl.String(),
    "channel": pl.String(),
}


DEFAULT_ALIASES: dict[str, tuple[str, ...]] = {
    "date": (
        "交易日期",
        "记账日期",
        "日期",
        "交易时间日期",
        "入账日期",
        "transactiondate",
        "date",
        "postingdate",
        "valuedate",
    ),
    "time": ("交易时间", "时间", "time", "transactiontime"),
    "memo": ("摘要", "交易摘要", "用途", "附言", "备注", "description", "memo", "narrative"),
    "debit": (
        "借方发生额",
        "借方金额",
        "支出",
        "支出金额",
        "付款金额",
        "withdrawal",
        "withdrawals",
        "debit",
        "debitamount",
    ),
    "credit": (
        "贷方发生额",
        "贷方金额",
        "收入",
        "收入金额",
        "存入金额",
        "收款金额",
        "deposit",
        "deposits",
        "credit",
        "creditamount",
    ),
    "amount": ("交易金额", "金额", "发生额", "amount", "transactionamount"),
    "balance": ("余额", "账户余额", "交易后余额", "当前余额", "balance", "runningbalance"),
    "counterparty_name": (
        "对方户名",
        "对方名称",
        "对方账户名称",
        "对手户名",
        "收/付方名称",
        "counterparty",
        "counterpartyname",
        "payee/payer",
    ),
    "counterparty_account": ("对方账号", "对方账户", "对手账号", "counterpartyaccount"),
    "channel": ("交易渠道", "渠道", "交易方式", "channel"),
}

DEFAULT_FOOTER_KEYWORDS: tuple[str, ...] = (
    "合计",
    "总计",
    "小计",
    "本页",
    "累计",
    "共",
    "期初余额",
    "期末余额",
    "总笔数",
    "打印",
    "说明",
    "注",
    "total",
    "subtotal",
    "openingbalance",
    "closingbalance",
    "pagetotal",
    "end of statement",
)

DEFAULT_EMPTY_MARKERS: tuple[str, ...] = ("", "-", "--", "—", "——", "－", "/", "无")


class ImportConfig(BaseModel):
    """How tolerant the importer is (导入配置); every default says why."""

    model_config = ConfigDict(frozen=True)

    aliases: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict(DEFAULT_ALIASES),
        description="canonical field → header names (compared lower-case without blanks or a "
        "trailing unit); covers the Chinese banks' and the English exports seen in practice",
    )
    header_scan_rows: int = Field(
        default=40,
        ge=1,
        description="rows searched for the header; title blocks are under ten rows, forty "
        "leaves room for notes",
    )
    min_header_matches: int = Field(
        default=2,
        ge=1,
        description="cells of a row that must match an alias for it to be the header: a "
        "title line may contain one word such as 日期, a header has several",
    )
    delimiters: tuple[str, ...] = Field(
        default=(",", "\t", ";", "|"),
        description="CSV delimiters tried in turn; banks export comma or tab separated text",
    )
    footer_keywords: tuple[str, ...] = Field(
        default=DEFAULT_FOOTER_KEYWORDS,
        description="a row whose date cell starts with one of these (lower-case, no blanks) "
        "is a summary row (合计, 本页小计, Total) and is dropped wherever it is",
    )
    empty_markers: tuple[str, ...] = Field(
        default=DEFAULT_EMPTY_MARKERS,
        description="cell texts meaning 'no amount' in debit/credit columns",
    )
    zero_is_empty: bool = Field(
        default=True,
        description="a 0.00 in the debit or credit column counts as empty: some banks fill "
        "the unused column with zero",
    )
    max_integer_digits: int = Field(
        default=15,
        ge=1,
        le=16,
        description="digits before the decimal point of an amount; 10^15 yuan is beyond any "
        "statement and keeps fen within Int64",
    )
    float_noise_decimals: int = Field(
        default=9,
        ge=3,
        description="XLSX numbers with at least this many decimals are float artefacts of a "
        "bank's own arithmetic (1234.5600000000002) and are rounded to the fen; fewer "
        "non-zero extra decimals (1.005) are an error",
    )
    excel_serial_dates: bool = Field(
        default=True,
        description="read a 5-digit number in the date column as an Excel serial date "
        "(days since 1899-12-30), as XLSX files without a date format store them",
    )
    require_balance_on_every_row: bool = Field(
        default=True,
        description="when the file has a balance column, a data row without a balance is an "
        "error: real exports print the balance on every row, a missing one means damage",
    )
    reject_unterminated_last_row: bool = Field(
        default=True,
        description="a CSV that ends inside a data row (no final line end) is taken as "
        "truncated and rejected rather than read short",
    )
    strict: bool = Field(
        default=False,
        description="raise InvalidInput when the running balance does not reconcile instead "
        "of reporting it; the default reports and lets the caller decide",
    )
    sheet_id: int = Field(default=1, ge=1, description="XLSX sheet read (1 = the first)")
    check_footer: bool = Field(
        default=True,
        description="compare the summary footer (opening/closing balance, debit/credit totals, "
        "共N笔 count) with the rows: the totals are the only check on the first row's amount",
    )
    opening_keywords: tuple[str, ...] = Field(
        default=("期初余额", "上期余额", "openingbalance"),
        description="footer labels of the stated opening balance",
    )
    closing_keywords: tuple[str, ...] = Field(
        default=("期末余额", "本期余额", "closingbalance"),
        description="footer labels of the stated closing balance",
    )
    total_keywords: tuple[str, ...] = Field(
        default=("合计", "总计", "total"),
        description="first-cell labels of the footer row carrying the debit/credit totals "
        "(not 本页小计, a page subtotal)",
    )

    @field_validator("aliases")
    @classmethod
    def _known_fields(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        unknown = set(value) - set(DEFAULT_ALIASES)
        if unknown:
            raise ValueError(
                f"unknown fields {sorted(unknown)}; choose from {sorted(DEFAULT_ALIASES)}"
            )
        return value


DEFAULT_IMPORT_CONFIG = ImportConfig()


@dataclass(frozen=True, slots=True)
class StatementMetadata:
    """Statement-level facts from the title lines (抬头信息), each None when absent."""

    bank_name: str | None = None
    account_no: str | None = None
    holder_name: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Running-balance check (余额勾稽) of a statement, in time order.

    ``mismatches`` are the file rows (``row``) whose balance does not follow from the previous
    balance and the row's amount; ``opening_fen`` is the balance before the first transaction,
    ``closing_fen`` the balance after the last (None without a balance column). The first
    row's balance can only be checked against an opening balance stated in the footer
    (期初余额 / Opening Balance); without one a wrong first balance shows at row 2."""

    ok: bool
    mismatches: list[int]
    opening_fen: int | None
    closing_fen: int | None
    has_balance: bool
    checked_rows: int
    footer_mismatches: list[str] = field(default_factory=list)
    """Disagreements with the summary footer (stated opening/closing balance, totals, count)."""


@dataclass(frozen=True, slots=True)
class ImportedStatement:
    """A statement read into the canonical schema (see the module docstring)."""

    frame: pl.DataFrame
    metadata: StatementMetadata
    reconciliation: Reconciliation
    layout: Literal["debit_credit", "signed"]
    order: Literal["oldest_first", "newest_first"]
    source: str
    columns: dict[str, str] = field(default_factory=dict)
    header_line: int = 0
    encoding: str | None = None


# --- reading bytes into a grid of text cells -------------------------------------------------


def _norm_header(text: str) -> str:
    t = re.sub(r"\s+", "", text).lower()
    t = re.sub(r"[(（\[【][^)）\]】]*[)）\]】]$", "", t)  # trailing unit: (元) (RMB) [CNY]
    return t.rstrip(":：")


def _decode(data: bytes, source: str) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise InvalidInput("file", f"{source}: cannot decode the text as UTF-8, UTF-16 or GBK/GB18030")


def _csv_grid(text: str, delimiter: str) -> pl.DataFrame:
    if "\x00" in text:
        raise InvalidInput("file", "the text contains NUL bytes: not a CSV export")
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise InvalidInput("file", f"cannot split the CSV: {exc}") from exc
    columns = list(itertools.zip_longest(*records, fillvalue=None))
    return pl.DataFrame(
        {f"c{i}": pl.Series(values=col, dtype=pl.String) for i, col in enumerate(columns)},
        schema={f"c{i}": pl.String for i in range(len(columns))},
    )


def _excel_grid(data: bytes, source: str, sheet_id: int) -> pl.DataFrame:
    try:
        grid = pl.read_excel(
            io.BytesIO(data),
            engine="calamine",
            sheet_id=sheet_id,
            has_header=False,
            infer_schema_length=0,
            raise_if_empty=False,
            drop_empty_rows=False,
        )
    except Exception as exc:  # fastexcel raises its own types for damaged workbooks
        raise InvalidInput("file", f"{source}: cannot read the workbook: {exc}") from exc
    return grid.select(
        [pl.col(name).cast(pl.String).alias(f"c{i}") for i, name in enumerate(grid.columns)]
    )


def _clean(grid: pl.DataFrame) -> pl.DataFrame:
    """Trim every cell, unwrap Excel text guards (``="…"``, leading tab), empty → null."""
    cleaned = [
        pl.col(c)
        .str.strip_chars()
        .str.replace(r'^="(.*)"$', "$1")
        .str.strip_chars()
        .replace("", None)
        .alias(c)
        for c in grid.columns
    ]
    return (
        grid.select(cleaned)
        .with_row_index("__line", offset=1)
        .with_columns(pl.col("__line").cast(pl.Int64))
    )


def _find_header(grid: pl.DataFrame, config: ImportConfig) -> tuple[int, dict[str, int]] | None:
    lookup = {_norm_header(a): key for key, names in config.aliases.items() for a in names}
    cells = [c for c in grid.columns if c != "__line"]
    head = grid.head(config.header_scan_rows).select(cells).rows()
    for index, values in enumerate(head):
        mapping: dict[str, int] = {}
        for col, value in enumerate(values):
            if value is None:
                continue
            key = lookup.get(_norm_header(value))
            if key is not None and key not in mapping:
                mapping[key] = col
        if len(mapping) >= config.min_header_matches:
            return index, mapping
    return None


# --- metadata from the title lines -------------------------------------------------------------

_META_KEYS: dict[str, str] = {
    "账号": "account_no",
    "卡号": "account_no",
    "账户": "account_no",
    "客户账号": "account_no",
    "accountno.": "account_no",
    "accountno": "account_no",
    "accountnumber": "account_no",
    "户名": "holder_name",
    "账户名称": "holder_name",
    "客户名称": "holder_name",
    "accountname": "holder_name",
    "name": "holder_name",
    "开户行": "bank_name",
    "开户银行": "bank_name",
    "bank": "bank_name",
    "起止日期": "period",
    "查询期间": "period",
    "交易期间": "period",
    "period": "period",
    "起始日期": "period_start",
    "开始日期": "period_start",
    "from": "period_start",
    "截止日期": "period_end",
    "结束日期": "period_end",
    "to": "period_end",
    "币种": "currency",
    "currency": "currency",
}


def _parse_metadata(title: list[tuple[str | None, ...]]) -> StatementMetadata:
    found: dict[str, str] = {}
    bank_from_title: str | None = None
    for values in title:
        cells = [v for v in values if v]
        for i, cell in enumerate(cells):
            pair = re.match(r"^([^:：]*)[:：](.*)$", cell)
            key, value = (pair.group(1), pair.group(2)) if pair else (cell, "")
            meta = _META_KEYS.get(_norm_header(key))
            if meta is None:
                if bank_from_title is None:
                    m = re.match(r"^(.*?银行)", cell)
                    if m:
                        bank_from_title = m.group(1)
                continue
            if not value.strip() and i + 1 < len(cells):
                value = cells[i + 1]
            if value.strip():
                found.setdefault(meta, value.strip())
    start = _scalar_date(found.get("period_start"))
    end = _scalar_date(found.get("period_end"))
    if "period" in found:
        pieces = re.split(r"\s*(?:至|到|to|~|～|—|--)\s*", found["period"], maxsplit=1)
        if len(pieces) == 2:
            start = start or _scalar_date(pieces[0])
            end = end or _scalar_date(pieces[1])
    return StatementMetadata(
        bank_name=found.get("bank_name", bank_from_title),
        account_no=found.get("account_no"),
        holder_name=found.get("holder_name"),
        period_start=start,
        period_end=end,
        currency=found.get("currency"),
    )


def _scalar_date(text: str | None) -> date | None:
    if not text:
        return None
    parsed = pl.select(_parse_date(pl.lit(text, dtype=pl.String), serial=False)).item()
    return parsed["date"] if parsed else None


# --- cell parsers (Polars expressions) --------------------------------------------------------

_DATE_YMD = (
    r"^(?P<y>[0-9]{4})\s*[-/.年]\s*(?P<m>[0-9]{1,2})\s*[-/.月]\s*(?P<d>[0-9]{1,2})\s*日?"
    r"(?:[ T]+(?P<H>[0-9]{1,2})[:：](?P<M>[0-9]{2})(?:[:：](?P<S>[0-9]{2}))?(?:\.[0-9]+)?)?$"
)
_DATE_COMPACT = (
    r"^(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})"
    r"(?:\s*(?P<H>[0-9]{2}):?(?P<M>[0-9]{2}):?(?P<S>[0-9]{2}))?$"
)
_SERIAL = r"^(?P<days>[0-9]{5})(?:\.(?P<frac>[0-9]+))?$"
_TIME = r"^(?P<H>[0-9]{1,2})[:：]?(?P<M>[0-9]{2})(?:[:：]?(?P<S>[0-9]{2}))?(?:\.[0-9]+)?$"


def _pad(expr: pl.Expr, width: int) -> pl.Expr:
    return expr.str.zfill(width)


def _ymd(groups: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    iso = pl.concat_str(
        [
            groups.struct.field("y"),
            pl.lit("-"),
            _pad(groups.struct.field("m"), 2),
            pl.lit("-"),
            _pad(groups.struct.field("d"), 2),
        ]
    ).str.to_date("%Y-%m-%d", strict=False)
    hms = pl.concat_str(
        [
            _pad(groups.struct.field("H"), 2),
            pl.lit(":"),
            groups.struct.field("M"),
            pl.lit(":"),
            _pad(groups.struct.field("S").fill_null("00"), 2),
        ]
    ).str.to_time("%H:%M:%S", strict=False)
    return iso, hms


def _parse_date(text: pl.Expr, *, serial: bool) -> pl.Expr:
    """A struct ``{date, time}`` from a date cell; null fields when it does not parse."""
    d1, t1 = _ymd(text.str.extract_groups(_DATE_YMD))
    d2, t2 = _ymd(text.str.extract_groups(_DATE_COMPACT))
    day = pl.coalesce(d1, d2)
    tod = pl.coalesce(t1, t2)
    if serial:
        g = text.str.extract_groups(_SERIAL)
        days = g.struct.field("days").cast(pl.Int64, strict=False)
        frac = pl.concat_str([pl.lit("0."), g.struct.field("frac").fill_null("0")]).cast(
            pl.Float64, strict=False
        )
        seconds = (frac * 86400).round(0).cast(pl.Int64).clip(0, 86399)
        serial_day = (pl.lit(date(1899, 12, 30)) + pl.duration(days=days)).cast(pl.Date)
        serial_time = pl.when(g.struct.field("frac").is_not_null()).then(
            (pl.lit(0, dtype=pl.Int64) + seconds * 1_000_000_000).cast(pl.Time)
        )
        day = pl.coalesce(day, serial_day)
        tod = pl.coalesce(tod, serial_time)
    return pl.struct(day.alias("date"), tod.alias("time"))


def _parse_time(text: pl.Expr) -> pl.Expr:
    g = text.str.extract_groups(_TIME)
    return pl.concat_str(
        [
            _pad(g.struct.field("H"), 2),
            pl.lit(":"),
            g.struct.field("M"),
            pl.lit(":"),
            g.struct.field("S").fill_null("00"),
        ]
    ).str.to_time("%H:%M:%S", strict=False)


_AMOUNT = (
    r"^(?P<lead>[-−+])?(?P<open>[(（])?(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"
    r"(?:\.(?P<dec>[0-9]*))?(?P<close>[)）])?(?P<trail>-)?$"
)


def _parse_amount(text: pl.Expr, config: ImportConfig, *, excel: bool) -> pl.Expr:
    """A struct ``{fen, empty}``: signed integer fen (null when the text is not an amount)
    and whether the cell is empty. Decimal text only: never through a float."""
    stripped = text.str.replace_all(r"[\s¥￥$]|元|RMB|CNY", "")
    empty = text.is_null() | stripped.is_in(list(config.empty_markers))
    g = stripped.str.extract_groups(_AMOUNT)
    lead = g.struct.field("lead")
    has_open = g.struct.field("open").is_not_null()
    has_close = g.struct.field("close").is_not_null()
    minus = lead.is_in(["-", "−"]).fill_null(value=False).cast(pl.Int8)
    negatives = minus + has_open.cast(pl.Int8) + g.struct.field("trail").is_not_null().cast(pl.Int8)
    digits = g.struct.field("int").str.replace_all(",", "")
    dec = g.struct.field("dec").fill_null("")
    extra = dec.str.slice(2)
    noise = (dec.str.len_chars() >= config.float_noise_decimals) if excel else pl.lit(value=False)
    extra_ok = (extra == "") | extra.str.contains(r"^0+$") | noise
    cents = (dec.str.slice(0, 2) + "00").str.slice(0, 2).cast(pl.Int64, strict=False)
    round_up = pl.when(noise & (extra.str.slice(0, 1).cast(pl.Int64, strict=False) >= 5))
    magnitude = digits.cast(pl.Int64, strict=False) * 100 + cents + round_up.then(1).otherwise(0)
    valid = (
        digits.is_not_null()
        & (digits.str.len_chars() <= config.max_integer_digits)
        & (has_open == has_close)
        & (negatives <= 1)
        & ~(lead.is_not_null() & (negatives == 0) & has_open)
        & extra_ok
    )
    fen = pl.when(valid & ~empty).then(
        pl.when(negatives == 1).then(-magnitude).otherwise(magnitude)
    )
    return pl.struct(fen.alias("fen"), empty.alias("empty"))


# --- the import --------------------------------------------------------------------------------


def _fail(source: str, row: int, line: int, column: str, message: str) -> InvalidInput:
    return InvalidInput(column, f"{source}: row {row} (line {line}): {message}")


def _first_bad(frame: pl.DataFrame, mask: pl.Expr, column: str) -> tuple[int, int, str] | None:
    bad = frame.filter(mask).head(1)
    if bad.height == 0:
        return None
    value = bad[column][0]
    return int(bad["__row"][0]), int(bad["__line"][0]), "" if value is None else str(value)


def read_statement(
    path_or_bytes: Path | str | bytes,
    *,
    filename: str | None = None,
    config: ImportConfig = DEFAULT_IMPORT_CONFIG,
) -> ImportedStatement:
    """Read one bank statement export (CSV, XLSX or XLS) into the canonical schema.

    ``path_or_bytes`` is a path or the file's bytes (``filename`` names it in errors and
    chooses the format when the bytes are ambiguous). Raises
    :class:`~xiaowei.core.errors.InvalidInput` naming the file, row, column and value for
    anything it cannot read; an unreconciled running balance is reported in
    ``reconciliation`` (or raised with ``config.strict``)."""
    if isinstance(path_or_bytes, bytes):
        data = path_or_bytes
        source = filename or "<bytes>"
    else:
        path = Path(path_or_bytes)
        source = filename or path.name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInput("file", f"{source}: cannot read: {exc}") from exc
    if not data.strip():
        raise InvalidInput("file", f"{source}: the file is empty")

    excel = data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0"))
    encoding: str | None = None
    if excel:
        grid = _clean(_excel_grid(data, source, config.sheet_id))
        found = _find_header(grid, config)
        terminated = True
    else:
        text, encoding = _decode(data, source)
        terminated = text.endswith(("\n", "\r"))
        found = None
        grids = []
        for delimiter in config.delimiters:
            grids.append(_clean(_csv_grid(text, delimiter)))
            found = _find_header(grids[-1], config)
            if found is not None:
                break
        grid = grids[-1] if found is not None else grids[0]
    if grid.height == 0:
        raise InvalidInput("file", f"{source}: the file has no rows")
    if found is None:
        first_rows = grid.drop("__line").head(config.header_scan_rows).rows()
        cells = list(dict.fromkeys(v for r in first_rows for v in r if v))[:30]
        raise InvalidInput(
            "header",
            f"{source}: no recognisable header row in the first {config.header_scan_rows} "
            f"rows; columns seen: {cells}",
        )
    header_index, mapping = found
    return _import(
        grid,
        header_index,
        mapping,
        source,
        config,
        excel=excel,
        terminated=terminated,
        encoding=encoding,
    )


def _import(
    grid: pl.DataFrame,
    header_index: int,
    mapping: Mapping[str, int],
    source: str,
    config: ImportConfig,
    *,
    excel: bool,
    terminated: bool,
    encoding: str | None,
) -> ImportedStatement:
    header_row = grid.drop("__line").row(header_index)
    headers = {key: str(header_row[col]) for key, col in mapping.items()}
    seen = [str(v) for v in header_row if v]
    if "date" not in mapping:
        raise InvalidInput(
            "header", f"{source}: no date column (交易日期/Date); columns seen: {seen}"
        )
    has_pair = "debit" in mapping and "credit" in mapping
    if not has_pair and "amount" not in mapping:
        raise InvalidInput(
            "header",
            f"{source}: no amount column: need 交易金额/Amount or both 借方/Withdrawal and "
            f"贷方/Deposit; columns seen: {seen}",
        )
    layout: Literal["debit_credit", "signed"] = "debit_credit" if has_pair else "signed"
    metadata = _parse_metadata(grid.head(header_index).drop("__line").rows())

    wanted = ["date", "time", "memo", "balance", "counterparty_name", "counterparty_account"]
    wanted += ["channel", *(("debit", "credit") if has_pair else ("amount",))]
    body = grid.slice(header_index + 1).select(
        pl.col("__line"),
        *[pl.col(f"c{mapping[k]}").alias(k) for k in wanted if k in mapping],
        pl.any_horizontal(pl.all().exclude("__line").is_not_null()).alias("__nonblank"),
    )
    body = body.filter(pl.col("__nonblank")).drop("__nonblank")
    amount_cols = ["debit", "credit"] if has_pair else ["amount"]
    parsed = body.with_columns(
        _parse_date(pl.col("date"), serial=config.excel_serial_dates).alias("__dt"),
        *[_parse_amount(pl.col(c), config, excel=excel).alias(f"__{c}") for c in amount_cols],
    )
    date_key = pl.col("date").str.replace_all(r"\s+", "").str.to_lowercase()
    keyword = pl.lit(value=False)
    for word in config.footer_keywords:
        keyword = keyword | date_key.str.starts_with(re.sub(r"\s+", "", word.lower()))
    repeated_header = pl.col("date") == headers["date"]
    date_ok = pl.col("__dt").struct.field("date").is_not_null()
    no_amount = pl.all_horizontal([pl.col(f"__{c}").struct.field("empty") for c in amount_cols])
    parsed = parsed.with_columns(
        (
            ~date_ok & (keyword.fill_null(value=False) | repeated_header.fill_null(value=False))
        ).alias("__summary")
    )
    last_data = parsed.filter(date_ok).select(pl.col("__line").max()).item()
    trailing_note = (
        (pl.col("__line") > (last_data if last_data is not None else 0))
        & pl.col("date").is_null()
        & no_amount
    )
    data = parsed.filter(~pl.col("__summary") & ~trailing_note)
    if data.height == 0:
        raise InvalidInput("rows", f"{source}: the statement has no transaction rows")
    data = data.with_row_index("__row", offset=1).with_columns(pl.col("__row").cast(pl.Int64))

    if not terminated and config.reject_unterminated_last_row:
        last_line = grid.select(pl.col("__line").max()).item()
        if data["__line"][-1] == last_line:
            raise InvalidInput(
                "file",
                f"{source}: ends inside data row {data.height} without a line end: "
                "the file looks truncated",
            )

    bad = _first_bad(data, ~date_ok, "date")
    if bad:
        raise _fail(source, bad[0], bad[1], headers["date"], f"cannot parse date {bad[2]!r}")

    for c in amount_cols:
        parsed_amount = pl.col(f"__{c}").struct
        bad = _first_bad(
            data, ~parsed_amount.field("empty") & parsed_amount.field("fen").is_null(), c
        )
        if bad:
            raise _fail(source, bad[0], bad[1], headers[c], f"cannot parse amount {bad[2]!r}")

    if has_pair:
        debit = pl.col("__debit").struct.field("fen")
        credit = pl.col("__credit").struct.field("fen")
        if config.zero_is_empty:
            debit = pl.when(debit != 0).then(debit)
            credit = pl.when(credit != 0).then(credit)
        bad = _first_bad(data, debit.is_not_null() & credit.is_not_null(), "debit")
        if bad:
            raise _fail(
                source,
                bad[0],
                bad[1],
                f"{headers['debit']}/{headers['credit']}",
                "both debit and credit are filled",
            )
        signed = pl.coalesce(credit, -debit)
        missing = f"no amount in {headers['debit']} or {headers['credit']}"
        amount_header = f"{headers['debit']}/{headers['credit']}"
    else:
        signed = pl.col("__amount").struct.field("fen")
        missing = f"no amount in {headers['amount']}"
        amount_header = headers["amount"]
    data = data.with_columns(signed.alias("__signed"))
    bad = _first_bad(data, pl.col("__signed").is_null() | (pl.col("__signed") == 0), "__signed")
    if bad:
        raise _fail(source, bad[0], bad[1], amount_header, f"{missing} (or a zero amount)")

    if "balance" in mapping:
        data = data.with_columns(
            _parse_amount(pl.col("balance"), config, excel=excel).alias("__balance")
        )
        bal = pl.col("__balance").struct
        bad = _first_bad(data, ~bal.field("empty") & bal.field("fen").is_null(), "balance")
        if bad:
            raise _fail(
                source, bad[0], bad[1], headers["balance"], f"cannot parse balance {bad[2]!r}"
            )
        if config.require_balance_on_every_row:
            bad = _first_bad(data, bal.field("empty"), "balance")
            if bad:
                raise _fail(source, bad[0], bad[1], headers["balance"], "the balance is empty")
        balance = bal.field("fen")
    else:
        balance = pl.lit(None, dtype=pl.Int64)

    if "time" in mapping:  # HH:MM:SS, or a datetime cell of a workbook
        time = pl.coalesce(
            _parse_time(pl.col("time")),
            _parse_date(pl.col("time"), serial=False).struct.field("time"),
        )
        bad = _first_bad(data, pl.col("time").is_not_null() & time.is_null(), "time")
        if bad:
            raise _fail(source, bad[0], bad[1], headers["time"], f"cannot parse time {bad[2]!r}")
        time = pl.coalesce(time, pl.col("__dt").struct.field("time"))
    else:
        time = pl.col("__dt").struct.field("time")

    def text(key: str) -> pl.Expr:
        return pl.col(key) if key in mapping else pl.lit(None, dtype=pl.String)

    frame = data.select(
        pl.col("__row").alias("row"),
        pl.col("__line").alias("line"),
        pl.col("__dt").struct.field("date").alias("date"),
        time.alias("time"),
        pl.when(pl.col("__signed") < 0)
        .then(pl.lit("out"))
        .otherwise(pl.lit("in"))
        .alias("direction"),
        pl.col("__signed").abs().alias("amount_fen"),
        balance.alias("balance_fen"),
        text("counterparty_name").alias("counterparty_name"),
        text("counterparty_account").alias("counterparty_account"),
        text("memo").alias("memo"),
        text("channel").alias("channel"),
    ).cast(CANONICAL_SCHEMA)  # type: ignore[arg-type]

    order = _detect_order(frame)
    if order == "newest_first":
        frame = frame.reverse()
    footer = (
        _footer(grid, last_data, mapping, config, has_pair=has_pair, excel=excel)
        if config.check_footer
        else _Footer()
    )
    reconciliation = _reconcile(frame, footer.opening)
    problems = _footer_problems(footer, data, frame, reconciliation, has_pair=has_pair)
    if problems:
        reconciliation = dataclasses.replace(reconciliation, ok=False, footer_mismatches=problems)
    if config.strict and not reconciliation.ok:
        shown = ", ".join(str(r) for r in reconciliation.mismatches[:20])
        raise InvalidInput(
            headers.get("balance", "balance"),
            f"{source}: the running balance does not reconcile (rows {shown or 'none'}; "
            f"footer: {'; '.join(problems) or 'agrees'})",
        )
    return ImportedStatement(
        frame=frame,
        metadata=metadata,
        reconciliation=reconciliation,
        layout=layout,
        order=order,
        source=source,
        columns=headers,
        header_line=header_index + 1,
        encoding=encoding,
    )


def _signed() -> pl.Expr:
    return (
        pl.when(pl.col("direction") == "out")
        .then(-pl.col("amount_fen"))
        .otherwise(pl.col("amount_fen"))
    )


def _detect_order(frame: pl.DataFrame) -> Literal["oldest_first", "newest_first"]:
    """Oldest first unless the balances (or, without balances, the dates) say otherwise."""
    if frame.height > 1 and frame["balance_fen"].null_count() == 0:
        before = pl.col("balance_fen") - _signed()
        counts = frame.select(
            (before != pl.col("balance_fen").shift(1)).sum().alias("forward"),
            (before != pl.col("balance_fen").shift(-1)).sum().alias("backward"),
        ).row(0)
        if counts[0] != counts[1]:
            return "oldest_first" if counts[0] < counts[1] else "newest_first"
    dates = frame["date"]
    if frame.height > 1 and dates[0] > dates[-1]:
        return "newest_first"
    return "oldest_first"


@dataclass(frozen=True, slots=True)
class _Footer:
    opening: int | None = None
    closing: int | None = None
    debit_total: int | None = None
    credit_total: int | None = None
    count: int | None = None


def _scalar_fen(text: str, config: ImportConfig, *, excel: bool) -> int | None:
    value = pl.select(_parse_amount(pl.lit(text, dtype=pl.String), config, excel=excel)).item()
    return None if value["fen"] is None else int(value["fen"])


def _footer(
    grid: pl.DataFrame,
    last_data: int,
    mapping: Mapping[str, int],
    config: ImportConfig,
    *,
    has_pair: bool,
    excel: bool,
) -> _Footer:
    """The stated figures of the summary rows after the last data row (a handful of rows)."""
    rows = grid.filter(pl.col("__line") > last_data).drop("__line").rows()
    found: dict[str, int | None] = {}

    def norm(words: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_norm_header(w) for w in words)

    opening_keys, closing_keys = norm(config.opening_keywords), norm(config.closing_keywords)
    for values in rows:
        cells = [v for v in values if v]
        for i, cell in enumerate(cells):
            pair = re.match(r"^([^:：]*)[:：](.*)$", cell)
            key, value = (pair.group(1), pair.group(2)) if pair else (cell, "")
            if not value.strip() and i + 1 < len(cells):
                value = cells[i + 1]
            label = _norm_header(key)
            for name, keys in (("opening", opening_keys), ("closing", closing_keys)):
                if label in keys and name not in found:
                    found[name] = _scalar_fen(value, config, excel=excel)
            count = re.search(r"共\s*([0-9]+)\s*笔", cell)
            if count and "count" not in found:
                found["count"] = int(count.group(1))
        if cells and has_pair and _norm_header(cells[0]).startswith(norm(config.total_keywords)):
            for name, col in (
                ("debit_total", mapping["debit"]),
                ("credit_total", mapping["credit"]),
            ):
                if name not in found and values[col]:
                    found[name] = _scalar_fen(str(values[col]), config, excel=excel)
    return _Footer(**found)


def _footer_problems(
    footer: _Footer,
    data: pl.DataFrame,
    frame: pl.DataFrame,
    reconciliation: Reconciliation,
    *,
    has_pair: bool,
) -> list[str]:
    problems: list[str] = []
    if footer.count is not None and footer.count != frame.height:
        problems.append(f"footer states {footer.count} transactions, the file has {frame.height}")
    closing = reconciliation.closing_fen
    if footer.closing is not None and closing is not None and footer.closing != closing:
        problems.append(f"footer closing balance {footer.closing} fen, last balance {closing} fen")
    if has_pair:
        sums = data.select(
            pl.col("__debit").struct.field("fen").sum().alias("debit"),
            pl.col("__credit").struct.field("fen").sum().alias("credit"),
        ).row(0, named=True)
        for name, stated in (("debit", footer.debit_total), ("credit", footer.credit_total)):
            if stated is not None and stated != int(sums[name] or 0):
                problems.append(f"footer {name} total {stated} fen, rows sum to {sums[name]} fen")
    return problems


def _reconcile(frame: pl.DataFrame, stated_opening: int | None = None) -> Reconciliation:
    """Check ``balance[i] = balance[i-1] + signed[i]`` over a frame in time order; the first
    row is checked against ``stated_opening`` when the footer gives one."""
    if frame.height == 0 or frame["balance_fen"].null_count() > 0:
        return Reconciliation(
            ok=True,
            mismatches=[],
            opening_fen=None,
            closing_fen=None,
            has_balance=False,
            checked_rows=0,
        )
    previous_balance = pl.col("balance_fen").shift(1)
    if stated_opening is not None:
        previous_balance = previous_balance.fill_null(pl.lit(stated_opening, dtype=pl.Int64))
    checked = frame.select(
        pl.col("row"),
        (pl.col("balance_fen") - _signed() - previous_balance).alias("delta"),
    ).with_columns(pl.col("delta").fill_null(0))
    previous = pl.col("delta").shift(1).fill_null(0)
    # a tampered balance cell breaks its own row and the next with opposite deltas: the next
    # row's amount is fine, so it is not reported
    checked = checked.with_columns(
        ((pl.col("delta") != 0) & ~((previous != 0) & (pl.col("delta") == -previous))).alias("bad")
    )
    mismatches = checked.filter(pl.col("bad"))["row"].to_list()
    first = frame.row(0, named=True)
    opening = int(first["balance_fen"]) - (
        -int(first["amount_fen"]) if first["direction"] == "out" else int(first["amount_fen"])
    )
    return Reconciliation(
        ok=not mismatches,
        mismatches=sorted(int(r) for r in mismatches),
        opening_fen=opening,
        closing_fen=int(frame["balance_fen"][-1]),
        has_balance=True,
        checked_rows=frame.height if stated_opening is not None else frame.height - 1,
    )


def read_statements(
    paths: Sequence[Path], *, config: ImportConfig = DEFAULT_IMPORT_CONFIG
) -> list[ImportedStatement]:
    """Read several statements (one per account), each as :func:`read_statement`."""
    return [read_statement(p, config=config) for p in paths]
