"""Municipality boundaries: reader, point-in-municipality and region polygons."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from ..config import Settings
from ..errors import ConfigError, InputError

logger = logging.getLogger(__name__)

# Column names used by CBS and PDOK for the municipality code and name,
# matched case-insensitively (``gemeenteCode``, ``GM_CODE``, ``statcode`` ...).
CODE_COLUMNS: tuple[str, ...] = ("gemeentecode", "gm_code", "statcode", "code")
NAME_COLUMNS: tuple[str, ...] = ("gemeentenaam", "gm_naam", "statnaam", "naam")

_CODE = re.compile(r"^(?:GM)?(\d{1,4})$")

# The Netherlands in longitude/latitude: the area of use of RD New (EPSG:28992),
# widened by a quarter of its size on every side, so that the land across the
# border stays inside while coordinates under a wrong CRS label (RD metres
# declared as EPSG:4326, or the reverse) land far outside.
NETHERLANDS_LONLAT: tuple[float, float, float, float] = tuple(
    pyproj.CRS.from_epsg(28992).area_of_use.bounds)
_NETHERLANDS_MARGIN = 0.25
_lon0, _lat0, _lon1, _lat1 = NETHERLANDS_LONLAT
_NEAR_LONLAT = (_lon0 - (_lon1 - _lon0) * _NETHERLANDS_MARGIN,
                _lat0 - (_lat1 - _lat0) * _NETHERLANDS_MARGIN,
                _lon1 + (_lon1 - _lon0) * _NETHERLANDS_MARGIN,
                _lat1 + (_lat1 - _lat0) * _NETHERLANDS_MARGIN)


def read_municipalities(
    path: str | Path,
    settings: Settings,
    *,
    layer: str | None = None,
    code_column: str | None = None,
    name_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Read municipality boundaries into ``settings.crs``.

    The file's own CRS is honoured, whatever it is (the PDOK-derived GeoJSON
    declares EPSG:4289, Amersfoort geographic, the datum of RD New; reading it
    as WGS84 would misplace every border by about 100 m). Invalid polygons are
    repaired. Several rows with one code and one name are parts of one
    municipality: they are merged into one, with a warning.

    Parameters
    ----------
    path
        GeoPackage or GeoJSON with municipality polygons.
    settings
        Run settings; ``crs`` is the output CRS.
    layer
        Layer name; the first layer by default.
    code_column, name_column
        Columns holding the code and name; by default the first of
        ``CODE_COLUMNS`` / ``NAME_COLUMNS`` present (any letter case). Without
        a name column names are None.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code`` (``"GM"`` + 4 digits), ``name`` and polygonal ``geometry`` in
        ``settings.crs``, one row per municipality, sorted by code.
        ``attrs["warnings"]`` lists what was noticed (rows merged), each
        also logged as a warning, for a run's list of warnings.

    Raises
    ------
    InputError
        The file is missing or unreadable, has no CRS, no recognisable code
        column, a code that is not a municipality code, one code on rows
        with different names (or without names), a row without geometry, or
        a municipality far outside the Netherlands in the declared CRS (a
        wrong CRS label). The message names the row(s).
    """
    path = Path(path)
    frame = read_layer(path, layer, "municipality boundaries", "(GeoPackage or GeoJSON)")
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    code_col = _find_column(path, columns, code_column, CODE_COLUMNS, "code")
    if code_col is None:
        raise InputError(
            path, f"no municipality code column; expected one of {list(CODE_COLUMNS)} "
            f"(any case) or code_column=; found {columns}"
        )
    name_col = _find_column(path, columns, name_column, NAME_COLUMNS, "name")

    codes = []
    for row, value in enumerate(frame[code_col], start=1):
        code = normalise_code(value)
        if code is None:
            raise InputError(
                path, f"row {row}: field {code_col!r}: {value!r} is not a municipality code; "
                "expected 'GM' + 4 digits, or the 4 digits alone"
            )
        codes.append(code)
    names = (
        [None if pd.isna(v) else str(v) for v in frame[name_col]]
        if name_col is not None else [None] * len(frame)
    )
    empty = frame.geometry.isna() | frame.geometry.is_empty
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0]) + 1
        raise InputError(path, f"row {row}: municipality {codes[row - 1]} has no geometry")
    noticed = _check_one_code_per_municipality(path, codes, names, code_col, name_col)
    check_near_netherlands(path, frame, [f"municipality {c}" for c in codes])

    geometry = frame.geometry.to_crs(settings.crs).to_numpy()
    geometry = np.array([_polygonal(g) for g in shapely.make_valid(geometry)], dtype=object)
    no_area = shapely.is_empty(geometry) | (shapely.area(geometry) <= 0)
    if no_area.any():
        row = int(np.flatnonzero(no_area)[0]) + 1
        kind = frame.geometry.iloc[row - 1].geom_type
        raise InputError(path, f"row {row}: municipality {codes[row - 1]} is a {kind} without "
                               "area; expected a (Multi)Polygon outlining it")
    table = pd.DataFrame({"code": codes, "name": pd.Series(names, dtype=object),
                          "geometry": geometry})
    merged = []
    for code, group in table.groupby("code", sort=True):
        merged.append((code, group["name"].iloc[0], shapely.union_all(group["geometry"])))
    out = gpd.GeoDataFrame(
        {"code": [m[0] for m in merged], "name": pd.Series([m[1] for m in merged], dtype=object)},
        geometry=[m[2] for m in merged],
        crs=settings.crs,
    )
    out.attrs["warnings"] = noticed
    return out


