"""Specification of the network cache: build once, reuse, rebuild on change."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bereikbaarheid.config import Settings
from bereikbaarheid.errors import InputError
from bereikbaarheid.networks import cache
from bereikbaarheid.networks.graph import RoadNetwork

from osmutil import ORIGIN_X, ORIGIN_Y, write_pbf

NODES = {1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (0, 100),
         5: (50, 50, {"shop": "supermarket", "name": "Super"})}
WAYS = [(10, [1, 2, 3], {"highway": "residential", "oneway": "yes"}),
        (11, [3, 4, 1], {"highway": "residential"})]


def _status(entry):
    """A mode's cache status without its build statistics."""
    return {k: v for k, v in entry.items() if k != "stats"}


@pytest.fixture
def pbf(tmp_path):
    return write_pbf(tmp_path / "village.osm.pbf", NODES, WAYS)


def _statuses(report):
    return {k: v["status"] for k, v in report.items() if k != "osm"}


def _same(a: RoadNetwork, b: RoadNetwork) -> None:
    for name in RoadNetwork.ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert (a.mode, a.crs, a.stats) == (b.mode, b.crs, b.stats)


def test_first_call_builds_second_reuses(pbf, tmp_path):
    settings = Settings()
    built, facilities, report = cache.load_or_build(pbf, settings, tmp_path / "cache")
    assert _status(report["walk"]) == {"status": "built", "reason": "no cache"}
    assert _statuses(report) == dict.fromkeys(["walk", "bike", "car", "facilities"], "built")
    assert report["osm"]["ways_routable"] == 2
    assert list(built) == ["walk", "bike", "car"]

    reused, facilities_again, report = cache.load_or_build(pbf, settings, tmp_path / "cache")
    assert _statuses(report) == dict.fromkeys(["walk", "bike", "car", "facilities"], "reused")
    assert "osm" not in report  # the PBF was not read again
    for mode in built:
        _same(built[mode], reused[mode])
    assert facilities_again["facility_id"].tolist() == ["osm:n5"]
    assert facilities_again.crs == facilities.crs
    assert facilities_again.geometry.iloc[0].equals(facilities.geometry.iloc[0])


def test_sidecar_describes_the_arrays(pbf, tmp_path):
    cache.load_or_build(pbf, Settings(modes=("walk",)), tmp_path / "cache")
    meta = json.loads((tmp_path / "cache" / "village.walk.json").read_text())
    assert meta["format_version"] == cache.CACHE_FORMAT_VERSION
    assert meta["mode"] == "walk" and meta["crs"] == "EPSG:28992"
    assert meta["stats"]["nodes"] == 4
    assert meta["arrays"]["indices"] == [[8], "int32"]
    assert len(meta["key"]) == 64 and len(meta["sha256"]) == 64
    assert sorted(meta["array_sha256"]) == sorted(RoadNetwork.ARRAYS)


def test_changed_setting_rebuilds_only_what_depends_on_it(pbf, tmp_path):
    cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    networks, _, report = cache.load_or_build(pbf, Settings(walk_speed_kmh=4.0), tmp_path / "cache")
    assert _status(report["walk"]) == {"status": "built", "reason": "settings changed"}
    assert _statuses(report) == {"walk": "built", "bike": "reused", "car": "reused",
                                 "facilities": "reused"}
    np.testing.assert_allclose(networks["walk"].edge_time_s, 90.0, rtol=1e-3)  # 100 m at 4 km/h
    _, _, report = cache.load_or_build(pbf, Settings(walk_speed_kmh=4.0), tmp_path / "cache")
    assert _status(report["walk"]) == {"status": "reused"}


def test_changed_input_bytes_rebuild(pbf, tmp_path):
    cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    write_pbf(pbf, {**NODES, 6: (200, 0)}, [*WAYS, (12, [2, 6], {"highway": "residential"})])
    networks, _, report = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    assert {report[m]["reason"] for m in ("walk", "bike", "car", "facilities")} == {"input changed"}
    assert 6 in networks["walk"].node_osm_id


