"""Networks from OSMnx graphs, GraphML and OSM XML files (networks/external.py)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import osmium
import osmnx
import pyproj
import pytest
from hypothesis import assume, given, settings as hyp_settings, strategies as st
from shapely.geometry import LineString

from bereikbaarheid.config import Settings
from bereikbaarheid.errors import InputError
from bereikbaarheid.kernels import dijkstra
from bereikbaarheid.networks import build, external
from bereikbaarheid.sources import osm as osm_source

SETTINGS = Settings()
TO_RD = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)

# Four corners of a small block in Amsterdam (lon, lat) and a bend point.
CORNERS = {1: (4.900, 52.350), 2: (4.902, 52.350), 3: (4.902, 52.352), 4: (4.900, 52.352)}
BEND = (4.901, 52.3505)


def rd(lon_lat):
    return np.array(TO_RD.transform(*lon_lat))


def dist_m(a, b):
    return float(np.hypot(*(rd(a) - rd(b))))


def block_graph() -> nx.MultiDiGraph:
    """1 <-> 2 a bent residential street (simplified, geometry through BEND),
    2 -> 3 one-way tertiary at maxspeed 50, 3 <-> 4 merged residential +
    unclassified, 4 <-> 1 residential at NL:urban with a slower parallel
    living street 4 -> 1, and a footway 3 -> 1."""
    g = nx.MultiDiGraph(crs="EPSG:4326")
    for node, (lon, lat) in CORNERS.items():
        g.add_node(node, x=lon, y=lat)
    bent = [CORNERS[1], BEND, CORNERS[2]]
    g.add_edge(1, 2, highway="residential", geometry=LineString(bent), length=150.0)
    g.add_edge(2, 1, highway="residential", geometry=LineString(bent[::-1]), length=150.0)
    g.add_edge(2, 3, highway="tertiary", maxspeed="50", oneway=True)
    for u, v in ((3, 4), (4, 3)):
        g.add_edge(u, v, highway=["residential", "unclassified"])
    for u, v in ((4, 1), (1, 4)):
        g.add_edge(u, v, highway="residential", maxspeed="NL:urban")
    g.add_edge(4, 1, highway="living_street")
    g.add_edge(3, 1, highway="footway")
    return g


def node_of(network, osm_id):
    return int(np.flatnonzero(network.node_osm_id == osm_id)[0])


def edge_time(network, u_id, v_id):
    u, v = node_of(network, u_id), node_of(network, v_id)
    row = slice(network.indptr[u], network.indptr[u + 1])
    hit = np.flatnonzero(network.indices[row] == v)
    return float(network.edge_time_s[row][hit[0]]) if hit.size else None


# ---------------------------------------------------------------------------
# A hand-made OSMnx graph, checked by eye
# ---------------------------------------------------------------------------

def test_block_by_car():
    net = external.network_from_osmnx(block_graph(), "car", SETTINGS)
    # The four corners and the bend; the footway is no car road.
    assert net.crs == "EPSG:28992"
    assert sorted(net.node_osm_id) == [-1, 1, 2, 3, 4]
    assert net.stats["interior_nodes"] == 1
    assert net.stats["edges_unusable"] == 1
    assert net.stats["source"] == "osmnx"
    bend = node_of(net, -1)
    assert np.allclose([net.node_x[bend], net.node_y[bend]], rd(BEND))

    # Bent street: two segments through the bend, both ways, 30 km/h.
    for a, b in ((1, -1), (-1, 2), (2, -1), (-1, 1)):
        a_ll = CORNERS.get(a, BEND)
        b_ll = CORNERS.get(b, BEND)
        assert edge_time(net, a, b) == pytest.approx(dist_m(a_ll, b_ll) / (30 / 3.6))
    assert edge_time(net, 1, 2) is None
    # One-way at maxspeed 50.
    assert edge_time(net, 2, 3) == pytest.approx(dist_m(CORNERS[2], CORNERS[3]) / (50 / 3.6))
    assert edge_time(net, 3, 2) is None
    # Merged classes: the faster (unclassified, 45 km/h) counts.
    assert edge_time(net, 3, 4) == pytest.approx(dist_m(CORNERS[3], CORNERS[4]) / (45 / 3.6))
    # NL:urban is 50; the parallel living street (15 km/h) is dropped.
    assert edge_time(net, 4, 1) == pytest.approx(dist_m(CORNERS[4], CORNERS[1]) / (50 / 3.6))
    assert net.n_edges == 4 + 1 + 2 + 2
    # From 3 back to 2 the one-way forces the way round by 4 and 1.
    times = dijkstra.one_to_all(net.indptr, net.indices, net.edge_time_s, node_of(net, 3))
    expected = (edge_time(net, 3, 4) + edge_time(net, 4, 1)
                + edge_time(net, 1, -1) + edge_time(net, -1, 2))
    assert times[node_of(net, 2)] == pytest.approx(expected)
    # Lengths come from the geometry, not the stated 150 m.
    assert net.stats["edges_length_differs"] == 2


def test_block_on_foot_uses_the_footway_at_walking_speed():
    net = external.network_from_osmnx(block_graph(), "walk", SETTINGS)
    assert edge_time(net, 3, 1) == pytest.approx(dist_m(CORNERS[3], CORNERS[1]) / (5 / 3.6))
    # The graph says 2 -> 3 only; its directions are kept as given.
    assert edge_time(net, 3, 2) is None


def test_projected_graph_gives_the_same_network():
    g = block_graph()
    projected = nx.MultiDiGraph(crs="EPSG:28992")
    for node, data in g.nodes(data=True):
        projected.add_node(node, x=rd((data["x"], data["y"]))[0], y=rd((data["x"], data["y"]))[1])
    for u, v, data in g.edges(data=True):
        data = dict(data)
        if "geometry" in data:
            data["geometry"] = LineString([rd(p) for p in data["geometry"].coords])
        projected.add_edge(u, v, **data)
    a = external.network_from_osmnx(g, "car", SETTINGS)
    b = external.network_from_osmnx(projected, "car", SETTINGS)
    assert np.array_equal(a.node_osm_id, b.node_osm_id)
    assert np.array_equal(a.indices, b.indices)
    assert np.allclose(a.edge_time_s, b.edge_time_s, rtol=1e-9)


def test_graph_without_crs_is_refused():
    g = block_graph()
    del g.graph["crs"]
    with pytest.raises(ValueError, match="CRS"):
        external.network_from_osmnx(g, "car", SETTINGS)


def test_ferry_edge_is_slow_and_unlinkable():
    g = block_graph()
    g.add_edge(2, 4, route="ferry")
    g.add_edge(4, 2, route="ferry", duration="00:10")
    net = external.network_from_osmnx(g, "walk", SETTINGS)
    assert edge_time(net, 2, 4) == pytest.approx(
        dist_m(CORNERS[2], CORNERS[4]) / (SETTINGS.ferry_speed_kmh / 3.6))
    # A duration needs the way id (osmid) to spread it; without, ferry speed.
    assert edge_time(net, 4, 2) == pytest.approx(edge_time(net, 2, 4))
    u = node_of(net, 2)
    row = slice(net.indptr[u], net.indptr[u + 1])
    ferry = net.indices[row] == node_of(net, 4)
    assert net.edge_ferry[row][ferry].all() and not net.edge_linkable[row][ferry].any()
    assert net.stats["ferry_edges"] == 2


# ---------------------------------------------------------------------------
# Property: travel times equal networkx Dijkstra on the original graph
# ---------------------------------------------------------------------------

@st.composite
def random_graphs(draw):
    n = draw(st.integers(2, 10))
    # Integer node coordinates, interior points on half metres: an interior
    # point never falls on a graph node.
    coords = draw(st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 2000)),
                           min_size=n, max_size=n, unique=True))
    g = nx.MultiDiGraph(crs="EPSG:28992")
    for i, (x, y) in enumerate(coords):
        g.add_node(10 * i + 7, x=150_000.0 + x, y=450_000.0 + y)
    nodes = list(g.nodes)
    for _ in range(draw(st.integers(1, 3 * n))):
        u, v = draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))
        bends = draw(st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 2000)), max_size=3))
        both = draw(st.booleans())
        data = {"highway": "residential"}
        if bends:
            pts = [(g.nodes[u]["x"], g.nodes[u]["y"])]
            pts += [(150_000.5 + x, 450_000.5 + y) for x, y in bends]
            pts.append((g.nodes[v]["x"], g.nodes[v]["y"]))
            data["geometry"] = LineString(pts)
        if u == v and not bends:
            continue
        g.add_edge(u, v, **data)
        if both:
            back = dict(data)
            if bends:
                back["geometry"] = LineString(list(data["geometry"].coords)[::-1])
            g.add_edge(v, u, **back)
    return g


def reference_length_m(g, u, v, data):
    if "geometry" in data:
        return LineString(data["geometry"]).length
    return float(np.hypot(g.nodes[u]["x"] - g.nodes[v]["x"], g.nodes[u]["y"] - g.nodes[v]["y"]))


@hyp_settings(max_examples=60, deadline=None)
@given(random_graphs())
def test_travel_times_match_networkx(g):
    assume(g.number_of_edges() > 0)
    settings = Settings(keep_largest_component=False)
    net = external.network_from_osmnx(g, "walk", settings)
    speed_ms = settings.walk_speed_kmh / 3.6
    for u, v, data in g.edges(data=True):
        data["time_s"] = reference_length_m(g, u, v, data) / speed_ms
    for source in g.nodes:
        if source not in set(net.node_osm_id):
            continue
        ours = dijkstra.one_to_all(net.indptr, net.indices, net.edge_time_s,
                                   node_of(net, source))
        reference = nx.single_source_dijkstra_path_length(g, source, weight="time_s")
        for target in g.nodes:
            if target not in set(net.node_osm_id):
                continue
            expected = reference.get(target, np.inf)
            got = ours[node_of(net, target)]
            if np.isinf(expected):
                assert np.isinf(got)
            else:
                assert got == pytest.approx(expected, abs=1e-6)


# ---------------------------------------------------------------------------
# OSM XML and GraphML files
# ---------------------------------------------------------------------------

BLOCK_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand">
  <node id="1" lat="52.350" lon="4.900" version="1"/>
  <node id="2" lat="52.350" lon="4.902" version="1"/>
  <node id="3" lat="52.352" lon="4.902" version="1"/>
  <node id="4" lat="52.352" lon="4.900" version="1"/>
  <node id="5" lat="52.3510" lon="4.9010" version="1"/>
  <node id="6" lat="52.3510" lon="4.9012" version="1"/>
  <node id="7" lat="52.3512" lon="4.9012" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/></way>
  <way id="11" version="1"><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="residential"/><tag k="oneway" v="yes"/>
    <tag k="oneway:bicycle" v="no"/></way>
  <way id="12" version="1"><nd ref="4"/><nd ref="1"/>
    <tag k="highway" v="residential"/></way>
  <way id="13" version="1"><nd ref="2"/><nd ref="4"/>
    <tag k="highway" v="footway"/></way>
  <way id="14" version="1"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="5"/>
    <tag k="building" v="yes"/></way>
</osm>
"""


