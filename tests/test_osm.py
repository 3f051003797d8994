"""Specification of the OSM PBF reader: ways, cut ways, facilities, bad input."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import shapely

from bereikbaarheid.config import Settings
from bereikbaarheid.errors import InputError
from bereikbaarheid.networks import build
from bereikbaarheid.sources import osm

from osmutil import rd, write_pbf

SETTINGS = Settings()
ROAD = {"highway": "residential"}


def _read(tmp_path, nodes, ways=(), relations=(), settings=SETTINGS):
    path = write_pbf(tmp_path / "test.osm.pbf", nodes, ways, relations)
    return osm.read_osm(path, settings)


# -- tag rules -----------------------------------------------------------------

@pytest.mark.parametrize(
    "tags, expected",
    [
        ({"amenity": "doctors"}, ["gp"]),
        ({"healthcare": "doctor"}, ["gp"]),
        ({"amenity": "doctors", "healthcare": "doctor"}, ["gp"]),
        ({"amenity": "doctors", "healthcare:speciality": "general"}, ["gp"]),
        ({"amenity": "doctors", "healthcare:speciality": "general;paediatrics"}, ["gp"]),
        ({"amenity": "doctors", "healthcare:speciality": "dentist"}, []),
        ({"amenity": "school"}, ["school"]),
        ({"amenity": "school", "isced:level": "1"}, ["school"]),
        ({"amenity": "school", "isced:level": "1;2"}, ["school"]),
        ({"amenity": "school", "isced:level": "2"}, []),
        ({"amenity": "school", "school": "primary"}, ["school"]),
        ({"amenity": "school", "school": "secondary"}, []),
        ({"shop": "supermarket"}, ["supermarket"]),
        ({"shop": "convenience"}, []),
        ({"amenity": "school", "shop": "supermarket"}, ["school", "supermarket"]),
        ({"building": "yes"}, []),
        # values split on ";" and ",", compared case-insensitively, ranges expanded
        ({"amenity": "school", "isced:level": "0,1"}, ["school"]),
        ({"amenity": "school", "isced:level": "0, 1"}, ["school"]),
        ({"amenity": "school", "isced:level": "1-2"}, ["school"]),
        ({"amenity": "school", "isced:level": "0-1"}, ["school"]),
        ({"amenity": "school", "isced:level": "2-3"}, []),
        ({"amenity": "school", "isced:level": "2,3"}, []),
        ({"amenity": "school", "school": "Primary"}, ["school"]),
        ({"amenity": "doctors", "healthcare:speciality": "General"}, ["gp"]),
        ({"amenity": "doctors", "healthcare:speciality": "paediatrics, general"}, ["gp"]),
        ({"Shop": "supermarket"}, []),  # keys stay case-sensitive
        ({"shop": "Supermarket"}, ["supermarket"]),
    ],
)
def test_facility_types_of_follows_include_and_exclude_rules(tags, expected):
    assert osm.facility_types_of(tags, SETTINGS) == expected


def test_facility_types_of_star_and_only_configured_types():
    settings = Settings(
        facility_types=("gp",),
        facility_tags={"gp": {"include": [{"healthcare": ["*"]}], "exclude": []}},
    )
    assert osm.facility_types_of({"healthcare": "anything"}, settings) == ["gp"]
    assert osm.facility_types_of({"shop": "supermarket"}, settings) == []


def test_facility_rule_values_are_case_insensitive():
    settings = Settings(
        facility_types=("supermarket",),
        facility_tags={"supermarket": {"include": [{"shop": ["Supermarket"]}],
                                       "exclude": [{"brand": ["!Albert Heijn"]}]}},
    )
    assert osm.facility_types_of({"shop": "supermarket", "brand": "albert heijn"}, settings) \
        == ["supermarket"]
    assert osm.facility_types_of({"shop": "supermarket", "brand": "Jumbo"}, settings) == []


# -- ways ----------------------------------------------------------------------

def test_reads_routable_ways_with_their_tags_and_projected_nodes(tmp_path):
    nodes = {1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (0, 100)}
    data = _read(tmp_path, nodes, [
        (10, [1, 2, 3], {"highway": "residential", "oneway": "yes", "name": "Dorpsstraat"}),
        (11, [3, 4], {"route": "ferry", "duration": "00:20"}),
        (12, [1, 4], {"waterway": "canal"}),  # not routable
        (13, [1, 3], {"highway": "primary", "motorroad": "yes"}),
    ])
    assert data.way_id.tolist() == [10, 11, 13]
    assert data.way_tags[0] == {"highway": "residential", "oneway": "yes"}  # name not kept
    assert data.way_tags[1] == {"route": "ferry", "duration": "00:20"}
    assert data.way_tags[2] == {"highway": "primary", "motorroad": "yes"}
    assert data.piece_ptr.tolist() == [0, 3, 5, 7]
    order = [1, 2, 3, 3, 4, 1, 3]
    assert data.node_id.tolist() == order
    np.testing.assert_allclose(data.node_x, [rd(*nodes[n])[0] for n in order], atol=0.05)
    np.testing.assert_allclose(data.node_y, [rd(*nodes[n])[1] for n in order], atol=0.05)
    assert 4.9 < data.node_lon[0] < 5.3 and 52.0 < data.node_lat[0] < 52.2
    assert data.report["ways_cut_at_extract_edge"] == 0


def test_way_cut_at_extract_edge_is_split_into_located_runs(tmp_path):
    nodes = {1: (0, 0), 2: (100, 0), 4: (300, 0), 5: (400, 0), 7: (600, 0)}
    # 3 and 6 are outside the extract; node 7 alone after 6 carries no segment.
    data = _read(tmp_path, nodes, [(10, [1, 2, 3, 4, 5, 6, 7], ROAD), (11, [5, 7], ROAD)])
    assert data.report["ways_cut_at_extract_edge"] == 1
    assert data.report["way_nodes_missing"] == 2
    assert data.piece_way.tolist() == [0, 0, 1]
    assert data.piece_ptr.tolist() == [0, 2, 4, 6]
    assert data.node_id.tolist() == [1, 2, 4, 5, 5, 7]
    network = build.build_network(data, "walk", Settings(keep_largest_component=False))
    pairs = set(zip(network.node_osm_id[network.edge_tails()].tolist(),
                    network.node_osm_id[network.indices].tolist()))
    assert pairs == {(1, 2), (2, 1), (4, 5), (5, 4), (5, 7), (7, 5)}  # nothing across 3 or 6


def test_extract_without_routable_ways_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no routable ways"):
        _read(tmp_path, {1: (0, 0), 2: (10, 0)}, [(10, [1, 2], {"waterway": "ditch"})])


# -- facilities ----------------------------------------------------------------

def _one_road():
    return {901: (-500, -500), 902: (-400, -500)}, [(900, [901, 902], ROAD)]


def test_facility_node_becomes_its_own_point(tmp_path):
    nodes, ways = _one_road()
    nodes[1] = (10, 20, {"shop": "supermarket", "name": "Buurtsuper"})
    data = _read(tmp_path, nodes, ways)
    f = data.facilities
    assert f["facility_id"].tolist() == ["osm:n1"]
    assert f["type"].tolist() == ["supermarket"]
    assert f["name"].tolist() == ["Buurtsuper"]
    assert f["source"].tolist() == ["osm"]
    assert np.isnan(f["capacity"]).all() and f["capacity"].dtype == np.float64
    assert f.crs == "EPSG:28992"
    assert f.geometry.iloc[0].distance(shapely.Point(rd(10, 20))) < 0.05


def test_closed_way_building_becomes_one_point_inside_it(tmp_path):
    nodes, ways = _one_road()
    nodes.update({1: (0, 0), 2: (40, 0), 3: (40, 30), 4: (0, 30)})
    ways.append((20, [1, 2, 3, 4, 1],
                 {"building": "yes", "amenity": "doctors", "healthcare": "doctor", "name": "Huisarts"}))
    data = _read(tmp_path, nodes, ways)
    f = data.facilities
    # the building is also an osmium area: still counted once, as the way
    assert f["facility_id"].tolist() == ["osm:w20"]
    assert f["type"].tolist() == ["gp"]
    polygon = shapely.Polygon([rd(0, 0), rd(40, 0), rd(40, 30), rd(0, 30)])
    assert polygon.buffer(0.05).contains(f.geometry.iloc[0])


def test_concave_u_shaped_building_point_lies_inside(tmp_path):
    nodes, ways = _one_road()
    # A U open to the north: the centroid (in the courtyard) is outside.
    u_shape = [(0, 0), (90, 0), (90, 90), (60, 90), (60, 20), (30, 20), (30, 90), (0, 90)]
    for i, xy in enumerate(u_shape, start=1):
        nodes[i] = xy
    ways.append((20, [1, 2, 3, 4, 5, 6, 7, 8, 1], {"building": "school", "amenity": "school"}))
    data = _read(tmp_path, nodes, ways)
    polygon = shapely.Polygon([rd(*xy) for xy in u_shape])
    assert not polygon.contains(polygon.centroid)
    point = data.facilities.geometry.iloc[0]
    assert data.facilities["facility_id"].tolist() == ["osm:w20"]
    assert polygon.contains(point)


def test_multipolygon_relation_becomes_point_inside_outside_its_hole(tmp_path):
    nodes, ways = _one_road()
    outer = [(0, 0), (100, 0), (100, 100), (0, 100)]
    inner = [(10, 10), (90, 10), (90, 90), (10, 90)]
    for i, xy in enumerate(outer, start=1):
        nodes[i] = xy
    for i, xy in enumerate(inner, start=11):
        nodes[i] = xy
    ways += [(30, [1, 2, 3, 4, 1], {}), (31, [11, 12, 13, 14, 11], {})]
    relations = [(40, [("w", 30, "outer"), ("w", 31, "inner")],
                  {"type": "multipolygon", "shop": "supermarket", "name": "Ring"})]
    data = _read(tmp_path, nodes, ways, relations)
    f = data.facilities
    assert f["facility_id"].tolist() == ["osm:r40"]
    assert f["name"].tolist() == ["Ring"]
    ring = shapely.Polygon([rd(*xy) for xy in outer], [[rd(*xy) for xy in inner]])
    assert ring.contains(f.geometry.iloc[0])


def test_excluded_facilities_and_feature_of_two_types(tmp_path):
    nodes, ways = _one_road()
    nodes.update({
        1: (0, 0, {"amenity": "school", "isced:level": "2"}),  # secondary: excluded
        2: (10, 0, {"amenity": "school", "isced:level": "1"}),
        3: (20, 0, {"amenity": "doctors", "healthcare:speciality": "dentist"}),  # excluded
        4: (30, 0, {"amenity": "school", "shop": "supermarket"}),
        5: (40, 0, {"healthcare": "doctor"}),
        6: (50, 0, {"amenity": "school", "isced:level": "0,1"}),  # kindergarten + primary
        7: (60, 0, {"amenity": "doctors", "healthcare:speciality": "General"}),
    })
    data = _read(tmp_path, nodes, ways)
    rows = list(zip(data.facilities["type"], data.facilities["facility_id"]))
    assert rows == [("gp", "osm:n5"), ("gp", "osm:n7"), ("school", "osm:n2"),
                    ("school", "osm:n4"), ("school", "osm:n6"), ("supermarket", "osm:n4")]
    assert data.report["facilities"] == {"gp": 2, "school": 3, "supermarket": 1}


# -- bad input -----------------------------------------------------------------

def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nowhere.osm.pbf"
    with pytest.raises(InputError, match="nowhere.osm.pbf") as info:
        osm.read_osm(path, SETTINGS)
    assert info.value.path == path


def test_text_file_is_not_a_pbf(tmp_path):
    path = tmp_path / "notes.osm.pbf"
    path.write_text("this is not OpenStreetMap data\n")
    with pytest.raises(InputError, match="not an OpenStreetMap PBF file"):
        osm.read_osm(path, SETTINGS)


def test_renamed_geopackage_is_not_a_pbf(tmp_path):
    path = tmp_path / "grid.gpkg"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE cells (id TEXT)")
    renamed = path.rename(tmp_path / "grid.osm.pbf")
    with pytest.raises(InputError, match="not an OpenStreetMap PBF file"):
        osm.read_osm(renamed, SETTINGS)


def test_empty_file_is_not_a_pbf(tmp_path):
    path = tmp_path / "empty.osm.pbf"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="not an OpenStreetMap PBF file"):
        osm.read_osm(path, SETTINGS)


# -- the real extract ----------------------------------------------------------

@pytest.mark.shared
def test_real_extract_reads_and_builds_every_mode(shared_data):
    data = osm.read_osm(shared_data / "osm/amsterdam-sciencepark.osm.pbf", SETTINGS)
    assert data.n_ways == 54  # of 184 ways, the highway=* ones
    # Every way node of this extract is present (what is cut at its edge are
    # the member lists of its route relations), so no way is split.
    assert data.report["ways_cut_at_extract_edge"] == 0
    assert len(data.facilities) == 0
    assert data.report["facilities"] == {"gp": 0, "school": 0, "supermarket": 0}
    assert 123000 < data.node_x.min() and data.node_x.max() < 126000
    assert 483000 < data.node_y.min() and data.node_y.max() < 486000
    for mode in SETTINGS.road_modes:
        network = build.build_network(data, mode, SETTINGS)
        assert network.crs == "EPSG:28992"
        assert network.n_edges > 0
        assert 123000 < network.node_x.min() and network.node_x.max() < 126000
        assert 483000 < network.node_y.min() and network.node_y.max() < 486000
        assert network.stats["ways_cut_at_extract_edge"] == 0


def test_a_facility_tagged_on_its_building_and_on_a_node_inside_counts_once(tmp_path):
    nodes, ways = _one_road()
    nodes.update({1: (0, 0), 2: (40, 0), 3: (40, 30), 4: (0, 30),
                  5: (20, 15, {"amenity": "doctors", "name": "Huisarts"}),
                  6: (20, 10, {"shop": "supermarket", "name": "Super"}),
                  7: (90, 90, {"amenity": "doctors", "name": "Elders"})})
    ways.append((20, [1, 2, 3, 4, 1], {"building": "yes", "amenity": "doctors"}))
    data = _read(tmp_path, nodes, ways)
    f = data.facilities
    # The node inside the GP building goes; the supermarket inside it (another
    # type) and the GP node elsewhere stay.
    assert sorted(zip(f["type"], f["facility_id"])) == [
        ("gp", "osm:n7"), ("gp", "osm:w20"), ("supermarket", "osm:n6")]
