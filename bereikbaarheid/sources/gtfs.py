"""GTFS reader and validator: one analysis day of one or more feeds as vectorised tables."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import shapely

from ..config import Settings
from ..errors import ConfigError, GtfsError
from . import _gtfs_parse, _gtfs_text
# Defined where the files are read, and part of this module's interface too.
from ._gtfs_text import (COLUMNS as COLUMNS, MAX_ROWS_REPORTED as MAX_ROWS_REPORTED,
                         REQUIRED as REQUIRED, REQUIRED_FILES as REQUIRED_FILES,
                         WEEKDAYS as WEEKDAYS, GtfsIssue as GtfsIssue, TextFile as TextFile,
                         ValidationReport as ValidationReport)

logger = logging.getLogger(__name__)

DAY_S = 86_400


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
        The day after a feed's last day is accepted, with a warning, when
        trips of that last day run past midnight into it (and into the
        window, when given); only those trips serve it.
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
    ConfigError
        ``service_date`` is not a date.
    """
    date = _as_date(service_date)
    feeds = _gtfs_text._feed_sources(paths)
    report = ValidationReport()
    parsed = [_gtfs_parse._parse_feed(path, name, report) for name, path in feeds]
    window = None if window_s is None else (window_s[0], window_s[1] + horizon_s)
    days = [_day_tables(p, date, report, window) if p is not None else None for p in parsed]
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

    Raises
    ------
    ConfigError
        ``service_date`` is not a date (``YYYY-MM-DD``).
    """
    date = None if service_date is None else _as_date(service_date)
    feeds = _gtfs_text._feed_sources(paths)
    report = ValidationReport()
    parsed = [_gtfs_parse._parse_feed(path, name, report) for name, path in feeds]
    if date is not None:
        days = [_day_tables(p, date, report) if p is not None else None for p in parsed]
        _check_any_service(feeds, days, date, report)
    return report


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{str(value)!r} is not a date; expected YYYY-MM-DD, e.g. 2026-03-10",
                          key="service_date") from None


# --------------------------------------------------------------------------
# One feed on one analysis date


@dataclass
class _Day:
    """Which trips of a feed run on the service days around the analysis date."""

    active: dict[int, np.ndarray]   # day offset -> bool per trip: the service runs that day
    serves: bool                    # some trip runs on the analysis date
    scheduled: bool = True          # some service runs that day, stop times or not


def _active_services(parsed: _gtfs_parse._Parsed, day: np.datetime64) -> set:
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


def _day_tables(parsed: _gtfs_parse._Parsed, date: dt.date, report: ValidationReport,
                window: tuple[int, int] | None = None) -> _Day | None:
    """Which trips run on the service days before, of and after ``date``.

    ``window`` is ``(start_s, last_departure_s)``: the trips of an analysis
    run by :func:`read_gtfs` (None: all). It decides whether the day after
    the feed's last day is served (see :func:`_past_end`).
    """
    day = np.datetime64(date, "D")
    past_end = False
    if parsed.period is not None:
        first, last = parsed.period
        past_end = day == last + np.timedelta64(1, "D")
        if day < first or (day > last and not past_end):
            report._add(parsed.name, "calendar.txt", None, "", "fatal",
                        f"{date.isoformat()} is outside the feed's service period "
                        f"{_iso(first)} .. {_iso(last)}")
            return None
    services = parsed.trips["service_id"]
    routable = parsed.trips["st_count"].to_numpy() >= 2
    active = {}
    scheduled = False
    for offset in (-1, 0, 1):
        if past_end and offset >= 0:
            # The feed vouches for no day after its last, whatever its calendar says.
            active[offset] = np.zeros(len(services), bool)
            continue
        running = services.isin(_active_services(parsed, day + np.timedelta64(offset, "D")))
        active[offset] = running.to_numpy() & routable
        scheduled |= offset == 0 and bool(running.any())
    if past_end:
        return _past_end(parsed, date, active, window, report)
    return _Day(active, serves=bool(active[0].any()), scheduled=scheduled)


def _past_end(parsed: _gtfs_parse._Parsed, date: dt.date, active: dict[int, np.ndarray],
              window: tuple[int, int] | None, report: ValidationReport) -> _Day | None:
    """The day after a feed's last day, served only by that day's trips running past midnight.

    Accepted with a warning saying until when they run; fatal when none
    reaches into the day (or into the window, when given).
    """
    first, last = parsed.period
    inst = _instances(parsed, {-1: active[-1]})
    last_arr = inst["last_arr"].to_numpy()
    late = last_arr > 0
    where = f"{date.isoformat()} is one day past the feed's last day {_iso(last)}"
    expected = f"expected a date in the feed's service period {_iso(first)} .. {_iso(last)}"
    if not late.any():
        report._add(parsed.name, "calendar.txt", None, "", "fatal",
                    f"{where}, and no trip of that day runs past midnight into it; {expected}")
        return None
    if window is not None:
        until_s = int(last_arr[late].max())
        late &= _in_window(inst, window)
        if not late.any():
            report._add(parsed.name, "calendar.txt", None, "", "fatal",
                        f"{where}; that day's trips running past midnight end by "
                        f"{_clock(until_s)}, before the time window from {_clock(window[0])}; "
                        f"{expected}")
            return None
    message = (f"{where}; only the previous day's trips running past midnight "
               f"(until {_clock(int(last_arr[late].max()))}) serve it")
    report._add(parsed.name, "calendar.txt", None, "", "warning", message)
    logger.warning(f"GTFS {parsed.name}: {message}")
    return _Day(active, serves=True)


def _clock(seconds: int) -> str:
    """``HH:MM`` (``HH:MM:SS`` when the seconds are not 0) of analysis-day seconds."""
    text = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}"
    return text + f":{seconds % 60:02d}" if seconds % 60 else text


def _check_any_service(feeds, days, date, report):
    """No trip on the analysis date: fatal when no feed has one, else a warning."""
    runs = [d is not None and d.serves for d in days]
    if any(runs) or any(d is None for d in days):
        severity = "warning"
    else:
        severity = "fatal"
    for (name, _), day, ok in zip(feeds, days, runs):
        if day is not None and not ok and day.scheduled:
            report._add(name, "stop_times.txt", None, "trip_id", severity,
                        f"services run on {date.isoformat()}, but none of their trips has "
                        "two or more stop times; expected the trips' stops in stop_times.txt")
        elif day is not None and not ok:
            report._add(name, "calendar.txt", None, "service_id", severity,
                        f"no service is active on {date.isoformat()} "
                        f"(no trip of calendar.txt/calendar_dates.txt runs that day)")


def _iso(day: np.datetime64) -> str:
    return str(np.datetime64(day, "D"))


def _period(parsed: list[_gtfs_parse._Parsed]) -> tuple[str, str]:
    periods = [p.period for p in parsed if p is not None and p.period is not None]
    if not periods:
        return ("", "")
    return _iso(min(p[0] for p in periods)), _iso(max(p[1] for p in periods))


def _gtfs_time(seconds: np.ndarray) -> np.ndarray:
    """``HH:MM:SS`` strings (hours may exceed 24)."""
    s = pd.Series(seconds, dtype=np.int64)
    return (s // 3600).astype(str).str.zfill(2) + ":" + (s // 60 % 60).astype(str).str.zfill(2) \
        + ":" + (s % 60).astype(str).str.zfill(2)


def _select(parsed: _gtfs_parse._Parsed, day: _Day, date: dt.date, settings: Settings, window_s,
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

    active = day.active
    if in_area is not None:
        active = {offset: running & in_area for offset, running in active.items()}
    inst = _instances(parsed, active)
    if window_s is not None:
        inst = inst[_in_window(inst, (window_s[0], window_s[1] + horizon_s))]
        inst = inst.reset_index(drop=True)
    tpos = inst["tpos"].to_numpy()
    first_dep = inst["first_dep"].to_numpy()

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


def _instances(parsed: _gtfs_parse._Parsed, active: dict[int, np.ndarray]) -> pd.DataFrame:
    """Trip instances running on the days of ``active`` (offset -> bool per trip).

    A plain trip runs once a day, a frequency template once per departure.
    Columns: ``tpos`` (trip position), ``shift`` (s added to the template's
    times), ``day_offset``, ``frequency_based``, ``exact_times``,
    ``first_dep_gtfs`` (GTFS time of the first departure), ``first_dep`` and
    ``last_arr`` (analysis-day seconds).
    """
    trips, freq = parsed.trips, parsed.freq
    template = trips["template"].to_numpy()
    instances = []
    for offset, running in active.items():
        shift = offset * DAY_S
        plain = np.flatnonzero(running & ~template)
        instances.append(pd.DataFrame({
            "tpos": plain, "shift": shift, "day_offset": offset, "frequency_based": False,
            "exact_times": -1, "first_dep_gtfs": trips["first_dep"].to_numpy()[plain],
        }))
        rows = freq[running[freq["trip"].to_numpy()]] if len(freq) else freq
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
    inst["first_dep"] = trips["first_dep"].to_numpy()[tpos] + inst["shift"].to_numpy()
    inst["last_arr"] = trips["last_arr"].to_numpy()[tpos] + inst["shift"].to_numpy()
    return inst


def _in_window(inst: pd.DataFrame, window: tuple[int, int]) -> np.ndarray:
    """Instances that can matter to departures from ``window[0]`` boarding until
    ``window[1]``: arriving at or after the start, departing by the end."""
    return ((inst["last_arr"].to_numpy() >= window[0])
            & (inst["first_dep"].to_numpy() <= window[1]))


def _expand_transfers(parsed: _gtfs_parse._Parsed, local: np.ndarray) -> pd.DataFrame:
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
    """One line: the first fatal issue, how many more there are, and the
    command that lists them all."""
    fatal = report.fatal
    by_name = dict(feeds)
    path = by_name.get(fatal[0].feed, feeds[0][1])
    more = (f"; and {len(fatal) - 1} more fatal problem(s)" if len(fatal) > 1 else "")
    # An empty file explains a missing service better than the service does.
    empty = sorted({i.file for i in report.issues if i.message.startswith("empty file")})
    if empty:
        more += f"; {', '.join(empty)} {'is' if len(empty) == 1 else 'are'} empty"
    return GtfsError(path, f"cannot be routed on: {fatal[0]}{more} (`bereikbaarheid "
                           "gtfs-check FEED --date YYYY-MM-DD` lists every problem)",
                     report=report)
