"""Dijkstra shortest-path kernels on CSR arrays: nearest source, bounded searches.

The compiled functions (``_..._kernel``) know only plain arrays, like
``scipy.sparse.csgraph``: a graph is ``indptr`` (int64, ``n + 1``), ``indices``
(int32 head node per edge) and per-edge float64 arrays. The public functions
in front of them check dtypes, shapes and ranges once (raising ``ValueError``)
and convert to the kernel dtypes.

Edge weights must be >= 0 (zero-weight edges are allowed: two points linked
within a millisecond of each other). Ties between equal costs are resolved on
exact float equality; with whole-number weights (milliseconds, millimetres)
every sum is exact, so the tie-breaks do not depend on the order of additions
and an incremental update (:func:`improve_nearest_source`,
:func:`repair_nearest_source`) gives exactly the arrays of a full
:func:`nearest_source` run.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from . import _heap

# Starting heap capacity of a bounded search; a search that fills the heap
# is rerun with twice the capacity.
_BOUNDED_HEAP_CAPACITY = 4096

# A bounded search that reaches at least 1/32 of all targets orders its pairs
# by scanning the targets rather than sorting (a scan step is much cheaper
# than a sort step).
_SCAN_DENSITY = 32


# --------------------------------------------------------------------------
# Compiled kernels
# --------------------------------------------------------------------------

@numba.njit(cache=True)
def _offer(v, c, lab, plen, cost, label, path_length, queued, keys, nodes, size):
    """Lower node ``v`` to ``(c, lab, plen)`` if that is lexicographically smaller.

    A node is pushed when its cost strictly drops, or when an equal cost
    brings a smaller (label, length) while no entry of that cost is pending
    (``queued``): with zero-weight edges a node may improve after it was
    expanded and must then be expanded again. Otherwise the pending entry has
    the same key and reads the node's final values when popped. Returns the
    heap size; the caller keeps room for one more entry (:func:`_room`).
    """
    cost_v = cost[v]
    if c < cost_v:
        cost[v] = c
    elif c == cost_v and (lab < label[v] or (lab == label[v] and plen < path_length[v])):
        if queued[v]:
            label[v] = lab
            path_length[v] = plen
            return size
    else:
        return size
    label[v] = lab
    path_length[v] = plen
    queued[v] = True
    return _heap.push(keys, nodes, size, c, v)


@numba.njit(cache=True)
def _room(keys, nodes, size, needed):
    """The heap arrays, grown (doubled) until ``needed`` more entries fit."""
    capacity = keys.shape[0]
    if size + needed <= capacity:
        return keys, nodes
    while capacity < size + needed:
        capacity *= 2
    grown_keys = np.empty(capacity, dtype=np.float64)
    grown_nodes = np.empty(capacity, dtype=np.int32)
    grown_keys[:size] = keys[:size]
    grown_nodes[:size] = nodes[:size]
    return grown_keys, grown_nodes


@numba.njit(cache=True)
def _lexicographic_search(indptr, indices, weight, length, cost, label, path_length,
                          queued, keys, nodes, size):
    """Propagate the pending heap entries until no node improves (in place).

    Every node ends at the lexicographically smallest of its value on entry
    and of every queued node's value extended along a path; weights and
    lengths must be >= 0, so an extension never beats the value it extends.
    """
    while size > 0:
        d, u, size = _heap.pop(keys, nodes, size)
        if d > cost[u] or not queued[u]:
            continue  # stale: u improved again, or this cost was already expanded
        queued[u] = False
        lab = label[u]
        length_u = path_length[u]
        first, last = indptr[u], indptr[u + 1]
        # Growing is rare (only zero-weight re-expansions outgrow the start size).
        if size + last - first > keys.shape[0]:
            keys, nodes = _room(keys, nodes, size, last - first)
        for e in range(first, last):
            size = _offer(indices[e], d + weight[e], lab, length_u + length[e],
                          cost, label, path_length, queued, keys, nodes, size)


@numba.njit(cache=True)
def _improve_kernel(indptr, indices, weight, length, cost, label, path_length,
                    seed_nodes, seed_cost, seed_label, seed_length):
    """Lower ``cost, label, path_length`` (in place) by the seeds and their paths."""
    n = indptr.shape[0] - 1
    queued = np.zeros(n, dtype=np.bool_)
    # Enough for a search without zero-weight re-expansions; it grows if needed.
    capacity = max(16, seed_nodes.shape[0] + min(indices.shape[0], 4 * n))
    keys = np.empty(capacity, dtype=np.float64)
    nodes = np.empty(capacity, dtype=np.int32)
    size = 0
    for s in range(seed_nodes.shape[0]):
        size = _offer(seed_nodes[s], seed_cost[s], seed_label[s], seed_length[s], cost,
                      label, path_length, queued, keys, nodes, size)
    _lexicographic_search(indptr, indices, weight, length, cost, label, path_length,
                          queued, keys, nodes, size)


@numba.njit(cache=True, nogil=True)
def _nearest_source_kernel(indptr, indices, weight, length, source_nodes,
                           source_cost, source_label):
    n = indptr.shape[0] - 1
    cost = np.full(n, np.inf)
    label = np.full(n, -1, dtype=np.int64)
    path_length = np.full(n, np.nan)
    _improve_kernel(indptr, indices, weight, length, cost, label, path_length, source_nodes,
                    source_cost, source_label, np.zeros(source_nodes.shape[0]))
    return cost, label, path_length


@numba.njit(cache=True, nogil=True)
def _repair_kernel(indptr, indices, weight, length, cost, label, path_length, affected,
                   source_nodes, source_cost, source_label):
    """Recompute the ``affected`` nodes (in place) from their unaffected
    in-neighbours and from the sources on affected nodes."""
    n = indptr.shape[0] - 1
    queued = np.zeros(n, dtype=np.bool_)
    for v in range(n):
        if affected[v]:
            cost[v] = np.inf
            label[v] = -1
            path_length[v] = np.nan
    keys = np.empty(1024, dtype=np.float64)
    nodes = np.empty(1024, dtype=np.int32)
    size = 0
    # One pass over all edges finds the edges into the affected region; the
    # search itself then touches only what the removed sources had reached.
    for u in range(n):
        if affected[u] or cost[u] == np.inf:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if affected[v]:
                keys, nodes = _room(keys, nodes, size, 1)
                size = _offer(v, cost[u] + weight[e], label[u], path_length[u] + length[e],
                              cost, label, path_length, queued, keys, nodes, size)
    for s in range(source_nodes.shape[0]):
        v = source_nodes[s]
        if affected[v]:
            keys, nodes = _room(keys, nodes, size, 1)
            size = _offer(v, source_cost[s], source_label[s], 0.0, cost, label,
                          path_length, queued, keys, nodes, size)
    _lexicographic_search(indptr, indices, weight, length, cost, label, path_length,
                          queued, keys, nodes, size)


@numba.njit(cache=True)
def _settle_within(indptr, indices, weight, source, offset, cutoff, dist, settled, keys,
                   nodes):
    """Dijkstra from ``source`` over nodes with ``offset + cost <= cutoff``.

    ``dist`` (the cost from ``source``, without ``offset``) must be all inf on
    entry; the source itself is always settled. Returns the number of settled nodes:
    they are ``settled[:count]``, in non-decreasing cost order, and exactly
    the nodes whose ``dist`` is finite, so the caller can reset ``dist`` in
    O(count). Returns -1 when the heap (capacity ``keys.shape[0]``) ran full;
    ``dist`` is then all inf again and the caller may retry with a larger heap.
    """
    capacity = keys.shape[0]
    count = 0
    dist[source] = 0.0
    size = _heap.push(keys, nodes, 0, 0.0, source)
    while size > 0:
        d, u, size = _heap.pop(keys, nodes, size)
        if d > dist[u]:
            continue
        settled[count] = u
        count += 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            new_cost = d + weight[e]
            # Pruning at push time keeps every pushed node within the cutoff,
            # so each node with a finite dist is settled exactly once.
            if new_cost < dist[v] and offset + new_cost <= cutoff:
                if size == capacity:
                    # Every node with a finite dist is settled or on the heap.
                    for j in range(count):
                        dist[settled[j]] = np.inf
                    for j in range(size):
                        dist[nodes[j]] = np.inf
                    return -1
                dist[v] = new_cost
                size = _heap.push(keys, nodes, size, new_cost, v)
    return count


@numba.njit(cache=True)
def _settle_growing(indptr, indices, weight, source, offset, cutoff, dist, settled, keys,
                    nodes):
    """``_settle_within``, rerun with a heap twice as large until it fits.

    Returns ``(count, keys, nodes)``: the heap arrays may be new, and the
    caller keeps them for its next search.
    """
    count = _settle_within(indptr, indices, weight, source, offset, cutoff, dist, settled,
                           keys, nodes)
    while count < 0:
        keys = np.empty(2 * keys.shape[0], dtype=np.float64)
        nodes = np.empty(2 * nodes.shape[0], dtype=np.int32)
        count = _settle_within(indptr, indices, weight, source, offset, cutoff, dist,
                               settled, keys, nodes)
    return count, keys, nodes


@numba.njit(cache=True)
def _one_to_all_kernel(indptr, indices, weight, source):
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    settled = np.empty(n, dtype=np.int32)
    # One push per edge at most (plus the source): the heap cannot run full.
    keys = np.empty(indices.shape[0] + 1, dtype=np.float64)
    nodes = np.empty(indices.shape[0] + 1, dtype=np.int32)
    _settle_within(indptr, indices, weight, source, 0.0, np.inf, dist, settled, keys, nodes)
    return dist


@numba.njit(cache=True)
def _grow_pairs(pair_source, pair_target, pair_cost):
    capacity = 2 * pair_source.shape[0]
    new_source = np.empty(capacity, dtype=np.int32)
    new_target = np.empty(capacity, dtype=np.int32)
    new_cost = np.empty(capacity, dtype=np.float64)
    m = pair_source.shape[0]
    new_source[:m] = pair_source
    new_target[:m] = pair_target
    new_cost[:m] = pair_cost
    return new_source, new_target, new_cost


@numba.njit(cache=True, nogil=True)
def _chunk_pairs(indptr, indices, weight, source_nodes, first, step, cutoff,
                 target_of_node, n_targets):
    """Bounded searches from sources ``first, first + step, ...`` with one workspace."""
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    settled = np.empty(n, dtype=np.int32)
    keys = np.empty(_BOUNDED_HEAP_CAPACITY, dtype=np.float64)
    nodes = np.empty(_BOUNDED_HEAP_CAPACITY, dtype=np.int32)
    # Cost of each target reached by the current search; inf when not reached.
    target_cost = np.full(n_targets, np.inf)
    pair_source = np.empty(1024, dtype=np.int32)
    pair_target = np.empty(1024, dtype=np.int32)
    pair_cost = np.empty(1024, dtype=np.float64)
    n_pairs = 0
    for s in range(first, source_nodes.shape[0], step):
        count, keys, nodes = _settle_growing(indptr, indices, weight, source_nodes[s], 0.0,
                                             cutoff, dist, settled, keys, nodes)
        start = n_pairs
        for j in range(count):
            u = settled[j]
            t = target_of_node[u]
            # Settled order has non-decreasing cost, so the first node of a
            # target is its cheapest.
            if t >= 0 and target_cost[t] == np.inf:
                target_cost[t] = dist[u]
                if n_pairs == pair_source.shape[0]:
                    pair_source, pair_target, pair_cost = _grow_pairs(
                        pair_source, pair_target, pair_cost)
                pair_source[n_pairs] = s
                pair_target[n_pairs] = t
                n_pairs += 1
            dist[u] = np.inf
        # Order the pairs by target: sort them, or when they cover a good part
        # of all targets, scan the targets instead (cheaper than the sort).
        if (n_pairs - start) * _SCAN_DENSITY >= n_targets:
            j = start
            for t in range(n_targets):
                if target_cost[t] != np.inf:
                    pair_target[j] = t
                    j += 1
        else:
            pair_target[start:n_pairs].sort()
        for j in range(start, n_pairs):
            t = pair_target[j]
            pair_cost[j] = target_cost[t]
            target_cost[t] = np.inf
    return pair_source[:n_pairs].copy(), pair_target[:n_pairs].copy(), pair_cost[:n_pairs].copy()


@numba.njit(cache=True)
def _merge_by_source(pair_source, pair_target, pair_cost, n_sources):
    """The pairs in (source, target) order, by a counting sort on the source:
    each source's pairs are already contiguous and sorted by target."""
    offset = np.zeros(n_sources + 1, dtype=np.int64)
    for s in pair_source:
        offset[s + 1] += 1
    for s in range(n_sources):
        offset[s + 1] += offset[s]
    m = pair_source.shape[0]
    out_source = np.empty(m, dtype=np.int32)
    out_target = np.empty(m, dtype=np.int32)
    out_cost = np.empty(m, dtype=np.float64)
    for i in range(m):
        s = pair_source[i]
        j = offset[s]
        out_source[j] = s
        out_target[j] = pair_target[i]
        out_cost[j] = pair_cost[i]
        offset[s] = j + 1
    return out_source, out_target, out_cost


