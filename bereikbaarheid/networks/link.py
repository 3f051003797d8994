"""Linking points to the nearest point on the nearest usable edge.

Each point (cell centroid, facility) is projected onto the nearest linkable
segment of a mode's network. The segment is split at that point, so a path
may start or end mid-segment, and two points on one segment reach each other
directly along it. The straight connector from the point to the split node is
not an edge: its length is returned per point and costed by the caller at the
mode's connector speed (:func:`connector_ms`).

Costs are whole numbers, to a resolution of 1 ms and 1 mm: every edge of the
network takes ``max(1, round(1000 * edge_time_s))`` ms and ``round(1000 *
edge_length_m)`` mm, and a segment split at fractions ``0 < F_1 < ... < F_k <
1`` gives piece ``j`` the difference of the rounded cumulative values,
``round(t * F_j) - round(t * F_{j-1})``. The pieces sum exactly to the edge,
and adding a point never changes the cumulative value at the others, so sums
of costs are exact and a graph linked with one more point gives the same
shortest paths between the old points to the last bit (what incremental
scenario updates rely on). A piece may take 0 ms when two points lie within a
millisecond of each other.

``point_pairs`` answers "which points lie within so many seconds of which"
on a linked graph (walking transfers between stops, the access, egress and
walk-only legs of public transport, floating catchments).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import shapely

from ..kernels import csr, dijkstra
from .graph import RoadNetwork

# A projection closer than this to a segment end reuses the end node, so no
# zero-length split edges are created.
_SNAP_TO_NODE_M = 0.01


@dataclass
class LinkedGraph:
    """A mode's network with the linked points spliced in.

    Attributes
    ----------
    indptr, indices
        CSR of the split graph (original nodes keep their numbers; split
        nodes follow them, numbered by (segment, fraction)).
    edge_time_ms, edge_length_mm
        float64 whole milliseconds (>= 0) and millimetres per edge.
    point_node
        int64 node of each point in the split graph; -1 when unlinked.
    connector_m
        float64 straight distance from each point to its node; NaN when
        unlinked.
    n_network_nodes
        Number of nodes of the unsplit network.
    split_segment, split_fraction
        Per split node (node ``n_network_nodes + i``): the linkable segment
        it lies on (a number fixed by the network alone) and its fraction
        along it, so split nodes can be matched between two linkings.
    """

    indptr: np.ndarray
    indices: np.ndarray
    edge_time_ms: np.ndarray
    edge_length_mm: np.ndarray
    point_node: np.ndarray
    connector_m: np.ndarray
    n_network_nodes: int
    split_segment: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    split_fraction: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n_nodes(self) -> int:
        return int(self.indptr.shape[0] - 1)

    @property
    def linked(self) -> np.ndarray:
        return self.point_node >= 0

    @property
    def connector_mm(self) -> np.ndarray:
        """float64 whole millimetres of each connector (NaN when unlinked)."""
        return np.round(self.connector_m * 1000.0)


def connector_ms(connector_m: np.ndarray, speed_kmh: float) -> np.ndarray:
    """Whole milliseconds to cover ``connector_m`` at ``speed_kmh`` (NaN stays NaN)."""
    return np.round(np.asarray(connector_m, np.float64) / (speed_kmh / 3.6) * 1000.0)


def network_time_ms(network: RoadNetwork) -> np.ndarray:
    """Whole milliseconds per network edge, at least 1."""
    return np.maximum(1.0, np.round(network.edge_time_s * 1000.0))


def network_length_mm(network: RoadNetwork) -> np.ndarray:
    """Whole millimetres per network edge."""
    return np.round(network.edge_length_m * 1000.0)


@dataclass
class PointLocations:
    """Where points meet a network, before the network is split.

    Attributes
    ----------
    segment
        int64 linkable segment of each point (numbered by the network alone);
        -1 when unlinked.
    fraction
        float64 position along the segment, 0 or 1 when snapped to its end.
    connector_m
        float64 straight distance to that position; NaN when unlinked.
    """

    segment: np.ndarray
    fraction: np.ndarray
    connector_m: np.ndarray

    def take(self, index: np.ndarray) -> PointLocations:
        """The locations of the points ``index`` (int or bool)."""
        return PointLocations(self.segment[index], self.fraction[index],
                              self.connector_m[index])

    @staticmethod
    def concat(parts: list[PointLocations]) -> PointLocations:
        return PointLocations(*(np.concatenate([getattr(p, a) for p in parts])
                                for a in ("segment", "fraction", "connector_m")))


def link_points(
    network: RoadNetwork, x: np.ndarray, y: np.ndarray, max_link_distance_m: float
) -> LinkedGraph:
    """Link points to ``network`` and return the split graph.

    The same as ``split_network(network, locate_points(network, x, y,
    max_link_distance_m))``.

    Parameters
    ----------
    network
        The mode's road network (projected CRS, metres).
    x, y
        Point coordinates in the network's CRS.
    max_link_distance_m
        Points farther than this from every linkable edge stay unlinked
        (``point_node == -1``); they are never snapped far away.
    """
    segments = network_segments(network)
    return split_network(network, locate_points(network, x, y, max_link_distance_m, segments),
                         segments)


def network_segments(network: RoadNetwork) -> tuple[np.ndarray, ...]:
    """Undirected linkable segments and the edges they are made of.

    A segment joins two nodes ``lo < hi`` with at least one linkable edge
    between them; segments are numbered in (lo, hi) order, a number fixed by
    the network alone. Each keeps its forward (lo -> hi) and backward
    (hi -> lo) edge, when those exist; parallel edges in one direction were
    reduced to one by the builder, and if any remain the lowest edge index
    wins. Returns ``(seg_lo, seg_hi, seg_of_edge, seg_fwd, seg_bwd)``
    (:func:`bereikbaarheid.kernels.csr.segments`). :func:`locate_points` and
    :func:`split_network` take it, so that a caller doing both on one
    network computes it once.
    """
    return csr.segments(network.indptr, network.indices, network.edge_linkable)


def locate_points(
    network: RoadNetwork, x: np.ndarray, y: np.ndarray, max_link_distance_m: float,
    segments: tuple[np.ndarray, ...] | None = None,
) -> PointLocations:
    """The nearest position on the nearest linkable segment of every point.

    Parameters are as for :func:`link_points`. A location depends only on
    the point and the network, so locations of different point sets can be
    concatenated and split together (:func:`split_network`). ``segments``
    is :func:`network_segments` of ``network`` when the caller has it.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    seg_lo, seg_hi, _, _, _ = segments or network_segments(network)
    out = PointLocations(np.full(len(x), -1, np.int64), np.full(len(x), np.nan),
                         np.full(len(x), np.nan))
    if len(x) == 0 or len(seg_lo) == 0:
        return out
    coords = np.stack(
        [network.node_x[seg_lo], network.node_y[seg_lo],
         network.node_x[seg_hi], network.node_y[seg_hi]], axis=1,
    ).reshape(-1, 2, 2)
    segments = shapely.linestrings(coords)
    points = shapely.points(x, y)
    tree = shapely.STRtree(segments)
    (p_idx, s_idx), dist = tree.query_nearest(
        points, max_distance=max_link_distance_m, all_matches=True, return_distance=True
    )
    # Equidistant segments: the lowest segment index wins, deterministically.
    order = np.lexsort((s_idx, p_idx))
    p_idx, s_idx, dist = p_idx[order], s_idx[order], dist[order]
    first = np.ones(len(p_idx), bool)
    first[1:] = p_idx[1:] != p_idx[:-1]
    p_idx, s_idx, dist = p_idx[first], s_idx[first], dist[first]

    seg_len = shapely.length(segments[s_idx])
    frac = shapely.line_locate_point(segments[s_idx], points[p_idx], normalized=True)
    frac = np.clip(np.nan_to_num(frac, nan=0.0), 0.0, 1.0)
    # Snapped to a segment end: that end's node, not a split node.
    frac[frac * seg_len < _SNAP_TO_NODE_M] = 0.0
    frac[(frac > 0.0) & ((1.0 - frac) * seg_len < _SNAP_TO_NODE_M)] = 1.0
    out.segment[p_idx] = s_idx
    out.fraction[p_idx] = frac
    out.connector_m[p_idx] = dist
    return out


