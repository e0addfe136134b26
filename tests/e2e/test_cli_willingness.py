"""``xiaowei analyse willingness`` and ``xiaowei analyse grid`` as a user runs them (in-process;
the text through the installed executable).

The willingness figures are checked by hand against the run's observable tables and the
documented defaults (docs/analysis.md): business assets × 0.5, household assets × 0.7, a
guarantor covers the whole loan, future credit = loan × 10 % × the 5-year annuity factor at
10 % (3.790787), exposure = loan + the current balance sheet's liabilities.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from cli_runner import installed
from cli_runner import run_cli as run
from xiaowei.core.i18n import Lang
from xiaowei.reports import charts
from xiaowei.reports.soft_charts import willingness_chart
from xiaowei.services.analysis import analyse_simulated
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.generate import run as simulate
from xiaowei.simulate.output import read_table

PNG = b"\x89PNG\r\n\x1a\n"
COMPONENTS = ("business_assets", "household_assets", "guarantors", "future_credit", "reputation")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli_willingness") / "sim"
    simulate(
        SimulationConfig(businesses=60, seed=7, follow_months=0),
        out,
        workers=1,
        export_businesses=0,
    )
    return out


@pytest.fixture(scope="module")
def guaranteed(sim: Path) -> int:
    """The first business with a guarantor (保证人) among its parties."""
    parties = read_table(sim, "parties").filter(pl.col("role") == "guarantor")
    return int(parties["business_id"].min())  # type: ignore[arg-type]


def _fen(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


def test_willingness_json_components_sum_to_the_cost(
    sim: Path, guaranteed: int, tmp_path: Path
) -> None:
    png = tmp_path / "will.png"
    result = run(
        "analyse", "willingness", str(sim), "--business", str(guaranteed), "--json",
        "--chart", str(png), "--lang", "en",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    cost = data["cost_of_default"]
    assert sum(Decimal(cost[k]) for k in COMPONENTS) == Decimal(cost["total"])
    # by hand from the observable tables
    sheet = read_table(sim, "financials/balance_sheets").filter(
        (pl.col("business_id") == guaranteed) & (pl.col("kind") == "current")
    )
    row = sheet.row(0, named=True)
    business = read_table(sim, "businesses").filter(pl.col("business_id") == guaranteed)
    loan = _fen(int(business["requested_amount_fen"][0]))
    household = _fen(row["household_assets_fen"])
    business_assets = _fen(row["total_assets_fen"]) - household
    annuity = (1 - Decimal("1.1") ** -5) / Decimal("0.1")
    assert Decimal(cost["business_assets"]) == (business_assets * Decimal("0.5")).quantize(
        Decimal("0.01")
    )
    assert Decimal(cost["household_assets"]) == (household * Decimal("0.7")).quantize(
        Decimal("0.01")
    )
    assert Decimal(cost["guarantors"]) == loan  # one guarantor covers the whole loan
    assert Decimal(cost["future_credit"]) == (loan * Decimal("0.1") * annuity).quantize(
        Decimal("0.01")
    )
    assert Decimal(cost["reputation"]) == 0  # the run records no network revenue share
    exposure = data["exposure"]
    assert Decimal(exposure["loan_amount"]) == loan
    assert Decimal(exposure["existing_debts"]) == _fen(row["total_liabilities_fen"])
    assert Decimal(exposure["total"]) == loan + _fen(row["total_liabilities_fen"])
    assert Decimal(data["margin"]) == Decimal(cost["total"]) - Decimal(exposure["total"])
    assert data["ratio"] == pytest.approx(
        float(Decimal(cost["total"]) / Decimal(exposure["total"]))
    )
    # capacity and evidence are those of the credit file
    cf = analyse_simulated(sim, guaranteed)
    assert cf.capacity is not None
    assert Decimal(data["capacity"]["max_affordable_loan"]) == cf.capacity.max_affordable_loan
    assert data["evidence"]["overdue_months_24m"] == cf.features["bureau_overdue_months_24m"]
    assert png.read_bytes()[:8] == PNG


def test_willingness_text_names_every_component(sim: Path, guaranteed: int) -> None:
    result = installed("analyse", "willingness", str(sim), "--business", str(guaranteed))
    assert result.returncode == 0, result.stderr
    for label in ("可执行经营资产", "可执行家庭资产", "保证人代偿", "未来融资机会现值", "圈子声誉"):
        assert label in result.stdout
    assert "willingness margin" in result.stdout
    assert "maximum affordable loan" in result.stdout


def test_bad_options_are_clear_errors(sim: Path, tmp_path: Path) -> None:
    bad_lang = run("analyse", "willingness", str(sim), "--business", "1", "--lang", "fr")
    assert bad_lang.returncode == 1
    assert "not one of en, zh-CN" in bad_lang.stderr
    missing = run("analyse", "willingness", str(tmp_path / "none"), "--business", "1")
    assert missing.returncode == 1
    assert "is not a folder" in missing.stderr
    unknown = run("analyse", "grid", str(sim), "--business", "1", "--justify", "declared.x=why")
    assert unknown.returncode == 1
    assert "no grid item 'declared.x'" in unknown.stderr
    malformed = run("analyse", "grid", str(sim), "--business", "1", "--justify", "because")
    assert malformed.returncode == 1
    assert "is not KEY=TEXT" in malformed.stderr


def test_grid_is_ready_once_every_risky_item_is_justified(sim: Path) -> None:
    grids = ((b, analyse_simulated(sim, b).deviation_grid) for b in range(1, 61))
    business, grid = next((b, g) for b, g in grids if g is not None and len(g.risky) >= 2)
    risky = grid.risky
    first = run("analyse", "grid", str(sim), "--business", str(business), "--json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["risky"] == risky
    assert data["missing_justifications"] == risky
    assert data["ready_for_approval"] is False
    one = run(
        "analyse", "grid", str(sim), "--business", str(business), "--json",
        "--justify", f"{risky[0]}=checked on the visit",
    )  # fmt: skip
    data = json.loads(one.stdout)
    assert data["missing_justifications"] == risky[1:]
    assert data["ready_for_approval"] is False
    justified = {i["key"]: i["justification"] for i in data["items"] if i["justification"]}
    assert justified == {risky[0]: "checked on the visit"}
    every = [a for key in risky for a in ("--justify", f"{key}=explained")]
    done = run("analyse", "grid", str(sim), "--business", str(business), *every)
    assert done.returncode == 0, done.stderr
    assert "deviation grid: ready for approval" in done.stdout


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_willingness_chart_renders_without_warnings(
    sim: Path, guaranteed: int, lang: Lang, tmp_path: Path
) -> None:
    """In-process, so that a missing-glyph warning fails the test (filterwarnings = error)."""
    if lang == "zh-CN" and charts.cjk_font() is None:
        pytest.skip("no CJK font installed (fonts-noto-cjk); English is drawn instead")
    cf = analyse_simulated(sim, guaranteed)
    assert cf.willingness is not None
    png = willingness_chart(
        cf.willingness, tmp_path / "w.png", capacity=cf.capacity, title="business 1", lang=lang
    )
    assert png.read_bytes()[:8] == PNG
    # without capacity figures the right panel says so
    other = willingness_chart(cf.willingness, tmp_path / "n.png", lang=lang)
    assert other.read_bytes()[:8] == PNG
