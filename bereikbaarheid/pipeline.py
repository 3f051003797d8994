"""The road-profile run: read inputs, build or load networks, measure, summarise, write."""

from __future__ import annotations

import dataclasses
import logging
import platform
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import __version__, _io, _progress, catalog, export, profile, regional
from .config import ROAD_MODES, TRANSIT_MODE, Settings
from .errors import ConfigError, InputError
from .measures import access, border, capacity, cbs, transit
from .networks import cache, external
from .run_config import RunConfig
from .sources import boundaries, regions
from .sources import facilities as facility_source
from .sources import grid as grid_source

logger = logging.getLogger(__name__)

_PACKAGES = ("bereikbaarheid", "numpy", "scipy", "pandas", "numba", "geopandas",
             "shapely", "pyogrio", "pyproj", "pyarrow", "osmium")


@dataclass
class ProfileResult:
    """What a run produced: the tables, where they were written, and the manifest.

    ``facilities`` (per facility: capacity, demand, gap) and ``capacity`` (per
    area and type) are the capacity tables; ``access`` the road measures (its
    ``state``, for incremental updates, is kept by :func:`measure` for
    scenarios and let go by :func:`run_profile`).
    """

    cells: gpd.GeoDataFrame
    summary: pd.DataFrame
    files: dict[str, Path]
    manifest: dict[str, Any]
    facilities: pd.DataFrame | None = None
    capacity: pd.DataFrame | None = None
    access: access.AccessResult | None = None


@dataclass
class RunInputs:
    """Everything a run reads or builds before measuring: cells, networks,
    timetable, facilities, with the reports and warnings on the way."""

    config: RunConfig
    cells: gpd.GeoDataFrame
    all_municipalities: gpd.GeoDataFrame
    grid_report: dict[str, Any]
    networks: dict[str, Any]
    hierarchies: dict[str, Any]
    cache_report: dict[str, Any]
    timetable: Any
    transit_report: dict[str, Any]
    facilities: gpd.GeoDataFrame
    warnings: list[str]
    timings: _progress.Timings
    region: regions.Region


@dataclass
class Measured:
    """The tables of one set of inputs (a baseline or a scenario)."""

    cells: gpd.GeoDataFrame
    summary: pd.DataFrame
    gaps: capacity.CapacityResult | None
    access: access.AccessResult
    facilities: gpd.GeoDataFrame
    transit_report: dict[str, Any]
    warnings: list[str]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def run_profile(config: RunConfig) -> ProfileResult:
    """Profile one region and write it to ``config.output_dir / config.region``."""
    inputs = prepare(config)
    # No scenario follows: the searches behind the travel times are let go as
    # soon as they are used, which halves the memory of a national run.
    measured = measure(inputs, keep_state=False)
    result = write(inputs, measured, Path(config.output_dir) / config.region)
    update_catalog(config, [Path(config.output_dir) / config.region])
    return result


def update_catalog(config: RunConfig, folders: list[Path]) -> None:
    """Add the profile folders just written to the run's catalogue
    (:attr:`RunConfig.catalog_path`), if it has one."""
    path = config.catalog_path
    if path is not None:
        logger.info(f"adding {', '.join(f.name for f in folders)} to the catalogue {path}")
        catalog.update(path, folders)


