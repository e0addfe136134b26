"""PBOC-style credit reports (征信报告) of the simulated applicants.

For each business: the owner's personal report (个人信用报告) as of the application date, a
monitoring refresh (贷后查询) of it as of the end of the follow window (the application month
plus ``follow_months``), and, for companies (``legal_form`` other than 个体工商户), the
enterprise report (企业信用报告) as of the application date and its refresh as of the same
day as the personal refresh. The layout is the one of
:mod:`xiaowei.analysis.credit_report_schema`, documented in ``docs/credit-report-format.md``.

What is drawn from which latent variable:

* **Accounts (PD01 借贷账户).** Every debt of ``chunk.debts`` whose lender reports to the
  bureau (``reports_to_bureau``) is an account, with the debt's lender, institution type,
  account type, open date, amount (or limit) and balance, declared to the officer or hidden
  (隐瞒负债): the report is how an analyst catches a hider. Debts of private lenders (民间借贷)
  and non-reporting micro-lenders are not. Owner debts and, for a 个体工商户, the business's
  debts (a sole proprietor's business loans are personal: 个人经营性贷款) go to the personal
  report; a company's debts to the enterprise report. Closed accounts (已结清) of the last five
  years are added from the owner's and the firm's credit history (more for older businesses and
  for the multi-lending undisciplined), closed before the statement window so that no
  repayment is missing from the statements. Accounts opened after the application appear in
  the refresh: a few for everyone, and, for defaulters with early-warning signs, new lenders
  from ``timeline.precursor_start`` on (多头借贷 before default).
* **60-month status strings (PD01E 还款状态).** A monthly Markov chain per account, driven by
  latent ``credit_discipline`` and ``pd_12m`` (plus a business effect and account noise): the
  chance that a normal month turns into a delinquency ``1``, and, once delinquent, the chances
  to cure (back to ``N``), to stay one instalment behind (same code) or to roll (``k+1``).
  The undisciplined show ``1`` and ``2``, rarely ``3+``; the disciplined almost only ``N``.
  Defaulters of the follow window (``timeline.default_month``) go delinquent on their other
  accounts from the default month on (rolling to ``7``); a few historical accounts of the very
  undisciplined end with a guarantor paying (``D``, then a C1 collection account at the
  guarantee company), debt-for-asset (``Z``) or a transfer (``G``, then a C1 account at an asset
  manager). ``*`` marks months with nothing due (an account's first month, idle cards), ``#``
  a rare unknown month, ``/`` months before opening and after closing.
* **Query records (PH01 查询记录), last 24 months.** A hard inquiry (贷款审批 02, 信用卡审批 03,
  融资审批 24, 额度审批 26) before every account opened; shopping-around inquiries that led to
  no account, at a rate rising with poor discipline and PD; post-loan inquiries (贷后管理 01) of
  lenders with open accounts; guarantee-qualification inquiries (担保资格审查 08) when the owner
  guarantees a partner's loan; in the precursor window of a defaulter, a burst of hard
  inquiries (an early-warning sign the refresh shows).
* **Guarantees given (PD03/ED03 相关还款责任).** From ``chunk.edges`` where the business is
  guarantor: the borrower's loan at this institution (amount and term of the request, clamped
  to the product as :mod:`xiaowei.simulate.behaviour` books it), its balance at the report
  date, and a five-category class that worsens once the borrower has defaulted per
  ``timeline``.
* **Our own loan (本机构贷款).** The refresh shows the loan of
  :mod:`xiaowei.simulate.behaviour` (same terms, schedule and payments as ``loans/*``) as a D1
  account of this institution (小额贷款公司 51, 个人经营性贷款 41) when it started before the
  report date; it is the owner's for a 个体工商户 (in the personal refresh) and the firm's for
  a company (in the enterprise refresh, as an ED01 account of 业务种类 11 短期借款 or 12 中长期借款
  with the same balance, a five-category class by the same days past due, the worst class of
  its ``max_dpd``, and the overdue principal and interest and overdue principal of the
  installments past due; status 2 已结清 once settled). Everything is as of
  the day before the report (信息报告日期), from behaviour's
  :func:`~xiaowei.simulate.behaviour.installments_at` and ``performance`` at that day: the
  balance is the principal outstanding (a recovery, 清收, lowers it, principal first), the
  account is settled (结清, ``C``) once every installment is cleared (paid off or prepaid, 提前结清
  in ``F``), else overdue (逾期) when days past due (beyond the product's grace days) are
  positive; the five-category class (五级分类) maps days past due 0 → 1 正常, 1–90 → 2 关注,
  91–180 → 3 次级, 181–360 → 4 可疑, beyond 360 → 5 损失. The monthly status is the worst days
  past due of the month (at month end while an installment stays unpaid, the day before its
  payment when it comes within the month), as 1–30 → ``1``, 31–60 → ``2``, …, beyond 180 →
  ``7`` (never more than one level up a month: the grammar's rule, which binds only for due
  days early in a month, never with the day-20 products of the catalogue), so the worst digit
  is the level of ``loans/outcomes``' ``max_dpd`` at that day; ``N`` when the month's
  installment was paid by its due date or within the grace days (or falls due after the
  report date), ``*`` in a month with nothing due (the open month), ``C`` in the month the
  loan was settled (a delinquency earlier in that month is not shown), ``/`` after. As in
  ``loans/outcomes``, a recovery clears no installment: the status stays delinquent and the
  overdue amounts are the installments' unpaid principal and interest, which can exceed the
  balance after a recovery. Our post-loan checks (贷后管理 queries) stop once the loan is
  settled.
* **Public records (PF 公共信息).** Tax arrears, civil judgments and enforcement before the
  application for some of the undisciplined; after a default, a lawsuit and enforcement
  appear in the refresh for some defaulters.

Amounts are integer yuan (元), as the real report prints them. Everything is drawn from the
business's own streams (``Stream.CREDIT_REPORT`` for the accounts and their chains,
``CREDIT_FOLLOW`` for accounts opened after the application, ``CREDIT_ENTERPRISE`` for the
firm's history, ``CREDIT_QUERIES``, ``CREDIT_PUBLIC``), so a business renders the same bytes
whatever the chunk it falls in.

Tables: ``credit_reports/index`` (observable: ``report_id, business_id, subject, kind,
report_date``), truth ``credit_report_truth`` (one row per account of each report:
``report_id, business_id, subject, kind, account_id, origin, debt_id, declared,
hidden_reported``; ``origin`` is ``current``, ``history``, ``after_application``,
``collection`` or ``own_loan``). Documents: ``credit_reports/personal``,
``credit_reports/personal_refresh``, ``credit_reports/enterprise`` and
``credit_reports/enterprise_refresh`` (the refreshes only when ``follow_months > 0``). The
enterprise refresh shows the firm's debts still running (or settled within its 60 months) at
the refresh date, with their chain continued over the follow window; accounts opened after the
application are drawn for the owner only, so the firm has none.
"""

from __future__ import annotations

import bisect
import calendar
import gc
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from xiaowei.analysis.credit_report_schema import (
    ENTERPRISE_LAYOUT,
    HISTORY_MONTHS,
    PERSONAL_LAYOUT,
)
from xiaowei.core.money import to_cents
from xiaowei.lending.catalogue import load_catalogue
from xiaowei.lending.schedule import Frequency, RepaymentMethod
from xiaowei.simulate import behaviour, vocab
from xiaowei.simulate.latent import month_index, month_start
from xiaowei.simulate.output import Rendered
from xiaowei.simulate.random import Stream
from xiaowei.simulate.world import Chunk

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# The institution that runs the simulator's loans (本机构): it queries the bureau on
# application and after lending, and is the lender of the loans the network guarantees.
OWN_INSTITUTION = "小微普惠小额贷款有限公司"
OWN_INSTITUTION_TYPE = "51"
GUARANTEE_COMPANIES = ("瑞通融资担保有限公司", "汇鑫融资担保有限公司", "中诚融资担保有限公司")
ASSET_MANAGERS = ("恒安资产管理有限公司", "东信资产管理有限公司")
DISTRICTS = ("城东区", "城西区", "高新区", "经济开发区")
JUDGMENT_CAUSES = ("民间借贷纠纷", "买卖合同纠纷", "金融借款合同纠纷", "租赁合同纠纷")
PENALTIES = ("未按规定公示年度报告", "销售不合格产品", "违反食品安全管理规定", "未按期申报纳税")

NEVER = 1 << 30  # a month column later than any
_EPOCH = date(1970, 1, 1)
# Monthly chain of a delinquent account (逾期迁徙): chance to cure and to roll, by level 0–7.
BASE_CURE = np.array([0.0, 0.75, 0.55, 0.40, 0.30, 0.25, 0.20, 0.12])
BASE_ROLL = np.array([0.0, 0.10, 0.25, 0.40, 0.45, 0.50, 0.55, 0.0])
ONSET_INTERCEPT = -5.3  # log-odds of a normal month turning delinquent, at discipline 0, PD 6 %
DISTRESS_ONSET, DISTRESS_CURE, DISTRESS_ROLL = 0.8, 0.03, 0.85  # after the business defaults
DISTRESS_SHARE = 0.8  # of a defaulter's accounts that go delinquent
RECOVERED_CURE = 0.4
TYPE_ONSET = {"D1": -0.1, "R4": 0.3, "R1": 0.0, "R2": 0.35}
_CODE = np.frombuffer(b"/N*#1234567CGDZ", dtype=np.uint8)
SLASH, N_, STAR, HASH = (int(c) for c in _CODE[:4])
DIGIT = np.array([N_, *(int(c) for c in _CODE[4:11])], dtype=np.uint8)  # level → code
_DIGITS = frozenset("1234567")


# --- small date helpers -----------------------------------------------------------------------


def _add_months(d: date, n: int) -> date:
    k = d.year * 12 + d.month - 1 + n
    y, m = k // 12, k % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _day_in(month: int, day: int) -> date:
    y, m = month // 12, month % 12 + 1
    return date(y, m, min(day, calendar.monthrange(y, m)[1]))


