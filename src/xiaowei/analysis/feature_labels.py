"""Feature labels and reason texts (特征名称与评分原因说明) in Chinese and English.

The credit file and the batch feature table (``xiaowei analyse features``) name their features
``flow_revenue_mean_6m``, ``bureau_hard_inquiries_3m`` …; a scorecard's reason code is such a
name and a bin label of :mod:`xiaowei.scoring.binning` (``[1.2e+04, 3.4e+04)``, ``missing``).
A loan officer reads neither. This module gives

* :func:`feature_label` — the human name of any column of the feature table, e.g.
  ``flow_revenue_mean_6m`` → 近6个月月均营业收入 / "Average monthly revenue, last 6 months";
* :func:`reason_text` — the sentence of a reason code: the label and the applicant's bin made
  readable (amounts in yuan/万元, shares in per cent, counts as whole numbers, yes/no for
  indicators, category names, 缺失/特殊值 for missing and special values), optionally with the
  direction against the feature's best bin (偏低/偏高);
* :func:`feature_group` and :func:`group_label` — the source of a feature (银行流水, 征信 …).

Labels are built, not listed one by one: a table of **stems** per source (the part of the name
between the source prefix and the window, e.g. ``revenue_mean``) carries the English and
Chinese name and the **kind of value** (an amount in fen or in yuan, a share, a count …), and a
window suffix ``_{n}m`` becomes 近n个月 / "last n months". Each stem says what the analysis
code computes (``analysis/flows.py``, ``credit_report.py``, ``financials.py``, ``channels.py``,
``soft.py``, ``network.py``, ``willingness.py``, ``services/features.py``); the Chinese terms
are those of a Chinese bank's credit staff (进账, 日均余额, 硬查询, 多头借贷, 对外担保, 逾期…).
A name outside the tables falls back on its suffix (``_fen`` = an amount in fen, ``_share`` and
``_rate`` = a share, ``_count`` = a count, ``_ratio`` = a ratio, ``_trend`` = a change) and, for
a known source prefix, on the words of its stem; an unknown name is its own label — never an
error, since users bring their own columns.

Units: money of the statements, financials, channels and network is integer **fen**; money of
the credit report (``bureau_*``) and of willingness (``will_*``) is **yuan**, as the report
gives it (``credit_report.py``: "total outstanding (余额, integer yuan)").

Pure: no I/O, no import outside the standard library and :mod:`xiaowei.core`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

from xiaowei.core.i18n import Lang

__all__ = [
    "GROUPS",
    "ValueKind",
    "bin_text",
    "feature_group",
    "feature_kind",
    "feature_label",
    "group_label",
    "reason_text",
]


class ValueKind(StrEnum):
    """How a feature's values (and so its bin edges) read (取值类型)."""

    FEN = "fen"  # money in fen (分), shown in yuan / 万元
    YUAN = "yuan"  # money in yuan (元), shown in yuan / 万元
    SHARE = "share"  # a share or rate in [0, 1], shown in per cent
    CHANGE = "change"  # a relative change (0.05 = +5 %), shown as a signed per cent
    POINTS = "points"  # a difference of two shares, in percentage points (个百分点)
    COUNT = "count"  # a non-negative whole number: bins become whole-number ranges
    NUMBER = "number"  # any other number (ratios, indices, years, means of counts)
    FLAG = "flag"  # 0 / 1: bins become yes / no
    EDUCATION = "education"  # soft.Education, 0 小学及以下 … 4 本科及以上
    CATEGORY = "category"  # a string column; bin labels are groups of levels


@dataclass(frozen=True)
class _Stem:
    en: str
    zh: str
    kind: ValueKind


_K = ValueKind

#: Sources of the feature table (the prefix of a feature's name) and their names.
GROUPS: dict[str, tuple[str, str]] = {
    "flow": ("Bank statements", "银行流水"),
    "bureau": ("Credit report", "征信"),
    "fin": ("Financials (IPC)", "财务（IPC）"),
    "pos": ("POS acquiring", "POS收单"),
    "ecom": ("E-commerce", "电商"),
    "att": ("Attendance", "考勤"),
    "soft": ("Soft information", "软信息"),
    "net": ("Network", "关联网络"),
    "will": ("Willingness to repay", "还款意愿"),
    "application": ("Application", "申请信息"),
    "other": ("Other", "其他"),
}

# --- stems per source ---------------------------------------------------------------------------
# A stem with a window (``_3m`` …) reads "近3个月" + zh / en + ", last 3 months".

