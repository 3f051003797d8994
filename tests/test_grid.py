"""CBS grid reader: ids, suppression codes, filtering while reading, errors."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings as hyp_settings, strategies as st

from bereikbaarheid.config import Settings
from bereikbaarheid.errors import ConfigError, InputError
from bereikbaarheid.sources import grid

from gridutil import block, cell_id, write_grid

SETTINGS = Settings()


def test_100m_grid_columns_centroids_and_squares(tmp_path):
    corners = [(86000, 436000), (85900, 436000), (85900, 436100)]
    path = write_grid(tmp_path / "grid.gpkg", corners)
    result = grid.read_grid(path, SETTINGS)
    cells = result.cells
    # sorted by cell id
    assert list(cells["cell_id"]) == ["E0859N4360", "E0859N4361", "E0860N4360"]
    assert list(cells.columns[:3]) == ["cell_id", "x", "y"]
    assert cells["x"].tolist() == [85950.0, 85950.0, 86050.0]
    assert cells["y"].tolist() == [436050.0, 436150.0, 436050.0]
    assert cells["x"].dtype == np.float64 and cells["y"].dtype == np.float64
    assert cells.geometry.iloc[0].equals(shapely.box(85900, 436000, 86000, 436100))
    assert cells.crs.to_epsg() == 28992
    for column in (*grid.POPULATION_COLUMNS, "aantal_part_huishoudens", "stedelijkheid",
                   "dichtstbijzijnde_huisartsenpraktijk_afstand_in_km"):
        assert cells[column].dtype == np.float64, column
    assert result.report["resolution_m"] == 100
    assert result.report["n_cells"] == 3
    assert result.report["total_population"] == 300.0
    assert result.report["crs"] == "EPSG:28992"
    assert result.report["path"] == str(path)


def test_500m_grid_detected_from_id_column(tmp_path):
    corners = block(200000, 500000, 2, 2, res=500)
    path = write_grid(tmp_path / "grid500.gpkg", corners, res=500)
    result = grid.read_grid(path, SETTINGS)
    assert result.report["resolution_m"] == 500
    assert result.cells["cell_id"].iloc[0] == "E2000N5000"
    assert (result.cells["x"].iloc[0], result.cells["y"].iloc[0]) == (200250.0, 500250.0)
    assert result.cells.geometry.area.tolist() == [250000.0] * 4


@pytest.mark.parametrize("id_column, res", [("c28992r100", 100), ("c28992r500", 500)])
def test_older_id_column_names(tmp_path, id_column, res):
    path = write_grid(tmp_path / "old.gpkg", block(100000, 400000, 1, 2, res), res=res,
                      id_column=id_column)
    result = grid.read_grid(path, SETTINGS)
    assert result.report["resolution_m"] == res
    assert "cell_id" in result.cells and id_column not in result.cells


def test_suppressed_values_become_nan_and_are_counted(tmp_path):
    corners = block(100000, 400000, 2, 2)
    path = write_grid(tmp_path / "grid.gpkg", corners, values={
        "aantal_inwoners": [-99997, 100, 110, 120],
        "aantal_mannen": [-99997, -99997, 10, 15],
        "aantal_inwoners_65_jaar_en_ouder": [-99995, 0, 5, -99997],
    })
    result = grid.read_grid(path, SETTINGS)
    cells = result.cells
    assert np.isnan(cells["aantal_inwoners"].iloc[0])
    assert cells["aantal_inwoners"].iloc[1:].tolist() == [100.0, 110.0, 120.0]
    assert result.report["n_missing"]["aantal_inwoners"] == 1
    assert result.report["n_missing"]["aantal_mannen"] == 2
    assert result.report["n_missing"]["aantal_inwoners_65_jaar_en_ouder"] == 2
    assert result.report["n_missing"]["aantal_woningen"] == 0
    assert result.report["total_population"] == 330.0
    assert result.report["n_population_missing"] == 1
    # 0 is a real value, not a suppression code
    assert cells["aantal_inwoners_65_jaar_en_ouder"].iloc[1] == 0.0


def test_null_values_are_missing_too(tmp_path):
    path = write_grid(tmp_path / "grid.gpkg", block(100000, 400000, 1, 3), values={
        "dichtstbijzijnde_huisartsenpraktijk_afstand_in_km": [0.8, None, -99997.0],
    })
    result = grid.read_grid(path, SETTINGS)
    column = "dichtstbijzijnde_huisartsenpraktijk_afstand_in_km"
    assert result.cells[column].iloc[0] == 0.8
    assert result.report["n_missing"][column] == 2


def test_age_bands_map_to_present_cbs_columns(tmp_path):
    path = write_grid(tmp_path / "grid.gpkg", block(100000, 400000, 1, 1))
    cells = grid.read_grid(path, SETTINGS).cells
    assert list(grid.AGE_BANDS) == ["0_14", "15_24", "25_44", "45_64", "65_plus"]
    assert sum(cells[c].iloc[0] for c in grid.AGE_BANDS.values()) == cells["aantal_inwoners"].iloc[0]


def test_layer_with_cell_ids_is_chosen_among_several(tmp_path):
    path = write_grid(tmp_path / "grid.gpkg", block(100000, 400000, 1, 2))
    other = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs="EPSG:28992")
    other.to_file(path, layer="aaa_metadata", driver="GPKG")
    assert grid.read_grid(path, SETTINGS).report["layer"] == "vierkant"
    with pytest.raises(InputError, match="no layer 'nope'"):
        grid.read_grid(path, SETTINGS, layer="nope")


# -- filtering while reading -------------------------------------------------

def test_bbox_keeps_only_cells_overlapping_the_box(tmp_path):
    path = write_grid(tmp_path / "grid.gpkg", block(100000, 400000, 5, 5))
    # covers the 2 x 2 cells with corners 100100..100200 x 400100..400200;
    # neighbours touching its edges are outside
    result = grid.read_grid(path, SETTINGS, bbox=(100100, 400100, 100300, 400300))
    assert result.cells["cell_id"].tolist() == [
        "E1001N4001", "E1001N4002", "E1002N4001", "E1002N4002"]
    assert result.report["n_cells"] == 4


def test_bbox_beside_the_grid_gives_no_cells(tmp_path):
    path = write_grid(tmp_path / "grid.gpkg", block(100000, 400000, 2, 2))
    result = grid.read_grid(path, SETTINGS, bbox=(200000, 500000, 201000, 501000))
    assert len(result.cells) == 0 and result.report["total_population"] == 0.0
    assert list(result.cells.columns[:3]) == ["cell_id", "x", "y"]


def test_bbox_cutting_through_cells_keeps_them(tmp_path):
    path = write_grid(tmp_path / "grid.gpkg", block(100000, 400000, 3, 1))
    result = grid.read_grid(path, SETTINGS, bbox=(100050, 400050, 100150, 400060))
    assert result.cells["cell_id"].tolist() == ["E1000N4000", "E1001N4000"]


def test_mask_polygon_filters_while_reading(tmp_path):
    path = write_grid(tmp_path / "grid.gpkg", block(100000, 400000, 4, 4),
                      values={"aantal_inwoners": [-99997] + [100] * 15})
    # a triangle over the lower-left cells
    triangle = shapely.Polygon([(100000, 400000), (100250, 400000), (100000, 400250)])
    result = grid.read_grid(path, SETTINGS, mask=triangle)
    ids = set(result.cells["cell_id"])
    assert ids == {"E1000N4000", "E1001N4000", "E1002N4000", "E1000N4001",
                   "E1001N4001", "E1000N4002"}
    # the report describes what was kept, not the whole file
    assert result.report["n_missing"]["aantal_inwoners"] == 1
    assert result.report["total_population"] == 500.0


def test_filtering_happens_in_the_reader(tmp_path, monkeypatch):
    path = write_grid(tmp_path / "grid.gpkg", block(100000, 400000, 3, 3))
    seen = {}
    real = grid.pyogrio.read_dataframe

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(grid.pyogrio, "read_dataframe", spy)
    grid.read_grid(path, SETTINGS, bbox=(100000, 400000, 100100, 400100))
    assert seen["bbox"] == (100000, 400000, 100100, 400100)


def test_bbox_and_mask_together_are_refused(tmp_path):
    path = write_grid(tmp_path / "grid.gpkg", block(100000, 400000, 1, 1))
    with pytest.raises(ValueError, match="bbox or mask"):
        grid.read_grid(path, SETTINGS, bbox=(0, 0, 1, 1), mask=shapely.box(0, 0, 1, 1))


@hyp_settings(max_examples=25, deadline=None)
@given(
    xmin=st.integers(99_900, 100_600), ymin=st.integers(399_900, 400_600),
    width=st.integers(1, 500), height=st.integers(1, 500),
)
def test_bbox_property_matches_exact_overlap(tmp_path_factory, xmin, ymin, width, height):
    path = tmp_path_factory.getbasetemp() / "bbox_property.gpkg"
    if not path.exists():
        write_grid(path, block(100000, 400000, 5, 5))
    bbox = (xmin, ymin, xmin + width, ymin + height)
    kept = set(grid.read_grid(path, SETTINGS, bbox=bbox).cells["cell_id"])
    expected = {
        cell_id(x0, y0) for x0, y0 in block(100000, 400000, 5, 5)
        if x0 < bbox[2] and x0 + 100 > bbox[0] and y0 < bbox[3] and y0 + 100 > bbox[1]
    }
    assert kept == expected


# -- errors -------------------------------------------------------------------

def _message(excinfo) -> str:
    return str(excinfo.value)


def test_missing_file(tmp_path):
    path = tmp_path / "absent.gpkg"
    with pytest.raises(InputError) as excinfo:
        grid.read_grid(path, SETTINGS)
    assert str(path) in _message(excinfo) and "not found" in _message(excinfo)


def test_not_a_geopackage(tmp_path):
    path = tmp_path / "grid.gpkg"
    path.write_text("this is not a GeoPackage\n")
    with pytest.raises(InputError) as excinfo:
        grid.read_grid(path, SETTINGS)
    assert str(path) in _message(excinfo) and "GeoPackage" in _message(excinfo)


def test_no_cell_id_column(tmp_path):
    path = write_grid(tmp_path / "grid.gpkg", block(100000, 400000, 1, 1), id_column="vierkant")
    with pytest.raises(InputError) as excinfo:
        grid.read_grid(path, SETTINGS)
    message = _message(excinfo)
    assert str(path) in message
    assert "expected a column 'crs28992res100m' or 'crs28992res500m'" in message


def test_missing_population_columns_listed(tmp_path):
    path = write_grid(tmp_path / "grid.gpkg", block(100000, 400000, 1, 1),
                      drop=("aantal_inwoners", "aantal_inwoners_45_tot_65_jaar"))
    with pytest.raises(InputError) as excinfo:
        grid.read_grid(path, SETTINGS)
    message = _message(excinfo)
    assert str(path) in message
    assert "['aantal_inwoners', 'aantal_inwoners_45_tot_65_jaar']" in message
    assert "found" in message and "aantal_mannen" in message


def test_wrong_crs(tmp_path):
    path = write_grid(tmp_path / "grid.gpkg", block(100000, 400000, 1, 1), crs="EPSG:3857")
    with pytest.raises(InputError) as excinfo:
        grid.read_grid(path, SETTINGS)
    message = _message(excinfo)
    assert str(path) in message and "EPSG:3857" in message and "EPSG:28992" in message


def test_malformed_cell_id_names_first_bad_id_and_row(tmp_path):
    corners = block(100000, 400000, 1, 3)
    path = write_grid(tmp_path / "grid.gpkg", corners,
                      extra={"crs28992res100m": ["E1000N4000", "E1000-4001", "X"]})
    with pytest.raises(InputError) as excinfo:
        grid.read_grid(path, SETTINGS)
    message = _message(excinfo)
    assert str(path) in message and "row 2" in message and "'E1000-4001'" in message


def test_cell_id_off_the_500m_grid(tmp_path):
    path = write_grid(tmp_path / "grid.gpkg", [(200000, 500000)], res=500,
                      extra={"crs28992res500m": ["E2001N5000"]})
    with pytest.raises(InputError, match=r"row 1: malformed cell id 'E2001N5000'"):
        grid.read_grid(path, SETTINGS)


def test_geometry_disagreeing_with_id(tmp_path):
    corners = block(100000, 400000, 1, 2)
    shifted = [shapely.box(100000, 400000, 100100, 400100),
               shapely.box(100000, 400300, 100100, 400400)]
    path = write_grid(tmp_path / "grid.gpkg", corners, geometry=shifted)
    with pytest.raises(InputError) as excinfo:
        grid.read_grid(path, SETTINGS)
    message = _message(excinfo)
    assert str(path) in message and "row 2" in message and "'E1000N4001'" in message
    assert "lower-left (100000, 400100)" in message


def test_duplicate_cell_id(tmp_path):
    path = write_grid(tmp_path / "grid.gpkg", [(100000, 400000), (100000, 400000)])
    with pytest.raises(InputError, match=re.escape("row 2: cell id 'E1000N4000' repeats row 1")):
        grid.read_grid(path, SETTINGS)


def test_settings_crs_must_be_rd(tmp_path):
    path = write_grid(tmp_path / "grid.gpkg", block(100000, 400000, 1, 1))
    with pytest.raises(ConfigError, match="EPSG:28992"):
        grid.read_grid(path, Settings(crs="EPSG:3035"))


def test_parse_cell_ids():
    x0, y0, ok = grid.parse_cell_ids(np.array(["E0859N4360", "bad", "E2800N6250"], dtype=object))
    assert ok.tolist() == [True, False, True]
    assert x0[0] == 85900 and y0[0] == 436000 and x0[2] == 280000 and y0[2] == 625000


# -- impossible counts ----------------------------------------------------------

BANDS = list(grid.AGE_BANDS.values())


def _one_bad(tmp_path, **column_values):
    """Three cells; the given columns hold the given three values."""
    return write_grid(tmp_path / "grid.gpkg", block(100000, 400000, 1, 3),
                      values=column_values)


@pytest.mark.parametrize("column, values, problem", [
    ("aantal_inwoners", [100, -15, 100], "-15 is negative; expected a count >= 0, or a CBS "
                                         "suppression code below -99000"),
    ("aantal_inwoners_65_jaar_en_ouder", [20, -5, 20], "-5 is negative"),
    ("aantal_woningen", [45, 45, -1], "-1 is negative"),
    ("aantal_inwoners", [100, 100.5, 100], "100.5 is not a whole number"),
    ("aantal_mannen", [50, 50, 49.5], "49.5 is not a whole number"),
    ("aantal_part_huishoudens", [44, 44.25, 44], "44.25 is not a whole number"),
    ("aantal_inwoners", [100, np.inf, 100], "inf is not a finite number"),
])
def test_an_impossible_count_names_row_cell_column_and_value(tmp_path, column, values, problem):
    path = _one_bad(tmp_path, **{column: values})
    bad = 2 if values[1] != values[0] else 3
    cell = cell_id(100000, 400000 + 100 * (bad - 1))
    with pytest.raises(InputError) as excinfo:
        grid.read_grid(path, SETTINGS)
    message = _message(excinfo)
    assert message.startswith(f"{path}: row {bad} (cell {cell}): column {column!r}: "), message
    assert problem in message


def test_suppression_codes_are_not_negative_counts(tmp_path):
    # -99997 and -99995 are codes; -99000 is not below missing_below, so a count.
    path = _one_bad(tmp_path, aantal_inwoners=[-99997, -99995, 100])
    assert grid.read_grid(path, SETTINGS).report["n_population_missing"] == 2
    path = _one_bad(tmp_path, aantal_inwoners=[100, -99000, 100])
    with pytest.raises(InputError, match="-99000 is negative"):
        grid.read_grid(path, SETTINGS)


def test_a_fraction_outside_the_counts_is_fine(tmp_path):
    path = _one_bad(tmp_path, dichtstbijzijnde_huisartsenpraktijk_afstand_in_km=[0.8, 1.25, 3.0])
    assert grid.read_grid(path, SETTINGS).cells["dichtstbijzijnde_huisartsenpraktijk_afstand_in_km"
                                                ].tolist() == [0.8, 1.25, 3.0]


def test_a_band_above_the_total(tmp_path):
    path = _one_bad(tmp_path, aantal_inwoners=[100, 100, 15],
                    aantal_inwoners_65_jaar_en_ouder=[20, 20, 20],
                    aantal_inwoners_0_tot_15_jaar=[15, 15, 0],
                    aantal_inwoners_15_tot_25_jaar=[10, 10, 0],
                    aantal_inwoners_25_tot_45_jaar=[25, 25, 0],
                    aantal_inwoners_45_tot_65_jaar=[30, 30, 0],
                    aantal_mannen=[50, 50, 5], aantal_vrouwen=[50, 50, 10])
    with pytest.raises(InputError, match=re.escape(
            "row 3 (cell E1000N4002): column 'aantal_inwoners_65_jaar_en_ouder': 20 exceeds "
            "the cell's aantal_inwoners 15; expected a part of the total")):
        grid.read_grid(path, SETTINGS)


def test_men_or_women_above_the_total(tmp_path):
    path = _one_bad(tmp_path, aantal_vrouwen=[50, 105, 50])
    with pytest.raises(InputError, match=r"row 2 .*'aantal_vrouwen': 105 exceeds"):
        grid.read_grid(path, SETTINGS)


def _bands(tmp_path, total, bands):
    """One cell with the given total and five bands (None: suppressed)."""
    values = {"aantal_inwoners": [total]}
    for column, value in zip(BANDS, bands):
        values[column] = [-99997 if value is None else value]
    return write_grid(tmp_path / "grid.gpkg", [(100000, 400000)], values=values)


@pytest.mark.parametrize("total, bands, ok", [
    # five bands known: each of the six counts may be 2.5 off, so 100 + 15
    (100, [20, 20, 25, 25, 25], True),    # 115
    (100, [20, 20, 25, 30, 25], False),   # 120
    # four known: 100 + 12.5
    (100, [None, 25, 30, 30, 25], True),  # 110
    (100, [None, 25, 30, 30, 30], False),  # 115
    # the total suppressed: nothing to compare with
    (-99997, [20, 20, 25, 30, 25], True),
])
def test_bands_may_exceed_the_total_by_the_rounding_only(tmp_path, total, bands, ok):
    path = _bands(tmp_path, total, bands)
    if ok:
        grid.read_grid(path, SETTINGS)
        return
    with pytest.raises(InputError) as excinfo:
        grid.read_grid(path, SETTINGS)
    message = _message(excinfo)
    assert "row 1 (cell E1000N4000): the age bands sum to" in message
    assert "CBS rounds each count to a multiple of 5" in message
    assert f"expected at most {100 + 2.5 * (sum(b is not None for b in bands) + 1):g}" in message


def test_men_and_women_may_exceed_the_total_by_the_rounding_only(tmp_path):
    path = _one_bad(tmp_path, aantal_mannen=[50, 55, 55], aantal_vrouwen=[50, 50, 55])
    with pytest.raises(InputError, match=r"row 3 .*men and women sum to 55 \+ 55 = 110, more "
                                         r"than aantal_inwoners 100 allows.*at most 107\.5"):
        grid.read_grid(path, SETTINGS)


def test_a_count_column_of_text_is_refused(tmp_path):
    path = _one_bad(tmp_path, aantal_mannen=["50", "veel", "50"])
    with pytest.raises(InputError, match=re.escape(
            "row 2 (cell E1000N4001): column 'aantal_mannen': 'veel' is not a number; "
            "expected a column of numbers (counts)")):
        grid.read_grid(path, SETTINGS)


def _cbs_rounded(count: int) -> int:
    """CBS's rounding of a count to a multiple of 5 (nearest; counts are whole)."""
    return (count + 2) // 5 * 5


