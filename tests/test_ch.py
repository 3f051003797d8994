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

from bereikbaarheid.kernels import catchment, ch, dijkstra


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
    # a(0) - b(1) - c(2), both ways. With two leaves on each of a and c,
    # contracting a or c would need shortcuts between their leaves, so b goes
    # first: the way a -> b -> c must survive as a shortcut a -> c with cost
    # 1 + 2 and length 10 + 20 (and back).
    edges = [(0, 1, 1, 10), (1, 2, 2, 20), (2, 1, 2, 20), (1, 0, 1, 10)]
    leaf = 3
    for hub in (0, 2):
        for _ in range(2):
            edges += [(hub, leaf, 1, 1), (leaf, hub, 1, 1)]
            leaf += 1
    h = ch.build_hierarchy(*csr(leaf, edges))
    assert h.rank[1] < min(h.rank[0], h.rank[2])
    found = arcs(h)
    assert found[(0, 2)] == (3.0, 30.0)
    assert found[(2, 0)] == (3.0, 30.0)
    np.testing.assert_array_equal(ch.one_to_all(h, 0)[:3], [0.0, 1.0, 3.0])
    np.testing.assert_array_equal(ch.one_to_all(h, 2)[:3], [3.0, 2.0, 0.0])


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
    # a -> b -> c costs 2 (length 2); the only other way, a -> d -> c, costs 3.
    a, b, c, d = 0, 1, 2, 3
    edges = [(a, b, 1, 1), (b, c, 1, 1), (a, d, 1, 1), (d, c, 2, 1)]
    # Two leaves on each of a, c and d, both ways: contracting a, c or d would
    # need shortcuts between their leaves, so b, needing one, goes first of
    # the four, while the witness a -> d -> c is still there to be found.
    leaf = 4
    for hub in (a, c, d):
        for _ in range(2):
            edges += [(hub, leaf, 1, 1), (leaf, hub, 1, 1)]
            leaf += 1
    indptr, indices, cost, length = csr(leaf, edges)
    h = ch.build_hierarchy(indptr, indices, cost, length)
    assert h.rank[b] < min(h.rank[a], h.rank[c], h.rank[d])
    # The witness is worse (3 > 2), so it does not stand in for a -> b -> c.
    assert arcs(h)[(a, c)] == (2.0, 2.0)
    for source in range(leaf):
        np.testing.assert_array_equal(ch.one_to_all(h, source),
                                      dijkstra.one_to_all(indptr, indices, cost, source))
    np.testing.assert_array_equal(ch.one_to_all(h, a)[:4], [0, 1, 2, 1])


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
    """A perturbed road grid as in scripts/benchmarks/benchmark_kernels.py, in whole ms and mm."""
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


# --------------------------------------------------------------------------
# count_within: bounded many-to-many counts
# --------------------------------------------------------------------------

def pair_costs(n, edges, sources, targets, direct):
    """Cost of every (source, target) pair, ``(n_sources, n_targets)``, by plain
    Dijkstra (heapq) on the graph plus one virtual node per source (edges to
    its entry nodes at their costs) and per target (edges from its entry
    nodes), and direct edges between the two; inf where unreachable."""
    import heapq

    n_sources, n_targets = len(sources), len(targets)
    out = [[] for _ in range(n + n_sources + n_targets)]
    for u, v, c, _ in edges:
        out[u].append((v, c))
    for s, entries in enumerate(sources):
        out[n + s] += [(node, c) for node, c in entries]
    for t, entries in enumerate(targets):
        for node, c in entries:
            out[node].append((n + n_sources + t, c))
    for s, t, c in direct:
        out[n + s].append((n + n_sources + t, c))
    costs = np.full((n_sources, n_targets), math.inf)
    for s in range(n_sources):
        dist = {n + s: 0}
        heap = [(0, n + s)]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist[u]:
                continue
            for v, c in out[u]:
                if d + c < dist.get(v, math.inf):
                    dist[v] = d + c
                    heapq.heappush(heap, (d + c, v))
        for t in range(n_targets):
            costs[s, t] = dist.get(n + n_sources + t, math.inf)
    return costs