_FLOW: dict[str, _Stem] = {
    "inflow": _Stem("Total inflows", "进账总额", _K.FEN),
    "outflow": _Stem("Total outflows", "出账总额", _K.FEN),
    "net": _Stem("Net cash flow", "净现金流", _K.FEN),
    # revenue estimate (经营收入估算): inflows less own transfers, loans, refunds, interest …
    "revenue": _Stem("Total revenue (statement estimate)", "营业收入合计（流水估算）", _K.FEN),
    "months": _Stem("Months of statements", "流水覆盖月数", _K.COUNT),
    "revenue_mean": _Stem("Average monthly revenue", "月均营业收入", _K.FEN),
    # OLS slope of monthly revenue over its mean: a share of the mean per month
    "revenue_trend": _Stem("Revenue trend per month", "营业收入月均变动率", _K.CHANGE),
    "revenue_cv": _Stem(
        "Revenue volatility (coefficient of variation)", "营业收入波动系数", _K.NUMBER
    ),
    "seasonality_index": _Stem(
        "Seasonality index (peak month ÷ mean)", "季节性指数（峰值月/月均）", _K.NUMBER
    ),
    "adb_mean": _Stem("Average daily balance", "日均余额", _K.FEN),
    "low_balance_months": _Stem("Months with a low balance", "低余额月数", _K.COUNT),
    "negative_balance_months": _Stem("Months with a negative balance", "负余额月数", _K.COUNT),
    "low_balance_days": _Stem("Days with a low balance", "低余额天数", _K.COUNT),
    "turnover_adb_ratio": _Stem(
        "Monthly inflows ÷ average daily balance", "月均进账/日均余额", _K.NUMBER
    ),
    "quarter_end_spike": _Stem(
        "Quarter-end balance ÷ average daily balance", "季末余额/日均余额（季末冲时点）", _K.NUMBER
    ),
    "payroll": _Stem("Payroll paid", "代发工资总额", _K.FEN),
    "employees_proxy": _Stem(
        "Employees paid through the bank (monthly mean)", "代发工资人数（月均）", _K.NUMBER
    ),
    "tax": _Stem("Taxes paid", "纳税支出", _K.FEN),
    "social_insurance": _Stem("Social insurance paid", "社保缴费", _K.FEN),
    "cash_withdrawal": _Stem("Cash withdrawals", "取现金额", _K.FEN),
    "cash_share": _Stem("Cash withdrawals' share of outflows", "取现占出账比例", _K.SHARE),
    "lender_repayment": _Stem("Repayments to lenders", "流水中还贷金额", _K.FEN),
    "lender_count": _Stem("Lenders repaid", "流水中还款机构数", _K.COUNT),
    "gambling": _Stem("Gambling-related payments", "涉赌交易金额", _K.FEN),
    "night_share": _Stem("Night-time transactions' share", "夜间交易占比", _K.SHARE),
    "round_trip_pairs": _Stem(
        "Round-trip pairs (quick in, quick out)", "快进快出交易对数", _K.COUNT
    ),
    "customer_top1_share": _Stem("Largest customer's share", "第一大客户占比", _K.SHARE),
    "customer_top5_share": _Stem("Top-5 customers' share", "前五大客户占比", _K.SHARE),
    "customer_hhi": _Stem("Customer concentration (HHI)", "客户集中度（HHI）", _K.NUMBER),
    "customer_count": _Stem("Customers", "客户数", _K.COUNT),
    "supplier_top1_share": _Stem("Largest supplier's share", "第一大供应商占比", _K.SHARE),
    "supplier_top5_share": _Stem("Top-5 suppliers' share", "前五大供应商占比", _K.SHARE),
    "supplier_hhi": _Stem("Supplier concentration (HHI)", "供应商集中度（HHI）", _K.NUMBER),
    "supplier_count": _Stem("Suppliers", "供应商数", _K.COUNT),
}

