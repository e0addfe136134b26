"""Alternative-data channels (替代数据): POS, e-commerce, web traffic and workplace features.

Four data sources an officer can obtain with the applicant's authorisation, besides the bank
statements, and what they say about the business (research notes
``shared/research/credit_analysis_methods.md`` §2, "POS and e-commerce data"):

* **POS acquiring settlements** (POS收单结算): monthly settled amount and transaction count,
  average ticket (客单价), active trading days, refund rate, consistency of the merchant
  category code (MCC, 商户类别码, ISO 18245) with the declared industry, and the ratio of POS
  settlements to bank inflows (POS结算/银行流入) when the caller passes monthly bank inflows.
* **Online stores** (网店经营数据): GMV (成交额), orders, average order value (AOV), refund rate
  (退款率, refund amount over GMV), store rating (DSR 店铺评分), negative-review rate (差评率),
  store age and the GMV trend.
* **Web traffic** (流量): PV (浏览量), UV (访客数), conversion = orders / UV, UV trend.
* **Workplace attendance** (钉钉考勤与审批): attendance rate, its trend (last 3 months against
  the 3 before), late and absent rates, approvals (审批) per staff member per month — and the
  **post-loan handle** (贷后抓手, :func:`attendance_monitoring`): monthly attendance and
  activity after booking against the pre-loan baseline, flagging ``attendance_drop`` when the
  rate falls by more than a configurable amount (the early-warning signals of notes §5:
  falling activity precedes default).

Canonical input schemas (one frame per source, many businesses at once; they equal the
simulator's tables, so its output is read as is):

``pos/settlements`` — one row per merchant and trading day:
    ``business_id`` int, ``merchant_id`` str, ``mcc`` str, ``settle_date`` date,
    ``trade_date`` date, ``txn_count`` int, ``gross_fen`` int, ``refund_fen`` int,
    ``fee_fen`` int, ``net_fen`` int.
``ecommerce/store_monthly`` — one row per store and month:
    ``business_id`` int, ``store_id`` str, ``platform`` str, ``month`` date (first day),
    ``gmv_fen`` int, ``orders`` int, ``refund_fen`` int, ``refund_orders`` int,
    ``commission_fen`` int, ``payout_fen`` int, ``aov_fen`` int, ``rating`` float,
    ``negative_review_rate`` float, ``store_age_months`` int.
``web/traffic`` — one row per day: ``business_id`` int, ``date`` date, ``pv`` int, ``uv`` int,
    ``orders`` int, ``conversion`` float.
``workplace/attendance`` — one row per working day: ``business_id`` int, ``date`` date,
    ``staff`` int, ``present`` int, ``late`` int, ``leave`` int, ``absent`` int,
    ``approvals`` int, ``approvals_leave`` int, ``approvals_expense`` int,
    ``approvals_purchase`` int.

Missing columns, wrong types, nulls, negative counts or amounts and impossible rows (present or
absent above staff, refunds above gross) raise :class:`~xiaowei.core.errors.InvalidInput`
naming the table and column.

**Windows.** Features are computed per business over the 3, 6 and 12 complete calendar months
before the month of its ``as_of`` date (a frame ``business_id → as_of``, e.g. the application
date, or one date for all): for an application on 2025-07-15 the 3-month window is April to
June 2025. Money features are monthly averages in integer fen (a month without rows counts as
zero), counts are monthly averages, ratios are floats (null when the denominator is zero).
Every business of the ``as_of`` frame gets one row; rows of businesses not in it are ignored.
Trends compare the last ``trend_months`` months with the ``trend_months`` before them.

Every threshold is in :class:`ChannelsConfig`. All computation is Polars expressions over all
businesses at once; Python loops run only once per flagged business to build
:class:`~xiaowei.analysis.flags.Flag` objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from xiaowei.analysis.flags import Flag, Severity
from xiaowei.core.errors import InvalidInput

# --- schemas ------------------------------------------------------------------------------------

_INT = "int"
_STR = "str"
_DATE = "date"
_FLOAT = "float"

POS_COLUMNS: dict[str, str] = {
    "business_id": _INT,
    "merchant_id": _STR,
    "mcc": _STR,
    "settle_date": _DATE,
    "trade_date": _DATE,
    "txn_count": _INT,
    "gross_fen": _INT,
    "refund_fen": _INT,
    "fee_fen": _INT,
    "net_fen": _INT,
}
STORE_COLUMNS: dict[str, str] = {
    "business_id": _INT,
    "store_id": _STR,
    "platform": _STR,
    "month": _DATE,
    "gmv_fen": _INT,
    "orders": _INT,
    "refund_fen": _INT,
    "refund_orders": _INT,
    "commission_fen": _INT,
    "payout_fen": _INT,
    "aov_fen": _INT,
    "rating": _FLOAT,
    "negative_review_rate": _FLOAT,
    "store_age_months": _INT,
}
TRAFFIC_COLUMNS: dict[str, str] = {
    "business_id": _INT,
    "date": _DATE,
    "pv": _INT,
    "uv": _INT,
    "orders": _INT,
    "conversion": _FLOAT,
}
ATTENDANCE_COLUMNS: dict[str, str] = {
    "business_id": _INT,
    "date": _DATE,
    "staff": _INT,
    "present": _INT,
    "late": _INT,
    "leave": _INT,
    "absent": _INT,
    "approvals": _INT,
    "approvals_leave": _INT,
    "approvals_expense": _INT,
    "approvals_purchase": _INT,
}
BANK_INFLOW_COLUMNS: dict[str, str] = {"business_id": _INT, "month": _DATE, "inflow_fen": _INT}

# Columns that may be negative: none of the channel tables has a signed quantity except the
# net settlement (a day of refunds above sales nets out negative).
_SIGNED = frozenset({"net_fen"})

# Merchant category codes (ISO 18245) a business of each declared industry may plausibly be
# registered under. Our own list: retail codes for trade, wholesale/industrial supply codes for
# manufacturing, personal and repair services for service, eating places for catering, farm
# cooperatives and food stores for agriculture, direct marketing for online sellers. Codes used
# for 套码/跳码 (hospitals 8062, hotels 7011, jewellery 5094, pawn shops 5933, …) fit none.
DEFAULT_MCC_BY_INDUSTRY: dict[str, tuple[str, ...]] = {
    "trade": ("5200", "5211", "5251", "5311", "5331", "5399", "5411", "5499", "5999"),
    "manufacturing": ("5013", "5039", "5065", "5072", "5085", "5099", "5137", "5198", "5199"),
    "service": (
        "7210",
        "7211",
        "7216",
        "7221",
        "7230",
        "7298",
        "7299",
        "7349",
        "7538",
        "7542",
        "7997",
    ),
    "catering": ("5462", "5811", "5812", "5814"),
    "agriculture": ("0763", "5193", "5422", "5499"),
    "ecommerce": ("5964", "5965", "5969", "5999"),
}


class ChannelsConfig(BaseModel):
    """Every threshold of the alternative-data analysis (替代数据分析参数), with why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    windows_months: tuple[int, ...] = Field(
        default=(3, 6, 12),
        description="feature windows in complete calendar months before the as_of month "
        "(notes §2: monthly figures over 3/6/12 months)",
    )
    trend_months: int = Field(
        default=3,
        ge=1,
        description="trends compare the last n months with the n before them (the brief: "
        "attendance of the last 3 months against the 3 before)",
    )
    mcc_by_industry: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict(DEFAULT_MCC_BY_INDUSTRY),
        description="MCCs consistent with each declared industry; a merchant registered under "
        "any other code is flagged mcc_mismatch (notes §2: MCC consistency)",
    )
    attendance_baseline_months: int = Field(
        default=6,
        ge=1,
        description="pre-loan baseline of the post-loan monitoring: attendance over this many "
        "complete months before the booking month (half a year evens out seasonal leave)",
    )
    attendance_drop: float = Field(
        default=0.10,
        gt=0.0,
        lt=1.0,
        description="a monitoring month whose attendance rate is this many points (0.10 = 10 "
        "percentage points) below the pre-loan baseline is an attendance_drop month; healthy "
        "micro businesses keep 94-99 % attendance with month-to-month noise of about 2 points "
        "(a month of a small team can dip 6-8 points by chance), distressed ones fall 20+",
    )
    attendance_drop_min_months: int = Field(
        default=1,
        ge=1,
        description="months below the baseline needed to raise the attendance_drop flag",
    )
    min_workdays: int = Field(
        default=5,
        ge=1,
        description="a monitoring month with fewer recorded working days is too thin to judge "
        "(the business stopped recording, or a holiday month); its rate is not compared",
    )

    @model_validator(mode="after")
    def _check(self) -> ChannelsConfig:
        if not self.windows_months or any(w < 1 for w in self.windows_months):
            raise ValueError("windows_months must be positive month counts")
        if len(set(self.windows_months)) != len(self.windows_months):
            raise ValueError("windows_months must be distinct")
        return self


