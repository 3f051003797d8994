"""The engine's CBS-comparable distances laid beside CBS's own published proximity figures."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..config import Settings
from ..sources import grid

# |engine - published| up to this counts as agreeing: CBS publishes to 0.1 km
# and links addresses, not cell centres, to the network.
AGREEMENT_M = 500.0
AREA_COLUMNS: tuple[str, ...] = (
    "level", "code", "name", "type", "n_cells_compared", "population_compared",
    "mean_engine_m", "mean_published_m", "mean_difference_m", "mean_abs_difference_m",
    "ratio_engine_to_published", "correlation", "spearman", "share_within_500m",
)
# Correlations need at least this many cells.
_MIN_CELLS_CORRELATION = 3


def compare_cells(cells: pd.DataFrame, settings: Settings,
                  columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Per cell, CBS's published distance and the engine's difference from it.

    Parameters
    ----------
    cells
        Cell table with the engine's ``{type}_cbs_distance_m`` columns
        (:func:`bereikbaarheid.measures.access.compute_access`) and the grid's
        CBS columns, as :func:`bereikbaarheid.sources.grid.read_grid` keeps
        them.
    settings
        ``facility_types`` (their order) and ``missing_below`` (CBS
        suppression codes).
    columns
        CBS column of each facility type's distance in km.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``cells``; for every type with both columns,
        ``{type}_cbs_published_m`` (CBS km x 1000; NaN when missing or
        suppressed) and ``{type}_cbs_difference_m`` (engine minus
        published; NaN when either is unknown). No columns when the grid
        carries no CBS distance.
    """
    out: dict[str, np.ndarray] = {}
    columns = settings.cbs_distance_columns if columns is None else columns
    for ftype in _compared_types(cells, settings, columns):
        published = _published_m(cells, columns[ftype], settings)
        engine = cells[f"{ftype}_cbs_distance_m"].to_numpy(np.float64)
        out[f"{ftype}_cbs_published_m"] = published
        out[f"{ftype}_cbs_difference_m"] = engine - published
    return pd.DataFrame(out, index=cells.index)


def compare_areas(cells: pd.DataFrame, settings: Settings, region_code: str, region_name: str,
                  columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Per area and type, how the engine's distances agree with CBS's.

    A cell is compared when both distances are known and it has
    inhabitants. Means are weighted by ``aantal_inwoners``, as CBS averages
    over persons; correlations are over the compared cells, unweighted.

    Parameters
    ----------
    cells
        As for :func:`compare_cells`, with ``municipality_code``,
        ``municipality_name`` and ``aantal_inwoners`` (missing counts as 0).
    settings
        ``facility_types`` (their order) and ``missing_below``.
    region_code, region_name
        Identify the region row.
    columns
        CBS column of each facility type's distance in km.

    Returns
    -------
    pandas.DataFrame
        Columns ``AREA_COLUMNS``; one row per (area, type): the region first,
        then the municipalities by code, types in settings order.
        ``mean_difference_m`` is engine minus published and
        ``ratio_engine_to_published`` the ratio of the two means;
        ``correlation`` (Pearson) and ``spearman`` are NaN with fewer than
        three compared cells or when either side does not vary;
        ``share_within_500m`` is the population share whose distances differ
        by at most 500 m. No rows when the grid carries no CBS distance.
    """
    columns = settings.cbs_distance_columns if columns is None else columns
    types = _compared_types(cells, settings, columns)
    areas: list[tuple[str, str, str, np.ndarray]] = [
        ("region", region_code, region_name, np.ones(len(cells), bool))]
    codes = cells["municipality_code"]
    names = cells.groupby("municipality_code", sort=True)["municipality_name"].first()
    for code, name in names.items():
        areas.append(("municipality", code, name, (codes == code).to_numpy()))
    population = np.nan_to_num(cells[grid.POPULATION_COLUMN].to_numpy(np.float64), nan=0.0)

    pairs = {ftype: (cells[f"{ftype}_cbs_distance_m"].to_numpy(np.float64),
                     _published_m(cells, columns[ftype], settings)) for ftype in types}
    rows = []
    for level, code, name, in_area in areas:
        for ftype in types:
            engine, published = pairs[ftype]
            ok = in_area & np.isfinite(engine) & np.isfinite(published) & (population > 0)
            rows.append({"level": level, "code": code, "name": name, "type": ftype,
                         **_agreement(engine[ok], published[ok], population[ok])})
    return pd.DataFrame(rows, columns=list(AREA_COLUMNS))


def _compared_types(cells: pd.DataFrame, settings: Settings,
                    columns: Mapping[str, str]) -> list[str]:
    """Types, in settings order, with both a CBS column and an engine column."""
    return [t for t in settings.facility_types
            if t in columns and columns[t] in cells and f"{t}_cbs_distance_m" in cells]


def _published_m(cells: pd.DataFrame, column: str, settings: Settings) -> np.ndarray:
    """CBS's distance in metres; NaN where missing or a suppression code."""
    km = pd.to_numeric(cells[column], errors="coerce").to_numpy(np.float64)
    return np.where(km < settings.missing_below, np.nan, km * 1000.0)


def _agreement(engine: np.ndarray, published: np.ndarray, weight: np.ndarray) -> dict:
    """The statistics of one area and type over its compared cells."""
    total = float(weight.sum())
    difference = engine - published

    def mean(values: np.ndarray) -> float:
        return float(np.dot(values, weight) / total) if total > 0 else np.nan

    mean_engine, mean_published = mean(engine), mean(published)
    varies = (len(engine) >= _MIN_CELLS_CORRELATION and np.ptp(engine) > 0
              and np.ptp(published) > 0)
    return {
        "n_cells_compared": len(engine),
        "population_compared": total,
        "mean_engine_m": mean_engine,
        "mean_published_m": mean_published,
        "mean_difference_m": mean(difference),
        "mean_abs_difference_m": mean(np.abs(difference)),
        "ratio_engine_to_published": (mean_engine / mean_published
                                      if mean_published > 0 else np.nan),
        "correlation": float(np.corrcoef(engine, published)[0, 1]) if varies else np.nan,
        "spearman": float(stats.spearmanr(engine, published).statistic) if varies else np.nan,
        "share_within_500m": mean((np.abs(difference) <= AGREEMENT_M).astype(np.float64)),
    }
