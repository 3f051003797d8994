"""GTFS reading and validation: services, midnight, frequencies, stations, clipping, errors."""

from __future__ import annotations

import copy

import numpy as np
import pyproj
import pytest
import shapely
from gtfsutil import every_day, stop_times, write_feed

from bereikbaarheid.config import Settings
from bereikbaarheid.errors import GtfsError
from bereikbaarheid.sources import gtfs

SETTINGS = Settings()
TUESDAY = "2026-03-10"
H = 3600


def base_tables() -> dict:
    """A small feed around Utrecht, checked by eye.

    Station S holds stops A and B; C, D follow eastwards; E lies far north-east.
    - t1 (bus, weekdays): A 08:00 -> C 08:10 -> D 08:20; no boarding at D, no alighting at A
    - t2 (bus, daily): D 23:50 -> C 24:40 -> A 25:10 (runs past midnight)
    - t3 (ferry, daily template): C -> E in 20 min, every 20 min 06:00-07:00, exact_times 1
    - t4 (ferry, daily template): C -> E in 20 min, every 30 min 22:00-24:30, exact_times 0
    - t5 (bus, only Saturday 2026-03-14 by calendar_dates): A 12:00 -> B 12:05
    - t6 (bus, daily): A 10:00 -> B -> C -> D 10:30, B and C untimed
    Weekday service "wk" is removed on Wednesday 2026-03-11.
    """
    def stop(stop_id, lon, lat, **extra):
        return {"stop_id": stop_id, "stop_name": f"Stop {stop_id}", "stop_lat": lat,
                "stop_lon": lon, "location_type": extra.get("location_type", ""),
                "parent_station": extra.get("parent_station", "")}

    wk = every_day("wk")
    wk.update(saturday=0, sunday=0)
    return {
        "agency": [{"agency_id": "ag", "agency_name": "Ag", "agency_url": "http://x",
                    "agency_timezone": "Europe/Amsterdam"}],
        "stops": [
            stop("S", 5.1005, 52.09, location_type=1),
            stop("A", 5.10, 52.09, parent_station="S"),
            stop("B", 5.101, 52.09, parent_station="S"),
            stop("C", 5.12, 52.09),
            stop("D", 5.14, 52.09),
            stop("E", 6.00, 53.00),
        ],
        "routes": [{"route_id": "bus", "route_short_name": "1", "route_type": 3},
                   {"route_id": "ferry", "route_short_name": "F", "route_type": 4}],
        "trips": [{"route_id": r, "service_id": s, "trip_id": t} for r, s, t in [
            ("bus", "wk", "t1"), ("bus", "all", "t2"), ("ferry", "all", "t3"),
            ("ferry", "all", "t4"), ("bus", "extra", "t5"), ("bus", "all", "t6")]],
        "stop_times": [
            {**row, "pickup_type": p, "drop_off_type": d} for row, (p, d) in zip(
                stop_times("t1", [("A", "08:00:00", "08:00:00"), ("C", "08:10:00", "08:10:00"),
                                  ("D", "08:20:00", "08:20:00")]),
                [(0, 1), (0, 0), (1, 0)])
        ] + stop_times("t2", [("D", "23:50:00", "23:50:00"), ("C", "24:40:00", "24:40:00"),
                              ("A", "25:10:00", "25:10:00")])
          + stop_times("t3", [("C", "6:00:00", "06:00:00"), ("E", "06:20:00", "06:20:00")])
          + stop_times("t4", [("C", "22:00:00", "22:00:00"), ("E", "22:20:00", "22:20:00")])
          + stop_times("t5", [("A", "12:00:00", "12:00:00"), ("B", "12:05:00", "12:05:00")])
          + stop_times("t6", [("A", "10:00:00", "10:00:00"), ("B", "", ""), ("C", "", ""),
                              ("D", "10:30:00", "10:30:00")]),
        "calendar": [wk, every_day("all")],
        "calendar_dates": [{"service_id": "extra", "date": "20260314", "exception_type": 1},
                           {"service_id": "wk", "date": "20260311", "exception_type": 2}],
        "frequencies": [
            {"trip_id": "t3", "start_time": "06:00:00", "end_time": "07:00:00",
             "headway_secs": 1200, "exact_times": 1},
            {"trip_id": "t4", "start_time": "22:00:00", "end_time": "24:30:00",
             "headway_secs": 1800, "exact_times": ""},
        ],
        "transfers": [
            {"from_stop_id": "S", "to_stop_id": "S", "transfer_type": 2, "min_transfer_time": 120},
            {"from_stop_id": "A", "to_stop_id": "B", "transfer_type": 2, "min_transfer_time": 60},
            {"from_stop_id": "C", "to_stop_id": "D", "transfer_type": 3, "min_transfer_time": ""},
        ],
    }


