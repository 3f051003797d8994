"""The built-in demo region: a rural Dutch border region written in the real input formats.

``generate_demo`` writes, deterministically from a seed, an OSM extract
(``demo.osm.pbf``), CBS-style population grids (``grid_100m.gpkg``,
``grid_500m.gpkg``), municipality boundaries (``gemeenten.gpkg``), a facility
list (``facilities.csv``), a GTFS feed (``gtfs.zip``), an example population
projection (``projection.csv``, see ``_projection``) and a run configuration
(``run.toml``).

The region (at scale 1 about 20 x 15 km, in RD New around x 30-50 km,
y 360-375 km) has a main town of about 15,000 inhabitants, villages (some
along the estuary's north shore), hamlets,
farms along a grid of farm roads, a motorway, a trunk road with a cycle path
beside it, an estuary crossed by a car ferry and a foot/bike ferry, a
road-free nature reserve with a few houses, and Belgium along the south, with
roads, villages and facilities but no population cells (CBS covers the
Netherlands only). Municipality codes GM9901-GM9903 and all names are
fictional.

The grids carry, like recent CBS grids, CBS's proximity figures per cell:
``dichtstbijzijnde_huisartsenpraktijk_afstand_in_km``,
``dichtstbijzijnde_grote_supermarkt_afstand_in_km`` (every demo supermarket
counts as large), ``dichtstbijzijnde_basisonderwijs_afstand_in_km`` and
``huisartsenpraktijk_aantal_binnen_{1,3,5}_km``. CBS measures over the car
road network; the demo uses an independent stand-in (see ``_proximity``):
the straight line from the cell centre to the nearest Dutch facility times
a detour factor of 1.25, rounded to 0.1 km, and straight-line counts. About
0.5 % of the cells carry -99997 ("geheim") in these columns.

``gtfs.zip`` holds the region's public transport for 2026, about as dense per
inhabitant as the Dutch national feed at every scale (see ``_transit``): in
each town two or three city lines (a tram in the largest towns) through the
centre and out to the villages around it, every 6 to 15 minutes by day;
regional bus lines from the towns to the villages (half-hourly in the
weekday peaks, hourly by day, two-hourly in the evening with the last buses
arriving after midnight, minor lines without Sunday service), into Belgium
and along the north shore; trains linking the towns and their larger
villages, stopping trains and, where a line passes three towns, intercities,
with parent stations, two platforms each and ``transfers.txt`` change times
to the buses, running half-hourly until 00:30; a foot and bike ferry across
the estuary in ``frequencies.txt`` (every 30 minutes until 24:30); and Dutch
holidays in ``calendar_dates.txt`` (Koningsdag 2026-04-27 and Christmas run
the Sunday timetable, the ferry does not sail on 2026-12-25). Every bus stop
is a quay per direction on a node of a walkable OSM way.

``facilities.csv`` lists the GP practices, primary schools and supermarkets
of the OSM file (Dutch and Belgian), ``facility_id`` naming the OSM object
(``osm:n123``, ``osm:w45``, ``osm:r1``, as the OSM reader names them) and ``x``, ``y`` its point (a
polygon's centroid) in EPSG:28992. ``capacity`` is registered patients for a
GP practice (FTE x 2,095), pupils for a school and floor area in m2 for a
supermarket; ``fte`` is a GP practice's FTE (empty for other types). Towns and villages (not hamlets) hold them at Dutch densities
for their catchment, so the region's distances fall between the national
means and those of its most remote municipalities.

Scale multiplies the area (each side grows by its square root); settlements,
roads and cells grow with it. Measured on the 2-core build machine: scale 1
gives about 32,000 road nodes, 4,000 published 100 m cells and 78,000
inhabitants in about a second; scale 33 gives 1.10 million road nodes in
about 16 s; scale 50 gives 1.66 million in about 25 s (0.8 GB peak memory).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pyogrio
import pyproj
import shapely
from osmium.osm import mutable

from .. import _io
from ..errors import ConfigError
from . import (
    _facilities,
    _frame,
    _population,
    _projection,
    _proximity,
    _roads,
    _settlements,
    _transit,
)

MUNICIPALITIES: tuple[tuple[str, str], ...] = (
    ("GM9901", "Schorrewaarde"), ("GM9902", "Kreekland"), ("GM9903", "Polderhoven"),
)
# The demo's analysis day for public transport: a Tuesday in its feed's period.
DEMO_PT_DATE = "2026-03-10"
# Largest area multiplier: about 6.7 million road nodes, beyond national size.
MAX_SCALE = 200.0
# GeoPackages record a "last change" time; fixing it keeps files byte-identical.
FIXED_GPKG_DATE = "2024-01-01T00:00:00Z"
_TO_WGS84 = pyproj.Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)


@dataclass(frozen=True)
class DemoRegion:
    """Paths written by ``generate_demo`` and counts of what is in them.

    Attributes
    ----------
    folder
        The folder holding every file.
    osm, grid_100m, grid_500m, municipalities, facilities_csv, config, gtfs, projection
        The OSM extract, the 100 m and 500 m CBS-style grids, the
        municipality boundaries, the facility list, the run configuration,
        the GTFS feed and the example population projection.
    n_osm_nodes, n_road_nodes, n_ways
        Nodes in the extract, nodes used by roads and ferries, ways.
    n_cells, population
        Published 100 m cells and the sum of their (rounded, unsuppressed)
        ``aantal_inwoners``.
    n_stops, n_trips
        Rows of the feed's ``stops.txt`` (stations and platforms included)
        and ``trips.txt`` (before frequency expansion).
    """

    folder: Path
    osm: Path
    grid_100m: Path
    grid_500m: Path
    municipalities: Path
    facilities_csv: Path
    config: Path
    n_osm_nodes: int
    n_road_nodes: int
    n_ways: int
    n_cells: int
    population: int
    gtfs: Path
    n_stops: int
    n_trips: int
    projection: Path


def generate_demo(folder: str | Path, *, seed: int = 2024, scale: float = 1.0) -> DemoRegion:
    """Write the demo region into ``folder``.

    Parameters
    ----------
    folder
        Output folder (created when missing); existing demo files are replaced.
    seed
        Random seed: the same seed and scale give byte-identical files.
    scale
        Area relative to the 20 x 15 km base region, at least 1.

    Returns
    -------
    DemoRegion
        The paths written and counts of nodes, ways, cells and inhabitants.

    Raises
    ------
    ConfigError
        When ``seed`` is not a whole number from 0 to 2**32 - 1, or ``scale``
        is outside 1 to 200.
    """
    if not (isinstance(seed, int) and 0 <= seed < 2**32):
        raise ConfigError(f"{seed!r} is outside the range 0 to 2**32 - 1", key="seed")
    if not 1.0 <= scale <= MAX_SCALE:
        raise ConfigError(f"{scale:g} is outside the range 1 to {MAX_SCALE:g} (33 gives "
                          "about 1.1 million road nodes)", key="scale")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frame = _frame.Frame.make(seed, scale)
    lines = _settlements.plan_lines(frame, seed)
    settlements = _settlements.place_settlements(frame, seed, scale, lines)
    roads = _roads.build_roads(frame, seed, scale, lines, settlements)
    raster = _population.simulate(frame, seed, settlements, roads)
    features = _facilities.place_facilities(seed, frame, settlements, roads, raster)

    osm_path = folder / "demo.osm.pbf"
    counts, facilities = _write_osm(osm_path, frame, roads.ways, features)

    netherlands = _netherlands(frame)
    grid_100m = _proximity.with_proximity(_population.cbs_table(raster, seed), raster.cell_m,
                                          facilities, netherlands, seed)
    coarse = _population.aggregate(raster, 5)
    grid_500m = _proximity.with_proximity(_population.cbs_table(coarse, seed), coarse.cell_m,
                                          facilities, netherlands, seed)
    grid_100m_path = folder / "grid_100m.gpkg"
    grid_500m_path = folder / "grid_500m.gpkg"
    _write_gpkg(grid_100m, grid_100m_path, "vierkant_100m")
    _write_gpkg(grid_500m, grid_500m_path, "vierkant_500m")
    municipalities_path = folder / "gemeenten.gpkg"
    _write_gpkg(_municipalities(frame), municipalities_path, "gemeenten")

    csv_path = folder / "facilities.csv"
    with _io.atomic_open(csv_path, "w", encoding="utf-8", newline="") as f:
        facilities.to_csv(f, index=False, lineterminator="\n")
    gtfs_path = folder / "gtfs.zip"
    transit = _transit.write_gtfs(gtfs_path, frame, lines, settlements, roads, seed)
    projection_path = folder / "projection.csv"
    with _io.atomic_open(projection_path, "w", encoding="utf-8", newline="\n") as f:
        f.write(_projection.projection_csv())
    config_path = folder / "run.toml"
    with _io.atomic_open(config_path, "w", encoding="utf-8", newline="\n") as f:
        f.write(_run_toml(seed, scale))

    inhabitants = grid_100m["aantal_inwoners"].to_numpy()
    return DemoRegion(
        folder=folder, osm=osm_path, grid_100m=grid_100m_path, grid_500m=grid_500m_path,
        municipalities=municipalities_path, facilities_csv=csv_path, config=config_path,
        n_osm_nodes=counts["nodes"], n_road_nodes=counts["road_nodes"], n_ways=counts["ways"],
        n_cells=len(grid_100m), population=int(inhabitants[inhabitants >= 0].sum()),
        gtfs=gtfs_path, n_stops=transit["stops"], n_trips=transit["trips"],
        projection=projection_path,
    )


def _write_osm(path: Path, frame: _frame.Frame, ways: list[tuple[np.ndarray, dict[str, str]]],
               features: list[_facilities.Feature]) -> tuple[dict[str, int], pd.DataFrame]:
    """Write the PBF; return counts and the facility table (ids as the OSM reader gives them, ``osm:n123``)."""
    parts = [pts for pts, _ in ways] + [p for f in features for p in f.parts]
    lengths = np.array([len(p) for p in parts])
    points = np.concatenate(parts).astype(np.int64)
    # A node is its integer lattice position: ways through one point share it.
    keys = (points[:, 1] << 32) | points[:, 0]
    unique_keys, inverse = np.unique(keys, return_inverse=True)
    node_of_point = inverse.reshape(-1) + 1
    u = unique_keys & 0xFFFFFFFF
    v = unique_keys >> 32
    x_rd, y_rd = frame.to_rd(u, v)
    lon, lat = _TO_WGS84.transform(x_rd, y_rd)

    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    repeated = np.zeros(len(node_of_point), bool)
    repeated[1:] = node_of_point[1:] == node_of_point[:-1]
    repeated[starts] = False
    kept_lengths = lengths - np.add.reduceat(repeated, starts)
    refs = np.split(node_of_point[~repeated], np.cumsum(kept_lengths)[:-1])
    n_roads = len(ways)
    road_nodes = np.unique(np.concatenate(refs[:n_roads]))

    node_tags: dict[int, dict[str, str]] = {}
    out_ways: list[tuple[list[int], dict[str, str]]] = [
        (r.tolist(), tags) for r, (_, tags) in zip(refs[:n_roads], ways)]
    relations: list[tuple[list[tuple[str, int, str]], dict[str, str]]] = []
    rows = []
    k = n_roads
    for f in features:
        ring = np.concatenate([p if i == 0 else p[1:] for i, p in enumerate(f.parts)])
        if f.kind == "node":
            node_id = int(refs[k][0])
            node_tags[node_id] = f.tags
            osm_id = f"osm:n{node_id}"
            fx, fy = float(x_rd[node_id - 1]), float(y_rd[node_id - 1])
        elif f.kind == "way":
            out_ways.append((refs[k].tolist(), f.tags))
            osm_id = f"osm:w{len(out_ways)}"
        else:
            members = []
            for part in range(len(f.parts)):
                out_ways.append((refs[k + part].tolist(), {}))
                members.append(("w", len(out_ways), "outer"))
            relations.append((members, f.tags))
            osm_id = f"osm:r{len(relations)}"
        k += len(f.parts)
        if f.kind != "node":
            rx, ry = frame.to_rd(ring[:, 0], ring[:, 1])
            centre = shapely.Polygon(np.column_stack([rx, ry])).centroid
            fx, fy = centre.x, centre.y
        if f.facility_type is not None:
            # GP FTE are multiples of 0.5, so the rounded capacity gives them back.
            fte = (round(f.capacity / _facilities.GP_PATIENTS_PER_FTE * 2) / 2
                   if f.facility_type == "gp" else None)
            rows.append((osm_id, f.facility_type, f.tags["name"], round(fx, 2), round(fy, 2),
                         int(f.capacity), fte))

    header = osmium.io.Header()
    header.set("generator", "bereikbaarheid demo")
    with _io.atomic_path(path) as tmp:
        writer = osmium.SimpleWriter(osmium.io.File(str(tmp), "pbf,add_metadata=false"),
                                     header=header, overwrite=True)
        try:
            lon_list, lat_list = lon.tolist(), lat.tolist()
            for idx in range(len(unique_keys)):
                node_id = idx + 1
                tags = node_tags.get(node_id)
                location = (lon_list[idx], lat_list[idx])
                if tags is None:
                    writer.add_node(mutable.Node(id=node_id, location=location))
                else:
                    writer.add_node(mutable.Node(id=node_id, location=location, tags=tags))
            for way_id, (way_refs, tags) in enumerate(out_ways, start=1):
                writer.add_way(mutable.Way(id=way_id, nodes=way_refs, tags=tags))
            for rel_id, (members, tags) in enumerate(relations, start=1):
                writer.add_relation(mutable.Relation(id=rel_id, members=members, tags=tags))
        finally:
            writer.close()
    table = pd.DataFrame(rows, columns=["facility_id", "type", "name", "x", "y", "capacity",
                                        "fte"])
    counts = {"nodes": len(unique_keys), "road_nodes": len(road_nodes), "ways": len(out_ways)}
    return counts, table


@contextlib.contextmanager
def _fixed_gdal_date() -> Iterator[None]:
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_GPKG_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def _write_gpkg(frame: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    """Write one layer, replacing the file only when the write succeeded."""
    # GDAL wants the .gpkg extension, so the temporary file keeps it.
    tmp = path.with_name(f".{path.stem}.partial.gpkg")
    tmp.unlink(missing_ok=True)
    try:
        with _fixed_gdal_date():
            pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG",
                                    promote_to_multi=layer == "gemeenten")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _netherlands(frame: _frame.Frame) -> shapely.Geometry:
    """The Dutch part of the region: north of the border, inside the frame."""
    return shapely.make_valid(shapely.Polygon(frame.netherlands_outline()))


def _municipalities(frame: _frame.Frame) -> gpd.GeoDataFrame:
    """Three municipalities splitting the Dutch part west to east."""
    netherlands = _netherlands(frame)
    xmin, ymin, xmax, ymax = netherlands.bounds
    cuts = [xmin - 1.0] + [_frame.ORIGIN_X_M + frame.width_m * k / 3 for k in (1, 2)] + [xmax + 1.0]
    parts = [shapely.clip_by_rect(netherlands, cuts[k], ymin - 1.0, cuts[k + 1], ymax + 1.0)
             for k in range(3)]
    return gpd.GeoDataFrame(
        {"gemeentecode": [c for c, _ in MUNICIPALITIES],
         "gemeentenaam": [n for _, n in MUNICIPALITIES]},
        geometry=parts, crs="EPSG:28992")


def _run_toml(seed: int, scale: float) -> str:
    return (
        f"# Demo region written by bereikbaarheid (seed {seed}, scale {scale:g}).\n"
        "# Paths are relative to this file. Municipality codes GM9901-GM9903 are fictional.\n"
        "\n"
        "[region]\n"
        'name = "demo"\n'
        "\n"
        "[inputs]\n"
        'osm = "demo.osm.pbf"\n'
        'grid = "grid_100m.gpkg"\n'
        'municipalities = "gemeenten.gpkg"\n'
        '# "facilities.csv" is the register: the facilities of the OSM file with their\n'
        "# capacity (GP: FTE and registered patients, school: pupils, supermarket:\n"
        '# floor area in m2). "osm" takes the same facilities from the OSM tags, with\n'
        "# default capacities.\n"
        'facilities = "facilities.csv"\n'
        "# Public transport: city buses and trams, regional buses, trains and a ferry (GTFS).\n"
        'gtfs = "gtfs.zip"\n'
        "\n"
        "[settings]\n"
        "# A Tuesday in the feed's period; departures every minute 07:00-09:00.\n"
        f'pt_date = "{DEMO_PT_DATE}"\n'
        'pt_window = ["07:00", "09:00"]\n'
    )
