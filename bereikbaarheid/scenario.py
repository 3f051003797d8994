"""What-if runs: a baseline and a scenario (facilities closed, added or resized, a
population projection, bus frequencies), their difference, written beside the profile.

The scenario reuses everything of the baseline that it does not change: the
cached networks and timetable, and the road travel times, which are updated
incrementally (one search from a new facility; for a closure, only the nodes
it served) and equal a full rerun exactly.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import _io, _progress, export, pipeline
from .config import Settings
from .errors import ConfigError
from .measures import access
from .networks import timetable as timetable_module
from .sources import (boundaries, facilities as facility_source, projection as projection_source,
                      scenario as scenario_source)

logger = logging.getLogger(__name__)

# Summary statistics compared between baseline and scenario, per area x type x mode.
_SUMMARY_COLUMNS = ("population", "population_65_plus", "population_0_14", "mean_time_s",
                    "median_time_s", "p90_time_s", "share_beyond_norm",
                    "share_0_14_beyond_norm", "share_65_plus_beyond_norm")
_CAPACITY_COLUMNS = ("demand", "capacity", "gap", "fte_shortfall", "population_beyond_norm",
                     "share_beyond_norm")
_FACILITY_COLUMNS = ("capacity", "catchment_demand", "fca_ratio", "assigned_demand", "gap",
                     "utilisation")


@dataclass
class ScenarioResult:
    """The baseline and scenario profiles and the tables of their difference.

    ``diff`` holds ``cells`` (per cell and type x mode: time change, norm
    reached or lost, demand and ratio change), ``summary`` (per area x type x
    mode: baseline, scenario and change of the main statistics), ``capacity``
    (per area x type: demand, capacity and gap) and ``facilities`` (per
    facility: status kept / closed / added / resized, capacity, demand, gap).
    ``timings_s`` compares the incremental road update with what it replaced.
    """

    baseline: pipeline.ProfileResult
    scenario: pipeline.ProfileResult
    diff: dict[str, pd.DataFrame]
    timings_s: dict[str, float]


@dataclass
class Baseline:
    """A region's baseline, measured once; scenarios are applied to it.

    ``measured`` keeps the road searches (its ``access.state``), so that each
    scenario updates the travel times incrementally instead of recomputing
    them. A batch keeps one per region in memory, on the worker that made it,
    while the region's scenarios run.
    """

    inputs: pipeline.RunInputs
    measured: pipeline.Measured

    @property
    def folder(self) -> Path:
        """Where the baseline profile goes: ``output_dir / region``."""
        config = self.inputs.config
        return Path(config.output_dir) / config.region


@dataclass
class Applied:
    """A scenario applied to a baseline, not yet written: its measures, its
    differences and manifest entry, and the cells (projected or not) and
    timetable it was measured on."""

    scenario: scenario_source.Scenario
    inputs: pipeline.RunInputs
    measured: pipeline.Measured
    diff: dict[str, pd.DataFrame]
    manifest: dict[str, Any]
    timings_s: dict[str, Any]
    cells: gpd.GeoDataFrame | None = None
    timetable: Any = None

    @property
    def folder(self) -> Path:
        """Where the scenario profile goes: ``output_dir / f"{region}@{name}"``."""
        config = self.inputs.config
        return Path(config.output_dir) / f"{config.region}@{self.scenario.name}"


def run_scenario(config: pipeline.RunConfig, scenario: scenario_source.Scenario | str | Path,
                 *, incremental: bool = True) -> ScenarioResult:
    """Run the baseline and the scenario and write both with their difference.

    The baseline goes to ``output_dir / region`` as a normal profile; the
    scenario to ``output_dir / f"{region}@{scenario.name}"``: its own profile
    (same schema) plus ``diff_cells.parquet``, ``diff_summary.csv``,
    ``diff_capacity.csv`` and ``diff_facilities.csv``; its manifest records
    the scenario. Both folders are then added to the run's catalogue
    (``config.catalog_path``).

    Parameters
    ----------
    config
        The baseline run.
    scenario
        A scenario, or the path of its TOML file.
    incremental
        Update road travel times incrementally (default); False recomputes
        them in full (for checking and benchmarks: the tables are the same).
    """
    if not isinstance(scenario, scenario_source.Scenario):
        scenario = scenario_source.read_scenario(scenario)
    base = baseline(config)
    applied = apply(base, scenario, incremental=incremental)
    # Both profiles are written once both are computed: a scenario that fails
    # leaves the profiles of an earlier run as they were.
    base_result = write_baseline(base)
    result = write_applied(applied)
    pipeline.update_catalog(config, [base.folder, applied.folder])
    return ScenarioResult(baseline=base_result, scenario=result, diff=applied.diff,
                          timings_s=applied.timings_s)


def baseline(config: pipeline.RunConfig) -> Baseline:
    """Prepare the inputs and measure the baseline, keeping the road searches
    for incremental scenario updates."""
    inputs = pipeline.prepare(config)
    logger.info("baseline")
    measured = pipeline.measure(inputs)
    # The baseline's timings stop here: a scenario times its own steps on a copy.
    return Baseline(inputs=dataclasses.replace(inputs, timings=_progress.Timings(inputs.timings)),
                    measured=measured)


def write_baseline(base: Baseline) -> pipeline.ProfileResult:
    """Write the baseline profile (no catalogue: the caller adds it)."""
    return pipeline.write(base.inputs, base.measured, base.folder)


def write_applied(applied: Applied, extra_tables: dict[str, pd.DataFrame] | None = None
                  ) -> pipeline.ProfileResult:
    """Write a scenario's profile with its differences (and ``extra_tables``;
    no catalogue)."""
    export.recover(applied.folder)
    tables = {"diff_cells.parquet": applied.diff["cells"],
              "diff_summary.csv": applied.diff["summary"],
              "diff_capacity.csv": applied.diff["capacity"],
              "diff_facilities.csv": applied.diff["facilities"], **(extra_tables or {})}
    return pipeline.write(applied.inputs, applied.measured, applied.folder,
                          extra=applied.manifest, extra_tables=tables)


def apply(base: Baseline, scenario: scenario_source.Scenario, *,
          incremental: bool = True, keep_state: bool = True) -> Applied:
    """Apply ``scenario`` to the baseline: its facilities, population,
    timetable and the road travel times (updated incrementally unless
    ``incremental`` is False). ``base`` is not modified, so that one
    baseline serves many scenarios; ``keep_state`` False lets the scenario's
    own road searches go once measured (a batch does not build on them)."""
    config = base.inputs.config
    settings = config.settings
    inputs = dataclasses.replace(base.inputs, timings=_progress.Timings(base.inputs.timings))
    base_measured = base.measured
    if base_measured.gaps is None:
        raise ConfigError(f"a scenario compares capacity too: fca_mode {settings.fca_mode!r} "
                          f"must be among the modes {list(settings.modes)}")

    logger.info(f"scenario {scenario.name}: " + "; ".join(scenario.changes_summary()))
    facilities = _changed_facilities(base_measured.facilities, scenario, inputs, settings)
    cells = inputs.cells
    noticed: list[str] = []
    if scenario.projection is not None:
        projection = scenario.projection.projection
        projection.check_municipalities(inputs.all_municipalities["code"])
        projected = projection_source.apply_projection(cells, projection,
                                                       scenario.projection.year)
        noticed += projected.attrs.get("warnings", [])  # logged by the reader
        cells = gpd.GeoDataFrame(projected, geometry=cells.geometry, crs=cells.crs)
    tt = inputs.timetable
    if scenario.frequency:
        if tt is None:
            raise ConfigError("[[frequency]] needs public transport (a GTFS input and the "
                              "mode 'pt')", path=scenario.path)
        try:
            tt = timetable_module.with_route_frequency(
                tt, {f.route_id: f.factor for f in scenario.frequency})
        except ValueError as exc:
            raise ConfigError(str(exc), path=scenario.path) from None

    started = time.perf_counter()
    if incremental:
        road = _incremental_road(base_measured.access, base_measured.facilities, facilities,
                                 scenario)
    else:
        road = access.compute_access(inputs.networks, cells["x"].to_numpy(),
                                     cells["y"].to_numpy(), facilities, settings,
                                     hierarchies=inputs.hierarchies,
                                     cache_dir=inputs.config.cache_dir)
    road_s = time.perf_counter() - started
    unlinked = _unlinked_additions(road, scenario, settings)
    measured = pipeline.measure(inputs, cells=cells, facilities=facilities, timetable=tt,
                                road=road, keep_state=keep_state,
                                said=set(base_measured.warnings))
    for warning in unlinked:
        logger.warning(warning)
    measured.warnings.extend(noticed + unlinked)
    diff = _differences(base_measured, measured, scenario, settings)
    timings = {"road_update_s": round(road_s, 3), "incremental": incremental}
    extra = {"scenario": {
        "name": scenario.name, "description": scenario.description,
        "file": str(scenario.path), "sha256": _io.file_digest(scenario.path),
        "changes": scenario.changes_summary(),
        "baseline": str(Path(config.output_dir) / config.region),
        "road_travel_times": timings,
    }}
    return Applied(scenario=scenario, inputs=inputs, measured=measured, diff=diff,
                   manifest=extra, timings_s=timings, cells=cells, timetable=tt)


def describe(result: ScenarioResult) -> list[str]:
    """What changed, in a few lines: the changes, the region's median time and
    share beyond the norm per type and mode, the capacity gaps, the facilities
    changed and how the road travel times were updated."""
    manifest = result.scenario.manifest["scenario"]
    lines = [f"scenario {manifest['name']}: {manifest['description']}"]
    lines += [f"  - {line}" for line in manifest["changes"]]
    summary = result.diff["summary"]
    lines.append(f"{'type':<12}{'mode':<6}{'median min':>17}{'beyond norm':>21}")
    for row in summary[summary["level"] == "region"].to_dict(orient="records"):
        lines.append(
            f"{row['type']:<12}{row['mode']:<6}"
            f"{row['median_time_s_baseline'] / 60:>8.1f} ->{row['median_time_s_scenario'] / 60:>6.1f}"
            f"{row['share_beyond_norm_baseline']:>11.1%} ->{row['share_beyond_norm_scenario']:>7.1%}")
    capacity = result.diff["capacity"]
    for row in capacity[capacity["level"] == "region"].to_dict(orient="records"):
        lines.append(f"capacity gap {row['type']:<12}{row['gap_baseline']:>10,.0f} ->"
                     f"{row['gap_scenario']:>10,.0f} {row['unit']} "
                     "(demand minus capacity; negative: room to spare)")
    changed = result.diff["facilities"]
    for row in changed[changed["status"] != "kept"].to_dict(orient="records"):
        lines.append(f"facility {row['status']:<8}{row['facility_id']} ({row['type']}, "
                     f"{row['name']})")
    road = manifest["road_travel_times"]
    how = "incrementally" if road["incremental"] else "in full"
    lines.append(f"road travel times updated {how} in {road['road_update_s']:.2f}s")
    return lines


def _changed_facilities(facilities: gpd.GeoDataFrame, scenario: scenario_source.Scenario,
                        inputs: pipeline.RunInputs, settings: Settings) -> gpd.GeoDataFrame:
    """The baseline facilities minus the closed ones (order kept), resized, plus
    the added ones at the end: the order a full rerun would number them in."""
    known = set(facilities["facility_id"])
    where = scenario.path
    missing = [f for f in scenario.close if f not in known]
    missing += [c.facility_id for c in scenario.capacity if c.facility_id not in known]
    if missing:
        raise ConfigError(f"facility id(s) {missing} not among the baseline's facilities "
                          "(see facilities.csv of the baseline profile)", path=where)
    clash = [a.facility_id for a in scenario.add if a.facility_id in known]
    if clash:
        raise ConfigError(f"added facility id(s) {clash} already exist", path=where)
    wrong = [a.facility_id for a in scenario.add if a.type not in settings.facility_types]
    if wrong:
        raise ConfigError(f"added facility(ies) {wrong} have a type that is not analysed "
                          f"({list(settings.facility_types)})", path=where)
    types = dict(zip(facilities["facility_id"], facilities["type"]))
    for i, change in enumerate(scenario.capacity, start=1):
        ftype = types[change.facility_id]
        if change.fte is not None and ftype != "gp":
            raise ConfigError(f"fte is for a GP practice; {change.facility_id} is a {ftype}",
                              path=where, key=f"capacity[{i}].fte")
        for field_name in ("capacity", "fte"):
            value = getattr(change, field_name)
            problem = (None if value is None
                       else facility_source.plausibility_problem(ftype, field_name, value))
            if problem:
                raise ConfigError(problem, path=where, key=f"capacity[{i}].{field_name}")
    out = facilities[~facilities["facility_id"].isin(scenario.close)].copy()
    for column in ("capacity", "fte"):
        if column not in out:
            out[column] = np.nan
    for change in scenario.capacity:
        row = out["facility_id"] == change.facility_id
        out.loc[row, "capacity"] = change.capacity if change.capacity is not None else np.nan
        out.loc[row, "fte"] = change.fte if change.fte is not None else np.nan
    if scenario.add:
        added = pd.DataFrame({
            "facility_id": [a.facility_id for a in scenario.add],
            "type": [a.type for a in scenario.add],
            "name": [a.name or a.facility_id for a in scenario.add],
            "capacity": [np.nan if a.capacity is None else a.capacity for a in scenario.add],
            "fte": [np.nan if a.fte is None else a.fte for a in scenario.add],
            "source": "scenario",
            "x": [a.x for a in scenario.add], "y": [a.y for a in scenario.add],
        })
        codes, _ = boundaries.assign_municipality(added["x"].to_numpy(), added["y"].to_numpy(),
                                                  inputs.all_municipalities)
        added["domestic"] = pd.notna(codes)
        added = gpd.GeoDataFrame(added, geometry=gpd.points_from_xy(added["x"], added["y"]),
                                 crs=facilities.crs)
        out = pd.concat([out, added[[c for c in out.columns if c in added]]],
                        ignore_index=True)
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=facilities.crs)


def _unlinked_additions(road: access.AccessResult, scenario: scenario_source.Scenario,
                        settings: Settings) -> list[str]:
    """A warning for each added facility that lies farther than
    ``max_link_distance_m`` from every usable road of a mode: it serves no
    one by that mode, though the scenario adds it."""
    if not scenario.add or road.state is None:
        return []
    ids = road.state.facilities["facility_id"].to_numpy(object)
    out = []
    for added in scenario.add:
        row = ids == added.facility_id
        modes = [mode for mode, ms in road.state.modes.items() if (ms.fac_node[row] < 0).any()]
        if modes:
            out.append(f"{scenario.path}: added {added.type} {added.facility_id} at x "
                       f"{added.x:.0f}, y {added.y:.0f} lies farther than "
                       f"{settings.max_link_distance_m:g} m from every usable road for "
                       f"{', '.join(modes)}: unlinked, it serves no one by "
                       f"{'that mode' if len(modes) == 1 else 'these modes'}")
    return out


def _incremental_road(base: access.AccessResult, before: gpd.GeoDataFrame,
                      after: gpd.GeoDataFrame, scenario: scenario_source.Scenario
                      ) -> access.AccessResult:
    """The baseline's road measures updated for closed and added facilities."""
    road = base
    if scenario.close:
        road = access.close_facilities(road.state, list(scenario.close))
    if scenario.add:
        ids = [a.facility_id for a in scenario.add]
        new = after[after["facility_id"].isin(ids)]
        road = access.add_facilities(road.state, pd.DataFrame(new.drop(columns="geometry")))
    return road


