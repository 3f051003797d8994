"""Municipality boundaries: reader, point-in-municipality and region polygons."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from ..config import Settings
from ..errors import ConfigError, InputError

# Column names used by CBS and PDOK for the municipality code and name,
# matched case-insensitively (``gemeenteCode``, ``GM_CODE``, ``statcode`` ...).
CODE_COLUMNS: tuple[str, ...] = ("gemeentecode", "gm_code", "statcode", "code")
NAME_COLUMNS: tuple[str, ...] = ("gemeentenaam", "gm_naam", "statnaam", "naam")

_CODE = re.compile(r"^(?:GM)?(\d{1,4})$")


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
    repaired, and several rows with one code are merged into one.

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

    Raises
    ------
    InputError
        The file is missing or unreadable, has no CRS, no recognisable code
        column, or a code that is not a municipality code.
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

    geometry = frame.geometry.to_crs(settings.crs).to_numpy()
    geometry = np.array([_polygonal(g) for g in shapely.make_valid(geometry)], dtype=object)
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
    return out


def read_layer(path: Path, layer: str | None, what: str, formats: str) -> gpd.GeoDataFrame:
    """One layer of a vector file that declares its CRS.

    Raises
    ------
    InputError
        Naming the file: it is missing or unreadable, or declares no CRS.
    """
    if not path.is_file():
        raise InputError(path, f"file not found; expected {what} {formats}")
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(path, f"cannot read {what}: {exc}") from exc
    if frame.crs is None:
        raise InputError(path, f"no CRS; {what} need a declared CRS "
                               "(e.g. EPSG:28992 or EPSG:4326)")
    return frame


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


def _polygonal(geometry: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of a repaired geometry (make_valid may add slivers of lines)."""
    if isinstance(geometry, (shapely.Polygon, shapely.MultiPolygon)):
        return geometry
    parts = [g for g in shapely.get_parts(geometry)
             if isinstance(g, (shapely.Polygon, shapely.MultiPolygon))]
    return shapely.union_all(parts)
