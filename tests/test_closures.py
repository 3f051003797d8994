"""The impact of each closure: every row equals a separate single-closure scenario.

The reference reads what ``run_scenario`` wrote (``cells.parquet``,
``facilities.csv``, ``capacity.csv`` and ``diff_capacity.csv`` of the
baseline and the scenario folders) and recomputes each column with plain
pandas. Counts of residents are sums of whole numbers and must be equal;
sums of fractions (person-minutes, demand) may differ in the last bits where
the two sides add in another order (numpy's bincount adds one by one, a
pandas sum pairwise), so they are compared to 1e-12 relative; what the
scenario writes rounded (utilisation to 1e-6, gaps to 0.1) is compared with
the rounded table of ``ranked``, exactly.
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from netutil import bus_line

from bereikbaarheid import (
    ConfigError,
    RunConfig,
    closures,
    columns,
    pipeline,
    run_scenario,
)
from bereikbaarheid.config import Settings
from bereikbaarheid.measures import access, transit
from bereikbaarheid.sources import projection as projection_source

VILLAGE_GP = "osm:w1454"  # Nieuwesluis's only practice (seed 2024)
SAMPLE = ["osm:w1454", "osm:n12715", "osm:n2692",  # village, busiest town GP, in Belgium
          "osm:w1448", "osm:n26050"]  # a school, a supermarket
PROJECTION_YEAR = 2040
REL = 1e-12


def _config(demo_region, work: Path, **settings) -> RunConfig:
    config = RunConfig.from_toml(demo_region.config, output_dir=work / "profiles",
                                 cache_dir=work / "cache")
    if settings:
        config.settings = Settings.from_dict({**config.settings.to_dict(), **settings})
    return config


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("closures")


@pytest.fixture(scope="module")
def config(demo_region, work) -> RunConfig:
    return _config(demo_region, work)


@pytest.fixture(scope="module")
def prepared(config):
    inputs = pipeline.prepare(config)
    return inputs, pipeline.measure(inputs, keep_state=True)


@pytest.fixture(scope="module")
def base(prepared):
    return closures.closure_base(*prepared)


@pytest.fixture(scope="module")
def gp_rows(base):
    return closures.impact_rows(base, closures.candidates(base, "gp"))


@pytest.fixture(scope="module")
def scenarios(config, work):
    """Run (once) and give the folders of a scenario: ``name -> (baseline, scenario)``."""
    done: dict[str, tuple[Path, Path]] = {}

    def run(name: str, text: str) -> tuple[Path, Path]:
        if name not in done:
            path = work / f"{name}.toml"
            path.write_text(f'[scenario]\nname = "{name}"\n{text}', encoding="utf-8")
            run_scenario(config, path)
            out = Path(config.output_dir)
            done[name] = (out / config.region, out / f"{config.region}@{name}")
        return done[name]

    return run


def _closing(facility_id: str) -> str:
    return f'\n[[close]]\nfacility_id = "{facility_id}"\n'


def _projecting(demo_region) -> str:
    return (f'\n[projection]\nfile = "{Path(demo_region.projection).as_posix()}"\n'
            f"year = {PROJECTION_YEAR}\n")


def _reference(before: Path, after: Path, facility_id: str, settings: Settings,
               municipalities: Path) -> dict:
    """Every column of a closure's row, from the files of a profile without
    and one with the facility (plain pandas)."""
    b = pd.read_parquet(before / "cells.parquet")
    a = pd.read_parquet(after / "cells.parquet")
    assert (b["cell_id"] == a["cell_id"]).all()
    fac_b = pd.read_csv(before / "facilities.csv")
    fac_a = pd.read_csv(after / "facilities.csv")
    cap_b = pd.read_csv(before / "capacity.csv", keep_default_na=False, na_values=[""])
    cap_a = pd.read_csv(after / "capacity.csv", keep_default_na=False, na_values=[""])
    me = fac_b[fac_b["facility_id"] == facility_id].iloc[0]
    ftype = me["type"]
    munis = gpd.read_file(municipalities)
    inside = munis[munis.geometry.covers(shapely.Point(me["x"], me["y"]))]
    code = min(inside["gemeentecode"]) if len(inside) else None
    ref = {"facility_id": facility_id, "type": ftype, "name": me["name"], "x": me["x"],
           "y": me["y"], "lon": me["lon"], "lat": me["lat"], "municipality_code": code,
           "municipality_name": (inside.loc[inside["gemeentecode"] == code, "gemeentenaam"]
                                 .iloc[0] if code else None)}
    norm_s = settings.norm_min[ftype] * 60
    people = {"": b["aantal_inwoners"].fillna(0),
              "0_14_": b["aantal_inwoners_0_tot_15_jaar"].fillna(0),
              "65_plus_": b["aantal_inwoners_65_jaar_en_ouder"].fillna(0)}
    # The population is the one measured: the projected one with a projection.
    assert b["aantal_inwoners"].equals(a["aantal_inwoners"])
    modes = [m for m in settings.modes if f"{m}_link_m" in b]
    for mode in modes:
        then, now = b[f"{ftype}_{mode}_time_s"], a[f"{ftype}_{mode}_time_s"]
        pushed = (then <= norm_s) & ~(now <= norm_s)
        for group, weight in people.items():
            ref[f"{mode}_population_{group}pushed_beyond_norm"] = weight[pushed].sum()
        both = then.notna() & now.notna()
        ref[f"{mode}_extra_person_min"] = ((now - then) * people[""])[both].sum() / 60
        ref[f"{mode}_population_losing_reach"] = people[""][then.notna() & now.isna()].sum()

    fca = settings.fca_mode
    column = f"{ftype}_{fca}_facility_id"
    moved = b[column] == facility_id
    demand = b[f"{ftype}_demand"]
    ref["demand_moved"] = demand[moved].sum()
    ref["demand_unserved"] = demand[moved & a[column].isna()].sum()
    received = demand[moved].groupby(a.loc[moved, column]).sum()
    if len(received):
        top = received[received == received.max()]
        next_id = min(top.index)
        ref["next_facility_id"] = next_id
        ref["next_facility_demand_received"] = received[next_id]
        for side, table in (("before", fac_b), ("after", fac_a)):
            ref[f"next_facility_utilisation_{side}"] = (
                table.loc[table["facility_id"] == next_id, "utilisation"].iloc[0])
    else:
        ref["next_facility_id"] = None
    for side, table in (("before", cap_b), ("after", cap_a)):
        rows = table[table["type"] == ftype]
        ref[f"region_gap_{side}"] = rows.loc[rows["level"] == "region", "gap"].iloc[0]
        mine = rows[(rows["level"] == "municipality") & (rows["area_code"] == code)]
        ref[f"municipality_gap_{side}"] = mine["gap"].iloc[0] if len(mine) else np.nan
    return ref


def _text(value):
    """A text cell, None where missing (NaN in a string column)."""
    return value if isinstance(value, str) else None


def _assert_row_equals(row: pd.Series, written: pd.Series, ref: dict) -> None:
    """``row`` of impact_rows and the same row of ``ranked`` against the reference."""
    for key in ("facility_id", "type", "name", "x", "y", "lon", "lat"):
        assert row[key] == ref[key], key
    for key in ("municipality_code", "municipality_name"):
        assert _text(row[key]) == ref[key], key
    for key, value in ref.items():
        if "pushed_beyond_norm" in key or "losing_reach" in key:
            assert row[key] == value, key  # whole residents
        elif key.endswith("extra_person_min") or key.startswith("demand_"):
            assert row[key] == pytest.approx(value, rel=REL, abs=1e-9), key
    assert _text(row["next_facility_id"]) == ref["next_facility_id"]
    if ref["next_facility_id"] is not None:
        assert row["next_facility_demand_received"] == pytest.approx(
            ref["next_facility_demand_received"], rel=REL)
        for side in ("before", "after"):
            key = f"next_facility_utilisation_{side}"
            assert written[key] == ref[key], key
    for key in ("region_gap_before", "region_gap_after", "municipality_gap_before",
                "municipality_gap_after"):
        assert written[key] == ref[key] or (np.isnan(written[key]) and np.isnan(ref[key])), key


def _check_closure(base, facility_id, folders, demo_region, settings):
    rows = closures.impact_rows(base, [facility_id])
    assert len(rows) == 1
    written = closures.ranked(rows).iloc[0]
    ref = _reference(*folders, facility_id, settings, demo_region.municipalities)
    _assert_row_equals(rows.iloc[0], written, ref)
    # Every cell's times and nearest facility, as the scenario wrote them.
    cells = pd.read_parquet(folders[1] / "cells.parquet")
    for column, values in closures.closed_cells(base, facility_id).items():
        expected = cells[column].to_numpy()
        if column.endswith("_facility_id"):
            assert list(map(_text, values)) == list(map(_text, expected)), column
        else:
            np.testing.assert_array_equal(values, expected, err_msg=column)
    return rows.iloc[0], ref


@pytest.mark.parametrize("facility_id", SAMPLE)
def test_a_closure_equals_its_single_closure_scenario(base, scenarios, facility_id,
                                                      demo_region, config):
    folders = scenarios(f"close-{facility_id.replace(':', '-')}", _closing(facility_id))
    row, ref = _check_closure(base, facility_id, folders, demo_region, config.settings)
    # Each changes something by every mode, public transport included.
    assert set(closures.closed_cells(base, facility_id).columns) >= {
        f"{row['type']}_{m}_time_s" for m in ("walk", "bike", "car", "pt")}
    assert row["car_extra_person_min"] > 0 and row["pt_extra_person_min"] > 0
    # The region changes by the gap each side; the change is the difference.
    diff = pd.read_csv(folders[1] / "diff_capacity.csv")
    region = diff[(diff["level"] == "region") & (diff["type"] == row["type"])].iloc[0]
    written = closures.ranked(closures.impact_rows(base, [facility_id])).iloc[0]
    assert written["region_gap_change"] == region["gap_change"]
    if ref["municipality_code"] is not None:
        mine = diff[(diff["area_code"] == ref["municipality_code"])
                    & (diff["type"] == row["type"])].iloc[0]
        assert written["municipality_gap_change"] == mine["gap_change"]
    else:  # a facility abroad has no municipality of the region
        assert np.isnan(row["municipality_gap_change"])


@pytest.mark.parametrize("facility_id", ["osm:w1454", "osm:n31996", "osm:w1463"])
def test_the_capacity_columns_equal_a_full_measure_to_the_last_bit(prepared, base,
                                                                    facility_id):
    """Unrounded: the scenario's measures in memory (every facility but this one,
    the road searches repaired, public transport and capacity computed in full)."""
    inputs, measured = prepared
    every = inputs.facilities
    road = access.close_facilities(measured.access.state, [facility_id])
    full = pipeline.measure(inputs, facilities=every[every["facility_id"] != facility_id],
                            road=road)
    row = closures.impact_rows(base, [facility_id]).iloc[0]
    areas = full.gaps.areas[full.gaps.areas["type"] == row["type"]]
    assert row["region_gap_after"] == areas.loc[areas["level"] == "region", "gap"].iloc[0]
    mine = areas[areas["area_code"] == row["municipality_code"]]
    if len(mine):
        assert row["municipality_gap_after"] == mine["gap"].iloc[0]
    before, after = (m.gaps.facilities.set_index("facility_id") for m in (measured, full))
    next_id = row["next_facility_id"]
    assert row["next_facility_utilisation_after"] == after.loc[next_id, "utilisation"]
    assert row["next_facility_demand_received"] == (after.loc[next_id, "assigned_demand"]
                                                    - before.loc[next_id, "assigned_demand"])
    assert row["demand_moved"] == before.loc[facility_id, "assigned_demand"]
    cells = closures.closed_cells(base, facility_id)
    for column in cells.columns:
        if column.endswith("_time_s"):
            np.testing.assert_array_equal(cells[column], full.cells[column], err_msg=column)


def test_a_closure_on_a_projected_population_equals_a_projection_scenario(
        prepared, scenarios, demo_region, config):
    inputs, _ = prepared
    projection = projection_source.read_projection(demo_region.projection)
    projected = projection_source.apply_projection(inputs.cells, projection, PROJECTION_YEAR)
    projected = gpd.GeoDataFrame(projected, geometry=inputs.cells.geometry,
                                 crs=inputs.cells.crs)
    measured = pipeline.measure(inputs, cells=projected, keep_state=True)
    with pytest.raises(ValueError, match="not those measured"):
        closures.closure_base(inputs, measured)
    base = closures.closure_base(inputs, measured, cells=projected, types=("gp",))
    before = scenarios("projected", _projecting(demo_region))[1]
    after = scenarios("projected-closed",
                      _projecting(demo_region) + _closing(VILLAGE_GP))[1]
    row, _ = _check_closure(base, VILLAGE_GP, (before, after), demo_region,
                            config.settings)
    # The projection changes who is pushed beyond the norm (fewer children, more 65+).
    plain = closures.impact_rows(closures.closure_base(*prepared, types=("gp",)),
                                 [VILLAGE_GP]).iloc[0]
    assert row["walk_population_65_plus_pushed_beyond_norm"] > plain[
        "walk_population_65_plus_pushed_beyond_norm"]


def test_the_village_practice_pushes_its_walkers_beyond_the_norm(base, gp_rows):
    """Nieuwesluis's only practice: everyone who walked to it within 15
    minutes is beyond the norm once it closes (the next practice is
    kilometres away), and nobody else is."""
    cells = base.measured.cells
    row = gp_rows.set_index("facility_id").loc[VILLAGE_GP]
    served = (cells["gp_walk_facility_id"] == VILLAGE_GP) & (cells["gp_walk_time_s"] <= 900)
    assert served.sum() > 10
    assert row["walk_population_pushed_beyond_norm"] == cells.loc[
        served, "aantal_inwoners"].fillna(0).sum()
    assert row["walk_population_65_plus_pushed_beyond_norm"] == cells.loc[
        served, "aantal_inwoners_65_jaar_en_ouder"].fillna(0).sum()
    after = closures.closed_cells(base, VILLAGE_GP)["gp_walk_time_s"]
    assert (after[served.to_numpy()] > 900).all()
    assert row["walk_population_losing_reach"] == 0
    assert row["demand_unserved"] == 0


def test_closing_a_twin_nobody_is_nearest_to_changes_nothing(prepared, base):
    """A second practice at the village practice's very spot, after it in the
    table: of equally near facilities the first counts, so nobody goes to the
    twin; closing it changes nothing, and closing the first moves all its
    patients to the twin without anyone's time changing."""
    inputs, measured = prepared
    every = inputs.facilities
    twin = every[every["facility_id"] == VILLAGE_GP].assign(facility_id="twin")
    with_twin = gpd.GeoDataFrame(pd.concat([every, twin], ignore_index=True),
                                 geometry="geometry", crs=every.crs)
    measured = pipeline.measure(inputs, facilities=with_twin, keep_state=True)
    twins = closures.closure_base(inputs, measured, types=("gp",))
    rows = closures.impact_rows(twins, ["twin", VILLAGE_GP]).set_index("facility_id")
    harm = [c for c in rows.columns if c.endswith(closures._MODE_COLUMNS)]
    assert (rows.loc["twin", harm] == 0).all()
    assert (rows.loc[VILLAGE_GP, harm] == 0).all()
    gone = rows.loc["twin"]
    assert gone["demand_moved"] == 0 and gone["demand_unserved"] == 0
    assert _text(gone["next_facility_id"]) is None
    assert gone["municipality_gap_change"] == 0 and gone["region_gap_change"] == 0
    moved = rows.loc[VILLAGE_GP]
    assert moved["next_facility_id"] == "twin"
    assert moved["next_facility_demand_received"] == moved["demand_moved"] > 0
    assert moved["next_facility_utilisation_before"] == 0
    original = base.assigned["gp"]["utilisation"].to_numpy()[
        np.flatnonzero(base.measured.facilities["facility_id"] == VILLAGE_GP)[0]]
    assert moved["next_facility_utilisation_after"] == pytest.approx(original, rel=REL)
    assert moved["municipality_gap_change"] == pytest.approx(0, abs=1e-9)


