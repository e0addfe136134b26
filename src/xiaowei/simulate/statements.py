"""Bank statements (银行流水): accounts and dated, timed transactions rendered from the flows.

What is generated, per business, for every month of its window (the ``months`` of history
before the application and the ``follow_months`` of monitoring after it):

* **Accounts** (``statements/accounts``): two to four per business. The main business account
  (对公基本户 of a company; for a 个体工商户 either a 个体户对公 account or, as often, the
  owner's own card), the owner's personal card used for business (个人账户收款 is common for
  个体工商户: e-wallet withdrawals land there, household spending leaves from it), and
  sometimes a second and a third bank. Account numbers carry the region's ``bank_code``;
  cards carry a bank BIN and a Luhn check digit.
* **Transactions** (``statements/transactions``): direction, amount in fen, running balance,
  counterparty name and account, Chinese memo (摘要) and channel (交易渠道). The truth
  (``truth/transaction_labels``) gives each transaction its category.

From which latent variables (``chunk.monthly``, ``chunk.debts``, the business row):

* every category's monthly total equals the monthly flow it renders, to the fen: sales by bank
  transfer (货款), POS card acquiring settled daily T+1 (POS收单), platform payouts weekly
  (抖音/淘宝/京东… 结算: a business with online stores is paid by its stores' platforms,
  each store's payouts to the fen of ``ecommerce/store_monthly``, a second store on another
  weekday; see :func:`xiaowei.simulate.channels.store_plan`), e-wallet QR-code takings
  withdrawn every few days (财付通提现/支付宝提现), purchases, payroll (代发工资 in one batch
  for a company, one transfer per employee for a 个体工商户), rent, utilities, taxes, social
  insurance, household spending; cash sales are partly deposited (``cash_deposit`` = a share
  of ``sales_cash``, in 100-yuan notes at the ATM), and household spending is partly
  withdrawn in cash (``household`` + ``cash_withdrawal`` = the household flow);
* debt service to every lender in ``chunk.debts`` (also the hidden ones and those that do not
  report to the bureau) as a fixed monthly debit on a fixed day, with the lender's name as
  counterparty and a lender keyword in the memo (借呗还款, 微粒贷还款…); private lenders
  (民间借贷) are transfers to a person. A debt opened inside the window is also credited
  (贷款发放) on its opening day, and repaid from the next month to the end of its term;
* dishonesty: a round-tripper (``monthly.round_trip``, 过账/刷流水) receives money from a
  related party and sends the same or nearly the same amount (±1 %, often a round number,
  整进整出) out again within 0–48 hours (快进快出); a sales inflater (``consulting_in``)
  receives large 咨询费/服务费 credits from related companies; gambling-like spending
  (``gambling_out``) goes to game top-up and 娱乐 merchants late at night;
* own-account transfers (本人账户转账/资金归集) between the business's accounts, both legs on
  the same second, keep the secondary accounts funded; quarterly interest (结息, on the 21st of
  March, June, September and December) is the time-weighted balance × 0.35 % / 360 per day.

Balances reconcile by construction: each account's transactions are sorted by time and the
running balance is the opening balance plus the cumulative sum. The opening balances (期初余额)
keep every account at or above a floor (a share of a month's sales on the main account, 500 to
20,500 yuan on the others), so no balance is ever negative, and bring the business's deposits
at the end of the equity check-point day to the target of :mod:`xiaowei.simulate.deposits`,
raised to the least feasible level when the flows do not allow it (measured on 10,000
businesses: 96 % are raised, so the floors and the flows set most levels).
:func:`deposit_balances` gives the deposits (银行存款) the statements show on the check-point
and application dates; the IPC balance sheets (:mod:`xiaowei.simulate.financials`) declare
exactly these, so the officer's comparison agrees to the fen for every business but the asset
inflaters who overstate them.

Randomness: everything drawn for a business comes from its own stream
(``chunk.rng(business_id, Stream.STATEMENTS)``), in a fixed order, so a business renders the
same bytes whatever the chunk; the draws are then transformed vectorised over the chunk. Its
stores' platforms and payout shares are the store table's: :func:`channels.store_plan` draws
them again, identically, from the business's ``Stream.ECOMMERCE`` stream. The counterparty
vocabularies (people, firms, utilities, lenders…) are drawn once per run from the population
stream of the same purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy.special import ndtri

from xiaowei.simulate import channels, deposits, vocab
from xiaowei.simulate.output import Rendered
from xiaowei.simulate.random import Stream, population_rng
from xiaowei.simulate.world import Chunk

Arr = NDArray[Any]


class Cat(IntEnum):
    """Transaction categories (交易类别) of the truth labels; values index internal tables."""

    SALES_TRANSFER = 0  # 销售回款(转账)
    SALES_POS = 1  # POS收单结算
    SALES_PLATFORM = 2  # 平台结算
    SALES_WALLET = 3  # 微信/支付宝提现
    CASH_DEPOSIT = 4  # 现金存入
    PURCHASE = 5  # 采购付款
    PAYROLL = 6  # 工资
    RENT = 7  # 房租
    UTILITIES = 8  # 水电燃气通讯
    TAX = 9  # 税款
    SOCIAL_INSURANCE = 10  # 社保
    HOUSEHOLD = 11  # 家庭消费
    OWN_TRANSFER = 12  # 本人账户互转
    CASH_WITHDRAWAL = 13  # 取现
    LENDER_REPAYMENT = 14  # 还款(他行/平台/民间)
    LOAN_DISBURSEMENT = 15  # 贷款发放
    INTEREST = 16  # 结息
    ROUND_TRIP = 17  # 过账(快进快出)
    CONSULTING_FEE = 18  # 咨询费(虚增收入)
    GAMBLING = 19  # 疑似赌博


CATEGORIES: tuple[str, ...] = tuple(c.name.lower() for c in Cat)
N_CAT = len(Cat)
FRAUD_CATEGORIES: tuple[str, ...] = ("round_trip", "consulting_fee")

# Which monthly flow each category renders (the tests check the totals to the fen).
# cash_deposit is a per-business share of sales_cash, in whole hundreds of yuan;
# household + cash_withdrawal together make the household flow; round_trip counts inflows.
FLOW_OF_CATEGORY: dict[str, str] = {
    "sales_transfer": "sales_transfer",
    "sales_pos": "sales_pos",
    "sales_platform": "sales_platform",
    "sales_wallet": "sales_wallet",
    "purchase": "purchases",
    "payroll": "payroll",
    "rent": "rent",
    "utilities": "utilities",
    "tax": "taxes",
    "social_insurance": "social_insurance",
    "lender_repayment": "debt_service",
    "round_trip": "round_trip",
    "consulting_fee": "consulting_in",
    "gambling": "gambling_out",
}

INTEREST_RATE = 0.0035  # 活期存款利率, per year, actual/360
ACCOUNT_SLOTS = 4  # account roles: 0 main, 1 owner's card, 2 second bank, 3 third bank
TXN_ID_BLOCK = 1_000_000  # txn_id = business_id × block + rank within the business
K_UNIFORMS = 10  # uniforms drawn per transaction slot

# --- vocabularies -----------------------------------------------------------------------------

CHANNELS: tuple[str, ...] = (
    "网银",
    "手机银行",
    "柜面",
    "ATM",
    "POS",
    "批量代发",
    "批量代扣",
    "第三方支付",
    "系统",
)
_CH = {name: i for i, name in enumerate(CHANNELS)}

# Banks where the accounts are held: name, BIN of its debit cards, length of company accounts,
# relative frequency (浙江 banks only in 浙江).
BANKS: tuple[tuple[str, str, int, float], ...] = (
    ("中国工商银行", "621226", 19, 3.0),
    ("中国建设银行", "621700", 20, 3.0),
    ("中国农业银行", "622848", 17, 2.5),
    ("中国银行", "621661", 12, 1.5),
    ("招商银行", "621483", 15, 1.5),
    ("中国邮政储蓄银行", "621799", 18, 1.0),
    ("农村商业银行", "621458", 18, 2.0),
    ("浙江泰隆商业银行", "623181", 16, 0.0),
    ("台州银行", "623160", 16, 0.0),
)
_ZJ_BANK_WEIGHT = {"浙江泰隆商业银行": 1.5, "台州银行": 1.5}

ACQUIRERS: tuple[tuple[str, str], ...] = (  # memo, counterparty
    ("POS收单结算", "银联商务股份有限公司"),
    ("收单清算款", "拉卡拉支付股份有限公司"),
    ("POS收单", "通联支付网络服务股份有限公司"),
    ("商户结算款", "银联商务股份有限公司"),
)
WALLETS: tuple[tuple[str, str], ...] = (
    ("财付通提现", "财付通支付科技有限公司"),
    ("支付宝提现", "支付宝(中国)网络技术有限公司"),
)
PLATFORMS: tuple[tuple[str, str], ...] = (
    ("美团结算", "北京三快在线科技有限公司"),
    ("饿了么结算", "上海拉扎斯信息科技有限公司"),
    ("抖音结算", "抖音支付科技有限公司"),
    ("淘宝提现", "支付宝(中国)网络技术有限公司"),
    ("京东结算", "北京京东世纪贸易有限公司"),
    ("拼多多提现", "上海寻梦信息技术有限公司"),
    ("天猫提现", "支付宝(中国)网络技术有限公司"),  # a Tmall store is paid through Alipay too
)
# The payers of the platform payouts, once each (the counterparty pool holds each once).
_PLATFORM_PAYERS: tuple[str, ...] = tuple(dict.fromkeys(cp for _, cp in PLATFORMS))
_PLATFORM_PAYER = np.array([_PLATFORM_PAYERS.index(cp) for _, cp in PLATFORMS], dtype=np.int64)
# The payouts of an online store (ecommerce/store_monthly) come from its platform: the
# entry of PLATFORMS by the store's platform code (channels.PLATFORMS).
STORE_PLATFORM: dict[str, int] = {"TB": 3, "TM": 6, "JD": 4, "PDD": 5, "DY": 2}
# A business with platform sales but no store: by industry (takeaway on 美团/饿了么…). The
# flows give platform sales only to businesses with stores today, so this is a fallback.
_PLATFORM_CHOICES: dict[str, tuple[int, ...]] = {
    "catering": (0, 0, 1, 2),
    "ecommerce": (3, 3, 4, 5, 2),
    "service": (0, 2),
}
_PLATFORM_DEFAULT = (3, 0, 2, 4)
HOUSEHOLD_MERCHANTS: tuple[str, ...] = (
    "财付通-美团",
    "支付宝-淘宝",
    "京东支付-京东商城",
    "财付通-拼多多",
    "支付宝-滴滴出行",
    "中国石化销售股份有限公司",
    "永辉超市股份有限公司",
    "华润万家有限公司",
    "支付宝-饿了么",
    "财付通-京东到家",
    "中国联合网络通信有限公司",
    "苏宁易购集团股份有限公司",
)
CARD_CENTRES: tuple[str, ...] = (
    "招商银行信用卡中心",
    "中国工商银行牡丹卡中心",
    "交通银行太平洋信用卡中心",
    "广发银行信用卡中心",
)
GAMBLING_MERCHANTS: tuple[str, ...] = (
    "鸿运游戏充值",
    "金沙娱乐",
    "皇冠娱乐",
    "星辰棋牌游戏充值",
    "乐玩娱乐",
    "大发游戏充值",
    "博雅娱乐",
    "天天棋牌",
    "聚宝娱乐",
    "九州游戏充值",
)
_EXTRA_SHOP_WORDS = (
    "宏达",
    "金鑫",
    "永盛",
    "华联",
    "鼎盛",
    "昌隆",
    "利民",
    "创新",
    "远航",
    "正泰",
    "东方",
    "新华",
    "兴业",
    "通达",
    "鸿福",
    "中信",
    "振兴",
    "金源",
    "荣华",
    "同心",
)
_PRODUCT_WORDS = (
    "五金",
    "建材",
    "食品",
    "包装材料",
    "物流",
    "电子",
    "纺织",
    "化工",
    "农产品",
    "机电设备",
    "塑胶",
    "装饰工程",
    "日用品",
    "汽车配件",
    "服饰",
    "粮油",
    "水产",
    "家具",
    "印刷",
    "劳务",
)
_FIRM_SUFFIXES = ("有限公司", "贸易有限公司", "实业有限公司", "商行", "经营部")
_RELATED_WORDS = ("商务咨询", "信息咨询", "投资管理", "供应链管理", "科技", "企业管理咨询")


def lender_counterparty(lender: str, kind: str, city: str) -> tuple[str, str, str, str]:
    """How a lender shows in a statement: counterparty name, repayment memo, disbursement
    memo, channel. The counterparty or the memo always contains the lender's name before any
    parenthesis (``重庆蚂蚁消费金融``, ``京东金条``…) so keyword rules can find it."""
    if kind == "private":
        return "", "还款", "借款", "手机银行"
    base = lender.split("(")[0]
    product = lender.split("(")[1].rstrip(")") if "(" in lender else ""
    if lender in ("农村商业银行", "村镇银行"):
        return f"{city}{lender}股份有限公司", "贷款还款", "贷款发放", "系统"
    if kind == "bank":
        return f"{base}股份有限公司{city}分行", "归还贷款本息", "贷款发放", "系统"
    if product:
        suffix = "股份有限公司" if base.endswith("银行") else "有限公司"
        return f"{base}{suffix}", f"{product}还款", f"{product}放款", "第三方支付"
    if lender == "京东金条":
        return "京东科技信息技术有限公司", "京东金条还款", "京东金条放款", "第三方支付"
    if kind == "leasing":
        return f"{base}有限公司", "融资租赁租金", "融资租赁放款", "网银"
    if kind == "microloan":
        return base, "贷款还款", "贷款发放", "网银"
    full = base if base.endswith("公司") else f"{base}股份有限公司"
    return full, "分期还款", "贷款发放", "第三方支付"


# Variants of each category (摘要, 渠道, counterparty kind, argument, weight).
class CP(IntEnum):
    """Counterparty kinds: how a transaction's counterparty is chosen."""

    NONE = 0
    CUSTOMER = 1
    SUPPLIER = 2
    EMPLOYEE = 3
    LANDLORD = 4
    REGIONAL = 5  # arg: 0 power, 1 water, 2 gas, 3 telecom, 4 tax, 5 social insurance
    OWN = 6
    LENDER = 7
    RELATED = 8
    GAMBLING = 9
    MERCHANT = 10
    SPOUSE = 11
    ACQUIRER = 12
    PLATFORM = 13
    WALLET = 14
    CARD_CENTRE = 15
    PERSON = 16


