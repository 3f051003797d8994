"""Population-weighted profile summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bereikbaarheid.measures import equity
from bereikbaarheid import profile
from bereikbaarheid.config import Settings


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
