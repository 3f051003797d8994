"""Specification of crash safety: profile swaps survive a kill, killed runs'
temporary files are cleaned, runs sharing a cache build each entry once, and
a failed write leaves nothing half-written and names its path.

Kills and concurrent runs happen in real processes (``spawn``); a writer is
killed at an exact moment by replacing ``os.replace``/``shutil.rmtree`` in
that process only.
"""

from __future__ import annotations

import errno
import hashlib
import multiprocessing
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from bereikbaarheid import _io, export
from bereikbaarheid.config import Settings
from bereikbaarheid.demo.generate import DEMO_PT_DATE
from bereikbaarheid.networks import cache

from osmutil import write_pbf

SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture
def village_pbf(tmp_path):
    """A square of two residential streets."""
    return write_pbf(tmp_path / "village.osm.pbf",
                     {1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (0, 100)},
                     [(10, [1, 2, 3], {"highway": "residential"}),
                      (11, [3, 4, 1], {"highway": "residential"})])


def _tables(value: float, rows: int = 2) -> tuple[gpd.GeoDataFrame, pd.DataFrame, dict]:
    """A profile's cells, summary and manifest, told apart by ``value``."""
    rng = np.random.default_rng(1)
    cells = gpd.GeoDataFrame({"cell_id": np.arange(rows), "value": rng.random(rows) + value},
                             geometry=gpd.points_from_xy(rng.random(rows), rng.random(rows)),
                             crs="EPSG:28992")
    return cells, pd.DataFrame({"region": ["demo"], "value": [value]}), {"region": "demo"}


def _value(profile: Path) -> float:
    return float(pd.read_csv(profile / "summary.csv")["value"].iloc[0])


