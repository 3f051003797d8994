"""Facility capacity against demand: floating catchment ratios and allocation gaps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from .. import _progress
from ..config import CAPACITY_UNITS, DECAY_FUNCTIONS, Settings
from ..errors import ConfigError, InputError
from ..kernels import catchment as catchment_kernel, ch
from ..networks import link
from ..networks.graph import RoadNetwork
from ..sources import grid
from . import access

POPULATION = grid.POPULATION_COLUMN
BAND_COLUMNS = grid.AGE_BANDS  # band name -> CBS grid column


class Pairs(NamedTuple):
    """Travel times from cells to facilities, one entry per (cell, facility) pair.

    ``cell`` and ``facility`` are row positions (int64) in the cell and
    facility tables; ``time_s`` is the travel time, connectors included.
    """

    cell: np.ndarray
    facility: np.ndarray
    time_s: np.ndarray

    def ratios(self, rows: np.ndarray, demand: np.ndarray, capacity: np.ndarray,
               norm_s: float, settings: Settings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`two_step_fca` over the pairs of facilities ``rows`` within ``norm_s``."""
        fac = np.asarray(self.facility, np.int64)
        mine = np.isin(fac, rows) & (np.asarray(self.time_s) <= norm_s)
        sub = Pairs(np.asarray(self.cell, np.int64)[mine], fac[mine],
                    np.asarray(self.time_s, np.float64)[mine])
        weights = decay(settings.fca_decay, sub.time_s, norm_s, settings.fca_decay_param)
        return two_step_fca(sub, demand, capacity, len(demand), len(capacity), weights)