@pytest.fixture
def feed_zip(tmp_path):
    return write_feed(tmp_path / "base.zip", base_tables())


def trip_ids(feed, **where) -> set[str]:
    trips = feed.trips
    for column, value in where.items():
        trips = trips[trips[column] == value]
    return set(trips["trip_id"])


def times_of(feed, trip_id: str) -> list[tuple[str, int, int]]:
    """(stop_id, arrival_s, departure_s) along one trip."""
    index = feed.trips.index[feed.trips["trip_id"] == trip_id]
    assert len(index) == 1, trip_id
    rows = feed.stop_times[feed.stop_times["trip"] == index[0]]
    return [(feed.stops["stop_id"][s], int(a), int(d))
            for s, a, d in zip(rows["stop"], rows["arrival_s"], rows["departure_s"])]


# --------------------------------------------------------------------------
# Services per day


def test_calendar_and_calendar_dates_select_the_services(feed_zip):
    tuesday = gtfs.read_gtfs(feed_zip, TUESDAY, SETTINGS)
    assert {"t1", "t2", "t6"} <= trip_ids(tuesday, day_offset=0)
    assert "t5" not in {t.split("@")[0] for t in tuesday.trips["trip_id"]}

    wednesday = gtfs.read_gtfs(feed_zip, "2026-03-11", SETTINGS)  # "wk" removed that day
    assert "t1" not in trip_ids(wednesday, day_offset=0)
    # Tuesday's trip, a day back, named by its service day.
    assert "t1~2026-03-10" in trip_ids(wednesday, day_offset=-1)
    assert times_of(wednesday, "t1~2026-03-10")[0] == ("A", 8 * H - 86400, 8 * H - 86400)

    saturday = gtfs.read_gtfs(feed_zip, "2026-03-14", SETTINGS)  # "extra" added that day
    assert "t5" in trip_ids(saturday, day_offset=0)
    assert "t1" not in trip_ids(saturday, day_offset=0)
    assert saturday.service_date == "2026-03-14"
    assert saturday.period == ("2026-01-01", "2026-12-31")


def test_calendar_dates_alone_are_enough(tmp_path):
    tables = base_tables()
    del tables["calendar"]
    tables["trips"] = [t for t in tables["trips"] if t["trip_id"] == "t5"]
    tables["stop_times"] = [r for r in tables["stop_times"] if r["trip_id"] == "t5"]
    del tables["frequencies"]
    feed = gtfs.read_gtfs(write_feed(tmp_path / "f.zip", tables), "2026-03-14", SETTINGS)
    assert list(feed.trips["trip_id"]) == ["t5"]
    assert feed.period == ("2026-03-11", "2026-03-14")


# --------------------------------------------------------------------------
# Midnight


def test_previous_service_day_trip_runs_after_midnight(feed_zip):
    feed = gtfs.read_gtfs(feed_zip, TUESDAY, SETTINGS, window_s=(0, H))
    yesterday = feed.trips[feed.trips["trip_id"].str.startswith("t2")]
    assert list(yesterday["trip_id"]) == ["t2~2026-03-09"]
    assert list(yesterday["service_date"]) == ["2026-03-09"]
    assert list(yesterday["day_offset"]) == [-1]
    # 23:50 / 24:40 / 25:10 of Monday = -600 / 2400 / 4200 s on Tuesday.
    assert times_of(feed, "t2~2026-03-09") == [("D", -600, -600), ("C", 2400, 2400), ("A", 4200, 4200)]


