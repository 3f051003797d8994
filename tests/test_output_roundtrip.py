"""Every file a run writes reads back as the table the run held in memory:
the same columns in the same order, the documented types, and the values at
the precision profiles/README.md documents, column by column.

One demo baseline (with the impact of closing each GP) and one scenario on it
(a GP closed, one added, the population projected to 2040, so that amounts
are fractional) are written once for the module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from bereikbaarheid import (
    RunConfig,
    closures,
    columns,
    export,
    pipeline,
    profile,
    scenario,
)
from bereikbaarheid.measures import border, cbs
from bereikbaarheid.sources import scenario as scenario_source

# The precision of the tables rounded for reading (profiles/README.md, "Units"
# and the column tables): amounts to 0.1 (times and distances, inhabitants,
# demand, capacity and gaps in the type's unit, FTE, person-minutes), shares
# and ratios to 6 decimals, WGS84 degrees to 7, areas in km2 to 3. By the unit
# the column dictionary (bereikbaarheid/columns.py) gives each column.
DECIMALS_BY_UNIT = {"s": 1, "m": 1, "inhabitants": 1, "type unit": 1, "FTE": 1,
                    "person-minutes": 1, "share": 6, "ratio": 6, "degrees": 7, "km2": 3}
# Files of the cells, written unrounded (profiles/README.md: "Cell values are
# written unrounded").
UNROUNDED_FILES = ("cells.parquet", "diff_cells.parquet")
# Columns of a rounded file that are not measures: a facility's location as
# read, and the norm as set.
NOT_ROUNDED = {"facilities.csv": ("x", "y"), "closure_impact.csv": ("x", "y", "norm_min")}

CLOSED_GP = "osm:w1454"  # Nieuwesluis's only practice in the demo (seed 2024)
SCENARIO = f"""
[scenario]
name = "move-gp-2040"
description = "The village GP moves to Oosterzande, in 2040"

[[close]]
facility_id = "{CLOSED_GP}"

[[add]]
facility_id = "new:gp-oosterzande"
type = "gp"
name = "Huisartsenpraktijk Nieuw"
x = 40300.0
y = 369500.0
fte = 1.3

