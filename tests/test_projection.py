"""Population projections: the CSV reader, factors per municipality, projected cells, the demo's."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings as hyp_settings, strategies as st

from bereikbaarheid.config import AGE_BANDS
from bereikbaarheid.errors import ConfigError, InputError
from bereikbaarheid.sources import grid, projection

BAND_COLUMNS = list(grid.AGE_BANDS.values())


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def two_year(tmp_path):
    return projection.read_projection(write(tmp_path / "proj.csv", (
        "municipality_code,year,age_band,factor\n"
        "*,2040,0_14,0.8\n"
        "*,2040,65_plus,1.3\n"
        "GM0400,2040,65_plus,1.5\n"
        "0401,2040,0_14,0.5\n"
        "*,2030,0_14,0.9\n"
    )))


# -- reading --------------------------------------------------------------------

def test_years_are_sorted_and_codes_normalised(two_year):
    assert two_year.years == (2030, 2040)
    assert two_year.table[("GM0401", 2040)] == {"0_14": 0.5}
    assert two_year.table[("*", 2040)] == {"0_14": 0.8, "65_plus": 1.3}


def test_a_municipality_row_overrides_star_and_missing_bands_keep_one(two_year):
    f = two_year.factors(2040, ["GM0400", "GM0401", "GM0999", None])
    assert list(f.columns) == list(AGE_BANDS)
    assert f.loc["GM0400"].tolist() == [0.8, 1.0, 1.0, 1.0, 1.5]
    assert f.loc["GM0401"].tolist() == [0.5, 1.0, 1.0, 1.0, 1.3]
    assert f.loc["GM0999"].tolist() == [0.8, 1.0, 1.0, 1.0, 1.3]
    assert f.iloc[3].tolist() == [0.8, 1.0, 1.0, 1.0, 1.3]
    assert two_year.factors(2030, ["GM0400"]).iloc[0].tolist() == [0.9, 1.0, 1.0, 1.0, 1.0]


def test_codes_may_be_given_in_any_form(two_year):
    f = two_year.factors(2040, ["0400", 400, "gm0400"])
    assert (f["65_plus"] == 1.5).all()


def test_an_unknown_year_lists_the_known_ones(two_year):
    with pytest.raises(ConfigError, match=r"2035.*\[2030, 2040\]"):
        two_year.factors(2035, ["GM0400"])


def test_semicolons_decimal_commas_and_header_case(tmp_path):
    p = projection.read_projection(write(
        tmp_path / "p.csv", "Municipality_Code;YEAR;age_band;factor\nGM0001;2035;25_44;0,95\n"))
    assert p.factors(2035, ["GM0001"])["25_44"].tolist() == [0.95]


@pytest.mark.parametrize("row,column,problem", [
    ("GX01,2040,0_14,0.8", "municipality_code", "not a municipality code"),
    ("*,20x0,0_14,0.8", "year", "not a whole year"),
    ("*,2040,0_17,0.8", "age_band", "unknown"),
    ("*,2040,0_14,-0.1", "factor", "not a number >= 0"),
    ("*,2040,0_14,veel", "factor", "not a number >= 0"),
    ("*,2040,0_14,nan", "factor", "not a number >= 0"),
    ("*,2040,0_14,105", "factor", "'105' is above 10; a factor is the band's population "
                                  "relative to the grid's year (1.05 for 5 % more), not a "
                                  "percentage; expected 0 to 10"),
    ("*,1999,0_14,0.8", "year", "1999 is out of range; expected a projection year from 2000 "
                                "to 2100"),
    ("*,20400,0_14,0.8", "year", "20400 is out of range"),
    ("*,2040,0_14", None, "3 fields"),
])
def test_a_bad_row_names_file_line_and_column(tmp_path, row, column, problem):
    path = write(tmp_path / "p.csv",
                 f"municipality_code,year,age_band,factor\n*,2040,65_plus,1.3\n{row}\n")
    with pytest.raises(InputError, match=re.escape(str(path))) as info:
        projection.read_projection(path)
    message = str(info.value)
    assert "line 3" in message and problem in message
    if column is not None:
        assert f"'{column}'" in message


def test_a_repeated_row_is_an_error(tmp_path):
    path = write(tmp_path / "p.csv", ("municipality_code,year,age_band,factor\n"
                                      "GM0400,2040,0_14,0.8\n0400,2040,0_14,0.7\n"))
    with pytest.raises(InputError, match="line 3.*repeats line 2"):
        projection.read_projection(path)


def test_the_bounds_of_year_and_factor_are_accepted(tmp_path):
    p = projection.read_projection(write(tmp_path / "p.csv", (
        "municipality_code,year,age_band,factor\n*,2000,0_14,0\n*,2100,0_14,10\n")))
    assert p.years == (2000, 2100)
    assert p.table[("*", 2100)] == {"0_14": 10.0}


def test_codes_absent_from_the_boundary_file_name_their_line(two_year):
    two_year.check_municipalities(["GM0400", "GM0401", "GM0999"])
    with pytest.raises(InputError) as info:
        two_year.check_municipalities(["GM0400", "0402"])
    assert str(info.value) == (
        f"{two_year.path}: line 5: column 'municipality_code': GM0401 is not in the boundary "
        "file; expected the code of one of its municipalities, or * for every municipality")


@pytest.mark.parametrize("row,column,problem", [
    ("GX01,2040,0_14,0.8", "municipality_code", "not a municipality code"),
    ("*,20x0,0_14,0.8", "year", "not a whole year"),
    ("*,2040,0_17,0.8", "age_band", "unknown"),
])
def test_a_bad_first_row_names_line_2(tmp_path, row, column, problem):
    path = write(tmp_path / "p.csv", f"municipality_code,year,age_band,factor\n{row}\n")
    with pytest.raises(InputError, match=f"line 2: column '{column}': .*{problem}"):
        projection.read_projection(path)


@pytest.mark.parametrize("text,problem", [
    ("municipality_code,year,factor\n*,2040,1\n", r"missing column\(s\) \['age_band'\]"),
    ("municipality_code,year,age_band,factor\n", "no data rows"),
])
def test_missing_columns_and_empty_files(tmp_path, text, problem):
    with pytest.raises(InputError, match=problem):
        projection.read_projection(write(tmp_path / "p.csv", text))


def test_a_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        projection.read_projection(tmp_path / "none.csv")


# -- applying -------------------------------------------------------------------

def cells_frame(rows):
    return pd.DataFrame(rows, columns=["cell_id", "municipality_code", "aantal_inwoners",
                                       *BAND_COLUMNS, "aantal_mannen"])


def test_apply_projection_by_eye(two_year):
    nan = np.nan
    cells = cells_frame([
        # bands 0-14, 15-24, 25-44, 45-64, 65+
        ("a", "GM0400", 100.0, 20.0, 10.0, 30.0, 20.0, 20.0, 50.0),
        ("b", "GM0401", 50.0, 10.0, 10.0, 10.0, 10.0, 10.0, 25.0),
        ("c", "GM0400", nan, 10.0, 5.0, 5.0, 5.0, 10.0, nan),   # total suppressed
        ("d", "GM0999", 20.0, nan, 5.0, 5.0, 5.0, 5.0, 10.0),   # 0-14 suppressed
    ])
    out = projection.apply_projection(cells, two_year, 2040)
    # a: 0-14 x 0.8 (from *), 65+ x 1.5 (GM0400's own row)
    assert out.loc[0, BAND_COLUMNS].tolist() == [16.0, 10.0, 30.0, 20.0, 30.0]
    assert out.loc[0, "aantal_inwoners"] == 106.0
    # b: 0-14 x 0.5 (own row), 65+ x 1.3 (*)
    assert out.loc[1, BAND_COLUMNS].tolist() == pytest.approx([5.0, 10.0, 10.0, 10.0, 13.0])
    assert out.loc[1, "aantal_inwoners"] == pytest.approx(48.0)
    # c: bands projected, the suppressed total stays missing
    assert out.loc[2, BAND_COLUMNS].tolist() == [8.0, 5.0, 5.0, 5.0, 15.0]
    assert np.isnan(out.loc[2, "aantal_inwoners"])
    # d: the suppressed band stays NaN and adds no change
    assert np.isnan(out.loc[3, BAND_COLUMNS[0]])
    assert out.loc[3, "aantal_inwoners"] == pytest.approx(21.5)
    # everything else unchanged, input untouched
    assert out["aantal_mannen"].equals(cells["aantal_mannen"])
    assert out["cell_id"].tolist() == ["a", "b", "c", "d"]
    assert cells.loc[0, "aantal_inwoners"] == 100.0


def test_a_municipality_without_factors_is_kept_with_a_warning(tmp_path, caplog):
    p = projection.read_projection(write(tmp_path / "p.csv", (
        "municipality_code,year,age_band,factor\nGM0400,2040,65_plus,1.5\n")))
    cells = cells_frame([("a", "GM0400", 100.0, 20.0, 10.0, 30.0, 20.0, 20.0, 50.0),
                         ("b", "GM0401", 50.0, 10.0, 10.0, 10.0, 10.0, 10.0, 25.0)])
    with caplog.at_level("WARNING", logger="bereikbaarheid.sources.projection"):
        out = projection.apply_projection(cells, p, 2040)
    assert out["aantal_inwoners"].tolist() == [110.0, 50.0]
    assert caplog.messages == [f"{p.path}: no factor for 2040 for GM0401 and no '*' rows; "
                               "their population is kept as it is"]
    assert out.attrs["warnings"] == caplog.messages


def test_a_projection_for_none_of_the_municipalities_is_refused(tmp_path):
    p = projection.read_projection(write(tmp_path / "p.csv", (
        "municipality_code,year,age_band,factor\nGM0400,2040,65_plus,1.5\n"
        "GM0401,2030,65_plus,1.2\n")))
    cells = cells_frame([("b", "GM0401", 50.0, 10.0, 10.0, 10.0, 10.0, 10.0, 25.0),
                         ("c", "GM0402", 50.0, 10.0, 10.0, 10.0, 10.0, 10.0, 25.0)])
    with pytest.raises(InputError, match=re.escape(
            "no factor for 2040 for any municipality of the region (GM0401, GM0402) and no "
            "'*' rows: the projection would change nothing")):
        projection.apply_projection(cells, p, 2040)


def test_a_projection_that_leaves_nobody_is_refused(tmp_path):
    p = projection.read_projection(write(tmp_path / "p.csv", "municipality_code,year,age_band,"
                                   "factor\n" + "".join(f"*,2040,{b},0\n" for b in AGE_BANDS)))
    cells = cells_frame([("a", "GM0400", 100.0, 20.0, 10.0, 30.0, 20.0, 20.0, 50.0)])
    with pytest.raises(InputError, match="the factors for 2040 leave no inhabitants"):
        projection.apply_projection(cells, p, 2040)


def test_apply_projection_keeps_an_empty_frame_empty(two_year):
    out = projection.apply_projection(cells_frame([]), two_year, 2030)
    assert out.empty and list(out.columns) == list(cells_frame([]).columns)


@hyp_settings(max_examples=40, deadline=None)
@given(bands=st.lists(st.lists(st.integers(0, 500), min_size=5, max_size=5), min_size=1,
                      max_size=20),
       factors=st.lists(st.floats(0, 3), min_size=5, max_size=5))
def test_totals_are_the_sum_of_projected_bands_when_bands_add_up(tmp_path_factory, bands,
                                                                  factors):
    path = tmp_path_factory.mktemp("p") / "p.csv"
    write(path, "municipality_code,year,age_band,factor\n" + "".join(
        f"*,2040,{band},{f!r}\n" for band, f in zip(AGE_BANDS, factors)))
    p = projection.read_projection(path)
    b = np.array(bands, dtype=float)
    cells = cells_frame([("c", "GM0001", row.sum(), *row, 0.0) for row in b])
    expected = b * np.array(factors)
    if b.sum() > 0 and not expected.sum() > 0:  # nobody left: refused
        with pytest.raises(InputError, match="leave no inhabitants"):
            projection.apply_projection(cells, p, 2040)
        return
    out = projection.apply_projection(cells, p, 2040)
    np.testing.assert_allclose(out[BAND_COLUMNS].to_numpy(), expected)
    np.testing.assert_allclose(out["aantal_inwoners"], expected.sum(axis=1), atol=1e-9)


# -- the demo's projection ------------------------------------------------------------

def test_the_demo_projection_ages_every_municipality(demo_region):
    p = projection.read_projection(demo_region.projection)
    assert demo_region.projection.name == "projection.csv"
    assert p.years == (2030, 2035, 2040)
    f = p.factors(2040, ["GM9901", "GM9902", "GM9903", "GM0001"])
    # Fewer children, more elderly, and more so over time.
    assert (f["0_14"] < 0.9).all() and (f["65_plus"] > 1.2).all()
    assert (f["0_14"] < f["45_64"]).all()
    assert f.loc["GM0001", "0_14"] == 0.8 and f.loc["GM0001", "65_plus"] == 1.3
    assert f.loc["GM9903", "65_plus"] > f.loc["GM9901", "65_plus"]
    early = p.factors(2030, ["GM9902"]).iloc[0]
    assert (early["65_plus"] < f.loc["GM9902", "65_plus"]) and early["0_14"] > f.loc["GM9902",
                                                                                        "0_14"]
