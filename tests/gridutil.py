"""Hand-made CBS-style grid GeoPackages for tests."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely


def cell_id(x0: int, y0: int) -> str:
    return f"E{x0 // 100:04d}N{y0 // 100:04d}"


def write_grid(path, corners, *, res=100, id_column=None, crs="EPSG:28992", values=None,
               drop=(), geometry=None, extra=None):
    """A CBS-like grid GeoPackage with one cell per lower-left corner."""
    id_column = id_column or f"crs28992res{res}m"
    n = len(corners)
    x0 = np.array([c[0] for c in corners], dtype=float)
    y0 = np.array([c[1] for c in corners], dtype=float)
    data = {id_column: [cell_id(int(a), int(b)) for a, b in corners]}
    base = {
        "aantal_inwoners": 100, "aantal_mannen": 50, "aantal_vrouwen": 50,
        "aantal_inwoners_0_tot_15_jaar": 15, "aantal_inwoners_15_tot_25_jaar": 10,
        "aantal_inwoners_25_tot_45_jaar": 25, "aantal_inwoners_45_tot_65_jaar": 30,
        "aantal_inwoners_65_jaar_en_ouder": 20, "aantal_woningen": 45,
        "aantal_part_huishoudens": 44, "stedelijkheid": 3,
        "dichtstbijzijnde_huisartsenpraktijk_afstand_in_km": 1.2,
    }
    for column, value in base.items():
        if column not in drop:
            data[column] = np.full(n, value)
    for column, column_values in (values or {}).items():
        data[column] = column_values
    data.update(extra or {})
    if geometry is None:
        geometry = shapely.box(x0, y0, x0 + res, y0 + res)
    frame = gpd.GeoDataFrame(data, geometry=list(geometry), crs=crs)
    frame.to_file(path, layer="vierkant", driver="GPKG")
    return path


def block(x0: int, y0: int, nx: int, ny: int, res: int = 100) -> list[tuple[int, int]]:
    return [(x0 + i * res, y0 + j * res) for i in range(nx) for j in range(ny)]


# -- reading ----------------------------------------------------------------
