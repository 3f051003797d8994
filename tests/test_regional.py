"""Regions on national inputs: `run --region`, custom regions, clipping, `--all-regions`,
the cross-border and nl-only scopes, and the CBS comparison in the profile."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from bereikbaarheid import RunConfig, cli, run_profile
from bereikbaarheid.config import Settings
from bereikbaarheid.measures import border
from bereikbaarheid.sources import boundaries, osm

TYPES = ("gp", "school", "supermarket")
ROAD = ("walk", "bike", "car")


def _inputs(demo_region) -> list[str]:
    return ["--osm", str(demo_region.osm), "--grid", str(demo_region.grid_100m),
            "--facilities", str(demo_region.facilities_csv)]


def _run(args: list[str], tmp_path, capsys) -> tuple[int, str, str]:
    code = cli.main([*args, "--output", str(tmp_path / "profiles"),
                     "--cache", str(tmp_path / "cache"), "--quiet"])
    printed = capsys.readouterr()
    return code, printed.out, printed.err


# -- the real boundary file: an NPVR region by id ------------------------------

@pytest.mark.shared
def test_run_region_by_id_on_the_real_boundaries(demo_region, shared_data, tmp_path, capsys):
    # The demo lies where Zeeuws-Vlaanderen lies (RD x 30-50 km, y 360-375 km),
    # so the real municipality boundaries cut its grid into Sluis and Terneuzen.
    boundary_file = shared_data / "boundaries" / "gemeenten.geojson"
    args = ["run", "--region", "zeeuws-vlaanderen", *_inputs(demo_region),
            "--boundaries", str(boundary_file), "--gtfs", str(demo_region.gtfs),
            "--set", "pt_date=2026-03-10", "--set", "area_buffer_m=2000"]
    code, out, err = _run(args, tmp_path, capsys)
    assert code == 0, err
    folder = tmp_path / "profiles" / "zeeuws-vlaanderen"
    assert str(folder / "cells.parquet") in out
    manifest = json.loads((folder / "manifest.json").read_text())
    area = manifest["area"]
    assert area["region_id"] == "zeeuws-vlaanderen"
    assert [m["code"] for m in area["municipalities"]] == ["GM1714", "GM0715", "GM0677"]
    assert area["missing_municipalities"] == []
    assert 700 < area["region_km2"] < 900 and area["buffer_m"] == 2000
    summary = pd.read_csv(folder / "summary.csv")
    region_rows = summary[summary["level"] == "region"]
    assert set(region_rows["area_code"]) == {"zeeuws-vlaanderen"}
    assert set(region_rows["area_name"]) == {"Zeeuws-Vlaanderen"}
    cells = gpd.read_parquet(folder / "cells.parquet")
    assert set(cells["municipality_code"]) <= {"GM1714", "GM0715", "GM0677"}
    munis = boundaries.read_municipalities(boundary_file, Settings())
    region = shapely.union_all(munis[munis["code"].isin(["GM1714", "GM0715", "GM0677"])]
                               .geometry.to_numpy())
    assert shapely.contains_xy(region, cells["x"], cells["y"]).all()
    # The inputs were clipped to the region plus 2 km before building.
    clipped = manifest["networks"]["clipped_inputs"]
    assert clipped["osm"]["status"] == "clipped"
    assert clipped["gtfs:gtfs.zip"]["status"] == "clipped"
    assert manifest["transit"]["status"] in ("built", "reused")

    # A second run reuses the clipped files and writes the same tables.
    before = (folder / "summary.csv").read_bytes()
    code, _, err = _run(args, tmp_path, capsys)
    assert code == 0, err
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["networks"]["clipped_inputs"]["osm"]["status"] == "reused"
    assert (folder / "summary.csv").read_bytes() == before


def test_unknown_region_id_suggests_the_right_one(demo_region, tmp_path, capsys):
    code, _, err = _run(["run", "--region", "zeeuws-vlanderen", *_inputs(demo_region),
                         "--boundaries", str(demo_region.municipalities)], tmp_path, capsys)
    assert code == 2
    assert "zeeuws-vlaanderen" in err


def test_a_registry_code_absent_from_the_boundary_file_is_named(demo_region, tmp_path, capsys):
    registry = tmp_path / "regions.toml"
    registry.write_text('[[region]]\nid = "west"\nname = "West"\n'
                        'municipalities = { GM9901 = "Schorrewaarde", GM0404 = "Nergenshuizen" }\n')
    code, _, err = _run(["run", "--region", "west", "--registry", str(registry),
                         *_inputs(demo_region), "--boundaries", str(demo_region.municipalities)],
                        tmp_path, capsys)
    assert code == 2
    assert "GM0404 Nergenshuizen" in err


# -- custom regions and clipping ------------------------------------------------

@pytest.fixture(scope="module")
def west(demo_region, tmp_path_factory):
    """The western municipality alone, inputs clipped to it plus 1 km."""
    work = tmp_path_factory.mktemp("west")
    config = RunConfig(region="west", osm=demo_region.osm, grid=demo_region.grid_100m,
                       municipalities=demo_region.municipalities,
                       facilities=demo_region.facilities_csv,
                       municipality_codes=("GM9901",), clip=True,
                       output_dir=work / "profiles", cache_dir=work / "cache",
                       settings=Settings(modes=ROAD, area_buffer_m=1000.0))
    return config, run_profile(config)


def test_custom_region_from_codes_keeps_its_cells_and_the_facilities_near_it(west):
    config, result = west
    assert set(result.cells["municipality_code"]) == {"GM9901"}
    munis = boundaries.read_municipalities(config.municipalities, config.settings)
    polygon = munis.loc[munis["code"] == "GM9901", "geometry"].iloc[0]
    area = polygon.buffer(1000.0)
    all_fac = pd.read_csv(config.facilities)
    fac = all_fac[all_fac["facility_id"].isin(result.facilities["facility_id"])]
    assert len(fac) == len(result.facilities)
    assert shapely.contains_xy(area, fac["x"], fac["y"]).all()
    outside = ~shapely.contains_xy(area, all_fac["x"], all_fac["y"])
    assert outside.sum() > 10  # the eastern facilities were left out
    assert result.manifest["area"]["buffer_m"] == 1000.0


def test_the_clipped_extract_holds_the_area_and_drops_the_rest(west, demo_region):
    config, result = west
    clipped = result.manifest["networks"]["clipped_inputs"]["osm"]
    data = osm.read_osm(clipped["path"], config.settings)
    full = osm.read_osm(demo_region.osm, config.settings)
    assert 0 < len(data.way_id) < 0.8 * len(full.way_id)
    # Every way of the full extract with a node in the area is there, whole.
    munis = boundaries.read_municipalities(config.municipalities, config.settings)
    area = munis.loc[munis["code"] == "GM9901", "geometry"].iloc[0].buffer(1000.0)
    inside = shapely.contains_xy(area, full.node_x, full.node_y)
    piece_way = np.repeat(full.piece_way, np.diff(full.piece_ptr))
    wanted = set(full.way_id[np.unique(piece_way[inside])].tolist())
    assert wanted <= set(data.way_id.tolist())


def test_custom_region_from_a_polygon_file_in_another_crs(demo_region, tmp_path):
    cells = gpd.read_file(demo_region.grid_100m)
    x0, y0, x1, y1 = cells.total_bounds
    box = shapely.box(x0 + 0.3 * (x1 - x0), y0 + 0.3 * (y1 - y0),
                      x0 + 0.6 * (x1 - x0), y0 + 0.7 * (y1 - y0))
    polygon_file = tmp_path / "study_area.geojson"
    gpd.GeoDataFrame(geometry=[box], crs="EPSG:28992").to_crs("EPSG:4326").to_file(polygon_file)
    config = RunConfig(region="study-area", osm=demo_region.osm, grid=demo_region.grid_100m,
                       municipalities=demo_region.municipalities,
                       facilities=demo_region.facilities_csv, region_polygon=polygon_file,
                       clip=True, output_dir=tmp_path / "p", cache_dir=tmp_path / "c",
                       settings=Settings(modes=("car",), area_buffer_m=500.0))
    result = run_profile(config)
    centroids = result.cells[["x", "y"]].to_numpy()
    assert shapely.contains_xy(box.buffer(1.0), centroids[:, 0], centroids[:, 1]).all()
    assert len(result.cells) > 100
    assert result.manifest["area"]["definition"] == "polygon"


def test_all_regions_clips_once_and_writes_every_region(demo_region, tmp_path, capsys):
    registry = tmp_path / "regions.toml"
    registry.write_text(
        '[[region]]\nid = "west"\nname = "West"\nmunicipalities = { GM9901 = "Schorrewaarde" }\n'
        '[[region]]\nid = "east"\nname = "East"\nmunicipalities = { GM9903 = "Polderhoven" }\n')
    args = ["run", "--all-regions", "--registry", str(registry), *_inputs(demo_region),
            "--boundaries", str(demo_region.municipalities), "--set", 'modes=["car"]',
            "--set", "area_buffer_m=1000"]
    code, out, err = _run(args, tmp_path, capsys)
    assert code == 0, err
    # --quiet: only the paths written, every region's files and report.
    written = [Path(line).relative_to(tmp_path / "profiles") for line in out.splitlines()]
    assert sorted({p.parts[0] for p in written}) == sorted(
        p.name for p in (tmp_path / "profiles").iterdir() if p.is_dir())
    assert {p.as_posix() for p in written} >= {"west/report/index.html", "east/report/index.html"}
    for name, code_ in (("west", "GM9901"), ("east", "GM9903")):
        cells = gpd.read_parquet(tmp_path / "profiles" / name / "cells.parquet")
        assert set(cells["municipality_code"]) == {code_}
        manifest = json.loads((tmp_path / "profiles" / name / "manifest.json").read_text())
        # Clipped in the one pass before the runs; each run finds its file.
        assert manifest["networks"]["clipped_inputs"]["osm"]["status"] == "reused"
    clipped = sorted(p.name for p in (tmp_path / "cache" / "clipped").glob("*.osm.pbf"))
    assert len(clipped) == 2 and clipped[0].startswith("demo.east.")


# -- cross-border and nl-only ---------------------------------------------------

@pytest.fixture(scope="module")
def scopes(demo_region, tmp_path_factory):
    work = tmp_path_factory.mktemp("scopes")
    out = {}
    for scope in ("cross-border", "nl-only"):
        config = RunConfig.from_toml(
            demo_region.config, region=scope, gtfs=(), output_dir=work / "profiles",
            cache_dir=work / "cache",
            settings=Settings(modes=ROAD, facility_scope=scope))
        out[scope] = run_profile(config)
    return out


def test_nl_only_counts_only_dutch_facilities_and_matches_the_comparison(scopes):
    cross, nl = scopes["cross-border"], scopes["nl-only"]
    assert nl.manifest["facility_scope"] == {"scope": "nl-only", "compared_with": "cross-border"}
    assert len(nl.facilities) < len(cross.facilities)
    for ftype in TYPES:
        for mode in ROAD:
            main = f"{ftype}_{mode}_time_s"
            # Each run's comparison columns are the other run's main columns.
            pd.testing.assert_series_equal(
                cross.cells[f"{ftype}_{mode}_nl_only_time_s"], nl.cells[main], check_names=False)
            pd.testing.assert_series_equal(
                nl.cells[f"{ftype}_{mode}_cross_border_time_s"], cross.cells[main],
                check_names=False)
            # Facilities abroad can only help.
            c, n = cross.cells[main].to_numpy(), nl.cells[main].to_numpy()
            ok = np.isfinite(c) & np.isfinite(n)
            assert (c[ok] <= n[ok]).all()


def test_cross_border_differs_near_the_border_only(scopes, demo_region):
    cross, nl = scopes["cross-border"], scopes["nl-only"]
    c = cross.cells["gp_car_time_s"].to_numpy()
    n = nl.cells["gp_car_time_s"].to_numpy()
    faster = np.isfinite(c) & (c < n)
    assert faster.sum() > 20
    # The border runs along the south: the cells helped lie in the south.
    y = cross.cells["y"].to_numpy()
    assert np.median(y[faster]) < np.percentile(y, 25)
    # nl-only is CBS's definition: the CBS-comparable distance is the same in both.
    pd.testing.assert_series_equal(cross.cells["gp_cbs_distance_m"], nl.cells["gp_cbs_distance_m"])


def test_border_table_shows_the_difference_per_municipality(scopes):
    result = scopes["cross-border"]
    table = pd.read_csv(result.files["manifest"].parent / "border.csv")
    assert list(table.columns) == list(border.BORDER_COLUMNS)
    assert set(table["level"]) == {"region", "municipality"}
    gp_car = table[(table["type"] == "gp") & (table["mode"] == "car")]
    assert (gp_car["mean_difference_s"] >= 0).all()
    assert gp_car["population_nearest_abroad"].max() > 0
    region = gp_car[gp_car["level"] == "region"].iloc[0]
    cells = result.cells
    pop = cells["aantal_inwoners"].fillna(0).to_numpy()
    c, n = cells["gp_car_time_s"].to_numpy(), cells["gp_car_nl_only_time_s"].to_numpy()
    both = np.isfinite(c) & np.isfinite(n)
    expected = np.dot(n[both] - c[both], pop[both]) / pop[both].sum()
    assert region["mean_difference_s"] == pytest.approx(expected, abs=0.05)
    abroad = np.where(np.isfinite(n), c < n, np.isfinite(c))
    assert region["population_nearest_abroad"] == pytest.approx(pop[abroad].sum())


def test_compare_scopes_by_eye():
    cells = pd.DataFrame({
        "municipality_code": ["GM0001", "GM0001", "GM0002"],
        "municipality_name": ["A", "A", "B"],
        "aantal_inwoners": [10.0, 30.0, 60.0],
        "gp_car_time_s": [100.0, 200.0, 300.0],           # cross-border
        "gp_car_nl_only_time_s": [100.0, 500.0, np.nan],  # the third reaches none in NL
    })
    settings = Settings(modes=("car",), facility_types=("gp",))
    table = border.compare_scopes(cells, settings, "R", "Regio")
    region = table.iloc[0]
    assert region["population_compared"] == 40.0
    assert region["mean_difference_s"] == pytest.approx((0 * 10 + 300 * 30) / 40)
    assert region["population_nearest_abroad"] == 90.0  # 30 nearer abroad, 60 only abroad
    assert region["share_within_norm_nl_only"] == pytest.approx(0.4)
    assert region["share_within_norm_cross_border"] == pytest.approx(1.0)
    b = table[table["code"] == "GM0002"].iloc[0]
    assert b["population_compared"] == 0 and np.isnan(b["mean_difference_s"])


# -- CBS comparison in the profile ----------------------------------------------

def test_profile_lays_the_engine_beside_cbs_published_distances(scopes):
    result = scopes["cross-border"]
    cells = result.cells
    for ftype in TYPES:
        published = cells[f"{ftype}_cbs_published_m"]
        assert published.notna().mean() > 0.95
        diff = cells[f"{ftype}_cbs_difference_m"]
        np.testing.assert_allclose(diff, cells[f"{ftype}_cbs_distance_m"] - published)
    table = pd.read_csv(result.files["manifest"].parent / "cbs_comparison.csv")
    region = table[table["level"] == "region"].set_index("type")
    assert set(region.index) == set(TYPES)
    # The demo's published figures are straight line x 1.25: close to the roads.
    assert (region["correlation"] > 0.8).all()
    assert (region["ratio_engine_to_published"].between(0.9, 1.4)).all()
    assert set(table.loc[table["level"] == "municipality", "code"]) == {
        "GM9901", "GM9902", "GM9903"}


# -- a network of one's own -----------------------------------------------------

def test_run_with_a_walk_network_from_osm_xml_gives_the_same_walk_times(demo_region, tmp_path,
                                                                        capsys):
    import osmium

    xml = tmp_path / "demo.osm"
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(demo_region.osm)):
            writer.add(obj)
    base = ["run", str(demo_region.config), "--set", 'modes=["walk"]', "--set",
            "compare_scopes=false", "--set", 'fca_mode="walk"']
    code, _, err = _run(base, tmp_path / "a", capsys)
    assert code == 0, err
    code, _, err = _run([*base, "--network", f"walk={xml}"], tmp_path / "b", capsys)
    assert code == 0, err
    own = gpd.read_parquet(tmp_path / "b" / "profiles" / "demo" / "cells.parquet")
    built = gpd.read_parquet(tmp_path / "a" / "profiles" / "demo" / "cells.parquet")
    for ftype in TYPES:
        np.testing.assert_array_equal(own[f"{ftype}_walk_time_s"], built[f"{ftype}_walk_time_s"])
    manifest = json.loads((tmp_path / "b" / "profiles" / "demo" / "manifest.json").read_text())
    assert manifest["networks"]["walk"]["source"] == str(xml)
    assert manifest["inputs"]["networks"]["walk"]["path"] == str(xml)


def test_the_npvr_example_configuration_asks_for_a_clipped_registry_region():
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "npvr-region.toml"
    config = RunConfig.from_toml(example)
    assert (config.region, config.region_id, config.clip) == (
        "zeeuws-vlaanderen", "zeeuws-vlaanderen", True)
    assert config.settings.area_buffer_m == 15000.0
    assert config.gtfs[0].name == "gtfs-nl.zip"