DEFAULT_CONFIG = ChannelsConfig()


# --- validation ---------------------------------------------------------------------------------


def _validate(frame: pl.DataFrame, columns: Mapping[str, str], table: str) -> pl.DataFrame:
    """The frame's canonical columns, cast to the canonical types, or InvalidInput."""
    if not isinstance(frame, pl.DataFrame):
        raise InvalidInput(table, f"expected a Polars DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(table, f"missing column(s): {', '.join(missing)}")
    exprs: list[pl.Expr] = []
    for name, kind in columns.items():
        dtype = frame.schema[name]
        field = f"{table}.{name}"
        if kind == _INT:
            if not dtype.is_integer():
                raise InvalidInput(field, f"expected integers, got {dtype}")
            exprs.append(pl.col(name).cast(pl.Int64))
        elif kind == _FLOAT:
            if not dtype.is_numeric():
                raise InvalidInput(field, f"expected numbers, got {dtype}")
            exprs.append(pl.col(name).cast(pl.Float64))
        elif kind == _DATE:
            if dtype == pl.Datetime:
                exprs.append(pl.col(name).dt.date())
            elif dtype == pl.Date:
                exprs.append(pl.col(name))
            else:
                raise InvalidInput(field, f"expected dates, got {dtype}")
        else:
            if dtype not in (pl.Utf8, pl.Categorical):
                raise InvalidInput(field, f"expected text, got {dtype}")
            exprs.append(pl.col(name).cast(pl.Utf8))
    out = frame.select(exprs)
    nulls = out.null_count().row(0, named=True)
    bad = [c for c, n in nulls.items() if n]
    if bad:
        raise InvalidInput(f"{table}.{bad[0]}", f"{nulls[bad[0]]} null value(s)")
    ints = [c for c, k in columns.items() if k in (_INT, _FLOAT) and c not in _SIGNED]
    if ints and out.height:
        mins = out.select(pl.col(ints).min()).row(0, named=True)
        neg = [c for c in ints if mins[c] < 0]
        if neg:
            raise InvalidInput(f"{table}.{neg[0]}", "negative value(s)")
    return out


def _check_rows(frame: pl.DataFrame, table: str, rules: Mapping[str, pl.Expr]) -> None:
    if not frame.height:
        return
    broken = frame.select(**{k: (~v).sum() for k, v in rules.items()}).row(0, named=True)
    for field, count in broken.items():
        if count:
            raise InvalidInput(f"{table}.{field}", f"{count} impossible row(s)")


def _as_of_frame(as_of: pl.DataFrame | date, ids: pl.Series, name: str = "as_of") -> pl.DataFrame:
    """``business_id, as_of`` (Date): the caller's frame, or one date for every id in ``ids``."""
    if isinstance(as_of, date):
        return pl.DataFrame(
            {"business_id": ids.unique().sort(), name: [as_of] * ids.n_unique()},
            schema={"business_id": pl.Int64, name: pl.Date},
        )
    out = _validate(as_of, {"business_id": _INT, name: _DATE}, name)
    if out["business_id"].is_duplicated().any():
        raise InvalidInput(f"{name}.business_id", "duplicate business ids")
    return out


def _month_number(col: str) -> pl.Expr:
    return pl.col(col).dt.year().cast(pl.Int64) * 12 + pl.col(col).dt.month().cast(pl.Int64) - 1


def _with_offset(monthly: pl.DataFrame, as_of: pl.DataFrame) -> pl.DataFrame:
    """Join the as_of dates and add ``offset`` = months before the as_of month (1 = previous)."""
    return monthly.join(as_of, on="business_id", how="inner").with_columns(
        (_month_number("as_of") - _month_number("month")).alias("offset")
    )


def _window_sums(
    monthly: pl.DataFrame, as_of: pl.DataFrame, columns: list[str], config: ChannelsConfig
) -> pl.DataFrame:
    """Per business: the sum of each column over each window and the two trend halves."""
    t = config.trend_months
    ranges = {f"{w}m": (1, w) for w in config.windows_months}
    ranges["recent"] = (1, t)
    ranges["prior"] = (t + 1, 2 * t)
    data = _with_offset(monthly, as_of)
    aggs = [
        pl.col(c).filter(pl.col("offset").is_between(lo, hi)).sum().alias(f"{c}__{key}")
        for key, (lo, hi) in ranges.items()
        for c in columns
    ]
    aggs += [
        pl.col("month").filter(pl.col("offset").is_between(lo, hi)).n_unique().alias(f"n__{key}")
        for key, (lo, hi) in ranges.items()
    ]
    sums = data.group_by("business_id").agg(aggs)
    out = as_of.join(sums, on="business_id", how="left")
    return out.with_columns(pl.exclude("business_id", "as_of").fill_null(0))


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num.cast(pl.Float64) / den).otherwise(None)


