"""Build a per-mode RoadNetwork (CSR arrays) from OSM ways."""

from __future__ import annotations

import logging
import numpy as np
import scipy.sparse
from scipy.sparse import csgraph

from ..config import ROAD_MODES, Settings
from ..errors import InputError
from ..sources import osm as osm_source
from . import _way_rules
from .graph import RoadNetwork

logger = logging.getLogger(__name__)

# Two distinct OSM nodes can share a location; their edge has length 0 but a
# travel time must stay positive for the shortest-path kernels.
MIN_EDGE_TIME_S = 1e-3


def build_network(osm: osm_source.OsmData, mode: str, settings: Settings) -> RoadNetwork:
    """Directed road network of one mode from the ways of ``osm``.

    Every pair of consecutive nodes in a way is one straight edge; OSM nodes
    shared between ways are the same graph node. Access, direction and speed
    follow :mod:`bereikbaarheid.networks._way_rules`: highway classes from
    ``settings.allowed_highways`` unless access tags say otherwise; one-way
    rules for cars and bikes (not for walking); ``maxspeed`` or the class
    speed for cars, uniform speeds for walking and cycling. Ferries
    (``route=ferry``) take their ``duration`` spread over their segments in
    proportion to length, else ``settings.ferry_speed_kmh``; cars use a ferry
    only when it is tagged ``motor_vehicle``/``motorcar=yes``. Of parallel
    edges the fastest is kept. With ``settings.keep_largest_component`` only
    the largest strongly connected component remains.

    Parameters
    ----------
    osm
        Ways read by :func:`bereikbaarheid.sources.osm.read_osm`.
    mode
        ``"walk"``, ``"bike"`` or ``"car"``.
    settings
        Run settings.

    Returns
    -------
    RoadNetwork
        Nodes numbered in ascending OSM id; ``stats`` holds
        ``nodes_before_scc``, ``nodes``, ``edges``, ``share_nodes_dropped``,
        ``ways_used``, ``ways_cut_at_extract_edge`` and ``ferry_edges``.

    Raises
    ------
    InputError
        No way in the extract is usable by ``mode``.
    ValueError
        ``mode`` is not a road mode.
    """
    if mode not in ROAD_MODES:
        raise ValueError(f"mode {mode!r} has no road network; expected one of {ROAD_MODES}")
    usable, forward, backward, speed_kmh, ferry, duration_s, linkable = _way_attributes(
        osm, mode, settings
    )

    # Segments: consecutive node pairs inside one piece of a way.
    piece = osm.piece_of_node()
    tail_pos = np.flatnonzero(piece[1:] == piece[:-1])
    seg_way = osm.piece_way[piece[tail_pos]]
    # A node repeated in a way gives a self-loop, which no path uses.
    keep = usable[seg_way] & (osm.node_id[tail_pos] != osm.node_id[tail_pos + 1])
    tail_pos, seg_way = tail_pos[keep], seg_way[keep]
    if tail_pos.shape[0] == 0:
        raise InputError(osm.path, f"no way in this extract is usable by mode {mode!r}")
    length_m = np.hypot(osm.node_x[tail_pos + 1] - osm.node_x[tail_pos],
                        osm.node_y[tail_pos + 1] - osm.node_y[tail_pos])

    time_s = length_m / (speed_kmh[seg_way] / 3.6)
    timed_ferry = ferry[seg_way] & ~np.isnan(duration_s[seg_way])
    if timed_ferry.any():
        way_length_m = np.bincount(seg_way, weights=length_m, minlength=osm.n_ways)
        way_segments = np.bincount(seg_way, minlength=osm.n_ways)
        w = seg_way[timed_ferry]
        share = np.where(way_length_m[w] > 0,
                         length_m[timed_ferry] / np.where(way_length_m[w] > 0, way_length_m[w], 1.0),
                         1.0 / way_segments[w])
        time_s[timed_ferry] = duration_s[w] * share
    time_s = np.maximum(time_s, MIN_EDGE_TIME_S)

    # Graph nodes: OSM ids of segment ends, in ascending id order.
    ends = np.concatenate([tail_pos, tail_pos + 1])
    node_osm_id, first, inverse = np.unique(osm.node_id[ends], return_index=True,
                                            return_inverse=True)
    seg_tail = inverse[: tail_pos.shape[0]]
    seg_head = inverse[tail_pos.shape[0]:]
    node_x = osm.node_x[ends[first]]
    node_y = osm.node_y[ends[first]]

    fwd = forward[seg_way]
    bwd = backward[seg_way]
    tail = np.concatenate([seg_tail[fwd], seg_head[bwd]])
    head = np.concatenate([seg_head[fwd], seg_tail[bwd]])
    edge_way = np.concatenate([seg_way[fwd], seg_way[bwd]])
    edge_time = np.concatenate([time_s[fwd], time_s[bwd]])
    edge_length = np.concatenate([length_m[fwd], length_m[bwd]])

    network, edges = assemble(
        mode, osm.crs, node_osm_id, node_x, node_y, tail, head,
        {"time_s": edge_time, "length_m": edge_length, "linkable": linkable[edge_way],
         "ferry": ferry[edge_way], "way": edge_way},
        keep_largest_component=settings.keep_largest_component)
    network.stats.update({
        "ways_used": int(np.unique(edges["way"]).shape[0]),
        "ways_cut_at_extract_edge": int(osm.report.get("ways_cut_at_extract_edge", 0)),
    })
    logger.info(
        f"{mode} network: {network.n_nodes:,} nodes, {network.n_edges:,} edges "
        f"({network.stats['share_nodes_dropped']:.1%} of nodes outside the largest component "
        "dropped)"
    )
    return network


