"""Contraction hierarchy: exact one-to-all and nearest (PHAST), counts and 2SFCA (batched RPHAST).

A hierarchy is built once per network (:func:`build_hierarchy`): nodes are
contracted cheapest first, in rounds of nodes that are cheaper than all their
neighbours (in parallel, with the same result for any number of threads),
and a shortcut ``u -> w`` is added for ``u -> v -> w`` unless a witness path
avoiding ``v`` is at least as good. A
query (:func:`one_to_all`, :func:`nearest_source`) then runs PHAST (Delling
et al. 2011): a search from the source(s) over upward edges only, followed by
one linear sweep over all nodes in descending rank that relaxes the downward
edges into each node. :func:`count_within` counts, for every target, the
sources within each cutoff: RPHAST (PHAST restricted to the nodes that lead
down to a target, bounded by the last cutoff) for batches of sources;
:func:`two_step_fca` runs the same batches for a two-step floating catchment.

Exactness. Costs and lengths must be whole numbers (milliseconds,
millimetres) stored as floats, so every sum is exact and the results equal
those of :mod:`.dijkstra` bit for bit. The hierarchy preserves, between every
pair of nodes, the lexicographically smallest ``(cost, length)`` path value:
witness searches order paths by ``(cost, length)`` pairs (a combined integer
key ``cost * 2**K + length`` would overflow int64 on national networks in
millimetres, and pairs are just as exact). Queries carry ``(cost, label,
length)`` and compare lexicographically at every relaxation, so the winner
of every node is the one :func:`.dijkstra.nearest_source` picks.

Numbering. All hierarchy arrays are in *rank* numbering: row ``r`` belongs
to node ``order[r]`` and an edge's other end is given by its rank. The
upward graph has, for row ``r``, the edges ``r -> s`` with ``s > r``; the
downward graph has, for row ``r``, the edges ``s -> r`` with ``s > r``
(grouped by their head, the order in which the sweep reads them).

Bounded witness searches (a settled-node limit) may add superfluous
shortcuts, never wrong ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields

import numba
import numpy as np

from . import _heap, dijkstra

# Witness searches settle at most this many nodes, plus _WITNESS_PER_TARGET
# per target: a search cut short only adds a shortcut that a longer one might
# have found superfluous. A fixed limit alone cannot even settle the targets of
# a high-degree node; the superfluous shortcuts then raise the degrees of the
# last, densest nodes further, and the build grew far faster than the graph
# (a 5.3M-node walk network: over 15 minutes; with the per-target room, 87 s).
_WITNESS_SETTLED = 64
_WITNESS_PER_TARGET = 8

# A contracted node's neighbours get their priority re-estimated with
# witnesses of at most two arcs: on road graphs that is nearly as good an
# order as bounded searches, at a fraction of their cost (the estimates are
# the bulk of the build time); contraction itself uses full witness searches.

# Version of the arrays a Hierarchy stores (their names and meaning); bump it
# when they change, so cached hierarchies are rebuilt.
HIERARCHY_FORMAT = 1

# Sums of costs or lengths must stay exact in float64.
_EXACT_LIMIT = 2.0 ** 53

_INT_MAX = np.iinfo(np.int64).max


# --------------------------------------------------------------------------
# The hierarchy
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Hierarchy:
    """A contraction hierarchy of a CSR graph, as plain arrays (rank numbering).

    Attributes
    ----------
    n
        Number of nodes.
    rank
        int32 per node: contraction position (0 is contracted first).
    order
        int32 per rank: the node with that rank (``order[rank[v]] == v``).
    up_indptr, up_indices, up_cost, up_length
        Upward edges ``r -> s`` (``s > r``) as CSR over ranks: int64, int32,
        float64, float64.
    down_indptr, down_indices, down_cost, down_length
        Downward edges ``s -> r`` (``s > r``) grouped by head ``r``, as CSR
        over ranks (``down_indices`` holds the tail ``s``).
    shortcuts
        Number of shortcut edges added during contraction.
    build_s
        Seconds the contraction took.
    """

    n: int
    rank: np.ndarray
    order: np.ndarray
    up_indptr: np.ndarray
    up_indices: np.ndarray
    up_cost: np.ndarray
    up_length: np.ndarray
    down_indptr: np.ndarray
    down_indices: np.ndarray
    down_cost: np.ndarray
    down_length: np.ndarray
    shortcuts: int
    build_s: float

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every field as a numpy array (scalars 0-d), e.g. for ``.npy`` files."""
        return {f.name: np.asarray(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Hierarchy:
        """The hierarchy written by :meth:`to_arrays` (arrays may be memory-mapped)."""
        values = {}
        for f in fields(cls):
            if f.name not in arrays:
                raise ValueError(f"hierarchy arrays lack {f.name!r}")
            values[f.name] = arrays[f.name]
        values["n"] = int(values["n"])
        values["shortcuts"] = int(values["shortcuts"])
        values["build_s"] = float(values["build_s"])
        h = cls(**values)
        _check_hierarchy(h)
        return h


def _check_hierarchy(h: Hierarchy) -> None:
    """Raise ValueError unless the arrays of ``h`` have consistent shapes."""
    n = h.n
    shapes = {"rank": (n,), "order": (n,), "up_indptr": (n + 1,), "down_indptr": (n + 1,)}
    for name, shape in shapes.items():
        if np.shape(getattr(h, name)) != shape:
            raise ValueError(f"hierarchy {name} must have shape {shape}, "
                             f"got {np.shape(getattr(h, name))}")
    for side in ("up", "down"):
        m = int(getattr(h, f"{side}_indptr")[-1])
        for part in ("indices", "cost", "length"):
            if np.shape(getattr(h, f"{side}_{part}")) != (m,):
                raise ValueError(f"hierarchy {side}_{part} must have {m} entries")


# --------------------------------------------------------------------------
# Compiled kernels: contraction
# --------------------------------------------------------------------------

@numba.njit(cache=True)
def _less(c1, l1, c2, l2):
    """``(c1, l1) < (c2, l2)`` lexicographically."""
    return c1 < c2 or (c1 == c2 and l1 < l2)


@numba.njit(cache=True)
def _pair_push(key_cost, key_length, nodes, size, c, l, node):
    """4-ary heap push ordered by ``(cost, length)``; the caller ensures room."""
    i = size
    while i > 0:
        parent = (i - 1) // 4
        if not _less(c, l, key_cost[parent], key_length[parent]):
            break
        key_cost[i] = key_cost[parent]
        key_length[i] = key_length[parent]
        nodes[i] = nodes[parent]
        i = parent
    key_cost[i] = c
    key_length[i] = l
    nodes[i] = node
    return size + 1


@numba.njit(cache=True)
def _pair_pop(key_cost, key_length, nodes, size):
    """Remove the smallest entry: ``(cost, length, node, new_size)``."""
    top_c = key_cost[0]
    top_l = key_length[0]
    top_node = nodes[0]
    size -= 1
    if size > 0:
        c = key_cost[size]
        l = key_length[size]
        node = nodes[size]
        i = 0
        while True:
            first = 4 * i + 1
            if first >= size:
                break
            child = first
            for k in range(first + 1, min(first + 4, size)):
                if _less(key_cost[k], key_length[k], key_cost[child], key_length[child]):
                    child = k
            if not _less(key_cost[child], key_length[child], c, l):
                break
            key_cost[i] = key_cost[child]
            key_length[i] = key_length[child]
            nodes[i] = nodes[child]
            i = child
        key_cost[i] = c
        key_length[i] = l
        nodes[i] = node
    return top_c, top_l, top_node, size


@numba.njit(cache=True)
def _grow_pool(head, arc_cost, arc_length, arc_hops, needed):
    """The pool arrays, doubled until ``needed`` entries fit."""
    capacity = head.shape[0]
    while capacity < needed:
        capacity *= 2
    new_head = np.empty(capacity, dtype=np.int32)
    new_cost = np.empty(capacity, dtype=np.int64)
    new_length = np.empty(capacity, dtype=np.int64)
    new_hops = np.empty(capacity, dtype=np.int32)
    m = head.shape[0]
    new_head[:m] = head
    new_cost[:m] = arc_cost
    new_length[:m] = arc_length
    new_hops[:m] = arc_hops
    return new_head, new_cost, new_length, new_hops


@numba.njit(cache=True)
def _append_arc(start, count, capacity, head, arc_cost, arc_length, arc_hops, used, x, y,
                c, l, hops):
    """Append arc ``x -> y`` to ``x``'s list in a pool; returns the pool and its used size.

    A full list moves to the end of the pool with twice the room (the old
    slots are abandoned: the pool is thrown away after contraction).
    """
    if count[x] == capacity[x]:
        new_capacity = max(4, 2 * capacity[x])
        if used + new_capacity > head.shape[0]:
            head, arc_cost, arc_length, arc_hops = _grow_pool(head, arc_cost, arc_length,
                                                              arc_hops, used + new_capacity)
        first = start[x]
        for i in range(count[x]):
            head[used + i] = head[first + i]
            arc_cost[used + i] = arc_cost[first + i]
            arc_length[used + i] = arc_length[first + i]
            arc_hops[used + i] = arc_hops[first + i]
        start[x] = used
        capacity[x] = new_capacity
        used += new_capacity
    i = start[x] + count[x]
    head[i] = y
    arc_cost[i] = c
    arc_length[i] = l
    arc_hops[i] = hops
    count[x] += 1
    return head, arc_cost, arc_length, arc_hops, used


@numba.njit(cache=True)
def _find_arc(start, count, head, x, y):
    """Pool position of arc ``x -> y``, or -1."""
    for i in range(start[x], start[x] + count[x]):
        if head[i] == y:
            return i
    return -1


@numba.njit(cache=True)
def _remove_arc(start, count, head, arc_cost, arc_length, arc_hops, x, y):
    """Remove arc ``x -> y`` from ``x``'s list (the last arc takes its slot)."""
    i = _find_arc(start, count, head, x, y)
    last = start[x] + count[x] - 1
    head[i] = head[last]
    arc_cost[i] = arc_cost[last]
    arc_length[i] = arc_length[last]
    arc_hops[i] = arc_hops[last]
    count[x] -= 1


@numba.njit(cache=True)
def _witness_search(v, u, avoid, out_start, out_count, out_head, out_cost, out_length,
                    bound_c, bound_l, targets, n_targets, dist_c, dist_l, touched, key_cost,
                    key_length, nodes, settled_limit):
    """Dijkstra from ``u`` avoiding ``v`` and the nodes marked in ``avoid``, by ``(cost, length)``,
    until every target is settled, the bound is passed or ``settled_limit``
    nodes are settled.

    Leaves the tentative values in ``dist_c, dist_l`` and returns the number of
    nodes it wrote, listed in ``touched``. ``targets`` marks at most
    ``n_targets`` target nodes with True. A full heap drops entries: every
    tentative value is still the cost of a real path, so the search can only
    miss witnesses (adding superfluous shortcuts), never invent one.
    """
    n_touched = 0
    dist_c[u] = 0
    dist_l[u] = 0
    touched[n_touched] = u
    n_touched += 1
    capacity = key_cost.shape[0]
    size = _pair_push(key_cost, key_length, nodes, 0, 0, 0, u)
    settled = 0
    left = n_targets
    while size > 0:
        c, l, x, size = _pair_pop(key_cost, key_length, nodes, size)
        if _less(dist_c[x], dist_l[x], c, l):
            continue  # stale
        if _less(bound_c, bound_l, c, l):
            break
        if targets[x]:
            left -= 1
            if left == 0:
                break
        settled += 1
        if settled > settled_limit:
            break
        for i in range(out_start[x], out_start[x] + out_count[x]):
            y = out_head[i]
            if y == v or avoid[y]:
                continue
            yc = c + out_cost[i]
            yl = l + out_length[i]
            if _less(yc, yl, dist_c[y], dist_l[y]):
                if dist_c[y] == _INT_MAX:
                    touched[n_touched] = y
                    n_touched += 1
                dist_c[y] = yc
                dist_l[y] = yl
                if size < capacity:
                    size = _pair_push(key_cost, key_length, nodes, size, yc, yl, y)
    return n_touched


@numba.njit(cache=True)
def _needed_shortcuts(v, avoid, in_start, in_count, in_head, in_cost, in_length, in_hops,
                      out_start, out_count, out_head, out_cost, out_length, out_hops,
                      dist_c, dist_l, touched, targets, key_cost, key_length, nodes,
                      settled_limit, write, sc_tail, sc_head, sc_cost, sc_length, sc_hops,
                      offset):
    """The shortcuts that contracting ``v`` needs: ``(count, summed hops)``.

    Witness searches avoid ``v`` and the nodes marked in ``avoid``.
    With ``write``, shortcut ``i`` is stored at ``offset + i`` of the ``sc_*``
    arrays (room for ``in_count[v] * out_count[v]`` from ``offset``). The
    workspace (``dist_*``, ``touched``, ``targets``, heap) is left clean.
    """
    n_out = out_count[v]
    n_in = in_count[v]
    count = 0
    hops = 0
    if n_out == 0 or n_in == 0:
        return count, hops
    o0 = out_start[v]
    max_out_c = 0
    max_out_l = 0
    for j in range(o0, o0 + n_out):
        targets[out_head[j]] = True
        if _less(max_out_c, max_out_l, out_cost[j], out_length[j]):
            max_out_c = out_cost[j]
            max_out_l = out_length[j]
    i0 = in_start[v]
    for i in range(i0, i0 + n_in):
        u = in_head[i]
        c1 = in_cost[i]
        l1 = in_length[i]
        # u itself is not a target (no self-loop shortcuts).
        was_target = targets[u]
        targets[u] = False
        n_targets = n_out - 1 if was_target else n_out
        n_touched = _witness_search(
            v, u, avoid, out_start, out_count, out_head, out_cost, out_length,
            c1 + max_out_c, l1 + max_out_l, targets, n_targets, dist_c, dist_l, touched,
            key_cost, key_length, nodes, settled_limit + _WITNESS_PER_TARGET * n_out)
        targets[u] = was_target
        for j in range(o0, o0 + n_out):
            w = out_head[j]
            if w == u:
                continue
            c = c1 + out_cost[j]
            l = l1 + out_length[j]
            if _less(c, l, dist_c[w], dist_l[w]):
                h = in_hops[i] + out_hops[j]
                if write:
                    sc_tail[offset + count] = u
                    sc_head[offset + count] = w
                    sc_cost[offset + count] = c
                    sc_length[offset + count] = l
                    sc_hops[offset + count] = h
                hops += h
                count += 1
        for k in range(n_touched):
            dist_c[touched[k]] = _INT_MAX
            dist_l[touched[k]] = _INT_MAX
    for j in range(o0, o0 + n_out):
        targets[out_head[j]] = False
    return count, hops


@numba.njit(cache=True)
def _two_hop_shortcuts(v, in_start, in_count, in_head, in_cost, in_length, in_hops,
                       out_start, out_count, out_head, out_cost, out_length, out_hops,
                       dist_c, dist_l, touched, targets):
    """Estimate of :func:`_needed_shortcuts` with witnesses of at most two arcs:
    ``(count, summed hops)``, no heap. Leaves the workspace clean."""
    n_out = out_count[v]
    n_in = in_count[v]
    count = 0
    hops = 0
    if n_out == 0 or n_in == 0:
        return count, hops
    o0 = out_start[v]
    for j in range(o0, o0 + n_out):
        targets[out_head[j]] = True
    for i in range(in_start[v], in_start[v] + n_in):
        u = in_head[i]
        n_touched = 0
        for a in range(out_start[u], out_start[u] + out_count[u]):
            y = out_head[a]
            if y == v:
                continue
            if targets[y] and _less(out_cost[a], out_length[a], dist_c[y], dist_l[y]):
                if dist_c[y] == _INT_MAX:
                    touched[n_touched] = y
                    n_touched += 1
                dist_c[y] = out_cost[a]
                dist_l[y] = out_length[a]
            for b in range(out_start[y], out_start[y] + out_count[y]):
                w = out_head[b]
                if not targets[w]:
                    continue
                c = out_cost[a] + out_cost[b]
                l = out_length[a] + out_length[b]
                if _less(c, l, dist_c[w], dist_l[w]):
                    if dist_c[w] == _INT_MAX:
                        touched[n_touched] = w
                        n_touched += 1
                    dist_c[w] = c
                    dist_l[w] = l
        for j in range(o0, o0 + n_out):
            w = out_head[j]
            if w != u and _less(in_cost[i] + out_cost[j], in_length[i] + out_length[j],
                                dist_c[w], dist_l[w]):
                hops += in_hops[i] + out_hops[j]
                count += 1
        for k in range(n_touched):
            dist_c[touched[k]] = _INT_MAX
            dist_l[touched[k]] = _INT_MAX
    for j in range(o0, o0 + n_out):
        targets[out_head[j]] = False
    return count, hops


@numba.njit(cache=True)
def _priority(v, level, count, hops, in_count, in_hops, in_start, out_count, out_hops,
              out_start):
    """Contraction priority (smaller first): level plus the arc and hop quotients."""
    removed = in_count[v] + out_count[v]
    removed_hops = 0
    for i in range(in_start[v], in_start[v] + in_count[v]):
        removed_hops += in_hops[i]
    for i in range(out_start[v], out_start[v] + out_count[v]):
        removed_hops += out_hops[i]
    return (level[v] + count / max(removed, 1) + hops / max(removed_hops, 1))


@numba.njit(cache=True, parallel=True)
def _update_priorities(nodes_to_update, priority, level, in_start, in_count, in_head,
                       in_cost, in_length, in_hops, out_start, out_count, out_head, out_cost,
                       out_length, out_hops, ws_dist_c, ws_dist_l, ws_touched, ws_targets):
    """Re-estimate the priority of every node in ``nodes_to_update`` (in parallel;
    each result depends on its node alone, so not on the thread count)."""
    for k in numba.prange(nodes_to_update.shape[0]):
        x = nodes_to_update[k]
        t = numba.get_thread_id()
        count, hops = _two_hop_shortcuts(
            x, in_start, in_count, in_head, in_cost, in_length, in_hops,
            out_start, out_count, out_head, out_cost, out_length, out_hops,
            ws_dist_c[t], ws_dist_l[t], ws_touched[t], ws_targets[t])
        priority[x] = _priority(x, level, count, hops, in_count, in_hops, in_start,
                                out_count, out_hops, out_start)


@numba.njit(cache=True, parallel=True)
def _round_shortcuts(chosen, offsets, counts, avoid, in_start, in_count, in_head, in_cost,
                     in_length, in_hops, out_start, out_count, out_head, out_cost, out_length,
                     out_hops, ws_dist_c, ws_dist_l, ws_touched, ws_targets, ws_key_cost,
                     ws_key_length, ws_nodes, settled_limit, sc_tail, sc_head, sc_cost,
                     sc_length, sc_hops):
    """The shortcuts of every node in ``chosen`` (all marked in ``avoid``), in parallel:
    node ``k``'s are at ``offsets[k]`` onwards, ``counts[k]`` of them."""
    for k in numba.prange(chosen.shape[0]):
        t = numba.get_thread_id()
        count, _ = _needed_shortcuts(
            chosen[k], avoid, in_start, in_count, in_head, in_cost, in_length, in_hops,
            out_start, out_count, out_head, out_cost, out_length, out_hops,
            ws_dist_c[t], ws_dist_l[t], ws_touched[t], ws_targets[t], ws_key_cost[t],
            ws_key_length[t], ws_nodes[t], settled_limit, True,
            sc_tail, sc_head, sc_cost, sc_length, sc_hops, offsets[k])
        counts[k] = count


@numba.njit(cache=True, parallel=True)
def _independent(candidates, priority, in_start, in_count, in_head, out_start, out_count,
                 out_head):
    """Per candidate: True if its ``(priority, node)`` is below that of every neighbour.

    (Asking the same of nodes two arcs away gave 3% fewer upward arcs for a
    40% slower build on road grids.)
    """
    chosen = np.zeros(candidates.shape[0], dtype=np.bool_)
    for k in numba.prange(candidates.shape[0]):
        v = candidates[k]
        p = priority[v]
        smallest = True
        for i in range(in_start[v], in_start[v] + in_count[v]):
            x = in_head[i]
            if priority[x] < p or (priority[x] == p and x < v):
                smallest = False
                break
        if smallest:
            for i in range(out_start[v], out_start[v] + out_count[v]):
                x = out_head[i]
                if priority[x] < p or (priority[x] == p and x < v):
                    smallest = False
                    break
        chosen[k] = smallest
    return chosen


# Witness-search heaps hold at most this many entries (a full heap drops
# entries, see _witness_search); far more than 64 settled nodes need.
_HEAP_CAPACITY = 1 << 14


@numba.njit(cache=True, nogil=True)
def _contract_kernel(indptr, indices, cost, length, settled_limit, threads, progress):
    """Contract every node; returns rank and the upward/downward arcs per node.

    ``progress[0]`` holds the number of nodes contracted so far, updated
    after every round (the kernel runs without the GIL, so another thread
    may watch it).

    Nodes are contracted in rounds: every remaining node whose ``(priority,
    node)`` is below that of all its neighbours is contracted in the round,
    its witness searches avoiding all of them (so every witness survives the
    round). The searches of a round and the priority updates after it run in
    parallel, each writing only its own result; shortcuts are inserted in node
    order. So the hierarchy does not depend on the number of threads.

    Arcs are returned as ``(tail, head, cost, length)`` in original numbering:
    ``up_*`` for arcs leaving a node to higher-ranked nodes, ``down_*`` for arcs
    entering a node from higher-ranked ones; plus the number of shortcuts.
    """
    n = indptr.shape[0] - 1
    m = indices.shape[0]
    # Remaining graph: per node a slice of an out-arc and an in-arc pool.
    out_start = np.zeros(n, dtype=np.int64)
    out_count = np.zeros(n, dtype=np.int64)
    out_capacity = np.zeros(n, dtype=np.int64)
    in_start = np.zeros(n, dtype=np.int64)
    in_count = np.zeros(n, dtype=np.int64)
    in_capacity = np.zeros(n, dtype=np.int64)
    pool = max(16, 4 * m)
    out_head = np.empty(pool, dtype=np.int32)
    out_cost = np.empty(pool, dtype=np.int64)
    out_length = np.empty(pool, dtype=np.int64)
    out_hops = np.empty(pool, dtype=np.int32)
    in_head = np.empty(pool, dtype=np.int32)
    in_cost = np.empty(pool, dtype=np.int64)
    in_length = np.empty(pool, dtype=np.int64)
    in_hops = np.empty(pool, dtype=np.int32)
    out_used = 0
    in_used = 0
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            w = indices[e]
            if w == u:
                continue  # a self-loop is never part of a best path
            c = cost[e]
            l = length[e]
            k = _find_arc(out_start, out_count, out_head, u, w)
            if k >= 0:
                # Parallel arcs: only the best matters.
                if _less(c, l, out_cost[k], out_length[k]):
                    out_cost[k] = c
                    out_length[k] = l
                    k = _find_arc(in_start, in_count, in_head, w, u)
                    in_cost[k] = c
                    in_length[k] = l
                continue
            out_head, out_cost, out_length, out_hops, out_used = _append_arc(
                out_start, out_count, out_capacity, out_head, out_cost, out_length, out_hops,
                out_used, u, w, c, l, 1)
            in_head, in_cost, in_length, in_hops, in_used = _append_arc(
                in_start, in_count, in_capacity, in_head, in_cost, in_length, in_hops,
                in_used, w, u, c, l, 1)

    # One witness-search workspace per thread (row t for thread t).
    ws_dist_c = np.full((threads, n), _INT_MAX, dtype=np.int64)
    ws_dist_l = np.full((threads, n), _INT_MAX, dtype=np.int64)
    ws_touched = np.empty((threads, n), dtype=np.int32)
    ws_targets = np.zeros((threads, n), dtype=np.bool_)
    ws_key_cost = np.empty((threads, _HEAP_CAPACITY), dtype=np.int64)
    ws_key_length = np.empty((threads, _HEAP_CAPACITY), dtype=np.int64)
    ws_nodes = np.empty((threads, _HEAP_CAPACITY), dtype=np.int32)

    level = np.zeros(n, dtype=np.int64)
    priority = np.empty(n, dtype=np.float64)
    avoid = np.zeros(n, dtype=np.bool_)
    remaining = np.arange(n, dtype=np.int32)
    n_remaining = n
    _update_priorities(remaining, priority, level, in_start, in_count, in_head, in_cost,
                       in_length, in_hops, out_start, out_count, out_head, out_cost,
                       out_length, out_hops, ws_dist_c, ws_dist_l, ws_touched, ws_targets)

    rank = np.empty(n, dtype=np.int32)
    next_rank = 0
    shortcuts = 0
    # Final arcs: every arc is recorded once, when its lower end is contracted.
    up_tail = np.empty(max(16, m), dtype=np.int32)
    up_head = np.empty(max(16, m), dtype=np.int32)
    up_cost = np.empty(max(16, m), dtype=np.int64)
    up_length = np.empty(max(16, m), dtype=np.int64)
    n_up = 0
    down_tail = np.empty(max(16, m), dtype=np.int32)
    down_head = np.empty(max(16, m), dtype=np.int32)
    down_cost = np.empty(max(16, m), dtype=np.int64)
    down_length = np.empty(max(16, m), dtype=np.int64)
    n_down = 0
    updated = np.zeros(n, dtype=np.bool_)
    neighbours = np.empty(n, dtype=np.int32)
    while n_remaining > 0:
        candidates = remaining[:n_remaining]
        chosen = candidates[_independent(candidates, priority, in_start, in_count, in_head,
                                         out_start, out_count, out_head)]
        offsets = np.empty(chosen.shape[0] + 1, dtype=np.int64)
        offsets[0] = 0
        for k in range(chosen.shape[0]):
            v = chosen[k]
            avoid[v] = True
            offsets[k + 1] = offsets[k] + in_count[v] * out_count[v]
        sc_tail = np.empty(offsets[-1], dtype=np.int32)
        sc_head = np.empty(offsets[-1], dtype=np.int32)
        sc_cost = np.empty(offsets[-1], dtype=np.int64)
        sc_length = np.empty(offsets[-1], dtype=np.int64)
        sc_hops = np.empty(offsets[-1], dtype=np.int32)
        counts = np.zeros(chosen.shape[0], dtype=np.int64)
        _round_shortcuts(chosen, offsets, counts, avoid, in_start, in_count, in_head, in_cost,
                         in_length, in_hops, out_start, out_count, out_head, out_cost,
                         out_length, out_hops, ws_dist_c, ws_dist_l, ws_touched, ws_targets,
                         ws_key_cost, ws_key_length, ws_nodes, settled_limit,
                         sc_tail, sc_head, sc_cost, sc_length, sc_hops)

        n_neighbours = 0
        for k in range(chosen.shape[0]):
            v = chosen[k]
            rank[v] = next_rank
            next_rank += 1
            n_out = out_count[v]
            n_in = in_count[v]
            if n_up + n_out > up_tail.shape[0]:
                capacity = 2 * (n_up + n_out)
                up_tail = np.concatenate((up_tail[:n_up], np.empty(capacity - n_up, np.int32)))
                up_head = np.concatenate((up_head[:n_up], np.empty(capacity - n_up, np.int32)))
                up_cost = np.concatenate((up_cost[:n_up], np.empty(capacity - n_up, np.int64)))
                up_length = np.concatenate((up_length[:n_up],
                                            np.empty(capacity - n_up, np.int64)))
            for j in range(out_start[v], out_start[v] + n_out):
                up_tail[n_up] = v
                up_head[n_up] = out_head[j]
                up_cost[n_up] = out_cost[j]
                up_length[n_up] = out_length[j]
                n_up += 1
            if n_down + n_in > down_tail.shape[0]:
                capacity = 2 * (n_down + n_in)
                down_tail = np.concatenate((down_tail[:n_down],
                                            np.empty(capacity - n_down, np.int32)))
                down_head = np.concatenate((down_head[:n_down],
                                            np.empty(capacity - n_down, np.int32)))
                down_cost = np.concatenate((down_cost[:n_down],
                                            np.empty(capacity - n_down, np.int64)))
                down_length = np.concatenate((down_length[:n_down],
                                              np.empty(capacity - n_down, np.int64)))
            for i in range(in_start[v], in_start[v] + n_in):
                down_tail[n_down] = in_head[i]
                down_head[n_down] = v
                down_cost[n_down] = in_cost[i]
                down_length[n_down] = in_length[i]
                n_down += 1

            for s in range(offsets[k], offsets[k] + counts[k]):
                u = sc_tail[s]
                w = sc_head[s]
                c = sc_cost[s]
                l = sc_length[s]
                a = _find_arc(out_start, out_count, out_head, u, w)
                if a >= 0:
                    if _less(c, l, out_cost[a], out_length[a]):
                        out_cost[a] = c
                        out_length[a] = l
                        out_hops[a] = sc_hops[s]
                        a = _find_arc(in_start, in_count, in_head, w, u)
                        in_cost[a] = c
                        in_length[a] = l
                        in_hops[a] = sc_hops[s]
                    continue
                shortcuts += 1
                out_head, out_cost, out_length, out_hops, out_used = _append_arc(
                    out_start, out_count, out_capacity, out_head, out_cost, out_length,
                    out_hops, out_used, u, w, c, l, sc_hops[s])
                in_head, in_cost, in_length, in_hops, in_used = _append_arc(
                    in_start, in_count, in_capacity, in_head, in_cost, in_length, in_hops,
                    in_used, w, u, c, l, sc_hops[s])

            progress[0] = next_rank
            # Detach v; its neighbours' priorities are updated after the round.
            for i in range(in_start[v], in_start[v] + n_in):
                u = in_head[i]
                _remove_arc(out_start, out_count, out_head, out_cost, out_length, out_hops,
                            u, v)
                level[u] = max(level[u], level[v] + 1)
                if not updated[u]:
                    updated[u] = True
                    neighbours[n_neighbours] = u
                    n_neighbours += 1
            for j in range(out_start[v], out_start[v] + n_out):
                w = out_head[j]
                _remove_arc(in_start, in_count, in_head, in_cost, in_length, in_hops, w, v)
                level[w] = max(level[w], level[v] + 1)
                if not updated[w]:
                    updated[w] = True
                    neighbours[n_neighbours] = w
                    n_neighbours += 1
            out_count[v] = 0
            in_count[v] = 0

        kept = 0
        for i in range(n_remaining):
            x = remaining[i]
            if not avoid[x]:
                remaining[kept] = x
                kept += 1
        n_remaining = kept
        for k in range(chosen.shape[0]):
            avoid[chosen[k]] = False
        for k in range(n_neighbours):
            updated[neighbours[k]] = False
        _update_priorities(neighbours[:n_neighbours], priority, level, in_start, in_count,
                           in_head, in_cost, in_length, in_hops, out_start, out_count,
                           out_head, out_cost, out_length, out_hops, ws_dist_c, ws_dist_l,
                           ws_touched, ws_targets)
    return (rank, up_tail[:n_up], up_head[:n_up], up_cost[:n_up], up_length[:n_up],
            down_tail[:n_down], down_head[:n_down], down_cost[:n_down],
            down_length[:n_down], shortcuts)


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


# --------------------------------------------------------------------------
# Input checks and public functions
# --------------------------------------------------------------------------

def _whole_numbers(name: str, a: np.ndarray) -> np.ndarray:
    """``a`` (float64, checked >= 0 and finite) as int64, if all whole and summing exactly."""
    _whole(name, a)
    if a.sum() >= _EXACT_LIMIT:
        raise ValueError(f"{name} sums to {a.sum():.0f}, beyond 2**53: path sums "
                         "would no longer be exact")
    return a.astype(np.int64)


def build_hierarchy(indptr: np.ndarray, indices: np.ndarray, cost: np.ndarray,
                    length: np.ndarray, *,
                    witness_settled: int = _WITNESS_SETTLED,
                    progress: np.ndarray | None = None) -> Hierarchy:
    """Contract the graph into a hierarchy for :func:`one_to_all` and :func:`nearest_source`.

    Parameters
    ----------
    indptr, indices
        The graph in CSR form, as in :func:`.dijkstra.nearest_source`.
    cost
        float, ``n_edges``: edge cost, whole numbers >= 0 (e.g. milliseconds).
    length
        float, ``n_edges``: edge length, whole numbers >= 0 (e.g. millimetres);
        ties in cost go to the shorter path, as in the reference kernels.
    witness_settled
        Settled-node limit of a witness search, plus 8 per node the search
        looks for (larger: fewer shortcuts, a slower build; any value gives
        exact answers).
    progress
        Optional int64 array of one element that receives the number of
        nodes contracted so far; the contraction runs without the GIL, so a
        caller may run this in a thread and show the count.

    Returns
    -------
    Hierarchy
        The hierarchy (rank numbering, see the module docstring).

    Raises
    ------
    ValueError
        For a malformed graph, negative, non-finite or fractional weights, or
        weights whose sums could exceed 2**53.
    """
    indptr, indices, n = dijkstra._csr(indptr, indices)
    m = indices.shape[0]
    cost = _whole_numbers("cost", dijkstra._float_array("cost", cost, m, minimum=0.0,
                                                        strict=False))
    length = _whole_numbers("length", dijkstra._float_array("length", length, m,
                                                            minimum=0.0, strict=False))
    if int(witness_settled) < 1:
        raise ValueError(f"witness_settled must be >= 1, got {witness_settled}")
    if progress is not None and (progress.dtype != np.int64 or progress.shape != (1,)):
        raise ValueError("progress must be an int64 array of one element")
    start = time.perf_counter()
    (rank, up_tail, up_head, up_cost, up_length, down_tail, down_head, down_cost,
     down_length, shortcuts) = _contract_kernel(
        indptr, indices, cost, length, int(witness_settled), numba.get_num_threads(),
        np.zeros(1, dtype=np.int64) if progress is None else progress)
    order = np.empty(n, dtype=np.int32)
    order[rank] = np.arange(n, dtype=np.int32)
    up = _rank_csr(n, rank[up_tail], rank[up_head], up_cost, up_length)
    down = _rank_csr(n, rank[down_head], rank[down_tail], down_cost, down_length)
    return Hierarchy(n, rank, order, *up, *down, int(shortcuts),
                     time.perf_counter() - start)


def _rank_csr(n, row, other, cost, length):
    """CSR over ranks of arcs ``row -> other`` (rows sorted, then by ``other``)."""
    order = np.lexsort((other, row))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n), out=indptr[1:])
    return (indptr, other[order].astype(np.int32), cost[order].astype(np.float64),
            length[order].astype(np.float64))


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


