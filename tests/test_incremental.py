"""Adding and closing facilities incrementally gives exactly a full rerun's tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from bereikbaarheid.config import Settings
from bereikbaarheid.measures import access

from netutil import make_network, street_grid

# Walk and car on one network (the car run adds the CBS distance); short
# thresholds so that counts differ between cells.
SETTINGS = Settings(modes=("walk", "car"), facility_types=("gp", "school"),
                    connector_speed_kmh={"walk": 3.6, "bike": 15.0, "car": 15.0},
                    thresholds_min=(1, 2, 4))
COLUMNS = ["facility_id", "type", "x", "y", "domestic"]


def _assert_same(incremental: access.AccessResult, full: access.AccessResult) -> None:
    pd.testing.assert_frame_equal(incremental.table, full.table, check_exact=True)
    assert incremental.report == full.report
    pd.testing.assert_frame_equal(incremental.state.facilities, full.state.facilities,
                                  check_exact=True)
    # Not only at the cells: every node of every search agrees.
    for mode, ms in full.state.modes.items():
        got = incremental.state.modes[mode]
        for name in ("nearest", "cbs"):
            for ftype, search in getattr(ms, name).items():
                for a, b in zip(getattr(got, name)[ftype].arrays(), search.arrays()):
                    np.testing.assert_array_equal(a, b, err_msg=f"{mode} {name} {ftype}")


def _run(net, cells, facilities):
    return access.compute_access({"walk": net, "car": net}, cells[0], cells[1],
                                 facilities, SETTINGS)


# --------------------------------------------------------------------------
# By eye
# --------------------------------------------------------------------------

def _road():
    # A 1 km two-way road; walking at 1 m/s, so seconds = metres.
    return make_network([(0, 0), (1000, 0)], [(0, 1), (1, 0)])


def test_closing_the_nearest_gp_moves_its_cells_to_the_next_one_only():
    cells = (np.array([100.0, 450.0, 900.0]), np.array([0.0, 0.0, 0.0]))
    fac = pd.DataFrame([("a", "gp", 0.0, 0.0, True), ("b", "gp", 500.0, 0.0, True),
                        ("c", "gp", 1000.0, 0.0, True)], columns=COLUMNS)
    base = _run(_road(), cells, fac)
    assert list(base.table["gp_walk_facility_id"]) == ["a", "b", "c"]
    closed = access.close_facilities(base.state, ["b"])
    # Cell 1 (450 m) now walks 350 m back to a instead of 50 m to b.
    assert list(closed.table["gp_walk_facility_id"]) == ["a", "a", "c"]
    assert closed.table["gp_walk_time_s"][1] == 450.0
    _assert_same(closed, _run(_road(), cells, fac[fac.facility_id != "b"]))


def test_a_new_facility_on_the_segment_of_a_cell_ties_with_an_old_one():
    cells = (np.array([500.0]), np.array([0.0]))
    fac = pd.DataFrame([("east", "gp", 800.0, 0.0, True)], columns=COLUMNS)
    base = _run(_road(), cells, fac)
    new = pd.DataFrame([("west", "gp", 200.0, 0.0, True)], columns=COLUMNS)
    added = access.add_facilities(base.state, new)
    # Both 300 m away: the tie goes to the first in the table, the old one.
    assert added.table["gp_walk_facility_id"][0] == "east"
    assert added.table["gp_walk_time_s"][0] == 300.0
    assert added.table["gp_walk_n_4min"][0] == 0 and added.table["gp_walk_n_2min"][0] == 0
    _assert_same(added, _run(_road(), cells, pd.concat([fac, new], ignore_index=True)))


def test_closing_an_unknown_facility_is_an_error():
    base = _run(_road(), (np.array([0.0]), np.array([0.0])),
                pd.DataFrame([("a", "gp", 0.0, 0.0, True)], columns=COLUMNS))
    with pytest.raises(KeyError, match="nope"):
        access.close_facilities(base.state, ["nope"])


# --------------------------------------------------------------------------
# Property tests against a full rerun
# --------------------------------------------------------------------------

@st.composite
def _cases(draw):
    """A jittered or exact grid (exact grids make equal-time ties), with
    cells and facilities on segments, at nodes and on shared spots."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = draw(st.integers(2, 4))
    jitter = draw(st.sampled_from([0.0, 20.0]))
    coords, edges = street_grid(rng, k, jitter)
    net = make_network(coords, edges)
    spots = []  # on the lattice (quarters of a block, 0 or 10 m off), or anywhere
    for _ in range(12):
        if rng.uniform() < 0.6:
            spots.append((rng.integers(0, 4 * (k - 1) + 1) * 25.0,
                          rng.integers(0, k) * 100.0 + rng.choice([0.0, 10.0])))
        else:
            spots.append(tuple(rng.uniform(-30, k * 100 + 30, 2)))
    n_cells = draw(st.integers(1, 8))
    cell_spots = [spots[i] for i in rng.integers(0, len(spots), n_cells)]
    n_fac = draw(st.integers(2, 7))
    fac = pd.DataFrame({
        "facility_id": [f"f{i}" for i in range(n_fac)],
        "type": rng.choice(["gp", "school"], n_fac),
        # Facilities share spots with each other and with cells.
        "x": [0.0] * n_fac, "y": [0.0] * n_fac,
        "domestic": rng.uniform(size=n_fac) < 0.8,
    })
    fac[["x", "y"]] = [spots[i] for i in rng.integers(0, len(spots), n_fac)]
    cells = (np.array([s[0] for s in cell_spots]), np.array([s[1] for s in cell_spots]))
    return net, cells, fac