def prepare(config: RunConfig) -> RunInputs:
    """Read the inputs and build (or load) the networks, timetable and facilities."""
    settings = config.settings
    timings = _progress.Timings()
    warnings: list[str] = []
    for key, what in (("osm", "an OpenStreetMap .osm.pbf extract"),
                      ("grid", "a CBS grid GeoPackage"),
                      ("municipalities", "municipality boundaries (GeoPackage or GeoJSON)")):
        path = Path(getattr(config, key))
        if not path.is_file():
            raise InputError(path, f"{'is a folder' if path.is_dir() else 'file not found'}; "
                                   f"expected {what} ([inputs] {key})")
    # Before the long work: a run must not compute for minutes and then find
    # it cannot write.
    _io.check_writable_folder(config.output_dir, "output")
    _io.check_writable_folder(config.cache_dir, "cache")
    if config.catalog_path is not None:
        _io.check_writable_folder(config.catalog_path.parent, "catalogue")
        catalog.check(config.catalog_path)
    # A profile a killed run left moved aside is put back before anything else.
    export.recover(Path(config.output_dir) / config.region)
    if config.gtfs and TRANSIT_MODE in settings.modes and not settings.pt_date:
        raise ConfigError("public transport needs an analysis date: set [settings] pt_date "
                          "(e.g. \"2026-03-10\"; on the command line --set pt_date=2026-03-10), a day "
                          "inside the GTFS feed's service period")

    with timings.step("read_inputs"):
        logger.info(f"reading municipalities {config.municipalities}")
        all_munis = boundaries.read_municipalities(config.municipalities, settings)
        region = regional.resolve(config, all_munis)
        cells, grid_report = _read_cells(config, region, all_munis, warnings)

    osm_path, gtfs_paths, clip_report = Path(config.osm), tuple(config.gtfs), None
    if config.clip:
        with timings.step("clip_inputs"):
            osm_path, gtfs_paths, clip_report = regional.clipped_inputs(
                config, {config.region: region.area})[config.region]

    own = {mode: Path(p) for mode, p in config.networks.items()}
    unknown = sorted(set(own) - set(ROAD_MODES))
    if unknown:
        raise ConfigError(f"[inputs.networks]: {unknown} are not road modes {ROAD_MODES}")
    with timings.step("networks"):
        logger.info(f"road networks from {osm_path}")
        networks, osm_facilities, cache_report = cache.load_or_build(
            osm_path, settings, cache_dir=config.cache_dir,
            modes=tuple(m for m in settings.road_modes if m not in own))
        for mode, source in own.items():
            if mode in settings.road_modes:
                logger.info(f"{mode} network from {source}")
                networks[mode], cache_report[mode] = external.load_or_build_external(
                    source, mode, settings, cache_dir=config.cache_dir)
        networks = {mode: networks[mode] for mode in settings.road_modes}
    hierarchies = {}
    large = [m for m in settings.road_modes if networks[m].n_nodes >= settings.hierarchy_min_nodes]
    if large:
        with timings.step("hierarchies"):
            for mode in large:
                hierarchies[mode], cache_report[mode]["hierarchy"] = (
                    cache.load_or_build_hierarchy(networks[mode], config.cache_dir))
    if clip_report is not None:
        cache_report["clipped_inputs"] = clip_report

    timetable, transit_report = None, {"status": "not requested"}
    if TRANSIT_MODE in settings.modes:
        if not gtfs_paths:
            transit_report = {"status": "skipped", "reason": "no GTFS input"}
        else:
            with timings.step("transit_network"):
                timetable, transit_report = cache.load_or_build_timetable(
                    gtfs_paths, networks["walk"], settings, cache_dir=config.cache_dir,
                    area=_transit_area(cells, settings))
            warnings.extend(_gtfs_warnings(transit_report))

    with timings.step("facilities"):
        fac = _facilities(config, osm_facilities, all_munis, region, warnings)
    for warning in warnings:
        logger.warning(warning)
    # What the readers warned of they logged themselves.
    warnings.extend([*all_munis.attrs.get("warnings", []), *fac.attrs.get("warnings", [])])
    return RunInputs(config=config, cells=cells, all_municipalities=all_munis,
                     grid_report=grid_report, networks=networks, hierarchies=hierarchies,
                     cache_report=cache_report,
                     timetable=timetable, transit_report=transit_report, facilities=fac,
                     warnings=warnings, timings=timings, region=region)


