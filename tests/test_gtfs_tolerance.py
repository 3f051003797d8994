"""GTFS as found in the wild: encodings, broken rows, empty files, the day past the end.

Each test writes a small feed by hand (as raw bytes where the bytes matter)
and checks the one issue, warning or error a user gets: file, row and what
was expected, never a traceback or a byte offset.
"""

from __future__ import annotations

import logging
import os
import zipfile

import pytest
import shapely
from gtfsutil import every_day, stop_times, table_text
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from bereikbaarheid.config import Settings
from bereikbaarheid.errors import (
    BereikbaarheidError,
    ConfigError,
    GtfsError,
    InputError,
)
from bereikbaarheid.sources import clip, gtfs

SETTINGS = Settings()
H = 3600
LAST_DAY = "2026-03-10"      # the mini feed's last service day (a Tuesday)
PAST_END = "2026-03-11"
EVERYWHERE = shapely.box(0, 0, 300_000, 700_000)  # RD New: all of the Netherlands


def mini_tables() -> dict:
    """One bus line A -> B -> C, every day of 2026-03-01 .. 2026-03-10.

    - day: A 08:00 -> B 08:10 -> C 08:20
    - late: A 23:30 -> B 24:40 -> C 25:35 (runs until 01:35 the next day)
    - night (template): A -> B in 10 min, every 30 min 23:00 .. 24:30, so
      departures 23:00, 23:30 and 24:00 (the last one 00:00-00:10 the next day)
    Stop rows: A is line 2, B line 3, C line 4.
    """
    return {
        "stops": [{"stop_id": s, "stop_name": f"Stop {s}", "stop_lat": 52.09, "stop_lon": lon}
                  for s, lon in (("A", 5.10), ("B", 5.12), ("C", 5.14))],
        "routes": [{"route_id": "bus", "route_short_name": "1", "route_type": 3}],
        "trips": [{"route_id": "bus", "service_id": "all", "trip_id": t}
                  for t in ("day", "late", "night")],
        "stop_times": stop_times("day", [("A", "08:00:00", "08:00:00"),
                                         ("B", "08:10:00", "08:10:00"),
                                         ("C", "08:20:00", "08:20:00")])
        + stop_times("late", [("A", "23:30:00", "23:30:00"), ("B", "24:40:00", "24:40:00"),
                              ("C", "25:35:00", "25:35:00")])
        + stop_times("night", [("A", "23:00:00", "23:00:00"), ("B", "23:10:00", "23:10:00")]),
        "calendar": [every_day("all", "20260301", "20260310")],
        "frequencies": [{"trip_id": "night", "start_time": "23:00:00", "end_time": "24:30:00",
                         "headway_secs": 1800}],
    }


def write_raw(path, tables: dict, as_zip: bool = True):
    """A feed whose files are rows (list of dicts), text (str, written as UTF-8) or bytes."""
    data = {}
    for name, rows in tables.items():
        if isinstance(rows, str):
            rows = rows.encode("utf-8")
        data[f"{name}.txt"] = rows if isinstance(rows, bytes) else table_text(rows).encode()
    if as_zip:
        with zipfile.ZipFile(path, "w") as archive:
            for file, raw in data.items():
                archive.writestr(file, raw)
    else:
        path.mkdir()
        for file, raw in data.items():
            (path / file).write_bytes(raw)
    return path


def issues_of(report, file=None, severity=None) -> list[str]:
    return [str(i) for i in report.issues
            if (file is None or i.file == file) and (severity is None or i.severity == severity)]


def stops_text(*rows: str, header: str = "stop_id,stop_name,stop_lat,stop_lon") -> str:
    return "\n".join([header, *rows]) + "\n"


STOPS = ("A,Stop A,52.09,5.10", "B,Stop B,52.09,5.12", "C,Stop C,52.09,5.14")


# --------------------------------------------------------------------------
# Decoding


