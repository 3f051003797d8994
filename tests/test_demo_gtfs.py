"""The demo region's GTFS feed: real format, stops on the walk network, service patterns, determinism."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pyproj
import pytest
from scipy.spatial import cKDTree

from bereikbaarheid.config import Settings
from bereikbaarheid.demo import _transit, generate
from bereikbaarheid.networks import build
from bereikbaarheid.sources import osm as osm_source

TO_RD = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
WEEKDAY_ONLY_DATE = "2026-03-10"  # a Tuesday
KONINGSDAG = "2026-04-27"         # a Monday with the Sunday timetable


@pytest.fixture(scope="module")
def feed(demo_region) -> dict[str, pd.DataFrame]:
    with zipfile.ZipFile(demo_region.gtfs) as archive:
        return {name: pd.read_csv(archive.open(name), dtype=str, keep_default_na=False)
                for name in archive.namelist()}


def seconds(clock: pd.Series) -> np.ndarray:
    parts = clock.str.split(":", expand=True).astype(int)
    return (parts[0] * 3600 + parts[1] * 60 + parts[2]).to_numpy()


def test_the_zip_holds_every_gtfs_file_in_sorted_order(demo_region):
    with zipfile.ZipFile(demo_region.gtfs) as archive:
        names = archive.namelist()
        assert names == sorted(_transit.FILES)
        for info in archive.infolist():
            assert info.date_time == _transit.ZIP_DATE_TIME
            assert b"\r" not in archive.read(info)
    assert demo_region.n_stops > 0 and demo_region.n_trips > 0


def test_ids_are_unique_and_references_resolve(feed):
    stops, trips, stop_times = feed["stops.txt"], feed["trips.txt"], feed["stop_times.txt"]
    assert stops["stop_id"].is_unique and trips["trip_id"].is_unique
    assert feed["routes.txt"]["route_id"].is_unique
    assert set(trips["route_id"]) == set(feed["routes.txt"]["route_id"])
    assert set(trips["service_id"]) <= set(feed["calendar.txt"]["service_id"])
    assert set(stop_times["trip_id"]) == set(trips["trip_id"])
    assert set(stop_times["stop_id"]) <= set(stops["stop_id"])
    assert set(feed["frequencies.txt"]["trip_id"]) <= set(trips["trip_id"])
    transfers = feed["transfers.txt"]
    assert set(transfers["from_stop_id"]) | set(transfers["to_stop_id"]) <= set(stops["stop_id"])
    # Vehicles stop at platforms and bus stops, never at a station.
    stations = stops.loc[stops["location_type"] == "1", "stop_id"]
    assert not set(stop_times["stop_id"]) & set(stations)


def test_every_stop_lies_on_the_walk_network(demo_region, feed):
    settings = Settings()
    walk = build.build_network(osm_source.read_osm(demo_region.osm, settings), "walk", settings)
    stops = feed["stops.txt"]
    x, y = TO_RD.transform(stops["stop_lon"].astype(float).to_numpy(),
                           stops["stop_lat"].astype(float).to_numpy())
    dist_m, _ = cKDTree(np.column_stack([walk.node_x, walk.node_y])).query(np.column_stack([x, y]))
    assert dist_m.max() < 25.0, stops.loc[dist_m >= 25.0, "stop_name"].tolist()
    # At least 6 decimals: a stop sits on its street node, not beside it.
    assert (stops["stop_lat"].str.split(".").str[1].str.len() >= 6).all()


def test_city_buses_a_tram_regional_buses_a_train_and_a_ferry(feed):
    routes, stops = feed["routes.txt"], feed["stops.txt"]
    kinds = routes.groupby(["agency_id", "route_type"]).size().to_dict()
    # The main town (15,000 inhabitants) has a tram and two city bus lines.
    assert kinds[("SVK", "0")] == 1 and kinds[("SVK", "3")] == 2
    assert kinds[("ZLB", "3")] >= 5 and kinds[("RR", "2")] >= 1 and kinds[("VK", "4")] == 1
    platforms = stops[stops["parent_station"] != ""]
    stations = stops[stops["location_type"] == "1"]
    assert len(stations) >= 2
    assert (platforms.groupby("parent_station").size() == 2).all()
    assert set(platforms["parent_station"]) == set(stations["stop_id"])


def test_a_bus_stop_has_a_quay_per_direction_and_the_lines_share_them(feed):
    stops = feed["stops.txt"].set_index("stop_id")
    quays = stops.loc[stops.index.str.startswith("bus_")]
    point = quays.index.str.rsplit("_", n=1).str[0]
    # The quays of one stop carry its name and stand around its crossing.
    assert (quays.groupby(point)["stop_name"].nunique() == 1).all()
    x, y = TO_RD.transform(quays["stop_lon"].astype(float).to_numpy(),
                           quays["stop_lat"].astype(float).to_numpy())
    xy = pd.DataFrame({"x": x, "y": y, "point": point})
    centre = xy.groupby("point")[["x", "y"]].transform("mean")
    assert (np.hypot(xy["x"] - centre["x"], xy["y"] - centre["y"]) < 15.0).all()
    assert (quays.groupby(point).size() >= 2).mean() > 0.9
    st = feed["stop_times.txt"].merge(feed["trips.txt"], on="trip_id")
    # A line calls at the same stops on the way back, in reverse order, at
    # the other quay (but where it runs to a village and back on one road),
    # and ends where the way back starts.
    shared = calls = 0
    for route_id, trips in st[st["stop_id"].str.startswith("bus_")].groupby("route_id"):
        first = {d: trips[trips["trip_id"] == trips.loc[trips["direction_id"] == d,
                                                         "trip_id"].iloc[0]] for d in "01"}
        out = first["0"].sort_values("stop_sequence", key=lambda c: c.astype(int))["stop_id"]
        back = first["1"].sort_values("stop_sequence", key=lambda c: c.astype(int))["stop_id"]
        stop_of = out.str.rsplit("_", n=1).str[0].tolist()
        assert stop_of == back.str.rsplit("_", n=1).str[0].tolist()[::-1], route_id
        assert out.iloc[0] == back.iloc[-1] and out.iloc[-1] == back.iloc[0], route_id
        shared += len(set(out.iloc[1:-1]) & set(back.iloc[1:-1]))
        calls += len(out) - 2
    assert shared < 0.05 * calls
    lines_per_quay = st.drop_duplicates(["stop_id", "route_id"]).groupby("stop_id").size()
    assert lines_per_quay.max() >= 3


def test_times_are_ordered_along_every_trip(feed):
    st = feed["stop_times.txt"].copy()
    st["seq"] = st["stop_sequence"].astype(int)
    st["arr"] = seconds(st["arrival_time"])
    st["dep"] = seconds(st["departure_time"])
    st = st.sort_values(["trip_id", "seq"])
    assert (st["arr"] <= st["dep"]).all()
    same_trip = st["trip_id"].to_numpy()[1:] == st["trip_id"].to_numpy()[:-1]
    assert (st["arr"].to_numpy()[1:][same_trip] >= st["dep"].to_numpy()[:-1][same_trip]).all()
    assert (st.groupby("trip_id").size() >= 2).all()


def test_evening_buses_and_trains_run_past_midnight(feed):
    st = feed["stop_times.txt"].merge(feed["trips.txt"], on="trip_id")
    st = st.merge(feed["routes.txt"], on="route_id")
    late = st[seconds(st["arrival_time"]) >= 24 * 3600]
    assert {"2", "3"} <= set(late["route_type"])
    # The last trains leave at about 00:30 (24:30 of the previous service day).
    train_starts = seconds(st.loc[(st["route_type"] == "2") & (st["stop_sequence"] == "1"),
                                  "departure_time"])
    assert train_starts.max() >= 24 * 3600 + 30 * 60


def test_the_ferry_runs_every_half_hour_until_after_midnight(feed):
    freq = feed["frequencies.txt"]
    assert len(freq) >= 1
    assert (freq["exact_times"] == "0").all()
    assert (freq["headway_secs"] == "1800").all()
    assert (seconds(freq["end_time"]) > 24 * 3600).all()
    ferry_trips = feed["trips.txt"].merge(feed["routes.txt"], on="route_id")
    assert set(freq["trip_id"]) == set(ferry_trips.loc[ferry_trips["route_type"] == "4", "trip_id"])


def first_departures(feed, service: str) -> pd.DataFrame:
    """Each trip of the service with its route's agency and its first departure (s)."""
    first = feed["stop_times.txt"][feed["stop_times.txt"]["stop_sequence"] == "1"]
    trips = feed["trips.txt"].merge(first, on="trip_id").merge(feed["routes.txt"], on="route_id")
    trips = trips[trips["service_id"] == service].copy()
    trips["start_s"] = seconds(trips["departure_time"])
    return trips


