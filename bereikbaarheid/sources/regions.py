"""Regions: the NPVR registry, custom regions and the buffered analysis area."""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import _io
from ..config import Settings
from ..errors import ConfigError, InputError
from . import boundaries

REGISTRY_PATH: Path = Path(__file__).resolve().parents[1] / "data" / "npvr_regions.toml"

# A region id becomes a CLI argument and a folder name: lower-case ascii words
# joined by single hyphens.
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_REQUIRED_KEYS: tuple[str, ...] = ("id", "name", "municipalities")
_OPTIONAL_KEYS: tuple[str, ...] = ("confidence", "note")


@dataclass(frozen=True)
class RegionSpec:
    """What defines a region, before any boundary file is read.

    Attributes
    ----------
    id
        Lower-case ascii slug (``"zeeuws-vlaanderen"``): the CLI's ``--region``
        and the output folder.
    name
        Display name.
    municipalities
        Member municipalities, code (``"GM"`` + 4 digits) -> name, in file
        order. A name may be ``""`` where it is not known yet (custom
        regions); :func:`resolve_region` fills it from the boundary file.
    confidence, note
        How certain the membership is, and a remark (registry regions).
    polygon_path
        For a region drawn as a polygon file instead of a list of
        municipalities; ``municipalities`` is then empty until resolved.
    """

    id: str
    name: str
    municipalities: dict[str, str]
    confidence: str | None = None
    note: str | None = None
    polygon_path: Path | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        """Member municipality codes in file order."""
        return tuple(self.municipalities)


# eq=False: the GeoDataFrame field has no truth value for "==".
@dataclass(frozen=True, eq=False)
class Region:
    """A region resolved against municipality boundaries.

    Attributes
    ----------
    spec
        The definition, with municipality names filled in from the boundary
        file where the definition left them empty, and for a polygon region
        the municipalities found inside it.
    municipalities
        ``code``, ``name`` (from the boundary file) and ``geometry`` in
        ``settings.crs`` of the member municipalities present in the boundary
        file, in the order of ``spec.codes``. For a polygon region: every
        municipality whose representative point (a point guaranteed inside its
        polygon) lies in the region polygon, sorted by code.
    polygon
        The dissolved region in ``settings.crs``: the union of the member
        municipalities, or the polygon file's dissolved polygon.
    area
        The analysis area: ``polygon`` buffered by ``buffer_m``, so that
        facilities and roads just across the region's edge are reachable.
    buffer_m
        The buffer width in metres.
    missing
        ``(code, name)`` of each member absent from the boundary file (only
        non-empty when resolved with ``strict=False``).
    """

    spec: RegionSpec
    municipalities: gpd.GeoDataFrame
    polygon: shapely.Geometry
    area: shapely.Geometry
    buffer_m: float
    missing: tuple[tuple[str, str], ...] = ()


def read_registry(path: str | Path | None = None) -> dict[str, RegionSpec]:
    """Read a region registry (TOML), by default the packaged NPVR regions.

    Parameters
    ----------
    path
        A TOML file of ``[[region]]`` tables with ``id``, ``name``,
        ``municipalities`` (code = name) and optional ``confidence`` and
        ``note``; see the header of ``bereikbaarheid/data/npvr_regions.toml``.
        ``REGISTRY_PATH`` when None.

    Returns
    -------
    dict[str, RegionSpec]
        Regions by id, in file order; codes normalised to ``"GM"`` + 4 digits.

    Raises
    ------
    InputError
        The file is missing or not TOML, or a region has a missing or
        malformed field, an unknown key, a duplicate id, a bad slug or a
        malformed municipality code; the message names the region (1-based
        index and id) and the field.
    """
    path = REGISTRY_PATH if path is None else Path(path)
    data = _io.read_toml(path, "a region registry (TOML)")
    unknown = sorted(set(data) - {"region"})
    if unknown:
        raise InputError(path, f"unknown top-level key(s) {unknown}; expected only "
                               "[[region]] tables")
    tables = data.get("region")
    if not isinstance(tables, list) or not tables:
        raise InputError(path, "no [[region]] tables; expected at least one region")
    registry: dict[str, RegionSpec] = {}
    for index, table in enumerate(tables, start=1):
        spec = _parse_region(path, index, table)
        if spec.id in registry:
            raise InputError(path, f"region {index} ({spec.id!r}): field 'id': duplicate id; "
                                   "each region needs its own id")
        registry[spec.id] = spec
    return registry


