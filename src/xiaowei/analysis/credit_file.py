"""The credit file (信贷档案): every analysis of one application, combined.

The IPC method has the loan officer reconstruct the business from several independent sources
and believe a figure only when the sources agree (交叉检验): the bank statements (交易流水),
the credit report (征信报告), the reconstructed balance sheet and income statement (资产负债表,
损益表), the payment channels (POS 收单, e-commerce 电商, attendance 考勤) and the soft
information about the owner (软信息). :func:`analyse_application` runs the analysis of each
source that is present on one business and gathers the result in a :class:`CreditFile`:

* ``features``: one flat dictionary for scoring, each name prefixed by its source — ``flow_``
  (statements), ``bureau_`` (personal report), ``fin_`` (ratios, cross-checks, capacity),
  ``pos_``/``ecom_``/``att_`` (channels), ``soft_`` (owner profile), ``will_`` (willingness);
  a value that cannot be computed is ``None`` (never NaN, so the file is valid JSON);
* ``flags``: every :class:`~xiaowei.analysis.flags.Flag` raised, with its evidence;
* ``cross_checks``: the equity check (权益交叉检验) verdict and its breakdown, the sales
  check (销售额交叉检验) verdict and its sources;
* ``capacity``: installment ratio (月供收入比) and maximum affordable loan;
* ``willingness``: cost of default against exposure (还款意愿);
* ``deviation_grid``: the asymmetric-information deviation analysis (不对称信息偏差分析):
  the owner's static soft information, the dynamic indicators (revenue change from the
  statements, attendance trend, new inquiries and new accounts in the report) and every
  declared fact set against what another source verified — sales against the reconciled
  sales estimate, debts against the credit report, staff against the attendance system —
  each rated favourable / neutral / risky; a risky item needs a written justification
  (``ApplicationInputs.justifications``) before ``ready_for_approval`` turns true;
* ``network``: the applicant's place in the guarantee network (担保网络) — circles, chains,
  exposure through the guarantees it gave — and the applicants it shares attributes with;
* ``months``: the statements' monthly table, for the memo's charts; ``report_summary``: the
  credit-report analyst's paragraphs.

A source that is absent is skipped and named in ``sources_missing``; nothing is guessed in its
place. The module is pure: the caller loads the frames (``services/analysis.py`` for a
simulated run). Methods and thresholds are those of the underlying modules and their configs
(research notes: ``../shared/research/credit_analysis_methods.md``; IPC: Dellien & Schreiner,
Fiebig; the equity and sales checks follow the IPC credit-technology manuals cited there).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from xiaowei.analysis import channels, financials, flows, network, soft
from xiaowei.analysis.config import AnalysisConfig
from xiaowei.analysis.credit_report import analyse_report
from xiaowei.analysis.credit_report_schema import PersonalReport
from xiaowei.analysis.flags import Flag
from xiaowei.analysis.memo_data import MemoCharts, memo_charts
from xiaowei.analysis.willingness import WillingnessInput, willingness
from xiaowei.core.errors import InvalidInput

FeatureValue = float | int | None

#: Version of the credit-file layout; bump when a field changes meaning.
CREDIT_FILE_VERSION = "1"

SOURCES = (
    "statements",
    "credit_report",
    "financials",
    "equity_inputs",
    "products",
    "pos",
    "ecommerce",
    "attendance",
    "owner_profile",
    "application_terms",
    "declared_lenders",
    "declared_debts",
    "network",
)


class ApplicationInputs(BaseModel):
    """Everything already loaded about ONE business (一户申请的全部资料); each source optional.

    Frames carry a ``business_id`` column equal to :attr:`business_id` (other rows are an
    error). Money is integer fen; ``annual_rate`` a Decimal share (0.12 = 12 %).
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    business_id: int = Field(ge=1)
    as_of: date = Field(description="the application date: channel windows end here")
    industry: str | None = Field(default=None, description="industry code of the norms table")
    employees: int | None = Field(default=None, ge=0)
    statements: pl.DataFrame | None = Field(
        default=None, description="bank-statement transactions (交易流水), canonical columns"
    )
    own_identities: tuple[str, ...] = Field(
        default=(), description="names and account numbers that are the applicant's own"
    )
    declared_lenders: tuple[str, ...] | None = Field(
        default=None, description="lenders the applicant declared; None = no list collected"
    )
    declared_debts: pl.DataFrame | None = Field(
        default=None,
        description="the applicant's list of debts (负债清单): business_id, lender, balance_fen, "
        "monthly_payment_fen; its lenders are the declared lenders when those are not given",
    )
    balance_sheets: pl.DataFrame | None = None
    income_monthly: pl.DataFrame | None = None
    products: pl.DataFrame | None = None
    equity_inputs: pl.DataFrame | None = None
    pos_settlements: pl.DataFrame | None = None
    ecommerce: pl.DataFrame | None = None
    attendance: pl.DataFrame | None = None
    personal_report: PersonalReport | None = None
    requested_amount_fen: int | None = Field(default=None, gt=0)
    term_months: int | None = Field(default=None, gt=0)
    annual_rate: Decimal | None = Field(default=None, ge=0)
    owner_profile: soft.OwnerProfile | None = None
    guarantor_shares: tuple[Decimal, ...] = Field(
        default=(), description="share of the loan each guarantor covers (保证比例)"
    )
    guarantee_edges: pl.DataFrame | None = Field(
        default=None,
        description="the guarantee network of ALL applicants (guarantor_id, borrower_id, "
        "optional amount_fen), as network.normalise_edges reads it",
    )
    loan_amounts: pl.DataFrame | None = Field(
        default=None, description="business_id, amount_fen of every applicant (network exposure)"
    )
    shared_attributes: pl.DataFrame | None = Field(
        default=None,
        description="business_id, attribute_kind, value of ALL applicants (phones, addresses, "
        "devices…) for the shared-attribute check (团伙欺诈)",
    )
    justifications: dict[str, str] = Field(
        default_factory=dict,
        description="written justification (合理性解释) per risky deviation-grid item key",
    )