def read_layer(path: Path, layer: str | None, what: str, formats: str) -> gpd.GeoDataFrame:
    """One layer of a vector file that declares its CRS.

    Raises
    ------
    InputError
        Naming the file: it is missing or unreadable, or declares no CRS.
    """
    if not path.is_file():
        found = "is a folder" if path.is_dir() else "file not found"
        raise InputError(path, f"{found}; expected {what} {formats}")
    if path.stat().st_size == 0:
        raise InputError(path, f"empty file; expected {what} {formats}")
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(path, f"cannot read {what}: {exc}") from exc
    if frame.crs is None:
        raise InputError(path, f"no CRS; {what} need a declared CRS "
                               "(e.g. EPSG:28992 or EPSG:4326)")
    return frame


def check_near_netherlands(path: Path, frame: gpd.GeoDataFrame, labels: Sequence[str]) -> None:
    """Fail on the first feature that lies far outside the Netherlands.

    Where every feature of a Dutch file lands far away, the file's CRS label
    is wrong (RD New metres declared as EPSG:4326, longitude/latitude declared
    as EPSG:28992); the message says so.

    Parameters
    ----------
    path
        The file, for the message.
    frame
        Its features in the CRS the file declares.
    labels
        What each row is, for the message (``"municipality GM0400"``).

    Raises
    ------
    InputError
        Naming the row: coordinates that are no longitude/latitude in a
        geographic CRS, or a feature wholly outside ``NETHERLANDS_LONLAT``
        widened by a quarter of its size on every side.
    """
    geometry = frame.geometry.to_numpy()
    present = ~(shapely.is_missing(geometry) | shapely.is_empty(geometry))
    if not present.any():
        return
    bounds = shapely.bounds(geometry)
    crs = pyproj.CRS.from_user_input(frame.crs)
    declared = f"{crs.to_string()} ({crs.name})"
    if crs.is_geographic:
        wrong = present & ((np.abs(bounds[:, [0, 2]]) > 180).any(axis=1)
                           | (np.abs(bounds[:, [1, 3]]) > 90).any(axis=1))
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raise InputError(
                path, f"row {i + 1}: {labels[i]} has coordinates ({bounds[i, 0]:.10g}, "
                f"{bounds[i, 1]:.10g}), which are no longitude/latitude, yet the file declares "
                f"{declared}; metres like these are RD New: is the CRS label wrong? expected "
                "EPSG:28992 for RD coordinates")
        lon = bounds[:, [0, 2, 0, 2]]
        lat = bounds[:, [1, 1, 3, 3]]
    else:
        to_lonlat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        lon, lat = to_lonlat.transform(bounds[:, [0, 2, 0, 2]], bounds[:, [1, 1, 3, 3]],
                                       errcheck=False)
        lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        # a corner that cannot be transformed lies nowhere near
        lon = np.where(np.isfinite(lon), lon, np.inf)
        lat = np.where(np.isfinite(lat), lat, np.inf)
    xmin, ymin, xmax, ymax = NETHERLANDS_LONLAT
    near = _NEAR_LONLAT
    with np.errstate(invalid="ignore"):
        far = present & ((lon.max(axis=1) < near[0]) | (lon.min(axis=1) > near[2])
                         | (lat.max(axis=1) < near[1]) | (lat.min(axis=1) > near[3]))
    if not far.any():
        return
    i = int(np.flatnonzero(far)[0])
    hint = ""
    if not crs.is_geographic and (np.abs(bounds[i, [0, 2]]) <= 180).all() \
            and (np.abs(bounds[i, [1, 3]]) <= 90).all():
        hint = "; its coordinates look like longitude/latitude (EPSG:4326)"
    where = (f"lies at lon {lon[i].min():.2f} to {lon[i].max():.2f}, lat {lat[i].min():.2f} "
             f"to {lat[i].max():.2f}" if np.isfinite(lon[i]).all() and np.isfinite(lat[i]).all()
             else f"has coordinates ({bounds[i, 0]:.10g}, {bounds[i, 1]:.10g})")
    raise InputError(
        path, f"row {i + 1}: {labels[i]} {where}, far outside the Netherlands (lon "
        f"{xmin:.1f} to {xmax:.1f}, lat {ymin:.1f} to {ymax:.1f}) in the declared CRS "
        f"{declared}{hint}; is the CRS label wrong? expected the file's true CRS, e.g. "
        "EPSG:28992 for RD New metres or EPSG:4326 for longitude/latitude")


