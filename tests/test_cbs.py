"""Comparison with CBS's published proximity figures, and the demo grid that carries them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial import cKDTree

from bereikbaarheid.config import CBS_DISTANCE_COLUMNS, Settings
from bereikbaarheid.demo import _proximity
from bereikbaarheid.measures import cbs
from bereikbaarheid.sources import grid

GP_KM = CBS_DISTANCE_COLUMNS["gp"]
SETTINGS = Settings()


def four_cells() -> pd.DataFrame:
    """Two municipalities. Where both are known, CBS = 0.6 x engine + 200 m.

    GM0001: A (10 inhabitants) 1000 m vs 0.8 km, B (30) 2000 m vs 1.4 km.
    GM0002: C (20) 500 m vs 0.5 km; D (40) secret at CBS; E (population
    secret) 700 m vs 0.9 km; F (10) unreached by the engine.
    """
    return pd.DataFrame({
        "municipality_code": ["GM0001", "GM0001", "GM0002", "GM0002", "GM0002", "GM0002"],
        "municipality_name": ["Oost", "Oost", "West", "West", "West", "West"],
        "aantal_inwoners": [10.0, 30.0, 20.0, 40.0, np.nan, 10.0],
        "gp_cbs_distance_m": [1000.0, 2000.0, 500.0, 3000.0, 700.0, np.nan],
        GP_KM: [0.8, 1.4, 0.5, -99997.0, 0.9, 1.0],
        # An engine column without CBS column, and a CBS column without engine column.
        "school_cbs_distance_m": [100.0, 200.0, 300.0, 400.0, 500.0, 600.0],
        CBS_DISTANCE_COLUMNS["supermarket"]: [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    }, index=[11, 12, 13, 14, 15, 16])


# -- per cell -----------------------------------------------------------------

def test_cells_get_the_published_distance_in_metres_and_the_difference():
    out = cbs.compare_cells(four_cells(), SETTINGS)
    assert list(out.columns) == ["gp_cbs_published_m", "gp_cbs_difference_m"]
    assert list(out.index) == [11, 12, 13, 14, 15, 16]
    np.testing.assert_allclose(out["gp_cbs_published_m"],
                               [800, 1400, 500, np.nan, 900, 1000])
    np.testing.assert_allclose(out["gp_cbs_difference_m"],
                               [200, 600, 0, np.nan, -200, np.nan])


def test_a_grid_without_cbs_columns_gives_no_columns():
    cells = four_cells().drop(columns=[GP_KM, CBS_DISTANCE_COLUMNS["supermarket"]])
    out = cbs.compare_cells(cells, SETTINGS)
    assert out.shape == (6, 0)
    assert list(out.index) == list(cells.index)
    areas = cbs.compare_areas(cells, SETTINGS, "R01", "Regio")
    assert len(areas) == 0
    assert list(areas.columns) == list(cbs.AREA_COLUMNS)


def test_other_column_names_can_be_given():
    cells = four_cells().rename(columns={GP_KM: "gp_km"})
    out = cbs.compare_cells(cells, SETTINGS, columns={"gp": "gp_km"})
    np.testing.assert_allclose(out["gp_cbs_published_m"], [800, 1400, 500, np.nan, 900, 1000])


# -- per area -----------------------------------------------------------------

def test_area_means_are_weighted_by_inhabitants_over_the_compared_cells():
    areas = cbs.compare_areas(four_cells(), SETTINGS, "R01", "Regio")
    assert list(areas.columns) == list(cbs.AREA_COLUMNS)
    assert list(zip(areas["level"], areas["code"], areas["name"], areas["type"])) == [
        ("region", "R01", "Regio", "gp"), ("municipality", "GM0001", "Oost", "gp"),
        ("municipality", "GM0002", "West", "gp")]
    region, oost, west = (areas.iloc[k] for k in range(3))
    # Region: A, B and C (D secret at CBS, E without population, F unreached).
    assert region["n_cells_compared"] == 3 and region["population_compared"] == 60
    assert region["mean_engine_m"] == pytest.approx((10 * 1000 + 30 * 2000 + 20 * 500) / 60)
    assert region["mean_published_m"] == pytest.approx((10 * 800 + 30 * 1400 + 20 * 500) / 60)
    assert region["mean_difference_m"] == pytest.approx((10 * 200 + 30 * 600) / 60)
    assert region["mean_abs_difference_m"] == pytest.approx(region["mean_difference_m"])
    assert region["ratio_engine_to_published"] == pytest.approx(80_000 / 60_000)
    # CBS is an exact linear function of the engine here.
    assert region["correlation"] == pytest.approx(1.0)
    assert region["spearman"] == pytest.approx(1.0)
    assert region["share_within_500m"] == pytest.approx(30 / 60)  # B differs by 600 m

    assert oost["n_cells_compared"] == 2 and oost["population_compared"] == 40
    assert oost["mean_engine_m"] == pytest.approx(1750)
    assert oost["mean_published_m"] == pytest.approx(1250)
    assert oost["mean_difference_m"] == pytest.approx(500)
    assert oost["share_within_500m"] == pytest.approx(10 / 40)
    assert west["n_cells_compared"] == 1 and west["population_compared"] == 20
    assert west["mean_difference_m"] == 0 and west["share_within_500m"] == 1.0


def test_correlations_need_three_cells_that_vary():
    areas = cbs.compare_areas(four_cells(), SETTINGS, "R01", "Regio")
    assert areas.loc[areas["code"] == "GM0001", ["correlation", "spearman"]].isna().all().all()
    cells = four_cells()
    cells[GP_KM] = 1.0
    flat = cbs.compare_areas(cells, SETTINGS, "R01", "Regio").iloc[0]
    assert flat["n_cells_compared"] == 4
    assert np.isnan(flat["correlation"]) and np.isnan(flat["spearman"])
    assert flat["mean_published_m"] == 1000


def test_spearman_compares_ranks_and_pearson_values():
    cells = pd.DataFrame({
        "municipality_code": ["GM0001"] * 4, "municipality_name": ["Oost"] * 4,
        "aantal_inwoners": [5.0] * 4,
        "gp_cbs_distance_m": [100.0, 200.0, 300.0, 400.0],
        GP_KM: [0.1, 0.2, 0.3, 9.0],
    })
    region = cbs.compare_areas(cells, SETTINGS, "R01", "Regio").iloc[0]
    assert region["spearman"] == pytest.approx(1.0)
    assert region["correlation"] < 0.9


def test_an_area_without_compared_cells_has_no_means():
    cells = four_cells()
    cells[GP_KM] = np.nan
    region = cbs.compare_areas(cells, SETTINGS, "R01", "Regio").iloc[0]
    assert region["n_cells_compared"] == 0 and region["population_compared"] == 0
    assert region[["mean_engine_m", "mean_published_m", "mean_difference_m",
                   "ratio_engine_to_published", "share_within_500m"]].isna().all()


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20_000), st.integers(0, 200), st.integers(0, 50)),
                min_size=1, max_size=30))
def test_means_and_correlation_agree_with_numpy(rows):
    engine_m = np.array([r[0] for r in rows], float)
    published_hm = np.array([r[1] for r in rows], float)  # CBS publishes to 0.1 km
    population = np.array([r[2] for r in rows], float)
    cells = pd.DataFrame({
        "municipality_code": "GM0001", "municipality_name": "Oost",
        "aantal_inwoners": population, "gp_cbs_distance_m": engine_m,
        GP_KM: published_hm / 10,
    })
    keep = population > 0
    assume(keep.any())
    region = cbs.compare_areas(cells, SETTINGS, "R01", "Regio").iloc[0]
    e, p, w = engine_m[keep], published_hm[keep] * 100, population[keep]
    assert region["n_cells_compared"] == keep.sum()
    assert region["mean_engine_m"] == pytest.approx(np.average(e, weights=w))
    assert region["mean_published_m"] == pytest.approx(np.average(p, weights=w))
    assert region["mean_abs_difference_m"] == pytest.approx(
        np.average(np.abs(e - p), weights=w), abs=1e-6)
    if len(e) >= 3 and np.ptp(e) > 0 and np.ptp(p) > 0:
        assert region["correlation"] == pytest.approx(np.corrcoef(e, p)[0, 1], abs=1e-9)
        # Spearman is Pearson over the ranks (ties share their mean rank).
        assert region["spearman"] == pytest.approx(
            np.corrcoef(stats.rankdata(e), stats.rankdata(p))[0, 1], abs=1e-9)
    else:
        assert np.isnan(region["correlation"]) and np.isnan(region["spearman"])


# -- the demo grid ------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_cells(demo_region):
    return grid.read_grid(demo_region.grid_100m, SETTINGS).cells


def test_demo_grid_carries_cbs_proximity_columns_rounded_to_100_m(demo_region, demo_cells):
    for column in CBS_DISTANCE_COLUMNS.values():
        km = demo_cells[column].to_numpy()
        known = km[np.isfinite(km)]
        assert (known >= 0).all(), column
        np.testing.assert_allclose(known * 10, np.round(known * 10), atol=1e-9)
        # Suppressed like real CBS files: a handful, not many.
        assert 1 <= np.isnan(km).sum() <= 0.02 * len(km), column
    for radius_km in (1, 3, 5):
        counts = demo_cells[f"huisartsenpraktijk_aantal_binnen_{radius_km}_km"]
        assert (counts.dropna() >= 0).all()
    coarse = pyogrio.read_dataframe(demo_region.grid_500m)
    assert set(CBS_DISTANCE_COLUMNS.values()) <= set(coarse.columns)


def test_demo_gp_distance_is_the_straight_line_to_a_dutch_gp_times_a_detour(
        demo_region, demo_cells):
    municipalities = pyogrio.read_dataframe(demo_region.municipalities)
    facilities = pd.read_csv(demo_region.facilities_csv)
    gps = facilities[facilities["type"] == "gp"]
    inside = shapely.contains_xy(municipalities.union_all(), gps["x"].to_numpy(),
                                 gps["y"].to_numpy())
    assert 0 < inside.sum() < len(gps)  # Belgian practices exist and do not count
    tree = cKDTree(gps.loc[inside, ["x", "y"]].to_numpy())
    straight_m, _ = tree.query(demo_cells[["x", "y"]].to_numpy())
    published_km = demo_cells[GP_KM].to_numpy()
    known = np.isfinite(published_km)
    # Never below the straight line (up to CBS's rounding to 0.1 km) ...
    assert (published_km[known] >= straight_m[known] / 1000 - 0.05 - 1e-9).all()
    # ... and exactly the straight line times the detour factor, rounded.
    expected_km = straight_m[known] * _proximity.DETOUR_FACTOR / 1000
    assert np.abs(published_km[known] - expected_km).max() <= 0.05 + 1e-9
    within_3 = tree.query_ball_point(demo_cells[["x", "y"]].to_numpy(), 3000, return_length=True)
    counts = demo_cells["huisartsenpraktijk_aantal_binnen_3_km"].to_numpy()
    np.testing.assert_array_equal(counts[known], within_3[known])

