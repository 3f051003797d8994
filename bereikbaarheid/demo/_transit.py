"""Public transport of the demo region: bus lines, a train line and a ferry, written as a GTFS zip."""

from __future__ import annotations

import csv
import io
import itertools
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from .. import _io
from . import _frame, _roads, _settlements
from ._frame import STEP_M

FEED_START = "20260101"
FEED_END = "20261231"
TIMEZONE = "Europe/Amsterdam"
# A zip entry records a modification time; fixing it keeps the file byte-identical.
ZIP_DATE_TIME = (2026, 1, 1, 0, 0, 0)

# Day types of the timetable: Monday-Friday, Saturday, Sunday (and holidays).
WEEKDAY, SATURDAY, SUNDAY, DAILY = "WD", "ZA", "ZO", "DAGELIJKS"
CALENDAR: dict[str, tuple[int, ...]] = {
    WEEKDAY: (1, 1, 1, 1, 1, 0, 0),
    SATURDAY: (0, 0, 0, 0, 0, 1, 0),
    SUNDAY: (0, 0, 0, 0, 0, 0, 1),
    DAILY: (1, 1, 1, 1, 1, 1, 1),
}
# Dutch public holidays of 2026: the day's own service is removed and the
# Sunday timetable runs instead.
HOLIDAYS: tuple[tuple[str, str], ...] = (
    ("20260101", WEEKDAY),   # Nieuwjaarsdag (Thursday)
    ("20260406", WEEKDAY),   # Tweede Paasdag
    ("20260427", WEEKDAY),   # Koningsdag (Monday)
    ("20260514", WEEKDAY),   # Hemelvaartsdag
    ("20260525", WEEKDAY),   # Tweede Pinksterdag
    ("20261225", WEEKDAY),   # Eerste Kerstdag (Friday)
    ("20261226", SATURDAY),  # Tweede Kerstdag
)
# The ferry, which runs daily, does not sail at all on these days.
FERRY_CLOSED: tuple[str, ...] = ("20261225",)

# Departure bands per day type, in minutes after midnight: (first, end
# (exclusive), headway). Main lines run half-hourly in the peaks, hourly by
# day and two-hourly in the evening, the last bus leaving around 23:30 (so
# it arrives after midnight); minor lines run hourly, two-hourly on
# Saturday and not on Sunday.
MAJOR_BANDS: dict[str, tuple[tuple[int, int, int], ...]] = {
    WEEKDAY: ((360, 420, 60), (420, 540, 30), (540, 960, 60), (960, 1080, 30),
              (1080, 1140, 60), (1170, 1411, 120)),
    SATURDAY: ((480, 1140, 60), (1170, 1411, 120)),
    SUNDAY: ((540, 1381, 120),),
}
MINOR_BANDS: dict[str, tuple[tuple[int, int, int], ...]] = {
    WEEKDAY: ((390, 1140, 60), (1230, 1351, 120)),
    SATURDAY: ((540, 1081, 120),),
    SUNDAY: (),
}
# Trains: half-hourly from 06:00 (Sunday 07:00) to 00:30 the next morning.
TRAIN_BANDS: dict[str, tuple[tuple[int, int, int], ...]] = {
    WEEKDAY: ((360, 1471, 30),),
    SATURDAY: ((360, 1471, 30),),
    SUNDAY: ((420, 1471, 30),),
}
FERRY_START_S = 6 * 3600
FERRY_END_S = 24 * 3600 + 30 * 60
FERRY_HEADWAY_S = 1800

BUS_SPEED_KMH = 40.0
BUS_DWELL_S = 20          # per intermediate stop, added to the running time
TRAIN_SPEED_KMH = 75.0
TRAIN_DETOUR = 1.2        # track length over straight distance
TRAIN_DWELL_S = 60
FERRY_SPEED_KMH = 10.0
PLATFORM_CHANGE_S = 120   # between the two platforms of a station
RURAL_STOP_SPACING_M = 1500
NEARBY_STOP_M = 250       # a settlement this close to a line's road gets a stop
SECTOR_DEG = 25.0         # villages within this bearing of a terminus share its line
MAX_VIA = 2               # villages served on the way to a terminus
MAX_CHAIN = 5             # villages per line where no town is near
CROSS_BORDER_MAX_M = 15_000
FIRST_LINE_NUMBER = 50