def test_reused_arrays_are_memory_mapped_and_equal_the_built_ones(pbf, tmp_path):
    built, _, _ = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    reused, _, _ = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    for mode in built:
        _same(built[mode], reused[mode])
        for name in RoadNetwork.ARRAYS:
            array = getattr(reused[mode], name)
            assert type(array) is np.ndarray  # no memmap subclass leaks out
            assert isinstance(array.base, np.memmap), name
            assert array.dtype == cache._ARRAY_DTYPES[name]


def test_writing_into_a_reused_network_leaves_the_cache_intact(pbf, tmp_path):
    built, _, _ = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    reused, _, _ = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    reused["car"].edge_time_s[:] = 1.0  # e.g. a scenario closing roads in place
    again, _, report = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    assert _status(report["car"]) == {"status": "reused"}
    _same(again["car"], built["car"])


def test_the_entry_is_a_folder_of_npy_files(pbf, tmp_path):
    built, _, _ = cache.load_or_build(pbf, Settings(modes=("walk",)), tmp_path / "cache")
    folder = tmp_path / "cache" / "village.walk.arrays"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{name}.npy" for name in RoadNetwork.ARRAYS)
    np.testing.assert_array_equal(np.load(folder / "indptr.npy"), built["walk"].indptr)


@pytest.mark.parametrize("name", ["indices", "edge_time_s", "node_x"])
def test_damaged_array_file_is_detected_and_rebuilt(pbf, tmp_path, name):
    built, _, _ = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    path = tmp_path / "cache" / "village.car.arrays" / f"{name}.npy"
    data = bytearray(path.read_bytes())
    data[-4:] = bytes(b ^ 0xFF for b in data[-4:])  # the last element, past the header
    path.write_bytes(bytes(data))
    networks, _, report = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    assert _status(report["car"]) == {
        "status": "built",
        "reason": f"verification failed: stored arrays do not match their checksum ({name})"}
    assert _status(report["walk"]) == {"status": "reused"}
    _same(networks["car"], built["car"])
    _, _, report = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    assert _status(report["car"]) == {"status": "reused"}  # the rebuilt entry was written back


def test_missing_array_file_is_rebuilt(pbf, tmp_path):
    cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    (tmp_path / "cache" / "village.bike.arrays" / "edge_ferry.npy").unlink()
    _, _, report = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    assert _status(report["bike"]) == {
        "status": "built", "reason": "verification failed: array file(s) missing: edge_ferry"}


def test_a_cache_of_the_former_npz_format_is_rebuilt_and_removed(pbf, tmp_path):
    cache.load_or_build(pbf, Settings(modes=("walk",)), tmp_path / "cache")
    sidecar = tmp_path / "cache" / "village.walk.json"
    meta = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**meta, "format_version": 2}))
    npz = tmp_path / "cache" / "village.walk.npz"
    npz.write_bytes(b"an old single-file cache")
    _, _, report = cache.load_or_build(pbf, Settings(modes=("walk",)), tmp_path / "cache")
    assert _status(report["walk"]) == {"status": "built", "reason": "version changed"}
    assert not npz.exists()


def test_inconsistent_arrays_with_matching_checksum_are_rebuilt(pbf, tmp_path):
    built, _, _ = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    # Rewrite the arrays with an out-of-range head and a sidecar that agrees with
    # it: only RoadNetwork.validate can catch this.
    walk = built["walk"]
    broken = RoadNetwork(**{**walk.__dict__, "indices": walk.indices + 100})
    folder, sidecar = tmp_path / "cache" / "village.walk.arrays", tmp_path / "cache" / "village.walk.json"
    meta = json.loads(sidecar.read_text())
    identity = {k: meta[k] for k in ("version", "input_sha256", "settings_sha256", "mode")}
    cache._store_network(broken, folder, sidecar, identity)
    _, _, report = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    assert _status(report["walk"]) == {"status": "built", "reason": "verification failed: edge head out of range"}


def test_missing_pbf_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="absent.osm.pbf"):
        cache.load_or_build(tmp_path / "absent.osm.pbf", Settings(), tmp_path / "cache")


