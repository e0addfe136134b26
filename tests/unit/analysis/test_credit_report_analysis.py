"""Credit-report analysis (征信报告分析): hand-computed variables, batch = single, and the
signal against the simulator's outcomes."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xiaowei.analysis.credit_report import (
    CreditReportConfig,
    analyse_report,
    analyse_reports,
    report_features,
    report_features_frame,
    report_flags,
    summarise_report,
)
from xiaowei.analysis.credit_report_schema import (
    EnterpriseReport,
    PersonalReport,
    month_add,
    parse_enterprise,
    parse_personal,
)
from xiaowei.core.errors import InvalidInput
from xiaowei.simulate import behaviour, credit_report
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.world import build_world, chunks

# --- simulated data (in memory, one module-scoped run) ----------------------------------------


class Sim:
    def __init__(self, businesses: int, seed: int) -> None:
        world = build_world(SimulationConfig(businesses=businesses, seed=seed))
        self.docs: dict[str, list[dict[str, Any]]] = {}
        outcomes: list[pl.DataFrame] = []
        for c in chunks(world):
            for name, docs in credit_report.render(c).documents.items():
                self.docs.setdefault(name, []).extend(docs)
            outcomes.append(behaviour.render(c).tables["loans/outcomes"])
        self.outcomes = pl.concat(outcomes)
        self.personal = [parse_personal(d) for d in self.docs["credit_reports/personal"]]
        self.refresh = [parse_personal(d) for d in self.docs["credit_reports/personal_refresh"]]
        self.enterprise = [parse_enterprise(d) for d in self.docs["credit_reports/enterprise"]]
        self.enterprise_refresh = [
            parse_enterprise(d) for d in self.docs["credit_reports/enterprise_refresh"]
        ]


@pytest.fixture(scope="module")
def sim() -> Sim:
    return Sim(1000, 7)


# --- a hand-built report ----------------------------------------------------------------------

REPORT_DAY = date(2025, 6, 15)
END = "2025-06"
START = month_add(END, -59)  # 2020-07

# the open loan's last 24 months, oldest first (lag 23 … lag 0):
#   lag: 23 22 21 20 19 18 17 16 15 14 13 12 11 10  9  8  7  6  5  4  3  2  1  0
#        N  N  1  2  3  4  N  N  N  1  1  N  N  N  N  N  N  N  1  2  N  N  N  1
LAST24 = "NN1234NNN11NNNNNNN12NNN1"
# before it: opened in month 25 with a 1-2 episode at lags 32-31 (outside 24 months)
LOAN_STATUS = "/" * 24 + "*NN12NNNNNNN" + LAST24
LOAN_AMOUNTS = {  # lag → overdue amount (yuan)
    32: 50,
    31: 60,
    21: 1000,
    20: 2000,
    19: 3000,
    18: 4000,
    14: 500,
    13: 600,
    5: 700,
    4: 1500,
    0: 800,
}


def _month_of_lag(lag: int) -> str:
    return month_add(END, -lag)


def _loan() -> dict[str, Any]:
    assert len(LOAN_STATUS) == 60
    return {
        "A": {
            "account_id": "LOAN-1",
            "account_type": "D1",
            "institution_type": "11",
            "institution": "中国银行",
            "business_type": "41",
            "currency": "CNY",
            "repayment_method": "11",
            "repayment_frequency": "03",
            "guarantee_type": "3",
            "amount_yuan": 120000,
            "credit_limit_yuan": None,
            "open_date": "2022-07-05",
            "due_date": "2026-04-05",
            "installments": 45,
        },
        "B": {
            "account_status": "2",
            "five_category": "2",
            "repayment_status": "1",
            "balance_yuan": 50000,
            "closed_date": None,
            "report_date": "2025-06-05",
        },
        "C": {
            "month": END,
            "due_yuan": 3000,
            "overdue_yuan": 800,
            "overdue_periods": 1,
            "remaining_periods": 10,
            "used_yuan": None,
        },
        "E": {
            "start_month": START,
            "end_month": END,
            "months": 60,
            "status": LOAN_STATUS,
            "overdue": [
                {"month": _month_of_lag(lag), "amount_yuan": amt}
                for lag, amt in sorted(LOAN_AMOUNTS.items(), reverse=True)
            ],
        },
        "F": [],
    }


def _card() -> dict[str, Any]:
    return {
        "A": {
            "account_id": "CARD-1",
            "account_type": "R2",
            "institution_type": "11",
            "institution": "招商银行",
            "business_type": "81",
            "currency": "CNY",
            "repayment_method": "90",
            "repayment_frequency": "03",
            "guarantee_type": "4",
            "amount_yuan": None,
            "credit_limit_yuan": 20000,
            "open_date": "2018-01-10",
            "due_date": None,
            "installments": None,
        },
        "B": {
            "account_status": "1",
            "five_category": "9",
            "repayment_status": "N",
            "balance_yuan": 5000,
            "closed_date": None,
            "report_date": "2025-06-05",
        },
        "C": {
            "month": END,
            "due_yuan": 300,
            "overdue_yuan": 0,
            "overdue_periods": 0,
            "remaining_periods": None,
            "used_yuan": 5000,
        },
        "E": {
            "start_month": START,
            "end_month": END,
            "months": 60,
            "status": "N" * 60,
            "overdue": [],
        },
        "F": [],
    }


def _new_consumer_loan() -> dict[str, Any]:
    """An R4 at a consumer-finance company, opened last month."""
    return {
        "A": {
            "account_id": "NEW-1",
            "account_type": "R4",
            "institution_type": "24",
            "institution": "某消费金融",
            "business_type": "91",
            "currency": "CNY",
            "repayment_method": "11",
            "repayment_frequency": "03",
            "guarantee_type": "4",
            "amount_yuan": 10000,
            "credit_limit_yuan": None,
            "open_date": "2025-05-10",
            "due_date": "2026-03-10",
            "installments": 10,
        },
        "B": {
            "account_status": "1",
            "five_category": "1",
            "repayment_status": "N",
            "balance_yuan": 9000,
            "closed_date": None,
            "report_date": "2025-06-05",
        },
        "C": {
            "month": END,
            "due_yuan": 1000,
            "overdue_yuan": 0,
            "overdue_periods": 0,
            "remaining_periods": 9,
            "used_yuan": None,
        },
        "E": {
            "start_month": START,
            "end_month": END,
            "months": 60,
            "status": "/" * 58 + "*N",
            "overdue": [],
        },
        "F": [],
    }


def _guaranteed_old_loan() -> dict[str, Any]:
    """Closed long ago: a 1-2 episode, then the guarantor paid (D), with an F entry 2 代偿."""
    status = "/" * 10 + "*NNNN12D" + "/" * 42
    return {
        "A": {
            "account_id": "OLD-1",
            "account_type": "D1",
            "institution_type": "51",
            "institution": "某小额贷款公司",
            "business_type": "41",
            "currency": "CNY",
            "repayment_method": "11",
            "repayment_frequency": "03",
            "guarantee_type": "3",
            "amount_yuan": 30000,
            "credit_limit_yuan": None,
            "open_date": "2021-05-03",
            "due_date": "2022-05-03",
            "installments": 12,
        },
        "B": {
            "account_status": "3",
            "five_category": None,
            "repayment_status": "D",
            "balance_yuan": 0,
            "closed_date": "2021-12-20",
            "report_date": "2021-12-20",
        },
        "C": None,
        "E": {
            "start_month": START,
            "end_month": END,
            "months": 60,
            "status": status,
            "overdue": [
                {"month": month_add(START, 15), "amount_yuan": 2600},
                {"month": month_add(START, 16), "amount_yuan": 5200},
            ],
        },
        "F": [
            {
                "type": "2",
                "date": "2021-12-20",
                "months_changed": 0,
                "amount_yuan": 22000,
                "detail": "担保人代偿",
            }
        ],
    }


QUERIES = [  # (date, reason, institution), newest first
    ("2025-06-10", "02", "甲银行"),
    ("2025-05-20", "03", "乙银行"),
    ("2025-04-01", "24", "甲银行"),
    ("2025-01-10", "08", "丙担保"),
    ("2024-12-01", "26", "丁小贷"),
    ("2024-03-01", "01", "中国银行"),
    ("2023-07-01", "02", "戊银行"),
]


def _hand_doc(sim: Sim) -> dict[str, Any]:
    doc = copy.deepcopy(sim.docs["credit_reports/personal"][0])
    doc["PRH"]["report_time"] = "2025-06-15T10:00:00"
    doc["PD01"] = [_card(), _loan(), _guaranteed_old_loan(), _new_consumer_loan()]
    doc["PD01"][1]["E"]["overdue"].sort(key=lambda e: e["month"])
    doc["PC02"]["accounts_total"] = 4
    doc["PH01"] = [
        {"date": d, "institution_type": "11", "institution": inst, "reason": reason}
        for d, reason, inst in QUERIES
    ]
    doc["PC05"]["last_query"] = doc["PH01"][0]
    doc["PD03"] = [
        {
            "institution_type": "51",
            "institution": "小微普惠小额贷款有限公司",
            "business_type": "41",
            "liability_type": "2",
            "currency": "CNY",
            "five_category": "3",
            "account_type": "D1",
            "repayment_status": "2",
            "borrower_type": "1",
            "borrower_name": "某商行",
            "liability_amount_yuan": 50000,
            "balance_yuan": 30000,
            "contract_no": "BZ-1",
            "open_date": "2024-10-01",
            "due_date": "2025-10-01",
            "report_date": "2025-06-01",
            "overdue_months": 2,
        }
    ]
    doc["PF"] = {
        "PF01": [],
        "PF02": [],
        "PF03": [
            {
                "court": "某人民法院",
                "cause": "金融借款合同纠纷",
                "filing_date": "2024-04-05",
                "status": "执行中",
                "amount_yuan": 40000,
                "executed_yuan": 0,
                "closing_date": None,
            }
        ],
        "PF04": [],
    }
    return doc


@pytest.fixture(scope="module")
def hand(sim: Sim) -> PersonalReport:
    return parse_personal(_hand_doc(sim))


def test_status_windows_hand_computed(hand: PersonalReport) -> None:
    f = report_features(hand)
    # delinquent lags in 24 months: 21(1) 20(2) 19(3) 18(4) 14(1) 13(1) 5(1) 4(2) 0(1)
    expected = {
        1: (1, 0, 1, 1, 800, 800),
        3: (1, 0, 1, 1, 800, 800),
        6: (3, 0, 2, 2, 3000, 1500),
        12: (3, 0, 2, 2, 3000, 1500),
        24: (9, 2, 4, 4, 14100, 4000),
    }
    for w, (months, months3, max_status, run, amount_sum, amount_max) in expected.items():
        assert f[f"overdue_months_{w}m"] == months, w
        assert f[f"overdue_months_3plus_{w}m"] == months3, w
        assert f[f"overdue_months_7_{w}m"] == 0, w
        assert f[f"max_status_{w}m"] == max_status, w
        assert f[f"longest_overdue_run_{w}m"] == run, w
        assert f[f"overdue_amount_sum_{w}m"] == amount_sum, w
        assert f[f"overdue_amount_max_{w}m"] == amount_max, w
    assert (f["trend_overdue_months_recent"], f["trend_overdue_months_prior"]) == (3, 0)


def test_a_run_is_cut_at_the_window_start(hand: PersonalReport) -> None:
    config = CreditReportConfig(windows=(1, 3, 6, 12, 20, 24))
    f = report_features(hand, config)
    # 20 months = lags 0..19: the 1-2-3-4 run started at lag 21, only 19 and 18 are inside
    assert f["longest_overdue_run_20m"] == 2
    assert f["overdue_months_20m"] == 7
    assert f["max_status_20m"] == 4


def test_as_of_shifts_the_windows(hand: PersonalReport) -> None:
    # as of 2025-01-20 (5 months earlier): lag 0 is then the report's lag 5
    f = report_features(hand, as_of=date(2025, 1, 20))
    assert f["overdue_months_1m"] == 1  # report lag 5 (status 1)
    assert f["max_status_3m"] == 1
    assert f["overdue_months_24m"] == 7  # report lags 5..28: 21, 20, 19, 18, 14, 13, 5
    with pytest.raises(InvalidInput, match="as_of"):
        report_features(hand, as_of=date(2019, 1, 1))


def test_exposure_inquiries_and_records_hand_computed(hand: PersonalReport) -> None:
    f = report_features(hand)
    assert f["lending_institutions"] == 2  # 中国银行 (D1) and 某消费金融 (R4); the card is no loan
    assert (f["lending_institutions_bank"], f["lending_institutions_nonbank"]) == (1, 1)
    assert f["total_outstanding"] == 50000 + 5000 + 9000
    assert f["card_utilisation"] == pytest.approx(0.25)
    # D1 max(3000, 50000/10), R2 max(300, 10% × 5000), R4 max(1000, 9000/9)
    assert f["monthly_debt_service"] == pytest.approx(5000 + 500 + 1000)
    assert f["accounts_total"] == 4
    assert f["accounts_open"] == 3
    assert (f["new_accounts_1m"], f["new_accounts_3m"], f["new_accounts_24m"]) == (0, 1, 1)
    # hard = 02/03/20/24/26: 06-10, 05-20 | 04-01 | 12-01 | 2023-07-01
    assert [f[f"hard_inquiries_{w}m"] for w in (1, 3, 6, 12, 24)] == [2, 3, 3, 4, 5]
    assert f["hard_inquiry_institutions_3m"] == 2
    assert (f["inquiries_guarantee_6m"], f["inquiries_guarantee_3m"]) == (1, 0)
    assert f["inquiries_post_loan_24m"] == 1
    assert f["bad_status_accounts"] == 1
    assert (f["special_transactions"], f["special_adverse"]) == (1, 1)
    assert f["special_transactions_24m"] == 0
    assert (f["guarantees"], f["guarantees_balance"], f["guarantees_bad"]) == (1, 30000, 1)
    assert f["guarantees_overdue"] == 1
    assert (f["public_records"], f["enforcements"], f["public_records_amount"]) == (1, 1, 40000)
    assert f["current_overdue_amount"] == 800
    assert f["accounts_concern_class"] == 1


def test_flags_with_evidence(hand: PersonalReport) -> None:
    analysis = analyse_report(hand)
    flags = {f.code: f for f in analysis.flags}
    assert set(flags) == {
        "worsening_trend",
        "serious_delinquency",
        "bad_debt_or_special",
        "public_records",
    }
    assert flags["serious_delinquency"].evidence["accounts"] == ["LOAN-1"]
    assert flags["worsening_trend"].evidence["accounts"] == ["LOAN-1"]
    assert flags["bad_debt_or_special"].evidence["accounts"] == ["OLD-1"]
    assert flags["bad_debt_or_special"].evidence["special_transactions"][0]["type"] == "2"
    strict = CreditReportConfig(
        multi_lending_institutions=2, multi_lending_inquiries={3: 3, 6: 9}, recent_new_accounts=1
    )
    more = {f.code: f for f in report_flags(hand, report_features(hand, strict), strict)}
    assert more["multi_lending"].evidence["accounts"] == ["LOAN-1", "NEW-1"]
    assert more["multi_lending"].evidence["query_dates"] == [
        "2025-04-01",
        "2025-05-20",
        "2025-06-10",
    ]
    assert more["recent_new_lenders"].evidence["accounts"] == ["NEW-1"]


def test_json_and_summary(hand: PersonalReport) -> None:
    data = analyse_report(hand).to_json()
    assert set(data) == {"features", "flags", "summary"}
    for key in (
        "overdue_months_24m",
        "max_status_24m",
        "hard_inquiries_3m",
        "lending_institutions",
        "total_outstanding",
    ):
        assert isinstance(data["features"][key], int)
    assert {f["code"] for f in data["flags"]} >= {"serious_delinquency"}
    assert all(set(f) >= {"code", "severity", "message", "transactions"} for f in data["flags"])
    json.dumps(data, allow_nan=False)
    summary = summarise_report(hand)
    assert summary.accounts == {
        "D1": {"open": 1, "overdue": 1, "closed": 1},
        "R2": {"open": 1, "overdue": 0, "closed": 0},
        "R4": {"open": 1, "overdue": 0, "closed": 0},
    }
    assert summary.delinquency["max_status_24m"] == 4
    en, zh = summary.to_text("en"), summary.to_text("zh-CN")
    assert any("worst status 4" in p for p in en)
    assert any("D1 非循环贷账户: 1 open (1 overdue), 1 closed" in p for p in en)
    assert any("最高状态4" in p for p in zh)
    assert any("强制执行1条" in p for p in zh)
    assert len(en) == len(zh) >= 6


def test_config_and_input_errors(hand: PersonalReport, sim: Sim) -> None:
    with pytest.raises(ValueError, match="windows must include"):
        CreditReportConfig(windows=(1, 3, 6, 12))
    with pytest.raises(ValueError, match="between 1 and 60"):
        CreditReportConfig(windows=(3, 6, 24, 61))
    with pytest.raises(InvalidInput, match="mixes"):
        report_features_frame([hand, sim.enterprise[0]])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match="as_of"):
        report_features_frame([hand], as_of=[REPORT_DAY, REPORT_DAY])
    with pytest.raises(InvalidInput, match="expected a date"):
        report_features(hand, as_of="2025-06-01")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="PersonalReport"):
        report_features_frame([{"layout": "xiaowei.pboc.personal/1.0"}])  # type: ignore[list-item]
    empty = report_features_frame([])
    assert empty.height == 0
    assert "overdue_months_24m" in empty.columns


# --- batch against single, on simulated reports ----------------------------------------------


def test_batch_equals_single(sim: Sim) -> None:
    for reports in (sim.personal[:300], sim.refresh[:60], sim.enterprise_refresh[:40]):
        frame = report_features_frame(reports)
        assert frame.height == len(reports)
        assert frame["report_id"].to_list() == [r.report_id for r in reports]
        for row, report in zip(frame.iter_rows(named=True), reports, strict=True):
            single = report_features(report)
            assert row["business_id"] == report.business_id
            assert {k: v for k, v in row.items() if k not in ("business_id", "report_id")} == (
                single
            )


def test_analyse_reports_equals_analyse_report(sim: Sim) -> None:
    reports = sim.refresh[:40]
    for batch, report in zip(analyse_reports(reports), reports, strict=True):
        assert batch.to_json() == analyse_report(report).to_json()


def test_batch_as_of_per_report(sim: Sim) -> None:
    reports = sim.refresh[:50]
    days = [date(r.PRH.report_time.year - 1, 6, 30) for r in reports]
    frame = report_features_frame(reports, as_of=days)
    for row, report, day in zip(frame.iter_rows(named=True), reports, days, strict=True):
        assert row["overdue_months_24m"] == report_features(report, as_of=day)["overdue_months_24m"]


def test_sim_features_agree_with_the_report_summary(sim: Sim) -> None:
    """The report's own summary segments (PC02, PC05) recomputed from the details."""
    frame = report_features_frame(sim.personal)
    for row, r in zip(frame.iter_rows(named=True), sim.personal, strict=True):
        s = r.PC02
        assert row["accounts_total"] == s.accounts_total
        assert row["card_limit_total"] == s.R2.credit_total_yuan
        assert row["guarantees"] == s.guarantees.accounts
        assert row["guarantees_balance"] == s.guarantees.balance_yuan
        worst = max((o.longest_months for o in s.overdue), default=0)
        assert row["max_status_24m"] <= worst
        assert row["public_records"] == sum(p.records for p in r.PC04)