def measure(inputs: RunInputs, *, cells: gpd.GeoDataFrame | None = None,
            facilities: gpd.GeoDataFrame | None = None, timetable: Any = None,
            road: access.AccessResult | None = None, keep_state: bool = True,
            said: Collection[str] = ()) -> Measured:
    """Travel times, capacity and the summary for the prepared inputs.

    A scenario passes its own ``cells`` (a projected population),
    ``facilities``, ``timetable`` and, when updated incrementally, the road
    measures ``road``; each defaults to the prepared one. With ``keep_state``
    False the road measures' state (every node's search, for incremental
    updates) is released as soon as it has served: ``Measured.access.state``
    is then None. Warnings in ``said`` (a baseline's, for its scenario) are
    recorded but not logged again.
    """
    config, settings, timings = inputs.config, inputs.config.settings, inputs.timings
    # The scope comparison is a property of the baseline's inputs; a
    # scenario's tables differ from its baseline in its changes only.
    compare = settings.compare_scopes and facilities is None and road is None
    cells = inputs.cells if cells is None else cells
    every = inputs.facilities if facilities is None else facilities
    fac = _in_scope(every, settings.facility_scope)
    region_name = inputs.region.spec.name or config.region
    timetable = inputs.timetable if timetable is None else timetable
    warnings = list(inputs.warnings)
    transit_report = dict(inputs.transit_report)
    x, y = cells["x"].to_numpy(), cells["y"].to_numpy()

    with timings.step("travel_times"):
        if road is None:
            road = access.compute_access(inputs.networks, x, y, fac, settings,
                                         hierarchies=inputs.hierarchies,
                                         cache_dir=config.cache_dir)
        warnings.extend(_link_warnings(road.report, road.table,
                                       cells["aantal_inwoners"].to_numpy(), settings))
        tables = [road.table]
        if timetable is not None:
            pt = transit.compute_transit(timetable, inputs.networks, x, y, fac, settings)
            tables.append(pt.table)
            transit_report["access"] = pt.report

    other = border.other_scope(settings.facility_scope)
    other_fac = _in_scope(every, other)
    if compare and len(other_fac) != len(fac):
        with timings.step("other_scope"):
            logger.info(f"travel times with facilities {other} for the comparison")
            tables.append(border.scope_time_columns(
                _other_scope_access(road, every, release=not keep_state), other))
            if timetable is not None:
                tables.append(border.scope_time_columns(transit.compute_transit(
                    timetable, inputs.networks, x, y, other_fac, settings).table, other))
    elif compare:
        warnings.append("no facility abroad in the analysis area: cross-border and nl-only "
                        "give the same times, no border comparison written")

    if not keep_state:
        # Capacity needs the graph of fca_mode only, not any search.
        road = dataclasses.replace(road, state=_graph_of(road.state, settings.fca_mode))

    with timings.step("capacity"):
        attrs = cells.drop(columns="geometry")
        cell_table = pd.concat([attrs, *tables], axis=1)
        cbs_cells = cbs.compare_cells(cell_table, settings, settings.cbs_distance_columns)
        cell_table = pd.concat([cell_table, cbs_cells], axis=1)
        gaps = None
        if settings.fca_mode in settings.modes:
            gaps = _capacity(cell_table, fac, inputs.networks, road, settings, config.region,
                             region_name)
            cell_table = pd.concat([cell_table, gaps.cells], axis=1)
        else:
            warnings.append(f"capacity measures skipped: fca_mode {settings.fca_mode!r} is not "
                            f"among the computed modes {list(settings.modes)}")
        cell_table = gpd.GeoDataFrame(cell_table, geometry=cells.geometry, crs=cells.crs)
    if not keep_state:
        road = dataclasses.replace(road, state=None)

    with timings.step("profile"):
        summary = _rounded(profile.summarise(
            cell_table, config.region, region_name, settings))
        tables_out = {}
        if any(c.endswith(f"_{border.SCOPE_TAGS[other]}_time_s") for c in cell_table.columns):
            tables_out[export.FILES["border"]] = _rounded(border.compare_scopes(
                cell_table, settings, config.region, region_name))
        if len(cbs_cells.columns):
            tables_out[export.FILES["cbs_comparison"]] = _rounded(cbs.compare_areas(
                cell_table, settings, config.region, region_name,
                settings.cbs_distance_columns))
    for warning in warnings[len(inputs.warnings):]:
        if warning not in said:
            logger.warning(warning)
    return Measured(cells=cell_table, summary=summary, gaps=gaps, access=road,
                    facilities=fac, transit_report=transit_report, warnings=warnings,
                    tables=tables_out)