# Repayment status k (还款状态) = k 30-day bands past due: ≥ 3 is more than 60 days, 7 more
# than 180 (credit_report_schema.REPAYMENT_STATUS).
_BUREAU: dict[str, _Stem] = {
    "overdue_months": _Stem("Overdue account-months", "逾期账户月数", _K.COUNT),
    "overdue_months_3plus": _Stem(
        "Account-months over 60 days past due", "逾期60天以上账户月数", _K.COUNT
    ),
    "overdue_months_7": _Stem(
        "Account-months over 180 days past due", "逾期180天以上账户月数", _K.COUNT
    ),
    "max_status": _Stem("Worst repayment status (0–7)", "最高逾期状态（0–7）", _K.COUNT),
    "longest_overdue_run": _Stem("Longest run of overdue months", "最长连续逾期月数", _K.COUNT),
    "overdue_amount_sum": _Stem("Overdue amounts, sum over months", "逾期金额累计", _K.YUAN),
    "overdue_amount_max": _Stem("Largest monthly overdue amount", "单月最高逾期金额", _K.YUAN),
    "trend_overdue_months_recent": _Stem(
        "Overdue account-months, recent trend period", "逾期账户月数（趋势近期）", _K.COUNT
    ),
    "trend_overdue_months_prior": _Stem(
        "Overdue account-months, earlier trend period", "逾期账户月数（趋势前期）", _K.COUNT
    ),
    "trend_max_status_recent": _Stem(
        "Worst repayment status, recent trend period", "最高逾期状态（趋势近期）", _K.COUNT
    ),
    "trend_max_status_prior": _Stem(
        "Worst repayment status, earlier trend period", "最高逾期状态（趋势前期）", _K.COUNT
    ),
    "hard_inquiries": _Stem("Hard inquiries", "硬查询次数", _K.COUNT),
    "hard_inquiry_institutions": _Stem(
        "Institutions making hard inquiries", "硬查询机构数", _K.COUNT
    ),
    "inquiries_loan": _Stem("Inquiries for loan approval", "贷款审批查询次数", _K.COUNT),
    "inquiries_card": _Stem("Inquiries for card approval", "信用卡审批查询次数", _K.COUNT),
    "inquiries_guarantee": _Stem(
        "Inquiries for guarantor qualification", "担保资格审查查询次数", _K.COUNT
    ),
    "inquiries_pre_guarantee": _Stem(
        "Inquiries for pre-guarantee review", "保前审查查询次数", _K.COUNT
    ),
    "inquiries_financing": _Stem("Inquiries for financing approval", "融资审批查询次数", _K.COUNT),
    "inquiries_limit": _Stem("Inquiries for credit-limit approval", "额度审批查询次数", _K.COUNT),
    "inquiries_post_loan": _Stem("Post-loan monitoring inquiries", "贷后管理查询次数", _K.COUNT),
    "accounts_total": _Stem("Credit accounts, total", "信贷账户总数", _K.COUNT),
    "accounts_open": _Stem("Open accounts", "未结清账户数", _K.COUNT),
    "accounts_open_d1": _Stem(
        "Open non-revolving loan accounts (D1)", "未结清非循环贷账户数", _K.COUNT
    ),
    "accounts_open_r1": _Stem("Open revolving loan accounts (R1)", "未结清循环贷账户数", _K.COUNT),
    "accounts_open_r2": _Stem("Open credit-card accounts (R2)", "未销户贷记卡账户数", _K.COUNT),
    "accounts_open_r3": _Stem(
        "Open semi-credit-card accounts (R3)", "未销户准贷记卡账户数", _K.COUNT
    ),
    "accounts_open_r4": _Stem(
        "Open sub-accounts of revolving limits (R4)", "未结清循环额度下分账户数", _K.COUNT
    ),
    "accounts_open_c1": _Stem("Open collection accounts (C1)", "未结清催收账户数", _K.COUNT),
    "new_accounts": _Stem("New accounts opened", "新开账户数", _K.COUNT),
    "credit_history_months": _Stem(
        "Length of credit history (months)", "信用历史长度（月）", _K.COUNT
    ),
    # open loans (D1/R1/R4) by institution: the multi-lending (多头借贷) measure
    "lending_institutions": _Stem(
        "Institutions with open loans", "未结清贷款机构数（多头借贷）", _K.COUNT
    ),
    "lending_institutions_bank": _Stem("Banks with open loans", "未结清贷款银行数", _K.COUNT),
    "lending_institutions_nonbank": _Stem(
        "Non-bank lenders with open loans", "未结清贷款非银机构数", _K.COUNT
    ),
    "total_outstanding": _Stem(
        "Outstanding balance, all open accounts", "未结清账户余额合计（征信负债）", _K.YUAN
    ),
    "loan_outstanding": _Stem("Outstanding loans", "贷款余额", _K.YUAN),
    "nonbank_outstanding": _Stem("Outstanding non-bank loans", "非银机构贷款余额", _K.YUAN),
    "collection_outstanding": _Stem("Balance in collection", "催收账户余额", _K.YUAN),
    "collection_accounts": _Stem("Collection accounts (C1)", "催收账户数", _K.COUNT),
    "cards_open": _Stem("Open cards", "未销户信用卡数", _K.COUNT),
    "card_limit_total": _Stem("Card limits, total", "信用卡授信总额", _K.YUAN),
    "card_used_total": _Stem("Card limits used, total", "信用卡已用额度", _K.YUAN),
    "card_utilisation": _Stem("Card utilisation (used ÷ limits)", "信用卡总使用率", _K.SHARE),
    "card_utilisation_max": _Stem("Highest single-card utilisation", "单卡最高使用率", _K.SHARE),
    "monthly_debt_service": _Stem("Monthly debt service (credit report)", "征信月还款额", _K.YUAN),
    "current_overdue_amount": _Stem("Amount overdue now", "当前逾期金额", _K.YUAN),
    "accounts_delinquent_now": _Stem("Accounts overdue now", "当前逾期账户数", _K.COUNT),
    "bad_status_accounts": _Stem(
        "Accounts ended badly (G/D/Z)", "非正常结束账户数（G/D/Z）", _K.COUNT
    ),
    "accounts_concern_class": _Stem(
        "Open accounts classed special mention", "五级分类关注类账户数", _K.COUNT
    ),
    "accounts_bad_class": _Stem(
        "Open accounts classed non-performing", "五级分类不良账户数", _K.COUNT
    ),
    "special_transactions": _Stem("Special transactions", "特殊交易笔数", _K.COUNT),
    "special_adverse": _Stem(
        "Adverse special transactions (guarantor payment, foreclosure …)",
        "不利特殊交易笔数（代偿、以资抵债等）",
        _K.COUNT,
    ),
    "guarantees": _Stem("Guarantees given", "对外担保笔数", _K.COUNT),
    "guarantees_liability": _Stem("Guarantee liability", "对外担保责任金额", _K.YUAN),
    "guarantees_balance": _Stem("Balance of guaranteed debts", "对外担保余额", _K.YUAN),
    "guarantees_concern": _Stem(
        "Guarantees classed special mention", "对外担保关注类笔数", _K.COUNT
    ),
    "guarantees_bad": _Stem("Guarantees classed non-performing", "对外担保不良笔数", _K.COUNT),
    "guarantees_overdue": _Stem("Guarantees of overdue debts", "对外担保逾期笔数", _K.COUNT),
    "public_records": _Stem("Public records", "公共记录条数", _K.COUNT),
    "public_records_amount": _Stem("Amount of public records", "公共记录涉及金额", _K.YUAN),
    "tax_arrears": _Stem("Tax-arrears records", "欠税记录条数", _K.COUNT),
    "civil_judgments": _Stem("Civil judgments", "民事判决记录条数", _K.COUNT),
    "enforcements": _Stem("Enforcement records", "强制执行记录条数", _K.COUNT),
    "penalties": _Stem("Administrative penalties", "行政处罚记录条数", _K.COUNT),
    # enterprise reports (企业信用报告): five-category classes, no monthly status
    "accounts_settled": _Stem("Settled accounts (enterprise)", "已结清账户数", _K.COUNT),
    "accounts_normal": _Stem(
        "Open accounts classed normal (enterprise)", "正常类未结清账户数", _K.COUNT
    ),
    "accounts_concern": _Stem(
        "Open accounts classed special mention (enterprise)", "关注类未结清账户数", _K.COUNT
    ),
    "accounts_bad": _Stem(
        "Open accounts classed non-performing (enterprise)", "不良类未结清账户数", _K.COUNT
    ),
    "outstanding_normal": _Stem("Outstanding, normal class (enterprise)", "正常类余额", _K.YUAN),
    "outstanding_concern": _Stem(
        "Outstanding, special-mention class (enterprise)", "关注类余额", _K.YUAN
    ),
    "outstanding_bad": _Stem(
        "Outstanding, non-performing class (enterprise)", "不良类余额", _K.YUAN
    ),
    "overdue_amount": _Stem("Overdue amount (enterprise)", "逾期总额", _K.YUAN),
    "overdue_principal": _Stem("Overdue principal (enterprise)", "逾期本金", _K.YUAN),
    "settled_concern": _Stem(
        "Settled accounts once special mention (enterprise)", "已结清曾关注类账户数", _K.COUNT
    ),
    "settled_bad": _Stem(
        "Settled accounts once non-performing (enterprise)", "已结清曾不良账户数", _K.COUNT
    ),
    "ever_bad": _Stem("Accounts ever non-performing (enterprise)", "曾为不良的账户数", _K.COUNT),
}

