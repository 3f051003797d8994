"""Which trips run on which day: calendar.txt weekdays and date ranges, calendar_dates.txt.

The feed has one trip per service, named after it. A service that runs on
one weekday only is checked on that day and on the days around it; date
ranges on their first and last day and just outside; exceptions against the
weekday they override. The reference is the GTFS rule itself, written with
Python's own calendar (``date.weekday()``).
"""

from __future__ import annotations

import datetime as dt

import pytest
from gtfsutil import every_day, stop_times, write_feed
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bereikbaarheid.config import Settings
from bereikbaarheid.sources import gtfs

SETTINGS = Settings()
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
YEAR_START, YEAR_END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


def _one_weekday(name: str, start: str = "20260101", end: str = "20261231") -> dict:
    row = every_day(name, start, end)
    row.update({day: int(day == name) for day in WEEKDAYS})
    return row


# Service -> (weekday flags, first day, last day) as calendar.txt says, and the
# exceptions of calendar_dates.txt: (service, date, added).
CALENDAR = [every_day("daily"), *(_one_weekday(day) for day in WEEKDAYS),
            every_day("span", "20260310", "20260320"),             # Tue 10 .. Fri 20 March
            _one_weekday("wednesday", "20260617", "20260617") | {"service_id": "one_day"}]
EXCEPTIONS = [
    ("monday", dt.date(2026, 3, 16), False),   # a Monday off
    ("monday", dt.date(2026, 3, 18), True),    # ... made up on the Wednesday
    ("tuesday", dt.date(2026, 3, 12), False),  # removed on a Thursday: it did not run anyway
    ("span", dt.date(2026, 3, 15), False),     # a Sunday off inside the range
    ("span", dt.date(2026, 3, 25), True),      # an extra day after the range
    ("only_dates", dt.date(2026, 5, 5), True),  # a service known from calendar_dates alone
]
SERVICES = [row["service_id"] for row in CALENDAR] + ["only_dates"]


def _tables() -> dict:
    trips = [{"route_id": "bus", "service_id": s, "trip_id": f"trip_{s}"} for s in SERVICES]
    rows = []
    for s in SERVICES:
        rows += stop_times(f"trip_{s}", [("A", "08:00:00", "08:00:00"),
                                         ("B", "08:10:00", "08:10:00")])
    return {
        "agency": [{"agency_id": "ag", "agency_name": "Ag", "agency_url": "http://x",
                    "agency_timezone": "Europe/Amsterdam"}],
        "stops": [{"stop_id": s, "stop_name": s, "stop_lat": 52.09, "stop_lon": lon}
                  for s, lon in (("A", 5.10), ("B", 5.12))],
        "routes": [{"route_id": "bus", "route_short_name": "1", "route_type": 3}],
        "trips": trips,
        "stop_times": rows,
        "calendar": CALENDAR,
        "calendar_dates": [{"service_id": s, "date": d.strftime("%Y%m%d"),
                            "exception_type": 1 if added else 2} for s, d, added in EXCEPTIONS],
    }


@pytest.fixture(scope="module")
def feed_zip(tmp_path_factory):
    return write_feed(tmp_path_factory.mktemp("calendar") / "calendar.zip", _tables())


def running(feed_zip, date: dt.date) -> dict[int, set[str]]:
    """Services whose trip runs on the day before (-1), of (0) and after (+1) ``date``,
    as read for an analysis on ``date``."""
    feed = gtfs.read_gtfs(feed_zip, date, SETTINGS)
    out: dict[int, set[str]] = {-1: set(), 0: set(), 1: set()}
    for trip_id, offset in zip(feed.trips["trip_id"], feed.trips["day_offset"]):
        base, _, service_day = trip_id.partition("~")
        # A trip of another day is named by that day.
        assert service_day == ("" if offset == 0 else
                               (date + dt.timedelta(days=int(offset))).isoformat())
        out[int(offset)].add(base.removeprefix("trip_"))
    return out


def reference(day: dt.date) -> set[str]:
    """The services running on ``day`` by the GTFS rule: calendar.txt's weekday
    flag within its inclusive start .. end, then calendar_dates.txt's additions
    and removals, which win."""
    out = set()
    for row in CALENDAR:
        start = dt.datetime.strptime(row["start_date"], "%Y%m%d").date()
        end = dt.datetime.strptime(row["end_date"], "%Y%m%d").date()
        if start <= day <= end and row[WEEKDAYS[day.weekday()]] == 1:
            out.add(row["service_id"])
    for service, date, added in EXCEPTIONS:
        if date == day:
            (out.add if added else out.discard)(service)
    return out


# --------------------------------------------------------------------------
# One weekday


# Monday 20 .. Sunday 26 April 2026: no exception and no range end in or next to it.
WEEK = [(dt.date(2026, 4, 20) + dt.timedelta(days=k), WEEKDAYS[k]) for k in range(7)]


