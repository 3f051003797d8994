"""Specification of what a profile folder hands to a dashboard: facility
coordinates, area polygons (GeoParquet and GeoJSON), the column dictionary
(one place, which also writes the README's tables), file digests, the
package version, permissions and the catalogue the runs add to."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely

import bereikbaarheid
from bereikbaarheid import (ConfigError, RunConfig, catalog, columns, export, pipeline, profile,
                            report, run_scenario)
from bereikbaarheid.config import Settings
from bereikbaarheid.sources import boundaries

README = Path(__file__).resolve().parents[1] / "profiles" / "README.md"
CLOSED_GP = "osm:w1454"  # Nieuwesluis's only practice in the demo (seed 2024)
# A GP the scenario adds: a point in Oosterzande (RD New) and where it lies
# in WGS84.
ADDED = {"facility_id": "new:gp-oosterzande", "x": 40300.0, "y": 369500.0}
SCENARIO = f"""
[scenario]
name = "move-gp"
description = "The village GP moves to Oosterzande"

[[close]]
facility_id = "{CLOSED_GP}"

[[add]]
facility_id = "{ADDED['facility_id']}"
type = "gp"
name = "Huisartsenpraktijk Nieuw"
x = {ADDED['x']}
y = {ADDED['y']}
fte = 1.0
"""
TABLE_SUFFIXES = (".parquet", ".csv", ".geojson")


@pytest.fixture(scope="module")
def run(demo_region, tmp_path_factory):
    """A scenario run of the demo: the baseline and the scenario folder."""
    work = tmp_path_factory.mktemp("schema")
    config = RunConfig.from_toml(demo_region.config, output_dir=work / "profiles",
                                 cache_dir=work / "cache")
    scenario = work / "move-gp.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    result = run_scenario(config, scenario)
    return config, result


@pytest.fixture(scope="module")
def folders(run):
    config, _ = run
    out = Path(config.output_dir)
    return [out / "demo", out / "demo@move-gp"]


def _table_columns(path: Path) -> list[str]:
    """The columns of a table file as a reader finds them."""
    if path.suffix == ".parquet":
        return list(pd.read_parquet(path).columns)
    if path.suffix == ".geojson":
        collection = json.loads(path.read_text(encoding="utf-8"))
        return [*collection["features"][0]["properties"], "geometry"]
    return list(pd.read_csv(path, nrows=0).columns)


def _run_file(demo_region, folder: Path, output: str) -> Path:
    """The demo's run file with an ``[output]`` table of ``output`` lines."""
    text = demo_region.config.read_text(encoding="utf-8").replace(
        "[inputs]\n", f"[output]\n{output}\n\n[inputs]\n", 1)
    text = text.replace('osm = "', f'osm = "{demo_region.folder}/', 1)
    path = folder / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _rings(coordinates: list) -> list:
    """The rings (lists of positions) of GeoJSON (Multi)Polygon coordinates."""
    if isinstance(coordinates[0][0], (int, float)):
        return [coordinates]
    return [ring for part in coordinates for ring in _rings(part)]


def _grid_columns(config: RunConfig) -> list[str]:
    return list(pyogrio.read_info(config.grid)["fields"])


# -- the column dictionary -------------------------------------------------------------

def test_a_column_takes_the_most_specific_pattern():
    described = columns.describe("cells.parquet", ["gp_walk_time_s", "gp_pt_time_s",
                                                   "gp_pt_time_p25_s", "school_car_n_15min",
                                                   "pt_link_m", "walk_link_m"])
    meanings = {d["column"]: d["meaning"] for d in described}
    assert meanings["gp_walk_time_s"].startswith("travel time to the nearest facility")
    assert "pt_time_percentile" in meanings["gp_pt_time_s"]
    assert "pt_percentiles" in meanings["gp_pt_time_p25_s"]
    assert "within T minutes" in meanings["school_car_n_15min"]
    assert meanings["pt_link_m"].startswith("walking connector")
    assert meanings["walk_link_m"].startswith("straight connector")
    assert [d["unit"] for d in described] == ["s", "s", "s", "count", "m", "m"]
    assert all(set(d) == {"file", "column", "unit", "meaning"} for d in described)


