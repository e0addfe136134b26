"""Credit-report analysis (征信报告分析): variables, flags and a readable summary.

Input: parsed reports of :mod:`xiaowei.analysis.credit_report_schema` (个人信用报告
:class:`PersonalReport`, 企业信用报告 :class:`EnterpriseReport`) and an analysis date ``as_of``
(default: the report date). Output: a flat set of named features (for scoring), flags with
evidence (:class:`~xiaowei.analysis.flags.Flag`) and a typed summary that reads the report in
the order a trained analyst does (如何阅读人行征信报告): who the subject is, how long and how
broad the credit history is, the delinquency picture, the inquiries, the guarantees given,
the public records, then the findings.

Method (research notes ``shared/research/credit_analysis_methods.md`` §3, which follow the
open-source second-generation report aggregations of xyy15926/aki7proj
``suitbear/pboc/confagg.py`` and the PBOC code tables):

* **Windows.** Every windowed variable is computed over the last ``w`` months before
  ``as_of`` for ``w`` in :attr:`CreditReportConfig.windows` (default 1/3/6/12/24). For the
  60-month repayment history (PD01E 还款状态, oldest month first) a window of ``w`` months is
  the ``as_of`` month and the ``w − 1`` months before it; for dated records (queries, opened
  accounts, special transactions) it is the dates in ``(as_of − w months, as_of]``.
* **``as_of``** moves the windows (history months, queries, opened accounts, special
  transactions); it may not be 60 months or more before the report, and months after the
  report month are unknown (no delinquency). Exposure (balances, institutions, debt service,
  classes, guarantees, public records) is the report's, as of its date.
* **Delinquency (逾期).** Status ``1``–``7`` is the number of 30-day bands past due. Per
  window: the number of *account-months* with status ≥ 1, ≥ 3 and = 7 (summed over accounts,
  as the report's own PC02DS03 月份数 counts them), the maximum status, the longest
  consecutive delinquent run of one account inside the window, and the sum and maximum of the
  monthly overdue amounts (PD01EJ01 逾期总额, from the E segment's overdue list).
* **Inquiries (查询记录).** Hard inquiries (硬查询: pre-lending reasons, by default the schema's
  ``HARD_QUERY_REASONS`` 02 贷款审批, 03 信用卡审批, 20 保前审查, 24 融资审批, 26 额度审批), their
  distinct institutions, and counts by reason (also 08 担保资格审查 and 01 贷后管理).
* **Exposure (负债).** Open accounts' institutions (bank vs non-bank by the institution-type
  code, PD01AD02), total outstanding (余额, integer yuan), card utilisation (贷记卡使用率 = used
  / limit, PD01CJ02 / PD01AJ02) and the monthly debt service (月还款额) the notes give:
  D1/R1/R4 ``max(this month's due, balance / remaining instalments)``, cards
  ``max(due, 10 % × used)`` (the notes use the 6-month average used; a report's C segment
  carries only the latest month, so the latest used amount stands in).
* **Guarantees given (对外担保, PD03)**, **special transactions (特殊交易, PD01F)**, **public
  records (公共信息, PF)**, and the closing codes G/B/D/Z (非正常销户, 呆账, 担保人代还, 以资抵债).

The batch form (:func:`report_features_frame`) flattens every report into a few Polars frames
once (a Python pass over reports and accounts, never over months): the 60-month strings of all
accounts become one NumPy byte matrix, sliced to the windows relative to each report's
``as_of`` and turned into one long frame (account × month, for the accounts with a delinquent
month in the span); every variable is then a Polars expression aggregated by report. The
single form (:func:`report_features`) runs the same code on one report, so the two agree by
construction.

Flags (:func:`report_flags`, evidence = account ids, query dates, special transactions):
``multi_lending`` 多头借贷 (open loans at ≥ N institutions, or hard inquiries in 3/6 months ≥
M), ``recent_new_lenders`` 近期新开户 (≥ K accounts opened in 6 months), ``worsening_trend``
逾期恶化 (more delinquent account-months, or a worse status, in the last 6 months than in the 6
before), ``serious_delinquency`` 严重逾期 (status ≥ 3 within 24 months), ``bad_debt_or_special``
(G/B/D/Z endings, collection accounts C1, 不良 classes, adverse special transactions such as
担保人代偿) and ``public_records`` 公共记录 (critical when an enforcement 强制执行 is present).

Enterprise reports (企业信用报告) have no monthly status string; their smaller feature set
counts accounts and balances by five-category class (五级分类: 正常 / 关注 / 不良), overdue
amounts, institutions, guarantees and public records.

Every threshold is a field of :class:`CreditReportConfig` with its reason. The research notes
give the variables and codes but no cut-offs for multi-lending; the defaults below are this
project's design choices, to be calibrated on outcomes by the scoring issue.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from xiaowei.analysis.credit_report_schema import (
    ACCOUNT_TYPES,
    EDUCATIONS,
    GENDERS,
    HARD_QUERY_REASONS,
    HISTORY_MONTHS,
    MARITAL_STATUSES,
    QUERY_REASONS,
    REPAYMENT_STATUS,
    EnterpriseReport,
    Liability,
    PersonalReport,
)
from xiaowei.analysis.flags import Flag, Severity
from xiaowei.core.errors import InvalidInput
from xiaowei.core.i18n import Lang, current_lang

Report = PersonalReport | EnterpriseReport
FeatureValue = float | int
KEYS = ("business_id", "report_id")

# --- configuration --------------------------------------------------------------------------


class CreditReportConfig(BaseModel):
    """Thresholds and code sets of the credit-report analysis (征信分析参数)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    windows: tuple[int, ...] = Field(
        default=(1, 3, 6, 12, 24),
        description="look-back windows in months (近1/3/6/12/24个月), research notes §3 (the "
        "notes list 1/2/3/6/9/12/18/24/36/48; the issue fixes 1/3/6/12/24); each ≤ 60, the "
        "report's history length",
    )
    hard_query_reasons: frozenset[str] = Field(
        default=HARD_QUERY_REASONS,
        description="query reasons (PH010Q03) counted as hard inquiries (硬查询): the schema's "
        "pre-lending set 02/03/20/24/26; the notes list 08 and 26 as policy options",
    )
    inquiry_reasons: dict[str, str] = Field(
        default={
            "loan": "02",
            "card": "03",
            "guarantee": "08",
            "pre_guarantee": "20",
            "financing": "24",
            "limit": "26",
            "post_loan": "01",
        },
        description="inquiry counts by reason: feature name part → query-reason code",
    )
    bank_institution_types: frozenset[str] = Field(
        default=frozenset({"11", "12", "14", "15"}),
        description="institution types (PD01AD02) that are banks: 商业银行, 村镇银行, "
        "住房储蓄银行, 外资银行; every other type (消费金融, 小额贷款, 融资租赁 …) is non-bank",
    )
    lending_account_types: frozenset[str] = Field(
        default=frozenset({"D1", "R1", "R4"}),
        description="account types that count as loans for lending institutions and loan "
        "outstanding (cards R2/R3 and collections C1 are separate)",
    )
    card_account_types: frozenset[str] = Field(
        default=frozenset({"R2", "R3"}), description="card accounts (贷记卡, 准贷记卡)"
    )
    card_min_payment_rate: float = Field(
        default=0.10,
        ge=0,
        le=1,
        description="a card's monthly debt service is max(due, rate × used); 10 % per the "
        "research notes §3",
    )
    multi_lending_institutions: int = Field(
        default=4,
        ge=1,
        description="多头借贷 when open loans come from at least this many institutions (design "
        "choice; practitioners use 3–5)",
    )
    multi_lending_inquiries: dict[int, int] = Field(
        default={3: 4, 6: 6},
        description="多头借贷 also when hard inquiries in w months reach the value (window → "
        "count; design choice; each window must be one of ``windows``)",
    )
    recent_lender_months: int = Field(
        default=6, ge=1, description="window for recent new accounts (新开户); one of windows"
    )
    recent_new_accounts: int = Field(
        default=2, ge=1, description="recent_new_lenders when this many accounts opened"
    )
    trend_months: int = Field(
        default=6,
        ge=1,
        le=HISTORY_MONTHS // 2,
        description="worsening trend compares the last n months with the n months before",
    )
    worsening_min_increase: int = Field(
        default=1,
        ge=1,
        description="the recent delinquent account-months must exceed the earlier ones by at "
        "least this much (or the worst status must rise) for a worsening trend",
    )
    serious_status: int = Field(
        default=3,
        ge=1,
        le=7,
        description="serious delinquency from this status (3 = 61–90 days past due: one step "
        "before 次级, which the 2023 risk-classification rules start after 90 days, research "
        "notes §4; an analyst treats 61–90 days as serious already)",
    )
    serious_window: int = Field(
        default=24, ge=1, description="months looked at for serious delinquency; one of windows"
    )
    bad_status_codes: frozenset[str] = Field(
        default=frozenset({"G", "B", "D", "Z"}),
        description="closing codes of a bad end: G 非正常销户, B 呆账 (not in this layout), "
        "D 担保人代还, Z 以资抵债 (research notes §3 severity mapping)",
    )
    adverse_special_types: frozenset[str] = Field(
        default=frozenset({"2", "3", "6", "7", "8", "11", "12", "13", "17"}),
        description="special transactions (PD01FD01) that signal trouble: 担保人代偿, 以资抵债, "
        "强制平仓, 司法追偿, 债务减免, 资产剥离/转让; not 展期, 提前还款/结清, 分期, 政策延期",
    )
    concern_five_categories: frozenset[str] = Field(
        default=frozenset({"2"}), description="five-category codes that are 关注"
    )
    bad_five_categories: frozenset[str] = Field(
        default=frozenset({"3", "4", "5", "6"}),
        description="five-category codes that are 不良 (次级, 可疑, 损失) or 违约",
    )
    loss_five_categories: frozenset[str] = Field(
        default=frozenset({"5", "6"}),
        description="enterprise bad_debt_or_special: an account classed 损失 or 违约",
    )

    @model_validator(mode="after")
    def _consistent(self) -> CreditReportConfig:
        if not self.windows:
            raise ValueError("windows must not be empty")
        if any(w < 1 or w > HISTORY_MONTHS for w in self.windows):
            raise ValueError(f"windows must be between 1 and {HISTORY_MONTHS} months")
        if len(set(self.windows)) != len(self.windows):
            raise ValueError("windows must be distinct")
        needed = {3, 24, self.recent_lender_months, self.serious_window}
        needed |= set(self.multi_lending_inquiries)
        missing = sorted(needed - set(self.windows))
        if missing:
            raise ValueError(f"windows must include {missing} (named features and flags use them)")
        unknown = sorted(set(self.inquiry_reasons.values()) - set(QUERY_REASONS))
        if unknown or set(self.hard_query_reasons) - set(QUERY_REASONS):
            raise ValueError(f"unknown query-reason codes {unknown or self.hard_query_reasons}")
        return self


