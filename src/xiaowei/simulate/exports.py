"""Bank-statement exports (银行流水导出): the CSV and XLSX files a borrower hands in.

Real statements reach a lender as the files a bank's online banking exports, each bank with its
own layout and its own mess; the importers of later issues must read them. Each account of
``statements/accounts`` is written in the layout of its bank (chosen deterministically):

* ``debit_credit`` (中国工商银行, 中国农业银行, 浙江泰隆商业银行, 台州银行): separate debit and
  credit columns, amounts in yuan as ``"1,234.56"`` strings (text cells in XLSX), date and
  time in two columns, the CSV in **GBK** with Windows line ends::

      交易日期,交易时间,摘要,借方发生额,贷方发生额,余额,对方户名,对方账号,交易渠道

* ``signed`` (中国建设银行, 中国邮政储蓄银行, 农村商业银行): one signed amount column (negative
  = out), dates as ``20250131``, the CSV in UTF-8 **with a BOM**::

      记账日期,交易金额,账户余额,对方户名,交易摘要

* ``english`` (招商银行, 中国银行): the English export, memos still in Chinese, UTF-8::

      Transaction Date,Description,Withdrawal,Deposit,Balance,Counterparty

Every file starts with title lines (bank, account number, holder, period 起止日期) before the
header and ends with a summary line (合计 / 期初余额 期末余额 / Total), as real exports do. The
rendering is a pure function of the frames: XLSX files carry a fixed creation date, so the
same data give the same bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

LAYOUTS: tuple[str, ...] = ("debit_credit", "signed", "english")
FORMATS: tuple[str, ...] = ("csv", "xlsx")
FIXED_CREATED = datetime(2000, 1, 1)  # XLSX document property: identical bytes across runs


@dataclass(frozen=True, slots=True)
class Layout:
    """One bank export layout: its header, the CSV encoding and line end."""

    name: str
    header: tuple[str, ...]
    encoding: str
    line_end: str
    sheet: str


LAYOUT_SPECS: dict[str, Layout] = {
    "debit_credit": Layout(
        "debit_credit",
        (
            "交易日期",
            "交易时间",
            "摘要",
            "借方发生额",
            "贷方发生额",
            "余额",
            "对方户名",
            "对方账号",
            "交易渠道",
        ),
        "gbk",
        "\r\n",
        "明细",
    ),
    "signed": Layout(
        "signed",
        ("记账日期", "交易金额", "账户余额", "对方户名", "交易摘要"),
        "utf-8-sig",
        "\n",
        "Sheet1",
    ),
    "english": Layout(
        "english",
        ("Transaction Date", "Description", "Withdrawal", "Deposit", "Balance", "Counterparty"),
        "utf-8",
        "\n",
        "Statement",
    ),
}

_BANK_LAYOUT = {
    "中国工商银行": "debit_credit",
    "中国农业银行": "debit_credit",
    "浙江泰隆商业银行": "debit_credit",
    "台州银行": "debit_credit",
    "中国建设银行": "signed",
    "中国邮政储蓄银行": "signed",
    "招商银行": "english",
    "中国银行": "english",
}


def layout_for(bank_name: str, account_id: int = 0) -> str:
    """The export layout of a bank (农村商业银行 of any city: ``signed``); a bank not listed
    gets one by its account id, deterministically."""
    if bank_name in _BANK_LAYOUT:
        return _BANK_LAYOUT[bank_name]
    if bank_name.endswith("农村商业银行"):
        return "signed"
    return LAYOUTS[account_id % len(LAYOUTS)]


# --- amounts as text --------------------------------------------------------------------------


def _groups_of_three(yuan: pl.Expr) -> pl.Expr:
    """Whole yuan with thousands separators: ``1234567`` → ``"1,234,567"`` (vectorised)."""

    def part(k: int, *, pad: bool) -> pl.Expr:
        g: pl.Expr = ((yuan // 10 ** (3 * k)) % 1000).cast(pl.String)
        return g.str.zfill(3) if pad else g

    expr = part(0, pad=False)
    for top in range(1, 5):
        pieces: list[pl.Expr | str] = [part(top, pad=False)]
        for k in range(top - 1, -1, -1):
            pieces += [pl.lit(","), part(k, pad=True)]
        expr = pl.when(yuan >= 10 ** (3 * top)).then(pl.concat_str(pieces)).otherwise(expr)
    return expr


def yuan_text(fen: pl.Expr, *, thousands: bool) -> pl.Expr:
    """Fen as yuan text with two decimals, ``-`` for negatives: ``-123456`` → ``"-1,234.56"``
    (``thousands``) or ``"-1234.56"``."""
    absolute = fen.abs()
    whole = absolute // 100
    cents = (absolute % 100).cast(pl.String).str.zfill(2)
    whole_text = _groups_of_three(whole) if thousands else whole.cast(pl.String)
    sign = pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str([sign, whole_text, pl.lit("."), cents])


def _text(fen: int, *, thousands: bool) -> str:
    value = abs(fen)
    whole = f"{value // 100:,}" if thousands else str(value // 100)
    return f"{'-' if fen < 0 else ''}{whole}.{value % 100:02d}"


# --- one account ------------------------------------------------------------------------------


def _body(tx: pl.DataFrame, layout: str) -> pl.DataFrame:
    """The data rows of an export as text columns, in the layout's header order."""
    spec = LAYOUT_SPECS[layout]
    out = pl.col("direction") == "out"
    debit = pl.when(out).then(yuan_text(pl.col("amount_fen"), thousands=True))
    credit = pl.when(~out).then(yuan_text(pl.col("amount_fen"), thousands=True))
    signed = pl.when(out).then(-pl.col("amount_fen")).otherwise(pl.col("amount_fen"))
    name = pl.col("counterparty_name").fill_null("")
    if layout == "debit_credit":
        cols = [
            pl.col("ts").dt.strftime("%Y-%m-%d"),
            pl.col("ts").dt.strftime("%H:%M:%S"),
            pl.col("memo"),
            debit.otherwise(pl.lit("")),
            credit.otherwise(pl.lit("")),
            yuan_text(pl.col("balance_fen"), thousands=True),
            name,
            pl.col("counterparty_account").fill_null(""),
            pl.col("channel"),
        ]
    elif layout == "signed":
        cols = [
            pl.col("ts").dt.strftime("%Y%m%d"),
            yuan_text(signed, thousands=False),
            yuan_text(pl.col("balance_fen"), thousands=False),
            name,
            pl.col("memo"),
        ]
    elif layout == "english":
        plain_out = pl.when(out).then(yuan_text(pl.col("amount_fen"), thousands=False))
        plain_in = pl.when(~out).then(yuan_text(pl.col("amount_fen"), thousands=False))
        cols = [
            pl.col("ts").dt.strftime("%Y-%m-%d %H:%M:%S"),
            pl.col("memo"),
            plain_out.otherwise(pl.lit("")),
            plain_in.otherwise(pl.lit("")),
            yuan_text(pl.col("balance_fen"), thousands=False),
            name,
        ]
    else:
        raise ValueError(f"unknown layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    return tx.select([c.alias(h) for c, h in zip(cols, spec.header, strict=True)])


def _period(account: Mapping[str, Any]) -> tuple[date, date]:
    first, last = account["first_date"], account["last_date"]
    return first, last


def _title(account: Mapping[str, Any], layout: str) -> list[list[str]]:
    first, last = _period(account)
    bank, number, holder = account["bank_name"], account["account_no"], account["holder_name"]
    if layout == "debit_credit":
        kind = "单位" if account.get("account_kind") == "corporate" else "个人"
        return [
            [f"{bank}{kind}账户历史明细清单"],
            ["账号", number],
            ["户名", holder],
            ["起止日期", f"{first:%Y-%m-%d} 至 {last:%Y-%m-%d}"],
            ["币种", "人民币"],
            [],
        ]
    if layout == "signed":
        return [
            [f"{bank}活期账户交易明细"],
            [f"账号:{number}"],
            [f"户名:{holder}"],
            [f"起始日期:{first:%Y%m%d}", f"截止日期:{last:%Y%m%d}"],
        ]
    return [
        ["Account Statement"],
        ["Bank", bank],
        ["Account No.", number],
        ["Account Name", holder],
        ["Period", f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"],
        ["Currency", "CNY"],
    ]


def _footer(tx: pl.DataFrame, account: Mapping[str, Any], layout: str) -> list[list[str]]:
    outs = int(tx.filter(pl.col("direction") == "out")["amount_fen"].sum())
    ins = int(tx.filter(pl.col("direction") == "in")["amount_fen"].sum())
    opening = int(account["opening_balance_fen"])
    closing = int(account["closing_balance_fen"])
    if layout == "debit_credit":
        return [
            [
                "合计",
                "",
                f"共{tx.height}笔",
                _text(outs, thousands=True),
                _text(ins, thousands=True),
                _text(closing, thousands=True),
                "",
                "",
                "",
            ]
        ]
    if layout == "signed":
        return [
            [
                f"期初余额:{_text(opening, thousands=False)}",
                f"期末余额:{_text(closing, thousands=False)}",
            ]
        ]
    return [
        ["Total", "", _text(outs, thousands=False), _text(ins, thousands=False), "", ""],
        ["Opening Balance", _text(opening, thousands=False)],
        ["Closing Balance", _text(closing, thousands=False)],
    ]


def _csv_lines(rows: list[list[str]], line_end: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


def export_account(
    transactions: pl.DataFrame,
    account: Mapping[str, Any],
    layout: str,
    fmt: str,
    path: Path,
) -> Path:
    """Write one account's statement (its rows of ``transactions``, in time order) in
    ``layout`` as ``fmt`` (``csv`` or ``xlsx``) to ``path``; returns the path."""
    if layout not in LAYOUT_SPECS:
        raise ValueError(f"unknown layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    tx = transactions.filter(pl.col("account_id") == account["account_id"]).sort("ts", "txn_id")
    body = _body(tx, layout) if fmt == "csv" else None
    return _export(tx, body, account, layout, fmt, path)


def _export(
    tx: pl.DataFrame,
    body: pl.DataFrame | None,
    account: Mapping[str, Any],
    layout: str,
    fmt: str,
    path: Path,
) -> Path:
    spec = LAYOUT_SPECS[layout]
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        assert body is not None
        text = _csv_lines([*_title(account, layout), list(spec.header)], spec.line_end)
        if body.height:
            text += body.write_csv(
                include_header=False, line_terminator=spec.line_end, quote_style="necessary"
            )
        text += _csv_lines(_footer(tx, account, layout), spec.line_end)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(text.encode(spec.encoding))
        tmp.replace(path)
    elif fmt == "xlsx":
        _write_xlsx(tx, account, layout, path)
    else:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    return path


def _write_xlsx(tx: pl.DataFrame, account: Mapping[str, Any], layout: str, path: Path) -> None:
    """XLSX as the banks write it: title rows, header, typed cells (text amounts for the
    debit/credit layout, numbers and dates for the others), summary rows."""
    spec = LAYOUT_SPECS[layout]
    tmp = path.with_suffix(".tmp")
    workbook = xlsxwriter.Workbook(str(tmp), {"constant_memory": True})
    workbook.set_properties({"created": FIXED_CREATED, "author": account["bank_name"]})
    sheet = workbook.add_worksheet(spec.sheet)
    money = workbook.add_format({"num_format": "#,##0.00"})
    stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    bold = workbook.add_format({"bold": True})
    row = 0
    for line in _title(account, layout):
        for col, value in enumerate(line):
            sheet.write_string(row, col, value, bold if row == 0 else None)
        row += 1
    sheet.write_row(row, 0, spec.header, bold)
    row += 1
    if layout == "debit_credit":
        for values in _body(tx, layout).iter_rows():
            for col, value in enumerate(values):
                if value:
                    sheet.write_string(row, col, value)
            row += 1
    else:
        out = (tx["direction"] == "out").to_list()
        amounts = tx["amount_fen"].to_list()
        balances = tx["balance_fen"].to_list()
        names = tx["counterparty_name"].fill_null("").to_list()
        memos = tx["memo"].to_list()
        stamps = tx["ts"].to_list()
        for is_out, amount, balance, name, memo, ts in zip(
            out, amounts, balances, names, memos, stamps, strict=True
        ):
            if layout == "signed":
                sheet.write_number(row, 0, int(ts.strftime("%Y%m%d")))
                sheet.write_number(row, 1, (-amount if is_out else amount) / 100, money)
                sheet.write_number(row, 2, balance / 100, money)
                sheet.write_string(row, 3, name)
                sheet.write_string(row, 4, memo)
            else:
                sheet.write_datetime(row, 0, ts, stamp)
                sheet.write_string(row, 1, memo)
                sheet.write_number(row, 3 if not is_out else 2, amount / 100, money)
                sheet.write_number(row, 4, balance / 100, money)
                sheet.write_string(row, 5, name)
            row += 1
    for line in _footer(tx, account, layout):
        for col, value in enumerate(line):
            if value:
                sheet.write_string(row, col, value)
        row += 1
    workbook.close()
    tmp.replace(path)


def write_exports(
    out_dir: Path,
    accounts: pl.DataFrame,
    transactions: pl.DataFrame,
    formats: Sequence[str] = FORMATS,
    layouts: Sequence[str] = LAYOUTS,
) -> list[Path]:
    """Write every account of ``accounts`` under ``out_dir/<fmt>/<account_id>.<fmt>`` in its
    bank's layout. When ``layouts`` leaves out an account's layout, the account is written in
    ``layouts[account_id % len(layouts)]``. Returns the paths written, in account order."""
    for layout in layouts:
        if layout not in LAYOUT_SPECS:
            raise ValueError(f"unknown layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    ordered = accounts.sort("account_id")
    chosen = []
    for account_id, bank in zip(ordered["account_id"], ordered["bank_name"], strict=True):
        layout = layout_for(str(bank), int(account_id))
        chosen.append(layout if layout in layouts else layouts[int(account_id) % len(layouts)])
    tx_all = transactions.sort("account_id", "ts", "txn_id")
    parts = _by_account(tx_all)
    bodies: dict[int, pl.DataFrame] = {}
    if "csv" in formats:  # the text columns of every account of a layout at once
        for layout in dict.fromkeys(chosen):
            ids = [a for a, x in zip(ordered["account_id"], chosen, strict=True) if x == layout]
            rows = tx_all.filter(pl.col("account_id").is_in(ids))
            text = _body(rows, layout).with_columns(rows["account_id"].alias("__account"))
            for key, frame in _by_account(text, "__account").items():
                bodies[key] = frame.drop("__account")
    empty = transactions.clear()
    written: list[Path] = []
    for account, layout in zip(ordered.iter_rows(named=True), chosen, strict=True):
        account_id = int(account["account_id"])
        tx = parts.get(account_id, empty)
        for fmt in formats:
            body = None
            if fmt == "csv":
                body = bodies[account_id] if account_id in bodies else _body(empty, layout)
            path = out_dir / fmt / f"{account_id}.{fmt}"
            written.append(_export(tx, body, account, layout, fmt, path))
    return written


def _by_account(frame: pl.DataFrame, column: str = "account_id") -> dict[int, pl.DataFrame]:
    parts = frame.partition_by(column, as_dict=True, maintain_order=True)
    return {int(key[0]): part for key, part in parts.items()}