def test_defaulters_look_worse(sim: Sim) -> None:
    frame = report_features_frame(sim.personal).join(
        sim.outcomes.select("business_id", "default_12m"), on="business_id"
    )
    flagged = {
        r.business_id: any(f.code == "multi_lending" for f in a.flags)
        for r, a in zip(sim.personal, analyse_reports(sim.personal), strict=True)
    }
    frame = frame.with_columns(
        pl.col("business_id").replace_strict(flagged, return_dtype=pl.Boolean).alias("ml")
    )
    means = frame.group_by("default_12m").agg(
        pl.len(),
        (pl.col("overdue_months_24m") > 0).mean().alias("any_overdue"),
        pl.col("max_status_24m", "hard_inquiries_24m", "hard_inquiries_6m", "ml").mean(),
    )
    bad = means.filter(pl.col("default_12m")).row(0, named=True)
    good = means.filter(~pl.col("default_12m")).row(0, named=True)
    assert bad["len"] >= 30
    assert bad["any_overdue"] > good["any_overdue"]
    assert bad["max_status_24m"] > good["max_status_24m"]
    assert bad["hard_inquiries_24m"] > 1.5 * good["hard_inquiries_24m"]
    assert bad["hard_inquiries_6m"] > good["hard_inquiries_6m"]
    assert bad["ml"] > 3 * good["ml"]


