"""Stability monitoring of a score and its features (模型稳定性监控): PSI and CSI.

* :func:`psi` / :func:`psi_table` — population stability index (群体稳定性指标 PSI) of one variable
  (usually the score) between a reference sample (the development or last validated sample,
  基准样本) and a current one (当前样本), with the per-bin table;
* :func:`csi` — characteristic stability index (特征稳定性指标 CSI): the same formula on each
  feature of a frame, on the feature's own bins;
* :func:`stability_light` — the traffic light (红绿灯) of a PSI/CSI value.

PSI = Σ_i (a_i − e_i) · ln(a_i / e_i), with e_i the reference share and a_i the current share of
bin i. Each term is ≥ 0 (both factors have the same sign), so PSI ≥ 0, and PSI = 0 when the
shares agree. An empty bin has share 0 and ln 0 is undefined: its share is replaced by
``epsilon`` (default 1e-4, i.e. "less than one row in ten thousand"; the other shares are not
renormalised). The bands < 0.10 stable, 0.10–0.25 a shift to investigate, > 0.25 a major shift
are the industry rule of thumb (Siddiqi, *Credit Risk Scorecards*, Wiley 2006, ch. 11;
Yurdakul, *Statistical Properties of Population Stability Index*, PhD thesis, Western Michigan
University 2018, who also shows the bands' false-alarm rates depend on the sample sizes).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from xiaowei.core.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]
Missing = Literal["error", "bin"]

PSI_YELLOW = 0.10
PSI_RED = 0.25
PSI_EPSILON = 1e-4
MISSING_LABEL = "missing"


def stability_light(value: float, *, yellow: float = PSI_YELLOW, red: float = PSI_RED) -> str:
    """``green`` below ``yellow`` (0.10), ``red`` above ``red`` (0.25), ``yellow`` from 0.10 to
    0.25 inclusive (Siddiqi 2006; Yurdakul 2018)."""
    if not 0.0 < yellow <= red:
        raise InvalidInput("yellow", f"need 0 < yellow ≤ red, got {yellow}, {red}")
    if value < yellow:
        return "green"
    return "red" if value > red else "yellow"


def _numeric(values: Any, field: str, *, missing: Missing) -> FloatArray:
    if isinstance(values, pl.Series):
        values = values.cast(pl.Float64, strict=False).fill_null(np.nan).to_numpy()
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(field, f"not numeric: {exc}") from exc
    if array.ndim != 1:
        raise InvalidInput(field, f"must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        raise InvalidInput(field, "is empty")
    if np.isinf(array).any():
        raise InvalidInput(field, "infinite value(s)")
    if missing == "error" and np.isnan(array).any():
        raise InvalidInput(field, f"{int(np.isnan(array).sum())} missing value(s)")
    return array


def _check_breaks(breaks: Sequence[float]) -> FloatArray:
    cuts = np.asarray(breaks, dtype=np.float64)
    if cuts.ndim != 1 or not np.isfinite(cuts).all():
        raise InvalidInput("bins", "explicit breaks must be finite numbers")
    if (np.diff(cuts) <= 0).any():
        raise InvalidInput("bins", "explicit breaks must be strictly increasing")
    return cuts


def _sorted_values(values: FloatArray) -> FloatArray:
    """The non-missing values, ascending (np.sort puts NaN last): the one sort PSI needs."""
    ordered = np.sort(values)
    return ordered[: ordered.size - int(np.count_nonzero(np.isnan(ordered)))]


def _quantiles(ordered: FloatArray, levels: FloatArray) -> FloatArray:
    """``np.quantile(values, levels)`` (linear, NumPy's default) on already sorted values."""
    position = levels * (ordered.size - 1)
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, ordered.size - 1)
    fraction = position - below
    low, high = ordered[below], ordered[above]
    # NumPy's _lerp: interpolate from the nearer end, so the result is monotone and exact at 1.
    return np.where(
        fraction >= 0.5,
        high - (high - low) * (1 - fraction),
        low + (high - low) * fraction,
    )


def _breaks_of_sorted(ordered: FloatArray, bins: int) -> FloatArray:
    if ordered.size == 0:
        return np.empty(0, dtype=np.float64)
    distinct = ordered[np.r_[True, ordered[1:] != ordered[:-1]]]
    if distinct.size <= bins:
        return distinct[1:]
    return np.unique(_quantiles(ordered, np.arange(1, bins) / bins))


def _check_bins(bins: object) -> None:
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise InvalidInput("bins", f"must be a positive integer or a list of breaks, got {bins!r}")


