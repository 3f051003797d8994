"""Scenarios end to end on the demo region: closures, additions, ageing, frequencies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bereikbaarheid import ConfigError, RunConfig, cli, run_scenario

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "scenarios"
CLOSED_GP = "osm:w1454"  # Nieuwesluis's only practice in the demo (seed 2024)


def _config(demo_region, work: Path) -> RunConfig:
    return RunConfig.from_toml(demo_region.config, output_dir=work / "profiles",
                               cache_dir=work / "cache")


def _scenario(work: Path, text: str) -> Path:
    path = work / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def closed(demo_region, tmp_path_factory):
    work = tmp_path_factory.mktemp("closed")
    return work, run_scenario(_config(demo_region, work), EXAMPLES / "close-village-gp.toml")


def test_closing_a_gp_slows_only_the_cells_it_served(closed):
    _, result = closed
    base, new = result.baseline.cells, result.scenario.cells
    for mode in ("walk", "bike", "car"):
        served = (base[f"gp_{mode}_facility_id"] == CLOSED_GP).to_numpy()
        assert served.any()
        before = base[f"gp_{mode}_time_s"].to_numpy()
        after = new[f"gp_{mode}_time_s"].to_numpy()
        # Everyone else keeps exactly their time and their practice.
        np.testing.assert_array_equal(before[~served], after[~served])
        ids = f"gp_{mode}_facility_id"
        assert (new.loc[~served, ids].fillna("") == base.loc[~served, ids].fillna("")).all()
        assert (after[served] > before[served]).all()
        assert not (new[f"gp_{mode}_facility_id"] == CLOSED_GP).any()
        # Counts within thresholds drop by one exactly where it was within reach.
        for minutes in (5, 10, 15, 30):
            col = f"gp_{mode}_n_{minutes}min"
            drop = (base[col] - new[col]).to_numpy(dtype=float)
            assert set(np.unique(drop[~np.isnan(drop)])) <= {0.0, 1.0}


def test_the_incremental_update_equals_a_full_rerun(closed, demo_region, tmp_path):
    _, incremental = closed
    full = run_scenario(_config(demo_region, tmp_path), EXAMPLES / "close-village-gp.toml",
                        incremental=False)
    for key in ("cells", "summary", "facilities", "capacity"):
        a = getattr(incremental.scenario, key)
        b = getattr(full.scenario, key)
        pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), check_exact=True)
    for name in ("cells.parquet", "summary.csv", "capacity.csv", "diff_summary.csv",
                 "diff_capacity.csv", "diff_facilities.csv"):
        assert ((incremental.scenario.files["summary_csv"].parent / name).read_bytes()
                == (full.scenario.files["summary_csv"].parent / name).read_bytes()), name


def test_the_difference_tables_and_manifest(closed):
    work, result = closed
    folder = work / "profiles" / "demo@close-village-gp"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["scenario"]["name"] == "close-village-gp"
    assert manifest["scenario"]["changes"] == ["close facility osm:w1454"]
    assert manifest["scenario"]["road_travel_times"]["incremental"] is True
    assert len(manifest["scenario"]["sha256"]) == 64
    facilities = pd.read_csv(folder / "diff_facilities.csv")
    gone = facilities[facilities["facility_id"] == CLOSED_GP].iloc[0]
    assert gone["status"] == "closed" and np.isnan(gone["capacity_scenario"])
    # The practice's patients go elsewhere: the others' assigned demand grows by as much.
    kept = facilities[(facilities["type"] == "gp") & (facilities["status"] == "kept")]
    assert kept["assigned_demand_change"].sum() == pytest.approx(
        gone["assigned_demand_baseline"], abs=1.0)
    capacity = pd.read_csv(folder / "diff_capacity.csv")
    region_gp = capacity[(capacity["level"] == "region") & (capacity["type"] == "gp")].iloc[0]
    # Demand unchanged, capacity down by the closed practice's 1 FTE = 2,095 patients.
    assert region_gp["demand_change"] == 0.0
    assert region_gp["gap_change"] == pytest.approx(2095.0, abs=0.2)
    cells = pd.read_parquet(folder / "diff_cells.parquet")
    assert (cells["gp_walk_time_change_s"].fillna(0) >= 0).all()
    assert (cells["gp_walk_within_norm_change"] <= 0).all()
    summary = pd.read_csv(folder / "diff_summary.csv")
    assert list(summary.columns[:5]) == ["level", "area_code", "area_name", "type", "mode"]


def test_a_new_school_draws_pupils_and_shortens_walks(demo_region, tmp_path):
    result = run_scenario(_config(demo_region, tmp_path), EXAMPLES / "new-school.toml")
    cells = result.diff["cells"]
    assert (cells["school_walk_time_change_s"].fillna(0) <= 0).all()
    assert (cells["school_walk_time_change_s"] < 0).sum() > 10
    facilities = result.diff["facilities"]
    new = facilities[facilities["status"] == "added"].iloc[0]
    assert new["capacity_scenario"] == 250 and new["assigned_demand_scenario"] > 0
    assert np.isnan(new["capacity_baseline"])
    # Other types are untouched.
    assert (cells["gp_car_time_change_s"].fillna(0) == 0).all()


def test_ageing_changes_demand_not_travel_times(demo_region, tmp_path):
    path = _scenario(tmp_path, f"""