_FIN: dict[str, _Stem] = {
    "sales_fen": _Stem("Declared sales, statement period", "申报销售额（报表期间）", _K.FEN),
    "annual_sales_fen": _Stem("Declared annual sales", "申报年销售额（年化）", _K.FEN),
    "gross_margin": _Stem("Gross margin (income statement)", "毛利率（损益表）", _K.SHARE),
    "net_margin": _Stem("Net margin", "净利率", _K.SHARE),
    "current_ratio": _Stem("Current ratio", "流动比率", _K.NUMBER),
    "quick_ratio": _Stem("Quick ratio", "速动比率", _K.NUMBER),
    "debt_ratio": _Stem("Debt ratio (liabilities ÷ assets)", "资产负债率", _K.SHARE),
    "inventory_turnover": _Stem(
        "Inventory turnover (times a year)", "存货周转率（次/年）", _K.NUMBER
    ),
    "receivable_turnover": _Stem(
        "Receivable turnover (times a year)", "应收账款周转率（次/年）", _K.NUMBER
    ),
    "debt_to_sales": _Stem("Borrowings ÷ annual sales", "借款/年销售额（负债销售比）", _K.SHARE),
    "monthly_disposable_income_fen": _Stem("Monthly disposable income", "月可支配收入", _K.FEN),
    "equity_deviation_rate": _Stem(
        "Equity cross-check deviation (of period profit)",
        "权益交叉检验偏差率（对期间利润）",
        _K.CHANGE,
    ),
    "equity_deviation_rate_equity": _Stem(
        "Equity cross-check deviation (of equity)", "权益交叉检验偏差率（对所有者权益）", _K.CHANGE
    ),
    "weighted_gross_margin": _Stem("Product-weighted gross margin", "产品加权毛利率", _K.SHARE),
    "margin_difference": _Stem(
        "Gross margin: statement minus product-weighted",
        "损益表毛利率与产品加权毛利率之差",
        _K.POINTS,
    ),
    "sales_deviation": _Stem(
        "Sales cross-check deviation (declared vs verified)",
        "销售额交叉检验偏差率（申报与核实）",
        _K.CHANGE,
    ),
    "sales_spread": _Stem("Spread of the sales-check sources", "销售额核实来源离散度", _K.SHARE),
    "sales_sources_used": _Stem("Sources in the sales cross-check", "销售额核实来源数", _K.COUNT),
    "installment_ratio": _Stem(
        "Installments ÷ disposable income (with the new loan)",
        "月供收入比（含新增月供）",
        _K.SHARE,
    ),
    "max_affordable_fen": _Stem("Maximum affordable loan", "最大可承受贷款额", _K.FEN),
}

_POS: dict[str, _Stem] = {
    "months": _Stem("Months with POS settlements", "有POS收单月数", _K.COUNT),
    "gross_fen": _Stem("Average monthly POS takings", "月均POS收单金额", _K.FEN),
    "net_fen": _Stem("Average monthly POS net settlements", "月均POS净结算金额", _K.FEN),
    "txn_count": _Stem("Average monthly POS transactions", "月均POS交易笔数", _K.NUMBER),
    "avg_ticket_fen": _Stem("POS average ticket", "POS客单价", _K.FEN),
    "active_days": _Stem("POS trading days per month", "月均POS交易天数", _K.NUMBER),
    "refund_rate": _Stem("POS refund rate", "POS退款率", _K.SHARE),
    "to_bank_inflow": _Stem("POS net settlements ÷ bank inflows", "POS净结算/银行进账", _K.NUMBER),
    # last trend_months over the ones before, minus one (channels._trend)
    "gross_trend": _Stem(
        "POS takings, change recent vs earlier months", "POS收单金额环比变化", _K.CHANGE
    ),
}

