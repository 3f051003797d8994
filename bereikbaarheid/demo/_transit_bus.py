"""Buses and trams of the demo: city networks in the towns, regional lines between settlements.

Every line follows the streets (the trunk road excepted: it is closed to
walkers, so no stop could stand on it). A stop is a pair of quays, one per
direction of travel, as in Dutch feeds: each stands 10 m past its crossing
on the node every lattice edge has there, so both lie on the walk network.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from . import _frame, _roads, _settlements, _transit_feed
from ._frame import STEP_M
from ._transit_feed import SATURDAY, SUNDAY, WEEKDAY

# Regional lines: main lines half-hourly in the peaks, hourly by day and
# two-hourly in the evening, the last bus leaving around 23:30 (so it arrives
# after midnight); minor lines hourly, two-hourly on Saturday and not on Sunday.
MAJOR_BANDS: _transit_feed.Bands = {
    WEEKDAY: ((360, 420, 60), (420, 540, 30), (540, 960, 60), (960, 1080, 30),
              (1080, 1140, 60), (1170, 1411, 120)),
    SATURDAY: ((480, 1140, 60), (1170, 1411, 120)),
    SUNDAY: ((540, 1381, 120),),
}
MINOR_BANDS: _transit_feed.Bands = {
    WEEKDAY: ((390, 1140, 60), (1230, 1351, 120)),
    SATURDAY: ((540, 1081, 120),),
    SUNDAY: (),
}
# City lines: every 10 minutes in the peaks and 15 by day; a town's trunk
# line (a tram in the largest towns) every 6 and 10; half-hourly early and late.
CITY_BANDS: _transit_feed.Bands = {
    WEEKDAY: ((330, 420, 30), (420, 540, 10), (540, 960, 15), (960, 1110, 10),
              (1110, 1200, 15), (1200, 1441, 30)),
    SATURDAY: ((420, 540, 30), (540, 1080, 15), (1080, 1441, 30)),
    SUNDAY: ((540, 1381, 30),),
}
CITY_TRUNK_BANDS: _transit_feed.Bands = {
    WEEKDAY: ((330, 420, 15), (420, 540, 6), (540, 960, 10), (960, 1110, 6),
              (1110, 1200, 10), (1200, 1441, 20)),
    SATURDAY: ((420, 540, 15), (540, 1080, 10), (1080, 1441, 20)),
    SUNDAY: ((540, 1381, 15),),
}

BUS_SPEED_KMH = 40.0        # on country roads
URBAN_SPEED_KMH = 25.0      # in the streets of towns and villages
BUS_DWELL_S = 20            # per intermediate stop, added to the running time
QUAY_OFFSET_M = 10          # the node 10 m along every lattice edge
NEARBY_STOP_M = 250         # a settlement this close to a line's road gets a stop
REGIONAL_SPACING_M = (350, 600)  # between stops: in settlements, in the country
CITY_SPACING_M = (300, 600)
SECTOR_DEG = 25.0           # villages within this bearing of a terminus share its line
MAX_VIA = 2                 # villages served on the way to a terminus
MAX_CHAIN = 5               # villages per line where no town is near
CROSS_BORDER_MAX_M = 15_000
FIRST_LINE_NUMBER = 50
# City lines cross the town through its centre and run on this far past its
# edge, to a village or hamlet near their end when there is one.
CITY_REACH_M = 4000
CITY_TERMINUS_SNAP = 0.35   # of the reach: a settlement this near the end becomes the terminus
TRAM_MIN_POPULATION = 12_000
_COMPASS = {(1, 0): "e", (-1, 0): "w", (0, 1): "n", (0, -1): "s"}


@dataclass(frozen=True)
class _Line:
    """A regional bus line through settlements in order (the first is its town, when it has one)."""

    via: tuple[_settlements.Settlement, ...]
    major: bool


class Streets:
    """The lattice streets buses use, and shortest routes over them in a box around both ends."""

    def __init__(self, frame: _frame.Frame, lines: _settlements.Lines, roads: _roads.Roads):
        self.frame = frame
        self.h = roads.street_h.copy()
        # The trunk road is a motorroad: a stop on it could not be walked to.
        self.h[:, lines.trunk_row] = False
        self.v = roads.street_v

    def route(self, a: tuple[int, int], b: tuple[int, int],
              max_margin: int | None = None) -> np.ndarray | None:
        """Lattice points ``(k, 2)`` of a shortest street route from ``a`` to ``b``.

        The search starts in a box around both ends and doubles its margin
        until the route is found; None when ``max_margin`` is reached first.
        """
        n_i, n_j = self.frame.n_i, self.frame.n_j
        margin = 10 + max(abs(a[0] - b[0]), abs(a[1] - b[1])) // 2
        while True:
            i0, i1 = max(0, min(a[0], b[0]) - margin), min(n_i - 1, max(a[0], b[0]) + margin)
            j0, j1 = max(0, min(a[1], b[1]) - margin), min(n_j - 1, max(a[1], b[1]) + margin)
            nodes = self._search(a, b, i0, i1, j0, j1)
            if nodes is not None:
                return nodes
            whole = i0 == 0 and j0 == 0 and i1 == n_i - 1 and j1 == n_j - 1
            if whole or (max_margin is not None and margin >= max_margin):
                if max_margin is None:
                    raise RuntimeError(f"demo transit: no street route between {a} and {b}")
                return None
            margin *= 2

    def _search(self, a, b, i0, i1, j0, j1) -> np.ndarray | None:
        m_j = j1 - j0 + 1
        hi, hj = np.nonzero(self.h[i0:i1, j0:j1 + 1])
        vi, vj = np.nonzero(self.v[i0:i1 + 1, j0:j1])
        tail = np.concatenate([hi * m_j + hj, vi * m_j + vj])
        head = np.concatenate([(hi + 1) * m_j + hj, vi * m_j + vj + 1])
        n = (i1 - i0 + 1) * m_j
        graph = coo_matrix((np.ones(2 * len(tail)), (np.concatenate([tail, head]),
                                                     np.concatenate([head, tail]))),
                           shape=(n, n)).tocsr()
        src = (a[0] - i0) * m_j + (a[1] - j0)
        dst = (b[0] - i0) * m_j + (b[1] - j0)
        _, pred = dijkstra(graph, indices=src, return_predecessors=True)
        if src != dst and pred[dst] < 0:
            return None
        path = [dst]
        while path[-1] != src:
            path.append(int(pred[path[-1]]))
        local = np.array(path[::-1], np.int64)
        return np.column_stack([local // m_j + i0, local % m_j + j0])

    def is_street(self, i: int, j: int) -> bool:
        """Whether a bus street meets lattice point ``(i, j)``."""
        return bool((i > 0 and self.h[i - 1, j]) or (i < self.h.shape[0] and self.h[i, j])
                    or (j > 0 and self.v[i, j - 1]) or (j < self.v.shape[1] and self.v[i, j]))


class Stops:
    """The quays of every bus stop, created as lines first call at them."""

    def __init__(self, feed: _transit_feed.Feed, frame: _frame.Frame,
                 settlements: list[_settlements.Settlement], avoid: tuple[int, int] | None):
        self.feed = feed
        self.frame = frame
        self.settlements = settlements
        self.centre = {(s.i, s.j): s for s in settlements}
        self.tree = cKDTree(np.array([(s.i, s.j) for s in settlements], float))
        # The roundabout's centre is no OSM node: its ring replaced the crossing.
        self.avoid = avoid
        self.quays: dict[tuple[int, int, int, int], str] = {}
        self.by_point: dict[tuple[int, int], list[str]] = {}
        self.names: dict[tuple[int, int], str] = {}
        self.taken = {f"{s.name}, {'Busstation' if s.kind == 'town' else 'Centrum'}"
                      for s in settlements}
        n_i, n_j = frame.n_i, frame.n_j
        self.urban = np.zeros((n_i, n_j), bool)
        for s in settlements:
            r = s.radius_steps
            di, dj = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1), indexing="ij")
            inside = di ** 2 + dj ** 2 <= r ** 2
            ii, jj = di[inside] + s.i, dj[inside] + s.j
            ok = (ii >= 0) & (ii < n_i) & (jj >= 0) & (jj < n_j)
            self.urban[ii[ok], jj[ok]] = True

    def quay(self, point: tuple[int, int], toward: tuple[int, int]) -> str:
        """The quay at lattice ``point`` on its edge toward the neighbouring point ``toward``."""
        di, dj = toward[0] - point[0], toward[1] - point[1]
        key = (point[0], point[1], di, dj)
        stop_id = self.quays.get(key)
        if stop_id is None:
            stop_id = f"bus_{point[0]}_{point[1]}_{_COMPASS[(di, dj)]}"
            self.quays[key] = stop_id
            if point not in self.by_point:
                # A stop's quays share its name: the street of the first line to call there.
                self.names[point] = self._name(point, horizontal=dj == 0)
            self.by_point.setdefault(point, []).append(stop_id)
            self.feed.add_stop(stop_id, self.names[point], self.frame,
                               point[0] * STEP_M + QUAY_OFFSET_M * di,
                               point[1] * STEP_M + QUAY_OFFSET_M * dj)
        return stop_id

    def _name(self, point: tuple[int, int], horizontal: bool) -> str:
        """A settlement's centre, or the nearest place and the stop's street, with the cross
        street (or a number) where another stop already has that name."""
        s = self.centre.get(point)
        if s is not None:
            return f"{s.name}, Busstation" if s.kind == "town" else f"{s.name}, Centrum"
        dist, k = self.tree.query(point)
        near = self.settlements[int(k)]
        road_class = _roads.RESIDENTIAL if dist * STEP_M <= near.radius_m else _roads.UNCLASSIFIED
        along = _roads._name_of(road_class, point[1] if horizontal else point[0], horizontal)
        cross = _roads._name_of(road_class, point[0] if horizontal else point[1], not horizontal)
        street = along or cross or "Kruispunt"
        candidates = [f"{near.name}, {street}"]
        if along and cross and along != cross:
            candidates.append(f"{near.name}, {along}/{cross}")
        name = next((c for c in candidates if c not in self.taken), None)
        n = 2
        while name is None:
            name = f"{candidates[0]} {n}" if f"{candidates[0]} {n}" not in self.taken else None
            n += 1
        self.taken.add(name)
        return name

    def positions(self, nodes: np.ndarray, via: tuple[_settlements.Settlement, ...],
                  spacing_m: tuple[int, int], along_m: np.ndarray) -> list[int]:
        """Positions along a route that get a stop: its settlements, those it passes, and stops
        spaced ``spacing_m`` (in settlements, in the country) between them."""
        wanted = {int(np.argmin(np.abs(nodes - (s.i, s.j)).sum(axis=1))) for s in via}
        near = self.tree.query_ball_point(nodes.astype(float), NEARBY_STOP_M / STEP_M)
        for k in sorted(set(itertools.chain.from_iterable(near))):
            s = self.settlements[k]
            d = np.hypot(nodes[:, 0] - s.i, nodes[:, 1] - s.j)
            pos = int(np.argmin(d))
            if tuple(nodes[pos]) != self.avoid:
                wanted.add(pos)
        wanted.update((0, len(nodes) - 1))
        marked = sorted(wanted)
        urban = self.urban[nodes[:, 0], nodes[:, 1]]
        for a, b in itertools.pairwise(marked):
            last = along_m[a]
            for k in range(a + 1, b):
                gap = spacing_m[0] if urban[k] else spacing_m[1]
                if (along_m[k] - last >= gap and along_m[b] - along_m[k] >= gap / 2
                        and tuple(nodes[k]) != self.avoid):
                    wanted.add(k)
                    last = along_m[k]
        return sorted(wanted)


def add_buses(feed: _transit_feed.Feed, rng, frame: _frame.Frame, lines: _settlements.Lines,
              settlements: list[_settlements.Settlement], streets: Streets, stops: Stops) -> None:
    """Regional lines (numbered from 50), then each town's city lines."""
    for number, line in enumerate(_plan_lines(frame, settlements), start=FIRST_LINE_NUMBER):
        legs = [streets.route((a.i, a.j), (b.i, b.j)) for a, b in itertools.pairwise(line.via)]
        # A village at the end of a side road is served there and back.
        nodes = np.concatenate([legs[0]] + [leg[1:] for leg in legs[1:]])
        names = [s.name for s in line.via]
        route_id = f"bus_{number}"
        feed.routes.append([route_id, "ZLB", str(number), " - ".join(names), 3])
        _add_line(feed, rng, frame, stops, route_id, nodes, line.via, REGIONAL_SPACING_M,
                  (names[-1], names[0]), MAJOR_BANDS if line.major else MINOR_BANDS, shift_max=30)
    towns = [s for s in settlements if s.kind == "town"]
    for t_idx, town in enumerate(towns):
        large = town.population >= TRAM_MIN_POPULATION
        n_lines = 3 if large else 2
        theta0 = float(rng.uniform(0.0, 180.0))
        for k in range(n_lines):
            ends = [_terminus(frame, streets, stops, town, theta0 + 180.0 * k / n_lines + side)
                    for side in (0.0, 180.0)]
            legs = [streets.route(ends[0][0], (town.i, town.j)),
                    streets.route((town.i, town.j), ends[1][0])]
            nodes = _loop_erased(np.concatenate([legs[0], legs[1][1:]]))
            if len(nodes) < 2:
                continue
            tram = k == 0 and large
            route_id = f"city_{t_idx + 1}_{k + 1}"
            names = [e[1] for e in ends]
            feed.routes.append([route_id, "SVK", str(k + 1),
                                f"{town.name}: {names[0]} - {names[1]}", 0 if tram else 3])
            _add_line(feed, rng, frame, stops, route_id, nodes, (town,), CITY_SPACING_M,
                      (names[1], names[0]), CITY_TRUNK_BANDS if tram else CITY_BANDS,
                      shift_max=6 if tram else 10)