def count_reference(n, edges, sources, targets, direct, cutoffs):
    """Counts from :func:`pair_costs`: sources within each cutoff of every target."""
    costs = pair_costs(n, edges, sources, targets, direct)
    return (costs[:, :, None] <= np.asarray(cutoffs, float)).sum(axis=0).astype(np.int32)


def flat(entries):
    """``(indptr, node, cost)`` of a list of ``[(node, cost), ...]`` per source or target."""
    indptr = np.cumsum([0] + [len(e) for e in entries])
    node = np.array([v for e in entries for v, _ in e], dtype=np.int64)
    cost = np.array([c for e in entries for _, c in e], dtype=np.float64)
    return indptr, node, cost


def direct_pairs(direct):
    """The keyword arguments of direct pairs ``[(source, target, cost), ...]``."""
    if not direct:
        return {}
    return {"direct_source": [d[0] for d in direct],
            "direct_target": [d[1] for d in direct],
            "direct_cost": np.array([d[2] for d in direct], dtype=float)}


def count_ch(h, sources, targets, direct, cutoffs):
    """``ch.count_within`` with sources and targets as lists of ``(node, cost)`` entries."""
    return ch.count_within(h, *flat(sources), np.asarray(cutoffs, float), *flat(targets),
                           **direct_pairs(direct))


def test_count_within_on_a_path_by_eye():
    # 0 - 1 - 2 - 3 - 4 - 5, both ways, every edge costs 1; cutoffs 2 and 4.
    edges = [(u, u + 1, 1, 1) for u in range(5)] + [(u + 1, u, 1, 1) for u in range(5)]
    h = ch.build_hierarchy(*csr(6, edges))
    sources = [[(0, 0), (5, 1)],   # s0: two entries, at 0 (free) and at 5 (cost 1)
               [(2, 1)],           # s1: at 2, cost 1
               []]                 # s2: no entry, reaches nothing
    targets = [[(1, 0)],           # t0: s0 via 0 costs 1, s1 costs 1 + 1 = 2
               [(3, 2), (4, 0)],   # t1: s0 via 5 -> 4 costs 1 + 1 = 2; s1 via 2 -> 4 costs 3
               []]                 # t2: only the direct pair (s1, t2) at 4
    # (s0, t0) at 3 is worse than the graph's 1 and changes nothing.
    direct = [(1, 2, 4), (0, 0, 3)]
    counts = count_ch(h, sources, targets, direct, [2, 4])
    assert counts.dtype == np.int32
    np.testing.assert_array_equal(counts, [[2, 2], [1, 2], [0, 1]])
    np.testing.assert_array_equal(counts, count_reference(6, edges, sources, targets,
                                                          direct, [2, 4]))


def test_count_within_empty_inputs_and_bad_arguments():
    indptr, indices, cost, length = csr(3, [(0, 1, 1, 1), (1, 2, 1, 1)])
    h = ch.build_hierarchy(indptr, indices, cost, length)
    one = np.array([0, 1])
    assert ch.count_within(h, [0], [], [], [5.0], one, [2], [0.0]).tolist() == [[0]]
    assert ch.count_within(h, one, [0], [0.0], [5.0], [0], [], []).shape == (0, 1)
    assert ch.count_within(h, one, [0], [0.0], [], one, [2], [0.0]).shape == (1, 0)
    good = {"source_indptr": one, "source_node": [0], "source_cost": [0.0], "cutoffs": [5.0],
            "target_indptr": one, "target_node": [2], "target_cost": [0.0]}
    assert ch.count_within(h, **good).tolist() == [[1]]
    for change, match in [({"source_cost": [0.5]}, "source_cost"),
                          ({"target_cost": [-1.0]}, "target_cost"),
                          ({"source_node": [3]}, "source_node"),
                          ({"target_indptr": [0, 2]}, "target_indptr"),
                          ({"cutoffs": [5.0, 5.0]}, "strictly increasing"),
                          ({"cutoffs": [math.inf]}, "cutoffs"),
                          ({"direct_source": [0]}, "all three"),
                          ({"direct_source": [1], "direct_target": [0], "direct_cost": [1.0]},
                           "direct_source"),
                          ({"direct_source": [0], "direct_target": [0], "direct_cost": [0.5]},
                           "direct_cost")]:
        with pytest.raises(ValueError, match=match):
            ch.count_within(h, **{**good, **change})


