"""Bounded many-to-many counts and the two-step floating catchment (RPHAST in batches)."""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .. import _heap, dijkstra
from ._hierarchy import Hierarchy, _whole

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

# Below this last cutoff (about 4.7 hours in ms) a batch carries its values
# as float32: every whole number up to 2**24 is exact in float32, every sum
# of whole costs within the cutoff has all its partial sums within it too,
# and a sum beyond 2**24 rounds to at least 2**24, never back within the
# cutoff. So the values that count are the float64 ones bit for bit, at
# half the memory traffic.
_NARROW_LIMIT = 2.0 ** 24

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
def _workspace(n, n_targets, like):
    """An empty workspace for :func:`_batch_totals`, as one tuple.

    ``(slot_of, mark, touched, val, keys, heap_nodes, target_slot,
    target_touched, target_val)``: the node slots of :func:`_batch_values`
    (``val`` of the dtype of ``like``, the edge costs) and the target slots
    of :func:`_batch_totals`, both grown on demand.
    """
    capacity = max(1, min(n, _BATCH_SLOTS))
    target_capacity = 1024
    return (np.full(n, -1, dtype=np.int32), np.zeros((n >> 5) + 1, dtype=np.int64),
            np.empty(capacity, dtype=np.int32), np.empty((capacity, _BATCH), dtype=like.dtype),
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
        val = np.empty((capacity, _BATCH), dtype=val.dtype)
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
    work = _workspace(relevant.shape[0], bucket.shape[0], up_cost)
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
    work = _workspace(relevant.shape[0], spread.shape[0], up_cost)
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


def _by_key(key: np.ndarray, n_keys: int, *values: np.ndarray) -> tuple[np.ndarray, ...]:
    """CSR over ``key`` (``indptr`` int64, ``n_keys + 1``) and ``values`` grouped by it."""
    order = np.argsort(key, kind="stable")
    indptr = np.zeros(n_keys + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=n_keys), out=indptr[1:])
    return (indptr,) + tuple(np.ascontiguousarray(v[order]) for v in values)


@dataclass(frozen=True)
class Targets:
    """The targets of :func:`count_within` and :func:`two_step_fca`, prepared
    once (:func:`prepare_targets`) for several queries on one hierarchy.

    ``n_nodes`` is the hierarchy's node count; the rest are the arrays the
    batches read: the downward edges by tail, which nodes lead down to a
    target entry, and the entries grouped by their node's rank.
    """

    n_nodes: int
    n_targets: int
    tail_indptr: np.ndarray
    heads: np.ndarray
    tail_cost: np.ndarray
    relevant: np.ndarray
    entry_indptr: np.ndarray
    entry_target: np.ndarray
    entry_cost: np.ndarray


def prepare_targets(h: Hierarchy, target_indptr: np.ndarray, target_node: np.ndarray,
                    target_cost: np.ndarray) -> Targets:
    """Targets for :func:`count_within` and :func:`two_step_fca` (their
    ``targets`` argument), checked and arranged once: several queries to the
    same targets (one per facility type) then skip that work. Arguments as
    the ``target_*`` ones of :func:`count_within`.
    """
    target_indptr, target_node, target_cost = _entries("target", target_indptr, target_node,
                                                       target_cost, h.n)
    n_targets = target_indptr.shape[0] - 1
    tail_indptr, heads, tail_cost = _down_by_tail(h.down_indptr, h.down_indices, h.down_cost)
    entry_target = np.repeat(np.arange(n_targets, dtype=np.int32), np.diff(target_indptr))
    entry_indptr, entry_target, entry_cost = _by_key(h.rank[target_node], h.n, entry_target,
                                                     target_cost)
    relevant = _relevant_nodes(tail_indptr, heads, entry_indptr)
    return Targets(h.n, n_targets, tail_indptr, heads, tail_cost, relevant, entry_indptr,
                   entry_target, entry_cost)


def _given_targets(h: Hierarchy, target_indptr, target_node, target_cost,
                   targets: Targets | None) -> Targets:
    """``targets``, or the ``target_*`` arrays prepared; exactly one of the two."""
    arrays = [a is not None for a in (target_indptr, target_node, target_cost)]
    if targets is not None:
        if any(arrays):
            raise ValueError("give targets or target_indptr, target_node and target_cost, "
                             "not both")
        if targets.n_nodes != h.n:
            raise ValueError(f"targets were prepared for a hierarchy of {targets.n_nodes} "
                             f"nodes, not this one of {h.n}")
        return targets
    if not all(arrays):
        raise ValueError("target_indptr, target_node and target_cost go together: give all "
                         "three, or targets")
    return prepare_targets(h, target_indptr, target_node, target_cost)


