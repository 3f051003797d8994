"""The demo's GTFS feed as it is assembled: day types, departure bands, trips and stop times."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyproj

from . import _frame

# Day types of the timetable: Monday-Friday, Saturday, Sunday (and holidays).
WEEKDAY, SATURDAY, SUNDAY, DAILY = "WD", "ZA", "ZO", "DAGELIJKS"
CALENDAR: dict[str, tuple[int, ...]] = {
    WEEKDAY: (1, 1, 1, 1, 1, 0, 0),
    SATURDAY: (0, 0, 0, 0, 0, 1, 0),
    SUNDAY: (0, 0, 0, 0, 0, 0, 1),
    DAILY: (1, 1, 1, 1, 1, 1, 1),
}

Bands = dict[str, tuple[tuple[int, int, int], ...]]
"""Departure bands per day type, in minutes after midnight: ``(first, end
(exclusive), headway)``."""

# Times are whole minutes; the latest a demo trip reaches is about 26:00.
_CLOCK = tuple(f"{m // 60:02d}:{m % 60:02d}:00" for m in range(48 * 60))
_TO_WGS84 = pyproj.Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)


@dataclass
class Feed:
    """Rows of every GTFS file that grows with the network, header first.

    ``stop_times`` holds finished CSV lines (ids and times never need
    quoting), the bulk of the feed; the other tables are rows for the CSV
    writer. ``weekday_trips`` counts trips of the weekday service.
    """

    stops: list[list] = field(default_factory=lambda: [[
        "stop_id", "stop_name", "stop_lat", "stop_lon", "location_type", "parent_station",
        "platform_code"]])
    routes: list[list] = field(default_factory=lambda: [[
        "route_id", "agency_id", "route_short_name", "route_long_name", "route_type"]])
    trips: list[list] = field(default_factory=lambda: [[
        "route_id", "service_id", "trip_id", "trip_headsign", "direction_id"]])
    stop_times: list[str] = field(default_factory=lambda: [
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence"])
    frequencies: list[list] = field(default_factory=lambda: [[
        "trip_id", "start_time", "end_time", "headway_secs", "exact_times"]])
    transfers: list[list] = field(default_factory=lambda: [[
        "from_stop_id", "to_stop_id", "transfer_type", "min_transfer_time"]])
    weekday_trips: int = 0

    def add_stop(self, stop_id: str, name: str, frame: _frame.Frame, u_m: float, v_m: float,
                 location_type: int | str = "", parent: str = "", platform: str = "") -> None:
        """A stops.txt row at lattice point ``(u_m, v_m)`` (metres)."""
        x, y = frame.to_rd(u_m, v_m)
        lon, lat = _TO_WGS84.transform(float(x), float(y))
        self.stops.append([stop_id, name, f"{lat:.7f}", f"{lon:.7f}", location_type, parent,
                           platform])

    def add_trips(self, route_id: str, service: str, direction: int, headsign: str,
                  stop_ids: Sequence[str], arrive_min: Sequence[int], depart_min: Sequence[int],
                  starts_min: Sequence[int]) -> None:
        """One trip per start minute, calling at ``stop_ids`` the given minutes after its start."""
        calls = list(zip(stop_ids, arrive_min, depart_min, range(1, len(stop_ids) + 1)))
        for start in starts_min:
            trip_id = f"{route_id}_{service}_{direction}_{_CLOCK[start].replace(':', '')}"
            self.trips.append([route_id, service, trip_id, headsign, direction])
            self.stop_times.extend(
                f"{trip_id},{_CLOCK[start + a]},{_CLOCK[start + d]},{stop},{seq}"
                for stop, a, d, seq in calls)
        if service == WEEKDAY:
            self.weekday_trips += len(starts_min)


def departures(bands: Sequence[tuple[int, int, int]], shift_min: int) -> list[int]:
    """Departure minutes of the bands, all shifted by a line's own minutes past the hour."""
    return [m + shift_min for first, end, headway in bands for m in range(first, end, headway)]


def clock(seconds: int, sep: str = ":") -> str:
    """GTFS time ``HH:MM:SS``; hours go past 24 for trips after midnight."""
    h, rest = divmod(int(seconds), 3600)
    return f"{h:02d}{sep}{rest // 60:02d}{sep}{rest % 60:02d}"
