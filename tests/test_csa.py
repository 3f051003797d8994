"""The backward profile Connection Scan: hand-made timetables, and exact agreement
with the per-origin range-RAPTOR and the brute-force reference on random ones."""

from __future__ import annotations

import numpy as np
import pytest
import raptorutil
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bereikbaarheid.kernels import csa, raptor

A, B, C, D = range(4)


def timetable(*trips, n_stops=4, change_s=60, footpaths=()):
    raw = raptorutil.RawTimetable(
        n_stops=n_stops, trips=[[(s, a, d, True, True) for s, a, d in trip] for trip in trips],
        route=[f"r{k}" for k in range(len(trips))], change_s=[change_s] * n_stops,
        footpaths=list(footpaths), min_change_s=change_s)
    return raw.build()


def nearest(tt, departures, access, egress, direct=(), n_dest=1, group=None, max_rides=4,
            max_time_s=3600, n_stops=4):
    """Per departure: (seconds or NaN, destination) of one origin."""
    group = np.zeros(n_dest, np.int32) if group is None else np.asarray(group)
    by_stop = [[(d, w) for s, d, w in egress if s == stop] for stop in range(n_stops)]
    profiles = csa.stop_profiles(tt, raptorutil.to_csr(by_stop), n_dest, group, 1,
                                 first_s=departures[0], last_s=departures[-1],
                                 max_rides=max_rides, max_time_s=max_time_s)
    times, which = csa.window_minutes(profiles, np.array(departures),
                                      raptorutil.to_csr([list(access)]),
                                      raptorutil.to_csr([list(direct)]), group)
    return times[0, :, 0].tolist(), which[0, :, 0].tolist()


# --------------------------------------------------------------------------
# By eye
# --------------------------------------------------------------------------

def test_one_ride_per_departure_waits_for_the_next_vehicle():
    tt = timetable([(A, 0, 100), (B, 400, 400)], [(A, 0, 700), (B, 1000, 1000)])
    times, which = nearest(tt, [0, 100, 101, 700], access=[(A, 0)], egress=[(B, 0, 30)])
    assert times == [430, 330, 929, 330]
    assert which == [0, 0, 0, 0]


def test_access_egress_and_the_change_time():
    # A -> B by the first trip, change at B (60 s) to the second, B -> C.
    tt = timetable([(A, 0, 100), (B, 200, 200)], [(B, 0, 259), (C, 400, 400)],
                   [(B, 0, 260), (C, 500, 500)])
    times, _ = nearest(tt, [0], access=[(A, 50)], egress=[(C, 0, 10)])
    assert times == [510]  # 259 leaves 1 s too early for the change
    times, _ = nearest(tt, [0], access=[(A, 50)], egress=[(C, 0, 10)], max_rides=1)
    assert np.isnan(times[0])  # one ride reaches B only


def test_one_footpath_after_a_ride_but_not_after_access():
    tt = timetable([(A, 0, 100), (B, 200, 200)], [(C, 0, 300), (D, 400, 400)],
                   footpaths=[(B, C, 90), (A, C, 10)])
    times, _ = nearest(tt, [0], access=[(A, 0)], egress=[(D, 0, 0)])
    assert times == [400]  # A -> B, walk to C (290), board at 300
    times, _ = nearest(tt, [0], access=[(B, 0)], egress=[(D, 0, 0)])
    assert np.isnan(times[0])  # no ride to walk from


def test_the_nearest_destination_and_ties_to_the_lowest_index():
    tt = timetable([(A, 0, 0), (B, 100, 100), (C, 200, 200)])
    times, which = nearest(tt, [0], access=[(A, 0)], n_dest=3,
                           egress=[(B, 2, 100), (C, 1, 0), (C, 0, 50)])
    assert (times, which) == ([200], [1])  # dest 2 and 1 both at 200: the lower
    times, which = nearest(tt, [0], access=[(A, 0)], n_dest=3, direct=[(2, 150)],
                           egress=[(B, 2, 100), (C, 1, 0)])
    assert (times, which) == ([150], [2])  # on foot is quicker


