"""Bank-statement import: the simulator's exports read back to the fen, hand-made variants,
reconciliation, clear errors, and Hypothesis fuzzing (bytes, truncation, cell corruption)."""

from __future__ import annotations

import csv
import io
from datetime import date, time
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xiaowei.adapters.statement_import import (
    CANONICAL_COLUMNS,
    ImportConfig,
    read_statement,
)
from xiaowei.core.errors import InvalidInput
from xiaowei.simulate import exports
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.generate import run
from xiaowei.simulate.output import read_table

COMPARED = ["date", "direction", "amount_fen", "balance_fen", "counterparty_name", "memo"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stmt") / "sim"
    config = SimulationConfig(businesses=10, seed=7, months=6, follow_months=0)
    run(config, out, workers=1, formats=["parquet", "csv", "xlsx"], export_businesses=10)
    return out


@pytest.fixture(scope="module")
def tables(sim: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    accounts = read_table(sim, "statements/accounts")
    tx = read_table(sim, "statements/transactions").sort("account_id", "ts", "txn_id")
    return accounts, tx


def _truth(tx: pl.DataFrame, account_id: int) -> pl.DataFrame:
    return tx.filter(pl.col("account_id") == account_id)


def _layout(accounts: pl.DataFrame, account_id: int) -> str:
    bank = accounts.filter(pl.col("account_id") == account_id)["bank_name"][0]
    return exports.layout_for(str(bank), account_id)


def test_every_export_reads_back_exactly(sim: Path, tables) -> None:
    accounts, tx = tables
    layouts_seen = set()
    files = sorted((sim / "exports" / "csv").glob("*.csv")) + sorted(
        (sim / "exports" / "xlsx").glob("*.xlsx")
    )
    assert len(files) >= 20
    for path in files:
        account_id = int(path.stem)
        account = accounts.filter(pl.col("account_id") == account_id).row(0, named=True)
        layout = _layout(accounts, account_id)
        layouts_seen.add((layout, path.suffix))
        truth = _truth(tx, account_id)
        got = read_statement(path)
        frame = got.frame
        assert frame.columns == list(CANONICAL_COLUMNS)
        assert frame["row"].to_list() == list(range(1, truth.height + 1))
        assert frame.select(COMPARED).equals(truth.select(COMPARED)), path
        if layout == "signed":
            assert frame["time"].null_count() == frame.height
            assert got.layout == "signed"
        else:
            assert frame["time"].to_list() == truth["ts"].dt.time().to_list()
            assert got.layout == "debit_credit"
        if layout == "debit_credit":
            assert (
                frame["counterparty_account"].to_list() == truth["counterparty_account"].to_list()
            )
            assert frame["channel"].to_list() == truth["channel"].to_list()
        else:
            assert frame["channel"].null_count() == frame.height
        rec = got.reconciliation
        assert rec.ok, (path, rec.mismatches[:5])
        assert rec.has_balance
        assert rec.opening_fen == account["opening_balance_fen"]
        assert rec.closing_fen == account["closing_balance_fen"]
        assert got.order == "oldest_first"
        meta = got.metadata
        assert meta.bank_name == account["bank_name"]
        assert meta.account_no == account["account_no"]
        assert meta.holder_name == account["holder_name"]
        assert meta.period_start == account["first_date"]
        assert meta.period_end == account["last_date"]
    assert layouts_seen == {(lay, ext) for lay in exports.LAYOUTS for ext in (".csv", ".xlsx")}


# --- hand-written variants ---------------------------------------------------------------------


def _csv_bytes(rows: list[list[str]], encoding: str = "utf-8", end: str = "\n") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=end).writerows(rows)
    return buffer.getvalue().encode(encoding)


NEWEST_FIRST = [
    ["某某农村商业银行账户明细"],
    ["账号：6230001234", "户名：张三"],
    ["查询期间：2025年1月1日 至 2025年1月31日"],
    ["日期", "用途", "支出", "收入", "余额", "对方名称"],
    ["2025年1月31日", "货款", "", "¥1,000.00", "10,500.00", "李四"],
    ["2025年1月20日", "退款冲正", "(200.00)", "—", "9,500.00", "王五"],
    ["2025年1月15日", "房租", "3,000.00", "", "9,300.00", "房东㐀"],
    ["2025年1月2日", "存现", "", "2,300.00-", "12,300.00", ""],
    ["合计", "", "2,800.00", "-1,300.00", "", ""],
]


def test_newest_first_parentheses_chinese_dates_gb18030() -> None:
    data = _csv_bytes(NEWEST_FIRST, "gb18030", "\r\n")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    got = read_statement(data, filename="newest.csv")
    assert got.encoding == "gb18030"
    assert got.order == "newest_first"
    frame = got.frame
    # time order, oldest first, with the file rows kept for evidence
    assert frame["row"].to_list() == [4, 3, 2, 1]
    assert frame["date"].to_list() == [
        date(2025, 1, 2),
        date(2025, 1, 15),
        date(2025, 1, 20),
        date(2025, 1, 31),
    ]
    # "2,300.00-" in the credit column is a reversal (out); "(200.00)" debit is money back in
    assert frame["direction"].to_list() == ["out", "out", "in", "in"]
    assert frame["amount_fen"].to_list() == [230000, 300000, 20000, 100000]
    assert frame["balance_fen"].to_list() == [1230000, 930000, 950000, 1050000]
    assert frame["counterparty_name"].to_list() == [None, "房东㐀", "王五", "李四"]
    rec = got.reconciliation
    assert rec.ok
    assert rec.opening_fen == 1460000
    assert rec.closing_fen == 1050000
    assert got.metadata.account_no == "6230001234"
    assert got.metadata.holder_name == "张三"
    assert got.metadata.bank_name == "某某农村商业银行"
    assert got.metadata.period_start == date(2025, 1, 1)
    assert got.metadata.period_end == date(2025, 1, 31)


SIGNED = [
    ["Date", "Amount", "Balance", "Memo"],
    ["2025/1/3", "100.00", "1100.00", "a"],
    ["2025/1/4", "-50.5", "1049.50", "b"],
    ["2025/1/5", "1,000", "2049.50", "c"],
    ["2025/1/6", "-0.01", "2049.49", "d"],
]


def test_signed_english_and_tampering() -> None:
    got = read_statement(_csv_bytes(SIGNED), filename="s.csv")
    assert got.layout == "signed"
    assert got.frame["amount_fen"].to_list() == [10000, 5050, 100000, 1]
    assert got.frame["direction"].to_list() == ["in", "out", "in", "out"]
    assert got.reconciliation.ok
    assert got.reconciliation.opening_fen == 100000

    tampered_balance = [r[:] for r in SIGNED]
    tampered_balance[2][2] = "1149.50"  # row 2's balance off by 100
    rec = read_statement(_csv_bytes(tampered_balance)).reconciliation
    assert not rec.ok
    assert rec.mismatches == [2]

    tampered_amount = [r[:] for r in SIGNED]
    tampered_amount[3][1] = "1,100"  # row 3's amount inflated
    rec = read_statement(_csv_bytes(tampered_amount)).reconciliation
    assert rec.mismatches == [3]
    with pytest.raises(InvalidInput, match="rows 3"):
        read_statement(_csv_bytes(tampered_amount), config=ImportConfig(strict=True))


def test_footer_figures_are_checked() -> None:
    rows = [
        ["交易日期", "借方发生额", "贷方发生额", "余额"],
        ["2025-01-01", "", "100.00", "100.00"],
        ["2025-01-02", "30.00", "", "70.00"],
        ["合计", "30.00", "100.00", "70.00"],
        ["共2笔"],
    ]
    assert read_statement(_csv_bytes(rows)).reconciliation.ok
    rows[1][2] = "90.00"  # the first row's amount: only the totals can tell
    rec = read_statement(_csv_bytes(rows)).reconciliation
    assert not rec.ok
    assert rec.mismatches == []
    assert rec.footer_mismatches == ["footer credit total 10000 fen, rows sum to 9000 fen"]
    rows[1][2] = "100.00"
    rows[4] = ["共3笔"]
    assert read_statement(_csv_bytes(rows)).reconciliation.footer_mismatches == [
        "footer states 3 transactions, the file has 2"
    ]
    signed = [
        ["记账日期", "交易金额", "账户余额"],
        ["20250101", "5.00", "15.00"],
        ["期初余额:9.00", "期末余额:15.00"],
    ]
    rec = read_statement(_csv_bytes(signed)).reconciliation
    assert rec.mismatches == [1]  # checked against the stated opening balance
    assert rec.checked_rows == 1


def test_no_balance_column_and_tab_delimiter() -> None:
    rows = [["交易日期", "交易金额", "摘要"], ["20250131", "12.3", "x"], ["20250201", "-1", "y"]]
    text = "\n".join("\t".join(r) for r in rows) + "\n"
    got = read_statement(text.encode("utf-8"))
    assert got.frame["amount_fen"].to_list() == [1230, 100]
    assert got.frame["balance_fen"].null_count() == 2
    assert got.reconciliation.ok
    assert not got.reconciliation.has_balance
    assert got.reconciliation.opening_fen is None


def test_xlsx_serial_dates(tmp_path: Path) -> None:
    path = tmp_path / "serial.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Transaction Date", "Withdrawal", "Deposit", "Balance"])
    sheet.write_number(1, 0, 45688)  # 2025-01-31, no date format
    sheet.write_number(1, 2, 1234.56)
    sheet.write_number(1, 3, 1234.56)
    sheet.write_number(2, 0, 45689.5)  # 2025-02-01 12:00
    sheet.write_number(2, 1, 0.1 + 0.2)  # 0.30000000000000004: float noise, 30 fen
    sheet.write_number(2, 3, 1234.26)
    book.close()
    got = read_statement(path)
    assert got.frame["date"].to_list() == [date(2025, 1, 31), date(2025, 2, 1)]
    assert got.frame["time"].to_list() == [None, time(12, 0)]
    assert got.frame["amount_fen"].to_list() == [123456, 30]
    assert got.reconciliation.ok


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1,234.56", 123456),
        ("¥1,234.56", 123456),
        ("(1,234.56)", -123456),
        ("1,234.56-", -123456),
        ("-0.5", -50),
        ("+7", 700),
        ("12.300", 1230),
        ("1 234.56", 123456),
    ],
)
def test_amount_forms(text: str, fen: int) -> None:
    rows = [["日期", "金额", "余额"], ["2025-01-31", text, "0"]]
    got = read_statement(_csv_bytes(rows))
    signed = got.frame["amount_fen"][0] * (1 if got.frame["direction"][0] == "in" else -1)
    assert signed == fen


