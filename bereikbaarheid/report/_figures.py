"""Static figures for memos (matplotlib, Agg, 150 dpi): maps, choropleths and charts."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from . import _data, _raster
from ._i18n import Texts

DPI = 150
# Okabe-Ito: told apart with every common colour-vision deficiency.
MODE_COLOURS = {"walk": "#0072B2", "bike": "#009E73", "car": "#D55E00", "pt": "#CC79A7"}
GROUP_COLOURS = ("#0072B2", "#E69F00", "#56B4E9", "#009E73")
BORDER_COLOUR = "#262626"


def save(fig: Figure, tight: bool = False) -> bytes:
    """The figure as PNG bytes at 150 dpi (no timestamp, so reruns match);
    ``tight`` trims the margins."""
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    extra = {"bbox_inches": "tight", "pad_inches": 0.15} if tight else {}
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, **extra)
    return buffer.getvalue()


def _figure(width_in: float, height_in: float) -> Figure:
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    return fig


def _style(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def _percent_axis(ax, texts: Texts, axis: str = "y") -> None:
    """Tick labels as percentages in the language's notation."""
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(lambda v, _: f"{texts.number(100 * v, 0)}%")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def _number_axis(ax, texts: Texts, decimals: int, axis: str = "y") -> None:
    """Tick labels with the language's decimal sign."""
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(lambda v, _: texts.number(v, decimals))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def border_lines(shapes) -> list[np.ndarray]:
    """The rings of every municipality shape as (n, 2) coordinate arrays."""
    lines: list[np.ndarray] = []
    if shapes is None:
        return lines
    for geometry in shapes:
        if geometry is None or geometry.is_empty:
            continue
        polygons = getattr(geometry, "geoms", [geometry])
        for polygon in polygons:
            rings = [polygon.exterior, *polygon.interiors] if hasattr(polygon, "exterior") \
                else [polygon]
            lines.extend(np.asarray(ring.coords)[:, :2] for ring in rings)
    return lines


def map_figure(image: np.ndarray, colours, where: _raster.Layout,
               bounds: tuple[float, float, float, float], legend: list[tuple[str, str]],
               legend_title: str, title: str, corner: str, borders: list[np.ndarray],
               facilities: pd.DataFrame | None, facility_label: str, texts: Texts) -> bytes:
    """A map of the cells with borders, facilities, legend and corner text;
    ``bounds`` (west, east, south, north) is the area shown."""
    west, east, south, north = bounds
    aspect = (north - south) / max(east - west, 1.0)
    width = 9.0
    fig = _figure(width, min(max(width * 0.7 * aspect + 0.8, 3.0), 12.0))
    ax = fig.add_subplot()
    ax.imshow(_raster.rgba(image, colours), extent=where.extent,
              interpolation="nearest", origin="upper")
    if borders:
        ax.add_collection(LineCollection(borders, colors=BORDER_COLOUR, linewidths=0.5))
    handles = [Patch(facecolor=c, edgecolor="none", label=label) for c, label in legend]
    if facilities is not None and len(facilities):
        # Small symbols on a national map, where they would hide the cells.
        scale = min(1.0, max(40_000.0 / max(east - west, north - south), 0.12))
        ax.scatter(facilities["x"], facilities["y"], s=9 * scale, marker="o",
                   facecolor="white", edgecolor="black", linewidths=0.6 * scale ** 0.5,
                   zorder=3)
        handles.append(Line2D([], [], marker="o", linestyle="none", markerfacecolor="white",
                              markeredgecolor="black", markersize=4, label=facility_label))
    if borders:
        handles.append(Line2D([], [], color=BORDER_COLOUR, linewidth=0.8,
                              label=texts("legend.border")))
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, loc="left", fontsize=11)
    ax.legend(handles=handles, title=legend_title, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              fontsize=8, title_fontsize=8.5, frameon=False, alignment="left")
    ax.text(0.0, -0.01, corner, transform=ax.transAxes, fontsize=7, color="#444444",
            va="top", ha="left")
    return save(fig, tight=True)


