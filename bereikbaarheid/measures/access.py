"""Per-cell access measures: nearest facility, road distance, counts within thresholds.

Costs are summed in whole milliseconds and millimetres (see
:mod:`bereikbaarheid.networks.link`) and reported in seconds and metres, so
times and distances have a resolution of 1 ms and 1 mm. Because those sums are
exact, a scenario that adds or closes facilities can update a baseline
incrementally (:func:`add_facilities`, :func:`close_facilities`) and get
exactly the table of a full :func:`compute_access` run.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd

from .. import _progress
from ..config import ROAD_MODES, Settings
from ..kernels import ch, dijkstra
from ..networks import cache, link
from ..networks.graph import RoadNetwork

logger = logging.getLogger(__name__)

_FACILITY_COLUMNS = ["facility_id", "type", "x", "y", "domestic"]


@dataclass
class Search:
    """A nearest-facility search over one linked graph, per node.

    ``cost`` (ms, or mm for the CBS distance; connector of the facility
    included), ``label`` (int32 facility index into the state's facility
    table; -1 unreached) and ``path_mm`` (road length of the winning path) as returned
    by :func:`bereikbaarheid.kernels.dijkstra.nearest_source` or, on a mode's
    hierarchy, by :func:`bereikbaarheid.kernels.ch.nearest_source_split`
    (the same arrays bit for bit, so incremental updates start from either).
    """

    cost: np.ndarray
    label: np.ndarray
    path_mm: np.ndarray

    def __post_init__(self) -> None:
        # Kept per node of every search: int32 labels (facility indices) take
        # half the memory of the kernels' int64, some 25 MB per million nodes.
        self.label = np.asarray(self.label, np.int32)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.cost, self.label, self.path_mm


@dataclass
class ModeState:
    """What a mode's measures were computed from, kept for incremental updates.

    ``locations`` are those of the cells, then the facilities; ``rev`` is
    the reversed linked graph ``(indptr, indices, time_ms,
    length_mm)`` (searches run from the facilities to the cells);
    ``nearest[type]`` and ``counts[type]`` (int32, cells x thresholds) are
    the travel-time search and the counts within each threshold;
    ``cbs[type]`` the search by road length (car only). Once a mode is
    measured, ``graph`` keeps its nodes, points and split points but not its
    edges (``indices`` and the edge arrays are None; the searches run on
    ``rev``), which on national networks saves some 260 MB per mode.
    """

    locations: link.PointLocations
    graph: link.LinkedGraph
    rev: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    cell_node: np.ndarray
    fac_node: np.ndarray
    cell_ms: np.ndarray
    cell_mm: np.ndarray
    fac_ms: np.ndarray
    fac_mm: np.ndarray
    nearest: dict[str, Search] = field(default_factory=dict)
    counts: dict[str, np.ndarray] = field(default_factory=dict)
    cbs: dict[str, Search] = field(default_factory=dict)
    hierarchy: ch.Hierarchy | None = None
    cell_entries: tuple[np.ndarray, ...] | None = None
    # The cells as the hierarchy's targets, prepared once for every type.
    targets: ch.Targets | None = None


@dataclass
class AccessState:
    """Everything :func:`add_facilities` and :func:`close_facilities` update.

    ``facilities`` has the columns ``facility_id``, ``type``, ``x``, ``y``,
    ``domestic`` in the order that labels (and ties: the smallest index wins)
    refer to.
    """

    networks: Mapping[str, RoadNetwork]
    cell_x: np.ndarray
    cell_y: np.ndarray
    facilities: pd.DataFrame
    settings: Settings
    modes: dict[str, ModeState] = field(default_factory=dict)
    hierarchies: Mapping[str, ch.Hierarchy] = field(default_factory=dict)
    cache_dir: str | Path | None = None


@dataclass
class AccessResult:
    """Per-cell measures in cell order, plus what was noticed on the way.

    ``table`` has one row per cell and the columns

    - ``{mode}_link_m``: connector length from the cell centroid to the
      mode's network (NaN: unlinked);
    - ``{type}_{mode}_time_s``: time to the nearest facility, connectors
      included (NaN: unlinked or unreachable), to the millisecond;
    - ``{type}_{mode}_distance_m``: road distance along that fastest path,
      connectors included, to the millimetre;
    - ``{type}_{mode}_facility_id``: the nearest facility (None when none);
      of equally fast ones, the first in the facility table;
    - ``{type}_{mode}_n_{T}min``: facilities reachable within T minutes;
    - ``{type}_cbs_distance_m``: shortest road distance over the car network
      (ferries and one-way rules included), CBS's definition.

    ``state`` holds the searches behind the table, for incremental updates.
    """

    table: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)
    state: AccessState | None = None


def compute_access(
    networks: Mapping[str, RoadNetwork],
    cell_x: np.ndarray,
    cell_y: np.ndarray,
    facilities: pd.DataFrame,
    settings: Settings,
    hierarchies: Mapping[str, ch.Hierarchy] | None = None,
    cache_dir: str | Path | None = None,
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
    hierarchies
        Contraction hierarchy of a mode's network
        (:func:`bereikbaarheid.networks.cache.load_or_build_hierarchy`); the
        nearest-facility search by time and the counts within the thresholds
        of such a mode run on it, with the same result (every node's search
        included) as without.
    cache_dir
        Where the points' locations on each network are kept
        (:func:`bereikbaarheid.networks.cache.locate_points_cached`), so a
        run on the same cells and network does not locate them again; None
        locates them every time. The result is the same either way.
    """
    state = AccessState(networks=networks, cell_x=np.asarray(cell_x, np.float64),
                        cell_y=np.asarray(cell_y, np.float64),
                        facilities=_facility_table(facilities), settings=settings,
                        hierarchies=dict(hierarchies or {}), cache_dir=cache_dir)
    modes = _road_modes(settings)
    progress = _progress.bar(desc="travel times", unit=" type×mode",
                             total=len(modes) * len(settings.facility_types))
    for mode in modes:
        ms = _link(state, mode)
        _nearest_searches(state, mode, ms)
        for ftype in settings.facility_types:
            ms.counts[ftype] = _counts_within(state, ms, _selected(state, ms, ftype))
            progress.update()
        # Some 200 MB on a national network. Capacity prepares them again, once
        # for its types, and they stay with the kept state from then on.
        ms.targets = None
        state.modes[mode] = _measured(ms)
    progress.close()
    return _result(state)