_VARIANTS: tuple[tuple[Cat, float, str, str, CP, int], ...] = (
    (Cat.SALES_TRANSFER, 4, "货款", "网银", CP.CUSTOMER, 0),
    (Cat.SALES_TRANSFER, 2, "转账", "手机银行", CP.CUSTOMER, 0),
    (Cat.SALES_TRANSFER, 1, "往来款", "网银", CP.CUSTOMER, 0),
    (Cat.SALES_TRANSFER, 1, "跨行转账", "网银", CP.CUSTOMER, 0),
    (Cat.SALES_TRANSFER, 1, "支付货款", "网银", CP.CUSTOMER, 0),
    *((Cat.SALES_POS, 1, memo, "POS", CP.ACQUIRER, i) for i, (memo, _) in enumerate(ACQUIRERS)),
    *(
        (Cat.SALES_PLATFORM, 1, memo, "第三方支付", CP.PLATFORM, i)
        for i, (memo, _) in enumerate(PLATFORMS)
    ),
    *(
        (Cat.SALES_WALLET, 1, memo, "第三方支付", CP.WALLET, i)
        for i, (memo, _) in enumerate(WALLETS)
    ),
    (Cat.CASH_DEPOSIT, 3, "ATM存款", "ATM", CP.NONE, 0),
    (Cat.CASH_DEPOSIT, 2, "现金存入", "柜面", CP.NONE, 0),
    (Cat.CASH_DEPOSIT, 1, "存现", "ATM", CP.NONE, 0),
    (Cat.PURCHASE, 4, "货款", "网银", CP.SUPPLIER, 0),
    (Cat.PURCHASE, 2, "支付货款", "网银", CP.SUPPLIER, 0),
    (Cat.PURCHASE, 1, "材料款", "网银", CP.SUPPLIER, 0),
    (Cat.PURCHASE, 2, "转账", "手机银行", CP.SUPPLIER, 0),
    (Cat.PURCHASE, 1, "采购款", "网银", CP.SUPPLIER, 0),
    (Cat.PAYROLL, 1, "代发工资", "批量代发", CP.NONE, 0),  # a company's batch: first variant
    (Cat.PAYROLL, 1, "工资", "手机银行", CP.EMPLOYEE, 0),  # a 个体户 pays each employee
    (Cat.RENT, 3, "房租", "手机银行", CP.LANDLORD, 0),
    (Cat.RENT, 2, "租金", "网银", CP.LANDLORD, 0),
    (Cat.RENT, 1, "房屋租金", "网银", CP.LANDLORD, 0),
    (Cat.UTILITIES, 4, "电费", "批量代扣", CP.REGIONAL, 0),
    (Cat.UTILITIES, 2, "水费", "批量代扣", CP.REGIONAL, 1),
    (Cat.UTILITIES, 1, "燃气费", "批量代扣", CP.REGIONAL, 2),
    (Cat.UTILITIES, 2, "通讯费", "第三方支付", CP.REGIONAL, 3),
    (Cat.TAX, 3, "电子缴税", "批量代扣", CP.REGIONAL, 4),
    (Cat.TAX, 2, "税款", "网银", CP.REGIONAL, 4),
    (Cat.TAX, 1, "增值税", "批量代扣", CP.REGIONAL, 4),
    (Cat.TAX, 1, "个人所得税", "批量代扣", CP.REGIONAL, 4),
    (Cat.SOCIAL_INSURANCE, 2, "社保费", "批量代扣", CP.REGIONAL, 4),
    (Cat.SOCIAL_INSURANCE, 1, "社会保险费", "网银", CP.REGIONAL, 5),
    (Cat.HOUSEHOLD, 6, "快捷支付", "第三方支付", CP.MERCHANT, 0),
    (Cat.HOUSEHOLD, 2, "消费", "POS", CP.MERCHANT, 0),
    (Cat.HOUSEHOLD, 2, "转账", "手机银行", CP.SPOUSE, 0),
    (Cat.HOUSEHOLD, 1, "信用卡还款", "手机银行", CP.CARD_CENTRE, 0),
    (Cat.HOUSEHOLD, 1, "转账", "手机银行", CP.PERSON, 0),
    (Cat.HOUSEHOLD, 1, "生活缴费", "第三方支付", CP.REGIONAL, 0),
    (Cat.OWN_TRANSFER, 2, "本人账户转账", "手机银行", CP.OWN, 0),
    (Cat.OWN_TRANSFER, 2, "转账", "网银", CP.OWN, 0),
    (Cat.OWN_TRANSFER, 1, "资金归集", "网银", CP.OWN, 0),
    (Cat.OWN_TRANSFER, 1, "备用金", "网银", CP.OWN, 0),
    (Cat.CASH_WITHDRAWAL, 4, "ATM取款", "ATM", CP.NONE, 0),
    (Cat.CASH_WITHDRAWAL, 1, "取现", "柜面", CP.NONE, 0),
    (Cat.CASH_WITHDRAWAL, 1, "跨行取款", "ATM", CP.NONE, 0),
    (Cat.LENDER_REPAYMENT, 1, "还款", "系统", CP.LENDER, 0),  # memo set per lender
    (Cat.LOAN_DISBURSEMENT, 1, "贷款发放", "系统", CP.LENDER, 0),  # memo set per lender
    (Cat.INTEREST, 1, "结息", "系统", CP.NONE, 0),
    (Cat.ROUND_TRIP, 2, "往来款", "网银", CP.RELATED, 0),
    (Cat.ROUND_TRIP, 1, "货款", "网银", CP.RELATED, 0),
    (Cat.ROUND_TRIP, 1, "转账", "手机银行", CP.RELATED, 0),
    (Cat.ROUND_TRIP, 1, "借款", "手机银行", CP.RELATED, 0),
    (Cat.CONSULTING_FEE, 3, "咨询费", "网银", CP.RELATED, 1),
    (Cat.CONSULTING_FEE, 2, "服务费", "网银", CP.RELATED, 1),
    (Cat.CONSULTING_FEE, 1, "技术服务费", "网银", CP.RELATED, 1),
    (Cat.CONSULTING_FEE, 1, "货款", "网银", CP.RELATED, 1),
    (Cat.GAMBLING, 3, "快捷支付", "第三方支付", CP.GAMBLING, 0),
    (Cat.GAMBLING, 2, "网上支付", "第三方支付", CP.GAMBLING, 0),
    (Cat.GAMBLING, 1, "充值", "手机银行", CP.GAMBLING, 0),
)
_ROUND_TRIP_OUT_MEMOS = ("往来款", "还款", "转账", "货款", "转账")
_OWN_MEMO_PERSONAL = ("本人账户转账", "转账", "跨行转账")
_OWN_MEMO_TO_COMPANY = ("资金归集", "转账", "往来款")
_OWN_MEMO_FROM_COMPANY = ("备用金", "转账", "往来款")


def _memo_vocab() -> tuple[str, ...]:
    memos: list[str] = []
    for row in _VARIANTS:
        memos.append(row[2])
    memos += list(_ROUND_TRIP_OUT_MEMOS) + list(_OWN_MEMO_PERSONAL)
    memos += list(_OWN_MEMO_TO_COMPANY) + list(_OWN_MEMO_FROM_COMPANY)
    for name, kind in zip(vocab.LENDER_NAMES, vocab.LENDER_KINDS, strict=True):
        _, repay, disburse, _ = lender_counterparty(str(name), str(kind), "")
        memos += [repay, disburse]
    memos += ["借款利息", "利息"]
    return tuple(dict.fromkeys(memos))


MEMOS: tuple[str, ...] = _memo_vocab()
_MEMO = {m: i for i, m in enumerate(MEMOS)}

_VAR_CAT = np.array([int(v[0]) for v in _VARIANTS], dtype=np.int64)
_VAR_MEMO = np.array([_MEMO[v[2]] for v in _VARIANTS], dtype=np.int64)
_VAR_CH = np.array([_CH[v[3]] for v in _VARIANTS], dtype=np.int64)
_VAR_KIND = np.array([int(v[4]) for v in _VARIANTS], dtype=np.int64)
_VAR_ARG = np.array([v[5] for v in _VARIANTS], dtype=np.int64)
_VAR_FIRST = np.array([int(np.flatnonzero(c == _VAR_CAT)[0]) for c in range(N_CAT)])


def _variant_ends() -> Arr:
    ends = np.zeros(len(_VARIANTS))
    for c in range(N_CAT):
        idx = np.flatnonzero(c == _VAR_CAT)
        w = np.array([_VARIANTS[i][1] for i in idx], dtype=np.float64)
        cum = np.cumsum(w) / w.sum()
        cum[-1] = 1.0
        ends[idx] = c + cum
    return ends


_VAR_ENDS = _variant_ends()
if np.any(np.diff(_VAR_CAT) < 0):  # pragma: no cover - a table edit error
    raise RuntimeError("_VARIANTS must be grouped by category in Cat order")

# --- per-category rendering parameters --------------------------------------------------------