def test_window_across_midnight(feed_zip):
    feed = gtfs.read_gtfs(feed_zip, TUESDAY, SETTINGS, window_s=(23 * H, 25 * H))
    got = sorted(zip(feed.trips["trip_id"], feed.trips["day_offset"]))
    # t4 22:00 and 22:30 end at 22:20 and 22:50, before the window.
    assert got == [("t2", 0), ("t4@23:00:00", 0), ("t4@23:30:00", 0), ("t4@24:00:00", 0)]
    assert times_of(feed, "t4@24:00:00") == [("C", 86400, 86400), ("E", 87600, 87600)]


def test_horizon_keeps_trips_departing_after_the_window(feed_zip):
    narrow = gtfs.read_gtfs(feed_zip, TUESDAY, SETTINGS, window_s=(7 * H, 7 * H + 600))
    assert "t1" not in trip_ids(narrow)  # departs 08:00
    wide = gtfs.read_gtfs(feed_zip, TUESDAY, SETTINGS, window_s=(7 * H, 7 * H + 600),
                          horizon_s=H)
    assert "t1" in trip_ids(wide)


# --------------------------------------------------------------------------
# Frequencies


def test_frequencies_expand_to_departures(feed_zip):
    feed = gtfs.read_gtfs(feed_zip, TUESDAY, SETTINGS)
    today = feed.trips[feed.trips["day_offset"] == 0]
    t3 = today[today["trip_id"].str.startswith("t3@")]
    assert list(t3["trip_id"]) == ["t3@06:00:00", "t3@06:20:00", "t3@06:40:00"]
    assert set(t3["exact_times"]) == {1} and t3["frequency_based"].all()
    assert times_of(feed, "t3@06:40:00") == [("C", 24000, 24000), ("E", 25200, 25200)]
    # 22:00 .. 24:00 every 30 min: end_time 24:30 is past midnight, 24:00 still departs.
    t4 = today[today["trip_id"].str.startswith("t4@")]
    assert list(t4["trip_id"]) == ["t4@22:00:00", "t4@22:30:00", "t4@23:00:00",
                                   "t4@23:30:00", "t4@24:00:00"]
    assert set(t4["exact_times"]) == {0}
    # Templates never run themselves; ordinary trips have exact_times -1.
    assert not ({"t3", "t4"} & set(feed.trips["trip_id"]))
    assert set(today.loc[~today["frequency_based"], "exact_times"]) == {-1}
    # Yesterday's 24:00 departure is today's midnight.
    assert times_of(feed, "t4@24:00:00~2026-03-09")[0] == ("C", 0, 0)
    assert times_of(feed, "t3@06:00:00~2026-03-11")[0] == ("C", 21600 + 86400, 21600 + 86400)
    assert feed.trips["trip_id"].is_unique


def test_stop_times_sorted_and_typed(feed_zip):
    feed = gtfs.read_gtfs(feed_zip, TUESDAY, SETTINGS)
    st = feed.stop_times
    assert st["trip"].dtype == np.int32 and st["arrival_s"].dtype == np.int32
    assert (np.diff(st["trip"]) >= 0).all()
    assert (st["arrival_s"] <= st["departure_s"]).all()
    same = np.diff(st["trip"]) == 0
    assert (np.diff(st["arrival_s"])[same] >= 0).all()
    assert list(feed.trips.index) == list(range(len(feed.trips)))
    assert list(feed.stops.index) == list(range(len(feed.stops)))


# --------------------------------------------------------------------------
# Stop times details


