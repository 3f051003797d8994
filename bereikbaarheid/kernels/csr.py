"""Compressed sparse row graphs: edges taken out and added in one pass."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _splice_kernel(indptr, indices, keep, weight_a, weight_b, new_tail, new_head, new_a,
                   new_b, n_total):
    n = indptr.shape[0] - 1
    out_indptr = np.zeros(n_total + 1, dtype=np.int64)
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            if keep[e]:
                out_indptr[u + 1] += 1
    for i in range(new_tail.shape[0]):
        out_indptr[new_tail[i] + 1] += 1
    for u in range(n_total):
        out_indptr[u + 1] += out_indptr[u]
    m = out_indptr[n_total]
    heads = np.empty(m, dtype=np.int32)
    out_a = np.empty(m, dtype=np.float64)
    out_b = np.empty(m, dtype=np.float64)
    fill = out_indptr[:-1].copy()
    # Kept edges first, in their order, then the new ones in theirs ...
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            if keep[e]:
                f = fill[u]
                heads[f] = indices[e]
                out_a[f] = weight_a[e]
                out_b[f] = weight_b[e]
                fill[u] = f + 1
    for i in range(new_tail.shape[0]):
        u = new_tail[i]
        f = fill[u]
        heads[f] = new_head[i]
        out_a[f] = new_a[i]
        out_b[f] = new_b[i]
        fill[u] = f + 1
    # ... then each row sorted by head, stably (rows are short: insertion sort).
    for u in range(n_total):
        lo = out_indptr[u]
        for i in range(lo + 1, out_indptr[u + 1]):
            v = heads[i]
            if heads[i - 1] <= v:
                continue
            a, b = out_a[i], out_b[i]
            j = i - 1
            while j >= lo and heads[j] > v:
                heads[j + 1] = heads[j]
                out_a[j + 1] = out_a[j]
                out_b[j + 1] = out_b[j]
                j -= 1
            heads[j + 1] = v
            out_a[j + 1] = a
            out_b[j + 1] = b
    return out_indptr, heads, out_a, out_b


def splice(indptr: np.ndarray, indices: np.ndarray, keep: np.ndarray, weight_a: np.ndarray,
           weight_b: np.ndarray, new_tail: np.ndarray, new_head: np.ndarray,
           new_a: np.ndarray, new_b: np.ndarray, n_total: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The graph with the edges ``keep`` False taken out and new edges added.

    The result is what a stable sort by (tail, head) of the kept edges (in
    CSR order) followed by the new edges (in the order given) yields: rows
    in tail order, each sorted by head, parallel edges in that order. It is
    built in one pass per row instead of a sort of every edge.

    Parameters
    ----------
    indptr, indices
        CSR of the graph (int64 ``n + 1``, int ``m``).
    keep
        bool, ``m``: the edges that stay.
    weight_a, weight_b
        float64, ``m``: two values per edge (a time and a length).
    new_tail, new_head, new_a, new_b
        The new edges: int tails and heads (< ``n_total``) and their two values.
    n_total
        Number of nodes of the result (>= ``n``); nodes from ``n`` on have
        only new edges.

    Returns
    -------
    tuple
        ``(indptr int64, indices int32, weight_a float64, weight_b float64)``.
    """
    n = indptr.shape[0] - 1
    if n_total < n:
        raise ValueError(f"n_total must be at least the {n} nodes of the graph, got {n_total}")
    m = indices.shape[0]
    for name, a in (("keep", keep), ("weight_a", weight_a), ("weight_b", weight_b)):
        if np.shape(a) != (m,):
            raise ValueError(f"{name} must have {m} values (one per edge), got shape "
                             f"{np.shape(a)}")
    k = np.shape(new_tail)[0]
    for name, a in (("new_head", new_head), ("new_a", new_a), ("new_b", new_b)):
        if np.shape(a) != (k,):
            raise ValueError(f"{name} must have {k} values (one per new edge), got shape "
                             f"{np.shape(a)}")
    new_tail = np.asarray(new_tail, np.int64)
    new_head = np.asarray(new_head, np.int64)
    for name, a in (("new_tail", new_tail), ("new_head", new_head)):
        if k and (a.min() < 0 or a.max() >= n_total):
            raise ValueError(f"{name} must lie in [0, {n_total}), got {a.min()} .. {a.max()}")
    return _splice_kernel(np.asarray(indptr, np.int64), np.asarray(indices, np.int32),
                          np.asarray(keep, np.bool_), np.asarray(weight_a, np.float64),
                          np.asarray(weight_b, np.float64), new_tail, new_head,
                          np.asarray(new_a, np.float64), np.asarray(new_b, np.float64),
                          int(n_total))