@dataclass
class LinkedCatchments:
    """Cells and facilities linked to a road network, for 2SFCA without pairs.

    ``rev`` is the reversed linked graph ``(indptr, indices, time_ms)``
    (searches run from the facilities to the cells); ``cell_node`` and
    ``fac_node`` are the points' nodes in it (-1: unlinked), ``cell_ms`` and
    ``fac_ms`` their connector times in whole milliseconds.
    """

    rev: tuple[np.ndarray, np.ndarray, np.ndarray]
    cell_node: np.ndarray
    cell_ms: np.ndarray
    fac_node: np.ndarray
    fac_ms: np.ndarray
    mode_state: access.ModeState | None = None

    @classmethod
    def of_mode(cls, ms: access.ModeState) -> LinkedCatchments:
        """The cells and facilities as the travel times linked them
        (:class:`bereikbaarheid.measures.access.ModeState`); its network's
        contraction hierarchy, when it has one, runs the catchments."""
        return cls(ms.rev[:3], ms.cell_node, ms.cell_ms, ms.fac_node, ms.fac_ms, ms)

    @classmethod
    def link(cls, network: RoadNetwork, cell_x: np.ndarray, cell_y: np.ndarray,
             facilities: pd.DataFrame, settings: Settings, mode: str) -> LinkedCatchments:
        """Link cells and facilities (columns ``x``, ``y``) as
        :mod:`bereikbaarheid.measures.access` does."""
        n_cells = len(cell_x)
        graph = link.link_points(
            network,
            np.concatenate([np.asarray(cell_x, float), facilities["x"].to_numpy(np.float64)]),
            np.concatenate([np.asarray(cell_y, float), facilities["y"].to_numpy(np.float64)]),
            settings.max_link_distance_m)
        conn_ms = link.connector_ms(graph.connector_m, settings.connector_speed_kmh[mode])
        rev = link.reversed_graph(graph)
        return cls((rev.indptr, rev.indices, rev.edge_time_ms),
                   graph.point_node[:n_cells], conn_ms[:n_cells],
                   graph.point_node[n_cells:], conn_ms[n_cells:])

    def ratios(self, rows: np.ndarray, demand: np.ndarray, capacity: np.ndarray,
               norm_s: float, settings: Settings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The result of :func:`two_step_fca` for facilities ``rows`` within
        ``norm_s``, from two bounded searches per facility and no pairs
        (:func:`bereikbaarheid.kernels.catchment.two_step_fca`)."""
        n_cells, n_fac = len(self.cell_node), len(self.fac_node)
        cell_ratio = np.zeros(n_cells)
        fac_ratio = np.full(n_fac, np.nan)
        catchment = np.zeros(n_fac)
        rows = np.asarray(rows, np.int64)
        rows = rows[self.fac_node[rows] >= 0]
        linked = np.flatnonzero(self.cell_node >= 0)
        if len(rows) == 0 or len(linked) == 0:
            return cell_ratio, fac_ratio, catchment
        n_nodes = len(self.rev[0]) - 1
        by_node = linked[np.argsort(self.cell_node[linked], kind="stable")]
        target_indptr = np.zeros(n_nodes + 1, np.int64)
        np.cumsum(np.bincount(self.cell_node[linked], minlength=n_nodes),
                  out=target_indptr[1:])
        norm_ms = int(round(norm_s * 1000.0))
        table = decay(settings.fca_decay, np.arange(norm_ms + 1) / 1000.0, norm_s,
                      settings.fca_decay_param)
        ms = self.mode_state
        if ms is not None and ms.hierarchy is not None:
            # Nearby sources in one batch share their search (nodes are in
            # spatial order); results come back per source.
            rows = rows[np.argsort(self.fac_node[rows], kind="stable")]
            cell_ratio[linked], fac_ratio[rows], catchment[rows] = ch.two_step_fca(
                ms.hierarchy, **access.hierarchy_inputs(ms, rows), decay=table,
                target_demand=demand[linked], source_capacity=capacity[rows])
            return cell_ratio, fac_ratio, catchment
        by_target, fac_ratio[rows], catchment[rows] = catchment_kernel.two_step_fca(
            *self.rev, self.fac_node[rows], self.fac_ms[rows], target_indptr,
            self.cell_ms[by_node], table, demand[by_node], capacity[rows])
        cell_ratio[by_node] = by_target
        return cell_ratio, fac_ratio, catchment


@dataclass
class CapacityResult:
    """Capacity measures of every facility type.

    Attributes
    ----------
    cells
        One row per cell, in cell order: ``{type}_demand`` (demand in the
        type's unit) and ``{type}_fca_ratio`` (2SFCA capacity per demand
        unit; 0 where no facility lies within the catchment, NaN where the
        cell is not linked to the ``fca_mode`` network).
    facilities
        One row per facility of an analysed type, by type then
        ``facility_id``: ``facility_id``, ``type``, ``name``, ``capacity``,
        ``capacity_unit``, ``capacity_source``, ``catchment_demand``,
        ``fca_ratio``, ``assigned_demand``, ``gap``, ``utilisation``,
        ``fte_capacity`` (GP FTE the capacity stands for; NaN for other types).
    areas
        One row per (area, type): the region first, then municipalities by
        code; ``level``, ``area_code``, ``area_name``, ``type``, ``unit``,
        ``demand``, ``capacity``, ``gap`` (demand - capacity, see
        :func:`allocation_gaps`), ``gap_share`` (gap / demand), ``fte_shortfall``
        (gap / patients per FTE for GPs; NaN otherwise),
        ``population_beyond_norm`` and ``share_beyond_norm`` (of the area's
        residents).
    """

    cells: pd.DataFrame
    facilities: pd.DataFrame
    areas: pd.DataFrame


def decay(name: str, t_s: np.ndarray, catchment_s: float, param: float = 0.0) -> np.ndarray:
    """Distance-decay weight of each travel time within a catchment.

    Parameters
    ----------
    name
        ``"step"`` (1: plain 2SFCA), ``"linear"`` (1 - t / catchment),
        ``"exponential"`` (exp(-param * t_min)) or ``"gaussian"``
        (exp(-t_min^2 / (2 param^2)), param = sigma in minutes).
    t_s
        Travel times in seconds; NaN counts as unreachable.
    catchment_s
        Largest time that counts (inclusive); weights beyond it are 0.
    param
        Beta per minute (exponential) or sigma in minutes (gaussian); unused
        otherwise.

    Returns
    -------
    numpy.ndarray
        float64 weights in [0, 1], 0 beyond the catchment.
    """
    if name not in DECAY_FUNCTIONS:
        raise ConfigError(f"unknown decay function {name!r}; expected one of {DECAY_FUNCTIONS}")
    if name in ("exponential", "gaussian") and not param > 0:
        raise ConfigError(f"decay {name!r} needs a parameter > 0; got {param!r}")
    t_s = np.asarray(t_s, dtype=np.float64)
    t_min = t_s / 60.0
    if name == "step":
        w = np.ones_like(t_s)
    elif name == "linear":
        w = 1.0 - t_s / catchment_s
    elif name == "exponential":
        w = np.exp(-param * t_min)
    else:
        w = np.exp(-(t_min * t_min) / (2.0 * param * param))
    within = t_s <= catchment_s  # False for NaN
    return np.where(within, w, 0.0)


def facility_capacity(facilities: pd.DataFrame,
                      settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Capacity of every facility, in its type's unit (``CAPACITY_UNITS``).

    A GP practice holds ``fte * gp_patients_per_fte`` patients when its
    ``fte`` is given, else its ``capacity``, else ``default_gp_fte *
    gp_patients_per_fte``. Other types take ``capacity``, else
    ``default_capacity[type]``. Missing columns count as missing values.

    Parameters
    ----------
    facilities
        Columns ``type`` and optionally ``capacity`` and ``fte``.
    settings
        Patients per FTE and the defaults.

    Returns
    -------
    capacity
        float64 per facility; NaN for a type without a default and no value.
    source
        ``"fte"``, ``"file"`` or ``"default"`` per facility (``"none"`` where
        the capacity is NaN).
    """
    ftype = facilities["type"].to_numpy(object)
    given = _column(facilities, "capacity")
    fte = _column(facilities, "fte")
    for name, values in (("capacity", given), ("fte", fte)):
        bad = np.flatnonzero(values < 0)
        if len(bad):
            row = facilities.iloc[bad[0]]
            raise InputError(None, f"facility {row.get('facility_id', bad[0])!r}: {name} "
                             f"must be >= 0, got {values[bad[0]]}")
    default = np.array([settings.default_gp_fte * settings.gp_patients_per_fte if t == "gp"
                        else settings.default_capacity.get(t, np.nan) for t in ftype], float)
    is_gp = ftype == "gp"
    from_fte = is_gp & np.isfinite(fte)
    from_file = ~from_fte & np.isfinite(given)
    capacity = np.where(from_fte, fte * settings.gp_patients_per_fte,
                        np.where(from_file, given, default))
    source = np.where(from_fte, "fte", np.where(from_file, "file", "default")).astype(object)
    source[np.isnan(capacity)] = "none"
    return capacity.astype(np.float64), source


def cell_demand(cells: pd.DataFrame, ftype: str, settings: Settings) -> np.ndarray:
    """Demand of every cell for a facility type, in the type's unit.

    The sum over CBS age bands of ``settings.demand_weights[ftype][band]``
    times the band's residents; suppressed (NaN) counts weigh 0.

    Parameters
    ----------
    cells
        Cell table with the CBS age-band columns (``BAND_COLUMNS``) that
        the type's weights use.
    ftype
        Facility type.
    settings
        Demand weights per type and band.
    """
    weights = settings.demand_weights.get(ftype)
    if weights is None:
        raise ConfigError(f"demand_weights has no weights for {ftype!r}")
    demand = np.zeros(len(cells))
    for band, weight in weights.items():
        if weight == 0:
            continue
        column = BAND_COLUMNS[band]
        if column not in cells:
            raise InputError(None, f"cell table has no column {column!r} (age band {band}), "
                             f"needed for the demand of {ftype!r}")
        demand += weight * np.nan_to_num(cells[column].to_numpy(np.float64), nan=0.0)
    return demand


def two_step_fca(pairs: Pairs, demand: np.ndarray, capacity: np.ndarray, n_cells: int,
                 n_facilities: int,
                 weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-step floating catchment area ratios (2SFCA; E2SFCA with decay).

    Step 1 (Luo & Wang 2003): ``R_f = capacity_f / D_f`` with the catchment
    demand ``D_f = sum_c demand_c * w_cf``. Step 2: ``A_c = sum_f R_f *
    w_cf``. With decay weights inside the catchment this is the enhanced
    2SFCA of Luo & Qi (2009); the same weight applies in both steps. The
    numbers equal PySAL ``access.Access.two_stage_fca`` with the same
    ``weight_fn`` and ``max_cost`` wherever PySAL defines them.

    Parameters
    ----------
    pairs
        Cell-facility pairs within the catchment (only ``cell`` and
        ``facility`` are used; pairs beyond the catchment must have weight 0).
    demand
        float, ``n_cells``.
    capacity
        float, ``n_facilities``.
    n_cells, n_facilities
        Table sizes.
    weights
        float, one weight per pair (see :func:`decay`).

    Returns
    -------
    cell_ratio
        ``A_c``: capacity units reachable per demand unit. A cell with no
        facility in its catchment gets 0 (PySAL leaves it out: NaN).
    facility_ratio
        ``R_f``; NaN where ``D_f`` is 0 (no demand in the catchment). Such a
        facility adds nothing to any cell (PySAL would give infinity to the
        zero-demand cells in its catchment).
    facility_catchment_demand
        ``D_f``.
    """
    cell = np.asarray(pairs.cell, dtype=np.int64)
    fac = np.asarray(pairs.facility, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    if not (len(cell) == len(fac) == len(weights)):
        raise ValueError("pairs and weights must have the same length")
    demand = np.asarray(demand, dtype=np.float64)
    capacity = np.asarray(capacity, dtype=np.float64)
    catchment = np.bincount(fac, weights=demand[cell] * weights, minlength=n_facilities)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(catchment > 0, capacity / catchment, np.nan)
    share = np.nan_to_num(ratio, nan=0.0)[fac] * weights
    cell_ratio = np.bincount(cell, weights=share, minlength=n_cells)
    return cell_ratio, ratio, catchment


def allocation_gaps(
    nearest: np.ndarray,
    demand: np.ndarray,
    capacity: np.ndarray,
    cell_area: np.ndarray,
    area_codes: list[str],
    patients_per_fte: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Allocate each cell's demand to its nearest facility; gaps per facility and area.

    Parameters
    ----------
    nearest
        int, per cell: row of its nearest facility, -1 for none (unlinked or
        unreachable); its demand then goes to no facility.
    demand
        float per cell.
    capacity
        float per facility.
    cell_area
        Area code of every cell.
    area_codes
        The areas to report, in order.
    patients_per_fte
        For GPs: adds ``fte_shortfall = gap / patients_per_fte`` (else NaN).

    Returns
    -------
    facilities
        Per facility, in facility order: ``assigned_demand``, ``gap`` =
        assigned demand - capacity (positive: shortage) and ``utilisation`` =
        assigned / capacity (NaN for zero capacity).
    areas
        Per area, in ``area_codes`` order: ``area_code``, ``demand`` (all its
        cells, served or not), ``capacity`` (each facility's capacity shared
        out over areas in proportion to the demand it receives from them;
        a facility that receives none counts in no area), ``gap`` = demand -
        capacity, ``fte_shortfall``.
    """
    nearest = np.asarray(nearest, dtype=np.int64)
    demand = np.asarray(demand, dtype=np.float64)
    capacity = np.asarray(capacity, dtype=np.float64)
    n_fac = len(capacity)
    served = nearest >= 0
    assigned = np.bincount(nearest[served], weights=demand[served], minlength=n_fac)
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(capacity > 0, assigned / capacity, np.nan)
        # Capacity each unit of assigned demand brings along to its area.
        capacity_per_unit = np.where(assigned > 0, capacity / assigned, 0.0)
    facilities = pd.DataFrame({"assigned_demand": assigned, "gap": assigned - capacity,
                               "utilisation": utilisation})

    cell_area = np.asarray(cell_area, dtype=object)
    cell_capacity = np.zeros(len(demand))
    cell_capacity[served] = demand[served] * capacity_per_unit[nearest[served]]
    rows = []
    for code in area_codes:
        inside = cell_area == code
        area_demand = float(demand[inside].sum())
        area_capacity = float(cell_capacity[inside].sum())
        gap = area_demand - area_capacity
        rows.append({"area_code": code, "demand": area_demand, "capacity": area_capacity,
                     "gap": gap,
                     "fte_shortfall": gap / patients_per_fte if patients_per_fte else np.nan})
    areas = pd.DataFrame(rows, columns=["area_code", "demand", "capacity", "gap",
                                        "fte_shortfall"])
    return facilities, areas


def catchment_pairs(network: RoadNetwork, cell_x: np.ndarray, cell_y: np.ndarray,
                    facilities: pd.DataFrame, settings: Settings, mode: str,
                    cutoff_s: float) -> Pairs:
    """Every (cell, facility) pair within ``cutoff_s`` over a road mode.

    Cells and facilities are linked as in :mod:`bereikbaarheid.measures.access`
    and both connectors are costed at ``settings.connector_speed_kmh[mode]``;
    one bounded search per facility runs on the reversed graph.

    Parameters
    ----------
    network
        The mode's road network.
    cell_x, cell_y
        Cell centroids in the network's CRS.
    facilities
        Columns ``x``, ``y``; pairs name facilities by row position.
    settings
        Connector speeds and the maximum link distance.
    mode
        Road mode of ``network``.
    cutoff_s
        Largest travel time reported (inclusive), connectors included.

    Returns
    -------
    Pairs
        Sorted by facility, then cell; unlinked cells and facilities have none.
    """
    n_cells = len(cell_x)
    graph = link.link_points(
        network,
        np.concatenate([np.asarray(cell_x, float), facilities["x"].to_numpy(np.float64)]),
        np.concatenate([np.asarray(cell_y, float), facilities["y"].to_numpy(np.float64)]),
        settings.max_link_distance_m,
    )
    conn_s = link.connector_ms(graph.connector_m, settings.connector_speed_kmh[mode]) / 1000.0
    # Searches from the facilities over the reversed graph give times to them.
    # point_pairs sorts by (facility, cell) already.
    fac, cell, time_s = link.point_pairs(
        link.reversed_graph(graph), n_cells + np.arange(len(facilities)), np.arange(n_cells),
        cutoff_s, conn_s, conn_s)
    fac -= n_cells
    return Pairs(cell, fac, time_s)


def capacity_measures(
    cells: pd.DataFrame,
    facilities: pd.DataFrame,
    catchments: Mapping[str, Pairs | LinkedCatchments],
    settings: Settings,
    region_code: str,
    region_name: str = "",
) -> CapacityResult:
    """Demand, 2SFCA ratios and capacity gaps of every facility type.

    Parameters
    ----------
    cells
        Cell table: the CBS population and age-band columns,
        ``municipality_code`` (and ``municipality_name``), and the access
        columns of ``settings.fca_mode``: ``{type}_{mode}_time_s``,
        ``{type}_{mode}_facility_id`` and ``{mode}_link_m``.
    facilities
        Columns ``facility_id``, ``type``, optionally ``name``, ``capacity``
        and ``fte``.
    catchments
        Per type, what reaches what by ``fca_mode``, facilities by row
        position in ``facilities``: a :class:`LinkedCatchments` (searched
        here, pair-free) or the :class:`Pairs` of :func:`catchment_pairs`.
        Facilities of another type and pairs beyond the type's norm are
        ignored, so one object over all facilities may serve every type.
    settings
        Types, ``fca_mode``, ``norm_min`` (also the catchment), the decay,
        demand weights and capacity defaults.
    region_code, region_name
        Identify the region row.

    Notes
    -----
    The region row is the sum of its municipalities' rows. Residents beyond
    the norm are those whose nearest facility by ``fca_mode`` is farther
    than ``norm_min`` or none (unlinked or unreachable).
    """
    mode = settings.fca_mode
    n_cells = len(cells)
    fac_type = facilities["type"].to_numpy(object)
    fac_id = facilities["facility_id"].to_numpy(object)
    capacity, source = facility_capacity(facilities, settings)
    population = np.nan_to_num(_column(cells, POPULATION), nan=0.0)
    linked = (cells[f"{mode}_link_m"].notna().to_numpy() if f"{mode}_link_m" in cells
              else np.ones(n_cells, bool))
    cell_muni = cells["municipality_code"].to_numpy(object)
    codes = sorted({c for c in cell_muni if isinstance(c, str)})
    names = (cells.groupby("municipality_code", sort=True)["municipality_name"].first()
             if "municipality_name" in cells else pd.Series(dtype=object))

    cell_columns: dict[str, np.ndarray] = {}
    fac_rows: list[pd.DataFrame] = []
    area_rows: list[pd.DataFrame] = []
    for ftype in _progress.bar(settings.facility_types, desc="capacity", unit=" type"):
        rows = np.flatnonzero(fac_type == ftype)
        norm_s = settings.norm_min[ftype] * 60.0
        demand = cell_demand(cells, ftype, settings)
        reach = catchments.get(ftype, Pairs(np.empty(0, np.int64), np.empty(0, np.int64),
                                            np.empty(0)))
        cell_ratio, fac_ratio, catchment = reach.ratios(rows, demand, capacity, norm_s,
                                                        settings)
        cell_columns[f"{ftype}_demand"] = demand
        cell_columns[f"{ftype}_fca_ratio"] = np.where(linked, cell_ratio, np.nan)

        nearest = _nearest_rows(cells[f"{ftype}_{mode}_facility_id"].to_numpy(object),
                                fac_id[rows], rows)
        per_fte = settings.gp_patients_per_fte if ftype == "gp" else None
        fac_gaps, area_gaps = allocation_gaps(nearest, demand, capacity, cell_muni, codes,
                                              per_fte)
        fac_rows.append(pd.DataFrame({
            "facility_id": fac_id[rows],
            "type": ftype,
            "name": (facilities["name"].to_numpy(object)[rows] if "name" in facilities
                     else np.full(len(rows), None, object)),
            "capacity": capacity[rows],
            "capacity_unit": CAPACITY_UNITS.get(ftype, ""),
            "capacity_source": source[rows],
            "catchment_demand": catchment[rows],
            "fca_ratio": fac_ratio[rows],
            "assigned_demand": fac_gaps["assigned_demand"].to_numpy()[rows],
            "gap": fac_gaps["gap"].to_numpy()[rows],
            "utilisation": fac_gaps["utilisation"].to_numpy()[rows],
            "fte_capacity": capacity[rows] / per_fte if per_fte else np.nan,
        }).sort_values("facility_id", kind="stable", key=lambda s: s.astype(str)))

        time_s = cells[f"{ftype}_{mode}_time_s"].to_numpy(np.float64)
        beyond = ~(time_s <= norm_s)  # NaN (no facility) counts as beyond
        beyond_pop = np.array([population[(cell_muni == c) & beyond].sum() for c in codes])
        pop = np.array([population[cell_muni == c].sum() for c in codes])
        area_gaps["population_beyond_norm"] = beyond_pop
        area_gaps["population"] = pop
        area_gaps.insert(0, "level", "municipality")
        area_gaps.insert(2, "area_name", [names.get(c, "") for c in codes])
        region = area_gaps[["demand", "capacity", "gap", "fte_shortfall",
                            "population_beyond_norm", "population"]].sum(min_count=1)
        region_row = pd.DataFrame([{"level": "region", "area_code": region_code,
                                    "area_name": region_name, **region.to_dict()}])
        areas = pd.concat([region_row, area_gaps], ignore_index=True)
        areas.insert(3, "type", ftype)
        areas.insert(4, "unit", CAPACITY_UNITS.get(ftype, ""))
        area_rows.append(areas)

    area_table = pd.concat(area_rows, ignore_index=True)
    # Region first, then municipalities by code; types in settings order within each.
    area_order = {code: i for i, code in enumerate([region_code, *codes])}
    type_order = {t: i for i, t in enumerate(settings.facility_types)}
    area_table = area_table.iloc[np.lexsort((
        area_table["type"].map(type_order).to_numpy(),
        area_table["area_code"].map(area_order).to_numpy(),
        (area_table["level"] != "region").to_numpy(),
    ))].reset_index(drop=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        demand = area_table["demand"].to_numpy()
        pop = area_table.pop("population").to_numpy()
        area_table.insert(area_table.columns.get_loc("gap") + 1, "gap_share",
                          np.where(demand > 0, area_table["gap"] / demand, np.nan))
        area_table["share_beyond_norm"] = np.where(
            pop > 0, area_table["population_beyond_norm"] / pop, np.nan)
    fac_table = (pd.concat(fac_rows, ignore_index=True) if fac_rows
                 else pd.DataFrame(columns=list(_FACILITY_COLUMNS)))
    return CapacityResult(cells=pd.DataFrame(cell_columns, index=cells.index),
                          facilities=fac_table, areas=area_table)


_FACILITY_COLUMNS = ("facility_id", "type", "name", "capacity", "capacity_unit",
                     "capacity_source", "catchment_demand", "fca_ratio", "assigned_demand",
                     "gap", "utilisation", "fte_capacity")


def _nearest_rows(nearest_id: np.ndarray, type_ids: np.ndarray,
                  type_rows: np.ndarray) -> np.ndarray:
    """Facility row of each cell's nearest-facility id; -1 where it has none."""
    found = pd.Index(type_ids).get_indexer(nearest_id)
    unknown = np.flatnonzero((found < 0) & pd.notna(nearest_id))
    if len(unknown):
        raise InputError(None, f"cell {unknown[0]}: nearest facility "
                         f"{nearest_id[unknown[0]]!r} is not in the facility table")
    if len(type_rows) == 0:
        return np.full(len(nearest_id), -1, np.int64)
    return np.where(found >= 0, type_rows[found], -1).astype(np.int64)


def _column(table: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric column as float64 (NaN where missing; all NaN when absent)."""
    if name not in table:
        return np.full(len(table), np.nan)
    return pd.to_numeric(table[name], errors="coerce").to_numpy(np.float64)
