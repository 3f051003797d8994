"""Accessibility profiles: population-weighted summaries per region and municipality,
the areas table (their polygons beside the summary) and facility coordinates."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .config import Settings
from .measures import areas as area_table
from .measures import equity
from .sources import grid

POPULATION = grid.POPULATION_COLUMN
# The age groups every profile row reports beside everyone.
AGE_GROUPS: dict[str, str] = {band: grid.AGE_BANDS[band] for band in ("0_14", "65_plus")}


def summarise(
    cells: pd.DataFrame, region_code: str, region_name: str, settings: Settings
) -> pd.DataFrame:
    """One row per (area, type, mode): the region first, then each municipality.

    Parameters
    ----------
    cells
        Cell table with ``municipality_code``, ``municipality_name``, the CBS
        population columns and the access columns of
        :func:`bereikbaarheid.measures.access.compute_access`.
    region_code, region_name
        Identify the region row.
    settings
        Types, modes and thresholds.

    Notes
    -----
    Suppressed (missing) population counts as 0. Time statistics (mean,
    median, p90, Gini, Palma) are over the population that reaches a
    facility; the population that is unlinked or reaches none is reported
    beside them. Shares within a threshold are of the whole population
    (group), so the unreached count as "not within"; shares beyond the type's
    norm (``norm_min``) count them as beyond. ``..._vs_analysed_area``
    compares each row with the same statistic over every cell passed in (the
    analysed area): the median as a ratio, the share beyond the norm as a
    difference.
    """
    areas = area_table.areas(cells, region_code, region_name)
    # Modes that were computed (public transport is skipped without a feed).
    modes = [m for m in settings.modes if f"{m}_link_m" in cells]
    weights = {"all": _weights(cells, POPULATION)}
    weights.update({g: _weights(cells, col) for g, col in AGE_GROUPS.items()})
    rows: list[list[dict]] = [[] for _ in areas]  # per area: by type, then mode
    for ftype in settings.facility_types:
        cbs = cells[f"{ftype}_cbs_distance_m"].to_numpy(np.float64) if (
            f"{ftype}_cbs_distance_m" in cells) else np.full(len(cells), np.nan)
        norm_s = settings.norm_min[ftype] * 60.0
        for mode in modes:
            time_s = cells[f"{ftype}_{mode}_time_s"].to_numpy(np.float64)
            linked = cells[f"{mode}_link_m"].notna().to_numpy()
            ordered = area_table.sorted_by_area(time_s, weights["all"], areas)
            # Every cell of the run is the analysed area each row is compared with.
            median_all = equity.weighted_quantile(*ordered[0], 0.5, presorted=True)
            beyond_all = _shares_beyond(areas[0][3], time_s, weights, norm_s)["share_beyond_norm"]
            for area_rows, (level, code, name, area), (x, w) in zip(rows, areas, ordered):
                row = _area_row(level, code, name, ftype, mode, area, time_s,
                                linked, cbs, weights, settings.thresholds_min, x, w)
                row.update(_equity(area, time_s, weights, norm_s, x, w))
                row["median_time_vs_analysed_area"] = (
                    row["median_time_s"] / median_all if median_all > 0 else np.nan)
                row["share_beyond_norm_vs_analysed_area"] = row["share_beyond_norm"] - beyond_all
                area_rows.append(row)
    return pd.DataFrame([row for area_rows in rows for row in area_rows])


def _shares_beyond(area: np.ndarray, time_s: np.ndarray, weights: dict[str, np.ndarray],
                   norm_s: float) -> dict[str, float]:
    """Shares (all, 0-14, 65+) beyond the norm; unlinked and unreached count as beyond."""
    t = time_s[area]
    beyond = ~(np.where(np.isfinite(t), t, np.inf) <= norm_s)
    out = {}
    for group, column in (("all", "share_beyond_norm"), ("0_14", "share_0_14_beyond_norm"),
                          ("65_plus", "share_65_plus_beyond_norm")):
        w = weights[group][area]
        out[column] = float(w[beyond].sum() / w.sum()) if w.sum() > 0 else np.nan
    return out


def _equity(area: np.ndarray, time_s: np.ndarray, weights: dict[str, np.ndarray],
            norm_s: float, x: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """Inequality of travel time among the residents who reach a facility
    (``x``, ``w``: their times and weights, by time) and the shares beyond the norm."""
    out = {"gini_time": equity.gini(x, w, presorted=True),
           "palma_time": equity.palma(x, w, presorted=True)}
    out.update(_shares_beyond(area, time_s, weights, norm_s))
    return out


def _area_row(level, code, name, ftype, mode, area, time_s, linked, cbs, weights,
              thresholds_min, x, w_sorted) -> dict:
    w = weights["all"][area]
    t = time_s[area]
    reached = np.isfinite(t)
    row = {
        "level": level, "area_code": code, "area_name": name,
        "type": ftype, "mode": mode,
        "n_cells": len(area),
        "n_cells_unlinked": int((~linked[area]).sum()),
        "n_cells_unreachable": int((linked[area] & ~reached).sum()),
        "population": float(w.sum()),
        "population_0_14": float(weights["0_14"][area].sum()),
        "population_65_plus": float(weights["65_plus"][area].sum()),
        "population_unlinked": float(w[~linked[area]].sum()),
        "population_unreachable": float(w[linked[area] & ~reached].sum()),
        "mean_time_s": _weighted_mean(t[reached], w[reached]),
        "median_time_s": equity.weighted_quantile(x, w_sorted, 0.5, presorted=True),
        "p90_time_s": equity.weighted_quantile(x, w_sorted, 0.9, presorted=True),
    }
    for group, prefix in (("all", "share"), ("0_14", "share_0_14"),
                          ("65_plus", "share_65_plus")):
        gw = weights[group][area]
        total = gw.sum()
        for minutes in thresholds_min:
            within = reached & (np.where(reached, t, np.inf) <= minutes * 60.0)
            row[f"{prefix}_within_{minutes}min"] = (
                float(gw[within].sum() / total) if total > 0 else np.nan)
    c = cbs[area]
    ok = np.isfinite(c)
    row["mean_cbs_distance_m"] = _weighted_mean(c[ok], w[ok])
    return row


def _weights(cells: pd.DataFrame, column: str) -> np.ndarray:
    if column not in cells:
        return np.zeros(len(cells))
    return np.nan_to_num(cells[column].to_numpy(np.float64), nan=0.0)


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    total = weights.sum()
    return float(np.dot(values, weights) / total) if total > 0 else np.nan


def with_coordinates(table: pd.DataFrame, facilities: gpd.GeoDataFrame) -> pd.DataFrame:
    """``table`` (one row per facility) with each facility's ``x``, ``y``
    (the run's CRS) and ``lon``, ``lat`` (WGS84, 7 decimals) after ``name``."""
    where = pd.DataFrame(facilities[["facility_id", "type", "x", "y"]]).set_index(
        ["facility_id", "type"])
    xy = where.reindex(pd.MultiIndex.from_frame(table[["facility_id", "type"]]))
    x, y = xy["x"].to_numpy(np.float64), xy["y"].to_numpy(np.float64)
    lon, lat = to_wgs84(x, y, facilities.crs)
    at = list(table.columns).index("name") + 1
    out = table.copy()
    for offset, (name, values) in enumerate((("x", x), ("y", y), ("lon", lon), ("lat", lat))):
        out.insert(at + offset, name, values)
    return out


def to_wgs84(x: np.ndarray, y: np.ndarray,
             crs: Any = "EPSG:28992") -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (WGS84, 7 decimals: about 1 cm) of points in ``crs``."""
    transformer = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = transformer.transform(np.asarray(x, np.float64), np.asarray(y, np.float64))
    return np.round(np.asarray(lon, np.float64), 7), np.round(np.asarray(lat, np.float64), 7)


def areas_table(summary: pd.DataFrame, capacity_areas: pd.DataFrame | None,
                region_polygon: Any, all_munis: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per area of ``summary`` (the region, then its municipalities
    by code) with its polygon and, side by side, its travel times per type
    and mode and its capacity per type: the table of ``areas.parquet``.

    The region's polygon is the region; a municipality's is its whole
    polygon of the boundary file, also where the region holds only part of it.
    """
    keys = ["level", "area_code"]
    rows = summary.drop_duplicates(keys)[
        keys + ["area_name", "population", "population_0_14", "population_65_plus"]]
    rows = rows.reset_index(drop=True)
    index = pd.MultiIndex.from_frame(rows[keys])
    polygons = dict(zip(all_munis["code"], all_munis.geometry))
    shapes = np.array([region_polygon if level == "region" else polygons[code]
                       for level, code in zip(rows["level"], rows["area_code"])], dtype=object)
    rows.insert(3, "area_km2", np.round(shapely.area(shapes) / 1e6, 3))
    inside = shapely.point_on_surface(shapes)
    lon, lat = to_wgs84(shapely.get_x(inside), shapely.get_y(inside), all_munis.crs)
    columns: dict[str, Any] = {"lon": lon, "lat": lat}
    for (ftype, mode), group in summary.groupby(["type", "mode"], sort=False):
        row = group.set_index(keys).reindex(index)
        beyond = row["share_beyond_norm"].to_numpy(np.float64)
        columns[f"{ftype}_{mode}_median_time_s"] = row["median_time_s"].to_numpy(np.float64)
        columns[f"{ftype}_{mode}_p90_time_s"] = row["p90_time_s"].to_numpy(np.float64)
        columns[f"{ftype}_{mode}_share_within_norm"] = np.round(1.0 - beyond, 6)
        columns[f"{ftype}_{mode}_share_beyond_norm"] = beyond
    if capacity_areas is not None:
        for ftype, group in capacity_areas.groupby("type", sort=False):
            row = group.set_index(keys).reindex(index)
            for name in ("demand", "capacity", "gap"):
                columns[f"{ftype}_{name}"] = row[name].to_numpy(np.float64)
        gp = capacity_areas[capacity_areas["type"] == "gp"]
        if len(gp):
            columns["gp_fte_shortfall"] = (
                gp.set_index(keys).reindex(index)["fte_shortfall"].to_numpy(np.float64))
    table = pd.concat([rows, pd.DataFrame(columns)], axis=1)
    return gpd.GeoDataFrame(table, geometry=shapes, crs=all_munis.crs)