def split_network(network: RoadNetwork, locations: PointLocations,
                  segments: tuple[np.ndarray, ...] | None = None) -> LinkedGraph:
    """The network split at the points' ``locations`` (from :func:`locate_points`);
    ``segments`` as for :func:`locate_points`."""
    seg_lo, seg_hi, seg_of_edge, seg_fwd, seg_bwd = segments or network_segments(network)
    n = network.n_nodes
    point_node = np.full(len(locations.segment), -1, np.int64)
    connector_m = locations.connector_m.copy()
    p_idx = np.flatnonzero(locations.segment >= 0)
    s_idx = locations.segment[p_idx]
    frac = locations.fraction[p_idx]
    if len(p_idx) == 0:
        return _as_linked(network, np.ones(network.indices.shape[0], bool), [], point_node,
                          connector_m)
    at_lo = frac == 0.0
    at_hi = frac == 1.0
    point_node[p_idx[at_lo]] = seg_lo[s_idx[at_lo]]
    point_node[p_idx[at_hi]] = seg_hi[s_idx[at_hi]]

    mid = ~(at_lo | at_hi)
    split_seg, split_frac = s_idx[mid], frac[mid]
    # One split node per distinct (segment, fraction), numbered in that order.
    order = np.lexsort((split_frac, split_seg))
    sorted_seg, sorted_frac = split_seg[order], split_frac[order]
    first = np.ones(len(order), bool)
    first[1:] = (sorted_seg[1:] != sorted_seg[:-1]) | (sorted_frac[1:] != sorted_frac[:-1])
    uniq_seg, uniq_frac = sorted_seg[first], sorted_frac[first]
    new_nodes = n + np.arange(len(uniq_seg), dtype=np.int64)
    where = np.empty(len(order), np.int64)
    where[order] = np.cumsum(first) - 1
    point_node[p_idx[mid]] = new_nodes[where]

    # Chains lo -> q1 -> ... -> hi along each split segment.
    first_of_seg = np.ones(len(uniq_seg), bool)  # uniq_seg is sorted
    first_of_seg[1:] = uniq_seg[1:] != uniq_seg[:-1]
    split_segs = uniq_seg[first_of_seg]
    chain_seg = np.concatenate([split_segs, uniq_seg, split_segs])
    chain_frac = np.concatenate([np.zeros(len(split_segs)), uniq_frac, np.ones(len(split_segs))])
    chain_node = np.concatenate([seg_lo[split_segs], new_nodes, seg_hi[split_segs]])
    order = np.lexsort((chain_frac, chain_seg))
    chain_seg, chain_frac, chain_node = chain_seg[order], chain_frac[order], chain_node[order]
    same = chain_seg[1:] == chain_seg[:-1]
    a, b = chain_node[:-1][same], chain_node[1:][same]
    f_from, f_to = chain_frac[:-1][same], chain_frac[1:][same]
    piece_seg = chain_seg[:-1][same]

    time_ms, length_mm = network_time_ms(network), network_length_mm(network)
    new_edges = []
    for seg_edge, u, v in ((seg_fwd, a, b), (seg_bwd, b, a)):
        e = seg_edge[piece_seg]
        has = e >= 0
        e, lo_f, hi_f = e[has], f_from[has], f_to[has]
        # Differences of rounded cumulative values: the pieces of an edge sum
        # to it exactly, however many points split it.
        new_edges.append((
            u[has], v[has],
            np.round(time_ms[e] * hi_f) - np.round(time_ms[e] * lo_f),
            np.round(length_mm[e] * hi_f) - np.round(length_mm[e] * lo_f),
        ))
    split = np.zeros(len(seg_lo) + 1, bool)
    split[split_segs] = True
    keep = ~split[seg_of_edge]  # seg_of_edge -1 (not linkable) reads the False at the end
    return _as_linked(network, keep, new_edges, point_node, connector_m, uniq_seg, uniq_frac,
                      time_ms, length_mm)


