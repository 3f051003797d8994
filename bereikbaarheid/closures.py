"""The impact of each closure: every facility of a type closed on its own, one row each.

A row holds what a scenario closing just that facility
(:func:`bereikbaarheid.scenario.run_scenario`) would show: the residents it
pushes beyond the type's norm and the extra person-minutes per mode, the
demand it leaves to the next facility and that facility's new utilisation,
and the change of its municipality's and the region's capacity gap. Every
value equals that scenario's exactly, without its cost:

- road travel times are updated incrementally from the baseline's searches
  (:func:`bereikbaarheid.measures.access.close_facilities`, table only, for
  the closed type only);
- public transport reuses, per type, the nearest facility at every departure
  of the window and the time to the next one, found once
  (:func:`bereikbaarheid.measures.transit.nearest_by_departure`): a closure
  replaces the minima it held and takes the percentile again;
- capacity allocates the demand again for the closed type only; 2SFCA ratios,
  which no column here uses, are not recomputed.

:func:`closure_base` prepares what every closure starts from, once; it can be
pickled and sent to workers. :func:`impact_rows` computes the rows of any
facilities, each independent of the others in the call, and :func:`ranked`
orders them into the table of :data:`CLOSURE_FILE`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import pipeline, profile
from .config import CAPACITY_UNITS, FACILITY_TYPES, ROAD_MODES, TRANSIT_MODE, Settings
from .errors import ConfigError
from .measures import access, capacity, transit
from .sources import boundaries

logger = logging.getLogger(__name__)

CLOSURE_FILE = "closure_impact.csv"
# What ``--each-closure`` accepts: a facility type, or every analysed one.
CLOSURE_TYPES: tuple[str, ...] = (*FACILITY_TYPES, "all")
# The per-mode columns, ``{mode}_`` before each.
_MODE_COLUMNS = ("population_pushed_beyond_norm", "population_0_14_pushed_beyond_norm",
                 "population_65_plus_pushed_beyond_norm", "extra_person_min",
                 "population_losing_reach")
# The text columns (object, None where missing); every other column is float64.
_TEXT = ("facility_id", "type", "name", "municipality_code", "municipality_name", "fca_mode",
         "unit", "next_facility_id", "next_facility_name")
# Rounded as the profile's tables are: amounts to 0.1, ratios to 1e-6.
_AMOUNT_WORDS = ("population", "person_min", "demand", "gap")


@dataclass
class ClosureBase:
    """What every closure starts from: the baseline (or projected) measures and
    what makes each closure cheap.

    Attributes
    ----------
    inputs
        The prepared run.
    measured
        Its measures with the road searches kept (``keep_state=True``).
    cells
        The cells measured: the grid's, or a projected population.
    timetable
        The timetable measured (None without public transport).
    types
        The facility types prepared for.
    modes
        The modes measured, in settings order.
    pt
        Per type, the nearest facility at every departure and the time to the
        next (only when ``pt`` was measured).
    places
        Per facility (rows of ``measured.facilities``): the municipality it
        lies in (``municipality_code``, ``municipality_name``; None abroad)
        and ``lon``, ``lat`` (WGS84).
    capacity
        Per facility, its capacity in the type's unit.
    demand
        Per type, every cell's demand.
    nearest
        Per type, every cell's nearest facility by ``fca_mode`` (row of
        ``measured.facilities``, -1 none).
    assigned
        Per type, every facility's assigned demand and utilisation (as
        :func:`bereikbaarheid.measures.capacity.allocation_gaps` gives them).
    settings_of
        Per type, the settings with that type only, for the road update.
    weights
        Every cell's residents (``all``) and those of each of
        :data:`bereikbaarheid.profile.AGE_GROUPS`; suppressed counts weigh 0.
    """

    inputs: pipeline.RunInputs
    measured: pipeline.Measured
    cells: gpd.GeoDataFrame
    timetable: Any
    types: tuple[str, ...]
    modes: tuple[str, ...]
    pt: dict[str, transit.NearestByDeparture] = field(default_factory=dict)
    places: pd.DataFrame | None = None
    capacity: np.ndarray | None = None
    demand: dict[str, np.ndarray] = field(default_factory=dict)
    nearest: dict[str, np.ndarray] = field(default_factory=dict)
    assigned: dict[str, pd.DataFrame] = field(default_factory=dict)
    settings_of: dict[str, Settings] = field(default_factory=dict)
    weights: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        return self.inputs.config.settings


def closure_base(inputs: pipeline.RunInputs, measured: pipeline.Measured, *,
                 cells: gpd.GeoDataFrame | None = None, timetable: Any = None,
                 types: Sequence[str] | None = None) -> ClosureBase:
    """Prepare the closures of ``measured``: once, before any :func:`impact_rows`.

    Parameters
    ----------
    inputs
        The prepared run (:func:`bereikbaarheid.pipeline.prepare`).
    measured
        :func:`bereikbaarheid.pipeline.measure` of ``inputs`` with
        ``keep_state=True`` (and the same ``cells`` and ``timetable``).
    cells
        The cells measured when not the prepared ones (a projected population).
    timetable
        The timetable measured when not the prepared one.
    types
        The facility types whose closures will be asked for (default every
        analysed type); public transport is prepared for these only.

    Notes
    -----
    With public transport, each type costs one range-RAPTOR run with its
    facilities as destinations and keeps at most cells x departures x 8 bytes
    (:func:`bereikbaarheid.measures.transit.nearest_by_departure`): about
    0.85 GB per type for 887,800 cells and the default 120 departures.

    Raises
    ------
    ValueError
        ``measured`` lacks the road searches, or its cells or timetable are
        not the ones given.
    ConfigError
        Capacity was not measured (``fca_mode`` not among the modes), or a
        type is not analysed.
    """
    settings = inputs.config.settings
    if measured.access.state is None:
        raise ValueError("closures update the baseline's road searches: measure with "
                         "keep_state=True")
    if measured.gaps is None:
        raise ConfigError(f"the impact of closures includes capacity: fca_mode "
                          f"{settings.fca_mode!r} must be among the modes {list(settings.modes)}")
    cells = inputs.cells if cells is None else cells
    timetable = inputs.timetable if timetable is None else timetable
    table = measured.cells
    population = profile.POPULATION
    if len(cells) != len(table) or not np.array_equal(
            cells[population].to_numpy(np.float64), table[population].to_numpy(np.float64),
            equal_nan=True):
        raise ValueError("the cells given are not those measured (pass the cells, e.g. a "
                         "projected population, that pipeline.measure was given)")
    types = tuple(settings.facility_types if types is None else types)
    unknown = [t for t in types if t not in settings.facility_types]
    if unknown:
        raise ConfigError(f"facility types {unknown} are not analysed; expected some of "
                          f"{list(settings.facility_types)}", key="facility_types")
    modes = tuple(m for m in settings.modes if f"{m}_link_m" in table)
    fac = measured.facilities
    fac_type = fac["type"].to_numpy(object)
    fac_id = fac["facility_id"].to_numpy(object)
    base = ClosureBase(inputs=inputs, measured=measured, cells=cells, timetable=timetable,
                       types=types, modes=modes)
    base.weights = {"all": _weights(table, population)}
    base.weights.update({group: _weights(table, column)
                         for group, column in profile.AGE_GROUPS.items()})

    x, y = fac["x"].to_numpy(np.float64), fac["y"].to_numpy(np.float64)
    codes, names = boundaries.assign_municipality(x, y, inputs.all_municipalities)
    lon, lat = profile.to_wgs84(x, y, fac.crs)
    base.places = pd.DataFrame({"municipality_code": pd.Series(codes, dtype=object),
                                "municipality_name": pd.Series(names, dtype=object),
                                "lon": lon, "lat": lat})
    # As the pipeline's capacity step sees the facilities.
    base.capacity = capacity.facility_capacity(pd.DataFrame(fac.drop(columns="geometry")),
                                               settings)[0]
    cell_muni = table["municipality_code"].to_numpy(object)
    for ftype in types:
        rows = np.flatnonzero(fac_type == ftype)
        base.settings_of[ftype] = dataclasses.replace(settings, facility_types=(ftype,))
        base.demand[ftype] = capacity.cell_demand(table, ftype, settings)
        base.nearest[ftype] = _rows_of(
            table[f"{ftype}_{settings.fca_mode}_facility_id"].to_numpy(object), fac_id, rows)
        base.assigned[ftype] = capacity.allocation_gaps(
            base.nearest[ftype], base.demand[ftype], base.capacity, cell_muni, [])[0]
        if TRANSIT_MODE in modes:
            if timetable is None:
                raise ValueError("public transport was measured: pass its timetable")
            logger.info(f"public transport for the closures of {len(rows)} {ftype} facilities")
            nearest = transit.nearest_by_departure(
                timetable, inputs.networks, cells["x"].to_numpy(np.float64),
                cells["y"].to_numpy(np.float64), pd.DataFrame(fac.iloc[rows][["x", "y"]]),
                settings)
            if not np.array_equal(nearest.time_s(),
                                  table[f"{ftype}_{TRANSIT_MODE}_time_s"].to_numpy(np.float64),
                                  equal_nan=True):
                raise ValueError(f"{ftype}: the public-transport times differ from those "
                                 "measured; pass the timetable pipeline.measure was given")
            base.pt[ftype] = nearest
    return base


def candidates(base: ClosureBase, which: str) -> list[str]:
    """The facility ids whose closures ``--each-closure which`` asks for: those
    of the type (``all``: every analysed type) among the facilities in scope,
    in the order of the facility table.

    Raises
    ------
    ConfigError
        ``which`` is not a facility type, or not an analysed one.
    """
    analysed = list(base.settings.facility_types)
    if which == "all":
        types = analysed
    elif which in analysed:
        types = [which]
    else:
        known = "is not a facility type" if which not in CLOSURE_TYPES else "is not analysed"
        raise ConfigError(f"{which!r} {known}; expected one of the analysed types {analysed} "
                          "or 'all' (the types are the settings' facility_types)",
                          path="--each-closure")
    missing = [t for t in types if t not in base.types]
    if missing:
        raise ValueError(f"the closure base was prepared for {list(base.types)}, not {missing}")
    fac = base.measured.facilities
    ids = fac.loc[fac["type"].isin(types), "facility_id"]
    return list(dict.fromkeys(ids.tolist()))


def closed_cells(base: ClosureBase, facility_id: str) -> pd.DataFrame:
    """Per cell, with ``facility_id`` alone closed: the travel time of its
    type(s) by every mode measured (``{type}_{mode}_time_s``) and the nearest
    facility by ``fca_mode`` (``{type}_{fca_mode}_facility_id``), as the
    scenario's ``cells.parquet`` has them.

    Raises
    ------
    KeyError
        ``facility_id`` is not among the facilities in scope.
    """
    fac = base.measured.facilities
    at = np.flatnonzero(fac["facility_id"].to_numpy(object) == facility_id)
    if len(at) == 0:
        raise KeyError(f"facility {facility_id!r} is not among the facilities in scope")
    fac_type = fac["type"].to_numpy(object)
    state = base.measured.access.state
    fca = base.settings.fca_mode
    columns: dict[str, Any] = {}
    for ftype in [t for t in base.settings.facility_types if (fac_type[at] == t).any()]:
        if ftype not in base.types:
            raise ValueError(f"the closure base was prepared for {list(base.types)}, "
                             f"not {ftype!r}")
        # The road searches of the closed type only: the others stay as they are.
        one = dataclasses.replace(state, settings=base.settings_of[ftype])
        road = access.close_facilities(one, [facility_id], table_only=True,
                                      times_only=True).table
        for mode in base.modes:
            column = f"{ftype}_{mode}_time_s"
            if mode in ROAD_MODES:
                columns[column] = road[column].to_numpy(np.float64)
                continue
            # Public transport: the facility's place among its type's, as
            # nearest_by_departure was given them.
            place = int(np.searchsorted(np.flatnonzero(fac_type == ftype),
                                        at[fac_type[at] == ftype][0]))
            cells, time_s = base.pt[ftype].time_without(place)
            columns[column] = base.measured.cells[column].to_numpy(np.float64).copy()
            columns[column][cells] = time_s
        columns[f"{ftype}_{fca}_facility_id"] = road[f"{ftype}_{fca}_facility_id"].to_numpy()
    return pd.DataFrame(columns)


def impact_rows(base: ClosureBase, facility_ids: Iterable[str]) -> pd.DataFrame:
    """One row per facility (per facility and type, for an id of several
    types), each as if that facility alone were closed; in the order given,
    unrounded, without rank (see :func:`ranked`).

    A row depends on its facility only, not on the other ids of the call, so
    the ids may be split over workers in any way.
    """
    fac = base.measured.facilities
    ids = fac["facility_id"].to_numpy(object)
    rows = []
    for facility_id in facility_ids:
        after = closed_cells(base, facility_id)
        for i in np.flatnonzero(ids == facility_id):
            rows.append(_impact(base, int(i), after))
    # Fixed dtypes, whatever the rows hold: tables of any split of the ids concatenate alike.
    return pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=object if c in _TEXT
                                      else np.float64) for c in _columns(base)})


def ranked(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows as :data:`CLOSURE_FILE` holds them: rounded (amounts to 0.1,
    utilisation to 1e-6), worst closure first, with ``rank`` (1 = worst) in
    front.

    Worst means the most residents pushed beyond the norm by the rows'
    ``fca_mode``, then the most extra person-minutes by it; ties go by
    ``facility_id``, then ``type``.
    """
    out = _rounded(rows)
    if len(out):
        mode = _fca_mode(out)
        out = out.sort_values(
            [f"{mode}_population_pushed_beyond_norm", f"{mode}_extra_person_min",
             "facility_id", "type"], ascending=[False, False, True, True],
            kind="stable").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1, dtype=np.int64))
    return out