_ECOM: dict[str, _Stem] = {
    "months": _Stem("Months with online sales", "有电商销售月数", _K.COUNT),
    "gmv_fen": _Stem("Average monthly online GMV", "月均电商成交额（GMV）", _K.FEN),
    "orders": _Stem("Average monthly online orders", "月均电商订单数", _K.NUMBER),
    "aov_fen": _Stem("Online average order value", "电商客单价", _K.FEN),
    "refund_rate": _Stem("Online refund rate (amount)", "电商退款率（金额）", _K.SHARE),
    "refund_order_rate": _Stem("Online refund rate (orders)", "电商退款率（订单）", _K.SHARE),
    "rating": _Stem("Store rating", "店铺评分", _K.NUMBER),
    "negative_review_rate": _Stem("Negative-review rate", "差评率", _K.SHARE),
    "gmv_trend": _Stem(
        "Online GMV, change recent vs earlier months", "电商成交额环比变化", _K.CHANGE
    ),
    "store_age_months": _Stem("Age of the oldest store (months)", "最早店铺开店月数", _K.COUNT),
    "stores": _Stem("Online stores", "网店数", _K.COUNT),
}

_ATT: dict[str, _Stem] = {
    "months": _Stem("Months with attendance data", "有考勤数据月数", _K.COUNT),
    "rate": _Stem("Attendance rate", "出勤率", _K.SHARE),
    "late_rate": _Stem("Late-arrival rate", "迟到率", _K.SHARE),
    "absent_rate": _Stem("Absence rate", "缺勤率", _K.SHARE),
    "leave_rate": _Stem("Leave rate", "请假率", _K.SHARE),
    "staff": _Stem("Average staff on a working day", "日均在岗人数", _K.NUMBER),
    "approvals_per_staff": _Stem("Approvals per staff member per month", "人均月审批数", _K.NUMBER),
    # recent rate minus earlier rate: a difference of shares
    "rate_trend": _Stem(
        "Attendance rate, change recent vs earlier months", "出勤率环比变化", _K.POINTS
    ),
}

_SOFT: dict[str, _Stem] = {
    "owner_age": _Stem("Owner's age", "经营者年龄", _K.NUMBER),
    "owner_married": _Stem("Owner married", "经营者已婚", _K.FLAG),
    "owner_education": _Stem("Owner's education", "经营者学历", _K.EDUCATION),
    "years_in_business": _Stem("Years in business", "经营年限（年）", _K.NUMBER),
    "years_at_residence": _Stem(
        "Years at the current residence", "现住址居住年限（年）", _K.NUMBER
    ),
    "household_size": _Stem("Household size", "家庭人口数", _K.COUNT),
    "children": _Stem("Children", "子女数", _K.COUNT),
    # household size − 1 (soft.static_features)
    "dependants": _Stem("Household members besides the owner", "共同生活家庭成员数", _K.COUNT),
    "spouse_involved": _Stem("Spouse involved in the business", "配偶参与经营", _K.FLAG),
    "local_resident": _Stem("Local resident", "本地常住居民", _K.FLAG),
    "owns_home": _Stem("Owns a home", "拥有自有住房", _K.FLAG),
    "overdue_months": _Stem("Overdue months (soft information)", "逾期月数（软信息）", _K.COUNT),
    "deviation_rate": _Stem(
        "Deviation rate of the soft-information grid", "不对称信息偏差率", _K.SHARE
    ),
    "weighted_deviation_rate": _Stem(
        "Weighted deviation rate of the soft-information grid", "不对称信息加权偏差率", _K.SHARE
    ),
    "favourable_items": _Stem("Favourable grid items", "有利项数", _K.COUNT),
    "neutral_items": _Stem("Neutral grid items", "中性项数", _K.COUNT),
    "risky_items": _Stem("Risky grid items", "风险项数", _K.COUNT),
}

_NET: dict[str, _Stem] = {
    "guarantors": _Stem("Businesses guaranteeing the applicant", "为本户担保的企业数", _K.COUNT),
    "guaranteed": _Stem("Businesses the applicant guarantees", "本户担保的企业数", _K.COUNT),
    "in_circle": _Stem("In a guarantee circle", "处于担保圈", _K.FLAG),
    "circle_count": _Stem("Guarantee circles through the applicant", "涉及担保圈数", _K.COUNT),
    "scc_size": _Stem(
        "Size of its mutual-guarantee group (strongly connected)", "互保强连通组规模", _K.COUNT
    ),
    "chain_length": _Stem("Longest guarantee chain through it", "最长担保链长度", _K.COUNT),
    "exposure_direct_fen": _Stem("Direct guarantee exposure", "直接担保敞口", _K.FEN),
    "exposure_indirect_fen": _Stem(
        "Indirect guarantee exposure (decayed by link)", "间接担保敞口（逐层衰减）", _K.FEN
    ),
    "exposure_total_fen": _Stem("Total guarantee-network exposure", "担保网络总敞口", _K.FEN),
    "reach": _Stem("Businesses whose default can reach it", "违约可传导至本户的企业数", _K.COUNT),
    "related_group_size": _Stem("Size of its related-party group", "关联企业群规模", _K.COUNT),
}

