"""Optimal binning and weight of evidence (最优分箱与证据权重 WOE) for credit scorecards.

Conventions (``docs/design/scoring.md``):

* Target ``y``: 1 = bad (违约/坏客户, the event), 0 = good.
* **Weight of evidence (证据权重 WOE)** of a bin = ln(share of goods in the bin / share of bads
  in the bin) (Siddiqi): positive = safer than average. Every bin's goods and bads are
  smoothed by adding ``woe_smoothing`` (default 0.5, the Haldane–Anscombe correction), and the
  shares are taken over the smoothed totals (``G + s·n_bins``, ``B + s·n_bins``) so they sum to
  one; an all-good or all-bad bin therefore has a finite WOE. **Information value (信息值 IV)**
  = Σ (share of goods − share of bads) × WOE over every bin (regular, special and missing),
  from the same smoothed shares. An empty bin (a special code or the missing bin never seen in
  the fit data) has the smoothed odds 1:1 in the table, but is applied at WOE 0 (below).
* Bins of a numeric feature (数值型分箱): ``(-inf, c1)``, ``[c1, c2)``, …, ``[ck, inf)`` —
  left-closed, so a break point belongs to the bin it starts; then **one bin per special
  value** (特殊值, each code its own bin), then **one missing bin** (缺失值: NaN, None). These
  rows are always in the table, in that order, so a bin index means the same thing at fit and
  at transform time.
* A special or missing bin with fewer than ``min_bin_share`` of the rows keeps its own row
  but its WOE at transform time follows ``special_policy``: ``"own"`` (default, its own
  smoothed WOE), ``"neutral"`` (0) or ``"worst"`` (the WOE of the riskiest regular bin). A
  special or missing bin that saw no training row gets WOE 0 (average risk, no evidence)
  under every policy: its smoothed WOE would be ln(B/G), as if half its rows were bad. The
  table shows both ``woe`` (own) and ``woe_used`` (applied at transform).

Algorithm (分箱算法):

1. **Pre-binning** (预分箱): cut points at the quantiles of the regular values (``prebins``,
   default 20; duplicates and empty pre-bins are dropped, so a feature with few distinct values
   gets one pre-bin per value) or, with ``prebinning="unique"``, one pre-bin per distinct value
   (at most ``prebins`` of them). One sort of the values (NaN sorts last; special codes are
   contiguous runs) and one of the bads' values; counts are ``np.searchsorted`` of the cut
   points into the sorted arrays — no Python loop over rows.
2. **Optimal merging** (最优合并): exact dynamic programming over contiguous pre-bins that
   maximises IV subject to ``max_bins``, ``min_bin_share`` (of all rows), ``min_bads`` and
   ``min_goods`` per regular bin, and the monotonic trend (单调趋势) of the event rate of the
   regular bins (special and missing bins are outside the constraint). The state is the last
   bin (its start and end pre-bin) and the phase of the shape; a transition maximises over the
   previous bin's start with one ``np.maximum.reduceat`` over the (start, cut, end) triples,
   vectorised too over the final number of bins (which fixes the smoothed denominators, so
   the optimum is exact for the smoothed IV). Trends are checked on both the raw event rate
   ``bads/count`` and the smoothed one ``(bads+s)/(count+2s)``, so the WOE (and hence the
   points) follows the trend too. ``"peak"``/``"valley"`` = unimodal (rates rise then fall /
   fall then rise). ``"auto"`` solves the four shapes in one programme and takes the better IV
   of ascending and descending, or a peak/valley only when its IV exceeds that by more than
   ``auto_unimodal_gain`` as a *relative* gain (default 0.1: 10 % more IV); ties prefer fewer
   bins. **Fallback**: when no partition into 1…``max_bins`` bins satisfies the constraints
   (e.g. fewer bads than ``min_bads``), the feature gets a single regular bin — never an
   error.
3. **ChiMerge** (卡方分箱, ``method="chimerge"``; Kerber 1992, "ChiMerge: Discretization of
   Numeric Attributes", AAAI-92 pp. 123–128): bottom-up merging of the adjacent pair of bins
   with the smallest χ² while there are more than ``max_bins`` bins or a pair's χ² is below
   ``chi2_threshold`` (default 3.841 = χ²(0.95, df=1)); bins that break ``min_bin_share`` /
   ``min_bads`` / ``min_goods`` are merged into the neighbour with the smaller χ². A trend
   other than ``None`` is then imposed by the same dynamic programme over the ChiMerge bins.

Categorical features (类别型分箱, :class:`CategoricalBinner`): levels below
``min_category_share`` are pooled into ``__other__``; the levels (and ``__other__``) are ordered
by smoothed event rate and merged contiguously by the same DP (ascending in that order by
construction). An unseen level at transform time goes to the bin of ``__other__`` if there is
one, else to the regular bin with the largest count (``unseen_to_``).

:class:`Binning` bins many features of a frame (Polars, pandas, or NumPy with names) on a
thread pool (the heavy parts are NumPy calls that release the GIL) and transforms to a WOE
matrix.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, Self

import numpy as np
import numpy.typing as npt
import polars as pl
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import ClassifierTags, Tags
from sklearn.utils.validation import check_array

from xiaowei.core.errors import InvalidInput

__all__ = [
    "OTHER_LEVEL",
    "Binning",
    "CategoricalBinner",
    "NumericBinner",
    "adjacent_chi2",
    "bin_statistics",
    "chimerge_partition",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

OTHER_LEVEL = "__other__"
"""Name of the pooled bin of rare categorical levels (稀有类别合并)."""

_TRENDS = ("auto", "ascending", "descending", "peak", "valley")
_METRICS = ("woe", "bin", "event_rate")
_POLICIES = ("own", "neutral", "worst")
_NEG = -np.inf
# An expected frequency of 0 (a class absent from both intervals) is replaced by 0.1 so that
# the χ² term stays defined — the small constant of ChiMerge as usually implemented after
# Kerber (1992).
_KERBER_ZERO_EXPECTED = 0.1

# Phases of each trend shape: number of phases, phases a first bin may be in, and allowed
# transitions (from phase, to phase, relation of the next bin's event rate to the previous
# one's). "auto" runs the four shapes at once: phase 0 rising (ascending), 1 falling after a
# rise (peak), 2 falling (descending), 3 rising after a fall (valley).
_TREND_PHASES: dict[str | None, tuple[int, tuple[int, ...], tuple[tuple[int, int, str], ...]]] = {
    None: (1, (0,), ((0, 0, "any"),)),
    "ascending": (1, (0,), ((0, 0, "up"),)),
    "descending": (1, (0,), ((0, 0, "down"),)),
    "peak": (2, (0,), ((0, 0, "up"), (0, 1, "down"), (1, 1, "down"))),
    "valley": (2, (0,), ((0, 0, "down"), (0, 1, "up"), (1, 1, "up"))),
    "auto": (
        4,
        (0, 2),
        (
            (0, 0, "up"),
            (0, 1, "down"),
            (1, 1, "down"),
            (2, 2, "down"),
            (2, 3, "up"),
            (3, 3, "up"),
        ),
    ),
}
# End phases of each shape within the "auto" programme.
_AUTO_END_PHASES = {"ascending": (0,), "peak": (0, 1), "descending": (2,), "valley": (2, 3)}


# --------------------------------------------------------------------------------------------
# Statistics


def bin_statistics(
    goods: FloatArray, bads: FloatArray, *, smoothing: float
) -> tuple[FloatArray, FloatArray]:
    """WOE and IV contribution of each bin from its goods and bads (smoothed shares).

    share_good_i = (g_i + s) / (G + s·n), share_bad_i = (b_i + s) / (B + s·n),
    WOE_i = ln(share_good_i / share_bad_i), IV_i = (share_good_i − share_bad_i) × WOE_i.
    """
    n_bins = goods.shape[0]
    share_good = (goods + smoothing) / (goods.sum() + smoothing * n_bins)
    share_bad = (bads + smoothing) / (bads.sum() + smoothing * n_bins)
    woe = np.log(share_good / share_bad)
    return woe, (share_good - share_bad) * woe


@functools.lru_cache(maxsize=64)
def _transition_index(k: int) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray, IntArray]:
    """Every transition "bin [i, j) then bin [j, l)" with 0 <= i < j < l <= k, grouped by (j, l).

    Returns the triples ``(i, j, l)`` sorted by (j, l, i), the start of each (j, l) group in
    that order, and each group's ``j`` and ``l``. Only these C(k+1, 3) triples are visited —
    about a seventh of the full cube for 20 pre-bins.
    """
    start, cut, end = np.meshgrid(
        np.arange(k + 1), np.arange(k + 1), np.arange(k + 1), indexing="ij"
    )
    keep = (start < cut) & (cut < end)
    start, cut, end = start[keep], cut[keep], end[keep]
    order = np.lexsort((start, end, cut))
    start, cut, end = start[order], cut[order], end[order]
    new_group = np.ones(start.shape[0], dtype=bool)
    new_group[1:] = (cut[1:] != cut[:-1]) | (end[1:] != end[:-1])
    starts = np.flatnonzero(new_group)
    for arr in (start, cut, end, starts):
        arr.setflags(write=False)
    return start, cut, end, starts, cut[starts], end[starts]


def _allowed(rel: str, prev: FloatArray, nxt: FloatArray) -> BoolArray:
    """May a bin with rate ``nxt`` follow one with rate ``prev`` (NaN: invalid bin)?"""
    if rel == "up":
        return prev <= nxt
    if rel == "down":
        return prev >= nxt
    return ~(np.isnan(prev) | np.isnan(nxt))


class _PartitionDP:
    """Exact DP over contiguous pre-bins maximising IV (one trend shape, all bin counts).

    ``values[t][p, m, i, j]`` is the best IV of the first ``j`` pre-bins cut into ``t + 1``
    bins whose last bin is ``[i, j)`` in phase ``p``, with the smoothed denominators of a final
    partition of ``m + 1`` regular bins (the denominators depend on the number of bins, so the
    programme runs for every final count at once along axis ``m``). A transition maximises over
    the previous bin's start ``i`` in one NumPy reduction (``np.maximum.reduceat`` over the
    (i, j, l) triples grouped by (j, l)). A trend is checked on both the raw and the smoothed
    event rate of adjacent bins.
    """

    def __init__(
        self,
        goods: FloatArray,
        bads: FloatArray,
        *,
        shape: str | None,
        max_bins: int,
        min_count: float,
        min_bads: float,
        min_goods: float,
        smoothing: float,
        extra_goods: FloatArray,
        extra_bads: FloatArray,
    ) -> None:
        k = goods.shape[0]
        self.k = k
        cum_g = np.concatenate(([0.0], np.cumsum(goods)))
        cum_b = np.concatenate(([0.0], np.cumsum(bads)))
        g = cum_g[None, :] - cum_g[:, None]  # g[i, j] = goods of pre-bins i..j-1
        b = cum_b[None, :] - cum_b[:, None]
        n = g + b
        valid = np.triu(np.ones((k + 1, k + 1), dtype=bool), 1)
        feasible = valid & (n >= min_count) & (b >= min_bads) & (g >= min_goods)
        self.max_bins = max_bins = min(max_bins, k)
        n_bins_total = np.arange(1, max_bins + 1, dtype=np.float64) + extra_goods.shape[0]
        den_g = (cum_g[-1] + extra_goods.sum() + smoothing * n_bins_total)[:, None, None]
        den_b = (cum_b[-1] + extra_bads.sum() + smoothing * n_bins_total)[:, None, None]
        share_g = (g[None] + smoothing) / den_g
        share_b = (b[None] + smoothing) / den_b
        with np.errstate(divide="ignore", invalid="ignore"):
            cost = (share_g - share_b) * np.log(share_g / share_b)
            self.raw = np.where(valid, b / n, np.nan)
            self.smooth = np.where(valid, (b + smoothing) / (n + 2.0 * smoothing), np.nan)
        cost = np.where(feasible[None], cost, _NEG)  # (m, i, j)
        # The IV of the special and missing bins is the same for every partition into m + 1
        # bins but differs between counts (denominators): added when counts are compared.
        extra_g = (extra_goods[None, :] + smoothing) / den_g[:, :, 0]
        extra_b = (extra_bads[None, :] + smoothing) / den_b[:, :, 0]
        self.extra_iv = ((extra_g - extra_b) * np.log(extra_g / extra_b)).sum(axis=1)
        n_phases, start_phases, transitions = _TREND_PHASES[shape]
        self.sources = [
            [(p, rel) for p, q, rel in transitions if q == target] for target in range(n_phases)
        ]
        values = np.full((n_phases, max_bins, k + 1, k + 1), _NEG)
        for phase in start_phases:
            values[phase, :, 0, :] = cost[:, 0, :]
        self.values = [values]
        if not feasible.any() or k < 2:
            return
        ti, tj, tl, starts, pair_j, pair_l = _transition_index(k)
        # transitions batched by relation: one gather and one reduction per relation and layer
        batches = []
        for rel in sorted({rel for _, _, rel in transitions}):
            moves = [(p, q) for p, q, r in transitions if r == rel]
            penalty = np.where(self._pair_allowed(rel, (ti, tj), (tj, tl)), 0.0, _NEG)
            batches.append(([p for p, _ in moves], [q for _, q in moves], penalty))
        pair_cost = cost[:, pair_j, pair_l]  # (m, pairs)
        for layer in range(2, max_bins + 1):
            lo = layer - 1  # only final counts m + 1 >= layer matter
            prev = values
            best = np.full((n_phases, max_bins - lo, pair_j.shape[0]), _NEG)
            for from_phases, to_phases, penalty in batches:
                gathered = prev[from_phases, lo:][:, :, ti, tj] + penalty  # (moves, m, triples)
                cand = np.maximum.reduceat(gathered, starts, axis=2)  # (moves, m, pairs)
                for row, target in enumerate(to_phases):
                    np.maximum(best[target], cand[row], out=best[target])
            values = np.full_like(prev, _NEG)
            values[:, lo:, pair_j, pair_l] = best + pair_cost[lo:]
            self.values.append(values)
            if not np.isfinite(best).any():
                break

    def _pair_allowed(
        self, rel: str, first: tuple[IntArray, IntArray], second: tuple[IntArray, IntArray]
    ) -> BoolArray:
        """Both the raw and the smoothed rate of bin ``second`` stand in ``rel`` to ``first``."""
        return _allowed(rel, self.raw[first], self.raw[second]) & _allowed(
            rel, self.smooth[first], self.smooth[second]
        )

    def best(self, end_phases: Sequence[int]) -> tuple[list[int], float] | None:
        """Best partition ending in one of ``end_phases``: inner cut positions and IV."""
        k = self.k
        best_iv = _NEG
        best: tuple[int, int, int] | None = None  # layer, phase, start of the last bin
        for layer, values in enumerate(self.values, start=1):
            ends = values[list(end_phases), layer - 1, :, k]
            flat = int(np.argmax(ends))
            iv = float(ends.flat[flat]) + float(self.extra_iv[layer - 1])
            if iv > best_iv + 1e-12:  # ties keep fewer bins
                row, start = divmod(flat, k + 1)
                best_iv, best = iv, (layer, list(end_phases)[row], start)
        if best is None:
            return None
        layer, phase, start = best
        end = k
        m = layer - 1
        cuts: list[int] = []
        for step in range(layer, 1, -1):
            cuts.append(start)
            prev = self.values[step - 2]
            choice_iv = _NEG
            choice = (phase, 0)
            previous_starts = np.arange(self.k + 1)
            nxt = (np.full(self.k + 1, start), np.full(self.k + 1, end))
            for p, rel in self.sources[phase]:
                allowed = self._pair_allowed(rel, (previous_starts, nxt[0]), nxt)
                vec = np.where(allowed, prev[p, m, :, start], _NEG)
                i = int(np.argmax(vec))
                if vec[i] > choice_iv:
                    choice_iv, choice = float(vec[i]), (p, i)
            phase, (start, end) = choice[0], (choice[1], start)
        cuts.reverse()
        return cuts, best_iv


def adjacent_chi2(goods: FloatArray, bads: FloatArray) -> FloatArray:
    """Kerber's χ² of each adjacent pair of bins (two classes: good, bad)."""
    a = np.stack([goods, bads], axis=1)  # (bins, class)
    pair = np.stack([a[:-1], a[1:]], axis=1)  # (pairs, 2 intervals, 2 classes)
    rows = pair.sum(axis=2, keepdims=True)
    cols = pair.sum(axis=1, keepdims=True)
    total = pair.sum(axis=(1, 2), keepdims=True)
    expected = rows * cols / total
    expected = np.where(expected == 0.0, _KERBER_ZERO_EXPECTED, expected)
    chi2: FloatArray = ((pair - expected) ** 2 / expected).sum(axis=(1, 2))
    return chi2