@numba.njit(cache=True)
def _chunk_counts(indptr, indices, weight, source_nodes, source_cost, first, step, cutoffs,
                  target_indptr, target_cost, bucket):
    """Add the threshold histogram of the searches from sources ``first, first + step, ...`` to ``bucket``.

    ``bucket[t, j]`` counts the sources whose cost to target ``t`` is within
    ``cutoffs[j]`` but above ``cutoffs[j - 1]``; one increment per (source,
    target) instead of one per cutoff.
    """
    n = indptr.shape[0] - 1
    n_cutoffs = cutoffs.shape[0]
    last = cutoffs[n_cutoffs - 1]
    dist = np.full(n, np.inf)
    settled = np.empty(n, dtype=np.int32)
    keys = np.empty(_BOUNDED_HEAP_CAPACITY, dtype=np.float64)
    nodes = np.empty(_BOUNDED_HEAP_CAPACITY, dtype=np.int32)
    for s in range(first, source_nodes.shape[0], step):
        offset = source_cost[s]
        count, keys, nodes = _settle_growing(indptr, indices, weight, source_nodes[s],
                                             offset, last, dist, settled, keys, nodes)
        for i in range(count):
            u = settled[i]
            # Summed in this order, (source cost + path) + target cost, so the
            # totals equal those of adding the connectors to the pair costs
            # of sources_within_cutoff.
            at_node = offset + dist[u]
            for t in range(target_indptr[u], target_indptr[u + 1]):
                total = at_node + target_cost[t]
                if total <= last:
                    j = 0
                    while total > cutoffs[j]:
                        j += 1
                    bucket[t, j] += 1
            dist[u] = np.inf