def _nearest_searches(state: AccessState, mode: str, ms: ModeState) -> None:
    """Fill ``ms.nearest`` (by time) and, for the car, ``ms.cbs`` (by length,
    domestic facilities) for every type.

    The searches are independent and their kernels run without the GIL, so
    they go as many at a time as Numba has threads (a search is one thread);
    each result is the same whatever the number.
    """
    jobs: dict[tuple[str, str], Any] = {}

    def by_length(sel: np.ndarray) -> Search:
        return Search(*dijkstra.nearest_source(*_by_length(ms.rev), ms.fac_node[sel],
                                               ms.fac_mm[sel], sel))

    with ThreadPoolExecutor(max_workers=max(1, numba.get_num_threads())) as pool:
        for ftype in state.settings.facility_types:
            jobs["nearest", ftype] = pool.submit(_nearest_search, ms,
                                                 _selected(state, ms, ftype))
            if mode == "car":
                jobs["cbs", ftype] = pool.submit(by_length,
                                                 _selected(state, ms, ftype, domestic=True))
        for (kind, ftype), job in jobs.items():
            getattr(ms, kind)[ftype] = job.result()


def add_facilities(state: AccessState, new: pd.DataFrame) -> AccessResult:
    """The result of :func:`compute_access` with ``new`` facilities appended.

    Equal to a full run on the state's facility table followed by ``new``
    (same table, same tie-breaks), but per type and mode only one search
    runs, from the new facilities, and it stops where it improves nothing.

    Parameters
    ----------
    state
        ``AccessResult.state`` of the baseline (not modified).
    new
        Columns ``facility_id``, ``type``, ``x``, ``y`` and optionally
        ``domestic``, as for :func:`compute_access`.
    """
    facilities = _facility_table(pd.concat([state.facilities, _facility_table(new)],
                                           ignore_index=True))
    added = np.arange(len(state.facilities), len(facilities))
    new_x = facilities["x"].to_numpy(np.float64)[added]
    new_y = facilities["y"].to_numpy(np.float64)[added]
    out = AccessState(networks=state.networks, cell_x=state.cell_x, cell_y=state.cell_y,
                      facilities=facilities, settings=state.settings,
                      hierarchies=state.hierarchies, cache_dir=state.cache_dir)
    for mode, old in state.modes.items():
        new_at = link.locate_points(out.networks[mode], new_x, new_y,
                                    out.settings.max_link_distance_m)
        ms = _link(out, mode, link.PointLocations.concat([old.locations, new_at]))
        old_node = _node_map(old.graph, ms.graph)
        # A split node that is new to the graph enters with its value from its
        # neighbours along the old piece (which its two pieces sum to).
        fresh = np.flatnonzero(old_node < 0)
        tails = np.repeat(fresh, np.diff(ms.graph.indptr)[fresh])
        edges = np.concatenate([np.arange(ms.graph.indptr[q], ms.graph.indptr[q + 1])
                                for q in fresh] or [np.zeros(0, np.int64)])
        heads = ms.graph.indices[edges].astype(np.int64)
        for ftype in out.settings.facility_types:
            sel = _selected(out, ms, ftype)
            sel = sel[np.isin(sel, added)]
            ms.nearest[ftype] = _improved(ms.rev, old.nearest[ftype], old_node, tails, heads,
                                          ms.graph.edge_time_ms[edges],
                                          ms.graph.edge_length_mm[edges],
                                          ms.fac_node[sel], ms.fac_ms[sel], sel)
            ms.counts[ftype] = old.counts[ftype] + _counts_within(out, ms, sel)
            if mode == "car":
                sel = _selected(out, ms, ftype, domestic=True)
                sel = sel[np.isin(sel, added)]
                ms.cbs[ftype] = _improved(_by_length(ms.rev), old.cbs[ftype], old_node, tails,
                                          heads, ms.graph.edge_length_mm[edges],
                                          ms.graph.edge_length_mm[edges],
                                          ms.fac_node[sel], ms.fac_mm[sel], sel)
        out.modes[mode] = _measured(ms)
    return _result(out)