DEFAULT_CONFIG = CreditReportConfig()

# --- helpers -------------------------------------------------------------------------------


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


@functools.lru_cache(maxsize=4096)
def _month_str_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _report_date(report: Report) -> date:
    header = report.PRH if isinstance(report, PersonalReport) else report.ERH
    return header.report_time.date()


def _as_of_list(reports: Sequence[Report], as_of: date | Sequence[date] | None) -> list[date]:
    if as_of is None:
        return [_report_date(r) for r in reports]
    if isinstance(as_of, date | str):
        dates = [as_of] * len(reports)
    else:
        dates = list(as_of)
        if len(dates) != len(reports):
            raise InvalidInput("as_of", f"{len(dates)} dates for {len(reports)} reports")
    for r, d in zip(reports, dates, strict=True):
        if not isinstance(d, date) or isinstance(d, datetime):
            raise InvalidInput("as_of", f"expected a date, got {d!r}")
        if _month_index(d) - _month_index(_report_date(r)) <= -HISTORY_MONTHS:
            raise InvalidInput(
                "as_of", f"{d} is before the 60-month history of report {r.report_id}"
            )
    return dates


_DIGIT_LEVEL = np.zeros(256, dtype=np.int8)
for _k in range(1, 8):
    _DIGIT_LEVEL[ord(str(_k))] = _k
_SLASH = ord("/")


def _window_cut(w: int) -> pl.Expr:
    """The exclusive lower date bound of a ``w``-month window ending at ``as_of``."""
    return pl.col("as_of").dt.offset_by(f"-{w}mo")


def _in_window(col: str, w: int) -> pl.Expr:
    return (pl.col(col) > _window_cut(w)) & (pl.col(col) <= pl.col("as_of"))


def _level(code: str | None) -> int:
    return int(code) if code is not None and code.isdigit() else 0


# --- flattening -----------------------------------------------------------------------------


def _reports_frame(reports: Sequence[Report], dates: list[date]) -> pl.LazyFrame:
    return pl.DataFrame(
        {
            "rid": np.arange(len(reports), dtype=np.int64),
            "business_id": [r.business_id for r in reports],
            "report_id": [r.report_id for r in reports],
            "as_of": dates,
        },
        schema={
            "rid": pl.Int64,
            "business_id": pl.Int64,
            "report_id": pl.String,
            "as_of": pl.Date,
        },
    ).lazy()


def _liability_frame(reports: Sequence[Report], config: CreditReportConfig) -> pl.LazyFrame:
    rid: list[int] = []
    liability: list[int] = []
    balance: list[int] = []
    concern: list[bool] = []
    bad: list[bool] = []
    overdue: list[bool] = []
    for i, r in enumerate(reports):
        items: list[Liability] = r.PD03 if isinstance(r, PersonalReport) else r.ED03
        for g in items:
            rid.append(i)
            liability.append(g.liability_amount_yuan)
            balance.append(g.balance_yuan)
            concern.append(g.five_category in config.concern_five_categories)
            bad.append(g.five_category in config.bad_five_categories)
            overdue.append(_level(g.repayment_status) > 0 or g.overdue_months > 0)
    frame = pl.DataFrame(
        {
            "rid": rid,
            "liability": liability,
            "balance": balance,
            "concern": concern,
            "bad": bad,
            "overdue": overdue,
        },
        schema={
            "rid": pl.Int64,
            "liability": pl.Int64,
            "balance": pl.Int64,
            "concern": pl.Boolean,
            "bad": pl.Boolean,
            "overdue": pl.Boolean,
        },
    )
    return (
        frame.lazy()
        .group_by("rid")
        .agg(
            pl.len().alias("guarantees"),
            pl.col("liability").sum().alias("guarantees_liability"),
            pl.col("balance").sum().alias("guarantees_balance"),
            pl.col("concern").sum().alias("guarantees_concern"),
            pl.col("bad").sum().alias("guarantees_bad"),
            pl.col("overdue").sum().alias("guarantees_overdue"),
        )
    )


_PUBLIC_KINDS = ("tax_arrears", "civil_judgments", "enforcements", "penalties")


def _public_frame(reports: Sequence[Report]) -> pl.LazyFrame:
    rid: list[int] = []
    kind: list[str] = []
    amount: list[int] = []
    for i, r in enumerate(reports):
        if isinstance(r, PersonalReport):
            pf = r.PF
            if not (pf.PF01 or pf.PF02 or pf.PF03 or pf.PF04):
                continue
            amounts = (
                [x.amount_yuan for x in pf.PF01],
                [x.amount_yuan for x in pf.PF02],
                [x.amount_yuan for x in pf.PF03],
                [x.amount_yuan for x in pf.PF04],
            )
        else:
            ef = r.EF
            if not (ef.EF01 or ef.EF02 or ef.EF03 or ef.EF04):
                continue
            amounts = (
                [x.amount_yuan for x in ef.EF01],
                [x.amount_yuan for x in ef.EF02],
                [x.amount_yuan for x in ef.EF03],
                [x.amount_yuan for x in ef.EF04],
            )
        for name, values in zip(_PUBLIC_KINDS, amounts, strict=True):
            rid += [i] * len(values)
            kind += [name] * len(values)
            amount += values
    frame = pl.DataFrame(
        {"rid": rid, "kind": kind, "amount": amount},
        schema={"rid": pl.Int64, "kind": pl.String, "amount": pl.Int64},
    )
    return (
        frame.lazy()
        .group_by("rid")
        .agg(
            pl.len().alias("public_records"),
            pl.col("amount").sum().alias("public_records_amount"),
            *[(pl.col("kind") == k).sum().alias(k) for k in _PUBLIC_KINDS],
        )
    )