@numba.njit(cache=True, parallel=True)
def _count_within_kernel(indptr, indices, weight, source_nodes, source_cost, cutoffs,
                         target_indptr, target_cost, n_chunks):
    # Each chunk takes every n_chunks-th source and fills its own slice of
    # the histogram array, so threads never write to shared counts.
    buckets = np.zeros((n_chunks, target_cost.shape[0], cutoffs.shape[0]), dtype=np.int32)
    for c in numba.prange(n_chunks):
        _chunk_counts(indptr, indices, weight, source_nodes, source_cost, c, n_chunks,
                      cutoffs, target_indptr, target_cost, buckets[c])
    return _cumulative_counts(buckets)


@numba.njit(cache=True)
def _cumulative_counts(buckets):
    """The chunks' histograms (``chunk x target x cutoff``) added up and made
    cumulative: within ``cutoffs[j]`` is within every later cutoff too."""
    counts = buckets[0].copy()
    for c in range(1, buckets.shape[0]):
        counts += buckets[c]
    for t in range(counts.shape[0]):
        for j in range(1, counts.shape[1]):
            counts[t, j] += counts[t, j - 1]
    return counts


# --------------------------------------------------------------------------
# Input checks and conversion
# --------------------------------------------------------------------------

def _integer_array(name: str, a, low: int, high: int, dtype) -> np.ndarray:
    """1-D integer array with values in ``[low, high)``, as contiguous ``dtype``."""
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must have an integer dtype, got {a.dtype}")
    if a.size:
        lo, hi = int(a.min()), int(a.max())
        if lo < low or hi >= high:
            bad = lo if lo < low else hi
            raise ValueError(f"{name} must lie in [{low}, {high - 1}], found {bad}")
    return np.ascontiguousarray(a, dtype=dtype)


