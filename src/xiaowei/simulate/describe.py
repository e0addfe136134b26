"""Describe a simulator run (模拟数据概览): counts, default rate, fraud rate, industry mix.

Reads only the run's folder: the manifest, the observable tables and the truth tables (the
description is for the person who generated the data, who may see the truth).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from xiaowei.core.errors import InvalidInput
from xiaowei.simulate.output import read_table


@dataclass(frozen=True, slots=True)
class Description:
    seed: int
    businesses: int
    counts: dict[str, int]
    default_rate: float  # observed: loans reaching 90+ DPD from a default in 12 months on book
    true_pd: float  # mean latent 12-month PD
    fraud_rate: float  # any manipulation (sales inflation, hidden debt, round-tripping)
    fraud: dict[str, float]
    industries: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "businesses": self.businesses,
            "default_rate": round(self.default_rate, 4),
            "true_pd": round(self.true_pd, 4),
            "fraud_rate": round(self.fraud_rate, 4),
            "fraud": {k: round(v, 4) for k, v in self.fraud.items()},
            "industries": self.industries,
            "counts": self.counts,
        }


def _mean(series: pl.Series) -> float:
    value = series.cast(pl.Float64).mean()
    return float(value) if isinstance(value, int | float) else 0.0


def load_manifest(out: Path) -> dict[str, Any]:
    path = out / "manifest.json"
    if not path.exists():
        if (out / ".xiaowei-simulation").exists():
            raise InvalidInput("dir", f"{out} holds an unfinished run (no manifest yet)")
        raise InvalidInput("dir", f"{out} is not a simulator folder (no manifest.json)")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidInput("dir", f"{path} is not valid JSON: {exc.msg}") from None
    return manifest


def describe(out: Path) -> Description:
    manifest = load_manifest(out)
    businesses = read_table(out, "businesses")
    truth = read_table(out, "truth/businesses")
    outcomes_dir = out / "loans" / "outcomes"
    if outcomes_dir.exists():
        default_rate = _mean(read_table(out, "loans/outcomes")["default_12m"])
    else:
        timeline = read_table(out, "truth/timeline")
        default_rate = float(
            timeline.select((pl.col("default_mob").fill_null(99) <= 12).mean()).item()
        )
    flags = ("inflates_sales", "hides_debt", "round_trips")
    fraud = {f: _mean(truth[f]) for f in flags}
    any_fraud = float(truth.select(pl.any_horizontal(*flags).mean()).item())
    joined = businesses.join(
        truth.select("business_id", "pd_12m", "gross_margin"), on="business_id"
    )
    if outcomes_dir.exists():
        joined = joined.join(
            read_table(out, "loans/outcomes").select("business_id", "default_12m"),
            on="business_id",
        )
    else:
        joined = joined.with_columns(pl.lit(None, dtype=pl.Boolean).alias("default_12m"))
    mix = (
        joined.group_by("industry")
        .agg(
            pl.len().alias("businesses"),
            pl.col("gross_margin").mean().round(3).alias("gross_margin"),
            pl.col("pd_12m").mean().round(4).alias("true_pd"),
            pl.col("default_12m").cast(pl.Float64).mean().round(4).alias("default_rate"),
        )
        .with_columns((pl.col("businesses") / businesses.height).round(3).alias("share"))
        .sort("businesses", descending=True)
    )
    return Description(
        seed=int(manifest["seed"]),
        businesses=businesses.height,
        counts={k: int(v) for k, v in manifest["counts"].items()},
        default_rate=default_rate,
        true_pd=_mean(truth["pd_12m"]),
        fraud_rate=any_fraud,
        fraud=fraud,
        industries=mix.to_dicts(),
    )