[projection]
file = "{{projection}}"
year = 2040
"""


def documented_decimals(file: str, column: str, grid_columns=()) -> int | None:
    """The decimals ``column`` of ``file`` is written to, by its unit in the
    column dictionary; None for a column not rounded (text, whole numbers,
    the cells, locations as read)."""
    if file in UNROUNDED_FILES or column in NOT_ROUNDED.get(file, ()):
        return None
    entry = columns.lookup(file, column, grid_columns)
    if entry.dtype != "float":
        return None
    return DECIMALS_BY_UNIT[entry.unit]


@dataclasses.dataclass
class Written:
    """The tables a run held in memory, and the folders it wrote them to."""

    config: RunConfig
    base: scenario.Baseline
    applied: scenario.Applied
    baseline: pipeline.ProfileResult
    scenario: pipeline.ProfileResult
    closures_raw: pd.DataFrame
    closures: pd.DataFrame
    grid_columns: list[str]

    @property
    def region_name(self) -> str:
        return self.base.inputs.region.spec.name or self.config.region


@pytest.fixture(scope="module")
def run(demo_region, tmp_path_factory) -> Written:
    work = tmp_path_factory.mktemp("roundtrip")
    config = RunConfig.from_toml(demo_region.config, output_dir=work / "profiles",
                                 cache_dir=work / "cache")
    base = scenario.baseline(config)
    on = closures.closure_base(base.inputs, base.measured, types=("gp",))
    raw = closures.impact_rows(on, closures.candidates(on, "gp"))
    ranked = closures.ranked(raw)
    baseline = pipeline.write(
        base.inputs, base.measured, base.folder,
        extra={"closures": {"type": "gp", "facilities": len(ranked),
                            "file": closures.CLOSURE_FILE}},
        extra_tables={closures.CLOSURE_FILE: ranked})
    path = work / "scenario.toml"
    path.write_text(SCENARIO.format(projection=demo_region.projection), encoding="utf-8")
    applied = scenario.apply(base, scenario_source.read_scenario(path))
    written = scenario.write_applied(applied)
    own = {"cell_id", "x", "y", "municipality_code", "municipality_name",
           base.inputs.cells.geometry.name}
    grid = [c for c in base.inputs.cells.columns if c not in own]
    return Written(config=config, base=base, applied=applied, baseline=baseline,
                   scenario=written, closures_raw=raw, closures=ranked, grid_columns=grid)


def _areas(measured: pipeline.Measured, capacity: pd.DataFrame | None,
           inputs: pipeline.RunInputs) -> gpd.GeoDataFrame:
    return profile.areas_table(measured.summary, capacity, inputs.region.polygon,
                               inputs.all_municipalities)


def _in_memory(run: Written, which: str) -> dict[str, pd.DataFrame]:
    """Every table of a folder as the run held it, by file name."""
    if which == "baseline":
        inputs, measured, result = run.base.inputs, run.base.measured, run.baseline
        extra = {closures.CLOSURE_FILE: run.closures}
    else:
        inputs, measured, result = run.applied.inputs, run.applied.measured, run.scenario
        extra = {f"diff_{k}.{'parquet' if k == 'cells' else 'csv'}": v
                 for k, v in run.applied.diff.items()}
    if "issues" in measured.transit_report:  # public transport ran
        extra["gtfs_issues.csv"] = pd.DataFrame(measured.transit_report["issues"],
                                                columns=export.GTFS_ISSUE_COLUMNS)
    return {"cells.parquet": measured.cells, "summary.csv": measured.summary,
            "facilities.csv": result.facilities, "capacity.csv": result.capacity,
            "areas.parquet": _areas(measured, result.capacity, inputs),
            **measured.tables, **extra}


def _folder(run: Written, which: str) -> Path:
    return Path(run.baseline.files["manifest"] if which == "baseline"
                else run.scenario.files["manifest"]).parent


def _read(path: Path) -> pd.DataFrame:
    # Every Parquet file of a profile is GeoParquet (the cells, the areas).
    return gpd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _text(values) -> list[Any]:
    """Text values with a missing or empty value as None (CSV keeps no difference)."""
    return [None if _missing(v) or v == "" else v for v in values]


def _assert_column_reads_back(read: pd.Series, held: pd.Series, dtype: str, what: str,
                              typed: bool) -> None:
    """A column read back against the one held in memory. ``typed``: the
    file keeps the types (Parquet), so the dtype must be the same."""
    if typed:
        assert read.dtype == held.dtype, (what, read.dtype, held.dtype)
    if dtype == "geometry":
        assert read.crs == held.crs, what
        assert shapely.equals_exact(read.to_numpy(), held.to_numpy(), tolerance=0).all(), what
    elif dtype == "string":
        assert (pd.api.types.is_string_dtype(read.dtype)
                or read.isna().all()), (what, read.dtype)
        assert _text(read) == _text(held), what
    elif dtype == "float":
        assert read.dtype == np.float64, (what, read.dtype)
        np.testing.assert_array_equal(read.to_numpy(np.float64),
                                      held.to_numpy(np.float64), err_msg=what)
    elif dtype in ("int", "int8"):
        assert pd.api.types.is_integer_dtype(read.dtype), (what, read.dtype)
        assert read.tolist() == held.tolist(), what
    elif dtype in ("Int32", "Int64"):
        assert [None if _missing(v) else int(v) for v in read] == [
            None if _missing(v) else int(v) for v in held], what
    else:  # a grid column as read: Parquet keeps it as it is
        pd.testing.assert_series_equal(read, held, check_names=False, check_exact=True,
                                       obj=what)


def _assert_table_reads_back(path: Path, held: pd.DataFrame, grid_columns) -> None:
    read = _read(path)
    assert list(read.columns) == list(held.columns), path.name
    assert len(read) == len(held), path.name
    for column in held.columns:
        dtype = columns.lookup(path.name, column, grid_columns).dtype
        _assert_column_reads_back(read[column], held[column], dtype, f"{path.name}: {column}",
                                  typed=path.suffix == ".parquet")


FOLDERS = ("baseline", "scenario")


@pytest.mark.parametrize("which", FOLDERS)
def test_every_file_of_the_folder_is_read_back_here(run, which):
    # The list below is every file a folder holds; a file written and not
    # compared with its table would be a file no test reads back.
    folder = _folder(run, which)
    tables = set(_in_memory(run, which))
    others = {"summary.json", "manifest.json", "municipalities.geojson"}
    assert {p.name for p in folder.iterdir()} == tables | others
    result = run.baseline if which == "baseline" else run.scenario
    assert {p.name for p in result.files.values()} == tables | others


@pytest.mark.parametrize("which", FOLDERS)
def test_the_tables_read_back_as_held_column_by_column(run, which):
    folder = _folder(run, which)
    for name, held in _in_memory(run, which).items():
        _assert_table_reads_back(folder / name, held, run.grid_columns)


def _documented_columns(file: str, settings, modes) -> list[str]:
    """The columns the dictionary lists for ``file``, its patterns expanded
    over the run's types, modes, thresholds, percentiles and sides, in the
    dictionary's order."""
    values = {"type": settings.facility_types, "mode": modes, "T": settings.thresholds_min,
              "P": settings.pt_percentiles, "side": ("baseline", "scenario", "change")}
    out = []
    for entry in columns.ENTRIES:
        if file in entry.files:
            holes = re.findall(r"\{(\w+)\}", entry.column)
            for combination in itertools.product(*(values[h] for h in holes)):
                name = entry.column
                for hole, value in zip(holes, combination):
                    name = name.replace(f"{{{hole}}}", str(value), 1)
                out.append(name)
    return out


