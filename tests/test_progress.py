"""Progress bars: off for library use unless asked for; the long steps
(contraction hierarchy, capacity) show one when they are."""

from __future__ import annotations

import re

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
    # The bar counts contracted nodes out of all (its last frame may be cleared
    # before it is drawn, so any count above 0 shows it ran).
    counts = [int(n) for n in re.findall(rf"(\d+)/{car.n_nodes} ", err)]
    assert counts and max(counts) > 0
    # Watching the count changes nothing: the same hierarchy as without a bar.
    show_progress(False)
    plain = ch.build_hierarchy(*cache._search_graph(car))
    for name, array in plain.to_arrays().items():
        if name != "build_s":
            assert np.array_equal(array, built.to_arrays()[name]), name


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