def _hidden(folder: Path) -> list[str]:
    """Names starting with a dot in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _run(target, *args) -> int:
    """Run ``target(*args)`` in a fresh process; its exit code."""
    process = SPAWN.Process(target=target, args=args)
    process.start()
    process.join(120)
    return process.exitcode


def _write_and_die(folder: Path, value: float, moment: str) -> None:
    """Write a profile and SIGKILL this process ``"between"`` the two
    renames of the swap, or ``"after"`` them (removing the old copy)."""
    real_replace, real_rmtree = os.replace, shutil.rmtree

    def replace(src, dst):
        if moment == "between" and Path(dst) == folder:
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(src, dst)

    def rmtree(path, *args, **kwargs):
        if moment == "after" and ".old-" in Path(path).name:
            os.kill(os.getpid(), signal.SIGKILL)
        real_rmtree(path, *args, **kwargs)

    os.replace, shutil.rmtree = replace, rmtree
    export.write_profile(folder, *_tables(value))


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# -- permissions -----------------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o027], ids=["umask022", "umask027"])
def test_profile_folder_and_files_get_the_modes_mkdir_and_open_give(tmp_path, umask):
    previous = os.umask(umask)
    try:
        files = export.write_profile(tmp_path / "profiles" / "demo", *_tables(1.0))
    finally:
        os.umask(previous)
    assert (tmp_path / "profiles" / "demo").stat().st_mode & 0o777 == 0o777 & ~umask
    for path in files.values():
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path.name


def test_atomic_files_get_the_mode_open_gives(tmp_path):
    previous = os.umask(0o027)
    try:
        with _io.atomic_open(tmp_path / "a.txt") as f:
            f.write("x")
    finally:
        os.umask(previous)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640


# -- a kill during the profile swap ----------------------------------------------------

def test_a_kill_between_the_two_renames_keeps_the_old_profile(tmp_path):
    folder = tmp_path / "profiles" / "demo"
    export.write_profile(folder, *_tables(1.0))
    assert _run(_write_and_die, folder, 2.0, "between") == -signal.SIGKILL
    # The killed run left the old profile aside and its new one unswapped.
    assert not folder.exists()
    left = _hidden(folder.parent)
    assert len(left) == 2 and left[0].startswith(".demo.") and left[0].endswith(".tmp")
    assert left[1].startswith(".demo.old-")

    export.recover(folder)
    assert _value(folder) == 1.0
    assert _hidden(folder.parent) == []


def test_a_kill_after_the_renames_leaves_the_new_profile_and_no_old_copy(tmp_path):
    folder = tmp_path / "profiles" / "demo"
    export.write_profile(folder, *_tables(1.0))
    assert _run(_write_and_die, folder, 2.0, "after") == -signal.SIGKILL
    assert _value(folder) == 2.0
    assert [name.split("-")[0] for name in _hidden(folder.parent)] == [".demo.old"]

    # The next write recovers before it starts.
    export.write_profile(folder, *_tables(3.0))
    assert _value(folder) == 3.0
    assert _hidden(folder.parent) == []


def test_recover_leaves_the_leftovers_of_running_processes_and_other_hosts_alone(tmp_path):
    folder = tmp_path / "profiles" / "demo"
    export.write_profile(folder, *_tables(1.0))
    running = folder.with_name(f".demo.old-{_io.owner_tag()}")  # this very process
    os.replace(folder, running)
    other_host = folder.with_name(f".demo.old-{_dead_pid()}-{'0' * 8}")
    shutil.copytree(running, other_host)
    working = _io.temp_beside(folder, directory=True)
    export.recover(folder)
    assert not folder.exists()
    assert all(p.exists() for p in (running, other_host, working))

    # Once its writer has ended (here: a name as an earlier version wrote it,
    # without the host), the old profile is put back.
    os.replace(running, folder.with_name(f".demo.old-{_dead_pid()}"))
    export.recover(folder)
    assert _value(folder) == 1.0
    assert other_host.exists() and working.exists()


def test_of_several_old_copies_the_most_recently_written_is_restored(tmp_path):
    folder = tmp_path / "profiles" / "demo"
    for value, written in ((2.0, 2_000_000_000), (1.0, 1_000_000_000)):
        elsewhere = tmp_path / str(value) / "demo"
        export.write_profile(elsewhere, *_tables(value))
        os.utime(elsewhere / "manifest.json", (written, written))
        os.renames(elsewhere, folder.with_name(f".demo.old-{_dead_pid()}-{_io.host_id()}"))
    export.recover(folder)
    assert _value(folder) == 2.0
    assert _hidden(folder.parent) == []


def _write_often(folder: Path, value: float, barrier, times: int) -> None:
    barrier.wait()
    for _ in range(times):
        export.write_profile(folder, *_tables(value))


@pytest.mark.slow
def test_two_runs_writing_one_profile_at_once_both_succeed(tmp_path):
    folder = tmp_path / "profiles" / "demo"
    barrier = SPAWN.Barrier(2)
    runs = [SPAWN.Process(target=_write_often, args=(folder, value, barrier, 60))
            for value in (1.0, 2.0)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(120)
    assert [run.exitcode for run in runs] == [0, 0]
    assert _value(folder) in (1.0, 2.0)
    assert sorted(p.name for p in folder.parent.iterdir()) == ["demo"]


# -- temporary files of killed runs ---------------------------------------------

def _die_while_writing(paths: list[Path]) -> None:
    """Start an atomic write of each path, then SIGKILL this process."""
    for path in paths:
        tmp = _io.atomic_path(path).__enter__()
        tmp.write_bytes(b"half written")
    os.kill(os.getpid(), signal.SIGKILL)


def _temporary(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_temporary_files_of_killed_runs_are_removed_at_the_next_start(tmp_path, village_pbf):
    cache_dir = tmp_path / "cache"
    arrays = cache_dir / "village.car.arrays"
    assert _run(_die_while_writing, [cache_dir / "village.car.json",
                                     arrays / "node_x.npy"]) == -signal.SIGKILL
    assert len(_temporary(cache_dir)) == 1 and len(_temporary(arrays)) == 1
    live = _io.temp_beside(cache_dir / "village.walk.json")  # a running writer's

    cache.load_or_build(village_pbf, Settings(), cache_dir)
    assert _temporary(cache_dir) == [live.name]
    assert _temporary(arrays) == []


def test_clean_stale_removes_only_dead_processes_files_of_this_host(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    names = {
        f".a.npy.{dead}-{_io.host_id()}.k3j4h5g6.tmp": False,    # dead, this host
        f".b.npy.{alive}-{_io.host_id()}.k3j4h5g6.tmp": True,    # running
        f".c.npy.{dead}-{'f' * 8}.k3j4h5g6.tmp": True,           # another host
        ".d.npy.k3j4h5g6.tmp": True,                              # no owner to judge
        f"e.{dead}-{_io.host_id()}.k3j4h5g6.tmp": True,          # not hidden: not ours
    }
    for name in names:
        (tmp_path / name).write_text("x")
    (tmp_path / f".f.{dead}-{_io.host_id()}.abc.tmp").mkdir()  # a temporary folder
    (tmp_path / f".f.{dead}-{_io.host_id()}.abc.tmp" / "cells.parquet").write_text("x")
    removed = _io.clean_stale(tmp_path)
    assert sorted(p.name for p in removed) == sorted(
        [n for n, kept in names.items() if not kept] + [f".f.{dead}-{_io.host_id()}.abc.tmp"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        n for n, kept in names.items() if kept)


# -- runs sharing a cache ---------------------------------------------------------

def _digest(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    return {name: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
            for name, a in arrays.items()}


def _together(target, args: tuple, results) -> list:
    """Run ``target(*args)`` in two processes at once; what each put in ``results``."""
    runs = [SPAWN.Process(target=target, args=args) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(300)
        assert run.exitcode == 0
    return [results.get(timeout=10) for _ in runs]


def _one_run(osm: Path, gtfs: Path, cache_dir: Path, barrier, results) -> None:
    """Load or build every cache entry of the demo region, starting together
    with the other run; report statuses and array digests."""
    from bereikbaarheid.networks import timetable
    from bereikbaarheid.networks.graph import RoadNetwork

    settings = Settings(pt_date=DEMO_PT_DATE)
    barrier.wait()
    networks, facilities, report = cache.load_or_build(osm, settings, cache_dir)
    hierarchy, hierarchy_report = cache.load_or_build_hierarchy(networks["car"], cache_dir)
    tt, tt_report = cache.load_or_build_timetable([gtfs], networks["walk"], settings, cache_dir)
    statuses = {k: v["status"] for k, v in report.items() if k != "osm"}
    statuses.update(hierarchy=hierarchy_report["status"], timetable=tt_report["status"])
    digests = {mode: _digest({n: getattr(net, n) for n in RoadNetwork.ARRAYS})
               for mode, net in networks.items()}
    digests["hierarchy"] = _digest({k: v for k, v in hierarchy.to_arrays().items()
                                    if k != "build_s"})
    digests["timetable"] = _digest({n: getattr(tt, n) for n in timetable.Timetable.ARRAYS})
    digests["facilities"] = hashlib.sha256(facilities.to_wkt().to_csv().encode()).hexdigest()
    results.put((os.getpid(), statuses, digests))


@pytest.mark.slow
def test_two_runs_sharing_a_cache_build_each_entry_once_and_agree(tmp_path, demo_region):
    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    answers = _together(_one_run, (demo_region.osm, demo_region.gtfs, tmp_path / "cache",
                                   barrier, results), results)
    (_, first, first_digests), (_, second, second_digests) = answers
    assert set(first) == {"walk", "bike", "car", "facilities", "hierarchy", "timetable"}
    for entry in first:
        assert sorted([first[entry], second[entry]]) == ["built", "reused"], entry
    assert first_digests == second_digests
    assert _temporary(tmp_path / "cache") == []


# -- failed writes -------------------------------------------------------------------

def test_an_output_folder_that_is_a_file_is_named(tmp_path):
    (tmp_path / "out.csv").write_text("a file")
    with pytest.raises(NotADirectoryError) as raised:
        export.write_profile(tmp_path / "out.csv" / "demo", *_tables(1.0))
    assert raised.value.filename == str(tmp_path / "out.csv")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "demo").write_text("a file")
    with pytest.raises(NotADirectoryError) as raised:
        export.write_profile(tmp_path / "profiles" / "demo", *_tables(1.0))
    assert raised.value.filename == str(tmp_path / "profiles" / "demo")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["demo", "out.csv", "profiles"]


def test_a_cache_folder_that_is_a_file_is_named(tmp_path, village_pbf):
    (tmp_path / "cache").write_text("a file")
    with pytest.raises(NotADirectoryError) as raised:
        cache.load_or_build(village_pbf, Settings(), tmp_path / "cache")
    assert raised.value.filename == str(tmp_path / "cache")


def _with_small_file_limit(limit: int, call, args, results) -> None:
    """Run ``call(*args)`` where no file may grow past ``limit`` bytes (as
    on a full disk); report the OSError it raises."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    try:
        call(*args)
    except OSError as exc:
        results.put((exc.errno, exc.filename))
    else:
        results.put(None)


