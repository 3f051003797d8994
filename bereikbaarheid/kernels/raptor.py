"""Numba RAPTOR on timetable arrays: earliest arrival and range-RAPTOR over a departure window.

A timetable is any object with the RAPTOR arrays of
:class:`bereikbaarheid.networks.timetable.Timetable` (``stop_change_s``,
``pattern_stop_indptr``, ``pattern_stops``, ``pattern_pickup``,
``pattern_dropoff``, ``pattern_trip_indptr``, ``trip_stoptime_start``,
``arrival_s``, ``departure_s``, ``stop_pattern_indptr``, ``stop_pattern``,
``stop_pattern_pos``, ``transfer_indptr``, ``transfer_stop``,
``transfer_s``); nothing else of it is read. The public
functions check those arrays and their other inputs once (``ValueError`` on
anything the kernel cannot rely on, ``TypeError`` for a scalar that is not an
integer or a CSR input that is not a triplet) and hand plain arrays to the
compiled code, which knows nothing of pandas or the package.

Semantics, for one origin and a departure time ``t``: board at stop ``s`` no
earlier than ``t + access``, only where pickup is allowed; alight where
dropoff is allowed, at the trip's arrival time ``a``; board again at ``s`` no
earlier than ``a + stop_change_s[s]``, or walk one footpath ``s -> s2`` and
board there no earlier than ``a + transfer_s`` (footpaths follow rides only,
never chained and never right after access). At most ``max_rides`` vehicles.
A destination is reached at ``a + egress`` from a stop alighted at; the
walk-only ``direct`` time always counts; a travel time above ``max_time_s``
is unreachable.

Labels are "at most k rides" (non-increasing in k), one array per round, so
the ride limit is exact. Range-RAPTOR (Delling, Pajor & Werneck 2012) runs
the departures from latest to earliest and keeps the labels: whatever a later
departure reaches, an earlier one reaches as well by waiting, so each
departure only scans what its earlier start improves.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numba
import numpy as np

# "Not reached" in the int32 labels; every stored label lies below it.
_UNREACHED = np.iinfo(np.int32).max
# Times, access/egress/direct seconds and max_time_s are bounded by this, so
# sums of two of them never reach _UNREACHED.
_TIME_LIMIT = 2 ** 29


# --------------------------------------------------------------------------
# Compiled kernels
# --------------------------------------------------------------------------

@numba.njit(cache=True, nogil=True)
def _lower(labels, k, s, value):
    """Set ``labels[j, s] = min(labels[j, s], value)`` for rounds ``j >= k``.

    Labels are non-increasing in the round, so the first round that is not
    improved ends the walk. Returns True when the last round was improved.
    """
    j = k
    rounds = labels.shape[0]
    while j < rounds and value < labels[j, s]:
        labels[j, s] = value
        j += 1
    return j == rounds and j > k


@numba.njit(cache=True, nogil=True)
def _leaves_between(times, lo, hi, start, end):
    """Whether the sorted ``times[lo:hi]`` hold a value in ``[start, end)``."""
    top = hi
    while lo < hi:
        mid = (lo + hi) // 2
        if times[mid] < start:
            lo = mid + 1
        else:
            hi = mid
    return lo < top and times[lo] < end


@numba.njit(cache=True, nogil=True)
def _origin_range(tt, access_stop, access_s, direct_dest, direct_s, egress_indptr,
                  egress_dest, egress_s, departures, max_rides, max_time_s, ws, times_out):
    """Range-RAPTOR for one origin.

    Fills ``times_out[m, d]`` (seconds, inf unreachable) for the destinations
    some journey reaches (``ws[10]`` is True for them); for every other
    destination the time is the same at each departure, ``ws[9][d]`` (the
    walk-only time, inf when none or above ``max_time_s``), and its column of
    ``times_out`` is left alone: most destinations of a cell are out of
    reach by public transport, and so cost nothing per departure.

    ``tt`` are the routing arrays (see :func:`_routing`), ``ws`` a workspace
    from :func:`_workspace`; the labels of the earliest departure are left in
    ``ws[0]`` (alightings, row k - 1 = at most k rides).
    """
    (pat_stop_indptr, pat_stops, pat_pickup, pat_dropoff, pat_trip_indptr, trip_start,
     arrival, departure, stop_pat_indptr, stop_pat, stop_pat_pos, change_s,
     tr_indptr, tr_stop, tr_s, stop_dep_indptr, stop_dep) = tt
    (alight, board, marked, marked_list, improved, improved_list, pat_first, pat_queue,
     dest_arrival, direct_best, touched, touched_list) = ws
    last = max_rides - 1
    n_dep = departures.shape[0]
    alight[:] = _UNREACHED
    board[:] = _UNREACHED
    dest_arrival[:] = _UNREACHED
    direct_best[:] = np.inf
    touched[:] = False
    n_touched = 0
    for j in range(direct_dest.shape[0]):
        d = direct_dest[j]
        direct_best[d] = min(direct_best[d], np.float64(direct_s[j]))
    for d in range(direct_best.shape[0]):
        if direct_best[d] > max_time_s:
            direct_best[d] = np.inf

    for m in range(departures.shape[0] - 1, -1, -1):
        t = np.int64(departures[m])
        # Target pruning: nothing later than this can give a travel time
        # within max_time_s (egress is never negative).
        cutoff = min(t + max_time_s, _UNREACHED - 1)
        n_marked = 0
        for j in range(access_stop.shape[0]):
            s = access_stop[j]
            b = t + access_s[j]
            if b <= cutoff and b < board[0, s]:
                previous = board[0, s]
                _lower(board, 0, s, b)
                # Only a vehicle leaving s in [b, previous) can change anything:
                # those leaving later were boarded for a later departure. With
                # infrequent service most minutes scan nothing.
                if not marked[s] and _leaves_between(stop_dep, stop_dep_indptr[s],
                                                     stop_dep_indptr[s + 1], b, previous):
                    marked[s] = True
                    marked_list[n_marked] = s
                    n_marked += 1

        for k in range(max_rides):  # round k: the (k + 1)-th ride
            if n_marked == 0:
                break
            # Every pattern through a marked stop, scanned from its first marked position.
            n_queue = 0
            for j in range(n_marked):
                s = marked_list[j]
                marked[s] = False
                for e in range(stop_pat_indptr[s], stop_pat_indptr[s + 1]):
                    p = stop_pat[e]
                    pos = stop_pat_pos[e]
                    if pat_first[p] < 0:
                        pat_first[p] = pos
                        pat_queue[n_queue] = p
                        n_queue += 1
                    elif pos < pat_first[p]:
                        pat_first[p] = pos
            n_marked = 0
            n_improved = 0
            for q in range(n_queue):
                p = pat_queue[q]
                first = pat_first[p]
                pat_first[p] = -1
                p0 = pat_stop_indptr[p]
                length = pat_stop_indptr[p + 1] - p0
                trip_lo = pat_trip_indptr[p]
                # Trips from `hi` on are no use: the current trip or later
                # ones (FIFO), or ones past the cutoff.
                hi = pat_trip_indptr[p + 1]
                onboard = False
                base = 0
                for i in range(first, length):
                    s = pat_stops[p0 + i]
                    if onboard:
                        a = np.int64(arrival[base + i])
                        if a > cutoff:
                            onboard = False
                        elif pat_dropoff[p0 + i] and a < alight[k, s]:
                            if _lower(alight, k, s, a):
                                for e in range(egress_indptr[s], egress_indptr[s + 1]):
                                    d = egress_dest[e]
                                    dest_arrival[d] = min(dest_arrival[d], a + egress_s[e])
                                    if not touched[d]:
                                        # The later departures, done already,
                                        # had only the walk-only time here.
                                        touched[d] = True
                                        touched_list[n_touched] = d
                                        n_touched += 1
                                        for m2 in range(m + 1, n_dep):
                                            times_out[m2, d] = direct_best[d]
                            if not improved[s]:
                                improved[s] = True
                                improved_list[n_improved] = s
                                n_improved += 1
                    if pat_pickup[p0 + i]:
                        b = board[k, s]
                        if b != _UNREACHED and (not onboard or b <= departure[base + i]):
                            # Earliest trip in [trip_lo, hi) leaving at or after b.
                            lo = trip_lo
                            up = hi
                            while lo < up:
                                mid = (lo + up) // 2
                                if departure[trip_start[mid] + i] < b:
                                    lo = mid + 1
                                else:
                                    up = mid
                            if lo < hi:
                                hi = lo
                                base = trip_start[lo]
                                onboard = True
            # Changes and footpaths after this round's rides, for the next round.
            for j in range(n_improved):
                s = improved_list[j]
                improved[s] = False
                if k == last:
                    continue
                a = np.int64(alight[k, s])
                b = a + change_s[s]
                if b <= cutoff and b < board[k + 1, s]:
                    _lower(board, k + 1, s, b)
                    if not marked[s]:
                        marked[s] = True
                        marked_list[n_marked] = s
                        n_marked += 1
                for e in range(tr_indptr[s], tr_indptr[s + 1]):
                    s2 = tr_stop[e]
                    b = a + tr_s[e]
                    if b <= cutoff and b < board[k + 1, s2]:
                        _lower(board, k + 1, s2, b)
                        if not marked[s2]:
                            marked[s2] = True
                            marked_list[n_marked] = s2
                            n_marked += 1
        for j in range(n_marked):  # rides exhausted
            marked[marked_list[j]] = False

        for j in range(n_touched):
            d = touched_list[j]
            v = min(direct_best[d], np.float64(dest_arrival[d] - t))
            times_out[m, d] = v if v <= max_time_s else np.inf


@numba.njit(cache=True, nogil=True)
def _workspace(n_stops, n_patterns, n_dest, max_rides):
    return (np.empty((max_rides, n_stops), dtype=np.int32),
            np.empty((max_rides, n_stops), dtype=np.int32),
            np.zeros(n_stops, dtype=np.bool_),
            np.empty(n_stops, dtype=np.int32),
            np.zeros(n_stops, dtype=np.bool_),
            np.empty(n_stops, dtype=np.int32),
            np.full(n_patterns, -1, dtype=np.int32),
            np.empty(n_patterns, dtype=np.int32),
            np.empty(n_dest, dtype=np.int64),
            np.empty(n_dest, dtype=np.float64),
            np.zeros(n_dest, dtype=np.bool_),
            np.empty(n_dest, dtype=np.int32))


@numba.njit(cache=True)
def _earliest_arrival_kernel(tt, access_stop, access_s, departure_s, max_rides):
    n_stops = tt[11].shape[0]
    ws = _workspace(n_stops, tt[0].shape[0] - 1, 0, max_rides)
    departures = np.full(1, departure_s, dtype=np.int32)
    empty_i = np.empty(0, dtype=np.int32)
    no_egress = np.zeros(n_stops + 1, dtype=np.int64)
    times = np.empty((1, 0), dtype=np.float32)
    _origin_range(tt, access_stop, access_s, empty_i, empty_i, no_egress, empty_i, empty_i,
                  departures, max_rides, np.int64(_UNREACHED), ws, times)
    out = np.full(n_stops, np.inf)
    alight = ws[0]
    for s in range(n_stops):
        if alight[max_rides - 1, s] != _UNREACHED:
            out[s] = alight[max_rides - 1, s]
    return out


@numba.njit(cache=True, parallel=True)
def _minutes_kernel(tt, access, direct, egress, departures, max_rides, max_time_s, n_dest,
                    n_chunks):
    access_indptr, access_stop, access_s = access
    direct_indptr, direct_dest, direct_s = direct
    egress_indptr, egress_dest, egress_s = egress
    n_origins = access_indptr.shape[0] - 1
    out = np.empty((n_origins, departures.shape[0], n_dest), dtype=np.float32)
    # Chunk c takes origins c, c + n_chunks, ... with its own workspace; every
    # origin's result depends on that origin alone, whatever the thread count.
    for c in numba.prange(n_chunks):
        ws = _workspace(tt[11].shape[0], tt[0].shape[0] - 1, n_dest, max_rides)
        for o in range(c, n_origins, n_chunks):
            a0, a1 = access_indptr[o], access_indptr[o + 1]
            d0, d1 = direct_indptr[o], direct_indptr[o + 1]
            _origin_range(tt, access_stop[a0:a1], access_s[a0:a1], direct_dest[d0:d1],
                          direct_s[d0:d1], egress_indptr, egress_dest, egress_s, departures,
                          max_rides, max_time_s, ws, out[o])
            for d in range(n_dest):
                if not ws[10][d]:
                    out[o, :, d] = ws[9][d]
    for o in range(n_origins):
        for m in range(departures.shape[0]):
            for d in range(n_dest):
                if out[o, m, d] == np.inf:
                    out[o, m, d] = np.nan
    return out


@numba.njit(cache=True, nogil=True)
def _percentiles_into(column, sorted_buf, ranks, out):
    """``out[j] = sorted(column)[ranks[j]]``, NaN where that value is inf."""
    n = 0
    for v in column:
        if v != np.inf:
            sorted_buf[n] = v
            n += 1
    # Insertion sort of the finite values: few of them, and range-RAPTOR's
    # come nearly ordered (most destinations have none at all).
    for i in range(1, n):
        v = sorted_buf[i]
        j = i - 1
        while j >= 0 and sorted_buf[j] > v:
            sorted_buf[j + 1] = sorted_buf[j]
            j -= 1
        sorted_buf[j + 1] = v
    for j in range(ranks.shape[0]):
        out[j] = sorted_buf[ranks[j]] if ranks[j] < n else np.nan


@numba.njit(cache=True, parallel=True)
def _percentile_kernel(tt, access, direct, egress, departures, max_rides, max_time_s, n_dest,
                       ranks, dest_group, n_groups, n_chunks):
    access_indptr, access_stop, access_s = access
    direct_indptr, direct_dest, direct_s = direct
    egress_indptr, egress_dest, egress_s = egress
    n_origins = access_indptr.shape[0] - 1
    n_dep = departures.shape[0]
    dest_pct = np.empty((n_origins, n_dest, ranks.shape[0]), dtype=np.float32)
    group_pct = np.empty((n_origins, n_groups, ranks.shape[0]), dtype=np.float32)
    for c in numba.prange(n_chunks):
        ws = _workspace(tt[11].shape[0], tt[0].shape[0] - 1, n_dest, max_rides)
        times = np.empty((n_dep, n_dest), dtype=np.float32)
        group_times = np.empty((n_dep, n_groups), dtype=np.float32)
        column = np.empty(n_dep, dtype=np.float32)
        sorted_buf = np.empty(n_dep, dtype=np.float32)
        group_const = np.empty(n_groups, dtype=np.float32)
        group_varies = np.zeros(n_groups, dtype=np.bool_)
        for o in range(c, n_origins, n_chunks):
            a0, a1 = access_indptr[o], access_indptr[o + 1]
            d0, d1 = direct_indptr[o], direct_indptr[o + 1]
            _origin_range(tt, access_stop[a0:a1], access_s[a0:a1], direct_dest[d0:d1],
                          direct_s[d0:d1], egress_indptr, egress_dest, egress_s, departures,
                          max_rides, max_time_s, ws, times)
            direct_best, touched = ws[9], ws[10]
            # A destination no journey reaches has its walk-only time at every
            # departure; only the others need a column of times.
            group_const[:] = np.inf
            group_varies[:] = False
            for d in range(n_dest):
                g = dest_group[d]
                if touched[d]:
                    if g >= 0:
                        group_varies[g] = True
                    # Latest departure first: waiting for the same vehicle, an
                    # earlier departure takes longer, so values come nearly sorted.
                    for m in range(n_dep):
                        column[m] = times[n_dep - 1 - m, d]
                    _percentiles_into(column, sorted_buf, ranks, dest_pct[o, d])
                else:
                    v = direct_best[d]
                    dest_pct[o, d, :] = v if v != np.inf else np.nan
                    if g >= 0 and v < group_const[g]:
                        group_const[g] = v
            for g in range(n_groups):
                if group_varies[g]:
                    group_times[:, g] = group_const[g]
                else:
                    v = group_const[g]
                    group_pct[o, g, :] = v if v != np.inf else np.nan
            for d in range(n_dest):
                g = dest_group[d]
                if touched[d] and g >= 0:
                    for m in range(n_dep):
                        if times[m, d] < group_times[m, g]:
                            group_times[m, g] = times[m, d]
            for g in range(n_groups):
                if group_varies[g]:
                    for m in range(n_dep):
                        column[m] = group_times[n_dep - 1 - m, g]
                    _percentiles_into(column, sorted_buf, ranks, group_pct[o, g])
    return dest_pct, group_pct


@numba.njit(cache=True)
def _check_trips(pat_stop_indptr, pat_trip_indptr, trip_start, arrival, departure):
    """First broken trip invariant as (code, pattern, trip, position), code 0 when none.

    1: arrival after departure; 2: a departure after the next arrival;
    3: a trip overtakes (or leaves before) the previous trip of its pattern.
    """
    for p in range(pat_stop_indptr.shape[0] - 1):
        length = pat_stop_indptr[p + 1] - pat_stop_indptr[p]
        for tr in range(pat_trip_indptr[p], pat_trip_indptr[p + 1]):
            b = trip_start[tr]
            for i in range(length):
                if arrival[b + i] > departure[b + i]:
                    return 1, p, tr, i
                if i + 1 < length and departure[b + i] > arrival[b + i + 1]:
                    return 2, p, tr, i
                if tr > pat_trip_indptr[p]:
                    prev = trip_start[tr - 1]
                    if arrival[b + i] < arrival[prev + i] or departure[b + i] < departure[prev + i]:
                        return 3, p, tr, i
    return 0, -1, -1, -1


# --------------------------------------------------------------------------
# Validation (Python)
# --------------------------------------------------------------------------

def _int_array(name: str, a, *, size: int | None = None, low: int | None = None,
               high: int | None = None, dtype=np.int32) -> np.ndarray:
    """1-D integer array (of ``size`` values) with values in ``[low, high)``."""
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if size is not None and a.shape[0] != size:
        raise ValueError(f"{name} must have {size} values, got {a.shape[0]}")
    if not (np.issubdtype(a.dtype, np.integer) or (a.size == 0 and a.dtype == np.float64)):
        raise ValueError(f"{name} must have an integer dtype (whole seconds or indices), "
                         f"got {a.dtype}")
    if a.size:
        if low is not None and a.min() < low:
            i = int(np.argmin(a))
            raise ValueError(f"{name} must be >= {low}, found {a[i]} at position {i}")
        if high is not None and a.max() >= high:
            i = int(np.argmax(a))
            raise ValueError(f"{name} must be < {high}, found {a[i]} at position {i}")
    return np.ascontiguousarray(a, dtype=dtype)


def _indptr(name: str, a, n_rows: int, n_values: int) -> np.ndarray:
    a = _int_array(name, a, size=n_rows + 1, dtype=np.int64)
    if a[0] != 0 or a[-1] != n_values or (np.diff(a) < 0).any():
        raise ValueError(f"{name} must be non-decreasing from 0 to {n_values} "
                         f"(the number of entries), got {a[0]} .. {a[-1]}")
    return a


def _bool_array(name: str, a, size: int) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 1 or a.shape[0] != size:
        raise ValueError(f"{name} must be 1-D with {size} values, got shape {a.shape}")
    if a.dtype != np.bool_:
        raise ValueError(f"{name} must be boolean, got dtype {a.dtype}")
    return np.ascontiguousarray(a)


def _attr(timetable, name: str):
    try:
        return getattr(timetable, name)
    except AttributeError:
        raise ValueError(f"timetable has no array {name!r}") from None


def _routing(timetable) -> tuple:
    """The timetable as kernel arrays, checked once per call (``ValueError``).

    Trips of a pattern must not overtake each other, and its pickup/drop-off
    rules are per pattern position (``pattern_pickup``, ``pattern_dropoff``):
    with both, boarding the earliest catchable trip is always right, since no
    later trip of the pattern arrives sooner or stops where it does not.
    """
    change_s = _int_array("timetable.stop_change_s", _attr(timetable, "stop_change_s"),
                          low=0, high=_TIME_LIMIT)
    n = change_s.shape[0]
    pattern_stops = _int_array("timetable.pattern_stops", _attr(timetable, "pattern_stops"),
                               low=0, high=n)
    pat_stop_indptr = np.asarray(_attr(timetable, "pattern_stop_indptr"))
    n_pat = pat_stop_indptr.shape[0] - 1 if pat_stop_indptr.ndim == 1 else -1
    if n_pat < 0:
        raise ValueError("timetable.pattern_stop_indptr must be 1-D with P + 1 >= 1 values, "
                         f"got shape {pat_stop_indptr.shape}")
    n_pos = pattern_stops.shape[0]
    pat_stop_indptr = _indptr("timetable.pattern_stop_indptr", pat_stop_indptr, n_pat, n_pos)
    pat_pickup = _bool_array("timetable.pattern_pickup", _attr(timetable, "pattern_pickup"),
                             n_pos)
    pat_dropoff = _bool_array("timetable.pattern_dropoff", _attr(timetable, "pattern_dropoff"),
                              n_pos)
    trip_start = _int_array("timetable.trip_stoptime_start",
                            _attr(timetable, "trip_stoptime_start"), low=0, dtype=np.int64)
    n_trips = trip_start.shape[0]
    pat_trip_indptr = _indptr("timetable.pattern_trip_indptr",
                              _attr(timetable, "pattern_trip_indptr"), n_pat, n_trips)
    arrival = _int_array("timetable.arrival_s", _attr(timetable, "arrival_s"),
                         low=-_TIME_LIMIT, high=_TIME_LIMIT)
    n_st = arrival.shape[0]
    departure = _int_array("timetable.departure_s", _attr(timetable, "departure_s"), size=n_st,
                           low=-_TIME_LIMIT, high=_TIME_LIMIT)
    trip_len = np.repeat(np.diff(pat_stop_indptr), np.diff(pat_trip_indptr))
    if n_trips and (trip_start + trip_len > n_st).any():
        tr = int(np.flatnonzero(trip_start + trip_len > n_st)[0])
        raise ValueError(f"timetable.trip_stoptime_start: trip {tr} runs past the "
                         f"{n_st} stop-times")
    code, p, tr, i = _check_trips(pat_stop_indptr, pat_trip_indptr, trip_start, arrival,
                                  departure)
    if code:
        what = {1: "arrives after it departs",
                2: "departs after its arrival at the next stop",
                3: "overtakes the previous trip of its pattern (patterns must be FIFO)"}[code]
        raise ValueError(f"timetable: trip {tr} of pattern {p} {what} at position {i}")
    stop_pat = _int_array("timetable.stop_pattern", _attr(timetable, "stop_pattern"),
                          size=n_pos, low=0, high=max(n_pat, 1))
    stop_pat_pos = _int_array("timetable.stop_pattern_pos", _attr(timetable, "stop_pattern_pos"),
                              size=n_pos, low=0)
    stop_pat_indptr = _indptr("timetable.stop_pattern_indptr",
                              _attr(timetable, "stop_pattern_indptr"), n, n_pos)
    lengths = np.diff(pat_stop_indptr)
    if n_pos and ((stop_pat_pos >= lengths[stop_pat]).any() or (
            pattern_stops[pat_stop_indptr[stop_pat] + stop_pat_pos]
            != np.repeat(np.arange(n), np.diff(stop_pat_indptr))).any()):
        raise ValueError("timetable.stop_pattern/stop_pattern_pos do not index the stops "
                         "of the patterns")
    transfer_stop = _int_array("timetable.transfer_stop", _attr(timetable, "transfer_stop"),
                               low=0, high=n)
    transfer_indptr = _indptr("timetable.transfer_indptr", _attr(timetable, "transfer_indptr"),
                              n, transfer_stop.shape[0])
    transfer_s = _int_array("timetable.transfer_s", _attr(timetable, "transfer_s"),
                            size=transfer_stop.shape[0], low=0, high=_TIME_LIMIT)
    stop_dep_indptr, stop_dep = _boarding_times(pat_stop_indptr, pattern_stops, pat_pickup,
                                                pat_trip_indptr, trip_start, departure, n)
    return (pat_stop_indptr, pattern_stops, pat_pickup, pat_dropoff, pat_trip_indptr,
            trip_start, arrival, departure, stop_pat_indptr, stop_pat, stop_pat_pos,
            change_s, transfer_indptr, transfer_stop, transfer_s, stop_dep_indptr, stop_dep)


def _boarding_times(pat_stop_indptr, pattern_stops, pat_pickup, pat_trip_indptr, trip_start,
                    departure, n_stops) -> tuple[np.ndarray, np.ndarray]:
    """Per stop, the sorted departures at which a vehicle can be boarded there
    (pickup allowed, not the trip's last stop), as CSR (indptr, int32 times)."""
    lengths = np.diff(pat_stop_indptr)
    trips_per = np.diff(pat_trip_indptr)
    trip_len = np.repeat(lengths, trips_per)
    offset = np.cumsum(trip_len) - trip_len
    position = np.arange(int(trip_len.sum())) - np.repeat(offset, trip_len)
    in_pattern = np.repeat(np.repeat(pat_stop_indptr[:-1], trips_per), trip_len) + position
    keep = pat_pickup[in_pattern] & (position < np.repeat(trip_len, trip_len) - 1)
    stop = pattern_stops[in_pattern[keep]]
    times = departure[(np.repeat(trip_start, trip_len) + position)[keep]]
    order = np.lexsort((times, stop))
    indptr = np.zeros(n_stops + 1, np.int64)
    np.cumsum(np.bincount(stop, minlength=n_stops), out=indptr[1:])
    return indptr, np.ascontiguousarray(times[order], dtype=np.int32)


def _csr_triplet(name: str, triplet, n_rows: int, rows: str, n_cols: int,
                 cols: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not (isinstance(triplet, (tuple, list)) and len(triplet) == 3):
        raise TypeError(f"{name} must be a tuple (indptr, {cols}, seconds)")
    indptr, target, seconds = triplet
    target = _int_array(f"{name} {cols}", target, low=0, high=n_cols)
    indptr = np.asarray(indptr)
    if indptr.ndim != 1 or indptr.shape[0] != n_rows + 1:
        raise ValueError(f"{name} indptr must be 1-D with {n_rows} + 1 values (one per "
                         f"{rows}, plus one), got shape {indptr.shape}")
    indptr = _indptr(f"{name} indptr", indptr, n_rows, target.shape[0])
    seconds = _int_array(f"{name} seconds", seconds, size=target.shape[0], low=0,
                         high=_TIME_LIMIT)
    return indptr, target, seconds


def _count(name: str, value, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if not low <= value < _TIME_LIMIT:
        raise ValueError(f"{name} must lie in [{low}, {_TIME_LIMIT}), got {value}")
    return int(value)


def _departures(departures_s) -> np.ndarray:
    departures = _int_array("departures_s", departures_s, low=-_TIME_LIMIT, high=_TIME_LIMIT)
    if departures.shape[0] == 0:
        raise ValueError("departures_s must hold at least one departure time")
    if (np.diff(departures) < 0).any():
        raise ValueError("departures_s must be ascending")
    return departures


def _window_inputs(timetable, departures_s, access, egress, direct, n_destinations,
                   max_rides, max_time_s):
    tt = _routing(timetable)
    n_stops = tt[11].shape[0]
    n_dest = _count("n_destinations", n_destinations, 0)
    access = _csr_triplet("access", access, _origin_count(access), "origin", n_stops, "stop")
    n_origins = access[0].shape[0] - 1
    egress = _csr_triplet("egress", egress, n_stops, "stop", n_dest, "destination")
    direct = _csr_triplet("direct", direct, n_origins, "origin", n_dest, "destination")
    return (tt, _departures(departures_s), access, egress, direct, n_dest,
            _count("max_rides", max_rides, 1), _count("max_time_s", max_time_s, 0))


def _origin_count(access) -> int:
    """Origins, from the access indptr (checked in detail by _csr_triplet)."""
    if not (isinstance(access, (tuple, list)) and len(access) == 3):
        raise TypeError("access must be a tuple (indptr, stop, seconds)")
    indptr = np.asarray(access[0])
    if indptr.ndim != 1 or indptr.shape[0] < 1:
        raise ValueError(f"access indptr must be 1-D with n_origins + 1 values, "
                         f"got shape {indptr.shape}")
    return indptr.shape[0] - 1


def _ranks(percentiles, n_dep: int) -> np.ndarray:
    """Nearest ranks of ``percentiles`` among ``n_dep`` sorted values: ``max(0,
    ceil(p / 100 * n_dep) - 1)``, in exact rational arithmetic (70 / 100 * 10
    must give rank 7, not 8)."""
    percentiles = np.asarray(percentiles, dtype=np.float64).reshape(-1)
    if not np.isfinite(percentiles).all() or (percentiles < 0).any() or (percentiles > 100).any():
        raise ValueError(f"percentiles must lie in [0, 100], got {percentiles.tolist()}")
    return np.array([max(0, math.ceil(Fraction(float(p)) * n_dep / 100) - 1)
                     for p in percentiles], dtype=np.int64)


def _chunks(n_origins: int) -> int:
    return max(1, min(n_origins, numba.get_num_threads()))


# --------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------

def earliest_arrival(timetable, departure_s: int, access_stop: np.ndarray,
                     access_s: np.ndarray, *, max_rides: int) -> np.ndarray:
    """Earliest arrival by vehicle at every stop (plain RAPTOR, one departure).

    Parameters
    ----------
    timetable
        Any object with the RAPTOR arrays of the transit contract (e.g. a
        ``networks.timetable.Timetable``).
    departure_s
        Departure time from the origin, seconds since midnight of the analysis day.
    access_stop, access_s
        int: the stops the origin walks to and the walking seconds (>= 0);
        boarding there is possible from ``departure_s + access_s``.
    max_rides
        Most vehicles used (>= 1).

    Returns
    -------
    numpy.ndarray
        float64 per stop: the earliest time at which a journey of at most
        ``max_rides`` rides alights there; inf where none does. A stop only
        walked to (access, footpath) is not "arrived at".
    """
    tt = _routing(timetable)
    n_stops = tt[11].shape[0]
    access_stop = _int_array("access_stop", access_stop, low=0, high=n_stops)
    access_s = _int_array("access_s", access_s, size=access_stop.shape[0], low=0,
                          high=_TIME_LIMIT)
    departure_s = _count("departure_s", departure_s, -_TIME_LIMIT)
    max_rides = _count("max_rides", max_rides, 1)
    return _earliest_arrival_kernel(tt, access_stop, access_s, np.int32(departure_s),
                                    max_rides)


def range_raptor(
    timetable,
    departures_s: np.ndarray,
    access: tuple[np.ndarray, np.ndarray, np.ndarray],
    egress: tuple[np.ndarray, np.ndarray, np.ndarray],
    direct: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_destinations: int,
    *,
    max_rides: int,
    max_time_s: int,
    percentiles,
    dest_group: np.ndarray | None = None,
    n_groups: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Travel-time percentiles over a departure window, every origin to every destination.

    For each departure the travel time is the best of the walk-only
    ``direct`` time and every journey of at most ``max_rides`` rides (see the
    module docstring); above ``max_time_s`` it counts as unreachable (inf).
    Percentile ``p`` of the M per-departure values (inf included) is the
    nearest rank: sorted ``v[max(0, ceil(p / 100 * M) - 1)]``. Origins run in
    parallel (Numba threads), each thread with its own workspace of about
    ``8 * max_rides * n_stops + 12 * n_destinations + 4 * M * (n_destinations
    + n_groups)`` bytes; the result does not depend on the number of threads.

    Parameters
    ----------
    timetable
        Any object with the RAPTOR arrays of the transit contract.
    departures_s
        int, M >= 1, ascending: departure times from the origin (e.g. every
        minute of the window).
    access
        ``(indptr (O + 1), stop int, seconds int)``: per origin, the stops it
        walks to and the seconds it takes.
    egress
        ``(indptr (N + 1), destination int, seconds int)``: per stop, the
        destinations reached on foot from it and the seconds it takes.
    direct
        ``(indptr (O + 1), destination int, seconds int)``: per origin, the
        walk-only time to destinations.
    n_destinations
        D, the number of destinations.
    max_rides
        Most vehicles per journey (>= 1).
    max_time_s
        Longest travel time that counts as reachable (inclusive, >= 0); also
        prunes the search.
    percentiles
        Sequence of percentiles in [0, 100], e.g. ``(25, 50, 75)``.
    dest_group
        int (D): group of each destination (e.g. the facility type), -1 for
        none. Needs ``n_groups``.
    n_groups
        G, the number of groups.

    Returns
    -------
    dest_pct
        float32 ``(O, D, P)``: travel time in seconds at each percentile; NaN
        where unreachable.
    group_pct
        float32 ``(O, G, P)``: the same for the nearest destination of each
        group (per departure, the minimum over the group's destinations).
    """
    tt, departures, access, egress, direct, n_dest, max_rides, max_time_s = _window_inputs(
        timetable, departures_s, access, egress, direct, n_destinations, max_rides, max_time_s)
    ranks = _ranks(percentiles, departures.shape[0])
    n_groups = _count("n_groups", n_groups, 0)
    if dest_group is None:
        if n_groups:
            raise ValueError("n_groups > 0 needs dest_group")
        dest_group = np.full(n_dest, -1, dtype=np.int32)
    dest_group = _int_array("dest_group", dest_group, size=n_dest, low=-1, high=n_groups)
    return _percentile_kernel(tt, access, direct, egress, departures, max_rides,
                              max_time_s, n_dest, ranks, dest_group, n_groups,
                              _chunks(access[0].shape[0] - 1))


def range_raptor_minutes(
    timetable,
    departures_s: np.ndarray,
    access: tuple[np.ndarray, np.ndarray, np.ndarray],
    egress: tuple[np.ndarray, np.ndarray, np.ndarray],
    direct: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_destinations: int,
    *,
    max_rides: int,
    max_time_s: int,
) -> np.ndarray:
    """Travel time for every departure, origin and destination.

    Same inputs and semantics as :func:`range_raptor`, without the
    percentiles.

    Returns
    -------
    numpy.ndarray
        float32 ``(O, M, D)``: travel time in seconds departing at
        ``departures_s[m]``; NaN where unreachable within ``max_time_s``.
    """
    tt, departures, access, egress, direct, n_dest, max_rides, max_time_s = _window_inputs(
        timetable, departures_s, access, egress, direct, n_destinations, max_rides, max_time_s)
    return _minutes_kernel(tt, access, direct, egress, departures, max_rides, max_time_s,
                           n_dest, _chunks(access[0].shape[0] - 1))
