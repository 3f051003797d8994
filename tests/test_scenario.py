"""Scenarios end to end on the demo region (closures, additions, ageing, frequencies),
and their difference tables on hand-made runs."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from bereikbaarheid import ConfigError, RunConfig, cli, pipeline, run_scenario, scenario
from bereikbaarheid.config import Settings
from bereikbaarheid.measures import capacity
from bereikbaarheid.sources import scenario as scenario_source

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
    work, _ = closed
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


# --------------------------------------------------------------------------
# The difference tables, on hand-made runs checked by eye

NAN = np.nan


def _measured(cells: dict, summary: list[dict], areas: list[dict], facilities: list[dict]
              ) -> pipeline.Measured:
    """A run's tables, only as far as the difference reads them."""
    n = len(cells["gp_walk_time_s"])
    table = gpd.GeoDataFrame(
        {"cell_id": [f"E{1000 + i}N4550" for i in range(n)],
         "municipality_code": ["GM0001"] * 4 + ["GM0002"] * (n - 4),
         "walk_link_m": 10.0, "car_link_m": 10.0, **cells},
        geometry=[shapely.box(x, 0, x + 100, 100) for x in range(0, 100 * n, 100)],
        crs="EPSG:28992")
    gaps = capacity.CapacityResult(cells=table[["gp_demand", "gp_fca_ratio"]],
                                   facilities=pd.DataFrame(facilities),
                                   areas=pd.DataFrame(areas))
    return pipeline.Measured(cells=table, summary=pd.DataFrame(summary), gaps=gaps, access=None,
                             facilities=None, transit_report={}, warnings=[])


def _area(level, code, name, **values) -> dict:
    return {"level": level, "area_code": code, "area_name": name, "type": "gp", **values}


def _facility(fid, **values) -> dict:
    return {"facility_id": fid, "type": "gp", "name": f"Praktijk {fid}", **values}


HAND_SETTINGS = Settings(facility_types=("gp",), modes=("walk", "car"), norm_min={"gp": 10})
HAND_SCENARIO = scenario_source.Scenario(
    path=Path("hand.toml"), name="hand", description="",
    close=("f2",), add=(scenario_source.AddedFacility("f4", "gp", 50.0, 50.0, capacity=1000.0),),
    capacity=(scenario_source.CapacityChange("f3", capacity=3000.0),))
# The norm is 10 min = 600 s; unreached is NaN.
#             c0     c1     c2   c3   c4      c5     c6    c7
WALK_B = [300.0, 900.0, NAN, NAN, 600.0, 600.0, 1200.0, NAN]
WALK_S = [900.0, 300.0, NAN, 600.0, NAN, 600.5, NAN, 1200.0]
CAR_B = [600.0, 601.0, NAN, NAN, 599.75, 60.0, NAN, 0.0]
CAR_S = [600.0, 600.0, NAN, 1800.0, NAN, 60.0, NAN, 0.0]
HAND_BASE = _measured(
    {"aantal_inwoners": [10.0, 20.0, 0.0, 5.0, 5.0, 30.0, 15.0, 15.0],
     "gp_walk_time_s": WALK_B, "gp_car_time_s": CAR_B,
     "gp_demand": [10.0, 20.0, 0.0, 5.0, 5.0, 30.0, 15.0, 15.0],
     "gp_fca_ratio": [0.5, 0.5, NAN, 0.0, 0.25, 2.0, 0.0, NAN]},
    [_area("region", "R", "Regio", mode="walk", population=100.0, mean_time_s=612.34,
           median_time_s=NAN, share_beyond_norm=1.0, share_within_10min=0.0),
     _area("municipality", "GM0001", "Eerste", mode="walk", population=40.0,
           mean_time_s=300.0, median_time_s=300.0, share_beyond_norm=0.125,
           share_within_10min=0.875)],
    [_area("region", "R", "Regio", unit="patients", demand=4000.0, capacity=6285.0,
           gap=-2285.0, fte_shortfall=NAN, population_beyond_norm=30.0,
           share_beyond_norm=0.3)],
    [_facility("f1", capacity=2095.0, catchment_demand=1800.2, fca_ratio=1.25,
               assigned_demand=2000.0, gap=-95.0, utilisation=0.954654),
     _facility("f2", capacity=2095.0, catchment_demand=900.0, fca_ratio=2.0,
               assigned_demand=500.0, gap=-1595.0, utilisation=0.238663),
     _facility("f3", capacity=2095.0, catchment_demand=1000.0, fca_ratio=2.095,
               assigned_demand=1500.0, gap=-595.0, utilisation=0.71599)])