def close_facilities(state: AccessState, facility_ids: Iterable[Any], *,
                     table_only: bool = False, times_only: bool = False) -> AccessResult:
    """The result of :func:`compute_access` without the given facilities.

    Equal to a full run on the state's facility table minus those facilities
    (the others keep their order), but only the nodes whose nearest facility
    was closed are searched again, from their neighbours.

    Parameters
    ----------
    state
        ``AccessResult.state`` of the baseline (not modified).
    facility_ids
        Ids from the ``facility_id`` column; each closes every row with it.
    table_only
        Return the table (and report) without a state for further updates:
        nothing is relinked (the baseline's graph, with the closed
        facilities' split points left in, gives the same times) and each
        mode's searches are dropped once its columns are made, so the
        memory needed is that of one mode's searches, not of a second state.
        The report's ``graph_nodes`` are then those of the baseline's graphs.
    times_only
        With ``table_only``: the nearest facility's time, distance and id
        only, without the counts within each threshold and the CBS
        distance (what the impact of each closure needs, at half the cost).

    Raises
    ------
    KeyError
        When an id is not in the facility table.
    """
    if times_only and not table_only:
        raise ValueError("times_only needs table_only: a state without counts cannot be "
                         "updated further")
    ids = list(facility_ids)
    table_ids = state.facilities["facility_id"]
    unknown = [i for i in ids if not (table_ids == i).any()]
    if unknown:
        raise KeyError(f"facilities not in the table: {unknown}")
    closing = table_ids.isin(ids).to_numpy()
    closed = np.flatnonzero(closing)
    facilities = _facility_table(state.facilities[~closing])
    out = AccessState(networks=state.networks, cell_x=state.cell_x, cell_y=state.cell_y,
                      facilities=facilities, settings=state.settings,
                      hierarchies=state.hierarchies, cache_dir=state.cache_dir)
    keep_points = np.concatenate([np.ones(len(state.cell_x), bool), ~closing])
    parts = []
    for mode, old in state.modes.items():
        if table_only:
            ms = dataclasses.replace(old, fac_node=old.fac_node[~closing],
                                     fac_ms=old.fac_ms[~closing], fac_mm=old.fac_mm[~closing],
                                     nearest={}, counts={}, cbs={})
            old_node = None
        else:
            ms = _link(out, mode, old.locations.take(keep_points))
            old_node = _node_map(old.graph, ms.graph)
        # Repair on the old graph (paths between the remaining nodes cost the
        # same on both), then keep the nodes the new graph has; the types'
        # repairs are independent and run without the GIL, as many at a time
        # as Numba has threads.
        with ThreadPoolExecutor(max_workers=max(1, numba.get_num_threads())) as pool:
            repairs = {}
            for ftype in out.settings.facility_types:
                sel = _selected(state, old, ftype)
                repairs[ftype] = pool.submit(_repaired, old.rev, old.nearest[ftype], closed,
                                             old_node, old.fac_node[sel], old.fac_ms[sel], sel)
            for ftype, job in repairs.items():
                ms.nearest[ftype] = job.result()
        for ftype in () if times_only else out.settings.facility_types:
            sel = _selected(state, old, ftype)
            gone = sel[np.isin(sel, closed)]
            ms.counts[ftype] = old.counts[ftype] - _counts_within(state, old, gone)
            if mode == "car":
                sel = _selected(state, old, ftype, domestic=True)
                ms.cbs[ftype] = _repaired(_by_length(old.rev), old.cbs[ftype], closed,
                                          old_node, old.fac_node[sel], old.fac_mm[sel], sel)
        if table_only:
            parts.append(_mode_columns(out, mode, ms, times_only=times_only))
            del ms
        else:
            out.modes[mode] = _measured(ms)
    if table_only:
        return _assembled(out, parts, None)
    return _result(out)