def test_unreadable_sidecar_is_rebuilt(pbf, tmp_path):
    cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    (tmp_path / "cache" / "village.bike.json").write_text("{not json")
    _, _, report = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    assert report["bike"]["status"] == "built"
    assert report["bike"]["reason"].startswith("verification failed: unreadable sidecar")


def test_hierarchy_is_built_once_reused_and_rebuilt_when_damaged(pbf, tmp_path):
    from bereikbaarheid.kernels import ch

    networks, _, _ = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    car = networks["car"]
    built, report = cache.load_or_build_hierarchy(car, tmp_path / "cache")
    assert report["status"] == "built" and report["reason"] == "no cache"
    reused, report = cache.load_or_build_hierarchy(car, tmp_path / "cache")
    assert report == {"status": "reused", "shortcuts": built.shortcuts}
    for name, array in built.to_arrays().items():
        if name != "build_s":
            np.testing.assert_array_equal(getattr(reused, name), array, err_msg=name)
    # The hierarchy answers for the network's reversed graph (the search graph).
    rev = cache._search_graph(car)
    from bereikbaarheid.kernels import dijkstra
    for source in range(car.n_nodes):
        np.testing.assert_array_equal(ch.one_to_all(reused, source),
                                      dijkstra.one_to_all(rev[0], rev[1], rev[2], source))
    (folder,) = (tmp_path / "cache").glob("hierarchy.car.*.arrays")
    path = folder / "up_cost.npy"
    data = bytearray(path.read_bytes())
    data[-4:] = bytes(b ^ 0xFF for b in data[-4:])
    path.write_bytes(bytes(data))
    _, report = cache.load_or_build_hierarchy(car, tmp_path / "cache")
    assert report["status"] == "built"
    assert report["reason"].startswith("verification failed: stored arrays do not match")
    # Another network (the walk one) gets its own entry.
    _, report = cache.load_or_build_hierarchy(networks["walk"], tmp_path / "cache")
    assert report["status"] == "built"


def _into_folder(path):
    """Replace a file by a folder of the same name holding one file."""
    path.unlink()
    path.mkdir()
    (path / "stray.txt").write_text("x")


def _into_file(path):
    """Replace a folder by a file of the same name."""
    import shutil

    shutil.rmtree(path)
    path.write_text("x")


def _truncate(path):
    path.write_bytes(path.read_bytes()[:20])


@pytest.mark.parametrize("entry, damage, reason", [
    ("village.car.arrays/node_x.npy", _into_folder, "not a file: node_x.npy"),
    ("village.car.arrays", _into_file, "array file(s) missing: node_x"),
    ("village.car.arrays/indptr.npy", _truncate, "stored arrays do not match"),
    ("village.car.json", _into_folder, "unreadable sidecar"),
    ("village.car.json", lambda p: p.write_bytes(bytes(range(256))), "unreadable sidecar"),
    ("village.car.json", lambda p: p.write_text("[1, 2]"), "unreadable sidecar"),
    ("village.facilities.parquet", _into_folder, "unreadable facilities"),
    ("village.facilities.parquet", _truncate, "stored facilities do not match"),
    ("village.facilities.json", _into_folder, "unreadable sidecar"),
])
def test_a_damaged_entry_is_reported_and_replaced(pbf, tmp_path, entry, damage, reason):
    built, _, _ = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    damage(tmp_path / "cache" / entry)
    networks, facilities, report = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    name = "facilities" if "facilities" in entry else "car"
    assert report[name]["status"] == "built"
    assert report[name]["reason"].startswith(f"verification failed: {reason}")
    _same(networks["car"], built["car"])
    assert facilities["facility_id"].tolist() == ["osm:n5"]
    _, _, report = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    assert _statuses(report) == dict.fromkeys(["walk", "bike", "car", "facilities"], "reused")
    assert not (tmp_path / "cache" / "village.car.arrays" / "stray.txt").exists()


