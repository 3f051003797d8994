"""The demo's public transport as a network: national density at every scale, city, regional
and rail layers that meet, no overtaking; the rail layout on hand-made stations."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from bereikbaarheid.config import Settings
from bereikbaarheid.demo import _transit_rail, generate
from bereikbaarheid.networks import timetable
from bereikbaarheid.sources import gtfs

# A Dutch national feed on a weekday, per 1/160 of the Netherlands (scale 160
# is national size): at least 40,000 stops, 80,000 trips, 1.5 million stop times.
NATIONAL_PER_SCALE = {"stops": 40_000 / 160, "trips": 80_000 / 160, "stop_times": 1_500_000 / 160}


@pytest.fixture(scope="module")
def larger(tmp_path_factory):
    """The demo at scale 8: eight towns, trains with an intercity."""
    return generate.generate_demo(tmp_path_factory.mktemp("demo8") / "region", seed=2024, scale=8)


def read_feed(path) -> dict[str, pd.DataFrame]:
    with zipfile.ZipFile(path) as archive:
        return {name: pd.read_csv(archive.open(name), dtype=str, keep_default_na=False)
                for name in archive.namelist()}


def analysis_day(path) -> tuple[pd.DataFrame, pd.DataFrame, gtfs.GtfsFeed]:
    """Trips of the demo's analysis day (frequency copies included) and their stop times."""
    feed = gtfs.read_gtfs(path, generate.DEMO_PT_DATE, Settings())
    today = feed.trips["day_offset"].to_numpy() == 0
    renumber = np.cumsum(today) - 1
    st = feed.stop_times[today[feed.stop_times["trip"].to_numpy()]].copy()
    st["trip"] = renumber[st["trip"].to_numpy()]
    return feed.trips[today].reset_index(drop=True), st.reset_index(drop=True), feed


@pytest.mark.parametrize(("region", "scale"), [("demo_region", 1), ("larger", 8)])
def test_every_scale_has_the_density_of_the_national_feed(request, region, scale):
    trips, st, _ = analysis_day(request.getfixturevalue(region).gtfs)
    counts = {"stops": st["stop"].nunique(), "trips": len(trips), "stop_times": len(st)}
    for name, per_scale in NATIONAL_PER_SCALE.items():
        assert counts[name] >= per_scale * scale, (name, counts)


@pytest.mark.parametrize("region", ["demo_region", "larger"])
def test_no_trip_overtakes_another_of_its_line(request, region):
    """One RAPTOR pattern per route and stop sequence: the builder split none
    because a trip overtook another."""
    trips, st, feed = analysis_day(request.getfixturevalue(region).gtfs)
    tt = timetable.build_timetable(feed.stops, trips, st, feed.transfers,
                                   service_date=generate.DEMO_PT_DATE)
    sequences = st.groupby("trip")["stop"].agg(tuple)
    assert tt.n_patterns == len(set(zip(trips["route_id"], sequences)))
    assert tt.n_trips == len(trips)


def test_a_larger_region_gets_more_lines_of_every_kind(demo_region, larger):
    small = read_feed(demo_region.gtfs)["routes.txt"]["route_type"].value_counts()
    big = read_feed(larger.gtfs)["routes.txt"]["route_type"].value_counts()
    for route_type in ("0", "2", "3"):
        assert big[route_type] > small[route_type], route_type
    assert larger.n_stops > 7 * demo_region.n_stops


def test_trains_link_the_towns_with_sprinters_and_intercities(larger):
    f = read_feed(larger.gtfs)
    routes = f["routes.txt"][f["routes.txt"]["route_type"] == "2"]
    assert routes["route_short_name"].str.match(r"^(S|IC)\d+$").all()
    towns = set(f["stops.txt"].loc[f["stops.txt"]["stop_name"].str.endswith(", Busstation"),
                                   "stop_name"].str.removesuffix(", Busstation"))
    station_of = f["stops.txt"].set_index("stop_id")["stop_name"]
    st = f["stop_times.txt"].merge(f["trips.txt"], on="trip_id")
    st["s"] = st["arrival_time"].str.split(":").apply(lambda p: int(p[0]) * 60 + int(p[1]))

    def first_trip(route_id):
        trips = st[(st["route_id"] == route_id) & (st["direction_id"] == "0")]
        trip = trips[trips["trip_id"] == trips["trip_id"].iloc[0]]
        return trip.sort_values("stop_sequence", key=lambda c: c.astype(int))

    intercities = routes[routes["route_short_name"].str.startswith("IC")]
    assert len(intercities) >= 1
    for route_id in intercities["route_id"]:
        ic = first_trip(route_id)
        sprinter = first_trip(route_id.replace("IC", "S"))
        called = station_of[ic["stop_id"]].str.removeprefix("Station ")
        assert set(called) <= towns and len(called) >= 3
        # Fewer stops than the sprinter on the same track, and sooner there.
        assert set(ic["stop_id"]) < set(sprinter["stop_id"])
        on_sprinter = sprinter.set_index("stop_id")["s"]
        assert (ic["s"].iloc[-1] - ic["s"].iloc[0]
                < abs(on_sprinter[ic["stop_id"].iloc[-1]] - on_sprinter[ic["stop_id"].iloc[0]]))


def test_buses_meet_the_trains_at_every_station(larger):
    f = read_feed(larger.gtfs)
    stops = f["stops.txt"]
    platforms = stops.loc[stops["parent_station"] != "", ["stop_id", "parent_station"]]
    transfers = f["transfers.txt"].merge(platforms, left_on="to_stop_id", right_on="stop_id")
    from_bus = transfers[transfers["from_stop_id"].str.startswith("bus_")]
    served = set(f["stop_times.txt"]["stop_id"])
    from_bus = from_bus[from_bus["from_stop_id"].isin(served)]
    # Both platforms of every station are a short change from a bus stop.
    per_station = from_bus.groupby("parent_station")["to_stop_id"].nunique()
    assert set(per_station.index) == set(platforms["parent_station"])
    assert (per_station == 2).all()
    assert (from_bus["min_transfer_time"].astype(int) <= 300).all()


def test_the_neighbourhood_graph_joins_neighbours_only():
    line = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    assert _transit_rail._neighbourhood_graph(line) == [(0, 1), (1, 2), (2, 3)]
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    # The sides, not the diagonals: a corner lies nearer to both ends of each.
    assert _transit_rail._neighbourhood_graph(square) == [(0, 1), (0, 3), (1, 2), (2, 3)]


def test_lines_run_straight_on_through_a_junction():
    #        4
    #   1 -- 0 -- 2
    #        3
    plus = np.array([[0.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])
    edges = _transit_rail._neighbourhood_graph(plus)
    assert edges == [(0, 1), (0, 2), (0, 3), (0, 4)]
    assert sorted(_transit_rail._lines(edges, plus)) == [[1, 0, 2], [3, 0, 4]]


def test_a_long_run_of_track_is_cut_into_lines_sharing_a_station():
    n = 2 * _transit_rail.MAX_LINE_STATIONS - 1
    first, second = _transit_rail._cut([list(range(n))])
    assert first[-1] == second[0] and first + second[1:] == list(range(n))
    assert max(len(first), len(second)) <= _transit_rail.MAX_LINE_STATIONS
