"""Use cases of scoring (评分模型): fit, apply, report and monitor a model on a feature table.

The table is any CSV or Parquet file with one row per applicant — typically the output of
``xiaowei analyse features`` — and a 0/1 target column (1 = bad). The steps:

* :func:`fit_model` splits the rows (an out-of-time sample first when asked: rows dated on or
  after ``oot_from``; the rest stratified into train and test with a fixed seed), fits a
  scorecard or a LightGBM model on the training rows, fits a **PD calibrator** on
  cross-fitted outputs of the training rows (each row scored by a model that did not see it,
  K folds — scikit-learn's ``CalibratedClassifierCV(ensemble=False)`` scheme, so neither the
  test sample nor an over-confident in-sample output is used to calibrate), evaluates every
  sample and saves one artefact (``adapters/model_artefact.py``) whose manifest records the
  split, so that :func:`report_model` can rebuild the same samples from the same file.
* :func:`score_frame` / :func:`apply_model` give each row its score, PD, grade of the master
  scale and reason codes with their texts in zh-CN or en.
* :func:`report_model` writes the HTML model report for a committee or a validator.
* :func:`monitor_model` compares a current sample with a reference: PSI of the score, CSI of
  every model feature on the model's own bins, with traffic lights.

The score of a scorecard is its integer points (higher = safer). A LightGBM model has no
points: its score is its calibrated PD put on the same scale (``600 − 20/ln 2 · ln(odds/50)``
by default, rounded), so that strategies can use score bands for either kind.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, train_test_split

from xiaowei.adapters.files import write_atomically
from xiaowei.adapters.model_artefact import Artefact, load_model, save_model
from xiaowei.core.errors import InvalidInput
from xiaowei.core.i18n import Lang
from xiaowei.scoring import metrics
from xiaowei.scoring.calibration import Calibrator, MasterScale
from xiaowei.scoring.gbm import GradientBoosting
from xiaowei.scoring.monitoring import csi, psi_table, stability_light
from xiaowei.scoring.scorecard import Scorecard, score_from_pd
from xiaowei.scoring.tables import bin_label_frame as bin_labels

#: Progress callback: (step description, steps done, steps in all).
Progress = Callable[[str, int, int], None]
ModelKind = Literal["scorecard", "lightgbm"]
CalibrationMethod = Literal["platt", "isotonic", "none"]

MODEL_KINDS: tuple[str, ...] = ("scorecard", "lightgbm")
#: Columns that identify a row; never features, kept beside the scores.
ID_COLUMNS: tuple[str, ...] = ("business_id", "application_id", "customer_id", "id")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _noop(step: str, done: int, total: int) -> None:
    return None


# ---------------------------------------------------------------------------------------------
# Reading and preparing the table


def read_table(path: Path) -> pl.DataFrame:
    """A CSV or Parquet file as a frame; anything else, or an unreadable file, is a clear
    error naming the file."""
    if not path.is_file():
        raise InvalidInput(str(path), "no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(path)
        elif suffix == ".csv":
            frame = pl.read_csv(path, infer_schema_length=None, try_parse_dates=True)
        else:
            raise InvalidInput(str(path), "read .csv or .parquet files")
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(str(path), f"cannot be read: {exc}") from exc
    if frame.height == 0:
        raise InvalidInput(str(path), "has no rows")
    return frame


def target_vector(frame: pl.DataFrame, target: str) -> tuple[npt.NDArray[np.int8], pl.Series]:
    """The 0/1 target (1 = bad) of the rows where it is known, and the mask of those rows.

    Booleans and the integers 0/1 are accepted; any other value is an error naming it. Rows
    without an outcome (null) are left out — a loan not yet observed long enough."""
    if target not in frame.columns:
        raise InvalidInput("target", f"no column {target!r} in the data")
    column = frame[target]
    if column.dtype == pl.Boolean:
        column = column.cast(pl.Int8)
    if not column.dtype.is_numeric():
        raise InvalidInput("target", f"{target!r} must be 0/1 (1 = bad), not {column.dtype}")
    known = column.is_not_null()
    if column.dtype.is_float():
        known = known & column.is_not_nan()
    values = column.filter(known)
    bad = values.filter(~values.is_in([0, 1]))
    if bad.len():
        raise InvalidInput("target", f"{target!r} must be 0/1 (1 = bad); found {bad[0]!r}")
    if values.len() == 0:
        raise InvalidInput("target", f"{target!r} has no known outcome")
    return values.cast(pl.Int8).to_numpy(), known


def feature_columns(
    frame: pl.DataFrame,
    *,
    target: str | None,
    features: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
) -> list[str]:
    """The model's input columns: every numeric, boolean or text column except the target,
    identifiers (:data:`ID_COLUMNS`), dates and the ``exclude`` patterns; restricted to the
    ``features`` patterns when given (shell-style, ``flow_*``). A pattern that matches no
    column is an error (a typo would otherwise fit a different model)."""

    def matching(pattern: str) -> list[str]:
        return [c for c in frame.columns if fnmatch.fnmatchcase(c, pattern)]

    for pattern in [*(features or ()), *exclude]:
        if not matching(pattern):
            raise InvalidInput("features", f"{pattern!r} matches no column of the data")
    excluded = {c for p in exclude for c in matching(p)}
    wanted = None if features is None else {c for p in features for c in matching(p)}
    out = []
    for name, dtype in frame.schema.items():
        if name == target or name in ID_COLUMNS or name in excluded:
            continue
        if wanted is not None and name not in wanted:
            continue
        usable = dtype.is_numeric() or dtype in (pl.Boolean, pl.String, pl.Categorical)
        if not usable:
            if wanted is not None:
                raise InvalidInput("features", f"{name!r} ({dtype}) cannot be a model input")
            continue
        out.append(name)
    if not out:
        raise InvalidInput("features", "no usable feature column")
    return out


def model_inputs(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """The columns as the models take them: booleans as 0/1, NaN as missing, categories as
    text; a missing column is an error naming it."""
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise InvalidInput("data", f"missing model input columns: {absent[:5]}")
    exprs = []
    for name in columns:
        dtype = frame.schema[name]
        col = pl.col(name)
        if dtype == pl.Boolean:
            col = col.cast(pl.Int8)
        elif dtype.is_float():
            col = col.fill_nan(None)
        elif dtype == pl.Categorical:
            col = col.cast(pl.String)
        exprs.append(col)
    return frame.select(exprs)


# ---------------------------------------------------------------------------------------------
# Samples


@dataclass(frozen=True)
class SplitSpec:
    """How rows are split (样本划分): out-of-time rows (``time_column`` on or after ``oot_from``)
    first, the rest stratified by the target into train and ``test_share`` test, ``seed``."""

    test_share: float = 0.3
    seed: int = 42
    time_column: str | None = None
    oot_from: date | None = None

    def __post_init__(self) -> None:
        if not (0.0 <= self.test_share < 1.0):
            raise InvalidInput("test_share", "must be in [0, 1)")
        if self.oot_from is not None and self.time_column is None:
            raise InvalidInput("time_column", "an out-of-time start needs a date column")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (the date as ISO text)."""
        out = asdict(self)
        out["oot_from"] = None if self.oot_from is None else self.oot_from.isoformat()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SplitSpec:
        """Inverse of :meth:`to_dict`."""
        oot = data.get("oot_from")
        return cls(
            test_share=float(data.get("test_share", 0.3)),
            seed=int(data.get("seed", 42)),
            time_column=data.get("time_column"),
            oot_from=None if oot is None else date.fromisoformat(str(oot)),
        )