def test_a_damaged_hierarchy_file_is_reported_and_replaced(pbf, tmp_path):
    networks, _, _ = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    cache.load_or_build_hierarchy(networks["car"], tmp_path / "cache")
    (folder,) = (tmp_path / "cache").glob("hierarchy.car.*.arrays")
    _into_folder(folder / "up_cost.npy")
    _, report = cache.load_or_build_hierarchy(networks["car"], tmp_path / "cache")
    assert report["status"] == "built"
    assert report["reason"] == "verification failed: not a file: up_cost.npy"
    _, report = cache.load_or_build_hierarchy(networks["car"], tmp_path / "cache")
    assert report["status"] == "reused"


def test_a_timetable_replaced_by_a_folder_is_reported_and_rebuilt(tmp_path, demo_region):
    from bereikbaarheid.demo.generate import DEMO_PT_DATE

    settings = Settings(pt_date=DEMO_PT_DATE, modes=("walk",))
    networks, _, _ = cache.load_or_build(demo_region.osm, settings, tmp_path / "cache")
    cache.load_or_build_timetable([demo_region.gtfs], networks["walk"], settings, tmp_path / "cache")
    (npz,) = (tmp_path / "cache").glob("*.pt-*.npz")
    _into_folder(npz)
    _, report = cache.load_or_build_timetable([demo_region.gtfs], networks["walk"], settings,
                                              tmp_path / "cache")
    assert report["status"] == "built"
    assert report["reason"].startswith("verification failed: unreadable timetable")
    _, report = cache.load_or_build_timetable([demo_region.gtfs], networks["walk"], settings,
                                              tmp_path / "cache")
    assert report["status"] == "reused"


# --- the points' locations on a network ------------------------------------

def _village(pbf, tmp_path):
    networks, _, _ = cache.load_or_build(pbf, Settings(), tmp_path / "cache")
    return networks


def _point_sets(seed=0, n=40):
    """Random cells around the village and three facilities, one far away;
    in the networks' CRS (the village lies at ``osmutil.ORIGIN``)."""
    rng = np.random.default_rng(seed)
    cells = ("cells", ORIGIN_X + rng.uniform(-150, 250, n), ORIGIN_Y + rng.uniform(-150, 250, n))
    facilities = ("facilities", ORIGIN_X + np.array([50.0, 100.0, 500.0]),
                  ORIGIN_Y + np.array([50.0, 40.0, 500.0]))
    return [cells, facilities]


