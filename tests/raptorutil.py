"""Random timetables for RAPTOR tests and an independent brute-force router.

The reference shares nothing with ``kernels.raptor``: it routes on the raw
trips (lists of stop-times, never patterns) by Dijkstra over a time-expanded
graph whose nodes are events - a trip departing or arriving at a position, a
passenger alighting or ready to board at a stop at a time - each carrying the
number of rides so far, so the ride limit is exact.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from bereikbaarheid.networks import timetable as timetable_mod


@dataclass
class RawTimetable:
    """Trips as stop-time lists: ``trips[k] = [(stop, arrival_s, departure_s, pickup, dropoff), ...]``."""

    n_stops: int
    trips: list[list[tuple[int, int, int, bool, bool]]]
    route: list[str]
    change_s: list[int]
    # (from_stop, to_stop, walk_s), from != to; several per pair allowed.
    footpaths: list[tuple[int, int, int]] = field(default_factory=list)
    min_change_s: int = 60

    def build(self) -> timetable_mod.Timetable:
        """The same timetable through ``networks.timetable.build_timetable``."""
        n = self.n_stops
        stops = pd.DataFrame({"stop_id": [f"s{i}" for i in range(n)],
                              "stop_name": [f"stop {i}" for i in range(n)],
                              "station_id": [""] * n,
                              "x": np.arange(n, dtype=float) * 1000.0, "y": np.zeros(n)})
        trips = pd.DataFrame({"trip_id": [f"t{k}" for k in range(len(self.trips))],
                              "route_id": self.route, "route_type": 3})
        rows = [(k, *st_) for k, trip in enumerate(self.trips) for st_ in trip]
        stop_times = pd.DataFrame(rows, columns=["trip", "stop", "arrival_s", "departure_s",
                                                 "pickup", "dropoff"])
        stop_times = stop_times.astype({"trip": np.int32, "stop": np.int32,
                                        "arrival_s": np.int32, "departure_s": np.int32,
                                        "pickup": bool, "dropoff": bool})
        changed = [s for s in range(n) if self.change_s[s] != self.min_change_s]
        transfers = pd.DataFrame({"from_stop": changed, "to_stop": changed,
                                  "transfer_type": 2,
                                  "min_transfer_s": [self.change_s[s] for s in changed]})
        footpaths = None
        if self.footpaths:
            a, b, w = (np.array(c, dtype=np.int64) for c in zip(*self.footpaths))
            footpaths = (a, b, w)
        return timetable_mod.build_timetable(stops, trips, stop_times, transfers,
                                             min_change_s=self.min_change_s,
                                             footpaths=footpaths)


def reference_alight(raw: RawTimetable, departure_s: int, access, max_rides: int) -> np.ndarray:
    """Earliest alighting time at every stop (inf where none), by Dijkstra.

    ``access`` is a list of ``(stop, walk_s)``.
    """
    boardings: dict[int, list[tuple[int, int]]] = {}
    for k, trip in enumerate(raw.trips):
        for i, (s, _, _, pickup, _) in enumerate(trip):
            if pickup and i + 1 < len(trip):
                boardings.setdefault(s, []).append((k, i))
    walks: dict[int, list[tuple[int, int]]] = {}
    for a, b, w in raw.footpaths:
        walks.setdefault(a, []).append((b, w))

    best = np.full(raw.n_stops, np.inf)
    heap: list = []
    seen = set()
    for s, walk_s in access:
        heapq.heappush(heap, (departure_s + walk_s, ("ready", s, departure_s + walk_s, 0)))
    while heap:
        time, node = heapq.heappop(heap)
        if node in seen:
            continue
        seen.add(node)
        kind = node[0]
        if kind == "ready":  # waiting at a stop, ready to board
            _, s, _, rides = node
            if rides < max_rides:
                for k, i in boardings.get(s, []):
                    dep = raw.trips[k][i][2]
                    if dep >= time:
                        heapq.heappush(heap, (dep, ("depart", k, i, rides + 1)))
        elif kind == "depart":  # on board, trip k leaving position i
            _, k, i, rides = node
            heapq.heappush(heap, (raw.trips[k][i + 1][1], ("arrive", k, i + 1, rides)))
        elif kind == "arrive":  # on board, trip k at position i
            _, k, i, rides = node
            s, arr, dep, _, dropoff = raw.trips[k][i]
            if dropoff:
                heapq.heappush(heap, (arr, ("alight", s, arr, rides)))
            if i + 1 < len(raw.trips[k]):
                heapq.heappush(heap, (dep, ("depart", k, i, rides)))
        else:  # alighted at stop s
            _, s, _, rides = node
            best[s] = min(best[s], time)
            heapq.heappush(heap, (time + raw.change_s[s],
                                  ("ready", s, time + raw.change_s[s], rides)))
            for s2, w in walks.get(s, []):
                heapq.heappush(heap, (time + w, ("ready", s2, time + w, rides)))
    return best


def reference_travel_times(raw: RawTimetable, departures, access, egress, direct,
                           n_dest: int, max_rides: int, max_time_s: int) -> np.ndarray:
    """(O, M, D) travel times, inf where unreachable, by :func:`reference_alight`.

    ``access[o]`` and ``direct[o]`` are lists of ``(stop or destination,
    seconds)``; ``egress`` a list of ``(stop, destination, seconds)``.
    """
    out = np.full((len(access), len(departures), n_dest), np.inf)
    for o in range(len(access)):
        for m, t in enumerate(departures):
            best = reference_alight(raw, t, access[o], max_rides)
            for d, w in direct[o]:
                out[o, m, d] = min(out[o, m, d], w)
            for s, d, w in egress:
                out[o, m, d] = min(out[o, m, d], best[s] + w - t)
    out[out > max_time_s] = np.inf
    return out


def nearest_rank(values, p: float) -> float:
    """Percentile by nearest rank: sorted value number ceil(p * M / 100), counted from 1."""
    v = sorted(values)
    rank = -(-int(p) * len(v) // 100)  # integer ceiling; p is whole here
    return v[max(rank, 1) - 1]


def to_csr(rows: list[list[tuple[int, int]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, target int32, seconds int32)`` from per-row lists of ``(target, seconds)``."""
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=indptr[1:])
    target = np.array([x for r in rows for x, _ in r], dtype=np.int32)
    seconds = np.array([w for r in rows for _, w in r], dtype=np.int32)
    return indptr, target, seconds


