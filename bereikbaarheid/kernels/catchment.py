"""Two-step floating catchment (2SFCA) over bounded searches, without storing pairs.

The textbook way (and :func:`bereikbaarheid.measures.capacity.two_step_fca`)
lists every (cell, facility) pair within the catchment and sums over it; at
national scale by car that is over a hundred million pairs, gigabytes of
memory. Here each facility's bounded search is read twice while it is at
hand: once to sum the weighted demand it reaches (step 1, ``D_f``), once to
spread its ratio ``R_f = capacity_f / D_f`` back over the same cells (step
2; ``R_f`` depends on ``f``'s own catchment only). Memory is one search
workspace per thread plus one float per cell per chunk, whatever the number
of pairs.

Weights come from a table indexed by whole milliseconds (``decay[t]`` for a
total time of ``t`` ms), so the distance-decay function is defined once, by
the caller. The sums run in a fixed order (sources in chunks of a fixed
number, chunk results added in chunk order), so the result does not depend
on the number of threads.
"""

from __future__ import annotations

import numba
import numpy as np

from . import dijkstra

# Sources are dealt over this many chunks whatever the thread count, so the
# floating-point sums, and the result, are the same with 1 or 16 threads.
_CHUNKS = 8


@numba.njit(cache=True)
def _chunk_two_step(indptr, indices, weight, source_nodes, source_cost, first, step, cutoff,
                    target_indptr, target_cost, decay, target_demand, source_capacity,
                    catchment, ratio, spread):
    """Both steps for sources ``first, first + step, ...``: one bounded search
    per source, read twice (sum the demand, then spread the ratio)."""
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    settled = np.empty(n, dtype=np.int32)
    keys = np.empty(4096, dtype=np.float64)
    nodes = np.empty(4096, dtype=np.int32)
    for s in range(first, source_nodes.shape[0], step):
        offset = source_cost[s]
        count, keys, nodes = dijkstra._settle_growing(indptr, indices, weight,
                                                      source_nodes[s], offset, cutoff, dist,
                                                      settled, keys, nodes)
        demand = 0.0
        for i in range(count):
            u = settled[i]
            at_node = offset + dist[u]
            for t in range(target_indptr[u], target_indptr[u + 1]):
                total = at_node + target_cost[t]
                if total <= cutoff:
                    demand += target_demand[t] * decay[np.int64(total)]
        catchment[s] = demand
        # R_s depends on this source's catchment alone, so step 2 can follow
        # at once, over the same search (no pair is ever stored).
        if demand > 0:
            ratio[s] = source_capacity[s] / demand
            for i in range(count):
                u = settled[i]
                at_node = offset + dist[u]
                for t in range(target_indptr[u], target_indptr[u + 1]):
                    total = at_node + target_cost[t]
                    if total <= cutoff:
                        spread[t] += ratio[s] * decay[np.int64(total)]
        for i in range(count):
            dist[settled[i]] = np.inf


@numba.njit(cache=True, parallel=True)
def _two_step_kernel(indptr, indices, weight, source_nodes, source_cost, cutoff,
                     target_indptr, target_cost, decay, target_demand, source_capacity):
    k = source_nodes.shape[0]
    catchment = np.zeros(k)
    ratio = np.full(k, np.nan)
    spread = np.zeros((_CHUNKS, target_cost.shape[0]))
    for c in numba.prange(_CHUNKS):
        _chunk_two_step(indptr, indices, weight, source_nodes, source_cost, c, _CHUNKS,
                        cutoff, target_indptr, target_cost, decay, target_demand,
                        source_capacity, catchment, ratio, spread[c])
    target_ratio = spread[0].copy()
    for c in range(1, _CHUNKS):
        target_ratio += spread[c]
    return target_ratio, ratio, catchment


def two_step_fca(
    indptr: np.ndarray,
    indices: np.ndarray,
    weight: np.ndarray,
    source_nodes: np.ndarray,
    source_cost: np.ndarray,
    target_indptr: np.ndarray,
    target_cost: np.ndarray,
    decay: np.ndarray,
    target_demand: np.ndarray,
    source_capacity: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """2SFCA ratios of sources (facilities) and targets (cells) within a catchment.

    Source ``s`` reaches target ``t`` at ``total = source_cost[s] + dist +
    target_cost[t]`` (``dist``: shortest path cost from ``source_nodes[s]``
    to the target's node), with weight ``decay[total]`` when ``total <=
    len(decay) - 1``. Step 1: ``D_s = sum_t target_demand[t] * w_st`` and
    ``R_s = source_capacity[s] / D_s``. Step 2: ``A_t = sum_s R_s * w_st``.

    Parameters
    ----------
    indptr, indices, weight
        The graph, as in :func:`.dijkstra.nearest_source`; weights whole
        numbers (milliseconds), as are ``source_cost`` and ``target_cost``.
    source_nodes, source_cost
        int and float, ``n_sources``.
    target_indptr, target_cost
        Targets per node in CSR form and their cost from the node, as in
        :func:`.dijkstra.count_within`.
    decay
        float, ``cutoff + 1``: the weight of every whole total from 0 to the
        catchment's cutoff (inclusive).
    target_demand
        float, ``n_targets``: demand of every target (>= 0).
    source_capacity
        float, ``n_sources``: capacity of every source (NaN counts as 0 in
        step 2).

    Returns
    -------
    target_ratio
        ``A_t`` per target; 0 where no source is within the catchment.
    source_ratio
        ``R_s`` per source; NaN where ``D_s`` is 0.
    source_demand
        ``D_s`` per source.
    """
    indptr, indices, n = dijkstra._csr(indptr, indices)
    weight = dijkstra._float_array("weight", weight, indices.shape[0], minimum=0.0,
                                   strict=False)
    source_nodes = dijkstra._integer_array("source_nodes", source_nodes, 0, n, np.int32)
    k = source_nodes.shape[0]
    source_cost = dijkstra._float_array("source_cost", source_cost, k, minimum=0.0,
                                        strict=False)
    target_indptr = np.ascontiguousarray(target_indptr, dtype=np.int64)
    if target_indptr.shape != (n + 1,) or target_indptr[0] != 0 or (
            np.diff(target_indptr) < 0).any():
        raise ValueError(f"target_indptr must be {n + 1} non-decreasing values from 0")
    n_targets = int(target_indptr[-1])
    target_cost = dijkstra._float_array("target_cost", target_cost, n_targets, minimum=0.0,
                                        strict=False)
    decay = np.ascontiguousarray(decay, dtype=np.float64)
    if decay.ndim != 1 or decay.shape[0] == 0:
        raise ValueError("decay must be a 1-D table with at least one weight")
    target_demand = dijkstra._float_array("target_demand", target_demand, n_targets,
                                          minimum=0.0, strict=False)
    source_capacity = np.nan_to_num(np.ascontiguousarray(source_capacity, dtype=np.float64),
                                    nan=0.0)
    if source_capacity.shape != (k,):
        raise ValueError(f"source_capacity must have {k} values, got {source_capacity.shape}")
    for name, a in (("weight", weight), ("source_cost", source_cost),
                    ("target_cost", target_cost)):
        if a.size and not (np.floor(a) == a).all():
            raise ValueError(f"{name} must be whole numbers (milliseconds): the decay "
                             "table is indexed by the total")
    cutoff = float(decay.shape[0] - 1)
    return _two_step_kernel(indptr, indices, weight, source_nodes, source_cost, cutoff,
                            target_indptr, target_cost, decay, target_demand, source_capacity)