def _add_line(feed, rng, frame, stops: Stops, route_id: str, nodes: np.ndarray, via,
              spacing_m: tuple[int, int], headsigns: tuple[str, str],
              bands: _transit_feed.Bands, shift_max: int) -> None:
    """Stops and trips of one line along ``nodes``, both ways, every day type of ``bands``."""
    x, y = frame.to_rd(nodes[:, 0] * STEP_M, nodes[:, 1] * STEP_M)
    step_m = np.hypot(np.diff(x), np.diff(y))
    along_m = np.concatenate([[0.0], np.cumsum(step_m)])
    urban = stops.urban[nodes[:, 0], nodes[:, 1]]
    speed_ms = np.where(urban[1:] & urban[:-1], URBAN_SPEED_KMH, BUS_SPEED_KMH) / 3.6
    along_s = np.concatenate([[0.0], np.cumsum(step_m / speed_ms)])
    positions = stops.positions(nodes, via, spacing_m, along_m)
    last = len(nodes) - 1
    points = [tuple(p) for p in nodes.tolist()]
    forward = [stops.quay(points[p], points[p + 1] if p < last else points[p - 1])
               for p in positions]
    backward = [stops.quay(points[p], points[p - 1] if p > 0 else points[p + 1])
                for p in positions[::-1]]
    run_s = along_s[positions]
    for direction, ids in ((0, forward), (1, backward)):
        t = run_s - run_s[0] if direction == 0 else run_s[-1] - run_s[::-1]
        # A route that passes a crossing twice the same way calls there once.
        first = sorted({stop: k for k, stop in reversed(list(enumerate(ids)))}.values())
        ids = [ids[k] for k in first]
        t = t[first] + BUS_DWELL_S * np.arange(len(first))
        # Timetables show whole minutes.
        offsets = np.rint(t / 60).astype(int).tolist()
        shift = int(rng.integers(0, shift_max))
        for service, service_bands in bands.items():
            feed.add_trips(route_id, service, direction, headsigns[direction], ids, offsets,
                           offsets, _transit_feed.departures(service_bands, shift))