FILES: tuple[str, ...] = (
    "agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt", "calendar.txt",
    "calendar_dates.txt", "frequencies.txt", "transfers.txt", "feed_info.txt",
)
AGENCIES: tuple[tuple[str, str, str], ...] = (
    ("ZLB", "Zeeuwse Lijnbus", "https://example.org/zeeuwse-lijnbus"),
    ("RR", "RegioRail Kreekland", "https://example.org/regiorail"),
    ("VK", "Veerdienst Kreekland", "https://example.org/veerdienst"),
)
_TO_WGS84 = pyproj.Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)


@dataclass(frozen=True)
class _Line:
    """A bus line through settlements in order (the first is its town, when it has one)."""

    via: tuple[_settlements.Settlement, ...]
    major: bool


@dataclass
class _Feed:
    """Rows of every GTFS file, header first."""

    stops: list[list]
    routes: list[list]
    trips: list[list]
    stop_times: list[list]
    frequencies: list[list]
    transfers: list[list]


def write_gtfs(path: Path, frame: _frame.Frame, lines: _settlements.Lines,
               settlements: list[_settlements.Settlement], roads: _roads.Roads,
               seed: int) -> dict[str, int]:
    """Write the demo region's GTFS feed as a zip.

    Bus lines run from each town along the roads to the villages (serving
    hamlets and rural stops on the way), one of them into Belgium; villages
    across the estuary get a line along its shore. A train line links the
    towns and the largest villages beyond them; a frequency-based foot and
    bike ferry crosses the estuary at the OSM foot ferry. Every stop lies on
    a node of a walkable OSM way. The calendar covers 2026 with weekday,
    Saturday and Sunday services and Dutch holidays as exceptions.

    Parameters
    ----------
    path
        The zip to write (replaced atomically).
    frame, lines, settlements, roads
        The demo region's layout, as ``generate_demo`` builds it.
    seed
        Random seed: the same seed and layout give a byte-identical zip.

    Returns
    -------
    dict[str, int]
        Counts: ``stops`` (all stops.txt rows), ``routes``, ``trips``,
        ``stop_times`` and ``weekday_trips`` (trips on a weekday, frequency
        copies of the ferry included).
    """
    rng = _frame.rng_for(seed, "transit")
    streets = _StreetGraph(frame, lines, roads)
    feed = _Feed(
        stops=[["stop_id", "stop_name", "stop_lat", "stop_lon", "location_type",
                "parent_station", "platform_code"]],
        routes=[["route_id", "agency_id", "route_short_name", "route_long_name", "route_type"]],
        trips=[["route_id", "service_id", "trip_id", "trip_headsign", "direction_id"]],
        stop_times=[["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"]],
        frequencies=[["trip_id", "start_time", "end_time", "headway_secs", "exact_times"]],
        transfers=[["from_stop_id", "to_stop_id", "transfer_type", "min_transfer_time"]],
    )
    bus_stops: dict[tuple[int, int], str] = {}
    weekday_trips = _add_buses(feed, rng, frame, lines, settlements, streets, bus_stops)
    weekday_trips += _add_train(feed, rng, frame, lines, settlements, roads, bus_stops)
    weekday_trips += _add_ferry(feed, frame, lines, settlements)

    tables = {
        "agency.txt": [["agency_id", "agency_name", "agency_url", "agency_timezone",
                        "agency_lang"]] + [[a, n, u, TIMEZONE, "nl"] for a, n, u in AGENCIES],
        "stops.txt": feed.stops,
        "routes.txt": feed.routes,
        "trips.txt": feed.trips,
        "stop_times.txt": feed.stop_times,
        "calendar.txt": [["service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                          "saturday", "sunday", "start_date", "end_date"]]
                        + [[s, *days, FEED_START, FEED_END] for s, days in CALENDAR.items()],
        "calendar_dates.txt": _calendar_dates(),
        "frequencies.txt": feed.frequencies,
        "transfers.txt": feed.transfers,
        "feed_info.txt": [["feed_publisher_name", "feed_publisher_url", "feed_lang",
                           "feed_start_date", "feed_end_date", "feed_version"],
                          ["bereikbaarheid demo", "https://example.org/bereikbaarheid", "nl",
                           FEED_START, FEED_END, f"demo-seed-{seed}"]],
    }
    _write_zip(path, tables)
    return {"stops": len(feed.stops) - 1, "routes": len(feed.routes) - 1,
            "trips": len(feed.trips) - 1, "stop_times": len(feed.stop_times) - 1,
            "weekday_trips": weekday_trips}


class _StreetGraph:
    """Lattice points joined by the streets buses use (not the trunk road, closed to walkers)."""

    def __init__(self, frame: _frame.Frame, lines: _settlements.Lines, roads: _roads.Roads):
        self.n_j = frame.n_j
        ii, jj = np.meshgrid(np.arange(frame.n_i), np.arange(frame.n_j), indexing="ij")
        x, y = frame.to_rd(ii.ravel() * STEP_M, jj.ravel() * STEP_M)
        self.x, self.y = x, y
        street_h = roads.street_h.copy()
        # The trunk road is a motorroad: a stop on it could not be walked to.
        street_h[:, lines.trunk_row] = False
        hi, hj = np.nonzero(street_h)
        vi, vj = np.nonzero(roads.street_v)
        tail = np.concatenate([hi * self.n_j + hj, vi * self.n_j + vj])
        head = np.concatenate([(hi + 1) * self.n_j + hj, vi * self.n_j + vj + 1])
        length = np.hypot(x[head] - x[tail], y[head] - y[tail])
        n = frame.n_i * frame.n_j
        self.graph = coo_matrix((np.concatenate([length, length]),
                                 (np.concatenate([tail, head]), np.concatenate([head, tail]))),
                                shape=(n, n)).tocsr()

    def node(self, i: int, j: int) -> int:
        return i * self.n_j + j

    def path(self, a: int, b: int) -> np.ndarray:
        """Nodes of a shortest street path from ``a`` to ``b``."""
        reach = 3.0 * math.hypot(self.x[a] - self.x[b], self.y[a] - self.y[b]) + 2000.0
        _, pred = dijkstra(self.graph, indices=a, limit=reach, return_predecessors=True)
        if a != b and pred[b] < 0:
            raise RuntimeError(f"demo transit: no street path between lattice nodes {a} and {b}")
        nodes = [b]
        while nodes[-1] != a:
            nodes.append(int(pred[nodes[-1]]))
        return np.array(nodes[::-1], np.int64)


def _plan_lines(frame: _frame.Frame, settlements: list[_settlements.Settlement]) -> list[_Line]:
    """Lines from each town to its villages by direction, across the border and along the shore."""
    north = {s.name: s.j > frame.water_j1 for s in settlements}
    planned: list[_Line] = []
    for side in (False, True):
        towns = [s for s in settlements if s.kind == "town" and north[s.name] == side]
        villages = [s for s in settlements
                    if s.kind == "village" and s.country == "NL" and north[s.name] == side]
        if not towns:
            # Across the estuary no town is near: one line links the shore villages.
            chain = sorted(villages, key=lambda s: (s.i, s.j))
            for k in range(0, len(chain) - 1, MAX_CHAIN - 1):
                planned.append(_Line(tuple(chain[k:k + MAX_CHAIN]), major=False))
            continue
        centres = np.array([(t.i, t.j) for t in towns], float)
        for t_idx, town in enumerate(towns):
            own = [v for v in villages
                   if int(np.argmin(np.hypot(*(centres - (v.i, v.j)).T))) == t_idx]
            planned += _sector_lines(town, own)
        if not side:
            planned += _cross_border_lines(towns, settlements)
    return planned


def _sector_lines(town: _settlements.Settlement,
                  villages: list[_settlements.Settlement]) -> list[_Line]:
    """Town to its farthest unserved village, via up to two villages in about the same direction."""
    def polar(s):
        du, dv = s.i - town.i, s.j - town.j
        return math.hypot(du, dv), math.degrees(math.atan2(dv, du))

    left = sorted(villages, key=lambda s: (-polar(s)[0], s.name))
    planned = []
    while left:
        end = left.pop(0)
        dist, bearing = polar(end)
        near = [(abs((polar(s)[1] - bearing + 180) % 360 - 180), s) for s in left
                if polar(s)[0] < dist]
        near = [s for diff, s in sorted(near, key=lambda p: (p[0], p[1].name)) if diff < SECTOR_DEG]
        via = sorted(near[:MAX_VIA], key=lambda s: polar(s)[0])
        for s in via:
            left.remove(s)
        served = (*via, end)
        major = len(served) > 1 or end.population >= 2000
        planned.append(_Line((town, *served), major))
    return planned


def _cross_border_lines(towns, settlements) -> list[_Line]:
    """From each town a minor line to the nearest Belgian village, when one is near."""
    belgian = [s for s in settlements if s.country == "BE"]
    planned = []
    for town in towns:
        if not belgian:
            break
        dist = [math.hypot(b.i - town.i, b.j - town.j) * STEP_M for b in belgian]
        k = int(np.argmin(dist))
        if dist[k] <= CROSS_BORDER_MAX_M:
            planned.append(_Line((town, belgian[k]), major=False))
    return planned


def _add_buses(feed: _Feed, rng, frame, lines, settlements, streets: _StreetGraph,
               bus_stops: dict[tuple[int, int], str]) -> int:
    """Stops, routes, trips and stop times of every bus line; returns weekday trips."""
    planned = _plan_lines(frame, settlements)
    town = next((s for s in settlements if s.kind == "town"), None)
    roundabout = None if town is None else (lines.primary_cols[0], town.j)
    by_point = {(s.i, s.j): s for s in settlements}
    weekday_trips = 0
    for number, line in enumerate(planned, start=FIRST_LINE_NUMBER):
        legs = [streets.path(streets.node(a.i, a.j), streets.node(b.i, b.j))
                for a, b in itertools.pairwise(line.via)]
        path = np.concatenate([legs[0]] + [leg[1:] for leg in legs[1:]])
        step = np.hypot(np.diff(streets.x[path]), np.diff(streets.y[path]))
        along_m = np.concatenate([[0.0], np.cumsum(step)])
        pi, pj = np.divmod(path, streets.n_j)
        positions = _stop_positions(line, settlements, pi, pj, along_m, roundabout)
        stop_ids = []
        for pos in positions:
            key = (int(pi[pos]), int(pj[pos]))
            if key not in bus_stops:
                bus_stops[key] = f"bus_{key[0]}_{key[1]}"
                name = _bus_stop_name(key, pi, pj, pos, by_point, settlements)
                lon, lat = _TO_WGS84.transform(streets.x[path[pos]], streets.y[path[pos]])
                feed.stops.append([bus_stops[key], name, f"{lat:.7f}", f"{lon:.7f}", "", "", ""])
            stop_ids.append(bus_stops[key])
        stop_m = along_m[positions]
        route_id = f"bus_{number}"
        names = [s.name for s in line.via]
        feed.routes.append([route_id, "ZLB", str(number), " - ".join(names), 3])
        bands = MAJOR_BANDS if line.major else MINOR_BANDS
        for direction in (0, 1):
            ids = stop_ids if direction == 0 else stop_ids[::-1]
            dist = stop_m if direction == 0 else stop_m[-1] - stop_m[::-1]
            run_s = dist / (BUS_SPEED_KMH / 3.6) + BUS_DWELL_S * np.arange(len(dist))
            # Timetables show whole minutes.
            offsets = (np.rint(run_s / 60) * 60).astype(int)
            shift = int(rng.integers(0, 30))
            headsign = names[-1] if direction == 0 else names[0]
            for service, service_bands in bands.items():
                for start_min in _departures(service_bands, shift):
                    trip_id = f"{route_id}_{service}_{direction}_{_clock(start_min * 60, '')}"
                    feed.trips.append([route_id, service, trip_id, headsign, direction])
                    for seq, (stop_id, off) in enumerate(zip(ids, offsets.tolist()), start=1):
                        t = _clock(start_min * 60 + off)
                        feed.stop_times.append([trip_id, t, t, stop_id, seq])
                    weekday_trips += service == WEEKDAY
    return weekday_trips


def _stop_positions(line: _Line, settlements, pi, pj, along_m, roundabout) -> list[int]:
    """Positions along a line's path that get a stop: its settlements, those it passes, rural stops."""
    wanted = set()
    for s in settlements:
        d_m = np.hypot(pi - s.i, pj - s.j) * STEP_M
        if s in line.via or d_m.min() <= NEARBY_STOP_M:
            pos = int(np.argmin(d_m))
            # The roundabout's centre is no OSM node: its ring replaced the crossing.
            if s in line.via or (int(pi[pos]), int(pj[pos])) != roundabout:
                wanted.add(pos)
    wanted.update((0, len(pi) - 1))
    marked = sorted(wanted)
    # Long stretches between settlements get stops about every 1.5 km.
    for a, b in itertools.pairwise(marked):
        gap = along_m[b] - along_m[a]
        extra = int(gap // RURAL_STOP_SPACING_M)
        for k in range(1, extra):
            target = along_m[a] + gap * k / extra
            pos = int(np.searchsorted(along_m, target))
            if (int(pi[pos]), int(pj[pos])) != roundabout:
                wanted.add(pos)
    return sorted(wanted)


def _bus_stop_name(key, pi, pj, pos, by_point, settlements) -> str:
    """A settlement's centre, or a rural stop named after the nearest place and its road."""
    s = by_point.get(key)
    if s is not None:
        return f"{s.name}, Busstation" if s.kind == "town" else f"{s.name}, Centrum"
    dist = [math.hypot(o.i - key[0], o.j - key[1]) for o in settlements]
    near = settlements[int(np.argmin(dist))]
    if min(dist) * STEP_M <= near.radius_m:
        return f"{near.name}, {_street_at(key, pi, pj, pos, _roads.RESIDENTIAL) or 'Kruispunt'}"
    return f"{near.name}, {_street_at(key, pi, pj, pos, _roads.UNCLASSIFIED) or 'Kruispunt'}"


def _street_at(key, pi, pj, pos, road_class: int) -> str | None:
    """The name the OSM ways give a road of ``road_class`` along the path at ``pos``."""
    other = pos + 1 if pos + 1 < len(pi) else pos - 1
    horizontal = bool(pj[other] == key[1])
    return _roads._name_of(road_class, key[1] if horizontal else key[0], horizontal)


def _add_train(feed: _Feed, rng, frame, lines, settlements, roads: _roads.Roads,
               bus_stops: dict[tuple[int, int], str]) -> int:
    """A train line through the towns and the largest village beyond each end; returns weekday trips."""
    south = [s for s in settlements if s.country == "NL" and s.j < frame.water_j0]
    towns = sorted((s for s in south if s.kind == "town"), key=lambda s: s.i)
    if not towns:
        return 0
    stations = list(towns)
    villages = [s for s in south if s.kind == "village"]
    west = [v for v in villages if v.i < towns[0].i - 40]
    east = [v for v in villages if v.i > towns[-1].i + 40]
    if west:
        stations.insert(0, max(west, key=lambda v: (v.population, v.name)))
    if east:
        stations.append(max(east, key=lambda v: (v.population, v.name)))
    if len(stations) < 2:
        return 0
    platforms = []
    for s in stations:
        i, j = _station_point(s, lines, roads)
        station_id = f"station_{i}_{j}"
        name = f"Station {s.name}"
        ids = [station_id, f"{station_id}_1", f"{station_id}_2"]
        for k, (du, code) in enumerate(((0, ""), (-10, "1"), (10, "2"))):
            x, y = frame.to_rd(i * STEP_M + du, j * STEP_M)
            lon, lat = _TO_WGS84.transform(float(x), float(y))
            kind, parent = (1, "") if k == 0 else (0, station_id)
            feed.stops.append([ids[k], name, f"{lat:.7f}", f"{lon:.7f}", kind, parent, code])
        feed.transfers.append([ids[1], ids[2], 2, PLATFORM_CHANGE_S])
        feed.transfers.append([ids[2], ids[1], 2, PLATFORM_CHANGE_S])
        bus = bus_stops.get((s.i, s.j))
        if bus is not None:
            # Along the streets at walking pace, plus a minute to find the platform.
            walk_s = (abs(i - s.i) + abs(j - s.j)) * STEP_M / 1.2 + 60
            change_s = int(math.ceil(walk_s / 30) * 30)
            for platform in ids[1:]:
                feed.transfers.append([bus, platform, 2, change_s])
                feed.transfers.append([platform, bus, 2, change_s])
        platforms.append(ids[1:])
    x, y = frame.to_rd(np.array([s.i for s in stations]) * STEP_M,
                       np.array([s.j for s in stations]) * STEP_M)
    hop_s = np.hypot(np.diff(x), np.diff(y)) * TRAIN_DETOUR / (TRAIN_SPEED_KMH / 3.6)
    hop_s = np.maximum(120, np.rint(hop_s / 60) * 60).astype(int)
    feed.routes.append(["train", "RR", "S20", f"{stations[0].name} - {stations[-1].name}", 2])
    weekday_trips = 0
    for direction in (0, 1):
        order = list(range(len(stations))) if direction == 0 else list(range(len(stations)))[::-1]
        hops = hop_s.tolist() if direction == 0 else hop_s[::-1].tolist()
        shift = int(rng.integers(0, 15))
        for service, bands in TRAIN_BANDS.items():
            for start_min in _departures(bands, shift):
                trip_id = f"train_{service}_{direction}_{_clock(start_min * 60, '')}"
                feed.trips.append(["train", service, trip_id, stations[order[-1]].name, direction])
                t = start_min * 60
                for seq, k in enumerate(order, start=1):
                    first, last = seq == 1, seq == len(order)
                    arrive = t
                    depart = t if first or last else t + TRAIN_DWELL_S
                    feed.stop_times.append([trip_id, _clock(arrive), _clock(depart),
                                            platforms[k][direction], seq])
                    if not last:
                        t = depart + hops[seq - 1]
                weekday_trips += service == WEEKDAY
    return weekday_trips


def _station_point(s: _settlements.Settlement, lines, roads: _roads.Roads) -> tuple[int, int]:
    """A street crossing near the centre with streets east and west, for the two platforms."""
    for di, dj in ((1, -1), (-1, -1), (1, 1), (-1, 1), (0, -1), (0, 1), (1, 0), (-1, 0), (0, 0)):
        i, j = s.i + di, s.j + dj
        if j != lines.trunk_row and roads.street_h[i - 1, j] and roads.street_h[i, j]:
            return i, j
    raise RuntimeError(f"demo transit: no street for a station in {s.name}")


def _add_ferry(feed: _Feed, frame, lines, settlements) -> int:
    """The foot and bike ferry across the estuary, every half hour; returns weekday trips."""
    col = lines.foot_ferry_col
    landings = []
    for side, j in (("Zuid", frame.water_j0), ("Noord", frame.water_j1)):
        near = min((s for s in settlements if (s.j > frame.water_j1) == (side == "Noord")),
                   key=lambda s: (math.hypot(s.i - col, s.j - j), s.name))
        x, y = frame.to_rd(col * STEP_M, j * STEP_M)
        lon, lat = _TO_WGS84.transform(float(x), float(y))
        stop_id = f"ferry_{side.lower()}"
        feed.stops.append([stop_id, f"{near.name}, Veerhaven {side}", f"{lat:.7f}", f"{lon:.7f}",
                           "", "", ""])
        landings.append((stop_id, float(x), float(y), near.name))
    (a, ax, ay, a_name), (b, bx, by, b_name) = landings
    crossing_s = int(math.ceil(math.hypot(bx - ax, by - ay) / (FERRY_SPEED_KMH / 3.6) / 60) * 60)
    feed.routes.append(["ferry", "VK", "", f"Voet- en fietsveer {a_name} - {b_name}", 4])
    for direction, (frm, to, headsign) in enumerate(((a, b, b_name), (b, a, a_name))):
        trip_id = f"ferry_{direction}"
        feed.trips.append(["ferry", DAILY, trip_id, headsign, direction])
        # Frequency-based: only the offsets between stops count.
        feed.stop_times.append([trip_id, _clock(FERRY_START_S), _clock(FERRY_START_S), frm, 1])
        end = _clock(FERRY_START_S + crossing_s)
        feed.stop_times.append([trip_id, end, end, to, 2])
        feed.frequencies.append([trip_id, _clock(FERRY_START_S), _clock(FERRY_END_S),
                                 FERRY_HEADWAY_S, 0])
    return 2 * len(range(FERRY_START_S, FERRY_END_S, FERRY_HEADWAY_S))


def _departures(bands, shift_min: int) -> list[int]:
    """Departure minutes of the bands, all shifted by a line's own minutes past the hour."""
    return [m + shift_min for first, end, headway in bands for m in range(first, end, headway)]


def _clock(seconds: int, sep: str = ":") -> str:
    """GTFS time ``HH:MM:SS``; hours go past 24 for trips after midnight."""
    h, rest = divmod(int(seconds), 3600)
    return f"{h:02d}{sep}{rest // 60:02d}{sep}{rest % 60:02d}"


def _calendar_dates() -> list[list]:
    rows: list[list] = [["service_id", "date", "exception_type"]]
    for date, regular in HOLIDAYS:
        rows.append([regular, date, 2])
        rows.append([SUNDAY, date, 1])
    rows += [[DAILY, date, 2] for date in FERRY_CLOSED]
    return rows


def _write_zip(path: Path, tables: dict[str, list[list]]) -> None:
    """Write the tables as CSV entries of a zip, byte-identical for identical tables."""
    with _io.atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        for name in sorted(tables):
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(tables[name])
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.getvalue().encode("utf-8"))