def _avg_fen(total: pl.Expr, months: int) -> pl.Expr:
    """Monthly average of an integer fen total, rounded half up, still integer fen."""
    return (total * 2 + months) // (2 * months)


def _trend(col: str) -> pl.Expr:
    """Last ``trend_months`` over the ones before, minus one (null when the prior is zero)."""
    return _ratio(pl.col(f"{col}__recent"), pl.col(f"{col}__prior")) - 1.0


# --- POS ----------------------------------------------------------------------------------------


def validate_pos(settlements: pl.DataFrame) -> pl.DataFrame:
    """The canonical ``pos/settlements`` frame, or InvalidInput naming what is wrong."""
    out = _validate(settlements, POS_COLUMNS, "pos/settlements")
    _check_rows(
        out,
        "pos/settlements",
        {
            "refund_fen": pl.col("refund_fen") <= pl.col("gross_fen"),
            "settle_date": pl.col("settle_date") >= pl.col("trade_date"),
        },
    )
    return out


def pos_monthly(settlements: pl.DataFrame) -> pl.DataFrame:
    """Monthly POS totals per business (POS月度结算), by trade month.

    Output: ``business_id, month`` (first day), ``txn_count, gross_fen, refund_fen, fee_fen,
    net_fen`` (sums over the business's merchants) and ``active_days`` (distinct trade dates
    with positive gross), sorted by business and month.
    """
    s = validate_pos(settlements)
    return (
        s.with_columns(pl.col("trade_date").dt.truncate("1mo").alias("month"))
        .group_by("business_id", "month")
        .agg(
            pl.col("txn_count", "gross_fen", "refund_fen", "fee_fen", "net_fen").sum(),
            pl.col("trade_date").filter(pl.col("gross_fen") > 0).n_unique().alias("active_days"),
        )
        .sort("business_id", "month")
    )


