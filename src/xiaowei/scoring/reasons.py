"""Top-N reason codes (评分原因), vectorised: one mechanism for the scorecard and LightGBM.

Each model gives, per row and feature, how much the feature's bin costs the applicant (points
lost against the best bin; a positive contribution to the log-odds of bad) and the bin's
index. :func:`top_reasons` keeps, per row, the ``n`` costliest features with a positive cost,
ties broken by feature order (a stable sort), as a long frame: row, rank, feature, bin,
label, code (``feature:label``), plus the selection so that a model can add its own columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TopReasons:
    """The kept reasons: ``rows`` and ``features`` (column indices) of each, its ``cost``, and
    the frame (row, rank, feature, bin, label, code)."""

    rows: IntArray
    features: IntArray
    cost: npt.NDArray[Any]
    frame: pl.DataFrame


def top_reasons(
    cost: npt.NDArray[Any],
    bins: npt.NDArray[Any],
    names: Sequence[str],
    labels: Sequence[Sequence[str]],
    n: int,
) -> TopReasons:
    """Per row, the ``n`` features of highest positive ``cost`` (rows × features), with the
    label of the row's bin (``bins``, rows × features) among ``labels[feature]``."""
    take = min(int(n), cost.shape[1])
    order = np.argsort(-cost, axis=1, kind="stable")[:, :take]  # ties: feature order
    top = np.take_along_axis(cost, order, axis=1)
    keep = top > 0
    rows = np.broadcast_to(np.arange(cost.shape[0])[:, None], keep.shape)[keep]
    rank = np.broadcast_to(np.arange(1, take + 1)[None, :], keep.shape)[keep]
    feat = order[keep]
    bin_of = bins[rows, feat]
    offsets = np.concatenate(([0], np.cumsum([len(lb) for lb in labels])[:-1])).astype(np.int64)
    flat_labels = np.asarray([lb for group in labels for lb in group], dtype=object)
    codes = np.asarray(
        [f"{name}:{lb}" for name, group in zip(names, labels, strict=True) for lb in group],
        dtype=object,
    )
    flat = offsets[feat] + bin_of
    frame = pl.DataFrame(
        {
            "row": rows.astype(np.int64),
            "rank": rank.astype(np.int64),
            "feature": pl.Series(np.asarray(names, dtype=object)[feat].tolist(), dtype=pl.String),
            "bin": bin_of.astype(np.int64),
            "label": pl.Series(flat_labels[flat].tolist(), dtype=pl.String),
            "code": pl.Series(codes[flat].tolist(), dtype=pl.String),
        }
    )
    return TopReasons(
        rows=rows.astype(np.int64), features=feat.astype(np.int64), cost=top[keep], frame=frame
    )


__all__ = ["TopReasons", "top_reasons"]
