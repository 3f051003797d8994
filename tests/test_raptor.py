"""RAPTOR kernels: hand-made timetables and a brute-force reference on random ones."""

from __future__ import annotations

from types import SimpleNamespace

import numba
import numpy as np
import pytest
import raptorutil
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bereikbaarheid.kernels import raptor

# Stops of the hand-made timetables.
A, B, C, D, E, F = range(6)


def timetable(*trips, n_stops=6, change_s=60, footpaths=(), routes=None):
    """Timetable from trips given as ``[(stop, arrival_s, departure_s), ...]``
    (or with ``pickup, dropoff`` flags as 4th and 5th items); each trip its
    own route unless ``routes`` says otherwise."""
    raw_trips = [[(s, arr, dep, *(flags or (True, True))) for s, arr, dep, *flags in trip]
                 for trip in trips]
    raw = raptorutil.RawTimetable(
        n_stops=n_stops, trips=raw_trips,
        route=routes or [f"r{k}" for k in range(len(trips))],
        change_s=[change_s] * n_stops, footpaths=list(footpaths), min_change_s=change_s)
    return raw.build()


def arrive(tt, stop, departure_s=0, access=((A, 0),), max_rides=4):
    stops, walk = zip(*access)
    return raptor.earliest_arrival(tt, departure_s, np.array(stops), np.array(walk),
                                   max_rides=max_rides)[stop]


def one_origin(access, egress, direct=(), n_stops=6):
    """CSR inputs for one origin: ``access`` (stop, s), ``egress`` (stop, dest, s), ``direct`` (dest, s)."""
    by_stop = [[(d, w) for s, d, w in egress if s == stop] for stop in range(n_stops)]
    return {"access": raptorutil.to_csr([list(access)]),
            "egress": raptorutil.to_csr(by_stop),
            "direct": raptorutil.to_csr([list(direct)])}


# --------------------------------------------------------------------------
# Earliest arrival, by eye
# --------------------------------------------------------------------------

def test_a_single_ride_arrives_at_every_later_stop():
    tt = timetable([(A, 0, 100), (B, 200, 210), (C, 300, 300)])
    got = raptor.earliest_arrival(tt, 0, np.array([A]), np.array([0]), max_rides=1)
    assert got.dtype == np.float64
    # A is only boarded at, never arrived at by vehicle.
    assert got.tolist() == [np.inf, 200, 300, np.inf, np.inf, np.inf]


def test_access_walk_must_reach_the_stop_before_departure():
    tt = timetable([(A, 0, 100), (B, 200, 200)])
    assert arrive(tt, B, departure_s=0, access=((A, 100),)) == 200
    assert arrive(tt, B, departure_s=0, access=((A, 101),)) == np.inf


@pytest.mark.parametrize("second_departs, expected", [(160, 300), (159, np.inf)])
def test_a_change_needs_the_change_time(second_departs, expected):
    # Arrive at B at 100; the change takes 60 s: 160 is made exactly, 159 missed by a second.
    tt = timetable([(A, 0, 0), (B, 100, 100)],
                   [(B, second_departs, second_departs), (C, 300, 300)], change_s=60)
    assert arrive(tt, C) == expected


def test_staying_seated_needs_no_change_time():
    tt = timetable([(A, 0, 0), (B, 100, 100), (C, 200, 200)], change_s=600)
    assert arrive(tt, C, max_rides=1) == 200


@pytest.mark.parametrize("second_departs, expected", [(130, 200), (129, np.inf)])
def test_a_footpath_connects_two_stops_after_a_ride(second_departs, expected):
    tt = timetable([(A, 0, 0), (B, 100, 100)],
                   [(D, second_departs, second_departs), (E, 200, 200)],
                   footpaths=[(B, D, 30)])
    assert arrive(tt, E) == expected


def test_footpaths_are_neither_chained_nor_taken_right_after_access():
    tt = timetable([(A, 0, 0), (B, 100, 100)],
                   [(F, 500, 500), (E, 600, 600)],
                   [(D, 500, 500), (C, 600, 600)],
                   footpaths=[(B, D, 30), (D, F, 30), (A, D, 10)])
    # B -> D -> F would be two footpaths in a row.
    assert arrive(tt, E) == np.inf
    # A -> D right after access: access already says where one can walk.
    assert arrive(tt, C, access=((A, 0),)) == 600  # via the ride A -> B, then B -> D
    assert arrive(tt, C, access=((A, 0),), max_rides=1) == np.inf