# Files whose columns go per type (and mode) in groups, not pattern by pattern.
GROUPED = ("areas.parquet", "closure_impact.csv")


@pytest.mark.parametrize("which", FOLDERS)
def test_the_summary_tables_hold_every_documented_column(run, which):
    # A column dropped before writing is documented but missing here.
    settings = run.config.settings
    modes = [m for m in settings.modes if f"{m}_link_m" in run.base.measured.cells]
    folder = _folder(run, which)
    for name in _in_memory(run, which):
        if name in UNROUNDED_FILES:
            continue  # the cells: their columns depend on the grid and the settings
        written = list(_read(folder / name).columns)
        documented = _documented_columns(name, settings, modes)
        if name in GROUPED:
            written, documented = sorted(written), sorted(documented)
        assert written == documented, name


# -- the precision of the tables rounded for reading ---------------------------------

def _assert_at_precision(table: pd.DataFrame, file: str, raw: pd.DataFrame | None = None,
                         grid_columns=()) -> None:
    """Every float column of ``table`` at its documented decimals; with
    ``raw`` (the same rows unrounded), equal to ``raw`` rounded so."""
    for column in table.columns:
        decimals = documented_decimals(file, column, grid_columns)
        if decimals is None:
            continue
        values = table[column].to_numpy(np.float64)
        # A float's last bit aside: 1e-3 of the last decimal kept.
        atol = 10.0 ** -(decimals + 3)
        np.testing.assert_allclose(values, np.round(values, decimals), rtol=0, atol=atol,
                                   err_msg=f"{file}: {column} finer than {decimals} decimals")
        if raw is not None:
            np.testing.assert_allclose(
                values, np.round(raw[column].to_numpy(np.float64), decimals), rtol=0,
                atol=atol, err_msg=f"{file}: {column} not rounded to {decimals} decimals")


@pytest.mark.parametrize("which", FOLDERS)
def test_every_summary_table_is_at_the_documented_precision(run, which):
    folder = _folder(run, which)
    for name in _in_memory(run, which):
        if name not in UNROUNDED_FILES:
            _assert_at_precision(_read(folder / name), name, grid_columns=run.grid_columns)


@pytest.mark.parametrize("which", FOLDERS)
def test_the_summary_tables_are_the_unrounded_measures_rounded_as_documented(run, which):
    measured = run.base.measured if which == "baseline" else run.applied.measured
    settings, region = run.config.settings, run.config.region
    cells = measured.cells
    raw = {
        "summary.csv": profile.summarise(cells, region, run.region_name, settings),
        "capacity.csv": measured.gaps.areas,
        "facilities.csv": profile.with_coordinates(measured.gaps.facilities,
                                                   measured.facilities),
        "cbs_comparison.csv": cbs.compare_areas(cells, settings, region, run.region_name,
                                                settings.cbs_distance_columns),
    }
    if which == "baseline":  # the scope comparison is the baseline's
        raw["border.csv"] = border.compare_scopes(cells, settings, region, run.region_name)
    folder = _folder(run, which)
    for name, unrounded in raw.items():
        written = _read(folder / name)
        assert list(written.columns) == list(unrounded.columns), name
        _assert_at_precision(written, name, unrounded)