def near_netherlands(lon: float | np.ndarray, lat: float | np.ndarray) -> np.ndarray:
    """Whether each longitude/latitude lies near the Netherlands: within
    ``NETHERLANDS_LONLAT`` widened by a quarter of its size on every side (so
    across the border, but not where a wrong CRS label puts a point)."""
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    return ((lon >= _NEAR_LONLAT[0]) & (lon <= _NEAR_LONLAT[2])
            & (lat >= _NEAR_LONLAT[1]) & (lat <= _NEAR_LONLAT[3]))


def normalise_code(value: object) -> str | None:
    """A municipality code as ``"GM"`` + 4 digits, or None when it is not one.

    Accepts ``"GM0400"``, ``"gm0400"``, ``"0400"``, ``"400"``, ``400`` and
    ``400.0``.
    """
    if isinstance(value, (bool, np.bool_)) or value is None:
        return None
    if isinstance(value, (int, np.integer)):
        text = str(int(value))
    elif isinstance(value, (float, np.floating)):
        if not np.isfinite(value) or value != int(value):
            return None
        text = str(int(value))
    elif isinstance(value, str):
        text = value.strip().upper()
    else:
        return None
    match = _CODE.match(text)
    if match is None:
        return None
    return f"GM{int(match.group(1)):04d}"


