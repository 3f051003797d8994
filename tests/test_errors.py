"""Bad input: a clear error naming the file, and nothing half-written."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import pandas as pd
import pytest

from bereikbaarheid import InputError, RunConfig, cli, run_profile


@pytest.fixture
def config(demo_region, tmp_path):
    return RunConfig.from_toml(demo_region.config, output_dir=tmp_path / "profiles",
                               cache_dir=tmp_path / "cache")


def test_missing_input_file_is_named(config, tmp_path):
    bad = dataclasses.replace(config, osm=tmp_path / "nowhere.osm.pbf")
    with pytest.raises(InputError, match="nowhere.osm.pbf"):
        run_profile(bad)
    assert not (tmp_path / "profiles").exists()


def test_a_file_that_is_not_a_pbf_is_refused(config, tmp_path):
    fake = tmp_path / "fake.osm.pbf"
    fake.write_text("this is not a PBF\n")
    with pytest.raises(InputError, match="fake.osm.pbf.*PBF"):
        run_profile(dataclasses.replace(config, osm=fake))


def test_grid_without_the_cbs_columns_is_refused(config, tmp_path):
    grid = gpd.read_file(config.grid)
    bad = tmp_path / "grid.gpkg"
    grid.drop(columns=["aantal_inwoners"]).to_file(bad, layer="vierkant_100m")
    with pytest.raises(InputError, match="grid.gpkg.*aantal_inwoners"):
        run_profile(dataclasses.replace(config, grid=bad))


def test_grid_in_another_crs_is_refused(config, tmp_path):
    grid = gpd.read_file(config.grid).to_crs("EPSG:4326")
    bad = tmp_path / "grid_wgs84.gpkg"
    grid.to_file(bad, layer="vierkant_100m")
    with pytest.raises(InputError, match="grid_wgs84.gpkg.*28992"):
        run_profile(dataclasses.replace(config, grid=bad))


def test_facilities_given_in_lon_lat_as_x_y_are_refused(config, tmp_path):
    fac = pd.read_csv(config.osm.parent / "facilities.csv")
    bad = tmp_path / "fac.csv"
    fac.assign(x=5.1, y=52.1).to_csv(bad, index=False)
    with pytest.raises(InputError, match="fac.csv"):
        run_profile(dataclasses.replace(config, facilities=bad))


def test_a_type_without_any_facility_is_reported_not_a_crash(config, tmp_path):
    fac = pd.read_csv(config.osm.parent / "facilities.csv")
    only_gp = tmp_path / "gp_only.csv"
    fac[fac["type"] == "gp"].to_csv(only_gp, index=False)
    result = run_profile(dataclasses.replace(config, facilities=only_gp))
    assert any("school" in w for w in result.manifest["warnings"])
    assert result.cells["school_walk_time_s"].isna().all()
    assert result.cells["gp_walk_time_s"].notna().any()
    region = result.summary[(result.summary["level"] == "region")
                            & (result.summary["type"] == "school")]
    assert (region["share_within_30min"] == 0).all()


def test_cells_far_from_any_road_are_unlinked_and_warned(config, tmp_path):
    small = dataclasses.replace(config, settings=dataclasses.replace(
        config.settings, max_link_distance_m=60.0))
    result = run_profile(small)
    unlinked = result.cells["car_link_m"].isna()
    assert unlinked.sum() > 0
    assert any("unlinked" in w for w in result.manifest["warnings"])
    assert (result.cells.loc[~unlinked, "car_link_m"] <= 60.0).all()


def test_a_failed_write_keeps_the_earlier_profile(config, monkeypatch):
    first = run_profile(config)
    before = first.files["summary_csv"].read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError):
        run_profile(config)
    folder = first.files["summary_csv"].parent
    assert first.files["summary_csv"].read_bytes() == before
    # No temporary folder left; the catalogue (and its lock file) of the first run.
    assert sorted(p.name for p in folder.parent.iterdir()) == [
        ".catalog.duckdb.lock", "catalog.duckdb", folder.name]


def test_cli_reports_bad_input_with_exit_status_2(tmp_path, capsys):
    assert cli.main(["run", str(tmp_path / "missing.toml"), "--quiet"]) == 2
    assert "missing.toml" in capsys.readouterr().err