@pytest.fixture()
def block_xml(tmp_path):
    path = tmp_path / "block.osm"
    path.write_text(BLOCK_XML)
    return path


def test_osm_xml_one_way_for_cars_two_way_on_foot(block_xml):
    car = external.network_from_osmnx(external.read_graph(block_xml, "car"), "car", SETTINGS)
    walk = external.network_from_osmnx(external.read_graph(block_xml, "walk"), "walk", SETTINGS)
    bike = external.network_from_osmnx(external.read_graph(block_xml, "bike"), "bike", SETTINGS)
    assert sorted(car.node_osm_id) == [1, 2, 3, 4]
    assert edge_time(car, 3, 4) is not None and edge_time(car, 4, 3) is None
    assert edge_time(car, 2, 4) is None  # footway
    assert edge_time(walk, 4, 3) is not None and edge_time(walk, 2, 4) is not None
    assert edge_time(walk, 4, 2) is not None
    # oneway:bicycle=no: cyclists ride 4 -> 3 against the one-way.
    assert edge_time(bike, 4, 3) is not None
    assert sorted(walk.node_osm_id) == [1, 2, 3, 4]  # not the building
    assert car.n_edges == 2 + 2 + 1 + 2 and walk.n_edges == 2 + 2 + 2 + 2 + 2
    assert edge_time(walk, 1, 2) == pytest.approx(dist_m(CORNERS[1], CORNERS[2]) / (5 / 3.6))


