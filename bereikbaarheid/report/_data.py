"""Reading a profile folder for the report: only what the folder holds, old schemas included."""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError

logger = logging.getLogger(__name__)

POPULATION = "aantal_inwoners"
MODE_ORDER = ("walk", "bike", "car", "pt")
TYPE_ORDER = ("gp", "school", "supermarket")
DEFAULT_THRESHOLDS_MIN = (5, 10, 15, 30)
DEFAULT_NORM_MIN = 15.0
_CELL_ID = re.compile(r"^E(\d+)N(\d+)$")
_PT_PERCENTILE = re.compile(r"^(?P<type>.+)_pt_time_p(?P<p>\d+)_s$")


@dataclass
class Profile:
    """The tables of one profile folder that the report shows.

    ``cells`` holds only the columns the report needs (ids, centroids,
    population, travel times, PT percentiles); optional tables are None when
    the folder lacks them (older schema versions, or the run did not make
    them).
    """

    folder: Path
    manifest: dict[str, Any]
    cells: pd.DataFrame
    summary: pd.DataFrame
    types: list[str]
    modes: dict[str, list[str]]  # per type, the modes with a time column
    resolution_m: float
    capacity: pd.DataFrame | None = None
    facilities: pd.DataFrame | None = None
    areas: Any = None  # GeoDataFrame of areas.parquet, or None
    border: pd.DataFrame | None = None
    cbs: pd.DataFrame | None = None
    diff_cells: pd.DataFrame | None = None
    diff_summary: pd.DataFrame | None = None
    diff_capacity: pd.DataFrame | None = None
    diff_facilities: pd.DataFrame | None = None
    closures: pd.DataFrame | None = None  # closure_impact.csv, when written
    pt_percentiles: dict[str, list[int]] = field(default_factory=dict)

    @property
    def settings(self) -> dict[str, Any]:
        return self.manifest.get("settings") or {}

    @property
    def region(self) -> str:
        return str(self.manifest.get("region") or self.folder.name)

    @property
    def scenario(self) -> dict[str, Any] | None:
        scenario = self.manifest.get("scenario")
        return scenario if isinstance(scenario, dict) else None

    @property
    def date(self) -> str:
        """The day the profile was made (``YYYY-MM-DD``), or empty."""
        return str(self.manifest.get("created_at") or "")[:10]

    @property
    def version(self) -> str:
        packages = self.manifest.get("packages") or {}
        return str(self.manifest.get("version") or packages.get("bereikbaarheid") or "?")

    @property
    def thresholds_min(self) -> list[float]:
        values = self.settings.get("thresholds_min") or DEFAULT_THRESHOLDS_MIN
        return sorted(float(v) for v in values)

    def norm_min(self, ftype: str) -> float:
        norms = self.settings.get("norm_min")
        if isinstance(norms, dict) and ftype in norms:
            return float(norms[ftype])
        if isinstance(norms, (int, float)):
            return float(norms)
        return DEFAULT_NORM_MIN

    @property
    def all_modes(self) -> list[str]:
        """Every mode of any type, in the usual order."""
        present = {m for modes in self.modes.values() for m in modes}
        return [m for m in _ordered(present, MODE_ORDER)]

    def facility_points(self, ftype: str) -> pd.DataFrame | None:
        """``facility_id``, ``name``, ``x``, ``y`` of the facilities of a type,
        or None when the profile holds no coordinates (schema before 1.5.0)."""
        table = self.facilities
        if table is None or not {"x", "y"} <= set(table.columns):
            return None
        rows = table[table["type"] == ftype]
        rows = rows[np.isfinite(rows["x"].to_numpy(float)) & np.isfinite(rows["y"].to_numpy(float))]
        return rows.loc[:, ["facility_id", "name", "x", "y"]].reset_index(drop=True)

    def municipality_shapes(self):
        """The municipality rows of areas.parquet, or None."""
        if self.areas is None or "level" not in self.areas.columns:
            return None
        shapes = self.areas[self.areas["level"] == "municipality"]
        return shapes if len(shapes) else None

    def population(self) -> np.ndarray:
        """Residents per cell; suppressed (NaN) counts as 0, as in the summary."""
        return np.nan_to_num(self.cells[POPULATION].to_numpy(np.float64), nan=0.0)


