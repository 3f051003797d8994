"""The demo region's example population projection: double ageing and fewer young people.

The factors (population of an age band in the year relative to today) follow
the orders of magnitude of the PBL/CBS regional population and household
forecast (``PBL/CBS Regionale bevolkings- en huishoudensprognose``) for the
Dutch shrinking border regions ("krimpregio's" such as Zeeuws-Vlaanderen,
Oost-Groningen and Parkstad Limburg) towards 2040: about a fifth fewer
children, fewer young adults and people of working age as the young leave
and few move in, and about a third more people of 65 and over ("double
ageing": more elderly, and the elderly older). The demo's municipalities
differ slightly: the town's (GM9901) young shrink least, the most rural
(GM9903) ages most. The ``"*"`` rows, the region's mean, hold for any other
municipality.
"""

from __future__ import annotations

from ..config import AGE_BANDS

YEARS: tuple[int, ...] = (2030, 2035, 2040)
# Factors in 2040 per band (order of AGE_BANDS); earlier years lie on the way
# there, linearly in time from 1.0 in the grid's year (2024).
FACTORS_2040: dict[str, tuple[float, ...]] = {
    "*": (0.80, 0.85, 0.90, 0.92, 1.30),
    "GM9901": (0.84, 0.88, 0.92, 0.93, 1.26),
    "GM9902": (0.80, 0.85, 0.90, 0.92, 1.30),
    "GM9903": (0.76, 0.82, 0.87, 0.90, 1.35),
}
BASE_YEAR = 2024


def projection_csv() -> str:
    """The projection as CSV text (columns municipality_code, year, age_band, factor)."""
    lines = ["municipality_code,year,age_band,factor"]
    for code, factors in FACTORS_2040.items():
        for year in YEARS:
            share = (year - BASE_YEAR) / (2040 - BASE_YEAR)
            for band, factor in zip(AGE_BANDS, factors):
                lines.append(f"{code},{year},{band},{1.0 + share * (factor - 1.0):.3f}")
    return "\n".join(lines) + "\n"
