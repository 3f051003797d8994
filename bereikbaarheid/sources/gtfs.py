"""GTFS reader and validator: one analysis day of one or more feeds as vectorised tables."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import shapely

from ..config import Settings
from ..errors import GtfsError

DAY_S = 86_400

# Columns read from each file (others are skipped while parsing, which keeps a
# national stop_times.txt small in memory); the required ones must be present.
COLUMNS: dict[str, tuple[str, ...]] = {
    "stops": ("stop_id", "stop_name", "stop_lat", "stop_lon", "location_type",
              "parent_station"),
    "routes": ("route_id", "route_short_name", "route_type"),
    "trips": ("route_id", "service_id", "trip_id"),
    "stop_times": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence",
                   "pickup_type", "drop_off_type", "shape_dist_traveled"),
    "calendar": ("service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                 "saturday", "sunday", "start_date", "end_date"),
    "calendar_dates": ("service_id", "date", "exception_type"),
    "frequencies": ("trip_id", "start_time", "end_time", "headway_secs", "exact_times"),
    "transfers": ("from_stop_id", "to_stop_id", "transfer_type", "min_transfer_time",
                  "from_route_id", "to_route_id", "from_trip_id", "to_trip_id"),
    "feed_info": ("feed_start_date", "feed_end_date"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "stops": ("stop_id", "stop_lat", "stop_lon"),
    "routes": ("route_id", "route_type"),
    "trips": ("route_id", "service_id", "trip_id"),
    "stop_times": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
    "calendar": COLUMNS["calendar"],
    "calendar_dates": ("service_id", "date", "exception_type"),
    "frequencies": ("trip_id", "start_time", "end_time", "headway_secs"),
    "transfers": ("from_stop_id", "to_stop_id"),
    "feed_info": (),
}
REQUIRED_FILES: tuple[str, ...] = ("stops", "routes", "trips", "stop_times")
WEEKDAYS: tuple[str, ...] = COLUMNS["calendar"][1:8]

# A check failing on many rows reports this many individually, then one count.
MAX_ROWS_REPORTED = 20
# The GtfsError message lists this many fatal issues.
MAX_FATAL_IN_MESSAGE = 10

_TIME_RE = r"^(\d{1,3}):([0-5]\d):([0-5]\d)$"
_DATE_RE = r"^(\d{4})(\d{2})(\d{2})$"


@dataclass(frozen=True)
class GtfsIssue:
    """One problem found in a feed.

    ``row`` is the 1-based line number in the file (the header is line 1, so
    the first data row is 2); None when the issue is not about one row.
    """

    feed: str
    file: str
    row: int | None
    field: str
    severity: str  # "fatal" | "warning"
    message: str

    def __str__(self) -> str:
        row = "" if self.row is None else f" row {self.row}"
        fld = f" field {self.field}" if self.field else ""
        return f"{self.file}{row}{fld}: {self.message}"


@dataclass
class ValidationReport:
    """Every issue found in the feeds, fatal ones and warnings."""

    issues: list[GtfsIssue] = field(default_factory=list)

    @property
    def fatal(self) -> list[GtfsIssue]:
        """Issues that make routing meaningless."""
        return [i for i in self.issues if i.severity == "fatal"]

    @property
    def warnings(self) -> list[GtfsIssue]:
        """Issues worth knowing that do not stop a run."""
        return [i for i in self.issues if i.severity == "warning"]

    def to_frame(self) -> pd.DataFrame:
        """The issues as a table: feed, file, row, field, severity, message."""
        columns = ["feed", "file", "row", "field", "severity", "message"]
        frame = pd.DataFrame([[getattr(i, c) for c in columns] for i in self.issues],
                             columns=columns)
        frame["row"] = frame["row"].astype("Int64")
        return frame

    def summary(self) -> str:
        """One line: the number of fatal issues and warnings."""
        fatal, warnings = len(self.fatal), len(self.warnings)
        if not fatal and not warnings:
            return "GTFS feed valid: no issues"
        return f"GTFS: {fatal} fatal issue(s), {warnings} warning(s)"

    def _add(self, feed: str, file: str, row: int | None, field_: str, severity: str,
             message: str) -> None:
        self.issues.append(GtfsIssue(feed, file, row, field_, severity, message))


@dataclass(frozen=True)
class GtfsFeed:
    """One analysis day of one or more GTFS feeds, ready for a timetable builder.

    Attributes
    ----------
    stops
        Routing stops (``location_type`` 0 or empty), index = stop index:
        ``stop_id``, ``stop_name``, ``station_id`` ("" when none), ``lon``,
        ``lat`` (WGS84), ``x``, ``y`` (in ``settings.crs``).
    trips
        Trips active on the analysis day, index = trip index: ``trip_id``
        (unique: frequency copies ``"<trip_id>@HH:MM:SS"``, trips of the
        previous or next service day suffixed ``"~<service date>"``), ``route_id``,
        ``route_short_name``, ``route_type``, ``service_date`` (ISO),
        ``day_offset`` (-1/0/1), ``frequency_based``, ``exact_times`` (-1 when
        not from frequencies.txt).
    stop_times
        Sorted by trip then stop sequence: ``trip``, ``stop`` (int32 indices),
        ``arrival_s``, ``departure_s`` (int32 seconds since midnight of the
        analysis day), ``pickup``, ``dropoff`` (bool).
    transfers
        ``from_stop``, ``to_stop`` (int32), ``transfer_type`` (0..3),
        ``min_transfer_s`` (int32), stations expanded to their stops.
    report
        All issues found.
    period
        ``(first, last)`` ISO dates of the feeds' service period.
    service_date
        The analysis date (ISO).
    """

    stops: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    transfers: pd.DataFrame
    report: ValidationReport
    period: tuple[str, str]
    service_date: str


# --------------------------------------------------------------------------
# Public functions


def read_gtfs(
    paths: str | Path | Sequence[str | Path],
    service_date: dt.date | str,
    settings: Settings,
    *,
    window_s: tuple[int, int] | None = None,
    horizon_s: int = 0,
    area: shapely.Geometry | None = None,
) -> GtfsFeed:
    """Read GTFS feeds for one analysis date.

    Parameters
    ----------
    paths
        One feed or several: each a ``.zip`` or a folder of ``.txt`` files.
        With several feeds, ids become ``"<feed stem>:<id>"``.
    service_date
        The analysis date (``datetime.date`` or ISO string). Trips of the
        previous and next service day are included with their times shifted
        by -/+ 86400 s, so a trip at "25:10:00" yesterday runs at 01:10 today.
    settings
        Run settings; ``crs`` is the CRS of the stop ``x``, ``y``.
    window_s
        ``(start_s, end_s)`` departure window in analysis-day seconds; only
        trips that can matter are kept (last arrival >= start_s and first
        departure <= end_s + horizon_s). None keeps every trip.
    horizon_s
        How long after the window's end a trip may still be boarded.
    area
        Geometry in ``settings.crs``: keep only trips that stop inside it
        (whole, with all their stops).

    Returns
    -------
    GtfsFeed

    Raises
    ------
    GtfsError
        The feeds have fatal problems; ``error.report`` lists every issue.
    """
    date = _as_date(service_date)
    feeds = _feed_sources(paths)
    report = ValidationReport()
    parsed = [_parse_feed(path, name, report) for name, path in feeds]
    days = [_day_tables(p, date, report) if p is not None else None for p in parsed]
    _check_any_service(feeds, days, date, report)
    if report.fatal:
        raise _error(feeds, report)
    period = _period(parsed)
    qualify = len(feeds) > 1
    pieces = [
        _select(p, d, date, settings, window_s, horizon_s, area, qualify)
        for p, d in zip(parsed, days)
    ]
    return _merge(pieces, report, period, date)


def validate_gtfs(
    paths: str | Path | Sequence[str | Path],
    service_date: dt.date | str | None = None,
    settings: Settings | None = None,
) -> ValidationReport:
    """Check GTFS feeds and report every problem, without raising.

    Parameters
    ----------
    paths
        One feed or several (zip or folder).
    service_date
        When given, also check that the date lies in the feeds' period and
        that some service runs on it.
    settings
        Unused by the checks themselves; accepted for symmetry with
        :func:`read_gtfs`.

    Returns
    -------
    ValidationReport
    """
    feeds = _feed_sources(paths)
    report = ValidationReport()
    parsed = [_parse_feed(path, name, report) for name, path in feeds]
    if service_date is not None:
        date = _as_date(service_date)
        days = [_day_tables(p, date, report) if p is not None else None for p in parsed]
        _check_any_service(feeds, days, date, report)
    return report


# --------------------------------------------------------------------------
# Reading files


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _feed_sources(paths) -> list[tuple[str, Path]]:
    """(name, path) per feed; names are the file stems, made unique."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[tuple[str, Path]] = []
    seen: dict[str, int] = {}
    for p in paths:
        path = Path(p)
        name = path.stem if path.suffix.lower() == ".zip" else path.name
        if name in seen:
            seen[name] += 1
            name = f"{name}-{seen[name]}"
        else:
            seen[name] = 1
        out.append((name, path))
    if not out:
        raise ValueError("no GTFS feed given")
    return out


