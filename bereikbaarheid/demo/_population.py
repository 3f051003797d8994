"""Population of the demo region as CBS publishes it: 100 m and 500 m grid cells."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from . import _frame, _roads, _settlements
from ._frame import ORIGIN_X_M, ORIGIN_Y_M, STEP_M

CELL_M = 100
SECRET = -99997  # CBS "geheim"
NOT_APPLICABLE = -99995
AGE_COLUMNS: tuple[str, ...] = (
    "aantal_inwoners_0_tot_15_jaar", "aantal_inwoners_15_tot_25_jaar",
    "aantal_inwoners_25_tot_45_jaar", "aantal_inwoners_45_tot_65_jaar",
    "aantal_inwoners_65_jaar_en_ouder",
)
COLUMNS: tuple[str, ...] = (
    "aantal_inwoners", "aantal_mannen", "aantal_vrouwen", *AGE_COLUMNS,
    "aantal_woningen", "aantal_part_huishoudens", "stedelijkheid",
)
# Age shares: an ageing countryside; towns a little younger.
AGE_SHARES_RURAL = (0.14, 0.10, 0.20, 0.30, 0.26)
AGE_SHARES_TOWN = (0.16, 0.12, 0.23, 0.27, 0.22)
# CBS urbanity classes from address density (addresses per km2): 1 is
# >= 2500, 5 is < 500.
_URBANITY_BOUNDS = (500.0, 1000.0, 1500.0, 2500.0)
_ADDRESSES_PER_DWELLING = 1.1
# The reserve's houses lie this many lattice steps south of the shore, half
# way into the reserve.
RESERVE_HOUSES_DEPTH_STEPS = 22


@dataclass
class Raster:
    """Raw (unrounded) counts on a full grid of cells, row 0 at the south."""

    x0: float
    y0: float
    cell_m: int
    persons: np.ndarray
    men: np.ndarray
    ages: np.ndarray  # (5, ny, nx)
    dwellings: np.ndarray
    households: np.ndarray


def simulate(frame: _frame.Frame, seed: int, settlements: list[_settlements.Settlement],
             roads: _roads.Roads) -> Raster:
    """Persons, dwellings and households per 100 m cell on the Dutch side."""
    rng = _frame.rng_for(seed, "population")
    x0 = np.floor((ORIGIN_X_M - 300) / 500) * 500
    x1 = np.ceil((ORIGIN_X_M + frame.width_m + 300) / 500) * 500
    y0 = np.floor((ORIGIN_Y_M + frame.border_min_v() - 300) / 500) * 500
    y1 = np.ceil((ORIGIN_Y_M + frame.height_m + 300) / 500) * 500
    nx, ny = int((x1 - x0) // CELL_M), int((y1 - y0) // CELL_M)
    xc = x0 + CELL_M / 2 + CELL_M * np.arange(nx)
    yc = y0 + CELL_M / 2 + CELL_M * np.arange(ny)
    gx, gy = np.meshgrid(xc, yc)
    u, v = frame.from_rd(gx, gy)
    ri1, rj0 = frame.reserve_steps[1], frame.reserve_steps[2]
    # Whole cells on Dutch land: a margin of 110 m covers the half diagonal
    # (71 m) stretched by the warp.
    margin = 110.0
    land = ((u >= margin) & (u <= frame.width_m - margin) & (v <= frame.height_m - margin)
            & (v >= frame.border_v(u) + margin)
            & ~((v > frame.water_j0 * STEP_M - 50) & (v < frame.water_j1 * STEP_M + 50))
            & ~((u < ri1 * STEP_M + 50) & (v > rj0 * STEP_M - 50)))

    expected = np.zeros((ny, nx))
    town_expected = np.zeros((ny, nx))
    for s in settlements:
        if s.country != "NL":
            continue
        cx, cy = frame.to_rd(s.i * STEP_M, s.j * STEP_M)
        reach = 1.1 * s.radius_m
        a0, a1 = np.searchsorted(xc, [cx - reach, cx + reach])
        b0, b1 = np.searchsorted(yc, [cy - reach, cy + reach])
        win = (slice(b0, b1), slice(a0, a1))
        d = np.hypot(gx[win] - cx, gy[win] - cy)
        w = np.exp(-2.0 * (d / s.radius_m) ** 2) * (d <= reach) * land[win]
        w *= rng.lognormal(0.0, 0.3, w.shape)
        if w.sum() > 0:
            share = s.population * w / w.sum()
            expected[win] += share
            if s.kind == "town":
                town_expected[win] += share
    persons = rng.poisson(expected).astype(np.int64)

    def cell_of(points_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        px, py = frame.to_rd(points_m[:, 0], points_m[:, 1])
        return ((py - y0) // CELL_M).astype(np.int64), ((px - x0) // CELL_M).astype(np.int64)

    # Ribbon houses along rural roads and farms at the end of their drives.
    row, col = cell_of(roads.roadside_points)
    pick = (rng.random(row.size) < 0.7) & land[row, col]
    np.add.at(persons, (row[pick], col[pick]), rng.integers(3, 14, int(pick.sum())))
    if roads.farm_points.size:
        row, col = cell_of(roads.farm_points)
        ok = land[row, col]
        np.add.at(persons, (row[ok], col[ok]), rng.integers(3, 10, int(ok.sum())))
    # A few houses deep inside the reserve, more than 2 km from any road.
    house_v = (frame.water_j0 - RESERVE_HOUSES_DEPTH_STEPS) * STEP_M
    houses = np.array([(1500 + 100 * k, house_v) for k in range(3)])
    row, col = cell_of(houses)
    persons[row, col] += rng.integers(6, 13, row.size)

    hh_size = rng.uniform(2.0, 2.6, persons.shape)
    dwellings = np.rint(persons / hh_size).astype(np.int64)
    households = np.minimum(np.rint(persons / rng.uniform(2.1, 2.4, persons.shape)), dwellings)
    households = np.maximum(households, persons > 0).astype(np.int64)
    # Holiday homes behind the dike: dwellings with hardly any inhabitants.
    holiday = np.array([(ri1 * STEP_M + 1500 + 400 * k, frame.water_j0 * STEP_M - 150)
                        for k in range(4)])
    row, col = cell_of(holiday)
    dwellings[row, col] += rng.integers(8, 26, row.size)
    persons[row, col] = np.minimum(persons[row, col], rng.integers(0, 4, row.size))
    households[row, col] = np.minimum(households[row, col], persons[row, col])

    men = rng.binomial(persons, 0.497)
    town = town_expected > 0.5 * np.maximum(expected, 1e-9)
    ages = np.zeros((5, ny, nx), np.int64)
    for mask, shares in ((town, AGE_SHARES_TOWN), (~town, AGE_SHARES_RURAL)):
        sel = mask & (persons > 0)
        ages[:, sel] = rng.multinomial(persons[sel], shares).T
    return Raster(float(x0), float(y0), CELL_M, persons, men, ages, dwellings, households)


def aggregate(raster: Raster, factor: int) -> Raster:
    """The same counts on cells ``factor`` times larger (exact sums of the raw counts)."""
    ny, nx = raster.persons.shape

    def block_sum(a: np.ndarray) -> np.ndarray:
        lead = a.shape[:-2]
        return a.reshape(*lead, ny // factor, factor, nx // factor, factor).sum(axis=(-3, -1))

    return Raster(raster.x0, raster.y0, raster.cell_m * factor, block_sum(raster.persons),
                  block_sum(raster.men), block_sum(raster.ages), block_sum(raster.dwellings),
                  block_sum(raster.households))


def cbs_table(raster: Raster, seed: int) -> gpd.GeoDataFrame:
    """Published cells as CBS writes them: rounded to fives, small counts suppressed.

    A cell is published with at least 5 inhabitants or 5 dwellings. Counts
    are rounded to multiples of 5. With fewer than 5 inhabitants the
    inhabitant and household counts are secret (-99997); with fewer than 10
    the breakdowns by sex and age are. A few age figures carry -99995.
    """
    rng = _frame.rng_for(seed, f"publish{raster.cell_m}")
    size = raster.cell_m
    cells_per_km2 = 1e6 / size ** 2
    window = max(3, int(round(2000 / size)) | 1)
    density = ndimage.uniform_filter(raster.dwellings.astype(float), size=window,
                                     mode="constant") * cells_per_km2 * _ADDRESSES_PER_DWELLING
    urbanity = 5 - np.digitize(density, _URBANITY_BOUNDS)

    published = (raster.persons >= 5) | (raster.dwellings >= 5)
    row, col = np.nonzero(published)
    persons = raster.persons[row, col]
    few = persons < 10
    none = persons < 5

    def rounded(a: np.ndarray, secret: np.ndarray) -> np.ndarray:
        out = (a + 2) // 5 * 5
        return np.where(secret, SECRET, out).astype(np.int64)

    men = raster.men[row, col]
    data = {
        "aantal_inwoners": rounded(persons, none),
        "aantal_mannen": rounded(men, few),
        "aantal_vrouwen": rounded(persons - men, few),
    }
    for k, name in enumerate(AGE_COLUMNS):
        data[name] = rounded(raster.ages[k][row, col], few)
    odd = np.flatnonzero(~few)
    if odd.size:
        n_odd = max(2, odd.size // 200)
        chosen = rng.choice(odd, size=min(n_odd, odd.size), replace=False)
        bands = rng.integers(0, len(AGE_COLUMNS), chosen.size)
        for cell, band in zip(chosen.tolist(), bands.tolist()):
            data[AGE_COLUMNS[band]][cell] = NOT_APPLICABLE
    data["aantal_woningen"] = rounded(raster.dwellings[row, col], np.zeros_like(none))
    data["aantal_part_huishoudens"] = rounded(raster.households[row, col], none)
    data["stedelijkheid"] = urbanity[row, col].astype(np.int64)

    x_ll = (raster.x0 + size * col).astype(np.int64)
    y_ll = (raster.y0 + size * row).astype(np.int64)
    ids = [f"E{x // 100:04d}N{y // 100:04d}" for x, y in zip(x_ll.tolist(), y_ll.tolist())]
    frame = pd.DataFrame({f"crs28992res{size}m": ids, **data})
    geometry = shapely.box(x_ll, y_ll, x_ll + size, y_ll + size)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:28992")