def describe(table: pd.DataFrame, n: int = 10) -> list[str]:
    """The worst ``n`` closures of a :func:`ranked` table, in a few lines."""
    if table.empty:
        return ["no closures: no facility of the type in scope"]
    mode = _fca_mode(table)
    types = ", ".join(dict.fromkeys(table["type"]))
    lines = [(f"{len(table)} closures ({types}), each on its own; the worst "
              f"{min(n, len(table))} by residents pushed beyond the norm by {mode}:"),
             (f"{'rank':>4}  {'facility':<14}{'name':<26}{'municipality':<16}"
              f"{'beyond norm':>12}{'extra person-min':>18}  next facility, utilisation")]
    for row in table.head(n).to_dict(orient="records"):
        name = row["name"] if isinstance(row["name"], str) else ""
        where = (row["municipality_name"] if isinstance(row["municipality_name"], str)
                 else "(abroad)")
        nxt = ("none" if not isinstance(row["next_facility_id"], str)
               else f"{row['next_facility_id']}, {row['next_facility_utilisation_before']:.0%}"
                    f" -> {row['next_facility_utilisation_after']:.0%}")
        lines.append(f"{row['rank']:>4}  {row['facility_id']:<14}{name[:25]:<26}"
                     f"{where[:15]:<16}{row[f'{mode}_population_pushed_beyond_norm']:>12,.0f}"
                     f"{row[f'{mode}_extra_person_min']:>18,.0f}  {nxt}")
    return lines


