"""Measures at their edges, on hand-made tables whose answers can be checked by eye:
times exactly on a norm, and the like."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bereikbaarheid.config import Settings
from bereikbaarheid.measures import border


def test_a_time_exactly_on_the_norm_is_within_it_in_both_scopes():
    # Norm 10 min (600 s). Residents: 10 at 600 s in both scopes, 20 at 600 s
    # abroad but 601 s in the Netherlands, 30 at 601 s in both, 40 unreached in NL.
    cells = pd.DataFrame({
        "municipality_code": ["GM0001"] * 4,
        "municipality_name": ["Een"] * 4,
        "aantal_inwoners": [10.0, 20.0, 30.0, 40.0],
        "gp_car_time_s": [600.0, 600.0, 601.0, 599.0],                  # cross-border
        "gp_car_nl_only_time_s": [600.0, 601.0, 601.0, np.nan],
    })
    settings = Settings(modes=("car",), facility_types=("gp",), norm_min={"gp": 10})
    region = border.compare_scopes(cells, settings, "R", "Regio").iloc[0]
    assert region["share_within_norm_cross_border"] == pytest.approx(70 / 100)
    assert region["share_within_norm_nl_only"] == pytest.approx(10 / 100)
    # Nearer abroad: strictly quicker (20) or only reached abroad (40).
    assert region["population_nearest_abroad"] == 60.0
    assert region["max_difference_s"] == 1.0