def test_the_ride_limit_can_change_the_answer():
    tt = timetable([(A, 0, 0), (C, 900, 900)],              # slow direct line
                   [(A, 0, 0), (B, 100, 100)],              # fast, with a change at B
                   [(B, 200, 200), (C, 300, 300)])
    assert arrive(tt, C, max_rides=1) == 900
    assert arrive(tt, C, max_rides=2) == 300


def test_pickup_and_dropoff_restrictions():
    # No alighting at B, no boarding at C.
    tt = timetable([(A, 0, 0), (B, 100, 100, True, False), (C, 200, 200, False, True),
                    (D, 300, 300)])
    assert arrive(tt, B) == np.inf
    assert arrive(tt, C) == 200
    assert arrive(tt, D, access=((C, 0),)) == np.inf
    assert arrive(tt, D, access=((B, 0),)) == 300


def test_an_earlier_trip_that_refuses_alighting_does_not_hide_a_later_one():
    # Two trips of one route over the same stops; the first may not stop at C.
    tt = timetable([(A, 0, 0), (B, 100, 100), (C, 200, 200, True, False)],
                   [(A, 50, 50), (B, 150, 150), (C, 250, 250)], routes=["r", "r"])
    assert arrive(tt, C) == 250
    assert arrive(tt, B) == 100


def test_a_trip_across_midnight():
    # 23:55 -> 00:05 the next day, and a previous-day trip 23:55 -> 00:05 (negative times).
    tt = timetable([(A, 86100, 86100), (B, 86700, 86700)],
                   [(C, -300, -300), (D, 300, 300)])
    assert arrive(tt, B, departure_s=86000) == 86700
    assert arrive(tt, D, departure_s=-600, access=((C, 0),)) == 300
    assert arrive(tt, D, departure_s=-299, access=((C, 0),)) == np.inf


# --------------------------------------------------------------------------
# Range-RAPTOR, by eye
# --------------------------------------------------------------------------

def minutes(tt, departures, access, egress, direct=(), n_dest=1, max_rides=4,
            max_time_s=3600):
    return raptor.range_raptor_minutes(
        tt, np.array(departures, dtype=np.int32), **one_origin(access, egress, direct),
        n_destinations=n_dest, max_rides=max_rides, max_time_s=max_time_s)[0]


def test_an_earlier_departure_waits_for_the_later_ones_trip():
    tt = timetable([(A, 90, 90), (B, 190, 190)])
    got = minutes(tt, [0, 30, 60], access=[(A, 0)], egress=[(B, 0, 10)])
    assert got.dtype == np.float32
    # All three take the 90 s trip; the two earlier ones reuse the label found departing at 60.
    assert got[:, 0].tolist() == [200, 170, 140]


def test_an_earlier_departure_may_catch_an_earlier_trip():
    tt = timetable([(A, 20, 20), (B, 220, 220)], [(A, 90, 90), (B, 190, 190)])
    got = minutes(tt, [0, 30], access=[(A, 0)], egress=[(B, 0, 0)])
    assert got[:, 0].tolist() == [190, 160]  # the 20 s trip arrives later than the 90 s one


def test_the_walk_only_alternative_counts():
    tt = timetable([(A, 0, 0), (B, 100, 100)])
    got = minutes(tt, [0], access=[(A, 0)], egress=[(B, 0, 0), (B, 1, 0)],
                  direct=[(0, 60), (1, 500)], n_dest=3)
    assert got[0].tolist()[:2] == [60, 100]
    assert np.isnan(got[0, 2])  # neither ride nor walk


def test_max_time_cuts_off_to_nan():
    tt = timetable([(A, 0, 0), (B, 100, 100)])
    assert minutes(tt, [0], [(A, 0)], [(B, 0, 20)], max_time_s=120)[0, 0] == 120
    assert np.isnan(minutes(tt, [0], [(A, 0)], [(B, 0, 20)], max_time_s=119)[0, 0])
    assert np.isnan(minutes(tt, [0], [(A, 0)], [], direct=[(0, 200)], max_time_s=199)[0, 0])


