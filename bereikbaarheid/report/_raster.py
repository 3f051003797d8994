"""Grid cells as a raster image: cells placed by their centroids, classes coloured by a palette.

A map of the cells is a small array of class indices, one pixel per cell,
encoded as a palette PNG: a national profile (887,800 cells of 100 m) fits
in about 3,000 pixels per side and a few hundred kilobytes, which a browser
draws at once. Larger grids are reduced by whole blocks of cells; a block
takes the *worst* class among its cells (by the palette's ``rank``), so a
reduced map never hides a long travel time or a lost one.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
from PIL import Image

BACKGROUND = 255  # no cell: transparent
MAX_PIXELS = 3000

UNREACHABLE_GREY = "#a3a3a3"
NEWLY_UNREACHABLE = "#1a1a1a"
SAME_GREY = "#e2e2e2"
# Differences in minutes (scenario - baseline): <= -5, -5..-1, -1..1, 1..5, >= 5.
CHANGE_EDGES_MIN = (-5.0, -1.0, 1.0, 5.0)


@dataclass(frozen=True)
class Palette:
    """Colours of the classes (index = class) and the rank deciding which
    class a reduced block takes (the highest rank wins)."""

    colours: tuple[str, ...]
    rank: tuple[int, ...]


def time_palette(n_classes: int) -> Palette:
    """Travel-time classes, short (light yellow) to long (dark purple) on
    viridis, then the grey of unlinked or unreachable cells."""
    cmap = mpl.colormaps["viridis"]
    colours = [mpl.colors.to_hex(cmap(v)) for v in np.linspace(0.97, 0.0, n_classes)]
    return Palette(tuple(colours) + (UNREACHABLE_GREY,), tuple(range(n_classes + 1)))


def change_palette() -> Palette:
    """Differences on PuOr (purple faster, orange slower, near-white the
    same), grey for unreachable in both, near-black for newly unreachable."""
    cmap = mpl.colormaps["PuOr"]
    colours = [mpl.colors.to_hex(cmap(v)) for v in (0.95, 0.75, 0.5, 0.28, 0.05)]
    colours[2] = SAME_GREY  # PuOr's middle is near-white: invisible on the page
    # Which class a block shows: the worst change; grey only when nothing else.
    return Palette(tuple(colours) + (UNREACHABLE_GREY, NEWLY_UNREACHABLE),
                   (1, 2, 3, 4, 5, 0, 6))


def share_palette(n_classes: int) -> list[str]:
    """Colours of share classes, low (dark blue) to high (light yellow), on cividis."""
    cmap = mpl.colormaps["cividis"]
    return [mpl.colors.to_hex(cmap(v)) for v in np.linspace(0.0, 1.0, n_classes)]


def time_classes(times_s: np.ndarray, thresholds_min: list[float]) -> np.ndarray:
    """Class per cell: 0 for at most the first threshold, ..., one per
    threshold passed; ``len(thresholds_min) + 1`` for NaN (unlinked or
    nothing reachable). A time equal to a threshold is within it, as the
    summary's ``share_within_{T}min`` counts."""
    times_s = np.asarray(times_s, dtype=np.float64)
    edges_s = np.asarray(thresholds_min, dtype=np.float64) * 60.0
    classes = np.searchsorted(edges_s, times_s, side="left").astype(np.uint8)
    classes[np.isnan(times_s)] = len(edges_s) + 1
    return classes


def change_classes(change_s: np.ndarray, scenario_s: np.ndarray,
                   within_change: np.ndarray | None) -> np.ndarray:
    """Class per cell of a difference map.

    0: at least 5 minutes faster (or newly reachable), 1: 1-5 faster, 2:
    within a minute, 3: 1-5 slower, 4: at least 5 slower, 5: no time in the
    scenario and none to compare with (unreachable or unlinked), 6: newly
    unreachable: no time in the scenario while the baseline met the norm
    (``within_change`` = -1; the folder holds no baseline times beyond that).
    """
    change_min = np.asarray(change_s, dtype=np.float64) / 60.0
    scenario_s = np.asarray(scenario_s, dtype=np.float64)
    edges = np.asarray(CHANGE_EDGES_MIN)
    # <= -5 -> 0, (-5, -1] -> 1, (-1, 1) -> 2, [1, 5) -> 3, >= 5 -> 4
    classes = np.where(change_min <= edges[0], 0,
                       np.where(change_min <= edges[1], 1,
                                np.where(change_min < edges[2], 2,
                                         np.where(change_min < edges[3], 3, 4)))).astype(np.uint8)
    unknown = np.isnan(change_min)
    classes[unknown & ~np.isnan(scenario_s)] = 0  # newly reachable
    lost = unknown & np.isnan(scenario_s)
    classes[lost] = 5
    if within_change is not None:
        classes[lost & (np.asarray(within_change) < 0)] = 6
    return classes


