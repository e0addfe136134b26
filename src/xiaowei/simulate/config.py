"""Configuration of the synthetic institution (模拟机构参数).

Every number the simulator uses is here, with its default and the reason for it; nothing is a
literal buried in a generator. A :class:`SimulationConfig` is a Pydantic model, so a run can be
described by a YAML/JSON file and is written into the output manifest.

Sources of the defaults (facts and orders of magnitude, not code):

* Gross margins by industry: typical ranges for Chinese micro and small enterprises in the
  IPC-style investigation reports of the course (trade 10–25 %, manufacturing 15–30 %, services
  35–60 %, catering 45–65 %, agriculture 15–35 %, e-commerce 20–40 %).
* Seasonality: retail trade peaks before the Spring Festival (January/February) and in
  November–December; catering in January–February and the summer; agriculture at harvest
  (September–November); e-commerce at "618" (June) and "双十一" (November).
* Default rates: inclusive small-business loans of Chinese banks carry NPL ratios of roughly
  2–4 % (CBIRC/NFRA annual reports); micro-lenders' 12-month bad rates on unsecured SME loans
  run higher, 4–10 %. The default target of 6 % sits between.
* Wages: urban private-sector average wage about 5,500–7,000 CNY a month (NBS, 2023), lower
  in smaller cities.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = "1.0"


class IndustryCode(StrEnum):
    TRADE = "trade"
    MANUFACTURING = "manufacturing"
    SERVICE = "service"
    CATERING = "catering"
    AGRICULTURE = "agriculture"
    ECOMMERCE = "ecommerce"


class Industry(BaseModel):
    """One industry's economics (行业参数)."""

    model_config = ConfigDict(frozen=True)

    code: IndustryCode
    name_zh: str
    name_en: str
    share: float = Field(gt=0, description="share of businesses in the population")
    gm_low: float = Field(gt=0, lt=1, description="gross margin range, low end")
    gm_high: float = Field(gt=0, lt=1, description="gross margin range, high end")
    seasonality: tuple[float, ...] = Field(description="12 monthly factors, January first")
    median_monthly_sales: float = Field(gt=0, description="CNY, median of the size draw")
    sales_per_employee: float = Field(gt=0, description="monthly sales per employee, CNY")
    inventory_months: float = Field(ge=0, description="inventory as months of purchases")
    receivable_months: float = Field(ge=0, description="receivables as months of sales")
    fixed_asset_months: float = Field(ge=0, description="fixed assets as months of sales")
    rent_share: float = Field(ge=0, lt=1, description="rent as a share of sales")
    utility_share: float = Field(ge=0, lt=1, description="utilities as a share of sales")
    tax_rate: float = Field(ge=0, lt=1, description="taxes paid as a share of sales")
    risk_offset: float = Field(description="industry term of the default log-odds")
    volatility: float = Field(gt=0, description="monthly log-sales noise, typical")
    pos_prob: float = Field(ge=0, le=1, description="probability of a POS acquiring account")
    ecommerce_prob: float = Field(ge=0, le=1, description="probability of an online store")
    b2b_share: float = Field(ge=0, le=1, description="share of sales paid by bank transfer")

    @model_validator(mode="after")
    def _check(self) -> Industry:
        if self.gm_low >= self.gm_high:
            raise ValueError(f"{self.code}: gm_low must be below gm_high")
        if len(self.seasonality) != 12:
            raise ValueError(f"{self.code}: seasonality needs 12 monthly factors")
        return self


def _season(*values: float) -> tuple[float, ...]:
    mean = sum(values) / len(values)
    return tuple(round(v / mean, 4) for v in values)