def test_missing_times_interpolated_evenly(feed_zip):
    feed = gtfs.read_gtfs(feed_zip, TUESDAY, SETTINGS, window_s=(9 * H, 11 * H))
    assert times_of(feed, "t6") == [("A", 36000, 36000), ("B", 36600, 36600),
                                    ("C", 37200, 37200), ("D", 37800, 37800)]
    warnings = [i for i in feed.report.warnings if "interpolated" in i.message]
    assert len(warnings) == 1 and warnings[0].message.startswith("2 ")


def test_missing_times_interpolated_by_shape_distance(tmp_path):
    tables = base_tables()
    dist = {"A": 0, "B": 1, "C": 4, "D": 6}
    for row in tables["stop_times"]:
        if row["trip_id"] == "t6":
            row["shape_dist_traveled"] = dist[row["stop_id"]]
    feed = gtfs.read_gtfs(write_feed(tmp_path / "f.zip", tables), TUESDAY, SETTINGS,
                          window_s=(9 * H, 11 * H))
    # 30 minutes over distance 6: B at 1/6 (10:05), C at 4/6 (10:20).
    assert times_of(feed, "t6")[1:3] == [("B", 36300, 36300), ("C", 37200, 37200)]


def test_only_one_time_given_is_copied(tmp_path):
    tables = base_tables()
    tables["stop_times"][1]["departure_time"] = ""  # t1 at C
    feed = gtfs.read_gtfs(write_feed(tmp_path / "f.zip", tables), TUESDAY, SETTINGS,
                          window_s=(8 * H, 9 * H))
    assert times_of(feed, "t1")[1] == ("C", 8 * H + 600, 8 * H + 600)


def test_pickup_and_dropoff(feed_zip):
    feed = gtfs.read_gtfs(feed_zip, TUESDAY, SETTINGS, window_s=(8 * H, 9 * H))
    index = feed.trips.index[feed.trips["trip_id"] == "t1"][0]
    rows = feed.stop_times[feed.stop_times["trip"] == index]
    assert list(rows["pickup"]) == [True, True, False]
    assert list(rows["dropoff"]) == [False, True, True]


# --------------------------------------------------------------------------
# Stations and transfers


def test_parent_stations_and_transfers(feed_zip):
    feed = gtfs.read_gtfs(feed_zip, TUESDAY, SETTINGS)
    stops = feed.stops.set_index("stop_id")
    assert "S" not in stops.index  # a station is no routing stop
    assert stops.loc["A", "station_id"] == "S" and stops.loc["B", "station_id"] == "S"
    assert stops.loc["C", "station_id"] == ""
    ids = feed.stops["stop_id"]
    got = {(ids[f], ids[t]): (k, m) for f, t, k, m in feed.transfers.itertuples(index=False)}
    # S -> S expands to every child pair (120 s); the stop-level rule A -> B wins (60 s).
    assert got == {("A", "A"): (2, 120), ("A", "B"): (2, 60), ("B", "A"): (2, 120),
                   ("B", "B"): (2, 120), ("C", "D"): (3, 0)}
    assert feed.transfers["min_transfer_s"].dtype == np.int32
    # Projected to RD New: A lies west of C, about 1.37 km apart.
    assert stops.loc["C", "x"] - stops.loc["A", "x"] == pytest.approx(1370, abs=20)


def test_transfer_warnings(tmp_path):
    tables = base_tables()
    tables["transfers"] += [
        {"from_stop_id": "A", "to_stop_id": "ZZ", "transfer_type": 0, "min_transfer_time": ""},
        {"from_stop_id": "A", "to_stop_id": "C", "transfer_type": 4, "min_transfer_time": ""},
        {"from_stop_id": "D", "to_stop_id": "C", "transfer_type": 2, "min_transfer_time": ""},
    ]
    feed = gtfs.read_gtfs(write_feed(tmp_path / "f.zip", tables), TUESDAY, SETTINGS)
    issues = {(i.row, i.field): i.message for i in feed.report.warnings if i.file == "transfers.txt"}
    assert "unknown stop" in issues[(5, "to_stop_id")]
    assert "in-seat" in issues[(6, "transfer_type")]
    assert "without min_transfer_time" in issues[(7, "min_transfer_time")]
    ids = feed.stops["stop_id"]
    pairs = {(ids[f], ids[t]): m for f, t, _, m in feed.transfers.itertuples(index=False)}
    assert pairs[("D", "C")] == 0 and ("A", "C") not in pairs