def _same_locations(a, b):
    for name in ("segment", "fraction", "connector_m"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_locations_are_stored_then_reused_and_equal_fresh_ones(pbf, tmp_path):
    from bereikbaarheid.networks import link

    walk = _village(pbf, tmp_path)["walk"]
    sets = _point_sets()
    fresh = [link.locate_points(walk, x, y, 100.0) for _, x, y in sets]
    assert (fresh[0].segment == -1).any() and (fresh[0].segment >= 0).any()
    assert fresh[1].segment[2] == -1          # 500 m away: not linked within 100 m
    stored, report = cache.locate_points_cached(walk, sets, 100.0, tmp_path / "cache")
    assert report == {"cells": {"status": "stored", "reason": "no cache"},
                      "facilities": {"status": "stored", "reason": "no cache"}}
    reused, report = cache.locate_points_cached(walk, sets, 100.0, tmp_path / "cache")
    assert report == {"cells": {"status": "reused"}, "facilities": {"status": "reused"}}
    for a, b, c in zip(fresh, stored, reused):
        _same_locations(a, b)
        _same_locations(a, c)
    assert len(list((tmp_path / "cache").glob("locations.walk.*.arrays"))) == 2
    plain, report = cache.locate_points_cached(walk, sets, 100.0, None)
    assert report == {"cells": {"status": "not cached"}, "facilities": {"status": "not cached"}}
    for a, b in zip(fresh, plain):
        _same_locations(a, b)


def test_new_facilities_leave_the_cells_entry_in_use(pbf, tmp_path):
    from bereikbaarheid.networks import link

    networks = _village(pbf, tmp_path)
    cells, facilities = _point_sets()
    cache.locate_points_cached(networks["walk"], [cells, facilities], 100.0, tmp_path / "cache")
    moved = ("facilities", facilities[1] + 1.0, facilities[2])
    located, report = cache.locate_points_cached(networks["walk"], [cells, moved], 100.0,
                                                 tmp_path / "cache")
    assert report == {"cells": {"status": "reused"},
                      "facilities": {"status": "stored", "reason": "no cache"}}
    _same_locations(located[1], link.locate_points(networks["walk"], moved[1], moved[2], 100.0))
    # Another link distance, or another network, is another entry.
    _, report = cache.locate_points_cached(networks["walk"], [cells], 50.0, tmp_path / "cache")
    assert report["cells"]["status"] == "stored"
    _, report = cache.locate_points_cached(networks["car"], [cells], 100.0, tmp_path / "cache")
    assert report["cells"]["status"] == "stored"


def test_damaged_locations_are_detected_and_located_again(pbf, tmp_path):
    from bereikbaarheid.networks import link

    walk = _village(pbf, tmp_path)["walk"]
    sets = _point_sets()
    cache.locate_points_cached(walk, sets, 100.0, tmp_path / "cache")
    (folder,) = (tmp_path / "cache").glob("locations.walk.cells.*.arrays")
    path = folder / "fraction.npy"
    data = bytearray(path.read_bytes())
    data[-3:] = bytes(b ^ 0xFF for b in data[-3:])
    path.write_bytes(bytes(data))
    located, report = cache.locate_points_cached(walk, sets, 100.0, tmp_path / "cache")
    assert report["cells"]["status"] == "stored"
    assert report["cells"]["reason"].startswith(
        "verification failed: stored arrays do not match their checksum (fraction)")
    assert report["facilities"] == {"status": "reused"}
    _same_locations(located[0], link.locate_points(walk, sets[0][1], sets[0][2], 100.0))


def _forged(fresh, change):
    """The arrays of ``fresh`` locations, changed by ``change(arrays)``."""
    arrays = {name: getattr(fresh, name).copy() for name in ("segment", "fraction",
                                                              "connector_m")}
    change(arrays)
    return arrays


def _set_one(field, value):
    def change(arrays):
        arrays[field][np.flatnonzero(arrays["segment"] >= 0)[0]] = value
    return change


def _drop_last(arrays):
    for name in arrays:
        arrays[name] = arrays[name][:-1]


@pytest.mark.parametrize("change, reason", [
    (_set_one("segment", 10_000), "a location lies off the network's segments"),
    (_set_one("segment", -2), "a location lies off the network's segments"),
    (_set_one("fraction", 1.5), "a location lies off the network's segments"),
    (_set_one("connector_m", -1.0), "a location lies off the network's segments"),
    (_drop_last, "point count differs"),
])
def test_forged_locations_are_refused_although_their_checksum_matches(
        pbf, tmp_path, change, reason):
    """An entry written with a matching checksum but values no location can
    have (a segment the network lacks, a fraction outside the segment, one
    point fewer) is not used."""
    walk = _village(pbf, tmp_path)["walk"]
    sets = _point_sets()
    (fresh,), _ = cache.locate_points_cached(walk, sets[:1], 100.0, tmp_path / "cache")
    (folder,) = (tmp_path / "cache").glob("locations.walk.cells.*.arrays")
    sidecar = folder.with_suffix(".json")
    meta = json.loads(sidecar.read_text())
    identity = {k: meta[k] for k in ("version", "input_sha256", "settings_sha256", "mode")}
    cache._store_arrays(_forged(fresh, change), folder, sidecar, identity, mode="walk")
    located, report = cache.locate_points_cached(walk, sets[:1], 100.0, tmp_path / "cache")
    assert report["cells"] == {"status": "stored", "reason": f"verification failed: {reason}"}
    _same_locations(located[0], fresh)
    _, report = cache.locate_points_cached(walk, sets[:1], 100.0, tmp_path / "cache")
    assert report["cells"] == {"status": "reused"}