_WILL: dict[str, _Stem] = {
    "cost_of_default": _Stem("Money cost of default", "违约成本", _K.YUAN),
    "exposure": _Stem("Exposure for willingness", "意愿评估敞口", _K.YUAN),
    "margin": _Stem("Willingness margin (cost − exposure)", "意愿余量（违约成本 − 敞口）", _K.YUAN),
    "ratio": _Stem("Cost of default ÷ exposure", "违约成本/敞口", _K.NUMBER),
    "overdue_months": _Stem("Overdue months (willingness)", "逾期月数（还款意愿）", _K.COUNT),
    "deviation_rate": _Stem("Deviation rate (willingness)", "偏差率（还款意愿）", _K.SHARE),
}

_STEMS: dict[str, dict[str, _Stem]] = {
    "flow": _FLOW,
    "bureau": _BUREAU,
    "fin": _FIN,
    "pos": _POS,
    "ecom": _ECOM,
    "att": _ATT,
    "soft": _SOFT,
    "net": _NET,
    "will": _WILL,
}

#: The application's own columns (services/features.py APPLICATION_COLUMNS) and the outcome.
_APPLICATION: dict[str, _Stem] = {
    "business_id": _Stem("Business ID", "企业编号", _K.NUMBER),
    "application_date": _Stem("Application date", "申请日期", _K.NUMBER),
    "industry": _Stem("Industry", "行业", _K.CATEGORY),
    "region": _Stem("Region", "地区", _K.CATEGORY),
    "legal_form": _Stem("Legal form", "组织形式", _K.CATEGORY),
    "requested_amount_fen": _Stem("Requested amount", "申请金额", _K.FEN),
    "requested_term": _Stem("Requested term (months)", "申请期限（月）", _K.COUNT),
    "default_12m": _Stem(
        "Default within 12 months (90+ days past due)", "12个月内违约（逾期90天以上）", _K.FLAG
    ),
}

#: Level names of the application's categorical columns (simulate/config.py names them).
_LEVELS: dict[str, dict[str, tuple[str, str]]] = {
    "industry": {
        "trade": ("wholesale and retail trade", "商贸批发零售"),
        "manufacturing": ("manufacturing", "加工制造"),
        "service": ("services", "生活服务"),
        "catering": ("catering", "餐饮"),
        "agriculture": ("agriculture", "种养殖"),
        "ecommerce": ("e-commerce", "电子商务"),
    },
    "region": {
        "HZ": ("Hangzhou", "杭州"),
        "TZ": ("Taizhou", "台州"),
        "SZ": ("Suzhou", "苏州"),
        "CD": ("Chengdu", "成都"),
        "ZZ": ("Zhengzhou", "郑州"),
        "GZ": ("Ganzhou", "赣州"),
        "NN": ("Nanning", "南宁"),
        "HLD": ("Huludao", "葫芦岛"),
    },
    "legal_form": {
        "个体工商户": ("individual business (getihu)", "个体工商户"),
        "有限责任公司": ("limited liability company", "有限责任公司"),
        "合伙企业": ("partnership", "合伙企业"),
    },
}

#: soft.Education, in order.
_EDUCATION = (
    ("primary school or less", "小学及以下"),
    ("middle school", "初中"),
    ("high school or technical secondary", "高中/中专"),
    ("junior college", "大专"),
    ("university", "本科及以上"),
)

# Windows: ``_3m`` … ``_24m`` at the end of a name (flows 3/6/12, channels 3/6/12, credit
# report 1/3/6/12/24).
_WINDOW = re.compile(r"^(?P<stem>.+)_(?P<months>\d{1,2})m$")

# Suffix rules for stems outside the tables, first match wins.
_SUFFIX_KINDS: tuple[tuple[str, ValueKind], ...] = (
    ("_fen", _K.FEN),
    ("_yuan", _K.YUAN),
    ("_share", _K.SHARE),
    ("_rate", _K.SHARE),
    ("_trend", _K.CHANGE),
    ("_count", _K.COUNT),
    ("_months", _K.COUNT),
    ("_days", _K.COUNT),
    ("_ratio", _K.NUMBER),
)


@dataclass(frozen=True)
class _Parsed:
    group: str
    en: str
    zh: str
    kind: ValueKind


def _pick(en: str, zh: str, lang: Lang) -> str:
    return zh if lang == "zh-CN" else en


def _split_window(stem: str) -> tuple[str, int | None]:
    match = _WINDOW.match(stem)
    if match is None:
        return stem, None
    return match["stem"], int(match["months"])


def _with_window(stem: _Stem, months: int | None) -> tuple[str, str]:
    if months is None:
        return stem.en, stem.zh
    en_window = "last month" if months == 1 else f"last {months} months"
    return f"{stem.en}, {en_window}", f"近{months}个月{stem.zh}"


def _suffix_kind(name: str) -> ValueKind:
    base, _ = _split_window(name)
    for suffix, kind in _SUFFIX_KINDS:
        if base.endswith(suffix):
            return kind
    return _K.NUMBER


def _parse(name: str) -> _Parsed:
    if name in _APPLICATION:
        s = _APPLICATION[name]
        return _Parsed("application", s.en, s.zh, s.kind)
    prefix, _, rest = name.partition("_")
    table = _STEMS.get(prefix)
    if table is None or not rest:
        return _Parsed("other", name, name, _suffix_kind(name))
    if rest in table:  # a stem without window, or one whose name ends like a window
        s = table[rest]
        return _Parsed(prefix, s.en, s.zh, s.kind)
    stem, months = _split_window(rest)
    if stem in table:
        en, zh = _with_window(table[stem], months)
        return _Parsed(prefix, en, zh, table[stem].kind)
    # a source we know, a stem we do not: its words, marked with the source's name
    unit_free = re.sub(r"_(fen|yuan)$", "", stem)
    words = unit_free.replace("_", " ").strip()
    group_en, group_zh = GROUPS[prefix]
    fallback = _Stem(words[:1].upper() + words[1:], f"{group_zh}：{words}", _suffix_kind(rest))
    en, zh = _with_window(fallback, months)
    return _Parsed(prefix, f"{en} ({group_en.lower()})", zh, fallback.kind)