@numba.njit(cache=True)
def _segments_kernel(indptr, indices, linkable):
    n = indptr.shape[0] - 1
    m = indices.shape[0]
    # Every edge that is not a loop, bucketed by its lower end in edge order.
    start = np.zeros(n + 1, dtype=np.int64)
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if v != u:
                start[min(u, v) + 1] += 1
    for u in range(n):
        start[u + 1] += start[u]
    fill = start[:-1].copy()
    bucket_hi = np.empty(start[n], dtype=np.int64)
    bucket_edge = np.empty(start[n], dtype=np.int64)
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if v != u:
                lo = min(u, v)
                bucket_hi[fill[lo]] = max(u, v)
                bucket_edge[fill[lo]] = e
                fill[lo] += 1
    seg_of_edge = np.full(m, -1, dtype=np.int64)
    seg_lo = np.empty(m, dtype=np.int64)
    seg_hi = np.empty(m, dtype=np.int64)
    seg_fwd = np.empty(m, dtype=np.int64)
    seg_bwd = np.empty(m, dtype=np.int64)
    n_seg = 0
    for lo in range(n):
        a, b = start[lo], start[lo + 1]
        # Each bucket by upper end, stably (edge order kept among equals).
        for i in range(a + 1, b):
            hi, e = bucket_hi[i], bucket_edge[i]
            j = i - 1
            while j >= a and bucket_hi[j] > hi:
                bucket_hi[j + 1] = bucket_hi[j]
                bucket_edge[j + 1] = bucket_edge[j]
                j -= 1
            bucket_hi[j + 1] = hi
            bucket_edge[j + 1] = e
        i = a
        while i < b:
            k = i
            any_linkable = False
            while k < b and bucket_hi[k] == bucket_hi[i]:
                any_linkable = any_linkable or linkable[bucket_edge[k]]
                k += 1
            if any_linkable:
                seg_lo[n_seg] = lo
                seg_hi[n_seg] = bucket_hi[i]
                seg_fwd[n_seg] = -1
                seg_bwd[n_seg] = -1
                for q in range(i, k):
                    e = bucket_edge[q]
                    seg_of_edge[e] = n_seg
                    # The lowest edge index of each direction (edges are in order).
                    if indices[e] == bucket_hi[i]:
                        if seg_fwd[n_seg] < 0:
                            seg_fwd[n_seg] = e
                    elif seg_bwd[n_seg] < 0:
                        seg_bwd[n_seg] = e
                n_seg += 1
            i = k
    return (seg_lo[:n_seg].copy(), seg_hi[:n_seg].copy(), seg_of_edge,
            seg_fwd[:n_seg].copy(), seg_bwd[:n_seg].copy())


def segments(indptr: np.ndarray, indices: np.ndarray, linkable: np.ndarray
             ) -> tuple[np.ndarray, ...]:
    """The undirected segments of a graph that hold a ``linkable`` edge.

    A segment is a pair of distinct nodes ``lo < hi`` joined by an edge
    either way; it counts when at least one of those edges is linkable.
    Segments are numbered in (lo, hi) order.

    Returns
    -------
    tuple
        ``(seg_lo, seg_hi, seg_of_edge, seg_fwd, seg_bwd)``, all int64: the
        ends of every segment; the segment of every edge (-1 for loops and
        edges of no segment, linkable or not); and per segment the lowest
        edge index going ``lo -> hi`` and ``hi -> lo`` (-1 when none).
    """
    m = np.shape(indices)[0]
    if np.shape(linkable) != (m,):
        raise ValueError(f"linkable must have {m} values (one per edge), got shape "
                         f"{np.shape(linkable)}")
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(f"indices must be integers, got {indices.dtype}")
    return _segments_kernel(np.asarray(indptr, np.int64), indices,
                            np.asarray(linkable, np.bool_))
