"""Contraction hierarchy + PHAST: exact agreement with the reference Dijkstra kernels."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.csgraph
from hypothesis import given, settings
from hypothesis import strategies as st

from bereikbaarheid.kernels import ch, dijkstra


def csr(n, edges):
    """CSR ``(indptr, indices, cost, length)`` of ``[(tail, head, cost, length), ...]``."""
    edges = sorted(edges, key=lambda e: (e[0], e[1]))
    indptr = np.zeros(n + 1, dtype=np.int64)
    for tail, *_ in edges:
        indptr[tail + 1] += 1
    np.cumsum(indptr, out=indptr)
    indices = np.array([e[1] for e in edges], dtype=np.int32)
    cost = np.array([e[2] for e in edges], dtype=np.float64)
    length = np.array([e[3] for e in edges], dtype=np.float64)
    return indptr, indices, cost, length


def arcs(h):
    """The hierarchy's arcs as ``{(tail, head): (cost, length)}`` in node numbering."""
    found = {}
    for side in ("up", "down"):
        indptr = getattr(h, f"{side}_indptr")
        for r in range(h.n):
            for e in range(indptr[r], indptr[r + 1]):
                other = int(getattr(h, f"{side}_indices")[e])
                a, b = (r, other) if side == "up" else (other, r)
                found[(int(h.order[a]), int(h.order[b]))] = (
                    float(getattr(h, f"{side}_cost")[e]), float(getattr(h, f"{side}_length")[e]))
    return found


def test_path_with_middle_contracted_first_gets_a_shortcut():
    # a(0) - b(1) - c(2), both ways. Contracting an end needs no shortcut;
    # if b ranks below a and c, the way a -> b -> c must survive as a
    # shortcut a -> c with cost 1 + 2 and length 10 + 20.
    indptr, indices, cost, length = csr(3, [(0, 1, 1, 10), (1, 2, 2, 20),
                                            (2, 1, 2, 20), (1, 0, 1, 10)])
    h = ch.build_hierarchy(indptr, indices, cost, length)
    found = arcs(h)
    if h.rank[1] < min(h.rank[0], h.rank[2]):
        assert found[(0, 2)] == (3.0, 30.0)
        assert found[(2, 0)] == (3.0, 30.0)
    else:
        assert h.shortcuts == 0
    np.testing.assert_array_equal(ch.one_to_all(h, 0), [0.0, 1.0, 3.0])


def test_centre_of_a_star_is_contracted_last_without_shortcuts():
    # A star: every leaf costs nothing to contract, the centre would need
    # shortcuts between all leaves; so the leaves go first.
    edges = [(0, leaf, 1, 1) for leaf in range(1, 5)] + [(leaf, 0, 1, 1) for leaf in range(1, 5)]
    h = ch.build_hierarchy(*csr(5, edges))
    assert h.rank[0] == 4
    assert h.shortcuts == 0
    np.testing.assert_array_equal(h.order[h.rank], np.arange(5))


def test_witness_makes_the_shortcut_superfluous():
    # Square a(0) b(1) c(2) d(3), both ways; a-b-c costs 2, a-d-c costs 2
    # too but is shorter (length 3 against 4): whichever of b, d goes first,
    # the other is a witness at least as good, so no shortcut.
    edges = []
    for u, v, c, l in [(0, 1, 1, 2), (1, 2, 1, 2), (0, 3, 1, 1), (3, 2, 1, 2)]:
        edges += [(u, v, c, l), (v, u, c, l)]
    h = ch.build_hierarchy(*csr(4, edges))
    first = int(h.order[0])
    assert first in (1, 3) or h.shortcuts == 0
    if first == 1:
        # Contracting b: a-b-c (2, 4) has the witness a-d-c (2, 3).
        assert (0, 2) not in arcs(h) or arcs(h)[(0, 2)] != (2.0, 4.0)
    cost, label, length = ch.nearest_source(h, [0], [0.0], [7])
    np.testing.assert_array_equal(cost, [0, 1, 2, 1])
    np.testing.assert_array_equal(length, [0, 2, 3, 1])
    np.testing.assert_array_equal(label, [7, 7, 7, 7])