def pos_features(
    settlements: pl.DataFrame,
    as_of: pl.DataFrame | date,
    *,
    bank_inflows: pl.DataFrame | None = None,
    config: ChannelsConfig = DEFAULT_CONFIG,
) -> pl.DataFrame:
    """POS features per business over each window ``W`` (e.g. ``3m``) before ``as_of``.

    Columns: ``business_id, as_of``; per window ``pos_months_W`` (months with settlements),
    ``pos_gross_fen_W`` and ``pos_net_fen_W`` (monthly average settled amount, fen),
    ``pos_txn_count_W`` (monthly average count), ``pos_avg_ticket_fen_W`` (gross / count,
    客单价), ``pos_active_days_W`` (average trading days per month), ``pos_refund_rate_W``
    (refunds / gross) and, when ``bank_inflows`` (``business_id, month, inflow_fen``: monthly
    bank inflows, e.g. the revenue estimate of the flow analysis) is given,
    ``pos_to_bank_inflow_W`` (net settlements / bank inflows: above 1 the POS money is not
    reaching the declared accounts); then ``pos_gross_trend``.
    """
    monthly = pos_only = pos_monthly(settlements)
    a = _as_of_frame(as_of, monthly["business_id"])
    cols = ["txn_count", "gross_fen", "refund_fen", "net_fen", "active_days"]
    if bank_inflows is not None:
        bank = _validate(bank_inflows, BANK_INFLOW_COLUMNS, "bank_inflows")
        bank = (
            bank.with_columns(pl.col("month").dt.truncate("1mo"))
            .group_by("business_id", "month")
            .agg(pl.col("inflow_fen").sum())
        )
        monthly = monthly.join(bank, on=["business_id", "month"], how="full", coalesce=True)
        monthly = monthly.with_columns(pl.exclude("business_id", "month").fill_null(0))
        cols.append("inflow_fen")
        sums = _window_sums(monthly, a, cols, config)
        # months counted must be months with settlements, not months with bank data only
        pos_months = _window_sums(pos_only, a, ["gross_fen"], config)
        sums = sums.drop([c for c in sums.columns if c.startswith("n__")]).join(
            pos_months.select("business_id", pl.col("^n__.*$")), on="business_id"
        )
    else:
        sums = _window_sums(monthly, a, cols, config)
    exprs: list[pl.Expr] = []
    for w in config.windows_months:
        k = f"{w}m"
        exprs += [
            pl.col(f"n__{k}").cast(pl.Int64).alias(f"pos_months_{k}"),
            _avg_fen(pl.col(f"gross_fen__{k}"), w).alias(f"pos_gross_fen_{k}"),
            _avg_fen(pl.col(f"net_fen__{k}"), w).alias(f"pos_net_fen_{k}"),
            (pl.col(f"txn_count__{k}") / w).alias(f"pos_txn_count_{k}"),
            _ratio(pl.col(f"gross_fen__{k}"), pl.col(f"txn_count__{k}"))
            .round(0)
            .cast(pl.Int64)
            .alias(f"pos_avg_ticket_fen_{k}"),
            (pl.col(f"active_days__{k}") / w).alias(f"pos_active_days_{k}"),
            _ratio(pl.col(f"refund_fen__{k}"), pl.col(f"gross_fen__{k}")).alias(
                f"pos_refund_rate_{k}"
            ),
        ]
        if bank_inflows is not None:
            exprs.append(
                _ratio(pl.col(f"net_fen__{k}"), pl.col(f"inflow_fen__{k}")).alias(
                    f"pos_to_bank_inflow_{k}"
                )
            )
    exprs.append(_trend("gross_fen").alias("pos_gross_trend"))
    return sums.select("business_id", "as_of", *exprs).sort("business_id")