def choropleth_figure(shapes, values: dict[str, np.ndarray], edges: list[float],
                      colours: list[str], labels: list[str], title: str, texts: Texts,
                      corner: str) -> bytes:
    """One panel per mode: municipalities coloured by their share within the norm."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    modes = list(values)
    west, south, east, north = shapes.total_bounds
    aspect = (north - south) / max(east - west, 1.0)
    fig = _figure(3.4 * len(modes) + 1.8, min(max(3.4 * aspect + 1.0, 2.5), 9.0))
    axes = fig.subplots(1, len(modes), squeeze=False)[0]
    paths = [_shape_path(geometry, MplPath) for geometry in shapes.geometry]
    for ax, mode in zip(axes, modes):
        share = values[mode]
        index = np.searchsorted(np.asarray(edges), share, side="right")
        face = [colours[i] if np.isfinite(s) else _raster.UNREACHABLE_GREY
                for i, s in zip(index, share)]
        patches = [PathPatch(p) for p in paths]
        ax.add_collection(PatchCollection(patches, facecolors=face, edgecolors=BORDER_COLOUR,
                                          linewidths=0.4))
        ax.set_xlim(west, east)
        ax.set_ylim(south, north)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(texts.mode_name(mode), fontsize=10)
    handles = [Patch(facecolor=c, edgecolor="none", label=label)
               for c, label in zip(colours, labels)]
    fig.legend(handles=handles, title=texts("legend.share"), loc="outside right upper",
               fontsize=8, title_fontsize=8.5, frameon=False)
    fig.suptitle(title, x=0.01, ha="left", fontsize=11)
    fig.text(0.01, 0.005, corner, fontsize=7, color="#444444", ha="left", va="bottom")
    return save(fig, tight=True)


def _shape_path(geometry, path_class):
    vertices, codes = [], []
    for polygon in getattr(geometry, "geoms", [geometry]):
        for ring in [polygon.exterior, *polygon.interiors]:
            coords = np.asarray(ring.coords)[:, :2]
            vertices.append(coords)
            codes.append([path_class.MOVETO] + [path_class.LINETO] * (len(coords) - 2)
                         + [path_class.CLOSEPOLY])
    if not vertices:
        return path_class(np.zeros((0, 2)))
    return path_class(np.concatenate(vertices), np.concatenate(codes))


def curve_figure(profile: _data.Profile, texts: Texts) -> bytes:
    """Share of residents within t minutes, per type (panels) and mode (lines)."""
    minutes = np.linspace(0.0, 60.0, 241)
    weights = profile.population()
    fig = _figure(3.6 * len(profile.types) + 0.4, 3.8)
    axes = fig.subplots(1, len(profile.types), squeeze=False, sharey=True)[0]
    for ax, ftype in zip(axes, profile.types):
        for mode in profile.modes[ftype]:
            share = _data.cumulative_share(
                profile.cells[f"{ftype}_{mode}_time_s"].to_numpy(), weights, minutes)
            ax.plot(minutes, share, color=MODE_COLOURS.get(mode, "#555555"), linewidth=1.6,
                    label=texts.mode_name(mode))
        norm = profile.norm_min(ftype)
        ax.axvline(norm, color="#333333", linestyle=":", linewidth=1.0)
        ax.text(norm, 0.02, f" {texts('curve.norm')} {texts.number(norm, 0)} "
                f"{texts('unit.min')}", fontsize=7, color="#333333")
        ax.set_title(texts.type_name(ftype), fontsize=10)
        ax.set_xlim(0, 60)
        ax.set_ylim(0, 1.0)
        ax.set_xticks([0, 5, 10, 15, 30, 45, 60])
        ax.set_xlabel(texts("curve.x"), fontsize=8)
        _percent_axis(ax, texts)
        _style(ax)
    axes[0].set_ylabel(texts("curve.y"), fontsize=8)
    axes[-1].legend(fontsize=8, frameon=False, loc="lower right")
    return save(fig)


def capacity_facilities_figure(profile: _data.Profile, texts: Texts) -> bytes | None:
    """Per type: assigned demand against capacity, one point per facility."""
    table = profile.facilities
    if table is None or not {"capacity", "assigned_demand", "type"} <= set(table.columns):
        return None
    types = [t for t in profile.types if (table["type"] == t).any()]
    if not types:
        return None
    fig = _figure(3.6 * len(types) + 0.4, 3.8)
    axes = fig.subplots(1, len(types), squeeze=False)[0]
    for ax, ftype in zip(axes, types):
        rows = table[table["type"] == ftype]
        capacity = rows["capacity"].to_numpy(float)
        demand = rows["assigned_demand"].to_numpy(float)
        over = demand > capacity
        ax.scatter(capacity[~over], demand[~over], s=14, color="#0072B2", alpha=0.8,
                   label=texts("capacity.under"))
        ax.scatter(capacity[over], demand[over], s=14, color="#D55E00", alpha=0.8,
                   marker="^", label=texts("capacity.over"))
        top = float(np.nanmax(np.concatenate([capacity, demand, [1.0]])) * 1.05)
        ax.plot([0, top], [0, top], color="#333333", linestyle=":", linewidth=1.0,
                label=texts("capacity.parity"))
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        unit = _unit(rows, texts)
        ax.set_xlabel(f"{texts('capacity.scatter_x')} ({unit})", fontsize=8)
        ax.set_ylabel(f"{texts('capacity.scatter_y')} ({unit})", fontsize=8)
        ax.set_title(texts.type_name(ftype), fontsize=10)
        _number_axis(ax, texts, 0, "x")
        _number_axis(ax, texts, 0, "y")
        _style(ax)
    axes[0].legend(fontsize=7.5, frameon=False, loc="upper left")
    return save(fig)


def _unit(rows: pd.DataFrame, texts: Texts) -> str:
    for column in ("capacity_unit", "unit"):
        if column in rows.columns and len(rows) and isinstance(rows[column].iloc[0], str):
            unit = rows[column].iloc[0]
            return texts.get(f"unit.{unit}", unit)
    return ""


def capacity_areas_figure(profile: _data.Profile, texts: Texts) -> bytes | None:
    """Per municipality the shortage share per type, and the GP FTE shortfall."""
    table = profile.capacity
    if table is None or "level" not in table.columns:
        return None
    rows = table[table["level"] == "municipality"]
    if rows.empty:
        return None
    names = list(dict.fromkeys(rows["area_name"].astype(str)))
    gp = rows[rows["type"] == "gp"]
    has_fte = "fte_shortfall" in rows.columns and gp["fte_shortfall"].notna().any()
    height = min(max(0.28 * len(names) + 1.4, 3.0), 40.0)
    fig = _figure(10.0 if has_fte else 6.0, height)
    axes = fig.subplots(1, 2 if has_fte else 1, squeeze=False)[0]
    types = [t for t in profile.types if (rows["type"] == t).any()]
    position = np.arange(len(names))
    bar = 0.8 / max(len(types), 1)
    for i, ftype in enumerate(types):
        part = rows[rows["type"] == ftype].set_index("area_name")
        values = part.reindex(names)["gap_share"].to_numpy(float)
        axes[0].barh(position + i * bar, values, height=bar, color=GROUP_COLOURS[i % 4],
                     label=texts.type_name(ftype))
    axes[0].set_yticks(position + bar * (len(types) - 1) / 2, names, fontsize=7)
    axes[0].invert_yaxis()
    axes[0].axvline(0, color="#333333", linewidth=0.8)
    axes[0].set_xlabel(texts("capacity.gap_x"), fontsize=8)
    _percent_axis(axes[0], texts, "x")
    axes[0].legend(fontsize=7.5, frameon=False)
    _style(axes[0])
    if has_fte:
        values = gp.set_index("area_name").reindex(names)["fte_shortfall"].to_numpy(float)
        axes[1].barh(position, values, color=np.where(values > 0, "#D55E00", "#0072B2"))
        axes[1].set_yticks(position, names, fontsize=7)
        axes[1].invert_yaxis()
        axes[1].axvline(0, color="#333333", linewidth=0.8)
        axes[1].set_xlabel(texts("capacity.fte_x"), fontsize=8)
        _number_axis(axes[1], texts, 1, "x")
        _style(axes[1])
    return save(fig)


def equity_figure(profile: _data.Profile, region: pd.DataFrame, texts: Texts) -> bytes:
    """Per type, the share beyond the norm per mode for all, 0-14 and 65+."""
    fig = _figure(3.6 * len(profile.types) + 0.4, 3.6)
    axes = fig.subplots(1, len(profile.types), squeeze=False, sharey=True)[0]
    groups = [("share_beyond_norm", "equity.all"), ("share_0_14_beyond_norm", "equity.young"),
              ("share_65_plus_beyond_norm", "equity.old")]
    for ax, ftype in zip(axes, profile.types):
        rows = region[region["type"] == ftype].set_index("mode").reindex(profile.modes[ftype])
        position = np.arange(len(rows))
        for i, (column, key) in enumerate(groups):
            if column in rows.columns:
                ax.bar(position + (i - 1) * 0.27, rows[column].to_numpy(float), width=0.27,
                       color=GROUP_COLOURS[i], label=texts(key))
        ax.set_xticks(position, [texts.mode_name(m) for m in rows.index], fontsize=8)
        ax.set_title(texts.type_name(ftype), fontsize=10)
        _percent_axis(ax, texts)
        _style(ax)
    axes[0].set_ylabel(texts("equity.y"), fontsize=8)
    axes[-1].legend(fontsize=7.5, frameon=False)
    return save(fig)


def border_figure(profile: _data.Profile, texts: Texts) -> bytes | None:
    """Share within the norm across the border and Dutch only, region rows."""
    table = profile.border
    if table is None or "level" not in table.columns:
        return None
    region = table[table["level"] == "region"]
    if region.empty:
        return None
    types = [t for t in profile.types if (region["type"] == t).any()]
    fig = _figure(3.6 * len(types) + 0.4, 3.4)
    axes = fig.subplots(1, len(types), squeeze=False, sharey=True)[0]
    for ax, ftype in zip(axes, types):
        rows = region[region["type"] == ftype]
        position = np.arange(len(rows))
        ax.bar(position - 0.2, rows["share_within_norm_cross_border"], width=0.4,
               color=GROUP_COLOURS[0], label=texts("border.cross"))
        ax.bar(position + 0.2, rows["share_within_norm_nl_only"], width=0.4,
               color=GROUP_COLOURS[1], label=texts("border.nl"))
        ax.set_xticks(position, [texts.mode_name(m) for m in rows["mode"]], fontsize=8)
        ax.set_title(texts.type_name(ftype), fontsize=10)
        ax.set_ylim(0, 1)
        _percent_axis(ax, texts)
        _style(ax)
    axes[0].set_ylabel(texts("border.y"), fontsize=8)
    axes[-1].legend(fontsize=7.5, frameon=False, loc="lower right")
    return save(fig)


def cbs_figure(profile: _data.Profile, texts: Texts) -> bytes | None:
    """Per type and area, the computed mean distance beside CBS's."""
    table = profile.cbs
    if table is None or table.empty or "mean_engine_m" not in table.columns:
        return None
    types = [t for t in profile.types if (table["type"] == t).any()]
    names = list(dict.fromkeys(table["name"].astype(str)))
    if len(names) > 25:  # a national table: the region rows only
        table = table[table["level"] == "region"]
        names = list(dict.fromkeys(table["name"].astype(str)))
    fig = _figure(3.6 * len(types) + 0.4, 3.6)
    axes = fig.subplots(1, len(types), squeeze=False, sharey=True)[0]
    for ax, ftype in zip(axes, types):
        rows = table[table["type"] == ftype].set_index("name").reindex(names)
        position = np.arange(len(names))
        ax.bar(position - 0.2, rows["mean_engine_m"] / 1000.0, width=0.4,
               color=GROUP_COLOURS[0], label=texts("cbs.engine"))
        ax.bar(position + 0.2, rows["mean_published_m"] / 1000.0, width=0.4,
               color=GROUP_COLOURS[1], label=texts("cbs.published"))
        ax.set_xticks(position, names, fontsize=7, rotation=30, ha="right")
        ax.set_title(texts.type_name(ftype), fontsize=10)
        _style(ax)
    axes[0].set_ylabel(texts("cbs.y"), fontsize=8)
    _number_axis(axes[0], texts, 1)
    axes[-1].legend(fontsize=7.5, frameon=False)
    return save(fig)