def test_a_worse_witness_does_not_remove_the_shortcut():
    # a -> b -> c costs 2; the only other way a -> d -> c costs 3.
    edges = [(0, 1, 1, 1), (1, 2, 1, 1), (0, 3, 1, 1), (3, 2, 2, 1)]
    h = ch.build_hierarchy(*csr(4, edges))
    found = arcs(h)
    if h.rank[1] < min(h.rank[0], h.rank[2]):
        assert found[(0, 2)] == (2.0, 2.0)
    np.testing.assert_array_equal(ch.one_to_all(h, 0), [0, 1, 2, 1])


def test_edge_cases_isolated_nodes_self_loops_parallel_edges_one_way():
    edges = [(0, 0, 0, 0), (0, 1, 5, 5), (0, 1, 3, 9), (0, 1, 3, 7), (1, 2, 0, 0),
             (3, 4, 1, 1)]
    indptr, indices, cost, length = csr(6, edges)
    h = ch.build_hierarchy(indptr, indices, cost, length)
    np.testing.assert_array_equal(ch.one_to_all(h, 0), [0, 3, 3, math.inf, math.inf, math.inf])
    np.testing.assert_array_equal(ch.one_to_all(h, 2), [math.inf, math.inf, 0, math.inf,
                                                        math.inf, math.inf])
    cost_v, label, path_length = ch.nearest_source(h, [0, 3], [0, 0], [1, 2])
    np.testing.assert_array_equal(cost_v, [0, 3, 3, 0, 1, math.inf])
    np.testing.assert_array_equal(label, [1, 1, 1, 2, 2, -1])
    np.testing.assert_array_equal(path_length, [0, 7, 7, 0, 1, math.nan])


def test_empty_graph_and_no_sources():
    h = ch.build_hierarchy(np.zeros(1, dtype=np.int64), [], [], [])
    assert h.n == 0
    h = ch.build_hierarchy(np.zeros(3, dtype=np.int64), np.zeros(0, np.int32), [], [])
    cost, label, length = ch.nearest_source(h, [], [], [])
    np.testing.assert_array_equal(length, [math.nan, math.nan])
    np.testing.assert_array_equal(cost, [math.inf, math.inf])
    np.testing.assert_array_equal(label, [-1, -1])


def test_arrays_round_trip():
    indptr, indices, cost, length = csr(3, [(0, 1, 1, 1), (1, 2, 1, 1), (2, 0, 4, 1)])
    h = ch.build_hierarchy(indptr, indices, cost, length)
    again = ch.Hierarchy.from_arrays(h.to_arrays())
    assert again.n == 3 and again.shortcuts == h.shortcuts
    np.testing.assert_array_equal(ch.one_to_all(again, 1), ch.one_to_all(h, 1))
    broken = h.to_arrays()
    broken["up_cost"] = broken["up_cost"][:-1]
    with pytest.raises(ValueError, match="up_cost"):
        ch.Hierarchy.from_arrays(broken)


def test_rejects_fractional_or_negative_weights_and_bad_sources():
    indptr, indices, cost, length = csr(2, [(0, 1, 1, 1)])
    with pytest.raises(ValueError, match="whole numbers"):
        ch.build_hierarchy(indptr, indices, [1.5], length)
    with pytest.raises(ValueError, match="length"):
        ch.build_hierarchy(indptr, indices, cost, [-1.0])
    with pytest.raises(ValueError, match="2\\*\\*53"):
        ch.build_hierarchy(indptr, indices, [2.0 ** 53], length)
    h = ch.build_hierarchy(indptr, indices, cost, length)
    with pytest.raises(ValueError, match="source"):
        ch.one_to_all(h, 2)
    with pytest.raises(ValueError, match="source_cost"):
        ch.nearest_source(h, [0], [0.5], [0])