@pytest.mark.parametrize("as_zip", [True, False], ids=["zip", "folder"])
def test_windows_1252_bytes_are_read_with_one_warning_naming_the_first_row(
        tmp_path, caplog, as_zip):
    tables = mini_tables()
    # Line 2 is UTF-8 (é as two bytes), line 3 Windows-1252 (é as 0xE9),
    # line 4 holds 0x81, a byte Windows-1252 leaves undefined (read as Latin-1).
    tables["stops"] = (stops_text("A,Café A,52.09,5.10").encode()
                       + "B,Café B,52.09,5.12\n".encode("cp1252")
                       + b"C,Stop \x81C,52.09,5.14\n")
    path = write_raw(tmp_path / "f.zip" if as_zip else tmp_path / "f", tables, as_zip)
    with caplog.at_level(logging.WARNING, logger="bereikbaarheid"):
        feed = gtfs.read_gtfs(path, LAST_DAY, SETTINGS)
    assert list(feed.stops["stop_name"]) == ["Café A", "Café B", "Stop \x81C"]
    expected = ("stops.txt row 3: not UTF-8 (the first such byte is in this row); bytes that "
                "are not UTF-8 read as Windows-1252 (GTFS expects UTF-8)")
    assert issues_of(feed.report, "stops.txt") == [expected]
    assert [r.getMessage() for r in caplog.records] == [f"GTFS f: {expected}"]
    # gtfs-check reports the same, as a warning.
    assert issues_of(gtfs.validate_gtfs(path), "stops.txt", "warning") == [expected]


def test_utf8_with_bom_reads_without_a_warning(tmp_path, caplog):
    tables = mini_tables()
    tables["stops"] = b"\xef\xbb\xbf" + stops_text("A,Café,52.09,5.10", *STOPS[1:]).encode()
    with caplog.at_level(logging.WARNING, logger="bereikbaarheid"):
        feed = gtfs.read_gtfs(write_raw(tmp_path / "f.zip", tables), LAST_DAY, SETTINGS)
    assert "Café" in set(feed.stops["stop_name"])
    assert not issues_of(feed.report, "stops.txt") and not caplog.records


def test_bytes_that_are_not_utf8_in_columns_never_read_are_harmless(tmp_path, caplog):
    tables = mini_tables()
    tables["stops"] = stops_text(*(f"{row},Caf\xe9" for row in STOPS),
                                 header="stop_id,stop_name,stop_lat,stop_lon,stop_desc"
                                 ).encode("cp1252")
    tables["agency"] = "agency_name,agency_url,agency_timezone\nRET\xe9,x,y\n".encode("cp1252")
    with caplog.at_level(logging.WARNING, logger="bereikbaarheid"):
        feed = gtfs.read_gtfs(write_raw(tmp_path / "f.zip", tables), LAST_DAY, SETTINGS)
    assert not issues_of(feed.report, "stops.txt") and not caplog.records


def test_utf16_is_named(tmp_path):
    tables = mini_tables()
    tables["stops"] = stops_text(*STOPS).encode("utf-16")
    report = gtfs.validate_gtfs(write_raw(tmp_path / "f.zip", tables))
    assert issues_of(report, "stops.txt", "fatal") == [
        "stops.txt: UTF-16 text; expected UTF-8 (GTFS text is UTF-8: save the file as UTF-8)"]


# --------------------------------------------------------------------------
# Broken rows, named by row


def test_row_with_more_fields_than_the_header_is_fatal_naming_its_row(tmp_path):
    tables = mini_tables()
    # An unquoted comma in the name of B shifts its coordinates: 5.12 would
    # be dropped and " Centrum" read as latitude.
    tables["stops"] = stops_text(STOPS[0], "B,Stop B, Centrum,52.09,5.12", STOPS[2])
    path = write_raw(tmp_path / "f.zip", tables)
    expected = ("stops.txt row 3: 5 fields, the header has 4; the values cannot be matched to "
                "their columns (expected quotes around a value holding a comma)")
    with pytest.raises(GtfsError) as info:
        gtfs.read_gtfs(path, LAST_DAY, SETTINGS)
    assert expected in str(info.value)
    assert issues_of(gtfs.validate_gtfs(path), "stops.txt", "fatal") == [expected]