def _road_modes(settings: Settings) -> list[str]:
    return [m for m in settings.modes if m in ROAD_MODES]


def _facility_table(facilities: pd.DataFrame) -> pd.DataFrame:
    """The facility columns the measures use, ``domestic`` defaulting to True."""
    table = pd.DataFrame({
        "facility_id": pd.Series(facilities["facility_id"].to_numpy(object), dtype=object),
        "type": pd.Series(facilities["type"].to_numpy(object), dtype=object),
        "x": facilities["x"].to_numpy(np.float64),
        "y": facilities["y"].to_numpy(np.float64),
        "domestic": (facilities["domestic"].to_numpy(bool) if "domestic" in facilities
                     else np.ones(len(facilities), bool)),
    })
    return table[_FACILITY_COLUMNS]


def _link(state: AccessState, mode: str,
          locations: link.PointLocations | None = None) -> ModeState:
    """Link cells and facilities to the mode's network (no searches yet).

    ``locations`` (cells, then facilities) are located here when not given.
    """
    settings = state.settings
    n_cells = len(state.cell_x)
    segments = link.network_segments(state.networks[mode])
    if locations is None:
        parts, report = cache.locate_points_cached(
            state.networks[mode],
            [("cells", state.cell_x, state.cell_y),
             ("facilities", state.facilities["x"].to_numpy(np.float64),
              state.facilities["y"].to_numpy(np.float64))],
            settings.max_link_distance_m, state.cache_dir, segments)
        logger.log(logging.INFO if state.cache_dir is not None else logging.DEBUG,
                   f"locations on the {mode} network: "
                   + ", ".join(f"{name} {entry['status']}" + (f" ({entry['reason']})"
                               if "reason" in entry else "")
                               for name, entry in report.items()))
        locations = link.PointLocations.concat(parts)
    graph = link.split_network(state.networks[mode], locations, segments)
    del segments
    conn_ms = link.connector_ms(graph.connector_m, settings.connector_speed_kmh[mode])
    conn_mm = graph.connector_mm
    rev = dijkstra.reverse_csr(graph.indptr, graph.indices, graph.edge_time_ms,
                               graph.edge_length_mm)
    return ModeState(locations=locations, graph=graph, rev=rev,
                     cell_node=graph.point_node[:n_cells], fac_node=graph.point_node[n_cells:],
                     cell_ms=conn_ms[:n_cells], cell_mm=conn_mm[:n_cells],
                     fac_ms=conn_ms[n_cells:], fac_mm=conn_mm[n_cells:],
                     hierarchy=state.hierarchies.get(mode))


