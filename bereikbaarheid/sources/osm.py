"""OpenStreetMap PBF reader: routable ways and facilities in one streaming pass."""

from __future__ import annotations

import logging
import re
from array import array
from itertools import chain
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import geopandas as gpd
import numpy as np
import osmium
import pyproj
import shapely

from .. import _progress
from ..config import Settings
from ..errors import InputError

logger = logging.getLogger(__name__)

# Tags a network builder may look at; every other tag of a way is dropped to
# keep memory small on country-sized extracts.
WAY_TAGS: tuple[str, ...] = (
    "highway", "access", "motor_vehicle", "motorcar", "vehicle", "bicycle",
    "foot", "oneway", "oneway:bicycle", "cycleway", "cycleway:left",
    "cycleway:right", "cycleway:both", "junction", "maxspeed", "route",
    "duration", "area", "motorroad",
)

FACILITY_COLUMNS: tuple[str, ...] = (
    "facility_id", "type", "name", "capacity", "source", "geometry",
)

# libosmium marks a node reference without a known location with this value
# (the node lies outside the extract).
_UNDEFINED_COORDINATE = 2147483647
_VALUE_SEPARATOR = re.compile(r"[;,]")
_NUMERIC_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")
# A longer "range" (a postcode span, a year span) is no level list: kept as is.
_MAX_RANGE = 10
_COORDINATE_PRECISION = 1e-7


@dataclass
class OsmData:
    """Routable ways and facilities read from one PBF file.

    Ways cut at the extract edge are split into *pieces*: maximal runs of
    consecutive nodes whose location is known. Node arrays are flat over all
    pieces; the nodes of piece ``p`` are ``piece_ptr[p]:piece_ptr[p+1]``.

    Attributes
    ----------
    path
        The PBF file read.
    crs
        CRS of ``node_x``/``node_y`` and of ``facilities``.
    way_id
        int64 OSM id per routable way.
    way_tags
        Per routable way, the tags in ``WAY_TAGS`` it carries.
    piece_way
        int64 index into ``way_id`` per piece.
    piece_ptr
        int64 offsets of each piece into the node arrays (length pieces + 1).
    node_id
        int64 OSM node id per piece node.
    node_lon, node_lat
        float64 WGS84 coordinates per piece node.
    node_x, node_y
        float64 coordinates in ``crs`` per piece node.
    facilities
        GeoDataFrame with ``FACILITY_COLUMNS`` (see :func:`read_osm`).
    report
        Counts: ``ways_routable``, ``ways_cut_at_extract_edge``,
        ``ways_without_segment``, ``way_nodes_missing``, ``facilities`` (per
        type).
    """

    path: Path
    crs: str
    way_id: np.ndarray
    way_tags: list[dict[str, str]]
    piece_way: np.ndarray
    piece_ptr: np.ndarray
    node_id: np.ndarray
    node_lon: np.ndarray
    node_lat: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    facilities: gpd.GeoDataFrame
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def n_ways(self) -> int:
        return int(self.way_id.shape[0])

    def piece_of_node(self) -> np.ndarray:
        """int64 piece index of every entry of the node arrays."""
        return np.repeat(np.arange(self.piece_way.shape[0], dtype=np.int64),
                         np.diff(self.piece_ptr))


def facility_types_of(tags: Mapping[str, str], settings: Settings) -> list[str]:
    """Facility types (in ``settings.facility_types`` order) that ``tags`` match.

    A feature is of a type when it matches any ``include`` rule and no
    ``exclude`` rule of ``settings.facility_tags[type]``. A rule matches when
    every tag it names is present with an accepted value; ``"*"`` accepts any
    value, ``"!v"`` accepts a value none of whose parts is ``v``, a plain
    ``v`` a value one of whose parts is ``v``. A tag value is split into parts
    on ``;`` and ``,``; parts are stripped and lowercased (rule values are
    lowercased too) and a numeric range ``a-b`` (at most 10 apart) also
    stands for every whole number from ``a`` to ``b``. So ``isced:level=0,1`` and ``isced:level=1-2`` are
    primary schools and ``healthcare:speciality=General`` is a GP.

    Parameters
    ----------
    tags
        OSM tags of one node, way or relation.
    settings
        Run settings (``facility_types``, ``facility_tags``).

    Returns
    -------
    list of str
        Possibly empty; a feature may be of several types.
    """
    types = []
    for ftype in settings.facility_types:
        rule = settings.facility_tags[ftype]
        if any(_rule_matches(r, tags) for r in rule.get("include", [])) and not any(
            _rule_matches(r, tags) for r in rule.get("exclude", [])
        ):
            types.append(ftype)
    return types


