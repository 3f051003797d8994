"""The nearest-facility search on the hierarchy (PHAST, entries with initial
lengths, split roads) equals the Dijkstra kernels bit for bit, ties included."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bereikbaarheid import RunConfig, pipeline
from bereikbaarheid.kernels import ch, dijkstra


def csr(n, edges):
    """CSR ``(indptr, indices, cost, length)`` of ``[(tail, head, cost, length), ...]``."""
    edges = sorted(edges, key=lambda e: (e[0], e[1]))
    indptr = np.zeros(n + 1, dtype=np.int64)
    for tail, *_ in edges:
        indptr[tail + 1] += 1
    np.cumsum(indptr, out=indptr)
    return (indptr, np.array([e[1] for e in edges], dtype=np.int32),
            np.array([e[2] for e in edges], dtype=np.float64),
            np.array([e[3] for e in edges], dtype=np.float64))


def dijkstra_nearest(n, edges, sources, source_cost, source_label, source_length=None):
    """The reference: the multi-source Dijkstra kernel (with initial lengths,
    its incremental form started from nothing)."""
    graph = csr(n, edges)
    if source_length is None:
        return dijkstra.nearest_source(*graph, np.array(sources, dtype=np.int64),
                                       np.array(source_cost, float),
                                       np.array(source_label, dtype=np.int64))
    return dijkstra.improve_nearest_source(
        *graph, np.full(n, np.inf), np.full(n, -1), np.full(n, np.nan),
        np.array(sources, dtype=np.int64), np.array(source_cost, float),
        np.array(source_label, dtype=np.int64), np.array(source_length, float))


def assert_identical(got, expected):
    for a, b in zip(got, expected, strict=True):
        assert a.dtype == b.dtype
        assert a.shape == b.shape
        # Bit for bit: the same bytes (nan where unreached, -0.0 never).
        assert a.tobytes() == b.tobytes()


# --------------------------------------------------------------------------
# By eye
# --------------------------------------------------------------------------

def test_a_split_road_by_eye():
    # Network nodes 0, 1, 2; roads 0 - 1 and 1 - 2 (10 ms, 100 mm each way)
    # and 0 - 2 (12, 50). The road 0 - 1 is split at node 3, 4 ms from 0;
    # the road 1 - 2 at node 4, 3 ms from 1.
    network = [(0, 1, 10, 100), (1, 0, 10, 100), (1, 2, 10, 100), (2, 1, 10, 100),
               (0, 2, 12, 50), (2, 0, 12, 50)]
    split = [(0, 3, 4, 40), (3, 1, 6, 60), (1, 3, 6, 60), (3, 0, 4, 40),
             (1, 4, 3, 30), (4, 2, 7, 70), (2, 4, 7, 70), (4, 1, 3, 30),
             (0, 2, 12, 50), (2, 0, 12, 50)]
    h = ch.build_hierarchy(*csr(3, network))
    # A on split node 3 (1 ms of connector), B at 2 (30 ms), C at 0 (5 ms).
    sources, cost, label = [3, 2, 0], [1.0, 30.0, 5.0], [0, 1, 2]
    got = ch.nearest_source_split(h, *csr(5, split), np.array(sources), np.array(cost),
                                  np.array(label))
    # 0: A at 1 + 4 = 5 ties with C at 5; the smaller label, A, wins.
    # 1: A at 1 + 6 = 7. 4: from 1, at 7 + 3 = 10 (from 2 it would be 24).
    # 2: A at 17 both via 0 (length 40 + 50) and via 1 (60 + 30 + 70): the shorter.
    np.testing.assert_array_equal(got[0], [5.0, 7.0, 17.0, 1.0, 10.0])
    np.testing.assert_array_equal(got[1], [0, 0, 0, 0, 0])
    np.testing.assert_array_equal(got[2], [40.0, 60.0, 90.0, 0.0, 90.0])
    assert_identical(got, dijkstra_nearest(5, split, sources, cost, label))


def test_entries_with_initial_lengths_by_eye():
    # A path 0 -> 1 -> 2, cost 1 and length 10 per edge. Two sources at 0 tie
    # on cost and label; the one that has travelled less wins everywhere.
    h = ch.build_hierarchy(*csr(3, [(0, 1, 1, 10), (1, 2, 1, 10)]))
    got = ch.nearest_source(h, np.array([0, 0]), np.array([5.0, 5.0]), np.array([7, 7]),
                            np.array([30.0, 20.0]))
    np.testing.assert_array_equal(got[0], [5.0, 6.0, 7.0])
    np.testing.assert_array_equal(got[1], [7, 7, 7])
    np.testing.assert_array_equal(got[2], [20.0, 30.0, 40.0])


def test_no_sources_unreached_nodes_and_bad_arguments():
    h = ch.build_hierarchy(*csr(2, [(0, 1, 1, 1)]))
    graph = csr(3, [(0, 2, 1, 1), (2, 1, 0, 0)])
    got = ch.nearest_source_split(h, *graph, [], [], [])
    assert_identical(got, (np.full(3, np.inf), np.full(3, -1), np.full(3, np.nan)))
    got = ch.nearest_source_split(h, *graph, [1], [0.0], [4])
    assert_identical(got, (np.array([np.inf, 0.0, np.inf]), np.array([-1, 4, -1]),
                           np.array([np.nan, 0.0, np.nan])))
    with pytest.raises(ValueError, match="fewer than the hierarchy"):
        ch.nearest_source_split(h, *csr(1, []), [0], [0.0], [0])
    with pytest.raises(ValueError, match="weight"):
        ch.nearest_source_split(h, graph[0], graph[1], [0.5, 0.0], graph[3], [0], [0.0], [0])
    with pytest.raises(ValueError, match="source_cost"):
        ch.nearest_source_split(h, *graph, [0], [0.5], [0])
    with pytest.raises(ValueError, match="source_length"):
        ch.nearest_source(h, [0], [0.0], [0], [0.5])
    with pytest.raises(ValueError, match="source_length"):
        ch.nearest_source(h, [0], [0.0], [0], [-1.0])


# --------------------------------------------------------------------------
# Property tests against the Dijkstra kernels
# --------------------------------------------------------------------------

@st.composite
def networks(draw):
    """Small directed graphs full of ties: weights and lengths 0..3, one-way
    and two-way roads, self-loops, parallel edges, several components."""
    n = draw(st.integers(1, 16))
    edges = []
    for _ in range(draw(st.integers(0, 3 * n))):
        u = draw(st.integers(0, n - 1))
        v = draw(st.one_of(st.integers(max(0, u - 2), min(n - 1, u + 2)),
                           st.integers(0, n - 1)))
        c, l = draw(st.integers(0, 3)), draw(st.integers(0, 3))
        edges.append((u, v, c, l))
        if draw(st.booleans()):
            edges.append((v, u, draw(st.sampled_from([c, draw(st.integers(0, 3))])), l))
    return n, edges


def sources_on(draw, n, max_size=8):
    """Sources on nodes ``0 .. n - 1``: costs that tie, labels that repeat."""
    k = draw(st.integers(0, max_size))
    nodes = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))
    cost = draw(st.lists(st.integers(-2, 6), min_size=k, max_size=k))
    label = draw(st.lists(st.integers(0, 4), min_size=k, max_size=k))
    return nodes, [float(c) for c in cost], label


@settings(max_examples=300, deadline=None)
@given(networks(), st.data())
def test_initial_lengths_agree_exactly_with_the_dijkstra_kernel(network, data):
    n, edges = network
    h = ch.build_hierarchy(*csr(n, edges),
                           witness_settled=data.draw(st.sampled_from([1, 2, 64])))
    nodes, cost, label = sources_on(data.draw, n)
    length = data.draw(st.lists(st.integers(0, 5), min_size=len(nodes), max_size=len(nodes)))
    got = ch.nearest_source(h, np.array(nodes, dtype=np.int64), np.array(cost),
                            np.array(label, dtype=np.int64), np.array(length, float))
    assert_identical(got, dijkstra_nearest(n, edges, nodes, cost, label, length))


def split_roads(draw, n, edges):
    """The network with some roads split as :mod:`bereikbaarheid.networks.link`
    splits them: a road (the edges between two nodes, at most one each way)
    gets split nodes in between, and each of its edges becomes a chain whose
    pieces sum exactly to it (some pieces cost nothing). Returns the node
    count and edges of the split graph."""
    by_pair: dict[tuple[int, int], list[tuple[int, int, int, int]]] = {}
    for e in edges:
        if e[0] != e[1]:
            by_pair.setdefault((min(e[0], e[1]), max(e[0], e[1])), []).append(e)
    # A road with parallel edges in one direction is never split (the builder
    # keeps one edge per direction); the others may be.
    splittable = [pair for pair, es in by_pair.items()
                  if len({(e[0], e[1]) for e in es}) == len(es)]
    chosen = draw(st.lists(st.sampled_from(splittable), unique=True)) if splittable else []
    out = [e for e in edges if (min(e[0], e[1]), max(e[0], e[1])) not in set(chosen)]
    total = n
    for lo, hi in chosen:
        k = draw(st.integers(1, 3))
        points = list(range(total, total + k))
        total += k
        for u, v, c, l in by_pair[(lo, hi)]:
            chain = [lo, *points, hi] if u == lo else [hi, *points[::-1], lo]
            cuts_c = sorted(draw(st.lists(st.integers(0, c), min_size=k, max_size=k)))
            cuts_l = sorted(draw(st.lists(st.integers(0, l), min_size=k, max_size=k)))
            cum_c, cum_l = [0, *cuts_c, c], [0, *cuts_l, l]
            for j in range(k + 1):
                out.append((chain[j], chain[j + 1], cum_c[j + 1] - cum_c[j],
                            cum_l[j + 1] - cum_l[j]))
    return total, out


@settings(max_examples=400, deadline=None)
@given(networks(), st.data())
def test_split_roads_agree_exactly_with_the_dijkstra_kernel(network, data):
    # Sources on network nodes and on split nodes (facilities on roads),
    # with starting costs (their connectors) that tie.
    n, edges = network
    h = ch.build_hierarchy(*csr(n, edges),
                           witness_settled=data.draw(st.sampled_from([1, 2, 64])))
    total, split = split_roads(data.draw, n, edges)
    nodes, cost, label = sources_on(data.draw, total)
    got = ch.nearest_source_split(h, *csr(total, split), np.array(nodes, dtype=np.int64),
                                  np.array(cost), np.array(label, dtype=np.int64))
    assert_identical(got, dijkstra_nearest(total, split, nodes, cost, label))


@settings(max_examples=100, deadline=None)
@given(networks(), st.data())
def test_without_split_nodes_it_is_the_plain_phast_nearest(network, data):
    n, edges = network
    h = ch.build_hierarchy(*csr(n, edges))
    nodes, cost, label = sources_on(data.draw, n)
    args = np.array(nodes, dtype=np.int64), np.array(cost), np.array(label, dtype=np.int64)
    assert_identical(ch.nearest_source_split(h, *csr(n, edges), *args),
                     ch.nearest_source(h, *args))


# --------------------------------------------------------------------------
# The demo profile, with and without hierarchies
# --------------------------------------------------------------------------

def _column_bytes(column: pd.Series) -> bytes:
    """The exact content of a column: values and missing marks as bytes."""
    array = column.array
    if isinstance(array, pd.arrays.IntegerArray):
        return array._data.tobytes() + array._mask.tobytes()
    values = column.to_numpy()
    if values.dtype == object:
        return repr(values.tolist()).encode()
    return values.tobytes()


def test_the_demo_profile_road_columns_are_byte_identical_with_and_without_hierarchies(
        demo_region, tmp_path):
    config = RunConfig.from_toml(demo_region.config, output_dir=tmp_path / "profiles",
                                 cache_dir=tmp_path / "cache")
    # Every road mode on a hierarchy (the demo is below the default size).
    config.settings = dataclasses.replace(config.settings, modes=("walk", "bike", "car"),
                                          hierarchy_min_nodes=0)
    inputs = pipeline.prepare(config)
    assert sorted(inputs.hierarchies) == ["bike", "car", "walk"]
    fast = pipeline.measure(inputs, keep_state=True)
    plain = pipeline.measure(dataclasses.replace(inputs, hierarchies={}), keep_state=True)
    # The travel times, distances, nearest facilities, counts, CBS distances
    # and the cross-border columns (updated incrementally from the searches);
    # only the floating catchment sums in another order on the hierarchy.
    columns = [c for c in plain.cells.columns if not c.endswith("_fca_ratio")
               and c != "geometry"]
    assert list(fast.cells.columns) == list(plain.cells.columns)
    assert any(c.endswith("_nl_only_time_s") for c in columns)
    for c in columns:
        assert _column_bytes(fast.cells[c]) == _column_bytes(plain.cells[c]), c
    # And every node of every search, which scenarios update incrementally.
    for mode, ms in plain.access.state.modes.items():
        got = fast.access.state.modes[mode]
        assert got.hierarchy is not None and ms.hierarchy is None
        for ftype, search in ms.nearest.items():
            assert_identical(got.nearest[ftype].arrays(), search.arrays())