def _measured(ms: ModeState) -> ModeState:
    """``ms`` without the forward graph's edges (see :class:`ModeState`); what
    the hierarchy needs of them (the cells' entries) is kept first."""
    if ms.hierarchy is not None and ms.cell_entries is None:
        graph, linked = ms.graph, ms.cell_node[ms.cell_node >= 0]
        ms.cell_entries = _split_entries(graph.indptr, graph.indices, graph.edge_time_ms,
                                         graph.n_network_nodes, linked)
    ms.graph = dataclasses.replace(ms.graph, indices=None, edge_time_ms=None,
                                   edge_length_mm=None)
    return ms


def _selected(state: AccessState, ms: ModeState, ftype: str,
              domestic: bool = False) -> np.ndarray:
    """Indices of the linked facilities of ``ftype`` (only domestic ones if asked)."""
    keep = (state.facilities["type"].to_numpy(object) == ftype) & (ms.fac_node >= 0)
    if domestic:
        keep &= state.facilities["domestic"].to_numpy(bool)
    return np.flatnonzero(keep).astype(np.int64)


def _by_length(rev):
    """The reversed graph weighted by length, for CBS's nearest-by-distance."""
    rindptr, rindices, _, rlength = rev
    return rindptr, rindices, rlength, rlength


def _node_map(old: link.LinkedGraph, new: link.LinkedGraph) -> np.ndarray:
    """Node of ``old`` for every node of ``new``; -1 for split nodes ``old`` lacks."""
    n = new.n_network_nodes
    out = np.concatenate([np.arange(n, dtype=np.int64),
                          np.full(new.n_nodes - n, -1, np.int64)])
    # Split nodes are numbered by (segment, fraction) in both graphs.
    rec = np.dtype([("s", np.int64), ("f", np.float64)])
    old_keys = np.empty(len(old.split_segment), rec)
    old_keys["s"], old_keys["f"] = old.split_segment, old.split_fraction
    new_keys = np.empty(len(new.split_segment), rec)
    new_keys["s"], new_keys["f"] = new.split_segment, new.split_fraction
    pos = np.minimum(np.searchsorted(old_keys, new_keys), max(len(old_keys) - 1, 0))
    found = (old_keys[pos] == new_keys) if len(old_keys) else np.zeros(len(new_keys), bool)
    out[n:][found] = n + pos[found]
    return out


def _carried(search: Search, old_node: np.ndarray) -> Search:
    """``search`` moved onto a graph whose node ``i`` is ``old_node[i]`` (-1: none)."""
    has = old_node >= 0
    cost = np.full(len(old_node), np.inf)
    label = np.full(len(old_node), -1, np.int64)
    path = np.full(len(old_node), np.nan)
    cost[has] = search.cost[old_node[has]]
    label[has] = search.label[old_node[has]]
    path[has] = search.path_mm[old_node[has]]
    return Search(cost, label, path)


def _improved(rev, old: Search, old_node, tails, heads, weight, length, fac_node, fac_cost,
              sel) -> Search:
    """``old`` on the relinked graph, improved by the facilities ``sel``.

    ``tails -> heads`` are the forward edges out of the new split nodes, so
    in the reversed (search) graph they lead from ``heads`` into them.
    """
    carried = _carried(old, old_node)
    known = (old_node[heads] >= 0) & (carried.label[heads] >= 0)
    h = heads[known]
    seed_node = np.concatenate([tails[known], fac_node])
    seed_cost = np.concatenate([carried.cost[h] + weight[known], fac_cost])
    seed_label = np.concatenate([carried.label[h], sel])
    seed_length = np.concatenate([carried.path_mm[h] + length[known], np.zeros(len(sel))])
    if len(seed_node) == 0:
        return carried
    return Search(*dijkstra.improve_nearest_source(
        *rev, *carried.arrays(), seed_node, seed_cost, seed_label, seed_length))