@st.composite
def graphs(draw):
    """Small directed graphs with frequent ties: weights 0..3, parallel edges,
    self-loops, one-way edges, several components; plus sources."""
    n = draw(st.integers(1, 25))
    m = draw(st.integers(0, 4 * n))
    edges = []
    for _ in range(m):
        u = draw(st.integers(0, n - 1))
        # Mostly near neighbours, so components and long chains both occur.
        v = draw(st.one_of(st.integers(max(0, u - 3), min(n - 1, u + 3)), st.integers(0, n - 1)))
        c = draw(st.integers(0, 3))
        l = draw(st.integers(0, 3))
        edges.append((u, v, c, l))
        if draw(st.booleans()):
            edges.append((v, u, c, l))
    k = draw(st.integers(0, 6))
    sources = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))
    source_cost = draw(st.lists(st.integers(-2, 4), min_size=k, max_size=k))
    source_label = draw(st.lists(st.integers(0, 3), min_size=k, max_size=k))
    witness = draw(st.sampled_from([1, 2, 64]))
    return n, edges, sources, source_cost, source_label, witness


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_agrees_exactly_with_the_reference_kernels(case):
    n, edges, sources, source_cost, source_label, witness = case
    indptr, indices, cost, length = csr(n, edges)
    h = ch.build_hierarchy(indptr, indices, cost, length, witness_settled=witness)
    assert sorted(h.order.tolist()) == list(range(n))
    for source in range(n):
        np.testing.assert_array_equal(ch.one_to_all(h, source),
                                      dijkstra.one_to_all(indptr, indices, cost, source))
    expected = dijkstra.nearest_source(indptr, indices, cost, length, np.array(sources, int),
                                       np.array(source_cost, float), np.array(source_label, int))
    got = ch.nearest_source(h, np.array(sources, int), np.array(source_cost, float),
                            np.array(source_label, int))
    for a, b in zip(got, expected):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def road_grid(n_nodes, seed):
    """A perturbed road grid as in scripts/benchmark_kernels.py, in whole ms and mm."""
    rng = np.random.default_rng(seed)
    rows = int(math.sqrt(n_nodes))
    cols = math.ceil(n_nodes / rows)
    node = np.arange(rows * cols).reshape(rows, cols)
    tails, heads = [], []
    for a, b, keep in [(node[:, :-1], node[:, 1:], 0.97), (node[:-1, :], node[1:, :], 0.97),
                       (node[:-1, :-1], node[1:, 1:], 0.25)]:
        kept = rng.random(a.size) < keep
        tails.append(a.ravel()[kept])
        heads.append(b.ravel()[kept])
    a, b = np.concatenate(tails), np.concatenate(heads)
    length_mm = rng.integers(150_000, 250_000, a.size)
    speed_kmh = rng.choice([30, 50, 80], a.size)
    time_ms = np.round(length_mm / (speed_kmh / 3.6))
    tail, head = np.concatenate([a, b]), np.concatenate([b, a])
    order = np.lexsort((head, tail))
    n = rows * cols
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    return (indptr, head[order].astype(np.int32),
            np.concatenate([time_ms, time_ms])[order].astype(float),
            np.concatenate([length_mm, length_mm])[order].astype(float))


def test_road_grid_matches_scipy_and_the_reference():
    indptr, indices, cost, length = road_grid(20_000, seed=3)
    n = indptr.shape[0] - 1
    h = ch.build_hierarchy(indptr, indices, cost, length)
    assert h.shortcuts < 1.6 * indices.shape[0]
    matrix = scipy.sparse.csr_matrix((cost, indices, indptr), shape=(n, n))
    for source in (0, n // 2, n - 1):
        np.testing.assert_array_equal(
            ch.one_to_all(h, source), scipy.sparse.csgraph.dijkstra(matrix, indices=source))
    rng = np.random.default_rng(4)
    sources = rng.choice(n, 50)
    source_cost = rng.integers(0, 60_000, 50).astype(float)
    labels = rng.integers(0, 10, 50)
    expected = dijkstra.nearest_source(indptr, indices, cost, length, sources, source_cost,
                                       labels)
    for a, b in zip(ch.nearest_source(h, sources, source_cost, labels), expected):
        np.testing.assert_array_equal(a, b)


def test_the_hierarchy_does_not_depend_on_the_thread_count():
    indptr, indices, cost, length = road_grid(5_000, seed=5)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = ch.build_hierarchy(indptr, indices, cost, length).to_arrays()
        numba.set_num_threads(max(2, threads) if numba.config.NUMBA_NUM_THREADS > 1 else 1)
        more = ch.build_hierarchy(indptr, indices, cost, length).to_arrays()
    finally:
        numba.set_num_threads(threads)
    for name in one:
        if name != "build_s":
            np.testing.assert_array_equal(one[name], more[name], err_msg=name)