def _join_all(base: pl.LazyFrame, parts: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
    out = base
    for part in parts:
        out = out.join(part, on="rid", how="left")
    return out


# Common-subexpression elimination costs more than it saves on these plans (hundreds of small
# aggregations, nothing read from disk): measured 25 → 19 ms for one report.
_OPT = pl.QueryOptFlags(comm_subexpr_elim=False, comm_subplan_elim=False)


def _finish(out: pl.LazyFrame, columns: list[str]) -> pl.DataFrame:
    """Missing aggregates (a report without accounts, queries …) are zero; order columns."""
    schema = out.collect_schema()
    fills = [pl.col(c).fill_null(0.0 if schema[c] == pl.Float64 else 0) for c in columns]
    return out.sort("rid").select(*KEYS, *fills).collect(optimizations=_OPT)


# --- personal features ------------------------------------------------------------------------


def _personal_features(
    reports: Sequence[PersonalReport], dates: list[date], config: CreditReportConfig
) -> pl.DataFrame:
    windows = config.windows
    trend = config.trend_months
    span = max(max(windows), 2 * trend)
    base = _reports_frame(reports, dates)
    asof_m = np.array([_month_index(d) for d in dates], dtype=np.int64)

    # accounts (one Python pass over accounts; the months stay strings until NumPy)
    a_rid: list[int] = []
    a_id: list[str] = []
    a_type: list[str] = []
    a_inst_type: list[str] = []
    a_inst: list[str] = []
    a_open: list[date] = []
    a_is_open: list[bool] = []
    a_balance: list[int] = []
    a_due: list[int] = []
    a_overdue_now: list[int] = []
    a_remaining: list[int | None] = []
    a_used: list[int | None] = []
    a_limit: list[int | None] = []
    a_five: list[str | None] = []
    a_delinquent_now: list[bool] = []
    statuses: list[str] = []
    s_account: list[int] = []
    s_start: list[int] = []
    o_rid: list[int] = []
    o_month: list[int] = []
    o_amount: list[int] = []
    f_rid: list[int] = []
    f_type: list[str] = []
    f_date: list[date] = []
    n = 0
    for i, r in enumerate(reports):
        for acc in r.PD01:
            a, b, c = acc.A, acc.B, acc.C
            a_rid.append(i)
            a_id.append(a.account_id)
            a_type.append(a.account_type)
            a_inst_type.append(a.institution_type)
            a_inst.append(a.institution)
            a_open.append(a.open_date)
            a_is_open.append(b.closed_date is None)
            a_balance.append(b.balance_yuan)
            a_five.append(b.five_category)
            a_delinquent_now.append(b.closed_date is None and _level(b.repayment_status) > 0)
            a_limit.append(a.credit_limit_yuan)
            if c is None:
                a_due.append(0)
                a_overdue_now.append(0)
                a_remaining.append(None)
                a_used.append(None)
            else:
                a_due.append(c.due_yuan)
                a_overdue_now.append(c.overdue_yuan)
                a_remaining.append(c.remaining_periods)
                a_used.append(c.used_yuan)
            if acc.E is not None:
                statuses.append(acc.E.status)
                s_account.append(n)
                s_start.append(_month_str_index(acc.E.start_month))
                for om in acc.E.overdue:
                    o_rid.append(i)
                    o_month.append(_month_str_index(om.month))
                    o_amount.append(om.amount_yuan)
            for f in acc.F:
                f_rid.append(i)
                f_type.append(f.type)
                f_date.append(f.date)
            n += 1

    accounts = pl.DataFrame(
        {
            "rid": a_rid,
            "account_id": a_id,
            "account_type": a_type,
            "institution_type": a_inst_type,
            "institution": a_inst,
            "open_date": a_open,
            "is_open": a_is_open,
            "balance": a_balance,
            "due": a_due,
            "overdue_now": a_overdue_now,
            "remaining": a_remaining,
            "used": a_used,
            "limit": a_limit,
            "five_category": a_five,
            "delinquent_now": a_delinquent_now,
        },
        schema={
            "rid": pl.Int64,
            "account_id": pl.String,
            "account_type": pl.String,
            "institution_type": pl.String,
            "institution": pl.String,
            "open_date": pl.Date,
            "is_open": pl.Boolean,
            "balance": pl.Int64,
            "due": pl.Int64,
            "overdue_now": pl.Int64,
            "remaining": pl.Int64,
            "used": pl.Int64,
            "limit": pl.Int64,
            "five_category": pl.String,
            "delinquent_now": pl.Boolean,
        },
    ).lazy()

    # the 60-month strings: one byte matrix, sliced to the last `span` months before as_of
    codes = np.frombuffer("".join(statuses).encode("ascii"), dtype=np.uint8).reshape(
        len(statuses), HISTORY_MONTHS
    )
    s_account_np = np.array(s_account, dtype=np.int64)
    s_rid = np.array(a_rid, dtype=np.int64)[s_account_np] if statuses else np.zeros(0, np.int64)
    offset = asof_m[s_rid] - np.array(s_start, dtype=np.int64)  # position of the as_of month
    lags = np.arange(span - 1, -1, -1, dtype=np.int64)  # oldest first: runs read forward
    pos = offset[:, None] - lags[None, :]
    valid = (pos >= 0) & (pos < HISTORY_MONTHS)
    picked = np.take_along_axis(codes, np.clip(pos, 0, HISTORY_MONTHS - 1), axis=1)
    picked = np.where(valid, picked, np.uint8(_SLASH))
    bad_codes = np.frombuffer("".join(sorted(config.bad_status_codes)).encode("ascii"), np.uint8)
    bad_lut = np.zeros(256, dtype=bool)
    bad_lut[bad_codes] = True
    bad_code = np.zeros(n, dtype=bool)
    bad_code[s_account_np] = bad_lut[codes].any(axis=1)
    accounts = accounts.with_columns(pl.lit(pl.Series("bad_code", bad_code)))
    # only accounts with a delinquent month in the span go into the long frame (most have
    # none; a report without any gets zeros from the left join)
    levels = _DIGIT_LEVEL[picked]
    hit = levels.any(axis=1)
    months = pl.DataFrame(
        {
            "rid": np.repeat(s_rid[hit], span),
            "account": np.repeat(s_account_np[hit], span),
            "lag": np.tile(lags, int(hit.sum())),
            "level": levels[hit].ravel(),
        },
        schema={"rid": pl.Int64, "account": pl.Int64, "lag": pl.Int64, "level": pl.Int8},
    ).lazy()
    # run length of consecutive delinquent months ending at each month (per account)
    d = pl.col("level") >= 1
    months = (
        months.with_columns(d.cast(pl.Int64).cum_sum().alias("_c"))
        .with_columns(
            pl.when(~d | (pl.col("lag") == span - 1))
            .then(pl.col("_c") - d.cast(pl.Int64))
            .otherwise(None)
            .forward_fill()
            .alias("_base")
        )
        .with_columns((pl.col("_c") - pl.col("_base")).alias("run"))
    )
    month_aggs: list[pl.Expr] = []
    for w in windows:
        inw = pl.col("lag") < w
        month_aggs += [
            (inw & d).sum().alias(f"overdue_months_{w}m"),
            (inw & (pl.col("level") >= 3)).sum().alias(f"overdue_months_3plus_{w}m"),
            (inw & (pl.col("level") == 7)).sum().alias(f"overdue_months_7_{w}m"),
            pl.when(inw)
            .then(pl.col("level"))
            .otherwise(0)
            .max()
            .cast(pl.Int64)
            .alias(f"max_status_{w}m"),
            pl.when(inw)
            .then(pl.min_horizontal(pl.col("run"), w - pl.col("lag")))
            .otherwise(0)
            .max()
            .alias(f"longest_overdue_run_{w}m"),
        ]
    recent = pl.col("lag") < trend
    prior = (pl.col("lag") >= trend) & (pl.col("lag") < 2 * trend)
    month_aggs += [
        (recent & d).sum().alias("trend_overdue_months_recent"),
        (prior & d).sum().alias("trend_overdue_months_prior"),
        pl.when(recent)
        .then(pl.col("level"))
        .otherwise(0)
        .max()
        .cast(pl.Int64)
        .alias("trend_max_status_recent"),
        pl.when(prior)
        .then(pl.col("level"))
        .otherwise(0)
        .max()
        .cast(pl.Int64)
        .alias("trend_max_status_prior"),
    ]
    month_feats = months.group_by("rid").agg(month_aggs)

    overdue = (
        pl.DataFrame(
            {"rid": o_rid, "month": o_month, "amount": o_amount},
            schema={"rid": pl.Int64, "month": pl.Int64, "amount": pl.Int64},
        )
        .lazy()
        .join(
            pl.DataFrame({"rid": np.arange(len(reports)), "asof_m": asof_m}).lazy(),
            on="rid",
            how="left",
        )
    )
    overdue = overdue.with_columns((pl.col("asof_m") - pl.col("month")).alias("lag"))
    amount_aggs: list[pl.Expr] = []
    for w in windows:
        inw = (pl.col("lag") >= 0) & (pl.col("lag") < w)
        amount_aggs += [
            pl.col("amount").filter(inw).sum().alias(f"overdue_amount_sum_{w}m"),
            pl.col("amount").filter(inw).max().alias(f"overdue_amount_max_{w}m"),
        ]
    amount_feats = overdue.group_by("rid").agg(amount_aggs)

    # accounts: exposure, institutions, debt service, new accounts
    lending = pl.col("account_type").is_in(list(config.lending_account_types))
    cards = pl.col("account_type").is_in(list(config.card_account_types))
    is_open = pl.col("is_open")
    bank = pl.col("institution_type").is_in(list(config.bank_institution_types))
    card_used = pl.coalesce(pl.col("used"), pl.col("balance"))
    loan_service = pl.max_horizontal(
        pl.col("due").cast(pl.Float64),
        pl.when(pl.col("remaining") > 0)
        .then(pl.col("balance") / pl.col("remaining"))
        .otherwise(pl.col("balance").cast(pl.Float64)),
    )
    card_service = pl.max_horizontal(
        pl.col("due").cast(pl.Float64), config.card_min_payment_rate * card_used
    )
    accounts = accounts.join(base.select("rid", "as_of"), on="rid", how="left").with_columns(
        pl.when(is_open & lending)
        .then(loan_service)
        .when(is_open & cards)
        .then(card_service)
        .otherwise(0.0)
        .alias("service"),
        pl.when(is_open & cards & (pl.col("limit") > 0))
        .then(card_used / pl.col("limit"))
        .otherwise(None)
        .alias("card_ratio"),
    )
    open_lending = is_open & lending
    account_aggs: list[pl.Expr] = [
        pl.len().alias("accounts_total"),
        is_open.sum().alias("accounts_open"),
        *[
            (is_open & (pl.col("account_type") == t)).sum().alias(f"accounts_open_{t.lower()}")
            for t in ACCOUNT_TYPES
        ],
        pl.col("institution").filter(open_lending).n_unique().alias("lending_institutions"),
        pl.col("institution")
        .filter(open_lending & bank)
        .n_unique()
        .alias("lending_institutions_bank"),
        pl.col("institution")
        .filter(open_lending & ~bank)
        .n_unique()
        .alias("lending_institutions_nonbank"),
        pl.col("balance").filter(is_open).sum().alias("total_outstanding"),
        pl.col("balance").filter(open_lending).sum().alias("loan_outstanding"),
        pl.col("balance").filter(open_lending & ~bank).sum().alias("nonbank_outstanding"),
        pl.col("balance")
        .filter(is_open & (pl.col("account_type") == "C1"))
        .sum()
        .alias("collection_outstanding"),
        (pl.col("account_type") == "C1").sum().alias("collection_accounts"),
        (is_open & cards).sum().alias("cards_open"),
        pl.col("limit").filter(is_open & cards).sum().alias("card_limit_total"),
        card_used.filter(is_open & cards).sum().alias("card_used_total"),
        pl.col("card_ratio").max().alias("card_utilisation_max"),
        pl.col("service").sum().alias("monthly_debt_service"),
        pl.col("overdue_now").filter(is_open).sum().alias("current_overdue_amount"),
        pl.col("delinquent_now").sum().alias("accounts_delinquent_now"),
        pl.col("bad_code").sum().alias("bad_status_accounts"),
        (is_open & pl.col("five_category").is_in(list(config.concern_five_categories)))
        .sum()
        .alias("accounts_concern_class"),
        (is_open & pl.col("five_category").is_in(list(config.bad_five_categories)))
        .sum()
        .alias("accounts_bad_class"),
        pl.col("open_date").min().alias("_first_open"),
        *[_in_window("open_date", w).sum().alias(f"new_accounts_{w}m") for w in windows],
    ]
    account_feats = (
        accounts.group_by("rid")
        .agg(account_aggs)
        .with_columns(
            pl.when(pl.col("card_limit_total") > 0)
            .then(pl.col("card_used_total") / pl.col("card_limit_total"))
            .otherwise(0.0)
            .alias("card_utilisation"),
        )
    )

    # queries (PH01)
    q_rid: list[int] = []
    q_date: list[date] = []
    q_reason: list[str] = []
    q_inst: list[str] = []
    for i, r in enumerate(reports):
        for q in r.PH01:
            q_rid.append(i)
            q_date.append(q.date)
            q_reason.append(q.reason)
            q_inst.append(q.institution)
    queries = (
        pl.DataFrame(
            {"rid": q_rid, "date": q_date, "reason": q_reason, "institution": q_inst},
            schema={
                "rid": pl.Int64,
                "date": pl.Date,
                "reason": pl.String,
                "institution": pl.String,
            },
        )
        .lazy()
        .join(base.select("rid", "as_of"), on="rid", how="left")
    )
    hard = pl.col("reason").is_in(sorted(config.hard_query_reasons))
    query_aggs: list[pl.Expr] = []
    for w in windows:
        inw = _in_window("date", w)
        query_aggs += [
            (inw & hard).sum().alias(f"hard_inquiries_{w}m"),
            pl.col("institution")
            .filter(inw & hard)
            .n_unique()
            .alias(f"hard_inquiry_institutions_{w}m"),
            *[
                (inw & (pl.col("reason") == code)).sum().alias(f"inquiries_{name}_{w}m")
                for name, code in config.inquiry_reasons.items()
            ],
        ]
    query_feats = queries.group_by("rid").agg(query_aggs)

    # special transactions (PD01F)
    specials = (
        pl.DataFrame(
            {"rid": f_rid, "type": f_type, "date": f_date},
            schema={"rid": pl.Int64, "type": pl.String, "date": pl.Date},
        )
        .lazy()
        .join(base.select("rid", "as_of"), on="rid", how="left")
    )
    adverse = pl.col("type").is_in(sorted(config.adverse_special_types))
    seen = pl.col("date") <= pl.col("as_of")
    special_feats = specials.group_by("rid").agg(
        seen.sum().alias("special_transactions"),
        (seen & adverse).sum().alias("special_adverse"),
        *[_in_window("date", w).sum().alias(f"special_transactions_{w}m") for w in windows],
    )

    out = _join_all(
        base,
        [
            month_feats,
            amount_feats,
            account_feats,
            query_feats,
            special_feats,
            _liability_frame(reports, config),
            _public_frame(reports),
        ],
    ).with_columns(
        pl.when(pl.col("_first_open").is_not_null())
        .then(
            (pl.col("as_of").dt.year() - pl.col("_first_open").dt.year()) * 12
            + pl.col("as_of").dt.month().cast(pl.Int64)
            - pl.col("_first_open").dt.month().cast(pl.Int64)
        )
        .otherwise(0)
        .cast(pl.Int64)
        .alias("credit_history_months")
    )
    columns = [
        *[
            f"{name}_{w}m"
            for w in windows
            for name in (
                "overdue_months",
                "overdue_months_3plus",
                "overdue_months_7",
                "max_status",
                "longest_overdue_run",
                "overdue_amount_sum",
                "overdue_amount_max",
            )
        ],
        "trend_overdue_months_recent",
        "trend_overdue_months_prior",
        "trend_max_status_recent",
        "trend_max_status_prior",
        *[
            f"{name}_{w}m"
            for w in windows
            for name in (
                "hard_inquiries",
                "hard_inquiry_institutions",
                *[f"inquiries_{k}" for k in config.inquiry_reasons],
            )
        ],
        "accounts_total",
        "accounts_open",
        *[f"accounts_open_{t.lower()}" for t in ACCOUNT_TYPES],
        *[f"new_accounts_{w}m" for w in windows],
        "credit_history_months",
        "lending_institutions",
        "lending_institutions_bank",
        "lending_institutions_nonbank",
        "total_outstanding",
        "loan_outstanding",
        "nonbank_outstanding",
        "collection_outstanding",
        "collection_accounts",
        "cards_open",
        "card_limit_total",
        "card_used_total",
        "card_utilisation",
        "card_utilisation_max",
        "monthly_debt_service",
        "current_overdue_amount",
        "accounts_delinquent_now",
        "bad_status_accounts",
        "accounts_concern_class",
        "accounts_bad_class",
        "special_transactions",
        "special_adverse",
        *[f"special_transactions_{w}m" for w in windows],
        "guarantees",
        "guarantees_liability",
        "guarantees_balance",
        "guarantees_concern",
        "guarantees_bad",
        "guarantees_overdue",
        "public_records",
        "public_records_amount",
        *_PUBLIC_KINDS,
    ]
    out = out.with_columns(
        pl.col(c).cast(pl.Int64)
        for c in columns
        if c not in ("card_utilisation", "card_utilisation_max", "monthly_debt_service")
    ).with_columns(
        pl.col("card_utilisation", "card_utilisation_max", "monthly_debt_service").cast(pl.Float64)
    )
    return _finish(out, columns)


# --- enterprise features ----------------------------------------------------------------------


def _enterprise_features(
    reports: Sequence[EnterpriseReport], dates: list[date], config: CreditReportConfig
) -> pl.DataFrame:
    base = _reports_frame(reports, dates)
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "rid",
            "account_id",
            "institution_type",
            "institution",
            "open_date",
            "is_open",
            "balance",
            "five_category",
            "worst",
            "overdue",
            "overdue_principal",
        )
    }
    for i, r in enumerate(reports):
        for a in r.ED01:
            rows["rid"].append(i)
            rows["account_id"].append(a.account_id)
            rows["institution_type"].append(a.institution_type)
            rows["institution"].append(a.institution)
            rows["open_date"].append(a.open_date)
            rows["is_open"].append(a.account_status == "1")
            rows["balance"].append(a.balance_yuan)
            rows["five_category"].append(a.five_category)
            rows["worst"].append(a.worst_five_category)
            rows["overdue"].append(a.overdue_yuan)
            rows["overdue_principal"].append(a.overdue_principal_yuan)
    accounts = (
        pl.DataFrame(
            rows,
            schema={
                "rid": pl.Int64,
                "account_id": pl.String,
                "institution_type": pl.String,
                "institution": pl.String,
                "open_date": pl.Date,
                "is_open": pl.Boolean,
                "balance": pl.Int64,
                "five_category": pl.String,
                "worst": pl.String,
                "overdue": pl.Int64,
                "overdue_principal": pl.Int64,
            },
        )
        .lazy()
        .join(base.select("rid", "as_of"), on="rid", how="left")
    )
    is_open = pl.col("is_open")
    concern = pl.col("five_category").is_in(sorted(config.concern_five_categories))
    bad = pl.col("five_category").is_in(sorted(config.bad_five_categories))
    bank = pl.col("institution_type").is_in(sorted(config.bank_institution_types))
    settled = ~is_open
    w = config.recent_lender_months
    feats = accounts.group_by("rid").agg(
        pl.len().alias("accounts_total"),
        is_open.sum().alias("accounts_open"),
        settled.sum().alias("accounts_settled"),
        (is_open & ~concern & ~bad).sum().alias("accounts_normal"),
        (is_open & concern).sum().alias("accounts_concern"),
        (is_open & bad).sum().alias("accounts_bad"),
        pl.col("balance").filter(is_open).sum().alias("total_outstanding"),
        pl.col("balance").filter(is_open & ~concern & ~bad).sum().alias("outstanding_normal"),
        pl.col("balance").filter(is_open & concern).sum().alias("outstanding_concern"),
        pl.col("balance").filter(is_open & bad).sum().alias("outstanding_bad"),
        pl.col("overdue").sum().alias("overdue_amount"),
        pl.col("overdue_principal").sum().alias("overdue_principal"),
        (settled & pl.col("worst").is_in(sorted(config.concern_five_categories)))
        .sum()
        .alias("settled_concern"),
        (settled & pl.col("worst").is_in(sorted(config.bad_five_categories)))
        .sum()
        .alias("settled_bad"),
        pl.col("worst").is_in(sorted(config.bad_five_categories)).sum().alias("ever_bad"),
        pl.col("institution").filter(is_open).n_unique().alias("lending_institutions"),
        pl.col("institution").filter(is_open & bank).n_unique().alias("lending_institutions_bank"),
        pl.col("institution")
        .filter(is_open & ~bank)
        .n_unique()
        .alias("lending_institutions_nonbank"),
        _in_window("open_date", w).sum().alias(f"new_accounts_{w}m"),
        pl.col("open_date").min().alias("_first_open"),
    )
    out = _join_all(
        base, [feats, _liability_frame(reports, config), _public_frame(reports)]
    ).with_columns(
        pl.when(pl.col("_first_open").is_not_null())
        .then(
            (pl.col("as_of").dt.year() - pl.col("_first_open").dt.year()) * 12
            + pl.col("as_of").dt.month().cast(pl.Int64)
            - pl.col("_first_open").dt.month().cast(pl.Int64)
        )
        .otherwise(0)
        .cast(pl.Int64)
        .alias("credit_history_months")
    )
    columns = [
        "accounts_total",
        "accounts_open",
        "accounts_settled",
        "accounts_normal",
        "accounts_concern",
        "accounts_bad",
        "total_outstanding",
        "outstanding_normal",
        "outstanding_concern",
        "outstanding_bad",
        "overdue_amount",
        "overdue_principal",
        "settled_concern",
        "settled_bad",
        "ever_bad",
        "lending_institutions",
        "lending_institutions_bank",
        "lending_institutions_nonbank",
        f"new_accounts_{w}m",
        "credit_history_months",
        "guarantees",
        "guarantees_liability",
        "guarantees_balance",
        "guarantees_concern",
        "guarantees_bad",
        "guarantees_overdue",
        "public_records",
        "public_records_amount",
        *_PUBLIC_KINDS,
    ]
    out = out.with_columns(pl.col(c).cast(pl.Int64) for c in columns)
    return _finish(out, columns)


