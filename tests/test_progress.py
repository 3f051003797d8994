"""Progress bars: off for library use unless asked for; the long steps
(contraction hierarchy, capacity) show one when they are."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from bereikbaarheid import _progress, show_progress
from bereikbaarheid.config import Settings
from bereikbaarheid.kernels import ch
from bereikbaarheid.networks import cache


@pytest.fixture
def bars():
    show_progress(True)
    yield
    show_progress(False)


def test_bars_are_off_unless_asked_for(capsys):
    assert _progress.is_quiet()
    for _ in _progress.bar(range(3), desc="quiet"):
        pass
    assert capsys.readouterr().err == ""


def test_the_hierarchy_build_shows_its_nodes_and_builds_the_same(demo_region, tmp_path,
                                                                 capsys, bars):
    networks, _, _ = cache.load_or_build(demo_region.osm, Settings(), tmp_path, modes=("car",))
    car = networks["car"]
    built, report = cache.load_or_build_hierarchy(car, tmp_path)
    err = capsys.readouterr().err
    assert report["status"] == "built"
    assert "contraction hierarchy (car)" in err
    # The kernel counts every node it contracts.
    counter = np.zeros(1, dtype=np.int64)
    ch.build_hierarchy(*cache._search_graph(car), progress=counter)
    assert counter[0] == car.n_nodes
    # Watching the count changes nothing: the same hierarchy as without a bar.
    show_progress(False)
    plain = ch.build_hierarchy(*cache._search_graph(car))
    for name, array in plain.to_arrays().items():
        if name != "build_s":
            assert np.array_equal(array, built.to_arrays()[name]), name


def test_the_watch_shows_the_count_the_work_writes(bars, capsys):
    def work(counter):
        for i in range(1, 5):
            counter[0] = i * 250
            time.sleep(0.3)
        return "done"

    assert _progress.watch(work, desc="counting", total=1000, unit=" nodes") == "done"
    counts = [int(n) for n in re.findall(r"(\d+)/1000 ", capsys.readouterr().err)]
    assert 0 < max(counts) <= 1000 and counts == sorted(counts)


def test_a_failing_kernel_raises_through_the_watch(bars):
    def broken(counter):
        counter[0] = 5
        raise ValueError("bad graph")

    with pytest.raises(ValueError, match="bad graph"):
        _progress.watch(broken, desc="x", total=10, unit=" nodes")


def test_a_run_shows_its_long_steps(demo_region, tmp_path, capsys, bars):
    import dataclasses

    from bereikbaarheid import RunConfig, run_profile

    config = RunConfig.from_toml(demo_region.config, output_dir=tmp_path / "p",
                                 cache_dir=tmp_path / "c")
    config = dataclasses.replace(config, settings=dataclasses.replace(
        config.settings, modes=("car",), compare_scopes=False, hierarchy_min_nodes=0))
    run_profile(config)
    err = capsys.readouterr().err
    for step in ("reading demo.osm.pbf", "contraction hierarchy (car)", "travel times",
                 "capacity"):
        assert step in err, step


def test_a_large_gtfs_file_shows_its_bytes(demo_region, capsys, bars, monkeypatch):
    from bereikbaarheid.sources import _gtfs_text, gtfs

    # The demo's stop_times.txt is 1.7 MB, its stops.txt 18 kB.
    monkeypatch.setattr(_gtfs_text, "_PROGRESS_BYTES", 100_000)
    report = gtfs.validate_gtfs([demo_region.gtfs], service_date="2026-03-10")
    assert not report.fatal
    err = capsys.readouterr().err
    assert "reading stop_times.txt" in err and "reading stops.txt" not in err