def mcc_consistency(
    settlements: pl.DataFrame,
    industries: pl.DataFrame,
    *,
    config: ChannelsConfig = DEFAULT_CONFIG,
) -> pl.DataFrame:
    """MCC consistency (商户类别码一致性) of every POS merchant with the declared industry.

    ``industries``: ``business_id, industry`` (the application's declared industry). Output,
    one row per merchant: ``business_id, merchant_id, mcc, industry, mcc_mismatch`` (the MCC
    is not among ``config.mcc_by_industry[industry]``; null when the industry is unknown to
    the table or the business has no declared industry).
    """
    s = validate_pos(settlements)
    ind = _validate(industries, {"business_id": _INT, "industry": _STR}, "industries")
    if ind["business_id"].is_duplicated().any():
        raise InvalidInput("industries.business_id", "duplicate business ids")
    table = pl.DataFrame(
        [(i, m) for i, codes in config.mcc_by_industry.items() for m in codes],
        schema={"industry": pl.Utf8, "mcc": pl.Utf8},
        orient="row",
    ).with_columns(pl.lit(value=True).alias("_fits"))
    known = pl.col("industry").is_in(list(config.mcc_by_industry))
    return (
        s.select("business_id", "merchant_id", "mcc")
        .unique()
        .join(ind, on="business_id", how="left")
        .join(table, on=["industry", "mcc"], how="left")
        .with_columns(
            pl.when(known).then(pl.col("_fits").is_null()).otherwise(None).alias("mcc_mismatch")
        )
        .drop("_fits")
        .sort("business_id", "merchant_id")
    )


def mcc_flags(consistency: pl.DataFrame) -> dict[int, list[Flag]]:
    """``mcc_mismatch`` flags (商户类别码与行业不符, 套码嫌疑) from :func:`mcc_consistency`."""
    hits = consistency.filter(pl.col("mcc_mismatch").fill_null(value=False))
    flags: dict[int, list[Flag]] = {}
    for row in hits.iter_rows(named=True):
        flags.setdefault(int(row["business_id"]), []).append(
            Flag(
                code="mcc_mismatch",
                severity=Severity.WARNING,
                message=(
                    f"POS merchant {row['merchant_id']} is registered under MCC {row['mcc']}, "
                    f"which does not fit the declared industry {row['industry']} "
                    "(商户类别码与行业不符, 套码嫌疑)"
                ),
                evidence={
                    "merchant_id": row["merchant_id"],
                    "mcc": row["mcc"],
                    "industry": row["industry"],
                },
            )
        )
    return flags


# --- e-commerce ---------------------------------------------------------------------------------


def validate_stores(stores: pl.DataFrame) -> pl.DataFrame:
    """The canonical ``ecommerce/store_monthly`` frame, or InvalidInput."""
    out = _validate(stores, STORE_COLUMNS, "ecommerce/store_monthly")
    _check_rows(
        out,
        "ecommerce/store_monthly",
        {
            "refund_fen": pl.col("refund_fen") <= pl.col("gmv_fen"),
            "refund_orders": pl.col("refund_orders") <= pl.col("orders"),
            "negative_review_rate": pl.col("negative_review_rate") <= 1.0,
            "rating": pl.col("rating") <= 5.0,
        },
    )
    return out