def reference_breaks(reference: Any, *, bins: int = 10) -> FloatArray:
    """Interior break points of ``bins`` quantile bins of the reference sample (NaN ignored).

    The cuts are the reference's k/bins quantiles (k = 1 … bins − 1, NumPy's default linear
    interpolation), duplicates dropped; when the reference has at most ``bins`` distinct values
    (a grade, a WOE-coded or binned feature) every distinct value gets its own bin instead.
    """
    _check_bins(bins)
    values = _numeric(reference, "reference", missing="bin")
    return _breaks_of_sorted(_sorted_values(values), bins)


def _labels(cuts: FloatArray) -> list[str]:
    edges = [-np.inf, *cuts.tolist(), np.inf]
    return [f"[{low:.6g}, {high:.6g})" for low, high in itertools.pairwise(edges)]


def _psi_frame(
    labels: list[str],
    lower: FloatArray,
    upper: FloatArray,
    reference_counts: FloatArray,
    current_counts: FloatArray,
    epsilon: float,
) -> pl.DataFrame:
    reference_share = reference_counts / reference_counts.sum()
    current_share = current_counts / current_counts.sum()
    e = np.maximum(reference_share, epsilon)
    a = np.maximum(current_share, epsilon)
    return pl.DataFrame(
        {
            "bin": labels,
            "lower": lower,
            "upper": upper,
            "reference_count": reference_counts.astype(np.int64),
            "current_count": current_counts.astype(np.int64),
            "reference_share": reference_share,
            "current_share": current_share,
            "psi": (a - e) * np.log(a / e),
        }
    )


def _check_epsilon(epsilon: float) -> None:
    if not 0.0 < epsilon < 1.0:
        raise InvalidInput("epsilon", f"must lie in (0, 1), got {epsilon}")


def psi_table(
    reference: Any,
    current: Any,
    *,
    bins: int | Sequence[float] = 10,
    epsilon: float = PSI_EPSILON,
    missing: Missing = "error",
) -> pl.DataFrame:
    """Per-bin PSI table of a numeric variable (the score, or a numeric feature).

    ``bins`` is a number of reference-quantile bins (see :func:`reference_breaks`) or explicit
    interior breaks c1 < … < ck. Bins are left-closed like the binning's: ``[-inf, c1)``,
    ``[c1, c2)``, …, ``[ck, inf)``. With ``missing="bin"`` NaN/None values get a last bin
    ``missing`` (present when either sample has one); with ``missing="error"`` (the default,
    right for a score) they raise :class:`InvalidInput`.

    Columns: ``bin``, ``lower``, ``upper``, ``reference_count``, ``current_count``,
    ``reference_share``, ``current_share``, ``psi`` (the bin's term; the column sums to
    :func:`psi`).
    """
    _check_epsilon(epsilon)
    expected = _numeric(reference, "reference", missing=missing)
    actual = _numeric(current, "current", missing=missing)
    expected_sorted = _sorted_values(expected)
    actual_sorted = _sorted_values(actual)
    if isinstance(bins, int) and not isinstance(bins, bool):
        _check_bins(bins)
        cuts = _breaks_of_sorted(expected_sorted, bins)
    elif isinstance(bins, bool | str):
        raise InvalidInput("bins", f"must be a positive integer or a list of breaks, got {bins!r}")
    else:
        cuts = _check_breaks(bins)
    reference_counts = _bin_counts(expected_sorted, cuts, missing=expected.size)
    current_counts = _bin_counts(actual_sorted, cuts, missing=actual.size)
    labels = _labels(cuts)
    lower = np.r_[-np.inf, cuts]
    upper = np.r_[cuts, np.inf]
    if reference_counts[-1] + current_counts[-1] == 0 or missing == "error":
        reference_counts, current_counts = reference_counts[:-1], current_counts[:-1]
    else:
        labels.append(MISSING_LABEL)
        lower, upper = np.r_[lower, np.nan], np.r_[upper, np.nan]
    if reference_counts.sum() == 0 or current_counts.sum() == 0:
        raise InvalidInput("reference" if reference_counts.sum() == 0 else "current", "no values")
    return _psi_frame(labels, lower, upper, reference_counts, current_counts, epsilon)


def _bin_counts(ordered: FloatArray, cuts: FloatArray, *, missing: int) -> FloatArray:
    """Counts per bin [-inf, c1), [c1, c2), …, [ck, inf) of sorted values, then the missing
    ones (``missing`` = the sample's size including NaN): k binary searches, no pass per row."""
    below = np.searchsorted(ordered, cuts, side="left")  # rows < c_i
    edges: npt.NDArray[np.int64] = np.r_[0, below, ordered.size, missing].astype(np.int64)
    return np.diff(edges).astype(np.float64)