def _ym(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def _yuan(fen: int) -> int:
    return int(fen) // 100


def _five_category(level: int) -> str:
    """Five-category class (五级分类) of a delinquency level."""
    if level <= 0:
        return "1"
    if level <= 2:
        return "2"
    if level == 3:
        return "3"
    return "4" if level <= 6 else "5"


@lru_cache(maxsize=8)
def _product_limits(code: str) -> tuple[int, int, int, int]:
    """Amount (fen) and term ranges of the product, to clamp the guaranteed loans."""
    found = [p for p in load_catalogue() if p.code == code]
    if not found:
        raise KeyError(f"no product {code} in the catalogue")
    p = max(found, key=lambda x: x.version)
    return to_cents(p.amount_min), to_cents(p.amount_max), p.term_min, min(p.term_max, 36)


# --- accounts ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Accounts:
    """Accounts of the chunk, column by column, with the inputs of their monthly chain."""

    cols: dict[str, list[Any]] = field(default_factory=dict)
    u: list[F64] = field(default_factory=list)
    v: list[F64] = field(default_factory=list)

    def add(self, u: F64, v: F64, **values: Any) -> None:
        if not self.cols:
            self.cols = {k: [] for k in values}
        for k, val in values.items():
            self.cols[k].append(val)
        self.u.append(u)
        self.v.append(v)

    def __len__(self) -> int:
        return len(self.u)


@dataclass(slots=True)
class _Business:
    bid: int
    name: str
    business_name: str
    uscc: str
    legal_form: str
    industry: str
    industry_zh: str
    city: str
    founded: date
    app_date: date
    app_m: int
    base: int  # absolute month of column 0
    ref_date: date | None
    company: bool
    discipline: float
    z: float  # log-odds of PD over the population target
    sales: float
    years: float
    age: int
    gender: str
    education: str
    marital: str
    spouse: str | None
    partners: list[str]
    id_number: str
    precursor_start: int | None
    default_month: int | None
    recovery_month: int | None
    booking_date: date
    booking_month: int
    requested_fen: int
    requested_term: int
    report_time: datetime
    ref_time: datetime | None
    queries_rng: np.random.Generator
    first: int = 0  # first account row of the business
    last: int = 0


_REPORTING_LIST = [i for i, row in enumerate(vocab.LENDERS) if row[3] and row[1] != "private"]
_REPORTING = np.array(_REPORTING_LIST, dtype=np.int64)
_TERMS = (6, 12, 12, 24, 36)
_CARD_LIMITS = (10_000, 20_000, 30_000, 50_000, 80_000)


def _lender_cdf(
    discipline: float, industry: str, *, nonbank_only: bool = False
) -> tuple[float, ...]:
    """Cumulative weights of the reporting lenders an owner borrows from (or applies to)."""
    return _lender_cdf_cached(
        undisciplined=discipline < -0.5,
        leases=industry in ("manufacturing", "agriculture"),
        nonbank_only=nonbank_only,
    )


@lru_cache(maxsize=16)
def _lender_cdf_cached(
    *, undisciplined: bool, leases: bool, nonbank_only: bool
) -> tuple[float, ...]:
    kinds = vocab.LENDER_KINDS[_REPORTING]
    w = np.where(kinds == "bank", 3.0, 1.0)
    w = np.where(kinds == "microloan", 0.6, w)
    w = np.where(kinds == "leasing", 0.3 if leases else 0.0, w)
    if undisciplined:
        w = np.where(np.isin(kinds, ["platform", "consumer-finance", "microloan"]), w * 2.5, w)
    if nonbank_only:
        w = np.where(kinds == "bank", 0.0, w)
    cdf = np.cumsum(w / w.sum())
    cdf[-1] = 1.0
    return tuple(float(x) for x in cdf)


def _pick_lender(cdf: tuple[float, ...], rng: np.random.Generator) -> tuple[str, str, str, bool]:
    return vocab.LENDERS[_REPORTING_LIST[bisect.bisect_right(cdf, rng.random())]]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _business_type(kind: str, account_type: str, lender: str, industry: str) -> str:
    """PD01AD03 业务种类 of a personal account."""
    if account_type == "R2":
        return "81"
    if kind == "leasing":
        return "92"
    if kind in ("bank", "microloan") or "网商" in lender:
        return "52" if industry == "agriculture" and kind == "bank" else "41"
    return "91"


def _repayment_method(kind: str, account_type: str, rng: np.random.Generator) -> str:
    if account_type == "R2":
        return "90"
    if account_type == "R1":
        return "31"
    if account_type == "R4" or kind != "bank":
        return "11"
    return "12" if rng.random() < 0.6 else "11"


def _guarantee_type(kind: str, account_type: str, rng: np.random.Generator) -> str:
    if account_type == "R2" or kind in ("platform", "consumer-finance"):
        return "4"
    if kind == "bank":
        r = rng.random()
        return "4" if r < 0.5 else ("3" if r < 0.8 else "2")
    if kind == "microloan":
        return "3" if rng.random() < 0.4 else "4"
    return "2" if kind == "leasing" else "4"


def _chain_inputs(
    biz: _Business,
    rng: np.random.Generator,
    h: int,
    effect: float,
    account_type: str,
) -> tuple[F64, F64, float]:
    """Uniforms of an account's chain and its monthly delinquency onset probability."""
    noise = rng.normal(0.0, 0.3)
    p_on = _sigmoid(
        ONSET_INTERCEPT
        - 0.8 * biz.discipline
        + 0.25 * biz.z
        + effect
        + TYPE_ONSET.get(account_type, 0.0)
        + noise
    )
    return rng.random(h), rng.random(h), p_on


def _draw_business(
    acc: _Accounts,
    collections: list[dict[str, Any]],
    biz: _Business,
    debts: list[dict[str, Any]],
    chunk: Chunk,
    h: int,
) -> None:
    """Draw every account of one business (personal and enterprise) into ``acc``."""
    cfg = chunk.config
    follow = cfg.follow_months
    rng = chunk.rng(biz.bid, Stream.CREDIT_REPORT)
    effect = rng.normal(0.0, 0.6)  # how the business handles its bills, beyond discipline
    cure_mult = float(np.exp(0.2 * biz.discipline))
    roll_mult = float(np.exp(-0.2 * biz.discipline))
    default_col = NEVER if biz.default_month is None else biz.default_month - biz.base
    recovery_col = NEVER if biz.recovery_month is None else biz.recovery_month - biz.base
    app_col = HISTORY_MONTHS - 1
    seq = {"P": 0, "E": 0}

    def next_id(subject: str) -> str:
        seq[subject] += 1
        return f"{subject}{biz.bid:08d}{seq[subject]:03d}"

    def add(
        r: np.random.Generator,
        subject: str,
        origin: str,
        *,
        debt_id: int | None,
        declared: bool | None,
        account_type: str,
        kind: str,
        lender: str,
        inst_type: str,
        amount: int,
        inst: int,
        term: int,
        opened: date,
        mature_col: int,
        forced_close_col: int = NEVER,
        term_code: str = "C",
        forced_onset_col: int = NEVER,
        early_col: int = NEVER,
        min_close_col: int = NEVER,
        app_balance: int = 0,
        used_app: int = 0,
        used_ref: int = 0,
        guarantee: str | None = None,
        special: list[tuple[str, date, int, int, str]] | None = None,
        distressed: bool = False,
    ) -> None:
        u, v, p_on = _chain_inputs(biz, r, h, effect, account_type)
        open_col = month_index(opened) - biz.base
        acc.add(
            u,
            v,
            bid=biz.bid,
            subject=subject,
            origin=origin,
            account_id=next_id(subject),
            debt_id=debt_id,
            declared=declared,
            account_type=account_type,
            kind=kind,
            institution=lender,
            inst_type=inst_type,
            business_type=_business_type(kind, account_type, lender, biz.industry),
            repayment_method=_repayment_method(kind, account_type, r),
            guarantee=guarantee
            if guarantee is not None
            else _guarantee_type(kind, account_type, r),
            amount=int(amount),
            inst=max(int(inst), 1),
            term=int(term),
            opened=opened,
            open_col=open_col,
            mature_col=mature_col,
            forced_close_col=forced_close_col,
            term_code=term_code,
            forced_onset_col=forced_onset_col,
            early_col=early_col,
            min_close_col=min_close_col,
            app_balance=int(app_balance),
            used_app=int(used_app),
            used_ref=int(used_ref),
            p_on=p_on,
            cure_mult=cure_mult,
            roll_mult=roll_mult,
            distress_col=default_col + int(r.integers(0, 3)) if distressed else NEVER,
            recovery_col=recovery_col,
            idle_p=float(r.uniform(0.05, 0.4)) if account_type == "R2" else 0.0,
            unknown_p=0.002 if kind != "bank" else 0.0005,
            special=special or [],
        )

    # 1. current debts that report (存量负债), in debt order
    for d in debts:
        if not d["reports_to_bureau"]:
            continue
        subject = "E" if (biz.company and d["borrower"] == "firm") else "P"
        term = int(d["term_months"])
        opened: date = d["opened"]
        open_col = month_index(opened) - biz.base
        limit = _yuan(d["principal_fen"])
        balance = _yuan(d["balance_fen"])
        revolving = d["account_type"] in ("R1", "R2")
        ref_frac = float(np.clip(balance / max(limit, 1) + rng.normal(0.0, 0.15), 0.02, 1.0))
        early = (
            app_col + 1 + int(rng.integers(0, follow))
            if follow > 0
            and d["account_type"] in ("D1", "R4")
            and rng.random() < 0.08 * follow / 12
            else NEVER
        )
        add(
            rng,
            subject,
            "current",
            debt_id=int(d["debt_id"]),
            declared=bool(d["declared"]),
            account_type=d["account_type"],
            kind=d["lender_kind"],
            lender=d["lender"],
            inst_type=d["institution_type"],
            amount=limit,
            inst=_yuan(d["monthly_payment_fen"]),
            term=term,
            opened=opened,
            mature_col=open_col + term if term > 0 else NEVER,
            early_col=early,
            min_close_col=app_col + 1,
            app_balance=balance,
            used_app=balance if revolving else 0,
            used_ref=round(limit * ref_frac) if revolving else 0,
            distressed=subject == "P" and bool(rng.random() < DISTRESS_SHARE),
        )

    # 2. closed accounts of the owner's history (已结清), closed before the statement window
    last_close = app_col - cfg.months - 1
    lam = 0.7 + 0.07 * min(biz.years, 15.0) + 0.45 * max(-biz.discipline, 0.0)
    n_hist = min(int(rng.poisson(lam)), 8) if last_close >= 0 else 0
    weights = _lender_cdf(biz.discipline, biz.industry)
    p_bad = _sigmoid(-5.8 - 1.0 * biz.discipline + 0.25 * biz.z)
    for _ in range(n_hist):
        lender, kind, itype, _reports = _pick_lender(weights, rng)
        r = rng.random()
        if kind == "bank":
            atype = "D1" if r < 0.55 else ("R2" if r < 0.9 else "R1")
        elif kind == "platform":
            atype = "R4" if r < 0.6 else "D1"
        else:
            atype = "D1"
        close_col = int(rng.integers(0, last_close + 1))
        if atype == "R2":
            term = 0
            duration = int(rng.integers(12, 73))
            amount = _CARD_LIMITS[int(rng.integers(0, 5))]
            inst = amount * 3 // 100
        else:
            term = _TERMS[int(rng.integers(0, 5))]
            duration = term
            if kind == "bank":
                amount = max(int(round(biz.sales * rng.uniform(0.3, 1.5), -3)), 10_000)
            elif kind == "microloan":
                amount = max(int(round(biz.sales * rng.uniform(0.2, 0.8), -3)), 10_000)
            elif kind == "leasing":
                amount = max(int(round(biz.sales * rng.uniform(0.5, 2.0), -3)), 50_000)
            else:
                amount = int(round(rng.uniform(5_000, 50_000), -3))
            inst = amount // 200 if atype == "R1" else round(amount / term * 1.05)
        bad = atype != "R2" and bool(rng.random() < p_bad)
        special: list[tuple[str, date, int, int, str]] = []
        guarantee = None
        code = "C"
        onset = NEVER
        early_close = atype in ("D1", "R4") and not bad and bool(rng.random() < 0.25)
        if early_close:
            duration = int(rng.integers(1, term))
        if bad:
            depth = int(rng.integers(3, 9))
            duration = max(duration, depth + 2)
            onset = close_col - depth
            if depth >= 7:
                code = "G"
            elif rng.random() < 0.3:
                code, guarantee = "Z", "2"
            else:
                code, guarantee = "D", "3"
        open_col = close_col - duration
        opened = _day_in(biz.base + open_col, int(rng.integers(1, 29)))
        closed = _day_in(biz.base + close_col, opened.day)
        if early_close:
            left = round(amount * (term - duration) / term)
            special.append(("5", closed, 0, left, "提前结清"))
        if bad:
            owed = round(amount * rng.uniform(0.3, 0.8))
            if code == "D":
                special.append(("2", closed, 0, owed, "担保人代偿"))
                who = GUARANTEE_COMPANIES[int(rng.integers(0, len(GUARANTEE_COMPANIES)))]
                collections.append(_collection(biz, "53", who, "B1", closed, owed, rng))
            elif code == "Z":
                special.append(("3", closed, 0, owed, "以资抵债"))
            else:
                special.append(("13", closed, 0, owed, "资产转让"))
                who = ASSET_MANAGERS[int(rng.integers(0, len(ASSET_MANAGERS)))]
                collections.append(_collection(biz, "26", who, "A1", closed, owed, rng))
        add(
            rng,
            "P",
            "history",
            debt_id=None,
            declared=None,
            account_type=atype,
            kind=kind,
            lender=lender,
            inst_type=itype,
            amount=amount,
            inst=inst,
            term=term,
            opened=opened,
            mature_col=NEVER,
            forced_close_col=close_col,
            term_code=code,
            forced_onset_col=onset,
            guarantee=guarantee,
            special=special,
        )

    # 3. accounts opened after the application (refresh only): a few for everyone, and new
    #    lenders in a defaulter's precursor window (多头借贷)
    if follow > 0 and biz.ref_date is not None:
        fr = chunk.rng(biz.bid, Stream.CREDIT_FOLLOW)
        ref_col = h - 1
        months: list[int] = [
            int(c)
            for c in fr.integers(
                app_col + 1, ref_col + 1, fr.poisson(0.012 * follow * np.exp(-0.5 * biz.discipline))
            )
        ]
        if biz.precursor_start is not None and biz.default_month is not None:
            lo = max(biz.precursor_start - biz.base, app_col + 1)
            hi = min(biz.default_month - biz.base, ref_col)
            if lo <= hi:
                months += [int(c) for c in fr.integers(lo, hi + 1, 1 + fr.poisson(0.8))]
        nb = _lender_cdf(biz.discipline, biz.industry, nonbank_only=True)
        for col in months:
            lender, kind, itype, _reports = _pick_lender(nb, fr)
            atype = "R4" if kind == "platform" and fr.random() < 0.6 else "D1"
            amount = int(round(fr.uniform(5_000, 50_000), -3))
            term = 12
            last_day = biz.ref_date.day - 1 if col == ref_col else 28
            if last_day < 1:
                col -= 1
                last_day = 28
            if col <= app_col:
                continue
            opened = _day_in(biz.base + col, int(fr.integers(1, last_day + 1)))
            add(
                fr,
                "P",
                "after_application",
                debt_id=None,
                declared=None,
                account_type=atype,
                kind=kind,
                lender=lender,
                inst_type=itype,
                amount=amount,
                inst=round(amount / term * 1.08),
                term=term,
                opened=opened,
                mature_col=col + term,
                min_close_col=col + 1,
                app_balance=amount,
                distressed=bool(fr.random() < DISTRESS_SHARE),
            )

    # 4. the company's own closed history (企业已结清信贷)
    if biz.company and last_close >= 0:
        er = chunk.rng(biz.bid, Stream.CREDIT_ENTERPRISE)
        bank_i = np.flatnonzero(vocab.LENDER_KINDS[_REPORTING] == "bank")
        for _ in range(min(int(er.poisson(0.5 + 0.08 * min(biz.years, 15.0))), 6)):
            lender_i = int(_REPORTING[int(bank_i[int(er.integers(0, len(bank_i)))])])
            lender, kind, itype, _reports = vocab.LENDERS[lender_i]
            atype = "D1" if er.random() < 0.7 else "R1"
            term = _TERMS[int(er.integers(0, 5))]
            amount = int(max(round(biz.sales * er.uniform(0.5, 2.5), -3), 50_000))
            close_col = int(er.integers(0, last_close + 1))
            open_col = close_col - term
            opened = _day_in(biz.base + open_col, int(er.integers(1, 29)))
            add(
                er,
                "E",
                "history",
                debt_id=None,
                declared=None,
                account_type=atype,
                kind=kind,
                lender=lender,
                inst_type=itype,
                amount=amount,
                inst=amount // 200 if atype == "R1" else round(amount / term * 1.05),
                term=term,
                opened=opened,
                mature_col=NEVER,
                forced_close_col=close_col,
            )


def _collection(
    biz: _Business,
    inst_type: str,
    institution: str,
    business_type: str,
    opened: date,
    amount: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """A C1 collection account (催收账户) after a guarantor's payment or a transfer."""
    ends = bool(rng.random() < 0.4)
    return {
        "bid": biz.bid,
        "institution": institution,
        "inst_type": inst_type,
        "business_type": business_type,
        "opened": opened,
        "amount": int(amount),
        "balance": round(amount * rng.uniform(0.6, 1.0)),
        "ends": opened + timedelta(days=int(rng.integers(60, 400))) if ends else None,
    }


# --- the monthly chain ------------------------------------------------------------------------


def _run_chain(
    c: dict[str, npt.NDArray[Any]], u: F64, v: F64
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int8], I64]:
    """Status codes and delinquency levels of every account and month (vectorised).

    A card is never idle (``*``) in a report month (the application's and the refresh's):
    its latest status must agree with the balance the report shows.
    """
    n, h = u.shape
    report_cols = (HISTORY_MONTHS - 1, h - 1)
    open_col = c["open_col"]
    level = np.zeros(n, dtype=np.int64)
    state = np.where(open_col < 0, 1, 0)  # 0 not open, 1 open, 2 closed
    codes = np.full((n, h), SLASH, dtype=np.uint8)
    levels = np.zeros((n, h), dtype=np.int8)
    closed_at = np.full(n, NEVER, dtype=np.int64)
    term_code = np.array([ord(t) for t in c["term_code"]], dtype=np.uint8)
    for j in range(h):
        is_open = state == 1
        opening = (state == 0) & (open_col == j)
        uj, vj = u[:, j], v[:, j]
        distress = (j >= c["distress_col"]) & (j < c["recovery_col"])
        recovered = (j >= c["recovery_col"]) & (c["distress_col"] < NEVER)
        p_on = np.where(distress, DISTRESS_ONSET, c["p_on"])
        cure = np.minimum(BASE_CURE[level] * c["cure_mult"], 0.95)
        cure = np.where(distress, DISTRESS_CURE, np.where(recovered, RECOVERED_CURE, cure))
        roll = np.minimum(BASE_ROLL[level] * c["roll_mult"], 0.97 - cure)
        roll = np.where(distress, DISTRESS_ROLL, roll)
        up = np.minimum(level + 1, 7)
        from_k = np.where(uj < cure, 0, np.where(uj < cure + roll, up, level))
        new = np.where(level == 0, np.where(uj < p_on, 1, 0), from_k)
        new = np.where(j >= c["forced_onset_col"], up, new)
        forced_close = is_open & (j == c["forced_close_col"])
        natural = (
            is_open
            & ~forced_close
            & (new == 0)
            & ((j >= c["mature_col"]) | (j >= c["early_col"]))
            & (j >= c["min_close_col"])
        )
        closing = forced_close | natural
        quiet = (level == 0) & (new == 0)
        normal = np.where(
            quiet & (vj < c["idle_p"]) & (j not in report_cols),
            STAR,
            np.where(quiet & (vj > 1.0 - c["unknown_p"]), HASH, DIGIT[new]),
        )
        code = np.where(forced_close, term_code, np.where(natural, ord("C"), normal))
        codes[:, j] = np.where(is_open, code, np.where(opening, STAR, SLASH))
        levels[:, j] = np.where(is_open & ~closing, new, 0)
        level = np.where(is_open & ~closing, new, 0)
        closed_at = np.where(closing, j, closed_at)
        state = np.where(closing, 2, np.where(opening, 1, state))
    return codes, levels, closed_at


# --- documents --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Report:
    subject: str  # "personal" | "enterprise"
    kind: str  # "application" | "refresh"
    report_id: str
    time: datetime
    col: int  # the month column of the report (its 60-month window ends here)

    @property
    def day(self) -> date:
        return self.time.date()


def _window_accounts(
    biz: _Business, c: dict[str, list[Any]], closed_at: I64, rep: _Report, subject: str
) -> list[int]:
    """Rows of ``subject``'s accounts that the report shows: opened by the report date, and
    open or closed within its 60-month window."""
    rows = []
    for a in range(biz.first, biz.last):
        if c["subject"][a] != subject or c["opened"][a] > rep.day:
            continue
        if closed_at[a] < rep.col - (HISTORY_MONTHS - 1):
            continue
        rows.append(a)
    rows.sort(key=lambda a: (c["opened"][a], c["account_id"][a]))
    return rows


def _closed_date(c: dict[str, list[Any]], a: int, col: int, biz: _Business, rep: _Report) -> date:
    opened: date = c["opened"][a]
    d = _day_in(biz.base + col, opened.day)
    return max(min(d, rep.day), opened)


def _balance(c: dict[str, list[Any]], a: int, levels: npt.NDArray[np.int8], r: int) -> int:
    """Balance (余额) of an open account at column ``r``."""
    atype = c["account_type"][a]
    app_col = HISTORY_MONTHS - 1
    if atype in ("R1", "R2"):
        return int(c["used_app"][a] if r <= app_col else c["used_ref"][a])
    amount, term = c["amount"][a], max(c["term"][a], 1)
    per = amount / term
    lvl = int(levels[a, r])
    if c["origin"][a] == "current":
        bal = c["app_balance"][a] - per * ((r - app_col) - (lvl - int(levels[a, app_col])))
    else:
        bal = per * (term - (r - c["open_col"][a]) + lvl)
    return int(min(max(round(bal), 0), amount))


def _personal_account(
    biz: _Business,
    c: dict[str, list[Any]],
    a: int,
    codes: npt.NDArray[np.uint8],
    levels: npt.NDArray[np.int8],
    closed_at: I64,
    rep: _Report,
) -> dict[str, Any]:
    r = rep.col
    w0 = r - (HISTORY_MONTHS - 1)
    atype = c["account_type"][a]
    term = c["term"][a]
    opened: date = c["opened"][a]
    closed = closed_at[a] <= r
    window = codes[a, w0 : r + 1]
    status = window.tobytes().decode("ascii")
    inst = c["inst"][a]
    overdue = [
        {"month": _ym(biz.base + w0 + i), "amount_yuan": int(ch) * inst}
        for i, ch in enumerate(status)
        if ch in _DIGITS
    ]
    if closed:
        end = status_at = chr(codes[a, closed_at[a]])
        close_d = _closed_date(c, a, int(closed_at[a]), biz, rep)
        if end == "G":
            account_status = {"D1": "5", "R4": "4", "R1": "4"}.get(atype, "5")
        else:
            account_status = "4" if atype == "R2" else "3"
        latest = {
            "account_status": account_status,
            "five_category": None,
            "repayment_status": status_at,
            "balance_yuan": 0,
            "closed_date": close_d.isoformat(),
            "report_date": close_d.isoformat(),
        }
        month_seg = None
    else:
        lvl = int(levels[a, r])
        code = chr(codes[a, r])
        balance = _balance(c, a, levels, r)
        used = balance if atype in ("R1", "R2") else None
        due = 0 if code == "*" else (max(round(balance * 0.1), 0) if atype == "R2" else inst)
        elapsed = r - c["open_col"][a]
        latest = {
            "account_status": "2" if lvl > 0 and atype != "R2" else "1",
            "five_category": "9" if atype == "R2" else _five_category(lvl),
            "repayment_status": code,
            "balance_yuan": balance,
            "closed_date": None,
            "report_date": max(rep.day - timedelta(days=1), opened).isoformat(),
        }
        month_seg = {
            "month": _ym(biz.base + r),
            "due_yuan": int(due),
            "overdue_yuan": lvl * inst,
            "overdue_periods": lvl,
            "remaining_periods": max(term - elapsed, 0) if term > 0 else None,
            "used_yuan": used,
        }
    revolving = atype in ("R1", "R2")
    return {
        "A": {
            "account_id": c["account_id"][a],
            "account_type": atype,
            "institution_type": c["inst_type"][a],
            "institution": c["institution"][a],
            "business_type": c["business_type"][a],
            "currency": "CNY",
            "repayment_method": c["repayment_method"][a],
            "repayment_frequency": "03",
            "guarantee_type": c["guarantee"][a],
            "amount_yuan": None if revolving else c["amount"][a],
            "credit_limit_yuan": c["amount"][a] if revolving else None,
            "open_date": opened.isoformat(),
            "due_date": _add_months(opened, term).isoformat() if term > 0 else None,
            "installments": term if term > 0 else None,
        },
        "B": latest,
        "C": month_seg,
        "E": {
            "start_month": _ym(biz.base + w0),
            "end_month": _ym(biz.base + r),
            "months": HISTORY_MONTHS,
            "status": status,
            "overdue": overdue,
        },
        "F": [
            {
                "type": t,
                "date": d.isoformat(),
                "months_changed": m,
                "amount_yuan": amt,
                "detail": detail,
            }
            for t, d, m, amt, detail in c["special"][a]
            if d <= rep.day
        ],
    }


def _collection_account(col: dict[str, Any], account_id: str, rep: _Report) -> dict[str, Any]:
    ended = col["ends"] is not None and col["ends"] <= rep.day
    opened: date = col["opened"]
    return {
        "A": {
            "account_id": account_id,
            "account_type": "C1",
            "institution_type": col["inst_type"],
            "institution": col["institution"],
            "business_type": col["business_type"],
            "currency": "CNY",
            "repayment_method": None,
            "repayment_frequency": None,
            "guarantee_type": None,
            "amount_yuan": col["amount"],
            "credit_limit_yuan": None,
            "open_date": opened.isoformat(),
            "due_date": None,
            "installments": None,
        },
        "B": {
            "account_status": "2" if ended else "1",
            "five_category": None,
            "repayment_status": None,
            "balance_yuan": 0 if ended else col["balance"],
            "closed_date": col["ends"].isoformat() if ended else None,
            "report_date": (
                col["ends"] if ended else max(rep.day - timedelta(days=1), opened)
            ).isoformat(),
        },
        "C": None,
        "E": None,
        "F": [],
    }


# --- our own loan (本机构贷款) ------------------------------------------------------------------

OWN_ACCOUNT_SEQ = 800  # our loan's account id: P{business_id:08d}800
# Repayment method (还款方式) and frequency (还款频率) codes of behaviour's loan terms.
_METHOD_CODES = {
    RepaymentMethod.EQUAL_INSTALLMENT.value: "11",  # 分期等额本息
    RepaymentMethod.EQUAL_PRINCIPAL.value: "12",  # 分期等额本金
    RepaymentMethod.INTEREST_ONLY.value: "13",  # 到期还本分期结息
}
_OTHER_METHOD = "19"  # 其他类型分期还款 (balloon, seasonal)
_FREQUENCY_CODES = {Frequency.MONTHLY.value: "03", Frequency.QUARTERLY.value: "04"}
_NO_DAY = 1 << 40  # a day number later than any report


@dataclass(frozen=True, slots=True)
class _OwnLoan:
    """Our loan to one business as the refresh report shows it, at ``as_of`` (the day before
    the report: 信息报告日期). Amounts in yuan (元, rounded half up from fen)."""

    as_of: date
    start: date
    maturity: date  # the last installment's due date (到期日期)
    installments: int
    amount: int
    method: str
    frequency: str
    guarantee: str
    first_month: int  # absolute month of ``codes[0]``, the open month
    codes: str  # one status code a month, the open month to the report month
    overdue: tuple[tuple[int, int], ...]  # (absolute month, yuan) of the months coded 1–7
    closed: date | None  # settled (结清): the day the last installment was cleared
    balance: int  # principal outstanding (本金余额)
    dpd: int  # days past due at ``as_of`` (beyond the grace days)
    max_dpd: int  # the worst days past due up to ``as_of`` (``loans/outcomes``' ``max_dpd``)
    due: int  # scheduled principal and interest due in the report month (本月应还款)
    overdue_now: int  # unpaid principal and interest of the installments past due
    overdue_principal: int  # unpaid principal of the installments past due (逾期本金)
    overdue_periods: int  # installments past due (当前逾期期数)
    remaining: int  # installments not yet due (剩余还款期数)
    prepayment: tuple[date, int] | None  # 提前结清: day and amount paid


def _yuan_round(fen: npt.NDArray[np.int64]) -> I64:
    """Fen to whole yuan, rounded half up (四舍五入), as the report prints amounts."""
    out: I64 = (fen + 50) // 100
    return out


def _yuan_half_up(fen: int | np.integer[Any]) -> int:
    return (int(fen) + 50) // 100


def _day_numbers(series: pl.Series) -> I64:
    out: I64 = series.cast(pl.Date).to_physical().to_numpy().astype(np.int64)
    return out


def _month_of_days(day: I64) -> I64:
    """Absolute month index (year × 12 + month − 1) of day numbers since 1970-01-01."""
    out: I64 = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
    return out


def _first_day(month: I64) -> I64:
    """Day number of the first day of absolute month ``month``."""
    out: I64 = (month - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return out


def _five_category_dpd(dpd: int) -> str:
    """Five-category class (五级分类) of days past due: the conventional mapping 0 → 1 正常,
    1–90 → 2 关注, 91–180 → 3 次级, 181–360 → 4 可疑, beyond 360 → 5 损失."""
    if dpd <= 0:
        return "1"
    if dpd <= 90:
        return "2"
    if dpd <= 180:
        return "3"
    return "4" if dpd <= 360 else "5"


def _own_loans(chunk: Chunk, businesses: list[_Business]) -> dict[int, _OwnLoan]:
    """Our loan to every business with a refresh report, as of the day before that report.

    The loans, schedules and payments are :mod:`xiaowei.simulate.behaviour`'s own
    (``loan_terms``, ``schedules``, ``payment_paths``: the same rows as ``loans/*``), and the
    installments' clearing, the days past due and the principal outstanding are its
    :func:`~xiaowei.simulate.behaviour.installments_at` and
    :func:`~xiaowei.simulate.behaviour.performance` at that day, so the report agrees with
    ``loans/outcomes`` computed at the same date. Loans not started by then are left out.
    """
    as_of = {b.bid: b.ref_date - timedelta(days=1) for b in businesses if b.ref_date is not None}
    if not as_of:
        return {}
    product = behaviour.catalogue_product(chunk.config.product_code)
    grace = product.overdue_grace_days
    dates = pl.DataFrame(
        {"business_id": list(as_of), "horizon": list(as_of.values())},
        schema={"business_id": pl.Int64, "horizon": pl.Date},
    )
    loans = (
        behaviour.loan_terms(chunk)
        .join(dates, on="business_id", maintain_order="left")
        .filter(pl.col("start_date") <= pl.col("horizon"))
    )
    if not loans.height:
        return {}
    horizon = loans.select("loan_id", "business_id", "start_date", "horizon")
    loans = loans.drop("horizon")
    schedule = behaviour.schedules(loans, product)
    repayments, _ = behaviour.payment_paths(chunk, loans, schedule, product)
    clearing = behaviour.installments_at(schedule, repayments, horizon)
    perf = behaviour.performance(clearing, grace_days=grace)
    perf = horizon.select("loan_id").join(perf, on="loan_id", how="left", maintain_order="left")

    # Per installment, grouped by loan in the order of ``horizon``.
    loan_ids = horizon["loan_id"].to_numpy().astype(np.int64)
    n_loans = len(loan_ids)
    paid_before = (
        repayments.filter(pl.col("installment").is_not_null())
        .join(
            clearing.installments.select("loan_id", "installment", "cleared_date", "horizon"),
            on=["loan_id", "installment"],
        )
        .filter(
            (pl.col("pay_date") <= pl.col("horizon"))
            & (pl.col("cleared_date").is_null() | (pl.col("pay_date") < pl.col("cleared_date")))
        )
        .group_by("loan_id", "installment")
        .agg(pl.col("amount_fen").sum().alias("_before"))
    )
    inst = (
        clearing.installments.join(paid_before, on=["loan_id", "installment"], how="left")
        .with_columns(pl.col("_before").fill_null(0))
        .sort("loan_id", "installment")
    )
    li = np.searchsorted(loan_ids, inst["loan_id"].to_numpy().astype(np.int64))
    if not np.all(np.diff(loan_ids) > 0):
        raise AssertionError("loans are expected in loan_id order")
    counts = np.bincount(li, minlength=n_loans)
    if counts.min() < 1:
        raise AssertionError("every loan has a schedule")
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    due = _day_numbers(inst["due_date"])
    cleared = np.where(
        inst["cleared_date"].is_null().to_numpy(),
        _NO_DAY,
        _day_numbers(inst["cleared_date"].fill_null(_EPOCH)),
    )
    inst_principal = inst["principal_fen"].to_numpy().astype(np.int64)
    inst_interest = inst["interest_fen"].to_numpy().astype(np.int64)
    before = inst["_before"].to_numpy().astype(np.int64)
    owed = inst_principal + inst_interest
    unpaid = np.maximum(owed - before, 0)
    # an installment's payments go to its interest first: the principal still unpaid
    principal_unpaid = inst_principal - np.clip(before - inst_interest, 0, inst_principal)
    e_loan = _day_numbers(horizon["horizon"])
    e = e_loan[li]
    open_month = _month_of_days(_day_numbers(horizon["start_date"]))
    report_month = _month_of_days(e_loan)
    span = report_month - open_month + 1  # months from the open month to the report month
    due_month = _month_of_days(due)
    last_unpaid = np.minimum(cleared - 1, e)  # the last day an installment was unpaid (by e)

    # The worst days past due of each month (beyond the grace days), the unpaid amount of the
    # installments past due in it, and whether an installment falls due in it.
    width = int(span.max())
    worst = np.zeros((n_loans, width), dtype=np.int64)
    amount = np.zeros((n_loans, width), dtype=np.int64)
    due_in = np.zeros((n_loans, width), dtype=np.bool_)
    for j in range(width):
        month = open_month[li] + j
        t = np.minimum(_first_day(month + 1) - 1, last_unpaid)
        late = (j < span[li]) & (t >= _first_day(month)) & (t - due > grace)
        worst[:, j] = np.maximum.reduceat(np.where(late, t - due, 0), offsets)
        amount[:, j] = np.add.reduceat(np.where(late, unpaid, 0), offsets)
        due_in[:, j] = np.add.reduceat((due_month == month).astype(np.int64), offsets) > 0
    level = np.minimum((worst + 29) // 30, 7)
    for j in range(1, width):  # never more than one level up a month (the grammar's rule)
        level[:, j] = np.minimum(level[:, j], level[:, j - 1] + 1)

    closed = perf["closed"].to_numpy()
    settled_day = np.maximum.reduceat(np.where(cleared < _NO_DAY, cleared, 0), offsets)
    settled_col = np.where(closed, _month_of_days(settled_day) - open_month, NEVER)
    cols = np.arange(width)[np.newaxis, :]
    codes = np.where(level > 0, DIGIT[level], np.uint8(N_))
    prev_digit = np.concatenate([np.zeros((n_loans, 1), np.bool_), level[:, :-1] > 0], axis=1)
    codes = np.where((level == 0) & ~due_in & ~prev_digit, np.uint8(STAR), codes)
    codes = np.where(cols == settled_col[:, None], np.uint8(ord("C")), codes)
    codes = np.where(cols > settled_col[:, None], np.uint8(SLASH), codes)
    digit = (level > 0) & (cols < settled_col[:, None])
    amount_yuan = np.maximum(_yuan_round(amount), 1)

    past_due = (cleared > e) & (e - due > grace)
    overdue_now = np.add.reduceat(np.where(past_due, unpaid, 0), offsets)
    overdue_principal = np.add.reduceat(np.where(past_due, principal_unpaid, 0), offsets)
    overdue_periods = np.add.reduceat(past_due.astype(np.int64), offsets)
    due_now = np.add.reduceat(np.where(due_month == report_month[li], owed, 0), offsets)
    remaining = np.add.reduceat((due > e).astype(np.int64), offsets)
    maturity = np.maximum.reduceat(due, offsets)

    prepaid = dict(
        repayments.join(horizon.select("loan_id", "horizon"), on="loan_id")
        .filter(
            (pl.col("kind") == behaviour.PaymentKind.PREPAYMENT.value)
            & (pl.col("pay_date") <= pl.col("horizon"))
        )
        .group_by("loan_id")
        .agg(pl.struct("pay_date", "amount_fen").first())
        .iter_rows()
    )
    guaranteed = set(chunk.edges["borrower_id"].to_list()) if chunk.edges.height else set()
    terms = loans.select("loan_id", "business_id", "principal_fen", "method", "frequency")
    balance = _yuan_round(perf["principal_outstanding_fen"].to_numpy().astype(np.int64))
    dpd = perf["dpd"].to_numpy().astype(np.int64)
    max_dpd = perf["max_dpd"].to_numpy().astype(np.int64)
    start = horizon["start_date"].to_list()
    out: dict[int, _OwnLoan] = {}
    for k, (loan_id, bid, principal, method, frequency) in enumerate(terms.iter_rows()):
        if loan_id != loan_ids[k]:
            raise AssertionError("loan terms and horizons are out of step")
        n = int(span[k])
        row = codes[k, :n]
        months = [
            (int(open_month[k]) + j, int(amount_yuan[k, j]))
            for j in np.flatnonzero(digit[k, :n]).tolist()
        ]
        pre = prepaid.get(loan_id)
        out[int(bid)] = _OwnLoan(
            as_of=as_of[int(bid)],
            start=start[k],
            maturity=_EPOCH + timedelta(days=int(maturity[k])),
            installments=int(counts[k]),
            amount=_yuan_half_up(principal),
            method=_METHOD_CODES.get(method, _OTHER_METHOD),
            frequency=_FREQUENCY_CODES.get(frequency, "99"),
            guarantee="3" if bid in guaranteed else "4",
            first_month=int(open_month[k]),
            codes=row.tobytes().decode("ascii"),
            overdue=tuple(months),
            closed=_EPOCH + timedelta(days=int(settled_day[k])) if closed[k] else None,
            balance=0 if closed[k] else int(balance[k]),
            dpd=int(dpd[k]),
            max_dpd=int(max_dpd[k]),
            due=_yuan_half_up(due_now[k]),
            overdue_now=_yuan_half_up(overdue_now[k]),
            overdue_principal=_yuan_half_up(overdue_principal[k]),
            overdue_periods=int(overdue_periods[k]),
            remaining=int(remaining[k]),
            prepayment=None if pre is None else (pre["pay_date"], _yuan_half_up(pre["amount_fen"])),
        )
    return out


def _own_account(biz: _Business, loan: _OwnLoan, rep: _Report) -> dict[str, Any]:
    """Our loan as a D1 account (个人经营性贷款) of the owner's refresh report."""
    w0 = biz.base + rep.col - (HISTORY_MONTHS - 1)  # absolute month of the window's start
    if loan.first_month + len(loan.codes) - 1 != biz.base + rep.col:
        raise AssertionError("our loan's history must end in the report month")
    lead = loan.first_month - w0
    status = ("/" * lead + loan.codes) if lead >= 0 else loan.codes[-lead:]
    if loan.closed is not None:
        latest = {
            "account_status": "3",
            "five_category": None,
            "repayment_status": "C",
            "balance_yuan": 0,
            "closed_date": loan.closed.isoformat(),
            "report_date": loan.closed.isoformat(),
        }
        month_seg = None
    else:
        latest = {
            "account_status": "2" if loan.dpd > 0 else "1",
            "five_category": _five_category_dpd(loan.dpd),
            "repayment_status": status[-1],
            "balance_yuan": loan.balance,
            "closed_date": None,
            "report_date": loan.as_of.isoformat(),
        }
        month_seg = {
            "month": _ym(biz.base + rep.col),
            "due_yuan": loan.due,
            "overdue_yuan": loan.overdue_now,
            "overdue_periods": loan.overdue_periods,
            "remaining_periods": loan.remaining,
            "used_yuan": None,
        }
    special = []
    if loan.prepayment is not None:
        day, paid = loan.prepayment
        special.append(
            {
                "type": "5",
                "date": day.isoformat(),
                "months_changed": 0,
                "amount_yuan": paid,
                "detail": "提前结清",
            }
        )
    return {
        "A": {
            "account_id": f"P{biz.bid:08d}{OWN_ACCOUNT_SEQ:03d}",
            "account_type": "D1",
            "institution_type": OWN_INSTITUTION_TYPE,
            "institution": OWN_INSTITUTION,
            "business_type": "41",
            "currency": "CNY",
            "repayment_method": loan.method,
            "repayment_frequency": loan.frequency,
            "guarantee_type": loan.guarantee,
            "amount_yuan": loan.amount,
            "credit_limit_yuan": None,
            "open_date": loan.start.isoformat(),
            "due_date": loan.maturity.isoformat(),
            "installments": loan.installments,
        },
        "B": latest,
        "C": month_seg,
        "E": {
            "start_month": _ym(w0),
            "end_month": _ym(biz.base + rep.col),
            "months": HISTORY_MONTHS,
            "status": status,
            "overdue": [{"month": _ym(m), "amount_yuan": a} for m, a in loan.overdue if m >= w0],
        },
        "F": special,
    }


def _own_enterprise_account(biz: _Business, loan: _OwnLoan) -> dict[str, Any]:
    """Our loan to a company as an ED01 credit account (信贷记录明细) of its enterprise refresh:
    the same terms and state as :func:`_own_account`, with the five-category class (五级分类)
    of the days past due at the report, the worst class over the loan's life (its
    ``max_dpd``) and the overdue amounts (逾期总额, 逾期本金) of the installments past due."""
    months = month_index(loan.maturity) - month_index(loan.start)
    closed = loan.closed is not None
    return {
        "account_id": f"E{biz.bid:08d}{OWN_ACCOUNT_SEQ:03d}",
        "account_type": "D1",
        "business_type": "11" if months <= 12 else "12",  # 短期借款 / 中长期借款
        "institution_type": OWN_INSTITUTION_TYPE,
        "institution": OWN_INSTITUTION,
        "currency": "CNY",
        "guarantee_type": loan.guarantee,
        "amount_yuan": loan.amount,
        "open_date": loan.start.isoformat(),
        "due_date": loan.maturity.isoformat(),
        "account_status": "2" if closed else "1",
        "balance_yuan": 0 if closed else loan.balance,
        "five_category": None if closed else _five_category_dpd(loan.dpd),
        "worst_five_category": _five_category_dpd(loan.max_dpd),
        "overdue_yuan": 0 if closed else loan.overdue_now,
        "overdue_principal_yuan": 0 if closed else loan.overdue_principal,
        "closed_date": loan.closed.isoformat() if loan.closed is not None else None,
        "report_date": (loan.closed or loan.as_of).isoformat(),
    }


# --- query records, public records, guarantees -------------------------------------------------

Query = tuple[date, str, str, str]  # date, institution type, institution, reason


def _reason(kind: str, account_type: str) -> str:
    if account_type == "R2":
        return "03"
    if kind == "leasing":
        return "24"
    return "26" if account_type == "R4" else "02"


def _queries(
    biz: _Business,
    c: dict[str, list[Any]],
    closed_at: I64,
    guaranteed: list[dict[str, Any]],
    rng: np.random.Generator,
    settled: date | None = None,
) -> list[Query]:
    """Every query of the owner's report over the horizon of both reports (查询记录)."""
    end = biz.ref_date if biz.ref_date is not None else biz.app_date
    start = biz.app_date - timedelta(days=730)
    span = (end - start).days
    out: list[Query] = []

    def day_between(lo: date, hi: date) -> date:
        return lo + timedelta(days=int(rng.integers(0, max((hi - lo).days, 1))))

    for a in range(biz.first, biz.last):
        opened: date = c["opened"][a]
        kind, atype = c["kind"][a], c["account_type"][a]
        who = (c["inst_type"][a], c["institution"][a])
        if c["subject"][a] == "E":
            if opened >= start:  # the company's lender checks its legal representative
                out.append((opened - timedelta(days=int(rng.integers(0, 15))), *who, "22"))
            continue
        if opened >= start:
            asked = opened - timedelta(days=int(rng.integers(0, 15)))
            if c["origin"][a] == "after_application":
                asked = max(asked, biz.app_date + timedelta(days=1))
            out.append((asked, *who, _reason(kind, atype)))
        # post-loan checks (贷后管理) while the account is open
        lo = max(opened + timedelta(days=20), start)
        hi = end if closed_at[a] >= NEVER else _day_in(biz.base + int(closed_at[a]), 28)
        hi = min(hi, end)
        if hi > lo and atype != "R2":
            rate = 1 / 5 if kind in ("bank", "microloan", "leasing") else 1 / 24
            for _ in range(int(rng.poisson(rate * (hi - lo).days / 30.4))):
                out.append((day_between(lo, hi), *who, "01"))

    # shopping around (多头申请): hard inquiries that led to no account
    weights = _lender_cdf(biz.discipline, biz.industry)
    rate = (
        0.05 * float(np.exp(-0.45 * biz.discipline + 0.15 * biz.z)) * float(rng.gamma(1.5, 1 / 1.5))
    )
    for _ in range(int(rng.poisson(rate * span / 30.4))):
        out.append(_hard_query(day_between(start, end), weights, rng))

    # the early-warning burst of a defaulter (预警: 近期频繁申请)
    if biz.precursor_start is not None and biz.default_month is not None:
        lo = max(month_start(biz.precursor_start), start)
        hi = min(_day_in(biz.default_month, 28), end)
        months = biz.default_month - biz.precursor_start + 1
        nb = _lender_cdf(biz.discipline - 1.0, biz.industry)
        if hi > lo:
            for _ in range(int(rng.poisson(1.3 * months))):
                out.append(_hard_query(day_between(lo, hi), nb, rng))

    # guarantee qualification (担保资格审查) when the owner guarantees a partner's loan
    if not biz.company:
        for g in guaranteed:
            asked = g["application_date"]
            if start <= asked < end:
                out.append((asked, OWN_INSTITUTION_TYPE, OWN_INSTITUTION, "08"))

    # this institution: the application itself, then post-loan checks every quarter while our
    # loan is outstanding (until ``settled``, the day it was settled, if it was)
    if biz.ref_date is not None:
        out.append((biz.app_date, OWN_INSTITUTION_TYPE, OWN_INSTITUTION, "02"))
        stop = end if settled is None else min(end, settled)
        k = 3
        while (asked := _add_months(biz.booking_date, k)) < stop:
            out.append((asked, OWN_INSTITUTION_TYPE, OWN_INSTITUTION, "01"))
            k += 3
    return [q for q in out if start <= q[0] <= end]


def _hard_query(day: date, weights: tuple[float, ...], rng: np.random.Generator) -> Query:
    if rng.random() < 0.08:
        who = GUARANTEE_COMPANIES[int(rng.integers(0, len(GUARANTEE_COMPANIES)))]
        return (day, "53", who, "20")
    lender, kind, itype, _reports = _pick_lender(weights, rng)
    if kind == "bank":
        reason = "03" if rng.random() < 0.3 else "02"
    elif kind == "platform":
        reason = "26" if rng.random() < 0.5 else "02"
    elif kind == "leasing":
        reason = "24"
    else:
        reason = "02" if rng.random() < 0.8 else "24"
    return (day, itype, lender, reason)


@dataclass(slots=True)
class _Record:
    subject: str  # "P" | "E"
    type: str  # PF01…PF04
    visible: date  # first day a report shows it
    data: dict[str, Any]


def _public_records(biz: _Business, loan_yuan: int, rng: np.random.Generator) -> list[_Record]:
    """Tax arrears, judgments, enforcement and penalties (公共信息), before and after lending."""
    out: list[_Record] = []
    court = f"{biz.city}市{DISTRICTS[biz.bid % len(DISTRICTS)]}人民法院"
    tax = f"国家税务总局{biz.city}市{DISTRICTS[(biz.bid // 7) % len(DISTRICTS)]}税务局"
    subjects = ["P", "E"] if biz.company else ["P"]

    def judgment(subject: str, filed: date, cause: str, amount: int, *, enforce: float) -> None:
        effective = filed + timedelta(days=int(rng.integers(45, 240)))
        closing = "判决" if rng.random() < 0.6 else "调解"
        out.append(
            _Record(
                subject,
                "PF02",
                effective,
                {
                    "court": court,
                    "cause": cause,
                    "filing_date": filed.isoformat(),
                    "closing_method": closing,
                    "result": "被告于判决生效后十日内偿还原告借款本金及利息"
                    if closing == "判决"
                    else "双方达成调解协议,被告分期偿还",
                    "effective_date": effective.isoformat(),
                    "subject_matter": "借款本金及利息" if "借" in cause else "货款",
                    "amount_yuan": amount,
                },
            )
        )
        if rng.random() < enforce:
            started = effective + timedelta(days=int(rng.integers(20, 120)))
            r = rng.random()
            outcome = "执行完毕" if r < 0.45 else ("终结本次执行" if r < 0.75 else "执行中")
            done = started + timedelta(days=int(rng.integers(40, 300)))
            out.append(
                _Record(
                    subject,
                    "PF03",
                    started,
                    {
                        "court": court,
                        "cause": cause,
                        "filing_date": started,
                        "outcome": outcome,
                        "amount_yuan": amount,
                        "executed_yuan": amount
                        if outcome == "执行完毕"
                        else round(amount * rng.uniform(0.0, 0.4)),
                        "closing_date": done,
                    },
                )
            )

    for subject in subjects:
        tilt = 0.0 if subject == "P" else -0.4
        # civil judgments (民事判决) in the five years before the application
        if rng.random() < _sigmoid(-4.3 - 0.9 * biz.discipline + 0.5 * biz.z + tilt):
            filed = biz.app_date - timedelta(days=int(rng.integers(90, 5 * 365)))
            cause = JUDGMENT_CAUSES[int(rng.integers(0, len(JUDGMENT_CAUSES)))]
            judgment(
                subject,
                filed,
                cause,
                int(round(biz.sales * rng.uniform(0.1, 1.0), -2)),
                enforce=0.45,
            )
        # tax arrears (欠税): the business's taxes, so the enterprise's for a company
        taxed = subject == "E" or not biz.company
        p_tax = _sigmoid(-4.8 - 0.5 * biz.discipline + 0.4 * biz.z)
        if taxed and rng.random() < p_tax:
            when = biz.app_date - timedelta(days=int(rng.integers(30, 3 * 365)))
            amount = int(round(biz.sales * rng.uniform(0.01, 0.08), -1))
            out.append(
                _Record(
                    subject,
                    "PF01",
                    when,
                    {
                        "tax_authority": tax,
                        "amount_yuan": max(amount, 100),
                        "date": when.isoformat(),
                    },
                )
            )
        # administrative penalties (行政处罚), rare
        if taxed and rng.random() < 0.012:
            when = biz.app_date - timedelta(days=int(rng.integers(30, 5 * 365)))
            out.append(
                _Record(
                    subject,
                    "PF04",
                    when,
                    {
                        "authority": f"{biz.city}市市场监督管理局",
                        "content": PENALTIES[int(rng.integers(0, len(PENALTIES)))],
                        "amount_yuan": int(round(rng.uniform(1_000, 20_000), -2)),
                        "effective_date": when.isoformat(),
                    },
                )
            )
    # after a default: the lender sues and asks for enforcement (refresh only)
    if biz.default_month is not None and rng.random() < 0.45:
        filed = _day_in(biz.default_month + int(rng.integers(2, 5)), int(rng.integers(1, 29)))
        for subject in subjects:
            judgment(subject, filed, "金融借款合同纠纷", loan_yuan, enforce=0.7)
    return out


def _resolve_record(rec: _Record, day: date) -> dict[str, Any]:
    """A record as a report of ``day`` shows it (an enforcement may still be running)."""
    if rec.type != "PF03":
        return rec.data
    d = rec.data
    done = d["closing_date"] <= day and d["outcome"] != "执行中"
    return {
        "court": d["court"],
        "cause": d["cause"],
        "filing_date": d["filing_date"].isoformat(),
        "status": d["outcome"] if done else "执行中",
        "amount_yuan": d["amount_yuan"],
        "executed_yuan": d["executed_yuan"] if done else 0,
        "closing_date": d["closing_date"].isoformat() if done else None,
    }


def _liabilities(
    biz: _Business,
    guaranteed: list[dict[str, Any]],
    rep: _Report,
    limits: tuple[int, int, int, int],
) -> list[dict[str, Any]]:
    """Guarantees given (相关还款责任): the partners' loans at this institution."""
    amount_min, amount_max, term_min, term_max = limits
    out = []
    report_month = month_index(rep.day)
    for g in guaranteed:
        booked: date = g["booking_date"]
        if booked > rep.day:
            continue
        amount = _yuan(min(max(g["requested_amount_fen"], amount_min), amount_max))
        term = min(max(int(g["requested_term"]), term_min), term_max)
        mob = report_month - g["booking_month"]
        default = g["default_month"]
        defaulted = default is not None and default <= report_month
        prepaid = g["prepay_mob"] is not None and mob >= g["prepay_mob"]
        if not defaulted and (prepaid or mob >= term):
            continue  # settled: no liability left
        if defaulted:
            since = report_month - default
            paid = max(g["default_mob"] - 1, 0)
            balance = round(amount * max(term - paid, 0) / term)
            if g["recovers"] and g["recovery_mob"] is not None and mob >= g["recovery_mob"]:
                balance = round(balance * (1.0 - g["recovery_share"]))
            five, status, overdue = _liability_class(since), str(min(since + 1, 7)), since + 1
        else:
            balance = round(amount * (term - max(mob, 0)) / term)
            five, status, overdue = "1", ("N" if mob >= 1 else "*"), 0
        company = g["legal_form"] != "个体工商户"
        out.append(
            {
                "institution_type": OWN_INSTITUTION_TYPE,
                "institution": OWN_INSTITUTION,
                "business_type": "99" if company else "41",
                "liability_type": "2",
                "currency": "CNY",
                "five_category": five,
                "account_type": "D1",
                "repayment_status": status,
                "borrower_type": "2" if company else "1",
                "borrower_name": g["business_name"],
                "liability_amount_yuan": amount,
                "balance_yuan": int(balance),
                "contract_no": f"BZ{booked:%Y%m%d}{g['business_id']:08d}{biz.bid:08d}",
                "open_date": booked.isoformat(),
                "due_date": _add_months(booked, term).isoformat(),
                "report_date": max(rep.day - timedelta(days=1), booked).isoformat(),
                "overdue_months": overdue,
            }
        )
    out.sort(key=lambda x: (x["open_date"], x["contract_no"]))
    return out


def _liability_class(months_since_default: int) -> str:
    if months_since_default < 3:
        return "2"
    if months_since_default < 6:
        return "3"
    return "4" if months_since_default < 12 else "5"


# --- assembling the documents -----------------------------------------------------------------

_EDUCATION = {"小学及以下": "80", "初中": "70", "高中/中专": "60", "大专": "30", "本科及以上": "20"}
_MARITAL = {"未婚": "10", "已婚": "20", "离异": "40", "丧偶": "30"}
_TYPE_ORDER = ("D1", "R4", "R1", "R2")


def _credit_summary(
    accounts: list[dict[str, Any]], liabilities: list[dict[str, Any]]
) -> dict[str, Any]:
    """PC02 信贷交易信息概要 from the accounts shown."""
    categories: dict[str, list[str]] = {}
    overdue: dict[str, list[int]] = {}
    loans: dict[str, list[dict[str, Any]]] = {t: [] for t in _TYPE_ORDER}
    c1_n, c1_balance = 0, 0
    for acc in accounts:
        a, b = acc["A"], acc["B"]
        t = a["account_type"]
        if t == "C1":
            c1_n += 1
            c1_balance += b["balance_yuan"]
            continue
        cat = "21" if t == "R2" else "19"
        categories.setdefault(cat, []).append(a["open_date"][:7])
        hist = acc["E"]
        if hist["overdue"]:
            levels = [int(x) for x in hist["status"] if x in _DIGITS]
            o = overdue.setdefault(t, [0, 0, 0, 0])
            o[0] += 1
            o[1] += len(levels)
            o[2] = max(o[2], max(m["amount_yuan"] for m in hist["overdue"]))
            o[3] = max(o[3], max(levels))
        if b["closed_date"] is None:
            loans[t].append(acc)

    def loan_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "institutions": len({r["A"]["institution"] for r in rows}),
            "accounts": len(rows),
            "credit_total_yuan": sum(
                r["A"]["amount_yuan"] or r["A"]["credit_limit_yuan"] or 0 for r in rows
            ),
            "balance_yuan": sum(r["B"]["balance_yuan"] for r in rows),
            "avg_due_6m_yuan": sum(r["C"]["due_yuan"] for r in rows),
        }

    cards = loans["R2"]
    limits = [r["A"]["credit_limit_yuan"] for r in cards]
    return {
        "accounts_total": len(accounts),
        "by_category": [
            {"category": k, "accounts": len(v), "first_month": min(v)}
            for k, v in sorted(categories.items())
        ],
        "collections": {"accounts": c1_n, "balance_yuan": c1_balance},
        "overdue": [
            {
                "account_type": t,
                "accounts": overdue[t][0],
                "months": overdue[t][1],
                "max_amount_yuan": overdue[t][2],
                "longest_months": overdue[t][3],
            }
            for t in _TYPE_ORDER
            if t in overdue
        ],
        "D1": loan_summary(loans["D1"]),
        "R4": loan_summary(loans["R4"]),
        "R1": loan_summary(loans["R1"]),
        "R2": {
            "institutions": len({r["A"]["institution"] for r in cards}),
            "accounts": len(cards),
            "credit_total_yuan": sum(limits),
            "max_limit_yuan": max(limits, default=0),
            "min_limit_yuan": min(limits, default=0),
            "used_yuan": sum(r["B"]["balance_yuan"] for r in cards),
        },
        "guarantees": {
            "accounts": len(liabilities),
            "liability_yuan": sum(x["liability_amount_yuan"] for x in liabilities),
            "balance_yuan": sum(x["balance_yuan"] for x in liabilities),
        },
    }


def _public_segment(records: list[_Record], subject: str, day: date, prefix: str) -> dict[str, Any]:
    out: dict[str, list[dict[str, Any]]] = {f"{prefix}{k:02d}": [] for k in (1, 2, 3, 4)}
    for r in records:
        if r.subject == subject and r.visible < day:
            out[prefix + r.type[2:]].append(_resolve_record(r, day))
    return out


def _query_summary(queries: list[Query], day: date) -> dict[str, Any]:
    month_ago = day - timedelta(days=30)
    recent = [q for q in queries if q[0] >= month_ago]
    last = queries[0] if queries else None
    return {
        "last_query": None
        if last is None
        else {
            "date": last[0].isoformat(),
            "institution_type": last[1],
            "institution": last[2],
            "reason": last[3],
        },
        "institutions_1m_loan": len({q[2] for q in recent if q[3] == "02"}),
        "institutions_1m_card": len({q[2] for q in recent if q[3] == "03"}),
        "queries_1m_loan": sum(q[3] == "02" for q in recent),
        "queries_1m_card": sum(q[3] == "03" for q in recent),
        "queries_1m_self": 0,
        "queries_24m_post_loan": sum(q[3] == "01" for q in queries),
        "queries_24m_guarantee": sum(q[3] == "08" for q in queries),
        "queries_24m_merchant": sum(q[3] == "19" for q in queries),
    }


def _personal_document(
    biz: _Business,
    rep: _Report,
    c: dict[str, list[Any]],
    codes: npt.NDArray[np.uint8],
    levels: npt.NDArray[np.int8],
    closed_at: I64,
    collections: list[dict[str, Any]],
    queries: list[Query],
    records: list[_Record],
    liabilities: list[dict[str, Any]],
    own: _OwnLoan | None = None,
) -> tuple[dict[str, Any], list[int]]:
    rows = _window_accounts(biz, c, closed_at, rep, "P")
    accounts = [_personal_account(biz, c, a, codes, levels, closed_at, rep) for a in rows]
    for k, col in enumerate(collections):
        if col["opened"] <= rep.day:
            accounts.append(_collection_account(col, f"P{biz.bid:08d}{900 + k:03d}", rep))
    if own is not None:
        accounts.append(_own_account(biz, own, rep))
    accounts.sort(key=lambda x: (x["A"]["open_date"], x["A"]["account_id"]))
    start = rep.day - timedelta(days=730)
    shown = sorted(
        (q for q in queries if start <= q[0] < rep.day),
        key=lambda q: (q[0], q[2], q[3]),
        reverse=True,
    )
    public = _public_segment(records, "P", rep.day, "PF")
    doc = {
        "layout": PERSONAL_LAYOUT,
        "report_id": rep.report_id,
        "business_id": biz.bid,
        "kind": rep.kind,
        "PRH": {
            "report_id": rep.report_id,
            "report_time": rep.time.isoformat(),
            "name": biz.name,
            "id_type": "10",
            "id_number": biz.id_number,
            "query_institution": OWN_INSTITUTION,
            "query_reason": "02" if rep.kind == "application" else "01",
        },
        "PB01": {
            "gender": "1" if biz.gender == "男" else "2",
            "birth_year": biz.app_date.year - biz.age,
            "education": _EDUCATION[biz.education],
            "nationality": "CHN",
        },
        "PB02": {"marital_status": _MARITAL[biz.marital], "spouse_name": biz.spouse},
        "PB04": [{"employer": biz.business_name, "since_year": biz.founded.year}],
        "PC02": _credit_summary(accounts, liabilities),
        "PC04": _public_summary(public, "PF"),
        "PC05": _query_summary(shown, rep.day),
        "PD01": accounts,
        "PD03": liabilities,
        "PF": public,
        "PH01": [
            {
                "date": q[0].isoformat(),
                "institution_type": q[1],
                "institution": q[2],
                "reason": q[3],
            }
            for q in shown
        ],
    }
    return doc, rows


def _public_summary(public: dict[str, list[dict[str, Any]]], prefix: str) -> list[dict[str, Any]]:
    out = []
    for k in (1, 2, 3, 4):
        recs = public[f"{prefix}{k:02d}"]
        if recs:
            out.append(
                {
                    "type": str(k),
                    "records": len(recs),
                    "amount_yuan": sum(r["amount_yuan"] for r in recs),
                }
            )
    return out


def _enterprise_document(
    biz: _Business,
    rep: _Report,
    c: dict[str, list[Any]],
    levels: npt.NDArray[np.int8],
    closed_at: I64,
    records: list[_Record],
    liabilities: list[dict[str, Any]],
    own: _OwnLoan | None = None,
) -> tuple[dict[str, Any], list[int]]:
    rows = _window_accounts(biz, c, closed_at, rep, "E")
    r = rep.col
    w0 = r - (HISTORY_MONTHS - 1)
    accounts = []
    for a in rows:
        opened: date = c["opened"][a]
        term, atype, amount = c["term"][a], c["account_type"][a], c["amount"][a]
        closed = closed_at[a] <= r
        worst = int(levels[a, w0 : r + 1].max())
        lvl = 0 if closed else int(levels[a, r])
        close_d = _closed_date(c, a, int(closed_at[a]), biz, rep) if closed else None
        accounts.append(
            {
                "account_id": c["account_id"][a],
                "account_type": atype,
                "business_type": "13" if atype == "R1" else ("11" if term <= 12 else "12"),
                "institution_type": c["inst_type"][a],
                "institution": c["institution"][a],
                "currency": "CNY",
                "guarantee_type": c["guarantee"][a],
                "amount_yuan": amount,
                "open_date": opened.isoformat(),
                "due_date": _add_months(opened, term).isoformat(),
                "account_status": "2" if closed else "1",
                "balance_yuan": 0 if closed else _balance(c, a, levels, r),
                "five_category": None if closed else _five_category(lvl),
                "worst_five_category": _five_category(worst),
                "overdue_yuan": lvl * c["inst"][a],
                "overdue_principal_yuan": lvl * round(amount / max(term, 1)),
                "closed_date": close_d.isoformat() if close_d else None,
                "report_date": (close_d or max(rep.day - timedelta(days=1), opened)).isoformat(),
            }
        )
    if own is not None:
        accounts.append(_own_enterprise_account(biz, own))
        accounts.sort(key=lambda x: (x["open_date"], x["account_id"]))
    open_accounts = [x for x in accounts if x["account_status"] == "1"]
    settled = [x for x in accounts if x["account_status"] == "2"]
    by_class = {"normal": 0, "concern": 0, "bad": 0}
    for x in open_accounts:
        cls = (
            "normal"
            if x["five_category"] == "1"
            else ("concern" if x["five_category"] == "2" else "bad")
        )
        by_class[cls] += x["balance_yuan"]
    public = _public_segment(records, "E", rep.day, "EF")
    first_years = [int(x["open_date"][:4]) for x in accounts]
    doc = {
        "layout": ENTERPRISE_LAYOUT,
        "report_id": rep.report_id,
        "business_id": biz.bid,
        "kind": rep.kind,
        "ERH": {
            "report_id": rep.report_id,
            "report_time": rep.time.isoformat(),
            "name": biz.business_name,
            "uscc": biz.uscc,
            "query_institution": OWN_INSTITUTION,
            "query_reason": "02" if rep.kind == "application" else "01",  # 贷后管理
        },
        "EB01": {
            "name": biz.business_name,
            "uscc": biz.uscc,
            "legal_form": biz.legal_form,
            "founded": biz.founded.isoformat(),
            "industry": biz.industry_zh,
            "city": biz.city,
            "legal_representative": biz.name,
            "actual_controller": biz.name,
            "partners": biz.partners,
        },
        "EC01": {
            "first_credit_year": min(first_years) if first_years else None,
            "institutions": len({x["institution"] for x in open_accounts}),
            "accounts_open": len(open_accounts),
            "balance_yuan": sum(x["balance_yuan"] for x in open_accounts),
            "normal_yuan": by_class["normal"],
            "concern_yuan": by_class["concern"],
            "bad_yuan": by_class["bad"],
            "overdue_yuan": sum(x["overdue_yuan"] for x in open_accounts),
            "settled_accounts": len(settled),
            "settled_concern": sum(x["worst_five_category"] == "2" for x in settled),
            "settled_bad": sum(x["worst_five_category"] in ("3", "4", "5") for x in settled),
            "guarantees": {
                "accounts": len(liabilities),
                "balance_yuan": sum(x["balance_yuan"] for x in liabilities),
                "concern_yuan": sum(
                    x["balance_yuan"] for x in liabilities if x["five_category"] == "2"
                ),
                "bad_yuan": sum(
                    x["balance_yuan"] for x in liabilities if x["five_category"] in ("3", "4", "5")
                ),
            },
            "public_records": sum(len(v) for v in public.values()),
        },
        "ED01": accounts,
        "ED03": liabilities,
        "EF": public,
    }
    return doc, rows


# --- the renderer -----------------------------------------------------------------------------


def _businesses(chunk: Chunk) -> list[_Business]:
    cfg = chunk.config
    follow = cfg.follow_months
    target = float(np.log(cfg.target_default_rate / (1 - cfg.target_default_rate)))
    industries = {i.code.value: i.name_zh for i in cfg.industries}
    b = (
        chunk.businesses.join(
            chunk.owners.select(
                "business_id", "name", "gender", "age", "education", "marital_status", "id_number"
            ),
            on="business_id",
        )
        .join(
            chunk.truth.select("business_id", "credit_discipline", "pd_12m", "sales_level"),
            on="business_id",
        )
        .join(chunk.timeline, on="business_id")
        .sort("business_id")
    )
    spouses: dict[int, str] = {}
    partners: dict[int, list[str]] = {}
    for row in chunk.parties.sort("party_id").iter_rows(named=True):
        if row["role"] == "spouse":
            spouses.setdefault(row["business_id"], row["name"])
        elif row["role"] == "partner":
            partners.setdefault(row["business_id"], []).append(row["name"])
    out = []
    for row in b.iter_rows(named=True):
        bid = int(row["business_id"])
        app: date = row["application_date"]
        app_m = month_index(app)
        qr = chunk.rng(bid, Stream.CREDIT_QUERIES)
        report_time = datetime(app.year, app.month, app.day, 9) + timedelta(
            seconds=int(qr.integers(0, 8 * 3600))
        )
        ref_date = ref_time = None
        if follow > 0:
            ref_date = _day_in(app_m + follow, int(qr.integers(2, 7)))
            ref_time = datetime(ref_date.year, ref_date.month, ref_date.day, 9) + timedelta(
                seconds=int(qr.integers(0, 8 * 3600))
            )
        pd12 = float(row["pd_12m"])
        married = row["marital_status"] == "已婚"
        recovers = bool(row["recovers"]) and row["recovery_mob"] is not None
        out.append(
            _Business(
                bid=bid,
                name=row["name"],
                business_name=row["business_name"],
                uscc=row["uscc"],
                legal_form=row["legal_form"],
                industry=row["industry"],
                industry_zh=industries.get(row["industry"], row["industry"]),
                city=row["city"],
                founded=row["founded"],
                app_date=app,
                app_m=app_m,
                base=app_m - (HISTORY_MONTHS - 1),
                ref_date=ref_date,
                company=row["legal_form"] != "个体工商户",
                discipline=float(row["credit_discipline"]),
                z=float(np.log(pd12 / (1 - pd12))) - target,
                sales=float(row["sales_level"]),
                years=float(row["years_in_business"]),
                age=int(row["age"]),
                gender=row["gender"],
                education=row["education"],
                marital=row["marital_status"],
                spouse=spouses.get(bid, "配偶") if married else None,
                partners=partners.get(bid, []),
                id_number=row["id_number"],
                precursor_start=row["precursor_start"],
                default_month=row["default_month"],
                recovery_month=row["booking_month"] + row["recovery_mob"] if recovers else None,
                booking_date=row["booking_date"],
                booking_month=int(row["booking_month"]),
                requested_fen=int(row["requested_amount_fen"]),
                requested_term=int(row["requested_term"]),
                report_time=report_time,
                ref_time=ref_time,
                queries_rng=qr,
            )
        )
    return out


def render(chunk: Chunk) -> Rendered:
    """Personal and enterprise credit reports of the chunk's businesses, and their refreshes.

    The cyclic garbage collector is paused while the documents are built: they are many small
    dicts without cycles, which it would otherwise scan again and again (a third of the time).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _render(chunk)
    finally:
        if enabled:
            gc.enable()


def _render(chunk: Chunk) -> Rendered:
    cfg = chunk.config
    follow = cfg.follow_months
    h = HISTORY_MONTHS + follow
    businesses = _businesses(chunk)
    own_loans = _own_loans(chunk, businesses) if follow > 0 else {}
    debts_by: dict[int, list[dict[str, Any]]] = {}
    for d in chunk.debts.sort("debt_id").iter_rows(named=True):
        debts_by.setdefault(int(d["business_id"]), []).append(d)
    guaranteed_by: dict[int, list[dict[str, Any]]] = {}
    if chunk.edges.height and chunk.guaranteed.height:
        linked = chunk.edges.join(
            chunk.guaranteed, left_on="borrower_id", right_on="business_id"
        ).sort("guarantor_id", "borrower_id")
        for g in linked.with_columns(pl.col("borrower_id").alias("business_id")).iter_rows(
            named=True
        ):
            guaranteed_by.setdefault(int(g["guarantor_id"]), []).append(g)

    acc = _Accounts()
    collections: dict[int, list[dict[str, Any]]] = {}
    for biz in businesses:
        biz.first = len(acc)
        collections[biz.bid] = []
        _draw_business(acc, collections[biz.bid], biz, debts_by.get(biz.bid, []), chunk, h)
        biz.last = len(acc)
    c = acc.cols
    if len(acc):
        arrays = {
            k: np.asarray(c[k], dtype=np.float64 if isinstance(c[k][0], float) else np.int64)
            for k in (
                "open_col",
                "mature_col",
                "forced_close_col",
                "forced_onset_col",
                "early_col",
                "min_close_col",
                "distress_col",
                "recovery_col",
                "p_on",
                "cure_mult",
                "roll_mult",
                "idle_p",
                "unknown_p",
            )
        }
        arrays["term_code"] = np.asarray(c["term_code"])
        codes, levels, closed_at = _run_chain(arrays, np.vstack(acc.u), np.vstack(acc.v))
    else:
        codes = np.zeros((0, h), dtype=np.uint8)
        levels = np.zeros((0, h), dtype=np.int8)
        closed_at = np.zeros(0, dtype=np.int64)

    limits = _product_limits(cfg.product_code)
    personal: list[dict[str, Any]] = []
    refresh: list[dict[str, Any]] = []
    enterprise: list[dict[str, Any]] = []
    enterprise_refresh: list[dict[str, Any]] = []
    index: list[tuple[str, int, str, str, date]] = []
    truth: list[tuple[str, int, str, str, str, str, int | None, bool | None, bool]] = []

    def note(
        doc: dict[str, Any], rep: _Report, rows: list[int], extra: list[int], *, own: str | None
    ) -> None:
        index.append((rep.report_id, doc["business_id"], rep.subject, rep.kind, rep.day))
        for a in rows:
            declared = c["declared"][a]
            truth.append(
                (
                    rep.report_id,
                    doc["business_id"],
                    rep.subject,
                    rep.kind,
                    c["account_id"][a],
                    c["origin"][a],
                    c["debt_id"][a],
                    declared,
                    declared is False,
                )
            )
        for k in extra:
            truth.append(
                (
                    rep.report_id,
                    doc["business_id"],
                    rep.subject,
                    rep.kind,
                    f"P{doc['business_id']:08d}{900 + k:03d}",
                    "collection",
                    None,
                    None,
                    False,
                )
            )
        if own is not None:
            truth.append(
                (
                    rep.report_id,
                    doc["business_id"],
                    rep.subject,
                    rep.kind,
                    own,
                    "own_loan",
                    None,
                    None,
                    False,
                )
            )

    for biz in businesses:
        guaranteed = guaranteed_by.get(biz.bid, [])
        own_loan = own_loans.get(biz.bid)
        settled = None if own_loan is None else own_loan.closed
        queries = _queries(biz, c, closed_at, guaranteed, biz.queries_rng, settled)
        loan = _yuan(min(max(biz.requested_fen, limits[0]), limits[1]))
        records = _public_records(biz, loan, chunk.rng(biz.bid, Stream.CREDIT_PUBLIC))
        reps = [
            _Report(
                "personal",
                "application",
                f"P{biz.app_date:%Y%m%d}{biz.bid:010d}A",
                biz.report_time,
                HISTORY_MONTHS - 1,
            )
        ]
        if biz.ref_time is not None and biz.ref_date is not None:
            reps.append(
                _Report(
                    "personal",
                    "refresh",
                    f"P{biz.ref_date:%Y%m%d}{biz.bid:010d}R",
                    biz.ref_time,
                    h - 1,
                )
            )
        for rep in reps:
            liab = [] if biz.company else _liabilities(biz, guaranteed, rep, limits)
            # our loan is the owner's for a 个体工商户, the firm's (no refresh report) otherwise
            own = own_loan if rep.kind == "refresh" and not biz.company else None
            doc, rows = _personal_document(
                biz,
                rep,
                c,
                codes,
                levels,
                closed_at,
                collections[biz.bid],
                queries,
                records,
                liab,
                own,
            )
            shown_c1 = [k for k, col in enumerate(collections[biz.bid]) if col["opened"] <= rep.day]
            own_id = None if own is None else f"P{biz.bid:08d}{OWN_ACCOUNT_SEQ:03d}"
            note(doc, rep, rows, shown_c1, own=own_id)
            (personal if rep.kind == "application" else refresh).append(doc)
        if biz.company:
            reps = [
                _Report(
                    "enterprise",
                    "application",
                    f"E{biz.app_date:%Y%m%d}{biz.bid:010d}A",
                    biz.report_time,
                    HISTORY_MONTHS - 1,
                )
            ]
            if biz.ref_time is not None and biz.ref_date is not None:
                reps.append(
                    _Report(
                        "enterprise",
                        "refresh",
                        f"E{biz.ref_date:%Y%m%d}{biz.bid:010d}R",
                        biz.ref_time,
                        h - 1,
                    )
                )
            for rep in reps:
                liab = _liabilities(biz, guaranteed, rep, limits)
                # the company is the borrower of our loan: its enterprise refresh shows it
                own = own_loan if rep.kind == "refresh" else None
                doc, rows = _enterprise_document(biz, rep, c, levels, closed_at, records, liab, own)
                own_id = None if own is None else f"E{biz.bid:08d}{OWN_ACCOUNT_SEQ:03d}"
                note(doc, rep, rows, [], own=own_id)
                (enterprise if rep.kind == "application" else enterprise_refresh).append(doc)

    documents = {"credit_reports/personal": personal, "credit_reports/enterprise": enterprise}
    if follow > 0:
        documents["credit_reports/personal_refresh"] = refresh
        documents["credit_reports/enterprise_refresh"] = enterprise_refresh
    index_frame = pl.DataFrame(
        index,
        schema={
            "report_id": pl.Utf8,
            "business_id": pl.Int64,
            "subject": pl.Utf8,
            "kind": pl.Utf8,
            "report_date": pl.Date,
        },
        orient="row",
    )
    truth_frame = pl.DataFrame(
        truth,
        schema={
            "report_id": pl.Utf8,
            "business_id": pl.Int64,
            "subject": pl.Utf8,
            "kind": pl.Utf8,
            "account_id": pl.Utf8,
            "origin": pl.Utf8,
            "debt_id": pl.Int64,
            "declared": pl.Boolean,
            "hidden_reported": pl.Boolean,
        },
        orient="row",
    )
    return Rendered(
        tables={"credit_reports/index": index_frame},
        truth={"credit_report_truth": truth_frame},
        documents=documents,
    )
