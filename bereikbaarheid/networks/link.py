"""Linking points to the nearest point on the nearest usable edge.

Each point (cell centroid, facility) is projected onto the nearest linkable
segment of a mode's network. The segment is split at that point, so a path
may start or end mid-segment, and two points on one segment reach each other
directly along it. The straight connector from the point to the split node is
not an edge: its length is returned per point and costed by the caller at the
mode's connector speed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from .graph import RoadNetwork

# A projection closer than this to a segment end reuses the end node, so no
# zero-length split edges are created.
_SNAP_TO_NODE_M = 0.01


@dataclass
class LinkedGraph:
    """A mode's network with the linked points spliced in.

    Attributes
    ----------
    indptr, indices, edge_time_s, edge_length_m
        CSR of the split graph (original nodes keep their numbers; split
        nodes follow them).
    point_node
        int64 node of each point in the split graph; -1 when unlinked.
    connector_m
        float64 straight distance from each point to its node; NaN when
        unlinked.
    n_network_nodes
        Number of nodes of the unsplit network.
    """

    indptr: np.ndarray
    indices: np.ndarray
    edge_time_s: np.ndarray
    edge_length_m: np.ndarray
    point_node: np.ndarray
    connector_m: np.ndarray
    n_network_nodes: int

    @property
    def n_nodes(self) -> int:
        return int(self.indptr.shape[0] - 1)

    @property
    def linked(self) -> np.ndarray:
        return self.point_node >= 0


def link_points(
    network: RoadNetwork, x: np.ndarray, y: np.ndarray, max_link_distance_m: float
) -> LinkedGraph:
    """Link points to ``network`` and return the split graph.

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
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = network.n_nodes
    tails = network.edge_tails().astype(np.int64)
    heads = network.indices.astype(np.int64)

    # Undirected segments made of linkable edges; each keeps its forward
    # (lo -> hi) and backward (hi -> lo) edge, when those exist.
    lo = np.minimum(tails, heads)
    hi = np.maximum(tails, heads)
    seg_key = lo * n + hi
    linkable_keys = np.unique(seg_key[network.edge_linkable & (tails != heads)])
    point_node = np.full(len(x), -1, np.int64)
    connector_m = np.full(len(x), np.nan)
    if len(x) == 0 or len(linkable_keys) == 0:
        return _as_linked(network, tails, heads, np.ones(len(tails), bool),
                          [], point_node, connector_m)
    seg_lo = linkable_keys // n
    seg_hi = linkable_keys % n
    pos = np.minimum(np.searchsorted(linkable_keys, seg_key), len(linkable_keys) - 1)
    in_seg = linkable_keys[pos] == seg_key
    seg_of_edge = np.where(in_seg, pos, -1)
    forward = in_seg & (tails == lo)
    backward = in_seg & (tails == hi)
    seg_fwd = np.full(len(linkable_keys), -1, np.int64)
    seg_bwd = np.full(len(linkable_keys), -1, np.int64)
    # Parallel edges in one direction were reduced to one by the builder; if
    # any remain, the lowest edge index wins deterministically.
    seg_fwd[seg_of_edge[forward][::-1]] = np.flatnonzero(forward)[::-1]
    seg_bwd[seg_of_edge[backward][::-1]] = np.flatnonzero(backward)[::-1]

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
    connector_m[p_idx] = dist

    at_lo = frac * seg_len < _SNAP_TO_NODE_M
    at_hi = ~at_lo & ((1.0 - frac) * seg_len < _SNAP_TO_NODE_M)
    point_node[p_idx[at_lo]] = seg_lo[s_idx[at_lo]]
    point_node[p_idx[at_hi]] = seg_hi[s_idx[at_hi]]

    mid = ~(at_lo | at_hi)
    split_seg, split_frac = s_idx[mid], frac[mid]
    # One split node per distinct (segment, fraction), numbered in that order.
    keys = np.unique(np.stack([split_seg.astype(np.float64), split_frac], axis=1), axis=0)
    uniq_seg = keys[:, 0].astype(np.int64)
    uniq_frac = keys[:, 1]
    new_nodes = n + np.arange(len(keys), dtype=np.int64)
    where = _row_lookup(keys, np.stack([split_seg.astype(np.float64), split_frac], axis=1))
    point_node[p_idx[mid]] = new_nodes[where]

    # Chains lo -> q1 -> ... -> hi along each split segment.
    split_segs = np.unique(uniq_seg)
    chain_seg = np.concatenate([split_segs, uniq_seg, split_segs])
    chain_frac = np.concatenate([np.zeros(len(split_segs)), uniq_frac, np.ones(len(split_segs))])
    chain_node = np.concatenate([seg_lo[split_segs], new_nodes, seg_hi[split_segs]])
    order = np.lexsort((chain_frac, chain_seg))
    chain_seg, chain_frac, chain_node = chain_seg[order], chain_frac[order], chain_node[order]
    same = chain_seg[1:] == chain_seg[:-1]
    a, b = chain_node[:-1][same], chain_node[1:][same]
    piece = (chain_frac[1:] - chain_frac[:-1])[same]
    piece_seg = chain_seg[:-1][same]

    new_edges = []
    for seg_edge, u, v in ((seg_fwd, a, b), (seg_bwd, b, a)):
        e = seg_edge[piece_seg]
        has = e >= 0
        new_edges.append((
            u[has], v[has],
            network.edge_time_s[e[has]] * piece[has],
            network.edge_length_m[e[has]] * piece[has],
        ))
    keep = np.ones(len(tails), bool)
    replaced = np.isin(seg_of_edge, split_segs)
    keep[replaced] = False
    return _as_linked(network, tails, heads, keep, new_edges, point_node, connector_m,
                      n_new_nodes=len(keys))


def _row_lookup(table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Index in the sorted unique 2-column ``table`` of each row of ``rows``."""
    rec = np.dtype([("a", np.float64), ("b", np.float64)])
    t = np.ascontiguousarray(table).view(rec).ravel()
    r = np.ascontiguousarray(rows).view(rec).ravel()
    return np.searchsorted(t, r)


def _as_linked(network, tails, heads, keep, new_edges, point_node, connector_m,
               n_new_nodes: int = 0) -> LinkedGraph:
    n_total = network.n_nodes + n_new_nodes
    u = np.concatenate([tails[keep]] + [e[0] for e in new_edges])
    v = np.concatenate([heads[keep]] + [e[1] for e in new_edges])
    t = np.concatenate([network.edge_time_s[keep]] + [e[2] for e in new_edges])
    d = np.concatenate([network.edge_length_m[keep]] + [e[3] for e in new_edges])
    order = np.lexsort((v, u))
    u, v, t, d = u[order], v[order], t[order], d[order]
    indptr = np.zeros(n_total + 1, np.int64)
    np.cumsum(np.bincount(u, minlength=n_total), out=indptr[1:])
    return LinkedGraph(
        indptr=indptr,
        indices=v.astype(np.int32),
        edge_time_s=t.astype(np.float64),
        edge_length_m=d.astype(np.float64),
        point_node=point_node,
        connector_m=connector_m,
        n_network_nodes=network.n_nodes,
    )
