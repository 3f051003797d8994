"""The column dictionary: every column of every table file of a profile folder, in one place.

Each entry names a file (or files sharing the columns), a column or a
pattern of columns, its type, unit and meaning. :func:`describe` gives the
entries of the concrete columns a file holds (the manifest's ``columns``);
:func:`markdown_table` the schema tables of ``profiles/README.md``, which
``python -m bereikbaarheid.columns --write profiles/README.md`` regenerates
between its ``<!-- columns: FILE -->`` and ``<!-- end columns -->`` markers.

Patterns hold placeholders: ``{type}`` a facility type, ``{mode}`` one of
``walk``, ``bike``, ``car``, ``pt``, ``{T}`` a threshold in minutes
(``thresholds_min``), ``{P}`` a percentile (``pt_percentiles``), ``{side}``
one of ``baseline``, ``scenario``, ``change`` (scenario − baseline), ``{name}``
part of a CBS column name, and ``{grid}`` any further column the CBS grid holds.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import _io


@dataclass(frozen=True)
class Column:
    """One column, or a family of columns named by a pattern.

    Attributes
    ----------
    files
        The files holding it.
    column
        The name, or a pattern with placeholders (see the module docstring).
    dtype
        The type as written (``string``, ``float``, ``int``, ``Int32``, ...).
    unit
        ``s``, ``min``, ``m``, ``km``, ``km2``, ``degrees``, ``inhabitants``,
        ``person-minutes``, ``share`` (a fraction 0–1), ``count``, ``ratio``,
        ``type unit`` (the type's capacity unit: GP ``patients``, school
        ``pupils``, supermarket ``m2``), ``FTE``, or empty for identifiers and
        text.
    meaning
        What it holds, in English.
    table
        The README table it is listed in, when a file has several (``pt``,
        ``capacity`` of ``cells.parquet``); empty for the file's main table.
    """

    files: tuple[str, ...]
    column: str
    dtype: str
    unit: str
    meaning: str
    table: str = ""


_PLACEHOLDERS = {
    "type": r"[a-z0-9_]+",
    "mode": r"walk|bike|car|pt",
    "T": r"[0-9]+",
    "P": r"[0-9]+",
    "side": r"baseline|scenario|change",
    "name": r"[a-z0-9_]+",
    "grid": r".+",
}
# What a {side} column holds, added to its meaning.
_SIDES = {"baseline": "in the baseline", "scenario": "in the scenario",
          "change": "the change, scenario − baseline"}

CELLS = ("cells.parquet",)
SUMMARY = ("summary.csv", "summary.json")
AREAS = ("areas.parquet", "municipalities.geojson")
PER_AREA_TYPE = SUMMARY + ("capacity.csv", "diff_summary.csv", "diff_capacity.csv")
PER_AREA = PER_AREA_TYPE + AREAS
_AREA_ROW = "the region first, then the municipalities by code"
CLOSURE = ("closure_impact.csv",)

ENTRIES: tuple[Column, ...] = (
    # -- cells.parquet ----------------------------------------------------------
    Column(CELLS, "cell_id", "string", "",
           "CBS cell id, `E` + easting hm + `N` + northing hm of the lower-left corner"),
    Column(CELLS, "municipality_code", "string", "",
           "municipality holding the cell centroid (`GMxxxx`)"),
    Column(CELLS, "municipality_name", "string", "", "name of that municipality"),
    Column(CELLS, "x", "float", "m", "cell centroid, easting (EPSG:28992)"),
    Column(CELLS, "y", "float", "m", "cell centroid, northing (EPSG:28992)"),
    Column(CELLS, "aantal_inwoners", "float", "inhabitants",
           "CBS column as read: inhabitants; suppressed values (below `missing_below`) are NaN"),
    Column(CELLS, "aantal_mannen", "float", "inhabitants", "CBS column as read: men"),
    Column(CELLS, "aantal_vrouwen", "float", "inhabitants", "CBS column as read: women"),
    Column(CELLS, "aantal_inwoners_0_tot_15_jaar", "float", "inhabitants",
           "CBS column as read: inhabitants aged 0–14"),
    Column(CELLS, "aantal_inwoners_15_tot_25_jaar", "float", "inhabitants",
           "CBS column as read: inhabitants aged 15–24"),
    Column(CELLS, "aantal_inwoners_25_tot_45_jaar", "float", "inhabitants",
           "CBS column as read: inhabitants aged 25–44"),
    Column(CELLS, "aantal_inwoners_45_tot_65_jaar", "float", "inhabitants",
           "CBS column as read: inhabitants aged 45–64"),
    Column(CELLS, "aantal_inwoners_65_jaar_en_ouder", "float", "inhabitants",
           "CBS column as read: inhabitants aged 65 and over"),
    Column(CELLS, "aantal_woningen", "float", "count", "CBS column as read: dwellings"),
    Column(CELLS, "aantal_part_huishoudens", "float", "count",
           "CBS column as read: private households"),
    Column(CELLS, "dichtstbijzijnde_{name}_afstand_in_km", "float", "km",
           "CBS column as read: CBS's published road distance to the nearest facility of "
           "that kind (to 0.1 km)"),
    Column(CELLS, "{grid}", "as read", "",
           "a further column of the CBS grid, copied unchanged (numbers as float, "
           "suppressed values NaN)"),
    Column(CELLS, "{mode}_link_m", "float", "m",
           "straight connector from the centroid to the nearest usable road of that mode; "
           "NaN = **unlinked** (farther than `max_link_distance_m`)"),
    Column(CELLS, "{type}_{mode}_time_s", "float", "s",
           "travel time to the nearest facility of the type, connectors included; NaN = "
           "unlinked or no facility reachable"),
    Column(CELLS, "{type}_{mode}_distance_m", "float", "m",
           "road distance along that fastest path, connectors included"),
    Column(CELLS, "{type}_{mode}_facility_id", "string", "",
           "id of that facility (`osm:n…`, `osm:w…`, `osm:r…`, or the facility file's id)"),
    Column(CELLS, "{type}_{mode}_n_{T}min", "Int32", "count",
           "facilities of the type reachable within T minutes (per `thresholds_min`); null "
           "when unlinked"),
    Column(CELLS, "{type}_cbs_distance_m", "float", "m",
           "**CBS-comparable distance**: shortest road distance over the car network "
           "(ferries and one-way rules included) to the nearest facility *by distance*, "
           "connectors included, counting only facilities inside the municipalities of the "
           "boundary file (CBS ignores facilities abroad; the travel times above follow "
           "`facility_scope`, by default every facility of the analysis area, across the "
           "border too)"),
    Column(CELLS, "{type}_{mode}_nl_only_time_s", "float", "s",
           "with `compare_scopes` in a `cross-border` profile: the travel time counting only "
           "Dutch facilities; for `pt` at `pt_time_percentile`"),
    Column(CELLS, "{type}_{mode}_cross_border_time_s", "float", "s",
           "with `compare_scopes` in an `nl-only` profile: the travel time counting the "
           "facilities abroad too; for `pt` at `pt_time_percentile`"),
    Column(CELLS, "{type}_cbs_published_m", "float", "m",
           "when the grid has CBS's `dichtstbijzijnde_*_afstand_in_km` column for the type "
           "(`cbs_distance_columns`): CBS's published distance in metres (published to "
           "0.1 km); NaN where suppressed"),
    Column(CELLS, "{type}_cbs_difference_m", "float", "m",
           "`{type}_cbs_distance_m` − `{type}_cbs_published_m`"),
    Column(CELLS, "geometry", "geometry", "m", "the cell square (EPSG:28992)"),
    Column(CELLS, "pt_link_m", "float", "m",
           "walking connector to the walk network (the access leg starts there); NaN = "
           "unlinked", table="pt"),
    Column(CELLS, "{type}_pt_time_s", "float", "s",
           "time to the nearest facility at `pt_time_percentile` (default the median over "
           "the window)", table="pt"),
    Column(CELLS, "{type}_pt_time_p{P}_s", "float", "s",
           "the same at each of `pt_percentiles` (default p25, p50, p75)", table="pt"),
    Column(CELLS, "{type}_pt_facility_id", "string", "",
           "the facility of the type nearest at the most departures of the window "
           "(`pt_method` `profile`, the default); with `pt_method` `per-cell`, the one with "
           "the lowest time at `pt_time_percentile`", table="pt"),
    Column(CELLS, "{type}_pt_n_{T}min", "Int32", "count",
           "only with `pt_method` `per-cell`: facilities of the type whose time at "
           "`pt_time_percentile` is within T minutes", table="pt"),
    Column(CELLS, "{type}_demand", "float", "type unit",
           "the cell's demand in the type's unit: its residents per CBS age band times "
           "`demand_weights` (GP: everyone; school: 0.6 × the 0–14 band; supermarket: "
           "0.25 m² per resident)", table="capacity"),
    Column(CELLS, "{type}_fca_ratio", "float", "ratio",
           "two-step floating catchment (2SFCA; E2SFCA with `fca_decay`): capacity per unit "
           "of demand within the norm time by `fca_mode` (about 1 = as much capacity as "
           "demand around); 0 when no facility lies within the norm, NaN when the cell is "
           "not linked", table="capacity"),

    # -- summary.csv / summary.json ------------------------------------------------
    # The keys of the tables per area (here, areas.parquet, capacity.csv and
    # the scenario's differences): one meaning in every file.
    Column(PER_AREA, "level", "string", "", "`region` or `municipality`"),
    Column(PER_AREA, "area_code", "string", "",
           "the region name, or the municipality code (`GMxxxx`)"),
    Column(PER_AREA, "area_name", "string", "", "the region or municipality name"),
    Column(PER_AREA_TYPE, "type", "string", "", "facility type"),
    Column(SUMMARY + ("diff_summary.csv",), "mode", "string", "", "travel mode"),
    Column(SUMMARY, "n_cells", "int", "count", "grid cells in the area"),
    Column(SUMMARY, "n_cells_unlinked", "int", "count", "of which unlinked"),
    Column(SUMMARY, "n_cells_unreachable", "int", "count",
           "of which linked but with no facility reachable"),
    Column(SUMMARY, "population", "float", "inhabitants",
           "inhabitants (suppressed counts as 0)"),
    Column(SUMMARY, "population_0_14", "float", "inhabitants", "inhabitants aged 0–14"),
    Column(SUMMARY, "population_65_plus", "float", "inhabitants",
           "inhabitants aged 65 and over"),
    Column(SUMMARY, "population_unlinked", "float", "inhabitants",
           "inhabitants in unlinked cells"),
    Column(SUMMARY, "population_unreachable", "float", "inhabitants",
           "inhabitants in unreachable cells"),
    Column(SUMMARY, "mean_time_s", "float", "s",
           "population-weighted mean time to the nearest facility, over the inhabitants who "
           "reach one"),
    Column(SUMMARY, "median_time_s", "float", "s",
           "population-weighted median of that time: the weighted inverse CDF (the smallest "
           "time reaching that share)"),
    Column(SUMMARY, "p90_time_s", "float", "s",
           "population-weighted 90th percentile of that time (weighted inverse CDF)"),
    Column(SUMMARY, "share_within_{T}min", "float", "share",
           "share of all inhabitants reaching a facility within T minutes (unlinked and "
           "unreachable count as not within)"),
    Column(SUMMARY, "share_0_14_within_{T}min", "float", "share",
           "the same for ages 0–14"),
    Column(SUMMARY, "share_65_plus_within_{T}min", "float", "share",
           "the same for ages 65 and over"),
    Column(SUMMARY, "mean_cbs_distance_m", "float", "m",
           "population-weighted mean CBS-comparable distance (the same for every mode of a "
           "type)"),
    Column(SUMMARY, "gini_time", "float", "ratio",
           "population-weighted Gini coefficient of the travel time among residents who "
           "reach a facility (0: everyone the same)"),
    Column(SUMMARY, "palma_time", "float", "ratio",
           "Palma ratio: total travel time of the 10 % of residents with the longest times "
           "over that of the 40 % with the shortest (cells straddling a mark count "
           "proportionally)"),
    Column(SUMMARY, "share_beyond_norm", "float", "share",
           "share of all residents whose nearest facility lies beyond the type's norm "
           "(`norm_min`, default 15 minutes); unlinked and unreached count as beyond"),
    Column(SUMMARY, "share_0_14_beyond_norm", "float", "share",
           "the same for residents aged 0–14"),
    Column(SUMMARY, "share_65_plus_beyond_norm", "float", "share",
           "the same for residents aged 65 and over"),
    Column(SUMMARY, "median_time_vs_analysed_area", "float", "ratio",
           "the row's median time divided by the median over every cell of the run (the "
           "analysed area)"),
    Column(SUMMARY, "share_beyond_norm_vs_analysed_area", "float", "share",
           "the row's share beyond the norm minus that of the analysed area"),

    # -- areas.parquet / municipalities.geojson ---------------------------------------
    Column(AREAS, "area_km2", "float", "km2",
           "area of the polygon (3 decimals), measured in EPSG:28992"),
    Column(AREAS, "population", "float", "inhabitants",
           "inhabitants of the area's cells (as in `summary.csv`)"),
    Column(AREAS, "population_0_14", "float", "inhabitants", "inhabitants aged 0–14"),
    Column(AREAS, "population_65_plus", "float", "inhabitants",
           "inhabitants aged 65 and over"),
    Column(AREAS, "lon", "float", "degrees",
           "longitude (WGS84) of a representative point inside the polygon, 7 decimals"),
    Column(AREAS, "lat", "float", "degrees",
           "latitude (WGS84) of that point, 7 decimals"),
    Column(AREAS, "{type}_{mode}_median_time_s", "float", "s",
           "`median_time_s` of the area's `summary.csv` row for the type and mode"),
    Column(AREAS, "{type}_{mode}_p90_time_s", "float", "s", "`p90_time_s` of that row"),
    Column(AREAS, "{type}_{mode}_share_within_norm", "float", "share",
           "share of all residents within the type's norm: 1 − `share_beyond_norm` (the "
           "unlinked and unreached count as beyond)"),
    Column(AREAS, "{type}_{mode}_share_beyond_norm", "float", "share",
           "`share_beyond_norm` of that row"),
    Column(AREAS, "{type}_demand", "float", "type unit",
           "when capacity ran: `demand` of the area's `capacity.csv` row for the type"),
    Column(AREAS, "{type}_capacity", "float", "type unit", "`capacity` of that row"),
    Column(AREAS, "{type}_gap", "float", "type unit",
           "`gap` of that row: demand − capacity (positive is a shortage)"),
    Column(AREAS, "gp_fte_shortfall", "float", "FTE",
           "when capacity ran for GPs: `fte_shortfall` of the GP row (negative: FTE to "
           "spare)"),
    Column(("areas.parquet",), "geometry", "geometry", "m",
           "the municipality polygon of the boundary file, or the region polygon "
           "(EPSG:28992; Polygon or MultiPolygon)"),
    Column(("municipalities.geojson",), "geometry", "geometry", "degrees",
           "the municipality polygon in WGS84, coordinates to 6 decimals, exterior rings "
           "counter-clockwise (RFC 7946)"),

    # -- facilities.csv -------------------------------------------------------------
    Column(("facilities.csv",), "facility_id", "string", "",
           "id of the facility (`osm:n…`, `osm:w…`, `osm:r…`, or the facility file's id)"),
    Column(("facilities.csv",), "type", "string", "", "facility type"),
    Column(("facilities.csv",), "name", "string", "", "name of the facility"),
    Column(("facilities.csv",), "x", "float", "m",
           "location of the facility, easting (EPSG:28992)"),
    Column(("facilities.csv",), "y", "float", "m",
           "location of the facility, northing (EPSG:28992)"),
    Column(("facilities.csv",), "lon", "float", "degrees",
           "longitude of the facility (WGS84), 7 decimals"),
    Column(("facilities.csv",), "lat", "float", "degrees",
           "latitude of the facility (WGS84), 7 decimals"),
    Column(("facilities.csv",), "capacity", "float", "type unit", "capacity in the type's unit"),
    Column(("facilities.csv",), "capacity_unit", "string", "",
           "the type's unit: `patients`, `pupils` or `m2`"),
    Column(("facilities.csv",), "capacity_source", "string", "",
           "`fte` (GP: FTE × `gp_patients_per_fte`), `file` (the facility file's "
           "`capacity`) or `default` (`default_gp_fte` × `gp_patients_per_fte`, "
           "`default_capacity`)"),
    Column(("facilities.csv",), "catchment_demand", "float", "type unit",
           "demand within the norm time (weighted by the decay)"),
    Column(("facilities.csv",), "fca_ratio", "float", "ratio",
           "capacity / catchment demand (step 1 of the 2SFCA)"),
    Column(("facilities.csv",), "assigned_demand", "float", "type unit",
           "demand of the cells for which this is the nearest facility by `fca_mode`"),
    Column(("facilities.csv",), "gap", "float", "type unit",
           "assigned demand − capacity: positive is a shortage, negative room to spare"),
    Column(("facilities.csv",), "utilisation", "float", "ratio",
           "assigned demand / capacity"),
    Column(("facilities.csv",), "fte_capacity", "float", "FTE",
           "GP: the FTE the capacity stands for"),

    # -- capacity.csv ---------------------------------------------------------------
    Column(("capacity.csv",), "unit", "string", "",
           "the type's unit: `patients`, `pupils` or `m2`"),
    Column(("capacity.csv",), "demand", "float", "type unit", "demand of the area's cells"),
    Column(("capacity.csv",), "capacity", "float", "type unit",
           "capacity serving them: each facility's capacity shared over areas in proportion "
           "to where its assigned demand lives (a facility serving nobody counts nowhere)"),
    Column(("capacity.csv",), "gap", "float", "type unit", "demand − capacity"),
    Column(("capacity.csv",), "gap_share", "float", "share", "gap over demand"),
    Column(("capacity.csv",), "fte_shortfall", "float", "FTE",
           "GP: gap / `gp_patients_per_fte` (negative: FTE to spare)"),
    Column(("capacity.csv",), "population_beyond_norm", "float", "inhabitants",
           "residents whose nearest facility by `fca_mode` lies beyond the norm"),
    Column(("capacity.csv",), "share_beyond_norm", "float", "share",
           "their share of the area's residents"),

    # -- border.csv -----------------------------------------------------------------
    Column(("border.csv",), "level", "string", "", "`region` or `municipality`"),
    Column(("border.csv",), "code", "string", "",
           "the region name, or the municipality code (`GMxxxx`)"),
    Column(("border.csv",), "name", "string", "", "the region or municipality name"),
    Column(("border.csv",), "type", "string", "", "facility type"),
    Column(("border.csv",), "mode", "string", "", "travel mode"),
    Column(("border.csv",), "population", "float", "inhabitants", "inhabitants of the area"),
    Column(("border.csv",), "population_compared", "float", "inhabitants",
           "inhabitants of cells reaching a facility in both views (the means and medians "
           "are over them)"),
    Column(("border.csv",), "mean_time_cross_border_s", "float", "s",
           "population-weighted mean travel time counting facilities across the border"),
    Column(("border.csv",), "mean_time_nl_only_s", "float", "s",
           "population-weighted mean travel time counting Dutch facilities only"),
    Column(("border.csv",), "mean_difference_s", "float", "s",
           "nl-only minus cross-border (never negative), population-weighted mean"),
    Column(("border.csv",), "max_difference_s", "float", "s",
           "nl-only minus cross-border, the largest of a populated cell"),
    Column(("border.csv",), "median_time_cross_border_s", "float", "s",
           "population-weighted median, cross-border"),
    Column(("border.csv",), "median_time_nl_only_s", "float", "s",
           "population-weighted median, nl-only"),
    Column(("border.csv",), "share_within_norm_cross_border", "float", "share",
           "share of all inhabitants within the type's norm (`norm_min`), cross-border; the "
           "unreached count as beyond"),
    Column(("border.csv",), "share_within_norm_nl_only", "float", "share",
           "the same, nl-only"),
    Column(("border.csv",), "population_nearest_abroad", "float", "inhabitants",
           "inhabitants whose nearest facility lies abroad (the cross-border time is "
           "shorter, or only the cross-border view reaches one)"),
    Column(("border.csv",), "share_nearest_abroad", "float", "share",
           "their share of the area's inhabitants"),

    # -- cbs_comparison.csv ---------------------------------------------------------
    Column(("cbs_comparison.csv",), "level", "string", "", "`region` or `municipality`"),
    Column(("cbs_comparison.csv",), "code", "string", "",
           "the region name, or the municipality code (`GMxxxx`)"),
    Column(("cbs_comparison.csv",), "name", "string", "", "the region or municipality name"),
    Column(("cbs_comparison.csv",), "type", "string", "", "facility type"),
    Column(("cbs_comparison.csv",), "n_cells_compared", "int", "count", "cells compared"),
    Column(("cbs_comparison.csv",), "population_compared", "float", "inhabitants",
           "inhabitants compared"),
    Column(("cbs_comparison.csv",), "mean_engine_m", "float", "m",
           "population-weighted mean of the engine's CBS-comparable distance (CBS averages "
           "over persons)"),
    Column(("cbs_comparison.csv",), "mean_published_m", "float", "m",
           "population-weighted mean of CBS's published distance"),
    Column(("cbs_comparison.csv",), "mean_difference_m", "float", "m",
           "population-weighted mean of engine − CBS"),
    Column(("cbs_comparison.csv",), "mean_abs_difference_m", "float", "m",
           "population-weighted mean of the absolute difference"),
    Column(("cbs_comparison.csv",), "ratio_engine_to_published", "float", "ratio",
           "`mean_engine_m` / `mean_published_m`"),
    Column(("cbs_comparison.csv",), "correlation", "float", "ratio",
           "Pearson correlation over the compared cells, unweighted; NaN with fewer than 3 "
           "cells or no variance"),
    Column(("cbs_comparison.csv",), "spearman", "float", "ratio",
           "Spearman (rank) correlation over the compared cells, unweighted; NaN likewise"),
    Column(("cbs_comparison.csv",), "share_within_500m", "float", "share",
           "population share whose difference is at most 500 m"),

    # -- closure_impact.csv ------------------------------------------------------------
    Column(CLOSURE, "rank", "int", "",
           "1 = the worst closure: the most residents pushed beyond the norm by `fca_mode`, "
           "then the most extra person-minutes by `fca_mode`; ties by `facility_id`"),
    Column(CLOSURE, "facility_id", "string", "",
           "the facility closed, on its own (every other facility stays)"),
    Column(CLOSURE, "type", "string", "", "its type"),
    Column(CLOSURE, "name", "string", "", "its name"),
    Column(CLOSURE, "x", "float", "m", "its location, easting (EPSG:28992)"),
    Column(CLOSURE, "y", "float", "m", "its location, northing (EPSG:28992)"),
    Column(CLOSURE, "lon", "float", "degrees", "its longitude (WGS84), 7 decimals"),
    Column(CLOSURE, "lat", "float", "degrees", "its latitude (WGS84), 7 decimals"),
    Column(CLOSURE, "municipality_code", "string", "",
           "the municipality it lies in (`GMxxxx`); empty abroad"),
    Column(CLOSURE, "municipality_name", "string", "", "that municipality's name"),
    Column(CLOSURE, "norm_min", "float", "min", "the type's norm (`norm_min`)"),
    Column(CLOSURE, "fca_mode", "string", "",
           "the mode that assigns demand to facilities (`fca_mode`): the demand, utilisation "
           "and gap columns, and the rank, go by it"),
    Column(CLOSURE, "{mode}_population_pushed_beyond_norm", "float", "inhabitants",
           "residents within the norm by that mode before the closure and beyond it, or "
           "reaching no facility, after it; for `pt` at `pt_time_percentile`"),
    Column(CLOSURE, "{mode}_population_0_14_pushed_beyond_norm", "float", "inhabitants",
           "the same, aged 0–14"),
    Column(CLOSURE, "{mode}_population_65_plus_pushed_beyond_norm", "float", "inhabitants",
           "the same, aged 65 and over"),
    Column(CLOSURE, "{mode}_extra_person_min", "float", "person-minutes",
           "the sum over cells reaching a facility both before and after of residents × "
           "(time after − time before), in minutes"),
    Column(CLOSURE, "{mode}_population_losing_reach", "float", "inhabitants",
           "residents who reached a facility of the type by that mode before and reach none "
           "after (not in the person-minutes)"),
    Column(CLOSURE, "unit", "string", "",
           "the type's unit of demand and capacity: `patients`, `pupils` or `m2`"),
    Column(CLOSURE, "demand_moved", "float", "type unit",
           "the facility's assigned demand (by `fca_mode`, as in `facilities.csv`): all of "
           "it goes to other facilities, or to none"),
    Column(CLOSURE, "demand_unserved", "float", "type unit",
           "of which reaches no facility after the closure"),
    Column(CLOSURE, "next_facility_id", "string", "",
           "the facility receiving the most of that demand (ties: the smallest id); empty "
           "when none receives any"),
    Column(CLOSURE, "next_facility_name", "string", "", "its name"),
    Column(CLOSURE, "next_facility_demand_received", "float", "type unit",
           "the demand it receives"),
    Column(CLOSURE, "next_facility_utilisation_before", "float", "ratio",
           "its assigned demand / capacity before the closure"),
    Column(CLOSURE, "next_facility_utilisation_after", "float", "ratio", "the same after"),
    Column(CLOSURE, "municipality_gap_before", "float", "type unit",
           "capacity gap (demand − capacity, as in `capacity.csv`) of the municipality the "
           "facility lies in, before the closure; empty when no cell of the region lies in it"),
    Column(CLOSURE, "municipality_gap_after", "float", "type unit", "the same after"),
    Column(CLOSURE, "municipality_gap_change", "float", "type unit", "after − before"),
    Column(CLOSURE, "region_gap_before", "float", "type unit",
           "the region's capacity gap of the type before the closure"),
    Column(CLOSURE, "region_gap_after", "float", "type unit", "the same after"),
    Column(CLOSURE, "region_gap_change", "float", "type unit", "after − before"),

    # -- gtfs_issues.csv ------------------------------------------------------------
    Column(("gtfs_issues.csv",), "feed", "string", "", "the feed (file or folder name)"),
    Column(("gtfs_issues.csv",), "file", "string", "", "the GTFS file, e.g. `stop_times.txt`"),
    Column(("gtfs_issues.csv",), "row", "Int64", "",
           "line number in that file (the header is line 1); empty when the problem is not "
           "about one row"),
    Column(("gtfs_issues.csv",), "field", "string", "", "the column concerned; empty when none"),
    Column(("gtfs_issues.csv",), "severity", "string", "",
           "`fatal` (the run stops: routing would be meaningless) or `warning` (the run goes "
           "on)"),
    Column(("gtfs_issues.csv",), "message", "string", "", "what is wrong and what was expected"),

    # -- scenario folders: diff_cells.parquet -------------------------------------------
    Column(("diff_cells.parquet",), "cell_id", "string", "", "CBS cell id, as in `cells.parquet`"),
    Column(("diff_cells.parquet",), "municipality_code", "string", "",
           "municipality holding the cell centroid (`GMxxxx`)"),
    Column(("diff_cells.parquet",), "aantal_inwoners_{side}", "float", "inhabitants",
           "the cell's inhabitants (a population projection changes them)"),
    Column(("diff_cells.parquet",), "{type}_{mode}_time_change_s", "float", "s",
           "travel time to the nearest facility, scenario − baseline"),
    Column(("diff_cells.parquet",), "{type}_{mode}_within_norm_change", "int8", "",
           "+1 now within the type's norm, −1 no longer, 0 unchanged"),
    Column(("diff_cells.parquet",), "{type}_demand_change", "float", "type unit",
           "the cell's demand, scenario − baseline"),
    Column(("diff_cells.parquet",), "{type}_fca_ratio_change", "float", "ratio",
           "the cell's floating-catchment ratio, scenario − baseline"),
    Column(("diff_cells.parquet",), "geometry", "geometry", "m", "the cell square (EPSG:28992)"),

    # -- diff_summary.csv -----------------------------------------------------------
    Column(("diff_summary.csv",), "population_{side}", "float", "inhabitants",
           "inhabitants of the area"),
    Column(("diff_summary.csv",), "population_65_plus_{side}", "float", "inhabitants",
           "inhabitants aged 65 and over"),
    Column(("diff_summary.csv",), "population_0_14_{side}", "float", "inhabitants",
           "inhabitants aged 0–14"),
    Column(("diff_summary.csv",), "mean_time_s_{side}", "float", "s",
           "population-weighted mean time (as `mean_time_s` of `summary.csv`)"),
    Column(("diff_summary.csv",), "median_time_s_{side}", "float", "s",
           "population-weighted median time"),
    Column(("diff_summary.csv",), "p90_time_s_{side}", "float", "s",
           "population-weighted 90th percentile of the time"),
    Column(("diff_summary.csv",), "share_beyond_norm_{side}", "float", "share",
           "share of all residents beyond the type's norm"),
    Column(("diff_summary.csv",), "share_0_14_beyond_norm_{side}", "float", "share",
           "the same for residents aged 0–14"),
    Column(("diff_summary.csv",), "share_65_plus_beyond_norm_{side}", "float", "share",
           "the same for residents aged 65 and over"),
    Column(("diff_summary.csv",), "share_within_{T}min_{side}", "float", "share",
           "share of all inhabitants within T minutes"),

    # -- diff_capacity.csv ----------------------------------------------------------
    Column(("diff_capacity.csv",), "unit", "string", "",
           "the type's unit: `patients`, `pupils` or `m2`"),
    Column(("diff_capacity.csv",), "demand_{side}", "float", "type unit",
           "demand of the area's cells"),
    Column(("diff_capacity.csv",), "capacity_{side}", "float", "type unit",
           "capacity serving them (as in `capacity.csv`)"),
    Column(("diff_capacity.csv",), "gap_{side}", "float", "type unit", "demand − capacity"),
    Column(("diff_capacity.csv",), "fte_shortfall_{side}", "float", "FTE",
           "GP: gap / `gp_patients_per_fte`"),
    Column(("diff_capacity.csv",), "population_beyond_norm_{side}", "float", "inhabitants",
           "residents whose nearest facility by `fca_mode` lies beyond the norm"),
    Column(("diff_capacity.csv",), "share_beyond_norm_{side}", "float", "share",
           "their share of the area's residents"),

    # -- diff_facilities.csv --------------------------------------------------------
    Column(("diff_facilities.csv",), "facility_id", "string", "", "id of the facility"),
    Column(("diff_facilities.csv",), "type", "string", "", "facility type"),
    Column(("diff_facilities.csv",), "name", "string", "", "name of the facility"),
    Column(("diff_facilities.csv",), "status", "string", "",
           "`kept`, `closed`, `added` or `resized`"),
    Column(("diff_facilities.csv",), "capacity_{side}", "float", "type unit",
           "capacity in the type's unit"),
    Column(("diff_facilities.csv",), "catchment_demand_{side}", "float", "type unit",
           "demand within the norm time (weighted by the decay)"),
    Column(("diff_facilities.csv",), "fca_ratio_{side}", "float", "ratio",
           "capacity / catchment demand"),
    Column(("diff_facilities.csv",), "assigned_demand_{side}", "float", "type unit",
           "demand of the cells for which this is the nearest facility by `fca_mode`"),
    Column(("diff_facilities.csv",), "gap_{side}", "float", "type unit",
           "assigned demand − capacity"),
    Column(("diff_facilities.csv",), "utilisation_{side}", "float", "ratio",
           "assigned demand / capacity"),
)

_MARKER = re.compile(r"<!-- columns: (?P<file>[\w.]+)(?: (?P<table>\w+))? -->\n"
                     r".*?<!-- end columns -->", re.DOTALL)


@functools.cache
def files() -> tuple[str, ...]:
    """Every file the dictionary describes, in the order of its entries."""
    return tuple(dict.fromkeys(f for entry in ENTRIES for f in entry.files))


def describe(file: str, columns: Sequence[str],
             grid_columns: Collection[str] = ()) -> list[dict[str, str]]:
    """The dictionary entries of the concrete ``columns`` of ``file``, in order.

    Each is ``{"file", "column", "unit", "meaning"}``; the entry of each
    column is found by :func:`lookup`.

    Parameters
    ----------
    file
        A file name of a profile folder (``cells.parquet``).
    columns
        Its column names as written.
    grid_columns
        The columns ``cells.parquet`` copied from the CBS grid: those the
        dictionary does not name are described as grid columns.

    Raises
    ------
    KeyError
        A column (or the file) the dictionary does not describe, or one two
        entries describe equally well: a column written without being
        documented here is a bug.
    """
    out = []
    for column in columns:
        entry, side = _match(file, column, frozenset(grid_columns))
        meaning = entry.meaning if side is None else f"{entry.meaning}; {_SIDES[side]}"
        out.append({"file": file, "column": column, "unit": entry.unit, "meaning": meaning})
    return out


def lookup(file: str, column: str, grid_columns: Collection[str] = ()) -> Column:
    """The entry describing the concrete ``column`` of ``file``.

    A column matching several patterns takes the most specific (the most
    literal characters): ``gp_pt_time_s`` is described by
    ``{type}_pt_time_s``, not by ``{type}_{mode}_time_s``. ``{grid}``
    matches only the names in ``grid_columns``.

    Raises
    ------
    KeyError
        As :func:`describe`.
    """
    return _match(file, column, frozenset(grid_columns))[0]


def _match(file: str, column: str, grid: frozenset[str]) -> tuple[Column, str | None]:
    """The entry of ``column`` and the ``{side}`` it names, if any."""
    matches = []
    for entry in ENTRIES:
        if file not in entry.files:
            continue
        match = _pattern(entry.column).fullmatch(column)
        if match is None or ("grid" in match.groupdict() and column not in grid):
            continue
        matches.append((_literal_length(entry.column), entry, match))
    if not matches:
        if file not in files():
            raise KeyError(f"{file}: no such file in the column dictionary")
        raise KeyError(f"{file}: column {column!r} is not in the column dictionary "
                       "(bereikbaarheid/columns.py)")
    matches.sort(key=lambda m: -m[0])
    if len(matches) > 1 and matches[0][0] == matches[1][0]:
        raise KeyError(f"{file}: column {column!r} matches both "
                       f"{matches[0][1].column!r} and {matches[1][1].column!r}")
    _, entry, match = matches[0]
    return entry, match.groupdict().get("side")


def markdown_table(file: str, table: str = "") -> str:
    """The schema table of ``file`` (its ``table`` part) as Markdown, ending in a newline."""
    entries = [e for e in ENTRIES if file in e.files and e.table == table]
    if not entries:
        raise KeyError(f"{file}: no table {table!r} in the column dictionary")
    lines = ["| column | type | unit | meaning |", "|---|---|---|---|"]
    for entry in entries:
        meaning = entry.meaning
        if "{side}" in entry.column:
            meaning += "; `_baseline`, `_scenario` and `_change` (scenario − baseline)"
        name = "*other grid columns*" if entry.column == "{grid}" else f"`{entry.column}`"
        lines.append(f"| {name} | {entry.dtype} | {entry.unit} | {meaning.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def render(text: str) -> str:
    """``text`` (a README) with every marked table regenerated."""

    def table(match: re.Match) -> str:
        head = match.group(0).split("\n", 1)[0]
        return f"{head}\n{markdown_table(match['file'], match['table'] or '')}<!-- end columns -->"

    return _MARKER.sub(table, text)


def marked_tables(text: str) -> list[tuple[str, str]]:
    """The ``(file, table)`` of each marked block of ``text``, in order."""
    return [(m["file"], m["table"] or "") for m in _MARKER.finditer(text)]


@functools.cache
def _pattern(column: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", column)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>{_PLACEHOLDERS[p]})"
                    for i, p in enumerate(parts))
    return re.compile(regex)


def _literal_length(column: str) -> int:
    return len(re.sub(r"\{\w+\}", "", column))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bereikbaarheid.columns --write README`` regenerates the
    marked tables; ``--check README`` exits 1 when they are out of date."""
    parser = argparse.ArgumentParser(prog="python -m bereikbaarheid.columns",
                                     description=main.__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", type=Path, metavar="README")
    action.add_argument("--check", type=Path, metavar="README")
    args = parser.parse_args(argv)
    path = args.write or args.check
    text = path.read_text(encoding="utf-8")
    new = render(text)
    if args.check:
        if new != text:
            print(f"{path}: column tables out of date; run python -m bereikbaarheid.columns "
                  f"--write {path}", file=sys.stderr)
            return 1
        return 0
    if new != text:
        with _io.atomic_open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
