"""One-to-all and nearest-source queries on a hierarchy (PHAST), also with split edges."""

from __future__ import annotations

import numba
import numpy as np

from .. import _heap, dijkstra
from ._hierarchy import _EXACT_LIMIT, Hierarchy, _whole

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
def _phast_sweeps(up_indptr, up_indices, up_cost, up_length, down_indptr, down_indices,
                  down_cost, down_length, cost, label, path_length, seen, lowest):
    """PHAST over ``(cost, label, length)`` per rank, in place.

    On entry the sources' values are set (unreached ranks: inf, -1, inf) and
    marked ``seen``; ``lowest`` is the lowest seen rank. On return every rank
    holds the lexicographically smallest value over all sources and paths.
    """
    n = cost.shape[0]
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


@numba.njit(cache=True)
def _nearest_source_kernel(up_indptr, up_indices, up_cost, up_length, down_indptr,
                           down_indices, down_cost, down_length, rank, source_nodes,
                           source_cost, source_label, source_length):
    n = rank.shape[0]
    cost = np.full(n, np.inf)
    label = np.full(n, -1, dtype=np.int64)
    path_length = np.full(n, np.inf)
    seen = np.zeros(n, dtype=np.bool_)
    lowest = n
    for s in range(source_nodes.shape[0]):
        r = rank[source_nodes[s]]
        if _better(source_cost[s], source_label[s], source_length[s], cost[r], label[r],
                   path_length[r]):
            cost[r] = source_cost[s]
            label[r] = source_label[s]
            path_length[r] = source_length[s]
        seen[r] = True
        lowest = min(lowest, r)
    _phast_sweeps(up_indptr, up_indices, up_cost, up_length, down_indptr, down_indices,
                  down_cost, down_length, cost, label, path_length, seen, lowest)
    out_cost = np.empty(n, dtype=np.float64)
    out_label = np.empty(n, dtype=np.int64)
    out_length = np.empty(n, dtype=np.float64)
    for v in range(n):
        r = rank[v]
        out_cost[v] = cost[r]
        out_label[v] = label[r]
        out_length[v] = path_length[r] if label[r] >= 0 else np.nan
    return out_cost, out_label, out_length


