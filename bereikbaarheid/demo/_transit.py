"""Public transport of the demo region, written as a GTFS zip.

City networks in the towns (buses, and a tram in the largest), regional
buses between the settlements and across the border, trains linking the
towns (see ``_transit_bus`` and ``_transit_rail``) and a foot and bike ferry
across the estuary. The density per resident is about that of the Dutch
national feed, so a larger scale gives a larger feed of the same density.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from pathlib import Path

from .. import _io
from . import _frame, _roads, _settlements, _transit_bus, _transit_feed, _transit_rail
from ._frame import STEP_M
from ._transit_feed import CALENDAR, DAILY, SATURDAY, SUNDAY, WEEKDAY

FEED_START = "20260101"
FEED_END = "20261231"
TIMEZONE = "Europe/Amsterdam"
# A zip entry records a modification time; fixing it keeps the file byte-identical.
ZIP_DATE_TIME = (2026, 1, 1, 0, 0, 0)
# Dutch public holidays of 2026: the day's own service is removed and the
# Sunday timetable runs instead.
HOLIDAYS: tuple[tuple[str, str], ...] = (
    ("20260101", WEEKDAY),   # Nieuwjaarsdag (Thursday)
    ("20260406", WEEKDAY),   # Tweede Paasdag
    ("20260427", WEEKDAY),   # Koningsdag (Monday)
    ("20260514", WEEKDAY),   # Hemelvaartsdag
    ("20260525", WEEKDAY),   # Tweede Pinksterdag
    ("20261225", WEEKDAY),   # Eerste Kerstdag (Friday)
    ("20261226", SATURDAY),  # Tweede Kerstdag
)
# The ferry, which runs daily, does not sail at all on these days.
FERRY_CLOSED: tuple[str, ...] = ("20261225",)
FERRY_START_S = 6 * 3600
FERRY_END_S = 24 * 3600 + 30 * 60
FERRY_HEADWAY_S = 1800
FERRY_SPEED_KMH = 10.0

FILES: tuple[str, ...] = (
    "agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt", "calendar.txt",
    "calendar_dates.txt", "frequencies.txt", "transfers.txt", "feed_info.txt",
)
AGENCIES: tuple[tuple[str, str, str], ...] = (
    ("SVK", "Stadsvervoer Kreekland", "https://example.org/stadsvervoer"),
    ("ZLB", "Zeeuwse Lijnbus", "https://example.org/zeeuwse-lijnbus"),
    ("RR", "RegioRail Kreekland", "https://example.org/regiorail"),
    ("VK", "Veerdienst Kreekland", "https://example.org/veerdienst"),
)


def write_gtfs(path: Path, frame: _frame.Frame, lines: _settlements.Lines,
               settlements: list[_settlements.Settlement], roads: _roads.Roads,
               seed: int) -> dict[str, int]:
    """Write the demo region's GTFS feed as a zip.

    Regional bus lines run from each town along the roads to its villages
    (serving hamlets on the way, with stops every kilometre in the country),
    one into Belgium where a Belgian village is near; villages across the
    estuary without a town get a line along its shore. Each town has two to
    four city lines through its centre and out to the villages around it,
    every 6 to 15 minutes by day. Trains link the towns and their larger
    villages; a frequency-based foot and bike ferry crosses the estuary at
    the OSM foot ferry. Every bus stop is a quay per direction on a node of
    a walkable OSM way. The calendar covers 2026 with weekday, Saturday and
    Sunday services and Dutch holidays as exceptions.

    Parameters
    ----------
    path
        The zip to write (replaced atomically).
    frame, lines, settlements, roads
        The demo region's layout, as ``generate_demo`` builds it.
    seed
        Random seed: the same seed and layout give a byte-identical zip.

    Returns
    -------
    dict[str, int]
        Counts: ``stops`` (all stops.txt rows), ``routes``, ``trips``,
        ``stop_times`` and ``weekday_trips`` (trips on a weekday, frequency
        copies of the ferry included).
    """
    rng = _frame.rng_for(seed, "transit")
    feed = _transit_feed.Feed()
    streets = _transit_bus.Streets(frame, lines, roads)
    town = next((s for s in settlements if s.kind == "town"), None)
    roundabout = None if town is None else (lines.primary_cols[0], town.j)
    stops = _transit_bus.Stops(feed, frame, settlements, roundabout)
    _transit_bus.add_buses(feed, rng, frame, lines, settlements, streets, stops)
    _transit_rail.add_trains(feed, rng, frame, lines, settlements, roads, stops)
    _add_ferry(feed, frame, lines, settlements)

    tables = {
        "agency.txt": [["agency_id", "agency_name", "agency_url", "agency_timezone",
                        "agency_lang"]] + [[a, n, u, TIMEZONE, "nl"] for a, n, u in AGENCIES],
        "stops.txt": feed.stops,
        "routes.txt": feed.routes,
        "trips.txt": feed.trips,
        "stop_times.txt": feed.stop_times,
        "calendar.txt": [["service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                          "saturday", "sunday", "start_date", "end_date"]]
                        + [[s, *days, FEED_START, FEED_END] for s, days in CALENDAR.items()],
        "calendar_dates.txt": _calendar_dates(),
        "frequencies.txt": feed.frequencies,
        "transfers.txt": feed.transfers,
        "feed_info.txt": [["feed_publisher_name", "feed_publisher_url", "feed_lang",
                           "feed_start_date", "feed_end_date", "feed_version"],
                          ["bereikbaarheid demo", "https://example.org/bereikbaarheid", "nl",
                           FEED_START, FEED_END, f"demo-seed-{seed}"]],
    }
    _write_zip(path, tables)
    return {"stops": len(feed.stops) - 1, "routes": len(feed.routes) - 1,
            "trips": len(feed.trips) - 1, "stop_times": len(feed.stop_times) - 1,
            "weekday_trips": feed.weekday_trips}


def _add_ferry(feed: _transit_feed.Feed, frame: _frame.Frame, lines: _settlements.Lines,
               settlements: list[_settlements.Settlement]) -> None:
    """The foot and bike ferry across the estuary, every half hour."""
    col = lines.foot_ferry_col
    landings = []
    for side, j in (("Zuid", frame.water_j0), ("Noord", frame.water_j1)):
        near = min((s for s in settlements if (s.j > frame.water_j1) == (side == "Noord")),
                   key=lambda s: (math.hypot(s.i - col, s.j - j), s.name))
        stop_id = f"ferry_{side.lower()}"
        feed.add_stop(stop_id, f"{near.name}, Veerhaven {side}", frame, col * STEP_M, j * STEP_M)
        x, y = frame.to_rd(col * STEP_M, j * STEP_M)
        landings.append((stop_id, float(x), float(y), near.name))
    (a, ax, ay, a_name), (b, bx, by, b_name) = landings
    crossing_s = int(math.ceil(math.hypot(bx - ax, by - ay) / (FERRY_SPEED_KMH / 3.6) / 60) * 60)
    feed.routes.append(["ferry", "VK", "", f"Voet- en fietsveer {a_name} - {b_name}", 4])
    clock = _transit_feed.clock
    for direction, (frm, to, headsign) in enumerate(((a, b, b_name), (b, a, a_name))):
        trip_id = f"ferry_{direction}"
        feed.trips.append(["ferry", DAILY, trip_id, headsign, direction])
        # Frequency-based: only the offsets between stops count.
        start, end = clock(FERRY_START_S), clock(FERRY_START_S + crossing_s)
        feed.stop_times += [f"{trip_id},{start},{start},{frm},1", f"{trip_id},{end},{end},{to},2"]
        feed.frequencies.append([trip_id, start, clock(FERRY_END_S), FERRY_HEADWAY_S, 0])
    feed.weekday_trips += 2 * len(range(FERRY_START_S, FERRY_END_S, FERRY_HEADWAY_S))


def _calendar_dates() -> list[list]:
    rows: list[list] = [["service_id", "date", "exception_type"]]
    for date, regular in HOLIDAYS:
        rows.append([regular, date, 2])
        rows.append([SUNDAY, date, 1])
    rows += [[DAILY, date, 2] for date in FERRY_CLOSED]
    return rows


def _write_zip(path: Path, tables: dict[str, list]) -> None:
    """Write the tables as CSV entries of a zip, byte-identical for identical tables.

    A table is rows for the CSV writer, or finished lines (``stop_times.txt``).
    """
    with _io.atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        for name in sorted(tables):
            text = io.StringIO()
            if tables[name] and isinstance(tables[name][0], str):
                text.write("\n".join(tables[name]) + "\n")
            else:
                csv.writer(text, lineterminator="\n").writerows(tables[name])
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.getvalue().encode("utf-8"))