@st.composite
def count_cases(draw):
    """A small graph (as :func:`graphs`), sources and targets with 0..3
    entries, direct pairs and cutoffs."""
    n, edges, *_ = draw(graphs())
    entries = st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 4)), max_size=3)
    sources = draw(st.lists(entries, max_size=40))
    targets = draw(st.lists(entries, max_size=8))
    direct = []
    if sources and targets:
        direct = draw(st.lists(st.tuples(st.integers(0, len(sources) - 1),
                                         st.integers(0, len(targets) - 1),
                                         st.integers(0, 12)), max_size=6))
    cutoffs = sorted(draw(st.sets(st.integers(0, 14), min_size=1, max_size=4)))
    return n, edges, sources, targets, direct, cutoffs


@settings(max_examples=120, deadline=None)
@given(count_cases())
def test_count_within_agrees_with_a_plain_dijkstra(case):
    n, edges, sources, targets, direct, cutoffs = case
    h = ch.build_hierarchy(*csr(n, edges))
    np.testing.assert_array_equal(count_ch(h, sources, targets, direct, cutoffs),
                                  count_reference(n, edges, sources, targets, direct, cutoffs))


# Below a last cutoff of 2**24 the batches carry float32 values (exact for
# whole numbers up to 2**24); from it on, float64.
NARROW = 2 ** 24


def test_count_within_at_the_float32_limit_by_eye():
    # A chain 0 -> 1 -> 2 -> 3 -> 4 whose sums straddle 2**24.
    steps = [NARROW - 3, 2, 1, 1]          # sums: 2**24 - 3, - 1, 2**24, 2**24 + 1
    edges = [(u, u + 1, c, 1) for u, c in enumerate(steps)] + [(4, 5, 4, 1)]
    h = ch.build_hierarchy(*csr(6, edges))
    targets = [[(node, 0)] for node in range(1, 6)]
    # 2**24 - 1 is within; 2**24 and 2**24 + 1 are not, although 2**24 + 1
    # is 2**24 in float32.
    counts = count_ch(h, [[(0, 0)]], targets, [], [NARROW - 1])
    np.testing.assert_array_equal(counts[:, 0], [1, 1, 0, 0, 0])
    # From 2**24 on, float64: 2**24 + 5 (to 5) would round to 2**24 + 4 in
    # float32 and wrongly count within 2**24 + 4.
    counts = count_ch(h, [[(0, 0)]], targets, [], [NARROW + 1, NARROW + 4])
    np.testing.assert_array_equal(counts, [[1, 1], [1, 1], [1, 1], [1, 1], [0, 0]])
    for cutoffs in ([NARROW - 1], [NARROW + 1, NARROW + 4]):
        np.testing.assert_array_equal(
            count_ch(h, [[(0, 0)]], targets, [], cutoffs),
            count_reference(6, edges, [[(0, 0)]], targets, [], cutoffs))


@settings(max_examples=80, deadline=None)
@given(count_cases(), st.booleans())
def test_count_within_agrees_with_a_plain_dijkstra_around_2_to_the_24(case, wide):
    # Every cost times 2**20 + 1 (odd, so sums above 2**24 are not float32
    # numbers): cutoffs up to 14 of them stay below 2**24 (float32), or with
    # ``wide`` one beyond it is added (float64).
    n, edges, sources, targets, direct, cutoffs = case
    k = 2 ** 20 + 1
    edges = [(u, v, c * k, length) for u, v, c, length in edges]
    sources = [[(node, c * k) for node, c in e] for e in sources]
    targets = [[(node, c * k) for node, c in e] for e in targets]
    direct = [(a, b, c * k) for a, b, c in direct]
    cutoffs = [c * k for c in cutoffs] + ([NARROW + 5 * k] if wide else [])
    h = ch.build_hierarchy(*csr(n, edges))
    np.testing.assert_array_equal(count_ch(h, sources, targets, direct, cutoffs),
                                  count_reference(n, edges, sources, targets, direct, cutoffs))