# --------------------------------------------------------------------------
# Bounded many-to-many counts (RPHAST in batches)
# --------------------------------------------------------------------------

# Sources searched together: a batch shares one walk over the hierarchy and
# carries this many values per node, contiguous, so the inner loops are
# short fixed-length vector operations.
_BATCH = 16

# Starting number of node slots of a batch; a batch that runs out is rerun
# with twice as many (kept for the batches after it).
_BATCH_SLOTS = 4096

# Cutoffs stay below this so that a sum beyond the cutoff can never round
# down onto it.
_CUTOFF_LIMIT = 2.0 ** 52

# 2SFCA deals its batches over this many chunks whatever the thread count,
# each summing into its own float per target, so the floating-point sums (and
# the result) are the same with 1 or 16 threads; memory is one float per
# target per chunk.
_FCA_CHUNKS = 16


@numba.njit(cache=True)
def _down_by_tail(down_indptr, down_indices, down_cost):
    """The downward edges ``s -> r`` grouped by tail ``s``: ``(indptr, heads, cost)``."""
    n = down_indptr.shape[0] - 1
    indptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(down_indices.shape[0]):
        indptr[down_indices[e] + 1] += 1
    for s in range(n):
        indptr[s + 1] += indptr[s]
    fill = indptr[:-1].copy()
    heads = np.empty(down_indices.shape[0], dtype=np.int32)
    cost = np.empty(down_indices.shape[0], dtype=np.float64)
    for r in range(n):
        for e in range(down_indptr[r], down_indptr[r + 1]):
            s = down_indices[e]
            heads[fill[s]] = r
            cost[fill[s]] = down_cost[e]
            fill[s] += 1
    return indptr, heads, cost