HAND_NEW = _measured(
    {"aantal_inwoners": [10.0, 20.0, 0.0, 5.0, 5.0, 30.0, 15.0, 17.5],
     "gp_walk_time_s": WALK_S, "gp_car_time_s": CAR_S,
     "gp_demand": [10.0, 20.0, 0.0, 5.0, 5.0, 30.0, 15.0, 17.5],
     "gp_fca_ratio": [0.25, 0.75, NAN, 1.0, 0.0, 2.0, NAN, NAN]},
    [_area("region", "R", "Regio", mode="walk", population=102.5, mean_time_s=700.07,
           median_time_s=540.0, share_beyond_norm=0.25, share_within_10min=0.75),
     _area("municipality", "GM0001", "Eerste", mode="walk", population=40.0,
           mean_time_s=300.0, median_time_s=300.0, share_beyond_norm=0.125,
           share_within_10min=0.875)],
    [_area("region", "R", "Regio", unit="patients", demand=4002.5, capacity=6095.0,
           gap=-2092.5, fte_shortfall=NAN, population_beyond_norm=45.0,
           share_beyond_norm=0.439024)],
    [_facility("f1", capacity=2095.0, catchment_demand=2000.7, fca_ratio=1.0,
               assigned_demand=2500.0, gap=405.0, utilisation=1.193317),
     _facility("f3", capacity=3000.0, catchment_demand=1000.0, fca_ratio=3.0,
               assigned_demand=1000.0, gap=-2000.0, utilisation=0.333333),
     _facility("f4", capacity=1000.0, catchment_demand=100.0, fca_ratio=10.0,
               assigned_demand=0.0, gap=-1000.0, utilisation=0.0)])


@pytest.fixture(scope="module")
def hand_diff():
    return scenario._differences(HAND_BASE, HAND_NEW, HAND_SCENARIO, HAND_SETTINGS)


def test_cell_differences_by_hand(hand_diff):
    cells = hand_diff["cells"]
    assert list(cells.columns) == [
        "cell_id", "municipality_code", "aantal_inwoners_baseline", "aantal_inwoners_scenario",
        "gp_walk_time_change_s", "gp_walk_within_norm_change",
        "gp_car_time_change_s", "gp_car_within_norm_change",
        "gp_demand_change", "gp_fca_ratio_change", "geometry"]
    assert cells["cell_id"].tolist() == HAND_BASE.cells["cell_id"].tolist()
    assert cells["municipality_code"].tolist() == ["GM0001"] * 4 + ["GM0002"] * 4
    assert cells.crs == "EPSG:28992"
    assert cells.geometry.equals(HAND_BASE.cells.geometry)
    expected = pd.DataFrame({
        "aantal_inwoners_baseline": [10.0, 20.0, 0.0, 5.0, 5.0, 30.0, 15.0, 15.0],
        "aantal_inwoners_scenario": [10.0, 20.0, 0.0, 5.0, 5.0, 30.0, 15.0, 17.5],
        # Only cells reached in both runs have a change of time.
        "gp_walk_time_change_s": [600.0, -600.0, NAN, NAN, NAN, 0.5, NAN, NAN],
        # c0 leaves the norm, c1 enters it; c2 is reached in neither run: no
        # change; c3 is reached only now, at exactly 600 s: within; c4 was
        # exactly on it and is no longer reached; c5 misses it by half a
        # second; c6 and c7 are beyond it when reached at all.
        "gp_walk_within_norm_change": np.array([-1, 1, 0, 1, -1, -1, 0, 0], np.int8),
        "gp_car_time_change_s": [0.0, -1.0, NAN, NAN, NAN, 0.0, NAN, 0.0],
        "gp_car_within_norm_change": np.array([0, 1, 0, 0, -1, 0, 0, 0], np.int8),
        "gp_demand_change": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.5],
        # Unlinked to the car network (NaN ratio) in either run: no change.
        "gp_fca_ratio_change": [-0.25, 0.25, NAN, 1.0, -0.25, 0.0, NAN, NAN],
    })
    pd.testing.assert_frame_equal(pd.DataFrame(cells[expected.columns]), expected,
                                  check_exact=True)