def test_the_closures_are_their_unrounded_rows_rounded_as_documented(run):
    # Ranked: matched to their unrounded rows by facility and type.
    written = _read(_folder(run, "baseline") / closures.CLOSURE_FILE)
    keys = ["facility_id", "type"]
    unrounded = run.closures_raw.set_index(keys).loc[
        pd.MultiIndex.from_frame(written[keys])].reset_index()
    assert list(written.columns) == ["rank", *run.closures_raw.columns]
    _assert_at_precision(written, closures.CLOSURE_FILE, unrounded)
    assert written["rank"].tolist() == list(range(1, len(written) + 1))


@pytest.mark.parametrize("which", FOLDERS)
def test_the_areas_are_their_summary_and_capacity_rows_at_the_documented_precision(run, which):
    # areas.parquet repeats summary.csv and capacity.csv side by side; its own
    # measures are the polygon's area, a point inside it, and 1 − share beyond.
    folder = _folder(run, which)
    areas = _read(folder / "areas.parquet")
    summary = _read(folder / "summary.csv")
    capacity = _read(folder / "capacity.csv")
    keys = ["level", "area_code"]
    index = pd.MultiIndex.from_frame(areas[keys])
    raw = pd.DataFrame(index=range(len(areas)))
    raw["area_km2"] = areas.geometry.area.to_numpy() / 1e6
    inside = gpd.GeoSeries(shapely.point_on_surface(areas.geometry.to_numpy()),
                           crs=areas.crs).to_crs("EPSG:4326")
    raw["lon"], raw["lat"] = inside.x.to_numpy(), inside.y.to_numpy()
    first = summary.drop_duplicates(keys).set_index(keys).reindex(index)
    for name in ("population", "population_0_14", "population_65_plus"):
        raw[name] = first[name].to_numpy()
    for (ftype, mode), rows in summary.groupby(["type", "mode"], sort=False):
        row = rows.set_index(keys).reindex(index)
        beyond = row["share_beyond_norm"].to_numpy()
        raw[f"{ftype}_{mode}_median_time_s"] = row["median_time_s"].to_numpy()
        raw[f"{ftype}_{mode}_p90_time_s"] = row["p90_time_s"].to_numpy()
        raw[f"{ftype}_{mode}_share_within_norm"] = 1.0 - beyond
        raw[f"{ftype}_{mode}_share_beyond_norm"] = beyond
    for ftype, rows in capacity.groupby("type", sort=False):
        row = rows.set_index(keys).reindex(index)
        for name in ("demand", "capacity", "gap"):
            raw[f"{ftype}_{name}"] = row[name].to_numpy()
        if ftype == "gp":
            raw["gp_fte_shortfall"] = row["fte_shortfall"].to_numpy()
    measures = [c for c in areas.columns if c not in (*keys, "area_name", "geometry")]
    assert sorted(measures) == sorted(raw.columns)
    _assert_at_precision(areas[measures], "areas.parquet", raw)