@numba.njit(cache=True)
def _relevant_nodes(tail_indptr, heads, entry_indptr):
    """Per rank: does a downward path lead from it to a target entry node?

    Downward edges go to lower ranks, so one ascending sweep decides every
    node after all the nodes it leads to.
    """
    n = tail_indptr.shape[0] - 1
    relevant = np.zeros(n, dtype=np.bool_)
    for x in range(n):
        if entry_indptr[x + 1] > entry_indptr[x]:
            relevant[x] = True
            continue
        for e in range(tail_indptr[x], tail_indptr[x + 1]):
            if relevant[heads[e]]:
                relevant[x] = True
                break
    return relevant


@numba.njit(cache=True, nogil=True)
def _release(slot_of, touched, n_touched, mark):
    """Free the slots and clear the marks of the first ``n_touched`` touched nodes."""
    for i in range(n_touched):
        slot_of[touched[i]] = -1
        mark[touched[i] >> 5] = 0


@numba.njit(cache=True, nogil=True)
def _top_bit(v):
    """Position of the highest set bit of ``0 < v < 2**32``."""
    b = 0
    for step in (16, 8, 4, 2, 1):
        if v >> step:
            v >>= step
            b += step
    return b


@numba.njit(cache=True, nogil=True)
def _batch_values(up_indptr, up_indices, up_cost, tail_indptr, heads, tail_cost, relevant,
                  source_indptr, source_rank, source_cost, first, n_batch, last, slot_of,
                  touched, val, keys, heap_nodes, mark):
    """Cost from each source ``first .. first + n_batch - 1`` to the nodes within ``last``.

    Node ``touched[i]`` (a rank) gets slot ``i`` (``slot_of`` maps back):
    ``val[i, k]`` is the cost from source ``first + k``, exact wherever it is
    <= ``last`` at a relevant node or on the upward search space (higher
    values may be any real path cost or inf). Returns the number of touched
    nodes, or -1 when the slots ran out (``slot_of`` is then reset).
    """
    capacity = touched.shape[0]
    n_touched = 0
    size = 0
    for k in range(n_batch):
        s = first + k
        for e in range(source_indptr[s], source_indptr[s + 1]):
            c = source_cost[e]
            if c > last:
                continue
            x = source_rank[e]
            i = slot_of[x]
            if i < 0:
                if n_touched == capacity:
                    _release(slot_of, touched, n_touched, mark)
                    return -1
                i = n_touched
                n_touched += 1
                slot_of[x] = i
                touched[i] = x
                val[i, :] = np.inf
                size = _heap.push(keys, heap_nodes, size, float(x), x)
            val[i, k] = min(val[i, k], c)

    # Upward: taking nodes by ascending rank (a topological order of the
    # upward graph) settles each before it is expanded.
    while size > 0:
        _, x, size = _heap.pop(keys, heap_nodes, size)
        i = slot_of[x]
        low = val[i, 0]
        for k in range(1, _BATCH):
            low = min(low, val[i, k])
        for e in range(up_indptr[x], up_indptr[x + 1]):
            c = up_cost[e]
            # A prefix of a path within the cutoff is within it too (costs >= 0).
            if low + c > last:
                continue
            y = up_indices[e]
            j = slot_of[y]
            if j < 0:
                if n_touched == capacity:
                    _release(slot_of, touched, n_touched, mark)
                    return -1
                j = n_touched
                n_touched += 1
                slot_of[y] = j
                touched[j] = y
                val[j, :] = np.inf
                size = _heap.push(keys, heap_nodes, size, float(y), y)
            for k in range(_BATCH):
                val[j, k] = min(val[j, k], val[i, k] + c)

    # Downward, by descending rank, over relevant nodes only: a node is final
    # once every higher node with an edge into it has been taken. The nodes
    # to take are bits of ``mark`` (32 ranks a word): scanning the words is
    # far cheaper than a heap, and taking a node clears its bit, so the
    # bitmap is empty again for the next batch.
    top_word = -1
    for i in range(n_touched):
        x = touched[i]
        if relevant[x]:
            mark[x >> 5] |= 1 << (x & 31)
            top_word = max(top_word, x >> 5)
    for w in range(top_word, -1, -1):
        while mark[w] != 0:
            b = _top_bit(mark[w])
            mark[w] ^= 1 << b
            x = (w << 5) | b
            i = slot_of[x]
            low = val[i, 0]
            for k in range(1, _BATCH):
                low = min(low, val[i, k])
            for e in range(tail_indptr[x], tail_indptr[x + 1]):
                y = heads[e]
                c = tail_cost[e]
                if low + c > last or not relevant[y]:
                    continue
                j = slot_of[y]
                if j < 0:
                    if n_touched == capacity:
                        _release(slot_of, touched, n_touched, mark)
                        return -1
                    j = n_touched
                    n_touched += 1
                    slot_of[y] = j
                    touched[j] = y
                    val[j, :] = np.inf
                    mark[y >> 5] |= 1 << (y & 31)
                for k in range(_BATCH):
                    val[j, k] = min(val[j, k], val[i, k] + c)
    return n_touched