def _rule_matches(rule: Mapping[str, list[str]], tags: Mapping[str, str]) -> bool:
    for key, accepted in rule.items():
        value = tags.get(key)
        if value is None:
            return False
        parts = _value_parts(value)
        if not any(
            a == "*" or (a[1:].lower() not in parts if a.startswith("!") else a.lower() in parts)
            for a in accepted
        ):
            return False
    return True


def _value_parts(value: str) -> set[str]:
    """Lowercased parts of a tag value split on ``;``/``,``, ranges expanded."""
    parts = set()
    for part in _VALUE_SEPARATOR.split(value):
        part = part.strip().lower()
        parts.add(part)
        if match := _NUMERIC_RANGE.match(part):
            low, high = int(match.group(1)), int(match.group(2))
            if low <= high <= low + _MAX_RANGE:
                parts.update(str(n) for n in range(low, high + 1))
    return parts


def _facility_keys(settings: Settings) -> set[str]:
    """Keys of which a facility carries at least one (for the reader's filter)."""
    keys: set[str] = set()
    for ftype in settings.facility_types:
        for rule in settings.facility_tags[ftype].get("include", []):
            keys.update(rule)
    return keys


def empty_facilities(crs: str) -> gpd.GeoDataFrame:
    """A facilities table with the right columns and dtypes and no rows."""
    return _facility_frame([], [], [], np.empty(0, dtype=object), crs)


def _facility_frame(ids: list[str], types: list[str], names: list[str | None],
                    points: np.ndarray, crs: str) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {
            "facility_id": np.array(ids, dtype=object),
            "type": np.array(types, dtype=object),
            "name": np.array(names, dtype=object),
            "capacity": np.full(len(ids), np.nan, dtype=np.float64),
            "source": np.array(["osm"] * len(ids), dtype=object),
        },
        geometry=gpd.GeoSeries(points, crs=crs),
        crs=crs,
    )
    gdf = gdf.sort_values(["type", "facility_id"], kind="stable").reset_index(drop=True)
    return gdf[list(FACILITY_COLUMNS)]