def get_region(region_id: str, registry: dict[str, RegionSpec] | None = None) -> RegionSpec:
    """A region of the registry by id.

    Parameters
    ----------
    region_id
        The region's slug, e.g. ``"twente"`` (case and surrounding spaces
        are ignored).
    registry
        Output of :func:`read_registry`; the packaged NPVR registry when None.

    Raises
    ------
    ConfigError
        No region has this id; the message suggests the closest id and lists
        all of them.
    """
    if registry is None:
        registry = read_registry()
    key = str(region_id).strip().lower()
    if key in registry:
        return registry[key]
    close = difflib.get_close_matches(key, list(registry), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ConfigError(f"unknown region {region_id!r}{hint}; known regions: {', '.join(registry)}")


def custom_region(region_id: str, codes: Iterable[object], name: str | None = None) -> RegionSpec:
    """A region made of the given municipalities.

    Parameters
    ----------
    region_id
        Name of the output folder: any text without a path separator or
        ``@`` (which marks scenario folders); registry ids are slugs.
    codes
        Municipality codes in any form :func:`boundaries.normalise_code`
        accepts (``"GM0400"``, ``"0400"``, ``400``); duplicates are dropped.
    name
        Display name; ``region_id`` when None.

    Returns
    -------
    RegionSpec
        Municipality names are empty until :func:`resolve_region` fills them
        from the boundary file.

    Raises
    ------
    ConfigError
        An unusable folder name, a malformed code, or no codes at all.
    """
    _check_folder_name(region_id)
    municipalities: dict[str, str] = {}
    for value in codes:
        code = boundaries.normalise_code(value)
        if code is None:
            raise ConfigError(f"region {region_id!r}: {value!r} is not a municipality code "
                              "('GM' + 4 digits)")
        municipalities.setdefault(code, "")
    if not municipalities:
        raise ConfigError(f"region {region_id!r}: no municipality codes given")
    return RegionSpec(id=region_id, name=name or region_id, municipalities=municipalities)


def polygon_region(region_id: str, path: str | Path, name: str | None = None) -> RegionSpec:
    """A region drawn as a polygon file (GeoPackage, GeoJSON, shapefile).

    Parameters
    ----------
    region_id
        Name of the output folder (as for :func:`custom_region`).
    path
        The polygon file; read by :func:`read_polygon` when resolved.
    name
        Display name; ``region_id`` when None.

    Raises
    ------
    ConfigError
        An unusable folder name.
    InputError
        The file does not exist.
    """
    _check_folder_name(region_id)
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found; expected a region polygon "
                               "(GeoPackage, GeoJSON or shapefile)")
    return RegionSpec(id=region_id, name=name or region_id, municipalities={},
                      polygon_path=path)


def read_polygon(path: str | Path, settings: Settings, *, layer: str | None = None
                 ) -> shapely.Geometry:
    """Read a region polygon file as one valid (Multi)Polygon in ``settings.crs``.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON or shapefile with polygons in any declared CRS.
        Non-polygonal features are ignored; all polygons are dissolved.
    settings
        Run settings; ``crs`` is the output CRS.
    layer
        Layer name; the first layer by default.

    Raises
    ------
    InputError
        The file is missing or unreadable, declares no CRS, holds no
        polygon, or has a feature far outside the Netherlands in its declared
        CRS (a wrong CRS label).
    """
    path = Path(path)
    frame = boundaries.read_layer(path, layer, "region polygons",
                                  "(GeoPackage, GeoJSON or shapefile)")
    boundaries.check_near_netherlands(path, frame, ["feature"] * len(frame))
    geometry = frame.geometry[~(frame.geometry.isna() | frame.geometry.is_empty)]
    parts = _polygons(shapely.make_valid(geometry.to_crs(settings.crs).to_numpy()))
    if not parts:
        raise InputError(path, "no polygon found; expected (Multi)Polygon features "
                               "outlining the region")
    return shapely.make_valid(shapely.union_all(parts))