# --------------------------------------------------------------------------
# Area, several feeds, zip or folder


def test_clip_to_area_keeps_touching_trips_whole(feed_zip):
    to_rd = pyproj.Transformer.from_crs("EPSG:4326", SETTINGS.crs, always_xy=True)
    x, y = to_rd.transform(6.0, 53.0)
    area = shapely.Point(x, y).buffer(500)  # around E only
    feed = gtfs.read_gtfs(feed_zip, TUESDAY, SETTINGS, area=area)
    assert set(feed.stops["stop_id"]) == {"C", "E"}  # C kept: the ferries touching E start there
    assert {t.split("@")[0] for t in feed.trips["trip_id"]} == {"t3", "t4"}
    assert feed.transfers.empty  # C -> D dropped with D


def test_two_feeds_merged_with_qualified_ids(tmp_path):
    north = write_feed(tmp_path / "north.zip", base_tables())
    south = write_feed(tmp_path / "south", base_tables(), as_zip=False)
    single = gtfs.read_gtfs(north, TUESDAY, SETTINGS)
    both = gtfs.read_gtfs([north, south], TUESDAY, SETTINGS)
    assert len(both.trips) == 2 * len(single.trips)
    assert len(both.stops) == 2 * len(single.stops)
    assert set(both.stops["stop_id"]) == {f"{f}:{s}" for f in ("north", "south")
                                          for s in single.stops["stop_id"]}
    assert "south:S" in set(both.stops["station_id"])
    assert "north:t1" in set(both.trips["trip_id"]) and "south:bus" in set(both.trips["route_id"])
    assert len(both.transfers) == 2 * len(single.transfers)
    assert times_of(both, "south:t6")[1][0] == "south:B"


def test_zip_and_folder_read_alike(tmp_path):
    tables = base_tables()
    a = gtfs.read_gtfs(write_feed(tmp_path / "f.zip", tables), TUESDAY, SETTINGS)
    b = gtfs.read_gtfs(write_feed(tmp_path / "f", tables, as_zip=False), TUESDAY, SETTINGS)
    for name in ("stops", "trips", "stop_times", "transfers"):
        assert getattr(a, name).equals(getattr(b, name)), name


def test_bom_and_whitespace(tmp_path):
    tables = base_tables()
    path = write_feed(tmp_path / "f", tables, as_zip=False)
    text = (path / "routes.txt").read_text()
    lines = text.splitlines()
    lines[0] = " route_id , route_short_name ,route_type"
    lines[1] = "bus , 1 , 3 "
    (path / "routes.txt").write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    feed = gtfs.read_gtfs(path, TUESDAY, SETTINGS)
    assert "bus" in set(feed.trips["route_id"]) and 3 in set(feed.trips["route_type"])


# --------------------------------------------------------------------------
# Fatal problems and warnings


def _without_file(name):
    def change(t):
        del t[name]
    return change


def _set(file, row, **values):
    def change(t):
        t[file][row].update(values)
    return change


def _no_calendars(t):
    del t["calendar"], t["calendar_dates"]


def _drop_column(file, column):
    def change(t):
        for row in t[file]:
            row.pop(column, None)
    return change