def test_many_rows_with_surplus_fields_are_summarised(tmp_path):
    tables = mini_tables()
    tables["stops"] = stops_text(*STOPS, *(f"S{k},Stop,52.09,5.1,x" for k in range(25)))
    report = gtfs.validate_gtfs(write_raw(tmp_path / "f.zip", tables))
    fatal = issues_of(report, "stops.txt", "fatal")
    assert len(fatal) == gtfs.MAX_ROWS_REPORTED + 1
    assert fatal[0].startswith("stops.txt row 5: 5 fields, the header has 4")
    assert fatal[-1] == ("stops.txt: 25 rows in total with more fields than the header "
                         "(first 20 listed)")


def test_quoted_commas_and_quotes_and_empty_trailing_fields_are_fine(tmp_path):
    tables = mini_tables()
    tables["stops"] = stops_text('A,"Utrecht, ""Centraal""",52.09,5.10',
                                 "B,Stop B,52.09,5.12,",       # a comma ending the row
                                 "C,Stop C,52.09,5.14,,")
    feed = gtfs.read_gtfs(write_raw(tmp_path / "f.zip", tables), LAST_DAY, SETTINGS)
    assert list(feed.stops["stop_name"]) == ['Utrecht, "Centraal"', "Stop B", "Stop C"]
    assert list(feed.stops["lon"]) == [5.10, 5.12, 5.14]
    assert not issues_of(feed.report, "stops.txt")


@pytest.mark.parametrize("stops", [
    stops_text(*STOPS).replace("\n", "\r\n"),
    stops_text('A,"Stop\nA",52.09,5.10', *STOPS[1:]),
    stops_text(*STOPS, header="stop_id,stop_name,stop_lat,stop_lon,"),
    stops_text(*(",".join(f'"{v}"' for v in row.split(",")) for row in STOPS)),
], ids=["CRLF", "line break in a quoted value", "header ending in a comma", "all quoted"])
def test_well_formed_variants_read_without_issues(tmp_path, stops):
    tables = mini_tables()
    tables["stops"] = stops
    feed = gtfs.read_gtfs(write_raw(tmp_path / "f.zip", tables), LAST_DAY, SETTINGS)
    assert not issues_of(feed.report, "stops.txt")
    assert list(feed.stops["stop_id"]) == ["A", "B", "C"]
    assert list(feed.stops["lon"]) == [5.10, 5.12, 5.14]


def test_comma_ending_every_row_is_no_index_column(tmp_path):
    tables = mini_tables()
    tables["stops"] = stops_text(*(row + "," for row in STOPS))
    feed = gtfs.read_gtfs(write_raw(tmp_path / "f.zip", tables), LAST_DAY, SETTINGS)
    assert list(feed.stops["stop_id"]) == ["A", "B", "C"]
    assert list(feed.stops["lon"]) == [5.10, 5.12, 5.14]


def test_row_with_fewer_fields_warns_and_reads_them_empty(tmp_path):
    tables = mini_tables()
    tables["stops"] = stops_text(*STOPS, header="stop_id,stop_name,stop_lat,stop_lon,zone_id")
    tables["stops"] = tables["stops"].replace("C,Stop C,52.09,5.14\n", "C,Stop C,52.09,5.14,z\n")
    feed = gtfs.read_gtfs(write_raw(tmp_path / "f.zip", tables), LAST_DAY, SETTINGS)
    assert issues_of(feed.report, "stops.txt") == [
        "stops.txt row 2: 4 fields, the header has 5; the missing ones read as empty",
        "stops.txt row 3: 4 fields, the header has 5; the missing ones read as empty"]
    assert len(feed.stops) == 3


def test_quote_never_closed_is_fatal_naming_its_row(tmp_path):
    tables = mini_tables()
    text = table_text(tables["stop_times"]).splitlines()
    text[3] = text[3].replace(",", ',"', 1)  # row 4: day,"08:20:00,08:20:00,C,3
    tables["stop_times"] = "\n".join(text) + "\n"
    assert tables["stop_times"].count('"') == 1
    report = gtfs.validate_gtfs(write_raw(tmp_path / "f.zip", tables))
    assert issues_of(report, "stop_times.txt", "fatal") == [
        ('stop_times.txt row 4: a quote (") opened in this row is never closed; expected a '
        "closing quote (values with a comma are quoted, a quote inside one is doubled)")]