def _as_linked(network, keep, new_edges, point_node, connector_m, split_segment=None,
               split_fraction=None, time_ms=None, length_mm=None) -> LinkedGraph:
    """The network without the edges not ``keep`` and with ``new_edges``
    (``(tails, heads, time_ms, length_mm)`` groups) as a :class:`LinkedGraph`."""
    n_new_nodes = 0 if split_segment is None else len(split_segment)
    time_ms = network_time_ms(network) if time_ms is None else time_ms
    length_mm = network_length_mm(network) if length_mm is None else length_mm
    parts = [np.concatenate([e[i] for e in new_edges]) if new_edges else np.zeros(0)
             for i in range(4)]
    indptr, indices, edge_time_ms, edge_length_mm = csr.splice(
        network.indptr, network.indices, keep, time_ms, length_mm, *parts,
        network.n_nodes + n_new_nodes)
    return LinkedGraph(
        indptr=indptr,
        indices=indices,
        edge_time_ms=edge_time_ms,
        edge_length_mm=edge_length_mm,
        point_node=point_node,
        connector_m=connector_m,
        n_network_nodes=network.n_nodes,
        split_segment=(np.zeros(0, np.int64) if split_segment is None
                       else np.asarray(split_segment, np.int64)),
        split_fraction=(np.zeros(0) if split_fraction is None
                        else np.asarray(split_fraction, np.float64)),
    )