@hsettings(max_examples=40, deadline=None)
@given(_cases(), st.data())
def test_adding_facilities_equals_a_full_rerun(case, data):
    net, cells, fac = case
    k = data.draw(st.integers(1, len(fac) - 1))
    base = _run(net, cells, fac.iloc[:k])
    added = access.add_facilities(base.state, fac.iloc[k:])
    _assert_same(added, _run(net, cells, fac))


@hsettings(max_examples=40, deadline=None)
@given(_cases(), st.data())
def test_closing_facilities_equals_a_full_rerun(case, data):
    net, cells, fac = case
    base = _run(net, cells, fac)
    if data.draw(st.booleans()):
        # The GP nearest to the most cells.
        ids = base.table["gp_walk_facility_id"].dropna()
        ids = [ids.value_counts().index[0]] if len(ids) else ["f0"]
    else:
        ids = data.draw(st.lists(st.sampled_from(list(fac.facility_id)), min_size=1,
                                 max_size=3, unique=True))
    closed = access.close_facilities(base.state, ids)
    _assert_same(closed, _run(net, cells, fac[~fac.facility_id.isin(ids)]))


@hsettings(max_examples=25, deadline=None)
@given(_cases(), st.data())
def test_a_chain_of_closing_and_adding_equals_a_full_rerun(case, data):
    net, cells, fac = case
    k = data.draw(st.integers(1, len(fac) - 1))
    state = _run(net, cells, fac.iloc[:k]).state
    first = fac.facility_id[data.draw(st.integers(0, k - 1))]
    state = access.close_facilities(state, [first]).state
    result = access.add_facilities(state, fac.iloc[k:])
    expected = pd.concat([fac.iloc[:k][fac.iloc[:k].facility_id != first], fac.iloc[k:]],
                         ignore_index=True)
    _assert_same(result, _run(net, cells, expected))