def assign_municipality(
    x: np.ndarray, y: np.ndarray, municipalities: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """The municipality each point lies in (for cells: the centroid rule).

    Parameters
    ----------
    x, y
        Point coordinates in the CRS of ``municipalities``.
    municipalities
        Output of :func:`read_municipalities`.

    Returns
    -------
    codes, names
        object arrays, one entry per point; None for a point in no
        municipality. A point on a shared border (or in an overlap of two
        polygons) goes to the lowest code.
    """
    points = shapely.points(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    codes_in = municipalities["code"].to_numpy(dtype=object)
    names_in = municipalities["name"].to_numpy(dtype=object)
    # A tree of the points queried with each polygon: GEOS prepares the
    # polygon once per query, which on detailed borders is some fifty times
    # faster than testing every point against unprepared polygons.
    tree = shapely.STRtree(points)
    # "intersects" counts a point on a border as inside both neighbours.
    poly_idx, point_idx = tree.query(municipalities.geometry.to_numpy(), predicate="intersects")
    order = np.argsort(codes_in.astype(str), kind="stable")
    rank = np.empty(len(codes_in), dtype=np.int64)
    rank[order] = np.arange(len(codes_in))
    best = np.full(len(points), len(codes_in), dtype=np.int64)
    np.minimum.at(best, point_idx, rank[poly_idx])
    found = best < len(codes_in)
    codes = np.full(len(points), None, dtype=object)
    names = np.full(len(points), None, dtype=object)
    codes[found] = codes_in[order[best[found]]]
    names[found] = names_in[order[best[found]]]
    return codes, names


def region_polygon(
    municipalities: gpd.GeoDataFrame, codes: Iterable[object] | None = None
) -> shapely.Geometry:
    """Union of the selected municipalities (all when ``codes`` is None).

    Parameters
    ----------
    municipalities
        Output of :func:`read_municipalities`.
    codes
        Municipality codes in any accepted form (``"GM0400"``, ``"0400"``,
        ``400``).

    Returns
    -------
    shapely.Geometry
        The dissolved (Multi)Polygon, e.g. a ``mask`` for the grid reader.

    Raises
    ------
    ConfigError
        A code is malformed or not among ``municipalities``.
    """
    if codes is None:
        selected = municipalities
    else:
        wanted = []
        for value in codes:
            code = normalise_code(value)
            if code is None:
                raise ConfigError(f"{value!r} is not a municipality code ('GM' + 4 digits)")
            wanted.append(code)
        unknown = sorted(set(wanted) - set(municipalities["code"]))
        if unknown:
            raise ConfigError(f"unknown municipality code(s) {unknown}")
        selected = municipalities[municipalities["code"].isin(wanted)]
    return shapely.union_all(selected.geometry.to_numpy())


def _find_column(
    path: Path, columns: list[str], given: str | None, candidates: tuple[str, ...], what: str
) -> str | None:
    if given is not None:
        if given not in columns:
            raise InputError(path, f"no {what} column {given!r}; found {columns}")
        return given
    lower = {c.lower(): c for c in reversed(columns)}
    for candidate in candidates:
        if candidate in lower:
            return lower[candidate]
    return None


def _check_one_code_per_municipality(path: Path, codes: list[str], names: list[str | None],
                                     code_col: str, name_col: str | None) -> list[str]:
    """Rows sharing a code must be parts of one municipality: same code and same
    name (they are merged, with a warning, which is returned); anything else
    is an error."""
    rows_of: dict[str, list[int]] = {}
    for row, code in enumerate(codes, start=1):
        rows_of.setdefault(code, []).append(row)
    parts = []
    for code, rows in rows_of.items():
        if len(rows) == 1:
            continue
        first = names[rows[0] - 1]
        for row in rows[1:]:
            other = names[row - 1]
            both = f"rows {rows[0]} and {row}: field {code_col!r}"
            if first is None or other is None:
                why = ("the file has no name column" if name_col is None
                       else f"field {name_col!r} is empty on one of them")
                raise InputError(
                    path, f"{both}: code {code} appears twice and {why}, so they cannot be "
                    "told to be parts of one municipality; expected one row per code, or "
                    "rows with the same code and the same name (which are merged)")
            if first.strip().casefold() != other.strip().casefold():
                raise InputError(
                    path, f"{both}: code {code} is given to {first!r} and to {other!r}; "
                    "expected one code per municipality (rows that are parts of one "
                    "municipality share its code and its name, and are merged)")
        parts.append(f"{code} {first!r} (rows {', '.join(map(str, rows))})")
    if not parts:
        return []
    shown = "; ".join(parts[:5]) + (f"; and {len(parts) - 5} more" if len(parts) > 5 else "")
    warning = (f"{path}: {len(parts)} municipalit{'y is' if len(parts) == 1 else 'ies are'} "
               "split over several rows with the same code and name, merged as parts of one "
               f"municipality: {shown}")
    logger.warning(warning)
    return [warning]


def _polygonal(geometry: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of a repaired geometry (make_valid may add slivers of lines)."""
    if isinstance(geometry, (shapely.Polygon, shapely.MultiPolygon)):
        return geometry
    parts = [g for g in shapely.get_parts(geometry)
             if isinstance(g, (shapely.Polygon, shapely.MultiPolygon))]
    return shapely.union_all(parts)