def ecommerce_features(
    stores: pl.DataFrame,
    as_of: pl.DataFrame | date,
    *,
    config: ChannelsConfig = DEFAULT_CONFIG,
) -> pl.DataFrame:
    """Online-store features per business (all its stores together) over each window ``W``.

    Columns: ``business_id, as_of``; per window ``ecom_months_W``, ``ecom_gmv_fen_W`` (monthly
    average GMV, fen), ``ecom_orders_W`` (monthly average), ``ecom_aov_fen_W`` (GMV / orders),
    ``ecom_refund_rate_W`` (refund amount / GMV), ``ecom_refund_order_rate_W`` (refund
    orders / orders), ``ecom_rating_W`` and ``ecom_negative_review_rate_W`` (order-weighted
    means over the store-months); then ``ecom_store_age_months`` (oldest store, at its last
    month before the as_of month), ``ecom_stores`` (stores seen in the longest window) and
    ``ecom_gmv_trend``.
    """
    s = validate_stores(stores).with_columns(pl.col("month").dt.truncate("1mo"))
    a = _as_of_frame(as_of, s["business_id"])
    monthly = s.group_by("business_id", "month").agg(
        pl.col("gmv_fen", "orders", "refund_fen", "refund_orders").sum(),
        (pl.col("rating") * pl.col("orders")).sum().alias("rating_w"),
        (pl.col("negative_review_rate") * pl.col("orders")).sum().alias("negative_w"),
    )
    cols = ["gmv_fen", "orders", "refund_fen", "refund_orders", "rating_w", "negative_w"]
    sums = _window_sums(monthly, a, cols, config)
    longest = max(config.windows_months)
    extra = (
        _with_offset(s, a)
        .filter(pl.col("offset").is_between(1, longest))
        .group_by("business_id")
        .agg(
            pl.col("store_age_months").filter(pl.col("offset") == pl.col("offset").min()).max(),
            pl.col("store_id").n_unique().alias("ecom_stores"),
        )
        .rename({"store_age_months": "ecom_store_age_months"})
    )
    exprs: list[pl.Expr] = []
    for w in config.windows_months:
        k = f"{w}m"
        orders = pl.col(f"orders__{k}")
        exprs += [
            pl.col(f"n__{k}").cast(pl.Int64).alias(f"ecom_months_{k}"),
            _avg_fen(pl.col(f"gmv_fen__{k}"), w).alias(f"ecom_gmv_fen_{k}"),
            (orders / w).alias(f"ecom_orders_{k}"),
            _ratio(pl.col(f"gmv_fen__{k}"), orders)
            .round(0)
            .cast(pl.Int64)
            .alias(f"ecom_aov_fen_{k}"),
            _ratio(pl.col(f"refund_fen__{k}"), pl.col(f"gmv_fen__{k}")).alias(
                f"ecom_refund_rate_{k}"
            ),
            _ratio(pl.col(f"refund_orders__{k}"), orders).alias(f"ecom_refund_order_rate_{k}"),
            _ratio(pl.col(f"rating_w__{k}"), orders).alias(f"ecom_rating_{k}"),
            _ratio(pl.col(f"negative_w__{k}"), orders).alias(f"ecom_negative_review_rate_{k}"),
        ]
    exprs.append(_trend("gmv_fen").alias("ecom_gmv_trend"))
    return (
        sums.select("business_id", "as_of", *exprs)
        .join(extra, on="business_id", how="left")
        .with_columns(pl.col("ecom_stores").fill_null(0).cast(pl.Int64))
        .sort("business_id")
    )


# --- web traffic --------------------------------------------------------------------------------


def validate_traffic(traffic: pl.DataFrame) -> pl.DataFrame:
    """The canonical ``web/traffic`` frame, or InvalidInput."""
    out = _validate(traffic, TRAFFIC_COLUMNS, "web/traffic")
    _check_rows(
        out,
        "web/traffic",
        {"uv": pl.col("uv") <= pl.col("pv"), "orders": pl.col("orders") <= pl.col("uv")},
    )
    return out


def traffic_features(
    traffic: pl.DataFrame,
    as_of: pl.DataFrame | date,
    *,
    config: ChannelsConfig = DEFAULT_CONFIG,
) -> pl.DataFrame:
    """Web-traffic features (流量) per business over each window ``W``.

    Columns: ``business_id, as_of``; per window ``web_months_W``, ``web_pv_W``, ``web_uv_W``,
    ``web_orders_W`` (monthly averages), ``web_conversion_W`` (orders / UV, recomputed from
    the sums, not averaged from the daily column) and ``web_pv_per_uv_W``; then
    ``web_uv_trend`` and ``web_orders_trend``.
    """
    t = validate_traffic(traffic)
    a = _as_of_frame(as_of, t["business_id"])
    monthly = (
        t.with_columns(pl.col("date").dt.truncate("1mo").alias("month"))
        .group_by("business_id", "month")
        .agg(pl.col("pv", "uv", "orders").sum())
    )
    sums = _window_sums(monthly, a, ["pv", "uv", "orders"], config)
    exprs: list[pl.Expr] = []
    for w in config.windows_months:
        k = f"{w}m"
        exprs += [
            pl.col(f"n__{k}").cast(pl.Int64).alias(f"web_months_{k}"),
            (pl.col(f"pv__{k}") / w).alias(f"web_pv_{k}"),
            (pl.col(f"uv__{k}") / w).alias(f"web_uv_{k}"),
            (pl.col(f"orders__{k}") / w).alias(f"web_orders_{k}"),
            _ratio(pl.col(f"orders__{k}"), pl.col(f"uv__{k}")).alias(f"web_conversion_{k}"),
            _ratio(pl.col(f"pv__{k}"), pl.col(f"uv__{k}")).alias(f"web_pv_per_uv_{k}"),
        ]
    exprs += [_trend("uv").alias("web_uv_trend"), _trend("orders").alias("web_orders_trend")]
    return sums.select("business_id", "as_of", *exprs).sort("business_id")


