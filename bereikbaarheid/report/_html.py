"""The report page: one self-contained HTML file with every map, chart and table inline."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from html import escape
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from . import _data, _figures, _maps, _raster
from ._i18n import Texts

logger = logging.getLogger(__name__)

Cell = tuple[str, str]  # (text, extra attributes) of a table cell
FIGURE_PIXELS = 1200


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


def table(headers: list[str], rows: list[list[str | Cell]], numeric_from: int = 1,
          css: str = "") -> str:
    """An HTML table; columns from ``numeric_from`` on are right-aligned
    numbers. A cell is its text, or (text, attributes)."""
    head = "".join(f'<th scope="col"{_num(i, numeric_from)}>{escape(h)}</th>'
                   for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            text, attributes = (cell, "") if isinstance(cell, str) else cell
            cells.append(f"<td{_num(i, numeric_from)}{attributes}>{escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<div class="table-wrap"><table class="{css}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _num(index: int, numeric_from: int) -> str:
    return ' class="num"' if index >= numeric_from else ""


class Page:
    """Builds the page of one profile; static figures go to ``save_figure``."""

    def __init__(self, profile: _data.Profile, texts: Texts,
                 save_figure: Callable[[str, bytes], None]):
        self.profile = profile
        self.t = texts
        self.save_figure = save_figure
        self.region_rows = profile.summary[profile.summary["level"] == "region"]
        self.shapes = profile.municipality_shapes()
        cells = profile.cells
        self.where = _raster.layout(cells["x"].to_numpy(), cells["y"].to_numpy(),
                                    profile.resolution_m)
        # The static figures are about 1,300 pixels wide: a finer raster
        # only costs time.
        self.figure_where = _raster.layout(cells["x"].to_numpy(), cells["y"].to_numpy(),
                                           profile.resolution_m, FIGURE_PIXELS)
        self.frame = _maps.frame(self.where, self.shapes)
        self.bounds = _maps.bounds(self.where, self.shapes)
        self.border_lines = _figures.border_lines(
            None if self.shapes is None else
            [_maps.simplified(g, self.where.pixel_m) for g in self.shapes.geometry])
        self.toc: list[tuple[str, str]] = []

    # -- helpers ---------------------------------------------------------

    def figure(self, name: str, png: bytes | None, alt: str) -> str:
        """Save a static chart and embed it."""
        if png is None:
            return ""
        self.save_figure(name, png)
        return (f'<figure><img class="figure" src="{_maps.data_uri(png)}" '
                f'alt="{escape(alt)}"></figure>')

    def section(self, anchor: str, heading: str, body: str) -> str:
        self.toc.append((anchor, heading))
        return f'<section class="part" id="{anchor}"><h2>{escape(heading)}</h2>{body}</section>'

    def source(self, pt: bool) -> str:
        """The sources of a map, for its corner."""
        manifest = self.profile.manifest
        parts = [self.t("source.cbs"), self.t("source.osm")]
        if manifest.get("facility_source") == "file":
            parts.append(self.t("source.facilities_file"))
        if pt:
            parts.append(self.t("source.gtfs", date=self.profile.settings.get("pt_date", "")))
        parts.append(self.t("source.engine", version=self.profile.version))
        return ", ".join(parts)

    def corner(self, pt: bool = False) -> str:
        name = self.profile.region
        if self.profile.scenario:
            name = f"{name} @ {self.profile.scenario.get('name', '')}"
        return self.t("corner", region=name, date=self.profile.date, source=self.source(pt))

    def p(self, key: str, **fields: Any) -> str:
        return f"<p>{escape(self.t(key, **fields))}</p>"

    # -- the page --------------------------------------------------------

    def render(self) -> str:
        profile, t = self.profile, self.t
        scenario = profile.scenario
        if scenario:
            title = t("title_scenario", region=profile.region, scenario=scenario.get("name", ""))
        else:
            title = t("title", region=profile.region)
        parts = []
        if scenario:
            parts.append(self.scenario_part())
        parts += [self.headline_part(), self.maps_part()]
        if scenario and profile.diff_cells is not None:
            parts.append(self.difference_part())
        parts += [self.choropleth_part(), self.curve_part(), self.capacity_part()]
        if profile.closures is not None and not profile.closures.empty:
            parts.append(self.closures_part())
        parts += [self.equity_part(), self.border_part(), self.pt_part()]
        if scenario:
            parts.append(self.diff_tables_part())
        parts.append(self.meta_part())
        toc = "".join(f'<li><a href="#{a}">{escape(h)}</a></li>' for a, h in self.toc)
        subtitle = t("subtitle", date=profile.date, version=profile.version)
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="{t.lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,">'
            f"<title>{escape(title)}</title><style>{_asset('report.css')}</style></head>"
            f'<body data-ready="0"><header><h1>{escape(title)}</h1>'
            f'<p class="subtitle">{escape(subtitle)}</p></header>'
            f'<nav aria-label="{escape(t("contents"))}"><h2>{escape(t("contents"))}</h2>'
            f'<ol>{toc}</ol></nav><main>{"".join(parts)}</main>'
            f'<footer><p>{escape(t("footer", version=profile.version))}</p>'
            f'<p>{escape(t("figures.note"))}</p></footer>'
            f"<script>{_asset('report.js')}</script></body></html>\n")

    def scenario_part(self) -> str:
        t, scenario = self.t, self.profile.scenario or {}
        changes = "".join(f"<li>{escape(str(c))}</li>" for c in scenario.get("changes") or [])
        body = (
            '<dl class="facts">'
            f'<dt>{escape(t("scenario.name"))}</dt><dd>{escape(str(scenario.get("name", "")))}'
            f'</dd><dt>{escape(t("scenario.description"))}</dt>'
            f'<dd>{escape(str(scenario.get("description") or ""))}</dd>'
            f'<dt>{escape(t("scenario.changes"))}</dt><dd><ul>{changes}</ul></dd>'
            f'<dt>{escape(t("scenario.baseline"))}</dt>'
            f'<dd>{escape(str(scenario.get("baseline") or ""))}</dd></dl>')
        return self.section("scenario", t("scenario.heading"), body)

    def headline_part(self) -> str:
        t, profile = self.t, self.profile
        rows = []
        for ftype in profile.types:
            for mode in profile.modes[ftype]:
                match = self.region_rows[(self.region_rows["type"] == ftype)
                                         & (self.region_rows["mode"] == mode)]
                if match.empty:
                    continue
                row = match.iloc[0]
                where = f' data-type="{ftype}" data-mode="{mode}"'

                def stat(name: str, text: str, where: str = where) -> Cell:
                    return text, f' data-stat="{name}"{where}'

                beyond = row["share_beyond_norm"]
                rows.append([
                    t.type_name(ftype), t.mode_name(mode),
                    t.number(profile.norm_min(ftype), 0),
                    stat("median", t.minutes(row["median_time_s"])),
                    stat("p90", t.minutes(row["p90_time_s"])),
                    stat("within_norm", t.percent(1.0 - beyond)),
                    stat("beyond_all", t.count(beyond * row["population"])),
                    stat("beyond_0_14", t.count(row.get("share_0_14_beyond_norm", np.nan)
                                                * row.get("population_0_14", np.nan))),
                    stat("beyond_65", t.count(row.get("share_65_plus_beyond_norm", np.nan)
                                              * row.get("population_65_plus", np.nan))),
                ])
        headers = [t("col.type"), t("col.mode"), t("col.norm"), t("col.median"), t("col.p90"),
                   t("col.within_norm"), t("col.beyond_all"), t("col.beyond_0_14"),
                   t("col.beyond_65")]
        body = (self.p("headline.intro", region=profile.region)
                + table(headers, rows, numeric_from=2, css="headline"))
        return self.section("headline", t("headline.heading"), body)

    def maps_part(self) -> str:
        t, profile = self.t, self.profile
        thresholds = profile.thresholds_min
        palette = _raster.time_palette(len(thresholds) + 1)
        legend_entries = _maps.time_legend(thresholds, t)
        aggregated = ""
        if self.where.factor > 1:
            aggregated = t("maps.aggregated", factor=self.where.factor,
                           pixel_m=t.number(self.where.pixel_m, 0))
        notes = [self.p("maps.intro", cell_m=t.number(profile.resolution_m, 0),
                        aggregated=aggregated)]
        if self.shapes is None:
            notes.append(f'<p class="note">{escape(t("map.no_borders"))}</p>')
        if profile.facility_points(profile.types[0] if profile.types else "") is None:
            notes.append(f'<p class="note">{escape(t("map.no_facilities"))}</p>')
        sections = []
        for ftype in profile.types:
            points = profile.facility_points(ftype)
            facility_label = t("legend.facility", type=t.type_name(ftype)) \
                if points is not None else None
            images = {}
            for mode in profile.modes[ftype]:
                classes = _raster.time_classes(
                    profile.cells[f"{ftype}_{mode}_time_s"].to_numpy(), thresholds)
                image = _raster.paint(self.where, classes, palette)
                images[mode] = _maps.data_uri(_raster.png(image, palette.colours))
                caption = t("map.caption", type=t.type_name(ftype))
                self.save_figure(f"map_{ftype}_{mode}.png", _figures.map_figure(
                    _raster.paint(self.figure_where, classes, palette), palette.colours,
                    self.figure_where, self.bounds, legend_entries,
                    t("legend.time"),
                    f"{caption}: {t.mode_name(mode)}", self.corner(mode == "pt"),
                    self.border_lines, points, facility_label or "", t))
            legend = _maps.legend_html(t("legend.time"), legend_entries, _maps.symbols_html(
                t, facility_label, self.shapes is not None))
            sections.append(_maps.map_section(
                shared=self.frame, ftype=ftype, images=images,
                caption=t("map.caption", type=t.type_name(ftype)), legend=legend,
                corner=self.corner("pt" in images), points=points, texts=t))
        notes.append(f'<p class="note">{escape(t("figure.maps_note"))}</p>')
        return self.section("maps", t("maps.heading"), "".join(notes + sections))

    def difference_part(self) -> str:
        t, profile = self.t, self.profile
        diff = profile.diff_cells
        where = _raster.layout(diff["x"].to_numpy(), diff["y"].to_numpy(), profile.resolution_m)
        figure_where = _raster.layout(diff["x"].to_numpy(), diff["y"].to_numpy(),
                                      profile.resolution_m, FIGURE_PIXELS)
        shared = _maps.frame(where, self.shapes)
        palette = _raster.change_palette()
        entries = _maps.change_legend(t)
        sections = []
        for ftype in profile.types:
            points = profile.facility_points(ftype)
            facility_label = t("legend.facility", type=t.type_name(ftype)) \
                if points is not None else None
            images = {}
            for mode in profile.modes[ftype]:
                column = f"{ftype}_{mode}_time_change_s"
                if column not in diff.columns:
                    continue
                within = diff.get(f"{ftype}_{mode}_within_norm_change")
                classes = _raster.change_classes(
                    diff[column].to_numpy(), diff[f"{ftype}_{mode}_time_s"].to_numpy(),
                    None if within is None else within.to_numpy())
                image = _raster.paint(where, classes, palette)
                images[mode] = _maps.data_uri(_raster.png(image, palette.colours))
                caption = t("diff.caption", type=t.type_name(ftype))
                self.save_figure(f"diff_{ftype}_{mode}.png", _figures.map_figure(
                    _raster.paint(figure_where, classes, palette), palette.colours,
                    figure_where, _maps.bounds(where, self.shapes), entries,
                    t("legend.change"),
                    f"{caption}: {t.mode_name(mode)}", self.corner(mode == "pt"),
                    self.border_lines, points, facility_label or "", t))
            if not images:
                continue
            legend = _maps.legend_html(t("legend.change"), entries, _maps.symbols_html(
                t, facility_label, self.shapes is not None))
            sections.append(_maps.map_section(
                shared=shared, ftype=ftype, images=images,
                caption=t("diff.caption", type=t.type_name(ftype)), legend=legend,
                corner=self.corner("pt" in images), points=points, texts=t, difference=True))
        return self.section("difference", t("diff.heading"),
                            self.p("diff.intro") + "".join(sections))

    def shares_by_municipality(self, ftype: str) -> pd.DataFrame:
        """Share within the norm per municipality code (rows) and mode (columns)."""
        rows = self.profile.summary
        rows = rows[(rows["level"] == "municipality") & (rows["type"] == ftype)]
        table_ = rows.pivot_table(index="area_code", columns="mode",
                                  values="share_beyond_norm", aggfunc="first", dropna=False)
        modes = [m for m in self.profile.modes[ftype] if m in table_.columns]
        return 1.0 - table_.loc[:, modes]

    def choropleth_part(self) -> str:
        t, profile = self.t, self.profile
        body = [self.p("choro.intro")]
        colours, labels = _maps.share_legend(t)
        for ftype in profile.types:
            shares = self.shares_by_municipality(ftype)
            caption = t("choro.caption", type=t.type_name(ftype),
                        norm=t.number(profile.norm_min(ftype), 0))
            if self.shapes is not None and len(shares.columns):
                body.append(_maps.choropleth_section(
                    shared=self.frame, shapes=self.shapes, ftype=ftype, shares=shares,
                    caption=caption, corner=self.corner(), texts=t))
                ordered = shares.reindex(self.shapes["area_code"].astype(str))
                values = {m: ordered[m].to_numpy(float) for m in shares.columns}
                self.save_figure(f"choropleth_{ftype}.png", _figures.choropleth_figure(
                    self.shapes, values, list(_maps.SHARE_EDGES), colours, labels, caption,
                    t, self.corner()))
        if self.shapes is None:
            body.append(f'<p class="note">{escape(t("choro.no_areas"))}</p>')
        body.append(self.municipality_table())
        return self.section("choropleth", t("choro.heading"), "".join(body))

    def municipality_table(self) -> str:
        t, profile = self.t, self.profile
        rows = profile.summary[profile.summary["level"] == "municipality"]
        names = rows.drop_duplicates("area_code").set_index("area_code")["area_name"]
        columns = [(f, m) for f in profile.types for m in profile.modes[f]]
        shares = {f: self.shares_by_municipality(f) for f in profile.types}
        lines = []
        for code, name in names.items():
            line = [f"{name} ({code})"]
            for ftype, mode in columns:
                value = shares[ftype].get(mode, pd.Series(dtype=float)).get(code, np.nan)
                line.append(t.percent(value))
            lines.append(line)
        headers = [t("col.municipality")] + [f"{t.type_name(f)}, {t.mode_name(m)}"
                                             for f, m in columns]
        return (f'<details><summary>{escape(t("choro.table"))}</summary>'
                f'{table(headers, lines)}</details>')

    def curve_part(self) -> str:
        t = self.t
        png = _figures.curve_figure(self.profile, t)
        return self.section("curve", t("curve.heading"),
                            self.p("curve.intro") + self.figure("cumulative.png", png,
                                                                t("curve.heading")))

    def capacity_part(self) -> str:
        t, profile = self.t, self.profile
        capacity = profile.capacity
        if capacity is None or capacity.empty:
            return self.section("capacity", t("capacity.heading"), self.p("capacity.none"))
        mode = profile.settings.get("fca_mode", "car")
        body = [self.p("capacity.intro", mode=t.mode_name(mode)),
                self.figure("capacity_facilities.png",
                            _figures.capacity_facilities_figure(profile, t),
                            t("capacity.heading")),
                self.figure("capacity_municipalities.png",
                            _figures.capacity_areas_figure(profile, t), t("capacity.heading"))]
        rows = []
        for _, row in capacity.iterrows():
            area = t("region_row") if row["level"] == "region" else row["area_name"]
            unit = t.get(f"unit.{row.get('unit')}", str(row.get("unit", "")))
            rows.append([str(area), t.type_name(row["type"]), unit, t.count(row["demand"]),
                         t.count(row["capacity"]), t.count(row["gap"]),
                         t.percent(row.get("gap_share")),
                         t.number(row.get("fte_shortfall"), 1)])
        headers = [t("col.area"), t("col.type"), t("col.unit"), t("col.demand"),
                   t("col.capacity"), t("col.gap"), t("col.gap_share"), t("col.fte_shortfall")]
        body.append(table(headers, rows, numeric_from=3))
        return self.section("capacity", t("capacity.heading"), "".join(body))

    def closures_part(self, n: int = 15) -> str:
        """closure_impact.csv: a map per type and the worst closures."""
        t, closures = self.t, self.profile.closures
        mode = str(closures["fca_mode"].iloc[0])
        body = []
        for ftype in [f for f in self.profile.types if (closures["type"] == f).any()]:
            rows = closures[closures["type"] == ftype].sort_values("rank")
            norm = t.number(rows["norm_min"].iloc[0], 0)
            body.append(self.p("closures.intro", type=t.type_name(ftype), norm=norm,
                               mode=t.mode_name(mode), n=min(n, len(rows)), total=len(rows)))
            pushed = rows[f"{mode}_population_pushed_beyond_norm"]
            if not (pushed > 0).any():
                body.append(self.p("closures.none_beyond", mode=t.mode_name(mode)))
            body.append(_maps.closure_section(
                shared=self.frame, table=rows, mode=mode, ftype=ftype,
                caption=t("closures.caption", type=t.type_name(ftype)),
                corner=self.corner(mode == "pt"), texts=t))
            out = []
            for _, row in rows.head(n).iterrows():
                name = row["name"] if pd.notna(row["name"]) else row["facility_id"]
                utilisation = (f"{row['next_facility_id']}: "
                               f"{t.percent(row['next_facility_utilisation_before'], 0)} → "
                               f"{t.percent(row['next_facility_utilisation_after'], 0)}"
                               if pd.notna(row["next_facility_id"]) else "")
                out.append([str(int(row["rank"])), str(name),
                            str(row["municipality_name"]) if pd.notna(
                                row["municipality_name"]) else "",
                            t.count(row[f"{mode}_population_pushed_beyond_norm"]),
                            t.count(row[f"{mode}_population_65_plus_pushed_beyond_norm"]),
                            t.count(row[f"{mode}_extra_person_min"]), utilisation,
                            t.count(row["municipality_gap_change"])])
            headers = [t("col.rank"), t("col.facility"), t("col.municipality"),
                       t("col.pushed", mode=t.mode_name(mode)), t("col.pushed_65"),
                       t("col.extra_min", mode=t.mode_name(mode)), t("col.next"),
                       t("col.gap_change")]
            body.append(table(headers, out, numeric_from=3))
        return self.section("closures", t("closures.heading"), "".join(body))

    def equity_part(self) -> str:
        t, profile = self.t, self.profile
        rows = []
        for _, row in self.region_rows.iterrows():
            rows.append([t.type_name(row["type"]), t.mode_name(row["mode"]),
                         t.number(row.get("gini_time"), 3), t.number(row.get("palma_time"), 2),
                         t.percent(row.get("share_beyond_norm")),
                         t.percent(row.get("share_0_14_beyond_norm")),
                         t.percent(row.get("share_65_plus_beyond_norm"))])
        headers = [t("col.type"), t("col.mode"), t("col.gini"), t("col.palma"),
                   t("col.share_beyond"), t("col.share_beyond_0_14"), t("col.share_beyond_65")]
        body = (self.p("equity.intro")
                + self.figure("equity.png", _figures.equity_figure(profile, self.region_rows, t),
                              t("equity.heading"))
                + table(headers, rows, numeric_from=2))
        return self.section("equity", t("equity.heading"), body)

    def border_part(self) -> str:
        t, profile = self.t, self.profile
        body = []
        border = profile.border
        if border is not None and not border.empty:
            rows = []
            for _, row in border[border["level"] == "region"].iterrows():
                rows.append([t.type_name(row["type"]), t.mode_name(row["mode"]),
                             t.minutes(row["median_time_cross_border_s"]),
                             t.minutes(row["median_time_nl_only_s"]),
                             t.percent(row["share_within_norm_cross_border"]),
                             t.percent(row["share_within_norm_nl_only"]),
                             t.percent(row["share_nearest_abroad"])])
            headers = [t("col.type"), t("col.mode"), t("col.median_cross"), t("col.median_nl"),
                       t("col.within_cross"), t("col.within_nl"), t("col.nearest_abroad")]
            body += [self.p("border.intro"),
                     self.figure("border.png", _figures.border_figure(profile, t),
                                 t("border.heading")),
                     table(headers, rows, numeric_from=2)]
        else:
            body.append(self.p("border.none"))
        cbs = profile.cbs
        if cbs is not None and not cbs.empty:
            rows = []
            for _, row in cbs.iterrows():
                area = t("region_row") if row["level"] == "region" else row["name"]
                rows.append([str(area), t.type_name(row["type"]),
                             t.number(row["mean_engine_m"] / 1000.0, 2),
                             t.number(row["mean_published_m"] / 1000.0, 2),
                             t.number(row["ratio_engine_to_published"], 2),
                             t.number(row["correlation"], 2),
                             t.percent(row["share_within_500m"])])
            headers = [t("col.area"), t("col.type"), t("col.engine_km"), t("col.cbs_km"),
                       t("col.ratio"), t("col.correlation"), t("col.within_500m")]
            body += [self.p("cbs.intro"),
                     self.figure("cbs.png", _figures.cbs_figure(profile, t), t("cbs.intro")),
                     table(headers, rows, numeric_from=2)]
        else:
            body.append(self.p("cbs.none"))
        return self.section("border", t("border.heading"), "".join(body))

    def pt_part(self) -> str:
        t, profile = self.t, self.profile
        settings = profile.settings
        rows = []
        low = high = None
        for ftype in profile.types:
            spread = _data.pt_spread_min(profile, ftype)
            if spread is None:
                continue
            values, weights, low, high = spread
            total = profile.population().sum()
            over = weights[values > 10.0].sum() / total if total > 0 else np.nan
            rows.append([t.type_name(ftype),
                         t.number(_data.weighted_quantile(values, weights, 0.5), 1),
                         t.number(_data.weighted_quantile(values, weights, 0.9), 1),
                         t.percent(over)])
        if not rows:
            return self.section("pt", t("pt.heading"), self.p("pt.none"))
        window = settings.get("pt_window") or ["", ""]
        intro = self.p("pt.intro", high=f"p{high}", low=f"p{low}",
                       date=settings.get("pt_date", ""), start=window[0], end=window[-1],
                       step=settings.get("pt_step_min", ""))
        headers = [t("col.type"), t("col.spread_median"), t("col.spread_p90"),
                   t("col.spread_over_10")]
        body = (intro + self.figure("pt_spread.png", _figures.pt_spread_figure(profile, t),
                                    t("pt.heading"))
                + table(headers, rows))
        return self.section("pt", t("pt.heading"), body)

    def diff_tables_part(self) -> str:
        t, profile = self.t, self.profile
        body = []
        summary = profile.diff_summary
        if summary is not None and not summary.empty:
            rows = []
            for _, row in summary[summary["level"] == "region"].iterrows():
                rows.append([t.type_name(row["type"]), t.mode_name(row["mode"]),
                             t.minutes(row["median_time_s_baseline"]),
                             t.minutes(row["median_time_s_scenario"]),
                             t.minutes_change(row["median_time_s_change"]),
                             t.percent(row["share_beyond_norm_baseline"]),
                             t.percent(row["share_beyond_norm_scenario"]),
                             t.points(row["share_beyond_norm_change"])])
            median, beyond = t("col.median"), t("col.share_beyond")
            headers = [t("col.type"), t("col.mode")] + [
                f"{stat}: {t(f'col.{kind}')}" for stat in (median, beyond)
                for kind in ("baseline", "scenario", "change")]
            body += [f"<h3>{escape(t('diff_tables.summary'))}</h3>",
                     table(headers, rows, numeric_from=2)]
        capacity = profile.diff_capacity
        if capacity is not None and not capacity.empty:
            changed = capacity[(capacity["level"] == "region") | capacity.filter(
                like="_change").fillna(0).ne(0).any(axis=1)]
            rows = []
            for _, row in changed.iterrows():
                area = t("region_row") if row["level"] == "region" else row["area_name"]
                rows.append([str(area), t.type_name(row["type"]),
                             t.count(row["capacity_baseline"]), t.count(row["capacity_scenario"]),
                             t.signed(row["capacity_change"], 0), t.count(row["gap_scenario"]),
                             t.signed(row["gap_change"], 0),
                             t.number(row.get("fte_shortfall_scenario"), 1),
                             t.signed(row.get("fte_shortfall_change"), 1)])
            cap, gap, fte = t("col.capacity"), t("col.gap"), t("col.fte_shortfall")
            headers = [t("col.area"), t("col.type"),
                       f"{cap}: {t('col.baseline')}", f"{cap}: {t('col.scenario')}",
                       f"{cap}: {t('col.change')}", f"{gap}: {t('col.scenario')}",
                       f"{gap}: {t('col.change')}", f"{fte}: {t('col.scenario')}",
                       f"{fte}: {t('col.change')}"]
            body += [f"<h3>{escape(t('diff_tables.capacity'))}</h3>",
                     table(headers, rows, numeric_from=2)]
        facilities = profile.diff_facilities
        if facilities is not None and not facilities.empty:
            changes = facilities.filter(like="_change").fillna(0).ne(0).any(axis=1)
            changed = facilities[(facilities["status"] != "kept") | changes]
            rows = []
            for _, row in changed.iterrows():
                rows.append([str(row["facility_id"]), t.type_name(row["type"]),
                             str(row["name"]), t.get(f"status.{row['status']}", row["status"]),
                             t.count(row["capacity_baseline"]), t.count(row["capacity_scenario"]),
                             t.count(row["assigned_demand_baseline"]),
                             t.count(row["assigned_demand_scenario"]),
                             t.percent(row["utilisation_scenario"], 0)])
            cap, assigned = t("col.capacity"), t("col.assigned")
            headers = [t("col.facility"), t("col.type"), t("col.name"), t("col.status"),
                       f"{cap}: {t('col.baseline')}", f"{cap}: {t('col.scenario')}",
                       f"{assigned}: {t('col.baseline')}", f"{assigned}: {t('col.scenario')}",
                       f"{t('col.utilisation')}: {t('col.scenario')}"]
            body.append(f"<h3>{escape(t('diff_tables.facilities'))}</h3>")
            body.append(table(headers, rows, numeric_from=4) if rows
                        else self.p("diff_tables.no_facilities"))
        return self.section("diff-tables", t("diff_tables.heading"), "".join(body))

    def meta_part(self) -> str:
        t, profile = self.t, self.profile
        manifest, settings = profile.manifest, profile.settings
        facts = [(t("meta.region"), profile.region),
                 (t("meta.created"), str(manifest.get("created_at", ""))),
                 (t("meta.schema"), str(manifest.get("schema_version", ""))),
                 (t("meta.software"), f"bereikbaarheid {profile.version}"),
                 (t("meta.python"), str(manifest.get("python", "")))]
        source = manifest.get("facility_source")
        if source:
            facts.append((t("meta.facility_source"), t.get(f"facility_source.{source}", source)))
        scope = (manifest.get("facility_scope") or {}).get("scope")
        if scope:
            facts.append((t("meta.facility_scope"), t.get(f"scope.{scope}", scope)))
        if "pt" in profile.all_modes:
            window = settings.get("pt_window") or ["", ""]
            percentiles = ", ".join(f"p{p}" for p in settings.get("pt_percentiles") or [])
            facts.append((t("meta.pt"), t("meta.pt_value", date=settings.get("pt_date", ""),
                                          start=window[0], end=window[-1],
                                          step=settings.get("pt_step_min", ""),
                                          percentiles=percentiles)))
        dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
        body = [f'<dl class="facts">{dl}</dl>', f"<h3>{escape(t('meta.inputs'))}</h3>",
                table([t("col.file"), t("col.path"), t("col.bytes"), t("col.digest")],
                      _input_rows(manifest.get("inputs") or {}, t), numeric_from=2,
                      css="inputs")]
        keys = ["modes", "facility_types", "norm_min", "thresholds_min", "walk_speed_kmh",
                "bike_speed_kmh", "max_link_distance_m", "fca_mode", "gp_patients_per_fte"]
        rows = [[t(f"setting.{key}"), _plain(settings[key], t)] for key in keys
                if key in settings]
        body += [f"<h3>{escape(t('meta.settings'))}</h3>", table(
            [t("col.key"), t("col.value")], rows, numeric_from=99),
            (f'<details><summary>{escape(t("meta.all_settings"))}</summary><pre>'
             f'{escape(json.dumps(settings, indent=1, ensure_ascii=False))}</pre></details>')]
        packages = manifest.get("packages") or {}
        body += [f"<h3>{escape(t('meta.packages'))}</h3>", table(
            [t("col.package"), t("col.version")],
            [[str(k), str(v)] for k, v in packages.items()], numeric_from=99)]
        warnings = manifest.get("warnings") or []
        items = "".join(f"<li>{escape(str(w))}</li>" for w in warnings)
        body += [f"<h3>{escape(t('meta.warnings'))}</h3>",
                 f"<ul>{items}</ul>" if items else self.p("meta.no_warnings")]
        return self.section("meta", t("meta.heading"), "".join(body))


def _input_rows(inputs: dict[str, Any], t: Texts) -> list[list[str]]:
    rows = []
    for name, entry in inputs.items():
        for item in entry if isinstance(entry, list) else [entry]:
            if isinstance(item, dict) and "path" in item:
                rows.append([str(name), str(item.get("path", "")),
                             t.count(item.get("bytes")), str(item.get("sha256", ""))])
            elif isinstance(item, dict):  # networks of one's own, per mode
                for key, sub in item.items():
                    if isinstance(sub, dict):
                        rows.append([f"{name}.{key}", str(sub.get("path", "")),
                                     t.count(sub.get("bytes")), str(sub.get("sha256", ""))])
    return rows


def _plain(value: Any, t: Texts) -> str:
    """A setting for reading: lists joined, mappings as key: value."""
    if isinstance(value, dict):
        return ", ".join(f"{t.type_name(str(k))}: {_plain(v, t)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v, t) for v in value)
    if isinstance(value, str):
        return t.get(f"mode.{value}", t.get(f"type.{value}", value))
    if isinstance(value, float):
        return t.number(value, 0 if value == int(value) else 1)
    return str(value)