def split_rows(
    frame: pl.DataFrame, y: npt.NDArray[np.int8], spec: SplitSpec
) -> dict[str, IntArray]:
    """Row indices of each sample: ``train``, ``test`` (unless ``test_share`` is 0) and ``oot``
    (when ``oot_from`` is set and rows fall after it)."""
    n = frame.height
    rows = np.arange(n, dtype=np.int64)
    out: dict[str, IntArray] = {}
    in_time = np.ones(n, dtype=bool)
    if spec.oot_from is not None and spec.time_column is not None:
        if spec.time_column not in frame.columns:
            raise InvalidInput("time_column", f"no column {spec.time_column!r} in the data")
        when = frame[spec.time_column]
        if when.dtype == pl.String:
            when = when.str.to_date(strict=False)
        if when.dtype not in (pl.Date, pl.Datetime):
            raise InvalidInput("time_column", f"{spec.time_column!r} is not a date column")
        late = when.cast(pl.Date) >= spec.oot_from
        in_time = ~late.fill_null(value=False).to_numpy()
        if in_time.all():
            raise InvalidInput("oot_from", f"no row dated on or after {spec.oot_from}")
        out["oot"] = rows[~in_time]
    development = rows[in_time]
    if spec.test_share > 0:
        dev_y = y[development]
        if np.bincount(dev_y, minlength=2).min() < 2:
            raise InvalidInput("target", "too few bads or goods to split into train and test")
        train, test = train_test_split(
            development, test_size=spec.test_share, stratify=dev_y, random_state=spec.seed
        )
        out["train"], out["test"] = np.sort(train), np.sort(test)
    else:
        out["train"] = development
    return {k: out[k] for k in ("train", "test", "oot") if k in out}