@st.composite
def raw_timetables(draw, max_stops: int = 12) -> RawTimetable:
    """3-``max_stops`` stops, a few routes of random stop sequences (a stop may
    recur), trips with random run and dwell times that may overtake each
    other, some pickup/dropoff restrictions, change times and footpaths;
    all shifted by a day forward or back now and then."""
    n = draw(st.integers(3, max_stops))
    shift = draw(st.sampled_from([0, 0, -86400, 86400]))
    flag = st.integers(0, 5).map(lambda x: x > 0)
    trips, route = [], []
    for r in range(draw(st.integers(1, 4))):
        stops = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=5))
        for _ in range(draw(st.integers(1, 4))):
            t = shift + draw(st.integers(0, 240))
            trip = []
            for i, s in enumerate(stops):
                if i:
                    t += draw(st.integers(0, 90))
                arr = t
                t += draw(st.integers(0, 20)) if 0 < i < len(stops) - 1 else 0
                trip.append((s, arr, t, draw(flag), draw(flag)))
            trips.append(trip)
            route.append(f"r{r}")
    min_change_s = draw(st.integers(0, 40))
    change_s = [draw(st.sampled_from([min_change_s, min_change_s, 0, 15, 45]))
                for _ in range(n)]
    footpaths = draw(st.lists(
        st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.integers(0, 90))
        .filter(lambda f: f[0] != f[1]), max_size=6))
    return RawTimetable(n_stops=n, trips=trips, route=route, change_s=change_s,
                        footpaths=footpaths, min_change_s=min_change_s)


