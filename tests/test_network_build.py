"""Specification of the per-mode network builder: access, direction, speed,
ferries, components, and shortest paths against networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings as hyp_settings, strategies as st
from scipy.sparse import csgraph, csr_matrix

from bereikbaarheid.config import Settings
from bereikbaarheid.errors import InputError
from bereikbaarheid.networks import _way_rules, build
from bereikbaarheid.sources import osm

from osmutil import write_pbf

ALL = Settings(keep_largest_component=False)
# A straight street of three nodes 100 m apart, west to east.
LINE = {1: (0, 0), 2: (100, 0), 3: (200, 0)}


def _osm(tmp_path, nodes, ways):
    return osm.read_osm(write_pbf(tmp_path / "t.osm.pbf", nodes, ways), ALL)


def _edges(network):
    """{(tail osm id, head osm id): time_s} of a network."""
    tails = network.node_osm_id[network.edge_tails()]
    heads = network.node_osm_id[network.indices]
    return {(int(t), int(h)): float(s) for t, h, s in zip(tails, heads, network.edge_time_s)}


def _pairs(tmp_path, tags, mode, nodes=LINE, refs=(1, 2, 3), settings=ALL):
    data = _osm(tmp_path, nodes, [(10, list(refs), tags)])
    return set(_edges(build.build_network(data, mode, settings)))


FORWARD = {(1, 2), (2, 3)}
BOTH = FORWARD | {(2, 1), (3, 2)}


# -- direction -------------------------------------------------------------------

@pytest.mark.parametrize(
    "tags, mode, expected",
    [
        ({"highway": "residential", "oneway": "yes"}, "car", FORWARD),
        ({"highway": "residential", "oneway": "yes"}, "bike", FORWARD),
        ({"highway": "residential", "oneway": "yes"}, "walk", BOTH),
        ({"highway": "residential", "oneway": "-1"}, "car", {(2, 1), (3, 2)}),
        ({"highway": "residential", "oneway": "no"}, "car", BOTH),
        ({"highway": "residential"}, "car", BOTH),
        ({"highway": "tertiary", "junction": "roundabout"}, "car", FORWARD),
        ({"highway": "motorway"}, "car", FORWARD),
        ({"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"}, "bike", BOTH),
        ({"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"}, "car", FORWARD),
        ({"highway": "residential", "oneway": "yes", "cycleway": "opposite"}, "bike", BOTH),
        ({"highway": "residential", "oneway": "yes", "cycleway:left": "opposite_lane"}, "bike", BOTH),
        ({"highway": "cycleway", "oneway": "yes"}, "bike", FORWARD),
    ],
)
def test_oneway_rules(tmp_path, tags, mode, expected):
    assert _pairs(tmp_path, tags, mode) == expected


# -- access ----------------------------------------------------------------------

@pytest.mark.parametrize(
    "tags, usable_by",
    [
        ({"highway": "residential"}, {"walk", "bike", "car"}),
        ({"highway": "motorway", "oneway": "no"}, {"car"}),
        ({"highway": "trunk"}, {"car"}),
        ({"highway": "trunk", "foot": "yes"}, {"walk", "car"}),
        ({"highway": "trunk", "access": "yes"}, {"car"}),  # a bare access=yes opens nothing
        ({"highway": "footway"}, {"walk"}),
        ({"highway": "footway", "bicycle": "yes"}, {"walk", "bike"}),
        ({"highway": "cycleway"}, {"walk", "bike"}),
        ({"highway": "residential", "access": "no", "bicycle": "yes"}, {"bike"}),
        ({"highway": "residential", "access": "private"}, set()),
        ({"highway": "residential", "motor_vehicle": "no"}, {"walk", "bike"}),
        ({"highway": "residential", "vehicle": "no", "motorcar": "destination"}, {"walk", "car"}),
        ({"highway": "residential", "bicycle": "use_sidepath"}, {"walk", "car"}),
        ({"highway": "track", "motor_vehicle": "yes"}, {"walk", "bike", "car"}),
        ({"highway": "pedestrian", "area": "yes"}, set()),
        ({"highway": "construction"}, set()),
        # ways being built, planned or gone: no access tag opens them
        ({"highway": "construction", "construction": "residential", "foot": "yes",
          "bicycle": "yes", "motor_vehicle": "yes"}, set()),
        ({"highway": "construction", "access": "yes"}, set()),
        ({"highway": "proposed", "proposed": "cycleway", "bicycle": "designated"}, set()),
        ({"highway": "proposed", "foot": "yes", "motorcar": "yes"}, set()),
        ({"highway": "abandoned", "foot": "yes"}, set()),
        ({"highway": "razed", "bicycle": "yes"}, set()),
        ({"highway": "disused", "motor_vehicle": "yes"}, set()),
        ({"highway": "Construction;residential", "foot": "yes"}, set()),
        # on a road in use, construction=/proposed= describe works or plans
        ({"highway": "residential", "construction": "minor"}, {"walk", "bike", "car"}),
        ({"highway": "secondary", "proposed": "primary"}, {"walk", "bike", "car"}),
        # a platform is walked on when tagged so
        ({"highway": "platform"}, set()),
        ({"highway": "platform", "foot": "yes"}, {"walk"}),
        # a Dutch shopping street open to vans at loading hours only
        ({"highway": "pedestrian", "motor_vehicle": "delivery"}, {"walk"}),
        ({"highway": "residential", "access": "delivery"}, set()),
        ({"highway": "residential", "motor_vehicle": "official"}, {"walk", "bike", "car"}),
        ({"highway": "footway", "bicycle": "official"}, {"walk", "bike"}),
        ({"highway": "residential", "motor_vehicle": "customers"}, {"walk", "bike", "car"}),
        # a Dutch "autoweg" on a primary road: cars only unless foot/bicycle say so
        ({"highway": "primary", "motorroad": "yes"}, {"car"}),
        ({"highway": "primary", "motorroad": "yes", "access": "yes"}, {"car"}),
        ({"highway": "primary", "motorroad": "yes", "bicycle": "yes"}, {"bike", "car"}),
        ({"highway": "primary", "motorroad": "yes", "foot": "designated"}, {"walk", "car"}),
        ({"highway": "primary", "motorroad": "no"}, {"walk", "bike", "car"}),
    ],
)
def test_access_rules(tmp_path, tags, usable_by):
    data = _osm(tmp_path, LINE, [(10, [1, 2, 3], tags),
                                 (99, [1, 2], {"highway": "residential", "access": "no"})])
    for mode in ("walk", "bike", "car"):
        if mode in usable_by:
            assert build.build_network(data, mode, ALL).n_edges > 0, mode
        else:
            with pytest.raises(InputError, match=f"usable by mode '{mode}'"):
                build.build_network(data, mode, ALL)


# -- speed -----------------------------------------------------------------------

@pytest.mark.parametrize(
    "value, kmh",
    [("50", 50.0), ("50 mph", 50 * 1.609344), ("30mph", 30 * 1.609344), ("NL:urban", 50.0),
     ("NL:rural", 80.0), ("NL:motorway", 130.0), ("NL:trunk", 100.0), ("walk", 15.0),
     ("60;50", 50.0), ("70 km/h", 70.0), ("none", None), ("signals", None), (None, None),
     ("0", None), ("fast", None),
     # zones are case-insensitive and cover the neighbouring countries
     ("nl:urban", 50.0), ("NL:ZONE30", 30.0), ("NL:zone60", 60.0), ("NL:zone30;50", 30.0),
     ("DE:urban", 50.0), ("DE:rural", 100.0), ("DE:zone30", 30.0), ("DE:living_street", 7.0),
     ("DE:motorway", None), ("BE:urban", 50.0), ("BE:rural", 90.0), ("BE:zone30", 30.0),
     ("BE:motorway", 120.0), ("BE:living_street", 20.0), ("BE-VLG:urban", 50.0),
     ("BE-VLG:rural", 70.0), ("be-vlg:rural", 70.0), ("BE-WAL:urban", 50.0),
     ("BE-WAL:rural", 90.0), ("BE-BRU:urban", 30.0), ("XX:urban", None)],
)
def test_parse_maxspeed(value, kmh):
    got = _way_rules.parse_maxspeed_kmh(value)
    assert got == pytest.approx(kmh) if kmh is not None else got is None


@pytest.mark.parametrize(
    "value, seconds",
    [("00:20", 1200.0), ("1:05", 3900.0), ("00:20:30", 1230.0), ("45", 2700.0),
     ("PT1H10M", 4200.0), ("PT20M", 1200.0), ("PT", None), ("soon", None), ("00:00", None)],
)
def test_parse_duration(value, seconds):
    assert _way_rules.parse_duration_s(value) == seconds


@pytest.mark.parametrize(
    "tags, car_time_s",
    [
        ({"highway": "residential"}, 100 / (30 / 3.6)),         # class default
        ({"highway": "residential", "maxspeed": "50"}, 100 / (50 / 3.6)),
        ({"highway": "primary", "maxspeed": "NL:rural"}, 100 / (80 / 3.6)),
        ({"highway": "primary", "maxspeed": "none"}, 100 / (70 / 3.6)),
        ({"highway": "residential", "maxspeed": "60;50"}, 100 / (50 / 3.6)),
    ],
)
def test_car_time_from_maxspeed_or_class(tmp_path, tags, car_time_s):
    data = _osm(tmp_path, LINE, [(10, [1, 2, 3], tags)])
    times = _edges(build.build_network(data, "car", ALL))
    assert times[(1, 2)] == pytest.approx(car_time_s, rel=1e-3)


def test_maxspeed_ignored_when_disabled(tmp_path):
    data = _osm(tmp_path, LINE, [(10, [1, 2, 3], {"highway": "residential", "maxspeed": "50"})])
    network = build.build_network(data, "car", Settings(keep_largest_component=False,
                                                        use_maxspeed=False))
    assert _edges(network)[(1, 2)] == pytest.approx(12.0, rel=1e-3)  # 100 m at 30 km/h


def test_walk_and_bike_speeds_are_uniform(tmp_path):
    data = _osm(tmp_path, LINE, [(10, [1, 2, 3], {"highway": "primary", "maxspeed": "80"})])
    walk = build.build_network(data, "walk", ALL)
    bike = build.build_network(data, "bike", ALL)
    np.testing.assert_allclose(walk.edge_time_s, 72.0, rtol=1e-3)  # 100 m at 5 km/h
    np.testing.assert_allclose(bike.edge_time_s, 24.0, rtol=1e-3)  # 100 m at 15 km/h
    np.testing.assert_allclose(walk.edge_length_m, 100.0, atol=0.05)
    assert walk.edge_linkable.all() and not walk.edge_ferry.any()


# -- ferries ---------------------------------------------------------------------

# A quay street, then a ferry of 300 m in two legs (100 m, 200 m).
FERRY_NODES = {1: (-100, 0), 2: (0, 0), 3: (100, 0), 4: (300, 0)}


def _ferry(tmp_path, ferry_tags, mode):
    data = _osm(tmp_path, FERRY_NODES, [(10, [1, 2], {"highway": "residential"}),
                                        (11, [2, 3, 4], {"route": "ferry", **ferry_tags})])
    return build.build_network(data, mode, ALL)


def test_ferry_duration_is_spread_over_segments_by_length(tmp_path):
    network = _ferry(tmp_path, {"duration": "00:20"}, "walk")
    times = _edges(network)
    assert times[(2, 3)] + times[(3, 4)] == pytest.approx(1200.0)
    assert times[(2, 3)] == pytest.approx(400.0, rel=1e-3)  # a third of the length
    assert times[(4, 3)] + times[(3, 2)] == pytest.approx(1200.0)
    assert network.stats["ferry_edges"] == 4
    ferry = network.edge_ferry
    assert not network.edge_linkable[ferry].any() and network.edge_linkable[~ferry].all()


def test_ferry_without_duration_runs_at_ferry_speed(tmp_path):
    times = _edges(_ferry(tmp_path, {}, "bike"))
    assert times[(2, 3)] + times[(3, 4)] == pytest.approx(300 / (10 / 3.6), rel=1e-3)


def test_ferry_carries_cars_only_when_tagged(tmp_path):
    assert (2, 3) not in _edges(_ferry(tmp_path, {"duration": "00:20"}, "car"))
    car = _edges(_ferry(tmp_path, {"duration": "00:20", "motor_vehicle": "yes"}, "car"))
    assert car[(2, 3)] + car[(3, 4)] == pytest.approx(1200.0)
    assert (2, 3) not in _edges(_ferry(tmp_path, {"foot": "no"}, "walk"))


# -- graph structure -------------------------------------------------------------

def test_shared_nodes_join_ways_and_csr_is_sorted(tmp_path):
    nodes = {5: (0, 0), 3: (100, 0), 9: (100, 100), 1: (0, 100)}
    data = _osm(tmp_path, nodes, [(10, [5, 3, 9], {"highway": "residential"}),
                                  (11, [9, 1, 5], {"highway": "footway"})])
    network = build.build_network(data, "walk", Settings())
    # Nodes are numbered along a Z-order curve: (0,0), (100,0), (0,100), (100,100).
    assert network.node_osm_id.tolist() == [5, 3, 1, 9]
    assert network.n_edges == 8
    tails = network.edge_tails()
    order = np.lexsort((network.indices, tails))
    assert (order == np.arange(network.n_edges)).all()
    assert network.indices.dtype == np.int32 and network.indptr.dtype == np.int64


def test_parallel_edges_keep_the_fastest(tmp_path):
    # Two ways between the same nodes: a 30 km/h street and a 50 km/h one.
    data = _osm(tmp_path, {1: (0, 0), 2: (100, 0)},
                [(10, [1, 2], {"highway": "residential"}),
                 (11, [2, 1], {"highway": "residential", "maxspeed": "50"})])
    network = build.build_network(data, "car", ALL)
    assert network.n_edges == 2
    np.testing.assert_allclose(network.edge_time_s, 7.2, rtol=1e-3)


def test_largest_component_drops_one_way_dead_end(tmp_path):
    # A two-way square 1-2-3-4 and a one-way spur 3 -> 5 -> 6 leading nowhere.
    nodes = {1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (0, 100), 5: (200, 100), 6: (300, 100)}
    data = _osm(tmp_path, nodes, [(10, [1, 2, 3, 4, 1], {"highway": "residential"}),
                                  (11, [3, 5, 6], {"highway": "residential", "oneway": "yes"})])
    car = build.build_network(data, "car", Settings())
    assert sorted(car.node_osm_id.tolist()) == [1, 2, 3, 4]
    assert car.stats["nodes_before_scc"] == 6
    assert car.stats["share_nodes_dropped"] == pytest.approx(2 / 6)
    assert car.stats["ways_used"] == 1
    walk = build.build_network(data, "walk", Settings())
    assert walk.stats["nodes"] == 6 and walk.stats["share_nodes_dropped"] == 0.0


# -- independent reference: networkx ---------------------------------------------

def _scipy_times(network, sources):
    matrix = csr_matrix((network.edge_time_s, network.indices, network.indptr),
                        shape=(network.n_nodes, network.n_nodes))
    return csgraph.dijkstra(matrix, directed=True, indices=sources)


def _reference_graph(data, mode, settings):
    """networkx graph built straight from the OSM ways with the tag rules."""
    graph = nx.DiGraph()
    pieces = data.piece_of_node()
    for i in range(len(data.node_id) - 1):
        if pieces[i] != pieces[i + 1]:
            continue
        tags = data.way_tags[data.piece_way[pieces[i]]]
        if not _way_rules.access_allowed(tags, mode, settings):
            continue
        u, v = int(data.node_id[i]), int(data.node_id[i + 1])
        if u == v:
            continue
        length = float(np.hypot(data.node_x[i + 1] - data.node_x[i],
                                data.node_y[i + 1] - data.node_y[i]))
        time = length / (_way_rules.speed_kmh(tags, mode, settings) / 3.6)
        forward, backward = _way_rules.directions(tags, mode)
        for a, b, ok in ((u, v, forward), (v, u, backward)):
            if ok and (not graph.has_edge(a, b) or graph[a][b]["time"] > time):
                graph.add_edge(a, b, time=time)
    return graph


@pytest.mark.shared
@pytest.mark.parametrize("mode", ["walk", "car"])
def test_real_extract_shortest_paths_match_networkx(shared_data, mode):
    settings = Settings()
    data = osm.read_osm(shared_data / "osm/amsterdam-sciencepark.osm.pbf", settings)
    network = build.build_network(data, mode, settings)
    graph = _reference_graph(data, mode, settings)
    rng = np.random.default_rng(7)
    sources = rng.choice(network.n_nodes, size=5, replace=False)
    ours = _scipy_times(network, sources)
    for row, source in enumerate(sources):
        reference = nx.single_source_dijkstra_path_length(
            graph, int(network.node_osm_id[source]), weight="time")
        expected = np.array([reference.get(int(osm_id), np.inf) for osm_id in network.node_osm_id])
        # within the largest component every node is reachable, as in networkx
        assert np.isfinite(ours[row]).all()
        np.testing.assert_allclose(ours[row], expected, rtol=1e-9)


@hyp_settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 15), st.integers(0, 15),
                  st.sampled_from(["yes", "no", "-1", None]),
                  st.sampled_from(["residential", "primary", "footway", "living_street"])),
        min_size=1, max_size=30,
    )
)
def test_random_grids_match_networkx(tmp_path_factory, ways):
    # Nodes on a 4 x 4 grid of 100 m; each way is a straight two-node street.
    nodes = {i + 1: ((i % 4) * 100.0, (i // 4) * 100.0 + (i % 3)) for i in range(16)}
    way_list = []
    for k, (a, b, oneway, highway) in enumerate(ways):
        tags = {"highway": highway}
        if oneway:
            tags["oneway"] = oneway
        way_list.append((100 + k, [a + 1, b + 1], tags))
    path = write_pbf(tmp_path_factory.mktemp("grid") / "g.osm.pbf", nodes, way_list)
    data = osm.read_osm(path, ALL)
    for mode in ("walk", "car"):
        graph = _reference_graph(data, mode, ALL)
        if graph.number_of_edges() == 0:
            continue
        network = build.build_network(data, mode, ALL)
        assert network.n_edges == graph.number_of_edges()
        ours = _scipy_times(network, np.arange(network.n_nodes))
        for s, source in enumerate(network.node_osm_id.tolist()):
            reference = nx.single_source_dijkstra_path_length(graph, source, weight="time")
            expected = [reference.get(t, np.inf) for t in network.node_osm_id.tolist()]
            np.testing.assert_allclose(ours[s], expected, rtol=1e-9)


@pytest.mark.parametrize("tags", [
    {"disused:highway": "residential", "foot": "yes"},
    {"abandoned:highway": "service", "motor_vehicle": "yes"},
    {"building": "yes", "bicycle": "yes"},
])
def test_a_way_without_highway_is_no_road_whatever_its_access_tags(tmp_path, tags):
    # The PBF reader never takes it, and an OSM XML graph (which holds every
    # way) keeps it out through the same rule.
    data = _osm(tmp_path, LINE, [(10, [1, 2, 3], tags), (11, [1, 2], {"highway": "residential"})])
    assert data.way_id.tolist() == [11]
    for mode in ("walk", "bike", "car"):
        assert not _way_rules.access_allowed(tags, mode, ALL), mode
    assert _way_rules.access_allowed({"route": "ferry", "foot": "yes"}, "walk", ALL)


def test_an_osm_xml_graph_keeps_no_way_being_built_or_without_highway(tmp_path):
    from bereikbaarheid.networks import external

    # Three ways in a row, each opened for walking by foot=yes.
    xml = tmp_path / "t.osm"
    xml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        + "".join(f'<node id="{i}" lat="52.0" lon="{5 + i / 1000}"/>\n' for i in (1, 2, 3, 4))
        + '<way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>\n'
        '<way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="construction"/>'
        '<tag k="foot" v="yes"/></way>\n'
        '<way id="12"><nd ref="3"/><nd ref="4"/><tag k="disused:highway" v="residential"/>'
        '<tag k="foot" v="yes"/></way>\n</osm>\n')
    network = external.network_from_osmnx(external.read_graph(xml, "walk"), "walk", ALL)
    assert sorted(network.node_osm_id.tolist()) == [1, 2]
    assert network.stats["edges_unusable"] == 4  # both directions of ways 11 and 12