class EquityCrossCheck(BaseModel):
    """Equity check verdict with the committee's breakdown (权益交叉检验)."""

    model_config = ConfigDict(frozen=True)

    verdict: str
    deviation_fen: int
    deviation_rate: float
    breakdown: list[financials.BreakdownLine]


class SalesCrossCheck(BaseModel):
    """Sales check verdict with the estimate of each source (销售额交叉检验)."""

    model_config = ConfigDict(frozen=True)

    verdict: str | None = Field(description="None when no source could be compared")
    declared_sales_fen: int
    reconciled_sales_fen: int | None
    deviation: float | None
    sources: list[dict[str, Any]]


class CrossChecks(BaseModel):
    model_config = ConfigDict(frozen=True)

    equity: EquityCrossCheck | None = None
    sales: SalesCrossCheck | None = None


class Capacity(BaseModel):
    """Repayment capacity (还款能力), Decimal yuan."""

    model_config = ConfigDict(frozen=True)

    monthly_disposable_income: Decimal
    existing_installments: Decimal
    new_installment: Decimal
    installment_ratio: Decimal | None
    cap: Decimal
    max_affordable_loan: Decimal
    within_cap: bool


class WillingnessSummary(BaseModel):
    """Cost of default against exposure (违约成本与风险敞口), Decimal yuan.

    The five components sum to ``cost_of_default`` (:class:`~xiaowei.analysis.willingness.
    CostOfDefault`); the exposure is ``loan_amount`` + ``existing_debts``. The behavioural
    evidence (行为证据) and the capacity figures are shown next to it, not priced.
    """

    model_config = ConfigDict(frozen=True)

    cost_of_default: Decimal
    exposure: Decimal
    margin: Decimal
    ratio: float
    business_assets: Decimal = Field(
        Decimal(0), description="seizable business assets 可执行经营资产, after the haircut"
    )
    household_assets: Decimal = Field(
        Decimal(0), description="seizable household assets 可执行家庭资产, after the haircut"
    )
    guarantors: Decimal = Field(Decimal(0), description="guarantors' exposure 保证人代偿")
    future_credit: Decimal = Field(
        Decimal(0), description="present value of future access to credit 未来融资机会的现值"
    )
    reputation: Decimal = Field(Decimal(0), description="reputation in the network 圈子声誉")
    loan_amount: Decimal | None = Field(default=None, description="the requested loan 申请金额")
    existing_debts: Decimal | None = Field(
        default=None,
        description="liabilities of the current balance sheet 现有负债 (loans, payables)",
    )
    overdue_months_24m: int | None = Field(
        default=None, description="overdue months in 24 in the credit report 征信逾期月数"
    )
    deviation_rate: float | None = Field(
        default=None, description="weighted deviation rate of the declared facts 申报偏差率"
    )
    installment_ratio: float | None = Field(default=None, description="月供收入比 (capacity)")
    max_affordable_loan: Decimal | None = Field(
        default=None, description="maximum affordable loan 最高可贷额 (capacity)"
    )


