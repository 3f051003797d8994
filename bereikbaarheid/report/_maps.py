"""The report's maps as inline SVG: a raster of the cells, municipality borders, facilities."""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

from . import _raster
from ._i18n import Texts

SHARE_EDGES = (0.5, 0.7, 0.8, 0.9, 0.95)


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@dataclass(frozen=True)
class Frame:
    """What every map of a profile shares: the placement of the image, the
    view box in RD metres (y flipped: SVG's y grows downwards) and the
    municipality borders as SVG paths."""

    where: _raster.Layout
    view_box: str
    borders: list[tuple[str, str]]  # (name, path data)
    facility_r: float
    paths: dict[str, str]  # path data by area code


def bounds(where: _raster.Layout, shapes) -> tuple[float, float, float, float]:
    """(west, east, south, north) of the cells and the municipalities together."""
    west, east, south, north = where.extent
    if shapes is not None and len(shapes):
        x0, y0, x1, y1 = (float(v) for v in shapes.total_bounds)
        if all(np.isfinite([x0, y0, x1, y1])):
            west, east, south, north = min(west, x0), max(east, x1), min(south, y0), max(north, y1)
    return west, east, south, north


def frame(where: _raster.Layout, shapes) -> Frame:
    """The shared frame; ``shapes`` is the municipality rows of areas.parquet or None."""
    west, east, south, north = bounds(where, shapes)
    pad = 0.02 * max(east - west, north - south)
    view_box = (f"{west - pad:.0f} {-(north + pad):.0f} {east - west + 2 * pad:.0f} "
                f"{north - south + 2 * pad:.0f}")
    borders, paths = [], {}
    if shapes is not None:
        for code, name, geometry in zip(shapes["area_code"].astype(str),
                                        shapes["area_name"].astype(str), shapes.geometry):
            paths[code] = svg_path(geometry, where.pixel_m)
            borders.append((name, paths[code]))
    extent = max(east - west, north - south)
    # Smaller symbols on a national map, where they would hide the cells.
    r = extent / 320.0 * min(1.0, max(40_000.0 / extent, 0.3))
    return Frame(where, view_box, borders, r, paths)


def simplified(geometry, tolerance_m: float):
    """The shape simplified to about a pixel (keeping it valid)."""
    if geometry is None or geometry.is_empty:
        return geometry
    return geometry.simplify(tolerance_m, preserve_topology=True)


def svg_path(geometry, tolerance_m: float) -> str:
    """SVG path data of a (multi)polygon in metres, y flipped, whole metres."""
    geometry = simplified(geometry, tolerance_m)
    if geometry is None or geometry.is_empty:
        return ""
    parts = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        if not hasattr(polygon, "exterior"):
            continue
        for ring in [polygon.exterior, *polygon.interiors]:
            xy = np.rint(np.asarray(ring.coords)[:, :2]).astype(np.int64)
            if len(xy) < 3:
                continue
            points = " ".join(f"{x} {-y}" for x, y in xy[:-1])
            parts.append(f"M{points}Z")
    return "".join(parts)


def _image(where: _raster.Layout, href: str) -> str:
    west, east, south, north = where.extent
    return (f'<image class="cells" href="{href}" x="{west:.0f}" y="{-north:.0f}" '
            f'width="{east - west:.0f}" height="{north - south:.0f}" '
            'preserveAspectRatio="none"/>')


def _borders(shared: Frame) -> str:
    return "".join(f'<path class="border" d="{d}"><title>{escape(name)}</title></path>'
                   for name, d in shared.borders if d)


def _facilities(points: pd.DataFrame | None, r: float) -> str:
    if points is None:
        return ""
    return "".join(
        f'<circle class="facility" cx="{x:.0f}" cy="{-y:.0f}" r="{r:.0f}">'
        f'<title>{escape(str(name))}</title></circle>'
        for name, x, y in zip(points["name"].fillna(points["facility_id"]), points["x"],
                              points["y"]))


# Residents pushed beyond the norm by a closure: the class edges and colours.
CLOSURE_EDGES = (1, 50, 250, 1000)
CLOSURE_COLOURS = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")


