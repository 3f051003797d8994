"""Clip national inputs (an OSM PBF, a GTFS feed) to analysis areas, streaming."""

from __future__ import annotations

import contextlib
import functools
import io
import shutil
import tempfile
import zipfile
import zlib
from array import array
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import pandas as pd
import pyproj
import shapely

from .. import _io, _progress
from ..errors import InputError
from . import _gtfs_text

# Node locations are tested against the areas in batches of this many nodes:
# one vectorised shapely call per batch instead of one call per node.
NODE_BATCH = 1_000_000
# The RD polygon is densified to this segment length before it is turned into
# lon/lat, so its straight RD edges stay (nearly) straight in WGS84.
DENSIFY_M = 100.0
# Rows of stop_times.txt / shapes.txt held in memory at once.
CSV_CHUNK_ROWS = 500_000
# A fixed member date makes the output zip byte-identical run after run.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_ZIP64_FROM = 2**31 - 2**24
_COORDINATE_PRECISION = 1e-7


# --------------------------------------------------------------------------
# OpenStreetMap


class _NodeList:
    """A batch of node ids in the shape ``IdTracker.add_references`` takes (one C++ call)."""

    def __init__(self, nodes: list[int]) -> None:
        self.nodes = nodes


class _AreaSelection:
    """What one area keeps, as compact id sets (bitmaps), never as objects.

    ``selected`` holds the nodes inside, kept ways and kept relations while
    selecting (so a C++ filter on it passes the ways that touch the area);
    pass 2 then adds the nodes of kept ways, after which its node set is
    every node to write. ``written`` is the union
    over all areas (IdSets cannot be iterated, so it is kept up to date
    alongside); it pre-filters the later passes in C++.
    """

    def __init__(self, name: str, polygon_wgs84: shapely.Geometry, written: osmium.IdTracker):
        self.name = name
        self.polygon = polygon_wgs84
        shapely.prepare(self.polygon)
        self.bounds = shapely.bounds(self.polygon)
        self.selected = osmium.IdTracker()
        self._written = written
        self.nodes_inside = 0
        self.counts = {"nodes": 0, "ways": 0, "relations": 0}

    def keep_nodes(self, node_ids: list[int]) -> None:
        refs = _NodeList(node_ids)
        self.selected.add_references(refs)
        self._written.add_references(refs)

    def keep_way(self, way_id: int) -> None:
        self.selected.add_way(way_id)
        self._written.add_way(way_id)

    def keep_relation(self, rel_id: int) -> None:
        self.selected.add_relation(rel_id)
        self._written.add_relation(rel_id)


def clip_osm(src: str | Path, areas: Mapping[str, shapely.Geometry],
             outputs: Mapping[str, str | Path], *, crs: str = "EPSG:28992") -> dict[str, dict]:
    """Clip one OpenStreetMap PBF file to several areas in the same streaming passes.

    The strategy is that of ``osmium extract --strategy complete_ways`` plus
    complete multipolygons: a node is inside when its location lies in the
    area (boundary included); a way is kept when any of its nodes is inside,
    and is then written whole, with all its nodes (also those outside); a
    relation is kept when a member node is inside, a member way is kept or a
    member relation is kept (one level); every member way of a kept
    ``type=multipolygon`` relation is kept whole too, so a facility mapped as
    a multipolygon across the edge stays complete. Ids and tags are unchanged;
    objects are written in input order.

    Three passes, each decoding only the kinds it needs: (1) nodes, then ways
    and relations, select; (2) kept ways give their nodes; (3) everything
    kept is written. The input is never held in memory: the selection lives
    in compact id bitmaps (libosmium ``IdSet``), and ways, relations and
    nodes touching no area are dropped in C++ before they reach Python, so
    memory and most of the time grow with the areas' content, not the input.

    Parameters
    ----------
    src
        The ``.osm.pbf`` file to clip (sorted, as every extract is).
    areas
        Area name -> (Multi)Polygon in ``crs``.
    outputs
        Area name -> output ``.osm.pbf`` path, same keys as ``areas``. Each is
        written atomically (a temporary file beside it, then renamed).
    crs
        CRS of the area geometries.

    Returns
    -------
    dict
        Per area name: ``nodes``, ``ways``, ``relations`` (objects written),
        ``nodes_inside`` (nodes whose location lies in the area), ``bytes``
        (output size) and ``seconds`` (wall-clock seconds per pass, shared by
        all areas of the call).

    Raises
    ------
    InputError
        ``src`` is missing or not a PBF file.
    ValueError
        ``areas`` is empty, an area is empty or no polygon, or the keys of
        ``areas`` and ``outputs`` differ.
    """
    src = Path(src)
    if not areas:
        raise ValueError("no areas given to clip to")
    if set(areas) != set(outputs):
        raise ValueError(f"areas and outputs must have the same keys; got {sorted(areas)} "
                         f"and {sorted(outputs)}")
    if not src.is_file():
        raise InputError(src, "file not found; expected an OpenStreetMap .osm.pbf file")
    written = osmium.IdTracker()
    selections = [_AreaSelection(name, _area_wgs84(name, geom, crs), written)
                  for name, geom in areas.items()]
    paths = {name: Path(outputs[name]) for name in areas}
    timings = _progress.Timings()
    try:
        with timings.step("select"):
            _select(src, selections, written)
        with timings.step("way_nodes"):
            _collect_way_nodes(src, selections, written)
        with timings.step("write"):
            _write(src, selections, written, paths)
    except RuntimeError as exc:
        raise InputError(src, f"cannot read as an OpenStreetMap PBF file ({exc})") from exc
    return {
        s.name: {**s.counts, "nodes_inside": s.nodes_inside,
                 "bytes": paths[s.name].stat().st_size, "seconds": dict(timings)}
        for s in selections
    }


