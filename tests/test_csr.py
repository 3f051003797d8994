"""Specification of :func:`bereikbaarheid.kernels.csr.splice`: by hand, and
against a stable sort of every edge on random graphs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bereikbaarheid.kernels import csr


def _graph(n, edges):
    """CSR of ``(tail, head, a, b)`` edges, each row in the order given."""
    edges = sorted(edges, key=lambda e: e[0])
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount([e[0] for e in edges], minlength=n), out=indptr[1:])
    cols = list(zip(*edges)) if edges else [[], [], [], []]
    return (indptr, np.array(cols[1], np.int32), np.array(cols[2], np.float64),
            np.array(cols[3], np.float64))


def _reference(indptr, indices, keep, a, b, new, n_total):
    """The kept edges then the new ones, sorted by (tail, head) with a stable sort."""
    tails = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    u = np.concatenate([tails[keep], np.array([e[0] for e in new], np.int64)])
    v = np.concatenate([indices[keep], np.array([e[1] for e in new], np.int64)])
    ea = np.concatenate([a[keep], np.array([e[2] for e in new], np.float64)])
    eb = np.concatenate([b[keep], np.array([e[3] for e in new], np.float64)])
    order = np.lexsort((v, u))
    out_indptr = np.zeros(n_total + 1, np.int64)
    np.cumsum(np.bincount(u, minlength=n_total), out=out_indptr[1:])
    return out_indptr, v[order], ea[order], eb[order]


def _new(new):
    cols = list(zip(*new)) if new else [[], [], [], []]
    return (np.array(cols[0], np.int64), np.array(cols[1], np.int64),
            np.array(cols[2], np.float64), np.array(cols[3], np.float64))


def test_a_split_edge_by_hand():
    # 0 -> 1 -> 2 and back; the edge 0 -> 1 is split at node 3.
    indptr, indices, a, b = _graph(3, [(0, 1, 10, 100), (1, 0, 10, 100), (1, 2, 5, 50)])
    keep = np.array([False, True, True])
    out = csr.splice(indptr, indices, keep, a, b, *_new([(3, 1, 6, 60), (0, 3, 4, 40)]), 4)
    assert out[0].tolist() == [0, 1, 3, 3, 4]
    assert out[1].tolist() == [3, 0, 2, 1]
    assert out[2].tolist() == [4, 10, 5, 6]
    assert out[3].tolist() == [40, 100, 50, 60]
    assert out[1].dtype == np.int32 and out[0].dtype == np.int64


def test_rows_are_sorted_by_head_and_parallel_edges_keep_their_order():
    indptr, indices, a, b = _graph(2, [(0, 1, 1, 1), (0, 0, 2, 2)])
    out = csr.splice(indptr, indices, np.array([True, True]), a, b,
                     *_new([(0, 1, 3, 3), (0, 0, 4, 4), (0, 1, 5, 5)]), 2)
    assert out[1].tolist() == [0, 0, 1, 1, 1]
    assert out[2].tolist() == [2, 4, 1, 3, 5]


def test_nothing_kept_and_nothing_new():
    indptr, indices, a, b = _graph(2, [(0, 1, 1, 1)])
    out = csr.splice(indptr, indices, np.array([False]), a, b, *_new([]), 3)
    assert out[0].tolist() == [0, 0, 0, 0] and len(out[1]) == 0


@pytest.mark.parametrize("change, message", [
    ({"keep": np.array([True, True])}, "keep must have 1 values"),
    ({"n_total": 1}, "n_total must be at least the 2 nodes"),
    ({"new": ([0], [5], [1.0], [1.0])}, r"new_head must lie in \[0, 3\)"),
    ({"new": ([0], [1], [1.0, 2.0], [1.0])}, "new_a must have 1 values"),
])
def test_bad_input_is_refused(change, message):
    indptr, indices, a, b = _graph(2, [(0, 1, 1, 1)])
    keep = change.get("keep", np.array([True]))
    new = [np.asarray(c) for c in change.get("new", ([0], [2], [1.0], [1.0]))]
    with pytest.raises(ValueError, match=message):
        csr.splice(indptr, indices, keep, a, b, *new, change.get("n_total", 3))


@st.composite
def _cases(draw):
    n = draw(st.integers(1, 8))
    n_total = n + draw(st.integers(0, 4))
    edge = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.integers(0, 9),
                     st.integers(0, 9))
    edges = draw(st.lists(edge, max_size=25))
    keep = draw(st.lists(st.booleans(), min_size=len(edges), max_size=len(edges)))
    new_edge = st.tuples(st.integers(0, n_total - 1), st.integers(0, n_total - 1),
                         st.integers(0, 9), st.integers(0, 9))
    return n, n_total, edges, np.array(keep, bool), draw(st.lists(new_edge, max_size=15))


@settings(max_examples=300, deadline=None)
@given(_cases())
def test_splice_equals_a_stable_sort_of_every_edge(case):
    n, n_total, edges, keep, new = case
    # Rows in any head order, parallel edges and loops included.
    indptr, indices, a, b = _graph(n, edges)
    got = csr.splice(indptr, indices, keep, a, b, *_new(new), n_total)
    want = _reference(indptr, indices, keep, a, b, new, n_total)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def _reference_segments(indptr, indices, linkable):
    """Segments by sorting keys ``lo * n + hi``, as the linker did before the kernel."""
    n = len(indptr) - 1
    tails = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    heads = np.asarray(indices, np.int64)
    lo, hi = np.minimum(tails, heads), np.maximum(tails, heads)
    key = lo * n + hi
    keys = np.unique(key[linkable & (tails != heads)])
    seg_of_edge = np.full(len(key), -1, np.int64)
    for s, k in enumerate(keys):
        seg_of_edge[key == k] = s
    fwd = [int(np.flatnonzero((seg_of_edge == s) & (tails == k // n))[:1].sum()
               if ((seg_of_edge == s) & (tails == k // n)).any() else -1)
           for s, k in enumerate(keys)]
    bwd = [int(np.flatnonzero((seg_of_edge == s) & (tails == k % n))[:1].sum()
               if ((seg_of_edge == s) & (tails == k % n)).any() else -1)
           for s, k in enumerate(keys)]
    return (keys // n, keys % n, seg_of_edge, np.array(fwd, np.int64),
            np.array(bwd, np.int64))


def test_segments_by_hand():
    # 0 <-> 1 linkable both ways, 1 -> 2 not linkable with 2 -> 1 linkable,
    # 2 -> 3 not linkable (no segment), a loop at 3, a parallel 1 -> 0.
    indptr, indices, _, _ = _graph(4, [(0, 1, 1, 1), (1, 0, 1, 1), (1, 2, 1, 1), (1, 0, 2, 2),
                                       (2, 1, 1, 1), (2, 3, 1, 1), (3, 3, 1, 1)])
    linkable = np.array([True, True, False, True, True, False, True])
    seg_lo, seg_hi, seg_of_edge, fwd, bwd = csr.segments(indptr, indices, linkable)
    assert seg_lo.tolist() == [0, 1] and seg_hi.tolist() == [1, 2]
    assert seg_of_edge.tolist() == [0, 0, 1, 0, 1, -1, -1]
    assert fwd.tolist() == [0, 2] and bwd.tolist() == [1, 4]


@settings(max_examples=300, deadline=None)
@given(_cases())
def test_segments_equal_a_sort_of_the_keys(case):
    n, _, edges, keep, _ = case
    indptr, indices, _, _ = _graph(n, edges)
    got = csr.segments(indptr, indices, keep)
    want = _reference_segments(indptr, indices, keep)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
        assert g.dtype == np.int64