def _differences(base: pipeline.Measured, new: pipeline.Measured,
                 scenario: scenario_source.Scenario, settings: Settings
                 ) -> dict[str, pd.DataFrame]:
    """The four difference tables of a scenario (see :class:`ScenarioResult`)."""
    cells_b, cells_s = base.cells, new.cells
    modes = [m for m in settings.modes if f"{m}_link_m" in cells_b]
    out: dict[str, Any] = {
        "cell_id": cells_b["cell_id"].to_numpy(),
        "municipality_code": cells_b["municipality_code"].to_numpy(),
        "aantal_inwoners_baseline": cells_b["aantal_inwoners"].to_numpy(),
        "aantal_inwoners_scenario": cells_s["aantal_inwoners"].to_numpy(),
    }
    for ftype in settings.facility_types:
        norm_s = settings.norm_min[ftype] * 60.0
        for mode in modes:
            tb = cells_b[f"{ftype}_{mode}_time_s"].to_numpy(np.float64)
            ts = cells_s[f"{ftype}_{mode}_time_s"].to_numpy(np.float64)
            out[f"{ftype}_{mode}_time_change_s"] = ts - tb
            # +1: the norm is now met, -1: no longer met, 0: unchanged.
            out[f"{ftype}_{mode}_within_norm_change"] = (
                (np.nan_to_num(ts, nan=np.inf) <= norm_s).astype(np.int8)
                - (np.nan_to_num(tb, nan=np.inf) <= norm_s).astype(np.int8))
        for col in (f"{ftype}_demand", f"{ftype}_fca_ratio"):
            out[f"{col}_change"] = cells_s[col].to_numpy() - cells_b[col].to_numpy()
    diff_cells = gpd.GeoDataFrame(out, geometry=cells_b.geometry.to_numpy(), crs=cells_b.crs)
    keys = ["level", "area_code", "area_name", "type", "mode"]
    within = tuple(c for c in base.summary.columns if c.startswith("share_within"))
    summary = _compare(base.summary, new.summary, keys, _SUMMARY_COLUMNS + within)
    capacity = _compare(base.gaps.areas, new.gaps.areas,
                        ["level", "area_code", "area_name", "type", "unit"], _CAPACITY_COLUMNS)
    facilities = _compare_facilities(base.gaps.facilities, new.gaps.facilities, scenario)
    return {"cells": diff_cells, "summary": summary, "capacity": capacity,
            "facilities": facilities}