def psi(
    reference: Any,
    current: Any,
    *,
    bins: int | Sequence[float] = 10,
    epsilon: float = PSI_EPSILON,
    missing: Missing = "error",
) -> float:
    """Population stability index (PSI) of ``current`` against ``reference`` (see the module
    docstring for the formula and :func:`psi_table` for the bins)."""
    table = psi_table(reference, current, bins=bins, epsilon=epsilon, missing=missing)
    return float(table["psi"].sum())


def categorical_psi_table(
    reference: Any, current: Any, *, epsilon: float = PSI_EPSILON
) -> pl.DataFrame:
    """Per-level PSI table of a categorical (or already binned) variable: one bin per level seen
    in either sample, most frequent in the reference first (ties: in the current, then by level);
    nulls form a ``missing`` level. Columns as :func:`psi_table` with ``lower``/``upper`` null."""
    _check_epsilon(epsilon)
    expected = pl.Series("level", reference, strict=False).cast(pl.String).fill_null(MISSING_LABEL)
    actual = pl.Series("level", current, strict=False).cast(pl.String).fill_null(MISSING_LABEL)
    if expected.len() == 0 or actual.len() == 0:
        raise InvalidInput("reference" if expected.len() == 0 else "current", "is empty")
    counts = (
        expected.value_counts(name="reference_count")
        .join(actual.value_counts(name="current_count"), on="level", how="full", coalesce=True)
        .fill_null(0)
        .sort(["reference_count", "current_count", "level"], descending=[True, True, False])
    )
    return _psi_frame(
        counts["level"].to_list(),
        np.full(counts.height, np.nan),
        np.full(counts.height, np.nan),
        counts["reference_count"].to_numpy().astype(np.float64),
        counts["current_count"].to_numpy().astype(np.float64),
        epsilon,
    ).with_columns(
        pl.lit(None, dtype=pl.Float64).alias("lower"), pl.lit(None, dtype=pl.Float64).alias("upper")
    )


def csi(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    *,
    features: Sequence[str] | None = None,
    bins: int = 10,
    breaks: Mapping[str, Sequence[float]] | None = None,
    epsilon: float = PSI_EPSILON,
    yellow: float = PSI_YELLOW,
    red: float = PSI_RED,
) -> pl.DataFrame:
    """Characteristic stability index (CSI) per feature, with its traffic light.

    Each feature's bins: the explicit ``breaks[feature]`` when given (pass the fitted binning's
    breaks to monitor on the scorecard's own bins); for a string, categorical, enum or boolean
    column one bin per level (so a bin-label or grade column is monitored on its bins); for any
    other numeric column ``bins`` reference-quantile bins, or one bin per distinct value when the
    reference has at most ``bins`` of them (WOE-coded columns). Missing values are a bin of their
    own (see :func:`psi_table`).

    Columns: ``feature``, ``csi``, ``bins`` (number of bins), ``light``; in the order of
    ``features`` (default: the reference's columns).
    """
    names = list(reference.columns if features is None else features)
    explicit = dict(breaks or {})
    missing_names = [n for n in [*names, *explicit] if n not in reference or n not in current]
    if missing_names:
        raise InvalidInput("features", f"not in both frames: {sorted(set(missing_names))}")
    rows: list[tuple[str, float, int, str]] = []
    for name in names:
        table = feature_psi_table(
            reference[name], current[name], bins=explicit.get(name, bins), epsilon=epsilon
        )
        value = float(table["psi"].sum())
        rows.append((name, value, table.height, stability_light(value, yellow=yellow, red=red)))
    return pl.DataFrame(
        rows,
        schema={"feature": pl.String, "csi": pl.Float64, "bins": pl.Int64, "light": pl.String},
        orient="row",
    )


def feature_psi_table(
    reference: pl.Series,
    current: pl.Series,
    *,
    bins: int | Sequence[float] = 10,
    epsilon: float = PSI_EPSILON,
) -> pl.DataFrame:
    """The per-bin table :func:`csi` uses for one feature (levels for non-numeric columns,
    numeric bins otherwise, missing values their own bin)."""
    if not reference.dtype.is_numeric() or reference.dtype == pl.Boolean:
        return categorical_psi_table(reference, current, epsilon=epsilon)
    return psi_table(reference, current, bins=bins, epsilon=epsilon, missing="bin")
