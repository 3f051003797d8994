"""Cross-border or the Netherlands only: the two facility scopes side by side, per area."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import FACILITY_SCOPES, Settings
from ..sources import grid
from . import areas, equity

# Column-name tag of each scope: ``gp_car_nl_only_time_s``.
SCOPE_TAGS: dict[str, str] = {"cross-border": "cross_border", "nl-only": "nl_only"}

BORDER_COLUMNS: tuple[str, ...] = (
    "level", "code", "name", "type", "mode", "population", "population_compared",
    "mean_time_cross_border_s", "mean_time_nl_only_s", "mean_difference_s",
    "max_difference_s", "median_time_cross_border_s", "median_time_nl_only_s",
    "share_within_norm_cross_border", "share_within_norm_nl_only",
    "population_nearest_abroad", "share_nearest_abroad",
)


def other_scope(scope: str) -> str:
    """The scope a profile in ``scope`` is compared with."""
    return FACILITY_SCOPES[1 - FACILITY_SCOPES.index(scope)]


def scope_time_columns(table: pd.DataFrame, scope: str) -> pd.DataFrame:
    """The travel-time columns of an access table computed in ``scope``, renamed
    ``{type}_{mode}_{tag}_time_s`` (e.g. ``gp_car_nl_only_time_s``)."""
    tag = SCOPE_TAGS[scope]
    times = [c for c in table.columns if c.endswith("_time_s")]
    return table[times].rename(columns={c: f"{c.removesuffix('_time_s')}_{tag}_time_s"
                                        for c in times})


def compare_scopes(cells: pd.DataFrame, settings: Settings, region_code: str,
                   region_name: str) -> pd.DataFrame:
    """Per area, type and mode: travel times with facilities across the border
    counted and without, and who has a nearer facility abroad.

    Parameters
    ----------
    cells
        Cell table with ``municipality_code``, ``municipality_name``,
        ``aantal_inwoners``, the travel times of ``settings.facility_scope``
        (``{type}_{mode}_time_s``) and of the other scope
        (``{type}_{mode}_{tag}_time_s``, see :func:`scope_time_columns`).
    settings
        ``facility_scope``, ``facility_types``, ``modes`` and ``norm_min``.
    region_code, region_name
        Identify the region row.

    Returns
    -------
    pandas.DataFrame
        ``BORDER_COLUMNS``: the region row, then one per municipality by code,
        for every type and computed mode. Means, medians and the difference
        (nl-only minus cross-border, never negative) are population-weighted
        over the cells that reach a facility in both scopes
        (``population_compared``); shares within the norm are of the whole
        population, the unreached counting as beyond. A resident's nearest
        facility lies abroad when the cross-border time is strictly shorter
        (or only the cross-border scope reaches one).
    """
    other = other_scope(settings.facility_scope)
    population = np.nan_to_num(cells[grid.POPULATION_COLUMN].to_numpy(np.float64), nan=0.0)
    area_list = areas.areas(cells, region_code, region_name)
    rows: list[list[dict]] = [[] for _ in area_list]  # per area: by type, then mode
    for ftype in settings.facility_types:
        norm_s = settings.norm_min[ftype] * 60.0
        for mode in settings.modes:
            main_col = f"{ftype}_{mode}_time_s"
            other_col = f"{ftype}_{mode}_{SCOPE_TAGS[other]}_time_s"
            if main_col not in cells or other_col not in cells:
                continue
            times = {settings.facility_scope: cells[main_col].to_numpy(np.float64),
                     other: cells[other_col].to_numpy(np.float64)}
            cross, nl = times["cross-border"], times["nl-only"]
            # The medians are over the residents both scopes reach.
            sorted_cross = areas.sorted_by_area(cross, population, area_list, np.isfinite(nl))
            sorted_nl = areas.sorted_by_area(nl, population, area_list, np.isfinite(cross))
            for area_rows, (level, code, name, area), by_cross, by_nl in zip(
                    rows, area_list, sorted_cross, sorted_nl):
                area_rows.append(_row(level, code, name, ftype, mode, area, population,
                                      cross, nl, norm_s, by_cross, by_nl))
    return pd.DataFrame([row for area_rows in rows for row in area_rows],
                        columns=list(BORDER_COLUMNS))


def _row(level, code, name, ftype, mode, area, population, cross, nl, norm_s, by_cross,
         by_nl) -> dict:
    """One area's row; ``by_cross`` and ``by_nl``: the compared residents'
    times and weights in each scope, by time (for the medians)."""
    w = population[area]
    cross, nl = cross[area], nl[area]
    both = np.isfinite(cross) & np.isfinite(nl)
    abroad = np.where(np.isfinite(nl), cross < nl, np.isfinite(cross))
    total = w.sum()
    wb = w[both]
    compared = wb.sum()

    def mean(v: np.ndarray) -> float:
        return float(np.dot(v, wb) / compared) if compared > 0 else np.nan

    def share(mask: np.ndarray) -> float:
        return float(w[mask].sum() / total) if total > 0 else np.nan

    diff = nl[both] - cross[both]
    return {
        "level": level, "code": code, "name": name, "type": ftype, "mode": mode,
        "population": float(total), "population_compared": float(compared),
        "mean_time_cross_border_s": mean(cross[both]),
        "mean_time_nl_only_s": mean(nl[both]),
        "mean_difference_s": mean(diff),
        "max_difference_s": float(diff[wb > 0].max()) if (wb > 0).any() else np.nan,
        "median_time_cross_border_s": equity.weighted_quantile(*by_cross, 0.5,
                                                               presorted=True),
        "median_time_nl_only_s": equity.weighted_quantile(*by_nl, 0.5, presorted=True),
        "share_within_norm_cross_border": share(np.isfinite(cross) & (cross <= norm_s)),
        "share_within_norm_nl_only": share(np.isfinite(nl) & (nl <= norm_s)),
        "population_nearest_abroad": float(w[abroad].sum()),
        "share_nearest_abroad": share(abroad),
    }
