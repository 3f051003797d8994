"""Settings and run configuration: defaults, overrides and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from bereikbaarheid import ConfigError, InputError, RunConfig, Settings


def test_defaults_are_the_documented_ones():
    s = Settings()
    assert s.crs == "EPSG:28992"
    assert s.modes == ("walk", "bike", "car", "pt")
    assert s.facility_types == ("gp", "school", "supermarket")
    assert s.max_link_distance_m == 1600.0
    assert s.thresholds_min == (5, 10, 15, 30)
    assert s.pt_window == ("07:00", "09:00") and s.pt_percentiles == (25, 50, 75)
    assert s.pt_max_rides == 4 and s.pt_access_mode == "walk"


def test_the_departure_window_may_pass_midnight():
    s = Settings(pt_window=("23:30", "25:00"), pt_step_min=30)
    assert s.pt_departures_s() == [84600, 86400, 88200]
    assert Settings().pt_departures_s()[:2] == [25200, 25260]
    assert len(Settings().pt_departures_s()) == 120


@pytest.mark.parametrize("values, message", [
    ({"pt_date": "10-03-2026"}, "pt_date"),
    ({"pt_window": ("9:00", "7:00")}, "pt_window"),
    ({"pt_window": ("7h", "9:00")}, "pt_window"),
    ({"pt_percentiles": (50, 25)}, "pt_percentiles"),
    ({"pt_time_percentile": 90}, "pt_time_percentile"),
    ({"pt_max_rides": 0}, "pt_max_rides"),
    ({"pt_access_mode": "car"}, "pt_access_mode"),
    ({"pt_step_min": 0}, "pt_step_min"),
])
def test_public_transport_settings_are_checked(values, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_dict(values)


def test_public_transport_needs_walking_for_access_and_transfers():
    assert Settings(modes=("car", "pt")).road_modes == ("walk", "car")
    assert Settings(modes=("pt",), pt_access_mode="bike").road_modes == ("walk", "bike")


def test_dict_settings_merge_key_by_key():
    s = Settings.from_dict({"car_speeds_kmh": {"residential": 25}})
    assert s.car_speeds_kmh["residential"] == 25
    assert s.car_speeds_kmh["motorway"] == Settings().car_speeds_kmh["motorway"]


def test_unknown_setting_is_refused_with_the_known_ones():
    with pytest.raises(ConfigError, match="walk_speed.*known"):
        Settings.from_dict({"walk_speed": 4})


@pytest.mark.parametrize("thresholds", [(), (10, 5), (5, 5, 10), (0, 5)])
def test_thresholds_must_strictly_increase(thresholds):
    with pytest.raises(ConfigError, match="thresholds_min"):
        Settings(thresholds_min=thresholds)


def test_digest_changes_with_the_settings_it_covers():
    a, b = Settings(), Settings(walk_speed_kmh=4.0)
    assert a.digest("walk_speed_kmh") != b.digest("walk_speed_kmh")
    assert a.digest("bike_speed_kmh") == b.digest("bike_speed_kmh")


def test_run_config_paths_are_relative_to_the_file(tmp_path):
    (tmp_path / "cfg").mkdir()
    path = tmp_path / "cfg" / "run.toml"
    path.write_text('[region]\nname = "x"\n[inputs]\nosm = "a.osm.pbf"\ngrid = "g.gpkg"\n'
                    'municipalities = "m.gpkg"\nfacilities = "f.csv"\n'
                    '[settings]\nmax_link_distance_m = 800\n')
    config = RunConfig.from_toml(path)
    assert config.osm == tmp_path / "cfg" / "a.osm.pbf"
    assert config.facilities == tmp_path / "cfg" / "f.csv"
    assert config.settings.max_link_distance_m == 800


def test_run_config_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match="nope.toml"):
        RunConfig.from_toml(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[region\n")
    with pytest.raises(InputError, match="bad.toml.*TOML"):
        RunConfig.from_toml(bad)
    partial = tmp_path / "partial.toml"
    partial.write_text('[region]\nname = "x"\n[inputs]\nosm = "a.osm.pbf"\n')
    with pytest.raises(ConfigError, match="partial.toml.*grid"):
        RunConfig.from_toml(partial)


def test_the_example_config_is_valid():
    root = Path(__file__).resolve().parents[1]
    config = RunConfig.from_toml(root / "examples" / "run.toml")
    assert config.region == "demo-example"
    assert config.osm.name == "demo.osm.pbf"
    assert config.settings.thresholds_min == (5, 10, 15, 30)


def test_the_age_bands_of_the_settings_are_the_grid_readers():
    from bereikbaarheid.config import AGE_BANDS
    from bereikbaarheid.sources import grid

    assert tuple(grid.AGE_BANDS) == AGE_BANDS


def test_demand_weights_merge_per_type_and_band():
    s = Settings.from_dict({"demand_weights": {"gp": {"65_plus": 1.5}}})
    assert s.demand_weights["gp"]["65_plus"] == 1.5 and s.demand_weights["gp"]["0_14"] == 1.0
    assert s.demand_weights["school"] == {"0_14": 0.6}
    with pytest.raises(ConfigError, match="demand_weights"):
        Settings.from_dict({"demand_weights": {"gp": {"70_plus": 1.0}}})
    with pytest.raises(ConfigError, match="fca_decay_param"):
        Settings(fca_decay="gaussian")