def assemble(
    mode: str, crs: str, node_osm_id: np.ndarray, node_x: np.ndarray, node_y: np.ndarray,
    tail: np.ndarray, head: np.ndarray, edges: dict[str, np.ndarray], *,
    keep_largest_component: bool,
) -> tuple[RoadNetwork, dict[str, np.ndarray]]:
    """A RoadNetwork from directed edges: the fastest of parallel edges, the
    largest strongly connected component, nodes in space-filling-curve order,
    CSR arrays.

    Parameters
    ----------
    mode, crs
        Of the network.
    node_osm_id, node_x, node_y
        Per node.
    tail, head
        Node index per edge.
    edges
        Per-edge arrays: ``time_s``, ``length_m``, ``linkable`` and
        ``ferry``, and any others (e.g. the way of each edge), carried through
        every selection and order.
    keep_largest_component
        Drop the nodes outside the largest strongly connected component.

    Returns
    -------
    network, edges
        The validated network (``stats``: nodes before and after the
        component filter, edges, share dropped, ferry edges) and the final
        per-edge arrays in CSR order.
    """
    # Keep the fastest of parallel edges; the stable sort gives ties to the
    # edge that came first.
    n_before = int(node_osm_id.shape[0])
    order = np.lexsort((edges["time_s"], tail.astype(np.int64) * n_before + head))
    tail, head = tail[order], head[order]
    edges = {k: a[order] for k, a in edges.items()}
    first_of_pair = np.ones(tail.shape[0], dtype=bool)
    first_of_pair[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    tail, head = tail[first_of_pair], head[first_of_pair]
    edges = {k: a[first_of_pair] for k, a in edges.items()}

    if keep_largest_component:
        keep_node = _largest_scc(tail, head, n_before)
        keep_edge = keep_node[tail] & keep_node[head]
        new_index = np.cumsum(keep_node) - 1
        tail, head = new_index[tail[keep_edge]], new_index[head[keep_edge]]
        edges = {k: a[keep_edge] for k, a in edges.items()}
        node_osm_id, node_x, node_y = node_osm_id[keep_node], node_x[keep_node], node_y[keep_node]

    # Number the nodes along a space-filling curve, so that nodes near each
    # other in space are near each other in memory: OSM ids follow mapping
    # history, and searches over id-ordered arrays miss the cache far more.
    n = int(node_osm_id.shape[0])
    order = _spatial_order(node_x, node_y, node_osm_id)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    node_osm_id, node_x, node_y = node_osm_id[order], node_x[order], node_y[order]
    tail, head = rank[tail], rank[head]
    by_pair = np.lexsort((head, tail))
    tail, head = tail[by_pair], head[by_pair]
    edges = {k: a[by_pair] for k, a in edges.items()}
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    edge_ferry = np.ascontiguousarray(edges["ferry"], dtype=bool)
    stats = {
        "nodes_before_scc": n_before,
        "nodes": n,
        "edges": int(tail.shape[0]),
        "share_nodes_dropped": float(1.0 - n / n_before) if n_before else 0.0,
        "ferry_edges": int(edge_ferry.sum()),
    }
    network = RoadNetwork(
        mode=mode,
        crs=crs,
        node_x=np.ascontiguousarray(node_x, dtype=np.float64),
        node_y=np.ascontiguousarray(node_y, dtype=np.float64),
        node_osm_id=np.ascontiguousarray(node_osm_id, dtype=np.int64),
        indptr=indptr,
        indices=head.astype(np.int32),
        edge_time_s=np.ascontiguousarray(edges["time_s"], dtype=np.float64),
        edge_length_m=np.ascontiguousarray(edges["length_m"], dtype=np.float64),
        edge_linkable=np.ascontiguousarray(edges["linkable"], dtype=bool),
        edge_ferry=edge_ferry,
        stats=stats,
    )
    network.validate()
    return network, edges


def _way_attributes(osm: osm_source.OsmData, mode: str, settings: Settings
                    ) -> tuple[np.ndarray, ...]:
    """Per-way arrays: usable, forward, backward, speed_kmh, ferry,
    duration_s (NaN unless a timed ferry), linkable."""
    unlinkable = set(settings.unlinkable_highways)
    # Many ways share the same relevant tags: evaluate each combination once.
    known: dict[tuple, int] = {}
    table: list[tuple] = []
    codes = []
    for tags in osm.way_tags:
        key = tuple(sorted(tags.items()))
        code = known.get(key)
        if code is None:
            code = known[key] = len(table)
            table.append(_attributes_of(tags, mode, settings, unlinkable))
        codes.append(code)
    index = np.asarray(codes, dtype=np.int64)
    dtypes = (bool, bool, bool, np.float64, bool, np.float64, bool)
    return tuple(np.asarray(column, dtype=dtype)[index]
                 for column, dtype in zip(zip(*table), dtypes))


def _attributes_of(tags: dict[str, str], mode: str, settings: Settings,
                   unlinkable: set[str]) -> tuple:
    """(usable, forward, backward, speed_kmh, ferry, duration_s, linkable) of one way."""
    if not _way_rules.access_allowed(tags, mode, settings):
        return False, False, False, 1.0, False, np.nan, False
    forward, backward = _way_rules.directions(tags, mode)
    if tags.get("route") == "ferry":
        return (True, forward, backward, settings.ferry_speed_kmh, True,
                _way_rules.ferry_duration_s(tags), False)
    return (True, forward, backward, _way_rules.speed_kmh(tags, mode, settings), False,
            np.nan, tags.get("highway") not in unlinkable)


def _spatial_order(x: np.ndarray, y: np.ndarray, osm_id: np.ndarray) -> np.ndarray:
    """Node order along a Morton (Z-order) curve; equal codes by OSM id."""
    if x.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    scale = 65535.0 / max(float(np.ptp(x)), float(np.ptp(y)), 1.0)
    code = (_spread_bits(((x - x.min()) * scale).astype(np.uint64))
            | (_spread_bits(((y - y.min()) * scale).astype(np.uint64)) << np.uint64(1)))
    return np.lexsort((osm_id, code))


def _spread_bits(v: np.ndarray) -> np.ndarray:
    """Put the 16 low bits of ``v`` on the even bit positions."""
    for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def _largest_scc(tail: np.ndarray, head: np.ndarray, n: int) -> np.ndarray:
    """Boolean mask of the nodes in the largest strongly connected component
    (the lowest label among equally large ones)."""
    graph = scipy.sparse.csr_matrix(
        (np.ones(tail.shape[0], dtype=np.int8), (tail, head)), shape=(n, n)
    )
    _, labels = csgraph.connected_components(graph, directed=True, connection="strong")
    return labels == np.argmax(np.bincount(labels))