DEFAULT_INDUSTRIES: tuple[Industry, ...] = (
    Industry(
        code=IndustryCode.TRADE,
        name_zh="商贸批发零售",
        name_en="Wholesale and retail trade",
        share=0.32,
        gm_low=0.10,
        gm_high=0.25,
        seasonality=_season(1.35, 1.2, 0.85, 0.9, 0.95, 0.95, 0.9, 0.9, 1.0, 1.0, 1.05, 1.3),
        median_monthly_sales=180_000,
        sales_per_employee=130_000,
        inventory_months=1.5,
        receivable_months=0.8,
        fixed_asset_months=1.5,
        rent_share=0.03,
        utility_share=0.004,
        tax_rate=0.012,
        risk_offset=0.0,
        volatility=0.12,
        pos_prob=0.55,
        ecommerce_prob=0.15,
        b2b_share=0.45,
    ),
    Industry(
        code=IndustryCode.MANUFACTURING,
        name_zh="加工制造",
        name_en="Manufacturing",
        share=0.16,
        gm_low=0.15,
        gm_high=0.30,
        seasonality=_season(0.7, 0.6, 1.0, 1.05, 1.05, 1.05, 1.0, 1.0, 1.1, 1.1, 1.15, 1.2),
        median_monthly_sales=260_000,
        sales_per_employee=80_000,
        inventory_months=2.0,
        receivable_months=1.8,
        fixed_asset_months=6.0,
        rent_share=0.025,
        utility_share=0.02,
        tax_rate=0.015,
        risk_offset=-0.1,
        volatility=0.14,
        pos_prob=0.05,
        ecommerce_prob=0.05,
        b2b_share=0.9,
    ),
    Industry(
        code=IndustryCode.SERVICE,
        name_zh="生活服务",
        name_en="Services",
        share=0.18,
        gm_low=0.35,
        gm_high=0.60,
        seasonality=_season(1.1, 1.0, 0.95, 0.95, 1.0, 1.0, 1.05, 1.05, 0.95, 1.0, 0.95, 1.0),
        median_monthly_sales=70_000,
        sales_per_employee=35_000,
        inventory_months=0.3,
        receivable_months=0.2,
        fixed_asset_months=4.0,
        rent_share=0.10,
        utility_share=0.015,
        tax_rate=0.01,
        risk_offset=0.05,
        volatility=0.10,
        pos_prob=0.7,
        ecommerce_prob=0.05,
        b2b_share=0.15,
    ),
    Industry(
        code=IndustryCode.CATERING,
        name_zh="餐饮",
        name_en="Catering",
        share=0.16,
        gm_low=0.45,
        gm_high=0.65,
        seasonality=_season(1.3, 1.25, 0.9, 0.9, 0.95, 1.0, 1.05, 1.05, 0.95, 1.0, 0.9, 1.05),
        median_monthly_sales=90_000,
        sales_per_employee=30_000,
        inventory_months=0.2,
        receivable_months=0.05,
        fixed_asset_months=5.0,
        rent_share=0.12,
        utility_share=0.03,
        tax_rate=0.01,
        risk_offset=0.35,
        volatility=0.13,
        pos_prob=0.85,
        ecommerce_prob=0.25,
        b2b_share=0.05,
    ),
    Industry(
        code=IndustryCode.AGRICULTURE,
        name_zh="种养殖",
        name_en="Agriculture",
        share=0.08,
        gm_low=0.15,
        gm_high=0.35,
        seasonality=_season(0.7, 0.6, 0.6, 0.7, 0.8, 0.9, 0.9, 1.0, 1.5, 1.6, 1.5, 1.2),
        median_monthly_sales=110_000,
        sales_per_employee=80_000,
        inventory_months=3.0,
        receivable_months=1.0,
        fixed_asset_months=8.0,
        rent_share=0.04,
        utility_share=0.02,
        tax_rate=0.002,
        risk_offset=0.3,
        volatility=0.20,
        pos_prob=0.05,
        ecommerce_prob=0.1,
        b2b_share=0.6,
    ),
    Industry(
        code=IndustryCode.ECOMMERCE,
        name_zh="电子商务",
        name_en="E-commerce",
        share=0.10,
        gm_low=0.20,
        gm_high=0.40,
        seasonality=_season(0.9, 0.75, 0.85, 0.9, 0.95, 1.3, 0.9, 0.9, 0.95, 1.0, 1.6, 1.2),
        median_monthly_sales=150_000,
        sales_per_employee=120_000,
        inventory_months=1.2,
        receivable_months=0.5,
        fixed_asset_months=0.8,
        rent_share=0.02,
        utility_share=0.003,
        tax_rate=0.01,
        risk_offset=0.25,
        volatility=0.18,
        pos_prob=0.0,
        ecommerce_prob=1.0,
        b2b_share=0.02,
    ),
)


class Region(BaseModel):
    """A region (地区): its city tier sets wages and a small risk term."""

    model_config = ConfigDict(frozen=True)

    code: str
    name_zh: str
    province_zh: str
    tier: int = Field(ge=1, le=4)
    share: float = Field(gt=0)
    monthly_wage: float = Field(gt=0, description="typical wage of an employee, CNY")
    risk_offset: float = 0.0
    bank_code: str = Field(description="first digits of local account numbers")


