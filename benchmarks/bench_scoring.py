"""Benchmark: WOE scorecards (评分卡), xiaowei against optbinning and toad, side by side.

    .venv/bin/python benchmarks/bench_scoring.py [--datasets german,synthetic] [--rows N]
                                                 [--german PATH] [--seed SEED] [--repeat R]
                                                 [--tools xiaowei,optbinning,toad]

**Data.** German Credit (``--german``, default ``data/germancredit.csv``: 1,000 rows, 7 numeric
and 13 categorical features, target ``creditability``, bad = ``"bad"``, 30 % bad) and the
synthetic set ``xiaowei.scoring.datasets.synthetic(n_rows, seed)`` (N rows, default 200,000;
``--rows 1000000`` for the large run): 50 numeric features (20 monotone in the log-odds, 6
U-shaped, 24 noise; 12 with 3–30 % missing, the missingness informative in 3) and 5 string
categoricals with 10–30 levels (3 informative), 5 % bad, seed 20240601 (the research notes').
Each set is split 70/30, stratified on the target, seed 42 (scikit-learn
``train_test_split``); every tool gets the same rows. Each tool gets the data in its own format
(Polars for xiaowei, pandas for the references), converted once before any timing.

**Tools.** optbinning 1.0: ``BinningProcess`` with its defaults (categorical columns named) and
``Scorecard(scaling_method="pdo_odds")``. toad 0.1.7: ``Combiner`` (``method="chi"`` on German,
``method="dt", n_bins=10`` on the synthetic set, where chi-merge over 100,000+ unique values
takes about 30 minutes a fit; ``min_samples=0.05``, ``empty_separate=True``), ``WOETransformer``
and ``ScoreCard``. xiaowei: ``xiaowei.scoring.scorecard.Scorecard`` (its ``Binning`` with the
defaults, scikit-learn's ``LogisticRegression`` and integer points; :func:`xiaowei_pipeline`)
with ``min_iv=0`` and ``C=1`` like the references. Every tool uses
``LogisticRegression(max_iter=1000)`` on every feature (no selection) and the same scaling:
600 points at odds 50:1 (good:bad), 20 points to double the odds (PDO 20).

**Phases timed** (``time.perf_counter``, best of R runs, default 3; every run is kept in the
figures): *bin fit* = binning every feature on the training rows; *WOE* = transform of train
and test to WOE (toad: bin with the Combiner, then fit and apply its ``WOETransformer``);
*pipeline* = a fresh binning fit + WOE of train + logistic regression + points table + scoring
the holdout. *AUC* and *KS* are on the 30 % holdout, from the total points of the last pipeline
run (a higher score is safer, so the bad class is ranked by minus the score). *RSS* is the peak
resident set of this process (``resource.getrusage``, ``ru_maxrss``) while that tool ran: the
peak is reset before each tool through ``/proc/self/clear_refs`` (Linux); it is process-wide,
so it includes the interpreter, every imported library and the data of all tools (about the
same for each tool); "base" is the resident set before the tool started. If the reset is not
permitted the peak is cumulative over the tools, which is printed.

**Ratios** (the issue's bars): on the synthetic set, xiaowei's pipeline speed-up against the
fastest reference (target ≥ 5×) and its holdout AUC minus the best reference's (target
≥ −0.003); on German Credit, its holdout AUC (target ≥ 0.78), the ratios printed without a
verdict (1,000 rows time the libraries' overheads, not the algorithms). A tool that is
not installed (or, for xiaowei, not importable yet) is skipped with a line saying why. Warnings
raised inside the reference tools are silenced (they are not ours); xiaowei's are not.

``main(argv)`` returns the figures as a dict for ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import resource
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

REPO = Path(__file__).resolve().parent.parent
GERMAN = REPO / "data" / "germancredit.csv"
SPLIT_SEED = 42
TEST_SHARE = 0.3

# Scaling shared by every tool (docs/design/scoring.md): score = offset + factor × ln(odds good:bad)
BASE_SCORE = 600.0
BASE_ODDS = 50.0
PDO = 20.0

# The bars (issue 5, "Quality bars")
SPEEDUP_TARGET = 5.0  # xiaowei pipeline vs the fastest reference, synthetic set
AUC_GAP_TARGET = -0.003  # xiaowei holdout AUC minus the best reference's, synthetic set
GERMAN_AUC_TARGET = 0.78  # xiaowei holdout AUC on German Credit

# ---------------------------------------------------------------------------------------------
# Data


def load_synthetic(n_rows: int, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    """The synthetic set (features, target 1 = bad) of ``xiaowei.scoring.datasets``."""
    datasets = importlib.import_module("xiaowei.scoring.datasets")
    features, target = datasets.synthetic(n_rows, seed)
    return features, np.asarray(target, dtype=np.int8)


def load_german(path: Path) -> tuple[pl.DataFrame, np.ndarray]:
    """German Credit (features, target 1 = bad) through ``xiaowei.scoring.datasets``."""
    datasets = importlib.import_module("xiaowei.scoring.datasets")
    features, target = datasets.german_credit(path)
    return features, np.asarray(target, dtype=np.int8)


@dataclass(frozen=True)
class Split:
    """One data set split 70/30, in the formats the tools take."""

    name: str
    source: str
    train: pl.DataFrame
    test: pl.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray
    train_pd: Any  # pandas.DataFrame
    test_pd: Any
    categorical: list[str]
    toad_method: str  # "chi" or "dt"


def _to_pandas(frame: pl.DataFrame) -> Any:
    """pandas frame from NumPy columns (no pyarrow needed): nulls → NaN, strings → str.

    None without pandas (then the reference tools, which need it, are not installed either).
    """
    try:
        pd = importlib.import_module("pandas")
    except ImportError:
        return None
    return pd.DataFrame({c: frame[c].to_numpy() for c in frame.columns})


def make_split(
    name: str, features: pl.DataFrame, target: np.ndarray, source: str, toad_method: str
) -> Split:
    rows = np.arange(features.height)
    train_rows, test_rows = train_test_split(
        rows, test_size=TEST_SHARE, stratify=target, random_state=SPLIT_SEED
    )
    train_rows = np.sort(train_rows)
    test_rows = np.sort(test_rows)
    train = features[train_rows]
    test = features[test_rows]
    categorical = [c for c, t in features.schema.items() if t in (pl.String, pl.Categorical)]
    return Split(
        name=name,
        source=source,
        train=train,
        test=test,
        y_train=target[train_rows],
        y_test=target[test_rows],
        train_pd=_to_pandas(train),
        test_pd=_to_pandas(test),
        categorical=categorical,
        toad_method=toad_method,
    )


# ---------------------------------------------------------------------------------------------
# Tools: each one is (bin fit, WOE of train + test, whole pipeline → holdout scores)


@dataclass(frozen=True)
class Tool:
    name: str
    fit_binning: Callable[[Split], Any]
    woe: Callable[[Any, Split], None]
    pipeline: Callable[[Split], np.ndarray]
    quiet: bool  # silence the tool's own warnings (reference tools)


def _logistic() -> LogisticRegression:
    return LogisticRegression(max_iter=1000)


# xiaowei -------------------------------------------------------------------------------------


def _xiaowei_binning() -> Any:
    binning = importlib.import_module("xiaowei.scoring.binning")
    return binning.Binning()


def _xiaowei_fit(split: Split) -> Any:
    return _xiaowei_binning().fit(split.train, split.y_train)


def _as_matrix(woe: Any) -> np.ndarray:
    if isinstance(woe, pl.DataFrame):
        return woe.to_numpy().astype(np.float64, copy=False)
    return np.asarray(woe, dtype=np.float64)


def _xiaowei_woe(binning: Any, split: Split) -> None:
    binning.transform(split.train)
    binning.transform(split.test)


def scorecard_points(woe: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    """Rounded points per feature of each row (docs/design/scoring.md, "Conventions").

    Points of feature j = −factor × (βj × WOEj + β0 / n) + offset / n, rounded half-up, with
    factor = PDO / ln 2 and offset = base score − factor × ln(base odds). The row's WOE is its
    bin's WOE, so this is the points table looked up per row.
    """
    n = woe.shape[1]
    factor = PDO / np.log(2.0)
    offset = BASE_SCORE - factor * np.log(BASE_ODDS)
    raw = -factor * (woe * coef + intercept / n) + offset / n
    return np.asarray(np.floor(raw + 0.5), dtype=np.float64)


def xiaowei_pipeline(split: Split) -> np.ndarray:
    """Fresh binning + WOE + logistic regression + points, scores of the holdout rows.

    ``xiaowei.scoring.scorecard.Scorecard`` fitted on the training rows (its default
    ``Binning()``; every feature kept, ``min_iv=0``, and ``C=1.0``, scikit-learn's default,
    so the regression is the references' ``LogisticRegression(max_iter=1000)``), then
    ``score`` (the sum of rounded points) on the holdout.
    """
    scorecard = importlib.import_module("xiaowei.scoring.scorecard")
    card = scorecard.Scorecard(
        min_iv=0.0, base_score=BASE_SCORE, base_odds=BASE_ODDS, pdo=PDO, C=1.0, max_iter=1000
    ).fit(split.train, split.y_train)
    return np.asarray(card.score(split.test), dtype=np.float64)


# optbinning ----------------------------------------------------------------------------------


def _optbinning_process(split: Split) -> Any:
    optbinning = importlib.import_module("optbinning")
    return optbinning.BinningProcess(
        variable_names=list(split.train_pd.columns), categorical_variables=split.categorical
    )


def _optbinning_fit(split: Split) -> Any:
    return _optbinning_process(split).fit(split.train_pd, split.y_train)


def _optbinning_woe(process: Any, split: Split) -> None:
    process.transform(split.train_pd, metric="woe")
    process.transform(split.test_pd, metric="woe")


def _optbinning_pipeline(split: Split) -> np.ndarray:
    optbinning = importlib.import_module("optbinning")
    card = optbinning.Scorecard(
        binning_process=_optbinning_process(split),
        estimator=_logistic(),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": PDO, "odds": BASE_ODDS, "scorecard_points": BASE_SCORE},
    )
    card.fit(split.train_pd, split.y_train)
    return np.asarray(card.score(split.test_pd), dtype=np.float64)


# toad ----------------------------------------------------------------------------------------


def _toad_fit(split: Split) -> Any:
    toad = importlib.import_module("toad")
    options: dict[str, Any] = {"min_samples": 0.05, "empty_separate": True}
    if split.toad_method == "dt":
        options["n_bins"] = 10
    combiner = toad.transform.Combiner()
    combiner.fit(split.train_pd, split.y_train, method=split.toad_method, **options)
    return combiner


def _toad_woe_fit(combiner: Any, split: Split) -> tuple[Any, Any]:
    toad = importlib.import_module("toad")
    transer = toad.transform.WOETransformer()
    woe_train = transer.fit_transform(combiner.transform(split.train_pd), split.y_train)
    return transer, woe_train


def _toad_woe(combiner: Any, split: Split) -> None:
    transer, _ = _toad_woe_fit(combiner, split)
    transer.transform(combiner.transform(split.test_pd))


def _toad_pipeline(split: Split) -> np.ndarray:
    toad = importlib.import_module("toad")
    combiner = _toad_fit(split)
    transer, woe_train = _toad_woe_fit(combiner, split)
    # toad's odds are good:bad ((1 − p) / p), as ours; rate 2 = PDO doubles the odds
    card = toad.ScoreCard(
        combiner=combiner,
        transer=transer,
        pdo=PDO,
        rate=2,
        base_odds=BASE_ODDS,
        base_score=BASE_SCORE,
        max_iter=1000,
    )
    card.fit(woe_train, split.y_train)
    return np.asarray(card.predict(split.test_pd), dtype=np.float64)


TOOLS = {
    "xiaowei": Tool("xiaowei", _xiaowei_fit, _xiaowei_woe, xiaowei_pipeline, quiet=False),
    "optbinning": Tool(
        "optbinning", _optbinning_fit, _optbinning_woe, _optbinning_pipeline, quiet=True
    ),
    "toad": Tool("toad", _toad_fit, _toad_woe, _toad_pipeline, quiet=True),
}
REFERENCES = ("optbinning", "toad")


def unavailable(tool: str) -> str | None:
    """Why a tool cannot run (not installed, not built yet), or None."""
    module = {"xiaowei": "xiaowei.scoring.binning"}.get(tool, tool)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = importlib.import_module(module)
    except ImportError as exc:
        return f"{type(exc).__name__}: {exc}"
    if tool == "xiaowei" and not hasattr(loaded, "Binning"):
        return "xiaowei.scoring.binning has no Binning yet"
    return None


# ---------------------------------------------------------------------------------------------
# Measuring


def auc_ks(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """Holdout AUC and KS of a score where higher is safer (bad ranked by −score)."""
    risk = -score
    fpr, tpr, _ = roc_curve(y, risk)
    return float(roc_auc_score(y, risk)), float(np.max(tpr - fpr))


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak_rss() -> bool:
    """Reset the process's peak resident set (Linux ≥ 4.0); False if not permitted."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


@contextlib.contextmanager
def _quiet(*, enabled: bool) -> Iterator[None]:
    with warnings.catch_warnings():
        if enabled:
            warnings.simplefilter("ignore")
        yield


@dataclass
class Timings:
    runs: list[float] = field(default_factory=list)

    def time(self, work: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        out = work()
        self.runs.append(time.perf_counter() - began)
        return out

    @property
    def best(self) -> float:
        return min(self.runs)


def measure(tool: Tool, split: Split, repeat: int) -> dict[str, Any]:
    gc.collect()
    base = _rss_mb()
    reset = _reset_peak_rss()
    fit, woe, pipeline = Timings(), Timings(), Timings()
    cpu_began = time.process_time()
    with _quiet(enabled=tool.quiet):
        binning = None
        for _ in range(repeat):
            binning = fit.time(lambda: tool.fit_binning(split))
        for _ in range(repeat):
            woe.time(lambda: tool.woe(binning, split))
        scores = np.empty(0)
        for _ in range(repeat):
            scores = pipeline.time(lambda: tool.pipeline(split))
    cpu = time.process_time() - cpu_began
    auc, ks = auc_ks(split.y_test, scores)
    return {
        "bin_fit_seconds": fit.best,
        "woe_seconds": woe.best,
        "pipeline_seconds": pipeline.best,
        "bin_fit_runs": fit.runs,
        "woe_runs": woe.runs,
        "pipeline_runs": pipeline.runs,
        "pipeline_median_seconds": statistics.median(pipeline.runs),
        "cpu_seconds_all_phases": cpu,
        "auc": auc,
        "ks": ks,
        "peak_rss_mb": _peak_rss_mb(),
        "base_rss_mb": base,
        "peak_reset": reset,
        "score_mean": float(np.mean(scores)),
    }


def ratios(results: dict[str, dict[str, Any]], *, german: bool) -> dict[str, Any] | None:
    """xiaowei against the references: pipeline speed-up and AUC gap.

    The issue's bars: on the synthetic set, speed-up ≥ ``SPEEDUP_TARGET`` against the fastest
    reference and AUC gap ≥ ``AUC_GAP_TARGET`` against the best; on German Credit, a holdout
    AUC of at least ``GERMAN_AUC_TARGET`` (the ratios are printed there without a verdict).
    """
    refs = {k: v for k, v in results.items() if k in REFERENCES and "auc" in v}
    own = results.get("xiaowei", {})
    if "auc" not in own:
        return None
    out: dict[str, Any] = {}
    if german:
        out["auc_floor"] = GERMAN_AUC_TARGET
        out["auc_floor_pass"] = own["auc"] >= GERMAN_AUC_TARGET
    if not refs:
        return out
    fastest = min(refs, key=lambda k: refs[k]["pipeline_seconds"])
    best = max(refs, key=lambda k: refs[k]["auc"])
    speedup = refs[fastest]["pipeline_seconds"] / own["pipeline_seconds"]
    gap = own["auc"] - refs[best]["auc"]
    out.update(
        fastest_reference=fastest,
        pipeline_speedup=speedup,
        speedup_pass=None if german else speedup >= SPEEDUP_TARGET,
        best_auc_reference=best,
        auc_gap=gap,
        auc_gap_pass=None if german else gap >= AUC_GAP_TARGET,
    )
    return out


def print_table(split: Split, results: dict[str, dict[str, Any]], repeat: int) -> None:
    print(
        f"{split.name}: {split.train.height + split.test.height:,} rows × {split.train.width} "
        f"features ({len(split.categorical)} categorical), train {split.train.height:,} / "
        f"test {split.test.height:,}, bad rate {split.y_train.mean():.1%}; {split.source}"
    )
    header = (
        f"  {'tool':<12}{'bin fit s':>10}{'WOE s':>9}{'pipeline s':>12}{'AUC':>8}{'KS':>8}"
        f"{'RSS MB':>9}{'base MB':>9}"
    )
    print(header)
    for name, r in results.items():
        if "auc" not in r:
            print(f"  {name:<12}not available ({r.get('skipped', r.get('error'))})")
            continue
        print(
            f"  {name:<12}{r['bin_fit_seconds']:>10.3f}{r['woe_seconds']:>9.3f}"
            f"{r['pipeline_seconds']:>12.3f}{r['auc']:>8.4f}{r['ks']:>8.4f}"
            f"{r['peak_rss_mb']:>9.0f}{r['base_rss_mb']:>9.0f}"
        )
    print(
        f"  times: best of {repeat}; RSS: process peak while the tool ran "
        "(process-wide: interpreter, libraries and every tool's data included)"
    )
    if any(r.get("peak_reset") is False for r in results.values()):
        print("  RSS peak could not be reset between tools: each figure is cumulative")


def print_ratios(r: dict[str, Any] | None) -> None:
    if r is None:
        print("  ratios: xiaowei did not run")
        return
    verdict = {True: "PASS", False: "FAIL", None: "no target on this data set"}
    if "auc_floor" in r:
        print(
            f"  xiaowei holdout AUC {verdict[r['auc_floor_pass']]} "
            f"(target ≥ {r['auc_floor']}, the issue's German Credit bar)"
        )
    if "pipeline_speedup" not in r:
        print("  ratios: need at least one reference tool")
        return
    print(
        f"  xiaowei pipeline vs fastest reference ({r['fastest_reference']}): "
        f"{r['pipeline_speedup']:.2f}× {verdict[r['speedup_pass']]} "
        f"(target on the synthetic set ≥ {SPEEDUP_TARGET:g}×)"
    )
    print(
        f"  xiaowei AUC − best reference ({r['best_auc_reference']}): "
        f"{r['auc_gap']:+.4f} {verdict[r['auc_gap_pass']]} "
        f"(target on the synthetic set ≥ {AUC_GAP_TARGET:+.3f})"
    )


def run_split(split: Split, tools: list[str], repeat: int) -> dict[str, Any]:
    load_before = os.getloadavg()
    results: dict[str, dict[str, Any]] = {}
    for name in tools:
        reason = unavailable(name)
        if reason is not None:
            print(f"{name}: not available ({reason})", flush=True)
            results[name] = {"skipped": reason}
            continue
        results[name] = measure(TOOLS[name], split, repeat)
    load_after = os.getloadavg()
    print_table(split, results, repeat)
    summary = ratios(results, german=split.name == "german")
    print_ratios(summary)
    print(
        f"  load average (1/5/15 min) before {load_before[0]:.2f}/{load_before[1]:.2f}/"
        f"{load_before[2]:.2f}, after {load_after[0]:.2f}/{load_after[1]:.2f}/"
        f"{load_after[2]:.2f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    return {
        "rows": split.train.height + split.test.height,
        "features": split.train.width,
        "categorical": len(split.categorical),
        "source": split.source,
        "tools": results,
        "ratios": summary,
        "load_average_before": list(load_before),
        "load_average_after": list(load_after),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--datasets", default="german,synthetic")
    parser.add_argument("--german", type=Path, default=GERMAN)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tools", default="xiaowei,optbinning,toad")
    args = parser.parse_args(argv)
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for name in datasets:
        if name not in ("german", "synthetic"):
            parser.error(f"--datasets: unknown data set {name!r} (german, synthetic)")
    for name in tools:
        if name not in TOOLS:
            parser.error(f"--tools: unknown tool {name!r} ({', '.join(TOOLS)})")
    repeat = max(1, args.repeat)

    figures: dict[str, Any] = {"repeat": repeat, "timing": "best of repeat"}
    for name in datasets:
        began = time.perf_counter()
        if name == "german":
            features, target = load_german(args.german)
            split = make_split("german", features, target, str(args.german), toad_method="chi")
        else:
            features, target = load_synthetic(args.rows, args.seed)
            source = f"xiaowei.scoring.datasets.synthetic, seed {args.seed}"
            split = make_split(f"synthetic {args.rows:,}", features, target, source, "dt")
        prepare = time.perf_counter() - began
        print(f"=== {split.name} (data prepared in {prepare:.1f} s, not timed) ===", flush=True)
        figures[name] = run_split(split, tools, repeat)
        figures[name]["prepare_seconds"] = prepare
        del features, split
        gc.collect()
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