# category: (log-sd of the amounts within a month, rounding unit in fen, minimum item in fen,
#            first usual hour, usual hours wide, share at any hour, moved off weekends).
# Days: uniform in the month, except POS daily, wallets every few days, platforms weekly,
# payroll, rent, tax, social insurance and debts on a fixed day (see _days).
_SPEC: dict[Cat, tuple[float, int, int, int, int, float, bool]] = {
    Cat.SALES_TRANSFER: (0.9, 1, 100, 9, 9, 0.05, True),
    Cat.SALES_POS: (0.25, 1, 100, 2, 7, 0.0, False),
    Cat.SALES_PLATFORM: (0.3, 1, 100, 8, 10, 0.05, False),
    Cat.SALES_WALLET: (0.35, 1, 100, 8, 14, 0.1, False),
    Cat.CASH_DEPOSIT: (0.6, 10_000, 10_000, 9, 10, 0.1, False),
    Cat.PURCHASE: (0.9, 1, 100, 9, 9, 0.03, True),
    Cat.PAYROLL: (0.15, 100, 100, 10, 6, 0.0, True),
    Cat.RENT: (0.1, 100, 100, 9, 12, 0.05, False),
    Cat.UTILITIES: (0.6, 1, 100, 1, 8, 0.0, False),
    Cat.TAX: (0.5, 1, 100, 9, 8, 0.0, True),
    Cat.SOCIAL_INSURANCE: (0.1, 1, 100, 9, 8, 0.0, True),
    Cat.HOUSEHOLD: (1.0, 1, 100, 8, 15, 0.08, False),
    Cat.OWN_TRANSFER: (0.0, 1, 100, 9, 12, 0.1, False),
    Cat.CASH_WITHDRAWAL: (0.5, 10_000, 10_000, 9, 13, 0.1, False),
    Cat.LENDER_REPAYMENT: (0.0, 1, 1, 0, 7, 0.0, False),
    Cat.LOAN_DISBURSEMENT: (0.0, 1, 1, 9, 8, 0.0, False),
    Cat.INTEREST: (0.0, 1, 1, 0, 1, 0.0, False),
    Cat.ROUND_TRIP: (0.5, 1_000_000, 1_000_000, 9, 9, 0.1, False),
    Cat.CONSULTING_FEE: (0.5, 100_000, 100_000, 9, 8, 0.0, True),
    Cat.GAMBLING: (0.8, 100, 100, 20, 7, 0.0, False),
}
_SIGMA = np.array([_SPEC[c][0] for c in Cat])
_UNIT = np.array([_SPEC[c][1] for c in Cat], dtype=np.int64)
_MIN_ITEM = np.array([_SPEC[c][2] for c in Cat], dtype=np.int64)
_H_LO = np.array([_SPEC[c][3] for c in Cat], dtype=np.int64)
_H_W = np.array([_SPEC[c][4] for c in Cat], dtype=np.int64)
_P_ANY = np.array([_SPEC[c][5] for c in Cat])
_WEEKDAYS = np.array([_SPEC[c][6] for c in Cat])
_INFLOW = np.zeros(N_CAT, dtype=bool)
_INFLOW[
    [
        Cat.SALES_TRANSFER,
        Cat.SALES_POS,
        Cat.SALES_PLATFORM,
        Cat.SALES_WALLET,
        Cat.CASH_DEPOSIT,
        Cat.LOAN_DISBURSEMENT,
        Cat.INTEREST,
        Cat.ROUND_TRIP,  # the first leg; the second is added as an outflow
        Cat.CONSULTING_FEE,
    ]
] = True

# Which account role receives or pays each category: (company weights, 个体户 weights).
_ROUTES: dict[Cat, tuple[tuple[float, ...], tuple[float, ...]]] = {
    Cat.SALES_TRANSFER: ((0.85, 0.1, 0.05, 0.0), (0.7, 0.25, 0.05, 0.0)),
    Cat.SALES_POS: ((1, 0, 0, 0), (1, 0, 0, 0)),
    Cat.SALES_PLATFORM: ((0.9, 0.1, 0, 0), (0.8, 0.2, 0, 0)),
    Cat.SALES_WALLET: ((0.2, 0.8, 0, 0), (0.2, 0.8, 0, 0)),
    Cat.CASH_DEPOSIT: ((0.5, 0.4, 0.1, 0), (0.4, 0.5, 0.1, 0)),
    Cat.PURCHASE: ((0.85, 0.07, 0.08, 0), (0.7, 0.22, 0.08, 0)),
    Cat.PAYROLL: ((1, 0, 0, 0), (0.4, 0.6, 0, 0)),
    Cat.RENT: ((0.8, 0.2, 0, 0), (0.5, 0.5, 0, 0)),
    Cat.UTILITIES: ((0.85, 0.15, 0, 0), (0.6, 0.4, 0, 0)),
    Cat.TAX: ((1, 0, 0, 0), (1, 0, 0, 0)),
    Cat.SOCIAL_INSURANCE: ((1, 0, 0, 0), (1, 0, 0, 0)),
    Cat.HOUSEHOLD: ((0, 0.85, 0.1, 0.05), (0.1, 0.75, 0.1, 0.05)),
    Cat.CASH_WITHDRAWAL: ((0.05, 0.85, 0.1, 0), (0.2, 0.7, 0.1, 0)),
    Cat.ROUND_TRIP: ((0.85, 0.15, 0, 0), (0.85, 0.15, 0, 0)),
    Cat.CONSULTING_FEE: ((1, 0, 0, 0), (1, 0, 0, 0)),
    Cat.GAMBLING: ((0, 0.8, 0.1, 0.1), (0, 0.8, 0.1, 0.1)),
}

# Typical ticket sizes in CNY (transfer receipt, supplier payment) and the share of transfer
# customers that are firms, by industry.
_TICKETS: dict[str, tuple[float, float, float]] = {
    "trade": (6000, 15000, 0.6),
    "manufacturing": (20000, 25000, 0.95),
    "service": (1500, 4000, 0.2),
    "catering": (1200, 2500, 0.15),
    "agriculture": (6000, 10000, 0.6),
    "ecommerce": (3000, 8000, 0.3),
}
_TICKET_DEFAULT = (5000.0, 8000.0, 0.5)
_WALLET_STEPS = np.array([1, 2, 3, 7], dtype=np.int64)
_WALLET_STEP_CDF = np.array([0.15, 0.45, 0.75, 1.0])

# Per-business uniform scalars, drawn first from each business's stream (fixed order).
(
    _S_SECOND,
    _S_THIRD,
    _S_INDIV_CORP,
    _S_BANK0,
    _S_BANK1,
    _S_BANK2,
    _S_BANK3,
    _S_BUF0,
    _S_BUF1,
    _S_BUF2,
    _S_BUF3,
    _S_SER0,
    _S_SER1,
    _S_SER2,
    _S_SER3,
    _S_DEPOSIT,
    _S_WITHDRAW,
    _S_WSTEP,
    _S_WSTART,
    _S_PWEEKDAY,
    _S_PLATFORM,
    _S_ACQUIRER,
    _S_PAYDAY,
    _S_RENTDAY,
    _S_TAXDAY,
    _S_SOCDAY,
    _S_CBASE,
    _S_CSTRIDE,
    _S_CSIZE,
    _S_PBASE,
    _S_PSTRIDE,
    _S_SBASE,
    _S_SSTRIDE,
    _S_SSIZE,
    _S_EBASE,
    _S_ESTRIDE,
    _S_LANDKIND,
    _S_LANDLORD,
    _S_RELBASE,
    _S_RELPERSON,
    _S_FIRMSHARE,
    _S_WALLETSHARE,
    _S_GAMBLE,
    _S_SPOUSECARD,
    _S_INT_SALES,
    _S_INT_PURCH,
    _S_INT_HOUSE,
    _S_CARDCENTRE,
) = range(48)
N_SCALARS = 48
_DEBT_DRAWS = 3  # per debt: account, (unused), private lender

# --- counterparty pools (one per run) ---------------------------------------------------------

N_PERSONS = 1 << 16
N_FIRMS = 1 << 12  # per region
N_RELATED = 1 << 9  # per region
_REGIONAL_KINDS = 6
_PROPERTY_PER_REGION = 4


@dataclass(frozen=True, slots=True)
class _Pools:
    names: pl.Series
    accounts: pl.Series
    firms: int  # offset of the firms (region-major)
    related: int
    acquirers: int
    wallets: int
    platforms: int
    regional: int  # region × 6 kinds
    property: int  # region × 4
    merchants: int
    card_centres: int
    gambling: int
    lenders: int  # region × lender
    null: int
    size: int


def _luhn(body: Arr) -> Arr:
    """Luhn check digits of integer bodies (bank-card numbers, ISO/IEC 7812)."""
    total = np.zeros(len(body), dtype=np.int64)
    x = body.astype(np.int64).copy()
    for k in range(19):
        d = x % 10
        x //= 10
        if k % 2 == 0:
            d = np.where(2 * d > 9, 2 * d - 9, 2 * d)
        total += d
    return np.asarray((10 - total % 10) % 10, dtype=np.int64)


def card_numbers(bins: Arr, region_codes: Arr, serials: Arr) -> list[str]:
    """19-digit debit-card numbers: BIN (6) + region bank code (4) + serial (8) + Luhn."""
    body = (
        np.array([int(b) for b in bins], dtype=np.int64) * 10**12
        + np.array([int(r) for r in region_codes], dtype=np.int64) * 10**8
        + serials.astype(np.int64) % 10**8
    )
    check = _luhn(body)
    return [f"{b:018d}{c}" for b, c in zip(body.tolist(), check.tolist(), strict=True)]


def company_account(region_code: str, length: int, serial: int) -> str:
    """A company account number: the region's bank code, then a serial to the bank's length."""
    width = length - len(region_code)
    return f"{region_code}{serial % 10**width:0{width}d}"


@lru_cache(maxsize=4)
def _pools(
    seed: int, cities: tuple[str, ...], provinces: tuple[str, ...], codes: tuple[str, ...]
) -> _Pools:
    rng = population_rng(seed, Stream.STATEMENTS)
    n_reg = len(cities)
    names: list[str | None] = []
    accounts: list[str | None] = []
    # people: customers, employees, landlords, private lenders
    people = vocab.person_names(rng, N_PERSONS)
    bins = np.array([b[1] for b in BANKS])[rng.integers(0, len(BANKS), N_PERSONS)]
    regs = np.array(codes)[rng.integers(0, n_reg, N_PERSONS)]
    names += [str(p) for p in people]
    accounts += card_numbers(bins, regs, rng.integers(0, 10**8, N_PERSONS))
    # firms of each region: customers and suppliers
    shop_words = np.concatenate([vocab.SHOP_WORDS, np.array(_EXTRA_SHOP_WORDS)])
    firms = len(names)
    lengths = np.array([b[2] for b in BANKS])
    for r in range(n_reg):
        shop = shop_words[rng.integers(0, len(shop_words), N_FIRMS)]
        prod = np.array(_PRODUCT_WORDS)[rng.integers(0, len(_PRODUCT_WORDS), N_FIRMS)]
        suf = np.array(_FIRM_SUFFIXES)[rng.integers(0, len(_FIRM_SUFFIXES), N_FIRMS)]
        ln = lengths[rng.integers(0, len(lengths), N_FIRMS)]
        serial = rng.integers(0, 10**16, N_FIRMS)
        names += [f"{cities[r]}市{s}{p}{x}" for s, p, x in zip(shop, prod, suf, strict=True)]
        accounts += [
            company_account(codes[r], int(n), int(s)) for n, s in zip(ln, serial, strict=True)
        ]
    related = len(names)
    for r in range(n_reg):
        shop = shop_words[rng.integers(0, len(shop_words), N_RELATED)]
        word = np.array(_RELATED_WORDS)[rng.integers(0, len(_RELATED_WORDS), N_RELATED)]
        serial = rng.integers(0, 10**16, N_RELATED)
        names += [f"{cities[r]}{s}{w}有限公司" for s, w in zip(shop, word, strict=True)]
        accounts += [company_account(codes[r], 19, int(s)) for s in serial]

    def fixed(entries: list[str], code: str = "9558") -> int:
        start = len(names)
        for i, entry in enumerate(entries):
            names.append(entry)
            accounts.append(company_account(code, 17, 10_000_000 + 7919 * (start + i)))
        return start

    acquirers = fixed([cp for _, cp in ACQUIRERS])
    wallets = fixed([cp for _, cp in WALLETS])
    platforms = fixed(list(_PLATFORM_PAYERS))
    south = {"广西", "广东", "云南", "贵州", "海南"}
    regional_names: list[str] = []
    for city, prov in zip(cities, provinces, strict=True):
        power = (
            f"{prov}电网有限责任公司{city}供电局"
            if prov in south
            else f"国网{prov}省电力有限公司{city}供电公司"
        )
        regional_names += [
            power,
            f"{city}市自来水有限公司",
            f"{city}市燃气有限公司",
            f"中国移动通信集团{prov}有限公司",
            f"国家税务总局{city}市税务局",
            f"{city}市社会保险事业管理中心",
        ]
    regional = len(names)
    for r, code in enumerate(codes):
        for entry in regional_names[r * _REGIONAL_KINDS : (r + 1) * _REGIONAL_KINDS]:
            names.append(entry)
            accounts.append(company_account(code, 19, 5_000_000 + 104729 * len(names)))
    prop = len(names)
    for r, code in enumerate(codes):
        for k in range(_PROPERTY_PER_REGION):
            word = shop_words[(7 * r + 11 * k) % len(shop_words)]
            names.append(f"{cities[r]}市{word}物业管理有限公司")
            accounts.append(company_account(code, 18, 3_000_000 + 15485863 * len(names)))
    merchants = fixed(list(HOUSEHOLD_MERCHANTS), "9580")
    card_centres = fixed(list(CARD_CENTRES), "9555")
    gambling = fixed(list(GAMBLING_MERCHANTS), "6222")
    lenders = len(names)
    for r, code in enumerate(codes):
        for lender, kind in zip(vocab.LENDER_NAMES, vocab.LENDER_KINDS, strict=True):
            cp, _, _, _ = lender_counterparty(str(lender), str(kind), cities[r])
            names.append(cp or None)
            accounts.append(company_account(code, 20, 7_000_000 + 32452843 * len(names)))
    null = len(names)
    names.append(None)
    accounts.append(None)
    return _Pools(
        names=pl.Series("name", names, dtype=pl.String),
        accounts=pl.Series("account", accounts, dtype=pl.String),
        firms=firms,
        related=related,
        acquirers=acquirers,
        wallets=wallets,
        platforms=platforms,
        regional=regional,
        property=prop,
        merchants=merchants,
        card_centres=card_centres,
        gambling=gambling,
        lenders=lenders,
        null=null,
        size=len(names),
    )


