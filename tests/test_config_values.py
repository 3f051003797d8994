"""Every value of a run configuration checked: types, ranges, tables; each
error names the file and the key and says what was expected."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from bereikbaarheid import ConfigError, InputError, RunConfig, Settings
from bereikbaarheid.config import read_run_file

GOOD = ('[region]\nname = "x"\n[inputs]\nosm = "a.osm.pbf"\ngrid = "g.gpkg"\n'
        'municipalities = "m.gpkg"\n')


def _file(tmp_path, text: str, name: str = "run.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("line, key, expected", [
    ('walk_speed_kmh = "5"', "walk_speed_kmh", "expected a number; got '5' (text)"),
    ('modes = "car"', "modes", 'expected a list such as ["walk", "bike", "car", "pt"]'),
    ('modes = ["car", "bus"]', "modes[2]", "expected one of 'walk', 'bike', 'car' or 'pt'"),
    ("area_buffer_m = 1e300", "area_buffer_m", "1e+300 is outside the range 0 to 100,000 m"),
    ("thresholds_min = 15", "thresholds_min", "expected a list such as [5, 10, 15, 30]"),
    ("thresholds_min = [5.5, 10]", "thresholds_min[1]", "expected a whole number"),
    ("compare_scopes = 'no'", "compare_scopes", "expected true or false"),
    ("max_link_distance_m = nan", "max_link_distance_m", "expected a finite number"),
    ("pt_max_rides = 0", "pt_max_rides", "0 is outside the range 1 to 10"),
    ("norm_min = { gp = -1 }", "norm_min.gp", "outside the range above 0"),
    ("car_speeds_kmh = 5", "car_speeds_kmh", 'expected a table such as {"motorway": 100.0'),
    ("crs = 'EPSG:4326'", "crs", "not a projected CRS in metres"),
    ("walk_speed = 4", "walk_speed", "unknown setting; did you mean 'walk_speed_kmh'?"),
    ("pt_date = '2026-13-45'", "pt_date", "'2026-13-45' is not an ISO date"),
])
def test_a_bad_setting_names_the_file_the_key_and_what_was_expected(tmp_path, line, key,
                                                                    expected):
    path = _file(tmp_path, GOOD + "[settings]\n" + line + "\n")
    with pytest.raises(ConfigError) as info:
        RunConfig.from_toml(path)
    assert str(info.value).startswith(f"{path}: {key}: ")
    assert expected in str(info.value)


@pytest.mark.parametrize("text, key, expected", [
    (GOOD.replace('osm = "a.osm.pbf"', "osm = 5"), "[inputs] osm", "expected text in quotes"),
    (GOOD + "gtfs = 5\n", "[inputs] gtfs", "expected"),
    (GOOD + "clip = 'no'\n", "[inputs] clip", "expected true or false"),
    (GOOD + "[output]\nfolders = 'p'\n", "[output] folders", "unknown key"),
    (GOOD + "[outputs]\nfolder = 'p'\n", "[outputs]", "unknown key"),
    (GOOD.replace('grid = "g.gpkg"\n', ""), "[inputs] grid", "missing; it is required"),
    ('[inputs]\nosm = "a"\ngrid = "g"\nmunicipalities = "m"\n', "[region]", "missing table"),
    (GOOD.replace('name = "x"', 'name = "../elsewhere"'), "region name",
     "'../elsewhere' cannot name a folder; expected letters, digits"),
    (GOOD + "[inputs.networks]\nferry = 'f.graphml'\n", "[inputs] networks.ferry",
     "expected one of 'walk', 'bike' or 'car'"),
    (GOOD + "[settings]\nsettings = 1\n", "settings", "unknown setting"),
])
def test_a_bad_table_names_the_file_and_the_key(tmp_path, text, key, expected):
    path = _file(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        RunConfig.from_toml(path)
    assert str(info.value).startswith(f"{path}: {key}")
    assert expected in str(info.value)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "run.toml"
    path.write_bytes(GOOD.encode() + b'[settings]\n# caf\xe9\n')
    with pytest.raises(InputError, match=r"run.toml: line 8: byte 0xe9 is not UTF-8"):
        RunConfig.from_toml(path)


def test_a_folder_given_as_the_configuration_is_named(tmp_path):
    with pytest.raises(InputError, match="is a folder; expected a TOML run configuration"):
        read_run_file(tmp_path)


def test_a_toml_date_is_taken_as_the_analysis_day(tmp_path):
    path = _file(tmp_path, GOOD + "[settings]\npt_date = 2026-03-10\n")
    assert RunConfig.from_toml(path).settings.pt_date == "2026-03-10"


def test_the_ranges_hold_for_python_callers_too():
    with pytest.raises(ConfigError, match="^walk_speed_kmh: 500 is outside the range above 0 "
                                          "and at most 15 km/h$"):
        Settings(walk_speed_kmh=500)
    with pytest.raises(ConfigError, match="area_buffer_m"):
        dataclasses.replace(Settings(), area_buffer_m=-1.0)
    with pytest.raises(ConfigError, match="also in facility_types"):
        Settings(ignore_facility_types=("gp",))


def test_lists_become_tuples_and_whole_numbers_are_numbers():
    s = Settings(modes=["car"], thresholds_min=[10, 20], walk_speed_kmh=4)
    assert s.modes == ("car",) and s.thresholds_min == (10, 20)
    assert s.walk_speed_kmh == 4.0 and isinstance(s.walk_speed_kmh, float)


# -- every field, any TOML value: a valid Settings or one clear ConfigError ------

_TOML_VALUES = st.recursive(
    st.one_of(st.booleans(), st.integers(-10**12, 10**12),
              st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=6), children, max_size=3)),
    max_leaves=8)
_FIELDS = [f.name for f in dataclasses.fields(Settings)]


@hypothesis_settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(_FIELDS), value=_TOML_VALUES)
def test_any_value_of_any_setting_is_accepted_or_refused_by_name(name, value):
    try:
        s = Settings.from_dict({name: value}, source="run.toml")
    except ConfigError as exc:
        text = str(exc)
        assert text.startswith("run.toml: ") and "\n" not in text
        # The message names the setting (or, for a conflict, the settings).
        assert name in text or (exc.key is None and " " in exc.message)
        return
    # Accepted: the value is what was asked for, of the declared kind.
    got = getattr(s, name)
    if isinstance(value, float) and isinstance(got, float):
        assert math.isfinite(got) and got == value
    assert Settings.from_dict(s.to_dict()) == s  # and it survives a round trip
