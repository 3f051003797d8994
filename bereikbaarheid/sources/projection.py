"""Reader for population projections: factors per municipality, year and age band."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError
from . import _csv, boundaries, grid

logger = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = ("municipality_code", "year", "age_band", "factor")
# The municipality code of rows that hold for every municipality.
EVERY_MUNICIPALITY = "*"
# Projection years a file may hold: CBS grids exist from 2000 on, and CBS's
# national projection reaches 2070; beyond 2100 a year is a typing mistake.
YEARS: tuple[int, int] = (2000, 2100)
# The largest factor: a band ten times its size. Municipal projections (PBL/CBS
# regional forecast) change a band by tens of percents, a fast-growing town's
# at most a few times over; 105 or 130 is a percentage, not a factor.
MAX_FACTOR = 10.0


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
    lines
        The line of the file each code first appears on, for messages.
    """

    path: Path
    table: dict[tuple[str, int], dict[str, float]]
    lines: dict[str, int] = field(default_factory=dict, compare=False)

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

    def check_municipalities(self, known_codes: Iterable[object]) -> None:
        """Fail on a municipality code that is not among ``known_codes``.

        A code absent from the boundary file (a typo, or a municipality since
        merged) would silently leave its municipality at factor 1.0.

        Parameters
        ----------
        known_codes
            The codes of the run's boundary file, in any form
            ``normalise_code`` accepts.

        Raises
        ------
        InputError
            Naming the line of the first unknown code.
        """
        known = {boundaries.normalise_code(c) for c in known_codes}
        unknown = sorted((line, code) for code, line in self.lines.items()
                         if code != EVERY_MUNICIPALITY and code not in known)
        if unknown:
            line, code = unknown[0]
            more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
            raise InputError(
                self.path, f"line {line}: column 'municipality_code': {code}{more} is not in "
                "the boundary file; expected the code of one of its municipalities, or * for "
                "every municipality")


def read_projection(path: str | Path) -> Projection:
    """Read a projection CSV.

    Columns (any letter case, any order; separator ``,``, ``;`` or tab, with
    ``;`` or tab a decimal comma is accepted):

    ``municipality_code``
        ``"GM0400"``, ``"0400"`` or ``"*"`` for every municipality.
    ``year``
        The projection year, a whole number within ``YEARS`` (2000-2100).
    ``age_band``
        One of ``0_14``, ``15_24``, ``25_44``, ``45_64``, ``65_plus``.
    ``factor``
        The band's population in ``year`` relative to the grid's year,
        0 to ``MAX_FACTOR`` (10); 1.05 is 5 % more.

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
    code_lines: dict[str, int] = {}
    for line, values in zip(lines.tolist(), rows[list(COLUMNS)].to_dict(orient="records")):
        code, year, band, factor = _parse_row(path, line, values, decimal_comma)
        key = (code, year, band)
        if key in first_line:
            raise InputError(
                path, f"line {line}: columns 'municipality_code', 'year', 'age_band': "
                f"{code} {year} {band} repeats line {first_line[key]}"
            )
        first_line[key] = line
        code_lines.setdefault(code, line)
        table.setdefault((code, year), {})[band] = factor
    if not table:
        raise InputError(path, "no data rows; expected factors per municipality, year and band")
    return Projection(path=path, table=table, lines=code_lines)


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
    if not YEARS[0] <= year <= YEARS[1]:
        raise InputError(path, f"line {line}: column 'year': {year} is out of range; expected "
                               f"a projection year from {YEARS[0]} to {YEARS[1]}")
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
    if factor > MAX_FACTOR:
        raise InputError(path, f"line {line}: column 'factor': {values['factor']!r} is above "
                               f"{MAX_FACTOR:g}; a factor is the band's population relative "
                               "to the grid's year (1.05 for 5 % more), not a percentage; "
                               f"expected 0 to {MAX_FACTOR:g}")
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

    A municipality of the cells without rows of its own for ``year`` and
    without ``"*"`` rows keeps its population, with a warning; when that is
    so for every municipality of the cells, the projection changes nothing
    and is refused.

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
        A copy of ``cells`` (same type and index) with projected counts;
        ``attrs["warnings"]`` lists the warnings (also logged).

    Raises
    ------
    ConfigError
        When ``year`` is not a projection year.
    InputError
        When the projection has no factor for ``year`` for any municipality
        of the cells (nor ``"*"`` rows), or its factors leave nobody.
    """
    columns = list(grid.AGE_BANDS.values())
    out = cells.copy()
    codes = out["municipality_code"].to_numpy(dtype=object)
    unique, inverse = np.unique(np.array([boundaries.normalise_code(c) or EVERY_MUNICIPALITY
                                          for c in codes], dtype=object),
                                return_inverse=True)
    noticed = _check_coverage(projection, year, unique.tolist())
    factors = projection.factors(year, unique).to_numpy()[inverse.reshape(-1)]
    before = out[columns].to_numpy(dtype=np.float64)
    after = before * factors
    if np.nansum(before) > 0 and not np.nansum(after) > 0:
        raise InputError(projection.path, f"the factors for {year} leave no inhabitants in the "
                                          "region (every populated band's factor is 0); "
                                          "expected factors that keep a population to profile")
    out[columns] = after
    change = np.nansum(after - before, axis=1)
    out[grid.POPULATION_COLUMN] = out[grid.POPULATION_COLUMN].to_numpy(dtype=np.float64) + change
    out.attrs["warnings"] = noticed
    return out


def _check_coverage(projection: Projection, year: int, codes: list[str]) -> list[str]:
    """Warn for municipalities the projection leaves unchanged in ``year``
    (the warnings are logged and returned); fail when it leaves every one
    unchanged."""
    if year not in projection.years:
        return []  # Projection.factors says so
    if projection.table.get((EVERY_MUNICIPALITY, year)) or not codes:
        return []
    uncovered = [c for c in codes if not projection.table.get((c, year))]
    if not uncovered:
        return []
    listed = ", ".join(c for c in uncovered if c != EVERY_MUNICIPALITY)
    listed = listed or "cells outside any municipality"
    if len(uncovered) == len(codes):
        raise InputError(
            projection.path, f"no factor for {year} for any municipality of the region "
            f"({listed}) and no '*' rows: the projection would change nothing; expected rows "
            "for these codes, or '*' rows for every municipality")
    warning = (f"{projection.path}: no factor for {year} for {listed} and no '*' rows; "
               "their population is kept as it is")
    logger.warning(warning)
    return [warning]
