"""Bring your own road network: an OSMnx graph, a GraphML file or an OSM XML file."""

from __future__ import annotations

import hashlib
import logging
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmnx
import pyproj

from .. import _io
from ..config import ROAD_MODES, Settings
from ..errors import InputError
from . import _way_rules, build, cache
from .graph import RoadNetwork

logger = logging.getLogger(__name__)

# File name endings read_graph understands, longest first.
GRAPHML_SUFFIXES: tuple[str, ...] = (".graphml",)
XML_SUFFIXES: tuple[str, ...] = (".osm.xml", ".osm", ".xml")

# Way tags kept on the edges of a graph read from OSM XML beside OSMnx's own
# ``useful_tags_way``, so that our access rules (``_way_rules``) see the
# mode-specific access keys, ferries and the cyclists' one-way exceptions.
EXTRA_WAY_TAGS: tuple[str, ...] = (
    "foot", "bicycle", "vehicle", "motor_vehicle", "motorcar", "motorroad",
    "route", "duration", "oneway:bicycle", "cycleway", "cycleway:left", "cycleway:right",
    "cycleway:both",
)

# Edge attributes that are not way tags (OSMnx bookkeeping and geometry).
# ``speed_kph``/``travel_time`` (osmnx.routing.add_edge_speeds) are ignored:
# speeds come from our settings, as for our own networks.
_NOT_TAGS = frozenset({"geometry", "length", "osmid", "reversed", "oneway",
                       "speed_kph", "travel_time"})

# An edge whose ``length`` attribute differs from its geometry's length by
# more than this share (and more than _LENGTH_SLACK_M) is counted in the stats.
_LENGTH_TOLERANCE = 0.05
_LENGTH_SLACK_M = 1.0

_BIKE_TWO_WAY = frozenset({"no", "false", "0"})