# --- helpers ----------------------------------------------------------------------------------


def _days_since_epoch(month_index: Arr) -> Arr:
    months = np.asarray(month_index, dtype=np.int64) - 1970 * 12
    return np.asarray(
        months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64), dtype=np.int64
    )


def _weekday(days: Arr) -> Arr:
    """Monday 0 … Sunday 6 of days since 1970-01-01 (a Thursday)."""
    return np.asarray((days + 3) % 7, dtype=np.int64)


def split_amounts(total: Arr, n: Arr, weights: Arr, unit: Arr) -> Arr:
    """Split each group's ``total`` fen into its ``n`` items (rows of a group contiguous) in
    proportion to ``weights``: every item ≥ 1 fen and the group's items sum exactly to its
    total. Where ``unit`` > 1 every item but the group's last is rounded down to a multiple of
    ``unit`` (round sums: ATM notes, 整进整出), and the last takes the rest."""
    n = n.astype(np.int64)
    start = np.cumsum(n) - n
    g = np.repeat(np.arange(len(n)), n)
    w = (np.clip(weights, 1e-6, 1e6) * 1024).astype(np.int64) + 1
    wsum = np.add.reduceat(w, start) if len(w) else np.zeros(0, dtype=np.int64)
    spare = total - n
    exact = spare[g] * w // wsum[g] + 1
    rest = total - (np.add.reduceat(exact, start) if len(w) else np.zeros(0, dtype=np.int64))
    pos = np.arange(len(w)) - start[g]
    exact = exact + (pos < rest[g])
    last = pos == n[g] - 1
    u = unit[g]
    rounded = np.where(last, 0, np.maximum(exact // u * u, u))
    tail = total - (np.add.reduceat(rounded, start) if len(w) else np.zeros(0, dtype=np.int64))
    ok = (unit > 1) & (tail >= 1)
    rounded = np.where(last, tail[g], rounded)
    return np.asarray(np.where(ok[g], rounded, exact), dtype=np.int64)


def _choose(cdf: Arr, u: Arr) -> Arr:
    """Row-wise categorical choice: ``cdf`` (rows × k, last column 1), ``u`` (rows)."""
    return np.asarray((u[:, None] >= cdf[:, :-1]).sum(axis=1), dtype=np.int64)


# --- the renderer -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Txns:
    """Transactions under construction (one entry per transaction, in generation order)."""

    b: Arr  # business index in the chunk
    k: Arr  # account role 0–3
    ts: Arr  # seconds since epoch
    amount: Arr  # fen, > 0
    inflow: Arr  # bool
    cat: Arr
    memo: Arr
    channel: Arr
    cp: Arr  # index into the chunk's counterparty vocabulary
    pair: Arr  # generation index (in the final concatenation) of a round trip's first leg
    m: Arr  # month of the window the transaction renders

    def __post_init__(self) -> None:  # compact types: a chunk holds millions of rows
        for name, dtype in _TXN_DTYPES.items():
            setattr(self, name, np.asarray(getattr(self, name), dtype=dtype))

    @staticmethod
    def concat(parts: list[_Txns]) -> _Txns:
        return _Txns(*(np.concatenate([getattr(p, f) for p in parts]) for f in _TXN_FIELDS))


_TXN_FIELDS = ("b", "k", "ts", "amount", "inflow", "cat", "memo", "channel", "cp", "pair", "m")
_TXN_DTYPES: dict[str, type[np.generic]] = {
    "b": np.int32,
    "k": np.int8,
    "ts": np.int64,
    "amount": np.int64,
    "inflow": np.bool_,
    "cat": np.int8,
    "memo": np.int16,
    "channel": np.int8,
    "cp": np.int32,
    "pair": np.int64,
    "m": np.int16,
}


# The statements last rendered for :func:`deposit_balances`, kept for :func:`render` of the same
# chunk object (a run renders the IPC files first): at most one chunk, released when taken.
_KEPT: list[tuple[Chunk, Rendered, pl.DataFrame]] = []


def render(chunk: Chunk) -> Rendered:
    """Accounts, transactions and their truth labels for the businesses of ``chunk``."""
    for i, (kept, rendered, _) in enumerate(_KEPT):
        if kept is chunk:
            del _KEPT[i]
            return rendered
    return _render(chunk)[0]


def deposit_balances(chunk: Chunk) -> pl.DataFrame:
    """Deposits (银行存款) the statements of ``chunk`` show, per business: the sum of its
    accounts' end-of-day balances on the check-point date and on the application date of
    :func:`xiaowei.simulate.deposits.plan`. Columns business_id, check_point, check_point_fen,
    application, application_fen; sorted by business_id. The IPC balance sheets take their
    bank deposits from here; the rendered statements are kept for :func:`render`."""
    for kept, _, balances in _KEPT:
        if kept is chunk:
            return balances
    rendered, balances = _render(chunk)
    _KEPT[:] = [(chunk, rendered, balances)]
    return balances


def _render(chunk: Chunk) -> tuple[Rendered, pl.DataFrame]:
    cfg = chunk.config
    biz = chunk.businesses.sort("business_id")
    ids = biz["business_id"].to_numpy().astype(np.int64)
    nb = len(ids)
    span = cfg.months + cfg.follow_months
    monthly = chunk.monthly.sort("business_id", "month_index")
    if monthly.height != nb * span:
        raise ValueError("monthly flows do not cover every business and month")
    region_codes = [r.code for r in cfg.regions]
    cities = tuple(r.name_zh for r in cfg.regions)
    provinces = tuple(r.province_zh for r in cfg.regions)
    codes = tuple(r.bank_code for r in cfg.regions)
    pools = _pools(cfg.seed, cities, provinces, codes)

    region = np.array([region_codes.index(r) for r in biz["region"].to_list()], dtype=np.int64)
    industry = biz["industry"].to_list()
    individual = (biz["legal_form"] == "个体工商户").to_numpy()
    months = monthly["month_index"].to_numpy().reshape(nb, span).astype(np.int64)
    m_day = _days_since_epoch(months)
    m_len = _days_since_epoch(months + 1) - m_day
    window_start = m_day[:, 0] * 86400
    window_end = (m_day[:, -1] + m_len[:, -1]) * 86400 - 1

    debts = chunk.debts.sort("business_id", "debt_id")
    debt_b = np.searchsorted(ids, debts["business_id"].to_numpy())
    n_debts = np.bincount(debt_b, minlength=nb)
    lender_index = {str(name): i for i, name in enumerate(vocab.LENDER_NAMES)}
    debt_lender = np.array([lender_index[x] for x in debts["lender"].to_list()], dtype=np.int64)

    # 1. Per-business draws, first pass: scalars and debt draws.
    rngs = [chunk.rng(int(i), Stream.STATEMENTS) for i in ids]
    scal = np.empty((nb, N_SCALARS))
    debt_u_parts = []
    for i, r in enumerate(rngs):
        scal[i] = r.random(N_SCALARS)
        debt_u_parts.append(r.random((int(n_debts[i]), _DEBT_DRAWS)))
    debt_u = np.concatenate(debt_u_parts) if debt_u_parts else np.zeros((0, _DEBT_DRAWS))

    plan = _plan_accounts(chunk, biz, scal, individual, region, pools)
    # 2. Monthly amounts (fen) and the expected counts; second pass draws the counts.
    amounts, lam, fixed_n = _monthly_amounts(monthly, nb, span, scal, industry, m_day, m_len)
    # the platform payouts of a business with online stores come from its stores' platforms
    # (channels.store_plan); a second store's payouts are their own slot groups
    stores = _stores(chunk, ids, biz, scal, amounts[:, Cat.SALES_PLATFORM])
    amounts[:, Cat.SALES_PLATFORM] -= stores.second
    counts = np.empty((nb, N_CAT, span), dtype=np.int64)
    for i, r in enumerate(rngs):
        counts[i] = r.poisson(lam[i])
    counts = np.where(lam > 0, np.maximum(counts, 1), fixed_n)
    cap = np.maximum(amounts // _MIN_ITEM[None, :, None], 1)
    counts = np.where(amounts > 0, np.minimum(counts, cap), 0)
    weeks = (m_len - 1 - _platform_first(scal, m_day)[1]) // 7 + 1
    second_cap = np.maximum(stores.second // _MIN_ITEM[Cat.SALES_PLATFORM], 1)
    second_n = np.where(stores.second > 0, np.minimum(weeks, second_cap), 0)

    # 3. Slot groups in each business's canonical order, then the third pass draws uniforms.
    groups = _groups(
        counts, amounts, debts, debt_b, months, plan.n_accounts, span, stores.second, second_n
    )
    slots_per_b = np.bincount(groups.b, weights=groups.n, minlength=nb).astype(np.int64)
    u = np.concatenate(
        [r.random((int(n), K_UNIFORMS)) for r, n in zip(rngs, slots_per_b, strict=True)]
    )
    del rngs

    headcount = monthly["headcount"].to_numpy().reshape(nb, span)
    ctx = _Context(
        chunk=chunk,
        pools=pools,
        plan=plan,
        scal=scal,
        region=region,
        industry=industry,
        individual=individual,
        m_day=m_day,
        m_len=m_len,
        window_end=window_end,
        debts=debts,
        debt_b=debt_b,
        debt_lender=debt_lender,
        debt_u=debt_u,
        headcount=headcount,
        batch=_payroll_batch(monthly, nb, span, headcount),
        platform=stores.platform,
    )
    main = _render_slots(ctx, groups, u)
    own = _own_transfers(ctx, groups, u, main, span)
    del u
    txns = _Txns.concat([main, own])
    del main, own
    deposit_plan = deposits.plan(chunk)
    if not np.array_equal(deposit_plan.business_id, ids):
        raise ValueError("deposit plan and statements disagree on the businesses")
    return _assemble(ctx, ids, txns, window_start, window_end, months, deposit_plan)


@dataclass(frozen=True, slots=True)
class _Accounts:
    n_accounts: Arr  # per business, 2–4
    corporate: Arr  # (B, 4) bool: a company account (对公)
    bank: Arr  # (B, 4) bank index
    buffer: Arr  # (B, 4) fen: the floor each account keeps at its lowest
    holder: list[str | None]  # B × 4
    number: list[str | None]  # B × 4
    bank_name: list[str | None]  # B × 4
    related_name: list[str]  # per business: spouse, partner or another close person
    related_account: list[str]


def _plan_accounts(
    chunk: Chunk,
    biz: pl.DataFrame,
    scal: Arr,
    individual: Arr,
    region: Arr,
    pools: _Pools,
) -> _Accounts:
    """Accounts of each business (账户): roles, banks, numbers, holders, floors."""
    cfg = chunk.config
    nb = len(scal)
    second = scal[:, _S_SECOND] < 0.55
    third = second & (scal[:, _S_THIRD] < 0.35)
    n_acc = 2 + second.astype(np.int64) + third.astype(np.int64)
    corp_main = ~individual | (scal[:, _S_INDIV_CORP] < 0.4)
    corporate = np.zeros((nb, ACCOUNT_SLOTS), dtype=bool)
    corporate[:, 0] = corp_main
    corporate[:, 2] = ~individual & second
    provinces = np.array([r.province_zh for r in cfg.regions])[region]
    zj = provinces == "浙江"
    weights = np.array([b[3] for b in BANKS])
    zj_w = np.array([_ZJ_BANK_WEIGHT.get(b[0], b[3]) for b in BANKS])
    cdf_plain = np.cumsum(weights) / weights.sum()
    cdf_zj = np.cumsum(zj_w) / zj_w.sum()
    cdf = np.where(zj[:, None], cdf_zj[None, :], cdf_plain[None, :])
    bank = np.stack(
        [_choose(cdf, scal[:, s]) for s in (_S_BANK0, _S_BANK1, _S_BANK2, _S_BANK3)], axis=1
    )
    # the third account is at another bank than the second, the second than the main
    bank[:, 2] = np.where(bank[:, 2] == bank[:, 0], (bank[:, 2] + 1) % len(BANKS), bank[:, 2])
    monthly_sales = (
        chunk.monthly.group_by("business_id")
        .agg(pl.col("sales").mean())
        .sort("business_id")["sales"]
        .to_numpy()
    )
    buffer = np.empty((nb, ACCOUNT_SLOTS), dtype=np.int64)
    buffer[:, 0] = (monthly_sales * (0.05 + 0.35 * scal[:, _S_BUF0]) * 100).astype(np.int64)
    for k, s in ((1, _S_BUF1), (2, _S_BUF2), (3, _S_BUF3)):
        buffer[:, k] = ((500 + 20_000 * scal[:, s] ** 2) * 100).astype(np.int64)
    buffer = np.maximum(buffer, 10_000)

    owners = chunk.owners.sort("business_id")["name"].to_list()
    names = biz["business_name"].to_list()
    codes = [r.bank_code for r in cfg.regions]
    cities = [r.name_zh for r in cfg.regions]
    holder: list[str | None] = []
    number: list[str | None] = []
    bank_name: list[str | None] = []
    serials = (scal[:, [_S_SER0, _S_SER1, _S_SER2, _S_SER3]] * 10**15).astype(np.int64)
    card_b: list[str] = []
    card_r: list[str] = []
    card_s: list[int] = []
    card_pos: list[int] = []
    for i in range(nb):
        code = codes[int(region[i])]
        for k in range(ACCOUNT_SLOTS):
            if k >= n_acc[i]:
                holder.append(None)
                number.append(None)
                bank_name.append(None)
                continue
            name, bin_, length, _ = BANKS[int(bank[i, k])]
            if name == "农村商业银行":
                name = f"{cities[int(region[i])]}农村商业银行"
            bank_name.append(name)
            if corporate[i, k]:
                holder.append(names[i])
                number.append(company_account(code, length, int(serials[i, k])))
            else:
                holder.append(owners[i])
                number.append(None)
                card_b.append(bin_)
                card_r.append(code)
                card_s.append(int(serials[i, k]))
                card_pos.append(len(number) - 1)
    cards = card_numbers(np.array(card_b), np.array(card_r), np.array(card_s, dtype=np.int64))
    for pos, card in zip(card_pos, cards, strict=True):
        number[pos] = card

    # a related person: the spouse, else a partner, else someone from the pool
    rel = (
        chunk.parties.filter(pl.col("role").is_in(["spouse", "partner"]))
        .sort("business_id", "role", "party_id", descending=[False, True, False])
        .unique("business_id", keep="first", maintain_order=True)
        .select("business_id", "name")
    )
    rel_map = dict(zip(rel["business_id"].to_list(), rel["name"].to_list(), strict=True))
    pool_idx = (scal[:, _S_RELPERSON] * N_PERSONS).astype(np.int64)
    pool_names = pools.names.gather(pool_idx).to_list()
    ids = biz["business_id"].to_list()
    related_name = [str(rel_map.get(b, pool_names[i])) for i, b in enumerate(ids)]
    bins = np.array([BANKS[int(x)][1] for x in bank[:, 1]])
    related_account = card_numbers(
        bins,
        np.array([codes[int(r)] for r in region]),
        (scal[:, _S_SPOUSECARD] * 10**8).astype(np.int64),
    )
    return _Accounts(
        n_accounts=n_acc,
        corporate=corporate,
        bank=bank,
        buffer=buffer,
        holder=holder,
        number=number,
        bank_name=bank_name,
        related_name=related_name,
        related_account=related_account,
    )


def _monthly_amounts(
    monthly: pl.DataFrame,
    nb: int,
    span: int,
    scal: Arr,
    industry: list[str],
    m_day: Arr,
    m_len: Arr,
) -> tuple[Arr, Arr, Arr]:
    """Amounts in fen (B × categories × months), Poisson means for the categories whose count
    is drawn, and fixed counts for the scheduled ones (daily POS, weekly platform…)."""

    def fen(col: str) -> Arr:
        values = monthly[col].to_numpy().reshape(nb, span)
        return np.asarray(np.round(values * 100), dtype=np.int64)

    amounts = np.zeros((nb, N_CAT, span), dtype=np.int64)
    for cat, col in FLOW_OF_CATEGORY.items():
        if col != "debt_service":
            amounts[:, Cat[cat.upper()], :] = fen(col)
    dep_share = 0.3 + 0.6 * scal[:, _S_DEPOSIT]
    amounts[:, Cat.CASH_DEPOSIT] = (fen("sales_cash") * dep_share[:, None] // 10_000) * 10_000
    household = fen("household")
    wd_share = 0.05 + 0.35 * scal[:, _S_WITHDRAW]
    withdraw = (household * wd_share[:, None] // 10_000) * 10_000
    amounts[:, Cat.CASH_WITHDRAWAL] = withdraw
    amounts[:, Cat.HOUSEHOLD] = household - withdraw

    yuan = amounts / 100.0
    tickets = np.array([_TICKETS.get(x, _TICKET_DEFAULT) for x in industry])
    lam = np.zeros((nb, N_CAT, span))
    i_sales = (0.6 + scal[:, _S_INT_SALES])[:, None]
    i_purch = (0.4 + 0.8 * scal[:, _S_INT_PURCH])[:, None]
    i_house = (0.6 + scal[:, _S_INT_HOUSE])[:, None]
    lam[:, Cat.SALES_TRANSFER] = np.minimum(
        yuan[:, Cat.SALES_TRANSFER] / tickets[:, 0:1] * i_sales, 150
    )
    lam[:, Cat.CASH_DEPOSIT] = np.minimum(yuan[:, Cat.CASH_DEPOSIT] / 6000, 20)
    lam[:, Cat.PURCHASE] = np.minimum(yuan[:, Cat.PURCHASE] / tickets[:, 1:2] * i_purch, 80)
    lam[:, Cat.UTILITIES] = 2.5
    lam[:, Cat.TAX] = 1.3
    lam[:, Cat.HOUSEHOLD] = np.minimum((6 + yuan[:, Cat.HOUSEHOLD] / 1000) * i_house, 60)
    lam[:, Cat.CASH_WITHDRAWAL] = np.minimum(yuan[:, Cat.CASH_WITHDRAWAL] / 1500, 12)
    lam[:, Cat.ROUND_TRIP] = np.minimum(yuan[:, Cat.ROUND_TRIP] / 30_000, 30)
    lam[:, Cat.CONSULTING_FEE] = 1.5
    lam[:, Cat.GAMBLING] = np.minimum(yuan[:, Cat.GAMBLING] / 400, 40)
    lam = np.where(amounts > 0, lam, 0.0)

    fixed = np.zeros((nb, N_CAT, span), dtype=np.int64)
    fixed[:, Cat.SALES_POS] = m_len
    step, start = _wallet_schedule(scal)
    fixed[:, Cat.SALES_WALLET] = (m_len - 1 - start[:, None]) // step[:, None] + 1
    first = _platform_first(scal, m_day)[0]
    fixed[:, Cat.SALES_PLATFORM] = (m_len - 1 - first) // 7 + 1
    headcount = monthly["headcount"].to_numpy().reshape(nb, span)
    batch = _payroll_batch(monthly, nb, span, headcount)
    fixed[:, Cat.PAYROLL] = np.where(batch, 1, np.maximum(headcount, 1))
    fixed[:, Cat.RENT] = 1
    fixed[:, Cat.SOCIAL_INSURANCE] = 1
    return amounts, lam, fixed


def _payroll_batch(monthly: pl.DataFrame, nb: int, span: int, headcount: Arr) -> Arr:
    """批量代发: companies, and any business with more than 20 on the payroll."""
    company = monthly["social_insurance"].to_numpy().reshape(nb, span) > 0
    return np.asarray(company | (headcount > 20), dtype=bool)


def _wallet_schedule(scal: Arr) -> tuple[Arr, Arr]:
    """E-wallet withdrawals every ``step`` days from day ``start`` (0-based) of the month."""
    step = _WALLET_STEPS[np.searchsorted(_WALLET_STEP_CDF, scal[:, _S_WSTEP], side="right")]
    start = (scal[:, _S_WSTART] * step).astype(np.int64)
    return step, start


def _platform_first(scal: Arr, m_day: Arr) -> Arr:
    """0-based day of the month of the first weekly platform payout (a fixed weekday), of the
    first store or platform and of a second store (2 × B × months): the second pays on
    another weekday, Monday–Friday too, taken from the same uniform (no extra draw)."""
    x = scal[:, _S_PWEEKDAY] * 5
    weekday = x.astype(np.int64)  # Monday–Friday
    other = (weekday + 1 + ((x - weekday) * 4).astype(np.int64)) % 5
    days = _weekday(m_day)
    return np.asarray(
        np.stack([(weekday[:, None] - days) % 7, (other[:, None] - days) % 7]), dtype=np.int64
    )


@dataclass(frozen=True, slots=True)
class _Groups:
    """Slot groups: a business's category-month (or debt-month, account-month) with ``n``
    slots and an amount; in each business's canonical order."""

    b: Arr
    cat: Arr
    m: Arr
    n: Arr
    amount: Arr
    # debt row (lender, disbursement), account role (own transfer), 1 for the payouts of a
    # second online store; −1 otherwise
    aux: Arr


def _groups(
    counts: Arr,
    amounts: Arr,
    debts: pl.DataFrame,
    debt_b: Arr,
    months: Arr,
    n_accounts: Arr,
    span: int,
    second_amount: Arr,
    second_n: Arr,
) -> _Groups:
    nb = counts.shape[0]
    b0, c0, m0 = np.nonzero(counts)
    sections = [(b0, c0, m0, counts[b0, c0, m0], amounts[b0, c0, m0], np.full(len(b0), -1))]
    # lender repayments: every debt, from the month after it was opened to the end of its term
    # (revolving lines and cards, term 0, every month), as ``flows.debt_service`` sums them
    pay = debts["monthly_payment_fen"].to_numpy().astype(np.int64)
    nd = len(pay)
    opened = debts["opened"].to_numpy().astype("datetime64[M]").astype(np.int64) + 1970 * 12
    term = debts["term_months"].to_numpy().astype(np.int64)
    d_rows = np.repeat(np.arange(nd), span)
    d_m = np.tile(np.arange(span), nd)
    m_abs = months[debt_b[d_rows], d_m] if nd else np.zeros(0, dtype=np.int64)
    keep = (
        (pay[d_rows] > 0)
        & (m_abs > opened[d_rows])
        & ((term[d_rows] == 0) | (m_abs <= opened[d_rows] + term[d_rows]))
    )
    d_rows, d_m = d_rows[keep], d_m[keep]
    sections.append(
        (
            debt_b[d_rows],
            np.full(len(d_rows), int(Cat.LENDER_REPAYMENT)),
            d_m,
            np.ones(len(d_rows), dtype=np.int64),
            pay[d_rows],
            d_rows,
        )
    )
    # disbursements of debts opened inside the window
    m_open = opened - months[debt_b, 0] if nd else np.zeros(0, dtype=np.int64)
    inside = (m_open >= 0) & (m_open < span)
    rows = np.flatnonzero(inside)
    sections.append(
        (
            debt_b[rows],
            np.full(len(rows), int(Cat.LOAN_DISBURSEMENT)),
            m_open[rows],
            np.ones(len(rows), dtype=np.int64),
            debts["principal_fen"].to_numpy().astype(np.int64)[rows],
            rows,
        )
    )
    # own-account transfers: two slots per secondary account and month (amounts set later)
    bk = [(i, k) for i in range(nb) for k in range(1, int(n_accounts[i]))]
    ob = np.repeat(np.array([x[0] for x in bk], dtype=np.int64), span)
    ok = np.repeat(np.array([x[1] for x in bk], dtype=np.int64), span)
    om = np.tile(np.arange(span), len(bk))
    sections.append(
        (
            ob,
            np.full(len(ob), int(Cat.OWN_TRANSFER)),
            om,
            np.full(len(ob), 2, dtype=np.int64),
            np.zeros(len(ob), dtype=np.int64),
            ok,
        )
    )
    # payouts of a second online store: last, so the other slots keep their uniforms
    sb, sm = np.nonzero(second_n)
    sections.append(
        (
            sb,
            np.full(len(sb), int(Cat.SALES_PLATFORM)),
            sm,
            second_n[sb, sm],
            second_amount[sb, sm],
            np.ones(len(sb), dtype=np.int64),
        )
    )
    sec = np.concatenate([np.full(len(s[0]), i) for i, s in enumerate(sections)])
    cols = [np.concatenate([np.asarray(s[j], dtype=np.int64) for s in sections]) for j in range(6)]
    order = np.lexsort((sec, cols[0]))
    return _Groups(*(c[order] for c in cols))


@dataclass(frozen=True, slots=True)
class _Context:
    chunk: Chunk
    pools: _Pools
    plan: _Accounts
    scal: Arr
    region: Arr
    industry: list[str]
    individual: Arr
    m_day: Arr
    m_len: Arr
    window_end: Arr
    debts: pl.DataFrame
    debt_b: Arr
    debt_lender: Arr
    debt_u: Arr
    headcount: Arr
    batch: Arr  # (B, months): payroll paid as one 批量代发 batch
    platform: Arr  # (B, 2): PLATFORMS entry of the payouts of the first and a second store

    @property
    def own_offset(self) -> int:
        return self.pools.size

    @property
    def related_offset(self) -> int:
        return self.pools.size + ACCOUNT_SLOTS * len(self.scal)


class _Columns:
    """Columns of the uniforms of some slots, gathered one column at a time (no full copy)."""

    def __init__(self, u: Arr, rows: Arr) -> None:
        self._u = u
        self._rows = rows

    def __getitem__(self, key: tuple[Any, int]) -> Arr:
        rows, col = key
        column = self._u[self._rows, col]
        return column if isinstance(rows, slice) else np.asarray(column[rows])


def _render_slots(ctx: _Context, g: _Groups, u_all: Arr) -> _Txns:
    """Every slot but the own transfers becomes a transaction (a round trip two)."""
    scal = ctx.scal
    start = np.cumsum(g.n) - g.n
    gi = np.repeat(np.arange(len(g.n)), g.n)
    j = np.arange(len(gi)) - start[gi]
    live = np.flatnonzero(g.cat[gi] != Cat.OWN_TRANSFER)
    gi, j = gi[live], j[live]
    u = _Columns(u_all, live)
    b, c, m, aux = g.b[gi], g.cat[gi], g.m[gi], g.aux[gi]
    m_day = ctx.m_day[b, m]
    m_len = ctx.m_len[b, m]

    # amounts: regular groups are split; debt slots carry their own amount
    z = np.clip(ndtri(np.clip(u[:, 0], 1e-12, 1 - 1e-12)), -4, 4)
    weights = np.exp(_SIGMA[c] * z)
    day = _days(ctx, c, j, u[:, 1], b, m, aux, m_day, m_len)
    weekend = _weekday(m_day + day) >= 5
    weights = np.where(
        weekend & ((c == Cat.SALES_POS) | (c == Cat.SALES_WALLET)), weights * 1.25, weights
    )
    g_live = g.cat != Cat.OWN_TRANSFER
    amount = split_amounts(g.amount[g_live], g.n[g_live], weights, _UNIT[g.cat[g_live]])

    ts = (m_day + day) * 86400 + _clock(c, u[:, 2], u[:, 3])

    # account
    role_cdf = _route_cdf(ctx)
    k = _choose(role_cdf[b, c], u[:, 4])
    is_debt = (c == Cat.LENDER_REPAYMENT) | (c == Cat.LOAN_DISBURSEMENT)
    k = np.where(is_debt, _debt_account(ctx)[np.maximum(aux, 0)], k)

    # variant: memo, channel, counterparty kind
    v = np.searchsorted(_VAR_ENDS, c + u[:, 5], side="right")
    v = np.minimum(v, len(_VAR_ENDS) - 1)
    v = np.where(
        c == Cat.SALES_POS,
        _VAR_FIRST[Cat.SALES_POS] + (scal[b, _S_ACQUIRER] * len(ACQUIRERS)).astype(np.int64),
        v,
    )
    second = (aux == 1).astype(np.int64)  # a second store's payout (only platform slots)
    v = np.where(
        c == Cat.SALES_PLATFORM, _VAR_FIRST[Cat.SALES_PLATFORM] + ctx.platform[b, second], v
    )
    v = np.where(
        c == Cat.SALES_WALLET,
        _VAR_FIRST[Cat.SALES_WALLET] + (u[:, 5] >= 0.2 + 0.6 * scal[b, _S_WALLETSHARE]),
        v,
    )
    v = np.where(c == Cat.PAYROLL, _VAR_FIRST[Cat.PAYROLL] + ~ctx.batch[b, m], v)
    memo = _VAR_MEMO[v]
    channel = _VAR_CH[v]
    kind = _VAR_KIND[v]
    # odd cash amounts are paid in at the counter
    odd_cash = (c == Cat.CASH_DEPOSIT) & (amount % 10_000 != 0)
    memo = np.where(odd_cash, _MEMO["现金存入"], memo)
    channel = np.where(odd_cash, _CH["柜面"], channel)

    cp = _counterparties(ctx, kind, _VAR_ARG[v], b, j, u[:, 6], u[:, 7])
    # debts: the lender's name, memo and channel
    if is_debt.any():
        d = aux[is_debt]
        private = vocab.LENDER_KINDS[ctx.debt_lender[d]] == "private"
        lender_memo, lender_ch = _LENDER_MEMO, _LENDER_CH
        disb = c[is_debt] == Cat.LOAN_DISBURSEMENT
        cp_d = (
            ctx.pools.lenders
            + ctx.region[ctx.debt_b[d]] * len(vocab.LENDER_NAMES)
            + ctx.debt_lender[d]
        )
        person = (ctx.debt_u[d, 2] * N_PERSONS).astype(np.int64)
        cp[is_debt] = np.where(private, person, cp_d)
        memo[is_debt] = np.where(
            disb, lender_memo[ctx.debt_lender[d], 1], lender_memo[ctx.debt_lender[d], 0]
        )
        memo[is_debt] = np.where(
            private & ~disb & (u[is_debt, 5] < 0.3), _MEMO["借款利息"], memo[is_debt]
        )
        channel[is_debt] = lender_ch[ctx.debt_lender[d]]
        # disbursements arrive on the opening day
        opened_day = ctx.debts["opened"].to_numpy().astype("datetime64[D]").astype(np.int64)
        ts[is_debt] = np.where(
            disb,
            opened_day[d] * 86400 + 9 * 3600 + (u[is_debt, 3] * 8 * 3600).astype(np.int64),
            ts[is_debt],
        )

    inflow = _INFLOW[c].copy()
    pair = np.full(len(c), -1, dtype=np.int64)
    first = _Txns(b, k, ts, amount, inflow, c, memo, channel, cp, pair, m)

    # round trips: the second leg, out within 0–48 hours, same or nearly the same amount
    rt = np.flatnonzero(c == Cat.ROUND_TRIP)
    first.pair[rt] = rt
    ur = u_all[live[rt]]
    delay = (60 + ur[:, 8] ** 2 * (48 * 3600 - 120)).astype(np.int64)
    ts_out = np.minimum(ts[rt] + delay, ctx.window_end[b[rt]])
    same = ur[:, 9] < 0.45
    shave = (ur[:, 9] - 0.45) / 0.55 * 0.01
    out_amount = np.where(
        same,
        amount[rt],
        np.maximum(np.round(amount[rt] * (1 - shave) / 100) * 100, 100).astype(np.int64),
    )
    out_memo = np.array([_MEMO[x] for x in _ROUND_TRIP_OUT_MEMOS])[
        (ur[:, 7] * len(_ROUND_TRIP_OUT_MEMOS)).astype(np.int64)
    ]
    out_cp = np.where(
        ur[:, 6] < 0.5,
        cp[rt],
        _counterparties(
            ctx,
            np.full(len(rt), int(CP.RELATED)),
            np.zeros(len(rt), dtype=np.int64),
            b[rt],
            j[rt] + 1,
            (ur[:, 6] - 0.5) * 2,  # a uniform again, given ≥ 0.5
            (ur[:, 8] * 7) % 1,
        ),
    )
    second_leg = _Txns(
        b[rt],
        k[rt],
        ts_out,
        out_amount,
        np.zeros(len(rt), dtype=bool),
        c[rt],
        out_memo,
        channel[rt],
        out_cp,
        rt,
        m[rt],
    )
    return _Txns.concat([first, second_leg])


def _lender_tables() -> tuple[Arr, Arr]:
    memo = np.zeros((len(vocab.LENDER_NAMES), 2), dtype=np.int64)
    channel = np.zeros(len(vocab.LENDER_NAMES), dtype=np.int64)
    for i, (name, kind) in enumerate(zip(vocab.LENDER_NAMES, vocab.LENDER_KINDS, strict=True)):
        _, repay, disburse, ch = lender_counterparty(str(name), str(kind), "")
        memo[i] = (_MEMO[repay], _MEMO[disburse])
        channel[i] = _CH[ch]
    return memo, channel


_LENDER_MEMO, _LENDER_CH = _lender_tables()


def _days(
    ctx: _Context, c: Arr, j: Arr, u: Arr, b: Arr, m: Arr, aux: Arr, m_day: Arr, m_len: Arr
) -> Arr:
    """0-based day of the month of each slot."""
    scal = ctx.scal
    day = (u * m_len).astype(np.int64)
    step, start = _wallet_schedule(scal)
    first = _platform_first(scal, ctx.m_day)
    second = (aux == 1).astype(np.int64)  # a second store's payout (only platform slots)
    day = np.where(c == Cat.SALES_POS, j, day)
    day = np.where(c == Cat.SALES_WALLET, start[b] + j * step[b], day)
    day = np.where(c == Cat.SALES_PLATFORM, first[second, b, m] + 7 * j, day)
    payday = 4 + (scal[:, _S_PAYDAY] * 11).astype(np.int64)
    rentday = (scal[:, _S_RENTDAY] * 5).astype(np.int64)
    taxday = 9 + (scal[:, _S_TAXDAY] * 6).astype(np.int64)
    socday = 9 + (scal[:, _S_SOCDAY] * 11).astype(np.int64)
    day = np.where(c == Cat.PAYROLL, payday[b], day)
    day = np.where(c == Cat.RENT, rentday[b], day)
    day = np.where(c == Cat.TAX, taxday[b] + j, day)
    day = np.where(c == Cat.SOCIAL_INSURANCE, socday[b], day)
    if len(ctx.debt_b):
        opened = ctx.debts["opened"].to_numpy().astype("datetime64[D]")
        dom = (opened - opened.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
        debt_day = np.minimum(dom, 27)[np.maximum(aux, 0)]
        is_debt = (c == Cat.LENDER_REPAYMENT) | (c == Cat.LOAN_DISBURSEMENT)
        day = np.where(is_debt, debt_day, day)
    day = np.clip(day, 0, m_len - 1)
    wd = _weekday(m_day + day)
    move = _WEEKDAYS[c] & (wd >= 5)
    shifted = np.where(wd == 5, day - 1, day + 1)
    shifted = np.where(shifted > m_len - 1, day - 2, shifted)
    shifted = np.where(shifted < 0, day + 2, shifted)
    return np.asarray(np.where(move, shifted, day), dtype=np.int64)


def _route_cdf(ctx: _Context) -> Arr:
    """Cumulative probabilities of the account role (B × categories × 4)."""
    company = np.zeros((N_CAT, ACCOUNT_SLOTS))
    indiv = np.zeros((N_CAT, ACCOUNT_SLOTS))
    company[:, 0] = indiv[:, 0] = 1.0
    for cat, (wc, wi) in _ROUTES.items():
        company[cat] = wc
        indiv[cat] = wi
    w = np.where(ctx.individual[:, None, None], indiv[None], company[None])
    exists = np.arange(ACCOUNT_SLOTS)[None, :] < ctx.plan.n_accounts[:, None]
    w = w * exists[:, None, :]
    # the household's spending, cash and gambling leave from personal cards only
    private = [int(Cat.HOUSEHOLD), int(Cat.CASH_WITHDRAWAL), int(Cat.GAMBLING)]
    w[:, private, :] *= ~ctx.plan.corporate[:, None, :]
    total = w.sum(axis=2, keepdims=True)
    w = np.where(total > 0, w / np.where(total > 0, total, 1), np.array([0.0, 1, 0, 0]))
    cdf = np.cumsum(w, axis=2)
    cdf[:, :, -1] = 1.0
    return np.asarray(cdf)


def _debt_account(ctx: _Context) -> Arr:
    """The account each debt is serviced from: a firm's loan from the main (or second)
    account, the owner's from the owner's card (or the second or third bank's)."""
    if not len(ctx.debt_b):
        return np.zeros(1, dtype=np.int64)
    n_acc = ctx.plan.n_accounts[ctx.debt_b]
    u = ctx.debt_u[:, 0]
    firm = (ctx.debts["borrower"] == "firm").to_numpy()
    firm_k = np.where((n_acc > 2) & (u < 0.4), 2, 0)
    owner_k = np.where((n_acc > 2) & (u < 0.3), 2, np.where((n_acc > 3) & (u > 0.85), 3, 1))
    return np.asarray(np.where(firm, firm_k, owner_k), dtype=np.int64)


@dataclass(frozen=True, slots=True)
class _Stores:
    platform: Arr  # (B, 2): PLATFORMS entry of the first and the second store (or the same)
    second: Arr  # (B, months) fen: the second store's payouts, 0 without one


def _stores(chunk: Chunk, ids: Arr, biz: pl.DataFrame, scal: Arr, total: Arr) -> _Stores:
    """Where each business's platform payouts (平台结算) come from. A business with online
    stores (``has_ecommerce``) is paid by its stores' platforms, in the stores' shares of
    each month's ``total`` (both from :func:`xiaowei.simulate.channels.store_plan`, so the
    statement and ``ecommerce/store_monthly`` agree store by store and month by month); any
    other business with platform sales by a platform its industry uses."""
    industry = [str(x) for x in biz["industry"].to_list()]
    has_store = biz["has_ecommerce"].to_numpy().astype(bool)
    choice = _platform_choice(industry, scal)
    platform = np.stack([choice, choice], axis=1)
    second = np.zeros_like(total)
    for i in np.flatnonzero(has_store):
        store = channels.store_plan(chunk, int(ids[i]), industry[i])
        pays = channels.store_payouts(store, total[i])
        entries = [STORE_PLATFORM[p.code] for p in store.platforms]
        platform[i] = (entries[0], entries[-1])
        if len(pays) == 2:
            second[i] = pays[1]
    return _Stores(platform=platform, second=second)


def _platform_choice(industry: list[str], scal: Arr) -> Arr:
    """The platform a business without an online store sells on (its payouts' memo and
    payer), by its industry."""
    out = np.empty(len(scal), dtype=np.int64)
    for i, ind in enumerate(industry):
        choices = _PLATFORM_CHOICES.get(ind, _PLATFORM_DEFAULT)
        out[i] = choices[int(scal[i, _S_PLATFORM] * len(choices))]
    return out


def _counterparties(ctx: _Context, kind: Arr, arg: Arr, b: Arr, j: Arr, ua: Arr, ub: Arr) -> Arr:
    """Index of each transaction's counterparty in the chunk's vocabulary."""
    cp = np.full(len(kind), ctx.pools.null, dtype=np.int64)
    for which in CP:
        idx = np.flatnonzero(kind == which)
        if len(idx) and which != CP.NONE:
            cp[idx] = _counterparty_of(ctx, which, arg[idx], b[idx], j[idx], ua[idx], ub[idx])
    return cp


def _counterparty_of(ctx: _Context, which: CP, arg: Arr, b: Arr, j: Arr, ua: Arr, ub: Arr) -> Arr:
    """Counterparties of one kind: a business's customers and suppliers are a fixed set of
    the pools (a few large ones, many small: the rank is a power of a uniform), employees,
    landlord, related parties and platforms are fixed per business."""
    p = ctx.pools
    s = ctx.scal
    reg = ctx.region[b]

    def base(col: int, n: int) -> Arr:
        return np.asarray((s[b, col] * n).astype(np.int64))

    def stride(col: int, n: int) -> Arr:  # odd, so distinct ranks give distinct entries
        return np.asarray(2 * (s[b, col] * (n // 2)).astype(np.int64) + 1)

    if which == CP.CUSTOMER:
        share = np.array([_TICKETS.get(x, _TICKET_DEFAULT)[2] for x in ctx.industry])
        share = np.clip(share + (s[:, _S_FIRMSHARE] - 0.5) * 0.3, 0, 1)[b]
        rank = ((5 + (s[b, _S_CSIZE] * 60).astype(np.int64)) * ua**2).astype(np.int64)
        firm = p.firms + reg * N_FIRMS
        firm += (base(_S_CBASE, N_FIRMS) + rank * stride(_S_CSTRIDE, N_FIRMS)) % N_FIRMS
        person = (base(_S_PBASE, N_PERSONS) + rank * stride(_S_PSTRIDE, N_PERSONS)) % N_PERSONS
        return np.where(ub < share, firm, person)
    if which == CP.SUPPLIER:
        rank = ((3 + (s[b, _S_SSIZE] * 25).astype(np.int64)) * ua**1.5).astype(np.int64)
        step = rank * stride(_S_SSTRIDE, N_FIRMS)
        return np.asarray(p.firms + reg * N_FIRMS + (base(_S_SBASE, N_FIRMS) + step) % N_FIRMS)
    if which == CP.EMPLOYEE:
        return np.asarray(
            (base(_S_EBASE, N_PERSONS) + j * stride(_S_ESTRIDE, N_PERSONS)) % N_PERSONS
        )
    if which == CP.LANDLORD:
        company = p.property + reg * _PROPERTY_PER_REGION
        company += base(_S_LANDLORD, _PROPERTY_PER_REGION)
        return np.where(s[b, _S_LANDKIND] < 0.6, base(_S_LANDLORD, N_PERSONS), company)
    if which == CP.REGIONAL:
        return p.regional + reg * _REGIONAL_KINDS + arg
    if which in (CP.RELATED, CP.SPOUSE):
        spouse = ctx.related_offset + b
        if which == CP.SPOUSE:
            return spouse
        firm = (base(_S_RELBASE, N_RELATED) + (ua * 3).astype(np.int64)) % N_RELATED
        firm += p.related + reg * N_RELATED
        return np.where((ub < 0.3) & (arg == 0), spouse, firm)
    if which == CP.GAMBLING:
        n_g = len(GAMBLING_MERCHANTS)
        return p.gambling + (base(_S_GAMBLE, n_g) + (ua * 3).astype(np.int64)) % n_g
    if which == CP.MERCHANT:
        return p.merchants + (ua * len(HOUSEHOLD_MERCHANTS)).astype(np.int64)
    if which == CP.ACQUIRER:
        return p.acquirers + arg
    if which == CP.PLATFORM:
        return p.platforms + _PLATFORM_PAYER[arg]
    if which == CP.WALLET:
        return p.wallets + arg
    if which == CP.CARD_CENTRE:
        return p.card_centres + base(_S_CARDCENTRE, len(CARD_CENTRES))
    if which == CP.PERSON:
        return (ua * N_PERSONS).astype(np.int64)
    return np.full(len(b), p.null, dtype=np.int64)  # OWN and LENDER are set by their callers


def _clock(c: Arr, u_hour: Arr, u_second: Arr) -> Arr:
    """Seconds after midnight: the category's usual hours, a share at any hour."""
    p_any = _P_ANY[c]
    anyhour = u_hour < p_any
    hour = np.where(
        anyhour,
        (u_hour / np.maximum(p_any, 1e-9) * 24).astype(np.int64),
        _H_LO[c] + ((u_hour - p_any) / (1 - p_any) * _H_W[c]).astype(np.int64),
    )
    return np.asarray((hour % 24) * 3600 + (u_second * 3600).astype(np.int64), dtype=np.int64)


def _own_transfers(ctx: _Context, g: _Groups, u: Arr, main: _Txns, span: int) -> _Txns:
    """Own-account transfers (本人账户互转): each secondary account is topped up from the
    main account when its month runs short, or swept back (资金归集) when money piles up."""
    nb = len(ctx.scal)
    key = (main.b.astype(np.int64) * ACCOUNT_SLOTS + main.k) * span + main.m
    signed = np.where(main.inflow, main.amount, -main.amount).astype(np.float64)
    net = np.round(np.bincount(key, weights=signed, minlength=nb * ACCOUNT_SLOTS * span))
    start = np.cumsum(g.n) - g.n
    own = np.flatnonzero(g.cat == Cat.OWN_TRANSFER)
    s0 = start[own]
    ob, ok, om = g.b[own], g.aux[own], g.m[own]
    need = net[(ob * ACCOUNT_SLOTS + ok) * span + om]
    u0, u1 = u[s0], u[s0 + 1]
    top_up = need < 0
    total = np.where(
        top_up,
        np.ceil(-need * (1 + 0.3 * u0[:, 0]) / 1e5) * 1e5,
        np.floor(np.maximum(need, 0) * (0.3 + 0.6 * u0[:, 0]) / 1e4) * 1e4,
    ).astype(np.int64)
    two = total > 2_000_000
    a0 = np.where(two, np.maximum(np.floor(total * (0.3 + 0.4 * u1[:, 0]) / 1e4) * 1e4, 1e4), total)
    a0 = a0.astype(np.int64)
    a1 = np.where(two, total - a0, 0)
    amount = np.concatenate([a0, a1])
    uu = np.concatenate([u0, u1])
    b = np.tile(ob, 2)
    k = np.tile(ok, 2)
    m = np.tile(om, 2)
    up = np.tile(top_up, 2)
    live = amount > 0
    amount, uu, b, k, m, up = amount[live], uu[live], b[live], k[live], m[live], up[live]
    src = np.where(up, 0, k)
    dst = np.where(up, k, 0)
    m_day = ctx.m_day[b, m]
    day = (uu[:, 1] * ctx.m_len[b, m]).astype(np.int64)
    c = np.full(len(b), int(Cat.OWN_TRANSFER))
    ts = (m_day + day) * 86400 + _clock(c, uu[:, 2], uu[:, 3])
    corp = ctx.plan.corporate
    src_corp, dst_corp = corp[b, src], corp[b, dst]
    pick = (uu[:, 5] * 3).astype(np.int64)
    memo = np.where(
        src_corp & ~dst_corp,
        np.array([_MEMO[x] for x in _OWN_MEMO_FROM_COMPANY])[pick],
        np.where(
            dst_corp,
            np.array([_MEMO[x] for x in _OWN_MEMO_TO_COMPANY])[pick],
            np.array([_MEMO[x] for x in _OWN_MEMO_PERSONAL])[pick],
        ),
    )
    channel = np.where(src_corp, _CH["网银"], _CH["手机银行"])
    own_base = ctx.own_offset + b * ACCOUNT_SLOTS
    n = len(b)
    none = np.full(n, -1, dtype=np.int64)
    out_leg = _Txns(
        b, src, ts, amount, np.zeros(n, dtype=bool), c, memo, channel, own_base + dst, none, m
    )
    in_leg = _Txns(
        b, dst, ts, amount, np.ones(n, dtype=bool), c, memo, channel, own_base + src, none, m
    )
    return _Txns.concat([out_leg, in_leg])


def _assemble(
    ctx: _Context,
    ids: Arr,
    t: _Txns,
    window_start: Arr,
    window_end: Arr,
    months: Arr,
    deposit_plan: deposits.DepositPlan,
) -> tuple[Rendered, pl.DataFrame]:
    """Sort by account and time, opening balances, quarterly interest, running balances, the
    frames, and the deposits shown on the check-point and application dates."""
    plan = ctx.plan
    nb = len(ids)
    t0 = int(window_start.min())
    acct = t.b.astype(np.int64) * ACCOUNT_SLOTS + t.k
    key = acct * (1 << 31) + (t.ts - t0)
    order = np.argsort(key, kind="stable")
    acct, key = acct[order], key[order]
    ts = t.ts[order]
    signed = np.where(t.inflow, t.amount, -t.amount)[order]
    n_acc_total = nb * ACCOUNT_SLOTS
    first_row = np.searchsorted(acct, np.arange(n_acc_total), side="left")
    last_row = np.searchsorted(acct, np.arange(n_acc_total), side="right")
    has_rows = last_row > first_row
    cum = _cumsum_by_account(signed, acct, first_row)
    lowest = np.zeros(n_acc_total, dtype=np.int64)
    if len(cum):
        lowest[has_rows] = np.minimum.reduceat(cum, first_row[has_rows])
    all_acct = np.arange(n_acc_total)
    acc_b = all_acct // ACCOUNT_SLOTS
    exists = (all_acct % ACCOUNT_SLOTS) < plan.n_accounts[acc_b]

    # opening balances: every account stays at or above its floor (the buffer), and the
    # business's deposits at the end of the check-point day reach its target if they can
    cp_key = (
        all_acct * (1 << 31) + ((deposit_plan.check_point.astype(np.int64) + 1) * 86400 - t0)[acc_b]
    )
    app_key = (
        all_acct * (1 << 31) + ((deposit_plan.application.astype(np.int64) + 1) * 86400 - t0)[acc_b]
    )
    zero = np.zeros(n_acc_total, dtype=np.int64)
    at_cp = _value_before(key, cum, first_row, zero, cp_key)
    opening = deposits.opening_balances(
        (np.maximum(0, -lowest) * exists).reshape(nb, ACCOUNT_SLOTS),
        (plan.buffer.reshape(-1) * exists).reshape(nb, ACCOUNT_SLOTS),
        at_cp.reshape(nb, ACCOUNT_SLOTS),
        deposit_plan.target_fen,
    ).reshape(-1)
    balance = opening[acct] + cum

    # quarterly interest (结息): the 21st of March, June, September and December
    quarter_end = (months % 12) % 3 == 2  # (B, span)
    qb, qm = np.nonzero(quarter_end)
    x1 = (ctx.m_day[qb, qm] + 20) * 86400
    prev = np.concatenate([[-1], qb[:-1]]) == qb
    x0 = np.where(prev, np.concatenate([[0], x1[:-1]]), window_start[qb])
    q_acct = (qb[:, None] * ACCOUNT_SLOTS + np.arange(ACCOUNT_SLOTS)[None, :]).reshape(-1)
    x0 = np.repeat(x0, ACCOUNT_SLOTS)
    x1 = np.repeat(x1, ACCOUNT_SLOTS)
    live_q = exists[q_acct]
    # order the interest rows by account, then date
    q_order = np.lexsort((x1, q_acct))
    q_acct, x0, x1, live_q = q_acct[q_order], x0[q_order], x1[q_order], live_q[q_order]
    q_acct, x0, x1 = q_acct[live_q], x0[live_q], x1[live_q]
    integral = _balance_integral(
        acct, ts, balance, opening, first_row, window_start, t0, key, q_acct, x1
    ) - _balance_integral(acct, ts, balance, opening, first_row, window_start, t0, key, q_acct, x0)
    interest = np.round(integral / 86400 * INTEREST_RATE / 360).astype(np.int64)
    keep = interest >= 1
    q_acct, x1, interest = q_acct[keep], x1[keep], interest[keep]
    q_key = q_acct * (1 << 31) + (x1 - t0)
    at = np.searchsorted(key, q_key, side="right") + np.arange(len(q_key))
    total_rows = len(acct) + len(q_key)
    is_int = np.zeros(total_rows, dtype=bool)
    is_int[at] = True

    def merged(values: Arr, extra: Arr) -> Arr:
        out = np.empty(total_rows, dtype=np.result_type(values, extra))
        out[~is_int] = values
        out[is_int] = extra
        return out

    n_int = len(q_key)
    acct = merged(acct, q_acct)
    ts = merged(ts, x1)
    signed = merged(signed, interest)
    gen = merged(order, np.full(n_int, -1))
    first_row = np.searchsorted(acct, np.arange(n_acc_total), side="left")
    cum = _cumsum_by_account(signed, acct, first_row)
    balance = opening[acct] + cum
    closing = opening + np.bincount(acct, weights=signed, minlength=n_acc_total).round().astype(
        np.int64
    )
    # the deposits shown (end-of-day balances, interest included), summed over the accounts
    key = acct * (1 << 31) + (ts - t0)
    shown = pl.DataFrame(
        {
            "business_id": ids.astype(np.int64),
            "check_point": deposit_plan.check_point,
            "check_point_fen": (_value_before(key, balance, first_row, opening, cp_key) * exists)
            .reshape(nb, ACCOUNT_SLOTS)
            .sum(axis=1),
            "application": deposit_plan.application,
            "application_fen": (_value_before(key, balance, first_row, opening, app_key) * exists)
            .reshape(nb, ACCOUNT_SLOTS)
            .sum(axis=1),
        }
    ).with_columns(
        pl.col("check_point").cast(pl.Date),
        pl.col("application").cast(pl.Date),
        pl.col("check_point_fen").cast(pl.Int64),
        pl.col("application_fen").cast(pl.Int64),
    )

    b = acct // ACCOUNT_SLOTS
    k = acct % ACCOUNT_SLOTS
    business = ids[b]
    b_first = np.searchsorted(b, np.arange(nb), side="left")
    txn_id = business * TXN_ID_BLOCK + (np.arange(total_rows) - b_first[b])
    real = gen >= 0
    txn_of_gen = np.empty(len(t.b), dtype=np.int64)
    txn_of_gen[gen[real]] = txn_id[real]

    def pick(values: Arr, extra: int) -> Arr:
        out = np.full(total_rows, extra, dtype=np.int64)
        out[real] = values[gen[real]]
        return out

    cat = pick(t.cat, int(Cat.INTEREST))
    memo = pick(t.memo, _MEMO["结息"])
    channel = pick(t.channel, _CH["系统"])
    cp = pick(t.cp, ctx.pools.null)
    pair_gen = pick(t.pair, -1)
    pair = np.where(pair_gen >= 0, txn_of_gen[np.maximum(pair_gen, 0)], 0)

    own_names = pl.Series("name", plan.holder, dtype=pl.String)
    own_accounts = pl.Series("account", plan.number, dtype=pl.String)
    names = pl.concat(
        [ctx.pools.names, own_names, pl.Series("name", plan.related_name, dtype=pl.String)],
        rechunk=True,
    )
    accounts = pl.concat(
        [
            ctx.pools.accounts,
            own_accounts,
            pl.Series("account", plan.related_account, dtype=pl.String),
        ],
        rechunk=True,
    )
    cp_idx = pl.Series(cp.astype(np.uint32))
    transactions = pl.DataFrame(
        {
            "txn_id": txn_id.astype(np.int64),
            "account_id": (business * 10 + k).astype(np.int64),
            "business_id": business.astype(np.int64),
            "ts": pl.Series(ts.astype(np.int64) * 1_000_000).cast(pl.Datetime("us")),
            "date": pl.Series((ts // 86400).astype(np.int32)).cast(pl.Date),
            "direction": pl.Series(["out", "in"]).gather(pl.Series((signed > 0).astype(np.uint32))),
            "amount_fen": np.abs(signed).astype(np.int64),
            "balance_fen": balance.astype(np.int64),
            "counterparty_name": names.gather(cp_idx),
            "counterparty_account": accounts.gather(cp_idx),
            "memo": pl.Series(MEMOS).gather(pl.Series(memo.astype(np.uint32))),
            "channel": pl.Series(CHANNELS).gather(pl.Series(channel.astype(np.uint32))),
        }
    )
    labels = pl.DataFrame(
        {
            "txn_id": txn_id.astype(np.int64),
            "business_id": business.astype(np.int64),
            "category": pl.Series(CATEGORIES).gather(pl.Series(cat.astype(np.uint32))),
            "is_fraud_pattern": (cat == Cat.ROUND_TRIP) | (cat == Cat.CONSULTING_FEE),
            "round_trip_pair": pl.Series(pair.astype(np.int64)),
        }
    ).with_columns(
        pl.when(pl.col("category") == "round_trip")
        .then(pl.col("round_trip_pair"))
        .otherwise(None)
        .alias("round_trip_pair")
    )
    live = np.flatnonzero(exists)
    lb = live // ACCOUNT_SLOTS
    lk = live % ACCOUNT_SLOTS
    first_day = (window_start // 86400).astype(np.int32)[lb]
    last_day = (window_end // 86400).astype(np.int32)[lb]
    accounts_frame = pl.DataFrame(
        {
            "account_id": (ids[lb] * 10 + lk).astype(np.int64),
            "business_id": ids[lb].astype(np.int64),
            "bank_name": [plan.bank_name[i] for i in live],
            "account_no": [plan.number[i] for i in live],
            "holder_name": [plan.holder[i] for i in live],
            "account_kind": np.where(plan.corporate.reshape(-1)[live], "corporate", "personal"),
            "opening_balance_fen": opening[live].astype(np.int64),
            "closing_balance_fen": closing[live].astype(np.int64),
            "first_date": pl.Series(first_day).cast(pl.Date),
            "last_date": pl.Series(last_day).cast(pl.Date),
        },
        schema_overrides={
            "bank_name": pl.String,
            "account_no": pl.String,
            "holder_name": pl.String,
        },
    )
    rendered = Rendered(
        tables={"statements/accounts": accounts_frame, "statements/transactions": transactions},
        truth={"transaction_labels": labels},
    )
    return rendered, shown


def _value_before(key: Arr, values: Arr, first_row: Arr, initial: Arr, threshold: Arr) -> Arr:
    """Per account (``threshold`` holds one sort key per account, in account order): ``values``
    on its last row whose key is below the threshold, or ``initial`` if it has none."""
    j = np.searchsorted(key, threshold, side="left") - 1
    has = j >= first_row
    if not len(values):
        return np.asarray(initial, dtype=np.int64)
    return np.asarray(np.where(has, values[np.maximum(j, 0)], initial), dtype=np.int64)


def _cumsum_by_account(signed: Arr, acct: Arr, first_row: Arr) -> Arr:
    """Cumulative sum of ``signed`` restarting at each account (rows sorted by account)."""
    cum = np.cumsum(signed)
    before = np.concatenate([[0], cum])[first_row]  # cumulative sum before each account
    return np.asarray(cum - before[acct], dtype=np.int64)


def _balance_integral(
    acct: Arr,
    ts: Arr,
    balance: Arr,
    opening: Arr,
    first_row: Arr,
    window_start: Arr,
    t0: int,
    key: Arr,
    q_acct: Arr,
    x: Arr,
) -> Arr:
    """∫ balance dt (fen·seconds) from the window start to ``x`` for the accounts ``q_acct``."""
    n = len(acct)
    start_ts = window_start[acct // ACCOUNT_SLOTS] if n else np.zeros(0, dtype=np.int64)
    prev_bal = np.concatenate([[0], balance[:-1]]) if n else np.zeros(0, dtype=np.int64)
    prev_ts = np.concatenate([[0], ts[:-1]]) if n else np.zeros(0, dtype=np.int64)
    is_first = np.zeros(n, dtype=bool)
    is_first[first_row[first_row < n]] = True
    prev_bal = np.where(is_first, opening[acct], prev_bal)
    prev_ts = np.where(is_first, start_ts, prev_ts)
    step = prev_bal.astype(np.float64) * (ts - prev_ts)
    cum = np.cumsum(step)
    cum_before = np.concatenate([[0.0], cum])[first_row]
    within = cum - cum_before[acct] if n else cum
    j = np.searchsorted(key, q_acct * (1 << 31) + (x - t0), side="right") - 1
    fr = first_row[q_acct]
    none_before = j < fr
    jj = np.maximum(j, 0)
    q_start = window_start[q_acct // ACCOUNT_SLOTS]
    with_rows = within[jj] + balance[jj].astype(np.float64) * (x - ts[jj]) if n else 0.0
    only_opening = opening[q_acct].astype(np.float64) * (x - q_start)
    return np.asarray(np.where(none_before, only_opening, with_rows), dtype=np.float64)