# (change, date, expected text in the error message). stop_times rows: t1 is
# lines 2-4, t2 5-7, t3 8-9, t4 10-11, t5 12-13, t6 14-17.
FATAL_CASES = {
    "missing stops": (_without_file("stops"), TUESDAY, "stops.txt: required file missing"),
    "no calendar": (_no_calendars, TUESDAY, "calendar_dates.txt is present"),
    "missing column": (_drop_column("stop_times", "stop_sequence"), TUESDAY,
                       "stop_times.txt field stop_sequence: required column missing"),
    "outside period": (lambda t: None, "2027-01-05",
                       "2027-01-05 is outside the feed's service period 2026-01-01 .. 2026-12-31"),
    "out of order": (_set("stop_times", 1, arrival_time="07:59:00", departure_time="07:59:00"),
                     TUESDAY, "stop_times.txt row 3 field arrival_time: arrival before"),
    "departure before arrival": (_set("stop_times", 1, departure_time="08:09:00"), TUESDAY,
                                 "stop_times.txt row 3 field departure_time: departure before"),
    "unknown trip": (_set("stop_times", 2, trip_id="nope"), TUESDAY,
                     "stop_times.txt row 4 field trip_id: unknown trip_id"),
    "unknown stop": (_set("stop_times", 2, stop_id="nope"), TUESDAY,
                     "stop_times.txt row 4 field stop_id: unknown stop_id"),
    "station in stop_times": (_set("stop_times", 2, stop_id="S"), TUESDAY,
                              "stop_times.txt row 4 field stop_id: stop_id is a station"),
    "unknown route": (_set("trips", 0, route_id="nope"), TUESDAY,
                      "trips.txt row 2 field route_id: unknown route_id"),
    "unknown service": (_set("trips", 1, service_id="nope"), TUESDAY,
                        "trips.txt row 3 field service_id: service_id in neither"),
    "bad time": (_set("stop_times", 0, departure_time="8h00"), TUESDAY,
                 "stop_times.txt row 2 field departure_time: not a time (H:MM:SS): '8h00'"),
    "bad date": (_set("calendar", 0, end_date="2026-12-31"), TUESDAY,
                 "calendar.txt row 2 field end_date: not a date"),
    "missing latitude": (_set("stops", 3, stop_lat=""), TUESDAY,
                         "stops.txt row 5 field stop_lat: latitude missing or out of range"),
    "latitude out of range": (_set("stops", 3, stop_lat=152.09), TUESDAY,
                              "stops.txt row 5 field stop_lat"),
    "duplicate sequence": (_set("stop_times", 2, stop_sequence=2), TUESDAY,
                           "field stop_sequence: duplicate stop_sequence"),
    "no first time": (_set("stop_times", 12, arrival_time="", departure_time=""), TUESDAY,
                      "stop_times.txt row 14 field arrival_time: no time at the first or last"),
    "frequency of unknown trip": (_set("frequencies", 0, trip_id="nope"), TUESDAY,
                                  "frequencies.txt row 2 field trip_id: unknown trip_id"),
    "zero headway": (_set("frequencies", 1, headway_secs=0), TUESDAY,
                     "frequencies.txt row 3 field headway_secs: headway must be a positive number"),
}


@pytest.mark.parametrize("case", list(FATAL_CASES))
def test_fatal_problems_raise_naming_file_row_field(tmp_path, case):
    change, date, expected = FATAL_CASES[case]
    tables = copy.deepcopy(base_tables())
    change(tables)
    path = write_feed(tmp_path / "bad.zip", tables)
    with pytest.raises(GtfsError) as info:
        gtfs.read_gtfs(path, date, SETTINGS)
    assert expected in str(info.value)
    assert info.value.report.fatal
    # validate_gtfs reports the same without raising.
    report = gtfs.validate_gtfs(path, date)
    assert any(expected.split(": ", 1)[-1][:20] in str(i) for i in report.fatal)


def test_no_service_on_the_date(tmp_path):
    tables = base_tables()
    for row in tables["trips"]:
        row["service_id"] = "wk"
    del tables["frequencies"]
    path = write_feed(tmp_path / "f.zip", tables)
    with pytest.raises(GtfsError, match="no service is active on 2026-03-11"):
        gtfs.read_gtfs(path, "2026-03-11", SETTINGS)