@numba.njit(cache=True, nogil=True)
def _workspace(n, n_targets):
    """An empty workspace for :func:`_batch_totals`, as one tuple.

    ``(slot_of, mark, touched, val, keys, heap_nodes, target_slot,
    target_touched, target_val)``: the node slots of :func:`_batch_values`
    and the target slots of :func:`_batch_totals`, both grown on demand.
    """
    capacity = max(1, min(n, _BATCH_SLOTS))
    target_capacity = 1024
    return (np.full(n, -1, dtype=np.int32), np.zeros((n >> 5) + 1, dtype=np.int64),
            np.empty(capacity, dtype=np.int32), np.empty((capacity, _BATCH), dtype=np.float64),
            np.empty(capacity, dtype=np.float64), np.empty(capacity, dtype=np.int32),
            np.full(n_targets, -1, dtype=np.int32), np.empty(target_capacity, dtype=np.int32),
            np.empty((target_capacity, _BATCH), dtype=np.float64))


@numba.njit(cache=True, nogil=True)
def _batch_totals(up_indptr, up_indices, up_cost, tail_indptr, heads, tail_cost, relevant,
                  source_indptr, source_rank, source_cost, entry_indptr, entry_target,
                  entry_cost, direct_indptr, direct_target, direct_cost, first, n_batch,
                  last, work):
    """Cost of every pair of sources ``first .. first + n_batch - 1`` and targets within ``last``.

    Returns ``(n_slots, work)`` (``work`` from :func:`_workspace`, possibly
    grown): target ``work[7][j]``, ``j < n_slots``, is reached by some source
    of the batch and ``work[8][j, k]`` is its cost from source ``first + k``,
    exact wherever it is <= ``last`` (higher values mean beyond ``last``).
    Every target reached within ``last`` has a slot; the slots come in an
    order fixed by the batch alone. The workspace is left clean.
    """
    (slot_of, mark, touched, val, keys, heap_nodes, target_slot, target_touched,
     target_val) = work
    n = relevant.shape[0]
    n_touched = _batch_values(up_indptr, up_indices, up_cost, tail_indptr, heads, tail_cost,
                              relevant, source_indptr, source_rank, source_cost, first,
                              n_batch, last, slot_of, touched, val, keys, heap_nodes, mark)
    while n_touched < 0:
        capacity = min(n, 2 * touched.shape[0])
        touched = np.empty(capacity, dtype=np.int32)
        val = np.empty((capacity, _BATCH), dtype=np.float64)
        keys = np.empty(capacity, dtype=np.float64)
        heap_nodes = np.empty(capacity, dtype=np.int32)
        n_touched = _batch_values(up_indptr, up_indices, up_cost, tail_indptr, heads,
                                  tail_cost, relevant, source_indptr, source_rank,
                                  source_cost, first, n_batch, last, slot_of, touched, val,
                                  keys, heap_nodes, mark)

    # Every target entry at a touched node and every direct pair of the
    # batch may open a target slot: make room for them all at once.
    needed = direct_indptr[first + n_batch] - direct_indptr[first]
    for i in range(n_touched):
        x = touched[i]
        needed += entry_indptr[x + 1] - entry_indptr[x]
    if needed > target_touched.shape[0]:
        target_capacity = max(needed, 2 * target_touched.shape[0])
        target_touched = np.empty(target_capacity, dtype=np.int32)
        target_val = np.empty((target_capacity, _BATCH), dtype=np.float64)
    n_slots = 0
    for i in range(n_touched):
        x = touched[i]
        slot_of[x] = -1
        for e in range(entry_indptr[x], entry_indptr[x + 1]):
            t = entry_target[e]
            j = target_slot[t]
            if j < 0:
                j = n_slots
                n_slots += 1
                target_slot[t] = j
                target_touched[j] = t
                target_val[j, :] = np.inf
            c = entry_cost[e]
            # (source cost + path) + target cost, the reference's order.
            for k in range(_BATCH):
                target_val[j, k] = min(target_val[j, k], val[i, k] + c)
    for k in range(n_batch):
        s = first + k
        for d in range(direct_indptr[s], direct_indptr[s + 1]):
            t = direct_target[d]
            j = target_slot[t]
            if j < 0:
                j = n_slots
                n_slots += 1
                target_slot[t] = j
                target_touched[j] = t
                target_val[j, :] = np.inf
            target_val[j, k] = min(target_val[j, k], direct_cost[d])
    for j in range(n_slots):
        target_slot[target_touched[j]] = -1
    return n_slots, (slot_of, mark, touched, val, keys, heap_nodes, target_slot,
                     target_touched, target_val)