def test_a_row_does_not_depend_on_the_other_ids_of_the_call(base, gp_rows):
    @hsettings(max_examples=12, deadline=None)
    @given(st.lists(st.sampled_from(list(gp_rows["facility_id"])), min_size=1, max_size=5,
                    unique=True))
    def same_rows(ids):
        expected = pd.concat([gp_rows[gp_rows["facility_id"] == i] for i in ids],
                             ignore_index=True)
        pd.testing.assert_frame_equal(closures.impact_rows(base, ids), expected,
                                      check_exact=True)

    same_rows()


def test_the_base_survives_pickling(base, gp_rows):
    again = pickle.loads(pickle.dumps(base))
    ids = list(gp_rows["facility_id"][:4])
    pd.testing.assert_frame_equal(closures.impact_rows(again, ids), gp_rows.iloc[:4],
                                  check_exact=True)


def test_ranked_puts_the_worst_first_and_rounds(gp_rows):
    table = closures.ranked(gp_rows)
    assert list(table.columns[:3]) == ["rank", "facility_id", "type"]
    assert list(table["rank"]) == list(range(1, len(gp_rows) + 1))
    assert sorted(table["facility_id"]) == sorted(gp_rows["facility_id"])
    key = list(zip(-table["car_population_pushed_beyond_norm"],
                   -table["car_extra_person_min"], table["facility_id"]))
    assert key == sorted(key)
    assert (table["car_extra_person_min"] == table["car_extra_person_min"].round(1)).all()
    assert table["next_facility_utilisation_after"].equals(
        table["next_facility_utilisation_after"].round(6))
    # The rows in any order give the same table.
    shuffled = gp_rows.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(closures.ranked(shuffled), table)
    # Every column is in the column dictionary (profiles/README.md).
    described = columns.describe(closures.CLOSURE_FILE, list(table.columns))
    assert [d["column"] for d in described] == list(table.columns)
    lines = closures.describe(table, n=5)
    assert len(lines) == 2 + 5 and table["facility_id"][0] in lines[2]