def test_an_undocumented_column_is_an_error():
    with pytest.raises(KeyError, match="'gp_walk_speed'"):
        columns.describe("cells.parquet", ["cell_id", "gp_walk_speed"])
    with pytest.raises(KeyError, match="no such file"):
        columns.describe("notes.csv", ["a"])
    # A mode that does not exist is no match either.
    with pytest.raises(KeyError):
        columns.describe("cells.parquet", ["gp_boat_time_s"])


def test_grid_columns_are_described_only_when_the_grid_has_them():
    with pytest.raises(KeyError, match="stedelijkheid"):
        columns.describe("cells.parquet", ["stedelijkheid"])
    [entry] = columns.describe("cells.parquet", ["stedelijkheid"],
                               grid_columns=["stedelijkheid"])
    assert "CBS grid" in entry["meaning"]
    # A grid column the dictionary knows keeps its own meaning.
    [known] = columns.describe("cells.parquet", ["aantal_inwoners"],
                               grid_columns=["aantal_inwoners"])
    assert "inhabitants" in known["meaning"] and known["unit"] == "inhabitants"


def test_difference_columns_say_which_side_they_hold():
    described = columns.describe("diff_capacity.csv",
                                 ["gap_baseline", "gap_scenario", "gap_change"])
    assert [d["meaning"].rsplit("; ", 1)[1] for d in described] == [
        "in the baseline", "in the scenario", "the change, scenario − baseline"]


def test_no_two_entries_of_a_file_share_a_name():
    seen = set()
    for entry in columns.ENTRIES:
        for file in entry.files:
            assert (file, entry.column) not in seen, (file, entry.column)
            seen.add((file, entry.column))


def test_the_readme_tables_are_the_generated_ones():
    text = README.read_text(encoding="utf-8")
    assert columns.render(text) == text, (
        "profiles/README.md is out of date: run "
        "python -m bereikbaarheid.columns --write profiles/README.md")
    marked = columns.marked_tables(text)
    every = {(f, e.table) for e in columns.ENTRIES for f in e.files
             if f != "summary.json"}
    assert set(marked) == every  # every table of the dictionary is in the README, once
    assert len(marked) == len(set(marked))


def test_the_readme_writer_regenerates_a_stale_table(tmp_path):
    stale = tmp_path / "README.md"
    stale.write_text("# x\n\n<!-- columns: gtfs_issues.csv -->\n| old |\n<!-- end columns -->\n"
                     "after\n", encoding="utf-8")
    assert columns.main(["--check", str(stale)]) == 1
    assert columns.main(["--write", str(stale)]) == 0
    text = stale.read_text(encoding="utf-8")
    assert "| old |" not in text and "| `severity` | string |" in text
    assert text.endswith("<!-- end columns -->\nafter\n")
    assert columns.main(["--check", str(stale)]) == 0


# -- the manifest: columns, digests, version ------------------------------------------------

def test_every_column_of_every_table_file_is_described(run, folders):
    config, _ = run
    grid = _grid_columns(config)
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.suffix in TABLE_SUFFIXES:
                columns.describe(path.name, _table_columns(path), grid)  # raises if not


# Whether pandas' dtype of a GeoParquet column read back is the dictionary's type.
_DTYPES = {"float": pd.api.types.is_float_dtype, "string": pd.api.types.is_string_dtype,
           "Int32": lambda t: str(t) == "Int32", "int8": lambda t: str(t) == "int8",
           "geometry": lambda t: str(t) == "geometry"}


def test_the_parquet_columns_have_the_documented_types(run, folders):
    config, _ = run
    grid = _grid_columns(config)
    for folder in folders:
        for path in sorted(folder.glob("*.parquet")):
            table = gpd.read_parquet(path)
            for column, dtype in table.dtypes.items():
                entry = columns.lookup(path.name, column, grid)
                if entry.dtype != "as read":
                    assert _DTYPES[entry.dtype](dtype), (path.name, column, dtype)


