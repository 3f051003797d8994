"""Trains of the demo: a rail network linking the towns, with stopping trains and intercities.

The stations are the towns and, near each, up to two of its larger villages.
The tracks join them as a relative neighbourhood graph (two stations are
joined unless a third lies nearer to both), separately on each side of the
estuary; it is connected and looks like a rail network. The tracks are cut
into lines that run on as straight as they can. A stopping train calls at
every station of its line; where a line passes three towns or more, an
intercity runs along it too, calling at the towns only. Each station is a
parent station with two platforms, at a street crossing near the centre,
where the buses to the town or village stop.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from . import _frame, _roads, _settlements, _transit_bus, _transit_feed
from ._frame import STEP_M
from ._transit_feed import SATURDAY, SUNDAY, WEEKDAY

# Trains: half-hourly from 06:00 (Sunday 07:00) to 00:30 the next morning.
TRAIN_BANDS: _transit_feed.Bands = {
    WEEKDAY: ((360, 1471, 30),),
    SATURDAY: ((360, 1471, 30),),
    SUNDAY: ((420, 1471, 30),),
}
SPRINTER_SPEED_KMH = 75.0
INTERCITY_SPEED_KMH = 110.0
TRAIN_DETOUR = 1.2        # track length over straight distance
TRAIN_DWELL_S = 60
PLATFORM_CHANGE_S = 120   # between the two platforms of a station
STATION_VILLAGE_MIN_POPULATION = 2000
STATION_VILLAGE_MIN_M = 4000  # from its town and from the other station villages
STATION_VILLAGE_MAX_M = 12_000  # from its town
STATION_VILLAGES_PER_TOWN = 2
MAX_TURN_DEG = 120.0      # a line runs on through a station unless it turns more
MAX_LINE_STATIONS = 12    # longer runs of track are cut into lines meeting at a station
FIRST_SPRINTER = 20


def add_trains(feed: _transit_feed.Feed, rng, frame: _frame.Frame, lines: _settlements.Lines,
               settlements: list[_settlements.Settlement], roads: _roads.Roads,
               stops: _transit_bus.Stops) -> None:
    """Stations, sprinter and intercity lines on both sides of the estuary."""
    stations: dict[str, tuple[str, str]] = {}
    number = FIRST_SPRINTER
    for north in (False, True):
        nodes = _station_settlements(frame, settlements, north)
        if len(nodes) < 2:
            continue
        xy = np.array([(s.i, s.j) for s in nodes], float) * STEP_M
        for path in _cut(_lines(_neighbourhood_graph(xy), xy)):
            served = [nodes[k] for k in path]
            for s in served:
                if s.name not in stations:
                    stations[s.name] = _add_station(feed, frame, lines, roads, stops, s)
            _add_service(feed, rng, frame, stations, f"rail_S{number}", f"S{number}", served,
                         SPRINTER_SPEED_KMH)
            towns = [k for k, s in enumerate(served) if s.kind == "town"]
            if len(towns) >= 3:
                calls = [s for s in served[towns[0]:towns[-1] + 1] if s.kind == "town"]
                _add_service(feed, rng, frame, stations, f"rail_IC{number}", f"IC{number}",
                             calls, INTERCITY_SPEED_KMH)
            number += 1


def _station_settlements(frame: _frame.Frame, settlements, north: bool):
    """The towns on one side of the estuary and, near each, up to two of its larger villages."""
    side = [s for s in settlements if s.country == "NL" and (s.j > frame.water_j1) == north]
    towns = [s for s in side if s.kind == "town"]
    if not towns:
        return []
    centres = np.array([(t.i, t.j) for t in towns], float)
    chosen = list(towns)
    villages = sorted((s for s in side if s.kind == "village"
                       and s.population >= STATION_VILLAGE_MIN_POPULATION),
                      key=lambda s: (-s.population, s.name))
    per_town = [0] * len(towns)
    for v in villages:
        d = np.hypot(*(centres - (v.i, v.j)).T) * STEP_M
        t = int(np.argmin(d))
        if (per_town[t] >= STATION_VILLAGES_PER_TOWN
                or not STATION_VILLAGE_MIN_M <= d[t] <= STATION_VILLAGE_MAX_M):
            continue
        if any(math.hypot(o.i - v.i, o.j - v.j) * STEP_M < STATION_VILLAGE_MIN_M
               for o in chosen[len(towns):]):
            continue
        chosen.append(v)
        per_town[t] += 1
    return chosen


def _neighbourhood_graph(xy: np.ndarray) -> list[tuple[int, int]]:
    """Edges ``(p, q)``, ``p < q``, of the relative neighbourhood graph of the points."""
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    edges = []
    for p in range(len(xy)):
        # (q, r): r lies nearer to both p and q than they lie to each other.
        blocked = (np.maximum(d[p][None, :], d) < d[p][:, None]).any(axis=1)
        edges += [(p, int(q)) for q in np.flatnonzero(~blocked) if q > p]
    return edges


def _lines(edges: list[tuple[int, int]], xy: np.ndarray) -> list[list[int]]:
    """The edges cut into lines, longest first: each runs on through a station,
    on the straightest free track, while it turns less than ``MAX_TURN_DEG``."""
    adjacent: dict[int, list[int]] = {}
    for p, q in edges:
        adjacent.setdefault(p, []).append(q)
        adjacent.setdefault(q, []).append(p)
    free = {(min(p, q), max(p, q)) for p, q in edges}

    def bearing(a, b) -> float:
        return math.degrees(math.atan2(xy[b, 1] - xy[a, 1], xy[b, 0] - xy[a, 0]))

    def extend(path: list[int]) -> None:
        while True:
            a, b = path[-2], path[-1]
            best = None
            for c in adjacent[b]:
                if (min(b, c), max(b, c)) not in free or c in path:
                    continue
                turn = abs((bearing(b, c) - bearing(a, b) + 180) % 360 - 180)
                if turn < MAX_TURN_DEG and (best is None or (turn, c) < best):
                    best = (turn, c)
            if best is None:
                return
            path.append(best[1])

    def chain(edge: tuple[int, int]) -> list[int]:
        path = list(edge)
        extend(path)
        path.reverse()
        extend(path)
        return path if path[0] < path[-1] else path[::-1]

    paths = []
    while free:
        best = max((chain(e) for e in sorted(free)), key=len)
        free -= {(min(p, q), max(p, q)) for p, q in itertools.pairwise(best)}
        paths.append(best)
    return paths


def _cut(paths: list[list[int]]) -> list[list[int]]:
    """Paths longer than ``MAX_LINE_STATIONS`` cut into equal lines sharing their end stations."""
    cut = []
    for path in paths:
        pieces = math.ceil((len(path) - 1) / (MAX_LINE_STATIONS - 1))
        bounds = np.linspace(0, len(path) - 1, pieces + 1).round().astype(int).tolist()
        cut += [path[a:b + 1] for a, b in itertools.pairwise(bounds)]
    return cut


def _add_station(feed: _transit_feed.Feed, frame: _frame.Frame, lines, roads,
                 stops: _transit_bus.Stops, s: _settlements.Settlement) -> tuple[str, str]:
    """A parent station with two platforms and its change times; returns the platforms."""
    i, j = _station_point(s, lines, roads)
    station_id = f"station_{i}_{j}"
    ids = [station_id, f"{station_id}_1", f"{station_id}_2"]
    for k, (du, code) in enumerate(((0, ""), (-10, "1"), (10, "2"))):
        kind, parent = (1, "") if k == 0 else (0, station_id)
        feed.add_stop(ids[k], f"Station {s.name}", frame, i * STEP_M + du, j * STEP_M, kind,
                      parent, code)
    feed.transfers.append([ids[1], ids[2], 2, PLATFORM_CHANGE_S])
    feed.transfers.append([ids[2], ids[1], 2, PLATFORM_CHANGE_S])
    # The buses stop at the centre: along the streets at walking pace, plus a
    # minute to find the platform.
    walk_s = (abs(i - s.i) + abs(j - s.j)) * STEP_M / 1.2 + 60
    change_s = int(math.ceil(walk_s / 30) * 30)
    for bus in stops.by_point.get((s.i, s.j), []):
        for platform in ids[1:]:
            feed.transfers.append([bus, platform, 2, change_s])
            feed.transfers.append([platform, bus, 2, change_s])
    return ids[1], ids[2]


def _station_point(s: _settlements.Settlement, lines, roads: _roads.Roads) -> tuple[int, int]:
    """A street crossing near the centre with streets east and west, for the two platforms."""
    for di, dj in ((1, -1), (-1, -1), (1, 1), (-1, 1), (0, -1), (0, 1), (1, 0), (-1, 0), (0, 0)):
        i, j = s.i + di, s.j + dj
        if j != lines.trunk_row and roads.street_h[i - 1, j] and roads.street_h[i, j]:
            return i, j
    raise RuntimeError(f"demo transit: no street for a station in {s.name}")


def _add_service(feed: _transit_feed.Feed, rng, frame: _frame.Frame,
                 stations: dict[str, tuple[str, str]], route_id: str, short_name: str,
                 calls: list[_settlements.Settlement], speed_kmh: float) -> None:
    """Trains both ways along ``calls``, half-hourly every day."""
    kind = "Intercity" if short_name.startswith("IC") else "Sprinter"
    feed.routes.append([route_id, "RR", short_name,
                        f"{kind} {calls[0].name} - {calls[-1].name}", 2])
    x, y = frame.to_rd(np.array([s.i for s in calls]) * STEP_M,
                       np.array([s.j for s in calls]) * STEP_M)
    hop_s = np.hypot(np.diff(x), np.diff(y)) * TRAIN_DETOUR / (speed_kmh / 3.6)
    hop_min = np.maximum(2, np.rint(hop_s / 60)).astype(int).tolist()
    dwell_min = TRAIN_DWELL_S // 60
    for direction in (0, 1):
        order = calls if direction == 0 else calls[::-1]
        hops = hop_min if direction == 0 else hop_min[::-1]
        arrive, depart, t = [], [], 0
        for k in range(len(order)):
            arrive.append(t)
            t += 0 if k in (0, len(order) - 1) else dwell_min
            depart.append(t)
            if k < len(hops):
                t += hops[k]
        ids = [stations[s.name][direction] for s in order]
        shift = int(rng.integers(0, 15))
        for service, bands in TRAIN_BANDS.items():
            feed.add_trips(route_id, service, direction, order[-1].name, ids, arrive, depart,
                           _transit_feed.departures(bands, shift))