def _float_array(name: str, a, size: int, *, minimum: float, strict: bool,
                 allow_inf: bool = False) -> np.ndarray:
    """1-D float64 array of ``size`` values, each ``> minimum`` (strict) or ``>=``."""
    a = np.asarray(a)
    if a.ndim != 1 or a.shape[0] != size:
        raise ValueError(f"{name} must be 1-D with {size} values, got shape {a.shape}")
    if a.size and not (np.issubdtype(a.dtype, np.floating)
                       or np.issubdtype(a.dtype, np.integer)):
        raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
    a = np.ascontiguousarray(a, dtype=np.float64)
    if a.size:
        finite = np.isfinite(a) | (allow_inf & np.isposinf(a))
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            raise ValueError(f"{name} must be finite, found {a[i]} at position {i}")
        low = a <= minimum if strict else a < minimum
        if low.any():
            i = int(np.flatnonzero(low)[0])
            relation = ">" if strict else ">="
            raise ValueError(f"{name} must be {relation} {minimum}, found {a[i]} at position {i}")
    return a


def _csr(indptr, indices) -> tuple[np.ndarray, np.ndarray, int]:
    """Checked ``(indptr int64, indices int32, n_nodes)``."""
    indptr = np.asarray(indptr)
    if indptr.ndim != 1 or indptr.shape[0] < 1:
        raise ValueError(f"indptr must be 1-D with n_nodes + 1 >= 1 values, got shape {indptr.shape}")
    if not np.issubdtype(indptr.dtype, np.integer):
        raise ValueError(f"indptr must have an integer dtype, got {indptr.dtype}")
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    n = indptr.shape[0] - 1
    if n >= np.iinfo(np.int32).max:
        raise ValueError(f"at most {np.iinfo(np.int32).max - 1} nodes are supported, got {n}")
    m = int(np.asarray(indices).shape[0]) if np.ndim(indices) == 1 else -1
    if indptr[0] != 0 or indptr[-1] != m:
        raise ValueError(f"indptr must start at 0 and end at len(indices) = {m}, "
                         f"got {indptr[0]} and {indptr[-1]}")
    if (np.diff(indptr) < 0).any():
        raise ValueError("indptr must be non-decreasing")
    indices = _integer_array("indices", indices, 0, n, np.int32)
    return indptr, indices, n


# --------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------