def test_graphml_round_trip(tmp_path):
    path = tmp_path / "block.graphml"
    osmnx.save_graphml(block_graph(), path)
    a = external.network_from_osmnx(block_graph(), "car", SETTINGS)
    b = external.network_from_osmnx(external.read_graph(path, "car"), "car", SETTINGS)
    assert np.array_equal(a.node_osm_id, b.node_osm_id)
    assert np.array_equal(a.indices, b.indices)
    assert np.allclose(a.edge_time_s, b.edge_time_s)


@pytest.mark.parametrize("name, text, message", [
    ("missing.osm", None, "not found"),
    ("roads.shp", "x", "unknown kind"),
    ("broken.osm", "<osm><node", "unreadable OSM XML"),
    ("broken.graphml", "not xml at all", "unreadable GraphML"),
])
def test_bad_files_name_the_file(tmp_path, name, text, message):
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        external.read_graph(path, "walk")
    assert info.value.path == path


# ---------------------------------------------------------------------------
# The demo region through OSM XML agrees with our own builder
# ---------------------------------------------------------------------------

def pbf_to_xml(pbf, xml):
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(pbf)):
            writer.add(obj)


def one_to_all_agreement(a, b):
    """Share of the nodes both networks hold whose travel times from the first
    shared node agree within 1 s, the largest difference, the shared count."""
    common, ia, ib = np.intersect1d(a.node_osm_id, b.node_osm_id, return_indices=True)
    common, ia, ib = common[common >= 0], ia[common >= 0], ib[common >= 0]
    t_a = dijkstra.one_to_all(a.indptr, a.indices, a.edge_time_s, int(ia[0]))
    t_b = dijkstra.one_to_all(b.indptr, b.indices, b.edge_time_s, int(ib[0]))
    diff = np.abs(t_a[ia] - t_b[ib])
    return float(np.mean(diff <= 1.0)), float(np.nanmax(diff)), int(common.size)


