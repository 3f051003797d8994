"""Capacity, demand, floating catchment ratios and gaps on cases checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from netutil import both_ways, make_network
from test_output_roundtrip import documented_decimals

from bereikbaarheid import pipeline
from bereikbaarheid.config import Settings
from bereikbaarheid.errors import ConfigError
from bereikbaarheid.measures import access as access_measures
from bereikbaarheid.measures import capacity

SETTINGS = Settings(gp_patients_per_fte=2000.0)
BANDS = capacity.BAND_COLUMNS


def _pairs(cell, fac, time_s):
    return capacity.Pairs(np.array(cell, np.int64), np.array(fac, np.int64),
                          np.array(time_s, np.float64))


# -- decay -------------------------------------------------------------------

def test_decay_shapes_within_and_beyond_the_catchment():
    t_s = np.array([0.0, 300.0, 450.0, 900.0, 901.0, np.nan])
    step = capacity.decay("step", t_s, 900.0)
    assert step.tolist() == [1, 1, 1, 1, 0, 0]
    linear = capacity.decay("linear", t_s, 900.0)
    np.testing.assert_allclose(linear, [1, 2 / 3, 0.5, 0, 0, 0])
    # Exponential: beta 0.1 per minute, so 5 min weighs exp(-0.5).
    expo = capacity.decay("exponential", t_s, 900.0, 0.1)
    np.testing.assert_allclose(expo, [1, np.exp(-0.5), np.exp(-0.75), np.exp(-1.5), 0, 0])
    # Gaussian: sigma 5 minutes, so 5 min (one sigma) weighs exp(-1/2).
    gauss = capacity.decay("gaussian", t_s, 900.0, 5.0)
    np.testing.assert_allclose(gauss, [1, np.exp(-0.5), np.exp(-1.125), np.exp(-4.5), 0, 0])
    for w in (step, linear, expo, gauss):
        assert np.all(np.diff(w[:5]) <= 0)  # never increases with time


def test_decay_rejects_unknown_names_and_missing_parameters():
    with pytest.raises(ConfigError, match="unknown decay"):
        capacity.decay("cubic", np.array([1.0]), 900.0)
    with pytest.raises(ConfigError, match="parameter"):
        capacity.decay("gaussian", np.array([1.0]), 900.0, 0.0)


# -- capacity and demand -----------------------------------------------------

def test_facility_capacity_from_fte_file_or_default():
    fac = pd.DataFrame({
        "facility_id": list("abcdef"),
        "type": ["gp", "gp", "gp", "school", "school", "supermarket"],
        "capacity": [9999.0, 1500.0, np.nan, np.nan, 180.0, 850.0],
        "fte": [2.5, np.nan, np.nan, 3.0, np.nan, np.nan],
    })
    cap, source = capacity.facility_capacity(fac, SETTINGS)
    # FTE wins over a capacity for GPs; 1.5 default FTE x 2000; school default 225.
    np.testing.assert_allclose(cap, [5000.0, 1500.0, 3000.0, 225.0, 180.0, 850.0])
    assert source.tolist() == ["fte", "file", "default", "default", "file", "file"]


def test_facility_capacity_without_capacity_columns_uses_defaults():
    fac = pd.DataFrame({"facility_id": ["a", "b"], "type": ["gp", "supermarket"]})
    cap, source = capacity.facility_capacity(fac, Settings())
    np.testing.assert_allclose(cap, [1.5 * 2095.0, 1000.0])
    assert source.tolist() == ["default", "default"]


def test_demand_weights_age_bands_and_suppressed_counts_weigh_zero():
    cells = pd.DataFrame({
        BANDS["0_14"]: [100.0, np.nan], BANDS["15_24"]: [50.0, 10.0],
        BANDS["25_44"]: [0.0, 20.0], BANDS["45_64"]: [10.0, 5.0],
        BANDS["65_plus"]: [40.0, np.nan],
    })
    # Schools: 0.6 pupil per resident aged 0-14.
    np.testing.assert_allclose(capacity.cell_demand(cells, "school", SETTINGS), [60.0, 0.0])
    np.testing.assert_allclose(capacity.cell_demand(cells, "gp", SETTINGS), [200.0, 35.0])
    # A heavier 65+ weight for GPs: the 40 elderly count twice.
    heavy = Settings.from_dict({"demand_weights": {"gp": {"65_plus": 2.0}}})
    np.testing.assert_allclose(capacity.cell_demand(cells, "gp", heavy), [240.0, 35.0])


# -- two-step floating catchment ---------------------------------------------

def test_two_step_fca_by_hand():
    # Cell 0 (1000 people) reaches A and B; cell 1 (3000) reaches only B.
    pairs = _pairs([0, 0, 1], [0, 1, 1], [300.0, 600.0, 120.0])
    demand = np.array([1000.0, 3000.0])
    cap = np.array([2000.0, 1000.0])
    w = capacity.decay("step", pairs.time_s, 900.0)
    cell_ratio, fac_ratio, catchment = capacity.two_step_fca(pairs, demand, cap, 2, 2, w)
    np.testing.assert_allclose(catchment, [1000.0, 4000.0])
    np.testing.assert_allclose(fac_ratio, [2.0, 0.25])
    np.testing.assert_allclose(cell_ratio, [2.25, 0.25])


def test_two_step_fca_without_demand_or_facilities():
    # Facility 1 sees only an empty cell (NaN ratio, adds nothing); cell 2 reaches nothing (0).
    pairs = _pairs([0, 1], [0, 1], [60.0, 60.0])
    w = np.ones(2)
    cell_ratio, fac_ratio, catchment = capacity.two_step_fca(
        pairs, np.array([10.0, 0.0, 5.0]), np.array([20.0, 7.0]), 3, 2, w)
    np.testing.assert_allclose(catchment, [10.0, 0.0])
    assert fac_ratio[0] == 2.0 and np.isnan(fac_ratio[1])
    np.testing.assert_allclose(cell_ratio, [2.0, 0.0, 0.0])


def _pysal(demand, cap, cost_s, cutoff_min, weight_fn):
    import access  # PySAL's access package (the test extra); the reference
    demand_df = pd.DataFrame({"pop": demand}, index=pd.Index(np.arange(len(demand)),
                                                             name="geoid"))
    supply_df = pd.DataFrame({"cap": cap}, index=pd.Index(np.arange(len(cap)), name="geoid"))
    cell, fac = np.meshgrid(np.arange(len(demand)), np.arange(len(cap)), indexing="ij")
    cost_df = pd.DataFrame({"origin": cell.ravel(), "dest": fac.ravel(),
                            "cost": cost_s.ravel() / 60.0})
    model = access.Access(demand_df=demand_df, demand_value="pop", supply_df=supply_df,
                          supply_value="cap", cost_df=cost_df, cost_origin="origin",
                          cost_dest="dest", cost_name="cost")
    if weight_fn is None:
        out = model.two_stage_fca(name="fca", max_cost=cutoff_min)
    else:
        out = model.enhanced_two_stage_fca(name="fca", max_cost=cutoff_min,
                                           weight_fn=weight_fn)
    return out["fca_cap"].reindex(np.arange(len(demand))).to_numpy(np.float64)


@pytest.mark.parametrize("decay_name, param", [
    ("step", 0.0), ("linear", 0.0), ("exponential", 0.12), ("gaussian", 6.0)])
def test_two_step_fca_equals_pysal_access(decay_name, param):
    import access
    rng = np.random.default_rng(7)
    n_cells, n_fac, cutoff_min = 60, 9, 15.0
    demand = rng.uniform(1.0, 500.0, n_cells)
    cap = rng.uniform(100.0, 3000.0, n_fac)
    cost_s = rng.integers(0, 1800, (n_cells, n_fac)).astype(np.float64)  # whole seconds
    if decay_name == "step":
        weight_fn = None  # plain two_stage_fca with max_cost
    elif decay_name == "linear":
        weight_fn = lambda t_min: 1.0 - t_min / cutoff_min
    elif decay_name == "exponential":
        weight_fn = lambda t_min: np.exp(-param * t_min)
    else:
        weight_fn = access.weights.gaussian(param)
    expected = _pysal(demand, cap, cost_s, cutoff_min, weight_fn)

    cell, fac = np.nonzero(cost_s <= cutoff_min * 60.0)
    pairs = _pairs(cell, fac, cost_s[cell, fac])
    w = capacity.decay(decay_name, pairs.time_s, cutoff_min * 60.0, param)
    got, _, _ = capacity.two_step_fca(pairs, demand, cap, n_cells, n_fac, w)
    # PySAL leaves cells without a facility in the catchment out (NaN); we give 0.
    assert np.isnan(expected).sum() == np.sum(np.bincount(cell, minlength=n_cells) == 0)
    np.testing.assert_allclose(got, np.nan_to_num(expected, nan=0.0), rtol=1e-12)


@hsettings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 4), st.data())
def test_two_step_fca_conserves_capacity(n_cells, n_fac, data):
    # Every facility with demand in its catchment hands out exactly its capacity:
    # sum_c demand_c * A_c = sum of those capacities (step weights).
    reach = np.array(data.draw(st.lists(st.booleans(), min_size=n_cells * n_fac,
                                        max_size=n_cells * n_fac))).reshape(n_cells, n_fac)
    demand = np.array(data.draw(st.lists(st.floats(1.0, 1e4), min_size=n_cells,
                                         max_size=n_cells)))
    cap = np.array(data.draw(st.lists(st.floats(0.0, 1e4), min_size=n_fac, max_size=n_fac)))
    cell, fac = np.nonzero(reach)
    pairs = _pairs(cell, fac, np.zeros(len(cell)))
    cell_ratio, fac_ratio, _ = capacity.two_step_fca(pairs, demand, cap, n_cells, n_fac,
                                                     np.ones(len(cell)))
    served = reach.any(axis=0)
    assert np.dot(demand, cell_ratio) == pytest.approx(cap[served].sum(), rel=1e-9, abs=1e-9)
    assert np.isnan(fac_ratio[~served]).all()


# -- allocation and gaps -----------------------------------------------------

def test_allocation_gaps_by_hand():
    # Both cells' nearest facility is B (1000 capacity); A (2000) serves no one.
    fac, areas = capacity.allocation_gaps(
        nearest=np.array([1, 1, -1]), demand=np.array([1000.0, 3000.0, 50.0]),
        capacity=np.array([2000.0, 1000.0]), cell_area=np.array(["GM1", "GM2", "GM2"]),
        area_codes=["GM1", "GM2"], patients_per_fte=2000.0)
    np.testing.assert_allclose(fac["assigned_demand"], [0.0, 4000.0])
    np.testing.assert_allclose(fac["gap"], [-2000.0, 3000.0])
    np.testing.assert_allclose(fac["utilisation"], [0.0, 4.0])
    # B's capacity splits 1/4 : 3/4 by where its demand comes from; the
    # unserved cell (50) is demand without capacity.
    assert areas["area_code"].tolist() == ["GM1", "GM2"]
    np.testing.assert_allclose(areas["demand"], [1000.0, 3050.0])
    np.testing.assert_allclose(areas["capacity"], [250.0, 750.0])
    np.testing.assert_allclose(areas["gap"], [750.0, 2300.0])
    np.testing.assert_allclose(areas["fte_shortfall"], [0.375, 1.15])


def _cells():
    """Three cells: two in GM0001 and GM0002 reached by car, one unlinked in GM0002."""
    return pd.DataFrame({
        "municipality_code": ["GM0001", "GM0002", "GM0002"],
        "municipality_name": ["Aadorp", "Beekdorp", "Beekdorp"],
        "aantal_inwoners": [1000.0, 3000.0, 50.0],
        BANDS["0_14"]: [200.0, 500.0, 10.0], BANDS["15_24"]: [100.0, 500.0, 10.0],
        BANDS["25_44"]: [300.0, 1000.0, 10.0], BANDS["45_64"]: [200.0, 500.0, 10.0],
        BANDS["65_plus"]: [200.0, 500.0, 10.0],
        "car_link_m": [10.0, 20.0, np.nan],
        "gp_car_time_s": [300.0, 1000.0, np.nan],
        "gp_car_facility_id": ["A", "B", None],
        "school_car_time_s": [100.0, 200.0, np.nan],
        "school_car_facility_id": ["S", "S", None],
    })


def _facilities():
    return pd.DataFrame({
        "facility_id": ["B", "S", "A"], "type": ["gp", "school", "gp"],
        "name": ["Praktijk B", "De Tol", "Praktijk A"],
        "x": [0.0, 0.0, 0.0], "y": [0.0, 0.0, 0.0],
        "capacity": [1000.0, np.nan, np.nan], "fte": [np.nan, np.nan, 1.0],
    })


def test_capacity_measures_tables_by_hand():
    s = Settings(facility_types=("gp", "school"), gp_patients_per_fte=2000.0)
    # Rows: B = 0, S = 1, A = 2. GP B at 1000 s from cell 1 lies beyond the 900 s norm.
    pairs = {"gp": _pairs([0, 0, 1], [2, 0, 0], [300.0, 600.0, 1000.0]),
             "school": _pairs([0, 1], [1, 1], [100.0, 200.0])}
    result = capacity.capacity_measures(_cells(), _facilities(), pairs, s, "R01", "Regio")

    c = result.cells
    np.testing.assert_allclose(c["gp_demand"], [1000.0, 3000.0, 50.0])
    np.testing.assert_allclose(c["school_demand"], [120.0, 300.0, 6.0])
    # GP: A (2000) and B (1000) each see only cell 0: 2 + 1 = 3 patients per patient.
    np.testing.assert_allclose(c["gp_fca_ratio"][:2], [3.0, 0.0])
    assert np.isnan(c["gp_fca_ratio"][2])  # unlinked by car
    # School S: 225 default pupils over 120 + 300 pupils of demand.
    np.testing.assert_allclose(c["school_fca_ratio"][:2], [225 / 420, 225 / 420])

    f = result.facilities
    assert f[["type", "facility_id"]].values.tolist() == [["gp", "A"], ["gp", "B"],
                                                          ["school", "S"]]
    np.testing.assert_allclose(f["capacity"], [2000.0, 1000.0, 225.0])
    assert f["capacity_source"].tolist() == ["fte", "file", "default"]
    assert f["capacity_unit"].tolist() == ["patients", "patients", "pupils"]
    np.testing.assert_allclose(f["assigned_demand"], [1000.0, 3000.0, 420.0])
    np.testing.assert_allclose(f["gap"], [-1000.0, 2000.0, 195.0])
    np.testing.assert_allclose(f["fte_capacity"][:2], [1.0, 0.5])
    assert np.isnan(f["fte_capacity"].iloc[2])
    assert f["name"].tolist() == ["Praktijk A", "Praktijk B", "De Tol"]

    a = result.areas
    assert a[["level", "area_code", "type"]].values.tolist() == [
        ["region", "R01", "gp"], ["region", "R01", "school"],
        ["municipality", "GM0001", "gp"], ["municipality", "GM0001", "school"],
        ["municipality", "GM0002", "gp"], ["municipality", "GM0002", "school"]]
    gp = a[a["type"] == "gp"].set_index("area_code")
    np.testing.assert_allclose(gp["demand"], [4050.0, 1000.0, 3050.0])
    np.testing.assert_allclose(gp["capacity"], [3000.0, 2000.0, 1000.0])
    np.testing.assert_allclose(gp["gap"], [1050.0, -1000.0, 2050.0])
    np.testing.assert_allclose(gp["fte_shortfall"], [0.525, -0.5, 1.025])
    np.testing.assert_allclose(gp["gap_share"], [1050 / 4050, -1.0, 2050 / 3050])
    # Beyond the 15-minute norm: cell 1 (1000 s) and the unlinked cell 2.
    np.testing.assert_allclose(gp["population_beyond_norm"], [3050.0, 0.0, 3050.0])
    np.testing.assert_allclose(gp["share_beyond_norm"], [3050 / 4050, 0.0, 1.0])
    assert a.loc[a["type"] == "school", "fte_shortfall"].isna().all()
    assert a.loc[a["type"] == "school", "unit"].eq("pupils").all()
    # The region is the sum of its municipalities.
    for ftype in ("gp", "school"):
        t = a[a["type"] == ftype]
        region, munis = t[t["level"] == "region"], t[t["level"] == "municipality"]
        for col in ("demand", "capacity", "gap", "population_beyond_norm"):
            assert region[col].iloc[0] == pytest.approx(munis[col].sum())


def test_capacity_csv_is_rounded_column_by_column_as_documented():
    # capacity.csv is written as pipeline._rounded(areas). The precision of
    # each column comes from its unit in the column dictionary (amounts 0.1,
    # shares 6 decimals: documented_decimals), never from the column's name:
    # gap_share is a share although it holds the word "gap".
    s = Settings(facility_types=("gp", "school", "supermarket"), gp_patients_per_fte=2095.0)
    # A projected population (fractions of residents) and capacities that
    # share out in thirds, so that every column has decimals beyond the 6th.
    cells = _cells()
    cells["aantal_inwoners"] = [1000.0 / 3, 3000.0 / 7, 50.0 / 3]
    for band, factor in zip(BANDS.values(), (1 / 3, 2 / 7, 3 / 11, 4 / 13, 5 / 17)):
        cells[band] = cells[band] * (1 + factor)
    cells["supermarket_car_time_s"] = [100.0, 950.0, np.nan]
    cells["supermarket_car_facility_id"] = ["M", "M", None]
    fac = pd.concat([_facilities(), pd.DataFrame({
        "facility_id": ["M"], "type": ["supermarket"], "name": ["Super"], "x": [0.0],
        "y": [0.0], "capacity": [1000.0 / 3], "fte": [np.nan]})], ignore_index=True)
    fac.loc[fac["facility_id"] == "A", "fte"] = 1.0 / 3
    pairs = {"gp": _pairs([0, 0, 1], [2, 0, 0], [300.0, 600.0, 1000.0]),
             "school": _pairs([0, 1], [1, 1], [100.0, 200.0]),
             "supermarket": _pairs([0, 1], [3, 3], [100.0, 950.0])}
    raw = capacity.capacity_measures(cells, fac, pairs, s, "R01", "Regio").areas
    written = pipeline._rounded(raw)

    assert list(written.columns) == list(raw.columns)
    for column in raw.columns:
        decimals = documented_decimals("capacity.csv", column)
        if decimals is None:
            pd.testing.assert_series_equal(written[column], raw[column])
            continue
        values = raw[column].to_numpy(np.float64)
        expected = np.round(values, decimals)
        # The values tell the documented rounding from any other, and from none.
        for other in (*range(10), None):
            if other != decimals:
                alike = values if other is None else np.round(values, other)
                assert not np.array_equal(alike, expected, equal_nan=True), (column, other)
        np.testing.assert_array_equal(written[column].to_numpy(np.float64), expected,
                                      err_msg=f"capacity.csv: {column} to {decimals} decimals")


# -- travel-time pairs from a network ----------------------------------------

def test_catchment_pairs_on_a_straight_road_match_access_times():
    # A 2 km road along y = 0 walked at 1 m/s; GPs 10 m off the road at x = 100 and 1000.
    s = Settings(modes=("walk",), facility_types=("gp",), walk_speed_kmh=3.6,
                 connector_speed_kmh={"walk": 3.6, "bike": 15.0, "car": 15.0})
    net = make_network([(0, 0), (2000, 0)], both_ways([(0, 1)]))
    fac = pd.DataFrame({"facility_id": ["a", "b"], "type": ["gp", "gp"],
                        "x": [100.0, 1000.0], "y": [10.0, -10.0]})
    cell_x = np.array([400.0, 1900.0, 1000.0, 400.0])
    cell_y = np.array([20.0, 0.0, 5000.0, 20.0])  # cell 2 is unlinked; 3 shares 0's spot
    pairs = capacity.catchment_pairs(net, cell_x, cell_y, fac, s, "walk", 700.0)
    got = sorted(zip(pairs.facility.tolist(), pairs.cell.tolist(), pairs.time_s.tolist()))
    # a -> cell 0: 10 + 300 + 20 = 330; b -> cell 0: 10 + 600 + 20 = 630;
    # b -> cell 1: 10 + 900 = 910 > 700, left out.
    assert [(f, c) for f, c, _ in got] == [(0, 0), (0, 3), (1, 0), (1, 3)]
    np.testing.assert_allclose([t for _, _, t in got], [330.0, 330.0, 630.0, 630.0])
    # The fastest pair per cell is access's nearest time.
    table = access_measures.compute_access({"walk": net}, cell_x, cell_y, fac, s).table
    assert table["gp_walk_time_s"][0] == pytest.approx(330.0)


def test_catchment_pairs_agree_with_access_counts_and_nearest_times():
    # A 6 x 6 street grid (200 m blocks) with random cells and facilities;
    # access.compute_access counts facilities within thresholds by another kernel.
    rng = np.random.default_rng(3)
    coords = [(200.0 * i, 200.0 * j) for j in range(6) for i in range(6)]
    streets = [(j * 6 + i, j * 6 + i + 1) for j in range(6) for i in range(5)]
    streets += [(j * 6 + i, (j + 1) * 6 + i) for j in range(5) for i in range(6)]
    net = make_network(coords, both_ways(streets))
    s = Settings(modes=("walk",), facility_types=("gp",), walk_speed_kmh=3.6,
                 connector_speed_kmh={"walk": 3.6, "bike": 15.0, "car": 15.0},
                 thresholds_min=(5, 10))
    fac = pd.DataFrame({"facility_id": [f"f{i}" for i in range(7)], "type": "gp",
                        "x": rng.uniform(0, 1000, 7), "y": rng.uniform(0, 1000, 7)})
    cell_x, cell_y = rng.uniform(0, 1000, 80), rng.uniform(0, 1000, 80)
    pairs = capacity.catchment_pairs(net, cell_x, cell_y, fac, s, "walk", 600.0)
    table = access_measures.compute_access({"walk": net}, cell_x, cell_y, fac, s).table
    for minutes in (5, 10):
        within = pairs.cell[pairs.time_s <= minutes * 60.0]
        np.testing.assert_array_equal(np.bincount(within, minlength=80),
                                      table[f"gp_walk_n_{minutes}min"].to_numpy(int))
    nearest = np.full(80, np.inf)
    np.minimum.at(nearest, pairs.cell, pairs.time_s)
    expected = table["gp_walk_time_s"].to_numpy()
    close = expected <= 600.0
    np.testing.assert_allclose(nearest[close], expected[close], rtol=1e-12)
    assert np.isinf(nearest[~close]).all()


# -- 2SFCA without pairs -----------------------------------------------------

def test_pair_free_catchments_by_hand():
    # Road 0 -- 1 -- 2 (one way each direction, 100 s per edge). Facility A
    # at node 0 (capacity 30), B at node 2 (capacity 10); cells at nodes 0, 1,
    # 2 with demand 10, 20, 10 and a catchment of 100 s: A serves cells 0, 1
    # (D = 30, R = 1), B serves cells 1, 2 (D = 30, R = 1/3).
    indptr = np.array([0, 1, 3, 4])
    indices = np.array([1, 0, 2, 1])
    time_ms = np.full(4, 100_000.0)
    reach = capacity.LinkedCatchments((indptr, indices, time_ms), np.array([0, 1, 2]),
                                      np.zeros(3), np.array([0, 2]), np.zeros(2))
    cell_ratio, fac_ratio, demand_in = reach.ratios(
        np.array([0, 1]), np.array([10.0, 20.0, 10.0]), np.array([30.0, 10.0]), 100.0,
        Settings())
    np.testing.assert_allclose(demand_in, [30.0, 30.0])
    np.testing.assert_allclose(fac_ratio, [1.0, 1 / 3])
    np.testing.assert_allclose(cell_ratio, [1.0, 4 / 3, 1 / 3])


@pytest.mark.parametrize("decay_name, param", [("step", 0.0), ("linear", 0.0),
                                               ("gaussian", 4.0)])
@hsettings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_pair_free_catchments_equal_the_pairs(decay_name, param, seed):
    # Random streets, cells and facilities (some unlinked, some sharing a
    # spot): the two searches per facility give the ratios of the listed pairs.
    rng = np.random.default_rng(seed)
    k = 5
    coords = [(150.0 * i, 150.0 * j) for j in range(k) for i in range(k)]
    streets = [(j * k + i, j * k + i + 1) for j in range(k) for i in range(k - 1)]
    streets += [(j * k + i, (j + 1) * k + i) for j in range(k - 1) for i in range(k)]
    keep = rng.random(len(streets)) < 0.8
    edges = both_ways([e for e, kept in zip(streets, keep) if kept])
    one_way = [e for e, kept in zip(streets, keep) if not kept and rng.random() < 0.5]
    net = make_network(coords, edges + one_way)
    s = Settings(modes=("walk",), facility_types=("gp",), walk_speed_kmh=3.6,
                 connector_speed_kmh={"walk": 3.6, "bike": 15.0, "car": 15.0},
                 fca_decay=decay_name, fca_decay_param=param, max_link_distance_m=120.0)
    n_fac, n_cells = int(rng.integers(1, 6)), int(rng.integers(1, 40))
    fac = pd.DataFrame({"facility_id": [f"f{i}" for i in range(n_fac)], "type": "gp",
                        "x": rng.uniform(-50, 650, n_fac), "y": rng.uniform(-50, 650, n_fac)})
    cell_x, cell_y = rng.uniform(-100, 700, n_cells), rng.uniform(-100, 700, n_cells)
    cell_x[n_cells // 2:] = cell_x[:n_cells - n_cells // 2]
    cell_y[n_cells // 2:] = cell_y[:n_cells - n_cells // 2]
    demand = rng.uniform(0, 50, n_cells) * (rng.random(n_cells) < 0.8)
    cap = rng.uniform(0, 100, n_fac)
    norm_s = float(rng.integers(60, 900))
    rows = np.arange(n_fac)
    pairs = capacity.catchment_pairs(net, cell_x, cell_y, fac, s, "walk", norm_s)
    expected = pairs.ratios(rows, demand, cap, norm_s, s)
    linked = capacity.LinkedCatchments.link(net, cell_x, cell_y, fac, s, "walk")
    got = linked.ratios(rows, demand, cap, norm_s, s)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12, equal_nan=True)


def test_pair_free_catchments_do_not_depend_on_the_thread_count():
    import numba

    rng = np.random.default_rng(5)
    k = 12
    coords = [(100.0 * i, 100.0 * j) for j in range(k) for i in range(k)]
    streets = [(j * k + i, j * k + i + 1) for j in range(k) for i in range(k - 1)]
    streets += [(j * k + i, (j + 1) * k + i) for j in range(k - 1) for i in range(k)]
    net = make_network(coords, both_ways(streets))
    s = Settings(modes=("walk",), facility_types=("gp",), fca_decay="linear")
    fac = pd.DataFrame({"facility_id": [f"f{i}" for i in range(30)], "type": "gp",
                        "x": rng.uniform(0, 1100, 30), "y": rng.uniform(0, 1100, 30)})
    cell_x, cell_y = rng.uniform(0, 1100, 300), rng.uniform(0, 1100, 300)
    reach = capacity.LinkedCatchments.link(net, cell_x, cell_y, fac, s, "walk")
    args = (np.arange(30), rng.uniform(0, 9, 300), rng.uniform(1, 9, 30), 600.0, s)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = reach.ratios(*args)
        numba.set_num_threads(before)
        many = reach.ratios(*args)
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, many):
        assert a.tobytes() == b.tobytes()


def test_catchments_on_the_hierarchy_equal_the_searches():
    # The travel times' linked graph with a contraction hierarchy: the
    # catchments run through entries and direct pairs, with the same ratios.
    from bereikbaarheid.kernels import ch
    from bereikbaarheid.networks import cache

    rng = np.random.default_rng(11)
    k = 9
    coords = [(120.0 * i + rng.uniform(-20, 20), 120.0 * j + rng.uniform(-20, 20))
              for j in range(k) for i in range(k)]
    streets = [(j * k + i, j * k + i + 1) for j in range(k) for i in range(k - 1)]
    streets += [(j * k + i, (j + 1) * k + i) for j in range(k - 1) for i in range(k)]
    one_way = rng.random(len(streets)) < 0.15
    edges = [e for e, o in zip(streets, one_way) if o] + both_ways(
        [e for e, o in zip(streets, one_way) if not o])
    net = make_network(coords, edges)
    s = Settings(modes=("walk",), facility_types=("gp",), walk_speed_kmh=3.6,
                 connector_speed_kmh={"walk": 3.6, "bike": 15.0, "car": 15.0},
                 fca_decay="linear")
    n_fac, n_cells = 25, 300
    fac = pd.DataFrame({"facility_id": [f"f{i}" for i in range(n_fac)], "type": "gp",
                        "x": rng.uniform(-30, 1000, n_fac), "y": rng.uniform(-30, 1000, n_fac)})
    cell_x, cell_y = rng.uniform(-60, 1040, n_cells), rng.uniform(-60, 1040, n_cells)
    h = ch.build_hierarchy(*cache._search_graph(net))
    state = access_measures.compute_access({"walk": net}, cell_x, cell_y, fac, s,
                                           hierarchies={"walk": h}).state
    fast = capacity.LinkedCatchments.of_mode(state.modes["walk"])
    assert fast.mode_state.hierarchy is h
    plain = capacity.LinkedCatchments.link(net, cell_x, cell_y, fac, s, "walk")
    args = (np.arange(n_fac), rng.uniform(0, 50, n_cells), rng.uniform(10, 90, n_fac))
    for norm_s in (120.0, 400.0, 900.0):
        got = fast.ratios(*args, norm_s, s)
        expected = plain.ratios(*args, norm_s, s)
        assert np.count_nonzero(expected[0]) > 10
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=0, equal_nan=True)