def nearest_source(
    indptr: np.ndarray,
    indices: np.ndarray,
    weight: np.ndarray,
    length: np.ndarray,
    source_nodes: np.ndarray,
    source_cost: np.ndarray,
    source_label: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multi-source Dijkstra: the cheapest source of every node.

    Every node gets the lexicographically smallest ``(cost, label, length)``
    over all sources and paths, where a path from source ``s`` costs
    ``source_cost[s]`` plus its edge weights, carries ``source_label[s]`` and
    has the sum of its edge lengths. So the label is the smallest label among
    the sources reaching the node at minimum cost, and the length the shortest
    among that source's minimum-cost paths; the result does not depend on the
    order of edges or sources.

    For the cost from every node *to* the nearest source, pass the reversed
    graph (see :func:`reverse_csr`).

    Parameters
    ----------
    indptr
        int, ``n_nodes + 1``: CSR row pointers (edges of ``u`` are
        ``indptr[u]:indptr[u + 1]``).
    indices
        int, ``n_edges``: head node of every edge.
    weight
        float, ``n_edges``: edge cost (e.g. milliseconds), finite and >= 0.
    length
        float, ``n_edges``: secondary quantity summed along the winning path
        (e.g. metres), finite and >= 0.
    source_nodes
        int, ``n_sources``: node of every source; nodes may repeat.
    source_cost
        float, ``n_sources``: finite starting cost of every source.
    source_label
        int, ``n_sources``: label (>= 0) of every source, e.g. a facility id;
        labels may repeat (a facility linked to several nodes).

    Returns
    -------
    cost
        float64 per node; inf where no source reaches it.
    label
        int64 per node: label of the winning source; -1 where unreachable.
    path_length
        float64 per node: summed ``length`` of the winning path (0 at the
        source itself); nan where unreachable.
    """
    indptr, indices, n = _csr(indptr, indices)
    m = indices.shape[0]
    weight = _float_array("weight", weight, m, minimum=0.0, strict=False)
    length = _float_array("length", length, m, minimum=0.0, strict=False)
    source_nodes, source_cost, source_label, _ = _sources(n, source_nodes, source_cost,
                                                          source_label)
    return _nearest_source_kernel(indptr, indices, weight, length, source_nodes,
                                  source_cost, source_label)


def _search_arrays(indptr, indices, weight, length, cost, label, path_length):
    """Checked graph and (copied) nearest-source arrays of an incremental update."""
    indptr, indices, n = _csr(indptr, indices)
    m = indices.shape[0]
    weight = _float_array("weight", weight, m, minimum=0.0, strict=False)
    length = _float_array("length", length, m, minimum=0.0, strict=False)
    cost = np.array(cost, dtype=np.float64)
    label = np.array(label)
    path_length = np.array(path_length, dtype=np.float64)
    for name, a in (("cost", cost), ("label", label), ("path_length", path_length)):
        if a.shape != (n,):
            raise ValueError(f"{name} must be 1-D with {n} values (one per node), "
                             f"got shape {a.shape}")
    label = _integer_array("label", label, -1, np.iinfo(np.int64).max, np.int64)
    reached = label >= 0
    if not (np.array_equal(reached, np.isfinite(cost))
            and np.array_equal(reached, ~np.isnan(path_length))):
        raise ValueError("cost, label and path_length must be a nearest_source result: "
                         "finite cost, label >= 0 and a path_length on the same nodes")
    return indptr, indices, n, weight, length, cost, label, path_length


def _sources(n, source_nodes, source_cost, source_label, source_length=None):
    """Checked source arrays (length 0 when not given)."""
    source_nodes = _integer_array("source_nodes", source_nodes, 0, n, np.int32)
    k = source_nodes.shape[0]
    source_cost = _float_array("source_cost", source_cost, k, minimum=-np.inf, strict=False)
    source_label = np.asarray(source_label)
    if source_label.shape != (k,):
        raise ValueError(f"source_label must be 1-D with {k} values, got shape {source_label.shape}")
    source_label = _integer_array("source_label", source_label, 0,
                                  np.iinfo(np.int64).max, np.int64)
    source_length = (np.zeros(k) if source_length is None else
                     _float_array("source_length", source_length, k, minimum=0.0,
                                  strict=False))
    return source_nodes, source_cost, source_label, source_length


def improve_nearest_source(
    indptr: np.ndarray,
    indices: np.ndarray,
    weight: np.ndarray,
    length: np.ndarray,
    cost: np.ndarray,
    label: np.ndarray,
    path_length: np.ndarray,
    source_nodes: np.ndarray,
    source_cost: np.ndarray,
    source_label: np.ndarray,
    source_length: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A :func:`nearest_source` result with more sources added.

    ``cost, label, path_length`` must be the result of :func:`nearest_source`
    on this graph for some sources; the result is that of :func:`nearest_source`
    on those sources plus the new ones, under the same rule (the smallest
    ``(cost, label, length)`` wins). One search runs from the new sources and
    continues only where it improves a node, so it touches only the nodes
    whose value changes (and their neighbours).

    Parameters
    ----------
    indptr, indices, weight, length
        The graph, as in :func:`nearest_source`.
    cost, label, path_length
        The current result, per node (not modified).
    source_nodes, source_cost, source_label
        The new sources, as in :func:`nearest_source`.
    source_length
        float, ``n_sources``: length already travelled at each source (>= 0;
        default 0). A node value carried over from a coarser graph enters as
        a source with its cost, label and length.

    Returns
    -------
    cost, label, path_length
        New arrays, as from :func:`nearest_source`.
    """
    indptr, indices, n, weight, length, cost, label, path_length = _search_arrays(
        indptr, indices, weight, length, cost, label, path_length)
    seeds = _sources(n, source_nodes, source_cost, source_label, source_length)
    _improve_kernel(indptr, indices, weight, length, cost, label, path_length, *seeds)
    return cost, label, path_length


def repair_nearest_source(
    indptr: np.ndarray,
    indices: np.ndarray,
    weight: np.ndarray,
    length: np.ndarray,
    cost: np.ndarray,
    label: np.ndarray,
    path_length: np.ndarray,
    removed_labels: np.ndarray,
    source_nodes: np.ndarray,
    source_cost: np.ndarray,
    source_label: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A :func:`nearest_source` result with the sources of some labels removed.

    Only the nodes whose label is removed change: they are reset and searched
    again from their neighbours that keep their value and from the remaining
    sources on them. The result equals :func:`nearest_source` on the
    remaining sources.

    Parameters
    ----------
    indptr, indices, weight, length
        The graph, as in :func:`nearest_source`.
    cost, label, path_length
        The current result, per node (not modified).
    removed_labels
        int: labels whose sources are removed.
    source_nodes, source_cost, source_label
        The remaining sources (all of them; sources carrying a removed label
        are ignored).

    Returns
    -------
    cost, label, path_length
        New arrays, as from :func:`nearest_source`.
    """
    indptr, indices, n, weight, length, cost, label, path_length = _search_arrays(
        indptr, indices, weight, length, cost, label, path_length)
    removed_labels = _integer_array("removed_labels", np.asarray(removed_labels).ravel(), 0,
                                    np.iinfo(np.int64).max, np.int64)
    source_nodes, source_cost, source_label, _ = _sources(n, source_nodes, source_cost,
                                                          source_label)
    keep = ~np.isin(source_label, removed_labels)
    affected = np.isin(label, removed_labels)
    _repair_kernel(indptr, indices, weight, length, cost, label, path_length, affected,
                   source_nodes[keep], source_cost[keep], source_label[keep])
    return cost, label, path_length


@numba.njit(cache=True)
def _local_kernel(indptr, indices, weight, first_local, starts):
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    touched = np.empty(16, dtype=np.int64)
    keys = np.empty(16, dtype=np.float64)
    nodes = np.empty(16, dtype=np.int32)
    out_start = np.empty(64, dtype=np.int64)
    out_node = np.empty(64, dtype=np.int64)
    out_cost = np.empty(64, dtype=np.float64)
    m = 0
    for i in range(starts.shape[0]):
        n_touched = 0
        size = _heap.push(keys, nodes, 0, 0.0, starts[i])
        dist[starts[i]] = 0.0
        touched[0] = starts[i]
        n_touched = 1
        while size > 0:
            d, u, size = _heap.pop(keys, nodes, size)
            if d > dist[u]:
                continue
            if m == out_node.shape[0]:
                out_start = np.concatenate((out_start, np.empty(m, dtype=np.int64)))
                out_node = np.concatenate((out_node, np.empty(m, dtype=np.int64)))
                out_cost = np.concatenate((out_cost, np.empty(m, dtype=np.float64)))
            out_start[m] = i
            out_node[m] = u
            out_cost[m] = d
            m += 1
            if u < first_local:
                continue  # not local: reached, never passed through
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                nd = d + weight[e]
                if nd < dist[v]:
                    if dist[v] == np.inf:
                        if n_touched == touched.shape[0]:
                            touched = np.concatenate((touched, np.empty(n_touched, np.int64)))
                        touched[n_touched] = v
                        n_touched += 1
                    dist[v] = nd
                    if size == keys.shape[0]:
                        keys = np.concatenate((keys, np.empty(size, np.float64)))
                        nodes = np.concatenate((nodes, np.empty(size, np.int32)))
                    size = _heap.push(keys, nodes, size, nd, v)
        for j in range(n_touched):
            dist[touched[j]] = np.inf
    return out_start[:m], out_node[:m], out_cost[:m]


def local_reach(indptr: np.ndarray, indices: np.ndarray, weight: np.ndarray,
                first_local: int, starts: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every node reached from each start through *local* nodes only.

    A search from ``starts[i]`` passes through nodes ``>= first_local`` (the
    split nodes of a linked graph, along the roads they split) and stops at
    the first other nodes it meets: they are reached, never passed. A start
    below ``first_local`` reaches only itself. One small search per start,
    with one workspace of ``8 * n_nodes`` bytes.

    Returns
    -------
    start, node, cost
        int64 index into ``starts``, int64 node, float64 least cost, sorted by
        ``(start, node)``.
    """
    indptr, indices, n = _csr(indptr, indices)
    weight = _float_array("weight", weight, indices.shape[0], minimum=0.0, strict=False)
    starts = _integer_array("starts", starts, 0, n, np.int64)
    start, node, cost = _local_kernel(indptr, indices, weight, int(first_local), starts)
    order = np.lexsort((node, start))
    return start[order], node[order], cost[order]


def sources_within_cutoff(
    indptr: np.ndarray,
    indices: np.ndarray,
    weight: np.ndarray,
    source_nodes: np.ndarray,
    cutoff: float,
    target_of_node: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (source, target) pair within ``cutoff``, one bounded Dijkstra per source.

    Each source starts at cost 0 on its node; a target is reached when one of
    its nodes (``target_of_node[node] == target``) has cost <= ``cutoff``.
    When several nodes belong to one target the cheapest counts. Sources run
    in parallel (threads running the compiled search without the GIL), each
    thread reusing one workspace that is
    reset only on the nodes a search touched (about ``12 * n_nodes + 8 *
    n_targets`` bytes per thread, plus a heap that grows as needed).

    Parameters
    ----------
    indptr, indices, weight
        The graph, as in :func:`nearest_source`.
    source_nodes
        int, ``n_sources``: start node of every search.
    cutoff
        Largest cost to report (inclusive), >= 0; may be inf.
    target_of_node
        int, ``n_nodes``: target index of every node, -1 for none.

    Returns
    -------
    pair_source
        int32: index into ``source_nodes``.
    pair_target
        int32: target index.
    pair_cost
        float64: cost from the source to the target (<= ``cutoff``).

    All three are sorted by ``(pair_source, pair_target)``.
    """
    indptr, indices, n = _csr(indptr, indices)
    weight = _float_array("weight", weight, indices.shape[0], minimum=0.0, strict=False)
    source_nodes = _integer_array("source_nodes", source_nodes, 0, n, np.int32)
    cutoff = float(cutoff)
    if np.isnan(cutoff) or cutoff < 0:
        raise ValueError(f"cutoff must be >= 0 (or inf), got {cutoff}")
    target_of_node = np.asarray(target_of_node)
    if target_of_node.shape != (n,):
        raise ValueError(f"target_of_node must be 1-D with {n} values (one per node), "
                         f"got shape {target_of_node.shape}")
    target_of_node = _integer_array("target_of_node", target_of_node, -1,
                                    np.iinfo(np.int32).max, np.int32)
    k = source_nodes.shape[0]
    if k == 0:
        return (np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int32),
                np.empty(0, dtype=np.float64))
    n_targets = int(target_of_node.max()) + 1 if n else 0
    # Each chunk takes every n_chunks-th source (spreading clustered, similarly
    # expensive sources over threads) and returns its own arrays; the
    # compiled chunk releases the GIL, so plain threads run chunks in parallel
    # without sharing any output buffer.
    n_chunks = max(1, min(k, numba.get_num_threads()))
    with ThreadPoolExecutor(max_workers=n_chunks) as pool:
        chunks = list(pool.map(
            lambda c: _chunk_pairs(indptr, indices, weight, source_nodes, c, n_chunks,
                                   cutoff, target_of_node, n_targets),
            range(n_chunks)))
    return _merge_by_source(*(np.concatenate(parts) for parts in zip(*chunks)), k)


def count_within(
    indptr: np.ndarray,
    indices: np.ndarray,
    weight: np.ndarray,
    source_nodes: np.ndarray,
    source_cost: np.ndarray,
    cutoffs: np.ndarray,
    target_indptr: np.ndarray,
    target_cost: np.ndarray,
) -> np.ndarray:
    """Number of sources within each cutoff of every target.

    Source ``s`` reaches target ``t`` at cost ``source_cost[s] + dist +
    target_cost[t]``, where ``dist`` is the shortest path cost from
    ``source_nodes[s]`` to the node of ``t``; it counts for every cutoff that
    this total does not exceed. Each source counts at most once per target
    (a source listed twice counts twice). One bounded Dijkstra per source, run
    in parallel (Numba threads); each thread reuses one workspace and keeps
    its own counts, so memory is about ``12 * n_nodes + 4 * n_targets *
    n_cutoffs`` bytes per thread (plus a heap that grows as needed), however
    many sources reach however many targets.

    Parameters
    ----------
    indptr, indices, weight
        The graph, as in :func:`nearest_source`.
    source_nodes
        int, ``n_sources``: start node of every search.
    source_cost
        float, ``n_sources``: cost spent before the start node (e.g. a
        facility's connector), finite and >= 0.
    cutoffs
        float, ``n_cutoffs``: strictly increasing cost limits (inclusive),
        >= 0; the last may be inf.
    target_indptr
        int, ``n_nodes + 1``: targets per node in CSR form; the targets at
        node ``u`` are numbers ``target_indptr[u]:target_indptr[u + 1]``.
    target_cost
        float, ``n_targets``: cost from the target's node to the target
        (e.g. a cell's connector), finite and >= 0.

    Returns
    -------
    numpy.ndarray
        int32, ``(n_targets, n_cutoffs)``: ``counts[t, j]`` is the number of
        sources within ``cutoffs[j]`` of target ``t``.
    """
    indptr, indices, n = _csr(indptr, indices)
    weight = _float_array("weight", weight, indices.shape[0], minimum=0.0, strict=False)
    source_nodes = _integer_array("source_nodes", source_nodes, 0, n, np.int32)
    k = source_nodes.shape[0]
    if k >= np.iinfo(np.int32).max:
        raise ValueError(f"at most {np.iinfo(np.int32).max - 1} sources are supported, got {k}")
    source_cost = _float_array("source_cost", source_cost, k, minimum=0.0, strict=False)
    cutoffs = np.asarray(cutoffs)
    if cutoffs.ndim != 1:
        raise ValueError(f"cutoffs must be 1-D, got shape {cutoffs.shape}")
    cutoffs = _float_array("cutoffs", cutoffs, cutoffs.shape[0], minimum=0.0, strict=False,
                           allow_inf=True)
    if (np.diff(cutoffs) <= 0).any():
        raise ValueError(f"cutoffs must be strictly increasing, got {cutoffs.tolist()}")
    target_indptr = np.asarray(target_indptr)
    if target_indptr.shape != (n + 1,):
        raise ValueError(f"target_indptr must be 1-D with n_nodes + 1 = {n + 1} values, "
                         f"got shape {target_indptr.shape}")
    if not np.issubdtype(target_indptr.dtype, np.integer):
        raise ValueError(f"target_indptr must have an integer dtype, got {target_indptr.dtype}")
    target_indptr = np.ascontiguousarray(target_indptr, dtype=np.int64)
    if target_indptr[0] != 0 or (np.diff(target_indptr) < 0).any():
        raise ValueError("target_indptr must start at 0 and be non-decreasing")
    n_targets = int(target_indptr[-1])
    target_cost = _float_array("target_cost", target_cost, n_targets, minimum=0.0,
                               strict=False)
    if k == 0 or cutoffs.shape[0] == 0:
        return np.zeros((n_targets, cutoffs.shape[0]), dtype=np.int32)
    n_chunks = max(1, min(k, numba.get_num_threads()))
    return _count_within_kernel(indptr, indices, weight, source_nodes, source_cost, cutoffs,
                                target_indptr, target_cost, n_chunks)


def one_to_all(indptr: np.ndarray, indices: np.ndarray, weight: np.ndarray,
               source: int) -> np.ndarray:
    """Cost from node ``source`` to every node (inf where unreachable).

    Parameters
    ----------
    indptr, indices, weight
        The graph, as in :func:`nearest_source`.
    source
        Start node.

    Returns
    -------
    numpy.ndarray
        float64 cost per node.
    """
    indptr, indices, n = _csr(indptr, indices)
    weight = _float_array("weight", weight, indices.shape[0], minimum=0.0, strict=False)
    if not (isinstance(source, (int, np.integer)) and 0 <= source < n):
        raise ValueError(f"source must be a node number in [0, {n - 1}], got {source!r}")
    return _one_to_all_kernel(indptr, indices, weight, np.int32(source))


def reverse_csr(indptr: np.ndarray, indices: np.ndarray,
                *edge_arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """The reversed graph: every edge ``u -> v`` becomes ``v -> u``.

    Edges are grouped by their new tail and sorted by their new head within
    each row; parallel edges keep their original order (a stable sort), and
    every per-edge array is permuted along.

    Parameters
    ----------
    indptr, indices
        The graph, as in :func:`nearest_source`.
    *edge_arrays
        Arrays with one entry per edge (along the first axis).

    Returns
    -------
    tuple
        ``(rindptr int64, rindices int32, *redge_arrays)``.
    """
    indptr, indices, n = _csr(indptr, indices)
    m = indices.shape[0]
    for i, a in enumerate(edge_arrays):
        if np.ndim(a) < 1 or np.shape(a)[0] != m:
            raise ValueError(f"edge array {i} must have {m} entries (one per edge), "
                             f"got shape {np.shape(a)}")
    tails = np.repeat(np.arange(n, dtype=np.int32), np.diff(indptr))
    order = np.lexsort((tails, indices))  # by new tail, then new head; stable
    rindptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(indices, minlength=n), out=rindptr[1:])
    return (rindptr, tails[order]) + tuple(np.asarray(a)[order] for a in edge_arrays)