def _other_scope_access(road: access.AccessResult, every: gpd.GeoDataFrame,
                        release: bool = False) -> pd.DataFrame:
    """Road measures of the other facility scope, updated incrementally from
    ``road``: the facilities abroad closed (cross-border -> nl-only) or added
    (nl-only -> cross-border). Only the residents whose nearest facility
    changes are searched again; the times equal those of a full run.

    One mode at a time; with ``release``, each mode's searches in ``road``
    are dropped once done with (the capacity step needs only the graph of
    ``fca_mode``), so the state is never held twice.
    """
    abroad = ~every["domestic"].to_numpy(bool)
    state = road.state
    parts = []
    for mode, ms in list(state.modes.items()):
        one = dataclasses.replace(state, modes={mode: ms})
        if state.facilities["domestic"].all():
            parts.append(access.add_facilities(one, pd.DataFrame(
                every.loc[abroad].drop(columns="geometry"))).table)
        else:
            # Only the times are compared: no counts or CBS distance.
            parts.append(access.close_facilities(one, every.loc[abroad, "facility_id"],
                                                 table_only=True, times_only=True).table)
        if release:
            state.modes[mode] = dataclasses.replace(ms, nearest={}, cbs={})
    return pd.concat(parts, axis=1)


def _graph_of(state: access.AccessState | None, mode: str) -> access.AccessState | None:
    """``state`` with only ``mode`` left, and without its searches."""
    if state is None:
        return None
    return dataclasses.replace(state, modes={
        m: dataclasses.replace(ms, nearest={}, cbs={})
        for m, ms in state.modes.items() if m == mode})


def _in_scope(facilities: gpd.GeoDataFrame, scope: str) -> gpd.GeoDataFrame:
    """The facilities that count in ``scope``: all, or the domestic ones."""
    if scope == "cross-border" or "domestic" not in facilities:
        return facilities
    return facilities.loc[facilities["domestic"].to_numpy(bool)].reset_index(drop=True)


def write(inputs: RunInputs, measured: Measured, folder: Path,
          extra: dict[str, Any] | None = None,
          extra_tables: dict[str, pd.DataFrame] | None = None) -> ProfileResult:
    """Write a profile folder (atomically) with its manifest; ``extra`` goes
    into the manifest (a scenario's description) and ``extra_tables`` are
    written beside the profile (a scenario's differences)."""
    config = inputs.config
    transit_report = measured.transit_report
    manifest = _manifest(config, inputs.grid_report, measured.facilities,
                         inputs.cache_report, measured.access.report, transit_report,
                         measured.warnings, inputs.timings)
    manifest["area"] = _area_manifest(inputs.region)
    manifest["facility_scope"] = {
        "scope": config.settings.facility_scope,
        "compared_with": (border.other_scope(config.settings.facility_scope)
                          if export.FILES["border"] in measured.tables else None),
    }
    manifest.update(extra or {})
    issues = (pd.DataFrame(transit_report["issues"], columns=export.GTFS_ISSUE_COLUMNS)
              if "issues" in transit_report else None)
    # The manifest times every step but writing itself (the CLI's total has it).
    gaps = measured.gaps
    facilities = (None if gaps is None
                  else profile.with_coordinates(_rounded(gaps.facilities), measured.facilities))
    capacity_areas = None if gaps is None else _rounded(gaps.areas)
    areas = profile.areas_table(measured.summary, capacity_areas, inputs.region.polygon,
                                inputs.all_municipalities)
    # What the grid brought along, besides the cell id and centroid.
    own = {"cell_id", "x", "y", "municipality_code", "municipality_name",
           inputs.cells.geometry.name}
    grid_columns = [c for c in inputs.cells.columns if c not in own]
    files = export.write_profile(folder, measured.cells, measured.summary, manifest,
                                 gtfs_issues=issues, facilities=facilities,
                                 capacity=capacity_areas,
                                 extra={**measured.tables, **(extra_tables or {})},
                                 areas=areas, grid_columns=grid_columns)
    return ProfileResult(cells=measured.cells, summary=measured.summary, files=files,
                         manifest=manifest, facilities=facilities, capacity=capacity_areas,
                         access=measured.access)