def network_from_osmnx(graph: nx.MultiDiGraph, mode: str, settings: Settings
                       ) -> RoadNetwork:
    """RoadNetwork of one mode from an OSMnx-style graph.

    The graph is taken as the road network of ``mode``: edge directions are
    kept as they are (OSMnx encodes one-way streets for driving graphs and
    both directions for walking graphs). Our access rules
    (:func:`bereikbaarheid.networks._way_rules.access_allowed` with
    ``settings.allowed_highways``) are applied to the tags an edge carries, so
    a graph holding every way of a file (footways in a car graph, building
    outlines) keeps only what ``mode`` may use; dropped edges are counted in
    ``stats["edges_unusable"]``.

    A simplified edge with a LineString ``geometry`` is expanded into straight
    segments through new interior nodes, so that points link to the road
    exactly as with our own networks. Interior nodes get negative ids in
    ``node_osm_id`` (-1, -2, ...; unique, not contiguous); the two directions
    of one road (an edge ``u -> v`` and an edge ``v -> u`` with the reversed
    geometry) share their interior nodes, so the road stays one road, while
    points of other edges that merely coincide stay apart. After expansion,
    of parallel segments the fastest is kept.

    Lengths are measured on the geometry in ``settings.crs``; an edge's
    ``length`` attribute (great-circle metres from OSMnx) is only compared,
    and edges differing by more than 5 % are counted in
    ``stats["edges_length_differs"]``. Walking and cycling use the uniform
    speeds of ``settings``; cars ``maxspeed`` (when ``settings.use_maxspeed``,
    parsed as for our own networks) else ``settings.car_speeds_kmh`` of the
    highway class. Where simplification merged several values into a list,
    each ``highway`` value is tried and the fastest usable one taken, the
    fastest ``maxspeed`` is used, and of other tags the first value counts.
    ``route=ferry`` edges (present when the graph kept the ``route`` tag) take
    their way's ``duration`` spread over the segments of one direction of the
    way (grouped by ``osmid``) in proportion to length, else
    ``settings.ferry_speed_kmh``; they are marked ``edge_ferry`` and are never
    linkable; highway classes in ``settings.unlinkable_highways`` are not
    linkable either. With ``settings.keep_largest_component`` only the largest
    strongly connected component remains, and nodes are numbered along the
    same space-filling curve as :func:`bereikbaarheid.networks.build.build_network`.

    Parameters
    ----------
    graph
        ``networkx.MultiDiGraph`` (or ``DiGraph``) with integer node keys
        (OSM ids, >= 0), node attributes ``x``, ``y`` and ``graph.graph["crs"]``
        (any CRS pyproj understands: EPSG:4326 as OSMnx downloads it, or a
        projected one).
    mode
        ``"walk"``, ``"bike"`` or ``"car"``.
    settings
        Run settings.

    Returns
    -------
    RoadNetwork
        In ``settings.crs``; ``stats`` holds ``source`` (``"osmnx"``),
        ``graph_nodes``, ``graph_edges``, ``edges_unusable``,
        ``edges_without_coordinates``, ``edges_length_differs``,
        ``interior_nodes``, ``nodes_before_scc``, ``nodes``, ``edges``,
        ``share_nodes_dropped`` and ``ferry_edges``.

    Raises
    ------
    ValueError
        ``mode`` is not a road mode, the graph has no CRS, a node key is not
        a non-negative integer, or no edge is usable by ``mode``.
    """
    if mode not in ROAD_MODES:
        raise ValueError(f"mode {mode!r} has no road network; expected one of {ROAD_MODES}")
    graph_crs = graph.graph.get("crs")
    if graph_crs is None:
        raise ValueError('the graph has no CRS: set graph.graph["crs"] (e.g. "EPSG:4326")')
    keys = list(graph.nodes)
    try:
        node_osm_id = np.array([_node_id(k) for k in keys], dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"graph nodes must have non-negative integer ids: {exc}") from None
    position = {k: i for i, k in enumerate(keys)}
    x = np.array([_coordinate(graph.nodes[k], "x") for k in keys], dtype=np.float64)
    y = np.array([_coordinate(graph.nodes[k], "y") for k in keys], dtype=np.float64)

    unlinkable = set(settings.unlinkable_highways)
    known: dict[tuple, tuple] = {}
    # Per kept edge: tail, head, tag attributes, interior points (graph CRS).
    tails: list[int] = []
    heads: list[int] = []
    attributes: list[tuple] = []
    ferry_way: list[tuple] = []
    interiors: list[np.ndarray] = []
    stated_length: list[float] = []
    unusable = without_coordinates = 0
    for u, v, data in _edges(graph):
        key = _tag_key(data)
        attrs = known.get(key)
        if attrs is None:
            attrs = known[key] = _edge_attributes(data, mode, settings, unlinkable)
        if not attrs[0]:
            unusable += 1
            continue
        iu, iv = position[u], position[v]
        if not (np.isfinite([x[iu], y[iu], x[iv], y[iv]]).all()):
            without_coordinates += 1
            continue
        tails.append(iu)
        heads.append(iv)
        attributes.append(attrs)
        osmid = data.get("osmid")
        timed = attrs[2] and not np.isnan(attrs[4]) and isinstance(osmid, (int, np.integer))
        ferry_way.append((int(osmid), bool(data.get("reversed", False))) if timed else ())
        interiors.append(_interior_points(data.get("geometry"), x[iu], y[iu], x[iv], y[iv]))
        length = data.get("length")
        stated_length.append(float(length) if length is not None else np.nan)
    if not tails:
        raise ValueError(f"no edge of the graph is usable by mode {mode!r}")

    # Project the graph's nodes and every interior point in one call.
    counts = np.array([p.shape[0] for p in interiors], dtype=np.int64)
    points = np.concatenate([np.column_stack([x, y]), *interiors])
    px, py = _project(points[:, 0], points[:, 1], graph_crs, settings.crs)

    n_graph = len(keys)
    # A road is one road in both directions: an edge and its reverse with the
    # same (reversed) geometry share their interior nodes. Points of other
    # edges that merely coincide stay apart (a bridge over a road is no
    # junction).
    interior_nodes: dict[tuple, list[int]] = {}
    seg_tail: list[int] = []
    seg_head: list[int] = []
    seg_edge: list[int] = []
    offset = n_graph
    for e, (iu, iv, count) in enumerate(zip(tails, heads, counts)):
        own = list(range(offset, offset + count))
        offset += count
        if count:
            line = tuple(zip(px[own].tolist(), py[own].tolist()))
            flipped = iu > iv or (iu == iv and line[::-1] < line)
            key = (min(iu, iv), max(iu, iv), line[::-1] if flipped else line)
            shared = interior_nodes.setdefault(key, own[::-1] if flipped else own)
            own = shared[::-1] if flipped else shared
        chain = [iu, *own, iv]
        seg_tail.extend(chain[:-1])
        seg_head.extend(chain[1:])
        seg_edge.extend([e] * (len(chain) - 1))
    tail = np.asarray(seg_tail, dtype=np.int64)
    head = np.asarray(seg_head, dtype=np.int64)
    edge_of_seg = np.asarray(seg_edge, dtype=np.int64)
    length_m = np.hypot(px[head] - px[tail], py[head] - py[tail])

    edge_length_m = np.bincount(edge_of_seg, weights=length_m, minlength=len(tails))
    stated = np.asarray(stated_length)
    with np.errstate(invalid="ignore"):
        differs = np.abs(edge_length_m - stated) > np.maximum(_LENGTH_TOLERANCE * stated,
                                                              _LENGTH_SLACK_M)

    # An edge from a node to itself without geometry is a self-loop, which
    # no path uses.
    keep = tail != head
    tail, head, edge_of_seg, length_m = tail[keep], head[keep], edge_of_seg[keep], length_m[keep]
    speed_kmh, ferry, linkable, duration_s = (np.array([a[i] for a in attributes])
                                              for i in (1, 2, 3, 4))
    edge_time = length_m / (speed_kmh[edge_of_seg] / 3.6)
    # A ferry's ``duration`` is spread over the segments of one direction of
    # its way in proportion to length, as build_network does.
    way_keys = {key: i for i, key in enumerate(sorted(set(ferry_way) - {()}))}
    if way_keys:
        group = np.array([way_keys.get(key, -1) for key in ferry_way])[edge_of_seg]
        timed = group >= 0
        g = group[timed]
        way_length_m = np.bincount(g, weights=length_m[timed], minlength=len(way_keys))
        way_segments = np.bincount(g, minlength=len(way_keys))
        share = np.where(way_length_m[g] > 0,
                         length_m[timed] / np.where(way_length_m[g] > 0, way_length_m[g], 1.0),
                         1.0 / way_segments[g])
        edge_time[timed] = duration_s[edge_of_seg[timed]] * share
    edge_time = np.maximum(edge_time, build.MIN_EDGE_TIME_S)
    edge_ferry = ferry[edge_of_seg].astype(bool)
    edge_linkable = linkable[edge_of_seg].astype(bool)

    # Nodes: those on a kept segment; interior ones get ids -1, -2, ...
    used, inverse = np.unique(np.concatenate([tail, head]), return_inverse=True)
    tail, head = inverse[: tail.shape[0]], inverse[tail.shape[0]:]
    all_ids = np.concatenate([node_osm_id, -np.arange(1, points.shape[0] - n_graph + 1)])
    ids, node_x, node_y = all_ids[used], px[used], py[used]
    n_interior = int(np.count_nonzero(used >= n_graph))

    network, _ = build.assemble(
        mode, settings.crs, ids, node_x, node_y, tail, head,
        {"time_s": edge_time, "length_m": length_m, "linkable": edge_linkable,
         "ferry": edge_ferry},
        keep_largest_component=settings.keep_largest_component)
    network.stats.update({
        "source": "osmnx",
        "graph_nodes": n_graph,
        "graph_edges": int(graph.number_of_edges()),
        "edges_unusable": unusable,
        "edges_without_coordinates": without_coordinates,
        "edges_length_differs": int(np.count_nonzero(differs)),
        "interior_nodes": n_interior,
    })
    logger.info(
        f"{mode} network from an OSMnx graph: {network.n_nodes:,} nodes ({n_interior:,} from "
        f"edge geometries), {network.n_edges:,} edges; {unusable:,} graph edges not usable by "
        f"{mode}"
    )
    return network