# ---------------------------------------------------------------------------------------------
# Models


def new_model(kind: str, n_rows: int, *, n_jobs: int = 1) -> Scorecard | GradientBoosting:
    """The unfitted model of ``kind`` for a training sample of ``n_rows`` (the presets)."""
    from xiaowei.scoring.presets import gbm_preset, scorecard_preset

    if kind == "scorecard":
        return scorecard_preset(n_rows)
    if kind == "lightgbm":
        return gbm_preset(n_rows, n_jobs=n_jobs)
    raise InvalidInput("model", f"{kind!r} is not one of {', '.join(MODEL_KINDS)}")


def raw_output(model: Scorecard | GradientBoosting, frame: pl.DataFrame) -> FloatArray:
    """The model's own output that the calibrator maps to a PD: a scorecard's points, or
    LightGBM's log-odds of bad."""
    if isinstance(model, Scorecard):
        return np.asarray(model.score(frame), dtype=np.float64)
    return np.asarray(model.decision_function(frame), dtype=np.float64)


def pd_from_output(
    model: Scorecard | GradientBoosting, output: FloatArray, calibrator: Calibrator | None
) -> FloatArray:
    """PD of each raw output: the calibrator's, else the model's own probability."""
    if calibrator is not None:
        return calibrator.transform(output)
    if isinstance(model, Scorecard):
        return np.asarray(model.pd_from_score(output), dtype=np.float64)
    return 1.0 / (1.0 + np.exp(-output))


