"""The latent population (潜在变量): one row per business, drawn once, rendered everywhere.

Every data source of the simulator is a rendering of these frames; none draws its own
business. The observable attributes (industry, region, age, size, owner demographics, debts)
and the latent ones (true default probability, credit discipline, sales volatility, honesty)
are drawn together here, vectorised over the whole population.

The true 12-month default probability (真实违约概率) is a logistic function of observable
attributes plus an unobservable term::

    logit PD = b0 + industry + region − 0.45·ln(years/5) + 0.35·((age − 42)/10)²
               − 0.30·married − 0.10·(education − 2) − 0.15·(ln(1 + staff) − 1.5)
               + 1.2·(debt service ratio − 0.35) − 0.55·credit discipline
               + 0.35·z(volatility) + 0.6·dishonest + ε,        ε ~ N(0, latent_noise²)

``b0`` is solved (bisection) so that the population's mean PD equals the configured target.
Credit discipline (信用习惯) is latent too, but it is rendered into the credit report's
delinquency history, so a model that reads the report sees part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from xiaowei.simulate import vocab
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.random import Stream, choice_index, population_rng

# Terms (months) applied for and their shares.
TERMS = np.array([6, 12, 24, 36])
TERM_SHARES = np.array([0.10, 0.60, 0.20, 0.10])
PURPOSES = np.array(["采购原材料", "备货", "支付货款", "扩大经营", "装修店面", "购置设备"])


def month_index(d: date) -> int:
    """Absolute month number (月序号): year × 12 + month − 1."""
    return d.year * 12 + d.month - 1


def month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Population:
    """The latent population: observable frames and their hidden truth, kept apart.

    * ``businesses``: one row per business (observable: what the application and the business
      licence say);
    * ``owners``: the owner (法定代表人/经营者) of each business;
    * ``parties``: related parties (关联人): spouses and partners (guarantors join from the
      network);
    * ``debts``: every debt of the business and its owner at application, reported or not,
      declared or not: truth, rendered into the report, the statements and the IPC file;
    * ``truth``: latent per-business variables (true PD, discipline, honesty, volatility).
    """

    config: SimulationConfig
    businesses: pl.DataFrame
    owners: pl.DataFrame
    parties: pl.DataFrame
    debts: pl.DataFrame
    truth: pl.DataFrame


def draw_population(config: SimulationConfig) -> Population:
    n = config.businesses
    rng = population_rng(config.seed, Stream.LATENT)
    ids = np.arange(1, n + 1, dtype=np.int64)

    inds = config.industries
    ind_idx = choice_index(rng, np.array([i.share for i in inds]), n)
    regs = config.regions
    reg_idx = choice_index(rng, np.array([r.share for r in regs]), n)
    ind_code = np.array([i.code.value for i in inds])[ind_idx]
    gm_low = np.array([i.gm_low for i in inds])[ind_idx]
    gm_high = np.array([i.gm_high for i in inds])[ind_idx]
    median_sales = np.array([i.median_monthly_sales for i in inds])[ind_idx]
    spe = np.array([i.sales_per_employee for i in inds])[ind_idx]
    ind_vol = np.array([i.volatility for i in inds])[ind_idx]
    ind_risk = np.array([i.risk_offset for i in inds])[ind_idx]
    pos_prob = np.array([i.pos_prob for i in inds])[ind_idx]
    ecom_prob = np.array([i.ecommerce_prob for i in inds])[ind_idx]
    reg_risk = np.array([r.risk_offset for r in regs])[reg_idx]
    wage = np.array([r.monthly_wage for r in regs])[reg_idx]

    # Application dates, uniform over the window.
    span = (config.application_end - config.application_start).days + 1
    app_offset = rng.integers(0, span, n)
    app_dates = np.datetime64(config.application_start, "D") + app_offset

    # Size and economics.
    years = np.clip(rng.lognormal(np.log(5.0), 0.7, n), 0.5, 35.0)
    size = rng.lognormal(0.0, 0.75, n) * (1 + 0.04 * np.minimum(years, 15))
    sales_level = median_sales * size
    employees = np.maximum(
        0, np.round(sales_level / spe * rng.lognormal(0.0, 0.25, n) - 0.5)
    ).astype(np.int64)
    gross_margin = gm_low + (gm_high - gm_low) * rng.beta(2.0, 2.0, n)
    volatility = ind_vol * rng.lognormal(0.0, 0.3, n)
    growth = rng.normal(0.04, 0.12, n)  # yearly sales growth

    legal_roll = rng.random(n)
    llc_prob = np.clip(0.15 + 0.25 * np.log1p(employees) / np.log(30), 0.1, 0.75)
    legal = np.where(legal_roll < llc_prob, 1, np.where(legal_roll < llc_prob + 0.05, 2, 0))
    legal_form = np.array(vocab.LEGAL_FORMS)[legal]

    has_pos = rng.random(n) < pos_prob
    has_ecommerce = rng.random(n) < ecom_prob
    has_web = has_ecommerce & (rng.random(n) < 0.8)
    has_workplace = (employees >= 3) & (rng.random(n) < 0.6)

    # Owner demographics.
    age = np.clip(np.round(rng.normal(41, 8.5, n)), 22, 68).astype(np.int64)
    age = np.maximum(age, np.ceil(years + 20).astype(np.int64))
    married_roll = rng.random(n)
    married_p = np.clip(0.45 + (age - 25) * 0.03, 0.35, 0.9)
    marital = np.where(
        married_roll < married_p,
        1,
        np.where(married_roll < married_p + 0.07, 2, np.where(age > 55, 3, 0)),
    )
    education = choice_index(rng, np.array([0.10, 0.30, 0.30, 0.18, 0.12]), n)
    years_at_residence = np.minimum(age - 18, np.round(rng.lognormal(np.log(8), 0.7, n)))
    children = np.where(marital == 0, 0, rng.poisson(1.3, n))
    household = 1 + (marital == 1) + children + (rng.random(n) < 0.25)
    gender = np.where(rng.random(n) < 0.68, "男", "女")
    credit_discipline = rng.normal(0.0, 1.0, n)

    # Honesty (诚信): manipulations, more likely for the undisciplined.
    tilt = np.exp(-0.4 * credit_discipline)
    inflates = rng.random(n) < np.clip(config.inflate_sales_share * tilt / tilt.mean(), 0, 1)
    hides = rng.random(n) < np.clip(config.hide_debt_share * tilt / tilt.mean(), 0, 1)
    round_trips = rng.random(n) < np.clip(config.round_trip_share * tilt / tilt.mean(), 0, 1)
    inflation = np.where(inflates, 1.0 + rng.uniform(0.15, 0.6, n), 1.0)
    honesty = np.clip(
        sigmoid(1.5 + 0.6 * credit_discipline + rng.normal(0, 0.5, n))
        - 0.25 * (inflates + hides + round_trips),
        0.0,
        1.0,
    )

    # Monthly economics used in the latent risk (true, before any manipulation).
    rent_share = np.array([i.rent_share for i in inds])[ind_idx]
    util_share = np.array([i.utility_share for i in inds])[ind_idx]
    tax_rate = np.array([i.tax_rate for i in inds])[ind_idx]
    payroll = employees * wage
    profit = sales_level * (gross_margin - rent_share - util_share - tax_rate) - payroll
    # household spending (家庭开支): a floor by household size and local wages, plus a share of
    # the business profit (owners of better businesses live better)
    household_spend = 1000.0 * household * (wage / 5500.0) + 0.15 * np.maximum(profit, 0.0)
    disposable = np.maximum(profit - household_spend, 0.03 * sales_level * gross_margin)

    debts = _draw_debts(
        config, ids, sales_level, disposable, credit_discipline, hides, app_dates, ind_code
    )
    service = (
        debts.group_by("business_id")
        .agg(pl.col("monthly_payment_fen").sum().alias("service"))
        .join(pl.DataFrame({"business_id": ids}), on="business_id", how="right")
        .sort("business_id")["service"]
        .fill_null(0)
        .to_numpy()
        / 100.0
    )
    # The loan applied for: most ask for what their free income can carry, some for more.
    term = TERMS[choice_index(rng, TERM_SHARES, n)]
    free = np.maximum(disposable - service, 0.2 * disposable)
    raw_amount = free * term * rng.lognormal(np.log(0.5), 0.45, n)
    amount = np.clip(np.round(raw_amount / 10_000) * 10_000, 30_000, 3_000_000).astype(np.int64)
    purpose = PURPOSES[rng.integers(0, len(PURPOSES), n)]
    new_installment = amount * (0.01 + 1.0 / term)
    dsr = np.clip((service + new_installment) / disposable, 0.0, 3.0)

    dishonest = (inflates | hides | round_trips).astype(np.float64)
    z_vol = np.log(volatility / ind_vol) / 0.3
    logit_obs = (
        ind_risk
        + reg_risk
        - 0.45 * np.log(years / 5.0)
        + 0.35 * ((age - 42) / 10.0) ** 2
        - 0.30 * (marital == 1)
        - 0.10 * (education - 2)
        - 0.15 * (np.log1p(employees) - 1.5)
        + 1.2 * (np.minimum(dsr, 2.0) - 0.35)
        - 0.55 * credit_discipline
        + 0.35 * z_vol
        + 0.6 * dishonest
    )
    noise = rng.normal(0.0, config.latent_noise, n)
    b0 = _calibrate(logit_obs + noise, config.target_default_rate)
    logit = b0 + logit_obs + noise
    pd_12m = sigmoid(logit)

    owner_rng = population_rng(config.seed, Stream.OWNERS)
    owner_names = vocab.person_names(owner_rng, n)
    shop = vocab.SHOP_WORDS[owner_rng.integers(0, len(vocab.SHOP_WORDS), n)]
    ind_word = np.array(
        [
            vocab.INDUSTRY_WORDS[c][k % len(vocab.INDUSTRY_WORDS[c])]
            for c, k in zip(ind_code, owner_rng.integers(0, 1000, n), strict=True)
        ],
        dtype=object,
    )
    city = np.array([r.name_zh for r in regs])[reg_idx]
    suffix = np.array([vocab.LEGAL_SUFFIX[f][0] for f in legal_form], dtype=object)
    names = [f"{c}市{s}{w}{x}" for c, s, w, x in zip(city, shop, ind_word, suffix, strict=True)]
    uscc = [
        f"9{reg[:2]}{i:015d}"[:18]
        for reg, i in zip(
            np.array([r.bank_code for r in regs])[reg_idx], ids * 7919 % 10**15, strict=True
        )
    ]
    founded = app_dates - np.round(years * 365.25).astype("timedelta64[D]")

    businesses = pl.DataFrame(
        {
            "business_id": ids,
            "business_name": names,
            "uscc": uscc,
            "legal_form": legal_form,
            "industry": ind_code,
            "region": np.array([r.code for r in regs])[reg_idx],
            "city": city,
            "founded": founded,
            "years_in_business": np.round(years, 1),
            "employees": employees,
            "owner_id": ids,
            "application_date": app_dates,
            "requested_amount_fen": amount * 100,
            "requested_term": term.astype(np.int64),
            "loan_purpose": purpose,
            "has_pos": has_pos,
            "has_ecommerce": has_ecommerce,
            "has_web": has_web,
            "has_workplace": has_workplace,
        },
    )
    owners = pl.DataFrame(
        {
            "owner_id": ids,
            "business_id": ids,
            "name": owner_names,
            "gender": gender,
            "age": age,
            "marital_status": np.array(vocab.MARITAL)[marital],
            "education": np.array(vocab.EDUCATION)[education],
            "years_at_residence": years_at_residence.astype(np.int64),
            "household_size": household.astype(np.int64),
            "children": children.astype(np.int64),
            "id_number": _id_numbers(owner_rng, businesses, age),
        }
    )
    parties = _parties(owner_rng, ids, marital, legal, owner_names)
    truth = pl.DataFrame(
        {
            "business_id": ids,
            "pd_12m": pd_12m,
            "logit": logit,
            "latent_noise": noise,
            "credit_discipline": credit_discipline,
            "honesty": honesty,
            "inflates_sales": inflates,
            "hides_debt": hides,
            "round_trips": round_trips,
            "sales_inflation": inflation,
            "sales_level": np.round(sales_level, 2),
            "gross_margin": np.round(gross_margin, 4),
            "volatility": volatility,
            "growth": growth,
            "monthly_wage": wage,
            "household_spend": np.round(household_spend, 2),
            "debt_service_ratio": dsr,
        }
    )
    return Population(config, businesses, owners, parties, debts, truth)


def _calibrate(logit: np.ndarray, target: float) -> float:
    lo, hi = -15.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if sigmoid(logit + mid).mean() > target:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def _id_numbers(rng: np.random.Generator, businesses: pl.DataFrame, age: np.ndarray) -> list[str]:
    """Resident ID numbers with a valid check digit, masked as printed reports mask them."""
    out = []
    regions = businesses["uscc"].to_list()
    apps = businesses["application_date"].to_list()
    seqs = rng.integers(0, 1000, len(age))
    days = rng.integers(0, 365, len(age))
    for reg, app, a, seq, d in zip(regions, apps, age, seqs, days, strict=True):
        born = date(app.year - int(a), 1, 1) + timedelta(days=int(d))
        body = f"{reg[1:3]}0102{born:%Y%m%d}{seq:03d}"
        full = body + vocab.id_check_digit(body)
        out.append(full[:6] + "********" + full[14:])
    return out


def _parties(
    rng: np.random.Generator,
    ids: np.ndarray,
    marital: np.ndarray,
    legal: np.ndarray,
    owner_names: np.ndarray,
) -> pl.DataFrame:
    married = ids[marital == 1]
    partners = ids[legal == 2]
    n_partners = rng.integers(1, 3, len(partners))
    partner_ids = np.repeat(partners, n_partners)
    spouse_names = vocab.person_names(rng, len(married))
    partner_names = vocab.person_names(rng, len(partner_ids))
    frame = pl.DataFrame(
        {
            "business_id": np.concatenate([married, partner_ids]),
            "role": ["spouse"] * len(married) + ["partner"] * len(partner_ids),
            "role_zh": ["配偶"] * len(married) + ["合伙人"] * len(partner_ids),
            "name": np.concatenate([spouse_names, partner_names]),
        },
        schema={"business_id": pl.Int64, "role": pl.Utf8, "role_zh": pl.Utf8, "name": pl.Utf8},
    ).sort("business_id", "role", maintain_order=True)
    _ = owner_names
    return frame.with_row_index("party_id", offset=1).with_columns(
        pl.col("party_id").cast(pl.Int64)
    )


def _draw_debts(
    config: SimulationConfig,
    ids: np.ndarray,
    sales_level: np.ndarray,
    disposable: np.ndarray,
    discipline: np.ndarray,
    hides: np.ndarray,
    app_dates: np.ndarray,
    industry: np.ndarray,
) -> pl.DataFrame:
    """Debts outstanding at application (存量负债), with who they are reported to and declared.

    The undisciplined borrow from more lenders (多头借贷); platforms and micro-lenders are
    likelier for them. A hider (隐瞒负债) declares none of the non-bank debts to the officer.
    Private loans (民间借贷) are never in the credit report.
    """
    rng = population_rng(config.seed, Stream.DEBTS)
    n = len(ids)
    lam = np.clip(0.6 + 0.35 * np.log1p(sales_level / 100_000) - 0.45 * discipline, 0.1, 6.0)
    counts = rng.poisson(lam)
    owner = np.repeat(np.arange(n), counts)
    m = len(owner)
    bad = discipline[owner] < -0.5
    kinds = vocab.LENDER_KINDS
    base_w = np.where(kinds == "bank", 3.0, 1.0)
    base_w = np.where(kinds == "private", 0.6, base_w)
    base_w = np.where(kinds == "leasing", 0.3, base_w)
    risky_w = np.where(np.isin(kinds, ["platform", "microloan", "consumer-finance"]), 2.5, 1.0)
    lender_good = choice_index(rng, base_w, m)
    lender_bad = choice_index(rng, base_w * risky_w, m)
    lender = np.where(bad, lender_bad, lender_good)
    kind = kinds[lender]
    # leasing only for manufacturing and agriculture: otherwise a bank loan
    no_lease = (kind == "leasing") & ~np.isin(industry[owner], ["manufacturing", "agriculture"])
    lender = np.where(no_lease, 0, lender)
    kind = kinds[lender]
    income = disposable[owner]
    principal = np.where(
        np.isin(kind, ["platform", "consumer-finance"]),
        rng.uniform(0.5, 3.0, m) * np.minimum(income, 30_000),
        np.where(
            kind == "private", rng.uniform(1.0, 6.0, m) * income, rng.uniform(2.0, 8.0, m) * income
        ),
    )
    principal = np.maximum(np.round(principal / 1000) * 1000, 5000)
    account_type = np.where(
        kind == "platform",
        np.where(rng.random(m) < 0.6, "R4", "D1"),
        np.where(
            kind == "bank",
            np.where(rng.random(m) < 0.25, "R1", np.where(rng.random(m) < 0.3, "R2", "D1")),
            "D1",
        ),
    )
    term = np.where(account_type == "R2", 0, np.array([12, 12, 24, 36, 36])[rng.integers(0, 5, m)])
    age_months = np.where(term > 0, rng.integers(0, np.maximum(term, 1)), rng.integers(1, 60, m))
    opened = app_dates[owner] - np.round(age_months * 30.4 + rng.integers(0, 28, m)).astype(
        "timedelta64[D]"
    )
    remaining = np.maximum(term - age_months, 1)
    rate = np.where(
        np.isin(kind, ["bank", "leasing"]), 0.06, np.where(kind == "private", 0.18, 0.15)
    )
    level = principal * (rate / 12) / (1 - (1 + rate / 12) ** -np.maximum(term, 1))
    balance = np.where(
        term > 0, principal * remaining / np.maximum(term, 1), principal * rng.uniform(0.1, 0.9, m)
    )
    monthly = np.where(
        account_type == "R2",
        balance * 0.1,
        np.where(account_type == "R1", balance * rate / 12, level),
    )
    reports = vocab.LENDER_REPORTS[lender]
    declared = ~(hides[owner] & (kind != "bank")) & (rng.random(m) < 0.97)
    borrower = np.where(
        (kind == "bank") & (rng.random(m) < 0.4) & (account_type != "R2"), "firm", "owner"
    )
    frame = pl.DataFrame(
        {
            "business_id": ids[owner],
            "borrower": borrower,
            "lender": vocab.LENDER_NAMES[lender],
            "lender_kind": kind,
            "institution_type": vocab.LENDER_CODES[lender],
            "account_type": account_type,
            "opened": opened,
            "term_months": term.astype(np.int64),
            "annual_rate": rate,
            "principal_fen": (principal * 100).astype(np.int64),
            "balance_fen": (np.round(balance) * 100).astype(np.int64),
            "monthly_payment_fen": (np.round(monthly) * 100).astype(np.int64),
            "reports_to_bureau": reports,
            "declared": declared,
        },
    )
    return frame.with_row_index("debt_id", offset=1).with_columns(pl.col("debt_id").cast(pl.Int64))