@pytest.mark.parametrize("text", ["96,05", "1.005", "(12", "--5", "1e3", "12..3", "abc"])
def test_bad_amounts_name_row_column_value(text: str) -> None:
    rows = [["日期", "金额", "余额"], ["2025-01-31", "1", "1"], ["2025-02-01", text, "2"]]
    with pytest.raises(InvalidInput, match=r"bad\.csv: row 2 \(line 3\)") as err:
        read_statement(_csv_bytes(rows), filename="bad.csv")
    assert err.value.field == "金额"
    assert repr(text) in err.value.message


def test_errors() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        read_statement(b"", filename="e.csv")
    with pytest.raises(InvalidInput, match=r"no recognisable header.*'foo', 'bar'"):
        read_statement(_csv_bytes([["foo", "bar"], ["1", "2"]]), filename="x.csv")
    with pytest.raises(InvalidInput, match=r"no amount column.*'交易日期', '摘要', '余额'"):
        read_statement(_csv_bytes([["交易日期", "摘要", "余额"], ["2025-01-01", "x", "1"]]))
    with pytest.raises(InvalidInput, match="no date column"):
        read_statement(_csv_bytes([["摘要", "金额"], ["x", "1"]]))
    with pytest.raises(InvalidInput, match=r"row 1 .*cannot parse date '2025-02-30'"):
        read_statement(_csv_bytes([["日期", "金额"], ["2025-02-30", "1"]]))
    with pytest.raises(InvalidInput, match=r"row 1 .*both debit and credit"):
        read_statement(_csv_bytes([["日期", "借方发生额", "贷方发生额"], ["2025-01-01", "1", "2"]]))
    with pytest.raises(InvalidInput, match="no transaction rows"):
        read_statement(_csv_bytes([["日期", "金额"], ["合计", "0"]]))
    with pytest.raises(InvalidInput, match=r"row 2 .*balance is empty"):
        read_statement(
            _csv_bytes([["日期", "金额", "余额"], ["20250101", "1", "1"], ["20250102", "1", ""]])
        )
    with pytest.raises(InvalidInput, match=r"row 1 .*zero amount"):
        read_statement(_csv_bytes([["日期", "金额"], ["20250101", "0.00"]]))
    with pytest.raises(InvalidInput, match="truncated"):
        read_statement(_csv_bytes([["日期", "金额"], ["20250101", "1.5"]])[:-1])
    with pytest.raises(InvalidInput, match="cannot read the workbook"):
        read_statement(b"PK\x03\x04garbage", filename="x.xlsx")


