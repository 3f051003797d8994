"""Real inputs from ../shared/data: the whole pipeline on the Amsterdam OSM extract and the
national municipality boundaries (EPSG:4289); the Dutch ferries GTFS routed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bereikbaarheid import RunConfig, Settings, run_profile

from gridutil import block, write_grid


@pytest.fixture(scope="module")
def amsterdam_run(shared_data, tmp_path_factory):
    work = tmp_path_factory.mktemp("amsterdam")
    # A CBS-style grid over the extract (Watergraafsmeer / Science Park).
    grid = write_grid(work / "grid.gpkg", block(123500, 483600, 10, 9))
    facilities = work / "facilities.csv"
    pd.DataFrame({
        "facility_id": ["gp1", "gp2", "s1", "s2", "m1", "m2"],
        "type": ["gp", "gp", "school", "school", "supermarket", "supermarket"],
        "x": [123700, 124400, 123900, 124200, 123600, 124450],
        "y": [483800, 484300, 484100, 483700, 484400, 483650],
    }).to_csv(facilities, index=False)
    config = RunConfig(
        region="amsterdam-oost",
        osm=shared_data / "osm" / "amsterdam-sciencepark.osm.pbf",
        grid=grid,
        municipalities=shared_data / "boundaries" / "gemeenten.geojson",
        facilities=facilities,
        municipality_codes=("0363",),
        output_dir=work / "profiles",
        cache_dir=work / "cache",
    )
    return run_profile(config)


def test_cells_fall_in_amsterdam_and_reach_every_type_by_every_mode(amsterdam_run):
    cells = amsterdam_run.cells
    assert len(cells) == 90
    assert set(cells["municipality_code"]) == {"GM0363"}
    for t in ("gp", "school", "supermarket"):
        for m in ("walk", "bike", "car"):
            assert cells[f"{t}_{m}_time_s"].notna().mean() > 0.9, (t, m)


def test_no_route_beats_the_straight_line(amsterdam_run):
    cells = amsterdam_run.cells
    fac = pd.read_csv(amsterdam_run.manifest["inputs"]["facilities"]["path"]).set_index(
        "facility_id")
    for t in ("gp", "school", "supermarket"):
        ok = cells[f"{t}_walk_facility_id"].notna()
        chosen = fac.loc[cells.loc[ok, f"{t}_walk_facility_id"]]
        crow_m = np.hypot(cells.loc[ok, "x"].to_numpy() - chosen["x"].to_numpy(),
                          cells.loc[ok, "y"].to_numpy() - chosen["y"].to_numpy())
        walk_s = cells.loc[ok, f"{t}_walk_time_s"].to_numpy()
        assert (walk_s >= crow_m / (5.0 / 3.6) - 1e-6).all()
        assert (cells.loc[ok, f"{t}_walk_distance_m"].to_numpy() >= crow_m - 1e-6).all()


def test_the_real_boundaries_give_a_region_and_municipality_row(amsterdam_run):
    summary = amsterdam_run.summary
    assert set(summary["area_code"]) == {"amsterdam-oost", "GM0363"}
    assert set(summary["area_name"]) >= {"Amsterdam"}
    assert amsterdam_run.manifest["facilities_abroad"] == {
        "gp": 0, "school": 0, "supermarket": 0}


def test_the_ferry_feed_routes_a_crossing_including_the_one_at_midnight(shared_data):
    from bereikbaarheid.kernels import raptor
    from bereikbaarheid.networks import timetable
    from bereikbaarheid.sources import gtfs

    # A Tuesday inside the feed's 2018-2020 period; every ferry sails hourly from
    # 00:00 until its end_time 24:00:39, so the last departure is 24:00:00.
    feed = gtfs.read_gtfs(shared_data / "gtfs/dutch-ferries.zip", "2019-03-12", Settings())
    tt = timetable.build_timetable(feed.stops, feed.trips, feed.stop_times, feed.transfers,
                                   service_date="2019-03-12")
    stops = feed.stops
    marken = stops.index[stops["stop_name"] == "Marken"]
    volendam = stops.index[stops["stop_name"] == "Volendam"]
    assert len(marken) == 1 and len(volendam) == 1
    # The Marken - Volendam ferry leaves on the hour and crosses in 29 minutes:
    # at the quay at 07:10, on the 08:00 boat, in Volendam at 08:29.
    arrival = raptor.earliest_arrival(tt, 7 * 3600 + 600, marken.to_numpy(), np.array([0]),
                                      max_rides=1)
    assert arrival[volendam[0]] == 8 * 3600 + 29 * 60
    # At 23:10 the next boat is the 24:00:00 one, arriving at 00:29 the next night.
    arrival = raptor.earliest_arrival(tt, 23 * 3600 + 600, marken.to_numpy(), np.array([0]),
                                      max_rides=1)
    assert arrival[volendam[0]] == 24 * 3600 + 29 * 60