def _area_wgs84(name: str, geom: shapely.Geometry, crs: str) -> shapely.Geometry:
    """The area as a lon/lat polygon, densified first so its edges keep their course."""
    if geom is None or shapely.is_empty(geom) or shapely.area(geom) <= 0:
        raise ValueError(f"area {name!r} is empty; expected a (Multi)Polygon with an area")
    to_wgs84 = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    dense = shapely.segmentize(geom, DENSIFY_M)
    return shapely.transform(
        dense, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1])))


def _pbf(path: Path) -> osmium.io.File:
    return osmium.io.File(str(path), "pbf")


def _select(src: Path, selections: list[_AreaSelection], written: osmium.IdTracker) -> None:
    """Pass 1: nodes inside, kept ways, kept relations (+ multipolygon member ways)."""
    ids, xs, ys = array("q"), array("i"), array("i")
    nodes = osmium.FileProcessor(_pbf(src), osmium.osm.NODE)
    for obj in _progress.bar(nodes, desc=f"clipping {src.name} (1/3: nodes)", unit=" nodes"):
        loc = obj.location
        ids.append(obj.id)
        xs.append(loc.x)
        ys.append(loc.y)
        if len(ids) >= NODE_BATCH:
            _mark_inside(ids, xs, ys, selections)
            ids, xs, ys = array("q"), array("i"), array("i")
    _mark_inside(ids, xs, ys, selections)

    # Ways: one read per area, filtered in C++ by the area's node set, so
    # Python sees only the ways that touch it. (A way's node list read in
    # Python would cost far more than the extra reads of the way blocks.)
    for s in selections:
        touches = s.selected.contains_filter()
        touches.enable_for(osmium.osm.WAY)
        processor = osmium.FileProcessor(_pbf(src), osmium.osm.WAY).with_filter(touches)
        for obj in _progress.bar(processor, desc=f"clipping {src.name} (1/3: ways in {s.name})",
                                 unit=" ways"):
            s.keep_way(obj.id)

    # Relations (few): those touching no area are dropped in C++.
    touches_any = written.contains_filter()
    touches_any.enable_for(osmium.osm.RELATION)
    processor = osmium.FileProcessor(_pbf(src), osmium.osm.RELATION).with_filter(touches_any)
    # relations with relation members, not kept on their own by some area:
    # (relation, member relation ids, member way ids if a multipolygon)
    pending: list[tuple[int, list[int], list[int]]] = []
    for obj in _progress.bar(processor, desc=f"clipping {src.name} (1/3: relations)",
                             unit=" relations"):
        _select_relation(obj, selections, pending)
    # One level of nesting: the parent of a kept relation is kept.
    for s in selections:
        kept = s.selected.relation_ids()
        parents = [(r, ways) for r, members, ways in pending
                   if r not in kept and any(m in kept for m in members)]
        for rel_id, member_ways in parents:
            s.keep_relation(rel_id)
            for way_id in member_ways:
                s.keep_way(way_id)


