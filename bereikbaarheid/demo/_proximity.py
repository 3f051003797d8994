"""CBS proximity figures for the demo grids, by a simple method independent of the engine."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from .. import config
from . import _frame
from ._population import SECRET

# CBS measures over the car road network; the demo stands in for that with the
# straight line times a typical Dutch detour factor (road over crow-fly
# distance is about 1.2-1.4 on rural networks). Being independent of the
# engine's routing, it is a fair yardstick for the comparison measure.
DETOUR_FACTOR = 1.25
# Column of each facility type's distance. The demo has no "large supermarket"
# distinction, so every demo supermarket counts as a grote supermarkt.
DISTANCE_COLUMNS: dict[str, str] = dict(config.CBS_DISTANCE_COLUMNS)
# CBS counts GP practices within these straight-line radii.
GP_COUNT_RADII_KM: tuple[int, ...] = (1, 3, 5)
# Share of cells whose proximity figures CBS keeps secret.
SECRET_SHARE = 0.005


def with_proximity(cells: gpd.GeoDataFrame, cell_m: int, facilities: pd.DataFrame,
                   netherlands: shapely.Geometry, seed: int) -> gpd.GeoDataFrame:
    """``cells`` with CBS's proximity columns added after the population columns.

    Distances run from the cell centre to the nearest domestic facility of the
    type (CBS ignores facilities abroad): straight line times
    ``DETOUR_FACTOR``, in km rounded to 0.1 as CBS publishes. Counts are the
    domestic GP practices within 1, 3 and 5 km in a straight line. About
    ``SECRET_SHARE`` of the cells, picked by ``seed``, carry the CBS code
    -99997 ("geheim") in every proximity column.

    Parameters
    ----------
    cells
        Published cells (``_population.cbs_table``); their squares give the centres.
    cell_m
        Cell size in metres (100 or 500).
    facilities
        The demo's facility table: ``type`` and ``x``, ``y`` in EPSG:28992.
    netherlands
        The Dutch part of the region; facilities inside it are domestic.
    seed
        The demo seed: picks the secret cells.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``cells`` with the distances (float64 km) in the order of
        ``DISTANCE_COLUMNS``, then the GP counts (int64), before the geometry.
    """
    centres = shapely.centroid(cells.geometry.to_numpy())
    points = np.column_stack([shapely.get_x(centres), shapely.get_y(centres)])
    fx = facilities["x"].to_numpy(np.float64)
    fy = facilities["y"].to_numpy(np.float64)
    domestic = shapely.contains_xy(netherlands, fx, fy)
    ftype = facilities["type"].to_numpy(object)

    columns: dict[str, np.ndarray] = {}
    trees: dict[str, cKDTree] = {}
    for kind, name in DISTANCE_COLUMNS.items():
        keep = domestic & (ftype == kind)
        if not keep.any():
            # No domestic facility of the type: CBS would have no figure.
            columns[name] = np.full(len(points), float(SECRET))
            continue
        trees[kind] = cKDTree(np.column_stack([fx[keep], fy[keep]]))
        straight_m, _ = trees[kind].query(points)
        columns[name] = np.round(straight_m * DETOUR_FACTOR / 1000.0, 1)
    for radius_km in GP_COUNT_RADII_KM:
        name = f"huisartsenpraktijk_aantal_binnen_{radius_km}_km"
        if "gp" in trees:
            counts = trees["gp"].query_ball_point(points, r=radius_km * 1000.0,
                                                  return_length=True)
        else:
            counts = np.zeros(len(points))
        columns[name] = np.asarray(counts, np.int64)

    rng = _frame.rng_for(seed, f"proximity{cell_m}")
    n_secret = min(len(points), max(1, round(SECRET_SHARE * len(points))))
    secret = rng.choice(len(points), size=n_secret, replace=False)
    for values in columns.values():
        values[secret] = SECRET
    data = pd.DataFrame(cells.drop(columns=cells.geometry.name))
    data = data.assign(**columns)
    return gpd.GeoDataFrame(data, geometry=cells.geometry.to_numpy(), crs=cells.crs)
