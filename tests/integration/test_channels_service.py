"""The channels use case and the post-loan attendance handle (services/channels.py).

On a simulated run: the side-by-side view carries exactly what the pure functions of
analysis/channels.py and analysis/flows.py give on the business's own frames, cut at the
application month. On hand-made loans: the first missed installment, the month the
attendance-drop flag fires and the early-warning counts, each checked by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from xiaowei.analysis import channels as ch
from xiaowei.analysis import flows
from xiaowei.core.errors import NotFound
from xiaowei.services.analysis import load_simulated_application
from xiaowei.services.channels import (
    channels_of_business,
    early_warning,
    first_missed_installments,
    loan_attendance,
)
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.generate import run as simulate
from xiaowei.simulate.output import read_table


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("channels_service") / "sim"
    simulate(SimulationConfig(businesses=120, seed=2025), out, workers=1, export_businesses=0)
    return out


def _with_all_channels(sim: Path) -> int:
    b = read_table(sim, "businesses").filter(
        pl.col("has_pos") & pl.col("has_ecommerce") & pl.col("has_web")
    )
    assert b.height >= 1
    return int(b["business_id"][0])


def _own(sim: Path, table: str, business_id: int, column: str, cut: date) -> pl.DataFrame:
    return read_table(sim, table).filter(
        (pl.col("business_id") == business_id) & (pl.col(column) < cut)
    )


def _row(frame: pl.DataFrame) -> dict[str, object]:
    row = frame.row(0, named=True)
    return {k: v for k, v in row.items() if k not in ("business_id", "as_of")}


def _same(got: Mapping[str, object], expected: Mapping[str, object]) -> None:
    """Equal keys; integers (fen, counts) exactly, floats to rounding (Polars sums shares
    in parallel, so the last bit of an HHI may differ from run to run)."""
    assert set(got) == set(expected)
    for key, value in expected.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, rel=1e-12), key
        else:
            assert got[key] == value, key


def test_channels_view_equals_the_pure_functions(sim: Path) -> None:
    b = _with_all_channels(sim)
    view = channels_of_business(sim, b)
    as_of = read_table(sim, "businesses").filter(pl.col("business_id") == b)["application_date"][0]
    cut = as_of.replace(day=1)
    assert view.as_of == as_of
    assert view.sources == ["statements", "pos", "ecommerce", "traffic"]
    assert view.missing == []
    assert len(view.months) == 12
    assert view.window[1] == (cut - timedelta(days=1)).replace(day=1)

    tx = _own(sim, "statements/transactions", b, "date", cut)
    own = load_simulated_application(sim, b).own_identities
    prepared = flows.prepare(tx, list(own))
    monthly = flows.monthly_table(prepared)
    _same(view.features["bank"], _row(flows.flow_features(prepared, monthly=monthly)))
    bank = monthly.select("business_id", "month", pl.col("revenue_estimate").alias("inflow_fen"))
    pos = _own(sim, "pos/settlements", b, "trade_date", cut)
    _same(view.features["pos"], _row(ch.pos_features(pos, as_of, bank_inflows=bank)))
    stores = _own(sim, "ecommerce/store_monthly", b, "month", cut)
    _same(view.features["ecommerce"], _row(ch.ecommerce_features(stores, as_of)))
    traffic = _own(sim, "web/traffic", b, "date", cut)
    _same(view.features["traffic"], _row(ch.traffic_features(traffic, as_of)))

    # the aligned months are the sources' own monthly sums
    revenue = dict(zip(monthly["month"], monthly["revenue_estimate"], strict=True))
    pos_m = ch.pos_monthly(pos)
    gross = dict(zip(pos_m["month"], pos_m["gross_fen"], strict=True))
    for m in view.months:
        first = date.fromisoformat(m["month"] + "-01")
        assert m["bank_revenue"] == revenue.get(first, 0)
        assert m["pos_gross"] == gross.get(first, 0)
        assert m["ecom_gmv"] == stores.filter(pl.col("month") == first)["gmv_fen"].sum()
        day = traffic.filter(pl.col("date").dt.truncate("1mo") == first)
        assert m["web_uv"] == day["uv"].sum()
        orders, visitors = int(day["orders"].sum()), int(day["uv"].sum())
        assert m["web_conversion"] == pytest.approx(orders / visitors)
    total_net = sum(m["pos_net"] for m in view.months)
    total_rev = sum(m["bank_revenue"] for m in view.months)
    assert view.cross["pos_net_to_bank_revenue"] == pytest.approx(total_net / total_rev)
    # over 12 months the cross ratio is the POS feature's own ratio
    assert view.cross["pos_net_to_bank_revenue"] == pytest.approx(
        view.features["pos"]["pos_to_bank_inflow_12m"]
    )


def test_mcc_flags_name_the_wrongly_coded_merchants(sim: Path) -> None:
    # the simulator's truth says which merchants carry a wrong MCC (the test may read it)
    merchants = read_table(sim, "truth/channels/pos_merchants")
    wrong_col = next(c for c in merchants.columns if "wrong" in c or "mismatch" in c)
    wrong = merchants.filter(pl.col(wrong_col))
    if wrong.height == 0:
        pytest.skip("no wrongly coded merchant in this run")
    b = int(wrong["business_id"][0])
    view = channels_of_business(sim, b)
    assert [f.code for f in view.flags] == ["mcc_mismatch"] * len(view.flags)
    assert view.flags, "the wrongly coded merchant is flagged"
    flagged = {f.evidence["merchant_id"] for f in view.flags}
    assert flagged == {m["merchant_id"] for m in view.mcc if m["mcc_mismatch"]}


def test_a_business_without_channels_says_so(sim: Path) -> None:
    b = read_table(sim, "businesses").filter(
        ~pl.col("has_pos") & ~pl.col("has_ecommerce") & ~pl.col("has_web")
    )
    view = channels_of_business(sim, int(b["business_id"][0]))
    assert view.sources == ["statements"]
    assert view.missing == ["pos", "ecommerce", "traffic"]
    assert all(m["pos_gross"] is None and m["web_uv"] is None for m in view.months)
    assert view.cross["pos_net_to_bank_revenue"] is None
    with pytest.raises(NotFound, match="no business 99999"):
        channels_of_business(sim, 99_999)


# --- the post-loan handle on hand-made loans -----------------------------------------------------

BOOKED = date(2025, 1, 15)
HORIZON = date(2026, 5, 31)


def _attendance(business_id: int, drop_from: date | None) -> list[dict[str, object]]:
    """Six working days a month from July 2024 to December 2025, ten staff, all present; from
    ``drop_from`` on, eight present (80 %: 20 points under the baseline of 100 %)."""
    rows: list[dict[str, object]] = []
    for i in range(18):
        month = date(2024 + (6 + i) // 12, (6 + i) % 12 + 1, 1)
        present = 8 if drop_from is not None and month >= drop_from else 10
        for day in range(1, 7):
            rows.append(
                {
                    "business_id": business_id,
                    "date": month.replace(day=day),
                    "staff": 10,
                    "present": present,
                    "late": 0,
                    "leave": 0,
                    "absent": 10 - present,
                    "approvals": 1,
                    "approvals_leave": 0,
                    "approvals_expense": 1,
                    "approvals_purchase": 0,
                }
            )
    return rows


def _loans() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Five 12-month loans booked 2025-01-15, 1,000.00 due on the 20th from February.

    1 defaulter: attendance drops from March 2025, pays Feb–May, misses from June.
    2 defaulter: misses from June 2025, attendance drops only from July.
    3 performing: pays everything, the April installment 2 days late (within the 3 grace
      days), attendance steady.
    4 performing: pays everything on time, attendance drops from April 2025 (false alarm).
    5 defaulter without attendance data: not monitored.
    """
    ids = [1, 2, 3, 4, 5]
    loans = pl.DataFrame(
        {
            "loan_id": ids,
            "business_id": ids,
            "product_code": ["SME-OP"] * 5,
            "start_date": [BOOKED] * 5,
        }
    )
    dues = [date(2025 + (1 + n) // 12, (1 + n) % 12 + 1, 20) for n in range(12)]
    schedule = pl.DataFrame(
        {
            "loan_id": [i for i in ids for _ in dues],
            "number": [n + 1 for _ in ids for n in range(12)],
            "due_date": dues * 5,
            "principal_fen": [90_000] * 60,
            "interest_fen": [10_000] * 60,
        },
        schema_overrides={"number": pl.Int32},
    )
    pays: list[dict[str, object]] = []
    for loan, paid in ((1, 4), (2, 4), (3, 12), (4, 12), (5, 4)):
        for n in range(paid):
            late = 2 if (loan == 3 and n == 2) else 0
            pays.append(
                {
                    "loan_id": loan,
                    "installment": n + 1,
                    "pay_date": dues[n] + timedelta(days=late),
                    "amount_fen": 100_000,
                    "kind": "scheduled",
                }
            )
    repayments = pl.DataFrame(pays, schema_overrides={"installment": pl.Int32})
    outcomes = pl.DataFrame(
        {
            "loan_id": ids,
            "horizon": [HORIZON] * 5,
            "default_12m": [True, True, False, False, True],
        }
    )
    attendance = pl.DataFrame(
        _attendance(1, date(2025, 3, 1))
        + _attendance(2, date(2025, 7, 1))
        + _attendance(3, None)
        + _attendance(4, date(2025, 4, 1))
    )
    return loans, schedule, repayments, outcomes, attendance


def test_first_missed_installment_by_hand() -> None:
    loans, schedule, repayments, outcomes, _ = _loans()
    missed = first_missed_installments(loans, schedule, repayments, outcomes)
    got = dict(zip(missed["loan_id"], missed["first_missed_due"], strict=True))
    assert got == {
        1: date(2025, 6, 20),
        2: date(2025, 6, 20),
        3: None,  # two days late is within the grace days
        4: None,
        5: date(2025, 6, 20),
    }
    # June 2025 is unpaid at the horizon, far beyond 90 days: the default installment too
    gone = dict(zip(missed["loan_id"], missed["first_default_due"], strict=True))
    assert gone[1] == date(2025, 6, 20)
    assert gone[3] is None


def test_flag_months_leads_and_the_early_warning_counts_by_hand() -> None:
    loans, schedule, repayments, outcomes, attendance = _loans()
    watched = loan_attendance(loans, schedule, repayments, outcomes, attendance)
    by_id = {x.loan_id: x for x in watched}
    assert sorted(by_id) == [1, 2, 3, 4]  # loan 5 has no attendance data
    # baseline: July–December 2024, all present
    assert {x.baseline_rate for x in watched} == {1.0}
    # monitoring: February 2025 (the month after booking) to May 2026 (the horizon's month);
    # the data ends in December 2025
    assert [m["month"] for m in by_id[3].months][:2] == ["2025-02-01", "2025-03-01"]
    assert by_id[3].monitoring_months == 11
    assert by_id[1].flag_month == date(2025, 3, 1)
    assert by_id[1].lead_months == 3  # March → June
    assert by_id[1].lead_to_default_months == 3
    assert by_id[2].flag_month == date(2025, 7, 1)
    assert by_id[2].lead_months == -1  # July, after the June miss
    assert by_id[3].flag_month is None
    assert by_id[4].flag_month == date(2025, 4, 1)
    assert by_id[4].lead_months is None  # never missed
    assert [f.code for f in by_id[1].flags] == ["attendance_drop"]
    rate_change = {m["month"]: m["rate_change"] for m in by_id[1].months}
    assert rate_change["2025-02-01"] == pytest.approx(0.0)
    assert rate_change["2025-03-01"] == pytest.approx(-0.2)

    ev = early_warning(watched, total_loans=5)
    assert (ev.loans, ev.monitored, ev.defaulters, ev.performing) == (5, 4, 2, 2)
    assert (ev.caught, ev.flagged_late, ev.not_flagged) == (1, 1, 0)
    assert ev.lead_months == [3]
    assert ev.caught_before_default == 1
    assert ev.false_alarms == 1
    assert ev.recall == pytest.approx(0.5)
    assert ev.false_alarm_rate == pytest.approx(0.5)
    assert ev.precision == pytest.approx(2 / 3)
    assert ev.median_lead == 3


def test_two_drop_months_needed_moves_the_flag() -> None:
    from xiaowei.analysis.channels import ChannelsConfig
    from xiaowei.analysis.config import AnalysisConfig

    loans, schedule, repayments, outcomes, attendance = _loans()
    config = AnalysisConfig(channels=ChannelsConfig(attendance_drop_min_months=2))
    watched = loan_attendance(loans, schedule, repayments, outcomes, attendance, config=config)
    by_id = {x.loan_id: x for x in watched}
    assert by_id[1].flag_month == date(2025, 4, 1)  # the second drop month
    assert by_id[1].lead_months == 2
    ev = early_warning(watched, total_loans=5, config=config)
    assert ev.min_months == 2
    assert ev.lead_months == [2]