def _read_cells(config: RunConfig, region: regions.Region, all_munis: gpd.GeoDataFrame,
                warnings: list[str]) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The region's grid cells (read with the region polygon as a spatial
    filter) with the municipality holding each centroid; cells whose
    centroid lies outside the region are left out. A region without cells,
    or whose cells hold no inhabitants, is an InputError naming the grid."""
    settings = config.settings
    logger.info(f"reading population grid {config.grid}")
    grid = grid_source.read_grid(config.grid, settings, mask=region.polygon)
    cells = grid.cells
    if grid.report["n_population_missing"]:
        warnings.append(f"{grid.report['n_population_missing']} grid cells have a "
                        "suppressed population (CBS code); they weigh 0 in the profile")
    x, y = cells["x"].to_numpy(), cells["y"].to_numpy()
    codes, names = boundaries.assign_municipality(x, y, all_munis)
    shapely.prepare(region.polygon)
    inside = shapely.intersects_xy(region.polygon, x, y)  # the boundary counts as inside
    if region.spec.polygon_path is None:
        inside &= pd.Series(codes).isin(region.municipalities["code"]).to_numpy()
    inside &= pd.notna(codes)
    if not inside.all():
        warnings.append(f"{int((~inside).sum())} grid cells touch the region but have "
                        "their centroid outside it; left out")
    cells = cells.loc[inside].copy()
    cells.insert(1, "municipality_code", codes[inside])
    cells.insert(2, "municipality_name", names[inside])
    if cells.empty:
        r = region.polygon.bounds
        covers = grid_source.extent(config.grid, grid.report["layer"])
        covered = (f"the grid layer {grid.report['layer']!r} holds no cells" if covers is None
                   else f"the grid covers x {covers[0]:.0f} to {covers[2]:.0f}, "
                        f"y {covers[1]:.0f} to {covers[3]:.0f}")
        raise InputError(config.grid, f"no grid cell lies in region {config.region!r} "
                                      f"(x {r[0]:.0f} to {r[2]:.0f}, y {r[1]:.0f} to {r[3]:.0f} "
                                      f"in {settings.crs}); {covered}; expected the grid and "
                                      f"the boundaries ({config.municipalities}) to overlap")
    population = cells[grid_source.POPULATION_COLUMN].to_numpy(np.float64)
    if not np.nansum(population) > 0:
        suppressed = int(np.isnan(population).sum())
        raise InputError(config.grid, f"the {len(cells)} grid cells of region {config.region!r} "
                                      f"hold no inhabitants ({grid_source.POPULATION_COLUMN} "
                                      f"sums to 0; {suppressed} suppressed); nothing to "
                                      "profile; expected a region where people live")
    return cells.reset_index(drop=True), grid.report


def _facilities(config: RunConfig, osm_facilities: gpd.GeoDataFrame,
                all_munis: gpd.GeoDataFrame, region: regions.Region,
                warnings: list[str]) -> gpd.GeoDataFrame:
    """The facilities of the configured source inside the analysis area, with
    ``x``, ``y`` and ``domestic``; ``attrs["warnings"]`` holds what the
    reader warned of (and logged)."""
    settings = config.settings
    if str(config.facilities) == "osm":
        fac = osm_facilities
    else:
        fac = facility_source.read_facilities(config.facilities, settings,
                                              types=settings.facility_types)
    noticed = list(fac.attrs.get("warnings", []))
    fac = fac[fac["type"].isin(settings.facility_types)].reset_index(drop=True)
    fac = fac.assign(x=fac.geometry.x, y=fac.geometry.y)
    in_area = shapely.contains_xy(region.area, fac["x"].to_numpy(), fac["y"].to_numpy())
    outside = fac.loc[~in_area, "type"].value_counts()
    fac = fac.loc[in_area].reset_index(drop=True)
    # CBS counts only facilities in the Netherlands: those inside a
    # municipality of the boundary file.
    codes, _ = boundaries.assign_municipality(fac["x"].to_numpy(), fac["y"].to_numpy(),
                                              all_munis)
    fac["domestic"] = pd.notna(codes)
    for ftype in settings.facility_types:
        if not (fac["type"] == ftype).any():
            far = int(outside.get(ftype, 0))
            beyond = (f" in the analysis area (the region plus {settings.area_buffer_m:g} m; "
                      f"{far} lie beyond it)" if far else "")
            warnings.append(f"no facility of type {ftype!r} found{beyond}; its travel times "
                            "are empty")
    fac.attrs["warnings"] = noticed
    return fac


def _capacity(cells: pd.DataFrame, fac: gpd.GeoDataFrame, networks,
              road: access.AccessResult, settings: Settings, region: str,
              region_name: str) -> capacity.CapacityResult:
    """Demand, floating-catchment ratios and capacity gaps over ``fca_mode``.

    The catchments search the graph the travel times linked (same cells,
    same facilities in the same order) when there is one, else link anew.
    """
    mode = settings.fca_mode
    state = road.state
    if (state is not None and mode in state.modes and len(state.facilities) == len(fac)
            and (state.facilities["facility_id"].to_numpy(object)
                 == fac["facility_id"].to_numpy(object)).all()):
        reach = capacity.LinkedCatchments.of_mode(state.modes[mode])
    else:
        reach = capacity.LinkedCatchments.link(networks[mode], cells["x"].to_numpy(),
                                               cells["y"].to_numpy(), fac, settings, mode)
    return capacity.capacity_measures(cells, pd.DataFrame(fac.drop(columns="geometry")),
                                      {t: reach for t in settings.facility_types}, settings,
                                      region, region_name)


def _area_manifest(region: regions.Region) -> dict[str, Any]:
    """What the manifest says about the region and its analysis area."""
    spec = region.spec
    return {
        "region_id": spec.id, "region_name": spec.name,
        "definition": ("polygon" if spec.polygon_path is not None else "municipalities"),
        "polygon_file": None if spec.polygon_path is None else str(spec.polygon_path),
        "municipalities": [{"code": c, "name": n} for c, n in
                           zip(region.municipalities["code"], region.municipalities["name"])],
        "missing_municipalities": [{"code": c, "name": n} for c, n in region.missing],
        "region_km2": round(region.polygon.area / 1e6, 3),
        "buffer_m": region.buffer_m,
        "analysis_area_km2": round(region.area.area / 1e6, 3),
    }


def _transit_area(cells: gpd.GeoDataFrame, settings: Settings):
    """Where public-transport trips must pass to matter: the cells plus the
    farthest access or egress leg (a bus that stops just outside the region
    still serves it)."""
    speed_kmh = settings.bike_speed_kmh if settings.pt_access_mode == "bike" else settings.walk_speed_kmh
    reach_m = max(settings.pt_max_access_min * speed_kmh,
                  settings.pt_max_egress_min * settings.walk_speed_kmh) / 60.0 * 1000.0
    return shapely.box(*cells.total_bounds).buffer(reach_m)


def _gtfs_warnings(report: dict[str, Any]) -> list[str]:
    """One warning per GTFS warning category (file and field), with its count."""
    issues = pd.DataFrame(report.get("issues", []), columns=export.GTFS_ISSUE_COLUMNS)
    issues = issues[issues["severity"] == "warning"]
    if issues.empty:
        return []
    return [f"GTFS: {len(issues)} warning(s), listed in {export.FILES['gtfs_issues']}"]


def _link_warnings(report: dict[str, Any], table: pd.DataFrame, population: np.ndarray,
                   settings: Settings) -> list[str]:
    """Warnings about unlinked cells (with their inhabitants, as the summary
    counts them) and facilities, per mode."""
    out = []
    for mode, rep in report["modes"].items():
        if rep["cells_unlinked"]:
            unlinked = table[f"{mode}_link_m"].isna().to_numpy()
            inhabitants = float(np.nansum(population[unlinked]))
            out.append(f"{mode}: {rep['cells_unlinked']} cells ({inhabitants:,.0f} "
                       f"inhabitants) farther than {settings.max_link_distance_m:g} m from a "
                       "usable road (unlinked, counted in the profile)")
        for ftype, n in rep["facilities_unlinked"].items():
            if n:
                out.append(f"{mode}: {n} {ftype} facilities unlinked (too far from a "
                           "usable road), left out")
    return out


def _rounded(df: pd.DataFrame) -> pd.DataFrame:
    """Summary tables rounded for reading: amounts (times, distances,
    population, demand, capacity, gaps) to 0.1; shares, ratios and
    inequality indices to 1e-6; a difference table's ``…_baseline``,
    ``…_scenario`` and ``…_change`` as the measure they compare. Cell values
    are written unrounded, so that counts, shares and times agree exactly."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype != np.float64:
            continue
        # A difference table's column has the precision of the measure it compares.
        name = re.sub(r"_(baseline|scenario|change)$", "", col)
        relative = name.startswith("share") or name.endswith("_share") or "ratio" in name
        amount = name.endswith(("_s", "_m")) or any(
            word in name for word in ("population", "demand", "capacity", "gap", "fte"))
        out[col] = out[col].round(1 if amount and not relative else 6)
    return out