class _Collector:
    """Accumulates ways and facility features while the file streams by."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.way_id = array("q")
        self.way_tags: list[dict[str, str]] = []
        self.way_len = array("q")
        self.facility_keys = tuple(sorted(_facility_keys(settings)))
        # (ref, x, y) triples of every routable way node; x, y in 1e-7 degrees
        self.nodes = array("q")
        # facility features: id, types, name, geometry in WGS84
        self.feat_id: list[str] = []
        self.feat_types: list[list[str]] = []
        self.feat_name: list[str | None] = []
        self.feat_geom: list[shapely.Geometry] = []

    def add_feature(self, fid: str, types: list[str], tags: Mapping[str, str],
                    geom: shapely.Geometry) -> None:
        self.feat_id.append(fid)
        self.feat_types.append(types)
        self.feat_name.append(tags.get("name"))
        self.feat_geom.append(geom)

    def node(self, obj: Any) -> None:
        # highway=* nodes (crossings, signals) pass the reader's filter too
        if not any(key in obj.tags for key in self.facility_keys):
            return
        tags = {t.k: t.v for t in obj.tags}
        types = facility_types_of(tags, self.settings)
        if types and obj.location.valid():
            self.add_feature(f"osm:n{obj.id}", types, tags,
                             shapely.Point(obj.location.lon, obj.location.lat))

    def way(self, obj: Any) -> None:
        # Tag lookups in C++ are cheap; a Python dict of all tags is built only
        # for facility candidates.
        tags = obj.tags
        routable = "highway" in tags or tags.get("route") == "ferry"
        candidate = any(key in tags for key in self.facility_keys)
        if not (routable or candidate):
            return
        nodes = [(n.ref, n.x, n.y) for n in obj.nodes]
        if routable:
            self.way_id.append(obj.id)
            self.way_tags.append({k: v for k in WAY_TAGS if (v := tags.get(k)) is not None})
            self.way_len.append(len(nodes))
            self.nodes.extend(chain.from_iterable(nodes))
        if candidate:
            all_tags = {t.k: t.v for t in tags}
            types = facility_types_of(all_tags, self.settings)
            geom = _way_geometry(nodes) if types else None
            if geom is not None:
                self.add_feature(f"osm:w{obj.id}", types, all_tags, geom)

    def area(self, obj: Any) -> None:
        # Areas from closed ways are handled as ways (their own geometry), so
        # only multipolygon relations are taken here: no feature counts twice.
        if obj.from_way():
            return
        tags = {t.k: t.v for t in obj.tags}
        types = facility_types_of(tags, self.settings)
        if not types:
            return
        polygons = []
        for outer in obj.outer_rings():
            shell = [(p.lon, p.lat) for p in outer]
            holes = [[(p.lon, p.lat) for p in inner] for inner in obj.inner_rings(outer)]
            polygons.append(shapely.Polygon(shell, holes))
        if polygons:
            self.add_feature(f"osm:r{obj.orig_id()}", types, tags,
                             shapely.MultiPolygon(polygons))


def _way_geometry(nodes: list[tuple[int, int, int]]) -> shapely.Geometry | None:
    """Polygon of a closed way, else its line, from its located nodes (WGS84)."""
    coords = [(x * _COORDINATE_PRECISION, y * _COORDINATE_PRECISION)
              for _, x, y in nodes if x != _UNDEFINED_COORDINATE]
    if not coords:
        return None
    if len(coords) == 1:
        return shapely.Point(coords[0])
    closed = len(nodes) >= 4 and nodes[0][0] == nodes[-1][0] and len(coords) == len(nodes)
    if closed:
        polygon = shapely.Polygon(coords)
        return polygon if polygon.is_valid else shapely.make_valid(polygon)
    return shapely.LineString(coords)


def read_osm(path: str | Path, settings: Settings) -> OsmData:
    """Read routable ways and facilities from an OpenStreetMap PBF file.

    Routable ways are ``highway=*`` ways and ``route=ferry`` ways. A way whose
    nodes are partly missing (cut at the extract edge) is split into the runs
    of consecutive located nodes and counted in the report. Facilities are
    nodes, ways (closed ways as polygons) and multipolygon relations matching
    :func:`facility_types_of`; a polygon becomes a point inside it
    (``point_on_surface`` in the projected CRS).

    Parameters
    ----------
    path
        ``.osm.pbf`` file.
    settings
        Run settings (``crs``, ``facility_types``, ``facility_tags``).

    Returns
    -------
    OsmData
        Ways and node coordinates in WGS84 and in ``settings.crs``;
        ``facilities`` has columns ``facility_id`` (``"osm:n<id>"``,
        ``"osm:w<id>"``, ``"osm:r<id>"``), ``type``, ``name``, ``capacity``
        (NaN: OSM has none), ``source`` (``"osm"``) and ``geometry`` (Point),
        sorted by (type, facility_id), one row per matched type.

    Raises
    ------
    InputError
        The file is missing, is not a PBF file, or has no routable ways.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found; expected an OpenStreetMap .osm.pbf extract")
    collector = _Collector(settings)
    facility_keys = sorted(_facility_keys(settings))
    processor = osmium.FileProcessor(osmium.io.File(str(path), "pbf"))
    if facility_keys:
        # Only multipolygon relations carrying a facility key are assembled.
        processor.with_areas(osmium.filter.KeyFilter(*facility_keys))
    else:
        processor.with_locations()
    # Untagged nodes and non-road, non-facility ways never reach Python.
    processor.with_filter(osmium.filter.KeyFilter("highway", "route", *facility_keys))
    try:
        for obj in _progress.bar(processor, desc=f"reading {path.name}", unit=" objects"):
            if obj.is_way():
                collector.way(obj)
            elif obj.is_node():
                collector.node(obj)
            elif obj.is_area():
                collector.area(obj)
    except RuntimeError as exc:
        raise InputError(path, f"not an OpenStreetMap PBF file ({exc})") from exc
    if not collector.way_id:
        raise InputError(path, "no routable ways (highway=* or route=ferry) in this extract")
    return _assemble(path, settings, collector)


