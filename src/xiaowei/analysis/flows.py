"""Transaction-flow analysis (交易流水分析): monthly table, features and flags from bank statements.

Input is the canonical statement frame (one row per transaction, many businesses at once):
``business_id``, ``account_id``, ``row`` (1-based row of the input file), ``date`` and an
optional ``time``, ``direction`` (``"in"``/``"out"``), ``amount_fen``, ``balance_fen``,
``counterparty_name``, ``counterparty_account``, ``memo`` (摘要) and ``channel`` (交易渠道). The
simulator's layout (``ts`` instead of ``date``/``time``, ``txn_id`` instead of ``row``) is
accepted too; :func:`normalise_statement` brings both to one frame and rejects bad input with
:class:`~xiaowei.core.errors.InvalidInput`. The caller also passes the business's own
identities (本人账户: its account numbers and the holder, owner, spouse and company names) so
that own-account transfers (本人账户转账/资金归集) are recognised.

Method (research notes ``shared/research/credit_analysis_methods.md`` §2, "Bank-statement and
transaction-flow analysis"):

* **Normalise first, tag own transfers.** A transaction whose counterparty account or name is
  one of the business's own identities is an own-account transfer and is excluded from revenue
  and from the counterparty concentration.
* **Monthly table** (:func:`monthly_table`): inflow, outflow, net cash flow, transaction counts
  and the **revenue estimate** (经营收入估算) = inflows minus own transfers, loan proceeds
  (贷款发放/放款/借款), refunds and reversals (退款/冲正), interest (结息) and capital
  injections (投资款/增资), and — for businesses whose statements show the round-tripping
  pattern — the inflow legs of the detected pairs. Balances: the **average daily balance**
  (日均余额, ADB) carries each account's end-of-day balance forward over days without
  transactions (the notes' definition), summed over the business's accounts; the minimum
  end-of-day balance and the number of days below a configurable low level.
* **Features over 3/6/12 months** (:func:`flow_features`): totals, trend (OLS slope of monthly
  revenue over its mean), volatility (coefficient of variation), seasonality index (max month
  over mean), low/negative-balance months, counterparty concentration (top-1, top-5 share,
  Herfindahl-Hirschman index) for customers (revenue inflows) and suppliers (business
  outflows), payroll as an employee proxy (代发工资/工资), tax and social insurance (税款/社保),
  cash-withdrawal share (取现), repayments to lenders (还款, hidden-debt evidence), night-time
  share (00:00–05:00), quarter-end balance spikes (季末突击存款) and turnover/ADB.
* **Flags with the rows that raised them** (:func:`flow_flags`): ``round_tripping``
  (过账/刷流水, 快进快出: an inflow followed within 48 h by an outflow of the same amount ±1 %
  on the same account, several times), ``hidden_debt`` (隐瞒负债: repayments to a lender that
  is not among the declared ones — lender keywords from the notes' list, or a fixed monthly
  repayment pattern), ``gambling`` (赌博/博彩 keywords), ``large_cash_withdrawal`` (大额取现),
  ``balance_mismatch`` (余额不连续: balance[i] ≠ balance[i−1] ± amount[i] within an account in
  time order) and ``consulting_fee_inflow`` (大额咨询费入账: the notes cite 200万 of 咨询费
  credits against 5万/month of income, https://www.kupet.cn/read-1749024715a9488741.html).

Everything is Polars expressions over all businesses at once; keyword rules run on the
distinct memo and counterparty strings only, and Python loops run once per flagged business,
never per transaction. Money stays integer fen; ratios are floats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from xiaowei.analysis.flags import Flag, Severity
from xiaowei.core.errors import InvalidInput

__all__ = [
    "FlowsConfig",
    "PreparedStatement",
    "flow_features",
    "flow_flags",
    "monthly_table",
    "months_json",
    "normalise_statement",
    "own_identities",
    "prepare",
]


class FlowsConfig(BaseModel):
    """Every threshold of the flow analysis, with its default and why (交易流水分析参数)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    windows_months: tuple[int, ...] = Field(
        default=(3, 6, 12),
        description="feature windows in calendar months ending with the statement's last month "
        "(notes §2: 'monthly, and over 3/6/12 months')",
    )
    low_balance_fen: int = Field(
        default=100_000,
        description="an end-of-day total balance below this (1,000 CNY) counts as a low-balance "
        "day: the notes' 'negative or near-zero balance'",
    )
    own_transfer_memo_keywords: tuple[str, ...] = Field(
        default=("本人账户转账", "资金归集"),
        description="memos that name an own-account transfer even when the counterparty is not "
        "among the identities passed",
    )
    loan_proceeds_keywords: tuple[str, ...] = Field(
        default=("贷款发放", "放款", "借款"),
        description="credit memos of loan proceeds (贷款发放): borrowed money is not revenue "
        "(notes §2, revenue estimate)",
    )
    refund_keywords: tuple[str, ...] = Field(
        default=("退款", "冲正", "退货", "撤销", "退回"),
        description="credit memos of refunds and reversals (退款/冲正): not revenue",
    )
    interest_keywords: tuple[str, ...] = Field(
        default=("结息", "利息"), description="credit memos of deposit interest (结息): not revenue"
    )
    capital_keywords: tuple[str, ...] = Field(
        default=("投资款", "注资", "增资", "入资", "股东投资", "实收资本", "注册资本"),
        description="credit memos of capital injections (注资): not revenue",
    )
    revenue_excludes_round_trips: bool = Field(
        default=True,
        description="drop the inflow legs of detected round-trip pairs from revenue, but only "
        "for businesses that meet round_trip_min_pairs (a lone pair may be trade)",
    )
    revenue_excludes_flagged_consulting: bool = Field(
        default=True,
        description="drop the consulting-fee credits that raise consulting_fee_inflow from "
        "revenue: counted in, they would confirm an inflated declaration in the sales "
        "cross-check instead of exposing it",
    )
    cash_withdrawal_keywords: tuple[str, ...] = Field(
        default=("取现", "取款", "ATM取"), description="debit memos of cash withdrawals (取现)"
    )
    cash_channels: tuple[str, ...] = Field(
        default=("ATM",), description="channels where a debit is a cash withdrawal"
    )
    payroll_keywords: tuple[str, ...] = Field(
        default=("代发工资", "工资", "薪资", "薪酬", "奖金"),
        description="debit memos of payroll (代发工资): an employee proxy (notes §2, staff)",
    )
    typical_monthly_wage_fen: int = Field(
        default=600_000,
        description="wage (6,000 CNY a month) that converts a batch payroll debit (no payee) "
        "into employees; the simulator's regional wages run 4,500–7,200 CNY",
    )
    tax_keywords: tuple[str, ...] = Field(
        default=("缴税", "税款", "增值税", "所得税", "税务局", "印花税", "附加税"),
        description="debit memos or counterparties of taxes (税款)",
    )
    social_insurance_keywords: tuple[str, ...] = Field(
        default=("社保", "社会保险", "公积金"),
        description="debit memos or counterparties of social insurance (社保)",
    )
    lender_keywords: tuple[str, ...] = Field(
        default=(
            "银行",
            "小贷",
            "小额贷款",
            "消费金融",
            "融资租赁",
            "保理",
            "担保",
            "典当",
            "借呗",
            "微粒贷",
            "网商贷",
            "京东金条",
            "金条",
            "花呗",
            "白条",
            "放款",
            "贷款",
            "还款",
        ),
        description="lender keywords in a debit's counterparty or memo (notes §2, hidden debt: "
        "银行/小贷/消费金融/融资租赁/保理/担保/典当, platform loans 借呗/微粒贷/网商贷/京东金条); "
        "a match on the generic 还款 alone needs the fixed monthly pattern, see "
        "generic_repayment_keywords",
    )
    generic_repayment_keywords: tuple[str, ...] = Field(
        default=("还款", "借款利息", "利息", "分期"),
        description="memos that only suggest a repayment: a lender debit if the same "
        "counterparty and memo recur as a fixed monthly amount (annuity pattern), and not "
        "otherwise (快进快出 legs are often booked as 还款)",
    )
    lender_exclude_keywords: tuple[str, ...] = Field(
        default=("信用卡", "卡中心", "银联商务"),
        description="debits that carry a lender word but are not loan service: credit-card "
        "bills (visible in the credit report as cards) and card acquirers",
    )
    annuity_min_months: int = Field(
        default=3, description="fixed monthly repayments in at least this many months"
    )
    annuity_amount_tolerance: float = Field(
        default=0.05, description="max/min − 1 of the amounts of a fixed monthly repayment"
    )
    private_lender_aliases: tuple[str, ...] = Field(
        default=("民间借贷", "个人借款", "私人借款"),
        description="declared-lender names that cover repayments found by the annuity pattern "
        "alone (private loans show as transfers to a person)",
    )
    hidden_debt_min_debits: int = Field(
        default=2, description="undeclared lender debits needed to raise hidden_debt"
    )
    gambling_keywords: tuple[str, ...] = Field(
        default=(
            "娱乐",
            "游戏充值",
            "棋牌",
            "彩票",
            "博彩",
            "赌",
            "百家乐",
            "投注",
            "老虎机",
            "捕鱼",
        ),
        description="abnormal keywords (notes §2: gambling or lottery, large gaming top-ups)",
    )
    gambling_min_count: int = Field(
        default=3,
        description="gambling-keyword debits needed to raise gambling: one "
        "entertainment payment is not a pattern",
    )
    large_cash_fen: int = Field(
        default=5_000_000,
        description="single cash withdrawal of 50,000 CNY or more: the PBOC large-value cash "
        "transaction reporting threshold (大额现金交易 5万元)",
    )
    cash_share_threshold: float = Field(
        default=0.3,
        description="cash withdrawals over business outflows (12 months) at or above this raise "
        "large_cash_withdrawal: cash hides where money goes",
    )
    round_trip_window_hours: float = Field(
        default=48.0, description="快进快出: the outflow follows the inflow within 0–2 days"
    )
    round_trip_tolerance: float = Field(
        default=0.01, description="same amount ±1 % (notes §2 round-tripping heuristics)"
    )
    round_trip_min_amount_fen: int = Field(
        default=1_000_000, description="legs of 10,000 CNY or more (the simulator's rule)"
    )
    round_trip_min_pairs: int = Field(
        default=5, description="pairs needed to raise round_tripping (the simulator's rule)"
    )
    consulting_keywords: tuple[str, ...] = Field(
        default=("咨询费", "服务费", "顾问费", "技术服务"),
        description="credit memos of consulting/service fees (咨询费/服务费)",
    )
    company_markers: tuple[str, ...] = Field(
        default=("公司", "有限", "企业", "合伙", "中心", "工作室"),
        description="counterparty words that mark a company payer",
    )
    consulting_min_fen: int = Field(
        default=1_000_000, description="a consulting credit of at least 10,000 CNY"
    )
    consulting_revenue_ratio: float = Field(
        default=0.2,
        description="and at least this share of the median monthly revenue (without such "
        "credits): a large one-off against normal income (notes §2)",
    )
    night_start_hour: int = Field(default=0, ge=0, le=23, description="night from 00:00")
    night_end_hour: int = Field(default=5, ge=1, le=24, description="night until 05:00")
    quarter_end_months: tuple[int, ...] = Field(
        default=(3, 6, 9, 12), description="quarter-end months for 季末突击存款"
    )

    @model_validator(mode="after")
    def _check(self) -> FlowsConfig:
        if not self.windows_months or any(w < 1 for w in self.windows_months):
            raise InvalidInput("windows_months", "need one or more positive windows")
        if self.night_end_hour <= self.night_start_hour:
            raise InvalidInput("night_end_hour", "must be after night_start_hour")
        return self


