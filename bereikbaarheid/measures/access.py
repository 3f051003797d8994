"""Per-cell access measures: nearest facility, road distance, counts within thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .. import _progress
from ..config import ROAD_MODES, Settings
from ..kernels import dijkstra
from ..networks import link
from ..networks.graph import RoadNetwork


@dataclass
class AccessResult:
    """Per-cell measures in cell order, plus what was noticed on the way.

    ``table`` has one row per cell and the columns

    - ``{mode}_link_m``: connector length from the cell centroid to the
      mode's network (NaN: unlinked);
    - ``{type}_{mode}_time_s``: time to the nearest facility, connectors
      included (NaN: unlinked or unreachable);
    - ``{type}_{mode}_distance_m``: road distance along that fastest path,
      connectors included;
    - ``{type}_{mode}_facility_id``: the nearest facility (None when none);
    - ``{type}_{mode}_n_{T}min``: facilities reachable within T minutes;
    - ``{type}_cbs_distance_m``: shortest road distance over the car network
      (ferries and one-way rules included), CBS's definition.
    """

    table: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)


def compute_access(
    networks: Mapping[str, RoadNetwork],
    cell_x: np.ndarray,
    cell_y: np.ndarray,
    facilities: pd.DataFrame,
    settings: Settings,
) -> AccessResult:
    """Compute every measure for every type and mode.

    Parameters
    ----------
    networks
        Road network per mode (every road mode of ``settings.modes``).
    cell_x, cell_y
        Cell centroids in the networks' CRS.
    facilities
        Columns ``facility_id``, ``type``, ``x``, ``y`` (networks' CRS) and
        optionally ``domestic`` (bool): only domestic facilities count for the
        CBS-comparable distance, as CBS ignores facilities abroad; travel
        times use every facility.
    settings
        Thresholds, connector speeds and the maximum link distance.
    """
    n_cells = len(cell_x)
    fac_x = facilities["x"].to_numpy(np.float64)
    fac_y = facilities["y"].to_numpy(np.float64)
    fac_type = facilities["type"].to_numpy(object)
    fac_id = facilities["facility_id"].to_numpy(object)
    thresholds_s = np.asarray(settings.thresholds_min, np.float64) * 60.0

    columns: dict[str, np.ndarray] = {}
    report: dict[str, Any] = {"modes": {}, "facilities_without_type": []}
    for ftype in settings.facility_types:
        if not np.any(fac_type == ftype):
            report["facilities_without_type"].append(ftype)

    modes = [m for m in settings.modes if m in ROAD_MODES]
    progress = _progress.bar(desc="travel times", unit=" type×mode",
                             total=len(modes) * len(settings.facility_types))
    for mode in modes:
        net = networks[mode]
        graph = link.link_points(
            net,
            np.concatenate([cell_x, fac_x]),
            np.concatenate([cell_y, fac_y]),
            settings.max_link_distance_m,
        )
        cell_node, fac_node = graph.point_node[:n_cells], graph.point_node[n_cells:]
        cell_conn, fac_conn = graph.connector_m[:n_cells], graph.connector_m[n_cells:]
        speed_ms = settings.connector_speed_kmh[mode] / 3.6
        columns[f"{mode}_link_m"] = cell_conn
        rev = dijkstra.reverse_csr(graph.indptr, graph.indices, graph.edge_time_s,
                                   graph.edge_length_m)
        mode_report = {
            "cells_unlinked": int(np.sum(cell_node < 0)),
            "facilities_unlinked": {},
            "graph_nodes": graph.n_nodes,
        }
        for ftype in settings.facility_types:
            sel = np.flatnonzero((fac_type == ftype) & (fac_node >= 0))
            mode_report["facilities_unlinked"][ftype] = int(
                np.sum((fac_type == ftype) & (fac_node < 0)))
            time_s, dist_m, nearest = _nearest(
                rev, sel, fac_node, fac_conn / speed_ms, fac_conn, cell_node,
                cell_conn / speed_ms, cell_conn,
            )
            prefix = f"{ftype}_{mode}"
            columns[f"{prefix}_time_s"] = time_s
            columns[f"{prefix}_distance_m"] = dist_m
            ids = np.full(n_cells, None, dtype=object)
            ids[nearest >= 0] = fac_id[nearest[nearest >= 0]]
            columns[f"{prefix}_facility_id"] = ids
            counts = _counts_within(rev, sel, fac_node, fac_conn / speed_ms, cell_node,
                                    cell_conn / speed_ms, thresholds_s)
            for j, minutes in enumerate(settings.thresholds_min):
                # Unlinked cells have no count (NA), not zero facilities.
                col = pd.array(counts[:, j], dtype="Int32")
                col[cell_node < 0] = pd.NA
                columns[f"{prefix}_n_{minutes}min"] = col
            progress.update()
        if mode == "car":
            domestic = (facilities["domestic"].to_numpy(bool) if "domestic" in facilities
                        else np.ones(len(fac_type), bool))
            columns.update(_cbs_distances(graph, n_cells, fac_type, domestic, settings))
        report["modes"][mode] = mode_report

    progress.close()
    table = pd.DataFrame(columns)
    return AccessResult(table=table, report=report)


def _nearest(rev, sel, fac_node, fac_cost, fac_len, cell_node, cell_cost, cell_len):
    """Time, distance and facility index of the nearest facility per cell."""
    n_cells = len(cell_node)
    time_s = np.full(n_cells, np.nan)
    dist_m = np.full(n_cells, np.nan)
    nearest = np.full(n_cells, -1, np.int64)
    if len(sel) == 0:
        return time_s, dist_m, nearest
    rindptr, rindices, rtime, rlength = rev
    cost, label, path_m = dijkstra.nearest_source(
        rindptr, rindices, rtime, rlength,
        fac_node[sel], fac_cost[sel], sel.astype(np.int64),
    )
    linked = cell_node >= 0
    node = cell_node[linked]
    reached = np.isfinite(cost[node])
    idx = np.flatnonzero(linked)[reached]
    node = node[reached]
    nearest[idx] = label[node]
    time_s[idx] = cost[node] + cell_cost[idx]
    dist_m[idx] = path_m[node] + fac_len[label[node]] + cell_len[idx]
    return time_s, dist_m, nearest


def _counts_within(rev, sel, fac_node, fac_cost, cell_node, cell_cost, thresholds_s):
    """Number of facilities within each threshold per cell (connectors included)."""
    n_cells = len(cell_node)
    counts = np.zeros((n_cells, len(thresholds_s)), np.int32)
    rindptr, rindices, rtime, _ = rev
    # Targets are the linked cells grouped by node (several cells may share one).
    linked = np.flatnonzero(cell_node >= 0)
    cells_by_node = linked[np.argsort(cell_node[linked], kind="stable")]
    target_indptr = np.zeros(rindptr.shape[0], np.int64)
    np.cumsum(np.bincount(cell_node[linked], minlength=rindptr.shape[0] - 1),
              out=target_indptr[1:])
    counts[cells_by_node] = dijkstra.count_within(
        rindptr, rindices, rtime, fac_node[sel], fac_cost[sel], thresholds_s,
        target_indptr, cell_cost[cells_by_node])
    return counts


def _cbs_distances(graph: link.LinkedGraph, n_cells: int, fac_type: np.ndarray,
                   domestic: np.ndarray, settings: Settings) -> dict[str, np.ndarray]:
    """Shortest distance over the linked car graph per type (CBS's definition).

    CBS measures the road distance to the *nearest by distance* facility over
    the car network, ferries and one-way rules included; so this search
    minimises metres, not seconds.
    """
    cell_node, fac_node = graph.point_node[:n_cells], graph.point_node[n_cells:]
    cell_conn, fac_conn = graph.connector_m[:n_cells], graph.connector_m[n_cells:]
    # The kernels need positive weights; OSM has zero-length edges (two nodes
    # on one spot), so each edge counts at least a millimetre.
    weight_m = np.maximum(graph.edge_length_m, 1e-3)
    rev = dijkstra.reverse_csr(graph.indptr, graph.indices, weight_m, graph.edge_length_m)
    out = {}
    for ftype in settings.facility_types:
        sel = np.flatnonzero((fac_type == ftype) & domestic & (fac_node >= 0))
        dist_m, _, _ = _nearest(rev, sel, fac_node, fac_conn, fac_conn, cell_node,
                                cell_conn, cell_conn)
        out[f"{ftype}_cbs_distance_m"] = dist_m
    return out