def chimerge_partition(
    goods: FloatArray,
    bads: FloatArray,
    *,
    max_bins: int,
    threshold: float,
    min_count: float = 0.0,
    min_bads: float = 0.0,
    min_goods: float = 0.0,
) -> list[int]:
    """ChiMerge (Kerber 1992) over ordered pre-bins; returns the inner cut positions.

    Merges the adjacent pair with the smallest χ² while there are more than ``max_bins`` bins
    or the smallest χ² is below ``threshold``; then merges any bin that breaks the size
    constraints into the neighbour with the smaller χ². Stops at one bin.
    """
    g = goods.astype(np.float64).copy()
    b = bads.astype(np.float64).copy()
    starts = list(range(g.shape[0]))
    while g.shape[0] > 1:
        chi2 = adjacent_chi2(g, b)
        n = g + b
        violating = np.flatnonzero((n < min_count) | (b < min_bads) | (g < min_goods))
        if g.shape[0] > max_bins or chi2.min() < threshold:
            pair = int(np.argmin(chi2))
        elif violating.size:
            worst = int(violating[np.argmin(n[violating])])
            if worst == 0:
                pair = 0
            elif worst == g.shape[0] - 1:
                pair = worst - 1
            else:
                pair = worst - 1 if chi2[worst - 1] <= chi2[worst] else worst
        else:
            break
        g[pair] += g[pair + 1]
        b[pair] += b[pair + 1]
        g = np.delete(g, pair + 1)
        b = np.delete(b, pair + 1)
        del starts[pair + 1]
    return starts[1:]