def test_demo_through_osm_xml_matches_our_builder(demo_region, tmp_path):
    xml = tmp_path / "demo.osm"
    pbf_to_xml(demo_region.osm, xml)
    ours = build.build_network(osm_source.read_osm(demo_region.osm, SETTINGS), "walk", SETTINGS)
    graph = external.read_graph(xml, "walk")
    theirs = external.network_from_osmnx(graph, "walk", SETTINGS)
    agree, worst, shared = one_to_all_agreement(ours, theirs)
    print(f"\ndemo walk: {ours.n_nodes} nodes ours, {theirs.n_nodes} via OSM XML, {shared} "
          f"shared; {agree:.2%} of one-to-all times within 1 s, largest difference {worst:.1e} s")
    # The same ways pass the same access rules, so the networks coincide.
    assert shared == ours.n_nodes == theirs.n_nodes
    assert theirs.n_edges == ours.n_edges
    assert agree == 1.0
    assert np.allclose(theirs.edge_time_s, ours.edge_time_s, atol=1e-6)

    # Simplified per OSM way, the expanded geometries give the network back.
    per_way = external.network_from_osmnx(
        osmnx.simplify_graph(graph, edge_attrs_differ=["osmid"]), "walk", SETTINGS)
    agree, worst, shared = one_to_all_agreement(ours, per_way)
    print(f"simplified per way: {per_way.n_nodes} nodes, {shared} OSM nodes kept; "
          f"{agree:.2%} within 1 s, largest difference {worst:.1e} s")
    assert per_way.n_nodes == ours.n_nodes and per_way.n_edges == ours.n_edges
    assert agree == 1.0
    # OSMnx's default simplification merges consecutive ways whose tags
    # differ (a street continuing as a path closed to the mode, a ferry and
    # the road onto it) into one edge, which our rules can only take as a
    # whole: lossy, so only reported.
    merged = external.network_from_osmnx(osmnx.simplify_graph(graph), "walk", SETTINGS)
    agree, worst, shared = one_to_all_agreement(ours, merged)
    print(f"default simplification: {merged.n_nodes} nodes; {agree:.2%} of {shared} "
          f"within 1 s, largest difference {worst:.1f} s")


# ---------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------

def test_cache_reuses_rebuilds_on_change_and_on_corruption(block_xml, tmp_path):
    cache_dir = tmp_path / "cache"
    first, report = external.load_or_build_external(block_xml, "car", SETTINGS, cache_dir)
    assert report["status"] == "built" and report["reason"] == "no cache"
    assert report["source"] == str(block_xml) and report["stats"]["nodes"] == 4

    again, report = external.load_or_build_external(block_xml, "car", SETTINGS, cache_dir)
    assert report["status"] == "reused"
    for name in first.ARRAYS:
        assert np.array_equal(getattr(first, name), getattr(again, name))

    # Another mode of the same file is its own entry.
    _, report = external.load_or_build_external(block_xml, "walk", SETTINGS, cache_dir)
    assert report["status"] == "built"

    # Changed settings of the mode rebuild.
    slower = Settings(walk_speed_kmh=4.0)
    _, report = external.load_or_build_external(block_xml, "walk", slower, cache_dir)
    assert report == {**report, "status": "built", "reason": "settings changed"}

    block_xml.write_text(BLOCK_XML.replace('v="footway"', 'v="path"'))
    _, report = external.load_or_build_external(block_xml, "car", SETTINGS, cache_dir)
    assert report["status"] == "built" and report["reason"] == "input changed"

    array_file = next(cache_dir.glob("*.external.car.arrays")) / "edge_time_s.npy"
    array_file.write_bytes(array_file.read_bytes()[:-10] + b"0123456789")
    _, report = external.load_or_build_external(block_xml, "car", SETTINGS, cache_dir)
    assert report["status"] == "built" and report["reason"].startswith("verification failed")
    _, report = external.load_or_build_external(block_xml, "car", SETTINGS, cache_dir)
    assert report["status"] == "reused"