def feature_group(name: str) -> str:
    """The source of a feature: ``flow``, ``bureau``, ``fin``, ``pos``, ``ecom``, ``att``,
    ``soft``, ``net``, ``will``, ``application`` (the application's own columns and the
    outcome) or ``other`` (a name this module does not know)."""
    return _parse(name).group


def group_label(group: str, lang: Lang) -> str:
    """The name of a source (数据来源), e.g. ``bureau`` → 征信 / "Credit report"; an unknown
    group is its own label."""
    en, zh = GROUPS.get(group, (group, group))
    return _pick(en, zh, lang)


def feature_label(name: str, lang: Lang) -> str:
    """The human name of a feature (特征名称), e.g. ``bureau_hard_inquiries_3m`` → 近3个月硬查询
    次数 / "Hard inquiries, last 3 months". An unknown name is returned as it is."""
    parsed = _parse(name)
    return _pick(parsed.en, parsed.zh, lang)


def feature_kind(name: str) -> ValueKind:
    """How the feature's values read (an amount in fen or yuan, a share, a count …): from the
    stem tables, else from the name's suffix (``_fen``, ``_share``, ``_rate``, ``_count`` …),
    else a plain number."""
    return _parse(name).kind


# --- bin labels ---------------------------------------------------------------------------------

_INTERVAL = re.compile(r"^(?P<open>[\[(])(?P<lo>[^,\s]+), (?P<hi>[^,\s]+)\)$")
_SPECIAL = "special "
_MISSING = "missing"
_UNSEEN = " (+unseen)"
_OTHER = "__other__"


@dataclass(frozen=True)
class _Interval:
    lo: float  # -inf when open below
    hi: float  # inf when open above


def _parse_interval(label: str) -> _Interval | None:
    match = _INTERVAL.match(label.strip())
    if match is None:
        return None
    try:
        lo, hi = float(match["lo"]), float(match["hi"])
    except ValueError:
        return None
    if math.isnan(lo) or math.isnan(hi) or lo >= hi:
        return None
    return _Interval(lo, hi)


def _group_digits(v: float) -> str:
    """Whole number with thousands separators, halves rounded up (四舍五入, the project's
    display rule; Python's ``round`` would round half to even)."""
    return f"{math.floor(v + 0.5):,d}"


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _money(yuan: float, lang: Lang) -> str:
    """Yuan as a credit officer writes it: 7,865元 / 3.2万元 / 1.25亿元 / 50.55元;
    CNY 32,000 / CNY 50.55 (whole yuan from 100 up, fen below)."""
    size = abs(yuan)
    sign = "-" if yuan < 0 else ""
    if lang == "zh-CN" and size >= 1e8:
        return f"{sign}{_trim(f'{size / 1e8:.2f}')}亿元"
    if lang == "zh-CN" and size >= 1e4:
        return f"{sign}{_trim(f'{size / 1e4:.2f}')}万元"
    digits = _trim(f"{size:.2f}") if size < 100 else _group_digits(size)
    return f"{sign}{digits}元" if lang == "zh-CN" else f"CNY {sign}{digits}"


def _number(v: float) -> str:
    if float(v).is_integer():
        return _group_digits(v)
    if abs(v) >= 100:
        return _group_digits(v)
    text = f"{v:.3g}"
    if "e" in text:  # tiny values: keep them readable, not in exponent form
        text = _trim(f"{v:.6f}")
    return text


def _percent(share: float, *, signed: bool = False) -> str:
    text = _number(share * 100)
    if signed and share > 0:
        text = "+" + text
    return f"{text}%"


def _value(v: float, kind: ValueKind, lang: Lang) -> str:
    if kind is _K.FEN:
        return _money(v / 100, lang)
    if kind is _K.YUAN:
        return _money(v, lang)
    if kind is _K.SHARE:
        return _percent(v)
    if kind is _K.CHANGE:
        return _percent(v, signed=True)
    if kind is _K.POINTS:
        text = _number(v * 100)
        text = "+" + text if v > 0 else text
        return f"{text}个百分点" if lang == "zh-CN" else f"{text} pp"
    return _number(v)


def _range(a: str, b: str, lang: Lang) -> str:
    return f"{a}至{b}" if lang == "zh-CN" else f"{a} to {b}"


def _whole_range(iv: _Interval, *, floor: int | None) -> tuple[int | None, int | None] | None:
    """The whole numbers in [lo, hi): (first, last), None for an unbounded end (below only
    when there is no ``floor``); None when the interval holds no whole number."""
    first = floor if iv.lo == -math.inf else math.ceil(iv.lo)
    if floor is not None and first is not None:
        first = max(first, floor)
    last = None if iv.hi == math.inf else math.ceil(iv.hi) - 1
    if first is not None and last is not None and first > last:
        return None
    return first, last


def _count_text(iv: _Interval, lang: Lang) -> str | None:
    span = _whole_range(iv, floor=0)
    if span is None:
        return None
    first, last = span
    if last is None:
        return f"≥ {_number(first or 0)}"
    if first == last:
        return _number(last)
    return _range(_number(first or 0), _number(last), lang)