def test_blank_first_line_is_no_header(tmp_path):
    tables = mini_tables()
    tables["routes"] = "\n" + table_text(tables["routes"])
    report = gtfs.validate_gtfs(write_raw(tmp_path / "f.zip", tables))
    assert issues_of(report, "routes.txt", "fatal") == [
        "routes.txt row 1: blank line; expected the header"]


@pytest.mark.filterwarnings("error")  # no RuntimeWarning from casting 1e30 or inf
def test_values_that_are_no_numbers_are_named(tmp_path):
    tables = mini_tables()
    tables["stops"][1]["stop_lat"] = "52,09"       # a decimal comma, quoted by the writer
    tables["stop_times"][0]["stop_sequence"] = "1e30"
    tables["frequencies"][0]["headway_secs"] = "inf"
    report = gtfs.validate_gtfs(write_raw(tmp_path / "f.zip", tables))
    assert set(issues_of(report, severity="fatal")) == {
        ("stops.txt row 3 field stop_lat: latitude missing or out of range for a stop used by "
        "stop_times: '52,09'"),
        "stop_times.txt row 2 field stop_sequence: not a non-negative integer: '1e30'",
        ("frequencies.txt row 2 field headway_secs: headway must be a positive number of "
        "seconds: 'inf'"),
    }


def test_duplicate_ids_are_reported_not_crashed_on(tmp_path):
    tables = mini_tables()
    tables["stops"].append(dict(tables["stops"][0]))      # A twice (line 5)
    tables["trips"].append(dict(tables["trips"][0]))      # "day" twice (line 5)
    report = gtfs.validate_gtfs(write_raw(tmp_path / "f.zip", tables))
    assert set(issues_of(report, severity="fatal")) == {
        "stops.txt row 5 field stop_id: duplicate stop_id: 'A'",
        "trips.txt row 5 field trip_id: duplicate trip_id: 'day'"}


# --------------------------------------------------------------------------
# Empty files


@pytest.mark.parametrize("content", [b"", b"  \r\n\n", b"\xef\xbb\xbf"],
                         ids=["0 bytes", "white space", "BOM only"])
def test_empty_required_file_is_one_fatal_issue(tmp_path, content):
    tables = mini_tables()
    tables["stops"] = content
    report = gtfs.validate_gtfs(write_raw(tmp_path / "f.zip", tables))
    assert issues_of(report, "stops.txt") == [
        "stops.txt: empty file; expected a header with stop_id, stop_lat, stop_lon"]
    assert len(report.fatal) == 1


def test_empty_calendar_is_fatal_without_calendar_dates(tmp_path):
    tables = mini_tables()
    tables["calendar"] = b""
    report = gtfs.validate_gtfs(write_raw(tmp_path / "f.zip", tables))
    assert [str(i) for i in report.fatal] == [
        ("calendar.txt: empty file; expected a header with service_id, monday, tuesday, "
        "wednesday, thursday, friday, saturday, sunday, start_date, end_date")]


def test_empty_calendar_is_a_warning_when_calendar_dates_define_the_services(tmp_path):
    tables = mini_tables()
    tables["calendar"] = b""
    tables["calendar_dates"] = [{"service_id": "all", "date": "20260310", "exception_type": 1}]
    feed = gtfs.read_gtfs(write_raw(tmp_path / "f.zip", tables), LAST_DAY, SETTINGS)
    assert issues_of(feed.report, "calendar.txt") == [
        "calendar.txt: empty file; ignored (calendar_dates.txt defines the services)"]
    assert {"day", "late"} <= set(feed.trips["trip_id"])


def test_empty_optional_file_is_ignored_with_a_warning_and_header_only_is_fine(tmp_path):
    tables = mini_tables()
    tables["frequencies"] = b"\n"
    tables["transfers"] = "from_stop_id,to_stop_id,transfer_type,min_transfer_time\n"
    feed = gtfs.read_gtfs(write_raw(tmp_path / "f.zip", tables), LAST_DAY, SETTINGS)
    assert issues_of(feed.report, "frequencies.txt") == [
        "frequencies.txt: empty file; ignored (a header line is expected even without rows)"]
    assert not issues_of(feed.report, "transfers.txt")
    assert "night" in set(feed.trips["trip_id"])  # no frequencies: an ordinary trip