def test_the_manifest_lists_the_columns_of_every_table_file(folders):
    for folder in folders:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        listed: dict[str, list[str]] = {}
        for entry in manifest["columns"]:
            assert set(entry) == {"file", "column", "unit", "meaning"}
            assert entry["meaning"]
            listed.setdefault(entry["file"], []).append(entry["column"])
        tables = sorted(p.name for p in folder.iterdir() if p.suffix in TABLE_SUFFIXES)
        assert sorted(set(listed) - {"summary.json"}) == tables
        for name in tables:
            assert listed[name] == _table_columns(folder / name), name
        rows = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["rows"]
        assert listed["summary.json"] == list(rows[0])


def test_the_manifest_holds_the_digest_of_every_other_file(folders):
    import hashlib

    for folder in folders:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        files = sorted(p.name for p in folder.iterdir() if p.is_file())
        assert sorted(manifest["sha256"]) == [f for f in files if f != "manifest.json"]
        for name, digest in manifest["sha256"].items():
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_the_manifest_names_the_version_and_the_schema(folders):
    for folder in folders:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["version"] == bereikbaarheid.__version__
        assert manifest["schema_version"] == export.SCHEMA_VERSION == "2.0.0"
        assert manifest["files"]["areas"] == "areas.parquet"
        assert manifest["files"]["municipalities"] == "municipalities.geojson"
    text = README.read_text(encoding="utf-8")
    assert f"(version {export.SCHEMA_VERSION})" in text
    assert re.search(rf"^{re.escape(export.SCHEMA_VERSION)} added", text, re.MULTILINE)


# -- facilities: where they are ---------------------------------------------------------

def test_rd_new_origin_is_amersfoort_in_wgs84():
    """The RD New projection's origin, (155000, 463000), is the Amersfoort
    tower: 52.15517440 N, 5.38720621 E in WGS84 (RDNAPTRANS); pyproj's
    datum shift is good to about a metre."""
    lon, lat = profile.to_wgs84(np.array([155000.0]), np.array([463000.0]), "EPSG:28992")
    assert abs(lon[0] - 5.38720621) < 1e-5 and abs(lat[0] - 52.15517440) < 1e-5


def test_facilities_carry_their_location_after_the_name(run, folders, demo_region):
    source = pd.read_csv(demo_region.facilities_csv).set_index("facility_id")
    back = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
    for folder in folders:
        table = pd.read_csv(folder / "facilities.csv")
        assert list(table.columns[:7]) == ["facility_id", "type", "name", "x", "y", "lon",
                                           "lat"]
        assert table[["x", "y", "lon", "lat"]].notna().all().all()
        # Rounded to 7 decimals: about a centimetre.
        assert (table["lon"].round(7) == table["lon"]).all()
        x, y = back.transform(table["lon"].to_numpy(), table["lat"].to_numpy())
        assert np.abs(x - table["x"]).max() < 0.02 and np.abs(y - table["y"]).max() < 0.02
        known = table[table["facility_id"].isin(source.index)]
        assert len(known) > 0
        mine = source.loc[known["facility_id"]]
        assert np.allclose(known["x"], mine["x"], atol=0.01)
        assert np.allclose(known["y"], mine["y"], atol=0.01)
    base = pd.read_csv(folders[0] / "facilities.csv")
    scenario = pd.read_csv(folders[1] / "facilities.csv")
    assert CLOSED_GP in set(base["facility_id"]) and CLOSED_GP not in set(scenario["facility_id"])
    added = scenario.set_index("facility_id").loc[ADDED["facility_id"]]
    assert (added["x"], added["y"]) == (ADDED["x"], ADDED["y"])
    # Oosterzande lies in Zeeuws-Vlaanderen-like country: about 3.7 E, 51.3 N.
    assert 3.5 < added["lon"] < 4.0 and 51.1 < added["lat"] < 51.5


# -- areas.parquet and municipalities.geojson -------------------------------------------------