@pytest.mark.parametrize(("date", "weekday"), WEEK, ids=[w for _, w in WEEK])
def test_a_one_weekday_service_runs_on_that_day_not_the_day_before_or_after(
        feed_zip, date, weekday):
    days = running(feed_zip, date)
    k = WEEKDAYS.index(weekday)
    assert days[0] == {"daily", weekday}
    # The trips of the days before and after are those days' weekday services.
    assert days[-1] == {"daily", WEEKDAYS[(k - 1) % 7]}
    assert days[1] == {"daily", WEEKDAYS[(k + 1) % 7]}


# --------------------------------------------------------------------------
# start_date and end_date


def test_a_date_range_includes_its_first_and_last_day(feed_zip):
    # "span" runs every day from Tuesday 10 to Friday 20 March (Sunday 15 removed).
    assert "span" not in running(feed_zip, dt.date(2026, 3, 9))[0]
    assert "span" in running(feed_zip, dt.date(2026, 3, 9))[1]
    assert "span" in running(feed_zip, dt.date(2026, 3, 10))[0]
    assert "span" not in running(feed_zip, dt.date(2026, 3, 10))[-1]
    assert "span" in running(feed_zip, dt.date(2026, 3, 20))[0]
    assert "span" not in running(feed_zip, dt.date(2026, 3, 20))[1]
    assert "span" not in running(feed_zip, dt.date(2026, 3, 21))[0]
    assert "span" in running(feed_zip, dt.date(2026, 3, 21))[-1]


def test_a_range_of_one_day_runs_on_that_day_only(feed_zip):
    # "one_day": Wednesdays from 17 June to 17 June 2026, a Wednesday.
    days = running(feed_zip, dt.date(2026, 6, 17))
    assert "one_day" in days[0]
    assert "one_day" not in days[-1] | days[1]
    for other in (dt.date(2026, 6, 10), dt.date(2026, 6, 24)):  # the Wednesdays around it
        assert "one_day" not in set().union(*running(feed_zip, other).values())


def test_the_first_and_last_day_of_the_feed(feed_zip):
    first = running(feed_zip, YEAR_START)  # Thursday 1 January 2026
    assert first == {-1: set(), 0: {"daily", "thursday"}, 1: {"daily", "friday"}}
    last = running(feed_zip, YEAR_END)     # Thursday 31 December 2026
    assert last == {-1: {"daily", "wednesday"}, 0: {"daily", "thursday"}, 1: set()}


# --------------------------------------------------------------------------
# calendar_dates.txt


def test_a_removal_overrides_the_weekday(feed_zip):
    monday_off = running(feed_zip, dt.date(2026, 3, 16))
    assert monday_off[0] == {"daily", "span"}
    assert "monday" in running(feed_zip, dt.date(2026, 3, 9))[0]  # the Monday before runs
    assert "monday" in running(feed_zip, dt.date(2026, 3, 23))[0]  # the next Monday runs


def test_an_addition_overrides_the_weekday(feed_zip):
    wednesday = running(feed_zip, dt.date(2026, 3, 18))
    assert wednesday[0] == {"daily", "wednesday", "monday", "span"}
    assert "monday" not in wednesday[-1] | wednesday[1]


def test_exceptions_override_the_date_range(feed_zip):
    assert "span" not in running(feed_zip, dt.date(2026, 3, 15))[0]  # removed inside
    assert "span" in running(feed_zip, dt.date(2026, 3, 14))[0]
    added = running(feed_zip, dt.date(2026, 3, 25))                  # added after it
    assert "span" in added[0] and "span" not in added[-1] | added[1]


def test_a_removal_on_a_day_off_changes_nothing(feed_zip):
    thursday = running(feed_zip, dt.date(2026, 3, 12))
    assert thursday[0] == {"daily", "thursday", "span"}


def test_a_service_of_calendar_dates_alone(feed_zip):
    days = running(feed_zip, dt.date(2026, 5, 5))
    assert "only_dates" in days[0] and "only_dates" not in days[-1] | days[1]
    assert "only_dates" not in running(feed_zip, dt.date(2026, 5, 12))[0]


# --------------------------------------------------------------------------
# Every day of the year


# Any day of the year, and often one next to an exception or a range's end.
EDGES = sorted({d + dt.timedelta(days=k) for _, d, _ in EXCEPTIONS for k in (-1, 0, 1)}
               | {dt.datetime.strptime(row[c], "%Y%m%d").date() + dt.timedelta(days=k)
                  for row in CALENDAR for c in ("start_date", "end_date") for k in (-1, 0, 1)})
DAYS = st.one_of(st.sampled_from([d for d in EDGES if YEAR_START <= d <= YEAR_END]),
                 st.dates(min_value=YEAR_START, max_value=YEAR_END))


@hsettings(max_examples=80, deadline=None)
@given(DAYS)
def test_the_services_of_any_day_and_its_neighbours_follow_the_gtfs_rule(feed_zip, date):
    days = running(feed_zip, date)
    for offset in (-1, 0, 1):
        day = date + dt.timedelta(days=offset)
        # The feed vouches for nothing outside its period.
        expected = reference(day) if YEAR_START <= day <= YEAR_END else set()
        assert days[offset] == expected, (date, offset)
