"""Post-loan re-analysis (贷后重新分析): the credit file rebuilt ``as_of`` a later date.

One run of 80 businesses (seed 7, one worker, a 9-month follow window). Business 6 was picked
from the simulator's truth (``truth/timeline``, read here only to document the pick): applied
on 2025-01-17, defaults in the sixth month after it, its sales fall from the second; its
refreshed personal report is dated 2025-10-03. Measured on this run: at the application its
dynamic soft information is favourable (revenue +32.7 % quarter on quarter, no new inquiry or
lender); on the refresh date revenue is −100 % (the statements stop in July) and two new
lenders appear — both risky.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from xiaowei.core.errors import InvalidInput
from xiaowei.services.analysis import analyse_simulated, load_simulated_application
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.generate import run

BAD = 6
APPLIED = date(2025, 1, 17)
REFRESHED = date(2025, 10, 3)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("as_of") / "sim"
    run(
        SimulationConfig(businesses=80, seed=7, follow_months=9),
        out,
        workers=1,
        export_businesses=0,
    )
    return out


def _dynamic(cf: object) -> dict[str, tuple[str, str]]:
    grid = cf.deviation_grid  # type: ignore[attr-defined]
    assert grid is not None
    return {i["key"]: (i["value"], i["rating"]) for i in grid.items if i["category"] == "dynamic"}


def test_the_pick_is_a_defaulter_with_early_signs(sim: Path) -> None:
    timeline = pl.read_parquet(sim / "truth" / "timeline" / "*.parquet").filter(
        pl.col("business_id") == BAD
    )
    row = timeline.row(0, named=True)
    applied_month = APPLIED.year * 12 + APPLIED.month - 1
    assert row["default_month"] - applied_month == 6
    assert row["precursor_start"] - applied_month == 2


def test_the_application_file_is_unchanged_without_as_of(sim: Path) -> None:
    at_application = analyse_simulated(sim, BAD)
    same_day = analyse_simulated(sim, BAD, as_of=APPLIED)
    assert at_application.features.keys() == same_day.features.keys()
    for key, value in at_application.features.items():  # HHIs sum in hash order: 1e-16 apart
        assert same_day.features[key] == (value if value is None else pytest.approx(value))
    assert at_application.deviation_grid == same_day.deviation_grid
    assert at_application.as_of == APPLIED
    assert at_application.months[-1]["month"] == "2025-01"
    assert _dynamic(at_application) == {
        "dynamic.revenue_change": ("+32.7%", "favourable"),
        "dynamic.new_inquiries_3m": ("0", "favourable"),
        "dynamic.new_lenders_6m": ("0", "favourable"),
    }
    # the revenue change compares complete months: October–December 2024 against July–
    # September, the part-month of January 2025 (up to the 17th) left out
    revenue = {m["month"]: m["revenue_estimate"] for m in at_application.months}
    recent = sum(revenue[f"2024-{m}"] for m in ("10", "11", "12"))
    prior = sum(revenue[f"2024-{m}"] for m in ("07", "08", "09"))
    assert f"{recent / prior - 1:+.1%}" == "+32.7%"
    inputs = load_simulated_application(sim, BAD)
    assert inputs.personal_report is not None
    assert inputs.personal_report.kind == "application"


def test_the_later_file_uses_later_months_and_the_refreshed_report(sim: Path) -> None:
    later = analyse_simulated(sim, BAD, as_of=REFRESHED)
    assert later.as_of == REFRESHED
    assert [m["month"] for m in later.months][-9:] == [f"2025-{m:02d}" for m in range(1, 10)]
    assert _dynamic(later) == {
        "dynamic.revenue_change": ("-100.0%", "risky"),
        "dynamic.new_inquiries_3m": ("0", "favourable"),
        "dynamic.new_lenders_6m": ("2", "risky"),
    }
    assert later.deviation_grid is not None
    assert not later.deviation_grid.ready_for_approval
    inputs = load_simulated_application(sim, BAD, as_of=REFRESHED)
    assert inputs.personal_report is not None
    assert inputs.personal_report.report_id == "P202510030000000006R"
    # the refresh shows our own loan and the new ones: 36,983 yuan at application, 81,025 now
    assert later.features["bureau_total_outstanding"] == 81_025
    assert analyse_simulated(sim, BAD).features["bureau_total_outstanding"] == 36_983


def test_the_refresh_counts_only_from_its_report_date(sim: Path) -> None:
    day_before = load_simulated_application(sim, BAD, as_of=date(2025, 10, 2))
    assert day_before.personal_report is not None
    assert day_before.personal_report.kind == "application"
    cf = analyse_simulated(sim, BAD, as_of=date(2025, 10, 2))
    assert _dynamic(cf)["dynamic.revenue_change"] == ("-100.0%", "risky")
    assert _dynamic(cf)["dynamic.new_lenders_6m"] == ("0", "favourable")


def test_every_dated_source_is_cut_at_as_of(sim: Path) -> None:
    as_of = date(2025, 6, 10)
    for business in range(1, 81):
        inputs = load_simulated_application(sim, business)
        if inputs.attendance is not None and inputs.as_of < as_of:
            break
    else:  # pragma: no cover - the run has businesses with attendance
        pytest.fail("no business with attendance applied before the as_of date")
    later = load_simulated_application(sim, business, as_of=as_of)
    assert later.statements is not None
    assert later.attendance is not None
    assert later.statements["date"].max() == date(2025, 6, 10)
    assert later.attendance["date"].max() <= as_of  # type: ignore[operator]
    at_application = load_simulated_application(sim, business)
    assert at_application.attendance is not None
    assert at_application.statements is not None
    # the application file is cut at the application date too (the memo's charts included)
    assert at_application.attendance["date"].max() <= at_application.as_of  # type: ignore[operator]
    assert at_application.statements["date"].max() <= at_application.as_of  # type: ignore[operator]
    cf = analyse_simulated(sim, business, as_of=as_of)
    assert cf.months[-1]["month"] == "2025-06"
    # attendance features use the complete months before June: March to May
    assert cf.features["att_months_3m"] == 3


def test_a_date_before_the_application_is_refused(sim: Path) -> None:
    with pytest.raises(InvalidInput, match="before business 6's application date 2025-01-17"):
        analyse_simulated(sim, BAD, as_of=date(2025, 1, 16))
