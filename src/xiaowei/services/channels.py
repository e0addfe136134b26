"""Use cases: one applicant's sales channels side by side, and the post-loan attendance handle.

:func:`channels_of_business` (渠道流水对比分析) — the bank statements, POS settlements,
e-commerce store months and web traffic of one business of a simulated run, cut at the
application month (the complete months an officer has when the file is analysed): a monthly
table aligned by month (bank inflow and revenue estimate, POS settlement, GMV, PV/UV and
conversion), the features of each channel exactly as the pure functions of
:mod:`xiaowei.analysis.flows` and :mod:`xiaowei.analysis.channels` compute them, the
cross-ratios of each channel to the bank revenue and the MCC consistency flags.

:func:`attendance_post_loan` (贷后抓手) — for the booked loans of a run, the workplace
attendance month by month after disbursement against the pre-loan baseline
(:func:`~xiaowei.analysis.channels.attendance_monitoring`), when the ``attendance_drop`` flag
fires, and when the first installment was missed; over the whole run
(:func:`early_warning`), how many defaulters were flagged before their first missed
installment, with how many months of warning, against the false-alarm rate among performing
loans.

Both read only the run's observable tables (``loans/outcomes`` and ``loans/repayments`` are
post-loan facts a lender sees); never ``truth/``, except :func:`precursor_recall`, the
trainer's evaluation, which says so.
"""

from __future__ import annotations

import statistics
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict

from xiaowei.analysis import channels, flows
from xiaowei.analysis.config import AnalysisConfig
from xiaowei.analysis.flags import Flag
from xiaowei.core.errors import InvalidInput, NotFound
from xiaowei.services.analysis import business_table, load_simulated_application

