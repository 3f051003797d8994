"""One-to-all and nearest-source queries on a hierarchy (PHAST)."""

from __future__ import annotations

import numba
import numpy as np

from .. import _heap, dijkstra
from ._hierarchy import _EXACT_LIMIT, Hierarchy

# --------------------------------------------------------------------------
# Compiled kernels: PHAST queries
# --------------------------------------------------------------------------

@numba.njit(cache=True)
def _one_to_all_kernel(up_indptr, up_indices, up_cost, down_indptr, down_indices,
                       down_cost, rank, source):
    n = rank.shape[0]
    dist = np.full(n, np.inf)
    # The upward graph is acyclic with ranks as a topological order: taking
    # nodes by rank settles each once, after every upward edge into it.
    keys = np.empty(n + 1, dtype=np.float64)
    nodes = np.empty(n + 1, dtype=np.int32)
    r = rank[source]
    dist[r] = 0.0
    size = _heap.push(keys, nodes, 0, float(r), r)
    while size > 0:
        _, x, size = _heap.pop(keys, nodes, size)
        d = dist[x]
        for e in range(up_indptr[x], up_indptr[x + 1]):
            y = up_indices[e]
            t = d + up_cost[e]
            if t < dist[y]:
                if dist[y] == np.inf:
                    size = _heap.push(keys, nodes, size, float(y), y)
                dist[y] = t
    for x in range(n - 1, -1, -1):
        d = dist[x]
        for e in range(down_indptr[x], down_indptr[x + 1]):
            t = dist[down_indices[e]] + down_cost[e]
            d = min(d, t)
        dist[x] = d
    out = np.empty(n, dtype=np.float64)
    for v in range(n):
        out[v] = dist[rank[v]]
    return out


@numba.njit(cache=True)
def _better(c1, lab1, l1, c2, lab2, l2):
    """``(c1, lab1, l1) < (c2, lab2, l2)`` lexicographically."""
    if c1 != c2:
        return c1 < c2
    if lab1 != lab2:
        return lab1 < lab2
    return l1 < l2


@numba.njit(cache=True)
def _nearest_source_kernel(up_indptr, up_indices, up_cost, up_length, down_indptr,
                           down_indices, down_cost, down_length, rank, source_nodes,
                           source_cost, source_label):
    n = rank.shape[0]
    cost = np.full(n, np.inf)
    label = np.full(n, -1, dtype=np.int64)
    path_length = np.full(n, np.inf)
    seen = np.zeros(n, dtype=np.bool_)
    lowest = n
    for s in range(source_nodes.shape[0]):
        r = rank[source_nodes[s]]
        if _better(source_cost[s], source_label[s], 0.0, cost[r], label[r], path_length[r]):
            cost[r] = source_cost[s]
            label[r] = source_label[s]
            path_length[r] = 0.0
        seen[r] = True
        lowest = min(lowest, r)
    # Many sources reach much of the upper hierarchy: scanning ranks upwards
    # (a topological order of the upward graph) is cheaper than a heap.
    for x in range(lowest, n):
        if not seen[x]:
            continue
        c = cost[x]
        lab = label[x]
        l = path_length[x]
        for e in range(up_indptr[x], up_indptr[x + 1]):
            y = up_indices[e]
            seen[y] = True
            if _better(c + up_cost[e], lab, l + up_length[e], cost[y], label[y],
                       path_length[y]):
                cost[y] = c + up_cost[e]
                label[y] = lab
                path_length[y] = l + up_length[e]
    for x in range(n - 1, -1, -1):
        c = cost[x]
        lab = label[x]
        l = path_length[x]
        for e in range(down_indptr[x], down_indptr[x + 1]):
            u = down_indices[e]
            cu = cost[u] + down_cost[e]
            if cu < c or (cu == c and cu != np.inf and (
                    label[u] < lab or (label[u] == lab and path_length[u] + down_length[e] < l))):
                c = cu
                lab = label[u]
                l = path_length[u] + down_length[e]
        cost[x] = c
        label[x] = lab
        path_length[x] = l
    out_cost = np.empty(n, dtype=np.float64)
    out_label = np.empty(n, dtype=np.int64)
    out_length = np.empty(n, dtype=np.float64)
    for v in range(n):
        r = rank[v]
        out_cost[v] = cost[r]
        out_label[v] = label[r]
        out_length[v] = path_length[r] if label[r] >= 0 else np.nan
    return out_cost, out_label, out_length


def one_to_all(h: Hierarchy, source: int) -> np.ndarray:
    """Cost from node ``source`` to every node (inf where unreachable).

    Equal, bit for bit, to :func:`.dijkstra.one_to_all` on the graph the
    hierarchy was built from.

    Parameters
    ----------
    h
        The hierarchy of the graph.
    source
        Start node (original numbering).

    Returns
    -------
    numpy.ndarray
        float64 cost per node.
    """
    if not (isinstance(source, (int, np.integer)) and 0 <= source < h.n):
        raise ValueError(f"source must be a node number in [0, {h.n - 1}], got {source!r}")
    return _one_to_all_kernel(h.up_indptr, h.up_indices, h.up_cost, h.down_indptr,
                              h.down_indices, h.down_cost, h.rank, np.int32(source))


def nearest_source(h: Hierarchy, source_nodes: np.ndarray, source_cost: np.ndarray,
                   source_label: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multi-source nearest: the cheapest source of every node, by PHAST.

    Equal, bit for bit, to :func:`.dijkstra.nearest_source` on the graph (with
    its cost and length) the hierarchy was built from: every node gets the
    lexicographically smallest ``(cost, label, length)`` over all sources and
    paths.

    Parameters
    ----------
    h
        The hierarchy of the graph.
    source_nodes
        int, ``n_sources``: node of every source; nodes may repeat.
    source_cost
        float, ``n_sources``: starting cost of every source (e.g. a
        facility's connector), whole numbers.
    source_label
        int, ``n_sources``: label (>= 0) of every source.

    Returns
    -------
    cost
        float64 per node; inf where no source reaches it.
    label
        int64 per node: label of the winning source; -1 where unreachable.
    path_length
        float64 per node: summed length of the winning path (0 at the source);
        nan where unreachable.
    """
    source_nodes, source_cost, source_label, _ = dijkstra._sources(
        h.n, source_nodes, source_cost, source_label)
    if source_cost.size and not ((np.floor(source_cost) == source_cost).all()
                                 and np.abs(source_cost).max() < _EXACT_LIMIT / 2):
        raise ValueError("source_cost must be whole numbers below 2**52 in magnitude, "
                         "so that every path sum is exact")
    return _nearest_source_kernel(h.up_indptr, h.up_indices, h.up_cost, h.up_length,
                                  h.down_indptr, h.down_indices, h.down_cost,
                                  h.down_length, h.rank, source_nodes, source_cost,
                                  source_label)