def pt_spread_figure(profile: _data.Profile, texts: Texts) -> bytes | None:
    """Per type: the share of residents within t minutes at the lowest,
    middle and highest percentile of the window (the band between them is
    the spread), and the share whose spread is at most x minutes."""
    spreads: dict[str, Any] = {}
    for ftype in profile.types:
        spread = _data.pt_spread_min(profile, ftype)
        if spread is not None:
            spreads[ftype] = spread
    if not spreads:
        return None
    weights_all = profile.population()
    minutes = np.linspace(0.0, 60.0, 241)
    fig = _figure(3.6 * len(spreads) + 0.4, 6.4)
    axes = fig.subplots(2, len(spreads), squeeze=False)
    colour = MODE_COLOURS["pt"]
    for k, (ftype, (values, weights, low, high)) in enumerate(spreads.items()):
        top, bottom = axes[0][k], axes[1][k]
        curves = {p: _data.cumulative_share(
            profile.cells[f"{ftype}_pt_time_p{p}_s"].to_numpy(), weights_all, minutes)
            for p in profile.pt_percentiles[ftype]}
        top.fill_between(minutes, curves[high], curves[low], color=colour, alpha=0.25,
                         linewidth=0, label=f"p{low}–p{high}")
        for p, share in curves.items():
            style = "-" if p not in (low, high) else "--"
            top.plot(minutes, share, color=colour, linestyle=style, linewidth=1.2,
                     label=f"p{p}")
        top.set_title(texts.type_name(ftype), fontsize=10)
        top.set_xlim(0, 60)
        top.set_ylim(0, 1)
        top.set_xticks([0, 5, 10, 15, 30, 45, 60])
        top.set_xlabel(texts("curve.x"), fontsize=8)
        _percent_axis(top, texts)
        _style(top)
        x = np.linspace(0.0, 30.0, 121)
        total = weights.sum()
        order = np.argsort(values, kind="stable")
        cumulative = np.concatenate([[0.0], np.cumsum(weights[order])])
        at_most = cumulative[np.searchsorted(values[order], x, side="right")]
        bottom.plot(x, at_most / total if total > 0 else at_most, color=colour, linewidth=1.6)
        bottom.set_xlim(0, 30)
        bottom.set_ylim(0, 1)
        bottom.set_xlabel(texts("pt.x", high=f"p{high}", low=f"p{low}"), fontsize=8)
        _percent_axis(bottom, texts)
        _style(bottom)
    axes[0][0].set_ylabel(texts("curve.y"), fontsize=8)
    axes[1][0].set_ylabel(texts("pt.y"), fontsize=8)
    axes[0][-1].legend(fontsize=7.5, frameon=False, loc="lower right")
    return save(fig)