@numba.njit(cache=True, nogil=True)
def _chunk_counts(up_indptr, up_indices, up_cost, tail_indptr, heads, tail_cost, relevant,
                  source_indptr, source_rank, source_cost, entry_indptr, entry_target,
                  entry_cost, direct_indptr, direct_target, direct_cost, cutoffs, chunk,
                  n_chunks, bucket):
    """Add to ``bucket`` the threshold histogram of batches ``chunk, chunk + n_chunks, ...``.

    ``bucket[t, j]`` counts the sources whose cost to target ``t`` is within
    ``cutoffs[j]`` but above ``cutoffs[j - 1]``.
    """
    n_sources = source_indptr.shape[0] - 1
    n_batches = (n_sources + _BATCH - 1) // _BATCH
    last = cutoffs[cutoffs.shape[0] - 1]
    work = _workspace(relevant.shape[0], bucket.shape[0])
    for b in range(chunk, n_batches, n_chunks):
        first = b * _BATCH
        n_batch = min(_BATCH, n_sources - first)
        n_slots, work = _batch_totals(up_indptr, up_indices, up_cost, tail_indptr, heads,
                                      tail_cost, relevant, source_indptr, source_rank,
                                      source_cost, entry_indptr, entry_target, entry_cost,
                                      direct_indptr, direct_target, direct_cost, first,
                                      n_batch, last, work)
        target_touched, target_val = work[7], work[8]
        for j in range(n_slots):
            t = target_touched[j]
            for k in range(n_batch):
                total = target_val[j, k]
                if total <= last:
                    c = 0
                    while total > cutoffs[c]:
                        c += 1
                    bucket[t, c] += 1