def test_candidates_follow_the_facility_table(base):
    fac = base.measured.facilities
    assert closures.candidates(base, "gp") == list(fac.loc[fac["type"] == "gp", "facility_id"])
    assert closures.candidates(base, "all") == list(fac["facility_id"])
    with pytest.raises(ConfigError, match="--each-closure.*not a facility type"):
        closures.candidates(base, "pharmacy")


def test_without_public_transport_and_with_one_type(demo_region, tmp_path, base):
    config = _config(demo_region, tmp_path, modes=["walk", "car"], facility_types=["gp"])
    inputs = pipeline.prepare(config)
    measured = pipeline.measure(inputs, keep_state=True)
    base = closures.closure_base(inputs, measured)
    with pytest.raises(ConfigError, match=r"--each-closure.*'school' is not analysed.*\['gp'\]"):
        closures.candidates(base, "school")
    rows = closures.impact_rows(base, closures.candidates(base, "all"))
    assert len(rows) == 23 and not base.pt
    assert not [c for c in rows.columns if c.startswith(("pt_", "bike_"))]
    # The same practice closed gives the same road and capacity columns as
    # with every mode and type.
    other = closures.impact_rows(base, [VILLAGE_GP])
    pd.testing.assert_frame_equal(rows[rows["facility_id"] == VILLAGE_GP].reset_index(drop=True),
                                  other[rows.columns], check_exact=True)
    with pytest.raises(ValueError, match="keep_state=True"):
        closures.closure_base(inputs, dataclasses.replace(
            measured, access=dataclasses.replace(measured.access, state=None)))



