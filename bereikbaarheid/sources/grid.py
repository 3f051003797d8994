"""Reader for the CBS population grid (vierkantstatistieken, 100 m and 500 m)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from ..config import Settings
from ..errors import ConfigError, InputError

GRID_CRS = "EPSG:28992"

# Cell id column -> cell size in metres. ``crs28992res*`` is the current CBS
# name; ``c28992r*`` was used in the grids up to about 2019.
ID_COLUMNS: dict[str, int] = {
    "crs28992res100m": 100,
    "crs28992res500m": 500,
    "c28992r100": 100,
    "c28992r500": 500,
}

# Short age-band names used downstream -> CBS column names.
AGE_BANDS: dict[str, str] = {
    "0_14": "aantal_inwoners_0_tot_15_jaar",
    "15_24": "aantal_inwoners_15_tot_25_jaar",
    "25_44": "aantal_inwoners_25_tot_45_jaar",
    "45_64": "aantal_inwoners_45_tot_65_jaar",
    "65_plus": "aantal_inwoners_65_jaar_en_ouder",
}

POPULATION_COLUMN = "aantal_inwoners"
REQUIRED_COLUMNS: tuple[str, ...] = (POPULATION_COLUMN, *AGE_BANDS.values())

# Population columns in the order they are put first in ``Grid.cells``.
POPULATION_COLUMNS: tuple[str, ...] = (
    POPULATION_COLUMN,
    "aantal_mannen",
    "aantal_vrouwen",
    *AGE_BANDS.values(),
    "aantal_woningen",
)

# Counts CBS publishes as whole numbers (rounded to multiples of 5): never
# negative once suppression codes are set aside, never fractional.
COUNT_COLUMNS: tuple[str, ...] = (*POPULATION_COLUMNS, "aantal_part_huishoudens")
# Columns that are parts of ``aantal_inwoners``: each at most the total, and
# together at most the total plus what rounding may add (see ``ROUNDING_SLACK``).
PART_GROUPS: dict[str, tuple[str, ...]] = {
    "the age bands": tuple(AGE_BANDS.values()),
    "men and women": ("aantal_mannen", "aantal_vrouwen"),
}
# CBS rounds each published count to a multiple of 5, so a count may lie up to
# 2.5 from the true one; parts summed over k known columns may exceed the
# rounded total by at most 2.5 * (k + 1) (each part and the total off by 2.5).
ROUNDING_SLACK = 2.5

# ``E0859N4360``: lower-left corner in hectometres, easting then northing.
_CELL_ID_LENGTH = 10

# A geometry may differ this much (metres) from the square its id describes;
# CBS squares are exact, so only rounding in a re-exported file is tolerated.
_CORNER_TOLERANCE_M = 1.0


@dataclass(frozen=True)
class Grid:
    """CBS grid cells as read, with a report of what was read.

    Attributes
    ----------
    cells
        One row per cell, sorted by ``cell_id``: ``cell_id`` (str), ``x``,
        ``y`` (float64 cell centre in EPSG:28992), the CBS population columns
        (float64; suppressed values are NaN), any other columns of the file
        under their CBS names, and ``geometry`` (the cell square).
    report
        ``path``, ``layer``, ``resolution_m``, ``n_cells``, ``n_missing``
        (missing values per numeric column), ``total_population`` (sum of the
        known ``aantal_inwoners``), ``n_population_missing`` (cells whose
        population is suppressed) and ``crs``.
    """

    cells: gpd.GeoDataFrame
    report: dict[str, Any]


def read_grid(
    path: str | Path,
    settings: Settings,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    mask: shapely.Geometry | None = None,
    layer: str | None = None,
) -> Grid:
    """Read a CBS grid GeoPackage, filtered to a box or polygon while reading.

    Parameters
    ----------
    path
        CBS ``vierkantstatistieken`` GeoPackage (100 m or 500 m cells).
    settings
        Run settings; ``missing_below`` marks CBS suppression codes and
        ``crs`` must be EPSG:28992, the CRS the cell ids are defined in.
    bbox
        ``(xmin, ymin, xmax, ymax)`` in EPSG:28992.
    mask
        Polygon in EPSG:28992. Only one of ``bbox`` and ``mask`` may be given.
        Either way a cell is kept when its square overlaps the area (a cell
        that only touches its edge is dropped); only features intersecting
        the area are read from the file.
    layer
        Layer name; by default the first layer with a cell id column.

    Returns
    -------
    Grid
        The cells and a report of what was read.

    Raises
    ------
    InputError
        The file is missing, unreadable, not in EPSG:28992, lacks the cell id
        or population columns, or has a malformed or repeated cell id, a
        geometry that disagrees with its id, or an impossible count: negative
        (other than a suppression code), not finite, fractional (CBS counts
        are whole), an age band or sex above the cell's total, or parts that
        sum to more than the total beyond CBS rounding (see ``PART_GROUPS``
        and ``ROUNDING_SLACK``). The message names the row (GeoPackage
        feature id), the cell, the column and the value.
    ConfigError
        ``settings.crs`` is not EPSG:28992.
    """
    path = Path(path)
    if pyproj.CRS.from_user_input(settings.crs) != pyproj.CRS.from_user_input(GRID_CRS):
        raise ConfigError(
            f"CBS grid cells are defined in {GRID_CRS}; settings.crs is {settings.crs!r}"
        )
    if bbox is not None and mask is not None:
        raise ValueError("give bbox or mask, not both")
    if not path.is_file():
        raise InputError(path, "file not found; expected a CBS grid GeoPackage")

    layer = _pick_layer(path, layer)
    info = _read(path, pyogrio.read_info, layer=layer)
    fields = [str(f) for f in info["fields"]]
    id_column, resolution_m = _id_column(path, fields)
    missing = [c for c in REQUIRED_COLUMNS if c not in fields]
    if missing:
        raise InputError(
            path,
            f"missing column(s) {missing}; a CBS grid needs {list(REQUIRED_COLUMNS)}; "
            f"found {fields}",
        )
    _check_crs(path, info["crs"])

    frame = _read(path, pyogrio.read_dataframe, layer=layer, bbox=bbox, mask=mask,
                  fid_as_index=True, use_arrow=True)
    cells, n_missing = _normalise(path, frame, id_column, resolution_m, settings)
    if bbox is not None or mask is not None:
        area = shapely.box(*bbox) if bbox is not None else mask
        shapely.prepare(area)
        squares = cells.geometry.to_numpy()
        # GDAL returns every feature that intersects, also squares that only
        # share an edge with the area; those lie outside it.
        overlaps = shapely.intersects(area, squares) & ~shapely.touches(area, squares)
        cells = cells.loc[overlaps]
        n_missing = {c: int(cells[c].isna().sum()) for c in n_missing}

    cells = cells.sort_values("cell_id", kind="stable").reset_index(drop=True)
    population = cells[POPULATION_COLUMN].to_numpy()
    report = {
        "path": str(path),
        "layer": layer,
        "resolution_m": resolution_m,
        "n_cells": len(cells),
        "n_missing": n_missing,
        "total_population": float(np.nansum(population)),
        "n_population_missing": int(np.isnan(population).sum()),
        "crs": GRID_CRS,
    }
    return Grid(cells=cells, report=report)


def extent(path: str | Path, layer: str) -> tuple[float, float, float, float] | None:
    """Bounds ``(xmin, ymin, xmax, ymax)`` of every cell of a grid layer (None when it
    has none), for messages about a region the grid does not cover."""
    path = Path(path)
    info = _read(path, pyogrio.read_info, layer=layer, force_total_bounds=True)
    bounds = info.get("total_bounds")
    if not info["features"] or bounds is None or not np.isfinite(bounds).all():
        return None
    return tuple(float(b) for b in bounds)


def parse_cell_ids(cell_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower-left corners of CBS cell ids.

    Parameters
    ----------
    cell_ids
        Strings like ``"E0859N4360"``.

    Returns
    -------
    x0, y0, ok
        float64 lower-left easting and northing in metres (NaN where the id is
        malformed) and a bool array marking the well-formed ids.
    """
    text = np.asarray(cell_ids, dtype=object).astype(str)
    ok = np.char.str_len(text) == _CELL_ID_LENGTH
    # Fixed-width ids: read the characters as code points, all at once
    # (a regular expression per id is far slower on a national grid).
    chars = np.where(ok, text, "E0000N0000").astype(f"U{_CELL_ID_LENGTH}")
    codes = chars.view(np.uint32).reshape(-1, _CELL_ID_LENGTH).astype(np.int64)
    digits = codes[:, [1, 2, 3, 4, 6, 7, 8, 9]] - ord("0")
    ok &= (codes[:, 0] == ord("E")) & (codes[:, 5] == ord("N"))
    ok &= ((digits >= 0) & (digits <= 9)).all(axis=1)
    place = np.array([1000, 100, 10, 1])
    x0 = np.where(ok, digits[:, :4] @ place * 100.0, np.nan)
    y0 = np.where(ok, digits[:, 4:] @ place * 100.0, np.nan)
    return x0, y0, ok