@numba.njit(cache=True, parallel=True)
def _count_within_kernel(up_indptr, up_indices, up_cost, tail_indptr, heads, tail_cost,
                         relevant, source_indptr, source_rank, source_cost, entry_indptr,
                         entry_target, entry_cost, direct_indptr, direct_target, direct_cost,
                         cutoffs, n_targets, n_chunks):
    # Each chunk fills its own histogram, so threads never share counts and
    # the integer sums do not depend on the thread count.
    buckets = np.zeros((n_chunks, n_targets, cutoffs.shape[0]), dtype=np.int32)
    for c in numba.prange(n_chunks):
        _chunk_counts(up_indptr, up_indices, up_cost, tail_indptr, heads, tail_cost,
                      relevant, source_indptr, source_rank, source_cost, entry_indptr,
                      entry_target, entry_cost, direct_indptr, direct_target, direct_cost,
                      cutoffs, c, n_chunks, buckets[c])
    return dijkstra._cumulative_counts(buckets)


@numba.njit(cache=True, nogil=True)
def _chunk_two_step(up_indptr, up_indices, up_cost, tail_indptr, heads, tail_cost, relevant,
                    source_indptr, source_rank, source_cost, entry_indptr, entry_target,
                    entry_cost, direct_indptr, direct_target, direct_cost, decay,
                    target_demand, source_capacity, chunk, n_chunks, source_demand,
                    source_ratio, spread):
    """Both 2SFCA steps for batches ``chunk, chunk + n_chunks, ...``.

    Writes ``source_demand`` and ``source_ratio`` of the batches' sources
    and adds their ratios, weighted, to ``spread`` (one float per target).
    """
    n_sources = source_indptr.shape[0] - 1
    n_batches = (n_sources + _BATCH - 1) // _BATCH
    if chunk >= n_batches:
        return
    last = float(decay.shape[0] - 1)
    work = _workspace(relevant.shape[0], spread.shape[0])
    demand = np.empty(_BATCH, dtype=np.float64)
    ratio = np.empty(_BATCH, dtype=np.float64)
    for b in range(chunk, n_batches, n_chunks):
        first = b * _BATCH
        n_batch = min(_BATCH, n_sources - first)
        n_slots, work = _batch_totals(up_indptr, up_indices, up_cost, tail_indptr, heads,
                                      tail_cost, relevant, source_indptr, source_rank,
                                      source_cost, entry_indptr, entry_target, entry_cost,
                                      direct_indptr, direct_target, direct_cost, first,
                                      n_batch, last, work)
        target_touched, target_val = work[7], work[8]
        # Step 1, in slot order (fixed by the batch, so by the inputs alone).
        demand[:] = 0.0
        for j in range(n_slots):
            t = target_touched[j]
            for k in range(n_batch):
                total = target_val[j, k]
                if total <= last:
                    demand[k] += target_demand[t] * decay[np.int64(total)]
        for k in range(n_batch):
            source_demand[first + k] = demand[k]
            if demand[k] > 0:
                ratio[k] = source_capacity[first + k] / demand[k]
                source_ratio[first + k] = ratio[k]
        # Step 2 at once: R_s depends on source s's own catchment alone, so
        # the batch's totals are read a second time and no pair is stored.
        for j in range(n_slots):
            t = target_touched[j]
            for k in range(n_batch):
                total = target_val[j, k]
                if total <= last and demand[k] > 0:
                    spread[t] += ratio[k] * decay[np.int64(total)]


