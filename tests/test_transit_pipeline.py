"""Public transport in the profile, end to end on the demo region and its GTFS feed."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bereikbaarheid import RunConfig, cli, run_profile
from bereikbaarheid.config import Settings
from bereikbaarheid.errors import GtfsError

TYPES = ("gp", "school", "supermarket")


def _config(demo_region, work, **settings) -> RunConfig:
    config = RunConfig.from_toml(demo_region.config, output_dir=work / "profiles",
                                 cache_dir=work / "cache")
    values = {**config.settings.to_dict(), "modes": ["walk", "pt"], **settings}
    config.settings = Settings.from_dict(values)
    return config


@pytest.fixture(scope="module")
def pt_run(demo_region, tmp_path_factory):
    work = tmp_path_factory.mktemp("pt")
    config = _config(demo_region, work)
    return config, run_profile(config)


def test_public_transport_columns_for_every_type(pt_run):
    cells = pt_run[1].cells
    for t in TYPES:
        p25, p50, p75 = (cells[f"{t}_pt_time_p{p}_s"] for p in (25, 50, 75))
        assert cells[f"{t}_pt_time_s"].equals(p50)
        both = p25.notna() & p75.notna()
        assert both.mean() > 0.9
        assert (p25[both] <= p50[both]).all() and (p50[both] <= p75[both]).all()
        assert cells[f"{t}_pt_facility_id"].notna().mean() > 0.9
        assert not any(c.startswith(f"{t}_pt_n_") for c in cells.columns)


def test_the_per_cell_method_gives_the_same_times_and_the_counts(pt_run, demo_region,
                                                                 tmp_path):
    profile = pt_run[1]
    per_cell = run_profile(_config(demo_region, tmp_path, pt_method="per-cell"))
    cells = per_cell.cells
    times = [c for c in profile.cells.columns if "_pt_time" in c]
    assert len(times) == 3 * 4
    pd.testing.assert_frame_equal(profile.cells[times], cells[times])
    pd.testing.assert_frame_equal(profile.summary, per_cell.summary)
    for t in TYPES:
        assert (cells[f"{t}_pt_n_30min"].dropna() >= cells[f"{t}_pt_n_15min"].dropna()).all()
    assert per_cell.manifest["transit"]["query"]["method"] == "per-cell"
    assert profile.manifest["transit"]["query"]["method"] == "profile"


def test_walking_all_the_way_always_counts_and_the_bus_helps_some(pt_run):
    cells = pt_run[1].cells
    for t in TYPES:
        walk, pt = cells[f"{t}_walk_time_s"], cells[f"{t}_pt_time_s"]
        linked = walk.notna()
        # PT times are whole seconds, rounded up from the walk's exact time.
        assert (pt[linked] <= walk[linked] + 1.0).all()
        assert ((walk - pt) > 300).sum() > 20, t


def test_the_manifest_records_the_query_and_the_feed(pt_run):
    config, result = pt_run
    transit = json.loads(result.files["manifest"].read_text())["transit"]
    assert transit["status"] == "built"
    assert transit["period"] == ["2026-01-01", "2026-12-31"]
    assert transit["query"]["date"] == "2026-03-10"
    assert transit["query"]["window"] == ["07:00", "09:00"]
    assert transit["query"]["percentiles"] == [25, 50, 75]
    assert transit["stats"]["trips"] > 0 and transit["stats"]["footpaths"] > 0
    assert transit["issues"] == {"fatal": 0, "warning": 0}
    assert transit["access"]["departures"] == 120
    issues = pd.read_csv(result.files["gtfs_issues"])
    assert list(issues.columns) == ["feed", "file", "row", "field", "severity", "message"]
    summary = result.summary
    assert set(summary["mode"]) == {"walk", "pt"}


def test_a_second_run_reuses_the_timetable_and_writes_the_same_bytes(pt_run):
    config, _ = pt_run
    # Other tests of this module may have written the folder since: run afresh.
    first = run_profile(config)
    before = {k: p.read_bytes() for k, p in first.files.items() if k != "manifest"}
    second = run_profile(config)
    assert second.manifest["transit"]["status"] == "reused"
    assert {k: p.read_bytes() for k, p in second.files.items() if k != "manifest"} == before


def test_a_damaged_cached_timetable_is_rebuilt(pt_run, demo_region, tmp_path):
    config, _ = pt_run
    import shutil
    shutil.copytree(config.cache_dir, tmp_path / "cache")
    npz = next((tmp_path / "cache").glob("gtfs.pt-2026-03-10.npz"))
    data = bytearray(npz.read_bytes())
    data[len(data) // 2] ^= 0xFF
    npz.write_bytes(bytes(data))
    other = _config(demo_region, tmp_path)
    other.cache_dir = tmp_path / "cache"
    result = run_profile(other)
    assert result.manifest["transit"]["status"] == "built"
    assert result.manifest["transit"]["reason"].startswith("verification failed")


def test_a_window_across_midnight_uses_the_night_trips(demo_region, tmp_path):
    config = _config(demo_region, tmp_path, pt_window=["23:30", "24:30"], pt_step_min=5)
    cells = run_profile(config).cells
    walk, pt = cells["gp_walk_time_s"], cells["gp_pt_time_s"]
    # The last buses leave at 23:30 and arrive after midnight: some cells gain.
    assert ((walk - pt) > 300).sum() > 0


def test_a_holiday_runs_the_sunday_service(demo_region, tmp_path):
    weekday = run_profile(_config(demo_region, tmp_path / "a"))
    holiday = run_profile(_config(demo_region, tmp_path / "b", pt_date="2026-04-27"))
    assert (holiday.manifest["transit"]["stats"]["trips"]
            < weekday.manifest["transit"]["stats"]["trips"])


def test_a_date_outside_the_feed_names_its_period(demo_region, tmp_path):
    with pytest.raises(GtfsError, match="2026-01-01"):
        run_profile(_config(demo_region, tmp_path, pt_date="2030-01-07"))


def test_bike_access_is_at_least_as_fast_as_walking_to_the_stop(pt_run, demo_region, tmp_path):
    bike = run_profile(_config(demo_region, tmp_path, pt_access_mode="bike")).cells
    walk = pt_run[1].cells
    for t in TYPES:
        a, b = walk[f"{t}_pt_time_s"], bike[f"{t}_pt_time_s"]
        both = a.notna() & b.notna()
        assert (b[both] <= a[both]).all()
        assert (b[both] < a[both]).sum() > 100


def test_gtfs_check_lists_problems_and_fails_on_fatal_ones(demo_region, tmp_path, capsys):
    assert cli.main(["gtfs-check", str(demo_region.gtfs), "--date", "2026-03-10"]) == 0
    assert "no issues" in capsys.readouterr().out
    assert cli.main(["gtfs-check", str(demo_region.gtfs), "--date", "2030-01-07",
                     "--csv", str(tmp_path / "issues.csv")]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith(f"error: {demo_region.gtfs}: 1 fatal problem(s)")
    issues = pd.read_csv(tmp_path / "issues.csv")
    assert (issues["severity"] == "fatal").any()
    assert issues["message"].str.contains("2026-12-31").any()


def test_the_profile_names_the_facility_nearest_at_the_most_departures(demo_region, tmp_path):
    """On the demo: per cell, the facility the per-cell range-RAPTOR finds
    nearest at the most departures (counted here in pandas) is the profile's."""
    import numpy as np

    from bereikbaarheid import pipeline
    from bereikbaarheid.measures import transit

    inputs = pipeline.prepare(_config(demo_region, tmp_path))
    settings, fac = inputs.config.settings, inputs.facilities
    x, y = inputs.cells["x"].to_numpy(), inputs.cells["y"].to_numpy()
    table = transit.compute_transit(inputs.timetable, inputs.networks, x, y, fac, settings).table
    n_dep = len(settings.pt_departures_s())
    for t in TYPES:
        mine = fac.loc[fac["type"] == t].reset_index(drop=True)
        near = transit.nearest_by_departure(inputs.timetable, inputs.networks, x, y, mine,
                                            settings)
        facility = np.repeat(np.arange(len(mine)), np.diff(near.indptr))
        counted = pd.DataFrame({"cell": near.entry // n_dep, "facility": facility})
        counted = counted.value_counts().rename("n").reset_index()
        counted = counted.sort_values(["cell", "n", "facility"], ascending=[True, False, True])
        usual = counted.drop_duplicates("cell").set_index("cell")["facility"]
        want = pd.Series(None, index=range(len(x)), dtype=object)
        want[usual.index] = mine["facility_id"].to_numpy(object)[usual.to_numpy()]
        got = table[f"{t}_pt_facility_id"]
        assert got.notna().sum() > 0.9 * len(x)
        assert list(got) == list(want), t