def _repaired(rev, old: Search, closed, old_node, fac_node, fac_cost, sel) -> Search:
    """``old`` without the ``closed`` facilities, relabelled and moved to the new
    graph (``old_node`` None: kept on the old graph)."""
    removed = sel[np.isin(sel, closed)]
    if len(removed):
        old = Search(*dijkstra.repair_nearest_source(
            *rev, *old.arrays(), removed, fac_node, fac_cost, sel))
    elif old_node is None:
        old = Search(old.cost, old.label.copy(), old.path_mm)
    moved = old if old_node is None else _carried(old, old_node)
    # Facilities after a closed one move up; the order of labels is kept, so
    # every tie-break stays as it was.
    reached = moved.label >= 0
    moved.label[reached] -= np.searchsorted(closed, moved.label[reached])
    return moved


def _nearest_search(ms: ModeState, sel: np.ndarray) -> Search:
    """The search by time from the facilities ``sel``, on every node of the
    linked graph: by PHAST on the mode's hierarchy when it has one, else by
    Dijkstra; the arrays are the same bit for bit."""
    if ms.hierarchy is not None:
        return Search(*ch.nearest_source_split(ms.hierarchy, *ms.rev, ms.fac_node[sel],
                                               ms.fac_ms[sel], sel))
    return Search(*dijkstra.nearest_source(*ms.rev, ms.fac_node[sel], ms.fac_ms[sel], sel))


def _counts_within(state: AccessState, ms: ModeState, sel: np.ndarray) -> np.ndarray:
    """Number of facilities ``sel`` within each threshold per cell (connectors included)."""
    thresholds_ms = np.asarray(state.settings.thresholds_min, np.float64) * 60_000.0
    cell_node = ms.cell_node
    n_cells = len(cell_node)
    counts = np.zeros((n_cells, len(thresholds_ms)), np.int32)
    if len(sel) == 0:
        return counts
    if ms.hierarchy is not None:
        linked = np.flatnonzero(cell_node >= 0)
        counts[linked] = _hierarchy_counts(ms, sel, thresholds_ms)
        return counts
    rindptr, rindices, rtime, _ = ms.rev
    # Targets are the linked cells grouped by node (several cells may share one).
    linked = np.flatnonzero(cell_node >= 0)
    cells_by_node = linked[np.argsort(cell_node[linked], kind="stable")]
    target_indptr = np.zeros(rindptr.shape[0], np.int64)
    np.cumsum(np.bincount(cell_node[linked], minlength=rindptr.shape[0] - 1),
              out=target_indptr[1:])
    counts[cells_by_node] = dijkstra.count_within(
        rindptr, rindices, rtime, ms.fac_node[sel], ms.fac_ms[sel], thresholds_ms,
        target_indptr, ms.cell_ms[cells_by_node])
    return counts


def _hierarchy_counts(ms: ModeState, sel: np.ndarray, thresholds_ms: np.ndarray) -> np.ndarray:
    """:func:`_counts_within` for the linked cells, on the network's hierarchy."""
    # The hierarchy works on batches of sources; nearby ones (nodes are in
    # spatial order) share most of their search. Counts do not depend on it.
    sel = sel[np.argsort(ms.fac_node[sel], kind="stable")]
    return ch.count_within(ms.hierarchy, **hierarchy_inputs(ms, sel), cutoffs=thresholds_ms)