def test_summary_differences_by_hand(hand_diff):
    keys = {"level": ["region", "municipality"], "area_code": ["R", "GM0001"],
            "area_name": ["Regio", "Eerste"], "type": ["gp", "gp"], "mode": ["walk", "walk"]}
    expected = pd.DataFrame({
        **keys,
        "population_baseline": [100.0, 40.0], "population_scenario": [102.5, 40.0],
        "population_change": [2.5, 0.0],
        # Amounts to 0.1 s, the change taken before rounding: 700.07 - 612.34.
        "mean_time_s_baseline": [612.3, 300.0], "mean_time_s_scenario": [700.1, 300.0],
        "mean_time_s_change": [87.7, 0.0],
        # No one reached in the baseline: no median, so no change either.
        "median_time_s_baseline": [NAN, 300.0], "median_time_s_scenario": [540.0, 300.0],
        "median_time_s_change": [NAN, 0.0],
        "share_beyond_norm_baseline": [1.0, 0.125], "share_beyond_norm_scenario": [0.25, 0.125],
        "share_beyond_norm_change": [-0.75, 0.0],
        "share_within_10min_baseline": [0.0, 0.875],
        "share_within_10min_scenario": [0.75, 0.875],
        "share_within_10min_change": [0.75, 0.0],
    })
    pd.testing.assert_frame_equal(hand_diff["summary"], expected, check_exact=True)


def test_capacity_differences_by_hand(hand_diff):
    expected = pd.DataFrame({
        "level": ["region"], "area_code": ["R"], "area_name": ["Regio"], "type": ["gp"],
        "unit": ["patients"],
        "demand_baseline": [4000.0], "demand_scenario": [4002.5], "demand_change": [2.5],
        "capacity_baseline": [6285.0], "capacity_scenario": [6095.0],
        "capacity_change": [-190.0],
        "gap_baseline": [-2285.0], "gap_scenario": [-2092.5], "gap_change": [192.5],
        "fte_shortfall_baseline": [NAN], "fte_shortfall_scenario": [NAN],
        "fte_shortfall_change": [NAN],
        "population_beyond_norm_baseline": [30.0], "population_beyond_norm_scenario": [45.0],
        "population_beyond_norm_change": [15.0],
        "share_beyond_norm_baseline": [0.3], "share_beyond_norm_scenario": [0.439024],
        "share_beyond_norm_change": [0.139024],
    })
    pd.testing.assert_frame_equal(hand_diff["capacity"], expected, check_exact=True)