@pytest.fixture(scope="module")
def grid_20k():
    indptr, indices, cost, length = road_grid(20_000, seed=3)
    return indptr, indices, cost, ch.build_hierarchy(indptr, indices, cost, length)


def test_count_within_on_a_road_grid_matches_the_dijkstra_kernel(grid_20k):
    indptr, indices, cost, h = grid_20k
    n = h.n
    rng = np.random.default_rng(6)
    sources = np.sort(rng.choice(n, 300, replace=False))
    source_cost = rng.integers(0, 120_000, 300).astype(float)
    target_node = np.sort(rng.choice(n, 5_000, replace=False))
    target_cost = rng.integers(0, 60_000, 5_000).astype(float)
    cutoffs = np.array([5, 10, 15, 30]) * 60_000.0
    # The reference takes targets grouped by node: one target per chosen node.
    by_node = np.zeros(n + 1, dtype=np.int64)
    by_node[target_node + 1] = 1
    expected = dijkstra.count_within(indptr, indices, cost, sources, source_cost, cutoffs,
                                     np.cumsum(by_node), target_cost)
    one = np.arange(301)
    got = ch.count_within(h, one, sources, source_cost, cutoffs, np.arange(5_001),
                          target_node, target_cost)
    assert expected[:, 0].sum() > 0 and (expected[:, -1] < 300).any()
    np.testing.assert_array_equal(got, expected)


def test_count_within_does_not_depend_on_the_thread_count(grid_20k):
    _, _, _, h = grid_20k
    rng = np.random.default_rng(7)
    sources = rng.choice(h.n, 100)
    targets = rng.choice(h.n, 2_000)
    args = (h, np.arange(101), sources, np.zeros(100), [600_000.0, 1_200_000.0],
            np.arange(2_001), targets, np.zeros(2_000))
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = ch.count_within(*args)
        numba.set_num_threads(max(2, threads) if numba.config.NUMBA_NUM_THREADS > 1 else 1)
        more = ch.count_within(*args)
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(one, more)


# --------------------------------------------------------------------------
# two_step_fca: two-step floating catchment over the same batches
# --------------------------------------------------------------------------

def fca_reference(costs, decay, demand, capacity):
    """2SFCA in plain numpy over a full ``(n_sources, n_targets)`` cost matrix:
    ``(target_ratio, source_ratio, source_demand)``."""
    decay = np.asarray(decay, float)
    within = costs <= decay.shape[0] - 1
    weight = np.where(within, decay[np.where(within, costs, 0).astype(int)], 0.0)
    source_demand = weight @ np.asarray(demand, float)
    capacity = np.nan_to_num(np.asarray(capacity, float), nan=0.0)
    reached = source_demand > 0
    source_ratio = np.full(costs.shape[0], math.nan)
    source_ratio[reached] = capacity[reached] / source_demand[reached]
    target_ratio = np.where(reached, source_ratio, 0.0) @ weight
    return target_ratio, source_ratio, source_demand


def fca_ch(h, sources, targets, direct, decay, demand, capacity):
    """``ch.two_step_fca`` with sources and targets as lists of ``(node, cost)`` entries."""
    return ch.two_step_fca(h, *flat(sources), *flat(targets), np.asarray(decay, float),
                           np.asarray(demand, float), np.asarray(capacity, float),
                           **direct_pairs(direct))


