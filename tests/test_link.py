"""Linking points to the nearest point on the nearest usable edge."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from bereikbaarheid.networks import link

from netutil import both_ways, make_network, street_grid


def _nx(graph: link.LinkedGraph, unit_s: float = 1000.0) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n_nodes))
    tails = np.repeat(np.arange(graph.n_nodes), np.diff(graph.indptr))
    for u, v, t in zip(tails, graph.indices, graph.edge_time_ms / unit_s):
        if not g.has_edge(u, v) or g[u][v]["t"] > t:
            g.add_edge(int(u), int(v), t=float(t))
    return g


def test_point_is_split_into_the_edge_at_its_projection():
    # A 1 km road; a point 50 m north of the 200 m mark.
    net = make_network([(0, 0), (1000, 0)], both_ways([(0, 1)]))
    graph = link.link_points(net, np.array([200.0]), np.array([50.0]), 1600)
    assert graph.point_node[0] == 2  # a new node after the two road nodes
    assert graph.connector_m[0] == pytest.approx(50.0)
    g = _nx(graph)
    assert nx.shortest_path_length(g, 0, 2, weight="t") == pytest.approx(200.0)
    assert nx.shortest_path_length(g, 2, 1, weight="t") == pytest.approx(800.0)


def test_two_points_on_one_segment_reach_each_other_directly():
    net = make_network([(0, 0), (1000, 0)], both_ways([(0, 1)]))
    graph = link.link_points(net, np.array([700.0, 200.0]), np.array([-30.0, 50.0]), 1600)
    a, b = graph.point_node
    assert nx.shortest_path_length(_nx(graph), b, a, weight="t") == pytest.approx(500.0)


def test_one_way_segment_keeps_its_direction_after_splitting():
    net = make_network([(0, 0), (1000, 0)], [(0, 1)])
    graph = link.link_points(net, np.array([200.0, 700.0]), np.array([0.0, 0.0]), 1600)
    a, b = graph.point_node
    g = _nx(graph)
    assert nx.shortest_path_length(g, a, b, weight="t") == pytest.approx(500.0)
    assert not nx.has_path(g, b, a)


def test_point_beyond_max_link_distance_is_unlinked_not_snapped():
    net = make_network([(0, 0), (1000, 0)], both_ways([(0, 1)]))
    graph = link.link_points(net, np.array([500.0, 500.0]), np.array([1599.0, 1601.0]), 1600)
    assert graph.point_node[0] >= 0
    assert graph.point_node[1] == -1
    assert np.isnan(graph.connector_m[1])


def test_unlinkable_edge_is_not_a_link_target():
    # A motorway (unlinkable) runs right past the point; the street is 300 m away.
    coords = [(0, 0), (1000, 0), (0, 300), (1000, 300)]
    net = make_network(coords, both_ways([(0, 1), (2, 3)]),
                       linkable=[False, True, False, True])
    graph = link.link_points(net, np.array([500.0]), np.array([10.0]), 1600)
    assert graph.connector_m[0] == pytest.approx(290.0)


def test_projection_onto_a_node_reuses_the_node():
    net = make_network([(0, 0), (1000, 0), (1000, 1000)], both_ways([(0, 1), (1, 2)]))
    graph = link.link_points(net, np.array([1100.0]), np.array([-100.0]), 1600)
    assert graph.point_node[0] == 1
    assert graph.n_nodes == 3


@st.composite
def _grid_case(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = draw(st.integers(2, 4))
    coords, edges = street_grid(rng, k, 20.0)
    n_points = draw(st.integers(1, 6))
    px = rng.uniform(-50, k * 100 + 50, n_points)
    py = rng.uniform(-50, k * 100 + 50, n_points)
    return coords, edges, px, py


def _endpoint_reference(net, px, py):
    """Independent answer: point-to-point time via the segment ends (or directly).

    For each point, the nearest segment and the projection on it are found by
    brute force; the time between two points is the best of (a) running along
    a shared segment, (b) leaving by either end of one segment and entering by
    either end of the other, with node-to-node times from networkx.
    """
    g = nx.DiGraph()
    tails = net.edge_tails()
    for u, v, t in zip(tails, net.indices, net.edge_time_s):
        g.add_edge(int(u), int(v), t=float(t))
    dist = dict(nx.all_pairs_dijkstra_path_length(g, weight="t"))
    edge_time = {(int(u), int(v)): float(t) for u, v, t in zip(tails, net.indices, net.edge_time_s)}
    segs = sorted({(min(u, v), max(u, v)) for u, v in edge_time})
    locs = []
    for x, y in zip(px, py):
        best = None
        for a, b in segs:
            ax, ay, bx, by = net.node_x[a], net.node_y[a], net.node_x[b], net.node_y[b]
            dx, dy = bx - ax, by - ay
            f = np.clip(((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy), 0, 1)
            d = np.hypot(ax + f * dx - x, ay + f * dy - y)
            if best is None or d < best[0] - 1e-9:
                best = (d, a, b, f)
        locs.append(best)

    def at_node(loc):  # a projection onto a segment end is that node
        _, a, b, f = loc
        return [(a, 0.0)] if f == 0 else [(b, 0.0)] if f == 1 else []

    def leave(loc):  # (node, time) exits from a point's location
        _, a, b, f = loc
        out = at_node(loc)
        if (a, b) in edge_time:
            out.append((b, (1 - f) * edge_time[(a, b)]))
        if (b, a) in edge_time:
            out.append((a, f * edge_time[(b, a)]))
        return out

    def enter(loc):
        _, a, b, f = loc
        out = at_node(loc)
        if (a, b) in edge_time:
            out.append((a, f * edge_time[(a, b)]))
        if (b, a) in edge_time:
            out.append((b, (1 - f) * edge_time[(b, a)]))
        return out

    n = len(px)
    ref = np.full((n, n), np.inf)
    for i in range(n):
        for j in range(n):
            li, lj = locs[i], locs[j]
            best = np.inf
            if li[1:3] == lj[1:3]:
                a, b, fi, fj = li[1], li[2], li[3], lj[3]
                if fj >= fi and (a, b) in edge_time:
                    best = (fj - fi) * edge_time[(a, b)]
                if fj <= fi and (b, a) in edge_time:
                    best = min(best, (fi - fj) * edge_time[(b, a)])
            for u, tu in leave(li):
                for v, tv in enter(lj):
                    if v in dist.get(u, {}):
                        best = min(best, tu + dist[u][v] + tv)
            ref[i, j] = best
    return ref, np.array([loc[0] for loc in locs])


@hsettings(max_examples=40, deadline=None)
@given(_grid_case())
def test_split_graph_times_match_an_endpoint_reference(case):
    coords, edges, px, py = case
    net = make_network(coords, edges)
    graph = link.link_points(net, px, py, 10_000)
    ref, ref_conn = _endpoint_reference(net, px, py)
    np.testing.assert_allclose(graph.connector_m, ref_conn, atol=1e-6)
    g = _nx(graph)
    for i, a in enumerate(graph.point_node):
        lengths = nx.single_source_dijkstra_path_length(g, int(a), weight="t")
        for j, b in enumerate(graph.point_node):
            got = lengths.get(int(b), np.inf)
            # Snapping to a node within 1 cm may shift times by that much.
            assert got == pytest.approx(ref[i, j], abs=0.05), (i, j)


def test_times_are_whole_milliseconds_and_pieces_sum_to_the_edge():
    # 1 km at 3 m/s: 333.333 s, so 333,333 ms; split at 1/3 and 2/3.
    net = make_network([(0, 0), (1000, 0)], [(0, 1)], speed_ms=3.0)
    graph = link.link_points(net, np.array([1000 / 3, 2000 / 3]), np.array([5.0, 5.0]), 100)
    assert graph.edge_time_ms.sum() == 333_333.0
    assert graph.edge_length_mm.sum() == 1_000_000.0
    assert np.array_equal(graph.edge_time_ms, np.round(graph.edge_time_ms))
    assert (graph.split_segment == 0).all() and len(graph.split_fraction) == 2
    assert graph.connector_mm[0] == 5000.0
    assert link.connector_ms(graph.connector_m, 3.6)[0] == 5000.0


@hsettings(max_examples=30, deadline=None)
@given(_grid_case(), st.integers(0, 5))
def test_another_point_keeps_the_cumulative_times_of_the_others(case, extra):
    coords, edges, px, py = case
    net = make_network(coords, edges, speed_ms=7.0)
    alone = link.link_points(net, px[:-1], py[:-1], 10_000)
    both = link.link_points(net, px, py, 10_000)
    locations = link.locate_points(net, px, py, 10_000)
    split = link.split_network(net, locations)
    for a, b in zip((split.indptr, split.indices, split.edge_time_ms, split.point_node),
                    (both.indptr, both.indices, both.edge_time_ms, both.point_node)):
        np.testing.assert_array_equal(a, b)
    # Whole-millisecond sums: the times between the old points do not move at all.
    g1, g2 = _nx(alone, unit_s=1.0), _nx(both, unit_s=1.0)
    for i, a in enumerate(alone.point_node):
        d1 = nx.single_source_dijkstra_path_length(g1, int(a), weight="t")
        d2 = nx.single_source_dijkstra_path_length(g2, int(both.point_node[i]), weight="t")
        for j, b in enumerate(alone.point_node):
            assert d1.get(int(b)) == d2.get(int(both.point_node[j]))