def _sides(before: pd.DataFrame, after: pd.DataFrame, keys: list[str],
           written: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Baseline, scenario and change (scenario − baseline) of each of
    ``names`` for the rows of ``written`` (by ``keys``), unrounded."""
    index = pd.MultiIndex.from_frame(written[keys])
    b = before.drop_duplicates(keys).set_index(keys).reindex(index)
    s = after.drop_duplicates(keys).set_index(keys).reindex(index)
    out = {}
    for name in names:
        out[f"{name}_baseline"] = b[name].to_numpy(np.float64)
        out[f"{name}_scenario"] = s[name].to_numpy(np.float64)
        out[f"{name}_change"] = out[f"{name}_scenario"] - out[f"{name}_baseline"]
    return pd.DataFrame(out)


def test_the_difference_tables_are_both_runs_rounded_as_documented(run):
    base, new = run.base.measured, run.applied.measured
    folder = _folder(run, "scenario")
    cases = {
        "diff_summary.csv": (base.summary, new.summary,
                             ["level", "area_code", "type", "mode"]),
        "diff_capacity.csv": (base.gaps.areas, new.gaps.areas, ["level", "area_code", "type"]),
        "diff_facilities.csv": (base.gaps.facilities, new.gaps.facilities,
                                ["facility_id", "type"]),
    }
    for name, (before, after, keys) in cases.items():
        written = _read(folder / name)
        sided = [c for c in written.columns if c.endswith("_baseline")]
        names = [c.removesuffix("_baseline") for c in sided]
        assert names, name
        raw = _sides(before, after, keys, written, names)
        _assert_at_precision(written[raw.columns], name, raw)
    # The scenario adds a facility: no baseline, a scenario value, no change.
    facilities = _read(folder / "diff_facilities.csv").set_index("facility_id")
    added = facilities.loc["new:gp-oosterzande"]
    assert added["status"] == "added"
    assert np.isnan(added["capacity_baseline"]) and np.isnan(added["capacity_change"])
    assert added["capacity_scenario"] == pytest.approx(1.3 * 2095.0)


def test_a_projected_population_gives_amounts_with_decimals(run):
    # Without this, rounding amounts to whole numbers would go unnoticed in
    # the scenario's tables.
    folder = _folder(run, "scenario")
    summary = _read(folder / "summary.csv")
    capacity = _read(folder / "capacity.csv")
    for values in (summary["population"], summary["population_65_plus"],
                   capacity["demand"]):
        assert (values.round(0) != values).any()


# -- summary.json ----------------------------------------------------------------------

def _json_rows(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema_version"] == export.SCHEMA_VERSION
    return data["rows"]


def _assert_json_rows_are_the_csv_rows(folder: Path, held: pd.DataFrame) -> None:
    rows = _json_rows(folder / "summary.json")
    csv = pd.read_csv(folder / "summary.csv")
    assert len(rows) == len(csv) == len(held)
    for i, row in enumerate(rows):
        assert list(row) == list(csv.columns) == list(held.columns)
        for column, value in row.items():
            dtype = columns.lookup("summary.json", column).dtype
            written, kept = csv[column].iloc[i], held[column].iloc[i]
            where = f"summary.json row {i}: {column}"
            if _missing(kept):
                assert value is None and _missing(written), where
            elif dtype == "float":
                assert type(value) is float and value == written == kept, (where, value,
                                                                            written, kept)
            elif dtype == "int":
                assert type(value) is int and value == written == kept, where
            else:
                assert value == written == kept, where


@pytest.mark.parametrize("which", FOLDERS)
def test_summary_json_holds_the_csv_values_one_for_one(run, which):
    measured = run.base.measured if which == "baseline" else run.applied.measured
    folder = _folder(run, which)
    _assert_json_rows_are_the_csv_rows(folder, measured.summary)
    region = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["region"]
    assert region == run.config.region


def _tiny_cells() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"cell_id": ["E0N0"], "aantal_inwoners": [5.0]},
                            geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:28992")


def test_summary_json_and_csv_keep_every_documented_decimal(tmp_path):
    # Values at the documented precision that fewer decimals would change:
    # a share of 0.000321 (to 3 decimals 0.0), a time of 1234567.8 s.
    summary = pd.DataFrame({
        "level": ["region", "municipality"], "area_code": ["r", "GM0001"],
        "area_name": ["Regio", "Één"], "type": ["gp", "gp"], "mode": ["walk", "walk"],
        "n_cells": [2, 1], "population": [12345.6, 0.1],
        "mean_time_s": [1234567.8, np.nan], "share_within_15min": [0.000321, 0.999999],
        "gini_time": [0.123457, 1e-06],
    })
    issues = pd.DataFrame({"feed": ["gtfs.zip", "gtfs.zip"],
                           "file": ["stop_times.txt", "calendar.txt"], "row": [12, None],
                           "field": ["arrival_time", ""], "severity": ["warning", "fatal"],
                           "message": ["not a time: 25:61:00", "no service on the date"]})
    export.write_profile(tmp_path / "p", _tiny_cells(), summary, {"region": "r"},
                         gtfs_issues=issues)
    _assert_json_rows_are_the_csv_rows(tmp_path / "p", summary)
    _assert_table_reads_back(tmp_path / "p" / "gtfs_issues.csv", issues, ())
    # An Int64 column: whole numbers, and nothing where there is none.
    lines = (tmp_path / "p" / "gtfs_issues.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("gtfs.zip,stop_times.txt,12,arrival_time,")
    assert lines[2].startswith("gtfs.zip,calendar.txt,,,fatal,")


def test_the_manifest_keeps_numbers_as_they_are(tmp_path):
    manifest = {"region": "r", "cells": np.int64(4045), "share": np.float64(0.000321),
                "seconds": 1234567.891234, "clipped": np.bool_(True), "none": np.nan,
                "window": ("07:00", "09:00"), "grid": Path("grid.gpkg")}
    export.write_profile(tmp_path / "p", _tiny_cells(), pd.DataFrame({"level": ["region"]}),
                         manifest)
    read = json.loads((tmp_path / "p" / "manifest.json").read_text(encoding="utf-8"))
    expected = {"region": "r", "cells": 4045, "share": 0.000321, "seconds": 1234567.891234,
                "clipped": True, "none": None, "window": ["07:00", "09:00"],
                "grid": "grid.gpkg"}
    for key, value in expected.items():
        _assert_same_json(read[key], value, key)


# -- areas: the GeoJSON ----------------------------------------------------------------------

@pytest.mark.parametrize("which", FOLDERS)
def test_the_geojson_holds_the_municipality_rows_of_the_areas(run, which):
    folder = _folder(run, which)
    areas = _in_memory(run, which)["areas.parquet"]
    held = areas[areas["level"] == "municipality"].reset_index(drop=True)
    features = json.loads((folder / "municipalities.geojson").read_text(
        encoding="utf-8"))["features"]
    assert len(features) == len(held)
    wgs84 = held.to_crs("EPSG:4326")
    properties = [c for c in held.columns if c != held.geometry.name]
    for i, feature in enumerate(features):
        assert list(feature["properties"]) == properties
        for column, value in feature["properties"].items():
            kept = held[column].iloc[i]
            where = f"municipalities.geojson feature {i}: {column}"
            if _missing(kept):
                assert value is None, where
            else:
                assert value == kept, (where, value, kept)
                assert type(value) is type(kept.item() if hasattr(kept, "item") else kept), where
        shape = shapely.geometry.shape(feature["geometry"])
        coords = shapely.get_coordinates(shape)
        # profiles/README.md: coordinates to 6 decimals.
        np.testing.assert_array_equal(coords, np.round(coords, 6))
        # Snapped to the 1e-6 degree grid: no vertex moves farther than that.
        assert shapely.hausdorff_distance(shape, wgs84.geometry.iloc[i]) <= 2e-6, where


# -- the manifest ------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """``value`` as JSON holds it: tuples as lists, numpy numbers as Python
    numbers, paths as text, NaN as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def _assert_same_json(read: Any, held: Any, where: str) -> None:
    """Equal, and of the same JSON type: a whole number stays an integer."""
    assert type(read) is type(held), (where, read, held)
    if isinstance(held, dict):
        assert list(read) == list(held), where
        for key in held:
            _assert_same_json(read[key], held[key], f"{where}.{key}")
    elif isinstance(held, list):
        assert len(read) == len(held), where
        for i, (a, b) in enumerate(zip(read, held)):
            _assert_same_json(a, b, f"{where}[{i}]")
    else:
        assert read == held, (where, read, held)


@pytest.mark.parametrize("which", FOLDERS)
def test_the_manifest_reads_back_as_held(run, which):
    result = run.baseline if which == "baseline" else run.scenario
    folder = _folder(run, which)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    added = {"files", "columns", "sha256"}
    assert set(manifest) == set(result.manifest) | added
    for key, value in result.manifest.items():
        _assert_same_json(manifest[key], _plain(value), key)
    assert {k: folder / v for k, v in manifest["files"].items()} == result.files
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    # The column dictionary lists the columns as read back, file by file.
    listed: dict[str, list[str]] = {}
    for entry in manifest["columns"]:
        listed.setdefault(entry["file"], []).append(entry["column"])
    for name, held in _in_memory(run, which).items():
        assert listed[name] == list(held.columns), name
    assert listed["summary.json"] == list(_in_memory(run, which)["summary.csv"].columns)


def test_a_swap_that_fails_puts_the_previous_profile_back(tmp_path):
    # The new folder vanished before the swap (a cleaner, a full disk's
    # aftermath): the error comes through and the old profile stays readable
    # where it was, with no copy left aside.
    target = tmp_path / "profiles" / "demo"
    target.mkdir(parents=True)
    (target / "summary.csv").write_text("level\nregion\n")
    with pytest.raises(FileNotFoundError):
        export._replace_dir(tmp_path / "profiles" / ".demo.gone.tmp", target)
    assert (target / "summary.csv").read_text() == "level\nregion\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["demo"]
    # Without a previous profile the error comes through just the same.
    with pytest.raises(FileNotFoundError):
        export._replace_dir(tmp_path / "profiles" / ".new.gone.tmp", tmp_path / "new")
    assert not (tmp_path / "new").exists()