def read_graph(path: str | Path, mode: str) -> nx.MultiDiGraph:
    """Read a road graph for ``mode`` from a GraphML or OSM XML file.

    A ``.graphml`` file (written by ``osmnx.save_graphml``) is loaded as it
    is. An OSM XML file (``.osm``, ``.xml``, ``.osm.xml``) is read by
    ``osmnx.graph_from_xml`` unsimplified with every component, keeping the
    access tags of ``EXTRA_WAY_TAGS`` too. Directions follow OSMnx, whose only
    two-way network type is walking (``osmnx.settings.bidirectional_network_types``):
    for ``walk`` every way is two-way; for ``bike`` and ``car`` one-way tags
    (``oneway=yes/-1``, roundabouts) hold, but for ``bike`` a one-way street
    with ``oneway:bicycle=no`` or an opposite cycleway gets its reverse
    direction back, as in our own networks. OSM XML holds every way of the
    file; :func:`network_from_osmnx` keeps those ``mode`` may use.

    Parameters
    ----------
    path
        The file.
    mode
        ``"walk"``, ``"bike"`` or ``"car"``.

    Returns
    -------
    networkx.MultiDiGraph
        With ``graph.graph["crs"]`` set (EPSG:4326 for OSM XML).

    Raises
    ------
    InputError
        The file is missing, unreadable or of an unknown kind.
    ValueError
        ``mode`` is not a road mode.
    """
    if mode not in ROAD_MODES:
        raise ValueError(f"mode {mode!r} has no road network; expected one of {ROAD_MODES}")
    path = Path(path)
    name = path.name.lower()
    expected = "expected an OSMnx .graphml file or an OSM XML file (.osm, .xml, .osm.xml)"
    if not name.endswith(GRAPHML_SUFFIXES + XML_SUFFIXES):
        raise InputError(path, f"unknown kind of file; {expected}")
    if not path.is_file():
        raise InputError(path, f"file not found; {expected}")
    failures = (OSError, ValueError, KeyError, TypeError, ElementTree.ParseError,
                nx.NetworkXError, osmnx._errors.InsufficientResponseError)
    if name.endswith(GRAPHML_SUFFIXES):
        try:
            return osmnx.load_graphml(path)
        except failures as exc:
            raise InputError(path, f"unreadable GraphML ({exc}); {expected}") from None
    saved = osmnx.settings.useful_tags_way
    osmnx.settings.useful_tags_way = list(dict.fromkeys([*saved, *EXTRA_WAY_TAGS]))
    two_way = mode in osmnx.settings.bidirectional_network_types
    try:
        graph = osmnx.graph_from_xml(path, simplify=False, retain_all=True,
                                     bidirectional=two_way)
    except failures as exc:
        raise InputError(path, f"unreadable OSM XML ({exc}); {expected}") from None
    finally:
        osmnx.settings.useful_tags_way = saved
    if mode == "bike":
        _reopen_for_bikes(graph)
    return graph


