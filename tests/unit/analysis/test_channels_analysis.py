"""Alternative-data channels (替代数据): hand-computed features and measured quality on a simulated
run (300 businesses, 16 follow months)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.analysis import channels as C  # noqa: N812
from xiaowei.core.errors import InvalidInput

# --- hand-built frames ----------------------------------------------------------------------------


def _pos(rows: list[tuple[int, str, date, int, int, int]]) -> pl.DataFrame:
    """rows: (business, mcc, trade date, txn_count, gross, refund); fee 0.5 %, T+1."""
    data: list[dict[str, Any]] = []
    for bid, mcc, d, n, gross, refund in rows:
        fee = (gross - refund) // 200
        data.append(
            {
                "business_id": bid,
                "merchant_id": f"M{bid}{mcc}",
                "mcc": mcc,
                "settle_date": date.fromordinal(d.toordinal() + 1),
                "trade_date": d,
                "txn_count": n,
                "gross_fen": gross,
                "refund_fen": refund,
                "fee_fen": fee,
                "net_fen": gross - refund - fee,
            }
        )
    return pl.DataFrame(data, schema=POS_SCHEMA)


POS_SCHEMA = {
    "business_id": pl.Int64,
    "merchant_id": pl.Utf8,
    "mcc": pl.Utf8,
    "settle_date": pl.Date,
    "trade_date": pl.Date,
    "txn_count": pl.Int64,
    "gross_fen": pl.Int64,
    "refund_fen": pl.Int64,
    "fee_fen": pl.Int64,
    "net_fen": pl.Int64,
}


POS_ROWS = [
    (1, "5812", date(2025, 3, 5), 4, 10_000, 1_000),
    (1, "5812", date(2025, 3, 5), 1, 2_000, 0),
    (1, "5812", date(2025, 3, 20), 2, 3_000, 0),
    (1, "5812", date(2025, 1, 10), 3, 6_000, 0),
    (1, "5812", date(2025, 4, 2), 9, 99_999, 0),  # the as_of month: outside every window
    (1, "5812", date(2024, 12, 31), 3, 9_000, 0),  # 4 months back: in 6m, prior half of trend
    (2, "8062", date(2025, 3, 1), 1, 500, 0),
    (3, "5411", date(2025, 3, 1), 1, 700, 0),
]


def test_pos_features_hand_computed() -> None:
    s = _pos(POS_ROWS)
    as_of = pl.DataFrame(
        {"business_id": [1, 4], "as_of": [date(2025, 4, 10), date(2025, 4, 10)]},
        schema={"business_id": pl.Int64, "as_of": pl.Date},
    )
    bank = pl.DataFrame(
        {
            "business_id": [1, 1, 1],
            "month": [date(2025, 1, 1), date(2025, 3, 1), date(2025, 3, 15)],
            "inflow_fen": [10_000, 6_000, 4_000],
        }
    )
    f = C.pos_features(s, as_of, bank_inflows=bank).to_dicts()
    assert [r["business_id"] for r in f] == [1, 4]
    one, none = f
    # net January-March: 21,000 gross − 1,000 refunds − 100 fees (45 + 10 + 15 + 30) = 19,900
    assert one["pos_months_3m"] == 2  # January and March
    assert one["pos_gross_fen_3m"] == 7_000  # 21,000 / 3
    assert one["pos_net_fen_3m"] == 6_633  # 19,900 / 3 = 6,633.33
    assert one["pos_txn_count_3m"] == pytest.approx(10 / 3)
    assert one["pos_avg_ticket_fen_3m"] == 2_100
    assert one["pos_active_days_3m"] == pytest.approx(1.0)  # 5 and 20 March, 10 January
    assert one["pos_refund_rate_3m"] == pytest.approx(1_000 / 21_000)
    assert one["pos_to_bank_inflow_3m"] == pytest.approx(19_900 / 20_000)
    assert one["pos_months_6m"] == 3
    assert one["pos_gross_fen_6m"] == 5_000
    assert one["pos_gross_trend"] == pytest.approx(21_000 / 9_000 - 1)
    assert none["pos_months_3m"] == 0
    assert none["pos_gross_fen_3m"] == 0
    assert none["pos_refund_rate_3m"] is None
    assert none["pos_to_bank_inflow_3m"] is None


def test_pos_monthly_and_single_date() -> None:
    s = _pos(POS_ROWS)
    m = C.pos_monthly(s)
    march = m.filter((pl.col("business_id") == 1) & (pl.col("month") == date(2025, 3, 1)))
    assert march.select("txn_count", "gross_fen", "refund_fen", "active_days").row(0) == (
        7,
        15_000,
        1_000,
        2,
    )
    assert m["gross_fen"].sum() == s["gross_fen"].sum()
    f = C.pos_features(s, date(2025, 4, 1))
    assert f["business_id"].to_list() == [1, 2, 3]
    assert f["pos_gross_fen_3m"].to_list() == [7_000, 167, 233]


def test_mcc_consistency_and_flags() -> None:
    s = _pos(POS_ROWS)
    industries = pl.DataFrame({"business_id": [1, 2, 3], "industry": ["catering", "service", "x"]})
    m = C.mcc_consistency(s, industries)
    assert dict(zip(m["business_id"], m["mcc_mismatch"], strict=True)) == {
        1: False,
        2: True,  # a barber registered as a hospital (8062)
        3: None,  # industry unknown to the table: not judged
    }
    flags = C.mcc_flags(m)
    assert list(flags) == [2]
    assert flags[2][0].code == "mcc_mismatch"
    assert flags[2][0].evidence["mcc"] == "8062"
    # the table is configuration
    cfg = C.ChannelsConfig(mcc_by_industry={"service": ("8062",), "catering": ("5812",)})
    assert C.mcc_consistency(s, industries, config=cfg)["mcc_mismatch"].to_list() == [
        False,
        False,
        None,
    ]


def _store(
    bid: int, sid: str, month: date, gmv: int, orders: int, refund: int, **kw: Any
) -> dict[str, Any]:
    row = {
        "business_id": bid,
        "store_id": sid,
        "platform": "淘宝",
        "month": month,
        "gmv_fen": gmv,
        "orders": orders,
        "refund_fen": refund,
        "refund_orders": kw.get("refund_orders", 0),
        "commission_fen": 0,
        "payout_fen": gmv - refund,
        "aov_fen": gmv // max(orders, 1),
        "rating": kw.get("rating", 4.8),
        "negative_review_rate": kw.get("neg", 0.0),
        "store_age_months": kw.get("age", 1),
    }
    return row


def test_ecommerce_features_hand_computed() -> None:
    rows = [
        _store(1, "A", date(2025, m, 1), 10_000, 10, 1_000, refund_orders=1, neg=0.01, age=9 + m)
        for m in (1, 2, 3)
    ]
    rows.append(_store(1, "B", date(2025, 3, 1), 20_000, 30, 0, rating=4.4, age=3))
    rows.append(_store(1, "A", date(2024, 12, 1), 5_000, 5, 0, age=9))
    f = C.ecommerce_features(pl.DataFrame(rows), date(2025, 4, 1)).row(0, named=True)
    assert f["ecom_months_3m"] == 3
    assert f["ecom_gmv_fen_3m"] == 16_667  # 50,000 / 3, half up
    assert f["ecom_orders_3m"] == pytest.approx(20.0)
    assert f["ecom_aov_fen_3m"] == 833
    assert f["ecom_refund_rate_3m"] == pytest.approx(0.06)
    assert f["ecom_refund_order_rate_3m"] == pytest.approx(0.05)
    assert f["ecom_rating_3m"] == pytest.approx(4.6)  # (4.8 · 30 + 4.4 · 30) / 60
    assert f["ecom_negative_review_rate_3m"] == pytest.approx(0.005)
    assert f["ecom_store_age_months"] == 12
    assert f["ecom_stores"] == 2
    assert f["ecom_gmv_trend"] == pytest.approx(9.0)  # 50,000 against 5,000


def test_traffic_features_hand_computed() -> None:
    t = pl.DataFrame(
        {
            "business_id": [1, 1, 1],
            "date": [date(2025, 3, 1), date(2025, 3, 2), date(2025, 2, 10)],
            "pv": [100, 60, 40],
            "uv": [50, 30, 20],
            "orders": [2, 1, 1],
            "conversion": [0.04, 0.0333, 0.05],
        }
    )
    f = C.traffic_features(t, date(2025, 4, 15)).row(0, named=True)
    assert f["web_months_3m"] == 2
    assert f["web_pv_3m"] == pytest.approx(200 / 3)
    assert f["web_uv_3m"] == pytest.approx(100 / 3)
    assert f["web_conversion_3m"] == pytest.approx(0.04)
    assert f["web_pv_per_uv_3m"] == pytest.approx(2.0)
    assert f["web_uv_trend"] is None  # nothing in the three months before


def _day(bid: int, d: date, staff: int, present: int, **kw: int) -> dict[str, Any]:
    leave = kw.get("leave", 0)
    approvals = kw.get("approvals", 0)
    return {
        "business_id": bid,
        "date": d,
        "staff": staff,
        "present": present,
        "late": kw.get("late", 0),
        "leave": leave,
        "absent": staff - present - leave,
        "approvals": approvals,
        "approvals_leave": 0,
        "approvals_expense": 0,
        "approvals_purchase": approvals,
    }


ATTENDANCE = [
    _day(1, date(2025, 3, 3), 10, 9, late=1, leave=1, approvals=3),
    _day(1, date(2025, 3, 4), 10, 8, leave=1, approvals=1),
    _day(1, date(2025, 2, 3), 5, 5),
    _day(1, date(2024, 12, 2), 10, 10),
    *[_day(1, date(2025, 5, d), 10, 6, leave=2) for d in range(5, 10)],  # drop month
    *[_day(1, date(2025, 6, d), 10, 10) for d in range(2, 7)],  # recovered
    *[_day(1, date(2025, 7, d), 10, 0) for d in (1, 2)],  # too few workdays to judge
    _day(1, date(2025, 4, 1), 10, 0),  # the booking month: neither baseline nor monitoring
]


def test_attendance_features_hand_computed() -> None:
    f = C.attendance_features(pl.DataFrame(ATTENDANCE), date(2025, 4, 1)).row(0, named=True)
    assert f["att_months_3m"] == 2
    assert f["att_rate_3m"] == pytest.approx(22 / 25)
    assert f["att_late_rate_3m"] == pytest.approx(1 / 22)
    assert f["att_absent_rate_3m"] == pytest.approx(1 / 25)
    assert f["att_leave_rate_3m"] == pytest.approx(2 / 25)
    assert f["att_staff_3m"] == pytest.approx(25 / 3)
    assert f["att_approvals_per_staff_3m"] == pytest.approx(2 / (25 / 3))  # 4 in 2 months
    assert f["att_rate_trend"] == pytest.approx(22 / 25 - 1.0)


def test_attendance_monitoring_and_flag() -> None:
    booking = pl.DataFrame({"business_id": [1], "booking_date": [date(2025, 4, 10)]})
    mon = C.attendance_monitoring(pl.DataFrame(ATTENDANCE), booking)
    assert mon["month"].to_list() == [date(2025, 5, 1), date(2025, 6, 1), date(2025, 7, 1)]
    assert mon["months_on_book"].to_list() == [1, 2, 3]
    baseline = 32 / 35
    assert mon["baseline_rate"].to_list() == pytest.approx([baseline] * 3)
    assert mon["rate_change"].to_list() == pytest.approx([0.6 - baseline, 1 - baseline, -baseline])
    assert mon["attendance_drop"].to_list() == [True, False, False]
    flags = C.attendance_drop_flags(mon)
    assert list(flags) == [1]
    flag = flags[1][0]
    assert flag.code == "attendance_drop"
    assert flag.evidence["months"] == ["2025-05-01"]
    # the threshold and the months needed are configuration
    loose = C.ChannelsConfig(attendance_drop=0.5)
    assert not C.attendance_monitoring(pl.DataFrame(ATTENDANCE), booking, config=loose)[
        "attendance_drop"
    ].any()
    two = C.ChannelsConfig(attendance_drop_min_months=2)
    assert C.attendance_drop_flags(mon, config=two) == {}


# --- bad input ----------------------------------------------------------------------------------


def test_bad_input_is_named() -> None:
    s = _pos(POS_ROWS)
    with pytest.raises(InvalidInput, match=r"pos/settlements: missing column\(s\): mcc"):
        C.pos_monthly(s.drop("mcc"))
    with pytest.raises(InvalidInput, match=r"pos/settlements\.gross_fen: expected integers"):
        C.pos_monthly(s.with_columns(pl.col("gross_fen").cast(pl.Utf8)))
    with pytest.raises(InvalidInput, match=r"pos/settlements\.txn_count: 1 null"):
        C.pos_monthly(s.with_columns(pl.when(pl.col("txn_count") == 4).then(None).otherwise(
            pl.col("txn_count")).alias("txn_count")))  # fmt: skip
    with pytest.raises(InvalidInput, match=r"pos/settlements\.refund_fen: negative"):
        C.pos_monthly(s.with_columns(-pl.col("refund_fen")))
    with pytest.raises(InvalidInput, match=r"pos/settlements\.refund_fen: 1 impossible"):
        C.pos_monthly(s.with_columns(pl.col("refund_fen") * 20))
    att = pl.DataFrame(ATTENDANCE)
    with pytest.raises(InvalidInput, match=r"workplace/attendance\.present"):
        C.attendance_monthly(att.with_columns(pl.col("present") + 11))
    with pytest.raises(InvalidInput, match=r"workplace/attendance\.date: expected dates"):
        C.attendance_monthly(att.with_columns(pl.col("date").cast(pl.Utf8)))
    dup = pl.DataFrame({"business_id": [1, 1], "as_of": [date(2025, 1, 1), date(2025, 2, 1)]})
    with pytest.raises(InvalidInput, match=r"as_of\.business_id: duplicate"):
        C.pos_features(s, dup)
    with pytest.raises(InvalidInput, match=r"booking_date: missing"):
        C.attendance_monitoring(att, pl.DataFrame({"business_id": [1]}))
    with pytest.raises(InvalidInput, match=r"web/traffic: expected a Polars DataFrame"):
        C.traffic_features([1, 2], date(2025, 1, 1))  # type: ignore[arg-type]
    # datetimes are accepted as dates
    ts = pl.DataFrame({"business_id": [1], "as_of": [datetime(2025, 4, 10, 9, 30)]})
    assert C.pos_features(s, ts)["pos_gross_fen_3m"].to_list() == [7_000]


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match=r"windows_months"):
        C.ChannelsConfig(windows_months=(3, 3))
    with pytest.raises(ValueError, match="attendance_drop"):
        C.ChannelsConfig(attendance_drop=0.0)


# --- on a simulated run -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    from xiaowei.simulate.config import SimulationConfig
    from xiaowei.simulate.generate import run
    from xiaowei.simulate.output import read_table

    out: Path = tmp_path_factory.mktemp("channels") / "sim"
    run(SimulationConfig(businesses=300, seed=7, follow_months=16), out, workers=1,
        export_businesses=0)  # fmt: skip
    names = (
        "businesses",
        "pos/settlements",
        "ecommerce/store_monthly",
        "web/traffic",
        "workplace/attendance",
        "truth/timeline",
        "truth/channels/pos_merchants",
    )
    return {n: read_table(out, n) for n in names}


def test_sim_attendance_drop_finds_precursors(sim: dict[str, pl.DataFrame]) -> None:
    timeline = sim["truth/timeline"]
    mon = C.attendance_monitoring(
        sim["workplace/attendance"], timeline.select("business_id", "booking_date")
    )
    flags = C.attendance_drop_flags(mon)
    watched = timeline.join(mon.select("business_id").unique(), on="business_id")
    precursor = watched.filter(pl.col("precursor_start").is_not_null())
    healthy = watched.filter(pl.col("default_mob").is_null())
    hit_p = sum(b in flags for b in precursor["business_id"]) / precursor.height
    hit_h = sum(b in flags for b in healthy["business_id"]) / healthy.height
    print(f"attendance_drop: precursor {hit_p:.2f} of {precursor.height}, "
          f"healthy {hit_h:.3f} of {healthy.height}")  # fmt: skip
    assert precursor.height >= 4
    assert healthy.height >= 40
    assert hit_p >= 0.5
    assert hit_h <= 0.05
    assert hit_p >= 10 * max(hit_h, 0.01)
    # the evidence months fall in the warning period, from the precursor start on
    start = dict(zip(precursor["business_id"], precursor["precursor_start"], strict=True))
    for bid, fl in flags.items():
        if bid in start:
            first = date.fromisoformat(fl[0].evidence["months"][0])
            assert first.year * 12 + first.month - 1 >= start[bid]


def test_sim_mcc_mismatch_precision(sim: dict[str, pl.DataFrame]) -> None:
    m = C.mcc_consistency(
        sim["pos/settlements"], sim["businesses"].select("business_id", "industry")
    )
    truth = sim["truth/channels/pos_merchants"].select("merchant_id", "mcc_mismatch")
    j = m.join(truth, on="merchant_id", suffix="_truth")
    flagged = j.filter(pl.col("mcc_mismatch"))
    real = j.filter(pl.col("mcc_mismatch_truth"))
    assert flagged.height >= 5
    assert real.height >= 5
    precision = int(flagged["mcc_mismatch_truth"].sum()) / flagged.height
    recall = int(real["mcc_mismatch"].fill_null(value=False).sum()) / real.height
    print(f"mcc_mismatch: {flagged.height} flagged, precision {precision}, recall {recall}")
    assert precision >= 0.95
    assert recall >= 0.6


def test_sim_pos_totals_equal_inputs(sim: dict[str, pl.DataFrame]) -> None:
    s = sim["pos/settlements"]
    m = C.pos_monthly(s)
    for col in ("txn_count", "gross_fen", "refund_fen", "fee_fen", "net_fen"):
        assert m[col].sum() == s[col].sum()
    direct = (
        s.with_columns(pl.col("trade_date").dt.truncate("1mo").alias("month"))
        .group_by("business_id", "month")
        .agg(pl.col("gross_fen").sum().alias("direct"))
    )
    assert (
        m.join(direct, on=["business_id", "month"])
        .filter(pl.col("gross_fen") != pl.col("direct"))
        .is_empty()
    )
    assert m.height == direct.height
    # windows: the 12-month total over the application date equals a direct filter
    b = sim["businesses"].select("business_id", pl.col("application_date").alias("as_of"))
    f = C.pos_features(s, b)
    assert f.height == b.height
    first = b.with_columns(pl.col("as_of").dt.truncate("1mo").alias("end")).with_columns(
        pl.col("end").dt.offset_by("-12mo").alias("start")
    )
    total = (
        s.join(first, on="business_id")
        .filter((pl.col("trade_date") >= pl.col("start")) & (pl.col("trade_date") < pl.col("end")))
        .group_by("business_id")
        .agg(pl.col("gross_fen").sum())
    )
    j = f.join(total, on="business_id")
    assert j.height > 50
    # the feature is the monthly average rounded half up: times 12 within 12 fen of the total
    assert (j["pos_gross_fen_12m"] * 12 - j["gross_fen"]).abs().max() <= 6  # type: ignore[operator]


def test_sim_features_are_plausible(sim: dict[str, pl.DataFrame]) -> None:
    b = sim["businesses"].select("business_id", pl.col("application_date").alias("as_of"))
    e = C.ecommerce_features(sim["ecommerce/store_monthly"], b)
    w = C.traffic_features(sim["web/traffic"], b)
    a = C.attendance_features(sim["workplace/attendance"], b)
    for f in (e, w, a):
        assert f.height == b.height
        assert f["business_id"].is_unique().all()
    has_e = e.filter(pl.col("ecom_months_12m") > 0)
    assert has_e.height > 10
    assert has_e["ecom_refund_rate_12m"].is_between(0.0, 0.6).all()
    assert has_e["ecom_rating_12m"].is_between(3.5, 5.0).all()
    has_w = w.filter(pl.col("web_months_12m") > 0)
    assert has_w["web_conversion_12m"].is_between(0.005, 0.05).all()
    has_a = a.filter(pl.col("att_months_12m") > 0)
    assert has_a["att_rate_12m"].is_between(0.5, 1.0).all()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 3),
            st.dates(date(2024, 1, 1), date(2025, 6, 30)),
            st.integers(1, 50),
            st.integers(0, 10**7),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_pos_windows_match_a_direct_sum(rows: list[tuple[int, date, int, int]]) -> None:
    s = _pos([(b, "5812", d, n, g, g // 10) for b, d, n, g in rows])
    f = C.pos_features(s, date(2025, 7, 1))
    m = C.pos_monthly(s)
    assert m["gross_fen"].sum() == s["gross_fen"].sum()
    for r in f.iter_rows(named=True):
        for w, start in ((3, date(2025, 4, 1)), (6, date(2025, 1, 1)), (12, date(2024, 7, 1))):
            total = sum(g for b, d, _, g in rows if b == r["business_id"] and d >= start)
            assert r[f"pos_gross_fen_{w}m"] == (2 * total + w) // (2 * w)