def hierarchy_inputs(ms: ModeState, sel: np.ndarray) -> dict[str, np.ndarray]:
    """The facilities ``sel`` (sources) and the linked cells (targets, in
    cell order) of a mode as arguments of :func:`bereikbaarheid.kernels.ch.count_within`
    and :func:`~bereikbaarheid.kernels.ch.two_step_fca`, connectors included.

    The hierarchy knows the network's nodes only; cells and facilities sit
    on split nodes. A facility enters the network at the first network
    nodes its search meets along its split road (its *entries*, with the
    cost of the way there), and a cell is reached from the last network
    nodes before it; a facility and a cell on one split road may also reach
    each other without touching the network (*direct* pairs). Pieces of a
    split edge sum exactly to it, so the best combination is the linked
    graph's shortest path, and the results equal those of the Dijkstra
    searches exactly. Sources keep the order of ``sel``. The targets are prepared
    once per mode (``ms.targets``) and shared by every type.
    """
    graph, n_net = ms.graph, ms.graph.n_network_nodes
    linked = np.flatnonzero(ms.cell_node >= 0)
    if ms.cell_entries is None:
        # Into a cell along the search graph = out of it along the forward graph.
        ms.cell_entries = _split_entries(graph.indptr, graph.indices, graph.edge_time_ms,
                                         n_net, ms.cell_node[linked])
    if ms.targets is None:
        target_indptr, target_node, target_cost, _ = ms.cell_entries
        target_cost = target_cost + np.repeat(ms.cell_ms[linked], np.diff(target_indptr))
        ms.targets = ch.prepare_targets(ms.hierarchy, target_indptr, target_node, target_cost)
    rindptr, rindices, rtime, _ = ms.rev
    source_indptr, source_node, source_cost, reached = _split_entries(
        rindptr, rindices, rtime, n_net, ms.fac_node[sel])
    source_cost = source_cost + np.repeat(ms.fac_ms[sel], np.diff(source_indptr))
    # Direct pairs: split nodes a facility's own split road leads to, holding cells.
    owner, node, cost = reached
    cells_at = np.argsort(ms.cell_node[linked], kind="stable")
    sorted_nodes = ms.cell_node[linked][cells_at]
    first = np.searchsorted(sorted_nodes, node, "left")
    n_at = np.searchsorted(sorted_nodes, node, "right") - first
    pair = np.repeat(np.arange(len(node)), n_at)
    offset = np.arange(len(pair)) - np.repeat(np.cumsum(n_at) - n_at, n_at)
    target = cells_at[first[pair] + offset]
    return dict(source_indptr=source_indptr, source_node=source_node,
                source_cost=source_cost, targets=ms.targets,
                direct_source=owner[pair], direct_target=target,
                direct_cost=ms.fac_ms[sel][owner[pair]] + cost[pair] + ms.cell_ms[linked][target])


def _split_entries(indptr, indices, weight, n_network_nodes, points):
    """The network nodes each of ``points`` (nodes of a linked graph) reaches
    through split nodes only, with the least cost.

    Returns ``(indptr, node, cost, reached)``: the entries of point ``i`` are
    ``node[indptr[i]:indptr[i + 1]]``; a point on a network node enters there
    at cost 0. ``reached`` is ``(point, node, cost)`` for the split nodes
    reached on the way (the point's own included, at cost 0).
    """
    # Split nodes are numbered after the network's: a search passes through
    # them and stops at the first network nodes it meets.
    unique, point_group = np.unique(np.asarray(points, np.int64), return_inverse=True)
    group, node, cost = dijkstra.local_reach(indptr, indices, weight, n_network_nodes, unique)
    at_network = node < n_network_nodes
    # Entries per group, then per point (points may share a node).
    g_net, n_net_, c_net = group[at_network], node[at_network], cost[at_network]
    g_indptr = np.zeros(len(unique) + 1, np.int64)
    np.cumsum(np.bincount(g_net, minlength=len(unique)), out=g_indptr[1:])
    sizes = np.diff(g_indptr)[point_group]
    p_indptr = np.zeros(len(point_group) + 1, np.int64)
    np.cumsum(sizes, out=p_indptr[1:])
    take = np.repeat(g_indptr[point_group], sizes) + (
        np.arange(p_indptr[-1]) - np.repeat(p_indptr[:-1], sizes))
    # Split nodes reached, per point.
    g_split, n_split, c_split = group[~at_network], node[~at_network], cost[~at_network]
    s_indptr = np.zeros(len(unique) + 1, np.int64)
    np.cumsum(np.bincount(g_split, minlength=len(unique)), out=s_indptr[1:])
    s_sizes = np.diff(s_indptr)[point_group]
    s_take = np.repeat(s_indptr[point_group], s_sizes) + (
        np.arange(s_sizes.sum()) - np.repeat(np.cumsum(s_sizes) - s_sizes, s_sizes))
    reached = (np.repeat(np.arange(len(point_group)), s_sizes), n_split[s_take],
               c_split[s_take])
    return p_indptr, n_net_[take], c_net[take], reached