# --- public API: features -------------------------------------------------------------------


def report_features_frame(
    reports: Sequence[PersonalReport] | Sequence[EnterpriseReport],
    config: CreditReportConfig = DEFAULT_CONFIG,
    as_of: date | Sequence[date] | None = None,
) -> pl.DataFrame:
    """Features of many reports: one row per report, keyed by ``business_id`` and ``report_id``.

    All reports must be of one kind (personal or enterprise: their feature sets differ).
    ``as_of`` is one date for all, one per report, or ``None`` (each report's own date).
    Amounts are integer yuan; ratios and the monthly debt service are floats.
    """
    items: list[Report] = list(reports)
    kinds = {type(r) for r in items}
    if kinds - {PersonalReport, EnterpriseReport}:
        raise InvalidInput("reports", "expected parsed PersonalReport or EnterpriseReport objects")
    if len(kinds) > 1:
        raise InvalidInput(
            "reports", "mixes personal and enterprise reports; analyse each kind separately"
        )
    dates = _as_of_list(items, as_of)
    if kinds == {EnterpriseReport}:
        return _enterprise_features(
            [r for r in items if isinstance(r, EnterpriseReport)], dates, config
        )
    return _personal_features([r for r in items if isinstance(r, PersonalReport)], dates, config)


def report_features(
    report: Report, config: CreditReportConfig = DEFAULT_CONFIG, as_of: date | None = None
) -> dict[str, FeatureValue]:
    """Features of one report (the batch computation on a one-report frame)."""
    if not isinstance(report, PersonalReport | EnterpriseReport):
        raise InvalidInput("report", "expected a parsed PersonalReport or EnterpriseReport")
    frame = report_features_frame([report], config, as_of)  # type: ignore[arg-type]
    row = frame.row(0, named=True)
    return {k: v for k, v in row.items() if k not in KEYS}


