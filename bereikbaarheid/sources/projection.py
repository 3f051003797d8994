"""Reader for population projections: factors per municipality, year and age band."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError
from . import _csv, boundaries, grid

COLUMNS: tuple[str, ...] = ("municipality_code", "year", "age_band", "factor")
# The municipality code of rows that hold for every municipality.
EVERY_MUNICIPALITY = "*"


@dataclass(frozen=True)
class Projection:
    """Population factors per municipality, year and age band.

    A factor is the band's population in the projection year relative to the
    year of the grid (1.0: unchanged). Use ``read_projection`` to make one.

    Attributes
    ----------
    path
        The file it was read from.
    table
        Keyed ``(municipality_code, year) -> {band: factor}``; the code is
        ``"GM"`` + 4 digits or ``"*"`` (every municipality).
    """

    path: Path
    table: dict[tuple[str, int], dict[str, float]]

    @property
    def years(self) -> tuple[int, ...]:
        """The projection years, ascending."""
        return tuple(sorted({year for _, year in self.table}))

    def factors(self, year: int, municipality_codes: Iterable[object]) -> pd.DataFrame:
        """Factors per municipality for one year.

        A municipality's own row for a band overrides the ``"*"`` row; a band
        without either keeps factor 1.0.

        Parameters
        ----------
        year
            One of ``years``.
        municipality_codes
            Codes in any form ``normalise_code`` accepts; a code that is not
            one (None, NaN) gets the ``"*"`` factors.

        Returns
        -------
        pandas.DataFrame
            Indexed by the codes as given (in order, duplicates kept), one
            float64 column per band of ``grid.AGE_BANDS``.

        Raises
        ------
        ConfigError
            When ``year`` is not a projection year.
        """
        if year not in self.years:
            raise ConfigError(
                f"{self.path}: no projection for year {year!r}; the file has years "
                f"{list(self.years)}"
            )
        everywhere = {band: 1.0 for band in grid.AGE_BANDS}
        everywhere.update(self.table.get((EVERY_MUNICIPALITY, year), {}))
        codes = list(municipality_codes)
        rows = []
        for code in codes:
            row = dict(everywhere)
            row.update(self.table.get((boundaries.normalise_code(code), year), {}))
            rows.append(row)
        return pd.DataFrame(rows, index=pd.Index(codes, dtype=object),
                            columns=list(grid.AGE_BANDS), dtype=np.float64)


def read_projection(path: str | Path) -> Projection:
    """Read a projection CSV.

    Columns (any letter case, any order; separator ``,``, ``;`` or tab, with
    ``;`` or tab a decimal comma is accepted):

    ``municipality_code``
        ``"GM0400"``, ``"0400"`` or ``"*"`` for every municipality.
    ``year``
        The projection year, an integer.
    ``age_band``
        One of ``0_14``, ``15_24``, ``25_44``, ``45_64``, ``65_plus``.
    ``factor``
        The band's population in ``year`` relative to the grid's year, >= 0.

    Each (municipality, year, band) appears at most once.

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    Projection

    Raises
    ------
    InputError
        Naming the file, the line and the column: missing file or column,
        bad code, year, band or factor, or a repeated row.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found; expected a projection CSV with columns "
                               f"{list(COLUMNS)}")
    rows, lines, decimal_comma = _csv.read_table(path, f"columns {list(COLUMNS)}")
    missing = [c for c in COLUMNS if c not in rows.columns]
    if missing:
        raise InputError(path, f"missing column(s) {missing}; found {list(rows.columns)}")
    table: dict[tuple[str, int], dict[str, float]] = {}
    first_line: dict[tuple[str, int, str], int] = {}
    for line, values in zip(lines.tolist(), rows[list(COLUMNS)].to_dict(orient="records")):
        code, year, band, factor = _parse_row(path, line, values, decimal_comma)
        key = (code, year, band)
        if key in first_line:
            raise InputError(
                path, f"line {line}: columns 'municipality_code', 'year', 'age_band': "
                f"{code} {year} {band} repeats line {first_line[key]}"
            )
        first_line[key] = line
        table.setdefault((code, year), {})[band] = factor
    if not table:
        raise InputError(path, "no data rows; expected factors per municipality, year and band")
    return Projection(path=path, table=table)


def _parse_row(path: Path, line: int, values: dict[str, str],
               decimal_comma: bool) -> tuple[str, int, str, float]:
    raw_code = values["municipality_code"]
    code = (EVERY_MUNICIPALITY if raw_code == EVERY_MUNICIPALITY
            else boundaries.normalise_code(raw_code))
    if code is None:
        raise InputError(path, f"line {line}: column 'municipality_code': {raw_code!r} is not "
                               "a municipality code; expected e.g. GM0400, 0400 or *")
    try:
        year = int(values["year"])
    except ValueError:
        raise InputError(path, f"line {line}: column 'year': {values['year']!r} is not a "
                               "whole year") from None
    band = values["age_band"].lower()
    if band not in grid.AGE_BANDS:
        raise InputError(path, f"line {line}: column 'age_band': {values['age_band']!r} is "
                               f"unknown; expected one of {list(grid.AGE_BANDS)}")
    text = values["factor"].replace(",", ".") if decimal_comma else values["factor"]
    try:
        factor = float(text)
    except ValueError:
        factor = math.nan
    if not (math.isfinite(factor) and factor >= 0):
        raise InputError(path, f"line {line}: column 'factor': {values['factor']!r} is not "
                               "a number >= 0")
    return code, year, band, factor


def apply_projection(cells: pd.DataFrame, projection: Projection, year: int) -> pd.DataFrame:
    """Cells with their age bands projected to ``year``.

    Each CBS band column is multiplied by its factor for the cell's
    ``municipality_code`` (cells without a code take the ``"*"`` factors).
    ``aantal_inwoners`` becomes the old total plus the change of every known
    band, which is the sum of the projected bands wherever the bands add up
    to the total (CBS rounds each to 5, so they may differ by a few people).
    A suppressed (NaN) band stays NaN and adds no change; a suppressed total
    stays missing. Other columns (``aantal_mannen``, ...) are left as they
    are.

    Parameters
    ----------
    cells
        Cells with ``municipality_code`` and the five band columns
        (float64, NaN where suppressed), as the pipeline makes them.
    projection
        The projection.
    year
        One of ``projection.years``.

    Returns
    -------
    pandas.DataFrame
        A copy of ``cells`` (same type and index) with projected counts.

    Raises
    ------
    ConfigError
        When ``year`` is not a projection year.
    """
    columns = list(grid.AGE_BANDS.values())
    out = cells.copy()
    codes = out["municipality_code"].to_numpy(dtype=object)
    unique, inverse = np.unique(np.array([boundaries.normalise_code(c) or EVERY_MUNICIPALITY
                                          for c in codes], dtype=object),
                                return_inverse=True)
    factors = projection.factors(year, unique).to_numpy()[inverse.reshape(-1)]
    before = out[columns].to_numpy(dtype=np.float64)
    after = before * factors
    out[columns] = after
    change = np.nansum(after - before, axis=1)
    out[grid.POPULATION_COLUMN] = out[grid.POPULATION_COLUMN].to_numpy(dtype=np.float64) + change
    return out