def test_a_window_across_midnight():
    tt = timetable([(A, 86340, 86340), (B, 86640, 86640)],
                   [(A, 86580, 86580), (B, 86700, 86700)])
    got = minutes(tt, [86280, 86400, 86520], [(A, 0)], [(B, 0, 0)])
    assert got[:, 0].tolist() == [360, 300, 180]


def test_percentiles_by_nearest_rank_and_the_group_minimum():
    # Trips from A at 60, 120 and 300 take 100 s to B. Departing at 0, 60,
    # 120, 180: 160, 100, 100, 220 s to destination 0; destination 1 is a
    # 150 s walk. Sorted: 100, 100, 160, 220.
    tt = timetable([(A, 60, 60), (B, 160, 160)], [(A, 120, 120), (B, 220, 220)],
                   [(A, 300, 300), (B, 400, 400)], routes=["r", "r", "r"])
    q = one_origin([(A, 0)], [(B, 0, 0)], direct=[(1, 150)])
    percentiles = [0, 25, 50, 60, 75, 100]
    dest, group = raptor.range_raptor(
        tt, np.array([0, 60, 120, 180], dtype=np.int32), **q, n_destinations=2,
        max_rides=2, max_time_s=3600, percentiles=percentiles,
        dest_group=np.array([0, 0]), n_groups=1)
    assert dest.dtype == group.dtype == np.float32
    assert dest.shape == (1, 2, 6) and group.shape == (1, 1, 6)
    # rank ceil(p / 100 * 4): 0 -> 1st, 25 -> 1st, 50 -> 2nd, 60 -> 3rd, 75 -> 3rd, 100 -> 4th.
    assert dest[0, 0].tolist() == [100, 100, 100, 160, 160, 220]
    assert dest[0, 1].tolist() == [150] * 6
    # Per departure the nearer of the two: 150, 100, 100, 150.
    assert group[0, 0].tolist() == [100, 100, 100, 150, 150, 150]

    dest, _ = raptor.range_raptor(
        tt, np.array([0, 60, 120, 180], dtype=np.int32), **q, n_destinations=2,
        max_rides=2, max_time_s=200, percentiles=percentiles)
    assert dest[0, 0, :5].tolist() == [100, 100, 100, 160, 160]
    assert np.isnan(dest[0, 0, 5])  # the 220 s departure is unreachable within 200 s


def test_percentile_ranks_are_exact():
    # 28 / 100 * 25 is 7.000000000000001 in floating point; the rank is still 7.
    # Departing at 0, 1, ..., 24 s for the trip at 100 s: 100, 99, ..., 76 s.
    tt = timetable([(A, 100, 100), (B, 100, 100)])
    q = one_origin([(A, 0)], [(B, 0, 0)])
    departures = np.arange(25, dtype=np.int32)
    dest, _ = raptor.range_raptor(tt, departures, **q, n_destinations=1, max_rides=1,
                                  max_time_s=3600, percentiles=[28])
    assert dest[0, 0, 0] == 82


# --------------------------------------------------------------------------
# Against the brute-force reference
# --------------------------------------------------------------------------

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_agrees_with_brute_force_on_random_timetables(data):
    raw = data.draw(raptorutil.raw_timetables())
    q = data.draw(raptorutil.queries(raw))
    tt = raw.build()
    rides, max_time_s = q["max_rides"], q["max_time_s"]

    for access in q["access"]:
        stops, walk = (np.array(c) for c in zip(*access))
        t = q["departures"][0]
        np.testing.assert_array_equal(
            raptor.earliest_arrival(tt, t, stops, walk, max_rides=rides),
            raptorutil.reference_alight(raw, t, access, rides))

    expected = raptorutil.reference_travel_times(
        raw, q["departures"], q["access"], q["egress"], q["direct"], q["n_dest"], rides,
        max_time_s)
    args = raptorutil.kernel_inputs(raw, q)
    got = raptor.range_raptor_minutes(tt, **args, max_rides=rides, max_time_s=max_time_s)
    np.testing.assert_array_equal(got, np.where(np.isinf(expected), np.nan, expected))

    percentiles = [0, 10, 50, 75, 90, 100]
    n_dest = q["n_dest"]
    dest_group = np.array(data.draw(st.lists(st.integers(-1, 1), min_size=n_dest,
                                             max_size=n_dest)))
    dest_pct, group_pct = raptor.range_raptor(
        tt, **args, max_rides=rides, max_time_s=max_time_s, percentiles=percentiles,
        dest_group=dest_group, n_groups=2)
    for o in range(len(q["access"])):
        for d in range(n_dest):
            want = [raptorutil.nearest_rank(expected[o, :, d], p) for p in percentiles]
            np.testing.assert_array_equal(dest_pct[o, d], np.where(np.isinf(want), np.nan, want))
        for g in range(2):
            members = expected[o][:, dest_group == g]
            per_minute = members.min(axis=1) if members.shape[1] else np.full(len(members), np.inf)
            want = [raptorutil.nearest_rank(per_minute, p) for p in percentiles]
            np.testing.assert_array_equal(group_pct[o, g], np.where(np.isinf(want), np.nan, want))