FeatureValue = int | float | None


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _months_between(earlier: date, later: date) -> int:
    """Whole calendar months from ``earlier``'s month to ``later``'s month."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def _check_run(run_dir: Path) -> None:
    if not (run_dir / "manifest.json").is_file():
        raise NotFound(f"no simulator run at {run_dir} (manifest.json missing)")


def _clean(value: Any) -> FeatureValue:
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if value != value else value  # NaN → None
    return None


def _feature_row(frame: pl.DataFrame, business_id: int) -> dict[str, FeatureValue]:
    rows = frame.filter(pl.col("business_id") == business_id)
    if rows.height == 0:
        return {}
    return {
        k: _clean(v)
        for k, v in rows.row(0, named=True).items()
        if k not in ("business_id", "as_of")
    }


# --- channels side by side ---------------------------------------------------------------------


class ChannelsView(BaseModel):
    """One applicant's channels side by side (渠道流水对比) at the application date.

    ``months``: one dict per calendar month of the window (``month`` as ``YYYY-MM``;
    ``bank_inflow``, ``bank_revenue`` (revenue estimate, 营业收入估计), ``pos_gross``,
    ``pos_net``, ``ecom_gmv``, ``ecom_payout`` in fen; ``pos_txn_count``, ``ecom_orders``,
    ``web_pv``, ``web_uv``, ``web_orders`` counts; ``web_conversion`` = orders / UV;
    ``pos_net_to_bank_revenue`` and ``ecom_gmv_to_bank_revenue``, the month's ratios). A
    source the business does not have is ``None`` in every month. ``features``: per source
    (``bank``, ``pos``, ``ecommerce``, ``traffic``) the feature row of its pure function.
    ``cross``: each channel's money over the window's bank revenue estimate (above 1 the
    channel's money is not reaching the accounts the applicant showed). ``mcc``: the MCC
    consistency of each POS merchant.
    """

    model_config = ConfigDict(frozen=True)

    business_id: int
    business_name: str
    industry: str | None
    as_of: date
    window: tuple[date, date]
    sources: list[str]
    missing: list[str]
    months: list[dict[str, Any]]
    features: dict[str, dict[str, FeatureValue]]
    cross: dict[str, float | None]
    mcc: list[dict[str, Any]]
    flags: list[Flag]

    def to_json(self) -> dict[str, Any]:
        return {
            "business_id": self.business_id,
            "business_name": self.business_name,
            "industry": self.industry,
            "as_of": self.as_of.isoformat(),
            "window": [self.window[0].isoformat(), self.window[1].isoformat()],
            "sources": self.sources,
            "missing": self.missing,
            "months": self.months,
            "features": self.features,
            "cross": self.cross,
            "mcc": self.mcc,
            "flags": [f.to_json() for f in self.flags],
        }


def _before(frame: pl.DataFrame | None, column: str, cut: date) -> pl.DataFrame | None:
    if frame is None:
        return None
    out = frame.filter(pl.col(column) < cut)
    return out if out.height else None


def _ratio(num: int | None, den: int | None) -> float | None:
    if num is None or den is None or den <= 0:
        return None
    return num / den


def channels_of_business(
    run_dir: Path, business_id: int, config: AnalysisConfig | None = None
) -> ChannelsView:
    """The channels of one business of a simulated run, cut at its application month.

    The window is the ``max(windows_months)`` complete calendar months before the month of
    the application date (12 by default); data from the application month on (the loan's
    follow window) is left out, as the officer did not have it. Reads the observable tables
    only (never ``truth/``).
    """
    cfg = config or AnalysisConfig()
    ccfg = cfg.channels
    _check_run(run_dir)
    inputs = load_simulated_application(run_dir, business_id)
    business = business_table(run_dir, "businesses", business_id)
    assert business is not None  # load_simulated_application raised NotFound otherwise
    name = str(business["business_name"][0])
    as_of = inputs.as_of
    if as_of is None:
        raise InvalidInput("businesses.application_date", f"business {business_id} has none")
    cut = _month_start(as_of)
    first = _add_months(cut, -max(ccfg.windows_months))
    statements = _before(inputs.statements, "date", cut)
    pos = _before(inputs.pos_settlements, "trade_date", cut)
    stores = _before(inputs.ecommerce, "month", cut)
    traffic = _before(business_table(run_dir, "web/traffic", business_id), "date", cut)

    grid = pl.DataFrame({"month": pl.date_range(first, _add_months(cut, -1), "1mo", eager=True)})
    features: dict[str, dict[str, FeatureValue]] = {}
    sources: list[str] = []
    missing: list[str] = []
    bank_revenue: pl.DataFrame | None = None
    if statements is None:
        missing.append("statements")
        grid = grid.with_columns(
            pl.lit(None, pl.Int64).alias("bank_inflow"),
            pl.lit(None, pl.Int64).alias("bank_revenue"),
        )
    else:
        sources.append("statements")
        prepared = flows.prepare(statements, list(inputs.own_identities), cfg.flows)
        monthly = flows.monthly_table(prepared)
        features["bank"] = _feature_row(flows.flow_features(prepared, monthly=monthly), business_id)
        bank_revenue = monthly.select(
            "business_id", "month", pl.col("revenue_estimate").alias("inflow_fen")
        )
        grid = grid.join(
            monthly.select(
                "month",
                pl.col("inflow").alias("bank_inflow"),
                pl.col("revenue_estimate").alias("bank_revenue"),
            ),
            on="month",
            how="left",
        ).with_columns(pl.col("bank_inflow", "bank_revenue").fill_null(0))

    mcc_rows: list[dict[str, Any]] = []
    found: list[Flag] = []
    if pos is None:
        missing.append("pos")
        grid = grid.with_columns(
            pl.lit(None, pl.Int64).alias(c) for c in ("pos_gross", "pos_net", "pos_txn_count")
        )
    else:
        sources.append("pos")
        features["pos"] = _feature_row(
            channels.pos_features(pos, as_of, bank_inflows=bank_revenue, config=ccfg),
            business_id,
        )
        grid = grid.join(
            channels.pos_monthly(pos).select(
                "month",
                pl.col("gross_fen").alias("pos_gross"),
                pl.col("net_fen").alias("pos_net"),
                "txn_count",
            ),
            on="month",
            how="left",
        ).with_columns(
            pl.col("pos_gross", "pos_net").fill_null(0),
            pl.col("txn_count").fill_null(0).alias("pos_txn_count"),
        )
        grid = grid.drop("txn_count")
        if inputs.industry is not None:
            consistency = channels.mcc_consistency(
                pos,
                pl.DataFrame({"business_id": [business_id], "industry": [inputs.industry]}),
                config=ccfg,
            )
            mcc_rows = consistency.drop("business_id").to_dicts()
            found += channels.mcc_flags(consistency).get(business_id, [])
    if stores is None:
        missing.append("ecommerce")
        grid = grid.with_columns(
            pl.lit(None, pl.Int64).alias(c) for c in ("ecom_gmv", "ecom_payout", "ecom_orders")
        )
    else:
        sources.append("ecommerce")
        features["ecommerce"] = _feature_row(
            channels.ecommerce_features(stores, as_of, config=ccfg), business_id
        )
        store_months = (
            channels.validate_stores(stores)
            .with_columns(pl.col("month").dt.truncate("1mo"))
            .group_by("month")
            .agg(
                pl.col("gmv_fen").sum().alias("ecom_gmv"),
                pl.col("payout_fen").sum().alias("ecom_payout"),
                pl.col("orders").sum().alias("ecom_orders"),
            )
        )
        grid = grid.join(store_months, on="month", how="left").with_columns(
            pl.col("ecom_gmv", "ecom_payout", "ecom_orders").fill_null(0)
        )
    if traffic is None:
        missing.append("traffic")
        grid = grid.with_columns(
            *(pl.lit(None, pl.Int64).alias(c) for c in ("web_pv", "web_uv", "web_orders")),
            pl.lit(None, pl.Float64).alias("web_conversion"),
        )
    else:
        sources.append("traffic")
        features["traffic"] = _feature_row(
            channels.traffic_features(traffic, as_of, config=ccfg), business_id
        )
        web_months = (
            channels.validate_traffic(traffic)
            .group_by(pl.col("date").dt.truncate("1mo").alias("month"))
            .agg(
                pl.col("pv").sum().alias("web_pv"),
                pl.col("uv").sum().alias("web_uv"),
                pl.col("orders").sum().alias("web_orders"),
            )
        )
        grid = grid.join(web_months, on="month", how="left").with_columns(
            pl.col("web_pv", "web_uv", "web_orders").fill_null(0)
        )
        grid = grid.with_columns(
            pl.when(pl.col("web_uv") > 0)
            .then(pl.col("web_orders") / pl.col("web_uv"))
            .otherwise(None)
            .alias("web_conversion")
        )

    columns = [
        "bank_inflow",
        "bank_revenue",
        "pos_gross",
        "pos_net",
        "pos_txn_count",
        "ecom_gmv",
        "ecom_payout",
        "ecom_orders",
        "web_pv",
        "web_uv",
        "web_orders",
        "web_conversion",
    ]
    grid = grid.sort("month")
    months = [
        {
            "month": r["month"].strftime("%Y-%m"),
            **{c: r[c] for c in columns},
            "pos_net_to_bank_revenue": _ratio(r["pos_net"], r["bank_revenue"]),
            "ecom_gmv_to_bank_revenue": _ratio(r["ecom_gmv"], r["bank_revenue"]),
        }
        for r in grid.iter_rows(named=True)
    ]
    totals: dict[str, int | None] = {
        c: int(grid[c].sum()) if grid[c].null_count() == 0 else None for c in columns[:-1]
    }
    revenue = totals["bank_revenue"]
    cross = {
        "pos_net_to_bank_revenue": _ratio(totals["pos_net"], revenue),
        "ecom_gmv_to_bank_revenue": _ratio(totals["ecom_gmv"], revenue),
        "ecom_payout_to_bank_revenue": _ratio(totals["ecom_payout"], revenue),
        "web_orders_to_ecom_orders": _ratio(totals["web_orders"], totals["ecom_orders"]),
    }
    return ChannelsView(
        business_id=business_id,
        business_name=name,
        industry=inputs.industry,
        as_of=as_of,
        window=(first, _add_months(cut, -1)),
        sources=sources,
        missing=missing,
        months=months,
        features=features,
        cross=cross,
        mcc=mcc_rows,
        flags=found,
    )


# --- the post-loan handle ----------------------------------------------------------------------


def _read(run_dir: Path, name: str) -> pl.DataFrame:
    folder = run_dir / name
    if not any(folder.glob("part-*.parquet")):
        raise NotFound(f"no table {name} in {run_dir}")
    return pl.scan_parquet(folder / "part-*.parquet").collect()


def first_missed_installments(
    loans: pl.DataFrame,
    schedule: pl.DataFrame,
    repayments: pl.DataFrame,
    outcomes: pl.DataFrame,
) -> pl.DataFrame:
    """Per loan, the first installment missed (首次逾期) and the first that went 90+ days
    past due, seen at the outcomes' horizon, from the observable loan tables.

    An installment is missed when it was not cleared within the product's grace days
    (宽限期) of its due date (cleared: the payments aimed at it reach its principal and
    interest, :func:`xiaowei.simulate.behaviour.installments_at`, the rule the outcomes
    follow). Output: ``loan_id, business_id, start_date, horizon, default_12m,
    first_missed_due`` (null: never missed), ``first_default_due`` (the first installment
    unpaid 90 days or more; null: none).
    """
    from xiaowei.simulate.behaviour import DEFAULT_DPD, catalogue_product, installments_at

    grace = pl.DataFrame(
        {
            "product_code": (codes := loans["product_code"].unique().sort()),
            "grace_days": [catalogue_product(c).overdue_grace_days for c in codes],
        },
        schema={"product_code": pl.Utf8, "grace_days": pl.Int64},
    )
    horizon = loans.select("loan_id", "business_id", "start_date").join(
        outcomes.select("loan_id", "horizon"), on="loan_id"
    )
    grid = installments_at(schedule, repayments, horizon).installments.join(
        loans.select("loan_id", "product_code").join(grace, on="product_code"), on="loan_id"
    )
    last_unpaid = pl.min_horizontal(
        pl.col("cleared_date").fill_null(pl.col("horizon") + pl.duration(days=1))
        - pl.duration(days=1),
        pl.col("horizon"),
    )
    late = (last_unpaid - pl.col("due_date")).dt.total_days()
    seen = pl.col("due_date") <= pl.col("horizon")
    per_loan = (
        grid.with_columns(late.alias("_late"))
        .group_by("loan_id")
        .agg(
            pl.col("due_date")
            .filter(seen & (pl.col("_late") > pl.col("grace_days")))
            .min()
            .alias("first_missed_due"),
            pl.col("due_date")
            .filter(seen & (pl.col("_late") >= DEFAULT_DPD))
            .min()
            .alias("first_default_due"),
        )
    )
    return (
        horizon.join(outcomes.select("loan_id", "default_12m"), on="loan_id")
        .join(per_loan, on="loan_id", how="left")
        .sort("loan_id")
    )


class LoanAttendance(BaseModel):
    """One booked loan under the attendance handle (贷后考勤监控)."""

    model_config = ConfigDict(frozen=True)

    loan_id: int
    business_id: int
    start_date: date
    horizon: date
    default_12m: bool
    first_missed_due: date | None
    first_default_due: date | None
    baseline_rate: float | None
    monitoring_months: int
    flag_month: date | None
    lead_months: int | None
    """Months from the flag month to the month of the first missed installment (positive:
    the flag came first; null when either is missing)."""
    lead_to_default_months: int | None
    """The same, to the month of the first installment that went 90+ days past due."""
    months: list[dict[str, Any]]
    flags: list[Flag]

    @property
    def flagged_before_missed(self) -> bool:
        return self.lead_months is not None and self.lead_months > 0

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude={"flags"})
        data["flags"] = [f.to_json() for f in self.flags]
        return data


class EarlyWarning(BaseModel):
    """The attendance-drop flag as an early-warning rule (预警评估) over a run's loans.

    Counts are of loans with at least one monitoring month of attendance. ``defaulters``:
    ``default_12m`` in ``loans/outcomes``; performing: the others. ``caught``: defaulters
    whose flag month ended before the month of their first missed installment;
    ``flagged_late``: flagged in or after that month; ``lead_months``: the warning of each
    caught defaulter, in months; ``false_alarms``: performing loans flagged at all before
    the horizon.
    """

    model_config = ConfigDict(frozen=True)

    loans: int
    monitored: int
    defaulters: int
    caught: int
    flagged_late: int
    not_flagged: int
    lead_months: list[int]
    caught_before_default: int
    performing: int
    false_alarms: int
    attendance_drop: float
    min_months: int

    @property
    def recall(self) -> float | None:
        return self.caught / self.defaulters if self.defaulters else None

    @property
    def false_alarm_rate(self) -> float | None:
        return self.false_alarms / self.performing if self.performing else None

    @property
    def precision(self) -> float | None:
        flagged = self.caught + self.flagged_late + self.false_alarms
        return (self.caught + self.flagged_late) / flagged if flagged else None

    @property
    def median_lead(self) -> float | None:
        return statistics.median(self.lead_months) if self.lead_months else None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump() | {
            "recall": self.recall,
            "false_alarm_rate": self.false_alarm_rate,
            "precision": self.precision,
            "median_lead_months": self.median_lead,
        }


class AttendanceRun(BaseModel):
    """The loans of a run under the attendance handle and the early-warning evaluation."""

    model_config = ConfigDict(frozen=True)

    loans: list[LoanAttendance]
    evaluation: EarlyWarning


def _flag_months(monitoring: pl.DataFrame, min_months: int) -> pl.DataFrame:
    """``business_id, flag_month``: the month the ``min_months``-th drop month completed
    (when :func:`~xiaowei.analysis.channels.attendance_drop_flags` starts to fire)."""
    return (
        monitoring.filter(pl.col("attendance_drop"))
        .sort("business_id", "month")
        .group_by("business_id", maintain_order=True)
        .agg(pl.col("month").get(min_months - 1, null_on_oob=True).alias("flag_month"))
        .filter(pl.col("flag_month").is_not_null())
    )


def loan_attendance(
    loans: pl.DataFrame,
    schedule: pl.DataFrame,
    repayments: pl.DataFrame,
    outcomes: pl.DataFrame,
    attendance: pl.DataFrame,
    *,
    config: AnalysisConfig | None = None,
) -> list[LoanAttendance]:
    """Every booked loan whose business has attendance data, under the handle, from the
    run's observable tables (``loans/loans``, ``loans/schedule``, ``loans/repayments``,
    ``loans/outcomes``, ``workplace/attendance``). Monitoring months run from the month after
    booking to the month of the outcomes' horizon."""
    ccfg = (config or AnalysisConfig()).channels
    missed = first_missed_installments(loans, schedule, repayments, outcomes)
    missed = missed.filter(pl.col("business_id").is_in(attendance["business_id"].unique()))
    if missed.height == 0:
        return []
    booking = missed.select("business_id", pl.col("start_date").alias("booking_date"))
    monitoring = channels.attendance_monitoring(
        attendance.filter(pl.col("business_id").is_in(booking["business_id"])),
        booking,
        config=ccfg,
    )
    monitoring = monitoring.join(missed.select("business_id", "horizon"), on="business_id").filter(
        pl.col("month") <= pl.col("horizon").dt.truncate("1mo")
    )
    monitoring = monitoring.drop("horizon")
    flag_at = _flag_months(monitoring, ccfg.attendance_drop_min_months)
    flags = channels.attendance_drop_flags(monitoring, config=ccfg)
    by_business = monitoring.partition_by("business_id", as_dict=True)
    out: list[LoanAttendance] = []
    for row in missed.join(flag_at, on="business_id", how="left").iter_rows(named=True):
        b = int(row["business_id"])
        months = by_business.get((b,))
        month_rows = (
            []
            if months is None
            else [
                {k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()}
                for r in months.drop("business_id").iter_rows(named=True)
            ]
        )
        baseline = None if months is None else months["baseline_rate"][0]
        flag_month, miss = row["flag_month"], row["first_missed_due"]
        lead = None if flag_month is None or miss is None else _months_between(flag_month, miss)
        gone = row["first_default_due"]
        lead_default = (
            None if flag_month is None or gone is None else _months_between(flag_month, gone)
        )
        out.append(
            LoanAttendance(
                loan_id=row["loan_id"],
                business_id=b,
                start_date=row["start_date"],
                horizon=row["horizon"],
                default_12m=bool(row["default_12m"]),
                first_missed_due=miss,
                first_default_due=row["first_default_due"],
                baseline_rate=baseline,
                monitoring_months=len(month_rows),
                flag_month=flag_month,
                lead_months=lead,
                lead_to_default_months=lead_default,
                months=month_rows,
                flags=flags.get(b, []),
            )
        )
    return out


def early_warning(
    loans: list[LoanAttendance], *, total_loans: int, config: AnalysisConfig | None = None
) -> EarlyWarning:
    """The evaluation of :class:`EarlyWarning` over the monitored loans."""
    ccfg = (config or AnalysisConfig()).channels
    monitored = [x for x in loans if x.monitoring_months > 0]
    bad = [x for x in monitored if x.default_12m]
    good = [x for x in monitored if not x.default_12m]
    caught = [x for x in bad if x.flagged_before_missed]
    late = [x for x in bad if x.flag_month is not None and not x.flagged_before_missed]
    return EarlyWarning(
        loans=total_loans,
        monitored=len(monitored),
        defaulters=len(bad),
        caught=len(caught),
        flagged_late=len(late),
        not_flagged=len(bad) - len(caught) - len(late),
        lead_months=sorted(x.lead_months for x in caught if x.lead_months is not None),
        caught_before_default=sum(
            x.lead_to_default_months is not None and x.lead_to_default_months > 0 for x in bad
        ),
        performing=len(good),
        false_alarms=sum(x.flag_month is not None for x in good),
        attendance_drop=ccfg.attendance_drop,
        min_months=ccfg.attendance_drop_min_months,
    )


def attendance_post_loan(
    run_dir: Path, business_id: int | None = None, config: AnalysisConfig | None = None
) -> AttendanceRun:
    """The post-loan handle over a simulated run (or one business's loan), observable tables
    only; the evaluation is always over the whole run."""
    _check_run(run_dir)
    loans = _read(run_dir, "loans/loans")
    if business_id is not None and not (loans["business_id"] == business_id).any():
        raise NotFound(f"no booked loan of business {business_id} in {run_dir}")
    attendance_dir = run_dir / "workplace" / "attendance"
    if not any(attendance_dir.glob("part-*.parquet")):
        raise NotFound(f"no workplace/attendance table in {run_dir}")
    every = loan_attendance(
        loans,
        _read(run_dir, "loans/schedule"),
        _read(run_dir, "loans/repayments"),
        _read(run_dir, "loans/outcomes"),
        _read(run_dir, "workplace/attendance"),
        config=config,
    )
    evaluation = early_warning(every, total_loans=loans.height, config=config)
    if business_id is not None:
        every = [x for x in every if x.business_id == business_id]
        if not every:
            raise NotFound(f"business {business_id} has no workplace attendance data")
    return AttendanceRun(loans=every, evaluation=evaluation)


def attendance_curve(run_dir: Path, business_id: int) -> pl.DataFrame:
    """The whole monthly attendance of one business (:func:`attendance_monthly`), before and
    after its loan, for the chart."""
    frame = business_table(run_dir, "workplace/attendance", business_id)
    if frame is None or frame.height == 0:
        raise NotFound(f"business {business_id} has no workplace attendance data")
    return channels.attendance_monthly(frame)


def precursor_recall(run_dir: Path, loans: list[LoanAttendance]) -> dict[str, Any]:
    """Trainer's evaluation (reads ``truth/timeline``, never used by the analysis): of the
    monitored defaulters, those whose warning signs (truth ``precursor_start``) began after
    the booking month — the only ones a post-loan drop against a pre-loan baseline can see —
    and how many of them the flag caught before the first missed installment."""
    timeline = _read(run_dir, "truth/timeline")
    need = {"business_id", "booking_month", "precursor_start"}
    if not need <= set(timeline.columns):
        raise InvalidInput("truth/timeline", f"needs columns {', '.join(sorted(need))}")
    after = set(
        timeline.filter(pl.col("precursor_start") > pl.col("booking_month"))[
            "business_id"
        ].to_list()
    )
    signs = set(timeline.filter(pl.col("precursor_start").is_not_null())["business_id"])
    bad = [x for x in loans if x.default_12m and x.monitoring_months > 0]
    visible = [x for x in bad if x.business_id in after]
    caught = [x for x in visible if x.flagged_before_missed]
    return {
        "defaulters": len(bad),
        "with_precursors": sum(x.business_id in signs for x in bad),
        "precursors_after_booking": len(visible),
        "caught_of_those": len(caught),
        "recall_of_those": len(caught) / len(visible) if visible else None,
    }