# --- flags ------------------------------------------------------------------------------------


def _lag_of(as_of: date, start_month: str, position: int) -> int:
    return _month_index(as_of) - (_month_str_index(start_month) + position)


def _delinquent_accounts(
    report: PersonalReport, as_of: date, lo: int, hi: int, min_level: int
) -> list[str]:
    """Ids of accounts with status ≥ ``min_level`` in a month of lag ``lo`` ≤ lag < ``hi``."""
    ids: list[str] = []
    for acc in report.PD01:
        if acc.E is None:
            continue
        for p, ch in enumerate(acc.E.status):
            if _level(ch) >= min_level and lo <= _lag_of(as_of, acc.E.start_month, p) < hi:
                ids.append(acc.A.account_id)
                break
    return ids


def _months_before(day: date, months: int) -> date:
    """``day`` minus ``months`` calendar months, the day clamped to the month's end (as Polars'
    ``offset_by`` does)."""
    k = _month_index(day) - months
    year, month = divmod(k, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _in_months(d: date, as_of: date, months: int) -> bool:
    """``d`` within the ``months``-month window ending at ``as_of``: (as_of − months, as_of]."""
    return _months_before(as_of, months) < d <= as_of


def report_flags(
    report: Report,
    features: dict[str, FeatureValue],
    config: CreditReportConfig = DEFAULT_CONFIG,
    as_of: date | None = None,
) -> list[Flag]:
    """Flags of one report from its features, each with the account ids / query dates behind it."""
    day = as_of or _report_date(report)
    if isinstance(report, EnterpriseReport):
        return _enterprise_flags(report, features, config, day)
    flags: list[Flag] = []
    lending_ids = [
        a.A.account_id
        for a in report.PD01
        if a.B.closed_date is None and a.A.account_type in config.lending_account_types
    ]
    inquiry_hits = {
        w: features[f"hard_inquiries_{w}m"]
        for w, limit in config.multi_lending_inquiries.items()
        if features[f"hard_inquiries_{w}m"] >= limit
    }
    institutions = features["lending_institutions"]
    if institutions >= config.multi_lending_institutions or inquiry_hits:
        span = max(config.multi_lending_inquiries)
        dates = sorted(
            {
                q.date.isoformat()
                for q in report.PH01
                if q.reason in config.hard_query_reasons and _in_months(q.date, day, span)
            }
        )
        parts = [f"{institutions} lending institutions with open loans"]
        parts += [f"{n} hard inquiries in {w} months" for w, n in sorted(inquiry_hits.items())]
        flags.append(
            Flag(
                code="multi_lending",
                severity=Severity.WARNING,
                message="多头借贷 (multi-lending): " + ", ".join(parts) + ".",
                evidence={"accounts": lending_ids, "query_dates": dates},
            )
        )
    w = config.recent_lender_months
    if features[f"new_accounts_{w}m"] >= config.recent_new_accounts:
        opened = [a.A.account_id for a in report.PD01 if _in_months(a.A.open_date, day, w)]
        flags.append(
            Flag(
                code="recent_new_lenders",
                severity=Severity.WARNING,
                message=f"近期新开户 (recent new lenders): {len(opened)} accounts opened in the "
                f"last {w} months.",
                evidence={"accounts": opened},
            )
        )
    t = config.trend_months
    recent, prior = features["trend_overdue_months_recent"], features["trend_overdue_months_prior"]
    worse_status = features["trend_max_status_recent"] > features["trend_max_status_prior"]
    if recent > 0 and (recent - prior >= config.worsening_min_increase or worse_status):
        flags.append(
            Flag(
                code="worsening_trend",
                severity=Severity.WARNING,
                message=f"逾期恶化 (worsening trend): {recent} delinquent account-months in the "
                f"last {t} months against {prior} in the {t} before (worst status "
                f"{features['trend_max_status_recent']} vs {features['trend_max_status_prior']}).",
                evidence={"accounts": _delinquent_accounts(report, day, 0, t, 1)},
            )
        )
    sw = config.serious_window
    if features[f"max_status_{sw}m"] >= config.serious_status:
        flags.append(
            Flag(
                code="serious_delinquency",
                severity=Severity.CRITICAL,
                message=f"严重逾期 (serious delinquency): status {features[f'max_status_{sw}m']} "
                f"(≥ {config.serious_status}) within {sw} months.",
                evidence={
                    "accounts": _delinquent_accounts(report, day, 0, sw, config.serious_status)
                },
            )
        )
    bad_accounts = [
        a.A.account_id
        for a in report.PD01
        if (a.E is not None and any(ch in config.bad_status_codes for ch in a.E.status))
        or a.A.account_type == "C1"
        or (a.B.closed_date is None and a.B.five_category in config.bad_five_categories)
    ]
    special = [
        {"account": a.A.account_id, "type": f.type, "date": f.date.isoformat()}
        for a in report.PD01
        for f in a.F
        if f.type in config.adverse_special_types and f.date <= day
    ]
    if bad_accounts or special:
        flags.append(
            Flag(
                code="bad_debt_or_special",
                severity=Severity.CRITICAL,
                message=f"呆账/代偿/以资抵债 (bad debt: G/D/Z endings, collection accounts, 不良 "
                f"class, or adverse special transactions): {len(bad_accounts)} accounts, "
                f"{len(special)} special transactions.",
                evidence={"accounts": bad_accounts, "special_transactions": special},
            )
        )
    flags += _public_flag(features)
    return flags


def _public_flag(features: dict[str, FeatureValue]) -> list[Flag]:
    if not features["public_records"]:
        return []
    parts = [f"{features[k]} {k.replace('_', ' ')}" for k in _PUBLIC_KINDS if features[k]]
    return [
        Flag(
            code="public_records",
            severity=Severity.CRITICAL if features["enforcements"] else Severity.WARNING,
            message="公共记录 (public records): " + ", ".join(parts) + ".",
            evidence={k: features[k] for k in (*_PUBLIC_KINDS, "public_records_amount")},
        )
    ]


def _enterprise_flags(
    report: EnterpriseReport,
    features: dict[str, FeatureValue],
    config: CreditReportConfig,
    day: date,
) -> list[Flag]:
    flags: list[Flag] = []
    if features["lending_institutions"] >= config.multi_lending_institutions:
        flags.append(
            Flag(
                code="multi_lending",
                severity=Severity.WARNING,
                message=f"多头借贷 (multi-lending): {features['lending_institutions']} "
                "institutions with open credit.",
                evidence={
                    "accounts": [a.account_id for a in report.ED01 if a.account_status == "1"]
                },
            )
        )
    w = config.recent_lender_months
    if features[f"new_accounts_{w}m"] >= config.recent_new_accounts:
        opened = [a.account_id for a in report.ED01 if _in_months(a.open_date, day, w)]
        flags.append(
            Flag(
                code="recent_new_lenders",
                severity=Severity.WARNING,
                message=f"近期新开户 (recent new lenders): {len(opened)} accounts opened in the "
                f"last {w} months.",
                evidence={"accounts": opened},
            )
        )
    serious = [
        a.account_id
        for a in report.ED01
        if a.worst_five_category in config.bad_five_categories
        or (a.account_status == "1" and a.five_category in config.bad_five_categories)
    ]
    if serious:
        flags.append(
            Flag(
                code="serious_delinquency",
                severity=Severity.CRITICAL,
                message=f"不良记录 (serious delinquency): {len(serious)} accounts classed 不良 "
                "within five years.",
                evidence={"accounts": serious},
            )
        )
    loss = [
        a.account_id
        for a in report.ED01
        if a.five_category in config.loss_five_categories
        or a.worst_five_category in config.loss_five_categories
    ]
    if loss:
        flags.append(
            Flag(
                code="bad_debt_or_special",
                severity=Severity.CRITICAL,
                message=f"损失/违约 (bad debt): {len(loss)} accounts classed 损失 or 违约.",
                evidence={"accounts": loss},
            )
        )
    return flags + _public_flag(features)


# --- summary ----------------------------------------------------------------------------------


class ReportSummary(BaseModel):
    """What an analyst reads off a report (征信报告解读), in reading order."""

    model_config = ConfigDict(frozen=True)

    subject: Literal["personal", "enterprise"]
    report_id: str
    business_id: int
    report_date: date
    as_of: date
    name: str
    identity: dict[str, str | int | None] = Field(
        description="personal: gender, birth_year, age, education, marital_status; enterprise: "
        "legal_form, founded, industry, city, legal_representative"
    )
    credit_history_months: int
    accounts: dict[str, dict[str, int]] = Field(
        description="personal: account type → {open, overdue (of the open), closed}; "
        "enterprise: open → {normal, concern, bad}, settled → {total, concern, bad}"
    )
    total_outstanding: int = Field(description="yuan")
    card_utilisation: float | None
    monthly_debt_service: float | None = Field(description="yuan per month (personal)")
    lending_institutions: int
    delinquency: dict[str, int] = Field(description="the delinquency picture (24 months)")
    inquiries: dict[str, int]
    guarantees: dict[str, int]
    public_records: dict[str, int]
    flags: list[Flag]

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude={"flags"})
        data["flags"] = [f.to_json() for f in self.flags]
        return data

    def to_text(self, lang: Lang | None = None) -> list[str]:
        """A few short paragraphs in English (``en``) or Chinese (``zh-CN``)."""
        zh = (lang or current_lang()) == "zh-CN"
        return _text_zh(self) if zh else _text_en(self)