def test_results_do_not_depend_on_the_thread_count():
    rng = np.random.default_rng(7)
    n = 40
    trips = []
    for _ in range(60):
        stops = rng.choice(n, size=6, replace=False)
        t = int(rng.integers(0, 3600))
        trip = []
        for s in stops:
            trip.append((int(s), t, t + 20, True, True))
            t += 20 + int(rng.integers(60, 300))
        trips.append(trip)
    raw = raptorutil.RawTimetable(n_stops=n, trips=trips, route=[f"r{k % 15}" for k in range(60)],
                                  change_s=[60] * n,
                                  footpaths=[(i, (i + 1) % n, 120) for i in range(n)])
    tt = raw.build()
    n_origins = 25
    access = [[(int(s), int(w)) for s, w in zip(rng.choice(n, 3), rng.integers(0, 300, 3))]
              for _ in range(n_origins)]
    egress = [[(s % 10, 30)] for s in range(n)]
    args = {"departures_s": np.arange(0, 3600, 60, dtype=np.int32),
            "access": raptorutil.to_csr(access), "egress": raptorutil.to_csr(egress),
            "direct": raptorutil.to_csr([[] for _ in range(n_origins)]), "n_destinations": 10,
            "max_rides": 3, "max_time_s": 5400}
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = raptor.range_raptor_minutes(tt, **args)
        one_pct = raptor.range_raptor(tt, **args, percentiles=[50])
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = raptor.range_raptor_minutes(tt, **args)
        two_pct = raptor.range_raptor(tt, **args, percentiles=[50])
    finally:
        numba.set_num_threads(before)
    assert np.isfinite(one).mean() > 0.2  # the case routes at all
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one_pct[0], two_pct[0])


# --------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------

@pytest.fixture
def small():
    tt = timetable([(A, 0, 0), (B, 100, 100)])
    args = {"departures_s": np.array([0, 60], dtype=np.int32),
            **one_origin([(A, 0)], [(B, 0, 0)]), "n_destinations": 1,
            "max_rides": 2, "max_time_s": 3600}
    return tt, args


def csr(indptr, target, seconds):
    return np.array(indptr), np.array(target), np.array(seconds)


@pytest.mark.parametrize("change, message", [
    ({"departures_s": np.array([60, 0])}, "ascending"),
    ({"departures_s": np.array([0.0, 60.0])}, "integer dtype"),
    ({"departures_s": np.array([], dtype=np.int32)}, "at least one"),
    ({"access": csr([0, 1], [A], [0.5])}, "access seconds must have an integer dtype"),
    ({"access": csr([0, 2], [A], [0])}, "access indptr"),
    ({"access": csr([0, 1], [9], [0])}, "access stop"),
    ({"access": csr([0, 1], [A], [-5])}, "access seconds must be >= 0"),
    ({"egress": csr([0, 1], [0], [0])}, "egress indptr"),
    ({"direct": csr([0, 1], [3], [0])}, "direct destination"),
    ({"max_rides": 0}, "max_rides"),
    ({"max_time_s": -1}, "max_time_s"),
])
def test_bad_window_inputs_are_refused(small, change, message):
    tt, args = small
    with pytest.raises(ValueError, match=message):
        raptor.range_raptor_minutes(tt, **{**args, **change})