def load_or_build_external(
    source: str | Path, mode: str, settings: Settings, cache_dir: str | Path = "network_cache"
) -> tuple[RoadNetwork, dict[str, Any]]:
    """The network of ``mode`` from a GraphML or OSM XML file, from the cache
    when valid, else read by :func:`read_graph` and built by
    :func:`network_from_osmnx`.

    The cache key holds the SHA-256 of the file, the mode, the settings that
    change a network of that mode (``cache.NETWORK_SETTINGS[mode]``), the cache
    format, the package version with a digest of the network-building code
    (this module included) and the OSMnx version; a stored entry is also
    checked against its own checksum, shapes, dtypes and
    ``RoadNetwork.validate``, and built once by runs sharing the cache,
    exactly as :func:`cache.load_or_build` does.

    Parameters
    ----------
    source
        ``.graphml`` or OSM XML file.
    mode
        ``"walk"``, ``"bike"`` or ``"car"``.
    settings
        Run settings.
    cache_dir
        Folder of the cache files (created when missing).

    Returns
    -------
    network
        The road network.
    report
        ``{"status": "reused"}`` or ``{"status": "built", "reason": ...}``
        (reason as in :func:`cache.load_or_build`), both with ``"stats"`` and
        ``"source"`` (the file).
    """
    if mode not in ROAD_MODES:
        raise ValueError(f"mode {mode!r} has no road network; expected one of {ROAD_MODES}")
    path = Path(source)
    if not path.is_file():
        raise InputError(path, "file not found; expected an OSMnx .graphml file or an OSM XML file")
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    identity = {
        "version": f"{cache.CACHE_FORMAT_VERSION}/{cache._package_version()}+{code}"
                   f"/osmnx-{osmnx.__version__}",
        "input_sha256": _io.file_digest(path),
        "settings_sha256": settings.digest(*cache.NETWORK_SETTINGS[mode]),
        "mode": mode,
    }
    # ".external." keeps these apart from load_or_build's entries of a PBF of
    # the same stem.
    arrays = Path(cache_dir) / f"{path.name}.external.{mode}.arrays"
    sidecar = arrays.with_suffix(".json")
    _io.clean_stale(Path(cache_dir))
    network, reason = cache._load_network(arrays, sidecar, identity)
    if network is None:
        with cache._entry_lock(sidecar):
            # A run that held the lock may have stored it meanwhile.
            network, reason = cache._load_network(arrays, sidecar, identity)
            if network is None:
                if reason != "no cache":
                    logger.info(f"cached {mode} network not used ({reason}); rebuilding")
                network = network_from_osmnx(read_graph(path, mode), mode, settings)
                cache._store_network(network, arrays, sidecar, identity)
                return network, {"status": "built", "reason": reason, "stats": network.stats,
                                 "source": str(path)}
    logger.info(f"reusing cached {mode} network from {arrays}")
    return network, {"status": "reused", "stats": network.stats, "source": str(path)}