def _loop_erased(nodes: np.ndarray) -> np.ndarray:
    """The route without the loops it makes where its two legs double back on each other."""
    seen: dict[tuple[int, int], int] = {}
    kept: list[tuple[int, int]] = []
    for p in map(tuple, nodes.tolist()):
        if p in seen:
            for q in kept[seen[p] + 1:]:
                del seen[q]
            del kept[seen[p] + 1:]
        else:
            seen[p] = len(kept)
            kept.append(p)
    return np.array(kept, np.int64).reshape(-1, 2)


def _terminus(frame: _frame.Frame, streets: Streets, stops: Stops, town,
              bearing_deg: float) -> tuple[tuple[int, int], str]:
    """Where a city line ends in one direction: its lattice point and name.

    A village or hamlet near the end of the reach, else the street point
    nearest that end; the reach shrinks where water, the reserve, Belgium or
    the frame's edge is in the way.
    """
    north = town.j > frame.water_j1
    c, s = math.cos(math.radians(bearing_deg)), math.sin(math.radians(bearing_deg))
    for share in (1.0, 0.6, 0.35):
        reach_m = town.radius_m + CITY_REACH_M * share
        u, v = town.i * STEP_M + reach_m * c, town.j * STEP_M + reach_m * s
        snap_m = CITY_TERMINUS_SNAP * CITY_REACH_M * share
        near = []
        for k in stops.tree.query_ball_point((u / STEP_M, v / STEP_M), snap_m / STEP_M):
            o = stops.settlements[k]
            if (o.kind != "town" and o.country == "NL" and (o.j > frame.water_j1) == north
                    and math.hypot(o.i - town.i, o.j - town.j) * STEP_M > town.radius_m + 500):
                near.append((math.hypot(o.i * STEP_M - u, o.j * STEP_M - v), o.name, o))
        if near:
            end = min(near, key=lambda p: (p[0], p[1]))[2]
            if streets.route((town.i, town.j), (end.i, end.j), max_margin=80) is not None:
                return (end.i, end.j), end.name
        point = _street_near(frame, streets, u, v, north)
        if point is not None and streets.route((town.i, town.j), point,
                                               max_margin=80) is not None:
            return point, stops.settlements[int(stops.tree.query(point)[1])].name
    return (town.i, town.j), town.name