@numba.njit(cache=True, nogil=True)
def _split_nearest_kernel(up_indptr, up_indices, up_cost, up_length, down_indptr,
                          down_indices, down_cost, down_length, rank, indptr, indices,
                          weight, length, source_nodes, source_cost, source_label):
    n = indptr.shape[0] - 1
    n_net = rank.shape[0]
    cost = np.full(n, np.inf)
    label = np.full(n, -1, dtype=np.int64)
    path_length = np.full(n, np.nan)
    queued = np.zeros(n, dtype=np.bool_)
    keys = np.empty(1024, dtype=np.float64)
    nodes = np.empty(1024, dtype=np.int32)
    # The graph with the network nodes' rows left empty: a search on it
    # passes through split nodes only and stops at the network nodes it meets.
    local_indptr = np.empty(n + 1, dtype=np.int64)
    local_indptr[:n_net + 1] = indptr[n_net]
    local_indptr[n_net + 1:] = indptr[n_net + 1:]

    # 1. The sources, along their own split roads to the first network nodes.
    size = 0
    for s in range(source_nodes.shape[0]):
        keys, nodes = dijkstra._room(keys, nodes, size, 1)
        size = dijkstra._offer(source_nodes[s], source_cost[s], source_label[s], 0.0, cost,
                               label, path_length, queued, keys, nodes, size)
    dijkstra._lexicographic_search(local_indptr, indices, weight, length, cost, label,
                                   path_length, queued, keys, nodes, size)

    # 2. PHAST from the network nodes reached, each with its cost, label and
    # the length travelled so far.
    r_cost = np.full(n_net, np.inf)
    r_label = np.full(n_net, -1, dtype=np.int64)
    r_length = np.full(n_net, np.inf)
    seen = np.zeros(n_net, dtype=np.bool_)
    lowest = n_net
    for v in range(n_net):
        if label[v] >= 0:
            r = rank[v]
            r_cost[r] = cost[v]
            r_label[r] = label[v]
            r_length[r] = path_length[v]
            seen[r] = True
            lowest = min(lowest, r)
    _phast_sweeps(up_indptr, up_indices, up_cost, up_length, down_indptr, down_indices,
                  down_cost, down_length, r_cost, r_label, r_length, seen, lowest)
    for v in range(n_net):
        r = rank[v]
        if r_label[r] >= 0:
            cost[v] = r_cost[r]
            label[v] = r_label[r]
            path_length[v] = r_length[r]

    # 3. The split nodes, from the (now final) network nodes at the ends of
    # their roads; what the sources gave them in step 1 stays where better.
    size = 0
    for u in range(n_net):
        if label[u] < 0:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if v >= n_net:
                keys, nodes = dijkstra._room(keys, nodes, size, 1)
                size = dijkstra._offer(v, cost[u] + weight[e], label[u],
                                       path_length[u] + length[e], cost, label, path_length,
                                       queued, keys, nodes, size)
    dijkstra._lexicographic_search(local_indptr, indices, weight, length, cost, label,
                                   path_length, queued, keys, nodes, size)
    return cost, label, path_length


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
                   source_label: np.ndarray, source_length: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multi-source nearest: the cheapest source of every node, by PHAST.

    Equal, bit for bit, to :func:`.dijkstra.nearest_source` (with
    ``source_length``: :func:`.dijkstra.improve_nearest_source` from nothing)
    on the graph (with its cost and length) the hierarchy was built from:
    every node gets the lexicographically smallest ``(cost, label, length)``
    over all sources and paths.

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
    source_length
        float, ``n_sources``: length already travelled at every source (e.g.
        along a split road to the network), whole numbers >= 0; default 0.

    Returns
    -------
    cost
        float64 per node; inf where no source reaches it.
    label
        int64 per node: label of the winning source; -1 where unreachable.
    path_length
        float64 per node: summed length of the winning path (the source's
        own length at the source); nan where unreachable.
    """
    source_nodes, source_cost, source_label, source_length = dijkstra._sources(
        h.n, source_nodes, source_cost, source_label, source_length)
    _exact_sources(source_cost, source_length)
    return _nearest_source_kernel(h.up_indptr, h.up_indices, h.up_cost, h.up_length,
                                  h.down_indptr, h.down_indices, h.down_cost,
                                  h.down_length, h.rank, source_nodes, source_cost,
                                  source_label, source_length)


def nearest_source_split(h: Hierarchy, indptr: np.ndarray, indices: np.ndarray,
                         weight: np.ndarray, length: np.ndarray, source_nodes: np.ndarray,
                         source_cost: np.ndarray, source_label: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multi-source nearest on the hierarchy's graph with split edges.

    The graph ``indptr, indices, weight, length`` has the hierarchy's nodes
    first (``0 .. h.n - 1``, the *network nodes*), then *split nodes*: some
    edges ``u -> v`` of the hierarchy's graph are replaced by a chain
    ``u -> p_1 -> ... -> v`` through split nodes whose pieces sum exactly to
    the edge's cost and length, and split nodes have no other edges (a
    linked graph, :func:`bereikbaarheid.networks.link.split_network`).
    Sources may sit on any node. Each source runs along its split road to
    the network nodes at its ends; from there PHAST carries the cost, label
    and the length travelled so far to every network node; last, the split
    nodes take their values from the network nodes at the ends of their
    roads and from the sources on them.

    The result equals :func:`.dijkstra.nearest_source` on this graph bit for
    bit, ties included: every node gets the lexicographically smallest
    ``(cost, label, length)`` over all sources and paths. That holds when
    the graph between network nodes is the hierarchy's graph, as described;
    it is not checked here.

    Parameters
    ----------
    h
        The hierarchy of the graph without its split nodes.
    indptr, indices, weight, length
        The graph with split nodes, as in :func:`.dijkstra.nearest_source`;
        whole numbers.
    source_nodes, source_cost, source_label
        The sources, as in :func:`nearest_source`.

    Returns
    -------
    cost, label, path_length
        Per node of the graph with split nodes, as from
        :func:`.dijkstra.nearest_source`.
    """
    indptr, indices, n = dijkstra._csr(indptr, indices)
    if n < h.n:
        raise ValueError(f"the graph has {n} nodes, fewer than the hierarchy's {h.n}")
    m = indices.shape[0]
    weight = _whole("weight", dijkstra._float_array("weight", weight, m, minimum=0.0,
                                                    strict=False))
    length = _whole("length", dijkstra._float_array("length", length, m, minimum=0.0,
                                                    strict=False))
    source_nodes, source_cost, source_label, _ = dijkstra._sources(n, source_nodes,
                                                                   source_cost, source_label)
    _exact_sources(source_cost, None)
    return _split_nearest_kernel(h.up_indptr, h.up_indices, h.up_cost, h.up_length,
                                 h.down_indptr, h.down_indices, h.down_cost, h.down_length,
                                 h.rank, indptr, indices, weight, length, source_nodes,
                                 source_cost, source_label)


def _exact_sources(source_cost: np.ndarray, source_length: np.ndarray | None) -> None:
    """Raise ValueError unless the sources' values keep every path sum exact."""
    for name, a in (("source_cost", source_cost), ("source_length", source_length)):
        if a is not None and a.size and not ((np.floor(a) == a).all()
                                             and np.abs(a).max() < _EXACT_LIMIT / 2):
            raise ValueError(f"{name} must be whole numbers below 2**52 in magnitude, "
                             "so that every path sum is exact")
