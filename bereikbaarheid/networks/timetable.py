"""Public-transport timetables as RAPTOR arrays: patterns, trips, stop-times, footpaths.

A *pattern* (a RAPTOR "route") is a sequence of stops shared by trips that
stop alike (the same pickup and drop-off rules at every stop) and never
overtake each other: at every position, departures and arrivals are
non-decreasing from one trip to the next. GTFS routes are split into such
patterns by stop sequence and rules, and a pattern whose trips overtake is
split further (greedily, earliest trips first), so the kernel may board the
first catchable trip and know that no later trip of the pattern arrives
sooner or stops where it does not.

Times are integer seconds since midnight of the analysis day (see
``sources.gtfs``); footpaths and change times are integer seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# A transfer that transfers.txt forbids (type 3) at a single stop: a change
# time no journey within days can use.
NO_CHANGE_S = 10 * 86400


@dataclass
class Timetable:
    """RAPTOR arrays of one analysis day.

    With N stops, P patterns, T trips and S stop-times:

    Attributes
    ----------
    service_date
        The analysis day (ISO date); all times count from its midnight.
    stop_id, stop_name, station_id
        object (N): GTFS ids (``station_id`` "" when none) and names.
    stop_x, stop_y
        float64 (N): stop position in the analysis CRS.
    stop_change_s
        int32 (N): minimum time to change vehicles at the stop.
    pattern_stop_indptr, pattern_stops
        CSR: the stops of pattern ``p`` are
        ``pattern_stops[pattern_stop_indptr[p]:pattern_stop_indptr[p + 1]]``.
    pattern_trip_indptr
        int64 (P + 1): the trips of pattern ``p`` are numbered
        ``pattern_trip_indptr[p]`` to ``pattern_trip_indptr[p + 1] - 1``,
        sorted by departure and never overtaking.
    pattern_pickup, pattern_dropoff
        bool (one per pattern position, like ``pattern_stops``): boarding and
        alighting allowed, the same for every trip of the pattern.
    trip_stoptime_start
        int64 (T): first stop-time of each trip; its ``L_p`` stop-times follow.
    arrival_s, departure_s
        int32 (S): arrival and departure at each stop-time.
    pickup, dropoff
        bool (S): boarding, alighting allowed.
    stop_pattern_indptr, stop_pattern, stop_pattern_pos
        CSR by stop: every (pattern, position) at which the stop occurs.
    transfer_indptr, transfer_stop, transfer_s
        CSR by stop: footpaths to other stops and their time (any
        ``min_transfer_time`` included).
    trip_id
        object (T): GTFS trip id of each trip.
    pattern_route_id, pattern_route_type
        GTFS route id (object) and route_type (int32) of each pattern.
    stats
        Counts for reports.
    """

    service_date: str
    stop_id: np.ndarray
    stop_name: np.ndarray
    station_id: np.ndarray
    stop_x: np.ndarray
    stop_y: np.ndarray
    stop_change_s: np.ndarray
    pattern_stop_indptr: np.ndarray
    pattern_stops: np.ndarray
    pattern_trip_indptr: np.ndarray
    pattern_pickup: np.ndarray
    pattern_dropoff: np.ndarray
    trip_stoptime_start: np.ndarray
    arrival_s: np.ndarray
    departure_s: np.ndarray
    pickup: np.ndarray
    dropoff: np.ndarray
    stop_pattern_indptr: np.ndarray
    stop_pattern: np.ndarray
    stop_pattern_pos: np.ndarray
    transfer_indptr: np.ndarray
    transfer_stop: np.ndarray
    transfer_s: np.ndarray
    trip_id: np.ndarray
    pattern_route_id: np.ndarray
    pattern_route_type: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)

    # Numeric arrays, with their dtypes, as stored in the cache.
    ARRAYS = {
        "stop_x": "float64", "stop_y": "float64", "stop_change_s": "int32",
        "pattern_stop_indptr": "int64", "pattern_stops": "int32",
        "pattern_trip_indptr": "int64", "pattern_pickup": "bool", "pattern_dropoff": "bool",
        "trip_stoptime_start": "int64",
        "arrival_s": "int32", "departure_s": "int32", "pickup": "bool", "dropoff": "bool",
        "stop_pattern_indptr": "int64", "stop_pattern": "int32", "stop_pattern_pos": "int32",
        "transfer_indptr": "int64", "transfer_stop": "int32", "transfer_s": "int32",
        "pattern_route_type": "int32",
    }
    LABELS = ("stop_id", "stop_name", "station_id", "trip_id", "pattern_route_id")

    @property
    def n_stops(self) -> int:
        return int(self.stop_x.shape[0])

    @property
    def n_patterns(self) -> int:
        return int(self.pattern_stop_indptr.shape[0] - 1)

    @property
    def n_trips(self) -> int:
        return int(self.trip_stoptime_start.shape[0])

    def validate(self) -> None:
        """Check the invariants the RAPTOR kernel relies on; ValueError if broken."""
        n, p = self.n_stops, self.n_patterns
        for name, dtype in self.ARRAYS.items():
            if str(getattr(self, name).dtype) != dtype:
                raise ValueError(f"timetable array {name} is not {dtype}")
        for name in ("stop_id", "stop_name", "station_id", "stop_y", "stop_change_s"):
            if getattr(self, name).shape[0] != n:
                raise ValueError(f"timetable array {name} does not have one value per stop")
        lengths = np.diff(self.pattern_stop_indptr)
        trips_per = np.diff(self.pattern_trip_indptr)
        if (self.pattern_trip_indptr.shape[0] != p + 1 or np.any(lengths < 2)
                or np.any(trips_per < 1) or self.pattern_trip_indptr[-1] != self.n_trips):
            raise ValueError("timetable patterns are inconsistent")
        if np.any((self.pattern_stops < 0) | (self.pattern_stops >= n)):
            raise ValueError("timetable pattern_stops out of range")
        trip_len = np.repeat(lengths, trips_per)
        ends = self.trip_stoptime_start + trip_len
        if self.n_trips and (self.trip_stoptime_start[0] != 0 or ends[-1] != self.arrival_s.shape[0]
                             or np.any(ends[:-1] != self.trip_stoptime_start[1:])):
            raise ValueError("timetable trip stop-times are not contiguous")
        if np.any(self.arrival_s > self.departure_s):
            raise ValueError("timetable has a departure before its arrival")
        if self.pattern_pickup.shape != self.pattern_stops.shape or (
                self.pattern_dropoff.shape != self.pattern_stops.shape):
            raise ValueError("timetable pattern_pickup/pattern_dropoff do not match pattern_stops")
        pattern_index, position = _trip_positions(self.pattern_stop_indptr,
                                                  self.pattern_trip_indptr)
        stoptime = np.repeat(self.trip_stoptime_start, trip_len) + position
        if (np.any(self.pickup[stoptime] != self.pattern_pickup[pattern_index])
                or np.any(self.dropoff[stoptime] != self.pattern_dropoff[pattern_index])):
            raise ValueError("timetable trips of one pattern differ in pickup/drop-off rules")
        for name in ("stop_pattern_indptr", "transfer_indptr"):
            indptr = getattr(self, name)
            if indptr.shape[0] != n + 1 or indptr[0] != 0 or np.any(np.diff(indptr) < 0):
                raise ValueError(f"timetable {name} is not a CSR index over the stops")
        if np.any((self.transfer_stop < 0) | (self.transfer_stop >= n)) or np.any(self.transfer_s < 0):
            raise ValueError("timetable footpaths out of range")


def build_timetable(
    stops: pd.DataFrame,
    trips: pd.DataFrame,
    stop_times: pd.DataFrame,
    transfers: pd.DataFrame | None = None,
    *,
    service_date: str = "",
    min_change_s: int = 60,
    footpaths: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    walk_speed_kmh: float = 5.0,
) -> Timetable:
    """RAPTOR arrays from GTFS tables of one analysis day.

    Parameters
    ----------
    stops
        Routing stops, RangeIndex = stop index; columns ``stop_id``,
        ``stop_name``, ``station_id`` ("" when none), ``x``, ``y``.
    trips
        RangeIndex = trip index; columns ``trip_id``, ``route_id``, ``route_type``.
    stop_times
        Sorted by trip, then stop sequence; columns ``trip``, ``stop``,
        ``arrival_s``, ``departure_s``, ``pickup``, ``dropoff``.
    transfers
        From transfers.txt (stations already expanded): ``from_stop``,
        ``to_stop``, ``transfer_type``, ``min_transfer_s``. A row from a stop to
        itself sets its change time (type 3 forbids changing there); between
        two stops, type 3 removes the footpath and types 0-2 add one (its time
        at least ``min_transfer_s``).
    service_date
        The analysis day, recorded in the timetable.
    min_change_s
        Change time at every stop that transfers.txt does not set.
    footpaths
        ``(from_stop, to_stop, walk_s)`` walking times between stops (e.g. over
        the walk network); pairs from a stop to itself are ignored.
    walk_speed_kmh
        Platforms of one station that no footpath connects get one at this
        speed over the straight distance (at least ``min_change_s``).
    """
    n_stops = len(stops)
    st = stop_times
    trip_of = st["trip"].to_numpy(np.int64)
    stop_of = st["stop"].to_numpy(np.int64)
    arr = st["arrival_s"].to_numpy(np.int64)
    dep = st["departure_s"].to_numpy(np.int64)
    pick = st["pickup"].to_numpy(bool)
    drop = st["dropoff"].to_numpy(bool)

    # Rows of each trip (stop_times is sorted by trip).
    bounds = np.flatnonzero(np.diff(trip_of)) + 1
    starts = np.concatenate([[0], bounds]) if len(trip_of) else np.zeros(0, np.int64)
    ends = np.concatenate([bounds, [len(trip_of)]]) if len(trip_of) else np.zeros(0, np.int64)
    keep = (ends - starts) >= 2  # a trip of one stop cannot carry anyone

    # Group trips by (route, stop sequence, pickup/drop-off rules); within a
    # group, order by times.
    groups: dict[tuple[str, bytes, bytes], list[int]] = {}
    route_ids = trips["route_id"].astype(str).to_numpy()
    rules = (pick.astype(np.int8) | (drop.astype(np.int8) << 1))
    for k in np.flatnonzero(keep):
        t = int(trip_of[starts[k]])
        key = (route_ids[t], stop_of[starts[k]:ends[k]].astype(np.int32).tobytes(),
               rules[starts[k]:ends[k]].tobytes())
        groups.setdefault(key, []).append(int(k))

    trip_ids = trips["trip_id"].astype(str).to_numpy()
    route_types = trips["route_type"].to_numpy(np.int64) if "route_type" in trips else np.zeros(len(trips), np.int64)
    pattern_stops_list, pattern_rules, pattern_trips_list, pattern_route, pattern_type = (
        [], [], [], [], [])
    for key in sorted(groups):
        members = groups[key]
        times = np.stack([dep[starts[k]:ends[k]] for k in members])
        arrs = np.stack([arr[starts[k]:ends[k]] for k in members])
        ids = trip_ids[trip_of[starts[members]]]
        order = np.lexsort((ids, *arrs.T[::-1], *times.T[::-1]))
        for chain in _fifo_chains(times[order], arrs[order]):
            pattern_stops_list.append(np.frombuffer(key[1], np.int32))
            pattern_rules.append(np.frombuffer(key[2], np.int8))
            pattern_trips_list.append([members[order[i]] for i in chain])
            pattern_route.append(key[0])
            pattern_type.append(int(route_types[trip_of[starts[members[0]]]]))

    n_patterns = len(pattern_stops_list)
    lengths = np.array([len(s) for s in pattern_stops_list], np.int64)
    pattern_stop_indptr = np.zeros(n_patterns + 1, np.int64)
    np.cumsum(lengths, out=pattern_stop_indptr[1:])
    pattern_stops = (np.concatenate(pattern_stops_list).astype(np.int32) if n_patterns
                     else np.zeros(0, np.int32))
    rules_flat = np.concatenate(pattern_rules) if n_patterns else np.zeros(0, np.int8)
    n_per = np.array([len(t) for t in pattern_trips_list], np.int64)
    pattern_trip_indptr = np.zeros(n_patterns + 1, np.int64)
    np.cumsum(n_per, out=pattern_trip_indptr[1:])
    ordered = (np.array([k for ts in pattern_trips_list for k in ts], np.int64) if n_patterns
               else np.zeros(0, np.int64))
    rows = (np.concatenate([np.arange(starts[k], ends[k]) for k in ordered]) if len(ordered)
            else np.zeros(0, np.int64))
    trip_len = np.repeat(lengths, n_per)
    trip_stoptime_start = np.zeros(len(ordered), np.int64)
    if len(ordered):
        np.cumsum(trip_len[:-1], out=trip_stoptime_start[1:])

    # Every (pattern, position) of each stop, grouped by stop.
    occ_pattern = np.repeat(np.arange(n_patterns, dtype=np.int32), lengths)
    occ_pos = (np.arange(len(pattern_stops)) - np.repeat(pattern_stop_indptr[:-1], lengths)).astype(np.int32)
    occ_order = np.lexsort((occ_pos, occ_pattern, pattern_stops))
    stop_pattern_indptr = np.zeros(n_stops + 1, np.int64)
    np.cumsum(np.bincount(pattern_stops, minlength=n_stops), out=stop_pattern_indptr[1:])

    change_s, fp = _transfers(stops, transfers, footpaths, min_change_s, walk_speed_kmh)
    fp_from, fp_to, fp_s = fp
    transfer_indptr = np.zeros(n_stops + 1, np.int64)
    np.cumsum(np.bincount(fp_from, minlength=n_stops), out=transfer_indptr[1:])

    timetable = Timetable(
        service_date=service_date,
        stop_id=stops["stop_id"].astype(str).to_numpy(object),
        stop_name=stops["stop_name"].astype(str).to_numpy(object),
        station_id=stops["station_id"].astype(str).to_numpy(object),
        stop_x=stops["x"].to_numpy(np.float64),
        stop_y=stops["y"].to_numpy(np.float64),
        stop_change_s=change_s,
        pattern_stop_indptr=pattern_stop_indptr,
        pattern_stops=pattern_stops,
        pattern_trip_indptr=pattern_trip_indptr,
        pattern_pickup=(rules_flat & 1) != 0,
        pattern_dropoff=(rules_flat & 2) != 0,
        trip_stoptime_start=trip_stoptime_start,
        arrival_s=arr[rows].astype(np.int32),
        departure_s=dep[rows].astype(np.int32),
        pickup=pick[rows],
        dropoff=drop[rows],
        stop_pattern_indptr=stop_pattern_indptr,
        stop_pattern=occ_pattern[occ_order],
        stop_pattern_pos=occ_pos[occ_order],
        transfer_indptr=transfer_indptr,
        transfer_stop=fp_to.astype(np.int32),
        transfer_s=fp_s.astype(np.int32),
        trip_id=trip_ids[trip_of[starts[ordered]]].astype(object) if len(ordered) else np.zeros(0, object),
        pattern_route_id=np.array(pattern_route, dtype=object),
        pattern_route_type=np.array(pattern_type, dtype=np.int32),
    )
    timetable.stats = {
        "stops": n_stops, "patterns": n_patterns, "trips": len(ordered),
        "stop_times": int(len(rows)), "footpaths": int(len(fp_to)),
        "routes": len(set(pattern_route)),
    }
    timetable.validate()
    return timetable


def _trip_positions(pattern_stop_indptr: np.ndarray, pattern_trip_indptr: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """For every stop-time in trip order: its index in ``pattern_stops`` and its
    position in the trip."""
    lengths = np.diff(pattern_stop_indptr)
    trips_per = np.diff(pattern_trip_indptr)
    trip_len = np.repeat(lengths, trips_per)
    trip_first = np.repeat(pattern_stop_indptr[:-1], trips_per)
    offset = np.cumsum(trip_len) - trip_len
    position = np.arange(int(trip_len.sum())) - np.repeat(offset, trip_len)
    return np.repeat(trip_first, trip_len) + position, position


def _fifo_chains(dep: np.ndarray, arr: np.ndarray) -> list[list[int]]:
    """Split trips (rows, sorted by first departure) into chains without overtaking.

    Each trip joins the first chain whose last trip it does not overtake
    anywhere (all its times at or after that trip's), else starts a new one.
    """
    chains: list[list[int]] = []
    last_dep: list[np.ndarray] = []
    last_arr: list[np.ndarray] = []
    for i in range(dep.shape[0]):
        for c in range(len(chains)):
            if np.all(dep[i] >= last_dep[c]) and np.all(arr[i] >= last_arr[c]):
                chains[c].append(i)
                last_dep[c], last_arr[c] = dep[i], arr[i]
                break
        else:
            chains.append([i])
            last_dep.append(dep[i])
            last_arr.append(arr[i])
    return chains


def _transfers(stops, transfers, footpaths, min_change_s, walk_speed_kmh):
    """Change time per stop and footpaths (from, to, seconds) sorted by (from, to)."""
    n = len(stops)
    change_s = np.full(n, int(min_change_s), np.int64)
    cols = ["from_stop", "to_stop", "walk_s"]
    if footpaths is not None:
        f = pd.DataFrame({c: np.asarray(a, np.int64) for c, a in zip(cols, footpaths)})
        f = f[f["from_stop"] != f["to_stop"]]
    else:
        f = pd.DataFrame({c: np.zeros(0, np.int64) for c in cols})

    # Platforms of one station always connect.
    station = stops["station_id"].astype(str).to_numpy()
    members = pd.DataFrame({"stop": np.arange(n), "station": station})
    members = members[members["station"] != ""]
    pairs = members.merge(members, on="station", suffixes=("_a", "_b"))
    pairs = pairs[pairs["stop_a"] != pairs["stop_b"]]
    if len(pairs):
        a, b = pairs["stop_a"].to_numpy(), pairs["stop_b"].to_numpy()
        x, y = stops["x"].to_numpy(np.float64), stops["y"].to_numpy(np.float64)
        dist_m = np.hypot(x[a] - x[b], y[a] - y[b])
        walk = np.maximum(np.ceil(dist_m / (walk_speed_kmh / 3.6)), min_change_s).astype(np.int64)
        f = pd.concat([f, pd.DataFrame({"from_stop": a, "to_stop": b, "walk_s": walk})])
    f = f.groupby(["from_stop", "to_stop"], as_index=False)["walk_s"].min()

    if transfers is not None and len(transfers):
        t = transfers[["from_stop", "to_stop", "transfer_type", "min_transfer_s"]].astype(np.int64)
        same = t[t["from_stop"] == t["to_stop"]]
        change_s[same["from_stop"].to_numpy()] = np.where(
            same["transfer_type"].to_numpy() == 3, NO_CHANGE_S,
            np.where(same["transfer_type"].to_numpy() == 2, same["min_transfer_s"].to_numpy(),
                     min_change_s))
        between = t[t["from_stop"] != t["to_stop"]].drop_duplicates(
            ["from_stop", "to_stop"], keep="last")
        f = f.merge(between, on=["from_stop", "to_stop"], how="outer")
        forbidden = f["transfer_type"] == 3
        declared = f["transfer_type"].notna() & ~forbidden
        # A declared transfer takes at least its minimum time, and at least a
        # change time when no walking time is known.
        floor = np.where(f["walk_s"].isna(), np.maximum(f["min_transfer_s"].fillna(0), min_change_s),
                         f["min_transfer_s"].fillna(0))
        f["walk_s"] = np.where(declared, np.fmax(f["walk_s"].to_numpy(np.float64), floor),
                               f["walk_s"])
        f = f[~forbidden & f["walk_s"].notna()]
    f = f.sort_values(["from_stop", "to_stop"])
    return (change_s.astype(np.int32),
            (f["from_stop"].to_numpy(np.int64), f["to_stop"].to_numpy(np.int64),
             f["walk_s"].to_numpy(np.float64).astype(np.int64)))


def with_route_frequency(tt: Timetable, factors: dict[str, float]) -> Timetable:
    """The timetable with some routes running more or less often (scenarios).

    ``factors`` maps a GTFS route id to a factor > 0. A factor above 1 inserts
    trips between each two consecutive trips of a pattern, evenly spaced, each a
    copy of the earlier trip shifted in time (``round(factor) - 1`` per gap,
    so 2 halves the headway); after the last trip of the day the pattern's last
    headway is kept. A factor below 1 keeps every ``round(1 / factor)``-th trip,
    starting with the first. Stops, footpaths and change times stay as they are.

    Raises
    ------
    ValueError
        A route id not in the timetable, or a factor that is not positive.
    """
    unknown = sorted(set(factors) - set(tt.pattern_route_id))
    if unknown:
        raise ValueError(f"route(s) {unknown} not in the timetable (routes: "
                         f"{sorted(set(tt.pattern_route_id))[:20]} ...)")
    if any(not f > 0 for f in factors.values()):
        raise ValueError(f"frequency factors must be positive; got {factors}")
    stops = pd.DataFrame({"stop_id": tt.stop_id, "stop_name": tt.stop_name,
                          "station_id": tt.station_id, "x": tt.stop_x, "y": tt.stop_y})
    trip_rows, time_rows = [], []
    for p in range(tt.n_patterns):
        p0, p1 = tt.pattern_stop_indptr[p], tt.pattern_stop_indptr[p + 1]
        first, last = tt.pattern_trip_indptr[p], tt.pattern_trip_indptr[p + 1]
        starts = tt.trip_stoptime_start[first:last]
        offsets = np.arange(p1 - p0)
        arr = tt.arrival_s[starts[:, None] + offsets].astype(np.int64)
        dep = tt.departure_s[starts[:, None] + offsets].astype(np.int64)
        ids = list(tt.trip_id[first:last])
        route = tt.pattern_route_id[p]
        factor = factors.get(route, 1.0)
        if factor >= 1.0 and round(factor) > 1:
            k = int(round(factor))
            first_dep = dep[:, 0]
            gaps = np.diff(first_dep)
            gaps = np.append(gaps, gaps[-1] if len(gaps) else 0)
            new_arr, new_dep, new_ids = [arr], [dep], list(ids)
            for j in range(1, k):
                shift = (gaps * j) // k
                keep = shift > 0
                new_arr.append(arr[keep] + shift[keep, None])
                new_dep.append(dep[keep] + shift[keep, None])
                new_ids += [f"{i}+{j}/{k}" for i, kept in zip(ids, keep) if kept]
            arr, dep, ids = np.concatenate(new_arr), np.concatenate(new_dep), new_ids
        elif factor < 1.0:
            every = int(round(1.0 / factor))
            arr, dep, ids = arr[::every], dep[::every], ids[::every]
        for i, trip_id in enumerate(ids):
            k = len(trip_rows)
            trip_rows.append((trip_id, route, int(tt.pattern_route_type[p])))
            time_rows.append(pd.DataFrame({
                "trip": k, "stop": tt.pattern_stops[p0:p1], "arrival_s": arr[i],
                "departure_s": dep[i], "pickup": tt.pattern_pickup[p0:p1],
                "dropoff": tt.pattern_dropoff[p0:p1]}))
    trips = pd.DataFrame(trip_rows, columns=["trip_id", "route_id", "route_type"])
    stop_times = (pd.concat(time_rows, ignore_index=True) if time_rows else
                  pd.DataFrame(columns=["trip", "stop", "arrival_s", "departure_s", "pickup",
                                        "dropoff"]))
    # Change times go back in as same-stop transfers, footpaths as given.
    n = tt.n_stops
    transfers = pd.DataFrame({
        "from_stop": np.arange(n), "to_stop": np.arange(n),
        "transfer_type": np.where(tt.stop_change_s >= NO_CHANGE_S, 3, 2),
        "min_transfer_s": tt.stop_change_s})
    from_stop = np.repeat(np.arange(n), np.diff(tt.transfer_indptr))
    return build_timetable(stops, trips, stop_times, transfers, service_date=tt.service_date,
                           footpaths=(from_stop, tt.transfer_stop, tt.transfer_s))