class _Source:
    """The .txt files of a zip or a folder."""

    def __init__(self, path: Path):
        self.path = path
        self._zip = None
        self._members: dict[str, str] = {}
        if path.is_file():
            self._zip = zipfile.ZipFile(path)
            # Some zips nest the files in a folder: take the shallowest match.
            for member in sorted(self._zip.namelist(), key=lambda m: m.count("/"),
                                 reverse=True):
                base = member.rsplit("/", 1)[-1]
                if base.endswith(".txt"):
                    self._members[base[:-4]] = member

    def has(self, name: str) -> bool:
        if self._zip is not None:
            return name in self._members
        return (self.path / f"{name}.txt").is_file()

    def open(self, name: str):
        if self._zip is not None:
            return io.BytesIO(self._zip.read(self._members[name]))
        return open(self.path / f"{name}.txt", "rb")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _read_table(source: _Source, name: str, feed: str,
                report: ValidationReport) -> pd.DataFrame | None:
    """A file as strings, stripped, with ``_line`` (its line number); None if absent."""
    if not source.has(name):
        return None
    wanted = set(COLUMNS[name])
    file = f"{name}.txt"
    try:
        with source.open(name) as handle:
            table = pd.read_csv(
                handle, dtype=str, keep_default_na=False, na_filter=False,
                encoding="utf-8-sig", skip_blank_lines=False,
                usecols=lambda c: c.strip() in wanted,
            )
    except pd.errors.EmptyDataError:
        table = pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        report._add(feed, file, None, "", "fatal", f"cannot parse the file: {exc}")
        return None
    table.columns = [str(c).strip() for c in table.columns]
    table = table.loc[:, ~table.columns.duplicated()]
    for column in table.columns:
        table[column] = table[column].astype(str).str.strip()
    table["_line"] = np.arange(2, len(table) + 2, dtype=np.int64)
    data = [c for c in table.columns if c != "_line"]
    if data and len(table):
        blank = (table[data] == "").all(axis=1).to_numpy()
        if blank.any():
            table = table.loc[~blank]
    missing = [c for c in REQUIRED[name] if c not in table.columns]
    for column in missing:
        report._add(feed, file, None, column, "fatal", "required column missing")
    if missing:
        return None
    for column in COLUMNS[name]:
        if column not in table.columns:
            table[column] = ""
    return table.reset_index(drop=True)


def _flag(report: ValidationReport, feed: str, file: str, table: pd.DataFrame,
          mask, field_: str, severity: str, message: str, values=None) -> int:
    """Report the rows where ``mask`` holds (bounded); returns their count."""
    rows = np.flatnonzero(np.asarray(mask, dtype=bool))
    if not len(rows):
        return 0
    lines = table["_line"].to_numpy()[rows[:MAX_ROWS_REPORTED]]
    shown = None if values is None else np.asarray(values, dtype=object)[rows[:MAX_ROWS_REPORTED]]
    for k, line in enumerate(lines):
        text = message if shown is None else f"{message}: {shown[k]!r}"
        report._add(feed, file, int(line), field_, severity, text)
    if len(rows) > MAX_ROWS_REPORTED:
        report._add(feed, file, None, field_, severity,
                    f"{len(rows)} rows in total: {message} (first {MAX_ROWS_REPORTED} listed)")
    return len(rows)


