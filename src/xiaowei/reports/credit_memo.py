"""The credit memo (授信审查报告 / 信贷调查报告): one self-contained HTML file for the committee.

:func:`render_credit_memo` turns a :class:`~xiaowei.analysis.credit_file.CreditFile` into a
printable (A4) HTML page in Chinese or English: header (business, as-of date, configuration
hash, sources present and missing), key features, flags with their evidence rows, the cross-
checks (equity breakdown and waterfall, sales sources), the cash-flow charts (monthly flows,
balance curve, counterparty concentration), the credit report (repayment-status timeline and the
analyst's paragraphs), repayment capacity beside willingness to repay and — when the file has
them — the deviation grid (不对称信息偏差分析表) and the guarantee network (担保网络).

Charts are PNGs embedded as ``data:`` URIs (``reports/memo_charts.py``): the file needs no
network, no script and no other file, so it can be mailed, archived with the decision and
printed as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from xiaowei.core.i18n import Lang
from xiaowei.reports import memo_charts
from xiaowei.reports.page import chart as _chart
from xiaowei.reports.page import environment
from xiaowei.reports.page import pick as _pick

if TYPE_CHECKING:
    from xiaowei.analysis.credit_file import CreditFile

__all__ = ["LANGS", "render_credit_memo"]

LANGS: tuple[Lang, ...] = ("zh-CN", "en")

# Memo text in (English, Chinese).
_TEXT: dict[str, tuple[str, str]] = {
    "title": ("Credit memo", "授信审查报告"),
    "subtitle": ("Small-business loan application", "小微企业贷款申请"),
    "business": ("Business", "企业编号"),
    "as_of": ("As of (application date)", "申请日期"),
    "config": ("Configuration hash", "参数配置指纹"),
    "version": ("Credit-file layout", "信贷档案版本"),
    "present": ("Sources present", "已获取资料"),
    "missing": ("Sources missing", "缺失资料"),
    "notes": ("Notes", "说明"),
    "none": ("none", "无"),
    "sec_features": ("Key features", "主要指标"),
    "sec_flags": ("Flags and evidence", "风险提示及依据"),
    "sec_cross": ("Cross-checks", "交叉检验"),
    "sec_flows": ("Cash flows (bank statements)", "现金流分析（银行流水）"),
    "sec_bureau": ("Credit report", "征信分析"),
    "sec_capacity": ("Repayment capacity and willingness", "还款能力与还款意愿"),
    "sec_grid": ("Asymmetric-information deviation analysis", "不对称信息偏差分析"),
    "sec_network": ("Guarantee network", "担保网络"),
    "feature": ("Indicator", "指标"),
    "value": ("Value", "数值"),
    "severity": ("Severity", "级别"),
    "flag": ("Flag", "提示"),
    "message": ("Finding", "内容"),
    "evidence": ("Evidence", "依据"),
    "rows": ("statement rows {rows}", "流水行号 {rows}"),
    "more_rows": (" … ({n} rows in all)", " …（共 {n} 行）"),
    "no_flags": ("No flag was raised.", "未发现风险提示。"),
    "equity": ("Equity cross-check", "权益交叉检验"),
    "sales": ("Sales cross-check", "销售额交叉检验"),
    "verdict": ("Verdict", "结论"),
    "term": ("Term", "项目"),
    "amount_cny": ("Amount (CNY)", "金额（元）"),
    "deviation": ("Deviation", "偏差率"),
    "declared_sales": ("Declared sales", "申报销售额"),
    "reconciled_sales": ("Reconciled sales estimate", "核实销售额估计"),
    "source": ("Source", "来源"),
    "kind": ("Kind", "类别"),
    "check_sales": ("Sales by this source (CNY)", "该来源销售额（元）"),
    "months_covered": ("Months", "覆盖月数"),
    "no_check": ("Not run: the financial statements are missing.", "未进行：缺少财务报表。"),
    "monthly_flows": ("Monthly flows", "月度流水"),
    "balance_curve": ("Balance curve", "余额曲线"),
    "concentration": ("Counterparty concentration", "交易对手集中度"),
    "top_customers": ("Top customers", "主要客户"),
    "top_suppliers": ("Top suppliers", "主要供应商"),
    "name": ("Name", "名称"),
    "share": ("Share", "占比"),
    "no_statements": ("No bank statement in the file.", "档案中无银行流水。"),
    "timeline": ("Repayment-status timeline", "还款状态时间轴"),
    "report_summary": ("The analyst's reading of the report", "征信报告解读"),
    "no_report": ("No credit report in the file.", "档案中无征信报告。"),
    "capacity": ("Repayment capacity", "还款能力"),
    "willingness": ("Willingness to repay", "还款意愿"),
    "disposable": ("Monthly disposable income", "月可支配收入"),
    "existing_inst": ("Existing installments", "现有月供"),
    "new_inst": ("New installment", "新增月供"),
    "inst_ratio": ("Installment ratio", "月供收入比"),
    "cap": ("Cap", "上限"),
    "max_loan": ("Maximum affordable loan", "最大可承受贷款额"),
    "within_cap": ("Within the cap", "是否在上限内"),
    "cost_default": ("Money cost of default", "违约成本"),
    "exposure": ("Exposure", "风险敞口"),
    "margin": ("Willingness margin", "意愿余量"),
    "ratio": ("Cost ÷ exposure", "违约成本 ÷ 敞口"),
    "not_assessed": ("Not assessed (inputs missing).", "未评估（资料不足）。"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "item": ("Item", "事项"),
    "category": ("Category", "类别"),
    "rating": ("Rating", "评价"),
    "reason": ("Reason", "理由"),
    "justification": ("Justification", "合理性解释"),
    "justification_required": ("justification required", "需补充合理性解释"),
    "deviation_rate": ("Deviation rate", "偏差率"),
    "weighted_rate": ("Weighted deviation rate", "加权偏差率"),
    "ready": ("Ready for approval", "可提交审批"),
    "missing_just": ("Justifications missing for", "尚缺合理性解释"),
    "circle_members": ("Guarantee circle members", "担保圈成员"),
    "chain_members": ("Longest guarantee chain", "最长担保链"),
    "reach_members": ("Businesses whose default reaches it", "违约可传导至本户的企业"),
    "shared_with": ("Applicants sharing attributes", "共用信息的申请人"),
    "footer": (
        "Generated by xiaowei from the credit file; every figure is traceable to the file's "
        "sources and configuration.",
        "本报告由 xiaowei 根据信贷档案生成，所有数字均可追溯至档案资料与参数配置。",
    ),
    "chart_alt": ("chart", "图表"),
}

_RATINGS = {
    "favourable": ("favourable", "有利"),
    "neutral": ("neutral", "中性"),
    "risky": ("risky", "风险"),
}
_CATEGORIES = {
    "static": ("static", "静态信息"),
    "dynamic": ("dynamic", "动态指标"),
    "declared": ("declared vs verified", "申报与核实"),
}
_VERDICTS = {
    "pass": ("pass", "通过"),
    "explain": ("explain", "需解释"),
    "fail": ("fail", "不通过"),
}
_SEVERITIES = {
    "info": ("info", "提示"),
    "warning": ("warning", "关注"),
    "critical": ("critical", "重大"),
}
_SOURCES = {
    "statements": ("bank statements", "银行流水"),
    "credit_report": ("credit report", "征信报告"),
    "financials": ("financial statements", "财务报表"),
    "equity_inputs": ("equity reconciliation inputs", "权益核对资料"),
    "products": ("product margins", "产品毛利"),
    "pos": ("POS settlements", "POS收单"),
    "ecommerce": ("e-commerce", "电商数据"),
    "attendance": ("attendance", "考勤数据"),
    "owner_profile": ("owner profile", "经营者信息"),
    "application_terms": ("application terms", "申请条件"),
    "declared_lenders": ("declared lenders", "申报贷款机构"),
    "declared_debts": ("declared debts", "申报负债"),
    "network": ("guarantee network", "担保网络"),
}
_SALES_SOURCES = {
    "bank": ("bank revenue", "银行流水收入"),
    "pos": ("POS", "POS收单"),
    "ecommerce": ("e-commerce GMV", "电商GMV"),
    "purchases": ("purchases ÷ (1 − margin)", "进货额 ÷（1 − 毛利率）"),
    "invoices": ("invoices", "发票"),
    "staff": ("staff × sales per employee", "员工数 × 人均销售额"),
    "full": ("estimate", "估计"),
    "floor": ("floor", "下限"),
}
_FLAGS = {
    "round_tripping": ("round-tripping", "过账/刷流水"),
    "hidden_debt": ("hidden debt", "隐瞒负债"),
    "gambling": ("gambling", "疑似赌博"),
    "large_cash_withdrawal": ("large cash withdrawals", "大额取现"),
    "balance_mismatch": ("balance mismatch", "余额不连续"),
    "consulting_fee_inflow": ("consulting-fee inflows", "大额咨询费入账"),
    "multi_lending": ("multiple lenders", "多头借贷"),
    "recent_new_lenders": ("recent new lenders", "近期新增贷款机构"),
    "worsening_trend": ("worsening repayment", "还款表现恶化"),
    "serious_delinquency": ("serious delinquency", "严重逾期"),
    "bad_debt_or_special": ("bad debt or special transaction", "呆账或特殊交易"),
    "public_records": ("public records", "公共记录"),
    "equity_cross_check": ("equity cross-check", "权益交叉检验"),
    "sales_cross_check": ("sales cross-check", "销售额交叉检验"),
    "ratio_out_of_norm": ("ratio out of the industry norm", "财务比率偏离行业标准"),
    "repayment_capacity": ("repayment capacity", "还款能力不足"),
    "low_willingness": ("low willingness", "还款意愿偏低"),
    "credit_history_overdue": ("overdue credit history", "历史逾期"),
    "high_deviation_rate": ("high deviation rate", "偏差率过高"),
    "guarantee_circle": ("guarantee circle", "担保圈"),
    "guarantee_chain": ("guarantee chain", "担保链"),
    "network_exposure": ("network exposure", "担保网络敞口"),
    "shared_attributes": ("shared attributes", "共用信息"),
    "mcc_mismatch": ("MCC mismatch", "商户类别码不符"),
    "attendance_drop": ("attendance drop", "出勤率下降"),
    "soft_risky": ("risky soft information", "软信息风险"),
    "declared_deviation": ("declared facts deviate", "申报信息偏差"),
}

# Key features: (feature, kind, English, Chinese); kinds: fen, yuan, pct, ratio, int, num.
_FEATURES: tuple[tuple[str, str, str, str], ...] = (
    (
        "flow_revenue_mean_12m",
        "fen",
        "Revenue estimate, monthly mean (12 m)",
        "月均营业收入估计（12个月）",
    ),
    ("flow_revenue_trend_12m", "pct", "Revenue trend per month (12 m)", "营业收入月趋势（12个月）"),
    ("flow_revenue_cv_12m", "ratio", "Revenue volatility, CV (12 m)", "营业收入波动系数（12个月）"),
    ("flow_adb_mean_12m", "fen", "Average daily balance (12 m)", "日均余额（12个月）"),
    ("flow_low_balance_months_12m", "int", "Low-balance months (12 m)", "低余额月数（12个月）"),
    (
        "flow_customer_top1_share_12m",
        "pct",
        "Largest customer's share (12 m)",
        "第一大客户占比（12个月）",
    ),
    (
        "flow_customer_hhi_12m",
        "ratio",
        "Customer concentration, HHI (12 m)",
        "客户集中度HHI（12个月）",
    ),
    (
        "flow_supplier_hhi_12m",
        "ratio",
        "Supplier concentration, HHI (12 m)",
        "供应商集中度HHI（12个月）",
    ),
    (
        "flow_lender_count_12m",
        "int",
        "Lenders repaid from the statements (12 m)",
        "流水中还款机构数（12个月）",
    ),
    (
        "flow_employees_proxy_12m",
        "num",
        "Employees paid through the bank (12 m)",
        "代发工资人数（12个月）",
    ),
    ("bureau_total_outstanding", "yuan", "Credit-report outstanding", "征信负债余额"),
    ("bureau_monthly_debt_service", "yuan", "Monthly debt service (report)", "征信月还款额"),
    ("bureau_lending_institutions", "int", "Lending institutions", "授信机构数"),
    ("bureau_overdue_months_24m", "int", "Overdue account-months (24 m)", "逾期账户月数（24个月）"),
    ("bureau_max_status_24m", "int", "Worst repayment status (24 m)", "最高逾期状态（24个月）"),
    ("bureau_hard_inquiries_3m", "int", "Hard inquiries (3 m)", "硬查询次数（3个月）"),
    ("fin_annual_sales_fen", "fen", "Declared annual sales", "申报年销售额"),
    ("fin_gross_margin", "pct", "Gross margin", "毛利率"),
    ("fin_net_margin", "pct", "Net margin", "净利率"),
    ("fin_debt_ratio", "pct", "Debt ratio", "资产负债率"),
    ("fin_current_ratio", "ratio", "Current ratio", "流动比率"),
    ("fin_monthly_disposable_income_fen", "fen", "Monthly disposable income", "月可支配收入"),
    ("pos_gross_fen_12m", "fen", "POS settlements (12 m)", "POS收单金额（12个月）"),
    ("ecom_gmv_fen_12m", "fen", "E-commerce GMV (12 m)", "电商GMV（12个月）"),
    ("att_rate_12m", "pct", "Attendance rate (12 m)", "出勤率（12个月）"),
    ("soft_owner_age", "int", "Owner's age", "经营者年龄"),
    ("soft_years_in_business", "num", "Years in business", "经营年限"),
    ("will_ratio", "ratio", "Willingness: cost of default ÷ exposure", "违约成本 ÷ 敞口"),
)

_NETWORK_FEATURES = {
    "net_guarantors": ("Guarantors of the applicant", "为本户担保的企业数"),
    "net_guaranteed": ("Businesses the applicant guarantees", "本户担保的企业数"),
    "net_in_circle": ("In a guarantee circle", "是否处于担保圈"),
    "net_circle_count": ("Circles through the applicant", "涉及担保圈数"),
    "net_scc_size": ("Size of its strongly connected group", "强连通组规模"),
    "net_chain_length": ("Longest chain through it", "最长担保链长度"),
    "net_exposure_direct_fen": ("Direct guarantee exposure", "直接担保敞口"),
    "net_exposure_indirect_fen": ("Indirect exposure (decayed)", "间接担保敞口（衰减）"),
    "net_exposure_total_fen": ("Total network exposure", "网络总敞口"),
    "net_reach": ("Businesses within reach", "可传导企业数"),
    "net_related_group_size": ("Shared-attribute group size", "共用信息组规模"),
}

_CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")


def _num(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def _fmt(value: object, kind: str) -> str:
    """A value for the committee: money with thousands separators, shares as percentages."""
    x = _num(value)
    if x is None:
        return "-" if value is None else str(value)
    if kind == "fen":
        return f"{x / 100:,.0f}"
    if kind == "yuan":
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"
    if kind == "pct":
        return f"{x:.1%}"
    if kind == "ratio":
        return f"{x:,.2f}" if abs(x) >= 0.1 or x == 0 else f"{x:.3f}"
    if kind == "int":
        return f"{x:,.0f}"
    return f"{x:,.1f}"


def _evidence_value(value: object, lang: Lang) -> str:
    if isinstance(value, bool):
        return _pick(_TEXT["yes" if value else "no"], lang)
    x = _num(value)
    if x is None:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value[:12]) + (" …" if len(value) > 12 else "")
        return str(value)
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{x:,.0f}"
    return f"{x:,.2f}" if abs(x) >= 10 else f"{x:.4g}"


def _split_label(label: str, lang: Lang) -> str:
    """``"age band 年龄段"`` → ``年龄段`` (zh-CN) or ``age band`` (en)."""
    match = _CJK.search(label)
    if match is None:
        return label
    english, chinese = label[: match.start()].strip(), label[match.start() :].strip()
    return (chinese or label) if lang == "zh-CN" else (english or label)


def _flag_rows(credit_file: CreditFile, lang: Lang) -> list[dict[str, Any]]:
    order = {"critical": 0, "warning": 1, "info": 2}
    out = []
    for f in sorted(credit_file.flags, key=lambda f: order.get(f.severity.value, 3)):
        rows = list(f.transactions)
        evidence = ""
        if rows:
            shown = ", ".join(str(r) for r in rows[:15])
            evidence = _pick(_TEXT["rows"], lang).format(rows=shown)
            if len(rows) > 15:
                evidence += _pick(_TEXT["more_rows"], lang).format(n=len(rows))
        details = [f"{k}: {_evidence_value(v, lang)}" for k, v in f.evidence.items()]
        out.append(
            {
                "severity": f.severity.value,
                "severity_text": _pick(
                    _SEVERITIES.get(f.severity.value, (f.severity.value,) * 2), lang
                ),
                "code": f.code,
                "name": _pick(_FLAGS[f.code], lang) if f.code in _FLAGS else f.code,
                "message": f.message,
                "rows": evidence,
                "details": details,
            }
        )
    return out


def _features(credit_file: CreditFile, lang: Lang) -> list[dict[str, str]]:
    feats = credit_file.features
    return [
        {"label": zh if lang == "zh-CN" else en, "value": _fmt(feats[key], kind), "key": key}
        for key, kind, en, zh in _FEATURES
        if key in feats
    ]


def _context(credit_file: CreditFile, lang: Lang) -> dict[str, Any]:
    from xiaowei.analysis.credit_file import SOURCES

    cf = credit_file
    charts = cf.charts
    missing = list(cf.sources_missing)
    present = [s for s in SOURCES if s not in missing]
    eq, sales = cf.cross_checks.equity, cf.cross_checks.sales
    ctx: dict[str, Any] = {
        "present": [_pick(_SOURCES.get(s, (s, s)), lang) for s in present],
        "missing": [_pick(_SOURCES.get(s, (s, s)), lang) for s in missing],
        "features": _features(cf, lang),
        "flags": _flag_rows(cf, lang),
        "equity_rows": [],
        "equity_chart": None,
        "sales_rows": [],
        "sales_chart": None,
        "flows_chart": None,
        "balance_chart": None,
        "concentration_chart": None,
        "customers": [],
        "suppliers": [],
        "timeline_chart": None,
        "timeline_accounts": [],
        "report_text": list(cf.report_summary),
    }
    if eq is not None:
        ctx["equity_rows"] = [
            {
                "label": b.label_zh if lang == "zh-CN" else b.label,
                "sign": b.sign,
                "amount": _fmt(b.amount_fen, "fen"),
                "total": b.sign == "=",
            }
            for b in eq.breakdown
        ]
        ctx["equity_chart"] = _chart(
            lambda: memo_charts.equity_waterfall_chart(
                [b.model_dump() for b in eq.breakdown], lang=lang, deviation_rate=eq.deviation_rate
            )
        )
    if sales is not None:
        ctx["sales_rows"] = [
            {
                "source": _pick(
                    _SALES_SOURCES.get(str(s.get("source")), (str(s.get("source")),) * 2), lang
                ),
                "kind": _pick(
                    _SALES_SOURCES.get(str(s.get("kind")), (str(s.get("kind")),) * 2), lang
                ),
                "check": _fmt(s.get("check_sales_fen"), "fen"),
                "months": _fmt(s.get("months_covered"), "int"),
                "deviation": _fmt(s.get("deviation"), "pct"),
            }
            for s in sales.sources
        ]
    if cf.months:
        ctx["flows_chart"] = _chart(lambda: memo_charts.monthly_flows_chart(cf.months, lang=lang))
    if charts is not None:
        if charts.sales_months:
            ctx["sales_chart"] = _chart(
                lambda: memo_charts.sales_sources_chart(charts.sales_months, lang=lang)
            )
        if charts.balance_curve:
            ctx["balance_chart"] = _chart(
                lambda: memo_charts.balance_curve_chart(
                    charts.balance_curve, lang=lang, as_of=cf.as_of
                )
            )
        if charts.customers or charts.suppliers:
            ctx["concentration_chart"] = _chart(
                lambda: memo_charts.concentration_chart(
                    charts.customers,
                    charts.suppliers,
                    lang=lang,
                    months=charts.concentration_months,
                    customer_hhi=charts.customer_hhi,
                    supplier_hhi=charts.supplier_hhi,
                )
            )
        for role in ("customers", "suppliers"):
            ctx[role] = [
                {
                    "rank": i,
                    "name": r["name"],
                    "amount": _fmt(r["amount_fen"], "fen"),
                    "share": _fmt(r["share"], "pct"),
                }
                for i, r in enumerate(getattr(charts, role), start=1)
            ]
        if charts.bureau_accounts:
            ctx["timeline_chart"] = _chart(
                lambda: memo_charts.bureau_timeline_chart(
                    charts.bureau_months, charts.bureau_accounts, lang=lang
                )
            )
            ctx["timeline_accounts"] = [
                {
                    "label": memo_charts.account_label(a, lang).split(" · ")[:2],
                    "lender": a["lender"],
                    "id": a["account_id"],
                }
                for a in charts.bureau_accounts
            ]
        if charts.report_summary_text.get(lang):
            ctx["report_text"] = charts.report_summary_text[lang]
    return ctx


def render_credit_memo(credit_file: CreditFile, lang: Lang = "zh-CN") -> str:
    """The committee's memo of ``credit_file`` as one self-contained HTML page in ``lang``."""
    if lang not in LANGS:
        from xiaowei.core.errors import InvalidInput

        raise InvalidInput("lang", f"must be one of {', '.join(LANGS)}, got {lang!r}")
    env = environment()

    def text(key: str) -> str:
        return _pick(_TEXT[key], lang)

    def pick(table: str, key: object) -> str:
        tables: Mapping[str, Mapping[str, tuple[str, str]]] = {
            "rating": _RATINGS,
            "category": _CATEGORIES,
            "verdict": _VERDICTS,
            "network": _NETWORK_FEATURES,
        }
        pair = tables[table].get(str(key))
        return str(key) if pair is None else _pick(pair, lang)

    env.filters["fmt"] = _fmt
    env.filters["label"] = lambda s: _split_label(str(s), lang)
    env.globals |= {"t": text, "pick": pick}
    template = env.get_template("credit_memo.html")
    return template.render(credit_file=credit_file, lang=lang, **_context(credit_file, lang))
