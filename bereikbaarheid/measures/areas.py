"""The areas a profile reports on (the region, then each municipality) and
each area's residents sorted by a value, for the weighted statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd

# (level, code, name, cells): ``cells`` are ascending row positions.
Area = tuple[str, str, str, np.ndarray]


def areas(cells: pd.DataFrame, region_code: str, region_name: str) -> list[Area]:
    """The region (every cell), then each municipality by ``municipality_code``."""
    out: list[Area] = [("region", region_code, region_name, np.arange(len(cells)))]
    grouped = cells.groupby("municipality_code", sort=True)
    positions = grouped.indices
    for code, name in grouped["municipality_name"].first().items():
        out.append(("municipality", code, name, np.asarray(positions[code], np.int64)))
    return out


def sorted_by_area(values: np.ndarray, weights: np.ndarray, area_list: list[Area],
                   keep: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per area, the values that count and their weights, by value.

    What counts: a finite value with a finite weight > 0 (and ``keep``, when
    given). Each pair is :func:`bereikbaarheid.measures.equity.sorted_valid`
    of the area's own cells, for the ``presorted`` statistics. It is made by
    one stable sort of every cell, then a stable sort by area: within an
    area the cells stay in (value, position) order, which is the order
    sorting the area alone gives, so every statistic is the same to the
    last bit, while the cost no longer grows with the number of areas.
    The first area must be every cell (see :func:`areas`), the others
    disjoint.
    """
    x, w = values, weights
    ok = np.isfinite(x) & np.isfinite(w) & (w > 0)
    if keep is not None:
        ok &= keep
    valid = np.flatnonzero(ok)
    pos = valid[np.argsort(x[valid], kind="stable")]
    out = [(x[pos], w[pos])]
    area_of = np.full(len(x), len(area_list), np.int64)
    for i, (_, _, _, cells) in enumerate(area_list[1:]):
        area_of[cells] = i
    by_area = pos[np.argsort(area_of[pos], kind="stable")]
    bounds = np.searchsorted(area_of[by_area], np.arange(len(area_list)))
    for i in range(len(area_list) - 1):
        p = by_area[bounds[i]:bounds[i + 1]]
        out.append((x[p], w[p]))
    return out