def _pairs(h: Hierarchy, source_indptr, source_node, source_cost, n_targets: int,
           direct_source, direct_target, direct_cost) -> tuple:
    """Checked sources and direct pairs of a many-to-many query (see :func:`count_within`).

    ``(source_indptr, source_node, source_cost, direct_source, direct_target,
    direct_cost)``, the direct pairs empty when none are given.
    """
    n = h.n
    source_indptr, source_node, source_cost = _entries("source", source_indptr, source_node,
                                                       source_cost, n)
    n_sources = source_indptr.shape[0] - 1
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
    return source_indptr, source_node, source_cost, direct_source, direct_target, direct_cost


def _search_arrays(h: Hierarchy, source_indptr, source_node, source_cost, direct_source,
                   direct_target, direct_cost, targets: Targets, last: float) -> tuple:
    """The arrays batched RPHAST reads, in the order its kernels take them.

    ``(up_indptr, up_indices, up_cost, tail_indptr, heads, tail_cost,
    relevant, source_indptr, source_rank, source_cost, entry_indptr,
    entry_target, entry_cost, direct_indptr, direct_target, direct_cost)``:
    the prepared ``targets``, and the direct pairs grouped by their source,
    from checked inputs (:func:`_pairs`). Below ``_NARROW_LIMIT`` for the
    last cutoff ``last``, the edge and source costs go as float32 (see
    ``_NARROW_LIMIT``).
    """
    n_sources = source_indptr.shape[0] - 1
    direct_indptr, direct_target, direct_cost = _by_key(direct_source, n_sources,
                                                        direct_target, direct_cost)
    source_rank = np.ascontiguousarray(h.rank[source_node], dtype=np.int32)
    up_cost, tail_cost = h.up_cost, targets.tail_cost
    if last < _NARROW_LIMIT:
        up_cost, tail_cost, source_cost = (a.astype(np.float32)
                                           for a in (up_cost, tail_cost, source_cost))
    return (h.up_indptr, h.up_indices, up_cost, targets.tail_indptr, targets.heads, tail_cost,
            targets.relevant, source_indptr, source_rank, source_cost, targets.entry_indptr,
            targets.entry_target, targets.entry_cost, direct_indptr, direct_target, direct_cost)


def count_within(h: Hierarchy, source_indptr: np.ndarray, source_node: np.ndarray,
                 source_cost: np.ndarray, cutoffs: np.ndarray,
                 target_indptr: np.ndarray | None = None,
                 target_node: np.ndarray | None = None,
                 target_cost: np.ndarray | None = None,
                 direct_source: np.ndarray | None = None,
                 direct_target: np.ndarray | None = None,
                 direct_cost: np.ndarray | None = None, *,
                 targets: Targets | None = None) -> np.ndarray:
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
    targets
        The targets prepared by :func:`prepare_targets`, instead of the
        three ``target_*`` arrays (for several queries to the same targets).

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
    targets = _given_targets(h, target_indptr, target_node, target_cost, targets)
    n_targets = targets.n_targets
    (source_indptr, source_node, source_cost, direct_source, direct_target,
     direct_cost) = _pairs(h, source_indptr, source_node, source_cost, n_targets,
                           direct_source, direct_target, direct_cost)
    n_sources = source_indptr.shape[0] - 1
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
    search = _search_arrays(h, source_indptr, source_node, source_cost, direct_source,
                            direct_target, direct_cost, targets, float(cutoffs[-1]))
    return _count_within_kernel(*search, cutoffs, n_targets, n_chunks)


def two_step_fca(h: Hierarchy, source_indptr: np.ndarray, source_node: np.ndarray,
                 source_cost: np.ndarray, target_indptr: np.ndarray | None = None,
                 target_node: np.ndarray | None = None,
                 target_cost: np.ndarray | None = None, decay: np.ndarray | None = None,
                 target_demand: np.ndarray | None = None,
                 source_capacity: np.ndarray | None = None,
                 direct_source: np.ndarray | None = None,
                 direct_target: np.ndarray | None = None,
                 direct_cost: np.ndarray | None = None, *, targets: Targets | None = None
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
    targets
        Prepared targets instead of the ``target_*`` arrays, as in
        :func:`count_within`.

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
    targets = _given_targets(h, target_indptr, target_node, target_cost, targets)
    n_targets = targets.n_targets
    (source_indptr, source_node, source_cost, direct_source, direct_target,
     direct_cost) = _pairs(h, source_indptr, source_node, source_cost, n_targets,
                           direct_source, direct_target, direct_cost)
    n_sources = source_indptr.shape[0] - 1
    if decay is None or target_demand is None or source_capacity is None:
        raise ValueError("decay, target_demand and source_capacity are needed")
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
    search = _search_arrays(h, source_indptr, source_node, source_cost, direct_source,
                            direct_target, direct_cost, targets, float(decay.shape[0] - 1))
    return _two_step_kernel(*search, decay, target_demand, source_capacity)
