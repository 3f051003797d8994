"""Inequality of access across residents: population-weighted Gini, Palma ratio and quantiles of travel time."""

from __future__ import annotations

import numpy as np


def sorted_valid(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The entries that count (finite value, finite weight > 0), by value.

    The sort is stable, so the result is what each function below sorts
    itself: pass it with ``presorted=True`` to sort once for several
    statistics of the same values, with the same result to the last bit.
    """
    x, w = _valid(values, weights)
    order = np.argsort(x, kind="stable")
    return x[order], w[order]


def gini(values: np.ndarray, weights: np.ndarray, presorted: bool = False) -> float:
    """Population-weighted Gini coefficient of ``values`` (e.g. travel times).

    ``sum_ij w_i w_j |x_i - x_j| / (2 W^2 mean)``: 0 when everyone has the same
    time, towards 1 when a few residents carry all of it. Entries with zero
    weight or a non-finite value do not count; NaN when nothing is left or the
    mean is 0. ``presorted``: ``values`` and ``weights`` come from
    :func:`sorted_valid`.
    """
    x, w = (values, weights) if presorted else sorted_valid(values, weights)
    if len(x) == 0:
        return np.nan
    total_w = w.sum()
    wx = w * x
    total_wx = wx.sum()
    if total_wx <= 0:
        return np.nan
    cum_w = np.cumsum(w)          # weight up to and including i
    cum_wx = np.cumsum(wx)
    below_w, below_wx = cum_w - w, cum_wx - wx
    # Sum over j of w_j |x_i - x_j|, for sorted x: those below and those above i.
    spread = (x * below_w - below_wx) + ((total_wx - cum_wx) - x * (total_w - cum_w))
    return float(np.dot(w, spread) / (2.0 * total_w * total_wx))


def palma(values: np.ndarray, weights: np.ndarray, presorted: bool = False) -> float:
    """Palma ratio of ``values``: the total held by the 10 % of residents with the
    highest values over the total of the 40 % with the lowest.

    For travel time, how much longer the worst-off tenth travel than the
    best-off four tenths together. Cells straddling the 40 % or 90 % mark count
    with the fraction of their residents on each side. Entries with zero weight
    or a non-finite value do not count; NaN when nothing is left or the
    bottom 40 % total is 0. ``presorted`` as for :func:`gini`.
    """
    x, w = (values, weights) if presorted else sorted_valid(values, weights)
    if len(x) == 0:
        return np.nan
    share = w / w.sum()
    cum = np.cumsum(share)
    bottom = np.dot(x, np.clip(np.minimum(cum, 0.4) - (cum - share), 0.0, None))
    top = np.dot(x, np.clip(cum - np.maximum(cum - share, 0.9), 0.0, None))
    return float(top / bottom) if bottom > 0 else np.nan


def _valid(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values, np.float64)
    w = np.asarray(weights, np.float64)
    keep = np.isfinite(x) & np.isfinite(w) & (w > 0)
    return x[keep], w[keep]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float,
                      presorted: bool = False) -> float:
    """Smallest value whose cumulative weight share reaches ``q`` (inverse CDF).

    Cells with zero weight do not count. NaN when the total weight is 0.
    ``presorted`` as for :func:`gini` (the values are then finite).
    """
    if not presorted:
        keep = weights > 0
        values, weights = values[keep], weights[keep]
        order = np.argsort(values, kind="stable")
        values, weights = values[order], weights[order]
    if len(values) == 0:
        return np.nan
    cum = np.cumsum(weights)
    i = int(np.searchsorted(cum, q * cum[-1] * (1 - 1e-12), side="left"))
    return float(values[min(i, len(values) - 1)])
