"""The JSON layout of PBOC-style credit reports (征信报告) and its strict Pydantic models.

The layout follows the segments and codes of the People's Bank of China's second-generation
credit report (二代征信报告, 2020+) and is described field by field in
``docs/credit-report-format.md``. Keys are the official segment codes (``PRH``, ``PB01``,
``PC02``, ``PC05``, ``PD01``, ``PD03``, ``PF``, ``PH01``) with readable English sub-keys; each
sub-key's official data item (``PD01AD01`` …) is named in the field's description. Amounts are
integer yuan (元), as the report prints them; dates are ``YYYY-MM-DD``, months ``YYYY-MM``.

The models are strict: every key must be present (``null`` where a value does not apply), no
unknown key is accepted, numbers are not coerced from strings, codes must come from the code
tables below, and the 60-month repayment-status string (还款状态) must be a valid sequence
(:func:`status_string_problem`). :func:`parse_personal`, :func:`parse_enterprise` and
:func:`parse_report` turn any violation into a :class:`CreditReportError` naming the segment
and the field (``PD01[3].E.status``).

The enterprise report (企业信用报告) has no monthly status string: its credit details carry the
five-category class (五级分类) and overdue balances. Its segment codes (``ERH``, ``EB01``,
``EC01``, ``ED01``, ``ED03``, ``EF``) mirror the personal ones and are this layout's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from xiaowei.core.errors import InvalidInput

LAYOUT_VERSION = "1.0"
PERSONAL_LAYOUT = f"xiaowei.pboc.personal/{LAYOUT_VERSION}"
ENTERPRISE_LAYOUT = f"xiaowei.pboc.enterprise/{LAYOUT_VERSION}"
HISTORY_MONTHS = 60

# --- code tables (代码表) ---------------------------------------------------------------------

ACCOUNT_TYPES = {  # PD01AD01 账户类型
    "D1": "非循环贷账户",
    "R1": "循环贷账户",
    "R2": "贷记卡账户",
    "R3": "准贷记卡账户",
    "R4": "循环额度下分账户",
    "C1": "催收账户",
}
INSTITUTION_TYPES = {  # PD01AD02 / PH010D01 业务管理机构类型
    "11": "商业银行",
    "12": "村镇银行",
    "14": "住房储蓄银行",
    "15": "外资银行",
    "16": "财务公司",
    "21": "信托公司",
    "22": "融资租赁公司",
    "23": "汽车金融公司",
    "24": "消费金融公司",
    "25": "贷款公司",
    "26": "金融资产管理公司",
    "31": "证券公司",
    "41": "保险公司",
    "51": "小额贷款公司",
    "53": "融资担保公司",
    "54": "保理公司",
    "99": "其他机构",
}
BUSINESS_TYPES = {  # PD01AD03 业务种类
    "11": "个人住房商业贷款",
    "12": "个人商用房(含商住两用)贷款",
    "13": "个人住房公积金贷款",
    "21": "个人汽车消费贷款",
    "31": "个人助学贷款",
    "41": "个人经营性贷款",
    "42": "个人创业担保贷款",
    "51": "农户贷款",
    "52": "经营性农户贷款",
    "53": "消费性农户贷款",
    "71": "准贷记卡",
    "81": "贷记卡",
    "82": "大额专项分期卡",
    "91": "其他个人消费贷款",
    "92": "融资租赁业务",
    "99": "其他贷款",
    "A1": "资产处置",
    "B1": "代偿债务",
}
REPAYMENT_METHODS = {  # PD01AD05 还款方式
    "11": "分期等额本息",
    "12": "分期等额本金",
    "13": "到期还本分期结息",
    "19": "其他类型分期还款",
    "21": "到期一次还本付息",
    "23": "随时还",
    "31": "按期结息,到期还本",
    "32": "按期结息,自由还本",
    "39": "循环贷款下其他还款方式",
    "90": "不区分还款方式",
}
REPAYMENT_FREQUENCIES = {  # PD01AD06 还款频率
    "01": "日",
    "03": "月",
    "04": "季",
    "06": "年",
    "07": "一次性",
    "08": "不定期",
    "99": "其他",
}
GUARANTEE_TYPES = {  # PD01AD07 担保方式
    "1": "质押",
    "2": "抵押",
    "3": "保证",
    "4": "信用/免担保",
    "5": "组合(含保证)",
    "6": "组合(不含保证)",
    "7": "农户联保",
    "8": "其他",
}
ACCOUNT_STATUS = {  # PD01BD01 账户状态, by account type
    "D1": {
        "1": "正常",
        "2": "逾期",
        "3": "结清",
        "4": "呆账",
        "5": "转出",
        "6": "担保物不足",
        "7": "强制平仓",
        "8": "司法追偿",
    },
    "R4": {"1": "正常", "2": "逾期", "3": "结清", "4": "呆账", "6": "担保物不足", "8": "司法追偿"},
    "R1": {
        "1": "正常",
        "2": "逾期",
        "3": "结清",
        "4": "呆账",
        "5": "银行止付",
        "6": "担保物不足",
        "8": "司法追偿",
    },
    "R2": {
        "1": "正常",
        "2": "冻结",
        "3": "止付",
        "4": "销户",
        "5": "呆账",
        "6": "未激活",
        "8": "司法追偿",
    },
    "R3": {
        "1": "正常",
        "2": "冻结",
        "3": "止付",
        "4": "销户",
        "5": "呆账",
        "6": "未激活",
        "8": "司法追偿",
    },
    "C1": {"1": "催收", "2": "结束"},
}
FIVE_CATEGORIES = {  # PD01BD03 / PD03AD05 五级分类
    "1": "正常",
    "2": "关注",
    "3": "次级",
    "4": "可疑",
    "5": "损失",
    "6": "违约",
    "9": "未分类",
}
REPAYMENT_STATUS = {  # PD01ED01 还款状态 (the codes this layout uses)
    "N": "正常还款",
    "*": "当月不需要还款且之前没有拖欠",
    "1": "逾期1-30天",
    "2": "逾期31-60天",
    "3": "逾期61-90天",
    "4": "逾期91-120天",
    "5": "逾期121-150天",
    "6": "逾期151-180天",
    "7": "逾期180天以上",
    "C": "结清、正常销户",
    "G": "(非正常销户)结束",
    "D": "担保人代还",
    "Z": "以资抵债",
    "#": "未知",
    "/": "跳过(未开立或已关闭)",
}
SPECIAL_TRANSACTION_TYPES = {  # PD01FD01 特殊交易类型
    "1": "展期",
    "2": "担保人(第三方)代偿",
    "3": "以资抵债",
    "4": "提前还款",
    "5": "提前结清",
    "6": "强制平仓,未结清",
    "7": "强制平仓,已结清",
    "8": "司法追偿",
    "9": "其他",
    "11": "债务减免",
    "12": "资产剥离",
    "13": "资产转让",
    "14": "信用卡个性化分期",
    "16": "落实金融纾困等政策银行主动延期",
    "17": "强制平仓",
}
QUERY_REASONS = {  # PH010Q03 查询原因
    "01": "贷后管理",
    "02": "贷款审批",
    "03": "信用卡审批",
    "08": "担保资格审查",
    "09": "司法调查",
    "19": "特约商户实名审查",
    "20": "保前审查",
    "21": "保后管理",
    "22": "法人代表、负责人、高管等资信审查",
    "23": "客户准入资格审查",
    "24": "融资审批",
    "26": "额度审批",
}
HARD_QUERY_REASONS = frozenset({"02", "03", "20", "24", "26"})  # pre-lending (硬查询)
SUMMARY_CATEGORIES = {  # PC02AD01 信贷交易信息提示: 业务类型
    "11": "个人住房贷款",
    "12": "个人商用房贷款",
    "19": "其他类贷款",
    "21": "贷记卡",
    "22": "准贷记卡",
    "99": "其他",
}
LIABILITY_TYPES = {  # PD03AD03 相关还款责任人类型
    "1": "共同借款人",
    "2": "保证人",
    "3": "票据承兑人",
    "9": "其他",
}
BORROWER_TYPES = {"1": "自然人", "2": "组织机构"}  # PD03AD08 主借款人身份类别
PUBLIC_RECORD_TYPES = {"1": "欠税", "2": "民事判决", "3": "强制执行", "4": "行政处罚"}  # PC040D01
GENDERS = {"1": "男", "2": "女", "9": "未说明"}  # PB01AD01
EDUCATIONS = {  # PB01AD02 学历
    "10": "研究生",
    "20": "本科",
    "30": "大专",
    "40": "中专/职高/技校",
    "60": "高中",
    "70": "初中",
    "80": "小学",
    "90": "文盲或半文盲",
    "99": "未知",
}
MARITAL_STATUSES = {
    "10": "未婚",
    "20": "已婚",
    "30": "丧偶",
    "40": "离婚",
    "90": "未说明",
}  # PB020D01
ID_TYPES = {"10": "居民身份证"}  # PA01BD01 证件类型 (the one this layout uses)
JUDGMENT_CLOSINGS = {"判决", "调解", "撤诉"}  # PF02AD01 结案方式
ENFORCEMENT_STATUSES = {"执行中", "执行完毕", "终结本次执行"}  # PF03AQ03 案件状态
ENTERPRISE_BUSINESS_TYPES = {  # ED01 业务种类 (this layout's codes)
    "11": "短期借款",
    "12": "中长期借款",
    "13": "循环借款",
    "21": "融资租赁",
    "31": "贸易融资",
}
ENTERPRISE_ACCOUNT_STATUS = {"1": "未结清", "2": "已结清"}
LEGAL_FORMS = {"个体工商户", "有限责任公司", "合伙企业"}

# --- the 60-month status string ---------------------------------------------------------------

STATUS_RE = re.compile(r"[N*1-7CGDZ#/]{60}")
_OPEN_ZERO = frozenset("N*#")
_DIGITS = frozenset("1234567")
_TERMINAL = frozenset("CGDZ")


def status_string_problem(status: str) -> str | None:
    """Why ``status`` is not a valid 60-month repayment-status string, or ``None`` if it is.

    The string is oldest month first. Rules: only the codes of :data:`REPAYMENT_STATUS`;
    ``/`` before the account opens and after it closes; an account opens on ``N`` or ``*``
    (nothing due yet) unless it was open before the window; while open, ``N``/``*``/``#`` may
    be followed by ``N``/``*``/``#``, ``1`` or ``C``; a delinquency ``k`` (1–7) by ``k``
    (still behind), ``k+1`` (unpaid; ``7`` stays ``7``), a lower ``1``…``k-1`` (caught up in
    part: the oldest overdue instalments paid, a later one still overdue), ``N`` (cured),
    ``C`` (settled), or a terminal ``D``/``Z``/``G``; the terminal codes ``C``/``D``/``Z``/``G``
    close the account and only ``/`` follows; ``D``/``Z``/``G`` need a delinquency before
    (unless in the window's first month: what came before is not shown).
    """
    if len(status) != HISTORY_MONTHS:
        return f"length {len(status)}, expected {HISTORY_MONTHS}"
    if not STATUS_RE.fullmatch(status):
        bad = next(c for c in status if c not in REPAYMENT_STATUS)
        return f"unknown status code {bad!r}"
    phase = "start"  # start | before | open | closed
    prev = ""
    for i, c in enumerate(status):
        where = f"month {i + 1}: {c!r} after {prev!r}" if prev else f"month 1: {c!r}"
        if phase == "closed":
            if c != "/":
                return f"{where}: only '/' may follow a closed account"
        elif phase in ("start", "before"):
            if c == "/":
                phase = "before"
            elif phase == "before" and c not in ("N", "*"):
                return f"{where}: an account opens on 'N' or '*'"
            else:
                phase = "closed" if c in _TERMINAL else "open"
        else:  # open
            if prev in _OPEN_ZERO:
                ok = c in _OPEN_ZERO or c in ("1", "C")
            else:
                k = int(prev)
                ok = c in ("N", "C", "D", "Z", "G") or (c in _DIGITS and int(c) <= min(k + 1, 7))
            if not ok:
                return f"{where}: not a valid transition"
            if c in _TERMINAL:
                phase = "closed"
        prev = c
    return None


def is_valid_status_string(status: str) -> bool:
    return status_string_problem(status) is None


# --- field types ----------------------------------------------------------------------------

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def _iso_date(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise ValueError(f"expected a date 'YYYY-MM-DD', got {value!r}")
    return date.fromisoformat(value)


def _iso_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATETIME_RE.fullmatch(value):
        raise ValueError(f"expected a time 'YYYY-MM-DDTHH:MM:SS', got {value!r}")
    return datetime.fromisoformat(value)


def _month(value: str) -> str:
    if not _MONTH_RE.fullmatch(value):
        raise ValueError(f"expected a month 'YYYY-MM', got {value!r}")
    return value


def _code(table: Mapping[str, str] | frozenset[str] | set[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in table:
            raise ValueError(f"unknown {what} code {value!r}")
        return value

    return check


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]
Month = Annotated[str, AfterValidator(_month)]
Yuan = Annotated[int, Field(ge=0, description="integer yuan (元)")]
Count = Annotated[int, Field(ge=0)]
Name = Annotated[str, Field(min_length=1)]
AccountType = Annotated[str, AfterValidator(_code(ACCOUNT_TYPES, "account type"))]
InstitutionType = Annotated[str, AfterValidator(_code(INSTITUTION_TYPES, "institution type"))]
BusinessType = Annotated[str, AfterValidator(_code(BUSINESS_TYPES, "business type"))]
RepaymentMethod = Annotated[str, AfterValidator(_code(REPAYMENT_METHODS, "repayment method"))]
RepaymentFrequency = Annotated[
    str, AfterValidator(_code(REPAYMENT_FREQUENCIES, "repayment frequency"))
]
GuaranteeType = Annotated[str, AfterValidator(_code(GUARANTEE_TYPES, "guarantee type"))]
FiveCategory = Annotated[str, AfterValidator(_code(FIVE_CATEGORIES, "five-category"))]
RepaymentStatus = Annotated[str, AfterValidator(_code(REPAYMENT_STATUS, "repayment status"))]
SpecialType = Annotated[
    str, AfterValidator(_code(SPECIAL_TRANSACTION_TYPES, "special transaction type"))
]
QueryReason = Annotated[str, AfterValidator(_code(QUERY_REASONS, "query reason"))]
SummaryCategory = Annotated[str, AfterValidator(_code(SUMMARY_CATEGORIES, "summary category"))]
LiabilityType = Annotated[str, AfterValidator(_code(LIABILITY_TYPES, "liability type"))]
BorrowerType = Annotated[str, AfterValidator(_code(BORROWER_TYPES, "borrower type"))]
PublicRecordType = Annotated[str, AfterValidator(_code(PUBLIC_RECORD_TYPES, "public record"))]
Gender = Annotated[str, AfterValidator(_code(GENDERS, "gender"))]
Education = Annotated[str, AfterValidator(_code(EDUCATIONS, "education"))]
MaritalStatus = Annotated[str, AfterValidator(_code(MARITAL_STATUSES, "marital status"))]
IdType = Annotated[str, AfterValidator(_code(ID_TYPES, "id type"))]
Currency = Literal["CNY"]
EnterpriseBusinessType = Annotated[
    str, AfterValidator(_code(ENTERPRISE_BUSINESS_TYPES, "enterprise business type"))
]
EnterpriseAccountStatus = Annotated[
    str, AfterValidator(_code(ENTERPRISE_ACCOUNT_STATUS, "enterprise account status"))
]
LegalForm = Annotated[str, AfterValidator(_code(LEGAL_FORMS, "legal form"))]
MaskedId = Annotated[str, Field(pattern=r"^\d{6}\*{8}\d{3}[\dX]$")]


def month_of(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def month_add(month: str, n: int) -> str:
    """``YYYY-MM`` plus ``n`` months."""
    y, m = int(month[:4]), int(month[5:7])
    k = y * 12 + m - 1 + n
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --- personal report (个人信用报告) ----------------------------------------------------------


class PersonalHeader(_Strict):
    """PRH 报告头 (PA01)."""

    report_id: Name = Field(description="PA01AI01 报告编号")
    report_time: IsoDateTime = Field(description="PA01AR01 报告时间")
    name: Name = Field(description="PA01BQ01 被查询者姓名")
    id_type: IdType = Field(description="PA01BD01 被查询者证件类型")
    id_number: MaskedId = Field(description="PA01BI01 被查询者证件号码 (masked 脱敏)")
    query_institution: Name = Field(description="PA01BI02 查询机构")
    query_reason: QueryReason = Field(description="PA01BD02 查询原因")


class Identity(_Strict):
    """PB01 身份信息."""

    gender: Gender = Field(description="PB01AD01 性别")
    birth_year: int = Field(ge=1900, le=2100, description="PB01AR01 出生日期 (year only)")
    education: Education = Field(description="PB01AD02 学历")
    nationality: Literal["CHN"] = Field(description="PB01AD05 国籍")


class Marriage(_Strict):
    """PB02 婚姻信息."""

    marital_status: MaritalStatus = Field(description="PB020D01 婚姻状况")
    spouse_name: Name | None = Field(description="PB020Q01 配偶姓名")

    @field_validator("spouse_name")
    @classmethod
    def _spouse_when_married(cls, v: str | None, info: ValidationInfo) -> str | None:
        status = info.data.get("marital_status")
        if status is not None and (status == "20") != (v is not None):
            raise ValueError("spouse_name is given exactly when marital_status is 20 (已婚)")
        return v


class Occupation(_Strict):
    """PB04 职业信息."""

    employer: Name = Field(description="PB040Q01 工作单位")
    since_year: int = Field(ge=1900, le=2100, description="PB040R01 进入本单位年份")


class CategorySummary(_Strict):
    """PC02AH 信贷交易信息提示 (one business category)."""

    category: SummaryCategory = Field(description="PC02AD01 业务类型")
    accounts: Count = Field(description="PC02AS03 账户数")
    first_month: Month = Field(description="PC02AR01 首笔业务发放月份")


class CollectionSummary(_Strict):
    """PC02B 被追偿信息汇总 (C1 accounts)."""

    accounts: Count = Field(description="PC02BS01 账户数合计")
    balance_yuan: Yuan = Field(description="PC02BJ01 余额合计")


class OverdueSummary(_Strict):
    """PC02DH 逾期(透支)信息汇总, one account type."""

    account_type: AccountType = Field(description="PC02DD01 账户类型")
    accounts: Count = Field(description="PC02DS02 账户数")
    months: Count = Field(description="PC02DS03 月份数")
    max_amount_yuan: Yuan = Field(description="PC02DJ01 单月最高逾期(透支)总额")
    longest_months: int = Field(ge=1, le=7, description="PC02DS04 最长逾期(透支)月数")


class LoanSummary(_Strict):
    """PC02E/F/G 非循环贷账户 / 循环额度下分账户 / 循环贷账户 信息汇总."""

    institutions: Count = Field(description="PC02ES01 管理机构数")
    accounts: Count = Field(description="PC02ES02 账户数")
    credit_total_yuan: Yuan = Field(description="PC02EJ01 授信总额")
    balance_yuan: Yuan = Field(description="PC02EJ02 余额")
    avg_due_6m_yuan: Yuan = Field(description="PC02EJ03 最近6个月平均应还款")


class CardSummary(_Strict):
    """PC02H 贷记卡账户信息汇总."""

    institutions: Count = Field(description="PC02HS01 发卡机构数")
    accounts: Count = Field(description="PC02HS02 账户数")
    credit_total_yuan: Yuan = Field(description="PC02HJ01 授信总额")
    max_limit_yuan: Yuan = Field(description="PC02HJ02 单家行最高授信额")
    min_limit_yuan: Yuan = Field(description="PC02HJ03 单家行最低授信额")
    used_yuan: Yuan = Field(description="PC02HJ04 已用额度")


class GuaranteeSummary(_Strict):
    """PC02K 相关还款责任信息汇总 (guarantees given)."""

    accounts: Count = Field(description="PC02KS02 账户数")
    liability_yuan: Yuan = Field(description="PC02KJ01 还款责任金额")
    balance_yuan: Yuan = Field(description="PC02KJ02 余额")


class CreditSummary(_Strict):
    """PC02 信贷交易信息概要."""

    accounts_total: Count = Field(description="PC02AS01 账户数合计")
    by_category: list[CategorySummary] = Field(description="PC02AH")
    collections: CollectionSummary = Field(description="PC02B")
    overdue: list[OverdueSummary] = Field(description="PC02DH")
    D1: LoanSummary = Field(description="PC02E")
    R4: LoanSummary = Field(description="PC02F")
    R1: LoanSummary = Field(description="PC02G")
    R2: CardSummary = Field(description="PC02H")
    guarantees: GuaranteeSummary = Field(description="PC02K")


class PublicSummary(_Strict):
    """PC04 公共信息概要, one record type."""

    type: PublicRecordType = Field(description="PC040D01 公共信息类型")
    records: Count = Field(description="PC040S02 记录数")
    amount_yuan: Yuan = Field(description="PC040J01 涉及金额")


class Query(_Strict):
    """PH01 查询记录 (also PC05A, the last query)."""

    date: IsoDate = Field(description="PH010R01 查询日期")
    institution_type: InstitutionType = Field(description="PH010D01 查询机构类型")
    institution: Name = Field(description="PH010Q02 查询机构")
    reason: QueryReason = Field(description="PH010Q03 查询原因")


class QuerySummary(_Strict):
    """PC05 查询记录概要."""

    last_query: Query | None = Field(description="PC05A 上一次查询记录")
    institutions_1m_loan: Count = Field(description="PC05BS01 最近1个月内查询机构数(贷款审批)")
    institutions_1m_card: Count = Field(description="PC05BS02 最近1个月内查询机构数(信用卡审批)")
    queries_1m_loan: Count = Field(description="PC05BS03 最近1个月内查询次数(贷款审批)")
    queries_1m_card: Count = Field(description="PC05BS04 最近1个月内查询次数(信用卡审批)")
    queries_1m_self: Count = Field(description="PC05BS05 最近1个月内查询次数(本人查询)")
    queries_24m_post_loan: Count = Field(description="PC05BS06 最近2年内查询次数(贷后管理)")
    queries_24m_guarantee: Count = Field(description="PC05BS07 最近2年内查询次数(担保资格审查)")
    queries_24m_merchant: Count = Field(description="PC05BS08 最近2年内查询次数(特约商户实名审查)")

    @field_validator("queries_1m_loan", "queries_1m_card")
    @classmethod
    def _institutions_at_most_queries(cls, v: int, info: ValidationInfo) -> int:
        key = (
            "institutions_1m_loan"
            if info.field_name == "queries_1m_loan"
            else ("institutions_1m_card")
        )
        institutions = info.data.get(key)
        if institutions is not None and institutions > v:
            raise ValueError(f"{key} ({institutions}) exceeds the number of queries ({v})")
        return v


class AccountBasics(_Strict):
    """PD01A 基本信息."""

    account_id: Name = Field(description="PD01AI01 账户编号")
    account_type: AccountType = Field(description="PD01AD01 账户类型")
    institution_type: InstitutionType = Field(description="PD01AD02 业务管理机构类型")
    institution: Name = Field(description="PD01AI02 业务管理机构")
    business_type: BusinessType = Field(description="PD01AD03 业务种类")
    currency: Currency = Field(description="PD01AD04 币种")
    repayment_method: RepaymentMethod | None = Field(description="PD01AD05 还款方式")
    repayment_frequency: RepaymentFrequency | None = Field(description="PD01AD06 还款频率")
    guarantee_type: GuaranteeType | None = Field(description="PD01AD07 担保方式")
    amount_yuan: Yuan | None = Field(description="PD01AJ01 借款金额 (D1, R4, C1)")
    credit_limit_yuan: Yuan | None = Field(description="PD01AJ02 账户授信额度 (R1, R2)")
    open_date: IsoDate = Field(description="PD01AR01 开立日期")
    due_date: IsoDate | None = Field(description="PD01AR02 到期日期")
    installments: int | None = Field(ge=1, description="PD01AS01 还款期数")

    @field_validator("amount_yuan")
    @classmethod
    def _amount_for_loans(cls, v: int | None, info: ValidationInfo) -> int | None:
        t = info.data.get("account_type")
        if t in ("D1", "R4", "C1") and v is None:
            raise ValueError(f"amount_yuan is required for account type {t}")
        if t in ("R1", "R2", "R3") and v is not None:
            raise ValueError(f"amount_yuan must be null for account type {t}")
        return v

    @field_validator("credit_limit_yuan")
    @classmethod
    def _limit_for_revolving(cls, v: int | None, info: ValidationInfo) -> int | None:
        t = info.data.get("account_type")
        if t in ("R1", "R2", "R3") and v is None:
            raise ValueError(f"credit_limit_yuan is required for account type {t}")
        if t in ("D1", "C1") and v is not None:
            raise ValueError(f"credit_limit_yuan must be null for account type {t}")
        return v

    @field_validator("due_date")
    @classmethod
    def _due_after_open(cls, v: date | None, info: ValidationInfo) -> date | None:
        opened = info.data.get("open_date")
        if v is not None and opened is not None and v <= opened:
            raise ValueError("due_date must be after open_date")
        return v


class AccountLatest(_Strict):
    """PD01B 最新表现信息."""

    account_status: str = Field(description="PD01BD01 账户状态 (codes by account type)")
    five_category: FiveCategory | None = Field(description="PD01BD03 五级分类")
    repayment_status: RepaymentStatus | None = Field(description="PD01BD04 还款状态")
    balance_yuan: Yuan = Field(description="PD01BJ01 余额")
    closed_date: IsoDate | None = Field(description="PD01BR01 账户关闭日期")
    report_date: IsoDate = Field(description="PD01BR03 信息报告日期")


class AccountMonth(_Strict):
    """PD01C 最近一次月度表现信息 (open accounts)."""

    month: Month = Field(description="PD01CR01 月份")
    due_yuan: Yuan = Field(description="PD01CJ04 本月应还款")
    overdue_yuan: Yuan = Field(description="PD01CJ06 当前逾期总额")
    overdue_periods: Count = Field(description="PD01CS02 当前逾期期数")
    remaining_periods: Count | None = Field(description="PD01CS01 剩余还款期数")
    used_yuan: Yuan | None = Field(description="PD01CJ02 已用额度 (R1, R2)")


class OverdueMonth(_Strict):
    """PD01EH one month with an overdue amount."""

    month: Month = Field(description="PD01ER03 月份")
    amount_yuan: int = Field(gt=0, description="PD01EJ01 逾期(透支)总额")


class History(_Strict):
    """PD01E 最近5年内的历史表现信息."""

    start_month: Month = Field(description="PD01ER01 起始年月")
    end_month: Month = Field(description="PD01ER02 截止年月")
    months: int = Field(description="PD01ES01 月数")
    status: str = Field(description="PD01ED01 还款状态, one code per month, oldest first")
    overdue: list[OverdueMonth] = Field(description="PD01EJ01 逾期(透支)总额 by month")

    @field_validator("end_month")
    @classmethod
    def _sixty_months(cls, v: str, info: ValidationInfo) -> str:
        start = info.data.get("start_month")
        if start is not None and month_add(start, HISTORY_MONTHS - 1) != v:
            raise ValueError(f"end_month must be {HISTORY_MONTHS - 1} months after start_month")
        return v

    @field_validator("months")
    @classmethod
    def _months(cls, v: int) -> int:
        if v != HISTORY_MONTHS:
            raise ValueError(f"months must be {HISTORY_MONTHS}")
        return v

    @field_validator("status")
    @classmethod
    def _status(cls, v: str) -> str:
        problem = status_string_problem(v)
        if problem is not None:
            raise ValueError(f"invalid status string: {problem}")
        return v

    @field_validator("overdue")
    @classmethod
    def _overdue_on_delinquent_months(
        cls, v: list[OverdueMonth], info: ValidationInfo
    ) -> list[OverdueMonth]:
        start, status = info.data.get("start_month"), info.data.get("status")
        if start is None or status is None:
            return v
        index = {month_add(start, i): i for i in range(HISTORY_MONTHS)}
        seen: set[str] = set()
        for entry in v:
            i = index.get(entry.month)
            if i is None:
                raise ValueError(f"overdue month {entry.month} is outside the window")
            if status[i] not in _DIGITS:
                raise ValueError(f"overdue month {entry.month} has status {status[i]!r}")
            if entry.month in seen:
                raise ValueError(f"overdue month {entry.month} twice")
            seen.add(entry.month)
        if len(seen) != sum(c in _DIGITS for c in status):
            raise ValueError("every month with status 1-7 needs an overdue amount")
        return v


class SpecialTransaction(_Strict):
    """PD01F 特殊交易信息."""

    type: SpecialType = Field(description="PD01FD01 特殊交易类型")
    date: IsoDate = Field(description="PD01FR01 发生日期")
    months_changed: int = Field(description="PD01FS02 到期日期变更月数")
    amount_yuan: Yuan = Field(description="PD01FJ01 发生金额")
    detail: str = Field(description="PD01FQ01 明细记录")


class Account(_Strict):
    """PD01 借贷账户信息: one account."""

    A: AccountBasics
    B: AccountLatest
    C: AccountMonth | None
    E: History | None
    F: list[SpecialTransaction]

    @field_validator("B")
    @classmethod
    def _status_code_for_type(cls, v: AccountLatest, info: ValidationInfo) -> AccountLatest:
        basics = info.data.get("A")
        if basics is None:
            return v
        codes = ACCOUNT_STATUS[basics.account_type]
        if v.account_status not in codes:
            raise ValueError(
                f"account_status {v.account_status!r} is not a code for {basics.account_type}"
            )
        if v.closed_date is not None and v.closed_date < basics.open_date:
            raise ValueError("closed_date is before open_date")
        return v

    @field_validator("C")
    @classmethod
    def _month_when_open(cls, v: AccountMonth | None, info: ValidationInfo) -> AccountMonth | None:
        latest = info.data.get("B")
        if latest is None:
            return v
        basics = info.data.get("A")
        wanted = latest.closed_date is None and basics is not None and basics.account_type != "C1"
        if wanted != (v is not None):
            raise ValueError(
                "C is given exactly for open accounts (B.closed_date null) other than C1"
            )
        return v

    @field_validator("E")
    @classmethod
    def _history(cls, v: History | None, info: ValidationInfo) -> History | None:
        basics, latest = info.data.get("A"), info.data.get("B")
        if basics is None:
            return v
        if basics.account_type == "C1":
            if v is not None:
                raise ValueError("C1 (催收账户) accounts have no 60-month history")
            return v
        if v is None:
            raise ValueError(f"{basics.account_type} accounts need the 60-month history")
        if latest is not None and latest.closed_date is None:
            if v.status[-1] != latest.repayment_status:
                raise ValueError(
                    f"last month's status {v.status[-1]!r} differs from "
                    f"B.repayment_status {latest.repayment_status!r}"
                )
            if v.status[-1] in _TERMINAL or v.status[-1] == "/":
                raise ValueError("an open account cannot end on a closing code")
        return v


class Liability(_Strict):
    """PD03 / ED03 相关还款责任信息: a guarantee given (对外担保)."""

    institution_type: InstitutionType = Field(description="PD03AD01 业务管理机构类型")
    institution: Name = Field(description="PD03AQ01 业务管理机构")
    business_type: BusinessType = Field(description="PD03AD02 业务种类")
    liability_type: LiabilityType = Field(description="PD03AD03 相关还款责任人类型")
    currency: Currency = Field(description="PD03AD04 币种")
    five_category: FiveCategory = Field(description="PD03AD05 五级分类")
    account_type: AccountType = Field(description="PD03AD06 账户类型")
    repayment_status: RepaymentStatus = Field(description="PD03AD07 还款状态")
    borrower_type: BorrowerType = Field(description="PD03AD08 主借款人身份类别")
    borrower_name: Name = Field(description="主借款人名称 (this layout's addition)")
    liability_amount_yuan: Yuan = Field(description="PD03AJ01 相关还款责任金额")
    balance_yuan: Yuan = Field(description="PD03AJ02 余额")
    contract_no: Name = Field(description="PD03AQ02 保证合同编号")
    open_date: IsoDate = Field(description="PD03AR01 开立日期")
    due_date: IsoDate = Field(description="PD03AR02 到期日期")
    report_date: IsoDate = Field(description="PD03AR03 信息报告日期")
    overdue_months: Count = Field(description="PD03AS01 逾期月数")


class TaxArrears(_Strict):
    """PF01 欠税记录."""

    tax_authority: Name = Field(description="PF01AQ01 主管税务机关")
    amount_yuan: Yuan = Field(description="PF01AJ01 欠税总额")
    date: IsoDate = Field(description="PF01AR01 欠税统计日期")


class Judgment(_Strict):
    """PF02 民事判决记录."""

    court: Name = Field(description="PF02AQ01 立案法院")
    cause: Name = Field(description="PF02AQ02 案由")
    filing_date: IsoDate = Field(description="PF02AR01 立案日期")
    closing_method: str = Field(description="PF02AD01 结案方式")
    result: Name = Field(description="PF02AQ03 判决/调解结果")
    effective_date: IsoDate = Field(description="PF02AR02 判决/调解生效日期")
    subject_matter: Name = Field(description="PF02AQ04 诉讼标的")
    amount_yuan: Yuan = Field(description="PF02AJ01 诉讼标的金额")

    @field_validator("closing_method")
    @classmethod
    def _closing(cls, v: str) -> str:
        return _code(JUDGMENT_CLOSINGS, "closing method")(v)


class Enforcement(_Strict):
    """PF03 强制执行记录."""

    court: Name = Field(description="PF03AQ01 执行法院")
    cause: Name = Field(description="PF03AQ02 执行案由")
    filing_date: IsoDate = Field(description="PF03AR01 立案日期")
    status: str = Field(description="PF03AQ03 案件状态")
    amount_yuan: Yuan = Field(description="PF03AJ01 申请执行标的金额")
    executed_yuan: Yuan = Field(description="PF03AJ02 已执行标的金额")
    closing_date: IsoDate | None = Field(description="PF03AR02 结案日期")

    @field_validator("status")
    @classmethod
    def _status(cls, v: str) -> str:
        return _code(ENFORCEMENT_STATUSES, "enforcement status")(v)


class Penalty(_Strict):
    """PF04 行政处罚记录."""

    authority: Name = Field(description="PF04AQ01 处罚机构")
    content: Name = Field(description="PF04AQ02 处罚内容")
    amount_yuan: Yuan = Field(description="PF04AJ01 处罚金额")
    effective_date: IsoDate = Field(description="PF04AR01 处罚生效日期")


class PublicRecords(_Strict):
    """PF 公共信息明细."""

    PF01: list[TaxArrears]
    PF02: list[Judgment]
    PF03: list[Enforcement]
    PF04: list[Penalty]


class EnterprisePublicRecords(_Strict):
    """EF 公共记录."""

    EF01: list[TaxArrears]
    EF02: list[Judgment]
    EF03: list[Enforcement]
    EF04: list[Penalty]


class PersonalReport(_Strict):
    """A personal credit report (个人信用报告) in this layout."""

    layout: Literal["xiaowei.pboc.personal/1.0"]
    report_id: Name
    business_id: int = Field(ge=1, description="the applicant business (envelope, not bureau)")
    kind: Literal["application", "refresh"]
    PRH: PersonalHeader
    PB01: Identity
    PB02: Marriage
    PB04: list[Occupation]
    PC02: CreditSummary
    PC04: list[PublicSummary]
    PC05: QuerySummary
    PD01: list[Account]
    PD03: list[Liability]
    PF: PublicRecords
    PH01: list[Query]

    @field_validator("PRH")
    @classmethod
    def _same_report_id(cls, v: PersonalHeader, info: ValidationInfo) -> PersonalHeader:
        rid = info.data.get("report_id")
        if rid is not None and v.report_id != rid:
            raise ValueError("report_id differs from the envelope's report_id")
        return v

    @field_validator("PD01")
    @classmethod
    def _unique_accounts(cls, v: list[Account], info: ValidationInfo) -> list[Account]:
        ids = [a.A.account_id for a in v]
        if len(set(ids)) != len(ids):
            raise ValueError("account_id values are not unique")
        summary = info.data.get("PC02")
        if summary is not None and summary.accounts_total != len(v):
            raise ValueError(
                f"PC02.accounts_total is {summary.accounts_total}, PD01 has {len(v)} accounts"
            )
        header = info.data.get("PRH")
        if header is not None:
            end = month_of(header.report_time.date())
            for a in v:
                if a.E is not None and a.E.end_month != end:
                    raise ValueError(
                        f"account {a.A.account_id}: history ends {a.E.end_month}, "
                        f"the report month is {end}"
                    )
                if a.A.open_date > header.report_time.date():
                    raise ValueError(f"account {a.A.account_id} opens after the report")
        return v

    @field_validator("PH01")
    @classmethod
    def _queries_before_report(cls, v: list[Query], info: ValidationInfo) -> list[Query]:
        header = info.data.get("PRH")
        if header is not None:
            for q in v:
                if q.date >= header.report_time.date():
                    raise ValueError(f"query on {q.date} is not before the report date")
        return v


# --- enterprise report (企业信用报告) --------------------------------------------------------


class EnterpriseHeader(_Strict):
    """ERH 报告头."""

    report_id: Name = Field(description="报告编号")
    report_time: IsoDateTime = Field(description="报告时间")
    name: Name = Field(description="企业名称")
    uscc: Annotated[str, Field(pattern=r"^[0-9A-Z]{18}$")] = Field(description="统一社会信用代码")
    query_institution: Name = Field(description="查询机构")
    query_reason: QueryReason = Field(description="查询原因")


class EnterpriseIdentity(_Strict):
    """EB01 身份信息 (基本概况)."""

    name: Name = Field(description="企业名称")
    uscc: Annotated[str, Field(pattern=r"^[0-9A-Z]{18}$")] = Field(description="统一社会信用代码")
    legal_form: LegalForm = Field(description="组织形式")
    founded: IsoDate = Field(description="成立日期")
    industry: Name = Field(description="行业")
    city: Name = Field(description="登记地址(城市)")
    legal_representative: Name = Field(description="法定代表人")
    actual_controller: Name = Field(description="实际控制人")
    partners: list[Name] = Field(description="出资人 (partners of a 合伙企业)")


class EnterpriseGuaranteeSummary(_Strict):
    """EC01 相关还款责任概要."""

    accounts: Count = Field(description="担保账户数")
    balance_yuan: Yuan = Field(description="担保余额")
    concern_yuan: Yuan = Field(description="其中关注类余额")
    bad_yuan: Yuan = Field(description="其中不良类余额")


class EnterpriseSummary(_Strict):
    """EC01 信息概要."""

    first_credit_year: int | None = Field(description="首次有信贷交易的年份")
    institutions: Count = Field(description="有未结清信贷交易的机构数")
    accounts_open: Count = Field(description="未结清信贷账户数")
    balance_yuan: Yuan = Field(description="未结清信贷余额")
    normal_yuan: Yuan = Field(description="其中正常类余额")
    concern_yuan: Yuan = Field(description="其中关注类余额")
    bad_yuan: Yuan = Field(description="其中不良类余额")
    overdue_yuan: Yuan = Field(description="逾期总额")
    settled_accounts: Count = Field(description="已结清信贷账户数")
    settled_concern: Count = Field(description="其中关注类(曾)")
    settled_bad: Count = Field(description="其中不良类(曾)")
    guarantees: EnterpriseGuaranteeSummary
    public_records: Count = Field(description="公共记录条数")

    @field_validator("bad_yuan")
    @classmethod
    def _classes_add_up(cls, v: int, info: ValidationInfo) -> int:
        d = info.data
        parts = ("balance_yuan", "normal_yuan", "concern_yuan")
        if all(k in d for k in parts) and (
            d["normal_yuan"] + d["concern_yuan"] + v != d["balance_yuan"]
        ):
            raise ValueError("normal + concern + bad must equal balance_yuan")
        return v


class EnterpriseAccount(_Strict):
    """ED01 信贷记录明细: one credit account of the enterprise."""

    account_id: Name = Field(description="账户编号")
    account_type: Literal["D1", "R1"] = Field(description="账户类型")
    business_type: EnterpriseBusinessType = Field(description="业务种类")
    institution_type: InstitutionType = Field(description="授信机构类型")
    institution: Name = Field(description="授信机构")
    currency: Currency = Field(description="币种")
    guarantee_type: GuaranteeType = Field(description="担保方式")
    amount_yuan: Yuan = Field(description="借款金额 / 授信额度")
    open_date: IsoDate = Field(description="开立日期")
    due_date: IsoDate = Field(description="到期日期")
    account_status: EnterpriseAccountStatus = Field(description="账户状态")
    balance_yuan: Yuan = Field(description="余额")
    five_category: FiveCategory | None = Field(description="五级分类 (null when settled)")
    worst_five_category: FiveCategory = Field(description="最近5年最差五级分类")
    overdue_yuan: Yuan = Field(description="逾期总额")
    overdue_principal_yuan: Yuan = Field(description="逾期本金")
    closed_date: IsoDate | None = Field(description="结清日期")
    report_date: IsoDate = Field(description="信息报告日期")

    @field_validator("closed_date")
    @classmethod
    def _closed_iff_settled(cls, v: date | None, info: ValidationInfo) -> date | None:
        status = info.data.get("account_status")
        if status is not None and (status == "2") != (v is not None):
            raise ValueError("closed_date is given exactly for settled accounts (status 2)")
        return v


class EnterpriseReport(_Strict):
    """An enterprise credit report (企业信用报告) in this layout."""

    layout: Literal["xiaowei.pboc.enterprise/1.0"]
    report_id: Name
    business_id: int = Field(ge=1)
    kind: Literal["application", "refresh"]
    ERH: EnterpriseHeader
    EB01: EnterpriseIdentity
    EC01: EnterpriseSummary
    ED01: list[EnterpriseAccount]
    ED03: list[Liability]
    EF: EnterprisePublicRecords

    @field_validator("ED01")
    @classmethod
    def _unique_accounts(
        cls, v: list[EnterpriseAccount], info: ValidationInfo
    ) -> list[EnterpriseAccount]:
        ids = [a.account_id for a in v]
        if len(set(ids)) != len(ids):
            raise ValueError("account_id values are not unique")
        summary = info.data.get("EC01")
        if summary is not None:
            open_n = sum(a.account_status == "1" for a in v)
            if open_n != summary.accounts_open:
                raise ValueError(
                    f"EC01.accounts_open is {summary.accounts_open}, ED01 has {open_n} open"
                )
        return v


# --- parsing with errors that name the segment and the field ---------------------------------


class CreditReportError(InvalidInput):
    """A malformed credit-report document: ``segment`` (``PD01``), ``field`` (``status``) and
    ``path`` (``PD01[3].E.status``) say where."""

    def __init__(self, segment: str, field: str, path: str, message: str) -> None:
        super().__init__(path, f"{message} (segment {segment}, field {field})")
        self.segment = segment
        self.field_name = field
        self.path = path

    @classmethod
    def from_validation(cls, exc: ValidationError) -> CreditReportError:
        err = exc.errors(include_url=False)[0]
        loc = tuple(err["loc"])
        path = ""
        for part in loc:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        names = [p for p in loc if isinstance(p, str)]
        segment = names[0] if names else "document"
        field = names[-1] if names else "document"
        if err["type"] == "missing" and len(names) == 1:
            field = segment
        msg = str(err["msg"])
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        return cls(segment, field, path or "document", msg)


def parse_personal(doc: Mapping[str, Any]) -> PersonalReport:
    """Validate a personal report document; raises :class:`CreditReportError`."""
    try:
        return PersonalReport.model_validate(doc)
    except ValidationError as exc:
        raise CreditReportError.from_validation(exc) from exc


def parse_enterprise(doc: Mapping[str, Any]) -> EnterpriseReport:
    """Validate an enterprise report document; raises :class:`CreditReportError`."""
    try:
        return EnterpriseReport.model_validate(doc)
    except ValidationError as exc:
        raise CreditReportError.from_validation(exc) from exc


def parse_report(doc: Mapping[str, Any]) -> PersonalReport | EnterpriseReport:
    """Validate a document of either layout, chosen by its ``layout`` key."""
    layout = doc.get("layout")
    if layout == PERSONAL_LAYOUT:
        return parse_personal(doc)
    if layout == ENTERPRISE_LAYOUT:
        return parse_enterprise(doc)
    raise CreditReportError("document", "layout", "layout", f"unknown layout {layout!r}")