def _mark_inside(ids: array, xs: array, ys: array, selections: list[_AreaSelection]) -> None:
    """Add the nodes of one batch whose location lies in an area to its sets."""
    node_id = np.frombuffer(ids, dtype=np.int64)
    lon = np.frombuffer(xs, dtype=np.int32) * _COORDINATE_PRECISION
    lat = np.frombuffer(ys, dtype=np.int32) * _COORDINATE_PRECISION
    for s in selections:
        minx, miny, maxx, maxy = s.bounds
        near = np.flatnonzero((lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy))
        if not near.size:
            continue
        inside = node_id[near[shapely.intersects_xy(s.polygon, lon[near], lat[near])]]
        s.keep_nodes(inside.tolist())
        s.nodes_inside += int(inside.size)


def _select_relation(obj: Any, selections: list[_AreaSelection],
                     pending: list[tuple[int, list[int], list[int]]]) -> None:
    multipolygon = obj.tags.get("type") == "multipolygon"
    member_ways = [m.ref for m in obj.members if m.type == "w"] if multipolygon else []
    member_relations = [m.ref for m in obj.members if m.type == "r"]
    waiting = False
    for s in selections:
        if s.selected.contains_any_references(obj):
            s.keep_relation(obj.id)
            for way_id in member_ways:
                s.keep_way(way_id)
        elif member_relations:
            waiting = True
    if waiting:
        pending.append((obj.id, member_relations, member_ways))


def _collect_way_nodes(src: Path, selections: list[_AreaSelection],
                       written: osmium.IdTracker) -> None:
    """Pass 2: every node of every kept way, added in C++ (one read of the
    ways per area and one for the union)."""
    for s in _progress.bar(selections, desc=f"clipping {src.name} (2/3: way nodes)",
                           unit=" areas"):
        s.selected.complete_backward_references(str(src), relation_depth=0)
    written.complete_backward_references(str(src), relation_depth=0)


def _write(src: Path, selections: list[_AreaSelection], written: osmium.IdTracker,
           outputs: dict[str, Path]) -> None:
    """Pass 3: write each area's nodes, ways and relations in input order."""
    with contextlib.ExitStack() as stack:
        writers = []
        for s in selections:
            temp = stack.enter_context(_io.atomic_path(outputs[s.name]))
            # registered after its atomic path, so closed before the rename
            writers.append(stack.enter_context(osmium.SimpleWriter(_pbf(temp), overwrite=True)))
        nodes = [(s, w, s.selected.node_ids()) for s, w in zip(selections, writers)]
        ways = [(s, w, s.selected.way_ids()) for s, w in zip(selections, writers)]
        relations = [(s, w, s.selected.relation_ids()) for s, w in zip(selections, writers)]
        processor = osmium.FileProcessor(_pbf(src)).with_filter(written.id_filter())
        for obj in _progress.bar(processor, desc=f"clipping {src.name} (3/3: write)",
                                 unit=" objects"):
            oid = obj.id
            if obj.is_node():
                for s, writer, kept in nodes:
                    if oid in kept:
                        writer.add_node(obj)
                        s.counts["nodes"] += 1
            elif obj.is_way():
                for s, writer, kept in ways:
                    if oid in kept:
                        writer.add_way(obj)
                        s.counts["ways"] += 1
            elif obj.is_relation():
                for s, writer, kept in relations:
                    if oid in kept:
                        writer.add_relation(obj)
                        s.counts["relations"] += 1


# --------------------------------------------------------------------------
# GTFS