def test_warnings_do_not_stop_the_run(tmp_path):
    tables = base_tables()
    tables["stops"][4]["parent_station"] = "nowhere"
    tables["stops"].append({"stop_id": "lonely", "stop_name": "x", "stop_lat": 52, "stop_lon": 5})
    tables["routes"][0]["route_type"] = 99
    tables["frequencies"].append({"trip_id": "t3", "start_time": "06:30:00",
                                  "end_time": "08:00:00", "headway_secs": 600})
    feed = gtfs.read_gtfs(write_feed(tmp_path / "f.zip", tables), TUESDAY, SETTINGS)
    report = feed.report
    assert not report.fatal
    found = {(i.file, i.row, i.field) for i in report.warnings}
    assert ("stops.txt", 6, "parent_station") in found
    assert ("routes.txt", 2, "route_type") in found
    assert ("frequencies.txt", 4, "start_time") in found
    assert any("not used by any trip" in i.message for i in report.warnings)
    frame = report.to_frame()
    assert list(frame.columns) == ["feed", "file", "row", "field", "severity", "message"]
    assert set(frame["severity"]) == {"warning"}
    assert "warning" in report.summary()
    assert feed.stops.set_index("stop_id").loc["D", "station_id"] == ""


def test_many_bad_rows_are_summarised(tmp_path):
    tables = base_tables()
    tables["transfers"] = [{"from_stop_id": "A", "to_stop_id": f"Z{k}", "transfer_type": 0}
                           for k in range(50)]
    report = gtfs.validate_gtfs(write_feed(tmp_path / "f.zip", tables))
    rows = [i for i in report.warnings if i.file == "transfers.txt"]
    assert len(rows) == gtfs.MAX_ROWS_REPORTED + 1
    assert rows[-1].row is None and rows[-1].message.startswith("50 rows")


# --------------------------------------------------------------------------
# The real fixture: Dutch ferries, hourly frequencies 00:00 .. 24:00:39, 2018-2020


FERRY_TEMPLATE = "aeaaaa37-cc0b-4e2e-9956-b5756e5d5a5f_trip"


def test_dutch_ferries(shared_data):
    path = shared_data / "gtfs" / "dutch-ferries.zip"
    report = gtfs.validate_gtfs(path, "2019-03-12")
    assert not report.fatal, report.to_frame()

    feed = gtfs.read_gtfs(path, "2019-03-12", SETTINGS)  # a Tuesday
    assert feed.period == ("2018-01-01", "2020-12-31")
    assert set(feed.trips["route_type"]) == {4}
    assert feed.trips["frequency_based"].all() and set(feed.trips["exact_times"]) == {0}
    trips = feed.trips[feed.trips["trip_id"].str.startswith(FERRY_TEMPLATE + "@")]
    today = trips[trips["day_offset"] == 0]
    # Hourly from 00:00 up to and including 24:00, because end_time 24:00:39 > 24:00:00.
    assert list(today["trip_id"]) == [f"{FERRY_TEMPLATE}@{h:02d}:00:00" for h in range(25)]
    first = feed.stop_times.groupby("trip")["departure_s"].first()
    assert list(first[today.index]) == [h * H for h in range(25)]
    # Yesterday's 24:00 crossing departs at today's midnight.
    late = trips[trips["trip_id"] == f"{FERRY_TEMPLATE}@24:00:00~2019-03-11"]
    assert list(first[late.index]) == [0]
    assert len(trips) == 3 * 25 and feed.trips["trip_id"].is_unique

    window = gtfs.read_gtfs(path, "2019-03-12", SETTINGS, window_s=(7 * H, 9 * H))
    by_trip = window.stop_times.groupby("trip")
    assert (by_trip["departure_s"].first() <= 9 * H).all()
    assert (by_trip["arrival_s"].last() >= 7 * H).all()
    assert len(window.trips) < len(feed.trips) and len(window.stops) <= len(feed.stops)

    with pytest.raises(GtfsError, match=r"outside the feed's service period 2018-01-01 \.\. 2020-12-31"):
        gtfs.read_gtfs(path, "2026-03-10", SETTINGS)
