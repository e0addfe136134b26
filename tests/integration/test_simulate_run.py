"""A whole simulator run, as a user makes it: realism, reproducibility, the folder's promises.

One run of 3,000 businesses is generated once for the module (two worker processes, as the
CLI does) and read back from its files. The realism bars are the issue's: a logistic
regression on simple observable features reaches a holdout AUC between 0.70 and 0.85 against
the simulated defaults; the 48-hour same-amount rule finds round-trippers far above their base
rate; statement balances reconcile; margins and bad rates are plausible.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from xiaowei.analysis.credit_report_schema import HARD_QUERY_REASONS, parse_personal
from xiaowei.core.errors import InvalidInput
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.describe import describe
from xiaowei.simulate.generate import run
from xiaowei.simulate.output import read_documents, read_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "run"
    run(SimulationConfig(businesses=3000, seed=42), out, workers=2)
    return out


def _features(out: Path) -> pl.DataFrame:
    """Simple observable features: the application, the owner, the credit report's counts and
    the statements' monthly inflow volatility, one row per business, with the label."""
    b = read_table(out, "businesses")
    o = read_table(out, "owners")
    rows = []
    for doc in read_documents(out, "credit_reports/personal"):
        r = parse_personal(doc)
        history = "".join(a.E.status for a in r.PD01 if a.E)
        rows.append(
            {
                "business_id": r.business_id,
                "accounts": len(r.PD01),
                "delinquent_months": sum(c.isdigit() and c != "0" for c in history),
                "hard_inquiries": sum(q.reason in HARD_QUERY_REASONS for q in r.PH01),
            }
        )
    bureau = pl.DataFrame(rows)
    tx = pl.scan_parquet(out / "statements/transactions/*.parquet")
    apps = b.select("business_id", "application_date").lazy()
    inflow = (
        tx.join(apps, on="business_id")
        .filter((pl.col("date") < pl.col("application_date")) & (pl.col("direction") == "in"))
        .group_by("business_id", pl.col("date").dt.truncate("1mo").alias("m"))
        .agg(pl.col("amount_fen").sum().alias("inflow"))
        .group_by("business_id")
        .agg(
            (pl.col("inflow").std() / pl.col("inflow").mean()).alias("inflow_cv"),
            pl.col("inflow").mean().log().alias("log_inflow"),
        )
        .collect()
    )
    outcomes = read_table(out, "loans/outcomes").select("business_id", "default_12m")
    industries = b["industry"].unique().sort().to_list()[1:]
    keep = {"on": "business_id", "maintain_order": "left"}
    return (
        b.join(o, **keep)
        .join(bureau, **keep)
        .join(inflow, **keep)
        .join(outcomes, **keep)
        .with_columns(
            pl.col("years_in_business").log().alias("log_years"),
            ((pl.col("age") - 42) / 10).pow(2).alias("age_sq"),
            (pl.col("marital_status") == "已婚").cast(pl.Float64).alias("married"),
            pl.col("employees").log1p().alias("log_staff"),
            (pl.col("requested_amount_fen").log() - pl.col("log_inflow")).alias("ask_ratio"),
            *[(pl.col("industry") == i).cast(pl.Float64).alias(f"ind_{i}") for i in industries],
        )
    )


FEATURES = (
    "log_years",
    "age_sq",
    "married",
    "log_staff",
    "accounts",
    "delinquent_months",
    "hard_inquiries",
    "inflow_cv",
    "ask_ratio",
)


def test_simple_features_find_real_but_not_trivial_signal(sim: Path) -> None:
    """Out-of-fold AUC of a logistic regression (5 stratified folds: every business is scored
    by a model that never saw it), steadier than one split of a few thousand."""
    data = _features(sim)
    columns = [*FEATURES, *[c for c in data.columns if c.startswith("ind_")]]
    x = data.select(columns).fill_null(0).fill_nan(0).to_numpy()
    y = data["default_12m"].to_numpy().astype(int)
    assert 0.03 < y.mean() < 0.10
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    auc = roc_auc_score(y, scores)
    assert 0.70 <= auc <= 0.85, auc
    # the latent PD itself ranks better than any lender can: the noise is real
    truth = data.select("business_id").join(
        read_table(sim, "truth/businesses"), on="business_id", how="left", maintain_order="left"
    )
    assert roc_auc_score(y, truth["pd_12m"].to_numpy()) > auc