def _impact(base: ClosureBase, i: int, after: pd.DataFrame) -> dict[str, Any]:
    """The row of facility row ``i`` of ``measured.facilities``, from the
    cells with it closed (:func:`closed_cells`)."""
    settings = base.settings
    fac = base.measured.facilities
    cells = base.measured.cells
    ftype = fac["type"].iloc[i]
    place = base.places.iloc[i]
    row: dict[str, Any] = {
        "facility_id": fac["facility_id"].iloc[i], "type": ftype,
        "name": fac["name"].iloc[i] if "name" in fac else None,
        "x": float(fac["x"].iloc[i]), "y": float(fac["y"].iloc[i]),
        "lon": float(place["lon"]), "lat": float(place["lat"]),
        "municipality_code": place["municipality_code"],
        "municipality_name": place["municipality_name"],
        "norm_min": float(settings.norm_min[ftype]),
        "fca_mode": settings.fca_mode,
    }
    norm_s = settings.norm_min[ftype] * 60.0
    everyone = base.weights["all"]
    groups = {group: base.weights[group] for group in profile.AGE_GROUPS}
    for mode in base.modes:
        before = cells[f"{ftype}_{mode}_time_s"].to_numpy(np.float64)
        now = after[f"{ftype}_{mode}_time_s"].to_numpy(np.float64)
        # NaN (unlinked, unreached) is beyond the norm, as in the profile.
        pushed = (before <= norm_s) & ~(now <= norm_s)
        row[f"{mode}_population_pushed_beyond_norm"] = float(everyone[pushed].sum())
        for group, weights in groups.items():
            row[f"{mode}_population_{group}_pushed_beyond_norm"] = float(weights[pushed].sum())
        both = np.isfinite(before) & np.isfinite(now)
        row[f"{mode}_extra_person_min"] = float(((now - before) * everyone)[both].sum() / 60.0)
        row[f"{mode}_population_losing_reach"] = float(
            everyone[np.isfinite(before) & ~np.isfinite(now)].sum())
    row.update(_capacity_change(base, i, ftype, after))
    return row