def _parse_times(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Seconds (float64, NaN when empty or bad) and a mask of unparseable values."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    u = pd.Series(uniques, dtype=object)
    parts = u.str.extract(_TIME_RE).astype(float)
    secs = (parts[0] * 3600 + parts[1] * 60 + parts[2]).to_numpy()
    bad = (np.isnan(secs) & (u != "").to_numpy())
    return secs[codes] if len(codes) else np.zeros(0), bad[codes] if len(codes) else np.zeros(0, bool)


def _parse_dates(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """datetime64[D] (NaT when bad) and a mask of unparseable values (empty included)."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    u = pd.Series(uniques, dtype=object)
    parsed = pd.to_datetime(u.where(u.str.match(_DATE_RE), None), format="%Y%m%d",
                            errors="coerce").to_numpy().astype("datetime64[D]")
    if not len(codes):
        return np.zeros(0, "datetime64[D]"), np.zeros(0, bool)
    out = parsed[codes]
    return out, np.isnat(out)


def _parse_ints(values: pd.Series, default: int) -> tuple[np.ndarray, np.ndarray]:
    """int64 (``default`` when empty) and a mask of unparseable values."""
    numbers = pd.to_numeric(values.replace("", str(default)), errors="coerce")
    bad = numbers.isna().to_numpy() | (numbers.to_numpy() % 1 != 0)
    return np.where(bad, default, numbers.fillna(default).to_numpy()).astype(np.int64), bad


# --------------------------------------------------------------------------
# One feed, independent of the date


@dataclass
class _Parsed:
    name: str
    path: Path
    stops: pd.DataFrame       # all rows of stops.txt, with lat, lon, routing, station_id
    routes: pd.DataFrame
    trips: pd.DataFrame       # route_short_name, route_type joined; st_start, st_count
    st: pd.DataFrame          # trip, stop (positions), seq, arr, dep, pickup, dropoff; sorted
    freq: pd.DataFrame        # trip (position), start_s, end_s, headway_s, exact_times
    transfers: pd.DataFrame   # from/to stop positions in ``stops``, type, min_s
    calendar: pd.DataFrame | None
    calendar_dates: pd.DataFrame | None
    period: tuple[np.datetime64, np.datetime64] | None


def _parse_feed(path: Path, name: str, report: ValidationReport) -> _Parsed | None:
    """Read and check one feed; None when it has fatal problems."""
    n_fatal = len(report.fatal)
    if not path.exists():
        report._add(name, str(path), None, "", "fatal", "feed not found (expected a .zip or a folder)")
        return None
    try:
        source = _Source(path)
    except zipfile.BadZipFile as exc:
        report._add(name, str(path), None, "", "fatal", f"not a zip file: {exc}")
        return None
    try:
        tables = {}
        for table_name in COLUMNS:
            if table_name in REQUIRED_FILES and not source.has(table_name):
                report._add(name, f"{table_name}.txt", None, "", "fatal", "required file missing")
                continue
            tables[table_name] = _read_table(source, table_name, name, report)
        if not source.has("calendar") and not source.has("calendar_dates"):
            report._add(name, "calendar.txt", None, "", "fatal",
                        "neither calendar.txt nor calendar_dates.txt is present; one is required")
    finally:
        source.close()
    if len(report.fatal) > n_fatal:
        return None

    calendar = _parse_calendar(tables["calendar"], name, report)
    calendar_dates = _parse_calendar_dates(tables["calendar_dates"], name, report)
    stops = _parse_stops(tables["stops"], name, report)
    routes = _parse_routes(tables["routes"], name, report)
    trips = _parse_trips(tables["trips"], routes, calendar, calendar_dates, name, report)
    st = _parse_stop_times(tables["stop_times"], trips, stops, name, report)
    freq = _parse_frequencies(tables["frequencies"], trips, name, report)
    if len(report.fatal) > n_fatal:
        return None
    trips = _attach_stop_time_ranges(trips, st, freq, name, report)
    transfers = _parse_transfers(tables["transfers"], stops, name, report)
    used = np.zeros(len(stops), bool)
    routable = trips["st_count"].to_numpy()[st["trip"].to_numpy()] >= 2
    used[st["stop"].to_numpy()[routable]] = True
    unused = int((stops["routing"].to_numpy() & ~used).sum())
    if unused:
        report._add(name, "stops.txt", None, "stop_id", "warning",
                    f"{unused} stop(s) not used by any trip")
    period = _feed_period(calendar, calendar_dates, tables["feed_info"], name, report)
    return _Parsed(name, path, stops, routes, trips, st, freq, transfers, calendar,
                   calendar_dates, period)


def _parse_calendar(table, feed, report):
    if table is None:
        return None
    file = "calendar.txt"
    start, bad_start = _parse_dates(table["start_date"])
    end, bad_end = _parse_dates(table["end_date"])
    _flag(report, feed, file, table, bad_start, "start_date", "fatal",
          "not a date (YYYYMMDD)", table["start_date"])
    _flag(report, feed, file, table, bad_end, "end_date", "fatal",
          "not a date (YYYYMMDD)", table["end_date"])
    flags = np.zeros((len(table), 7), bool)
    for k, day in enumerate(WEEKDAYS):
        values = table[day]
        _flag(report, feed, file, table, ~values.isin(["0", "1"]), day, "fatal",
              "expected 0 or 1", values)
        flags[:, k] = (values == "1").to_numpy()
    return pd.DataFrame({"service_id": table["service_id"].to_numpy(), "start": start,
                         "end": end, "flags": list(flags)})


def _parse_calendar_dates(table, feed, report):
    if table is None:
        return None
    file = "calendar_dates.txt"
    date, bad = _parse_dates(table["date"])
    _flag(report, feed, file, table, bad, "date", "fatal", "not a date (YYYYMMDD)", table["date"])
    kind = table["exception_type"]
    _flag(report, feed, file, table, ~kind.isin(["1", "2"]), "exception_type", "fatal",
          "expected 1 (added) or 2 (removed)", kind)
    return pd.DataFrame({"service_id": table["service_id"].to_numpy(), "date": date,
                         "added": (kind == "1").to_numpy()})


def _parse_stops(table, feed, report):
    file = "stops.txt"
    ids = table["stop_id"]
    _flag(report, feed, file, table, ids.duplicated().to_numpy(), "stop_id", "fatal",
          "duplicate stop_id", ids)
    kind, bad_kind = _parse_ints(table["location_type"], 0)
    _flag(report, feed, file, table, bad_kind | (kind < 0) | (kind > 4), "location_type",
          "warning", "expected 0..4; treated as 0 (stop)", table["location_type"])
    kind[bad_kind | (kind < 0) | (kind > 4)] = 0
    lat = pd.to_numeric(table["stop_lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(table["stop_lon"], errors="coerce").to_numpy(dtype=float)
    parent = table["parent_station"].to_numpy(dtype=object)
    index = pd.Index(ids)
    pos = index.get_indexer(parent) if len(parent) else np.zeros(0, np.int64)
    has_parent = parent != ""
    is_station = np.zeros(len(pos), bool)
    is_station[pos >= 0] = kind[pos[pos >= 0]] == 1
    routing = kind == 0
    bad_parent = has_parent & routing & ~is_station
    _flag(report, feed, file, table, bad_parent, "parent_station", "warning",
          "parent station unknown or not a station (location_type 1); treated as none",
          parent)
    station_id = np.where(has_parent & routing & is_station, parent, "")
    return pd.DataFrame({
        "stop_id": ids.to_numpy(dtype=object), "stop_name": table["stop_name"].to_numpy(dtype=object),
        "lat": lat, "lon": lon, "location_type": kind, "routing": routing,
        "station_id": station_id.astype(object), "_line": table["_line"].to_numpy(),
        "_raw_lat": table["stop_lat"].to_numpy(dtype=object),
        "_raw_lon": table["stop_lon"].to_numpy(dtype=object),
    })


# GTFS route types and the extended (HVT) range used by European feeds.
def _known_route_type(route_type: np.ndarray) -> np.ndarray:
    return (((route_type >= 0) & (route_type <= 7)) | (route_type == 11) | (route_type == 12)
            | ((route_type >= 100) & (route_type <= 1799)))


def _parse_routes(table, feed, report):
    file = "routes.txt"
    _flag(report, feed, file, table, table["route_id"].duplicated().to_numpy(), "route_id",
          "warning", "duplicate route_id; the first row is used", table["route_id"])
    route_type, bad = _parse_ints(table["route_type"], -1)
    route_type[bad] = -1
    _flag(report, feed, file, table, ~_known_route_type(route_type), "route_type", "warning",
          "unknown route_type", table["route_type"])
    routes = pd.DataFrame({"route_id": table["route_id"].to_numpy(dtype=object),
                           "route_short_name": table["route_short_name"].to_numpy(dtype=object),
                           "route_type": route_type})
    return routes.drop_duplicates("route_id").reset_index(drop=True)


def _parse_trips(table, routes, calendar, calendar_dates, feed, report):
    file = "trips.txt"
    _flag(report, feed, file, table, table["trip_id"].duplicated().to_numpy(), "trip_id",
          "fatal", "duplicate trip_id", table["trip_id"])
    route_pos = pd.Index(routes["route_id"]).get_indexer(table["route_id"])
    _flag(report, feed, file, table, route_pos < 0, "route_id", "fatal",
          "unknown route_id (not in routes.txt)", table["route_id"])
    services = set()
    if calendar is not None:
        services.update(calendar["service_id"])
    if calendar_dates is not None:
        services.update(calendar_dates["service_id"])
    _flag(report, feed, file, table, ~table["service_id"].isin(services).to_numpy(),
          "service_id", "fatal", "service_id in neither calendar.txt nor calendar_dates.txt",
          table["service_id"])
    route_pos = np.maximum(route_pos, 0)
    return pd.DataFrame({
        "trip_id": table["trip_id"].to_numpy(dtype=object),
        "route_id": table["route_id"].to_numpy(dtype=object),
        "service_id": table["service_id"].to_numpy(dtype=object),
        "route_short_name": routes["route_short_name"].to_numpy()[route_pos] if len(routes) else "",
        "route_type": routes["route_type"].to_numpy()[route_pos] if len(routes) else -1,
        "_line": table["_line"].to_numpy(),
    })


def _parse_stop_times(table, trips, stops, feed, report):
    """Stop times sorted by trip and sequence, times in seconds, gaps interpolated."""
    file = "stop_times.txt"
    trip = pd.Index(trips["trip_id"]).get_indexer(table["trip_id"])
    _flag(report, feed, file, table, trip < 0, "trip_id", "fatal",
          "unknown trip_id (not in trips.txt)", table["trip_id"])
    stop = pd.Index(stops["stop_id"]).get_indexer(table["stop_id"])
    _flag(report, feed, file, table, stop < 0, "stop_id", "fatal",
          "unknown stop_id (not in stops.txt)", table["stop_id"])
    known = stop >= 0
    not_routing = np.zeros(len(stop), bool)
    not_routing[known] = ~stops["routing"].to_numpy()[stop[known]]
    _flag(report, feed, file, table, not_routing, "stop_id", "fatal",
          "stop_id is a station, entrance, node or boarding area, not a stop (location_type 0)",
          table["stop_id"])
    seq, bad_seq = _parse_ints(table["stop_sequence"], -1)
    bad_seq |= seq < 0
    _flag(report, feed, file, table, bad_seq, "stop_sequence", "fatal",
          "not a non-negative integer", table["stop_sequence"])
    arr, bad_arr = _parse_times(table["arrival_time"])
    dep, bad_dep = _parse_times(table["departure_time"])
    _flag(report, feed, file, table, bad_arr, "arrival_time", "fatal",
          "not a time (H:MM:SS)", table["arrival_time"])
    _flag(report, feed, file, table, bad_dep, "departure_time", "fatal",
          "not a time (H:MM:SS)", table["departure_time"])

    # Stops used by a trip need a position on the earth.
    used = np.zeros(len(stops), bool)
    used[stop[known]] = True
    lat, lon = stops["lat"].to_numpy(), stops["lon"].to_numpy()
    stop_table = stops  # ``_line`` refers to stops.txt
    _flag(report, feed, "stops.txt", stop_table,
          used & ~((lat >= -90) & (lat <= 90) & (lat != 0)), "stop_lat", "fatal",
          "latitude missing or out of range for a stop used by stop_times", stops["_raw_lat"])
    _flag(report, feed, "stops.txt", stop_table,
          used & ~((lon >= -180) & (lon <= 180) & (lon != 0)), "stop_lon", "fatal",
          "longitude missing or out of range for a stop used by stop_times", stops["_raw_lon"])

    ok = (trip >= 0) & ~bad_seq
    order = np.lexsort((seq, trip))
    order = order[ok[order]]
    trip_s, seq_s = trip[order], seq[order]
    lines = table["_line"].to_numpy()[order]
    view = pd.DataFrame({"_line": lines})
    dup = np.zeros(len(order), bool)
    dup[1:] = (trip_s[1:] == trip_s[:-1]) & (seq_s[1:] == seq_s[:-1])
    _flag(report, feed, file, view, dup, "stop_sequence", "fatal",
          "duplicate stop_sequence in a trip", table["stop_sequence"].to_numpy()[order])

    arr_s, dep_s = arr[order], dep[order]
    # Only one of the two given: use it for both.
    arr_s = np.where(np.isnan(arr_s), dep_s, arr_s)
    dep_s = np.where(np.isnan(dep_s), arr_s, dep_s)
    first = np.ones(len(order), bool)
    first[1:] = trip_s[1:] != trip_s[:-1]
    last = np.ones(len(order), bool)
    last[:-1] = trip_s[1:] != trip_s[:-1]
    missing = np.isnan(arr_s) & ~(bad_arr[order] | bad_dep[order])
    _flag(report, feed, file, view, missing & (first | last), "arrival_time", "fatal",
          "no time at the first or last stop of a trip")
    if (missing & (first | last)).any():
        return None
    gaps = int(missing.sum())
    if gaps:
        dist = pd.to_numeric(table["shape_dist_traveled"].to_numpy()[order], errors="coerce")
        arr_s, dep_s = _interpolate(trip_s, arr_s, dep_s, np.asarray(dist, float), missing)
        report._add(feed, file, None, "arrival_time", "warning",
                    f"{gaps} stop time(s) without arrival/departure time interpolated")

    valid = ~(np.isnan(arr_s) | np.isnan(dep_s))
    _flag(report, feed, file, view, valid & (dep_s < arr_s), "departure_time", "fatal",
          "departure before arrival at the stop")
    back = np.zeros(len(order), bool)
    back[1:] = ~first[1:] & (arr_s[1:] < dep_s[:-1])
    _flag(report, feed, file, view, back, "arrival_time", "fatal",
          "arrival before the departure from the previous stop (times out of order)")

    pickup = table["pickup_type"].to_numpy()[order] != "1"
    dropoff = table["drop_off_type"].to_numpy()[order] != "1"
    return pd.DataFrame({
        "trip": trip_s.astype(np.int64), "stop": stop[order].astype(np.int64),
        "arr": np.nan_to_num(arr_s).astype(np.int64), "dep": np.nan_to_num(dep_s).astype(np.int64),
        "pickup": pickup, "dropoff": dropoff,
    })


def _interpolate(trip, arr, dep, dist, missing):
    """Fill missing times linearly between the surrounding timed stops of each trip.

    By ``shape_dist_traveled`` when a trip has it on every row, else evenly
    by stop count. First and last stops are timed, so the surrounding timed
    stops never lie in another trip.
    """
    n = len(trip)
    position = np.arange(n, dtype=float)
    has_dist = pd.Series(~np.isnan(dist)).groupby(trip).transform("all").to_numpy()
    measure = np.where(has_dist, dist, position)
    idx = np.arange(n)
    prev = np.maximum.accumulate(np.where(~missing, idx, -1))
    nxt = np.minimum.accumulate(np.where(~missing, idx, n)[::-1])[::-1]
    m = np.flatnonzero(missing)
    p, q = prev[m], nxt[m]
    span = measure[q] - measure[p]
    frac = np.where(span > 0, (measure[m] - measure[p]) / np.where(span > 0, span, 1),
                    (position[m] - position[p]) / (position[q] - position[p]))
    times = np.round(dep[p] + frac * (arr[q] - dep[p]))
    arr, dep = arr.copy(), dep.copy()
    arr[m] = times
    dep[m] = times
    return arr, dep


def _parse_frequencies(table, trips, feed, report):
    columns = ["trip", "start_s", "end_s", "headway_s", "exact_times"]
    if table is None or not len(table):
        return pd.DataFrame({c: np.zeros(0, np.int64) for c in columns})
    file = "frequencies.txt"
    trip = pd.Index(trips["trip_id"]).get_indexer(table["trip_id"])
    _flag(report, feed, file, table, trip < 0, "trip_id", "fatal",
          "unknown trip_id (not in trips.txt)", table["trip_id"])
    start, bad_start = _parse_times(table["start_time"])
    end, bad_end = _parse_times(table["end_time"])
    bad_start |= np.isnan(start)
    bad_end |= np.isnan(end)
    _flag(report, feed, file, table, bad_start, "start_time", "fatal",
          "not a time (H:MM:SS)", table["start_time"])
    _flag(report, feed, file, table, bad_end, "end_time", "fatal",
          "not a time (H:MM:SS)", table["end_time"])
    headway, bad_headway = _parse_ints(table["headway_secs"], 0)
    _flag(report, feed, file, table, bad_headway | (headway <= 0), "headway_secs", "fatal",
          "headway must be a positive number of seconds", table["headway_secs"])
    exact = table["exact_times"]
    bad_exact = ~exact.isin(["", "0", "1"]).to_numpy()
    _flag(report, feed, file, table, bad_exact, "exact_times", "warning",
          "expected 0 or 1; treated as 0", exact)
    ok = (trip >= 0) & ~bad_start & ~bad_end & ~bad_headway & (headway > 0)
    _flag(report, feed, file, table, ok & (end <= start), "end_time", "warning",
          "end_time not after start_time; no trips", table["end_time"])
    freq = pd.DataFrame({
        "trip": trip, "start_s": np.nan_to_num(start).astype(np.int64),
        "end_s": np.nan_to_num(end).astype(np.int64), "headway_s": headway,
        "exact_times": (exact == "1").to_numpy().astype(np.int64),
        "_line": table["_line"].to_numpy(),
    })[ok]
    freq = freq.sort_values(["trip", "start_s"], kind="stable")
    t, s, e = freq["trip"].to_numpy(), freq["start_s"].to_numpy(), freq["end_s"].to_numpy()
    overlap = np.zeros(len(freq), bool)
    overlap[1:] = (t[1:] == t[:-1]) & (s[1:] < e[:-1])
    _flag(report, feed, file, freq, overlap, "start_time", "warning",
          "overlaps an earlier frequency row of the same trip")
    return freq.reset_index(drop=True)[columns]


def _attach_stop_time_ranges(trips, st, freq, feed, report):
    """Per trip: first stop-time row, count, first departure and last arrival."""
    counts = np.bincount(st["trip"].to_numpy(), minlength=len(trips))
    starts = np.zeros(len(trips), np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    trips = trips.copy()
    trips["st_start"] = starts
    trips["st_count"] = counts
    has = counts > 0
    first_dep = np.zeros(len(trips), np.int64)
    last_arr = np.zeros(len(trips), np.int64)
    first_dep[has] = st["dep"].to_numpy()[starts[has]]
    last_arr[has] = st["arr"].to_numpy()[starts[has] + counts[has] - 1]
    trips["first_dep"] = first_dep
    trips["last_arr"] = last_arr
    trips["template"] = np.isin(np.arange(len(trips)), freq["trip"].to_numpy())
    _flag(report, feed, "trips.txt", trips, counts == 0, "trip_id", "warning",
          "trip has no stop times; ignored", trips["trip_id"])
    _flag(report, feed, "trips.txt", trips, counts == 1, "trip_id", "warning",
          "trip has only one stop time; ignored", trips["trip_id"])
    return trips


def _parse_transfers(table, stops, feed, report):
    columns = ["from", "to", "transfer_type", "min_transfer_s"]
    empty = pd.DataFrame({c: np.zeros(0, np.int64) for c in columns})
    if table is None or not len(table):
        return empty
    file = "transfers.txt"
    index = pd.Index(stops["stop_id"])
    ok = np.ones(len(table), bool)
    for column in ("from_stop_id", "to_stop_id"):
        pos = index.get_indexer(table[column])
        bad = pos < 0
        _flag(report, feed, file, table, bad, column, "warning",
              "unknown stop; transfer ignored", table[column])
        ok &= ~bad
    specific = np.zeros(len(table), bool)
    for column in ("from_route_id", "to_route_id", "from_trip_id", "to_trip_id"):
        specific |= (table[column] != "").to_numpy()
    kind, bad_kind = _parse_ints(table["transfer_type"], 0)
    bad_kind |= (kind < 0) | (kind > 5)
    _flag(report, feed, file, table, bad_kind, "transfer_type", "warning",
          "expected 0..5; transfer ignored", table["transfer_type"])
    in_seat = ~bad_kind & (kind >= 4)
    _flag(report, feed, file, table, in_seat, "transfer_type", "warning",
          "in-seat transfer (4/5) not supported; ignored", table["transfer_type"])
    _flag(report, feed, file, table, specific & ~in_seat, "from_trip_id", "warning",
          "route- or trip-specific transfer not supported; ignored")
    min_s, bad_min = _parse_ints(table["min_transfer_time"], 0)
    _flag(report, feed, file, table, bad_min | (min_s < 0), "min_transfer_time", "warning",
          "not a non-negative number of seconds; 0 used", table["min_transfer_time"])
    min_s[bad_min | (min_s < 0)] = 0
    _flag(report, feed, file, table,
          ~bad_kind & (kind == 2) & (table["min_transfer_time"] == "").to_numpy(),
          "min_transfer_time", "warning", "transfer_type 2 without min_transfer_time; 0 used")
    ok &= ~bad_kind & ~in_seat & ~specific
    return pd.DataFrame({
        "from": index.get_indexer(table["from_stop_id"]), "to": index.get_indexer(table["to_stop_id"]),
        "transfer_type": kind, "min_transfer_s": min_s,
    })[ok].reset_index(drop=True)


def _feed_period(calendar, calendar_dates, feed_info, feed, report):
    dates = []
    if calendar is not None and len(calendar):
        dates += [calendar["start"].to_numpy(), calendar["end"].to_numpy()]
    if calendar_dates is not None and len(calendar_dates):
        dates.append(calendar_dates["date"].to_numpy())
    first = last = None
    if dates:
        all_dates = np.concatenate(dates).astype("datetime64[D]")
        all_dates = all_dates[~np.isnat(all_dates)]
        if len(all_dates):
            first, last = all_dates.min(), all_dates.max()
    if feed_info is not None and len(feed_info):
        for column in ("feed_start_date", "feed_end_date"):
            value = feed_info[column].iloc[:1]
            if value.iloc[0] == "":
                continue
            date, bad = _parse_dates(value)
            if bad[0]:
                _flag(report, feed, "feed_info.txt", feed_info.iloc[:1], bad, column, "warning",
                      "not a date (YYYYMMDD); ignored", value)
            elif column == "feed_start_date":
                first = date[0]
            else:
                last = date[0]
    if first is None or last is None:
        return None
    return first, last


# --------------------------------------------------------------------------
# One feed on one analysis date


@dataclass
class _Day:
    """Which trips of a feed run on the service days around the analysis date."""

    active: dict[int, np.ndarray]   # day offset -> bool per trip: the service runs that day


def _active_services(parsed: _Parsed, day: np.datetime64) -> set:
    active = set()
    if parsed.calendar is not None and len(parsed.calendar):
        cal = parsed.calendar
        weekday = int((day.astype("datetime64[D]").astype(np.int64) - 4) % 7)  # 1970-01-01 = Thu
        flags = np.stack(cal["flags"].to_numpy())[:, weekday]
        runs = flags & (cal["start"].to_numpy() <= day) & (cal["end"].to_numpy() >= day)
        active.update(cal["service_id"].to_numpy()[runs])
    if parsed.calendar_dates is not None and len(parsed.calendar_dates):
        cd = parsed.calendar_dates
        on_day = cd["date"].to_numpy() == day
        added = cd["added"].to_numpy()
        active.difference_update(cd["service_id"].to_numpy()[on_day & ~added])
        active.update(cd["service_id"].to_numpy()[on_day & added])
    return active


def _day_tables(parsed: _Parsed, date: dt.date, report: ValidationReport) -> _Day | None:
    """Which trips run on the service days before, of and after ``date``."""
    day = np.datetime64(date, "D")
    if parsed.period is not None:
        first, last = parsed.period
        if day < first or day > last:
            report._add(parsed.name, "calendar.txt", None, "", "fatal",
                        f"{date.isoformat()} is outside the feed's service period "
                        f"{_iso(first)} .. {_iso(last)}")
            return None
    services = parsed.trips["service_id"]
    active = {}
    for offset in (-1, 0, 1):
        running = _active_services(parsed, day + np.timedelta64(offset, "D"))
        active[offset] = services.isin(running).to_numpy() & (parsed.trips["st_count"].to_numpy() >= 2)
    return _Day(active)


def _check_any_service(feeds, days, date, report):
    """No trip on the analysis date: fatal when no feed has one, else a warning."""
    runs = [d is not None and bool(d.active[0].any()) for d in days]
    if any(runs) or any(d is None for d in days):
        severity = "warning"
    else:
        severity = "fatal"
    for (name, _), day, ok in zip(feeds, days, runs):
        if day is not None and not ok:
            report._add(name, "calendar.txt", None, "service_id", severity,
                        f"no service is active on {date.isoformat()} "
                        f"(no trip of calendar.txt/calendar_dates.txt runs that day)")


def _iso(day: np.datetime64) -> str:
    return str(np.datetime64(day, "D"))


def _period(parsed: list[_Parsed]) -> tuple[str, str]:
    periods = [p.period for p in parsed if p is not None and p.period is not None]
    if not periods:
        return ("", "")
    return _iso(min(p[0] for p in periods)), _iso(max(p[1] for p in periods))


def _gtfs_time(seconds: np.ndarray) -> np.ndarray:
    """``HH:MM:SS`` strings (hours may exceed 24)."""
    s = pd.Series(seconds, dtype=np.int64)
    return (s // 3600).astype(str).str.zfill(2) + ":" + (s // 60 % 60).astype(str).str.zfill(2) \
        + ":" + (s % 60).astype(str).str.zfill(2)


def _select(parsed: _Parsed, day: _Day, date: dt.date, settings: Settings, window_s,
            horizon_s, area, qualify: bool) -> dict[str, pd.DataFrame]:
    """Trip instances of the analysis day and their stop times, for one feed."""
    trips, st = parsed.trips, parsed.st
    in_area = None
    if area is not None:
        x, y = _project(parsed.stops, settings)
        stop_in = shapely.intersects_xy(area, x, y) & parsed.stops["routing"].to_numpy()
        in_area = np.zeros(len(trips), bool)
        hits = st["trip"].to_numpy()[stop_in[st["stop"].to_numpy()]]
        in_area[hits] = True

    instances = []
    template = trips["template"].to_numpy()
    freq = parsed.freq
    for offset, active in day.active.items():
        if in_area is not None:
            active = active & in_area
        shift = offset * DAY_S
        plain = np.flatnonzero(active & ~template)
        instances.append(pd.DataFrame({
            "tpos": plain, "shift": shift, "day_offset": offset, "frequency_based": False,
            "exact_times": -1, "first_dep_gtfs": trips["first_dep"].to_numpy()[plain],
        }))
        rows = freq[active[freq["trip"].to_numpy()]] if len(freq) else freq
        if len(rows):
            n = np.maximum(-(-(rows["end_s"] - rows["start_s"]).to_numpy()
                           // rows["headway_s"].to_numpy()), 0)
            rep = np.repeat(np.arange(len(rows)), n)
            k = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n)
            tpos = rows["trip"].to_numpy()[rep]
            departure = rows["start_s"].to_numpy()[rep] + k * rows["headway_s"].to_numpy()[rep]
            instances.append(pd.DataFrame({
                "tpos": tpos, "shift": shift + departure - trips["first_dep"].to_numpy()[tpos],
                "day_offset": offset, "frequency_based": True,
                "exact_times": rows["exact_times"].to_numpy()[rep], "first_dep_gtfs": departure,
            }))
    inst = pd.concat(instances, ignore_index=True)
    tpos = inst["tpos"].to_numpy()
    first_dep = trips["first_dep"].to_numpy()[tpos] + inst["shift"].to_numpy()
    last_arr = trips["last_arr"].to_numpy()[tpos] + inst["shift"].to_numpy()
    if window_s is not None:
        start_s, end_s = window_s
        keep = (last_arr >= start_s) & (first_dep <= end_s + horizon_s)
        inst, first_dep = inst[keep].reset_index(drop=True), first_dep[keep]
        tpos = inst["tpos"].to_numpy()
    inst["first_dep"] = first_dep

    # Instance stop times: each instance copies its template's rows, shifted.
    counts = trips["st_count"].to_numpy()[tpos]
    starts = trips["st_start"].to_numpy()[tpos]
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(inst)), counts)
    rows_idx = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)
    shift = inst["shift"].to_numpy()[owner]
    prefix = f"{parsed.name}:" if qualify else ""
    base_id = trips["trip_id"].to_numpy()[tpos]
    trip_id = pd.Series(base_id, dtype=object)
    freq_mask = inst["frequency_based"].to_numpy()
    if freq_mask.any():
        trip_id[freq_mask] = (trip_id[freq_mask] + "@"
                              + _gtfs_time(inst["first_dep_gtfs"].to_numpy()[freq_mask]).to_numpy())
    offsets = inst["day_offset"].to_numpy().astype(np.int64)
    day_names = {o: (date + dt.timedelta(days=int(o))).isoformat() for o in (-1, 0, 1)}
    service_dates = pd.Series(offsets).map(day_names).to_numpy(dtype=object)
    # The same trip may run on the day before and after too: name those by their day.
    other_day = offsets != 0
    trip_id[other_day] = trip_id[other_day] + "~" + service_dates[other_day]
    trip_table = pd.DataFrame({
        "trip_id": prefix + trip_id,
        "route_id": prefix + pd.Series(trips["route_id"].to_numpy()[tpos], dtype=object),
        "route_short_name": trips["route_short_name"].to_numpy()[tpos],
        "route_type": trips["route_type"].to_numpy()[tpos].astype(np.int64),
        "service_date": service_dates,
        "day_offset": offsets,
        "frequency_based": freq_mask,
        "exact_times": inst["exact_times"].to_numpy().astype(np.int64),
    })
    # Stops used by the kept trips, renumbered in file order.
    stop_pos = st["stop"].to_numpy()[rows_idx]
    used = np.unique(stop_pos)
    local = np.full(len(parsed.stops), -1, np.int64)
    local[used] = np.arange(len(used))
    stops = parsed.stops.iloc[used]
    x, y = _project(stops, settings)
    station = stops["station_id"].to_numpy(dtype=object)
    stop_table = pd.DataFrame({
        "stop_id": prefix + stops["stop_id"].astype(object).reset_index(drop=True),
        "stop_name": stops["stop_name"].to_numpy(dtype=object),
        "station_id": np.where(station != "", prefix + station.astype(str), "").astype(object),
        "lon": stops["lon"].to_numpy(dtype=np.float64), "lat": stops["lat"].to_numpy(dtype=np.float64),
        "x": np.asarray(x, np.float64), "y": np.asarray(y, np.float64),
    })
    st_table = pd.DataFrame({
        "trip": owner.astype(np.int64),
        "stop": local[stop_pos],
        "arrival_s": st["arr"].to_numpy()[rows_idx] + shift,
        "departure_s": st["dep"].to_numpy()[rows_idx] + shift,
        "pickup": st["pickup"].to_numpy()[rows_idx],
        "dropoff": st["dropoff"].to_numpy()[rows_idx],
    })
    transfers = _expand_transfers(parsed, local)
    return {"stops": stop_table, "trips": trip_table, "stop_times": st_table,
            "transfers": transfers, "first_dep": pd.DataFrame({"s": first_dep})}


def _expand_transfers(parsed: _Parsed, local: np.ndarray) -> pd.DataFrame:
    """Transfers between kept stops; a station stands for each of its stops.

    A rule naming stops directly wins over one derived from a station.
    """
    tr = parsed.transfers
    columns = ["from_stop", "to_stop", "transfer_type", "min_transfer_s"]
    if not len(tr):
        return pd.DataFrame({c: np.zeros(0, np.int64) for c in columns})
    stops = parsed.stops
    routing = np.flatnonzero(stops["routing"].to_numpy())
    station_pos = pd.Index(stops["stop_id"]).get_indexer(stops["station_id"].to_numpy()[routing])
    child = station_pos >= 0
    expand = pd.DataFrame({
        "key": np.concatenate([routing, station_pos[child]]),
        "stop": np.concatenate([routing, routing[child]]),
        "specific": np.concatenate([np.ones(len(routing), np.int64), np.zeros(child.sum(), np.int64)]),
    })
    out = tr.merge(expand.rename(columns={"key": "from", "stop": "from_stop", "specific": "s1"}),
                   on="from")
    out = out.merge(expand.rename(columns={"key": "to", "stop": "to_stop", "specific": "s2"}),
                    on="to")
    out["specific"] = out["s1"] + out["s2"]
    out = out.sort_values("specific", ascending=False, kind="stable")
    out = out.drop_duplicates(["from_stop", "to_stop"])
    out["from_stop"] = local[out["from_stop"].to_numpy()]
    out["to_stop"] = local[out["to_stop"].to_numpy()]
    out = out[(out["from_stop"] >= 0) & (out["to_stop"] >= 0)]
    return out[columns].sort_values(["from_stop", "to_stop"]).reset_index(drop=True)


def _project(stops: pd.DataFrame, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    transformer = pyproj.Transformer.from_crs("EPSG:4326", settings.crs, always_xy=True)
    return transformer.transform(stops["lon"].to_numpy(), stops["lat"].to_numpy())


def _merge(pieces: list[dict[str, pd.DataFrame]], report: ValidationReport,
           period: tuple[str, str], date: dt.date) -> GtfsFeed:
    """One feed from the per-feed pieces, indices offset; trips ordered by first departure."""
    stop_offset = np.cumsum([0] + [len(p["stops"]) for p in pieces])
    trip_offset = np.cumsum([0] + [len(p["trips"]) for p in pieces])
    stops = pd.concat([p["stops"] for p in pieces], ignore_index=True)
    trips = pd.concat([p["trips"] for p in pieces], ignore_index=True)
    first_dep = np.concatenate([p["first_dep"]["s"].to_numpy() for p in pieces])
    st = pd.concat([p["stop_times"].assign(trip=p["stop_times"]["trip"] + trip_offset[k],
                                           stop=p["stop_times"]["stop"] + stop_offset[k])
                    for k, p in enumerate(pieces)], ignore_index=True)
    transfers = pd.concat([p["transfers"].assign(from_stop=p["transfers"]["from_stop"] + stop_offset[k],
                                                 to_stop=p["transfers"]["to_stop"] + stop_offset[k])
                           for k, p in enumerate(pieces)], ignore_index=True)

    # Deterministic trip numbering: by first departure, then trip id.
    order = np.lexsort((trips["trip_id"].to_numpy(dtype=str), first_dep))
    new_index = np.empty(len(order), np.int64)
    new_index[order] = np.arange(len(order))
    trips = trips.iloc[order].reset_index(drop=True)
    st["trip"] = new_index[st["trip"].to_numpy()]
    # Rows of a trip are already in sequence order; a stable sort keeps it.
    st = st.sort_values("trip", kind="stable").reset_index(drop=True)
    st = st.astype({"trip": np.int32, "stop": np.int32, "arrival_s": np.int32,
                    "departure_s": np.int32})
    transfers = transfers.astype({"from_stop": np.int32, "to_stop": np.int32,
                                  "transfer_type": np.int64, "min_transfer_s": np.int32})
    trips = trips.astype({"route_type": np.int64, "day_offset": np.int64,
                          "frequency_based": bool, "exact_times": np.int64})
    return GtfsFeed(stops=stops, trips=trips, stop_times=st, transfers=transfers,
                    report=report, period=period, service_date=date.isoformat())


def _error(feeds, report: ValidationReport) -> GtfsError:
    fatal = report.fatal
    by_name = dict(feeds)
    path = by_name.get(fatal[0].feed, feeds[0][1])
    lines = [str(issue) for issue in fatal[:MAX_FATAL_IN_MESSAGE]]
    if len(fatal) > MAX_FATAL_IN_MESSAGE:
        lines.append(f"... and {len(fatal) - MAX_FATAL_IN_MESSAGE} more fatal issue(s)")
    lines.append("(`bereikbaarheid gtfs-check FEED --date YYYY-MM-DD --csv issues.csv` "
                 "lists every problem, warnings included)")
    return GtfsError(path, f"GTFS feed cannot be routed on ({len(fatal)} fatal issue(s)):\n  "
                     + "\n  ".join(lines), report=report)