# --- enterprise reports -----------------------------------------------------------------------


def test_enterprise_counts(sim: Sim) -> None:
    reports: list[EnterpriseReport] = sim.enterprise + sim.enterprise_refresh
    frame = report_features_frame(reports)
    assert "overdue_months_24m" not in frame.columns
    for row, r in zip(frame.iter_rows(named=True), reports, strict=True):
        s = r.EC01
        assert row["accounts_open"] == s.accounts_open
        assert row["accounts_normal"] + row["accounts_concern"] + row["accounts_bad"] == (
            s.accounts_open
        )
        assert row["total_outstanding"] == s.balance_yuan
        assert row["outstanding_concern"] == s.concern_yuan
        assert row["outstanding_bad"] == s.bad_yuan
        assert row["overdue_amount"] == s.overdue_yuan
        assert row["accounts_settled"] == s.settled_accounts
        assert (row["settled_concern"], row["settled_bad"]) == (s.settled_concern, s.settled_bad)
        assert row["guarantees"] == s.guarantees.accounts
        assert row["public_records"] == s.public_records
    bad = next((r for r in reports if r.EC01.bad_yuan > 0), None)
    if bad is not None:
        codes = {f.code for f in analyse_report(bad).flags}
        assert "serious_delinquency" in codes
    text = analyse_report(reports[0]).summary.to_text("en")
    assert text[0].startswith("Enterprise report")