def _compare(before: pd.DataFrame, after: pd.DataFrame, keys: list[str],
             columns: tuple[str, ...]) -> pd.DataFrame:
    """Baseline, scenario and change of ``columns``, row by row on ``keys``."""
    columns = [c for c in columns if c in before and c in after]
    # Baseline rows in their order, then rows only the scenario has (added facilities).
    merged = before[keys + columns].merge(after[keys + columns], on=keys, how="left",
                                          suffixes=("_baseline", "_scenario"))
    new_rows = after[keys + columns].merge(before[keys], on=keys, how="left", indicator=True)
    new_rows = new_rows[new_rows["_merge"] == "left_only"].drop(columns="_merge")
    if len(new_rows):
        new_rows = new_rows.rename(columns={c: f"{c}_scenario" for c in columns})
        merged = pd.concat([merged, new_rows], ignore_index=True)
    for c in columns:
        merged[f"{c}_change"] = merged[f"{c}_scenario"] - merged[f"{c}_baseline"]
    ordered = keys + [f"{c}_{part}" for c in columns
                      for part in ("baseline", "scenario", "change")]
    return pipeline._rounded(merged[ordered])


def _compare_facilities(before: pd.DataFrame, after: pd.DataFrame,
                        scenario: scenario_source.Scenario) -> pd.DataFrame:
    keys = ["facility_id", "type", "name"]
    table = _compare(before, after, keys, _FACILITY_COLUMNS)
    status = np.full(len(table), "kept", dtype=object)
    ids = table["facility_id"]
    status[ids.isin(scenario.close).to_numpy()] = "closed"
    status[ids.isin([a.facility_id for a in scenario.add]).to_numpy()] = "added"
    status[ids.isin([c.facility_id for c in scenario.capacity]).to_numpy()] = "resized"
    table.insert(3, "status", status)
    return table
