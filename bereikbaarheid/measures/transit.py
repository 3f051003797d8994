"""Per-cell public-transport measures: travel time over a departure window, by percentile.

For every cell and every departure in the window, the travel time to each
facility type's nearest facility: walk (or cycle) to a stop, ride at most
``pt_max_rides`` vehicles with walking transfers, walk from the last stop;
walking all the way always counts too. Per facility type the time to the
nearest facility is taken per departure, then summarised by percentiles over
the window (R5's approach, made deterministic). ``pt_method`` chooses how:
a backward profile search from the facilities to every stop at once
(:mod:`..kernels.csa`), or a range-RAPTOR from every cell (:mod:`..kernels.raptor`,
the reference, which also gives every facility's time).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from .. import _progress
from ..config import TRANSIT_MODE, Settings
from ..kernels import csa, raptor
from ..networks import link
from ..networks.graph import RoadNetwork
from ..networks.timetable import Timetable
from .access import AccessResult

logger = logging.getLogger(__name__)

# Cells per range-RAPTOR call (at least), and at most this many calls.
_CHUNK_CELLS = 2000
_MAX_CHUNKS = 50
# :func:`nearest_by_departure` holds one chunk's cells x departures x facilities
# float32 times at a time; its chunks are cut to about this many bytes.
_CHUNK_BYTES = 512 * 2**20
# float32 infinity read as uint32: every finite time >= 0 lies below it, NaN above.
_INF_BITS = np.float32(np.inf).view(np.uint32)
# Walk-only legs for the profile search: destinations per bounded search batch,
# and the key (whole seconds * _KEY_SHIFT + destination) that keeps the quickest.
_DIRECT_SHARE = 512
_KEY_SHIFT = np.int64(2**31)


def compute_transit(
    timetable: Timetable,
    networks: Mapping[str, RoadNetwork],
    cell_x: np.ndarray,
    cell_y: np.ndarray,
    facilities: pd.DataFrame,
    settings: Settings,
) -> AccessResult:
    """Public-transport measures for every cell and facility type.

    Parameters
    ----------
    timetable
        The analysis day's timetable with walking transfers.
    networks
        Road networks; ``walk`` always, ``bike`` for bike access.
    cell_x, cell_y
        Cell centroids in the networks' CRS.
    facilities
        Columns ``facility_id``, ``type``, ``x``, ``y``.
    settings
        The ``pt_*`` settings, thresholds and connector speeds.

    Returns
    -------
    AccessResult
        ``table`` with one row per cell and the columns

        - ``pt_link_m``: walking connector to the walk network (NaN: unlinked);
        - ``{type}_pt_time_s``: time to the nearest facility at
          ``pt_time_percentile`` over the window (NaN: not reached within
          ``pt_max_time_min`` at that percentile);
        - ``{type}_pt_time_p{P}_s``: the same at each of ``pt_percentiles``;
        - ``{type}_pt_facility_id``: with ``pt_method`` ``"profile"``, the
          facility nearest at the most departures of the window (per
          departure, of equally near ones the first; of equally frequent ones
          the first); with ``"per-cell"``, the facility with the lowest time at
          ``pt_time_percentile`` (the first on ties);
        - ``{type}_pt_n_{T}min`` (``"per-cell"`` only): facilities whose time
          at that percentile is within T minutes.

        ``report`` has the counts and the kernels' seconds and throughput.

    Notes
    -----
    The two methods give the same times (tests/test_csa.py). ``"per-cell"``
    routes every cell over the timetable (a range-RAPTOR with every facility
    as a destination); ``"profile"`` scans the timetable once per type,
    backwards from the facilities (:mod:`bereikbaarheid.kernels.csa`), after
    which a cell costs its access stops times the departures.
    """
    n_cells = len(cell_x)
    n_fac = len(facilities)
    fac_type = facilities["type"].to_numpy(object)
    fac_id = facilities["facility_id"].to_numpy(object)
    types = list(settings.facility_types)
    group = np.full(n_fac, -1, np.int32)
    for g, ftype in enumerate(types):
        group[fac_type == ftype] = g
    started = time.perf_counter()
    # The profile search needs the nearest facility of a type on foot only.
    legs = _legs(timetable, networks, cell_x, cell_y, facilities["x"].to_numpy(np.float64),
                 facilities["y"].to_numpy(np.float64), settings,
                 direct_nearest_of=group if settings.pt_method == "profile" else None)
    legs_s = time.perf_counter() - started
    departures = np.asarray(settings.pt_departures_s(), np.int32)
    percentiles = np.asarray(settings.pt_percentiles, np.float64)
    k = list(settings.pt_percentiles).index(settings.pt_time_percentile)
    started = time.perf_counter()
    if settings.pt_method == "per-cell":
        group_pct, nearest, counts = _per_cell(timetable, legs, departures, percentiles, group,
                                               len(types), k, settings)
        routing = {"raptor_s": round(time.perf_counter() - started, 3)}
    else:
        group_pct, nearest, routing = _by_profiles(timetable, legs, departures, percentiles,
                                                   group, len(types), settings)
        counts = None
    routing_s = time.perf_counter() - started

    linked = legs.origin_linked
    columns: dict[str, object] = {f"{TRANSIT_MODE}_link_m": legs.origin_link_m}
    for g, ftype in enumerate(types):
        prefix = f"{ftype}_{TRANSIT_MODE}"
        columns[f"{prefix}_time_s"] = group_pct[:, g, k].astype(np.float64)
        for j, p in enumerate(settings.pt_percentiles):
            columns[f"{prefix}_time_p{p}_s"] = group_pct[:, g, j].astype(np.float64)
        ids = np.full(n_cells, None, dtype=object)
        has = nearest[:, g] >= 0
        ids[has] = fac_id[nearest[has, g]]
        columns[f"{prefix}_facility_id"] = ids
        for j, minutes in enumerate(settings.thresholds_min if counts is not None else ()):
            col = pd.array(counts[:, g, j], dtype="Int32")
            col[~linked] = pd.NA
            columns[f"{prefix}_n_{minutes}min"] = col

    has_stop = np.diff(legs.access[0]) > 0
    report = {
        "stops": timetable.n_stops,
        "stops_unlinked": legs.stops_unlinked,
        "cells_unlinked": int(np.sum(~linked)),
        "cells_without_stop_in_reach": int(np.sum(linked & ~has_stop)),
        "departures": len(departures),
        "origins": n_cells,
        "method": settings.pt_method,
        "legs_s": round(legs_s, 3),
        **routing,
        "origins_per_s": round(n_cells / routing_s, 1) if routing_s > 0 else None,
    }
    return AccessResult(table=pd.DataFrame(columns), report=report)


def _per_cell(timetable, legs, departures, percentiles, group, n_groups, k, settings):
    """Range-RAPTOR from every cell: the nearest facility per type at each
    percentile, the facility with the lowest time at percentile ``k`` and the
    facilities within each threshold."""
    n_cells = legs.access[0].shape[0] - 1
    n_fac = len(group)
    logger.info(f"public transport: range-RAPTOR for {n_cells} cells x {len(departures)} "
                f"departures ({settings.pt_window[0]}-{settings.pt_window[1]})")
    thresholds_s = np.asarray(settings.thresholds_min, np.float64) * 60.0
    of_type = [np.flatnonzero(group == g) for g in range(n_groups)]
    group_pct = np.empty((n_cells, n_groups, len(percentiles)), np.float32)
    nearest = np.full((n_cells, n_groups), -1, np.int64)
    counts = np.zeros((n_cells, n_groups, len(thresholds_s)), np.int32)
    # Per chunk of cells, the per-facility times are reduced at once to the
    # nearest facility and the counts, so memory stays at chunk x facilities.
    for first, last, access, direct in _chunks(legs, "cells"):
        dest_pct, group_pct[first:last] = raptor.range_raptor(
            timetable, departures, access, legs.egress, direct, n_fac,
            max_rides=settings.pt_max_rides, max_time_s=int(legs.max_time_s),
            percentiles=percentiles, dest_group=group, n_groups=n_groups)
        for g, members in enumerate(of_type):
            if len(members) == 0:
                continue
            times = np.nan_to_num(dest_pct[:, members, k].astype(np.float64), nan=np.inf)
            best = np.argmin(times, axis=1)  # lowest index on ties
            found = np.isfinite(times[np.arange(last - first), best])
            nearest[first:last, g] = np.where(found, members[best], -1)
            counts[first:last, g] = (times[:, :, None] <= thresholds_s).sum(axis=1)
    return group_pct, nearest, counts


def _by_profiles(timetable, legs, departures, percentiles, group, n_groups, settings):
    """The backward profile search: every stop's profile to the nearest
    facility of each type, then each cell's access stops and walk-only
    times. The facility is the one nearest at the most departures."""
    n_cells = legs.access[0].shape[0] - 1
    logger.info(f"public transport: profiles from {len(group)} facilities to "
                f"{timetable.n_stops} stops, then {n_cells} cells x {len(departures)} "
                f"departures ({settings.pt_window[0]}-{settings.pt_window[1]})")
    started = time.perf_counter()
    profiles = csa.stop_profiles(
        timetable, legs.egress, len(group), group, n_groups, first_s=int(departures[0]),
        last_s=int(departures[-1]), max_rides=settings.pt_max_rides,
        max_time_s=int(legs.max_time_s))
    profile_s = time.perf_counter() - started
    group_pct = np.empty((n_cells, n_groups, len(percentiles)), np.float32)
    nearest = np.empty((n_cells, n_groups), np.int64)
    started = time.perf_counter()
    for first, last, access, direct in _chunks(legs, "cells"):
        group_pct[first:last], nearest[first:last] = csa.window_percentiles(
            profiles, departures, access, direct, group, percentiles=percentiles)
    return group_pct, nearest, {
        "profile_s": round(profile_s, 3), "cells_s": round(time.perf_counter() - started, 3),
        "connections": profiles.connections,
        "profile_entries": int(profiles.count.sum())}


def travel_time_matrix(
    timetable: Timetable,
    networks: Mapping[str, RoadNetwork],
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    settings: Settings,
    *,
    per_departure: bool = False,
) -> pd.DataFrame:
    """Public-transport travel times between points, in long format (as r5py's
    ``TravelTimeMatrix``), for scenario scripts.

    Parameters
    ----------
    timetable, networks, settings
        As for :func:`compute_transit` (window, ride limit, legs, percentiles).
    origins, destinations
        Columns ``id``, ``x``, ``y`` (the networks' CRS).
    per_departure
        Give every departure of the window instead of the percentiles.

    Returns
    -------
    pandas.DataFrame
        One row per (origin, destination), or per (origin, destination,
        departure) with ``per_departure``: ``from_id``, ``to_id``, then
        ``departure_s`` and ``travel_time_s``, or ``travel_time_p{P}_s`` for
        each of ``pt_percentiles``. NaN where not reached within
        ``pt_max_time_min``. Walking all the way counts.
    """
    legs = _legs(timetable, networks, origins["x"].to_numpy(np.float64),
                 origins["y"].to_numpy(np.float64), destinations["x"].to_numpy(np.float64),
                 destinations["y"].to_numpy(np.float64), settings)
    n_orig, n_dest = len(origins), len(destinations)
    departures = np.asarray(settings.pt_departures_s(), np.int32)
    percentiles = np.asarray(settings.pt_percentiles, np.float64)
    shape = (n_orig, len(departures), n_dest) if per_departure else (
        n_orig, n_dest, len(percentiles))
    out = np.empty(shape, np.float32)
    for first, last, access, direct in _chunks(legs, "origins"):
        kwargs = {"max_rides": settings.pt_max_rides, "max_time_s": int(legs.max_time_s)}
        if per_departure:
            out[first:last] = raptor.range_raptor_minutes(
                timetable, departures, access, legs.egress, direct, n_dest, **kwargs)
        else:
            out[first:last] = raptor.range_raptor(
                timetable, departures, access, legs.egress, direct, n_dest,
                percentiles=percentiles, **kwargs)[0]
    from_id = origins["id"].to_numpy(object)
    to_id = destinations["id"].to_numpy(object)
    if per_departure:
        o, m, d = np.meshgrid(np.arange(n_orig), np.arange(len(departures)), np.arange(n_dest),
                              indexing="ij")
        return pd.DataFrame({"from_id": from_id[o.ravel()], "to_id": to_id[d.ravel()],
                             "departure_s": departures[m.ravel()],
                             "travel_time_s": out.reshape(-1).astype(np.float64)})
    o, d = np.meshgrid(np.arange(n_orig), np.arange(n_dest), indexing="ij")
    table = pd.DataFrame({"from_id": from_id[o.ravel()], "to_id": to_id[d.ravel()]})
    for j, p in enumerate(settings.pt_percentiles):
        table[f"travel_time_p{p}_s"] = out[:, :, j].reshape(-1).astype(np.float64)
    return table


@dataclass
class NearestByDeparture:
    """Per cell and departure of the window, the nearest facility of one type by
    public transport and the time to the one after it: what closing a single
    facility changes, without routing again.

    Made by :func:`nearest_by_departure`. Times are whole seconds (as the
    kernel gives them) in an unsigned integer type, ``unreached`` (its
    largest value) where nothing is reached within ``pt_max_time_min``.

    Attributes
    ----------
    best_s
        ``(cells, M)``: per departure, the time to the nearest facility.
    indptr
        ``(facilities + 1)``: the entries facility ``i`` is the nearest at are
        ``entry[indptr[i]:indptr[i + 1]]``, ascending.
    entry
        ``cell * M + departure`` of every (cell, departure) that reaches a
        facility, grouped by its nearest (of equally near ones, the first).
    second_s
        Per entry, the time to the nearest of the other facilities.
    rank
        Position of ``pt_time_percentile`` among a cell's M sorted times (the
        kernel's nearest rank).
    """

    best_s: np.ndarray
    indptr: np.ndarray
    entry: np.ndarray
    second_s: np.ndarray
    rank: int

    @property
    def unreached(self) -> int:
        return int(np.iinfo(self.best_s.dtype).max)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.best_s, self.indptr, self.entry, self.second_s))

    def time_s(self) -> np.ndarray:
        """Every cell's time to the nearest facility at ``pt_time_percentile``
        (float64, NaN unreached): ``{type}_pt_time_s`` of :func:`compute_transit`."""
        return self._at_rank(self.best_s)

    def time_without(self, facility: int) -> tuple[np.ndarray, np.ndarray]:
        """The cells whose nearest facility at some departure is ``facility``
        (an index into the facilities it was made from), ascending, and their
        time at ``pt_time_percentile`` with that facility closed; every other
        cell keeps :meth:`time_s`.

        At each departure the facility was the nearest at, the time becomes
        that to the next one; the percentile is taken again. This equals
        :func:`compute_transit` without the facility exactly: per departure a
        cell's time is the minimum over the facilities, and only the minimum
        the closed one held can change.
        """
        lo, hi = int(self.indptr[facility]), int(self.indptr[facility + 1])
        entry = self.entry[lo:hi]
        n_dep = self.best_s.shape[1]
        cells, row = np.unique(entry // n_dep, return_inverse=True)
        times = self.best_s[cells]
        times[row, entry % n_dep] = self.second_s[lo:hi]
        return cells, self._at_rank(times)

    def _at_rank(self, times: np.ndarray) -> np.ndarray:
        if times.shape[1] == 0 or times.shape[0] == 0:
            return np.full(times.shape[0], np.nan)
        value = np.partition(times, self.rank, axis=1)[:, self.rank]
        return np.where(value == self.unreached, np.nan, value.astype(np.float64))


def nearest_by_departure(
    timetable: Timetable,
    networks: Mapping[str, RoadNetwork],
    cell_x: np.ndarray,
    cell_y: np.ndarray,
    facilities: pd.DataFrame,
    settings: Settings,
) -> NearestByDeparture:
    """The nearest facility of one type at every departure, and the time to the
    next, for :meth:`NearestByDeparture.time_without`.

    Parameters
    ----------
    timetable, networks, cell_x, cell_y, settings
        As for :func:`compute_transit`.
    facilities
        The facilities of one type (columns ``x``, ``y``), in the order of the
        facility table (of equally near ones the first counts, as there).

    Notes
    -----
    Memory: ``best_s`` holds cells x M times and the entries one index and one
    time per (cell, departure) that reaches a facility, so at most cells x M x
    (2 + 2 + 4) bytes with uint16 times (``pt_max_time_min`` below 1092) and
    int32 entries (cells x M below 2**31), whatever the number of facilities:
    887,800 cells x 120 departures (07:00-09:00 every minute) take at most
    0.85 GB per type. While it is made, one chunk of cells x M x facilities
    float32 times (about :data:`_CHUNK_BYTES`), the nearest facility per cell
    and departure (int16 below 32,768 facilities) and, at the end, the sort
    that groups the entries (8 bytes per entry) are held besides: some 1.2 GB
    more at that size. The routing is one range-RAPTOR run with the type's
    facilities as destinations (:func:`compute_transit` runs one with all of
    them); reducing its per-facility times to the nearest and the next costs
    cells x M x facilities integer comparisons.
    """
    n_cells, n_fac = len(cell_x), len(facilities)
    departures = np.asarray(settings.pt_departures_s(), np.int32)
    n_dep = len(departures)
    # As the kernel ranks: exact rational arithmetic (70 / 100 * 10 is rank 7, not 8).
    rank = max(0, math.ceil(Fraction(float(settings.pt_time_percentile)) * n_dep / 100) - 1)
    max_time_s = settings.pt_max_time_min * 60.0
    dtype = np.uint16 if max_time_s < np.iinfo(np.uint16).max else np.uint32
    unreached = np.iinfo(dtype).max
    best = np.full((n_cells, n_dep), unreached, dtype)
    second = np.full((n_cells, n_dep), unreached, dtype)
    nearest = np.full((n_cells, n_dep), -1, np.int16 if n_fac < 2**15 else np.int32)
    if n_fac and n_cells:
        legs = _legs(timetable, networks, np.asarray(cell_x, np.float64),
                     np.asarray(cell_y, np.float64), facilities["x"].to_numpy(np.float64),
                     facilities["y"].to_numpy(np.float64), settings)
        logger.info(f"public transport: the nearest of {n_fac} facilities at each of {n_dep} "
                    f"departures, for {n_cells} cells")
        step = int(max(1, min(_CHUNK_CELLS, _CHUNK_BYTES // (4 * n_dep * n_fac))))
        progress = _progress.bar(desc="public transport per departure", unit=" cells",
                                 total=n_cells)
        for first in range(0, n_cells, step):
            last = min(first + step, n_cells)
            times = raptor.range_raptor_minutes(
                timetable, departures, _rows(legs.access, first, last), legs.egress,
                _rows(legs.direct, first, last), n_fac, max_rides=settings.pt_max_rides,
                max_time_s=int(legs.max_time_s))
            # Times (>= 0) order as their float32 bit patterns read as uint32,
            # NaN (unreached) above every time: integer argmin and min, in place.
            bits = times.view(np.uint32)
            which = np.argmin(bits, axis=2)  # the first of equally near ones
            at = which[:, :, None]
            first_bits = np.take_along_axis(bits, at, axis=2)[:, :, 0]
            np.put_along_axis(bits, at, np.iinfo(np.uint32).max, axis=2)
            second_bits = bits.min(axis=2)
            reached = first_bits < _INF_BITS
            best[first:last][reached] = first_bits[reached].view(np.float32)
            nearest[first:last][reached] = which[reached]
            more = second_bits < _INF_BITS
            second[first:last][more] = second_bits[more].view(np.float32)
            progress.update(last - first)
        progress.close()
    # The entries grouped by their nearest facility, ascending within each.
    flat = nearest.reshape(-1)
    order = np.argsort(flat, kind="stable")  # the unreached (-1) first
    entry = order[int(np.count_nonzero(flat < 0)):].astype(
        np.int32 if flat.size < 2**31 else np.int64)
    del order
    indptr = np.zeros(n_fac + 1, np.int64)
    np.cumsum(np.bincount(flat[entry], minlength=n_fac), out=indptr[1:])
    return NearestByDeparture(best_s=best, indptr=indptr, entry=entry,
                              second_s=second.reshape(-1)[entry], rank=rank)


@dataclass
class _Legs:
    """The walking (or cycling) legs around the rides, as kernel CSR triples."""

    access: tuple[np.ndarray, np.ndarray, np.ndarray]  # origin -> stop
    egress: tuple[np.ndarray, np.ndarray, np.ndarray]  # stop -> destination
    direct: tuple[np.ndarray, np.ndarray, np.ndarray]  # origin -> destination, walking
    origin_link_m: np.ndarray
    origin_linked: np.ndarray
    stops_unlinked: int
    max_time_s: float


def _legs(timetable: Timetable, networks: Mapping[str, RoadNetwork], orig_x, orig_y,
          dest_x, dest_y, settings: Settings, direct_nearest_of: np.ndarray | None = None
          ) -> _Legs:
    """Access (walk or bike, ``pt_max_access_min``), egress (walk,
    ``pt_max_egress_min``) and walk-only (``pt_max_time_min``) legs, by bounded
    searches on the linked networks; whole seconds, rounded up.

    With ``direct_nearest_of`` (a group per destination, -1 for none) the
    walk-only legs keep, per origin and group, only the quickest destination
    (of equally quick ones in whole seconds, the first): all the profile
    search reads of them. They are then found a share of the destinations at
    a time, so memory stays at one share's pairs, not at every origin within
    ``pt_max_time_min`` of every destination (some 10^8 pairs nationally)."""
    n_orig, n_dest, n_stops = len(orig_x), len(dest_x), timetable.n_stops
    max_time_s = settings.pt_max_time_min * 60.0
    walk = link.link_points(
        networks["walk"], np.concatenate([orig_x, dest_x, timetable.stop_x]),
        np.concatenate([orig_y, dest_y, timetable.stop_y]), settings.max_link_distance_m)
    origins = np.arange(n_orig)
    dests = n_orig + np.arange(n_dest)
    stops = n_orig + n_dest + np.arange(n_stops)
    walk_conn_s = walk.connector_m / (settings.connector_speed_kmh["walk"] / 3.6)
    walk_rev = link.reversed_graph(walk)

    logger.info("public transport: access, egress and walk-only legs")
    if settings.pt_access_mode == "bike":
        bike = link.link_points(networks["bike"], np.concatenate([orig_x, timetable.stop_x]),
                                np.concatenate([orig_y, timetable.stop_y]),
                                settings.max_link_distance_m)
        bike_conn_s = bike.connector_m / (settings.connector_speed_kmh["bike"] / 3.6)
        stop_a, orig_a, cost = link.point_pairs(
            link.reversed_graph(bike), n_orig + np.arange(n_stops), origins,
            settings.pt_max_access_min * 60.0, bike_conn_s, bike_conn_s)
        stop_a = stop_a - n_orig
    else:
        stop_a, orig_a, cost = link.point_pairs(
            walk_rev, stops, origins, settings.pt_max_access_min * 60.0, walk_conn_s,
            walk_conn_s)
        stop_a = stop_a - n_orig - n_dest
    access = _csr(orig_a, stop_a, cost, n_orig)
    stop_e, dest_e, cost = link.point_pairs(
        walk, stops, dests, settings.pt_max_egress_min * 60.0, walk_conn_s, walk_conn_s)
    egress = _csr(stop_e - n_orig - n_dest, dest_e - n_orig, cost, n_stops)
    if direct_nearest_of is None:
        dest_d, orig_d, cost = link.point_pairs(
            walk_rev, dests, origins, max_time_s, walk_conn_s, walk_conn_s)
        direct = _csr(orig_d, dest_d - n_orig, cost, n_orig)
    else:
        direct = _nearest_direct(walk_rev, dests, origins, max_time_s, walk_conn_s,
                                 np.asarray(direct_nearest_of, np.int64))
    return _Legs(access=access, egress=egress, direct=direct,
                 origin_link_m=walk.connector_m[:n_orig],
                 origin_linked=walk.point_node[:n_orig] >= 0,
                 stops_unlinked=int(np.sum(walk.point_node[stops] < 0)),
                 max_time_s=max_time_s)


def _nearest_direct(walk_rev, dests: np.ndarray, origins: np.ndarray, max_time_s: float,
                    conn_s: np.ndarray, group: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per origin and group, the walk-only leg to the quickest destination (as
    :func:`_csr` would round it), found :data:`_DIRECT_SHARE` destinations at
    a time."""
    n_orig = len(origins)
    n_groups = int(group.max()) + 1 if len(group) else 0
    none = np.iinfo(np.int64).max
    best = np.full(n_orig * n_groups, none, np.int64)
    mine = np.flatnonzero(group >= 0)
    for lo in range(0, len(mine), _DIRECT_SHARE):
        share = mine[lo:lo + _DIRECT_SHARE]
        dest_d, orig_d, cost = link.point_pairs(walk_rev, dests[share], origins, max_time_s,
                                                conn_s, conn_s)
        d = dest_d - n_orig
        seconds = np.ceil(cost - 1e-9).astype(np.int64)
        np.minimum.at(best, orig_d * n_groups + group[d], seconds * _KEY_SHIFT + d)
    found = np.flatnonzero(best != none)
    key = best[found]
    return _csr(found // max(n_groups, 1), key % _KEY_SHIFT, (key // _KEY_SHIFT).astype(
        np.float64), n_orig)