# --- fuzzing -------------------------------------------------------------------------------------

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(data: bytes) -> None:
    try:
        got = read_statement(data, filename="random.bin")
    except InvalidInput:
        return
    assert got.frame.columns == list(CANONICAL_COLUMNS)


class _Samples(dict[str, tuple[bytes, pl.DataFrame, str]]):
    def __repr__(self) -> str:  # keeps Hypothesis' falsifying-example report short
        return f"<samples of {', '.join(self)}>"


@pytest.fixture(scope="module")
def samples(sim: Path, tables) -> dict[str, tuple[bytes, pl.DataFrame, str]]:
    """One CSV of each layout: its bytes, its truth and its encoding."""
    accounts, tx = tables
    picked = _Samples()
    for path in sorted((sim / "exports" / "csv").glob("*.csv")):
        account_id = int(path.stem)
        layout = _layout(accounts, account_id)
        truth = _truth(tx, account_id)
        if layout not in picked and truth.height >= 20:
            encoding = exports.LAYOUT_SPECS[layout].encoding
            picked[layout] = (path.read_bytes(), truth, encoding)
    assert set(picked) == set(exports.LAYOUTS)
    return picked


def _matches_prefix(frame: pl.DataFrame, truth: pl.DataFrame) -> bool:
    return frame.select(COMPARED).equals(truth.head(frame.height).select(COMPARED))