def test_the_48_hour_rule_finds_round_trippers(sim: Path) -> None:
    tx = pl.scan_parquet(sim / "statements/transactions/*.parquet").select(
        "txn_id", "account_id", "business_id", "ts", "direction", "amount_fen", "counterparty_name"
    )
    ins = tx.filter((pl.col("direction") == "in") & (pl.col("amount_fen") >= 1_000_000))
    outs = tx.filter(pl.col("direction") == "out").select(
        "account_id", pl.col("ts").alias("ts_out"), pl.col("amount_fen").alias("out_fen")
    )
    pairs = (
        ins.join(outs, on="account_id")
        .filter(
            (pl.col("ts_out") > pl.col("ts"))
            & (pl.col("ts_out") <= pl.col("ts") + pl.duration(hours=48))
            & ((pl.col("out_fen") - pl.col("amount_fen")).abs() <= pl.col("amount_fen") // 100)
        )
        .group_by("business_id")
        .agg(pl.col("txn_id").n_unique().alias("pairs"))
        .collect()
    )
    truth = read_table(sim, "truth/businesses").select("business_id", "round_trips")
    flagged = truth.join(pairs, on="business_id", how="left").with_columns(
        (pl.col("pairs").fill_null(0) >= 5).alias("flag")
    )
    base = truth["round_trips"].mean()
    hits = flagged.filter("flag")
    precision = hits["round_trips"].mean()
    recall = flagged.filter("round_trips")["flag"].mean()
    assert precision > 5 * base, (precision, base)
    assert recall > 0.8


def test_statements_reconcile_on_every_account(sim: Path) -> None:
    tx = pl.scan_parquet(sim / "statements/transactions/*.parquet")
    signed = (
        pl.when(pl.col("direction") == "in").then("amount_fen").otherwise(-pl.col("amount_fen"))
    )
    check = (
        tx.sort("account_id", "ts", "txn_id")
        .with_columns(
            (pl.col("balance_fen") - pl.col("balance_fen").shift(1).over("account_id")).alias(
                "step"
            ),
            signed.alias("signed"),
        )
        .filter(pl.col("step").is_not_null() & (pl.col("step") != pl.col("signed")))
        .select(pl.len())
        .collect()
        .item()
    )
    assert check == 0
    accounts = read_table(sim, "statements/accounts")
    totals = (
        tx.group_by("account_id")
        .agg(signed.sum().alias("net"), pl.col("balance_fen").min().alias("lowest"))
        .collect()
    )
    joined = accounts.join(totals, on="account_id")
    assert (joined["opening_balance_fen"] + joined["net"] == joined["closing_balance_fen"]).all()
    assert (joined["lowest"] >= 0).all()


def test_describe_reports_plausible_rates(sim: Path) -> None:
    d = describe(sim)
    assert d.businesses == 3000
    assert 0.03 < d.default_rate < 0.10
    assert 0.1 < d.fraud_rate < 0.35
    for row in d.industries:
        assert 0.05 < row["gross_margin"] < 0.7
        assert 0.01 < row["true_pd"] < 0.2
        assert 0.005 < row["default_rate"] < 0.2, row
    manifest = json.loads((sim / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["statements/transactions"] > 3000 * 28 * 40
    # every file is listed with its digest; truth is apart from the observable tables
    listed = set(manifest["files"])
    on_disk = {
        str(p.relative_to(sim)) for p in sim.rglob("*") if p.is_file() and p.name != "manifest.json"
    }
    assert listed == on_disk
    assert all(not t.startswith("truth") for t in manifest["tables"])
    observable = pl.read_parquet(sim / "businesses" / "part-00000.parquet")
    assert not {"pd_12m", "honesty", "round_trips"} & set(observable.columns)


def test_same_seed_same_bytes_whatever_the_workers(tmp_path: Path) -> None:
    config = SimulationConfig(businesses=120, seed=5, chunk_size=50, follow_months=3)
    one = run(config, tmp_path / "one", workers=1)
    two = run(config, tmp_path / "two", workers=2)
    assert one.manifest["files"] == two.manifest["files"]
    other = run(config.model_copy(update={"seed": 6}), tmp_path / "other", workers=1)
    assert other.manifest["files"] != one.manifest["files"]


def test_an_earlier_run_is_replaced_only_when_asked(tmp_path: Path) -> None:
    config = SimulationConfig(businesses=20, seed=1, follow_months=0)
    run(config, tmp_path / "out", workers=1)
    with pytest.raises(InvalidInput, match="not empty"):
        run(config, tmp_path / "out", workers=1)
    run(config, tmp_path / "out", workers=1, overwrite=True)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("precious", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not a simulator folder"):
        run(config, tmp_path / "mine", workers=1, overwrite=True)
    assert (tmp_path / "mine" / "thesis.txt").read_text(encoding="utf-8") == "precious"
    with pytest.raises(InvalidInput, match="unknown format"):
        run(config, tmp_path / "x", formats=["parquet", "sas"], workers=1)


def test_bank_exports_for_the_first_businesses(tmp_path: Path) -> None:
    config = SimulationConfig(businesses=30, seed=3, follow_months=0)
    result = run(
        config, tmp_path / "out", formats=["parquet", "csv", "xlsx"], workers=1, export_businesses=5
    )
    csvs = sorted((tmp_path / "out" / "exports" / "csv").glob("*.csv"))
    xlsxs = sorted((tmp_path / "out" / "exports" / "xlsx").glob("*.xlsx"))
    accounts = read_table(tmp_path / "out", "statements/accounts").filter(
        pl.col("business_id") <= 5
    )
    assert len(csvs) == len(xlsxs) == accounts.height
    assert (tmp_path / "out" / "csv" / "businesses" / "part-00000.csv").exists()
    assert result.counts["businesses"] == 30