def _chunks(legs: _Legs, unit: str):
    """``(first, last, access, direct)`` per chunk of origins, with a progress
    bar, so that a long run shows progress (each kernel call checks the
    timetable once, which is cheap next to the routing)."""
    n = legs.access[0].shape[0] - 1
    step = max(_CHUNK_CELLS, -(-n // _MAX_CHUNKS))
    progress = _progress.bar(desc="public transport", unit=f" {unit}", total=n)
    for first in range(0, n, step):
        last = min(first + step, n)
        yield first, last, _rows(legs.access, first, last), _rows(legs.direct, first, last)
        progress.update(last - first)
    progress.close()


def _rows(csr: tuple[np.ndarray, np.ndarray, np.ndarray], first: int, last: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``first`` to ``last - 1`` of a CSR triple (indptr, columns, values)."""
    indptr, cols, values = csr
    lo, hi = indptr[first], indptr[last]
    return indptr[first:last + 1] - lo, cols[lo:hi], values[lo:hi]


def _csr(row: np.ndarray, col: np.ndarray, cost_s: np.ndarray, n_rows: int
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indptr, col int32, whole seconds int32, rounded up) grouped by row."""
    order = np.lexsort((col, row))
    indptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(np.bincount(row, minlength=n_rows), out=indptr[1:])
    seconds = np.ceil(cost_s[order] - 1e-9).astype(np.int32)
    return indptr, col[order].astype(np.int32), seconds