@st.composite
def queries(draw, raw: RawTimetable):
    """Origins with access, destinations with egress and direct times, a window."""
    n = raw.n_stops
    n_dest = draw(st.integers(1, 4))
    n_origins = draw(st.integers(1, 3))
    # Mostly stops where some trip boards, so that most queries ride.
    boarding = sorted({s for trip in raw.trips for s, *_, pickup, _ in trip[:-1] if pickup})
    stop = st.one_of(st.sampled_from(boarding), st.integers(0, n - 1)) if boarding \
        else st.integers(0, n - 1)
    access = [draw(st.lists(st.tuples(stop, st.integers(0, 60)), min_size=1, max_size=3))
              for _ in range(n_origins)]
    served = sorted({s for trip in raw.trips for s, *_ in trip})
    egress_rows = draw(st.lists(st.tuples(st.sampled_from(served), st.integers(0, n_dest - 1),
                                          st.integers(0, 60)), min_size=1, max_size=8))
    egress_rows.sort(key=lambda e: e[0])
    direct = [draw(st.lists(st.tuples(st.integers(0, n_dest - 1), st.integers(60, 900)),
                            max_size=2)) for _ in range(n_origins)]
    first_s = min(trip[0][2] for trip in raw.trips) - 60
    departures = sorted(draw(st.lists(st.integers(first_s, first_s + 300), min_size=1,
                                      max_size=6)))
    return {
        "n_dest": n_dest, "access": access, "egress": egress_rows, "direct": direct,
        "departures": departures, "max_rides": draw(st.integers(1, 4)),
        "max_time_s": draw(st.one_of(st.integers(60, 900), st.just(3600))),
    }


def kernel_inputs(raw: RawTimetable, q: dict) -> dict:
    """The query ``q`` as the CSR arrays of ``kernels.raptor``."""
    egress_by_stop = [[(d, w) for s_, d, w in q["egress"] if s_ == s]
                      for s in range(raw.n_stops)]
    return {
        "departures_s": np.array(q["departures"], dtype=np.int32),
        "access": to_csr(q["access"]),
        "egress": to_csr(egress_by_stop),
        "direct": to_csr(q["direct"]),
        "n_destinations": q["n_dest"],
    }


@st.composite
def minute_timetables(draw, max_stops: int = 8) -> RawTimetable:
    """Timetables as real feeds write them, to the whole minute: lines run at a
    fixed headway (a frequency), hops and dwells of 0-3 minutes (many take no
    time at all), change times and footpaths of 0 or 1 minute, so that many
    events fall on the same second; past midnight now and then."""
    n = draw(st.integers(3, max_stops))
    shift = draw(st.sampled_from([0, 0, 86400 - 1800]))
    flag = st.integers(0, 7).map(lambda x: x > 0)
    trips, route = [], []
    for r in range(draw(st.integers(1, 4))):
        stops = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=5))
        runs = [draw(st.integers(0, 3)) * 60 for _ in stops]
        dwells = [draw(st.sampled_from([0, 0, 60])) for _ in stops]
        start = shift + draw(st.integers(0, 10)) * 60
        headway = draw(st.sampled_from([60, 120, 300, 600]))
        for k in range(draw(st.integers(1, 5))):
            t = start + k * headway
            trip = []
            for i, s in enumerate(stops):
                if i:
                    t += runs[i]
                arr = t
                t += dwells[i] if 0 < i < len(stops) - 1 else 0
                trip.append((s, arr, t, draw(flag), draw(flag)))
            trips.append(trip)
            route.append(f"r{r}")
    min_change_s = draw(st.sampled_from([0, 60]))
    change_s = [draw(st.sampled_from([min_change_s, 0, 60])) for _ in range(n)]
    footpaths = draw(st.lists(
        st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from([0, 60, 120]))
        .filter(lambda f: f[0] != f[1]), max_size=6))
    return RawTimetable(n_stops=n, trips=trips, route=route, change_s=change_s,
                        footpaths=footpaths, min_change_s=min_change_s)


def one_row(csr: tuple[np.ndarray, np.ndarray, np.ndarray], row: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row ``row`` of a CSR triple, as a CSR triple of one row."""
    indptr, target, seconds = csr
    lo, hi = indptr[row], indptr[row + 1]
    return np.array([0, hi - lo], np.int64), target[lo:hi], seconds[lo:hi]
