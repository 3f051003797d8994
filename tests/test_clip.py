"""Specification of clipping an OSM PBF and a GTFS feed to analysis areas."""

from __future__ import annotations

import zipfile

import numpy as np
import osmium
import pandas as pd
import pyproj
import pytest
import shapely
from gtfsutil import every_day, stop_times, write_feed
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from osmutil import rd, write_pbf

from bereikbaarheid.config import Settings
from bereikbaarheid.errors import InputError
from bereikbaarheid.sources import clip, gtfs, osm

ROAD = {"highway": "residential"}


def box(x0, y0, x1, y1):
    """An area given in layout metres (see osmutil)."""
    return shapely.box(*rd(x0, y0), *rd(x1, y1))


def contents(path):
    """(node ids, way ids, relation ids) of a PBF file, in file order."""
    found = {"n": [], "w": [], "r": []}
    for obj in osmium.FileProcessor(str(path)):
        found[obj.type_str()].append(obj.id)
    return found["n"], found["w"], found["r"]


# -- OSM: a hand-made layout, area = the square (0..100, 0..100) -----------------
#
#   node 1 (50,50) school        node 9 (300,50) supermarket (outside)
#   way 10: 2 (50,20) - 3 (150,20) - 4 (250,20)   crosses the east edge
#   way 11: 5 (300,300) - 6 (400,300)             wholly outside
#   relation 20 multipolygon: ways 12 (inside ring) and 13 (ring at x 300..350)
#   relation 21 (route) holding relation 20; relation 22 holding way 11 only

NODES = {
    1: (50, 50, {"amenity": "school"}),
    2: (50, 20), 3: (150, 20), 4: (250, 20),
    5: (300, 300), 6: (400, 300),
    7: (20, 70), 8: (40, 70), 14: (40, 90),
    9: (300, 50, {"shop": "supermarket"}),
    15: (300, 100), 16: (350, 100), 17: (350, 150),
}
WAYS = [
    (10, [2, 3, 4], ROAD),
    (11, [5, 6], ROAD),
    (12, [7, 8, 14, 7], {}),
    (13, [15, 16, 17, 15], {}),
]
RELATIONS = [
    (20, [("w", 12, "outer"), ("w", 13, "outer")], {"type": "multipolygon", "shop": "supermarket"}),
    (21, [("r", 20, "")], {"type": "site"}),
    (22, [("w", 11, "")], {"type": "route"}),
]
AREA = box(0, 0, 100, 100)


@pytest.fixture
def layout(tmp_path):
    return write_pbf(tmp_path / "in.osm.pbf", NODES, WAYS, RELATIONS)


def test_way_crossing_the_edge_is_kept_whole_and_outside_way_dropped(layout, tmp_path):
    out = tmp_path / "a.osm.pbf"
    result = clip.clip_osm(layout, {"a": AREA}, {"a": out})["a"]
    nodes, ways, relations = contents(out)
    assert 10 in ways and {2, 3, 4} <= set(nodes)  # 3 and 4 lie outside
    assert 11 not in ways and not {5, 6} & set(nodes)
    assert 22 not in relations
    assert result["nodes_inside"] == 5  # 1, 2, 7, 8, 14
    assert (result["nodes"], result["ways"], result["relations"]) == (
        len(nodes), len(ways), len(relations))
    assert result["bytes"] == out.stat().st_size
    assert set(result["seconds"]) == {"select", "way_nodes", "write"}


def test_multipolygon_keeps_its_outside_member_way_and_parent_relation(layout, tmp_path):
    out = tmp_path / "a.osm.pbf"
    clip.clip_osm(layout, {"a": AREA}, {"a": out})
    nodes, ways, relations = contents(out)
    assert {12, 13} <= set(ways) and {15, 16, 17} <= set(nodes)
    assert relations == [20, 21]  # 21 holds the kept relation 20 (one level)


def test_node_facility_inside_kept_outside_dropped_in_input_order(layout, tmp_path):
    out = tmp_path / "a.osm.pbf"
    clip.clip_osm(layout, {"a": AREA}, {"a": out})
    nodes, ways, _ = contents(out)
    assert 1 in nodes and 9 not in nodes
    assert nodes == sorted(nodes) and ways == sorted(ways)


def test_clipped_file_reads_with_read_osm(layout, tmp_path):
    out = tmp_path / "a.osm.pbf"
    clip.clip_osm(layout, {"a": AREA}, {"a": out})
    data = osm.read_osm(out, Settings())
    assert data.way_id.tolist() == [10]
    assert data.report["ways_cut_at_extract_edge"] == 0
    assert sorted(data.facilities["facility_id"]) == ["osm:n1", "osm:r20"]