@FUZZ
@given(layout=st.sampled_from(exports.LAYOUTS), cut=st.floats(0.0, 1.0))
def test_truncated_export_is_a_clean_prefix_or_an_error(samples, layout: str, cut: float) -> None:
    data, truth, _ = samples[layout]
    truncated = data[: int(len(data) * cut)]
    try:
        got = read_statement(truncated, filename="cut.csv")
    except InvalidInput:
        return
    assert got.frame.height <= truth.height
    assert _matches_prefix(got.frame, truth)
    # a cut inside the data leaves a clean prefix; a cut inside the footer may leave a
    # damaged stated figure (Opening Balance 59151.0), which is reported
    assert got.reconciliation.ok or got.frame.height == truth.height


NOISE = st.text(alphabet="0123456789.,-()/: xyzT￥年月日", max_size=12)


@FUZZ
@given(
    layout=st.sampled_from(exports.LAYOUTS),
    pick=st.integers(0, 10_000),
    column=st.integers(0, 8),
    value=NOISE,
)
def test_corrupted_cell_is_an_error_naming_its_row_or_is_reported(
    samples, layout: str, pick: int, column: int, value: str
) -> None:
    data, truth, encoding = samples[layout]
    spec = exports.LAYOUT_SPECS[layout]
    records = list(csv.reader(io.StringIO(data.decode(encoding), newline="")))
    header_at = next(i for i, r in enumerate(records) if tuple(r) == spec.header)
    row = pick % truth.height + 1
    target = [
        i
        for i, name in enumerate(spec.header)
        if name not in {"摘要", "交易摘要", "Description", "对方户名", "Counterparty", "对方账号"}
    ]
    col = target[column % len(target)]
    records[header_at + row][col] = value
    corrupted = _csv_bytes(records, encoding, spec.line_end)
    try:
        got = read_statement(corrupted, filename="bad.csv")
    except InvalidInput as exc:
        message = str(exc)
    else:
        message = ""
    if message:
        assert f"row {row} (" in message, message
        return
    frame = got.frame.sort("row")
    assert frame.height == truth.height  # never silently shorter
    others = frame.filter(pl.col("row") != row).select(COMPARED)
    assert others.equals(truth.filter(pl.arange(1, truth.height + 1) != row).select(COMPARED))
    mine = frame.filter(pl.col("row") == row).select(COMPARED).row(0)
    expected = truth.select(COMPARED).row(row - 1)
    money_changed = mine[1:4] != expected[1:4]
    rec = got.reconciliation
    if not money_changed:
        assert rec.ok
    elif row > 1 or layout != "debit_credit":
        assert row in rec.mismatches
    else:  # no stated opening balance: the first row shows in row 2 or in the footer totals
        assert not rec.ok
        assert rec.mismatches == [2] or rec.footer_mismatches


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.floats(0.0, 1.0), flip=st.integers(0, 10**9), byte=st.integers(0, 255))
def test_damaged_xlsx_is_an_error_or_a_clean_read(sim: Path, tables, cut, flip, byte) -> None:
    _, tx = tables
    path = sorted((sim / "exports" / "xlsx").glob("*.xlsx"))[0]
    truth = _truth(tx, int(path.stem))
    data = bytearray(path.read_bytes())
    data[flip % len(data)] = byte
    damaged = bytes(data[: max(1, int(len(data) * cut))])
    try:
        got = read_statement(damaged, filename="damaged.xlsx")
    except InvalidInput:
        return
    assert _matches_prefix(got.frame, truth)
    assert got.reconciliation.ok or got.frame.height == truth.height