def resolve_region(
    spec: RegionSpec,
    municipalities: gpd.GeoDataFrame,
    settings: Settings,
    *,
    buffer_m: float = 15000.0,
    strict: bool = True,
) -> Region:
    """Resolve a region against municipality boundaries and buffer it.

    Parameters
    ----------
    spec
        From :func:`get_region`, :func:`custom_region` or
        :func:`polygon_region`.
    municipalities
        Output of :func:`boundaries.read_municipalities` (brought into
        ``settings.crs`` if it is in another CRS).
    settings
        Run settings; ``crs`` is the CRS of every returned geometry.
    buffer_m
        Width of the buffer around the region that makes the analysis area.
    strict
        Raise when a member code is absent from the boundary file; otherwise
        record it in ``Region.missing`` and use the members present.

    Returns
    -------
    Region

    Raises
    ------
    ConfigError
        ``buffer_m`` is negative or not finite; a member code is absent from
        the boundary file (strict) or every one is (not strict). The message
        names each absent code with its name.
    """
    if not (math.isfinite(buffer_m) and buffer_m >= 0):
        raise ConfigError(f"buffer_m must be a finite number of metres >= 0; got {buffer_m!r}")
    if municipalities.crs is not None and municipalities.crs != settings.crs:
        municipalities = municipalities.to_crs(settings.crs)
    if spec.polygon_path is not None:
        polygon = read_polygon(spec.polygon_path, settings)
        inside = shapely.intersects(
            polygon, municipalities.geometry.representative_point().to_numpy())
        members = municipalities[inside].sort_values("code")
        missing: tuple[tuple[str, str], ...] = ()
    else:
        by_code = municipalities.set_index("code", drop=False)
        present = [c for c in spec.codes if c in by_code.index]
        missing = tuple((c, spec.municipalities[c]) for c in spec.codes
                        if c not in by_code.index)
        if missing and (strict or not present):
            listed = ", ".join(f"{c} {n}".strip() for c, n in missing)
            raise ConfigError(f"region {spec.id!r}: municipality code(s) absent from the "
                              f"boundary file: {listed}")
        members = by_code.loc[present]
        polygon = shapely.union_all(members.geometry.to_numpy())
    members = gpd.GeoDataFrame(
        {"code": members["code"].to_numpy(dtype=object),
         "name": pd.Series(members["name"].to_numpy(dtype=object), dtype=object)},
        geometry=members.geometry.to_numpy(), crs=settings.crs,
    )
    found_names = dict(zip(members["code"], members["name"]))
    if spec.polygon_path is not None:
        names = {c: n or "" for c, n in found_names.items()}
    else:
        names = {c: n or found_names.get(c) or "" for c, n in spec.municipalities.items()}
    return Region(
        spec=dataclasses.replace(spec, municipalities=names),
        municipalities=members,
        polygon=polygon,
        area=polygon.buffer(buffer_m),
        buffer_m=float(buffer_m),
        missing=missing,
    )


def _parse_region(path: Path, index: int, table: object) -> RegionSpec:
    where = f"region {index}"
    if not isinstance(table, dict):
        raise InputError(path, f"{where}: expected a [[region]] table")
    if isinstance(table.get("id"), str):
        where = f"region {index} ({table['id']!r})"
    unknown = sorted(set(table) - set(_REQUIRED_KEYS) - set(_OPTIONAL_KEYS))
    if unknown:
        raise InputError(path, f"{where}: unknown field(s) {unknown}; expected "
                               f"{list(_REQUIRED_KEYS + _OPTIONAL_KEYS)}")
    for key in _REQUIRED_KEYS:
        if key not in table:
            raise InputError(path, f"{where}: field {key!r} missing")
    for key in ("id", "name", *_OPTIONAL_KEYS):
        if key in table and not (isinstance(table[key], str) and table[key].strip()):
            raise InputError(path, f"{where}: field {key!r}: expected a non-empty string, "
                                   f"got {table[key]!r}")
    region_id = table["id"]
    if not _SLUG.match(region_id):
        raise InputError(path, f"{where}: field 'id': {region_id!r} is not a slug; expected "
                               "lower-case ascii letters and digits joined by single hyphens, "
                               "e.g. 'zeeuws-vlaanderen'")
    members = table["municipalities"]
    if not isinstance(members, dict) or not members:
        raise InputError(path, f"{where}: field 'municipalities': expected a non-empty table "
                               "of code = name, e.g. { GM1714 = \"Sluis\" }")
    municipalities: dict[str, str] = {}
    for key, value in members.items():
        code = boundaries.normalise_code(key)
        if code is None:
            raise InputError(path, f"{where}: field 'municipalities': {key!r} is not a "
                                   "municipality code; expected 'GM' + 4 digits")
        if not isinstance(value, str):
            raise InputError(path, f"{where}: field 'municipalities': {key} = {value!r}; "
                                   "expected the municipality's name as a string")
        if code in municipalities:
            raise InputError(path, f"{where}: field 'municipalities': {code} listed twice")
        municipalities[code] = value
    return RegionSpec(
        id=region_id,
        name=table["name"],
        municipalities=municipalities,
        confidence=table.get("confidence"),
        note=table.get("note"),
    )


def _check_folder_name(region_id: str) -> None:
    problem = _io.folder_name_problem(region_id)
    if problem:
        raise ConfigError(problem, key="region name")


def _polygons(geometries: np.ndarray) -> list[shapely.Geometry]:
    """The polygons among the parts of ``geometries`` (lines and points dropped)."""
    parts = shapely.get_parts(shapely.get_parts(geometries))
    return [g for g in parts if isinstance(g, shapely.Polygon) and not g.is_empty]