# -- public transport without one facility: a hand-made line --------------------------

# Walking 1 m/s on roads and connectors, so walking seconds = metres.
LINE = Settings(
    modes=("pt",), facility_types=("gp",), walk_speed_kmh=3.6,
    connector_speed_kmh={"walk": 3.6, "bike": 18.0, "car": 15.0},
    thresholds_min=(10, 15), pt_date="2026-03-10", pt_window=("07:00", "07:10"),
    pt_percentiles=(25, 50, 75), pt_time_percentile=50)


def _line():
    """The hand-made bus line of ``netutil.bus_line``: a 6 km road, a bus from
    x = 100 to x = 5900 every 10 minutes from 07:05, riding 5 minutes."""
    tt, nets = bus_line(LINE.pt_date)
    return tt, {"walk": nets["walk"]}


# The cell is 10 m off the road at x = 0. By bus the town practice takes 710, 650,
# 590, 530 s leaving 07:00-07:03 (the 07:05 bus), then 1070 ... 770 s (the 07:15);
# the village practice is a 910 s walk, nearer when leaving 07:04-07:06.
CELL = (np.array([0.0]), np.array([10.0]))
TWO = pd.DataFrame({"facility_id": ["town", "village"], "type": ["gp", "gp"],
                    "x": [6000.0, 890.0], "y": [10.0, 10.0]})


