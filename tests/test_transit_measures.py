"""Public-transport measures on a hand-made road and bus line whose answers can be seen by eye."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from netutil import both_ways, bus_line, make_network

from bereikbaarheid.config import Settings
from bereikbaarheid.measures import transit as transit_measures
from bereikbaarheid.networks import link, transit

# Walking 1 m/s on roads and connectors, so walking seconds = metres.
SETTINGS = Settings(
    modes=("pt",), facility_types=("gp",), walk_speed_kmh=3.6,
    connector_speed_kmh={"walk": 3.6, "bike": 18.0, "car": 15.0},
    thresholds_min=(10, 15), pt_date="2026-03-10", pt_window=("07:00", "07:10"),
    pt_percentiles=(25, 50, 75), pt_time_percentile=50)
H7 = 7 * 3600
PER_CELL = Settings(**{**SETTINGS.__dict__, "pt_method": "per-cell"})
BOTH = pytest.mark.parametrize("settings", [SETTINGS, PER_CELL], ids=["profile", "per-cell"])


def _line(settings: Settings = SETTINGS):
    """The hand-made bus line of ``netutil.bus_line`` on the analysis day."""
    return bus_line(settings.pt_date)


# The cell walks 10 m to the road and 100 m to S0 (110 s); the GP is 110 s from S1.
CELL = (np.array([0.0]), np.array([10.0]))
GP = pd.DataFrame({"facility_id": ["gp1"], "type": ["gp"], "x": [6000.0], "y": [10.0]})


@BOTH
def test_percentiles_over_the_window_follow_the_bus_timetable(settings):
    tt, nets = _line()
    table = transit_measures.compute_transit(tt, nets, *CELL, GP, settings).table
    # Leaving 07:00-07:03 catches the 07:05 bus (arrive 07:11:50): 710, 650, 590, 530 s;
    # leaving 07:04-07:09 waits for the 07:15 bus (arrive 07:21:50): 1070 ... 770 s.
    # Nearest rank over the 10 departures: p25 = 3rd = 650, p50 = 5th = 770, p75 = 8th = 950.
    assert table["gp_pt_time_p25_s"][0] == 650
    assert table["gp_pt_time_p50_s"][0] == 770
    assert table["gp_pt_time_p75_s"][0] == 950
    assert table["gp_pt_time_s"][0] == 770
    assert table["gp_pt_facility_id"][0] == "gp1"
    if settings.pt_method == "per-cell":
        assert (table["gp_pt_n_10min"][0], table["gp_pt_n_15min"][0]) == (0, 1)
    else:
        assert not any("_pt_n_" in c for c in table.columns)
    assert table["pt_link_m"][0] == pytest.approx(10.0)


def test_bike_access_reaches_the_stop_sooner():
    settings = Settings(**{**SETTINGS.__dict__, "pt_access_mode": "bike"})
    tt, nets = _line(settings)
    table = transit_measures.compute_transit(tt, nets, *CELL, GP, settings).table
    # 110 m at 5 m/s = 22 s: leaving 07:00-07:04 catches the 07:05 bus (710 ... 470 s),
    # 07:05-07:09 the 07:15 bus (1010 ... 770 s); the 5th of ten is 710 s.
    assert table["gp_pt_time_s"][0] == 710
    assert table["gp_pt_time_p25_s"][0] == 590


def test_walking_all_the_way_counts_when_it_is_faster():
    tt, nets = _line()
    near = pd.DataFrame({"facility_id": ["gp0"], "type": ["gp"], "x": [300.0], "y": [0.0]})
    table = transit_measures.compute_transit(tt, nets, *CELL, near, SETTINGS).table
    # 10 m connector + 300 m along the road; no bus needed, every departure alike.
    assert table["gp_pt_time_p25_s"][0] == table["gp_pt_time_p75_s"][0] == 310


@BOTH
def test_no_service_and_too_far_to_walk_is_not_reached(settings):
    tt, nets = _line()
    settings = Settings(**{**settings.__dict__, "pt_window": ("10:00", "10:10")})
    table = transit_measures.compute_transit(tt, nets, *CELL, GP, settings).table
    # No bus after 07:35 and a 6,020 s walk is within the 120-minute limit.
    assert table["gp_pt_time_s"][0] == 6020
    short = Settings(**{**settings.__dict__, "pt_max_time_min": 60.0})
    table = transit_measures.compute_transit(tt, nets, *CELL, GP, short).table
    assert np.isnan(table["gp_pt_time_s"][0])
    assert table["gp_pt_facility_id"][0] is None
    if settings.pt_method == "per-cell":
        assert table["gp_pt_n_15min"][0] == 0


def test_walking_transfers_follow_the_walk_network():
    # Two stops 150 m apart along the road, a third 150 m off it with no path.
    walk = make_network([(0, 0), (1000, 0)], both_ways([(0, 1)]), speed_ms=1.0)
    settings = Settings(**{**SETTINGS.__dict__, "pt_transfer_max_m": 200.0,
                           "max_link_distance_m": 100.0})
    (a, b, walk_s), unlinked = transit.walking_transfers(
        np.array([100.0, 250.0, 400.0]), np.array([0.0, 0.0, 150.0]), walk, settings)
    assert list(zip(a, b, walk_s)) == [(0, 1, 150), (1, 0, 150)]
    assert unlinked == 1


@BOTH
def test_cells_in_chunks_give_the_same_table(monkeypatch, settings):
    tt, nets = _line()
    x = np.linspace(0.0, 6000.0, 13)
    y = np.full(13, 10.0)
    whole = transit_measures.compute_transit(tt, nets, x, y, GP, settings).table
    monkeypatch.setattr(transit_measures, "_CHUNK_CELLS", 2)
    chunked = transit_measures.compute_transit(tt, nets, x, y, GP, settings).table
    pd.testing.assert_frame_equal(whole, chunked)
    assert whole["gp_pt_time_s"].notna().all()


def test_the_profile_names_the_facility_nearest_at_the_most_departures():
    tt, nets = _line()
    # gp_a beside S1, the bus's last stop; gp_b 710 s on foot from the cell.
    # By bus gp_a takes 710, 650, 590, 530 s leaving 07:00-07:03 and 1070 ...
    # 770 s leaving 07:04-07:09: gp_b is nearer at those six, and at 07:00
    # the tie goes to the first. The times are per departure the better one.
    two = pd.DataFrame({"facility_id": ["gp_a", "gp_b"], "type": ["gp", "gp"],
                        "x": [6000.0, 700.0], "y": [10.0, 0.0]})
    cells = (np.array([0.0]), np.array([10.0]))
    profile = transit_measures.compute_transit(tt, nets, *cells, two, SETTINGS).table
    per_cell = transit_measures.compute_transit(tt, nets, *cells, two, PER_CELL).table
    times = [c for c in profile.columns if "_time_" in c]
    pd.testing.assert_frame_equal(profile[times], per_cell[times])
    # 710 650 590 530 710 710 710 710 710 710: p25 = 3rd = 650, p75 = 8th = 710.
    assert (profile["gp_pt_time_p25_s"][0], profile["gp_pt_time_p75_s"][0]) == (650, 710)
    assert profile["gp_pt_facility_id"][0] == "gp_b"


def test_walk_only_legs_found_a_share_of_facilities_at_a_time_agree(monkeypatch):
    tt, nets = _line()
    x = np.linspace(0.0, 6000.0, 25)
    y = np.full(25, 10.0)
    many = pd.DataFrame({"facility_id": [f"f{i}" for i in range(7)], "type": "gp",
                         "x": np.linspace(300.0, 5700.0, 7), "y": 0.0})
    whole = transit_measures.compute_transit(tt, nets, x, y, many, SETTINGS).table
    monkeypatch.setattr(transit_measures, "_DIRECT_SHARE", 2)
    shared = transit_measures.compute_transit(tt, nets, x, y, many, SETTINGS).table
    pd.testing.assert_frame_equal(whole, shared)
    per_cell = transit_measures.compute_transit(tt, nets, x, y, many, PER_CELL).table
    times = [c for c in whole.columns if "_time_" in c]
    pd.testing.assert_frame_equal(whole[times], per_cell[times])


@hsettings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000))
def test_point_pairs_agree_with_all_pairs_dijkstra(seed):
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 12))
    edges = rng.integers(0, n, size=(int(rng.integers(1, 30)), 2))
    edges = edges[edges[:, 0] != edges[:, 1]]
    coords = rng.uniform(0, 500, size=(n, 2))
    net = make_network(coords, edges if len(edges) else [(0, 1)])
    # Several points per node, some unlinked, with their own connector costs.
    n_points = int(rng.integers(1, 15))
    graph = link.LinkedGraph(
        indptr=net.indptr, indices=net.indices, edge_time_ms=net.edge_time_s * 1000.0,
        edge_length_mm=net.edge_length_m * 1000.0, point_node=rng.integers(-1, n, n_points),
        connector_m=np.zeros(n_points), n_network_nodes=n)
    extra = rng.uniform(0, 50, n_points)
    sources = rng.choice(n_points, int(rng.integers(1, n_points + 1)), replace=False)
    targets = rng.choice(n_points, int(rng.integers(1, n_points + 1)), replace=False)
    cutoff = float(rng.uniform(0, 600))
    src, tgt, cost = link.point_pairs(graph, sources, targets, cutoff, extra, extra)

    matrix = csr_matrix((net.edge_time_s, net.indices, net.indptr), shape=(n, n))
    full = dijkstra(matrix, directed=True)
    expected = []
    for a in sorted(sources):
        for b in sorted(targets):
            na, nb = graph.point_node[a], graph.point_node[b]
            if na < 0 or nb < 0:
                continue
            total = full[na, nb] + extra[a] + extra[b]
            if total <= cutoff:
                expected.append((a, b, total))
    assert [(int(a), int(b)) for a, b in zip(src, tgt)] == [(a, b) for a, b, _ in expected]
    np.testing.assert_allclose(cost, [c for _, _, c in expected], rtol=1e-12)


def test_the_travel_time_matrix_gives_every_departure_and_the_percentiles():
    tt, nets = _line()
    origins = pd.DataFrame({"id": ["cell"], "x": CELL[0], "y": CELL[1]})
    dests = pd.DataFrame({"id": ["gp1", "near"], "x": [6000.0, 300.0], "y": [10.0, 0.0]})
    minutes = transit_measures.travel_time_matrix(tt, nets, origins, dests, SETTINGS,
                                                  per_departure=True)
    to_gp = minutes[minutes["to_id"] == "gp1"]
    assert list(to_gp["departure_s"]) == [H7 + 60 * m for m in range(10)]
    assert list(to_gp["travel_time_s"]) == [710, 650, 590, 530, 1070, 1010, 950, 890, 830, 770]
    assert set(minutes.loc[minutes["to_id"] == "near", "travel_time_s"]) == {310}
    pct = transit_measures.travel_time_matrix(tt, nets, origins, dests, SETTINGS)
    assert list(pct.columns) == ["from_id", "to_id", "travel_time_p25_s", "travel_time_p50_s",
                                 "travel_time_p75_s"]
    assert pct.iloc[0, 2:].tolist() == [650, 770, 950]


def test_the_lowest_percentile_is_the_quickest_departure():
    # Leaving 07:00-07:09 the GP takes 710 650 590 530 1070 1010 950 890 830 770 s.
    # Nearest rank of p10 over 10 departures: ceil(0.1 * 10) = 1st, the quickest (530 s).
    settings = Settings(**{**SETTINGS.__dict__, "pt_percentiles": (10, 50),
                           "pt_time_percentile": 10})
    tt, nets = _line(settings)
    table = transit_measures.compute_transit(tt, nets, *CELL, GP, settings).table
    assert (table["gp_pt_time_p10_s"][0], table["gp_pt_time_p50_s"][0]) == (530, 770)
    nearest = transit_measures.nearest_by_departure(tt, nets, *CELL, GP, settings)
    assert nearest.time_s().tolist() == [530.0]
    # Without its only GP the cell reaches none.
    cells, time_s = nearest.time_without(0)
    assert cells.tolist() == [0] and np.isnan(time_s).all()


def test_stops_on_a_road_junction_are_linked_and_stops_far_from_roads_are_not():
    from bereikbaarheid.networks import timetable

    # The road of the bus line (nodes at x = 0 and 6000); S0 stands on node 0,
    # S1 beside the road, S2 5 km from it (beyond max_link_distance_m, 1600 m).
    walk = make_network([(0, 0), (6000, 0)], both_ways([(0, 1)]), speed_ms=1.0)
    stops = pd.DataFrame({"stop_id": ["S0", "S1", "S2"], "stop_name": ["A", "B", "C"],
                          "station_id": "", "x": [0.0, 5900.0, 3000.0],
                          "y": [0.0, 0.0, 5000.0]})
    trips = pd.DataFrame({"trip_id": ["bus0"], "route_id": "1", "route_type": 3})
    stop_times = pd.DataFrame([(0, 0, H7 + 300, H7 + 300, True, True),
                               (0, 1, H7 + 600, H7 + 600, True, True)],
                              columns=["trip", "stop", "arrival_s", "departure_s",
                                       "pickup", "dropoff"])
    tt = timetable.build_timetable(stops, trips, stop_times, service_date=SETTINGS.pt_date)
    report = transit_measures.compute_transit(tt, {"walk": walk}, *CELL, GP, SETTINGS).report
    assert (report["stops"], report["stops_unlinked"]) == (3, 1)
