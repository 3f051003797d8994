"""Linking points to the nearest point on the nearest usable edge."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from netutil import both_ways, make_network, street_grid

from bereikbaarheid.networks import link


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


# --------------------------------------------------------------------------
# Split edges: the pieces sum to the edge exactly


def _piece(graph: link.LinkedGraph, u: int, v: int) -> tuple[float, float]:
    """Time (ms) and length (mm) of the one edge u -> v of the linked graph."""
    heads = graph.indices[graph.indptr[u]:graph.indptr[u + 1]]
    at = np.flatnonzero(heads == v)
    assert len(at) == 1, (u, v)
    e = graph.indptr[u] + at[0]
    return float(graph.edge_time_ms[e]), float(graph.edge_length_mm[e])


def _check_pieces(net, graph: link.LinkedGraph) -> int:
    """Every split segment: the pieces of each of its edges, walked end to end,
    sum exactly to the edge's whole milliseconds and millimetres, and each
    split node sits at the rounded cumulative value ``round(total * fraction)``
    counted from the segment's lower-numbered end, in either direction.
    Returns the number of split segments seen."""
    n = net.n_nodes
    tails = net.edge_tails()
    # Linkable segments are numbered by their (lower, higher) end node.
    segments = sorted({(min(int(u), int(v)), max(int(u), int(v)))
                       for u, v in zip(tails, net.indices) if u != v})
    edge = {(int(u), int(v)): (max(1.0, round(1000.0 * t)), float(round(1000.0 * d)))
            for u, v, t, d in zip(tails, net.indices, net.edge_time_s, net.edge_length_m)}
    split = sorted(set(graph.split_segment.tolist()))
    for s in split:
        lo, hi = segments[s]
        mine = np.flatnonzero(graph.split_segment == s)
        mine = mine[np.argsort(graph.split_fraction[mine])]
        chain = [lo, *(n + mine).tolist(), hi]
        fractions = [0.0, *graph.split_fraction[mine].tolist(), 1.0]
        for forward in (True, False):
            whole = edge.get((lo, hi) if forward else (hi, lo))
            if whole is None:
                continue
            # Pieces in order from lo to hi, whichever way they run.
            pieces = np.array([_piece(graph, u, v) if forward else _piece(graph, v, u)
                               for u, v in itertools.pairwise(chain)])
            assert pieces[:, 0].sum() == whole[0] and pieces[:, 1].sum() == whole[1]
            assert (pieces >= 0).all() and (pieces == np.round(pieces)).all()
            for k, f in enumerate(fractions[1:-1], start=1):
                assert pieces[:k, 0].sum() == round(whole[0] * f)
                assert pieces[:k, 1].sum() == round(whole[1] * f)
    return len(split)


def test_pieces_sum_to_the_edge_when_every_piece_rounds_the_same_way():
    # A 7 m edge at 7 m/s: 1000 ms and 7000 mm, split at sevenths. Each
    # seventh of 1000 ms rounds down alone; the pieces must still add up.
    net = make_network([(0, 0), (7, 0)], both_ways([(0, 1)]), speed_ms=7.0)
    x = np.arange(1, 7, dtype=float)
    graph = link.link_points(net, x, np.full(6, 2.0), 100)
    assert len(graph.split_fraction) == 6
    assert _check_pieces(net, graph) == 1
    # 1000 / 7 = 142.857...: the cumulative values round to 143, 286, 429, 571, 714, 857.
    node = graph.point_node
    steps = [_piece(graph, int(a), int(b))[0] for a, b in zip([0, *node], [*node, 1])]
    assert steps == [143.0, 143.0, 143.0, 142.0, 143.0, 143.0, 143.0]


@st.composite
def _one_edge_case(draw):
    length = draw(st.floats(0.5, 5000.0))
    speed = draw(st.floats(0.3, 40.0))
    fractions = draw(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=10))
    offsets = draw(st.lists(st.floats(0.0, 60.0), min_size=len(fractions),
                            max_size=len(fractions)))
    one_way = draw(st.sampled_from([None, "forward", "backward"]))
    return length, speed, fractions, offsets, one_way


@hsettings(max_examples=150, deadline=None)
@given(_one_edge_case())
def test_pieces_of_one_edge_sum_to_it_exactly(case):
    length, speed, fractions, offsets, one_way = case
    edges = {None: both_ways([(0, 1)]), "forward": [(0, 1)], "backward": [(1, 0)]}[one_way]
    net = make_network([(0, 0), (length, 0)], edges, speed_ms=speed)
    x = np.array(fractions) * length
    graph = link.link_points(net, x, np.array(offsets), 100)
    _check_pieces(net, graph)
    # The whole graph still holds exactly the edge's milliseconds and millimetres.
    assert graph.edge_time_ms.sum() == link.network_time_ms(net).sum()
    assert graph.edge_length_mm.sum() == link.network_length_mm(net).sum()


@st.composite
def _points_on_streets(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = draw(st.integers(2, 4))
    coords, edges = street_grid(rng, k, 20.0)
    coords = np.asarray(coords)
    # Several points on a few streets, beside them at random fractions.
    pairs = np.array(sorted({(min(u, v), max(u, v)) for u, v in edges}))
    chosen = pairs[rng.integers(0, len(pairs), draw(st.integers(1, 4)))]
    px, py = [], []
    for a, b in chosen:
        for f in rng.uniform(0, 1, draw(st.integers(1, 5))):
            p = coords[a] + f * (coords[b] - coords[a])
            px.append(p[0] + rng.uniform(-3, 3))
            py.append(p[1] + rng.uniform(-3, 3))
    return coords, edges, np.array(px), np.array(py), draw(st.floats(0.5, 30.0))


@hsettings(max_examples=60, deadline=None)
@given(_points_on_streets())
def test_pieces_of_split_streets_sum_to_them_exactly(case):
    coords, edges, px, py, speed = case
    net = make_network(coords, edges, speed_ms=speed)
    graph = link.link_points(net, px, py, 10_000)
    assert _check_pieces(net, graph) >= 1 or len(graph.split_fraction) == 0
    # Streets nobody split keep their own milliseconds and millimetres.
    tails = net.edge_tails()
    split = set(graph.split_segment.tolist())
    segments = sorted({(min(int(u), int(v)), max(int(u), int(v))) for u, v in edges})
    for e, (u, v) in enumerate(zip(tails, net.indices)):
        if segments.index((min(u, v), max(u, v))) not in split:
            assert _piece(graph, int(u), int(v)) == (link.network_time_ms(net)[e],
                                                     link.network_length_mm(net)[e])
    assert graph.edge_time_ms.sum() == link.network_time_ms(net).sum()
    assert graph.edge_length_mm.sum() == link.network_length_mm(net).sum()


# --------------------------------------------------------------------------
# point_pairs: the cutoff is inclusive, connectors and all


def test_a_total_exactly_on_the_cutoff_is_within_it():
    # A 64 m road walked at 1 m/s both ways; points beside it at 16 m and 48 m
    # (a quarter and three quarters: 32 s apart along the road), their
    # connectors walked at 3.6 km/h = 1 m/s.
    net = make_network([(0, 0), (64, 0)], both_ways([(0, 1)]))
    graph = link.link_points(net, np.array([16.0, 48.0, 48.0, 16.0, 48.0]),
                             np.array([3.0, 4.0, -4.001, 0.0, 0.0]), 100)
    conn_s = link.connector_ms(graph.connector_m, 3.6) / 1000.0
    np.testing.assert_array_equal(conn_s, [3.0, 4.0, 4.001, 0.0, 0.0])
    sources, targets = np.array([0, 3]), np.array([1, 2, 4])

    # 3 s + 32 s + 4 s = 39 s exactly: in; 1 ms more (4.001 s connector): out.
    src, tgt, cost = link.point_pairs(graph, sources, targets, 39.0, conn_s, conn_s)
    assert list(zip(src.tolist(), tgt.tolist())) == [(0, 1), (0, 4), (3, 1), (3, 2), (3, 4)]
    np.testing.assert_array_equal(cost[[0, 1, 2, 4]], [39.0, 35.0, 36.0, 32.0])
    assert cost[3] == pytest.approx(36.001, abs=1e-9)

    # Connectors alone make up the difference: 3 s + 32 s at a cutoff of 35 s.
    src, tgt, cost = link.point_pairs(graph, sources, targets, 35.0, conn_s, conn_s)
    assert list(zip(src.tolist(), tgt.tolist())) == [(0, 4), (3, 4)]
    np.testing.assert_array_equal(cost, [35.0, 32.0])

    # No connectors: the road alone, 32 s, at a cutoff of 32 s; at 31.999 s nothing.
    src, tgt, cost = link.point_pairs(graph, sources, targets, 32.0, conn_s, conn_s)
    assert list(zip(src.tolist(), tgt.tolist())) == [(3, 4)] and cost.tolist() == [32.0]
    assert len(link.point_pairs(graph, sources, targets, 31.999, conn_s, conn_s)[0]) == 0

    # The same the other way round, from the points at 48 m back to those at 16 m.
    src, tgt, cost = link.point_pairs(graph, np.array([1, 2]), np.array([0]), 39.0,
                                      conn_s, conn_s)
    assert list(zip(src.tolist(), tgt.tolist())) == [(1, 0)] and cost.tolist() == [39.0]


@hsettings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_pairs_at_exactly_the_cutoff_are_kept_as_a_brute_force_says(seed):
    # Whole-millisecond roads and connectors in eighths of a second: every
    # total is exact, so the cutoff can be set to one of them.
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 10))
    edges = rng.integers(0, n, size=(int(rng.integers(1, 25)), 2))
    edges = edges[edges[:, 0] != edges[:, 1]]
    edges = np.unique(edges if len(edges) else np.array([[0, 1]]), axis=0)
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    edges = edges[order]
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(edges[:, 0], minlength=n), out=indptr[1:])
    time_ms = rng.integers(1, 8, len(edges)) * 125.0
    n_points = int(rng.integers(1, 12))
    graph = link.LinkedGraph(
        indptr=indptr, indices=edges[:, 1].astype(np.int32), edge_time_ms=time_ms,
        edge_length_mm=time_ms.copy(), point_node=rng.integers(-1, n, n_points),
        connector_m=np.zeros(n_points), n_network_nodes=n)
    extra = rng.integers(0, 5, n_points) * 0.125
    sources, targets = np.arange(n_points), np.arange(n_points)
    full = dijkstra(csr_matrix((time_ms / 1000.0, graph.indices, indptr), shape=(n, n)))
    totals = {}
    for a in sources:
        for b in targets:
            na, nb = graph.point_node[a], graph.point_node[b]
            if na >= 0 and nb >= 0 and np.isfinite(full[na, nb]):
                totals[(int(a), int(b))] = full[na, nb] + extra[a] + extra[b]
    if not totals:
        return
    cutoff = float(rng.choice(sorted(set(totals.values()))))
    src, tgt, cost = link.point_pairs(graph, sources, targets, cutoff, extra, extra)
    expected = sorted((p, t) for p, t in totals.items() if t <= cutoff)
    assert list(zip(src.tolist(), tgt.tolist())) == [p for p, _ in expected]
    assert cost.tolist() == [t for _, t in expected]
    assert any(t == cutoff for _, t in expected)


def test_a_graph_without_split_nodes_has_no_split_records():
    # Points on the network's own nodes split nothing: one (segment, fraction)
    # record per split node means none at all.
    net = make_network([(0, 0), (1000, 0)], both_ways([(0, 1)]))
    graph = link.LinkedGraph(
        indptr=net.indptr, indices=net.indices, edge_time_ms=net.edge_time_s * 1000.0,
        edge_length_mm=net.edge_length_m * 1000.0, point_node=np.array([0, 1]),
        connector_m=np.zeros(2), n_network_nodes=2)
    assert graph.n_nodes - graph.n_network_nodes == 0
    assert len(graph.split_segment) == len(graph.split_fraction) == 0
    # Linking those points gives the same records.
    linked = link.link_points(net, np.array([0.0, 1000.0]), np.array([0.0, 0.0]), 100.0)
    assert linked.n_nodes == 2 and linked.point_node.tolist() == [0, 1]
    assert len(linked.split_segment) == len(linked.split_fraction) == 0
