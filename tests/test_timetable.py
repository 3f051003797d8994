"""Timetables as RAPTOR arrays: patterns, no overtaking, transfers and change times."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from bereikbaarheid.networks import timetable


def _tables(trips: list[tuple[str, str, list[tuple[int, int, int]]]], n_stops: int = 4,
            stations: dict[int, str] | None = None):
    """Stops 0..n-1 on a line 100 m apart; trips as (trip_id, route_id, [(stop, arr, dep)])."""
    stations = stations or {}
    stops = pd.DataFrame({
        "stop_id": [f"s{i}" for i in range(n_stops)],
        "stop_name": [f"Stop {i}" for i in range(n_stops)],
        "station_id": [stations.get(i, "") for i in range(n_stops)],
        "x": np.arange(n_stops) * 100.0, "y": np.zeros(n_stops),
    })
    trip_table = pd.DataFrame({"trip_id": [t[0] for t in trips], "route_id": [t[1] for t in trips],
                               "route_type": 3})
    rows = [(k, s, a, d, True, True) for k, (_, _, times) in enumerate(trips) for s, a, d in times]
    stop_times = pd.DataFrame(rows, columns=["trip", "stop", "arrival_s", "departure_s",
                                             "pickup", "dropoff"])
    return stops, trip_table, stop_times


def _pattern_trips(tt: timetable.Timetable) -> list[list[str]]:
    return [list(tt.trip_id[tt.pattern_trip_indptr[p]:tt.pattern_trip_indptr[p + 1]])
            for p in range(tt.n_patterns)]


def test_trips_with_one_stop_sequence_form_one_pattern_in_departure_order():
    stops, trips, stop_times = _tables([
        ("late", "r", [(0, 200, 200), (1, 300, 300)]),
        ("early", "r", [(0, 100, 100), (1, 200, 200)]),
        ("other way", "r", [(1, 50, 50), (0, 150, 150)]),
    ])
    tt = timetable.build_timetable(stops, trips, stop_times)
    assert tt.n_patterns == 2
    assert sorted(_pattern_trips(tt)) == [["early", "late"], ["other way"]]
    p = _pattern_trips(tt).index(["early", "late"])
    assert list(tt.pattern_stops[tt.pattern_stop_indptr[p]:tt.pattern_stop_indptr[p + 1]]) == [0, 1]
    start = tt.trip_stoptime_start[list(tt.trip_id).index("late")]
    assert list(tt.departure_s[start:start + 2]) == [200, 300]


def test_an_overtaking_trip_gets_its_own_pattern():
    # The express leaves after the slow bus but arrives before it.
    stops, trips, stop_times = _tables([
        ("slow", "r", [(0, 100, 100), (1, 900, 900)]),
        ("express", "r", [(0, 200, 200), (1, 400, 400)]),
        ("next slow", "r", [(0, 300, 300), (1, 1000, 1000)]),
    ])
    tt = timetable.build_timetable(stops, trips, stop_times)
    assert sorted(_pattern_trips(tt)) == [["express"], ["slow", "next slow"]]


def test_stops_know_every_pattern_position_including_loops():
    stops, trips, stop_times = _tables([
        ("loop", "r", [(0, 0, 0), (1, 60, 60), (2, 120, 120), (0, 180, 180)]),
    ])
    tt = timetable.build_timetable(stops, trips, stop_times)
    s0 = slice(tt.stop_pattern_indptr[0], tt.stop_pattern_indptr[1])
    assert list(tt.stop_pattern_pos[s0]) == [0, 3]
    assert list(np.diff(tt.stop_pattern_indptr)) == [2, 1, 1, 0]


def test_transfers_set_change_times_and_footpaths():
    stops, trips, stop_times = _tables([("a", "r", [(0, 0, 0), (1, 60, 60), (2, 120, 120)])])
    transfers = pd.DataFrame({
        "from_stop": [1, 2, 0, 1], "to_stop": [1, 2, 3, 2],
        "transfer_type": [2, 3, 2, 3], "min_transfer_s": [180, 0, 300, 0]})
    footpaths = (np.array([0, 1, 2]), np.array([1, 2, 1]), np.array([75, 80, 80]))
    tt = timetable.build_timetable(stops, trips, stop_times, transfers, min_change_s=60,
                                   footpaths=footpaths)
    assert list(tt.stop_change_s) == [60, 180, timetable.NO_CHANGE_S, 60]
    pairs = {(a, int(b)): int(s) for a in range(4)
             for b, s in zip(tt.transfer_stop[tt.transfer_indptr[a]:tt.transfer_indptr[a + 1]],
                             tt.transfer_s[tt.transfer_indptr[a]:tt.transfer_indptr[a + 1]])}
    # 0->1 walked; 1->2 forbidden by type 3; 2->1 walked; 0->3 declared (no walk known): 300 s.
    assert pairs == {(0, 1): 75, (2, 1): 80, (0, 3): 300}


def test_a_minimum_transfer_time_lengthens_a_short_walk_only():
    stops, trips, stop_times = _tables([("a", "r", [(0, 0, 0), (1, 60, 60)])])
    transfers = pd.DataFrame({"from_stop": [0, 1], "to_stop": [1, 0], "transfer_type": [2, 2],
                              "min_transfer_s": [120, 30]})
    footpaths = (np.array([0, 1]), np.array([1, 0]), np.array([75, 75]))
    tt = timetable.build_timetable(stops, trips, stop_times, transfers, footpaths=footpaths)
    assert list(tt.transfer_s) == [120, 75]


def test_platforms_of_a_station_always_connect():
    stops, trips, stop_times = _tables(
        [("a", "r", [(0, 0, 0), (1, 60, 60)]), ("b", "q", [(2, 0, 0), (3, 60, 60)])],
        stations={2: "central", 3: "central"})
    tt = timetable.build_timetable(stops, trips, stop_times, min_change_s=90,
                                   walk_speed_kmh=3.6)
    # 100 m apart at 1 m/s = 100 s, above the 90 s minimum.
    assert list(tt.transfer_stop) == [3, 2] and list(tt.transfer_s) == [100, 100]


def test_one_stop_trips_are_dropped_and_invariants_hold():
    stops, trips, stop_times = _tables([("stub", "r", [(0, 0, 0)]),
                                        ("a", "r", [(0, 10, 10), (1, 70, 80)])])
    tt = timetable.build_timetable(stops, trips, stop_times)
    assert list(tt.trip_id) == ["a"]
    tt.arrival_s[1] = tt.departure_s[1] + 1
    with pytest.raises(ValueError, match="departure before its arrival"):
        tt.validate()


@st.composite
def _random_trips(draw):
    n_trips = draw(st.integers(1, 12))
    trips = []
    for k in range(n_trips):
        seq = draw(st.sampled_from([[0, 1, 2], [0, 1, 2], [2, 1, 0], [1, 3]]))
        t = draw(st.integers(0, 3000))
        times = []
        for s in seq:
            dwell = draw(st.integers(0, 30))
            times.append((s, t, t + dwell))
            t += dwell + draw(st.integers(1, 600))
        trips.append((f"t{k}", draw(st.sampled_from(["r", "q"])), times))
    return trips


@hsettings(max_examples=60, deadline=None)
@given(_random_trips())
def test_every_trip_lands_in_exactly_one_fifo_pattern(trips):
    stops, trip_table, stop_times = _tables(trips)
    tt = timetable.build_timetable(stops, trip_table, stop_times)
    assert sorted(tt.trip_id) == sorted(t[0] for t in trips)
    for p in range(tt.n_patterns):
        length = tt.pattern_stop_indptr[p + 1] - tt.pattern_stop_indptr[p]
        first, last = tt.pattern_trip_indptr[p], tt.pattern_trip_indptr[p + 1]
        starts = tt.trip_stoptime_start[first:last]
        dep = np.stack([tt.departure_s[s:s + length] for s in starts])
        arr = np.stack([tt.arrival_s[s:s + length] for s in starts])
        assert np.all(np.diff(dep, axis=0) >= 0) and np.all(np.diff(arr, axis=0) >= 0)
        # Each trip keeps its own stops and times.
        for k, s in zip(range(first, last), starts):
            original = dict((t[0], t[2]) for t in trips)[tt.trip_id[k]]
            stops_p = tt.pattern_stops[tt.pattern_stop_indptr[p]:tt.pattern_stop_indptr[p + 1]]
            assert [(int(a), int(b), int(c)) for a, b, c in zip(
                stops_p, tt.arrival_s[s:s + length], tt.departure_s[s:s + length])] == original


def test_trips_that_stop_differently_get_their_own_pattern():
    stops, trips, stop_times = _tables([
        ("all stops", "r", [(0, 0, 0), (1, 60, 60), (2, 120, 120)]),
        ("skips 1", "r", [(0, 30, 30), (1, 90, 90), (2, 150, 150)]),
    ])
    stop_times.loc[4, "dropoff"] = False  # "skips 1" may not set down at stop 1
    tt = timetable.build_timetable(stops, trips, stop_times)
    assert sorted(_pattern_trips(tt)) == [["all stops"], ["skips 1"]]
    p = _pattern_trips(tt).index(["skips 1"])
    first = tt.pattern_stop_indptr[p]
    assert list(tt.pattern_dropoff[first:first + 3]) == [True, False, True]
    assert list(tt.pattern_pickup[first:first + 3]) == [True, True, True]


def test_a_route_can_run_twice_as_often_or_half_as_often():
    stops, trips, stop_times = _tables([
        (f"t{k}", "r", [(0, 600 * k, 600 * k), (1, 600 * k + 120, 600 * k + 120)])
        for k in range(4)] + [("q0", "q", [(2, 0, 0), (3, 60, 60)])])
    transfers = pd.DataFrame({"from_stop": [1], "to_stop": [1], "transfer_type": [2],
                              "min_transfer_s": [180]})
    tt = timetable.build_timetable(stops, trips, stop_times, transfers,
                                   footpaths=(np.array([1]), np.array([2]), np.array([90])))
    doubled = timetable.with_route_frequency(tt, {"r": 2.0})
    r = [p for p in range(doubled.n_patterns) if doubled.pattern_route_id[p] == "r"][0]
    starts = doubled.trip_stoptime_start[doubled.pattern_trip_indptr[r]:
                                         doubled.pattern_trip_indptr[r + 1]]
    # Every 10 minutes becomes every 5, the last headway kept after the last trip.
    assert list(doubled.departure_s[starts]) == [0, 300, 600, 900, 1200, 1500, 1800, 2100]
    assert list(doubled.arrival_s[starts + 1] - doubled.departure_s[starts]) == [120] * 8
    assert doubled.stats["trips"] == tt.stats["trips"] + 4
    assert list(doubled.stop_change_s) == list(tt.stop_change_s)
    assert list(doubled.transfer_stop) == list(tt.transfer_stop)
    halved = timetable.with_route_frequency(tt, {"r": 0.5})
    assert halved.stats["trips"] == 3  # t0, t2 and q0
    with pytest.raises(ValueError, match="not in the timetable"):
        timetable.with_route_frequency(tt, {"nope": 2.0})