# --------------------------------------------------------------------------
# The day after the feed's last day


def test_window_after_midnight_on_the_day_past_the_end_gets_the_late_trips(tmp_path, caplog):
    path = write_raw(tmp_path / "f.zip", mini_tables())
    with caplog.at_level(logging.WARNING, logger="bereikbaarheid"):
        feed = gtfs.read_gtfs(path, PAST_END, SETTINGS, window_s=(0, H))
    # Exactly the last day's trips running past midnight: late (23:30 .. 01:35)
    # and the 24:00 night bus; not day, nor the 23:00 and 23:30 night buses.
    assert sorted(feed.trips["trip_id"]) == ["late~2026-03-10", "night@24:00:00~2026-03-10"]
    assert set(feed.trips["day_offset"]) == {-1}
    index = feed.trips.index[feed.trips["trip_id"] == "late~2026-03-10"][0]
    rows = feed.stop_times[feed.stop_times["trip"] == index]
    assert list(rows["arrival_s"]) == [-1800, 2400, 5700]   # 23:30, 00:40, 01:35
    expected = ("calendar.txt: 2026-03-11 is one day past the feed's last day 2026-03-10; only "
                "the previous day's trips running past midnight (until 01:35) serve it")
    assert issues_of(feed.report, "calendar.txt") == [expected]
    assert [r.getMessage() for r in caplog.records] == [f"GTFS f: {expected.split(': ', 1)[1]}"]
    assert feed.service_date == PAST_END and feed.period == ("2026-03-01", LAST_DAY)


def test_day_past_the_end_validates_with_a_warning(tmp_path):
    report = gtfs.validate_gtfs(write_raw(tmp_path / "f.zip", mini_tables()), PAST_END)
    assert not report.fatal
    assert [i.message for i in report.warnings] == [
        ("2026-03-11 is one day past the feed's last day 2026-03-10; only the previous day's "
        "trips running past midnight (until 01:35) serve it")]


def test_day_past_the_end_is_fatal_when_no_trip_reaches_it(tmp_path):
    tables = mini_tables()
    tables["trips"] = tables["trips"][:1]
    tables["stop_times"] = [r for r in tables["stop_times"] if r["trip_id"] == "day"]
    del tables["frequencies"]
    path = write_raw(tmp_path / "f.zip", tables)
    with pytest.raises(GtfsError) as info:
        gtfs.read_gtfs(path, PAST_END, SETTINGS)
    assert ("calendar.txt: 2026-03-11 is one day past the feed's last day 2026-03-10, and no "
            "trip of that day runs past midnight into it; expected a date in the feed's "
            "service period 2026-03-01 .. 2026-03-10") in str(info.value)
    assert "no service is active" not in str(info.value)


def test_day_past_the_end_is_fatal_when_the_late_trips_miss_the_window(tmp_path):
    path = write_raw(tmp_path / "f.zip", mini_tables())
    with pytest.raises(GtfsError, match=r"trips running past midnight end by 01:35, before "
                                         r"the time window from 07:00; expected a date in the "
                                         r"feed's service period 2026-03-01 \.\. 2026-03-10"):
        gtfs.read_gtfs(path, PAST_END, SETTINGS, window_s=(7 * H, 9 * H))
    # Two days past the end is outside the period, as before.
    with pytest.raises(GtfsError, match="2026-03-12 is outside the feed's service period"):
        gtfs.read_gtfs(path, "2026-03-12", SETTINGS)


def test_day_past_feed_end_date_ignores_the_calendar_beyond_it(tmp_path):
    tables = mini_tables()
    tables["calendar"] = [every_day("all", "20260301", "20261231")]
    tables["feed_info"] = [{"feed_publisher_name": "x", "feed_publisher_url": "http://x",
                            "feed_lang": "nl", "feed_end_date": "20260310"}]
    feed = gtfs.read_gtfs(write_raw(tmp_path / "f.zip", tables), PAST_END, SETTINGS)
    assert set(feed.trips["day_offset"]) == {-1}