@numba.njit(cache=True, parallel=True)
def _two_step_kernel(up_indptr, up_indices, up_cost, tail_indptr, heads, tail_cost, relevant,
                     source_indptr, source_rank, source_cost, entry_indptr, entry_target,
                     entry_cost, direct_indptr, direct_target, direct_cost, decay,
                     target_demand, source_capacity):
    n_sources = source_indptr.shape[0] - 1
    source_demand = np.zeros(n_sources, dtype=np.float64)
    source_ratio = np.full(n_sources, np.nan)
    spread = np.zeros((_FCA_CHUNKS, target_demand.shape[0]), dtype=np.float64)
    for c in numba.prange(_FCA_CHUNKS):
        _chunk_two_step(up_indptr, up_indices, up_cost, tail_indptr, heads, tail_cost,
                        relevant, source_indptr, source_rank, source_cost, entry_indptr,
                        entry_target, entry_cost, direct_indptr, direct_target, direct_cost,
                        decay, target_demand, source_capacity, c, _FCA_CHUNKS,
                        source_demand, source_ratio, spread[c])
    # Chunks added in chunk order: the same float sums for any thread count.
    target_ratio = spread[0].copy()
    for c in range(1, _FCA_CHUNKS):
        target_ratio += spread[c]
    return target_ratio, source_ratio, source_demand


def _entries(name: str, indptr, node, cost, n: int) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray]:
    """Checked ``({name}_indptr int64, {name}_node int32, {name}_cost float64)``."""
    indptr = np.asarray(indptr)
    if indptr.ndim != 1 or indptr.shape[0] < 1:
        raise ValueError(f"{name}_indptr must be 1-D with n_{name}s + 1 >= 1 values, "
                         f"got shape {indptr.shape}")
    if not np.issubdtype(indptr.dtype, np.integer):
        raise ValueError(f"{name}_indptr must have an integer dtype, got {indptr.dtype}")
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    m = int(np.asarray(node).shape[0]) if np.ndim(node) == 1 else -1
    if indptr[0] != 0 or indptr[-1] != m or (np.diff(indptr) < 0).any():
        raise ValueError(f"{name}_indptr must start at 0, be non-decreasing and end at "
                         f"len({name}_node) = {m}, got {indptr[0]} .. {indptr[-1]}")
    node = dijkstra._integer_array(f"{name}_node", node, 0, n, np.int32)
    cost = _whole(f"{name}_cost", dijkstra._float_array(f"{name}_cost", cost, m,
                                                         minimum=0.0, strict=False))
    return indptr, node, cost


def _whole(name: str, a: np.ndarray) -> np.ndarray:
    """``a``, checked to hold whole numbers (so that every sum is exact)."""
    if a.size and not (np.floor(a) == a).all():
        i = int(np.flatnonzero(np.floor(a) != a)[0])
        raise ValueError(f"{name} must be whole numbers (e.g. milliseconds), "
                         f"found {a[i]} at position {i}")
    return a


def _by_key(key: np.ndarray, n_keys: int, *values: np.ndarray) -> tuple[np.ndarray, ...]:
    """CSR over ``key`` (``indptr`` int64, ``n_keys + 1``) and ``values`` grouped by it."""
    order = np.argsort(key, kind="stable")
    indptr = np.zeros(n_keys + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=n_keys), out=indptr[1:])
    return (indptr,) + tuple(np.ascontiguousarray(v[order]) for v in values)


def _pairs(h: Hierarchy, source_indptr, source_node, source_cost, target_indptr,
           target_node, target_cost, direct_source, direct_target, direct_cost) -> tuple:
    """Checked entries and direct pairs of a many-to-many query (see :func:`count_within`).

    ``(source_indptr, source_node, source_cost, target_indptr, target_node,
    target_cost, direct_source, direct_target, direct_cost)``, the direct
    pairs empty when none are given.
    """
    n = h.n
    source_indptr, source_node, source_cost = _entries("source", source_indptr, source_node,
                                                       source_cost, n)
    target_indptr, target_node, target_cost = _entries("target", target_indptr, target_node,
                                                       target_cost, n)
    n_sources = source_indptr.shape[0] - 1
    n_targets = target_indptr.shape[0] - 1
    given = [a is not None for a in (direct_source, direct_target, direct_cost)]
    if any(given) and not all(given):
        raise ValueError("direct_source, direct_target and direct_cost go together: "
                         "give all three or none")
    if all(given):
        direct_source = dijkstra._integer_array("direct_source", direct_source, 0, n_sources,
                                                np.int32)
        k = direct_source.shape[0]
        direct_target = np.asarray(direct_target)
        if direct_target.shape != (k,):
            raise ValueError(f"direct_target must be 1-D with {k} values (one per "
                             f"direct_source), got shape {direct_target.shape}")
        direct_target = dijkstra._integer_array("direct_target", direct_target, 0, n_targets,
                                                np.int32)
        direct_cost = _whole("direct_cost", dijkstra._float_array(
            "direct_cost", direct_cost, k, minimum=0.0, strict=False))
    else:
        direct_source = np.zeros(0, dtype=np.int32)
        direct_target = np.zeros(0, dtype=np.int32)
        direct_cost = np.zeros(0, dtype=np.float64)
    return (source_indptr, source_node, source_cost, target_indptr, target_node, target_cost,
            direct_source, direct_target, direct_cost)


def _search_arrays(h: Hierarchy, source_indptr, source_node, source_cost, target_indptr,
                   target_node, target_cost, direct_source, direct_target,
                   direct_cost) -> tuple:
    """The arrays batched RPHAST reads, in the order its kernels take them.

    ``(up_indptr, up_indices, up_cost, tail_indptr, heads, tail_cost,
    relevant, source_indptr, source_rank, source_cost, entry_indptr,
    entry_target, entry_cost, direct_indptr, direct_target, direct_cost)``:
    downward edges by tail, target entries and direct pairs grouped by their
    node's rank and their source, from checked inputs (:func:`_pairs`).
    """
    n_sources = source_indptr.shape[0] - 1
    n_targets = target_indptr.shape[0] - 1
    tail_indptr, heads, tail_cost = _down_by_tail(h.down_indptr, h.down_indices, h.down_cost)
    entry_target = np.repeat(np.arange(n_targets, dtype=np.int32), np.diff(target_indptr))
    entry_indptr, entry_target, entry_cost = _by_key(h.rank[target_node], h.n, entry_target,
                                                     target_cost)
    relevant = _relevant_nodes(tail_indptr, heads, entry_indptr)
    direct_indptr, direct_target, direct_cost = _by_key(direct_source, n_sources,
                                                        direct_target, direct_cost)
    source_rank = np.ascontiguousarray(h.rank[source_node], dtype=np.int32)
    return (h.up_indptr, h.up_indices, h.up_cost, tail_indptr, heads, tail_cost, relevant,
            source_indptr, source_rank, source_cost, entry_indptr, entry_target, entry_cost,
            direct_indptr, direct_target, direct_cost)