def headways_min(trips: pd.DataFrame, start_h: int, end_h: int) -> pd.Series:
    """Minutes between consecutive departures of each route and direction within the hours."""
    day = trips[(trips["start_s"] >= start_h * 3600) & (trips["start_s"] < end_h * 3600)]
    day = day.sort_values(["route_id", "direction_id", "start_s"])
    gap = day.groupby(["route_id", "direction_id"])["start_s"].diff().to_numpy() / 60
    return pd.Series(gap, index=day["route_id"].to_numpy()).dropna()


def test_regional_buses_run_half_hourly_or_hourly_by_day_and_sparsely_in_the_evening(feed):
    bus = first_departures(feed, _transit.WEEKDAY)
    bus = bus[bus["agency_id"] == "ZLB"]
    start = bus["start_s"]
    per_route_peak = bus[(start >= 7 * 3600) & (start < 9 * 3600)].groupby(["route_id",
                                                                            "direction_id"]).size()
    per_route_evening = bus[(start >= 20 * 3600) & (start < 22 * 3600)].groupby(
        ["route_id", "direction_id"]).size()
    assert per_route_peak.max() == 4          # half-hourly 07-09 on the main lines
    assert per_route_evening.max() <= 1       # at most one bus in two evening hours
    assert set(headways_min(bus, 7, 19)) == {30.0, 60.0}
    sunday = first_departures(feed, _transit.SUNDAY)
    sunday = sunday[sunday["agency_id"] == "ZLB"]
    assert 0 < sunday["route_id"].nunique() < bus["route_id"].nunique()