def test_the_nearest_at_each_departure_gives_the_time_without_either_practice():
    tt, nets = _line()
    nearest = transit.nearest_by_departure(tt, nets, *CELL, TWO, LINE)
    # Per departure: 710 650 590 530 910 910 910 890 830 770; the 5th of ten is 770.
    assert nearest.time_s()[0] == 770
    assert list(nearest.best_s[0]) == [710, 650, 590, 530, 910, 910, 910, 890, 830, 770]
    # Without the town practice everyone walks: 910 s at every departure.
    cells, time_s = nearest.time_without(0)
    assert list(cells) == [0] and time_s[0] == 910
    # Without the village practice the bus gives the same median.
    cells, time_s = nearest.time_without(1)
    assert list(cells) == [0] and time_s[0] == 770
    for gone in range(2):
        full = transit.compute_transit(tt, nets, *CELL, TWO.drop(index=gone), LINE).table
        assert full["gp_pt_time_s"][0] == nearest.time_without(gone)[1][0]


def test_the_nearest_at_each_departure_does_not_depend_on_the_chunks(prepared, base,
                                                                      monkeypatch):
    inputs, measured = prepared
    fac = measured.facilities
    gps = pd.DataFrame(fac.loc[fac["type"] == "gp", ["x", "y"]])
    monkeypatch.setattr(transit, "_CHUNK_BYTES", 4 * 120 * len(gps) * 97)  # 97 cells a call
    cells = inputs.cells
    again = transit.nearest_by_departure(inputs.timetable, inputs.networks,
                                         cells["x"].to_numpy(), cells["y"].to_numpy(), gps,
                                         inputs.config.settings)
    whole = base.pt["gp"]
    for name in ("best_s", "indptr", "entry", "second_s"):
        np.testing.assert_array_equal(getattr(again, name), getattr(whole, name), name)
    # The closure base checked its times against the measured column.
    np.testing.assert_array_equal(whole.time_s(), measured.cells["gp_pt_time_s"])