# --- property: the vectorised windows against a month-by-month reference ---------------------


def _status_strings() -> st.SearchStrategy[str]:
    """Valid 60-month strings of an account open before the window and still open."""

    @st.composite
    def build(draw: st.DrawFn) -> str:
        out = [draw(st.sampled_from("N*#1"))]
        while len(out) < 60:
            prev = out[-1]
            if prev in "N*#":
                nxt = draw(st.sampled_from("NNNN*#1"))
            else:
                k = int(prev)
                nxt = draw(st.sampled_from(["N", *[str(j) for j in range(1, min(k + 1, 7) + 1)]]))
            out.append(nxt)
        return "".join(out)

    return build()


def _reference(status: str, w: int) -> tuple[int, int, int, int, int]:
    window = [int(c) if c.isdigit() else 0 for c in status[60 - w :]]
    run = longest = 0
    for level in window:
        run = run + 1 if level else 0
        longest = max(longest, run)
    return (
        sum(x >= 1 for x in window),
        sum(x >= 3 for x in window),
        sum(x == 7 for x in window),
        max(window),
        longest,
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(status=_status_strings())
def test_windows_match_a_reference(sim: Sim, status: str) -> None:
    doc = _hand_doc(sim)
    loan = _loan()
    last = status[-1]
    loan["E"]["status"] = status
    loan["E"]["overdue"] = [
        {"month": month_add(START, p), "amount_yuan": 100 + p}
        for p, c in enumerate(status)
        if c.isdigit()
    ]
    loan["B"]["repayment_status"] = last
    loan["B"]["account_status"] = "2" if last.isdigit() else "1"
    loan["C"]["overdue_periods"] = int(last) if last.isdigit() else 0
    doc["PD01"] = [loan]
    doc["PC02"]["accounts_total"] = 1
    f = report_features(parse_personal(doc), CreditReportConfig(windows=(1, 3, 6, 12, 17, 24, 60)))
    for w in (1, 3, 6, 12, 17, 24, 60):
        got = tuple(
            f[f"{name}_{w}m"]
            for name in (
                "overdue_months",
                "overdue_months_3plus",
                "overdue_months_7",
                "max_status",
                "longest_overdue_run",
            )
        )
        assert got == _reference(status, w), w
        amounts = [100 + p for p in range(60 - w, 60) if status[p].isdigit()]
        assert f[f"overdue_amount_sum_{w}m"] == sum(amounts)
        assert f[f"overdue_amount_max_{w}m"] == max(amounts, default=0)


def test_a_report_without_accounts_or_queries(sim: Sim) -> None:
    doc = _hand_doc(sim)
    doc["PD01"], doc["PH01"], doc["PD03"] = [], [], []
    doc["PF"] = {"PF01": [], "PF02": [], "PF03": [], "PF04": []}
    doc["PC02"]["accounts_total"] = 0
    analysis = analyse_report(parse_personal(doc))
    assert all(v == 0 for v in analysis.features.values())
    assert analysis.flags == []
    assert "No delinquency in the last 24 months." in analysis.summary.to_text("en")
