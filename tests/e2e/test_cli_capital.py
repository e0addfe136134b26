"""``xiaowei capital irb`` and ``xiaowei price`` as a user runs them.

Expected figures: Basel II (June 2006) Annex 5 and the hand-worked examples of
``tests/unit/decision/test_capital.py`` and ``test_pricing.py``.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from cli_runner import installed, run_cli


def run(*args: str, lang: str = "en", process: bool = False) -> subprocess.CompletedProcess[str]:
    """In-process, or through the installed executable with ``process``."""
    env = {**os.environ, "XIAOWEI_LANG": lang, "COLUMNS": "120"}
    return installed(*args, env=env) if process else run_cli(*args, env=env)


def test_irb_json_for_an_sme_with_ead() -> None:
    args = (
        "capital", "irb", "--pd", "0.01", "--lgd", "0.45", "--asset-class", "corporate",
        "--sales-million-eur", "5", "--ead", "1000000", "--json",
    )  # fmt: skip
    done = run(*args, process=True)  # the installed executable
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["paragraph"] == "§272"
    assert data["correlation"] == pytest.approx(0.152784, abs=5e-7)
    assert data["maturity_adjustment"] == pytest.approx(0.137486, abs=5e-7)
    assert data["capital_k"] == pytest.approx(0.057916, abs=5e-7)
    assert data["risk_weight"] == pytest.approx(0.723947, abs=5e-7)  # Annex 5: 72.40 %
    assert data["scaling"] == 1.0
    assert data["ead"] == "1000000.00"
    assert data["rwa"] == "723947.27"


def test_irb_table_for_corporate_with_basel_ii_scaling() -> None:
    done = run(
        "capital", "irb", "--pd", "0.0003", "--lgd", "0.45", "--asset-class", "corporate",
        "--scaling", "1.06", "--ead", "100",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "corporate (§272)" in out
    assert "0.238213" in out  # R at the 0.03 % floor
    assert "0.316834" in out  # b
    assert "0.011555" in out  # K
    assert "(15.31%)" in out  # 14.44 % of Annex 5 × 1.06
    assert "15.31" in out.split("RWA")[1]  # RWA of 100 CNY


def test_price_json_with_a_product() -> None:
    done = run("price", "--pd", "0.02", "--lgd", "0.45", "--term", "12", "--product", "SME-OP",
               "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["components"] == {
        "funding": "0.025000",
        "operating_cost": "0.020000",
        "expected_loss": "0.009000",
        "cost_of_capital": "0.004871",
        "margin": "0.005000",
    }
    assert data["rate"] == "0.063871"
    assert data["floor"] == "0.043500"
    assert data["ceiling"] == "0.120000"  # 4 × LPR 3.00 % is below the product's 18 %
    assert data["bound"] is None
    assert data["raroc"] == pytest.approx(0.22779, abs=5e-6)
    assert data["product"] == "SME-OP"


def test_price_table_shows_the_legal_cap_binding_in_chinese() -> None:
    done = run("price", "--pd", "0.15", "--lgd", "0.6", "--term", "24", "--margin", "0",
               lang="zh-CN")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "法定利率上限" in done.stdout
    assert "14.4923%" in done.stdout  # the risk-based rate before the cap (no margin)
    assert "12.0000%" in done.stdout  # 4 × 3.00 % LPR


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("capital", "irb", "--pd", "abc", "--lgd", "0.45", "--asset-class", "corporate"),
            "pd: 'abc' is not a number",
            id="irb-pd-not-a-number",
        ),
        pytest.param(
            ("capital", "irb", "--pd", "0.01", "--lgd", "0.45", "--asset-class", "sovereign"),
            "asset_class: 'sovereign' is not one of",
            id="irb-asset-class",
        ),
        pytest.param(
            ("price", "--pd", "0.02", "--lgd", "1.5", "--term", "12"),
            "lgd: 1.5 must be in [0, 1]",
            id="price-lgd",
        ),
        pytest.param(
            ("price", "--pd", "0.02", "--lgd", "0.45", "--term", "12", "--product", "NOPE"),
            "no product 'NOPE'",
            id="price-product",
        ),
    ],
)
def test_bad_input_is_one_clear_line(args: tuple[str, ...], message: str) -> None:
    done = run(*args)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