def closure_section(*, shared: Frame, table: pd.DataFrame, mode: str, ftype: str,
                    caption: str, corner: str, texts: Texts) -> str:
    """Every closed facility of ``ftype`` on the map: coloured by the residents
    it pushes beyond the norm by ``mode``, sized by the extra person-minutes."""
    rows = table[table["type"] == ftype]
    pushed = rows[f"{mode}_population_pushed_beyond_norm"].to_numpy(np.float64)
    extra = np.nan_to_num(rows[f"{mode}_extra_person_min"].to_numpy(np.float64))
    top = extra.max() if len(extra) and extra.max() > 0 else 1.0
    radius = shared.facility_r * (1.0 + 3.0 * np.sqrt(np.clip(extra, 0, None) / top))
    circles = []
    # The largest first, so that the small ones stay visible on top.
    for i in np.argsort(-radius, kind="stable"):
        row = rows.iloc[i]
        colour = CLOSURE_COLOURS[int(np.searchsorted(CLOSURE_EDGES, np.nan_to_num(pushed[i]),
                                                     side="right"))]
        name = str(row["name"]) if pd.notna(row["name"]) else str(row["facility_id"])
        label = (f"{int(row['rank'])}. {name}: {texts.count(pushed[i])} "
                 f"{texts('legend.closure_beyond')}, {texts.count(extra[i])} "
                 f"{texts('col.extra_min', mode=texts.mode_name(mode))}")
        circles.append(
            f'<circle class="closure" cx="{row["x"]:.0f}" cy="{-row["y"]:.0f}" '
            f'r="{radius[i]:.0f}" fill="{colour}" data-rank="{int(row["rank"])}" '
            f'data-facility="{escape(str(row["facility_id"]))}"><title>{escape(label)}'
            '</title></circle>')
    labels = ["0"] + [f"{a:,}–{b - 1:,}" for a, b in itertools.pairwise(CLOSURE_EDGES)]
    labels.append(f"{CLOSURE_EDGES[-1]:,}+")
    legend = legend_html(texts("legend.closure_beyond"), list(zip(CLOSURE_COLOURS, labels)),
                         f'<li>{escape(texts("legend.closure_size"))}</li>')
    return (
        f'<section class="closures-map" id="closures-{ftype}" data-type="{escape(ftype)}" '
        f'data-mode="{mode}"><h3>{escape(caption)}</h3>'
        '<div class="map-body"><div class="map-frame">'
        f'<svg class="closure-svg" viewBox="{shared.view_box}" role="img" '
        f'aria-label="{escape(caption)}"><g class="borders">{_borders(shared)}</g>'
        f'<g class="closures">{"".join(circles)}</g></svg>'
        f'<p class="map-corner">{escape(corner)}</p></div>{legend}</div></section>')


def legend_html(title: str, entries: list[tuple[str, str]], extra: str = "") -> str:
    """The legend: a title, a swatch per class, then symbols (``extra``)."""
    items = "".join(f'<li><span class="swatch" style="background:{colour}"></span>'
                    f'{escape(label)}</li>' for colour, label in entries)
    return (f'<div class="legend"><p class="legend-title">{escape(title)}</p>'
            f'<ul>{items}{extra}</ul></div>')


def symbols_html(texts: Texts, facility_label: str | None, borders: bool) -> str:
    out = ""
    if facility_label is not None:
        out += f'<li><span class="symbol-facility"></span>{escape(facility_label)}</li>'
    if borders:
        out += f'<li><span class="symbol-border"></span>{escape(texts("legend.border"))}</li>'
    return out


def time_legend(thresholds_min: list[float], texts: Texts) -> list[tuple[str, str]]:
    """(colour, label) per travel-time class: 0–5 min, ..., 30+ min, unreachable."""
    palette = _raster.time_palette(len(thresholds_min) + 1)
    edges = [0.0, *thresholds_min]
    unit = texts("unit.min")
    labels = [f"{texts.number(a, 0)}–{texts.number(b, 0)} {unit}"
              for a, b in itertools.pairwise(edges)]
    labels.append(f"{texts.number(edges[-1], 0)}+ {unit}")
    labels.append(texts("legend.unreachable"))
    return list(zip(palette.colours, labels))


def change_legend(texts: Texts) -> list[tuple[str, str]]:
    """(colour, label) per difference class."""
    palette = _raster.change_palette()
    unit = texts("unit.min")
    n = texts.number
    e = _raster.CHANGE_EDGES_MIN
    labels = [(f"≤ {n(e[0], 0)} {unit}: {texts('legend.gain')} "
               f"({texts('legend.newly_reachable')})"),
              f"{n(e[0], 0)} … {n(e[1], 0)} {unit}: {texts('legend.gain')}",
              f"{n(e[1], 0)} … {n(e[2], 0)} {unit}: {texts('legend.same')}",
              f"{n(e[2], 0)} … {n(e[3], 0)} {unit}: {texts('legend.loss')}",
              f"≥ {n(e[3], 0)} {unit}: {texts('legend.loss')}",
              texts("legend.unreachable"),
              texts("legend.newly_unreachable")]
    return list(zip(palette.colours, labels))


def share_legend(texts: Texts) -> tuple[list[str], list[str]]:
    """Colours and labels of the share classes (< 50 %, 50–70 %, ..., ≥ 95 %)."""
    colours = _raster.share_palette(len(SHARE_EDGES) + 1)
    pct = [texts.number(100 * e, 0) for e in SHARE_EDGES]
    labels = [f"< {pct[0]} %"]
    labels += [f"{a}–{b} %" for a, b in itertools.pairwise(pct)]
    labels.append(f"≥ {pct[-1]} %")
    return colours, labels