def count_within(h: Hierarchy, source_indptr: np.ndarray, source_node: np.ndarray,
                 source_cost: np.ndarray, cutoffs: np.ndarray, target_indptr: np.ndarray,
                 target_node: np.ndarray, target_cost: np.ndarray,
                 direct_source: np.ndarray | None = None,
                 direct_target: np.ndarray | None = None,
                 direct_cost: np.ndarray | None = None) -> np.ndarray:
    """Number of sources within each cutoff of every target, by batched RPHAST.

    Source ``s`` starts at the nodes ``source_node[a]`` of its entries ``a``
    in ``source_indptr[s]:source_indptr[s + 1]``, each with starting cost
    ``source_cost[a]``; target ``t`` is reached from the nodes of its entries
    ``b`` at extra cost ``target_cost[b]``. The cost of ``(s, t)`` is the
    smallest ``(source_cost[a] + dist) + target_cost[b]`` over its entry
    pairs, ``dist`` the shortest-path cost between their nodes in the graph
    the hierarchy was built from, or the cost of a direct pair ``(s, t)`` if
    that is smaller. Each source counts at most once per target. All costs
    are whole numbers, so the counts equal those of :func:`.dijkstra.count_within`
    (with one entry per source and target) exactly.

    Method: PHAST (Delling, Goldberg, Nowatzyk, Werneck 2011, "PHAST:
    Hardware-accelerated shortest path trees") restricted to the targets as
    in RPHAST (Delling, Goldberg, Werneck 2011, "Faster batched shortest
    paths in road networks"). Nodes are *relevant* when a downward path leads
    from them to a target entry node; only they are swept. Sources go in
    batches of 16 consecutive ones (callers pass them in spatial order, so a
    batch shares most of its search): an upward search from the batch's
    entries, then a downward sweep in descending rank over the relevant
    nodes whose smallest value is within the last cutoff, carrying 16 values
    per node. Values beyond the last cutoff are pruned (costs are >= 0, so a
    path within the cutoff has every prefix within it), and every shortest
    path within it is an up-down path of the hierarchy, so the values that
    count are exact. Batches run in parallel (Numba threads), each thread
    with ``5 * n_nodes + 4 * n_targets * (n_cutoffs + 1)`` bytes plus about
    ``150`` bytes per node a batch touches.

    Parameters
    ----------
    h
        The hierarchy of the graph.
    source_indptr
        int, ``n_sources + 1``: entries of each source, CSR over sources.
    source_node
        int, ``n_source_entries``: start node (original numbering) of each entry.
    source_cost
        float, ``n_source_entries``: cost before the start node, whole numbers >= 0.
    cutoffs
        float, ``n_cutoffs``: strictly increasing cost limits (inclusive), >= 0,
        finite and below 2**52.
    target_indptr
        int, ``n_targets + 1``: entries of each target, CSR over targets.
    target_node
        int, ``n_target_entries``: node (original numbering) each entry is reached from.
    target_cost
        float, ``n_target_entries``: cost from the node to the target, whole numbers >= 0.
    direct_source, direct_target, direct_cost
        Optional (all or none), one value per direct pair: a source, a target
        and the pair's cost (whole number >= 0) without the graph, e.g. a
        facility within the cell itself.

    Returns
    -------
    numpy.ndarray
        int32, ``(n_targets, n_cutoffs)``: ``counts[t, j]`` is the number of
        sources whose cost to target ``t`` is <= ``cutoffs[j]``.

    Raises
    ------
    ValueError
        For malformed entries, negative, non-finite or fractional costs,
        cutoffs that are not strictly increasing, or direct pairs naming an
        unknown source or target.
    """
    (source_indptr, source_node, source_cost, target_indptr, target_node, target_cost,
     direct_source, direct_target, direct_cost) = _pairs(
        h, source_indptr, source_node, source_cost, target_indptr, target_node, target_cost,
        direct_source, direct_target, direct_cost)
    n_sources = source_indptr.shape[0] - 1
    n_targets = target_indptr.shape[0] - 1
    cutoffs = np.asarray(cutoffs)
    if cutoffs.ndim != 1:
        raise ValueError(f"cutoffs must be 1-D, got shape {cutoffs.shape}")
    cutoffs = dijkstra._float_array("cutoffs", cutoffs, cutoffs.shape[0], minimum=0.0,
                                    strict=False)
    if (np.diff(cutoffs) <= 0).any():
        raise ValueError(f"cutoffs must be strictly increasing, got {cutoffs.tolist()}")
    if cutoffs.size and cutoffs[-1] >= _CUTOFF_LIMIT:
        raise ValueError(f"cutoffs must be below 2**52, got {cutoffs[-1]}")
    if n_sources == 0 or n_targets == 0 or cutoffs.shape[0] == 0:
        return np.zeros((n_targets, cutoffs.shape[0]), dtype=np.int32)
    n_batches = -(-n_sources // _BATCH)
    n_chunks = max(1, min(n_batches, numba.get_num_threads()))
    search = _search_arrays(h, source_indptr, source_node, source_cost, target_indptr,
                            target_node, target_cost, direct_source, direct_target,
                            direct_cost)
    return _count_within_kernel(*search, cutoffs, n_targets, n_chunks)


def two_step_fca(h: Hierarchy, source_indptr: np.ndarray, source_node: np.ndarray,
                 source_cost: np.ndarray, target_indptr: np.ndarray, target_node: np.ndarray,
                 target_cost: np.ndarray, decay: np.ndarray, target_demand: np.ndarray,
                 source_capacity: np.ndarray, direct_source: np.ndarray | None = None,
                 direct_target: np.ndarray | None = None,
                 direct_cost: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """2SFCA ratios of sources (facilities) and targets (cells), by batched RPHAST.

    Sources, targets, direct pairs and the cost of a pair are those of
    :func:`count_within`. A pair whose cost ``total`` (whole milliseconds)
    is within the catchment, ``total <= len(decay) - 1``, has weight ``w =
    decay[total]``; pairs beyond it do not count. Step 1: ``D_s = sum_t
    target_demand[t] * w_st`` and ``R_s = source_capacity[s] / D_s``. Step
    2: ``A_t = sum_s R_s * w_st`` over the sources with ``D_s > 0``. The
    meaning is that of :func:`.catchment.two_step_fca` (one entry per source
    and target), which searches the graph itself instead.

    Method: the batches of :func:`count_within`, bounded by the catchment.
    ``R_s`` depends on source ``s``'s own catchment alone, so a batch does
    both steps at once over its pair costs (step 1, then step 2 over the same
    costs) and no pair is stored. Batches are dealt over a fixed number of
    chunks (16), each adding into its own float per target; chunks are added
    in chunk order and a source's ``D_s`` is summed in an order fixed by the
    inputs, so the result is bit for bit the same for any number of threads.
    Memory: that of :func:`count_within` per thread, plus ``8 * 16`` bytes
    per target.

    Parameters
    ----------
    h
        The hierarchy of the graph.
    source_indptr, source_node, source_cost
        Entries of the sources, as in :func:`count_within`.
    target_indptr, target_node, target_cost
        Entries of the targets, as in :func:`count_within`.
    decay
        float, ``cutoff + 1`` (finite, >= 0): the weight of every whole total
        from 0 to the catchment's cutoff (inclusive).
    target_demand
        float, ``n_targets``: demand of every target (finite, >= 0).
    source_capacity
        float, ``n_sources``: capacity of every source (finite, >= 0; NaN
        counts as 0).
    direct_source, direct_target, direct_cost
        Optional direct pairs, as in :func:`count_within`.

    Returns
    -------
    target_ratio
        float64, ``n_targets``: ``A_t``; 0 where no source is within the catchment.
    source_ratio
        float64, ``n_sources``: ``R_s``; NaN where ``D_s`` is 0.
    source_demand
        float64, ``n_sources``: ``D_s``.

    Raises
    ------
    ValueError
        For the malformed inputs :func:`count_within` rejects, an empty or
        non-finite decay table, and demand or capacity that is negative,
        infinite or of the wrong length.
    """
    (source_indptr, source_node, source_cost, target_indptr, target_node, target_cost,
     direct_source, direct_target, direct_cost) = _pairs(
        h, source_indptr, source_node, source_cost, target_indptr, target_node, target_cost,
        direct_source, direct_target, direct_cost)
    n_sources = source_indptr.shape[0] - 1
    n_targets = target_indptr.shape[0] - 1
    decay = np.asarray(decay)
    if decay.ndim != 1 or decay.shape[0] == 0:
        raise ValueError(f"decay must be a 1-D table with at least one weight, "
                         f"got shape {decay.shape}")
    decay = dijkstra._float_array("decay", decay, decay.shape[0], minimum=0.0, strict=False)
    if decay.shape[0] - 1 >= _CUTOFF_LIMIT:
        raise ValueError(f"decay must have fewer than 2**52 weights, got {decay.shape[0]}")
    target_demand = dijkstra._float_array("target_demand", target_demand, n_targets,
                                          minimum=0.0, strict=False)
    source_capacity = np.asarray(source_capacity, dtype=np.float64)
    source_capacity = dijkstra._float_array("source_capacity",
                                            np.where(np.isnan(source_capacity), 0.0,
                                                     source_capacity),
                                            n_sources, minimum=0.0, strict=False)
    if n_sources == 0 or n_targets == 0:
        return np.zeros(n_targets), np.full(n_sources, np.nan), np.zeros(n_sources)
    search = _search_arrays(h, source_indptr, source_node, source_cost, target_indptr,
                            target_node, target_cost, direct_source, direct_target,
                            direct_cost)
    return _two_step_kernel(*search, decay, target_demand, source_capacity)