# --- workplace ----------------------------------------------------------------------------------


def validate_attendance(attendance: pl.DataFrame) -> pl.DataFrame:
    """The canonical ``workplace/attendance`` frame, or InvalidInput."""
    out = _validate(attendance, ATTENDANCE_COLUMNS, "workplace/attendance")
    _check_rows(
        out,
        "workplace/attendance",
        {
            "present": pl.col("present") <= pl.col("staff"),
            "absent": pl.col("present") + pl.col("leave") + pl.col("absent") <= pl.col("staff"),
            "late": pl.col("late") <= pl.col("present"),
        },
    )
    return out


_ATT_SUMS = ["staff", "present", "late", "leave", "absent", "approvals", "workdays"]


def attendance_monthly(attendance: pl.DataFrame) -> pl.DataFrame:
    """Monthly attendance per business (月度考勤).

    Output: ``business_id, month, workdays`` (recorded working days), the sums ``staff``
    (staff-days), ``present, late, leave, absent, approvals``, and ``avg_staff``,
    ``attendance_rate`` (present / staff-days), ``late_rate`` (late / present),
    ``absent_rate`` (absent / staff-days), ``approvals_per_staff`` (approvals / average staff).
    """
    a = validate_attendance(attendance)
    m = (
        a.with_columns(pl.col("date").dt.truncate("1mo").alias("month"))
        .group_by("business_id", "month")
        .agg(
            pl.col("staff", "present", "late", "leave", "absent", "approvals").sum(),
            pl.col("date").n_unique().cast(pl.Int64).alias("workdays"),
        )
    )
    return m.with_columns(
        (pl.col("staff") / pl.col("workdays")).alias("avg_staff"),
        _ratio(pl.col("present"), pl.col("staff")).alias("attendance_rate"),
        _ratio(pl.col("late"), pl.col("present")).alias("late_rate"),
        _ratio(pl.col("absent"), pl.col("staff")).alias("absent_rate"),
        _ratio(pl.col("approvals") * pl.col("workdays"), pl.col("staff")).alias(
            "approvals_per_staff"
        ),
    ).sort("business_id", "month")


def attendance_features(
    attendance: pl.DataFrame,
    as_of: pl.DataFrame | date,
    *,
    config: ChannelsConfig = DEFAULT_CONFIG,
) -> pl.DataFrame:
    """Workplace features (钉钉考勤与审批) per business over each window ``W``.

    Columns: ``business_id, as_of``; per window ``att_months_W``, ``att_rate_W`` (出勤率:
    present / staff-days), ``att_late_rate_W`` (迟到率: late / present), ``att_absent_rate_W``
    (缺勤率: absent / staff-days), ``att_leave_rate_W`` (请假率), ``att_staff_W`` (average
    staff on a working day), ``att_approvals_per_staff_W`` (approvals per staff member per
    month); then ``att_rate_trend`` (rate of the last ``trend_months`` minus the rate of the
    ones before, in points: negative = attendance falling).
    """
    monthly = attendance_monthly(attendance)
    a = _as_of_frame(as_of, monthly["business_id"])
    sums = _window_sums(monthly, a, _ATT_SUMS, config)
    exprs: list[pl.Expr] = []
    for w in config.windows_months:
        k = f"{w}m"
        staff = pl.col(f"staff__{k}")
        avg_staff = _ratio(staff, pl.col(f"workdays__{k}"))
        exprs += [
            pl.col(f"n__{k}").cast(pl.Int64).alias(f"att_months_{k}"),
            _ratio(pl.col(f"present__{k}"), staff).alias(f"att_rate_{k}"),
            _ratio(pl.col(f"late__{k}"), pl.col(f"present__{k}")).alias(f"att_late_rate_{k}"),
            _ratio(pl.col(f"absent__{k}"), staff).alias(f"att_absent_rate_{k}"),
            _ratio(pl.col(f"leave__{k}"), staff).alias(f"att_leave_rate_{k}"),
            avg_staff.alias(f"att_staff_{k}"),
            _ratio(pl.col(f"approvals__{k}") / pl.col(f"n__{k}"), avg_staff).alias(
                f"att_approvals_per_staff_{k}"
            ),
        ]
    exprs.append(
        (
            _ratio(pl.col("present__recent"), pl.col("staff__recent"))
            - _ratio(pl.col("present__prior"), pl.col("staff__prior"))
        ).alias("att_rate_trend")
    )
    return sums.select("business_id", "as_of", *exprs).sort("business_id")


