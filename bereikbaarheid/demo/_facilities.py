"""Facilities of the demo region, tagged as Dutch OSM maps them, with capacities for the CSV."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _frame, _settlements
from ._frame import STEP_M

GP_PATIENTS_PER_FTE = 2095  # NZa "normpraktijk"
GP_FTE_CHOICES = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0)
SURNAMES = ("De Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "De Wit", "Dekker",
            "Verhulst", "Van Damme")
SCHOOL_NAMES = ("De Regenboog", "Het Kompas", "De Wegwijzer", "'t Schorrekind", "De Zandloper",
                "Prins Willem-Alexander", "De Kreek", "Sint Jozef", "De Schakel", "Het Getij")
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


def place_facilities(seed: int, settlements: list[_settlements.Settlement]) -> list[Feature]:
    """GP practices, primary schools and supermarkets (plus distractors) in the settlements."""
    rng = _frame.rng_for(seed, "facilities")
    features: list[Feature] = []
    counters = {"gp": 0, "school": 0, "supermarket": 0}
    first_town = True
    for s in settlements:
        if s.kind == "hamlet":
            continue
        blocks = _blocks(rng, s)
        wanted = _wanted(rng, s, first_town)
        if s.kind == "town":
            first_town = False
        for ftype in ("gp", "school", "supermarket", "dentist", "secondary_school"):
            for _ in range(wanted.get(ftype, 0)):
                if not blocks:
                    break
                bi, bj = blocks.pop(0)
                offset = np.array([bi * STEP_M, bj * STEP_M], np.int64)
                features.append(_feature(rng, ftype, s, offset, counters))
    return features


def _blocks(rng, s) -> list[tuple[int, int]]:
    """Street blocks (south-west lattice corners) near the centre, nearest first."""
    r = max(1, s.radius_steps - 1)
    di, dj = np.meshgrid(np.arange(-r, r), np.arange(-r, r), indexing="ij")
    dist = np.hypot(di + 0.5, dj + 0.5)
    ok = dist <= max(0.6 * s.radius_steps, 1.0)
    di, dj, dist = di[ok], dj[ok], dist[ok]
    order = np.lexsort((rng.random(dist.size), np.round(dist, 1)))
    return [(s.i + int(a), s.j + int(b)) for a, b in zip(di[order], dj[order])]


def _wanted(rng, s, first_town: bool) -> dict[str, int]:
    if s.kind == "town":
        if first_town:
            return {"gp": 3, "school": 4, "supermarket": 3, "dentist": 1, "secondary_school": 1}
        return {"gp": int(rng.integers(2, 4)), "school": int(rng.integers(3, 5)),
                "supermarket": int(rng.integers(2, 4)), "dentist": 1, "secondary_school": 1}
    if s.country == "BE":
        return {"gp": 1, "school": 1, "supermarket": 1}
    big = s.radius_m >= 500
    return {"school": int(rng.random() < 0.85),
            "gp": int(rng.random() < (0.8 if big else 0.35)),
            "supermarket": int(rng.random() < (0.8 if big else 0.35))}


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
