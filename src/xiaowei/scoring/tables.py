"""Binning tables of a fitted model recomputed on any sample (样本分箱表): the model's own bins,
the sample's counts.

A validator reads a model's bins on the development sample, on the holdout and on the
out-of-time sample side by side: are the bins still populated, is the event rate still ordered,
how much information value is left. :func:`bin_tables` gives, for every feature of a
:class:`~xiaowei.scoring.scorecard.Scorecard` or a
:class:`~xiaowei.scoring.gbm.GradientBoosting`, the binning table of the model's bins counted
on the given rows — the bins come from the model (the card's bins, or the boosting model's bin
labelling), so it works for a model loaded from its artefact, which has no fitted binning.

Columns as :meth:`NumericBinner.binning_table <xiaowei.scoring.binning.NumericBinner.
binning_table>`: ``bin``, ``label``, ``kind`` (regular / special / missing), ``count``,
``share``, ``goods``, ``bads``, ``event_rate`` (违约率; NaN for an empty bin), ``woe`` (证据权重)
and ``iv`` (信息值, per bin; the feature's IV is the column's sum) from the sample's goods and
bads with the binning's smoothing (:func:`~xiaowei.scoring.binning.bin_statistics`: 0.5 added
to every bin's goods and bads, Haldane–Anscombe). A scorecard's tables add ``woe_used`` (the WOE
the card applies, fixed at fit) and ``points`` (the bin's integer points, 分值). On the rows the
scorecard was fitted on, the table equals the fitted binner's own ``binning_table()``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from xiaowei.core.errors import InvalidInput
from xiaowei.scoring.binning import bin_statistics
from xiaowei.scoring.gbm import GradientBoosting
from xiaowei.scoring.scorecard import Scorecard

__all__ = ["DEFAULT_SMOOTHING", "bin_label_frame", "bin_tables", "information_values"]

FloatArray = npt.NDArray[np.float64]

DEFAULT_SMOOTHING = 0.5
"""The binners' default ``woe_smoothing``, used when the model does not carry its binning."""


def _target(y: Any, n_rows: int) -> FloatArray:
    """The 0 (good) / 1 (bad) target as floats, one per row."""
    try:
        values = np.asarray(y.to_numpy() if isinstance(y, pl.Series) else y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("y", f"the target must be 0 (good) / 1 (bad): {exc}") from exc
    if values.ndim != 1 or values.shape[0] != n_rows:
        raise InvalidInput("y", f"needs one value per row ({n_rows}), got shape {values.shape}")
    if not np.isin(values, (0.0, 1.0)).all():
        raise InvalidInput("y", "the target must be 0 (good) / 1 (bad), without missing values")
    return values


def _bin_kinds(spec: dict[str, Any]) -> list[str]:
    """Kinds of a boosting model's bins: regular ones, one per special code, then missing."""
    n_regular = len(spec["breaks"]) + 1 if spec["kind"] == "numeric" else int(spec["n_groups"])
    return ["regular"] * n_regular + ["special"] * len(spec["specials"]) + ["missing"]


def _smoothing(model: Scorecard | GradientBoosting, feature: str, smoothing: float | None) -> float:
    if smoothing is not None:
        if not smoothing > 0.0:
            raise InvalidInput("smoothing", "must be > 0 (keeps the WOE of pure bins finite)")
        return float(smoothing)
    binning = model.binning_
    if binning is not None and feature in binning.binners_:
        return float(binning.binners_[feature].woe_smoothing)
    return DEFAULT_SMOOTHING


def _table(
    index: npt.NDArray[np.int64],
    target: FloatArray,
    labels: list[str],
    kinds: list[str],
    smoothing: float,
) -> pl.DataFrame:
    n_bins = len(labels)
    counts = np.bincount(index, minlength=n_bins).astype(np.int64)
    bads = np.asarray(np.bincount(index, weights=target, minlength=n_bins), dtype=np.float64)
    goods = counts.astype(np.float64) - bads
    woe, iv = bin_statistics(goods, bads, smoothing=smoothing)
    total = counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        event_rate = np.where(counts > 0, bads / counts, np.nan)
    return pl.DataFrame(
        {
            "bin": np.arange(n_bins, dtype=np.int64),
            "label": labels,
            "kind": kinds,
            "count": counts,
            "share": counts / total if total else np.zeros(n_bins),
            "goods": goods.astype(np.int64),
            "bads": bads.astype(np.int64),
            "event_rate": event_rate,
            "woe": woe,
            "iv": iv,
        },
        nan_to_null=False,
    )


def bin_tables(
    model: Scorecard | GradientBoosting,
    X: pl.DataFrame,  # noqa: N803 - scikit-learn naming
    y: Any,
    *,
    smoothing: float | None = None,
) -> dict[str, pl.DataFrame]:
    """Binning table (分箱表) of every model feature (``model.features_`` order) on ``X``, ``y``.

    ``X`` holds the model's input columns (it may hold more); ``y`` is 0 (good) / 1 (bad).
    ``smoothing`` defaults to the fitted binner's ``woe_smoothing``, or 0.5 for a model loaded
    without its binning. See the module docstring for the columns.
    """
    if not isinstance(X, pl.DataFrame):
        raise InvalidInput("X", f"a Polars DataFrame, got {type(X).__name__}")
    if X.height == 0:
        raise InvalidInput("X", "no rows")
    target = _target(y, X.height)
    out: dict[str, pl.DataFrame] = {}
    if isinstance(model, Scorecard):
        index = model.bin_index(X)
        labels = model.bin_labels()
        card = model.points_table()
        for j, feature in enumerate(model.features_):
            bins = card.filter(pl.col("feature") == feature)
            table = _table(
                index[:, j],
                target,
                labels[feature],
                bins["kind"].to_list(),
                _smoothing(model, feature, smoothing),
            )
            out[feature] = table.with_columns(
                bins["woe"].alias("woe_used"), bins["points"].alias("points")
            )
        return out
    if isinstance(model, GradientBoosting):
        index = model.bin_index(X)
        labels = model.bin_labels()
        for j, feature in enumerate(model.features_):
            out[feature] = _table(
                index[:, j],
                target,
                labels[feature],
                _bin_kinds(model.bin_specs_[feature]),
                _smoothing(model, feature, smoothing),
            )
        return out
    raise InvalidInput("model", f"a Scorecard or GradientBoosting, got {type(model).__name__}")


def bin_label_frame(
    model: Scorecard | GradientBoosting,
    X: pl.DataFrame,  # noqa: N803 - scikit-learn naming
) -> pl.DataFrame:
    """Every model feature of ``X`` as the label of the model's bin its value falls in (one
    String column per feature, ``model.features_`` order): the view on which monitoring
    compares samples (CSI, 特征稳定性指数) on the model's own bins."""
    index = model.bin_index(X)
    labels = model.bin_labels()
    return pl.DataFrame(
        {
            f: pl.Series(f, np.asarray(labels[f], dtype=object)[index[:, j]].tolist(), pl.String)
            for j, f in enumerate(model.features_)
        }
    )


def information_values(tables: dict[str, pl.DataFrame]) -> dict[str, float]:
    """Information value (信息值 IV) of each feature: the sum of its table's ``iv`` column."""
    return {feature: float(table["iv"].sum()) for feature, table in tables.items()}
