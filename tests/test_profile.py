"""Population-weighted profile summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bereikbaarheid import profile
from bereikbaarheid.config import Settings
from bereikbaarheid.measures import equity


def test_weighted_quantile_is_the_inverse_cdf():
    values = np.array([10.0, 20.0, 30.0, 40.0])
    weights = np.array([1.0, 1.0, 1.0, 7.0])
    assert equity.weighted_quantile(values, weights, 0.5) == 40.0
    assert equity.weighted_quantile(values, weights, 0.3) == 30.0
    assert equity.weighted_quantile(values, weights, 0.1) == 10.0
    assert np.isnan(equity.weighted_quantile(values, np.zeros(4), 0.5))


def _cells():
    # Four cells in two municipalities; cell d is unlinked, cell c unreachable.
    settings = Settings(modes=("walk",), facility_types=("gp",), thresholds_min=(5, 10))
    cells = pd.DataFrame({
        "cell_id": ["a", "b", "c", "d"],
        "municipality_code": ["GM0001", "GM0001", "GM0002", "GM0002"],
        "municipality_name": ["Een", "Een", "Twee", "Twee"],
        "aantal_inwoners": [100.0, 300.0, 50.0, np.nan],
        "aantal_inwoners_0_tot_15_jaar": [20.0, 0.0, 10.0, 5.0],
        "aantal_inwoners_65_jaar_en_ouder": [10.0, 90.0, np.nan, 5.0],
        "walk_link_m": [10.0, 20.0, 30.0, np.nan],
        "gp_walk_time_s": [240.0, 540.0, np.nan, np.nan],
        "gp_cbs_distance_m": [400.0, 800.0, 5000.0, np.nan],
    })
    return cells, settings


def test_region_and_municipality_rows_weight_by_population():
    cells, settings = _cells()
    summary = profile.summarise(cells, "R", "Region", settings)
    assert list(summary["area_code"]) == ["R", "GM0001", "GM0002"]
    region = summary.iloc[0]
    # Suppressed population (cell d) counts as 0 inhabitants.
    assert region["population"] == 450.0
    assert region["mean_time_s"] == pytest.approx((100 * 240 + 300 * 540) / 400)
    assert region["median_time_s"] == 540.0
    assert region["share_within_5min"] == pytest.approx(100 / 450)
    assert region["share_within_10min"] == pytest.approx(400 / 450)
    assert region["share_0_14_within_5min"] == pytest.approx(20 / 35)
    assert region["share_65_plus_within_10min"] == pytest.approx(100 / 105)
    assert region["population_unreachable"] == 50.0
    assert region["population_unlinked"] == 0.0
    assert (region["n_cells_unlinked"], region["n_cells_unreachable"]) == (1, 1)
    assert region["mean_cbs_distance_m"] == pytest.approx((400 * 100 + 800 * 300 + 5000 * 50) / 450)
    twee = summary.iloc[2]
    assert np.isnan(twee["mean_time_s"])
    assert twee["share_within_10min"] == 0.0
    assert twee["population_0_14"] == 15.0


def test_equity_columns_and_the_analysed_area():
    cells, settings = _cells()
    summary = profile.summarise(cells, "R", "Region", settings)
    region, een, twee = (summary.iloc[i] for i in range(3))
    # Norm 15 min: cells a (4 min) and b (9 min) are within; c and d count beyond.
    assert region["share_beyond_norm"] == pytest.approx(50 / 450)
    assert region["share_0_14_beyond_norm"] == pytest.approx(15 / 35)  # d is unlinked
    assert een["share_beyond_norm"] == 0.0 and twee["share_beyond_norm"] == 1.0
    # Gini over the 400 residents who reach one: 100 at 240 s, 300 at 540 s.
    mean = (100 * 240 + 300 * 540) / 400
    assert region["gini_time"] == pytest.approx(2 * 100 * 300 * 300 / (2 * 400 ** 2 * mean))
    # The analysed area is every cell passed in: the region row compares with itself.
    assert region["median_time_vs_analysed_area"] == 1.0
    assert region["share_beyond_norm_vs_analysed_area"] == 0.0
    assert een["median_time_vs_analysed_area"] == pytest.approx(540 / 540)
    assert twee["share_beyond_norm_vs_analysed_area"] == pytest.approx(1 - 50 / 450)


# -- unlinked and unreachable cells, counted apart ----------------------------------

def _apart():
    """Six populated cells in two municipalities, by walk and by car.

    By walk: b and d are unlinked (no road within reach), c and e are linked but
    reach no facility, a (4 min) and f (20 min) reach one. By car only d is
    unlinked; b reaches a facility, c and e still reach none. Cell e's population
    is suppressed (NaN): it counts as a cell, not as inhabitants.
    """
    settings = Settings(modes=("walk", "car"), facility_types=("gp",),
                        thresholds_min=(5, 30))
    cells = pd.DataFrame({
        "cell_id": list("abcdef"),
        "municipality_code": ["GM0001"] * 3 + ["GM0002"] * 3,
        "municipality_name": ["Een"] * 3 + ["Twee"] * 3,
        "aantal_inwoners": [100.0, 200.0, 40.0, 60.0, np.nan, 300.0],
        "aantal_inwoners_0_tot_15_jaar": [10.0, 50.0, 5.0, 20.0, 5.0, 30.0],
        "aantal_inwoners_65_jaar_en_ouder": [20.0, 0.0, 15.0, 10.0, 0.0, 60.0],
        "walk_link_m": [15.0, np.nan, 40.0, np.nan, 25.0, 30.0],
        "gp_walk_time_s": [240.0, np.nan, np.nan, np.nan, np.nan, 1200.0],
        "car_link_m": [15.0, 900.0, 40.0, np.nan, 25.0, 30.0],
        "gp_car_time_s": [60.0, 120.0, np.nan, np.nan, np.nan, 300.0],
    })
    return cells, settings


def _row(summary, code, mode):
    [i] = np.flatnonzero((summary["area_code"] == code) & (summary["mode"] == mode))
    return summary.iloc[i]


def test_unlinked_and_unreachable_cells_are_counted_apart():
    cells, settings = _apart()
    summary = profile.summarise(cells, "R", "Regio", settings)
    counted = ["n_cells", "n_cells_unlinked", "n_cells_unreachable", "population",
               "population_unlinked", "population_unreachable"]
    # Walk. Region: unlinked b (200) and d (60); unreachable c (40) and e (0).
    assert _row(summary, "R", "walk")[counted].tolist() == [6, 2, 2, 700.0, 260.0, 40.0]
    assert _row(summary, "GM0001", "walk")[counted].tolist() == [3, 1, 1, 340.0, 200.0, 40.0]
    assert _row(summary, "GM0002", "walk")[counted].tolist() == [3, 1, 1, 360.0, 60.0, 0.0]
    # Car: b is linked and reached now; d is the only unlinked cell.
    assert _row(summary, "R", "car")[counted].tolist() == [6, 1, 2, 700.0, 60.0, 40.0]
    assert _row(summary, "GM0001", "car")[counted].tolist() == [3, 0, 1, 340.0, 0.0, 40.0]
    assert _row(summary, "GM0002", "car")[counted].tolist() == [3, 1, 1, 360.0, 60.0, 0.0]
    for _, row in summary.iterrows():
        assert row["n_cells_unlinked"] + row["n_cells_unreachable"] <= row["n_cells"]
        assert row["population_unlinked"] + row["population_unreachable"] <= row["population"]


def test_unlinked_and_unreachable_inhabitants_count_in_every_share_as_not_within():
    # profiles/README.md: shares within T minutes are of *all* inhabitants
    # (unlinked and unreachable count as not within); shares beyond the norm
    # count them as beyond; time statistics are over those who reach one.
    cells, settings = _apart()
    summary = profile.summarise(cells, "R", "Regio", settings)
    walk = _row(summary, "R", "walk")
    assert walk["share_within_5min"] == pytest.approx(100 / 700)
    assert walk["share_within_30min"] == pytest.approx(400 / 700)
    assert walk["share_beyond_norm"] == pytest.approx(600 / 700)  # b, c, d, f (20 min)
    # 0-14: a 10, b 50 (unlinked), c 5 (unreachable), d 20 (unlinked), e 5, f 30.
    assert walk["share_0_14_within_30min"] == pytest.approx(40 / 120)
    assert walk["share_0_14_beyond_norm"] == pytest.approx(110 / 120)
    assert walk["share_65_plus_within_5min"] == pytest.approx(20 / 105)
    assert walk["mean_time_s"] == pytest.approx((100 * 240 + 300 * 1200) / 400)
    assert walk["median_time_s"] == 1200.0
    een = _row(summary, "GM0001", "walk")
    assert een["share_within_30min"] == pytest.approx(100 / 340)
    assert een["share_beyond_norm"] == pytest.approx(240 / 340)
    assert een["mean_time_s"] == 240.0
    car = _row(summary, "R", "car")
    assert car["share_within_5min"] == pytest.approx(600 / 700)
    assert car["share_beyond_norm"] == pytest.approx(100 / 700)  # c and d
    twee = _row(summary, "GM0002", "car")
    assert twee["share_within_5min"] == pytest.approx(300 / 360)


_GROUPS = {"": "aantal_inwoners", "_0_14": "aantal_inwoners_0_tot_15_jaar",
           "_65_plus": "aantal_inwoners_65_jaar_en_ouder"}


def _reference_rows(cells, thresholds_min, norm_min):
    """The count and share columns of the walk rows, cell by cell in plain Python."""
    areas = [("R", list(range(len(cells))))]
    for code in sorted(set(cells["municipality_code"])):
        areas.append((code, [i for i, c in enumerate(cells["municipality_code"]) if c == code]))
    out = {}
    for code, members in areas:
        row = {"n_cells": len(members), "n_cells_unlinked": 0, "n_cells_unreachable": 0,
               "population_unlinked": 0.0, "population_unreachable": 0.0}
        totals = dict.fromkeys(_GROUPS, 0.0)
        within = {(g, t): 0.0 for g in _GROUPS for t in thresholds_min}
        beyond = dict.fromkeys(_GROUPS, 0.0)
        for i in members:
            people = {g: (0.0 if np.isnan(v) else v)
                      for g, v in ((g, cells[col].iloc[i]) for g, col in _GROUPS.items())}
            linked = not np.isnan(cells["walk_link_m"].iloc[i])
            time_s = cells["gp_walk_time_s"].iloc[i]
            reached = not np.isnan(time_s)
            if not linked:
                row["n_cells_unlinked"] += 1
                row["population_unlinked"] += people[""]
            elif not reached:
                row["n_cells_unreachable"] += 1
                row["population_unreachable"] += people[""]
            for g in _GROUPS:
                totals[g] += people[g]
                if not (reached and time_s <= norm_min * 60):
                    beyond[g] += people[g]
                for t in thresholds_min:
                    if reached and time_s <= t * 60:
                        within[g, t] += people[g]
        row["population"] = totals[""]
        for g in _GROUPS:
            share = "share" + g
            row[f"{share}_beyond_norm"] = beyond[g] / totals[g] if totals[g] else np.nan
            for t in thresholds_min:
                row[f"{share}_within_{t}min"] = within[g, t] / totals[g] if totals[g] else np.nan
        out[code] = row
    return out


_people = st.one_of(st.just(np.nan), st.sampled_from([0.0, 5.0, 10.0, 35.0, 120.0]))


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["GM0001", "GM0002", "GM0003"]), _people, _people,
                          _people, st.booleans(),
                          st.one_of(st.just(np.nan),
                                    st.sampled_from([0.0, 299.0, 300.0, 301.0, 900.0, 1800.0]))),
                min_size=1, max_size=12))
def test_counts_and_shares_equal_a_cell_by_cell_reference(rows):
    # The thresholds' own seconds (300, 900, 1800) are within them.
    settings = Settings(modes=("walk",), facility_types=("gp",), thresholds_min=(5, 30))
    cells = pd.DataFrame({
        "cell_id": [f"c{i}" for i in range(len(rows))],
        "municipality_code": [r[0] for r in rows],
        "municipality_name": [r[0].lower() for r in rows],
        "aantal_inwoners": [r[1] for r in rows],
        "aantal_inwoners_0_tot_15_jaar": [r[2] for r in rows],
        "aantal_inwoners_65_jaar_en_ouder": [r[3] for r in rows],
        "walk_link_m": [10.0 if r[4] else np.nan for r in rows],
        # An unlinked cell reaches nothing.
        "gp_walk_time_s": [r[5] if r[4] else np.nan for r in rows],
    })
    summary = profile.summarise(cells, "R", "Regio", settings)
    reference = _reference_rows(cells, settings.thresholds_min, settings.norm_min["gp"])
    assert list(summary["area_code"]) == list(reference)
    for _, row in summary.iterrows():
        for column, expected in reference[row["area_code"]].items():
            assert row[column] == pytest.approx(expected, nan_ok=True), column


def test_areas_table_sets_side_by_side_in_the_order_of_the_types():
    import geopandas as gpd
    import shapely

    # Two 1 km squares; the types in the settings' order, not the alphabet's.
    settings = Settings(modes=("walk",), facility_types=("school", "gp"), thresholds_min=(5,))
    cells = pd.DataFrame({
        "cell_id": ["a", "b"], "municipality_code": ["GM0001", "GM0002"],
        "municipality_name": ["Een", "Twee"], "aantal_inwoners": [100.0, 300.0],
        "aantal_inwoners_0_tot_15_jaar": [20.0, 30.0],
        "aantal_inwoners_65_jaar_en_ouder": [10.0, 60.0],
        "walk_link_m": [10.0, 10.0],
        "school_walk_time_s": [120.0, 600.0], "gp_walk_time_s": [300.0, 900.0],
    })
    summary = profile.summarise(cells, "R", "Regio", settings)
    squares = [shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)]
    munis = gpd.GeoDataFrame({"code": ["GM0001", "GM0002"], "name": ["Een", "Twee"]},
                             geometry=squares, crs="EPSG:28992")
    capacity_areas = pd.DataFrame({
        "level": ["region", "region", "municipality", "municipality", "municipality",
                  "municipality"],
        "area_code": ["R", "R", "GM0001", "GM0001", "GM0002", "GM0002"],
        "type": ["school", "gp", "school", "gp", "school", "gp"],
        "demand": [30.0, 400.0, 12.0, 100.0, 18.0, 300.0],
        "capacity": [40.0, 2350.0, 40.0, 2350.0, 0.0, 0.0],
        "gap": [-10.0, -1950.0, -28.0, -2250.0, 18.0, 300.0],
        "fte_shortfall": [np.nan, -0.83, np.nan, -0.96, np.nan, 0.13],
    })
    areas = profile.areas_table(summary, capacity_areas, shapely.union_all(squares), munis)
    assert list(areas["area_code"]) == ["R", "GM0001", "GM0002"]
    assert areas["area_km2"].tolist() == [2.0, 1.0, 1.0]
    added = list(areas.columns[list(areas.columns).index("lat") + 1:])
    assert added == [
        *(f"school_walk_{c}" for c in ("median_time_s", "p90_time_s", "share_within_norm",
                                       "share_beyond_norm")),
        *(f"gp_walk_{c}" for c in ("median_time_s", "p90_time_s", "share_within_norm",
                                   "share_beyond_norm")),
        "school_demand", "school_capacity", "school_gap", "gp_demand", "gp_capacity", "gp_gap",
        "gp_fte_shortfall", "geometry"]
    assert areas["school_walk_median_time_s"].tolist() == [600.0, 120.0, 600.0]
    assert areas["school_gap"].tolist() == [-10.0, -28.0, 18.0]
    assert areas["gp_gap"].tolist() == [-1950.0, -2250.0, 300.0]
    assert areas["gp_fte_shortfall"].tolist() == [-0.83, -0.96, 0.13]