def attendance_monitoring(
    attendance: pl.DataFrame,
    booking: pl.DataFrame | date,
    *,
    config: ChannelsConfig = DEFAULT_CONFIG,
) -> pl.DataFrame:
    """Post-loan handle (贷后抓手): monthly attendance after booking against the pre-loan level.

    ``booking``: ``business_id, booking_date`` (放款日) or one date. The baseline (贷前基准)
    is the attendance rate over the ``attendance_baseline_months`` complete months before the
    booking month; the monitoring months are the complete months after it. Output, one row
    per business and monitoring month with attendance data: ``business_id, month,
    months_on_book`` (1 = the month after booking), the monthly indicators of
    :func:`attendance_monthly` (``workdays, avg_staff, attendance_rate, late_rate,
    absent_rate, approvals_per_staff``), ``baseline_rate``, ``baseline_approvals_per_staff``,
    ``rate_change`` (rate − baseline, points) and ``attendance_drop`` (the change is below
    −``attendance_drop`` in a month with at least ``min_workdays`` working days).
    """
    monthly = attendance_monthly(attendance)
    b = _as_of_frame(booking, monthly["business_id"], "booking_date").rename(
        {"booking_date": "as_of"}
    )
    data = _with_offset(monthly, b)
    n = config.attendance_baseline_months
    base = (
        data.filter(pl.col("offset").is_between(1, n))
        .group_by("business_id")
        .agg(
            _ratio(pl.col("present").sum(), pl.col("staff").sum()).alias("baseline_rate"),
            _ratio(
                pl.col("approvals").sum() / pl.len(),
                pl.col("staff").sum() / pl.col("workdays").sum(),
            ).alias("baseline_approvals_per_staff"),
        )
    )
    follow = data.filter(pl.col("offset") < 0).with_columns(
        (-pl.col("offset")).alias("months_on_book")
    )
    out = follow.join(base, on="business_id", how="left").with_columns(
        (pl.col("attendance_rate") - pl.col("baseline_rate")).alias("rate_change")
    )
    return out.select(
        "business_id",
        "month",
        "months_on_book",
        "workdays",
        "avg_staff",
        "attendance_rate",
        "late_rate",
        "absent_rate",
        "approvals_per_staff",
        "baseline_rate",
        "baseline_approvals_per_staff",
        "rate_change",
        (
            (pl.col("rate_change") < -config.attendance_drop)
            & (pl.col("workdays") >= config.min_workdays)
        )
        .fill_null(value=False)
        .alias("attendance_drop"),
    ).sort("business_id", "month")


def attendance_drop_flags(
    monitoring: pl.DataFrame, *, config: ChannelsConfig = DEFAULT_CONFIG
) -> dict[int, list[Flag]]:
    """``attendance_drop`` flags (出勤率下降, 贷后预警) from :func:`attendance_monitoring`.

    A business is flagged when at least ``attendance_drop_min_months`` monitoring months are
    drop months; the evidence lists those months (ISO dates), their rates and the baseline.
    """
    needed = {"business_id", "month", "attendance_rate", "baseline_rate", "attendance_drop"}
    missing = needed - set(monitoring.columns)
    if missing:
        raise InvalidInput("monitoring", f"missing column(s): {', '.join(sorted(missing))}")
    hits = (
        monitoring.filter(pl.col("attendance_drop"))
        .group_by("business_id")
        .agg(
            pl.col("month").sort(),
            pl.col("attendance_rate").sort_by("month"),
            pl.col("baseline_rate").first(),
        )
        .filter(pl.col("month").list.len() >= config.attendance_drop_min_months)
        .sort("business_id")
    )
    flags: dict[int, list[Flag]] = {}
    for row in hits.iter_rows(named=True):
        months = [m.isoformat() for m in row["month"]]
        flags[int(row["business_id"])] = [
            Flag(
                code="attendance_drop",
                severity=Severity.WARNING,
                message=(
                    f"attendance fell more than {config.attendance_drop:.0%} below the pre-loan "
                    f"baseline {row['baseline_rate']:.1%} in {len(months)} month(s) from "
                    f"{months[0]} (出勤率下降, 贷后预警)"
                ),
                evidence={
                    "months": months,
                    "attendance_rates": [round(r, 4) for r in row["attendance_rate"]],
                    "baseline_rate": round(row["baseline_rate"], 4),
                },
            )
        ]
    return flags
