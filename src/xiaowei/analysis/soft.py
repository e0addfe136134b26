"""Soft information and the asymmetric-information deviation analysis (软信息, 不对称偏差分析).

An IPC-style loan officer does not only rebuild the accounts: on the visit they record the
owner's soft information and check what the applicant *said* against what they could *verify*
(research notes ``shared/research/credit_analysis_methods.md`` §1, "软信息不对称偏差分析",
source: the "wd" microloan system, corpus file id 25138306605). This module is that analysis
for one application, as pure functions over typed inputs:

* **Static soft information** (可量化的静态软信息) from :class:`OwnerProfile`: age band 年龄段,
  marital status 婚姻状况, education 学历, years in business 经营年限, years at residence
  居住年限, household size 家庭人口, children 子女, spouse involved in the business 配偶参与经营,
  local residence 本地户籍/常住, home ownership 自有住房 (the notes' "private assets") and the
  credit record 信用记录 (overdue months in the PBOC report). :func:`static_features` turns them
  into flat numeric features; :func:`rate_static` rates each one.
* **Dynamic soft information** (可量化的动态软信息) from :class:`DynamicIndicators`: indicators
  already computed elsewhere from the flows, the attendance (钉钉/OA) data and report changes —
  revenue change 营业额变化, attendance change 出勤变化, new hard inquiries 新增查询 and new
  lenders 新增授信机构. :func:`rate_dynamic` rates each one that is present.
* **Declared against verified** (申报 vs 核实) for each :class:`DeclaredFact` (declared sales
  against verified sales, declared debts against the report and statements, declared employees
  against payroll/attendance, declared years at the address or in business against documents):
  deviation 偏差率 = (declared − verified) / declared (the "wd" system's ``getDeviationRatio``,
  notes §1), with the verified value as denominator when nothing was declared. Within the item's
  tolerance the item is consistent (favourable 有利); beyond it in the harmless direction it is
  neutral 中性; beyond it in the adverse direction (sales or staff overstated, debts understated)
  it is risky 风险.
* **The grid** (偏差分析表) :class:`DeviationGrid`: every rated item, colour-coded favourable /
  neutral / risky as in the "wd" grid; the overall deviation rate (share of verified declared
  facts deviating beyond tolerance) and a weighted version. Every risky item needs a written
  justification 合理性解释 before the file can go to approval:
  :meth:`DeviationGrid.ready_for_approval` is False until each has a non-empty one, and
  :meth:`DeviationGrid.missing_justifications` names the items still lacking it.

The bands (30–45 years old, more than 5 years in business, local or more than 10 years at the
residence, married, spouse in the business, good credit) follow the examples of the notes §1;
the other cut-offs and all tolerances are design choices, every one in :class:`SoftConfig`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xiaowei.analysis.flags import Flag, Severity
from xiaowei.core.errors import InvalidInput

__all__ = [
    "DeclaredFact",
    "DeclaredItem",
    "DeviationGrid",
    "Direction",
    "DynamicIndicators",
    "Education",
    "GridItem",
    "ItemTolerance",
    "MaritalStatus",
    "OwnerProfile",
    "Rating",
    "SoftConfig",
    "compare_declared",
    "deviation_grid",
    "rate_dynamic",
    "rate_static",
    "static_features",
]


class Rating(StrEnum):
    """Colour of a grid cell: favourable 有利 (green), neutral 中性, risky 风险 (red)."""

    FAVOURABLE = "favourable"
    NEUTRAL = "neutral"
    RISKY = "risky"


class MaritalStatus(StrEnum):
    """Marital status 婚姻状况 (the PBOC report's codes: 未婚 10, 已婚 20, 丧偶 30, 离异 40)."""

    SINGLE = "single"
    MARRIED = "married"
    WIDOWED = "widowed"
    DIVORCED = "divorced"


class Education(IntEnum):
    """Education 学历, ordered: 小学及以下, 初中, 高中/中专, 大专, 本科及以上."""

    PRIMARY = 0
    MIDDLE = 1
    HIGH = 2
    COLLEGE = 3
    UNIVERSITY = 4


class Direction(StrEnum):
    """Which misstatement is adverse 不利方向: over-declared, under-declared, or either."""

    OVER = "over"
    UNDER = "under"
    BOTH = "both"


class DeclaredItem(StrEnum):
    """Declared facts the deviation analysis knows (申报事项)."""

    SALES = "sales"
    DEBTS = "debts"
    EMPLOYEES = "employees"
    YEARS_AT_ADDRESS = "years_at_address"
    YEARS_IN_BUSINESS = "years_in_business"


class ItemTolerance(BaseModel):
    """How one declared fact is judged: tolerance, adverse direction and weight."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tolerance: float = Field(ge=0, description="|deviation| up to this is consistent (一致)")
    adverse: Direction = Field(description="the misstatement direction that is risky")
    weight: float = Field(gt=0, description="weight in the weighted deviation rate")


def _default_tolerances() -> dict[DeclaredItem, ItemTolerance]:
    return {
        # Sales: 10 % matches the upper 'explain' band of the equity cross-check (notes §1:
        # 5 % pass, 5–10 % explain); owners round their sales, so 5 % would flag most files.
        # Overstatement (虚增销售) is the adverse direction. Weight 3: the core of capacity.
        DeclaredItem.SALES: ItemTolerance(tolerance=0.10, adverse=Direction.OVER, weight=3.0),
        # Debts: 5 %: any material undeclared debt (隐瞒负债) matters; understatement adverse.
        DeclaredItem.DEBTS: ItemTolerance(tolerance=0.05, adverse=Direction.UNDER, weight=3.0),
        # Employees: 20 %: payroll and attendance miss part-time and family staff.
        DeclaredItem.EMPLOYEES: ItemTolerance(tolerance=0.20, adverse=Direction.OVER, weight=1.0),
        # Years: 20 %: owners round years; overstating stability is the adverse direction.
        DeclaredItem.YEARS_AT_ADDRESS: ItemTolerance(
            tolerance=0.20, adverse=Direction.OVER, weight=1.0
        ),
        DeclaredItem.YEARS_IN_BUSINESS: ItemTolerance(
            tolerance=0.20, adverse=Direction.OVER, weight=1.0
        ),
    }


class SoftConfig(BaseModel):
    """Bands and tolerances of the soft-information analysis, each with its default and reason."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    age_favourable_min: int = Field(30, description="notes §1: 30–45 years old is favourable")
    age_favourable_max: int = Field(45, description="notes §1: 30–45 years old is favourable")
    age_risky_below: int = Field(
        25, description="younger owners are risky (design choice; the simulator's PD rises)"
    )
    age_risky_above: int = Field(
        60, description="older owners are risky: succession and health (design choice)"
    )
    years_in_business_favourable: float = Field(
        5.0, description="notes §1: more than 5 years in business is favourable"
    )
    years_in_business_risky: float = Field(
        2.0, description="under 2 years: most micro-business failures (design choice)"
    )
    residence_favourable_years: float = Field(
        10.0, description="notes §1: local or more than 10 years resident is favourable"
    )
    residence_risky_years: float = Field(
        2.0, description="under 2 years at the address and not local is risky (design choice)"
    )
    education_favourable_min: Education = Field(
        Education.COLLEGE, description="大专 and above favourable (design choice)"
    )
    household_risky_dependants: int = Field(
        4, description="this many dependants (household − 1) or more is risky (design choice)"
    )
    overdue_months_risky: int = Field(
        3, description="overdue months in 24 months from this count is a bad record (design)"
    )
    revenue_change_favourable: float = Field(
        0.10, description="revenue up at least 10 % (recent vs earlier months) is favourable"
    )
    revenue_change_risky: float = Field(
        -0.20,
        description="revenue down 20 % or more is risky: the simulator's default precursor "
        "(docs/simulator.md: sales fall 3–6 months before default)",
    )
    dynamic_window_months: int = Field(
        3,
        ge=1,
        description="revenue change = mean of the last N months of the statements against the "
        "N months before (3: a quarter against the previous quarter)",
    )
    attendance_change_risky: float = Field(
        -0.10, description="attendance rate down 10 points or more is risky (precursor)"
    )
    new_inquiries_risky: int = Field(
        3, description="this many new hard inquiries in 3 months or more is risky (多头)"
    )
    new_lenders_risky: int = Field(
        2, description="this many new lenders in 6 months or more is risky (多头借贷)"
    )
    tolerances: dict[DeclaredItem, ItemTolerance] = Field(
        default_factory=_default_tolerances,
        description="per declared item: tolerance, adverse direction and weight",
    )

    @model_validator(mode="after")
    def _check_bands(self) -> SoftConfig:
        if not (
            self.age_risky_below
            <= self.age_favourable_min
            <= self.age_favourable_max
            <= self.age_risky_above
        ):
            raise ValueError("age bands must satisfy risky_below ≤ fav_min ≤ fav_max ≤ risky_above")
        if self.years_in_business_risky > self.years_in_business_favourable:
            raise ValueError("years_in_business_risky must not exceed the favourable band")
        if self.residence_risky_years > self.residence_favourable_years:
            raise ValueError("residence_risky_years must not exceed the favourable band")
        return self


def _check_number(field: str, value: object, *, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidInput(field, f"must be a number, got {value!r}")
    if integer and not isinstance(value, int):
        raise InvalidInput(field, f"must be an integer, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput(field, f"must be finite, got {value!r}")
    return number


def _check_non_negative(field: str, value: object, *, integer: bool = False) -> float:
    number = _check_number(field, value, integer=integer)
    if number < 0:
        raise InvalidInput(field, f"must not be negative, got {value!r}")
    return number


@dataclass(frozen=True)
class OwnerProfile:
    """The owner's and the business's static soft information (静态软信息), as verified."""

    age: int
    marital_status: MaritalStatus
    education: Education
    years_in_business: float
    years_at_residence: float
    household_size: int
    children: int
    spouse_involved: bool
    local_resident: bool
    owns_home: bool | None = None
    overdue_months_24m: int | None = None

    def __post_init__(self) -> None:
        age = _check_non_negative("owner.age", self.age, integer=True)
        if not 16 <= age <= 100:
            raise InvalidInput("owner.age", f"must be between 16 and 100, got {self.age}")
        if not isinstance(self.marital_status, MaritalStatus):
            raise InvalidInput(
                "owner.marital_status", f"not a MaritalStatus: {self.marital_status!r}"
            )
        if not isinstance(self.education, Education):
            raise InvalidInput("owner.education", f"not an Education: {self.education!r}")
        _check_non_negative("owner.years_in_business", self.years_in_business)
        _check_non_negative("owner.years_at_residence", self.years_at_residence)
        size = _check_non_negative("owner.household_size", self.household_size, integer=True)
        if size < 1:
            raise InvalidInput("owner.household_size", "must be at least 1 (the owner)")
        children = _check_non_negative("owner.children", self.children, integer=True)
        if children >= size:
            raise InvalidInput(
                "owner.children", f"{self.children} children do not fit a household of {size:g}"
            )
        for name in ("spouse_involved", "local_resident"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidInput(f"owner.{name}", "must be True or False")
        if self.owns_home is not None and not isinstance(self.owns_home, bool):
            raise InvalidInput("owner.owns_home", "must be True, False or None")
        if self.overdue_months_24m is not None:
            _check_non_negative("owner.overdue_months_24m", self.overdue_months_24m, integer=True)
        if self.spouse_involved and self.marital_status is not MaritalStatus.MARRIED:
            raise InvalidInput("owner.spouse_involved", "a spouse requires marital status married")


@dataclass(frozen=True)
class DynamicIndicators:
    """Already-computed dynamic soft information (动态软信息); None = not available.

    ``revenue_change``: relative change of monthly revenue, recent months against earlier ones
    (−0.2 = fell 20 %); ``attendance_change``: change of the attendance rate in points of a
    share (−0.1 = ten points lower); ``new_inquiries_3m``: hard inquiries in the last 3 months;
    ``new_lenders_6m``: lenders first seen in the last 6 months.
    """

    revenue_change: float | None = None
    attendance_change: float | None = None
    new_inquiries_3m: int | None = None
    new_lenders_6m: int | None = None

    def __post_init__(self) -> None:
        rev = self.revenue_change
        if rev is not None and _check_number("dynamic.revenue_change", rev) < -1:
            raise InvalidInput("dynamic.revenue_change", "cannot fall by more than 100 %")
        att = self.attendance_change
        if att is not None and abs(_check_number("dynamic.attendance_change", att)) > 1:
            raise InvalidInput("dynamic.attendance_change", "a change of rate lies in [−1, 1]")
        if self.new_inquiries_3m is not None:
            _check_non_negative("dynamic.new_inquiries_3m", self.new_inquiries_3m, integer=True)
        if self.new_lenders_6m is not None:
            _check_non_negative("dynamic.new_lenders_6m", self.new_lenders_6m, integer=True)


@dataclass(frozen=True)
class DeclaredFact:
    """One fact as the applicant declared it and as verified (``None``: could not verify)."""

    item: DeclaredItem
    declared: Decimal | int | float
    verified: Decimal | int | float | None
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.item, DeclaredItem):
            raise InvalidInput("declared.item", f"unknown declared item {self.item!r}")
        _check_non_negative(f"declared.{self.item.value}.declared", self.declared)
        if self.verified is not None:
            _check_non_negative(f"declared.{self.item.value}.verified", self.verified)


@dataclass(frozen=True)
class GridItem:
    """One cell of the deviation grid: what was rated, its value, colour and reason."""

    key: str
    category: str
    label: str
    value: str
    rating: Rating
    reason: str
    deviation: float | None = None


_AGE = "static.age"
_LABELS: dict[str, str] = {
    "static.age": "age band 年龄段",
    "static.marital_status": "marital status 婚姻状况",
    "static.education": "education 学历",
    "static.years_in_business": "years in business 经营年限",
    "static.residence": "residence 居住情况",
    "static.household": "household 家庭人口",
    "static.children": "children 子女",
    "static.spouse": "spouse 配偶",
    "static.home": "private assets: own home 自有住房",
    "static.credit_record": "credit record 信用记录",
    "dynamic.revenue_change": "revenue change 营业额变化",
    "dynamic.attendance_change": "attendance change 出勤变化",
    "dynamic.new_inquiries_3m": "new inquiries 近3月查询",
    "dynamic.new_lenders_6m": "new lenders 近6月新增机构",
    "declared.sales": "declared sales 申报销售额",
    "declared.debts": "declared debts 申报负债",
    "declared.employees": "declared employees 申报员工数",
    "declared.years_at_address": "declared years at address 申报居住年限",
    "declared.years_in_business": "declared years in business 申报经营年限",
}


def _item(key: str, value: object, rating: Rating, reason: str) -> GridItem:
    return GridItem(
        key=key,
        category=key.split(".", 1)[0],
        label=_LABELS[key],
        value=str(value),
        rating=rating,
        reason=reason,
    )


def static_features(profile: OwnerProfile) -> dict[str, float]:
    """Flat numeric static soft features (for scoring): ages, years, 0/1 indicators."""
    dependants = profile.household_size - 1
    return {
        "owner_age": float(profile.age),
        "owner_married": float(profile.marital_status is MaritalStatus.MARRIED),
        "owner_education": float(profile.education),
        "years_in_business": float(profile.years_in_business),
        "years_at_residence": float(profile.years_at_residence),
        "household_size": float(profile.household_size),
        "children": float(profile.children),
        "dependants": float(dependants),
        "spouse_involved": float(profile.spouse_involved),
        "local_resident": float(profile.local_resident),
        "owns_home": math.nan if profile.owns_home is None else float(profile.owns_home),
        "overdue_months_24m": (
            math.nan if profile.overdue_months_24m is None else float(profile.overdue_months_24m)
        ),
    }


def rate_static(profile: OwnerProfile, config: SoftConfig | None = None) -> list[GridItem]:
    """Rate each static soft attribute favourable / neutral / risky (the "wd" grid)."""
    cfg = config or SoftConfig()
    fav, neu, risk = Rating.FAVOURABLE, Rating.NEUTRAL, Rating.RISKY
    items: list[GridItem] = []

    age = profile.age
    if cfg.age_favourable_min <= age <= cfg.age_favourable_max:
        items.append(_item(_AGE, age, fav, "prime working age"))
    elif age < cfg.age_risky_below or age > cfg.age_risky_above:
        items.append(_item(_AGE, age, risk, "very young or near retirement"))
    else:
        items.append(_item(_AGE, age, neu, "outside the prime band"))

    status = profile.marital_status
    if status is MaritalStatus.MARRIED:
        items.append(_item("static.marital_status", status.value, fav, "married: stable household"))
    elif status is MaritalStatus.DIVORCED:
        items.append(_item("static.marital_status", status.value, risk, "divorced: assets split"))
    else:
        items.append(_item("static.marital_status", status.value, neu, "single or widowed"))

    edu = profile.education
    rating = fav if edu >= cfg.education_favourable_min else neu
    items.append(_item("static.education", edu.name.lower(), rating, "education level"))

    years = profile.years_in_business
    if years > cfg.years_in_business_favourable:
        items.append(_item("static.years_in_business", years, fav, "established business"))
    elif years < cfg.years_in_business_risky:
        items.append(_item("static.years_in_business", years, risk, "young business"))
    else:
        items.append(_item("static.years_in_business", years, neu, "some track record"))

    res = profile.years_at_residence
    value = f"{res:g} years, {'local' if profile.local_resident else 'not local'}"
    if profile.local_resident or res > cfg.residence_favourable_years:
        items.append(_item("static.residence", value, fav, "rooted locally"))
    elif res < cfg.residence_risky_years:
        items.append(_item("static.residence", value, risk, "recently moved, not local"))
    else:
        items.append(_item("static.residence", value, neu, "settled, not local"))

    dependants = profile.household_size - 1
    rating = risk if dependants >= cfg.household_risky_dependants else neu
    items.append(_item("static.household", profile.household_size, rating, "dependants to feed"))

    rating = fav if profile.children > 0 else neu
    items.append(_item("static.children", profile.children, rating, "family ties"))

    if profile.spouse_involved:
        items.append(_item("static.spouse", "involved", fav, "spouse works in the business"))
    else:
        items.append(_item("static.spouse", "not involved", neu, "no spouse in the business"))

    if profile.owns_home is not None:
        rating = fav if profile.owns_home else neu
        items.append(_item("static.home", profile.owns_home, rating, "seizable private assets"))

    if profile.overdue_months_24m is not None:
        overdue = profile.overdue_months_24m
        if overdue == 0:
            items.append(_item("static.credit_record", overdue, fav, "no overdue month in 24"))
        elif overdue >= cfg.overdue_months_risky:
            items.append(_item("static.credit_record", overdue, risk, "repeated overdue months"))
        else:
            items.append(_item("static.credit_record", overdue, neu, "occasional overdue"))
    return items


def rate_dynamic(indicators: DynamicIndicators, config: SoftConfig | None = None) -> list[GridItem]:
    """Rate each available dynamic indicator (absent ones are left out)."""
    cfg = config or SoftConfig()
    fav, neu, risk = Rating.FAVOURABLE, Rating.NEUTRAL, Rating.RISKY
    items: list[GridItem] = []
    rev = indicators.revenue_change
    if rev is not None:
        if rev <= cfg.revenue_change_risky:
            items.append(_item("dynamic.revenue_change", f"{rev:+.1%}", risk, "revenue falling"))
        elif rev >= cfg.revenue_change_favourable:
            items.append(_item("dynamic.revenue_change", f"{rev:+.1%}", fav, "revenue growing"))
        else:
            items.append(_item("dynamic.revenue_change", f"{rev:+.1%}", neu, "revenue stable"))
    att = indicators.attendance_change
    if att is not None:
        rating = risk if att <= cfg.attendance_change_risky else neu
        items.append(_item("dynamic.attendance_change", f"{att:+.2f}", rating, "staff activity"))
    inq = indicators.new_inquiries_3m
    if inq is not None:
        rating = risk if inq >= cfg.new_inquiries_risky else (fav if inq == 0 else neu)
        items.append(_item("dynamic.new_inquiries_3m", inq, rating, "search for credit"))
    lenders = indicators.new_lenders_6m
    if lenders is not None:
        rating = risk if lenders >= cfg.new_lenders_risky else (fav if lenders == 0 else neu)
        items.append(_item("dynamic.new_lenders_6m", lenders, rating, "new lenders"))
    return items


def _digits(x: float) -> int:
    """Decimals to print: none for whole numbers (heads, yuan), else two (fen, fractions)."""
    return 0 if float(x).is_integer() else 2


def compare_declared(fact: DeclaredFact, config: SoftConfig | None = None) -> GridItem:
    """Rate one declared fact against its verification; the deviation is on the item."""
    cfg = config or SoftConfig()
    key = f"declared.{fact.item.value}"
    tol = cfg.tolerances.get(fact.item)
    if tol is None:
        raise InvalidInput("config.tolerances", f"no tolerance configured for {fact.item.value}")
    declared = float(fact.declared)
    if fact.verified is None:
        return _item(key, f"declared {declared:,.6g}, not verified", Rating.NEUTRAL, "unverified")
    verified = float(fact.verified)
    denominator = declared if declared != 0 else verified
    deviation = 0.0 if denominator == 0 else (declared - verified) / denominator
    value = (
        f"declared {declared:,.{_digits(declared)}f}, verified {verified:,.{_digits(verified)}f}"
        f" ({fact.source or 'unnamed source'})"
    )
    if abs(deviation) <= tol.tolerance:
        rating, reason = Rating.FAVOURABLE, f"consistent within {tol.tolerance:.0%}"
    else:
        adverse = (
            tol.adverse is Direction.BOTH
            or (tol.adverse is Direction.OVER and deviation > 0)
            or (tol.adverse is Direction.UNDER and deviation < 0)
        )
        word = "overstated" if deviation > 0 else "understated"
        if adverse:
            rating, reason = Rating.RISKY, f"{word} by {abs(deviation):.1%}"
        else:
            rating, reason = Rating.NEUTRAL, f"{word} by {abs(deviation):.1%} (not adverse)"
    cell = _item(key, value, rating, reason)
    return replace(cell, deviation=deviation)


@dataclass(frozen=True)
class DeviationGrid:
    """The asymmetric-information deviation grid (不对称信息偏差分析表) of one application.

    ``deviation_rate``: share of the verified declared facts deviating beyond their tolerance
    (偏差率; NaN when none could be verified); ``weighted_deviation_rate``: the same with the
    configured item weights.
    """

    items: tuple[GridItem, ...]
    items_compared: int
    items_deviating: int
    deviation_rate: float
    weighted_deviation_rate: float

    def by_rating(self, rating: Rating) -> tuple[GridItem, ...]:
        return tuple(item for item in self.items if item.rating is rating)

    @property
    def risky(self) -> tuple[str, ...]:
        """Keys of the risky items, in grid order."""
        return tuple(item.key for item in self.by_rating(Rating.RISKY))

    def missing_justifications(self, justifications: Mapping[str, str]) -> tuple[str, ...]:
        """Risky items without a non-empty written justification (合理性解释)."""
        known = {item.key for item in self.items}
        for key, text in justifications.items():
            if key not in known:
                raise InvalidInput("justifications", f"no grid item {key!r}")
            if not isinstance(text, str):
                raise InvalidInput(f"justifications.{key}", "must be text")
        return tuple(key for key in self.risky if not justifications.get(key, "").strip())

    def ready_for_approval(self, justifications: Mapping[str, str]) -> bool:
        """True only when every risky item has a non-empty justification."""
        return not self.missing_justifications(justifications)

    def flags(self) -> list[Flag]:
        """One warning per risky item (code ``soft_risky`` or ``declared_deviation``)."""
        out = []
        for item in self.by_rating(Rating.RISKY):
            code = "declared_deviation" if item.category == "declared" else "soft_risky"
            evidence: dict[str, object] = {"item": item.key, "value": item.value}
            if item.deviation is not None:
                evidence["deviation"] = item.deviation
            out.append(
                Flag(
                    code=code,
                    severity=Severity.WARNING,
                    message=f"{item.label}: {item.reason}; needs a justification 合理性解释",
                    evidence=evidence,
                )
            )
        return out


def deviation_grid(
    profile: OwnerProfile | None,
    declared: Sequence[DeclaredFact],
    dynamic: DynamicIndicators | None = None,
    config: SoftConfig | None = None,
) -> DeviationGrid:
    """Build the grid: static, dynamic and declared-vs-verified items, and deviation rates."""
    cfg = config or SoftConfig()
    seen: set[DeclaredItem] = set()
    for fact in declared:
        if not isinstance(fact, DeclaredFact):
            raise InvalidInput("declared", f"not a DeclaredFact: {fact!r}")
        if fact.item in seen:
            raise InvalidInput("declared", f"{fact.item.value} declared twice")
        seen.add(fact.item)
    items: list[GridItem] = []
    if profile is not None:
        items.extend(rate_static(profile, cfg))
    if dynamic is not None:
        items.extend(rate_dynamic(dynamic, cfg))
    compared = deviating = 0
    weight_all = weight_dev = 0.0
    for fact in declared:
        cell = compare_declared(fact, cfg)
        items.append(cell)
        if cell.deviation is None:
            continue
        weight = cfg.tolerances[fact.item].weight
        is_dev = abs(cell.deviation) > cfg.tolerances[fact.item].tolerance
        compared += 1
        deviating += is_dev
        weight_all += weight
        weight_dev += weight * is_dev
    return DeviationGrid(
        items=tuple(items),
        items_compared=compared,
        items_deviating=deviating,
        deviation_rate=deviating / compared if compared else math.nan,
        weighted_deviation_rate=weight_dev / weight_all if weight_all else math.nan,
    )
