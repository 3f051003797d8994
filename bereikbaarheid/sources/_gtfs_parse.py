"""One GTFS feed's tables parsed and checked, independent of the analysis date."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import _gtfs_text
from ._gtfs_text import MAX_ROWS_REPORTED, WEEKDAYS, ValidationReport

_TIME_RE = r"^(\d{1,3}):([0-5]\d):([0-5]\d)$"
_DATE_RE = r"^(\d{4})(\d{2})(\d{2})$"


# --------------------------------------------------------------------------
# Parsing values


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
    numbers = pd.to_numeric(values.replace("", str(default)), errors="coerce").to_numpy(float)
    # GTFS integers fit in 32 bits: 1e30, inf and 1.5 are not one.
    bad = ~(np.abs(numbers) < 2**31) | (numbers != np.floor(numbers))
    return np.where(bad, default, numbers).astype(np.int64), bad


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
        source = _gtfs_text._Source(path, name)
    except zipfile.BadZipFile as exc:
        report._add(name, str(path), None, "", "fatal",
                    f"not a zip file ({exc}); expected a GTFS zip or a folder of .txt files")
        return None
    except OSError as exc:
        report._add(name, str(path), None, "", "fatal", f"cannot read it ({exc})")
        return None
    try:
        tables = _gtfs_text._read_tables(source, name, report)
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


def _positions(ids: pd.Series, values: pd.Series) -> np.ndarray:
    """Position of each value among ``ids`` (its first occurrence there), -1 when absent.

    A duplicate id is fatal (reported by the caller's checks); taking the
    first lets the other checks of the feed still run and report.
    """
    index = pd.Index(ids)
    if index.is_unique:
        return index.get_indexer(values)
    first = np.flatnonzero(~index.duplicated())
    pos = index[first].get_indexer(values)
    return np.where(pos >= 0, first[np.maximum(pos, 0)], -1)


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
    pos = _positions(ids, parent)
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
    trip = _positions(trips["trip_id"], table["trip_id"])
    _flag(report, feed, file, table, trip < 0, "trip_id", "fatal",
          "unknown trip_id (not in trips.txt)", table["trip_id"])
    stop = _positions(stops["stop_id"], table["stop_id"])
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
    trip = _positions(trips["trip_id"], table["trip_id"])
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
