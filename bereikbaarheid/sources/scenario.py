"""Reader for scenario files (TOML): facilities closed, added or resized, a projection, bus frequencies."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyproj

from .. import _io
from ..config import CAPACITY_UNITS, FACILITY_TYPES
from ..errors import ConfigError, InputError
from . import boundaries, facilities as facility_source, projection as projection_source

# The catalogue keys a plain profile with this scenario name.
BASELINE = "baseline"

_TABLES: dict[str, set[str]] = {
    "scenario": {"name", "description"},
    "close": {"facility_id"},
    "add": {"facility_id", "type", "x", "y", "lon", "lat", "capacity", "fte", "name"},
    "capacity": {"facility_id", "capacity", "fte"},
    "projection": {"file", "year"},
    "frequency": {"route_id", "factor"},
}
_TO_RD = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
_FROM_RD = pyproj.Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
# A route's trips are copied whole per headway (factor 2, 3, ...) or thinned to
# every n-th (1/2, 1/3, ...; see ``networks.timetable.with_route_frequency``);
# a factor applied more than 2 % off what was asked is refused, not rounded.
_FREQUENCY_TOLERANCE = 0.02
# Twelve times as often turns an hourly bus into one every five minutes, the
# densest Dutch urban service; more only multiplies the timetable.
MAX_FREQUENCY_FACTOR = 12.0


@dataclass(frozen=True)
class AddedFacility:
    """A new facility: id, type, position in EPSG:28992 and optional capacity, FTE, name."""

    facility_id: str
    type: str
    x: float
    y: float
    capacity: float | None = None
    fte: float | None = None
    name: str | None = None


@dataclass(frozen=True)
class CapacityChange:
    """A facility's new capacity (in its type's unit) or, for a GP practice, its new FTE."""

    facility_id: str
    capacity: float | None = None
    fte: float | None = None


@dataclass(frozen=True)
class ProjectionChoice:
    """The population projection of a scenario: the file, the year and the projection read."""

    file: Path
    year: int
    projection: projection_source.Projection


@dataclass(frozen=True)
class FrequencyChange:
    """A public-transport route whose trips run ``factor`` times as often."""

    route_id: str
    factor: float


@dataclass(frozen=True)
class Scenario:
    """A what-if on top of a baseline run, as read by ``read_scenario``.

    Attributes
    ----------
    path
        The scenario file.
    name
        Safe for a folder name.
    description
        Free text ("" when absent).
    close
        Ids of facilities to close.
    add
        New facilities.
    capacity
        Capacity or FTE changes of existing facilities.
    projection
        The population projection and year, or None.
    frequency
        Route frequency changes.
    """

    path: Path
    name: str
    description: str
    close: tuple[str, ...] = ()
    add: tuple[AddedFacility, ...] = ()
    capacity: tuple[CapacityChange, ...] = ()
    projection: ProjectionChoice | None = None
    frequency: tuple[FrequencyChange, ...] = ()

    def changes_summary(self) -> list[str]:
        """One human-readable line per change, in file order per kind."""
        lines = [f"close facility {fid}" for fid in self.close]
        for f in self.add:
            size = []
            if f.capacity is not None:
                size.append(f"{f.capacity:g} {CAPACITY_UNITS[f.type]}")
            if f.fte is not None:
                size.append(f"{f.fte:g} FTE")
            what = f"add {f.type} {f.facility_id}" + (f" ({f.name})" if f.name else "")
            where = f" at x {f.x:.0f}, y {f.y:.0f} (EPSG:28992)"
            lines.append(what + where + (f", {', '.join(size)}" if size else
                                         ", default capacity"))
        for c in self.capacity:
            to = f"{c.fte:g} FTE" if c.fte is not None else f"{c.capacity:g}"
            lines.append(f"set the capacity of {c.facility_id} to {to}")
        if self.projection is not None:
            lines.append(f"population projected to {self.projection.year} "
                         f"({self.projection.file.name})")
        lines += [f"route {c.route_id}: trips run {c.factor:g} times as often"
                  for c in self.frequency]
        return lines


def read_scenario(path: str | Path) -> Scenario:
    """Read a scenario TOML file.

    The file holds ``[scenario]`` with ``name`` (letters, digits, ``.``,
    ``_``, ``-``; it names the output folder; not ``baseline``) and an optional
    ``description``, and any of::

        [[close]]        facility_id
        [[add]]          facility_id, type, x and y (EPSG:28992) or lon and
                         lat (WGS84), near the Netherlands, optional capacity
                         (in the type's unit) and fte (GP only), both within
                         ``facilities.PLAUSIBLE_MAX``, and name
        [[capacity]]     facility_id and capacity or fte (GP), within the
                         largest of ``facilities.PLAUSIBLE_MAX`` (the type is
                         known only once the run's facilities are)
        [projection]     file (a projection CSV, relative to this file), year
        [[frequency]]    route_id, factor: the route's trips run factor times
                         as often, a whole number up to 12 or 1/n (0.5,
                         0.333, 0.25, ...)

    Ids must not repeat within a kind; a facility can be closed or resized,
    not both, and an added one is neither. Whether closed and resized ids
    exist, and added ones do not, is checked against the facilities of the
    run.

    Parameters
    ----------
    path
        The TOML file.

    Returns
    -------
    Scenario

    Raises
    ------
    InputError
        The file (or its projection file) is missing or unreadable, or the
        projection file is not a valid projection.
    ConfigError
        Naming the file and the key: unknown key, missing or wrong value
        (an unknown type, with the closest known one; an implausible
        capacity or FTE; a position far from the Netherlands; a frequency
        factor that cannot be applied), duplicate id, a projection year the
        projection lacks.
    """
    path = Path(path)
    data = _io.read_toml(path, "a scenario TOML file")
    reader = _Reader(path)
    unknown = sorted(set(data) - set(_TABLES))
    if unknown:
        reader.fail(unknown[0], f"unknown key; expected tables {sorted(_TABLES)}")
    head = reader.table(data, "scenario", required=True)
    name = reader.text(head, "scenario", "name")
    problem = _io.folder_name_problem(name)
    if problem:
        reader.fail("scenario.name", problem)
    if name == BASELINE:
        reader.fail("scenario.name", f"{BASELINE!r} names the profile a scenario is compared "
                                     "with (in the catalogue); expected another name")
    description = reader.text(head, "scenario", "description", required=False) or ""

    close = tuple(reader.text(t, key, "facility_id")
                  for key, t in reader.array(data, "close"))
    add = tuple(_added(reader, key, t) for key, t in reader.array(data, "add"))
    capacity = tuple(_capacity_change(reader, key, t)
                     for key, t in reader.array(data, "capacity"))
    frequency = tuple(_frequency_change(reader, key, t)
                      for key, t in reader.array(data, "frequency"))
    projection = None
    if "projection" in data:
        projection = _projection_choice(reader, reader.table(data, "projection"))

    for kind, ids in (("close", close), ("add", [a.facility_id for a in add]),
                      ("capacity", [c.facility_id for c in capacity]),
                      ("frequency", [c.route_id for c in frequency])):
        seen: set[str] = set()
        for k, fid in enumerate(ids, start=1):
            if fid in seen:
                field = "route_id" if kind == "frequency" else "facility_id"
                reader.fail(f"{kind}[{k}].{field}", f"{fid!r} appears twice")
            seen.add(fid)
    added = {a.facility_id for a in add}
    for kind, ids in (("close", close), ("capacity", [c.facility_id for c in capacity])):
        for k, fid in enumerate(ids, start=1):
            if fid in added:
                reader.fail(f"{kind}[{k}].facility_id",
                            f"{fid!r} is added by this scenario; change its [[add]] instead")
    closed = set(close)
    for k, change in enumerate(capacity, start=1):
        if change.facility_id in closed:
            reader.fail(f"capacity[{k}].facility_id",
                        f"{change.facility_id!r} is also closed")
    return Scenario(path=path, name=name, description=description, close=close, add=add,
                    capacity=capacity, projection=projection, frequency=frequency)


class _Reader:
    """Typed access to the parsed TOML that fails naming the file and the key."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, message: str) -> None:
        raise ConfigError(message, path=self.path, key=key)

    def table(self, data: dict[str, Any], key: str, *, required: bool = False) -> dict[str, Any]:
        if key not in data:
            if required:
                self.fail(key, "missing; expected a table")
            return {}
        value = data[key]
        if not isinstance(value, dict):
            self.fail(key, f"expected a table [{key}]; got {type(value).__name__}")
        self._known(value, key, key)
        return value

    def array(self, data: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
        """The entries of an array of tables as (key for messages, table)."""
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            self.fail(key, f"expected an array of tables [[{key}]]")
        out = []
        for k, entry in enumerate(value, start=1):
            where = f"{key}[{k}]"
            self._known(entry, key, where)
            out.append((where, entry))
        return out

    def _known(self, entry: dict[str, Any], kind: str, where: str) -> None:
        unknown = sorted(set(entry) - _TABLES[kind])
        if unknown:
            self.fail(f"{where}.{unknown[0]}",
                      f"unknown key; expected one of {sorted(_TABLES[kind])}")

    def text(self, entry: dict[str, Any], where: str, key: str, *,
             required: bool = True) -> str | None:
        if key not in entry:
            if required:
                self.fail(f"{where}.{key}", "missing")
            return None
        value = entry[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{where}.{key}", f"expected a non-empty string; got {value!r}")
        return value.strip()

    def number(self, entry: dict[str, Any], where: str, key: str, *, required: bool = True,
               positive: bool = False) -> float | None:
        if key not in entry:
            if required:
                self.fail(f"{where}.{key}", "missing")
            return None
        value = entry[key]
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
              and math.isfinite(value) and (value > 0 if positive else value >= 0))
        if not ok:
            self.fail(f"{where}.{key}",
                      f"expected a number {'> 0' if positive else '>= 0'}; got {value!r}")
        return float(value)


def _added(reader: _Reader, where: str, entry: dict[str, Any]) -> AddedFacility:
    fid = reader.text(entry, where, "facility_id")
    written = reader.text(entry, where, "type")
    ftype = written.lower()
    if ftype not in FACILITY_TYPES:
        hint = facility_source.type_hint(ftype, FACILITY_TYPES)
        reader.fail(f"{where}.type", f"unknown type {written!r}{hint}; expected one of "
                                     f"{list(FACILITY_TYPES)}")
    has_xy = "x" in entry or "y" in entry
    has_lonlat = "lon" in entry or "lat" in entry
    if has_xy == has_lonlat:
        reader.fail(where, "give x and y (EPSG:28992) or lon and lat (WGS84), one pair")
    if has_xy:
        x = _coordinate(reader, entry, where, "x")
        y = _coordinate(reader, entry, where, "y")
        if not boundaries.near_netherlands(*_FROM_RD.transform(x, y, errcheck=False)):
            reader.fail(f"{where}.x", f"({x:g}, {y:g}) lies far from the Netherlands in "
                                      "EPSG:28992; longitude/latitude go in lon and lat")
    else:
        lon = _coordinate(reader, entry, where, "lon")
        lat = _coordinate(reader, entry, where, "lat")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            reader.fail(f"{where}.lon", f"({lon:g}, {lat:g}) is not a WGS84 position")
        x, y = (float(v) for v in _TO_RD.transform(lon, lat))
        if not boundaries.near_netherlands(lon, lat):
            swapped = bool(boundaries.near_netherlands(lat, lon))
            reader.fail(f"{where}.lon", f"({lon:g}, {lat:g}) lies far from the Netherlands"
                        + ("; are lon and lat swapped?" if swapped else ""))
    fte = reader.number(entry, where, "fte", required=False)
    if fte is not None and ftype != "gp":
        reader.fail(f"{where}.fte", f"FTE is for GP practices only; a {ftype} takes capacity "
                                    f"(in {CAPACITY_UNITS[ftype]})")
    capacity = reader.number(entry, where, "capacity", required=False)
    for key, value in (("capacity", capacity), ("fte", fte)):
        problem = (None if value is None
                   else facility_source.plausibility_problem(ftype, key, value))
        if problem is not None:
            reader.fail(f"{where}.{key}", problem)
    return AddedFacility(facility_id=fid, type=ftype, x=x, y=y, capacity=capacity,
                         fte=fte, name=reader.text(entry, where, "name", required=False))


def _coordinate(reader: _Reader, entry: dict[str, Any], where: str, key: str) -> float:
    value = entry.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        reader.fail(f"{where}.{key}", f"expected a number; got {value!r}")
    return float(value)


def _capacity_change(reader: _Reader, where: str, entry: dict[str, Any]) -> CapacityChange:
    fid = reader.text(entry, where, "facility_id")
    capacity = reader.number(entry, where, "capacity", required=False)
    fte = reader.number(entry, where, "fte", required=False)
    if (capacity is None) == (fte is None):
        reader.fail(where, "give capacity or fte (GP), one of them")
    # The facility's type is known only against the run's facilities: here
    # the largest bound of any type (FTE: a GP practice's).
    field, value = ("capacity", capacity) if capacity is not None else ("fte", fte)
    upper = max(v for (_, f), v in facility_source.PLAUSIBLE_MAX.items() if f == field)
    if value > upper:
        ranges = ", ".join(
            f"{ftype} 0–{v:,.0f} {'FTE' if f == 'fte' else CAPACITY_UNITS.get(ftype, '')}"
            for (ftype, f), v in facility_source.PLAUSIBLE_MAX.items() if f == field)
        reader.fail(f"{where}.{field}", f"{value:g} is more than any facility holds; expected "
                                        f"a value within its type's range ({ranges})")
    return CapacityChange(facility_id=fid, capacity=capacity, fte=fte)


def _frequency_change(reader: _Reader, where: str, entry: dict[str, Any]) -> FrequencyChange:
    route_id = reader.text(entry, where, "route_id")
    factor = reader.number(entry, where, "factor", positive=True)
    applied = float(round(factor)) if factor >= 1 else 1.0 / max(round(1.0 / factor), 1)
    if factor > MAX_FREQUENCY_FACTOR:
        reader.fail(f"{where}.factor", f"{factor:g} is above {MAX_FREQUENCY_FACTOR:g}; expected "
                                       "a factor up to 12 (an hourly route every 5 minutes)")
    if abs(applied - factor) > _FREQUENCY_TOLERANCE * factor:
        reader.fail(f"{where}.factor", f"{factor:g} cannot be applied (it would act as "
                                       f"{applied:.4g}): trips are copied whole per headway or "
                                       "thinned to every n-th; expected a whole number (2, 3, "
                                       "...) or 1/n (0.5, 0.333, 0.25, ...)")
    return FrequencyChange(route_id=route_id, factor=factor)


def _projection_choice(reader: _Reader, entry: dict[str, Any]) -> ProjectionChoice:
    file = reader.text(entry, "projection", "file")
    year = entry.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        reader.fail("projection.year", f"expected a whole year; got {year!r}")
    if "\0" in file:
        reader.fail("projection.file", f"{file!r} is not a file name")
    resolved = (reader.path.parent / file).resolve()
    if not resolved.is_file():
        raise InputError(resolved, f"file not found; named by projection.file of {reader.path} "
                                   "(relative to that file)")
    projection = projection_source.read_projection(resolved)
    if year not in projection.years:
        reader.fail("projection.year", f"{year} is not in {resolved.name}; its years are "
                                       f"{list(projection.years)}")
    return ProjectionChoice(file=resolved, year=year, projection=projection)
