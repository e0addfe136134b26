"""Bank-statement exports: three layouts as CSV and XLSX, read back to the fen."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import polars as pl
import pytest

from xiaowei.simulate import exports, statements
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.world import build_world, chunks

FOOTERS = ("合计", "期初余额", "Total")


@pytest.fixture(scope="module")
def rendered():
    world = build_world(SimulationConfig(businesses=40, seed=3, months=6, follow_months=0))
    r = statements.render(next(chunks(world)))
    return r.tables["statements/accounts"], r.tables["statements/transactions"]


@pytest.fixture(scope="module")
def sample(rendered):
    """Two accounts of each layout."""
    accounts, _ = rendered
    with_layout = accounts.with_columns(
        pl.struct("bank_name", "account_id")
        .map_elements(
            lambda r: exports.layout_for(r["bank_name"], r["account_id"]), return_dtype=pl.String
        )
        .alias("layout")
    )
    picked = with_layout.group_by("layout", maintain_order=True).head(2).sort("account_id")
    assert set(picked["layout"]) == set(exports.LAYOUTS)
    return picked


def test_yuan_text():
    fen = pl.Series([0, 5, 99, 100, 123456, -123456, 100_000_000, 123_456_789_012_345])
    frame = pl.DataFrame({"f": fen})
    with_sep = frame.select(exports.yuan_text(pl.col("f"), thousands=True).alias("f"))[
        "f"
    ].to_list()
    assert with_sep == [
        "0.00",
        "0.05",
        "0.99",
        "1.00",
        "1,234.56",
        "-1,234.56",
        "1,000,000.00",
        "1,234,567,890,123.45",
    ]
    plain = frame.select(exports.yuan_text(pl.col("f"), thousands=False).alias("f"))["f"].to_list()
    assert plain[4:7] == ["1234.56", "-1234.56", "1000000.00"]


def test_layout_for_banks():
    assert exports.layout_for("中国工商银行") == "debit_credit"
    assert exports.layout_for("中国建设银行") == "signed"
    assert exports.layout_for("杭州农村商业银行") == "signed"
    assert exports.layout_for("招商银行") == "english"
    assert exports.layout_for("某某银行", 7) == exports.layout_for("某某银行", 7)
    for bank in statements.BANKS:
        assert exports.layout_for(bank[0]) in exports.LAYOUTS


def _fen(text: str) -> int:
    text = text.replace(",", "").strip()
    negative = text.startswith("-")
    whole, _, cents = text.lstrip("-").partition(".")
    value = int(whole) * 100 + int(cents.ljust(2, "0"))
    return -value if negative else value


def _read_csv(path, layout: str) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    raw = path.read_bytes()
    spec = exports.LAYOUT_SPECS[layout]
    if layout == "debit_credit":
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        text = raw.decode("gbk")
        assert "\r\n" in text
    elif layout == "signed":
        assert raw.startswith(b"\xef\xbb\xbf")
        text = raw.decode("utf-8-sig")
    else:
        assert not raw.startswith(b"\xef\xbb\xbf")
        text = raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    at = rows.index(list(spec.header))
    end = next(i for i in range(at + 1, len(rows)) if rows[i] and rows[i][0].startswith(FOOTERS))
    return rows[:at], rows[at + 1 : end], rows[end:]


def _expected(transactions: pl.DataFrame, account_id: int) -> pl.DataFrame:
    tx = transactions.filter(pl.col("account_id") == account_id).sort("ts", "txn_id")
    signed = pl.when(pl.col("direction") == "out").then(-pl.col("amount_fen"))
    return tx.with_columns(signed.otherwise(pl.col("amount_fen")).alias("signed"))


def test_csv_layouts_read_back_to_the_fen(rendered, sample, tmp_path):
    _, transactions = rendered
    for account in sample.iter_rows(named=True):
        layout = account["layout"]
        path = exports.export_account(
            transactions, account, layout, "csv", tmp_path / f"{account['account_id']}.csv"
        )
        title, data, footer = _read_csv(path, layout)
        want = _expected(transactions, account["account_id"])
        assert len(data) == want.height > 0
        flat_title = " ".join(" ".join(r) for r in title)
        assert account["account_no"] in flat_title
        assert account["holder_name"] in flat_title
        signed = want["signed"].to_list()
        balance = want["balance_fen"].to_list()
        names = want["counterparty_name"].fill_null("").to_list()
        if layout == "debit_credit":
            got = [(-_fen(r[3]) if r[3] else _fen(r[4])) for r in data]
            assert all(bool(r[3]) != bool(r[4]) for r in data)
            assert [_fen(r[5]) for r in data] == balance
            assert [r[6] for r in data] == names
            stamps = [datetime.strptime(f"{r[0]} {r[1]}", "%Y-%m-%d %H:%M:%S") for r in data]
            assert "," in "".join(r[5] for r in data)  # thousands separators
            assert footer[0][2] == f"共{want.height}笔"
        elif layout == "signed":
            got = [_fen(r[1]) for r in data]
            assert [_fen(r[2]) for r in data] == balance
            assert [r[3] for r in data] == names
            assert [r[4] for r in data] == want["memo"].to_list()
            stamps = [datetime.strptime(r[0], "%Y%m%d") for r in data]
            assert _fen(footer[0][1].split(":")[1]) == account["closing_balance_fen"]
        else:
            got = [(-_fen(r[2]) if r[2] else _fen(r[3])) for r in data]
            assert [_fen(r[4]) for r in data] == balance
            assert [r[5] for r in data] == names
            stamps = [datetime.strptime(r[0], "%Y-%m-%d %H:%M:%S") for r in data]
            assert _fen(footer[-1][1]) == account["closing_balance_fen"]
        assert got == signed
        assert [s.date() for s in stamps] == want["date"].to_list()
        # the statement reconciles from its own numbers
        opening = account["opening_balance_fen"]
        assert opening + sum(got) == account["closing_balance_fen"] == balance[-1]


def test_xlsx_layouts_read_back_to_the_fen(rendered, sample, tmp_path):
    _, transactions = rendered
    for account in sample.iter_rows(named=True):
        layout = account["layout"]
        path = exports.export_account(
            transactions, account, layout, "xlsx", tmp_path / f"{account['account_id']}.xlsx"
        )
        want = _expected(transactions, account["account_id"])
        header_row = len(exports._title(account, layout))
        frame = pl.read_excel(path, read_options={"header_row": header_row, "n_rows": want.height})
        assert frame.columns == list(exports.LAYOUT_SPECS[layout].header)
        assert frame.height == want.height
        if layout == "debit_credit":
            debit = frame["借方发生额"].fill_null("").to_list()
            credit = frame["贷方发生额"].fill_null("").to_list()
            got = [(-_fen(d) if d else _fen(c)) for d, c in zip(debit, credit, strict=True)]
            balance = [_fen(x) for x in frame["余额"].to_list()]
            assert frame["交易日期"].to_list() == [f"{d:%Y-%m-%d}" for d in want["date"]]
        elif layout == "signed":
            got = [round(x * 100) for x in frame["交易金额"].to_list()]
            balance = [round(x * 100) for x in frame["账户余额"].to_list()]
            dates = [int(x) for x in frame["记账日期"].to_list()]
            assert dates == [int(f"{d:%Y%m%d}") for d in want["date"]]
        else:
            out = frame["Withdrawal"].to_list()
            into = frame["Deposit"].to_list()
            got = [
                -round(o * 100) if o is not None else round(i * 100)
                for o, i in zip(out, into, strict=True)
            ]
            balance = [round(x * 100) for x in frame["Balance"].to_list()]
            assert frame["Transaction Date"].dtype == pl.Datetime
            assert frame["Transaction Date"].to_list() == want["ts"].to_list()
        assert got == want["signed"].to_list()
        assert balance == want["balance_fen"].to_list()


def test_write_exports_is_deterministic_and_covers_every_account(rendered, tmp_path):
    accounts, transactions = rendered
    some = accounts.filter(pl.col("business_id") <= 4)
    first = exports.write_exports(tmp_path / "a", some, transactions)
    second = exports.write_exports(tmp_path / "b", some, transactions)
    assert len(first) == 2 * some.height
    assert {p.name for p in first} == {
        f"{a}.{f}" for a in some["account_id"] for f in ("csv", "xlsx")
    }
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    # one layout only: every account written in it
    only = exports.write_exports(
        tmp_path / "c", some, transactions, formats=("csv",), layouts=("english",)
    )
    assert all(p.read_bytes().startswith(b"Account Statement") for p in only)
    with pytest.raises(ValueError, match="layout"):
        exports.write_exports(tmp_path / "d", some, transactions, layouts=("pdf",))