DEFAULT_REGIONS: tuple[Region, ...] = (
    Region(
        code="HZ",
        name_zh="杭州",
        province_zh="浙江",
        tier=1,
        share=0.16,
        monthly_wage=7200,
        risk_offset=-0.15,
        bank_code="3301",
    ),
    Region(
        code="TZ",
        name_zh="台州",
        province_zh="浙江",
        tier=2,
        share=0.14,
        monthly_wage=6200,
        risk_offset=-0.05,
        bank_code="3310",
    ),
    Region(
        code="SZ",
        name_zh="苏州",
        province_zh="江苏",
        tier=1,
        share=0.12,
        monthly_wage=7000,
        risk_offset=-0.1,
        bank_code="3205",
    ),
    Region(
        code="CD",
        name_zh="成都",
        province_zh="四川",
        tier=2,
        share=0.14,
        monthly_wage=5800,
        risk_offset=0.0,
        bank_code="5101",
    ),
    Region(
        code="ZZ",
        name_zh="郑州",
        province_zh="河南",
        tier=2,
        share=0.12,
        monthly_wage=5200,
        risk_offset=0.05,
        bank_code="4101",
    ),
    Region(
        code="GZ",
        name_zh="赣州",
        province_zh="江西",
        tier=3,
        share=0.12,
        monthly_wage=4500,
        risk_offset=0.15,
        bank_code="3607",
    ),
    Region(
        code="NN",
        name_zh="南宁",
        province_zh="广西",
        tier=3,
        share=0.10,
        monthly_wage=4600,
        risk_offset=0.1,
        bank_code="4501",
    ),
    Region(
        code="HLD",
        name_zh="葫芦岛",
        province_zh="辽宁",
        tier=4,
        share=0.10,
        monthly_wage=3900,
        risk_offset=0.25,
        bank_code="2114",
    ),
)


class MacroShock(BaseModel):
    """A macro shock (宏观冲击): hazard multiplier from one month for some months."""

    model_config = ConfigDict(frozen=True)

    start: date
    months: int = Field(ge=1)
    hazard_multiplier: float = Field(gt=0)
    sales_multiplier: float = Field(gt=0, le=2)
    industries: tuple[IndustryCode, ...] = ()  # empty: every industry


class SimulationConfig(BaseModel):
    """Everything a run of the simulator depends on; same config and seed, same bytes."""

    model_config = ConfigDict(frozen=True)

    seed: int = Field(default=2025, ge=0)
    businesses: int = Field(default=1000, ge=1, le=10_000_000)
    months: int = Field(default=12, ge=6, le=24, description="statement months before applying")
    follow_months: int = Field(
        default=16,
        ge=0,
        le=36,
        description="months of monitoring data after booking (16: a 12-month default is seen)",
    )
    application_start: date = date(2025, 1, 1)
    application_end: date = date(2025, 12, 31)
    chunk_size: int = Field(default=1000, ge=1, description="businesses rendered per chunk")
    industries: tuple[Industry, ...] = DEFAULT_INDUSTRIES
    regions: tuple[Region, ...] = DEFAULT_REGIONS
    # Latent risk: log-odds of the 12-month default probability (违约概率).
    target_default_rate: float = Field(default=0.06, gt=0, lt=0.5)
    latent_noise: float = Field(
        default=1.0, gt=0, description="sd of the unobservable part of the default log-odds"
    )
    # Honesty (诚信): shares of applicants who manipulate, not exclusive of each other.
    inflate_sales_share: float = Field(default=0.10, ge=0, le=1)
    hide_debt_share: float = Field(default=0.08, ge=0, le=1)
    round_trip_share: float = Field(default=0.05, ge=0, le=1)
    # Networks (担保圈/担保链): share of businesses in guarantee groups.
    guarantee_share: float = Field(default=0.15, ge=0, le=1)
    contagion: float = Field(
        default=2.5, ge=1, description="hazard multiplier after a guarantee partner defaults"
    )
    # Behaviour after default: share recovered within the follow window.
    recovery_share: float = Field(default=0.35, ge=0, le=1)
    precursor_share: float = Field(
        default=0.8, ge=0, le=1, description="defaulters showing warning signs beforehand"
    )
    macro_shocks: tuple[MacroShock, ...] = (
        MacroShock(
            start=date(2025, 10, 1),
            months=4,
            hazard_multiplier=1.6,
            sales_multiplier=0.9,
            industries=(IndustryCode.CATERING, IndustryCode.MANUFACTURING),
        ),
    )
    product_code: str = "SME-OP"

    @model_validator(mode="after")
    def _check(self) -> SimulationConfig:
        if self.application_end < self.application_start:
            raise ValueError("application_end is before application_start")
        if not self.industries or not self.regions:
            raise ValueError("at least one industry and one region are needed")
        return self

    def industry(self, code: str) -> Industry:
        for ind in self.industries:
            if ind.code == code:
                return ind
        raise KeyError(code)
