"""Public-transport networks: a GTFS timetable joined to the walk network by walking transfers.

The timetable of the analysis day comes from ``sources.gtfs``; walking
transfers between stops are shortest walks over the walk network (with the
road kernels), so a stop across a square is reachable and one across a canal
without a bridge is not. ``point_pairs`` is the shared tool for every
"which points lie within so many seconds of which" question on a linked graph:
transfers here, access, egress and walk-only legs in ``measures.transit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import _progress
from ..config import Settings, parse_clock
from ..kernels import dijkstra
from ..sources import gtfs as gtfs_source
from . import link, timetable
from .graph import RoadNetwork


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
    _progress.say(f"reading GTFS {', '.join(str(p) for p in gtfs_paths)} for {settings.pt_date}")
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
    a, b, cost = point_pairs(graph, stops, stops, cutoff_s,
                             conn_s, conn_s)
    keep = a != b
    walk_s = np.ceil(cost[keep] - 1e-9).astype(np.int64)
    return (a[keep], b[keep], walk_s), int(np.sum(graph.point_node < 0))


def point_pairs(
    graph: link.LinkedGraph,
    source_points: np.ndarray,
    target_points: np.ndarray,
    cutoff: float,
    source_cost: np.ndarray,
    target_cost: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (source point, target point) within ``cutoff`` seconds over a linked graph.

    Points are indices into ``graph.point_node``; ``source_cost`` and
    ``target_cost`` (indexed the same way, e.g. connector times) are added to
    the network cost, and the total must be <= ``cutoff``. Unlinked points
    take no part. One bounded search runs per distinct source node, in
    parallel (``dijkstra.sources_within_cutoff``).

    Returns
    -------
    source, target, cost
        int64, int64, float64 arrays sorted by (source, target).
    """
    source_points = np.asarray(source_points, np.int64)
    target_points = np.asarray(target_points, np.int64)
    src_node = graph.point_node[source_points]
    tgt_node = graph.point_node[target_points]
    source_points, src_node = source_points[src_node >= 0], src_node[src_node >= 0]
    target_points, tgt_node = target_points[tgt_node >= 0], tgt_node[tgt_node >= 0]
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(source_points) == 0 or len(target_points) == 0:
        return empty
    src_nodes, src_group = np.unique(src_node, return_inverse=True)
    tgt_nodes, tgt_group = np.unique(tgt_node, return_inverse=True)
    target_of_node = np.full(graph.n_nodes, -1, np.int64)
    target_of_node[tgt_nodes] = np.arange(len(tgt_nodes))
    pair_src, pair_tgt, pair_cost = dijkstra.sources_within_cutoff(
        graph.indptr, graph.indices, graph.edge_time_s, src_nodes, cutoff, target_of_node)

    # Expand node pairs to point pairs: every point on the source node times
    # every point on the target node.
    src_by_group = np.argsort(src_group, kind="stable")
    src_start = np.concatenate([[0], np.cumsum(np.bincount(src_group))])
    tgt_by_group = np.argsort(tgt_group, kind="stable")
    tgt_start = np.concatenate([[0], np.cumsum(np.bincount(tgt_group))])
    n_src = src_start[pair_src + 1] - src_start[pair_src]
    n_tgt = tgt_start[pair_tgt + 1] - tgt_start[pair_tgt]
    per_pair = n_src * n_tgt
    pair = np.repeat(np.arange(len(pair_src)), per_pair)
    k = np.arange(len(pair)) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    src = source_points[src_by_group[src_start[pair_src[pair]] + k // n_tgt[pair]]]
    tgt = target_points[tgt_by_group[tgt_start[pair_tgt[pair]] + k % n_tgt[pair]]]
    cost = pair_cost[pair] + source_cost[src] + target_cost[tgt]
    keep = cost <= cutoff
    src, tgt, cost = src[keep], tgt[keep], cost[keep]
    order = np.lexsort((tgt, src))
    return src[order], tgt[order], cost[order]