def _age(report: PersonalReport, day: date) -> int:
    return day.year - report.PB01.birth_year


def summarise_report(
    report: Report,
    config: CreditReportConfig = DEFAULT_CONFIG,
    as_of: date | None = None,
    *,
    features: dict[str, FeatureValue] | None = None,
    flags: list[Flag] | None = None,
) -> ReportSummary:
    """The analyst's reading of one report (features and flags are computed when not given)."""
    day = as_of or _report_date(report)
    feats = features if features is not None else report_features(report, config, as_of)
    found = flags if flags is not None else report_flags(report, feats, config, as_of)
    guarantees = {
        k: int(feats[k])
        for k in ("guarantees", "guarantees_balance", "guarantees_concern", "guarantees_bad")
    }
    public = {k: int(feats[k]) for k in ("public_records", *_PUBLIC_KINDS)}
    if isinstance(report, PersonalReport):
        types: dict[str, dict[str, int]] = {}
        for a in report.PD01:
            entry = types.setdefault(a.A.account_type, {"open": 0, "overdue": 0, "closed": 0})
            entry["open" if a.B.closed_date is None else "closed"] += 1
            if a.B.closed_date is None and _level(a.B.repayment_status) > 0:
                entry["overdue"] += 1
        return ReportSummary(
            subject="personal",
            report_id=report.report_id,
            business_id=report.business_id,
            report_date=_report_date(report),
            as_of=day,
            name=report.PRH.name,
            identity={
                "gender": GENDERS[report.PB01.gender],
                "birth_year": report.PB01.birth_year,
                "age": _age(report, day),
                "education": EDUCATIONS[report.PB01.education],
                "marital_status": MARITAL_STATUSES[report.PB02.marital_status],
            },
            credit_history_months=int(feats["credit_history_months"]),
            accounts=dict(sorted(types.items())),
            total_outstanding=int(feats["total_outstanding"]),
            card_utilisation=float(feats["card_utilisation"]) if feats["cards_open"] else None,
            monthly_debt_service=float(feats["monthly_debt_service"]),
            lending_institutions=int(feats["lending_institutions"]),
            delinquency={
                k: int(feats[k])
                for k in (
                    "overdue_months_24m",
                    "max_status_24m",
                    "longest_overdue_run_24m",
                    "overdue_amount_max_24m",
                    "current_overdue_amount",
                    "accounts_delinquent_now",
                    "bad_status_accounts",
                    "collection_accounts",
                )
            },
            inquiries={
                k: int(feats[k])
                for k in (
                    "hard_inquiries_3m",
                    "hard_inquiries_24m",
                    "inquiries_loan_24m",
                    "inquiries_card_24m",
                )
                if k in feats
            },
            guarantees=guarantees,
            public_records=public,
            flags=found,
        )
    return ReportSummary(
        subject="enterprise",
        report_id=report.report_id,
        business_id=report.business_id,
        report_date=_report_date(report),
        as_of=day,
        name=report.EB01.name,
        identity={
            "legal_form": report.EB01.legal_form,
            "founded": report.EB01.founded.isoformat(),
            "industry": report.EB01.industry,
            "city": report.EB01.city,
            "legal_representative": report.EB01.legal_representative,
        },
        credit_history_months=int(feats["credit_history_months"]),
        accounts={
            "open": {
                "normal": int(feats["accounts_normal"]),
                "concern": int(feats["accounts_concern"]),
                "bad": int(feats["accounts_bad"]),
            },
            "settled": {
                "total": int(feats["accounts_settled"]),
                "concern": int(feats["settled_concern"]),
                "bad": int(feats["settled_bad"]),
            },
        },
        total_outstanding=int(feats["total_outstanding"]),
        card_utilisation=None,
        monthly_debt_service=None,
        lending_institutions=int(feats["lending_institutions"]),
        delinquency={
            k: int(feats[k])
            for k in ("overdue_amount", "overdue_principal", "outstanding_bad", "ever_bad")
        },
        inquiries={},
        guarantees=guarantees,
        public_records=public,
        flags=found,
    )