def _nearest(search: Search, ms: ModeState, cell_cost: np.ndarray, fac_mm: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cost (+ the cell's connector ``cell_cost``), road length in mm (both
    connectors included) and facility index of the nearest facility per cell."""
    n_cells = len(ms.cell_node)
    cost = np.full(n_cells, np.nan)
    dist_mm = np.full(n_cells, np.nan)
    nearest = np.full(n_cells, -1, np.int64)
    linked = ms.cell_node >= 0
    node = ms.cell_node[linked]
    reached = search.label[node] >= 0
    idx = np.flatnonzero(linked)[reached]
    node = node[reached]
    nearest[idx] = search.label[node]
    cost[idx] = search.cost[node] + cell_cost[idx]
    dist_mm[idx] = search.path_mm[node] + fac_mm[nearest[idx]] + ms.cell_mm[idx]
    return cost, dist_mm, nearest


def _result(state: AccessState) -> AccessResult:
    """The table and report of ``state`` (the same code for full and incremental runs)."""
    parts = [_mode_columns(state, mode, ms) for mode, ms in state.modes.items()]
    return _assembled(state, parts, state)


def _mode_columns(state: AccessState, mode: str, ms: ModeState, times_only: bool = False
                  ) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A mode's columns of the table and its report; with ``times_only``
    without the counts and the CBS distance."""
    settings = state.settings
    fac_type = state.facilities["type"].to_numpy(object)
    fac_id = state.facilities["facility_id"].to_numpy(object)
    columns: dict[str, Any] = {f"{mode}_link_m": ms.graph.connector_m[:len(ms.cell_node)]}
    mode_report = {
        "cells_unlinked": int(np.sum(ms.cell_node < 0)),
        "facilities_unlinked": {},
        "graph_nodes": ms.graph.n_nodes,
    }
    for ftype in settings.facility_types:
        mode_report["facilities_unlinked"][ftype] = int(
            np.sum((fac_type == ftype) & (ms.fac_node < 0)))
        time_ms, dist_mm, nearest = _nearest(ms.nearest[ftype], ms, ms.cell_ms, ms.fac_mm)
        prefix = f"{ftype}_{mode}"
        columns[f"{prefix}_time_s"] = time_ms / 1000.0
        columns[f"{prefix}_distance_m"] = dist_mm / 1000.0
        ids = np.full(len(nearest), None, dtype=object)
        ids[nearest >= 0] = fac_id[nearest[nearest >= 0]]
        columns[f"{prefix}_facility_id"] = ids
        if times_only:
            continue
        for j, minutes in enumerate(settings.thresholds_min):
            # Unlinked cells have no count (NA), not zero facilities.
            col = pd.array(ms.counts[ftype][:, j], dtype="Int32")
            col[ms.cell_node < 0] = pd.NA
            columns[f"{prefix}_n_{minutes}min"] = col
    if mode == "car" and not times_only:
        for ftype in settings.facility_types:
            _, dist_mm, _ = _nearest(ms.cbs[ftype], ms, ms.cell_mm, ms.fac_mm)
            columns[f"{ftype}_cbs_distance_m"] = dist_mm / 1000.0
    return mode, columns, mode_report


def _assembled(state: AccessState, parts, kept: AccessState | None) -> AccessResult:
    """The result from every mode's :func:`_mode_columns`, in mode order."""
    fac_type = state.facilities["type"].to_numpy(object)
    columns: dict[str, Any] = {}
    report: dict[str, Any] = {"modes": {}, "facilities_without_type": [
        ftype for ftype in state.settings.facility_types if not np.any(fac_type == ftype)]}
    for mode, mode_columns, mode_report in parts:
        columns.update(mode_columns)
        report["modes"][mode] = mode_report
    return AccessResult(table=pd.DataFrame(columns), report=report, state=kept)