def test_max_time_and_the_walk_only_time():
    tt = timetable([(A, 0, 0), (B, 100, 100)])
    assert nearest(tt, [0], access=[(A, 0)], egress=[(B, 0, 0)], max_time_s=99)[0] == [
        pytest.approx(np.nan, nan_ok=True)]
    assert nearest(tt, [0], access=[(A, 0)], egress=[(B, 0, 0)], direct=[(0, 99)],
                   max_time_s=99)[0] == [99]


def test_a_zero_second_hop_feeds_a_boarding_at_the_same_second():
    # Trip r0 takes A -> B in no time at 100; at B (no change time) trip r1,
    # listed later, leaves at that same second for C. The scan meets r0's
    # hop before r1's boarding at B, so it must scan that second again.
    tt = timetable([(A, 100, 100), (B, 100, 100)], [(B, 100, 100), (C, 300, 300)],
                   change_s=0)
    assert nearest(tt, [0], access=[(A, 0)], egress=[(C, 0, 0)]) == ([300], [0])


def test_percentiles_and_the_facility_reached_most_often():
    # Every 10 minutes a bus to dest 0 (far); at minutes 0 and 1 one to dest 1 (near).
    trips = [[(A, t, t), (B, t + 900, t + 900)] for t in range(0, 3600, 600)]
    trips += [[(A, 60, 60), (C, 160, 160)], [(A, 120, 120), (C, 220, 220)]]
    raw = raptorutil.RawTimetable(
        n_stops=4, trips=[[(s, a, d, True, True) for s, a, d in t] for t in trips],
        route=[f"r{k}" for k in range(len(trips))], change_s=[60] * 4)
    tt = raw.build()
    by_stop = [[], [(0, 0)], [(1, 0)], []]
    departures = np.arange(0, 600, 60)
    group = np.zeros(2, np.int32)
    profiles = csa.stop_profiles(tt, raptorutil.to_csr(by_stop), 2, group, 1, first_s=0,
                                 last_s=540, max_rides=2, max_time_s=3600)
    pct, usual = csa.window_percentiles(profiles, departures, raptorutil.to_csr([[(A, 0)]]),
                                        raptorutil.to_csr([[]]), group, percentiles=[0, 50, 100])
    # Departures 0, 60: 160 and 100; 120: 100; 180..540: 1500 - t.
    per_minute = [160, 100, 100, 1320, 1260, 1200, 1140, 1080, 1020, 960]
    assert pct[0, 0].tolist() == [100, sorted(per_minute)[4], 1320]
    assert usual[0, 0] == 0  # the far one is nearest at 7 of 10 departures


# --------------------------------------------------------------------------
# Against range-RAPTOR and the brute force
# --------------------------------------------------------------------------

