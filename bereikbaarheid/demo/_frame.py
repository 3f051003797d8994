"""The demo region's frame: a lattice space in metres, its smooth warp onto RD New, border, water."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

STEP_M = 100
"""Spacing of the road lattice: every road runs along lattice lines."""

# South-west corner of the region in RD New: Zeeuws-Vlaanderen-like, on the
# Belgian border.
ORIGIN_X_M = 30_000.0
ORIGIN_Y_M = 360_000.0
# Region size at scale 1; scale multiplies the area, so each side grows by sqrt(scale).
BASE_WIDTH_M = 20_000.0
BASE_HEIGHT_M = 15_000.0
# The estuary across the north (fixed width) and the road-free nature reserve
# ("verdronken land") against its south shore in the west, big enough that
# its houses lie more than 2 km from any road.
WATER_WIDTH_STEPS = 20
RESERVE_WIDTH_STEPS = 50
RESERVE_HEIGHT_STEPS = 45
# Warp amplitudes (m) and wavelengths (m): gentle curves, gradient well below 1
# so the warp is one-to-one and keeps the lattice network planar.
_WARP_AMPLITUDE_M = (100.0, 35.0)
_WARP_WAVELENGTH_M = (5200.0, 2900.0, 4700.0, 3100.0)


def rng_for(seed: int, part: str) -> np.random.Generator:
    """An independent random stream per part of the generator, fixed by seed."""
    return np.random.default_rng([seed, zlib.crc32(part.encode())])


@dataclass(frozen=True)
class Frame:
    """Lattice space ``(u, v)`` in metres, ``0 <= u <= width_m``, ``0 <= v <= height_m``.

    ``to_rd`` warps it smoothly onto RD New (EPSG:28992). Lattice index
    ``(i, j)`` is the point ``(i * STEP_M, j * STEP_M)``.
    """

    width_m: int
    height_m: int
    phases: tuple[float, ...]
    border_phases: tuple[float, float]
    water_j0: int
    water_j1: int

    @classmethod
    def make(cls, seed: int, scale: float) -> "Frame":
        """The frame for a seed and scale (area grows linearly with scale)."""
        rng = rng_for(seed, "frame")
        side = np.sqrt(scale)
        width = int(round(BASE_WIDTH_M * side / STEP_M)) * STEP_M
        height = int(round(BASE_HEIGHT_M * side / STEP_M)) * STEP_M
        water_j0 = int(round(0.8 * height / STEP_M))
        return cls(
            width_m=width,
            height_m=height,
            phases=tuple(float(p) for p in rng.uniform(0, 2 * np.pi, 4)),
            border_phases=tuple(float(p) for p in rng.uniform(0, 2 * np.pi, 2)),
            water_j0=water_j0,
            water_j1=water_j0 + WATER_WIDTH_STEPS,
        )

    @property
    def n_i(self) -> int:
        """Lattice points along u."""
        return self.width_m // STEP_M + 1

    @property
    def n_j(self) -> int:
        """Lattice points along v."""
        return self.height_m // STEP_M + 1

    @property
    def reserve_steps(self) -> tuple[int, int, int, int]:
        """Nature reserve as lattice index box ``(i0, i1, j0, j1)``, inclusive."""
        return 0, RESERVE_WIDTH_STEPS, self.water_j0 - RESERVE_HEIGHT_STEPS, self.water_j0

    def warp(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Displacement ``(dx, dy)`` in metres at lattice points."""
        a1, a2 = _WARP_AMPLITUDE_M
        l1, l2, l3, l4 = _WARP_WAVELENGTH_M
        p1, p2, p3, p4 = self.phases
        tau = 2 * np.pi
        dx = a1 * np.sin(tau * v / l1 + p1) + a2 * np.sin(tau * (u + 0.7 * v) / l2 + p2)
        dy = a1 * np.sin(tau * u / l3 + p3) + a2 * np.sin(tau * (0.6 * u - v) / l4 + p4)
        return dx, dy

    def to_rd(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """RD New ``(x, y)`` of lattice-space points."""
        u = np.asarray(u, dtype=float)
        v = np.asarray(v, dtype=float)
        dx, dy = self.warp(u, v)
        return ORIGIN_X_M + u + dx, ORIGIN_Y_M + v + dy

    def from_rd(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lattice-space ``(u, v)`` of RD points (fixed-point inverse of ``to_rd``)."""
        bx = np.asarray(x, dtype=float) - ORIGIN_X_M
        by = np.asarray(y, dtype=float) - ORIGIN_Y_M
        u, v = bx.copy(), by.copy()
        # The warp's gradient is below 0.3, so each round shrinks the error
        # at least threefold: 20 rounds reach far below a millimetre.
        for _ in range(20):
            dx, dy = self.warp(u, v)
            u, v = bx - dx, by - dy
        return u, v

    def border_v(self, u: np.ndarray) -> np.ndarray:
        """Lattice v of the national border (Belgium lies south of it)."""
        p1, p2 = self.border_phases
        u = np.asarray(u, dtype=float)
        return (0.2 * self.height_m + 250.0 * np.sin(2 * np.pi * u / 6100.0 + p1)
                + 120.0 * np.sin(2 * np.pi * u / 2300.0 + p2))

    def border_max_v(self) -> float:
        """Highest lattice v the border reaches."""
        return 0.2 * self.height_m + 370.0

    def border_min_v(self) -> float:
        """Lowest lattice v the border reaches."""
        return 0.2 * self.height_m - 370.0

    def netherlands_outline(self, spacing_m: float = 50.0) -> np.ndarray:
        """RD ring (closed, ``(n, 2)``) of the Dutch part: north of the border, inside the frame."""
        w, h = float(self.width_m), float(self.height_m)
        n_w = int(np.ceil(w / spacing_m))
        south_u = np.linspace(0.0, w, n_w + 1)
        south_v = self.border_v(south_u)
        east_v = np.linspace(south_v[-1], h, int(np.ceil((h - south_v[-1]) / spacing_m)) + 1)[1:]
        north_u = np.linspace(w, 0.0, n_w + 1)[1:]
        west_v = np.linspace(h, south_v[0], int(np.ceil((h - south_v[0]) / spacing_m)) + 1)[1:]
        u = np.concatenate([south_u, np.full(len(east_v), w), north_u, np.zeros(len(west_v))])
        v = np.concatenate([south_v, east_v, np.full(len(north_u), h), west_v])
        x, y = self.to_rd(u, v)
        return np.column_stack([x, y])