def _node_id(key: Any) -> int:
    value = int(key)
    if value < 0 or value != key:
        raise ValueError(f"node {key!r}")
    return value


def _coordinate(data: Mapping[str, Any], name: str) -> float:
    """A node coordinate, NaN when absent (a way node missing from the file)."""
    value = data.get(name)
    return np.nan if value is None else float(value)


def _edges(graph):
    """(u, v, data) of every edge, for MultiDiGraphs and DiGraphs alike."""
    if graph.is_multigraph():
        return graph.edges(keys=False, data=True)
    return graph.edges(data=True)


def _tag_key(data: Mapping[str, Any]) -> tuple:
    """Hashable form of an edge's tags, so equal tag sets are evaluated once."""
    return tuple(sorted((k, tuple(map(str, v)) if isinstance(v, list) else str(v))
                        for k, v in data.items() if k not in _NOT_TAGS))


def _edge_attributes(data: Mapping[str, Any], mode: str, settings: Settings,
                     unlinkable: set[str]) -> tuple[bool, float, bool, bool, float]:
    """(usable, speed_kmh, ferry, linkable, duration_s) of an edge from its
    tags; ``duration_s`` is a ferry's crossing time, NaN if untimed.

    List values (merged by OSMnx simplification): every ``highway`` value is
    tried and the fastest usable one wins; the fastest ``maxspeed`` is used;
    of other tags the first value counts (``_way_rules`` reads the first of
    ``;``-separated values).
    """
    base: dict[str, str] = {}
    for k, v in data.items():
        if k in _NOT_TAGS or k == "highway":
            continue
        if k == "maxspeed" and isinstance(v, list):
            v = max(map(str, v), key=lambda s: _way_rules.parse_maxspeed_kmh(s) or -1.0)
        base[k] = ";".join(map(str, v)) if isinstance(v, list) else str(v)
    highway = data.get("highway")
    classes = highway if isinstance(highway, list) else [highway]
    best = (False, 1.0, False, False, np.nan)
    for cls in classes:
        tags = dict(base) if cls is None else dict(base, highway=str(cls))
        if not _way_rules.access_allowed(tags, mode, settings):
            continue
        if tags.get("route") == "ferry":
            candidate = (True, settings.ferry_speed_kmh, True, False,
                         _way_rules.ferry_duration_s(tags))
        else:
            candidate = (True, _way_rules.speed_kmh(tags, mode, settings), False,
                         tags.get("highway") not in unlinkable, np.nan)
        if not best[0] or candidate[1] > best[1]:
            best = candidate
    return best