def _capacity_change(base: ClosureBase, i: int, ftype: str,
                     after: pd.DataFrame) -> dict[str, Any]:
    """Demand moved, the next facility, and the gaps of the facility's
    municipality and the region, with facility row ``i`` closed."""
    settings = base.settings
    fac = base.measured.facilities
    fac_id = fac["facility_id"].to_numpy(object)
    fac_type = fac["type"].to_numpy(object)
    cells = base.measured.cells
    cell_muni = cells["municipality_code"].to_numpy(object)
    demand, capacity_of = base.demand[ftype], base.capacity
    rows = np.flatnonzero(fac_type == ftype)
    nearest_before = base.nearest[ftype]
    # A closure moves the cells it served only (ties elsewhere stay as they were).
    moved = nearest_before == i
    nearest_after = nearest_before.copy()
    nearest_after[moved] = _rows_of(
        after[f"{ftype}_{settings.fca_mode}_facility_id"].to_numpy(object)[moved], fac_id, rows)
    before = base.assigned[ftype]
    now = capacity.allocation_gaps(nearest_after, demand, capacity_of, cell_muni, [])[0]
    assigned_before = before["assigned_demand"].to_numpy()
    assigned_now = now["assigned_demand"].to_numpy()
    received = assigned_now - assigned_before
    receivers = rows[(received[rows] > 0) & (rows != i)]
    out: dict[str, Any] = {
        "unit": CAPACITY_UNITS.get(ftype, ""),
        "demand_moved": float(assigned_before[i]),
        "demand_unserved": float(demand[moved & (nearest_after < 0)].sum()),
        "next_facility_id": None, "next_facility_name": None,
        "next_facility_demand_received": np.nan,
        "next_facility_utilisation_before": np.nan, "next_facility_utilisation_after": np.nan,
    }
    if len(receivers):
        most = received[receivers]
        top = receivers[most == most.max()]
        j = top[np.argmin(fac_id[top].astype(str))] if len(top) > 1 else top[0]
        out.update({
            "next_facility_id": fac_id[j],
            "next_facility_name": fac["name"].iloc[j] if "name" in fac else None,
            "next_facility_demand_received": float(received[j]),
            "next_facility_utilisation_before": float(before["utilisation"].iloc[j]),
            "next_facility_utilisation_after": float(now["utilisation"].iloc[j]),
        })

    # The areas whose capacity changes: those of the cells served, before or
    # after, by a facility whose assigned demand changed.
    changed = np.union1d(np.flatnonzero(assigned_now != assigned_before), [i])
    touched = np.isin(nearest_before, changed) | np.isin(nearest_after, changed)
    areas = base.measured.gaps.areas
    areas = areas[areas["type"] == ftype]
    munis = areas[areas["level"] == "municipality"]
    gap_before = pd.Series(munis["gap"].to_numpy(np.float64), index=munis["area_code"])
    gap_now = gap_before.copy()
    touched_codes = set(pd.unique(cell_muni[touched]))
    again = [c for c in gap_before.index if c in touched_codes]
    if again:
        redone = capacity.allocation_gaps(nearest_after, demand, capacity_of, cell_muni,
                                          again)[1]
        gap_now[again] = redone["gap"].to_numpy(np.float64)
    code = base.places["municipality_code"].iloc[i]
    region_before = float(areas.loc[areas["level"] == "region", "gap"].iloc[0])
    # The region's row is the sum of its municipalities' (as capacity_measures sums it).
    region_now = float(pd.DataFrame({"gap": gap_now.to_numpy()}).sum(min_count=1)["gap"])
    # Abroad, or in a municipality without cells of the region: no area row.
    muni_before = float(gap_before.get(code, np.nan)) if isinstance(code, str) else np.nan
    muni_now = float(gap_now.get(code, np.nan)) if isinstance(code, str) else np.nan
    out.update({
        "municipality_gap_before": muni_before, "municipality_gap_after": muni_now,
        "municipality_gap_change": muni_now - muni_before,
        "region_gap_before": region_before, "region_gap_after": region_now,
        "region_gap_change": region_now - region_before,
    })
    return out