class DeviationGridSummary(BaseModel):
    """The deviation grid (不对称信息偏差分析表) as the file stores it."""

    model_config = ConfigDict(frozen=True)

    items: list[dict[str, Any]] = Field(
        description="key, category, label, value, rating, reason, deviation, justification"
    )
    items_compared: int
    items_deviating: int
    deviation_rate: float | None = Field(description="None when no declared fact was verified")
    weighted_deviation_rate: float | None
    risky: list[str]
    missing_justifications: list[str]
    ready_for_approval: bool


class NetworkSummary(BaseModel):
    """The applicant in the guarantee and related-party network (担保网络, 关联关系)."""

    model_config = ConfigDict(frozen=True)

    features: dict[str, FeatureValue]
    circle_members: list[int] = Field(description="its strongly connected component (担保圈)")
    chain_members: list[int] = Field(description="the longest guarantee chain through it")
    reach_members: list[int] = Field(description="businesses whose default can reach it")
    shared_with: list[int] = Field(description="applicants sharing a phone, address… with it")


class CreditFile(BaseModel):
    """The combined analysis of one application (信贷档案)."""

    model_config = ConfigDict(frozen=True)

    version: str = CREDIT_FILE_VERSION
    business_id: int
    as_of: date
    config_hash: str = Field(description="sha256 of the AnalysisConfig JSON, first 16 hex")
    features: dict[str, FeatureValue]
    flags: list[Flag]
    cross_checks: CrossChecks
    capacity: Capacity | None
    willingness: WillingnessSummary | None
    months: list[dict[str, Any]]
    report_summary: list[str]
    sources_missing: list[str]
    deviation_grid: DeviationGridSummary | None = None
    network: NetworkSummary | None = None
    notes: list[str] = Field(default_factory=list)
    charts: MemoCharts | None = Field(
        default=None, description="the memo's chart data (授信审查报告图表数据)"
    )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary (dates ISO, Decimals as strings)."""
        out = self.model_dump(mode="json", exclude={"flags"})
        out["flags"] = [f.to_json() for f in self.flags]
        return out


def _canonical(value: object) -> object:
    """A JSON-ready form in which sets are sorted: a set iterates in a per-process order
    (string hashing is salted), which would make the fingerprint differ from run to run."""
    if isinstance(value, BaseModel):
        return {k: _canonical(getattr(value, k)) for k in type(value).model_fields}
    if isinstance(value, dict):
        return {str(_canonical(k)): _canonical(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, default=str))
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def config_hash(config: AnalysisConfig) -> str:
    """Short, stable fingerprint of a configuration (the file records what it was made with):
    the same in every process, whatever the order in which sets iterate."""
    text = json.dumps(_canonical(config), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _clean(value: object) -> FeatureValue:
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        f = float(value)
        return f if math.isfinite(f) else None
    return None


def feature_name(prefix: str, column: str) -> str:
    """A feature's name in the credit file: the analysis column with its source prefix
    (``flow_``, ``bureau_`` …) unless it already carries it. The batch feature table uses the
    same rule, so both speak the same names."""
    return column if column.startswith(prefix) else f"{prefix}{column}"


def _numeric_row(frame: pl.DataFrame, prefix: str, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    if frame.height == 0:
        return {}
    row = frame.row(0, named=True)
    out: dict[str, FeatureValue] = {}
    for name, dtype in frame.schema.items():
        if name in ("business_id", "as_of", *skip) or not (
            dtype.is_numeric() or dtype == pl.Boolean
        ):
            continue
        out[feature_name(prefix, name)] = _clean(row[name])
    return out


def _own(frame: pl.DataFrame | None, name: str, business_id: int) -> pl.DataFrame | None:
    if frame is None:
        return None
    if "business_id" not in frame.columns:
        raise InvalidInput(name, "needs a business_id column")
    others = frame.filter(pl.col("business_id") != business_id)
    if others.height:
        raise InvalidInput(name, f"holds rows of other businesses than {business_id}")
    return frame


def analyse_application(
    inputs: ApplicationInputs, config: AnalysisConfig | None = None
) -> CreditFile:
    """Run every analysis whose source is present on one application; see the module text."""
    cfg = config or AnalysisConfig()
    b = inputs.business_id
    features: dict[str, FeatureValue] = {}
    flags: list[Flag] = []
    missing: list[str] = []
    notes: list[str] = []
    months: list[dict[str, Any]] = []
    report_summary: list[str] = []
    report_texts: dict[str, list[str]] = {}
    prepared: flows.PreparedStatement | None = None
    flow_row: dict[str, FeatureValue] = {}
    bank_revenue: pl.DataFrame | None = None
    bureau: dict[str, Any] = {}
    declared_debts = _own(inputs.declared_debts, "declared_debts", b)
    declared_lenders = inputs.declared_lenders
    if declared_lenders is None and declared_debts is not None:
        if "lender" not in declared_debts.columns:
            raise InvalidInput("declared_debts", "needs a lender column")
        declared_lenders = tuple(
            str(x) for x in declared_debts["lender"].unique(maintain_order=True)
        )

    # statements (交易流水)
    tx = _own(inputs.statements, "statements", b)
    if tx is not None and "date" in tx.columns:
        # the file describes the business at application: later transactions are post-loan
        tx = tx.filter(pl.col("date") <= inputs.as_of)
    if tx is None or tx.height == 0:
        missing.append("statements")
    else:
        prepared = flows.prepare(tx, list(inputs.own_identities), cfg.flows)
        monthly = flows.monthly_table(prepared)
        flow_row = _numeric_row(flows.flow_features(prepared, monthly=monthly), "flow_")
        features |= flow_row
        found = flows.flow_flags(prepared, declared_lenders=list(declared_lenders or [])).get(b, [])
        if declared_lenders is None:
            # without the applicant's list every lender repayment would look undeclared
            missing.append("declared_lenders")
            notes.append("no declared-lender list: the statements' hidden-debt check is not run")
            found = [f for f in found if f.code != "hidden_debt"]
        flags += found
        months = flows.months_json(monthly, b)
        bank_revenue = monthly.select(
            "business_id", "month", pl.col("revenue_estimate").alias("revenue_fen")
        )

    # credit report (征信报告)
    existing_fen = 0
    if inputs.personal_report is None:
        missing.append("credit_report")
        notes.append("existing installments taken as 0 (no credit report)")
    else:
        # a report describes the borrower on its own date: an older one (a post-loan file
        # rebuilt later than the refresh) is read as of that date, not as of the file's
        pulled = inputs.personal_report.PRH.report_time.date()
        report = analyse_report(
            inputs.personal_report, cfg.credit_report, min(inputs.as_of, pulled)
        )
        bureau = dict(report.features)
        features |= {f"bureau_{k}": _clean(v) for k, v in report.features.items()}
        flags += report.flags
        report_summary = report.summary.to_text()
        report_texts = {lang: report.summary.to_text(lang) for lang in ("en", "zh-CN")}
        debt_service = report.features.get("monthly_debt_service")
        # the report states amounts in yuan (credit-report-format.md); capacity works in fen
        existing_fen = round(float(debt_service) * 100) if debt_service else 0

    # financials (IPC 财务重构)
    fc = cfg.financials
    sheets = _own(inputs.balance_sheets, "balance_sheets", b)
    income = _own(inputs.income_monthly, "income_monthly", b)
    cross = CrossChecks()
    capacity: Capacity | None = None
    disposable: int | None = None
    if sheets is None or income is None:
        missing.append("financials")
    else:
        industries = (
            pl.DataFrame({"business_id": [b], "industry": [inputs.industry]})
            if inputs.industry is not None
            else None
        )
        ratios = financials.financial_ratios(sheets, income, industries, fc)
        features |= _numeric_row(ratios, "fin_")
        if industries is not None:
            flags += financials.ratio_flags(financials.ratio_outliers(ratios, fc), b)
        summary_row = financials.income_summary(income).row(0, named=True)
        disposable = int(summary_row["monthly_disposable_income_fen"])
        equity_in = _own(inputs.equity_inputs, "equity_inputs", b)
        if equity_in is None:
            missing.append("equity_inputs")
        else:
            eq = financials.EquityCheck.from_frame(
                financials.equity_cross_check(sheets, equity_in, fc), b
            )
            cross = cross.model_copy(
                update={
                    "equity": EquityCrossCheck(
                        verdict=eq.verdict.value,
                        deviation_fen=eq.deviation_fen,
                        deviation_rate=eq.deviation_rate,
                        breakdown=eq.breakdown(),
                    )
                }
            )
            features["fin_equity_deviation_rate"] = _clean(eq.deviation_rate)
            features["fin_equity_deviation_rate_equity"] = _clean(eq.deviation_rate_equity)
            eq_flag = eq.flag()
            if eq_flag is not None:
                flags.append(eq_flag)
        products = _own(inputs.products, "products", b)
        if products is None:
            missing.append("products")
        else:
            margins = financials.margin_check(products, income, fc)
            if margins.height:
                features["fin_weighted_gross_margin"] = _clean(margins["weighted_gross_margin"][0])
                features["fin_margin_difference"] = _clean(margins["margin_difference"][0])
            flags += financials.margin_flags(margins, b)
        staff = (
            pl.DataFrame(
                {"business_id": [b], "industry": [inputs.industry], "employees": [inputs.employees]}
            )
            if inputs.industry is not None and inputs.employees is not None
            else None
        )
        sources, summary = financials.sales_cross_check(
            income,
            bank_revenue=bank_revenue,
            pos_settlements=_own(inputs.pos_settlements, "pos_settlements", b),
            ecommerce=_own(inputs.ecommerce, "ecommerce", b),
            gross_margins=(
                financials.weighted_gross_margins(products) if products is not None else None
            ),
            staff=staff,
            config=fc,
        )
        srow = summary.row(0, named=True)
        cross = cross.model_copy(
            update={
                "sales": SalesCrossCheck(
                    verdict=srow["verdict"],
                    declared_sales_fen=srow["declared_sales_fen"],
                    reconciled_sales_fen=srow["reconciled_sales_fen"],
                    deviation=_clean(srow["deviation"]),
                    sources=[
                        {k: v for k, v in r.items() if k != "business_id"}
                        for r in sources.iter_rows(named=True)
                    ],
                )
            }
        )
        features["fin_sales_deviation"] = _clean(srow["deviation"])
        features["fin_sales_spread"] = _clean(srow["spread"])
        features["fin_sales_sources_used"] = _clean(srow["sources_used"])
        flags += financials.sales_flags(summary, sources, b)

    # capacity (还款能力)
    terms = (inputs.requested_amount_fen, inputs.term_months, inputs.annual_rate)
    if terms[0] is None or terms[1] is None or terms[2] is None:
        missing.append("application_terms")
    elif disposable is not None:
        rc = financials.repayment_capacity(
            Decimal(disposable) / 100,
            amount=Decimal(terms[0]) / 100,
            annual_rate=terms[2],
            term_months=terms[1],
            existing_installments=Decimal(existing_fen) / 100,
            config=fc,
        )
        capacity = Capacity(**rc.model_dump())
        features["fin_installment_ratio"] = _clean(rc.installment_ratio)
        features["fin_max_affordable_fen"] = int(rc.max_affordable_loan * 100)
        cap_flag = rc.flag()
        if cap_flag is not None:
            flags.append(cap_flag)

    # channels (收单、电商、考勤)
    for name, frame, fn in (
        ("pos", inputs.pos_settlements, channels.pos_features),
        ("ecommerce", inputs.ecommerce, channels.ecommerce_features),
        ("attendance", inputs.attendance, channels.attendance_features),
    ):
        own = _own(frame, name, b)
        if own is None or own.height == 0:
            missing.append(name)
            continue
        prefix = {"pos": "pos_", "ecommerce": "ecom_", "attendance": "att_"}[name]
        features |= _numeric_row(fn(own, inputs.as_of, config=cfg.channels), prefix)
        if name == "pos" and inputs.industry is not None:
            consistency = channels.mcc_consistency(
                own,
                pl.DataFrame({"business_id": [b], "industry": [inputs.industry]}),
                config=cfg.channels,
            )
            flags += channels.mcc_flags(consistency).get(b, [])

    # network (担保网络, 关联关系)
    network_summary: NetworkSummary | None = None
    if inputs.guarantee_edges is None and inputs.shared_attributes is None:
        missing.append("network")
    else:
        network_summary, network_flags = _network(inputs, cfg)
        features |= network_summary.features
        flags += network_flags

    # soft information (软信息) and the deviation grid (不对称信息偏差分析)
    profile = inputs.owner_profile
    if profile is None:
        missing.append("owner_profile")
    else:
        overdue = bureau.get("overdue_months_24m")
        if profile.overdue_months_24m is None and overdue is not None:
            profile = replace(profile, overdue_months_24m=int(overdue))
        features |= {f"soft_{k}": _clean(v) for k, v in soft.static_features(profile).items()}
    declared = _declared_facts(inputs, cross.sales, declared_debts, sheets, bureau, features)
    dynamic = _dynamic(months, features, bureau, cfg.soft, inputs.as_of)
    grid_summary: DeviationGridSummary | None = None
    if profile is not None or declared or dynamic is not None:
        grid = soft.deviation_grid(profile, declared, dynamic, cfg.soft)
        missing_just = grid.missing_justifications(inputs.justifications)
        grid_summary = DeviationGridSummary(
            items=[
                {
                    "key": i.key,
                    "category": i.category,
                    "label": i.label,
                    "value": i.value,
                    "rating": i.rating.value,
                    "reason": i.reason,
                    "deviation": _clean(i.deviation),
                    "justification": inputs.justifications.get(i.key) or None,
                }
                for i in grid.items
            ],
            items_compared=grid.items_compared,
            items_deviating=grid.items_deviating,
            deviation_rate=_clean(grid.deviation_rate),
            weighted_deviation_rate=_clean(grid.weighted_deviation_rate),
            risky=list(grid.risky),
            missing_justifications=list(missing_just),
            ready_for_approval=not missing_just,
        )
        features["soft_deviation_rate"] = grid_summary.deviation_rate
        features["soft_weighted_deviation_rate"] = grid_summary.weighted_deviation_rate
        for rating in soft.Rating:
            features[f"soft_{rating.value}_items"] = len(grid.by_rating(rating))
        flags += [
            f
            for f in grid.flags()
            if not inputs.justifications.get(str(f.evidence.get("item", "")), "").strip()
        ]

    # willingness (还款意愿): needs the loan and the current balance sheet
    will: WillingnessSummary | None = None
    if sheets is not None and terms[0] is not None:
        current = sheets.filter(pl.col("kind") == "current")
        if current.height == 1:
            cur = current.row(0, named=True)
            revenue_fen = flow_row.get("flow_revenue_mean_12m")
            if revenue_fen is None and income is not None:
                revenue_fen = int(financials.income_summary(income)["sales_declared_fen"][0]) / max(
                    income.height, 1
                )
            result = willingness(
                WillingnessInput(
                    loan_amount=Decimal(terms[0]) / 100,
                    existing_debts=Decimal(int(cur["total_liabilities_fen"])) / 100,
                    business_assets=Decimal(
                        int(cur["total_assets_fen"]) - int(cur["household_assets_fen"])
                    )
                    / 100,
                    household_assets=Decimal(int(cur["household_assets_fen"])) / 100,
                    monthly_revenue=Decimal(str(round(float(revenue_fen or 0)))) / 100,
                    installment_ratio=(
                        None
                        if capacity is None or capacity.installment_ratio is None
                        else float(capacity.installment_ratio)
                    ),
                    max_affordable_loan=None if capacity is None else capacity.max_affordable_loan,
                    guarantor_shares=inputs.guarantor_shares,
                    overdue_months_24m=(
                        None
                        if bureau.get("overdue_months_24m") is None
                        else min(24, int(bureau["overdue_months_24m"]))
                    ),
                    deviation_rate=(
                        None if grid_summary is None else grid_summary.weighted_deviation_rate
                    ),
                ),
                cfg.willingness,
            )
            ev = result.evidence
            will = WillingnessSummary(
                cost_of_default=result.cost.total,
                exposure=result.exposure,
                margin=result.margin,
                ratio=result.ratio,
                business_assets=result.cost.business_assets,
                household_assets=result.cost.household_assets,
                guarantors=result.cost.guarantors,
                future_credit=result.cost.future_credit,
                reputation=result.cost.reputation,
                loan_amount=Decimal(terms[0]).scaleb(-2),
                existing_debts=Decimal(int(cur["total_liabilities_fen"])).scaleb(-2),
                overdue_months_24m=ev.overdue_months_24m,
                deviation_rate=ev.deviation_rate,
                installment_ratio=ev.installment_ratio,
                max_affordable_loan=ev.max_affordable_loan,
            )
            features |= {
                f"will_{k.removeprefix('willingness_')}": _clean(v)
                for k, v in result.features().items()
            }
            flags += list(result.flags)

    return CreditFile(
        business_id=b,
        as_of=inputs.as_of,
        config_hash=config_hash(cfg),
        features=features,
        flags=flags,
        cross_checks=cross,
        capacity=capacity,
        willingness=will,
        months=months,
        report_summary=report_summary,
        charts=memo_charts(
            prepared,
            inputs.personal_report,
            business_id=b,
            months=months,
            income_monthly=income,
            pos_settlements=_own(inputs.pos_settlements, "pos_settlements", b),
            ecommerce=_own(inputs.ecommerce, "ecommerce", b),
            report_summary_text=report_texts,
        ),
        sources_missing=missing,
        notes=notes,
        deviation_grid=grid_summary,
        network=network_summary,
    )


def _declared_facts(
    inputs: ApplicationInputs,
    sales: SalesCrossCheck | None,
    declared_debts: pl.DataFrame | None,
    sheets: pl.DataFrame | None,
    bureau: dict[str, Any],
    features: dict[str, FeatureValue],
) -> list[soft.DeclaredFact]:
    """Declared facts against what another source verified (申报 vs 核实), in yuan or heads.

    Sales: the income statement's declared sales against the reconciled estimate of the
    independent sources (销售额交叉检验). Debts: the applicant's list (else the balance sheet's
    loan lines) against the personal credit report's outstanding balance — debts that do not
    report to the bureau and the firm's own loans (enterprise report) are not in it, so an
    over-declaration is the harmless direction. Staff: the declared head count against the
    attendance system's average staff over 3 months.
    """
    facts: list[soft.DeclaredFact] = []
    if sales is not None:
        verified = sales.reconciled_sales_fen
        facts.append(
            soft.DeclaredFact(
                soft.DeclaredItem.SALES,
                Decimal(sales.declared_sales_fen) / 100,
                None if verified is None else Decimal(verified) / 100,
                "reconciled sales 核实销售额",
            )
        )
    declared_fen: int | None = None
    if declared_debts is not None:
        if "balance_fen" not in declared_debts.columns:
            raise InvalidInput("declared_debts", "needs a balance_fen column")
        declared_fen = int(declared_debts["balance_fen"].sum())
    elif sheets is not None:
        current = sheets.filter(pl.col("kind") == "current")
        if current.height == 1:
            row = current.row(0, named=True)
            declared_fen = sum(
                int(row[c])
                for c in ("short_term_loans_fen", "long_term_loans_fen", "private_loans_fen")
                if c in row
            )
    outstanding = bureau.get("total_outstanding")
    if declared_fen is not None and outstanding is not None:
        facts.append(
            soft.DeclaredFact(
                soft.DeclaredItem.DEBTS,
                Decimal(declared_fen) / 100,
                Decimal(str(outstanding)),
                "credit report 征信报告",
            )
        )
    staff = features.get("att_staff_3m")
    if inputs.employees is not None and staff is not None:
        facts.append(
            soft.DeclaredFact(
                soft.DeclaredItem.EMPLOYEES,
                inputs.employees,
                round(float(staff), 1),
                "attendance system 考勤系统",
            )
        )
    return facts


def _dynamic(
    months: list[dict[str, Any]],
    features: dict[str, FeatureValue],
    bureau: dict[str, Any],
    config: soft.SoftConfig,
    as_of: date,
) -> soft.DynamicIndicators | None:
    """Dynamic soft information (动态软信息) from what the other sources measured.

    The revenue change compares complete months: the month of ``as_of`` counts only when
    ``as_of`` is its last day (a part-month would read as a fall in sales).
    """
    w = config.dynamic_window_months
    current = as_of.isoformat()[:7]
    complete = (as_of + timedelta(days=1)).month != as_of.month
    revenue = [
        m["revenue_estimate"]
        for m in months
        if m.get("revenue_estimate") is not None and (complete or m["month"] != current)
    ]
    change: float | None = None
    if len(revenue) >= 2 * w:
        prior = sum(revenue[-2 * w : -w]) / w
        recent = sum(revenue[-w:]) / w
        change = max(-1.0, recent / prior - 1) if prior > 0 else None
    att = features.get("att_rate_trend")
    inquiries = bureau.get("hard_inquiries_3m")
    new_accounts = bureau.get("new_accounts_6m")
    if change is None and att is None and inquiries is None and new_accounts is None:
        return None
    return soft.DynamicIndicators(
        revenue_change=change,
        attendance_change=None if att is None else max(-1.0, min(1.0, float(att))),
        new_inquiries_3m=None if inquiries is None else int(inquiries),
        new_lenders_6m=None if new_accounts is None else int(new_accounts),
    )


def _network(inputs: ApplicationInputs, cfg: AnalysisConfig) -> tuple[NetworkSummary, list[Flag]]:
    """The applicant's network features and flags (担保圈, 担保链, 网络敞口, 共用信息)."""
    b = inputs.business_id
    feats: dict[str, FeatureValue] = {}
    found: list[Flag] = []
    circle: list[int] = []
    chain: list[int] = []
    reach: list[int] = []
    if inputs.guarantee_edges is not None:
        row_frame = network.network_features(
            inputs.guarantee_edges, [b], inputs.loan_amounts, cfg.network
        )
        row = row_frame.row(0, named=True)
        circle = [int(x) for x in row["circle_members"] or []]
        chain = [int(x) for x in row["chain_members"] or []]
        reach = [int(x) for x in row["reach_members"] or []]
        feats |= _numeric_row(row_frame, "net_")
        found += network.network_flags(row_frame, inputs.loan_amounts, cfg.network).get(b, [])
    shared: list[int] = []
    if inputs.shared_attributes is not None:
        groups, members = network.shared_attribute_groups(inputs.shared_attributes, cfg.network)
        mine = members.filter(pl.col("business_id") == b)
        if mine.height:
            gid = int(mine["group_id"][0])
            group = groups.filter(pl.col("group_id") == gid)
            shared = [int(x) for x in group["members"][0] if int(x) != b]
            found += network.shared_attribute_flags(group, cfg.network).get(b, [])
        feats["net_shared_group_size"] = len(shared) + 1 if shared else 0
    return (
        NetworkSummary(
            features=feats,
            circle_members=circle,
            chain_members=chain,
            reach_members=reach,
            shared_with=shared,
        ),
        found,
    )


__all__ = [
    "CREDIT_FILE_VERSION",
    "ApplicationInputs",
    "Capacity",
    "CreditFile",
    "CrossChecks",
    "DeviationGridSummary",
    "EquityCrossCheck",
    "NetworkSummary",
    "SalesCrossCheck",
    "WillingnessSummary",
    "analyse_application",
    "config_hash",
    "feature_name",
]