def _interior_points(geometry, ux: float, uy: float, vx: float, vy: float) -> np.ndarray:
    """Interior vertices of an edge geometry, ordered from ``u`` to ``v``
    (graph CRS); empty without a geometry."""
    if geometry is None:
        return np.zeros((0, 2))
    coords = np.asarray(geometry.coords, dtype=np.float64)[:, :2]
    if coords.shape[0] <= 2:
        return np.zeros((0, 2))
    # A geometry stored the other way round (edited or re-loaded graphs).
    start, end = coords[0], coords[-1]
    if np.hypot(*(start - (ux, uy))) + np.hypot(*(end - (vx, vy))) > \
            np.hypot(*(start - (vx, vy))) + np.hypot(*(end - (ux, uy))):
        coords = coords[::-1]
    # The end points are the graph nodes; a repeated point adds nothing.
    coords = np.concatenate([[(ux, uy)], coords[1:-1], [(vx, vy)]])
    distinct = np.ones(coords.shape[0], dtype=bool)
    distinct[1:] = np.any(coords[1:] != coords[:-1], axis=1)
    return coords[distinct][1:-1]


def _project(x: np.ndarray, y: np.ndarray, from_crs: Any, to_crs: str
             ) -> tuple[np.ndarray, np.ndarray]:
    source, target = pyproj.CRS.from_user_input(from_crs), pyproj.CRS.from_user_input(to_crs)
    if source == target:
        return x.copy(), y.copy()
    transformer = pyproj.Transformer.from_crs(source, target, always_xy=True)
    px, py = transformer.transform(x, y)
    return np.asarray(px, dtype=np.float64), np.asarray(py, dtype=np.float64)


def _reopen_for_bikes(graph) -> None:
    """Add the reverse of one-way edges that cyclists may ride both ways
    (``oneway:bicycle=no``, or an opposite cycleway without that tag)."""
    reverse = []
    for u, v, data in graph.edges(data=True):
        if data.get("oneway") is not True:
            continue
        bike_oneway = data.get("oneway:bicycle")
        opposite = any(str(data.get(k, "")).startswith("opposite")
                       for k in ("cycleway", "cycleway:left", "cycleway:right", "cycleway:both"))
        if (bike_oneway is None and opposite) or (
                bike_oneway is not None and str(bike_oneway).split(";")[0].strip().lower()
                in _BIKE_TWO_WAY):
            reverse.append((v, u, dict(data, reversed=not data.get("reversed", False))))
    graph.add_edges_from(reverse)
