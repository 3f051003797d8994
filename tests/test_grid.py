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
        "aantal_inwoners": [-99997, 10, 20, 30],
        "aantal_mannen": [-99997, -99997, 10, 15],
        "aantal_inwoners_65_jaar_en_ouder": [-99995, 0, 5, -99997],
    })
    result = grid.read_grid(path, SETTINGS)
    cells = result.cells
    assert np.isnan(cells["aantal_inwoners"].iloc[0])
    assert cells["aantal_inwoners"].iloc[1:].tolist() == [10.0, 20.0, 30.0]
    assert result.report["n_missing"]["aantal_inwoners"] == 1
    assert result.report["n_missing"]["aantal_mannen"] == 2
    assert result.report["n_missing"]["aantal_inwoners_65_jaar_en_ouder"] == 2
    assert result.report["n_missing"]["aantal_woningen"] == 0
    assert result.report["total_population"] == 60.0
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
                      values={"aantal_inwoners": [-99997] + [10] * 15})
    # a triangle over the lower-left cells
    triangle = shapely.Polygon([(100000, 400000), (100250, 400000), (100000, 400250)])
    result = grid.read_grid(path, SETTINGS, mask=triangle)
    ids = set(result.cells["cell_id"])
    assert ids == {"E1000N4000", "E1001N4000", "E1002N4000", "E1000N4001",
                   "E1001N4001", "E1000N4002"}
    # the report describes what was kept, not the whole file
    assert result.report["n_missing"]["aantal_inwoners"] == 1
    assert result.report["total_population"] == 50.0


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