def test_facility_differences_by_hand(hand_diff):
    columns = ("capacity", "catchment_demand", "fca_ratio", "assigned_demand", "gap",
               "utilisation")
    #          baseline                                      scenario
    rows = {
        "f1": ("kept", (2095.0, 1800.2, 1.25, 2000.0, -95.0, 0.954654),
               (2095.0, 2000.7, 1.0, 2500.0, 405.0, 1.193317)),
        "f2": ("closed", (2095.0, 900.0, 2.0, 500.0, -1595.0, 0.238663), (NAN,) * 6),
        "f3": ("resized", (2095.0, 1000.0, 2.095, 1500.0, -595.0, 0.71599),
               (3000.0, 1000.0, 3.0, 1000.0, -2000.0, 0.333333)),
        # Added: no baseline, so no change.
        "f4": ("added", (NAN,) * 6, (1000.0, 100.0, 10.0, 0.0, -1000.0, 0.0)),
    }
    change = {"f1": (0.0, 200.5, -0.25, 500.0, 500.0, 0.238663), "f2": (NAN,) * 6,
              "f3": (905.0, 0.0, 0.905, -500.0, -1405.0, -0.382657), "f4": (NAN,) * 6}
    expected = pd.DataFrame({
        "facility_id": list(rows), "type": ["gp"] * 4,
        "name": [f"Praktijk {f}" for f in rows], "status": [r[0] for r in rows.values()],
        **{f"{c}_{side}": [values[k] for values in column]
           for k, c in enumerate(columns)
           for side, column in (("baseline", [r[1] for r in rows.values()]),
                                ("scenario", [r[2] for r in rows.values()]),
                                ("change", list(change.values())))},
    })
    pd.testing.assert_frame_equal(hand_diff["facilities"], expected, check_exact=True)


def test_cell_differences_on_the_demo_follow_both_runs(closed):
    # Independently of how the table is made: from the two runs' cells.
    _, result = closed
    base, new, diff = result.baseline.cells, result.scenario.cells, result.diff["cells"]
    norm_min = result.baseline.manifest["settings"]["norm_min"]
    np.testing.assert_array_equal(diff["cell_id"], base["cell_id"])
    checked = 0
    for column in diff.columns:
        if not column.endswith("_within_norm_change"):
            continue
        ftype, mode = column.split("_")[:2]
        norm_s = norm_min[ftype] * 60.0
        tb = base[f"{ftype}_{mode}_time_s"].to_numpy(float)
        ts = new[f"{ftype}_{mode}_time_s"].to_numpy(float)
        within_b = [t <= norm_s for t in tb]  # NaN (unreached) compares False
        within_s = [t <= norm_s for t in ts]
        assert diff[column].tolist() == [int(s) - int(b) for b, s in zip(within_b, within_s)]
        np.testing.assert_array_equal(diff[f"{ftype}_{mode}_time_change_s"], ts - tb)
        checked += 1
    assert checked >= 9


def test_capacity_changes_resize_the_facilities_and_fte_is_for_gps_only(tmp_path):
    facilities = gpd.GeoDataFrame(
        {"facility_id": ["gp1", "gp2", "school1"], "type": ["gp", "gp", "school"],
         "name": ["Praktijk", "Centrum", "School"], "capacity": [np.nan, 4700.0, 200.0],
         "fte": [1.0, 2.0, np.nan], "x": [0.0, 100.0, 200.0], "y": [0.0, 0.0, 0.0]},
        geometry=gpd.points_from_xy([0.0, 100.0, 200.0], [0.0, 0.0, 0.0]), crs="EPSG:28992")
    settings = Settings(modes=("walk",), facility_types=("gp", "school"))
    path = _scenario(tmp_path, '[scenario]\nname = "resize"\n'
                               '[[capacity]]\nfacility_id = "gp1"\nfte = 3\n'
                               '[[capacity]]\nfacility_id = "school1"\ncapacity = 350\n')
    changed = scenario._changed_facilities(facilities, scenario_source.read_scenario(path),
                                           None, settings)
    assert changed["facility_id"].tolist() == ["gp1", "gp2", "school1"]
    # A change sets what it names; the other figure is no longer known.
    assert changed["fte"].tolist()[:2] == [3.0, 2.0] and np.isnan(changed["fte"][2])
    assert np.isnan(changed["capacity"][0])
    assert changed["capacity"].tolist()[1:] == [4700.0, 350.0]

    path = _scenario(tmp_path, '[scenario]\nname = "wrong"\n'
                               '[[capacity]]\nfacility_id = "gp2"\ncapacity = 5000\n'
                               '[[capacity]]\nfacility_id = "school1"\nfte = 3\n')
    with pytest.raises(ConfigError, match=r"capacity\[2\]\.fte.*fte is for a GP practice; "
                                          r"school1 is a school"):
        scenario._changed_facilities(facilities, scenario_source.read_scenario(path), None,
                                     settings)