# --------------------------------------------------------------------------------------------
# Input checks


def _as_target(y: Any, n: int) -> FloatArray:
    if y is None:
        raise InvalidInput("y", "requires y to be passed, but the target y is None")
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InvalidInput("y", f"the target must be one-dimensional, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise InvalidInput("y", f"the target has {arr.shape[0]} rows, the feature {n}")
    if arr.dtype == np.bool_:
        return arr.astype(np.float64)
    try:
        out = arr.astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("y", "the target must be 0 (good) / 1 (bad)") from exc
    if not ((out == 0.0) | (out == 1.0)).all():
        raise InvalidInput("y", "the target must be 0 (good) / 1 (bad), without missing values")
    return out


def _as_float_1d(x: Any, field: str = "x") -> FloatArray:
    if isinstance(x, pl.Series):
        x = x.cast(pl.Float64, strict=False).to_numpy()
    elif isinstance(x, pl.DataFrame):
        if x.width != 1:
            raise InvalidInput(field, f"expected one column, got {x.width}")
        x = x.to_series().cast(pl.Float64, strict=False).to_numpy()
    arr = np.asarray(x)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InvalidInput(field, f"expected one feature (1-D), got shape {arr.shape}")
    if arr.dtype == np.float64:
        return arr
    if arr.dtype == object:  # the slow path by nature: Python objects, one at a time
        is_none = np.vectorize(lambda v: v is None, otypes=[np.bool_])(arr)
        arr = np.where(is_none, np.nan, arr)
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(field, "a numeric feature must hold numbers (or NaN/None)") from exc


def _as_string_series(x: Any, field: str = "x") -> pl.Series:
    if isinstance(x, pl.DataFrame):
        if x.width != 1:
            raise InvalidInput(field, f"expected one column, got {x.width}")
        x = x.to_series()
    if isinstance(x, pl.Series):
        series = x
    else:
        arr = np.asarray(x, dtype=object)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise InvalidInput(field, f"expected one feature (1-D), got shape {arr.shape}")
        values = [
            None if v is None or (isinstance(v, float) and math.isnan(v)) else v
            for v in arr.tolist()
        ]
        series = pl.Series(field, values, dtype=pl.String, strict=False)
    if series.dtype != pl.String:
        series = series.cast(pl.String, strict=False)
    return series


def _check_common(est: _BinnerBase) -> None:
    if not isinstance(est.max_bins, int | np.integer) or est.max_bins < 1:
        raise InvalidInput("max_bins", "must be an integer >= 1")
    if not isinstance(est.prebins, int | np.integer) or est.prebins < 1:
        raise InvalidInput("prebins", "must be an integer >= 1")
    if not 0.0 <= est.min_bin_share < 1.0:
        raise InvalidInput("min_bin_share", "must be in [0, 1)")
    if est.min_bads < 0 or est.min_goods < 0:
        raise InvalidInput("min_bads", "min_bads and min_goods must be >= 0")
    if not est.woe_smoothing > 0.0:
        raise InvalidInput("woe_smoothing", "must be > 0 (keeps the WOE of pure bins finite)")
    if est.method not in ("optimal", "chimerge"):
        raise InvalidInput("method", "must be 'optimal' or 'chimerge'")
    if est.special_policy not in _POLICIES:
        raise InvalidInput("special_policy", f"must be one of {_POLICIES}")
    if not est.chi2_threshold >= 0.0:
        raise InvalidInput("chi2_threshold", "must be >= 0")


def _concat(groups: Sequence[list[str]]) -> list[str]:
    return list(itertools.chain.from_iterable(groups))


def _label_number(v: float) -> str:
    return f"{v:.6g}"


# --------------------------------------------------------------------------------------------
# One feature


class _BinnerBase(BaseEstimator):  # type: ignore[misc]
    """Shared fitting of merged bins, statistics, table and transform of one feature."""

    max_bins: int
    prebins: int
    min_bin_share: float
    min_bads: float
    min_goods: float
    special_values: Sequence[Any]
    method: str
    woe_smoothing: float
    special_policy: str
    chi2_threshold: float
    auto_unimodal_gain: float

    # learned
    counts_: IntArray
    bads_: FloatArray
    goods_: FloatArray
    woe_: FloatArray
    woe_used_: FloatArray
    bin_iv_: FloatArray
    event_rate_: FloatArray
    labels_: list[str]
    kinds_: list[str]
    iv_: float
    trend_: str | None
    n_regular_: int

    def _merge(
        self,
        goods: FloatArray,
        bads: FloatArray,
        *,
        trend: str | None,
        extra_goods: FloatArray,
        extra_bads: FloatArray,
        n_total: int,
    ) -> tuple[list[int], str | None]:
        """Cut positions over the pre-bins and the trend used."""
        if goods.shape[0] <= 1:
            return [], "ascending" if trend == "auto" else trend
        constraints: dict[str, Any] = {
            "min_count": self.min_bin_share * n_total,
            "min_bads": float(self.min_bads),
            "min_goods": float(self.min_goods),
        }
        base_cuts: list[int] = []
        if self.method == "chimerge":
            base_cuts = chimerge_partition(
                goods,
                bads,
                max_bins=int(self.max_bins),
                threshold=float(self.chi2_threshold),
                **constraints,
            )
            if trend is None:
                return base_cuts, None
            goods = np.add.reduceat(goods, [0, *base_cuts])
            bads = np.add.reduceat(bads, [0, *base_cuts])

        def programme(shape: str | None) -> _PartitionDP:
            return _PartitionDP(
                goods,
                bads,
                shape=shape,
                max_bins=int(self.max_bins),
                smoothing=float(self.woe_smoothing),
                extra_goods=extra_goods,
                extra_bads=extra_bads,
                **constraints,
            )

        nothing: tuple[list[int], float] = ([], _NEG)
        if trend == "auto":
            together = programme("auto")
            shapes = {
                name: together.best(ends) or nothing for name, ends in _AUTO_END_PHASES.items()
            }
            used = max(("ascending", "descending"), key=lambda t: shapes[t][1])
            unimodal = max(("peak", "valley"), key=lambda t: shapes[t][1])
            mono_iv, uni_iv = shapes[used][1], shapes[unimodal][1]
            gain = float(self.auto_unimodal_gain)
            if uni_iv > _NEG and (mono_iv == _NEG or uni_iv > mono_iv * (1.0 + gain) + 1e-12):
                used = unimodal
            cuts: list[int] = shapes[used][0]
            chosen: str | None = used
        else:
            ends = [0, 1] if trend in ("peak", "valley") else [0]
            cuts = (programme(trend).best(ends) or nothing)[0]
            chosen = trend
        if self.method == "chimerge":
            cuts = [base_cuts[c - 1] for c in cuts]
        return cuts, chosen

    def _finish(
        self,
        goods: FloatArray,
        bads: FloatArray,
        labels: list[str],
        kinds: list[str],
        n_total: int,
    ) -> None:
        """Statistics of the final bins, special policy, totals."""
        smoothing = float(self.woe_smoothing)
        woe, bin_iv = bin_statistics(goods, bads, smoothing=smoothing)
        counts = goods + bads
        kinds_arr = np.asarray(kinds)
        regular = kinds_arr == "regular"
        woe_used = woe.copy()
        thin = ~regular & ((counts < self.min_bin_share * n_total) | (counts == 0))
        if thin.any() and self.special_policy != "own":
            woe_used[thin] = 0.0 if self.special_policy == "neutral" else woe[regular].min()
        # a special or missing bin that saw no row at all carries no evidence: average risk
        # (WOE 0), whatever the policy — its smoothed WOE would be ln(B/G), a 50 % event rate
        woe_used[~regular & (counts == 0)] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            event_rate = np.where(counts > 0, bads / counts, np.nan)
        self.counts_ = counts.astype(np.int64)
        self.goods_ = goods
        self.bads_ = bads
        self.woe_ = woe
        self.woe_used_ = woe_used
        self.bin_iv_ = bin_iv
        self.event_rate_ = event_rate
        self.labels_ = labels
        self.kinds_ = kinds
        self.iv_ = float(bin_iv.sum())
        self.n_regular_ = int(regular.sum())

    def binning_table(self) -> pl.DataFrame:
        """The binning table (分箱表): one row per bin; total IV in ``iv_``."""
        self._check_fitted()
        n = self.counts_.sum()
        return pl.DataFrame(
            {
                "bin": np.arange(self.counts_.shape[0], dtype=np.int64),
                "label": self.labels_,
                "kind": self.kinds_,
                "count": self.counts_,
                "share": self.counts_ / n if n else np.zeros(self.counts_.shape[0]),
                "goods": self.goods_.astype(np.int64),
                "bads": self.bads_.astype(np.int64),
                "event_rate": self.event_rate_,
                "woe": self.woe_,
                "woe_used": self.woe_used_,
                "iv": self.bin_iv_,
            },
            nan_to_null=False,
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "counts_"):
            raise InvalidInput("binner", "not fitted: call fit(x, y) first")

    def _bin_index(self, x: Any) -> npt.NDArray[np.integer[Any]]:
        raise NotImplementedError

    def transform(self, x: Any, *, metric: str = "woe") -> FloatArray | IntArray:
        """Map values to their bin's WOE (default: ``woe_used_``), bin index or event rate.

        The event rate of an empty bin (a special code or missing value never seen at fit) is
        NaN; its WOE follows ``special_policy``.
        """
        self._check_fitted()
        if metric not in _METRICS:
            raise InvalidInput("metric", f"must be one of {_METRICS}")
        idx = self._bin_index(x)
        if metric == "bin":
            return idx.astype(np.int64)
        table = self.woe_used_ if metric == "woe" else self.event_rate_
        out: FloatArray = table[idx]
        return out

    def _transform_into(self, x: Any, out: npt.NDArray[Any], *, metric: str) -> None:
        """``transform`` written straight into ``out`` (a column of Binning's matrix)."""
        idx = self._bin_index(x)
        if metric == "bin":
            out[:] = idx
            return
        table = self.woe_used_ if metric == "woe" else self.event_rate_
        np.take(table, idx, out=out)

    def fit_transform(self, x: Any, y: Any, *, metric: str = "woe") -> FloatArray | IntArray:
        """``fit(x, y)`` then ``transform(x)``."""
        return self.fit(x, y).transform(x, metric=metric)

    def fit(self, x: Any, y: Any) -> Self:  # pragma: no cover - overridden
        raise NotImplementedError


class NumericBinner(_BinnerBase):
    """Optimal binning of one numeric feature (数值型最优分箱); see the module docstring.

    Parameters (every threshold with its default):

    * ``max_bins=8`` — most regular bins.
    * ``prebins=20`` — quantile pre-bins (or the most distinct values with ``"unique"``).
    * ``prebinning="quantile"`` | ``"unique"``.
    * ``min_bin_share=0.05`` — least share of all rows in a regular bin; also the size under
      which a special/missing bin follows ``special_policy``.
    * ``min_bads=1``, ``min_goods=1`` — least bads / goods in a regular bin.
    * ``monotonic_trend="auto"`` | ``"ascending"`` | ``"descending"`` | ``"peak"`` |
      ``"valley"`` | ``None`` — trend of the event rate of the regular bins.
    * ``special_values=()`` — codes such as −999 that get one bin each.
    * ``method="optimal"`` | ``"chimerge"``; ``chi2_threshold=3.841`` (ChiMerge only).
    * ``woe_smoothing=0.5`` — pseudo-count added to goods and bads of every bin.
    * ``auto_unimodal_gain=0.1`` — relative IV gain a peak/valley needs under ``"auto"``.
    * ``special_policy="own"`` | ``"neutral"`` | ``"worst"``.
    * ``keep_fit_data=True`` — keep the sorted regular values (8 bytes a row) so that manual
      breaks off the pre-bin edges are counted exactly; with ``False`` only pre-bin edges can
      be chosen in :meth:`with_breaks`.

    Learned: ``breaks_`` (inner cut points, ascending), ``trend_``, ``iv_``, ``prebin_edges_``
    and ``prebin_goods_``/``prebin_bads_`` (kept for :meth:`with_breaks`), per-bin
    ``counts_``, ``goods_``, ``bads_``, ``event_rate_``, ``woe_``, ``woe_used_``, ``labels_``.
    """

    def __init__(
        self,
        *,
        max_bins: int = 8,
        prebins: int = 20,
        prebinning: Literal["quantile", "unique"] = "quantile",
        min_bin_share: float = 0.05,
        min_bads: float = 1,
        min_goods: float = 1,
        monotonic_trend: str | None = "auto",
        special_values: Sequence[float] = (),
        method: Literal["optimal", "chimerge"] = "optimal",
        woe_smoothing: float = 0.5,
        auto_unimodal_gain: float = 0.1,
        special_policy: Literal["own", "neutral", "worst"] = "own",
        chi2_threshold: float = 3.841,
        keep_fit_data: bool = True,
    ) -> None:
        self.max_bins = max_bins
        self.prebins = prebins
        self.prebinning = prebinning
        self.keep_fit_data = keep_fit_data
        self.min_bin_share = min_bin_share
        self.min_bads = min_bads
        self.min_goods = min_goods
        self.monotonic_trend = monotonic_trend
        self.special_values = special_values
        self.method = method
        self.woe_smoothing = woe_smoothing
        self.auto_unimodal_gain = auto_unimodal_gain
        self.special_policy = special_policy
        self.chi2_threshold = chi2_threshold

    breaks_: FloatArray
    prebin_edges_: FloatArray
    prebin_goods_: FloatArray
    prebin_bads_: FloatArray
    specials_: FloatArray
    breaks_source_: str

    def _validate(self) -> FloatArray:
        _check_common(self)
        if self.prebinning not in ("quantile", "unique"):
            raise InvalidInput("prebinning", "must be 'quantile' or 'unique'")
        if self.monotonic_trend is not None and self.monotonic_trend not in _TRENDS:
            raise InvalidInput("monotonic_trend", f"must be None or one of {_TRENDS}")
        try:
            specials = np.asarray(list(self.special_values), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInput("special_values", "numeric special codes expected") from exc
        if specials.ndim != 1 or not np.isfinite(specials).all():
            raise InvalidInput("special_values", "special codes must be finite numbers")
        if np.unique(specials).shape[0] != specials.shape[0]:
            raise InvalidInput("special_values", "special codes must be distinct")
        return specials

    def fit(self, x: Any, y: Any) -> Self:
        """Pre-bin, merge optimally (or by ChiMerge), and compute the table."""
        specials = self._validate()
        xf = _as_float_1d(x)
        yf = _as_target(y, xf.shape[0])
        n_total = xf.shape[0]
        if n_total == 0:
            raise InvalidInput("x", "no rows to fit")
        # One sort of all values and one of the bads' values (NaN sorts last); special codes
        # and NaN are then contiguous runs, counted by searchsorted and cut out.
        ordered = np.sort(xf)
        bad_ordered = np.sort(xf[yf == 1.0])
        n_valid = int(np.searchsorted(ordered, np.inf, side="right"))
        n_valid_bad = int(np.searchsorted(bad_ordered, np.inf, side="right"))
        counts = np.zeros(specials.shape[0] + 1)
        extra_bads = np.zeros(specials.shape[0] + 1)
        counts[-1] = n_total - n_valid
        extra_bads[-1] = bad_ordered.shape[0] - n_valid_bad
        ordered, bad_ordered = ordered[:n_valid], bad_ordered[:n_valid_bad]
        for k, code in enumerate(specials):
            lo = int(np.searchsorted(ordered, code, side="left"))
            hi = int(np.searchsorted(ordered, code, side="right"))
            blo = int(np.searchsorted(bad_ordered, code, side="left"))
            bhi = int(np.searchsorted(bad_ordered, code, side="right"))
            counts[k], extra_bads[k] = hi - lo, bhi - blo
            if hi > lo:
                ordered = np.concatenate((ordered[:lo], ordered[hi:]))
            if bhi > blo:
                bad_ordered = np.concatenate((bad_ordered[:blo], bad_ordered[bhi:]))
        extra_goods = counts - extra_bads
        edges, pre_goods, pre_bads = self._prebin(ordered, bad_ordered)
        self.specials_ = specials
        self.prebin_edges_ = edges
        self.prebin_goods_ = pre_goods
        self.prebin_bads_ = pre_bads
        # kept for manual breaks that are not pre-bin edges: the sorted regular values
        self._fit_sorted: FloatArray | None = ordered if self.keep_fit_data else None
        self._fit_sorted_bads: FloatArray | None = bad_ordered if self.keep_fit_data else None
        self._extra_goods = extra_goods
        self._extra_bads = extra_bads
        cuts, trend = self._merge(
            pre_goods,
            pre_bads,
            trend=self.monotonic_trend,
            extra_goods=extra_goods,
            extra_bads=extra_bads,
            n_total=n_total,
        )
        self.trend_ = trend
        self.breaks_source_ = "prebins"
        self._set_breaks(edges[np.asarray(cuts, dtype=np.int64) - 1] if cuts else edges[:0])
        return self

    def _prebin(
        self, ordered: FloatArray, bad_ordered: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Inner cut points of the pre-bins and their goods/bads (empty pre-bins dropped).

        ``ordered`` and ``bad_ordered`` are the sorted regular values of all rows and of the
        bads. Quantiles are read from the sorted array (linear interpolation, NumPy's default)
        and pre-bin counts are ``searchsorted`` of the cut points into the sorted arrays —
        cheaper than locating every row.
        """
        if ordered.shape[0] == 0:
            return np.empty(0), np.zeros(1), np.zeros(1)
        if self.prebinning == "unique":
            distinct = np.flatnonzero(np.diff(ordered) > 0) + 1
            if distinct.shape[0] + 1 > self.prebins:
                raise InvalidInput(
                    "prebinning",
                    f"'unique' found {distinct.shape[0] + 1} distinct values, more than "
                    f"prebins={self.prebins}; raise prebins or use 'quantile'",
                )
            cuts = ordered[distinct]
        else:
            levels = np.linspace(0.0, 1.0, int(self.prebins) + 1)[1:-1]
            position = levels * (ordered.shape[0] - 1)
            below = np.floor(position).astype(np.int64)
            above = np.minimum(below + 1, ordered.shape[0] - 1)
            weight = position - below
            quantiles = ordered[below] + (ordered[above] - ordered[below]) * weight
            cuts = np.unique(quantiles)
        counts, bads = self._count_sorted(cuts, ordered, bad_ordered)
        nonempty = counts > 0
        if not nonempty.all():
            starts = np.flatnonzero(nonempty)[1:]  # pre-bins kept after the first one
            cuts = cuts[starts - 1]
            counts, bads = counts[nonempty], bads[nonempty]
        return cuts, counts - bads, bads

    @staticmethod
    def _count_sorted(
        cuts: FloatArray, ordered: FloatArray, bad_ordered: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Rows and bads in (-inf, c1), [c1, c2), …, [ck, inf) from sorted values."""
        less = np.searchsorted(ordered, cuts, side="left").astype(np.float64)
        less_bad = np.searchsorted(bad_ordered, cuts, side="left").astype(np.float64)
        counts = np.diff(less, prepend=0.0, append=float(ordered.shape[0]))
        bads = np.diff(less_bad, prepend=0.0, append=float(bad_ordered.shape[0]))
        return counts, bads

    def _set_breaks(self, breaks: FloatArray) -> None:
        """Regular-bin counts for these breaks, from the pre-bins or from the kept fit data."""
        breaks = np.asarray(breaks, dtype=np.float64)
        on_edges = np.isin(breaks, self.prebin_edges_).all()
        if on_edges:
            positions = np.searchsorted(self.prebin_edges_, breaks) + 1
            starts = np.concatenate(([0], positions)).astype(np.int64)
            goods = np.add.reduceat(self.prebin_goods_, starts)
            bads = np.add.reduceat(self.prebin_bads_, starts)
        else:
            if self._fit_sorted is None or self._fit_sorted_bads is None:
                raise InvalidInput(
                    "breaks",
                    "a break is not a pre-bin edge (prebin_edges_) and the fit data was not "
                    "kept (keep_fit_data=False)",
                )
            self.breaks_source_ = "fit_data"
            counts, bads = self._count_sorted(breaks, self._fit_sorted, self._fit_sorted_bads)
            goods = counts - bads
        self.breaks_ = breaks
        bounds = [-np.inf, *breaks.tolist(), np.inf]
        labels = [
            ("(" if lo == -np.inf else "[") + f"{_label_number(lo)}, {_label_number(hi)})"
            for lo, hi in itertools.pairwise(bounds)
        ]
        labels += [f"special {_label_number(v)}" for v in self.specials_]
        labels.append("missing")
        kinds = ["regular"] * (breaks.shape[0] + 1) + ["special"] * self.specials_.shape[0]
        kinds.append("missing")
        n_total = int(goods.sum() + bads.sum() + self._extra_goods.sum() + self._extra_bads.sum())
        self._finish(
            np.concatenate((goods, self._extra_goods)),
            np.concatenate((bads, self._extra_bads)),
            labels,
            kinds,
            n_total,
        )

    def with_breaks(self, breaks: Sequence[float]) -> NumericBinner:
        """A copy with manual breaks (手工调整分箱); the table is recomputed at once.

        Counts come from the kept pre-bin counts when every break is a pre-bin edge
        (``breaks_source_ == "prebins"``), otherwise from the kept regular values of the fit
        data (``"fit_data"``). ``trend_`` becomes ``"manual"``.
        """
        self._check_fitted()
        arr = np.asarray(list(breaks), dtype=np.float64)
        if arr.ndim != 1 or not np.isfinite(arr).all():
            raise InvalidInput("breaks", "breaks must be finite numbers")
        if arr.size and not (np.diff(arr) > 0).all():
            raise InvalidInput("breaks", "breaks must be strictly increasing")
        out = copy.deepcopy(self)
        out.breaks_source_ = "prebins"
        out._set_breaks(arr)
        out.trend_ = "manual"
        return out

    def _bin_index(self, x: Any) -> npt.NDArray[np.integer[Any]]:
        xf = _as_float_1d(x)
        # Counting the breaks at or below x is several times faster than np.searchsorted on
        # unsorted rows for the handful of breaks a scorecard has.
        n_bins = self.counts_.shape[0]
        small = np.int8 if n_bins < 127 else np.int64
        idx: npt.NDArray[np.integer[Any]] = np.zeros(xf.shape[0], dtype=small)
        for cut in self.breaks_:
            idx += xf >= cut
        n_regular = self.breaks_.shape[0] + 1
        for k, code in enumerate(self.specials_):
            idx[xf == code] = n_regular + k
        idx[np.isnan(xf)] = n_regular + self.specials_.shape[0]
        return idx


class CategoricalBinner(_BinnerBase):
    """Optimal grouping of one categorical feature (类别型最优分箱); see the module docstring.

    Parameters as :class:`NumericBinner` (no ``prebinning``/``monotonic_trend``: the levels
    are ordered by smoothed event rate and merged ascending in that order), plus
    ``min_category_share=0.01`` — levels rarer than this share of all rows are pooled into
    ``__other__``. ``prebins=20``: when more level groups remain, contiguous levels (in
    event-rate order) are first grouped into ``prebins`` groups of about equal count.

    Learned: ``groups_`` (levels of each regular bin), ``unseen_to_`` (bin of unseen levels),
    ``pooled_levels_`` (the rare levels in ``__other__``), plus the per-bin arrays.
    """

    def __init__(
        self,
        *,
        max_bins: int = 8,
        prebins: int = 20,
        min_category_share: float = 0.01,
        min_bin_share: float = 0.05,
        min_bads: float = 1,
        min_goods: float = 1,
        special_values: Sequence[str] = (),
        method: Literal["optimal", "chimerge"] = "optimal",
        woe_smoothing: float = 0.5,
        special_policy: Literal["own", "neutral", "worst"] = "own",
        chi2_threshold: float = 3.841,
    ) -> None:
        self.max_bins = max_bins
        self.prebins = prebins
        self.min_category_share = min_category_share
        self.min_bin_share = min_bin_share
        self.min_bads = min_bads
        self.min_goods = min_goods
        self.special_values = special_values
        self.method = method
        self.woe_smoothing = woe_smoothing
        self.special_policy = special_policy
        self.chi2_threshold = chi2_threshold

    auto_unimodal_gain = 0.0
    groups_: list[list[str]]
    unseen_to_: int
    pooled_levels_: list[str]
    specials_: list[str]
    level_goods_: dict[str, float]
    level_bads_: dict[str, float]

    def fit(self, x: Any, y: Any) -> Self:
        """Pool rare levels, order by smoothed event rate, merge contiguously."""
        _check_common(self)
        if not 0.0 <= self.min_category_share < 1.0:
            raise InvalidInput("min_category_share", "must be in [0, 1)")
        specials = [str(v) for v in self.special_values]
        if len(set(specials)) != len(specials):
            raise InvalidInput("special_values", "special codes must be distinct")
        series = _as_string_series(x)
        yf = _as_target(y, series.len())
        n_total = series.len()
        if n_total == 0:
            raise InvalidInput("x", "no rows to fit")
        stats = (
            pl.DataFrame({"level": series, "y": yf})
            .group_by("level")
            .agg(n=pl.len(), bads=pl.col("y").sum())
        )
        level_n: dict[str | None, float] = dict(
            zip(stats["level"].to_list(), stats["n"].cast(pl.Float64).to_list(), strict=True)
        )
        level_b: dict[str | None, float] = dict(
            zip(stats["level"].to_list(), stats["bads"].to_list(), strict=True)
        )
        missing_n = level_n.pop(None, 0.0)
        missing_b = level_b.pop(None, 0.0)
        extra_goods = []
        extra_bads = []
        for code in specials:
            n_code = level_n.pop(code, 0.0)
            b_code = level_b.pop(code, 0.0)
            extra_goods.append(n_code - b_code)
            extra_bads.append(b_code)
        extra_goods.append(missing_n - missing_b)
        extra_bads.append(missing_b)
        self.specials_ = specials
        self.level_goods_ = {str(k): v - level_b[k] for k, v in level_n.items()}
        self.level_bads_ = {str(k): level_b[k] for k in level_n}
        self._extra_goods = np.asarray(extra_goods, dtype=np.float64)
        self._extra_bads = np.asarray(extra_bads, dtype=np.float64)
        self._n_total = n_total

        rare = sorted(lv for lv, n in self._level_counts() if n < self.min_category_share * n_total)
        self.pooled_levels_ = rare
        units: list[list[str]] = [[lv] for lv, _ in sorted(self._level_counts()) if lv not in rare]
        if rare:
            units.append(rare)
        s = float(self.woe_smoothing)
        unit_g = np.array([sum(self.level_goods_[lv] for lv in u) for u in units])
        unit_b = np.array([sum(self.level_bads_[lv] for lv in u) for u in units])
        if units:
            rate = (unit_b + s) / (unit_g + unit_b + 2 * s)
            order = sorted(range(len(units)), key=lambda i: (rate[i], units[i][0]))
            units = [units[i] for i in order]
            unit_g, unit_b = unit_g[order], unit_b[order]
        if len(units) > self.prebins:
            counts = unit_g + unit_b
            before = np.concatenate(([0.0], np.cumsum(counts)[:-1])) / counts.sum()
            group = np.minimum((before * self.prebins).astype(np.int64), self.prebins - 1)
            _, first = np.unique(group, return_index=True)
            bounds = [*first.tolist(), len(units)]
            units = [_concat(units[a:b]) for a, b in itertools.pairwise(bounds)]
            unit_g = np.add.reduceat(unit_g, first)
            unit_b = np.add.reduceat(unit_b, first)
        self._units = units
        self._unit_g = unit_g
        self._unit_b = unit_b
        if units:
            cuts, _ = self._merge(
                unit_g.astype(np.float64),
                unit_b.astype(np.float64),
                trend="ascending",
                extra_goods=self._extra_goods,
                extra_bads=self._extra_bads,
                n_total=n_total,
            )
        else:
            cuts = []
        bounds = [0, *cuts, len(units)]
        groups = [_concat(units[a:b]) for a, b in itertools.pairwise(bounds)]
        self._set_groups(groups if groups else [[]])
        self.trend_ = "ascending"
        return self

    def _level_counts(self) -> list[tuple[str, float]]:
        """(level, count) of the regular levels seen at fit."""
        return [(lv, g + self.level_bads_[lv]) for lv, g in self.level_goods_.items()]

    def _set_groups(self, groups: list[list[str]]) -> None:
        goods = np.array([sum(self.level_goods_.get(lv, 0.0) for lv in grp) for grp in groups])
        bads = np.array([sum(self.level_bads_.get(lv, 0.0) for lv in grp) for grp in groups])
        self.groups_ = groups
        mapping = {lv: i for i, grp in enumerate(groups) for lv in grp}
        self._mapping = mapping
        if self.pooled_levels_ and self.pooled_levels_[0] in mapping:
            self.unseen_to_ = mapping[self.pooled_levels_[0]]
        else:
            self.unseen_to_ = int(np.argmax(goods + bads))
        labels = []
        for i, grp in enumerate(groups):
            pooled = set(self.pooled_levels_)
            shown = [lv for lv in grp if lv not in pooled]
            if pooled & set(grp):
                shown.append(OTHER_LEVEL)
            label = ", ".join(shown) if shown else "(none)"
            if i == self.unseen_to_:
                label += " (+unseen)"
            labels.append(label)
        labels += [f"special {v}" for v in self.specials_]
        labels.append("missing")
        kinds = ["regular"] * len(groups) + ["special"] * len(self.specials_) + ["missing"]
        self._finish(
            np.concatenate((goods, self._extra_goods)),
            np.concatenate((bads, self._extra_bads)),
            labels,
            kinds,
            self._n_total,
        )

    def with_breaks(self, breaks: Sequence[Sequence[str]]) -> CategoricalBinner:
        """A copy with manual groups of levels (手工调整分组); each seen level in one group.

        Rare levels pooled in ``__other__`` move together: name ``"__other__"`` in a group.
        """
        self._check_fitted()
        pooled = set(self.pooled_levels_)
        groups: list[list[str]] = []
        seen: set[str] = set()
        for grp in breaks:
            members: list[str] = []
            for lv in grp:
                names = sorted(pooled) if lv == OTHER_LEVEL and pooled else [str(lv)]
                for name in names:
                    if name in seen:
                        raise InvalidInput("breaks", f"level {name!r} is in two groups")
                    seen.add(name)
                    members.append(name)
            groups.append(members)
        known = set(self.level_goods_)
        if seen != known:
            missing = sorted(known - seen)[:5]
            unknown = sorted(seen - known)[:5]
            raise InvalidInput(
                "breaks",
                f"groups must cover the fitted levels exactly (missing {missing}, "
                f"unknown {unknown})",
            )
        out = copy.deepcopy(self)
        out._set_groups([g for g in groups if g] or [[]])
        out.trend_ = "manual"
        return out

    def _bin_index(self, x: Any) -> IntArray:
        series = _as_string_series(x)
        n_groups = len(self.groups_)
        mapping: dict[str, int] = dict(self._mapping)
        for k, code in enumerate(self.specials_):
            mapping[code] = n_groups + k
        missing_bin = n_groups + len(self.specials_)
        idx = series.replace_strict(
            mapping, default=self.unseen_to_, return_dtype=pl.Int64
        ).to_numpy()
        if series.null_count():
            idx = np.where(series.is_null().to_numpy(), missing_bin, idx)
        return np.asarray(idx, dtype=np.int64)


# --------------------------------------------------------------------------------------------
# Many features

_NUMERIC_PARAMS = frozenset(NumericBinner().get_params())
_CATEGORICAL_PARAMS = frozenset(CategoricalBinner().get_params())
_BINNER_PARAMS = _NUMERIC_PARAMS | _CATEGORICAL_PARAMS


def _columns(
    frame: Any, names: Sequence[str] | None
) -> tuple[list[str], Callable[[str], Any], Callable[[str], bool], bool]:
    """Column names, a column getter, an is-categorical test, and whether X is an array.

    A NumPy array's columns are named by ``names`` (which must then match its width) or
    ``x0``, ``x1``, ….
    """
    if isinstance(frame, pl.DataFrame):
        return (
            frame.columns,
            lambda c: frame.get_column(c),
            lambda c: not frame.schema[c].is_numeric(),
            False,
        )
    if hasattr(frame, "columns") and hasattr(frame, "iloc"):  # pandas
        cols = [str(c) for c in frame.columns]
        lookup = dict(zip(cols, frame.columns, strict=True))

        def pandas_is_cat(c: str) -> bool:
            kind = getattr(frame[lookup[c]].dtype, "kind", "O")
            return kind not in "biuf"

        return cols, lambda c: frame[lookup[c]].to_numpy(), pandas_is_cat, False
    try:
        # scikit-learn's own checks: no sparse or complex input, at least one row and column
        arr = check_array(
            frame,
            accept_sparse=False,
            dtype=None,
            ensure_all_finite=False,
            ensure_min_samples=1,
            ensure_min_features=1,
        )
    except ValueError as exc:
        raise InvalidInput("X", str(exc)) from exc
    except TypeError as exc:
        raise InvalidInput("X", str(exc)) from exc
    if arr.dtype.kind == "c":
        raise InvalidInput("X", "complex data not supported")
    if names is not None:
        if len(names) != arr.shape[1]:
            raise InvalidInput(
                "features",
                f"for a NumPy array, features names its {arr.shape[1]} columns; "
                f"got {len(names)} names",
            )
        cols = [str(c) for c in names]
    else:
        cols = [f"x{i}" for i in range(arr.shape[1])]
    index = {c: i for i, c in enumerate(cols)}
    numeric = arr.dtype.kind in "biuf"

    def is_cat(c: str) -> bool:
        if numeric:
            return False
        try:  # an object array: a column is categorical when it does not hold numbers
            arr[:, index[c]].astype(np.float64)
        except (TypeError, ValueError):
            return True
        return False

    return cols, lambda c: arr[:, index[c]], is_cat, True


class Binning(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Bin many features and transform them to WOE (批量分箱与WOE转换).

    ``features`` — columns to bin, in output order (default: every column); ``categorical`` —
    columns binned as categories (default: the non-numeric columns); ``params_by_feature`` —
    ``{feature: {param: value}}`` overriding the defaults; ``n_jobs=2`` — threads over
    features (``-1`` = one per CPU); ``**defaults`` — binner parameters for every feature
    (those a binner kind does not take are ignored for it, e.g. ``monotonic_trend`` for
    categories).

    Input: a Polars or pandas frame, or a 2-D NumPy array (columns ``x0``, ``x1``, … or the
    names in ``features`` when they match the width). Learned: ``features_``, ``binners_``
    (feature → fitted binner), ``iv_`` (feature → IV), ``n_features_in_``.
    """

    def __init__(
        self,
        features: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        params_by_feature: Mapping[str, Mapping[str, Any]] | None = None,
        n_jobs: int | None = 2,
        **defaults: Any,
    ) -> None:
        self.features = features
        self.categorical = categorical
        self.params_by_feature = params_by_feature
        self.n_jobs = n_jobs
        for key, value in defaults.items():
            setattr(self, key, value)

    features_: list[str]
    binners_: dict[str, NumericBinner | CategoricalBinner]
    iv_: dict[str, float]
    n_features_in_: int
    feature_names_in_: npt.NDArray[np.object_]

    def get_params(self, deep: bool = True) -> dict[str, Any]:  # noqa: FBT001, FBT002
        """Constructor parameters, including the binner defaults given as keywords."""
        params: dict[str, Any] = super().get_params(deep=deep)
        params.update(self._defaults())
        return params

    def set_params(self, **params: Any) -> Self:
        """Set constructor parameters or binner defaults (checked at fit, like ``__init__``)."""
        own_names = set(super().get_params(deep=False))
        for key, value in params.items():
            if key not in own_names:
                setattr(self, key, value)
        super().set_params(**{k: v for k, v in params.items() if k in own_names})
        return self

    def __sklearn_tags__(self) -> Tags:
        """scikit-learn tags: NaN allowed (the missing bin), a binary target required.

        ``classifier_tags(multi_class=False)`` is how scikit-learn's checks learn that the
        target must be binary (they then pass a 0/1 target); the estimator stays a
        transformer. String columns are binned as categories.
        """
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.target_tags.required = True
        tags.classifier_tags = ClassifierTags(multi_class=False)
        return tags

    def _defaults(self) -> dict[str, Any]:
        """The ``**defaults`` given at construction: public attributes that are not learned."""
        own_names = set(super().get_params(deep=False))
        return {
            k: v
            for k, v in sorted(self.__dict__.items())
            if not k.startswith("_") and not k.endswith("_") and k not in own_names
        }

    def _workers(self) -> int:
        if self.n_jobs is None:
            return 1
        if self.n_jobs == -1:
            return os.cpu_count() or 1
        if not isinstance(self.n_jobs, int | np.integer) or self.n_jobs < 1:
            raise InvalidInput("n_jobs", "must be a positive integer, -1 or None")
        return int(self.n_jobs)

    def _map(self, func: Callable[[str], Any], items: list[str]) -> list[Any]:
        workers = min(self._workers(), max(len(items), 1))
        if workers == 1:
            return [func(i) for i in items]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(func, items))

    def fit(self, X: Any, y: Any) -> Self:  # noqa: N803 - scikit-learn naming
        """Fit one binner per feature."""
        cols, get, is_cat, is_array = _columns(X, self.features)
        if not cols:
            raise InvalidInput("X", "no columns")
        features = list(cols)
        if self.features is not None and not is_array:
            features = [str(f) for f in self.features]
            absent = [f for f in features if f not in cols]
            if absent:
                raise InvalidInput("features", f"not in the data: {absent[:5]}")
        categorical = (
            {f for f in features if is_cat(f)}
            if self.categorical is None
            else {str(c) for c in self.categorical}
        )
        unknown = categorical - set(features)
        if self.categorical is not None and unknown:
            raise InvalidInput("categorical", f"not among the features: {sorted(unknown)[:5]}")
        defaults = self._defaults()
        unknown_defaults = set(defaults) - _BINNER_PARAMS
        if unknown_defaults:
            raise InvalidInput("defaults", f"unknown binner parameters: {sorted(unknown_defaults)}")
        per_feature = dict(self.params_by_feature or {})
        stray = set(per_feature) - set(features)
        if stray:
            raise InvalidInput("params_by_feature", f"unknown features: {sorted(stray)[:5]}")
        n_rows = len(get(features[0]))
        target = _as_target(y, n_rows)

        def make(feature: str) -> NumericBinner | CategoricalBinner:
            names = _CATEGORICAL_PARAMS if feature in categorical else _NUMERIC_PARAMS
            params = {k: v for k, v in defaults.items() if k in names}
            extra = dict(per_feature.get(feature, {}))
            bad = set(extra) - names
            if bad:
                raise InvalidInput(
                    "params_by_feature", f"{feature}: unknown parameters {sorted(bad)}"
                )
            params.update(extra)
            binner: NumericBinner | CategoricalBinner = (
                CategoricalBinner(**params) if feature in categorical else NumericBinner(**params)
            )
            try:
                return binner.fit(get(feature), target)
            except InvalidInput as exc:
                raise InvalidInput(f"{feature}.{exc.field}", exc.message) from exc

        binners = self._map(make, features)
        self.features_ = features
        self.binners_ = dict(zip(features, binners, strict=True))
        self.iv_ = {f: b.iv_ for f, b in self.binners_.items()}
        self.n_features_in_ = len(cols)
        if not is_array:
            self.feature_names_in_ = np.asarray(cols, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "binners_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("Binning is not fitted: call fit(X, y) first")

    def transform(
        self,
        X: Any,  # noqa: N803 - scikit-learn naming
        *,
        metric: str = "woe",
        as_frame: bool = False,
    ) -> Any:
        """WOE (or bin index / event rate) of every feature, columns in ``features_`` order.

        Returns a float64 NumPy matrix (Fortran order: one contiguous column per feature;
        int64 for ``metric="bin"``) or, with ``as_frame=True``, a Polars frame.
        """
        self._check_fitted()
        if metric not in _METRICS:
            raise InvalidInput("metric", f"must be one of {_METRICS}")
        is_frame = isinstance(X, pl.DataFrame) or (hasattr(X, "columns") and hasattr(X, "iloc"))
        shape = tuple(getattr(X, "shape", ())) if not is_frame else ()
        if len(shape) == 2 and shape[1] != self.n_features_in_:
            raise InvalidInput(
                "X",
                f"X has {shape[1]} features, but Binning is expecting "
                f"{self.n_features_in_} features as input",
            )
        cols, get, _, _ = _columns(X, self.features)
        absent = [f for f in self.features_ if f not in cols]
        if absent:
            raise InvalidInput("X", f"missing feature columns: {absent[:5]}")
        n_rows = len(get(self.features_[0]))
        dtype = np.int64 if metric == "bin" else np.float64
        out = np.empty((n_rows, len(self.features_)), dtype=dtype, order="F")

        def fill(j_feature: str) -> None:
            j = self.features_.index(j_feature)
            self.binners_[j_feature]._transform_into(get(j_feature), out[:, j], metric=metric)

        self._map(fill, self.features_)
        if as_frame:
            return pl.DataFrame(
                {f: out[:, j] for j, f in enumerate(self.features_)}, nan_to_null=False
            )
        return out

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:  # noqa: N803
        """``fit(X, y)`` then ``transform(X)``."""
        return self.fit(X, y).transform(X, **fit_params)

    def get_feature_names_out(self, input_features: Any = None) -> npt.NDArray[np.object_]:
        """Names of the output columns (the binned features, in order)."""
        self._check_fitted()
        return np.asarray(self.features_, dtype=object)

    def tables(self) -> dict[str, pl.DataFrame]:
        """Binning table of every feature."""
        self._check_fitted()
        return {f: b.binning_table() for f, b in self.binners_.items()}

    def summary(self) -> pl.DataFrame:
        """One row per feature: kind, number of bins, IV, trend (sorted as ``features_``)."""
        self._check_fitted()
        return pl.DataFrame(
            {
                "feature": self.features_,
                "kind": [
                    "categorical" if isinstance(b, CategoricalBinner) else "numeric"
                    for b in self.binners_.values()
                ],
                "n_bins": [b.n_regular_ for b in self.binners_.values()],
                "iv": [b.iv_ for b in self.binners_.values()],
                "trend": [b.trend_ for b in self.binners_.values()],
            }
        )