def point_pairs(
    graph: LinkedGraph,
    source_points: np.ndarray,
    target_points: np.ndarray,
    cutoff: float,
    source_cost: np.ndarray,
    target_cost: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (source point, target point) within ``cutoff`` seconds over a linked graph.

    Points are indices into ``graph.point_node``; ``source_cost`` and
    ``target_cost`` (indexed the same way, e.g. connector times) are added to
    the network cost, and the total must be <= ``cutoff``. Unlinked points
    take no part. One bounded search runs per distinct source node, in
    parallel (``dijkstra.sources_within_cutoff``).

    Returns
    -------
    source, target, cost
        int64, int64, float64 arrays sorted by (source, target).
    """
    source_points = np.asarray(source_points, np.int64)
    target_points = np.asarray(target_points, np.int64)
    src_node = graph.point_node[source_points]
    tgt_node = graph.point_node[target_points]
    source_points, src_node = source_points[src_node >= 0], src_node[src_node >= 0]
    target_points, tgt_node = target_points[tgt_node >= 0], tgt_node[tgt_node >= 0]
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(source_points) == 0 or len(target_points) == 0:
        return empty
    src_nodes, src_group = np.unique(src_node, return_inverse=True)
    tgt_nodes, tgt_group = np.unique(tgt_node, return_inverse=True)
    target_of_node = np.full(graph.n_nodes, -1, np.int64)
    target_of_node[tgt_nodes] = np.arange(len(tgt_nodes))
    # The linked graph counts whole milliseconds; pairs come back in seconds.
    pair_src, pair_tgt, pair_cost_ms = dijkstra.sources_within_cutoff(
        graph.indptr, graph.indices, graph.edge_time_ms, src_nodes, cutoff * 1000.0,
        target_of_node)
    pair_cost = pair_cost_ms / 1000.0

    # Expand node pairs to point pairs: every point on the source node times
    # every point on the target node.
    src_by_group = np.argsort(src_group, kind="stable")
    src_start = np.concatenate([[0], np.cumsum(np.bincount(src_group))])
    tgt_by_group = np.argsort(tgt_group, kind="stable")
    tgt_start = np.concatenate([[0], np.cumsum(np.bincount(tgt_group))])
    n_src = src_start[pair_src + 1] - src_start[pair_src]
    n_tgt = tgt_start[pair_tgt + 1] - tgt_start[pair_tgt]
    per_pair = n_src * n_tgt
    pair = np.repeat(np.arange(len(pair_src)), per_pair)
    k = np.arange(len(pair)) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    src = source_points[src_by_group[src_start[pair_src[pair]] + k // n_tgt[pair]]]
    tgt = target_points[tgt_by_group[tgt_start[pair_tgt[pair]] + k % n_tgt[pair]]]
    cost = pair_cost[pair] + source_cost[src] + target_cost[tgt]
    keep = cost <= cutoff
    src, tgt, cost = src[keep], tgt[keep], cost[keep]
    order = np.lexsort((tgt, src))
    return src[order], tgt[order], cost[order]


def reversed_graph(graph: LinkedGraph) -> LinkedGraph:
    """The linked graph with every edge reversed: a search from targets then
    gives the times *to* them."""
    rindptr, rindices, rtime, rlength = dijkstra.reverse_csr(
        graph.indptr, graph.indices, graph.edge_time_ms, graph.edge_length_mm)
    return dataclasses.replace(graph, indptr=rindptr, indices=rindices, edge_time_ms=rtime,
                               edge_length_mm=rlength)
