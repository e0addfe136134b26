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
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from xiaowei.analysis import channels, financials, flows, soft
from xiaowei.analysis.config import AnalysisConfig
from xiaowei.analysis.credit_report import analyse_report
from xiaowei.analysis.credit_report_schema import PersonalReport
from xiaowei.analysis.flags import Flag
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
    """Cost of default against exposure (违约成本与风险敞口), Decimal yuan."""

    model_config = ConfigDict(frozen=True)

    cost_of_default: Decimal
    exposure: Decimal
    margin: Decimal
    ratio: float


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
    notes: list[str] = Field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary (dates ISO, Decimals as strings)."""
        out = self.model_dump(mode="json", exclude={"flags"})
        out["flags"] = [f.to_json() for f in self.flags]
        return out


def config_hash(config: AnalysisConfig) -> str:
    """Short, stable fingerprint of a configuration (the file records what it was made with)."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
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
        key = name if name.startswith(prefix) else f"{prefix}{name}"
        out[key] = _clean(row[name])
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
    flow_row: dict[str, FeatureValue] = {}
    bank_revenue: pl.DataFrame | None = None

    # statements (交易流水)
    tx = _own(inputs.statements, "statements", b)
    if tx is None or tx.height == 0:
        missing.append("statements")
    else:
        prepared = flows.prepare(tx, list(inputs.own_identities), cfg.flows)
        monthly = flows.monthly_table(prepared)
        flow_row = _numeric_row(flows.flow_features(prepared, monthly=monthly), "flow_")
        features |= flow_row
        found = flows.flow_flags(
            prepared, declared_lenders=list(inputs.declared_lenders or [])
        ).get(b, [])
        if inputs.declared_lenders is None:
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
        report = analyse_report(inputs.personal_report, cfg.credit_report, inputs.as_of)
        features |= {f"bureau_{k}": _clean(v) for k, v in report.features.items()}
        flags += report.flags
        report_summary = report.summary.to_text()
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

    # soft information (软信息)
    if inputs.owner_profile is None:
        missing.append("owner_profile")
    else:
        features |= {
            f"soft_{k}": _clean(v) for k, v in soft.static_features(inputs.owner_profile).items()
        }

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
                ),
                cfg.willingness,
            )
            will = WillingnessSummary(
                cost_of_default=result.cost.total,
                exposure=result.exposure,
                margin=result.margin,
                ratio=result.ratio,
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
        sources_missing=missing,
        notes=notes,
    )


__all__ = [
    "CREDIT_FILE_VERSION",
    "ApplicationInputs",
    "Capacity",
    "CreditFile",
    "CrossChecks",
    "EquityCrossCheck",
    "SalesCrossCheck",
    "WillingnessSummary",
    "analyse_application",
    "config_hash",
]
