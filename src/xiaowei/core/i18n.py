"""Two languages (zh-CN, en) for what users read: table headers, labels, report text.

``XIAOWEI_LANG`` (or ``--lang``) picks the language; English is the default for the CLI.
"""

from __future__ import annotations

import os
from typing import Literal

Lang = Literal["en", "zh-CN"]

_TEXT: dict[str, tuple[str, str]] = {
    "number": ("No.", "期次"),
    "due_date": ("Due date", "还款日"),
    "principal": ("Principal", "本金"),
    "interest": ("Interest", "利息"),
    "total": ("Total", "合计"),
    "balance": ("Balance", "剩余本金"),
    "paid": ("Paid", "已还"),
    "penalty": ("Penalty", "罚息"),
    "compound": ("Compound", "复利"),
    "state": ("State", "状态"),
    "schedule": ("Repayment schedule", "还款计划"),
    "total_interest": ("Total interest", "利息合计"),
    "apr": ("APR (IRR × periods)", "年化利率(IRR)"),
    "ear": ("Effective annual rate", "实际年利率"),
    "bucket": ("Bucket", "逾期档位"),
    "loans": ("Loans", "笔数"),
    "outstanding": ("Outstanding", "贷款余额"),
    "overdue_principal": ("Overdue principal", "逾期本金"),
    "portfolio": ("Portfolio", "贷款组合"),
    "interest_earned": ("Interest earned", "已计利息"),
    "penalty_earned": ("Penalty earned", "已计罚息"),
    "code": ("Code", "产品代码"),
    "version": ("v", "版本"),
    "name": ("Name", "名称"),
    "amount": ("Amount", "金额"),
    "term": ("Months", "期限(月)"),
    "rate": ("Annual rate", "年利率"),
    "methods": ("Methods", "还款方式"),
    "account": ("Account", "科目"),
    "debit": ("Debit", "借方"),
    "credit": ("Credit", "贷方"),
    "principal_outstanding": ("Principal outstanding", "贷款余额"),
    "overdue_interest": ("Overdue interest", "逾期利息"),
    "accrued_interest": ("Accrued interest (not due)", "应计利息(未到期)"),
    "due_interest": ("Due interest (in grace)", "到期利息(宽限期内)"),
    "fees": ("Fees", "费用"),
    "credit_balance": ("Credit balance", "客户暂收款"),
    "recovered": ("Recovered after write-off", "核销后收回"),
    "future": ("future", "未到期"),
    "due": ("due", "已到期"),
    "overdue": ("overdue", "逾期"),
    "settled": ("paid", "已结清"),
    "partial": ("partly paid", "部分还款"),
}


def current_lang() -> Lang:
    value = os.environ.get("XIAOWEI_LANG", "en")
    return "zh-CN" if value.lower().startswith("zh") else "en"


def t(key: str, lang: Lang | None = None) -> str:
    """The text of ``key`` in ``lang`` (the key itself if it has no translation)."""
    pair = _TEXT.get(key)
    if pair is None:
        return key
    return pair[1] if (lang or current_lang()) == "zh-CN" else pair[0]