def test_several_areas_in_one_call_equal_separate_calls(layout, tmp_path):
    areas = {"west": AREA, "east": box(280, 280, 420, 320)}
    together = clip.clip_osm(layout, areas, {k: tmp_path / f"{k}.osm.pbf" for k in areas})
    for name, area in areas.items():
        alone = clip.clip_osm(layout, {name: area}, {name: tmp_path / f"{name}-1.osm.pbf"})
        assert (tmp_path / f"{name}.osm.pbf").read_bytes() == \
            (tmp_path / f"{name}-1.osm.pbf").read_bytes()
        assert {k: v for k, v in alone[name].items() if k != "seconds"} == \
            {k: v for k, v in together[name].items() if k != "seconds"}
    assert contents(tmp_path / "east.osm.pbf") == ([5, 6], [11], [22])


def test_bad_input_is_named(layout, tmp_path):
    with pytest.raises(InputError, match="missing.osm.pbf"):
        clip.clip_osm(tmp_path / "missing.osm.pbf", {"a": AREA}, {"a": tmp_path / "a.pbf"})
    not_pbf = tmp_path / "text.osm.pbf"
    not_pbf.write_text("hello")
    with pytest.raises(InputError, match="text.osm.pbf"):
        clip.clip_osm(not_pbf, {"a": AREA}, {"a": tmp_path / "a.osm.pbf"})
    assert not (tmp_path / "a.osm.pbf").exists()
    with pytest.raises(ValueError, match="empty"):
        clip.clip_osm(layout, {"a": shapely.Polygon()}, {"a": tmp_path / "a.osm.pbf"})
    with pytest.raises(ValueError, match="same keys"):
        clip.clip_osm(layout, {"a": AREA}, {"b": tmp_path / "b.osm.pbf"})