def test_city_lines_run_every_5_to_15_minutes_by_day(feed):
    city = first_departures(feed, _transit.WEEKDAY)
    city = city[city["agency_id"] == "SVK"]
    gaps = headways_min(city, 7, 19)
    assert gaps.min() >= 5 and gaps.max() <= 15
    # The tram every 6 minutes in the morning peak, the buses every 10.
    peak = headways_min(city, 7, 9)
    tram = city.loc[city["route_type"] == "0", "route_id"].iloc[0]
    assert set(peak.loc[tram]) == {6.0}
    assert set(peak.drop(index=tram)) == {10.0}


def test_holidays_run_the_sunday_timetable_and_the_ferry_rests_at_christmas(feed):
    cal = feed["calendar.txt"].set_index("service_id")
    assert (cal["start_date"] == "20260101").all() and (cal["end_date"] == "20261231").all()
    assert cal.loc[_transit.WEEKDAY, ["monday", "tuesday", "saturday"]].tolist() == ["1", "1", "0"]
    exceptions = set(map(tuple, feed["calendar_dates.txt"].to_numpy().tolist()))
    for date in ("20260427", "20261225"):
        assert (_transit.WEEKDAY, date, "2") in exceptions
        assert (_transit.SUNDAY, date, "1") in exceptions
    assert (_transit.DAILY, "20261225", "2") in exceptions
    info = feed["feed_info.txt"].iloc[0]
    assert (info["feed_start_date"], info["feed_end_date"]) == ("20260101", "20261231")


def test_transfers_give_change_times_at_stations(feed):
    transfers = feed["transfers.txt"]
    stops = feed["stops.txt"].set_index("stop_id")
    assert (transfers["transfer_type"] == "2").all()
    assert (transfers["min_transfer_time"].astype(int) > 0).all()
    parent_from = stops.loc[transfers["from_stop_id"], "parent_station"].to_numpy()
    parent_to = stops.loc[transfers["to_stop_id"], "parent_station"].to_numpy()
    between_platforms = (parent_from != "") & (parent_from == parent_to)
    bus_to_platform = (parent_from == "") & (parent_to != "")
    assert between_platforms.sum() >= 2 and bus_to_platform.sum() >= 2


def test_the_same_seed_gives_a_byte_identical_feed_and_another_seed_another(demo_region, tmp_path):
    again = generate.generate_demo(tmp_path / "again", seed=2024)
    assert again.gtfs.read_bytes() == demo_region.gtfs.read_bytes()
    other = generate.generate_demo(tmp_path / "other", seed=7)
    assert other.gtfs.read_bytes() != demo_region.gtfs.read_bytes()


def test_the_gtfs_reader_finds_no_issue_in_the_feed(demo_region):
    gtfs = pytest.importorskip("bereikbaarheid.sources.gtfs")
    report = gtfs.validate_gtfs(demo_region.gtfs, WEEKDAY_ONLY_DATE, Settings())
    assert not report.fatal and not report.warnings, report.summary()


def test_koningsdag_runs_no_weekday_trips_and_a_tuesday_does(demo_region, feed):
    gtfs = pytest.importorskip("bereikbaarheid.sources.gtfs")
    service_of = feed["trips.txt"].set_index("trip_id")["service_id"]

    def services_today(date: str) -> set[str]:
        trips = gtfs.read_gtfs(demo_region.gtfs, date, Settings()).trips
        today = trips[(trips["day_offset"] == 0) & ~trips["frequency_based"]]
        return set(service_of[today["trip_id"]])

    assert services_today(KONINGSDAG) == {_transit.SUNDAY}
    assert services_today(WEEKDAY_ONLY_DATE) == {_transit.WEEKDAY}
    # The demo run's window 07:00-09:00 on the Tuesday has buses and trains,
    # and a train of Monday's service day still runs after midnight.
    read = gtfs.read_gtfs(demo_region.gtfs, WEEKDAY_ONLY_DATE, Settings())
    st = read.stop_times.merge(read.trips, left_on="trip", right_index=True)
    morning = st[(st["departure_s"] >= 7 * 3600) & (st["departure_s"] < 9 * 3600)]
    assert set(morning["route_type"]) == {0, 2, 3, 4}
    assert ((st["day_offset"] == -1) & (st["departure_s"] >= 0)).any()
