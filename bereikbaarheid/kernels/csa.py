"""Numba backward profile Connection Scan: the nearest destination of a group, from every stop at once.

The per-origin range-RAPTOR (:mod:`.raptor`) routes each origin over the
timetable. When only the *nearest* destination of a group matters (the
nearest GP practice, whichever it is), that minimum can be found once,
backwards from the destinations, for every stop and every departure time:
a profile Connection Scan (Dibbelt, Pajor, Strasser & Wagner 2013) over the
connections in decreasing departure order. Each origin then combines the
profiles of its access stops and its walk-only times, at a cost of its
access stops times the departures, whatever the size of the timetable.

Semantics are those of :mod:`.raptor`, exactly: board at a stop no earlier
than the time one is there, only where pickup is allowed; alight only where
drop-off is allowed; after a ride change at the same stop (``stop_change_s``)
or walk one footpath and board there (never two footpaths, never one right
after access); at most ``max_rides`` vehicles; reach a destination by the
egress walk from a stop alighted at; the walk-only time always counts; a
travel time above ``max_time_s`` is unreachable. Per departure the result is
the minimum over the group's destinations, so the percentiles over the window
equal :func:`.raptor.range_raptor`'s ``group_pct`` value for value.

Labels are keys ``arrival * 2**31 + destination``: the earliest arrival and,
of destinations reached equally early, the lowest index, so the nearest
destination at a departure is the one :mod:`.raptor`'s per-destination times
give when ties go to the lowest index.

A stop's profile is a list of (departure, key per ride count) entries in
decreasing departure order, each holding the best over all entries at or
after its departure: the key for a traveller ready to board at the stop at
time ``x`` is that of the last entry departing at or after ``x``.
Connections departing at the same time are scanned again until nothing
changes when one of them takes no time and feeds a change or footpath of no
time (a zero-second hop whose arrival is a boarding at that same second).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .raptor import (
    _TIME_LIMIT,
    _chunks,
    _count,
    _csr_triplet,
    _departures,
    _int_array,
    _percentiles_into,
    _ranks,
    _routing,
)

# A key: arrival (or travel time) * _SHIFT + destination index.
_SHIFT = np.int64(2**31)
_NONE = np.iinfo(np.int64).max


# --------------------------------------------------------------------------
# Compiled kernels
# --------------------------------------------------------------------------

@numba.njit(cache=True, nogil=True)
def _find(entry_dep, lo, n, x):
    """Number of entries ``lo .. lo + n - 1`` (departures decreasing) that
    depart at or after ``x``: the last of them is the one to read."""
    a = 0
    b = n
    while a < b:
        mid = (a + b) // 2
        if entry_dep[lo + mid] >= x:
            a = mid + 1
        else:
            b = mid
    return a


@numba.njit(cache=True, nogil=True)
def _scan(conn_dep, conn_arr, conn_trip, conn_u, conn_v, conn_pick, conn_drop, conn_zero,
          change_s, tr_indptr, tr_stop, tr_s, egress_key, n_trips, max_rides, cap_indptr):
    """One group's stop profiles (see the module docstring).

    Connections come sorted by decreasing departure (then by trip and
    decreasing position). Returns the entries' departures, their keys per
    ride count (column q: at most q + 1 rides) and the entries per stop; the
    entries of stop s lie at ``cap_indptr[s]`` onwards.
    """
    n_stops = cap_indptr.shape[0] - 1
    n_cap = cap_indptr[n_stops]
    entry_dep = np.empty(n_cap, dtype=np.int32)
    entry_key = np.empty((n_cap, max_rides), dtype=np.int64)
    count = np.zeros(n_stops, dtype=np.int64)
    trip_key = np.full((n_trips, max_rides), _NONE, dtype=np.int64)
    x = np.empty(max_rides, dtype=np.int64)
    n_conn = conn_dep.shape[0]
    i = 0
    while i < n_conn:
        j = i
        repeat = False
        while j < n_conn and conn_dep[j] == conn_dep[i]:
            repeat = repeat or conn_zero[j]
            j += 1
        if repeat:
            # A trip's label covers the positions after the one scanned; each
            # pass starts from the labels the group found.
            saved = np.empty((j - i, max_rides), dtype=np.int64)
            for c in range(i, j):
                saved[c - i] = trip_key[conn_trip[c]]
        first_pass = True
        while True:
            if not first_pass:
                for c in range(i, j):
                    trip_key[conn_trip[c]] = saved[c - i]
            first_pass = False
            changed = False
            for c in range(i, j):
                tr = conn_trip[c]
                if conn_drop[c]:
                    v = conn_v[c]
                    a = np.int64(conn_arr[c])
                    e = egress_key[v]
                    first = e + a * _SHIFT if e != _NONE else _NONE
                    x[:] = first
                    if max_rides > 1:
                        # Change at v, or one footpath from v; then q rides more.
                        lo = cap_indptr[v]
                        k = _find(entry_dep, lo, count[v], a + change_s[v])
                        if k > 0:
                            for q in range(1, max_rides):
                                x[q] = min(x[q], entry_key[lo + k - 1, q - 1])
                        for f in range(tr_indptr[v], tr_indptr[v + 1]):
                            s2 = tr_stop[f]
                            lo = cap_indptr[s2]
                            k = _find(entry_dep, lo, count[s2], a + tr_s[f])
                            if k > 0:
                                for q in range(1, max_rides):
                                    x[q] = min(x[q], entry_key[lo + k - 1, q - 1])
                    for q in range(max_rides):
                        trip_key[tr, q] = min(trip_key[tr, q], x[q])
                if conn_pick[c]:
                    u = conn_u[c]
                    lo = cap_indptr[u]
                    n = count[u]
                    better = False
                    if n == 0:
                        for q in range(max_rides):
                            if trip_key[tr, q] != _NONE:
                                better = True
                    else:
                        for q in range(max_rides):
                            if trip_key[tr, q] < entry_key[lo + n - 1, q]:
                                better = True
                    if better:
                        changed = True
                        if n > 0 and entry_dep[lo + n - 1] == conn_dep[c]:
                            at = lo + n - 1  # the same second: merge
                        else:
                            at = lo + n
                            entry_dep[at] = conn_dep[c]
                            for q in range(max_rides):
                                entry_key[at, q] = (entry_key[at - 1, q] if n > 0
                                                    else np.int64(_NONE))
                            count[u] = n + 1
                        for q in range(max_rides):
                            entry_key[at, q] = min(entry_key[at, q], trip_key[tr, q])
            if not (repeat and changed):
                break
        i = j
    return entry_dep, entry_key, count


@numba.njit(cache=True, nogil=True)
def _origin(entry_dep, entry_key, cap_indptr, count, access_stop, access_s, direct_dest,
            direct_s, dest_group, g, departures, max_time_s, best):
    """``best[m]``: the key ``time * _SHIFT + destination`` of the nearest
    destination of group ``g`` departing at ``departures[m]`` (``_NONE``
    where none is reached within ``max_time_s``)."""
    n_dep = departures.shape[0]
    walk = _NONE
    for j in range(direct_dest.shape[0]):
        d = direct_dest[j]
        if dest_group[d] == g and direct_s[j] <= max_time_s:
            k = np.int64(direct_s[j]) * _SHIFT + d
            walk = min(walk, k)
    best[:] = walk
    for j in range(access_stop.shape[0]):
        s = access_stop[j]
        a = np.int64(access_s[j])
        lo = cap_indptr[s]
        n = count[g, s]
        if n == 0:
            continue
        # Latest departure first: the entry to read moves to earlier ones.
        p = _find(entry_dep[g], lo, n, np.int64(departures[n_dep - 1]) + a)
        for m in range(n_dep - 1, -1, -1):
            t = np.int64(departures[m])
            while p < n and entry_dep[g, lo + p] >= t + a:
                p += 1
            if p > 0:
                k = entry_key[g, lo + p - 1]
                if k != _NONE:
                    k -= t * _SHIFT
                    best[m] = min(best[m], k)
    limit = (np.int64(max_time_s) + 1) * _SHIFT
    for m in range(n_dep):
        if best[m] >= limit:
            best[m] = _NONE


@numba.njit(cache=True, nogil=True)
def _most_often(best, buf):
    """The destination of the most keys in ``best`` (not ``_NONE``); of equally
    frequent ones the lowest; -1 when none."""
    n = 0
    for k in best:
        if k != _NONE:
            buf[n] = k % _SHIFT
            n += 1
    if n == 0:
        return -1
    buf[:n].sort()
    top = buf[0]
    top_n = 0
    run = 0
    for i in range(n):
        run = run + 1 if i > 0 and buf[i] == buf[i - 1] else 1
        if run > top_n:
            top_n = run
            top = buf[i]
    return top


@numba.njit(cache=True, parallel=True)
def _cells_kernel(entry_dep, entry_key, cap_indptr, count, access, direct, dest_group,
                  n_groups, departures, max_time_s, ranks, per_departure, n_chunks):
    """Per origin and group: the percentiles and the destination nearest most
    often, or with ``per_departure`` every departure's time and nearest
    destination (the other pair of outputs is left empty)."""
    access_indptr, access_stop, access_s = access
    direct_indptr, direct_dest, direct_s = direct
    n_origins = access_indptr.shape[0] - 1
    n_dep = departures.shape[0]
    n_pct = 0 if per_departure else n_origins
    n_min = n_origins if per_departure else 0
    group_pct = np.empty((n_pct, n_groups, ranks.shape[0]), dtype=np.float32)
    usual = np.empty((n_pct, n_groups), dtype=np.int32)
    times = np.empty((n_min, n_dep, n_groups), dtype=np.float32)
    nearest = np.empty((n_min, n_dep, n_groups), dtype=np.int32)
    for c in numba.prange(n_chunks):
        best = np.empty(n_dep, dtype=np.int64)
        buf = np.empty(n_dep, dtype=np.int64)
        column = np.empty(n_dep, dtype=np.float32)
        sorted_buf = np.empty(n_dep, dtype=np.float32)
        for o in range(c, n_origins, n_chunks):
            a0, a1 = access_indptr[o], access_indptr[o + 1]
            d0, d1 = direct_indptr[o], direct_indptr[o + 1]
            for g in range(n_groups):
                _origin(entry_dep, entry_key, cap_indptr, count, access_stop[a0:a1],
                        access_s[a0:a1], direct_dest[d0:d1], direct_s[d0:d1], dest_group, g,
                        departures, max_time_s, best)
                for m in range(n_dep):
                    column[m] = (np.float32(best[m] // _SHIFT) if best[m] != _NONE
                                 else np.float32(np.inf))
                if per_departure:
                    for m in range(n_dep):
                        reached = best[m] != _NONE
                        times[o, m, g] = column[m] if reached else np.nan
                        nearest[o, m, g] = best[m] % _SHIFT if reached else -1
                else:
                    _percentiles_into(column, sorted_buf, ranks, group_pct[o, g])
                    usual[o, g] = _most_often(best, buf)
    return group_pct, usual, times, nearest


# --------------------------------------------------------------------------
# Python side
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class StopProfiles:
    """Per group of destinations and per stop, the earliest arrival at the
    group by departure time (made by :func:`stop_profiles`).

    Attributes
    ----------
    cap_indptr
        int64 (N + 1): the entries of stop ``s`` start at ``cap_indptr[s]``.
    count
        int64 (G, N): the entries per group and stop.
    departure_s
        int32 (G, cap): each entry's departure, decreasing within a stop.
    key
        int64 (G, cap): each entry's key with at most ``max_rides`` rides:
        ``arrival * 2**31 + destination`` (int64 max: none).
    max_rides, max_time_s, first_s, last_s
        What they were made for: the departures of the window must lie in
        ``[first_s, last_s]``.
    n_destinations
        D, the destinations the groups were made of.
    connections
        The connections scanned per group.
    """

    cap_indptr: np.ndarray
    count: np.ndarray
    departure_s: np.ndarray
    key: np.ndarray
    max_rides: int
    max_time_s: int
    first_s: int
    last_s: int
    n_destinations: int
    connections: int

    @property
    def n_stops(self) -> int:
        return self.cap_indptr.shape[0] - 1

    @property
    def n_groups(self) -> int:
        return self.count.shape[0]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.cap_indptr, self.count, self.departure_s, self.key))


def _connections(tt, first_s: int, last_s: int, max_time_s: int):
    """The timetable's hops that a journey departing in ``[first_s, last_s]``
    within ``max_time_s`` can use, sorted for the scan."""
    (pat_stop_indptr, pat_stops, pat_pickup, pat_dropoff, pat_trip_indptr, trip_start,
     arrival, departure, *_rest) = tt
    change_s, tr_indptr, tr_stop, tr_s = tt[11], tt[12], tt[13], tt[14]
    n_trips = trip_start.shape[0]
    trips_per = np.diff(pat_trip_indptr)
    trip_pattern = np.repeat(np.arange(trips_per.shape[0]), trips_per)
    hops = np.maximum(np.diff(pat_stop_indptr)[trip_pattern] - 1, 0)
    trip = np.repeat(np.arange(n_trips), hops)
    offset = np.cumsum(hops) - hops
    pos = np.arange(int(hops.sum()), dtype=np.int64) - np.repeat(offset, hops)
    at = trip_start[trip] + pos
    in_pattern = pat_stop_indptr[trip_pattern[trip]] + pos
    dep = departure[at].astype(np.int64)
    arr = arrival[at + 1].astype(np.int64)
    keep = (dep >= first_s) & (arr <= last_s + max_time_s)
    trip, pos, in_pattern, dep, arr = (a[keep] for a in (trip, pos, in_pattern, dep, arr))
    order = np.lexsort((-pos, trip, -dep))
    trip, in_pattern, dep, arr = trip[order], in_pattern[order], dep[order], arr[order]
    u = pat_stops[in_pattern]
    v = pat_stops[in_pattern + 1]
    pick = pat_pickup[in_pattern]
    drop = pat_dropoff[in_pattern + 1]
    # A hop of no time feeds a boarding at its own departure second when the
    # stop it reaches has no change time or a footpath of none.
    zero_step = change_s == 0
    zero_walk = np.zeros_like(zero_step)
    np.logical_or.at(zero_walk, np.repeat(np.arange(change_s.shape[0]), np.diff(tr_indptr)),
                     tr_s == 0)
    zero = (arr == dep) & drop & (zero_step | zero_walk)[v]
    return (np.ascontiguousarray(dep, np.int32), np.ascontiguousarray(arr, np.int32),
            trip.astype(np.int32), u.astype(np.int32), v.astype(np.int32), pick, drop, zero,
            change_s, tr_indptr, tr_stop, tr_s, n_trips)


def stop_profiles(
    timetable,
    egress: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_destinations: int,
    dest_group: np.ndarray,
    n_groups: int,
    *,
    first_s: int,
    last_s: int,
    max_rides: int,
    max_time_s: int,
) -> StopProfiles:
    """Every stop's profile to the nearest destination of each group.

    Parameters
    ----------
    timetable
        Any object with the RAPTOR arrays of the transit contract (see
        :mod:`.raptor`).
    egress
        ``(indptr (N + 1), destination int, seconds int)``: per stop, the
        destinations reached on foot from it and the seconds it takes.
    n_destinations
        D, the number of destinations.
    dest_group
        int (D): the group of each destination, -1 for none.
    n_groups
        G, the number of groups.
    first_s, last_s
        The window's first and last departure: connections a journey of at
        most ``max_time_s`` departing in it cannot use are left out.
    max_rides, max_time_s
        As for :func:`.raptor.range_raptor`.

    Returns
    -------
    StopProfiles
        Read by :func:`window_percentiles` and :func:`window_minutes`.

    Notes
    -----
    One scan per group over the connections departing from ``first_s``
    and arriving by ``last_s + max_time_s``; each connection costs a lookup
    per footpath of the stop it reaches. Memory: 4 + 8 ``max_rides`` bytes
    per boarding connection while a group is scanned, 12 bytes per boarding
    connection and group kept.
    """
    tt = _routing(timetable)
    n_stops = tt[11].shape[0]
    n_dest = _count("n_destinations", n_destinations, 0)
    egress = _csr_triplet("egress", egress, n_stops, "stop", n_dest, "destination")
    n_groups = _count("n_groups", n_groups, 0)
    dest_group = _int_array("dest_group", dest_group, size=n_dest, low=-1, high=n_groups)
    max_rides = _count("max_rides", max_rides, 1)
    max_time_s = _count("max_time_s", max_time_s, 0)
    first_s = _count("first_s", first_s, -_TIME_LIMIT)
    last_s = _count("last_s", last_s, -_TIME_LIMIT)
    if last_s < first_s:
        raise ValueError(f"last_s ({last_s}) must not be before first_s ({first_s})")
    (dep, arr, trip, u, v, pick, drop, zero, change_s, tr_indptr, tr_stop, tr_s,
     n_trips) = _connections(tt, first_s, last_s, max_time_s)
    cap_indptr = np.zeros(n_stops + 1, np.int64)
    np.cumsum(np.bincount(u[pick], minlength=n_stops), out=cap_indptr[1:])
    n_cap = int(cap_indptr[-1])
    count = np.zeros((n_groups, n_stops), np.int64)
    departure_s = np.empty((n_groups, n_cap), np.int32)
    key = np.empty((n_groups, n_cap), np.int64)
    e_indptr, e_dest, e_s = egress
    e_stop = np.repeat(np.arange(n_stops), np.diff(e_indptr))
    for g in range(n_groups):
        mine = dest_group[e_dest] == g
        egress_key = np.full(n_stops, _NONE, np.int64)
        np.minimum.at(egress_key, e_stop[mine],
                      e_s[mine].astype(np.int64) * _SHIFT + e_dest[mine])
        entry_dep, entry_key, count[g] = _scan(
            dep, arr, trip, u, v, pick, drop, zero, change_s, tr_indptr, tr_stop, tr_s,
            egress_key, n_trips, max_rides, cap_indptr)
        departure_s[g] = entry_dep
        key[g] = entry_key[:, max_rides - 1]
        # Entries past a stop's count were never written.
        unused = np.arange(n_cap) >= np.repeat(cap_indptr[:-1] + count[g], np.diff(cap_indptr))
        departure_s[g, unused] = 0
        key[g, unused] = _NONE
    return StopProfiles(cap_indptr=cap_indptr, count=count, departure_s=departure_s, key=key,
                        max_rides=max_rides, max_time_s=max_time_s, first_s=first_s,
                        last_s=last_s, n_destinations=n_dest, connections=int(dep.shape[0]))


def _origin_inputs(profiles: StopProfiles, departures_s, access, direct, dest_group):
    if not isinstance(profiles, StopProfiles):
        raise TypeError("profiles must be the StopProfiles of stop_profiles()")
    departures = _departures(departures_s)
    if departures[0] < profiles.first_s or departures[-1] > profiles.last_s:
        raise ValueError(f"departures_s must lie in [{profiles.first_s}, {profiles.last_s}], "
                         f"the window the profiles were made for, got {departures[0]} .. "
                         f"{departures[-1]}")
    n_stops, n_dest = profiles.n_stops, profiles.n_destinations
    access = _csr_from_access(access, n_stops)
    n_origins = access[0].shape[0] - 1
    direct = _csr_triplet("direct", direct, n_origins, "origin", n_dest, "destination")
    dest_group = _int_array("dest_group", dest_group, size=n_dest, low=-1,
                            high=profiles.n_groups)
    return departures, access, direct, dest_group, n_origins


def _csr_from_access(access, n_stops: int):
    if not (isinstance(access, (tuple, list)) and len(access) == 3):
        raise TypeError("access must be a tuple (indptr, stop, seconds)")
    n_origins = np.asarray(access[0]).shape[0] - 1
    return _csr_triplet("access", access, max(n_origins, 0), "origin", n_stops, "stop")


def window_percentiles(
    profiles: StopProfiles,
    departures_s: np.ndarray,
    access: tuple[np.ndarray, np.ndarray, np.ndarray],
    direct: tuple[np.ndarray, np.ndarray, np.ndarray],
    dest_group: np.ndarray,
    *,
    percentiles,
) -> tuple[np.ndarray, np.ndarray]:
    """Per origin and group, the travel time to the nearest destination at
    each percentile of the window, and the destination nearest most often.

    Parameters
    ----------
    profiles
        From :func:`stop_profiles`, for these destinations and groups.
    departures_s
        int, M >= 1, ascending, within the profiles' window.
    access, direct
        As for :func:`.raptor.range_raptor`.
    dest_group
        The groups the profiles were made with.
    percentiles
        As for :func:`.raptor.range_raptor` (nearest rank, unreached
        departures counted as infinitely long).

    Returns
    -------
    group_pct
        float32 ``(O, G, P)``: equal to :func:`.raptor.range_raptor`'s
        ``group_pct``; NaN where unreachable.
    usual
        int32 ``(O, G)``: the destination nearest at the most departures (per
        departure, of equally near ones the lowest index; of equally frequent
        ones the lowest index); -1 where none is reached at any.
    """
    departures, access, direct, dest_group, n_origins = _origin_inputs(
        profiles, departures_s, access, direct, dest_group)
    ranks = _ranks(percentiles, departures.shape[0])
    return _cells_kernel(profiles.departure_s, profiles.key, profiles.cap_indptr,
                         profiles.count, access, direct, dest_group, profiles.n_groups,
                         departures, profiles.max_time_s, ranks, False, _chunks(n_origins))[:2]


def window_minutes(
    profiles: StopProfiles,
    departures_s: np.ndarray,
    access: tuple[np.ndarray, np.ndarray, np.ndarray],
    direct: tuple[np.ndarray, np.ndarray, np.ndarray],
    dest_group: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per origin, departure and group, the travel time to the nearest
    destination and which one it is.

    Returns
    -------
    times
        float32 ``(O, M, G)``: seconds; NaN where nothing is reached within
        ``max_time_s``. Equal to the minimum over the group of
        :func:`.raptor.range_raptor_minutes`.
    nearest
        int32 ``(O, M, G)``: the nearest destination (of equally near ones
        the lowest index); -1 where none.
    """
    departures, access, direct, dest_group, n_origins = _origin_inputs(
        profiles, departures_s, access, direct, dest_group)
    return _cells_kernel(profiles.departure_s, profiles.key, profiles.cap_indptr,
                         profiles.count, access, direct, dest_group, profiles.n_groups,
                         departures, profiles.max_time_s, np.zeros(0, np.int64), True,
                         _chunks(n_origins))[2:]