def load(folder: str | Path) -> Profile:
    """Read the profile folder ``folder``.

    Raises
    ------
    InputError
        Naming the folder when it is no profile (no manifest.json), or the
        file that cannot be read.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "not a folder; expected a profile folder "
                                 "(with manifest.json, cells.parquet and summary.csv)")
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(folder, "no manifest.json; expected a profile folder written by "
                                 "bereikbaarheid run, demo or scenario")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(manifest_path, f"cannot read: {exc}; expected the profile's "
                                        "manifest (JSON)") from None
    if not isinstance(manifest, dict):
        raise InputError(manifest_path, "not a JSON object; expected the profile's manifest")
    summary = _read_csv(folder / "summary.csv", required=True)
    for column in ("level", "area_code", "type", "mode", "median_time_s", "share_beyond_norm"):
        if column not in summary.columns:
            raise InputError(folder / "summary.csv", f"column {column!r} missing; expected the "
                                                     "summary table of a profile")
    cells, types, modes, percentiles = _read_cells(folder / "cells.parquet", manifest)
    profile = Profile(folder=folder, manifest=manifest, cells=cells, summary=summary,
                      types=types, modes=modes, resolution_m=_resolution(manifest, cells),
                      pt_percentiles=percentiles)
    profile.capacity = _read_csv(folder / "capacity.csv")
    profile.facilities = _read_csv(folder / "facilities.csv")
    profile.border = _read_csv(folder / "border.csv")
    profile.cbs = _read_csv(folder / "cbs_comparison.csv")
    profile.areas = _read_areas(folder / "areas.parquet")
    profile.closures = _read_csv(folder / "closure_impact.csv")
    if profile.scenario is not None:
        profile.diff_summary = _read_csv(folder / "diff_summary.csv")
        profile.diff_capacity = _read_csv(folder / "diff_capacity.csv")
        profile.diff_facilities = _read_csv(folder / "diff_facilities.csv")
        profile.diff_cells = _read_diff_cells(folder / "diff_cells.parquet", profile)
    logger.debug(f"read {folder}: {len(cells)} cells, types {types}, modes {modes}")
    return profile


def _ordered(names, order) -> list[str]:
    known = [n for n in order if n in names]
    return known + sorted(n for n in names if n not in order)


def _read_csv(path: Path, required: bool = False) -> pd.DataFrame | None:
    if not path.is_file():
        if required:
            raise InputError(path, "file not found; expected the summary table of a profile")
        return None
    try:
        return pd.read_csv(path, keep_default_na=True, na_values=[""])
    except pd.errors.EmptyDataError:
        return None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read: {exc}; expected a CSV table of a profile") from None


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except FileNotFoundError:
        raise InputError(path, "file not found; expected the cells of a profile "
                               "(GeoParquet)") from None
    except (OSError, ValueError) as exc:
        raise InputError(path, f"cannot read: {exc}; expected a Parquet file") from None


def _read_parquet(path: Path, columns: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, columns=columns).to_pandas()
    except (OSError, ValueError) as exc:
        raise InputError(path, f"cannot read: {exc}; expected a Parquet file") from None


def _read_cells(path: Path, manifest: dict[str, Any]):
    names = _parquet_columns(path)
    settings = manifest.get("settings") or {}
    for column in ("x", "y"):
        if column not in names:
            raise InputError(path, f"column {column!r} missing; expected the cells of a profile "
                                   "with their centroids x, y")
    time_columns = [c for c in names if c.endswith("_time_s") and "_nl_only_" not in c
                    and "_cross_border_" not in c and not _PT_PERCENTILE.match(c)]
    pairs = {}
    for column in time_columns:
        stem = column[:-len("_time_s")]
        ftype, _, mode = stem.rpartition("_")
        if ftype and mode:
            pairs.setdefault(ftype, set()).add(mode)
    types = _ordered(set(pairs), list(settings.get("facility_types") or TYPE_ORDER))
    modes = {t: _ordered(pairs[t], list(settings.get("modes") or MODE_ORDER)) for t in types}
    percentiles: dict[str, list[int]] = {}
    for column in names:
        match = _PT_PERCENTILE.match(column)
        if match and match["type"] in pairs:
            percentiles.setdefault(match["type"], []).append(int(match["p"]))
    wanted = ["cell_id", "municipality_code", "x", "y", POPULATION]
    wanted = [c for c in wanted if c in names]
    wanted += [f"{t}_{m}_time_s" for t in types for m in modes[t]]
    wanted += [f"{t}_pt_time_p{p}_s" for t, ps in percentiles.items() for p in ps]
    cells = _read_parquet(path, wanted)
    if POPULATION not in cells.columns:
        cells[POPULATION] = np.nan
    return cells, types, modes, {t: sorted(p) for t, p in percentiles.items()}


def _resolution(manifest: dict[str, Any], cells: pd.DataFrame) -> float:
    """The cell size in metres: the manifest's grid resolution, else the
    smallest spacing of the centroids."""
    grid = manifest.get("grid") or {}
    value = grid.get("resolution_m")
    if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
        return float(value)
    for column in ("x", "y"):
        steps = np.diff(np.unique(cells[column].to_numpy(np.float64)))
        steps = steps[steps > 0]
        if len(steps):
            return float(steps.min())
    return 100.0


def _read_areas(path: Path):
    if not path.is_file():
        return None
    import geopandas as gpd

    try:
        return gpd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - a damaged optional file only loses the borders
        logger.warning(f"{path}: cannot read ({exc}); the report draws no municipality borders")
        return None


def _read_diff_cells(path: Path, profile: Profile) -> pd.DataFrame | None:
    """The difference per cell, with the scenario cells' centroids and times."""
    if not path.is_file():
        return None
    names = _parquet_columns(path)
    wanted = [c for c in names
              if c == "cell_id" or c.endswith(("_time_change_s", "_within_norm_change"))]
    diff = _read_parquet(path, wanted)
    if "cell_id" not in diff.columns or "cell_id" not in profile.cells.columns:
        return None
    times = [f"{t}_{m}_time_s" for t in profile.types for m in profile.modes[t]]
    where = profile.cells.loc[:, ["cell_id", "x", "y", *times]]
    return diff.merge(where, on="cell_id", how="inner", sort=False)