def performance(y: npt.NDArray[np.int8], pd: FloatArray) -> dict[str, Any]:
    """Rows, bads, bad rate, AUC, Gini, KS, Brier and the mean PD of one sample (AUC and KS
    are None where the sample has a single class)."""
    n = int(y.shape[0])
    bads = int(y.sum())
    both = 0 < bads < n
    ks = metrics.ks(y, pd) if both else None
    return {
        "rows": n,
        "bads": bads,
        "bad_rate": bads / n if n else None,
        "mean_pd": float(pd.mean()) if n else None,
        "auc": metrics.auc(y, pd) if both else None,
        "gini": metrics.gini(y, pd) if both else None,
        "ks": None if ks is None else float(ks.statistic),
        "brier": metrics.brier(y, pd) if n else None,
    }


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit_model` did: the artefact, its manifest and the samples' figures."""

    path: Path
    manifest: dict[str, Any]
    samples: dict[str, dict[str, Any]]
    features: list[str] = field(default_factory=list)
    dropped_unknown_target: int = 0


def fit_model(
    data: Path,
    *,
    target: str,
    out: Path,
    kind: str = "scorecard",
    features: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    split: SplitSpec | None = None,
    calibration: str = "platt",
    folds: int = 5,
    master_scale: MasterScale | None = None,
    name: str | None = None,
    version: int = 1,
    overwrite: bool = False,
    n_jobs: int = 1,
    progress: Progress | None = None,
) -> FitResult:
    """Fit a model on ``data`` and save it as an artefact at ``out``; see the module docstring.

    ``calibration`` is ``"platt"`` (default: a logistic map of the output, smooth and
    monotone), ``"isotonic"`` or ``"none"`` (the model's own probability); ``folds`` ≥ 2 are the
    cross-fitting folds of the calibration sample."""
    report = progress or _noop
    if kind not in MODEL_KINDS:
        raise InvalidInput("model", f"{kind!r} is not one of {', '.join(MODEL_KINDS)}")
    if calibration not in ("platt", "isotonic", "none"):
        raise InvalidInput("calibration", "must be platt, isotonic or none")
    if not isinstance(folds, int) or folds < 2:
        raise InvalidInput("folds", "must be an integer >= 2")
    if out.exists() and not overwrite:
        raise InvalidInput("out", f"{out} exists (use --overwrite to replace it)")
    spec = split or SplitSpec()
    calibrating = calibration != "none"
    total = 4 + (folds if calibrating else 0)
    done = 0

    def step(text: str) -> None:
        nonlocal done
        report(text, done, total)
        done += 1

    step(f"reading {data.name}")
    frame = read_table(data)
    y_all, known = target_vector(frame, target)
    dropped = int(frame.height - known.sum())
    frame = frame.filter(known)
    columns = feature_columns(frame, target=target, features=features, exclude=exclude)
    inputs = model_inputs(frame, columns)
    samples = split_rows(frame, y_all, spec)
    train = samples["train"]
    x_train, y_train = inputs[train], y_all[train]
    if np.bincount(y_train, minlength=2).min() < max(folds, 2):
        raise InvalidInput("target", "too few bads or goods in the training sample")
    model = new_model(kind, len(train), n_jobs=n_jobs)
    calibrator: Calibrator | None = None
    if calibrating:
        cross = np.empty(len(train), dtype=np.float64)
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=spec.seed)
        for k, (fit_idx, held) in enumerate(splitter.split(np.zeros(len(train)), y_train)):
            step(f"calibration fold {k + 1}/{folds}")
            fold_model = clone(model).fit(x_train[fit_idx], y_train[fit_idx])
            cross[held] = raw_output(fold_model, x_train[held])
        calibrator = Calibrator(method=calibration).fit(cross, y_train)  # type: ignore[arg-type]
    step(f"fitting the {kind} on {len(train):,} rows")
    model.fit(x_train, y_train)
    step("evaluating")
    figures = {
        sample: performance(
            y_all[rows], pd_from_output(model, raw_output(model, inputs[rows]), calibrator)
        )
        for sample, rows in samples.items()
    }
    step(f"saving {out}")
    setup = {
        "data": data.name,
        "target": target,
        "columns": columns,
        "features_patterns": list(features) if features is not None else None,
        "exclude": list(exclude),
        "split": spec.to_dict(),
        "calibration": calibration,
        "folds": folds if calibrating else None,
        "rows_without_outcome": dropped,
    }
    manifest = save_model(
        model,
        out,
        name=name or out.name,
        version=version,
        target=target,
        training=x_train,
        training_target=y_train,
        metrics=figures,
        calibrator=calibrator,
        master_scale=master_scale or MasterScale(),
        setup=setup,
        overwrite=overwrite,
    )
    report("done", total, total)
    return FitResult(
        path=out,
        manifest=manifest,
        samples=figures,
        features=list(model.features_),
        dropped_unknown_target=dropped,
    )


# ---------------------------------------------------------------------------------------------
# Scoring


def input_columns(artefact: Artefact) -> list[str]:
    """The columns the model reads: the fitted inputs recorded at fit (a scorecard needs only
    its selected features; LightGBM every input it was fitted on)."""
    setup = artefact.manifest.get("setup") or {}
    model = artefact.model
    if isinstance(model, Scorecard):
        return list(model.features_)
    return list(setup.get("columns") or model.features_)


def score_frame(
    artefact: Artefact,
    frame: pl.DataFrame,
    *,
    n_reasons: int = 3,
    lang: Lang = "en",
    keep: Sequence[str] = (),
) -> pl.DataFrame:
    """Score every row: identifiers and ``keep`` columns, ``score``, ``pd``, ``grade`` and
    ``reason_k`` (code ``feature:bin``) with ``reason_k_text`` for k = 1…n_reasons."""
    from xiaowei.analysis.feature_labels import reason_text

    if not isinstance(n_reasons, int) or n_reasons < 0:
        raise InvalidInput("reasons", "must be an integer >= 0")
    model = artefact.model
    x = model_inputs(frame, input_columns(artefact))
    output = raw_output(model, x)
    pd_ = pd_from_output(model, output, artefact.calibrator)
    score = output.astype(np.int64) if isinstance(model, Scorecard) else score_from_pd(pd_)
    scale = artefact.master_scale or MasterScale()
    ids = [c for c in (*ID_COLUMNS, *keep) if c in frame.columns]
    out = frame.select(ids).with_columns(
        pl.Series("score", score, dtype=pl.Int64),
        pl.Series("pd", pd_, dtype=pl.Float64),
        pl.Series("grade", scale.grade(pd_).tolist(), dtype=pl.String),
    )
    if n_reasons:
        reasons = model.reason_code_frame(x, n_reasons)
        best = _best_labels(model)
        texts = [
            reason_text(f, lb, lang, best_label=best.get(f))
            for f, lb in zip(reasons["feature"].to_list(), reasons["label"].to_list(), strict=True)
        ]
        reasons = reasons.with_columns(pl.Series("text", texts, dtype=pl.String))
        for k in range(1, n_reasons + 1):
            rank = reasons.filter(pl.col("rank") == k)
            code = np.full(frame.height, None, dtype=object)
            text = np.full(frame.height, None, dtype=object)
            rows = rank["row"].to_numpy()
            code[rows] = rank["code"].to_list()
            text[rows] = rank["text"].to_list()
            out = out.with_columns(
                pl.Series(f"reason_{k}", code.tolist(), dtype=pl.String),
                pl.Series(f"reason_{k}_text", text.tolist(), dtype=pl.String),
            )
    return out


def _best_labels(model: Scorecard | GradientBoosting) -> dict[str, str]:
    """A scorecard's best bin per feature (most points; the first of ties), so that a reason
    can say "low" or "high" against it; LightGBM has no such bin."""
    if not isinstance(model, Scorecard):
        return {}
    table = model.points_table()
    best = table.sort(["feature", "points", "bin"], descending=[False, True, False]).unique(
        "feature", keep="first", maintain_order=True
    )
    return dict(zip(best["feature"].to_list(), best["label"].to_list(), strict=True))


@dataclass(frozen=True)
class ApplyResult:
    """What :func:`apply_model` wrote."""

    out: Path
    rows: int
    grades: dict[str, int]
    mean_pd: float


def write_table(frame: pl.DataFrame, out: Path, *, overwrite: bool = False) -> None:
    """Write a CSV or Parquet file atomically (a temporary file renamed into place)."""
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InvalidInput("out", f"{out.name}: write .csv or .parquet")
    if out.exists() and not overwrite:
        raise InvalidInput("out", f"{out} exists (use --overwrite to replace it)")
    if suffix == ".parquet":
        write_atomically(out, frame.write_parquet)
    else:
        write_atomically(out, frame.write_csv)


def apply_model(
    model_path: Path,
    data: Path,
    out: Path,
    *,
    n_reasons: int = 3,
    lang: Lang = "en",
    keep: Sequence[str] = (),
    overwrite: bool = False,
    progress: Progress | None = None,
) -> ApplyResult:
    """Score the rows of ``data`` with the model at ``model_path`` and write them to ``out``."""
    report = progress or _noop
    report("loading the model", 0, 3)
    artefact = load_model(model_path)
    report(f"reading {data.name}", 1, 3)
    frame = read_table(data)
    report("scoring", 2, 3)
    scored = score_frame(artefact, frame, n_reasons=n_reasons, lang=lang, keep=keep)
    write_table(scored, out, overwrite=overwrite)
    report("done", 3, 3)
    counts = scored.group_by("grade").len().sort("grade")
    return ApplyResult(
        out=out,
        rows=scored.height,
        grades=dict(zip(counts["grade"].to_list(), counts["len"].to_list(), strict=True)),
        mean_pd=float(scored["pd"].mean() or 0.0),  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------------------------------------
# Report


@dataclass(frozen=True)
class ReportResult:
    """What :func:`report_model` wrote and the samples it evaluated."""

    out: Path
    samples: dict[str, dict[str, Any]]


def rebuild_samples(
    artefact: Artefact, frame: pl.DataFrame
) -> list[tuple[str, pl.DataFrame, npt.NDArray[np.int8]]]:
    """The samples of the fit (train, test, out-of-time) rebuilt from ``frame`` with the split
    recorded in the manifest; a data set other than the training one is one sample, "data"."""
    setup = artefact.manifest.get("setup") or {}
    target = str(artefact.manifest.get("target") or setup.get("target") or "")
    y, known = target_vector(frame, target)
    frame = frame.filter(known)
    training = artefact.manifest.get("training_data") or {}
    spec = SplitSpec.from_dict(setup.get("split") or {})
    samples = split_rows(frame, y, spec)
    columns = input_columns(artefact)
    inputs = model_inputs(frame, columns)
    keep_cols = [c for c in frame.columns if c not in inputs.columns]
    from xiaowei.adapters.model_artefact import data_hash

    train = samples["train"]
    full_inputs = model_inputs(frame, setup.get("columns") or columns)
    if training.get("sha256") != data_hash(full_inputs[train], y[train]):
        whole = pl.concat([inputs, frame.select(keep_cols)], how="horizontal")
        return [("data", whole, y)]
    out = []
    for sample, rows in samples.items():
        whole = pl.concat([inputs[rows], frame.select(keep_cols)[rows]], how="horizontal")
        out.append((sample, whole, y[rows]))
    return out


def report_model(
    model_path: Path,
    data: Path,
    out: Path,
    *,
    lang: Lang = "en",
    max_charts: int = 12,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> ReportResult:
    """Write the HTML model report of the model at ``model_path`` evaluated on ``data``: the
    training file gives back its train/test/out-of-time samples (checked by the training
    data's hash); any other file is evaluated as one sample. Binning charts are drawn for the
    ``max_charts`` most informative features (every feature has its table)."""
    from xiaowei.reports.model_report import ReportSample, model_report_html

    report = progress or _noop
    if out.suffix.lower() not in (".html", ".htm"):
        raise InvalidInput("out", f"{out.name}: the report is an .html file")
    if out.exists() and not overwrite:
        raise InvalidInput("out", f"{out} exists (use --overwrite to replace it)")
    report("loading the model", 0, 4)
    artefact = load_model(model_path)
    report(f"reading {data.name}", 1, 4)
    frame = read_table(data)
    report("scoring the samples", 2, 4)
    model = artefact.model
    samples = []
    figures = {}
    for name, whole, y in rebuild_samples(artefact, frame):
        output = raw_output(model, whole)
        pd_ = pd_from_output(model, output, artefact.calibrator)
        score = output if isinstance(model, Scorecard) else None
        samples.append(ReportSample(name=name, features=whole, target=y, pd=pd_, score=score))
        figures[name] = performance(y, pd_)
    report("drawing the report", 3, 4)
    page = model_report_html(
        model,
        artefact.manifest,
        samples,
        master_scale=artefact.master_scale or MasterScale(),
        lang=lang,
        max_charts=max_charts,
    )
    write_atomically(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    report("done", 4, 4)
    return ReportResult(out=out, samples=figures)


# ---------------------------------------------------------------------------------------------
# Comparison


@dataclass(frozen=True)
class CompareResult:
    """Several models on the same rows (模型对比), overall and per segment."""

    sample: str
    models: list[str]
    table: pl.DataFrame  # segment ("all", then the values of by), rows, bads, bad_rate, auc_<m>
    target: npt.NDArray[np.int8]
    pds: dict[str, FloatArray]  # model name → PD of each row of the sample
    by: str | None = None


def _segments(frame: pl.DataFrame, by: str) -> tuple[list[str], list[npt.NDArray[np.bool_]]]:
    """Segments of ``by``, named by value: one per value of a text column or of a numeric
    column with at most six values; else below and from the median; and missing."""
    if by not in frame.columns:
        raise InvalidInput("by", f"no column {by!r} in the data")
    column = frame[by]
    values = column.drop_nulls().unique().sort()
    if column.dtype.is_numeric() and values.len() > 6:
        cut = float(column.median())  # type: ignore[arg-type]
        low = (column < cut).fill_null(value=False).to_numpy()
        high = (column >= cut).fill_null(value=False).to_numpy()
        names, masks = [f"< {cut:g}", f">= {cut:g}"], [low, high]
    else:
        names = [str(v) for v in values.to_list()]
        masks = [(column == v).fill_null(value=False).to_numpy() for v in values.to_list()]
    if column.null_count():
        names.append("missing")
        masks.append(column.is_null().to_numpy())
    return names, masks


def compare_models(
    model_paths: Sequence[Path],
    data: Path,
    *,
    by: str | None = None,
    progress: Progress | None = None,
) -> CompareResult:
    """AUC of each model on the same rows of ``data``: the test sample of the fit when every
    model was fitted on this file with the same split (the out-of-time sample when there is
    one), else every row; per segment of ``by`` too."""
    report = progress or _noop
    if len(model_paths) < 1:
        raise InvalidInput("models", "name at least one model")
    total = len(model_paths) + 2
    report(f"reading {data.name}", 0, total)
    frame = read_table(data)
    artefacts = []
    for k, path in enumerate(model_paths):
        report(f"loading {path.name}", k + 1, total)
        artefacts.append(load_model(path))
    names = [
        str(a.manifest.get("name") or p.name) for a, p in zip(artefacts, model_paths, strict=True)
    ]
    if len(set(names)) != len(names):
        names = [p.name for p in model_paths]
    targets = {str(a.manifest.get("target")) for a in artefacts}
    if len(targets) != 1:
        raise InvalidInput("models", f"the models predict different targets: {sorted(targets)}")
    target = targets.pop()
    y_all, known = target_vector(frame, target)
    splits = {repr((a.manifest.get("setup") or {}).get("split")) for a in artefacts}
    per_model = [{n: (w, ys) for n, w, ys in rebuild_samples(a, frame)} for a in artefacts]
    common = set.intersection(*(set(s) for s in per_model))
    chosen = next((k for k in ("oot", "test") if k in common), "data")
    if len(splits) != 1 or chosen == "data":
        chosen = "data"
        wholes, y = [frame.filter(known)] * len(artefacts), y_all
    else:
        wholes, y = [s[chosen][0] for s in per_model], per_model[0][chosen][1]
    report("scoring", total - 1, total)
    pds: dict[str, FloatArray] = {}
    for name, artefact, whole in zip(names, artefacts, wholes, strict=True):
        x = model_inputs(whole, input_columns(artefact))
        output = raw_output(artefact.model, x)
        pds[name] = pd_from_output(artefact.model, output, artefact.calibrator)
    rows_frame = wholes[0]
    segment_names, masks = ["all"], [np.ones(y.shape[0], dtype=bool)]
    if by is not None:
        more_names, more_masks = _segments(rows_frame, by)
        segment_names += more_names
        masks += more_masks
    rows = []
    for segment, mask in zip(segment_names, masks, strict=True):
        ys = y[mask]
        bads = int(ys.sum())
        entry: dict[str, Any] = {
            "segment": segment,
            "rows": int(mask.sum()),
            "bads": bads,
            "bad_rate": bads / int(mask.sum()) if mask.any() else None,
        }
        for name in names:
            both = 0 < bads < ys.shape[0]
            entry[f"auc_{name}"] = metrics.auc(ys, pds[name][mask]) if both else None
        rows.append(entry)
    report("done", total, total)
    return CompareResult(
        sample=chosen, models=names, table=pl.DataFrame(rows), target=y, pds=pds, by=by
    )


# ---------------------------------------------------------------------------------------------
# Monitoring


@dataclass(frozen=True)
class MonitorResult:
    """Stability of a current sample against a reference (模型监控)."""

    reference_rows: int
    current_rows: int
    score_psi: float
    score_light: str
    score_table: pl.DataFrame
    reference_scores: IntArray
    current_scores: IntArray
    features: pl.DataFrame  # feature, csi, bins, light
    performance: dict[str, dict[str, Any]]  # where the samples carry the target


def monitor_model(
    model_path: Path,
    reference: Path,
    current: Path,
    *,
    bins: int = 10,
    progress: Progress | None = None,
) -> MonitorResult:
    """PSI of the score (deciles of the reference's scores) and CSI of every model feature on
    the model's own bins, between ``reference`` and ``current``; AUC/KS too where both files
    carry the target."""
    report = progress or _noop
    report("loading the model", 0, 4)
    artefact = load_model(model_path)
    model = artefact.model
    columns = input_columns(artefact)
    report(f"reading {reference.name} and {current.name}", 1, 4)
    frames = {"reference": read_table(reference), "current": read_table(current)}
    report("scoring", 2, 4)
    scores: dict[str, IntArray] = {}
    binned: dict[str, pl.DataFrame] = {}
    perf: dict[str, dict[str, Any]] = {}
    target = str(artefact.manifest.get("target") or "")
    for key, frame in frames.items():
        x = model_inputs(frame, columns)
        output = raw_output(model, x)
        pd_ = pd_from_output(model, output, artefact.calibrator)
        scores[key] = (
            output.astype(np.int64) if isinstance(model, Scorecard) else score_from_pd(pd_)
        )
        binned[key] = bin_labels(model, x)
        if target and target in frame.columns:
            y, known = target_vector(frame, target)
            perf[key] = performance(y, pd_[known.to_numpy()])
    report("comparing", 3, 4)
    table = psi_table(scores["reference"], scores["current"], bins=bins)
    value = float(table["psi"].sum())
    features = csi(binned["reference"], binned["current"]).sort("csi", descending=True)
    report("done", 4, 4)
    return MonitorResult(
        reference_rows=frames["reference"].height,
        current_rows=frames["current"].height,
        score_psi=value,
        score_light=stability_light(value),
        score_table=table,
        reference_scores=scores["reference"],
        current_scores=scores["current"],
        features=features,
        performance=perf,
    )


__all__ = [
    "ID_COLUMNS",
    "MODEL_KINDS",
    "ApplyResult",
    "CompareResult",
    "FitResult",
    "MonitorResult",
    "ReportResult",
    "SplitSpec",
    "apply_model",
    "bin_labels",
    "compare_models",
    "feature_columns",
    "fit_model",
    "model_inputs",
    "monitor_model",
    "new_model",
    "performance",
    "read_table",
    "rebuild_samples",
    "report_model",
    "score_frame",
    "score_from_pd",
    "split_rows",
    "target_vector",
    "write_table",
]