DEFAULT_CONFIG = FlowsConfig()

_REQUIRED = ("direction", "amount_fen", "balance_fen")
_TEXT = ("counterparty_name", "counterparty_account", "memo", "channel")


@dataclass(frozen=True)
class PreparedStatement:
    """A normalised, classified statement frame with the config that classified it."""

    frame: pl.DataFrame
    config: FlowsConfig
    memos: pl.DataFrame
    counterparties: pl.DataFrame


# --- normalising ------------------------------------------------------------------------------


def normalise_statement(tx: pl.DataFrame) -> pl.DataFrame:
    """The canonical frame from the importer's or the simulator's layout, validated.

    Output columns: ``business_id`` (Int64, 0 when absent), ``account_id`` (Int64 when given
    as integers, else String; 0 when absent), ``row`` (Int64), ``date`` (Date), ``ts``
    (Datetime; midnight when no time),
    ``has_time`` (bool), ``direction``, ``amount_fen``, ``balance_fen`` (Int64) and the text
    columns (String, null when absent).
    """
    if not isinstance(tx, pl.DataFrame):
        raise InvalidInput("statement", "expected a Polars DataFrame")
    cols = set(tx.columns)
    for c in _REQUIRED:
        if c not in cols:
            raise InvalidInput(c, "missing column")
    if "row" not in cols and "txn_id" not in cols:
        raise InvalidInput("row", "missing column (row or txn_id)")
    if "date" not in cols and "ts" not in cols:
        raise InvalidInput("date", "missing column (date or ts)")
    exprs: list[pl.Expr] = []
    exprs.append(
        pl.col("business_id").cast(pl.Int64) if "business_id" in cols else pl.lit(0, pl.Int64)
    )
    exprs.append(
        pl.col("account_id").cast(pl.Int64 if tx.schema["account_id"].is_integer() else pl.String)
        if "account_id" in cols
        else pl.lit(0, pl.Int64).alias("account_id")
    )
    rowcol = "row" if "row" in cols else "txn_id"
    for c in (rowcol, "amount_fen", "balance_fen"):
        if not tx.schema[c].is_integer():
            raise InvalidInput(c, f"must be integer (fen), got {tx.schema[c]}")
    exprs.append(pl.col(rowcol).cast(pl.Int64).alias("row"))
    if "ts" in cols:
        if not isinstance(tx.schema["ts"], pl.Datetime):
            raise InvalidInput("ts", f"must be a datetime, got {tx.schema['ts']}")
        ts = pl.col("ts").cast(pl.Datetime("us"))
        exprs += [ts.alias("ts"), ts.dt.date().alias("date"), pl.lit(value=True).alias("has_time")]
    else:
        if tx.schema["date"] != pl.Date:
            raise InvalidInput("date", f"must be a date, got {tx.schema['date']}")
        if "time" in cols and tx.schema["time"] == pl.Time:
            ts = pl.col("date").dt.combine(pl.col("time").fill_null(pl.time(0)), "us")
            has_time = pl.col("time").is_not_null()
        elif "time" in cols and tx.schema["time"] in (pl.Null,):
            ts, has_time = pl.col("date").cast(pl.Datetime("us")), pl.lit(value=False)
        elif "time" in cols:
            raise InvalidInput("time", f"must be a time of day, got {tx.schema['time']}")
        else:
            ts, has_time = pl.col("date").cast(pl.Datetime("us")), pl.lit(value=False)
        exprs += [ts.alias("ts"), pl.col("date"), has_time.alias("has_time")]
    exprs += [
        pl.col("direction").cast(pl.String),
        pl.col("amount_fen").cast(pl.Int64),
        pl.col("balance_fen").cast(pl.Int64),
    ]
    for c in _TEXT:
        if c in cols and tx.schema[c] not in (pl.String, pl.Null, pl.Categorical):
            raise InvalidInput(c, f"must be text, got {tx.schema[c]}")
        exprs.append(pl.col(c).cast(pl.String) if c in cols else pl.lit(None, pl.String).alias(c))
    out = tx.select(exprs)
    bad = out.select(
        dir=(~((pl.col("direction") == "in") | (pl.col("direction") == "out")))
        .fill_null(value=True)
        .sum(),
        amt=(pl.col("amount_fen").is_null() | (pl.col("amount_fen") < 0)).sum(),
        bal=pl.col("balance_fen").is_null().sum(),
        dt=pl.col("ts").is_null().sum(),
        row=pl.col("row").is_null().sum(),
    ).row(0, named=True)
    if bad["dir"]:
        raise InvalidInput("direction", f"{bad['dir']} rows not 'in' or 'out'")
    if bad["amt"]:
        raise InvalidInput("amount_fen", f"{bad['amt']} rows missing or negative")
    if bad["bal"]:
        raise InvalidInput("balance_fen", f"{bad['bal']} rows missing")
    if bad["dt"]:
        raise InvalidInput("date", f"{bad['dt']} rows missing")
    if bad["row"]:
        raise InvalidInput("row", f"{bad['row']} rows missing")
    return out