@st.composite
def random_layouts(draw):
    """Nodes on a 20 m lattice of 10 x 10 points (none on the area's edge), random ways."""
    n = draw(st.integers(5, 40))
    cells = draw(st.lists(st.integers(0, 99), min_size=n, max_size=n, unique=True))
    nodes = {k + 1: (20 * (c % 10) + 5, 20 * (c // 10) + 5) for k, c in enumerate(cells)}
    ways = []
    for w in range(draw(st.integers(0, 8))):
        refs = draw(st.lists(st.sampled_from(sorted(nodes)), min_size=2, max_size=5))
        ways.append((100 + w, refs, ROAD))
    corner = draw(st.tuples(st.integers(0, 9), st.integers(0, 9)))
    size = draw(st.tuples(st.integers(1, 10), st.integers(1, 10)))
    return nodes, ways, corner, size


@hsettings(max_examples=15, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(random_layouts())
def test_selection_matches_brute_force(tmp_path, case):
    nodes, ways, (cx, cy), (sx, sy) = case
    area = box(20 * cx, 20 * cy, 20 * (cx + sx), 20 * (cy + sy))
    src = write_pbf(tmp_path / "random.osm.pbf", nodes, ways)
    out = tmp_path / "random-out.osm.pbf"
    clip.clip_osm(src, {"a": area}, {"a": out})
    inside = {i for i, (x, y) in nodes.items() if shapely.Point(rd(x, y)).within(area)}
    kept_ways = [w for w, refs, _ in ways if inside & set(refs)]
    kept_nodes = inside | {r for w, refs, _ in ways if w in kept_ways for r in refs}
    got_nodes, got_ways, _ = contents(out)
    assert got_ways == kept_ways
    assert got_nodes == sorted(kept_nodes)


def test_demo_clipped_to_half_keeps_fewer_ways(demo_region, tmp_path):
    full = osm.read_osm(demo_region.osm, Settings())
    x0, x1 = full.node_x.min(), full.node_x.max()
    half = shapely.box(x0 - 1, full.node_y.min() - 1, (x0 + x1) / 2, full.node_y.max() + 1)
    out = tmp_path / "half.osm.pbf"
    clip.clip_osm(demo_region.osm, {"half": half}, {"half": out})
    clipped = osm.read_osm(out, Settings())
    assert 0 < clipped.n_ways < full.n_ways
    assert clipped.report["ways_cut_at_extract_edge"] == 0
    assert set(clipped.way_id) <= set(full.way_id)


# -- GTFS ----------------------------------------------------------------------

_TO_WGS84 = pyproj.Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)


def stop(stop_id, x, y, **extra):
    lon, lat = _TO_WGS84.transform(*rd(x, y))
    return {"stop_id": stop_id, "stop_name": stop_id, "stop_lat": f"{lat:.7f}",
            "stop_lon": f"{lon:.7f}", **extra}


def feed_tables():
    """Station S (inside) with platforms S1 (inside) and S2 (outside, 5 km away: a
    child of a kept station); A inside; B, C, D outside. Trip t1 A -> B, t2 C -> D,
    t3 S2 -> C (calls at a platform of the kept station)."""
    return {
        "agency": [{"agency_id": "ag1", "agency_name": "One", "agency_url": "http://a",
                    "agency_timezone": "Europe/Amsterdam"},
                   {"agency_id": "ag2", "agency_name": "Two", "agency_url": "http://b",
                    "agency_timezone": "Europe/Amsterdam"}],
        "stops": [
            stop("S", 50, 50, location_type=1, parent_station=""),
            stop("S1", 60, 50, location_type=0, parent_station="S"),
            stop("B", 5000, 0, location_type=0, parent_station=""),
            stop("A", 20, 20, location_type=0, parent_station=""),
            stop("S2", 5000, 5000, location_type=0, parent_station="S"),
            stop("C", 9000, 0, location_type=0, parent_station=""),
            stop("D", 9000, 5000, location_type=0, parent_station=""),
        ],
        "routes": [{"route_id": "r1", "agency_id": "ag1", "route_short_name": "1",
                    "route_type": 3},
                   {"route_id": "r2", "agency_id": "ag2", "route_short_name": "2",
                    "route_type": 3}],
        "trips": [{"route_id": "r1", "service_id": "wk", "trip_id": "t1", "shape_id": "sh1"},
                  {"route_id": "r2", "service_id": "we", "trip_id": "t2", "shape_id": "sh2"},
                  {"route_id": "r1", "service_id": "wk", "trip_id": "t3", "shape_id": ""}],
        "stop_times": (stop_times("t1", [("A", "08:00:00", "08:00:00"),
                                         ("B", "08:10:00", "08:10:00")])
                       + stop_times("t2", [("C", "09:00:00", "09:00:00"),
                                           ("D", "09:10:00", "09:10:00")])
                       + stop_times("t3", [("S2", "10:00:00", "10:00:00"),
                                           ("C", "10:10:00", "10:10:00")])),
        "calendar": [every_day("wk"), every_day("we")],
        "calendar_dates": [{"service_id": "wk", "date": "20260105", "exception_type": 2},
                           {"service_id": "we", "date": "20260106", "exception_type": 2}],
        "shapes": [{"shape_id": s, "shape_pt_lat": "52.0", "shape_pt_lon": "5.0",
                    "shape_pt_sequence": k} for s in ("sh1", "sh2") for k in (1, 2)],
        "transfers": [{"from_stop_id": "A", "to_stop_id": "B", "transfer_type": 0},
                      {"from_stop_id": "B", "to_stop_id": "D", "transfer_type": 0}],
        "feed_info": [{"feed_publisher_name": "test", "feed_publisher_url": "http://t",
                       "feed_lang": "nl"}],
    }


def read_member(path, name):
    with zipfile.ZipFile(path) as archive:
        return pd.read_csv(archive.open(f"{name}.txt"), dtype=str, keep_default_na=False)


def clip_one_feed(feed, area, output):
    """clip_gtfs for a single area."""
    return clip.clip_gtfs(feed, {"a": area}, {"a": output})["a"]


@pytest.fixture
def small_feed(tmp_path):
    return write_feed(tmp_path / "feed.zip", feed_tables())


def test_several_areas_in_one_read_give_the_bytes_of_separate_clips(small_feed, tmp_path):
    areas = {"west": box(0, 0, 100, 100), "east": box(150, 0, 400, 400)}
    together = clip.clip_gtfs(small_feed, areas, {k: tmp_path / f"{k}.zip" for k in areas})
    for name, area in areas.items():
        alone = clip_one_feed(small_feed, area, tmp_path / f"{name}-alone.zip")
        assert alone == together[name]
        assert (tmp_path / f"{name}.zip").read_bytes() == \
            (tmp_path / f"{name}-alone.zip").read_bytes()


def test_trips_touching_the_area_kept_whole_others_dropped(small_feed, tmp_path):
    out = tmp_path / "clipped.zip"
    result = clip_one_feed(small_feed, box(0, 0, 100, 100), out)
    assert read_member(out, "trips")["trip_id"].tolist() == ["t1", "t3"]
    st_rows = read_member(out, "stop_times")
    assert st_rows["stop_id"].tolist() == ["A", "B", "S2", "C"]  # whole trips
    # stops in input order: the station, its platforms, and the stops called at
    assert read_member(out, "stops")["stop_id"].tolist() == ["S", "S1", "B", "A", "S2", "C"]
    assert read_member(out, "routes")["route_id"].tolist() == ["r1"]
    assert read_member(out, "agency")["agency_id"].tolist() == ["ag1"]
    assert result == {"stops": 6, "trips": 2, "stop_times": 4, "routes": 1, "stops_inside": 3,
                      "rows": result["rows"]}
    assert result["rows"]["shapes"] == 2


def test_boarding_areas_of_a_kept_platform_are_kept(tmp_path):
    tables = feed_tables()
    # Boarding areas (location_type 4) hang below platforms: SB2 below S2
    # (outside, a platform of the kept station S), SB1 below S1 (inside) but
    # placed outside, and XB below C, a stop outside that no kept trip needs.
    tables["stops"] += [stop("SB2", 5010, 5000, location_type=4, parent_station="S2"),
                        stop("SB1", 3000, 3000, location_type=4, parent_station="S1"),
                        stop("XB", 9010, 5000, location_type=4, parent_station="D")]
    out = tmp_path / "clipped.zip"
    clip_one_feed(write_feed(tmp_path / "feed.zip", tables), box(0, 0, 100, 100), out)
    assert read_member(out, "stops")["stop_id"].tolist() == [
        "S", "S1", "B", "A", "S2", "C", "SB2", "SB1"]
    assert not gtfs.validate_gtfs(out).fatal


def test_calendar_transfers_and_shapes_follow_the_kept_trips(small_feed, tmp_path):
    out = tmp_path / "clipped.zip"
    clip_one_feed(small_feed, box(0, 0, 100, 100), out)
    assert read_member(out, "calendar")["service_id"].tolist() == ["wk"]
    assert read_member(out, "calendar_dates")["service_id"].tolist() == ["wk"]
    transfers = read_member(out, "transfers")
    assert transfers[["from_stop_id", "to_stop_id"]].values.tolist() == [["A", "B"]]
    assert set(read_member(out, "shapes")["shape_id"]) == {"sh1"}
    assert len(read_member(out, "feed_info")) == 1  # copied unchanged


def test_headers_and_member_order_preserved_and_output_deterministic(small_feed, tmp_path):
    first, second = tmp_path / "one.zip", tmp_path / "two.zip"
    clip_one_feed(small_feed, box(0, 0, 100, 100), first)
    clip_one_feed(small_feed, box(0, 0, 100, 100), second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(small_feed) as src, zipfile.ZipFile(first) as out:
        assert src.namelist() == out.namelist()
        for name in src.namelist():
            assert src.read(name).splitlines()[0] == out.read(name).splitlines()[0]
    report = gtfs.validate_gtfs(first)
    assert not report.fatal


def test_folder_feed_and_bad_stop_location(tmp_path):
    folder = write_feed(tmp_path / "feed", feed_tables(), as_zip=False)
    result = clip_one_feed(folder, box(0, 0, 100, 100), tmp_path / "out.zip")
    assert result["trips"] == 2
    tables = feed_tables()
    tables["stops"][2]["stop_lat"] = "north"
    bad = write_feed(tmp_path / "bad.zip", tables)
    with pytest.raises(InputError, match=r"stops.txt line 4 .*'north'"):
        clip_one_feed(bad, box(0, 0, 100, 100), tmp_path / "out2.zip")
    with pytest.raises(ValueError, match="empty"):
        clip_one_feed(folder, shapely.Polygon(), tmp_path / "out3.zip")


def test_demo_feed_clipped_to_half_still_validates(demo_region, tmp_path):
    with zipfile.ZipFile(demo_region.gtfs) as archive:
        stops = pd.read_csv(archive.open("stops.txt"), dtype=str, keep_default_na=False)
    to_rd = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
    x, y = to_rd.transform(stops["stop_lon"].astype(float), stops["stop_lat"].astype(float))
    half = shapely.box(np.min(x) - 1, np.min(y) - 1, (np.min(x) + np.max(x)) / 2, np.max(y) + 1)
    out = tmp_path / "half.zip"
    result = clip_one_feed(demo_region.gtfs, half, out)
    assert 0 < result["stops_inside"] < len(stops)
    report = gtfs.validate_gtfs(out)
    assert not report.fatal, [str(i) for i in report.fatal]


def test_ferries_clipped_to_texel_keep_the_texel_ferry(shared_data, tmp_path):
    texel = shapely.box(105_000, 550_000, 125_000, 580_000)
    out = tmp_path / "texel.zip"
    result = clip_one_feed(shared_data / "gtfs" / "dutch-ferries.zip", texel, out)
    stops = read_member(out, "stops")
    assert stops["stop_name"].str.contains("Texel").any()
    assert stops["stop_name"].str.contains("Den Helder").any()  # the other end of the trip
    assert result["trips"] > 0 and result["stops_inside"] > 0
    assert not gtfs.validate_gtfs(out).fatal