def test_inputs_of_the_wrong_type_are_refused(small):
    tt, args = small
    with pytest.raises(TypeError, match="access must be a tuple"):
        raptor.range_raptor_minutes(tt, **{**args, "access": args["access"][:2]})
    with pytest.raises(TypeError, match="max_rides must be an integer"):
        raptor.range_raptor_minutes(tt, **{**args, "max_rides": 1.5})


@pytest.mark.parametrize("change, message", [
    ({"percentiles": [50, 101]}, "percentiles"),
    ({"percentiles": [np.nan]}, "percentiles"),
    ({"dest_group": np.array([0, 0]), "n_groups": 1}, "dest_group"),
    ({"dest_group": np.array([1]), "n_groups": 1}, "dest_group"),
    ({"n_groups": 2}, "dest_group"),
])
def test_bad_percentile_inputs_are_refused(small, change, message):
    tt, args = small
    with pytest.raises(ValueError, match=message):
        raptor.range_raptor(tt, **args, **{"percentiles": [50], **change})


# The arrays the kernel reads from a timetable.
ROUTING_ARRAYS = ("stop_change_s", "pattern_stop_indptr", "pattern_stops", "pattern_pickup",
                  "pattern_dropoff", "pattern_trip_indptr", "trip_stoptime_start", "arrival_s",
                  "departure_s", "stop_pattern_indptr", "stop_pattern", "stop_pattern_pos",
                  "transfer_indptr", "transfer_stop", "transfer_s")


def test_bad_timetables_are_refused(small):
    tt, args = small
    arrays = {name: getattr(tt, name) for name in ROUTING_ARRAYS}
    with pytest.raises(ValueError, match="no array 'transfer_s'"):
        raptor.range_raptor_minutes(
            SimpleNamespace(**{k: v for k, v in arrays.items() if k != "transfer_s"}), **args)
    with pytest.raises(ValueError, match="pattern_pickup must be boolean"):
        raptor.earliest_arrival(
            SimpleNamespace(**{**arrays, "pattern_pickup": arrays["pattern_pickup"] * 1}),
            0, [A], [0], max_rides=1)
    wrong = arrays["stop_pattern_pos"].copy()
    wrong[0] += 1
    with pytest.raises(ValueError, match="stop_pattern"):
        raptor.earliest_arrival(SimpleNamespace(**{**arrays, "stop_pattern_pos": wrong}),
                                0, [A], [0], max_rides=1)
    with pytest.raises(ValueError, match="arrival_s must have an integer dtype"):
        raptor.earliest_arrival(
            SimpleNamespace(**{**arrays, "arrival_s": arrays["arrival_s"] * 1.0}),
            0, [A], [0], max_rides=1)
    late = arrays["departure_s"].copy()
    late[0] = 150  # the trip leaves A after it reached B
    with pytest.raises(ValueError, match="departs after its arrival"):
        raptor.earliest_arrival(SimpleNamespace(**{**arrays, "departure_s": late}), 0, [A], [0],
                                max_rides=1)


def test_overtaking_trips_in_one_pattern_are_refused():
    tt = timetable([(A, 0, 0), (B, 300, 300)], [(A, 60, 60), (B, 200, 200)],
                   routes=["r", "r"])
    assert tt.n_patterns == 2  # the builder keeps them apart
    # Force both trips into one pattern.
    arrays = {name: getattr(tt, name) for name in ROUTING_ARRAYS}
    arrays["pattern_stop_indptr"] = np.array([0, 2])
    arrays["pattern_stops"] = np.array([A, B], dtype=np.int32)
    arrays["pattern_trip_indptr"] = np.array([0, 2])
    arrays["pattern_pickup"] = arrays["pattern_dropoff"] = np.ones(2, bool)
    order = np.argsort(tt.departure_s[tt.trip_stoptime_start], kind="stable")
    arrays["trip_stoptime_start"] = tt.trip_stoptime_start[order]
    with pytest.raises(ValueError, match="overtakes"):
        raptor.earliest_arrival(SimpleNamespace(**arrays), 0, [A], [0], max_rides=1)