@pytest.mark.shared
def test_dutch_ferries_one_day_past_their_end(shared_data):
    path = shared_data / "gtfs" / "dutch-ferries.zip"
    report = gtfs.validate_gtfs(path, "2021-01-01")
    assert not report.fatal
    assert ("2021-01-01 is one day past the feed's last day 2020-12-31; only the previous "
            "day's trips running past midnight (until 02:29) serve it") in {
        i.message for i in report.warnings}
    feed = gtfs.read_gtfs(path, "2021-01-01", SETTINGS, window_s=(0, H))
    assert len(feed.trips) and set(feed.trips["day_offset"]) == {-1}


# --------------------------------------------------------------------------
# Dates, paths and files that are not what they should be


@pytest.mark.parametrize("date", ["2026-13-45", "tomorrow", ""])
def test_a_service_date_that_is_no_date_is_a_config_error(tmp_path, date):
    path = write_raw(tmp_path / "f.zip", mini_tables())
    expected = f"service_date: {date!r} is not a date; expected YYYY-MM-DD, e.g. 2026-03-10"
    with pytest.raises(ConfigError) as info:
        gtfs.validate_gtfs(path, service_date=date)
    assert str(info.value) == expected
    with pytest.raises(ConfigError):
        gtfs.read_gtfs(path, date, SETTINGS)


def test_a_file_that_is_no_zip(tmp_path):
    path = tmp_path / "feed.zip"
    path.write_text("stop_id,stop_name\n")
    report = gtfs.validate_gtfs(path)
    assert [i.message for i in report.fatal] == [
        "not a zip file (File is not a zip file); expected a GTFS zip or a folder of .txt files"]


def test_a_folder_without_gtfs_files(tmp_path):
    (tmp_path / "feed").mkdir()
    (tmp_path / "feed" / "readme.md").write_text("nothing here")
    report = gtfs.validate_gtfs(tmp_path / "feed")
    assert [i.message for i in report.fatal] == [
        ("no GTFS text files (.txt) in it; expected stops.txt, routes.txt, trips.txt, "
        "stop_times.txt and calendar.txt or calendar_dates.txt")]


def test_no_feed_at_all():
    with pytest.raises(InputError, match="no GTFS feed given"):
        gtfs.validate_gtfs([])


