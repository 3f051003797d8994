"""Reader for facility lists from a CSV, GeoPackage or GeoJSON file."""

from __future__ import annotations

import difflib
import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from ..config import CAPACITY_UNITS, FACILITY_TYPES, Settings
from ..errors import ConfigError, InputError
from . import _csv

logger = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = ("facility_id", "type", "name", "capacity", "fte", "source",
                             "geometry")
CSV_SUFFIXES: tuple[str, ...] = (".csv", ".txt")
VECTOR_SUFFIXES: tuple[str, ...] = (".gpkg", ".geojson", ".json")

# A point is "wildly outside" a CRS when it lies beyond the CRS's area of use
# widened by this fraction of its size on every side; facilities just across
# the border stay inside, coordinates in the wrong CRS do not.
_AREA_OF_USE_MARGIN = 0.25

# The largest plausible capacity of a facility of each type in its unit
# (``config.CAPACITY_UNITS``), and the largest plausible FTE of a GP practice;
# the smallest is 0 (a closed or empty facility). A value beyond is a unit or
# typing mistake (FTE in the capacity column, pupils of a whole school board,
# 1e308), never a facility. The bounds are generous on purpose:
# - GP practice, 50,000 registered patients: the NZa norm practice has 2,095
#   patients per full-time GP and the largest Dutch health centres register
#   some 20,000-30,000, so 50,000 is about 24 full-time GPs at the norm.
# - GP practice, 40 FTE: 40 full-time GPs, twice the largest health centres.
# - Primary school, 3,000 pupils: the mean Dutch primary school has about 225
#   (``Settings.default_capacity``) and the largest some 1,000-1,500; 3,000
#   leaves room for a register that counts a secondary school's location too.
# - Supermarket, 20,000 m2 of sales floor: Dutch supermarkets have 1,000-1,500
#   and the largest (hypermarkets such as AH XL) about 5,000-6,000; Belgian and
#   German hypermarkets across the border reach 10,000-15,000.
# A type without an entry (configured beyond the built-in ones) is only
# checked to be >= 0.
PLAUSIBLE_MAX: dict[tuple[str, str], float] = {
    ("gp", "capacity"): 50_000.0,
    ("gp", "fte"): 40.0,
    ("school", "capacity"): 3_000.0,
    ("supermarket", "capacity"): 20_000.0,
}
# How messages name a type.
TYPE_NAMES: dict[str, str] = {"gp": "GP practice", "school": "school",
                              "supermarket": "supermarket"}
# Dutch names a register may use, for the "did you mean" hint only (a file
# must use the engine's types).
_DUTCH_TYPES: dict[str, str] = {
    "huisarts": "gp", "huisartsen": "gp", "huisartsenpraktijk": "gp",
    "huisartspraktijk": "gp", "basisschool": "school", "basisonderwijs": "school",
    "supermarkt": "supermarket", "grote supermarkt": "supermarket",
}