def _yuan(v: int | float) -> str:
    return f"{v:,.0f}"


def _text_en(s: ReportSummary) -> list[str]:
    years, months = divmod(s.credit_history_months, 12)
    history = f"{years} years {months} months" if years else f"{months} months"
    out: list[str] = []
    g, p, d = s.guarantees, s.public_records, s.delinquency
    if s.subject == "personal":
        i = s.identity
        out.append(
            f"Personal report {s.report_id} of {s.name} (business {s.business_id}), dated "
            f"{s.report_date}: {i['gender']}, born {i['birth_year']} (age {i['age']}), "
            f"education {i['education']}, marital status {i['marital_status']}."
        )
        kinds = "; ".join(
            f"{t} {ACCOUNT_TYPES[t]}: {c['open']} open"
            + (f" ({c['overdue']} overdue)" if c["overdue"] else "")
            + f", {c['closed']} closed"
            for t, c in s.accounts.items()
        )
        util = "" if s.card_utilisation is None else f", card utilisation {s.card_utilisation:.0%}"
        out.append(
            f"Credit history of {history}. Accounts: {kinds or 'none'}. Open loans at "
            f"{s.lending_institutions} institutions; outstanding {_yuan(s.total_outstanding)} "
            f"yuan{util}; monthly debt service about {_yuan(s.monthly_debt_service or 0)} yuan."
        )
        if d["overdue_months_24m"]:
            worst = REPAYMENT_STATUS[str(d["max_status_24m"])]
            out.append(
                f"Delinquency in the last 24 months: {d['overdue_months_24m']} overdue "
                f"account-months, worst status {d['max_status_24m']} ({worst}), longest run "
                f"{d['longest_overdue_run_24m']} months, largest monthly overdue amount "
                f"{_yuan(d['overdue_amount_max_24m'])} yuan; {d['accounts_delinquent_now']} "
                f"accounts overdue now ({_yuan(d['current_overdue_amount'])} yuan)."
            )
        else:
            out.append("No delinquency in the last 24 months.")
        if d["bad_status_accounts"] or d["collection_accounts"]:
            out.append(
                f"Bad endings: {d['bad_status_accounts']} accounts closed with G/D/Z, "
                f"{d['collection_accounts']} collection (C1) accounts."
            )
        q = s.inquiries
        out.append(
            f"Hard inquiries: {q['hard_inquiries_3m']} in 3 months, {q['hard_inquiries_24m']} in "
            f"24 months (loan approval {q.get('inquiries_loan_24m', 0)}, card approval "
            f"{q.get('inquiries_card_24m', 0)})."
        )
    else:
        i = s.identity
        out.append(
            f"Enterprise report {s.report_id} of {s.name} (business {s.business_id}), dated "
            f"{s.report_date}: {i['legal_form']}, founded {i['founded']}, {i['industry']}, "
            f"{i['city']}; legal representative {i['legal_representative']}."
        )
        o, st = s.accounts["open"], s.accounts["settled"]
        out.append(
            f"Credit history of {history}. Open accounts: {o['normal']} normal, {o['concern']} "
            f"concern (关注), {o['bad']} bad (不良), at {s.lending_institutions} institutions; "
            f"outstanding {_yuan(s.total_outstanding)} yuan. Settled: {st['total']} "
            f"({st['concern']} once concern, {st['bad']} once bad)."
        )
        out.append(
            f"Overdue now {_yuan(d['overdue_amount'])} yuan; bad balance "
            f"{_yuan(d['outstanding_bad'])} yuan."
        )
    if g["guarantees"]:
        out.append(
            f"Guarantees given: {g['guarantees']}, balance {_yuan(g['guarantees_balance'])} yuan "
            f"({g['guarantees_concern']} concern, {g['guarantees_bad']} bad)."
        )
    else:
        out.append("No guarantees given.")
    if p["public_records"]:
        kinds = ", ".join(f"{p[k]} {k.replace('_', ' ')}" for k in _PUBLIC_KINDS if p[k])
        out.append(f"Public records: {kinds}.")
    else:
        out.append("No public records.")
    if s.flags:
        out.append("Flags: " + " ".join(f"[{f.severity.value}] {f.message}" for f in s.flags))
    else:
        out.append("No flags.")
    return out