@hyp_settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(0, 400), min_size=6, max_size=6), min_size=1, max_size=8))
def test_any_cbs_rounded_cell_is_accepted(tmp_path_factory, people):
    """True counts (bands, and men among them) rounded to fives as CBS does pass every check."""
    path = tmp_path_factory.mktemp("rounded") / "grid.gpkg"
    values = {c: [] for c in (*BANDS, "aantal_inwoners", "aantal_mannen", "aantal_vrouwen")}
    for *bands, men_share in people:
        total = sum(bands)
        men = total * men_share // 400
        for column, count in zip(BANDS, bands):
            values[column].append(_cbs_rounded(count))
        values["aantal_inwoners"].append(_cbs_rounded(total))
        values["aantal_mannen"].append(_cbs_rounded(men))
        values["aantal_vrouwen"].append(_cbs_rounded(total - men))
    write_grid(path, block(100000, 400000, 1, len(people)), values=values)
    cells = grid.read_grid(path, SETTINGS).cells
    assert len(cells) == len(people)


@hyp_settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.sampled_from([-99997, -99995, -3]), st.integers(0, 60)),
                min_size=6, max_size=6))
def test_a_cell_is_refused_exactly_when_a_rule_is_broken(tmp_path_factory, counts):
    """Reference: counts >= 0 unless below missing_below; each band <= total; the known
    bands sum to at most the total plus 2.5 per known band and 2.5 for the total."""
    total, *bands = counts
    path = tmp_path_factory.mktemp("rules") / "grid.gpkg"
    values = {"aantal_inwoners": [total], **{c: [b] for c, b in zip(BANDS, bands)},
              "aantal_mannen": [0], "aantal_vrouwen": [0]}
    write_grid(path, [(100000, 400000)], values=values)
    known = [b for b in bands if b > -99000]
    broken = any(-99000 < v < 0 for v in counts)
    if not broken and total > -99000:
        broken = any(b > total for b in known) or sum(known) > total + 2.5 * (len(known) + 1)
    if broken:
        with pytest.raises(InputError):
            grid.read_grid(path, SETTINGS)
    else:
        grid.read_grid(path, SETTINGS)