def _flag_text(iv: _Interval, lang: Lang) -> str | None:
    span = _whole_range(iv, floor=0)
    if span is None:
        return None
    first, last = span
    values = {v for v in (0, 1) if (first or 0) <= v and (last is None or v <= last)}
    if values == {0}:
        return _pick("no", "否", lang)
    if values == {1}:
        return _pick("yes", "是", lang)
    return None


def _education_text(iv: _Interval, lang: Lang) -> str | None:
    span = _whole_range(iv, floor=0)
    top = len(_EDUCATION) - 1
    if span is None:
        return None
    first, last = span[0] or 0, top if span[1] is None else min(span[1], top)
    if first > top:
        return None

    def name(i: int) -> str:
        en, zh = _EDUCATION[i]
        return _pick(en, zh, lang)

    if first == last:
        return name(first)
    if first == 0:
        return f"{name(last)}及以下" if lang == "zh-CN" else f"{name(last)} or less"
    if last == top:
        return f"{name(first)}及以上" if lang == "zh-CN" else f"{name(first)} or more"
    return _range(name(first), name(last), lang)


def _interval_text(iv: _Interval, kind: ValueKind, lang: Lang) -> str:
    special = {
        _K.COUNT: _count_text,
        _K.FLAG: _flag_text,
        _K.EDUCATION: _education_text,
    }.get(kind)
    if special is not None:
        text = special(iv, lang)
        if text is not None:
            return text
    shown = _K.NUMBER if kind in (_K.FLAG, _K.EDUCATION, _K.COUNT) else kind
    if iv.lo == -math.inf:
        return f"< {_value(iv.hi, shown, lang)}"
    if iv.hi == math.inf:
        return f"≥ {_value(iv.lo, shown, lang)}"
    return _range(_value(iv.lo, shown, lang), _value(iv.hi, shown, lang), lang)


def _level_text(feature: str, level: str, lang: Lang) -> str:
    if level == _OTHER:
        return _pick("other", "其他", lang)
    names = _LEVELS.get(feature, {})
    if level in names:
        en, zh = names[level]
        return _pick(en, zh, lang)
    return level


def _category_text(feature: str, label: str, lang: Lang) -> str:
    unseen = label.endswith(_UNSEEN)
    body = label.removesuffix(_UNSEEN)
    if body == "(none)":
        text = _pick("none", "无", lang)
    else:
        levels = [_level_text(feature, lv.strip(), lang) for lv in body.split(", ")]
        text = ("、" if lang == "zh-CN" else ", ").join(levels)
    if unseen:
        text += "（或新类别）" if lang == "zh-CN" else " (or an unseen level)"
    return text


def bin_text(feature: str, bin_label: str, lang: Lang) -> str:
    """A bin label of :mod:`xiaowei.scoring.binning` made readable for ``feature``:
    ``[1.10743e+06, 1.97649e+06)`` of an amount in fen → 1.11万元至1.98万元 / CNY 11,074 to
    19,765; ``[1, 2)`` of a count → 1; ``missing`` → 缺失; ``special -999`` → 特殊值 -999;
    categorical groups → their level names. A label it cannot read is returned as it is."""
    label = bin_label.strip()
    if label == "(-inf, inf)":  # a feature left in one regular bin
        return _pick("any value", "全部取值", lang)
    if label == _MISSING:
        return _pick("missing", "缺失", lang)
    if label.startswith(_SPECIAL):
        code = label.removeprefix(_SPECIAL)
        return f"特殊值 {code}" if lang == "zh-CN" else f"special value {code}"
    kind = feature_kind(feature)
    interval = _parse_interval(label)
    if interval is not None:
        return _interval_text(interval, kind, lang)
    return _category_text(feature, label, lang)


def _direction(bin_label: str, best_label: str) -> str | None:
    """``low`` / ``high`` when the applicant's interval lies wholly below / above the best
    bin's interval; None otherwise (categories, missing, overlapping or the best bin itself)."""
    mine, best = _parse_interval(bin_label), _parse_interval(best_label)
    if mine is None or best is None:
        return None
    if mine.hi <= best.lo:
        return "low"
    if mine.lo >= best.hi:
        return "high"
    return None


def reason_text(feature: str, bin_label: str, lang: Lang, *, best_label: str | None = None) -> str:
    """The sentence of a reason code (评分原因): the feature's label and the applicant's bin.

    ``reason_text("flow_revenue_mean_6m", "(-inf, 3.2e+06)", "zh-CN")`` →
    近6个月月均营业收入：< 3.2万元; in English "Average monthly revenue, last 6 months:
    < CNY 32,000". With ``best_label`` (the label of the feature's best bin, e.g. from the
    scorecard's points table) an interval bin wholly below or above it reads 偏低/偏高:
    近6个月月均营业收入偏低（< 3.2万元） / "… is low (< CNY 32,000)".
    """
    label = feature_label(feature, lang)
    shown = bin_text(feature, bin_label, lang)
    direction = None if best_label is None else _direction(bin_label, best_label)
    if lang == "zh-CN":
        if direction is not None:
            return f"{label}{'偏低' if direction == 'low' else '偏高'}（{shown}）"
        return f"{label}：{shown}"
    if direction is not None:
        return f"{label} is {direction} ({shown})"
    return f"{label}: {shown}"