class _Feed:
    """The members of a GTFS zip (in stored order) or folder (sorted by name).

    Files are read through :class:`_gtfs_text.TextFile`, as by the GTFS reader:
    bytes that are not UTF-8 read as Windows-1252 with one warning per file;
    a row with more fields than its header, a quote never closed or an
    unreadable file raise ``GtfsError`` (an ``InputError``) naming file and row.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        if path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise InputError(path, f"not a readable zip file ({exc}); expected a GTFS "
                                       "feed (zip or folder)") from exc
            self.members = [i.filename for i in self._zip.infolist() if not i.is_dir()]
        elif path.is_dir():
            try:
                self.members = sorted(p.name for p in path.iterdir() if p.is_file())
            except OSError as exc:
                raise InputError(path, f"cannot read the folder ({exc}); expected a GTFS "
                                       "feed (zip or folder)") from exc
        else:
            raise InputError(path, "not found; expected a GTFS feed (zip or folder)")
        # GTFS file name ("stops") -> member; some zips nest the files in a folder
        self.files: dict[str, str] = {}
        for member in sorted(self.members, key=lambda m: m.count("/"), reverse=True):
            base = member.rsplit("/", 1)[-1]
            if base.endswith(".txt"):
                self.files[base[:-4]] = member
        self._texts: dict[str, _gtfs_text.TextFile] = {}

    def open(self, member: str) -> io.BufferedIOBase:
        if self._zip is not None:
            return self._zip.open(member)
        return open(self.path / member, "rb")

    def size(self, member: str) -> int:
        if self._zip is not None:
            return self._zip.getinfo(member).file_size
        return (self.path / member).stat().st_size

    def compress_type(self, member: str) -> int:
        if self._zip is not None:
            return self._zip.getinfo(member).compress_type
        return zipfile.ZIP_DEFLATED

    def text(self, name: str) -> _gtfs_text.TextFile:
        """The file as a TextFile, one per file so a decoding warning is given once."""
        if name not in self._texts:
            feed = self.path.stem if self._zip is not None else self.path.name
            self._texts[name] = _gtfs_text.TextFile(
                functools.partial(self.open, self.files[name]), feed, f"{name}.txt", self.path)
        return self._texts[name]

    def table(self, name: str) -> pd.DataFrame | None:
        """A whole file as strings (None when absent or empty)."""
        if name not in self.files or self.text(name).is_empty():
            return None
        return self.text(name).read()

    def chunks(self, name: str, columns: tuple[str, ...] | None = None
               ) -> Iterator[pd.DataFrame]:
        """A file in chunks of ``CSV_CHUNK_ROWS`` rows, strings, optionally some columns only."""
        if not self.text(name).is_empty():
            yield from self.text(name).chunks(CSV_CHUNK_ROWS, columns)

    def header(self, name: str) -> list[str]:
        return self.text(name).header()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _col(frame: pd.DataFrame, name: str) -> pd.Series | None:
    """Stripped values of a column matched by its stripped name; None when absent."""
    for column in frame.columns:
        if str(column).strip() == name:
            return frame[column].str.strip()
    return None


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def clip_gtfs(feed: str | Path, areas: Mapping[str, shapely.Geometry],
              outputs: Mapping[str, str | Path], *, crs: str = "EPSG:28992") -> dict[str, dict]:
    """Clip a GTFS feed to the trips that call inside each area, keeping them whole.

    Kept per area are the stops inside it, their parent stations and the
    child stops (platforms, entrances) of kept stations; every trip calling
    at one of them, whole, with every stop it calls at (also outside) and
    their parent stations; and what those trips reference: routes, agencies,
    ``calendar``/``calendar_dates`` rows of their services, ``frequencies``,
    ``shapes`` of their shape ids. ``transfers`` and ``pathways`` keep rows
    whose stops (and trips and routes, where given) are all kept. Every other
    file (``feed_info``, ``levels``, ``fare_*``, ...) is copied unchanged.
    Header, column order and row order of each file are preserved (values are
    rewritten as UTF-8 CSV with ``\n`` line ends; a UTF-8 byte order mark is
    dropped; bytes that are not UTF-8 are read as Windows-1252, with one
    warning per file naming its first such line; files copied unchanged keep
    their bytes).

    ``stop_times.txt`` and ``shapes.txt`` are streamed in chunks, so a
    multi-GB national file never sits in memory, and read twice (once) for
    all areas together. Each output zip is written atomically and
    deterministically (members in input order with a fixed date and the
    input's compression): the same input gives the same bytes.

    Parameters
    ----------
    feed
        GTFS zip or folder.
    areas
        Area name -> (Multi)Polygon in ``crs``.
    outputs
        Area name -> the clipped feed (a zip file); the same keys as ``areas``.
    crs
        CRS of the areas.

    Returns
    -------
    dict
        Per area: ``stops``, ``trips``, ``stop_times``, ``routes`` (rows
        kept), ``stops_inside`` (stops whose location lies in the area) and
        ``rows`` (rows kept per file).

    Raises
    ------
    InputError
        The feed is missing or unreadable, lacks ``stops.txt`` or
        ``stop_times.txt``, or a stop, station or entrance has a missing or
        invalid ``stop_lat``/``stop_lon`` (the message names the line); a
        file read has a row with more fields than its header or a quote never
        closed (``GtfsError``, naming file and row).
    ValueError
        An area is empty, or the keys of ``areas`` and ``outputs`` differ.
    """
    feed_path = Path(feed)
    if set(areas) != set(outputs) or not areas:
        raise ValueError(f"areas and outputs must have the same, non-empty keys; got "
                         f"{sorted(areas)} and {sorted(outputs)}")
    for name, area in areas.items():
        if area is None or shapely.is_empty(area) or shapely.area(area) <= 0:
            raise ValueError(f"area {name!r} is empty; expected a (Multi)Polygon with an area")
    source = _Feed(feed_path)
    try:
        return _clip_feed(source, areas, {k: Path(v) for k, v in outputs.items()}, crs)
    except (zipfile.BadZipFile, zlib.error) as exc:  # a member copied unread is damaged
        raise InputError(feed_path, f"cannot read the feed ({exc})") from exc
    finally:
        source.close()


def _clip_feed(source: _Feed, areas: Mapping[str, shapely.Geometry],
               outputs: dict[str, Path], crs: str) -> dict[str, dict]:
    for name, columns in (("stops", ("stop_id",)), ("stop_times", ("trip_id", "stop_id")),
                          ("trips", ("trip_id",))):
        if name not in source.files:
            raise InputError(source.path, f"{name}.txt missing; expected a GTFS feed")
        header = [c.strip() for c in source.header(name)]
        missing = [c for c in columns if c not in header]
        if missing:
            raise InputError(source.path, f"{name}.txt: column(s) {missing} missing; "
                                          "expected a GTFS feed")
    stops = source.table("stops")
    inside = {a: _stops_inside(source, stops, area, crs) for a, area in areas.items()}
    seeds = {a: _with_relatives(stops, inside[a]) for a in areas}

    trip_ids: dict[str, set[str]] = {a: set() for a in areas}
    for chunk in _progress.bar(source.chunks("stop_times", ("trip_id", "stop_id")),
                               desc="stop_times.txt (1/2: trips)", unit=" chunks"):
        chunk_stops, chunk_trips = _col(chunk, "stop_id"), _col(chunk, "trip_id")
        for a, seed in seeds.items():
            hit = chunk_stops.isin(seed).to_numpy()
            trip_ids[a].update(chunk_trips[hit].unique().tolist())

    all_trips = source.table("trips")
    trips = {a: all_trips[_col(all_trips, "trip_id").isin(trip_ids[a]).to_numpy()]
             for a in areas}
    scratch_parent = next(iter(outputs.values())).parent
    with tempfile.TemporaryDirectory(
            dir=scratch_parent if scratch_parent.is_dir() else None) as scratch:
        streamed = {a: {"stop_times": Path(scratch) / f"{i}.stop_times.txt"}
                    for i, a in enumerate(areas)}
        called: dict[str, set[str]] = {a: set() for a in areas}
        rows: dict[str, dict[str, int]] = {a: {} for a in areas}
        kept = _stream_filter(source, "stop_times", "trip_id", trip_ids,
                              {a: streamed[a]["stop_times"] for a in areas}, called)
        for a in areas:
            rows[a]["stop_times"] = kept[a]
        shape_ids = {a: set(_col(trips[a], "shape_id").tolist()) - {""} for a in areas} \
            if _col(all_trips, "shape_id") is not None else None
        if "shapes" in source.files and shape_ids is not None:
            for i, a in enumerate(areas):
                streamed[a]["shapes"] = Path(scratch) / f"{i}.shapes.txt"
            kept = _stream_filter(source, "shapes", "shape_id", shape_ids,
                                  {a: streamed[a]["shapes"] for a in areas})
            for a in areas:
                rows[a]["shapes"] = kept[a]

        out = {}
        for a in areas:
            kept_stops = _parents_closure(stops, seeds[a] | called[a])
            tables: dict[str, pd.DataFrame] = {"trips": trips[a]}
            tables["stops"] = stops[_col(stops, "stop_id").isin(kept_stops).to_numpy()]
            tables.update(_referenced_tables(source, trips[a], kept_stops))
            rows[a].update({name: len(frame) for name, frame in tables.items()})
            _write_zip(source, outputs[a], tables, streamed[a])
            out[a] = {"stops": rows[a]["stops"], "trips": rows[a]["trips"],
                      "stop_times": rows[a]["stop_times"], "routes": rows[a].get("routes", 0),
                      "stops_inside": len(inside[a]), "rows": rows[a]}
    return out


def _stops_inside(source: _Feed, stops: pd.DataFrame, area: shapely.Geometry,
                  crs: str) -> set[str]:
    """Ids of stops whose location lies in the area (boundary included)."""
    kind = _location_types(stops)
    raw_lat, raw_lon = _col(stops, "stop_lat"), _col(stops, "stop_lon")
    if raw_lat is None or raw_lon is None:
        raise InputError(source.path, "stops.txt has no stop_lat/stop_lon columns")
    lat = pd.to_numeric(raw_lat, errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(raw_lon, errors="coerce").to_numpy(dtype=float)
    valid = (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    # Stops, stations and entrances need a location; generic nodes and boarding
    # areas (location_type 3, 4) may go without.
    needed = kind <= 2
    bad = np.flatnonzero(needed & ~valid)
    if bad.size:
        row = int(bad[0])
        raise InputError(
            source.path,
            f"stops.txt line {row + 2} (stop_id {_col(stops, 'stop_id').iloc[row]!r}): "
            f"stop_lat {raw_lat.iloc[row]!r}, stop_lon {raw_lon.iloc[row]!r} is no location; "
            f"expected WGS84 degrees ({bad.size} such row(s))")
    to_crs = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    where = np.flatnonzero(valid)
    x, y = to_crs.transform(lon[where], lat[where])
    hit = where[shapely.intersects_xy(area, np.asarray(x), np.asarray(y))]
    return set(_col(stops, "stop_id").iloc[hit].tolist())


def _location_types(stops: pd.DataFrame) -> np.ndarray:
    raw = _col(stops, "location_type")
    if raw is None:
        return np.zeros(len(stops), dtype=np.int64)
    kind = pd.to_numeric(raw, errors="coerce").to_numpy(float)
    # Empty or no number ("x", "inf", "1e30"): a stop, as for the GTFS reader.
    return np.where(np.abs(kind) < 2**31, kind, 0).astype(np.int64)


def _with_relatives(stops: pd.DataFrame, inside: set[str]) -> set[str]:
    """The stops inside, their parent stations and all stops of those stations."""
    ids = _col(stops, "stop_id")
    parent = _col(stops, "parent_station")
    if parent is None:
        return set(inside)
    kind = _location_types(stops)
    is_inside = ids.isin(inside).to_numpy()
    seed = set(inside) | set(parent[is_inside].tolist()) - {""}
    stations = set(ids[(kind == 1) & ids.isin(seed).to_numpy()].tolist())
    children = parent.isin(stations).to_numpy()
    seed |= set(ids[children].tolist())
    # boarding areas hang below platforms
    seed |= set(ids[(kind == 4) & parent.isin(seed).to_numpy()].tolist())
    return seed


def _parents_closure(stops: pd.DataFrame, kept: set[str]) -> set[str]:
    """``kept`` plus the parent chain of each (boarding area -> platform -> station)."""
    parent = _col(stops, "parent_station")
    if parent is None:
        return kept
    ids = _col(stops, "stop_id")
    kept = set(kept)
    for _ in range(3):
        parents = set(parent[ids.isin(kept).to_numpy()].tolist()) - {""} - kept
        if not parents:
            break
        kept |= parents
    return kept


def _stream_filter(source: _Feed, name: str, column: str, keep: Mapping[str, set[str]],
                   targets: Mapping[str, Path],
                   collect_stops: Mapping[str, set[str]] | None = None) -> dict[str, int]:
    """Copy, per area, the rows of a file whose ``column`` is in that area's
    ``keep`` set to its target, in one chunked read; returns the rows kept."""
    kept = {a: 0 for a in targets}
    header = _csv_bytes(pd.DataFrame(columns=source.header(name)))
    with contextlib.ExitStack() as stack:
        outs = {a: stack.enter_context(open(path, "wb")) for a, path in targets.items()}
        for out in outs.values():
            out.write(header)
        for chunk in _progress.bar(source.chunks(name), desc=f"{name}.txt (filter)",
                                   unit=" chunks"):
            values = _col(chunk, column)
            for a, out in outs.items():
                part = chunk[values.isin(keep[a]).to_numpy()]
                if not len(part):
                    continue
                if collect_stops is not None:
                    collect_stops[a].update(_col(part, "stop_id").unique().tolist())
                out.write(part.to_csv(index=False, header=False, lineterminator="\n")
                          .encode("utf-8"))
                kept[a] += len(part)
    return kept


def _rows_with(frame: pd.DataFrame, column: str, keep: set[str], *,
               empty_ok: bool = False) -> np.ndarray:
    """Mask of rows whose ``column`` is in ``keep`` (all rows when the column is absent)."""
    values = _col(frame, column)
    if values is None:
        return np.ones(len(frame), dtype=bool)
    mask = values.isin(keep).to_numpy()
    return mask | (values == "").to_numpy() if empty_ok else mask


def _referenced_tables(source: _Feed, trips: pd.DataFrame,
                       kept_stops: set[str]) -> dict[str, pd.DataFrame]:
    """routes, agency, calendar, calendar_dates, frequencies, transfers, pathways, filtered."""
    trip_ids = set(_col(trips, "trip_id").tolist())
    route_ids = set(_col(trips, "route_id").tolist()) if _col(trips, "route_id") is not None \
        else set()
    service_ids = set(_col(trips, "service_id").tolist()) \
        if _col(trips, "service_id") is not None else set()
    out: dict[str, pd.DataFrame] = {}
    routes = source.table("routes")
    if routes is not None:
        routes = routes[_rows_with(routes, "route_id", route_ids)]
        out["routes"] = routes
        agency = source.table("agency")
        agency_of_route = _col(routes, "agency_id")
        # A feed with one agency may leave routes.agency_id empty: keep all.
        if agency is not None and agency_of_route is not None and (agency_of_route != "").all():
            out["agency"] = agency[_rows_with(agency, "agency_id", set(agency_of_route))]
    for name in ("calendar", "calendar_dates"):
        table = source.table(name)
        if table is not None:
            out[name] = table[_rows_with(table, "service_id", service_ids)]
    frequencies = source.table("frequencies")
    if frequencies is not None:
        out["frequencies"] = frequencies[_rows_with(frequencies, "trip_id", trip_ids)]
    transfers = source.table("transfers")
    if transfers is not None:
        mask = np.ones(len(transfers), dtype=bool)
        for column, keep in (("from_stop_id", kept_stops), ("to_stop_id", kept_stops),
                             ("from_trip_id", trip_ids), ("to_trip_id", trip_ids),
                             ("from_route_id", route_ids), ("to_route_id", route_ids)):
            mask &= _rows_with(transfers, column, keep, empty_ok=True)
        out["transfers"] = transfers[mask]
    pathways = source.table("pathways")
    if pathways is not None:
        out["pathways"] = pathways[_rows_with(pathways, "from_stop_id", kept_stops)
                                   & _rows_with(pathways, "to_stop_id", kept_stops)]
    return out


def _write_zip(source: _Feed, output: Path, tables: dict[str, pd.DataFrame],
               streamed: dict[str, Path]) -> None:
    """The clipped feed as a zip: members in input order, fixed dates, same compression."""
    by_member = {member: name for name, member in source.files.items()}
    with _io.atomic_path(output) as temp, zipfile.ZipFile(temp, "w") as archive:
        for member in source.members:
            info = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
            info.compress_type = source.compress_type(member)
            info.external_attr = 0o644 << 16
            name = by_member.get(member)
            if name in tables:
                archive.writestr(info, _csv_bytes(tables[name]))
                continue
            path = streamed.get(name)
            size = path.stat().st_size if path else source.size(member)
            # zip64 only where needed, decided by the size: same input, same bytes
            with (path.open("rb") if path else source.open(member)) as src, \
                    archive.open(info, "w", force_zip64=size >= _ZIP64_FROM) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
