"""Per-cell measures on hand-made networks whose answers can be seen by eye."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bereikbaarheid.config import Settings
from bereikbaarheid.measures import access

from netutil import both_ways, make_network

# Walking at 3.6 km/h = 1 m/s on roads and connectors, so seconds = metres.
SETTINGS = Settings(modes=("walk",), facility_types=("gp", "school"), walk_speed_kmh=3.6,
                    connector_speed_kmh={"walk": 3.6, "bike": 15.0, "car": 15.0},
                    thresholds_min=(5, 10))


def _facilities(rows):
    return pd.DataFrame(rows, columns=["facility_id", "type", "x", "y"])


def test_nearest_time_distance_facility_and_counts_on_a_straight_road():
    # A 2 km road along y = 0; GPs at x = 100 and x = 1000, both 10 m off the road.
    net = make_network([(0, 0), (2000, 0)], both_ways([(0, 1)]))
    fac = _facilities([("a", "gp", 100, 10), ("b", "gp", 1000, -10)])
    cells_x = np.array([400.0, 1900.0, 1000.0])
    cells_y = np.array([20.0, 0.0, 5000.0])  # the last one is far from any road
    result = access.compute_access({"walk": net}, cells_x, cells_y, fac, SETTINGS)
    t = result.table
    # Cell 0: 20 m connector + 300 m along the road + 10 m connector to GP a.
    assert t["gp_walk_time_s"][0] == pytest.approx(330.0)
    assert t["gp_walk_distance_m"][0] == pytest.approx(330.0)
    assert t["gp_walk_facility_id"][0] == "a"
    # Cell 1: 900 m to GP b + 10 m connector.
    assert t["gp_walk_time_s"][1] == pytest.approx(910.0)
    assert t["gp_walk_facility_id"][1] == "b"
    # Counts: cell 0 has a at 330 s (5.5 min) and b at 630 s (10.5 min).
    assert (t["gp_walk_n_5min"][0], t["gp_walk_n_10min"][0]) == (0, 1)
    assert (t["gp_walk_n_5min"][1], t["gp_walk_n_10min"][1]) == (0, 0)
    # The far cell is unlinked: NaN time, no count, and it is reported.
    assert np.isnan(t["walk_link_m"][2]) and np.isnan(t["gp_walk_time_s"][2])
    assert t["gp_walk_n_10min"].isna()[2]
    assert result.report["modes"]["walk"]["cells_unlinked"] == 1
    # No school at all: all NaN, reported, no crash.
    assert t["school_walk_time_s"].isna().all()
    assert result.report["facilities_without_type"] == ["school"]


def test_a_cache_of_the_locations_gives_the_same_table(tmp_path, caplog):
    """With ``cache_dir`` the first run stores the cells' and facilities'
    locations and the second reuses them; both tables equal a run without."""
    import logging

    rng = np.random.default_rng(7)
    coords = [(x, y) for y in range(0, 1001, 250) for x in range(0, 1001, 250)]
    edges = [(i, i + 1) for i in range(25) if i % 5 != 4] + [(i, i + 5) for i in range(20)]
    net = make_network(coords, both_ways(edges))
    fac = _facilities([(f"f{i}", "gp" if i % 2 else "school", *rng.uniform(0, 1000, 2))
                       for i in range(6)])
    cells_x = np.append(rng.uniform(-100, 1100, 200), 9000.0)   # the last one far away
    cells_y = np.append(rng.uniform(-100, 1100, 200), 9000.0)
    plain = access.compute_access({"walk": net}, cells_x, cells_y, fac, SETTINGS).table
    with caplog.at_level(logging.INFO, logger="bereikbaarheid.measures.access"):
        first = access.compute_access({"walk": net}, cells_x, cells_y, fac, SETTINGS,
                                      cache_dir=tmp_path).table
        second = access.compute_access({"walk": net}, cells_x, cells_y, fac, SETTINGS,
                                       cache_dir=tmp_path).table
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("locations")]
    assert said == [("locations on the walk network: cells stored (no cache), "
                     "facilities stored (no cache)"),
                    "locations on the walk network: cells reused, facilities reused"]
    pd.testing.assert_frame_equal(first, plain)
    pd.testing.assert_frame_equal(second, plain)
    assert plain["walk_link_m"].isna().any() and plain["gp_walk_time_s"].notna().any()


def test_one_way_street_makes_the_way_back_longer():
    # A square block 0-1-2-3 of 100 m sides; the street 0 -> 1 is one-way.
    coords = [(0, 0), (100, 0), (100, 100), (0, 100)]
    edges = [(0, 1)] + both_ways([(1, 2), (2, 3), (3, 0)])
    net = make_network(coords, edges)
    fac = _facilities([("gp1", "gp", 80, 0)])
    result = access.compute_access({"walk": net}, np.array([20.0]), np.array([0.0]), fac,
                                   SETTINGS)
    # Allowed direction: 60 m straight along the one-way street.
    assert result.table["gp_walk_time_s"][0] == pytest.approx(60.0)
    result = access.compute_access({"walk": net}, np.array([80.0]), np.array([0.0]),
                                   _facilities([("gp1", "gp", 20, 0)]), SETTINGS)
    # Against it: 20 m on to node 1, round the block (300 m), 20 m back in.
    assert result.table["gp_walk_time_s"][0] == pytest.approx(340.0)


def test_cbs_distance_is_shortest_by_car_and_ignores_facilities_abroad():
    settings = Settings(modes=("car",), facility_types=("gp",),
                        connector_speed_kmh={"walk": 5.0, "bike": 15.0, "car": 36.0})
    # Road with a zero-length edge (two OSM nodes on one spot) in the middle.
    net = make_network([(0, 0), (500, 0), (500, 0), (1000, 0)],
                       both_ways([(0, 1), (1, 2), (2, 3)]), mode="car", speed_ms=10.0)
    fac = pd.DataFrame({"facility_id": ["nl", "be"], "type": ["gp", "gp"],
                        "x": [1000.0, 0.0], "y": [0.0, 0.0], "domestic": [True, False]})
    result = access.compute_access({"car": net}, np.array([100.0]), np.array([0.0]), fac,
                                   settings)
    t = result.table
    # The nearest GP is abroad (100 m); CBS's distance goes to the Dutch one.
    assert t["gp_car_facility_id"][0] == "be"
    assert t["gp_car_distance_m"][0] == pytest.approx(100.0)
    assert t["gp_cbs_distance_m"][0] == pytest.approx(900.0, abs=0.01)
