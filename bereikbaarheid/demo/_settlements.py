"""Towns, villages and hamlets of the demo region: where they lie, how big they are, their names."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _frame
from ._frame import STEP_M

NL_NAMES: tuple[str, ...] = (
    "Oosterzande", "Kreekhoven", "Polderkerke", "Schorredijk", "Zandhove",
    "Molenzande", "Dijkwaarde", "Griethoek", "Westerkapelle", "Hoekezande",
    "Nieuwesluis", "Sint Janshoek", "Kloosterwaard", "Heikerke", "Wulpdorp",
    "Zoutepolder", "Baarsande", "Kapelhoeve", "Vlaskerke", "Lindendijk",
)
NORTH_SHORE_SPACING_M = 4000
BE_NAMES: tuple[str, ...] = (
    "Sint-Pieterskapelle", "Kapellebroek", "Watervlietmoer", "Ter Heide",
    "Oostvelde", "Meerhoek", "Sint-Margrietebos", "Bassevelde-Dorp",
)


@dataclass(frozen=True)
class Settlement:
    """A settlement centred on lattice point ``(i, j)`` with a street grid of ``radius_m``."""

    name: str
    kind: str  # "town", "village" or "hamlet"
    country: str  # "NL" or "BE"
    i: int
    j: int
    radius_m: int
    population: int

    @property
    def radius_steps(self) -> int:
        """Street-grid radius in lattice steps."""
        return self.radius_m // STEP_M


@dataclass(frozen=True)
class Lines:
    """The lattice lines that carry the countryside roads.

    ``farm_cols`` / ``farm_rows`` are the farmland road grid (index lines);
    the main roads run on some of them: ``primary_cols``, ``trunk_row``. The
    motorway runs between rows ``motorway_row`` and ``motorway_row + 1``, on
    no lattice line, so it crosses the lattice roads on bridges.
    """

    farm_cols: np.ndarray
    farm_rows: np.ndarray
    primary_cols: tuple[int, ...]
    trunk_row: int
    motorway_row: int
    foot_ferry_col: int


def _gapped_lines(rng: np.random.Generator, n: int) -> np.ndarray:
    """Indices 1..n-2 with random gaps of 6 to 12 steps (0.6-1.2 km)."""
    gaps = rng.integers(6, 13, size=n // 6 + 2)
    lines = int(rng.integers(2, 8)) + np.concatenate([[0], np.cumsum(gaps)])
    return lines[lines <= n - 2]


def plan_lines(frame: _frame.Frame, seed: int) -> Lines:
    """Farmland road grid and the lines the main roads follow."""
    rng = _frame.rng_for(seed, "lines")
    cols = _gapped_lines(rng, frame.n_i)
    rows = _gapped_lines(rng, frame.n_j)
    motorway_row = int(round(0.3 * frame.n_j))
    # The motorway strip holds no farm row, and the estuary none at all; the
    # north shore gets a dike road.
    rows = rows[(rows != motorway_row) & (rows != motorway_row + 1)]
    rows = rows[(rows < frame.water_j0) | (rows > frame.water_j1)]
    north_road = frame.water_j1 + 3
    if north_road <= frame.n_j - 2:
        rows = np.union1d(rows, [north_road])
    # Trunk row: the farm row nearest 45 % of the height, below the reserve.
    reserve_j0 = frame.reserve_steps[2]
    trunk_choices = rows[(rows > motorway_row + 8) & (rows < reserve_j0 - 5)]
    trunk_row = int(trunk_choices[np.argmin(np.abs(trunk_choices - 0.45 * frame.n_j))])
    # One primary road per 20 km of width, starting at 35 %.
    primary = []
    target = 0.35 * frame.width_m / STEP_M
    while target < frame.n_i - 20:
        primary.append(int(cols[np.argmin(np.abs(cols - target))]))
        target += 20_000 / STEP_M
    foot_choices = cols[~np.isin(cols, primary)]
    foot_col = int(foot_choices[np.argmin(np.abs(foot_choices - 0.72 * frame.n_i))])
    return Lines(cols, rows, tuple(dict.fromkeys(primary)), trunk_row, motorway_row, foot_col)


def place_settlements(frame: _frame.Frame, seed: int, scale: float, lines: Lines) -> list[Settlement]:
    """Towns, villages and hamlets (NL) and villages (BE), in a fixed order.

    The first settlement is the main town; the second the village at the
    car ferry's north landing.
    """
    rng = _frame.rng_for(seed, "settlements")
    placed: list[Settlement] = []
    nl_names = iter(_names(NL_NAMES))
    be_names = iter(_names(BE_NAMES))
    step = STEP_M
    width = frame.width_m
    water_v0 = frame.water_j0 * step
    water_v1 = frame.water_j1 * step
    ri0, ri1, rj0, _ = frame.reserve_steps
    motorway_v = lines.motorway_row * step + 50
    trunk_v = lines.trunk_row * step
    primary_u = np.array(lines.primary_cols) * step
    roundabout: list[tuple[int, int]] = []

    def fits(i: int, j: int, radius: int, kind: str, country: str) -> bool:
        u, v = i * step, j * step
        if u - radius < 300 or u + radius > width - 300:
            return False
        if country == "NL":
            south = v - radius >= frame.border_max_v() + 300 and v + radius <= water_v0 - 300
            # Beyond the estuary: off its shore and 300 m inside the frame.
            north = v - radius >= water_v1 + step and v + radius <= frame.height_m - 300
            if not (south or north):
                return False
            if u - radius <= ri1 * step + 300 and v + radius >= rj0 * step - 300:
                return False
        elif v + radius > frame.border_min_v() - 300 or v - radius < 300:
            return False
        if abs(v - motorway_v) < radius + 350 or abs(v - trunk_v) < radius + 200:
            return False
        if kind == "town" and np.min(np.abs(primary_u - u)) < radius + 600:
            return False
        for ri, rj in roundabout:
            if np.hypot(u - ri * step, v - rj * step) < radius + 300:
                return False
        gap = 600 if kind == "hamlet" else 1200
        for other in placed:
            d = np.hypot(u - other.i * step, v - other.j * step)
            if d < radius + other.radius_m + gap:
                return False
        return True

    def place(kind: str, country: str, radius: int, population: int, on_line_only: bool) -> None:
        if on_line_only:
            ci, cj = np.meshgrid(lines.farm_cols, np.arange(1, frame.n_j - 1), indexing="ij")
        else:
            ci, cj = np.meshgrid(lines.farm_cols, lines.farm_rows, indexing="ij")
        order = rng.permutation(ci.size)
        for k in order:
            i, j = int(ci.flat[k]), int(cj.flat[k])
            if fits(i, j, radius, kind, country):
                name = next(nl_names if country == "NL" else be_names)
                placed.append(Settlement(name, kind, country, i, j, radius, population))
                return

    n_towns = max(1, int(round(scale)))
    for k in range(n_towns):
        if k == 0:
            place("town", "NL", 1100, 15_000, False)
            if not placed:
                raise RuntimeError("demo layout: no room for the main town")
            roundabout.append((lines.primary_cols[0], placed[0].j))
        else:
            radius = int(rng.integers(6, 12)) * 100
            place("town", "NL", radius, int(radius * 11 + rng.integers(-800, 800)), False)
    # The village at the car ferry's north landing, on the primary road.
    north_j = frame.water_j1 + 4
    if north_j + 3 <= frame.n_j - 1:
        placed.insert(1, Settlement(next(nl_names), "village", "NL", lines.primary_cols[0],
                                    north_j, 300, 900))
        # The estuary cuts the north shore off, so villages line its road
        # some 4 km apart.
        for i in lines.farm_cols.tolist():
            shore = [o for o in placed if o.j > frame.water_j1]
            apart = all(abs(i - o.i) * step >= NORTH_SHORE_SPACING_M for o in shore)
            if apart and fits(i, north_j, 300, "village", "NL"):
                placed.append(Settlement(next(nl_names), "village", "NL", i, north_j, 300,
                                         int(rng.integers(800, 1300))))
    for _ in range(int(round(10 * scale))):
        radius = int(rng.integers(3, 7)) * 100
        place("village", "NL", radius, int(radius * 5 + rng.integers(-300, 300)), False)
    for _ in range(int(round(14 * scale))):
        radius = int(rng.integers(1, 3)) * 100
        place("hamlet", "NL", radius, int(rng.integers(60, 250)), True)
    for _ in range(max(1, int(round(1.5 * scale)))):
        radius = int(rng.integers(3, 6)) * 100
        place("village", "BE", radius, int(radius * 5), False)
    return placed


def _names(base: tuple[str, ...]):
    """Endless distinct names: the base list, then numbered repeats."""
    k = 0
    while True:
        round_, idx = divmod(k, len(base))
        yield base[idx] if round_ == 0 else f"{base[idx]} {round_ + 1}"
        k += 1