def test_demo_region_close_a_village_gp_and_add_a_school(demo_region, tmp_path):
    from bereikbaarheid.networks import cache
    from bereikbaarheid.sources import grid

    settings = Settings()
    networks, _, _ = cache.load_or_build(demo_region.osm, settings, tmp_path / "cache")
    cells = grid.read_grid(demo_region.grid_100m, settings).cells
    x, y = cells.geometry.centroid.x.to_numpy(), cells.geometry.centroid.y.to_numpy()
    fac = pd.read_csv(demo_region.facilities_csv)[["facility_id", "type", "x", "y"]]
    fac = fac[fac["type"].isin(settings.facility_types)].reset_index(drop=True)
    base = access.compute_access(networks, x, y, fac, settings)
    # The village GP: the one nearest (by car) to the fewest cells.
    gp = base.table["gp_car_facility_id"].value_counts().index[-1]
    closed = access.close_facilities(base.state, [gp])
    rest = fac[fac.facility_id != gp]
    _assert_same(closed, access.compute_access(networks, x, y, rest, settings))
    # Only the cells whose nearest GP it was changed, and they got slower.
    for mode in base.state.modes:
        before, after = base.table, closed.table
        served = (before[f"gp_{mode}_facility_id"] == gp).to_numpy()
        assert served.any() or mode != "car"
        for col in (f"gp_{mode}_time_s", f"gp_{mode}_distance_m", f"gp_{mode}_facility_id"):
            pd.testing.assert_series_equal(before[col][~served], after[col][~served],
                                           check_exact=True)
        assert (after[f"gp_{mode}_time_s"][served].fillna(np.inf)
                > before[f"gp_{mode}_time_s"][served]).all()
    # A new school in the village, at the closed GP's address.
    spot = fac[fac.facility_id == gp]
    school = pd.DataFrame({"facility_id": ["new school"], "type": ["school"],
                           "x": spot["x"].to_numpy(), "y": spot["y"].to_numpy()})
    added = access.add_facilities(closed.state, school)
    _assert_same(added, access.compute_access(
        networks, x, y, pd.concat([rest, school], ignore_index=True), settings))
    assert (added.table["school_car_facility_id"] == "new school").any()


# --------------------------------------------------------------------------
# Counts on a contraction hierarchy
# --------------------------------------------------------------------------

def _hierarchy(net):
    from bereikbaarheid.kernels import ch
    from bereikbaarheid.networks import cache

    return ch.build_hierarchy(*cache._search_graph(net))


@hsettings(max_examples=60, deadline=None)
@given(_cases(), st.data())
def test_counts_on_the_hierarchy_equal_the_dijkstra_counts(case, data):
    # Cells and facilities on split roads, at nodes, sharing spots and roads:
    # the counts through entries, direct pairs and the hierarchy are exact.
    net, cells, fac = case
    h = _hierarchy(net)
    settings = SETTINGS if data.draw(st.booleans()) else Settings(
        modes=("walk", "car"), facility_types=("gp", "school"),
        connector_speed_kmh={"walk": 3.6, "bike": 15.0, "car": 15.0},
        thresholds_min=(1, 3, 5, 30))
    plain = access.compute_access({"walk": net, "car": net}, cells[0], cells[1], fac, settings)
    fast = access.compute_access({"walk": net, "car": net}, cells[0], cells[1], fac, settings,
                                 hierarchies={"walk": h, "car": h})
    _assert_same(fast, plain)
    # Incremental updates keep using it, and still equal a full rerun.
    k = data.draw(st.integers(1, len(fac) - 1))
    base = access.compute_access({"walk": net, "car": net}, cells[0], cells[1], fac.iloc[:k],
                                 settings, hierarchies={"walk": h, "car": h})
    added = access.add_facilities(base.state, fac.iloc[k:])
    _assert_same(added, plain)
    closed = access.close_facilities(fast.state, [fac.facility_id.iloc[0]])
    _assert_same(closed, access.compute_access(
        {"walk": net, "car": net}, cells[0], cells[1], fac.iloc[1:], settings))


@hsettings(max_examples=30, deadline=None)
@given(_cases(), st.data())
def test_closing_for_the_table_only_gives_the_same_table(case, data):
    # Without relinking (the closed facilities' split points stay in the
    # baseline's graph) and without a state: the table of a full rerun.
    net, cells, fac = case
    base = _run(net, cells, fac)
    ids = data.draw(st.lists(st.sampled_from(list(fac.facility_id)), min_size=1,
                             max_size=3, unique=True))
    closed = access.close_facilities(base.state, ids, table_only=True)
    assert closed.state is None
    full = _run(net, cells, fac[~fac.facility_id.isin(ids)])
    pd.testing.assert_frame_equal(closed.table, full.table, check_exact=True)
    # Times only (the closure impact's): the same columns, without counts
    # and CBS distances.
    times = access.close_facilities(base.state, ids, table_only=True, times_only=True).table
    kept = [c for c in full.table.columns if not ("_n_" in c or c.endswith("_cbs_distance_m"))]
    assert list(times.columns) == kept
    pd.testing.assert_frame_equal(times, full.table[kept], check_exact=True)
    # The baseline is left as it was.
    _assert_same(access.close_facilities(base.state, ids), full)
