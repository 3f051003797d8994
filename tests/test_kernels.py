"""Specification of the Dijkstra kernels: hand-made graphs and reference checks."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.csgraph
from hypothesis import given, settings
from hypothesis import strategies as st

from bereikbaarheid.kernels import dijkstra

INF = math.inf


def csr(n, edges):
    """CSR arrays from ``(tail, head, weight, length)`` tuples (edge order kept per row)."""
    edges = sorted(edges, key=lambda e: e[0])  # stable: keeps parallel-edge order
    indptr = np.zeros(n + 1, dtype=np.int64)
    for u, *_ in edges:
        indptr[u + 1] += 1
    indptr = np.cumsum(indptr)
    indices = np.array([e[1] for e in edges], dtype=np.int32)
    weight = np.array([e[2] for e in edges], dtype=np.float64)
    length = np.array([e[3] for e in edges], dtype=np.float64)
    return indptr, indices, weight, length


def two_way(edges):
    return edges + [(v, u, w, l) for u, v, w, l in edges]


# --------------------------------------------------------------------------
# Hand-made graphs
# --------------------------------------------------------------------------

def test_line_accumulates_cost_and_length():
    # 0 -> 1 -> 2 -> 3, node 4 has no edges.
    g = csr(5, [(0, 1, 1.0, 10.0), (1, 2, 2.0, 20.0), (2, 3, 3.0, 30.0)])
    cost, label, length = dijkstra.nearest_source(*g, [0], [0.0], [7])
    np.testing.assert_array_equal(cost, [0, 1, 3, 6, INF])
    np.testing.assert_array_equal(label, [7, 7, 7, 7, -1])
    np.testing.assert_array_equal(length, [0, 10, 30, 60, np.nan])
    assert label.dtype == np.int64
    np.testing.assert_array_equal(dijkstra.one_to_all(*g[:3], 0), [0, 1, 3, 6, INF])
    np.testing.assert_array_equal(dijkstra.one_to_all(*g[:3], 2), [INF, INF, 0, 3, INF])


# Diamond: 0-1 (1 s), 0-2 (2 s), 2-3 (1 s) both ways; 1 -> 3 (1 s) one way.
DIAMOND = csr(4, two_way([(0, 1, 1.0, 100.0), (0, 2, 2.0, 50.0), (2, 3, 1.0, 50.0)])
              + [(1, 3, 1.0, 100.0)])


def test_diamond_respects_one_way_edge():
    indptr, indices, weight, _ = DIAMOND
    # From 0 the one-way edge is the short cut to 3 ...
    np.testing.assert_array_equal(dijkstra.one_to_all(indptr, indices, weight, 0), [0, 1, 2, 2])
    # ... but from 3 it cannot be used backwards: 3 -> 2 -> 0 -> 1.
    np.testing.assert_array_equal(dijkstra.one_to_all(indptr, indices, weight, 3), [3, 4, 1, 0])


def test_reversed_graph_gives_cost_to_the_source():
    rindptr, rindices, rweight, rlength = dijkstra.reverse_csr(*DIAMOND)
    cost, _, length = dijkstra.nearest_source(rindptr, rindices, rweight, rlength,
                                              [3], [0.0], [0])
    # From every node to 3: 1 -> 3 directly, 0 -> 1 -> 3, 2 -> 3.
    np.testing.assert_array_equal(cost, [2, 1, 1, 0])
    np.testing.assert_array_equal(length, [200, 100, 50, 0])


def test_reverse_csr_sorts_rows_by_head_and_permutes_edge_arrays():
    indptr = [0, 2, 3, 4]
    indices = [2, 1, 2, 0]          # 0->2, 0->1, 1->2, 2->0
    edge_id = np.array([10, 11, 12, 13])
    rindptr, rindices, rid = dijkstra.reverse_csr(indptr, indices, edge_id)
    np.testing.assert_array_equal(rindptr, [0, 1, 2, 4])
    np.testing.assert_array_equal(rindices, [2, 0, 0, 1])  # 0<-2, 1<-0, 2<-0, 2<-1
    np.testing.assert_array_equal(rid, [13, 11, 10, 12])
    assert rindptr.dtype == np.int64 and rindices.dtype == np.int32


def test_tie_between_sources_goes_to_the_smallest_label():
    # 0 - 1 - 2 (both ways, 1 s); sources at both ends reach 1 at cost 1.
    g = csr(3, two_way([(0, 1, 1.0, 5.0), (1, 2, 1.0, 7.0)]))
    cost, label, length = dijkstra.nearest_source(*g, [0, 2], [0.0, 0.0], [5, 3])
    np.testing.assert_array_equal(cost, [0, 1, 0])
    np.testing.assert_array_equal(label, [5, 3, 3])
    np.testing.assert_array_equal(length, [0, 7, 0])


def test_tie_between_paths_takes_the_shortest_length():
    # Two 2-second routes from 0 to 3: via 1 (300 m) and via 2 (120 m).
    g = csr(4, [(0, 1, 1.0, 100.0), (1, 3, 1.0, 200.0), (0, 2, 1.5, 60.0),
                (2, 3, 0.5, 60.0)])
    cost, _, length = dijkstra.nearest_source(*g, [0], [0.0], [0])
    assert cost[3] == 2.0 and length[3] == 120.0


def test_one_facility_on_several_nodes_and_shared_nodes():
    g = csr(4, two_way([(0, 1, 1.0, 1.0), (1, 2, 1.0, 1.0), (2, 3, 1.0, 1.0)]))
    # Facility 9 linked to nodes 0 and 3; facility 4 also on node 3 but 0.5 s further.
    cost, label, _ = dijkstra.nearest_source(*g, [0, 3, 3], [0.0, 0.0, 0.5], [9, 9, 4])
    np.testing.assert_array_equal(cost, [0, 1, 1, 0])
    np.testing.assert_array_equal(label, [9, 9, 9, 9])


def test_source_cost_offsets_can_lose_to_a_farther_source():
    g = csr(3, two_way([(0, 1, 1.0, 1.0), (1, 2, 1.0, 1.0)]))
    # The source on node 0 starts with 10 s (e.g. a long link); node 0 is
    # reached sooner from the source on node 2.
    cost, label, length = dijkstra.nearest_source(*g, [0, 2], [10.0, 0.0], [0, 1])
    np.testing.assert_array_equal(cost, [2, 1, 0])
    np.testing.assert_array_equal(label, [1, 1, 1])
    np.testing.assert_array_equal(length, [2, 1, 0])


def test_unreachable_nodes_are_inf_minus_one_nan():
    g = csr(3, [(1, 0, 1.0, 1.0)])
    cost, label, length = dijkstra.nearest_source(*g, [0], [0.0], [0])
    np.testing.assert_array_equal(cost, [0, INF, INF])
    np.testing.assert_array_equal(label, [0, -1, -1])
    assert length[0] == 0 and np.isnan(length[1:]).all()


def test_no_sources_reach_nothing():
    g = csr(2, [(0, 1, 1.0, 1.0)])
    cost, label, length = dijkstra.nearest_source(*g, [], [], [])
    assert np.isinf(cost).all() and (label == -1).all() and np.isnan(length).all()


def test_cutoff_includes_exactly_equal_costs():
    # 0 -> 1 -> 2 -> 3 with 1 s each; nodes 1 and 3 are targets 0 and 1.
    indptr, indices, weight, _ = csr(4, [(0, 1, 1.0, 0.0), (1, 2, 1.0, 0.0), (2, 3, 1.0, 0.0)])
    target_of_node = np.array([-1, 0, -1, 1])
    src, tgt, cost = dijkstra.sources_within_cutoff(indptr, indices, weight, [0, 2], 3.0,
                                                    target_of_node)
    np.testing.assert_array_equal(src, [0, 0, 1])
    np.testing.assert_array_equal(tgt, [0, 1, 1])
    np.testing.assert_array_equal(cost, [1, 3, 1])
    assert src.dtype == np.int32 and tgt.dtype == np.int32 and cost.dtype == np.float64
    src, tgt, cost = dijkstra.sources_within_cutoff(indptr, indices, weight, [0, 2],
                                                    np.nextafter(3.0, 0), target_of_node)
    np.testing.assert_array_equal(src, [0, 1])
    np.testing.assert_array_equal(tgt, [0, 1])


def test_cutoff_target_on_several_nodes_counts_once_at_its_cheapest():
    indptr, indices, weight, _ = csr(3, [(0, 1, 1.0, 0.0), (1, 2, 1.0, 0.0)])
    src, tgt, cost = dijkstra.sources_within_cutoff(indptr, indices, weight, [0, 0], 10.0,
                                                    [5, 7, 5])
    np.testing.assert_array_equal(src, [0, 0, 1, 1])
    np.testing.assert_array_equal(tgt, [5, 7, 5, 7])
    np.testing.assert_array_equal(cost, [0, 1, 0, 1])


def test_cutoff_search_with_a_frontier_larger_than_the_starting_heap():
    # A star: node 0 reaches 10 000 leaves at once, more than the heap first
    # holds, so the search is rerun with a larger heap.
    leaves = 10_000
    indptr = np.array([0, leaves] + [leaves] * leaves)
    indices = np.arange(1, leaves + 1)
    weight = 1.0 + np.arange(leaves)[::-1] / leaves   # far leaves first in the row
    src, tgt, cost = dijkstra.sources_within_cutoff(indptr, indices, weight, [0], 2.0,
                                                    np.arange(leaves + 1))
    np.testing.assert_array_equal(tgt, np.arange(leaves + 1))
    np.testing.assert_array_equal(cost, np.concatenate([[0.0], weight]))


def test_cutoff_without_sources_is_empty():
    indptr, indices, weight, _ = csr(2, [(0, 1, 1.0, 0.0)])
    src, tgt, cost = dijkstra.sources_within_cutoff(indptr, indices, weight, [], 5.0, [0, 1])
    assert src.shape == tgt.shape == cost.shape == (0,)


# Line 0 -> 1 -> 2 -> 3, 1 s per edge, for the counting kernel.
LINE = csr(4, [(0, 1, 1.0, 0.0), (1, 2, 1.0, 0.0), (2, 3, 1.0, 0.0)])[:3]


def test_count_within_includes_exactly_equal_costs():
    # One source on node 0 that starts 0.5 s away. Targets: 0 on node 0
    # (+0 s), 1 on node 1 (+1 s), 2 and 3 on node 2 (+0.5 s, +0.75 s).
    target_indptr = [0, 1, 2, 4, 4]
    target_cost = [0.0, 1.0, 0.5, 0.75]
    counts = dijkstra.count_within(*LINE, [0], [0.5], [2.5, 3.0], target_indptr, target_cost)
    # Totals: 0.5, 0.5 + 1 + 1 = 2.5, 0.5 + 2 + 0.5 = 3.0, 0.5 + 2 + 0.75 = 3.25.
    np.testing.assert_array_equal(counts, [[1, 1], [1, 1], [0, 1], [0, 0]])
    assert counts.dtype == np.int32
    just_below = [np.nextafter(2.5, 0), np.nextafter(3.0, 0)]
    counts = dijkstra.count_within(*LINE, [0], [0.5], just_below, target_indptr, target_cost)
    np.testing.assert_array_equal(counts, [[1, 1], [0, 1], [0, 0], [0, 0]])


def test_count_within_unreachable_targets_count_zero():
    # From node 1 the one-way line cannot go back to 0.
    counts = dijkstra.count_within(*LINE, [1], [0.0], [np.inf], [0, 1, 2, 3, 4],
                                   [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(counts, [[0], [1], [1], [1]])


def test_count_within_counts_every_listed_source():
    # Sources 0 and 1 are the same facility listed twice; source 2 on node 2
    # and source 3, whose own cost already exceeds the cutoff, on node 3.
    counts = dijkstra.count_within(*LINE, [0, 0, 2, 3], [0.0, 0.0, 0.0, 5.0], [1.0, 4.0],
                                   [0, 0, 1, 2, 3], [0.0, 0.0, 0.0])
    # Targets on nodes 1, 2, 3.
    np.testing.assert_array_equal(counts, [[2, 2], [1, 3], [1, 3]])


def test_count_within_without_sources_or_targets():
    counts = dijkstra.count_within(*LINE, [], [], [1.0, 2.0], [0, 1, 1, 1, 2], [0.0, 0.0])
    np.testing.assert_array_equal(counts, np.zeros((2, 2)))
    counts = dijkstra.count_within(*LINE, [0], [0.0], [1.0], [0, 0, 0, 0, 0], [])
    assert counts.shape == (0, 1)


def test_count_within_search_with_a_frontier_larger_than_the_starting_heap():
    leaves = 10_000
    indptr = np.array([0, leaves] + [leaves] * leaves)
    indices = np.arange(1, leaves + 1)
    weight = 1.0 + np.arange(leaves)[::-1] / leaves
    counts = dijkstra.count_within(indptr, indices, weight, [0, 0], [0.0, 0.5], [1.5, 2.5],
                                   np.arange(leaves + 2), np.zeros(leaves + 1))
    # Leaves cost 1 to 2 s (+0.5 s from the second source): all within 2.5 s.
    within_1_5 = (weight <= 1.5).astype(int) + (0.5 + weight <= 1.5)
    np.testing.assert_array_equal(counts[:, 0], np.concatenate([[2], within_1_5]))
    np.testing.assert_array_equal(counts[:, 1], 2)


@pytest.mark.parametrize("change, message", [
    ({"weight": [-1.0]}, "weight must be >= 0"),
    ({"weight": [np.nan]}, "weight must be finite"),
    ({"length": [-1.0]}, "length must be >= 0"),
    ({"indices": [2]}, "indices must lie in"),
    ({"indptr": [0, 0, 0]}, "indptr must start at 0 and end"),
    ({"source_nodes": [0.0]}, "source_nodes must have an integer dtype"),
    ({"source_nodes": [5]}, "source_nodes must lie in"),
    ({"source_label": [-2]}, "source_label must lie in"),
    ({"source_cost": [np.inf]}, "source_cost must be finite"),
    ({"source_cost": [0.0, 1.0]}, "source_cost must be 1-D with 1 values"),
])
def test_nearest_source_rejects_bad_input(change, message):
    args = {"indptr": [0, 1, 1], "indices": [1], "weight": [1.0], "length": [1.0],
            "source_nodes": [0], "source_cost": [0.0], "source_label": [0]}
    args.update(change)
    with pytest.raises(ValueError, match=message):
        dijkstra.nearest_source(**args)


@pytest.mark.parametrize("change, message", [
    ({"cutoff": np.nan}, "cutoff must be >= 0"),
    ({"cutoff": -1.0}, "cutoff must be >= 0"),
    ({"target_of_node": [0]}, "target_of_node must be 1-D with 2 values"),
    ({"target_of_node": [0, -2]}, "target_of_node must lie in"),
])
def test_sources_within_cutoff_rejects_bad_input(change, message):
    args = {"indptr": [0, 1, 1], "indices": [1], "weight": [1.0], "source_nodes": [0],
            "cutoff": 1.0, "target_of_node": [0, 1]}
    args.update(change)
    with pytest.raises(ValueError, match=message):
        dijkstra.sources_within_cutoff(**args)


@pytest.mark.parametrize("change, message", [
    ({"source_cost": [-1.0]}, "source_cost must be >= 0"),
    ({"source_cost": [np.inf]}, "source_cost must be finite"),
    ({"cutoffs": [2.0, 1.0]}, "cutoffs must be strictly increasing"),
    ({"cutoffs": [1.0, 1.0]}, "cutoffs must be strictly increasing"),
    ({"cutoffs": [-1.0]}, "cutoffs must be >= 0"),
    ({"cutoffs": [np.nan]}, "cutoffs must be finite"),
    ({"cutoffs": [[1.0]]}, "cutoffs must be 1-D"),
    ({"target_indptr": [0, 1]}, "target_indptr must be 1-D with n_nodes \\+ 1 = 3"),
    ({"target_indptr": [0.0, 1.0, 1.0]}, "target_indptr must have an integer dtype"),
    ({"target_indptr": [0, 2, 1]}, "target_indptr must start at 0 and be non-decreasing"),
    ({"target_cost": [0.0, 0.0]}, "target_cost must be 1-D with 1 values"),
    ({"target_cost": [-0.5]}, "target_cost must be >= 0"),
])
def test_count_within_rejects_bad_input(change, message):
    args = {"indptr": [0, 1, 1], "indices": [1], "weight": [1.0], "source_nodes": [0],
            "source_cost": [0.0], "cutoffs": [1.0], "target_indptr": [0, 0, 1],
            "target_cost": [0.0]}
    args.update(change)
    with pytest.raises(ValueError, match=message):
        dijkstra.count_within(**args)


# --------------------------------------------------------------------------
# Property tests against independent references
# --------------------------------------------------------------------------

# Weights are multiples of 1/4 so that sums are exact, drawn per graph from a
# small palette so that equal-cost ties, which the tie-breaking rules are
# about, happen often.
palettes = st.sampled_from([(1.0,), (1.0, 2.0), (0.25, 0.5, 1.0, 1.5, 2.0, 3.0)])
lengths = st.one_of(st.just(0.0), st.floats(0.0, 100.0, allow_nan=False))


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 40))
    node = st.integers(0, n - 1)
    weight = st.sampled_from(draw(palettes))
    edges = draw(st.lists(st.tuples(node, node, weight, lengths), min_size=n,
                          max_size=3 * n))
    if draw(st.booleans()):  # mostly two-way, like a road network
        edges += [(v, u, w, l) for u, v, w, l in edges[::2]]
    return n, edges


@st.composite
def graphs_with_sources(draw):
    n, edges = draw(graphs())
    node = st.integers(0, n - 1)
    sources = draw(st.lists(
        st.tuples(node, st.sampled_from([0.0, 0.5, 1.0, 2.0]), st.integers(0, 4)),
        min_size=1, max_size=8))
    return n, edges, sources


def lexicographic_reference(n, edges, sources):
    """Bellman-Ford on (cost, label, length) triples, in plain Python."""
    best = [None] * n
    for v, c, lab in sources:
        if best[v] is None or (c, lab, 0.0) < best[v]:
            best[v] = (c, lab, 0.0)
    changed = True
    while changed:
        changed = False
        for u, v, w, l in edges:
            if best[u] is not None:
                c, lab, p = best[u]
                candidate = (c + w, lab, p + l)
                if best[v] is None or candidate < best[v]:
                    best[v] = candidate
                    changed = True
    return best


def scipy_matrix(n, edges):
    """csgraph matrix with the cheapest of parallel edges (csr_matrix would sum them)."""
    cheapest = {}
    for u, v, w, _ in edges:
        if u != v:
            cheapest[u, v] = min(w, cheapest.get((u, v), INF))
    rows = [u for u, _ in cheapest]
    cols = [v for _, v in cheapest]
    return scipy.sparse.csr_matrix((list(cheapest.values()), (rows, cols)), shape=(n, n))


@settings(max_examples=60, deadline=None)
@given(graphs_with_sources())
def test_nearest_source_matches_references(case):
    n, edges, sources = case
    nodes = [s[0] for s in sources]
    starts = [s[1] for s in sources]
    labels = [s[2] for s in sources]
    cost, label, path_length = dijkstra.nearest_source(*csr(n, edges), nodes, starts, labels)

    # Cost: scipy per source, plus the starting cost.
    per_source = scipy.sparse.csgraph.dijkstra(scipy_matrix(n, edges), indices=nodes)
    per_source = per_source + np.array(starts)[:, None]
    np.testing.assert_allclose(cost, per_source.min(axis=0), rtol=0, atol=1e-9)

    # Cost: networkx with a super source whose edges carry the starting costs.
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from((u, v, w) for u, v, w, _ in edges)
    g.add_weighted_edges_from(("start", v, c) for v, c, _ in sources)
    nx_cost = nx.single_source_dijkstra_path_length(g, "start")
    for v in range(n):
        assert cost[v] == pytest.approx(nx_cost.get(v, INF), abs=1e-9)

    # Label: the smallest label among the sources that achieve the min cost.
    for v in range(n):
        achieving = [labels[s] for s in range(len(sources)) if per_source[s, v] == cost[v]]
        assert label[v] == (min(achieving) if np.isfinite(cost[v]) else -1)

    # Everything, including path length, against the lexicographic reference.
    for v, ref in enumerate(lexicographic_reference(n, edges, sources)):
        if ref is None:
            assert np.isinf(cost[v]) and label[v] == -1 and np.isnan(path_length[v])
        else:
            assert (cost[v], label[v]) == ref[:2]
            assert path_length[v] == pytest.approx(ref[2], rel=1e-12, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(graphs(), st.data())
def test_sources_within_cutoff_matches_scipy(graph, data):
    n, edges = graph
    node = st.integers(0, n - 1)
    source_nodes = data.draw(st.lists(node, max_size=8))
    cutoff = data.draw(st.integers(0, 24).map(lambda k: k / 4))
    # Some nodes are no target, some targets have several nodes; with many
    # targets, few are reached (the kernel orders sparse and dense results
    # differently).
    last_target = data.draw(st.sampled_from([5, 1000]))
    target_of_node = np.array(data.draw(
        st.lists(st.integers(-1, last_target), min_size=n, max_size=n)))
    indptr, indices, weight, _ = csr(n, edges)
    src, tgt, cost = dijkstra.sources_within_cutoff(indptr, indices, weight, source_nodes,
                                                    cutoff, target_of_node)

    expected = {}
    if source_nodes:
        limited = scipy.sparse.csgraph.dijkstra(scipy_matrix(n, edges), indices=source_nodes,
                                                limit=cutoff)
        for s in range(len(source_nodes)):
            for v in np.flatnonzero(np.isfinite(limited[s]) & (target_of_node >= 0)):
                key = (s, int(target_of_node[v]))
                expected[key] = min(limited[s, v], expected.get(key, INF))
    keys = sorted(expected)
    np.testing.assert_array_equal(src, [s for s, _ in keys])
    np.testing.assert_array_equal(tgt, [t for _, t in keys])
    np.testing.assert_allclose(cost, [expected[k] for k in keys], rtol=0, atol=1e-9)
    assert (cost <= cutoff).all()


quarters = st.integers(0, 12).map(lambda k: k / 4)


@settings(max_examples=50, deadline=None)
@given(graphs(), st.data())
def test_count_within_matches_scipy(graph, data):
    n, edges = graph
    node = st.integers(0, n - 1)
    source_nodes = data.draw(st.lists(node, max_size=8))
    source_cost = data.draw(st.lists(quarters, min_size=len(source_nodes),
                                     max_size=len(source_nodes)))
    cutoffs = sorted(data.draw(st.sets(st.integers(0, 32).map(lambda k: k / 4),
                                       min_size=1, max_size=4)))
    if data.draw(st.booleans()):
        cutoffs.append(INF)
    # Zero, one or two targets per node (e.g. cells sharing a network node).
    per_node = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    target_indptr = np.concatenate([[0], np.cumsum(per_node)])
    target_node = np.repeat(np.arange(n), per_node)
    target_cost = np.array(data.draw(st.lists(quarters, min_size=len(target_node),
                                              max_size=len(target_node))))
    indptr, indices, weight, _ = csr(n, edges)
    counts = dijkstra.count_within(indptr, indices, weight, source_nodes, source_cost, cutoffs,
                                   target_indptr, target_cost)

    expected = np.zeros((len(target_node), len(cutoffs)), dtype=np.int64)
    if source_nodes and len(target_node):
        # Costs are multiples of 1/4, so these sums are exact.
        dist = scipy.sparse.csgraph.dijkstra(scipy_matrix(n, edges), indices=source_nodes)
        total = (np.array(source_cost)[:, None] + dist[:, target_node]
                 + target_cost[None, :])
        for j, limit in enumerate(cutoffs):
            # An unreachable target (inf) is not within an infinite cutoff.
            expected[:, j] = ((total <= limit) & np.isfinite(total)).sum(axis=0)
    np.testing.assert_array_equal(counts, expected)


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_reversing_twice_restores_the_graph(graph):
    n, edges = graph
    indptr, indices, weight, length = csr(n, edges)
    back = dijkstra.reverse_csr(*dijkstra.reverse_csr(indptr, indices, weight, length))
    # Twice reversed rows are sorted by head; parallel edges keep their order.
    order = sorted(range(len(edges)), key=lambda i: (edges[i][0], edges[i][1]))
    expected = csr(n, [edges[i] for i in order])
    for got, want in zip(back, expected):
        np.testing.assert_array_equal(got, want)


def test_zero_weight_edge_passes_a_better_label_on_after_expansion():
    # Node 1 is reached at cost 1 by label 5 (0 -> 1) and by label 2 through
    # the zero-weight edge 2 -> 1; node 3 hangs behind node 1.
    edges = [(0, 1, 1.0, 1.0), (2, 1, 0.0, 0.0), (1, 3, 1.0, 1.0), (4, 2, 1.0, 0.0)]
    cost, label, _ = dijkstra.nearest_source(*csr(5, edges), [0, 4], [0.0, 0.0], [5, 2])
    assert cost[3] == 2.0
    assert label[1] == 2 and label[3] == 2


# Zero weights make the (cost, label, length) ties that incremental updates
# must reproduce exactly.
zero_palettes = st.sampled_from([(0.0, 1.0), (0.0, 1.0, 2.0, 3.0)])
whole_lengths = st.integers(0, 5).map(float)


@st.composite
def whole_graphs_with_sources(draw):
    n = draw(st.integers(1, 30))
    node = st.integers(0, n - 1)
    weight = st.sampled_from(draw(zero_palettes))
    edges = draw(st.lists(st.tuples(node, node, weight, whole_lengths), min_size=n,
                          max_size=3 * n))
    if draw(st.booleans()):
        edges += [(v, u, w, l) for u, v, w, l in edges[::2]]
    sources = draw(st.lists(
        st.tuples(node, st.sampled_from([0.0, 1.0, 2.0]), st.integers(0, 6)),
        min_size=1, max_size=8))
    return n, edges, sources


def _assert_reference(result, n, edges, sources):
    cost, label, path_length = result
    for v, ref in enumerate(lexicographic_reference(n, edges, sources)):
        if ref is None:
            assert np.isinf(cost[v]) and label[v] == -1 and np.isnan(path_length[v])
        else:
            assert (cost[v], label[v], path_length[v]) == ref, v


def _run(n, edges, sources):
    return dijkstra.nearest_source(*csr(n, edges), [s[0] for s in sources],
                                   [s[1] for s in sources], [s[2] for s in sources])


@settings(max_examples=80, deadline=None)
@given(whole_graphs_with_sources())
def test_nearest_source_with_zero_weights_matches_the_reference(case):
    n, edges, sources = case
    _assert_reference(_run(n, edges, sources), n, edges, sources)


@settings(max_examples=80, deadline=None)
@given(whole_graphs_with_sources(), st.data())
def test_improving_by_new_sources_equals_a_full_run(case, data):
    n, edges, sources = case
    k = data.draw(st.integers(0, len(sources) - 1))
    before = _run(n, edges, sources[:k])
    new = sources[k:]
    got = dijkstra.improve_nearest_source(*csr(n, edges), *before, [s[0] for s in new],
                                          [s[1] for s in new], [s[2] for s in new])
    full = _run(n, edges, sources)
    for a, b in zip(got, full):
        np.testing.assert_array_equal(a, b)
    _assert_reference(got, n, edges, sources)
    # The input arrays are left alone.
    for a, b in zip(before, _run(n, edges, sources[:k])):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=80, deadline=None)
@given(whole_graphs_with_sources(), st.data())
def test_repairing_after_removed_labels_equals_a_full_run(case, data):
    n, edges, sources = case
    labels = sorted({s[2] for s in sources})
    removed = data.draw(st.lists(st.sampled_from(labels), min_size=1, max_size=3, unique=True))
    before = _run(n, edges, sources)
    rest = [s for s in sources if s[2] not in removed]
    # The remaining sources may also be passed with the removed ones in them.
    passed = data.draw(st.sampled_from([rest, sources]))
    got = dijkstra.repair_nearest_source(*csr(n, edges), *before, removed,
                                         [s[0] for s in passed], [s[1] for s in passed],
                                         [s[2] for s in passed])
    full = _run(n, edges, rest)
    for a, b in zip(got, full):
        np.testing.assert_array_equal(a, b)
    # Only the nodes that carried a removed label changed.
    changed = ~((got[0] == before[0]) & (got[1] == before[1])
                & ((got[2] == before[2]) | np.isnan(before[2])))
    assert np.isin(before[1][changed], removed).all()


def test_a_seed_with_a_length_enters_like_a_carried_over_value():
    indptr, indices, weight, length = csr(3, [(0, 1, 1.0, 2.0), (1, 2, 1.0, 2.0)])
    cost, label, path = dijkstra.improve_nearest_source(
        indptr, indices, weight, length, [np.inf] * 3, [-1] * 3, [np.nan] * 3,
        [1], [4.0], [7], source_length=[10.0])
    np.testing.assert_array_equal(cost, [np.inf, 4.0, 5.0])
    np.testing.assert_array_equal(label, [-1, 7, 7])
    np.testing.assert_array_equal(path, [np.nan, 10.0, 12.0])


@pytest.mark.parametrize("change, message", [
    ({"cost": [0.0, 0.0]}, "cost must be 1-D with 3 values"),
    ({"label": [0, -1, 5]}, "must be a nearest_source result"),
    ({"label": [0, -2, -1]}, "label must lie in"),
    ({"source_length": [-1.0]}, "source_length must be >= 0"),
])
def test_improve_rejects_bad_input(change, message):
    args = {"indptr": [0, 1, 1, 1], "indices": [1], "weight": [1.0], "length": [1.0],
            "cost": [0.0, 1.0, np.inf], "label": [0, 0, -1],
            "path_length": [0.0, 1.0, np.nan], "source_nodes": [2], "source_cost": [0.0],
            "source_label": [1], "source_length": [0.0]}
    args.update(change)
    with pytest.raises(ValueError, match=message):
        dijkstra.improve_nearest_source(**args)


def test_local_reach_passes_split_nodes_only():
    # Network nodes 0, 1, 2; split nodes 3, 4 on the road 0 -> 3 -> 4 -> 1
    # (1 s per piece) and 1 -> 2. From 3: 4 at 1 s and network node 1 at 2 s,
    # not 2 beyond it; from network node 0: only itself.
    indptr = np.array([0, 1, 2, 2, 3, 4])
    indices = np.array([3, 2, 4, 1])
    weight = np.array([1.0, 5.0, 1.0, 1.0])
    start, node, cost = dijkstra.local_reach(indptr, indices, weight, 3, np.array([3, 0]))
    assert list(zip(start.tolist(), node.tolist(), cost.tolist())) == [
        (0, 1, 2.0), (0, 3, 0.0), (0, 4, 1.0), (1, 0, 0.0)]