def _read(path: Path, reader, **kwargs):
    """Call a pyogrio reader, turning its failures into an InputError."""
    try:
        return reader(path, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(path, f"cannot read as a CBS grid GeoPackage: {exc}") from exc


def _pick_layer(path: Path, layer: str | None) -> str:
    layers = [str(name) for name, _ in _read(path, pyogrio.list_layers)]
    if not layers:
        raise InputError(path, "no layers; expected a CBS grid GeoPackage")
    if layer is not None:
        if layer not in layers:
            raise InputError(path, f"no layer {layer!r}; layers: {layers}")
        return layer
    for name in layers:
        fields = _read(path, pyogrio.read_info, layer=name)["fields"]
        if any(f in ID_COLUMNS for f in fields):
            return name
    return layers[0]


def _id_column(path: Path, fields: list[str]) -> tuple[str, int]:
    found = [f for f in fields if f in ID_COLUMNS]
    if not found:
        raise InputError(
            path,
            "no cell id column; expected a column 'crs28992res100m' or "
            f"'crs28992res500m' (CBS grid GeoPackage); found {fields}",
        )
    if len(found) > 1:
        raise InputError(path, f"several cell id columns {found}; expected one")
    return found[0], ID_COLUMNS[found[0]]


def _check_crs(path: Path, crs: str | None) -> None:
    if crs is None:
        raise InputError(path, f"no CRS; CBS grids are in {GRID_CRS}")
    found = pyproj.CRS.from_user_input(crs)
    if found.to_epsg() != 28992:
        raise InputError(
            path, f"CRS is {found.to_string()} ({found.name}); CBS grids are in {GRID_CRS}"
        )


def _normalise(
    path: Path,
    frame: gpd.GeoDataFrame,
    id_column: str,
    resolution_m: int,
    settings: Settings,
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Cell ids parsed and checked, suppression codes to NaN, squares built."""
    rows = frame.index.to_numpy()  # GeoPackage feature ids: 1-based row numbers
    ids = frame[id_column].to_numpy(dtype=object)
    x0, y0, ok = parse_cell_ids(ids)
    ok = ok & (np.fmod(x0, resolution_m) == 0) & (np.fmod(y0, resolution_m) == 0)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputError(
            path,
            f"row {rows[i]}: malformed cell id {ids[i]!r} in column {id_column!r}; "
            f"expected 'E' + 4-digit easting + 'N' + 4-digit northing in hectometres "
            f"of the lower-left corner, on the {resolution_m} m grid (e.g. 'E0859N4360')",
        )
    duplicated = pd.Series(ids).duplicated(keep="first").to_numpy()
    if duplicated.any():
        i = int(np.flatnonzero(duplicated)[0])
        first = int(np.flatnonzero(ids == ids[i])[0])
        raise InputError(path, f"row {rows[i]}: cell id {ids[i]!r} repeats row {rows[first]}")

    expected = np.column_stack([x0, y0, x0 + resolution_m, y0 + resolution_m])
    bounds = shapely.bounds(frame.geometry.to_numpy())
    wrong = ~(np.abs(bounds - expected) <= _CORNER_TOLERANCE_M).all(axis=1)
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise InputError(
            path,
            f"row {rows[i]}: geometry of cell {ids[i]!r} has bounds "
            f"({', '.join(f'{v:.10g}' for v in bounds[i])}); "
            f"its id says lower-left ({x0[i]:.0f}, {y0[i]:.0f}) and size {resolution_m} m",
        )

    data: dict[str, Any] = {
        "cell_id": ids.astype(str),
        "x": x0 + resolution_m / 2,
        "y": y0 + resolution_m / 2,
    }
    others = [c for c in frame.columns if c not in (id_column, frame.geometry.name)]
    ordered = [c for c in POPULATION_COLUMNS if c in others]
    ordered += [c for c in others if c not in ordered]
    n_missing: dict[str, int] = {}
    for column in ordered:
        values = frame[column]
        if column in COUNT_COLUMNS and not pd.api.types.is_numeric_dtype(values):
            numbers = pd.to_numeric(values, errors="coerce")
            bad = (numbers.isna() & values.notna()).to_numpy()
            where = (f"row {rows[bad.argmax()]} (cell {ids[bad.argmax()]}): column {column!r}: "
                     f"{values.iloc[bad.argmax()]!r} is not a number" if bad.any()
                     else f"column {column!r} is {values.dtype}")
            raise InputError(path, f"{where}; expected a column of numbers (counts)")
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
            numbers = np.where(numbers < settings.missing_below, np.nan, numbers)
            n_missing[column] = int(np.isnan(numbers).sum())
            data[column] = numbers
        else:
            data[column] = values.to_numpy()
    _check_counts(path, rows, ids, data, settings)
    squares = shapely.box(x0, y0, x0 + resolution_m, y0 + resolution_m)
    cells = gpd.GeoDataFrame(data, geometry=squares, crs=GRID_CRS)
    return cells, n_missing


def _check_counts(path: Path, rows: np.ndarray, ids: np.ndarray, data: dict[str, Any],
                  settings: Settings) -> None:
    """Fail on the first impossible count (suppression codes are NaN by now)."""
    def where(i: int, column: str) -> str:
        return f"row {rows[i]} (cell {ids[i]}): column {column!r}"

    for column in (c for c in COUNT_COLUMNS if c in data):
        values = data[column]
        known = ~np.isnan(values)
        problems = (
            (known & ~np.isfinite(values), "is not a finite number; expected a count"),
            (known & (values < 0),
             (f"is negative; expected a count >= 0, or a CBS suppression code below "
              f"{settings.missing_below:g} (settings.missing_below) for a secret value")),
            (np.isfinite(values) & (values != np.round(values)),
             "is not a whole number; CBS publishes whole counts"),
        )
        for bad, what in problems:
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise InputError(path, f"{where(i, column)}: {values[i]:g} {what}")

    total = data[POPULATION_COLUMN]
    for group, columns in PART_GROUPS.items():
        columns = tuple(c for c in columns if c in data)
        for column in columns:
            above = data[column] > total  # False wherever either is missing
            if above.any():
                i = int(np.flatnonzero(above)[0])
                raise InputError(
                    path, f"{where(i, column)}: {data[column][i]:g} exceeds the cell's "
                    f"{POPULATION_COLUMN} {total[i]:g}; expected a part of the total")
        if not columns:
            continue
        parts = np.column_stack([data[c] for c in columns])
        n_known = (~np.isnan(parts)).sum(axis=1)
        allowed = total + ROUNDING_SLACK * (n_known + 1)
        over = np.nansum(parts, axis=1) > allowed
        if over.any():
            i = int(np.flatnonzero(over)[0])
            listed = " + ".join(f"{v:g}" for v in parts[i] if not np.isnan(v))
            raise InputError(
                path, f"row {rows[i]} (cell {ids[i]}): {group} sum to {listed} = "
                f"{np.nansum(parts[i]):g}, more than {POPULATION_COLUMN} {total[i]:g} allows; "
                f"CBS rounds each count to a multiple of 5, so {n_known[i]} parts may exceed "
                f"the total by at most {ROUNDING_SLACK:g} per count including the total "
                f"(here {allowed[i] - total[i]:g}); expected at most {allowed[i]:g}")