def own_identities(
    accounts: pl.DataFrame | None = None, names: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The own-identity frame (``business_id``, ``identifier``) from account numbers
    (``business_id``, ``account_no``) and names (``business_id``, ``name``: holder, owner,
    spouse, company — 本人/配偶/本企业)."""
    parts = []
    if accounts is not None:
        parts.append(
            accounts.select(
                pl.col("business_id").cast(pl.Int64),
                pl.col("account_no").cast(pl.String).alias("identifier"),
            )
        )
    if names is not None:
        parts.append(
            names.select(
                pl.col("business_id").cast(pl.Int64),
                pl.col("name").cast(pl.String).alias("identifier"),
            )
        )
    if not parts:
        return pl.DataFrame(schema={"business_id": pl.Int64, "identifier": pl.String})
    return pl.concat(parts).drop_nulls().filter(pl.col("identifier") != "").unique()


def _own_frame(own: pl.DataFrame | Sequence[str] | None, ids: pl.Series) -> pl.DataFrame:
    """Own identities as a frame; a plain list applies to every business of the statement."""
    if own is None:
        return own_identities()
    if isinstance(own, pl.DataFrame):
        for c in ("business_id", "identifier"):
            if c not in own.columns:
                raise InvalidInput(f"own.{c}", "missing column")
        return own.select(
            pl.col("business_id").cast(pl.Int64), pl.col("identifier").cast(pl.String)
        ).unique()
    if isinstance(own, str):
        raise InvalidInput("own", "expected a frame or a list of identifiers, got one string")
    names = pl.DataFrame({"identifier": [str(x) for x in own]}, schema={"identifier": pl.String})
    return pl.DataFrame({"business_id": ids.unique()}).join(names, how="cross")


# --- classification ---------------------------------------------------------------------------


def _contains(col: str, words: Sequence[str]) -> pl.Expr:
    if not words:
        return pl.lit(value=False)
    return pl.col(col).str.contains_any(list(words)).fill_null(value=False)


def _codes(values: pl.Series, name: str, rules: dict[str, Sequence[str]]) -> pl.DataFrame:
    """The distinct text values with an integer code and their keyword booleans (the rules run
    on the distinct values only, never on every transaction)."""
    frame = pl.DataFrame({name: values.unique(maintain_order=False).drop_nulls().sort()})
    frame = frame.with_row_index(f"{name}_id").with_columns(pl.col(f"{name}_id").cast(pl.Int32))
    return frame.with_columns(_contains(name, w).alias(k) for k, w in rules.items())


def _lookup(df: pl.DataFrame, keys: list[str], table: pl.DataFrame) -> pl.DataFrame:
    """Columns of ``table`` for each row of ``df`` (left join on narrow keys, row order kept)."""
    joined = df.select(keys).join(table, on=keys, how="left", maintain_order="left")
    return joined.drop(keys)


def prepare(
    tx: pl.DataFrame | PreparedStatement,
    own: pl.DataFrame | Sequence[str] | None = None,
    config: FlowsConfig = DEFAULT_CONFIG,
) -> PreparedStatement:
    """Normalise and classify a statement once; every other function accepts the result.

    The working frame is numeric: memos become ``memo_id`` (Int32) into
    :attr:`PreparedStatement.memos`, counterparty names ``cp_id`` (UInt64, a hash of the name)
    into :attr:`PreparedStatement.counterparties`, accounts ``acct``; rows are sorted by
    business, account and time, and ``seq`` is the position in that order.
    """
    if isinstance(tx, PreparedStatement):
        return tx
    cfg = config
    raw = normalise_statement(tx)
    own_f = _own_frame(own, raw["business_id"])
    strong_words = tuple(
        w for w in cfg.lender_keywords if not any(g in w for g in cfg.generic_repayment_keywords)
    )
    memo_rules: dict[str, Sequence[str]] = {
        "m_own": cfg.own_transfer_memo_keywords,
        "m_loan": cfg.loan_proceeds_keywords,
        "m_refund": cfg.refund_keywords,
        "m_interest": cfg.interest_keywords,
        "m_capital": cfg.capital_keywords,
        "m_cash": cfg.cash_withdrawal_keywords,
        "m_payroll": cfg.payroll_keywords,
        "m_tax": cfg.tax_keywords,
        "m_social": cfg.social_insurance_keywords,
        "m_lender": strong_words,
        "m_generic": cfg.generic_repayment_keywords,
        "m_excl": cfg.lender_exclude_keywords,
        "m_gamb": cfg.gambling_keywords,
        "m_consult": cfg.consulting_keywords,
    }
    cp_rules: dict[str, Sequence[str]] = {
        "c_tax": cfg.tax_keywords,
        "c_social": cfg.social_insurance_keywords,
        "c_lender": strong_words,
        "c_excl": cfg.lender_exclude_keywords,
        "c_gamb": cfg.gambling_keywords,
        "c_company": cfg.company_markers,
    }
    memos = _codes(raw["memo"], "memo", memo_rules)
    # counterparty names: a 64-bit hash is the code (a collision among a million names has a
    # probability of about 3e-8); the keyword rules run on one string per code
    cp_code = raw.select(
        cp_id=pl.when(pl.col("counterparty_name").is_not_null()).then(
            pl.col("counterparty_name").hash(seed=0)
        )
    )["cp_id"]
    firsts = cp_code.to_frame().with_row_index("_i").drop_nulls().unique(subset="cp_id", keep="any")
    cps = pl.DataFrame(
        {
            "cp_id": firsts["cp_id"],
            "counterparty_name": raw["counterparty_name"].gather(firsts["_i"]),
        }
    ).with_columns(_contains("counterparty_name", w).alias(k) for k, w in cp_rules.items())
    if raw.schema["account_id"].is_integer():
        acct = raw.select(acct=pl.col("account_id").cast(pl.Int64))
    else:
        accts = _codes(raw["account_id"], "account_id", {}).select(
            "account_id", acct=pl.col("account_id_id").cast(pl.Int64)
        )
        acct = _lookup(raw, ["account_id"], accts)
    # own transfers: names through the counterparty codes; accounts checked only on the rows
    # whose counterparty account is someone's own account
    own_names = own_f.join(cps, left_on="identifier", right_on="counterparty_name").select(
        "business_id", "cp_id"
    )
    own_accounts = own_f["identifier"].unique()
    candidates = raw.select(
        "business_id",
        "counterparty_account",
        cand=pl.col("counterparty_account").is_in(own_accounts.implode()).fill_null(value=False),
    ).with_row_index("_i")
    hits = candidates.filter("cand").join(
        own_f.rename({"identifier": "counterparty_account"}),
        on=["business_id", "counterparty_account"],
        how="semi",
    )["_i"]
    own_acc = pl.repeat(value=False, n=raw.height, dtype=pl.Boolean, eager=True).scatter(
        hits, values=True
    )
    df = pl.concat(
        [
            raw.select(
                "business_id",
                "row",
                "ts",
                "date",
                "has_time",
                "amount_fen",
                "balance_fen",
                is_in=pl.col("direction") == "in",
                cash_ch=pl.col("channel").is_in(list(cfg.cash_channels)).fill_null(value=False),
            ),
            acct,
            raw.select(
                memo_id=pl.col("memo").replace_strict(
                    memos["memo"], memos["memo_id"], default=None, return_dtype=pl.Int32
                )
            ),
            cp_code.to_frame(),
        ],
        how="horizontal",
    ).with_columns(
        _own_a=own_acc,
    )
    name_hits = (
        df.select("business_id", "cp_id")
        .with_row_index("_i")
        .filter(pl.col("cp_id").is_in(own_names["cp_id"].implode()))
        .join(own_names, on=["business_id", "cp_id"], how="semi")["_i"]
    )
    df = df.with_columns(
        pl.repeat(value=False, n=df.height, dtype=pl.Boolean, eager=True)
        .scatter(name_hits, values=True)
        .alias("_own_n")
    )
    df = _order(df)
    df = df.with_columns(
        [
            pl.lit(memos[k]).gather(pl.col("memo_id")).fill_null(value=False).alias(k)
            for k in memo_rules
        ]
        + [
            pl.col("cp_id").is_in(cps.filter(k)["cp_id"].implode()).fill_null(value=False).alias(k)
            for k in cp_rules
        ]
    )
    inflow = pl.col("is_in")
    out = ~inflow
    m = {k: pl.col(k).fill_null(value=False) for k in [*memo_rules, *cp_rules]}
    is_own = (
        pl.col("_own_a").fill_null(value=False)
        | pl.col("_own_n").fill_null(value=False)
        | m["m_own"]
    )
    no_cp = pl.col("cp_id").is_null()
    excl = m["m_excl"] | m["c_excl"]
    df = df.with_columns(
        is_own=is_own,
        is_cash_out=out & ~is_own & (m["m_cash"] | (pl.col("cash_ch") & no_cp)),
        is_payroll=out & ~is_own & m["m_payroll"],
        is_tax=out & ~is_own & (m["m_tax"] | m["c_tax"]) & ~m["m_social"],
        is_social=out & ~is_own & (m["m_social"] | m["c_social"]),
        is_gambling=out & ~is_own & (m["m_gamb"] | m["c_gamb"]),
        lender_strong=out & ~is_own & (m["c_lender"] | m["m_lender"]) & ~excl,
        lender_generic=out & ~is_own & m["m_generic"] & ~excl,
        not_revenue=inflow
        & (is_own | m["m_loan"] | m["m_refund"] | m["m_interest"] | m["m_capital"]),
        is_consult_in=inflow & ~is_own & m["m_consult"] & m["c_company"],
        month_idx=pl.col("date").dt.year().cast(pl.Int32) * 12 + pl.col("date").dt.month() - 1,
        signed=pl.when(inflow).then(pl.col("amount_fen")).otherwise(-pl.col("amount_fen")),
    ).drop([*memo_rules, *cp_rules, "_own_a", "_own_n", "cash_ch"])
    df = _mark_round_trips(df, cfg)
    df = _mark_consulting(df, cfg)
    return PreparedStatement(
        frame=df,
        config=cfg,
        memos=memos.select("memo_id", "memo"),
        counterparties=cps.select("cp_id", "counterparty_name"),
    )


def _order(df: pl.DataFrame) -> pl.DataFrame:
    """Sort by business, account, time; ties by file row in the file's direction (a file
    listed newest first keeps its same-time rows in reverse). A frame already in ascending
    order (the simulator's, most exports) is only checked."""

    def increasing(keys: tuple[str, ...]) -> bool:
        later = pl.lit(value=False)
        for k in reversed(keys):
            c = pl.col(k)
            later = (c > c.shift(1)) | ((c == c.shift(1)) & later)
        return bool(df.select(later.fill_null(value=True).all()).item())

    if not increasing(("business_id", "acct", "ts", "row")):
        direction = df.group_by("acct").agg(
            desc=pl.col("ts").get(pl.col("row").arg_min())
            > pl.col("ts").get(pl.col("row").arg_max())
        )
        desc = _lookup(df, ["acct"], direction)["desc"]
        tie = pl.when(desc).then(-pl.col("row")).otherwise(pl.col("row"))
        df = df.sort(pl.col("business_id"), pl.col("acct"), pl.col("ts"), tie)
    return df.with_columns(seq=pl.int_range(pl.len(), dtype=pl.Int64))


def _mark_round_trips(df: pl.DataFrame, cfg: FlowsConfig) -> pl.DataFrame:
    """Pair each large non-own inflow with the first outflow of the same amount (± tolerance)
    on the same account within the window; each outflow pairs once."""
    window_us = int(cfg.round_trip_window_hours * 3600 * 1_000_000)
    days = math.ceil(cfg.round_trip_window_hours / 24)
    base = df.filter(
        ~pl.col("is_own") & (pl.col("amount_fen") >= cfg.round_trip_min_amount_fen)
    ).select("business_id", "acct", "seq", "row", "ts", "date", "amount_fen", "is_in")
    ins = (
        base.filter(pl.col("is_in"))
        .with_columns(off=pl.int_ranges(0, days + 1))
        .explode("off")
        .with_columns(day=pl.col("date") + pl.duration(days=pl.col("off")))
    )
    outs = base.filter(~pl.col("is_in")).rename(
        {"seq": "o_seq", "row": "o_row", "ts": "o_ts", "amount_fen": "o_amt", "date": "day"}
    )
    pairs = (
        ins.join(outs.drop("is_in"), on=["business_id", "acct", "day"], how="inner")
        .with_columns(dt=(pl.col("o_ts") - pl.col("ts")).dt.total_microseconds())
        .filter(
            (pl.col("dt") >= 0)
            & (pl.col("dt") <= window_us)
            & (pl.col("o_seq") > pl.col("seq"))
            & (
                (pl.col("o_amt") - pl.col("amount_fen")).abs()
                <= pl.col("amount_fen") * cfg.round_trip_tolerance
            )
        )
        .sort("seq", "dt", "o_seq")
        .unique("seq", keep="first", maintain_order=True)
        .unique("o_seq", keep="first", maintain_order=True)
        .select("business_id", "seq", "o_seq", "row", "o_row")
    )
    counts = pairs.group_by("business_id").agg(rt_pairs=pl.len())
    flagged = counts.filter(pl.col("rt_pairs") >= cfg.round_trip_min_pairs)
    legs = pl.concat(
        [
            pairs.select("business_id", pl.col("seq"), pl.col("o_row").alias("rt_other")),
            pairs.select(
                "business_id", pl.col("o_seq").alias("seq"), pl.col("row").alias("rt_other")
            ),
        ]
    )
    other = pl.repeat(None, n=df.height, dtype=pl.Int64, eager=True).alias("rt_other")
    other = other.scatter(legs["seq"], legs["rt_other"])
    return (
        df.with_columns(
            other,
            rt_business=pl.col("business_id").is_in(flagged["business_id"].implode()),
        )
        .with_columns(is_rt_leg=pl.col("rt_other").is_not_null())
        .with_columns(
            is_revenue=pl.col("is_in")
            & ~pl.col("not_revenue")
            & ~(
                pl.col("is_rt_leg") & pl.col("rt_business")
                if cfg.revenue_excludes_round_trips
                else pl.lit(value=False)
            )
        )
    )


def _mark_consulting(df: pl.DataFrame, cfg: FlowsConfig) -> pl.DataFrame:
    """Large consulting/service-fee credits from companies against the typical month (median
    monthly revenue without such credits): ``is_consult_flag``, and out of revenue if
    configured."""
    candidates = df.filter(
        pl.col("is_consult_in") & (pl.col("amount_fen") >= cfg.consulting_min_fen)
    )["business_id"].unique()
    if candidates.len() == 0:
        return df.with_columns(
            is_consult_flag=pl.lit(value=False), typical=pl.lit(None, pl.Float64)
        )
    sub = df.filter(pl.col("business_id").is_in(candidates.implode()))
    rev = sub.filter(pl.col("is_revenue") & ~pl.col("is_consult_in"))
    grid, _ = _grid(sub)
    typical = (
        grid.join(
            rev.group_by("business_id", "month_idx").agg(r=pl.col("amount_fen").sum()),
            on=["business_id", "month_idx"],
            how="left",
        )
        .group_by("business_id")
        .agg(typical=pl.col("r").fill_null(0).cast(pl.Float64).median())
    )
    df = df.hstack(_lookup(df, ["business_id"], typical)).with_columns(
        is_consult_flag=pl.col("is_consult_in")
        & (pl.col("amount_fen") >= cfg.consulting_min_fen)
        & (pl.col("amount_fen") >= cfg.consulting_revenue_ratio * pl.col("typical"))
    )
    if cfg.revenue_excludes_flagged_consulting:
        df = df.with_columns(is_revenue=pl.col("is_revenue") & ~pl.col("is_consult_flag"))
    return df


# --- monthly table ----------------------------------------------------------------------------


def _if(cond: pl.Expr, value: pl.Expr) -> pl.Expr:
    """``value`` where ``cond`` holds, else 0 (plain sums group faster than filtered ones)."""
    return pl.when(cond).then(value).otherwise(0)


def _month_start(idx: pl.Expr) -> pl.Expr:
    return pl.date(idx // 12, idx % 12 + 1, 1)


def _balance_pieces(df: pl.DataFrame, grid_bounds: pl.DataFrame) -> pl.DataFrame:
    """Business-level end-of-day total balance as constant pieces split by calendar month.

    Each account's end-of-day balance is carried forward over days without transactions
    (and its opening balance back to the window start); the business total is the sum of its
    accounts' balances, changing only on days when some account has a transaction.
    Output: business_id, month_idx, days (length of the piece in that month), total, stop
    (day after the piece), me (first day of the next month), days as integers.
    """
    acct = pl.col("acct")
    day = pl.col("date").cast(pl.Int32)
    last_of_day = (acct != acct.shift(-1)) | (day != day.shift(-1))
    first_of_acct = (acct != acct.shift(1)).fill_null(value=True)
    eod = df.select(
        "business_id",
        "acct",
        day=day,
        bal=pl.col("balance_fen"),
        open_bal=pl.when(first_of_acct).then(pl.col("balance_fen") - pl.col("signed")),
        keep=last_of_day.fill_null(value=True),
        first=first_of_acct,
    )
    bounds = grid_bounds.select(
        "business_id",
        w_start=pl.col("w_start").cast(pl.Int32),
        w_end=pl.col("w_end").cast(pl.Int32),
    )
    opening = eod.filter("first").select("business_id", "open_bal")
    eod = eod.with_columns(pl.col("open_bal").forward_fill()).filter("keep")
    prev = pl.when(acct == acct.shift(1)).then(pl.col("bal").shift(1)).otherwise(pl.col("open_bal"))
    deltas = pl.concat(
        [
            eod.select("business_id", "day", delta=pl.col("bal") - prev),
            opening.join(bounds, on="business_id").select(
                "business_id", day=pl.col("w_start"), delta=pl.col("open_bal")
            ),
        ]
    ).sort("business_id", "day")
    biz = pl.col("business_id")
    cs = pl.col("delta").cum_sum()
    first_of_biz = (biz != biz.shift(1)).fill_null(value=True)
    next_differs = (biz != biz.shift(-1)) | (pl.col("day") != pl.col("day").shift(-1))
    last_of_bday = next_differs.fill_null(value=True)
    totals = (
        deltas.with_columns(
            total=cs - pl.when(first_of_biz).then(cs - pl.col("delta")).forward_fill(),
            keep=last_of_bday,
        )
        .filter("keep")
        .with_columns(next_day=pl.when(biz == biz.shift(-1)).then(pl.col("day").shift(-1)))
    )
    totals = totals.hstack(_lookup(totals, ["business_id"], bounds.select("business_id", "w_end")))
    totals = totals.with_columns(end=pl.coalesce("next_day", "w_end"))
    # calendar months as day numbers: month m covers [starts[m], starts[m + 1])
    lo = int(bounds.select(pl.col("w_start").min()).item() or 0)
    hi = int(bounds.select(pl.col("w_end").max()).item() or 0)
    first_month = date.fromordinal(date(1970, 1, 1).toordinal() + lo)
    n_months = (hi - lo) // 28 + 2
    m0 = first_month.year * 12 + first_month.month - 1
    months = pl.DataFrame({"month_idx": pl.int_range(m0, m0 + n_months + 1, eager=True)})
    months = months.with_columns(start=_month_start(pl.col("month_idx")).cast(pl.Int32))
    starts = months["start"]
    pos0 = starts.search_sorted(totals["day"], side="right") - 1
    pos1 = starts.search_sorted(totals["end"] - 1, side="right") - 1
    pieces = (
        totals.select("business_id", "day", "end", "total")
        .with_columns(pos=pl.int_ranges(pos0, pos1 + 1))
        .explode("pos")
        .with_columns(
            ms=pl.lit(starts).gather(pl.col("pos")),
            me=pl.lit(starts).gather(pl.col("pos") + 1),
            month_idx=(pl.col("pos") + m0).cast(pl.Int32),
        )
        .with_columns(
            stop=pl.min_horizontal("end", "me"),
            days=pl.min_horizontal("end", "me") - pl.max_horizontal("day", "ms"),
        )
        .filter(pl.col("days") > 0)
    )
    return pieces.select("business_id", "month_idx", "days", "total", "stop", "me")


def _grid(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    bounds = df.group_by("business_id").agg(
        m_first=pl.col("month_idx").min(), m_last=pl.col("month_idx").max()
    )
    grid = (
        bounds.with_columns(month_idx=pl.int_ranges(pl.col("m_first"), pl.col("m_last") + 1))
        .explode("month_idx")
        .select(
            "business_id",
            pl.col("month_idx").cast(pl.Int32),
            mback=(pl.col("m_last") - pl.col("month_idx")).cast(pl.Int32),
        )
    )
    gb = bounds.select(
        "business_id",
        w_start=_month_start(pl.col("m_first")),
        w_end=_month_start(pl.col("m_last") + 1),
    )
    return grid, gb


def monthly_table(
    tx: pl.DataFrame | PreparedStatement,
    own: pl.DataFrame | Sequence[str] | None = None,
    config: FlowsConfig = DEFAULT_CONFIG,
) -> pl.DataFrame:
    """Per business and calendar month (月度流水表), every month from the first to the last
    with a transaction.

    Columns: ``business_id``, ``month`` (first day), ``inflow``, ``outflow``, ``net``,
    ``revenue_estimate`` (all fen, Int64), ``own_transfer_in``, ``inflow_count``,
    ``outflow_count``, ``revenue_count``, ``average_daily_balance`` (Float64, fen: Σ over
    accounts of the month's mean end-of-day balance), ``min_balance`` (lowest end-of-day total),
    ``month_end_balance``, ``low_balance_days`` (days with the total below
    ``low_balance_fen``), ``negative_balance_days``.
    """
    p = prepare(tx, own, config)
    return _monthly(p.frame, p.config)


def _monthly(df: pl.DataFrame, cfg: FlowsConfig) -> pl.DataFrame:
    grid, gb = _grid(df)
    amt = pl.col("amount_fen")
    agg = (
        df.select(
            "business_id",
            "month_idx",
            inflow=_if(pl.col("is_in"), amt),
            outflow=_if(~pl.col("is_in"), amt),
            revenue_estimate=_if(pl.col("is_revenue"), amt),
            own_transfer_in=_if(pl.col("is_in") & pl.col("is_own"), amt),
            inflow_count=pl.col("is_in").cast(pl.Int64),
            outflow_count=(~pl.col("is_in")).cast(pl.Int64),
            revenue_count=pl.col("is_revenue").cast(pl.Int64),
        )
        .group_by("business_id", "month_idx")
        .agg(pl.all().sum())
    )
    pieces = _balance_pieces(df, gb)
    bal = pieces.group_by("business_id", "month_idx").agg(
        adb_sum=(pl.col("total").cast(pl.Float64) * pl.col("days")).sum(),
        min_balance=pl.col("total").min(),
        month_end_balance=pl.col("total").filter(pl.col("stop") == pl.col("me")).first(),
        low_balance_days=pl.col("days").filter(pl.col("total") < cfg.low_balance_fen).sum(),
        negative_balance_days=pl.col("days").filter(pl.col("total") < 0).sum(),
    )
    zero_int = ["inflow", "outflow", "revenue_estimate", "own_transfer_in"]
    counts = ["inflow_count", "outflow_count", "revenue_count"]
    out = (
        grid.join(agg, on=["business_id", "month_idx"], how="left")
        .join(bal, on=["business_id", "month_idx"], how="left")
        .with_columns(
            [pl.col(c).fill_null(0).cast(pl.Int64) for c in zero_int + counts]
            + [
                pl.col(c).fill_null(0).cast(pl.Int64)
                for c in ("low_balance_days", "negative_balance_days")
            ]
        )
        .with_columns(
            month=_month_start(pl.col("month_idx")),
            net=pl.col("inflow") - pl.col("outflow"),
            average_daily_balance=pl.col("adb_sum")
            / (
                _month_start(pl.col("month_idx") + 1) - _month_start(pl.col("month_idx"))
            ).dt.total_days(),
        )
    )
    return out.select(
        "business_id",
        "month",
        "month_idx",
        "mback",
        "inflow",
        "outflow",
        "net",
        "revenue_estimate",
        "own_transfer_in",
        "inflow_count",
        "outflow_count",
        "revenue_count",
        "average_daily_balance",
        pl.col("min_balance").cast(pl.Int64),
        pl.col("month_end_balance").cast(pl.Int64),
        "low_balance_days",
        "negative_balance_days",
    ).sort("business_id", "month")


# --- features ---------------------------------------------------------------------------------


def _concentration(prefix: str) -> list[pl.Expr]:
    """Top-1 and top-5 shares and the Herfindahl-Hirschman index (HHI, Σ share², 0–1) of the
    counterparties' amounts in ``amt`` (集中度)."""
    s = pl.col("amt").cast(pl.Float64)
    tot = s.sum()
    return [
        (s.max() / tot).alias(f"{prefix}_top1_share"),
        (s.top_k(5).sum() / tot).alias(f"{prefix}_top5_share"),
        ((s / tot) ** 2).sum().alias(f"{prefix}_hhi"),
        pl.len().alias(f"{prefix}_count"),
    ]


def flow_features(
    tx: pl.DataFrame | PreparedStatement,
    own: pl.DataFrame | Sequence[str] | None = None,
    config: FlowsConfig = DEFAULT_CONFIG,
    monthly: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per business, features over each window ``w`` of ``config.windows_months``
    (suffix ``_{w}m``), the window ending with the business's last statement month.

    Per window: ``inflow``, ``outflow``, ``net``, ``revenue`` (fen, Int64); ``months``;
    ``revenue_mean``; ``revenue_trend`` (OLS slope per month / mean); ``revenue_cv`` (sample
    std / mean); ``seasonality_index`` (max month / mean); ``adb_mean``;
    ``low_balance_months``, ``negative_balance_months``, ``low_balance_days``;
    ``turnover_adb_ratio`` (mean monthly inflow / mean ADB); ``quarter_end_spike`` (mean
    quarter-end balance / mean ADB); ``customer_top1_share``, ``customer_top5_share``,
    ``customer_hhi``, ``customer_count`` (revenue inflows by counterparty name; cash deposits
    and nameless credits left out) and the same for ``supplier_`` (business outflows by
    counterparty: not own, tax, social insurance, payroll, lenders, cash or gambling);
    ``payroll``, ``employees_proxy`` (monthly mean of distinct named payees + nameless batch
    payroll / typical wage), ``tax``, ``social_insurance``; ``cash_withdrawal``,
    ``cash_share`` (cash over non-own outflows); ``lender_repayment``, ``lender_count``;
    ``gambling``; ``night_share`` (transactions with a time stamp in the night band);
    ``round_trip_pairs``.
    """
    p = prepare(tx, own, config)
    df, cfg = p.frame, p.config
    m = monthly if monthly is not None else _monthly(df, cfg)
    bounds = m.group_by("business_id").agg(m_last=pl.col("month_idx").max())
    df = df.hstack(_lookup(df, ["business_id"], bounds)).with_columns(
        mback=(pl.col("m_last") - pl.col("month_idx")).cast(pl.Int32)
    )
    lender = _lender_debits(df, cfg)
    df = counterparty_roles(df, cfg, lender_debits=lender)
    amt = pl.col("amount_fen")
    hour = pl.col("ts").dt.hour()
    is_night = (hour >= cfg.night_start_hour) & (hour < cfg.night_end_hour)
    supplier = pl.col("is_supplier")
    # per business × month, transaction-level sums (then windows over months)
    tm = (
        df.select(
            "business_id",
            "mback",
            payroll=_if(pl.col("is_payroll"), amt),
            batch_payroll=_if(pl.col("is_payroll") & pl.col("cp_id").is_null(), amt),
            tax=_if(pl.col("is_tax"), amt),
            social_insurance=_if(pl.col("is_social"), amt),
            cash_withdrawal=_if(pl.col("is_cash_out"), amt),
            nonown_out=_if(~pl.col("is_in") & ~pl.col("is_own"), amt),
            lender_repayment=_if(pl.col("is_lender"), amt),
            gambling=_if(pl.col("is_gambling"), amt),
            night=(is_night & pl.col("has_time")).cast(pl.Int64),
            timed=pl.col("has_time").cast(pl.Int64),
            rt_pairs=(pl.col("is_rt_leg") & pl.col("is_in")).cast(pl.Int64),
        )
        .group_by("business_id", "mback")
        .agg(pl.all().sum())
    )
    payees = (
        df.filter(pl.col("is_payroll") & pl.col("cp_id").is_not_null())
        .group_by("business_id", "mback")
        .agg(payees=pl.col("cp_id").n_unique())
    )
    tm = tm.join(payees, on=["business_id", "mback"], how="left").with_columns(
        pl.col("payees").fill_null(0)
    )
    customer = pl.col("is_customer")
    cpw = (
        df.filter(customer | supplier)
        .select(
            "business_id",
            "cp_id",
            pl.col("is_in").alias("role"),
            *[
                _if(pl.col("mback") < w, pl.col("amount_fen")).alias(f"w{w}")
                for w in cfg.windows_months
            ],
        )
        .group_by("business_id", "role", "cp_id")
        .agg(pl.all().sum())
    )
    lend_m = lender.with_columns(mback=df["mback"].gather(lender["seq"])).select(
        "business_id", "mback", "lender"
    )
    result = bounds.select("business_id")
    for w in cfg.windows_months:
        sfx = f"_{w}m"
        mw = m.filter(pl.col("mback") < w).sort("business_id", "month_idx")
        rev = pl.col("revenue_estimate").cast(pl.Float64)
        x = pl.col("month_idx").cast(pl.Float64)
        xc = x - x.mean()
        slope = (xc * (rev - rev.mean())).sum() / (xc**2).sum()
        qe = pl.col("month_end_balance").filter(
            (pl.col("month_idx") % 12 + 1).is_in(list(cfg.quarter_end_months))
        )
        feats = mw.group_by("business_id").agg(
            pl.col("inflow").sum().alias("inflow"),
            pl.col("outflow").sum().alias("outflow"),
            pl.col("net").sum().alias("net"),
            pl.col("revenue_estimate").sum().alias("revenue"),
            pl.len().alias("months"),
            rev.mean().alias("revenue_mean"),
            (slope / rev.mean()).alias("revenue_trend"),
            (rev.std(ddof=1) / rev.mean()).alias("revenue_cv"),
            (rev.max() / rev.mean()).alias("seasonality_index"),
            pl.col("average_daily_balance").mean().alias("adb_mean"),
            (pl.col("min_balance") < cfg.low_balance_fen).sum().alias("low_balance_months"),
            (pl.col("min_balance") < 0).sum().alias("negative_balance_months"),
            pl.col("low_balance_days").sum().alias("low_balance_days"),
            (pl.col("inflow").mean() / pl.col("average_daily_balance").mean()).alias(
                "turnover_adb_ratio"
            ),
            (qe.cast(pl.Float64).mean() / pl.col("average_daily_balance").mean()).alias(
                "quarter_end_spike"
            ),
        )
        tw = (
            tm.filter(pl.col("mback") < w)
            .group_by("business_id")
            .agg(
                pl.col("payroll").sum(),
                (
                    (
                        pl.col("payees").sum()
                        + pl.col("batch_payroll").sum() / cfg.typical_monthly_wage_fen
                    )
                    / w
                ).alias("employees_proxy"),
                pl.col("tax").sum(),
                pl.col("social_insurance").sum(),
                pl.col("cash_withdrawal").sum(),
                (pl.col("cash_withdrawal").sum() / pl.col("nonown_out").sum()).alias("cash_share"),
                pl.col("lender_repayment").sum(),
                pl.col("gambling").sum(),
                (pl.col("night").sum() / pl.col("timed").sum()).alias("night_share"),
                pl.col("rt_pairs").sum().alias("round_trip_pairs"),
            )
        )
        conc = cpw.select("business_id", "role", amt=pl.col(f"w{w}")).filter(pl.col("amt") > 0)
        cust = conc.filter(pl.col("role")).group_by("business_id").agg(_concentration("customer"))
        supp = conc.filter(~pl.col("role")).group_by("business_id").agg(_concentration("supplier"))
        lc = (
            lend_m.filter(pl.col("mback") < w)
            .group_by("business_id")
            .agg(lender_count=pl.col("lender").n_unique())
        )
        part = (
            feats.join(tw, on="business_id", how="left")
            .join(cust, on="business_id", how="left")
            .join(supp, on="business_id", how="left")
            .join(lc, on="business_id", how="left")
            .with_columns(pl.col("lender_count", "customer_count", "supplier_count").fill_null(0))
        )
        part = part.rename({c: c + sfx for c in part.columns if c != "business_id"})
        result = result.join(part, on="business_id", how="left")
    return result.sort("business_id")


def counterparty_roles(
    df: pl.DataFrame,
    config: FlowsConfig = DEFAULT_CONFIG,
    *,
    lender_debits: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The prepared frame with the counterparty roles (交易对手角色) of the concentration
    features: ``is_lender`` (a debit serving a lender, by the hidden-debt rules),
    ``is_customer`` (a revenue inflow from a named counterparty) and ``is_supplier`` (a named
    business outflow: not own, tax, social insurance, payroll, lender service, cash or
    gambling). One definition for the features and the memo's concentration chart.
    ``lender_debits``: the lender debits if the caller already has them."""
    lender = _lender_debits(df, config) if lender_debits is None else lender_debits
    is_lender = pl.repeat(value=False, n=df.height, dtype=pl.Boolean, eager=True).alias("is_lender")
    named = pl.col("cp_id").is_not_null()
    return df.with_columns(is_lender.scatter(lender["seq"], values=True)).with_columns(
        (pl.col("is_revenue") & named).alias("is_customer"),
        (
            ~pl.col("is_in")
            & ~pl.col("is_own")
            & ~pl.col("is_tax")
            & ~pl.col("is_social")
            & ~pl.col("is_payroll")
            & ~pl.col("is_lender")
            & ~pl.col("is_cash_out")
            & ~pl.col("is_gambling")
            & named
        ).alias("is_supplier"),
    )


def _lender_debits(df: pl.DataFrame, cfg: FlowsConfig) -> pl.DataFrame:
    """Debits to lenders: a lender keyword, or a generic repayment memo recurring as a fixed
    monthly amount to the same counterparty (annuity pattern). Columns: seq, business_id,
    cp_id, memo_id, lender (counterparty code, or the memo's when nameless), strong (keyword
    match)."""
    strong = df.filter(pl.col("lender_strong")).select(
        "seq", "business_id", "cp_id", "memo_id", strong=pl.lit(value=True)
    )
    gen = df.filter(pl.col("lender_generic") & ~pl.col("lender_strong"))
    key = ["business_id", "cp_id", "memo_id"]
    pattern = (
        gen.group_by(key)
        .agg(
            months=pl.col("month_idx").n_unique(),
            n=pl.len(),
            lo=pl.col("amount_fen").min(),
            hi=pl.col("amount_fen").max(),
        )
        .filter(
            (pl.col("months") >= cfg.annuity_min_months)
            & (pl.col("n") <= pl.col("months") + 1)
            & (pl.col("hi") <= pl.col("lo") * (1 + cfg.annuity_amount_tolerance))
        )
        .select(key)
    )
    weak = gen.join(pattern, on=key, how="semi", nulls_equal=True).select(
        "seq", "business_id", "cp_id", "memo_id", strong=pl.lit(value=False)
    )
    return pl.concat([strong, weak]).with_columns(
        lender=pl.coalesce(pl.col("cp_id"), pl.col("memo_id").cast(pl.UInt64))
    )


# --- flags ------------------------------------------------------------------------------------


def _yuan(fen: float) -> str:
    return f"{fen / 100:,.0f} CNY"


def _rows(frame: pl.DataFrame) -> dict[int, tuple[int, ...]]:
    g = frame.group_by("business_id").agg(pl.col("row").unique().sort())
    return {int(b): tuple(int(r) for r in rows) for b, rows in g.iter_rows()}


def flow_flags(
    tx: pl.DataFrame | PreparedStatement,
    own: pl.DataFrame | Sequence[str] | None = None,
    config: FlowsConfig = DEFAULT_CONFIG,
    declared_lenders: pl.DataFrame | Sequence[str] | None = None,
) -> dict[int, list[Flag]]:
    """Flags per business (only businesses with at least one flag), each with the statement
    rows that raised it.

    ``declared_lenders``: the lenders the applicant declared (``business_id``, ``lender``), or a
    list of names for a one-business statement; a repayment to a lender whose name (before any
    parenthesis, or the product in it, e.g. ``重庆蚂蚁消费金融(借呗)``) is not found in the
    debit's counterparty or memo raises ``hidden_debt``. ``None`` means nothing was declared.
    """
    p = prepare(tx, own, config)
    df, cfg = p.frame, p.config
    flags: dict[int, list[Flag]] = {}

    def add(b: int, flag: Flag) -> None:
        flags.setdefault(b, []).append(flag)

    # round_tripping
    rt = df.filter(pl.col("rt_business") & pl.col("is_rt_leg"))
    if rt.height:
        g = rt.group_by("business_id").agg(
            pairs=pl.col("is_in").sum(),
            amount=pl.col("amount_fen").filter(pl.col("is_in")).sum(),
            rows=pl.col("row").append(pl.col("rt_other")).unique().sort(),
        )
        for b, pairs, amount, rows in g.iter_rows():
            add(
                int(b),
                Flag(
                    code="round_tripping",
                    severity=Severity.CRITICAL,
                    message=(
                        f"{pairs} in/out pairs of the same amount within "
                        f"{cfg.round_trip_window_hours:g} h (快进快出, 过账/刷流水), "
                        f"{_yuan(amount)} passed through"
                    ),
                    transactions=tuple(int(r) for r in rows),
                    evidence={"pairs": int(pairs), "amount_fen": int(amount)},
                ),
            )
    # hidden_debt
    debits = _lender_debits(df, cfg)
    lender = (
        debits.with_columns(df["row"].gather(debits["seq"]))
        .join(p.memos, on="memo_id", how="left")
        .join(p.counterparties, on="cp_id", how="left")
        .with_columns(lender=pl.coalesce("counterparty_name", "memo"))
    )
    declared = _declared_frame(declared_lenders, cfg, df["business_id"])
    matched = (
        lender.join(declared, on="business_id", how="inner")
        .filter(
            pl.when(pl.col("private"))
            .then(~pl.col("strong"))
            .otherwise(
                pl.col("counterparty_name")
                .fill_null("")
                .str.contains(pl.col("alias"), literal=True)
                | pl.col("memo").fill_null("").str.contains(pl.col("alias"), literal=True)
            )
        )
        .select("seq")
        .unique()
    )
    undeclared = lender.join(matched, on="seq", how="anti")
    hd = (
        undeclared.group_by("business_id")
        .agg(
            n=pl.len(),
            lenders=pl.col("lender").unique().sort(),
            rows=pl.col("row").sort(),
        )
        .filter(pl.col("n") >= cfg.hidden_debt_min_debits)
    )
    for b, n, lenders, rows in hd.iter_rows():
        add(
            int(b),
            Flag(
                code="hidden_debt",
                severity=Severity.CRITICAL,
                message=(
                    f"{n} repayments to lenders not declared (隐瞒负债): {', '.join(lenders[:5])}"
                ),
                transactions=tuple(int(r) for r in rows),
                evidence={"lenders": list(lenders)},
            ),
        )
    # gambling
    gm = (
        df.filter(pl.col("is_gambling"))
        .group_by("business_id")
        .agg(n=pl.len(), amount=pl.col("amount_fen").sum(), rows=pl.col("row").sort())
        .filter(pl.col("n") >= cfg.gambling_min_count)
    )
    for b, n, amount, rows in gm.iter_rows():
        add(
            int(b),
            Flag(
                code="gambling",
                severity=Severity.WARNING,
                message=(
                    f"{n} payments to gambling or gaming merchants (赌博/游戏充值), {_yuan(amount)}"
                ),
                transactions=tuple(int(r) for r in rows),
                evidence={"count": int(n), "amount_fen": int(amount)},
            ),
        )
    # large_cash_withdrawal
    cash = df.filter(pl.col("is_cash_out"))
    big = _rows(cash.filter(pl.col("amount_fen") >= cfg.large_cash_fen))
    share = (
        df.group_by("business_id")
        .agg(
            cash=pl.col("amount_fen").filter(pl.col("is_cash_out")).sum(),
            out=pl.col("amount_fen").filter(~pl.col("is_in") & ~pl.col("is_own")).sum(),
        )
        .with_columns(share=pl.col("cash") / pl.col("out"))
        .filter(pl.col("share") >= cfg.cash_share_threshold)
    )
    high_share = {int(b): float(s) for b, s in share.select("business_id", "share").iter_rows()}
    all_cash = _rows(cash.filter(pl.col("business_id").is_in(list(high_share))))
    for b in sorted(set(big) | set(high_share)):
        parts = []
        if b in big:
            parts.append(f"{len(big[b])} withdrawals of {_yuan(cfg.large_cash_fen)} or more")
        if b in high_share:
            parts.append(f"cash is {high_share[b]:.0%} of outflows")
        add(
            b,
            Flag(
                code="large_cash_withdrawal",
                severity=Severity.WARNING,
                message="Large cash withdrawals (大额取现): " + "; ".join(parts),
                transactions=tuple(sorted(set(big.get(b, ())) | set(all_cash.get(b, ())))),
                evidence={"cash_share": high_share[b]} if b in high_share else {},
            ),
        )
    # balance_mismatch
    mm = df.with_columns(
        prev=pl.when(pl.col("acct") == pl.col("acct").shift(1)).then(pl.col("balance_fen").shift(1))
    ).filter(
        pl.col("prev").is_not_null() & (pl.col("balance_fen") != pl.col("prev") + pl.col("signed"))
    )
    for b, rows in _rows(mm).items():
        add(
            b,
            Flag(
                code="balance_mismatch",
                severity=Severity.CRITICAL,
                message=(
                    f"The running balance does not reconcile on {len(rows)} rows (余额不连续): "
                    "balance ≠ previous balance ± amount"
                ),
                transactions=rows,
            ),
        )
    # consulting_fee_inflow
    cf = (
        df.filter(pl.col("is_consult_flag"))
        .group_by("business_id")
        .agg(
            n=pl.len(),
            amount=pl.col("amount_fen").sum(),
            typical=pl.col("typical").first(),
            rows=pl.col("row").sort(),
        )
    )
    for b, n, amount, typ, rows in cf.iter_rows():
        add(
            int(b),
            Flag(
                code="consulting_fee_inflow",
                severity=Severity.WARNING,
                message=(
                    f"{n} large consulting/service-fee credits from companies (咨询费/服务费), "
                    f"{_yuan(amount)} against a typical month of {_yuan(typ or 0)}"
                ),
                transactions=tuple(int(r) for r in rows),
                evidence={"amount_fen": int(amount), "typical_month_fen": float(typ or 0)},
            ),
        )
    return flags


def _declared_frame(
    declared: pl.DataFrame | Sequence[str] | None, cfg: FlowsConfig, ids: pl.Series
) -> pl.DataFrame:
    schema = {"business_id": pl.Int64, "lender": pl.String}
    if declared is None:
        d = pl.DataFrame(schema=schema)
    elif isinstance(declared, pl.DataFrame):
        for c in ("business_id", "lender"):
            if c not in declared.columns:
                raise InvalidInput(f"declared_lenders.{c}", "missing column")
        d = declared.select(pl.col("business_id").cast(pl.Int64), pl.col("lender").cast(pl.String))
    elif isinstance(declared, str):
        raise InvalidInput("declared_lenders", "expected a frame or a list of names")
    else:
        names = pl.DataFrame({"lender": [str(x) for x in declared]}, schema={"lender": pl.String})
        d = pl.DataFrame({"business_id": ids.unique()}).join(names, how="cross")
    d = d.drop_nulls()
    base = pl.col("lender").str.split("(").list.first().str.strip_chars()
    product = pl.col("lender").str.extract(r"\(([^)]*)\)", 1)
    aliases = (
        pl.concat(
            [
                d.select("business_id", "lender", alias=base),
                d.select("business_id", "lender", alias=product),
            ]
        )
        .drop_nulls()
        .filter(pl.col("alias") != "")
    )
    return aliases.with_columns(
        private=pl.col("lender").is_in(list(cfg.private_lender_aliases))
    ).select("business_id", "alias", "private")


def months_json(monthly: pl.DataFrame, business_id: int) -> list[dict[str, object]]:
    """The credit file's ``"months"`` for one business (month as ``YYYY-MM``)."""
    rows = monthly.filter(pl.col("business_id") == business_id).sort("month")
    return [
        {
            "month": r["month"].strftime("%Y-%m") if isinstance(r["month"], date) else r["month"],
            "inflow": r["inflow"],
            "outflow": r["outflow"],
            "revenue_estimate": r["revenue_estimate"],
            "average_daily_balance": r["average_daily_balance"],
        }
        for r in rows.iter_rows(named=True)
    ]
