"""Benchmark: transaction-flow features (交易流水分析) for 10,000 businesses × 12 months.

    .venv/bin/python benchmarks/bench_flows.py [--businesses N] [--seed S] [--workers W]
                                               [--data DIR] [--pandas-businesses P]

Generates a simulator run (``follow_months=0``: about 10.7 million transactions for 10,000
businesses) into a temporary folder, or reads a kept run with ``--data DIR``, loads
``statements/transactions`` and the own identities (account numbers, holder, owner and
company names) and times, in this process:

* **Polars**: ``flows.prepare`` (normalise, classify, order, round-trip pairs, consulting
  credits) + ``flows.monthly_table`` + ``flows.flow_features`` — the issue's bar is under 10 s;
  ``flows.flow_flags`` is timed on its own;
* **pandas**: a straightforward groupby implementation of the same monthly table (inflow,
  outflow, revenue estimate per business and month, with the same own-transfer, keyword,
  round-trip and consulting-credit rules) and a representative subset of the 12-month
  features: revenue CV, customer top-1 / top-5 share and HHI, cash-withdrawal share and
  night-time share. It starts from a pandas frame already in memory (the conversion is not
  timed). With ``--pandas-businesses P`` it runs on the first P businesses only and its time
  is extrapolated linearly by transactions (stated in the output).

The two must agree: integer columns exactly, floats within 1e-9 relative. The ratio printed is
pandas time / Polars time on the same rows (the issue's target: ≥ 5×).

``main(argv)`` returns the figures as a dict for ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from xiaowei.analysis import flows
from xiaowei.analysis.flows import FlowsConfig

TARGET_SECONDS = 10.0
TARGET_RATIO = 5.0
FEATURES = (
    "revenue_cv_12m",
    "customer_top1_share_12m",
    "customer_top5_share_12m",
    "customer_hhi_12m",
    "cash_share_12m",
    "night_share_12m",
)


def _load(out: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    from xiaowei.simulate.output import read_table

    tx = pl.read_parquet(out / "statements" / "transactions" / "*.parquet")
    acc = read_table(out, "statements/accounts")
    names = pl.concat(
        [
            acc.select("business_id", name="holder_name"),
            read_table(out, "businesses").select("business_id", name="business_name"),
            read_table(out, "owners").select("business_id", "name"),
        ]
    )
    return tx, flows.own_identities(acc.select("business_id", "account_no"), names)


def polars_run(tx: pl.DataFrame, own: pl.DataFrame, cfg: FlowsConfig) -> dict[str, Any]:
    began = time.perf_counter()
    prepared = flows.prepare(tx, own, cfg)
    t_prepare = time.perf_counter() - began
    monthly = flows.monthly_table(prepared)
    t_monthly = time.perf_counter() - began - t_prepare
    features = flows.flow_features(prepared, monthly=monthly)
    seconds = time.perf_counter() - began
    return {
        "prepared": prepared,
        "monthly": monthly,
        "features": features,
        "seconds": seconds,
        "prepare_seconds": t_prepare,
        "monthly_seconds": t_monthly,
        "features_seconds": seconds - t_prepare - t_monthly,
    }


def _to_pandas(frame: pl.DataFrame) -> pd.DataFrame:
    """Column by column through NumPy (no pyarrow needed); text as Python objects."""
    return pd.DataFrame({c: frame[c].to_numpy() for c in frame.columns})


def _contains(s: pd.Series, words: tuple[str, ...]) -> pd.Series:
    pattern = "|".join(map(re.escape, words))
    return s.str.contains(pattern, regex=True, na=False).astype(bool)


def pandas_run(df: pd.DataFrame, own: pd.DataFrame, cfg: FlowsConfig) -> dict[str, Any]:
    """The same monthly table and features with plain pandas groupbys (reference)."""
    began = time.perf_counter()
    df = df.sort_values(["business_id", "account_id", "ts", "txn_id"], kind="stable")
    df = df.reset_index(drop=True)
    df["seq"] = np.arange(len(df))
    df["is_in"] = df["direction"] == "in"
    df["month_idx"] = df["ts"].dt.year * 12 + df["ts"].dt.month - 1
    # own transfers
    o = own.assign(_own=True)
    acc = df[["business_id", "counterparty_account"]].merge(
        o.rename(columns={"identifier": "counterparty_account"}),
        how="left",
        on=["business_id", "counterparty_account"],
    )["_own"]
    nm = df[["business_id", "counterparty_name"]].merge(
        o.rename(columns={"identifier": "counterparty_name"}),
        how="left",
        on=["business_id", "counterparty_name"],
    )["_own"]
    memo = df["memo"]
    is_own = (
        acc.notna().to_numpy()
        | nm.notna().to_numpy()
        | _contains(memo, cfg.own_transfer_memo_keywords).to_numpy()
    )
    df["is_own"] = is_own
    not_rev = df["is_in"] & (
        df["is_own"]
        | _contains(memo, cfg.loan_proceeds_keywords)
        | _contains(memo, cfg.refund_keywords)
        | _contains(memo, cfg.interest_keywords)
        | _contains(memo, cfg.capital_keywords)
    )
    out = ~df["is_in"]
    no_cp = df["counterparty_name"].isna()
    df["is_cash"] = (
        out
        & ~df["is_own"]
        & (
            _contains(memo, cfg.cash_withdrawal_keywords)
            | (df["channel"].isin(list(cfg.cash_channels)) & no_cp)
        )
    )
    df["consult_in"] = (
        df["is_in"]
        & ~df["is_own"]
        & _contains(memo, cfg.consulting_keywords)
        & _contains(df["counterparty_name"], cfg.company_markers)
    )
    # round trips: same account, out within the window, same amount ± tolerance
    big = df[~df["is_own"] & (df["amount_fen"] >= cfg.round_trip_min_amount_fen)]
    big = big.assign(day=big["ts"].dt.normalize())
    ins = big[big["is_in"]]
    outs = big[~big["is_in"]][["business_id", "account_id", "day", "seq", "ts", "amount_fen"]]
    days = int(np.ceil(cfg.round_trip_window_hours / 24))
    ins = pd.concat([ins.assign(day=ins["day"] + pd.Timedelta(days=k)) for k in range(days + 1)])
    pairs = ins.merge(outs, on=["business_id", "account_id", "day"], suffixes=("", "_o"))
    dt = pairs["ts_o"] - pairs["ts"]
    pairs = pairs[
        (dt >= pd.Timedelta(0))
        & (dt <= pd.Timedelta(hours=cfg.round_trip_window_hours))
        & (pairs["seq_o"] > pairs["seq"])
        & (
            (pairs["amount_fen_o"] - pairs["amount_fen"]).abs()
            <= pairs["amount_fen"] * cfg.round_trip_tolerance
        )
    ].assign(dt=dt)
    pairs = pairs.sort_values(["seq", "dt", "seq_o"], kind="stable")
    pairs = pairs.drop_duplicates("seq").drop_duplicates("seq_o")
    counts = pairs.groupby("business_id").size()
    flagged = counts[counts >= cfg.round_trip_min_pairs].index
    rt_in = pairs[pairs["business_id"].isin(flagged)]["seq"]
    df["is_revenue"] = df["is_in"] & ~not_rev & ~df["seq"].isin(rt_in)
    # month grid and consulting credits against the median month
    bounds = df.groupby("business_id")["month_idx"].agg(["min", "max"])
    grid = pd.DataFrame(
        {
            "business_id": np.repeat(bounds.index, bounds["max"] - bounds["min"] + 1),
            "month_idx": np.concatenate(
                [np.arange(a, b + 1) for a, b in zip(bounds["min"], bounds["max"], strict=True)]
            ),
        }
    )
    base = df[df["is_revenue"] & ~df["consult_in"]]
    base_m = base.groupby(["business_id", "month_idx"])["amount_fen"].sum().rename("r")
    typical = (
        grid.merge(base_m.reset_index(), how="left", on=["business_id", "month_idx"])
        .fillna({"r": 0})
        .groupby("business_id")["r"]
        .median()
        .rename("typical")
    )
    df = df.merge(typical.reset_index(), on="business_id", how="left")
    flag = (
        df["consult_in"]
        & (df["amount_fen"] >= cfg.consulting_min_fen)
        & (df["amount_fen"] >= cfg.consulting_revenue_ratio * df["typical"])
    )
    df["is_revenue"] = df["is_revenue"] & ~flag
    # monthly table
    df["inflow"] = np.where(df["is_in"], df["amount_fen"], 0)
    df["outflow"] = np.where(df["is_in"], 0, df["amount_fen"])
    df["revenue"] = np.where(df["is_revenue"], df["amount_fen"], 0)
    monthly = df.groupby(["business_id", "month_idx"])[["inflow", "outflow", "revenue"]].sum()
    monthly = (
        grid.merge(monthly.reset_index(), how="left", on=["business_id", "month_idx"])
        .fillna(0)
        .astype({"inflow": "int64", "outflow": "int64", "revenue": "int64"})
    )
    # 12-month features
    last = monthly.groupby("business_id")["month_idx"].transform("max")
    m12 = monthly[monthly["month_idx"] > last - 12]
    g = m12.groupby("business_id")["revenue"]
    feats = pd.DataFrame({"revenue_cv_12m": g.std(ddof=1) / g.mean()})
    df["last"] = df.groupby("business_id")["month_idx"].transform("max")
    w = df[df["month_idx"] > df["last"] - 12]
    cust = w[w["is_revenue"] & w["counterparty_name"].notna()]
    per_cp = cust.groupby(["business_id", "counterparty_name"])["amount_fen"].sum()
    per_cp = per_cp.astype("float64")
    total = per_cp.groupby(level=0).sum()
    shares = per_cp / total.reindex(per_cp.index.get_level_values(0)).to_numpy()
    feats["customer_top1_share_12m"] = per_cp.groupby(level=0).max() / total
    feats["customer_top5_share_12m"] = (
        per_cp.groupby(level=0).apply(lambda s: s.nlargest(5).sum()) / total
    )
    feats["customer_hhi_12m"] = (shares**2).groupby(level=0).sum()
    nonown_out = w[~w["is_in"] & ~w["is_own"]].groupby("business_id")["amount_fen"].sum()
    cash = w[w["is_cash"]].groupby("business_id")["amount_fen"].sum()
    feats["cash_share_12m"] = cash.reindex(nonown_out.index, fill_value=0) / nonown_out
    hour = w["ts"].dt.hour
    night = (hour >= cfg.night_start_hour) & (hour < cfg.night_end_hour)
    feats["night_share_12m"] = night.groupby(w["business_id"]).mean()
    seconds = time.perf_counter() - began
    return {"monthly": monthly, "features": feats, "seconds": seconds}


def compare(pl_res: dict[str, Any], pd_res: dict[str, Any], businesses: list[int]) -> None:
    """Assert the Polars and pandas results agree on the given businesses."""
    pm = (
        pl_res["monthly"]
        .filter(pl.col("business_id").is_in(businesses))
        .select("business_id", "month_idx", "inflow", "outflow", revenue="revenue_estimate")
        .sort("business_id", "month_idx")
    )
    pm = _to_pandas(pm)
    dm = pd_res["monthly"].sort_values(["business_id", "month_idx"]).reset_index(drop=True)
    assert len(pm) == len(dm), (len(pm), len(dm))
    for c in ("business_id", "month_idx", "inflow", "outflow", "revenue"):
        a, b = pm[c].to_numpy(np.int64), dm[c].to_numpy(np.int64)
        assert (a == b).all(), f"monthly {c} differs on {(a != b).sum()} rows"
    pf = (
        pl_res["features"]
        .filter(pl.col("business_id").is_in(businesses))
        .select("business_id", *FEATURES)
        .sort("business_id")
    )
    pf = _to_pandas(pf).set_index("business_id")
    df = pd_res["features"].reindex(pf.index)
    for c in FEATURES:
        a, b = pf[c].to_numpy(np.float64), df[c].to_numpy(np.float64)
        assert np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True), f"feature {c} differs"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--businesses", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, default=None, help="read this kept run instead")
    parser.add_argument(
        "--pandas-businesses",
        type=int,
        default=None,
        help="run pandas on the first P businesses only and extrapolate",
    )
    args = parser.parse_args(argv)
    cfg = FlowsConfig()
    tmp: Path | None = None
    if args.data is None:
        from xiaowei.simulate.config import SimulationConfig
        from xiaowei.simulate.generate import run

        tmp = Path(tempfile.mkdtemp(prefix="bench-flows-"))
        out = tmp / "run"
        config = SimulationConfig(seed=args.seed, businesses=args.businesses, follow_months=0)
        began = time.perf_counter()
        run(config, out, workers=args.workers, formats=["parquet"])
        generate_seconds: float | None = time.perf_counter() - began
    else:
        out, generate_seconds = args.data, None
    try:
        tx, own = _load(out)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    n_tx, n_biz = tx.height, tx["business_id"].n_unique()

    pl_res = polars_run(tx, own, cfg)
    began = time.perf_counter()
    flags = flows.flow_flags(pl_res["prepared"])
    flags_seconds = time.perf_counter() - began

    ids = sorted(tx["business_id"].unique().to_list())
    sample = ids if args.pandas_businesses is None else ids[: args.pandas_businesses]
    sub = tx.filter(pl.col("business_id").is_in(sample)) if len(sample) < len(ids) else tx
    sub_pd = _to_pandas(sub)
    own_pd = _to_pandas(own.filter(pl.col("business_id").is_in(sample)))
    pd_res = pandas_run(sub_pd, own_pd, cfg)
    compare(pl_res, pd_res, sample)
    scale = n_tx / sub.height
    pandas_seconds = pd_res["seconds"] * scale
    ratio = pandas_seconds / pl_res["seconds"]
    figures: dict[str, Any] = {
        "businesses": n_biz,
        "transactions": n_tx,
        "generate_seconds": None if generate_seconds is None else round(generate_seconds, 2),
        "polars_seconds": round(pl_res["seconds"], 2),
        "polars_prepare_seconds": round(pl_res["prepare_seconds"], 2),
        "polars_monthly_seconds": round(pl_res["monthly_seconds"], 2),
        "polars_features_seconds": round(pl_res["features_seconds"], 2),
        "polars_transactions_per_second": round(n_tx / pl_res["seconds"]),
        "flags_seconds": round(flags_seconds, 2),
        "flagged_businesses": len(flags),
        "pandas_businesses": len(sample),
        "pandas_transactions": sub.height,
        "pandas_seconds_measured": round(pd_res["seconds"], 2),
        "pandas_seconds": round(pandas_seconds, 2),
        "pandas_extrapolated": len(sample) < len(ids),
        "ratio_pandas_to_polars": round(ratio, 2),
        "same_results": True,
        "target_seconds": TARGET_SECONDS,
        "target_ratio": TARGET_RATIO,
    }
    extra = (
        f" (measured {pd_res['seconds']:.1f} s on {len(sample):,} businesses / "
        f"{sub.height:,} transactions, extrapolated ×{scale:.1f})"
        if figures["pandas_extrapolated"]
        else ""
    )
    print(
        f"flows {n_biz:,} businesses, {n_tx:,} transactions: Polars prepare + monthly + features "
        f"{pl_res['seconds']:.2f} s (prepare {pl_res['prepare_seconds']:.2f}, monthly "
        f"{pl_res['monthly_seconds']:.2f}, features {pl_res['features_seconds']:.2f}; "
        f"target {TARGET_SECONDS:.0f} s); flags {flags_seconds:.2f} s; pandas "
        f"{pandas_seconds:.1f} s{extra}; same results; ratio {ratio:.1f}× (target "
        f"{TARGET_RATIO:.0f}×)"
    )
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