def read_facilities(
    path: str | Path,
    settings: Settings,
    *,
    crs: str | None = None,
    types: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read facilities (the alternative to OSM) from a CSV or vector file.

    A CSV needs a ``type`` column and coordinates, either ``x``/``y`` in
    ``crs`` (default ``settings.crs``) or ``lon``/``lat`` in WGS84 (when both
    pairs are present, ``x``/``y`` is used). Optional columns:
    ``facility_id`` (default ``"row<N>"``, N the 1-based data row),
    ``name``, ``capacity`` (patients, pupils or m2) and ``fte`` (a GP
    practice's full-time equivalents; ignored for other types). Column names are matched case-insensitively;
    the separator (``,``, ``;`` or tab) is taken from the header line, and
    with ``;`` or tab a decimal comma is accepted.

    A GeoPackage or GeoJSON holds the same attribute columns with point
    geometries in any CRS (``crs`` only when the file declares none); a
    polygon stands for its representative point.

    Parameters
    ----------
    path
        ``.csv``/``.txt``, ``.gpkg``, ``.geojson`` or ``.json`` file.
    settings
        Run settings: ``crs`` of the output and the known ``facility_types``.
    crs
        CRS of CSV ``x``/``y`` columns, or of a vector file without one.
    types
        Keep only these types, a subset of ``settings.facility_types`` (all of
        them by default). Rows of other known types (the built-in
        ``config.FACILITY_TYPES``, ``settings.facility_types`` and
        ``settings.ignore_facility_types``) are left out before anything else
        in them is checked, and counted in an info message; a row of any
        other type is an error, so a misspelt type never vanishes silently.

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility_id`` (str), ``type`` (str), ``name`` (str or None),
        ``capacity`` (float64, NaN when absent), ``fte`` (float64, NaN when
        absent and for every type but ``gp``), ``source`` (file name) and
        point ``geometry`` in ``settings.crs``, sorted by type and id.

    Raises
    ------
    InputError
        Naming the file, the row or line and the field: missing file or
        columns, non-numeric or missing coordinates, an empty or unknown type
        (with the closest known one), duplicate id, a capacity or FTE that is
        not a finite number within ``PLAUSIBLE_MAX``, or coordinates far
        outside the CRS's area of use (such as longitude/latitude given as RD
        ``x``/``y``).
    """
    path = Path(path)
    if types is not None:
        unknown = sorted(set(types) - set(settings.facility_types))
        if unknown:
            raise ConfigError(
                f"unknown facility type(s) {unknown}; known: {list(settings.facility_types)}"
            )
    if not path.is_file():
        found = "is a folder" if path.is_dir() else "file not found"
        raise InputError(path, f"{found}; expected a facility CSV or GeoPackage")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        table, labels, decimal_comma = _read_csv(path)
        geometry = None
    elif suffix in VECTOR_SUFFIXES:
        table, labels, geometry = _read_vector(path, crs)
        decimal_comma = False
    else:
        raise InputError(
            path, f"unknown file type {suffix!r}; expected one of "
            f"{list(CSV_SUFFIXES + VECTOR_SUFFIXES)}"
        )
    _require(path, table, "type")
    if "facility_id" not in table:
        table["facility_id"] = [f"row{n}" for n in range(1, len(table) + 1)]
    ftype = np.array([None if _is_blank(v) else str(v).strip().lower() for v in table["type"]],
                     dtype=object)
    known = known_types(settings)
    for i, value in enumerate(ftype):
        if value is None:
            raise InputError(path, f"{labels[i]}: field 'type' is empty; expected one of "
                                   f"{known}")
        if value not in known:
            raise InputError(
                path, f"{labels[i]}: field 'type': unknown facility type "
                f"{str(table['type'].iloc[i]).strip()!r}{type_hint(value, known)}; expected "
                f"one of {known}; list types the file holds on purpose in the setting "
                "ignore_facility_types"
            )
    # Rows of other known types are left out before anything else in them is checked.
    keep = np.isin(ftype, list(settings.facility_types if types is None else types))
    if not keep.all():
        left_out = Counter(ftype[~keep].tolist())
        logger.info(f"{path.name}: left out {int((~keep).sum())} facilities of types not "
                    "analysed: " + ", ".join(f"{t} ({n})" for t, n in sorted(left_out.items())))
        table = table.loc[keep].reset_index(drop=True)
        ftype, labels = ftype[keep], labels[keep]
        if geometry is not None:
            geometry = geometry[keep].reset_index(drop=True)
    if geometry is None:
        points = _csv_points(path, table, labels, settings, crs, decimal_comma)
    else:
        points = _vector_points(path, geometry, labels, settings)
    out = _assemble(path, settings, table, ftype, labels, points, decimal_comma)
    out.attrs["warnings"] = list(table.attrs.get("warnings", []))  # logged when found
    return out


def known_types(settings: Settings) -> list[str]:
    """The facility types a file may hold: the analysed ones
    (``settings.facility_types``), then the other built-in ones and those of
    ``settings.ignore_facility_types``, lower-case."""
    out: list[str] = []
    for ftype in (*settings.facility_types, *FACILITY_TYPES, *settings.ignore_facility_types):
        ftype = str(ftype).strip().lower()
        if ftype not in out:
            out.append(ftype)
    return out


def type_hint(value: str, known: Sequence[str]) -> str:
    """``" (did you mean 'supermarket'?)"`` for the known type closest to
    ``value`` (case-insensitive; Dutch names included), or ``""``."""
    text = str(value).strip().lower()
    close = [_DUTCH_TYPES[text]] if _DUTCH_TYPES.get(text) in known else []
    close = close or difflib.get_close_matches(text, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def plausibility_problem(ftype: str, field: str, value: float) -> str | None:
    """What is wrong with ``value`` as the ``field`` (``"capacity"`` or ``"fte"``)
    of a facility of ``ftype``, or None when it is plausible (see
    ``PLAUSIBLE_MAX``), e.g. ``"1e+308 is outside 0–20,000 m2 for a supermarket"``."""
    upper = PLAUSIBLE_MAX.get((ftype, field), math.inf)
    if math.isfinite(value) and 0 <= value <= upper:
        return None
    if math.isinf(upper):
        return f"{value:g} is not a number >= 0"
    unit = "FTE" if field == "fte" else CAPACITY_UNITS.get(ftype, "")
    plausible = f"0–{upper:,.0f} {unit} for a {TYPE_NAMES.get(ftype, ftype)}"
    if value < 0:
        return f"{value:g} is negative; expected {plausible}"
    return f"{value:g} is outside {plausible}"


def _read_csv(path: Path) -> tuple[pd.DataFrame, np.ndarray, bool]:
    """Table of stripped strings, row labels ("line N") and whether "," is decimal."""
    table, lines, decimal_comma = _csv.read_table(path, "type and x,y or lon,lat")
    return table, np.array([f"line {n}" for n in lines], dtype=object), decimal_comma


def _read_vector(path: Path, crs: str | None) -> tuple[pd.DataFrame, np.ndarray, gpd.GeoSeries]:
    """Attribute table, row labels ("row N") and the geometry column (with a CRS)."""
    try:
        frame = pyogrio.read_dataframe(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(path, f"cannot read as a GeoPackage or GeoJSON: {exc}") from exc
    if frame.crs is None:
        if crs is None:
            raise InputError(path, "no CRS; give crs= or write the file with a CRS")
        frame = frame.set_crs(crs)
    labels = np.array([f"row {n}" for n in range(1, len(frame) + 1)], dtype=object)
    geometry = frame.geometry.reset_index(drop=True)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name)).reset_index(drop=True)
    table.columns = [str(c).strip().lower() for c in table.columns]
    return table, labels, geometry


def _csv_points(
    path: Path,
    table: pd.DataFrame,
    labels: np.ndarray,
    settings: Settings,
    crs: str | None,
    decimal_comma: bool,
) -> np.ndarray:
    """Points in settings.crs from x/y (in ``crs``) or lon/lat (WGS84) columns."""
    if "x" in table or "y" in table:
        _require(path, table, "x", "y")
        source_crs = pyproj.CRS.from_user_input(crs or settings.crs)
        x = _numbers(path, table["x"], labels, "x", decimal_comma, required=True)
        y = _numbers(path, table["y"], labels, "y", decimal_comma, required=True)
        _check_extent(path, x, y, _area_bounds(source_crs), source_crs, labels, fields="x/y")
    elif "lon" in table or "lat" in table:
        _require(path, table, "lon", "lat")
        source_crs = pyproj.CRS.from_epsg(4326)
        x = _numbers(path, table["lon"], labels, "lon", decimal_comma, required=True)
        y = _numbers(path, table["lat"], labels, "lat", decimal_comma, required=True)
        bad = (np.abs(x) > 180) | (np.abs(y) > 90)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                path, f"{labels[i]}: lon/lat ({x[i]}, {y[i]}) is not a WGS84 position"
            )
        target = pyproj.CRS.from_user_input(settings.crs)
        if target.area_of_use is not None:
            _check_extent(path, x, y, target.area_of_use.bounds, target, labels,
                          fields="lon/lat")
    else:
        raise InputError(
            path, f"no coordinate columns; expected x,y (in {crs or settings.crs}) or "
            f"lon,lat (WGS84); found {list(table.columns)}"
        )
    transformer = pyproj.Transformer.from_crs(source_crs, settings.crs, always_xy=True)
    tx, ty = transformer.transform(x, y)
    return shapely.points(np.asarray(tx, dtype=np.float64), np.asarray(ty, dtype=np.float64))


def _vector_points(
    path: Path, geometry: gpd.GeoSeries, labels: np.ndarray, settings: Settings
) -> np.ndarray:
    """Points in settings.crs; a polygon stands for a point surely inside it."""
    values = geometry.to_numpy()
    kinds = shapely.get_type_id(values)
    allowed = [shapely.GeometryType.POINT, shapely.GeometryType.MULTIPOINT,
               shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON]
    bad = ~np.isin(kinds, allowed) | shapely.is_empty(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        kind = "missing" if values[i] is None else f"a {values[i].geom_type}"
        raise InputError(path, f"{labels[i]}: geometry is {kind}; expected a point or polygon")
    projected = geometry.to_crs(settings.crs).to_numpy()
    points = np.where(
        shapely.get_type_id(projected) == shapely.GeometryType.POINT,
        projected,
        shapely.point_on_surface(projected),
    )
    target = pyproj.CRS.from_user_input(settings.crs)
    _check_extent(path, shapely.get_x(points), shapely.get_y(points), _area_bounds(target),
                  target, labels, fields="geometry")
    return points


def _assemble(
    path: Path,
    settings: Settings,
    table: pd.DataFrame,
    ftype: np.ndarray,
    labels: np.ndarray,
    points: np.ndarray,
    decimal_comma: bool,
) -> gpd.GeoDataFrame:
    """Check ids and capacities; build the sorted output frame."""
    n = len(table)
    ids = np.array([None if _is_blank(v) else str(v).strip() for v in table["facility_id"]],
                   dtype=object)
    names = (np.array([None if _is_blank(v) else str(v).strip() for v in table["name"]],
                      dtype=object)
             if "name" in table else np.full(n, None, dtype=object))
    capacity = (_numbers(path, table["capacity"], labels, "capacity", decimal_comma,
                         required=False)
                if "capacity" in table else np.full(n, np.nan))
    # Only a GP practice's FTE means anything (a school's might count teachers).
    gp = ftype == "gp"
    fte = np.full(n, np.nan)
    if "fte" in table:
        fte[gp] = _numbers(path, table["fte"].to_numpy()[gp], labels[gp], "fte", decimal_comma,
                           required=False)
    for i, value in enumerate(ids):
        if value is None:
            raise InputError(path, f"{labels[i]}: field 'facility_id' is empty")
    first_seen: dict[str, int] = {}
    for i, value in enumerate(ids):
        if value in first_seen:
            raise InputError(
                path, f"{labels[i]}: field 'facility_id': duplicate id {value!r} "
                f"(also on {labels[first_seen[value]]})"
            )
        first_seen[value] = i
    for field, values in (("capacity", capacity), ("fte", fte)):
        for i in np.flatnonzero(~np.isnan(values)):
            problem = plausibility_problem(ftype[i], field, float(values[i]))
            if problem is not None:
                raise InputError(path, f"{labels[i]}: field {field!r}: {problem}")

    out = gpd.GeoDataFrame(
        {
            "facility_id": ids,
            "type": ftype,
            "name": pd.Series(names, dtype=object),
            "capacity": capacity,
            "fte": fte,
            "source": np.full(n, path.name, dtype=object),
        },
        geometry=gpd.GeoSeries(points, crs=settings.crs),
        crs=settings.crs,
    )
    out = out.sort_values(["type", "facility_id"], kind="stable").reset_index(drop=True)
    return out[list(COLUMNS)]


def _require(path: Path, table: pd.DataFrame, *columns: str) -> None:
    missing = [c for c in columns if c not in table]
    if missing:
        raise InputError(
            path, f"missing column(s) {missing}; found {list(table.columns)}"
        )


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _numbers(
    path: Path,
    values: Iterable[object],
    labels: np.ndarray,
    field: str,
    decimal_comma: bool,
    *,
    required: bool,
) -> np.ndarray:
    """Parse a column of numbers; blank is NaN unless required."""
    out = []
    for label, value in zip(labels, values):
        if _is_blank(value):
            if required:
                raise InputError(path, f"{label}: field {field!r} is empty; expected a number")
            out.append(math.nan)
            continue
        text = str(value).strip()
        if decimal_comma:
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            raise InputError(
                path, f"{label}: field {field!r}: {value!r} is not a number"
            ) from None
        if not math.isfinite(number):
            raise InputError(path, f"{label}: field {field!r}: {value!r} is not a finite number")
        out.append(number)
    return np.asarray(out, dtype=np.float64)


def _area_bounds(crs: pyproj.CRS) -> tuple[float, float, float, float] | None:
    """Bounds of the CRS's area of use in its own coordinates (None when unknown)."""
    area = crs.area_of_use
    if area is None:
        return None
    to_crs = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return to_crs.transform_bounds(*area.bounds)


def _check_extent(
    path: Path,
    x: np.ndarray,
    y: np.ndarray,
    bounds: tuple[float, float, float, float] | None,
    crs: pyproj.CRS,
    labels: np.ndarray,
    *,
    fields: str,
) -> None:
    """Fail on the first point far outside ``bounds``, the area of use of ``crs``."""
    if bounds is None or len(x) == 0:
        return
    xmin, ymin, xmax, ymax = bounds
    dx = (xmax - xmin) * _AREA_OF_USE_MARGIN
    dy = (ymax - ymin) * _AREA_OF_USE_MARGIN

    def outside(px: np.ndarray, py: np.ndarray) -> np.ndarray:
        return (px < xmin - dx) | (px > xmax + dx) | (py < ymin - dy) | (py > ymax + dy)

    far = outside(x, y)
    if not far.any():
        return
    i = int(np.flatnonzero(far)[0])
    message = (
        f"{labels[i]}: {fields} ({x[i]:.10g}, {y[i]:.10g}) lies far outside the area of use "
        f"of {crs.to_string()} ({crs.area_of_use.name})"
    )
    if fields == "x/y" and crs.is_projected and abs(x[i]) <= 180 and abs(y[i]) <= 90:
        message += "; looks like longitude/latitude; set crs or use lon/lat columns"
    elif fields == "lon/lat" and not outside(y[i:i + 1], x[i:i + 1])[0]:
        message += "; are lon and lat swapped?"
    raise InputError(path, message)