@dataclass(frozen=True)
class Layout:
    """Where each cell lands in the raster.

    ``rows``/``cols`` index the full-resolution grid (row 0 at the north
    edge); the image has ``shape`` pixels of ``factor`` × ``factor`` cells.
    """

    x0: float  # west edge, metres
    y1: float  # north edge, metres
    resolution_m: float
    factor: int
    shape: tuple[int, int]
    rows: np.ndarray
    cols: np.ndarray

    @property
    def pixel_m(self) -> float:
        return self.resolution_m * self.factor

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(west, east, south, north) of the image in metres."""
        width = self.shape[1] * self.pixel_m
        height = self.shape[0] * self.pixel_m
        return self.x0, self.x0 + width, self.y1 - height, self.y1


def layout(x: np.ndarray, y: np.ndarray, resolution_m: float,
           max_pixels: int = MAX_PIXELS) -> Layout:
    """Place cells with centroids ``x``, ``y`` (metres) on a grid of
    ``resolution_m``, reduced by a whole factor to at most ``max_pixels``
    per side."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    half = resolution_m / 2.0
    if len(x) == 0:
        return Layout(0.0, 0.0, resolution_m, 1, (1, 1), np.zeros(0, int), np.zeros(0, int))
    x0 = float(x.min()) - half
    y1 = float(y.max()) + half
    cols = np.rint((x - half - x0) / resolution_m).astype(np.int64)
    rows = np.rint((y1 - half - y) / resolution_m).astype(np.int64)
    full = (int(rows.max()) + 1, int(cols.max()) + 1)
    factor = max(1, math.ceil(max(full) / max_pixels))
    shape = (math.ceil(full[0] / factor), math.ceil(full[1] / factor))
    return Layout(x0, y1, float(resolution_m), factor, shape, rows, cols)


def paint(where: Layout, classes: np.ndarray, palette: Palette) -> np.ndarray:
    """The image of class indices (``BACKGROUND`` where no cell lies); a
    pixel holding several cells takes the class of highest rank."""
    classes = np.asarray(classes, dtype=np.int64)
    rank = np.asarray(palette.rank, dtype=np.int16)
    by_rank = np.argsort(rank).astype(np.uint8)  # rank -> class
    image = np.full(where.shape, -1, dtype=np.int16)
    if where.factor == 1:
        image[where.rows, where.cols] = rank[classes]
    else:
        np.maximum.at(image, (where.rows // where.factor, where.cols // where.factor),
                      rank[classes])
    out = np.full(where.shape, BACKGROUND, dtype=np.uint8)
    painted = image >= 0
    out[painted] = by_rank[image[painted]]
    return out


def _rgb(colour: str) -> tuple[int, int, int]:
    r, g, b = mpl.colors.to_rgb(colour)
    return round(r * 255), round(g * 255), round(b * 255)


def png(image: np.ndarray, colours: tuple[str, ...] | list[str]) -> bytes:
    """A palette PNG of ``image`` (class indices), background transparent."""
    table = [0] * (256 * 3)
    for index, colour in enumerate(colours):
        table[3 * index:3 * index + 3] = _rgb(colour)
    picture = Image.frombytes("P", (image.shape[1], image.shape[0]),
                              np.ascontiguousarray(image).tobytes())
    picture.putpalette(table)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", transparency=BACKGROUND, compress_level=6)
    return buffer.getvalue()


def rgba(image: np.ndarray, colours: tuple[str, ...] | list[str]) -> np.ndarray:
    """``image`` as RGBA bytes for matplotlib, background transparent."""
    table = np.zeros((256, 4), dtype=np.uint8)
    for index, colour in enumerate(colours):
        table[index, :3] = _rgb(colour)
        table[index, 3] = 255
    return table[image]
