"""Building a hierarchy: contraction in parallel rounds with witness searches."""

from __future__ import annotations

import time

import numba
import numpy as np

from .. import dijkstra
from ._hierarchy import _EXACT_LIMIT, _INT_MAX, Hierarchy, _whole

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
