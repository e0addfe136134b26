"""Monthly flows of each business (月度经营流量): the one truth every rendering draws on.

For each business and month, from ``months`` before the application month to
``follow_months`` after it::

    sales = level × season(calendar month) × (1 + growth)^(t/12) × exp(volatility · z)
            × macro shock × warning decline (from precursor_start) × after-default decline

and from the sales, the rest of the month: purchases (sales × (1 − gross margin), with
inventory timing noise), payroll (staff × regional wage), rent (quarterly for a third of the
businesses), utilities, taxes, social insurance (companies only), household spending, debt
service to other lenders, and the split of sales by how it is paid: bank transfer (对公转账),
POS card acquiring (POS收单), online-platform payouts (平台结算), e-wallet QR codes (微信/支付宝
收款码, withdrawn to the bank) and cash (现金, partly deposited).

Manipulations are flows too: a round-tripper (过账/刷流水) moves ``round_trip`` in and out
again within days; a sales inflater (虚增销售) books ``consulting_in`` credits (fake 咨询费/
货款 from related parties) so that statements seem to support the inflated sales; some of
the undisciplined pay gambling-like merchants (``gambling_out``).

Amounts are CNY floats here (analytics); the renderings convert to integer fen.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.latent import month_index
from xiaowei.simulate.random import Stream, business_rng

FLOW_COLUMNS = (
    "sales",
    "sales_transfer",
    "sales_pos",
    "sales_platform",
    "sales_wallet",
    "sales_cash",
    "purchases",
    "payroll",
    "rent",
    "utilities",
    "taxes",
    "social_insurance",
    "household",
    "debt_service",
    "round_trip",
    "consulting_in",
    "gambling_out",
)


def monthly_flows(
    config: SimulationConfig,
    businesses: pl.DataFrame,
    truth: pl.DataFrame,
    timeline: pl.DataFrame,
    debts: pl.DataFrame,
) -> pl.DataFrame:
    """One row per business and month; ``phase`` is ``history`` before the application month
    and ``follow`` from it on. ``activity`` (0–1) is how busy the business is (attendance and
    transaction counts follow it); ``headcount`` is staff on the payroll that month."""
    b = (
        businesses.join(truth, on="business_id")
        .join(timeline, on="business_id")
        .sort("business_id")
    )
    ids = b["business_id"].to_numpy()
    app = b["application_date"].to_list()
    span = config.months + config.follow_months
    ind = {i.code.value: i for i in config.industries}

    cols: dict[str, list[np.ndarray]] = {c: [] for c in ("business_id", "month_index", "t")}
    for c in (*FLOW_COLUMNS, "activity", "headcount"):
        cols[c] = []
    rows = b.to_dicts()
    for bid, row, app_date in zip(ids, rows, app, strict=True):
        rng = business_rng(config.seed, int(bid), Stream.FLOWS)
        industry = ind[row["industry"]]
        start = month_index(app_date) - config.months
        months = np.arange(start, start + span)
        t = np.arange(-config.months, config.follow_months)
        season = np.array(industry.seasonality)[months % 12]
        level = row["sales_level"]
        noise = np.exp(row["volatility"] * rng.standard_normal(span) - row["volatility"] ** 2 / 2)
        factor = np.ones(span)
        for shock in config.macro_shocks:
            s0 = month_index(shock.start)
            hit = not shock.industries or row["industry"] in [i.value for i in shock.industries]
            if hit:
                factor = np.where(
                    (months >= s0) & (months < s0 + shock.months),
                    factor * shock.sales_multiplier,
                    factor,
                )
        activity = np.ones(span)
        if row["precursor_start"] is not None:
            p0, d0 = row["precursor_start"], row["default_month"]
            ramp = np.clip((months - p0 + 1) / max(d0 - p0, 1), 0, 1)
            activity = np.where(months >= p0, 1.0 - 0.5 * ramp, activity)
        if row["default_month"] is not None:
            closes = rng.random() < 0.4
            after = months >= row["default_month"]
            activity = np.where(after, 0.0 if closes else 0.4, activity)
        sales = level * season * (1 + row["growth"]) ** (t / 12) * noise * factor * activity
        gm = row["gross_margin"]
        purchases = sales * (1 - gm) * np.exp(0.08 * rng.standard_normal(span))
        staff = row["employees"]
        headcount = np.round(staff * np.minimum(1.0, 0.3 + 0.7 * activity)).astype(np.int64)
        payroll = headcount * row["monthly_wage"] * rng.uniform(0.9, 1.1, span)
        rent_month = level * industry.rent_share
        quarterly = rng.random() < 0.33
        rent = np.where(quarterly, np.where(months % 3 == 0, 3 * rent_month, 0.0), rent_month) * (
            activity > 0
        )
        utilities = sales * industry.utility_share + 150.0 * (activity > 0)
        taxes = sales * industry.tax_rate
        company = row["legal_form"] != "个体工商户"
        social = headcount * row["monthly_wage"] * 0.3 * company
        household = row["household_spend"] * rng.uniform(0.85, 1.2, span)
        debt_service = np.zeros(span)  # filled from the debts below, vectorised
        # how the customers pay (shares drawn once per business)
        share = _payment_shares(
            rng, industry.b2b_share, has_pos=row["has_pos"], has_ecommerce=row["has_ecommerce"]
        )
        round_trip = np.zeros(span)
        if row["round_trips"]:
            round_trip = level * rng.uniform(0.3, 1.5) * (rng.random(span) < 0.7)
        consulting = np.zeros(span)
        if row["inflates_sales"]:
            # fake credits of varying size in about half of the months
            consulting = (
                level
                * (row["sales_inflation"] - 1.0)
                * 1.6
                * (rng.random(span) < 0.5)
                * rng.lognormal(-0.045, 0.3, span)
            )
        gambling = np.zeros(span)
        if row["credit_discipline"] < -1.2 and rng.random() < 0.35:
            gambling = level * 0.02 * rng.lognormal(0, 0.6, span) * (rng.random(span) < 0.6)

        cols["business_id"].append(np.full(span, bid))
        cols["month_index"].append(months)
        cols["t"].append(t)
        cols["sales"].append(sales)
        for name, s in zip(
            ("sales_transfer", "sales_pos", "sales_platform", "sales_wallet", "sales_cash"),
            share,
            strict=True,
        ):
            cols[name].append(sales * s)
        cols["purchases"].append(purchases)
        cols["payroll"].append(payroll)
        cols["rent"].append(rent)
        cols["utilities"].append(utilities)
        cols["taxes"].append(taxes)
        cols["social_insurance"].append(social)
        cols["household"].append(household)
        cols["debt_service"].append(debt_service)
        cols["round_trip"].append(round_trip)
        cols["consulting_in"].append(consulting)
        cols["gambling_out"].append(gambling)
        cols["activity"].append(activity)
        cols["headcount"].append(headcount)

    frame = pl.DataFrame({k: np.concatenate(v) if v else np.array([]) for k, v in cols.items()})
    frame = _with_debt_service(frame, debts)
    money = [pl.col(c).round(2) for c in FLOW_COLUMNS]
    return frame.with_columns(
        pl.col("business_id").cast(pl.Int64),
        pl.col("month_index").cast(pl.Int64),
        pl.col("t").cast(pl.Int64),
        pl.col("headcount").cast(pl.Int64),
        *money,
        pl.col("activity").round(4),
        pl.date(pl.col("month_index") // 12, pl.col("month_index") % 12 + 1, 1).alias("month"),
        pl.when(pl.col("t") < 0).then(pl.lit("history")).otherwise(pl.lit("follow")).alias("phase"),
    )


def _payment_shares(
    rng: np.random.Generator, b2b: float, *, has_pos: bool, has_ecommerce: bool
) -> np.ndarray:
    """Shares of sales by payment channel: transfer, POS, platform, e-wallet, cash."""
    transfer = min(max(b2b * rng.uniform(0.7, 1.3), 0.0), 1.0)
    rest = 1.0 - transfer
    weights = np.array(
        [
            0.0,
            rng.uniform(0.3, 0.7) if has_pos else 0.0,
            rng.uniform(0.6, 0.95) if has_ecommerce else 0.0,
            rng.uniform(0.2, 0.5),
            rng.uniform(0.05, 0.3),
        ]
    )
    weights = weights / weights.sum() * rest
    weights[0] = transfer
    return np.asarray(weights, dtype=np.float64)


def _with_debt_service(frame: pl.DataFrame, debts: pl.DataFrame) -> pl.DataFrame:
    """Debt service (还款支出) of each month: every debt's payment from the month after it was
    opened until its term ends (revolving lines and cards, term 0, every month)."""
    if debts.height == 0 or frame.height == 0:
        return frame
    d = debts.select(
        "business_id",
        (pl.col("opened").dt.year() * 12 + pl.col("opened").dt.month() - 1).alias("open_m"),
        "term_months",
        (pl.col("monthly_payment_fen") / 100).alias("payment"),
    )
    due = (
        frame.select("business_id", "month_index")
        .join(d, on="business_id")
        .filter(
            (pl.col("month_index") > pl.col("open_m"))
            & (
                (pl.col("term_months") == 0)
                | (pl.col("month_index") <= pl.col("open_m") + pl.col("term_months"))
            )
        )
        .group_by("business_id", "month_index")
        .agg(pl.col("payment").sum().alias("service"))
    )
    return (
        frame.join(due, on=["business_id", "month_index"], how="left", maintain_order="left")
        .with_columns(pl.col("service").fill_null(0.0).alias("debt_service"))
        .drop("service")
    )