def cumulative_share(times_s: np.ndarray, weights: np.ndarray,
                     minutes: np.ndarray) -> np.ndarray:
    """Share of the total weight whose time is at most each of ``minutes``
    (ascending); NaN times (unlinked, unreached) are never within but count
    in the total."""
    times_s = np.asarray(times_s, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    total = weights.sum()
    if total <= 0:
        return np.full(len(minutes), np.nan)
    grid_s = np.asarray(minutes, dtype=np.float64) * 60.0
    reached = ~np.isnan(times_s)
    # The first grid time at or above each time: from there on it is within.
    first = np.searchsorted(grid_s, times_s[reached], side="left")
    within = np.bincount(first, weights=weights[reached], minlength=len(grid_s) + 1)
    return np.cumsum(within)[:len(grid_s)] / total


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value reaching the share ``q`` of the weight (the
    weighted inverse CDF, as the summary's medians); NaN when no weight."""
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    keep = ~np.isnan(values) & (weights > 0)
    if not keep.any():
        return float("nan")
    order = np.argsort(values[keep], kind="stable")
    sorted_values = values[keep][order]
    cumulative = np.cumsum(weights[keep][order])
    index = int(np.searchsorted(cumulative, q * cumulative[-1], side="left"))
    return float(sorted_values[min(index, len(sorted_values) - 1)])


def pt_spread_min(profile: Profile, ftype: str) -> tuple[np.ndarray, np.ndarray, int, int] | None:
    """Per cell the spread of the PT time over the window, highest minus
    lowest stored percentile, in minutes, with the cells' residents, for
    cells where both are known; None without two percentiles."""
    percentiles = profile.pt_percentiles.get(ftype, [])
    if len(percentiles) < 2:
        return None
    low, high = percentiles[0], percentiles[-1]
    spread = (profile.cells[f"{ftype}_pt_time_p{high}_s"].to_numpy(np.float64)
              - profile.cells[f"{ftype}_pt_time_p{low}_s"].to_numpy(np.float64)) / 60.0
    keep = ~np.isnan(spread)
    return spread[keep], profile.population()[keep], low, high