def _transit_manifest(report: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """What the manifest says about public transport: status, query, feed, counts."""
    out = {k: v for k, v in report.items() if k != "issues"}
    if "issues" in report:
        severities = [i["severity"] for i in report["issues"]]
        out["issues"] = {"fatal": severities.count("fatal"),
                         "warning": severities.count("warning")}
        out["query"] = {
            "date": settings.pt_date, "window": list(settings.pt_window),
            "step_min": settings.pt_step_min, "percentiles": list(settings.pt_percentiles),
            "time_percentile": settings.pt_time_percentile,
            "max_rides": settings.pt_max_rides, "max_time_min": settings.pt_max_time_min,
            "access_mode": settings.pt_access_mode, "method": settings.pt_method,
        }
    return out


def _input_record(path: Path) -> dict[str, Any]:
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": _io.file_digest(path)}


def _manifest(config: RunConfig, grid_report, fac, cache_report, access_report,
              transit_report, warnings, timings) -> dict[str, Any]:
    inputs: dict[str, Any] = {k: _input_record(Path(getattr(config, k)))
                              for k in ("osm", "grid", "municipalities")}
    if config.gtfs:
        inputs["gtfs"] = [_input_record(Path(p)) if Path(p).is_file() else {"path": str(p)}
                          for p in config.gtfs]
    if str(config.facilities) != "osm":
        inputs["facilities"] = _input_record(Path(config.facilities))
    if config.networks:
        inputs["networks"] = {m: _input_record(Path(p)) for m, p in config.networks.items()}
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    types = config.settings.facility_types
    return {
        "schema_version": export.SCHEMA_VERSION,
        "version": __version__,
        "region": config.region,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs": inputs,
        "facility_source": "osm" if str(config.facilities) == "osm" else "file",
        "settings": config.settings.to_dict(),
        "networks": cache_report,
        "grid": grid_report,
        "facilities": {t: int((fac["type"] == t).sum()) for t in types},
        "facilities_abroad": {t: int(((fac["type"] == t) & ~fac["domestic"]).sum())
                              for t in types},
        "access": access_report,
        "transit": _transit_manifest(transit_report, config.settings),
        "warnings": warnings,
        "python": platform.python_version(),
        "packages": versions,
        "timings_s": dict(timings),
    }