def _patch_member(path, name: str, offset_local: int, offset_central: int, value: bytes):
    """Overwrite bytes of a member's local and central zip headers."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    for signature, offset, name_at in ((b"PK\x03\x04", offset_local, 30),
                                       (b"PK\x01\x02", offset_central, 46)):
        at = data.find(signature)
        while data[at + name_at:at + name_at + len(encoded)] != encoded:
            at = data.find(signature, at + 1)
        data[at + offset:at + offset + len(value)] = value
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage, expected", [
    ("crc", "cannot read the file (Bad CRC-32 for file 'stops.txt')"),
    ("encrypted", ("cannot open the file (File 'stops.txt' is encrypted, password required "
                  "for extraction)")),
    ("deflate64", "cannot open the file (That compression method is not supported)"),
])
def test_a_damaged_zip_member_is_named(tmp_path, damage, expected):
    path = write_raw(tmp_path / "f.zip", mini_tables())
    if damage == "crc":
        _patch_member(path, "stops.txt", 14, 16, b"\x00\x00\x00\x00")
    elif damage == "encrypted":
        _patch_member(path, "stops.txt", 6, 8, b"\x01\x00")
    else:
        _patch_member(path, "stops.txt", 8, 10, b"\x09\x00")
    report = gtfs.validate_gtfs(path)
    assert [str(i) for i in report.fatal] == [f"stops.txt: {expected}"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="file permissions do not stop root (or this OS)")
def test_an_unreadable_file_is_named(tmp_path):
    path = write_raw(tmp_path / "f", mini_tables(), as_zip=False)
    (path / "stops.txt").chmod(0)
    try:
        report = gtfs.validate_gtfs(path)
    finally:
        (path / "stops.txt").chmod(0o644)
    [issue] = report.fatal
    assert issue.file == "stops.txt" and "Permission denied" in issue.message


def test_an_unreadable_file_is_named_whoever_runs(tmp_path, monkeypatch):
    path = write_raw(tmp_path / "f", mini_tables(), as_zip=False)
    real_open = open

    def refusing_open(file, *args, **kwargs):
        if str(file).endswith("stops.txt"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refusing_open)
    report = gtfs.validate_gtfs(path)
    assert [str(i) for i in report.fatal] == [
        (f"stops.txt: cannot open the file ([Errno 13] Permission denied: "
        f"'{path / 'stops.txt'}')")]


# --------------------------------------------------------------------------
# Clipping reads the same way


def test_clip_reads_windows_1252_and_writes_utf8(tmp_path, caplog):
    tables = mini_tables()
    tables["stops"] = stops_text("A,Café,52.09,5.10", *STOPS[1:]).encode("cp1252")
    path = write_raw(tmp_path / "f.zip", tables)
    with caplog.at_level(logging.WARNING, logger="bereikbaarheid"):
        clip.clip_gtfs(path, {"a": EVERYWHERE}, {"a": tmp_path / "out.zip"})
    assert [r.getMessage() for r in caplog.records] == [
        ("GTFS f: stops.txt row 2: not UTF-8 (the first such byte is in this row); bytes that "
        "are not UTF-8 read as Windows-1252 (GTFS expects UTF-8)")]
    with zipfile.ZipFile(tmp_path / "out.zip") as out:
        assert "Café" in out.read("stops.txt").decode("utf-8")
    assert not gtfs.validate_gtfs(tmp_path / "out.zip").issues


def test_clip_refuses_a_row_with_surplus_fields_naming_file_and_row(tmp_path):
    tables = mini_tables()
    tables["stops"] = stops_text(STOPS[0], "B,Stop B, Centrum,52.09,5.12", STOPS[2])
    path = write_raw(tmp_path / "f.zip", tables)
    with pytest.raises(InputError, match=r"f\.zip: stops\.txt row 3: 5 fields, the header has 4"):
        clip.clip_gtfs(path, {"a": EVERYWHERE}, {"a": tmp_path / "out.zip"})


def test_clip_keeps_columns_when_every_row_ends_in_a_comma(tmp_path):
    tables = mini_tables()
    tables["stops"] = stops_text(*(row + "," for row in STOPS))
    path = write_raw(tmp_path / "f.zip", tables)
    clip.clip_gtfs(path, {"a": EVERYWHERE}, {"a": tmp_path / "out.zip"})
    with zipfile.ZipFile(tmp_path / "out.zip") as out:
        assert out.read("stops.txt").decode().splitlines()[1] == "A,Stop A,52.09,5.10"


@pytest.mark.filterwarnings("error")
def test_clip_takes_a_location_type_that_is_no_number_for_a_stop(tmp_path):
    tables = mini_tables()
    for row, kind in zip(tables["stops"], ("1e30", "inf", "x")):
        row["location_type"] = kind
    result = clip.clip_gtfs(write_raw(tmp_path / "f.zip", tables), {"a": EVERYWHERE},
                            {"a": tmp_path / "out.zip"})
    assert result["a"]["stops_inside"] == 3


# --------------------------------------------------------------------------
# Any damage: the project's own error or a result, never another exception

_TOKENS = [b"", b",", b'"', b"\n", b"\r\n", b"\xe9", b"\xff\xfe", b"\x00", b"1e30", b"-1",
           b"nan", b"inf", b"99999999999999999999", b"25:61:00", b"00000000", b"\xef\xbb\xbf",
           b"A", b"day", b"all", b"52,1", b'""', b" "]


@pytest.mark.slow
@pytest.mark.filterwarnings("error")
@hyp_settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.sampled_from(sorted(mini_tables())), st.floats(0, 1),
                                st.integers(0, 6), st.sampled_from(_TOKENS)),
                      min_size=1, max_size=4))
def test_damaged_feeds_read_or_refuse(tmp_path, edits):
    files = {name: table_text(rows).encode() for name, rows in mini_tables().items()}
    for name, where, cut, token in edits:
        at = int(where * len(files[name]))
        files[name] = files[name][:at] + token + files[name][at + cut:]
    path = write_raw(tmp_path / "f.zip", files)
    for read in (lambda: gtfs.validate_gtfs(path, PAST_END),
                 lambda: gtfs.read_gtfs(path, LAST_DAY, SETTINGS, window_s=(0, 26 * H)),
                 lambda: clip.clip_gtfs(path, {"a": EVERYWHERE}, {"a": tmp_path / "out.zip"})):
        try:
            read()
        except BereikbaarheidError:
            pass


# --------------------------------------------------------------------------
# Values at the edge of what GTFS allows


def test_stop_sequence_zero_is_valid_gtfs_and_orders_the_trip(tmp_path):
    tables = mini_tables()
    for row in tables["stop_times"]:
        row["stop_sequence"] -= 1           # every trip numbered from 0
    feed = gtfs.read_gtfs(write_raw(tmp_path / "f.zip", tables), LAST_DAY, SETTINGS)
    assert not issues_of(feed.report, "stop_times.txt")
    index = feed.trips.index[feed.trips["trip_id"] == "day"][0]
    rows = feed.stop_times[feed.stop_times["trip"] == index]
    assert list(rows["arrival_s"]) == [8 * H, 8 * H + 600, 8 * H + 1200]


def test_an_empty_stop_sequence_is_fatal_naming_the_row(tmp_path):
    tables = mini_tables()
    tables["stop_times"][1]["stop_sequence"] = ""     # row 3: day at B
    report = gtfs.validate_gtfs(write_raw(tmp_path / "f.zip", tables))
    assert issues_of(report, "stop_times.txt", "fatal") == [
        "stop_times.txt row 3 field stop_sequence: not a non-negative integer: ''"]


@pytest.mark.parametrize("bad", [gtfs.MAX_ROWS_REPORTED, gtfs.MAX_ROWS_REPORTED + 1])
def test_rows_are_listed_up_to_the_limit_and_summarised_only_beyond_it(tmp_path, bad):
    tables = mini_tables()
    tables["stops"] += [{"stop_id": f"S{k}", "stop_name": "Stop", "stop_lat": 52.09,
                         "stop_lon": 5.1, "location_type": 9} for k in range(bad)]
    report = gtfs.validate_gtfs(write_raw(tmp_path / "f.zip", tables))
    problem = "field location_type: expected 0..4; treated as 0 (stop)"
    listed = [f"stops.txt row {5 + k} {problem}: '9'" for k in range(gtfs.MAX_ROWS_REPORTED)]
    summary = [(f"stops.txt field location_type: {bad} rows in total: expected 0..4; treated "
                f"as 0 (stop) (first {gtfs.MAX_ROWS_REPORTED} listed)")]
    assert [i for i in issues_of(report, "stops.txt") if "location_type" in i] == listed + (
        summary if bad > gtfs.MAX_ROWS_REPORTED else [])


def test_a_refused_frequency_row_is_reported_once_and_not_judged_further(tmp_path):
    tables = mini_tables()
    # Row 3: an unknown trip whose end is before its start; row 4: a start
    # that is no time, which would overlap row 2 if it were read as 00:00.
    tables["frequencies"] += [
        {"trip_id": "ghost", "start_time": "10:00:00", "end_time": "09:00:00",
         "headway_secs": 600},
        {"trip_id": "night", "start_time": "x", "end_time": "24:30:00", "headway_secs": 600}]
    report = gtfs.validate_gtfs(write_raw(tmp_path / "f.zip", tables))
    assert issues_of(report, "frequencies.txt") == [
        "frequencies.txt row 3 field trip_id: unknown trip_id (not in trips.txt): 'ghost'",
        "frequencies.txt row 4 field start_time: not a time (H:MM:SS): 'x'"]


def test_a_row_with_a_quoted_value_and_a_surplus_field_is_fatal_naming_its_row(tmp_path):
    tables = mini_tables()
    # The quotes hold no comma; the comma after them adds a fifth field.
    tables["stops"] = stops_text(STOPS[0], 'B,"Stop B", Centrum,52.09,5.12', STOPS[2])
    report = gtfs.validate_gtfs(write_raw(tmp_path / "f.zip", tables))
    assert issues_of(report, "stops.txt", "fatal") == [
        ("stops.txt row 3: 5 fields, the header has 4; the values cannot be matched to "
         "their columns (expected quotes around a value holding a comma)")]