def test_areas_hold_each_area_of_the_summary_with_its_polygon(run, folders):
    config, _ = run
    munis = boundaries.read_municipalities(config.municipalities, Settings())
    polygons = dict(zip(munis["code"], munis.geometry))
    for folder in folders:
        areas = gpd.read_parquet(folder / "areas.parquet")
        summary = pd.read_csv(folder / "summary.csv")
        capacity = pd.read_csv(folder / "capacity.csv")
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert areas.crs.to_epsg() == 28992
        order = summary.drop_duplicates(["level", "area_code"])
        assert list(zip(areas["level"], areas["area_code"], areas["area_name"])) == list(
            zip(order["level"], order["area_code"], order["area_name"]))
        assert list(areas.columns[:9]) == ["level", "area_code", "area_name", "area_km2",
                                           "population", "population_0_14",
                                           "population_65_plus", "lon", "lat"]
        region = areas.iloc[0]
        assert region["level"] == "region"
        assert region["area_km2"] == manifest["area"]["region_km2"]
        for row in areas.iloc[1:].itertuples():
            assert row.geometry.equals(polygons[row.area_code])
            assert row.area_km2 == round(polygons[row.area_code].area / 1e6, 3)
        assert areas.iloc[1:]["population"].sum() == pytest.approx(region["population"])
        # The representative point lies inside its polygon.
        to_rd = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
        x, y = to_rd.transform(areas["lon"].to_numpy(), areas["lat"].to_numpy())
        assert shapely.contains_xy(areas.geometry.to_numpy(), x, y).all()
        for row in summary.itertuples():
            area = areas[(areas["level"] == row.level) & (areas["area_code"] == row.area_code)]
            prefix = f"{row.type}_{row.mode}"
            assert area[f"{prefix}_median_time_s"].item() == pytest.approx(
                row.median_time_s, nan_ok=True)
            assert area[f"{prefix}_p90_time_s"].item() == pytest.approx(row.p90_time_s,
                                                                        nan_ok=True)
            assert area[f"{prefix}_share_beyond_norm"].item() == row.share_beyond_norm
            assert area[f"{prefix}_share_within_norm"].item() == pytest.approx(
                1 - row.share_beyond_norm, abs=1e-9)
        for row in capacity.itertuples():
            area = areas[(areas["level"] == row.level) & (areas["area_code"] == row.area_code)]
            for name in ("demand", "capacity", "gap"):
                assert area[f"{row.type}_{name}"].item() == getattr(row, name)
            if row.type == "gp":
                assert area["gp_fte_shortfall"].item() == row.fte_shortfall
    # The scenario moves a GP: its GP capacity columns differ from the baseline's.
    base, scenario = (gpd.read_parquet(f / "areas.parquet") for f in folders)
    assert not np.array_equal(base["gp_gap"], scenario["gp_gap"])


def test_the_geojson_is_rfc7946_wgs84_of_the_municipality_rows(folders):
    for folder in folders:
        areas = gpd.read_parquet(folder / "areas.parquet")
        munis = areas[areas["level"] == "municipality"].reset_index(drop=True)
        text = (folder / "municipalities.geojson").read_text(encoding="utf-8")
        collection = json.loads(text)
        assert collection["type"] == "FeatureCollection" and "crs" not in collection
        features = collection["features"]
        assert len(features) == len(munis)
        wgs84 = munis.to_crs("EPSG:4326")
        for feature, (_, row), shape in zip(features, munis.iterrows(), wgs84.geometry):
            properties = feature["properties"]
            assert list(properties) == [c for c in munis.columns if c != "geometry"]
            for key, value in properties.items():
                expected = row[key]
                assert (value is None and pd.isna(expected)) or value == expected, key
            geometry = shapely.geometry.shape(feature["geometry"])
            assert geometry.is_valid
            # Lon, lat order; snapped to 6 decimals: no point moved 1e-6 degrees.
            assert 3 < geometry.centroid.x < 8 and 50 < geometry.centroid.y < 54
            assert geometry.hausdorff_distance(shape) < 1e-6
            polygons = getattr(geometry, "geoms", [geometry])
            for polygon in polygons:
                assert polygon.exterior.is_ccw
                assert all(not ring.is_ccw for ring in polygon.interiors)
            coords = np.concatenate([np.asarray(ring).reshape(-1, 2) for ring in
                                     _rings(feature["geometry"]["coordinates"])])
            assert (np.round(coords, export.GEOJSON_DECIMALS) == coords).all()