def map_section(*, shared: Frame, ftype: str, images: dict[str, str], caption: str,
                legend: str, corner: str, points: pd.DataFrame | None, texts: Texts,
                difference: bool = False) -> str:
    """A map section with a button per mode; ``images`` maps each mode to
    its PNG data URI, the first being shown."""
    modes = list(images)
    active = modes[0]
    buttons = []
    for mode in modes:
        pressed = "true" if mode == active else "false"
        source = "" if mode == active else f' data-src="{images[mode]}"'
        buttons.append(f'<button type="button" class="mode-button" data-mode="{mode}" '
                       f'aria-pressed="{pressed}"{source}>{escape(texts.mode_name(mode))}'
                       '</button>')
    kind = "map difference" if difference else "map"
    anchor = f"{'diff' if difference else 'map'}-{ftype}"
    return (
        f'<section class="{kind}" id="{anchor}" data-type="{escape(ftype)}" '
        f'data-mode="{active}">'
        f'<h3>{escape(caption)}: <span class="mode-name">{escape(texts.mode_name(active))}'
        '</span></h3>'
        f'<div class="toolbar" role="group" aria-label="{escape(texts("map.modes"))}">'
        f'{"".join(buttons)}'
        f'<button type="button" class="reset-button">{escape(texts("map.reset"))}</button>'
        '</div><div class="map-body"><div class="map-frame">'
        f'<svg class="map-svg" viewBox="{shared.view_box}" '
        f'data-r="{shared.facility_r:.0f}" role="img" aria-label="{escape(caption)}">'
        f'{_image(shared.where, images[active])}'
        f'<g class="borders">{_borders(shared)}</g>'
        f'<g class="facilities">{_facilities(points, shared.facility_r)}</g></svg>'
        f'<p class="map-corner">{escape(corner)}</p></div>'
        f'{legend}</div></section>')


def choropleth_section(*, shared: Frame, shapes, ftype: str, shares: pd.DataFrame,
                       caption: str, corner: str, texts: Texts) -> str:
    """Municipalities coloured by the share within the norm, a button per
    mode (``shares``: one row per municipality code, a column per mode)."""
    colours, labels = share_legend(texts)
    modes = list(shares.columns)
    active = modes[0]
    buttons = "".join(
        f'<button type="button" class="area-mode-button" data-mode="{mode}" '
        f'aria-pressed="{"true" if mode == active else "false"}">'
        f'{escape(texts.mode_name(mode))}</button>' for mode in modes)
    paths = []
    for code, name, geometry in zip(shapes["area_code"].astype(str),
                                     shapes["area_name"].astype(str), shapes.geometry):
        d = shared.paths.get(code) or svg_path(geometry, shared.where.pixel_m)
        values = shares.loc[code] if code in shares.index else pd.Series(dtype=float)
        attributes = "".join(
            f' data-share-{mode}="{values[mode]:.6f}"' for mode in modes
            if mode in values and np.isfinite(values[mode]))
        labels_by_mode = "".join(
            f' data-label-{mode}="{escape(name)}: {escape(texts.percent(values.get(mode)))}"'
            for mode in modes)
        share = values.get(active, np.nan)
        fill = _share_colour(share, colours)
        paths.append(f'<path class="area" d="{d}" data-code="{escape(code)}" fill="{fill}"'
                     f'{attributes}{labels_by_mode}><title>{escape(name)}: '
                     f'{escape(texts.percent(share))}</title></path>')
    legend = legend_html(texts("legend.share"), list(zip(colours, labels)))
    edges = ",".join(f"{e}" for e in SHARE_EDGES)
    return (
        f'<section class="choropleth" id="choropleth-{ftype}" data-type="{escape(ftype)}" '
        f'data-mode="{active}" data-edges="{edges}" data-colours="{",".join(colours)}" '
        f'data-missing="{_raster.UNREACHABLE_GREY}">'
        f'<h3>{escape(caption)}: <span class="mode-name">{escape(texts.mode_name(active))}'
        '</span></h3>'
        f'<div class="toolbar" role="group" aria-label="{escape(texts("map.modes"))}">'
        f'{buttons}<button type="button" class="reset-button">{escape(texts("map.reset"))}'
        '</button></div><div class="map-body"><div class="map-frame">'
        f'<svg class="area-svg" viewBox="{shared.view_box}" '
        f'role="img" aria-label="{escape(caption)}">{"".join(paths)}</svg>'
        f'<p class="map-corner">{escape(corner)}</p></div>{legend}</div></section>')


def _share_colour(share: float, colours: list[str]) -> str:
    if share is None or not np.isfinite(share):
        return _raster.UNREACHABLE_GREY
    return colours[int(np.searchsorted(np.asarray(SHARE_EDGES), share, side="right"))]