def _columns(base: ClosureBase) -> list[str]:
    head = ["facility_id", "type", "name", "x", "y", "lon", "lat", "municipality_code",
            "municipality_name", "norm_min", "fca_mode"]
    per_mode = [f"{mode}_{c}" for mode in base.modes for c in _MODE_COLUMNS]
    tail = ["unit", "demand_moved", "demand_unserved", "next_facility_id",
            "next_facility_name", "next_facility_demand_received",
            "next_facility_utilisation_before", "next_facility_utilisation_after",
            "municipality_gap_before", "municipality_gap_after", "municipality_gap_change",
            "region_gap_before", "region_gap_after", "region_gap_change"]
    return head + per_mode + tail


def _rounded(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows.copy()
    for column in out.columns:
        if out[column].dtype != np.float64 or column in ("x", "y", "lon", "lat", "norm_min"):
            continue
        amount = any(word in column for word in _AMOUNT_WORDS)
        out[column] = out[column].round(1 if amount else 6)
    return out


def _fca_mode(rows: pd.DataFrame) -> str:
    """The mode the rows' capacity and rank go by (one for all rows)."""
    modes = set(rows["fca_mode"])
    if len(modes) != 1:
        raise ValueError(f"closures measured with different fca_mode {sorted(modes)}")
    return modes.pop()


def _rows_of(nearest_id: np.ndarray, fac_id: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Facility row (of ``rows``, one type's) of each cell's nearest-facility
    id; -1 where it has none."""
    found = pd.Index(fac_id[rows]).get_indexer(nearest_id)
    return np.where(found >= 0, rows[np.maximum(found, 0)] if len(rows) else -1,
                    -1).astype(np.int64)


def _weights(cells: pd.DataFrame, column: str) -> np.ndarray:
    """A population column as weights: suppressed counts weigh 0 (as in the profile)."""
    if column not in cells:
        return np.zeros(len(cells))
    return np.nan_to_num(cells[column].to_numpy(np.float64), nan=0.0)