def test_areas_and_geojson_are_the_same_bytes_when_written_again(run, folders, tmp_path):
    """Same tables, same bytes: a dashboard can tell a change by the digest."""
    _, result = run
    areas = gpd.read_parquet(folders[0] / "areas.parquet")
    written = []
    for name in ("a", "b"):
        export.write_profile(tmp_path / name, result.baseline.cells, result.baseline.summary,
                             {"region": "demo"}, areas=areas)
        written.append({f: (tmp_path / name / f).read_bytes()
                        for f in ("areas.parquet", "municipalities.geojson")})
    assert written[0] == written[1]
    assert written[0]["municipalities.geojson"] == (
        folders[0] / "municipalities.geojson").read_bytes()


def test_profile_folders_and_files_are_readable_by_others_under_umask_022(run, folders,
                                                                          tmp_path):
    """The issue saw folders created 0700; they follow the umask: 0755 and
    0644 under umask 022, areas and GeoJSON included."""
    _, result = run
    areas = gpd.read_parquet(folders[0] / "areas.parquet")
    previous = os.umask(0o022)
    try:
        export.write_profile(tmp_path / "profiles" / "demo", result.baseline.cells,
                             result.baseline.summary, {"region": "demo"}, areas=areas)
        # The report and the catalogue, which a dashboard reads too.
        report.build_report(folder := tmp_path / "profiles" / "demo")
        catalog.update(tmp_path / "profiles" / "catalog.duckdb", [folder])
    finally:
        os.umask(previous)
    assert folder.stat().st_mode & 0o777 == 0o755
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    assert {"areas.parquet", "municipalities.geojson", "manifest.json"} <= set(names)
    for name in names:
        assert (folder / name).stat().st_mode & 0o777 == 0o644, name
    shown = folder / "report"
    for path in [shown, *shown.rglob("*")]:
        assert path.stat().st_mode & 0o777 == (0o755 if path.is_dir() else 0o644), path
    assert (tmp_path / "profiles" / "catalog.duckdb").stat().st_mode & 0o777 == 0o644


# -- the catalogue ----------------------------------------------------------------------

def test_a_run_adds_its_folders_to_the_catalogue(run):
    config, _ = run
    path = Path(config.output_dir) / "catalog.duckdb"
    assert config.catalog_path == path
    with duckdb.connect(str(path), read_only=True) as con:
        keys = con.sql("select region, scenario from profiles order by scenario").fetchall()
    assert keys == [("demo", "baseline"), ("demo", "move-gp")]


def test_the_catalogue_can_be_placed_elsewhere_or_left_out(tmp_path, run, folders):
    config, _ = run
    assert dataclasses.replace(config, output_dir=tmp_path).catalog_path == (
        tmp_path / "catalog.duckdb")
    elsewhere = dataclasses.replace(config, catalog=str(tmp_path / "c" / "all.duckdb"))
    assert elsewhere.catalog_path == tmp_path / "c" / "all.duckdb"
    none = dataclasses.replace(config, output_dir=tmp_path / "none", catalog=False)
    assert none.catalog_path is None
    pipeline.update_catalog(none, folders)
    assert not (tmp_path / "none").exists()
    # None could mean either: refused.
    with pytest.raises(ConfigError, match="catalog: expected a file path"):
        dataclasses.replace(config, catalog=None)


@pytest.mark.parametrize("value, expected", [
    ("false", None), ("true", "profiles/catalog.duckdb"),
    ('"dashboard/all.duckdb"', "dashboard/all.duckdb")])
def test_the_run_file_sets_the_catalogue(demo_region, tmp_path, value, expected):
    path = _run_file(demo_region, tmp_path, f"catalog = {value}")
    config = RunConfig.from_toml(path)
    assert config.catalog_path == (None if expected is None else Path(expected))
    # Like the output folder, relative to the working directory; the
    # default follows the output folder wherever that is set.
    moved = RunConfig.from_toml(path, output_dir=tmp_path / "out").catalog_path
    assert moved == (tmp_path / "out" / "catalog.duckdb" if value == "true"
                     else config.catalog_path)


@pytest.mark.parametrize("value, message", [
    ('""', "expected a file path"), ("5", "expected")])
def test_a_bad_catalogue_setting_names_the_key(demo_region, tmp_path, value, message):
    path = _run_file(demo_region, tmp_path, f"catalog = {value}")
    with pytest.raises(ConfigError, match=message) as caught:
        RunConfig.from_toml(path)
    assert "[output] catalog" in str(caught.value)