def test_two_step_fca_on_a_path_by_eye():
    # The path of test_count_within_on_a_path_by_eye: 0 - 1 - 2 - 3 - 4 - 5,
    # both ways, every edge costs 1. Full weight up to 2, half up to 4.
    edges = [(u, u + 1, 1, 1) for u in range(5)] + [(u + 1, u, 1, 1) for u in range(5)]
    h = ch.build_hierarchy(*csr(6, edges))
    decay = [1.0, 1.0, 1.0, 0.5, 0.5]
    facilities = [[(0, 0), (5, 1)],  # f0: at 0 (free) and at 5 (cost 1); capacity 6
                  [(2, 1)],          # f1: at 2, cost 1; capacity 14
                  []]                # f2: reaches nothing; capacity NaN
    cells = [[(1, 0)],               # c0, demand 10: f0 via 0 costs 1, f1 costs 2
             [(3, 2), (4, 0)],       # c1, demand 20: f0 via 5 -> 4 costs 2, f1 via 2 -> 4 costs 3
             []]                     # c2, demand 30: only the direct pair (f1, c2) at 4
    # The direct (f0, c0) at 3 is worse than the graph's 1 and changes nothing.
    direct = [(1, 2, 4), (0, 0, 3)]
    # Weights: f0 -> c0 1, f0 -> c1 1; f1 -> c0 1, f1 -> c1 0.5, f1 -> c2 0.5.
    # D_f0 = 10 + 20 = 30, R_f0 = 6 / 30 = 0.2;
    # D_f1 = 10 + 0.5 * 20 + 0.5 * 30 = 35, R_f1 = 14 / 35 = 0.4; D_f2 = 0, R_f2 NaN.
    # A_c0 = 0.2 + 0.4 = 0.6, A_c1 = 0.2 + 0.5 * 0.4 = 0.4, A_c2 = 0.5 * 0.4 = 0.2.
    target_ratio, source_ratio, source_demand = fca_ch(
        h, facilities, cells, direct, decay, [10, 20, 30], [6, 14, math.nan])
    for a in (target_ratio, source_ratio, source_demand):
        assert a.dtype == np.float64
    np.testing.assert_allclose(source_demand, [30, 35, 0], rtol=1e-12)
    np.testing.assert_allclose(source_ratio, [0.2, 0.4, math.nan], rtol=1e-12)
    np.testing.assert_allclose(target_ratio, [0.6, 0.4, 0.2], rtol=1e-12)
    # A shorter catchment (cutoff 2) drops the half-weight pairs entirely.
    target_ratio, source_ratio, source_demand = fca_ch(
        h, facilities, cells, direct, [1.0, 1.0, 1.0], [10, 20, 30], [6, 14, math.nan])
    np.testing.assert_allclose(source_demand, [30, 10, 0], rtol=1e-12)
    np.testing.assert_allclose(target_ratio, [0.2 + 1.4, 0.2, 0.0], rtol=1e-12)


def test_two_step_fca_empty_inputs_and_bad_arguments():
    indptr, indices, cost, length = csr(3, [(0, 1, 1, 1), (1, 2, 1, 1)])
    h = ch.build_hierarchy(indptr, indices, cost, length)
    one = np.array([0, 1])
    good = {"source_indptr": one, "source_node": [0], "source_cost": [0.0],
            "target_indptr": one, "target_node": [2], "target_cost": [0.0],
            "decay": np.ones(3), "target_demand": [4.0], "source_capacity": [2.0]}
    np.testing.assert_allclose(np.concatenate(ch.two_step_fca(h, **good)), [0.5, 0.5, 4.0])
    # Beyond the catchment (cost 2 > cutoff 1): nothing counts.
    far = ch.two_step_fca(h, **{**good, "decay": np.ones(2)})
    np.testing.assert_array_equal(np.concatenate(far), [0.0, math.nan, 0.0])
    no_sources = ch.two_step_fca(h, **{**good, "source_indptr": [0], "source_node": [],
                                       "source_cost": [], "source_capacity": []})
    assert [a.tolist() for a in no_sources] == [[0.0], [], []]
    no_targets = ch.two_step_fca(h, **{**good, "target_indptr": [0], "target_node": [],
                                       "target_cost": [], "target_demand": []})
    np.testing.assert_array_equal(np.concatenate(no_targets), [math.nan, 0.0])
    for change, match in [({"source_cost": [0.5]}, "source_cost"),
                          ({"target_node": [3]}, "target_node"),
                          ({"decay": []}, "decay"),
                          ({"decay": [1.0, math.nan]}, "decay"),
                          ({"decay": np.ones((2, 2))}, "decay"),
                          ({"target_demand": [-1.0]}, "target_demand"),
                          ({"target_demand": [1.0, 2.0]}, "target_demand"),
                          ({"source_capacity": [math.inf]}, "source_capacity"),
                          ({"source_capacity": []}, "source_capacity"),
                          ({"direct_source": [0], "direct_target": [0]}, "all three"),
                          ({"direct_source": [0], "direct_target": [1], "direct_cost": [1.0]},
                           "direct_target")]:
        with pytest.raises(ValueError, match=match):
            ch.two_step_fca(h, **{**good, **change})