[scenario]
name = "ageing"
description = "2040"
[projection]
file = "{demo_region.projection.as_posix()}"
year = 2040
""")
    result = run_scenario(_config(demo_region, tmp_path), path)
    cells = result.diff["cells"]
    assert (cells["gp_car_time_change_s"].fillna(0) == 0).all()
    capacity = result.diff["capacity"]
    school = capacity[(capacity["level"] == "region") & (capacity["type"] == "school")].iloc[0]
    # Fewer children: school demand (0.6 pupil per resident aged 0-14) falls by ~20 %.
    assert school["demand_scenario"] == pytest.approx(0.8 * school["demand_baseline"], rel=0.05)
    summary = result.diff["summary"]
    region = summary[(summary["level"] == "region") & (summary["type"] == "gp")
                     & (summary["mode"] == "car")].iloc[0]
    assert region["population_65_plus_scenario"] > 1.25 * region["population_65_plus_baseline"]


def test_a_bus_route_twice_as_often_never_slows_anyone(demo_region, tmp_path):
    result = run_scenario(_config(demo_region, tmp_path), EXAMPLES / "bus-doubled.toml")
    change = result.diff["cells"]["gp_pt_time_change_s"].to_numpy()
    assert np.nanmax(change) <= 0 and np.nanmin(change) < 0
    assert (result.diff["cells"]["gp_walk_time_change_s"].fillna(0) == 0).all()


def test_scenario_errors_name_the_file_and_the_facility(demo_region, tmp_path):
    path = _scenario(tmp_path, '[scenario]\nname = "x"\n[[close]]\nfacility_id = "osm:n0"\n')
    with pytest.raises(ConfigError, match="scenario.toml.*osm:n0"):
        run_scenario(_config(demo_region, tmp_path), path)


def test_the_scenario_command(demo_region, tmp_path, capsys):
    config = tmp_path / "run.toml"
    text = demo_region.config.read_text()
    for name in ("demo.osm.pbf", "grid_100m.gpkg", "gemeenten.gpkg", "facilities.csv", "gtfs.zip"):
        text = text.replace(f'"{name}"', f'"{demo_region.folder / name}"')
    config.write_text(text)
    code = cli.main(["scenario", str(config), str(EXAMPLES / "close-village-gp.toml"),
                     "--output", str(tmp_path / "p"), "--cache", str(tmp_path / "c")])
    out = capsys.readouterr().out
    assert code == 0
    assert "close facility osm:w1454" in out and "capacity gap gp" in out
    assert (tmp_path / "p" / "demo@close-village-gp" / "diff_cells.parquet").exists()
    # The last lines point to the reports: the baseline's, then the scenario's.
    assert out.splitlines()[-2:] == [
        f"report: {tmp_path / 'p' / name / 'report' / 'index.html'}"
        for name in ("demo", "demo@close-village-gp")]
    assert all((tmp_path / "p" / name / "report" / "index.html").is_file()
               for name in ("demo", "demo@close-village-gp"))


def test_a_facility_added_far_from_every_road_is_warned_about(demo_region, tmp_path, caplog):
    # At sea, tens of kilometres from the demo's roads.
    path = _scenario(tmp_path, '[scenario]\nname = "at-sea"\n[[add]]\nfacility_id = "sea-gp"\n'
                               'type = "gp"\nx = 5000\ny = 330000\nfte = 1\n')
    with caplog.at_level("WARNING", logger="bereikbaarheid"):
        result = run_scenario(_config(demo_region, tmp_path), path)
    expected = (f"{path}: added gp sea-gp at x 5000, y 330000 lies farther than 1600 m from "
                "every usable road for walk, bike, car: unlinked, it serves no one by these "
                "modes")
    assert expected in caplog.messages
    assert expected in result.scenario.manifest["warnings"]
    assert expected not in result.baseline.manifest["warnings"]
    # It is still reported as added, and draws no patients.
    added = result.diff["facilities"].set_index("facility_id").loc["sea-gp"]
    assert added["status"] == "added" and added["assigned_demand_scenario"] == 0


def test_a_facility_added_near_a_road_is_not_warned_about(demo_region, tmp_path, caplog):
    with caplog.at_level("WARNING", logger="bereikbaarheid"):
        run_scenario(_config(demo_region, tmp_path), EXAMPLES / "new-school.toml")
    assert not [m for m in caplog.messages if "added school" in m]