def test_a_profile_write_that_runs_out_of_space_keeps_the_old_profile(tmp_path):
    folder = tmp_path / "profiles" / "demo"
    export.write_profile(folder, *_tables(1.0))
    results = SPAWN.Queue()
    big = _tables(2.0, rows=100_000)
    assert _run(_with_small_file_limit, 50_000, export.write_profile, (folder, *big),
                results) == 0
    assert results.get(timeout=10) == (errno.EFBIG, str(folder))
    assert _value(folder) == 1.0
    assert _hidden(folder.parent) == []


def test_a_cache_write_that_runs_out_of_space_leaves_no_temporary_file(tmp_path, demo_region):
    cache_dir = tmp_path / "cache"
    results = SPAWN.Queue()
    assert _run(_with_small_file_limit, 50_000, cache.load_or_build,
                (demo_region.osm, Settings(), cache_dir), results) == 0
    # numpy reports a short write without an errno; the file is named.
    _, name = results.get(timeout=10)
    assert Path(name).parent.parent == cache_dir and Path(name).suffix == ".npy"
    for folder in [cache_dir, *cache_dir.glob("*.arrays")]:
        assert _temporary(folder) == [], folder
    # What was stored is no valid entry: the next run builds it.
    _, _, report = cache.load_or_build(demo_region.osm, Settings(), cache_dir)
    assert {report[m]["status"] for m in ("walk", "bike", "car")} == {"built"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_named_and_left_as_it_was(tmp_path):
    folder = tmp_path / "profiles" / "demo"
    export.write_profile(folder, *_tables(1.0))
    folder.parent.chmod(0o555)
    try:
        with pytest.raises(PermissionError) as raised:
            export.write_profile(folder, *_tables(2.0))
    finally:
        folder.parent.chmod(0o755)
    assert raised.value.filename in (str(folder), str(folder.parent))
    assert _value(folder) == 1.0
    assert _hidden(folder.parent) == []


# -- clipped inputs ------------------------------------------------------------------

def _clip(demo_region, cache_dir: Path) -> dict:
    """Clip the demo's OSM extract and feed to its western half; the report."""
    import shapely

    from bereikbaarheid import regional
    from bereikbaarheid.pipeline import RunConfig

    config = RunConfig(region="west", osm=demo_region.osm, grid=demo_region.grid_100m,
                       municipalities=demo_region.municipalities, gtfs=(demo_region.gtfs,),
                       clip=True, cache_dir=cache_dir)
    x0, y0, x1, y1 = gpd.read_file(demo_region.municipalities).total_bounds
    area = shapely.box(x0, y0, (x0 + x1) / 2, y1)
    return regional.clipped_inputs(config, {"west": area})["west"][2]


def _clip_together(demo_region, cache_dir: Path, barrier, results) -> None:
    barrier.wait()
    results.put({k: v["status"] for k, v in _clip(demo_region, cache_dir).items()})


def test_a_damaged_clipped_file_is_clipped_again(tmp_path, demo_region):
    first = _clip(demo_region, tmp_path / "cache")
    osm_file, feed = Path(first["osm"]["path"]), Path(first["gtfs:gtfs.zip"]["path"])
    osm_file.unlink()
    osm_file.mkdir()
    sidecar = feed.with_name(feed.name + ".json")
    sidecar.unlink()
    sidecar.mkdir()
    report = _clip(demo_region, tmp_path / "cache")
    assert report["osm"]["status"] == "clipped"
    assert report["osm"]["reason"].startswith("verification failed: unreadable clipped file")
    assert report["gtfs:gtfs.zip"]["status"] == "clipped"
    assert report["gtfs:gtfs.zip"]["reason"] == "verification failed: unreadable sidecar"
    report = _clip(demo_region, tmp_path / "cache")
    assert {v["status"] for v in report.values()} == {"reused"}


@pytest.mark.slow
def test_two_runs_sharing_a_cache_clip_each_file_once(tmp_path, demo_region):
    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    first, second = _together(_clip_together, (demo_region, tmp_path / "cache", barrier,
                                               results), results)
    assert set(first) == {"osm", "gtfs:gtfs.zip"}
    for key in first:
        assert sorted([first[key], second[key]]) == ["clipped", "reused"], key


# -- the lock itself ---------------------------------------------------------------------

def _hold(path: Path, seconds: float, held) -> None:
    with _io.locked(path):
        held.set()
        time.sleep(seconds)


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_lock_waits_for_its_holder_and_dies_with_it(tmp_path, kind):
    path = tmp_path / ("entry.lock" if kind == "file" else "profiles")
    if kind == "folder":
        path.mkdir()
    held = SPAWN.Event()
    holder = SPAWN.Process(target=_hold, args=(path, 1.0, held))
    holder.start()
    assert held.wait(60)
    start = time.monotonic()
    with _io.locked(path):
        waited = time.monotonic() - start
    holder.join()
    assert 0.5 < waited < 30
    # A holder that is killed lets go at once.
    held = SPAWN.Event()
    holder = SPAWN.Process(target=_hold, args=(path, 600.0, held))
    holder.start()
    assert held.wait(60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    start = time.monotonic()
    with _io.locked(path):
        assert time.monotonic() - start < 5