def _check(tt, raw, q, data, exact_reference: bool):
    rides, max_time_s = q["max_rides"], q["max_time_s"]
    args = raptorutil.kernel_inputs(raw, q)
    n_dest = q["n_dest"]
    group = np.array(data.draw(st.lists(st.integers(-1, 1), min_size=n_dest,
                                        max_size=n_dest)), np.int32)
    departures = args["departures_s"]
    profiles = csa.stop_profiles(tt, args["egress"], n_dest, group, 2,
                                 first_s=int(departures[0]), last_s=int(departures[-1]),
                                 max_rides=rides, max_time_s=max_time_s)
    times, which = csa.window_minutes(profiles, departures, args["access"], args["direct"],
                                      group)
    per_dest = raptor.range_raptor_minutes(tt, **args, max_rides=rides, max_time_s=max_time_s)
    per_dest = np.where(np.isnan(per_dest), np.inf, per_dest)
    if exact_reference:
        expected = raptorutil.reference_travel_times(
            raw, q["departures"], q["access"], q["egress"], q["direct"], n_dest, rides,
            max_time_s)
        np.testing.assert_array_equal(per_dest, expected)
    for g in range(2):
        members = np.flatnonzero(group == g)
        sub = per_dest[:, :, members]
        if len(members):
            want = sub.min(axis=2)
            want_which = np.where(np.isfinite(want), members[sub.argmin(axis=2)], -1)
        else:
            want = np.full(times.shape[:2], np.inf)
            want_which = np.full(times.shape[:2], -1)
        np.testing.assert_array_equal(np.where(np.isnan(times[:, :, g]), np.inf,
                                               times[:, :, g]), want)
        np.testing.assert_array_equal(which[:, :, g], want_which)
        for o in range(times.shape[0]):
            reached = want_which[o][want_which[o] >= 0]
            values, counts = np.unique(reached, return_counts=True)
            usual_want = values[np.argmax(counts)] if len(values) else -1
            percentiles = [0, 10, 25, 50, 75, 90, 100]
            pct, usual = csa.window_percentiles(
                profiles, departures, raptorutil.one_row(args["access"], o),
                raptorutil.one_row(args["direct"], o), group, percentiles=percentiles)
            assert usual[0, g] == usual_want
            want_pct = [raptorutil.nearest_rank(want[o], p) for p in percentiles]
            np.testing.assert_array_equal(pct[0, g], np.where(np.isinf(want_pct), np.nan,
                                                              want_pct))
    _, group_pct = raptor.range_raptor(tt, **args, max_rides=rides, max_time_s=max_time_s,
                                       percentiles=[25, 50, 75], dest_group=group, n_groups=2)
    pct, _ = csa.window_percentiles(profiles, departures, args["access"], args["direct"],
                                    group, percentiles=[25, 50, 75])
    np.testing.assert_array_equal(pct, group_pct)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_agrees_with_range_raptor_and_brute_force_on_random_timetables(data):
    raw = data.draw(raptorutil.raw_timetables())
    q = data.draw(raptorutil.queries(raw))
    _check(raw.build(), raw, q, data, exact_reference=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_agrees_on_minute_timetables_with_ties_frequencies_and_midnight(data):
    raw = data.draw(raptorutil.minute_timetables())
    q = data.draw(raptorutil.queries(raw))
    q["departures"] = sorted({60 * (d // 60) for d in q["departures"]})
    _check(raw.build(), raw, q, data, exact_reference=False)


def test_results_do_not_depend_on_the_thread_count():
    import numba
    rng = np.random.default_rng(3)
    trips = []
    for k in range(60):
        stops = rng.choice(20, size=4, replace=False)
        t = int(rng.integers(0, 3000))
        trips.append([(int(s), t + 120 * i, t + 120 * i) for i, s in enumerate(stops)])
    tt = timetable(*trips, n_stops=20)
    egress = raptorutil.to_csr([[(int(s % 5), int(rng.integers(0, 300)))] for s in range(20)])
    access = raptorutil.to_csr([[(int(rng.integers(0, 20)), int(rng.integers(0, 300)))
                                 for _ in range(3)] for _ in range(50)])
    direct = raptorutil.to_csr([[] for _ in range(50)])
    group = np.array([0, 1, 0, 1, -1], np.int32)
    departures = np.arange(0, 3600, 60)
    profiles = csa.stop_profiles(tt, egress, 5, group, 2, first_s=0, last_s=3540,
                                 max_rides=3, max_time_s=3600)
    results = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        results.append(csa.window_percentiles(profiles, departures, access, direct, group,
                                              percentiles=[25, 50, 75]))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for a, b in zip(*results):
        assert a.tobytes() == b.tobytes()


def test_bad_inputs_are_refused():
    tt = timetable([(A, 0, 0), (B, 100, 100)])
    egress = raptorutil.to_csr([[], [(0, 0)], [], []])
    profiles = csa.stop_profiles(tt, egress, 1, np.zeros(1, np.int32), 1, first_s=0,
                                 last_s=60, max_rides=2, max_time_s=600)
    access = raptorutil.to_csr([[(A, 0)]])
    direct = raptorutil.to_csr([[]])
    with pytest.raises(ValueError, match="window the profiles were made for"):
        csa.window_minutes(profiles, np.array([0, 120]), access, direct, np.zeros(1, np.int32))
    with pytest.raises(ValueError, match="must not be before"):
        csa.stop_profiles(tt, egress, 1, np.zeros(1, np.int32), 1, first_s=60, last_s=0,
                          max_rides=2, max_time_s=600)
    with pytest.raises(ValueError, match="dest_group"):
        csa.stop_profiles(tt, egress, 1, np.array([3]), 1, first_s=0, last_s=0,
                          max_rides=2, max_time_s=600)
    with pytest.raises(TypeError, match="StopProfiles"):
        csa.window_minutes(None, np.array([0]), access, direct, np.zeros(1, np.int32))


@pytest.mark.parametrize("window", [(7 * 3600, 9 * 3600), (23 * 3600, 24 * 3600 + 1800)],
                         ids=["morning", "midnight"])
def test_agrees_with_range_raptor_on_the_real_ferry_feed(shared_data, window):
    from bereikbaarheid.config import Settings
    from bereikbaarheid.networks import timetable
    from bereikbaarheid.sources import gtfs

    feed = gtfs.read_gtfs(shared_data / "gtfs/dutch-ferries.zip", "2019-03-12", Settings())
    tt = timetable.build_timetable(feed.stops, feed.trips, feed.stop_times, feed.transfers,
                                   service_date="2019-03-12")
    rng = np.random.default_rng(11)
    n, n_dest, n_origins = tt.n_stops, 12, 40
    access = raptorutil.to_csr([[(int(s), int(rng.integers(0, 900)))
                                 for s in rng.choice(n, 3, replace=False)]
                                for _ in range(n_origins)])
    egress = raptorutil.to_csr([[(int(d), int(rng.integers(0, 900)))
                                 for d in rng.choice(n_dest, int(rng.integers(0, 3)),
                                                     replace=False)] for _ in range(n)])
    direct = raptorutil.to_csr([[(int(rng.integers(0, n_dest)), int(rng.integers(600, 7200)))]
                                for _ in range(n_origins)])
    group = rng.integers(-1, 3, n_dest).astype(np.int32)
    departures = np.arange(window[0], window[1], 60, dtype=np.int32)
    kwargs = {"max_rides": 3, "max_time_s": 7200}
    per_dest = raptor.range_raptor_minutes(tt, departures, access, egress, direct, n_dest,
                                           **kwargs)
    profiles = csa.stop_profiles(tt, egress, n_dest, group, 3, first_s=int(departures[0]),
                                 last_s=int(departures[-1]), **kwargs)
    times, which = csa.window_minutes(profiles, departures, access, direct, group)
    per_dest = np.where(np.isnan(per_dest), np.inf, per_dest)
    reached = 0
    for g in range(3):
        sub = per_dest[:, :, group == g]
        want = sub.min(axis=2)
        np.testing.assert_array_equal(np.where(np.isnan(times[:, :, g]), np.inf,
                                               times[:, :, g]), want)
        members = np.flatnonzero(group == g)
        np.testing.assert_array_equal(
            which[:, :, g], np.where(np.isfinite(want), members[sub.argmin(axis=2)], -1))
        reached += int(np.sum(want < direct_min(direct, group, g, n_origins)[:, None]))
    assert reached > 0  # some departures ride a ferry rather than walk
    _, group_pct = raptor.range_raptor(tt, departures, access, egress, direct, n_dest,
                                       percentiles=[25, 50, 75], dest_group=group, n_groups=3,
                                       **kwargs)
    pct, _ = csa.window_percentiles(profiles, departures, access, direct, group,
                                    percentiles=[25, 50, 75])
    np.testing.assert_array_equal(pct, group_pct)


def direct_min(direct, group, g, n_origins):
    """Per origin, the walk-only time to group ``g`` (inf: none)."""
    indptr, dest, seconds = direct
    out = np.full(n_origins, np.inf)
    for o in range(n_origins):
        for j in range(indptr[o], indptr[o + 1]):
            if group[dest[j]] == g:
                out[o] = min(out[o], seconds[j])
    return out