@st.composite
def fca_cases(draw):
    """A case of :func:`count_cases` with a decay table (a step, linear or
    random but decreasing), demands (some 0) and capacities (some NaN)."""
    n, edges, sources, targets, direct, cutoffs = draw(count_cases())
    cutoff = cutoffs[-1]
    kind = draw(st.sampled_from(["step", "linear", "random"]))
    if kind == "step":
        decay = np.ones(cutoff + 1)
    elif kind == "linear":
        decay = 1.0 - np.arange(cutoff + 1) / (cutoff + 1)
    else:
        steps = draw(st.lists(st.floats(0.0, 1.0), min_size=cutoff + 1, max_size=cutoff + 1))
        decay = np.sort(np.array(steps))[::-1].copy()
    demand = draw(st.lists(st.sampled_from([0.0, 1.0, 2.5, 7.0, 1e-3, 1234.5]),
                           min_size=len(targets), max_size=len(targets)))
    capacity = draw(st.lists(st.sampled_from([math.nan, 0.0, 1.0, 3.0, 0.1]),
                             min_size=len(sources), max_size=len(sources)))
    return n, edges, sources, targets, direct, decay, demand, capacity


@settings(max_examples=60, deadline=None)
@given(fca_cases())
def test_two_step_fca_agrees_with_numpy_over_plain_dijkstra_costs(case):
    n, edges, sources, targets, direct, decay, demand, capacity = case
    h = ch.build_hierarchy(*csr(n, edges))
    got = fca_ch(h, sources, targets, direct, decay, demand, capacity)
    expected = fca_reference(pair_costs(n, edges, sources, targets, direct), decay, demand,
                             capacity)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


def fca_grid_inputs(n, seed):
    """Facilities (one node each, spatially sorted) and cells (several may
    share a node) on a road grid of ``n`` nodes, a 2-minute linear decay,
    demands and capacities: some cells beyond every catchment, some
    facilities reaching no cell."""
    rng = np.random.default_rng(seed)
    k, m = 200, 6_000
    cutoff_ms = 2 * 60_000
    source_node = np.sort(rng.choice(n, k, replace=False))
    source_cost = rng.integers(0, 30_000, k).astype(float)
    source_cost[::25] = cutoff_ms + 1
    target_node = np.sort(rng.choice(n, m))
    target_cost = rng.integers(0, 15_000, m).astype(float)
    decay = 1.0 - np.arange(cutoff_ms + 1) / (cutoff_ms + 1)
    demand = rng.integers(0, 200, m).astype(float)
    capacity = rng.uniform(0, 5, k)
    capacity[::17] = np.nan
    return source_node, source_cost, target_node, target_cost, decay, demand, capacity


