"""Facilities of the demo region, tagged as Dutch OSM maps them, with capacities for the CSV."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from . import _frame, _population, _roads, _settlements
from ._frame import STEP_M

GP_PATIENTS_PER_FTE = 2095  # NZa "normpraktijk"
GP_FTE_CHOICES = (1.0, 1.0, 1.5, 1.5, 2.0, 3.0)  # a rural mix: many small practices
SURNAMES = ("De Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "De Wit", "Dekker",
            "Verhulst", "Van Damme")
SCHOOL_NAMES = ("De Regenboog", "Het Kompas", "De Wegwijzer", "'t Schorrekind", "De Zandloper",
                "Prins Willem-Alexander", "De Kreek", "Sint Jozef", "De Schakel", "Het Getij")
# Dutch densities: inhabitants per GP practice (about 5,000 practices for
# 18 million), per primary school (about 6,000) and per supermarket.
INHABITANTS_PER: dict[str, float] = {"gp": 3500.0, "school": 3000.0, "supermarket": 3500.0}
# A village keeps a school whatever its size; a GP practice or a supermarket
# only from a couple of thousand inhabitants, else its countryside turns to
# the next bigger village or the town.
MIN_POPULATION: dict[str, int] = {"gp": 1500, "school": 0, "supermarket": 1200}
NL_BRANDS = ("Albert Heijn", "Jumbo", "Lidl", "Aldi", "Plus", "Coop", "Spar", "Dirk")
BE_BRANDS = ("Delhaize", "Colruyt", "Carrefour Market", "Spar")

# Shapes inside a 100 m street block, in metres from its south-west corner.
_POINT = np.array([[50, 45]], np.int64)
_BUILDING = np.array([[25, 25], [75, 25], [75, 65], [25, 65], [25, 25]], np.int64)
_OUTER_A = np.array([[20, 20], [80, 20], [80, 70]], np.int64)
_OUTER_B = np.array([[80, 70], [20, 70], [20, 20]], np.int64)


@dataclass
class Feature:
    """One OSM object: a tagged node, a closed building way, or a multipolygon of two ways.

    ``parts`` are lattice-metre point arrays: one point (node), one closed
    ring (way) or the open ways that together close the outer ring
    (multipolygon). ``facility_type`` is None for distractors (a dentist, a
    secondary school) that must not count as a facility.
    """

    kind: str  # "node", "way" or "multipolygon"
    parts: list[np.ndarray]
    tags: dict[str, str]
    facility_type: str | None = None
    capacity: float | None = None
    country: str = "NL"


def place_facilities(seed: int, frame: _frame.Frame, settlements: list[_settlements.Settlement],
                     roads: _roads.Roads, raster: _population.Raster) -> list[Feature]:
    """GP practices, primary schools and supermarkets (plus distractors) in the settlements.

    Dutch towns and villages (not hamlets) get facilities in proportion to
    their catchment (``INHABITANTS_PER``): their own inhabitants and the
    countryside nearer to them than to any other town or village big enough
    to keep that type (``MIN_POPULATION``). Belgian villages get one of
    each. Every facility stands in its own street block inside its
    settlement; several of one type spread over the settlement.
    """
    rng = _frame.rng_for(seed, "facilities")
    hosts = [s for s in settlements if s.kind != "hamlet"]
    dutch = np.array([s.country == "NL" for s in hosts])
    population = np.array([s.population for s in hosts])
    north = np.array([s.j > frame.water_j1 for s in hosts])
    catchments = {}
    for ftype, minimum in MIN_POPULATION.items():
        able = dutch & (population >= minimum)
        # The estuary parts the shores: the biggest place on a shore keeps
        # every type, so nobody has to take the ferry for it.
        for shore in (north, ~north):
            if (dutch & shore).any() and not (able & shore).any():
                able[np.argmax(np.where(dutch & shore, population, -1))] = True
        catchments[ftype] = _catchments(frame, hosts, able, north, raster)
    features: list[Feature] = []
    counters = {"gp": 0, "school": 0, "supermarket": 0}
    for k, s in enumerate(hosts):
        blocks = _blocks(s, roads)
        free = np.ones(len(blocks), bool)
        persons = {ftype: float(c[k]) for ftype, c in catchments.items()}
        for ftype, target in _requests(rng, s, persons):
            if not free.any():
                break
            d = np.hypot(*(blocks + 0.5 - target).T)
            # Nearest free block to the target; equally near ones by chance.
            order = np.lexsort((rng.random(d.size), np.round(d, 1), ~free))
            pick = int(order[0])
            free[pick] = False
            offset = (np.array([s.i, s.j]) + blocks[pick]) * STEP_M
            features.append(_feature(rng, ftype, s, offset.astype(np.int64), counters))
    return features


def _catchments(frame: _frame.Frame, hosts: list[_settlements.Settlement], able: np.ndarray,
                north: np.ndarray, raster: _population.Raster) -> np.ndarray:
    """Inhabitants of each host's catchment among the ``able`` ones (0 for the others).

    A populated cell belongs to the able host on its shore of the estuary
    (``north`` marks the hosts beyond it) whose street grid edge is nearest.
    """
    catchment = np.zeros(len(hosts))
    row, col = np.nonzero(raster.persons)
    u, v = frame.from_rd(raster.x0 + raster.cell_m * (col + 0.5),
                         raster.y0 + raster.cell_m * (row + 0.5))
    cell_north = v > frame.water_j1 * STEP_M
    for shore, cells in ((True, cell_north), (False, ~cell_north)):
        own = np.flatnonzero(able & (north == shore))
        if own.size == 0 or not cells.any():
            continue
        centres = np.array([(hosts[k].i * STEP_M, hosts[k].j * STEP_M) for k in own], float)
        radius = np.array([hosts[k].radius_m for k in own], float)
        n_near = min(8, own.size)
        cu, cv = u[cells], v[cells]
        _, near = cKDTree(centres).query(np.column_stack([cu, cv]), k=n_near)
        near = near.reshape(len(cu), n_near)
        to_edge = np.hypot(cu[:, None] - centres[near, 0], cv[:, None] - centres[near, 1])
        owner = near[np.arange(len(cu)), np.argmin(to_edge - radius[near], axis=1)]
        np.add.at(catchment, own[owner], raster.persons[row[cells], col[cells]])
    return catchment


def _blocks(s: _settlements.Settlement, roads: _roads.Roads) -> np.ndarray:
    """Street blocks of a settlement: ``(n, 2)`` south-west corners relative to its centre.

    A block qualifies when its four corners lie in the settlement's street
    grid and streets run along all four sides (not a park's footways).
    """
    r = s.radius_steps
    a, b = np.meshgrid(np.arange(-r, r), np.arange(-r, r), indexing="ij")
    inside = np.ones(a.shape, bool)
    for da, db in ((0, 0), (1, 0), (0, 1), (1, 1)):
        inside &= (a + da) ** 2 + (b + db) ** 2 <= r ** 2
    a, b = a[inside], b[inside]
    i, j = s.i + a, s.j + b
    h, v = roads.street_h, roads.street_v
    ok = (i >= 0) & (j >= 0) & (i + 1 < v.shape[0]) & (j + 1 < h.shape[1])
    i, j, a, b = i[ok], j[ok], a[ok], b[ok]
    walled = h[i, j] & h[i, j + 1] & v[i, j] & v[i + 1, j]
    return np.column_stack([a[walled], b[walled]])


def _requests(rng, s: _settlements.Settlement,
              persons: dict[str, float]) -> list[tuple[str, np.ndarray]]:
    """Facilities a settlement asks for, each with a target (lattice steps from its centre).

    Types take turns, so when blocks run short every type still gets its
    share. A single facility of a type aims at the centre, several at points
    spread round half the radius.
    """
    if s.country == "BE":
        wanted = {"gp": 1, "school": 1, "supermarket": 1}
    else:
        # Stochastic rounding keeps the region's totals at the Dutch densities;
        # a settlement that can keep a type has at least one.
        wanted = {t: max(int(persons[t] > 0), int(persons[t] / n + rng.random()))
                  for t, n in INHABITANTS_PER.items()}
    turns = []
    for ftype, n in wanted.items():
        phase = rng.uniform(0, 2 * np.pi)
        for k in range(n):
            angle = phase + 2 * np.pi * k / n
            reach = 0.0 if n == 1 else 0.5 * s.radius_steps
            turns.append((k, ftype, reach * np.array([np.cos(angle), np.sin(angle)])))
    turns.sort(key=lambda turn: turn[0])
    requests = [(ftype, target) for _, ftype, target in turns]
    if s.kind == "town":
        requests += [("dentist", np.zeros(2)), ("secondary_school", np.zeros(2))]
    return requests


def _feature(rng, ftype: str, s, offset: np.ndarray, counters: dict[str, int]) -> Feature:
    be = s.country == "BE"
    if ftype == "dentist":
        return Feature("node", [_POINT + offset],
                       {"amenity": "dentist", "healthcare": "dentist",
                        "name": f"Tandartspraktijk {s.name}"}, country=s.country)
    if ftype == "secondary_school":
        return Feature("way", [_BUILDING + offset],
                       {"amenity": "school", "building": "school", "isced:level": "2;3",
                        "name": f"Scholengemeenschap {s.name}"}, country=s.country)
    k = counters[ftype]
    counters[ftype] += 1
    if ftype == "gp":
        fte = float(rng.choice(GP_FTE_CHOICES))
        name = f"Huisartsenpraktijk {SURNAMES[k % len(SURNAMES)]}"
        capacity = round(fte * GP_PATIENTS_PER_FTE)
        if k % 2 == 0:
            return Feature("node", [_POINT + offset],
                           {"amenity": "doctors", "healthcare": "doctor",
                            "healthcare:speciality": "general", "name": name},
                           "gp", capacity, s.country)
        return Feature("way", [_BUILDING + offset],
                       {"building": "yes", "amenity": "doctors", "name": name},
                       "gp", capacity, s.country)
    if ftype == "school":
        prefix = "Vrije Basisschool" if be else "Basisschool"
        tags = {"amenity": "school", "name": f"{prefix} {SCHOOL_NAMES[k % len(SCHOOL_NAMES)]}"}
        # Mappers tag primary schools either way, or both.
        if k % 3 != 1:
            tags["isced:level"] = "1"
        if k % 3 != 0:
            tags["school"] = "primary"
        low, high = (150, 451) if s.kind == "town" else (60, 221)
        capacity = int(rng.integers(low, high))
        if k % 2 == 0:
            return Feature("node", [_POINT + offset], tags, "school", capacity, s.country)
        return Feature("way", [_BUILDING + offset], {"building": "school", **tags},
                       "school", capacity, s.country)
    brands = BE_BRANDS if be else NL_BRANDS
    brand = brands[k % len(brands)]
    tags = {"shop": "supermarket", "name": brand, "brand": brand}
    low, high = (900, 1800) if s.kind == "town" else (350, 800)
    floor_area_m2 = int(rng.integers(low, high) // 10 * 10)
    if k == 0:
        return Feature("multipolygon", [_OUTER_A + offset, _OUTER_B + offset],
                       {"type": "multipolygon", "building": "retail", **tags},
                       "supermarket", floor_area_m2, s.country)
    if k % 2 == 1:
        return Feature("node", [_POINT + offset], tags, "supermarket", floor_area_m2, s.country)
    return Feature("way", [_BUILDING + offset], {"building": "retail", **tags},
                   "supermarket", floor_area_m2, s.country)