_ZH_PUBLIC = {
    "tax_arrears": "欠税",
    "civil_judgments": "民事判决",
    "enforcements": "强制执行",
    "penalties": "行政处罚",
}
_ZH_SEVERITY = {Severity.INFO: "提示", Severity.WARNING: "关注", Severity.CRITICAL: "重大"}


def _text_zh(s: ReportSummary) -> list[str]:
    years, months = divmod(s.credit_history_months, 12)
    history = f"{years}年{months}个月" if years else f"{months}个月"
    out: list[str] = []
    g, p, d = s.guarantees, s.public_records, s.delinquency
    if s.subject == "personal":
        i = s.identity
        out.append(
            f"个人信用报告 {s.report_id}（业务 {s.business_id}），报告日期 {s.report_date}。"
            f"被查询者{s.name}，{i['gender']}，{i['birth_year']}年生（{i['age']}岁），"
            f"学历{i['education']}，婚姻状况{i['marital_status']}。"
        )
        kinds = "；".join(
            f"{ACCOUNT_TYPES[t]} 未结清{c['open']}个"
            + (f"（其中逾期{c['overdue']}个）" if c["overdue"] else "")
            + f"、已结清{c['closed']}个"
            for t, c in s.accounts.items()
        )
        util = "" if s.card_utilisation is None else f"，贷记卡使用率{s.card_utilisation:.0%}"
        out.append(
            f"信用历史{history}。账户：{kinds or '无'}。未结清贷款机构{s.lending_institutions}家，"
            f"余额{_yuan(s.total_outstanding)}元{util}，月还款额约"
            f"{_yuan(s.monthly_debt_service or 0)}元。"
        )
        if d["overdue_months_24m"]:
            worst = REPAYMENT_STATUS[str(d["max_status_24m"])]
            out.append(
                f"近24个月逾期{d['overdue_months_24m']}个账户月，最高状态{d['max_status_24m']}"
                f"（{worst}），最长连续逾期{d['longest_overdue_run_24m']}个月，单月最高逾期金额"
                f"{_yuan(d['overdue_amount_max_24m'])}元；当前逾期账户{d['accounts_delinquent_now']}个"
                f"（{_yuan(d['current_overdue_amount'])}元）。"
            )
        else:
            out.append("近24个月无逾期。")
        if d["bad_status_accounts"] or d["collection_accounts"]:
            out.append(
                f"非正常结束：{d['bad_status_accounts']}个账户以G/D/Z结束，"
                f"催收账户{d['collection_accounts']}个。"
            )
        q = s.inquiries
        out.append(
            f"硬查询：近3个月{q['hard_inquiries_3m']}次，近24个月{q['hard_inquiries_24m']}次"
            f"（贷款审批{q.get('inquiries_loan_24m', 0)}次，信用卡审批"
            f"{q.get('inquiries_card_24m', 0)}次）。"
        )
    else:
        i = s.identity
        out.append(
            f"企业信用报告 {s.report_id}（业务 {s.business_id}），报告日期 {s.report_date}。"
            f"{s.name}，{i['legal_form']}，成立于{i['founded']}，{i['industry']}，{i['city']}，"
            f"法定代表人{i['legal_representative']}。"
        )
        o, st = s.accounts["open"], s.accounts["settled"]
        out.append(
            f"信用历史{history}。未结清账户：正常{o['normal']}个、关注{o['concern']}个、"
            f"不良{o['bad']}个，涉及机构{s.lending_institutions}家，余额{_yuan(s.total_outstanding)}元。"
            f"已结清{st['total']}个（曾关注{st['concern']}个、曾不良{st['bad']}个）。"
        )
        out.append(
            f"当前逾期{_yuan(d['overdue_amount'])}元，不良余额{_yuan(d['outstanding_bad'])}元。"
        )
    if g["guarantees"]:
        out.append(
            f"对外担保{g['guarantees']}笔，余额{_yuan(g['guarantees_balance'])}元"
            f"（关注{g['guarantees_concern']}笔，不良{g['guarantees_bad']}笔）。"
        )
    else:
        out.append("无对外担保。")
    if p["public_records"]:
        kinds = "、".join(f"{_ZH_PUBLIC[k]}{p[k]}条" for k in _PUBLIC_KINDS if p[k])
        out.append(f"公共记录：{kinds}。")
    else:
        out.append("无公共记录。")
    if s.flags:
        out.append(
            "风险提示："
            + "".join(
                f"【{_ZH_SEVERITY[f.severity]}】{f.message.split(' (')[0]}；" for f in s.flags
            )
        )
    else:
        out.append("无风险提示。")
    return out


# --- analysis -----------------------------------------------------------------------------------


class ReportAnalysis(BaseModel):
    """Features, flags and summary of one report (the ``analyse report`` result)."""

    model_config = ConfigDict(frozen=True)

    features: dict[str, FeatureValue]
    flags: list[Flag]
    summary: ReportSummary

    def to_json(self) -> dict[str, Any]:
        return {
            "features": dict(self.features),
            "flags": [f.to_json() for f in self.flags],
            "summary": self.summary.to_json(),
        }


def analyse_report(
    report: Report, config: CreditReportConfig = DEFAULT_CONFIG, as_of: date | None = None
) -> ReportAnalysis:
    """Analyse one parsed report: features, flags with evidence, and the analyst's summary."""
    features = report_features(report, config, as_of)
    flags = report_flags(report, features, config, as_of)
    summary = summarise_report(report, config, as_of, features=features, flags=flags)
    return ReportAnalysis(features=features, flags=flags, summary=summary)


def analyse_reports(
    reports: Sequence[PersonalReport] | Sequence[EnterpriseReport],
    config: CreditReportConfig = DEFAULT_CONFIG,
    as_of: date | Sequence[date] | None = None,
) -> list[ReportAnalysis]:
    """:func:`analyse_report` for many reports of one kind, with the features computed once in
    batch (:func:`report_features_frame`); flags and summaries then per report."""
    items: list[Report] = list(reports)
    frame = report_features_frame(reports, config, as_of)
    dates = _as_of_list(items, as_of)
    out: list[ReportAnalysis] = []
    for report, day, row in zip(items, dates, frame.iter_rows(named=True), strict=True):
        features = {k: v for k, v in row.items() if k not in KEYS}
        flags = report_flags(report, features, config, day)
        summary = summarise_report(report, config, day, features=features, flags=flags)
        out.append(ReportAnalysis(features=features, flags=flags, summary=summary))
    return out


__all__ = [
    "DEFAULT_CONFIG",
    "CreditReportConfig",
    "ReportAnalysis",
    "ReportSummary",
    "analyse_report",
    "analyse_reports",
    "report_features",
    "report_features_frame",
    "report_flags",
    "summarise_report",
]