def test_two_step_fca_on_a_road_grid_matches_the_catchment_kernel(grid_20k):
    indptr, indices, cost, h = grid_20k
    n = h.n
    source_node, source_cost, target_node, target_cost, decay, demand, capacity = \
        fca_grid_inputs(n, seed=8)
    k, m = source_node.shape[0], target_node.shape[0]
    # The catchment kernel takes its targets grouped by node (target_node is sorted).
    by_node = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(target_node, minlength=n), out=by_node[1:])
    expected = catchment.two_step_fca(indptr, indices, cost, source_node, source_cost, by_node,
                                      target_cost, decay, demand, capacity)
    got = ch.two_step_fca(h, np.arange(k + 1), source_node, source_cost, np.arange(m + 1),
                          target_node, target_cost, decay, demand, capacity)
    # Not a vacuous case: some cells and facilities are out of reach.
    target_ratio, source_ratio, source_demand = expected
    assert (target_ratio > 0).sum() > m // 2 and (target_ratio == 0).any()
    assert (source_demand == 0).any() and (source_ratio > 0).any()
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


def test_two_step_fca_is_bit_identical_for_any_thread_count(grid_20k):
    _, _, _, h = grid_20k
    source_node, source_cost, target_node, target_cost, decay, demand, capacity = \
        fca_grid_inputs(h.n, seed=9)
    k, m = source_node.shape[0], target_node.shape[0]
    args = (h, np.arange(k + 1), source_node, source_cost, np.arange(m + 1), target_node,
            target_cost, decay, demand, capacity)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = ch.two_step_fca(*args)
        numba.set_num_threads(max(2, threads) if numba.config.NUMBA_NUM_THREADS > 1 else 1)
        more = ch.two_step_fca(*args)
    finally:
        numba.set_num_threads(threads)
    for a, b in zip(one, more):
        assert a.tobytes() == b.tobytes()


# --------------------------------------------------------------------------
# Targets prepared once for several queries
# --------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(count_cases())
def test_prepared_targets_give_the_same_counts_and_catchments(case):
    n, edges, sources, targets, direct, cutoffs = case
    h = ch.build_hierarchy(*csr(n, edges))
    prepared = ch.prepare_targets(h, *flat(targets))
    got = ch.count_within(h, *flat(sources), np.asarray(cutoffs, float), targets=prepared,
                          **direct_pairs(direct))
    np.testing.assert_array_equal(got, count_ch(h, sources, targets, direct, cutoffs))
    decay = np.linspace(1.0, 0.5, max(cutoffs) + 1)
    demand = np.arange(1.0, len(targets) + 1)
    capacity = np.full(len(sources), 2.0)
    by_arrays = ch.two_step_fca(h, *flat(sources), *flat(targets), decay, demand, capacity,
                                **direct_pairs(direct))
    by_prepared = ch.two_step_fca(h, *flat(sources), decay=decay, target_demand=demand,
                                  source_capacity=capacity, targets=prepared,
                                  **direct_pairs(direct))
    for a, b in zip(by_arrays, by_prepared):
        np.testing.assert_array_equal(a, b)


def test_prepared_targets_are_checked():
    h = ch.build_hierarchy(*csr(3, [(0, 1, 1, 1), (1, 2, 1, 1)]))
    other = ch.build_hierarchy(*csr(4, [(0, 1, 1, 1)]))
    one = np.array([0, 1])
    prepared = ch.prepare_targets(h, one, [2], [0.0])
    assert ch.count_within(h, one, [0], [0.0], [5.0], targets=prepared).tolist() == [[1]]
    with pytest.raises(ValueError, match="not both"):
        ch.count_within(h, one, [0], [0.0], [5.0], one, [2], [0.0], targets=prepared)
    with pytest.raises(ValueError, match="4 nodes, not this one of 3"):
        ch.count_within(h, one, [0], [0.0], [5.0], targets=ch.prepare_targets(other, one, [3],
                                                                              [0.0]))
    with pytest.raises(ValueError, match="go together"):
        ch.count_within(h, one, [0], [0.0], [5.0], one, [2])
    with pytest.raises(ValueError, match="target_cost"):
        ch.prepare_targets(h, one, [2], [-1.0])
    with pytest.raises(ValueError, match="direct_target"):
        ch.count_within(h, one, [0], [0.0], [5.0], targets=prepared, direct_source=[0],
                        direct_target=[1], direct_cost=[1.0])