def _assemble(path: Path, settings: Settings, c: _Collector) -> OsmData:
    transformer = pyproj.Transformer.from_crs("EPSG:4326", settings.crs, always_xy=True)
    way_id = np.frombuffer(c.way_id, dtype=np.int64).copy()
    way_len = np.frombuffer(c.way_len, dtype=np.int64)
    triples = np.frombuffer(c.nodes, dtype=np.int64).reshape(-1, 3)
    refs, xs, ys = triples[:, 0], triples[:, 1], triples[:, 2]
    located = (xs != _UNDEFINED_COORDINATE) & (ys != _UNDEFINED_COORDINATE)
    way_of = np.repeat(np.arange(way_id.shape[0], dtype=np.int64), way_len)
    # A piece starts at every located node that opens a way or follows a
    # missing one; pieces of a single node carry no segment and are dropped.
    first = np.ones(refs.shape[0], dtype=bool)
    first[1:] = way_of[1:] != way_of[:-1]
    prev_located = np.ones(refs.shape[0], dtype=bool)
    prev_located[1:] = located[:-1]
    starts = located & (first | ~prev_located)
    piece_of = np.cumsum(starts) - 1
    piece_of = piece_of[located]
    piece_way = way_of[starts]
    piece_size = np.bincount(piece_of, minlength=piece_way.shape[0])
    keep_piece = piece_size >= 2
    keep_node = keep_piece[piece_of]
    piece_way = piece_way[keep_piece]
    piece_ptr = np.zeros(piece_way.shape[0] + 1, dtype=np.int64)
    np.cumsum(piece_size[keep_piece], out=piece_ptr[1:])

    node_id = refs[located][keep_node]
    lon = xs[located][keep_node] * _COORDINATE_PRECISION
    lat = ys[located][keep_node] * _COORDINATE_PRECISION
    x, y = transformer.transform(lon, lat)

    cut = np.zeros(way_id.shape[0], dtype=bool)
    cut[way_of[~located]] = True
    with_segment = np.zeros(way_id.shape[0], dtype=bool)
    with_segment[piece_way] = True

    facilities = _facilities(c, settings.crs, transformer)
    report: dict[str, Any] = {
        "ways_routable": int(way_id.shape[0]),
        "ways_cut_at_extract_edge": int(cut.sum()),
        "ways_without_segment": int((~with_segment).sum()),
        "way_nodes_missing": int((~located).sum()),
        "facilities": {t: int((facilities["type"] == t).sum()) for t in settings.facility_types},
    }
    if report["ways_cut_at_extract_edge"]:
        logger.info(f"{path.name}: {report['ways_cut_at_extract_edge']} ways cut at the "
                      f"extract edge ({report['way_nodes_missing']} node locations missing)")
    return OsmData(
        path=path, crs=settings.crs, way_id=way_id, way_tags=c.way_tags,
        piece_way=piece_way, piece_ptr=piece_ptr, node_id=node_id,
        node_lon=lon, node_lat=lat, node_x=np.asarray(x, dtype=np.float64),
        node_y=np.asarray(y, dtype=np.float64), facilities=facilities, report=report,
    )


def _facilities(c: _Collector, crs: str, transformer: pyproj.Transformer) -> gpd.GeoDataFrame:
    if not c.feat_id:
        return empty_facilities(crs)
    geoms = np.array(c.feat_geom, dtype=object)
    projected = shapely.transform(
        geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )
    # point_on_surface lies inside a polygon even when it is concave (a U-shaped
    # school building), unlike the centroid.
    points = shapely.point_on_surface(projected)
    ids, types, names, rows = [], [], [], []
    for i, feature_types in enumerate(c.feat_types):
        for ftype in feature_types:
            ids.append(c.feat_id[i])
            types.append(ftype)
            names.append(c.feat_name[i])
            rows.append(i)
    rows = np.asarray(rows, dtype=np.int64)
    keep = ~_inside_same_type(projected[rows], np.array(types, dtype=object),
                              np.array(ids, dtype=object))
    return _facility_frame([i for i, k in zip(ids, keep) if k],
                           [t for t, k in zip(types, keep) if k],
                           [n for n, k in zip(names, keep) if k], points[rows][keep], crs)


def _inside_same_type(geoms: np.ndarray, types: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Mask of features lying inside a polygon feature of the same type.

    Mappers often tag a practice both on its building and on a node inside it,
    or on a building that is also the outer ring of a tagged multipolygon; one
    facility must count once. The feature inside goes (the polygon stays); of
    two identical polygons the one with the larger id goes.
    """
    drop = np.zeros(len(geoms), dtype=bool)
    polygon = shapely.area(geoms) > 0
    for ftype in np.unique(types):
        members = np.flatnonzero(types == ftype)
        hosts = members[polygon[members]]
        if len(hosts) == 0:
            continue
        tree = shapely.STRtree(geoms[hosts])
        inner, host = tree.query(geoms[members], predicate="covered_by")
        inner, host = members[inner], hosts[host]
        for i, h in zip(inner, host):
            if i == h:
                continue
            twins = polygon[i] and shapely.covers(geoms[i], geoms[h])
            if not twins or ids[i] > ids[h]:
                drop[i] = True
    return drop