def _street_near(frame: _frame.Frame, streets: Streets, u: float, v: float,
                 north: bool) -> tuple[int, int] | None:
    """The street point nearest lattice point ``(u, v)`` within 500 m, on Dutch land on the
    town's side of the estuary."""
    if not (300 <= u <= frame.width_m - 300 and 300 <= v <= frame.height_m - 300):
        return None
    on_water = (frame.water_j0 - 3) * STEP_M <= v <= (frame.water_j1 + 3) * STEP_M
    if v < frame.border_v(u) + 300 or on_water:
        return None
    if (v > frame.water_j1 * STEP_M) != north:
        return None
    _, ri1, rj0, rj1 = frame.reserve_steps
    if u <= (ri1 + 3) * STEP_M and (rj0 - 3) * STEP_M <= v <= rj1 * STEP_M:
        return None
    ci, cj = round(u / STEP_M), round(v / STEP_M)
    best = None
    for di in range(-5, 6):
        for dj in range(-5, 6):
            i, j = ci + di, cj + dj
            if 0 <= i < frame.n_i and 0 <= j < frame.n_j and streets.is_street(i, j):
                key = (di * di + dj * dj, i, j)
                best = key if best is None or key < best else best
    return None if best is None else (best[1], best[2])


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
        nearest = (cKDTree(centres).query(np.array([(v.i, v.j) for v in villages], float))[1]
                   if villages else np.zeros(0, int))
        for t_idx, town in enumerate(towns):
            own = [v for v, t in zip(villages, nearest.tolist()) if t == t_idx]
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
