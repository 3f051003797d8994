"""Public-transport networks: a GTFS timetable joined to the walk network by walking transfers.

The timetable of the analysis day comes from ``sources.gtfs``; walking
transfers between stops are shortest walks over the walk network (with the
road kernels), so a stop across a square is reachable and one across a canal
without a bridge is not.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Settings, parse_clock
from ..sources import gtfs as gtfs_source
from . import link, timetable
from .graph import RoadNetwork

logger = logging.getLogger(__name__)


def build_transit(
    gtfs_paths: Sequence[str | Path],
    walk: RoadNetwork,
    settings: Settings,
    area=None,
) -> tuple[timetable.Timetable, dict[str, Any]]:
    """The timetable of ``settings.pt_date`` with walking transfers.

    Parameters
    ----------
    gtfs_paths
        GTFS feeds (zip files or folders).
    walk
        The walk network (same CRS as ``settings.crs``).
    settings
        ``pt_date``, ``pt_window`` and ``pt_max_time_min`` choose the trips
        (the window plus the longest journey); ``pt_transfer_max_m``,
        ``pt_min_change_s`` and the walk speeds make the transfers.
    area
        Optional geometry (``settings.crs``): only trips touching it are kept.

    Returns
    -------
    timetable
        RAPTOR arrays.
    report
        ``issues`` (the validation report as records), ``period`` (the
        feed's service period), ``stops_unlinked`` and the timetable stats.
    """
    start_s, end_s = (parse_clock(t, "pt_window") for t in settings.pt_window)
    logger.info(f"reading GTFS {', '.join(str(p) for p in gtfs_paths)} for {settings.pt_date}")
    feed = gtfs_source.read_gtfs(
        list(gtfs_paths), settings.pt_date, settings, window_s=(start_s, end_s),
        horizon_s=int(round(settings.pt_max_time_min * 60)), area=area)
    stops = feed.stops
    footpaths, unlinked = walking_transfers(
        stops["x"].to_numpy(np.float64), stops["y"].to_numpy(np.float64), walk, settings)
    tt = timetable.build_timetable(
        stops, feed.trips, feed.stop_times, feed.transfers,
        service_date=str(settings.pt_date), min_change_s=settings.pt_min_change_s,
        footpaths=footpaths, walk_speed_kmh=settings.walk_speed_kmh)
    report = {
        "issues": feed.report.to_frame().to_dict(orient="records"),
        "period": list(feed.period),
        "stops_unlinked": int(unlinked),
        "stats": tt.stats,
    }
    return tt, report


def walking_transfers(
    stop_x: np.ndarray, stop_y: np.ndarray, walk: RoadNetwork, settings: Settings
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], int]:
    """Walking transfers between stops within ``settings.pt_transfer_max_m``.

    The distance is walking time at ``walk_speed_kmh`` (connectors at the
    walk connector speed), so ferries on the walk network count by their
    crossing time. Returns ``(from_stop, to_stop, walk_s)`` with whole
    seconds rounded up, and the number of stops farther than
    ``max_link_distance_m`` from the walk network (they get no transfers).
    """
    graph = link.link_points(walk, stop_x, stop_y, settings.max_link_distance_m)
    speed_ms = settings.connector_speed_kmh["walk"] / 3.6
    conn_s = graph.connector_m / speed_ms
    cutoff_s = settings.pt_transfer_max_m / (settings.walk_speed_kmh / 3.6)
    stops = np.arange(len(stop_x))
    a, b, cost = link.point_pairs(graph, stops, stops, cutoff_s,
                             conn_s, conn_s)
    keep = a != b
    walk_s = np.ceil(cost[keep] - 1e-9).astype(np.int64)
    return (a[keep], b[keep], walk_s), int(np.sum(graph.point_node < 0))
