"""The road profile end to end on the demo region."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra as scipy_dijkstra

from bereikbaarheid import RunConfig, run_profile
from bereikbaarheid.networks import cache, link

TYPES = ("gp", "school", "supermarket")
MODES = ("walk", "bike", "car")
ALL_MODES = (*MODES, "pt")  # the demo has a GTFS feed


@pytest.fixture(scope="module")
def demo_run(demo_region, tmp_path_factory):
    work = tmp_path_factory.mktemp("run")
    config = RunConfig.from_toml(demo_region.config, output_dir=work / "profiles",
                                 cache_dir=work / "cache")
    return config, run_profile(config)


def test_every_type_and_mode_is_profiled(demo_run):
    _, result = demo_run
    summary = result.summary
    region = summary[summary["level"] == "region"]
    assert sorted(zip(region["type"], region["mode"])) == sorted(
        (t, m) for t in TYPES for m in ALL_MODES)
    assert set(summary["level"]) == {"region", "municipality"}
    assert summary.loc[summary["level"] == "municipality", "area_code"].nunique() == 3
    for t in TYPES:
        for m in ALL_MODES:
            times = result.cells[f"{t}_{m}_time_s"]
            assert times.notna().mean() > 0.9, (t, m)


def test_car_is_faster_than_bike_is_faster_than_walking_for_most_cells(demo_run):
    cells = demo_run[1].cells
    for t in TYPES:
        walk, bike, car = (cells[f"{t}_{m}_time_s"] for m in MODES)
        both = walk.notna() & bike.notna() & car.notna()
        assert (bike[both] <= walk[both]).mean() > 0.95
        assert (car[both] <= bike[both] * 1.05).mean() > 0.8


def test_a_cell_holding_a_facility_is_at_about_zero(demo_run):
    _, result = demo_run
    cells = result.cells
    fac = pd.read_csv(demo_run[0].osm.parent / "facilities.csv")
    fac = fac[fac["x"].between(cells["x"].min(), cells["x"].max())
              & fac["y"].between(cells["y"].min(), cells["y"].max())]
    hx = (np.floor(fac["x"] / 100) * 100 + 50).to_numpy()
    hy = (np.floor(fac["y"] / 100) * 100 + 50).to_numpy()
    by_xy = cells.set_index(["x", "y"])
    times = []
    for t, x, y in zip(fac["type"], hx, hy):
        if (x, y) in by_xy.index:
            times.append(by_xy.loc[(x, y), f"{t}_walk_time_s"])
            # At most around the block: the centroid and the facility may sit
            # on different streets of a 100 m block.
            assert times[-1] < 300, (t, x, y, times[-1])
    assert len(times) >= 5
    assert np.median(times) < 120


def test_unlinked_cells_are_counted_not_dropped(demo_run):
    _, result = demo_run
    cells, summary = result.cells, result.summary
    unlinked = cells["walk_link_m"].isna()
    assert unlinked.sum() > 0
    row = summary[(summary["level"] == "region") & (summary["mode"] == "walk")].iloc[0]
    assert row["n_cells_unlinked"] == unlinked.sum()
    assert row["n_cells"] == len(cells)
    assert cells.loc[unlinked, "gp_walk_time_s"].isna().all()


def test_travel_times_agree_with_scipy_on_the_same_network(demo_run):
    config, result = demo_run
    settings = config.settings
    networks, facilities, _ = cache.load_or_build(config.osm, settings, config.cache_dir)
    cells = result.cells
    gp = facilities[facilities["type"] == "gp"]
    for mode in ("walk", "car"):
        net = networks[mode]
        graph = link.link_points(
            net, np.concatenate([cells["x"], gp.geometry.x]),
            np.concatenate([cells["y"], gp.geometry.y]), settings.max_link_distance_m)
        n = len(cells)
        tails = np.repeat(np.arange(graph.n_nodes), np.diff(graph.indptr))
        # Fastest parallel edge only: csr_matrix would add duplicates up.
        edge_time_s = graph.edge_time_ms / 1000.0
        order = np.lexsort((edge_time_s, graph.indices, tails))
        keep = np.ones(len(order), bool)
        keep[1:] = (tails[order][1:] != tails[order][:-1]) | (
            graph.indices[order][1:] != graph.indices[order][:-1])
        order = order[keep]
        matrix = csr_matrix((edge_time_s[order], (tails[order], graph.indices[order])),
                            shape=(graph.n_nodes, graph.n_nodes))
        speed = settings.connector_speed_kmh[mode] / 3.6
        fac_nodes = graph.point_node[n:]
        linked_fac = fac_nodes >= 0
        # Time from every node to each facility: search the transposed graph.
        to_fac = scipy_dijkstra(matrix.T.tocsr(), indices=fac_nodes[linked_fac])
        to_fac += (graph.connector_m[n:][linked_fac] / speed)[:, None]
        rng = np.random.default_rng(0)
        sample = rng.choice(np.flatnonzero(graph.point_node[:n] >= 0), 200, replace=False)
        expected = to_fac[:, graph.point_node[sample]].min(axis=0) + (
            graph.connector_m[sample] / speed)
        got = cells[f"gp_{mode}_time_s"].to_numpy()[sample]
        np.testing.assert_allclose(got, expected, atol=0.06)


def test_a_second_run_is_byte_identical_and_reuses_the_cache(demo_run):
    config, first = demo_run
    before = {k: p.read_bytes() for k, p in first.files.items() if k != "manifest"}
    second = run_profile(config)
    after = {k: p.read_bytes() for k, p in second.files.items() if k != "manifest"}
    assert before == after
    manifest = json.loads(second.files["manifest"].read_text())
    assert all(manifest["networks"][m]["status"] == "reused" for m in MODES)


def test_manifest_records_inputs_settings_versions_and_timings(demo_run):
    _, result = demo_run
    manifest = json.loads(result.files["manifest"].read_text())
    assert manifest["schema_version"] == "2.0.0"
    assert len(manifest["inputs"]["osm"]["sha256"]) == 64
    assert manifest["settings"]["max_link_distance_m"] == 1600.0
    assert manifest["packages"]["numba"]
    assert {"read_inputs", "networks", "travel_times", "profile"} <= set(manifest["timings_s"])


def test_the_500_m_grid_runs_through_the_same_pipeline(demo_region, tmp_path):
    config = RunConfig.from_toml(demo_region.config, output_dir=tmp_path / "p",
                                 cache_dir=tmp_path / "c")
    config.grid = demo_region.grid_500m
    result = run_profile(config)
    assert result.manifest["grid"]["resolution_m"] == 500
    assert len(result.cells) < 1000
    assert result.cells["gp_car_time_s"].notna().mean() > 0.9


def test_a_subset_of_municipalities_by_code_in_any_spelling(demo_region, tmp_path):
    config = RunConfig.from_toml(demo_region.config, output_dir=tmp_path / "p",
                                 cache_dir=tmp_path / "c")
    config.municipality_codes = ("9901",)
    result = run_profile(config)
    assert set(result.cells["municipality_code"]) == {"GM9901"}
    assert set(result.summary["area_code"]) == {"demo", "GM9901"}


def test_facilities_across_the_border_count_for_time_but_not_for_cbs(demo_run):
    _, result = demo_run
    abroad = result.manifest["facilities_abroad"]
    assert all(abroad[t] > 0 for t in TYPES)
    assert all(abroad[t] < result.manifest["facilities"][t] for t in TYPES)


def test_contraction_hierarchies_give_the_same_profile(demo_run, tmp_path):
    # Every road mode on a hierarchy (built and cached once per network): the
    # same tables as with bounded Dijkstra; only the floating-catchment sums
    # run in another order, so they agree to the last bits.
    import dataclasses

    config, first = demo_run
    fast = dataclasses.replace(config, output_dir=tmp_path / "profiles")
    fast.settings = dataclasses.replace(config.settings, hierarchy_min_nodes=0)
    result = run_profile(fast)
    manifest = result.manifest
    for mode in MODES:
        assert manifest["networks"][mode]["hierarchy"]["status"] == "built"
    assert "hierarchies" in manifest["timings_s"]
    fca = [c for c in first.cells.columns if c.endswith("_fca_ratio")]
    assert fca
    pd.testing.assert_frame_equal(result.cells.drop(columns=fca),
                                  first.cells.drop(columns=fca), check_exact=True)
    np.testing.assert_allclose(result.cells[fca].to_numpy(float),
                               first.cells[fca].to_numpy(float), rtol=1e-12, atol=0)
    for table in ("facilities", "capacity"):
        pd.testing.assert_frame_equal(getattr(result, table), getattr(first, table),
                                      check_exact=False, rtol=1e-12)
    again = run_profile(fast)
    for mode in MODES:
        assert again.manifest["networks"][mode]["hierarchy"]["status"] == "reused"


def test_a_network_of_exactly_hierarchy_min_nodes_gets_a_hierarchy(demo_run, tmp_path):
    # Settings: "a road network with at least this many nodes gets a
    # contraction hierarchy". Its own cache: the hierarchies of the demo run's
    # are built by another test.
    import dataclasses

    from bereikbaarheid import pipeline

    config, _ = demo_run

    def prepared(min_nodes):
        run = dataclasses.replace(config, output_dir=tmp_path / "profiles",
                                  cache_dir=tmp_path / "cache")
        run.settings = dataclasses.replace(config.settings, hierarchy_min_nodes=min_nodes)
        return pipeline.prepare(run)

    never = prepared(10**9)
    assert never.hierarchies == {}
    size = {mode: never.networks[mode].n_nodes for mode in MODES}
    smallest = min(MODES, key=size.get)
    at = prepared(size[smallest])
    assert set(at.hierarchies) == {m for m in MODES if size[m] >= size[smallest]}
    assert smallest in at.hierarchies
    assert at.cache_report[smallest]["hierarchy"]["status"] == "built"
    assert smallest not in prepared(size[smallest] + 1).hierarchies
